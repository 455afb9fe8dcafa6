//! Changing declared models: additive, destructive and risky changes; type changes; the
//! `users` profile columns.

use super::ir::*;
use super::*;
use crate::ddl::{MigrateError, Risk};
use crate::model::{OnDelete, ScalarType};
use serde_json::json;

async fn insert_post(env: &Env, id: &str, extra_cols: &str, extra_vals: &str) {
    let ts = env.ts();
    env.exec(&format!(
        "INSERT INTO posts (id, created_at, updated_at{extra_cols}) VALUES ('{id}', {ts}, {ts}{extra_vals})"
    ))
    .await;
}

#[tokio::test]
async fn additive_changes_apply_automatically() {
    for env in envs().await {
        let v1 = schema("v1", vec![model("Post", vec![field("title", ScalarType::String).required()])]);
        env.migrate(&v1, false).await;
        insert_post(&env, "p1", ", title", ", 'first'").await;
        insert_post(&env, "p2", ", title", ", 'second'").await;

        let post = model(
            "Post",
            vec![
                field("title", ScalarType::String).required(),
                field("subtitle", ScalarType::String),
                field("views", ScalarType::Int).required().default(json!(5)),
                field("rank", ScalarType::Int).index(),
                field("code", ScalarType::String).unique(),
            ],
        );
        let tag = model("Tag", vec![field("name", ScalarType::String).required().unique()]);
        let v2 = schema("v2", vec![with_index(post, &["title", "rank"], false), tag]);
        let plan = env.plan(&v2).await;
        let text = plan.to_string();
        assert!(!plan.needs_allow_destructive(), "{text}");
        for line in [
            "~ add column posts.subtitle text",
            "~ add column posts.views integer NOT NULL DEFAULT 5",
            "+ create table tags",
            "+ create index idx_posts_rank on posts (rank)",
            "+ create index idx_posts_title_rank on posts (title, rank)",
            "+ create unique index uq_posts_code on posts (code)",
            "+ create unique index uq_tags_name on tags (name)",
        ] {
            assert!(text.lines().any(|l| l.starts_with(line)), "missing {line:?} in\n{text}");
        }
        apply(&env.db, &v2, &plan, false).await.expect("additive changes apply without the flag");

        assert_eq!(env.count("posts").await, 2);
        assert_eq!(env.text("SELECT title FROM posts WHERE id = 'p1'").await.as_deref(), Some("first"));
        assert_eq!(env.text("SELECT CAST(views AS TEXT) FROM posts WHERE id = 'p2'").await.as_deref(), Some("5"));
        assert!(env.tables().await.contains("tags"));
        assert!(env.indexes("posts").await.iter().any(|i| i.name == "uq_posts_code" && i.unique));
        assert!(env.plan(&v2).await.is_empty());
        let rows = history::rows(&env.db).await.expect("history");
        assert_eq!(rows.iter().map(|r| r.sdl_hash.as_str()).collect::<Vec<_>>(), ["v1", "v2"]);
        env.finish().await;
    }
}

#[tokio::test]
async fn destructive_changes_need_the_flag() {
    for env in envs().await {
        let post = |extra: bool| {
            let mut f = vec![field("title", ScalarType::String).required()];
            if extra {
                f.push(field("body", ScalarType::String).index());
            }
            model("Post", f)
        };
        let v1 = schema("v1", vec![post(true), model("Tag", vec![field("name", ScalarType::String)])]);
        env.migrate(&v1, false).await;
        insert_post(&env, "p1", ", title, body", ", 'kept', 'lost'").await;

        let v2 = schema("v2", vec![post(false)]);
        let plan = env.plan(&v2).await;
        assert!(plan.needs_allow_destructive());
        let refused: Vec<_> = plan.refused().map(|c| (c.risk, c.description.clone())).collect();
        assert!(
            refused.contains(&(Risk::Destructive, "! drop column posts.body (destructive: its data is lost)".into()))
        );
        assert!(refused.iter().any(|(r, d)| *r == Risk::Destructive && d.starts_with("! drop table tags")));
        let err = apply(&env.db, &v2, &plan, false).await.expect_err("refused");
        assert!(matches!(err, MigrateError::NeedsAllowDestructive(_)));
        let msg = err.to_string();
        assert!(
            msg.contains("! drop column posts.body") && msg.contains("`ferrobase migrate --allow-destructive`"),
            "{msg}"
        );
        // Nothing changed.
        assert!(env.column("posts", "body").await.is_some());
        assert!(env.tables().await.contains("tags"));
        assert_eq!(env.history_len().await, 1);

        apply(&env.db, &v2, &plan, true).await.expect("applied with the flag");
        assert!(env.column("posts", "body").await.is_none());
        assert!(!env.tables().await.contains("tags"));
        assert_eq!(env.text("SELECT title FROM posts").await.as_deref(), Some("kept"));
        assert!(env.indexes("posts").await.iter().all(|i| i.name != "idx_posts_body"));
        assert!(env.plan(&v2).await.is_empty());
        env.finish().await;
    }
}

