//! The change pipeline: every committed write publishes one change with its row images and
//! actor; a write that writes nothing or rolls back publishes nothing; consumers' statements
//! commit and roll back with the write.

use crate::common::*;
use ferrobase::changes::{Actor, Change, ChangeOp, Consumer, TxStatement};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::broadcast::Receiver;

/// The next change on the bus (waits up to 10 s).
async fn next(rx: &mut Receiver<Arc<Change>>) -> Arc<Change> {
    tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a change within 10 s").expect("the bus")
}

/// No change is waiting (changes are published before the write's response is sent).
fn none_waiting(rx: &mut Receiver<Arc<Change>>) {
    if let Ok(c) = rx.try_recv() {
        panic!("unexpected change: {c:?}");
    }
}

#[tokio::test]
async fn writes_publish_one_change_each_with_row_images_after_commit() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let author = create_user(&s, "ada@example.com").await;
        let token = s.state.jwt.issue(&author, &[], &serde_json::Map::new(), "test-session").0;
        let mut rx = s.state.bus.subscribe();

        let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
        let r = s.gql_as(Some(&token), create, json!({"i": {"title": "One", "slug": "one", "authorId": author}})).await;
        let id = r["data"]["createPost"]["id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string();
        let c = next(&mut rx).await;
        assert_eq!((c.model.as_str(), c.op, c.row_id.as_str()), ("Post", ChangeOp::Create, id.as_str()), "{backend:?}");
        assert_eq!(c.actor, Actor::User { id: author.clone() });
        assert!(c.before.is_none());
        let after = c.after.as_ref().expect("the row as created");
        assert_eq!(after["title"], "One");
        assert_eq!(after["status"], "DRAFT", "defaults are in the image");
        assert_eq!(after["authorId"], author.as_str());
        assert_eq!(after["tags"], Value::Null);
        none_waiting(&mut rx);

        // An update selecting a relation: images hold every column, whatever the selection.
        let update =
            "mutation($id: ID!, $i: UpdatePostInput!) { updatePost(id: $id, input: $i) { id author { email } } }";
        s.data(update, json!({"id": id, "i": {"title": "Two", "tags": ["x"]}})).await;
        let c = next(&mut rx).await;
        assert_eq!((c.op, c.actor.clone()), (ChangeOp::Update, Actor::Admin), "{backend:?}");
        let (before, after) = (c.before.as_ref().expect("before"), c.after.as_ref().expect("after"));
        assert_eq!((before["title"].clone(), after["title"].clone()), (json!("One"), json!("Two")), "{backend:?}");
        assert_eq!(after["tags"], json!(["x"]));
        assert_eq!(before["slug"], after["slug"]);
        assert_ne!(before["updatedAt"], Value::Null);

        // A delete selecting a relation (on SQLite: read, then delete, in one transaction).
        let delete = "mutation($id: ID!) { deletePost(id: $id) { id title author { email } } }";
        let r = s.gql_as(Some(&token), delete, json!({"id": id})).await;
        assert_eq!(r["data"]["deletePost"]["title"], "Two", "{r}");
        let c = next(&mut rx).await;
        assert_eq!((c.op, c.row_id.as_str()), (ChangeOp::Delete, id.as_str()));
        assert!(c.after.is_none());
        assert_eq!(c.before.as_ref().expect("the row as it was")["title"], "Two");
        none_waiting(&mut rx);

        // Writes that write nothing publish nothing: denied, missing, conflicting.
        let other = create_user(&s, "bob@example.com").await;
        let theirs = s.data(create, json!({"i": {"title": "B", "slug": "b", "authorId": other}})).await;
        let theirs = theirs["createPost"]["id"].as_str().unwrap().to_string();
        next(&mut rx).await;
        let r = s.gql_as(Some(&token), update, json!({"id": theirs, "i": {"title": "mine"}})).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
        let r = s.gql_as(Some(&token), delete, json!({"id": uuid::Uuid::now_v7().to_string()})).await;
        assert_eq!(error_code(&r), "NOT_FOUND", "{r}");
        let r = s.gql(create, json!({"i": {"title": "B2", "slug": "b", "authorId": other}})).await;
        assert_eq!(error_code(&r), "CONFLICT", "{r}");
        none_waiting(&mut rx);
        s.finish().await;
    }
}

