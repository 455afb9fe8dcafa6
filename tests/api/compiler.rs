//! The query compiler as a client sees it: compiled plans reused across requests (with the
//! request's own values), response fields in query order, one round trip per statement.

use crate::common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A counter of `/metrics`.
async fn metric(s: &TestServer, name: &str) -> u64 {
    let text = s.client.get(format!("{}/metrics", s.url)).send().await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {text}"))
}

/// The raw text of a response (key order intact).
async fn raw(s: &TestServer, token: Option<&str>, query: &str, variables: Value) -> String {
    let mut req = s.client.post(format!("{}/graphql", s.url)).json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("request").text().await.expect("text")
}

async fn seed_posts(s: &TestServer, author: &str, titles: &[(&str, i64)]) {
    for (i, (title, views)) in titles.iter().enumerate() {
        s.data(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({ "i": { "title": title, "slug": format!("{title}-{i}"), "views": views, "authorId": author } }),
        )
        .await;
    }
}

#[tokio::test]
async fn repeated_requests_reuse_the_compiled_plan_with_their_own_values() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "plan@example.com").await;
        seed_posts(&s, &author, &[("alpha", 1), ("beta", 5), ("gamma", 9)]).await;
        let q = "query($min: Int, $dir: OrderDirection) { posts(filter: {views: {gte: $min}}, orderBy: [{views: $dir}]) { nodes { title } } }";
        let titles = |d: &Value| -> Vec<String> {
            d["posts"]["nodes"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string()).collect()
        };
        let compiled = metric(&s, "ferrobase_plans_compiled_total").await;
        let reused = metric(&s, "ferrobase_plan_cache_hits_total").await;

        let d = s.data(q, json!({ "min": 2, "dir": "ASC" })).await;
        assert_eq!(titles(&d), ["beta", "gamma"], "{backend:?}");
        assert_eq!(metric(&s, "ferrobase_plans_compiled_total").await, compiled + 1, "{backend:?}: compiled once");
        // The same plan, new values: nothing compiled, the new value bound.
        let d = s.data(q, json!({ "min": 6, "dir": "ASC" })).await;
        assert_eq!(titles(&d), ["gamma"], "{backend:?}");
        let d = s.data(q, json!({ "min": 0, "dir": "ASC" })).await;
        assert_eq!(titles(&d), ["alpha", "beta", "gamma"], "{backend:?}");
        assert_eq!(metric(&s, "ferrobase_plans_compiled_total").await, compiled + 1, "{backend:?}: reused");
        assert_eq!(metric(&s, "ferrobase_plan_cache_hits_total").await, reused + 2, "{backend:?}");
        // A direction is part of the statement: another plan, and the right order.
        let d = s.data(q, json!({ "min": 0, "dir": "DESC" })).await;
        assert_eq!(titles(&d), ["gamma", "beta", "alpha"], "{backend:?}");
        let d = s.data(q, json!({ "min": 0, "dir": "ASC" })).await;
        assert_eq!(titles(&d), ["alpha", "beta", "gamma"], "{backend:?}: each direction keeps its own plan");
        // A page size is part of the statement too (a LIMIT the planner sees).
        let page = "query($n: Int) { posts(first: $n) { nodes { id } pageInfo { hasNextPage } } }";
        for (n, more) in [(1, true), (2, true), (3, false), (1, true), (5, false)] {
            let d = s.data(page, json!({ "n": n })).await;
            assert_eq!(d["posts"]["nodes"].as_array().unwrap().len(), n.min(3), "{backend:?}: first {n}");
            assert_eq!(d["posts"]["pageInfo"]["hasNextPage"], more, "{backend:?}: first {n}");
        }
        let r = s.gql(page, json!({ "n": 101 })).await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{backend:?}: {r}");
        let compiled = compiled + 5; // n = 1, 2, 3, 5, and 101 (whose plan is its error)
        // A null changes the statement's shape (no condition): another plan.
        let d = s.data(q, json!({ "min": null, "dir": "ASC" })).await;
        assert_eq!(titles(&d).len(), 3, "{backend:?}");
        assert_eq!(metric(&s, "ferrobase_plans_compiled_total").await, compiled + 3, "{backend:?}");

        // Another caller profile compiles its own plan (anonymous callers get public rules).
        let anon = s.gql_as(None, q, json!({ "min": 6, "dir": "ASC" })).await;
        assert_eq!(titles(&anon["data"]), ["gamma"], "{backend:?}: {anon}");
        assert_eq!(metric(&s, "ferrobase_plans_compiled_total").await, compiled + 4, "{backend:?}");

        // An empty page still knows its total: none match, or the page is past the end.
        let d = s
            .data(
                "{ posts(filter: {title: {eq: \"nothing\"}}) { totalCount nodes { id } pageInfo { hasNextPage } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            d["posts"],
            json!({ "totalCount": 0, "nodes": [], "pageInfo": { "hasNextPage": false } }),
            "{backend:?}"
        );
        let end =
            s.data("{ posts(first: 3) { pageInfo { endCursor } } }", json!({})).await["posts"]["pageInfo"]["endCursor"]
                .clone();
        let d = s
            .data(
                "query($c: String) { posts(after: $c) { totalCount nodes { id } pageInfo { hasPreviousPage } } }",
                json!({ "c": end }),
            )
            .await;
        assert_eq!(
            d["posts"],
            json!({ "totalCount": 3, "nodes": [], "pageInfo": { "hasPreviousPage": true } }),
            "{backend:?}"
        );
        // A bad value in a cached plan's variables is the client's error, not ours.
        let r = s.gql(q, json!({ "min": 2, "dir": "ASC" })).await;
        assert!(r.get("errors").is_none(), "{r}");
        let r = s.gql(q, json!({ "min": 3_000_000_000i64, "dir": "ASC" })).await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{backend:?}: {r}");
        let r = s
            .gql("query($s: Status) { posts(filter: {status: {eq: $s}}) { totalCount } }", json!({ "s": "DRAFT" }))
            .await;
        assert_eq!(r["data"]["posts"]["totalCount"], 3, "{backend:?}: {r}");
        let r = s
            .gql("query($s: Status) { posts(filter: {status: {eq: $s}}) { totalCount } }", json!({ "s": "BOGUS" }))
            .await;
        assert_eq!(error_code(&r), "BAD_USER_INPUT", "{backend:?}: an unknown enum value: {r}");
        s.finish().await;
    }
}

