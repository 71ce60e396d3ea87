//! One walk over the operation a request runs, against the [`SchemaModel`]: its estimated cost
//! (what `limits.max_complexity` bounds) and the schema fields it selects (what the field-usage
//! counter counts). Done once per operation, before validation, on the document the cache of
//! parsed documents already holds.
//!
//! The cost is the static estimate of the IBM GraphQL cost directives as Apollo Router, Hive
//! and Cosmo compute it from a supergraph, so that a composing gateway and this runtime agree
//! on what an operation costs:
//!
//! - an operation costs [`MUTATION_COST`] for a mutation, 0 otherwise, plus its fields;
//! - a field costs its weight plus the cost of its selection, times the number of items it
//!   returns. The weight is `@cost(weight:)` on the field, else on its type, else 1 for an
//!   object, interface or union and 0 for a scalar or enum;
//! - a list returns as many items as its largest slicing argument says (`@listSize(
//!   slicingArguments:)`, a literal or a variable), else `assumedSize`, else
//!   [`UNSIZED_LIST`]; a field whose `@listSize` names `sizedFields` passes that number to
//!   those fields of its selection instead (a connection's `edges` and `nodes`);
//! - a field or fragment dropped by `@skip`/`@include` costs nothing; a field the model does
//!   not know (introspection) costs 1 plus its selection.
//!
//! Named fragments are walked once per place they can cost differently (the sized fields
//! passed to them), so a document that spreads one fragment many times costs no more work than
//! it has fragments.

use std::collections::HashMap;

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Value, Variables};
use async_graphql_value::Value as InputValue;

use crate::document::select_operation;
use crate::model::{FieldInfo, ListSize, SchemaModel};

/// What a mutation costs before its fields (Apollo Router's weight of the operation type).
pub const MUTATION_COST: u64 = 10;

/// The size of a list the schema gives no `@listSize` for.
pub const UNSIZED_LIST: u64 = 10;

/// The result of the walk.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    /// The estimated cost.
    pub cost: u64,
    /// The ids (indexes into `SchemaModel::fields`) of the fields selected, each once, in the
    /// order first met.
    pub fields: Vec<usize>,
}

impl SchemaModel {
    /// The estimated cost of `query`'s operation (its only one, or `operation_name`) with
    /// `variables`, as the limit counts it; `None` when the text does not parse or names no
    /// such operation.
    pub fn cost(
        &self,
        query: &str,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Option<u64> {
        let document = async_graphql::parser::parse_query(query).ok()?;
        let (ty, _, operation) = select_operation(&document, operation_name).ok()?;
        Some(self.analyze(&document, operation, ty, variables).cost)
    }

    /// Walks `operation` (of type `ty`, in `document`) with `variables`.
    pub(crate) fn analyze(
        &self,
        document: &ExecutableDocument,
        operation: &OperationDefinition,
        ty: OperationType,
        variables: &Variables,
    ) -> Analysis {
        let root = match ty {
            OperationType::Query => self.query.as_ref(),
            OperationType::Mutation => self.mutation.as_ref(),
            OperationType::Subscription => None,
        };
        let mut walk = Walk {
            model: self,
            document,
            operation,
            variables,
            seen: vec![false; self.fields.len()],
            fields: Vec::new(),
            fragments: HashMap::new(),
        };
        let base = if ty == OperationType::Mutation {
            MUTATION_COST
        } else {
            0
        };
        let cost = walk.set(&operation.selection_set.node, root.map(Name::as_str), None);
        Analysis {
            cost: base.saturating_add(cost),
            fields: walk.fields,
        }
    }
}

/// A size passed down to some fields of a selection: `@listSize(sizedFields:)` of the field
/// above.
#[derive(Clone, Copy)]
struct Sized<'a> {
    fields: &'a [Name],
    items: u64,
}

/// Fragment costs already computed, by fragment and by the sized fields passed to it.
type FragmentKey<'a> = (&'a str, Option<(usize, u64)>);

struct Walk<'a> {
    model: &'a SchemaModel,
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    seen: Vec<bool>,
    fields: Vec<usize>,
    fragments: HashMap<FragmentKey<'a>, u64>,
}

