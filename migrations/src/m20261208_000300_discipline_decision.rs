//! The discipline register keeps the decision's number and the body that decided
//! (`discipline_record.decision_number`, `body_kind`, `body_level`: a body kind and a tree
//! level as the discipline workflows code them), filled by the discipline cases' effect from
//! the case's facts and by imports of the register; null where they are not known (records
//! written before the columns, imported without them).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DisciplineRecord {
    Table,
    DecisionNumber,
    BodyKind,
    BodyLevel,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for c in [
            DisciplineRecord::DecisionNumber,
            DisciplineRecord::BodyKind,
            DisciplineRecord::BodyLevel,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DisciplineRecord::Table)
                        .add_column(string_null(c))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for c in [
            DisciplineRecord::BodyLevel,
            DisciplineRecord::BodyKind,
            DisciplineRecord::DecisionNumber,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DisciplineRecord::Table)
                        .drop_column(c)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
