//! `schema.graphql` at the repository root is the license graph's subgraph SDL (what the
//! gateway's `_service { sdl }` answers composing gateways) as the code builds it. This test
//! fails when they drift; `UPDATE_SCHEMA=1 cargo test -p license-graph --test schema` rewrites
//! the file.

use std::path::PathBuf;

use license_graph::FederationConfig;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema.graphql")
}

#[test]
fn schema_graphql_matches_the_code() {
    let generated = license_graph::sdl().unwrap();
    let path = committed_path();
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schema.graphql differs from the code's SDL: run `UPDATE_SCHEMA=1 cargo test -p license-graph --test schema` and commit it"
    );
}

/// Every type and field of the public graph has a description: the explorer is the documentation.
#[test]
fn every_type_and_field_is_described() {
    let schema = license_graph::schema_builder(&FederationConfig::default()).finish();
    let response = crate::block_on(schema.execute(
        "{ __schema { types { name kind description fields { name description } inputFields { name description } enumValues { name description } } } }",
    ));
    let json = response.data.into_json().unwrap();
    let mut missing = Vec::new();
    for ty in json["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        // Built-in scalars and introspection types are described by the spec, and the
        // federation types by the federation spec.
        if name.starts_with("__")
            || [
                "String", "Int", "Float", "Boolean", "ID", "_Any", "_Entity", "_Service",
            ]
            .contains(&name)
        {
            continue;
        }
        if ty["description"].as_str().is_none_or(str::is_empty) {
            missing.push(name.to_owned());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for member in ty[list].as_array().into_iter().flatten() {
                let member_name = member["name"].as_str().unwrap();
                if member_name.starts_with('_') {
                    continue;
                }
                if member["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{name}.{member_name}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:?}");
}
