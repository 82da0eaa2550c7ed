//! The outbox in GraphQL: what is waiting, sent, cancelled or dead, with the last error, and
//! putting a dead letter back in the queue.

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use memberflow_store::{OutboxRecord, OutboxStatus as StoreStatus};

use crate::access::require_everywhere;
use crate::error::OrGql;
use crate::scalars::{Date, parse_id, to_id};
use crate::tree::{app, lang};
use memberflow_workflow::access::Permission;

/// Where an outbox row stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OutboxStatus {
    /// Waiting to be sent (or for a retry).
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// Cancelled by a step of its case before it was sent.
    Cancelled,
    /// Failed too often, or cannot be sent (no address, unknown template): waits for a person.
    Dead,
    /// Marked handled by a person before it went out: not sent.
    Handled,
}

impl From<OutboxStatus> for StoreStatus {
    fn from(s: OutboxStatus) -> Self {
        match s {
            OutboxStatus::Pending => StoreStatus::Pending,
            OutboxStatus::Sent => StoreStatus::Sent,
            OutboxStatus::Cancelled => StoreStatus::Cancelled,
            OutboxStatus::Dead => StoreStatus::Dead,
            OutboxStatus::Handled => StoreStatus::Handled,
        }
    }
}

impl From<StoreStatus> for OutboxStatus {
    fn from(s: StoreStatus) -> Self {
        match s {
            StoreStatus::Pending => OutboxStatus::Pending,
            StoreStatus::Sent => OutboxStatus::Sent,
            StoreStatus::Cancelled => OutboxStatus::Cancelled,
            StoreStatus::Dead => OutboxStatus::Dead,
            StoreStatus::Handled => OutboxStatus::Handled,
        }
    }
}

/// A reminder or mail in the outbox.
#[derive(SimpleObject)]
pub struct OutboxItem {
    /// Identifier (the mail's Message-ID is `<outbox-{id}@…>`).
    id: ID,
    /// The case that caused it.
    case_id: Option<ID>,
    /// `REMINDER`, `RECURRING_REMINDER`, `MAIL`, `DEADLINE`, `DIGEST`, `MEETING`, ...
    kind: String,
    /// Where it stands.
    status: OutboxStatus,
    /// The day it is due.
    due_on: Date,
    /// Attempts made.
    attempts: u32,
    /// The last failure (in English, from the SMTP exchange).
    last_error: Option<String>,
    /// When the SMTP server accepted it (RFC 3339).
    sent_at: Option<String>,
    /// What it carries: the workflow's effect or the periodic job.
    payload: Json<serde_json::Value>,
    /// Who marked it handled.
    handled_by: Option<String>,
    /// Their note.
    note: Option<String>,
}

impl From<OutboxRecord> for OutboxItem {
    fn from(r: OutboxRecord) -> Self {
        Self {
            id: ID(r.id.to_string()),
            case_id: r.case_id.map(to_id),
            kind: r.kind.as_str().to_owned(),
            status: r.status.into(),
            due_on: r.due_on.into(),
            attempts: r.attempts,
            last_error: r.last_error,
            sent_at: r.sent_at.map(|t| t.to_rfc3339()),
            payload: Json(r.payload),
            handled_by: r.handled_by,
            note: r.note,
        }
    }
}

/// Reading the outbox.
#[derive(Default)]
pub struct OutboxQuery;

#[Object]
impl OutboxQuery {
    /// Outbox rows, newest first, by status and case, at most `first` (100 by default, at
    /// most 500).
    async fn outbox(
        &self,
        ctx: &Context<'_>,
        status: Option<OutboxStatus>,
        case_id: Option<ID>,
        first: Option<u32>,
    ) -> async_graphql::Result<Vec<OutboxItem>> {
        let l = lang(ctx);
        require_everywhere(ctx, Permission::ReadOutbox)?;
        let case = case_id
            .as_ref()
            .map(|c| parse_id(c, "case"))
            .transpose()
            .gql(l)?;
        let rows = app(ctx)
            .store
            .outbox()
            .records(
                status.map(Into::into),
                case,
                u64::from(first.unwrap_or(100).min(500)),
            )
            .await
            .gql(l)?;
        Ok(rows.into_iter().map(OutboxItem::from).collect())
    }
}

/// Acting on the outbox.
#[derive(Default)]
pub struct OutboxMutation;

#[Object]
impl OutboxMutation {
    /// Puts a dead letter back in the queue (attempts reset), once its cause is fixed (an
    /// address configured, the SMTP server back).
    async fn requeue_dead_letter(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<OutboxItem> {
        let l = lang(ctx);
        require_everywhere(ctx, Permission::Administer)?;
        let a = app(ctx);
        let id: i64 = id.parse().map_err(|_| {
            crate::error::ApiError::Validation(memberflow_workflow::text::Text::new(
                format!("Mã định danh không hợp lệ: {}.", id.as_str()),
                format!("Malformed outbox id: {}.", id.as_str()),
            ))
            .into_graphql(l)
        })?;
        let r = a
            .store
            .outbox()
            .requeue_dead_letter(id, a.clock.now())
            .await
            .gql(l)?;
        a.committed();
        Ok(r.into())
    }
}
