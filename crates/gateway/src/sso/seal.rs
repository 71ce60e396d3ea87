//! Sealing: authenticated encryption (AES-256-GCM, a random 96-bit nonce per value) of the
//! small values sign-in hands out or keeps, so that whoever holds a sealed value can neither
//! read nor alter it. Each key is derived (HKDF-SHA256) from a secret *for one purpose*, so a
//! value sealed for one purpose never opens for another.
//!
//! Two uses: the login cookie (a sign-in on its way to the provider, see `pending`), sealed
//! with a key of the gateway's; and a session's ID token in the store, sealed with a key
//! derived from the session's own secret, which only the browser's cookie holds (see
//! `sessions`).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::Sha256;

/// Bytes of a nonce (GCM's standard 96 bits).
const NONCE_BYTES: usize = 12;

/// What a key is for; each derives its own key from the same secret.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    /// The login cookie: a sign-in's `state`, nonce, PKCE verifier and return path.
    LoginCookie,
    /// A session's ID token, kept for the provider's sign-out (`id_token_hint`).
    IdToken,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::LoginCookie => b"licensedot sso login cookie v1",
            Purpose::IdToken => b"licensedot session id token v1",
        }
    }
}

/// A key for one purpose.
#[derive(Clone)]
pub(crate) struct SealingKey(Aes256Gcm);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    /// The key for `purpose` derived from `secret` (HKDF-SHA256, the purpose as `info`).
    pub(crate) fn derive(secret: &[u8], purpose: Purpose) -> Self {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32), so expanding cannot fail.
        let _ = Hkdf::<Sha256>::new(None, secret).expand(purpose.label(), &mut key);
        Self(Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)))
    }

    /// `plaintext`, sealed: base64url (no padding) of the nonce and the ciphertext with its tag.
    pub(crate) fn seal(&self, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        // Encrypting a byte slice into a vector fails only for inputs of gigabytes.
        let sealed = self
            .0
            .encrypt(&Nonce::from(nonce), plaintext)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The plaintext of a value [`SealingKey::seal`] made with this key; `None` for anything
    /// else (altered, truncated, sealed with another key or for another purpose).
    pub(crate) fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() <= NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        self.0.decrypt(&Nonce::from(nonce), ciphertext).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only_and_never_once_altered() {
        let key = SealingKey::derive(b"a secret of the gateway's", Purpose::LoginCookie);
        let sealed = key.seal(b"state and nonce");
        assert!(!sealed.contains("state"), "{sealed}");
        assert_eq!(key.open(&sealed).as_deref(), Some(&b"state and nonce"[..]));
        // Sealed twice, the same value looks different (a fresh nonce each time).
        assert_ne!(key.seal(b"state and nonce"), sealed);

        let other_purpose = SealingKey::derive(b"a secret of the gateway's", Purpose::IdToken);
        let other_secret = SealingKey::derive(b"another secret", Purpose::LoginCookie);
        assert_eq!(other_purpose.open(&sealed), None);
        assert_eq!(other_secret.open(&sealed), None);

        let mut altered = sealed.into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap_or_default();
        assert_eq!(key.open(&altered), None);
        assert_eq!(key.open(""), None);
        assert_eq!(key.open("not base64 at all!"), None);
    }
}
