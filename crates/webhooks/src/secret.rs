//! Signing secrets: made here, shown once as `whsec_<base64>` (the Standard Webhooks form),
//! and kept in the database encrypted with the gateway's key (AES-256-GCM, a random nonce per
//! secret), so a copy of the database alone signs nothing.
//!
//! Stored form: `v1.<base64 of nonce ‖ ciphertext ‖ tag>`. The version prefix leaves room for
//! another scheme without guessing. Changing `secret_key` makes the stored secrets unreadable:
//! their deliveries then fail with a message saying so, until each endpoint's secret is
//! rotated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// Bytes of a signing secret (the spec allows 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// The prefix of a secret as receivers are given it.
pub const PREFIX: &str = "whsec_";

const STORED_PREFIX: &str = "v1.";

/// Binds ciphertexts to their use: a value encrypted for something else does not decrypt here.
const AAD: &[u8] = b"licensedot webhook signing secret v1";

/// Why `secret_key` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not base64")]
    NotBase64,
    #[error("must be 32 bytes (base64 of 32 random bytes), got {0} bytes")]
    Length(usize),
}

/// A stored secret that cannot be read with the configured key.
#[derive(Debug, thiserror::Error)]
#[error(
    "the endpoint's signing secret cannot be decrypted with [gateway.webhooks] secret_key \
     (was the key changed?); rotate the endpoint's secret"
)]
pub struct Undecryptable;

/// A signing secret's bytes. `Debug` shows nothing of them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Result<Self, ring::error::Unspecified> {
        let mut bytes = vec![0; SECRET_BYTES];
        SystemRandom::new().fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// A secret of these bytes (tests: the spec's example secret).
    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes HMAC is keyed with.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// `whsec_<base64>`: what the admin is shown once, and what receivers' libraries take.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }
}

/// The gateway's key for secrets at rest. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Cipher {
    key: std::sync::Arc<LessSafeKey>,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// The cipher keyed with `key`, 32 bytes in base64.
    pub fn from_base64(key: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| KeyError::NotBase64)?;
        let unbound =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| KeyError::Length(bytes.len()))?;
        Ok(Self {
            key: std::sync::Arc::new(LessSafeKey::new(unbound)),
        })
    }

    /// `secret` in its stored form.
    pub fn seal(&self, secret: &Secret) -> Result<String, ring::error::Unspecified> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce)?;
        let mut sealed = secret.0.clone();
        self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(AAD),
            &mut sealed,
        )?;
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok(format!("{STORED_PREFIX}{}", STANDARD.encode(stored)))
    }

    /// The secret a stored form holds.
    pub fn open(&self, stored: &str) -> Result<Secret, Undecryptable> {
        let encoded = stored.strip_prefix(STORED_PREFIX).ok_or(Undecryptable)?;
        let mut bytes = STANDARD.decode(encoded).map_err(|_| Undecryptable)?;
        if bytes.len() < NONCE_LEN {
            return Err(Undecryptable);
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| Undecryptable)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(AAD), &mut sealed)
            .map_err(|_| Undecryptable)?;
        Ok(Secret(plain.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const OTHER_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";

    fn cipher(key: &str) -> Cipher {
        Cipher::from_base64(key).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn secrets_round_trip_and_never_show_in_stored_form_or_debug() {
        let secret = Secret::generate().unwrap_or_else(|_| panic!("no randomness"));
        let revealed = secret.reveal();
        assert!(revealed.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&revealed[6..]).ok(), Some(secret.0.clone()));
        let stored = cipher(KEY).seal(&secret).unwrap_or_default();
        assert!(stored.starts_with("v1.") && !stored.contains(&revealed[6..]));
        assert_eq!(cipher(KEY).open(&stored).ok(), Some(secret.clone()));
        assert_ne!(
            cipher(KEY).seal(&secret).unwrap_or_default(),
            stored,
            "fresh nonce"
        );
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn another_key_or_a_tampered_value_does_not_open() {
        let secret = Secret::generate().unwrap_or_else(|_| panic!("no randomness"));
        let stored = cipher(KEY).seal(&secret).unwrap_or_default();
        assert!(cipher(OTHER_KEY).open(&stored).is_err());
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            cipher(KEY)
                .open(&String::from_utf8_lossy(&tampered))
                .is_err()
        );
        assert!(cipher(KEY).open("whsec_plain").is_err());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(matches!(
            Cipher::from_base64("c2hvcnQ="),
            Err(KeyError::Length(5))
        ));
        assert!(matches!(
            Cipher::from_base64("not base64!"),
            Err(KeyError::NotBase64)
        ));
    }
}
