//! The open deadlines of open cases: what is due by a day (reminders, digests), and what
//! passed, with what the case's definition says to do about it (a mail, an escalation).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use memberflow_workflow::engine::{CaseSnapshot, MailSpec, OnExpiry};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Cases;
use crate::entity::{case_deadline, cases};
use crate::error::Result;

/// An open deadline of an open case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueItem {
    /// The case.
    pub case_id: Uuid,
    /// Its title.
    pub case_title: String,
    /// Its definition (`admission`).
    pub definition_id: String,
    /// Its state.
    pub state: String,
    /// The unit that owns it.
    pub unit_id: Uuid,
    /// The deadline's key.
    pub key: String,
    /// Its rule id.
    pub rule: String,
    /// The last day on time.
    pub due: NaiveDate,
}

/// An open deadline whose last day is past, with what its definition says to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassedDeadline {
    /// The deadline.
    pub item: DueItem,
    /// The mail to send, if the definition asks for one.
    pub notify: Option<MailSpec>,
    /// What happens on expiry (an escalation is fired by the shell).
    pub on_expiry: OnExpiry,
    /// The day the deadline's rule takes effect: its last day (extended, once extended), on
    /// which an escalation is dated — or the case's latest step, if that came later.
    pub takes_effect_on: NaiveDate,
}

impl Cases<'_> {
    /// Open deadlines of open cases whose last day is on or before `through`, earliest first.
    pub async fn due_items(&self, through: NaiveDate) -> Result<Vec<DueItem>> {
        Ok(self
            .open_deadlines(case_deadline::Column::Due.lte(through))
            .await?
            .into_iter()
            .map(|(item, _)| item)
            .collect())
    }

    /// Open deadlines of open cases whose last day is before `today`, with what their
    /// definition says to do.
    pub async fn passed_deadlines(&self, today: NaiveDate) -> Result<Vec<PassedDeadline>> {
        let mut out = Vec::new();
        for (item, snapshot) in self
            .open_deadlines(case_deadline::Column::Due.lt(today))
            .await?
        {
            let Some(record) = snapshot.deadlines.get(&item.key) else {
                continue;
            };
            let latest = snapshot.last_step_on();
            out.push(PassedDeadline {
                notify: record.notify.clone(),
                on_expiry: record.on_expiry.clone(),
                takes_effect_on: latest.map_or(record.effective_due(), |l| {
                    std::cmp::max(l, record.effective_due())
                }),
                item,
            });
        }
        Ok(out)
    }

    async fn open_deadlines(&self, due: Expr) -> Result<Vec<(DueItem, CaseSnapshot)>> {
        let rows = case_deadline::Entity::find()
            .filter(case_deadline::Column::Status.eq("OPEN"))
            .filter(due)
            .order_by_asc(case_deadline::Column::Due)
            .order_by_asc(case_deadline::Column::Id)
            .all(self.db())
            .await?;
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|d| d.case_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut open_cases = HashMap::new();
        for chunk in ids.chunks(500) {
            for c in cases::Entity::find()
                .filter(cases::Column::Id.is_in(chunk.iter().copied()))
                .filter(cases::Column::Terminal.eq(false))
                .all(self.db())
                .await?
            {
                open_cases.insert(c.id, c);
            }
        }
        let mut out = Vec::new();
        for d in rows {
            let Some(c) = open_cases.get(&d.case_id) else {
                continue;
            };
            let snapshot: CaseSnapshot = match serde_json::from_str(c.snapshot.get()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(case = %c.id, error = %e, "unreadable case snapshot skipped");
                    continue;
                }
            };
            out.push((
                DueItem {
                    case_id: c.id,
                    case_title: c.title.clone(),
                    definition_id: c.definition_id.clone(),
                    state: c.state.clone(),
                    unit_id: c.unit_id,
                    key: d.key,
                    rule: d.rule,
                    due: d.due,
                },
                snapshot,
            ));
        }
        Ok(out)
    }
}
