//! Load benchmark: the `ferrobase` binary over HTTP against the best SQL a person would write
//! for the same answers, run straight through the driver.
//!
//! `cargo bench --bench api_load` seeds users, posts and comments (SQLite; and PostgreSQL when
//! `FERROBASE_TEST_DATABASE_URL` is set), then for five workloads (a post by id, the 20 newest
//! posts, a user's posts, a 3-level nested read, a create mutation), at 1 and at 64 concurrent
//! clients, runs three paths and reports requests per second, p50/p99 latency and CPU per
//! request:
//!
//! - `hand-written SQL`: one hand-written statement per request (the nested read as one
//!   statement too), through sqlx on a pool of pinged-never connections in this process;
//! - `ferrobase SQL`: the statements ferrobase compiles for the same requests (from
//!   `Executor::explain`), run the same way: the database's work for ferrobase's SQL, measurable
//!   on SQLite too;
//! - `ferrobase HTTP`: GraphQL requests over HTTP to the server process.
//!
//! Then statements and round trips per request (PostgreSQL round trips counted by a proxy in
//! front of the database) and the server's peak RSS under the 64-client load.
//!
//! Knobs: `FERROBASE_BENCH_USERS` (10000), `FERROBASE_BENCH_POSTS` (100000),
//! `FERROBASE_BENCH_COMMENTS_PER_POST` (10), `FERROBASE_BENCH_SECONDS` (5),
//! `FERROBASE_BENCH_CLIENTS` (`1,64`), `FERROBASE_BENCH_ONLY` (a workload name prefix),
//! `FERROBASE_BENCH_BIN` (another ferrobase binary, e.g. an earlier build, for before/after;
//! its SQL is not replayed), `FERROBASE_DATABASE_POOL_SIZE` (the server's pool, and the
//! hand-written path's).

use ferrobase::testing::{TestBackend, TestDb};
use rand::Rng;
use sea_orm::sea_query::{Query, Values};
use sea_orm::sqlx::{self, AssertSqlSafe, Column, Connection, Row, TypeInfo};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
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

#[derive(Clone, Copy, PartialEq, Debug)]
enum Workload {
    ById,
    Newest20,
    Filtered20,
    Nested3,
    Create,
}

