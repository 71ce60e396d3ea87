//! A GraphQL GET request: its parameters come in the query string.

use serde_json::{Value, json};

/// The parameters of a GraphQL GET request, as the spec names them.
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Reads a GET request's parameters (`variables` and `extensions` are JSON-encoded).
pub(crate) fn get_request(uri: &axum::http::Uri) -> Result<async_graphql::Request, String> {
    let axum::extract::Query(params) =
        axum::extract::Query::<GetParams>::try_from_uri(uri).map_err(|e| e.body_text())?;
    let json = |name: &str, text: Option<String>| -> Result<Value, String> {
        match text {
            None => Ok(json!({})),
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| format!("`{name}` is not JSON: {e}"))
            }
        }
    };
    let request = json!({
        "query": params.query,
        "operationName": params.operation_name,
        "variables": json("variables", params.variables)?,
        "extensions": json("extensions", params.extensions)?,
    });
    serde_json::from_value(request).map_err(|e| e.to_string())
}
