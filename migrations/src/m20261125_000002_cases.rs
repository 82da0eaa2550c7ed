//! Workflow cases, their append-only hash-chained history, their deadlines, and the outbox of
//! effects to carry out after a command commits.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    DefinitionId,
    DefinitionVersion,
    UnitId,
    SubjectMemberId,
    Title,
    State,
    Version,
    Terminal,
    Snapshot,
    NextDue,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseEvent {
    Table,
    Id,
    CaseId,
    Seq,
    Kind,
    Transition,
    Actor,
    Inputs,
    FromState,
    ToState,
    RuleSet,
    DefinitionVersion,
    Payload,
    IdempotencyKey,
    EffectiveDate,
    OccurredAt,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum CaseDeadline {
    Table,
    Id,
    CaseId,
    Key,
    Rule,
    Due,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    CaseId,
    Kind,
    DedupeKey,
    Payload,
    DueOn,
    Status,
    Attempts,
    CreatedAt,
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
                    .table(Cases::Table)
                    .col(pk_uuid(Cases::Id))
                    .col(string(Cases::DefinitionId))
                    .col(integer(Cases::DefinitionVersion))
                    .col(uuid(Cases::UnitId))
                    .col(uuid_null(Cases::SubjectMemberId))
                    .col(string(Cases::Title))
                    .col(string(Cases::State))
                    .col(big_integer(Cases::Version))
                    .col(boolean(Cases::Terminal))
                    .col(json(Cases::Snapshot))
                    .col(date_null(Cases::NextDue))
                    .col(timestamp_with_time_zone(Cases::CreatedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_unit")
                            .from(Cases::Table, Cases::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_case_unit", vec![Cases::UnitId, Cases::State]),
            (
                "ix_case_definition",
                vec![Cases::DefinitionId, Cases::State],
            ),
            ("ix_case_next_due", vec![Cases::Terminal, Cases::NextDue]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Cases::Table);
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CaseEvent::Table)
                    .col(big_pk_auto(CaseEvent::Id))
                    .col(uuid(CaseEvent::CaseId))
                    .col(big_integer(CaseEvent::Seq))
                    .col(string(CaseEvent::Kind))
                    .col(string(CaseEvent::Transition))
                    .col(string(CaseEvent::Actor))
                    .col(json(CaseEvent::Inputs))
                    .col(string(CaseEvent::FromState))
                    .col(string(CaseEvent::ToState))
                    .col(string(CaseEvent::RuleSet))
                    .col(integer(CaseEvent::DefinitionVersion))
                    .col(json(CaseEvent::Payload))
                    .col(string_null(CaseEvent::IdempotencyKey))
                    .col(date(CaseEvent::EffectiveDate))
                    .col(timestamp_with_time_zone(CaseEvent::OccurredAt))
                    .col(string(CaseEvent::PrevHash))
                    .col(string(CaseEvent::Hash))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_event_case")
                            .from(CaseEvent::Table, CaseEvent::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_case_event_seq")
                    .table(CaseEvent::Table)
                    .col(CaseEvent::CaseId)
                    .col(CaseEvent::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A repeated idempotency key on a case finds the first result; the index makes the
        // lookup cheap and a concurrent duplicate impossible.
        manager
            .create_index(
                Index::create()
                    .name("ux_case_event_idempotency")
                    .table(CaseEvent::Table)
                    .col(CaseEvent::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseDeadline::Table)
                    .col(big_pk_auto(CaseDeadline::Id))
                    .col(uuid(CaseDeadline::CaseId))
                    .col(string(CaseDeadline::Key))
                    .col(string(CaseDeadline::Rule))
                    .col(date(CaseDeadline::Due))
                    .col(string(CaseDeadline::Status))
                    .col(timestamp_with_time_zone(CaseDeadline::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_deadline_case")
                            .from(CaseDeadline::Table, CaseDeadline::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_deadline_due")
                    .table(CaseDeadline::Table)
                    .col(CaseDeadline::Status)
                    .col(CaseDeadline::Due)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(uuid_null(Outbox::CaseId))
                    .col(string(Outbox::Kind))
                    .col(string_uniq(Outbox::DedupeKey))
                    .col(json(Outbox::Payload))
                    .col(date(Outbox::DueOn))
                    .col(string(Outbox::Status))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::DueOn)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            CaseDeadline::Table.into_iden(),
            CaseEvent::Table.into_iden(),
            Cases::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
