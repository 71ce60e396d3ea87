//! The tables of the license database with their foreign-key indexes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    Name,
    SalesforceAccountId,
    ZuoraAccountId,
    Country,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Contacts {
    Table,
    Id,
    CustomerId,
    Name,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Licenses {
    Table,
    Id,
    CustomerId,
    ContactId,
    LicenseeName,
    LicenseeEmail,
    LicenseeCompany,
    Plan,
    UsersCount,
    PreviousUsersCount,
    TrueupQuantity,
    Trial,
    IssuedAt,
    StartsAt,
    ExpiresAt,
    LicenseType,
    ZuoraSubscriptionId,
    ZuoraSubscriptionName,
    LicenseMd5,
    LicenseSha256,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Hostnames {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum LicenseHostnames {
    Table,
    LicenseId,
    HostnameId,
    FirstSeenAt,
}

#[derive(DeriveIden)]
enum AddOns {
    Table,
    Code,
    Name,
}

#[derive(DeriveIden)]
enum LicenseAddOns {
    Table,
    LicenseId,
    AddOnCode,
    Quantity,
}

fn id_column<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn fk<T: IntoIden, C: IntoIden, R: IntoIden, P: IntoIden>(
    table: T,
    column: C,
    referenced: R,
    primary: P,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(referenced, primary)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(id_column(Customers::Id))
                    .col(ColumnDef::new(Customers::Name).string().not_null())
                    .col(
                        ColumnDef::new(Customers::SalesforceAccountId)
                            .string()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Customers::ZuoraAccountId).string())
                    .col(ColumnDef::new(Customers::Country).string())
                    .col(
                        ColumnDef::new(Customers::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(id_column(Contacts::Id))
                    .col(
                        ColumnDef::new(Contacts::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Contacts::Name).string().not_null())
                    .col(ColumnDef::new(Contacts::Email).string().not_null())
                    .col(
                        ColumnDef::new(Contacts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        Contacts::Table,
                        Contacts::CustomerId,
                        Customers::Table,
                        Customers::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contacts_customer_email_key")
                    .table(Contacts::Table)
                    .col(Contacts::CustomerId)
                    .col(Contacts::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Licenses::Table)
                    .col(id_column(Licenses::Id))
                    .col(
                        ColumnDef::new(Licenses::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Licenses::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Licenses::LicenseeName).string().not_null())
                    .col(ColumnDef::new(Licenses::LicenseeEmail).string().not_null())
                    .col(
                        ColumnDef::new(Licenses::LicenseeCompany)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Licenses::Plan).string_len(16).not_null())
                    .col(ColumnDef::new(Licenses::UsersCount).integer().not_null())
                    .col(ColumnDef::new(Licenses::PreviousUsersCount).integer())
                    .col(
                        ColumnDef::new(Licenses::TrueupQuantity)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Licenses::Trial)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Licenses::IssuedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Licenses::StartsAt).date().not_null())
                    .col(ColumnDef::new(Licenses::ExpiresAt).date())
                    .col(
                        ColumnDef::new(Licenses::LicenseType)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Licenses::ZuoraSubscriptionId).string())
                    .col(ColumnDef::new(Licenses::ZuoraSubscriptionName).string())
                    .col(
                        ColumnDef::new(Licenses::LicenseMd5)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Licenses::LicenseSha256)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Licenses::Notes).text())
                    .col(
                        ColumnDef::new(Licenses::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Licenses::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut fk(
                        Licenses::Table,
                        Licenses::CustomerId,
                        Customers::Table,
                        Customers::Id,
                    ))
                    .foreign_key(&mut fk(
                        Licenses::Table,
                        Licenses::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("licenses_customer_issued_idx", Licenses::CustomerId),
            ("licenses_contact_idx", Licenses::ContactId),
            ("licenses_md5_idx", Licenses::LicenseMd5),
        ] {
            let mut index = Index::create()
                .name(name)
                .table(Licenses::Table)
                .col(column)
                .to_owned();
            if name == "licenses_customer_issued_idx" {
                index.col(Licenses::IssuedAt);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("licenses_issued_idx")
                    .table(Licenses::Table)
                    .col(Licenses::IssuedAt)
                    .col(Licenses::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Hostnames::Table)
                    .col(id_column(Hostnames::Id))
                    .col(
                        ColumnDef::new(Hostnames::Name)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LicenseHostnames::Table)
                    .col(
                        ColumnDef::new(LicenseHostnames::LicenseId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LicenseHostnames::HostnameId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LicenseHostnames::FirstSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(LicenseHostnames::LicenseId)
                            .col(LicenseHostnames::HostnameId),
                    )
                    .foreign_key(&mut fk(
                        LicenseHostnames::Table,
                        LicenseHostnames::LicenseId,
                        Licenses::Table,
                        Licenses::Id,
                    ))
                    .foreign_key(&mut fk(
                        LicenseHostnames::Table,
                        LicenseHostnames::HostnameId,
                        Hostnames::Table,
                        Hostnames::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("license_hostnames_hostname_idx")
                    .table(LicenseHostnames::Table)
                    .col(LicenseHostnames::HostnameId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AddOns::Table)
                    .col(
                        ColumnDef::new(AddOns::Code)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AddOns::Name).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LicenseAddOns::Table)
                    .col(
                        ColumnDef::new(LicenseAddOns::LicenseId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(LicenseAddOns::AddOnCode).string().not_null())
                    .col(
                        ColumnDef::new(LicenseAddOns::Quantity)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .primary_key(
                        Index::create()
                            .col(LicenseAddOns::LicenseId)
                            .col(LicenseAddOns::AddOnCode),
                    )
                    .foreign_key(&mut fk(
                        LicenseAddOns::Table,
                        LicenseAddOns::LicenseId,
                        Licenses::Table,
                        Licenses::Id,
                    ))
                    .foreign_key(&mut fk(
                        LicenseAddOns::Table,
                        LicenseAddOns::AddOnCode,
                        AddOns::Table,
                        AddOns::Code,
                    ))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LicenseAddOns::Table.into_iden(),
            AddOns::Table.into_iden(),
            LicenseHostnames::Table.into_iden(),
            Hostnames::Table.into_iden(),
            Licenses::Table.into_iden(),
            Contacts::Table.into_iden(),
            Customers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
