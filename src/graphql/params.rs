//! The parameters of a GraphQL request (`query`, `operationName`, `variables`, `extensions`) read
//! from JSON, for every transport (an HTTP body, a WebSocket `subscribe` payload), with an error
//! that names the parameter at fault (never the JSON library's internals).

use crate::error::ApiError;
use async_graphql::{Request, Variables};
use serde_json::Value as Json;

/// One request from a JSON object.
pub fn request(json: Json) -> Result<Request, ApiError> {
    let Json::Object(mut o) = json else {
        return Err(ApiError::bad_input(format!(
            "a GraphQL request is a JSON object with a \"query\" string, not {}",
            kind(&json)
        )));
    };
    let query = match o.remove("query") {
        Some(Json::String(q)) => q,
        None | Some(Json::Null) => return Err(ApiError::invalid_field("query", "the request has no \"query\"")),
        Some(other) => {
            return Err(ApiError::invalid_field("query", format!("\"query\" must be a string, not {}", kind(&other))));
        }
    };
    let mut request = Request::new(query);
    if let Some(name) = optional(&mut o, "operationName", "a string", |v| match v {
        Json::String(s) => Ok(s),
        other => Err(other),
    })? {
        request = request.operation_name(name);
    }
    if let Some(v) = optional(&mut o, "variables", "an object", |v| match v {
        v @ Json::Object(_) => Ok(v),
        other => Err(other),
    })? {
        request = request.variables(Variables::from_json(v));
    }
    let extensions = optional(&mut o, "extensions", "an object", |v| match v {
        Json::Object(map) => Ok(map),
        other => Err(other),
    })?;
    for (k, v) in extensions.unwrap_or_default() {
        let v = async_graphql::Value::from_json(v).map_err(|_| ApiError::invalid_field("extensions", "invalid"))?;
        request.extensions.insert(k, v);
    }
    Ok(request)
}

/// Optional parameter `name` (absent or null: `None`), taken by `accept` or refused as not
/// `wanted` ("a string", "an object").
fn optional<T>(
    o: &mut serde_json::Map<String, Json>,
    name: &str,
    wanted: &str,
    accept: impl FnOnce(Json) -> Result<T, Json>,
) -> Result<Option<T>, ApiError> {
    match o.remove(name) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => accept(v).map(Some).map_err(|other| {
            ApiError::invalid_field(name, format!("\"{name}\" must be {wanted}, not {}", kind(&other)))
        }),
    }
}

/// A request body: one request, or a batch (a JSON array of requests).
pub enum Body {
    Single(Box<Request>),
    Batch(Vec<Request>),
}

/// Reads a request body: `max_batch` limits the requests of a batch.
pub fn body(bytes: &[u8], max_batch: usize) -> Result<Body, ApiError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            ApiError::bad_input("the request body is empty: send a JSON object with a \"query\"")
        } else {
            ApiError::bad_input(format!(
                "the request body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        }
    })?;
    match json {
        Json::Array(items) => {
            if items.is_empty() {
                return Err(ApiError::bad_input("the batch is empty"));
            }
            if items.len() > max_batch {
                return Err(ApiError::bad_input(format!(
                    "the batch has {} operations; at most {max_batch} are allowed (max_batch_size)",
                    items.len()
                )));
            }
            Ok(Body::Batch(items.into_iter().map(request).collect::<Result<_, _>>()?))
        }
        other => Ok(Body::Single(Box::new(request(other)?))),
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Json) -> (String, Option<String>) {
        let e = request(v).expect_err("an error");
        (e.message, e.field)
    }

    #[test]
    fn parameters_of_the_wrong_kind_are_named() {
        assert_eq!(err(json!({})).1.as_deref(), Some("query"));
        assert_eq!(err(json!({"query": 1})), ("\"query\" must be a string, not a number".into(), Some("query".into())));
        assert_eq!(err(json!({"query": "{a}", "variables": "{}"})).1.as_deref(), Some("variables"));
        assert_eq!(err(json!({"query": "{a}", "operationName": []})).1.as_deref(), Some("operationName"));
        assert_eq!(err(json!({"query": "{a}", "extensions": true})).1.as_deref(), Some("extensions"));
        assert!(err(json!([1])).0.contains("not an array"));
        let ok = request(json!({"query": "{a}", "variables": {"x": 1}, "operationName": null})).unwrap();
        assert_eq!(ok.query, "{a}");
    }

    #[test]
    fn bodies_that_are_not_json_or_too_large_a_batch_are_refused() {
        let e = body(b"{\"query\": ", 10).err().expect("an error");
        assert!(e.message.starts_with("the request body is not valid JSON (line 1"), "{}", e.message);
        assert!(!e.message.contains("EOF"), "no serde internals: {}", e.message);
        assert!(body(b"", 10).err().unwrap().message.contains("empty"));
        assert!(body(b"[]", 10).err().unwrap().message.contains("empty"));
        let many = serde_json::to_vec(&vec![json!({"query": "{a}"}); 11]).unwrap();
        assert!(body(&many, 10).err().unwrap().message.contains("at most 10"));
        assert!(matches!(body(&many, 11), Ok(Body::Batch(b)) if b.len() == 11));
    }
}
