use super::*;
use crate::model::parse_sources;

fn schema(sdl: &str) -> Schema {
    match parse_sources(&[("s.graphql".to_string(), sdl.to_string())]) {
        Ok(s) => s,
        Err(errors) => panic!("schema errors: {errors:?}"),
    }
}

/// The table of one model: `(caller label, [create, read, update, delete])`.
fn rows(schema: &Schema, model: &str) -> Vec<(String, [String; 4])> {
    let m = schema.model(model).unwrap_or_else(|| panic!("no model {model}"));
    matrix_rows(schema, m, m.auth.as_deref().expect("model has @auth"))
}

/// The cells of one caller's row.
#[track_caller]
fn row(rows: &[(String, [String; 4])], caller: &str) -> [String; 4] {
    match rows.iter().find(|(label, _)| label == caller) {
        Some((_, cells)) => cells.clone(),
        None => panic!("no row {caller:?} in {rows:#?}"),
    }
}

fn labels(rows: &[(String, [String; 4])]) -> Vec<&str> {
    rows.iter().map(|(label, _)| label.as_str()).collect()
}

#[track_caller]
fn assert_row(rows: &[(String, [String; 4])], caller: &str, expected: [&str; 4]) {
    assert_eq!(row(rows, caller), expected.map(String::from), "row {caller}");
}

const YES: [&str; 4] = ["yes"; 4];

#[test]
fn blog_example_prints_exactly() {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/blog.graphql")).expect("blog");
    let schema = parse_sources(&[("blog.graphql".to_string(), sdl)]).expect("blog parses");
    let expected = format!(
        "\
Post
  caller           create     read   update     delete
  anonymous        no         yes    no         no
  signed-in        no         yes    no         no
  owner (author)   own rows   yes    own rows   own rows
  role editor      no         yes    yes        no
  admin            yes        yes    yes        yes

Comment
  caller          create   read   update     delete
  anonymous       no       yes    no         no
  signed-in       yes      yes    no         no
  owner (owner)   yes      yes    own rows   own rows
  admin           yes      yes    yes        yes

Category
  caller      create   read   update   delete
  anonymous   no       yes    no       no
  signed-in   no       yes    no       no
  admin       yes      yes    yes      yes

User (built in)
  anyone      reads id, createdAt, updatedAt and profile fields of the users they reach (relations)
  the user    reads their own email, emailVerified and roles (me); changes their profile (updateProfile)
  admin       everything: users, setUserRoles, setUserClaims, disableUser

{LEGEND}
"
    );
    assert_eq!(permission_matrix(&schema), expected);
}

#[test]
fn blog_cells() {
    let sdl = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/blog.graphql")).expect("blog");
    let schema = parse_sources(&[("blog.graphql".to_string(), sdl)]).expect("blog parses");
    let post = rows(&schema, "Post");
    assert_eq!(labels(&post), ["anonymous", "signed-in", "owner (author)", "role editor", "admin"]);
    assert_row(&post, "anonymous", ["no", "yes", "no", "no"]);
    assert_row(&post, "owner (author)", ["own rows", "yes", "own rows", "own rows"]);
    assert_row(&post, "role editor", ["no", "yes", "yes", "no"]);
    assert_row(&post, "admin", YES);
    // A signed-in commenter may create (private) and owns the comment afterwards.
    let comment = rows(&schema, "Comment");
    assert_row(&comment, "signed-in", ["yes", "yes", "no", "no"]);
    assert_row(&comment, "owner (owner)", ["yes", "yes", "own rows", "own rows"]);
}

#[test]
fn multi_tenant_claims_condition() {
    let schema = schema(
        r#"
        type Project @model @auth(rules: [
          { allow: private, operations: [read, update], where: { orgId: { eq: "$claims.org" } } }
          { allow: roles, roles: ["manager"], operations: [create, delete], where: { orgId: { eq: "$claims.org" } } }
        ]) { name: String  orgId: String }
    "#,
    );
    let t = rows(&schema, "Project");
    assert_eq!(labels(&t), ["anonymous", "signed-in", "role manager", "admin"]);
    assert_row(&t, "anonymous", ["no", "no", "no", "no"]);
    let tenant = "if orgId = $claims.org";
    assert_row(&t, "signed-in", ["no", tenant, tenant, "no"]);
    assert_row(&t, "role manager", [tenant, tenant, tenant, tenant]);
}

