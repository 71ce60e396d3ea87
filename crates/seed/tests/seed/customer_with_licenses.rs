//! `seed_customer_with_licenses` adds exactly one customer with exactly N licenses, also to a
//! database that already has data, and leaves sequences usable for ordinary inserts.

use crate::common;

use chrono::Utc;
use entity::{customer, license, license_hostname};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use seed::{SeedOptions, seed, seed_customer_with_licenses};

#[tokio::test]
async fn adds_exactly_n_licenses() -> anyhow::Result<()> {
    let today = common::today();
    for fresh in common::fresh().await? {
        let backend = fresh.backend;
        // On an empty database first, then next to a seeded data set.
        let first = seed_customer_with_licenses(
            &fresh.licenses,
            Some(&fresh.version),
            "Empty Start Co",
            3,
            1,
            today,
        )
        .await?;
        assert_eq!(first, 1, "{backend}");
        let options = SeedOptions {
            customers: 0,
            seed: 5,
            today,
            include_demo_story: false,
        };
        // `seed` wants an empty database; here it must refuse politely.
        assert!(seed(&fresh.licenses, None, &options).await.is_err());

        for (name, n) in [
            ("Scale Co", 250u32),
            ("Tiny Co", 1),
            ("Nothing Yet Co", 0),
            ("Scale Co", 17),
        ] {
            let id = seed_customer_with_licenses(
                &fresh.licenses,
                Some(&fresh.version),
                name,
                n,
                42,
                today,
            )
            .await?;
            let customer = customer::Entity::find_by_id(id)
                .one(&fresh.licenses)
                .await?;
            assert_eq!(
                customer.map(|c| c.name),
                Some(name.to_string()),
                "{backend}"
            );
            let licenses = license::Entity::find()
                .filter(license::Column::CustomerId.eq(id))
                .all(&fresh.licenses)
                .await?;
            assert_eq!(licenses.len(), n as usize, "{backend}: {name}");
            for l in &licenses {
                let links = license_hostname::Entity::find()
                    .filter(license_hostname::Column::LicenseId.eq(l.id))
                    .count_links(&fresh.licenses)
                    .await?;
                assert!(
                    (1..=3).contains(&links),
                    "{backend}: license {} has {links} hostnames",
                    l.id
                );
            }
            if n > 0 {
                let ids: Vec<String> = licenses.iter().map(|l| l.id.to_string()).collect();
                let pings = common::count(
                    &fresh.version,
                    &format!(
                        "SELECT COUNT(*) FROM usage_pings WHERE license_id IN ({})",
                        ids.join(",")
                    ),
                )
                .await?;
                assert!(pings > 0, "{backend}: no pings for {name}");
            }
        }

        // Sequences continue after the explicit ids (PostgreSQL needs the reset).
        let created = customer::ActiveModel {
            name: Set("Inserted Later Inc".into()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&fresh.licenses)
        .await?;
        assert!(created.id > 5, "{backend}: id {}", created.id);
        fresh.cleanup().await;
    }
    Ok(())
}

trait CountLinks {
    async fn count_links(self, db: &sea_orm::DatabaseConnection) -> anyhow::Result<usize>;
}

impl CountLinks for sea_orm::Select<license_hostname::Entity> {
    async fn count_links(self, db: &sea_orm::DatabaseConnection) -> anyhow::Result<usize> {
        Ok(self.all(db).await?.len())
    }
}
