//! Sign-up, sign-in, sessions and the admin user operations, over HTTP.

use crate::common::*;
use serde_json::{Value, json};

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken expiresAt user { id email displayName roles } } }";
const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { accessToken refreshToken user { id } } }";
const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";

async fn sign_up(s: &TestServer, email: &str) -> Value {
    let r = s
        .gql_as(None, SIGN_UP, json!({ "i": { "email": email, "password": "correct horse", "displayName": "Ada" } }))
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["signUp"].clone()
}

async fn sign_in(s: &TestServer, email: &str, password: &str) -> Value {
    s.gql_as(None, SIGN_IN, json!({ "e": email, "p": password })).await
}

/// The claims of a JWT (not verified: the test only reads what the server put there).
fn jwt_claims(t: &str) -> Value {
    use base64::Engine;
    let payload = t.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn sign_up_sign_in_and_me() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let p = sign_up(&s, "Ada@Example.com").await;
        assert_eq!(p["user"]["email"], "ada@example.com", "emails are normalised");
        assert_eq!(p["user"]["displayName"], "Ada", "profile fields are accepted at sign-up");
        let claims = jwt_claims(&token(&p, "accessToken"));
        assert_eq!(claims["sub"], p["user"]["id"]);
        assert_eq!(claims["iss"], "ferrobase");
        assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() == 900);

        let me = s.gql_as(Some(&token(&p, "accessToken")), "{ me { id email } }", json!({})).await;
        assert_eq!(me["data"]["me"]["email"], "ada@example.com");
        let anon = s.gql_as(None, "{ me { id } }", json!({})).await;
        assert_eq!(anon["data"]["me"], Value::Null);

        // Right password; wrong password and unknown email say the same thing.
        let ok = sign_in(&s, "ada@example.com", "correct horse").await;
        assert_eq!(ok["data"]["signIn"]["user"]["id"], p["user"]["id"]);
        let wrong = sign_in(&s, "ada@example.com", "wrong horse").await;
        let unknown = sign_in(&s, "nobody@example.com", "correct horse").await;
        assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
        assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"], "no user enumeration");

        // Duplicate sign-up, short password, bad email.
        let dup =
            s.gql_as(None, SIGN_UP, json!({ "i": { "email": "ada@example.com", "password": "another one" } })).await;
        assert_eq!(error_code(&dup), "CONFLICT");
        let short = s.gql_as(None, SIGN_UP, json!({ "i": { "email": "bo@example.com", "password": "short" } })).await;
        assert_eq!(error_code(&short), "BAD_USER_INPUT");
        let bad = s.gql_as(None, SIGN_UP, json!({ "i": { "email": "not-an-email", "password": "long enough" } })).await;
        assert_eq!(error_code(&bad), "BAD_USER_INPUT");
        s.finish().await;
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    for backend in backends() {
        let s = TestServer::start_with(backend, BLOG, |c| c.refresh_grace_secs = 0).await;
        let p = sign_up(&s, "ada@example.com").await;
        let r1 = token(&p, "refreshToken");
        let second = s.gql_as(None, REFRESH, json!({ "t": r1 })).await;
        let r2 = token(&second["data"]["refreshSession"], "refreshToken");
        assert_ne!(r1, r2, "rotation issues a new token");
        // Reusing r1 (outside the grace window) is theft: the whole family ends, r2 included.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let reuse = s.gql_as(None, REFRESH, json!({ "t": r1 })).await;
        assert_eq!(error_code(&reuse), "UNAUTHENTICATED", "{backend:?}: {reuse}");
        let after = s.gql_as(None, REFRESH, json!({ "t": r2 })).await;
        assert_eq!(error_code(&after), "UNAUTHENTICATED", "{backend:?}: the family is revoked");
        // A garbage token.
        let junk = s.gql_as(None, REFRESH, json!({ "t": "junk" })).await;
        assert_eq!(error_code(&junk), "UNAUTHENTICATED");
        s.finish().await;
    }
}

#[tokio::test]
async fn concurrent_refreshes_within_the_grace_window_all_succeed() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await; // grace: 10 s by default
        let p = sign_up(&s, "ada@example.com").await;
        let r1 = token(&p, "refreshToken");
        let tabs = (0..4).map(|_| s.gql_as(None, REFRESH, json!({ "t": r1 })));
        let results = futures_util::future::join_all(tabs).await;
        let mut fresh = std::collections::HashSet::new();
        for r in &results {
            assert!(r.get("errors").is_none(), "{backend:?}: every tab refreshes: {r}");
            fresh.insert(token(&r["data"]["refreshSession"], "refreshToken"));
        }
        assert_eq!(fresh.len(), 4, "each tab gets its own new refresh token");
        for t in fresh {
            let r = s.gql_as(None, REFRESH, json!({ "t": t })).await;
            assert!(r.get("errors").is_none(), "{backend:?}: every new token works once: {r}");
        }
        s.finish().await;
    }
}