#[tokio::test]
async fn in_lists_of_any_length_are_one_statement() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "in@example.com").await;
        seed_posts(&s, &author, &[("a", 1), ("b", 2), ("c", 3)]).await;
        let ids: Vec<String> = s.data("{ posts { nodes { id } } }", json!({})).await["posts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_string())
            .collect();
        let q = "query($ids: [ID!]) { posts(filter: {id: {in: $ids}}) { totalCount } }";
        for n in [1usize, 3, 500] {
            let mut list: Vec<String> = ids.iter().take(n).cloned().collect();
            list.extend((list.len()..n).map(|i| format!("missing-{i}")));
            let before = s.statements();
            let d = s.data(q, json!({ "ids": list })).await;
            assert_eq!(d["posts"]["totalCount"], n.min(3) as i64, "{backend:?} {n}");
            assert_eq!(s.statements() - before, 1, "{backend:?}: {n} ids, one statement");
        }
        let d = s
            .data(
                "query($ids: [ID!]) { posts(filter: {id: {notIn: $ids}}) { totalCount } }",
                json!({ "ids": [ids[0]] }),
            )
            .await;
        assert_eq!(d["posts"]["totalCount"], 2, "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn responses_keep_the_order_of_the_query_fields() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "order@example.com").await;
        seed_posts(&s, &author, &[("a", 1)]).await;
        // Compiled roots (run side by side) answer in query order, every time.
        for _ in 0..5 {
            let text = raw(
                &s,
                Some(&s.key),
                "{ z: posts { totalCount } y: categories { totalCount } x: posts { nodes { t: title i: id } } }",
                json!({}),
            )
            .await;
            let (z, y, x) = (text.find("\"z\"").unwrap(), text.find("\"y\"").unwrap(), text.find("\"x\"").unwrap());
            assert!(z < y && y < x, "{backend:?}: {text}");
            assert!(text.find("\"t\"").unwrap() < text.find("\"i\"").unwrap(), "{text}");
        }
        // So do operations the general executor runs (a root field that is not a model's).
        let text =
            raw(&s, Some(&s.key), "{ z: posts { totalCount } me { id } a: categories { totalCount } }", json!({}))
                .await;
        let (z, me, a) = (text.find("\"z\"").unwrap(), text.find("\"me\"").unwrap(), text.find("\"a\"").unwrap());
        assert!(z < me && me < a, "{backend:?}: {text}");
        s.finish().await;
    }
}

