//! Every generated type, field, argument and input field carries a description.

use crate::common::*;
use serde_json::json;

const QUERY: &str = r#"{ __schema { types {
  name kind description
  fields { name description args { name description } }
  inputFields { name description }
  enumValues { name description }
} } }"#;

#[tokio::test]
async fn every_generated_type_field_and_argument_is_described() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    let r = s.data(QUERY, json!({})).await;
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    for t in r["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        let described = |v: &serde_json::Value| v.as_str().is_some_and(|d| !d.trim().is_empty());
        if !described(&t["description"]) {
            missing.push(name.to_string());
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            if !described(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if !described(&a["description"]) {
                    missing.push(format!("{name}.{}({})", f["name"], a["name"]));
                }
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            if !described(&f["description"]) {
                missing.push(format!("{name}.{}", f["name"]));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
    s.finish().await;
}
