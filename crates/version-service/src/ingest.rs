//! Turning a usage-ping body into a [`NewPing`]: parse, check types and bounds, normalise the
//! hostname. Nothing else is altered: the body is kept byte for byte.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::{Error, config::IngestConfig, store::usage_ping::NewPing};

/// The one normalisation of hostnames, shared with the license side: it is the join key.
pub use entity::hostname::normalise as normalize_hostname;

/// Longest installation `uuid` accepted (GitLab sends 36): it keys the rate limit.
const MAX_UUID_LEN: usize = 128;

/// Nesting followed inside `counts` before giving up (real pings nest two or three levels).
const MAX_COUNTS_DEPTH: usize = 8;

/// GitLab reports a metric it failed to compute (a timed-out query) as -1; refusing it would
/// make the server resend the same ping forever, so -1 is the one negative value `counts` holds.
const COUNT_FALLBACK: i64 = -1;

/// The bounds a ping must stay within, from `[version_service.ingest]`.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// How far `recorded_at` may lie beyond the receiving clock.
    pub max_clock_skew: TimeDelta,
    /// How far back `recorded_at` may lie.
    pub max_age: TimeDelta,
    /// Largest count accepted.
    pub max_count: i64,
}

impl From<&IngestConfig> for Rules {
    fn from(config: &IngestConfig) -> Self {
        Self {
            max_clock_skew: TimeDelta::try_seconds(
                i64::try_from(config.max_clock_skew_secs).unwrap_or(i64::MAX),
            )
            .unwrap_or(TimeDelta::MAX),
            max_age: TimeDelta::try_days(i64::from(config.max_ping_age_days))
                .unwrap_or(TimeDelta::MAX),
            max_count: config.max_count,
        }
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::from(&IngestConfig::default())
    }
}

/// Parses and validates a usage-ping body received at `now`; the body is kept whole as the
/// ping's payload.
pub fn parse_ping(body: &[u8], rules: &Rules, now: DateTime<Utc>) -> Result<NewPing, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|err| Error::MalformedJson(format!("body is not UTF-8: {err}")))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|err| Error::MalformedJson(format!("body is not valid JSON: {err}")))?;
    let Value::Object(fields) = value else {
        return Err(invalid(format!(
            "body must be a JSON object, got {}",
            kind(&value)
        )));
    };
    let f = Fields(&fields);

    let uuid = f.required_string("uuid")?;
    if uuid.len() > MAX_UUID_LEN {
        return Err(invalid(format!(
            "field `uuid` must be at most {MAX_UUID_LEN} characters, got {}",
            uuid.len()
        )));
    }
    let hostname = normalize_hostname(&f.required_string("hostname")?);
    if let Some(reason) = entity::hostname::invalid_reason(&hostname) {
        return Err(invalid(format!(
            "field `hostname` is not a valid host name (RFC 1123): {reason}"
        )));
    }
    let recorded_at = f
        .timestamp("recorded_at")?
        .ok_or_else(|| invalid("field `recorded_at` is required"))?;
    check_recorded_at(recorded_at, rules, now)?;
    // The counters stay in the payload (read from there when asked for); checked here so
    // that what is stored is always readable and in bounds.
    if let Some(counts) = f.object("counts")? {
        check_counts("counts", &counts, rules.max_count, 0)?;
    }

    Ok(NewPing {
        uuid,
        hostname,
        recorded_at,
        version: f.string("version")?,
        edition: f.string("edition")?,
        installation_type: f.string("installation_type")?,
        active_user_count: f.count("active_user_count", rules.max_count)?,
        historical_max_users: f.count("historical_max_users", rules.max_count)?,
        license_id: f.integer_or_numeric_string("license_id")?,
        license_md5: f.string("license_md5")?,
        license_sha256: f.string("license_sha256")?,
        license_user_count: f.count("license_user_count", rules.max_count)?,
        license_plan: f.string("license_plan")?,
        license_trial: f.boolean("license_trial")?,
        license_starts_at: f.date("license_starts_at")?,
        license_expires_at: f.date("license_expires_at")?,
        license_subscription_id: f.string("license_subscription_id")?,
        payload: text.to_owned(),
    })
}

/// A ping from the future would stay the host's latest forever; one from long ago is a broken
/// clock. Both are refused rather than clamped: nothing accepted is altered.
fn check_recorded_at(
    recorded_at: DateTime<Utc>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let latest = now.checked_add_signed(rules.max_clock_skew);
    if latest.is_some_and(|latest| recorded_at > latest) {
        return Err(invalid(format!(
            "field `recorded_at` is in the future ({}); at most {} s ahead of the server's clock \
             is accepted",
            recorded_at.to_rfc3339(),
            rules.max_clock_skew.num_seconds()
        )));
    }
    let earliest = now.checked_sub_signed(rules.max_age);
    if earliest.is_some_and(|earliest| recorded_at < earliest) {
        return Err(invalid(format!(
            "field `recorded_at` is too old ({}); at most {} days back is accepted",
            recorded_at.to_rfc3339(),
            rules.max_age.num_days()
        )));
    }
    Ok(())
}

