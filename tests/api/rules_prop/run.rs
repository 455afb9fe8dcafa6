//! Running a case on a real server: the callers, the reads checked against the reference, and
//! the case as a whole.

use super::case::*;
use super::reference::*;
use super::sdl::*;
use super::subs::{Event, Kind};
use crate::common::TestServer;
use ferrobase::testing::TestBackend;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

pub(super) struct Run<'a> {
    pub(super) s: &'a TestServer,
    pub(super) case: &'a Case,
    pub(super) callers: Vec<Caller>,
    pub(super) user_ids: Vec<String>,
    /// Every item id ever created, in order (deleted ones stay: they must read as missing).
    pub(super) item_ids: Vec<String>,
    pub(super) st: State,
    pub(super) checks: u64,
    pub(super) failures: Vec<String>,
}

pub(super) fn codes(r: &Value) -> Vec<String> {
    r["errors"]
        .as_array()
        .map(|errs| errs.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<no code>").to_string()).collect())
        .unwrap_or_default()
}

/// Whether an error is about the guarded `note` (its path ends in it).
pub(super) fn is_note_error(e: &Value) -> bool {
    e["path"].as_array().and_then(|p| p.last()) == Some(&json!("note"))
}

/// The number of errors not about `note` (those are checked by [`notes_match`]).
pub(super) fn other_errors(r: &Value) -> usize {
    r["errors"].as_array().map_or(0, |errs| errs.iter().filter(|e| !is_note_error(e)).count())
}

/// Every `(node, path of its note, expected view)`: a shown note is the value with no error at
/// its path, a hidden one null with exactly one FORBIDDEN error there; and no other `note`
/// error in the response.
pub(super) fn notes_match(r: &Value, nodes: &[(&Value, Value, &NoteView)]) -> bool {
    let errs: Vec<&Value> =
        r["errors"].as_array().map(|e| e.iter().filter(|e| is_note_error(e)).collect()).unwrap_or_default();
    let at = |path: &Value| errs.iter().filter(|e| e["path"] == *path).count();
    let forbidden_at =
        |path: &Value| at(path) == 1 && errs.iter().any(|e| e["path"] == *path && e["extensions"]["code"] == FORBIDDEN);
    let mut hidden = 0;
    let each = nodes.iter().all(|(node, path, view)| {
        let value = |v: &Option<String>| node["note"] == json!(v);
        match view {
            NoteView::Shown(v) => value(v) && at(path) == 0,
            NoteView::Hidden => {
                hidden += 1;
                node["note"].is_null() && forbidden_at(path)
            }
        }
    });
    each && errs.len() == hidden
}

pub(super) fn ids(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|n| n["id"].as_str().map(str::to_string)).collect()
}

pub(super) fn show_expected<T: std::fmt::Debug>(e: &Result<T, &str>) -> String {
    match e {
        Ok(v) => format!("{v:?}"),
        Err(code) => format!("refused with {code}"),
    }
}

