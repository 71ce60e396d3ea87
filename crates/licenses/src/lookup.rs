//! Lookups by what a support ticket holds: a license file's MD5 or SHA-256, the license file
//! itself, a subscription id or name, an installation uuid or a hostname.
//!
//! [`Text::read`] decides what a text is (the one rule of recognition, shared by the graph and
//! its documentation); [`licenses`] finds the licenses a text names in one statement, scoped
//! like every other query: a customer-scoped caller never matches another customer's license,
//! and is answered exactly as for a key that exists nowhere. Servers are found through
//! [`crate::hostnames`]; installation uuids live in the version database, which the graph asks.

use entity::license;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use sha2::{Digest as _, Sha256};

use crate::{Error, Scope};

/// Longest text accepted, in bytes. A GitLab license file is 1 to 4 KiB; 64 KiB leaves room
/// for any license file while bounding the digests computed per request (the request body's
/// own cap, `max_body_bytes`, answers 413 past 256 KiB before this is reached).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Most licenses one lookup answers: a subscription renewed yearly has a handful; digests
/// match one. Past it, the newest are kept.
pub const MAX_LICENSES: u64 = 50;

/// What a text was recognised as. A 32-digit hex text may be either of the first two: MD5
/// digests and Zuora subscription ids have the same shape, so both are looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The MD5 of a license file (32 hex digits).
    LicenseMd5,
    /// The SHA-256 of a license file (64 hex digits).
    LicenseSha256,
    /// A license file, pasted whole: matched by the SHA-256 of its bytes.
    LicenseFile,
    /// A subscription: its id (32 hex digits) or its name (`A-S` and digits).
    Subscription,
    /// An installation's uuid, as its usage pings carry it.
    InstallationUuid,
    /// A server's hostname: at least two labels (`gitlab.example.com`), so that a single
    /// word, which a name search types all the time, is not taken for one.
    Hostname,
}

/// A text read as the keys it may stand for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    /// A 32-digit hex text, lower case: a license MD5 or a subscription id.
    pub md5_or_subscription_id: Option<String>,
    /// A 64-digit hex text, lower case.
    pub sha256: Option<String>,
    /// The SHA-256 digests a pasted license file may have (see [`file_digests`]).
    pub file_sha256: Vec<String>,
    /// A subscription name, upper case (`A-S00012345`).
    pub subscription_name: Option<String>,
    /// An installation uuid, lower case.
    pub installation_uuid: Option<String>,
    /// A hostname, normalised.
    pub hostname: Option<String>,
}

impl Text {
    /// Reads `text`: a license file when it spans several lines, otherwise (trimmed) a hex
    /// digest, a uuid, a subscription name or a hostname with a dot, in that order; anything
    /// else is recognised as nothing and matches nothing. Longer than [`MAX_TEXT_BYTES`]:
    /// refused.
    pub fn read(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(Error::InvalidArgument(format!(
                "`text` must be at most {MAX_TEXT_BYTES} bytes, got {}",
                text.len()
            )));
        }
        let trimmed = text.trim();
        let mut read = Self::default();
        if trimmed.contains(['\n', '\r']) {
            read.file_sha256 = file_digests(text);
        } else if is_hex(trimmed, 32) {
            read.md5_or_subscription_id = Some(trimmed.to_ascii_lowercase());
        } else if is_hex(trimmed, 64) {
            read.sha256 = Some(trimmed.to_ascii_lowercase());
        } else if is_uuid(trimmed) {
            read.installation_uuid = Some(trimmed.to_ascii_lowercase());
        } else if is_subscription_name(trimmed) {
            read.subscription_name = Some(trimmed.to_ascii_uppercase());
        } else {
            let name = entity::hostname::normalise(trimmed);
            if name.contains('.') && entity::hostname::invalid_reason(&name).is_none() {
                read.hostname = Some(name);
            }
        }
        Ok(read)
    }

    /// What the text was recognised as, in a fixed order; empty when nothing.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut kinds = Vec::new();
        if self.md5_or_subscription_id.is_some() {
            kinds.extend([Kind::LicenseMd5, Kind::Subscription]);
        }
        if self.sha256.is_some() {
            kinds.push(Kind::LicenseSha256);
        }
        if !self.file_sha256.is_empty() {
            kinds.push(Kind::LicenseFile);
        }
        if self.subscription_name.is_some() {
            kinds.push(Kind::Subscription);
        }
        if self.installation_uuid.is_some() {
            kinds.push(Kind::InstallationUuid);
        }
        if self.hostname.is_some() {
            kinds.push(Kind::Hostname);
        }
        kinds
    }

    /// Which key of this text `license` matches, if any (the first in [`Text::kinds`] order).
    pub fn matched_by(&self, license: &license::Model) -> Option<Kind> {
        let equals = |key: &Option<String>, value: &str| key.as_deref() == Some(value);
        let subscription_id = license.zuora_subscription_id.as_deref().unwrap_or_default();
        let subscription_name = license
            .zuora_subscription_name
            .as_deref()
            .unwrap_or_default();
        if equals(&self.md5_or_subscription_id, &license.license_md5) {
            Some(Kind::LicenseMd5)
        } else if equals(&self.md5_or_subscription_id, subscription_id)
            || equals(&self.subscription_name, subscription_name)
        {
            Some(Kind::Subscription)
        } else if equals(&self.sha256, &license.license_sha256) {
            Some(Kind::LicenseSha256)
        } else if self.file_sha256.contains(&license.license_sha256) {
            Some(Kind::LicenseFile)
        } else {
            None
        }
    }

    /// The condition on `licenses` rows this text names; `None` when it names no license.
    fn license_condition(&self) -> Option<Condition> {
        let mut any = Condition::any();
        let mut named = false;
        if let Some(hex) = &self.md5_or_subscription_id {
            any = any
                .add(license::Column::LicenseMd5.eq(hex.as_str()))
                .add(license::Column::ZuoraSubscriptionId.eq(hex.as_str()));
            named = true;
        }
        if let Some(hex) = &self.sha256 {
            any = any.add(license::Column::LicenseSha256.eq(hex.as_str()));
            named = true;
        }
        if !self.file_sha256.is_empty() {
            any = any.add(license::Column::LicenseSha256.is_in(self.file_sha256.iter().cloned()));
            named = true;
        }
        if let Some(name) = &self.subscription_name {
            any = any.add(license::Column::ZuoraSubscriptionName.eq(name.as_str()));
            named = true;
        }
        named.then_some(any)
    }
}

