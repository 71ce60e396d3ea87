//! What the limits need to know of a parsed document: which operation runs, how deep its
//! selection sets nest, how many fields sit at its root, how many aliases the document writes.

use std::collections::HashSet;

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Pos, ServerError};

use error_catalogue::Code;

use error_catalogue::graphql::coded;

/// Picks the operation `operation_name` names, or the only one: its type, name and definition.
pub(crate) fn select_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(OperationType, Option<String>, &'a OperationDefinition), ServerError> {
    let operation = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), None) => Some((op, None)),
        // One anonymous operation: a name names none (async-graphql refuses it the same way,
        // later and without a code).
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| (op, Some(name.to_owned())))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .iter()
            .next()
            .map(|(name, op)| (op, Some(name.to_string()))),
        (DocumentOperations::Multiple(_), None) => {
            return Err(coded(
                "the document has several operations: operationName must name one",
                Code::OperationResolutionFailure,
            ));
        }
    };
    let Some((op, name)) = operation else {
        return Err(coded(
            format!(
                "unknown operation named `{}`",
                operation_name.unwrap_or_default()
            ),
            Code::OperationResolutionFailure,
        ));
    };
    Ok((op.node.ty, name, &op.node))
}

/// Refuses a document whose selection sets nest deeper than `max` (fragments count as a level,
/// and are followed where they are spread), at the first set too deep: the bound on the work
/// of walking a hostile document, checked before any other walk. async-graphql's own
/// `limit_recursive_depth` counts the same way and stays on the schema as a backstop.
pub(crate) fn check_nesting(document: &ExecutableDocument, max: usize) -> Result<(), ServerError> {
    fn walk(
        document: &ExecutableDocument,
        set: &Positioned<SelectionSet>,
        depth: usize,
        max: usize,
    ) -> Result<(), Pos> {
        if depth > max {
            return Err(set.pos);
        }
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) if !field.node.selection_set.node.items.is_empty() => {
                    walk(document, &field.node.selection_set, depth + 1, max)?;
                }
                Selection::Field(_) => {}
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        walk(document, &fragment.node.selection_set, depth + 1, max)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    walk(document, &fragment.node.selection_set, depth + 1, max)?;
                }
            }
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        walk(document, &operation.node.selection_set, 0, max).map_err(|at| ServerError {
            locations: vec![at],
            ..coded(
                format!("the query's selection sets nest deeper than {max} levels"),
                Code::QueryTooDeep,
            )
        })?;
    }
    Ok(())
}

/// Fields at the root of `set`, fragments expanded (each fragment once, so a fragment cycle,
/// refused later by validation, cannot loop here).
pub(crate) fn root_fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut HashSet<&'a str>,
) -> usize {
    let mut count = 0;
    for selection in &set.items {
        count += match &selection.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => root_fields(document, &f.node.selection_set.node, seen),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                match document.fragments.get(&s.node.fragment_name.node) {
                    Some(f) if seen.insert(name) => {
                        root_fields(document, &f.node.selection_set.node, seen)
                    }
                    _ => 0,
                }
            }
        };
    }
    count
}

/// Whether `operation` selects nothing but `__schema`, `__type` and `__typename` at its root:
/// an answer that depends on the schema alone, the same for every caller. A fragment at the
/// root is not looked into (the answer is then simply not taken as such).
pub(crate) fn introspection_only(operation: &OperationDefinition) -> bool {
    let items = &operation.selection_set.node.items;
    !items.is_empty()
        && items.iter().all(|item| match &item.node {
            Selection::Field(field) => {
                matches!(
                    field.node.name.node.as_str(),
                    "__schema" | "__type" | "__typename"
                ) && field.node.directives.is_empty()
            }
            _ => false,
        })
}

/// Aliases written anywhere in the document (operations and fragments).
pub(crate) fn aliases(document: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    document
        .operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .chain(
            document
                .fragments
                .values()
                .map(|f| walk(&f.node.selection_set.node)),
        )
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use error_catalogue::graphql::code_of;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap()
    }

    #[test]
    fn counts_aliases_everywhere_and_root_fields_through_fragments() {
        let doc = parse(
            "query { a: customers { totalCount } b: customers { totalCount } ...F }
             fragment F on Query { c: license(id: 1) { id } hostname(name: \"x\") { name } }",
        );
        assert_eq!(aliases(&doc), 3);
        let (_, _, operation) = select_operation(&doc, None).unwrap();
        let root = &operation.selection_set.node;
        assert_eq!(root_fields(&doc, root, &mut HashSet::new()), 4);
    }

    #[test]
    fn nesting_counts_fields_and_fragments_and_stops_at_the_bound() {
        let doc = parse("{ a { b { c } } ...F } fragment F on Query { d { e } }");
        assert!(check_nesting(&doc, 2).is_ok());
        let error = check_nesting(&doc, 1).unwrap_err();
        assert_eq!(code_of(&error), Some(Code::QueryTooDeep));
        // The first set over the bound: `{ c }`, line 1, column 9.
        assert_eq!(error.locations, [Pos { line: 1, column: 9 }]);
        // A fragment cycle (refused by validation later) cannot loop here.
        let cycle = parse("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
        assert!(check_nesting(&cycle, 32).is_err());
    }

    #[test]
    fn introspection_only_takes_schema_fields_at_the_root_and_nothing_else() {
        let only = |query: &str| {
            let doc = parse(query);
            let (_, _, operation) = select_operation(&doc, None).unwrap();
            introspection_only(operation)
        };
        assert!(only("{ __schema { types { name } } __typename }"));
        assert!(only("{ __type(name: \"License\") { fields { name } } }"));
        assert!(!only(
            "{ __schema { types { name } } customers { totalCount } }"
        ));
        assert!(!only("{ ...F } fragment F on Query { __typename }"));
        assert!(!only("{ ... on Query { __typename } }"));
    }

    #[test]
    fn several_operations_need_a_name() {
        let doc = parse("query A { __typename } mutation B { x }");
        let error = select_operation(&doc, None).unwrap_err();
        assert_eq!(code_of(&error), Some(Code::OperationResolutionFailure));
        let (ty, name, _) = select_operation(&doc, Some("B")).unwrap();
        assert_eq!((ty, name.as_deref()), (OperationType::Mutation, Some("B")));
        assert!(select_operation(&doc, Some("C")).is_err());
        let anonymous = parse("{ __typename }");
        assert!(select_operation(&anonymous, None).is_ok());
        let error = select_operation(&anonymous, Some("Missing")).unwrap_err();
        assert_eq!(code_of(&error), Some(Code::OperationResolutionFailure));
    }
}
