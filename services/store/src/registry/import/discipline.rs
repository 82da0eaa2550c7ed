//! The discipline register imported and exported (docs/import.md, «Discipline register»): the
//! disciplines decided against members, with the decision's number and deciding body, and
//! their status (in force, lapsed, annulled) from a day.
//!
//! A row's natural key is the card number, the form and the decision date. A row recorded the
//! same is unchanged; a record in force that the file gives as lapsed or annulled from a day is
//! a dated change (the status moves on, as the cases' effects move it); a number or a body
//! the record lacks is filled in; anything else that differs (another status or status date
//! recorded, another number or body) would rewrite history and is refused. A new record is
//! written as the cases' effects write one, without its case: in the member's branch on the
//! decision's day, where the statistics of discipline count it. The member may be recorded or
//! a member row of the same file (its branches and admission then the file's).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::engine::DisciplineStatus;
use memberflow_workflow::import::{DisciplineRow, MemberRow};
use memberflow_workflow::text::Text;
use memberflow_workflow::vocab::{BodyKind, DisciplineForm, Level};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{ImportOutcome, RowAction, RowContext, in_scope, problem};
use crate::entity::member_unit;
use crate::error::Result;
use crate::stats::entity::discipline_record;

/// What discipline rows need of the rest of the import.
pub(super) struct DisciplineChecks<'a> {
    /// The file's member rows that pass, with the ids they have or will have: their branches
    /// and admission are the file's.
    pub file_members: &'a HashMap<String, (Uuid, &'a MemberRow)>,
    /// The units, the caller's scope, the day, the sheet.
    pub context: RowContext<'a>,
}

/// A member as a discipline is checked against.
struct Subject {
    id: Uuid,
    admission_decision: Option<NaiveDate>,
    /// Branches over time, by first day.
    units: Vec<(Uuid, NaiveDate)>,
}

impl Subject {
    /// The branch of the latest period begun on or before `day`, as the cases' effect
    /// records it.
    fn branch_on(&self, day: NaiveDate) -> Option<Uuid> {
        self.units
            .iter()
            .filter(|(_, from)| *from <= day)
            .max_by_key(|(_, from)| *from)
            .map(|(u, _)| *u)
    }
}

/// What the planned rows write.
#[derive(Debug, Default)]
pub(super) struct DisciplinePlans {
    new: Vec<discipline_record::ActiveModel>,
    changed: Vec<discipline_record::ActiveModel>,
}

fn body_codes(row: &DisciplineRow) -> (Option<String>, Option<String>) {
    match row.body {
        Some((k, l)) => (Some(k.as_str().to_owned()), Some(l.as_str().to_owned())),
        None => (None, None),
    }
}