/// The visible licenses `text` names, newest first, at most [`MAX_LICENSES`], each with the key
/// it matched by: one statement over indexed columns (`licenses_md5_idx`, the unique SHA-256,
/// and the subscription indexes of the migration `lookup_indexes`), none when the text names
/// no license.
pub async fn licenses(
    db: &DatabaseConnection,
    scope: &Scope,
    text: &Text,
) -> Result<Vec<(Kind, license::Model)>, Error> {
    let Some(condition) = text.license_condition() else {
        return Ok(Vec::new());
    };
    let rows = sea_orm::QuerySelect::limit(
        license::Entity::find()
            .filter(condition)
            .filter(scope.condition(license::Column::CustomerId))
            .order_by_desc(license::Column::IssuedAt)
            .order_by_desc(license::Column::Id),
        MAX_LICENSES,
    )
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((text.matched_by(&row)?, row)))
        .collect())
}

/// The SHA-256 digests (lower-case hex) a pasted license file may have. The license database's
/// `license_sha256` is the digest of the file's bytes as issued; a paste may have lost or
/// gained what a clipboard changes: line endings (CRLF to LF), and whitespace around the
/// text. So: the text as received, with LF line endings, and that trimmed with and without
/// one final newline (at most four digests, duplicates removed).
pub fn file_digests(text: &str) -> Vec<String> {
    let lf = text.replace("\r\n", "\n");
    let trimmed = lf.trim();
    let candidates = [
        text.to_owned(),
        lf.clone(),
        format!("{trimmed}\n"),
        trimmed.to_owned(),
    ];
    let mut digests: Vec<String> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let digest = hex(&Sha256::digest(candidate.as_bytes()));
        if !digests.contains(&digest) {
            digests.push(digest);
        }
    }
    digests
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `8-4-4-4-12` hex digits, as GitLab writes an installation's uuid.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, digits)| is_hex(group, digits))
}

/// `A-S` and 6 to 12 digits, as Zuora names subscriptions (`A-S00012345`).
fn is_subscription_name(text: &str) -> bool {
    text.get(..3)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("A-S"))
        && (6..=12).contains(&text.len().saturating_sub(3))
        && text.bytes().skip(3).all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        Text::read(text).unwrap().kinds()
    }

    #[test]
    fn recognises_each_shape() {
        let md5 = "0123456789ABCDEF0123456789abcdef";
        assert_eq!(kinds(md5), [Kind::LicenseMd5, Kind::Subscription]);
        assert_eq!(
            Text::read(&format!("  {md5}\n"))
                .unwrap()
                .md5_or_subscription_id,
            Some(md5.to_ascii_lowercase())
        );
        assert_eq!(kinds(&"a".repeat(64)), [Kind::LicenseSha256]);
        assert_eq!(
            kinds("0F8FAD5B-D9CB-469F-A165-70867728950E"),
            [Kind::InstallationUuid]
        );
        assert_eq!(kinds("a-s00012345"), [Kind::Subscription]);
        assert_eq!(
            Text::read("a-s00012345")
                .unwrap()
                .subscription_name
                .as_deref(),
            Some("A-S00012345")
        );
        assert_eq!(kinds("GitLab.Example.com."), [Kind::Hostname]);
        assert_eq!(kinds("line one\nline two"), [Kind::LicenseFile]);
        assert!(kinds("Acme Inc").is_empty());
        assert!(kinds("   ").is_empty());
        // A single word is what a name search types: not a hostname.
        assert!(kinds("acme").is_empty());
        // One digit short of a digest is not a digest.
        assert!(kinds(&"a".repeat(31)).is_empty());
    }

    #[test]
    fn refuses_texts_past_the_cap() {
        assert!(Text::read(&"a\n".repeat(MAX_TEXT_BYTES / 2)).is_ok());
        assert!(matches!(
            Text::read(&"a".repeat(MAX_TEXT_BYTES + 1)),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    fn a_file_pasted_with_other_line_endings_or_trimmed_has_its_digest() {
        let file = "id=1\nplan=premium\n";
        let issued = hex(&Sha256::digest(file.as_bytes()));
        for pasted in [
            file,
            "id=1\r\nplan=premium\r\n",
            "  id=1\nplan=premium",
            "id=1\nplan=premium\n\n",
        ] {
            assert!(file_digests(pasted).contains(&issued), "{pasted:?}");
        }
        assert!(
            file_digests("id=2\nplan=premium\n")
                .iter()
                .all(|d| *d != issued)
        );
    }
}
