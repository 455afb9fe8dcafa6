//! Configuration: flags > `FERROBASE_*` environment > `ferrobase.toml` > defaults.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// ferrobase: declare models in GraphQL SDL, get a secure GraphQL API.
#[derive(Debug, Parser)]
#[command(name = "ferrobase", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags accepted by every subcommand, before or after it.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "FERROBASE_LISTEN", global = true)]
    pub listen: Option<SocketAddr>,
    /// Data directory: SQLite file, local files, generated keys [default: ./data]
    #[arg(long, env = "FERROBASE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Directory of `*.graphql` model files [default: ./schema]
    #[arg(long, env = "FERROBASE_SCHEMA", global = true)]
    pub schema: Option<PathBuf>,
    /// `sqlite://...` or `postgres://...` [default: sqlite://<data-dir>/ferrobase.db]
    #[arg(long, env = "FERROBASE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Configuration file [default: ./ferrobase.toml, if present]
    #[arg(long, env = "FERROBASE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Migrate and serve the API (the default).
    Serve,
    /// Apply the declared models to the database.
    Migrate {
        /// Print the plan and apply nothing.
        #[arg(long)]
        plan: bool,
        /// Also apply destructive or risky changes (drops, type changes, new unique rules).
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Inspect the declared schema.
    Schema {
        #[command(subcommand)]
        action: SchemaAction,
    },
    /// Show the service key.
    Keys,
    /// Manage users.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum UsersAction {
    /// Create a user with a password (and roles).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// A role to grant; repeat for several (`--role admin --role editor`).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum SchemaAction {
    /// Print the generated GraphQL SDL.
    Print,
    /// Check the declared models; print every problem and exit non-zero if there are errors.
    Check,
    /// Print the permission matrix: who may create, read, update and delete what.
    Rules,
}

/// `ferrobase.toml`: every key optional; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub schema: Option<PathBuf>,
    pub database_url: Option<String>,
    pub database_pool_size: Option<u32>,
    pub service_key: Option<String>,
    pub default_page_size: Option<u32>,
    pub max_page_size: Option<u32>,
    pub introspection: Option<bool>,
    pub max_query_depth: Option<usize>,
    pub max_query_complexity: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub max_aliases: Option<usize>,
    pub max_batch_size: Option<usize>,
    pub job_max_attempts: Option<i32>,
    pub max_subscriptions_per_socket: Option<usize>,
    pub realtime_cluster: Option<bool>,
    pub jwt_secret: Option<String>,
    pub access_token_ttl_secs: Option<u64>,
    pub refresh_token_ttl_secs: Option<u64>,
    pub refresh_grace_secs: Option<u64>,
    pub public_url: Option<String>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub cors_origins: Option<Vec<String>>,
    pub auth_rate_limit_per_ip: Option<u32>,
    pub auth_rate_limit_per_account: Option<u32>,
    pub trust_proxy: Option<bool>,
}

