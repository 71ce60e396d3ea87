//! Referential and business sanity of a seeded data set: contacts belong to their license's
//! customer, trials look like trials, pings agree with the licenses they carry.

use crate::common;

use std::collections::HashMap;

use chrono::Duration;
use entity::{contact, hostname, license};
use sea_orm::EntityTrait;
use seed::{SeedOptions, seed};

#[tokio::test]
async fn seeded_rows_are_consistent() -> anyhow::Result<()> {
    let today = common::today();
    for fresh in common::fresh().await? {
        let backend = fresh.backend;
        let options = SeedOptions {
            customers: 400,
            seed: 99,
            today,
            include_demo_story: true,
        };
        let report = seed(&fresh.licenses, Some(&fresh.version), &options).await?;
        let db = &fresh.licenses;

        // The report matches the tables.
        for (table, expected) in [
            ("customers", report.customers),
            ("contacts", report.contacts),
            ("licenses", report.licenses),
            ("hostnames", report.hostnames),
        ] {
            let n = common::count(db, &format!("SELECT COUNT(*) FROM {table}")).await?;
            assert_eq!(n as u64, expected, "{backend}: {table}");
        }
        for (table, expected) in [("hosts", report.hosts), ("usage_pings", report.usage_pings)] {
            let n = common::count(&fresh.version, &format!("SELECT COUNT(*) FROM {table}")).await?;
            assert_eq!(n as u64, expected, "{backend}: {table}");
        }
        assert_eq!(report.customers, 400);
        assert!(report.licenses >= 400 * 2, "{backend}: {report:?}");

        let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let licenses = license::Entity::find().all(db).await?;
        let mut plans = HashMap::new();
        for l in &licenses {
            let contact = &contacts[&l.contact_id];
            assert_eq!(
                contact.customer_id, l.customer_id,
                "{backend}: license {}",
                l.id
            );
            assert_eq!(l.license_md5.len(), 32);
            assert_eq!(l.license_sha256.len(), 64);
            assert!(
                (5..=5000).contains(&l.users_count) || l.trial,
                "license {}",
                l.id
            );
            if l.trial {
                assert_eq!(l.plan, license::Plan::Ultimate, "{backend}: trial {}", l.id);
                assert!(l.users_count <= 100);
                assert_eq!(l.expires_at, Some(l.starts_at + Duration::days(30)));
                assert!(l.zuora_subscription_id.is_none());
            } else {
                let name = l.zuora_subscription_name.as_deref().unwrap_or_default();
                assert!(name.starts_with("A-S000"), "{name}");
                assert_eq!(l.zuora_subscription_id.as_deref().map(str::len), Some(32));
            }
            *plans
                .entry(format!("{:?}/{}", l.plan, l.trial))
                .or_insert(0) += 1;
        }
        assert!(plans.len() >= 4, "{backend}: plans {plans:?}");
        // Statuses: active, expired and not started all occur.
        assert!(
            licenses
                .iter()
                .any(|l| l.starts_at <= today && l.expires_at.is_none_or(|e| e > today))
        );
        assert!(
            licenses
                .iter()
                .any(|l| l.expires_at.is_some_and(|e| e <= today))
        );
        assert!(licenses.iter().any(|l| l.starts_at > today));

        for h in hostname::Entity::find().all(db).await? {
            assert_eq!(h.name, h.name.to_lowercase(), "{backend}");
            assert!(!h.name.ends_with('.'));
        }
        // Some hostnames serve several licenses (renewals on the same server).
        let shared = common::count(
            db,
            "SELECT COUNT(*) FROM (SELECT hostname_id FROM license_hostnames \
             GROUP BY hostname_id HAVING COUNT(*) > 1) s",
        )
        .await?;
        assert!(shared > 0, "{backend}");

        // The read models ingestion keeps are filled for bulk-inserted pings too: every host
        // points at its newest ping, and every (license key, host) pair of the history is there.
        let stale = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM hosts h WHERE h.latest_ping_id IS NULL OR h.latest_ping_id <> \
             (SELECT p.id FROM usage_pings p WHERE p.host_id = h.id \
              ORDER BY p.recorded_at DESC, p.id DESC LIMIT 1)",
        )
        .await?;
        assert_eq!(stale, 0, "{backend}");
        let pairs = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM (SELECT DISTINCT host_id, license_id FROM usage_pings \
             WHERE license_id IS NOT NULL) s",
        )
        .await?;
        // Keyed by digest and the id they name (the seed's pings carry their license's real
        // digests), never by id alone.
        let digest_rows = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM host_licenses WHERE license_key LIKE 'sha256:%@%'",
        )
        .await?;
        assert!(pairs > 0, "{backend}");
        assert_eq!(digest_rows, pairs, "{backend}");
        let by_id_only = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM host_licenses WHERE license_key LIKE 'id:%'",
        )
        .await?;
        assert_eq!(by_id_only, 0, "{backend}");
        // Stored verified, and every server that sent a verified ping holds its name.
        let unverified = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM usage_pings WHERE license_id IS NOT NULL \
             AND (verification <> 'verified' OR verified_license_id <> license_id)",
        )
        .await?;
        assert_eq!(unverified, 0, "{backend}");
        let without_holder = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM hosts h WHERE h.holder_installation_id IS NULL AND EXISTS \
             (SELECT 1 FROM usage_pings p WHERE p.host_id = h.id AND p.verification = 'verified')",
        )
        .await?;
        assert_eq!(without_holder, 0, "{backend}");

        // Pings carry the license they name, with a consistent edition and user counts.
        let by_id: HashMap<i64, &license::Model> = licenses.iter().map(|l| (l.id, l)).collect();
        let pings = common::query_json(
            &fresh.version,
            "SELECT license_id, license_md5, license_sha256, license_user_count, license_plan, \
             edition, active_user_count, historical_max_users FROM usage_pings",
        )
        .await?;
        assert!(!pings.is_empty());
        for p in &pings {
            let Some(id) = p["license_id"].as_i64() else {
                assert_eq!(p["edition"], "EE Free", "{backend}: {p}");
                continue;
            };
            let l = by_id[&id];
            assert_eq!(p["license_md5"], l.license_md5.as_str(), "{backend}");
            assert_eq!(p["license_sha256"], l.license_sha256.as_str());
            assert_eq!(
                p["license_user_count"].as_i64(),
                Some(i64::from(l.users_count))
            );
            let edition = match l.plan {
                license::Plan::Starter => "EES",
                license::Plan::Premium => "EEP",
                license::Plan::Ultimate => "EEU",
            };
            assert_eq!(p["edition"], edition, "{backend}: {p}");
            let active = p["active_user_count"].as_i64().unwrap_or(-1);
            let max = p["historical_max_users"].as_i64().unwrap_or(-1);
            assert!(active >= 1 && max >= active, "{backend}: {p}");
            assert!(
                active as f64 <= f64::from(l.users_count) * 1.2 + 1.0,
                "{backend}: {p}"
            );
        }
        // Hosts: first seen no later than their last ping; some report without being attached.
        let bad_hosts = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM hosts WHERE first_seen_at > last_ping_at",
        )
        .await?;
        assert_eq!(bad_hosts, 0);
        let attached: std::collections::HashSet<String> = hostname::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|h| h.name)
            .collect();
        let hosts = common::query_json(&fresh.version, "SELECT hostname FROM hosts").await?;
        let unknown = hosts
            .iter()
            .filter(|h| !attached.contains(h["hostname"].as_str().unwrap_or_default()))
            .count();
        assert!(unknown >= 2, "{backend}: {unknown} unattached hosts");
        assert!(
            unknown * 5 < hosts.len(),
            "{backend}: too many unattached hosts"
        );
        fresh.cleanup().await;
    }
    Ok(())
}
