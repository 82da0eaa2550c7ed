//! Database migrations of memberflow.
//!
//! The same migrations run on SQLite and PostgreSQL: they are written with sea-query's schema
//! builder, never in one dialect's SQL. One migration per file, named after the file; a
//! migration that has shipped is never edited, only followed by a new one.

pub use sea_orm_migration::MigrationStatus;
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_tree_and_members;
mod m20261125_000002_cases;
mod m20261125_000003_outbox_delivery;
mod m20261125_000004_accounts;
mod m20261125_000005_stats;
mod m20261125_000006_access_log_index;
mod m20261125_000007_addresses;
mod m20261125_000008_discipline_register;
mod m20261203_000009_party_card;
mod m20261203_000021_member_search_name;
mod m20261203_000030_stat_rollup;
mod m20261203_000031_unit_ancestry;
mod m20261203_000032_auth_epoch;
mod m20261203_000033_partial_indexes;
mod m20261203_000034_account_search;
mod m20261204_000040_compact_snapshots;
mod m20261204_000041_deadline_extension;
mod m20261204_000050_member_exemption;
mod m20261204_000060_temporary_activity;
mod m20261205_000080_stat_forecast;
mod m20261205_000110_hamlets;
mod m20261205_000120_admission_days;
mod m20261206_000140_step_registry_facts;
mod m20261208_000300_discipline_decision;
mod m20261208_000400_admission_day_index;
mod m20261210_000500_deferred_index;

/// The migrator: every migration of the project, in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_tree_and_members::Migration),
            Box::new(m20261125_000002_cases::Migration),
            Box::new(m20261125_000003_outbox_delivery::Migration),
            Box::new(m20261125_000004_accounts::Migration),
            Box::new(m20261125_000005_stats::Migration),
            Box::new(m20261125_000006_access_log_index::Migration),
            Box::new(m20261125_000007_addresses::Migration),
            Box::new(m20261125_000008_discipline_register::Migration),
            Box::new(m20261203_000009_party_card::Migration),
            Box::new(m20261203_000021_member_search_name::Migration),
            Box::new(m20261203_000030_stat_rollup::Migration),
            Box::new(m20261203_000031_unit_ancestry::Migration),
            Box::new(m20261203_000032_auth_epoch::Migration),
            Box::new(m20261203_000033_partial_indexes::Migration),
            Box::new(m20261203_000034_account_search::Migration),
            Box::new(m20261204_000040_compact_snapshots::Migration),
            Box::new(m20261204_000041_deadline_extension::Migration),
            Box::new(m20261204_000050_member_exemption::Migration),
            Box::new(m20261204_000060_temporary_activity::Migration),
            Box::new(m20261205_000080_stat_forecast::Migration),
            Box::new(m20261205_000110_hamlets::Migration),
            Box::new(m20261205_000120_admission_days::Migration),
            Box::new(m20261206_000140_step_registry_facts::Migration),
            Box::new(m20261208_000300_discipline_decision::Migration),
            Box::new(m20261208_000400_admission_day_index::Migration),
            Box::new(m20261210_000500_deferred_index::Migration),
        ]
    }
}
