//! The variables check the spec runs before execution ("CoerceVariableValues") that
//! async-graphql leaves to the resolvers: a required variable must be given.
//!
//! A value of the wrong type is already refused by validation (`Invalid value for argument`),
//! which async-graphql runs with the request's variables.

use async_graphql::parser::types::OperationDefinition;
use async_graphql::{ServerError, Value, Variables};

use super::{coded, codes};

/// Refuses the request when a non-null variable without a default is missing or `null`.
pub(super) fn check_variables(
    operation: &OperationDefinition,
    variables: &Variables,
) -> Result<(), ServerError> {
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let name = &definition.name.node;
        let ty = &definition.var_type.node;
        if ty.nullable {
            continue;
        }
        let problem = match variables.get(name) {
            Some(Value::Null) => "must not be null",
            None if definition.default_value.is_none() => "was not provided",
            _ => continue,
        };
        let mut error = coded(
            format!("Variable \"${name}\" of required type \"{ty}\" {problem}."),
            codes::BAD_USER_INPUT,
        );
        error.locations = vec![definition.name.pos];
        return Err(error);
    }
    Ok(())
}
