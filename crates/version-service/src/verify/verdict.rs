//! The verification rule: what a ping sends, and what the license database says of its digest.
//! The digest is the one `store::license_key` keys the read model by (sha256, else md5), so a
//! ping is `Verified` exactly when it counts toward the license it proves.

use entity::usage_ping::Verification;

use super::LicenseDirectory;
use crate::store::Digest;

/// A ping's verification and, when `Verified`, the license it proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub verification: Verification,
    pub license_id: Option<i64>,
}

impl Verdict {
    /// Not decided: to be checked again by the sweep.
    pub const UNCHECKED: Verdict = Verdict {
        verification: Verification::Unchecked,
        license_id: None,
    };

    fn only(verification: Verification) -> Self {
        Self {
            verification,
            license_id: None,
        }
    }
}

/// The verdict on a ping without a digest (no lookup needed), or the digest to look up.
pub fn without_lookup<'a>(
    license_id: Option<i64>,
    md5: Option<&'a str>,
    sha256: Option<&'a str>,
) -> Result<Verdict, Digest<'a>> {
    match Digest::of_ping(md5, sha256) {
        Some(digest) => Err(digest),
        None if license_id.is_some() => Ok(Verdict::only(Verification::IdOnly)),
        None => Ok(Verdict::only(Verification::NoLicense)),
    }
}

/// The verdict once the license database answered: `found` is the license with the ping's
/// digest. A license id that is not that license's makes the ping a mismatch: the sender has
/// one license's file but claims another's id.
pub fn with_lookup(license_id: Option<i64>, found: Option<i64>) -> Verdict {
    match (found, license_id) {
        (Some(found), Some(named)) if named != found => Verdict::only(Verification::DigestMismatch),
        (Some(found), _) => Verdict {
            verification: Verification::Verified,
            license_id: Some(found),
        },
        (None, _) => Verdict::only(Verification::DigestMismatch),
    }
}

/// The verdict on a ping, asking `directory` (when there is one) about its digest.
pub async fn of_ping(
    directory: Option<&LicenseDirectory>,
    license_id: Option<i64>,
    md5: Option<&str>,
    sha256: Option<&str>,
) -> Verdict {
    let digest = match without_lookup(license_id, md5, sha256) {
        Ok(verdict) => return verdict,
        Err(digest) => digest,
    };
    let Some(directory) = directory else {
        return Verdict::UNCHECKED;
    };
    match directory.license_with(digest).await {
        Some(found) => with_lookup(license_id, found),
        None => Verdict::UNCHECKED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_without_a_digest_need_no_lookup() {
        assert_eq!(
            without_lookup(Some(2), None, Some("")),
            Ok(Verdict::only(Verification::IdOnly))
        );
        assert_eq!(
            without_lookup(None, None, None),
            Ok(Verdict::only(Verification::NoLicense))
        );
        assert_eq!(
            without_lookup(Some(2), Some("m"), Some("s")),
            Err(Digest::Sha256("s"))
        );
        assert_eq!(without_lookup(None, Some("m"), None), Err(Digest::Md5("m")));
    }

    #[test]
    fn a_digest_verifies_only_with_its_own_license_id() {
        assert_eq!(
            with_lookup(None, Some(7)),
            Verdict {
                verification: Verification::Verified,
                license_id: Some(7)
            }
        );
        assert_eq!(with_lookup(Some(7), Some(7)).license_id, Some(7));
        assert_eq!(
            with_lookup(Some(8), Some(7)),
            Verdict::only(Verification::DigestMismatch)
        );
        assert_eq!(
            with_lookup(Some(7), None),
            Verdict::only(Verification::DigestMismatch)
        );
    }
}
