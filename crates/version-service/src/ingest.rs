//! Turning a usage-ping body into a [`NewPing`]: parse, check types and bounds, normalise the
//! hostname, and clean the payload down to what is kept (see [`parse_ping`]).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::{Error, config::IngestConfig, store::usage_ping::NewPing};

/// The one normalisation of hostnames, shared with the license side: it is the join key.
pub use entity::hostname::normalise as normalize_hostname;

/// Longest installation `uuid` accepted (GitLab sends 36): it keys the rate limit.
const MAX_UUID_LEN: usize = 128;

/// Nesting followed inside `counts` before giving up (real pings nest two or three levels).
const MAX_COUNTS_DEPTH: usize = 8;

/// Most entries (numbers and nested objects, at every level) `counts` may hold once cleaned: a
/// real ping's `counts` has a few hundred. With [`MAX_COUNTS_KEY_BYTES`] it bounds a stored
/// `counts` to well under a megabyte.
pub const MAX_COUNTS_ENTRIES: usize = 5_000;

/// Longest key inside `counts`, in bytes (real metric names run to about 60).
pub const MAX_COUNTS_KEY_BYTES: usize = 128;

/// Longest value of a kept string field (`version`, `license_plan`, the digests, ...): real
/// values are a few dozen characters.
pub const MAX_FIELD_CHARS: usize = 255;

/// Most stripped fields an answer names one by one (it also says how many there were in all).
const MAX_REPORTED_STRIPPED: usize = 50;

/// Longest stripped field path an answer quotes (longer ones are cut, ending with `…`).
const MAX_REPORTED_PATH_CHARS: usize = 128;

/// The top-level fields a stored ping keeps: the ones the graph reads (each also a column) and
/// the usage counters. Everything else a sender adds is stripped.
const KEPT_FIELDS: [&str; 18] = [
    "uuid",
    "hostname",
    "recorded_at",
    "version",
    "edition",
    "installation_type",
    "active_user_count",
    "historical_max_users",
    "license_id",
    "license_md5",
    "license_sha256",
    "license_user_count",
    "license_plan",
    "license_trial",
    "license_starts_at",
    "license_expires_at",
    "license_subscription_id",
    "counts",
];

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

/// A validated ping and what was stripped from it on the way.
#[derive(Debug)]
pub struct Parsed {
    /// The ping to store; its payload is the cleaned JSON.
    pub ping: NewPing,
    /// What was left out of the stored payload.
    pub stripped: Stripped,
}

/// The fields left out of a stored payload, as paths (`settings`, `counts.pad`), for the answer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The first [`MAX_REPORTED_STRIPPED`] paths, in the order met (each cut to
    /// [`MAX_REPORTED_PATH_CHARS`]).
    pub paths: Vec<String>,
    /// How many fields were stripped in all.
    pub total: usize,
}

impl Stripped {
    fn add(&mut self, path: &str) {
        self.total += 1;
        if self.paths.len() < MAX_REPORTED_STRIPPED {
            self.paths.push(cut(path, MAX_REPORTED_PATH_CHARS));
        }
    }
}

/// Parses and validates a usage-ping body received at `now`.
///
/// What is stored as the ping's payload is not the body but a cleaned copy: the fields the graph
/// reads ([`KEPT_FIELDS`], each of its type, strings at most [`MAX_FIELD_CHARS`]) and `counts`
/// with numbers only. Unknown top-level fields (GitLab sends many: settings, licensee, topology,
/// other metric sections), and strings, arrays, booleans and nulls inside `counts`, are stripped
/// and named in [`Parsed::stripped`]. What would make a stored ping unbounded or wrong is refused
/// (422): a kept field of the wrong type or too long, a count out of range, `counts` nested
/// deeper than [`MAX_COUNTS_DEPTH`], with more than [`MAX_COUNTS_ENTRIES`] entries, or a key
/// longer than [`MAX_COUNTS_KEY_BYTES`]; stripping there would store a silently truncated
/// ping. The cleaned payload is never larger than the body (whitespace and escapes only shrink).
pub fn parse_ping(body: &[u8], rules: &Rules, now: DateTime<Utc>) -> Result<Parsed, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|err| Error::MalformedJson(format!("body is not UTF-8: {err}")))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|err| Error::MalformedJson(format!("body is not valid JSON: {err}")))?;
    let Value::Object(mut fields) = value else {
        return Err(invalid(format!(
            "body must be a JSON object, got {}",
            kind(&value)
        )));
    };
    // Taken out, not copied: it can be most of a body of megabytes.
    let counts = fields.remove("counts");
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
    let mut stripped = Stripped::default();
    for name in fields.keys() {
        if !KEPT_FIELDS.contains(&name.as_str()) {
            stripped.add(name);
        }
    }
    // The counters stay in the payload (read from there when asked for); cleaned here so that
    // what is stored is always readable and in bounds.
    let counts = match counts {
        None | Some(Value::Null) => None,
        Some(Value::Object(counts)) => {
            let mut entries = 0;
            Some(clean_counts(
                "counts",
                counts,
                rules.max_count,
                0,
                &mut entries,
                &mut stripped,
            )?)
        }
        Some(other) => return Err(Fields::wrong_type("counts", "an object", &other)),
    };
    for name in KEPT_FIELDS {
        if let Some(Value::String(text)) = f.get(name)
            && text.chars().count() > MAX_FIELD_CHARS
        {
            return Err(invalid(format!(
                "field `{name}` must be at most {MAX_FIELD_CHARS} characters, got {}",
                text.chars().count()
            )));
        }
    }
    let payload = cleaned_payload(&fields, counts);

    let ping = NewPing {
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
        payload,
    };
    Ok(Parsed { ping, stripped })
}

