//! The registry exported a page at a time (docs/import.md, «Exports»): the download route
//! streams an export row by row, so it reads the tree once (every unit's code; the units of
//! the scope in the import's form) and then the members with a card number a page at a time,
//! by card number (keyset), each page with its own histories: memory holds the tree and one
//! page, whatever the registry's size. The rows are those [`Registry::export_within`] gives.

use std::collections::{HashMap, HashSet};

use memberflow_workflow::import::{
    BadgeRow, DisciplineRow, HamletRow, MemberRow, Period, RoleRow, UnitRow,
};
use memberflow_workflow::tree::{self as core, MemberStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::super::Registry;
use crate::entity::{member, member_residence, member_status, member_unit, unit, unit_parent};
use crate::error::Result;
use crate::stats::entity::{badge_award, discipline_record};

/// The tree as an export names it.
#[derive(Debug, Clone, Default)]
pub struct ExportTree {
    /// The units of the scope, by code, in the import's form.
    pub units: Vec<UnitRow>,
    /// Every unit's code, by id (histories name units outside the scope too).
    pub(super) code_of: HashMap<Uuid, String>,
    /// The units exported (`None`: every one).
    pub(super) scope: Option<HashSet<Uuid>>,
    /// The hamlets of the units exported, by code, in the import's form.
    pub hamlets: Vec<HamletRow>,
    /// Every hamlet's code, by id (residences name hamlets outside the scope too).
    pub(super) hamlet_code_of: HashMap<Uuid, String>,
}

/// The members of a page, and the card number to read the next page after (`None`: the
/// last page was read).
#[derive(Debug, Clone, Default)]
pub struct MemberPageExport {
    /// The members of the page within the scope, by card number.
    pub members: Vec<MemberRow>,
    /// Where the next page starts.
    pub next: Option<String>,
}

/// The badges of a page of members, and the card number to read the next page after.
#[derive(Debug, Clone, Default)]
pub struct BadgePageExport {
    /// The badges of the page's members within the scope, by card number and years.
    pub badges: Vec<BadgeRow>,
    /// Where the next page starts (`None`: the last page was read).
    pub next: Option<String>,
}

impl Registry<'_> {
    /// The tree for an export within `scope` (`None`: everything).
    pub async fn export_tree(&self, scope: Option<HashSet<Uuid>>) -> Result<ExportTree> {
        let db = self.db();
        let units = unit::Entity::find()
            .order_by_asc(unit::Column::Code)
            .all(db)
            .await?;
        let code_of: HashMap<Uuid, String> = units.iter().map(|u| (u.id, u.code.clone())).collect();
        let mut edges_of: HashMap<Uuid, Vec<unit_parent::Model>> = HashMap::new();
        for e in unit_parent::Entity::find()
            .order_by_asc(unit_parent::Column::ValidFrom)
            .order_by_asc(unit_parent::Column::Id)
            .all(db)
            .await?
        {
            edges_of.entry(e.unit_id).or_default().push(e);
        }
        let mut rows = Vec::new();
        for u in units
            .iter()
            .filter(|u| scope.as_ref().is_none_or(|s| s.contains(&u.id)))
        {
            let kind = core::UnitKind::parse(&u.kind).ok_or_else(|| {
                crate::stats::internal(format!("unit {} has an unknown kind", u.id))
            })?;
            rows.push(UnitRow {
                row: rows.len() + 2,
                code: u.code.clone(),
                name: u.name.clone(),
                kind,
                branch_category: u.branch_category.clone(),
                valid_from: u.valid_from,
                valid_to: u.valid_to,
                parents: super::unit_periods(
                    edges_of.get(&u.id).map_or(&[][..], Vec::as_slice),
                    &code_of,
                ),
                successor: u.successor_id.and_then(|s| code_of.get(&s).cloned()),
            });
        }
        let (hamlets, hamlet_code_of) =
            super::hamlets::export_hamlets(db, &code_of, scope.as_ref()).await?;
        Ok(ExportTree {
            units: rows,
            code_of,
            scope,
            hamlets,
            hamlet_code_of,
        })
    }

    /// The next page of members with a card number: at most `limit` read after the card
    /// number `after` (from the first without it), those whose last branch is in the tree's
    /// scope kept, with their unit and status histories.
    pub async fn export_members_page(
        &self,
        tree: &ExportTree,
        after: Option<&str>,
        limit: u64,
    ) -> Result<MemberPageExport> {
        let db = self.db();
        let mut q = member::Entity::find().filter(member::Column::PartyCardNumber.is_not_null());
        if let Some(a) = after {
            q = q.filter(member::Column::PartyCardNumber.gt(a));
        }
        let page = q
            .order_by_asc(member::Column::PartyCardNumber)
            .limit(limit.max(1))
            .all(db)
            .await?;
        let next = if (page.len() as u64) < limit.max(1) {
            None
        } else {
            page.last().and_then(|m| m.party_card_number.clone())
        };
        let ids: Vec<Uuid> = page.iter().map(|m| m.id).collect();
        let mut units_of: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
        let mut last_unit: HashMap<Uuid, Uuid> = HashMap::new();
        let mut statuses_of: HashMap<Uuid, Vec<Period<MemberStatus>>> = HashMap::new();
        for (m, rows) in branches_of(db, &ids).await? {
            if let Some(last) = rows.last() {
                last_unit.insert(m, last.unit_id);
            }
            units_of.insert(
                m,
                rows.into_iter()
                    .map(|mu| unit_period(mu, &tree.code_of))
                    .collect(),
            );
        }
        let mut residences_of = residences_of(db, &ids, &tree.hamlet_code_of).await?;
        for chunk in ids.chunks(500) {
            for st in member_status::Entity::find()
                .filter(member_status::Column::MemberId.is_in(chunk.iter().copied()))
                .order_by_asc(member_status::Column::ValidFrom)
                .order_by_asc(member_status::Column::Id)
                .all(db)
                .await?
            {
                let member = st.member_id;
                if let Some(p) = status_period(st) {
                    statuses_of.entry(member).or_default().push(p);
                }
            }
        }
        let mut members = Vec::with_capacity(page.len());
        for m in page {
            if let Some(s) = &tree.scope
                && !last_unit.get(&m.id).is_some_and(|u| s.contains(u))
            {
                continue;
            }
            let Some(card) = m.party_card_number.clone() else {
                continue;
            };
            let (units, statuses, residences) = (
                units_of.remove(&m.id).unwrap_or_default(),
                statuses_of.remove(&m.id).unwrap_or_default(),
                residences_of.remove(&m.id).unwrap_or_default(),
            );
            members.push(member_row(m, card, units, statuses, residences));
        }
        Ok(MemberPageExport { members, next })
    }

    /// The party badges of the next page of members with a card number (at most `limit`
    /// members read after the card number `after`), those whose last branch is in the tree's
    /// scope kept: the rows [`Registry::export_within`] gives, a page at a time.
    pub async fn export_badges_page(
        &self,
        tree: &ExportTree,
        after: Option<&str>,
        limit: u64,
    ) -> Result<BadgePageExport> {
        let db = self.db();
        let mut q = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .column(member::Column::PartyCardNumber)
            .filter(member::Column::PartyCardNumber.is_not_null());
        if let Some(a) = after {
            q = q.filter(member::Column::PartyCardNumber.gt(a));
        }
        let page: Vec<(Uuid, Option<String>)> = q
            .order_by_asc(member::Column::PartyCardNumber)
            .limit(limit.max(1))
            .into_tuple()
            .all(db)
            .await?;
        let next = if (page.len() as u64) < limit.max(1) {
            None
        } else {
            page.last().and_then(|m| m.1.clone())
        };
        let mut card_of: HashMap<Uuid, String> = page
            .into_iter()
            .filter_map(|(id, card)| card.map(|c| (id, c)))
            .collect();
        if let Some(scope) = &tree.scope {
            let ids: Vec<Uuid> = card_of.keys().copied().collect();
            let last_unit = last_units_of(db, &ids).await?;
            card_of.retain(|m, _| last_unit.get(m).is_some_and(|u| scope.contains(u)));
        }
        let ids: Vec<Uuid> = card_of.keys().copied().collect();
        let mut badges = Vec::new();
        for chunk in ids.chunks(500) {
            for b in badge_award::Entity::find()
                .filter(badge_award::Column::MemberId.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                if let (Some(card), Ok(years)) = (card_of.get(&b.member_id), u32::try_from(b.years))
                {
                    badges.push(BadgeRow {
                        row: 0,
                        card: card.clone(),
                        years,
                        award_date: b.award_date,
                    });
                }
            }
        }
        badges.sort_by(|a, b| (&a.card, a.years).cmp(&(&b.card, b.years)));
        Ok(BadgePageExport { badges, next })
    }

    /// The discipline register an export within the tree's scope gives: the records of the
    /// members with a card number whose last branch is in the scope, as
    /// [`Registry::export_within`] gives them.
    pub async fn export_discipline_of(&self, tree: &ExportTree) -> Result<Vec<DisciplineRow>> {
        let db = self.db();
        let ids: Vec<Uuid> = discipline_record::Entity::find()
            .select_only()
            .column(discipline_record::Column::MemberId)
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        let mut card_of = cards_of(db, &ids).await?;
        if let Some(scope) = &tree.scope {
            let ids: Vec<Uuid> = card_of.keys().copied().collect();
            let last_unit = last_units_of(db, &ids).await?;
            card_of.retain(|m, _| last_unit.get(m).is_some_and(|u| scope.contains(u)));
        }
        super::discipline::export_discipline(db, &card_of).await
    }

    /// The role grants an export within the tree's scope gives.
    pub async fn export_roles_of(&self, tree: &ExportTree) -> Result<Vec<RoleRow>> {
        super::roles::export_roles(self.db(), &tree.code_of, tree.scope.as_ref()).await
    }
}

