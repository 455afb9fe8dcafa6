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

/// The full introspection query GraphiQL, Apollo and graphql-codegen send (graphql-js
/// `getIntrospectionQuery()`), which nests `ofType` deeply.
const FULL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

#[tokio::test]
async fn tools_can_introspect_with_the_default_limits() {
    let s = TestServer::start(ferrobase::testing::TestBackend::Sqlite, BLOG).await;
    // Anonymous, as GraphiQL does before any header is set.
    let r = s.gql_as(None, FULL_INTROSPECTION, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["__schema"]["mutationType"]["name"], "Mutation");
    s.finish().await;
}
