//! memberflow's worker: the only crate that knows lettre and cron.
//!
//! Commands write what must happen outside the database (reminders, mails) as outbox rows in
//! their own transaction; this crate delivers them after the fact, and runs the periodic jobs
//! configured as cron schedules (the daily sweep, the weekly digests, the monthly meeting
//! reminders, the monthly admission-target report).
//!
//! - [`Schedules`] parses and validates the cron expressions at start-up (every bad one
//!   reported at once); times are in Vietnam (UTC+7, no daylight saving).
//! - [`Mailer`] sends a [`Mail`] over SMTP with lettre, from an `smtp://` or `smtps://` URL,
//!   with a stable Message-ID per outbox row.
//! - [`templates`] loads and renders the mail texts (`schemas/mail/*.txt`, MiniJinja),
//!   Vietnamese by default and English available, and checks them for `memberflow check`.
//! - [`Worker`] ties them to the store: [`Worker::dispatch_due`] is one pass at a given
//!   instant (tests call it with any `now`); [`Worker::run`] is the loop that sleeps until the
//!   next due instant, wakes early on [`WorkerHandle::wake`], and stops on shutdown.
//!
//! See `docs/reminders.md` for the delivery guarantees.

mod error;
mod mailer;
mod recipients;
mod schedule;
pub mod templates;
mod worker;

pub use error::{Result, WorkerError};
pub use mailer::{Mail, Mailer, SendError};
pub use recipients::Recipients;
pub use schedule::{Job, Schedules, next_tick, today_in_vietnam, validate_cron, vietnam_offset};
pub use templates::MailTemplates;
pub use worker::{
    Clock, DispatchReport, JobObserver, JobRun, Preview, Worker, WorkerHandle, WorkerOptions,
    default_instance, instance_name,
};
