//! Every operator of every filter type, `and`/`or`/`not`, relation filters and filters on nested
//! connections — each checked against the exact set of rows it must select.
//!
//! The seeded posts (named by slug; times in UTC after the input offset is applied):
//!
//! | slug     | title     | body          | status    | views | rating | featured | publishedAt       | author | category |
//! |----------|-----------|---------------|-----------|-------|--------|----------|-------------------|--------|----------|
//! | alpha    | Alpha     | "hello world" | PUBLISHED | 10    | 4.5    | true     | 2026-01-01 08:00  | ada    | Rust     |
//! | alphabet | Alphabet  | ""            | PUBLISHED | 100   | 4.5    | false    | 2026-02-01 00:00  | bo     | —        |
//! | beta     | Beta      | "Hello World" | DRAFT     | 0     | 2.25   | false    | 2026-01-01 09:00  | ada    | Go       |
//! | delta    | Delta     | "world"       | DRAFT     | 5     | -1.5   | true     | 2026-01-01 00:30  | bo     | —        |
//! | gamma    | Gamma ray | null          | PUBLISHED | 25    | null   | false    | null              | bo     | Rust     |
//!
//! Comments: alpha ← "great" (bo), "meh" (ada); beta ← "great" (ada); delta ← "spam" (bo).
//!
//! Titles are capitalised letters so that `lt`/`gt` give the same answer under any collation.

use crate::common::*;
use crate::crud::new_post;
use ferrobase::testing::TestBackend;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const ALL: [&str; 5] = ["alpha", "alphabet", "beta", "delta", "gamma"];
const ADA: &str = "ada@example.com";
const BO: &str = "bo@example.com";

struct Blog {
    s: TestServer,
    ada: String,
    bo: String,
    rust: String,
    go: String,
    /// Post id by slug.
    ids: BTreeMap<&'static str, String>,
    /// Post createdAt by slug.
    created: BTreeMap<&'static str, String>,
}

async fn create_category(s: &TestServer, name: &str) -> String {
    let r = s.data("mutation($n: String!) { createCategory(input: { name: $n }) { id } }", json!({ "n": name })).await;
    r["createCategory"]["id"].as_str().unwrap().to_string()
}

async fn create_comment(s: &TestServer, post: &str, author: &str, body: &str) {
    s.data(
        "mutation($p: ID!, $a: ID!, $b: String!) { createComment(input: { postId: $p, authorId: $a, body: $b }) { id } }",
        json!({ "p": post, "a": author, "b": body }),
    )
    .await;
}