#[tokio::test]
async fn risky_changes_need_the_flag_and_fail_cleanly_on_bad_rows() {
    for env in envs().await {
        let post = |fields: Vec<crate::model::Field>| {
            let mut f = vec![field("code", ScalarType::String)];
            f.extend(fields);
            model("Post", f)
        };
        env.migrate(&schema("v1", vec![post(vec![field("title", ScalarType::String)])]), false).await;
        insert_post(&env, "p1", ", code, title", ", 'dup', NULL").await;
        insert_post(&env, "p2", ", code, title", ", 'dup', 'x'").await;

        // A new @unique over existing rows.
        let mut unique = post(vec![field("title", ScalarType::String)]);
        unique.fields[3] = field("code", ScalarType::String).unique();
        let v2 = schema("v2", vec![unique]);
        let plan = env.plan(&v2).await;
        assert_eq!(plan.refused().count(), 1, "{plan}");
        assert!(plan.to_string().contains("! create unique index uq_posts_code on posts (code) (risky"), "{plan}");
        assert!(matches!(apply(&env.db, &v2, &plan, false).await, Err(MigrateError::NeedsAllowDestructive(_))));
        let err = apply(&env.db, &v2, &plan, true).await.expect_err("duplicates");
        assert!(matches!(err, MigrateError::Db(_)));
        assert!(err.to_string().contains("nothing was applied") && err.to_string().contains("duplicate"), "{err}");
        assert!(env.indexes("posts").await.iter().all(|i| i.name != "uq_posts_code"), "nothing applied");
        assert_eq!(env.history_len().await, 1);

        // A new required column without a default.
        let v3 = schema(
            "v3",
            vec![post(vec![field("title", ScalarType::String), field("rank", ScalarType::Int).required()])],
        );
        let plan = env.plan(&v3).await;
        assert!(plan.to_string().contains("! add column posts.rank integer NOT NULL (risky"), "{plan}");
        assert!(matches!(apply(&env.db, &v3, &plan, false).await, Err(MigrateError::NeedsAllowDestructive(_))));
        let err = apply(&env.db, &v3, &plan, true).await.expect_err("rows without a value");
        assert!(err.to_string().contains("nothing was applied"), "{err}");
        assert!(env.column("posts", "rank").await.is_none());
        assert_eq!(env.count("posts").await, 2);

        // Optional → required: fails on the NULL title, then succeeds with a default filling it.
        let v4 = schema("v4", vec![post(vec![field("title", ScalarType::String).required()])]);
        let plan = env.plan(&v4).await;
        assert!(
            plan.to_string().contains("! make posts.title required (risky: fails if a row has no value)"),
            "{plan}"
        );
        assert!(apply(&env.db, &v4, &plan, true).await.is_err());
        assert_eq!(env.history_len().await, 1);
        let v5 =
            schema("v5", vec![post(vec![field("title", ScalarType::String).required().default(json!("untitled"))])]);
        env.migrate(&v5, true).await;
        assert_eq!(env.text("SELECT title FROM posts WHERE id = 'p1'").await.as_deref(), Some("untitled"));
        assert!(env.column("posts", "title").await.is_some_and(|c| c.not_null));

        // On an empty table the required column applies.
        env.exec("DELETE FROM posts").await;
        let v6 = schema(
            "v6",
            vec![post(vec![
                field("title", ScalarType::String).required().default(json!("untitled")),
                field("rank", ScalarType::Int).required(),
            ])],
        );
        env.migrate(&v6, true).await;
        assert!(env.column("posts", "rank").await.is_some_and(|c| c.not_null));
        assert!(env.plan(&v6).await.is_empty());
        env.finish().await;
    }
}

