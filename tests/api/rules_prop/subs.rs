//! Subscriptions against the same reference as reads: every caller subscribes over WebSocket to
//! the created / updated / deleted rows of `Item` and `Tag` (whole rows with the guarded `note`
//! and nested relations, and with the case's random filters), and after each write every
//! subscriber's deliveries must be exactly what the reference lets that caller read of the
//! changed row. Each write is followed by a sentinel (admin creates a `Ping`, readable by all):
//! what a subscriber received before it is what that write delivered to it, so "nothing" is
//! checked without waiting, and the next write happens only after every delivery of this one
//! (rules and nested relations are evaluated by the server when it delivers).

use super::case::*;
use super::reference::*;
use super::run::*;
use crate::ws_client::{Protocol, Ws};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What a write did to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Created,
    Updated,
    Deleted,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Created => "Created",
            Kind::Updated => "Updated",
            Kind::Deleted => "Deleted",
        }
    }
}

/// A committed change of one row: the row after the change for create and update, as it was
/// for delete; the data just before the write and just after it.
#[derive(Clone, Debug)]
pub(super) enum Event {
    Item { kind: Kind, id: String, row: Item, before: State, after: State },
    Tag { kind: Kind, id: String, row: Tag, before: State, after: State },
}

impl Event {
    fn kind(&self) -> Kind {
        match self {
            Event::Item { kind, .. } | Event::Tag { kind, .. } => *kind,
        }
    }

    /// The data the changed row itself (its read rules, field rules and the filter) is judged
    /// on: the data after a create or update; for a delete, the data just before it, the row as
    /// it was with its relations as they were (a subscriber gets a deleted row it could read
    /// until the delete, and no other). Nested relations are read on the same data: a delete is
    /// judged and resolved before it happens, so a tag deleted with its item still shows the item.
    fn judged_on(&self) -> &State {
        match self {
            Event::Item { kind: Kind::Deleted, before, .. } | Event::Tag { kind: Kind::Deleted, before, .. } => before,
            Event::Item { after, .. } | Event::Tag { after, .. } => after,
        }
    }
}

#[derive(Clone, Debug)]
enum SubFilter {
    None,
    Item(Cond<ILeaf>),
    Tag(Cond<TLeaf>),
}

/// One subscription every caller opens.
#[derive(Clone, Debug)]
struct Sub {
    /// The operation id on the socket.
    id: &'static str,
    /// `Item` or `Tag`.
    item: bool,
    kind: Kind,
    filter: SubFilter,
    /// The whole row (with nested relations), or only `id` (and `note` for items).
    whole: bool,
    query: String,
}

impl Sub {
    fn field(&self) -> String {
        format!("{}{}", if self.item { "item" } else { "tag" }, self.kind.suffix())
    }
}

/// The sentinel subscription.
const PING: &str = "ping";

fn subs(case: &Case) -> Vec<Sub> {
    let ik = case.item.owner_key().map(|k| format!(" {k}")).unwrap_or_default();
    let tk = if case.tag.owner.is_some() { " ownerId" } else { "" };
    let item_whole = |kind: Kind| {
        // Nested tags are read from the data as the server delivers; a deleted item's were
        // deleted with it (CASCADE), so a delete selects none.
        let tags = if kind == Kind::Deleted { "" } else { " tags(first: 100) { nodes { id } }" };
        format!("{{ id title status level org{ik} note{tags} }}")
    };
    let tag_whole = format!("{{ id label itemId{tk} item {{ id note }} }}");
    let mut v = Vec::new();
    let mut add = |id, item, kind, filter: SubFilter, whole| {
        let field = format!("{}{}", if item { "item" } else { "tag" }, Kind::suffix(kind));
        let arg = match &filter {
            SubFilter::None => String::new(),
            SubFilter::Item(f) => format!("(filter: {})", f.render()),
            SubFilter::Tag(f) => format!("(filter: {})", f.render()),
        };
        let sel = match (item, whole) {
            (true, true) => item_whole(kind),
            (true, false) => "{ id note }".to_string(),
            (false, true) => tag_whole.clone(),
            (false, false) => "{ id }".to_string(),
        };
        let query = format!("subscription {{ {field}{arg} {sel} }}");
        v.push(Sub { id, item, kind, filter, whole, query });
    };
    for (id, kind) in [("ic", Kind::Created), ("iu", Kind::Updated), ("id", Kind::Deleted)] {
        add(id, true, kind, SubFilter::None, true);
    }
    // The case's item filters: three random ones, then one on the guarded `note` alone.
    let f = &case.item_filters;
    let nth = |i: usize| SubFilter::Item(f[i % f.len()].clone());
    add("icf", true, Kind::Created, nth(0), false);
    add("iuf", true, Kind::Updated, nth(1), false);
    add("iun", true, Kind::Updated, nth(f.len() - 1), false);
    add("idf", true, Kind::Deleted, nth(2), false);
    add("tc", false, Kind::Created, SubFilter::None, true);
    add("td", false, Kind::Deleted, SubFilter::None, true);
    // The random tag filters (the first is the fixed `{item: {level: {gte: N}}}`).
    let t = &case.tag_filters;
    add("tcf", false, Kind::Created, SubFilter::Tag(t[1 % t.len()].clone()), false);
    add("tdf", false, Kind::Deleted, SubFilter::Tag(t[t.len() - 1].clone()), false);
    v
}

