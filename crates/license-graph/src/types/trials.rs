//! The trials report: trials issued in a period, by week or month and plan, with how many
//! turned into a paid license of the same customer (the rules are `licenses::trials`).

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result};
use chrono::{Duration, Months, NaiveDate};
use licenses::trials::{self, GroupBy};

use crate::directives::{authenticated, cost, list_size};
use crate::errors::{ApiError, to_field_error};
use crate::list_sizes::{DEFAULT_TRIALS_PER_GROUP, MAX_TRIALS_PER_GROUP};
use crate::lookahead::{TRIAL_CONVERSION_CONVERTED_TO, TRIAL_CONVERSION_LICENSE};
use crate::prefetch;
use crate::request::request;
use crate::types::License;
use crate::types::filter::Plan;
use crate::weights;

/// How the trials report groups trials in time.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TrialGrouping {
    /// ISO weeks, Monday to Sunday.
    Week,
    /// Calendar months.
    Month,
}

impl From<TrialGrouping> for GroupBy {
    fn from(grouping: TrialGrouping) -> Self {
        match grouping {
            TrialGrouping::Week => GroupBy::Week,
            TrialGrouping::Month => GroupBy::Month,
        }
    }
}

impl From<GroupBy> for TrialGrouping {
    fn from(grouping: GroupBy) -> Self {
        match grouping {
            GroupBy::Week => TrialGrouping::Week,
            GroupBy::Month => TrialGrouping::Month,
        }
    }
}

/// The report as read once per request; groups borrow from it.
#[derive(Clone)]
pub struct TrialsReport(pub Arc<trials::Report>);

fn rate(converted: usize, issued: usize) -> Option<f64> {
    (issued > 0).then(|| converted as f64 / issued as f64)
}

/// Trials issued in a period, grouped by period and plan, with their conversions to a paid
/// license of the same customer.
#[Object(directive = authenticated::apply())]
impl TrialsReport {
    /// The first day of the period (UTC).
    async fn from(&self) -> NaiveDate {
        self.0.query.from
    }

    /// The last day of the period, included (UTC).
    async fn to(&self) -> NaiveDate {
        self.0.query.to
    }

    /// How the trials are grouped in time.
    async fn group_by(&self) -> TrialGrouping {
        self.0.query.group_by.into()
    }

    /// A trial counts as converted when a paid license of the same customer was issued at or
    /// after it and at most this many days after it.
    async fn converted_within_days(&self) -> u32 {
        self.0.query.converted_within_days
    }

    /// Trials issued in the period.
    async fn issued(&self) -> usize {
        self.0.trials.len()
    }

    /// Of those, how many converted.
    async fn converted(&self) -> usize {
        self.0.converted()
    }

    /// `converted / issued`; null when no trial was issued.
    async fn conversion_rate(&self) -> Option<f64> {
        rate(self.0.converted(), self.0.trials.len())
    }

    /// One group per period and plan that has trials: periods oldest first, then plans
    /// (starter, premium, ultimate).
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::ESTIMATE.assumed_size(),
            weights::ESTIMATE.slicing_arguments(),
            weights::ESTIMATE.sized_fields(),
            weights::ESTIMATE.require_one_slicing_argument()
        )
    )]
    async fn groups(&self) -> Vec<TrialGroup> {
        let grouping = self.0.query.group_by;
        self.0
            .groups()
            .into_iter()
            .map(|group| TrialGroup {
                period: group.period,
                grouping,
                plan: group.plan,
                converted: group.converted(),
                trials: group.trials.into_iter().cloned().collect(),
            })
            .collect()
    }
}

/// The trials of one period and plan.
pub struct TrialGroup {
    period: NaiveDate,
    grouping: GroupBy,
    plan: entity::license::Plan,
    converted: usize,
    /// Oldest first.
    trials: Vec<trials::Trial>,
}

/// Trials of one plan issued in one week or month.
#[Object(directive = authenticated::apply())]
impl TrialGroup {
    /// The first day of the period (a Monday, or the first of the month).
    async fn period(&self) -> NaiveDate {
        self.period
    }

    /// The last day of the period.
    async fn period_end(&self) -> NaiveDate {
        match self.grouping {
            GroupBy::Week => self.period + Duration::days(6),
            GroupBy::Month => self
                .period
                .checked_add_months(Months::new(1))
                .map_or(self.period, |next| next - Duration::days(1)),
        }
    }

