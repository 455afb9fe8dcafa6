//! Input validation: `@length`, `@range`, required fields, DateTime and enum values, managed
//! fields, `@unique` and foreign keys. A rejected write says which field, leaks nothing
//! internal, and writes nothing.

use crate::common::*;
use serde_json::{Value, json};

const CREATE_POST: &str = "mutation($input: CreatePostInput!) { createPost(input: $input) { id } }";
const UPDATE_POST: &str = "mutation($id: ID!, $input: UpdatePostInput!) { updatePost(id: $id, input: $input) { id } }";
const READ_POST: &str = "query($id: ID!) { post(id: $id) { title slug body status views featured publishedAt authorId categoryId createdAt updatedAt } }";

/// Text that would show SQL, driver, file or stack internals in an error.
const INTERNALS: [&str; 16] = [
    "SELECT",
    "INSERT",
    "UPDATE ",
    "DELETE FROM",
    "FOREIGN KEY",
    "REFERENCES",
    "constraint",
    "sqlite",
    "sqlx",
    "posts.",
    "/tmp",
    ".rs",
    "duplicate key",
    "violates",
    "panicked",
    "backtrace",
];

/// Fails if any error of `r` (message or extensions) shows internals, or is `INTERNAL`.
pub fn assert_no_internals(r: &Value) {
    let text = r["errors"].to_string();
    let lower = text.to_lowercase();
    for bad in INTERNALS {
        let hit =
            if bad.chars().any(char::is_lowercase) { lower.contains(&bad.to_lowercase()) } else { text.contains(bad) };
        assert!(!hit, "an error shows internals ({bad:?}): {r:#}");
    }
    assert!(!text.contains("\"INTERNAL\""), "an INTERNAL error: {r:#}");
}

/// `r` is a `BAD_USER_INPUT` about `field` (in `extensions.field` and the message).
fn assert_bad_input(r: &Value, field: &str, ctx: &str) {
    assert_eq!(error_code(r), "BAD_USER_INPUT", "{ctx}: {r:#}");
    assert_eq!(r["errors"][0]["extensions"]["field"], field, "{ctx}: extensions.field: {r:#}");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains(field), "{ctx}: the message names {field}: {r:#}");
    assert_eq!(r["data"], Value::Null, "{ctx}: {r:#}");
    assert_no_internals(r);
}

/// `r` was rejected by the type system (GraphQL validation or variable coercion): a
/// `BAD_USER_INPUT` whose message mentions `mention`, and no data.
fn assert_rejected_by_types(r: &Value, mention: &str, ctx: &str) {
    let message = r["errors"][0]["message"].as_str().unwrap_or_else(|| panic!("{ctx}: expected an error, got {r:#}"));
    assert!(message.contains(mention), "{ctx}: the message mentions {mention:?}: {r:#}");
    assert!(r["data"].is_null(), "{ctx}: {r:#}");
    assert_eq!(error_code(r), "BAD_USER_INPUT", "{ctx}: {r:#}");
    assert_no_internals(r);
}

/// `r` is a `CONFLICT` whose message names `mention`.
fn assert_conflict(r: &Value, mention: &str, ctx: &str) {
    assert_eq!(error_code(r), "CONFLICT", "{ctx}: {r:#}");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains(mention), "{ctx}: the message names {mention}: {r:#}");
    assert_eq!(r["data"], Value::Null, "{ctx}: {r:#}");
    assert_no_internals(r);
}

/// `base` with the keys of `extra` added or replaced (a `null` value is kept as null).
fn with(base: &Value, extra: Value) -> Value {
    let mut v = base.clone();
    v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    v
}

/// `base` without `key`.
fn without(base: &Value, key: &str) -> Value {
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove(key);
    v
}

async fn count(s: &TestServer, plural: &str) -> i64 {
    s.data(&format!("{{ {plural} {{ totalCount }} }}"), json!({})).await[plural]["totalCount"].as_i64().unwrap()
}

async fn read_post(s: &TestServer, id: &Value) -> Value {
    s.data(READ_POST, json!({ "id": id })).await["post"].clone()
}

async fn create_post(s: &TestServer, input: Value) -> Value {
    s.data(CREATE_POST, json!({ "input": input })).await["createPost"]["id"].clone()
}

