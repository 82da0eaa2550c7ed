//! Accounts listed a page at a time and searched by login name or by the name of the member
//! an account belongs to (issue 13, the console's administration page):
//! - `account.search_name`: the login name as it is searched (lower case, without Vietnamese
//!   diacritics, `memberflow_workflow::text::search_key`), filled in for existing accounts;
//! - a partial index of the accounts that belong to a member, so the search by the member's
//!   name reads only those (through `member.search_name`, already indexed) instead of every
//!   account;
//! - on PostgreSQL, where `pg_trgm` is available (migration 000033), a trigram index on
//!   `account.search_name` so a part of a login name is an index read too.
//!
//! Pages are read in login-name order from the unique index on `account.username`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_null;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Username,
    SearchName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .add_column(string_null(Account::SearchName))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let select = Query::select()
            .column(Account::Username)
            .from(Account::Table)
            .to_owned();
        for row in db.query_all(&select).await? {
            let name: String = row.try_get("", "username")?;
            let update = Query::update()
                .table(Account::Table)
                .value(
                    Account::SearchName,
                    memberflow_workflow::text::search_key(&name),
                )
                .and_where(Expr::col(Account::Username).eq(name))
                .to_owned();
            db.execute(&update).await?;
        }
        // sea-query's schema builder has no `WHERE` for an index: the same text in both
        // dialects.
        db.execute_unprepared(
            "CREATE INDEX ix_account_member ON account (member_id) WHERE member_id IS NOT NULL",
        )
        .await?;
        if db.get_database_backend() == DbBackend::Postgres {
            let trigrams = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 AS one FROM pg_extension WHERE extname = 'pg_trgm'",
                ))
                .await?
                .is_some();
            if trigrams {
                db.execute_unprepared(
                    "CREATE INDEX ix_account_search_name_trgm ON account USING gin (search_name gin_trgm_ops)",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP INDEX IF EXISTS ix_account_search_name_trgm")
                .await?;
        }
        db.execute_unprepared("DROP INDEX IF EXISTS ix_account_member")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Account::Table)
                    .drop_column(Account::SearchName)
                    .to_owned(),
            )
            .await
    }
}
