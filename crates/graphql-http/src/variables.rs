//! The variables check the spec runs before execution ("CoerceVariableValues") that
//! async-graphql leaves to the resolvers: a required variable must be given.
//!
//! A value of the wrong type is already refused by validation (`Invalid value for argument`),
//! which async-graphql runs with the request's variables.

use async_graphql::parser::types::OperationDefinition;
use async_graphql::{ServerError, Value, Variables};

use error_catalogue::Code;

use error_catalogue::graphql::coded;

/// Refuses the request when a non-null variable without a default is missing or `null`.
pub(crate) fn check_variables(
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
            Code::BadUserInput,
        );
        error.locations = vec![definition.name.pos];
        return Err(error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use async_graphql::Variables;
    use serde_json::json;

    use super::*;
    use crate::document::select_operation;

    fn check(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        let (_, _, operation) = select_operation(&document, None).unwrap();
        check_variables(operation, &Variables::from_json(variables)).map_err(|e| e.message)
    }

    #[test]
    fn required_variables_must_be_given_and_not_null() {
        let query = "query Q($id: ID!, $n: Int, $d: Int! = 3) { customer(id: $id) { name } }";
        assert_eq!(check(query, json!({"id": "1"})), Ok(()));
        assert_eq!(check(query, json!({"id": "1", "n": null})), Ok(()));
        assert_eq!(
            check(query, json!({})),
            Err(r#"Variable "$id" of required type "ID!" was not provided."#.to_owned())
        );
        assert_eq!(
            check(query, json!({"id": null})),
            Err(r#"Variable "$id" of required type "ID!" must not be null."#.to_owned())
        );
        // A default covers a missing value, never an explicit null.
        assert_eq!(
            check(query, json!({"id": "1", "d": null})),
            Err(r#"Variable "$d" of required type "Int!" must not be null."#.to_owned())
        );
    }
}
