//! The scenarios: the GraphQL request the gateway gets, and the floor, the same SQL through the
//! `licenses` crate plus one direct `_entities` call to the version service.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use licenses::{LicenseFilter, PageRequest, Scope};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use crate::dataset::Params;
use crate::encoding;
use crate::load::{Call, pick};

/// A scenario of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    Dashboard,
    /// The dashboard page's own customer view (its `CUSTOMER_QUERY`: audit events and a year
    /// of pings per server besides the dashboard scenario's fields); gateway only, no floor.
    CustomerView,
    Search,
    Hostname,
    /// The trials report of one quarter, by month.
    Trials,
    /// The dashboard of the scale customer with this many licenses.
    Scale(u32),
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scenario::Dashboard => f.write_str("dashboard"),
            Scenario::CustomerView => f.write_str("customer-view"),
            Scenario::Search => f.write_str("search"),
            Scenario::Hostname => f.write_str("hostname"),
            Scenario::Trials => f.write_str("trials"),
            Scenario::Scale(n) => write!(f, "scale-{n}"),
        }
    }
}

pub const DASHBOARD: &str = "query Dashboard($id: ID!) { customer(id: $id) { name \
  contacts { name email } activeLicense { id } \
  licenses { id plan status usersCount trial issuedAt startsAt expiresAt daysUntilExpiry \
    contact { name email } licensee { name email company } \
    hostnames { name lastUsagePingAt latestUsagePing { recordedAt version edition activeUserCount historicalMaxUsers } } \
    reportingHosts { name attached lastUsagePingAt latestUsagePing { version activeUserCount } } \
    utilization { licensedUsers maxActiveUsers ratio overLicensed } } } }";

/// `CUSTOMER_QUERY` of `crates/gateway/assets/dashboard.js`, its `PING_FIELDS` and
/// `CHART_PINGS` (52) written out.
pub const CUSTOMER_VIEW: &str = "query DashboardCustomer($id: ID!) { customer(id: $id) { \
  id name country contacts { id name email } activeLicense { id } \
  licenses { id plan usersCount trial issuedAt startsAt expiresAt status daysUntilExpiry \
    version viewerCanChangeContact contact { id name email } \
    auditEvents { id occurredAt actor { subject email role } oldContact { name email } newContact { name email } reason } \
    licensee { name email company } \
    hostnames { name lastUsagePingAt \
      latestUsagePing { recordedAt version edition installationType activeUserCount historicalMaxUsers licenseId } \
      usagePings(last: 52) { recordedAt version activeUserCount historicalMaxUsers } } \
    reportingHosts { name attached lastUsagePingAt \
      latestUsagePing { recordedAt version edition installationType activeUserCount historicalMaxUsers licenseId } } \
    utilization { licensedUsers maxActiveUsers ratio overLicensed } } } }";

pub const SEARCH: &str = "query Search($s: String!) { licenses(search: $s, first: 20) { \
  totalCount nodes { id licensee { company } customer { name } status } } }";

pub const HOSTNAME: &str = "query Hostname($n: String!) { hostname(name: $n) { name \
  licenses { id status customer { name } } lastUsagePingAt } }";

pub const TRIALS: &str = "query Trials($from: NaiveDate!, $to: NaiveDate!) { \
  trialsReport(from: $from, to: $to, groupBy: MONTH) { issued converted conversionRate \
    groups { period plan issued converted conversionRate } } }";

/// How many quarters back the trials scenario goes (request `seq` asks for quarter `seq % 8`).
const TRIAL_QUARTERS: u64 = 8;

/// The quarter (91 days) of request `seq`: the latest, or one up to two years earlier.
fn trials_period(seq: u64) -> (chrono::NaiveDate, chrono::NaiveDate) {
    let back = i64::try_from(seq % TRIAL_QUARTERS).unwrap_or(0);
    let to = chrono::Utc::now().date_naive() - chrono::Duration::days(91 * back);
    (to - chrono::Duration::days(90), to)
}

/// The `_entities` query the gateway renders for the dashboard selection (see the gateway's
/// `upstream::selection`: the four always-fetched ping fields first, then the rest sorted).
pub const DASHBOARD_ENTITIES: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { __typename \
  ... on Hostname { name lastUsagePingAt latestUsagePing { recordedAt receivedAt uuid hostname activeUserCount edition historicalMaxUsers version } } \
  ... on License { id reportingHosts { hostname firstUsagePingAt lastUsagePingAt current latestUsagePing { recordedAt receivedAt uuid hostname activeUserCount version } } } } }";

