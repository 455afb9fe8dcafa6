//! The writes of a case: each outcome checked against the reference, then the stored data.

use super::case::*;
use super::reference::*;
use super::run::*;
use super::sdl::*;
use super::subs::{Event, Kind};
use serde_json::json;
use std::fmt::Write as _;

/// The input of a new item.
pub(super) fn item_input(f: &Fields) -> String {
    let mut input = format!(
        "title: {}, status: {}, level: {}, org: {}",
        quoted(f.title),
        f.status.name(),
        f.level,
        f.org.map(quoted).unwrap_or("null".into())
    );
    if let Some(n) = f.note {
        let _ = write!(input, ", note: {}", n.map(quoted).unwrap_or("null".into()));
    }
    input
}

/// A write the caller may make to a row they may not read (after it, or, for a delete, before):
/// its result may show only `id` and the fields written, so selecting `{ id note }` without
/// writing `note` is FORBIDDEN and writes nothing.
fn write_only(expect: Expect, m: &Model, c: &Caller, id: &str, row: &Item, writes_note: bool) -> Expect {
    if expect == Expect::Ok && !c.admin && !writes_note && !m.item_may(c, Op::Read, id, row) {
        refused(FORBIDDEN)
    } else {
        expect
    }
}

/// A write as sent, and the changes it made (for subscriptions): the written row's, then (a
/// deleted item) one per tag its delete cascaded to.
pub(super) struct Written {
    pub(super) op: String,
    pub(super) events: Vec<Event>,
}