impl Workload {
    const ALL: [Workload; 5] = [Self::ById, Self::Newest20, Self::Filtered20, Self::Nested3, Self::Create];
    fn name(self) -> &'static str {
        match self {
            Self::ById => "post by id",
            Self::Newest20 => "20 newest posts",
            Self::Filtered20 => "a user's 20 posts",
            Self::Nested3 => "3-level nested",
            Self::Create => "create mutation",
        }
    }

    /// The GraphQL request, with fresh random variables.
    fn request(self, data: &Data) -> (&'static str, Value) {
        match self {
            Workload::ById => (
                "query($id: ID!) { post(id: $id) { id title slug views status createdAt } }",
                json!({ "id": pick(&data.posts) }),
            ),
            Workload::Newest20 => {
                ("{ posts(first: 20, orderBy: [{createdAt: DESC}]) { nodes { id title views createdAt } } }", json!({}))
            }
            Workload::Filtered20 => (
                "query($a: ID!) { posts(first: 20, filter: {authorId: {eq: $a}}) { nodes { id title views createdAt } } }",
                json!({ "a": pick(&data.users) }),
            ),
            Workload::Nested3 => (
                "{ posts(first: 20, orderBy: [{createdAt: DESC}]) { nodes { id title author { id displayName } comments(first: 10) { nodes { id body author { id displayName } } } } } }",
                json!({}),
            ),
            Workload::Create => (
                "mutation($p: ID!, $a: ID!) { createComment(input: {postId: $p, authorId: $a, body: \"benchmark comment\"}) { id } }",
                json!({ "p": pick(&data.posts), "a": pick(&data.users) }),
            ),
        }
    }

    /// The best SQL a person would write for the same answer: one statement, values bound.
    fn hand_written(self, backend: DbBackend, data: &Data) -> (String, Values) {
        use sea_orm::sea_query::Value as V;
        let pg = backend == DbBackend::Postgres;
        let p = |n: usize| if pg { format!("${n}") } else { "?".to_string() };
        match self {
            Workload::ById => (
                format!("SELECT id, title, slug, views, status, created_at FROM posts WHERE id = {}", p(1)),
                Values(vec![V::from(pick(&data.posts))]),
            ),
            Workload::Newest20 => (
                "SELECT id, title, views, created_at FROM posts ORDER BY created_at DESC, id LIMIT 21".into(),
                Values(vec![]),
            ),
            Workload::Filtered20 => (
                format!(
                    "SELECT id, title, views, created_at FROM posts WHERE author_id = {} ORDER BY id LIMIT 21",
                    p(1)
                ),
                Values(vec![V::from(pick(&data.users))]),
            ),
            // The posts with their authors, and each post's first 10 comments with their authors
            // as one JSON array per post.
            Workload::Nested3 if pg => (
                "SELECT p.id, p.title, u.id AS author_id, u.display_name, \
                   (SELECT coalesce(json_agg(json_build_object('id', c.id, 'body', c.body, 'author', \
                      json_build_object('id', cu.id, 'displayName', cu.display_name)) ORDER BY c.id), '[]') \
                    FROM (SELECT id, body, author_id FROM comments WHERE post_id = p.id ORDER BY id LIMIT 11) c \
                    JOIN users cu ON cu.id = c.author_id) AS comments \
                 FROM (SELECT id, title, author_id, created_at FROM posts ORDER BY created_at DESC, id LIMIT 21) p \
                 JOIN users u ON u.id = p.author_id ORDER BY p.created_at DESC, p.id"
                    .into(),
                Values(vec![]),
            ),
            Workload::Nested3 => (
                "SELECT p.id, p.title, u.id AS author_id, u.display_name, \
                   (SELECT json_group_array(json_object('id', c.id, 'body', c.body, 'author', \
                      json_object('id', cu.id, 'displayName', cu.display_name)) ORDER BY c.id) \
                    FROM (SELECT id, body, author_id FROM comments WHERE post_id = p.id ORDER BY id LIMIT 11) c \
                    JOIN users cu ON cu.id = c.author_id) AS comments \
                 FROM (SELECT id, title, author_id, created_at FROM posts ORDER BY created_at DESC, id LIMIT 21) p \
                 JOIN users u ON u.id = p.author_id ORDER BY p.created_at DESC, p.id"
                    .into(),
                Values(vec![]),
            ),
            Workload::Create => {
                let now = ferrobase::sql::values::datetime(ferrobase::sql::values::now(), backend);
                (
                    format!(
                        "INSERT INTO comments (id, post_id, author_id, body, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {})",
                        p(1),
                        p(2),
                        p(3),
                        p(4),
                        p(5),
                        p(6)
                    ),
                    Values(vec![
                        V::from(uuid::Uuid::now_v7().to_string()),
                        V::from(pick(&data.posts)),
                        V::from(pick(&data.users)),
                        V::from("benchmark comment"),
                        now.clone(),
                        now,
                    ]),
                )
            }
        }
    }
}

fn pick(v: &[String]) -> String {
    v[rand::rng().random_range(0..v.len())].clone()
}

/// Inserts users, posts (each a second newer than the last) and comments in batches straight
/// through the driver.
async fn seed(db: &DatabaseConnection, users: usize, posts: usize, per_post: usize) -> Data {
    let backend = db.get_database_backend();
    let users = common::seed_users(db, users, "user").await;
    let mut q = Query::update();
    q.table("users").value("display_name", sea_orm::sea_query::Expr::cust("'Reader ' || substr(id, 1, 8)"));
    db.execute(&q).await.expect("names");
    let start = ferrobase::sql::values::now() - chrono::Duration::seconds(posts as i64);
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
            let at = ferrobase::sql::values::datetime(start + chrono::Duration::seconds(n as i64), backend);
            q.values_panic([
                id.clone().into(),
                format!("Post number {n}").into(),
                format!("post-{n}").into(),
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit.".into(),
                (((n * 7919) % 10_000) as i32).into(),
                users[n % users.len()].clone().into(),
                at.clone().into(),
                at.into(),
            ]);
        }
        db.execute(&q).await.expect("posts");
    }
    let now = ferrobase::sql::values::datetime(ferrobase::sql::values::now(), backend);
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
    if backend == DbBackend::Postgres {
        // Background vacuum and analyze workers (started by the inserts of the create runs) would
        // land in the CPU of whichever run is under way.
        for t in ["users", "posts", "comments"] {
            db.execute_unprepared(&format!("ALTER TABLE {t} SET (autovacuum_enabled = off)"))
                .await
                .expect("autovacuum");
        }
    }
    Data { users, posts: post_ids }
}

