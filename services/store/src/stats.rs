//! Statistics (`store.stats()`): the admission-target reports (S20, S21) and the source report's other
//! figures, the counters that make them fast at national scale, and the bulk loading the demo
//! provinces are built with.
//!
//! - `counters`: `stat_membership` and `stat_admission`, kept in step inside the transactions
//!   of the commands that change membership (registration, merges), built from scratch when
//!   missing, and checked against the registry (`Statistics::check`).
//! - `rollup`: `stat_rollup`, every unit's target figures with everything below it, per base
//!   day and year, kept with the counters and the tree: a unit's target is one indexed read.
//! - `forecast`: `stat_open_admission` and `stat_open_rollup`, the admission cases not decided
//!   yet by unit, stage and decision deadline, each unit's own and with everything below it,
//!   kept by the steps that open, move or close them: a unit's forecast is one indexed read.
//! - `tree`: the tree as it stood on a date, with units that ended folded into their
//!   successors, for the roll-ups.
//! - `reports`: the target report (rate, band, gap, forecast, roll-up, units at risk) and the
//!   members, admissions, discipline and badge counts.
//! - `questions`: the grassroots organizations and branches without an admission for some
//!   years, the members with a discipline in force on a date.
//! - `bulk`: multi-row inserts of a whole generated province in one transaction.
//!
//! The definitions are the core's (`memberflow_workflow::stats`) and `docs/targets.md`.

pub(crate) mod bulk;
mod counters;
pub(crate) mod entity;
pub(crate) mod forecast;
mod questions;
mod reports;
pub(crate) mod rollup;
mod tree;

pub use bulk::{
    BulkAccount, BulkBadge, BulkBatch, BulkCase, BulkCaseRound, BulkCaseRounds, BulkDiscipline,
    BulkEdge, BulkHamlet, BulkHamletLink, BulkMember, BulkMembership, BulkResidence, BulkStatus,
    BulkStep, BulkTreeEvent, BulkUnit,
};
pub(crate) use counters::{Recount, count_members, count_members_with, internal};
pub use counters::{StatsCheck, StatsDifference};
pub use questions::{IdleUnit, IdleUnitsReport};
pub use reports::{
    BadgeCounts, DisciplineCounts, MemberBreakdown, RiskScope, TargetFigures, TargetReport,
    TargetRequest, TargetRow, UnitCounts, target_reference,
};

aggregate!(
    /// Statistics: counters, subtree roll-ups, reports, bulk loading.
    Statistics,
    stats
);