impl<'a> Walk<'a> {
    /// The cost of `set`, selected on `parent` (`None`: a type the model does not know).
    fn set(
        &mut self,
        set: &'a SelectionSet,
        parent: Option<&'a str>,
        sized: Option<Sized<'a>>,
    ) -> u64 {
        let mut cost: u64 = 0;
        for selection in &set.items {
            let item = match &selection.node {
                Selection::Field(field) => self.field(&field.node, parent, sized),
                Selection::InlineFragment(fragment) => {
                    if self.skipped(&fragment.node.directives) {
                        continue;
                    }
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|condition| condition.node.on.node.as_str())
                        .or(parent);
                    self.set(&fragment.node.selection_set.node, on, sized)
                }
                Selection::FragmentSpread(spread) => {
                    if self.skipped(&spread.node.directives) {
                        continue;
                    }
                    self.spread(&spread.node.fragment_name.node, sized)
                }
            };
            cost = cost.saturating_add(item);
        }
        cost
    }

    fn spread(&mut self, name: &'a Name, sized: Option<Sized<'a>>) -> u64 {
        let key = (
            name.as_str(),
            sized.map(|s| (s.fields.as_ptr() as usize, s.items)),
        );
        if let Some(cost) = self.fragments.get(&key) {
            return *cost;
        }
        // Validation refuses cycles, but it runs after this walk: a cycle costs 0 here
        // (the entry is in place before the fragment is walked) and is refused later.
        self.fragments.insert(key, 0);
        let cost = match self.document.fragments.get(name) {
            Some(fragment) => {
                let on = fragment.node.type_condition.node.on.node.as_str();
                self.set(&fragment.node.selection_set.node, Some(on), sized)
            }
            None => 0,
        };
        self.fragments.insert(key, cost);
        cost
    }

    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&'a str>,
        sized: Option<Sized<'a>>,
    ) -> u64 {
        if self.skipped(&field.directives) {
            return 0;
        }
        let name = &field.name.node;
        let info = parent
            .and_then(|parent| self.model.composite(parent))
            .and_then(|ty| ty.fields.get(name));
        let Some(info) = info else {
            // `__typename` is free; introspection (and a field validation will refuse)
            // costs 1 per field, as async-graphql counted it.
            if name.as_str() == "__typename" {
                return 0;
            }
            return self
                .set(&field.selection_set.node, None, None)
                .saturating_add(1);
        };
        if !self.seen[info.id] {
            self.seen[info.id] = true;
            self.fields.push(info.id);
        }
        let size = self.size(field, info);
        let passed = info.list_size.as_ref().and_then(|list| {
            (!list.sized_fields.is_empty()).then_some(Sized {
                fields: &list.sized_fields,
                items: size,
            })
        });
        let children = self.set(&field.selection_set.node, Some(info.ty.as_str()), passed);
        let items = match sized {
            Some(sized) if sized.fields.contains(name) => sized.items,
            _ if info.list && passed.is_none() => size,
            _ => 1,
        };
        items.saturating_mul(self.weight(info).saturating_add(children))
    }

    fn weight(&self, info: &FieldInfo) -> u64 {
        info.weight
            .unwrap_or_else(|| match self.model.composite(&info.ty) {
                Some(ty) => ty.weight.unwrap_or(1),
                None => 0,
            })
    }

    /// The items `field` returns (or passes to its sized fields), per its `@listSize`.
    fn size(&self, field: &Field, info: &FieldInfo) -> u64 {
        let Some(list) = &info.list_size else {
            return UNSIZED_LIST;
        };
        let sliced = sliced(field, list, |name| self.variable(name));
        sliced.or(list.assumed).unwrap_or(UNSIZED_LIST)
    }

    /// A variable's value: the request's, else its definition's default.
    fn variable(&self, name: &str) -> Option<&'a Value> {
        self.variables.get(name).or_else(|| {
            self.operation
                .variable_definitions
                .iter()
                .find(|definition| definition.node.name.node == name)
                .and_then(|definition| definition.node.default_value.as_ref())
                .map(|default| &default.node)
        })
    }

    /// Whether `@skip(if: true)` or `@include(if: false)` drops what `directives` are on.
    fn skipped(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().any(|directive| {
            let condition = || {
                directive.node.get_argument("if").and_then(|value| {
                    value
                        .node
                        .clone()
                        .into_const_with(|name| self.variable(&name).cloned().ok_or(()))
                        .ok()
                })
            };
            match directive.node.name.node.as_str() {
                "skip" => condition() == Some(Value::Boolean(true)),
                "include" => condition() == Some(Value::Boolean(false)),
                _ => false,
            }
        })
    }
}

/// The largest slicing argument `field` gives (a literal, or a variable `lookup` resolves).
fn sliced<'v>(
    field: &Field,
    list: &ListSize,
    lookup: impl Fn(&str) -> Option<&'v Value>,
) -> Option<u64> {
    list.slicing
        .iter()
        .filter_map(|argument| field.get_argument(argument))
        .filter_map(|value| match &value.node {
            InputValue::Number(number) => Some(whole(number)),
            InputValue::Variable(name) => match lookup(name) {
                Some(Value::Number(number)) => Some(whole(number)),
                _ => None,
            },
            _ => None,
        })
        .max()
}

