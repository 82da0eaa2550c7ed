//! What an operator watches, read from the database at a scrape: open cases by workflow and
//! state, steps recorded by workflow and transition, overdue deadlines, the outbox by status
//! and its oldest waiting row, and the connection pool (docs/metrics.md).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::entity::outbox;
use crate::error::Result;
use crate::{Backend, Store};

/// A snapshot of the service's state for the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpsSnapshot {
    /// Open (not terminal) cases: workflow, state, count.
    pub open_cases: Vec<(String, String, i64)>,
    /// Steps recorded in the histories: workflow, transition (`open` for openings), count.
    pub steps: Vec<(String, String, i64)>,
    /// Open deadlines whose day has passed: workflow, count.
    pub overdue_deadlines: Vec<(String, i64)>,
    /// Outbox rows by status (`PENDING`, `SENT`, `DEAD`, ...), count.
    pub outbox: Vec<(String, i64)>,
    /// When the oldest pending outbox row was created.
    pub outbox_oldest_pending: Option<DateTime<Utc>>,
}

/// The connection pool of this process (on PostgreSQL, sea-orm's pool and the reads' and the
/// write transactions' own connections together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections open.
    pub size: u32,
    /// Of which idle.
    pub idle: u32,
    /// The most it may open.
    pub max: u32,
    /// Whether a connection of its own listens for revocations and tree changes (PostgreSQL,
    /// [`Store::hear_changes`]): cached sessions and paths are then trusted without a read.
    pub hears_changes: bool,
    /// The notifications of revocations and tree changes heard since the start.
    pub changes_heard: u64,
}

impl Store {
    /// Reads the snapshot (a few grouped counts; `today` decides which deadlines are overdue).
    pub async fn ops_snapshot(&self, today: NaiveDate) -> Result<OpsSnapshot> {
        let open_cases = self
            .grouped(
                "SELECT definition_id, state, COUNT(*) FROM cases WHERE terminal = false \
                 GROUP BY definition_id, state",
            )
            .await?
            .into_iter()
            .map(|(a, b, n)| (a, b.unwrap_or_default(), n))
            .collect();
        let steps = self
            .grouped(
                "SELECT c.definition_id, e.transition, COUNT(*) FROM case_event e \
                 JOIN cases c ON c.id = e.case_id GROUP BY c.definition_id, e.transition",
            )
            .await?
            .into_iter()
            .map(|(a, b, n)| (a, b.unwrap_or_default(), n))
            .collect();
        // A date is its ISO text on both databases; formatted here, never taken from input.
        let overdue_deadlines = self
            .grouped(&format!(
                "SELECT c.definition_id, NULL, COUNT(*) FROM case_deadline d \
                 JOIN cases c ON c.id = d.case_id \
                 WHERE d.status = 'OPEN' AND d.due < '{}' GROUP BY c.definition_id",
                today.format("%Y-%m-%d")
            ))
            .await?
            .into_iter()
            .map(|(a, _, n)| (a, n))
            .collect();
        let outbox = self
            .grouped("SELECT status, NULL, COUNT(*) FROM outbox GROUP BY status")
            .await?
            .into_iter()
            .map(|(a, _, n)| (a, n))
            .collect();
        let oldest: Option<DateTime<Utc>> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::CreatedAt)
            .filter(outbox::Column::Status.eq("PENDING"))
            .order_by_asc(outbox::Column::CreatedAt)
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(OpsSnapshot {
            open_cases,
            steps,
            overdue_deadlines,
            outbox,
            outbox_oldest_pending: oldest,
        })
    }

    /// Rows of (text, optional text, count) from `sql`.
    async fn grouped(&self, sql: &str) -> Result<Vec<(String, Option<String>, i64)>> {
        let rows = self
            .db()
            .query_all_raw(Statement::from_string(
                self.db().get_database_backend(),
                sql,
            ))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push((
                r.try_get_by_index::<String>(0)?,
                r.try_get_by_index::<Option<String>>(1)?,
                r.try_get_by_index::<i64>(2)?,
            ));
        }
        Ok(out)
    }

    /// The connection pool's use.
    pub fn pool_usage(&self) -> PoolUsage {
        let db = &self.db;
        match self.backend() {
            Backend::Sqlite => {
                let p = db.get_sqlite_connection_pool();
                PoolUsage {
                    size: p.size(),
                    idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
                    max: p.options().get_max_connections(),
                    hears_changes: false,
                    changes_heard: 0,
                }
            }
            Backend::Postgres => {
                // sea-orm's pool, and the reads' and write transactions' own connections
                // (conns.rs).
                let p = db.get_postgres_connection_pool();
                let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
                let (mut size, mut idle, mut max) =
                    (p.size(), n(p.num_idle()), p.options().get_max_connections());
                for conns in self.writers.iter().chain(self.reads.conns()) {
                    let (s, i, m) = conns.usage();
                    size = size.saturating_add(n(s));
                    idle = idle.saturating_add(n(i));
                    max = max.saturating_add(n(m));
                }
                PoolUsage {
                    size,
                    idle,
                    max,
                    hears_changes: self.hears_changes(),
                    changes_heard: self.changes.heard(),
                }
            }
        }
    }
}
