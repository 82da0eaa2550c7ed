//! What the registry told a step's guards, kept on the step (`case_event.registry_facts`): for
//! a vote, the members of the case's unit its denominator left out on the vote's date (living
//! their party life elsewhere, exempted: A8, A14, D5, D33, S15), so that the case's votes show
//! the denominator the guard used, not only the counts typed in. Null for a step that read
//! nothing of the kind and for steps recorded before the column.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseEvent {
    Table,
    RegistryFacts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseEvent::Table)
                    .add_column(ColumnDef::new(CaseEvent::RegistryFacts).json().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseEvent::Table)
                    .drop_column(CaseEvent::RegistryFacts)
                    .to_owned(),
            )
            .await
    }
}
