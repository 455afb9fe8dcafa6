//! Running processes of the real binary: two instances on one PostgreSQL (a mutation on one
//! reaches subscribers on the other through LISTEN/NOTIFY), and a graceful shutdown closing
//! WebSockets with 1001.

use crate::common::BLOG;
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
