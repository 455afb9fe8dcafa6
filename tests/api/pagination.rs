//! Cursor pagination: page sizes, walking every page forward and backward under several
//! orderings (with NULLs and ties), cursor validation, and pages of nested connections.

use crate::common::*;
use crate::crud::new_post;
use serde_json::{Value, json};
use std::cmp::Ordering;

const PAGE: &str = "query($order: [PostOrderBy!], $first: Int, $after: String, $last: Int, $before: String) {
  posts(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug } }
    nodes { slug }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

/// One seeded post, as the expected orderings see it.
#[derive(Debug, Clone)]
struct Row {
    slug: &'static str,
    id: String,
    views: i64,
    rating: Option<f64>,
    published: Option<&'static str>,
    featured: bool,
}

type Seed = (&'static str, i64, Option<f64>, Option<&'static str>, bool);

/// `(slug, views, rating, publishedAt, featured)`, in creation order (so the id order is
/// d, a, f, c, g, b, e).
const SEED: [Seed; 7] = [
    ("d", 2, None, None, false),
    ("a", 3, None, Some("2026-03-01T00:00:00.000000Z"), true),
    ("f", 1, Some(2.5), Some("2026-02-01T00:00:00.000000Z"), false),
    ("c", 3, Some(2.5), Some("2026-01-01T00:00:00.000000Z"), true),
    ("g", 2, Some(9.0), None, true),
    ("b", 1, Some(2.5), None, false),
    ("e", 3, Some(1.0), Some("2026-03-01T00:00:00.000000Z"), false),
];

async fn seed(s: &TestServer) -> Vec<Row> {
    let author = create_user(s, "pager@example.com").await;
    let mut rows = Vec::new();
    for (slug, views, rating, published, featured) in SEED {
        let extra = json!({ "views": views, "rating": rating, "publishedAt": published, "featured": featured });
        let p = new_post(s, &author, slug, extra).await;
        rows.push(Row { slug, id: p["id"].as_str().unwrap().to_string(), views, rating, published, featured });
    }
    rows
}

#[derive(Debug, Clone, Copy)]
enum Key {
    Views,
    Rating,
    Published,
    Featured,
    Slug,
}

/// An ordering as `(key, descending)` pairs; `id` ASC is always appended by the server.
type Order = &'static [(Key, bool)];

fn order_by(order: Order) -> Value {
    let items: Vec<Value> = order
        .iter()
        .map(|(k, desc)| {
            let name = match k {
                Key::Views => "views",
                Key::Rating => "rating",
                Key::Published => "publishedAt",
                Key::Featured => "featured",
                Key::Slug => "slug",
            };
            json!({ name: if *desc { "DESC" } else { "ASC" } })
        })
        .collect();
    json!(items)
}

/// The slugs in the order the server must return them: NULL is the smallest value (first
/// ascending, last descending), and ties are broken by id ascending.
fn expected(rows: &[Row], order: Order) -> Vec<&'static str> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| {
        for (k, desc) in order {
            let o = match k {
                Key::Views => a.views.cmp(&b.views),
                Key::Rating => a.rating.partial_cmp(&b.rating).unwrap(),
                Key::Published => a.published.cmp(&b.published),
                Key::Featured => a.featured.cmp(&b.featured),
                Key::Slug => a.slug.cmp(b.slug),
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.id.cmp(&b.id)
    });
    rows.iter().map(|r| r.slug).collect()
}

/// The slugs of a connection's `nodes`, checked against its `edges`, with `startCursor` and
/// `endCursor` checked against the edge cursors.
fn slugs(conn: &Value) -> Vec<String> {
    let nodes: Vec<String> =
        conn["nodes"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_string()).collect();
    let edges = conn["edges"].as_array().unwrap();
    let via_edges: Vec<&str> = edges.iter().map(|e| e["node"]["slug"].as_str().unwrap()).collect();
    assert_eq!(nodes, via_edges, "nodes and edges disagree: {conn}");
    let info = &conn["pageInfo"];
    assert_eq!(info["startCursor"], edges.first().map(|e| e["cursor"].clone()).unwrap_or(Value::Null), "{conn}");
    assert_eq!(info["endCursor"], edges.last().map(|e| e["cursor"].clone()).unwrap_or(Value::Null), "{conn}");
    nodes
}

