//! The dashboard's pictures in a real browser (headless Chromium, see `browser.rs`): the usage
//! charts and the license timeline of the customer view, and the trials report page. Their
//! numbers and geometry are checked against the data, not just their presence.
//!
//! `LICENSEDOT_WRITE_SCREENSHOTS=1` also copies the screenshots the README and docs/ show into
//! `docs/` (`dashboard.png`, `trials-report.png`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use e2e_tests::Gateway;
use e2e_tests::browser::{Browser, find};
use fantoccini::Client;
use serde_json::{Value, json};

use super::browser::{
    customer_view_loaded, graphql_requests, open_signed_in, save_screenshot, search_and_open,
    seeded_servers,
};

/// Copies a screenshot into `docs/` when asked to (the committed images come from a real run).
fn publish(screenshot: &Path, name: &str) {
    if std::env::var("LICENSEDOT_WRITE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::copy(screenshot, docs.join(name)).unwrap();
        eprintln!("published {name}");
    }
}

/// Runs `script` (a function body returning JSON) in the page.
async fn eval(client: &Client, script: &str) -> Value {
    client.execute(script, vec![]).await.unwrap()
}

fn day_ms(day: &str) -> f64 {
    let date: NaiveDate = day.parse().unwrap();
    date.and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis() as f64
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.01
}

const TRUTH: &str = r##"query($id: ID!) { customer(id: $id) { licenses {
  id trial plan usersCount startsAt expiresAt
  hostnames { name usagePings(last: 52) { recordedAt version activeUserCount historicalMaxUsers } }
} } }"##;

