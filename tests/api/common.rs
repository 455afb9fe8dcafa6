//! Test harness: a real ferrobase server on 127.0.0.1:<random port>, over a fresh SQLite file
//! or a fresh PostgreSQL database, spoken to over real HTTP.

use ferrobase::app::{self, AppState};
use ferrobase::config::Config;
use ferrobase::testing::{TestBackend, TestDb};
use serde_json::{Value, json};
use std::sync::Arc;

pub use ferrobase::testing::backends;

/// The blog schema most tests use.
pub const BLOG: &str = include_str!("fixtures/blog.graphql");

pub struct TestServer {
    pub url: String,
    pub key: String,
    pub state: Arc<AppState>,
    pub backend: TestBackend,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    db: TestDb,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// Starts a server for `sdl` on `backend`.
    pub async fn start(backend: TestBackend, sdl: &str) -> TestServer {
        Self::start_with(backend, sdl, |_| {}).await
    }

    /// Starts a server after `configure` adjusts its configuration.
    pub async fn start_with(backend: TestBackend, sdl: &str, configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestDb::create(backend, dir.path()).await.expect("test database");
        let schema_dir = dir.path().join("schema");
        std::fs::create_dir_all(&schema_dir).expect("schema dir");
        std::fs::write(schema_dir.join("app.graphql"), sdl).expect("write schema");
        Self::launch(dir, db, configure).await
    }

    /// Kills the server (as a crash would: nothing drains) and starts a new one on the same data
    /// directory and database, after `configure`.
    pub async fn crash_and_restart(self, configure: impl FnOnce(&mut Config)) -> TestServer {
        let TestServer { _dir: dir, db, task, state, .. } = self;
        task.abort();
        let _ = task.await;
        state.db.clone().close().await.ok();
        Self::launch(dir, db, configure).await
    }

    async fn launch(dir: tempfile::TempDir, db: TestDb, configure: impl FnOnce(&mut Config)) -> TestServer {
        let backend = db.backend;
        let schema_dir = dir.path().join("schema");
        let mut config = Config::for_dirs(&dir.path().join("data"), &schema_dir, Some(db.url.clone()));
        configure(&mut config);
        let app = app::prepare(config).await.expect("server starts");
        let state = app.state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            ferrobase::http::serve(app, listener).await.expect("serve");
        });
        TestServer {
            url,
            key: state.service_key.clone(),
            state,
            backend,
            client: reqwest::Client::new(),
            _dir: dir,
            db,
            task,
        }
    }

    /// Stops the server and drops a PostgreSQL database.
    pub async fn finish(self) {
        self.task.abort();
        self.state.db.clone().close().await.ok();
        self.db.drop_database().await;
    }

    /// POSTs a GraphQL request as admin (the service key); returns the JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(Some(&self.key.clone()), query, variables).await
    }

    /// POSTs a GraphQL request with `Bearer <token>`, or with no Authorization header.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req =
            self.client.post(format!("{}/graphql", self.url)).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request").json().await.expect("JSON response")
    }

    /// Like [`gql`](Self::gql) but panics on any error and returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let r = self.gql(query, variables).await;
        assert!(r.get("errors").is_none(), "unexpected errors: {r:#}\nquery: {query}");
        r["data"].clone()
    }

    /// SQL statements the server has run so far.
    pub fn statements(&self) -> u64 {
        self.state.statement_count()
    }
}

/// Signs up `email` (password `correct horse`); its access token and user id.
pub async fn sign_up(s: &TestServer, email: &str) -> (String, String) {
    let r = s
        .gql_as(
            None,
            "mutation($e: String!) { signUp(input: {email: $e, password: \"correct horse\"}) { accessToken user { id } } }",
            json!({ "e": email }),
        )
        .await;
    let p = &r["data"]["signUp"];
    (
        p["accessToken"].as_str().unwrap_or_else(|| panic!("signUp: {r}")).to_string(),
        p["user"]["id"].as_str().unwrap_or_else(|| panic!("signUp: {r}")).to_string(),
    )
}

/// A string field of an auth payload (`accessToken`, `refreshToken`).
pub fn token(payload: &Value, name: &str) -> String {
    payload[name].as_str().unwrap_or_else(|| panic!("no {name} in {payload}")).to_string()
}

/// The `extensions.code` of the first error.
pub fn error_code(r: &Value) -> &str {
    r["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("expected an error, got {r:#}"))
}

/// Creates a user row directly (no sign-up round trip, no password); returns its id.
pub async fn create_user(s: &TestServer, email: &str) -> String {
    use sea_orm::ConnectionTrait;
    let id = uuid::Uuid::now_v7().to_string();
    let now = ferrobase::sql::values::datetime(ferrobase::sql::values::now(), s.state.backend());
    let q = sea_orm::sea_query::Query::insert()
        .into_table("users")
        .columns(["id", "email", "created_at", "updated_at"])
        .values_panic([id.clone().into(), email.into(), now.clone().into(), now.into()])
        .to_owned();
    s.state.db.execute(&q).await.expect("insert user");
    id
}

/// Polls `check` until it holds; panics after 30 s, naming `what` was awaited.
pub async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
