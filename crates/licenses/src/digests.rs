//! Which license a license file's digest belongs to: the version service's proof that a usage
//! ping really comes from a server holding that license (issue 24). Staff-level by nature (a
//! digest is looked up, nothing is shown), so it takes no caller's scope but `Scope::All`.

use entity::license;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{Error, Scope};

/// The kind of digest a usage ping sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestKind {
    /// `license_sha256`: unique per license (a unique index).
    Sha256,
    /// `license_md5`: indexed; should two licenses share one, the oldest (lowest id) wins.
    Md5,
}

/// The id of the license whose file has this digest, if any: one index lookup.
pub async fn license_with_digest(
    db: &DatabaseConnection,
    scope: &Scope,
    kind: DigestKind,
    hex: &str,
) -> Result<Option<i64>, Error> {
    let column = match kind {
        DigestKind::Sha256 => license::Column::LicenseSha256,
        DigestKind::Md5 => license::Column::LicenseMd5,
    };
    let id: Option<i64> = license::Entity::find()
        .select_only()
        .column(license::Column::Id)
        .filter(column.eq(hex))
        .filter(scope.condition(license::Column::CustomerId))
        .order_by_asc(license::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(id)
}
