//! Field errors as the GraphQL spec has them ("Handling Execution Errors"), for every resolver
//! at once: a schema extension, not code in each resolver.
//!
//! async-graphql 7 leaves a failed field out of its parent's map (its issues #1272, #1449),
//! whatever the field's type. This extension wraps the resolution of every field and list item:
//!
//! - A failing field (or list item) answers `null`, and its error is kept with its `path`.
//! - If its type is non-null, that `null` is not allowed: the failure moves to the parent field
//!   (or list), which answers `null` in turn, up to the nearest nullable one; a non-null root
//!   field makes `data` itself `null`.
//!
//! Then it puts the answer's maps in selection-set order (`selection_order`).
//!
//! The types come from the resolution itself (`ResolveInfo::return_type`, `!` for non-null), so
//! nothing here restates the schema.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextResolve,
    ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{PathSegment, QueryPathSegment, Response, ServerError, ServerResult, Value};
use async_graphql::{QueryPathNode, Variables};

use super::selection_order;
use crate::limits::select_operation;

/// The extension's factory: one [`FieldErrorsExtension`] per request.
pub struct FieldErrors;

impl ExtensionFactory for FieldErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FieldErrorsExtension::default())
    }
}

/// The state of one request's execution.
#[derive(Default)]
struct FieldErrorsExtension {
    /// The parsed document, kept for ordering the answer.
    document: Mutex<Option<ExecutableDocument>>,
    /// Errors of fields that answered `null` in their place.
    errors: Mutex<Vec<ServerError>>,
    /// Paths of fields and lists holding a non-null child that failed: they answer `null`.
    failed_parents: Mutex<HashSet<PathKey>>,
    /// Whether anything failed at all: the common, error-free request takes no lock per field.
    any_failed: AtomicBool,
}

impl FieldErrorsExtension {
    /// Records that the non-null value at `path` is `null`, so its parent must be.
    fn fail_parent_of(&self, path: &[PathSegment]) {
        if let Some((_, parent)) = path.split_last()
            && let Ok(mut failed) = self.failed_parents.lock()
        {
            failed.insert(path_key(parent));
        }
    }

    /// Whether a non-null child of `path` failed; the path is built only once anything did.
    fn has_failed_child(&self, path: impl FnOnce() -> Vec<PathSegment>) -> bool {
        self.any_failed.load(Ordering::Acquire)
            && self
                .failed_parents
                .lock()
                .is_ok_and(|failed| failed.contains(&path_key(&path())))
    }

    fn keep(&self, error: ServerError) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(error);
        }
    }
}

/// The response path of a resolution, as errors carry it.
fn path_of(node: &QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut path: Vec<PathSegment> = std::iter::once(node)
        .chain(node.parents())
        .map(|node| match node.segment {
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            QueryPathSegment::Index(index) => PathSegment::Index(index),
        })
        .collect();
    path.reverse();
    path
}

#[async_trait::async_trait]
impl Extension for FieldErrorsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut kept) = self.document.lock() {
            *kept = Some(document.clone());
        }
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let non_null = info.return_type.ends_with('!');
        let node = info.path_node;
        match next.run(ctx, info).await {
            Ok(value) if !self.has_failed_child(|| path_of(node)) => Ok(value),
            Ok(_) => {
                // A non-null child failed: this field is `null` instead (its error is kept).
                if non_null {
                    self.fail_parent_of(&path_of(node));
                }
                Ok(Some(Value::Null))
            }
            Err(mut error) => {
                let path = path_of(node);
                if error.path.is_empty() {
                    error.path = path.clone();
                }
                self.keep(error);
                self.any_failed.store(true, Ordering::Release);
                if non_null {
                    self.fail_parent_of(&path);
                }
                Ok(Some(Value::Null))
            }
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        // A non-null root field failed: `data` is `null` (the root has no nullable parent).
        if self.has_failed_child(Vec::new) {
            response.data = Value::Null;
        }
        if let Ok(document) = self.document.lock()
            && let Some(document) = document.as_ref()
            && let Ok((_, _, operation)) = select_operation(document, operation_name)
        {
            selection_order::reorder(document, &operation.selection_set.node, &mut response.data);
        }
        let mut errors = self
            .errors
            .lock()
            .map(|mut errors| std::mem::take(&mut *errors))
            .unwrap_or_default();
        // Fields fail concurrently; their errors are listed in the order of the document, so
        // the same request always gets the same body.
        errors.sort_by(|a, b| {
            let at = |e: &ServerError| e.locations.first().map(|l| (l.line, l.column));
            at(a)
                .cmp(&at(b))
                .then_with(|| path_key(&a.path).cmp(&path_key(&b.path)))
        });
        response.errors.extend(errors);
        response
    }
}

/// A path as a set key and a sort key (`PathSegment` is neither `Hash` nor `Ord`; list
/// indices sort in numeric order).
type PathKey = Vec<(usize, String)>;

fn path_key(path: &[PathSegment]) -> PathKey {
    path.iter()
        .map(|segment| match segment {
            PathSegment::Field(name) => (usize::MAX, name.clone()),
            PathSegment::Index(index) => (*index, String::new()),
        })
        .collect()
}