fn page_info(conn: &Value) -> (bool, bool) {
    let info = &conn["pageInfo"];
    (info["hasNextPage"].as_bool().unwrap(), info["hasPreviousPage"].as_bool().unwrap())
}

async fn page(
    s: &TestServer,
    order: &Value,
    first: Option<usize>,
    after: &Value,
    last: Option<usize>,
    before: &Value,
) -> Value {
    let vars = json!({ "order": order, "first": first, "after": after, "last": last, "before": before });
    s.data(PAGE, vars).await["posts"].clone()
}

/// Walks every page with `first: size` / `after`, checking each page and its pageInfo.
async fn walk_forward(s: &TestServer, order: &Value, size: usize, full: &[&str]) {
    let n = full.len();
    let mut after = Value::Null;
    let mut start = 0;
    let mut seen: Vec<String> = Vec::new();
    for step in 0..=n {
        let conn = page(s, order, Some(size), &after, None, &Value::Null).await;
        let got = slugs(&conn);
        let ctx = format!("{:?}: forward, orderBy {order}, first {size}, page {step}", s.backend);
        assert_eq!(got, full[start..(start + size).min(n)], "{ctx}");
        assert_eq!(page_info(&conn), (start + size < n, step > 0), "{ctx}: (hasNextPage, hasPreviousPage)");
        assert_eq!(conn["totalCount"], n, "{ctx}");
        seen.extend(got);
        start += size;
        if start >= n {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, full, "{:?}: forward pages of {size} concatenate to the whole list", s.backend);
}

/// Walks every page from the end with `last: size` / `before`.
async fn walk_backward(s: &TestServer, order: &Value, size: usize, full: &[&str]) {
    let n = full.len();
    let mut before = Value::Null;
    let mut end = n;
    let mut seen: Vec<String> = Vec::new();
    for step in 0..=n {
        let conn = page(s, order, None, &Value::Null, Some(size), &before).await;
        let got = slugs(&conn);
        let ctx = format!("{:?}: backward, orderBy {order}, last {size}, page {step}", s.backend);
        let start = end.saturating_sub(size);
        assert_eq!(got, full[start..end], "{ctx}");
        assert_eq!(page_info(&conn), (step > 0, start > 0), "{ctx}: (hasNextPage, hasPreviousPage)");
        seen.splice(0..0, got);
        end = start;
        if end == 0 {
            break;
        }
        before = conn["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(seen, full, "{:?}: backward pages of {size} concatenate to the whole list", s.backend);
}

const ORDERINGS: [Order; 10] = [
    &[],
    &[(Key::Views, true)],
    &[(Key::Rating, false)],
    &[(Key::Rating, true)],
    &[(Key::Rating, false), (Key::Views, true)],
    &[(Key::Views, false), (Key::Rating, true)],
    &[(Key::Published, true)],
    &[(Key::Published, false), (Key::Views, false)],
    &[(Key::Featured, true), (Key::Rating, true)],
    &[(Key::Slug, true)],
];

#[tokio::test]
async fn every_page_forward_and_backward_under_each_ordering() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let rows = seed(&s).await;
        for order in ORDERINGS {
            let full = expected(&rows, order);
            let ob = order_by(order);
            let all = page(&s, &ob, Some(100), &Value::Null, None, &Value::Null).await;
            assert_eq!(slugs(&all), full, "{backend:?}: orderBy {ob}");
            assert_eq!(page_info(&all), (false, false), "{backend:?}: orderBy {ob}");
            for size in [1, 2, 3, 7] {
                walk_forward(&s, &ob, size, &full).await;
                walk_backward(&s, &ob, size, &full).await;
            }
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn nulls_sort_first_ascending_last_descending_and_ties_break_by_id() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let rows = seed(&s).await;
        let mut ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        let creation: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, creation, "{backend:?}: UUIDv7 ids sort in creation order");
        let cases: [(Value, [&str; 7]); 5] = [
            (json!([]), ["d", "a", "f", "c", "g", "b", "e"]),
            (json!([{ "rating": "ASC" }]), ["d", "a", "e", "f", "c", "b", "g"]),
            (json!([{ "rating": "DESC" }]), ["g", "f", "c", "b", "e", "d", "a"]),
            (json!([{ "rating": "DESC" }, { "views": "DESC" }]), ["g", "c", "f", "b", "e", "a", "d"]),
            (json!([{ "publishedAt": "DESC" }, { "rating": "ASC" }]), ["a", "e", "f", "c", "d", "b", "g"]),
        ];
        for (ob, want) in cases {
            let all = page(&s, &ob, None, &Value::Null, None, &Value::Null).await;
            assert_eq!(slugs(&all), want, "{backend:?}: orderBy {ob}");
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn edge_cursors_work_as_after_and_before() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let rows = seed(&s).await;
        let order: Order = &[(Key::Rating, false), (Key::Views, true)];
        let (ob, full) = (order_by(order), expected(&rows, order));
        let all = page(&s, &ob, None, &Value::Null, None, &Value::Null).await;
        for (i, edge) in all["edges"].as_array().unwrap().iter().enumerate() {
            let cursor = &edge["cursor"];
            let after = page(&s, &ob, Some(2), cursor, None, &Value::Null).await;
            assert_eq!(slugs(&after), full[i + 1..(i + 3).min(full.len())], "{backend:?}: 2 after edge {i}");
            assert_eq!(page_info(&after), (i + 3 < full.len(), true), "{backend:?}: after edge {i}");
            let before = page(&s, &ob, None, &Value::Null, Some(2), cursor).await;
            assert_eq!(slugs(&before), full[i.saturating_sub(2)..i], "{backend:?}: 2 before edge {i}");
            assert_eq!(page_info(&before), (true, i > 2), "{backend:?}: before edge {i}");
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn default_page_size_maximum_and_zero() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "many@example.com").await;
        for i in 0..25 {
            new_post(&s, &author, &format!("p{i:02}"), json!({})).await;
        }
        let none = Value::Null;
        let default = page(&s, &json!(null), None, &none, None, &none).await;
        assert_eq!(slugs(&default).len(), 20, "{backend:?}: default page size");
        assert_eq!(page_info(&default), (true, false), "{backend:?}");
        assert_eq!(default["totalCount"], 25, "{backend:?}");
        let rest = page(&s, &json!(null), None, &default["pageInfo"]["endCursor"], None, &none).await;
        assert_eq!(slugs(&rest).len(), 5, "{backend:?}: the default applies after a cursor too");
        assert_eq!(page_info(&rest), (false, true), "{backend:?}");

        assert_eq!(
            slugs(&page(&s, &json!(null), Some(100), &none, None, &none).await).len(),
            25,
            "{backend:?}: first: 100"
        );
        assert_eq!(
            slugs(&page(&s, &json!(null), None, &none, Some(100), &none).await).len(),
            25,
            "{backend:?}: last: 100"
        );
        for (args, what) in [
            (json!({ "first": 101 }), "first above the maximum"),
            (json!({ "last": 101 }), "last above the maximum"),
            (json!({ "first": -1 }), "negative first"),
            (json!({ "last": -1 }), "negative last"),
        ] {
            let r = s.gql(PAGE, args).await;
            assert_eq!(error_code(&r), "BAD_USER_INPUT", "{backend:?}: {what}: {r}");
            assert_eq!(r["data"], Value::Null, "{backend:?}: {what}: {r}");
        }
        let nested = s.gql("{ posts(first: 1) { nodes { comments(first: 101) { totalCount } } } }", json!({})).await;
        assert_eq!(error_code(&nested), "BAD_USER_INPUT", "{backend:?}: nested first above the maximum: {nested}");

        // first: 0 is an empty page that still says more rows follow; last: 0 likewise backward.
        let zero = page(&s, &json!(null), Some(0), &none, None, &none).await;
        assert_eq!(slugs(&zero), Vec::<String>::new(), "{backend:?}");
        assert_eq!(page_info(&zero), (true, false), "{backend:?}: first: 0");
        assert_eq!(zero["pageInfo"]["startCursor"], Value::Null, "{backend:?}");
        assert_eq!(zero["totalCount"], 25, "{backend:?}");
        let zero_back = page(&s, &json!(null), None, &none, Some(0), &none).await;
        assert_eq!(slugs(&zero_back), Vec::<String>::new(), "{backend:?}");
        assert_eq!(page_info(&zero_back), (false, true), "{backend:?}: last: 0");

        // After the last row: an empty page.
        let all = page(&s, &json!(null), Some(100), &none, None, &none).await;
        let end = page(&s, &json!(null), Some(10), &all["pageInfo"]["endCursor"], None, &none).await;
        assert_eq!(slugs(&end), Vec::<String>::new(), "{backend:?}");
        assert_eq!(page_info(&end), (false, true), "{backend:?}: after the last row");
        s.finish().await;
    }
}

/// The endCursor of the first page of two under `order`.
async fn end_cursor(s: &TestServer, order: Value) -> Value {
    page(s, &order, Some(2), &Value::Null, None, &Value::Null).await["pageInfo"]["endCursor"].clone()
}

/// The codes (or the page of slugs) each `(orderBy, cursor, what)` case gets as `after` and
/// as `before`, for the cases that are not `BAD_USER_INPUT`.
async fn not_rejected(s: &TestServer, cases: Vec<(Value, Value, &str)>) -> Vec<String> {
    let none = Value::Null;
    let mut problems = Vec::new();
    for (ob, cursor, what) in cases {
        for (first, after, last, before) in [(Some(2), &cursor, None, &none), (None, &none, Some(2), &cursor)] {
            let r = s
                .gql(PAGE, json!({ "order": ob, "first": first, "after": after, "last": last, "before": before }))
                .await;
            if r.get("errors").is_none() || error_code(&r) != "BAD_USER_INPUT" {
                let dir = if first.is_some() { "after" } else { "before" };
                let got = match r.get("errors") {
                    Some(e) => format!("error {e}"),
                    None => format!("a page: {:?}", slugs(&r["data"]["posts"])),
                };
                problems.push(format!("{:?}: {what}, as {dir} with orderBy {ob}: {got}", s.backend));
            }
        }
    }
    problems
}

#[tokio::test]
async fn malformed_cursors_are_bad_user_input() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let rows = seed(&s).await;
        let by_id = end_cursor(&s, json!([])).await;
        let by_views = end_cursor(&s, json!([{ "views": "ASC" }])).await;
        let cases = vec![
            (json!(null), json!("not a cursor"), "garbage"),
            (json!(null), json!(""), "empty string"),
            (json!(null), json!(rows[0].id), "a row id"),
            (json!(null), json!("W10"), "base64 of []"),
            (json!([{ "views": "ASC" }]), by_id, "a cursor without the views key"),
            (json!([]), by_views.clone(), "a cursor with an extra key"),
            (json!([{ "slug": "ASC" }]), by_views, "an Int where slug is a String"),
        ];
        let problems = not_rejected(&s, cases).await;
        assert!(problems.is_empty(), "cursors that should be BAD_USER_INPUT:\n{}", problems.join("\n"));
        s.finish().await;
    }
}

