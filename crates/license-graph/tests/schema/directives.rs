//! The subgraph SDL's directives say what the gateway enforces, and nothing is left out: a new
//! field or type without them fails here.
//!
//! - Every root field is `@authenticated` and `@requiresScopes` with one scope per role the
//!   resolver lets through (the scope is the role's name), computed from `auth`'s own rules.
//! - Every other object type is `@authenticated`; every entity type (`@key`) also requires a
//!   scope of any role (other subgraphs can return it).
//! - Every list field has `@cost`, and `@listSize` or a connection field above that sizes it
//!   (`sizedFields`); a list with a `first`/`last` argument slices by it.
//! - The SDL links Federation 2.9 and imports all four directives.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::Value;
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, ServiceDocument, TypeDefinition, TypeKind,
    TypeSystemDefinition,
};
use auth::{Role, Viewer};
use license_graph::FederationConfig;

fn viewer(role: Role) -> Viewer {
    Viewer {
        subject: "scope-check".to_owned(),
        email: None,
        role,
        roles: vec![role],
        customer_ids: vec![1],
    }
}

/// The roles each root field lets through, by the same rules the resolvers apply. A root
/// field not named here lets every role through (a token without a role is refused before
/// the graph, 403 `FORBIDDEN_NO_ROLE`); a new field with its own rule must be added here.
fn allowed_roles(field: &str) -> BTreeSet<&'static str> {
    let rule: fn(&Viewer) -> bool = match field {
        "Query.auditEvents" => Viewer::can_read_audit_trail,
        "Mutation.changeLicenseContact" => |v| v.license_changing_role().is_some(),
        "Query.webhookEndpoints"
        | "Query.webhookDeliveries"
        | "Mutation.createWebhookEndpoint"
        | "Mutation.rotateWebhookSecret"
        | "Mutation.disableWebhookEndpoint"
        | "Mutation.enableWebhookEndpoint"
        | "Mutation.deleteWebhookEndpoint" => Viewer::can_manage_webhooks,
        _ => |_| true,
    };
    Role::ALL
        .into_iter()
        .filter(|role| rule(&viewer(*role)))
        .map(Role::as_str)
        .collect()
}

fn subgraph() -> ServiceDocument {
    async_graphql::parser::parse_schema(license_graph::sdl().unwrap()).unwrap()
}

fn objects(document: &ServiceDocument) -> Vec<&TypeDefinition> {
    document
        .definitions
        .iter()
        .filter_map(|definition| match definition {
            TypeSystemDefinition::Type(ty) if matches!(ty.node.kind, TypeKind::Object(_)) => {
                Some(&ty.node)
            }
            _ => None,
        })
        .collect()
}

fn fields(ty: &TypeDefinition) -> Vec<&FieldDefinition> {
    match &ty.kind {
        TypeKind::Object(object) => object.fields.iter().map(|f| &f.node).collect(),
        _ => Vec::new(),
    }
}

fn directive<'a>(
    directives: &'a [async_graphql::parser::Positioned<ConstDirective>],
    name: &str,
) -> Option<&'a ConstDirective> {
    directives
        .iter()
        .map(|d| &d.node)
        .find(|d| d.name.node == name)
}

fn argument<'a>(directive: &'a ConstDirective, name: &str) -> Option<&'a Value> {
    directive
        .arguments
        .iter()
        .find(|(arg, _)| arg.node == name)
        .map(|(_, value)| &value.node)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => panic!("not a string: {other}"),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The roles `@requiresScopes(scopes: [[a], [b]])` lets through: one scope per group, each a
/// role's name.
fn scopes(directive: &ConstDirective) -> BTreeSet<String> {
    let Some(Value::List(groups)) = argument(directive, "scopes") else {
        panic!("@requiresScopes without scopes");
    };
    groups
        .iter()
        .map(|group| {
            let scopes = strings(Some(group));
            assert_eq!(scopes.len(), 1, "one role per group, got {scopes:?}");
            let scope = scopes[0].clone();
            assert!(Role::parse(&scope).is_some(), "{scope} names no role");
            scope
        })
        .collect()
}

fn is_list(field: &FieldDefinition) -> bool {
    matches!(field.ty.node.base, BaseType::List(_))
}

#[test]
fn the_sdl_links_federation_2_9_and_imports_the_directives() {
    let sdl = license_graph::sdl().unwrap();
    assert!(
        sdl.contains("url: \"https://specs.apollo.dev/federation/v2.9\""),
        "{sdl}"
    );
    for name in ["@authenticated", "@requiresScopes", "@cost", "@listSize"] {
        assert!(
            sdl.contains(&format!("\"{name}\"")),
            "{name} is not imported"
        );
    }
}

