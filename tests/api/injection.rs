//! Hostile strings are data: through every String and ID filter operator, orderBy, cursors and
//! mutation values they match, sort and round-trip literally, and every table survives.

use crate::common::*;
use crate::crud::new_post;
use crate::validation::assert_no_internals;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// SQL, LIKE and escape metacharacters, placeholders, quotes and non-ASCII text (no NUL).
const HOSTILE: [&str; 22] = [
    "'; DROP TABLE posts; --",
    "\" OR 1=1 --",
    "%",
    "_",
    "\\",
    "%' OR '1'='1",
    "' OR ''='",
    "Robert'); DROP TABLE users;--",
    "1; SELECT pg_sleep(5); --",
    "x' UNION SELECT id, email FROM users --",
    "$1",
    "?",
    "`id`",
    "/* c */",
    "a%b",
    "a_b",
    "\\%",
    "'",
    "''",
    "ünïcødé ✓ 🚀 日本語",
    "\u{202e}evil\u{200b}",
    "line1\nline2\ttab",
];

/// Ordinary titles that contain some of the metacharacters literally.
const PLAIN: [&str; 5] = ["plain title", "100% sure", "snake_case", "back\\slash", "it's"];

fn titles() -> Vec<&'static str> {
    HOSTILE.iter().chain(PLAIN.iter()).copied().collect()
}

/// Seeds one post per title (slug `h<i>`, body = title) with one comment each (body = title);
/// returns the author's id.
async fn seed(s: &TestServer) -> String {
    let author = create_user(s, "victim@example.com").await;
    for (i, t) in titles().into_iter().enumerate() {
        let p = new_post(s, &author, &format!("h{i:02}"), json!({ "title": t, "body": t })).await;
        assert_eq!(p["title"], t, "{:?}: title round-trips", s.backend);
        s.data(
            "mutation($p: ID!, $a: ID!, $b: String!) { createComment(input: { postId: $p, authorId: $a, body: $b }) { id } }",
            json!({ "p": p["id"], "a": author, "b": t }),
        )
        .await;
    }
    author
}

/// Titles (as a set) of the posts `filter` selects; errors fail the test.
async fn matching(s: &TestServer, filter: Value) -> BTreeSet<String> {
    let r = s
        .gql(
            "query($f: PostFilter) { posts(filter: $f, first: 100) { totalCount nodes { title } } }",
            json!({ "f": filter }),
        )
        .await;
    assert!(r.get("errors").is_none(), "{:?}: filter {filter} failed: {r:#}", s.backend);
    let nodes = r["data"]["posts"]["nodes"].as_array().unwrap();
    assert_eq!(r["data"]["posts"]["totalCount"], nodes.len(), "{:?}: {filter}", s.backend);
    nodes.iter().map(|n| n["title"].as_str().unwrap().to_string()).collect()
}

fn set(items: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    items.into_iter().map(Into::into).collect()
}

/// Titles for which `keep` holds.
fn where_title(keep: impl Fn(&str) -> bool) -> BTreeSet<String> {
    set(titles().into_iter().filter(|t| keep(t)))
}

/// Every table still exists with every seeded row.
async fn assert_intact(s: &TestServer) {
    let n = titles().len();
    let r = s.data("{ posts { totalCount } comments { totalCount } categories { totalCount } }", json!({})).await;
    assert_eq!(r["posts"]["totalCount"], n, "{:?}: posts survive", s.backend);
    assert_eq!(r["comments"]["totalCount"], n, "{:?}: comments survive", s.backend);
    let authors = s.data("{ posts(first: 1) { nodes { author { email } } } }", json!({})).await;
    assert_eq!(authors["posts"]["nodes"][0]["author"]["email"], "victim@example.com", "{:?}: users survive", s.backend);
}

