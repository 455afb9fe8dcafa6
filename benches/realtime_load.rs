//! Realtime load: N concurrent subscribers on one instance (the release binary, in its own
//! process), half signed-in users whose deliveries need the owner rule, half anonymous, all
//! subscribed to the same `noteCreated` document; then mutations. Reports:
//! - connect rate: WebSocket handshake + `connection_init` + `subscribe` registered, per second;
//! - memory per idle subscription: the server's RSS after all subscribed minus before, ÷ N;
//! - mutation-to-delivery latency, p50 / p99 / max, measured to EVERY subscriber that should
//!   receive the event (the client's clock: the HTTP mutation sent → the message read);
//! - SQL statements per event (from the server's `/metrics`), and server CPU per event.
//!
//! Events alternate: a public note (every subscriber receives it) and a private note of one
//! user (only that user's socket receives it; the multiplexed statement still checks the owner
//! rule for every signed-in subscriber). Each event waits for all its deliveries (closed loop).
//!
//! Knobs: `FERROBASE_BENCH_SUBSCRIBERS` (20000, capped by this process's open-file limit),
//! `FERROBASE_BENCH_EVENTS` (40), `FERROBASE_BENCH_BACKEND` (`sqlite` | `postgres`; PostgreSQL
//! needs `FERROBASE_TEST_DATABASE_URL`), `FERROBASE_BENCH_BIN` (another ferrobase binary).
//! Run: `cargo bench --bench realtime_load`.

#[allow(dead_code)] // shared with the other benchmarks
mod common;

use common::{env_num, pct, proc_cpu, start_server};
use ferrobase::testing::{TestBackend, TestDb};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const SCHEMA: &str = r#"
type Note @model @auth(rules: [
  { allow: owner }
  { allow: public, operations: [read], where: { shared: { eq: true } } }
]) {
  title: String!
  shared: Boolean! @default(value: false)
}
"#;

const SECRET: &str = "bench-jwt-secret-0123456789abcdef0123456789abcdef";
const QUERY: &str = "subscription { noteCreated { id title shared } }";

/// Raises this process's open-file limit to its hard limit; returns the limit.
fn raise_open_files() -> u64 {
    // SAFETY: getrlimit/setrlimit read and write a plain struct.
    unsafe {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut l);
        l.rlim_cur = l.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        l.rlim_cur
    }
}

/// Resident memory of a process now (`VmRSS`), in KiB.
fn rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// What every subscriber task records: per event, when it was sent (µs since `start`), and the
/// latencies of its deliveries.
struct Shared {
    start: Instant,
    sent_at: Vec<AtomicU64>,
    received: Vec<AtomicUsize>,
    latencies: std::sync::Mutex<Vec<Vec<Duration>>>,
}