/// The resolved configuration every part of the server reads.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Where the SQLite file, files and generated keys live.
    pub data_dir: PathBuf,
    /// Directory of `*.graphql` files.
    pub schema_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Connections to the database (`FERROBASE_DATABASE_POOL_SIZE`); `None`: a default for the
    /// machine (see `db::default_pool_size`).
    pub database_pool_size: Option<u32>,
    /// Service key from configuration; when `None`, one is generated into the data directory.
    pub service_key: Option<String>,
    /// Page size when a list query gives no `first`/`last` (default 20).
    pub default_page_size: u32,
    /// Largest `first`/`last` accepted (default 100); more is `BAD_USER_INPUT`.
    pub max_page_size: u32,
    /// Whether introspection queries are answered (default true).
    pub introspection: bool,
    /// Maximum selection depth of a query (default 20: room for the standard introspection query).
    pub max_query_depth: usize,
    /// Maximum complexity (field count) of a query (default 2000).
    pub max_query_complexity: usize,
    /// Maximum request body in bytes (default 1 MiB for JSON requests).
    pub max_body_bytes: usize,
    /// Maximum aliased fields in one document (default 30): each alias of a root field is a
    /// root query of its own.
    pub max_aliases: usize,
    /// Maximum operations in one batched HTTP request (default 10).
    pub max_batch_size: usize,
    /// Attempts of a background job (an email) before it is kept as failed (default 10).
    pub job_max_attempts: i32,
    /// Subscriptions one WebSocket may hold at once (default 100).
    pub max_subscriptions_per_socket: usize,
    /// On PostgreSQL, send committed changes to other instances and receive theirs
    /// (`LISTEN/NOTIFY`; default true). A single instance may turn it off to save one `NOTIFY`
    /// per write.
    pub realtime_cluster: bool,
    /// JWT signing secret; when `None`, one is generated into the data directory.
    pub jwt_secret: Option<String>,
    /// Lifetime of access tokens (default 900 s).
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens (default 30 days).
    pub refresh_token_ttl_secs: u64,
    /// Window in which a just-rotated refresh token still works, for concurrent tabs (default 10 s).
    pub refresh_grace_secs: u64,
    /// Public base URL of the app, for links in emails (default `http://<listen>`).
    pub public_url: String,
    /// `smtp://user:pass@host:port` (or `smtps://`); `None` writes emails to the log.
    pub smtp_url: Option<String>,
    /// Sender of emails (default `ferrobase <no-reply@localhost>`).
    pub mail_from: String,
    /// Sign-in, sign-up and password-reset attempts per client IP per minute (default 30; 0: off).
    pub auth_rate_limit_per_ip: u32,
    /// The same attempts per account (email) per minute (default 10; 0: off).
    pub auth_rate_limit_per_account: u32,
    /// Take the client IP from `X-Forwarded-For` (behind a trusted proxy; default false).
    pub trust_proxy: bool,
    /// Browser origins allowed to call the API (CORS), e.g. `http://localhost:5173`; `*` for any.
    /// Empty (the default): any origin, without credentials.
    pub cors_origins: Vec<String>,
}

fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().map(Some).map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}")),
        _ => Ok(None),
    }
}

