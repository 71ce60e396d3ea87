//! The trials report: the trials issued in a period, grouped by week or month and by plan, each
//! with the paid license (of the same customer) it turned into, if one was issued within N days.
//!
//! One statement: the trials of the period (index `licenses_trial_issued_idx`: trial, issued_at)
//! left-joined to the same customer's paid licenses issued from the trial on, up to the end of
//! the period plus N days (index `licenses_customer_trial_issued_idx`: customer_id, trial,
//! issued_at). The
//! per-trial window (`issued_at + N days`) is applied here rather than in SQL, where date
//! arithmetic differs between PostgreSQL and SQLite; the join's fixed upper bound keeps the
//! extra rows to the few paid licenses a customer gets after its trial.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use entity::license::{self, Plan};
use sea_orm::sea_query::{
    Alias, Condition, Expr, ExprTrait, JoinType, Order, Query, SelectStatement,
};
use sea_orm::{ActiveEnum, ConnectionTrait, DatabaseConnection};

use crate::{Error, Scope};

/// The longest period one report covers, in days (a year, leap or not).
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The longest conversion window, in days.
pub const MAX_CONVERSION_DAYS: u32 = 365;
/// The conversion window when none is given: trials are 30 days, and a purchase often takes
/// a few weeks after the trial ends.
pub const DEFAULT_CONVERSION_DAYS: u32 = 90;
/// The most trials one report reads; a period with more is refused (narrow it), so a report
/// never holds an unbounded list in memory.
pub const MAX_TRIALS: usize = 50_000;
/// The most joined rows (trials and their candidate paid licenses) one report reads.
const MAX_ROWS: u64 = 2 * MAX_TRIALS as u64;

/// How trials are grouped in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// ISO weeks: a period starts on a Monday.
    Week,
    /// Calendar months: a period starts on the first.
    Month,
}

impl GroupBy {
    /// The first day of the period `day` falls in.
    pub fn period_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            GroupBy::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            GroupBy::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// What a report covers: checked bounds, so a caller cannot ask for an unbounded scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialsQuery {
    /// The first day of the period (UTC).
    pub from: NaiveDate,
    /// The last day of the period, included (UTC).
    pub to: NaiveDate,
    /// Weeks or months.
    pub group_by: GroupBy,
    /// A trial counts as converted when a paid license of the same customer was issued at or
    /// after it and at most this many days after it.
    pub converted_within_days: u32,
}

impl TrialsQuery {
    /// Checks the bounds: `from` not after `to`, at most [`MAX_PERIOD_DAYS`] days, a window of
    /// 1 to [`MAX_CONVERSION_DAYS`] days.
    pub fn new(
        from: NaiveDate,
        to: NaiveDate,
        group_by: GroupBy,
        converted_within_days: Option<i64>,
    ) -> Result<Self, Error> {
        if from > to {
            return Err(Error::InvalidArgument(
                "`from` must not be after `to`".to_owned(),
            ));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_PERIOD_DAYS {
            return Err(Error::InvalidArgument(format!(
                "the period is {days} days; a report covers at most {MAX_PERIOD_DAYS}"
            )));
        }
        let within = converted_within_days.unwrap_or(i64::from(DEFAULT_CONVERSION_DAYS));
        let converted_within_days = u32::try_from(within)
            .ok()
            .filter(|d| (1..=MAX_CONVERSION_DAYS).contains(d))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "`convertedWithinDays` must be between 1 and {MAX_CONVERSION_DAYS}, got {within}"
                ))
            })?;
        Ok(Self {
            from,
            to,
            group_by,
            converted_within_days,
        })
    }

    fn start(&self) -> DateTime<Utc> {
        self.from.and_time(NaiveTime::MIN).and_utc()
    }

    /// The instant after the period's last day.
    fn end(&self) -> DateTime<Utc> {
        (self.to + Duration::days(1))
            .and_time(NaiveTime::MIN)
            .and_utc()
    }

    fn window(&self) -> Duration {
        Duration::days(i64::from(self.converted_within_days))
    }
}

/// The paid license a trial turned into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conversion {
    /// The paid license's id.
    pub license_id: i64,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

/// One trial of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trial {
    /// The trial license's id.
    pub license_id: i64,
    /// Its customer.
    pub customer_id: i64,
    /// Its plan.
    pub plan: Plan,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// The first day of the period it was issued in.
    pub period: NaiveDate,
    /// The first paid license of the same customer issued within the window, if any.
    pub converted_to: Option<Conversion>,
}

