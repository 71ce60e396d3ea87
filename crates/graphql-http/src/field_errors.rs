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
use async_graphql::parser::types::{ExecutableDocument, Field};
use async_graphql::{PathSegment, QueryPathSegment, Response, ServerError, ServerResult, Value};
use async_graphql::{QueryPathNode, Variables};

use error_catalogue::Code;

use crate::document::select_operation;
use crate::documents::ParsedDocument;
use crate::selection_order;
use error_catalogue::graphql::code_of;

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
    document: Mutex<Option<Arc<ExecutableDocument>>>,
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

/// Whether `return_type` is a list whose items may be `null` (`[T]`, `[T]!`). Lists of lists
/// do not occur in either graph; their inner lists would be nulled whole.
fn list_of_nullable(return_type: &str) -> bool {
    let list = return_type.strip_suffix('!').unwrap_or(return_type);
    list.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .is_some_and(|element| !element.ends_with('!'))
}

/// Whether `error` is async-graphql's refusal of one of `field`'s argument values (an `Int`
/// out of range, a malformed `DateTime`): it raises those before the resolver runs, without a
/// code, at the position of the value. Every error our resolvers raise has a code already.
fn at_an_argument(error: &ServerError, field: &Field) -> bool {
    error
        .locations
        .first()
        .is_some_and(|at| field.arguments.iter().any(|(_, value)| value.pos == *at))
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
        // The runtime's parsed document when there is one (shared, not copied), else a copy.
        let shared = match ctx.data_opt::<ParsedDocument>() {
            Some(ParsedDocument(parsed)) => parsed.clone(),
            None => Arc::new(document.clone()),
        };
        if let Ok(mut kept) = self.document.lock() {
            *kept = Some(shared);
        }
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let node = info.path_node;
        let field = info.field;
        // async-graphql reports the items of `[T]` as `T!` (its `&T` forwards no nullability),
        // so an item's own type is not trusted: a failed item is `null` and tells its list,
        // and the list's field, whose type is right, decides by its element type.
        let is_item = matches!(node.segment, QueryPathSegment::Index(_));
        let non_null = !is_item && info.return_type.ends_with('!');
        let nullable_items = !is_item && list_of_nullable(info.return_type);
        match next.run(ctx, info).await {
            Ok(value) if !self.has_failed_child(|| path_of(node)) => Ok(value),
            // Only items fail under a list: nullable ones are `null` in their places.
            Ok(value) if nullable_items => Ok(value),
            Ok(_) => {
                // A non-null child failed: this field is `null` instead (its error is kept).
                if non_null || is_item {
                    self.fail_parent_of(&path_of(node));
                }
                Ok(Some(Value::Null))
            }
            Err(mut error) => {
                if code_of(&error).is_none() && at_an_argument(&error, field) {
                    error
                        .extensions
                        .get_or_insert_with(Default::default)
                        .set("code", Code::BadUserInput.as_str());
                }
                let path = path_of(node);
                if error.path.is_empty() {
                    error.path = path.clone();
                }
                self.keep(error);
                self.any_failed.store(true, Ordering::Release);
                if non_null || is_item {
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

/// The guard-refusal column of the field-error matrix (nullable / non-null × scalar / object /
/// list item): a field guard refuses inside resolution, so its error takes the same path as a
/// database or upstream failure (those columns run end to end in tests/tests/license_graph.rs
/// and tests/tests/usage.rs). The gateway's own graph refuses no field (scopes and masks
/// decide what a caller sees), so the guards here are on a schema of their own, run through
/// this extension as the gateway's schema is.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use async_graphql::{
        Context, EmptyMutation, EmptySubscription, ErrorExtensions, Guard, Object, Schema,
    };

    use super::FieldErrors;

    /// Refuses the field when `refuse` holds, with a coded error as a role guard would.
    struct Refuse(bool);

    impl Guard for Refuse {
        async fn check(&self, _ctx: &Context<'_>) -> async_graphql::Result<()> {
            if self.0 {
                Err(async_graphql::Error::new("not for this caller")
                    .extend_with(|_, e| e.set("code", "FORBIDDEN")))
            } else {
                Ok(())
            }
        }
    }

    struct Leaf(i32);

    #[Object]
    impl Leaf {
        async fn id(&self) -> i32 {
            self.0
        }

        /// Refused on leaf 2.
        #[graphql(guard = "Refuse(self.0 == 2)")]
        async fn secret(&self) -> i32 {
            self.0 * 10
        }
    }

    struct Node;

    #[Object]
    impl Node {
        async fn id(&self) -> i32 {
            7
        }

        #[graphql(guard = "Refuse(true)")]
        async fn nullable_scalar(&self) -> Option<i32> {
            Some(1)
        }

        #[graphql(guard = "Refuse(true)")]
        async fn scalar(&self) -> i32 {
            1
        }

        #[graphql(guard = "Refuse(true)")]
        async fn nullable_object(&self) -> Option<Leaf> {
            Some(Leaf(1))
        }

        #[graphql(guard = "Refuse(true)")]
        async fn object(&self) -> Leaf {
            Leaf(1)
        }

        /// Items are nullable: a refused item is `null` alone.
        async fn nullable_items(&self) -> Vec<Option<Leaf>> {
            (1..=3).map(|i| Some(Leaf(i))).collect()
        }

        /// Items are non-null: a refused item nulls the (nullable) list.
        async fn items(&self) -> Option<Vec<Leaf>> {
            Some((1..=3).map(Leaf).collect())
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn node(&self) -> Option<Node> {
            Some(Node)
        }
    }

    async fn answer(query: &str) -> String {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(FieldErrors)
            .finish();
        serde_json::to_string(&schema.execute(query).await).unwrap()
    }

    fn refused(column: u32, path: &str) -> String {
        format!(
            r#"{{"message":"not for this caller","locations":[{{"line":1,"column":{column}}}],"path":{path},"extensions":{{"code":"FORBIDDEN"}}}}"#
        )
    }

    #[tokio::test]
    async fn a_refused_nullable_scalar_is_null_in_place() {
        assert_eq!(
            answer("{ node { id nullableScalar } }").await,
            format!(
                r#"{{"data":{{"node":{{"id":7,"nullableScalar":null}}}},"errors":[{}]}}"#,
                refused(13, r#"["node","nullableScalar"]"#)
            )
        );
    }

    #[tokio::test]
    async fn a_refused_non_null_scalar_nulls_its_parent() {
        assert_eq!(
            answer("{ node { id scalar } }").await,
            format!(
                r#"{{"data":{{"node":null}},"errors":[{}]}}"#,
                refused(13, r#"["node","scalar"]"#)
            )
        );
    }

    #[tokio::test]
    async fn a_refused_nullable_object_is_null_in_place() {
        assert_eq!(
            answer("{ node { nullableObject { id } id } }").await,
            format!(
                r#"{{"data":{{"node":{{"nullableObject":null,"id":7}}}},"errors":[{}]}}"#,
                refused(10, r#"["node","nullableObject"]"#)
            )
        );
    }

    #[tokio::test]
    async fn a_refused_non_null_object_nulls_its_parent() {
        assert_eq!(
            answer("{ node { id object { id } } }").await,
            format!(
                r#"{{"data":{{"node":null}},"errors":[{}]}}"#,
                refused(13, r#"["node","object"]"#)
            )
        );
    }

    #[tokio::test]
    async fn a_refused_nullable_list_item_is_null_alone() {
        assert_eq!(
            answer("{ node { nullableItems { id secret } } }").await,
            format!(
                r#"{{"data":{{"node":{{"nullableItems":[{{"id":1,"secret":10}},null,{{"id":3,"secret":30}}]}}}},"errors":[{}]}}"#,
                refused(29, r#"["node","nullableItems",1,"secret"]"#)
            )
        );
    }

    #[tokio::test]
    async fn a_refused_non_null_list_item_nulls_its_list() {
        assert_eq!(
            answer("{ node { id items { id secret } } }").await,
            format!(
                r#"{{"data":{{"node":{{"id":7,"items":null}}}},"errors":[{}]}}"#,
                refused(24, r#"["node","items",1,"secret"]"#)
            )
        );
    }
}
