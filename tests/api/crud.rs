//! Create, read, update and delete through the generated API.

use crate::common::*;
use serde_json::{Value, json};

const CREATE_POST: &str = r#"mutation($input: CreatePostInput!) {
  createPost(input: $input) { id title slug body status views rating featured tags meta publishedAt authorId createdAt updatedAt author { id email } }
}"#;

pub async fn new_post(s: &TestServer, author: &str, slug: &str, extra: Value) -> Value {
    let mut input = json!({ "title": format!("Post {slug}"), "slug": slug, "authorId": author });
    input.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    s.data(CREATE_POST, json!({ "input": input })).await["createPost"].clone()
}

#[tokio::test]
async fn create_read_update_delete_round_trip() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "ada@example.com").await;
        let created = new_post(
            &s,
            &author,
            "hello",
            json!({ "body": "first", "tags": ["a", "b"], "meta": {"k": [1, 2]}, "rating": 4.5, "publishedAt": "2026-01-31T12:00:00+01:00" }),
        )
        .await;
        // Server-set and defaulted fields.
        let id = created["id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "{backend:?}: UUID id");
        assert_eq!(created["status"], "DRAFT");
        assert_eq!(created["views"], 0);
        assert_eq!(created["featured"], false);
        assert_eq!(created["tags"], json!(["a", "b"]));
        assert_eq!(created["meta"], json!({"k": [1, 2]}));
        assert_eq!(created["rating"], 4.5);
        assert_eq!(created["publishedAt"], "2026-01-31T11:00:00.000000Z", "stored and returned in UTC");
        assert_eq!(created["author"]["email"], "ada@example.com");
        assert_eq!(created["authorId"], author.as_str());
        assert_eq!(created["createdAt"], created["updatedAt"]);

        // Read back by id.
        let read =
            s.data("query($id: ID!) { post(id: $id) { id title tags author { email } } }", json!({ "id": id })).await;
        assert_eq!(read["post"]["title"], "Post hello");
        assert_eq!(read["post"]["author"]["email"], "ada@example.com");

        // Update: absent = unchanged, null = cleared.
        let upd = s
            .data(
                "mutation($id: ID!) { updatePost(id: $id, input: { title: \"New\", body: null, status: PUBLISHED, views: 7 }) { title body slug status views tags updatedAt createdAt } }",
                json!({ "id": id }),
            )
            .await["updatePost"]
            .clone();
        assert_eq!(upd["title"], "New");
        assert_eq!(upd["body"], Value::Null);
        assert_eq!(upd["slug"], "hello", "absent fields stay");
        assert_eq!(upd["tags"], json!(["a", "b"]));
        assert_eq!(upd["status"], "PUBLISHED");
        assert_eq!(upd["views"], 7);
        assert!(upd["updatedAt"].as_str() > upd["createdAt"].as_str(), "updatedAt moves: {upd}");

        // Delete returns the row as it was; then it is gone.
        let del = s
            .data("mutation($id: ID!) { deletePost(id: $id) { id title author { email } } }", json!({ "id": id }))
            .await;
        assert_eq!(del["deletePost"]["title"], "New");
        assert_eq!(del["deletePost"]["author"]["email"], "ada@example.com");
        let gone = s.data("query($id: ID!) { post(id: $id) { id } }", json!({ "id": id })).await;
        assert_eq!(gone["post"], Value::Null);
        s.finish().await;
    }
}

/// Several creates of one model in one mutation (aliased root fields, as clients batch them)
/// create that many rows, each with an id of its own.
#[tokio::test]
async fn several_creates_in_one_mutation_create_several_rows() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let fields: Vec<String> =
            (0..5).map(|i| format!("c{i}: createCategory(input: {{name: \"cat-{i}\"}}) {{ id name }}")).collect();
        let r = s.data(&format!("mutation {{ {} }}", fields.join(" ")), json!({})).await;
        let mut ids: Vec<&str> = (0..5).map(|i| r[format!("c{i}")]["id"].as_str().unwrap()).collect();
        for i in 0..5 {
            assert_eq!(r[format!("c{i}")]["name"], format!("cat-{i}"), "{backend:?}");
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 5, "{backend:?}: five distinct ids: {r}");
        let count = s.data("{ categories { totalCount } }", json!({})).await;
        assert_eq!(count["categories"]["totalCount"], 5, "{backend:?}");
        s.finish().await;
    }
}

