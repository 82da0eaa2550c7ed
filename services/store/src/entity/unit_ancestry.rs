//! The tree's ancestry as data: `ancestor_id` is `unit_id` itself (depth 0) or one of its
//! ancestors over `[valid_from, valid_to)` (a temporal closure table, ARCHITECTURE.md).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_ancestry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: Uuid,
    pub ancestor_id: Uuid,
    pub depth: i32,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The ancestor's unit row.
    #[sea_orm(
        belongs_to = "super::unit::Entity",
        from = "Column::AncestorId",
        to = "super::unit::Column::Id"
    )]
    Ancestor,
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Ancestor.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
