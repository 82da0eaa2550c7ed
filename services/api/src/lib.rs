//! The GraphQL API: the only crate that knows async-graphql.
//!
//! The schema is split by feature (`tree`, `members`); every resolver converts the store's
//! records into GraphQL types at this border, and every failure into an error with a stable
//! `extensions.code` (see [`error::Code`]) and a message in Vietnamese and English.

pub mod access;
mod accounts;
mod auth;
mod away;
mod bytes;
mod cases;
mod clock;
mod discipline;
mod documents;
pub mod error;
mod hamlets;
pub mod import;
mod limits;
mod live;
mod members;
mod memo;
mod outbox;
mod questions;
mod reminders;
mod scalars;
mod schema;
mod targets;
mod tree;
mod variables;

pub use auth::{Auth, authenticate};
pub use clock::{Clock, FixedClock, SettableClock, SystemClock};
pub use error::{Code, finalize_response};
pub use limits::{Peer, RateLimits};
pub use memberflow_workflow::text::Lang;
pub use members::probation_months;

/// The names of the roles an account may hold, as `grantRole` takes them.
pub fn role_names() -> impl Iterator<Item = &'static str> {
    memberflow_workflow::access::Role::ALL
        .iter()
        .map(|r| r.as_str())
}
pub use documents::Parsed;
pub use import::{SheetFiles, SheetFormat, may_export, role_cards};
pub use reminders::{MailPreview, MailPreviewer};
pub use schema::{
    AfterCommit, ApiOptions, AppSchema, Gateway, Guarded, build_schema, changes_or_streams,
    documents_kept, execute, execute_parsed, is_request_error, parse, sdl, validate_document,
};