/// Every number under `counts` is a whole count in `[-1, max]` (see [`COUNT_FALLBACK`]).
fn check_counts(path: &str, value: &Value, max: i64, depth: usize) -> Result<(), Error> {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(v) if (COUNT_FALLBACK..=max).contains(&v) => Ok(()),
            Some(v) if v < 0 => Err(invalid(format!(
                "field `{path}` must not be negative, got {v}"
            ))),
            Some(v) => Err(invalid(format!(
                "field `{path}` must be at most {max}, got {v}"
            ))),
            None => Err(invalid(format!(
                "field `{path}` must be a whole count between 0 and {max}, got {n}"
            ))),
        },
        Value::Object(fields) if depth < MAX_COUNTS_DEPTH => fields
            .iter()
            .try_for_each(|(key, v)| check_counts(&format!("{path}.{key}"), v, max, depth + 1)),
        Value::Object(_) => Err(invalid(format!(
            "field `{path}` nests deeper than {MAX_COUNTS_DEPTH} levels"
        ))),
        // Strings, booleans and nulls are not counts; they are kept as sent.
        _ => Ok(()),
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidPayload(message.into())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed access to the payload's fields; absent and `null` both mean "not sent".
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn wrong_type(name: &str, expected: &str, value: &Value) -> Error {
        invalid(format!(
            "field `{name}` must be {expected}, got {}",
            kind(value)
        ))
    }

    fn required_string(&self, name: &str) -> Result<String, Error> {
        let value = self
            .string(name)?
            .ok_or_else(|| invalid(format!("field `{name}` is required")))?;
        if value.trim().is_empty() {
            return Err(invalid(format!("field `{name}` must not be empty")));
        }
        Ok(value)
    }

    fn string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(Self::wrong_type(name, "a string", other)),
        }
    }

    fn integer(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(value @ Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong_type(name, "an integer", value)),
            Some(other) => Err(Self::wrong_type(name, "an integer", other)),
        }
    }

    /// A count: an integer in `0..=max`.
    fn count(&self, name: &str, max: i64) -> Result<Option<i64>, Error> {
        match self.integer(name)? {
            Some(v) if v < 0 => Err(invalid(format!(
                "field `{name}` must not be negative, got {v}"
            ))),
            Some(v) if v > max => Err(invalid(format!(
                "field `{name}` must be at most {max}, got {v}"
            ))),
            other => Ok(other),
        }
    }

    /// Some senders quote ids; a string of digits is as good as the number.
    fn integer_or_numeric_string(&self, name: &str) -> Result<Option<i64>, Error> {
        match self.get(name) {
            Some(value @ Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Self::wrong_type(name, "an integer", value)),
            _ => self.integer(name),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(Self::wrong_type(name, "a boolean", other)),
        }
    }

    fn object(&self, name: &str) -> Result<Option<Value>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(value @ Value::Object(_)) => Ok(Some(value.clone())),
            Some(other) => Err(Self::wrong_type(name, "an object", other)),
        }
    }

    fn timestamp(&self, name: &str) -> Result<Option<DateTime<Utc>>, Error> {
        let Some(text) = self.string(name)? else {
            return Ok(None);
        };
        parse_timestamp(&text).map(Some).ok_or_else(|| {
            invalid(format!(
                "field `{name}` must be an ISO 8601 timestamp, got {text:?}"
            ))
        })
    }

    fn date(&self, name: &str) -> Result<Option<NaiveDate>, Error> {
        let Some(text) = self.string(name)? else {
            return Ok(None);
        };
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .or_else(|| parse_timestamp(&text).map(|t| t.date_naive()));
        date.map(Some).ok_or_else(|| {
            invalid(format!(
                "field `{name}` must be a date (YYYY-MM-DD), got {text:?}"
            ))
        })
    }
}