#[tokio::test]
async fn type_change_keeps_rows_and_children() {
    for env in envs().await {
        let post = |ty: ScalarType| model("Post", vec![field("code", ty).index(), field("note", ScalarType::String)]);
        let comment = || model("Comment", vec![belongs_to("post", "Post", true, OnDelete::Cascade)]);
        env.migrate(&schema("v1", vec![post(ScalarType::Int), comment()]), false).await;
        insert_post(&env, "p1", ", code, note", ", 42, 'n'").await;
        let ts = env.ts();
        env.exec(&format!(
            "INSERT INTO comments (id, created_at, updated_at, post_id) VALUES ('c1', {ts}, {ts}, 'p1')"
        ))
        .await;

        let v2 = schema("v2", vec![post(ScalarType::String), comment()]);
        let plan = env.plan(&v2).await;
        let text = plan.to_string();
        assert!(text.contains("! change type of posts.code from integer to text (risky"), "{text}");
        assert_eq!(text.contains("~ rebuild table posts"), !env.pg(), "{text}");
        env.migrate(&v2, true).await;

        assert_eq!(env.column("posts", "code").await.map(|c| c.ty).as_deref(), Some("text"));
        assert_eq!(env.text("SELECT CAST(code AS TEXT) FROM posts").await.as_deref(), Some("42"));
        assert_eq!(env.text("SELECT note FROM posts").await.as_deref(), Some("n"));
        // The rebuild dropped the old table without cascading into comments.
        assert_eq!(env.count("comments").await, 1);
        assert!(env.indexes("posts").await.iter().any(|i| i.name == "idx_posts_code"));
        // Foreign keys still hold both ways.
        let bad =
            format!("INSERT INTO comments (id, created_at, updated_at, post_id) VALUES ('c2', {ts}, {ts}, 'nope')");
        assert!(env.try_exec(&bad).await.is_err());
        env.exec("DELETE FROM posts WHERE id = 'p1'").await;
        assert_eq!(env.count("comments").await, 0);
        assert!(env.plan(&v2).await.is_empty());
        env.finish().await;
    }
}

#[tokio::test]
async fn user_profile_columns_leave_system_columns_alone() {
    for env in envs().await {
        let v1 = schema("v1", vec![user(vec![field("displayName", ScalarType::String)])]);
        env.migrate(&v1, false).await;
        let ts = env.ts();
        env.exec(&format!(
            "INSERT INTO users (id, email, roles, created_at, updated_at) VALUES ('u1', 'a@b.c', '[\"admin\"]', {ts}, {ts})"
        ))
        .await;
        env.exec(&format!(
            "INSERT INTO sessions (id, user_id, family_id, refresh_token_hash, created_at, expires_at) \
             VALUES ('s1', 'u1', 'f1', 'h1', {ts}, {ts})"
        ))
        .await;

        // Optional → required with a default, plus a new column: SQLite rebuilds `users`.
        let v2 = schema(
            "v2",
            vec![user(vec![
                field("displayName", ScalarType::String).required().default(json!("anon")),
                field("age", ScalarType::Int).index(),
            ])],
        );
        env.migrate(&v2, true).await;
        assert_eq!(env.text("SELECT display_name FROM users").await.as_deref(), Some("anon"));
        assert_eq!(env.text("SELECT email FROM users").await.as_deref(), Some("a@b.c"));
        assert_eq!(env.text("SELECT CAST(roles AS TEXT) FROM users").await.as_deref(), Some("[\"admin\"]"));
        assert_eq!(env.count("sessions").await, 1, "sessions must survive a rebuild of users");
        let idx = env.indexes("users").await;
        assert!(idx.iter().any(|i| i.name == "uq_users_email" && i.unique), "{idx:?}");
        assert!(idx.iter().any(|i| i.name == "idx_users_age"), "{idx:?}");
        let dup = format!("INSERT INTO users (id, email, created_at, updated_at) VALUES ('u2', 'a@b.c', {ts}, {ts})");
        assert!(env.try_exec(&dup).await.is_err(), "email stays unique");
        assert!(env.column("users", "id").await.is_some_and(|c| c.primary_key));

        // Dropping the profile column keeps the system ones.
        let v3 = schema("v3", vec![user(vec![field("age", ScalarType::Int).index()])]);
        env.migrate(&v3, true).await;
        let cols: Vec<String> = env.columns("users").await.into_iter().map(|c| c.name).collect();
        for c in migration::USERS_SYSTEM_COLUMNS {
            assert!(cols.iter().any(|x| x == c), "{c} missing from {cols:?}");
        }
        assert!(!cols.iter().any(|c| c == "display_name"));
        env.exec("DELETE FROM users").await;
        assert_eq!(env.count("sessions").await, 0, "ON DELETE CASCADE from users still holds");
        assert!(env.plan(&v3).await.is_empty());
        env.finish().await;
    }
}

#[tokio::test]
async fn profile_field_on_a_system_column_is_refused() {
    for env in envs().await {
        let s = schema("v1", vec![user(vec![field("passwordHash", ScalarType::String)])]);
        let msg = format!("{:#}", plan(&env.db, &s).await.expect_err("system column"));
        assert!(msg.contains("password_hash"), "{msg}");
        env.finish().await;
    }
}