/// One caller's socket and the subscriptions the server accepted on it.
pub(super) struct Subscriber {
    caller: Caller,
    ws: Ws,
    accepted: Vec<Sub>,
}

/// A delivery as compared: its data (nested lists in id order), and its errors as
/// `{path, code}`, sorted.
fn normalized(payload: &Value) -> Value {
    let mut data = payload.get("data").cloned().unwrap_or(Value::Null);
    if let Some(root) = data.as_object_mut().and_then(|o| o.values_mut().next())
        && let Some(nodes) = root.pointer_mut("/tags/nodes").and_then(Value::as_array_mut)
    {
        nodes.sort_by(|a, b| a["id"].to_string().cmp(&b["id"].to_string()));
    }
    let mut errors: Vec<Value> = payload["errors"]
        .as_array()
        .map(|errs| errs.iter().map(|e| json!({ "path": e["path"], "code": e["extensions"]["code"] })).collect())
        .unwrap_or_default();
    errors.sort_by_key(|e| e.to_string());
    json!({ "data": data, "errors": errors })
}

impl Run<'_> {
    /// Every caller opens a socket and subscribes; a caller no read rule of the model applies to
    /// is refused at subscribe time (with the code a root read would get), the others accepted.
    pub(super) async fn subscribe_all(&mut self) -> Vec<Subscriber> {
        let subs = subs(self.case);
        let mut out = Vec::new();
        for c in self.callers.clone() {
            let mut ws = Ws::connect(&self.s.url, Protocol::TransportWs, c.token.as_deref()).await;
            for sub in &subs {
                ws.subscribe(sub.id, &sub.query, json!({})).await;
            }
            ws.subscribe(PING, "subscription { pingCreated { n } }", json!({})).await;
            // Operations are handled in order: once this query is answered, every subscription
            // above is registered or refused.
            ws.subscribe("sync", "{ __typename }", json!({})).await;
            let mut refusals: BTreeMap<String, Value> = BTreeMap::new();
            loop {
                let m = ws.recv().await;
                match (m["type"].as_str(), m["id"].as_str()) {
                    (Some("complete"), Some("sync")) => break,
                    (Some("next"), Some("sync")) => {}
                    (_, id) => {
                        refusals.insert(id.unwrap_or_default().to_string(), m);
                    }
                }
            }
            let mut accepted = Vec::new();
            for sub in &subs {
                let spec_ok = if sub.item {
                    root_ok(&self.case.item, &c, Op::Read)
                } else {
                    root_ok(&self.case.tag, &c, Op::Read)
                };
                let got = refusals.remove(sub.id);
                let ok = match (&got, spec_ok) {
                    (None, true) => true,
                    (Some(m), false) => m["type"] == "error" && m["payload"][0]["extensions"]["code"] == c.denied(),
                    _ => false,
                };
                let expected = || if spec_ok { "accepted".to_string() } else { format!("refused with {}", c.denied()) };
                let actual = got.clone().unwrap_or_else(|| json!("accepted"));
                self.check(ok, &c, &format!("subscribe {}", sub.query), expected, &actual);
                if got.is_none() {
                    accepted.push(sub.clone());
                }
            }
            // The sentinel is public: always accepted; nothing else may have been sent.
            let others = json!(refusals);
            self.check(others == json!({}), &c, "subscribe (the sentinel and nothing else)", || "{}".into(), &others);
            out.push(Subscriber { caller: c, ws, accepted });
        }
        out
    }

    /// What `c` should receive on `sub` for `ev`, the row judged on the data `st` (nested
    /// relations read after the write): nothing, or the payload (normalized).
    fn delivery(&self, c: &Caller, sub: &Sub, ev: &Event, st: &State) -> Option<Value> {
        let field = sub.field();
        let kind = ev.kind();
        if kind != sub.kind {
            return None;
        }
        let m = Model { case: self.case, st };
        let now = Model { case: self.case, st: ev.judged_on() };
        let mut errors = Vec::new();
        let value = match (ev, sub.item) {
            (Event::Item { id, row, .. }, true) => {
                if !m.item_may(c, Op::Read, id, row) {
                    return None;
                }
                if let SubFilter::Item(f) = &sub.filter
                    && !m.eval_i(f, id, row, c, false)
                {
                    return None;
                }
                let note = match m.note_view(c, id, row) {
                    NoteView::Shown(v) => json!(v),
                    NoteView::Hidden => {
                        errors.push(json!({ "path": [field, "note"], "code": FORBIDDEN }));
                        Value::Null
                    }
                };
                if !sub.whole {
                    json!({ "id": id, "note": note })
                } else {
                    let mut o = json!({
                        "id": id, "title": row.title, "status": row.status.name(), "level": row.level,
                        "org": row.org, "note": note,
                    });
                    if let Some(k) = self.case.item.owner_key() {
                        o[k] = json!(row.owner);
                    }
                    if kind != Kind::Deleted {
                        let mut nodes: Vec<Value> = now
                            .st
                            .tags
                            .iter()
                            .filter(|(_, t)| t.item == *id && now.tag_may(c, Op::Read, t))
                            .map(|(tid, _)| json!({ "id": tid }))
                            .collect();
                        nodes.sort_by(|a, b| a["id"].to_string().cmp(&b["id"].to_string()));
                        o["tags"] = json!({ "nodes": nodes });
                    }
                    o
                }
            }
            (Event::Tag { id, row, .. }, false) => {
                if !m.tag_may(c, Op::Read, row) {
                    return None;
                }
                if let SubFilter::Tag(f) = &sub.filter
                    && !m.eval_t(f, row, c, false)
                {
                    return None;
                }
                if !sub.whole {
                    json!({ "id": id })
                } else {
                    let item = match now.st.items.get(&row.item) {
                        Some(it) if now.item_may(c, Op::Read, &row.item, it) => {
                            let note = match now.note_view(c, &row.item, it) {
                                NoteView::Shown(v) => json!(v),
                                NoteView::Hidden => {
                                    errors.push(json!({ "path": [field, "item", "note"], "code": FORBIDDEN }));
                                    Value::Null
                                }
                            };
                            json!({ "id": row.item, "note": note })
                        }
                        _ => {
                            errors.push(json!({ "path": [field, "item"], "code": FORBIDDEN }));
                            Value::Null
                        }
                    };
                    let mut o = json!({ "id": id, "label": row.label, "itemId": row.item, "item": item });
                    if self.case.tag.owner.is_some() {
                        o["ownerId"] = json!(row.owner);
                    }
                    o
                }
            }
            _ => return None,
        };
        errors.sort_by_key(|e| e.to_string());
        Some(json!({ "data": { field: value }, "errors": errors }))
    }

    /// After write number `k` (`op`, by `writer`, which made `events`): the sentinel,
    /// then every subscriber's deliveries up to it against the reference.
    pub(super) async fn deliveries(
        &mut self,
        subscribers: &mut [Subscriber],
        k: usize,
        op: &str,
        writer: &Caller,
        events: &[Event],
    ) {
        self.admin("mutation($n: Int!) { createPing(input: {n: $n}) { id } }", json!({ "n": k })).await;
        for sub in subscribers.iter_mut() {
            let c = sub.caller.clone();
            // Everything before the sentinel, by operation id.
            let mut got: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            loop {
                let m = sub.ws.recv().await;
                let id = m["id"].as_str().unwrap_or_default().to_string();
                if id == PING && m["type"] == "next" {
                    let want = json!({ "data": { "pingCreated": { "n": k } } });
                    let ok = m["payload"] == want;
                    self.check(ok, &c, &format!("the sentinel after write {k}"), || want.to_string(), &m);
                    if ok {
                        break;
                    }
                    continue;
                }
                let v = if m["type"] == "next" { normalized(&m["payload"]) } else { m };
                got.entry(id).or_default().push(v);
            }
            for s in &sub.accepted {
                // A write's changes arrive in no promised order (a delete's cascade).
                let mut expected: Vec<Value> =
                    events.iter().filter_map(|ev| self.delivery(&c, s, ev, ev.judged_on())).collect();
                let mut actual = got.remove(s.id).unwrap_or_default();
                expected.sort_by_key(|v| v.to_string());
                actual.sort_by_key(|v| v.to_string());
                let what = format!("{} (after write {k} by {}: {op})", s.query, writer.name);
                // Shown as the list of deliveries before the sentinel (`[]`: nothing).
                let shown = json!(actual);
                self.check(actual == expected, &c, &what, || json!(expected).to_string(), &shown);
            }
            // Messages for no accepted subscription (a refused one's, an error, a completion).
            if !got.is_empty() {
                let shown = json!(got);
                self.check(false, &c, &format!("any other message (after write {k}: {op})"), || "none".into(), &shown);
            }
        }
    }
}
