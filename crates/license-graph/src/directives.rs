//! The directives the graph's SDL carries for the gateways that compose it, saying what this
//! gateway already enforces:
//!
//! - who may read: `@authenticated` (here) on every root field and every object type, and
//!   `@requiresScopes` (async-graphql's own `requires_scopes`) on every root field and entity
//!   type, one scope per role that may read it (the scope is the role's name; docs/auth.md);
//! - what reading costs: `@cost` and `@listSize` on every list field, with the weights of
//!   `weights`.
//!
//! async-graphql 7.2 prints `@requiresScopes` itself but has no `@authenticated`, `@cost` or
//! `@listSize`, so these three are type directives; `subgraph` links them from Federation 2.9
//! in the SDL that `_service { sdl }` answers. Each definition's locations are the ones the
//! graph uses (Federation accepts a subset of its own).

use async_graphql::TypeDirective;

/// Only a caller with a valid token or session may read this (a composing gateway removes it
/// from unauthenticated requests).
#[TypeDirective(location = "FieldDefinition", location = "Object")]
pub fn authenticated() {}

/// The weight of this field: what one of its items costs besides its selection.
#[TypeDirective(location = "FieldDefinition")]
pub fn cost(weight: i32) {}

/// How many items this list returns: its slicing argument's value, else `assumedSize`; a
/// connection's size applies to its `sizedFields`.
#[TypeDirective(name = "listSize", location = "FieldDefinition")]
pub fn list_size(
    assumed_size: Option<i32>,
    slicing_arguments: Option<Vec<String>>,
    sized_fields: Option<Vec<String>>,
    // Federation's definition has this default; composition refuses any other.
    #[graphql(default_with = "Some(true)")] require_one_slicing_argument: Option<bool>,
) {
}