/// RFC 3339, or a zone-less date-time taken as UTC (as some older servers send).
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z") {
        return Some(t.with_timezone(&Utc));
    }
    let naive = text.strip_suffix(" UTC").unwrap_or(text);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(naive, format).ok())
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-30T12:00:00Z".parse().unwrap()
    }

    fn parse(body: &[u8]) -> Result<NewPing, Error> {
        parse_ping(body, &Rules::default(), now())
    }

    fn message(body: &str) -> String {
        parse(body.as_bytes()).unwrap_err().to_string()
    }

    fn ping_with(field: &str, value: Value) -> String {
        let mut ping = serde_json::json!({
            "uuid": "u", "hostname": "h.example", "recorded_at": "2026-11-22T03:14:07Z"
        });
        ping[field] = value;
        ping.to_string()
    }

    #[test]
    fn minimal_ping() {
        let ping = parse(
            br#"{"uuid":"u","hostname":"H.example.","recorded_at":"2026-11-22T03:14:07.000Z"}"#,
        )
        .unwrap();
        assert_eq!(ping.hostname, "h.example");
        assert_eq!(ping.license_id, None);
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(message("{").contains("not valid JSON"));
        assert!(message("[]").contains("must be a JSON object"));
        assert!(
            message(r#"{"hostname":"h","recorded_at":"2026-01-01T00:00:00Z"}"#)
                .contains("`uuid` is required")
        );
        assert!(
            message(r#"{"uuid":"u","hostname":"h","recorded_at":"2026-01-01T00:00:00Z","active_user_count":"many"}"#)
                .contains("`active_user_count` must be an integer, got a string")
        );
        assert!(
            message(r#"{"uuid":"u","hostname":"h","recorded_at":"yesterday"}"#)
                .contains("`recorded_at` must be an ISO 8601 timestamp")
        );
        assert!(
            message(r#"{"uuid":"u","hostname":" . ","recorded_at":"2026-01-01T00:00:00Z"}"#)
                .contains("`hostname` is not a valid host name (RFC 1123): it is empty")
        );
    }

    #[test]
    fn hostnames_must_be_rfc_1123_after_normalisation() {
        let err = message(&ping_with("hostname", "bad host.example".into()));
        assert!(err.contains("`hostname` is not a valid host name"), "{err}");
        assert!(err.contains("' '"), "{err}");
        assert!(message(&ping_with("hostname", "a..b".into())).contains("`hostname`"));
        let ping = parse(ping_with("hostname", " GitLab.Example. ".into()).as_bytes()).unwrap();
        assert_eq!(ping.hostname, "gitlab.example");
    }

    #[test]
    fn counts_are_non_negative_and_bounded() {
        let err = message(&ping_with("active_user_count", (-5).into()));
        assert!(
            err.contains("`active_user_count` must not be negative, got -5"),
            "{err}"
        );
        let err = message(&ping_with(
            "license_user_count",
            2_000_000_000_000_i64.into(),
        ));
        assert!(
            err.contains("`license_user_count` must be at most"),
            "{err}"
        );
        let err = message(&ping_with("counts", serde_json::json!({"projects": -3})));
        assert!(
            err.contains("`counts.projects` must not be negative"),
            "{err}"
        );
        let err = message(&ping_with("counts", serde_json::json!({"a": {"b": 1.5}})));
        assert!(err.contains("`counts.a.b` must be a whole count"), "{err}");
        let err = message(&ping_with("counts", serde_json::json!({"a": 1e300})));
        assert!(err.contains("`counts.a`"), "{err}");
        // GitLab's marker of a metric it could not compute is kept as sent.
        let ping =
            parse(ping_with("counts", serde_json::json!({"ci_builds": -1, "x": "y"})).as_bytes())
                .unwrap();
        assert!(
            ping.payload.contains(r#""ci_builds":-1"#),
            "{}",
            ping.payload
        );
        let ping = parse(ping_with("active_user_count", 0.into()).as_bytes()).unwrap();
        assert_eq!(ping.active_user_count, Some(0));
    }

    #[test]
    fn recorded_at_must_be_recent_and_not_in_the_future() {
        let err = message(&ping_with("recorded_at", "9999-12-31T00:00:00Z".into()));
        assert!(err.contains("`recorded_at` is in the future"), "{err}");
        let err = message(&ping_with("recorded_at", "1970-01-01T00:00:00Z".into()));
        assert!(err.contains("`recorded_at` is too old"), "{err}");
        // Within the skew passes; just past it does not.
        assert!(parse(ping_with("recorded_at", "2026-11-30T12:04:59Z".into()).as_bytes()).is_ok());
        assert!(parse(ping_with("recorded_at", "2026-11-30T12:05:01Z".into()).as_bytes()).is_err());
        let strict = Rules {
            max_clock_skew: TimeDelta::zero(),
            ..Rules::default()
        };
        let body = ping_with("recorded_at", "2026-11-30T12:00:01Z".into());
        assert!(parse_ping(body.as_bytes(), &strict, now()).is_err());
    }

    #[test]
    fn accepts_zone_less_timestamps() {
        assert!(parse_timestamp("2026-11-22 03:14:07 UTC").is_some());
        assert!(parse_timestamp("2026-11-22T03:14:07").is_some());
    }
}
