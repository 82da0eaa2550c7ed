//! E-mail addresses, so that reminders reach people rather than configured role mailboxes:
//! `account.email` (the holder of a role) and `member.email` (the member a case is about).
//! Both optional: a person without an address is reported on the mail that could not reach
//! them. `outbox.handled_by` and `outbox.note` record who marked a reminder handled, and why.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Email,
}

#[derive(DeriveIden)]
enum Member {
    Table,
    Email,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    HandledBy,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(string_null(Account::Email))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Member::Table)
                    .add_column(string_null(Member::Email))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(string_null(Outbox::HandledBy))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(string_null(Outbox::Note))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (t, c) in [
            (Outbox::Table.into_iden(), Outbox::Note.into_iden()),
            (Outbox::Table.into_iden(), Outbox::HandledBy.into_iden()),
            (Member::Table.into_iden(), Member::Email.into_iden()),
            (Account::Table.into_iden(), Account::Email.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(t).drop_column(c).to_owned())
                .await?;
        }
        Ok(())
    }
}
