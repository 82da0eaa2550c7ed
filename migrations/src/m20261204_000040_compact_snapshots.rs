//! Case snapshots hold the current state only: the list of every step taken (`steps`) leaves
//! the snapshot, which keeps instead the opening and the latest step's day, transition and
//! rule set (`opened`, `last_step`). The steps themselves were, and stay, in the append-only
//! history (`case_event`), one row each; a step now rewrites a snapshot whose size does not
//! grow with the case's age.
//!
//! Both rewrites are set-based SQL, one statement per dialect (SQLite's JSON1 functions,
//! PostgreSQL's `jsonb` operators on the `json` column). `down` rebuilds the list from the
//! history's `STEP` rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &str = "UPDATE cases SET snapshot = json_remove(json_set(snapshot, \
    '$.opened', CASE WHEN json_array_length(snapshot, '$.steps') > 0 THEN json_object(\
        'on', json_extract(snapshot, '$.steps[0].on'), \
        'transition', json_extract(snapshot, '$.steps[0].transition'), \
        'rule_set', json_extract(snapshot, '$.steps[0].rule_set')) END, \
    '$.last_step', CASE WHEN json_array_length(snapshot, '$.steps') > 0 THEN json_object(\
        'on', json_extract(snapshot, '$.steps[#-1].on'), \
        'transition', json_extract(snapshot, '$.steps[#-1].transition'), \
        'rule_set', json_extract(snapshot, '$.steps[#-1].rule_set')) END), \
    '$.steps') \
    WHERE json_type(snapshot, '$.steps') = 'array'";

const POSTGRES_UP: &str = "UPDATE cases SET snapshot = ((snapshot::jsonb - 'steps') || jsonb_build_object(\
    'opened', CASE WHEN jsonb_array_length(snapshot::jsonb -> 'steps') > 0 THEN jsonb_build_object(\
        'on', snapshot::jsonb -> 'steps' -> 0 -> 'on', \
        'transition', snapshot::jsonb -> 'steps' -> 0 -> 'transition', \
        'rule_set', snapshot::jsonb -> 'steps' -> 0 -> 'rule_set') END, \
    'last_step', CASE WHEN jsonb_array_length(snapshot::jsonb -> 'steps') > 0 THEN jsonb_build_object(\
        'on', snapshot::jsonb -> 'steps' -> -1 -> 'on', \
        'transition', snapshot::jsonb -> 'steps' -> -1 -> 'transition', \
        'rule_set', snapshot::jsonb -> 'steps' -> -1 -> 'rule_set') END))::json \
    WHERE jsonb_typeof(snapshot::jsonb -> 'steps') = 'array'";

const SQLITE_DOWN: &str = "UPDATE cases SET snapshot = json_remove(json_set(snapshot, '$.steps', \
    json(COALESCE((SELECT json_group_array(json_object(\
        'seq', e.seq, 'transition', e.transition, 'from', e.from_state, 'to', e.to_state, \
        'on', e.effective_date, 'rule_set', e.rule_set, \
        'definition_version', e.definition_version, 'actor', e.actor)) \
      FROM (SELECT * FROM case_event WHERE case_event.case_id = cases.id AND kind = 'STEP' \
            ORDER BY seq) e), '[]'))), \
    '$.opened', '$.last_step')";

const POSTGRES_DOWN: &str = "UPDATE cases SET snapshot = ((snapshot::jsonb - 'opened' - 'last_step') \
    || jsonb_build_object('steps', COALESCE((SELECT jsonb_agg(jsonb_build_object(\
        'seq', e.seq, 'transition', e.transition, 'from', e.from_state, 'to', e.to_state, \
        'on', e.effective_date, 'rule_set', e.rule_set, \
        'definition_version', e.definition_version, 'actor', e.actor) ORDER BY e.seq) \
      FROM case_event e WHERE e.case_id = cases.id AND e.kind = 'STEP'), '[]'::jsonb)))::json";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(match db.get_database_backend() {
            DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        })
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(match db.get_database_backend() {
            DbBackend::Postgres => POSTGRES_DOWN,
            _ => SQLITE_DOWN,
        })
        .await?;
        Ok(())
    }
}
