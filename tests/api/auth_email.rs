//! Password reset and email verification, with the emails going through a real SMTP
//! conversation (the sink of `mail.rs`) or the default log mailer.

use crate::common::*;
use crate::mail::smtp_sink::{ReceivedMessage, SmtpSink};
use serde_json::{Value, json};
use std::time::Duration;

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken user { id } } }";
const SIGN_IN: &str = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { refreshToken } }";
const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { refreshToken } }";
const REQUEST_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str = "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
const VERIFY: &str = "mutation($t: String!) { verifyEmail(token: $t) }";
const PUBLIC_URL: &str = "https://app.example.com";

async fn sign_up(s: &TestServer, email: &str) -> Value {
    let r = s.gql_as(None, SIGN_UP, json!({ "i": { "email": email, "password": "correct horse" } })).await;
    assert!(r.get("errors").is_none(), "{r}");
    r["data"]["signUp"].clone()
}

async fn sign_in(s: &TestServer, email: &str, password: &str) -> Value {
    s.gql_as(None, SIGN_IN, json!({ "e": email, "p": password })).await
}

/// The token of the first `{PUBLIC_URL}/{path}?token=…` link in `text`.
fn link_token(text: &str, path: &str) -> String {
    let prefix = format!("{PUBLIC_URL}/{path}?token=");
    let start = text.find(&prefix).unwrap_or_else(|| panic!("no {prefix} link in {text}")) + prefix.len();
    let t: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert!(t.len() >= 40, "a 256-bit token: {t:?}");
    t
}

async fn smtp_server(backend: ferrobase::testing::TestBackend) -> (TestServer, SmtpSink) {
    let (sink, port) = SmtpSink::start().await;
    let s = TestServer::start_with(backend, BLOG, |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = PUBLIC_URL.to_string();
    })
    .await;
    (s, sink)
}

/// Waits for the `n`-th message, then a little longer to see that no other one follows.
async fn exactly(sink: &SmtpSink, n: usize) -> Vec<ReceivedMessage> {
    let got = sink.wait_for(n).await;
    assert!(got.len() >= n, "expected {n} emails, got {}", got.len());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = sink.messages();
    assert_eq!(got.len(), n, "unexpected extra email(s): {got:#?}");
    got
}

