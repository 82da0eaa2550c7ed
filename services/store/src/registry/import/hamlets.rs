//! Hamlets and residential groups imported and exported (docs/import.md, «Hamlets»): the
//! register beside the tree (docs/reports.md), each hamlet with its commune-level unit and
//! its hamlet branch over time.
//!
//! A row's natural key is the hamlet's code. A hamlet recorded the same is unchanged; its
//! name is corrected as the file gives it (no history kept of names); a branch history the
//! file carries on is a dated change (the open link closed, the new ones added); a different
//! past is `HISTORY_REWRITE`, and a different kind, unit, dates or merger `TREE_CHANGE`
//! (those go through `mergeHamlets`, `endHamlet`). New hamlets and links are checked as
//! `recordHamlet` and `linkHamletBranch` check them (the core's `hamlet` checks), on the
//! tree as recorded and as the file's units change it. Members' residences are the members
//! sheet's (`Lịch sử cư trú`), checked against the hamlets known here.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::hamlet::{self as core, HamletFacts};
use memberflow_workflow::import::{HamletRow, HistoryChange, Period, compare_history};
use memberflow_workflow::text::Text;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::{ImportOutcome, Known, RowAction, problem, rewrite, unknown_unit};
use crate::entity::{hamlet, hamlet_branch};
use crate::error::Result;

/// A hamlet known to the import: recorded, or a new row of the file that passes.
#[derive(Debug, Clone)]
pub(super) struct KnownHamlet {
    pub id: Uuid,
    pub facts: HamletFacts,
}

/// Parent links by unit over time: `(parent, from, to)`, as recorded and as the file's
/// units change them.
pub(super) type Parents = HashMap<Uuid, Vec<(Uuid, NaiveDate, Option<NaiveDate>)>>;

/// The parent of `unit` on `on`.
fn parent_on(parents: &Parents, unit: Uuid, on: NaiveDate) -> Option<Uuid> {
    parents.get(&unit).and_then(|ps| {
        ps.iter()
            .find(|(_, from, to)| *from <= on && to.is_none_or(|t| on < t))
            .map(|(p, _, _)| *p)
    })
}

/// Whether `unit` is `ancestor` or stands under it on `on`.
fn under(parents: &Parents, unit: Uuid, ancestor: Uuid, on: NaiveDate) -> bool {
    let mut u = unit;
    // The tree is at most a few levels deep; the bound only guards against a cycle.
    for _ in 0..32 {
        if u == ancestor {
            return true;
        }
        match parent_on(parents, u, on) {
            Some(p) => u = p,
            None => return false,
        }
    }
    false
}

/// Whether `unit` lies in one of the subtrees of `roots` on `on` (`None`: the whole tree).
fn within(roots: &Option<Vec<Uuid>>, parents: &Parents, unit: Uuid, on: NaiveDate) -> bool {
    roots
        .as_ref()
        .is_none_or(|rs| rs.iter().any(|r| under(parents, unit, *r, on)))
}

/// A row that passed its own checks: the row, the hamlet's id when recorded, the day its
/// open link closes, the links it adds.
type Pending = (
    HamletRow,
    Option<Uuid>,
    Option<NaiveDate>,
    Vec<Period<String>>,
);

/// A branch's link over time: first day, first day after, the file's row (0: recorded).
type Span = (NaiveDate, Option<NaiveDate>, usize);

/// What hamlet rows are checked against.
pub(super) struct HamletChecks<'a> {
    /// Units by code, the file's new ones included.
    pub known: &'a HashMap<String, Known>,
    /// The branch category of each unit by code (the file's where it gives one).
    pub category_of: &'a HashMap<String, Option<String>>,
    /// Parent links, as recorded and as the file changes them.
    pub parents: &'a Parents,
    /// The subtrees where the caller may register members (`None`: everywhere).
    pub scope: &'a Option<Vec<Uuid>>,
    /// Today in Vietnam.
    pub today: NaiveDate,
    /// The sheet.
    pub sheet: &'a str,
    /// Whether to list each row's fate.
    pub list_rows: bool,
}

/// A hamlet row's plan.
#[derive(Debug)]
pub(super) enum HamletPlan {
    New {
        id: Uuid,
        unit: Uuid,
        row: HamletRow,
    },
    Change {
        id: Uuid,
        name: String,
        close_on: Option<NaiveDate>,
        added: Vec<Period<String>>,
    },
}

