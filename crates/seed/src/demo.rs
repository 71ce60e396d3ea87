//! The demo story, always the first customers so it is easy to find:
//! Acme Inc with an earlier trial and an active paid license on gitlab.acmeinc.com, plus a
//! server acmeinc.ninja that reports the paid license without being attached to it; Globex with
//! an expired license and a later trial that did not turn into a purchase, and Initech with a
//! trial that did, into a license that has not started yet, so every status shows and the
//! trials report has conversions and a trial without one.

use chrono::{Duration, NaiveDate};
use entity::{LicenseType, Plan};
use rand::Rng;

use crate::generator::Generator;
use crate::license_data::HostPlan;
use crate::license_file::{self, LicenseSpec, add_months, midnight};
use crate::rows::{ContactRow, CustomerRow, HostnameRow, LicenseAddOnRow, next};

pub const ACME_NAME: &str = "Acme Inc";
pub const ACME_HOST: &str = "gitlab.acmeinc.com";
pub const ACME_NINJA_HOST: &str = "acmeinc.ninja";
pub const ACME_CONTACT_EMAIL: &str = "jane.doe@acmeinc.com";
pub const EXPIRED_CUSTOMER_NAME: &str = "Globex Corporation";
pub const NOT_STARTED_CUSTOMER_NAME: &str = "Initech LLC";

/// Number of customers the story adds (ids 1..=CUSTOMERS on an empty database).
pub const CUSTOMERS: u64 = 3;

/// A customer of the story: its row, its contacts (id, name, e-mail) and its domain.
fn customer(
    g: &mut Generator,
    name: &str,
    country: &str,
    salesforce: &str,
    people: &[(&str, &str)],
    domain: &str,
    created_days_ago: i64,
) -> (i64, Vec<(i64, String, String)>) {
    let id = next(&mut g.ids.customer);
    let created_at = g.ctx.now - Duration::days(created_days_ago) + Duration::hours(10);
    g.batch.customers.push(CustomerRow {
        id,
        name: name.to_string(),
        salesforce_account_id: Some(salesforce.to_string()),
        zuora_account_id: Some(format!("2c92a0fd5e09bd69015e0a93e3f{id:05}")),
        country: Some(country.to_string()),
        created_at,
    });
    let mut contacts = Vec::new();
    for (person, local) in people {
        let contact_id = next(&mut g.ids.contact);
        let email = format!("{local}@{domain}");
        g.batch.contacts.push(ContactRow {
            id: contact_id,
            customer_id: id,
            name: person.to_string(),
            email: email.clone(),
            created_at: created_at + Duration::minutes(5),
        });
        contacts.push((contact_id, person.to_string(), email));
    }
    (id, contacts)
}

fn hostname(g: &mut Generator, name: &str) -> i64 {
    let id = next(&mut g.ids.hostname);
    g.batch.hostnames.push(HostnameRow {
        id,
        name: name.to_string(),
    });
    id
}

fn attach(g: &mut Generator, license: usize, hostname_id: i64) {
    license_file::link(&mut g.rng, &mut g.batch, &g.ctx, license, hostname_id);
}

fn host(name: &str, hostname_id: Option<i64>, licenses: Vec<usize>) -> HostPlan {
    HostPlan {
        hostname: name.to_string(),
        hostname_id,
        attached: hostname_id.is_some(),
        licenses,
    }
}

/// A 30-day Ultimate trial of the story, issued `hours_before` hours before the day it starts.
fn trial_spec(
    customer_id: i64,
    contact: usize,
    users_count: i32,
    starts_at: NaiveDate,
    hours_before: i64,
    notes: Option<&str>,
) -> LicenseSpec {
    LicenseSpec {
        customer_id,
        contact,
        plan: Plan::Ultimate,
        users_count,
        previous_users_count: None,
        trueup_quantity: 0,
        trial: true,
        issued_at: midnight(starts_at) - Duration::hours(hours_before),
        starts_at,
        expires_at: Some(starts_at + Duration::days(30)),
        license_type: LicenseType::OnlineCloud,
        subscription: None,
        notes: notes.map(str::to_owned),
    }
}