#[tokio::test]
async fn sign_out_sign_out_everywhere_and_change_password() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let a = sign_up(&s, "ada@example.com").await;
        let b = sign_in(&s, "ada@example.com", "correct horse").await["data"]["signIn"].clone();
        let c = sign_in(&s, "ada@example.com", "correct horse").await["data"]["signIn"].clone();
        // signOut ends one session.
        let out = s
            .gql_as(
                None,
                "mutation($t: String!) { signOut(refreshToken: $t) }",
                json!({ "t": token(&a, "refreshToken") }),
            )
            .await;
        assert_eq!(out["data"]["signOut"], true);
        assert_eq!(
            error_code(&s.gql_as(None, REFRESH, json!({ "t": token(&a, "refreshToken") })).await),
            "UNAUTHENTICATED"
        );
        // changePassword: wrong current password is refused; the right one ends the other sessions.
        let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
        let wrong =
            s.gql_as(Some(&token(&b, "accessToken")), change, json!({ "c": "nope nope", "n": "new password" })).await;
        assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
        let ok = s
            .gql_as(Some(&token(&b, "accessToken")), change, json!({ "c": "correct horse", "n": "new password" }))
            .await;
        assert_eq!(ok["data"]["changePassword"], true, "{ok}");
        assert_eq!(error_code(&sign_in(&s, "ada@example.com", "correct horse").await), "UNAUTHENTICATED");
        assert_eq!(
            error_code(&s.gql_as(None, REFRESH, json!({ "t": token(&c, "refreshToken") })).await),
            "UNAUTHENTICATED"
        );
        let b2 = s.gql_as(None, REFRESH, json!({ "t": token(&b, "refreshToken") })).await;
        assert!(b2.get("errors").is_none(), "the session that changed the password survives: {b2}");
        // signOutEverywhere ends the rest.
        let d = sign_in(&s, "ada@example.com", "new password").await["data"]["signIn"].clone();
        let all = s.gql_as(Some(&token(&d, "accessToken")), "mutation { signOutEverywhere }", json!({})).await;
        assert_eq!(all["data"]["signOutEverywhere"], true);
        let b3 = token(&b2["data"]["refreshSession"], "refreshToken");
        assert_eq!(error_code(&s.gql_as(None, REFRESH, json!({ "t": b3 })).await), "UNAUTHENTICATED");
        assert_eq!(
            error_code(&s.gql_as(None, REFRESH, json!({ "t": token(&d, "refreshToken") })).await),
            "UNAUTHENTICATED"
        );
        // Without a token, signOutEverywhere is UNAUTHENTICATED.
        assert_eq!(error_code(&s.gql_as(None, "mutation { signOutEverywhere }", json!({})).await), "UNAUTHENTICATED");
        s.finish().await;
    }
}

#[tokio::test]
async fn admin_operations_roles_claims_and_disabling() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let p = sign_up(&s, "ada@example.com").await;
        let id = p["user"]["id"].clone();
        let user_token = token(&p, "accessToken");
        let roles = "mutation($u: ID!, $r: [String!]!) { setUserRoles(userId: $u, roles: $r) { id roles } }";
        // A plain user may not; the service key may.
        let denied = s.gql_as(Some(&user_token), roles, json!({ "u": id, "r": ["admin"] })).await;
        assert_eq!(error_code(&denied), "FORBIDDEN");
        assert_eq!(error_code(&s.gql_as(Some(&user_token), "{ users { totalCount } }", json!({})).await), "FORBIDDEN");
        let set = s.data(roles, json!({ "u": id, "r": ["admin", "editor"] })).await;
        assert_eq!(set["setUserRoles"]["roles"], json!(["admin", "editor"]));
        let claims = "mutation($u: ID!, $c: JSON!) { setUserClaims(userId: $u, claims: $c) { id } }";
        s.data(claims, json!({ "u": id, "c": { "org": "acme" } })).await;
        let bad = s.gql(claims, json!({ "u": id, "c": [1] })).await;
        assert_eq!(error_code(&bad), "BAD_USER_INPUT");
        // A new sign-in carries roles and claims; role admin may list users.
        let again = sign_in(&s, "ada@example.com", "correct horse").await["data"]["signIn"].clone();
        let t = token(&again, "accessToken");
        let c = jwt_claims(&t);
        assert_eq!(c["roles"], json!(["admin", "editor"]));
        assert_eq!(c["org"], "acme");
        let users = s
            .gql_as(
                Some(&t),
                "{ users(filter: {email: {eq: \"ada@example.com\"}}) { totalCount nodes { email } } }",
                json!({}),
            )
            .await;
        assert_eq!(users["data"]["users"]["totalCount"], 1, "{users}");
        // disableUser: no more sign-in or refresh.
        let missing = s.gql("mutation { disableUser(userId: \"nope\") { id } }", json!({})).await;
        assert_eq!(error_code(&missing), "NOT_FOUND");
        s.data("mutation($u: ID!) { disableUser(userId: $u) { id } }", json!({ "u": id })).await;
        let r = sign_in(&s, "ada@example.com", "correct horse").await;
        assert_eq!(error_code(&r), "UNAUTHENTICATED");
        assert_eq!(
            error_code(&s.gql_as(None, REFRESH, json!({ "t": token(&again, "refreshToken") })).await),
            "UNAUTHENTICATED"
        );
        s.finish().await;
    }
}

