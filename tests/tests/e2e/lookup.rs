//! `lookup(text:)` end to end: the real gateway and version service, each on a fresh database
//! (SQLite, and PostgreSQL with TEST_DATABASE_URL). Each kind a support ticket holds finds what
//! the databases say it should; a customer-scoped caller who sends another customer's key is
//! answered exactly as for a key that exists nowhere.

use chrono::Utc;
use e2e_tests::version::VersionService;
use e2e_tests::{Backend, Gateway, backends, error_codes};
use entity::{hostname, license, license_hostname};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SERVICE_TOKEN: &str = "test-only-service-token";

const LOOKUP: &str = r#"query($text: String!) { lookup(text: $text) {
    kinds
    matches { kind
      license { id licenseMd5 licensee { name email } }
      server { name known lastUsagePingAt latestUsagePing { uuid hostname }
        installations { uuid holdsName } }
      customer { id } } } }"#;

async fn pair(backend: Backend) -> (Gateway, VersionService) {
    let version = VersionService::start(backend, Some(SERVICE_TOKEN)).await;
    let url = version.graphql_url();
    let gateway = Gateway::start_with(backend, |config| {
        config.version_service.url = url;
        config.version_service.service_token = Some(SERVICE_TOKEN.to_owned());
    })
    .await;
    (gateway, version)
}

/// One customer's keys, as the databases hold them.
struct Keys {
    customer: i64,
    license: license::Model,
    /// Every license of the subscription set on `license` (and one more), newest first.
    subscription: Vec<i64>,
    /// The license file whose SHA-256 `license` now carries.
    file: String,
    hostname: String,
    uuid: String,
}

