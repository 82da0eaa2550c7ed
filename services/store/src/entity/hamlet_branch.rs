//! A hamlet branch (a unit of category `HAMLET`) linked to its hamlet over
//! `[valid_from, valid_to)`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hamlet_branch")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub hamlet_id: Uuid,
    pub unit_id: Uuid,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