#[tokio::test]
async fn length_counts_characters_on_create_and_update() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "len@example.com").await;
        let base = json!({ "title": "Fine", "slug": "fine", "authorId": author });
        let id = create_post(&s, base.clone()).await;
        for (title, what) in
            [("".to_string(), "empty"), ("x".repeat(201), "201 ASCII"), ("é".repeat(201), "201 non-ASCII")]
        {
            let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ "title": title, "slug": "new" })) })).await;
            assert_bad_input(&r, "title", &format!("{backend:?}: create with a {what} title"));
        }
        assert_eq!(count(&s, "posts").await, 1, "{backend:?}: nothing written");
        // The bounds are inclusive and count characters, not bytes.
        create_post(&s, with(&base, json!({ "title": "é".repeat(200), "slug": "e200" }))).await;
        create_post(&s, with(&base, json!({ "title": "x", "slug": "x1" }))).await;

        let before = read_post(&s, &id).await;
        for title in ["".to_string(), "y".repeat(201)] {
            let r = s.gql(UPDATE_POST, json!({ "id": id, "input": { "title": title, "body": "changed" } })).await;
            assert_bad_input(&r, "title", &format!("{backend:?}: update with title of {} chars", title.len()));
        }
        assert_eq!(read_post(&s, &id).await, before, "{backend:?}: a rejected update changes nothing");
        assert_eq!(count(&s, "posts").await, 3, "{backend:?}");

        let r = s.gql("mutation { createCategory(input: { name: \"\" }) { id } }", json!({})).await;
        assert_bad_input(&r, "name", &format!("{backend:?}: empty category name"));
        let long = "n".repeat(61);
        let r =
            s.gql("mutation($n: String!) { createCategory(input: { name: $n }) { id } }", json!({ "n": long })).await;
        assert_bad_input(&r, "name", &format!("{backend:?}: 61-char category name"));
        let cat = s.data("mutation { createCategory(input: { name: \"Ok\" }) { id } }", json!({})).await["createCategory"]["id"].clone();
        let r = s
            .gql(
                "mutation($id: ID!, $n: String) { updateCategory(id: $id, input: { name: $n }) { id } }",
                json!({ "id": cat, "n": long }),
            )
            .await;
        assert_bad_input(&r, "name", &format!("{backend:?}: update to a 61-char category name"));
        let cats = s.data("{ categories { totalCount nodes { name } } }", json!({})).await;
        assert_eq!(cats["categories"], json!({ "totalCount": 1, "nodes": [{ "name": "Ok" }] }), "{backend:?}");

        let comment = "mutation($p: ID!, $a: ID!, $b: String!) { createComment(input: { postId: $p, authorId: $a, body: $b }) { id } }";
        for body in ["".to_string(), "b".repeat(2001)] {
            let r = s.gql(comment, json!({ "p": id, "a": author, "b": body })).await;
            assert_bad_input(&r, "body", &format!("{backend:?}: comment body of {} chars", body.len()));
        }
        s.data(comment, json!({ "p": id, "a": author, "b": "b".repeat(2000) })).await;
        assert_eq!(count(&s, "comments").await, 1, "{backend:?}");
        s.finish().await;
    }
}

/// A model with `@length` on a list and `@range` on Float and Int.
const NOTES: &str = r#"
type Note @model {
  title: String! @length(min: 2, max: 5)
  labels: [String!] @length(min: 1, max: 3)
  score: Float @range(min: -1.5, max: 10)
  level: Int @range(min: 1, max: 5)
}
"#;

