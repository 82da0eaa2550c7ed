//! Parsed GraphQL documents, kept by their text.
//!
//! Clients send the same few documents over and over (a console page, a script stepping cases,
//! a GraphQL client's generated operations) with different variables. Parsing one costs more
//! than a step's own decision (a PEG parser over the text); a copy of the parsed document kept
//! from the first time costs a fraction of it. Each request runs on its own copy, so a kept
//! document is exactly what a fresh parse would give; its validation is cut to what depends
//! on the request's variables when they fit the types it declares ([`crate::variables`]).
//!
//! Only a document that has passed the schema's checks once is kept (a request error, such as
//! an unknown field, a limit passed or the request guard's refusal, keeps nothing), so made-up
//! documents are never kept. Bounded: a document longer than [`MAX_TEXT`] is not kept, and
//! when [`CAPACITY`] documents or [`BUDGET`] bytes of text are kept the next one starts the
//! map afresh: a client sending ever-new valid documents costs a parse and a copy each, and
//! makes the map start afresh often, so that the documents in regular use are parsed again
//! (and kept again) at their next request. Over the websocket, kept documents are used and new
//! ones are not kept (its operations run as streams). A parsed document
//! takes up to about a hundred times its text, so the budget bounds the cache to a few tens
//! of megabytes at worst, and a few hundred kilobytes for real clients' documents.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError};

/// The most documents kept.
pub const CAPACITY: usize = 512;
/// The longest document kept, in bytes of text.
pub const MAX_TEXT: usize = 8 * 1024;
/// The most text kept, all documents together, in bytes.
pub const BUDGET: usize = 256 * 1024;

/// A kept document.
struct Entry {
    doc: Arc<ExecutableDocument>,
    /// Whether a request has run it through the full validation with every variable it
    /// declares given a value that fits ([`crate::variables`]): then every argument of it,
    /// the parts written in the document included, has been checked.
    checked: bool,
}

#[derive(Default)]
struct Kept {
    docs: HashMap<Box<str>, Entry>,
    text: usize,
}

/// The cache; one per schema.
#[derive(Default)]
pub struct Documents(Mutex<Kept>);

/// What [`Documents::fill`] did for a request.
#[derive(Debug)]
pub enum Parsed {
    /// The request carries a copy of the kept document of its text; `checked`: what its
    /// validation may be cut to ([`Entry`]'s).
    Kept {
        /// Whether its arguments have all been checked once.
        checked: bool,
    },
    /// The request carries its document, parsed now, not to be kept (too long).
    Ready,
    /// Parsed now; keep it ([`Documents::keep`]) once its execution shows it passed the schema.
    New(Box<str>, Arc<ExecutableDocument>),
    /// The text does not parse: the parser's error, for the response (not parsed again).
    Failed(ServerError),
}

impl Parsed {
    /// Whether the request carries a parsed document.
    pub fn parses(&self) -> bool {
        !matches!(self, Self::Failed(_))
    }
}

impl Documents {
    /// Gives `request` its parsed document: a copy of the kept one, or parsed now.
    pub fn fill(&self, request: &mut Request) -> Parsed {
        let keepable = request.query.len() <= MAX_TEXT;
        if keepable {
            let kept = self
                .lock()
                .docs
                .get(request.query.as_str())
                .map(|e| (Arc::clone(&e.doc), e.checked));
            if let Some((doc, checked)) = kept {
                request.set_parsed_query(ExecutableDocument::clone(&doc));
                return Parsed::Kept { checked };
            }
        }
        match request.parsed_query() {
            Ok(doc) if keepable => {
                let doc = Arc::new(doc.clone());
                Parsed::New(request.query.as_str().into(), doc)
            }
            Ok(_) => Parsed::Ready,
            Err(e) => Parsed::Failed(e),
        }
    }

    /// Keeps `doc`, the document of `query`, which has passed the schema's checks
    /// (`checked`: with every variable it declares given a value that fits).
    pub fn keep(&self, query: Box<str>, doc: Arc<ExecutableDocument>, checked: bool) {
        if query.len() > MAX_TEXT {
            return;
        }
        let dropped = {
            let mut kept = self.lock();
            if kept.docs.contains_key(&query) {
                return;
            }
            let full =
                kept.docs.len() >= CAPACITY || kept.text.saturating_add(query.len()) > BUDGET;
            let dropped = full.then(|| std::mem::take(&mut *kept));
            kept.text += query.len();
            kept.docs.insert(query, Entry { doc, checked });
            dropped
        };
        // Freed after the lock is released.
        drop(dropped);
    }

    /// Marks the kept document of `query` checked: it has passed the schema's checks with
    /// every variable it declares given a value that fits.
    pub fn check(&self, query: &str) {
        if let Some(e) = self.lock().docs.get_mut(query) {
            e.checked = true;
        }
    }

