//! One cost model inside and outside: the gateway's limit (`graphql_http`'s estimate, reading
//! the schema's SDL) and a composing gateway (reading the subgraph SDL's `@cost`/`@listSize`)
//! count the same weights, and those weights give the costs docs/operations.md states.

use async_graphql::Variables;
use graphql_http::SchemaModel;
use license_graph::FederationConfig;

/// What the runtime reads: the SDL of the schema it serves.
fn runtime_model() -> SchemaModel {
    let schema = license_graph::schema_builder(&FederationConfig::default()).finish();
    SchemaModel::from_sdl(&schema.sdl()).unwrap()
}

/// What a composing gateway reads: the subgraph SDL.
fn subgraph_model() -> SchemaModel {
    SchemaModel::from_sdl(&license_graph::sdl().unwrap()).unwrap()
}

const LISTING: &str = "query($n: Int) { customers(first: $n) { totalCount nodes { name licenses { id plan hostnames { name } } } } }";

const DASHBOARD: &str = r#"{
  customers(search: "acme", first: 5) {
    totalCount
    nodes {
      name
      activeLicense { id plan usersCount expiresAt }
      licenses {
        id plan status
        contact { name email }
        licensee { name email company }
        hostnames { name lastUsagePingAt latestUsagePing { version activeUserCount } usagePings(last: 52) { recordedAt } }
        reportingHosts { name attached current }
        auditEvents(first: 3) { id actor { role } }
        utilization { licensedUsers maxActiveUsers overLicensed }
      }
    }
  }
  auditEvents { edges { cursor node { id } } pageInfo { hasNextPage } }
  trialsReport(from: "2026-01-01", to: "2026-03-31", groupBy: MONTH) { groups { trials { license { id } } } }
}"#;

fn first(n: u64) -> Variables {
    Variables::from_json(serde_json::json!({ "n": n }))
}

#[test]
fn the_limit_reads_the_weights_composing_gateways_read() {
    let (runtime, subgraph) = (runtime_model(), subgraph_model());
    for (query, variables) in [
        (LISTING, first(20)),
        (LISTING, Variables::default()),
        (DASHBOARD, Variables::default()),
    ] {
        let inside = runtime.cost(query, None, &variables);
        assert!(inside.is_some_and(|cost| cost > 0), "{query}");
        assert_eq!(inside, subgraph.cost(query, None, &variables), "{query}");
    }
}

#[test]
fn costs_follow_the_documented_weights() {
    let model = runtime_model();
    // customers 1 + 20 nodes × (Customer 1 + 10 licenses × (License 1 + 10 hostnames × 1)).
    assert_eq!(
        model.cost(LISTING, None, &first(20)),
        Some(1 + 20 * (1 + 10 * 11))
    );
    assert_eq!(
        model.cost(LISTING, None, &first(100)),
        Some(1 + 100 * (1 + 10 * 11))
    );
    // Without `first`, the default page of 20.
    assert_eq!(
        model.cost(LISTING, None, &Variables::default()),
        model.cost(LISTING, None, &first(20))
    );
    // A usage history costs its `last`; a mutation 10 more than its selection.
    let history = |last: u32| {
        model
            .cost(
                &format!(
                    "{{ hostname(name: \"h\") {{ usagePings(last: {last}) {{ version }} }} }}"
                ),
                None,
                &Variables::default(),
            )
            .unwrap()
    };
    assert_eq!((history(1), history(52)), (1 + 1, 1 + 52));
    let mutation = "mutation { changeLicenseContact(input: {licenseId: 1, reason: \"r\", expectedVersion: 1, contactId: 2}) { replayed license { id } } }";
    assert_eq!(
        model.cost(mutation, None, &Variables::default()),
        Some(10 + 1 + 1)
    );
}
