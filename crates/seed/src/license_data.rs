//! One customer's rows in the license database: contacts, a trial, paid subscriptions renewed
//! yearly, add-ons and the hostnames each license is installed on.
//!
//! Everything is drawn from the caller's RNG in a fixed order, so the same seed always gives the
//! same rows.

use chrono::{Duration, NaiveDate};
use entity::{LicenseType, Plan};
use rand::Rng;
use rand::seq::IndexedRandom;

use crate::license_file::{
    ADD_ONS, Ctx, LicenseSpec, NOTES, add_months, issued_before, license_type, link, push_license,
    seats,
};
use crate::names;
use crate::rows::{ContactRow, CustomerRow, Ids, LicenseAddOnRow, LicenseBatch, next};

/// A server the customer runs and the licenses it had installed (indexes into
/// `LicenseBatch::licenses`). Unattached servers (`attached == false`) report a license without
/// being linked to it in `license_hostnames`.
pub struct HostPlan {
    pub hostname: String,
    /// The `hostnames` row when the server is attached to a license.
    pub hostname_id: Option<i64>,
    pub attached: bool,
    pub licenses: Vec<usize>,
}

/// How many licenses a customer gets.
#[derive(Clone, Copy)]
pub enum Shape {
    /// Mostly a trial and a few yearly renewals.
    Normal,
    /// 10–99 licenses: a few subscriptions for separate teams, renewed for years.
    Mid,
    /// 100–400 licenses across many subscriptions.
    Large,
    /// Exactly this many licenses, each on 1–3 hosts (tests and the scale benchmark).
    Exact(u32),
}

/// Who the customer is; chosen by the caller, who keeps domains unique.
pub struct Identity {
    pub name: String,
    pub country: Option<&'static str>,
    /// Domain without the TLD, unique across customers: unknown hosts are named after it.
    pub base: String,
    pub domain: String,
}

/// What the usage generator needs to know about a customer after its rows are built.
pub struct CustomerOut {
    pub customer_id: i64,
    pub hosts: Vec<HostPlan>,
    /// Indexes of the customer's paid licenses in `LicenseBatch::licenses`.
    pub paid: Vec<usize>,
    pub base: String,
}