async fn seed(backend: TestBackend) -> Blog {
    let s = TestServer::start(backend, BLOG).await;
    let ada = create_user(&s, ADA).await;
    let bo = create_user(&s, BO).await;
    let rust = create_category(&s, "Rust").await;
    let go = create_category(&s, "Go").await;
    let rows: [(&'static str, &str, Value); 5] = [
        (
            "alpha",
            &ada,
            json!({ "title": "Alpha", "body": "hello world", "status": "PUBLISHED", "views": 10, "rating": 4.5,
                    "featured": true, "publishedAt": "2026-01-01T10:00:00+02:00", "categoryId": rust }),
        ),
        (
            "alphabet",
            &bo,
            json!({ "title": "Alphabet", "body": "", "status": "PUBLISHED", "views": 100, "rating": 4.5,
                    "publishedAt": "2026-02-01T00:00:00Z" }),
        ),
        (
            "beta",
            &ada,
            json!({ "title": "Beta", "body": "Hello World", "status": "DRAFT", "views": 0, "rating": 2.25,
                    "featured": false, "publishedAt": "2026-01-01T09:00:00Z", "categoryId": go }),
        ),
        (
            "delta",
            &bo,
            json!({ "title": "Delta", "body": "world", "views": 5, "rating": -1.5, "featured": true,
                    "publishedAt": "2025-12-31T23:30:00-01:00" }),
        ),
        ("gamma", &bo, json!({ "title": "Gamma ray", "status": "PUBLISHED", "views": 25, "categoryId": rust })),
    ];
    let mut ids = BTreeMap::new();
    let mut created = BTreeMap::new();
    for (slug, author, extra) in rows {
        let p = new_post(&s, author, slug, extra).await;
        ids.insert(slug, p["id"].as_str().unwrap().to_string());
        created.insert(slug, p["createdAt"].as_str().unwrap().to_string());
    }
    create_comment(&s, &ids["alpha"], &bo, "great").await;
    create_comment(&s, &ids["alpha"], &ada, "meh").await;
    create_comment(&s, &ids["beta"], &ada, "great").await;
    create_comment(&s, &ids["delta"], &bo, "spam").await;
    Blog { s, ada, bo, rust, go, ids, created }
}

impl Blog {
    /// Slugs (sorted) of the posts `filter` selects, checking that `totalCount` agrees; or the
    /// response when it is an error.
    async fn try_slugs(&self, filter: &Value) -> Result<Vec<String>, String> {
        let r = self
            .s
            .gql(
                "query($f: PostFilter) { posts(filter: $f, first: 100) { totalCount nodes { slug } } }",
                json!({ "f": filter }),
            )
            .await;
        if r.get("errors").is_some() {
            return Err(format!("error {}", r["errors"]));
        }
        let conn = &r["data"]["posts"];
        let mut slugs: Vec<String> =
            conn["nodes"].as_array().unwrap().iter().map(|n| n["slug"].as_str().unwrap().to_string()).collect();
        if conn["totalCount"] != slugs.len() {
            return Err(format!("totalCount {} for {} nodes", conn["totalCount"], slugs.len()));
        }
        slugs.sort();
        Ok(slugs)
    }

    /// Asserts each `(filter, expected slugs)` case, reporting every case that fails.
    async fn expect_all(&self, cases: Vec<(Value, Vec<&str>)>) {
        let mut failures = Vec::new();
        for (filter, expected) in cases {
            match self.try_slugs(&filter).await {
                Ok(got) if got == expected => {}
                Ok(got) => failures.push(format!("{filter}\n    expected {expected:?}\n    got      {got:?}")),
                Err(e) => failures.push(format!("{filter}\n    expected {expected:?}\n    got      {e}")),
            }
        }
        assert!(
            failures.is_empty(),
            "{:?}: {} filters failed:\n{}",
            self.s.backend,
            failures.len(),
            failures.join("\n")
        );
    }
}

/// `ALL` without `except`.
fn all_but(except: &[&str]) -> Vec<&'static str> {
    ALL.into_iter().filter(|s| !except.contains(s)).collect()
}