/// The `_entities` query for the hostname scenario.
pub const HOSTNAME_ENTITIES: &str = "query($representations: [_Any!]!) { _entities(representations: $representations) { __typename \
  ... on Hostname { name lastUsagePingAt } ... on License { id } } }";

/// What both sides need.
pub struct Env {
    pub http: reqwest::Client,
    pub token: String,
    pub version_url: String,
    pub service_token: String,
    pub db: DatabaseConnection,
    pub params: Params,
    /// Gateway answers' bytes as received (bodies still compressed, if they were), and their
    /// status lines and headers: phases read the difference.
    pub body_bytes: AtomicU64,
    pub header_bytes: AtomicU64,
}

/// Which gateway a call goes to, and whether it asks for compressed answers.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub accept_encoding: Option<String>,
}

/// One gateway answer: status, the body decoded and parsed, and how it came.
pub struct Answer {
    pub status: reqwest::StatusCode,
    pub body: Value,
    /// The `Content-Encoding` the gateway chose, if any.
    pub content_encoding: Option<String>,
    /// The body's size as received, and decoded.
    pub wire_bytes: u64,
    pub plain_bytes: u64,
}

/// Sends one GraphQL request to `target`, counting the answer's bytes in `env`.
pub async fn ask(env: &Env, target: &Target, body: &Value) -> anyhow::Result<Answer> {
    let mut request = env
        .http
        .post(&target.url)
        .bearer_auth(&env.token)
        .header("accept", "application/graphql-response+json")
        .json(body);
    if let Some(accept_encoding) = &target.accept_encoding {
        request = request.header("accept-encoding", accept_encoding);
    }
    let response = request.send().await?;
    let status = response.status();
    let headers = encoding::header_bytes(status, response.headers());
    let content_encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let raw = response.bytes().await?;
    env.body_bytes
        .fetch_add(raw.len() as u64, Ordering::Relaxed);
    env.header_bytes.fetch_add(headers, Ordering::Relaxed);
    let plain = encoding::decode(content_encoding.as_deref(), &raw)?;
    let body: Value = serde_json::from_slice(&plain).context("response is not JSON")?;
    Ok(Answer {
        status,
        body,
        content_encoding,
        wire_bytes: raw.len() as u64,
        plain_bytes: plain.len() as u64,
    })
}

impl Scenario {
    /// Whether the scenario has a floor to compare with.
    pub fn has_floor(self) -> bool {
        self != Scenario::CustomerView
    }

    /// The GraphQL request for sequence number `seq`, and the root field that must be non-null.
    pub fn request(self, params: &Params, seq: u64) -> (Value, &'static str) {
        match self {
            Scenario::CustomerView => {
                let id = params.dashboard_customers[pick(seq, params.dashboard_customers.len())];
                (
                    json!({"query": CUSTOMER_VIEW, "variables": {"id": id.to_string()}}),
                    "customer",
                )
            }
            Scenario::Dashboard => {
                let id = params.dashboard_customers[pick(seq, params.dashboard_customers.len())];
                (
                    json!({"query": DASHBOARD, "variables": {"id": id.to_string()}}),
                    "customer",
                )
            }
            Scenario::Scale(n) => {
                let id = params.scale.get(&n).copied().unwrap_or_default();
                (
                    json!({"query": DASHBOARD, "variables": {"id": id.to_string()}}),
                    "customer",
                )
            }
            Scenario::Search => {
                let s = &params.fragments[pick(seq, params.fragments.len())];
                (json!({"query": SEARCH, "variables": {"s": s}}), "licenses")
            }
            Scenario::Hostname => {
                let n = &params.hostnames[pick(seq, params.hostnames.len())];
                (
                    json!({"query": HOSTNAME, "variables": {"n": n}}),
                    "hostname",
                )
            }
            Scenario::Trials => {
                let (from, to) = trials_period(seq);
                (
                    json!({"query": TRIALS, "variables": {"from": from, "to": to}}),
                    "trialsReport",
                )
            }
        }
    }
}