/// Generates one customer with its contacts, licenses and hostnames.
pub fn customer<R: Rng>(
    rng: &mut R,
    ids: &mut Ids,
    ctx: &Ctx,
    who: Identity,
    shape: Shape,
    batch: &mut LicenseBatch,
) -> CustomerOut {
    let customer_id = next(&mut ids.customer);
    // Contacts: 1–4 people at the company's domain, the first one being the main contact.
    let contact_count = *[1usize, 1, 1, 1, 2, 2, 2, 3, 3, 4]
        .choose(rng)
        .unwrap_or(&1);
    let mut contacts: Vec<(i64, String, String)> = Vec::with_capacity(contact_count);
    for _ in 0..contact_count {
        let (name, local) = names::person(rng);
        let mut email = format!("{local}@{}", who.domain);
        if contacts.iter().any(|(_, _, e)| *e == email) {
            email = format!("{local}{}@{}", contacts.len() + 1, who.domain);
        }
        contacts.push((next(&mut ids.contact), name, email));
    }

    let mut lg = LicenseGen {
        rng,
        ids,
        ctx,
        batch,
        customer_id,
        contacts: &contacts,
        company: &who.name,
        domain: &who.domain,
        hosts: Vec::new(),
        paid: Vec::new(),
        exact: matches!(shape, Shape::Exact(_)),
    };
    match shape {
        Shape::Normal => {
            // 1–6 licenses for most (a trial and a few yearly renewals), up to 10 with a second
            // team's subscription.
            let paid_count = *[0u32, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 5, 6]
                .choose(lg.rng)
                .unwrap_or(&1);
            let trial = paid_count == 0 || lg.rng.random_bool(0.75);
            lg.subscriptions(trial, &[paid_count]);
            if lg.rng.random_bool(0.08) {
                let extra = lg.rng.random_range(1..=3);
                lg.subscriptions(false, &[extra]);
            }
        }
        Shape::Mid => {
            // Log-uniform over 10–99, so smaller mid-size customers are the more common.
            let target = (10.0 * 9.9_f64.powf(lg.rng.random::<f64>())).floor() as u32;
            let chains = chain_lengths(lg.rng, target.clamp(10, 99) - 1);
            lg.subscriptions(true, &chains);
        }
        Shape::Large => {
            let target = lg.rng.random_range(100..=400);
            let chains = chain_lengths(lg.rng, target - 1);
            lg.subscriptions(true, &chains);
        }
        Shape::Exact(0) => {}
        Shape::Exact(count) => {
            let chains = chain_lengths(lg.rng, count - 1);
            lg.subscriptions(true, &chains);
        }
    }
    let LicenseGen { hosts, paid, .. } = lg;

    // The account exists a little before its first license.
    let first_issue = batch
        .licenses
        .iter()
        .rev()
        .take_while(|l| l.customer_id == customer_id)
        .map(|l| l.issued_at)
        .min()
        .unwrap_or(ctx.now - Duration::days(30));
    let created_at = first_issue - Duration::minutes(rng.random_range(60..60 * 24 * 60));
    let has_subscription = !paid.is_empty();
    batch.customers.push(CustomerRow {
        id: customer_id,
        name: who.name,
        salesforce_account_id: rng
            .random_bool(0.92)
            .then(|| names::salesforce_id(rng, customer_id as u64)),
        zuora_account_id: has_subscription.then(|| format!("2c92a0{}", names::hex(rng, 26))),
        country: who
            .country
            .filter(|_| rng.random_bool(0.97))
            .map(str::to_string),
        created_at,
    });
    for (id, name, email) in contacts {
        batch.contacts.push(ContactRow {
            id,
            customer_id,
            name,
            email,
            created_at: created_at + Duration::minutes(rng.random_range(0..60 * 24 * 10)),
        });
    }
    CustomerOut {
        customer_id,
        hosts,
        paid,
        base: who.base,
    }
}

/// Splits `total` licenses into subscriptions of 1–6 yearly renewals.
fn chain_lengths<R: Rng>(rng: &mut R, mut total: u32) -> Vec<u32> {
    let mut chains = Vec::new();
    while total > 0 {
        let length = rng.random_range(1..=6).min(total);
        chains.push(length);
        total -= length;
    }
    chains
}

/// State shared while one customer's licenses are generated.
struct LicenseGen<'a, R> {
    rng: &'a mut R,
    ids: &'a mut Ids,
    ctx: &'a Ctx,
    batch: &'a mut LicenseBatch,
    customer_id: i64,
    contacts: &'a [(i64, String, String)],
    company: &'a str,
    domain: &'a str,
    hosts: Vec<HostPlan>,
    paid: Vec<usize>,
    exact: bool,
}

