//! The registered members a step's inputs name (`engine::context::REGISTRY_MEMBERS`), read in
//! the step's transaction as the registry had them on the step's day: status, official date and
//! grassroots organization (A6 reads them for introducers), with the grassroots organization
//! of the case's unit that day; and, for a preview, the whole registry context a step of a
//! case would be given (the subject's discipline, the vote's exclusions).

use chrono::NaiveDate;
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::context::{RegisteredMember, registry_members};
use memberflow_workflow::engine::{InputType, Transition, Value, Values};
use memberflow_workflow::tree::Level as TreeLevel;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::Registry;
use crate::cases::{CaseDefinition as _, CaseRecord, registry_context, transition_context};
use crate::entity::{member, member_status, member_unit};
use crate::error::Result;
use crate::tree::{load_unit, parent_edge_on};

/// Whether the period `[from, to)` holds `on`.
fn holds(from: NaiveDate, to: Option<NaiveDate>, on: NaiveDate) -> bool {
    from <= on && to.is_none_or(|t| on < t)
}

/// The grassroots organization `unit` belongs to on `on` (itself, for a grassroots unit):
/// its id and its name with its code.
async fn grassroots_of(
    c: &impl ConnectionTrait,
    unit: Uuid,
    on: NaiveDate,
) -> Result<Option<(String, String)>> {
    let mut current = Some(unit);
    // The tree is a handful of levels deep; the bound guards against a corrupt cycle.
    for _ in 0..32 {
        let Some(id) = current else { break };
        let u = load_unit(c, id).await?;
        match u.kind.level() {
            TreeLevel::Grassroots => {
                return Ok(Some((u.id.to_string(), format!("{} ({})", u.name, u.code))));
            }
            TreeLevel::Branch => {}
            _ => return Ok(None),
        }
        current = parent_edge_on(c, id, on).await?.map(|e| e.parent_id);
    }
    Ok(None)
}

/// The context of step `t` with `inputs` on a case of `unit` dated `on`: every `member_ref`
/// input that names a registered member by id, as the registry had them that day.
pub(crate) async fn member_refs(
    c: &impl ConnectionTrait,
    t: &Transition,
    inputs: &Values,
    unit: Uuid,
    on: NaiveDate,
) -> Result<Values> {
    let mut found = Vec::new();
    for spec in t.inputs.iter().filter(|i| i.ty == InputType::MemberRef) {
        let Some(text) = inputs.get(&spec.name).and_then(Value::as_text) else {
            continue;
        };
        let Ok(id) = Uuid::parse_str(text.trim()) else {
            continue;
        };
        let Some(m) = member::Entity::find_by_id(id).one(c).await? else {
            continue;
        };
        let status = member_status::Entity::find()
            .filter(member_status::Column::MemberId.eq(id))
            .all(c)
            .await?
            .into_iter()
            .find(|s| holds(s.valid_from, s.valid_to, on))
            .map(|s| s.status);
        let home = member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.eq(id))
            .all(c)
            .await?
            .into_iter()
            .find(|p| holds(p.valid_from, p.valid_to, on))
            .map(|p| p.unit_id);
        let grassroots = match home {
            Some(u) => grassroots_of(c, u, on).await?,
            None => None,
        };
        found.push(RegisteredMember {
            id: text.trim().to_owned(),
            full_name: m.full_name,
            status,
            official_date: m.official_date,
            grassroots,
        });
    }
    Ok(registry_members(&found, grassroots_of(c, unit, on).await?))
}

impl Registry<'_> {
    /// What a step of `case` dated `on` would be given as registry context, for the preview of
    /// the transitions available from its state: the subject's discipline, and for each of those
    /// transitions what the step itself would read ([`transition_context`], with no inputs yet:
    /// a vote dated `on`). The step reads the same, by the same functions, in its own
    /// transaction, so the preview and the step agree.
    pub async fn context_of(
        &self,
        catalog: &Catalog,
        case: &CaseRecord,
        on: NaiveDate,
    ) -> Result<Values> {
        let def = catalog.definition_of(case)?;
        let mut context = if def.needs_registry_context() {
            registry_context(
                self.db(),
                catalog,
                case.subject_member_id,
                Some(case.id),
                on,
            )
            .await?
        } else {
            Values::new()
        };
        let snapshot = case.snapshot()?;
        let none = Values::new();
        for t in def.transitions_from(&snapshot.state) {
            context.extend(transition_context(self.db(), t, &none, case.unit_id, on).await?);
        }
        Ok(context)
    }
}
