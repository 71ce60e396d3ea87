//! Puts the entity's index back into the paths of errors raised below `_entities`.
//!
//! async-graphql resolves every representation of `_entities` in the field's own context, so an
//! error raised inside entity 3 has the path `["_entities", "usagePings", 1, "counts"]`, without
//! the `3`: a gateway cannot tell which entity it belongs to, and drops it (the counters past
//! the answer's budget arrived as a bare `null`). The one error raised there on purpose, the
//! usage counters' `ANSWER_TOO_LARGE`, names its ping in `extensions.usagePing` (uuid,
//! hostname, recordedAt: a ping's identity); this extension finds the entity whose data holds
//! that ping at that path and inserts its index. Located through fields the caller selected:
//! without them (the gateway always selects them) the path stays as async-graphql made it.

use std::{collections::HashSet, sync::Arc};

use async_graphql::{
    Name, PathSegment, Response, ServerError, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};

/// The extension that names the ping an error is about.
pub const PING_EXTENSION: &str = "usagePing";

/// The fields of a ping's identity, as the subgraph names them.
pub const PING_IDENTITY: [&str; 3] = ["uuid", "hostname", "recordedAt"];

/// Registers [`EntityPathsExtension`] on the schema.
pub struct EntityPaths;

impl ExtensionFactory for EntityPaths {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(EntityPathsExtension)
    }
}

struct EntityPathsExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for EntityPathsExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        index_entity_errors(&response.data, &mut response.errors);
        response
    }
}

/// Inserts the entity index into each error below `_entities` that names its ping.
fn index_entity_errors(data: &Value, errors: &mut [ServerError]) {
    let Value::Object(root) = data else {
        return;
    };
    let Some(Value::List(entities)) = root.get("_entities") else {
        return;
    };
    // Two errors about the same ping at the same path (the ping under two entities) go to two
    // entities: one error per entity and path.
    let mut taken: HashSet<(usize, String)> = HashSet::new();
    for error in errors.iter_mut() {
        let unindexed = matches!(
            error.path.as_slice(),
            [PathSegment::Field(root), PathSegment::Field(_), ..] if root == "_entities"
        );
        if !unindexed {
            continue;
        }
        let Some(ping) = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get(PING_EXTENSION))
        else {
            continue;
        };
        let rest = &error.path[1..];
        let Some((_, parent)) = rest.split_last() else {
            continue;
        };
        let key = format!("{rest:?}");
        let found = entities.iter().enumerate().position(|(i, entity)| {
            !taken.contains(&(i, key.clone()))
                && at(entity, parent).is_some_and(|object| same_ping(object, ping))
        });
        if let Some(i) = found {
            taken.insert((i, key));
            error.path.insert(1, PathSegment::Index(i));
        }
    }
}

/// The value at `path` below `value`.
fn at<'a>(mut value: &'a Value, path: &[PathSegment]) -> Option<&'a Value> {
    for segment in path {
        value = match (segment, value) {
            (PathSegment::Field(name), Value::Object(fields)) => fields.get(name.as_str())?,
            (PathSegment::Index(i), Value::List(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Whether `object` is the ping `identity` names (every identity field selected and equal).
fn same_ping(object: &Value, identity: &Value) -> bool {
    let (Value::Object(object), Value::Object(identity)) = (object, identity) else {
        return false;
    };
    PING_IDENTITY.iter().all(|field| {
        let name = Name::new(field);
        matches!((object.get(&name), identity.get(&name)), (Some(a), Some(b)) if a == b)
    })
}