/// A TCP proxy in front of PostgreSQL that counts round trips: each time the client speaks
/// after the server has (or first), one turn.
struct RoundTrips {
    addr: std::net::SocketAddr,
    turns: Arc<AtomicU64>,
}

async fn proxy(target: std::net::SocketAddr) -> RoundTrips {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let turns = Arc::new(AtomicU64::new(0));
    let t = turns.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(target).await.expect("connect to PostgreSQL");
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let client_spoke = Arc::new(AtomicBool::new(false));
            let (t, spoke) = (t.clone(), client_spoke.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    if !spoke.swap(true, Ordering::SeqCst) {
                        t.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = sr.read(&mut buf).await {
                    client_spoke.store(false, Ordering::SeqCst);
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    RoundTrips { addr, turns }
}

#[tokio::test]
async fn a_root_field_is_one_round_trip_to_postgresql() {
    let Some(base) = ferrobase::testing::postgres_url() else {
        eprintln!("FERROBASE_TEST_DATABASE_URL is not set: skipped PostgreSQL round trips");
        return;
    };
    let target: std::net::SocketAddr = {
        let host = base.split('@').nth(1).and_then(|h| h.split('/').next()).unwrap_or("127.0.0.1:5432");
        tokio::net::lookup_host(if host.contains(':') { host.to_string() } else { format!("{host}:5432") })
            .await
            .expect("PostgreSQL host")
            .next()
            .expect("an address")
    };
    let rt = proxy(target).await;
    let proxied = rt.addr;
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Postgres, BLOG, move |c| {
        // Only the compiled statements' pool goes through the proxy; one connection, so each
        // statement is prepared once and then only executed.
        let url = c.database_url.replacen(&target.to_string(), &proxied.to_string(), 1);
        c.database_url = url;
        c.database_pool_size = Some(1);
        // Changes for other instances go out on a connection of their own, off the request
        // path (one NOTIFY per write); this test counts the request path's round trips.
        c.realtime_cluster = false;
    })
    .await;
    let author = create_user(&s, "rt@example.com").await;
    seed_posts(&s, &author, &[("a", 1), ("b", 2)]).await;
    let id = s.data("{ posts(first: 1) { nodes { id } } }", json!({})).await["posts"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let workloads: [(&str, Value); 4] = [
        ("query($id: ID!) { post(id: $id) { id title views createdAt } }", json!({ "id": id })),
        ("{ posts(first: 20, orderBy: [{createdAt: DESC}]) { nodes { id title author { id } } } }", json!({})),
        (
            "{ posts(first: 20) { totalCount nodes { title author { id } comments(first: 10) { nodes { body author { id } } } } } }",
            json!({}),
        ),
        (
            "mutation($p: ID!) { createComment(input: {postId: $p, authorId: $a, body: \"hi\"}) { id } }",
            json!({ "p": id }),
        ),
    ];
    for (query, vars) in workloads.iter() {
        let query = query.replace("$a", &format!("\"{author}\""));
        s.data(&query, vars.clone()).await; // prepares the statement on the connection
        let before = rt.turns.load(Ordering::SeqCst);
        for _ in 0..10 {
            s.data(&query, vars.clone()).await;
        }
        let turns = rt.turns.load(Ordering::SeqCst) - before;
        assert_eq!(turns, 10, "one round trip per request: {query}");
    }
    s.finish().await;
}
