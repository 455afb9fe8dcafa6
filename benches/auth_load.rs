//! Authentication benchmark: password hashing cost, sign-in throughput, and the overhead of
//! `@auth` rules on a list query, against the real `ferrobase` binary over HTTP.
//!
//! `cargo bench --bench auth_load` (SQLite; and PostgreSQL when `FERROBASE_TEST_DATABASE_URL` is
//! set) prints markdown tables:
//!
//! 1. argon2id: the parameters `Argon2::default()` uses, and hashes/verifications per second on
//!    one thread of this process (`ferrobase::auth::password::{hash, verify}`), by wall time and
//!    by the thread's CPU time;
//! 2. sign-in: 50 users signed up over HTTP, then `signIn` with the right password from 2, 4 and
//!    8 concurrent clients (req/s, p50/p99, server CPU per sign-in), and the latency of the
//!    right password, a wrong password and an unknown email from one client;
//! 3. rules: 100k rows in `Doc` (owner rule + `private` read rule with `orgId = $claims.org`)
//!    and the same rows in `OpenDoc` (public), and `first: 20` lists of each as the same
//!    signed-in user with an org claim; plus `openDocs` with the rule's predicate written as a
//!    filter by hand, to tell the rule machinery's cost from the cost of the narrower query.
//!
//! Sizes and durations: `FERROBASE_BENCH_HASHES` (100), `FERROBASE_BENCH_DOCS` (100000),
//! `FERROBASE_BENCH_SECONDS` (5), `FERROBASE_BENCH_CONCURRENCY` (8, for the list queries);
//! `FERROBASE_BENCH_ONLY=argon2|signin|rules` runs one part. Each table has an "other load"
//! column: cores busy with anything but the server, the database and the benchmark during the
//! run, so a figure taken while the machine was busy shows it; `FERROBASE_BENCH_RETRIES=N`
//! repeats such a run (more than 0.1 core of other work) up to N times after waiting for the
//! machine to quiet down, and keeps the quietest attempt.
//! The server runs with the auth rate limits off (`FERROBASE_AUTH_RATE_LIMIT_PER_*=0`).

use ferrobase::testing::{TestBackend, TestDb};
use rand::Rng;
use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{Stats, drive, env_num, pct, pg_cpu, proc_cpu, seed_users, start_server};

const SCHEMA: &str = r#"
type Doc @model @auth(rules: [
  { allow: owner }
  { allow: private, operations: [read], where: { orgId: { eq: "$claims.org" } } }
]) {
  title: String!
  orgId: String @index
}

type OpenDoc @model @auth(rules: [{ allow: public }]) {
  title: String!
  orgId: String @index
  owner: User @belongsTo
}
"#;

const SIGN_UP_USERS: usize = 50;
const OWNERS: usize = 200;
const ORGS: usize = 100;
/// Signed-up users given an org claim and used as readers in the rules runs.
const READERS: usize = 8;

fn wants(section: &str) -> bool {
    std::env::var("FERROBASE_BENCH_ONLY").map_or(true, |o| o.is_empty() || o == section)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Fields of /proc/<pid>/stat after the command name (field 3 onwards).
/// CPU seconds all processes spent busy (user, nice, system, irq, softirq, steal), from /proc/stat.
fn system_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or_default();
    let f: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let busy: f64 = [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| f.get(i)).sum();
    // SAFETY: sysconf has no preconditions.
    busy / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// Other work (cores) below which a run counts as undisturbed.
const QUIET: f64 = 0.1;

/// `FERROBASE_BENCH_RETRIES` (0): how many times a run disturbed by other work on the machine
/// (more than [`QUIET`] cores) is repeated, after waiting for the machine to quiet down.
fn retries() -> usize {
    env_num("FERROBASE_BENCH_RETRIES", 0)
}

/// Waits until the machine has been quiet for 3 seconds in a row (at most 3 minutes). Called
/// between runs, when the server and the database are idle.
async fn wait_quiet() {
    let end = Instant::now() + Duration::from_secs(180);
    let mut quiet = 0;
    while quiet < 3 && Instant::now() < end {
        let b0 = system_busy();
        tokio::time::sleep(Duration::from_secs(1)).await;
        quiet = if system_busy() - b0 < QUIET { quiet + 1 } else { 0 };
    }
}

/// CPU seconds of the calling thread.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// One GraphQL request; returns the whole response.
async fn gql(client: &reqwest::Client, url: &str, token: Option<&str>, query: &str, vars: Value) -> Value {
    let mut req = client.post(format!("{url}/graphql")).json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request").json().await.expect("json")
}

/// The response's data, panicking on errors.
fn data(r: Value) -> Value {
    assert!(r.get("errors").is_none(), "{r}");
    r["data"].clone()
}

const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken user { id } } }";