#[tokio::test]
async fn user_writes_of_the_auth_api_publish_user_changes() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let mut rx = s.state.bus.subscribe();
        let sign_up = "mutation($i: SignUpInput!) { signUp(input: $i) { user { id } } }";
        let r = s
            .gql_as(
                None,
                sign_up,
                json!({"i": {"email": "new@example.com", "password": "correct horse 1", "displayName": "N"}}),
            )
            .await;
        let id = r["data"]["signUp"]["user"]["id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string();
        // One change for the sign-up, profile fields included.
        let c = next(&mut rx).await;
        assert_eq!((c.model.as_str(), c.op, c.row_id.as_str()), ("User", ChangeOp::Create, id.as_str()), "{backend:?}");
        let after = c.after.as_ref().expect("after");
        assert_eq!((after["email"].clone(), after["displayName"].clone()), (json!("new@example.com"), json!("N")));
        assert!(
            !after.contains_key("passwordHash")
                && !after.values().any(|v| v.as_str().is_some_and(|t| t.starts_with("$argon2")))
        );
        none_waiting(&mut rx);

        let roles = "mutation($u: ID!, $r: [String!]!) { setUserRoles(userId: $u, roles: $r) { id } }";
        s.data(roles, json!({"u": id, "r": ["editor"]})).await;
        let c = next(&mut rx).await;
        assert_eq!((c.op, c.actor.clone()), (ChangeOp::Update, Actor::Admin));
        assert_eq!(c.before.as_ref().unwrap()["roles"], json!([]));
        assert_eq!(c.after.as_ref().unwrap()["roles"], json!(["editor"]));

        // An unknown user: nothing changed, nothing published.
        let r = s.gql(roles, json!({"u": uuid::Uuid::now_v7().to_string(), "r": ["x"]})).await;
        assert_eq!(error_code(&r), "NOT_FOUND");
        none_waiting(&mut rx);
        s.finish().await;
    }
}

/// A consumer that writes an audit row per change inside the write's transaction, or (when
/// `fail` is set) a statement that fails, which must roll the write back.
struct Audit {
    fail: AtomicBool,
}

impl Consumer for Audit {
    fn name(&self) -> &'static str {
        "audit"
    }
    fn in_transaction_for(&self, model: &str) -> bool {
        model == "Post"
    }
    fn in_transaction(&self, change: &Change, backend: sea_orm::DatabaseBackend) -> Vec<TxStatement> {
        use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};
        let table = if self.fail.load(Ordering::SeqCst) { "no_such_table" } else { "audit_log" };
        let q = Query::insert()
            .into_table(table)
            .columns(["change_id", "row_id", "op"])
            .values_panic([change.id.to_string().into(), change.row_id.clone().into(), change.op.as_str().into()])
            .to_owned();
        let (sql, values) = match backend {
            sea_orm::DatabaseBackend::Postgres => q.build(PostgresQueryBuilder),
            _ => q.build(SqliteQueryBuilder),
        };
        vec![TxStatement { sql: sql.into(), values }]
    }
}

async fn audit_rows(s: &TestServer) -> Vec<(String, String)> {
    let rows = s
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            s.state.backend(),
            "SELECT row_id, op FROM audit_log ORDER BY change_id",
        ))
        .await
        .unwrap();
    rows.iter().map(|r| (r.try_get("", "row_id").unwrap(), r.try_get("", "op").unwrap())).collect()
}

async fn post_count(s: &TestServer) -> Value {
    s.data("{ posts { totalCount } }", json!({})).await["posts"]["totalCount"].clone()
}

