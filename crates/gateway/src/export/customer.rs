//! `GET /export/customers/{id}/licenses.csv`: a customer's licenses, newest first, one row
//! each, with the contact who received it, the licensee and the attached servers.

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use edge::CallerRequestId;
use error_catalogue::{Code, Refusal};
use licenses::View;
use licenses::audit_record::ExportKind;
use sea_orm::ActiveEnum;

use super::table::Table;
use super::{Export, Exports, MAX_ROWS, bad_input, refusal};

const HEADER: [&str; 16] = [
    "customer_id",
    "customer",
    "license_id",
    "plan",
    "kind",
    "status",
    "users",
    "issued_at",
    "starts_at",
    "expires_at",
    "contact_name",
    "contact_email",
    "licensee_name",
    "licensee_email",
    "licensee_company",
    "servers",
];

pub(super) async fn licenses(
    State(exports): State<Exports>,
    Path(id): Path<String>,
    headers: HeaderMap,
    caller_id: Option<Extension<CallerRequestId>>,
) -> Response {
    let db = exports.db.clone();
    let caller_id = caller_id.map(|Extension(id)| id);
    exports
        .run(&headers, caller_id, |request, _| async move {
            let id: i64 = id
                .parse()
                .map_err(|_| bad_input("a customer id is a whole number"))?;
            Ok(Export {
                table: table(&db, &request, id).await?,
                filename: format!("customer-{id}-licenses.csv"),
                kind: ExportKind::CustomerLicenses,
                customer_id: Some(id),
                filter: format!("customer {id}"),
            })
        })
        .await
}

async fn table(
    db: &sea_orm::DatabaseConnection,
    request: &View,
    id: i64,
) -> Result<Table, Refusal> {
    let scope = &request.scope;
    let customer = licenses::customers::by_ids(db, scope, &[id])
        .await
        .map_err(refusal)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                Code::NotFound,
                format!("there is no customer {id} (or it is not yours to see)"),
            )
        })?;
    let rows = licenses::issued::by_customer_ids(db, scope, &[id])
        .await
        .map_err(refusal)?;
    let contact_ids: Vec<i64> = rows.iter().map(|l| l.contact_id).collect();
    let license_ids: Vec<i64> = rows.iter().map(|l| l.id).collect();
    let contacts: HashMap<i64, _> = licenses::contacts::by_ids(db, scope, &contact_ids)
        .await
        .map_err(refusal)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut servers: HashMap<i64, Vec<String>> = HashMap::new();
    for attachment in licenses::hostnames::by_license_ids(db, scope, &license_ids)
        .await
        .map_err(refusal)?
    {
        servers
            .entry(attachment.license_id)
            .or_default()
            .push(attachment.hostname.name);
    }

    let mut table = Table::new(&HEADER, MAX_ROWS)?;
    let customer_id = customer.id.to_string();
    for license in &rows {
        let contact = contacts.get(&license.contact_id);
        let status = licenses::status::status(license.starts_at, license.expires_at, request.today);
        table.row([
            customer_id.as_str(),
            customer.name.as_str(),
            &license.id.to_string(),
            &license.plan.to_value(),
            if license.trial { "trial" } else { "paid" },
            license_graph::status_name(status),
            &license.users_count.to_string(),
            &license.issued_at.to_rfc3339(),
            &license.starts_at.to_string(),
            &license
                .expires_at
                .map(|d| d.to_string())
                .unwrap_or_default(),
            &contact.map(|c| request.name(&c.name)).unwrap_or_default(),
            &contact.map(|c| request.email(&c.email)).unwrap_or_default(),
            &request.name(&license.licensee_name),
            &request.email(&license.licensee_email),
            license.licensee_company.as_str(),
            &servers
                .get(&license.id)
                .map(|names| names.join(" "))
                .unwrap_or_default(),
        ])?;
    }
    Ok(table)
}