/// Connections of this process for the direct paths: never pinged, one round trip per
/// statement, at most as many as the server's pool.
struct Direct {
    conns: tokio::sync::Mutex<Vec<Conn>>,
    permits: tokio::sync::Semaphore,
}

enum Conn {
    Pg(sqlx::postgres::PgConnection),
    Lite(sqlx::sqlite::SqliteConnection),
}

impl Direct {
    async fn open(url: &str, size: u32) -> Direct {
        let mut conns = Vec::new();
        for _ in 0..size {
            conns.push(match ferrobase::db::ConnectOptions::from_url(url).expect("url") {
                ferrobase::db::ConnectOptions::Postgres(o) => {
                    Conn::Pg(sqlx::postgres::PgConnection::connect_with(&o).await.expect("pg"))
                }
                ferrobase::db::ConnectOptions::Sqlite(o) => {
                    Conn::Lite(sqlx::sqlite::SqliteConnection::connect_with(&o).await.expect("sqlite"))
                }
            });
        }
        Direct { conns: tokio::sync::Mutex::new(conns), permits: tokio::sync::Semaphore::new(size as usize) }
    }

    /// Runs a statement and reads every column of every row, as an application would.
    async fn run(&self, sql: &str, values: Values) -> usize {
        let _permit = self.permits.acquire().await.expect("permit");
        let mut conn = self.conns.lock().await.pop().expect("a connection per permit");
        let sql = AssertSqlSafe(sql.to_string());
        let cells = match &mut conn {
            Conn::Pg(c) => {
                let rows =
                    sqlx::query_with(sql, sea_query_sqlx::SqlxValues(values)).fetch_all(&mut *c).await.expect("query");
                rows.iter().map(touch_pg).sum()
            }
            Conn::Lite(c) => {
                let rows =
                    sqlx::query_with(sql, sea_query_sqlx::SqlxValues(values)).fetch_all(&mut *c).await.expect("query");
                rows.iter().map(touch_sqlite).sum()
            }
        };
        self.conns.lock().await.push(conn);
        cells
    }
}

fn touch_pg(r: &sqlx::postgres::PgRow) -> usize {
    (0..r.len())
        .filter(|&i| match r.column(i).type_info().name() {
            "INT4" => r.try_get::<Option<i32>, _>(i).is_ok(),
            "INT8" => r.try_get::<Option<i64>, _>(i).is_ok(),
            "FLOAT8" => r.try_get::<Option<f64>, _>(i).is_ok(),
            "BOOL" => r.try_get::<Option<bool>, _>(i).is_ok(),
            "TIMESTAMPTZ" => r.try_get::<Option<chrono::DateTime<chrono::Utc>>, _>(i).is_ok(),
            "JSON" | "JSONB" => r.try_get::<Option<serde_json::Value>, _>(i).is_ok(),
            _ => r.try_get::<Option<String>, _>(i).is_ok(),
        })
        .count()
}

fn touch_sqlite(r: &sqlx::sqlite::SqliteRow) -> usize {
    (0..r.len())
        .filter(|&i| {
            r.try_get::<Option<String>, _>(i).is_ok()
                || r.try_get::<Option<i64>, _>(i).is_ok()
                || r.try_get::<Option<f64>, _>(i).is_ok()
        })
        .count()
}