impl Run<'_> {
    /// One write: its outcome against the reference, then the whole data set as admin sees it
    /// (a refused write changed nothing; an accepted one wrote exactly the row expected).
    pub(super) async fn write(&mut self, m: &Mutation) -> Written {
        let c = self.caller(m.caller);
        let item_key = self.case.item.owner_key();
        let mut next = self.st.clone();
        let (op, expect, field) = match &m.kind {
            Mut::CreateItem(f, arg) => {
                let sent = item_key.as_ref().and_then(|_| owner_value(*arg, &c, &self.user_ids));
                let item = |owner| Item {
                    title: f.title.into(),
                    status: f.status,
                    level: f.level,
                    org: f.org.map(str::to_string),
                    owner,
                    note: f.note.flatten().map(str::to_string),
                };
                let m = self.model();
                // Writing `note` also takes a create rule of the field, holding on the new row.
                let writes_note = f.note.is_some();
                let fields_ok = !writes_note || m.note_root_ok(&c, Op::Create);
                let (expect, owner) = expect_create(&self.case.item, &c, sent.clone(), fields_ok, |owner| {
                    let it = item(owner);
                    m.item_may(&c, Op::Create, "", &it) && (!writes_note || m.note_may(&c, Op::Create, "", &it))
                });
                let expect = write_only(expect, &m, &c, "", &item(owner.clone()), writes_note);
                let mut input = item_input(f);
                if let (Some(k), Some(v)) = (&item_key, &sent) {
                    let _ = write!(input, ", {k}: {}", v.as_deref().map(quoted).unwrap_or("null".into()));
                }
                next.items.insert(String::new(), item(owner));
                (format!("mutation {{ createItem(input: {{{input}}}) {{ id note }} }}"), expect, "createItem")
            }
            Mut::UpdateItem(row, p) => {
                let id = self.item_ids[row % self.item_ids.len()].clone();
                let sent = item_key.as_ref().and_then(|_| owner_value(p.owner, &c, &self.user_ids));
                let before = self.st.items.get(&id).cloned();
                let mut parts = Vec::new();
                let mut after = before.clone();
                if let Some(t) = p.title {
                    parts.push(format!("title: {}", quoted(t)));
                    after.iter_mut().for_each(|a| a.title = t.into());
                }
                if let Some(s) = p.status {
                    parts.push(format!("status: {}", s.name()));
                    after.iter_mut().for_each(|a| a.status = s);
                }
                if let Some(l) = p.level {
                    parts.push(format!("level: {l}"));
                    after.iter_mut().for_each(|a| a.level = l);
                }
                if let Some(o) = p.org {
                    parts.push(format!("org: {}", o.map(quoted).unwrap_or("null".into())));
                    after.iter_mut().for_each(|a| a.org = o.map(str::to_string));
                }
                if let (Some(k), Some(v)) = (&item_key, &sent) {
                    parts.push(format!("{k}: {}", v.as_deref().map(quoted).unwrap_or("null".into())));
                    after.iter_mut().for_each(|a| a.owner = v.clone());
                }
                if let Some(n) = p.note {
                    parts.push(format!("note: {}", n.map(quoted).unwrap_or("null".into())));
                    after.iter_mut().for_each(|a| a.note = n.map(str::to_string));
                }
                let m = self.model();
                let readable = m.item_readable(&c, &id);
                // Writing `note` also takes an update rule of the field, holding before and after.
                let writes_note = p.note.is_some();
                let may = |it: &Item| {
                    m.item_may(&c, Op::Update, &id, it) && (!writes_note || m.note_may(&c, Op::Update, &id, it))
                };
                let expect = if c.admin {
                    if before.is_some() { Expect::Ok } else { refused(NOT_FOUND) }
                } else if self.case.item.managed() && sent.is_some() {
                    // Only admin may reassign the owner (not taken by others, nor given away).
                    Expect::Refused(vec![FORBIDDEN, NOT_FOUND, UNAUTHENTICATED])
                } else if !root_ok(&self.case.item, &c, Op::Update) || (writes_note && !m.note_root_ok(&c, Op::Update))
                {
                    refused(c.denied())
                } else if let (Some(b), Some(a)) = (&before, &after) {
                    if !may(b) {
                        refused(if readable { FORBIDDEN } else { NOT_FOUND })
                    } else if !may(a) {
                        refused(FORBIDDEN)
                    } else {
                        write_only(Expect::Ok, &m, &c, &id, a, writes_note)
                    }
                } else {
                    refused(NOT_FOUND)
                };
                if let Some(a) = after {
                    next.items.insert(id.clone(), a);
                }
                let q =
                    format!("mutation {{ updateItem(id: {}, input: {{{}}}) {{ id note }} }}", quoted(&id), join(parts));
                (q, expect, "updateItem")
            }
            Mut::DeleteItem(row) => {
                let id = self.item_ids[row % self.item_ids.len()].clone();
                let m = self.model();
                let expect = match self.st.items.get(&id) {
                    _ if !c.admin && !root_ok(&self.case.item, &c, Op::Delete) => refused(c.denied()),
                    None => refused(NOT_FOUND),
                    Some(it) if m.item_may(&c, Op::Delete, &id, it) => write_only(Expect::Ok, &m, &c, &id, it, false),
                    Some(_) => refused(if m.item_readable(&c, &id) { FORBIDDEN } else { NOT_FOUND }),
                };
                next.items.remove(&id);
                next.tags.retain(|_, t| t.item != id);
                (format!("mutation {{ deleteItem(id: {}) {{ id note }} }}", quoted(&id)), expect, "deleteItem")
            }
            Mut::CreateTag(label, item, arg) => {
                let live: Vec<&String> = self.st.items.keys().collect();
                if live.is_empty() {
                    return Written { op: "createTag (no item left: not sent)".into(), events: Vec::new() };
                }
                let item_id = live[item % live.len()].clone();
                let sent = self.case.tag.owner.and_then(|_| owner_value(*arg, &c, &self.user_ids));
                let tag = |owner| Tag { label: label.to_string(), item: item_id.clone(), owner };
                let m = self.model();
                let (expect, owner) = expect_create(&self.case.tag, &c, sent.clone(), true, |owner| {
                    m.tag_may(&c, Op::Create, &tag(owner))
                });
                let mut input = format!("label: {}, itemId: {}", quoted(label), quoted(&item_id));
                if let (Some(_), Some(v)) = (self.case.tag.owner, &sent) {
                    let _ = write!(input, ", ownerId: {}", v.as_deref().map(quoted).unwrap_or("null".into()));
                }
                next.tags.insert(String::new(), tag(owner));
                (format!("mutation {{ createTag(input: {{{input}}}) {{ id }} }}"), expect, "createTag")
            }
            Mut::DeleteTag(row) => {
                let all: Vec<&String> = self.st.tags.keys().collect();
                if all.is_empty() {
                    return Written { op: "deleteTag (no tag left: not sent)".into(), events: Vec::new() };
                }
                let id = all[row % all.len()].clone();
                let m = self.model();
                let tag = &self.st.tags[&id];
                let expect = if c.admin || m.tag_may(&c, Op::Delete, tag) {
                    Expect::Ok
                } else if !root_ok(&self.case.tag, &c, Op::Delete) {
                    refused(c.denied())
                } else if m.tag_may(&c, Op::Read, tag) {
                    refused(FORBIDDEN)
                } else {
                    refused(NOT_FOUND)
                };
                next.tags.remove(&id);
                (format!("mutation {{ deleteTag(id: {}) {{ id }} }}", quoted(&id)), expect, "deleteTag")
            }
        };
        let r = self.gql(&c, &op, json!({})).await;
        let got_codes = codes(&r);
        let ok = match &expect {
            // `note` errors are checked below.
            Expect::Ok => other_errors(&r) == 0 && r["data"][field]["id"].is_string(),
            Expect::Refused(allowed) => {
                got_codes.len() == 1 && allowed.iter().any(|a| *a == got_codes[0]) && r["data"].is_null()
            }
        };
        self.check(ok, &c, &op, || format!("{expect:?}"), &r);

        // The data afterwards, as admin sees it.
        let now = self.server_state().await;
        // The returned row's `note`: a deleted row as it was, a written one as it is now.
        if ok && expect == Expect::Ok && field != "createTag" && field != "deleteTag" {
            let id = r["data"][field]["id"].as_str().unwrap_or_default().to_string();
            let st = if field == "deleteItem" { &self.st } else { &now };
            let m = Model { case: self.case, st };
            if let Some(it) = st.items.get(&id) {
                let view = m.note_view(&c, &id, it);
                let node = &r["data"][field];
                let ok = notes_match(&r, &[(node, json!([field, "note"]), &view)]);
                self.check(ok, &c, &format!("{op} (its note)"), || format!("note {view:?}"), &r);
            }
        }
        if ok {
            let new_id = r["data"][field]["id"].as_str().unwrap_or_default().to_string();
            let mut want = if expect == Expect::Ok { next } else { self.st.clone() };
            if let Some(row) = want.items.remove("") {
                want.items.insert(new_id.clone(), row);
            }
            if let Some(row) = want.tags.remove("") {
                want.tags.insert(new_id.clone(), row);
            }
            let same = now == want;
            let shown = json!(format!("{now:?}"));
            self.check(same, &c, &format!("{op} (then the data as admin reads it)"), || format!("{want:?}"), &shown);
        }
        if field == "createItem"
            && let Some(id) = r["data"][field]["id"].as_str()
        {
            self.item_ids.push(id.to_string());
        }
        // The change the server reports it made: the row as it is now, or as it was (a delete),
        // whether or not the reference expected the write to succeed.
        let event = r["data"][field]["id"].as_str().and_then(|id| {
            let id = id.to_string();
            let kind = match field {
                "createItem" | "createTag" => Kind::Created,
                "updateItem" => Kind::Updated,
                _ => Kind::Deleted,
            };
            let (before, after) = (self.st.clone(), now.clone());
            let rows = if kind == Kind::Deleted { &before } else { &after };
            if field.ends_with("Item") {
                let row = rows.items.get(&id)?.clone();
                Some(Event::Item { kind, id, row, before, after })
            } else {
                let row = rows.tags.get(&id)?.clone();
                Some(Event::Tag { kind, id, row, before, after })
            }
        });
        // Deleting an item deletes its tags (`onDelete: CASCADE`): each a tag delete of its own,
        // judged as it was.
        let mut events: Vec<Event> = event.into_iter().collect();
        if let Some(Event::Item { kind: Kind::Deleted, id, before, after, .. }) = events.first().cloned() {
            for (tag_id, tag) in before.tags.iter().filter(|(_, t)| t.item == id) {
                let (before, after) = (before.clone(), after.clone());
                events.push(Event::Tag { kind: Kind::Deleted, id: tag_id.clone(), row: tag.clone(), before, after });
            }
        }
        self.st = now;
        Written { op, events }
    }
}
