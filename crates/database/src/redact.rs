//! Database URLs fit for logs and error messages.

/// `url` with the password of its user information replaced by `***`; any other URL (no
/// password, SQLite paths, text that is not a URL at all) unchanged. Works on the text rather
/// than a parsed URL so that a URL no parser accepts still loses its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        // An `@` inside the password: everything up to the last `@` is user information.
        assert_eq!(
            redact_url("postgres://app:p@ss@db/x"),
            "postgres://app:***@db/x"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(
            redact_url("sqlite://x.sqlite?mode=rwc"),
            "sqlite://x.sqlite?mode=rwc"
        );
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