/// One request over HTTP.
async fn http_call(client: &reqwest::Client, srv: &(String, String), w: Workload, data: &Data) {
    let (query, vars) = w.request(data);
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

/// The statements ferrobase compiles for `n` requests of `w` (values bound), from the library.
async fn compiled_statements(
    url: &str,
    dir: &std::path::Path,
    w: Workload,
    data: &Data,
    n: usize,
) -> Vec<(String, Values)> {
    let schema_dir = dir.join("schema");
    let config = ferrobase::config::Config::for_dirs(&dir.join("explain"), &schema_dir, Some(url.to_string()));
    let app = ferrobase::app::prepare(config).await.expect("library");
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (query, vars) = w.request(data);
        let request = async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(vars));
        let stmts = app.executor.explain(&request, &ferrobase::auth::Caller::Admin).expect("a compiled operation");
        assert_eq!(stmts.len(), 1, "one statement per root field");
        let (sql, values) = stmts.into_iter().next().expect("one");
        out.push((sql.to_string(), values));
    }
    out
}

/// Runs `call` from `clients` tasks for `seconds` after a 1-second warm-up; `snapshot` reads the
/// CPU counters after the warm-up.
async fn measure<F, Fut, S, SF>(
    clients: usize,
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
    common::drive(clients, 1.0, call.clone()).await;
    let base = snapshot().await;
    let (n, elapsed, lat) = common::drive(clients, seconds as f64, call).await;
    (n, elapsed, lat, base)
}

/// A counter of the server's `/metrics`.
async fn metric(client: &reqwest::Client, url: &str, name: &str) -> f64 {
    let text = client.get(format!("{url}/metrics")).send().await.expect("metrics").text().await.expect("text");
    text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).and_then(|v| v.trim().parse().ok()).unwrap_or(0.0)
}

struct Row3 {
    hand: Stats,
    sql: Option<Stats>,
    http: Stats,
}