#[test]
fn every_root_field_requires_the_roles_its_resolver_lets_through() {
    let document = subgraph();
    let mut checked = 0;
    for ty in objects(&document) {
        let root = ty.name.node.as_str();
        if !["Query", "Mutation"].contains(&root) {
            continue;
        }
        for field in fields(ty) {
            let name = format!("{root}.{}", field.name.node);
            assert!(
                directive(&field.directives, "authenticated").is_some(),
                "{name} is not @authenticated"
            );
            let required = directive(&field.directives, "requiresScopes")
                .unwrap_or_else(|| panic!("{name} has no @requiresScopes"));
            let expected: BTreeSet<String> = allowed_roles(&name)
                .into_iter()
                .map(str::to_owned)
                .collect();
            assert_eq!(scopes(required), expected, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 8, "the roots have at least the README's fields");
    // The rules differ: some field is not for every role.
    assert_ne!(
        allowed_roles("Mutation.changeLicenseContact"),
        allowed_roles("Query.customers")
    );
}

#[test]
fn every_type_is_authenticated_and_every_entity_requires_a_role() {
    let document = subgraph();
    let every_role: BTreeSet<String> = Role::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    let mut entities = Vec::new();
    for ty in objects(&document) {
        let name = ty.name.node.as_str();
        if ["Query", "Mutation"].contains(&name) {
            continue;
        }
        assert!(
            directive(&ty.directives, "authenticated").is_some(),
            "type {name} is not @authenticated"
        );
        if directive(&ty.directives, "key").is_some() {
            let required = directive(&ty.directives, "requiresScopes")
                .unwrap_or_else(|| panic!("entity {name} has no @requiresScopes"));
            assert_eq!(scopes(required), every_role, "entity {name}");
            entities.push(name.to_owned());
        }
    }
    entities.sort();
    assert_eq!(entities, ["Customer", "Hostname", "License"]);
}

#[test]
fn every_list_field_has_a_cost_and_a_size() {
    let document = subgraph();
    let types = objects(&document);
    // Which fields each type's lists are sized by: `sizedFields` of every field returning it.
    let mut sized_by: BTreeMap<String, Vec<BTreeSet<String>>> = BTreeMap::new();
    for ty in &types {
        for field in fields(ty) {
            let returned = named(&field.ty.node.base);
            let sized = directive(&field.directives, "listSize")
                .map(|d| strings(argument(d, "sizedFields")).into_iter().collect())
                .unwrap_or_default();
            sized_by.entry(returned).or_default().push(sized);
        }
    }
    let mut lists = 0;
    for ty in &types {
        for field in fields(ty) {
            if !is_list(field) {
                continue;
            }
            let name = format!("{}.{}", ty.name.node, field.name.node);
            let cost = directive(&field.directives, "cost")
                .unwrap_or_else(|| panic!("{name} has no @cost"));
            assert!(
                matches!(argument(cost, "weight"), Some(Value::Number(n)) if n.as_u64().is_some()),
                "{name}: @cost(weight:) is a whole number"
            );
            match directive(&field.directives, "listSize") {
                Some(size) => {
                    assert!(
                        matches!(argument(size, "assumedSize"), Some(Value::Number(_))),
                        "{name} has no assumedSize"
                    );
                    let slicing = strings(argument(size, "slicingArguments"));
                    let arguments: Vec<&str> = field
                        .arguments
                        .iter()
                        .map(|a| a.node.name.node.as_str())
                        .collect();
                    for argument in &slicing {
                        assert!(arguments.contains(&argument.as_str()), "{name}({argument})");
                    }
                    for paging in ["first", "last"] {
                        if arguments.contains(&paging) {
                            assert!(
                                slicing.iter().any(|s| s == paging),
                                "{name} slices by {paging}"
                            );
                        }
                    }
                }
                None => {
                    // A connection's `edges`/`nodes`: every field returning the type sizes it.
                    let parents = &sized_by[ty.name.node.as_str()];
                    assert!(
                        parents
                            .iter()
                            .all(|sized| sized.contains(field.name.node.as_str())),
                        "{name} has no @listSize and is not sized by every field returning {}",
                        ty.name.node
                    );
                }
            }
            lists += 1;
        }
    }
    assert!(lists >= 15, "only {lists} list fields found");
}

/// What `_service { sdl }` answers (the extension that links Federation 2.9 rewrites it).
fn service_sdl(config: &FederationConfig) -> String {
    let schema = license_graph::schema_builder(config).finish();
    let response = crate::block_on(schema.execute("{ s: _service { sdl } }"));
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let json = response.data.into_json().unwrap();
    json["s"]["sdl"].as_str().unwrap().to_owned()
}

#[test]
fn the_service_answers_the_subgraph_sdl() {
    assert_eq!(
        service_sdl(&FederationConfig::default()),
        license_graph::sdl().unwrap()
    );
}

/// With `authorization_directives = false` (for Apollo Gateway), the SDL keeps the cost
/// directives and carries no authorization directive.
#[test]
fn the_authorization_directives_can_be_left_out() {
    let sdl = service_sdl(&FederationConfig {
        authorization_directives: false,
    });
    assert!(
        !sdl.contains("authenticated") && !sdl.contains("requiresScopes"),
        "{sdl}"
    );
    assert!(
        sdl.contains("@listSize(") && sdl.contains("\"@cost\""),
        "{sdl}"
    );
    async_graphql::parser::parse_schema(&sdl).unwrap();
}

fn named(base: &BaseType) -> String {
    match base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named(&inner.base),
    }
}