#[test]
fn public_read_of_published_rows_and_owner_with_where() {
    let schema = schema(
        r#"
        enum Status { DRAFT PUBLISHED }
        type Article @model @auth(rules: [
          { allow: public, operations: [read], where: { status: { eq: PUBLISHED } } }
          { allow: owner, ownerField: "writer", operations: [read, update, delete] }
          { allow: owner, ownerField: "writer", operations: [create], where: { status: { eq: DRAFT } } }
        ]) { title: String  status: Status!  writer: User @belongsTo }
    "#,
    );
    let t = rows(&schema, "Article");
    let published = "if status = PUBLISHED";
    assert_row(&t, "anonymous", ["no", published, "no", "no"]);
    assert_row(&t, "signed-in", ["no", published, "no", "no"]);
    // The owner reads their own rows and, like everyone, the published ones.
    assert_row(
        &t,
        "owner (writer)",
        ["own rows if status = DRAFT", "own rows or if status = PUBLISHED", "own rows", "own rows"],
    );
}

#[test]
fn groups_alias_makes_role_rows_sorted() {
    let schema = schema(
        r#"
        type Doc @model @auth(rules: [
          { allow: groups, groups: ["writers", "Admins"], operations: [create, update] }
          { allow: roles, roles: ["admin", "auditors"], operations: [read] }
        ]) { title: String }
    "#,
    );
    let t = rows(&schema, "Doc");
    assert_eq!(labels(&t), ["anonymous", "signed-in", "role Admins", "role auditors", "role writers", "admin"]);
    assert_row(&t, "signed-in", ["no", "no", "no", "no"]);
    assert_row(&t, "role Admins", ["yes", "no", "yes", "no"]);
    assert_row(&t, "role auditors", ["no", "yes", "no", "no"]);
    assert_row(&t, "role writers", ["yes", "no", "yes", "no"]);
    assert_row(&t, "admin", YES);
}

#[test]
fn models_without_rules_are_admin_only() {
    let schema = schema(
        "type Secret @model { value: String }\ntype Open @model @auth(rules: []) { v: Int }\n\
         type Pub @model @auth(rules: [{ allow: public }]) { v: Int }",
    );
    let out = permission_matrix(&schema);
    assert!(out.starts_with("Secret: admin only (no @auth rules)\n\nOpen: admin only (@auth has no rules)\n\nPub\n"));
    assert!(out.contains("  anonymous   yes      yes    yes      yes\n"), "{out}");
    assert!(out.ends_with(&format!("\n{LEGEND}\n")));
    assert_eq!(out.lines().last().map(str::len), Some(LEGEND.len()), "legend is one line");
}

#[test]
fn field_level_rules_are_listed_under_the_table() {
    let schema = schema(
        r#"
        type Post @model @auth(rules: [{ allow: public, operations: [read] }, { allow: owner, ownerField: "author" }]) {
          title: String
          secretNotes: String @auth(rules: [{ allow: owner, ownerField: "author" }])
          score: Int @auth(rules: [
            { allow: public, operations: [read] }
            { allow: roles, roles: ["editor"], operations: [update] }
            { allow: private, operations: [update], where: { title: { startsWith: "draft" } } }
          ])
          price: Int @auth(rules: [
            { allow: public, operations: [read], where: { title: { eq: "open" } } }
            { allow: owner, ownerField: "author" }
          ])
          lock: Boolean @auth(rules: [])
          author: User @belongsTo
        }
    "#,
    );
    let out = permission_matrix(&schema);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("  field ")).collect();
    assert_eq!(
        lines,
        [
            "  field secretNotes: create, read, update: owner (author)",
            "  field score: create: admin only; read: anyone; update: role editor or (signed-in if title startsWith \"draft\")",
            "  field price: create, update: owner (author); read: (anyone if title = \"open\") or owner (author)",
            "  field lock: create, read, update: admin only",
        ]
    );
    // Field rules do not change the type's table.
    assert_row(&rows(&schema, "Post"), "signed-in", ["no", "yes", "no", "no"]);
}