#[tokio::test]
async fn a_cursor_from_another_order_by_is_bad_user_input() {
    let mut problems = Vec::new();
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        seed(&s).await;
        let by_views = end_cursor(&s, json!([{ "views": "ASC" }])).await;
        let by_slug = end_cursor(&s, json!([{ "slug": "ASC" }])).await;
        let by_rating_views = end_cursor(&s, json!([{ "rating": "ASC" }, { "views": "DESC" }])).await;
        let cases = vec![
            (json!([{ "views": "DESC" }]), by_views.clone(), "a {views: ASC} cursor, same key in the other direction"),
            (json!([{ "rating": "ASC" }]), by_views, "a {views: ASC} cursor, another key of a compatible type"),
            (json!([{ "title": "ASC" }]), by_slug, "a {slug: ASC} cursor, another String key"),
            (
                json!([{ "views": "DESC" }, { "rating": "ASC" }]),
                by_rating_views,
                "a [{rating: ASC}, {views: DESC}] cursor, keys swapped",
            ),
        ];
        problems.extend(not_rejected(&s, cases).await);
        s.finish().await;
    }
    assert!(problems.is_empty(), "cursors from another orderBy must be BAD_USER_INPUT:\n{}", problems.join("\n"));
}

#[tokio::test]
async fn cursors_stay_valid_when_rows_come_and_go() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let rows = seed(&s).await;
        let order: Order = &[(Key::Views, false)];
        let (ob, full) = (order_by(order), expected(&rows, order));
        let first = page(&s, &ob, Some(3), &Value::Null, None, &Value::Null).await;
        assert_eq!(slugs(&first), full[..3], "{backend:?}");
        // A new row that sorts first and the deletion of the cursor's own row shift nothing.
        let author = create_user(&s, "late@example.com").await;
        new_post(&s, &author, "new", json!({ "views": 0 })).await;
        let cursor_row = rows.iter().find(|r| r.slug == full[2]).unwrap();
        s.data("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({ "id": cursor_row.id })).await;
        let next = page(&s, &ob, Some(3), &first["pageInfo"]["endCursor"], None, &Value::Null).await;
        assert_eq!(slugs(&next), full[3..6], "{backend:?}: the page after the cursor is unchanged");
        let back = page(&s, &ob, None, &Value::Null, Some(2), &first["pageInfo"]["endCursor"]).await;
        assert_eq!(slugs(&back), full[..2], "{backend:?}: rows before the cursor");
        s.finish().await;
    }
}