#[tokio::test]
async fn hostile_strings_through_every_string_operator() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        seed(&s).await;
        let everything = where_title(|_| true);
        for h in HOSTILE {
            let cases = [
                ("eq", json!(h), where_title(|t| t == h)),
                ("ne", json!(h), where_title(|t| t != h)),
                ("in", json!([h, "plain title"]), where_title(|t| t == h || t == "plain title")),
                ("notIn", json!([h]), where_title(|t| t != h)),
                ("contains", json!(h), where_title(|t| t.contains(h))),
                ("startsWith", json!(h), where_title(|t| t.starts_with(h))),
                ("endsWith", json!(h), where_title(|t| t.ends_with(h))),
            ];
            for (op, value, want) in cases {
                for field in ["title", "body"] {
                    let got = matching(&s, json!({ field: { op: value } })).await;
                    assert_eq!(got, want, "{backend:?}: {field} {op} {h:?}");
                }
            }
            // lt/gte and lte/gt each split the posts in two around the literal value (the
            // order itself is the database's collation).
            let lt = matching(&s, json!({ "title": { "lt": h } })).await;
            let gte = matching(&s, json!({ "title": { "gte": h } })).await;
            let lte = matching(&s, json!({ "title": { "lte": h } })).await;
            let gt = matching(&s, json!({ "title": { "gt": h } })).await;
            assert!(lt.is_disjoint(&gte) && &lt | &gte == everything, "{backend:?}: lt/gte {h:?}: {lt:?} {gte:?}");
            assert!(lte.is_disjoint(&gt) && &lte | &gt == everything, "{backend:?}: lte/gt {h:?}: {lte:?} {gt:?}");
            assert!(gte.contains(h) && lte.contains(h) && !lt.contains(h) && !gt.contains(h), "{backend:?}: {h:?}");
            assert_eq!(&lte - &lt, set([h]), "{backend:?}: only the equal title is in lte but not lt ({h:?})");
            // Through relations and hasMany filters too.
            let via_comments = matching(&s, json!({ "comments": { "some": { "body": { "eq": h } } } })).await;
            assert_eq!(via_comments, set([h]), "{backend:?}: comments.some.body eq {h:?}");
            let via_author = matching(&s, json!({ "author": { "email": { "contains": h } } })).await;
            assert_eq!(via_author, set(Vec::<String>::new()), "{backend:?}: author.email contains {h:?}");
        }
        // LIKE wildcards are literal characters.
        let pct = matching(&s, json!({ "title": { "contains": "%" } })).await;
        assert_eq!(pct, set(["%", "%' OR '1'='1", "a%b", "\\%", "100% sure"]), "{backend:?}");
        let under = matching(&s, json!({ "title": { "contains": "_" } })).await;
        assert_eq!(under, set(["_", "a_b", "snake_case", "1; SELECT pg_sleep(5); --"]), "{backend:?}");
        let slash = matching(&s, json!({ "title": { "endsWith": "\\" } })).await;
        assert_eq!(slash, set(["\\"]), "{backend:?}");
        assert_intact(&s).await;
        s.finish().await;
    }
}

#[tokio::test]
async fn hostile_strings_through_every_id_operator() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        seed(&s).await;
        let everything = where_title(|_| true);
        let none = BTreeSet::new();
        for h in HOSTILE {
            for field in ["id", "authorId", "categoryId"] {
                for (op, value, want) in [
                    ("eq", json!(h), &none),
                    ("in", json!([h]), &none),
                    ("notIn", json!([h]), if field == "categoryId" { &none } else { &everything }),
                    ("ne", json!(h), if field == "categoryId" { &none } else { &everything }),
                ] {
                    let got = matching(&s, json!({ field: { op: value } })).await;
                    assert_eq!(&got, want, "{backend:?}: {field} {op} {h:?}");
                }
            }
            let lt = matching(&s, json!({ "id": { "lt": h } })).await;
            let gte = matching(&s, json!({ "id": { "gte": h } })).await;
            let lte = matching(&s, json!({ "id": { "lte": h } })).await;
            let gt = matching(&s, json!({ "id": { "gt": h } })).await;
            assert!(lt.is_disjoint(&gte) && &lt | &gte == everything, "{backend:?}: id lt/gte {h:?}");
            assert_eq!((&lt, &gt), (&lte, &gte), "{backend:?}: no id equals {h:?}");
            let r = s.gql("query($id: ID!) { post(id: $id) { id } }", json!({ "id": h })).await;
            assert_eq!(r, json!({ "data": { "post": null } }), "{backend:?}: post(id: {h:?})");
        }
        assert_intact(&s).await;
        s.finish().await;
    }
}

