//! The hamlet a member lives in over `[valid_from, valid_to)`, and why the period began
//! (`SET`, `MERGED`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_residence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub member_id: Uuid,
    pub hamlet_id: Uuid,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
