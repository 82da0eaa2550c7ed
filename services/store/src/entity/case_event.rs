//! One entry of a case's append-only history, chained to the one before by its hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: Uuid,
    pub seq: i64,
    pub kind: String,
    pub transition: String,
    pub actor: String,
    pub inputs: Json,
    pub from_state: String,
    pub to_state: String,
    pub rule_set: String,
    pub definition_version: i32,
    pub payload: Json,
    pub idempotency_key: Option<String>,
    pub effective_date: Date,
    pub occurred_at: DateTimeUtc,
    pub prev_hash: String,
    pub hash: String,
    /// What the registry told the step's guards (a vote's exclusions on its date), when it
    /// read anything of the kind.
    pub registry_facts: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