#[tokio::test]
async fn missing_rows_are_not_found() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let missing = "01900000-0000-7000-8000-000000000000";
        let r = s
            .gql("mutation($id: ID!) { updatePost(id: $id, input: { title: \"x\" }) { id } }", json!({ "id": missing }))
            .await;
        assert_eq!(error_code(&r), "NOT_FOUND", "{backend:?}: {r}");
        // One error, at the field's path; a non-null root field's null makes `data` null.
        assert_eq!(r["errors"].as_array().map(Vec::len), Some(1), "{r}");
        assert_eq!(r["errors"][0]["path"], json!(["updatePost"]), "{r}");
        assert_eq!(r["data"], Value::Null, "{r}");
        let r = s.gql("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({ "id": missing })).await;
        assert_eq!(error_code(&r), "NOT_FOUND", "{backend:?}: {r}");
        assert_eq!(r["errors"][0]["path"], json!(["deletePost"]), "{r}");
        // Query errors too, by response key; a failed non-null root field nulls `data` (GraphQL
        // null propagation).
        let r = s.gql("{ bad: posts(first: -1) { totalCount } good: posts { totalCount } }", json!({})).await;
        assert_eq!(r["errors"][0]["path"], json!(["bad"]), "{r}");
        assert_eq!(r["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{r}");
        assert_eq!(r["errors"].as_array().map(Vec::len), Some(1), "{r}");
        assert_eq!(r["data"], Value::Null, "{r}");
        s.finish().await;
    }
}

#[tokio::test]
async fn relations_resolve_both_ways_and_on_delete_rules_hold() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "bo@example.com").await;
        let cat =
            s.data("mutation { createCategory(input: { name: \"Rust\" }) { id } }", json!({})).await["createCategory"]
                ["id"]
                .clone();
        let post = new_post(&s, &author, "p1", json!({ "categoryId": cat })).await;
        let pid = post["id"].clone();
        for body in ["one", "two", "three"] {
            s.data(
                "mutation($p: ID!, $a: ID!, $b: String!) { createComment(input: { postId: $p, authorId: $a, body: $b }) { id } }",
                json!({ "p": pid, "a": author, "b": body }),
            )
            .await;
        }
        let q = s
            .data(
                "query($id: ID!) { category(id: $id) { name posts { totalCount nodes { slug category { name } comments(orderBy: [{body: ASC}]) { totalCount nodes { body post { slug } } } } } } }",
                json!({ "id": cat }),
            )
            .await;
        let p = &q["category"]["posts"]["nodes"][0];
        assert_eq!(q["category"]["posts"]["totalCount"], 1);
        assert_eq!(p["category"]["name"], "Rust");
        assert_eq!(p["comments"]["totalCount"], 3);
        let bodies: Vec<&str> =
            p["comments"]["nodes"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, ["one", "three", "two"]);
        assert_eq!(p["comments"]["nodes"][0]["post"]["slug"], "p1");

        // RESTRICT: the author cannot go while posts refer to it (raw delete through the DB).
        // SET_NULL: deleting the category clears post.categoryId.
        s.data("mutation($id: ID!) { deleteCategory(id: $id) { id } }", json!({ "id": cat })).await;
        let after =
            s.data("query($id: ID!) { post(id: $id) { categoryId category { name } } }", json!({ "id": pid })).await;
        assert_eq!(after["post"]["categoryId"], Value::Null);
        assert_eq!(after["post"]["category"], Value::Null);
        // CASCADE: deleting the post deletes its comments.
        s.data("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({ "id": pid })).await;
        let left = s.data("{ comments { totalCount } }", json!({})).await;
        assert_eq!(left["comments"]["totalCount"], 0, "{backend:?}: comments cascade");
        s.finish().await;
    }
}
