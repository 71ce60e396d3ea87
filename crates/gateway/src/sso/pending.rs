//! A sign-in on its way to the provider and back, kept in the browser that started it: the
//! login cookie holds the `state`, the nonce, the PKCE verifier, the return path and the
//! moment it expires, sealed with the gateway's login key (`seal`). Nothing is stored
//! server-side before the provider answers, so a flood of `/auth/login` fills no table and
//! locks nobody out: there is no shared capacity to use up.
//!
//! An answer works once because the provider exchanges a code once (RFC 6749 4.1.2), and
//! PKCE binds the code to this verifier; the callback also clears the cookie. The sealed
//! expiry bounds a captured cookie to `login_timeout_secs`, whatever its `Max-Age` said.

use serde::{Deserialize, Serialize};

use super::seal::SealingKey;

/// What the callback needs besides the provider's code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    /// The `state` sent to the provider; the answer must carry the same.
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier of the code challenge sent to the provider.
    pub pkce_verifier: String,
    /// Where the browser goes once signed in (a path on this site).
    pub return_to: String,
    /// Unix seconds after which the sign-in is refused.
    pub expires_at: i64,
}

impl PendingLogin {
    /// The cookie's value.
    pub(crate) fn seal(&self, key: &SealingKey) -> String {
        // Serialising a struct of strings and a number cannot fail.
        key.seal(&serde_json::to_vec(self).unwrap_or_default())
    }

    /// What a login cookie holds at `now`.
    pub(crate) fn open(key: &SealingKey, cookie: &str, now: i64) -> Opened {
        let Some(pending) = key
            .open(cookie)
            .and_then(|bytes| serde_json::from_slice::<PendingLogin>(&bytes).ok())
        else {
            return Opened::NotOurs;
        };
        if pending.expires_at > now {
            Opened::Pending(pending)
        } else {
            Opened::Expired
        }
    }
}

/// A login cookie, opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Opened {
    /// A sign-in in progress.
    Pending(PendingLogin),
    /// A sign-in of ours whose time is up.
    Expired,
    /// Not sealed with our key (altered, forged, or from another gateway).
    NotOurs,
}

#[cfg(test)]
mod tests {
    use super::super::seal::Purpose;
    use super::*;

    #[test]
    fn a_login_cookie_opens_until_it_expires_and_only_with_the_gateways_key() {
        let key = SealingKey::derive(b"gateway login secret", Purpose::LoginCookie);
        let pending = PendingLogin {
            state: "s".into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            return_to: "/#/customer/1".into(),
            expires_at: 1_000,
        };
        let cookie = pending.seal(&key);
        assert_eq!(
            PendingLogin::open(&key, &cookie, 999),
            Opened::Pending(pending)
        );
        assert_eq!(PendingLogin::open(&key, &cookie, 1_000), Opened::Expired);
        let other = SealingKey::derive(b"another gateway", Purpose::LoginCookie);
        assert_eq!(PendingLogin::open(&other, &cookie, 0), Opened::NotOurs);
    }
}
