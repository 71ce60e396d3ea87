//! `GET /export/trials.csv?from=YYYY-MM-DD&to=YYYY-MM-DD&groupBy=week|month&convertedWithinDays=N`:
//! every trial behind the trials report, one row each, oldest first, with its period and the
//! paid license it turned into. The bounds are the report's (`licenses::trials`).

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::NaiveDate;
use edge::CallerRequestId;
use entity::{customer, license};
use error_catalogue::Refusal;
use licenses::View;
use licenses::audit_record::ExportKind;
use licenses::trials::{self, GroupBy, TrialsQuery};
use sea_orm::{ActiveEnum, DatabaseConnection};
use serde::Deserialize;

use super::table::Table;
use super::{Export, Exports, MAX_ROWS, bad_input, refusal};

/// Ids per `IN (...)` list: well under every backend's limit on bound parameters.
const CHUNK: usize = 1_000;

const HEADER: [&str; 15] = [
    "period",
    "plan",
    "trial_license_id",
    "customer_id",
    "customer",
    "issued_at",
    "users",
    "expires_at",
    "licensee_email",
    "licensee_company",
    "converted",
    "converted_license_id",
    "converted_plan",
    "converted_issued_at",
    "days_to_convert",
];

/// The query string, as the page sends it (the GraphQL argument names).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Params {
    from: String,
    to: String,
    group_by: Option<String>,
    converted_within_days: Option<i64>,
}

impl Params {
    fn query(&self) -> Result<TrialsQuery, Refusal> {
        let day = |name: &str, text: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| bad_input(format!("`{name}` must be a date: YYYY-MM-DD")))
        };
        let group_by = match self
            .group_by
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("month") => GroupBy::Month,
            Some("week") => GroupBy::Week,
            Some(_) => return Err(bad_input("`groupBy` is `week` or `month`")),
        };
        TrialsQuery::new(
            day("from", &self.from)?,
            day("to", &self.to)?,
            group_by,
            self.converted_within_days,
        )
        .map_err(refusal)
    }
}

pub(super) async fn trials(
    State(exports): State<Exports>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    caller_id: Option<Extension<CallerRequestId>>,
) -> Response {
    let db = exports.db.clone();
    let caller_id = caller_id.map(|Extension(id)| id);
    exports
        .run(&headers, caller_id, |request, _| async move {
            let Query(params) =
                params.map_err(|_| bad_input("give `from` and `to` (YYYY-MM-DD)"))?;
            let query = params.query()?;
            let report = trials::report(&db, &request.scope, query)
                .await
                .map_err(refusal)?;
            Ok(Export {
                table: table(&db, &request, &report).await?,
                filename: format!("trials-{}-{}.csv", query.from, query.to),
                kind: ExportKind::Trials,
                customer_id: None,
                filter: format!(
                    "trials issued {} to {}, by {:?}, converted within {} days",
                    query.from, query.to, query.group_by, query.converted_within_days
                ),
            })
        })
        .await
}

async fn table(
    db: &DatabaseConnection,
    request: &View,
    report: &trials::Report,
) -> Result<Table, Refusal> {
    let license_ids: Vec<i64> = report
        .trials
        .iter()
        .flat_map(|t| std::iter::once(t.license_id).chain(t.converted_to.map(|c| c.license_id)))
        .collect();
    let scope = &request.scope;
    let licenses: HashMap<i64, license::Model> = by_id(
        &license_ids,
        |chunk| async move { licenses::issued::by_ids(db, scope, &chunk).await },
        |l| l.id,
    )
    .await?;
    let customer_ids: Vec<i64> = report.trials.iter().map(|t| t.customer_id).collect();
    let customers: HashMap<i64, customer::Model> = by_id(
        &customer_ids,
        |chunk| async move { licenses::customers::by_ids(db, scope, &chunk).await },
        |c| c.id,
    )
    .await?;

    let mut table = Table::new(&HEADER, MAX_ROWS)?;
    for trial in &report.trials {
        let license = licenses.get(&trial.license_id);
        let paid = trial.converted_to.and_then(|c| licenses.get(&c.license_id));
        table.row([
            trial.period.to_string().as_str(),
            &trial.plan.to_value(),
            &trial.license_id.to_string(),
            &trial.customer_id.to_string(),
            customers
                .get(&trial.customer_id)
                .map_or("", |c| c.name.as_str()),
            &trial.issued_at.to_rfc3339(),
            &license
                .map(|l| l.users_count.to_string())
                .unwrap_or_default(),
            &license
                .and_then(|l| l.expires_at)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            &license
                .map(|l| request.email(&l.licensee_email))
                .unwrap_or_default(),
            license.map_or("", |l| l.licensee_company.as_str()),
            if trial.converted_to.is_some() {
                "yes"
            } else {
                "no"
            },
            &trial
                .converted_to
                .map(|c| c.license_id.to_string())
                .unwrap_or_default(),
            &paid.map(|l| l.plan.to_value()).unwrap_or_default(),
            &trial
                .converted_to
                .map(|c| c.issued_at.to_rfc3339())
                .unwrap_or_default(),
            &trial
                .converted_to
                .map(|c| (c.issued_at - trial.issued_at).num_days().to_string())
                .unwrap_or_default(),
        ])?;
    }
    Ok(table)
}

/// Rows by id, `CHUNK` ids per statement, keyed by id; `load` reads one chunk.
async fn by_id<T, F, Fut>(
    ids: &[i64],
    load: F,
    id: fn(&T) -> i64,
) -> Result<HashMap<i64, T>, Refusal>
where
    F: Fn(Vec<i64>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, licenses::Error>>,
{
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut found = HashMap::with_capacity(unique.len());
    for chunk in unique.chunks(CHUNK) {
        for row in load(chunk.to_vec()).await.map_err(refusal)? {
            found.insert(id(&row), row);
        }
    }
    Ok(found)
}
