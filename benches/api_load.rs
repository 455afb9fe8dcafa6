//! Load benchmark: the `ferrobase` binary over HTTP vs the same SQL through the driver.
//!
//! `cargo bench --bench api_load` seeds 100k posts and 1M comments (SQLite; and PostgreSQL when
//! `FERROBASE_TEST_DATABASE_URL` is set), then for four workloads (post by id, a list of 20, a
//! 3-level nested query, a create mutation) reports requests per second, p50/p99 latency, and
//! CPU time per request of the server process and of the database, beside the same statements
//! run directly through sqlx (via sea-orm). Sizes and duration:
//! `FERROBASE_BENCH_POSTS` (100000), `FERROBASE_BENCH_COMMENTS_PER_POST` (10),
//! `FERROBASE_BENCH_SECONDS` (5), `FERROBASE_BENCH_CONCURRENCY` (8); `FERROBASE_BENCH_ONLY=post` (a
//! workload name prefix) runs one workload.

use ferrobase::testing::{TestBackend, TestDb};
use rand::Rng;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, WindowStatement};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{Stats, env_num, pct, pg_cpu, proc_cpu, start_server};

const SCHEMA: &str = include_str!("../tests/api/fixtures/blog.graphql");

/// The seeded ids the workloads draw from.
struct Data {
    users: Vec<String>,
    posts: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    ById,
    List20,
    Nested3,
    Create,
}

impl Workload {
    const ALL: [Workload; 4] = [Self::ById, Self::List20, Self::Nested3, Self::Create];
    fn name(self) -> &'static str {
        match self {
            Self::ById => "post by id",
            Self::List20 => "list of 20",
            Self::Nested3 => "3-level nested",
            Self::Create => "create mutation",
        }
    }
}

fn now_value(backend: DbBackend) -> sea_orm::Value {
    ferrobase::sql::values::datetime(ferrobase::sql::values::now(), backend)
}

/// Inserts users, posts and comments in batches straight through the driver.
async fn seed(db: &DatabaseConnection, posts: usize, per_post: usize) -> Data {
    let backend = db.get_database_backend();
    let now = now_value(backend);
    let users = common::seed_users(db, 1000, "user").await;
    let post_ids: Vec<String> = (0..posts).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for (c, chunk) in post_ids.chunks(500).enumerate() {
        let mut q = Query::insert();
        q.into_table("posts").columns([
            "id",
            "title",
            "slug",
            "body",
            "views",
            "author_id",
            "created_at",
            "updated_at",
        ]);
        for (i, id) in chunk.iter().enumerate() {
            let n = c * 500 + i;
            q.values_panic([
                id.clone().into(),
                format!("Post number {n}").into(),
                format!("post-{n}").into(),
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit.".into(),
                (((n * 7919) % 10_000) as i32).into(),
                users[n % users.len()].clone().into(),
                now.clone().into(),
                now.clone().into(),
            ]);
        }
        db.execute(&q).await.expect("posts");
    }
    let total = posts * per_post;
    let mut n = 0;
    while n < total {
        let mut q = Query::insert();
        q.into_table("comments").columns(["id", "post_id", "author_id", "body", "created_at", "updated_at"]);
        for _ in 0..std::cmp::min(500, total - n) {
            q.values_panic([
                uuid::Uuid::now_v7().to_string().into(),
                post_ids[n % posts].clone().into(),
                users[(n / 7) % users.len()].clone().into(),
                format!("Comment {n}: nice post").into(),
                now.clone().into(),
                now.clone().into(),
            ]);
            n += 1;
        }
        db.execute(&q).await.expect("comments");
    }
    db.execute_unprepared("ANALYZE").await.expect("analyze");
    Data { users, posts: post_ids }
}

fn pick(v: &[String]) -> String {
    v[rand::rng().random_range(0..v.len())].clone()
}

/// One request over HTTP.
async fn http_call(client: &reqwest::Client, srv: &(String, String), w: Workload, data: &Data) {
    let (query, vars) = match w {
        Workload::ById => (
            "query($id: ID!) { post(id: $id) { id title slug views status createdAt } }",
            json!({ "id": pick(&data.posts) }),
        ),
        Workload::List20 => (
            "query($a: ID!) { posts(first: 20, filter: {authorId: {eq: $a}}) { nodes { id title views createdAt } } }",
            json!({ "a": pick(&data.users) }),
        ),
        Workload::Nested3 => (
            "query($a: ID!) { posts(first: 10, filter: {authorId: {eq: $a}}) { nodes { id title comments(first: 10) { nodes { id body author { id email } } } } } }",
            json!({ "a": pick(&data.users) }),
        ),
        Workload::Create => (
            "mutation($p: ID!, $a: ID!) { createComment(input: {postId: $p, authorId: $a, body: \"benchmark comment\"}) { id } }",
            json!({ "p": pick(&data.posts), "a": pick(&data.users) }),
        ),
    };
    let r: Value = client
        .post(format!("{}/graphql", srv.0))
        .bearer_auth(&srv.1)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(r.get("errors").is_none(), "{r}");
}