const NESTED: &str = "query($first: Int, $after: String, $last: Int, $before: String, $only: [String!]) {
  posts(filter: { slug: { in: $only } }, orderBy: [{slug: ASC}]) {
    nodes {
      slug
      comments(orderBy: [{body: ASC}], first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { body } }
        nodes { body }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}";

/// `(slug, bodies, hasNextPage, hasPreviousPage, totalCount)` of each post of a NESTED result.
fn nested_pages(data: &Value) -> Vec<(String, Vec<String>, bool, bool, i64)> {
    data["posts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let c = &p["comments"];
            let bodies: Vec<String> =
                c["nodes"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_string()).collect();
            let via_edges: Vec<&str> =
                c["edges"].as_array().unwrap().iter().map(|e| e["node"]["body"].as_str().unwrap()).collect();
            assert_eq!(bodies, via_edges, "{c}");
            let (next, prev) = page_info(c);
            (p["slug"].as_str().unwrap().to_string(), bodies, next, prev, c["totalCount"].as_i64().unwrap())
        })
        .collect()
}

fn want(items: &[(&str, &[&str], bool, bool, i64)]) -> Vec<(String, Vec<String>, bool, bool, i64)> {
    items
        .iter()
        .map(|(slug, bodies, next, prev, total)| {
            (slug.to_string(), bodies.iter().map(|b| b.to_string()).collect(), *next, *prev, *total)
        })
        .collect()
}

