//! Foreign keys: ON DELETE behaviour in the database, relations added later, cycles.

use super::ir::*;
use super::*;
use crate::model::{OnDelete, ScalarType};

fn library(hash: &str, review_on_delete: OnDelete) -> crate::model::Schema {
    schema(
        hash,
        vec![
            model("Author", vec![field("name", ScalarType::String)]),
            model("Book", vec![belongs_to("author", "Author", true, OnDelete::Cascade)]),
            model("Review", vec![belongs_to("author", "Author", false, review_on_delete)]),
            model("Loan", vec![belongs_to("author", "Author", true, OnDelete::Restrict)]),
        ],
    )
}

async fn insert(env: &Env, table: &str, id: &str, author: Option<&str>) {
    let ts = env.ts();
    let (cols, vals) = match author {
        Some(a) => (", author_id", format!(", '{a}'")),
        None => ("", String::new()),
    };
    env.exec(&format!("INSERT INTO {table} (id, created_at, updated_at{cols}) VALUES ('{id}', {ts}, {ts}{vals})"))
        .await;
}

#[tokio::test]
async fn on_delete_actions_behave_in_the_database() {
    for env in envs().await {
        env.migrate(&library("v1", OnDelete::SetNull), false).await;
        insert(&env, "authors", "a1", None).await;
        insert(&env, "authors", "a2", None).await;
        insert(&env, "books", "b1", Some("a1")).await;
        insert(&env, "reviews", "r1", Some("a1")).await;
        insert(&env, "loans", "l1", Some("a2")).await;

        env.exec("DELETE FROM authors WHERE id = 'a1'").await;
        assert_eq!(env.count("books").await, 0, "CASCADE deletes the child");
        assert_eq!(env.count("reviews").await, 1);
        assert_eq!(env.text("SELECT author_id FROM reviews").await, None, "SET NULL clears the reference");

        assert!(env.try_exec("DELETE FROM authors WHERE id = 'a2'").await.is_err(), "RESTRICT refuses");
        assert_eq!(env.count("authors").await, 1);
        assert_eq!(env.count("loans").await, 1);

        let ts = env.ts();
        let dangling =
            format!("INSERT INTO books (id, created_at, updated_at, author_id) VALUES ('b2', {ts}, {ts}, 'nope')");
        assert!(env.try_exec(&dangling).await.is_err(), "a reference to a missing row is refused");
        env.finish().await;
    }
}

#[tokio::test]
async fn changing_on_delete_is_safe_and_takes_effect() {
    for env in envs().await {
        env.migrate(&library("v1", OnDelete::SetNull), false).await;
        insert(&env, "authors", "a1", None).await;
        insert(&env, "reviews", "r1", Some("a1")).await;

        let v2 = library("v2", OnDelete::Cascade);
        let plan = env.plan(&v2).await;
        assert!(!plan.needs_allow_destructive(), "{plan}");
        assert!(plan.to_string().contains("~ change foreign key reviews.author_id"), "{plan}");
        apply(&env.db, &v2, &plan, false).await.expect("apply");
        let fks = catalog::foreign_keys(&env.db, "reviews").await.expect("fks");
        assert_eq!(fks[0].on_delete, "CASCADE");
        assert_eq!(env.count("reviews").await, 1);
        env.exec("DELETE FROM authors").await;
        assert_eq!(env.count("reviews").await, 0);
        env.finish().await;
    }
}

#[tokio::test]
async fn relation_added_to_an_existing_table() {
    for env in envs().await {
        let author = || model("Author", vec![field("name", ScalarType::String)]);
        env.migrate(&schema("v1", vec![author(), model("Book", vec![field("title", ScalarType::String)])]), false)
            .await;
        let ts = env.ts();
        env.exec(&format!("INSERT INTO books (id, created_at, updated_at, title) VALUES ('b1', {ts}, {ts}, 't')"))
            .await;

        let book = model(
            "Book",
            vec![field("title", ScalarType::String), belongs_to("author", "Author", false, OnDelete::SetNull)],
        );
        let v2 = schema("v2", vec![author(), book]);
        let plan = env.plan(&v2).await;
        assert!(!plan.needs_allow_destructive(), "{plan}");
        apply(&env.db, &v2, &plan, false).await.expect("apply");
        let fks = catalog::foreign_keys(&env.db, "books").await.expect("fks");
        assert_eq!((fks[0].column.as_str(), fks[0].on_delete.as_str()), ("author_id", "SET NULL"));
        assert!(env.indexes("books").await.iter().any(|i| i.name == "idx_books_author_id"));
        assert_eq!(env.text("SELECT title FROM books").await.as_deref(), Some("t"));
        env.finish().await;
    }
}

#[tokio::test]
async fn cyclic_and_self_relations_are_created() {
    for env in envs().await {
        let s = schema(
            "v1",
            vec![
                model("Alpha", vec![belongs_to("beta", "Beta", false, OnDelete::SetNull)]),
                model("Beta", vec![belongs_to("alpha", "Alpha", false, OnDelete::SetNull)]),
                model("Node", vec![belongs_to("parent", "Node", false, OnDelete::Cascade)]),
            ],
        );
        env.migrate(&s, false).await;
        for (table, target) in [("alphas", "betas"), ("betas", "alphas"), ("nodes", "nodes")] {
            let fks = catalog::foreign_keys(&env.db, table).await.expect("fks");
            assert_eq!(fks.len(), 1, "{table}");
            assert_eq!(fks[0].ref_table, target);
        }
        let ts = env.ts();
        env.exec(&format!("INSERT INTO nodes (id, created_at, updated_at) VALUES ('n1', {ts}, {ts})")).await;
        env.exec(&format!("INSERT INTO nodes (id, created_at, updated_at, parent_id) VALUES ('n2', {ts}, {ts}, 'n1')"))
            .await;
        env.exec("DELETE FROM nodes WHERE id = 'n1'").await;
        assert_eq!(env.count("nodes").await, 0);
        assert!(env.plan(&s).await.is_empty());
        env.finish().await;
    }
}
