//! Personal data (people's names and e-mail addresses) as the caller may see it. The masks
//! themselves live in `auth`, next to the roles that decide who sees what.

use auth::{mask_email, mask_name};

use super::super::RequestContext;

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
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn masked_unless_personal_data_is_visible() {
        let today = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let mut request = RequestContext::unrestricted(today);
        assert_eq!(
            email(&request, "jane.doe@acmeinc.com"),
            "jane.doe@acmeinc.com"
        );
        request.personal_data_visible = false;
        assert_eq!(email(&request, "jane.doe@acmeinc.com"), "j***@acmeinc.com");
        assert_eq!(name(&request, "Jane  Doe"), "J*** D***");
    }
}