#[tokio::test]
async fn string_filter_every_operator() {
    for backend in backends() {
        let b = seed(backend).await;
        b.expect_all(vec![
            (json!({ "title": { "eq": "Beta" } }), vec!["beta"]),
            (json!({ "title": { "eq": "beta" } }), vec![]),
            (json!({ "title": { "ne": "Beta" } }), all_but(&["beta"])),
            (json!({ "title": { "in": ["Alpha", "Delta", "Nope"] } }), vec!["alpha", "delta"]),
            (json!({ "title": { "in": [] } }), vec![]),
            (json!({ "title": { "notIn": ["Alpha", "Delta"] } }), vec!["alphabet", "beta", "gamma"]),
            (json!({ "title": { "notIn": [] } }), ALL.to_vec()),
            (json!({ "title": { "lt": "Beta" } }), vec!["alpha", "alphabet"]),
            (json!({ "title": { "lt": "Alphabet" } }), vec!["alpha"]),
            (json!({ "title": { "lte": "Beta" } }), vec!["alpha", "alphabet", "beta"]),
            (json!({ "title": { "gt": "Delta" } }), vec!["gamma"]),
            (json!({ "title": { "gte": "Delta" } }), vec!["delta", "gamma"]),
            (json!({ "title": { "gt": "Alpha", "lt": "Delta" } }), vec!["alphabet", "beta"]),
            // contains / startsWith / endsWith are case-sensitive on both databases.
            (json!({ "title": { "contains": "pha" } }), vec!["alpha", "alphabet"]),
            (json!({ "title": { "contains": "PHA" } }), vec![]),
            (json!({ "title": { "contains": "a r" } }), vec!["gamma"]),
            (json!({ "title": { "startsWith": "Alpha" } }), vec!["alpha", "alphabet"]),
            (json!({ "title": { "startsWith": "alpha" } }), vec![]),
            (json!({ "title": { "endsWith": "a" } }), vec!["alpha", "beta", "delta"]),
            (json!({ "title": { "endsWith": "A" } }), vec![]),
            (json!({ "title": { "endsWith": "bet" } }), vec!["alphabet"]),
            (json!({ "title": { "startsWith": "Alpha", "ne": "Alpha" } }), vec!["alphabet"]),
            (json!({ "body": { "contains": "world" } }), vec!["alpha", "delta"]),
            (json!({ "body": { "contains": "World" } }), vec!["beta"]),
            (json!({ "body": { "contains": "o W" } }), vec!["beta"]),
            (json!({ "body": { "startsWith": "hello" } }), vec!["alpha"]),
            (json!({ "body": { "startsWith": "Hello" } }), vec!["beta"]),
            (json!({ "body": { "endsWith": "World" } }), vec!["beta"]),
            (json!({ "body": { "endsWith": "world" } }), vec!["alpha", "delta"]),
            // NULL handling: isNull, eq/ne null, and a non-null ne/notIn never matches NULL.
            (json!({ "body": { "isNull": true } }), vec!["gamma"]),
            (json!({ "body": { "isNull": false } }), all_but(&["gamma"])),
            (json!({ "body": { "eq": null } }), vec!["gamma"]),
            (json!({ "body": { "ne": null } }), all_but(&["gamma"])),
            (json!({ "body": { "eq": "" } }), vec!["alphabet"]),
            (json!({ "body": { "ne": "world" } }), vec!["alpha", "alphabet", "beta"]),
            (json!({ "body": { "notIn": ["world", "hello world"] } }), vec!["alphabet", "beta"]),
            (json!({ "body": { "in": ["world", "hello world"] } }), vec!["alpha", "delta"]),
        ])
        .await;
        b.s.finish().await;
    }
}

#[tokio::test]
async fn int_and_float_filter_every_operator() {
    for backend in backends() {
        let b = seed(backend).await;
        b.expect_all(vec![
            // views: alpha 10, alphabet 100, beta 0, delta 5, gamma 25
            (json!({ "views": { "eq": 10 } }), vec!["alpha"]),
            (json!({ "views": { "ne": 10 } }), all_but(&["alpha"])),
            (json!({ "views": { "in": [0, 5, 7] } }), vec!["beta", "delta"]),
            (json!({ "views": { "notIn": [0, 5] } }), vec!["alpha", "alphabet", "gamma"]),
            (json!({ "views": { "lt": 10 } }), vec!["beta", "delta"]),
            (json!({ "views": { "lte": 10 } }), vec!["alpha", "beta", "delta"]),
            (json!({ "views": { "gt": 10 } }), vec!["alphabet", "gamma"]),
            (json!({ "views": { "gte": 25 } }), vec!["alphabet", "gamma"]),
            (json!({ "views": { "gt": 0, "lt": 25 } }), vec!["alpha", "delta"]),
            (json!({ "views": { "isNull": false } }), ALL.to_vec()),
            (json!({ "views": { "isNull": true } }), vec![]),
            (json!({ "views": { "eq": null } }), vec![]),
            // rating: alpha 4.5, alphabet 4.5, beta 2.25, delta -1.5, gamma null
            (json!({ "rating": { "eq": 4.5 } }), vec!["alpha", "alphabet"]),
            (json!({ "rating": { "ne": 4.5 } }), vec!["beta", "delta"]),
            (json!({ "rating": { "in": [2.25, -1.5] } }), vec!["beta", "delta"]),
            (json!({ "rating": { "notIn": [4.5] } }), vec!["beta", "delta"]),
            (json!({ "rating": { "lt": 2.25 } }), vec!["delta"]),
            (json!({ "rating": { "lte": 2.25 } }), vec!["beta", "delta"]),
            (json!({ "rating": { "gt": 2.25 } }), vec!["alpha", "alphabet"]),
            (json!({ "rating": { "gte": -1.5 } }), all_but(&["gamma"])),
            (json!({ "rating": { "gt": -2, "lt": 0 } }), vec!["delta"]),
            (json!({ "rating": { "eq": 4 } }), vec![]),
            (json!({ "rating": { "isNull": true } }), vec!["gamma"]),
            (json!({ "rating": { "isNull": false } }), all_but(&["gamma"])),
            (json!({ "rating": { "eq": null } }), vec!["gamma"]),
            (json!({ "rating": { "ne": null } }), all_but(&["gamma"])),
        ])
        .await;
        b.s.finish().await;
    }
}

