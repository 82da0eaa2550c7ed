//! `member.search_name`: the member's name as it is searched (lower case, without Vietnamese
//! diacritics, see `memberflow_workflow::text::search_key`), indexed, so that "nguyen van a"
//! finds "Nguyễn Văn A" with an index read on either database. Existing rows are filled in.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Member {
    Table,
    FullName,
    SearchName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Member::Table)
                    .add_column(string_null(Member::SearchName))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_member_search_name")
                    .table(Member::Table)
                    .col(Member::SearchName)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Filled in by name: every member of one name gets the same key.
        let select = Query::select()
            .distinct()
            .column(Member::FullName)
            .from(Member::Table)
            .to_owned();
        for row in db.query_all(&select).await? {
            let name: String = row.try_get("", "full_name")?;
            let update = Query::update()
                .table(Member::Table)
                .value(
                    Member::SearchName,
                    memberflow_workflow::text::search_key(&name),
                )
                .and_where(Expr::col(Member::FullName).eq(name))
                .to_owned();
            db.execute(&update).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_member_search_name")
                    .table(Member::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Member::Table)
                    .drop_column(Member::SearchName)
                    .to_owned(),
            )
            .await
    }
}
