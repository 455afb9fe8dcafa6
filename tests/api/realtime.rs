//! Realtime: GraphQL subscriptions over WebSocket, both protocols, both databases.

use crate::common::*;
use crate::ws_client::{PROTOCOLS, Ws};
use serde_json::json;

#[tokio::test]
async fn created_updated_and_deleted_rows_reach_subscribers() {
    for backend in backends() {
        for protocol in PROTOCOLS {
            let s = TestServer::start(backend, BLOG).await;
            let author = create_user(&s, "ada@example.com").await;
            let mut ws = Ws::connect(&s.url, protocol, None).await;
            ws.subscribe("c", "subscription { postCreated { id title status } }", json!({})).await;
            ws.subscribe(
                "u",
                "subscription($f: PostFilter) { postUpdated(filter: $f) { title } }",
                json!({"f": {"status": {"eq": "PUBLISHED"}}}),
            )
            .await;
            ws.subscribe("d", "subscription { gone: postDeleted { id title } }", json!({})).await;
            // Subscriptions are registered in order; a query over the socket answers after them.
            ws.subscribe("q", "{ posts { totalCount } }", json!({})).await;
            assert_eq!(ws.next_data("q").await["data"]["posts"]["totalCount"], 0);
            assert_eq!(ws.recv().await["type"], "complete");

            let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
            let id = s.data(create, json!({"i": {"title": "One", "slug": "one", "authorId": author}})).await["createPost"]["id"].as_str().unwrap().to_string();
            let p = ws.next_data("c").await;
            assert_eq!(
                p,
                json!({"data": {"postCreated": {"id": id, "title": "One", "status": "DRAFT"}}}),
                "{backend:?} {protocol:?}"
            );

            let update = "mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { id } }";
            s.data(update, json!({"id": id, "i": {"title": "Draft still"}})).await;
            s.data(update, json!({"id": id, "i": {"title": "Out", "status": "PUBLISHED"}})).await;
            // The filter kept the first update out: the first result is the second update.
            assert_eq!(
                ws.next_data("u").await,
                json!({"data": {"postUpdated": {"title": "Out"}}}),
                "{backend:?} {protocol:?}"
            );

            s.data("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({"id": id})).await;
            assert_eq!(ws.next_data("d").await, json!({"data": {"gone": {"id": id, "title": "Out"}}}));
            s.finish().await;
        }
    }
}

const RULES: &str = include_str!("fixtures/rules.graphql");

/// A signed-in token with `roles` for a fresh user.
pub(crate) async fn user_with_roles(s: &TestServer, email: &str, roles: &[&str]) -> String {
    let (_, id) = sign_up(s, email).await;
    s.data(
        "mutation($u: ID!, $r: [String!]!) { setUserRoles(userId: $u, roles: $r) { id } }",
        json!({"u": id, "r": roles}),
    )
    .await;
    let r = s
        .gql_as(
            None,
            "mutation($e: String!) { signIn(email: $e, password: \"correct horse\") { accessToken } }",
            json!({"e": email}),
        )
        .await;
    r["data"]["signIn"]["accessToken"].as_str().unwrap().to_string()
}

async fn create_note(s: &TestServer, token: &str, title: &str, status: &str) -> String {
    let r = s
        .gql_as(
            Some(token),
            "mutation($t: String!, $s: Status!) { createNote(input: {title: $t, status: $s, secret: \"s3\"}) { id } }",
            json!({ "t": title, "s": status }),
        )
        .await;
    r["data"]["createNote"]["id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string()
}

#[tokio::test]
async fn subscribers_receive_only_what_their_rules_let_them_read() {
    for backend in backends() {
        for protocol in PROTOCOLS {
            let s = TestServer::start(backend, RULES).await;
            let (a, _) = sign_up(&s, "a@example.com").await;
            let (b, _) = sign_up(&s, "b@example.com").await;
            let editor = user_with_roles(&s, "editor@example.com", &["editor"]).await;
            let q = "subscription { noteCreated { title secret } }";
            let mut anon = Ws::connect(&s.url, protocol, None).await;
            let mut wa = Ws::connect(&s.url, protocol, Some(&a)).await;
            let mut wb = Ws::connect(&s.url, protocol, Some(&b)).await;
            let mut we = Ws::connect(&s.url, protocol, Some(&editor)).await;
            for ws in [&mut anon, &mut wa, &mut wb, &mut we] {
                ws.subscribe("n", q, json!({})).await;
                // A query after the subscription: answered once it is registered.
                ws.subscribe("sync", "{ __typename }", json!({})).await;
                ws.next_data("sync").await;
                assert_eq!(ws.recv().await["type"], "complete");
            }

            create_note(&s, &a, "a-draft", "DRAFT").await;
            // The owner reads it whole; the editor role reads it, but not the owner's field.
            assert_eq!(
                wa.next_data("n").await,
                json!({"data": {"noteCreated": {"title": "a-draft", "secret": "s3"}}}),
                "{backend:?} {protocol:?}"
            );
            let e = we.next_data("n").await;
            assert_eq!(e["data"], json!({"noteCreated": {"title": "a-draft", "secret": null}}), "{e}");
            assert_eq!(e["errors"][0]["extensions"]["code"], "FORBIDDEN", "{e}");
            assert_eq!(e["errors"][0]["path"], json!(["noteCreated", "secret"]), "{e}");

            create_note(&s, &a, "a-pub", "PUBLISHED").await;
            // B and anonymous callers' first delivery is the published note: the draft never reached them.
            for ws in [&mut anon, &mut wb] {
                let p = ws.next_data("n").await;
                assert_eq!(
                    p["data"],
                    json!({"noteCreated": {"title": "a-pub", "secret": null}}),
                    "{backend:?} {protocol:?}: {p}"
                );
                assert_eq!(p["errors"][0]["path"], json!(["noteCreated", "secret"]));
            }
            assert_eq!(wa.next_data("n").await["data"]["noteCreated"]["title"], "a-pub");
            assert_eq!(we.next_data("n").await["data"]["noteCreated"]["title"], "a-pub");

            // Nested fields under the subscriber's own rules: B's reply on A's draft.
            let nested = "subscription { replyCreated { body note { title } } }";
            wa.subscribe("r", nested, json!({})).await;
            wb.subscribe("r", nested, json!({})).await;
            for ws in [&mut wa, &mut wb] {
                ws.subscribe("sync2", "{ __typename }", json!({})).await;
                ws.next_data("sync2").await;
                assert_eq!(ws.recv().await["type"], "complete");
            }
            let draft = s.data("{ notes(filter: {title: {eq: \"a-draft\"}}) { nodes { id } } }", json!({})).await["notes"]["nodes"][0]["id"].clone();
            let r = s
                .gql_as(
                    Some(&b),
                    "mutation($n: ID!) { createReply(input: {noteId: $n, body: \"hi\"}) { id } }",
                    json!({"n": draft}),
                )
                .await;
            assert!(r.get("errors").is_none(), "{r}");
            assert_eq!(
                wa.next_data("r").await,
                json!({"data": {"replyCreated": {"body": "hi", "note": {"title": "a-draft"}}}})
            );
            let p = wb.next_data("r").await;
            assert_eq!(p["data"], json!({"replyCreated": {"body": "hi", "note": null}}), "{p}");
            assert_eq!(
                (p["errors"][0]["extensions"]["code"].clone(), p["errors"][0]["path"].clone()),
                (json!("FORBIDDEN"), json!(["replyCreated", "note"]))
            );

            // A caller no read rule applies to is refused at subscribe time.
            anon.subscribe("r", nested, json!({})).await;
            let m = anon.recv().await;
            assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some("error"), Some("r")), "{m}");
            assert_eq!(m["payload"][0]["extensions"]["code"], "UNAUTHENTICATED", "{m}");
            s.finish().await;
        }
    }
}