fn cols(q: &mut SelectStatement, alias: &str, names: &[&str]) {
    for n in names {
        q.expr_as(Expr::col((Alias::new(alias), Alias::new(*n))), Alias::new(*n));
    }
}

/// Reads every column of every row as text or number, as a client would.
fn touch(rows: &[sea_orm::QueryResult], names: &[&str]) -> usize {
    let mut n = 0;
    for r in rows {
        for c in names {
            if r.try_get::<Option<String>>("", c).is_ok() || r.try_get::<Option<i32>>("", c).is_ok() {
                n += 1;
            }
        }
    }
    n
}

/// The same work straight through the driver: the statements a hand-written backend would run.
async fn direct_call(db: &DatabaseConnection, w: Workload, data: &Data) {
    let backend = db.get_database_backend();
    match w {
        Workload::ById => {
            let mut q = Query::select();
            q.from_as("posts", "p");
            cols(&mut q, "p", &["id", "title", "slug", "views", "status", "created_at"]);
            q.and_where(Expr::col(("p", "id")).eq(pick(&data.posts)));
            let rows = db.query_all(&q).await.expect("by id");
            touch(&rows, &["id", "title", "slug", "views", "status", "created_at"]);
        }
        Workload::List20 | Workload::Nested3 => {
            let limit = if w == Workload::List20 { 21 } else { 11 };
            let mut q = Query::select();
            q.from_as("posts", "p");
            cols(&mut q, "p", &["id", "title", "views", "created_at"]);
            q.and_where(Expr::col(("p", "author_id")).eq(pick(&data.users)))
                .order_by(("p", "id"), Order::Asc)
                .limit(limit);
            let posts = db.query_all(&q).await.expect("list");
            touch(&posts, &["id", "title", "views", "created_at"]);
            if w == Workload::Nested3 {
                let ids: Vec<String> = posts.iter().map(|r| r.try_get::<String>("", "id").expect("id")).collect();
                let mut inner = Query::select();
                inner.from_as("comments", "c");
                cols(&mut inner, "c", &["id", "body", "author_id", "post_id"]);
                inner.expr_window_as(
                    Expr::cust("ROW_NUMBER()"),
                    WindowStatement::partition_by(("c", "post_id")).order_by(("c", "id"), Order::Asc).to_owned(),
                    "rn",
                );
                inner.and_where(Expr::col(("c", "post_id")).is_in(ids));
                let mut outer = Query::select();
                outer.column(Asterisk).from_subquery(inner, "s").and_where(Expr::col(("s", "rn")).lte(11));
                let comments = db.query_all(&outer).await.expect("comments");
                touch(&comments, &["id", "body", "author_id", "post_id"]);
                let authors: std::collections::BTreeSet<String> =
                    comments.iter().map(|r| r.try_get::<String>("", "author_id").expect("author")).collect();
                let mut uq = Query::select();
                uq.from_as("users", "u");
                cols(&mut uq, "u", &["id", "email"]);
                uq.and_where(Expr::col(("u", "id")).is_in(authors));
                let users = db.query_all(&uq).await.expect("users");
                touch(&users, &["id", "email"]);
            }
        }
        Workload::Create => {
            let now = now_value(backend);
            let mut q = Query::insert();
            q.into_table("comments")
                .columns(["id", "post_id", "author_id", "body", "created_at", "updated_at"])
                .values_panic([
                    uuid::Uuid::now_v7().to_string().into(),
                    pick(&data.posts).into(),
                    pick(&data.users).into(),
                    "benchmark comment".into(),
                    now.clone().into(),
                    now.into(),
                ]);
            db.execute(&q).await.expect("insert");
        }
    }
}

/// Runs `call` from `concurrency` tasks for `seconds`, after a 1-second warm-up; `snapshot`
/// reads the CPU counters after the warm-up, so the returned baseline leaves it out.
async fn drive<F, Fut, S, SF>(
    concurrency: usize,
    seconds: u64,
    call: F,
    snapshot: S,
) -> (usize, Duration, Vec<Duration>, (f64, f64))
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
    S: FnOnce() -> SF,
    SF: std::future::Future<Output = (f64, f64)>,
{
    let call = Arc::new(call);
    common::drive(concurrency, 1.0, call.clone()).await; // warm-up, not counted
    let base = snapshot().await;
    let (n, elapsed, lat) = common::drive(concurrency, seconds as f64, call).await;
    (n, elapsed, lat, base)
}

