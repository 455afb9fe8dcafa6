//! `@auth` rules enforced on every path: lists, totalCount, single reads, nested relations,
//! relation filters, field rules, creates, updates and deletes.

use crate::common::*;
use serde_json::{Value, json};

const RULES: &str = include_str!("fixtures/rules.graphql");

struct World {
    s: TestServer,
    a: String,
    b: String,
    a_id: String,
    editor: String,
}

async fn world(backend: ferrobase::testing::TestBackend) -> World {
    let s = TestServer::start(backend, RULES).await;
    let (a, a_id) = sign_up(&s, "a@example.com").await;
    let (b, _) = sign_up(&s, "b@example.com").await;
    let (_, e_id) = sign_up(&s, "editor@example.com").await;
    s.data("mutation($u: ID!) { setUserRoles(userId: $u, roles: [\"editor\"]) { id } }", json!({ "u": e_id })).await;
    let editor = s
        .gql_as(
            None,
            "mutation { signIn(email: \"editor@example.com\", password: \"correct horse\") { accessToken } }",
            json!({}),
        )
        .await["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    World { s, a, b, a_id, editor }
}

impl World {
    async fn as_(&self, token: Option<&str>, q: &str, vars: Value) -> Value {
        self.s.gql_as(token, q, vars).await
    }
    async fn note(&self, token: &str, title: &str, status: &str) -> String {
        let r = self
            .as_(
                Some(token),
                "mutation($t: String!, $s: Status!) { createNote(input: {title: $t, status: $s, secret: \"s3\"}) { id ownerId } }",
                json!({ "t": title, "s": status }),
            )
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        r["data"]["createNote"]["id"].as_str().unwrap().to_string()
    }
    async fn titles(&self, token: Option<&str>) -> (Vec<String>, i64) {
        let r = self.as_(token, "{ notes(orderBy: [{title: ASC}]) { totalCount nodes { title } } }", json!({})).await;
        assert!(r.get("errors").is_none(), "{r}");
        let t =
            r["data"]["notes"]["nodes"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string());
        (t.collect(), r["data"]["notes"]["totalCount"].as_i64().unwrap())
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn reads_follow_the_rules_everywhere() {
    for backend in backends() {
        let w = world(backend).await;
        let a_draft = w.note(&w.a, "a-draft", "DRAFT").await;
        w.note(&w.a, "a-pub", "PUBLISHED").await;
        w.note(&w.b, "b-draft", "DRAFT").await;

        // Lists and totalCount: anonymous sees published; owners also see their drafts; the
        // editor role reads everything.
        assert_eq!(w.titles(None).await, (strings(&["a-pub"]), 1), "{backend:?}");
        assert_eq!(w.titles(Some(&w.a)).await, (strings(&["a-draft", "a-pub"]), 2));
        assert_eq!(w.titles(Some(&w.b)).await, (strings(&["a-pub", "b-draft"]), 2));
        assert_eq!(w.titles(Some(&w.editor)).await, (strings(&["a-draft", "a-pub", "b-draft"]), 3));

        // Single reads of a row you may not read are null.
        let q = "query($id: ID!) { note(id: $id) { title } }";
        assert_eq!(w.as_(Some(&w.b), q, json!({ "id": a_draft })).await["data"]["note"], Value::Null);
        assert_eq!(w.as_(Some(&w.a), q, json!({ "id": a_draft })).await["data"]["note"]["title"], "a-draft");

        // A reply by B on A's draft: B reads the reply, but its note is FORBIDDEN at its path.
        let r = w
            .as_(
                Some(&w.b),
                "mutation($n: ID!) { createReply(input: {noteId: $n, body: \"hi\"}) { id } }",
                json!({ "n": a_draft }),
            )
            .await;
        assert!(r.get("errors").is_none(), "{r}");
        let r = w.as_(Some(&w.b), "{ replies { nodes { body note { title } } } }", json!({})).await;
        assert_eq!(r["data"]["replies"]["nodes"][0]["body"], "hi", "{r}");
        assert_eq!(r["data"]["replies"]["nodes"][0]["note"], Value::Null, "{r}");
        assert_eq!(error_code(&r), "FORBIDDEN");
        assert_eq!(r["errors"][0]["path"], json!(["replies", "nodes", 0, "note"]), "{r}");

        // Relation filters cannot probe rows you may not read.
        let probe = "{ replies(filter: {note: {title: {eq: \"a-draft\"}}}) { totalCount } }";
        assert_eq!(w.as_(Some(&w.b), probe, json!({})).await["data"]["replies"]["totalCount"], 0);
        assert_eq!(w.as_(Some(&w.a), probe, json!({})).await["data"]["replies"]["totalCount"], 1);
        let some = "{ notes(filter: {replies: {some: {body: {eq: \"hi\"}}}}) { totalCount } }";
        assert_eq!(w.as_(Some(&w.a), some, json!({})).await["data"]["notes"]["totalCount"], 1);

        // Nor can they probe fields they may not read: another user's email, an owner-only field.
        let by_email = "{ notes(filter: {owner: {email: {eq: \"a@example.com\"}}}) { totalCount } }";
        assert_eq!(w.as_(Some(&w.b), by_email, json!({})).await["data"]["notes"]["totalCount"], 0);
        assert_eq!(w.as_(None, by_email, json!({})).await["data"]["notes"]["totalCount"], 0);
        assert_eq!(w.as_(Some(&w.a), by_email, json!({})).await["data"]["notes"]["totalCount"], 2);
        let by_secret = "{ notes(filter: {secret: {eq: \"s3\"}}) { totalCount } }";
        // B's own note matches; A's published note (readable, secret not) does not.
        assert_eq!(w.as_(Some(&w.b), by_secret, json!({})).await["data"]["notes"]["totalCount"], 1);
        assert_eq!(w.as_(Some(&w.a), by_secret, json!({})).await["data"]["notes"]["totalCount"], 2);

        // Ordering by a guarded field would reveal hidden values' order.
        let ordered = "{ notes(orderBy: [{secret: ASC}]) { totalCount } }";
        assert_eq!(error_code(&w.as_(Some(&w.b), ordered, json!({})).await), "FORBIDDEN");
        assert!(w.s.gql(ordered, json!({})).await.get("errors").is_none(), "admin may");

        // Nested hasMany follows the reply rules (private read): anonymous callers get nothing.
        let nested = "{ notes { nodes { title replies { totalCount } } } }";
        let anon = w.as_(None, nested, json!({})).await;
        assert_eq!(anon["data"]["notes"]["nodes"][0]["replies"]["totalCount"], 0, "{anon}");

        // Field rules: `secret` is the owner's; B reading A's published note gets FORBIDDEN there.
        let r = w
            .as_(Some(&w.b), "{ notes(filter: {title: {eq: \"a-pub\"}}) { nodes { title secret } } }", json!({}))
            .await;
        assert_eq!(r["data"]["notes"]["nodes"][0]["title"], "a-pub");
        assert_eq!(r["data"]["notes"]["nodes"][0]["secret"], Value::Null);
        assert_eq!(error_code(&r), "FORBIDDEN");
        let r = w.as_(Some(&w.a), "{ notes(filter: {title: {eq: \"a-pub\"}}) { nodes { secret } } }", json!({})).await;
        assert_eq!(r["data"]["notes"]["nodes"][0]["secret"], "s3", "{r}");

        // Users: profile readable through relations, email only by its owner.
        let r = w.as_(None, "{ notes { nodes { owner { id email } } } }", json!({})).await;
        assert_eq!(r["data"]["notes"]["nodes"][0]["owner"]["id"], w.a_id.as_str());
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");

        // Field rules on User profile fields hold too: `phone` is for editors.
        let phone = "{ notes { nodes { owner { displayName phone } } } }";
        let r = w.as_(None, phone, json!({})).await;
        assert_eq!(r["data"]["notes"]["nodes"][0]["owner"]["phone"], Value::Null, "{r}");
        assert_eq!(error_code(&r), "FORBIDDEN");
        let r = w.as_(Some(&w.editor), phone, json!({})).await;
        assert!(r.get("errors").is_none(), "{r}");
        let r = w
            .as_(
                None,
                "mutation { signUp(input: {email: \"m@example.com\", password: \"correct horse\", phone: \"1\"}) { accessToken } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "sign-up cannot set a guarded profile field: {r}");

        // A model without @auth is admin-only.
        assert_eq!(error_code(&w.as_(None, "{ secrets { totalCount } }", json!({})).await), "UNAUTHENTICATED");
        // A refused nullable root field is null beside the others, its error at its path.
        let r = w.as_(None, "{ s: secret(id: \"x\") { id } notes { totalCount } }", json!({})).await;
        assert_eq!((r["data"]["s"].clone(), r["errors"][0]["path"].clone()), (Value::Null, json!(["s"])), "{r}");
        assert!(r["data"]["notes"]["totalCount"].is_number(), "{r}");
        assert_eq!(error_code(&w.as_(Some(&w.a), "{ secrets { totalCount } }", json!({})).await), "FORBIDDEN");
        assert_eq!(w.s.data("{ secrets { totalCount } }", json!({})).await["secrets"]["totalCount"], 0);
        w.s.finish().await;
    }
}

#[tokio::test]
async fn writes_follow_the_rules() {
    for backend in backends() {
        let w = world(backend).await;
        let a_note = w.note(&w.a, "a-note", "PUBLISHED").await;
        let a_draft = w.note(&w.a, "a-draft", "DRAFT").await;
        // The owner is set to the caller and cannot be someone else.
        let r = w.as_(Some(&w.a), "{ notes { nodes { ownerId } } }", json!({})).await;
        assert_eq!(r["data"]["notes"]["nodes"][0]["ownerId"], w.a_id.as_str());
        let forged = w
            .as_(
                Some(&w.b),
                "mutation($o: ID!) { createNote(input: {title: \"x\", ownerId: $o}) { id } }",
                json!({ "o": w.a_id }),
            )
            .await;
        assert_eq!(error_code(&forged), "FORBIDDEN");
        // Anonymous callers may not create.
        assert_eq!(
            error_code(&w.as_(None, "mutation { createNote(input: {title: \"x\"}) { id } }", json!({})).await),
            "UNAUTHENTICATED"
        );

        // Update: B may read A's published note but not change it; A's draft is invisible to B.
        let upd = "mutation($id: ID!) { updateNote(id: $id, input: {title: \"changed\"}) { title } }";
        assert_eq!(error_code(&w.as_(Some(&w.b), upd, json!({ "id": a_note })).await), "FORBIDDEN");
        assert_eq!(error_code(&w.as_(Some(&w.b), upd, json!({ "id": a_draft })).await), "NOT_FOUND");
        // The editor may update any note, not delete it; the owner may do both.
        assert_eq!(
            w.as_(Some(&w.editor), upd, json!({ "id": a_note })).await["data"]["updateNote"]["title"],
            "changed"
        );
        let del = "mutation($id: ID!) { deleteNote(id: $id) { title } }";
        assert_eq!(error_code(&w.as_(Some(&w.editor), del, json!({ "id": a_note })).await), "FORBIDDEN");
        assert_eq!(error_code(&w.as_(Some(&w.b), del, json!({ "id": a_draft })).await), "NOT_FOUND");
        // No rule that lets someone update a row makes it theirs: the owner is admin's to move.
        let take = "mutation($id: ID!, $o: ID!) { updateNote(id: $id, input: {ownerId: $o}) { ownerId } }";
        let editor_id = w.as_(Some(&w.editor), "{ me { id } }", json!({})).await["data"]["me"]["id"].clone();
        let r = w.as_(Some(&w.editor), take, json!({ "id": a_note, "o": editor_id })).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
        let r = w.as_(Some(&w.a), take, json!({ "id": a_note, "o": w.a_id })).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "not even to yourself: {r}");
        // Field rules on writes: the editor may not write the owner's `secret`.
        let secret = "mutation($id: ID!) { updateNote(id: $id, input: {secret: \"x\"}) { title } }";
        assert_eq!(error_code(&w.as_(Some(&w.editor), secret, json!({ "id": a_note })).await), "FORBIDDEN");
        assert!(w.as_(Some(&w.a), secret, json!({ "id": a_note })).await.get("errors").is_none());
        assert_eq!(w.as_(Some(&w.a), del, json!({ "id": a_note })).await["data"]["deleteNote"]["title"], "changed");
        // Nothing refused was written.
        let titles = w.titles(Some(&w.a)).await;
        assert_eq!(titles, (strings(&["a-draft"]), 1), "{backend:?}");
        w.s.finish().await;
    }
}

#[tokio::test]
async fn claims_scope_rows_for_multi_tenancy() {
    for backend in backends() {
        let w = world(backend).await;
        for slug in ["acme", "globex"] {
            w.s.data("mutation($s: String!) { createOrg(input: {slug: $s}) { id } }", json!({ "s": slug })).await;
        }
        let q = "{ orgs { totalCount nodes { slug } } }";
        // No claim: the rule does not apply (a missing claim never means "any").
        assert_eq!(error_code(&w.as_(Some(&w.a), q, json!({})).await), "FORBIDDEN");
        assert_eq!(error_code(&w.as_(None, q, json!({})).await), "UNAUTHENTICATED");
        w.s.data(
            "mutation($u: ID!) { setUserClaims(userId: $u, claims: {org: \"acme\"}) { id } }",
            json!({ "u": w.a_id }),
        )
        .await;
        let t = w
            .as_(
                None,
                "mutation { signIn(email: \"a@example.com\", password: \"correct horse\") { accessToken } }",
                json!({}),
            )
            .await["data"]["signIn"]["accessToken"]
            .as_str()
            .unwrap()
            .to_string();
        let r = w.as_(Some(&t), q, json!({})).await;
        assert_eq!(r["data"]["orgs"]["nodes"], json!([{ "slug": "acme" }]), "{backend:?}: {r}");
        // A missing claim under `not` does not widen access either.
        for org in [json!("acme"), json!("globex"), Value::Null] {
            w.s.data("mutation($o: String) { createNotice(input: {org: $o}) { id } }", json!({ "o": org })).await;
        }
        let notices = "{ notices(orderBy: [{org: ASC}]) { nodes { org } } }";
        assert_eq!(error_code(&w.as_(Some(&w.b), notices, json!({})).await), "FORBIDDEN");
        let r = w.as_(Some(&t), notices, json!({})).await;
        assert_eq!(r["data"]["notices"]["nodes"], json!([{ "org": null }, { "org": "globex" }]), "{backend:?}: {r}");
        w.s.finish().await;
    }
}

/// Field rules with `where:` and owner conditions are decided per row, in the same statement:
/// on scalar fields, belongsTo (id and relation) and hasMany fields, in single reads, lists,
/// nested rows, filters and mutation results.
#[tokio::test]
async fn field_rules_with_conditions_are_decided_per_row() {
    for backend in backends() {
        let w = world(backend).await;
        let create = "mutation($t: String!, $s: Status!, $o: String) { \
            createListing(input: {title: $t, status: $s, org: $o, price: 10}) { id price } }";
        let mut ids = Vec::new();
        for (title, status, org) in [("pub", "PUBLISHED", "acme"), ("draft", "DRAFT", "acme"), ("other", "DRAFT", "x")]
        {
            let r = w.as_(Some(&w.a), create, json!({ "t": title, "s": status, "o": org })).await;
            // The owner reads the price of what they just wrote.
            assert_eq!(r["data"]["createListing"]["price"], 10, "{backend:?}: {r}");
            ids.push(r["data"]["createListing"]["id"].as_str().unwrap().to_string());
        }
        let bid = "mutation($l: ID!) { createBid(input: {listingId: $l, amount: 3}) { id } }";
        assert!(w.as_(Some(&w.b), bid, json!({ "l": ids[0] })).await.get("errors").is_none());

        let list = "{ listings(orderBy: [{title: ASC}]) { nodes { title price } } }";
        let prices = |r: &Value| -> Vec<Value> {
            r["data"]["listings"]["nodes"].as_array().unwrap().iter().map(|n| n["price"].clone()).collect()
        };
        // Order: draft, other, pub. Anonymous and B see the published price only.
        for token in [None, Some(w.b.as_str())] {
            let r = w.as_(token, list, json!({})).await;
            assert_eq!(prices(&r), vec![Value::Null, Value::Null, json!(10)], "{backend:?}: {r}");
            let paths: Vec<Value> = r["errors"].as_array().unwrap().iter().map(|e| e["path"].clone()).collect();
            assert_eq!(paths, vec![json!(["listings", "nodes", 0, "price"]), json!(["listings", "nodes", 1, "price"])]);
            assert!(r["errors"].as_array().unwrap().iter().all(|e| e["extensions"]["code"] == "FORBIDDEN"));
        }
        assert_eq!(prices(&w.as_(Some(&w.a), list, json!({})).await), vec![json!(10); 3]);
        // A claim of the listing's org opens its prices to B.
        let b_id = w.as_(Some(&w.b), "{ me { id } }", json!({})).await["data"]["me"]["id"].clone();
        w.s.data(
            "mutation($u: ID!) { setUserClaims(userId: $u, claims: {org: \"acme\"}) { id } }",
            json!({ "u": b_id }),
        )
        .await;
        let b_acme = sign_in(&w, "b@example.com").await;
        assert_eq!(prices(&w.as_(Some(&b_acme), list, json!({})).await), vec![json!(10), Value::Null, json!(10)]);

        // Single reads and nested rows follow the same decision.
        let one = "query($id: ID!) { listing(id: $id) { price } }";
        let r = w.as_(Some(&w.b), one, json!({ "id": ids[1] })).await;
        assert_eq!((r["data"]["listing"]["price"].clone(), error_code(&r)), (Value::Null, "FORBIDDEN"));
        assert_eq!(w.as_(Some(&w.b), one, json!({ "id": ids[0] })).await["data"]["listing"]["price"], 10);
        let watch = "mutation($l: ID!) { createWatch(input: {listingId: $l}) { id } }";
        assert!(w.as_(Some(&w.b), watch, json!({ "l": ids[0] })).await.get("errors").is_none());
        let nested = "{ watches { nodes { listing { title price } } } }";
        let r = w.as_(None, nested, json!({})).await;
        assert_eq!(r["data"]["watches"]["nodes"][0]["listing"], json!({ "title": "pub", "price": 10 }), "{r}");

        // A filter on the field only matches rows whose field the caller may read.
        let by_price = "{ listings(filter: {price: {eq: 10}}) { totalCount } }";
        assert_eq!(w.as_(Some(&w.b), by_price, json!({})).await["data"]["listings"]["totalCount"], 1);
        assert_eq!(w.as_(Some(&w.a), by_price, json!({})).await["data"]["listings"]["totalCount"], 3);

        // Guarded relations: the reviewer (id and row) and the bids are the owner's (and an
        // editor's, for the reviewer).
        let rel = "query($id: ID!) { listing(id: $id) { reviewerId reviewer { id } bids { totalCount } } }";
        w.s.data(
            "mutation($id: ID!, $u: ID!) { updateListing(id: $id, input: {reviewerId: $u}) { id } }",
            json!({ "id": ids[0], "u": w.a_id }),
        )
        .await;
        let r = w.as_(Some(&w.b), rel, json!({ "id": ids[0] })).await;
        assert_eq!(r["data"]["listing"], json!({ "reviewerId": null, "reviewer": null, "bids": null }), "{r}");
        assert_eq!(r["errors"].as_array().unwrap().len(), 3, "{r}");
        let r = w.as_(Some(&w.a), rel, json!({ "id": ids[0] })).await;
        assert_eq!(r["data"]["listing"]["bids"]["totalCount"], 1, "{r}");
        assert_eq!(r["data"]["listing"]["reviewerId"], w.a_id.as_str(), "{r}");
        let r = w.as_(Some(&w.editor), rel, json!({ "id": ids[0] })).await;
        assert_eq!(r["data"]["listing"]["reviewer"]["id"], w.a_id.as_str(), "{r}");
        assert_eq!(r["data"]["listing"]["bids"], Value::Null, "{r}");
        // ... and nobody else may filter on them to probe.
        let probe = "{ listings(filter: {bids: {some: {amount: {eq: 3}}}}) { totalCount } }";
        assert_eq!(w.as_(Some(&w.b), probe, json!({})).await["data"]["listings"]["totalCount"], 0);
        assert_eq!(w.as_(Some(&w.a), probe, json!({})).await["data"]["listings"]["totalCount"], 1);
        // A relation is one link: the owner-only `Listing.bids` also hides, from the Bid side,
        // which listing a bid is on (the bid itself stays public).
        let from_bids = "query($l: ID!) { all: bids { nodes { amount listingId listing { id } } } \
            on: bids(filter: {listingId: {eq: $l}}) { totalCount } \
            via: bids(filter: {listing: {title: {eq: \"pub\"}}}) { totalCount } }";
        let r = w.as_(Some(&w.b), from_bids, json!({ "l": ids[0] })).await;
        assert_eq!(r["data"]["all"]["nodes"], json!([{ "amount": 3, "listingId": null, "listing": null }]), "{r}");
        assert_eq!(
            (r["data"]["on"]["totalCount"].clone(), r["data"]["via"]["totalCount"].clone()),
            (json!(0), json!(0))
        );
        let r = w.as_(Some(&w.a), from_bids, json!({ "id": ids[0], "l": ids[0] })).await;
        assert_eq!(r["data"]["all"]["nodes"][0]["listingId"], ids[0].as_str(), "{r}");
        assert_eq!(
            (r["data"]["on"]["totalCount"].clone(), r["data"]["via"]["totalCount"].clone()),
            (json!(1), json!(1))
        );
        let order = "{ bids(orderBy: [{listingId: ASC}]) { totalCount } }";
        assert_eq!(error_code(&w.as_(Some(&w.a), order, json!({})).await), "FORBIDDEN");

        // A User profile field that is the user's own by a where: condition.
        w.s.data("mutation($u: ID!) { setUserClaims(userId: $u, claims: {}) { id } }", json!({ "u": w.a_id })).await;
        let me = "{ me { address } }";
        assert!(w.as_(Some(&w.a), me, json!({})).await.get("errors").is_none());
        let r = w.as_(Some(&w.b), "{ notes { nodes { owner { address } } } }", json!({})).await;
        assert!(r.get("errors").is_none(), "no notes readable yet: {r}");
        w.note(&w.a, "n", "PUBLISHED").await;
        let r = w.as_(Some(&w.b), "{ notes { nodes { owner { address } } } }", json!({})).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
        let r = w.as_(Some(&w.a), "{ notes { nodes { owner { address } } } }", json!({})).await;
        assert!(r.get("errors").is_none(), "{r}");
        w.s.finish().await;
    }
}

async fn sign_in(w: &World, email: &str) -> String {
    w.as_(
        None,
        "mutation($e: String!) { signIn(email: $e, password: \"correct horse\") { accessToken } }",
        json!({ "e": email }),
    )
    .await["data"]["signIn"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `updateProfile`: your own profile fields, within their field rules; nobody else's.
#[tokio::test]
async fn users_update_their_own_profile_within_field_rules() {
    for backend in backends() {
        let w = world(backend).await;
        let update = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id displayName address } }";
        let r = w.as_(Some(&w.a), update, json!({ "i": { "displayName": "Ann", "address": "1 Main St" } })).await;
        assert_eq!(r["data"]["updateProfile"]["displayName"], "Ann", "{backend:?}: {r}");
        assert_eq!(r["data"]["updateProfile"]["address"], "1 Main St", "{r}");
        assert_eq!(r["data"]["updateProfile"]["id"], w.a_id.as_str());
        // `phone` is for editors only: refused, and nothing else in the same input is written.
        let r = w.as_(Some(&w.a), update, json!({ "i": { "displayName": "Mallory", "phone": "555" } })).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
        assert_eq!(r["errors"][0]["path"], json!(["updateProfile"]), "{r}");
        let me = w.as_(Some(&w.a), "{ me { displayName address } }", json!({})).await;
        assert_eq!(me["data"]["me"], json!({ "displayName": "Ann", "address": "1 Main St" }), "{me}");
        let r =
            w.as_(Some(&w.editor), "mutation { updateProfile(input: {phone: \"555\"}) { phone } }", json!({})).await;
        assert_eq!(r["data"]["updateProfile"]["phone"], "555", "{r}");
        // null clears; absent leaves alone.
        let r = w.as_(Some(&w.a), update, json!({ "i": { "displayName": null } })).await;
        assert_eq!(r["data"]["updateProfile"], json!({ "id": w.a_id, "displayName": null, "address": "1 Main St" }));
        // Anonymous callers have no profile; unknown or system fields are not in the input type.
        assert_eq!(error_code(&w.as_(None, update, json!({ "i": { "displayName": "x" } })).await), "UNAUTHENTICATED");
        let r = w.as_(Some(&w.a), update, json!({ "i": { "roles": ["admin"] } })).await;
        assert!(r["errors"].is_array() && r["data"].is_null(), "{r}");
        let roles =
            w.s.data("query($id: ID!) { users(filter: {id: {eq: $id}}) { nodes { roles } } }", json!({ "id": w.a_id }))
                .await;
        assert_eq!(roles["users"]["nodes"][0]["roles"], json!([]), "{roles}");
        w.s.finish().await;
    }
}

/// A guarded belongsTo hides the link from the hasMany side too; results of writes to rows the
/// caller may not read show only what they wrote; an empty `$user.<field>` never widens a rule;
/// an admin's own auth payload shows their email and roles.
#[tokio::test]
async fn links_write_only_results_and_empty_profile_values() {
    for backend in backends() {
        let w = world(backend).await;
        let mut candidates = Vec::new();
        for name in ["c1", "c2"] {
            let r =
                w.s.data("mutation($n: String!) { createCandidate(input: {name: $n}) { id } }", json!({ "n": name }))
                    .await;
            candidates.push(r["createCandidate"]["id"].as_str().unwrap().to_string());
        }
        let vote = "mutation($c: ID!) { createVote(input: {candidateId: $c}) { id candidateId } }";
        for (token, c) in [(&w.a, &candidates[0]), (&w.b, &candidates[1])] {
            let r = w.as_(Some(token), vote, json!({ "c": c })).await;
            assert_eq!(r["data"]["createVote"]["candidateId"], c.as_str(), "{backend:?}: {r}");
        }
        // B sees only their own vote under the candidates, cannot find A's by filtering, and
        // sees A's vote without its candidate.
        let q = "{ candidates(orderBy: [{name: ASC}]) { nodes { name votes { totalCount } } } }";
        let r = w.as_(Some(&w.b), q, json!({})).await;
        let totals: Vec<Value> = r["data"]["candidates"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["votes"]["totalCount"].clone())
            .collect();
        assert_eq!(totals, vec![json!(0), json!(1)], "{r}");
        let probe = "query($a: ID!) { candidates(filter: {votes: {some: {voterId: {eq: $a}}}}) { totalCount } }";
        assert_eq!(w.as_(Some(&w.b), probe, json!({ "a": w.a_id })).await["data"]["candidates"]["totalCount"], 0);
        assert_eq!(w.as_(Some(&w.a), probe, json!({ "a": w.a_id })).await["data"]["candidates"]["totalCount"], 1);
        let every = "{ candidates(filter: {votes: {none: {}}}) { nodes { name } } }";
        assert_eq!(w.as_(Some(&w.b), every, json!({})).await["data"]["candidates"]["nodes"], json!([{ "name": "c1" }]));
        let r = w.as_(Some(&w.b), "{ votes { totalCount nodes { candidateId } } }", json!({})).await;
        assert_eq!(r["data"]["votes"]["totalCount"], 2, "{r}");
        assert_eq!(r["errors"].as_array().map(Vec::len), Some(1), "{r}");

        // Write-only results: the editor may update and delete A's ticket but not read it.
        let t = w
            .as_(Some(&w.a), "mutation { createTicket(input: {subject: \"printer on fire\"}) { id } }", json!({}))
            .await;
        let ticket = t["data"]["createTicket"]["id"].as_str().unwrap().to_string();
        let update = |sel: &str| {
            format!("mutation($id: ID!) {{ updateTicket(id: $id, input: {{status: \"closed\"}}) {{ {sel} }} }}")
        };
        let r = w.as_(Some(&w.editor), &update("id subject"), json!({ "id": ticket })).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
        assert!(
            r["errors"][0]["message"].as_str().unwrap().contains("select only id, createdAt, updatedAt, status"),
            "{r}"
        );
        let read = "query($id: ID!) { ticket(id: $id) { subject status } }";
        let seen = w.as_(Some(&w.a), read, json!({ "id": ticket })).await;
        assert_eq!(
            seen["data"]["ticket"],
            json!({ "subject": "printer on fire", "status": null }),
            "nothing written: {seen}"
        );
        let r = w.as_(Some(&w.editor), &update("id status updatedAt"), json!({ "id": ticket })).await;
        assert_eq!(r["data"]["updateTicket"]["status"], "closed", "{r}");
        let delete = |sel: &str| format!("mutation($id: ID!) {{ deleteTicket(id: $id) {{ {sel} }} }}");
        assert_eq!(
            error_code(&w.as_(Some(&w.editor), &delete("id subject"), json!({ "id": ticket })).await),
            "FORBIDDEN"
        );
        assert_eq!(w.as_(Some(&w.a), read, json!({ "id": ticket })).await["data"]["ticket"]["status"], "closed");
        let r = w.as_(Some(&w.editor), &delete("id"), json!({ "id": ticket })).await;
        assert_eq!(r["data"]["deleteTicket"]["id"], ticket.as_str(), "{r}");
        assert_eq!(w.as_(Some(&w.a), read, json!({ "id": ticket })).await["data"]["ticket"], Value::Null);

        // An empty profile field under `not` matches nothing; once set, other teams' memos.
        for team in [json!("red"), json!("blue"), Value::Null] {
            w.s.data("mutation($t: String) { createMemo(input: {team: $t}) { id } }", json!({ "t": team })).await;
        }
        let memos = "{ memos(orderBy: [{team: ASC}]) { nodes { team } } }";
        assert_eq!(w.as_(Some(&w.a), memos, json!({})).await["data"]["memos"]["nodes"], json!([]));
        w.as_(Some(&w.a), "mutation { updateProfile(input: {displayName: \"red\"}) { id } }", json!({})).await;
        let r = w.as_(Some(&w.a), memos, json!({})).await;
        assert_eq!(r["data"]["memos"]["nodes"], json!([{ "team": null }, { "team": "blue" }]), "{r}");

        // An admin user's own payload: email and roles are theirs to read.
        w.s.data("mutation($u: ID!) { setUserRoles(userId: $u, roles: [\"admin\"]) { id } }", json!({ "u": w.a_id }))
            .await;
        let r = w
            .as_(
                None,
                "mutation { signIn(email: \"a@example.com\", password: \"correct horse\") { user { email roles } } }",
                json!({}),
            )
            .await;
        assert_eq!(r["data"]["signIn"]["user"], json!({ "email": "a@example.com", "roles": ["admin"] }), "{r}");
        w.s.finish().await;
    }
}

/// A create rule can require that the row pointed at is the caller's (what docs/auth.md
/// suggests where pointing at others' rows matters).
#[tokio::test]
async fn create_rules_can_constrain_the_row_pointed_at() {
    const SDL: &str = r#"
        type Thread @model @auth(rules: [{ allow: owner }, { allow: private, operations: [read] }]) { title: String! }
        type Answer @model @auth(rules: [
          { allow: private, operations: [read] }
          { allow: owner, operations: [create], where: { thread: { ownerId: { eq: "$user.id" } } } }
        ]) { thread: Thread! @belongsTo  body: String! }
    "#;
    for backend in backends() {
        let s = TestServer::start(backend, SDL).await;
        let (a, _) = sign_up(&s, "a@example.com").await;
        let (b, _) = sign_up(&s, "b@example.com").await;
        let t = s.gql_as(Some(&a), "mutation { createThread(input: {title: \"t\"}) { id } }", json!({})).await;
        let thread = t["data"]["createThread"]["id"].as_str().unwrap().to_string();
        let answer = "mutation($t: ID!) { createAnswer(input: {threadId: $t, body: \"x\"}) { id } }";
        let r = s.gql_as(Some(&a), answer, json!({ "t": thread })).await;
        assert!(r["data"]["createAnswer"]["id"].is_string(), "{backend:?}: {r}");
        let r = s.gql_as(Some(&b), answer, json!({ "t": thread })).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r}");
        let n = s.data("{ answers { totalCount } }", json!({})).await;
        assert_eq!(n["answers"]["totalCount"], 1, "{n}");
        s.finish().await;
    }
}
