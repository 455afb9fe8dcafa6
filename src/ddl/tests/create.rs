//! Creating the model tables from scratch; system tables; history; drift.

use super::ir::*;
use super::*;
use crate::model::{OnDelete, ScalarType, Schema};
use serde_json::json;

/// The SPEC's example, roughly: Post and Comment, User with a profile field.
pub fn blog(hash: &str) -> Schema {
    let post = model(
        "Post",
        vec![
            field("title", ScalarType::String).required(),
            field("slug", ScalarType::String).required().unique(),
            field("body", ScalarType::String),
            field("status", ScalarType::Enum("Status".into())).required().default(json!("DRAFT")),
            field("views", ScalarType::Int).required().default(json!(0)),
            field("score", ScalarType::Float).default(json!(1.5)),
            field("pinned", ScalarType::Boolean).required().default(json!(true)),
            field("tags", ScalarType::String).list().default(json!(["a", "it's"])),
            field("meta", ScalarType::Json),
            field("cover", ScalarType::File),
            field("publishedAt", ScalarType::DateTime).index().default(json!("2024-01-01T00:00:00+02:00")),
            belongs_to("author", "User", true, OnDelete::Restrict),
        ],
    );
    let post = with_index(post, &["status", "published_at"], false);
    let comment = model(
        "Comment",
        vec![belongs_to("post", "Post", true, OnDelete::Cascade), field("body", ScalarType::String).required()],
    );
    schema(hash, vec![user(vec![field("displayName", ScalarType::String)]), post, comment])
}

#[tokio::test]
async fn system_tables_have_the_contract_types() {
    for env in envs().await {
        let tables = env.tables().await;
        for t in ["users", "sessions", "ferrobase_schema_migrations", "ferrobase_system_migrations"] {
            assert!(tables.contains(t), "{t} missing: {tables:?}");
        }
        let users = env.columns("users").await;
        let ty = |name: &str| users.iter().find(|c| c.name == name).map(|c| c.ty.clone()).expect(name);
        assert_eq!(ty("id"), "text");
        assert_eq!(ty("email_verified"), "boolean");
        assert_eq!(ty("roles"), env.expect_type("json"));
        assert_eq!(ty("created_at"), env.expect_type("datetime"));
        assert!(users.iter().find(|c| c.name == "id").is_some_and(|c| c.primary_key));
        assert!(env.indexes("users").await.iter().any(|i| i.columns == ["email"] && i.unique));
        let sessions = catalog::foreign_keys(&env.db, "sessions").await.expect("fks");
        assert_eq!(sessions.len(), 1);
        assert_eq!((sessions[0].column.as_str(), sessions[0].on_delete.as_str()), ("user_id", "CASCADE"));
        // Defaults fit the app's binding: a user row needs only id, email and timestamps.
        env.exec(&format!(
            "INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'a@b.c', {0}, {0})",
            env.ts()
        ))
        .await;
        let roles = env.text("SELECT CAST(roles AS TEXT) FROM users").await;
        assert_eq!(roles.as_deref(), Some("[]"));
        // Idempotent.
        migrate_system(&env.db).await.expect("second run");
        env.finish().await;
    }
}

