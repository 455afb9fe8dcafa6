//! Tests of the SDL parser: what valid schemas produce. Error reporting: `parse_tests/`.

mod errors;
mod rules;

use super::*;

/// Parses one file named `s.graphql`.
pub(super) fn parse(text: &str) -> Result<Schema, Vec<Diagnostic>> {
    parse_sources(&[("s.graphql".to_string(), text.to_string())])
}

pub(super) fn ok(text: &str) -> Schema {
    match parse(text) {
        Ok(s) => s,
        Err(errors) => panic!("unexpected errors:\n{}", render(&errors)),
    }
}

/// Every error as `file:line:column: message`.
pub(super) fn errors_of(files: &[(&str, &str)]) -> Vec<String> {
    let sources: Vec<(String, String)> = files.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
    match parse_sources(&sources) {
        Ok(_) => panic!("expected errors, the schema parsed"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

pub(super) fn errors(text: &str) -> Vec<String> {
    errors_of(&[("s.graphql", text)])
}

pub(super) fn render(errors: &[Diagnostic]) -> String {
    errors.iter().map(|e| format!("{e}\n")).collect()
}

/// Asserts one error contains `needle` (which may start with `s.graphql:line:col:`).
#[track_caller]
pub(super) fn assert_error(errors: &[String], needle: &str) {
    assert!(
        errors.iter().any(|e| e.contains(needle)),
        "no error contains {needle:?}; errors were:\n{}",
        errors.join("\n")
    );
}

pub(super) fn scalar<'a>(m: &'a Model, field: &str) -> &'a ScalarField {
    match &m.field(field).unwrap_or_else(|| panic!("no field {field}")).kind {
        FieldKind::Scalar(s) => s,
        other => panic!("{field} is not a scalar: {other:?}"),
    }
}

pub(super) fn belongs<'a>(m: &'a Model, field: &str) -> &'a BelongsTo {
    match &m.field(field).unwrap_or_else(|| panic!("no field {field}")).kind {
        FieldKind::BelongsTo(b) => b,
        other => panic!("{field} is not a belongsTo: {other:?}"),
    }
}

pub(super) fn has_many<'a>(m: &'a Model, field: &str) -> &'a HasMany {
    match &m.field(field).unwrap_or_else(|| panic!("no field {field}")).kind {
        FieldKind::HasMany(h) => h,
        other => panic!("{field} is not a hasMany: {other:?}"),
    }
}

const BLOG: &str = include_str!("../../schema/blog.graphql");

