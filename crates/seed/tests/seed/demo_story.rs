//! The demo story (`seed::demo`) is in the seeded data.

use crate::common;

use chrono::Duration;
use entity::{contact, customer, hostname, license, license_hostname};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use seed::{SeedOptions, demo, seed};

#[tokio::test]
async fn acme_story_is_present() -> anyhow::Result<()> {
    let today = common::today();
    for fresh in common::fresh().await? {
        let backend = fresh.backend;
        let options = SeedOptions {
            customers: 40,
            seed: 3,
            today,
            include_demo_story: true,
        };
        seed(&fresh.licenses, Some(&fresh.version), &options).await?;
        let db = &fresh.licenses;

        let acme = customer::Entity::find_by_id(1)
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no customer 1"))?;
        assert_eq!(acme.name, demo::ACME_NAME, "{backend}");
        assert_eq!(acme.country.as_deref(), Some("US"));
        let contacts = contact::Entity::find()
            .filter(contact::Column::CustomerId.eq(1))
            .all(db)
            .await?;
        assert!(contacts.len() >= 2);
        let jane = contacts
            .iter()
            .find(|c| c.email == "jane.doe@acmeinc.com" && c.name == "Jane Doe")
            .ok_or_else(|| anyhow::anyhow!("no Jane Doe"))?;

        let licenses = license::Entity::find()
            .filter(license::Column::CustomerId.eq(1))
            .order_by_asc(license::Column::StartsAt)
            .all(db)
            .await?;
        assert_eq!(licenses.len(), 2, "{backend}");
        let (trial, paid) = (&licenses[0], &licenses[1]);
        assert!(trial.trial && trial.plan == license::Plan::Ultimate && trial.users_count == 100);
        assert_eq!(trial.expires_at, Some(trial.starts_at + Duration::days(30)));
        assert!(trial.expires_at < Some(today), "the trial is over");
        assert!(trial.issued_at < paid.issued_at);
        assert!(!paid.trial && paid.plan == license::Plan::Premium && paid.users_count == 100);
        assert!(
            paid.starts_at <= today && paid.expires_at > Some(today),
            "paid is active"
        );
        assert!(paid.starts_at < today - Duration::days(240));
        assert!(paid.expires_at < Some(today + Duration::days(120)));
        assert_eq!(paid.contact_id, jane.id);
        assert_eq!(paid.licensee_name, "Jane Doe");
        assert_eq!(paid.licensee_email, "jane.doe@acmeinc.com");
        assert_eq!(paid.licensee_company, "Acme Inc");

        let host = hostname::Entity::find()
            .filter(hostname::Column::Name.eq(demo::ACME_HOST))
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no {}", demo::ACME_HOST))?;
        let links = license_hostname::Entity::find()
            .filter(license_hostname::Column::HostnameId.eq(host.id))
            .all(db)
            .await?;
        assert!(
            links.iter().any(|l| l.license_id == paid.id),
            "{backend}: host not attached"
        );
        let ninja = hostname::Entity::find()
            .filter(hostname::Column::Name.eq(demo::ACME_NINJA_HOST))
            .one(db)
            .await?;
        assert!(ninja.is_none(), "acmeinc.ninja must not be attached");

        // Version database: both servers report the paid license; the attached one for months.
        let pings = common::query_json(
            &fresh.version,
            &format!(
                "SELECT hostname, license_id, license_md5, recorded_at FROM usage_pings \
                 WHERE hostname IN ('{}', '{}') ORDER BY recorded_at",
                demo::ACME_HOST,
                demo::ACME_NINJA_HOST
            ),
        )
        .await?;
        let ninja: Vec<_> = pings
            .iter()
            .filter(|p| p["hostname"] == demo::ACME_NINJA_HOST)
            .collect();
        let gitlab: Vec<_> = pings
            .iter()
            .filter(|p| p["hostname"] == demo::ACME_HOST)
            .collect();
        assert!(ninja.len() >= 4, "{backend}: {} ninja pings", ninja.len());
        assert!(
            gitlab.len() >= 15,
            "{backend}: {} gitlab pings",
            gitlab.len()
        );
        for ping in ninja.iter().chain(gitlab.iter()) {
            assert_eq!(ping["license_id"], paid.id, "{backend}: {ping}");
            assert_eq!(ping["license_md5"], paid.license_md5.as_str());
        }
        let hosts = common::count(
            &fresh.version,
            "SELECT COUNT(*) FROM hosts WHERE hostname IN ('gitlab.acmeinc.com', 'acmeinc.ninja')",
        )
        .await?;
        assert_eq!(hosts, 2);

        // Every status is visible: an expired customer and one whose license has not started.
        let all = license::Entity::find()
            .filter(license::Column::CustomerId.is_in([2, 3]))
            .all(db)
            .await?;
        assert!(
            all.iter()
                .any(|l| l.customer_id == 2 && !l.trial && l.expires_at < Some(today))
        );
        assert!(
            all.iter()
                .any(|l| l.customer_id == 3 && !l.trial && l.starts_at > today)
        );
        fresh.cleanup().await;
    }
    Ok(())
}
