//! GraphQL over HTTP (GraphQL-over-HTTP spec): `POST /graphql` with a JSON body (single or
//! batch) and `GET /graphql?query=...` for queries only. Answers `application/json`, or
//! `application/graphql-response+json` (with 4xx statuses for request errors) when accepted.

use super::HttpState;
use crate::auth::{Caller, ClientIp};
use crate::error::{ApiError, ErrorCode};
use crate::graphql::params::Body as Operations;
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, Response};
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use std::net::SocketAddr;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

pub async fn post(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    let modern = accepts_graphql_response(&headers);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(content_type.starts_with("application/json") || content_type.starts_with("application/graphql-response+json"))
    {
        return error_response(
            modern,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::bad_input("send the request as Content-Type: application/json"),
        );
    }
    let limit = s.app.state.config.max_body_bytes;
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                modern,
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiError::new(ErrorCode::PayloadTooLarge, format!("the request body is larger than {limit} bytes")),
            );
        }
    };
    // A body that is not JSON, or whose parameters are of the wrong kind, is not a GraphQL
    // request at all: 400 whatever the client accepts.
    let body = match crate::graphql::params::body(&bytes, s.app.state.config.max_batch_size) {
        Ok(b) => b,
        Err(e) => return error_response(modern, StatusCode::BAD_REQUEST, e),
    };
    let caller = match caller(&s, &headers) {
        Ok(c) => c,
        Err(e) => return error_response(modern, StatusCode::UNAUTHORIZED, e),
    };
    let ip = client_ip(&s, &headers, peer);
    match body {
        Operations::Single(r) => {
            let response = execute(&s, *r, caller, ip).await;
            respond(modern, vec![response], false)
        }
        Operations::Batch(rs) => {
            let mut out = Vec::with_capacity(rs.len());
            for r in rs {
                out.push(execute(&s, r, caller.clone(), ip).await);
            }
            respond(modern, out, true)
        }
    }
}

/// `GET /graphql`: a WebSocket upgrade (subscriptions, see `ws`) or a query in the URL.
pub async fn get(
    State(s): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (mut parts, _) = request.into_parts();
    let headers = parts.headers.clone();
    if super::ws::is_upgrade(&headers) {
        use axum::extract::FromRequestParts;
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &s).await {
            Ok(ws) => super::ws::upgrade(s, ws, &headers),
            Err(rejection) => rejection.into_response(),
        };
    }
    let query = parts.uri.query().map(str::to_string);
    let modern = accepts_graphql_response(&headers);
    let request = match get_request(query.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(e) => return error_response(modern, StatusCode::BAD_REQUEST, e),
    };
    if s.app.executor.operation_type(&request).is_some_and(|t| t != OperationType::Query) {
        let mut resp = error_response(
            modern,
            StatusCode::METHOD_NOT_ALLOWED,
            ApiError::bad_input("mutations and subscriptions must be sent with POST"),
        );
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    let caller = match caller(&s, &headers) {
        Ok(c) => c,
        Err(e) => return error_response(modern, StatusCode::UNAUTHORIZED, e),
    };
    let ip = client_ip(&s, &headers, peer);
    let response = execute(&s, request, caller, ip).await;
    respond(modern, vec![response], false)
}

/// `?query=...&variables=<JSON>&operationName=...&extensions=<JSON>` as a request.
fn get_request(query_string: &str) -> Result<Request, ApiError> {
    let mut o = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(query_string.as_bytes()) {
        let value = match &*k {
            "query" | "operationName" => serde_json::Value::String(v.into_owned()),
            "variables" | "extensions" => serde_json::from_str(&v)
                .map_err(|_| ApiError::invalid_field(&k, format!("\"{k}\" must be a JSON object")))?,
            _ => continue,
        };
        o.insert(k.into_owned(), value);
    }
    crate::graphql::params::request(serde_json::Value::Object(o))
}

/// The client's address: the peer, or behind a trusted proxy the first `X-Forwarded-For` entry.
fn client_ip(s: &HttpState, headers: &HeaderMap, peer: SocketAddr) -> ClientIp {
    let forwarded = || {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    };
    ClientIp(if s.app.state.config.trust_proxy { forwarded().unwrap_or(peer.ip()) } else { peer.ip() })
}

fn caller(s: &HttpState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    Caller::from_authorization(auth, &s.app.state.service_key, &s.app.state.jwt)
}

/// Executes one request.
async fn execute(s: &HttpState, request: Request, caller: Caller, ip: ClientIp) -> Response {
    let r = s.app.executor.execute(request, caller, Some(ip)).await;
    s.metrics.graphql_requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if !r.errors.is_empty() {
        s.metrics.graphql_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    r
}

fn accepts_graphql_response(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains(GRAPHQL_RESPONSE))
}

/// The responses as a body (a JSON array for a batch). A response that failed before execution
/// (a syntax, validation or limit error) has no `data` entry, as the GraphQL spec says, and
/// under `application/graphql-response+json` a single one is a 400.
fn respond(modern: bool, responses: Vec<Response>, batch: bool) -> axum::response::Response {
    let mut request_error = false;
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(responses.len());
    for r in &responses {
        if crate::graphql::executor::request_failed(r) {
            request_error = true;
            let errors = serde_json::json!({ "errors": r.errors });
            bodies.push(serde_json::to_vec(&errors).expect("errors serialize"));
        } else {
            bodies.push(serde_json::to_vec(r).expect("responses serialize"));
        }
    }
    let body = if batch {
        let mut out = Vec::with_capacity(bodies.iter().map(|b| b.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (i, b) in bodies.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b);
        }
        out.push(b']');
        out
    } else {
        bodies.pop().unwrap_or_default()
    };
    let status = if modern && request_error && !batch { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    with_type(modern, status, body)
}

fn error_response(modern: bool, status: StatusCode, e: ApiError) -> axum::response::Response {
    let err = e.into_server_error(async_graphql::Pos::default());
    let mut err_json = serde_json::to_value(&err).expect("errors serialize");
    if let Some(o) = err_json.as_object_mut() {
        o.remove("locations");
    }
    let body = serde_json::to_vec(&serde_json::json!({ "errors": [err_json] })).expect("errors serialize");
    // These errors are about the HTTP request, not GraphQL: every client sees them in the status.
    with_type(modern, status, body)
}

fn with_type(modern: bool, status: StatusCode, body: Vec<u8>) -> axum::response::Response {
    let ct = if modern { GRAPHQL_RESPONSE } else { "application/json" };
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(ct))], body).into_response()
}