#[tokio::test]
async fn datetime_filter_every_operator_with_offsets() {
    for backend in backends() {
        let b = seed(backend).await;
        // publishedAt (UTC): alpha 2026-01-01T08:00, alphabet 2026-02-01T00:00,
        // beta 2026-01-01T09:00, delta 2026-01-01T00:30, gamma null
        b.expect_all(vec![
            (json!({ "publishedAt": { "eq": "2026-01-01T08:00:00Z" } }), vec!["alpha"]),
            (json!({ "publishedAt": { "eq": "2026-01-01T10:00:00+02:00" } }), vec!["alpha"]),
            (json!({ "publishedAt": { "eq": "2026-01-01T03:00:00-05:00" } }), vec!["alpha"]),
            (json!({ "publishedAt": { "eq": "2026-01-01T08:00:00.000000Z" } }), vec!["alpha"]),
            (json!({ "publishedAt": { "ne": "2026-01-01T10:00:00+02:00" } }), vec!["alphabet", "beta", "delta"]),
            (
                json!({ "publishedAt": { "in": ["2026-01-01T09:00:00Z", "2026-01-01T01:30:00+01:00"] } }),
                vec!["beta", "delta"],
            ),
            (json!({ "publishedAt": { "notIn": ["2026-01-01T10:00:00+02:00"] } }), vec!["alphabet", "beta", "delta"]),
            (json!({ "publishedAt": { "lt": "2026-01-01T09:00:00+00:00" } }), vec!["alpha", "delta"]),
            (json!({ "publishedAt": { "lte": "2026-01-01T10:00:00+01:00" } }), vec!["alpha", "beta", "delta"]),
            (json!({ "publishedAt": { "gt": "2026-01-01T09:00:00+01:00" } }), vec!["alphabet", "beta"]),
            (json!({ "publishedAt": { "gte": "2026-01-01T09:00:00+01:00" } }), vec!["alpha", "alphabet", "beta"]),
            // 2025-12-31T23:00-02:00 is 2026-01-01T01:00Z: later than delta although its text sorts earlier.
            (json!({ "publishedAt": { "gt": "2025-12-31T23:00:00-02:00" } }), vec!["alpha", "alphabet", "beta"]),
            (json!({ "publishedAt": { "lt": "2026-01-01T03:00:00+02:00" } }), vec!["delta"]),
            (json!({ "publishedAt": { "isNull": true } }), vec!["gamma"]),
            (json!({ "publishedAt": { "eq": null } }), vec!["gamma"]),
            (json!({ "publishedAt": { "isNull": false } }), all_but(&["gamma"])),
            (json!({ "createdAt": { "eq": b.created["beta"] } }), vec!["beta"]),
            (json!({ "createdAt": { "lte": b.created["alpha"] } }), vec!["alpha"]),
        ])
        .await;
        b.s.finish().await;
    }
}

