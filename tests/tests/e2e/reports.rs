//! The trials report and the CSV exports end to end: a real gateway on port 0 over a seeded
//! database, on SQLite and (with TEST_DATABASE_URL) PostgreSQL. The report's figures are checked
//! against the licenses as the database holds them, counted here independently.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use e2e_tests::{Backend, Gateway, backends, error_codes};
use entity::license;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn seeded_gateway(backend: Backend) -> Gateway {
    super::license_graph::seeded_gateway(backend, 150).await
}

const REPORT: &str = r#"query($from: NaiveDate!, $to: NaiveDate!, $by: TrialGrouping!, $within: Int) {
  trialsReport(from: $from, to: $to, groupBy: $by, convertedWithinDays: $within) {
    from to groupBy convertedWithinDays issued converted conversionRate
    groups {
      period periodEnd plan issued converted
      trials(first: 100) { daysToConvert license { id trial customer { id name } } convertedTo { id trial } }
    }
  }
}"#;

/// The README's trials report query ("Ask it"), verbatim.
const README_TRIALS: &str = r#"{
  trialsReport(from: "2026-07-01", to: "2026-09-30", groupBy: MONTH, convertedWithinDays: 90) {
    issued converted conversionRate
    groups {
      period plan issued converted conversionRate
      trials(converted: true, first: 20) { daysToConvert license { id customer { name } } convertedTo { id plan issuedAt } }
    }
  }
}"#;

/// What the report should say, counted from every license in the database: per (period start,
/// plan), the trials issued and (trial id → the first paid license of its customer issued at or
/// after it and at most `within` days later).
pub(crate) type Expected = BTreeMap<(NaiveDate, String), Vec<(i64, Option<i64>)>>;

pub(crate) async fn expected(
    gateway: &Gateway,
    from: NaiveDate,
    to: NaiveDate,
    week: bool,
    within: i64,
) -> Expected {
    let all = license::Entity::find()
        .all(&gateway.state.db)
        .await
        .unwrap();
    let mut trials: Vec<&license::Model> = all
        .iter()
        .filter(|l| {
            let day = l.issued_at.date_naive();
            l.trial && day >= from && day <= to
        })
        .collect();
    trials.sort_by_key(|l| (l.issued_at, l.id));
    let mut out = Expected::new();
    for trial in trials {
        let paid = all
            .iter()
            .filter(|p| {
                !p.trial
                    && p.customer_id == trial.customer_id
                    && p.issued_at >= trial.issued_at
                    && p.issued_at <= trial.issued_at + Duration::days(within)
            })
            .min_by_key(|p| (p.issued_at, p.id))
            .map(|p| p.id);
        let day = trial.issued_at.date_naive();
        let period = if week {
            day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
        } else {
            day.with_day(1).unwrap()
        };
        let plan = format!("{:?}", trial.plan).to_uppercase();
        out.entry((period, plan))
            .or_default()
            .push((trial.id, paid));
    }
    out
}

/// The report's groups in the shape of [`Expected`].
fn answered(report: &Value) -> Expected {
    let mut out = Expected::new();
    for group in report["groups"].as_array().unwrap() {
        let period: NaiveDate = group["period"].as_str().unwrap().parse().unwrap();
        let plan = group["plan"].as_str().unwrap().to_owned();
        let trials: Vec<(i64, Option<i64>)> = group["trials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                assert_eq!(t["license"]["trial"], true, "{t}");
                let id = t["license"]["id"].as_str().unwrap().parse().unwrap();
                let paid = t["convertedTo"]["id"].as_str().map(|s| s.parse().unwrap());
                if paid.is_some() {
                    assert_eq!(t["convertedTo"]["trial"], false, "{t}");
                }
                (id, paid)
            })
            .collect();
        assert_eq!(
            group["issued"].as_u64().unwrap() as usize,
            trials.len(),
            "{group}"
        );
        assert_eq!(
            group["converted"].as_u64().unwrap() as usize,
            trials.iter().filter(|(_, p)| p.is_some()).count(),
            "{group}"
        );
        out.insert((period, plan), trials);
    }
    out
}