#[test]
fn a_caller_gets_the_union_of_the_rules_that_apply() {
    let schema = schema(
        r#"
        enum Status { DRAFT PUBLISHED }
        type Task @model @auth(rules: [
          { allow: public, operations: [read], where: { status: { eq: PUBLISHED } } }
          { allow: private, operations: [read], where: { orgId: { eq: "$claims.org" }, archived: { eq: false } } }
          { allow: private, operations: [create] }
          { allow: owner, operations: [update] }
          { allow: roles, roles: ["lead"], operations: [update, delete], where: { orgId: { eq: "$claims.org" } } }
          { allow: roles, roles: ["lead"], operations: [read] }
        ]) { status: Status  orgId: String  archived: Boolean }
    "#,
    );
    let t = rows(&schema, "Task");
    let read = "if status = PUBLISHED or (orgId = $claims.org and archived = false)";
    assert_row(&t, "anonymous", ["no", "if status = PUBLISHED", "no", "no"]);
    assert_row(&t, "signed-in", ["yes", read, "no", "no"]);
    assert_row(&t, "owner (owner)", ["yes", read, "own rows", "no"]);
    let tenant = "if orgId = $claims.org";
    assert_row(&t, "role lead", ["yes", "yes", tenant, tenant]);
}

#[test]
fn conditions_render_in_filter_syntax() {
    let schema = schema(
        r#"
        enum Status { DRAFT PUBLISHED }
        type Post @model @auth(rules: [
          { allow: public, operations: [read], where: { author: { email: { endsWith: "@x.com" } } } }
          { allow: private, operations: [update], where: { or: [{ authorId: { eq: "$user.id" } }, { not: { status: { in: [DRAFT] } } }] } }
          { allow: private, operations: [delete], where: { comments: { some: { body: { contains: "ok" }, votes: { gte: 3, lt: 10 } } } } }
          { allow: private, operations: [create], where: { and: [{ title: { isNull: false } }, { or: [{ votes: { ne: 0 } }, { comments: { none: {} } }] }] } }
        ]) {
          title: String
          votes: Int
          status: Status
          author: User @belongsTo
          comments: [Comment!]! @hasMany
        }
        type Comment @model @auth(rules: [{ allow: public }]) { post: Post! @belongsTo  body: String  votes: Int }
    "#,
    );
    let t = rows(&schema, "Post");
    assert_row(
        &t,
        "signed-in",
        [
            "if title is not null and (votes != 0 or comments none (any))",
            "if author.email endsWith \"@x.com\"",
            "if authorId = $user.id or not (status in [DRAFT])",
            "if comments some (body contains \"ok\" and votes >= 3 and votes < 10)",
        ],
    );
    // Two rules with compound conditions are each parenthesized when ORed.
    let merged = cell(vec![
        Grant { own: false, cond: Some(Expr::Atom("a = 1".into())) },
        Grant { own: false, cond: Some(Expr::And(vec![Expr::Atom("b = 2".into()), Expr::Atom("c = 3".into())])) },
        Grant { own: false, cond: Some(Expr::Atom("a = 1".into())) },
    ]);
    assert_eq!(merged, "if a = 1 or (b = 2 and c = 3)");
}

#[test]
fn conditional_field_rules_show_their_condition_for_every_operation() {
    let s = schema(
        r#"enum Status { DRAFT PUBLISHED }
        type Doc @model @auth(rules: [{ allow: public }]) {
          status: Status!
          notes: String @auth(rules: [{ allow: private, where: { status: { eq: PUBLISHED } } }])
        }"#,
    );
    let text = permission_matrix(&s);
    let line = text.lines().find(|l| l.trim_start().starts_with("field notes")).expect("a field line");
    // Reads are decided per row like writes: one group for all three operations.
    assert_eq!(line, "  field notes: create, read, update: signed-in if status = PUBLISHED");
}

#[test]
fn a_guarded_has_many_shows_on_the_belongs_to_side() {
    let s = schema(
        r#"type Listing @model @auth(rules: [{ allow: public, operations: [read] }, { allow: owner }]) {
          bids: [Bid!]! @hasMany @auth(rules: [{ allow: owner }])
        }
        type Bid @model @auth(rules: [{ allow: public, operations: [read] }]) {
          listing: Listing! @belongsTo
          amount: Int!
        }"#,
    );
    let text = permission_matrix(&s);
    assert!(
        text.contains("\nBid\n")
            && text.contains(
                "  field listing: read only where Listing.bids may be read (one link, guarded from both sides)\n"
            ),
        "{text}"
    );
}