/// The planned rows, and every hamlet known after them by code (recorded, and the file's
/// new ones), for the members' residences.
pub(super) struct HamletPlans {
    pub plans: Vec<HamletPlan>,
    pub known: HashMap<String, KnownHamlet>,
}

fn unknown_hamlet(
    sheet: &str,
    row: usize,
    column: &str,
    code: &str,
) -> memberflow_workflow::import::Problem {
    problem(
        sheet,
        row,
        column,
        "UNKNOWN_CODE",
        Text::new(
            format!(
                "Mã ấp, khu vực {code} không có trong hệ thống, hoặc dòng của nó trong tệp có lỗi."
            ),
            format!("Hamlet code {code} is not recorded, or its own row in the file has problems."),
        ),
    )
}

/// The hamlets recorded, by code.
pub(super) async fn recorded_hamlets(
    txn: &impl ConnectionTrait,
) -> Result<HashMap<String, KnownHamlet>> {
    Ok(hamlet::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|h| {
            (
                h.code.clone(),
                KnownHamlet {
                    id: h.id,
                    facts: HamletFacts {
                        code: h.code,
                        valid_from: h.valid_from,
                        valid_to: h.valid_to,
                    },
                },
            )
        })
        .collect())
}

/// Plans the hamlet rows against the register as recorded.
pub(super) async fn plan_hamlets(
    txn: &impl ConnectionTrait,
    checks: &HamletChecks<'_>,
    rows: Vec<HamletRow>,
    out: &mut ImportOutcome,
) -> Result<HamletPlans> {
    let sheet = checks.sheet;
    let mut known = recorded_hamlets(txn).await?;
    let mut plans = Vec::new();
    if rows.is_empty() {
        return Ok(HamletPlans { plans, known });
    }
    let models: HashMap<String, hamlet::Model> = hamlet::Entity::find()
        .all(txn)
        .await?
        .into_iter()
        .map(|h| (h.code.clone(), h))
        .collect();
    let code_of_hamlet: HashMap<Uuid, String> =
        models.values().map(|h| (h.id, h.code.clone())).collect();
    let unit_code: HashMap<Uuid, &str> = checks
        .known
        .iter()
        .map(|(c, k)| (k.id, c.as_str()))
        .collect();
    // Every link, by hamlet, in order.
    let mut links_of: HashMap<Uuid, Vec<hamlet_branch::Model>> = HashMap::new();
    for l in hamlet_branch::Entity::find()
        .order_by_asc(hamlet_branch::Column::ValidFrom)
        .order_by_asc(hamlet_branch::Column::Id)
        .all(txn)
        .await?
    {
        links_of.entry(l.hamlet_id).or_default().push(l);
    }
    let periods = |id: Uuid| -> Vec<Period<String>> {
        links_of.get(&id).map_or_else(Vec::new, |ls| {
            ls.iter()
                .map(|l| Period {
                    value: unit_code
                        .get(&l.unit_id)
                        .map(|c| (*c).to_owned())
                        .unwrap_or_default(),
                    from: l.valid_from,
                    to: l.valid_to,
                    reason: None,
                })
                .collect()
        })
    };

    // New hamlets join the known set first, so that a merge may name a later row; a row
    // refused leaves it, and the rows merged into it are checked again.
    let mut pending: Vec<Pending> = Vec::new();
    for r in rows {
        let Some(unit) = checks.known.get(&r.unit) else {
            out.problems
                .push(unknown_unit(sheet, r.row, "Đơn vị cấp xã", &r.unit));
            continue;
        };
        match models.get(&r.code) {
            Some(m) => {
                let same = m.kind == r.kind.as_str()
                    && m.unit_id == unit.id
                    && m.valid_from == r.valid_from
                    && m.valid_to == r.valid_to
                    && m.successor_id.and_then(|s| code_of_hamlet.get(&s)) == r.successor.as_ref();
                if !same {
                    out.problems.push(problem(
                        sheet,
                        r.row,
                        "",
                        "TREE_CHANGE",
                        Text::new(
                            format!("Loại, đơn vị, ngày bắt đầu, ngày kết thúc hoặc sáp nhập của ấp, khu vực {} khác với hệ thống: hãy dùng các lệnh sáp nhập, kết thúc ấp, khu vực.", r.code),
                            format!("The kind, unit, dates or merger of hamlet {} differ from the record: use the merge and end commands.", r.code),
                        ),
                    ));
                    continue;
                }
                let last = match m.valid_to {
                    Some(t) if t <= checks.today => t.pred_opt().unwrap_or(t),
                    _ => checks.today,
                };
                if !within(checks.scope, checks.parents, unit.id, last) {
                    out.problems.push(problem(
                        sheet,
                        r.row,
                        "Mã ấp",
                        "OUT_OF_SCOPE",
                        Text::new(
                            format!("Ấp, khu vực {} nằm ngoài phạm vi được giao cho tài khoản của đồng chí.", r.code),
                            format!("Hamlet {} is outside the part of the tree your account may change.", r.code),
                        ),
                    ));
                    continue;
                }
                let (close_on, added) = match compare_history(&periods(m.id), &r.branches) {
                    HistoryChange::Same => (None, Vec::new()),
                    HistoryChange::Extends { close_on, added } => (close_on, added),
                    HistoryChange::Rewrites => {
                        out.problems.push(rewrite(sheet, r.row, "Chi bộ ấp"));
                        continue;
                    }
                };
                if close_on.is_none() && added.is_empty() && m.name == r.name {
                    out.counts.hamlets_unchanged += 1;
                    out.list_row(
                        checks.list_rows,
                        sheet,
                        r.row,
                        &r.code,
                        RowAction::Unchanged,
                    );
                    continue;
                }
                pending.push((r, Some(m.id), close_on, added));
            }
            None => {
                if let Err(e) = core::check_new_hamlet(&r.code, &r.name, &unit.facts, r.valid_from)
                {
                    out.problems
                        .push(problem(sheet, r.row, "Đơn vị cấp xã", "TREE", e.reason));
                    continue;
                }
                if !within(checks.scope, checks.parents, unit.id, r.valid_from) {
                    out.problems.push(problem(
                        sheet,
                        r.row,
                        "Đơn vị cấp xã",
                        "OUT_OF_SCOPE",
                        Text::new(
                            format!(
                                "Đơn vị {} nằm ngoài phạm vi được giao cho tài khoản của đồng chí.",
                                r.unit
                            ),
                            format!(
                                "Unit {} is outside the part of the tree your account may change.",
                                r.unit
                            ),
                        ),
                    ));
                    continue;
                }
                known.insert(
                    r.code.clone(),
                    KnownHamlet {
                        id: Uuid::now_v7(),
                        facts: HamletFacts {
                            code: r.code.clone(),
                            valid_from: r.valid_from,
                            valid_to: r.valid_to,
                        },
                    },
                );
                let added = r.branches.clone();
                pending.push((r, None, None, added));
            }
        }
    }

    // The links each row adds, checked as `linkHamletBranch` checks them.
    let mut refused: HashMap<usize, Vec<memberflow_workflow::import::Problem>> = HashMap::new();
    for (r, _, _, added) in &pending {
        let Some(h) = known.get(&r.code) else {
            continue;
        };
        let hamlet_unit = checks.known.get(&r.unit).map(|k| k.id).unwrap_or_default();
        let mut ps = Vec::new();
        for p in added {
            match checks.known.get(&p.value) {
                None => ps.push(unknown_unit(sheet, r.row, "Chi bộ ấp", &p.value)),
                Some(b) => {
                    let category = checks.category_of.get(&p.value).cloned().flatten();
                    if let Err(e) = core::check_branch_link(
                        &h.facts,
                        &b.facts,
                        category.as_deref(),
                        under(checks.parents, b.id, hamlet_unit, p.from),
                        p.from,
                    ) {
                        ps.push(problem(sheet, r.row, "Chi bộ ấp", "TREE", e.reason));
                    }
                }
            }
        }
        if !ps.is_empty() {
            refused.insert(r.row, ps);
        }
    }
    // A branch is linked to one hamlet at a time: the links recorded (the open ones of the
    // changed hamlets closed as the file closes them) and the file's.
    let mut by_branch: HashMap<&str, Vec<Span>> = HashMap::new();
    let changed: HashMap<Uuid, &HamletRow> = pending
        .iter()
        .filter_map(|(r, id, _, _)| id.map(|i| (i, r)))
        .collect();
    for (hid, ls) in &links_of {
        for l in ls {
            let Some(code) = unit_code.get(&l.unit_id) else {
                continue;
            };
            let to = match (l.valid_to, changed.get(hid)) {
                (None, Some(r)) => r
                    .branches
                    .iter()
                    .find(|p| p.from == l.valid_from)
                    .and_then(|p| p.to),
                (to, _) => to,
            };
            by_branch
                .entry(code)
                .or_default()
                .push((l.valid_from, to, 0));
        }
    }
    for (r, _, _, added) in &pending {
        if refused.contains_key(&r.row) {
            continue;
        }
        for p in added {
            by_branch
                .entry(p.value.as_str())
                .or_default()
                .push((p.from, p.to, r.row));
        }
    }
    for (branch, mut spans) in by_branch {
        spans.sort();
        for w in spans.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a.1.is_none_or(|t| b.0 < t) {
                let row = if b.2 != 0 { b.2 } else { a.2 };
                if row != 0 {
                    refused.entry(row).or_default().push(problem(
                        sheet,
                        row,
                        "Chi bộ ấp",
                        "DATES",
                        Text::new(
                            format!(
                                "Chi bộ {branch} được gắn với hai ấp, khu vực cùng lúc (từ {}).",
                                b.0.format("%d/%m/%Y")
                            ),
                            format!(
                                "Branch {branch} would be linked to two hamlets at once (from {}).",
                                b.0
                            ),
                        ),
                    ));
                }
            }
        }
    }
    for (r, _, _, _) in &pending {
        if refused.contains_key(&r.row) && !models.contains_key(&r.code) {
            known.remove(&r.code);
        }
    }
    // Merges: the hamlet taken over must be known and exist on the day.
    loop {
        let mut removed = false;
        for (r, id, _, _) in &pending {
            if id.is_some() || refused.contains_key(&r.row) {
                continue;
            }
            let Some(s) = &r.successor else {
                continue;
            };
            let p = match known.get(s) {
                None => Some(unknown_hamlet(sheet, r.row, "Hợp nhất vào", s)),
                Some(k) if r.valid_to.is_some_and(|t| !k.facts.exists_on(t)) => Some(problem(
                    sheet,
                    r.row,
                    "Hợp nhất vào",
                    "TREE",
                    Text::new(
                        format!("Ấp, khu vực {s} không tồn tại vào ngày sáp nhập."),
                        format!("Hamlet {s} does not exist on the day of the merger."),
                    ),
                )),
                Some(_) => None,
            };
            if let Some(p) = p {
                refused.insert(r.row, vec![p]);
                known.remove(&r.code);
                removed = true;
            }
        }
        if !removed {
            break;
        }
    }
    for (r, id, close_on, added) in pending {
        if let Some(ps) = refused.remove(&r.row) {
            out.problems.extend(ps);
            continue;
        }
        match id {
            Some(id) => {
                out.counts.hamlets_changed += 1;
                out.list_row(checks.list_rows, sheet, r.row, &r.code, RowAction::Changed);
                plans.push(HamletPlan::Change {
                    id,
                    name: r.name.clone(),
                    close_on,
                    added,
                });
            }
            None => {
                out.counts.hamlets_created += 1;
                out.list_row(checks.list_rows, sheet, r.row, &r.code, RowAction::New);
                let id = known.get(&r.code).map(|k| k.id).unwrap_or_default();
                let unit = checks.known.get(&r.unit).map(|k| k.id).unwrap_or_default();
                plans.push(HamletPlan::New { id, unit, row: r });
            }
        }
    }
    Ok(HamletPlans { plans, known })
}

