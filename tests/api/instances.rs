//! Running processes of the real binary: two instances on one PostgreSQL (a mutation on one
//! reaches subscribers on the other through LISTEN/NOTIFY), and a graceful shutdown closing
//! WebSockets with 1001.

use crate::common::{BLOG, eventually};
use crate::ws_client::{Protocol, Ws};
use ferrobase::testing::{TestBackend, TestDb};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `ferrobase serve` process; killed (by its PID) when dropped.
struct Instance {
    child: Child,
    url: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const KEY: &str = "test-service-key-0123456789abcdef0123456789";
const SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789abcdef";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts an instance on `database_url` and waits until it answers.
async fn start(dir: &std::path::Path, database_url: &str) -> Instance {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_ferrobase"))
        .current_dir(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("FERROBASE_DATABASE_URL", database_url)
        .env("FERROBASE_SERVICE_KEY", KEY)
        .env("FERROBASE_JWT_SECRET", SECRET)
        .env_remove("FERROBASE_SCHEMA")
        .env_remove("FERROBASE_DATA_DIR")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start ferrobase");
    let url = format!("http://127.0.0.1:{port}");
    let instance = Instance { child, url };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{}/healthz", instance.url)).await
            && r.status().is_success()
        {
            return instance;
        }
        assert!(Instant::now() < deadline, "the instance did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn gql(url: &str, query: &str, variables: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .bearer_auth(KEY)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v.get("errors").is_none(), "{v}");
    v["data"].clone()
}

fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("schema")).unwrap();
    std::fs::write(dir.path().join("schema/app.graphql"), BLOG).unwrap();
    dir
}

#[tokio::test]
async fn a_mutation_on_one_instance_reaches_subscribers_on_another() {
    if ferrobase::testing::postgres_url().is_none() {
        eprintln!("FERROBASE_TEST_DATABASE_URL is not set: skipped the two-instance PostgreSQL test");
        return;
    }
    let dir = app_dir();
    let db = TestDb::create(TestBackend::Postgres, dir.path()).await.unwrap();
    let a = start(dir.path(), &db.url).await;
    let b = start(dir.path(), &db.url).await;
    let mut on_b = Ws::connect(&b.url, Protocol::TransportWs, Some(KEY)).await;
    on_b.subscribe("c", "subscription { categoryCreated { name } }", json!({})).await;
    on_b.subscribe("u", "subscription { categoryUpdated { name } }", json!({})).await;
    on_b.subscribe("p", "subscription { postCreated { body } }", json!({})).await;
    on_b.subscribe("sync", "{ __typename }", json!({})).await;
    on_b.next_data("sync").await;
    on_b.recv().await;
    let mut on_a = Ws::connect(&a.url, Protocol::Legacy, Some(KEY)).await;
    on_a.subscribe("c", "subscription { categoryCreated { name } }", json!({})).await;
    on_a.subscribe("sync", "{ __typename }", json!({})).await;
    on_a.next_data("sync").await;
    on_a.recv().await;

    let id =
        gql(&a.url, "mutation { createCategory(input: {name: \"from-a\"}) { id } }", json!({})).await["createCategory"]
            ["id"]
            .clone();
    assert_eq!(on_b.next_data("c").await["data"]["categoryCreated"]["name"], "from-a");
    // Exactly once on the writing instance too.
    assert_eq!(on_a.next_data("c").await["data"]["categoryCreated"]["name"], "from-a");
    // A change too large for a NOTIFY payload travels by reference.
    let user = gql(
        &a.url,
        "mutation { signUp(input: {email: \"big@example.com\", password: \"correct horse\"}) { user { id } } }",
        json!({}),
    )
    .await;
    let body = "b".repeat(20_000);
    let input = json!({"title": "big", "slug": "big", "authorId": user["signUp"]["user"]["id"], "body": body});
    gql(&a.url, "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }", json!({"i": input})).await;
    let p = on_b.next_data("p").await;
    assert_eq!(p["data"]["postCreated"]["body"].as_str().map(str::len), Some(20_000), "by reference");
    gql(&a.url, "mutation($id: ID!) { updateCategory(id: $id, input: {name: \"renamed\"}) { id } }", json!({"id": id}))
        .await;
    assert_eq!(on_b.next_data("u").await["data"]["categoryUpdated"]["name"], "renamed");
    // And from B to A.
    gql(&b.url, "mutation { createCategory(input: {name: \"from-b\"}) { id } }", json!({})).await;
    assert_eq!(on_a.next_data("c").await["data"]["categoryCreated"]["name"], "from-b");
    assert_eq!(on_b.next_data("c").await["data"]["categoryCreated"]["name"], "from-b");
    drop((a, b));
    db.drop_database().await;
}

/// A counter from an instance's `/metrics`.
async fn metric(url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok()).unwrap_or(0.0)
}

async fn create_category(url: &str, name: &str) {
    gql(url, "mutation($n: String!) { createCategory(input: {name: $n}) { id } }", json!({"n": name})).await;
}

/// Controls a test database from outside the instances: refuses or allows new connections, and
/// ends the instances' connections whose last statement matches a pattern.
struct DbControl {
    admin: sea_orm::sqlx::PgConnection,
    name: String,
}