const PAGE: &str = "query($order: [PostOrderBy!], $first: Int, $after: String) {
  posts(orderBy: $order, first: $first, after: $after) { edges { cursor node { id title } } }
}";

fn page_titles(r: &Value) -> Vec<String> {
    assert!(r.get("errors").is_none(), "{r:#}");
    r["data"]["posts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_string())
        .collect()
}

/// `cursor` (base64url JSON) with each JSON value `from` replaced by `to`; `None` unless every
/// swap found its value.
fn forge(cursor: &str, swaps: &[(&Value, Value)]) -> Option<String> {
    fn walk(v: &mut Value, from: &Value, to: &Value) -> usize {
        match v {
            Value::Array(items) => items.iter_mut().map(|i| walk(i, from, to)).sum(),
            Value::Object(map) => map.values_mut().map(|i| walk(i, from, to)).sum(),
            _ if v == from => {
                *v = to.clone();
                1
            }
            _ => 0,
        }
    }
    let mut body: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    for (from, to) in swaps {
        if walk(&mut body, from, to) == 0 {
            return None;
        }
    }
    Some(URL_SAFE_NO_PAD.encode(body.to_string()))
}

#[tokio::test]
async fn hostile_order_by_and_cursors() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        seed(&s).await;
        let by_title = json!([{ "title": "ASC" }]);
        let full = s.gql(PAGE, json!({ "order": by_title, "first": 100 })).await;
        let all = page_titles(&full);
        assert_eq!(set(all.clone()), where_title(|_| true), "{backend:?}");

        // orderBy only takes declared fields and ASC/DESC.
        for order in [
            json!([{ "title": "ASC; DROP TABLE posts; --" }]),
            json!([{ "title; DROP TABLE posts; --": "ASC" }]),
            json!([{ "title": "ASC", "id\" DESC --": "DESC" }]),
            json!("title"),
        ] {
            let r = s.gql(PAGE, json!({ "order": order, "first": 5 })).await;
            assert!(r["errors"][0]["message"].is_string(), "{backend:?}: orderBy {order} must fail: {r}");
            assert_no_internals(&r);
        }
        // A hostile string where a cursor goes.
        for h in HOSTILE {
            let r = s.gql(PAGE, json!({ "order": by_title, "first": 5, "after": h })).await;
            assert_eq!(error_code(&r), "BAD_USER_INPUT", "{backend:?}: after {h:?}: {r}");
            assert_no_internals(&r);
        }
        // The real cursor of each row (which holds the hostile title) pages on literally.
        for (i, edge) in full["data"]["posts"]["edges"].as_array().unwrap().iter().enumerate() {
            let r = s.gql(PAGE, json!({ "order": by_title, "first": 100, "after": edge["cursor"] })).await;
            assert_eq!(page_titles(&r), all[i + 1..], "{backend:?}: after the cursor of {:?}", all[i]);
        }
        // A cursor forged from a real one, its key values replaced by hostile ones: either
        // rejected, or its values compared as plain data.
        let edges = full["data"]["posts"]["edges"].as_array().unwrap();
        let plain = edges.iter().find(|e| e["node"]["title"] == "plain title").unwrap();
        for h in HOSTILE {
            let swaps = [(&plain["node"]["title"], json!(h)), (&plain["node"]["id"], json!("' OR 1=1 --"))];
            let Some(forged) = forge(plain["cursor"].as_str().unwrap(), &swaps) else {
                eprintln!("{backend:?}: cursors are not base64url JSON holding the key values; skipped forging");
                break;
            };
            let r = s.gql(PAGE, json!({ "order": by_title, "first": 100, "after": forged })).await;
            if r.get("errors").is_some() {
                assert_eq!(error_code(&r), "BAD_USER_INPUT", "{backend:?}: forged cursor {h:?}: {r}");
                assert_no_internals(&r);
            } else {
                // No id sorts before "'", so the row titled `h` itself and all after it follow.
                let at = all.iter().position(|t| t == h).unwrap();
                assert_eq!(page_titles(&r), all[at..], "{backend:?}: forged cursor {h:?}");
            }
        }
        assert_intact(&s).await;
        s.finish().await;
    }
}

