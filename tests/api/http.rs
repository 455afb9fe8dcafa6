//! GraphQL over HTTP: methods, media types, statuses, authentication, limits.

use crate::common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn graphql_over_http_semantics() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let c = &s.client;
    let url = format!("{}/graphql", s.url);

    // GET runs queries.
    let r = c.get(&url).query(&[("query", "{ posts { totalCount } }")]).bearer_auth(&s.key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["posts"]["totalCount"], 0);

    // GET refuses mutations with 405.
    let r = c
        .get(&url)
        .query(&[("query", "mutation { deletePost(id: \"x\") { id } }")])
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");

    // application/graphql-response+json: request errors are 400 with that media type.
    let r = c
        .post(&url)
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ posts { " }))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/graphql-response+json");
    let body: Value = r.json().await.unwrap();
    assert!(body["errors"][0]["message"].is_string());

    // Legacy application/json: 200 even for a validation error.
    let r = c.post(&url).json(&json!({ "query": "{ nope }" })).bearer_auth(&s.key).send().await.unwrap();
    assert_eq!(r.status(), 200);

    // Batches.
    let r = c
        .post(&url)
        .json(&json!([{ "query": "{ posts { totalCount } }" }, { "query": "{ categories { totalCount } }" }]))
        .bearer_auth(&s.key)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[1]["data"]["categories"]["totalCount"], 0);

    // Health and metrics.
    let r = c.get(format!("{}/healthz", s.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let metrics = c.get(format!("{}/metrics", s.url)).send().await.unwrap().text().await.unwrap();
    let count = |name: &str| -> u64 {
        metrics.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    };
    assert!(count("ferrobase_graphql_requests_total ") >= 5, "{metrics}");
    assert!(count("ferrobase_sql_statements_total ") > 0, "{metrics}");

    // Playground is served with its bundled assets.
    let page = c.get(format!("{}/", s.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/playground/graphiql.min.js"));
    let js = c.get(format!("{}/playground/graphiql.min.js", s.url)).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.bytes().await.unwrap().len() > 100_000);
    s.finish().await;
}

#[tokio::test]
async fn anonymous_callers_get_public_rules_and_bad_tokens_401() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    // Post has a public read rule: anonymous callers may list posts, not create them.
    let r = s.gql_as(None, "{ posts { totalCount } }", json!({})).await;
    assert_eq!(r["data"]["posts"]["totalCount"], 0, "{r}");
    let r = s.gql_as(None, "mutation { createCategory(input: {name: \"x\"}) { id } }", json!({})).await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    let r = s.gql_as(None, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(r["data"]["__schema"]["queryType"]["name"], "Query");
    // A wrong token is refused outright with 401.
    let r = s
        .client
        .post(format!("{}/graphql", s.url))
        .bearer_auth("not-the-key")
        .json(&json!({ "query": "{ posts { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    s.finish().await;
}

#[tokio::test]
async fn oversized_bodies_are_payload_too_large() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let big = "x".repeat(2 << 20);
    let r = s
        .client
        .post(format!("{}/graphql", s.url))
        .bearer_auth(&s.key)
        .json(&json!({ "query": "{ posts { totalCount } }", "variables": { "pad": big } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
    s.finish().await;
}

#[tokio::test]
async fn field_errors_are_200_and_request_errors_400_for_graphql_response_json() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let post = |query: &'static str| {
        s.client
            .post(format!("{}/graphql", s.url))
            .header("accept", "application/graphql-response+json")
            .bearer_auth(&s.key)
            .json(&json!({ "query": query }))
            .send()
    };
    // A resolver error on a root field (NOT_FOUND) is a field error: the request was valid.
    let r = post("mutation { deletePost(id: \"missing\") { id } }").await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "NOT_FOUND");
    // Validation errors are request errors, coded BAD_USER_INPUT.
    let r = post("{ posts(first: \"x\") { totalCount } }").await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    s.finish().await;
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| {
        c.cors_origins = vec!["http://localhost:5173".into()];
    })
    .await;
    let preflight = |origin: &'static str| {
        s.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", s.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let ok = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://localhost:5173");
    let allowed = ok.headers()["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    let other = preflight("http://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // The actual request carries the header too.
    let r = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("origin", "http://localhost:5173")
        .json(&json!({ "query": "{ posts { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "http://localhost:5173");
    s.finish().await;
}

#[tokio::test]
async fn cors_with_no_allowlist_lets_any_origin_call_without_credentials() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let ok = s
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", s.url))
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    assert!(ok.status().is_success(), "a preflight succeeds: {}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], "*");
    assert!(ok.headers().get("access-control-allow-credentials").is_none(), "never with credentials");
    let r = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("origin", "http://localhost:3000")
        .json(&json!({ "query": "{ posts { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    s.finish().await;
}

/// POSTs a raw body with `accept`; the status and the JSON answer.
async fn post_raw(s: &TestServer, accept: &str, body: &str) -> (u16, Value) {
    let r = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("content-type", "application/json")
        .header("accept", accept)
        .bearer_auth(&s.key)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn malformed_requests_are_400_for_every_client_and_name_what_is_wrong() {
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| c.max_batch_size = 3).await;
    for accept in ["application/json", "application/graphql-response+json"] {
        let (status, body) = post_raw(&s, accept, "{\"query\": ").await;
        assert_eq!(status, 400, "{accept}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let msg = body["errors"][0]["message"].as_str().unwrap();
        assert!(msg.starts_with("the request body is not valid JSON"), "{msg}");
        assert!(body.get("data").is_none());
        for (bad, field) in [
            (r#"{"query": 1}"#, "query"),
            (r#"{"query": "{ posts { totalCount } }", "variables": "{}"}"#, "variables"),
            (r#"{"query": "{ posts { totalCount } }", "operationName": ["x"]}"#, "operationName"),
            (r#"{"query": "{ posts { totalCount } }", "extensions": 1}"#, "extensions"),
            (r#"{}"#, "query"),
        ] {
            let (status, body) = post_raw(&s, accept, bad).await;
            assert_eq!(status, 400, "{accept} {bad}: {body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{bad}: {body}");
        }
        // Batches: at most max_batch_size operations.
        let four = serde_json::to_string(&vec![json!({"query": "{ posts { totalCount } }"}); 4]).unwrap();
        let (status, body) = post_raw(&s, accept, &four).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 3"), "{body}");
        let three = serde_json::to_string(&vec![json!({"query": "{ posts { totalCount } }"}); 3]).unwrap();
        let (status, body) = post_raw(&s, accept, &three).await;
        assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(3)), "{body}");
        // A document that does not parse or validate: no `data` entry.
        for doc in ["{ posts { ", "{ nope }"] {
            let (status, body) = post_raw(&s, accept, &json!({ "query": doc }).to_string()).await;
            let expected = if accept == "application/json" { 200 } else { 400 };
            assert_eq!(status, expected, "{accept} {doc}: {body}");
            assert!(body.get("data").is_none(), "{accept} {doc}: {body}");
            assert_eq!(error_code(&body), "BAD_USER_INPUT");
        }
    }
    // GET: variables that are not JSON.
    let r = s
        .client
        .get(format!("{}/graphql", s.url))
        .query(&[("query", "{ posts { totalCount } }"), ("variables", "{nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["field"], "variables", "{body}");
    s.finish().await;
}

#[tokio::test]
async fn aliases_are_limited() {
    let s = TestServer::start_with(ferrobase::testing::TestBackend::Sqlite, BLOG, |c| c.max_aliases = 3).await;
    let aliased = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: posts {{ totalCount }}")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let r = s.gql(&aliased(3), json!({})).await;
    assert_eq!(r["data"]["a2"]["totalCount"], 0, "{r}");
    let r = s.gql(&aliased(4), json!({})).await;
    assert_eq!(error_code(&r), "BAD_USER_INPUT");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("at most 3"), "{r}");
    assert!(r.get("data").is_none(), "{r}");
    // Aliases inside fragments count too.
    let q = "{ ...F } fragment F on Query { a: posts { totalCount } b: posts { totalCount } c: categories { totalCount } d: categories { totalCount } }";
    assert_eq!(error_code(&s.gql(q, json!({})).await), "BAD_USER_INPUT");
    s.finish().await;
}