#[test]
fn the_example_blog_parses_into_the_expected_ir() {
    let schema = match parse_sources(&[("schema/blog.graphql".into(), BLOG.into())]) {
        Ok(s) => s,
        Err(e) => panic!("blog.graphql has errors:\n{}", render(&e)),
    };
    assert!(schema.warnings.is_empty(), "{:?}", schema.warnings);
    let names: Vec<&str> = schema.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["User", "Post", "Comment", "Category"]);
    assert_eq!(schema.enum_def("Status").expect("Status").values, ["DRAFT", "PUBLISHED"]);

    let post = schema.model("Post").expect("Post");
    assert_eq!((post.single.as_str(), post.plural.as_str(), post.table.as_str()), ("post", "posts", "posts"));
    assert_eq!(post.description.as_deref(), Some("A blog post."));
    assert_eq!(post.span, Span { file: "schema/blog.graphql".into(), line: 15, column: 6 });
    let field_names: Vec<&str> = post.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        field_names,
        [
            "id",
            "createdAt",
            "updatedAt",
            "title",
            "slug",
            "body",
            "status",
            "views",
            "rating",
            "featured",
            "tags",
            "meta",
            "publishedAt",
            "author",
            "category",
            "comments"
        ]
    );
    assert_eq!(scalar(post, "id").managed, Some(Managed::Id));
    assert_eq!(scalar(post, "createdAt").column, "created_at");
    assert_eq!(scalar(post, "title").length, Some(Bounds { min: Some(1.0), max: Some(200.0) }));
    assert!(scalar(post, "title").required);
    assert!(scalar(post, "slug").unique);
    assert!(!scalar(post, "body").required);
    assert_eq!(scalar(post, "status").ty, ScalarType::Enum("Status".into()));
    assert_eq!(scalar(post, "status").default, Some(serde_json::json!("DRAFT")));
    assert_eq!(scalar(post, "views").default, Some(serde_json::json!(0)));
    assert_eq!(scalar(post, "views").range, Some(Bounds { min: Some(0.0), max: None }));
    assert_eq!(scalar(post, "rating").range, Some(Bounds { min: Some(0.0), max: Some(5.0) }));
    assert_eq!(scalar(post, "featured").default, Some(serde_json::json!(false)));
    let tags = scalar(post, "tags");
    assert!(tags.list && !tags.required && tags.ty == ScalarType::String);
    assert_eq!(scalar(post, "meta").ty, ScalarType::Json);
    assert!(scalar(post, "publishedAt").index);
    assert_eq!(scalar(post, "publishedAt").column, "published_at");

    let author = belongs(post, "author");
    assert_eq!(
        (author.target.as_str(), author.column.as_str(), author.id_field.as_str()),
        ("User", "author_id", "authorId")
    );
    assert!(author.required);
    assert_eq!(author.on_delete, OnDelete::Restrict);
    let category = belongs(post, "category");
    assert!(!category.required);
    assert_eq!(category.on_delete, OnDelete::SetNull);
    let comments = has_many(post, "comments");
    assert_eq!((comments.target.as_str(), comments.via.as_str()), ("Comment", "post"));

    assert_eq!(post.indexes.len(), 1);
    assert_eq!(post.indexes[0].fields, ["status", "publishedAt"]);
    assert_eq!(post.indexes[0].columns, ["status", "published_at"]);
    assert!(!post.indexes[0].unique);

    let rules = post.auth.as_ref().expect("Post has @auth");
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].allow, AuthAllow::Public);
    assert_eq!(rules[0].operations, [Operation::Read]);
    assert_eq!(rules[1].allow, AuthAllow::Owner { field: "author".into() });
    assert_eq!(rules[1].operations, Operation::ALL);
    assert_eq!(rules[2].allow, AuthAllow::Roles(vec!["editor".into()]));
    assert_eq!(rules[2].operations, [Operation::Read, Operation::Update]);
    // Each rule is positioned at its own `{`.
    let lines: Vec<usize> = rules.iter().map(|r| r.span.line).collect();
    assert_eq!(lines, [17, 18, 19]);
    assert_eq!(rules[0].span.column, 5);

    let comment = schema.model("Comment").expect("Comment");
    assert_eq!(belongs(comment, "post").on_delete, OnDelete::Cascade);
    // `{ allow: owner }` without ownerField adds `owner: User @belongsTo`.
    let owner = belongs(comment, "owner");
    assert_eq!(
        (owner.target.as_str(), owner.column.as_str(), owner.id_field.as_str()),
        ("User", "owner_id", "ownerId")
    );
    assert!(!owner.required);
    assert_eq!(owner.on_delete, OnDelete::Restrict);
    assert_eq!(comment.fields.last().map(|f| f.name.as_str()), Some("owner"));

    let category = schema.model("Category").expect("Category");
    assert_eq!((category.plural.as_str(), category.table.as_str()), ("categories", "categories"));
    assert_eq!(has_many(category, "posts").via, "category");

    let user = schema.model("User").expect("User");
    assert!(user.builtin && user.auth.is_none());
    let names: Vec<&str> = user.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["id", "email", "emailVerified", "roles", "createdAt", "updatedAt", "displayName"]);
    assert_eq!(scalar(user, "displayName").length, Some(Bounds { min: None, max: Some(80.0) }));
    assert_eq!(schema.user_models().count(), 3);

    assert_eq!(schema.sdl_hash.len(), 64);
    assert!(schema.sdl_hash.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn the_builtin_user_exists_without_any_declaration() {
    let schema = ok("enum Mood { HAPPY }");
    assert_eq!(schema.models.len(), 1);
    let user = &schema.models[0];
    assert_eq!(
        (user.name.as_str(), user.single.as_str(), user.plural.as_str(), user.table.as_str()),
        ("User", "user", "users", "users")
    );
    assert!(user.builtin && user.auth.is_none());
    let email = scalar(user, "email");
    assert!(email.required && email.unique && email.ty == ScalarType::String);
    let verified = scalar(user, "emailVerified");
    assert_eq!(
        (verified.column.as_str(), verified.default.clone()),
        ("email_verified", Some(serde_json::json!(false)))
    );
    let roles = scalar(user, "roles");
    assert!(roles.list && roles.required);
    assert_eq!(roles.default, Some(serde_json::json!([])));
    assert_eq!(scalar(user, "id").managed, Some(Managed::Id));
    assert_eq!(scalar(user, "updatedAt").managed, Some(Managed::UpdatedAt));
}

#[test]
fn sdl_hash_covers_text_and_file_names() {
    let a = |file: &str, text: &str| parse_sources(&[(file.to_string(), text.to_string())]).expect("valid").sdl_hash;
    let base = a("a.graphql", "enum E { A }");
    assert_eq!(base, a("a.graphql", "enum E { A }"));
    assert_ne!(base, a("b.graphql", "enum E { A }"));
    assert_ne!(base, a("a.graphql", "enum E { A B }"));
}

#[test]
fn models_across_files_resolve_as_one_document() {
    let files = [
        (
            "a.graphql".to_string(),
            "type Post @model @auth(rules: [{ allow: public }]) { tags: [Tag!]! @hasMany }".to_string(),
        ),
        (
            "b.graphql".to_string(),
            "type Tag @model @auth(rules: [{ allow: public }]) { post: Post @belongsTo }".to_string(),
        ),
    ];
    let schema = parse_sources(&files).expect("valid");
    assert_eq!(has_many(schema.model("Post").expect("Post"), "tags").via, "post");
    assert_eq!(schema.model("Tag").expect("Tag").span.file, "b.graphql");
}

#[test]
fn naming_and_plural_override() {
    let schema = ok(r#"
        type Person @model @auth(rules: [{ allow: public }]) { name: String }
        type BlogPost @model(plural: "Articles") @auth(rules: [{ allow: public }]) { title: String }
    "#);
    let person = schema.model("Person").expect("Person");
    assert_eq!((person.single.as_str(), person.plural.as_str(), person.table.as_str()), ("person", "people", "people"));
    let post = schema.model("BlogPost").expect("BlogPost");
    assert_eq!((post.single.as_str(), post.plural.as_str(), post.table.as_str()), ("blogPost", "articles", "articles"));
}

#[test]
fn declared_managed_fields_are_accepted_once() {
    let schema = ok(r#"
        type Note @model @auth(rules: [{ allow: public }]) {
          "The note's id."
          id: ID!
          createdAt: DateTime! @auth(rules: [{ allow: private }])
          text: String
        }
    "#);
    let note = schema.model("Note").expect("Note");
    let names: Vec<&str> = note.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["id", "createdAt", "updatedAt", "text"]);
    assert_eq!(note.fields[0].description.as_deref(), Some("The note's id."));
    assert_eq!(note.fields[0].span.line, 4);
    assert!(note.fields[1].auth.is_some());
    assert_eq!(scalar(note, "id").managed, Some(Managed::Id));
}

#[test]
fn scalars_lists_and_defaults() {
    let schema = ok(r#"
        enum Color { RED DARK_BLUE }
        type Thing @model @auth(rules: [{ allow: public }]) {
          a: [String]
          b: [Int!]! @default(value: [1, 2]) @length(max: 5)
          c: [Color!] @default(value: [RED, "DARK_BLUE"])
          d: Color @default(value: "RED")
          e: DateTime @default(value: "2024-01-31T12:00:00Z")
          f: JSON @default(value: { theme: DARK, n: [1] })
          g: Float @default(value: 1)
          h: File
          i: ID @length(min: 36, max: 36)
          j: Boolean!
          k: String @default(value: "hi") @unique @index
        }
    "#);
    let t = schema.model("Thing").expect("Thing");
    assert!(scalar(t, "a").list && !scalar(t, "a").required);
    assert!(scalar(t, "b").list && scalar(t, "b").required);
    assert_eq!(scalar(t, "b").default, Some(serde_json::json!([1, 2])));
    assert_eq!(scalar(t, "b").length, Some(Bounds { min: None, max: Some(5.0) }));
    assert_eq!(scalar(t, "c").ty, ScalarType::Enum("Color".into()));
    assert_eq!(scalar(t, "c").default, Some(serde_json::json!(["RED", "DARK_BLUE"])));
    assert_eq!(scalar(t, "d").default, Some(serde_json::json!("RED")));
    assert_eq!(scalar(t, "e").default, Some(serde_json::json!("2024-01-31T12:00:00Z")));
    assert_eq!(scalar(t, "f").default, Some(serde_json::json!({ "theme": "DARK", "n": [1] })));
    assert_eq!(scalar(t, "g").default, Some(serde_json::json!(1)));
    assert_eq!(scalar(t, "h").ty, ScalarType::File);
    assert_eq!(scalar(t, "i").ty, ScalarType::Id);
    assert!(scalar(t, "j").required && scalar(t, "j").ty == ScalarType::Boolean);
    assert!(scalar(t, "k").unique && scalar(t, "k").index);
    assert_eq!(schema.enum_def("Color").expect("Color").values, ["RED", "DARK_BLUE"]);
}

#[test]
fn relations_resolve_their_inverse_sides() {
    let schema = ok(r#"
        type Post @model @auth(rules: [{ allow: public }])
          @index(fields: ["authorId", "slug"], unique: true) @index(fields: ["editor"]) {
          slug: String!
          author: User! @belongsTo
          editor: User @belongsTo(onDelete: SET_NULL)
          reviewer: Reviewer @belongsTo(onDelete: CASCADE)
        }
        type Reviewer @model @auth(rules: [{ allow: public }]) {
          reviewed: [Post!]! @hasMany
        }
        type Category @model(plural: "categories") @auth(rules: [{ allow: public }]) {
          parent: Category @belongsTo
          children: [Category!]! @hasMany
          primary: Shelf @belongsTo
          secondary: Shelf @belongsTo
        }
        type Shelf @model @auth(rules: [{ allow: public }]) {
          main: [Category] @hasMany(field: "primary")
        }
    "#);
    let post = schema.model("Post").expect("Post");
    assert_eq!(belongs(post, "editor").on_delete, OnDelete::SetNull);
    assert_eq!(belongs(post, "reviewer").on_delete, OnDelete::Cascade);
    assert_eq!(post.indexes[0].columns, ["author_id", "slug"]);
    assert_eq!(post.indexes[0].fields, ["authorId", "slug"]);
    assert!(post.indexes[0].unique);
    assert_eq!(post.indexes[1].columns, ["editor_id"]);
    assert_eq!(has_many(schema.model("Reviewer").expect("Reviewer"), "reviewed").via, "reviewer");
    let category = schema.model("Category").expect("Category");
    assert_eq!(has_many(category, "children").via, "parent");
    assert_eq!(has_many(schema.model("Shelf").expect("Shelf"), "main").via, "primary");
}

#[test]
fn a_model_without_auth_gets_a_warning() {
    let schema = ok("type Secret @model { value: String }\ntype Open @model @auth(rules: []) { v: Int }");
    let warnings: Vec<String> = schema.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        ["s.graphql:1:6: warning: model Secret has no @auth rules: only admin (the service key) can reach it"]
    );
    assert!(schema.model("Secret").expect("Secret").auth.is_none());
    assert_eq!(schema.model("Open").expect("Open").auth, Some(vec![]));
}