/// The card numbers of members `ids` (those without one left out).
pub(super) async fn cards_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let cards: Vec<(Uuid, Option<String>)> = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .column(member::Column::PartyCardNumber)
            .filter(member::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(cards.into_iter().filter_map(|(id, c)| Some((id, c?))));
    }
    Ok(out)
}

/// The members recorded with card numbers `cards`.
pub(super) async fn members_by_card(
    db: &impl ConnectionTrait,
    cards: &[String],
) -> Result<Vec<member::Model>> {
    let mut out = Vec::new();
    for chunk in cards.chunks(500) {
        out.extend(
            member::Entity::find()
                .filter(member::Column::PartyCardNumber.is_in(chunk.iter().cloned()))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// A member's branch period in the import's form (the unit by its code).
pub(super) fn unit_period(
    mu: member_unit::Model,
    code_of: &HashMap<Uuid, String>,
) -> Period<String> {
    Period {
        value: code_of.get(&mu.unit_id).cloned().unwrap_or_default(),
        from: mu.valid_from,
        to: mu.valid_to,
        reason: Some(mu.reason),
    }
}

/// A member's residence period in the import's form (the hamlet by its code).
pub(super) fn residence_period(
    r: member_residence::Model,
    hamlet_code_of: &HashMap<Uuid, String>,
) -> Period<String> {
    Period {
        value: hamlet_code_of
            .get(&r.hamlet_id)
            .cloned()
            .unwrap_or_default(),
        from: r.valid_from,
        to: r.valid_to,
        reason: Some(r.reason),
    }
}

/// A member's status period in the import's form (`None`: a status the registry does not
/// know).
pub(super) fn status_period(st: member_status::Model) -> Option<Period<MemberStatus>> {
    Some(Period {
        value: MemberStatus::parse(&st.status)?,
        from: st.valid_from,
        to: st.valid_to,
        reason: None,
    })
}

/// A member with a card number as an export row, with its histories.
pub(super) fn member_row(
    m: member::Model,
    card: String,
    units: Vec<Period<String>>,
    statuses: Vec<Period<MemberStatus>>,
    residences: Vec<Period<String>>,
) -> MemberRow {
    MemberRow {
        row: 0,
        card,
        full_name: m.full_name,
        date_of_birth: m.date_of_birth,
        sex: m.sex,
        ethnicity: m.ethnicity,
        religion: m.religion,
        education: m.education,
        occupation: m.occupation,
        admission_decision: m.admission_decision_date,
        ceremony: m.ceremony_date,
        official: m.official_date,
        email: m.email,
        units,
        statuses,
        residences,
    }
}

/// The branch periods of members `ids`, by member, in the order they follow each other
/// (first day, then id): read a page of members at a time.
async fn branches_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<member_unit::Model>>> {
    let mut out: HashMap<Uuid, Vec<member_unit::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for mu in member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_unit::Column::ValidFrom)
            .order_by_asc(member_unit::Column::Id)
            .all(db)
            .await?
        {
            out.entry(mu.member_id).or_default().push(mu);
        }
    }
    Ok(out)
}

/// The last branch of each of members `ids` (a member without one is left out): whether a
/// member is within an export's scope.
async fn last_units_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Uuid>> {
    Ok(branches_of(db, ids)
        .await?
        .into_iter()
        .filter_map(|(m, rows)| rows.last().map(|mu| (m, mu.unit_id)))
        .collect())
}

/// The hamlets of residence of members `ids` over time, by member, by hamlet code.
pub(super) async fn residences_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    hamlet_code_of: &HashMap<Uuid, String>,
) -> Result<HashMap<Uuid, Vec<Period<String>>>> {
    let mut out: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for r in member_residence::Entity::find()
            .filter(member_residence::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_residence::Column::ValidFrom)
            .order_by_asc(member_residence::Column::Id)
            .all(db)
            .await?
        {
            out.entry(r.member_id)
                .or_default()
                .push(residence_period(r, hamlet_code_of));
        }
    }
    Ok(out)
}
