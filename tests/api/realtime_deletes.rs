//! Realtime: deleted rows are judged as they were just before their delete, relations
//! included, and so are the rows a delete takes with it (`onDelete: CASCADE`).

use crate::common::*;
use crate::realtime::user_with_roles;
use crate::ws_client::Ws;
use serde_json::json;

/// Rules over relations, for judging deleted rows (`rules_prop` found this: see its `subs`).
const DELETES: &str = r#"
type Item @model @auth(rules: [
  { allow: roles, roles: ["editor"], operations: [read], where: {tags: {none: {label: {eq: "red"}}}} }
  { allow: roles, roles: ["viewer"], operations: [read], where: {tags: {some: {label: {eq: "red"}}}} }
]) {
  title: String!
  tags: [Tag!]! @hasMany
}

type Tag @model @auth(rules: [
  { allow: public, operations: [read], where: {item: {tags: {none: {label: {eq: "blue"}}}}} }
]) {
  label: String!
  item: Item! @belongsTo(onDelete: CASCADE)
}

type Ping @model @auth(rules: [{ allow: public, operations: [read] }]) {
  n: Int!
}
"#;

/// Subscribes `ws` to `query` (as "s") and to the sentinel ("ping"), and waits until both are
/// registered.
async fn subscribe_with_sentinel(ws: &mut Ws, query: &str) {
    ws.subscribe("s", query, json!({})).await;
    ws.subscribe("ping", "subscription { pingCreated { n } }", json!({})).await;
    ws.subscribe("sync", "{ __typename }", json!({})).await;
    ws.next_data("sync").await;
    assert_eq!(ws.recv().await["type"], "complete");
}

/// Everything `ws` received on "s" before the sentinel (which admin creates now).
async fn before_sentinel(s: &TestServer, ws: &mut Ws) -> Vec<serde_json::Value> {
    s.data("mutation { createPing(input: {n: 1}) { id } }", json!({})).await;
    let mut got = Vec::new();
    loop {
        let m = ws.recv().await;
        if m["id"] == "ping" {
            return got;
        }
        got.push(m["payload"].clone());
    }
}

/// A deleted row is judged as it was just before its delete, relations included (a bug the
/// randomized rules test found: judged after the delete, with its tags gone by CASCADE, an item
/// with a red tag, never readable to an editor (`tags: {none: red}`), reached the editor's
/// `itemDeleted`, and a viewer who could read it until then (`tags: {some: red}`) got nothing).
#[tokio::test]
async fn deleted_items_are_judged_as_they_were() {
    let mut problems = Vec::new();
    for backend in backends() {
        let s = TestServer::start(backend, DELETES).await;
        let editor = user_with_roles(&s, "editor@example.com", &["editor"]).await;
        let viewer = user_with_roles(&s, "viewer@example.com", &["viewer"]).await;
        let mut we = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, Some(&editor)).await;
        let mut wv = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, Some(&viewer)).await;
        for ws in [&mut we, &mut wv] {
            subscribe_with_sentinel(ws, "subscription { itemDeleted { id title } }").await;
        }
        let item = s.data("mutation { createItem(input: {title: \"x\"}) { id } }", json!({})).await["createItem"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        s.data("mutation($i: ID!) { createTag(input: {label: \"red\", itemId: $i}) { id } }", json!({"i": item})).await;
        let read = "query($i: ID!) { item(id: $i) { title } }";
        let r = s.gql_as(Some(&editor), read, json!({"i": item})).await;
        assert_eq!(r, json!({"data": {"item": null}}), "{backend:?}");
        let r = s.gql_as(Some(&viewer), read, json!({"i": item})).await;
        assert_eq!(r, json!({"data": {"item": {"title": "x"}}}), "{backend:?}");

        s.data("mutation($i: ID!) { deleteItem(id: $i) { id } }", json!({"i": item})).await;
        let got = before_sentinel(&s, &mut we).await;
        if !got.is_empty() {
            problems.push(format!("{backend:?}: the editor never could read the item, yet received {got:?} (a leak)"));
        }
        let got = before_sentinel(&s, &mut wv).await;
        let want = json!({"data": {"itemDeleted": {"id": item, "title": "x"}}});
        if got != vec![want.clone()] {
            problems.push(format!(
                "{backend:?}: the viewer could read the item until its delete: expected [{want}], received {got:?}"
            ));
        }
        s.finish().await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The same for a tag: readable only while its item has no blue tag, a blue tag never is; judged
/// after its delete (its item then has no blue tag left) it reached anonymous `tagDeleted`
/// subscribers (a leak).
#[tokio::test]
async fn deleted_tags_are_judged_as_they_were() {
    let mut problems = Vec::new();
    for backend in backends() {
        let s = TestServer::start(backend, DELETES).await;
        let mut anon = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, None).await;
        subscribe_with_sentinel(&mut anon, "subscription { tagDeleted { id label } }").await;
        let item = s.data("mutation { createItem(input: {title: \"y\"}) { id } }", json!({})).await["createItem"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let create = "mutation($i: ID!) { createTag(input: {label: \"blue\", itemId: $i}) { id } }";
        let tag = s.data(create, json!({"i": item})).await["createTag"]["id"].as_str().unwrap().to_string();
        let read = "query($t: ID!) { tag(id: $t) { label } }";
        assert_eq!(s.gql_as(None, read, json!({"t": tag})).await, json!({"data": {"tag": null}}), "{backend:?}");

        s.data("mutation($t: ID!) { deleteTag(id: $t) { id } }", json!({"t": tag})).await;
        let got = before_sentinel(&s, &mut anon).await;
        if !got.is_empty() {
            problems.push(format!("{backend:?}: anonymous never could read the tag, yet received {got:?} (a leak)"));
        }
        s.finish().await;
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Rows a delete takes with it (`onDelete: CASCADE`) reach `…Deleted` subscribers too, each
/// judged as it was, its parent still there: a tag is readable while its item has no blue tag.
#[tokio::test]
async fn rows_deleted_by_cascade_reach_subscribers_judged_as_they_were() {
    for backend in backends() {
        let s = TestServer::start(backend, DELETES).await;
        let mut anon = Ws::connect(&s.url, crate::ws_client::Protocol::TransportWs, None).await;
        subscribe_with_sentinel(&mut anon, "subscription { tagDeleted { id label } }").await;
        let create_item = "mutation { createItem(input: {title: \"i\"}) { id } }";
        let create_tag = "mutation($i: ID!, $l: String!) { createTag(input: {label: $l, itemId: $i}) { id } }";
        let plain = s.data(create_item, json!({})).await["createItem"]["id"].as_str().unwrap().to_string();
        let green = s.data(create_tag, json!({"i": plain, "l": "green"})).await["createTag"]["id"].clone();
        let marked = s.data(create_item, json!({})).await["createItem"]["id"].as_str().unwrap().to_string();
        s.data(create_tag, json!({"i": marked, "l": "teal"})).await;
        s.data(create_tag, json!({"i": marked, "l": "blue"})).await;

        for item in [&plain, &marked] {
            s.data("mutation($i: ID!) { deleteItem(id: $i) { id } }", json!({"i": item})).await;
        }
        let got = before_sentinel(&s, &mut anon).await;
        let want = json!({"data": {"tagDeleted": {"id": green, "label": "green"}}});
        assert_eq!(
            got,
            vec![want],
            "{backend:?}: the green tag (readable), not teal or blue (their item had a blue tag)"
        );
        s.finish().await;
    }
}