#[tokio::test]
async fn consumer_statements_commit_and_roll_back_with_the_write() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        s.state
            .db
            .execute_unprepared(
                "CREATE TABLE audit_log (change_id TEXT PRIMARY KEY, row_id TEXT NOT NULL, op TEXT NOT NULL)",
            )
            .await
            .unwrap();
        let audit = Arc::new(Audit { fail: AtomicBool::new(false) });
        s.state.changes.register(audit.clone());
        let author = create_user(&s, "ada@example.com").await;
        let mut rx = s.state.bus.subscribe();

        let create = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }";
        let r = s.data(create, json!({"i": {"title": "One", "slug": "one", "authorId": author}})).await;
        let id = r["createPost"]["id"].as_str().unwrap().to_string();
        let update = "mutation($id: ID!) { updatePost(id: $id, input: {title: \"Two\"}) { id } }";
        s.data(update, json!({"id": id})).await;
        assert_eq!(
            audit_rows(&s).await,
            vec![(id.clone(), "create".into()), (id.clone(), "update".into())],
            "{backend:?}"
        );
        assert_eq!(next(&mut rx).await.op, ChangeOp::Create);
        assert_eq!(next(&mut rx).await.op, ChangeOp::Update);

        // The consumer's statement fails: the write rolls back and nothing is published.
        audit.fail.store(true, Ordering::SeqCst);
        let r = s.gql(create, json!({"i": {"title": "Lost", "slug": "lost", "authorId": author}})).await;
        assert_eq!(error_code(&r), "INTERNAL", "{backend:?}: {r}");
        let r = s.gql("mutation($id: ID!) { deletePost(id: $id) { id } }", json!({"id": id})).await;
        assert_eq!(error_code(&r), "INTERNAL", "{backend:?}: {r}");
        assert_eq!(post_count(&s).await, 1, "{backend:?}: the failed create and delete left no trace");
        assert_eq!(
            s.data("query($id: ID!) { post(id: $id) { title } }", json!({"id": id})).await["post"]["title"],
            "Two"
        );
        assert_eq!(audit_rows(&s).await.len(), 2);
        none_waiting(&mut rx);
        s.finish().await;
    }
}

/// Relations whose delete actions change other rows: two levels of CASCADE, a SET_NULL, and a
/// tree that cascades into itself.
const CASCADES: &str = r#"
type Folder @model @auth(rules: [{ allow: public }]) {
  name: String!
}

type Label @model @auth(rules: [{ allow: public }]) {
  name: String!
}

type Doc @model @auth(rules: [{ allow: public }]) {
  title: String!
  folder: Folder! @belongsTo(onDelete: CASCADE)
  label: Label @belongsTo(onDelete: SET_NULL)
}

type Page @model @auth(rules: [{ allow: public }]) {
  n: Int!
  doc: Doc! @belongsTo(onDelete: CASCADE)
}

type Node @model @auth(rules: [{ allow: public }]) {
  name: String!
  parent: Node @belongsTo(onDelete: CASCADE)
}
"#;

