//! The member registry: members and their dated histories (units, statuses), the workflow's
//! effects on them, party badges, what a step reads of the registry (its registry context),
//! and the import and export of the tree and the registry.
//!
//! - `members.rs`: registration, member pages and counts, histories, addresses.
//! - `effects.rs`: a step's effects on the registry, in the step's transaction.
//! - `step_context.rs`: the registry context a step is given, read as of its date.
//! - `away.rs`: temporary party activity elsewhere (sinh hoạt đảng tạm thời), a dated fact.
//! - `hamlets.rs`: the register of hamlets and residential groups, hamlet branches' links and
//!   members' residences, dated facts; the hamlets of a subtree on a day.
//! - `badges.rs`: badges awarded and the award.
//! - `exemptions.rs`: exemption from party activities and work (S15) and who was exempted on a day.
//! - `import.rs`: import of units and members in one transaction, and the export.
//! - `rows.rs`: the multi-row inserts of members and their histories (import, bulk loading).

mod away;
mod badges;
mod consequences;
mod effects;
mod exclusions;
pub(crate) use exclusions::vote_exclusions;
pub(crate) mod exemptions;
mod hamlets;
mod import;
mod members;
pub(crate) mod rows;
pub(crate) mod step_context;

pub use away::{NewTemporaryActivity, TemporaryActivity, TemporaryActivityOn};
pub use badges::{AwardOutcome, BadgeAwardRecord};
pub(crate) use effects::apply;
pub use exemptions::{ExemptionRecord, NewExemption};
pub(crate) use hamlets::end_unit_links;
pub use hamlets::{HamletOn, HamletPeriod, HamletRecord, NewHamlet};
pub use import::{
    BadgePageExport, ExportTree, ImportCounts, ImportOutcome, ImportRequest, MemberPageExport,
    MemberSource, RegistryExport, RowAction, RowOutcome, StreamOutcome, StreamPass, StreamProgress,
    StreamRequest,
};
pub(crate) use members::discipline_in_force_on;
pub use members::{DisciplineInForce, MemberFilter, MemberPage, NewMember};

aggregate!(
    /// The member registry: members, their histories, badges, a step's registry context,
    /// import and export.
    Registry,
    registry
);
