//! The `ferrobase` binary: `serve` (default), `migrate`, `schema print|check`, `keys`.

use clap::Parser;
use ferrobase::app;
use ferrobase::config::{Cli, Command, Config, SchemaAction, UsersAction};
use std::process::ExitCode;

/// mimalloc: request handling allocates many small short-lived values; glibc malloc was ~12%
/// of the server's CPU under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::resolve(&cli.global)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { plan, allow_destructive } => migrate(config, plan, allow_destructive).await,
        Command::Schema { action: SchemaAction::Check } => Ok(schema_check(&config)),
        Command::Schema { action: SchemaAction::Rules } => {
            print!("{}", ferrobase::auth::matrix::permission_matrix(&app::load_models(&config)?));
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { action: SchemaAction::Print } => {
            let ir = app::load_models(&config)?;
            print!("{}", ferrobase::graphql::sdl(&ir, &config)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Users { action: UsersAction::Create { email, password, roles } } => {
            let app = app::prepare(config).await?;
            let st = &app.state;
            let user = st.ir.model("User").expect("the built-in User always exists");
            match ferrobase::auth::create_user(&st.db, user, &st.changes, &email, &password, &roles).await {
                Ok(id) => {
                    println!("created user {id} ({email})");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {}", e.message);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Keys => {
            let key = ferrobase::auth::load_or_create_service_key(config.service_key.as_deref(), &config.data_dir)?;
            let source = if config.service_key.is_some() {
                "from FERROBASE_SERVICE_KEY / ferrobase.toml".to_string()
            } else {
                format!("kept in {}", config.data_dir.join(ferrobase::auth::SERVICE_KEY_FILE).display())
            };
            ferrobase::auth::load_or_create_secret(
                config.jwt_secret.as_deref(),
                &config.data_dir,
                ferrobase::auth::JWT_SECRET_FILE,
                "",
            )?;
            let jwt = if config.jwt_secret.is_some() {
                "the JWT signing secret comes from FERROBASE_JWT_SECRET / ferrobase.toml".to_string()
            } else {
                format!(
                    "the JWT signing secret is kept in {} (set FERROBASE_JWT_SECRET to share one across instances)",
                    config.data_dir.join(ferrobase::auth::JWT_SECRET_FILE).display()
                )
            };
            println!("{jwt}\nservice key ({source}):\n{key}\n\nUse it as: Authorization: Bearer {key}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let app = app::prepare(config).await?;
    tracing::info!(
        "ferrobase {} serving {} model(s) on http://{addr}/graphql (GraphiQL at http://{addr}/); `ferrobase keys` shows the service key",
        env!("CARGO_PKG_VERSION"),
        app.state.ir.user_models().count()
    );
    ferrobase::http::serve(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(config: Config, plan_only: bool, allow_destructive: bool) -> anyhow::Result<ExitCode> {
    let ir = app::load_models(&config)?;
    let (ferrobase::db::Database { orm: db, .. }, _) = app::open_database(&config).await?;
    ferrobase::ddl::migrate_system(&db).await?;
    let plan = ferrobase::ddl::plan(&db, &ir).await?;
    println!("{plan}");
    if plan_only || plan.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    match ferrobase::ddl::apply(&db, &ir, &plan, allow_destructive).await {
        Ok(_) => {
            println!("applied.");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn schema_check(config: &Config) -> ExitCode {
    match ferrobase::model::load_dir(&config.schema_dir) {
        Ok(ir) => {
            for w in &ir.warnings {
                println!("{w}");
            }
            println!("ok: {} model(s), {} enum(s)", ir.user_models().count(), ir.enums.len());
            ExitCode::SUCCESS
        }
        Err(diags) => {
            eprintln!("{}", app::SchemaErrors(diags));
            ExitCode::FAILURE
        }
    }
}
