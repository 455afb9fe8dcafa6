//! `GET /`: GraphiQL, bundled into the binary (works offline), pointed at `/graphql`.

use super::HttpState;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const INDEX: &str = include_str!("../../playground/index.html");

/// (file name, content type, bytes) of the bundled assets.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.js", "text/javascript", include_bytes!("../../playground/vendor/graphiql.min.js")),
    ("graphiql.min.css", "text/css", include_bytes!("../../playground/vendor/graphiql.min.css")),
    ("react.production.min.js", "text/javascript", include_bytes!("../../playground/vendor/react.production.min.js")),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../../playground/vendor/react-dom.production.min.js"),
    ),
];

pub async fn page(State(s): State<HttpState>) -> Html<String> {
    let query = default_query(&s);
    Html(INDEX.replace("__DEFAULT_QUERY__", &serde_json::to_string(&query).expect("strings serialize")))
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, ct, bytes)) => {
            ([(header::CONTENT_TYPE, *ct), (header::CACHE_CONTROL, "public, max-age=86400")], *bytes).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A first query that works for the declared models, with how to authenticate.
fn default_query(s: &HttpState) -> String {
    let mut q = String::from(
        "# Welcome to ferrobase: this API is generated from schema/*.graphql.\n\
         # Admin access: open \"Headers\" below and add\n\
         #   {\"Authorization\": \"Bearer <service key>\"}\n\
         # (`ferrobase keys` prints the key). Ctrl-Space completes, the Docs tab lists everything.\n\n",
    );
    match s.app.state.ir.user_models().next() {
        Some(m) => q.push_str(&format!(
            "query {{\n  {}(first: 5) {{\n    totalCount\n    nodes {{\n      id\n      createdAt\n    }}\n    pageInfo {{\n      hasNextPage\n      endCursor\n    }}\n  }}\n}}\n",
            m.plural
        )),
        None => q.push_str("query {\n  me {\n    id\n    email\n  }\n}\n"),
    }
    q
}