#[tokio::test]
async fn the_trials_report_counts_what_the_licenses_say_on_both_databases() {
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        let to = today();
        let from = to - Duration::days(365);
        for (by, week, within) in [("MONTH", false, 90), ("WEEK", true, 60)] {
            let response = gateway
                .query(
                    REPORT,
                    json!({"from": from, "to": to, "by": by, "within": within}),
                )
                .await;
            let report = &response["data"]["trialsReport"];
            assert!(report.is_object(), "{response}");
            let want = expected(&gateway, from, to, week, within).await;
            let issued: usize = want.values().map(Vec::len).sum();
            let converted: usize = want.values().flatten().filter(|(_, p)| p.is_some()).count();
            assert!(issued > 10, "too few trials to test with: {issued}");
            assert!(converted > 0 && converted < issued, "{converted}/{issued}");
            assert_eq!(report["issued"], issued, "{by}");
            assert_eq!(report["converted"], converted, "{by}");
            assert_eq!(report["convertedWithinDays"], within);
            assert_eq!(answered(report), want, "{by} within {within} days");
        }

        // Acme's trial became its paid license 43 days later: converted within 90 days, not 30.
        let acme_trials = |report: &Value| -> Vec<Value> {
            report["groups"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|g| g["trials"].as_array().unwrap().clone())
                .filter(|t| t["license"]["customer"]["name"] == "Acme Inc")
                .collect()
        };
        for (within, converts) in [(90, true), (30, false)] {
            let response = gateway
                .query(
                    REPORT,
                    json!({"from": to - Duration::days(365), "to": to, "by": "MONTH", "within": within}),
                )
                .await;
            let trials = acme_trials(&response["data"]["trialsReport"]);
            assert_eq!(trials.len(), 1, "{response}");
            assert_eq!(trials[0]["convertedTo"].is_object(), converts, "{trials:?}");
            if converts {
                assert_eq!(trials[0]["daysToConvert"], 43, "{trials:?}");
            }
        }

        // The README's example runs as written.
        let response = gateway.query(README_TRIALS, json!({})).await;
        assert!(response["errors"].is_null(), "{response}");
        assert!(response["data"]["trialsReport"]["groups"].is_array());

        // A customer-scoped caller counts its own trials only.
        let token = gateway.token(&["customer"], &[1]);
        let response = gateway
            .query_as(
                &token,
                REPORT,
                json!({"from": to - Duration::days(365), "to": to, "by": "MONTH"}),
            )
            .await;
        assert_eq!(response["data"]["trialsReport"]["issued"], 1, "{response}");
        assert_eq!(response["data"]["trialsReport"]["converted"], 1);

        // Bounds: a period longer than 366 days, a window of 0 days, `to` before `from`.
        for variables in [
            json!({"from": to - Duration::days(366), "to": to, "by": "MONTH"}),
            json!({"from": from, "to": to, "by": "MONTH", "within": 0}),
            json!({"from": to, "to": from, "by": "WEEK"}),
        ] {
            let response = gateway.query(REPORT, variables).await;
            assert_eq!(error_codes(&response), ["BAD_USER_INPUT"], "{response}");
        }
        let response = gateway
            .query(
                "query($f: NaiveDate!, $t: NaiveDate!) { trialsReport(from: $f, to: $t, groupBy: MONTH) { groups { trials(first: 101) { daysToConvert } } } }",
                json!({"f": from, "t": to}),
            )
            .await;
        let codes = error_codes(&response);
        assert!(!codes.is_empty(), "{response}");
        assert!(codes.iter().all(|c| c == "PAGE_TOO_LARGE"), "{response}");
    }
}

