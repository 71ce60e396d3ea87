//! Binding a list of keys as ONE parameter, so that a statement's text and its parameter count
//! do not grow with the number of keys (thousands of placeholders cost parse time and hit the
//! drivers' limits): PostgreSQL takes an array (`= ANY($1)`), SQLite a JSON array it unpacks
//! with `json_each`.

use sea_orm::{DbBackend, Value};

/// Placeholder for the `index`-th (1-based) bound parameter in `backend`'s dialect.
pub(super) fn placeholder(backend: DbBackend, index: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${index}"),
        _ => format!("?{index}"),
    }
}

/// `column` is one of the keys bound as parameter `index`.
pub(super) fn in_list(backend: DbBackend, column: &str, index: usize) -> String {
    let p = placeholder(backend, index);
    match backend {
        DbBackend::Postgres => format!("{column} = ANY({p})"),
        _ => format!("{column} IN (SELECT value FROM json_each({p}))"),
    }
}

/// The keys as the single parameter [`in_list`] expects.
pub(super) fn list<T>(backend: DbBackend, keys: Vec<T>) -> Value
where
    T: Into<Value> + serde::Serialize,
    Vec<T>: Into<Value>,
{
    match backend {
        DbBackend::Postgres => keys.into(),
        // Numbers and strings only: serialising them cannot fail.
        _ => Value::from(serde_json::to_string(&keys).unwrap_or_else(|_| "[]".to_owned())),
    }
}
