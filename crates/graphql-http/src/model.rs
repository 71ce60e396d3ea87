//! What the runtime knows of the schema it serves, read once from the schema's own SDL: every
//! object, interface and union type, the fields of each, what each field returns, and the
//! cost directives a composing gateway reads too (`@cost`, `@listSize`, the IBM GraphQL cost
//! directives as Apollo Federation 2.9 defines them). The cost estimate and the count of field
//! usage (`analysis`) both walk a request's document against it.
//!
//! Reading the SDL rather than async-graphql's registry (which it does not expose) keeps one
//! source for the weights: the directives the schema prints are the ones the limit applies.

use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::Value as ConstValue;
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, Type, TypeKind, TypeSystemDefinition,
};

/// A field of the schema, as metrics name it: its type and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldCoordinate {
    /// The type the field belongs to (`License`).
    pub type_name: String,
    /// The field's name (`plan`).
    pub field: String,
}

/// `@listSize` on a field: how many items a list (or the lists it names in `sizedFields`)
/// holds.
#[derive(Debug, Default)]
pub(crate) struct ListSize {
    /// The size when no slicing argument is given.
    pub assumed: Option<u64>,
    /// Arguments whose value is the size (the largest given one counts).
    pub slicing: Vec<Name>,
    /// Child fields the size applies to instead of this field (a connection's `edges` and
    /// `nodes`).
    pub sized_fields: Vec<Name>,
}

/// A field as the estimate sees it.
#[derive(Debug)]
pub(crate) struct FieldInfo {
    /// Its index in [`SchemaModel::fields`].
    pub id: usize,
    /// The named type it returns, lists and non-null stripped.
    pub ty: Name,
    /// Whether it returns a list.
    pub list: bool,
    /// `@cost(weight:)` on the field.
    pub weight: Option<u64>,
    /// `@listSize` on the field.
    pub list_size: Option<ListSize>,
}

/// An object, interface or union type.
#[derive(Debug, Default)]
pub(crate) struct TypeInfo {
    /// `@cost(weight:)` on the type.
    pub weight: Option<u64>,
    pub fields: HashMap<Name, FieldInfo>,
}

/// The schema's composite types and fields, with their cost directives.
#[derive(Debug, Default)]
pub struct SchemaModel {
    pub(crate) types: HashMap<Name, TypeInfo>,
    /// Every field, in SDL order; a field's id is its index here.
    pub(crate) fields: Vec<FieldCoordinate>,
    pub(crate) query: Option<Name>,
    pub(crate) mutation: Option<Name>,
}

/// Why an SDL could not be read (the schema printed something its own parser refuses).
#[derive(Debug, thiserror::Error)]
#[error("the schema's SDL cannot be read back: {0}")]
pub struct ModelError(#[from] async_graphql::parser::Error);

impl SchemaModel {
    /// The model of the schema `sdl` describes (as `Schema::sdl` prints it).
    pub fn from_sdl(sdl: &str) -> Result<Self, ModelError> {
        let document = async_graphql::parser::parse_schema(sdl)?;
        let mut model = SchemaModel::default();
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    model.query = schema.query.map(|name| name.node).or(model.query);
                    model.mutation = schema.mutation.map(|name| name.node).or(model.mutation);
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let fields = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        TypeKind::Union(_) => Vec::new(),
                        _ => continue,
                    };
                    let weight = cost_weight(ty.directives.iter().map(|d| &d.node));
                    let name = ty.name.node;
                    let mut info = TypeInfo {
                        weight,
                        fields: HashMap::with_capacity(fields.len()),
                    };
                    for field in fields {
                        let field = field.node;
                        let id = model.fields.len();
                        model.fields.push(FieldCoordinate {
                            type_name: name.to_string(),
                            field: field.name.node.to_string(),
                        });
                        info.fields
                            .insert(field.name.node.clone(), field_info(id, &field));
                    }
                    model.types.insert(name, info);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        // A subgraph SDL has no schema definition: the roots go by their default names.
        if model.query.is_none() {
            model.query = Some(Name::new("Query"));
            model.mutation = model
                .types
                .contains_key("Mutation")
                .then(|| Name::new("Mutation"));
        }
        Ok(model)
    }

    /// Every field of the schema; the ids the analysis reports are indexes into this list.
    pub fn fields(&self) -> &[FieldCoordinate] {
        &self.fields
    }

    /// The type named `name`, when it is an object, interface or union.
    pub(crate) fn composite(&self, name: &str) -> Option<&TypeInfo> {
        self.types.get(name)
    }
}