#[tokio::test]
async fn the_customer_view_draws_usage_and_licenses_as_the_data_says_in_one_request() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, _version) = seeded_servers().await;
    client.set_window_size(1280, 1700).await.unwrap();

    open_signed_in(client, &gateway).await;
    search_and_open(client, "Acme", "Acme Inc").await;
    assert_eq!(customer_view_loaded(client).await, "complete");
    // The charts came in the customer view's one request.
    assert_eq!(graphql_requests(client).await, (1, 1));

    let truth = gateway.query(TRUTH, json!({"id": "1"})).await;
    let licenses = truth["data"]["customer"]["licenses"].as_array().unwrap();

    // ---- Usage of gitlab.acmeinc.com: every ping, its numbers and where it is drawn.
    let host = "gitlab.acmeinc.com";
    let pings: Vec<Value> = licenses
        .iter()
        .flat_map(|l| l["hostnames"].as_array().unwrap().clone())
        .find(|h| h["name"] == host)
        .unwrap()["usagePings"]
        .as_array()
        .unwrap()
        .clone();
    assert!(pings.len() >= 10, "the demo server has months of pings");
    let attached: Vec<&Value> = licenses
        .iter()
        .filter(|l| {
            l["hostnames"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["name"] == host)
        })
        .collect();
    // Seats at an instant: the largest attached license valid then.
    let seats_at = |at: f64| -> Option<i64> {
        attached
            .iter()
            .filter(|l| {
                day_ms(l["startsAt"].as_str().unwrap()) <= at
                    && l["expiresAt"]
                        .as_str()
                        .is_none_or(|expiry| at < day_ms(expiry))
            })
            .map(|l| l["usersCount"].as_i64().unwrap())
            .max()
    };
    let drawn = eval(
        client,
        &format!(
            r##"const fig = document.querySelector("figure.usage-chart[data-hostname='{host}']");
            const svg = fig.querySelector("svg.chart-svg");
            return {{
              box: {{...svg.dataset}},
              points: [...svg.querySelectorAll("circle.point-active")].map((c) => ({{
                cx: Number(c.getAttribute("cx")), cy: Number(c.getAttribute("cy")), ...c.dataset }})),
              seats: svg.querySelector("path.line-seats") ? svg.querySelector("path.line-seats").getAttribute("d") : null,
            }};"##
        ),
    )
    .await;
    let number = |v: &Value| -> f64 {
        v.as_str()
            .map(|s| s.parse().unwrap())
            .unwrap_or_else(|| v.as_f64().unwrap())
    };
    let b = &drawn["box"];
    let (y_max, top, bottom) = (
        number(&b["yMax"]),
        number(&b["plotTop"]),
        number(&b["plotBottom"]),
    );
    let (left, right, t0, t1) = (
        number(&b["plotLeft"]),
        number(&b["plotRight"]),
        number(&b["t0"]),
        number(&b["t1"]),
    );
    let points = drawn["points"].as_array().unwrap();
    assert_eq!(points.len(), pings.len(), "one point per ping");
    let mut by_time: Vec<&Value> = pings.iter().collect();
    by_time.sort_by_key(|p| p["recordedAt"].as_str().unwrap().to_owned());
    let mut highest = 0;
    for (point, ping) in points.iter().zip(&by_time) {
        assert_eq!(point["recordedAt"], ping["recordedAt"], "oldest first");
        assert_eq!(point["version"], ping["version"]);
        let active = ping["activeUserCount"].as_i64().unwrap();
        highest = highest.max(active);
        assert_eq!(point["activeUsers"], active.to_string());
        assert_eq!(
            point["maxUsers"],
            ping["historicalMaxUsers"].as_i64().unwrap().to_string()
        );
        let at = DateTime::parse_from_rfc3339(ping["recordedAt"].as_str().unwrap())
            .unwrap()
            .timestamp_millis() as f64;
        let seats = seats_at(at).map(|s| s.to_string()).unwrap_or_default();
        assert_eq!(point["seats"], seats, "{point}");
        // Drawn where its numbers say: y from the active users, x from the time.
        let cy = bottom - (active as f64 / y_max) * (bottom - top);
        assert!(close(number(&point["cy"]), cy), "{point} vs {cy}");
        let cx = left + (at - t0) / (t1 - t0) * (right - left);
        assert!(close(number(&point["cx"]), cx), "{point} vs {cx}");
    }
    assert!(y_max >= highest as f64, "the axis holds every point");
    // The licensed seats line is drawn at the paid license's 100 users.
    let seats_y = bottom - (100.0 / y_max) * (bottom - top);
    let seats_path = drawn["seats"].as_str().unwrap();
    let ys: Vec<f64> = seats_path
        .split(['M', 'L'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (_, rest) = part.split_once(',').unwrap();
            rest.split('H').next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(!ys.is_empty(), "{seats_path}");
    assert!(
        ys.iter().all(|y| close(*y, seats_y)),
        "{seats_path} at y {seats_y}"
    );

    // Focus a point: the tip shows the ping's date, version and numbers.
    let last = by_time.last().unwrap();
    let tip = eval(
        client,
        &format!(
            r##"const fig = document.querySelector("figure.usage-chart[data-hostname='{host}']");
            const points = fig.querySelectorAll("circle.point-active");
            points[points.length - 1].focus();
            const tip = fig.querySelector(".chart-tip");
            return {{ hidden: tip.hidden, text: tip.textContent }};"##
        ),
    )
    .await;
    assert_eq!(tip["hidden"], false, "{tip}");
    let text = tip["text"].as_str().unwrap();
    assert!(
        text.contains(&last["recordedAt"].as_str().unwrap()[..10])
            && text.contains(last["version"].as_str().unwrap())
            && text.contains(&format!(
                "{} active users",
                last["activeUserCount"].as_i64().unwrap()
            ))
            && text.contains("100 licensed seats"),
        "{text}"
    );

    // The same numbers as a table, on request.
    let table = eval(
        client,
        &format!(
            r##"const fig = document.querySelector("figure.usage-chart[data-hostname='{host}']");
            fig.querySelector("details.chart-table").open = true;
            return [...fig.querySelectorAll("details.chart-table tbody tr")].map((tr) =>
              [...tr.children].map((c) => c.textContent));"##
        ),
    )
    .await;
    let table = table.as_array().unwrap();
    assert_eq!(table.len(), pings.len());
    for (row, ping) in table.iter().zip(&by_time) {
        assert_eq!(row[0], &ping["recordedAt"].as_str().unwrap()[..10]);
        assert_eq!(
            row[2],
            ping["activeUserCount"].as_i64().unwrap().to_string()
        );
    }

    // ---- The license timeline: one bar per license from start to expiry on one axis.
    let bars = eval(
        client,
        r##"const svg = document.querySelector("#license-timeline svg.chart-svg");
        return {
          box: {...svg.dataset},
          bars: [...svg.querySelectorAll("rect.bar")].map((r) => ({ cls: r.getAttribute("class"), ...r.dataset })),
          today: svg.querySelector("line.today").dataset.day,
          gaps: [...svg.querySelectorAll("g.gap")].map((g) => ({...g.dataset})),
        };"##,
    )
    .await;
    let b = &bars["box"];
    let (d0, d1, left, right) = (
        number(&b["d0"]),
        number(&b["d1"]),
        number(&b["plotLeft"]),
        number(&b["plotRight"]),
    );
    let x = |ms: f64| left + (ms - d0) / (d1 - d0) * (right - left);
    let drawn_bars: HashMap<String, &Value> = bars["bars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|bar| (bar["licenseId"].as_str().unwrap().to_owned(), bar))
        .collect();
    assert_eq!(drawn_bars.len(), licenses.len());
    for license in licenses {
        let bar = drawn_bars[license["id"].as_str().unwrap()];
        let starts = license["startsAt"].as_str().unwrap();
        let expires = license["expiresAt"].as_str().unwrap();
        assert_eq!(bar["starts"], starts);
        assert_eq!(bar["expires"], expires);
        assert!(close(number(&bar["x1"]), x(day_ms(starts))), "{bar}");
        assert!(close(number(&bar["x2"]), x(day_ms(expires))), "{bar}");
        let trial = license["trial"].as_bool().unwrap();
        assert!(
            bar["cls"]
                .as_str()
                .unwrap()
                .contains(if trial { "bar-trial" } else { "bar-paid" }),
            "{bar}"
        );
    }
    assert_eq!(bars["today"], Utc::now().date_naive().to_string());
    // Between the trial's expiry and the paid license's start, a gap of 15 days is marked.
    let trial = licenses.iter().find(|l| l["trial"] == true).unwrap();
    let paid = licenses.iter().find(|l| l["trial"] == false).unwrap();
    let gaps = bars["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["start"], trial["expiresAt"]);
    assert_eq!(gaps[0]["end"], paid["startsAt"]);
    assert_eq!(gaps[0]["days"], "15");

    // A server that reports a license without being attached: its chart is in its details
    // (a second request), each point at the numbers of its ping and the seats of the license
    // that ping names.
    let ninja = "acmeinc.ninja";
    find(
        client,
        &format!("#usage-charts p[data-hostname='{ninja}'] button"),
    )
    .await
    .click()
    .await
    .unwrap();
    find(client, "#server-dialog[data-loaded]").await;
    let truth = gateway
        .query(
            "query($n: String!) { hostname(name: $n) { usagePings(last: 52) { recordedAt activeUserCount licenseUserCount } } }",
            json!({"n": ninja}),
        )
        .await;
    let mut expected: Vec<(String, String, String)> = truth["data"]["hostname"]["usagePings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["recordedAt"].as_str().unwrap().to_owned(),
                p["activeUserCount"].as_i64().unwrap().to_string(),
                p["licenseUserCount"].as_i64().unwrap().to_string(),
            )
        })
        .collect();
    expected.sort();
    let shown = eval(
        client,
        &format!(
            r##"return [...document.querySelectorAll("#server-dialog figure.usage-chart[data-hostname='{ninja}'] svg.chart-svg circle.point-active")]
              .map((c) => [c.dataset.recordedAt, c.dataset.activeUsers, c.dataset.seats]);"##
        ),
    )
    .await;
    let shown: Vec<(String, String, String)> =
        serde_json::from_value(shown.clone()).unwrap_or_else(|e| panic!("{e}: {shown}"));
    assert!(!expected.is_empty());
    assert_eq!(shown, expected);
    assert_eq!(graphql_requests(client).await.0, 2);
    eval(
        client,
        "document.getElementById('server-dialog').close(); return null;",
    )
    .await;

    // A download: the customer's CSV, fetched with the page's token.
    find(client, "#export-customer")
        .await
        .click()
        .await
        .unwrap();
    let exports = eval(client, "return window.__exports;").await;
    assert_eq!(exports, json!(["/export/customers/1/licenses.csv"]));
    assert!(
        find(client, "#message")
            .await
            .attr("hidden")
            .await
            .unwrap()
            .is_some()
    );

    eval(
        client,
        r##"document.querySelectorAll("details.chart-table").forEach((d) => { d.open = false; });
        document.activeElement.blur(); window.scrollTo(0, 0); return null;"##,
    )
    .await;
    let screenshot = save_screenshot(client, "customer-view-charts").await;
    publish(&screenshot, "dashboard.png");
    browser.close().await;
}

#[tokio::test]
async fn the_trials_report_page_counts_trials_and_lists_the_ones_behind_a_number() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let client = &browser.client;
    let (gateway, _version) = seeded_servers().await;
    client.set_window_size(1280, 1100).await.unwrap();

    open_signed_in(client, &gateway).await;
    find(client, "#trials-link").await.click().await.unwrap();
    find(client, "#trials-result[data-loaded='complete']").await;
    let form = eval(
        client,
        r##"return [document.getElementById("trials-from").value, document.getElementById("trials-to").value];"##,
    )
    .await;
    let from: NaiveDate = form[0].as_str().unwrap().parse().unwrap();
    let to: NaiveDate = form[1].as_str().unwrap().parse().unwrap();
    assert_eq!(to - from, Duration::days(364), "a year by default");

    // Every row of the table against the trials counted from the database.
    let want = super::reports::expected(&gateway, from, to, false, 90).await;
    let rows = eval(
        client,
        r##"return [...document.querySelectorAll("table.trials-table tbody tr")].map((tr) => ({...tr.dataset}));"##,
    )
    .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "{rows:?}");
    for ((period, plan), trials) in &want {
        let row = rows
            .iter()
            .find(|r| r["period"] == period.to_string() && r["plan"] == plan.as_str())
            .unwrap_or_else(|| panic!("no row for {period} {plan}: {rows:?}"));
        assert_eq!(row["issued"], trials.len().to_string());
        let converted = trials.iter().filter(|(_, p)| p.is_some()).count();
        assert_eq!(row["converted"], converted.to_string());
    }
    let issued: usize = want.values().map(Vec::len).sum();
    let summary = find(client, "#trials-summary").await.text().await.unwrap();
    assert!(summary.starts_with(&format!("{issued} trial")), "{summary}");

    // The list behind Acme's month: its trial, converted to its paid license after 43 days.
    let acme_trial = trial_of_acme(&gateway).await;
    let acme_period = acme_trial.date_naive().format("%Y-%m-01").to_string();
    let acme_row = format!(
        "table.trials-table tr[data-period='{acme_period}'][data-plan='ULTIMATE'] button[data-list='converted']"
    );
    find(client, &acme_row).await.click().await.unwrap();
    find(client, "#trials-list[data-loaded]").await;
    let listed = eval(
        client,
        r##"return [...document.querySelectorAll("table.trials-list tbody tr")].map((tr) => tr.textContent);"##,
    )
    .await;
    let acme = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t.as_str().unwrap().contains("Acme Inc"))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(acme.as_str().unwrap().contains("after 43 days"), "{acme}");

    // The CSV of the whole report, fetched with the page's token.
    find(client, "#trials-export").await.click().await.unwrap();
    let exports = eval(client, "return window.__exports;").await;
    assert_eq!(
        exports,
        json!([format!(
            "/export/trials.csv?from={from}&to={to}&groupBy=month&convertedWithinDays=90"
        )])
    );

    let screenshot = save_screenshot(client, "trials-report").await;
    publish(&screenshot, "trials-report.png");
    browser.close().await;
}

async fn trial_of_acme(gateway: &Gateway) -> DateTime<Utc> {
    let response = gateway
        .query(
            r##"{ licenses(search: "Acme Inc", filter: { trial: true }) { nodes { issuedAt customer { name } } } }"##,
            json!({}),
        )
        .await;
    let node = response["data"]["licenses"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["customer"]["name"] == "Acme Inc")
        .unwrap()
        .clone();
    node["issuedAt"].as_str().unwrap().parse().unwrap()
}
