//! `GET /export/audit-events.csv?actions=&actor=&licenseId=&customerId=&occurredFrom=&occurredBefore=`:
//! the audit trail, newest first, one event a row, for staff: the filter and the rules of the
//! `auditEvents` connection (customer-scoped callers are refused; callers who see personal
//! data masked get it masked, without reasons, and may not filter by actor).

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use edge::CallerRequestId;
use entity::audit_event::{self, Action};
use error_catalogue::{Code, Refusal};
use licenses::View;
use licenses::audit::AuditFilter;
use licenses::audit_record::{Details, ExportKind};
use sea_orm::ActiveEnum;
use serde::Deserialize;

use super::table::Table;
use super::{Export, Exports, MAX_ROWS, bad_input, refusal};

const HEADER: [&str; 19] = [
    "id",
    "occurred_at",
    "action",
    "actor_subject",
    "actor_email",
    "actor_role",
    "request_id",
    "caller_request_id",
    "license_id",
    "customer_id",
    "license_version",
    "old_contact_name",
    "old_contact_email",
    "new_contact_name",
    "new_contact_email",
    "reason",
    "refusal_code",
    "export",
    "export_rows",
];

/// The query string: the `AuditEventFilter` of the graph, `actions` comma-separated
/// (`signed_in,signed_out`), instants in RFC 3339.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct Params {
    actions: Option<String>,
    actor: Option<String>,
    license_id: Option<i64>,
    customer_id: Option<i64>,
    occurred_from: Option<String>,
    occurred_before: Option<String>,
}

impl Params {
    fn filter(&self) -> Result<AuditFilter, Refusal> {
        let instant = |name: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| {
                    DateTime::parse_from_rfc3339(t)
                        .map(|at| at.with_timezone(&Utc))
                        .map_err(|_| bad_input(format!("`{name}` is an RFC 3339 instant")))
                })
                .transpose()
        };
        let actions = self
            .actions
            .iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                Action::try_from_value(&name.to_ascii_lowercase()).map_err(|_| {
                    bad_input(format!(
                        "`{name}` is not an action (license_contact_changed, \
                         contact_change_refused, signed_in, signed_out, personal_data_exported)"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(AuditFilter {
            license_id: self.license_id,
            customer_id: self.customer_id,
            actor_subject: self.actor.clone(),
            actions,
            occurred_from: instant("occurredFrom", &self.occurred_from)?,
            occurred_before: instant("occurredBefore", &self.occurred_before)?,
        })
    }

    /// What was asked for, in words, for the trail.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                parts.push(format!("{name}={value}"));
            }
        };
        add("actions", self.actions.clone());
        add("actor", self.actor.clone());
        add("licenseId", self.license_id.map(|id| id.to_string()));
        add("customerId", self.customer_id.map(|id| id.to_string()));
        add("occurredFrom", self.occurred_from.clone());
        add("occurredBefore", self.occurred_before.clone());
        if parts.is_empty() {
            "all events".to_owned()
        } else {
            parts.join("&")
        }
    }
}

pub(super) async fn events(
    State(exports): State<Exports>,
    params: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    caller_id: Option<Extension<CallerRequestId>>,
) -> Response {
    let db = exports.db.clone();
    let caller_id = caller_id.map(|Extension(id)| id);
    exports
        .run(&headers, caller_id, |request, viewer| async move {
            if !viewer.can_read_audit_trail() {
                return Err(forbidden(
                    "the audit trail is for staff roles; see a license's `auditEvents`",
                ));
            }
            let Query(params) = params.map_err(|e| bad_input(e.body_text()))?;
            let filter = params.filter()?;
            if filter.actor_subject.is_some() && !request.personal_data_visible {
                // Filtering by a subject the caller cannot see would confirm guesses at it.
                return Err(forbidden(
                    "callers who see personal data masked may not filter by actor",
                ));
            }
            let rows = licenses::audit::export(&db, &request.scope, &filter, MAX_ROWS as u64)
                .await
                .map_err(refusal)?;
            Ok(Export {
                table: table(&request, &rows)?,
                filename: "audit-events.csv".to_owned(),
                kind: ExportKind::AuditEvents,
                customer_id: filter.customer_id,
                filter: params.describe(),
            })
        })
        .await
}

fn forbidden(message: &str) -> Refusal {
    Refusal::new(StatusCode::FORBIDDEN, Code::Forbidden, message)
}

fn table(request: &View, events: &[audit_event::Model]) -> Result<Table, Refusal> {
    let mut table = Table::new(&HEADER, MAX_ROWS)?;
    let text = |value: Option<String>| value.unwrap_or_default();
    let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
    let visible = request.personal_data_visible;
    for event in events {
        let details = Details::of(event);
        table.row([
            event.id.to_string().as_str(),
            &event.occurred_at.to_rfc3339(),
            &event.action.to_value(),
            if visible { &event.actor_subject } else { "" },
            &text(event.actor_email.as_deref().map(|e| request.email(e))),
            &event.actor_role,
            &event.request_id,
            &text(event.caller_request_id.clone()),
            &number(event.license_id),
            &number(event.customer_id),
            &number(event.license_version),
            &text(event.old_contact_name.as_deref().map(|n| request.name(n))),
            &text(event.old_contact_email.as_deref().map(|e| request.email(e))),
            &text(event.new_contact_name.as_deref().map(|n| request.name(n))),
            &text(event.new_contact_email.as_deref().map(|e| request.email(e))),
            &text(event.reason.clone().filter(|_| visible)),
            &text(details.code),
            &text(details.export.map(|kind| kind.as_str().to_owned())),
            &number(details.rows.and_then(|rows| i64::try_from(rows).ok())),
        ])?;
    }
    Ok(table)
}