#[tokio::test]
async fn length_on_lists_and_range_on_numbers() {
    for backend in backends() {
        let s = TestServer::start(backend, NOTES).await;
        let create = "mutation($input: CreateNoteInput!) { createNote(input: $input) { id title labels score level } }";
        let update = "mutation($id: ID!, $input: UpdateNoteInput!) { updateNote(id: $id, input: $input) { id } }";
        let rejected = [
            (json!({ "title": "a" }), "title"),
            (json!({ "title": "abcdef" }), "title"),
            (json!({ "title": "ok", "labels": [] }), "labels"),
            (json!({ "title": "ok", "labels": ["a", "b", "c", "d"] }), "labels"),
            (json!({ "title": "ok", "score": 10.01 }), "score"),
            (json!({ "title": "ok", "score": -1.6 }), "score"),
            (json!({ "title": "ok", "level": 0 }), "level"),
            (json!({ "title": "ok", "level": 6 }), "level"),
        ];
        for (input, field) in &rejected {
            let r = s.gql(create, json!({ "input": input })).await;
            assert_bad_input(&r, field, &format!("{backend:?}: create {input}"));
        }
        assert_eq!(count(&s, "notes").await, 0, "{backend:?}: nothing written");

        let edge = json!({ "title": "abcde", "labels": ["a", "b", "c"], "score": -1.5, "level": 5 });
        let note = s.data(create, json!({ "input": edge })).await["createNote"].clone();
        assert_eq!(note["labels"], json!(["a", "b", "c"]), "{backend:?}: bounds are inclusive");
        let low = json!({ "title": "ab", "labels": ["a"], "score": 10, "level": 1 });
        s.data(create, json!({ "input": low })).await;
        s.data(create, json!({ "input": { "title": "ab", "labels": null, "score": null, "level": null } })).await;

        for (input, field) in rejected.iter().skip(1) {
            let r = s.gql(update, json!({ "id": note["id"], "input": input })).await;
            assert_bad_input(&r, field, &format!("{backend:?}: update {input}"));
        }
        let after = s
            .data("query($id: ID!) { note(id: $id) { id title labels score level } }", json!({ "id": note["id"] }))
            .await;
        assert_eq!(after["note"], note, "{backend:?}: rejected updates change nothing");
        assert_eq!(count(&s, "notes").await, 3, "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn range_on_views() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "range@example.com").await;
        let base = json!({ "title": "T", "slug": "t", "authorId": author });
        let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ "views": -1 })) })).await;
        assert_bad_input(&r, "views", &format!("{backend:?}: views -1"));
        let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ "views": 2_147_483_648_i64 })) })).await;
        assert_rejected_by_types(&r, "views", &format!("{backend:?}: views beyond Int"));
        assert_eq!(count(&s, "posts").await, 0, "{backend:?}");

        let id = create_post(&s, with(&base, json!({ "views": 0 }))).await;
        let before = read_post(&s, &id).await;
        let r = s.gql(UPDATE_POST, json!({ "id": id, "input": { "views": -5, "title": "Changed" } })).await;
        assert_bad_input(&r, "views", &format!("{backend:?}: update views -5"));
        assert_eq!(read_post(&s, &id).await, before, "{backend:?}: nothing changed");
        s.finish().await;
    }
}

#[tokio::test]
async fn required_fields_missing_or_null() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "req@example.com").await;
        let base = json!({ "title": "T", "slug": "t", "authorId": author });
        for field in ["title", "slug", "authorId"] {
            let r = s.gql(CREATE_POST, json!({ "input": without(&base, field) })).await;
            assert_rejected_by_types(&r, field, &format!("{backend:?}: create without {field}"));
            let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ field: null })) })).await;
            assert_rejected_by_types(&r, field, &format!("{backend:?}: create with {field}: null"));
        }
        let literal = s
            .gql(
                "mutation($a: ID!) { createPost(input: { title: \"T\", authorId: $a }) { id } }",
                json!({ "a": author }),
            )
            .await;
        assert_rejected_by_types(&literal, "slug", &format!("{backend:?}: literal input without slug"));
        assert_eq!(count(&s, "posts").await, 0, "{backend:?}: nothing written");

        // Update: null clears a field, so null on a required field is rejected.
        let id = create_post(&s, base.clone()).await;
        let before = read_post(&s, &id).await;
        for field in ["title", "slug", "status", "views", "featured", "authorId"] {
            let r = s.gql(UPDATE_POST, json!({ "id": id, "input": { field: null, "body": "changed" } })).await;
            assert_bad_input(&r, field, &format!("{backend:?}: update {field}: null"));
        }
        assert_eq!(read_post(&s, &id).await, before, "{backend:?}: rejected updates change nothing");
        s.data(UPDATE_POST, json!({ "id": id, "input": { "body": null, "categoryId": null } })).await;
        assert_eq!(count(&s, "posts").await, 1, "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn invalid_datetime_and_unknown_enum_values_are_rejected() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "dt@example.com").await;
        let base = json!({ "title": "T", "slug": "t", "authorId": author });
        for bad in
            ["yesterday", "2026-02-30T00:00:00Z", "2026-01-31T12:00:00", "2026-01-31", "", "2026-01-31T25:00:00Z"]
        {
            let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ "publishedAt": bad })) })).await;
            assert_rejected_by_types(&r, "publishedAt", &format!("{backend:?}: publishedAt {bad:?}"));
        }
        let literal = s
            .gql(
                "mutation($a: ID!) { createPost(input: { title: \"T\", slug: \"t\", authorId: $a, publishedAt: \"soon\" }) { id } }",
                json!({ "a": author }),
            )
            .await;
        assert_rejected_by_types(&literal, "publishedAt", &format!("{backend:?}: literal publishedAt"));
        for bad in ["ARCHIVED", "draft", ""] {
            let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ "status": bad })) })).await;
            assert_rejected_by_types(&r, "status", &format!("{backend:?}: status {bad:?}"));
        }
        let literal = s
            .gql(
                "mutation($a: ID!) { createPost(input: { title: \"T\", slug: \"t\", authorId: $a, status: ARCHIVED }) { id } }",
                json!({ "a": author }),
            )
            .await;
        assert_rejected_by_types(&literal, "ARCHIVED", &format!("{backend:?}: literal status ARCHIVED"));
        assert_eq!(count(&s, "posts").await, 0, "{backend:?}: nothing written");

        let id = create_post(&s, with(&base, json!({ "publishedAt": "2026-01-31T12:00:00+01:00" }))).await;
        let before = read_post(&s, &id).await;
        let r = s.gql(UPDATE_POST, json!({ "id": id, "input": { "publishedAt": "nope", "title": "Changed" } })).await;
        assert_rejected_by_types(&r, "publishedAt", &format!("{backend:?}: update publishedAt"));
        let r = s.gql(UPDATE_POST, json!({ "id": id, "input": { "status": "ARCHIVED" } })).await;
        assert_rejected_by_types(&r, "status", &format!("{backend:?}: update status"));
        assert_eq!(read_post(&s, &id).await, before, "{backend:?}: nothing changed");
        let r = s.gql("{ posts(filter: { publishedAt: { gt: \"nope\" } }) { totalCount } }", json!({})).await;
        assert_rejected_by_types(&r, "publishedAt", &format!("{backend:?}: DateTime filter"));
        s.finish().await;
    }
}

