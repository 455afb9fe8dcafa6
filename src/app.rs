//! Startup shared by every command: read the models, open the database, migrate, build the API.

use crate::config::Config;
use crate::model::{self, Diagnostic, Schema, Severity};
use crate::sql::list::PageLimits;
use anyhow::Context;
use sea_orm::{DatabaseBackend, DatabaseConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Everything a request needs, shared by all requests.
pub struct AppState {
    /// For migrations, authentication and administration (sea-orm).
    pub db: DatabaseConnection,
    /// For compiled statements: every generated query and mutation (see `db::pool`).
    pub pool: crate::db::Pool,
    pub ir: Arc<Schema>,
    pub config: Arc<Config>,
    /// The key that acts as `admin` (`Authorization: Bearer <key>`).
    pub service_key: String,
    /// SQL statements run so far (exported by /metrics; tests use it to prove no N+1).
    pub statements: Arc<AtomicU64>,
    /// Signs and verifies access tokens.
    pub jwt: crate::auth::jwt::JwtKeys,
    /// Refresh-token lifetimes.
    pub sessions: crate::auth::sessions::SessionPolicy,
    /// Sends verification and password-reset emails (log or SMTP).
    pub mailer: crate::mail::Mailer,
    /// Rate limits of the auth mutations.
    pub auth_limits: crate::auth::rate_limit::AuthLimits,
    /// Every write records its changes here; consumers act on them (see `changes`).
    pub changes: Arc<crate::changes::Pipeline>,
    /// Committed changes, fanned out in this process (a consumer of `changes`).
    pub bus: Arc<crate::changes::Bus>,
    /// On PostgreSQL: changes to and from other instances (a consumer of `changes`).
    pub cluster: Option<Arc<crate::changes::cluster::Cluster>>,
    /// Wakes the job worker when a request queues a job.
    pub jobs: Arc<crate::jobs::Queue>,
    /// Counts of the background workers.
    pub workers: Arc<crate::workers::WorkerStats>,
}

impl AppState {
    pub fn limits(&self) -> PageLimits {
        PageLimits { default: self.config.default_page_size, max: self.config.max_page_size }
    }
    pub fn backend(&self) -> DatabaseBackend {
        sea_orm::ConnectionTrait::get_database_backend(&self.db)
    }
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

/// A ready server: state, the executor of its API, and realtime delivery.
pub struct App {
    pub state: Arc<AppState>,
    pub executor: Arc<crate::graphql::Executor>,
    pub realtime: Arc<crate::realtime::Realtime>,
}

/// Schema problems that stop the server, printed `file:line:column: message`.
#[derive(Debug)]
pub struct SchemaErrors(pub Vec<Diagnostic>);

impl std::fmt::Display for SchemaErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors = self.0.iter().filter(|d| d.severity == Severity::Error).count();
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        write!(f, "the schema has {errors} error(s)")
    }
}
impl std::error::Error for SchemaErrors {}

/// Reads and validates `schema/`.
pub fn load_models(config: &Config) -> anyhow::Result<Schema> {
    model::load_dir(&config.schema_dir).map_err(|d| SchemaErrors(d).into())
}

/// Opens the database (both pools) with statement counting on.
pub async fn open_database(config: &Config) -> anyhow::Result<(crate::db::Database, Arc<AtomicU64>)> {
    let counter = Arc::new(AtomicU64::new(0));
    let db = crate::db::open(&config.database_url, config.database_pool_size, counter.clone()).await?;
    Ok((db, counter))
}

/// Migrates (system tables, then the declared models) and builds the API. Refuses to start
/// while a destructive or risky change is pending.
pub async fn prepare(config: Config) -> anyhow::Result<App> {
    let ir = load_models(&config)?;
    for w in &ir.warnings {
        tracing::warn!("{w}");
    }
    let (crate::db::Database { orm: db, pool }, statements) = open_database(&config).await?;
    crate::ddl::migrate_system(&db).await.context("cannot migrate the system tables")?;
    let plan = crate::ddl::plan(&db, &ir).await?;
    if !plan.is_empty() {
        tracing::info!("migration plan:\n{plan}");
        crate::ddl::apply(&db, &ir, &plan, false).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let service_key = crate::auth::load_or_create_service_key(config.service_key.as_deref(), &config.data_dir)?;
    let jwt_secret = crate::auth::load_or_create_secret(
        config.jwt_secret.as_deref(),
        &config.data_dir,
        crate::auth::JWT_SECRET_FILE,
        "",
    )?;
    if jwt_secret.len() < 32 {
        anyhow::bail!("FERROBASE_JWT_SECRET must be at least 32 characters (HS256 wants 256 bits of key)");
    }
    let jwt = crate::auth::jwt::JwtKeys::new(&jwt_secret, config.access_token_ttl_secs);
    let sessions = crate::auth::sessions::SessionPolicy {
        refresh_ttl_secs: config.refresh_token_ttl_secs,
        grace_secs: config.refresh_grace_secs,
    };
    let mailer = crate::mail::Mailer::from_config(config.smtp_url.as_deref(), &config.mail_from)?;
    let auth_limits =
        crate::auth::rate_limit::AuthLimits::new(config.auth_rate_limit_per_ip, config.auth_rate_limit_per_account);
    let changes = Arc::new(crate::changes::Pipeline::new());
    let bus = Arc::new(crate::changes::Bus::default());
    changes.register(bus.clone());
    let cluster = match config.realtime_cluster {
        true => crate::changes::cluster::Cluster::for_database(&config.database_url)?,
        false => None,
    };
    if let Some(c) = &cluster {
        changes.register(c.clone());
    }
    let state = Arc::new(AppState {
        db,
        pool,
        ir: Arc::new(ir),
        config: Arc::new(config),
        service_key,
        statements,
        jwt,
        sessions,
        mailer,
        auth_limits,
        changes,
        bus,
        cluster,
        jobs: Default::default(),
        workers: Default::default(),
    });
    let schema = crate::graphql::build(state.clone()).context("cannot build the GraphQL schema")?;
    let realtime = crate::realtime::Realtime::new(state.clone());
    state.changes.register(Arc::new(crate::realtime::Judge(Arc::downgrade(&realtime))));
    Ok(App { executor: Arc::new(crate::graphql::Executor::new(state.clone(), schema)), realtime, state })
}
