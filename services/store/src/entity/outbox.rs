//! An effect on the outside world (a reminder, a mail) to carry out after its command
//! committed, once: the dedupe key is unique. The worker delivers it: a lease marks the row
//! as being handled, `next_attempt_at` delays a retry, `DEAD` ends it after too many failures.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: Option<Uuid>,
    pub kind: String,
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub payload: Json,
    pub due_on: Date,
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub lease_until: Option<DateTimeUtc>,
    pub lease_token: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub handled_by: Option<String>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