fn fmt(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Plans the discipline rows against the members and the register recorded.
pub(super) async fn plan_discipline(
    txn: &impl ConnectionTrait,
    checks: &DisciplineChecks<'_>,
    rows: Vec<DisciplineRow>,
    out: &mut ImportOutcome,
    now: DateTime<Utc>,
) -> Result<DisciplinePlans> {
    let sheet = checks.context.sheet;
    let mut plans = DisciplinePlans::default();
    if rows.is_empty() {
        return Ok(plans);
    }
    let mut cards: Vec<String> = rows.iter().map(|r| r.card.clone()).collect();
    cards.sort();
    cards.dedup();
    let mut subjects: HashMap<String, Subject> = HashMap::new();
    for m in super::export::members_by_card(txn, &cards).await? {
        if let Some(c) = m.party_card_number {
            subjects.insert(
                c,
                Subject {
                    id: m.id,
                    admission_decision: m.admission_decision_date,
                    units: Vec::new(),
                },
            );
        }
    }
    let ids: Vec<Uuid> = subjects.values().map(|s| s.id).collect();
    let mut units: HashMap<Uuid, Vec<(Uuid, NaiveDate)>> = HashMap::new();
    let mut register: HashMap<Uuid, Vec<discipline_record::Model>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for mu in member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            units
                .entry(mu.member_id)
                .or_default()
                .push((mu.unit_id, mu.valid_from));
        }
        for d in discipline_record::Entity::find()
            .filter(discipline_record::Column::MemberId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            register.entry(d.member_id).or_default().push(d);
        }
    }
    for s in subjects.values_mut() {
        s.units = units.remove(&s.id).unwrap_or_default();
    }
    // A member row of the file: its branches and admission as the file gives them.
    for (card, (id, r)) in checks.file_members {
        subjects.insert(
            card.clone(),
            Subject {
                id: *id,
                admission_decision: r.admission_decision,
                units: r
                    .units
                    .iter()
                    .filter_map(|p| Some((checks.context.known.get(&p.value)?.id, p.from)))
                    .collect(),
            },
        );
    }

    let card_col = "Số thẻ đảng viên";
    let date_col = "Ngày quyết định";
    let status_col = "Ngày đổi tình trạng";
    for r in rows {
        let Some(s) = subjects.get(&r.card) else {
            out.problems.push(problem(
                sheet,
                r.row,
                card_col,
                "UNKNOWN_MEMBER",
                Text::new(
                    format!("Số thẻ {} không có trong hệ thống, hoặc dòng của đảng viên trong tệp có lỗi.", r.card),
                    format!("Card number {} is not recorded, or the member's own row in the file has problems.", r.card),
                ),
            ));
            continue;
        };
        let mut refused = false;
        for (column, day) in [
            (date_col, Some(r.decision_date)),
            (status_col, r.status_date),
        ] {
            if day.is_some_and(|d| d > checks.context.today) {
                out.problems.push(problem(
                    sheet,
                    r.row,
                    column,
                    "DATES",
                    Text::new(
                        "Không ghi trước một ngày chưa đến: hãy nhập khi đến ngày.",
                        "A day still to come cannot be recorded: import it on the day.",
                    ),
                ));
                refused = true;
            }
        }
        if let Some(a) = s.admission_decision
            && r.decision_date < a
        {
            out.problems.push(problem(
                sheet,
                r.row,
                date_col,
                "DATES",
                Text::new(
                    format!(
                        "Ngày quyết định kỷ luật trước ngày quyết định kết nạp đảng viên {} ({}).",
                        r.card,
                        fmt(a)
                    ),
                    format!(
                        "The discipline is dated before member {}'s admission decision ({a}).",
                        r.card
                    ),
                ),
            ));
            refused = true;
        }
        if refused {
            continue;
        }
        let Some(branch) = s.branch_on(r.decision_date) else {
            out.problems.push(problem(
                sheet,
                r.row,
                date_col,
                "TREE",
                Text::new(
                    format!(
                        "Đảng viên {} chưa sinh hoạt ở chi bộ nào vào ngày {}.",
                        r.card,
                        fmt(r.decision_date)
                    ),
                    format!(
                        "Member {} belonged to no branch on {}.",
                        r.card, r.decision_date
                    ),
                ),
            ));
            continue;
        };
        if !in_scope(
            checks.context.scope,
            checks.context.edges_of,
            branch,
            r.decision_date,
        ) {
            out.problems.push(problem(
                sheet,
                r.row,
                card_col,
                "OUT_OF_SCOPE",
                Text::new(
                    format!("Đảng viên {} sinh hoạt ngoài phạm vi được giao cho tài khoản của đồng chí vào ngày quyết định.", r.card),
                    format!("Member {} belonged to a branch outside the part of the tree your account keeps on the decision's day.", r.card),
                ),
            ));
            continue;
        }
        let (kind, level) = body_codes(&r);
        let recorded = register.get(&s.id).and_then(|rs| {
            rs.iter()
                .find(|d| d.form == r.form.as_str() && d.decision_date == r.decision_date)
        });
        let action = match recorded {
            None => {
                plans.new.push(discipline_record::ActiveModel {
                    member_id: Set(s.id),
                    unit_id: Set(branch),
                    form: Set(r.form.as_str().to_owned()),
                    decision_date: Set(r.decision_date),
                    created_at: Set(now),
                    case_id: Set(None),
                    status: Set(r.status.code().to_owned()),
                    status_date: Set(r.status_date),
                    decision_number: Set(r.number.clone()),
                    body_kind: Set(kind),
                    body_level: Set(level),
                    ..Default::default()
                });
                RowAction::New
            }
            Some(d) => match compare(d, &r) {
                Err(reason) => {
                    out.problems
                        .push(problem(sheet, r.row, status_col, "HISTORY_REWRITE", reason));
                    continue;
                }
                Ok(false) => RowAction::Unchanged,
                Ok(true) => {
                    let mut am: discipline_record::ActiveModel = d.clone().into();
                    am.status = Set(r.status.code().to_owned());
                    am.status_date = Set(r.status_date);
                    if d.decision_number.is_none() {
                        am.decision_number = Set(r.number.clone());
                    }
                    if d.body_kind.is_none() {
                        am.body_kind = Set(kind);
                        am.body_level = Set(level);
                    }
                    plans.changed.push(am);
                    RowAction::Changed
                }
            },
        };
        match action {
            RowAction::New => out.counts.discipline_created += 1,
            RowAction::Changed => out.counts.discipline_changed += 1,
            RowAction::Unchanged => out.counts.discipline_unchanged += 1,
        }
        out.list_row(
            checks.context.list_rows,
            sheet,
            r.row,
            &format!("{} {} {}", r.card, r.form.as_str(), r.decision_date),
            action,
        );
    }
    Ok(plans)
}

