//! `@auth` rules: aliases, owner fields, `where:` conditions, and their errors.

use super::*;

#[test]
fn amplify_spellings_are_aliases() {
    let schema = ok(r#"
        type Doc @model @auth(rules: [
          { allow: groups, groups: ["Admins", "editor"], operations: [get, list, read, update] }
          { allow: roles, roles: ["viewer"] }
          { allow: private, operations: [create] }
        ]) { title: String }
    "#);
    let rules = schema.model("Doc").expect("Doc").auth.clone().expect("rules");
    assert_eq!(rules[0].allow, AuthAllow::Roles(vec!["Admins".into(), "editor".into()]));
    assert_eq!(rules[0].operations, [Operation::Read, Operation::Update]);
    assert_eq!(rules[1].allow, AuthAllow::Roles(vec!["viewer".into()]));
    assert_eq!(rules[1].operations, Operation::ALL);
    assert_eq!(rules[2].allow, AuthAllow::Private);
    assert_eq!(rules[2].operations, [Operation::Create]);
}

#[test]
fn owner_rules_add_or_reuse_a_user_reference() {
    let schema = ok(r#"
        type A @model @auth(rules: [{ allow: owner, ownerField: "author" }]) { author: User! @belongsTo }
        type B @model @auth(rules: [{ allow: owner, ownerField: "authorId" }]) { author: User @belongsTo }
        type C @model @auth(rules: [{ allow: owner, ownerField: "creator" }]) { title: String }
        type D @model @auth(rules: [{ allow: public }]) {
          secret: String @auth(rules: [{ allow: owner }])
        }
    "#);
    let a = schema.model("A").expect("A");
    assert_eq!(a.auth.as_ref().expect("rules")[0].allow, AuthAllow::Owner { field: "author".into() });
    assert!(a.field("owner").is_none(), "an existing owner field is reused");
    // `authorId` names the id field of `author`: normalised to the relation.
    let b = schema.model("B").expect("B");
    assert_eq!(b.auth.as_ref().expect("rules")[0].allow, AuthAllow::Owner { field: "author".into() });
    let creator = belongs(schema.model("C").expect("C"), "creator");
    assert_eq!((creator.column.as_str(), creator.id_field.as_str()), ("creator_id", "creatorId"));
    assert!(!creator.required);
    // Field-level owner rules need the owner too.
    assert_eq!(belongs(schema.model("D").expect("D"), "owner").target, "User");
}

#[test]
fn where_conditions_are_kept_and_checked() {
    let schema = ok(r#"
        enum Status { DRAFT PUBLISHED }
        type Post @model @auth(rules: [
          { allow: public, operations: [read], where: { status: { eq: PUBLISHED } } }
          { allow: private, where: { or: [{ authorId: { eq: "$user.id" } }, { not: { orgId: { eq: "$claims.org" } } }] } }
          { allow: private, where: { author: { email: { eq: "$user.nickname" } }, comments: { some: {} } } }
          { allow: private, where: { status: { in: PUBLISHED, notIn: ["DRAFT"], ne: null }, views: { gte: 1, lt: 10, in: [1, 2] } } }
          { allow: private, where: { orgId: { in: ["a", "$user.id", "$claims.org"], startsWith: "o", isNull: false, gt: "$user.nickname" } } }
          { allow: private, where: { id: { eq: 7 }, score: { gt: 1, lte: 2.5 }, featured: { eq: true, isNull: null } } }
          { allow: private, where: { publishedAt: { lt: "2026-01-31T12:00:00Z" }, comments: { every: { body: { contains: "ok" } }, none: null } } }
          { allow: private, where: { and: [{ author: { id: { eq: "$user.id" } } }, { comments: { some: { post: { views: { gt: 3 } } } } }] } }
        ]) {
          status: Status!
          orgId: String
          views: Int
          score: Float
          featured: Boolean
          publishedAt: DateTime
          author: User @belongsTo
          comments: [Comment!]! @hasMany
        }
        type Comment @model @auth(rules: [{ allow: public }]) { body: String, post: Post! @belongsTo }
        type User { nickname: String }
    "#);
    let rules = schema.model("Post").expect("Post").auth.clone().expect("rules");
    let cond = rules[0].condition.clone().expect("where kept");
    assert_eq!(cond.to_string(), "{status: {eq: PUBLISHED}}");
    assert!(rules[1].condition.is_some());
}

#[test]
fn rule_errors_point_at_the_rule() {
    let e = errors(
        r#"type Post @model @auth(rules: [
  { allow: public, provider: iam }
  { allow: everyone }
  { allow: roles }
  { allow: owner, ownerField: "title" }
  { allow: private, operations: [read, destroy] }
  { allow: private, where: { stauts: { eq: "x" } } }
  { allow: private, where: { title: "x" } }
  { allow: private, where: { title: { eq: "$user.nickname" } } }
  { allow: public, roles: ["a"] }
  { allow: roles, roles: [] }
  { allow: public, operations: [] }
  "nope"
]) {
  title: String
  status: String
}"#,
    );
    assert_error(
        &e,
        "s.graphql:2:3: unknown key \"provider\" in @auth rule; expected allow, operations, ownerField, roles, groups or where",
    );
    assert_error(&e, "s.graphql:3:3: unknown allow: everyone in @auth rule; expected public, private, owner or roles");
    assert_error(&e, "s.graphql:4:3: { allow: roles } needs a non-empty roles: [\"...\"] list");
    assert_error(
        &e,
        "s.graphql:5:3: ownerField \"title\" must be a @belongsTo to User (`title: User @belongsTo`), but it is a String field",
    );
    assert_error(&e, "s.graphql:6:3: unknown operation destroy in @auth rule");
    assert_error(&e, "s.graphql:7:3: unknown field \"stauts\" in @auth where: of Post (did you mean \"status\"?)");
    assert_error(&e, "s.graphql:8:3: where: { title: \"x\" } needs an operator: { title: { eq: \"x\" } }");
    assert_error(&e, "s.graphql:9:3: \"$user.nickname\" in @auth where: is not a field of User");
    assert_error(&e, "s.graphql:10:3: roles: only applies to { allow: roles }");
    assert_error(&e, "s.graphql:11:3: roles: expects a non-empty list of role names");
    assert_error(&e, "s.graphql:12:3: operations: [] grants nothing");
    assert_error(&e, "s.graphql:13:3: each @auth rule is an object like { allow: public }, found \"nope\"");
    assert_eq!(e.len(), 12, "{e:#?}");
}

#[test]
fn owner_field_typos_and_user_owner_rules_are_reported() {
    let e = errors(
        r#"type Post @model @auth(rules: [{ allow: owner, ownerField: "autor" }]) { author: User @belongsTo }
type User { bio: String @auth(rules: [{ allow: owner }]) }
type Note @model @auth(rules: [{ allow: owner, ownerField: "Bad_Name" }]) { text: String }"#,
    );
    assert_error(&e, "s.graphql:1:32: ownerField \"autor\" is not a field of Post (did you mean \"author\"?)");
    assert_error(&e, "s.graphql:2:13: { allow: owner } is not available on User fields");
    assert_error(&e, "ownerField \"Bad_Name\" must be a camelCase field name");
}
