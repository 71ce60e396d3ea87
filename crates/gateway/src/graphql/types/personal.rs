//! Personal data (people's names and e-mail addresses) as the caller may see it.

use super::super::RequestContext;

/// `jane.doe@acmeinc.com` → `j***@acmeinc.com`: enough to recognise a domain, not a person.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

/// `Jane Doe` → `J*** D***`.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| format!("{}***", word.chars().next().unwrap_or('*')))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An e-mail address as this caller may see it.
pub fn email(request: &RequestContext, email: &str) -> String {
    if request.personal_data_visible {
        email.to_owned()
    } else {
        mask_email(email)
    }
}

/// A person's name as this caller may see it.
pub fn name(request: &RequestContext, name: &str) -> String {
    if request.personal_data_visible {
        name.to_owned()
    } else {
        mask_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_initials_and_domain() {
        assert_eq!(mask_email("jane.doe@acmeinc.com"), "j***@acmeinc.com");
        assert_eq!(mask_email("not-an-address"), "***");
        assert_eq!(mask_name("Jane  Doe"), "J*** D***");
    }
}