/// The CSV's rows (the byte-order mark dropped), parsed as RFC 4180.
fn rows(body: &str) -> Vec<Vec<String>> {
    let body = body
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn get(gateway: &Gateway, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = gateway.client().get(gateway.url(path));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap()
}

/// Whether a cell, as a spreadsheet reading it would see it, starts a formula.
fn runs_as_formula(cell: &str) -> bool {
    let cell = cell.trim_start_matches(' ').trim_start_matches('"');
    cell.starts_with([
        '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}', '\t', '\r',
    ])
}

/// Every field of `body` as a reader splitting on `delimiter` sees it (the byte-order mark
/// dropped), whatever the quotes it meets.
fn fields(body: &str, delimiter: u8) -> Vec<String> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

#[tokio::test]
async fn a_csv_runs_no_formula_whether_a_spreadsheet_splits_on_commas_or_semicolons() {
    use entity::contact;
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        let license = license::Entity::find()
            .all(&gateway.state.db)
            .await
            .unwrap()
            .into_iter()
            .find(|l| l.customer_id == 1)
            .unwrap();
        let mut owner = contact::Entity::find_by_id(license.contact_id)
            .one(&gateway.state.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        owner.name = Set("Bob;=1+1".to_owned());
        owner.update(&gateway.state.db).await.unwrap();
        let mut hostile = license.into_active_model();
        hostile.licensee_name = Set("\u{FF1D}1+1".to_owned());
        hostile.licensee_company = Set("Acme,@SUM(A1);\t-2\n+3".to_owned());
        hostile.update(&gateway.state.db).await.unwrap();

        let support = gateway.token(&["support"], &[]);
        let body = get(&gateway, "/export/customers/1/licenses.csv", Some(&support))
            .await
            .text()
            .await
            .unwrap();
        // Every cell quoted: each record starts with a quote, the text cells are in quotes.
        let text = body.trim_start_matches('\u{feff}');
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for record in reader.records() {
            let start = record.unwrap().position().unwrap().byte() as usize;
            assert_eq!(&text[start..start + 1], "\"", "{}", &text[start..]);
        }
        assert!(text.contains(",\"Bob;'=1+1\","), "{text}");
        // Read as written (commas): the values, each made inert where a cell could start.
        let table = rows(&body);
        let header = &table[0];
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let cells = |name: &str| -> Vec<String> {
            table[1..].iter().map(|r| r[column(name)].clone()).collect()
        };
        assert!(cells("contact_name").contains(&"Bob;'=1+1".to_owned()));
        assert!(cells("licensee_name").contains(&"'\u{FF1D}1+1".to_owned()));
        assert!(
            cells("licensee_company").contains(&"Acme,'@SUM(A1);'\t'-2\n'+3".to_owned()),
            "{:?}",
            cells("licensee_company")
        );
        // Read with `,` and with `;` (and tab) as the list separator: no field starts a formula.
        for delimiter in [b',', b';', b'\t'] {
            let formulas: Vec<String> = fields(&body, delimiter)
                .into_iter()
                .filter(|f| runs_as_formula(f))
                .collect();
            assert!(
                formulas.is_empty(),
                "{backend:?}, separator {:?}: {formulas:?}",
                delimiter as char
            );
        }
    }
}

#[tokio::test]
async fn exports_are_csv_masked_for_viewers_and_safe_in_a_spreadsheet() {
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        // A licensee company a spreadsheet would run as a formula, with a comma and quotes.
        let acme_licenses: Vec<license::Model> = license::Entity::find()
            .all(&gateway.state.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|l| l.customer_id == 1)
            .collect();
        let mut first = acme_licenses[0].clone().into_active_model();
        first.licensee_company = Set("=HYPERLINK(\"http://evil\"), \"Acme\"".to_owned());
        first.update(&gateway.state.db).await.unwrap();

        let support = gateway.token(&["support"], &[]);
        let response = get(&gateway, "/export/customers/1/licenses.csv", Some(&support)).await;
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            headers["content-disposition"],
            "attachment; filename=\"customer-1-licenses.csv\""
        );
        let table = rows(&response.text().await.unwrap());
        let header = &table[0];
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(table.len(), 1 + acme_licenses.len(), "{table:?}");
        let ids: Vec<&str> = table[1..]
            .iter()
            .map(|r| r[column("license_id")].as_str())
            .collect();
        for license in &acme_licenses {
            assert!(ids.contains(&license.id.to_string().as_str()), "{ids:?}");
        }
        let emails: Vec<&str> = table[1..]
            .iter()
            .map(|r| r[column("contact_email")].as_str())
            .collect();
        assert!(emails.contains(&"jane.doe@acmeinc.com"), "{emails:?}");
        let servers: Vec<&str> = table[1..]
            .iter()
            .map(|r| r[column("servers")].as_str())
            .collect();
        assert!(servers.contains(&"gitlab.acmeinc.com"), "{servers:?}");
        let companies: Vec<&str> = table[1..]
            .iter()
            .map(|r| r[column("licensee_company")].as_str())
            .collect();
        assert!(
            companies.contains(&"'=HYPERLINK(\"http://evil\"), \"Acme\""),
            "{companies:?}"
        );

        // A viewer sees people masked, as in the graph.
        let viewer = gateway.token(&["viewer"], &[]);
        let body = get(&gateway, "/export/customers/1/licenses.csv", Some(&viewer))
            .await
            .text()
            .await
            .unwrap();
        let masked = rows(&body);
        let emails: Vec<&str> = masked[1..]
            .iter()
            .map(|r| r[column("contact_email")].as_str())
            .collect();
        assert!(emails.contains(&"j***@acmeinc.com"), "{emails:?}");
        assert!(!body.contains("jane.doe"), "{body}");
        assert!(!body.contains("Jane Doe"), "{body}");

        // Without credentials: 401; another customer's scope: 404; a bad id: 400.
        assert_eq!(
            get(&gateway, "/export/customers/1/licenses.csv", None)
                .await
                .status(),
            401
        );
        let other = gateway.token(&["customer"], &[2]);
        assert_eq!(
            get(&gateway, "/export/customers/1/licenses.csv", Some(&other))
                .await
                .status(),
            404
        );
        assert_eq!(
            get(&gateway, "/export/customers/x/licenses.csv", Some(&support))
                .await
                .status(),
            400
        );

        // The trials behind the report, one row each, as the report counts them.
        let to = today();
        let from = to - Duration::days(365);
        let path =
            format!("/export/trials.csv?from={from}&to={to}&groupBy=month&convertedWithinDays=90");
        let response = get(&gateway, &path, Some(&support)).await;
        assert_eq!(response.status(), 200);
        let table = rows(&response.text().await.unwrap());
        let want = expected(&gateway, from, to, false, 90).await;
        let mut exported: Vec<(i64, Option<i64>)> = table[1..]
            .iter()
            .map(|r| {
                (
                    r[2].parse().unwrap(),
                    (!r[11].is_empty()).then(|| r[11].parse().unwrap()),
                )
            })
            .collect();
        let mut wanted: Vec<(i64, Option<i64>)> = want.values().flatten().copied().collect();
        exported.sort_unstable();
        wanted.sort_unstable();
        assert_eq!(table[0][2], "trial_license_id");
        assert_eq!(table[0][11], "converted_license_id");
        assert_eq!(exported, wanted);
        let acme = table.iter().find(|r| r[4] == "Acme Inc").unwrap();
        assert_eq!(acme[10], "yes", "{acme:?}");

        let bad = get(
            &gateway,
            &format!(
                "/export/trials.csv?from={}&to={to}",
                to - Duration::days(400)
            ),
            Some(&support),
        )
        .await;
        assert_eq!(bad.status(), 400);
        let body: Value = bad.json().await.unwrap();
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    }
}