async fn metric(client: &reqwest::Client, url: &str, name: &str) -> f64 {
    let text = client.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// One subscriber: connects, initialises (with `token`), subscribes, reports ready, then records
/// the latency of each event it receives.
async fn subscriber(url: String, token: Option<String>, shared: Arc<Shared>, ready: tokio::sync::mpsc::Sender<()>) {
    let mut request = format!("{}/graphql", url.replace("http://", "ws://")).into_client_request().unwrap();
    request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await.expect("connect");
    let payload = match &token {
        Some(t) => json!({"Authorization": format!("Bearer {t}")}),
        None => json!({}),
    };
    ws.send(Message::Text(json!({"type": "connection_init", "payload": payload}).to_string().into())).await.unwrap();
    ws.send(Message::Text(json!({"id": "n", "type": "subscribe", "payload": {"query": QUERY}}).to_string().into()))
        .await
        .unwrap();
    // Answered after the subscription is registered.
    ws.send(Message::Text(
        json!({"id": "s", "type": "subscribe", "payload": {"query": "{ __typename }"}}).to_string().into(),
    ))
    .await
    .unwrap();
    // Until the subscription is registered, messages as a client reads them.
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let v: Value = serde_json::from_str(&text).unwrap_or_default();
        if v["type"] == "complete" && v["id"] == "s" {
            break;
        }
    }
    let _ = ready.send(()).await;
    // Then the deliveries, read off the socket as cheaply as this process can (it shares the 2
    // cores with the server it measures): no frame decoding or JSON parsing, only the event
    // number in each delivered `"title":"e<N>-x"`, timed when its bytes are read. (The server's
    // keep-alive pings need no answer.)
    let MaybeTlsStream::Plain(mut stream) = ws.into_inner() else { unreachable!("plain TCP") };
    let mut buf = vec![0u8; 4096];
    let mut kept = 0;
    loop {
        let n = match stream.read(&mut buf[kept..]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = shared.start.elapsed();
        let end = kept + n;
        let (events, rest) = delivered_events(&buf[..end]);
        for i in events {
            if let Some(sent) = shared.sent_at.get(i) {
                let sent = Duration::from_micros(sent.load(Ordering::Acquire));
                shared.latencies.lock().unwrap()[i].push(now.saturating_sub(sent));
                shared.received[i].fetch_add(1, Ordering::AcqRel);
            }
        }
        // A delivery cut off by the end of this read is completed by the next.
        buf.copy_within(rest..end, 0);
        kept = end - rest;
    }
}

/// What each delivery carries: `"title":"e<N>-`.
const MARKER: &[u8] = b"\"title\":\"e";

/// The event numbers delivered in `bytes`, and where the bytes worth keeping for the next read
/// start (a marker that may be cut off).
fn delivered_events(bytes: &[u8]) -> (Vec<usize>, usize) {
    let mut events = Vec::new();
    let mut at = 0;
    while let Some(p) = bytes[at..].windows(MARKER.len()).position(|w| w == MARKER) {
        let digits = at + p + MARKER.len();
        let len = bytes[digits..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits + len >= bytes.len() {
            return (events, at + p); // cut off: read again
        }
        let n: Option<usize> = std::str::from_utf8(&bytes[digits..digits + len]).ok().and_then(|d| d.parse().ok());
        events.extend(n);
        at = digits + len;
    }
    (events, at.max(bytes.len().saturating_sub(MARKER.len())))
}

async fn bench(backend: TestBackend) {
    let limit = raise_open_files();
    let wanted = env_num("FERROBASE_BENCH_SUBSCRIBERS", 20_000);
    // The server and this process each hold one socket per subscriber, plus a few files.
    let n = wanted.min(limit.saturating_sub(100) as usize);
    if n < wanted {
        eprintln!("open-file limit {limit}: {n} subscribers instead of {wanted}");
    }
    let events = env_num("FERROBASE_BENCH_EVENTS", 40);
    let dir = tempfile::tempdir().unwrap();
    let tdb = TestDb::create(backend, dir.path()).await.expect("db");
    let server = start_server(
        dir.path(),
        &tdb.url,
        SCHEMA,
        &[("FERROBASE_JWT_SECRET", SECRET), ("FERROBASE_MAX_BATCH_SIZE", "10")],
    )
    .await;
    let pid = server.child.id();
    let db = ferrobase::db::connect(&tdb.url).await.expect("connect");
    let users = common::seed_users(&db, n / 2, "sub").await;
    let jwt = ferrobase::auth::jwt::JwtKeys::new(SECRET, 24 * 3600);
    let client = reqwest::Client::new();
    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_at: (0..events).map(|_| AtomicU64::new(0)).collect(),
        received: (0..events).map(|_| AtomicUsize::new(0)).collect(),
        latencies: std::sync::Mutex::new(vec![Vec::new(); events]),
    });
    // Warm up, then the baseline memory.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = rss_kib(pid);

    let ready = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let connecting = Arc::new(tokio::sync::Semaphore::new(256));
    for i in 0..n {
        let token = (i % 2 == 0).then(|| jwt.issue(&users[i / 2], &[], &serde_json::Map::new(), "bench").0);
        let (url, shared, ready) = (server.url.clone(), shared.clone(), ready.clone());
        let permit = connecting.clone().acquire_owned().await.unwrap();
        tokio::spawn(async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(1);
            let task = tokio::spawn(subscriber(url, token, shared, tx));
            if rx.recv().await.is_some() {
                ready.fetch_add(1, Ordering::AcqRel);
            }
            drop(permit);
            let _ = task.await;
        });
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    while ready.load(Ordering::Acquire) < n {
        assert!(Instant::now() < deadline, "only {} of {n} subscribers ready", ready.load(Ordering::Acquire));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let connect_secs = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = rss_kib(pid);
    let active = metric(&client, &server.url, "ferrobase_subscriptions_active").await;
    assert_eq!(active as usize, n, "every subscription registered");

    // Events: even ones public (everyone), odd ones a private note of one user (one delivery).
    let stmts_before = metric(&client, &server.url, "ferrobase_subscription_statements_total").await;
    let cpu_before = proc_cpu(pid);
    let me = std::process::id();
    let client_cpu_before = proc_cpu(me);
    let t_events = Instant::now();
    let mut timeouts = 0;
    for e in 0..events {
        let public = e % 2 == 0;
        let owner = &users[(e * 7919) % users.len()];
        let input = json!({"title": format!("e{e}-x"), "shared": public, "ownerId": owner});
        let expected = if public { n } else { 1 };
        shared.sent_at[e].store(shared.start.elapsed().as_micros() as u64, Ordering::Release);
        let r: Value = client
            .post(format!("{}/graphql", server.url))
            .bearer_auth(&server.key)
            .json(&json!({"query": "mutation($i: CreateNoteInput!) { createNote(input: $i) { id } }", "variables": {"i": input}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r.get("errors").is_none(), "{r}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while shared.received[e].load(Ordering::Acquire) < expected {
            if Instant::now() > deadline {
                timeouts += 1;
                eprintln!(
                    "event {e}: {} of {expected} deliveries after 30 s",
                    shared.received[e].load(Ordering::Acquire)
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let events_secs = t_events.elapsed().as_secs_f64();
    let cpu = proc_cpu(pid) - cpu_before;
    let client_cpu = proc_cpu(me) - client_cpu_before;
    let stmts = metric(&client, &server.url, "ferrobase_subscription_statements_total").await - stmts_before;
    let drops = metric(&client, &server.url, "ferrobase_subscription_drops_total").await;

    let all: Vec<Vec<Duration>> = shared.latencies.lock().unwrap().clone();
    let mut public_lat: Vec<Duration> = all.iter().step_by(2).flatten().copied().collect();
    let mut private_lat: Vec<Duration> = all.iter().skip(1).step_by(2).flatten().copied().collect();
    public_lat.sort();
    private_lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "\n## {backend:?}: {n} subscribers ({} signed in, owner rule; {} anonymous), {events} events\n",
        n / 2,
        n - n / 2
    );
    println!("| measure | value |\n|---|---|");
    println!(
        "| connect rate (handshake + init + subscribe registered) | {:.0} subscribers/s ({connect_secs:.1} s for {n}) |",
        n as f64 / connect_secs
    );
    println!(
        "| server RSS: before → all subscribed, idle | {:.1} → {:.1} MiB |",
        rss_before / 1024.0,
        rss_idle / 1024.0
    );
    println!("| memory per idle subscription | {:.1} KiB |", (rss_idle - rss_before) / n as f64);
    println!(
        "| public event → every subscriber: first · p50 · p99 · max | {:.1} · {:.1} · {:.1} · {:.1} ms ({} deliveries) |",
        ms(*public_lat.first().unwrap_or(&Duration::ZERO)),
        ms(pct(&public_lat, 0.5)),
        ms(pct(&public_lat, 0.99)),
        ms(*public_lat.last().unwrap_or(&Duration::ZERO)),
        public_lat.len()
    );
    if !private_lat.is_empty() {
        println!(
            "| private event → its owner: p50 · p99 | {:.1} · {:.1} ms ({} deliveries) |",
            ms(pct(&private_lat, 0.5)),
            ms(pct(&private_lat, 0.99)),
            private_lat.len()
        );
    }
    println!("| SQL statements per event | {:.2} |", stmts / events as f64);
    println!(
        "| CPU per event: server · this load generator (same 2 cores) | {:.1} · {:.1} ms |",
        cpu * 1000.0 / events as f64,
        client_cpu * 1000.0 / events as f64
    );
    println!("| events per second (closed loop) | {:.1} |", events as f64 / events_secs);
    println!("| slow subscribers dropped · events short of deliveries | {drops} · {timeouts} |");
    drop(server);
    db.close().await.ok();
    tdb.drop_database().await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let backend = match std::env::var("FERROBASE_BENCH_BACKEND").ok().as_deref() {
        Some(b) if b.eq_ignore_ascii_case("postgres") => TestBackend::Postgres,
        _ => TestBackend::Sqlite,
    };
    bench(backend).await;
}
