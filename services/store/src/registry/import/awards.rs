//! Party badges imported and exported (docs/import.md, «Party badges»): which badge a member
//! received, and on which day.
//!
//! A row's natural key is the card number and the years: a member receives each badge once
//! (A30). A row recorded the same is unchanged; a row giving another day for a badge recorded
//! would rewrite history and is refused. A new award is checked as `awardBadge` checks it, by
//! the core's `badges::award_refusals` under the rule set in force on its day (the first rule
//! set for a day before it): a milestone of
//! that rule set (A30), reached on the day counting from the admission decision (A15, A33), an
//! official member that day, and no discipline of the register in force barring titles (C2).
//! The member may be recorded or a member row of the same file (its dates and statuses then
//! the file's).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::engine::RuleBook;
use memberflow_workflow::import::{BadgeRow, MemberRow, Period};
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::MemberStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{ImportOutcome, Known, RowAction, RowContext, in_scope, problem};
use crate::entity::{member_status, member_unit};
use crate::error::Result;
use crate::registry::badges::register_in_force;
use crate::stats::entity::{badge_award, discipline_record};

/// What badge rows need of the rest of the import.
pub(super) struct BadgeChecks<'a> {
    /// The file's member rows that pass, with the ids they have or will have: their dates and
    /// statuses are the file's.
    pub file_members: HashMap<String, (Uuid, &'a MemberRow)>,
    /// The rule book (`None`: no rule set, every new award refused).
    pub rules: Option<&'a RuleBook>,
    /// The units, the caller's scope, the day, the sheet.
    pub context: RowContext<'a>,
}

/// A member as a badge is checked against.
struct Holder {
    id: Uuid,
    admission_decision: Option<NaiveDate>,
    statuses: Vec<(MemberStatus, NaiveDate, Option<NaiveDate>)>,
    /// Branches over time.
    units: Vec<(Uuid, NaiveDate, Option<NaiveDate>)>,
}

impl Holder {
    /// The branch on `day`, else the last one before it.
    fn branch_on(&self, day: NaiveDate) -> Option<Uuid> {
        self.units
            .iter()
            .filter(|(_, from, _)| *from <= day)
            .max_by_key(|(_, from, _)| *from)
            .map(|(u, _, _)| *u)
    }

    fn official_on(&self, day: NaiveDate) -> bool {
        self.statuses.iter().any(|(s, from, to)| {
            *s == MemberStatus::Official && *from <= day && to.is_none_or(|t| day < t)
        })
    }
}

fn from_row(id: Uuid, r: &MemberRow, known: &HashMap<String, Known>) -> Holder {
    Holder {
        id,
        units: r
            .units
            .iter()
            .filter_map(|p| Some((known.get(&p.value)?.id, p.from, p.to)))
            .collect(),
        admission_decision: r.admission_decision,
        statuses: r
            .statuses
            .iter()
            .map(|p: &Period<MemberStatus>| (p.value, p.from, p.to))
            .collect(),
    }
}

/// The new awards to write: member, years, day.
pub(super) type BadgePlans = Vec<(Uuid, u32, NaiveDate)>;