#[tokio::test]
async fn id_boolean_and_enum_filter_every_operator() {
    for backend in backends() {
        let b = seed(backend).await;
        let id = |slug: &str| b.ids[slug].clone();
        // lt/gt on ids: the expected sets follow from comparing the id strings.
        let pivot = id("beta");
        let by_id = |keep: fn(&str, &str) -> bool| -> Vec<&str> {
            ALL.into_iter().filter(|s| keep(&b.ids[*s], &pivot)).collect()
        };
        b.expect_all(vec![
            (json!({ "id": { "eq": id("gamma") } }), vec!["gamma"]),
            (json!({ "id": { "eq": "01900000-0000-7000-8000-000000000000" } }), vec![]),
            (json!({ "id": { "ne": id("gamma") } }), all_but(&["gamma"])),
            (json!({ "id": { "in": [id("alpha"), id("delta")] } }), vec!["alpha", "delta"]),
            (json!({ "id": { "notIn": [id("alpha"), id("delta")] } }), vec!["alphabet", "beta", "gamma"]),
            (json!({ "id": { "lt": pivot } }), by_id(|a, p| a < p)),
            (json!({ "id": { "lte": pivot } }), by_id(|a, p| a <= p)),
            (json!({ "id": { "gt": pivot } }), by_id(|a, p| a > p)),
            (json!({ "id": { "gte": pivot } }), by_id(|a, p| a >= p)),
            (json!({ "id": { "isNull": false } }), ALL.to_vec()),
            (json!({ "id": { "eq": null } }), vec![]),
            (json!({ "authorId": { "eq": b.ada } }), vec!["alpha", "beta"]),
            (json!({ "authorId": { "ne": b.ada } }), vec!["alphabet", "delta", "gamma"]),
            (json!({ "authorId": { "in": [b.bo] } }), vec!["alphabet", "delta", "gamma"]),
            (json!({ "categoryId": { "isNull": true } }), vec!["alphabet", "delta"]),
            (json!({ "categoryId": { "eq": null } }), vec!["alphabet", "delta"]),
            (json!({ "categoryId": { "eq": b.rust } }), vec!["alpha", "gamma"]),
            (json!({ "categoryId": { "ne": b.rust } }), vec!["beta"]),
            (json!({ "categoryId": { "notIn": [b.rust] } }), vec!["beta"]),
            (json!({ "categoryId": { "in": [b.rust, b.go] } }), vec!["alpha", "beta", "gamma"]),
            // featured: alpha true, alphabet false, beta false, delta true, gamma false
            (json!({ "featured": { "eq": true } }), vec!["alpha", "delta"]),
            (json!({ "featured": { "eq": false } }), vec!["alphabet", "beta", "gamma"]),
            (json!({ "featured": { "ne": true } }), vec!["alphabet", "beta", "gamma"]),
            (json!({ "featured": { "ne": false } }), vec!["alpha", "delta"]),
            (json!({ "featured": { "isNull": false } }), ALL.to_vec()),
            (json!({ "featured": { "isNull": true } }), vec![]),
            (json!({ "featured": { "eq": null } }), vec![]),
            // status: beta and delta are DRAFT (delta by default)
            (json!({ "status": { "eq": "DRAFT" } }), vec!["beta", "delta"]),
            (json!({ "status": { "ne": "DRAFT" } }), vec!["alpha", "alphabet", "gamma"]),
            (json!({ "status": { "in": ["PUBLISHED"] } }), vec!["alpha", "alphabet", "gamma"]),
            (json!({ "status": { "in": ["DRAFT", "PUBLISHED"] } }), ALL.to_vec()),
            (json!({ "status": { "notIn": ["PUBLISHED"] } }), vec!["beta", "delta"]),
            (json!({ "status": { "notIn": ["DRAFT", "PUBLISHED"] } }), vec![]),
            (json!({ "status": { "isNull": true } }), vec![]),
            (json!({ "status": { "isNull": false } }), ALL.to_vec()),
            (json!({ "status": { "eq": null } }), vec![]),
        ])
        .await;
        // Enum filters take enum literals too, and reject values the enum does not have.
        let lit =
            b.s.data("{ posts(filter: { status: { eq: PUBLISHED, ne: DRAFT } }) { totalCount } }", json!({})).await;
        assert_eq!(lit["posts"]["totalCount"], 3, "{backend:?}");
        let r = b.s.gql("{ posts(filter: { status: { eq: ARCHIVED } }) { totalCount } }", json!({})).await;
        assert!(r["errors"][0]["message"].as_str().unwrap().contains("ARCHIVED"), "{backend:?}: {r}");
        b.s.finish().await;
    }
}