fn field_info(id: usize, field: &FieldDefinition) -> FieldInfo {
    let (ty, list) = named(&field.ty.node);
    let directives = || field.directives.iter().map(|d| &d.node);
    FieldInfo {
        id,
        ty,
        list,
        weight: cost_weight(directives()),
        list_size: directives()
            .find(|d| d.name.node == "listSize")
            .map(list_size),
    }
}

/// The named type of `ty`, and whether a list wraps it.
fn named(ty: &Type) -> (Name, bool) {
    match &ty.base {
        BaseType::Named(name) => (name.clone(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

fn argument<'a>(directive: &'a ConstDirective, name: &str) -> Option<&'a ConstValue> {
    directive
        .arguments
        .iter()
        .find(|(arg, _)| arg.node == name)
        .map(|(_, value)| &value.node)
}

fn whole(value: &ConstValue) -> Option<u64> {
    match value {
        ConstValue::Number(number) => number.as_u64(),
        // The IBM spec's own form: a weight as a string ("2.0").
        ConstValue::String(text) => text.parse::<f64>().ok().map(|n| n.max(0.0) as u64),
        _ => None,
    }
}

fn names(value: Option<&ConstValue>) -> Vec<Name> {
    match value {
        Some(ConstValue::List(items)) => items
            .iter()
            .filter_map(|item| match item {
                ConstValue::String(name) => Some(Name::new(name)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn cost_weight<'a>(mut directives: impl Iterator<Item = &'a ConstDirective>) -> Option<u64> {
    directives
        .find(|d| d.name.node == "cost")
        .and_then(|d| argument(d, "weight"))
        .and_then(whole)
}

fn list_size(directive: &ConstDirective) -> ListSize {
    ListSize {
        assumed: argument(directive, "assumedSize").and_then(whole),
        slicing: names(argument(directive, "slicingArguments")),
        sized_fields: names(argument(directive, "sizedFields")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SDL: &str = r#"
        directive @cost(weight: Int!) on FIELD_DEFINITION | OBJECT
        directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
        type Root {
            items(first: Int): ItemPage! @listSize(assumedSize: 20, slicingArguments: ["first"], sizedFields: ["nodes"], requireOneSlicingArgument: false) @cost(weight: 1)
            tags: [String!]!
        }
        type ItemPage { nodes: [Item!]! @cost(weight: 1) total: Int! }
        type Item @cost(weight: 3) { id: ID! }
        union Any = Item | ItemPage
        enum Colour { RED }
        schema { query: Root }
    "#;

    #[test]
    fn reads_types_fields_and_cost_directives() {
        let model = SchemaModel::from_sdl(SDL).unwrap();
        assert_eq!(model.query.as_deref(), Some("Root"));
        assert!(model.composite("Any").is_some() && model.composite("Colour").is_none());
        let items = &model.composite("Root").unwrap().fields["items"];
        assert_eq!(
            (items.ty.as_str(), items.list, items.weight),
            ("ItemPage", false, Some(1))
        );
        let size = items.list_size.as_ref().unwrap();
        assert_eq!(size.assumed, Some(20));
        assert_eq!(size.slicing, vec![Name::new("first")]);
        assert_eq!(size.sized_fields, vec![Name::new("nodes")]);
        let tags = &model.composite("Root").unwrap().fields["tags"];
        assert!(tags.list && tags.list_size.is_none() && tags.weight.is_none());
        assert_eq!(model.composite("Item").unwrap().weight, Some(3));
        assert_eq!(
            model.fields()[tags.id],
            FieldCoordinate {
                type_name: "Root".into(),
                field: "tags".into()
            }
        );
    }
}
