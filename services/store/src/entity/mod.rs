//! sea-orm entities: one module per table. They never leave this crate; the store converts
//! them into its own records at its border.

pub mod access_log;
pub mod account;
pub mod case_deadline;
pub mod case_event;
pub mod cases;
pub mod hamlet;
pub mod hamlet_branch;
pub mod json_text;
pub mod member;
pub mod member_exemption;
pub mod member_residence;
pub mod member_status;
pub mod member_unit;
pub mod outbox;
pub mod role_assignment;
pub mod session;
pub mod temporary_activity;
pub mod tree_event;
pub mod unit;
pub mod unit_ancestry;
pub mod unit_parent;