#[tokio::test]
async fn and_or_not_nest_and_not_is_the_exact_complement() {
    for backend in backends() {
        let b = seed(backend).await;
        b.expect_all(vec![
            (
                json!({ "and": [{ "status": { "eq": "PUBLISHED" } }, { "featured": { "eq": false } }] }),
                vec!["alphabet", "gamma"],
            ),
            (
                json!({ "or": [{ "views": { "gt": 50 } }, { "title": { "startsWith": "B" } }] }),
                vec!["alphabet", "beta"],
            ),
            (json!({ "featured": { "eq": true }, "and": [{ "views": { "lt": 10 } }] }), vec!["delta"]),
            (
                json!({ "featured": { "eq": true }, "or": [{ "views": { "gt": 50 } }, { "rating": { "lt": 0 } }] }),
                vec!["delta"],
            ),
            (
                json!({ "and": [
                    { "or": [{ "status": { "eq": "DRAFT" } }, { "views": { "gt": 20 } }] },
                    { "or": [{ "featured": { "eq": true } }, { "rating": { "isNull": true } }] }
                ] }),
                vec!["delta", "gamma"],
            ),
            (
                json!({ "or": [
                    { "and": [{ "status": { "eq": "DRAFT" } }, { "views": { "gte": 5 } }] },
                    { "not": { "or": [{ "rating": { "isNull": true } }, { "rating": { "lt": 4 } }] } }
                ] }),
                vec!["alpha", "alphabet", "delta"],
            ),
            // `not` includes the rows where the inner condition is NULL.
            (json!({ "not": { "rating": { "gt": 3 } } }), vec!["beta", "delta", "gamma"]),
            (json!({ "not": { "body": { "contains": "world" } } }), vec!["alphabet", "beta", "gamma"]),
            (json!({ "not": { "body": { "ne": "world" } } }), vec!["delta", "gamma"]),
            (json!({ "not": { "category": { "name": { "eq": "Rust" } } } }), vec!["alphabet", "beta", "delta"]),
            (json!({ "not": { "not": { "rating": { "gt": 3 } } } }), vec!["alpha", "alphabet"]),
            (
                json!({ "not": { "and": [{ "featured": { "eq": true } }, { "rating": { "gt": 0 } }] } }),
                all_but(&["alpha"]),
            ),
        ])
        .await;

        // For any filter F: F and {not: F} split the posts in two, NULLs included.
        let filters = [
            json!({ "body": { "ne": "world" } }),
            json!({ "body": { "contains": "o" } }),
            json!({ "body": { "notIn": ["world"] } }),
            json!({ "rating": { "lt": 3 } }),
            json!({ "rating": { "notIn": [4.5] } }),
            json!({ "publishedAt": { "gt": "2026-01-01T00:00:00Z" } }),
            json!({ "categoryId": { "eq": b.rust } }),
            json!({ "categoryId": { "ne": b.rust } }),
            json!({ "category": { "name": { "ne": "Go" } } }),
            json!({ "comments": { "every": { "body": { "eq": "great" } } } }),
            json!({ "status": { "in": ["DRAFT"] } }),
            json!({ "or": [{ "rating": { "gt": 4 } }, { "body": { "startsWith": "w" } }] }),
            json!({ "and": [{ "rating": { "gt": 0 } }, { "body": { "isNull": false } }] }),
        ];
        let mut failures = Vec::new();
        for f in filters {
            let (yes, no) = (b.try_slugs(&f).await, b.try_slugs(&json!({ "not": f })).await);
            let mut union: Vec<String> = yes.iter().chain(no.iter()).flatten().cloned().collect();
            union.sort();
            if union != ALL {
                failures.push(format!("{f}: {yes:?}, not: {no:?}"));
            }
        }
        assert!(failures.is_empty(), "{backend:?}: F and not F must partition the posts:\n{}", failures.join("\n"));
        b.s.finish().await;
    }
}

