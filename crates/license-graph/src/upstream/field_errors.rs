//! Errors the version subgraph raised on one field of an entity, kept in place.
//!
//! An error whose path points into an entity's data (`["_entities", 3, "usagePings_5", 1,
//! "counts"]`) concerns that one field, not the entity: the rest of the entity is good data.
//! For the fields listed in [`IN_PLACE_FIELDS`] the error is written beside the field, under
//! [`FIELD_ERRORS`] in the object that holds it, and the gateway's type answers it at the
//! client's path (`UsagePing::counts`). Any other error fails its whole entity, as before: a
//! field the gateway does not know how to answer in place must not lose its error.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The key, in an object of an entity's data, holding its fields' errors by field name.
pub const FIELD_ERRORS: &str = "__fieldErrors";

/// The fields whose errors are answered in place: only the usage counters, whose
/// `ANSWER_TOO_LARGE` leaves a ping whole but for them.
const IN_PLACE_FIELDS: [&str; 1] = ["counts"];

/// Longest message kept from the version service.
const MAX_MESSAGE_CHARS: usize = 300;

/// One field's error, as the version service reported it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct FieldError {
    /// Its message.
    pub message: String,
    /// Its `extensions.code`, when it had one.
    #[serde(default)]
    pub code: Option<String>,
}

/// Writes `error` beside the field `rest` points to in `entity` (the path below
/// `_entities[i]`); `false` when it is not a field answered in place, or the path does not lead
/// to a null field of an object.
pub fn place(entity: &mut Value, rest: &[Value], error: &Value) -> bool {
    let Some((Value::String(field), parent_path)) = rest.split_last() else {
        return false;
    };
    if !IN_PLACE_FIELDS.contains(&field.as_str()) {
        return false;
    }
    let mut parent = entity;
    for segment in parent_path {
        let next = match segment {
            Value::String(name) => parent.get_mut(name.as_str()),
            Value::Number(index) => index
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| parent.get_mut(i)),
            _ => None,
        };
        let Some(next) = next else {
            return false;
        };
        parent = next;
    }
    let Value::Object(object) = parent else {
        return false;
    };
    if !object.get(field.as_str()).is_none_or(Value::is_null) {
        return false;
    }
    let message: String = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("unknown error")
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .collect();
    let code = error.pointer("/extensions/code").and_then(Value::as_str);
    let errors = object
        .entry(FIELD_ERRORS)
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(errors) = errors {
        errors.insert(field.clone(), json!({ "message": message, "code": code }));
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counts_error_is_placed_beside_its_field() {
        let mut entity = json!({"name": "h", "usagePings_3": [
            {"uuid": "a", "counts": {"x": 1}}, {"uuid": "b", "counts": null}
        ]});
        let error = json!({"message": "too much", "extensions": {"code": "ANSWER_TOO_LARGE"}});
        assert!(place(
            &mut entity,
            &[json!("usagePings_3"), json!(1), json!("counts")],
            &error
        ));
        assert_eq!(
            entity["usagePings_3"][1][FIELD_ERRORS],
            json!({"counts": {"message": "too much", "code": "ANSWER_TOO_LARGE"}})
        );
        assert!(entity["usagePings_3"][0].get(FIELD_ERRORS).is_none());
    }

    #[test]
    fn other_fields_and_paths_that_lead_nowhere_are_not_placed() {
        let mut entity = json!({"latestUsagePing": {"version": null, "counts": {"x": 1}}});
        let error = json!({"message": "boom"});
        for rest in [
            vec![json!("latestUsagePing"), json!("version")],
            vec![json!("latestUsagePing"), json!("counts")],
            vec![json!("nowhere"), json!("counts")],
            vec![json!("latestUsagePing"), json!(0), json!("counts")],
            vec![],
        ] {
            assert!(!place(&mut entity, &rest, &error), "{rest:?}");
        }
        assert!(entity["latestUsagePing"].get(FIELD_ERRORS).is_none());
    }
}