/// Checks a GraphQL response: no errors, and `data.<root>` present and non-null.
pub fn check_response(body: &Value, root: &str) -> anyhow::Result<()> {
    if let Some(errors) = body.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        anyhow::bail!("errors in the response: {}", Value::Array(errors.clone()));
    }
    match body.get("data").and_then(|d| d.get(root)) {
        Some(v) if !v.is_null() => Ok(()),
        _ => anyhow::bail!("no data.{root} in the response: {body}"),
    }
}

/// Checks a gateway answer of `scenario`: HTTP 200-class, `data.<root>` non-null, no errors,
/// and for search and trials that something was found.
pub fn check_answer(scenario: Scenario, root: &str, answer: &Answer) -> anyhow::Result<()> {
    let (status, body) = (answer.status, &answer.body);
    anyhow::ensure!(status.is_success(), "HTTP {status}: {body}");
    check_response(body, root)?;
    if scenario == Scenario::Search {
        let total = body["data"]["licenses"]["totalCount"].as_u64().unwrap_or(0);
        anyhow::ensure!(total > 0, "search found nothing: {body}");
    }
    if scenario == Scenario::Trials {
        let issued = body["data"]["trialsReport"]["issued"].as_u64().unwrap_or(0);
        anyhow::ensure!(issued > 0, "no trials in the quarter: {body}");
    }
    Ok(())
}

/// One GraphQL request to the gateway `target`.
pub fn gateway_call(env: &Arc<Env>, scenario: Scenario, target: &Target) -> Call {
    let env = env.clone();
    let target = Arc::new(target.clone());
    Arc::new(move |seq| {
        let (env, target) = (env.clone(), target.clone());
        Box::pin(async move {
            let (body, root) = scenario.request(&env.params, seq);
            let answer = ask(&env, &target, &body).await?;
            check_answer(scenario, root, &answer)
        })
    })
}

/// The `_entities` representation of a hostname.
fn hostname_key(name: &str) -> Value {
    json!({"__typename": "Hostname", "name": name})
}

/// The `_entities` representation of a license.
fn license_key(license: &entity::license::Model) -> Value {
    json!({"__typename": "License", "id": license.id.to_string(),
           "licenseMd5": license.license_md5, "licenseSha256": license.license_sha256})
}