/// Trials of one period and plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group<'a> {
    /// The first day of the period.
    pub period: NaiveDate,
    /// The plan.
    pub plan: Plan,
    /// The group's trials, oldest first.
    pub trials: Vec<&'a Trial>,
}

impl Group<'_> {
    /// How many of the group's trials converted.
    pub fn converted(&self) -> usize {
        self.trials
            .iter()
            .filter(|t| t.converted_to.is_some())
            .count()
    }
}

/// A report: its bounds and every trial in the period, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// What was asked.
    pub query: TrialsQuery,
    /// The trials, oldest first (issued_at, then id).
    pub trials: Vec<Trial>,
}

impl Report {
    /// The trials grouped by period, then plan (periods oldest first; plans in the order
    /// starter, premium, ultimate); empty groups are left out.
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut groups: BTreeMap<(NaiveDate, u8), Group<'_>> = BTreeMap::new();
        for trial in &self.trials {
            groups
                .entry((trial.period, plan_rank(trial.plan)))
                .or_insert_with(|| Group {
                    period: trial.period,
                    plan: trial.plan,
                    trials: Vec::new(),
                })
                .trials
                .push(trial);
        }
        groups.into_values().collect()
    }

    /// How many trials converted.
    pub fn converted(&self) -> usize {
        self.trials
            .iter()
            .filter(|t| t.converted_to.is_some())
            .count()
    }
}

fn plan_rank(plan: Plan) -> u8 {
    match plan {
        Plan::Starter => 0,
        Plan::Premium => 1,
        Plan::Ultimate => 2,
    }
}

/// The one statement of a report: the trials of the period with the same customer's paid
/// licenses that may be their conversions, oldest trial first, each trial's earliest paid
/// license first. Public so that a test can check how each database plans it.
pub fn statement(scope: &Scope, query: &TrialsQuery) -> SelectStatement {
    let (t, p) = (Alias::new("t"), Alias::new("p"));
    use license::Column as C;
    let paid_of_same_customer = Condition::all()
        .add(Expr::col((p.clone(), C::CustomerId)).equals((t.clone(), C::CustomerId)))
        .add(Expr::col((p.clone(), C::Trial)).eq(false))
        .add(Expr::col((p.clone(), C::IssuedAt)).gte(Expr::col((t.clone(), C::IssuedAt))))
        .add(Expr::col((p.clone(), C::IssuedAt)).lt(query.end() + query.window()));
    Query::select()
        .expr_as(Expr::col((t.clone(), C::Id)), Alias::new("trial_id"))
        .expr_as(
            Expr::col((t.clone(), C::CustomerId)),
            Alias::new("customer_id"),
        )
        .expr_as(Expr::col((t.clone(), C::Plan)), Alias::new("plan"))
        .expr_as(Expr::col((t.clone(), C::IssuedAt)), Alias::new("issued_at"))
        .expr_as(Expr::col((p.clone(), C::Id)), Alias::new("paid_id"))
        .expr_as(
            Expr::col((p.clone(), C::IssuedAt)),
            Alias::new("paid_issued_at"),
        )
        .from_as(license::Entity, t.clone())
        .join_as(
            JoinType::LeftJoin,
            license::Entity,
            p.clone(),
            paid_of_same_customer,
        )
        .and_where(Expr::col((t.clone(), C::Trial)).eq(true))
        .and_where(Expr::col((t.clone(), C::IssuedAt)).gte(query.start()))
        .and_where(Expr::col((t.clone(), C::IssuedAt)).lt(query.end()))
        .cond_where(scope.condition_on(Expr::col((t.clone(), C::CustomerId))))
        .order_by((t.clone(), C::IssuedAt), Order::Asc)
        .order_by((t, C::Id), Order::Asc)
        .order_by((p.clone(), C::IssuedAt), Order::Asc)
        .order_by((p, C::Id), Order::Asc)
        .limit(MAX_ROWS + 1)
        .to_owned()
}

