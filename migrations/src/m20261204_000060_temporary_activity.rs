//! Temporary party activity (sinh hoạt đảng tạm thời): a member of a branch living their party
//! life for a while at another unit (`host_unit_id`), or somewhere the registry does not hold
//! (another province, abroad: `place`), over a half-open period `[valid_from, valid_to)`. The
//! member stays registered in their home branch; this is a dated fact beside it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TemporaryActivity {
    Table,
    Id,
    MemberId,
    HostUnitId,
    Place,
    Abroad,
    ValidFrom,
    ValidTo,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Member {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Unit {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TemporaryActivity::Table)
                    .col(big_pk_auto(TemporaryActivity::Id))
                    .col(uuid(TemporaryActivity::MemberId))
                    .col(uuid_null(TemporaryActivity::HostUnitId))
                    .col(string_null(TemporaryActivity::Place))
                    .col(boolean(TemporaryActivity::Abroad).default(false))
                    .col(date(TemporaryActivity::ValidFrom))
                    .col(date_null(TemporaryActivity::ValidTo))
                    .col(timestamp_with_time_zone(TemporaryActivity::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_temporary_activity_member")
                            .from(TemporaryActivity::Table, TemporaryActivity::MemberId)
                            .to(Member::Table, Member::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_temporary_activity_host")
                            .from(TemporaryActivity::Table, TemporaryActivity::HostUnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_temporary_activity_member")
                    .table(TemporaryActivity::Table)
                    .col(TemporaryActivity::MemberId)
                    .col(TemporaryActivity::ValidFrom)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_temporary_activity_host")
                    .table(TemporaryActivity::Table)
                    .col(TemporaryActivity::HostUnitId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TemporaryActivity::Table).to_owned())
            .await
    }
}