/// Adds the story's customers, licenses, hostnames and (with a version database) pings.
pub fn add(g: &mut Generator) {
    for base in ["acmeinc", "globex", "initech"] {
        g.reserve_base(base);
    }
    let today = g.ctx.today;

    // Acme: trial about eleven months ago, then premium for 100 users, active today.
    let (acme, contacts) = customer(
        g,
        ACME_NAME,
        "US",
        "0016100000ACMEfAB1",
        &[("Jane Doe", "jane.doe"), ("John Smith", "john.smith")],
        "acmeinc.com",
        400,
    );
    let paid_starts = add_months(today, -9);
    let trial_starts = paid_starts - Duration::days(45);
    let trial = license_file::push_license(
        &mut g.batch,
        &mut g.ids,
        &g.ctx,
        &contacts,
        ACME_NAME,
        trial_spec(
            acme,
            0,
            100,
            trial_starts,
            15,
            Some("Evaluation requested at a conference booth"),
        ),
    );
    let paid = license_file::push_license(
        &mut g.batch,
        &mut g.ids,
        &g.ctx,
        &contacts,
        ACME_NAME,
        LicenseSpec {
            customer_id: acme,
            contact: 0,
            plan: Plan::Premium,
            users_count: 100,
            previous_users_count: None,
            trueup_quantity: 0,
            trial: false,
            issued_at: midnight(paid_starts) - Duration::days(3) + Duration::hours(14),
            starts_at: paid_starts,
            expires_at: Some(add_months(paid_starts, 12)),
            license_type: LicenseType::OnlineCloud,
            subscription: Some((
                "2c92a0ff5e09bd69015e0a93e3f00c8a".into(),
                "A-S00012345".into(),
            )),
            notes: Some("Converted from trial".into()),
        },
    );
    let paid_id = g.batch.licenses[paid].id;
    for code in ["GitLab_FileLocks", "GitLab_Geo"] {
        g.batch.license_add_ons.push(LicenseAddOnRow {
            license_id: paid_id,
            add_on_code: code,
            quantity: 1,
        });
    }
    let acme_host = hostname(g, ACME_HOST);
    attach(g, trial, acme_host);
    attach(g, paid, acme_host);

    // Globex: a year of premium that expired two months ago.
    let (globex, globex_contacts) = customer(
        g,
        EXPIRED_CUSTOMER_NAME,
        "US",
        "0016100000GLBXfAB2",
        &[("Hank Scorpio", "hank.scorpio")],
        "globex.com",
        500,
    );
    let starts = add_months(today, -14);
    let expired = license_file::push_license(
        &mut g.batch,
        &mut g.ids,
        &g.ctx,
        &globex_contacts,
        EXPIRED_CUSTOMER_NAME,
        LicenseSpec {
            customer_id: globex,
            contact: 0,
            plan: Plan::Premium,
            users_count: 250,
            previous_users_count: None,
            trueup_quantity: 0,
            trial: false,
            issued_at: midnight(starts) - Duration::days(2),
            starts_at: starts,
            expires_at: Some(add_months(starts, 12)),
            license_type: LicenseType::OfflineCloud,
            subscription: Some((
                "2c92a0fe6c8d1e2f3a4b5c6d7e8f9a0b".into(),
                "A-S00023456".into(),
            )),
            notes: None,
        },
    );
    let globex_host = hostname(g, "gitlab.globex.com");
    attach(g, expired, globex_host);

    // Initech: an expired trial and an ultimate license starting in two weeks.
    let (initech, contacts) = customer(
        g,
        NOT_STARTED_CUSTOMER_NAME,
        "US",
        "0016100000INTCfAB3",
        &[
            ("Bill Lumbergh", "bill.lumbergh"),
            ("Peter Gibbons", "peter.gibbons"),
        ],
        "initech.com",
        60,
    );
    let trial_starts = today - Duration::days(40);
    let initech_trial = license_file::push_license(
        &mut g.batch,
        &mut g.ids,
        &g.ctx,
        &contacts,
        NOT_STARTED_CUSTOMER_NAME,
        trial_spec(initech, 1, 50, trial_starts, 6, None),
    );
    let starts = today + Duration::days(14);
    let future = license_file::push_license(
        &mut g.batch,
        &mut g.ids,
        &g.ctx,
        &contacts,
        NOT_STARTED_CUSTOMER_NAME,
        LicenseSpec {
            customer_id: initech,
            contact: 0,
            plan: Plan::Ultimate,
            users_count: 50,
            previous_users_count: None,
            trueup_quantity: 0,
            trial: false,
            issued_at: g.ctx.now - Duration::hours(20),
            starts_at: starts,
            expires_at: Some(add_months(starts, 12)),
            license_type: LicenseType::OnlineCloud,
            subscription: Some((
                "2c92a0fd7a1b2c3d4e5f60718293a4b5".into(),
                "A-S00034567".into(),
            )),
            notes: Some("Starts after the budget year begins".into()),
        },
    );
    let initech_host = hostname(g, "git.initech.com");
    attach(g, initech_trial, initech_host);
    attach(g, future, initech_host);

    // Globex tried Ultimate seven weeks ago, after its Premium lapsed, and has not bought since.
    let trial_starts = today - Duration::days(50);
    let globex_trial = license_file::push_license(
        &mut g.batch,
        &mut g.ids,
        &g.ctx,
        &globex_contacts,
        EXPIRED_CUSTOMER_NAME,
        trial_spec(
            globex,
            0,
            100,
            trial_starts,
            3,
            Some("Evaluating Ultimate after the Premium license lapsed"),
        ),
    );
    attach(g, globex_trial, globex_host);

    if g.with_usage {
        // About four months of weekly pings from the attached server, two to three from the other.
        g.pings(&host(ACME_HOST, Some(acme_host), vec![trial, paid]), 17);
        let ninja_weeks = g.usage_rng.random_range(8..=12);
        g.pings(&host(ACME_NINJA_HOST, None, vec![paid]), ninja_weeks);
        g.pings(
            &host("gitlab.globex.com", Some(globex_host), vec![expired]),
            10,
        );
        g.pings(
            &host(
                "git.initech.com",
                Some(initech_host),
                vec![initech_trial, future],
            ),
            6,
        );
    }
}
