//! The graph as a Federation 2 subgraph: the SDL `_service { sdl }` answers to a composing
//! gateway (and `schema.graphql` holds).
//!
//! async-graphql 7.2 prints a subgraph SDL linking Federation 2.5 with a fixed import list
//! (`@requiresScopes` included, `@authenticated` not), and has no `@cost` or `@listSize`,
//! which came with Federation 2.9. The graph declares those three as type directives
//! (`directives`); [`subgraph_sdl`] links Federation 2.9 instead and imports them, so that
//! composition reads them as Federation's own (and carries them into the supergraph, where
//! Apollo Router, Cosmo and Hive enforce them) rather than as unknown custom directives.
//!
//! `[gateway.federation] authorization_directives = false` leaves `@authenticated` and
//! `@requiresScopes` out: Apollo Gateway (the JavaScript one) refuses any supergraph that
//! carries them ("is for: SECURITY but is unsupported"), since it cannot enforce them. The
//! gateway enforces the same rules itself either way.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Response, ServerResult, Value, Variables};
use serde::Deserialize;

/// `[gateway.federation]`: what the subgraph SDL tells composing gateways.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationConfig {
    /// Carry `@authenticated` and `@requiresScopes` (for Apollo Router, Cosmo, Hive); `false`
    /// for Apollo Gateway, which refuses a supergraph with them.
    pub authorization_directives: bool,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            authorization_directives: true,
        }
    }
}

/// The Federation version the SDL links.
pub const FEDERATION_URL: &str = "https://specs.apollo.dev/federation/v2.9";

/// What async-graphql links, and the end of its import list.
const ASYNC_GRAPHQL_URL: &str = "\"https://specs.apollo.dev/federation/v2.5\"";
const ASYNC_GRAPHQL_IMPORTS_END: &str = "\"@requiresScopes\"]";

/// The Federation directives the graph uses that async-graphql does not import.
const COST_IMPORTS: &str = "\"@cost\", \"@listSize\"";
const AUTHORIZATION_IMPORTS: &str = "\"@requiresScopes\", \"@authenticated\"";

/// Why async-graphql's SDL could not be linked to Federation 2.9: its `@link` is not the one
/// this module knows (a new async-graphql version), which a test catches.
#[derive(Debug, thiserror::Error)]
#[error("the subgraph SDL's @link is not async-graphql 7.2's: cannot link Federation 2.9")]
pub struct LinkError;

/// The subgraph SDL of `federation_sdl` (async-graphql's federation export): linked to
/// Federation 2.9 with `@authenticated`, `@cost` and `@listSize` imported, without the
/// authorization directives unless `authorization`.
pub fn subgraph_sdl(federation_sdl: &str, authorization: bool) -> Result<String, LinkError> {
    let url = federation_sdl.find(ASYNC_GRAPHQL_URL).ok_or(LinkError)?;
    let imports = federation_sdl[url..]
        .find(ASYNC_GRAPHQL_IMPORTS_END)
        .map(|at| url + at)
        .ok_or(LinkError)?;
    let imported = if authorization {
        format!("{AUTHORIZATION_IMPORTS}, {COST_IMPORTS}]")
    } else {
        format!("{COST_IMPORTS}]")
    };
    let after_url = url + ASYNC_GRAPHQL_URL.len();
    let mut list = &federation_sdl[after_url..imports];
    if !authorization {
        // `, "@requiresScopes"` is the last import: drop it with the comma before it.
        list = list.trim_end().trim_end_matches(',');
    }
    let mut sdl = String::with_capacity(federation_sdl.len() + 64);
    sdl.push_str(&federation_sdl[..url]);
    sdl.push('"');
    sdl.push_str(FEDERATION_URL);
    sdl.push('"');
    sdl.push_str(list);
    if !authorization {
        sdl.push_str(", ");
    }
    sdl.push_str(&imported);
    sdl.push_str(&federation_sdl[imports + ASYNC_GRAPHQL_IMPORTS_END.len()..]);
    Ok(if authorization {
        sdl
    } else {
        without_authorization(&sdl)
    })
}

/// `sdl` without `@authenticated`, `@requiresScopes(...)` and the definition of
/// `@authenticated`. Scopes are role names (no parentheses), so a `@requiresScopes`
/// application ends at its first `)`.
fn without_authorization(sdl: &str) -> String {
    let mut out = String::with_capacity(sdl.len());
    for line in sdl.split_inclusive('\n') {
        if line.starts_with("directive @authenticated") {
            // With its description, the block just before it.
            if let Some(open) = out
                .strip_suffix("\"\"\"\n")
                .and_then(|before| before.rfind("\"\"\"\n"))
            {
                out.truncate(open);
            }
            continue;
        }
        let mut rest = line;
        loop {
            let authenticated = find_application(rest, " @authenticated");
            let scopes = rest.find(" @requiresScopes(");
            match (authenticated, scopes) {
                (Some(a), s) if s.is_none_or(|s| a < s) => {
                    out.push_str(&rest[..a]);
                    rest = &rest[a + " @authenticated".len()..];
                }
                (_, Some(s)) => {
                    out.push_str(&rest[..s]);
                    let end = rest[s..].find(')').map_or(rest.len(), |at| s + at + 1);
                    rest = &rest[end..];
                }
                _ => break,
            }
        }
        out.push_str(rest);
    }
    out
}

