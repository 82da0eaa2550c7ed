//! A hamlet or residential group (ấp, khu vực, tổ dân phố) of a commune-level unit over
//! `[valid_from, valid_to)`; `successor_id` the hamlet it was merged into.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hamlet")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub kind: String,
    /// The commune-level party unit it belongs to.
    pub unit_id: Uuid,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub successor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