/// One direct `_entities` call; checks there is one entity per key and no error.
async fn entities(env: &Env, query: &str, representations: Vec<Value>) -> anyhow::Result<()> {
    let keys = representations.len();
    let body = json!({"query": query, "variables": {"representations": representations}});
    let response = env
        .http
        .post(&env.version_url)
        .bearer_auth(&env.service_token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await.context("response is not JSON")?;
    anyhow::ensure!(status.is_success(), "version service HTTP {status}: {body}");
    check_response(&body, "_entities")?;
    let got = body["data"]["_entities"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(got == keys, "{got} entities for {keys} keys");
    Ok(())
}

/// The dashboard's data without GraphQL: the same five statements, as parallel as their
/// dependencies allow, then one `_entities` call with every hostname and license key.
async fn dashboard_floor(env: &Env, customer_id: i64) -> anyhow::Result<()> {
    let db = &env.db;
    let scope = Scope::All;
    let ids = [customer_id];
    let (customers, _contacts, licenses) = futures::try_join!(
        licenses::customers::by_ids(db, &scope, &ids),
        licenses::contacts::by_customer_ids(db, &scope, &ids),
        licenses::issued::by_customer_ids(db, &scope, &ids),
    )?;
    anyhow::ensure!(!customers.is_empty(), "customer {customer_id} not found");
    let contact_ids: Vec<i64> = licenses
        .iter()
        .map(|l| l.contact_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let license_ids: Vec<i64> = licenses.iter().map(|l| l.id).collect();
    let (_contacts, attachments) = futures::try_join!(
        licenses::contacts::by_ids(db, &scope, &contact_ids),
        licenses::hostnames::by_license_ids(db, &scope, &license_ids),
    )?;
    let names: BTreeSet<&str> = attachments
        .iter()
        .map(|a| a.hostname.name.as_str())
        .collect();
    let representations: Vec<Value> = names
        .into_iter()
        .map(hostname_key)
        .chain(licenses.iter().map(license_key))
        .collect();
    if !representations.is_empty() {
        entities(env, DASHBOARD_ENTITIES, representations).await?;
    }
    Ok(())
}

/// The search's data: the page and its count, and the customers of the page.
async fn search_floor(env: &Env, text: &str) -> anyhow::Result<()> {
    let db = &env.db;
    let scope = Scope::All;
    let today = chrono::Utc::now().date_naive();
    let filter = LicenseFilter::default();
    let page = PageRequest::new(Some(20), None, 20, 100)?;
    let search = licenses::Search::parse(Some(text), licenses::SearchFields::All)?;
    let page_and_customers = async {
        let page =
            licenses::issued::search(db, &scope, search.as_ref(), &filter, today, page).await?;
        let customer_ids: Vec<i64> = page
            .items
            .iter()
            .map(|(_, l)| l.customer_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        licenses::customers::by_ids(db, &scope, &customer_ids).await?;
        Ok::<_, licenses::Error>(page.items.len())
    };
    let (found, total) = futures::try_join!(
        page_and_customers,
        licenses::issued::count(db, &scope, search.as_ref(), &filter, today),
    )?;
    anyhow::ensure!(
        found > 0 && total.count > 0,
        "search `{text}` found nothing"
    );
    Ok(())
}

/// The hostname's data: the row, its licenses and their customers, and its usage, the usage
/// call running alongside the SQL since the name is known up front.
async fn hostname_floor(env: &Env, name: &str) -> anyhow::Result<()> {
    let db = &env.db;
    let scope = Scope::All;
    let sql = async {
        let row = licenses::hostnames::by_name(db, &scope, name)
            .await?
            .with_context(|| format!("hostname {name} not found"))?;
        let licenses = licenses::issued::by_hostname_ids(db, &scope, &[row.id]).await?;
        let customer_ids: Vec<i64> = licenses
            .iter()
            .map(|(_, l)| l.customer_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        licenses::customers::by_ids(db, &scope, &customer_ids).await?;
        Ok::<_, anyhow::Error>(())
    };
    futures::try_join!(
        sql,
        entities(env, HOSTNAME_ENTITIES, vec![hostname_key(name)])
    )?;
    Ok(())
}

/// The trials report's data: the one statement of `licenses::trials`, grouped.
async fn trials_floor(env: &Env, seq: u64) -> anyhow::Result<()> {
    let (from, to) = trials_period(seq);
    let query =
        licenses::trials::TrialsQuery::new(from, to, licenses::trials::GroupBy::Month, None)?;
    let report = licenses::trials::report(&env.db, &Scope::All, query).await?;
    anyhow::ensure!(!report.groups().is_empty(), "no trials from {from} to {to}");
    Ok(())
}

/// One floor request.
pub fn floor_call(env: &Arc<Env>, scenario: Scenario) -> Call {
    let env = env.clone();
    Arc::new(move |seq| {
        let env = env.clone();
        Box::pin(async move {
            let p = &env.params;
            match scenario {
                Scenario::Dashboard => {
                    let id = p.dashboard_customers[pick(seq, p.dashboard_customers.len())];
                    dashboard_floor(&env, id).await
                }
                Scenario::CustomerView => {
                    anyhow::bail!("the customer view has no floor")
                }
                Scenario::Scale(n) => {
                    let id = p.scale.get(&n).copied().unwrap_or_default();
                    dashboard_floor(&env, id).await
                }
                Scenario::Search => {
                    let s = &p.fragments[pick(seq, p.fragments.len())];
                    search_floor(&env, s).await
                }
                Scenario::Hostname => {
                    let n = &p.hostnames[pick(seq, p.hostnames.len())];
                    hostname_floor(&env, n).await
                }
                Scenario::Trials => trials_floor(&env, seq).await,
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_need_data_and_no_errors() {
        assert!(check_response(&json!({"data": {"customer": {"name": "x"}}}), "customer").is_ok());
        assert!(check_response(&json!({"data": {"customer": null}}), "customer").is_err());
        assert!(
            check_response(
                &json!({"data": {"customer": {}}, "errors": [{"message": "boom"}]}),
                "customer"
            )
            .is_err()
        );
        assert!(
            check_response(&json!({"data": {"customer": {}}, "errors": []}), "customer").is_ok()
        );
    }
}
