//! Signing per the Standard Webhooks spec: HMAC-SHA256 keyed with the secret's bytes over
//! `<webhook-id>.<webhook-timestamp>.<body>`, base64, sent as `webhook-signature: v1,<sig>`.
//! While a rotated-out secret is still in its grace period the header carries both signatures,
//! space-separated (the spec's form for several), so a receiver that still has the old secret
//! verifies too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

use crate::secret::Secret;

/// The three headers of a signed delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// `webhook-id`: the event's stable id.
    pub id: String,
    /// `webhook-timestamp`: when this attempt was signed, in Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`: `v1,<base64>` per secret, space-separated.
    pub signature: String,
}

/// Signs `body` for the event `id` at `timestamp` with each of `secrets`.
pub fn sign(id: &str, timestamp: i64, body: &str, secrets: &[Secret]) -> Signed {
    let content = format!("{id}.{timestamp}.{body}");
    let signature = secrets
        .iter()
        .map(|secret| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.bytes());
            format!(
                "v1,{}",
                STANDARD.encode(hmac::sign(&key, content.as_bytes()))
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    Signed {
        id: id.to_owned(),
        timestamp,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks documentation, signed by its reference libraries.
    #[test]
    fn signs_the_specs_example_like_the_reference_implementations() {
        let secret = STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .map(Secret::from_bytes)
            .unwrap_or_else(|e| panic!("{e}"));
        let signed = sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
            std::slice::from_ref(&secret),
        );
        assert_eq!(
            signed.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let other = Secret::from_bytes(vec![7; 32]);
        let both = sign("msg_1", 1, "{}", &[secret, other]);
        let parts: Vec<&str> = both.signature.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }
}
