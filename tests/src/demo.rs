//! The demo story served by the real gateway and a real version service that verifies pings
//! against the gateway's license database, for the tests of verified usage.

use chrono::Utc;
use serde_json::json;

use crate::version::VersionService;
use crate::{Backend, Gateway};

/// The version service's token between the two.
pub const SERVICE_TOKEN: &str = "test-only-service-token";

/// The gateway and a version service that verifies against the gateway's license database
/// (`configure` adjusts the version service), over the demo story seeded with `seed`.
pub async fn verifying_pair(
    backend: Backend,
    seed: u64,
    configure: impl FnOnce(&mut version_service::Config),
) -> (Gateway, VersionService) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let gateway = Gateway::start_with(backend, |config| {
        config.version_service.url = url;
        config.version_service.service_token = Some(SERVICE_TOKEN.to_owned());
    })
    .await;
    let licenses = gateway.db.url.clone();
    let version = VersionService::start_on(listener, backend, Some(SERVICE_TOKEN), |config| {
        config.license_database_url = Some(licenses);
        configure(config);
    })
    .await;
    let options = seed::SeedOptions {
        customers: 3,
        seed,
        today: Utc::now().date_naive(),
        include_demo_story: true,
    };
    seed::seed(&gateway.state.db, Some(&version.state.db), &options)
        .await
        .unwrap();
    (gateway, version)
}

/// A license of the demo story: its id and the digests a genuine ping of it carries.
#[derive(Clone, Debug)]
pub struct DemoLicense {
    pub id: String,
    pub md5: String,
    pub sha256: String,
}

/// The license of customer `customer` (1: Acme, 2: Globex) with `status`, as the graph says.
pub async fn license_of(gateway: &Gateway, customer: &str, status: &str) -> DemoLicense {
    let answer = gateway
        .query(
            r#"query($id: ID!) { customer(id: $id) { licenses { id status licenseMd5 licenseSha256 } } }"#,
            json!({ "id": customer }),
        )
        .await;
    let license = answer["data"]["customer"]["licenses"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .find(|l| l["status"] == status)
        .unwrap_or_else(|| panic!("no {status} license: {answer}"))
        .clone();
    DemoLicense {
        id: license["id"].as_str().unwrap().to_owned(),
        md5: license["licenseMd5"].as_str().unwrap().to_owned(),
        sha256: license["licenseSha256"].as_str().unwrap().to_owned(),
    }
}