impl Config {
    /// Resolves flags (which clap already merged with the environment) over the file over defaults.
    pub fn resolve(args: &GlobalArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => Some(read_file_config(path)?),
            None if Path::new("ferrobase.toml").exists() => Some(read_file_config(Path::new("ferrobase.toml"))?),
            None => None,
        }
        .unwrap_or_default();
        let data_dir = args.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("ferrobase.db").display()));
        let cfg = Config {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("valid default address")),
            schema_dir: args.schema.clone().or(file.schema).unwrap_or_else(|| PathBuf::from("schema")),
            database_url,
            database_pool_size: env_parse("FERROBASE_DATABASE_POOL_SIZE")?.or(file.database_pool_size),
            data_dir,
            service_key: std::env::var("FERROBASE_SERVICE_KEY").ok().filter(|k| !k.is_empty()).or(file.service_key),
            default_page_size: env_parse("FERROBASE_DEFAULT_PAGE_SIZE")?.or(file.default_page_size).unwrap_or(20),
            max_page_size: env_parse("FERROBASE_MAX_PAGE_SIZE")?.or(file.max_page_size).unwrap_or(100),
            introspection: env_parse("FERROBASE_INTROSPECTION")?.or(file.introspection).unwrap_or(true),
            max_query_depth: env_parse("FERROBASE_MAX_QUERY_DEPTH")?.or(file.max_query_depth).unwrap_or(20),
            max_query_complexity: env_parse("FERROBASE_MAX_QUERY_COMPLEXITY")?
                .or(file.max_query_complexity)
                .unwrap_or(2000),
            max_body_bytes: env_parse("FERROBASE_MAX_BODY_BYTES")?.or(file.max_body_bytes).unwrap_or(1 << 20),
            max_aliases: env_parse("FERROBASE_MAX_ALIASES")?.or(file.max_aliases).unwrap_or(30),
            max_batch_size: env_parse("FERROBASE_MAX_BATCH_SIZE")?.or(file.max_batch_size).unwrap_or(10),
            realtime_cluster: env_parse("FERROBASE_REALTIME_CLUSTER")?.or(file.realtime_cluster).unwrap_or(true),
            max_subscriptions_per_socket: env_parse("FERROBASE_MAX_SUBSCRIPTIONS_PER_SOCKET")?
                .or(file.max_subscriptions_per_socket)
                .unwrap_or(100),
            job_max_attempts: env_parse("FERROBASE_JOB_MAX_ATTEMPTS")?
                .or(file.job_max_attempts)
                .unwrap_or(crate::jobs::DEFAULT_MAX_ATTEMPTS)
                .max(1),
            jwt_secret: env_string("FERROBASE_JWT_SECRET").or(file.jwt_secret),
            access_token_ttl_secs: env_parse("FERROBASE_ACCESS_TOKEN_TTL_SECS")?
                .or(file.access_token_ttl_secs)
                .unwrap_or(900),
            refresh_token_ttl_secs: env_parse("FERROBASE_REFRESH_TOKEN_TTL_SECS")?
                .or(file.refresh_token_ttl_secs)
                .unwrap_or(30 * 24 * 3600),
            refresh_grace_secs: env_parse("FERROBASE_REFRESH_GRACE_SECS")?.or(file.refresh_grace_secs).unwrap_or(10),
            public_url: String::new(),
            smtp_url: env_string("FERROBASE_SMTP_URL").or(file.smtp_url),
            mail_from: env_string("FERROBASE_MAIL_FROM")
                .or(file.mail_from)
                .unwrap_or_else(|| "ferrobase <no-reply@localhost>".into()),
            auth_rate_limit_per_ip: env_parse("FERROBASE_AUTH_RATE_LIMIT_PER_IP")?
                .or(file.auth_rate_limit_per_ip)
                .unwrap_or(30),
            auth_rate_limit_per_account: env_parse("FERROBASE_AUTH_RATE_LIMIT_PER_ACCOUNT")?
                .or(file.auth_rate_limit_per_account)
                .unwrap_or(10),
            trust_proxy: env_parse("FERROBASE_TRUST_PROXY")?.or(file.trust_proxy).unwrap_or(false),
            cors_origins: env_string("FERROBASE_CORS_ORIGINS")
                .map(|v| v.split(',').map(|o| o.trim().to_string()).filter(|o| !o.is_empty()).collect())
                .or(file.cors_origins)
                .unwrap_or_default(),
        };
        let mut cfg = cfg;
        cfg.public_url = env_string("FERROBASE_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{}", cfg.listen))
            .trim_end_matches('/')
            .to_string();
        if cfg.database_pool_size == Some(0) {
            anyhow::bail!("database_pool_size (FERROBASE_DATABASE_POOL_SIZE) must be at least 1");
        }
        if cfg.default_page_size == 0 || cfg.default_page_size > cfg.max_page_size {
            anyhow::bail!(
                "default_page_size ({}) must be between 1 and max_page_size ({})",
                cfg.default_page_size,
                cfg.max_page_size
            );
        }
        Ok(cfg)
    }

    /// Defaults for a data dir and schema dir (used by tests and embedding).
    pub fn for_dirs(data_dir: &Path, schema_dir: &Path, database_url: Option<String>) -> Config {
        let args = GlobalArgs {
            data_dir: Some(data_dir.to_path_buf()),
            schema: Some(schema_dir.to_path_buf()),
            database_url,
            listen: Some("127.0.0.1:0".parse().expect("valid address")),
            config: None,
        };
        let mut cfg = Config::resolve(&args).expect("defaults are valid");
        cfg.service_key = None;
        cfg
    }
}

fn read_file_config(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid configuration in {}", path.display()))
}