#[tokio::test]
async fn bad_tokens_are_refused_over_http() {
    let s =
        TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| c.access_token_ttl_secs = 1).await;
    let p = sign_up(&s, "ada@example.com").await;
    let t = token(&p, "accessToken");
    let status = |tok: String| {
        let req =
            s.client.post(format!("{}/graphql", s.url)).bearer_auth(tok).json(&json!({ "query": "{ me { id } }" }));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(t.clone()).await, 200);
    // alg: none, and a tampered signature.
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let payload = t.split('.').nth(1).unwrap();
    assert_eq!(status(format!("{}.{payload}.", b64(r#"{"alg":"none","typ":"JWT"}"#))).await, 401);
    assert_eq!(status(format!("{}x", &t[..t.len() - 1])).await, 401);
    // Expired (leeway 5 s).
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    assert_eq!(status(t).await, 401);
    // A fresh token works again.
    let fresh = token(&sign_in(&s, "ada@example.com", "correct horse").await["data"]["signIn"], "accessToken");
    let r = s.gql_as(Some(&fresh), "{ me { email } }", json!({})).await;
    assert_eq!(r["data"]["me"]["email"], "ada@example.com");
    s.finish().await;
}

#[tokio::test]
async fn auth_mutations_are_rate_limited_per_ip_and_per_account() {
    // Per account: 3 attempts a minute for one email, whatever the IP budget.
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| {
        c.auth_rate_limit_per_ip = 100;
        c.auth_rate_limit_per_account = 3;
    })
    .await;
    sign_up(&s, "ada@example.com").await;
    for _ in 0..3 {
        assert_eq!(error_code(&sign_in(&s, "ada@example.com", "wrong horse").await), "UNAUTHENTICATED");
    }
    let limited = sign_in(&s, "ada@example.com", "correct horse").await;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "even the right password waits: {limited}");
    assert!(limited["errors"][0]["message"].as_str().unwrap().contains("try again in"));
    // Another account is not affected.
    assert!(sign_in(&s, "bo@example.com", "whatever1").await["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED");
    s.finish().await;

    // Per IP: 5 attempts a minute from one address, across accounts and mutations.
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| {
        c.auth_rate_limit_per_ip = 5;
        c.auth_rate_limit_per_account = 100;
    })
    .await;
    for i in 0..5 {
        let r = sign_in(&s, &format!("user{i}@example.com"), "whatever1").await;
        assert_eq!(error_code(&r), "UNAUTHENTICATED", "attempt {i}");
    }
    let r = sign_in(&s, "user9@example.com", "whatever1").await;
    assert_eq!(error_code(&r), "RATE_LIMITED");
    // Each mutation has its own budget: resets are not spent by sign-ins, and run out alone.
    let reset = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    for i in 0..5 {
        let r = s.gql_as(None, reset, json!({ "e": format!("x{i}@example.com") })).await;
        assert_eq!(r["data"]["requestPasswordReset"], true, "{r}");
    }
    let r = s.gql_as(None, reset, json!({ "e": "y@example.com" })).await;
    assert_eq!(error_code(&r), "RATE_LIMITED", "{r}");
    s.finish().await;
}

#[tokio::test]
async fn a_required_owner_is_filled_in_with_the_caller() {
    for backend in backends() {
        let s = TestServer::start(backend, BLOG).await;
        let p = sign_up(&s, "ada@example.com").await;
        // Post.author: User! is the owner: a signed-in author need not send authorId.
        let r = s
            .gql_as(
                Some(&token(&p, "accessToken")),
                "mutation { createPost(input: {title: \"Hello\", slug: \"hello\"}) { authorId author { email } } }",
                json!({}),
            )
            .await;
        assert_eq!(r["data"]["createPost"]["authorId"], p["user"]["id"], "{backend:?}: {r}");
        assert_eq!(r["data"]["createPost"]["author"]["email"], "ada@example.com");
        // Other users' emails are theirs: null with FORBIDDEN, a valid response.
        let anon = s.gql_as(None, "{ posts { nodes { title author { email } } } }", json!({})).await;
        assert_eq!(anon["data"]["posts"]["nodes"][0]["title"], "Hello");
        assert_eq!(anon["data"]["posts"]["nodes"][0]["author"]["email"], Value::Null, "{anon}");
        assert_eq!(error_code(&anon), "FORBIDDEN");
        assert_eq!(anon["errors"][0]["path"], json!(["posts", "nodes", 0, "author", "email"]));
        s.finish().await;
    }
}