#[tokio::test]
async fn exports_take_the_browser_session_and_refuse_a_cross_site_request() {
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        // A browser signed in as a viewer, through a one-time sign-in link (as `licensedot demo`).
        let viewer = auth::Viewer {
            subject: "e2e-viewer".to_owned(),
            email: None,
            role: auth::Role::Viewer,
            roles: vec![auth::Role::Viewer],
            customer_ids: Vec::new(),
        };
        let link = gateway.state.sso.sign_in_link(&viewer).await.unwrap();
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let signed_in = browser.get(gateway.url(&link)).send().await.unwrap();
        assert!(signed_in.status().is_redirection(), "{signed_in:?}");

        let export = gateway.url("/export/customers/1/licenses.csv");
        let response = browser
            .get(&export)
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.text().await.unwrap();
        assert!(
            body.contains("j***@acmeinc.com"),
            "masked for a viewer: {body}"
        );
        assert!(!body.contains("jane.doe@"), "{body}");

        // Another site cannot make the browser download it with the session.
        let response = browser
            .get(&export)
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_codes(&body), ["CROSS_SITE_REQUEST"], "{body}");
    }
}

/// How the database plans the report's one statement, one line per step.
async fn plan(
    db: &sea_orm::DatabaseConnection,
    statement: &sea_orm::sea_query::SelectStatement,
) -> String {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    let backend = db.get_database_backend();
    let built = backend.build(statement);
    let values = built
        .values
        .clone()
        .unwrap_or_else(|| sea_orm::Values(Vec::new()));
    let mut lines = Vec::new();
    if backend == DbBackend::Postgres {
        // With the few rows of a test a sequential scan is cheapest; the question is whether
        // the indexes can serve the query, as they must on 500,000 licenses.
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .unwrap();
        let explain =
            Statement::from_sql_and_values(backend, format!("EXPLAIN {}", built.sql), values);
        for row in txn.query_all_raw(explain).await.unwrap() {
            lines.push(row.try_get::<String>("", "QUERY PLAN").unwrap());
        }
        txn.rollback().await.unwrap();
    } else {
        let explain = Statement::from_sql_and_values(
            backend,
            format!("EXPLAIN QUERY PLAN {}", built.sql),
            values,
        );
        for row in db.query_all_raw(explain).await.unwrap() {
            lines.push(row.try_get::<String>("", "detail").unwrap());
        }
    }
    lines.join("\n")
}

#[tokio::test]
async fn the_trials_report_reads_through_its_indexes_on_both_databases() {
    for backend in backends() {
        let gateway = seeded_gateway(backend).await;
        let to = today();
        let query = licenses::trials::TrialsQuery::new(
            to - Duration::days(90),
            to,
            licenses::trials::GroupBy::Month,
            None,
        )
        .unwrap();
        let statement = licenses::trials::statement(&licenses::Scope::All, &query);
        let plan = plan(&gateway.state.db, &statement).await;
        // The trials by (trial, issued_at); each one's paid licenses by customer.
        assert!(
            plan.contains("licenses_trial_issued_idx"),
            "{backend:?}: {plan}"
        );
        assert!(
            plan.contains("licenses_customer_trial_issued_idx")
                || plan.contains("licenses_customer_issued_idx"),
            "{backend:?}: {plan}"
        );
        assert!(
            !plan.contains("Seq Scan") && !plan.contains("SCAN "),
            "{backend:?}: {plan}"
        );
    }
}