impl<'a> Run<'a> {
    pub(super) fn model(&self) -> Model<'_> {
        Model { case: self.case, st: &self.st }
    }

    pub(super) fn check(&mut self, ok: bool, c: &Caller, op: &str, expected: impl FnOnce() -> String, actual: &Value) {
        self.checks += 1;
        if !ok {
            self.failures.push(format!(
                "caller: {}\n  operation: {op}\n  expected: {}\n  actual: {actual}",
                c.name,
                expected()
            ));
        }
    }

    pub(super) async fn gql(&self, c: &Caller, q: &str, vars: Value) -> Value {
        self.s.gql_as(c.token.as_deref(), q, vars).await
    }

    pub(super) async fn admin(&self, q: &str, vars: Value) -> Value {
        self.s.data(q, vars).await
    }

    /// A list query's answer: the node ids and totalCount, or the refusal code.
    pub(super) fn list_matches(r: &Value, field: &str, expected: &Result<BTreeSet<String>, &str>) -> bool {
        match expected {
            Err(code) => codes(r).first().map(String::as_str) == Some(*code) && r["data"][field].is_null(),
            Ok(set) => {
                let nodes = ids(&r["data"][field]["nodes"]);
                other_errors(r) == 0
                    && r["data"][field]["totalCount"].as_u64() == Some(set.len() as u64)
                    && nodes.is_some_and(|n| n.len() == set.len() && n.into_iter().collect::<BTreeSet<_>>() == *set)
            }
        }
    }

    /// The `note` of each readable row in `ids` as this caller reads it.
    pub(super) fn note_views(&self, c: &Caller, ids: impl IntoIterator<Item = String>) -> BTreeMap<String, NoteView> {
        let m = self.model();
        ids.into_iter().map(|id| (id.clone(), m.note_view(c, &id, &self.st.items[&id]))).collect()
    }

    /// The notes of a list's nodes (at `path`, index, `note`) against `views`; a node the
    /// reference has no view of fails.
    pub(super) fn list_notes_match(
        r: &Value,
        nodes: &Value,
        path: &[&str],
        views: &BTreeMap<String, NoteView>,
    ) -> bool {
        let nodes = nodes.as_array().cloned().unwrap_or_default();
        let mut want = Vec::new();
        for (i, n) in nodes.iter().enumerate() {
            let Some(view) = n["id"].as_str().and_then(|id| views.get(id)) else { return false };
            let mut p: Vec<Value> = path.iter().map(|s| json!(s)).collect();
            p.extend([json!(i), json!("note")]);
            want.push((n, Value::Array(p), view));
        }
        notes_match(r, &want)
    }

    pub(super) async fn reads(&mut self, c: &Caller) {
        // Lists and totalCount, and each node's `note` (field rules), checked on its own.
        let q = "{ items(first: 100) { totalCount nodes { id note } } }";
        let expected = self.model().items_readable(c);
        let r = self.gql(c, q, json!({})).await;
        self.check(Self::list_matches(&r, "items", &expected), c, q, || show_expected(&expected), &r);
        if let Ok(set) = &expected {
            let views = self.note_views(c, set.iter().cloned());
            let ok = Self::list_notes_match(&r, &r["data"]["items"]["nodes"], &["items", "nodes"], &views);
            self.check(ok, c, &format!("{q} (the notes)"), || format!("{views:?}"), &r);
        }

        // Ordering by `note`: FORBIDDEN unless the caller may read it in every row (it would
        // reveal the order of hidden values); else the rows by note (NULL first), then id.
        let q = "{ items(first: 100, orderBy: [{note: ASC}]) { nodes { id } } }";
        let expected = self.model().items_readable(c).and_then(|set| {
            if !self.model().note_orderable(c) {
                return Err(FORBIDDEN);
            }
            let mut rows: Vec<(Option<String>, String)> =
                set.into_iter().map(|id| (self.st.items[&id].note.clone(), id)).collect();
            rows.sort();
            Ok(rows.into_iter().map(|(_, id)| id).collect::<Vec<_>>())
        });
        let r = self.gql(c, q, json!({})).await;
        let ok = match &expected {
            Err(code) => codes(&r).first().map(String::as_str) == Some(*code) && r["data"]["items"].is_null(),
            Ok(order) => r.get("errors").is_none() && ids(&r["data"]["items"]["nodes"]).as_ref() == Some(order),
        };
        self.check(ok, c, q, || show_expected(&expected), &r);

        // A first page of two: the first readable rows in id order, and whether more follow.
        let q = "{ items(first: 2) { pageInfo { hasNextPage } nodes { id } } }";
        let expected = self.model().items_readable(c).map(|set| (set.iter().take(2).cloned().collect(), set.len() > 2));
        let r = self.gql(c, q, json!({})).await;
        let ok = match &expected {
            Err(code) => codes(&r).first().map(String::as_str) == Some(*code),
            Ok((first, more)) => {
                r.get("errors").is_none()
                    && ids(&r["data"]["items"]["nodes"]).as_ref() == Some(first)
                    && r["data"]["items"]["pageInfo"]["hasNextPage"].as_bool() == Some(*more)
            }
        };
        self.check(ok, c, q, || show_expected::<(Vec<String>, bool)>(&expected), &r);

        // Single reads: null exactly when not readable (deleted rows too); the note apart.
        let q = "query($id: ID!) { item(id: $id) { id note } }";
        for id in self.item_ids.clone() {
            let root = root_ok(&self.case.item, c, Op::Read);
            let readable = self.model().item_readable(c, &id);
            let r = self.gql(c, q, json!({ "id": id })).await;
            if root && readable {
                let view = self.model().note_view(c, &id, &self.st.items[&id]);
                let ok = notes_match(&r, &[(&r["data"]["item"], json!(["item", "note"]), &view)]);
                self.check(ok, c, &format!("{q} with id {id} (the note)"), || format!("note {view:?}"), &r);
            }
            let ok = if !root {
                codes(&r).first().map(String::as_str) == Some(c.denied()) && r["data"]["item"].is_null()
            } else if readable {
                other_errors(&r) == 0 && r["data"]["item"]["id"] == id.as_str()
            } else {
                r.get("errors").is_none() && r["data"]["item"].is_null()
            };
            let expected = || match (root, readable) {
                (false, _) => format!("refused with {}", c.denied()),
                (true, true) => format!("the row {id}"),
                (true, false) => "null, no error".into(),
            };
            self.check(ok, c, &format!("{q} with id {id}"), expected, &r);
        }

        // Client filters: the readable rows matching the filter; placeholders are plain text.
        for f in self.case.item_filters.clone() {
            let q = format!("{{ items(first: 100, filter: {}) {{ totalCount nodes {{ id }} }} }}", f.render());
            let expected = self.model().items_readable(c).map(|set| {
                let m = self.model();
                set.into_iter().filter(|id| m.eval_i(&f, id, &self.st.items[id], c, false)).collect()
            });
            let r = self.gql(c, &q, json!({})).await;
            self.check(Self::list_matches(&r, "items", &expected), c, &q, || show_expected(&expected), &r);
        }

        // Tags with their item: an unreadable item is null with a FORBIDDEN error at its path; a
        // readable one's note follows the field rules (checked on its own).
        let q = "{ tags(first: 100) { totalCount nodes { id item { id note } } } }";
        let expected = self.model().tags_readable(c);
        let r = self.gql(c, q, json!({})).await;
        let ok = match &expected {
            Err(code) => codes(&r).first().map(String::as_str) == Some(*code) && r["data"]["tags"].is_null(),
            Ok(set) => {
                let nodes = r["data"]["tags"]["nodes"].as_array().cloned().unwrap_or_default();
                let got: BTreeSet<String> = nodes.iter().filter_map(|n| n["id"].as_str().map(str::to_string)).collect();
                let mut ok = got == *set
                    && nodes.len() == set.len()
                    && r["data"]["tags"]["totalCount"].as_u64() == Some(set.len() as u64);
                let mut forbidden = 0;
                for (i, n) in nodes.iter().enumerate() {
                    let Some(tag) = n["id"].as_str().and_then(|id| self.st.tags.get(id)) else {
                        ok = false;
                        continue;
                    };
                    if self.model().item_readable(c, &tag.item) {
                        ok &= n["item"]["id"] == tag.item.as_str();
                    } else {
                        forbidden += 1;
                        ok &= n["item"].is_null();
                        let path = json!(["tags", "nodes", i, "item"]);
                        ok &= r["errors"].as_array().is_some_and(|errs| {
                            errs.iter().any(|e| e["path"] == path && e["extensions"]["code"] == FORBIDDEN)
                        });
                    }
                }
                let others: Vec<&Value> = r["errors"]
                    .as_array()
                    .map(|e| e.iter().filter(|e| !is_note_error(e)).collect())
                    .unwrap_or_default();
                ok && others.len() == forbidden && others.iter().all(|e| e["extensions"]["code"] == FORBIDDEN)
            }
        };
        let expected_text = match &expected {
            _ if ok => String::new(),
            Err(code) => format!("refused with {code}"),
            Ok(set) => {
                let m = self.model();
                let rows = set.iter().map(|t| {
                    let item = &self.st.tags[t].item;
                    let shown = if m.item_readable(c, item) { item.clone() } else { "null + FORBIDDEN".into() };
                    format!("{t} -> item {shown}")
                });
                format!("[{}]", join(rows))
            }
        };
        self.check(ok, c, q, || expected_text, &r);
        if ok && expected.is_ok() {
            let m = self.model();
            let nodes = r["data"]["tags"]["nodes"].as_array().cloned().unwrap_or_default();
            let mut want = Vec::new();
            for (i, n) in nodes.iter().enumerate() {
                let Some(tag) = n["id"].as_str().and_then(|id| self.st.tags.get(id)) else { continue };
                if m.item_readable(c, &tag.item) {
                    let view = m.note_view(c, &tag.item, &self.st.items[&tag.item]);
                    want.push((&n["item"], json!(["tags", "nodes", i, "item", "note"]), view));
                }
            }
            let refs: Vec<(&Value, Value, &NoteView)> = want.iter().map(|(n, p, v)| (*n, p.clone(), v)).collect();
            let ok = notes_match(&r, &refs);
            let shown = join(want.iter().map(|(n, _, v)| format!("item {} -> {v:?}", n["id"])));
            self.check(ok, c, &format!("{q} (the items' notes)"), || format!("[{shown}]"), &r);
        }

        // Relation filters count only tags whose item is readable and matches.
        for f in self.case.tag_filters.clone() {
            let q = format!("{{ tags(first: 100, filter: {}) {{ totalCount nodes {{ id }} }} }}", f.render());
            let expected = self.model().tags_readable(c).map(|set| {
                let m = self.model();
                set.into_iter().filter(|id| m.eval_t(&f, &self.st.tags[id], c, false)).collect()
            });
            let r = self.gql(c, &q, json!({})).await;
            self.check(Self::list_matches(&r, "tags", &expected), c, &q, || show_expected(&expected), &r);
        }

        // Nested hasMany, unfiltered and filtered: each readable item's readable (matching) tags.
        let filters = [None, self.case.tag_filters.last().cloned()];
        for f in filters {
            let arg = f.as_ref().map(|f| format!(", filter: {}", f.render())).unwrap_or_default();
            let q = format!(
                "{{ items(first: 100) {{ nodes {{ id tags(first: 100{arg}) {{ totalCount nodes {{ id }} }} }} }} }}"
            );
            let expected: Result<BTreeMap<String, BTreeSet<String>>, &str> =
                self.model().items_readable(c).map(|set| {
                    let m = self.model();
                    let wanted =
                        |t: &Tag| m.tag_may(c, Op::Read, t) && f.as_ref().is_none_or(|f| m.eval_t(f, t, c, false));
                    set.into_iter()
                        .map(|id| {
                            let tags = self.st.tags.iter().filter(|(_, t)| t.item == id && wanted(t));
                            let tags = tags.map(|(tid, _)| tid.clone()).collect();
                            (id, tags)
                        })
                        .collect()
                });
            let r = self.gql(c, &q, json!({})).await;
            let ok = match &expected {
                Err(code) => codes(&r).first().map(String::as_str) == Some(*code),
                Ok(map) => {
                    let nodes = r["data"]["items"]["nodes"].as_array().cloned().unwrap_or_default();
                    r.get("errors").is_none()
                        && nodes.len() == map.len()
                        && nodes.iter().all(|n| {
                            let want = n["id"].as_str().and_then(|id| map.get(id));
                            let got = ids(&n["tags"]["nodes"]).map(|v| v.into_iter().collect::<BTreeSet<_>>());
                            want.is_some_and(|w| {
                                got.as_ref() == Some(w) && n["tags"]["totalCount"].as_u64() == Some(w.len() as u64)
                            })
                        })
                }
            };
            self.check(ok, c, &q, || show_expected(&expected), &r);
        }
    }

    /// Everything, as admin sees it.
    pub(super) async fn server_state(&self) -> State {
        let io = self.case.item.owner_key().map(|k| format!(" {k}")).unwrap_or_default();
        let to = if self.case.tag.owner.is_some() { " ownerId" } else { "" };
        let q = format!(
            "{{ items(first: 100) {{ nodes {{ id title status level org note{io} }} }} \
             tags(first: 100) {{ nodes {{ id label itemId{to} }} }} }}"
        );
        let d = self.admin(&q, json!({})).await;
        let text = |v: &Value| v.as_str().map(str::to_string);
        let mut st = State::default();
        for n in d["items"]["nodes"].as_array().expect("items") {
            let owner = self.case.item.owner_key().and_then(|k| text(&n[k]));
            let item = Item {
                title: text(&n["title"]).expect("title"),
                status: if n["status"] == "A" { St::A } else { St::B },
                level: n["level"].as_i64().expect("level"),
                org: text(&n["org"]),
                owner,
                note: text(&n["note"]),
            };
            st.items.insert(text(&n["id"]).expect("id"), item);
        }
        for n in d["tags"]["nodes"].as_array().expect("tags") {
            let tag = Tag {
                label: text(&n["label"]).expect("label"),
                item: text(&n["itemId"]).expect("itemId"),
                owner: text(&n["ownerId"]),
            };
            st.tags.insert(text(&n["id"]).expect("id"), tag);
        }
        st
    }

    pub(super) fn caller(&self, i: usize) -> Caller {
        self.callers[i % self.callers.len()].clone()
    }
}