fn email(i: usize) -> String {
    format!("bench{i}@example.com")
}

fn password(i: usize) -> String {
    format!("correct horse battery {i}")
}

/// What a measured run needs to read the server's and the database's CPU.
struct Probe {
    server_pid: u32,
    admin: Option<DatabaseConnection>,
    db_name: String,
}

impl Probe {
    /// A 1-second warm-up, then `seconds` measured; repeated (see [`retries`]) while other work
    /// competed, keeping the quietest attempt.
    async fn measure<F, Fut>(&self, concurrency: usize, seconds: f64, call: F) -> Stats
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let call = Arc::new(call);
        let mut best: Option<Stats> = None;
        for attempt in 0..=retries() {
            if attempt > 0 {
                wait_quiet().await;
            }
            drive(concurrency, 1.0, call.clone()).await; // warm-up, not counted
            let c0 = self.cpu().await;
            let (n, elapsed, lat) = drive(concurrency, seconds, call.clone()).await;
            let c = self.cpu().await.since(&c0);
            let other = c.other(elapsed);
            let (p50, p99) = (pct(&lat, 0.5), pct(&lat, 0.99));
            let s = Stats { requests: n, elapsed, p50, p99, cpu: c.server, db_cpu: c.db, other };
            let quiet = s.other < QUIET;
            if best.as_ref().is_none_or(|b| s.other < b.other) {
                best = Some(s);
            }
            if quiet {
                break;
            }
        }
        best.expect("at least one attempt")
    }

    async fn cpu(&self) -> Cpu {
        Cpu {
            server: proc_cpu(self.server_pid),
            db: pg_cpu(self.admin.as_ref(), &self.db_name).await,
            me: proc_cpu(std::process::id()),
            busy: system_busy(),
        }
    }
}

/// CPU seconds so far: the server's, the database backends', this process's, and the whole machine's.
struct Cpu {
    server: f64,
    db: f64,
    me: f64,
    busy: f64,
}

impl Cpu {
    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            server: self.server - before.server,
            db: self.db - before.db,
            me: self.me - before.me,
            busy: self.busy - before.busy,
        }
    }
    /// Cores busy with other work during `elapsed`.
    fn other(&self, elapsed: Duration) -> f64 {
        ((self.busy - self.server - self.db - self.me) / elapsed.as_secs_f64()).max(0.0)
    }
}