/// Writes the planned hamlets and links (after the units, before the members' residences).
pub(super) async fn write_hamlets(
    txn: &impl ConnectionTrait,
    plans: &HamletPlans,
    unit_id: &(dyn Fn(&str) -> Uuid + Sync),
    now: DateTime<Utc>,
) -> Result<()> {
    let hamlet_id = |code: &str| plans.known.get(code).map(|k| k.id);
    let mut hamlets = Vec::new();
    let mut links = Vec::new();
    for p in &plans.plans {
        match p {
            HamletPlan::New { id, unit, row } => {
                hamlets.push(hamlet::ActiveModel {
                    id: Set(*id),
                    code: Set(row.code.clone()),
                    name: Set(row.name.clone()),
                    kind: Set(row.kind.as_str().to_owned()),
                    unit_id: Set(*unit),
                    valid_from: Set(row.valid_from),
                    valid_to: Set(row.valid_to),
                    successor_id: Set(None),
                    created_at: Set(now),
                });
                links.extend(row.branches.iter().map(|b| (*id, b)));
            }
            HamletPlan::Change {
                id,
                name,
                close_on,
                added,
            } => {
                hamlet::Entity::update_many()
                    .col_expr(hamlet::Column::Name, name.clone().into())
                    .filter(hamlet::Column::Id.eq(*id))
                    .exec(txn)
                    .await?;
                if let Some(d) = close_on {
                    hamlet_branch::Entity::update_many()
                        .col_expr(hamlet_branch::Column::ValidTo, Expr::value(*d))
                        .filter(hamlet_branch::Column::HamletId.eq(*id))
                        .filter(hamlet_branch::Column::ValidTo.is_null())
                        .exec(txn)
                        .await?;
                }
                links.extend(added.iter().map(|b| (*id, b)));
            }
        }
    }
    for chunk in hamlets.chunks(500) {
        hamlet::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    // Merges, once every hamlet of the file is written.
    for p in &plans.plans {
        if let HamletPlan::New { id, row, .. } = p
            && let Some(s) = row.successor.as_deref().and_then(hamlet_id)
        {
            hamlet::Entity::update_many()
                .col_expr(hamlet::Column::SuccessorId, Expr::value(s))
                .filter(hamlet::Column::Id.eq(*id))
                .exec(txn)
                .await?;
        }
    }
    let links: Vec<hamlet_branch::ActiveModel> = links
        .into_iter()
        .map(|(h, p)| hamlet_branch::ActiveModel {
            hamlet_id: Set(h),
            unit_id: Set(unit_id(&p.value)),
            valid_from: Set(p.from),
            valid_to: Set(p.to),
            ..Default::default()
        })
        .collect();
    for chunk in links.chunks(1000) {
        hamlet_branch::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// The hamlets of units in `scope` (`None`: every one), by code, with their branches over
/// time; and every hamlet's code by id (residences name hamlets outside the scope too).
pub(super) async fn export_hamlets(
    db: &impl ConnectionTrait,
    code_of: &HashMap<Uuid, String>,
    scope: Option<&HashSet<Uuid>>,
) -> Result<(Vec<HamletRow>, HashMap<Uuid, String>)> {
    let hamlets = hamlet::Entity::find()
        .order_by_asc(hamlet::Column::Code)
        .all(db)
        .await?;
    let hamlet_code: HashMap<Uuid, String> =
        hamlets.iter().map(|h| (h.id, h.code.clone())).collect();
    let mut links_of: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
    for l in hamlet_branch::Entity::find()
        .order_by_asc(hamlet_branch::Column::ValidFrom)
        .order_by_asc(hamlet_branch::Column::Id)
        .all(db)
        .await?
    {
        links_of.entry(l.hamlet_id).or_default().push(Period {
            value: code_of.get(&l.unit_id).cloned().unwrap_or_default(),
            from: l.valid_from,
            to: l.valid_to,
            reason: None,
        });
    }
    let mut rows = Vec::new();
    for h in hamlets {
        if scope.is_some_and(|s| !s.contains(&h.unit_id)) {
            continue;
        }
        let kind = core::HamletKind::parse(&h.kind).ok_or_else(|| {
            crate::stats::internal(format!("hamlet {} has an unknown kind", h.id))
        })?;
        rows.push(HamletRow {
            row: rows.len() + 2,
            unit: code_of.get(&h.unit_id).cloned().unwrap_or_default(),
            successor: h.successor_id.and_then(|s| hamlet_code.get(&s).cloned()),
            branches: links_of.remove(&h.id).unwrap_or_default(),
            code: h.code,
            name: h.name,
            kind,
            valid_from: h.valid_from,
            valid_to: h.valid_to,
        });
    }
    Ok((rows, hamlet_code))
}
