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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