/// Hashes and verifies `n` passwords on one blocking thread of this process.
async fn bench_argon2(n: usize) {
    let p = argon2::Params::default();
    let mut best: Option<(f64, f64, f64, f64, String, f64)> = None;
    for attempt in 0..=retries() {
        if attempt > 0 {
            wait_quiet().await;
        }
        let run = tokio::task::spawn_blocking(move || {
            let pwds: Vec<String> = (0..n).map(password).collect();
            let _ = ferrobase::auth::password::hash("warm up"); // first-touch of the allocator's pages
            let (me0, busy0) = (proc_cpu(std::process::id()), system_busy());
            let (w0, c0) = (Instant::now(), thread_cpu());
            let hashes: Vec<String> = pwds.iter().map(|p| ferrobase::auth::password::hash(p).expect("hash")).collect();
            let (hash_wall, hash_cpu) = (w0.elapsed().as_secs_f64(), thread_cpu() - c0);
            let (w0, c0) = (Instant::now(), thread_cpu());
            for (p, h) in pwds.iter().zip(&hashes) {
                assert!(ferrobase::auth::password::verify(p, h));
            }
            let (verify_wall, verify_cpu) = (w0.elapsed().as_secs_f64(), thread_cpu() - c0);
            let me = proc_cpu(std::process::id()) - me0;
            let other = ((system_busy() - busy0 - me) / (hash_wall + verify_wall)).max(0.0);
            let phc = hashes[0].rsplitn(3, '$').nth(2).unwrap_or_default().to_string();
            (hash_wall, hash_cpu, verify_wall, verify_cpu, phc, other)
        })
        .await
        .expect("argon2 thread");
        let other = run.5;
        if best.as_ref().is_none_or(|b| other < b.5) {
            best = Some(run);
        }
        if other < QUIET {
            break;
        }
    }
    let (hash_wall, hash_cpu, verify_wall, verify_cpu, phc, other) = best.expect("at least one attempt");
    println!("\n## argon2id (one thread of the bench process, {n} passwords)\n");
    println!(
        "Parameters (`argon2::Params::default()`): m_cost = {} KiB ({} MiB), t_cost = {}, p_cost = {}; stored as `{phc}$…`\n",
        p.m_cost(),
        p.m_cost() / 1024,
        p.t_cost(),
        p.p_cost()
    );
    println!("| operation | per op (wall) | per op (thread CPU) | ops/s per core (wall) | ops/s per core (CPU) |");
    println!("|---|---|---|---|---|");
    for (name, wall, cpu) in [("hash", hash_wall, hash_cpu), ("verify", verify_wall, verify_cpu)] {
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} | {:.1} |",
            wall * 1e3 / n as f64,
            cpu * 1e3 / n as f64,
            n as f64 / wall,
            n as f64 / cpu
        );
    }
    println!("\nOther load on the machine meanwhile: {other:.2} cores.");
}

/// Rows for `docs` and `open_docs`: the same ids, titles, orgs and owners in both.
async fn seed_docs(db: &DatabaseConnection, owners: &[String], rows: usize) {
    let now = ferrobase::sql::values::datetime(ferrobase::sql::values::now(), db.get_database_backend());
    let ids: Vec<String> = (0..rows).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for table in ["docs", "open_docs"] {
        for (c, chunk) in ids.chunks(500).enumerate() {
            let mut q = Query::insert();
            q.into_table(table).columns(["id", "title", "org_id", "owner_id", "created_at", "updated_at"]);
            for (i, id) in chunk.iter().enumerate() {
                let n = c * 500 + i;
                q.values_panic([
                    id.clone().into(),
                    format!("Document number {n}").into(),
                    format!("org{}", n % ORGS).into(),
                    owners[(n / 7) % owners.len()].clone().into(),
                    now.clone().into(),
                    now.clone().into(),
                ]);
            }
            db.execute(&q).await.expect("docs");
        }
    }
    // On PostgreSQL also VACUUM: sets hint bits and the visibility map now, so that neither the
    // first queries nor autovacuum do it during a measured run.
    let analyze = if db.get_database_backend() == DbBackend::Postgres { "VACUUM ANALYZE" } else { "ANALYZE" };
    db.execute_unprepared(analyze).await.expect("analyze");
}

/// A table row: req/s, p50, p99, server CPU/req, and PostgreSQL's CPU/req ("–" for SQLite,
/// which runs inside the server process).
fn row(label: &str, s: &Stats, pg: bool) {
    let db = if pg { format!("{:.0} µs", s.per_req_us(s.db_cpu)) } else { "–".into() };
    println!(
        "| {label} | {:.1} | {} | {} | {:.0} µs | {db} | {:.2} |",
        s.rps(),
        ms(s.p50),
        ms(s.p99),
        s.per_req_us(s.cpu),
        s.other
    );
}

