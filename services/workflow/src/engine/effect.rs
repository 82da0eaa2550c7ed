//! Effects and notices: what a decision asks the shell to do, as data.
//!
//! The core decides, the shell acts: the store enqueues these in the same transaction as the
//! state change (outbox), the worker runs them after commit. The enum is closed and
//! serde-serializable so the outbox can hold it as JSON.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::definition::{MailSpec, OnExpiry, RoleRef};
use crate::vocab::MemberStatus;

/// Something the shell must do once the step is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Effect {
    /// Start (or replace, same key) a deadline.
    ScheduleDeadline {
        /// Deadline key.
        key: String,
        /// Rule id.
        rule: String,
        /// Last day on time.
        due: NaiveDate,
        /// Whether this schedule is the one-time extension.
        extended: bool,
        /// What happens when it passes.
        on_expiry: OnExpiry,
        /// Mail sent when it passes.
        notify: Option<MailSpec>,
    },
    /// Stop a deadline.
    CancelDeadline {
        /// Deadline key.
        key: String,
    },
    /// Send a reminder mail on a day.
    ScheduleReminder {
        /// Reminder key.
        key: String,
        /// Mail template.
        template: String,
        /// Recipient.
        to: RoleRef,
        /// Day to send it.
        at: NaiveDate,
    },
    /// Send a reminder mail on a cron schedule while the case stays in its state.
    ScheduleRecurringReminder {
        /// Reminder key.
        key: String,
        /// Mail template.
        template: String,
        /// Recipient.
        to: RoleRef,
        /// Cron expression (validated by the shell's cron parser).
        cron: String,
    },
    /// Stop a reminder.
    CancelReminder {
        /// Reminder key.
        key: String,
    },
    /// Send a mail now.
    SendMail {
        /// Mail template.
        template: String,
        /// Recipient.
        to: RoleRef,
    },
    /// Change the member's status in the registry.
    SetMemberStatus {
        /// New status.
        #[serde(with = "crate::vocab::definition_name")]
        status: MemberStatus,
    },
    /// Record the admission decision (A10); party age counts from its date (A15).
    RecordAdmissionDecision {
        /// Date written in the decision.
        decision_date: NaiveDate,
        /// Party-age anchor (A15): the decision date, kept separately from the probation start.
        party_age_from: NaiveDate,
    },
    /// Record the ceremony: probation starts that day (A13) and ends on `probation_end`.
    RecordCeremony {
        /// Ceremony date.
        ceremony_date: NaiveDate,
        /// End of the 12 months of probation.
        probation_end: NaiveDate,
    },
    /// Record recognition as an official member, effective at the end of probation whatever
    /// the date of the decision (A14).
    RecordRecognition {
        /// Effective date.
        official_from: NaiveDate,
    },
    /// Record that the name was struck off (A14, D4).
    RecordStrikeOff {
        /// Date of the decision.
        date: NaiveDate,
    },
    /// Record the expulsion (khai trừ): membership ends from the decision (D2, D36), even
    /// while an appeal is pending (P2).
    RecordExpulsion {
        /// Date of the decision.
        date: NaiveDate,
    },
    /// Restore the membership an annulled decision ended, from the annulment (P6).
    RecordRestoration {
        /// Date of the annulment.
        date: NaiveDate,
    },
    /// Record the discipline in the member's register (the statistics of discipline by form
    /// are counted from it): in force with its form from the decision or an appeal ruling,
    /// lapsed (C1), or annulled (P6).
    RecordDiscipline {
        /// The new status.
        status: super::definition::DisciplineStatus,
        /// The form in force (for `in_force`).
        form: Option<String>,
        /// The day of the decision, ruling, lapse or annulment.
        date: NaiveDate,
    },
}

impl Effect {
    /// Whether the shell queues a row for the outbox's sender for it (a mail, a reminder):
    /// the sender is then woken after the step's commit, and only then.
    pub fn queues_outbox_row(&self) -> bool {
        matches!(
            self,
            Effect::SendMail { .. }
                | Effect::ScheduleReminder { .. }
                | Effect::ScheduleRecurringReminder { .. }
        )
    }

    /// A mail effect from its spec.
    pub(crate) fn mail(spec: &MailSpec) -> Effect {
        Effect::SendMail {
            template: spec.template.clone(),
            to: spec.to.clone(),
        }
    }
}

/// Something worth telling the user about an accepted step, without refusing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// This step is decided under another rule set than the previous one.
    RuleSetChanged {
        /// Rule set of the previous step.
        previous: String,
        /// Rule set of this step.
        current: String,
    },
    /// The case leaves a state after one of its deadlines passed (A10: the late body must
    /// explain itself to the higher committee).
    LeftAfterDeadline {
        /// Deadline key.
        key: String,
        /// Rule id.
        rule: String,
        /// Due date that was missed.
        due: NaiveDate,
    },
    /// A reminder's day had already passed when the case entered the state; it is sent today.
    ReminderDue {
        /// Reminder key.
        key: String,
        /// Day it should have been sent.
        planned: NaiveDate,
    },
}