pub(super) async fn sign_in(s: &TestServer, email: &str) -> String {
    let q = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken } }";
    let r = s.gql_as(None, q, json!({ "e": email, "p": PASSWORD })).await;
    r["data"]["signIn"]["accessToken"].as_str().unwrap_or_else(|| panic!("signIn: {r}")).to_string()
}

/// Runs one case on a fresh server: the number of checks, and the failure report if any check
/// failed.
pub(super) async fn run_case(backend: TestBackend, case: &Case) -> (u64, Result<(), String>) {
    let sdl = sdl(case);
    let s = TestServer::start_with(backend, &sdl, |c| {
        c.auth_rate_limit_per_ip = 0;
        c.auth_rate_limit_per_account = 0;
    })
    .await;

    // Users: sign up, get roles and claims as admin, sign in again for a token carrying them.
    let mut callers = vec![Caller {
        name: "anonymous".into(),
        token: None,
        id: None,
        email: None,
        roles: vec![],
        org: None,
        admin: false,
    }];
    let mut user_ids = Vec::new();
    for (i, u) in case.users.iter().enumerate() {
        let email = format!("u{i}@example.com");
        let r = s
            .gql_as(
                None,
                "mutation($e: String!, $p: String!) { signUp(input: {email: $e, password: $p}) { accessToken user { id } } }",
                json!({ "e": email, "p": PASSWORD }),
            )
            .await;
        let id = r["data"]["signUp"]["user"]["id"].as_str().unwrap_or_else(|| panic!("signUp: {r}")).to_string();
        let mut token = r["data"]["signUp"]["accessToken"].as_str().expect("token").to_string();
        let mut roles = u.roles.clone();
        if u.admin {
            roles.push("admin");
        }
        if !roles.is_empty() {
            s.data(
                "mutation($u: ID!, $r: [String!]!) { setUserRoles(userId: $u, roles: $r) { id } }",
                json!({ "u": id, "r": roles }),
            )
            .await;
        }
        if let Some(org) = u.org {
            s.data(
                "mutation($u: ID!, $c: JSON!) { setUserClaims(userId: $u, claims: $c) { id } }",
                json!({ "u": id, "c": { "org": org } }),
            )
            .await;
        }
        if !roles.is_empty() || u.org.is_some() {
            token = sign_in(&s, &email).await;
        }
        callers.push(Caller {
            name: format!("u{i} (roles {roles:?}, org claim {:?})", u.org),
            token: Some(token),
            id: Some(id.clone()),
            email: Some(email),
            roles: u.roles.clone(),
            org: u.org,
            admin: u.admin,
        });
        user_ids.push(id);
    }
    callers.push(Caller {
        name: "admin (service key)".into(),
        token: Some(s.key.clone()),
        id: None,
        email: None,
        roles: vec![],
        org: None,
        admin: true,
    });

    // Rows, as admin.
    let mut item_ids = Vec::new();
    for row in &case.items {
        let mut input = super::write::item_input(&row.fields);
        if let (Some(k), Some(o)) = (case.item.owner_key(), row.owner) {
            let _ = write!(input, ", {k}: {}", quoted(&user_ids[o % user_ids.len()]));
        }
        let d = s.data(&format!("mutation {{ createItem(input: {{{input}}}) {{ id }} }}"), json!({})).await;
        item_ids.push(d["createItem"]["id"].as_str().expect("id").to_string());
    }
    for t in &case.tags {
        let mut input = format!("label: {}, itemId: {}", quoted(t.label), quoted(&item_ids[t.item % item_ids.len()]));
        if let (Some(_), Some(o)) = (case.tag.owner, t.owner) {
            let _ = write!(input, ", ownerId: {}", quoted(&user_ids[o % user_ids.len()]));
        }
        s.data(&format!("mutation {{ createTag(input: {{{input}}}) {{ id }} }}"), json!({})).await;
    }

    let mut run =
        Run { s: &s, case, callers, user_ids, item_ids, st: State::default(), checks: 0, failures: Vec::new() };
    run.st = run.server_state().await;
    let seeded = run.st.clone();

    for c in run.callers.clone() {
        run.reads(&c).await;
    }
    // Every caller subscribes; after each write, each one's deliveries are checked.
    let mut subscribers = run.subscribe_all().await;
    let admin = run.callers.len() - 1;
    let mut writes = 0;
    for m in &case.mutations {
        let w = run.write(m).await;
        writes += 1;
        run.deliveries(&mut subscribers, writes, &w.op, &run.caller(m.caller), &w.events).await;
    }
    // Then admin writes so that each kind of change happens: an item (as the last seeded row,
    // with a note), a tag on it, the item updated (as the first seeded row), the tag and the
    // item deleted.
    let last = &case.items[case.items.len() - 1];
    let first = &case.items[0];
    let note = Some(Some(NOTES[case.items.len() % NOTES.len()]));
    let tag_owner = case.tags.first().and_then(|t| t.owner).map(OwnerArg::User);
    let extra = [
        Mut::CreateItem(Fields { note, ..last.fields.clone() }, last.owner.map(OwnerArg::User)),
        Mut::CreateTag(LABELS[case.tags.len() % LABELS.len()], usize::MAX, tag_owner),
        Mut::UpdateItem(
            usize::MAX,
            Patch {
                title: Some(first.fields.title),
                status: Some(first.fields.status),
                level: Some(first.fields.level),
                org: Some(first.fields.org),
                owner: None,
                note: Some(first.fields.note.flatten()),
            },
        ),
        Mut::DeleteTag(usize::MAX),
        Mut::DeleteItem(usize::MAX),
    ];
    let mut new_item = None;
    let mut new_tag = None;
    for kind in extra {
        // Aimed at the item and tag created here (indexes are taken modulo).
        let index = |id: &Option<String>, keys: Vec<&String>| {
            id.as_ref().and_then(|id| keys.iter().position(|k| *k == id)).unwrap_or(0)
        };
        let kind = match kind {
            Mut::CreateTag(l, _, o) => Mut::CreateTag(l, index(&new_item, run.st.items.keys().collect()), o),
            Mut::UpdateItem(_, p) => Mut::UpdateItem(run.item_ids.len() - 1, p),
            Mut::DeleteTag(_) => Mut::DeleteTag(index(&new_tag, run.st.tags.keys().collect())),
            Mut::DeleteItem(_) => Mut::DeleteItem(run.item_ids.len() - 1),
            k => k,
        };
        let created_tag = matches!(kind, Mut::CreateTag(..));
        let w = run.write(&Mutation { caller: admin, kind }).await;
        if let Some(Event::Item { kind: Kind::Created, id, .. }) = w.events.first() {
            new_item = Some(id.clone());
        }
        if let (true, Some(Event::Tag { id, .. })) = (created_tag, w.events.first()) {
            new_tag = Some(id.clone());
        }
        writes += 1;
        run.deliveries(&mut subscribers, writes, &w.op, &run.caller(admin), &w.events).await;
    }
    drop(subscribers);
    for c in run.callers.clone() {
        run.reads(&c).await;
    }

    let result = if run.failures.is_empty() {
        Ok(())
    } else {
        let mut report = format!(
            "{} of {} checks failed on {backend:?}\n--- SDL ---\n{sdl}--- users ---\n",
            run.failures.len(),
            run.checks
        );
        for c in &run.callers[1..run.callers.len() - 1] {
            let _ = writeln!(report, "{} = {}", c.name, c.id.as_deref().unwrap_or_default());
        }
        let _ = writeln!(report, "--- rows as seeded ---\n{seeded:#?}\n--- failures ---");
        for f in run.failures.iter().take(12) {
            let _ = writeln!(report, "{f}\n");
        }
        Err(report)
    };
    let counts = run.checks;
    s.finish().await;
    (counts, result)
}