impl<R: Rng> LicenseGen<'_, R> {
    /// A new hostname of this customer: gitlab.<domain>, git.<domain>, then numbered ones
    /// (gitlab-<n>, gitlab-geo-<n>, ...; the number keeps them unique within the customer).
    fn new_host(&mut self) -> usize {
        const ROLES: [&str; 6] = [
            "gitlab",
            "gitlab-geo",
            "gitlab-staging",
            "scm",
            "gitlab-dr",
            "code",
        ];
        let n = self.hosts.len();
        let name = match n {
            0 => format!("gitlab.{}", self.domain),
            1 => format!("git.{}", self.domain),
            _ => format!("{}-{n}.{}", ROLES[n % ROLES.len()], self.domain),
        };
        let id = next(&mut self.ids.hostname);
        self.batch.hostnames.push(crate::rows::HostnameRow {
            id,
            name: name.clone(),
        });
        self.hosts.push(HostPlan {
            hostname: name,
            hostname_id: Some(id),
            attached: true,
            licenses: Vec::new(),
        });
        n
    }

    fn attach(&mut self, license: usize, hosts: &[usize]) {
        for &host in hosts {
            let Some(plan) = self.hosts.get_mut(host) else {
                continue;
            };
            plan.licenses.push(license);
            if let Some(hostname_id) = plan.hostname_id {
                link(self.rng, self.batch, self.ctx, license, hostname_id);
            }
        }
    }

    /// Number of hosts a subscription starts on.
    fn host_count(&mut self) -> usize {
        if self.exact {
            self.rng.random_range(1..=3)
        } else {
            // Production, often staging, Geo secondaries, a DR standby, test instances: about
            // 5.6 servers on average, from none (never installed) to 14.
            *[0usize, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 12, 14]
                .choose(self.rng)
                .unwrap_or(&1)
        }
    }

    /// An optional trial followed by paid subscriptions of the given chain lengths.
    fn subscriptions(&mut self, trial: bool, chains: &[u32]) {
        // When the (first) paid subscription's latest license starts: most customers are active,
        // some churned years ago, a few have a renewal that starts in the future.
        let mut first_paid_start = None;
        for &length in chains.iter().filter(|&&l| l > 0) {
            let roll: f64 = self.rng.random();
            let last_start = if roll < 0.75 {
                self.ctx.today - Duration::days(self.rng.random_range(0..365))
            } else if roll < 0.95 {
                self.ctx.today - Duration::days(self.rng.random_range(400..1100))
            } else {
                self.ctx.today + Duration::days(self.rng.random_range(1..45))
            };
            let first_start = add_months(last_start, -12 * (i64::from(length) - 1));
            first_paid_start =
                Some(first_paid_start.map_or(first_start, |s: NaiveDate| s.min(first_start)));
            self.paid_chain(first_start, length);
        }
        if trial {
            let starts = match first_paid_start {
                Some(paid) => paid - Duration::days(self.rng.random_range(35..120)),
                None => self.ctx.today - Duration::days(self.rng.random_range(0..1000)),
            };
            self.trial(starts);
        }
    }

    fn trial(&mut self, starts: NaiveDate) {
        let issued_at = issued_before(self.rng, self.ctx, starts);
        let users = *[10, 25, 50, 100, 100].choose(self.rng).unwrap_or(&100);
        let license_type = if starts < NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or(starts) {
            LicenseType::LegacyLicense
        } else {
            LicenseType::OnlineCloud
        };
        let index = push_license(
            self.batch,
            self.ids,
            self.ctx,
            self.contacts,
            self.company,
            LicenseSpec {
                customer_id: self.customer_id,
                contact: 0,
                plan: Plan::Ultimate,
                users_count: users,
                previous_users_count: None,
                trueup_quantity: 0,
                trial: true,
                issued_at,
                starts_at: starts,
                expires_at: Some(starts + Duration::days(30)),
                license_type,
                subscription: None,
                notes: None,
            },
        );
        // Trials are usually tried on the server that later runs the paid license.
        if self.exact || self.rng.random_bool(0.6) {
            let host = if self.hosts.is_empty() {
                self.new_host()
            } else {
                0
            };
            self.attach(index, &[host]);
        }
    }

    fn paid_chain(&mut self, first_start: NaiveDate, length: u32) {
        let subscription_id = format!("2c92a0{}", names::hex(self.rng, 26));
        let subscription_name = format!("A-S000{:05}", self.rng.random_range(0..100_000));
        let mut plan = *[
            Plan::Starter,
            Plan::Premium,
            Plan::Premium,
            Plan::Ultimate,
            Plan::Ultimate,
        ]
        .choose(self.rng)
        .unwrap_or(&Plan::Premium);
        let mut users = seats(self.rng);
        let mut previous: Option<i32> = None;
        let contact = if self.rng.random_bool(0.8) {
            0
        } else {
            self.rng.random_range(0..self.contacts.len().max(1))
        };
        let mut hosts: Vec<usize> = Vec::new();
        for _ in 0..self.host_count() {
            hosts.push(self.new_host());
        }
        // The licensee company is typed by hand into the order: now and then it is not spelled
        // like the customer record, which is what makes search over both worthwhile.
        let company = if self.rng.random_bool(0.05) {
            self.company.to_uppercase()
        } else {
            self.company.to_string()
        };
        let mut add_ons: Vec<(&'static str, i32)> = Vec::new();
        if self.rng.random_bool(0.2) {
            let (code, _) = *ADD_ONS.choose(self.rng).unwrap_or(&ADD_ONS[0]);
            let quantity = if code.contains("Duo") || code.contains("Agile") {
                self.rng.random_range(1..=users)
            } else {
                1
            };
            add_ons.push((code, quantity));
        }
        for year in 0..length {
            let starts = add_months(first_start, 12 * i64::from(year));
            let mut trueup = 0;
            if let Some(prev) = previous {
                // Renewals: seats grow more often than they shrink; sometimes an upgrade.
                users = ((f64::from(prev) * self.rng.random_range(0.9..1.5)).round() as i32)
                    .clamp(5, 5000);
                if self.rng.random_bool(0.35) {
                    trueup = self.rng.random_range(1..=(prev / 5).max(1));
                }
                if self.rng.random_bool(0.1) {
                    plan = if plan == Plan::Starter {
                        Plan::Premium
                    } else {
                        Plan::Ultimate
                    };
                }
                // Renewals usually stay on the same servers; sometimes one is added or replaced.
                if self.exact {
                    let roll: f64 = self.rng.random();
                    if roll < 0.08 && hosts.len() < 3 {
                        let host = self.new_host();
                        hosts.push(host);
                    } else if roll < 0.15 && !hosts.is_empty() {
                        let host = self.new_host();
                        let last = hosts.len() - 1;
                        hosts[last] = host;
                    }
                } else {
                    // Over the years servers are rebuilt under new names (new hardware, a
                    // cloud move) and teams add instances; the old names stop reporting.
                    for slot in &mut hosts {
                        if self.rng.random_bool(0.12) {
                            *slot = self.new_host();
                        }
                    }
                    if hosts.len() < 16 && self.rng.random_bool(0.25) {
                        let host = self.new_host();
                        hosts.push(host);
                    }
                }
            }
            let expires_at = if self.rng.random_bool(0.005) {
                None
            } else {
                Some(add_months(starts, 12))
            };
            let issued_at = issued_before(self.rng, self.ctx, starts);
            let license_type = license_type(self.rng, starts);
            let notes = self
                .rng
                .random_bool(0.15)
                .then(|| NOTES.choose(self.rng).copied().unwrap_or("").to_string());
            let index = push_license(
                self.batch,
                self.ids,
                self.ctx,
                self.contacts,
                &company,
                LicenseSpec {
                    customer_id: self.customer_id,
                    contact,
                    plan,
                    users_count: users,
                    previous_users_count: previous,
                    trueup_quantity: trueup,
                    trial: false,
                    issued_at,
                    starts_at: starts,
                    expires_at,
                    license_type,
                    subscription: Some((subscription_id.clone(), subscription_name.clone())),
                    notes,
                },
            );
            let license_id = self.batch.licenses[index].id;
            for &(code, quantity) in &add_ons {
                self.batch.license_add_ons.push(LicenseAddOnRow {
                    license_id,
                    add_on_code: code,
                    quantity: quantity.min(users),
                });
            }
            let current = hosts.clone();
            self.attach(index, &current);
            self.paid.push(index);
            previous = Some(users);
        }
    }
}
