//! Parsed documents by their text, so that a query sent again is not parsed again.
//!
//! Clients send the same few texts over and over (the dashboard's queries, the explorer's
//! introspection), and parsing was the largest single cost of a small request (see
//! BENCHMARKS.md, "Gateway CPU per request"). Only the parse is kept: validation depends on the
//! variables (argument values, complexity) and runs for every request.
//!
//! Bounded: at most [`CAPACITY`] documents, least recently used dropped first, and only texts
//! of at most [`MAX_QUERY_BYTES`], so the cache holds a few megabytes at worst whatever callers
//! send. A text that fails to parse is not kept (its error is cheap to find again).
//!
//! Next to each document the cache keeps the text a trace shows of it (`sanitize`, made the
//! first time a span wants it), so a document sent again is not printed again either.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

/// Documents kept.
pub const CAPACITY: NonZeroUsize = match NonZeroUsize::new(64) {
    Some(capacity) => capacity,
    None => NonZeroUsize::MIN,
};

/// The longest query text kept, in bytes (the dashboard's query is about 900).
pub const MAX_QUERY_BYTES: usize = 4 * 1024;

/// The request's parsed document, shared with the cache: request data for the extensions that
/// read the document after async-graphql has taken its own copy.
pub struct ParsedDocument(pub Arc<ExecutableDocument>);

/// A document as the cache keeps it.
#[derive(Clone)]
pub struct Parsed {
    /// The parsed document.
    pub document: Arc<ExecutableDocument>,
    /// Its text for traces, once a span asked for it.
    pub traced: Arc<OnceLock<Box<str>>>,
}

impl Parsed {
    fn new(document: ExecutableDocument) -> Self {
        Self {
            document: Arc::new(document),
            traced: Arc::default(),
        }
    }
}

/// Parsed documents by query text, least recently used dropped.
pub struct DocumentCache {
    documents: Mutex<LruCache<Box<str>, Parsed>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl DocumentCache {
    /// An empty cache of at most `capacity` documents.
    pub fn with_capacity(capacity: NonZeroUsize) -> Self {
        Self {
            documents: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// The document of `query`: the kept one, or what `parse` makes of it (kept when it
    /// parsed and the text is short enough).
    pub fn get_or_parse<E>(
        &self,
        query: &str,
        parse: impl FnOnce(&str) -> Result<ExecutableDocument, E>,
    ) -> Result<Parsed, E> {
        let cacheable = query.len() <= MAX_QUERY_BYTES;
        if cacheable
            && let Ok(mut documents) = self.documents.lock()
            && let Some(document) = documents.get(query)
        {
            return Ok(document.clone());
        }
        // Parsed outside the lock: two requests with a new text may both parse it, and no
        // request waits for another's parse.
        let document = Parsed::new(parse(query)?);
        if cacheable && let Ok(mut documents) = self.documents.lock() {
            documents.put(query.into(), document.clone());
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::cell::Cell;

    use super::*;

    fn kept(cache: &DocumentCache) -> usize {
        cache.documents.lock().unwrap().len()
    }

    fn counting<'a>(
        parses: &'a Cell<usize>,
    ) -> impl FnOnce(&str) -> Result<ExecutableDocument, async_graphql::parser::Error> + 'a {
        move |query| {
            parses.set(parses.get() + 1);
            async_graphql::parser::parse_query(query)
        }
    }

    #[test]
    fn a_text_is_parsed_once_and_the_same_document_returned() {
        let cache = DocumentCache::default();
        let parses = Cell::new(0);
        let first = cache.get_or_parse("{ a }", counting(&parses)).unwrap();
        let second = cache.get_or_parse("{ a }", counting(&parses)).unwrap();
        assert_eq!(parses.get(), 1);
        assert!(Arc::ptr_eq(&first.document, &second.document));
        assert!(Arc::ptr_eq(&first.traced, &second.traced));
        cache.get_or_parse("{ b }", counting(&parses)).unwrap();
        assert_eq!(parses.get(), 2);
    }

    #[test]
    fn failures_and_long_texts_are_not_kept() {
        let cache = DocumentCache::default();
        let parses = Cell::new(0);
        for _ in 0..2 {
            assert!(cache.get_or_parse("{ a", counting(&parses)).is_err());
        }
        assert_eq!(parses.get(), 2);
        let long = format!("{{ {} }}", "a ".repeat(MAX_QUERY_BYTES));
        for _ in 0..2 {
            cache.get_or_parse(&long, counting(&parses)).unwrap();
        }
        assert_eq!(parses.get(), 4);
        assert_eq!(kept(&cache), 0);
    }

    #[test]
    fn the_least_recently_used_document_is_dropped() {
        let cache = DocumentCache::with_capacity(NonZeroUsize::new(2).unwrap());
        let parses = Cell::new(0);
        cache.get_or_parse("{ a }", counting(&parses)).unwrap();
        cache.get_or_parse("{ b }", counting(&parses)).unwrap();
        cache.get_or_parse("{ a }", counting(&parses)).unwrap();
        cache.get_or_parse("{ c }", counting(&parses)).unwrap();
        assert_eq!((parses.get(), kept(&cache)), (3, 2));
        cache.get_or_parse("{ a }", counting(&parses)).unwrap();
        assert_eq!(parses.get(), 3, "a was used last, so b was dropped");
        cache.get_or_parse("{ b }", counting(&parses)).unwrap();
        assert_eq!(parses.get(), 4);
    }
}
