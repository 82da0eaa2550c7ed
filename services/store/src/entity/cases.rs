//! A workflow case: its definition version, unit, state, version and snapshot.

use sea_orm::entity::prelude::*;

use super::json_text::JsonText;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub definition_id: String,
    pub definition_version: i32,
    pub unit_id: Uuid,
    pub subject_member_id: Option<Uuid>,
    pub title: String,
    pub state: String,
    pub version: i64,
    pub terminal: bool,
    /// Read as its text, decoded where it is used (`CaseRecord::snapshot`).
    #[sea_orm(column_type = "Json")]
    pub snapshot: JsonText,
    pub next_due: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
