//! One statement per root field: a nested query runs exactly one SQL statement, for 5 rows as
//! for 5,000.

use crate::common::*;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Query;
use serde_json::json;

/// Inserts `posts` posts with `comments` comments each, all by one author, straight into the
/// database (fast) — the API is not what is measured here.
async fn seed(s: &TestServer, posts: usize, comments: usize) {
    let author = create_user(s, &format!("seed{posts}@example.com")).await;
    let now = ferrobase::sql::values::datetime(ferrobase::sql::values::now(), s.state.backend());
    let mut pq = Query::insert();
    pq.into_table("posts").columns(["id", "title", "slug", "author_id", "created_at", "updated_at"]);
    let mut post_ids = Vec::new();
    for i in 0..posts {
        let id = uuid::Uuid::now_v7().to_string();
        pq.values_panic([
            id.clone().into(),
            format!("Post {i}").into(),
            format!("slug-{posts}-{i}").into(),
            author.clone().into(),
            now.clone().into(),
            now.clone().into(),
        ]);
        post_ids.push(id);
    }
    s.state.db.execute(&pq).await.expect("seed posts");
    for chunk in post_ids.chunks(50) {
        let mut cq = Query::insert();
        cq.into_table("comments").columns(["id", "post_id", "author_id", "body", "created_at", "updated_at"]);
        for pid in chunk {
            for j in 0..comments {
                cq.values_panic([
                    uuid::Uuid::now_v7().to_string().into(),
                    pid.clone().into(),
                    author.clone().into(),
                    format!("comment {j}").into(),
                    now.clone().into(),
                    now.clone().into(),
                ]);
            }
        }
        s.state.db.execute(&cq).await.expect("seed comments");
    }
}

const NESTED: &str = r#"query($n: Int!) {
  posts(first: $n) {
    totalCount
    nodes { title author { email } comments(first: 50) { totalCount nodes { body author { email } post { slug } } } }
  }
}"#;

async fn statements_for(backend: ferrobase::testing::TestBackend, posts: usize, comments: usize) -> (u64, usize) {
    let s = TestServer::start(backend, BLOG).await;
    seed(&s, posts, comments).await;
    let before = s.statements();
    let data = s.data(NESTED, json!({ "n": posts.min(100) })).await;
    let used = s.statements() - before;
    let nodes = data["posts"]["nodes"].as_array().unwrap();
    let rows: usize = nodes.iter().map(|p| p["comments"]["nodes"].as_array().unwrap().len()).sum();
    assert_eq!(data["posts"]["totalCount"], posts as i64);
    assert!(nodes.iter().all(|p| p["comments"]["totalCount"] == comments as i64));
    assert!(nodes.iter().all(|p| p["author"]["email"].is_string()));
    s.finish().await;
    (used, rows)
}

#[tokio::test]
async fn a_nested_root_field_is_one_statement_for_5_rows_and_for_5000() {
    for backend in backends() {
        let (small, small_rows) = statements_for(backend, 5, 5).await;
        let (large, large_rows) = statements_for(backend, 100, 50).await;
        assert_eq!(small_rows, 25);
        assert_eq!(large_rows, 5000);
        // posts, their totalCount, authors, pages of comments with their totals, the comments'
        // authors and posts: all in one statement.
        assert_eq!(small, 1, "{backend:?}: 5 rows");
        assert_eq!(large, 1, "{backend:?}: 5,000 rows");
    }
}