#[tokio::test]
async fn sockets_are_authenticated_and_follow_the_protocol() {
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| {
        c.access_token_ttl_secs = 2;
        c.max_subscriptions_per_socket = 2;
    })
    .await;
    for protocol in PROTOCOLS {
        // A bad token: 4403.
        let mut ws = Ws::open(&s.url, protocol).await;
        ws.init(Some("not-a-token")).await;
        let closed = ws.closed().await;
        assert_eq!(closed.0, 4403, "{protocol:?} {closed:?}");

        // Subscribing before connection_ack: 4401. A duplicate id: 4409. Garbage: 4400.
        let mut ws = Ws::open(&s.url, protocol).await;
        ws.subscribe("1", "subscription { postCreated { id } }", json!({})).await;
        assert_eq!(ws.closed().await.0, 4401, "{protocol:?}");
        let mut ws = Ws::connect(&s.url, protocol, Some(&s.key)).await;
        ws.subscribe("1", "subscription { postCreated { id } }", json!({})).await;
        ws.subscribe("1", "subscription { postCreated { id } }", json!({})).await;
        assert_eq!(ws.closed().await.0, 4409, "{protocol:?}");
        let mut ws = Ws::connect(&s.url, protocol, Some(&s.key)).await;
        ws.send(json!({"type": "nonsense"})).await;
        assert_eq!(ws.closed().await.0, 4400, "{protocol:?}");

        // A second connection_init: 4429.
        let mut ws = Ws::connect(&s.url, protocol, None).await;
        ws.init(None).await;
        assert_eq!(ws.closed().await.0, 4429, "{protocol:?}");

        // Invalid documents and too many subscriptions are errors for that operation only.
        let mut ws = Ws::connect(&s.url, protocol, Some(&s.key)).await;
        ws.subscribe("bad", "subscription { postCreated { nope } }", json!({})).await;
        let m = ws.recv().await;
        assert_eq!(
            (m["type"].as_str(), m["payload"][0]["extensions"]["code"].as_str()),
            (Some("error"), Some("BAD_USER_INPUT")),
            "{m}"
        );
        ws.subscribe("1", "subscription { postCreated { id } }", json!({})).await;
        ws.subscribe("2", "subscription { postDeleted { id } }", json!({})).await;
        ws.subscribe("3", "subscription { postUpdated { id } }", json!({})).await;
        let m = ws.recv().await;
        assert_eq!(m["id"], "3", "{m}");
        assert!(m["payload"][0]["message"].as_str().unwrap().contains("max_subscriptions_per_socket"), "{m}");
        // Completing one frees its place.
        ws.complete("2").await;
        if protocol == crate::ws_client::Protocol::Legacy {
            assert_eq!(ws.recv().await["type"], "complete");
        }
        ws.subscribe("3", "subscription { postUpdated { id } }", json!({})).await;
        ws.subscribe("sync", "{ __typename }", json!({})).await;
        assert_eq!(ws.next_data("sync").await["data"]["__typename"], "Query", "the third subscription was accepted");

        // A socket signed in with an access token is closed with 4403 when the token expires.
        let (token, _) = sign_up(&s, &format!("exp-{protocol:?}@example.com")).await;
        let mut ws = Ws::connect(&s.url, protocol, Some(&token)).await;
        let (code, reason) = ws.closed().await;
        assert_eq!(code, 4403, "{protocol:?}");
        assert!(reason.contains("expired"), "{reason}");
    }
    // Introspection shows the Subscription type.
    let r = s.data("{ __schema { subscriptionType { fields { name } } } }", json!({})).await;
    let names: Vec<&str> = r["__schema"]["subscriptionType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"postCreated") && names.contains(&"commentDeleted") && names.contains(&"categoryUpdated"),
        "{names:?}"
    );
    s.finish().await;
}

