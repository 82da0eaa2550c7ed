//! A person in the registry, with the fields the reports count and the admission dates.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub full_name: String,
    pub date_of_birth: Date,
    pub sex: String,
    pub ethnicity: String,
    pub religion: Option<String>,
    pub education: String,
    pub occupation: Option<String>,
    pub admission_decision_date: Option<Date>,
    pub ceremony_date: Option<Date>,
    pub official_date: Option<Date>,
    pub created_at: DateTimeUtc,
    pub email: Option<String>,
    pub party_card_number: Option<String>,
    pub search_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::member_unit::Entity")]
    MemberUnit,
    #[sea_orm(has_many = "super::member_status::Entity")]
    MemberStatus,
}

impl Related<super::member_unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MemberUnit.def()
    }
}

impl Related<super::member_status::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MemberStatus.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
