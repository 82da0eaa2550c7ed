//! Accounts, their sessions, their roles scoped to units of the tree, and the log of who read
//! which disciplinary case.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Username,
    PasswordHash,
    MemberId,
    Disabled,
    CreatedAt,
    PasswordChangedAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    Id,
    AccountId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RoleAssignment {
    Table,
    Id,
    AccountId,
    Role,
    UnitId,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Id,
    AccountId,
    Subject,
    Action,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(pk_uuid(Account::Id))
                    .col(string_uniq(Account::Username))
                    .col(string(Account::PasswordHash))
                    .col(uuid_null(Account::MemberId))
                    .col(boolean(Account::Disabled))
                    .col(timestamp_with_time_zone(Account::CreatedAt))
                    .col(timestamp_with_time_zone(Account::PasswordChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Session::Table)
                    .col(big_pk_auto(Session::Id))
                    .col(uuid(Session::AccountId))
                    .col(string_uniq(Session::TokenHash))
                    .col(timestamp_with_time_zone(Session::CreatedAt))
                    .col(timestamp_with_time_zone(Session::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Session::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_account")
                            .from(Session::Table, Session::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleAssignment::Table)
                    .col(big_pk_auto(RoleAssignment::Id))
                    .col(uuid(RoleAssignment::AccountId))
                    .col(string(RoleAssignment::Role))
                    .col(uuid_null(RoleAssignment::UnitId))
                    .col(timestamp_with_time_zone(RoleAssignment::CreatedAt))
                    .col(timestamp_with_time_zone_null(RoleAssignment::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_assignment_account")
                            .from(RoleAssignment::Table, RoleAssignment::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_role_assignment_account")
                    .table(RoleAssignment::Table)
                    .col(RoleAssignment::AccountId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccessLog::Table)
                    .col(big_pk_auto(AccessLog::Id))
                    .col(uuid(AccessLog::AccountId))
                    .col(string(AccessLog::Subject))
                    .col(string(AccessLog::Action))
                    .col(timestamp_with_time_zone(AccessLog::At))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            AccessLog::Table.into_iden(),
            RoleAssignment::Table.into_iden(),
            Session::Table.into_iden(),
            Account::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
