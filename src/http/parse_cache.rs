//! Parsed GraphQL documents, kept by query text: clients send the same few queries again and
//! again, and parsing is a large share of a small request's cost. Bounded in entries and in
//! query size; validation still runs on every request.

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const MAX_ENTRIES: usize = 1024;
const MAX_QUERY_BYTES: usize = 16 * 1024;

#[derive(Default)]
pub struct ParseCache {
    docs: Mutex<HashMap<Arc<str>, Arc<ExecutableDocument>>>,
}

impl ParseCache {
    /// Attaches the cached document for `request.query`, parsing (and caching) it on a miss.
    /// A query that does not parse is left for the executor to report.
    pub fn prepare(&self, mut request: Request) -> Request {
        if request.query.len() > MAX_QUERY_BYTES {
            return request;
        }
        // The lock is held for the lookup only; the executor needs its own copy of the document.
        let cached = self.docs.lock().expect("parse cache lock").get(request.query.as_str()).cloned();
        if let Some(doc) = cached {
            request.set_parsed_query(ExecutableDocument::clone(&doc));
            return request;
        }
        if let Ok(doc) = async_graphql::parser::parse_query(&request.query) {
            let mut docs = self.docs.lock().expect("parse cache lock");
            if docs.len() >= MAX_ENTRIES {
                docs.clear();
            }
            docs.insert(Arc::from(request.query.as_str()), Arc::new(doc.clone()));
            drop(docs);
            request.set_parsed_query(doc);
        }
        request
    }
}