#[tokio::test]
async fn hostile_strings_round_trip_as_mutation_values() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = seed(&s).await;
        let read = "query($id: ID!) { post(id: $id) { title body slug tags meta category { name } comments { nodes { body } } } }";
        let update = "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { title body tags meta } }";
        let ids = s.data("{ posts(first: 100, orderBy: [{slug: ASC}]) { nodes { id title } } }", json!({})).await;
        let ids = ids["posts"]["nodes"].as_array().unwrap().clone();
        for (i, h) in HOSTILE.iter().enumerate() {
            let id = &ids[i]["id"];
            assert_eq!(ids[i]["title"], *h, "{backend:?}: seeded title");
            let cat = s
                .data("mutation($n: String!) { createCategory(input: { name: $n }) { id name } }", json!({ "n": h }))
                .await;
            assert_eq!(cat["createCategory"]["name"], *h, "{backend:?}: category name");
            let input = json!({
                "title": format!("{h}!"), "body": h, "tags": [h, "plain"], "meta": { *h: h }, "categoryId": cat["createCategory"]["id"],
            });
            let updated = s.data(update, json!({ "id": id, "input": input })).await["updatePost"].clone();
            assert_eq!(
                updated,
                json!({ "title": format!("{h}!"), "body": h, "tags": [h, "plain"], "meta": { *h: h } }),
                "{backend:?}"
            );
            let back = s.data(read, json!({ "id": id })).await["post"].clone();
            assert_eq!(back["title"], format!("{h}!"), "{backend:?}");
            assert_eq!(back["body"], *h, "{backend:?}");
            assert_eq!(back["tags"], json!([h, "plain"]), "{backend:?}");
            assert_eq!(back["meta"], json!({ *h: h }), "{backend:?}");
            assert_eq!(back["category"]["name"], *h, "{backend:?}");
            assert_eq!(back["comments"]["nodes"], json!([{ "body": h }]), "{backend:?}");
            // The stored value is found again by an exact filter.
            let found =
                matching(&s, json!({ "title": { "eq": format!("{h}!") }, "category": { "name": { "eq": h } } })).await;
            assert_eq!(found, set([format!("{h}!")]), "{backend:?}");
        }
        // A hostile slug is just a unique value, and a hostile id is just a missing row.
        for (i, h) in HOSTILE.iter().enumerate() {
            let p = new_post(&s, &author, h, json!({ "title": format!("slug {i}") })).await;
            assert_eq!(p["slug"], *h, "{backend:?}");
            let r = s.gql("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({ "id": h })).await;
            assert_eq!(error_code(&r), "NOT_FOUND", "{backend:?}: deletePost(id: {h:?}): {r}");
        }
        let r = s.data("{ posts { totalCount } comments { totalCount } categories { totalCount } }", json!({})).await;
        assert_eq!(r["posts"]["totalCount"], titles().len() + HOSTILE.len(), "{backend:?}");
        assert_eq!(r["comments"]["totalCount"], titles().len(), "{backend:?}");
        assert_eq!(r["categories"]["totalCount"], HOSTILE.len(), "{backend:?}");
        s.finish().await;
    }
}
