//! A server name a license is installed on, stored normalised (lower case, no trailing dot).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hostnames")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// The one spelling of a hostname that is stored and looked up: trimmed, lower case, without
/// the trailing dot of a fully qualified name.
///
/// It is the join key between the license database and the version database, so both sides
/// (the license service and the version service's ingestion and subgraph) call this one function.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_lowercase()
}

/// Longest hostname RFC 1123 allows (in its presentation form, without the root's dot).
pub const MAX_LEN: usize = 253;

/// Longest label between two dots.
const MAX_LABEL_LEN: usize = 63;

/// Why a (normalised) hostname is not a valid RFC 1123 host name; `None` when it is.
///
/// Labels of ASCII letters, digits and inner hyphens, 1 to 63 characters, at most 253 in all.
/// Internationalised names arrive in their ASCII (punycode) form, which passes. IP literals
/// pass as well: dotted digits are valid labels, as RFC 1123 intends.
pub fn invalid_reason(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_owned());
    }
    if name.len() > MAX_LEN {
        return Some(format!(
            "it is longer than {MAX_LEN} characters ({})",
            name.len()
        ));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("it has an empty label (`..` or a leading dot)".to_owned());
        }
        if label.len() > MAX_LABEL_LEN {
            return Some(format!(
                "label {label:?} is longer than {MAX_LABEL_LEN} characters"
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Some(format!(
                "it holds {c:?}; only letters, digits, hyphens and dots are allowed"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label {label:?} starts or ends with a hyphen"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(normalise("  GitLab.AcmeInc.com. "), "gitlab.acmeinc.com");
    }

    #[test]
    fn accepts_rfc_1123_names() {
        for name in [
            "gitlab.acmeinc.com",
            "localhost",
            "1gitlab.example",
            "xn--bcher-kva.example",
            "10.0.0.12",
            "a-b.c",
        ] {
            assert_eq!(invalid_reason(name), None, "{name}");
        }
        let longest_label = "a".repeat(63);
        assert_eq!(invalid_reason(&longest_label), None);
    }

    #[test]
    fn refuses_the_rest() {
        for (name, why) in [
            ("", "empty"),
            ("bad host.example", "' '"),
            ("under_score.example", "'_'"),
            ("a..b", "empty label"),
            (".a", "empty label"),
            ("-a.example", "hyphen"),
            ("a-.example", "hyphen"),
            ("gitlab.example:8080", "':'"),
            ("héllo.example", "'é'"),
        ] {
            let reason = invalid_reason(name).unwrap_or_default();
            assert!(reason.contains(why), "{name:?}: {reason:?}");
        }
        assert!(invalid_reason(&"a".repeat(64)).is_some());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(
            invalid_reason(&long)
                .unwrap_or_default()
                .contains("longer than 253")
        );
    }
}
