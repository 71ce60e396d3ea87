//! Every `extensions.code` licensedot answers with.

use serde::Serialize;

/// A stable, machine-readable error code (`extensions.code`). The wire form is the variant's
/// name in SCREAMING_SNAKE_CASE (`Code::QueryTooDeep` is `QUERY_TOO_DEEP`); clients match on
/// it, so a code is never renamed.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    // ---- Request errors: the request never executed (no `data`) ----
    /// The document is not GraphQL.
    GraphqlParseFailed,
    /// The document does not fit the schema (a variable of the wrong type included).
    GraphqlValidationFailed,
    /// `operationName` is missing (several operations) or names none of them.
    OperationResolutionFailure,
    /// The selection is nested deeper than allowed.
    QueryTooDeep,
    /// The query's estimated cost is above the limit.
    QueryTooComplex,
    /// The document has more aliases than allowed.
    TooManyAliases,
    /// The operation has more root fields than allowed.
    TooManyRootFields,
    /// A value the caller can fix: a missing required variable, a bad argument.
    BadUserInput,
    /// A mutation sent with GET, or a method the path does not take (see `Allow`).
    MethodNotAllowed,
    /// An automatic persisted query whose hash is not registered yet (send the query too).
    PersistedQueryNotFound,
    /// A persisted-query hash sent to a gateway that takes none.
    PersistedQueryNotSupported,
    /// The persisted-query hash is not the SHA-256 of the query sent with it.
    PersistedQueryHashMismatch,
    /// Safelist mode: no registered operation has this id.
    PersistedQueryNotInList,
    /// Safelist mode: a free-form query.
    QueryNotInSafelist,

    // ---- HTTP refusals: the request is not a GraphQL request we take ----
    /// No such path.
    NotFound,
    /// Not a GraphQL request (malformed JSON, no `query`, an empty batch), or a malformed
    /// usage ping.
    BadRequest,
    /// The body is larger than allowed.
    RequestTooLarge,
    /// `Accept` allows none of the media types we answer in.
    NotAcceptable,
    /// The body's `Content-Type` is not one we take.
    UnsupportedMediaType,
    /// A batch holds more operations than allowed.
    BatchTooLarge,
    /// Too many requests at once: retry after `Retry-After`.
    ServiceOverloaded,
    /// The request head or body did not arrive in time (408), or execution took too long (504).
    RequestTimeout,
    /// The answer is larger than allowed; ask for less.
    ResponseTooLarge,
    /// The sender is over its rate limit: retry after `Retry-After`.
    RateLimited,
    /// A usage ping that is JSON but not a valid ping.
    InvalidUsagePing,
    /// The service cannot serve right now (its database does not answer).
    NotReady,

    // ---- Authentication ----
    /// No credentials, or (the version service) not its service token.
    Unauthenticated,
    /// The `Authorization` header or the token is malformed.
    TokenMalformed,
    /// The token expired.
    TokenExpired,
    /// The token is not valid yet.
    TokenNotYetValid,
    /// The token's signature is invalid.
    TokenBadSignature,
    /// The token was issued by an unexpected issuer.
    TokenWrongIssuer,
    /// The token is meant for another audience.
    TokenWrongAudience,
    /// The token names a signing key the key set does not hold.
    TokenUnknownKey,
    /// The token's signing algorithm is not allowed.
    TokenAlgorithmNotAllowed,
    /// The token lacks a required claim.
    TokenMissingClaim,
    /// A token claim has an invalid value.
    TokenInvalidClaim,
    /// An OpenID Connect ID token (it carries a `nonce`, or names the sign-in client as its
    /// audience) sent as a bearer token: it proves a sign-in to the gateway, it does not grant
    /// access to the API.
    TokenNotAnAccessToken,
    /// A genuine token without any licensedot role (403).
    ForbiddenNoRole,
    /// The session cookie names a session that ended (signed out, idle or too old): sign in
    /// again.
    SessionEnded,
    /// A request authenticated by the session cookie came from another site (CSRF).
    CrossSiteRequest,
    /// The signing keys (or the session store) cannot be reached right now (503).
    AuthUnavailable,
    /// Minting a development token failed.
    TokenSigningFailed,

    // ---- Field errors: one field is `null`, the rest of the answer stands ----
    /// A pagination cursor this API did not hand out.
    InvalidCursor,
    /// `first` or `last` beyond the allowed maximum.
    PageTooLarge,
    /// The caller's role may not do this; nothing was read or written.
    Forbidden,
    /// The data changed since the caller read it (a stale `expectedVersion`); nothing was
    /// written, and `extensions.current` holds the state now.
    Conflict,
    /// The version service's usage counters are larger than one answer may carry.
    AnswerTooLarge,
    /// The version service is down (refused, reset, 5xx).
    UpstreamUnavailable,
    /// The version service did not answer in time.
    UpstreamTimeout,
    /// Calls to the version service are paused after repeated failures.
    UpstreamCircuitOpen,
    /// The version service's answer was unusable or too large.
    UpstreamBadResponse,
    /// The version service answered with an error for this key.
    UpstreamError,
    /// Webhooks are off in this gateway's configuration (`[gateway.webhooks] enabled`).
    WebhooksDisabled,

    // ---- Ours ----
    /// Something failed on our side; the log has the details under the request id.
    InternalServerError,
}

impl Code {
    /// The wire form, e.g. `"QUERY_TOO_DEEP"`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn every_code_reads_back_and_serialises_as_its_wire_form() {
        for code in Code::iter() {
            let wire = code.as_str();
            assert!(
                wire.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                "{wire}"
            );
            assert_eq!(Code::from_str(wire), Ok(code));
            assert_eq!(serde_json::to_value(code).unwrap(), wire);
            assert_eq!(code.to_string(), wire);
        }
        assert_eq!(Code::GraphqlParseFailed.as_str(), "GRAPHQL_PARSE_FAILED");
        assert_eq!(Code::InternalServerError.as_str(), "INTERNAL_SERVER_ERROR");
        assert!(Code::from_str("NOT_A_CODE").is_err());
    }
}