/// Plans the badge rows against the members and awards recorded.
pub(super) async fn plan_badges(
    txn: &impl ConnectionTrait,
    checks: &BadgeChecks<'_>,
    rows: Vec<BadgeRow>,
    out: &mut ImportOutcome,
) -> Result<BadgePlans> {
    let sheet = checks.context.sheet;
    let mut plans = BadgePlans::new();
    if rows.is_empty() {
        return Ok(plans);
    }
    let cards: Vec<String> = {
        let mut c: Vec<String> = rows.iter().map(|r| r.card.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let mut holders: HashMap<String, Holder> = HashMap::new();
    let mut recorded_ids: Vec<Uuid> = Vec::new();
    for m in super::export::members_by_card(txn, &cards).await? {
        recorded_ids.push(m.id);
        if let Some(c) = m.party_card_number {
            holders.insert(
                c,
                Holder {
                    id: m.id,
                    admission_decision: m.admission_decision_date,
                    statuses: Vec::new(),
                    units: Vec::new(),
                },
            );
        }
    }
    let mut statuses: HashMap<Uuid, Vec<(MemberStatus, NaiveDate, Option<NaiveDate>)>> =
        HashMap::new();
    let mut awards: HashMap<Uuid, Vec<(u32, NaiveDate)>> = HashMap::new();
    let mut units: HashMap<Uuid, Vec<(Uuid, NaiveDate, Option<NaiveDate>)>> = HashMap::new();
    let mut register: HashMap<Uuid, Vec<discipline_record::Model>> = HashMap::new();
    for chunk in recorded_ids.chunks(500) {
        for s in member_status::Entity::find()
            .filter(member_status::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_status::Column::ValidFrom)
            .all(txn)
            .await?
        {
            if let Some(st) = MemberStatus::parse(&s.status) {
                statuses
                    .entry(s.member_id)
                    .or_default()
                    .push((st, s.valid_from, s.valid_to));
            }
        }
        if checks.context.scope.is_some() {
            for mu in member_unit::Entity::find()
                .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
                .all(txn)
                .await?
            {
                units.entry(mu.member_id).or_default().push((
                    mu.unit_id,
                    mu.valid_from,
                    mu.valid_to,
                ));
            }
        }
        for b in badge_award::Entity::find()
            .filter(badge_award::Column::MemberId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            if let Ok(y) = u32::try_from(b.years) {
                awards
                    .entry(b.member_id)
                    .or_default()
                    .push((y, b.award_date));
            }
        }
        for d in discipline_record::Entity::find()
            .filter(discipline_record::Column::MemberId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            register.entry(d.member_id).or_default().push(d);
        }
    }
    for h in holders.values_mut() {
        h.statuses = statuses.remove(&h.id).unwrap_or_default();
        h.units = units.remove(&h.id).unwrap_or_default();
    }
    // A member row of the file: its dates and statuses as the file gives them.
    for (card, (id, r)) in &checks.file_members {
        let mut h = from_row(*id, r, checks.context.known);
        if let Some(rec) = holders.get(card) {
            h.admission_decision = h.admission_decision.or(rec.admission_decision);
        }
        holders.insert(card.clone(), h);
    }

    // Within one member, the badges in order of their day.
    let mut rows = rows;
    rows.sort_by(|a, b| (&a.card, a.award_date, a.years).cmp(&(&b.card, b.award_date, b.years)));
    let mut planned: HashSet<(Uuid, u32)> = HashSet::new();
    for r in rows {
        let Some(h) = holders.get(&r.card) else {
            out.problems.push(problem(
                sheet,
                r.row,
                "Số thẻ đảng viên",
                "UNKNOWN_MEMBER",
                Text::new(
                    format!("Số thẻ {} không có trong hệ thống, hoặc dòng của đảng viên trong tệp có lỗi.", r.card),
                    format!("Card number {} is not recorded, or the member's own row in the file has problems.", r.card),
                ),
            ));
            continue;
        };
        if checks.context.scope.is_some()
            && !h.branch_on(r.award_date).is_some_and(|u| {
                in_scope(
                    checks.context.scope,
                    checks.context.edges_of,
                    u,
                    r.award_date,
                )
            })
        {
            out.problems.push(problem(
                sheet,
                r.row,
                "Số thẻ đảng viên",
                "OUT_OF_SCOPE",
                Text::new(
                    format!("Đảng viên {} sinh hoạt ngoài phạm vi được giao cho tài khoản của đồng chí vào ngày trao.", r.card),
                    format!("Member {} belongs to a branch outside the part of the tree your account may change on the award's day.", r.card),
                ),
            ));
            continue;
        }
        let recorded = awards.get(&h.id).cloned().unwrap_or_default();
        let action = if let Some((_, day)) = recorded.iter().find(|(y, _)| *y == r.years) {
            if *day == r.award_date {
                RowAction::Unchanged
            } else {
                out.problems.push(problem(
                    sheet,
                    r.row,
                    "Ngày trao",
                    "HISTORY_REWRITE",
                    Text::new(
                        format!(
                            "Huy hiệu {} năm tuổi Đảng đã ghi trao ngày {}: không sửa quá khứ.",
                            r.years,
                            day.format("%d/%m/%Y")
                        ),
                        format!(
                            "The {}-year badge is recorded as awarded on {day}: history is never rewritten.",
                            r.years
                        ),
                    ),
                ));
                continue;
            }
        } else {
            if r.award_date > checks.context.today {
                out.problems.push(problem(
                    sheet,
                    r.row,
                    "Ngày trao",
                    "DATES",
                    Text::new(
                        "Không ghi trước một ngày chưa đến: hãy nhập khi đến ngày.",
                        "A day still to come cannot be recorded: import it on the day.",
                    ),
                ));
                continue;
            }
            // A day before the first rule set: that rule set (as the probation's length is
            // read for a ceremony before it).
            let Some(rs) = checks.rules.and_then(|b| {
                b.for_date(r.award_date).or_else(|| {
                    b.sets()
                        .first()
                        .filter(|first| r.award_date < first.valid_from)
                })
            }) else {
                out.problems.push(problem(
                    sheet,
                    r.row,
                    "Ngày trao",
                    "NOT_AWARDABLE",
                    Text::new(
                        format!(
                            "Không có bộ quy tắc nào có hiệu lực vào ngày {}.",
                            r.award_date.format("%d/%m/%Y")
                        ),
                        format!("No rule set is in force on {}.", r.award_date),
                    ),
                ));
                continue;
            };
            let awarded: Vec<u32> = recorded
                .iter()
                .map(|(y, _)| *y)
                .chain(planned.iter().filter(|(m, _)| *m == h.id).map(|(_, y)| *y))
                .collect();
            let open = register
                .get(&h.id)
                .map(|rs| register_in_force(rs, r.award_date))
                .unwrap_or_default();
            let refusals = match memberflow_workflow::badges::award_refusals(
                rs,
                h.admission_decision,
                h.official_on(r.award_date),
                &awarded,
                r.years,
                r.award_date,
                &open,
            ) {
                Ok(refusals) => refusals,
                Err(t) => vec![("", t)],
            };
            if !refusals.is_empty() {
                let column = if refusals.iter().any(|(rule, _)| *rule == "A30") {
                    "Số năm tuổi Đảng"
                } else {
                    "Ngày trao"
                };
                for (_, reason) in refusals {
                    out.problems
                        .push(problem(sheet, r.row, column, "NOT_AWARDABLE", reason));
                }
                continue;
            }
            planned.insert((h.id, r.years));
            plans.push((h.id, r.years, r.award_date));
            RowAction::New
        };
        match action {
            RowAction::New => out.counts.badges_created += 1,
            RowAction::Changed | RowAction::Unchanged => out.counts.badges_unchanged += 1,
        }
        out.list_row(
            checks.context.list_rows,
            sheet,
            r.row,
            &format!("{} {}", r.card, r.years),
            action,
        );
    }
    Ok(plans)
}

/// Writes the planned awards.
pub(super) async fn write_badges(
    txn: &impl ConnectionTrait,
    plans: &BadgePlans,
    now: DateTime<Utc>,
) -> Result<()> {
    let rows: Vec<badge_award::ActiveModel> = plans
        .iter()
        .map(|(member, years, day)| badge_award::ActiveModel {
            member_id: Set(*member),
            years: Set(i32::try_from(*years).unwrap_or_default()),
            award_date: Set(*day),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(1000) {
        badge_award::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The badges of the members `card_of` names (those the export gives), by card number and
/// years.
pub(super) async fn export_badges(
    db: &impl ConnectionTrait,
    card_of: &HashMap<Uuid, String>,
) -> Result<Vec<BadgeRow>> {
    let mut rows: Vec<BadgeRow> = badge_award::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|b| {
            Some(BadgeRow {
                row: 0,
                card: card_of.get(&b.member_id)?.clone(),
                years: u32::try_from(b.years).ok()?,
                award_date: b.award_date,
            })
        })
        .collect();
    rows.sort_by(|a, b| (&a.card, a.years).cmp(&(&b.card, b.years)));
    for (i, r) in rows.iter_mut().enumerate() {
        r.row = i + 2;
    }
    Ok(rows)
}