    /// The trials' plan.
    async fn plan(&self) -> Plan {
        self.plan.into()
    }

    /// Trials issued.
    async fn issued(&self) -> usize {
        self.trials.len()
    }

    /// Of those, how many converted.
    async fn converted(&self) -> usize {
        self.converted
    }

    /// `converted / issued`.
    async fn conversion_rate(&self) -> Option<f64> {
        rate(self.converted, self.trials.len())
    }

    /// The trials behind the numbers, oldest first; `converted` keeps only those that did
    /// (true) or did not (false). `first` is at most 100 (default 20); the whole list of a
    /// report is the CSV export `/export/trials.csv`.
    #[graphql(
        directive = cost::apply(weights::OBJECT_WEIGHT),
        directive = list_size::apply(
            weights::TRIALS.assumed_size(),
            weights::TRIALS.slicing_arguments(),
            weights::TRIALS.sized_fields(),
            weights::TRIALS.require_one_slicing_argument()
        )
    )]
    async fn trials(
        &self,
        ctx: &Context<'_>,
        converted: Option<bool>,
        first: Option<i32>,
    ) -> Result<Vec<TrialConversion>> {
        let first = match first {
            None => DEFAULT_TRIALS_PER_GROUP,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_TRIALS_PER_GROUP)
                .ok_or_else(|| {
                    to_field_error(licenses::Error::PageTooLarge {
                        max: MAX_TRIALS_PER_GROUP,
                        got: i64::from(n),
                    })
                })?,
        };
        let chosen: Vec<&trials::Trial> = self
            .trials
            .iter()
            .filter(|t| converted.is_none_or(|c| c == t.converted_to.is_some()))
            .take(usize::try_from(first).unwrap_or(usize::MAX))
            .collect();
        let (_, loaders) = request(ctx)?;
        let ids: Vec<i64> = chosen
            .iter()
            .flat_map(|t| std::iter::once(t.license_id).chain(t.converted_to.map(|c| c.license_id)))
            .collect();
        let models = loaders
            .license
            .load_many(ids)
            .await
            .map_err(to_field_error)?;
        let selection = ctx.look_ahead();
        let trial_models: Vec<_> = chosen
            .iter()
            .filter_map(|t| models.get(&t.license_id).cloned())
            .collect();
        prefetch::licenses(
            ctx,
            TRIAL_CONVERSION_LICENSE.under(&selection),
            &trial_models,
        )
        .await?;
        let converted_models: Vec<_> = chosen
            .iter()
            .filter_map(|t| {
                t.converted_to
                    .and_then(|c| models.get(&c.license_id).cloned())
            })
            .collect();
        prefetch::licenses(
            ctx,
            TRIAL_CONVERSION_CONVERTED_TO.under(&selection),
            &converted_models,
        )
        .await?;
        chosen
            .into_iter()
            .map(|trial| {
                let license = models.get(&trial.license_id).cloned().ok_or_else(|| {
                    tracing::error!(
                        license = trial.license_id,
                        "a trial license vanished while the report was read"
                    );
                    to_field_error(ApiError::internal())
                })?;
                Ok(TrialConversion {
                    license: License(license),
                    converted_to: trial
                        .converted_to
                        .and_then(|c| models.get(&c.license_id).cloned().map(License)),
                    days_to_convert: trial
                        .converted_to
                        .map(|c| (c.issued_at - trial.issued_at).num_days()),
                })
            })
            .collect()
    }
}

/// One trial of the report and the paid license it turned into.
pub struct TrialConversion {
    license: License,
    converted_to: Option<License>,
    days_to_convert: Option<i64>,
}

/// A trial and, when it converted, the paid license it turned into.
#[Object(directive = authenticated::apply())]
impl TrialConversion {
    /// The trial license (its customer, contact and dates are on it).
    async fn license(&self) -> &License {
        &self.license
    }

    /// The first paid license of the same customer issued within the report's window; null
    /// when the trial did not convert.
    async fn converted_to(&self) -> Option<&License> {
        self.converted_to.as_ref()
    }

    /// Whole days from the trial's issue to the paid license's; null when it did not convert.
    async fn days_to_convert(&self) -> Option<i64> {
        self.days_to_convert
    }
}