async fn bench_backend(backend: TestBackend) {
    let users = env_num("FERROBASE_BENCH_USERS", 10_000);
    let posts = env_num("FERROBASE_BENCH_POSTS", 100_000);
    let per_post = env_num("FERROBASE_BENCH_COMMENTS_PER_POST", 10);
    let seconds = env_num("FERROBASE_BENCH_SECONDS", 5) as u64;
    let clients: Vec<usize> = std::env::var("FERROBASE_BENCH_CLIENTS")
        .unwrap_or_else(|_| "1,64".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let other_binary = std::env::var("FERROBASE_BENCH_BIN").is_ok_and(|b| !b.is_empty());
    let dir = tempfile::tempdir().expect("tmp");
    let tdb = TestDb::create(backend, dir.path()).await.expect("db");
    let server = start_server(dir.path(), &tdb.url, SCHEMA, &[]).await; // migrates the tables
    let db = ferrobase::db::connect(&tdb.url).await.expect("connect");
    let t = Instant::now();
    let data = Arc::new(seed(&db, users, posts, per_post).await);
    eprintln!(
        "{backend:?}: seeded {users} users, {posts} posts, {} comments in {:.1}s",
        posts * per_post,
        t.elapsed().as_secs_f64()
    );
    let db_name = tdb.url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_string();
    let admin = match backend {
        TestBackend::Postgres => Some(sea_orm::Database::connect(tdb.url.as_str()).await.expect("admin")),
        TestBackend::Sqlite => None,
    };
    let pool_size = std::env::var("FERROBASE_DATABASE_POOL_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| ferrobase::db::default_pool_size(db.get_database_backend()));
    let direct = Arc::new(Direct::open(&tdb.url, pool_size).await);
    let client = reqwest::Client::builder().pool_max_idle_per_host(128).build().expect("client");
    let srv = Arc::new((server.url.clone(), server.key.clone()));
    let server_pid = server.child.id();
    let self_pid = std::process::id();
    let only = std::env::var("FERROBASE_BENCH_ONLY").ok();
    let workloads: Vec<Workload> =
        Workload::ALL.into_iter().filter(|w| only.as_deref().is_none_or(|o| w.name().starts_with(o))).collect();

    println!(
        "\n## {backend:?}: {users} users, {posts} posts, {} comments; pool {pool_size}; {seconds} s per run{}\n",
        posts * per_post,
        if other_binary { format!("; server {}", common::server_binary()) } else { String::new() }
    );

    // Statements and round trips per request.
    let turns = match backend {
        TestBackend::Postgres => {
            // host:port of the URL (postgres://user@host:port/db...)
            let host =
                tdb.url.split('@').nth(1).and_then(|h| h.split('/').next()).unwrap_or("127.0.0.1:5432").to_string();
            let host = if host.contains(':') { host } else { format!("{host}:5432") };
            let target = tokio::net::lookup_host(host.as_str()).await.expect("host").next().expect("address");
            let proxy = common::turn_counter(target).await;
            let url = tdb.url.replacen(&host, &proxy.addr.to_string(), 1);
            let tdir = tempfile::tempdir().expect("tmp");
            // One connection (ours; the earlier build keeps its own pool): statements prepared
            // once are then only executed.
            let traced = start_server(tdir.path(), &url, SCHEMA, &[("FERROBASE_DATABASE_POOL_SIZE", "1")]).await;
            Some((proxy, traced))
        }
        TestBackend::Sqlite => None,
    };
    println!("| workload | statements per request | round trips per request |");
    println!("|---|---|---|");
    for &w in &workloads {
        let n = 50;
        let before = metric(&client, &srv.0, "ferrobase_sql_statements_total").await;
        for _ in 0..n {
            http_call(&client, &srv, w, &data).await;
        }
        let stmts = (metric(&client, &srv.0, "ferrobase_sql_statements_total").await - before) / n as f64;
        let trips = match &turns {
            Some((proxy, traced)) => {
                let tsrv = (traced.url.clone(), traced.key.clone());
                for _ in 0..n {
                    http_call(&client, &tsrv, w, &data).await; // statements prepared on every connection
                }
                let before = proxy.turns.load(std::sync::atomic::Ordering::SeqCst);
                for _ in 0..n {
                    http_call(&client, &tsrv, w, &data).await;
                }
                format!("{:.2}", (proxy.turns.load(std::sync::atomic::Ordering::SeqCst) - before) as f64 / n as f64)
            }
            None => "– (in-process)".into(),
        };
        println!("| {} | {stmts:.2} | {trips} |", w.name());
    }
    drop(turns);

    for &c in &clients {
        println!("\n### {c} client(s)\n");
        println!(
            "| workload | path | req/s | p50 | p99 | server CPU/req | DB CPU/req | ferrobase's own CPU/req | DB CPU ÷ hand-written | own ÷ DB |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        if c == *clients.iter().max().unwrap_or(&c) {
            common::reset_peak_rss(server_pid);
        }
        for &w in &workloads {
            // Hand-written SQL from this process.
            let (d, dd) = (direct.clone(), data.clone());
            let snap = || async { (proc_cpu(self_pid), pg_cpu(admin.as_ref(), &db_name).await) };
            let backend_db = db.get_database_backend();
            let (n, el, lat, (c0, db0)) = measure(
                c,
                seconds,
                move || {
                    let (d, dd) = (d.clone(), dd.clone());
                    async move {
                        let (sql, values) = w.hand_written(backend_db, &dd);
                        d.run(&sql, values).await;
                    }
                },
                snap,
            )
            .await;
            let hand = Stats {
                requests: n,
                elapsed: el,
                p50: pct(&lat, 0.5),
                p99: pct(&lat, 0.99),
                cpu: proc_cpu(self_pid) - c0,
                db_cpu: pg_cpu(admin.as_ref(), &db_name).await - db0,
                other: 0.0,
            };
            // ferrobase's compiled statements, from this process.
            let sql = if other_binary {
                None
            } else {
                let count = if w == Workload::Create { 60_000 } else { 2_000 };
                let stmts = Arc::new(compiled_statements(&tdb.url, dir.path(), w, &data, count).await);
                let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let d = direct.clone();
                let snap = || async { (proc_cpu(self_pid), pg_cpu(admin.as_ref(), &db_name).await) };
                let (n, el, lat, (c0, db0)) = measure(
                    c,
                    seconds,
                    move || {
                        let (d, stmts, next) = (d.clone(), stmts.clone(), next.clone());
                        async move {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % stmts.len();
                            let (sql, values) = &stmts[i];
                            d.run(sql, values.clone()).await;
                        }
                    },
                    snap,
                )
                .await;
                Some(Stats {
                    requests: n,
                    elapsed: el,
                    p50: pct(&lat, 0.5),
                    p99: pct(&lat, 0.99),
                    cpu: proc_cpu(self_pid) - c0,
                    db_cpu: pg_cpu(admin.as_ref(), &db_name).await - db0,
                    other: 0.0,
                })
            };
            // Over HTTP, through the server process.
            let (cl, sv, dd) = (client.clone(), srv.clone(), data.clone());
            let snap = || async { (proc_cpu(server_pid), pg_cpu(admin.as_ref(), &db_name).await) };
            let (n, el, lat, (s0, db0)) = measure(
                c,
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
            report(backend, w, &Row3 { hand, sql, http });
        }
        if c == *clients.iter().max().unwrap_or(&c) {
            println!("\nPeak RSS of the server under {c} clients: {:.1} MiB", common::peak_rss_mib(server_pid));
        }
    }
    drop(server);
    db.close().await.ok();
    if let Some(a) = admin {
        a.close().await.ok();
    }
    tdb.drop_database().await;
}

fn report(backend: TestBackend, w: Workload, r: &Row3) {
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    // The database's CPU per request: PostgreSQL's backends; for embedded SQLite, the whole CPU
    // of a direct run (driver + SQLite), an upper bound of the database's share.
    let db_of = |s: &Stats| match backend {
        TestBackend::Postgres => s.per_req_us(s.db_cpu),
        TestBackend::Sqlite => s.per_req_us(s.cpu),
    };
    let hand_db = db_of(&r.hand);
    println!(
        "| {} | hand-written SQL | {:.0} | {} | {} | – | {hand_db:.0} µs | – | 1.00 | – |",
        w.name(),
        r.hand.rps(),
        ms(r.hand.p50),
        ms(r.hand.p99)
    );
    let sql_db = r.sql.as_ref().map(db_of);
    if let (Some(s), Some(d)) = (&r.sql, sql_db) {
        println!(
            "| {} | ferrobase SQL | {:.0} | {} | {} | – | {d:.0} µs | – | {:.2} | – |",
            w.name(),
            s.rps(),
            ms(s.p50),
            ms(s.p99),
            d / hand_db.max(1e-9)
        );
    }
    let server = r.http.per_req_us(r.http.cpu);
    // Under HTTP, PostgreSQL's CPU is measured; SQLite's is the direct run of ferrobase's SQL.
    let db = match backend {
        TestBackend::Postgres => Some(r.http.per_req_us(r.http.db_cpu)),
        TestBackend::Sqlite => sql_db,
    };
    let own = match (backend, db) {
        (TestBackend::Postgres, _) => Some(server),
        (TestBackend::Sqlite, Some(d)) => Some((server - d).max(0.0)),
        (TestBackend::Sqlite, None) => None,
    };
    let us = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0} µs"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a / b.max(1e-9)),
        _ => "–".into(),
    };
    println!(
        "| {} | ferrobase HTTP | {:.0} | {} | {} | {server:.0} µs | {} | {} | {} | {} |",
        w.name(),
        r.http.rps(),
        ms(r.http.p50),
        ms(r.http.p99),
        us(db),
        us(own),
        ratio(db, Some(hand_db)),
        ratio(own, db)
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
    if let Ok(only) = std::env::var("FERROBASE_BENCH_BACKEND") {
        backends.retain(|b| format!("{b:?}").eq_ignore_ascii_case(&only));
    }
    for b in backends {
        bench_backend(b).await;
    }
}
