//! Relay connections (edges, node, cursor, pageInfo) that also offer `nodes` and a `totalCount`
//! that is only counted when asked for, exact up to 1,000 (`totalCountIsExact` says whether).

use async_graphql::{Context, Object, Result, SimpleObject};
use licenses::audit::AuditFilter;
use licenses::{LicenseFilter, Page, Search, Total};
use tokio::sync::OnceCell;

use crate::directives::{authenticated, cost};
use crate::errors::to_field_error;
use crate::request::{graph, request};
use crate::types::audit::AuditEvent;
use crate::types::{Customer, License};
use crate::webhooks::types::WebhookDelivery;
use crate::weights;

/// Where a page sits in the whole result.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(directive = authenticated::apply())]
pub struct PageInfo {
    /// Whether more items follow; fetch them with `after: endCursor`.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// The cursor of the first item on this page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item on this page.
    pub end_cursor: Option<String>,
}

/// The query whose matches `totalCount` counts.
#[derive(Clone, Debug)]
pub enum Counted {
    /// `customers(search:)`.
    Customers { search: Option<Search> },
    /// `licenses(search:, filter:)`.
    Licenses {
        search: Option<Search>,
        filter: LicenseFilter,
    },
    /// `auditEvents(filter:)`.
    AuditEvents { filter: AuditFilter },
    /// `webhookDeliveries(endpointId:, status:)`.
    WebhookDeliveries {
        endpoint_id: i64,
        status: Option<entity::webhook_delivery::Status>,
    },
}

impl Counted {
    async fn count(&self, ctx: &Context<'_>) -> Result<Total> {
        let (request, _) = request(ctx)?;
        let db = &graph(ctx)?.db;
        let counted = match self {
            Counted::Customers { search } => {
                licenses::customers::count(db, &request.scope, search.as_ref()).await
            }
            Counted::Licenses { search, filter } => {
                licenses::issued::count(db, &request.scope, search.as_ref(), filter, request.today)
                    .await
            }
            Counted::AuditEvents { filter } => {
                licenses::audit::count(db, &request.scope, filter).await
            }
            Counted::WebhookDeliveries {
                endpoint_id,
                status,
            } => {
                return crate::webhooks::for_admin(ctx)?
                    .count_deliveries(*endpoint_id, *status)
                    .await
                    .map_err(crate::webhooks::admin_error);
            }
        };
        counted.map_err(to_field_error)
    }
}

macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("An edge of a ", $what, " list: one ", $what, " and its cursor.")]
        #[derive(SimpleObject, Clone)]
        #[graphql(directive = authenticated::apply())]
        pub struct $edge {
            #[doc = concat!("The ", $what, ".")]
            pub node: $node,
            /// The opaque cursor of this edge, for `after:`.
            pub cursor: String,
        }

        #[doc = concat!("A page of ", $what, "s (Relay cursor connection).")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: PageInfo,
            counted: Counted,
            /// Counted once, for `totalCount` and `totalCountIsExact` alike.
            total: OnceCell<Total>,
        }

        impl $connection {
            /// Wraps a page of rows.
            pub fn new<R>(page: Page<R>, counted: Counted, node: impl Fn(R) -> $node) -> Self {
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|(cursor, row)| $edge {
                        node: node(row),
                        cursor: cursor.encode(),
                    })
                    .collect();
                let page_info = PageInfo {
                    has_next_page: page.has_next_page,
                    has_previous_page: page.has_previous_page,
                    start_cursor: edges.first().map(|e| e.cursor.clone()),
                    end_cursor: edges.last().map(|e| e.cursor.clone()),
                };
                Self {
                    edges,
                    page_info,
                    counted,
                    total: OnceCell::new(),
                }
            }
        }

        impl $connection {
            async fn total(&self, ctx: &Context<'_>) -> Result<Total> {
                self.total
                    .get_or_try_init(|| self.counted.count(ctx))
                    .await
                    .copied()
            }
        }

        #[doc = concat!("A page of ", $what, "s (Relay cursor connection).")]
        #[Object(directive = authenticated::apply())]
        impl $connection {
            /// The items of this page with their cursors.
            // Sized by the connection field's `first` (its `@listSize(sizedFields:)`).
            #[graphql(directive = cost::apply(weights::OBJECT_WEIGHT))]
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }

            /// The items of this page, without cursors.
            #[graphql(directive = cost::apply(weights::OBJECT_WEIGHT))]
            async fn nodes(&self) -> Vec<$node> {
                self.edges.iter().map(|e| e.node.clone()).collect()
            }

            /// Where this page sits in the whole result.
            async fn page_info(&self) -> &PageInfo {
                &self.page_info
            }

            /// How many items match in all pages together, counted only when asked for and
            /// exactly up to 1,000: when more match it is 1,000 and `totalCountIsExact` is
            /// false.
            async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
                Ok(self.total(ctx).await?.count)
            }

            /// Whether `totalCount` is the exact number of matches (false: more than 1,000
            /// match).
            async fn total_count_is_exact(&self, ctx: &Context<'_>) -> Result<bool> {
                Ok(self.total(ctx).await?.exact)
            }
        }
    };
}

connection!(CustomerConnection, CustomerEdge, Customer, "customer");
connection!(LicenseConnection, LicenseEdge, License, "license");
connection!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "audit event"
);
connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "webhook delivery"
);