/// The report for `query` over the customers `scope` lets the caller see.
pub async fn report(
    db: &DatabaseConnection,
    scope: &Scope,
    query: TrialsQuery,
) -> Result<Report, Error> {
    let statement = statement(scope, &query);
    let rows = db.query_all(&statement).await?;
    if rows.len() as u64 > MAX_ROWS {
        return Err(too_many());
    }
    let mut trials: Vec<Trial> = Vec::new();
    for row in rows {
        let license_id: i64 = row.try_get("", "trial_id")?;
        let paid_id: Option<i64> = row.try_get("", "paid_id")?;
        let paid_issued_at: Option<DateTime<Utc>> = row.try_get("", "paid_issued_at")?;
        if trials
            .last()
            .is_none_or(|last| last.license_id != license_id)
        {
            if trials.len() == MAX_TRIALS {
                return Err(too_many());
            }
            let plan: String = row.try_get("", "plan")?;
            let issued_at: DateTime<Utc> = row.try_get("", "issued_at")?;
            trials.push(Trial {
                license_id,
                customer_id: row.try_get("", "customer_id")?,
                plan: Plan::try_from_value(&plan)?,
                issued_at,
                period: query.group_by.period_of(issued_at.date_naive()),
                converted_to: None,
            });
        }
        let Some(trial) = trials.last_mut() else {
            continue;
        };
        // Rows of one trial come earliest paid license first: the first inside the window wins.
        if trial.converted_to.is_none()
            && let (Some(paid_id), Some(paid_issued_at)) = (paid_id, paid_issued_at)
            && paid_issued_at <= trial.issued_at + query.window()
        {
            trial.converted_to = Some(Conversion {
                license_id: paid_id,
                issued_at: paid_issued_at,
            });
        }
    }
    Ok(Report { query, trials })
}

fn too_many() -> Error {
    Error::InvalidArgument(format!(
        "the period holds more than {MAX_TRIALS} trials; ask for a shorter period"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn periods_start_on_monday_or_the_first() {
        // 2026-11-26 is a Thursday.
        assert_eq!(
            GroupBy::Week.period_of(date(2026, 11, 26)),
            date(2026, 11, 23)
        );
        assert_eq!(
            GroupBy::Week.period_of(date(2026, 11, 23)),
            date(2026, 11, 23)
        );
        assert_eq!(
            GroupBy::Week.period_of(date(2026, 11, 29)),
            date(2026, 11, 23)
        );
        assert_eq!(
            GroupBy::Month.period_of(date(2026, 11, 26)),
            date(2026, 11, 1)
        );
    }

    #[test]
    fn bounds_are_checked() {
        let ok = TrialsQuery::new(date(2026, 1, 1), date(2026, 12, 31), GroupBy::Month, None);
        assert_eq!(
            ok.map(|q| q.converted_within_days).ok(),
            Some(DEFAULT_CONVERSION_DAYS)
        );
        for (from, to, within) in [
            (date(2026, 2, 1), date(2026, 1, 1), None),
            (date(2025, 1, 1), date(2026, 1, 2), None),
            (date(2026, 1, 1), date(2026, 2, 1), Some(0)),
            (date(2026, 1, 1), date(2026, 2, 1), Some(366)),
            (date(2026, 1, 1), date(2026, 2, 1), Some(-1)),
        ] {
            assert!(
                TrialsQuery::new(from, to, GroupBy::Week, within).is_err(),
                "{from} {to} {within:?}"
            );
        }
    }

    #[test]
    fn groups_are_by_period_then_plan_with_their_conversions() {
        let at = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
        let trial = |id, plan, day: NaiveDate, converted: bool| Trial {
            license_id: id,
            customer_id: id,
            plan,
            issued_at: at(day),
            period: GroupBy::Month.period_of(day),
            converted_to: converted.then(|| Conversion {
                license_id: id + 100,
                issued_at: at(day),
            }),
        };
        let report = Report {
            query: TrialsQuery::new(date(2026, 1, 1), date(2026, 2, 28), GroupBy::Month, None)
                .unwrap_or_else(|e| panic!("{e}")),
            trials: vec![
                trial(1, Plan::Ultimate, date(2026, 1, 5), true),
                trial(2, Plan::Premium, date(2026, 1, 9), false),
                trial(3, Plan::Ultimate, date(2026, 1, 20), false),
                trial(4, Plan::Ultimate, date(2026, 2, 2), true),
            ],
        };
        let groups: Vec<_> = report
            .groups()
            .iter()
            .map(|g| (g.period, g.plan, g.trials.len(), g.converted()))
            .collect();
        assert_eq!(
            groups,
            vec![
                (date(2026, 1, 1), Plan::Premium, 1, 0),
                (date(2026, 1, 1), Plan::Ultimate, 2, 1),
                (date(2026, 2, 1), Plan::Ultimate, 1, 1),
            ]
        );
        assert_eq!(report.converted(), 2);
    }
}