async fn bench_backend(backend: TestBackend) {
    let posts = env_num("FERROBASE_BENCH_POSTS", 100_000);
    let per_post = env_num("FERROBASE_BENCH_COMMENTS_PER_POST", 10);
    let seconds = env_num("FERROBASE_BENCH_SECONDS", 5) as u64;
    let concurrency = env_num("FERROBASE_BENCH_CONCURRENCY", 8);
    let dir = tempfile::tempdir().expect("tmp");
    let tdb = TestDb::create(backend, dir.path()).await.expect("db");
    let server = start_server(dir.path(), &tdb.url, SCHEMA, &[]).await; // migrates the tables
    let db = ferrobase::db::connect(&tdb.url).await.expect("connect");
    let t = Instant::now();
    let data = Arc::new(seed(&db, posts, per_post).await);
    eprintln!("{backend:?}: seeded {posts} posts, {} comments in {:.1}s", posts * per_post, t.elapsed().as_secs_f64());
    let db_name = tdb.url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_string();
    let admin = match backend {
        TestBackend::Postgres => Some(Database::connect(tdb.url.as_str()).await.expect("admin")),
        TestBackend::Sqlite => None,
    };
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let srv = Arc::new((server.url.clone(), server.key.clone()));
    let server_pid = server.child.id();
    let self_pid = std::process::id();

    println!(
        "\n## {backend:?}: {posts} posts, {} comments, concurrency {concurrency}, {seconds}s per run\n",
        posts * per_post
    );
    println!(
        "| workload | path | req/s | p50 | p99 | server CPU/req | DB CPU/req | ferrobase CPU/req | ferrobase ÷ DB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let only = std::env::var("FERROBASE_BENCH_ONLY").ok();
    for w in Workload::ALL.into_iter().filter(|w| only.as_deref().is_none_or(|o| w.name().starts_with(o))) {
        // Direct: this process is the client and the driver (and, for SQLite, the database).
        let (d, dd) = (db.clone(), data.clone());
        let snap = || async { (proc_cpu(self_pid), pg_cpu(admin.as_ref(), &db_name).await) };
        let (n, el, lat, (c0, db0)) = drive(
            concurrency,
            seconds,
            move || {
                let (d, dd) = (d.clone(), dd.clone());
                async move { direct_call(&d, w, &dd).await }
            },
            snap,
        )
        .await;
        let direct = Stats {
            requests: n,
            elapsed: el,
            p50: pct(&lat, 0.5),
            p99: pct(&lat, 0.99),
            cpu: proc_cpu(self_pid) - c0,
            db_cpu: pg_cpu(admin.as_ref(), &db_name).await - db0,
            other: 0.0,
        };
        // Over HTTP, through the server process.
        let (cl, sv, dd) = (client.clone(), srv.clone(), data.clone());
        let snap = || async { (proc_cpu(server_pid), pg_cpu(admin.as_ref(), &db_name).await) };
        let (n, el, lat, (s0, db0)) = drive(
            concurrency,
            seconds,
            move || {
                let (cl, sv, dd) = (cl.clone(), sv.clone(), dd.clone());
                async move { http_call(&cl, &sv, w, &dd).await }
            },
            snap,
        )
        .await;
        let http = Stats {
            requests: n,
            elapsed: el,
            p50: pct(&lat, 0.5),
            p99: pct(&lat, 0.99),
            cpu: proc_cpu(server_pid) - s0,
            db_cpu: pg_cpu(admin.as_ref(), &db_name).await - db0,
            other: 0.0,
        };
        report(backend, w, &direct, &http);
    }
    drop(server);
    db.close().await.ok();
    if let Some(a) = admin {
        a.close().await.ok();
    }
    tdb.drop_database().await;
}

fn report(backend: TestBackend, w: Workload, direct: &Stats, http: &Stats) {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    // The database's CPU per request: PostgreSQL backends' CPU; for embedded SQLite, the
    // direct run's whole CPU (driver + SQLite), an upper bound of the database's share.
    let db_cpu = match backend {
        TestBackend::Postgres => http.per_req_us(http.db_cpu),
        TestBackend::Sqlite => direct.per_req_us(direct.cpu),
    };
    let server = http.per_req_us(http.cpu);
    let own = match backend {
        TestBackend::Postgres => server,
        TestBackend::Sqlite => (server - db_cpu).max(0.0),
    };
    let direct_db = match backend {
        TestBackend::Postgres => format!("{:.0} µs", direct.per_req_us(direct.db_cpu)),
        TestBackend::Sqlite => format!("{db_cpu:.0} µs (driver+SQLite)"),
    };
    println!(
        "| {} | direct SQL | {:.0} | {} | {} | – | {direct_db} | – | – |",
        w.name(),
        direct.rps(),
        ms(direct.p50),
        ms(direct.p99)
    );
    println!(
        "| {} | ferrobase HTTP | {:.0} | {} | {} | {server:.0} µs | {db_cpu:.0} µs | {own:.0} µs | {:.2} |",
        w.name(),
        http.rps(),
        ms(http.p50),
        ms(http.p99),
        own / db_cpu.max(1e-9)
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful either.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut backends = vec![TestBackend::Sqlite];
    if ferrobase::testing::postgres_url().is_some() {
        backends.push(TestBackend::Postgres);
    } else {
        eprintln!("FERROBASE_TEST_DATABASE_URL is not set: benchmarking SQLite only");
    }
    for b in backends {
        bench_backend(b).await;
    }
}
