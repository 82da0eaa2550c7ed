//! A case as a mail names it: title, state, unit, what it decided.

use std::collections::HashMap;

use chrono::NaiveDate;
use memberflow_workflow::engine::CaseSnapshot;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::Cases;
use crate::UnitBrief;
use crate::entity::cases;
use crate::error::Result;

/// A case, as a mail names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseBrief {
    /// Identifier.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Definition (`admission`).
    pub definition_id: String,
    /// Current state.
    pub state: String,
    /// Whether it ended.
    pub terminal: bool,
    /// Its earliest open deadline.
    pub next_due: Option<NaiveDate>,
    /// The unit that owns it.
    pub unit: Option<UnitBrief>,
    /// The member it is about.
    pub subject_member_id: Option<Uuid>,
    /// The discipline it decided, as the member concerned is told it (`engine::DecisionSummary`).
    pub decision: Option<memberflow_workflow::engine::DecisionSummary>,
}

impl Cases<'_> {
    /// The case `id` as a mail names it.
    pub async fn brief(&self, id: Uuid) -> Result<Option<CaseBrief>> {
        Ok(self.briefs(&[id]).await?.remove(&id))
    }

    /// The cases `ids` as mails name them.
    pub(crate) async fn briefs(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, CaseBrief>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows = cases::Entity::find()
                .filter(cases::Column::Id.is_in(chunk.iter().copied()))
                .all(self.db())
                .await?;
            let unit_ids: Vec<Uuid> = rows.iter().map(|c| c.unit_id).collect();
            let units: HashMap<Uuid, UnitBrief> = self
                .store
                .tree()
                .units(&unit_ids)
                .await?
                .iter()
                .map(|u| (u.id, UnitBrief::from(u)))
                .collect();
            for c in rows {
                let decision = serde_json::from_str::<CaseSnapshot>(c.snapshot.get())
                    .ok()
                    .and_then(|s| memberflow_workflow::engine::DecisionSummary::of(&s));
                out.insert(
                    c.id,
                    CaseBrief {
                        decision,
                        id: c.id,
                        title: c.title,
                        definition_id: c.definition_id,
                        state: c.state,
                        terminal: c.terminal,
                        next_due: c.next_due,
                        unit: units.get(&c.unit_id).cloned(),
                        subject_member_id: c.subject_member_id,
                    },
                );
            }
        }
        Ok(out)
    }
}