/// Where `name` is applied in `text`: followed by something that ends a name.
fn find_application(text: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(name).map(|at| from + at) {
        let next = text[at + name.len()..].chars().next();
        if next.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')) {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// The schema extension that answers `_service { sdl }` with [`subgraph_sdl`]: async-graphql
/// resolves `_service` itself, before any resolver of the graph, so its answer is rewritten
/// once the operation has run. Per request it costs a look at the root selection, and
/// nothing per field.
pub struct SubgraphSdl {
    /// Whether the SDL carries the authorization directives.
    pub authorization: bool,
}

impl ExtensionFactory for SubgraphSdl {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SubgraphSdlExtension {
            authorization: self.authorization,
            keys: Mutex::new(Vec::new()),
        })
    }
}

struct SubgraphSdlExtension {
    authorization: bool,
    /// The response keys of the request's root `_service` fields.
    keys: Mutex<Vec<Name>>,
}

#[async_trait::async_trait]
impl Extension for SubgraphSdlExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut keys = Vec::new();
        for (_, operation) in document.operations.iter() {
            service_keys(&document, &operation.node.selection_set.node, &mut keys, 0);
        }
        if let Ok(mut kept) = self.keys.lock() {
            *kept = keys;
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let keys = self.keys.lock().map(|k| k.clone()).unwrap_or_default();
        if let Value::Object(data) = &mut response.data {
            for key in keys {
                if let Some(Value::Object(service)) = data.get_mut(&key) {
                    for value in service.values_mut() {
                        if let Value::String(sdl) = value {
                            match subgraph_sdl(sdl, self.authorization) {
                                Ok(linked) => *sdl = linked,
                                Err(error) => tracing::error!(%error, "subgraph SDL"),
                            }
                        }
                    }
                }
            }
        }
        response
    }
}

/// The response keys of `_service` fields at the root of `set` (fragments at the root
/// included, to a depth of a few).
fn service_keys(
    document: &ExecutableDocument,
    set: &SelectionSet,
    keys: &mut Vec<Name>,
    depth: u8,
) {
    if depth > 4 {
        return;
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(field) if field.node.name.node == "_service" => {
                keys.push(field.node.response_key().node.clone());
            }
            Selection::Field(_) => {}
            Selection::InlineFragment(fragment) => {
                service_keys(document, &fragment.node.selection_set.node, keys, depth + 1);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    service_keys(document, &fragment.node.selection_set.node, keys, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SDL: &str = "\"\"\"\nRead by callers with a token.\n\"\"\"\ndirective @authenticated on FIELD_DEFINITION | OBJECT\n\
        type Query {\n\tthings(first: Int): [T!]! @authenticated @requiresScopes(scopes: [[\"admin\"], [\"sales\"]]) @cost(weight: 1)\n}\n\
        type T @key(fields: \"id\") @authenticated @requiresScopes(scopes: [[\"admin\"]]) {\n\tid: ID!\n\tauthenticatedBy: String\n}\n\
        extend schema @link(\n\turl: \"https://specs.apollo.dev/federation/v2.5\",\n\timport: [\"@key\", \"@interfaceObject\", \"@requiresScopes\"]\n)\n";

    #[test]
    fn links_federation_2_9_with_the_directives_async_graphql_leaves_out() {
        let sdl = subgraph_sdl(SDL, true).unwrap();
        assert!(sdl.contains(
            "\turl: \"https://specs.apollo.dev/federation/v2.9\",\n\timport: [\"@key\", \"@interfaceObject\", \"@requiresScopes\", \"@authenticated\", \"@cost\", \"@listSize\"]\n)"
        ), "{sdl}");
        assert!(sdl.contains("@authenticated @requiresScopes(scopes: [[\"admin\"], [\"sales\"]])"));
    }

    #[test]
    fn without_authorization_drops_the_directives_and_their_imports() {
        let sdl = subgraph_sdl(SDL, false).unwrap();
        assert!(
            sdl.contains("import: [\"@key\", \"@interfaceObject\", \"@cost\", \"@listSize\"]"),
            "{sdl}"
        );
        assert!(
            !sdl.contains("@authenticated") && !sdl.contains("requiresScopes"),
            "{sdl}"
        );
        assert!(!sdl.contains("Read by callers"), "{sdl}");
        assert!(
            sdl.contains("things(first: Int): [T!]! @cost(weight: 1)\n"),
            "{sdl}"
        );
        assert!(sdl.contains("type T @key(fields: \"id\") {\n"), "{sdl}");
        // A field whose name starts like the directive stays.
        assert!(sdl.contains("\tauthenticatedBy: String\n"), "{sdl}");
    }

    #[test]
    fn an_unknown_link_is_an_error() {
        assert!(subgraph_sdl("type Query { a: Int }", true).is_err());
    }
}
