//! A deadline of a case: due on a date, open until met, cancelled or passed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_deadline")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: Uuid,
    pub key: String,
    pub rule: String,
    pub due: Date,
    pub status: String,
    pub created_at: DateTimeUtc,
    /// The day first scheduled, before any extension (`None` on rows written before
    /// migration 000041 that were no longer open).
    pub scheduled_due: Option<Date>,
    /// The day the one-time extension moves it to, when it has one.
    pub extended_due: Option<Date>,
    /// Whether the extension was used (`due` is then the extended day).
    pub extended: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