#[tokio::test]
async fn managed_fields_cannot_be_written() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "managed@example.com").await;
        let base = json!({ "title": "T", "slug": "t", "authorId": author });
        let forged = [
            ("id", json!("01900000-0000-7000-8000-000000000000")),
            ("createdAt", json!("2000-01-01T00:00:00Z")),
            ("updatedAt", json!("2000-01-01T00:00:00Z")),
        ];
        for (field, value) in &forged {
            let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ *field: value })) })).await;
            assert_rejected_by_types(&r, field, &format!("{backend:?}: create with {field}"));
        }
        let literal = s
            .gql(
                "mutation($a: ID!) { createPost(input: { title: \"T\", slug: \"t\", authorId: $a, createdAt: \"2000-01-01T00:00:00Z\" }) { id } }",
                json!({ "a": author }),
            )
            .await;
        assert_rejected_by_types(&literal, "createdAt", &format!("{backend:?}: literal createdAt"));
        assert_eq!(count(&s, "posts").await, 0, "{backend:?}: nothing written");

        let id = create_post(&s, base.clone()).await;
        let before = read_post(&s, &id).await;
        for (field, value) in &forged {
            let r = s.gql(UPDATE_POST, json!({ "id": id, "input": { *field: value, "title": "Changed" } })).await;
            assert_rejected_by_types(&r, field, &format!("{backend:?}: update {field}"));
        }
        assert_eq!(read_post(&s, &id).await, before, "{backend:?}: nothing changed");
        s.finish().await;
    }
}