/// Creates a row with `input` through `create<Model>`; its id.
async fn create(s: &TestServer, model: &str, input: Value) -> String {
    let q = format!("mutation($i: Create{model}Input!) {{ create{model}(input: $i) {{ id }} }}");
    let r = s.data(&q, json!({"i": input})).await;
    r[format!("create{model}")]["id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string()
}

/// Changes waiting on the bus, as (model, op, row id), sorted.
fn drain(rx: &mut Receiver<Arc<Change>>) -> Vec<(String, ChangeOp, String)> {
    let mut out = Vec::new();
    while let Ok(c) = rx.try_recv() {
        out.push((c.model.clone(), c.op, c.row_id.clone()));
    }
    out.sort_by(|a, b| (a.0.as_str(), a.2.as_str()).cmp(&(b.0.as_str(), b.2.as_str())));
    out
}

/// Rows the database deletes or clears by `onDelete` get changes of their own, with their images
/// as they were (SPEC: every committed delete reaches subscribers; later, triggers and webhooks).
#[tokio::test]
async fn rows_a_delete_cascades_to_or_clears_publish_changes() {
    for backend in backends() {
        let s = TestServer::start(backend, CASCADES).await;
        let folder = create(&s, "Folder", json!({"name": "f"})).await;
        let other = create(&s, "Folder", json!({"name": "g"})).await;
        let label = create(&s, "Label", json!({"name": "l"})).await;
        let d1 = create(&s, "Doc", json!({"title": "d1", "folderId": folder, "labelId": label})).await;
        let d2 = create(&s, "Doc", json!({"title": "d2", "folderId": folder})).await;
        let kept = create(&s, "Doc", json!({"title": "kept", "folderId": other, "labelId": label})).await;
        let p1 = create(&s, "Page", json!({"n": 1, "docId": d1})).await;
        let p2 = create(&s, "Page", json!({"n": 2, "docId": d2})).await;
        create(&s, "Page", json!({"n": 3, "docId": kept})).await;
        let mut rx = s.state.bus.subscribe();

        s.data("mutation($i: ID!) { deleteFolder(id: $i) { id } }", json!({"i": folder})).await;
        let mut want = vec![
            ("Doc".to_string(), ChangeOp::Delete, d1.clone()),
            ("Doc".to_string(), ChangeOp::Delete, d2.clone()),
            ("Folder".to_string(), ChangeOp::Delete, folder.clone()),
            ("Page".to_string(), ChangeOp::Delete, p1.clone()),
            ("Page".to_string(), ChangeOp::Delete, p2.clone()),
        ];
        want.sort_by(|a, b| (a.0.as_str(), a.2.as_str()).cmp(&(b.0.as_str(), b.2.as_str())));
        let first = next(&mut rx).await;
        assert_eq!((first.model.as_str(), first.op), ("Folder", ChangeOp::Delete), "{backend:?}: the delete first");
        let mut got = drain(&mut rx);
        got.push((first.model.clone(), first.op, first.row_id.clone()));
        got.sort_by(|a, b| (a.0.as_str(), a.2.as_str()).cmp(&(b.0.as_str(), b.2.as_str())));
        assert_eq!(got, want, "{backend:?}: one change per row the delete took with it");
        let docs = s.data("{ docs { nodes { id } } pages { totalCount } }", json!({})).await;
        assert_eq!(docs["docs"]["nodes"], json!([{"id": kept}]), "{backend:?}");
        assert_eq!(docs["pages"]["totalCount"], 1, "{backend:?}");

        // SET_NULL: the doc that kept its folder is updated, its label cleared.
        s.data("mutation($i: ID!) { deleteLabel(id: $i) { id } }", json!({"i": label})).await;
        assert_eq!(next(&mut rx).await.model, "Label");
        let c = next(&mut rx).await;
        assert_eq!(
            (c.model.as_str(), c.op, c.row_id.as_str()),
            ("Doc", ChangeOp::Update, kept.as_str()),
            "{backend:?}"
        );
        let (before, after) = (c.before.as_ref().unwrap(), c.after.as_ref().unwrap());
        assert_eq!((before["labelId"].clone(), after["labelId"].clone()), (json!(label), Value::Null), "{backend:?}");
        assert_eq!(after["title"], "kept");
        none_waiting(&mut rx);

        // A tree cascading into itself: every descendant, once.
        let root = create(&s, "Node", json!({"name": "root"})).await;
        let a = create(&s, "Node", json!({"name": "a", "parentId": root})).await;
        let b = create(&s, "Node", json!({"name": "b", "parentId": a})).await;
        let c2 = create(&s, "Node", json!({"name": "c", "parentId": b})).await;
        let sibling = create(&s, "Node", json!({"name": "s"})).await;
        drain(&mut rx);
        s.data("mutation($i: ID!) { deleteNode(id: $i) { id } }", json!({"i": root})).await;
        next(&mut rx).await;
        let mut got: Vec<String> = drain(&mut rx).into_iter().map(|(_, op, id)| format!("{op:?} {id}")).collect();
        got.sort();
        let mut want: Vec<String> = [&a, &b, &c2].iter().map(|id| format!("Delete {id}")).collect();
        want.sort();
        assert_eq!(got, want, "{backend:?}");
        let left = s.data("{ nodes { nodes { id } } }", json!({})).await;
        assert_eq!(left["nodes"]["nodes"], json!([{"id": sibling}]), "{backend:?}");

        // A delete that is refused takes nothing with it and publishes nothing.
        let r = s.gql_as(None, "mutation($i: ID!) { deleteFolder(id: $i) { id } }", json!({"i": "nope"})).await;
        assert_eq!(error_code(&r), "NOT_FOUND", "{r}");
        none_waiting(&mut rx);
        s.finish().await;
    }
}