#[tokio::test]
async fn creates_tables_from_scratch() {
    for env in envs().await {
        let s = blog("v1");
        let plan = env.plan(&s).await;
        assert!(!plan.needs_allow_destructive(), "{plan}");
        let text = plan.to_string();
        assert!(text.contains("+ create table posts"), "{text}");
        assert!(text.contains("~ add column users.display_name text"), "{text}");
        let (_, applied) = env.migrate(&s, false).await;
        assert!(applied.history_id.is_some());

        let posts = env.columns("posts").await;
        let col = |name: &str| posts.iter().find(|c| c.name == name).cloned().unwrap_or_else(|| panic!("{name}"));
        assert!(col("id").primary_key);
        assert_eq!(col("title").ty, "text");
        assert!(col("title").not_null);
        assert!(!col("body").not_null);
        assert_eq!(col("views").ty, "integer");
        assert_eq!(col("score").ty, env.expect_type("float"));
        assert_eq!(col("pinned").ty, "boolean");
        assert_eq!(col("tags").ty, env.expect_type("json"));
        assert_eq!(col("meta").ty, env.expect_type("json"));
        assert_eq!(col("cover").ty, "text");
        assert_eq!(col("published_at").ty, env.expect_type("datetime"));
        assert_eq!(col("created_at").ty, env.expect_type("datetime"));
        assert!(col("author_id").not_null);
        assert!(env.column("users", "display_name").await.is_some());

        let idx = env.indexes("posts").await;
        let has = |name: &str, cols: &[&str], unique: bool| {
            idx.iter().any(|i| i.name == name && i.columns == cols && i.unique == unique)
        };
        assert!(has("uq_posts_slug", &["slug"], true), "{idx:?}");
        assert!(has("idx_posts_published_at", &["published_at"], false), "{idx:?}");
        assert!(has("idx_posts_status_published_at", &["status", "published_at"], false), "{idx:?}");
        assert!(has("idx_posts_author_id", &["author_id"], false), "{idx:?}");
        assert!(
            has("idx_posts_created_at", &["created_at"], false),
            "every model: newest first reads an index: {idx:?}"
        );
        assert!(env.indexes("comments").await.iter().any(|i| i.columns == ["post_id"]));

        let fks = catalog::foreign_keys(&env.db, "comments").await.expect("fks");
        assert_eq!(fks.len(), 1);
        assert_eq!(
            (fks[0].column.as_str(), fks[0].ref_table.as_str(), fks[0].on_delete.as_str()),
            ("post_id", "posts", "CASCADE")
        );
        let fks = catalog::foreign_keys(&env.db, "posts").await.expect("fks");
        assert_eq!((fks[0].ref_table.as_str(), fks[0].on_delete.as_str()), ("users", "RESTRICT"));

        // Defaults land as values of the column type.
        let ts = env.ts();
        env.exec(&format!("INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'a@b.c', {ts}, {ts})"))
            .await;
        env.exec(&format!(
            "INSERT INTO posts (id, created_at, updated_at, title, slug, author_id) VALUES ('p1', {ts}, {ts}, 'T', 's', 'u1')"
        ))
        .await;
        let get = |c: &str| format!("SELECT CAST({c} AS TEXT) FROM posts");
        assert_eq!(env.text(&get("status")).await.as_deref(), Some("DRAFT"));
        assert_eq!(env.text(&get("views")).await.as_deref(), Some("0"));
        assert_eq!(env.text(&get("pinned")).await.as_deref(), Some(if env.pg() { "true" } else { "1" }));
        let tags = if env.pg() { r#"["a", "it's"]"# } else { r#"["a","it's"]"# };
        assert_eq!(env.text(&get("tags")).await.as_deref(), Some(tags));
        if !env.pg() {
            assert_eq!(env.text(&get("published_at")).await.as_deref(), Some("2023-12-31T22:00:00.000000Z"));
        }

        // Nothing left to do, and the run is recorded with its hash.
        let again = env.plan(&s).await;
        assert!(again.is_empty(), "{again}");
        assert_eq!(again.to_string(), "no changes");
        let applied = apply(&env.db, &s, &again, false).await.expect("empty apply");
        assert_eq!(applied.history_id, None);
        let rows = history::rows(&env.db).await.expect("history");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].sdl_hash, "v1");
        assert!(rows[0].plan.contains("+ create table posts"));
        assert!(rows[0].snapshot.contains("\"posts\""));
        env.finish().await;
    }
}

#[tokio::test]
async fn existing_table_without_record_is_a_clear_error() {
    for env in envs().await {
        env.exec("CREATE TABLE posts (id text PRIMARY KEY)").await;
        let err = plan(&env.db, &blog("v1")).await.expect_err("drift");
        let msg = format!("{err:#}");
        assert!(msg.contains("table `posts` (model `Post`) already exists"), "{msg}");
        env.finish().await;
    }
}

#[tokio::test]
async fn table_dropped_by_hand_is_reported() {
    for env in envs().await {
        env.migrate(&blog("v1"), false).await;
        env.exec("DROP TABLE comments").await;
        let msg = format!("{:#}", plan(&env.db, &blog("v1")).await.expect_err("drift"));
        assert!(msg.contains("`comments` is recorded"), "{msg}");
        env.finish().await;
    }
}

#[tokio::test]
async fn reserved_table_names_are_refused() {
    for env in envs().await {
        let s = schema("v1", vec![model("Session", vec![])]);
        let msg = format!("{:#}", plan(&env.db, &s).await.expect_err("reserved"));
        assert!(msg.contains("`sessions`") && msg.contains("reserved"), "{msg}");
        env.finish().await;
    }
}

#[tokio::test]
async fn stale_plan_is_refused() {
    for env in envs().await {
        let s1 = schema("v1", vec![model("Tag", vec![field("name", ScalarType::String)])]);
        let stale = env.plan(&s1).await;
        env.migrate(&s1, false).await;
        let err = apply(&env.db, &s1, &stale, false).await.expect_err("stale");
        assert!(err.to_string().contains("another migration was applied"), "{err}");
        assert_eq!(env.history_len().await, 1);
        env.finish().await;
    }
}

#[tokio::test]
async fn in_memory_sqlite_migrates_and_rebuilds() {
    let db = crate::db::connect("sqlite::memory:").await.expect("connect");
    migrate_system(&db).await.expect("system migrations");
    let v1 = blog("v1");
    let p = plan(&db, &v1).await.expect("plan");
    apply(&db, &v1, &p, false).await.expect("apply");
    assert!(catalog::tables(&db).await.expect("tables").contains("posts"));
    // A rebuild (drop column) runs on its own connection and must see the same database.
    let mut v2 = blog("v2");
    let post = v2.models.iter_mut().find(|m| m.name == "Post").expect("Post");
    post.fields.retain(|f| f.name != "body");
    let p = plan(&db, &v2).await.expect("plan");
    apply(&db, &v2, &p, true).await.expect("apply");
    let cols = catalog::columns(&db, "posts").await.expect("columns");
    assert!(cols.iter().all(|c| c.name != "body"));
    assert!(plan(&db, &v2).await.expect("plan").is_empty());
}
