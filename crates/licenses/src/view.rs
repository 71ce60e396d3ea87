//! What one caller sees: which customers (the [`Scope`] every query applies), whether people's
//! names and e-mail addresses are shown as they are or masked, and which day "today" is. The
//! one rule for the GraphQL types and the CSV exports alike.

use chrono::NaiveDate;

use crate::Scope;

/// One caller's view of the license database, fixed for the whole of one request (so every
/// status in one answer is computed against the same day).
#[derive(Clone, Debug)]
pub struct View {
    /// The customers the caller may see.
    pub scope: Scope,
    /// Whether names and e-mail addresses are shown as they are (else masked).
    pub personal_data_visible: bool,
    /// The date statuses are computed against.
    pub today: NaiveDate,
}

impl View {
    /// Full access, for staff and for tests.
    pub fn unrestricted(today: NaiveDate) -> Self {
        Self {
            scope: Scope::All,
            personal_data_visible: true,
            today,
        }
    }

    /// What an authenticated caller may see: a customer-scoped caller only its customers, a
    /// `viewer` everything with names and e-mail addresses masked.
    pub fn for_viewer(viewer: &auth::Viewer, today: NaiveDate) -> Self {
        let scope = match viewer.customer_scope() {
            None => Scope::All,
            Some(ids) => Scope::Customers(ids.into()),
        };
        Self {
            scope,
            personal_data_visible: viewer.can_see_personal_data(),
            today,
        }
    }

    /// An e-mail address as this caller may see it (the masks themselves live in `auth`, next
    /// to the roles that decide who sees what).
    pub fn email(&self, email: &str) -> String {
        if self.personal_data_visible {
            email.to_owned()
        } else {
            auth::mask_email(email)
        }
    }

    /// Whether the caller sees the installations reporting under a server's name other than
    /// the one holding it: anyone can send pings under any name, so those may be another
    /// customer's, and a customer-scoped caller sees of them only that they exist.
    pub fn sees_other_installations(&self) -> bool {
        !matches!(self.scope, Scope::Customers(_))
    }

    /// A person's name as this caller may see it.
    pub fn name(&self, name: &str) -> String {
        if self.personal_data_visible {
            name.to_owned()
        } else {
            auth::mask_name(name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_unless_personal_data_is_visible() {
        let today = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default();
        let mut view = View::unrestricted(today);
        assert_eq!(view.email("jane.doe@acmeinc.com"), "jane.doe@acmeinc.com");
        view.personal_data_visible = false;
        assert_eq!(view.email("jane.doe@acmeinc.com"), "j***@acmeinc.com");
        assert_eq!(view.name("Jane  Doe"), "J*** D***");
    }
}