#[tokio::test]
async fn unique_violation_is_conflict_on_create_and_update() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "uniq@example.com").await;
        let base = json!({ "title": "T", "slug": "dup", "authorId": author });
        let first = create_post(&s, base.clone()).await;
        let r = s.gql(CREATE_POST, json!({ "input": with(&base, json!({ "title": "Second" })) })).await;
        assert_conflict(&r, "slug", &format!("{backend:?}: create with a taken slug"));
        assert_eq!(r["errors"][0]["extensions"]["field"], "slug", "{backend:?}: {r}");
        assert_eq!(count(&s, "posts").await, 1, "{backend:?}: nothing written");

        let other = create_post(&s, with(&base, json!({ "slug": "other" }))).await;
        let before = read_post(&s, &other).await;
        let r = s.gql(UPDATE_POST, json!({ "id": other, "input": { "slug": "dup", "title": "Changed" } })).await;
        assert_conflict(&r, "slug", &format!("{backend:?}: update to a taken slug"));
        assert_eq!(read_post(&s, &other).await, before, "{backend:?}: nothing changed");
        // Keeping one's own value is no conflict; the transaction after a conflict is usable.
        s.data(UPDATE_POST, json!({ "id": first, "input": { "slug": "dup" } })).await;
        s.data(UPDATE_POST, json!({ "id": other, "input": { "slug": "free" } })).await;

        let cat = "mutation($n: String!) { createCategory(input: { name: $n }) { id } }";
        s.data(cat, json!({ "n": "Rust" })).await;
        let r = s.gql(cat, json!({ "n": "Rust" })).await;
        assert_conflict(&r, "name", &format!("{backend:?}: create a taken category name"));
        let go = s.data(cat, json!({ "n": "Go" })).await["createCategory"]["id"].clone();
        let r = s
            .gql(
                "mutation($id: ID!) { updateCategory(id: $id, input: { name: \"Rust\" }) { id } }",
                json!({ "id": go }),
            )
            .await;
        assert_conflict(&r, "name", &format!("{backend:?}: update to a taken category name"));
        let names = s.data("{ categories(orderBy: [{name: ASC}]) { nodes { name } } }", json!({})).await;
        assert_eq!(names["categories"]["nodes"], json!([{ "name": "Go" }, { "name": "Rust" }]), "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn foreign_key_to_a_missing_row_is_conflict() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "fk@example.com").await;
        let missing = "01900000-0000-7000-8000-000000000000";
        let base = json!({ "title": "T", "slug": "t", "authorId": author });
        for (input, what) in [
            (with(&base, json!({ "authorId": missing })), "missing author"),
            (with(&base, json!({ "authorId": "not-a-uuid" })), "malformed author id"),
            (with(&base, json!({ "categoryId": missing })), "missing category"),
        ] {
            let r = s.gql(CREATE_POST, json!({ "input": input })).await;
            assert_conflict(&r, "", &format!("{backend:?}: create with a {what}"));
        }
        assert_eq!(count(&s, "posts").await, 0, "{backend:?}: nothing written");

        let id = create_post(&s, base.clone()).await;
        let before = read_post(&s, &id).await;
        for input in [json!({ "categoryId": missing, "title": "Changed" }), json!({ "authorId": missing })] {
            let r = s.gql(UPDATE_POST, json!({ "id": id, "input": input })).await;
            assert_conflict(&r, "", &format!("{backend:?}: update {input}"));
        }
        assert_eq!(read_post(&s, &id).await, before, "{backend:?}: nothing changed");

        let comment =
            "mutation($p: ID!, $a: ID!) { createComment(input: { postId: $p, authorId: $a, body: \"hi\" }) { id } }";
        let r = s.gql(comment, json!({ "p": missing, "a": author })).await;
        assert_conflict(&r, "", &format!("{backend:?}: comment on a missing post"));
        assert_eq!(count(&s, "comments").await, 0, "{backend:?}");
        s.data(comment, json!({ "p": id, "a": author })).await;
        assert_eq!(count(&s, "comments").await, 1, "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn request_errors_leak_no_internals() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let missing = "01900000-0000-7000-8000-000000000000";
        let cases = [
            ("{ posts { nodes { nope } } }", json!({})),
            ("{ posts(nope: 1) { totalCount } }", json!({})),
            ("{ posts(filter: { tags: { eq: \"a\" } }) { totalCount } }", json!({})),
            ("{ posts(orderBy: [{ meta: ASC }]) { totalCount } }", json!({})),
            ("{ posts(filter: { views: { lt: \"ten\" } }) { totalCount } }", json!({})),
            ("{ posts(first: 1, last: 1) { totalCount } }", json!({})),
            ("{ posts( ", json!({})),
            ("mutation($id: ID!) { updatePost(id: $id, input: { title: \"x\" }) { id } }", json!({ "id": missing })),
            ("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({ "id": "'; --" })),
            ("mutation { createPost(input: {}) { id } }", json!({})),
        ];
        for (query, vars) in cases {
            let r = s.gql(query, vars).await;
            assert!(r["errors"][0]["message"].is_string(), "{backend:?}: {query} must fail: {r}");
            assert_no_internals(&r);
        }
        s.finish().await;
    }
}