#[tokio::test]
async fn relation_filters_belongs_to_and_has_many() {
    for backend in backends() {
        let b = seed(backend).await;
        b.expect_all(vec![
            (json!({ "author": { "email": { "eq": BO } } }), vec!["alphabet", "delta", "gamma"]),
            (json!({ "author": { "email": { "startsWith": "ada" } } }), vec!["alpha", "beta"]),
            (json!({ "author": { "id": { "eq": b.ada } } }), vec!["alpha", "beta"]),
            (json!({ "author": { "email": { "eq": "nobody@example.com" } } }), vec![]),
            (json!({ "category": { "name": { "eq": "Rust" } } }), vec!["alpha", "gamma"]),
            (json!({ "category": { "name": { "in": ["Go", "Nope"] } } }), vec!["beta"]),
            (json!({ "category": { "posts": { "some": { "views": { "gte": 25 } } } } }), vec!["alpha", "gamma"]),
            (json!({ "author": { "email": { "eq": BO } }, "category": { "name": { "eq": "Rust" } } }), vec!["gamma"]),
            (json!({ "comments": { "some": { "body": { "eq": "great" } } } }), vec!["alpha", "beta"]),
            (json!({ "comments": { "none": { "body": { "eq": "great" } } } }), vec!["alphabet", "delta", "gamma"]),
            // every: true for posts without comments.
            (json!({ "comments": { "every": { "body": { "eq": "great" } } } }), vec!["alphabet", "beta", "gamma"]),
            (json!({ "comments": { "some": {} } }), vec!["alpha", "beta", "delta"]),
            (json!({ "comments": { "none": {} } }), vec!["alphabet", "gamma"]),
            (json!({ "comments": { "every": {} } }), ALL.to_vec()),
            (json!({ "comments": { "some": { "author": { "email": { "eq": BO } } } } }), vec!["alpha", "delta"]),
            (json!({ "comments": { "every": { "authorId": { "eq": b.bo } } } }), vec!["alphabet", "delta", "gamma"]),
            (
                json!({ "comments": { "some": { "body": { "eq": "great" } }, "none": { "body": { "eq": "meh" } } } }),
                vec!["beta"],
            ),
            (json!({ "comments": { "some": { "authorId": { "eq": b.ada } } }, "views": { "gt": 0 } }), vec!["alpha"]),
        ])
        .await;
        // The other way round: comments filtered through post → author.
        let r = b
            .s
            .data(
                "query($f: CommentFilter) { comments(filter: $f, orderBy: [{body: ASC}]) { totalCount nodes { body post { slug } } } }",
                json!({ "f": { "post": { "author": { "email": { "eq": ADA } } } } }),
            )
            .await;
        let got: Vec<(&str, &str)> = r["comments"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["body"].as_str().unwrap(), n["post"]["slug"].as_str().unwrap()))
            .collect();
        let mut got = got;
        got.sort();
        assert_eq!(got, [("great", "alpha"), ("great", "beta"), ("meh", "alpha")], "{backend:?}");
        assert_eq!(r["comments"]["totalCount"], 3, "{backend:?}");
        b.s.finish().await;
    }
}

/// `{ slug: [body, ...] }` pairs of a `posts { nodes { slug comments { nodes { body } } } }` result.
fn comment_bodies(posts: &Value) -> Vec<(String, i64, Vec<String>)> {
    posts["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let bodies =
                p["comments"]["nodes"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string());
            (p["slug"].as_str().unwrap().to_string(), p["comments"]["totalCount"].as_i64().unwrap(), bodies.collect())
        })
        .collect()
}