/// A count from a number argument: negative and fractional counts as 0 and its whole part.
fn whole(number: &async_graphql::Number) -> u64 {
    number
        .as_u64()
        .or_else(|| number.as_f64().map(|n| n.max(0.0) as u64))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::DocumentOperations;

    use super::*;

    const SDL: &str = r#"
        type Query {
            items(first: Int): ItemPage! @listSize(assumedSize: 20, slicingArguments: ["first"], sizedFields: ["nodes"], requireOneSlicingArgument: false) @cost(weight: 1)
            things: [Item!]!
            tags: [String!]!
            item: Item
        }
        type Mutation { touch: Item }
        type ItemPage { nodes: [Item!]! total: Int! }
        type Item @cost(weight: 3) { id: ID! parts(last: Int): [Item!]! @listSize(assumedSize: 4, slicingArguments: ["last"]) }
        schema { query: Query mutation: Mutation }
    "#;

    fn analyze(query: &str, variables: serde_json::Value) -> (u64, Vec<String>) {
        let model = SchemaModel::from_sdl(SDL).unwrap();
        let document = parse_query(query).unwrap();
        let operation = match &document.operations {
            DocumentOperations::Single(op) => op.node.clone(),
            DocumentOperations::Multiple(ops) => ops.values().next().unwrap().node.clone(),
        };
        let variables = Variables::from_json(variables);
        let analysis = model.analyze(&document, &operation, operation.ty, &variables);
        let fields = analysis
            .fields
            .iter()
            .map(|id| {
                let coordinate = &model.fields()[*id];
                format!("{}.{}", coordinate.type_name, coordinate.field)
            })
            .collect();
        (analysis.cost, fields)
    }

    #[test]
    fn a_connection_multiplies_its_sized_fields_by_first_or_the_assumed_size() {
        // items 1 + nodes 5 × (Item's weight 3 + id 0); total and pageInfo-like leaves are free.
        assert_eq!(
            analyze("{ items(first: 5) { nodes { id } total } }", json()).0,
            16
        );
        assert_eq!(analyze("{ items { nodes { id } } }", json()).0, 1 + 20 * 3);
        // A variable counts with its value, else its default.
        let query = "query($n: Int = 7) { items(first: $n) { nodes { id } } }";
        assert_eq!(analyze(query, json()).0, 1 + 7 * 3);
        assert_eq!(analyze(query, serde_json::json!({"n": 2})).0, 1 + 2 * 3);
        // Nested lists multiply: 2 items × (3 + 4 parts × 3).
        assert_eq!(
            analyze("{ items(first: 2) { nodes { parts { id } } } }", json()).0,
            1 + 2 * (3 + 4 * 3)
        );
        assert_eq!(
            analyze(
                "{ items(first: 2) { nodes { parts(last: 1) { id } } } }",
                json()
            )
            .0,
            1 + 2 * (3 + 3)
        );
    }

    #[test]
    fn unsized_lists_leaves_and_mutations() {
        assert_eq!(analyze("{ things { id } }", json()).0, UNSIZED_LIST * 3);
        assert_eq!(analyze("{ tags item { id } }", json()).0, 3);
        assert_eq!(
            analyze("mutation { touch { id } }", json()).0,
            MUTATION_COST + 3
        );
        // Introspection costs 1 per field; __typename nothing.
        assert_eq!(
            analyze("{ __typename __schema { types { name } } }", json()).0,
            3
        );
    }

    #[test]
    fn skipped_selections_cost_nothing_and_are_not_counted() {
        let (cost, fields) = analyze(
            "query($no: Boolean = false) { item { id } things @include(if: $no) { id } ... @skip(if: true) { tags } }",
            json(),
        );
        assert_eq!(cost, 3);
        assert_eq!(fields, ["Query.item", "Item.id"]);
    }

    #[test]
    fn fragments_cost_each_spread_and_fields_are_counted_once() {
        let (cost, fields) = analyze(
            "{ a: item { ...F } b: item { ...F } items(first: 3) { ...P } }
             fragment F on Item { id parts(last: 2) { id } }
             fragment P on ItemPage { nodes { ...F } }",
            json(),
        );
        let f = 2 * 3; // parts(last: 2) × Item's weight
        assert_eq!(cost, (3 + f) + (3 + f) + (1 + 3 * (3 + f)));
        assert_eq!(
            fields,
            [
                "Query.item",
                "Item.id",
                "Item.parts",
                "Query.items",
                "ItemPage.nodes"
            ]
        );
    }

    #[test]
    fn a_fragment_spread_many_times_is_walked_once_per_context() {
        // Each fragment spreads the next twice: 2^40 paths if every spread were walked again.
        const LEVELS: u32 = 40;
        let mut query = String::from("{ item { ...F0 } }");
        for level in 0..LEVELS {
            query.push_str(&format!(
                " fragment F{level} on Item {{ parts(last: 1) {{ ...F{next} }} ...F{next} }}",
                next = level + 1
            ));
        }
        query.push_str(&format!(" fragment F{LEVELS} on Item {{ id }}"));
        // F(n) = 1 × (3 + F(n+1)) + F(n+1), F(LEVELS) = 0: item costs 3 × 2^LEVELS.
        assert_eq!(analyze(&query, json()).0, 3 << LEVELS);
    }

    fn json() -> serde_json::Value {
        serde_json::json!({})
    }
}
