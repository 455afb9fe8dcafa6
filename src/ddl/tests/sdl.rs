//! End to end from SDL text: the example schema through the parser, then plan and apply.

use super::*;
use crate::model::parse_sources;

fn parse(files: &[(&str, &str)]) -> crate::model::Schema {
    let sources: Vec<(String, String)> = files.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
    parse_sources(&sources).unwrap_or_else(|errors| panic!("{errors:?}"))
}

#[tokio::test]
async fn example_schema_migrates_and_evolves() {
    let blog = include_str!("../../../schema/blog.graphql");
    for env in envs().await {
        let v1 = parse(&[("schema/blog.graphql", blog)]);
        let (plan, applied) = env.migrate(&v1, false).await;
        assert!(plan.to_string().contains("+ create table categories"), "{plan}");
        assert_eq!(history::rows(&env.db).await.expect("history")[0].sdl_hash, v1.sdl_hash);
        assert!(applied.history_id.is_some());
        assert!(env.column("users", "display_name").await.is_some());
        let fks = catalog::foreign_keys(&env.db, "posts").await.expect("fks");
        let on_delete = |col: &str| fks.iter().find(|f| f.column == col).map(|f| f.on_delete.clone());
        assert_eq!(on_delete("author_id").as_deref(), Some("RESTRICT"));
        assert_eq!(on_delete("category_id").as_deref(), Some("SET NULL"));
        assert!(env.plan(&v1).await.is_empty());

        // A new optional field and a new model apply by themselves; a removed field waits.
        let extra = "type Tag @model @auth(rules: [{ allow: public }]) { label: String! @unique }";
        let blog2 = blog.replace("  body: String\n", "  body: String\n  subtitle: String\n");
        let v2 = parse(&[("schema/blog.graphql", &blog2), ("schema/tags.graphql", extra)]);
        let plan = env.plan(&v2).await;
        assert!(!plan.needs_allow_destructive(), "{plan}");
        apply(&env.db, &v2, &plan, false).await.expect("additive");
        let v3 = parse(&[("schema/blog.graphql", &blog.replace("  body: String\n", ""))]);
        let plan = env.plan(&v3).await;
        assert!(plan.needs_allow_destructive(), "{plan}");
        assert!(matches!(
            apply(&env.db, &v3, &plan, false).await,
            Err(crate::ddl::MigrateError::NeedsAllowDestructive(_))
        ));
        env.finish().await;
    }
}