/// Seeds a customer with licenses and pings, gives two of its licenses one subscription and one
/// of them a license file of its own, and sends a ping with a fresh uuid from one of its
/// servers.
async fn customer(gateway: &Gateway, version: &VersionService, name: &str, seed: u64) -> Keys {
    let db = &gateway.state.db;
    let today = Utc::now().date_naive();
    let customer =
        seed::seed_customer_with_licenses(db, Some(&version.state.db), name, 4, seed, today)
            .await
            .unwrap();
    let licenses = license::Entity::find()
        .filter(license::Column::CustomerId.eq(customer))
        .order_by_desc(license::Column::IssuedAt)
        .order_by_desc(license::Column::Id)
        .all(db)
        .await
        .unwrap();
    let subscription_id = format!("2c92a0{:026x}", u128::from(seed) * 7919 + 1);
    let subscription_name = format!("A-S{:08}", 90_000 + seed);
    let file = format!("id={}\nlicensee={name}\nseed={seed}\n", licenses[0].id);
    for (i, row) in licenses.iter().take(2).enumerate() {
        let mut change: license::ActiveModel = row.clone().into();
        change.zuora_subscription_id = Set(Some(subscription_id.clone()));
        change.zuora_subscription_name = Set(Some(subscription_name.clone()));
        if i == 0 {
            change.license_sha256 = Set(hex(&Sha256::digest(file.as_bytes())));
        }
        change.update(db).await.unwrap();
    }
    let license = license::Entity::find_by_id(licenses[0].id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    // Recounted from the database: the subscription's licenses, newest first.
    let subscription = license::Entity::find()
        .filter(license::Column::ZuoraSubscriptionId.eq(subscription_id))
        .order_by_desc(license::Column::IssuedAt)
        .order_by_desc(license::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    let attached = license_hostname::Entity::find()
        .filter(license_hostname::Column::LicenseId.is_in(licenses.iter().map(|l| l.id)))
        .find_also_related(hostname::Entity)
        .all(db)
        .await
        .unwrap();
    let hostname = attached
        .into_iter()
        .find_map(|(_, h)| h)
        .expect("the seed attaches servers")
        .name;
    let uuid = format!("{:08x}-0000-4000-8000-{:012x}", seed, seed * 31 + 7);
    ping(gateway, version, &uuid, &hostname).await;
    Keys {
        customer,
        license,
        subscription,
        file,
        hostname,
        uuid,
    }
}

async fn ping(gateway: &Gateway, version: &VersionService, uuid: &str, hostname: &str) {
    let body = json!({
        "uuid": uuid, "hostname": hostname, "recorded_at": Utc::now().to_rfc3339(),
        "version": "17.5.0-ee", "active_user_count": 12
    });
    let posted = gateway
        .client()
        .post(format!("http://{}/usage_data", version.address))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One match: (kind, license id, server name, customer id).
type Match = (String, Option<String>, Option<String>, Option<String>);

/// Each match of a lookup's answer.
fn matches(response: &Value) -> Vec<Match> {
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["lookup"]["matches"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|m| {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            (
                m["kind"].as_str().unwrap().to_owned(),
                text(&m["license"]["id"]),
                text(&m["server"]["name"]),
                text(&m["customer"]["id"]),
            )
        })
        .collect()
}

fn kinds(response: &Value) -> Vec<String> {
    response["data"]["lookup"]["kinds"]
        .as_array()
        .unwrap_or_else(|| panic!("{response}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

fn license_match(kind: &str, license: i64, customer: i64) -> Match {
    (
        kind.to_owned(),
        Some(license.to_string()),
        None,
        Some(customer.to_string()),
    )
}

#[tokio::test]
async fn each_kind_a_ticket_holds_finds_its_license_server_and_customer() {
    for backend in backends() {
        let (gateway, version) = pair(backend).await;
        let a = customer(&gateway, &version, "Lookup Alpha", 11).await;
        let admin = |text: String| {
            let gateway = &gateway;
            async move { gateway.query(LOOKUP, json!({"text": text})).await }
        };

        // The MD5, as typed in a ticket: upper case, surrounded by blanks.
        let md5 = format!("  {}\n", a.license.license_md5.to_uppercase());
        let found = admin(md5).await;
        assert_eq!(
            kinds(&found),
            ["LICENSE_MD5", "SUBSCRIPTION"],
            "{backend:?}"
        );
        assert_eq!(
            matches(&found),
            [license_match("LICENSE_MD5", a.license.id, a.customer)],
            "{backend:?}"
        );
        assert_eq!(
            found["data"]["lookup"]["matches"][0]["license"]["licenseMd5"],
            a.license.license_md5.as_str()
        );

        let found = admin(a.license.license_sha256.clone()).await;
        assert_eq!(kinds(&found), ["LICENSE_SHA256"]);
        assert_eq!(
            matches(&found),
            [license_match("LICENSE_SHA256", a.license.id, a.customer)],
            "{backend:?}"
        );

        // The license file, pasted from a Windows clipboard: CRLF line endings.
        let pasted = a.file.replace('\n', "\r\n");
        let found = admin(pasted).await;
        assert_eq!(kinds(&found), ["LICENSE_FILE"]);
        assert_eq!(
            matches(&found),
            [license_match("LICENSE_FILE", a.license.id, a.customer)],
            "{backend:?}"
        );
        // Another file (one byte changed) matches nothing.
        let found = admin(a.file.replace("seed=", "seed=1")).await;
        assert!(matches(&found).is_empty(), "{backend:?}: {found}");

        // The subscription, by id and by name: every license of it, newest first.
        let subscription: Vec<_> = a
            .subscription
            .iter()
            .map(|id| license_match("SUBSCRIPTION", *id, a.customer))
            .collect();
        assert_eq!(subscription.len(), 2);
        let id = a.license.zuora_subscription_id.clone().unwrap();
        assert_eq!(matches(&admin(id).await), subscription, "{backend:?}");
        let name = a.license.zuora_subscription_name.clone().unwrap();
        let found = admin(name.to_lowercase()).await;
        assert_eq!(kinds(&found), ["SUBSCRIPTION"]);
        assert_eq!(matches(&found), subscription, "{backend:?}");

        // The hostname, as typed: any case, a trailing dot.
        let found = admin(format!("{}.", a.hostname.to_uppercase())).await;
        assert_eq!(kinds(&found), ["HOSTNAME"]);
        let servers = matches(&found);
        assert_eq!(servers.len(), 1, "{backend:?}: {found}");
        assert_eq!(servers[0].0, "HOSTNAME");
        assert_eq!(servers[0].2.as_deref(), Some(a.hostname.as_str()));
        assert_eq!(servers[0].3, Some(a.customer.to_string()), "{backend:?}");

        // The installation uuid: the server its pings came from, with their usage, in one
        // call to the version service.
        let calls = version.entities_calls();
        let found = admin(a.uuid.to_uppercase()).await;
        assert_eq!(version.entities_calls() - calls, 1, "{backend:?}");
        assert_eq!(kinds(&found), ["INSTALLATION_UUID"]);
        let servers = matches(&found);
        assert_eq!(servers.len(), 1, "{backend:?}: {found}");
        assert_eq!(servers[0].0, "INSTALLATION_UUID");
        assert_eq!(servers[0].2.as_deref(), Some(a.hostname.as_str()));
        assert_eq!(servers[0].3, Some(a.customer.to_string()));
        let server = &found["data"]["lookup"]["matches"][0]["server"];
        assert_eq!(server["known"], true);
        // The uuid's unverified pings never take the name from the seeded, verified
        // installation that holds it: the server lists the uuid beside its holder.
        let installations = server["installations"].as_array().unwrap();
        let uuid = |i: &Value| i["uuid"].as_str().map(str::to_owned);
        let holder = installations.iter().find(|i| i["holdsName"] == true);
        let holder = holder.expect("the seeded installation holds the name");
        assert_ne!(uuid(holder).as_deref(), Some(a.uuid.as_str()), "{found}");
        assert_eq!(server["latestUsagePing"]["uuid"], holder["uuid"], "{found}");
        assert!(
            installations
                .iter()
                .any(|i| uuid(i).as_deref() == Some(a.uuid.as_str()) && i["holdsName"] == false),
            "{found}"
        );

        // A uuid that only pinged under a server no license is attached to: staff see it.
        let stray = "0f8fad5b-d9cb-469f-a165-70867728950e";
        ping(&gateway, &version, stray, "stray.example.org").await;
        let found = admin(stray.to_owned()).await;
        let servers = matches(&found);
        assert_eq!(
            servers,
            [(
                "INSTALLATION_UUID".to_owned(),
                None,
                Some("stray.example.org".to_owned()),
                None
            )],
            "{backend:?}"
        );
        assert_eq!(
            found["data"]["lookup"]["matches"][0]["server"]["known"],
            false
        );

        // Text that is none of the kinds: recognised as nothing, matches nothing.
        let found = admin("Lookup Alpha".to_owned()).await;
        assert!(
            kinds(&found).is_empty() && matches(&found).is_empty(),
            "{found}"
        );

        // Bounded: past 64 KiB of text a field error, past the body cap a 413.
        let found = admin("a\n".repeat(33 * 1024)).await;
        assert_eq!(
            error_codes(&found),
            ["BAD_USER_INPUT"],
            "{backend:?}: {found}"
        );
        let response = gateway
            .post_graphql(
                Some(&gateway.admin_authorization()),
                &json!({"query": LOOKUP, "variables": {"text": "a".repeat(300 * 1024)}}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}

#[tokio::test]
async fn a_customer_gets_nothing_for_another_customers_keys_exactly_as_for_unknown_ones() {
    for backend in backends() {
        let (gateway, version) = pair(backend).await;
        let a = customer(&gateway, &version, "Lookup Alpha", 21).await;
        let b = customer(&gateway, &version, "Lookup Beta", 22).await;
        let b_token = gateway.token(&["customer"], &[b.customer]);
        let as_b = |text: String| {
            let (gateway, token) = (&gateway, &b_token);
            async move { gateway.query_as(token, LOOKUP, json!({"text": text})).await }
        };

        // Each of A's keys, next to a key of the same shape that exists nowhere.
        let unknown_hex32 = "ffffffffffffffffffffffffffffffff".to_owned();
        let unknown_file = "id=0\nlicensee=nobody\n".to_owned();
        let pairs = [
            (a.license.license_md5.clone(), unknown_hex32.clone()),
            (a.license.license_sha256.clone(), "f".repeat(64)),
            (a.file.clone(), unknown_file),
            (
                a.license.zuora_subscription_id.clone().unwrap(),
                unknown_hex32,
            ),
            (
                a.license.zuora_subscription_name.clone().unwrap(),
                "A-S99999999".to_owned(),
            ),
            (
                a.uuid.clone(),
                "00000000-0000-4000-8000-000000000000".to_owned(),
            ),
            (a.hostname.clone(), "nowhere.example.net".to_owned()),
        ];
        // What one lookup costs the gateway: SQL statements, calls to the version service.
        let spent = |before: (u64, u64)| {
            (
                gateway.statements() - before.0,
                version.entities_calls() - before.1,
            )
        };
        for (theirs, nobodys) in pairs {
            let before = (gateway.statements(), version.entities_calls());
            let other = as_b(theirs.clone()).await;
            let other_cost = spent(before);
            let before = (gateway.statements(), version.entities_calls());
            let unknown = as_b(nobodys).await;
            let unknown_cost = spent(before);
            assert_eq!(other_cost, unknown_cost, "{backend:?}: {theirs:?}");
            assert!(other["errors"].is_null(), "{backend:?}: {other}");
            assert!(
                matches(&other).is_empty(),
                "{backend:?}: {theirs:?} {other}"
            );
            assert_eq!(other, unknown, "{backend:?}: {theirs:?}");
            // The same key finds A's license or server for staff: the emptiness is the scope.
            assert!(!matches(&gateway.query(LOOKUP, json!({"text": theirs})).await).is_empty());
        }

        // B's own keys find B's license and server.
        let own = as_b(b.license.license_md5.clone()).await;
        assert_eq!(
            matches(&own),
            [license_match("LICENSE_MD5", b.license.id, b.customer)],
            "{backend:?}"
        );
        let own = as_b(b.uuid.clone()).await;
        assert_eq!(matches(&own).len(), 1, "{backend:?}: {own}");
        assert_eq!(matches(&own)[0].2.as_deref(), Some(b.hostname.as_str()));

        // A server only pings know of is staff's to see.
        let stray = "1f8fad5b-d9cb-469f-a165-70867728950e";
        ping(&gateway, &version, stray, "stray.example.org").await;
        assert!(matches(&as_b(stray.to_owned()).await).is_empty());
        assert!(matches(&as_b("stray.example.org".to_owned()).await).is_empty());
    }
}

#[tokio::test]
async fn a_lookup_masks_personal_data_as_every_other_field_does() {
    for backend in backends() {
        let (gateway, version) = pair(backend).await;
        let a = customer(&gateway, &version, "Lookup Alpha", 31).await;
        let licensee = r#"query($id: ID!) { license(id: $id) { licensee { name email } } }"#;
        for role in ["viewer", "sales", "support", "admin"] {
            let token = gateway.token(&[role], &[]);
            let looked_up = gateway
                .query_as(&token, LOOKUP, json!({"text": a.license.license_sha256}))
                .await;
            let direct = gateway
                .query_as(&token, licensee, json!({"id": a.license.id.to_string()}))
                .await;
            assert_eq!(
                looked_up["data"]["lookup"]["matches"][0]["license"]["licensee"],
                direct["data"]["license"]["licensee"],
                "{backend:?} {role}: {looked_up}"
            );
        }
        // The masks differ between roles, so the comparison above compared something.
        let viewer = gateway.token(&["viewer"], &[]);
        let masked = gateway
            .query_as(&viewer, LOOKUP, json!({"text": a.license.license_sha256}))
            .await;
        assert_ne!(
            masked["data"]["lookup"]["matches"][0]["license"]["licensee"]["email"],
            a.license.licensee_email.as_str(),
            "{backend:?}: {masked}"
        );
    }
}

/// The dashboard's search box, in headless Chromium: a license MD5 pasted into it finds the
/// license and opens its customer; a license file pasted whole (line breaks and all, which a
/// one-line input would drop) finds its license too. Each search is one GraphQL request.
#[tokio::test]
async fn the_search_box_finds_a_license_by_a_pasted_md5_or_license_file() {
    use crate::browser::{customer_view_loaded, open_signed_in, save_screenshot, seeded_servers};
    use e2e_tests::browser::{Browser, find};
    use fantoccini::key::Key;

    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, _version) = seeded_servers().await;
    let db = &gateway.state.db;
    // A license of another customer than the first, so that opening it proves the link.
    let wanted = license::Entity::find()
        .filter(license::Column::CustomerId.ne(1))
        .order_by_desc(license::Column::IssuedAt)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let customer = entity::customer::Entity::find_by_id(wanted.customer_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    open_signed_in(client, &gateway).await;
    let requests =
        "return window.__graphqlOperations.filter((o) => o === 'DashboardSearch').length;";

    // Pasted: the text goes in as one insertion (what a paste of one line does), not typed.
    let search = find(client, "#search").await;
    search.click().await.unwrap();
    client
        .execute(
            "document.execCommand('insertText', false, arguments[0]);",
            vec![json!(format!(" {} ", wanted.license_md5))],
        )
        .await
        .unwrap();
    let selector = format!("a.lookup-result[data-license-id='{}']", wanted.id);
    let result = find(client, &selector).await;
    let text = result.text().await.unwrap();
    assert!(text.contains(&format!("License {}", wanted.id)), "{text}");
    assert!(text.contains(&customer.name), "{text}");
    assert!(text.contains("by license MD5"), "{text}");
    assert_eq!(
        result.attr("data-customer-id").await.unwrap(),
        Some(customer.id.to_string())
    );
    assert_eq!(client.execute(requests, vec![]).await.unwrap(), json!(1));
    save_screenshot(client, "lookup-md5").await;
    search.send_keys(&Key::Down).await.unwrap();
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter)
        .await
        .unwrap();
    assert_eq!(customer_view_loaded(client).await, "complete");
    assert_eq!(
        find(client, "#customer-name").await.text().await.unwrap(),
        customer.name
    );

    // A license file pasted whole: the page keeps its line breaks and looks it up.
    let file = format!(
        "id={}\nlicensee={}\nplan=premium\n",
        wanted.id, customer.name
    );
    let mut change: license::ActiveModel = wanted.clone().into();
    change.license_sha256 = Set(hex(&Sha256::digest(file.as_bytes())));
    change.update(db).await.unwrap();
    let search = find(client, "#search").await;
    search.clear().await.unwrap();
    client
        .execute(
            "const data = new DataTransfer();
             data.setData('text/plain', arguments[0]);
             document.getElementById('search').dispatchEvent(
               new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));",
            vec![json!(file)],
        )
        .await
        .unwrap();
    let result = find(client, &format!("{selector}[data-kind='LICENSE_FILE']")).await;
    assert!(result.text().await.unwrap().contains("by license file"));
    assert_eq!(
        search.prop("value").await.unwrap().as_deref(),
        Some("License file (3 lines)")
    );
    assert_eq!(client.execute(requests, vec![]).await.unwrap(), json!(2));
}

#[tokio::test]
async fn with_the_version_service_stopped_digests_still_answer_and_a_uuid_is_an_error_alone() {
    let (gateway, mut version) = pair(Backend::Sqlite).await;
    let a = customer(&gateway, &version, "Lookup Alpha", 41).await;
    version.stop().await;
    let both = r#"query($text: String!) {
        lookup(text: $text) { kinds matches { kind license { id } server { name } } }
        customers(search: "Lookup Alpha") { nodes { id } } }"#;

    let found = gateway
        .query(both, json!({"text": a.license.license_md5}))
        .await;
    assert_eq!(
        matches(&found),
        [(
            "LICENSE_MD5".to_owned(),
            Some(a.license.id.to_string()),
            None,
            None
        )],
        "a digest needs no version service: {found}"
    );

    let found = gateway.query(both, json!({"text": a.uuid})).await;
    assert!(found["data"]["lookup"].is_null(), "{found}");
    let codes = error_codes(&found);
    assert_eq!(codes.len(), 1, "{found}");
    assert!(codes[0].starts_with("UPSTREAM_"), "{found}");
    assert_eq!(
        found["data"]["customers"]["nodes"][0]["id"],
        a.customer.to_string(),
        "the rest of the request still answers: {found}"
    );
}
