//! What the load benchmarks share: the server process under test, CPU time from /proc (the
//! server's and PostgreSQL's), one run's figures, percentiles and environment knobs.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The fields of /proc/<pid>/stat after the command name.
pub fn proc_stat(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("").split_whitespace().map(str::to_string).collect()
}

/// The sum of some clock-tick fields of /proc/<pid>/stat, in seconds.
fn stat_seconds(pid: u32, fields: [usize; 2]) -> f64 {
    let f = proc_stat(pid);
    let ticks: f64 = fields.iter().filter_map(|&i| f.get(i).and_then(|v| v.parse::<f64>().ok())).sum();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// CPU seconds (user + system) of a process and its threads, live and exited.
pub fn proc_cpu(pid: u32) -> f64 {
    stat_seconds(pid, [11, 12])
}

/// CPU seconds the exited, reaped children of a process used (cutime + cstime).
fn children_cpu(pid: u32) -> f64 {
    stat_seconds(pid, [13, 14])
}

/// CPU seconds of PostgreSQL for `db` (0 for SQLite): its live client backends, plus what the
/// postmaster's exited children used (the parallel workers a query starts, and backends that
/// ended), so that a difference of two readings counts both.
pub async fn pg_cpu(admin: Option<&DatabaseConnection>, db: &str) -> f64 {
    let Some(admin) = admin else { return 0.0 };
    let q = format!(
        "SELECT pid, pg_backend_pid() AS me FROM pg_stat_activity \
         WHERE datname = '{db}' AND backend_type = 'client backend'"
    );
    let rows =
        admin.query_all_raw(sea_orm::Statement::from_string(DbBackend::Postgres, q)).await.expect("pg_stat_activity");
    let backends: f64 = rows.iter().map(|r| proc_cpu(r.try_get::<i32>("", "pid").expect("pid") as u32)).sum();
    let me = rows.first().map_or(0, |r| r.try_get::<i32>("", "me").expect("me") as u32);
    let postmaster = proc_stat(me).get(1).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    backends + if postmaster > 1 { children_cpu(postmaster) } else { 0.0 }
}

/// One measured run.
pub struct Stats {
    pub requests: usize,
    pub elapsed: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// CPU seconds of the measured process (the server, or the benchmark for direct runs).
    pub cpu: f64,
    /// CPU seconds of PostgreSQL (0 for SQLite).
    pub db_cpu: f64,
    /// Cores busy with anything but the server, the database and the benchmark: other work on
    /// the machine that competed with the run (0 where a benchmark does not measure it).
    #[allow(dead_code)] // read by one benchmark only
    pub other: f64,
}

impl Stats {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    pub fn per_req_us(&self, cpu: f64) -> f64 {
        cpu * 1e6 / self.requests as f64
    }
}

/// Runs `call` from `concurrency` tasks for `seconds`; returns the number of calls, the elapsed
/// time and the sorted latencies.
pub async fn drive<F, Fut>(concurrency: usize, seconds: f64, call: Arc<F>) -> (usize, Duration, Vec<Duration>)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                call().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("task"));
    }
    let elapsed = start.elapsed();
    lat.sort();
    (lat.len(), elapsed, lat)
}

/// The `p` quantile of sorted latencies.
pub fn pct(lat: &[Duration], p: f64) -> Duration {
    lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)]
}

/// The `ferrobase` binary under test, in its own process; killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            eprintln!("ferrobase had exited before the benchmark ended: {status}");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `ferrobase` binary under test: `FERROBASE_BENCH_BIN` (another build, e.g. an earlier
/// commit's, for before/after figures), else this build's.
pub fn server_binary() -> String {
    std::env::var("FERROBASE_BENCH_BIN")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_ferrobase").into())
}

/// Starts the release `ferrobase` on a free port for `schema` over `db_url`, with the service
/// key `bench-service-key` and `env` added; waits for `/healthz`.
pub async fn start_server(dir: &std::path::Path, db_url: &str, schema: &str, env: &[(&str, &str)]) -> Server {
    let schema_dir = dir.join("schema");
    std::fs::create_dir_all(&schema_dir).expect("schema dir");
    std::fs::write(schema_dir.join("app.graphql"), schema).expect("schema");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let key = "bench-service-key".to_string();
    let mut child = Command::new(server_binary())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--database-url", db_url])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--schema")
        .arg(&schema_dir)
        .env("FERROBASE_SERVICE_KEY", &key)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("start ferrobase");
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{url}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Server { child, url, key };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("ferrobase did not start");
}

/// `n` users without a password (`{prefix}{i}@example.com`), inserted straight through the
/// driver, 500 per statement; returns their ids.
pub async fn seed_users(db: &DatabaseConnection, n: usize, prefix: &str) -> Vec<String> {
    let now = ferrobase::sql::values::datetime(ferrobase::sql::values::now(), db.get_database_backend());
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    for (c, chunk) in ids.chunks(500).enumerate() {
        let mut q = sea_orm::sea_query::Query::insert();
        q.into_table("users").columns(["id", "email", "created_at", "updated_at"]);
        for (i, id) in chunk.iter().enumerate() {
            q.values_panic([
                id.clone().into(),
                format!("{prefix}{}@example.com", c * 500 + i).into(),
                now.clone().into(),
                now.clone().into(),
            ]);
        }
        db.execute(&q).await.expect("users");
    }
    ids
}
/// Peak resident memory of a process (`VmHWM`), in MiB.
#[allow(dead_code)] // used by one benchmark
pub fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts a new peak for [`peak_rss_mib`] (Linux `clear_refs`).
#[allow(dead_code)]
pub fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// A TCP proxy that counts round trips to the server behind it: each time a client speaks
/// after the server (or first), one turn.
#[allow(dead_code)]
pub struct TurnCounter {
    pub addr: std::net::SocketAddr,
    pub turns: Arc<std::sync::atomic::AtomicU64>,
}

#[allow(dead_code)]
pub async fn turn_counter(target: std::net::SocketAddr) -> TurnCounter {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let turns = Arc::new(AtomicU64::new(0));
    let t = turns.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(target).await else { continue };
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let spoke = Arc::new(AtomicBool::new(false));
            let (t, client_spoke) = (t.clone(), spoke.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    if !client_spoke.swap(true, Ordering::SeqCst) {
                        t.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = sr.read(&mut buf).await {
                    spoke.store(false, Ordering::SeqCst);
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    TurnCounter { addr, turns }
}
