//! An open deadline's row says everything a list shows of it, so that a page of cases reads
//! the deadlines of all its cases in one query instead of decoding each case's snapshot:
//! `scheduled_due` (the day first scheduled, before any extension), `extended_due` (the day the
//! one-time extension moves it to, when it has one) and `extended` (whether it was used; `due`
//! is then the extended day). The open rows are filled from the snapshots.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseDeadline {
    Table,
    ScheduledDue,
    ExtendedDue,
    Extended,
}

const SQLITE_FILL: &str = "UPDATE case_deadline SET \
    scheduled_due = (SELECT json_extract(c.snapshot, '$.deadlines.\"' || case_deadline.key || '\".due') \
        FROM cases c WHERE c.id = case_deadline.case_id), \
    extended_due = (SELECT json_extract(c.snapshot, '$.deadlines.\"' || case_deadline.key || '\".extended_due') \
        FROM cases c WHERE c.id = case_deadline.case_id), \
    extended = COALESCE((SELECT json_extract(c.snapshot, '$.deadlines.\"' || case_deadline.key || '\".extended') \
        FROM cases c WHERE c.id = case_deadline.case_id), 0) \
    WHERE status = 'OPEN'";

const POSTGRES_FILL: &str = "UPDATE case_deadline d SET \
    scheduled_due = (c.snapshot::jsonb -> 'deadlines' -> d.key ->> 'due')::date, \
    extended_due = (c.snapshot::jsonb -> 'deadlines' -> d.key ->> 'extended_due')::date, \
    extended = COALESCE((c.snapshot::jsonb -> 'deadlines' -> d.key ->> 'extended')::boolean, false) \
    FROM cases c WHERE c.id = d.case_id AND d.status = 'OPEN'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            ColumnDef::new(CaseDeadline::ScheduledDue)
                .date()
                .null()
                .to_owned(),
            ColumnDef::new(CaseDeadline::ExtendedDue)
                .date()
                .null()
                .to_owned(),
            ColumnDef::new(CaseDeadline::Extended)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseDeadline::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared(match db.get_database_backend() {
            DbBackend::Postgres => POSTGRES_FILL,
            _ => SQLITE_FILL,
        })
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            CaseDeadline::Extended,
            CaseDeadline::ExtendedDue,
            CaseDeadline::ScheduledDue,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseDeadline::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
