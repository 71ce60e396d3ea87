//! How a license is recognised in pings: by its id, or the MD5 or SHA-256 of its file.

/// A license as the gateway names it in a `License` representation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LicenseKey {
    pub id: Option<i64>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
}

impl LicenseKey {
    /// A license by the fields a ping or a `License` representation carries (empty digests
    /// mean "not sent"). The one constructor, so that every loader key for the same license
    /// is equal.
    pub fn new(id: Option<i64>, md5: Option<&str>, sha256: Option<&str>) -> Self {
        let present = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        Self {
            id,
            md5: present(md5),
            sha256: present(sha256),
        }
    }

    /// The keys of the `host_licenses` read model this license is found under: `id:<n>`,
    /// `md5:<hex>`, `sha256:<hex>` — the same keys `migration::usage_read_models::rebuild`
    /// derives in SQL.
    pub fn read_model_keys(&self) -> Vec<String> {
        let mut keys = Vec::with_capacity(3);
        if let Some(id) = self.id {
            keys.push(format!("id:{id}"));
        }
        if let Some(md5) = self.md5.as_deref().filter(|s| !s.is_empty()) {
            keys.push(format!("md5:{md5}"));
        }
        if let Some(sha256) = self.sha256.as_deref().filter(|s| !s.is_empty()) {
            keys.push(format!("sha256:{sha256}"));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_skip_what_is_absent_or_empty() {
        let key = LicenseKey::new(Some(7), Some(""), Some("ab"));
        assert_eq!(key.read_model_keys(), ["id:7", "sha256:ab"]);
        assert!(
            LicenseKey::new(None, None, None)
                .read_model_keys()
                .is_empty()
        );
    }
}
