//! A member's temporary party activity elsewhere over `[valid_from, valid_to)`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "temporary_activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub member_id: Uuid,
    /// The unit of the registry where the member lives their party life meanwhile.
    pub host_unit_id: Option<Uuid>,
    /// Where, when the host is not in the registry (another province, abroad).
    pub place: Option<String>,
    pub abroad: bool,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
