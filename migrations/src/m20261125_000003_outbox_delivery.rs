//! Delivery of the outbox by the worker: when a row may be tried again, who holds it for the
//! moment (a lease, so that several server instances never send the same row at once), the
//! last error, and when it was sent. `status` gains `SENT` and `DEAD` (dead letter) beside
//! `PENDING` and `CANCELLED`.
//!
//! SQLite adds one column per `ALTER TABLE`, so each column is its own statement.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    NextAttemptAt,
    LeaseUntil,
    LeaseToken,
    LastError,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            timestamp_with_time_zone_null(Outbox::NextAttemptAt),
            timestamp_with_time_zone_null(Outbox::LeaseUntil),
            string_null(Outbox::LeaseToken),
            text_null(Outbox::LastError),
            timestamp_with_time_zone_null(Outbox::SentAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        // Claims look rows up by their lease token; retries and recurring reminders by the
        // instant they are next due.
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_lease_token")
                    .table(Outbox::Table)
                    .col(Outbox::LeaseToken)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_next_attempt")
                    .table(Outbox::Table)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["ix_outbox_next_attempt", "ix_outbox_lease_token"] {
            manager
                .drop_index(Index::drop().name(name).table(Outbox::Table).to_owned())
                .await?;
        }
        for col in [
            Outbox::SentAt,
            Outbox::LastError,
            Outbox::LeaseToken,
            Outbox::LeaseUntil,
            Outbox::NextAttemptAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