/// Sign-in throughput at 2, 4 and 8 clients, and the latency of the three outcomes.
async fn sign_in_runs(probe: &Probe, client: &reqwest::Client, url: &Arc<str>, pg: bool, seconds: f64) {
    let backend = if pg { "Postgres" } else { "Sqlite" };
    println!("\n## {backend}: sign-in ({SIGN_UP_USERS} users, {seconds}s per run)\n");
    println!("| signIn | req/s | p50 | p99 | server CPU/req | DB CPU/req | other load (cores) |");
    println!("|---|---|---|---|---|---|---|");
    for c in [2, 4, 8] {
        let (cl, u) = (client.clone(), url.clone());
        let s = probe
            .measure(c, seconds, move || {
                let (cl, u) = (cl.clone(), u.clone());
                async move {
                    let i = rand::rng().random_range(0..SIGN_UP_USERS);
                    let d = data(gql(&cl, &u, None, SIGN_IN, json!({ "e": email(i), "p": password(i) })).await);
                    assert!(d["signIn"]["accessToken"].as_str().is_some_and(|t| !t.is_empty()), "{d}");
                }
            })
            .await;
        row(&format!("right password, {c} clients"), &s, pg);
    }
    // One client, so the latencies are the work itself rather than queueing.
    for (label, kind) in
        [("right password, 1 client", 0), ("wrong password, 1 client", 1), ("unknown email, 1 client", 2)]
    {
        let (cl, u) = (client.clone(), url.clone());
        let s = probe
            .measure(1, seconds, move || {
                let (cl, u) = (cl.clone(), u.clone());
                async move {
                    let i = rand::rng().random_range(0..SIGN_UP_USERS);
                    let (e, p) = match kind {
                        0 => (email(i), password(i)),
                        1 => (email(i), format!("wrong horse battery {i}")),
                        _ => (format!("nobody{i}@example.com"), password(i)),
                    };
                    let r = gql(&cl, &u, None, SIGN_IN, json!({ "e": e, "p": p })).await;
                    if kind == 0 {
                        data(r);
                    } else {
                        let msg = r["errors"][0]["message"].as_str().unwrap_or_default();
                        assert!(msg.contains("invalid email or password"), "{r}");
                    }
                }
            })
            .await;
        row(label, &s, pg);
    }

    // Wrong password and unknown email alternately from one client, so drift in the machine's
    // load hits both alike.
    let mut best: Option<(Vec<Duration>, Vec<Duration>, f64)> = None;
    for attempt in 0..=retries() {
        if attempt > 0 {
            wait_quiet().await;
        }
        let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
        let (c0, start) = (probe.cpu().await, Instant::now());
        let deadline = start + Duration::from_secs_f64(seconds * 2.0);
        while Instant::now() < deadline {
            let i = rand::rng().random_range(0..SIGN_UP_USERS);
            for (e, p, lat) in [
                (email(i), format!("wrong horse battery {i}"), &mut wrong),
                (format!("nobody{i}@example.com"), password(i), &mut unknown),
            ] {
                let t = Instant::now();
                let r = gql(client, url, None, SIGN_IN, json!({ "e": e, "p": p })).await;
                lat.push(t.elapsed());
                let msg = r["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(msg.contains("invalid email or password"), "{r}");
            }
        }
        let other = probe.cpu().await.since(&c0).other(start.elapsed());
        if best.as_ref().is_none_or(|b| other < b.2) {
            best = Some((wrong, unknown, other));
        }
        if other < QUIET {
            break;
        }
    }
    let (mut wrong, mut unknown, other) = best.expect("at least one attempt");
    wrong.sort();
    unknown.sort();
    let (w50, u50) = (pct(&wrong, 0.5), pct(&unknown, 0.5));
    println!(
        "\nWrong password vs unknown email, alternating from one client ({} each): p50 {} vs {} \
         (unknown − wrong = {:+.2} ms), p99 {} vs {}; other load {other:.2} cores.",
        wrong.len(),
        ms(w50),
        ms(u50),
        (u50.as_secs_f64() - w50.as_secs_f64()) * 1e3,
        ms(pct(&wrong, 0.99)),
        ms(pct(&unknown, 0.99))
    );
}

async fn bench_backend(backend: TestBackend) {
    let rows = env_num("FERROBASE_BENCH_DOCS", 100_000);
    let seconds = env_num("FERROBASE_BENCH_SECONDS", 5) as f64;
    let concurrency = env_num("FERROBASE_BENCH_CONCURRENCY", 8);
    let dir = tempfile::tempdir().expect("tmp");
    let tdb = TestDb::create(backend, dir.path()).await.expect("db");
    let server = start_server(
        dir.path(),
        &tdb.url,
        SCHEMA,
        &[("FERROBASE_AUTH_RATE_LIMIT_PER_IP", "0"), ("FERROBASE_AUTH_RATE_LIMIT_PER_ACCOUNT", "0")],
    )
    .await; // migrates the tables
    let db = ferrobase::db::connect(&tdb.url).await.expect("connect");
    let db_name = tdb.url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_string();
    let admin = match backend {
        TestBackend::Postgres => Some(Database::connect(tdb.url.as_str()).await.expect("admin")),
        TestBackend::Sqlite => None,
    };
    let pg = admin.is_some();
    let probe = Probe { server_pid: server.child.id(), admin, db_name };
    let client = reqwest::Client::builder().pool_max_idle_per_host(16).build().expect("client");
    let url: Arc<str> = server.url.as_str().into();

    // Sign up users over HTTP (two at a time: the server hashes on its blocking pool).
    let t = Instant::now();
    let mut user_ids = vec![String::new(); SIGN_UP_USERS];
    for pair in (0..SIGN_UP_USERS).collect::<Vec<_>>().chunks(2) {
        let calls = pair.iter().map(|&i| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let q =
                    "mutation($e: String!, $p: String!) { signUp(input: {email: $e, password: $p}) { user { id } } }";
                let d = data(gql(&client, &url, None, q, json!({ "e": email(i), "p": password(i) })).await);
                (i, d["signUp"]["user"]["id"].as_str().expect("id").to_string())
            }
        });
        for (i, id) in futures_util::future::join_all(calls).await {
            user_ids[i] = id;
        }
    }
    eprintln!("{backend:?}: signed up {SIGN_UP_USERS} users in {:.1}s", t.elapsed().as_secs_f64());

    if wants("signin") {
        sign_in_runs(&probe, &client, &url, pg, seconds).await;
    }

    if wants("rules") {
        // Rules: owners are the signed-up users and more inserted directly.
        let mut owners = user_ids.clone();
        owners.extend(seed_users(&db, OWNERS - SIGN_UP_USERS, "owner").await);
        let t = Instant::now();
        seed_docs(&db, &owners, rows).await;
        eprintln!("{backend:?}: seeded {rows} docs and {rows} open docs in {:.1}s", t.elapsed().as_secs_f64());
        let mut readers = Vec::new();
        for (i, id) in user_ids.iter().enumerate().take(READERS) {
            let org = format!("org{}", i * (ORGS / READERS));
            let q = "mutation($u: ID!, $c: JSON!) { setUserClaims(userId: $u, claims: $c) { id } }";
            data(gql(&client, &url, Some(&server.key), q, json!({ "u": id, "c": { "org": org } })).await);
            let d = data(gql(&client, &url, None, SIGN_IN, json!({ "e": email(i), "p": password(i) })).await);
            let token = d["signIn"]["accessToken"].as_str().expect("token").to_string();
            readers.push((token, id.clone(), org));
        }
        // The rule as the reader sees it: their own rows, or their org's.
        let own_or_org =
            |id: &str, org: &str| json!({ "or": [{ "ownerId": { "eq": id } }, { "orgId": { "eq": org } }] });
        let (token, id, org) = &readers[0];
        let via_rules = data(gql(&client, &url, Some(token), "{ docs(first: 20) { nodes { id } } }", json!({})).await);
        let q = "query($f: OpenDocFilter) { openDocs(first: 20, filter: $f) { nodes { id } } }";
        let by_hand = data(gql(&client, &url, Some(token), q, json!({ "f": own_or_org(id, org) })).await);
        assert_eq!(via_rules["docs"], by_hand["openDocs"], "the rule and the hand-written filter select the same rows");
        assert_eq!(via_rules["docs"]["nodes"].as_array().map(Vec::len), Some(20), "{via_rules}");
        let readers = Arc::new(readers);

        println!(
            "\n## {backend:?}: list of 20 with and without rules ({rows} rows, {ORGS} orgs, {OWNERS} owners, {concurrency} clients, {seconds}s per run)\n"
        );
        println!("| query | req/s | p50 | p99 | server CPU/req | DB CPU/req | other load (cores) |");
        println!("|---|---|---|---|---|---|---|");
        let mut results = Vec::new();
        for (label, kind) in [
            ("`docs(first: 20)`: owner + `$claims.org` rules", 0),
            ("`openDocs(first: 20)`: public, no predicate", 1),
            ("`openDocs(first: 20, filter:)`: the rules' predicate by hand", 2),
        ] {
            let (cl, u, rd) = (client.clone(), url.clone(), readers.clone());
            let s = probe
                .measure(concurrency, seconds, move || {
                    let (cl, u, rd) = (cl.clone(), u.clone(), rd.clone());
                    async move {
                        let (token, id, org) = &rd[rand::rng().random_range(0..rd.len())];
                        let (q, vars) = match kind {
                            0 => ("{ docs(first: 20) { nodes { id title } } }", json!({})),
                            1 => ("{ openDocs(first: 20) { nodes { id title } } }", json!({})),
                            _ => (
                                "query($f: OpenDocFilter) { openDocs(first: 20, filter: $f) { nodes { id title } } }",
                                json!({ "f": own_or_org(id, org) }),
                            ),
                        };
                        let d = data(gql(&cl, &u, Some(token), q, vars).await);
                        let field = if kind == 0 { "docs" } else { "openDocs" };
                        assert_eq!(d[field]["nodes"].as_array().map(Vec::len), Some(20), "{d}");
                    }
                })
                .await;
            row(label, &s, pg);
            results.push(s);
        }
        let (rules, open, hand) = (&results[0], &results[1], &results[2]);
        let cpu = |s: &Stats| s.per_req_us(s.cpu + s.db_cpu);
        println!(
            "\nWith rules ÷ public: req/s {:.2}×, p50 {:.2}×, server+DB CPU/req {:.2}×. \
         With rules ÷ the same predicate by hand: req/s {:.2}×, p50 {:.2}×, server+DB CPU/req {:.2}×.",
            rules.rps() / open.rps(),
            rules.p50.as_secs_f64() / open.p50.as_secs_f64(),
            cpu(rules) / cpu(open),
            rules.rps() / hand.rps(),
            rules.p50.as_secs_f64() / hand.p50.as_secs_f64(),
            cpu(rules) / cpu(hand),
        );
    }

    drop(server);
    db.close().await.ok();
    if let Some(a) = probe.admin {
        a.close().await.ok();
    }
    tdb.drop_database().await;
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` lists benchmarks; there is nothing to list.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if wants("argon2") {
        bench_argon2(env_num("FERROBASE_BENCH_HASHES", 100)).await;
    }
    if !wants("signin") && !wants("rules") {
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
