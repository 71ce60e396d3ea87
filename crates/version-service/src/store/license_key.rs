//! How a license is recognised in pings: by the digest of its file, which only the customer's
//! server and the license database hold. A license id alone proves nothing (anyone can type
//! `license_id: 2`), so it never makes a ping count toward a license.
//!
//! The one rule, shared by ingestion (the key a ping is stored under), the read side (the keys
//! a license is looked up by), the verification of a ping against the license database
//! (`crate::verify`) and `migration::usage_read_models::rebuild` (the same key in SQL):
//!
//! - a ping's *digest* is its `license_sha256` when it sends one, else its `license_md5`;
//! - a ping belongs to license L when that digest is L's (of the same kind), and the
//!   `license_id` it sends, if any, is L's id.
//!
//! The read-model key of a ping is `sha256:<hex>` or `md5:<hex>`, followed by `@<id>` when the
//! ping names a license id: a license is found under its two digests, each bare or followed by
//! its own id, so a ping that names another id than its digest's license counts for neither.

/// A license as the gateway names it in a `License` representation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LicenseKey {
    pub id: Option<i64>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
}

/// The digest a ping proves its license by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest<'a> {
    Sha256(&'a str),
    Md5(&'a str),
}

impl<'a> Digest<'a> {
    /// The digest of a ping that sent these fields (empty strings mean "not sent"): its
    /// SHA-256 when it sends one, else its MD5.
    pub fn of_ping(md5: Option<&'a str>, sha256: Option<&'a str>) -> Option<Self> {
        match (
            sha256.filter(|s| !s.is_empty()),
            md5.filter(|s| !s.is_empty()),
        ) {
            (Some(sha256), _) => Some(Digest::Sha256(sha256)),
            (None, Some(md5)) => Some(Digest::Md5(md5)),
            (None, None) => None,
        }
    }

    fn key(self, id: Option<i64>) -> String {
        let (kind, hex) = match self {
            Digest::Sha256(hex) => ("sha256", hex),
            Digest::Md5(hex) => ("md5", hex),
        };
        match id {
            Some(id) => format!("{kind}:{hex}@{id}"),
            None => format!("{kind}:{hex}"),
        }
    }
}

/// The `host_licenses` key a ping is stored under, or `None` when it carries no digest (then
/// it counts toward no license, whatever id it names).
pub fn ping_key(id: Option<i64>, md5: Option<&str>, sha256: Option<&str>) -> Option<String> {
    Digest::of_ping(md5, sha256).map(|digest| digest.key(id))
}

impl LicenseKey {
    /// A license by the fields a `License` representation carries (empty digests mean "not
    /// sent"). The one constructor, so that every loader key for the same license is equal.
    pub fn new(id: Option<i64>, md5: Option<&str>, sha256: Option<&str>) -> Self {
        let present = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        Self {
            id,
            md5: present(md5),
            sha256: present(sha256),
        }
    }

    /// The keys of the `host_licenses` read model this license's pings are stored under: each
    /// of its digests, bare and followed by its own id. No digest, no key: a license is never
    /// found by its id alone.
    pub fn read_model_keys(&self) -> Vec<String> {
        let digests = [
            self.sha256.as_deref().map(Digest::Sha256),
            self.md5.as_deref().map(Digest::Md5),
        ];
        let mut keys = Vec::with_capacity(4);
        for digest in digests.into_iter().flatten() {
            keys.push(digest.key(None));
            if let Some(id) = self.id {
                keys.push(digest.key(Some(id)));
            }
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_is_keyed_by_its_strongest_digest_and_the_id_it_names() {
        assert_eq!(
            ping_key(Some(7), Some("m"), Some("s")).as_deref(),
            Some("sha256:s@7")
        );
        assert_eq!(
            ping_key(None, Some("m"), Some("")).as_deref(),
            Some("md5:m")
        );
        assert_eq!(ping_key(Some(7), None, None), None);
        assert_eq!(ping_key(Some(7), Some(""), Some("")), None);
    }

    #[test]
    fn a_license_is_found_only_under_its_digests() {
        let license = LicenseKey::new(Some(7), Some("m"), Some("s"));
        assert_eq!(
            license.read_model_keys(),
            ["sha256:s", "sha256:s@7", "md5:m", "md5:m@7"]
        );
        assert!(
            LicenseKey::new(Some(7), Some(""), None)
                .read_model_keys()
                .is_empty()
        );
        // A ping naming license 8 with license 7's digest counts for neither.
        let forged = ping_key(Some(8), None, Some("s")).unwrap();
        assert!(!license.read_model_keys().contains(&forged));
        assert!(
            !LicenseKey::new(Some(8), Some("x"), Some("y"))
                .read_model_keys()
                .contains(&forged)
        );
    }
}
