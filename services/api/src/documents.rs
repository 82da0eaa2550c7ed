//! Parsed GraphQL documents, kept by their text.
//!
//! Clients send the same few documents over and over (a console page, a script stepping cases,
//! a GraphQL client's generated operations) with different variables. Parsing one costs more
//! than a step's own decision (a PEG parser over the text); a copy of the parsed document kept
//! from the first time costs a fraction of it. Validation still runs for every request (it
//! depends on the variables), so a cached document is exactly what a fresh parse would give.
//!
//! Bounded: documents longer than [`MAX_TEXT`] are not kept, and when [`CAPACITY`] documents
//! are kept the next one clears the map, so a client sending ever-new documents costs a
//! parse each, as without the cache, and the documents in use come back at their next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;

/// The most documents kept.
pub const CAPACITY: usize = 512;
/// The longest document kept, in bytes.
pub const MAX_TEXT: usize = 16 * 1024;

/// The cache; one per schema.
#[derive(Default)]
pub struct Documents(Mutex<HashMap<Box<str>, Arc<ExecutableDocument>>>);

impl Documents {
    /// The parsed document of `query`, from the cache or parsed now (and kept); `None` when it
    /// does not parse (its error is for the request's execution to report).
    pub fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(doc) = self.lock().get(query) {
            return Some(doc.clone());
        }
        let doc = Arc::new(async_graphql::parser::parse_query(query).ok()?);
        if query.len() <= MAX_TEXT {
            let mut map = self.lock();
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(query.into(), doc.clone());
        }
        Some(doc)
    }

    /// Gives `request` its parsed document from the cache, so that its execution does not
    /// parse it again. A document that does not parse is left to the execution.
    pub fn fill(&self, request: &mut Request) {
        if let Some(doc) = self.get(&request.query) {
            request.set_parsed_query(ExecutableDocument::clone(&doc));
        }
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<ExecutableDocument>>> {
        // The map holds no invariant a panic could break half-way.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents")
            .field("kept", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{CAPACITY, Documents, MAX_TEXT};

    #[test]
    fn a_document_is_parsed_once_and_the_cache_stays_bounded() {
        let docs = Documents::default();
        let a = docs.get("{ a }");
        let b = docs.get("{ a }");
        assert!(a.is_some() && b.is_some());
        assert!(std::sync::Arc::ptr_eq(
            a.as_ref().expect("parsed"),
            b.as_ref().expect("parsed")
        ));
        assert_eq!(docs.len(), 1);
        // A document that does not parse is not kept.
        assert!(docs.get("{ a").is_none());
        assert_eq!(docs.len(), 1);
        // A long one is parsed, not kept.
        let long = format!("{{ a {} }}", " ".repeat(MAX_TEXT));
        assert!(docs.get(&long).is_some());
        assert_eq!(docs.len(), 1);
        // Full, the next one clears the map.
        for i in 1..CAPACITY {
            assert!(docs.get(&format!("{{ f{i} }}")).is_some());
        }
        assert_eq!(docs.len(), CAPACITY);
        assert!(docs.get("{ other }").is_some());
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn a_filled_request_carries_the_same_document_as_a_parse() {
        let docs = Documents::default();
        let mut filled = async_graphql::Request::new("query Q($x: Int) { a(x: $x) { b } }");
        docs.fill(&mut filled);
        docs.fill(&mut filled);
        let mut parsed = async_graphql::Request::new("query Q($x: Int) { a(x: $x) { b } }");
        let (f, p) = (
            format!("{:?}", filled.parsed_query().ok()),
            format!("{:?}", parsed.parsed_query().ok()),
        );
        assert!(f.contains("Q"));
        assert_eq!(f, p);
    }
}
