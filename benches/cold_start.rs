//! Cold start: from exec to the first answered GraphQL request, for the example app (`schema/`)
//! on an already-migrated database.
//!
//! `cargo bench --bench cold_start` migrates a fresh SQLite database once (and a PostgreSQL one
//! when `FERROBASE_TEST_DATABASE_URL` is set), then starts the release `ferrobase` on it
//! `FERROBASE_BENCH_RUNS` times (20), each time asking `{ posts(first: 1) { totalCount } }` as
//! soon as the port accepts (polling every 0.5 ms), and reports min / median / max.
//! `FERROBASE_BENCH_BIN` times another binary (an earlier build).

use ferrobase::testing::{TestBackend, TestDb};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[allow(dead_code)] // shared with the load benchmarks
mod common;

const SCHEMA: &str = include_str!("../schema/blog.graphql");

/// Starts the server and returns the time until it answered a GraphQL query.
fn time_to_first_answer(dir: &std::path::Path, url: &str) -> Duration {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let body = r#"{"query":"{ posts(first: 1) { totalCount } }"}"#;
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let start = Instant::now();
    let mut child = Command::new(common::server_binary())
        .args(["--listen", &addr, "--database-url", url])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--schema")
        .arg(dir.join("schema"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ferrobase");
    let elapsed = loop {
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            s.write_all(request.as_bytes()).expect("send");
            let mut answer = String::new();
            s.read_to_string(&mut answer).expect("read");
            assert!(answer.starts_with("HTTP/1.1 200") && answer.contains("totalCount"), "{answer}");
            break start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "ferrobase did not start");
        std::thread::sleep(Duration::from_micros(500));
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn bench(backend: TestBackend, runs: usize) {
    let dir = tempfile::tempdir().expect("tmp");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt.block_on(TestDb::create(backend, dir.path())).expect("db");
    std::fs::create_dir_all(dir.path().join("schema")).expect("schema dir");
    std::fs::write(dir.path().join("schema/blog.graphql"), SCHEMA).expect("schema");
    time_to_first_answer(dir.path(), &db.url); // migrates
    let mut times: Vec<Duration> = (0..runs).map(|_| time_to_first_answer(dir.path(), &db.url)).collect();
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    println!(
        "| {backend:?} | {} | {} | {} | {runs} |",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
    rt.block_on(db.drop_database());
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs = common::env_num("FERROBASE_BENCH_RUNS", 20);
    println!("| database | min | median | max | runs |\n|---|---|---|---|---|");
    bench(TestBackend::Sqlite, runs);
    if ferrobase::testing::postgres_url().is_some() {
        bench(TestBackend::Postgres, runs);
    } else {
        eprintln!("FERROBASE_TEST_DATABASE_URL is not set: timed SQLite only");
    }
}