#[tokio::test]
async fn nested_connections_page_per_parent() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "nest@example.com").await;
        let mut ids = Vec::new();
        for slug in ["n1", "n2", "n3"] {
            ids.push(new_post(&s, &author, slug, json!({})).await["id"].clone());
        }
        // Created out of order so that body order differs from id order.
        for (post, body) in [(0, "c3"), (0, "c1"), (1, "d1"), (0, "c5"), (0, "c2"), (0, "c4")] {
            s.data(
                "mutation($p: ID!, $a: ID!, $b: String!) { createComment(input: { postId: $p, authorId: $a, body: $b }) { id } }",
                json!({ "p": ids[post], "a": author, "b": body }),
            )
            .await;
        }
        let all = json!(["n1", "n2", "n3"]);
        let n1 = json!(["n1"]);

        // Each parent gets its own first page.
        let r = s.data(NESTED, json!({ "first": 2, "only": all })).await;
        assert_eq!(
            nested_pages(&r),
            want(&[
                ("n1", &["c1", "c2"], true, false, 5),
                ("n2", &["d1"], false, false, 1),
                ("n3", &[], false, false, 0)
            ]),
            "{backend:?}: first: 2 per parent"
        );
        assert_eq!(r["posts"]["nodes"][2]["comments"]["pageInfo"]["startCursor"], Value::Null, "{backend:?}");

        // Walk n1's comments forward with after.
        let mut after = Value::Null;
        let mut pages = Vec::new();
        for _ in 0..5 {
            let r = s.data(NESTED, json!({ "first": 2, "after": after, "only": n1 })).await;
            let p = nested_pages(&r).remove(0);
            let more = p.2;
            pages.push(p);
            if !more {
                break;
            }
            after = r["posts"]["nodes"][0]["comments"]["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(
            pages,
            want(&[
                ("n1", &["c1", "c2"], true, false, 5),
                ("n1", &["c3", "c4"], true, true, 5),
                ("n1", &["c5"], false, true, 5)
            ]),
            "{backend:?}: nested forward walk"
        );

        // last / before on the nested connection.
        let r = s.data(NESTED, json!({ "last": 2, "only": all })).await;
        assert_eq!(
            nested_pages(&r),
            want(&[
                ("n1", &["c4", "c5"], false, true, 5),
                ("n2", &["d1"], false, false, 1),
                ("n3", &[], false, false, 0)
            ]),
            "{backend:?}: last: 2 per parent"
        );
        let mut before = r["posts"]["nodes"][0]["comments"]["pageInfo"]["startCursor"].clone();
        let mut pages = Vec::new();
        for _ in 0..5 {
            let r = s.data(NESTED, json!({ "last": 2, "before": before, "only": n1 })).await;
            let p = nested_pages(&r).remove(0);
            let more = p.3;
            pages.push(p);
            if !more {
                break;
            }
            before = r["posts"]["nodes"][0]["comments"]["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(
            pages,
            want(&[("n1", &["c2", "c3"], true, true, 5), ("n1", &["c1"], true, false, 5)]),
            "{backend:?}: nested backward walk"
        );

        // An edge cursor of a nested page works as after, and first: 0 is empty.
        let r = s.data(NESTED, json!({ "first": 5, "only": n1 })).await;
        let third = r["posts"]["nodes"][0]["comments"]["edges"][2]["cursor"].clone();
        let r = s.data(NESTED, json!({ "first": 1, "after": third, "only": n1 })).await;
        assert_eq!(
            nested_pages(&r),
            want(&[("n1", &["c4"], true, true, 5)]),
            "{backend:?}: after a nested edge cursor"
        );
        let r = s.data(NESTED, json!({ "first": 0, "only": all })).await;
        assert_eq!(
            nested_pages(&r),
            want(&[("n1", &[], true, false, 5), ("n2", &[], true, false, 1), ("n3", &[], false, false, 0)]),
            "{backend:?}: nested first: 0"
        );
        let bad = s.gql(NESTED, json!({ "first": 2, "after": "nope", "only": n1 })).await;
        assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{backend:?}: invalid nested cursor: {bad}");
        s.finish().await;
    }
}