/// Whether the file's row changes the record `d` (`Ok(true)`: a dated change of its status,
/// or a number or body filled in), or would rewrite its history (`Err`, why).
fn compare(d: &discipline_record::Model, r: &DisciplineRow) -> std::result::Result<bool, Text> {
    let rewrite = |what_vi: &str, what_en: &str| {
        Text::new(
            format!("Kỷ luật này đã ghi với {what_vi} khác: không sửa quá khứ."),
            format!(
                "This discipline is recorded with another {what_en}: history is never rewritten."
            ),
        )
    };
    let (kind, level) = body_codes(r);
    if d.decision_number.is_some() && r.number.is_some() && d.decision_number != r.number {
        return Err(rewrite("số quyết định", "decision number"));
    }
    if d.body_kind.is_some() && kind.is_some() && (d.body_kind != kind || d.body_level != level) {
        return Err(rewrite("cơ quan quyết định", "deciding body"));
    }
    let fills = (d.decision_number.is_none() && r.number.is_some())
        || (d.body_kind.is_none() && kind.is_some());
    let same_status = d.status == r.status.code() && d.status_date == r.status_date;
    if same_status {
        return Ok(fills);
    }
    // The status moves on only from in force, to a lapse or an annulment from a day.
    if d.status == DisciplineStatus::InForce.code() && r.status != DisciplineStatus::InForce {
        return Ok(true);
    }
    Err(rewrite(
        "tình trạng hoặc ngày đổi tình trạng",
        "status or status date",
    ))
}

/// Writes the planned records and the dated changes of recorded ones.
pub(super) async fn write_discipline(
    txn: &impl ConnectionTrait,
    plans: DisciplinePlans,
) -> Result<()> {
    for chunk in plans.new.chunks(1000) {
        discipline_record::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for am in plans.changed {
        am.update(txn).await?;
    }
    Ok(())
}

/// The register's records of the members `card_of` names (those the export gives), by card
/// number, decision date and form.
pub(super) async fn export_discipline(
    db: &impl ConnectionTrait,
    card_of: &HashMap<Uuid, String>,
) -> Result<Vec<DisciplineRow>> {
    let mut rows: Vec<DisciplineRow> = discipline_record::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|d| {
            let body = match (&d.body_kind, &d.body_level) {
                (Some(k), Some(l)) => Some((BodyKind::parse(k)?, Level::parse(l)?)),
                _ => None,
            };
            Some(DisciplineRow {
                row: 0,
                card: card_of.get(&d.member_id)?.clone(),
                form: DisciplineForm::parse(&d.form)?,
                number: d.decision_number,
                body,
                decision_date: d.decision_date,
                status: DisciplineStatus::parse(&d.status.to_lowercase())?,
                status_date: d.status_date,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.card, a.decision_date, a.form.as_str()).cmp(&(
            &b.card,
            b.decision_date,
            b.form.as_str(),
        ))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.row = i + 2;
    }
    Ok(rows)
}