/// Raises this process's open-file limit to its hard limit (a test with many sockets).
fn raise_open_files() {
    // SAFETY: getrlimit/setrlimit read and write a plain struct.
    unsafe {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 && l.rlim_cur < l.rlim_max {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

/// A counter of `/metrics`.
async fn metric(s: &TestServer, name: &str) -> u64 {
    let text = s.client.get(format!("{}/metrics", s.url)).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[tokio::test]
async fn statements_per_event_do_not_grow_with_subscribers() {
    raise_open_files();
    for backend in backends() {
        let s = TestServer::start(backend, RULES).await;
        let (owner, owner_id) = sign_up(&s, "owner@example.com").await;
        let q = "subscription($p: String!) { noteCreated(filter: {title: {startsWith: $p}}) { title } }";
        // Subscriber 0 is the owner; the others are other signed-in users. Even ones follow
        // titles starting with "a", odd ones "b": one plan, each with its own identity and filter.
        let mut subscribers: Vec<Ws> = Vec::new();
        let mut per_event = Vec::new();
        for total in [10usize, 1000] {
            while subscribers.len() < total {
                let start = subscribers.len();
                let batch = (start..total.min(start + 100)).map(|i| {
                    let token = if i == 0 {
                        owner.clone()
                    } else {
                        s.state.jwt.issue(&format!("user-{i}"), &[], &serde_json::Map::new(), "s").0
                    };
                    let url = s.url.clone();
                    async move {
                        let mut ws = Ws::connect(&url, crate::ws_client::Protocol::TransportWs, Some(&token)).await;
                        ws.subscribe("n", q, json!({"p": if i % 2 == 0 { "a" } else { "b" }})).await;
                        ws.subscribe("sync", "{ __typename }", json!({})).await;
                        ws.next_data("sync").await;
                        ws.recv().await; // complete
                        ws
                    }
                });
                subscribers.extend(futures_util::future::join_all(batch).await);
            }
            let before = metric(&s, "ferrobase_subscription_statements_total").await;
            let title = format!("a-{total}");
            create_note(&s, &owner, &title, "PUBLISHED").await;
            for (i, ws) in subscribers.iter_mut().enumerate().filter(|(i, _)| i % 2 == 0) {
                assert_eq!(
                    ws.next_data("n").await["data"]["noteCreated"]["title"],
                    title.as_str(),
                    "{backend:?} subscriber {i}"
                );
            }
            per_event.push(metric(&s, "ferrobase_subscription_statements_total").await - before);
        }
        assert_eq!(per_event, vec![1, 1], "{backend:?}: one statement per event for 10 and for 1,000 subscribers");

        // The owner's draft reaches the owner only; a "b" title reaches odd subscribers only.
        create_note(&s, &owner, "a-draft", "DRAFT").await;
        create_note(&s, &owner, "b-pub", "PUBLISHED").await;
        assert_eq!(subscribers[0].next_data("n").await["data"]["noteCreated"]["title"], "a-draft");
        for (i, ws) in subscribers.iter_mut().enumerate().skip(1).step_by(2).take(20) {
            assert_eq!(ws.next_data("n").await["data"]["noteCreated"]["title"], "b-pub", "{backend:?} subscriber {i}");
        }
        // Other "a" subscribers never saw the draft: their next result is the next "a" note.
        create_note(&s, &owner, "a-last", "PUBLISHED").await;
        for (i, ws) in subscribers.iter_mut().enumerate().step_by(2).skip(1).take(20) {
            assert_eq!(ws.next_data("n").await["data"]["noteCreated"]["title"], "a-last", "{backend:?} subscriber {i}");
        }
        assert_eq!(metric(&s, "ferrobase_subscriptions_active").await, 1000);
        assert!(!owner_id.is_empty());
        s.finish().await;
    }
}

/// A change-pipeline consumer whose statement inside the write's transaction fails: every write
/// to Post rolls back.
struct FailingConsumer;

impl ferrobase::changes::Consumer for FailingConsumer {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn in_transaction_for(&self, model: &str) -> bool {
        model == "Post"
    }
    fn in_transaction(
        &self,
        _change: &ferrobase::changes::Change,
        _backend: sea_orm::DatabaseBackend,
    ) -> Vec<ferrobase::changes::TxStatement> {
        vec![ferrobase::changes::TxStatement {
            sql: "INSERT INTO no_such_table VALUES (1)".into(),
            values: sea_orm::sea_query::Values(vec![]),
        }]
    }
}

#[tokio::test]
async fn writes_that_fail_or_roll_back_are_never_delivered() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "ada@example.com").await;
        let mut ws = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, None).await;
        ws.subscribe("c", "subscription { categoryCreated { name } }", json!({})).await;
        ws.subscribe("p", "subscription { postCreated { title } }", json!({})).await;
        ws.subscribe("sync", "{ __typename }", json!({})).await;
        ws.next_data("sync").await;
        ws.recv().await;
        let category = "mutation($n: String!) { createCategory(input: {name: $n}) { id } }";
        s.data(category, json!({"n": "one"})).await;
        assert_eq!(ws.next_data("c").await["data"]["categoryCreated"]["name"], "one");
        // A conflict writes nothing, so delivers nothing.
        assert_eq!(error_code(&s.gql(category, json!({"n": "one"})).await), "CONFLICT");
        // A write rolled back inside its transaction delivers nothing either.
        s.state.changes.register(std::sync::Arc::new(FailingConsumer));
        let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
        let r = s.gql(create, json!({"i": {"title": "Lost", "slug": "lost", "authorId": author}})).await;
        assert_eq!(error_code(&r), "INTERNAL", "{r}");
        s.data(category, json!({"n": "two"})).await;
        // The next message is the second category: neither the conflict nor the rolled-back post.
        let m = ws.recv().await;
        assert_eq!(
            (m["id"].as_str(), m["payload"]["data"]["categoryCreated"]["name"].as_str()),
            (Some("c"), Some("two")),
            "{backend:?}: {m}"
        );
        assert_eq!(s.data("{ posts { totalCount } }", json!({})).await["posts"]["totalCount"], 0);
        s.finish().await;
    }
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let author = create_user(&s, "ada@example.com").await;
    let mut ws = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, None).await;
    ws.subscribe("p", "subscription { postCreated { body } }", json!({})).await;
    ws.subscribe("sync", "{ __typename }", json!({})).await;
    ws.next_data("sync").await;
    ws.recv().await;
    // The client reads no more; deliveries of 200 KB each pile up until the server drops it.
    let body = "x".repeat(200 * 1024);
    let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
    let mut n = 0;
    while metric(&s, "ferrobase_subscription_drops_total").await == 0 {
        assert!(n < 1000, "the slow subscriber was never dropped");
        s.data(create, json!({"i": {"title": "t", "slug": format!("s{n}"), "authorId": author, "body": body}})).await;
        n += 1;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while metric(&s, "ferrobase_websockets_open").await != 0 {
        assert!(std::time::Instant::now() < deadline, "the slow socket was not closed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(metric(&s, "ferrobase_subscriptions_active").await, 0);
    drop(ws);
    s.finish().await;
}

/// A burst is not a slow client: a delete that cascades to 300 comments delivers 300
/// `commentDeleted` results to one socket at once, and the subscriber gets them all.
#[tokio::test]
async fn a_burst_of_deliveries_reaches_a_subscriber_that_reads() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let author = create_user(&s, "ada@example.com").await;
    let post = s
        .data(
            "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }",
            json!({"i": {"title": "t", "slug": "burst", "authorId": author}}),
        )
        .await["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for batch in 0..10 {
        let fields: Vec<String> = (0..30)
            .map(|i| format!("c{i}: createComment(input: {{postId: \"{post}\", authorId: \"{author}\", body: \"b{batch}-{i}\"}}) {{ id }}"))
            .collect();
        s.data(&format!("mutation {{ {} }}", fields.join(" ")), json!({})).await;
    }
    let mut ws = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, None).await;
    ws.subscribe("d", "subscription { commentDeleted { id body } }", json!({})).await;
    ws.subscribe("sync", "{ __typename }", json!({})).await;
    ws.next_data("sync").await;
    ws.recv().await;
    s.data("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({"id": post})).await;
    let mut bodies = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let d = ws.next_data("d").await;
        bodies.insert(d["data"]["commentDeleted"]["body"].as_str().unwrap().to_string());
    }
    assert_eq!(bodies.len(), 300, "each comment once");
    assert_eq!(metric(&s, "ferrobase_subscription_drops_total").await, 0);
    drop(ws);
    s.finish().await;
}
