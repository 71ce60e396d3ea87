//! Reading counters from the services' Prometheus text exposition.

use std::collections::HashMap;

/// Counter totals by metric name, every label combination summed, from one scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters(HashMap<String, f64>);

impl Counters {
    /// Parses the Prometheus text format; counters, gauges and untyped samples are summed per
    /// metric name (histogram and summary samples are skipped).
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines)?;
        let mut totals = HashMap::new();
        for sample in scrape.samples {
            let value = match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => continue,
            };
            *totals.entry(sample.metric).or_insert(0.0) += value;
        }
        Ok(Self(totals))
    }

    /// The total of `name`, `None` when the scrape did not have it.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// `after - before` for `name`, per `requests`; `None` when either scrape lacks it or no
    /// request completed.
    pub fn per_request(before: &Self, after: &Self, name: &str, requests: u64) -> Option<f64> {
        if requests == 0 {
            return None;
        }
        Some((after.get(name)? - before.get(name)?) / requests as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATEWAY: &str = "\
# HELP licensedot_upstream_calls_total Calls to the version service, by outcome.
# TYPE licensedot_upstream_calls_total counter
licensedot_upstream_calls_total{outcome=\"ok\"} 40
licensedot_upstream_calls_total{outcome=\"timeout\"} 2
# HELP licensedot_db_statements_total SQL statements sent to the license database.
# TYPE licensedot_db_statements_total counter
licensedot_db_statements_total 1234
# HELP licensedot_graphql_request_duration_seconds Time to answer.
# TYPE licensedot_graphql_request_duration_seconds histogram
licensedot_graphql_request_duration_seconds_bucket{operation=\"Dash\",le=\"0.005\"} 3
licensedot_graphql_request_duration_seconds_bucket{operation=\"Dash\",le=\"+Inf\"} 4
licensedot_graphql_request_duration_seconds_sum{operation=\"Dash\"} 0.02
licensedot_graphql_request_duration_seconds_count{operation=\"Dash\"} 4
";

    #[test]
    fn counters_are_summed_over_labels() {
        let c = Counters::parse(GATEWAY).unwrap();
        assert_eq!(c.get("licensedot_upstream_calls_total"), Some(42.0));
        assert_eq!(c.get("licensedot_db_statements_total"), Some(1234.0));
        assert_eq!(c.get("licensedot_missing_total"), None);
    }

    #[test]
    fn deltas_per_request() {
        let before = Counters::parse("version_service_entities_calls_total 10\n").unwrap();
        let after = Counters::parse(
            "# TYPE version_service_entities_calls_total counter\nversion_service_entities_calls_total 30\n",
        )
        .unwrap();
        let name = "version_service_entities_calls_total";
        assert_eq!(Counters::per_request(&before, &after, name, 10), Some(2.0));
        assert_eq!(Counters::per_request(&before, &after, name, 0), None);
        assert_eq!(Counters::per_request(&before, &after, "other", 10), None);
    }
}
