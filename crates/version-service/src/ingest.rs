//! Turning a usage-ping body into a [`NewPing`]: parse, check types, normalise the hostname.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::{Error, store::NewPing};

/// Parses and validates a usage-ping body; the body is kept whole as the ping's payload.
pub fn parse_ping(body: &[u8]) -> Result<NewPing, Error> {
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
    let hostname = normalize_hostname(&f.required_string("hostname")?);
    if hostname.is_empty() {
        return Err(invalid("field `hostname` must not be empty"));
    }
    let recorded_at = f
        .timestamp("recorded_at")?
        .ok_or_else(|| invalid("field `recorded_at` is required"))?;
    // Kept in the payload (read from there when asked for); checked here so that what is
    // stored is always readable.
    f.object("counts")?;

    Ok(NewPing {
        uuid,
        hostname,
        recorded_at,
        version: f.string("version")?,
        edition: f.string("edition")?,
        installation_type: f.string("installation_type")?,
        active_user_count: f.integer("active_user_count")?,
        historical_max_users: f.integer("historical_max_users")?,
        license_id: f.integer_or_numeric_string("license_id")?,
        license_md5: f.string("license_md5")?,
        license_sha256: f.string("license_sha256")?,
        license_user_count: f.integer("license_user_count")?,
        license_plan: f.string("license_plan")?,
        license_trial: f.boolean("license_trial")?,
        license_starts_at: f.date("license_starts_at")?,
        license_expires_at: f.date("license_expires_at")?,
        license_subscription_id: f.string("license_subscription_id")?,
        payload: text.to_owned(),
    })
}

/// Hostnames are compared trimmed, in lower case and without the DNS root's trailing dot.
pub fn normalize_hostname(name: &str) -> String {
    name.trim().trim_end_matches('.').to_lowercase()
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

    fn message(body: &str) -> String {
        parse_ping(body.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn normalises_hostnames() {
        assert_eq!(
            normalize_hostname("  GitLab.AcmeInc.com. "),
            "gitlab.acmeinc.com"
        );
    }

    #[test]
    fn minimal_ping() {
        let ping = parse_ping(
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
                .contains("`hostname` must not be empty")
        );
    }

    #[test]
    fn accepts_zone_less_timestamps() {
        assert!(parse_timestamp("2026-11-22 03:14:07 UTC").is_some());
        assert!(parse_timestamp("2026-11-22T03:14:07").is_some());
    }
}