impl DbControl {
    async fn allow_connections(&mut self, allow: bool) {
        let sql = format!("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS {allow}", self.name);
        sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql)).execute(&mut self.admin).await.unwrap();
    }

    /// Connections whose last statement is `LIKE pattern` (case-insensitive): how many.
    async fn count(&mut self, pattern: &str) -> i64 {
        let sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE $2";
        let (n,): (i64,) =
            sea_orm::sqlx::query_as(sql).bind(&self.name).bind(pattern).fetch_one(&mut self.admin).await.unwrap();
        n
    }

    /// Ends those connections; how many.
    async fn terminate(&mut self, pattern: &str) -> i64 {
        let sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE $2";
        let (n,): (i64,) =
            sea_orm::sqlx::query_as(sql).bind(&self.name).bind(pattern).fetch_one(&mut self.admin).await.unwrap();
        n
    }
}

/// SPEC: each committed change reaches each matching subscription exactly once. An instance
/// whose LISTEN connection is lost (a restart of PostgreSQL, a network cut) catches up from the
/// change log when it is back: what was committed meanwhile arrives once, nothing twice. An
/// instance whose sending connection is lost sends what it could not once it is back.
#[tokio::test]
async fn changes_committed_while_an_instance_was_not_listening_reach_it_once() {
    let Some(admin_url) = ferrobase::testing::postgres_url() else {
        eprintln!("FERROBASE_TEST_DATABASE_URL is not set: skipped the LISTEN catch-up test");
        return;
    };
    use sea_orm::sqlx::{Connection, PgConnection};
    let dir = app_dir();
    let db = TestDb::create(TestBackend::Postgres, dir.path()).await.unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let a = start(dir.path(), &db.url).await;
    let b = start(dir.path(), &db.url).await;
    let mut on_b = Ws::connect(&b.url, Protocol::TransportWs, Some(KEY)).await;
    let mut on_a = Ws::connect(&a.url, Protocol::TransportWs, Some(KEY)).await;
    for ws in [&mut on_a, &mut on_b] {
        ws.subscribe("c", "subscription { categoryCreated { name } }", json!({})).await;
        ws.subscribe("sync", "{ __typename }", json!({})).await;
        ws.next_data("sync").await;
        ws.recv().await;
    }
    let name_of = |v: Value| v["data"]["categoryCreated"]["name"].as_str().unwrap_or_default().to_string();
    create_category(&a.url, "before").await;
    assert_eq!(name_of(on_b.next_data("c").await), "before");
    assert_eq!(name_of(on_a.next_data("c").await), "before");

    // Both instances lose their LISTEN connection, and cannot reconnect for a while (the
    // database refuses new connections; those open stay, so A still serves the mutation).
    let admin = PgConnection::connect(&admin_url).await.unwrap();
    let mut ctl = DbControl { admin, name };
    ctl.allow_connections(false).await;
    assert_eq!(ctl.terminate("LISTEN%").await, 2, "one LISTEN connection per instance");
    eventually("B noticed its LISTEN connection was lost", || async {
        metric(&b.url, "ferrobase_cluster_gaps_total").await >= 1.0
    })
    .await;
    create_category(&a.url, "during").await;
    assert_eq!(name_of(on_a.next_data("c").await), "during", "A's own subscriber, from its bus");
    ctl.allow_connections(true).await;

    // B reconnects and catches up: "during" arrives once, then what follows, live.
    assert_eq!(name_of(on_b.next_data("c").await), "during");
    assert!(metric(&b.url, "ferrobase_cluster_replayed_total").await >= 1.0, "delivered by the catch-up");
    eventually("A noticed its LISTEN connection was lost", || async {
        metric(&a.url, "ferrobase_cluster_gaps_total").await >= 1.0
    })
    .await;
    // Once both listen again, a change made now is the next each subscriber gets: nothing
    // twice (A does not replay its own changes, B not the ones it had).
    let deadline = Instant::now() + Duration::from_secs(30);
    while ctl.count("LISTEN%").await < 2 {
        assert!(Instant::now() < deadline, "the instances did not listen again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    create_category(&b.url, "after").await;
    assert_eq!(name_of(on_b.next_data("c").await), "after");
    assert_eq!(name_of(on_a.next_data("c").await), "after");

    // The sending side: the instances' publishing connections are cut while reconnecting is
    // refused; A's change, committed meanwhile, is sent once the database is back.
    ctl.allow_connections(false).await;
    assert_eq!(ctl.terminate("WITH c AS (%").await, 2, "one publishing connection per instance");
    let restarts = metric(&a.url, "ferrobase_worker_restarts_total").await;
    create_category(&a.url, "while-a-could-not-send").await;
    assert_eq!(name_of(on_a.next_data("c").await), "while-a-could-not-send");
    eventually("A's send failed", || async { metric(&a.url, "ferrobase_worker_restarts_total").await > restarts })
        .await;
    ctl.allow_connections(true).await;
    assert_eq!(name_of(on_b.next_data("c").await), "while-a-could-not-send");
    create_category(&b.url, "last").await;
    assert_eq!(name_of(on_b.next_data("c").await), "last");
    assert_eq!(name_of(on_a.next_data("c").await), "last");
    drop((a, b));
    ctl.admin.close().await.ok();
    db.drop_database().await;
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() {
    let dir = app_dir();
    let url = format!("sqlite://{}", dir.path().join("data/app.db").display());
    let mut instance = start(dir.path(), &url).await;
    let mut ws = Ws::connect(&instance.url, Protocol::TransportWs, Some(KEY)).await;
    ws.subscribe("c", "subscription { categoryCreated { name } }", json!({})).await;
    // SIGTERM to this process (by its PID): sockets close with 1001, then the process exits.
    let pid = instance.child.id() as libc::pid_t;
    // SAFETY: kill sends a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let (code, _) = ws.closed().await;
    assert_eq!(code, 1001);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = instance.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