/// The payload to store: the kept fields as sent (already checked), `counts` as cleaned.
fn cleaned_payload(fields: &Map<String, Value>, counts: Option<Map<String, Value>>) -> String {
    let mut kept: Map<String, Value> = KEPT_FIELDS
        .iter()
        .filter(|name| **name != "counts")
        .filter_map(|name| {
            fields
                .get(*name)
                .filter(|value| !value.is_null())
                .map(|value| ((*name).to_owned(), value.clone()))
        })
        .collect();
    if let Some(counts) = counts {
        kept.insert("counts".to_owned(), Value::Object(counts));
    }
    Value::Object(kept).to_string()
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

/// `counts` (or an object inside it) with only its numbers and nested objects: every number a
/// whole count in `[-1, max]` (see [`COUNT_FALLBACK`]); anything else is stripped into
/// `stripped`. `entries` counts what is kept, across the levels.
fn clean_counts(
    path: &str,
    fields: Map<String, Value>,
    max: i64,
    depth: usize,
    entries: &mut usize,
    stripped: &mut Stripped,
) -> Result<Map<String, Value>, Error> {
    if depth >= MAX_COUNTS_DEPTH {
        return Err(invalid(format!(
            "field `{}` nests deeper than {MAX_COUNTS_DEPTH} levels",
            cut(path, MAX_REPORTED_PATH_CHARS)
        )));
    }
    let mut kept = Map::new();
    for (key, value) in fields {
        let here = format!("{path}.{key}");
        if !matches!(value, Value::Number(_) | Value::Object(_)) {
            // Strings, arrays, booleans and nulls are not counts.
            stripped.add(&here);
            continue;
        }
        if key.len() > MAX_COUNTS_KEY_BYTES {
            return Err(invalid(format!(
                "field `{}` has a key longer than {MAX_COUNTS_KEY_BYTES} bytes",
                cut(&here, MAX_REPORTED_PATH_CHARS)
            )));
        }
        *entries += 1;
        if *entries > MAX_COUNTS_ENTRIES {
            return Err(invalid(format!(
                "field `counts` must hold at most {MAX_COUNTS_ENTRIES} numbers and objects"
            )));
        }
        let value = match value {
            Value::Number(n) => Value::Number(check_count(&here, n, max)?),
            Value::Object(inner) => Value::Object(clean_counts(
                &here,
                inner,
                max,
                depth + 1,
                entries,
                stripped,
            )?),
            other => other,
        };
        kept.insert(key, value);
    }
    Ok(kept)
}

/// A number under `counts`: a whole count in `[-1, max]` (see [`COUNT_FALLBACK`]).
fn check_count(path: &str, n: serde_json::Number, max: i64) -> Result<serde_json::Number, Error> {
    let path = cut(path, MAX_REPORTED_PATH_CHARS);
    match n.as_i64() {
        Some(v) if (COUNT_FALLBACK..=max).contains(&v) => Ok(n),
        Some(v) if v < 0 => Err(invalid(format!(
            "field `{path}` must not be negative, got {v}"
        ))),
        Some(v) => Err(invalid(format!(
            "field `{path}` must be at most {max}, got {v}"
        ))),
        None => Err(invalid(format!(
            "field `{path}` must be a whole count between 0 and {max}, got {n}"
        ))),
    }
}

/// `text` cut to `max` characters, ending with `…` when it was longer.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
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
        parse_ping(body, &Rules::default(), now()).map(|parsed| parsed.ping)
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
            parse(ping_with("counts", serde_json::json!({"ci_builds": -1})).as_bytes()).unwrap();
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

    fn cleaned(body: &serde_json::Value) -> (serde_json::Value, Stripped) {
        let parsed = parse_ping(body.to_string().as_bytes(), &Rules::default(), now()).unwrap();
        (
            serde_json::from_str(&parsed.ping.payload).unwrap(),
            parsed.stripped,
        )
    }

    #[test]
    fn the_payload_keeps_the_graphs_fields_and_numeric_counts_only() {
        let body = serde_json::json!({
            "uuid": "u", "hostname": "H.example", "recorded_at": "2026-11-22T03:14:07Z",
            "version": "17.3.2-ee", "license_md5": "abc", "active_user_count": 7,
            "licensee": {"Name": "Jane"}, "settings": {"x": [1, 2]},
            "counts": {
                "projects": 3, "pad": "x".repeat(10_000), "list": [1, 2],
                "nested": {"a": 1, "b": true, "c": null}, "flag": false
            }
        });
        let (payload, stripped) = cleaned(&body);
        assert_eq!(
            payload,
            serde_json::json!({
                "uuid": "u", "hostname": "H.example", "recorded_at": "2026-11-22T03:14:07Z",
                "version": "17.3.2-ee", "license_md5": "abc", "active_user_count": 7,
                "counts": {"projects": 3, "nested": {"a": 1}}
            })
        );
        let mut paths = stripped.paths.clone();
        paths.sort();
        assert_eq!(
            paths,
            [
                "counts.flag",
                "counts.list",
                "counts.nested.b",
                "counts.nested.c",
                "counts.pad",
                "licensee",
                "settings"
            ]
        );
        assert_eq!(stripped.total, 7);
        // Nothing to strip, nothing named.
        let (_, stripped) = cleaned(&serde_json::json!({
            "uuid": "u", "hostname": "h.example", "recorded_at": "2026-11-22T03:14:07Z",
            "counts": {"projects": 3}
        }));
        assert_eq!(stripped, Stripped::default());
    }

    #[test]
    fn the_answer_names_a_bounded_number_of_stripped_fields() {
        let mut body = serde_json::json!({
            "uuid": "u", "hostname": "h.example", "recorded_at": "2026-11-22T03:14:07Z"
        });
        for i in 0..200 {
            body[format!("extra_{i:03}_{}", "k".repeat(300))] = i.into();
        }
        let (payload, stripped) = cleaned(&body);
        assert_eq!(payload.as_object().unwrap().len(), 3);
        assert_eq!(stripped.total, 200);
        assert_eq!(stripped.paths.len(), MAX_REPORTED_STRIPPED);
        assert!(
            stripped
                .paths
                .iter()
                .all(|p| p.chars().count() == MAX_REPORTED_PATH_CHARS && p.ends_with('…'))
        );
    }

    #[test]
    fn counts_too_wide_too_deep_or_with_long_keys_and_long_fields_are_refused() {
        let wide: serde_json::Map<String, Value> = (0..=MAX_COUNTS_ENTRIES)
            .map(|i| (format!("m{i}"), 1.into()))
            .collect();
        let err = message(&ping_with("counts", wide.clone().into()));
        assert!(err.contains("at most 5000 numbers"), "{err}");
        // At the bound it passes, and stripped entries do not count toward it.
        let mut at_bound = wide;
        at_bound.remove("m0");
        at_bound.insert("note".to_owned(), "text".into());
        assert!(parse(ping_with("counts", at_bound.into()).as_bytes()).is_ok());

        let mut deep = serde_json::json!(1);
        for _ in 0..=MAX_COUNTS_DEPTH {
            deep = serde_json::json!({ "d": deep });
        }
        let err = message(&ping_with("counts", deep));
        assert!(err.contains("nests deeper than 8 levels"), "{err}");

        let long_key = "k".repeat(MAX_COUNTS_KEY_BYTES + 1);
        let err = message(&ping_with("counts", serde_json::json!({ long_key: 1 })));
        assert!(err.contains("key longer than 128 bytes"), "{err}");

        let err = message(&ping_with(
            "version",
            "v".repeat(MAX_FIELD_CHARS + 1).into(),
        ));
        assert!(
            err.contains("`version` must be at most 255 characters"),
            "{err}"
        );
        let err = message(&ping_with("counts", "many".into()));
        assert!(err.contains("`counts` must be an object"), "{err}");
    }

    #[test]
    fn the_cleaned_payload_is_never_larger_than_the_body() {
        let body = r#"{ "uuid" : "u", "hostname" : "h.example",
            "recorded_at" : "2026-11-22T03:14:07Z", "version": "17\/3",
            "counts" : { "\u0061" : 1 } }"#;
        let parsed = parse_ping(body.as_bytes(), &Rules::default(), now()).unwrap();
        assert!(parsed.ping.payload.len() <= body.len());
        assert!(parsed.ping.payload.contains(r#""counts":{"a":1}"#));
    }
}