fn assert_bad_token(r: &Value) {
    assert_eq!(error_code(r), "BAD_USER_INPUT", "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "token", "{r}");
    assert_eq!(r["errors"][0]["message"], "invalid or expired token", "{r}");
}

#[tokio::test]
async fn password_reset_over_smtp() {
    for backend in backends() {
        let (s, sink) = smtp_server(backend).await;
        let a = sign_up(&s, "ada@example.com").await;
        let b = sign_in(&s, "ada@example.com", "correct horse").await["data"]["signIn"].clone();

        // An unknown email: true, and nothing is sent.
        let unknown = s.gql_as(None, REQUEST_RESET, json!({ "e": "nobody@example.com" })).await;
        assert_eq!(unknown["data"]["requestPasswordReset"], true, "{unknown}");
        // A known one (any case): true, and the reset email arrives at that address.
        let known = s.gql_as(None, REQUEST_RESET, json!({ "e": "Ada@Example.com" })).await;
        assert_eq!(known["data"]["requestPasswordReset"], true, "{known}");
        let messages = exactly(&sink, 1).await;
        let m = &messages[0];
        assert_eq!(m.rcpt_to, vec!["ada@example.com".to_string()], "{backend:?}");
        assert_eq!(m.header("Subject").as_deref(), Some("Reset your password"));
        let t = link_token(&m.body(), "reset-password");

        // Garbage tokens and a too-short password are refused; the latter does not use the token up.
        assert_bad_token(&s.gql_as(None, RESET, json!({ "t": "garbage", "p": "brand new pw" })).await);
        let short = s.gql_as(None, RESET, json!({ "t": t, "p": "short" })).await;
        assert_eq!(error_code(&short), "BAD_USER_INPUT", "{short}");
        assert_eq!(short["errors"][0]["extensions"]["field"], "newPassword", "{short}");
        // A reset token is no verification token.
        assert_bad_token(&s.gql_as(None, VERIFY, json!({ "t": t })).await);

        let ok = s.gql_as(None, RESET, json!({ "t": t, "p": "brand new pw" })).await;
        assert_eq!(ok["data"]["resetPassword"], true, "{backend:?}: {ok}");
        assert_bad_token(&s.gql_as(None, RESET, json!({ "t": t, "p": "another new pw" })).await);

        // The old password is gone, the new one works, and every earlier session has ended.
        assert_eq!(error_code(&sign_in(&s, "ada@example.com", "correct horse").await), "UNAUTHENTICATED");
        let fresh = sign_in(&s, "ada@example.com", "brand new pw").await;
        assert!(fresh.get("errors").is_none(), "{backend:?}: {fresh}");
        for old in [token(&a, "refreshToken"), token(&b, "refreshToken")] {
            let r = s.gql_as(None, REFRESH, json!({ "t": old })).await;
            assert_eq!(error_code(&r), "UNAUTHENTICATED", "{backend:?}: {r}");
        }
        let r = s.gql_as(None, REFRESH, json!({ "t": token(&fresh["data"]["signIn"], "refreshToken") })).await;
        assert!(r.get("errors").is_none(), "{backend:?}: the new session lives: {r}");

        // A newer reset link replaces an older one.
        s.gql_as(None, REQUEST_RESET, json!({ "e": "ada@example.com" })).await;
        let first = link_token(&sink.wait_for(2).await[1].body(), "reset-password");
        s.gql_as(None, REQUEST_RESET, json!({ "e": "ada@example.com" })).await;
        let second = link_token(&exactly(&sink, 3).await[2].body(), "reset-password");
        assert_ne!(first, second);
        assert_bad_token(&s.gql_as(None, RESET, json!({ "t": first, "p": "third password" })).await);
        let ok = s.gql_as(None, RESET, json!({ "t": second, "p": "third password" })).await;
        assert_eq!(ok["data"]["resetPassword"], true, "{backend:?}: {ok}");
        assert!(sign_in(&s, "ada@example.com", "third password").await.get("errors").is_none());

        // A disabled account gets no email (but the same answer).
        let id = a["user"]["id"].clone();
        s.data("mutation($u: ID!) { disableUser(userId: $u) { id } }", json!({ "u": id })).await;
        let r = s.gql_as(None, REQUEST_RESET, json!({ "e": "ada@example.com" })).await;
        assert_eq!(r["data"]["requestPasswordReset"], true, "{r}");
        exactly(&sink, 3).await;
        s.finish().await;
    }
}

#[tokio::test]
async fn email_verification_over_smtp() {
    for backend in backends() {
        let (s, sink) = smtp_server(backend).await;
        let request = "mutation { requestEmailVerification }";
        let anon = s.gql_as(None, request, json!({})).await;
        assert_eq!(error_code(&anon), "UNAUTHENTICATED", "{anon}");

        let a = sign_up(&s, "ada@example.com").await;
        let access = token(&a, "accessToken");
        let me = "{ me { emailVerified } }";
        assert_eq!(s.gql_as(Some(&access), me, json!({})).await["data"]["me"]["emailVerified"], false);

        let r = s.gql_as(Some(&access), request, json!({})).await;
        assert_eq!(r["data"]["requestEmailVerification"], true, "{backend:?}: {r}");
        let messages = exactly(&sink, 1).await;
        let m = &messages[0];
        assert_eq!(m.rcpt_to, vec!["ada@example.com".to_string()]);
        assert_eq!(m.header("Subject").as_deref(), Some("Confirm your email"));
        let t = link_token(&m.body(), "verify-email");

        assert_bad_token(&s.gql_as(None, VERIFY, json!({ "t": "garbage" })).await);
        // A verification token cannot reset a password.
        assert_bad_token(&s.gql_as(None, RESET, json!({ "t": t, "p": "brand new pw" })).await);
        let ok = s.gql_as(None, VERIFY, json!({ "t": t })).await;
        assert_eq!(ok["data"]["verifyEmail"], true, "{backend:?}: {ok}");
        assert_eq!(s.gql_as(Some(&access), me, json!({})).await["data"]["me"]["emailVerified"], true);
        assert_bad_token(&s.gql_as(None, VERIFY, json!({ "t": t })).await);

        // Already verified: true, and no second email.
        let again = s.gql_as(Some(&access), request, json!({})).await;
        assert_eq!(again["data"]["requestEmailVerification"], true, "{again}");
        exactly(&sink, 1).await;
        s.finish().await;
    }
}

#[tokio::test]
async fn password_reset_with_the_log_mailer() {
    for backend in backends() {
        let s = TestServer::start_with(backend, BLOG, |c| c.public_url = PUBLIC_URL.to_string()).await;
        assert!(s.state.config.smtp_url.is_none());
        sign_up(&s, "ada@example.com").await;
        let r = s.gql_as(None, REQUEST_RESET, json!({ "e": "ada@example.com" })).await;
        assert_eq!(r["data"]["requestPasswordReset"], true, "{r}");
        // Sent in the background: wait for it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while s.state.mailer.sent().is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sent = s.state.mailer.sent();
        assert_eq!(sent.len(), 1, "{backend:?}: {sent:#?}");
        assert_eq!((sent[0].to.as_str(), sent[0].subject.as_str()), ("ada@example.com", "Reset your password"));
        let t = link_token(&sent[0].text, "reset-password");
        let ok = s.gql_as(None, RESET, json!({ "t": t, "p": "brand new pw" })).await;
        assert_eq!(ok["data"]["resetPassword"], true, "{backend:?}: {ok}");
        assert!(sign_in(&s, "ada@example.com", "brand new pw").await.get("errors").is_none());
        s.finish().await;
    }
}
