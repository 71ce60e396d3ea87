//! Same seed, same rows (ids, names, hashes, pings); another seed, other rows.

use crate::common;

use seed::{SeedOptions, seed};

fn options(seed: u64) -> SeedOptions {
    SeedOptions {
        customers: 120,
        seed,
        today: common::today(),
        include_demo_story: true,
    }
}

#[tokio::test]
async fn same_seed_gives_identical_rows_and_another_seed_does_not() -> anyhow::Result<()> {
    for first in common::fresh().await? {
        let second = common::fresh_like(&first).await?;
        let other = common::fresh_like(&first).await?;
        let a = seed(&first.licenses, Some(&first.version), &options(7)).await?;
        let b = seed(&second.licenses, Some(&second.version), &options(7)).await?;
        let c = seed(&other.licenses, Some(&other.version), &options(8)).await?;
        assert_eq!(a, b, "{}: reports differ for the same seed", first.backend);
        assert_eq!((a.customers, c.customers), (120, 120));
        let da = common::digest(&first.licenses, &first.version).await?;
        let db = common::digest(&second.licenses, &second.version).await?;
        let dc = common::digest(&other.licenses, &other.version).await?;
        assert_eq!(da, db, "{}: same seed, different rows", first.backend);
        assert_ne!(da, dc, "{}: different seeds, same rows", first.backend);
        let backend = first.backend;
        first.cleanup().await;
        second.cleanup().await;
        other.cleanup().await;
        eprintln!("determinism checked on {backend}");
    }
    Ok(())
}

#[tokio::test]
async fn license_rows_do_not_depend_on_the_version_database() -> anyhow::Result<()> {
    for with in common::fresh().await? {
        let without = common::fresh_like(&with).await?;
        seed(&with.licenses, Some(&with.version), &options(11)).await?;
        let report = seed(&without.licenses, None, &options(11)).await?;
        assert_eq!(report.usage_pings, 0);
        assert_eq!(report.hosts, 0);
        // Digest both with the same (empty) version database so only license rows count.
        let a = common::digest(&with.licenses, &without.version).await?;
        let b = common::digest(&without.licenses, &without.version).await?;
        assert_eq!(a, b, "{}", with.backend);
        with.cleanup().await;
        without.cleanup().await;
    }
    Ok(())
}

#[tokio::test]
async fn seeding_a_non_empty_database_is_refused() -> anyhow::Result<()> {
    for fresh in common::fresh().await? {
        seed(&fresh.licenses, None, &options(1)).await?;
        let again = seed(&fresh.licenses, None, &options(1)).await;
        assert!(
            matches!(again, Err(seed::SeedError::NotEmpty(_))),
            "{}",
            fresh.backend
        );
        fresh.cleanup().await;
    }
    Ok(())
}