#[tokio::test]
async fn filters_on_nested_connections_and_total_count() {
    for backend in backends() {
        let b = seed(backend).await;
        let s = &b.s;
        let one = s
            .data(
                "query($id: ID!) { category(id: $id) { posts(filter: { views: { gt: 10 } }) { totalCount nodes { slug } } } }",
                json!({ "id": b.rust }),
            )
            .await;
        assert_eq!(one["category"]["posts"], json!({ "totalCount": 1, "nodes": [{ "slug": "gamma" }] }), "{backend:?}");

        let cats = s
            .data(
                "{ categories(orderBy: [{name: ASC}]) { nodes { name posts(filter: { status: { eq: PUBLISHED } }, orderBy: [{slug: ASC}]) { totalCount nodes { slug } } } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            cats["categories"]["nodes"],
            json!([
                { "name": "Go", "posts": { "totalCount": 0, "nodes": [] } },
                { "name": "Rust", "posts": { "totalCount": 2, "nodes": [{ "slug": "alpha" }, { "slug": "gamma" }] } },
            ]),
            "{backend:?}"
        );

        let q = "query($c: CommentFilter) {
            posts(filter: { slug: { in: [\"alpha\", \"beta\", \"delta\"] } }, orderBy: [{slug: ASC}]) {
              nodes { slug comments(filter: $c, orderBy: [{body: ASC}]) { totalCount nodes { body } } }
            }
        }";
        let cases = [
            (
                json!({ "body": { "ne": "meh" } }),
                [("alpha", 1, vec!["great"]), ("beta", 1, vec!["great"]), ("delta", 1, vec!["spam"])],
            ),
            (
                json!({ "author": { "email": { "eq": ADA } } }),
                [("alpha", 1, vec!["meh"]), ("beta", 1, vec!["great"]), ("delta", 0, vec![])],
            ),
            (
                json!({ "not": { "body": { "eq": "great" } } }),
                [("alpha", 1, vec!["meh"]), ("beta", 0, vec![]), ("delta", 1, vec!["spam"])],
            ),
            (json!(null), [("alpha", 2, vec!["great", "meh"]), ("beta", 1, vec!["great"]), ("delta", 1, vec!["spam"])]),
        ];
        for (filter, expected) in cases {
            let r = s.data(q, json!({ "c": filter })).await;
            let expected: Vec<(String, i64, Vec<String>)> = expected
                .into_iter()
                .map(|(slug, n, bodies)| (slug.to_string(), n, bodies.into_iter().map(str::to_string).collect()))
                .collect();
            assert_eq!(comment_bodies(&r["posts"]), expected, "{backend:?}: nested filter {filter}");
        }

        // Relation filters inside a nested connection, two levels deep, and the same connection
        // under two aliases with different filters.
        let deep = s
            .data(
                r#"{ categories(orderBy: [{name: ASC}]) { nodes { name
                    liked: posts(filter: { comments: { some: { body: { eq: "great" } } } }, orderBy: [{slug: ASC}]) { totalCount nodes { slug } }
                    clean: posts(filter: { comments: { every: { body: { ne: "meh" } } } }, orderBy: [{slug: ASC}]) {
                      totalCount nodes { slug byBo: comments(filter: { author: { email: { eq: "bo@example.com" } } }) { totalCount } }
                    }
                } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            deep["categories"]["nodes"],
            json!([
                { "name": "Go", "liked": { "totalCount": 1, "nodes": [{ "slug": "beta" }] },
                  "clean": { "totalCount": 1, "nodes": [{ "slug": "beta", "byBo": { "totalCount": 0 } }] } },
                { "name": "Rust", "liked": { "totalCount": 1, "nodes": [{ "slug": "alpha" }] },
                  "clean": { "totalCount": 1, "nodes": [{ "slug": "gamma", "byBo": { "totalCount": 0 } }] } },
            ]),
            "{backend:?}"
        );
        let aliased = s
            .data(
                r#"{ drafts: posts(filter: { status: { eq: DRAFT } }) { totalCount }
                     featured: posts(filter: { featured: { eq: true } }) { totalCount nodes { slug } }
                     posts(filter: { slug: { eq: "alpha" } }) { nodes {
                       great: comments(filter: { body: { eq: "great" } }) { totalCount }
                       all: comments { totalCount }
                     } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(aliased["drafts"]["totalCount"], 2, "{backend:?}");
        assert_eq!(aliased["featured"]["totalCount"], 2, "{backend:?}");
        assert_eq!(aliased["posts"]["nodes"][0]["great"]["totalCount"], 1, "{backend:?}");
        assert_eq!(aliased["posts"]["nodes"][0]["all"]["totalCount"], 2, "{backend:?}");

        // totalCount counts every matching row, not the page.
        let page = s
            .data("{ posts(filter: { status: { eq: PUBLISHED } }, first: 1) { totalCount nodes { slug } } }", json!({}))
            .await;
        assert_eq!(page["posts"]["totalCount"], 3, "{backend:?}");
        assert_eq!(page["posts"]["nodes"].as_array().unwrap().len(), 1, "{backend:?}");
        b.s.finish().await;
    }
}
