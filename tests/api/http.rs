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