    /// How many documents are kept.
    pub fn len(&self) -> usize {
        self.lock().docs.len()
    }

    /// How many of the kept documents are checked ([`Documents::check`]).
    pub fn checked(&self) -> usize {
        self.lock().docs.values().filter(|e| e.checked).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
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
    use super::{BUDGET, CAPACITY, Documents, MAX_TEXT, Parsed};
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema, Variables};

    struct Root;

    #[Object]
    impl Root {
        async fn a(&self) -> i32 {
            1
        }
        async fn b(&self) -> i32 {
            2
        }
    }

    /// What `execute` does: fill, run, keep what passed.
    async fn run(docs: &Documents, mut request: Request) -> async_graphql::Response {
        let schema = Schema::new(Root, EmptyMutation, EmptySubscription);
        let parsed = docs.fill(&mut request);
        let response = schema.execute(request).await;
        if let Parsed::New(q, d) = parsed
            && !crate::schema::is_request_error(&response)
        {
            docs.keep(q, d, false);
        }
        response
    }

    #[tokio::test]
    async fn a_kept_document_runs_as_a_fresh_parse_with_each_request_s_variables() {
        let docs = Documents::default();
        let q = "query($s: Boolean!) { a b @skip(if: $s) }";
        let with = |s: bool| {
            Request::new(q).variables(Variables::from_json(serde_json::json!({ "s": s })))
        };
        let first = run(&docs, with(true)).await;
        assert_eq!(docs.len(), 1);
        assert!(matches!(
            docs.fill(&mut with(false)),
            Parsed::Kept { checked: false }
        ));
        let second = run(&docs, with(false)).await;
        let third = run(&docs, with(true)).await;
        assert_eq!(docs.len(), 1);
        let json = |r: &async_graphql::Response| serde_json::to_value(r).unwrap_or_default();
        assert_eq!(json(&first)["data"], serde_json::json!({ "a": 1 }));
        assert_eq!(json(&second)["data"], serde_json::json!({ "a": 1, "b": 2 }));
        assert_eq!(json(&third), json(&first));
    }

    #[tokio::test]
    async fn only_documents_that_pass_the_schema_are_kept() {
        let docs = Documents::default();
        // Parses, but names a field the schema does not have.
        let r = run(&docs, Request::new("{ nope }")).await;
        assert!(!r.errors.is_empty());
        // Does not parse.
        let r = run(&docs, Request::new("{ a")).await;
        assert!(!r.errors.is_empty());
        assert_eq!(docs.len(), 0);
        // Too long to keep, though it passes.
        let long = format!("{{ a {} }}", " ".repeat(MAX_TEXT));
        assert!(run(&docs, Request::new(long)).await.errors.is_empty());
        assert_eq!(docs.len(), 0);
        assert!(run(&docs, Request::new("{ a }")).await.errors.is_empty());
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn a_kept_document_is_checked_once_marked_and_only_then() {
        let docs = Documents::default();
        let q = "query($s: Boolean!) { a @skip(if: $s) }";
        let doc = std::sync::Arc::new(async_graphql::parser::parse_query(q).expect("parses"));
        docs.keep(q.into(), doc, false);
        let request = || Request::new(q);
        assert!(matches!(
            docs.fill(&mut request()),
            Parsed::Kept { checked: false }
        ));
        assert_eq!((docs.len(), docs.checked()), (1, 0));
        docs.check("{ other }");
        docs.check(q);
        assert!(matches!(
            docs.fill(&mut request()),
            Parsed::Kept { checked: true }
        ));
        assert_eq!((docs.len(), docs.checked()), (1, 1));
    }

    #[test]
    fn the_cache_starts_afresh_when_full_by_count_or_by_text() {
        let docs = Documents::default();
        let doc =
            |q: &str| std::sync::Arc::new(async_graphql::parser::parse_query(q).expect("parses"));
        for i in 0..CAPACITY {
            let q = format!("{{ f{i} }}");
            docs.keep(q.as_str().into(), doc(&q), false);
        }
        assert_eq!(docs.len(), CAPACITY);
        docs.keep("{ g }".into(), doc("{ g }"), false);
        assert_eq!(docs.len(), 1);
        // By text: documents of MAX_TEXT bytes, BUDGET / MAX_TEXT of them fit.
        let docs = Documents::default();
        let big = |i: usize| {
            let head = format!("{{ f{i} ");
            format!("{head}{}}}", " ".repeat(MAX_TEXT - head.len() - 1))
        };
        for i in 0..BUDGET / MAX_TEXT {
            let q = big(i);
            assert_eq!(q.len(), MAX_TEXT);
            docs.keep(q.as_str().into(), doc(&q), false);
        }
        assert_eq!(docs.len(), BUDGET / MAX_TEXT);
        let q = big(BUDGET);
        docs.keep(q.as_str().into(), doc(&q), false);
        assert_eq!(docs.len(), 1);
    }
}
