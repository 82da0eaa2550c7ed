//! Import of the organization tree and the member registry from parsed files, and their
//! export (docs/import.md).
//!
//! The rows come parsed and checked row by row by the core (`memberflow_workflow::import`);
//! here they meet the database, in one transaction: unit codes and party card numbers
//! resolve to what is recorded, the tree's rules are checked on each period's date
//! (`tree::check_parent`, a branch existing on the day a member joins it), and each row is
//! planned as *new*, *unchanged*, a *dated change* (a history the file carries on) or refused
//! (a different past would rewrite history). Nothing is written when any row is refused,
//! unless the caller accepts a partial import, nor on a dry run. New rows go in with multi-row
//! inserts; the statistics counters follow in the same transaction (`count_members`), and the
//! subtree aggregates are added up again from them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::import::{
    BadgeRow, DisciplineRow, HamletRow, HistoryChange, MemberRow, Period, Problem, RoleRow,
    UnitRow, compare_history,
};
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::{self as core, MemberStatus, UnitFacts};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

mod awards;
mod discipline;
mod export;
mod hamlets;
mod roles;
mod stream;

pub use export::{BadgePageExport, ExportTree, MemberPageExport};
pub use stream::{MemberSource, StreamOutcome, StreamPass, StreamProgress, StreamRequest};

use super::Registry;
use super::rows::{
    MemberInsert, MembershipInsert, StatusInsert, insert_members, insert_memberships,
    insert_statuses,
};
use crate::entity::{member, member_residence, member_status, member_unit, unit, unit_parent};
use crate::error::Result;
use crate::loader::BulkWrite;
use crate::stats::count_members_with;
use crate::tree::rows::{
    JournalInsert, LinkInsert, UnitInsert, insert_journal, insert_links, insert_units,
    set_successor,
};

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// Units, in any order (parents may follow their children).
    pub units: Vec<UnitRow>,
    /// The sheet the units came from, for problems found here.
    pub units_sheet: String,
    /// Members.
    pub members: Vec<MemberRow>,
    /// The sheet the members came from.
    pub members_sheet: String,
    /// Role holders (docs/import.md, «Role holders»): only through the command line.
    pub roles: Vec<RoleRow>,
    /// The sheet the role holders came from.
    pub roles_sheet: String,
    /// Party badges awarded (docs/import.md, «Party badges»).
    pub badges: Vec<BadgeRow>,
    /// The sheet the badges came from.
    pub badges_sheet: String,
    /// Hamlets and residential groups (docs/import.md, «Hamlets»), whose unit must
    /// lie within `members_scope`, as `recordHamlet` needs `REGISTER_MEMBERS` there.
    pub hamlets: Vec<HamletRow>,
    /// The sheet the hamlets came from.
    pub hamlets_sheet: String,
    /// The discipline register (docs/import.md, «Discipline register»), whose members'
    /// branches on the decision's day must lie within `members_scope`.
    pub discipline: Vec<DisciplineRow>,
    /// The sheet the discipline register came from.
    pub discipline_sheet: String,
    /// The rule book new awards are checked under (A30–A33, C2); without it every new award
    /// is refused.
    pub rules: Option<memberflow_workflow::engine::RuleBook>,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Write the rows that pass, report the others (otherwise any problem writes nothing).
    pub accept_partial: bool,
    /// The subtrees whose units the caller may change (`None`: the whole tree, new roots
    /// included): a unit row that would change a unit outside them, or hang a new one under
    /// a unit outside them (on the day of the link), is refused (`OUT_OF_SCOPE`).
    pub units_scope: Option<Vec<Uuid>>,
    /// The subtrees where the caller may register members (`None`: everywhere): a member
    /// row whose last branch, or whose recorded last branch, lies outside them (on the day
    /// the period starts) is refused (`OUT_OF_SCOPE`).
    pub members_scope: Option<Vec<Uuid>>,
    /// Whether to list what each row that passes does ([`ImportOutcome::rows`]).
    pub list_rows: bool,
}

/// How many rows of each kind were new, changed (dated changes, corrections) or unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Units created.
    pub units_created: u64,
    /// Units changed.
    pub units_changed: u64,
    /// Units already recorded as the file says.
    pub units_unchanged: u64,
    /// Members created.
    pub members_created: u64,
    /// Members changed.
    pub members_changed: u64,
    /// Members already recorded as the file says.
    pub members_unchanged: u64,
    /// Role grants given.
    pub roles_created: u64,
    /// Role grants ended, or their accounts' addresses or members changed.
    pub roles_changed: u64,
    /// Role grants recorded as the file says.
    pub roles_unchanged: u64,
    /// Badges awarded.
    pub badges_created: u64,
    /// Badges recorded as the file says.
    pub badges_unchanged: u64,
    /// Hamlets recorded.
    pub hamlets_created: u64,
    /// Hamlets renamed or with a dated change of their branch.
    pub hamlets_changed: u64,
    /// Hamlets recorded as the file says.
    pub hamlets_unchanged: u64,
    /// Discipline records written.
    pub discipline_created: u64,
    /// Discipline records lapsed or annulled from a day, or their number or body filled in.
    pub discipline_changed: u64,
    /// Discipline records recorded as the file says.
    pub discipline_unchanged: u64,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// The rows refused, each with why.
    pub problems: Vec<Problem>,
    /// The counts of the rows that passed.
    pub counts: ImportCounts,
    /// Whether anything was committed.
    pub written: bool,
    /// What each row that passes does, in no particular order (when asked for).
    pub rows: Vec<RowOutcome>,
    /// The units the file touches (recorded ones and the parents of new ones), for the
    /// caller's authorization.
    pub touched_units: Vec<Uuid>,
}

/// What an import does with a row that passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    /// A new unit or member.
    New,
    /// A dated change or a correction of a recorded one.
    Changed,
    /// Recorded as the file says.
    Unchanged,
}

/// One row's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOutcome {
    /// The sheet.
    pub sheet: String,
    /// The row as the spreadsheet numbers it.
    pub row: usize,
    /// The natural key: the unit code or the party card number.
    pub key: String,
    /// What it does.
    pub action: RowAction,
}

impl ImportOutcome {
    /// Lists what row `row` of `sheet` (natural key `key`) does, when rows are listed.
    fn list_row(&mut self, listed: bool, sheet: &str, row: usize, key: &str, action: RowAction) {
        if listed {
            self.rows.push(RowOutcome {
                sheet: sheet.to_owned(),
                row,
                key: key.to_owned(),
                action,
            });
        }
    }
}

/// The registry as an export gives it: rows in the import's own form.
#[derive(Debug, Clone, Default)]
pub struct RegistryExport {
    /// Every unit, by code.
    pub units: Vec<UnitRow>,
    /// Every member with a party card number, by card number.
    pub members: Vec<MemberRow>,
    /// Members left out for want of a card number.
    pub members_without_card: u64,
    /// Every role grant, by login, role, unit and first day.
    pub roles: Vec<RoleRow>,
    /// The badges of the members exported, by card number and years.
    pub badges: Vec<BadgeRow>,
    /// The hamlets of the units exported, by code.
    pub hamlets: Vec<HamletRow>,
    /// The discipline register of the members exported, by card number, decision date and
    /// form (confidential: the API gives it only to those who keep the register).
    pub discipline: Vec<DisciplineRow>,
}

fn problem(sheet: &str, row: usize, column: &str, code: &'static str, reason: Text) -> Problem {
    Problem {
        sheet: sheet.to_owned(),
        row,
        column: (!column.is_empty()).then(|| column.to_owned()),
        code,
        reason,
    }
}

fn unknown_unit(sheet: &str, row: usize, column: &str, code: &str) -> Problem {
    problem(
        sheet,
        row,
        column,
        "UNKNOWN_UNIT",
        Text::new(
            format!("Mã đơn vị {code} không có trong hệ thống, hoặc dòng của nó trong tệp có lỗi."),
            format!("Unit code {code} is not recorded, or its own row in the file has problems."),
        ),
    )
}

fn out_of_scope(sheet: &str, row: usize, column: &str, code: &str) -> Problem {
    problem(
        sheet,
        row,
        column,
        "OUT_OF_SCOPE",
        Text::new(
            format!("Đơn vị {code} nằm ngoài phạm vi được giao cho tài khoản của đồng chí."),
            format!("Unit {code} is outside the part of the tree your account may change."),
        ),
    )
}

/// Whether `unit` lies in one of the subtrees of `roots` on `on` (its parent links as
/// recorded); `None` is the whole tree.
fn in_scope(
    roots: &Option<Vec<Uuid>>,
    edges_of: &HashMap<Uuid, Vec<unit_parent::Model>>,
    unit: Uuid,
    on: NaiveDate,
) -> bool {
    let Some(roots) = roots else {
        return true;
    };
    let mut u = unit;
    // The tree is at most a few levels deep; the bound only guards against a cycle.
    for _ in 0..32 {
        if roots.contains(&u) {
            return true;
        }
        let parent = edges_of.get(&u).and_then(|es| {
            es.iter()
                .find(|e| e.valid_from <= on && e.valid_to.is_none_or(|t| on < t))
        });
        match parent {
            Some(e) => u = e.parent_id,
            None => return false,
        }
    }
    false
}

/// The last day a unit exists, or `today` while it does.
fn last_day(facts: &UnitFacts, today: NaiveDate) -> NaiveDate {
    match facts.valid_to {
        Some(t) if t <= today => t.pred_opt().unwrap_or(t),
        _ => today,
    }
}

fn rewrite(sheet: &str, row: usize, column: &str) -> Problem {
    problem(
        sheet,
        row,
        column,
        "HISTORY_REWRITE",
        Text::new(
            "Dữ liệu khác với lịch sử đã ghi: chỉ được ghi tiếp thay đổi có ngày, không sửa quá khứ.",
            "This differs from the history recorded: a file may carry history on with dated changes, never rewrite it.",
        ),
    )
}

/// A unit known to the import: recorded, or new from the file.
#[derive(Debug, Clone)]
struct Known {
    id: Uuid,
    facts: UnitFacts,
    recorded: bool,
}

/// What the rows about members of a sheet (badges, the discipline register) need of the
/// rest of the import, whatever their kind.
struct RowContext<'a> {
    /// Units by code, the file's new ones included.
    known: &'a HashMap<String, Known>,
    /// The subtrees the caller may act in (`None`: everywhere): the member's branch on the
    /// row's day must lie in them (`OUT_OF_SCOPE`).
    scope: &'a Option<Vec<Uuid>>,
    /// Parent links by unit (read when there is a scope).
    edges_of: &'a HashMap<Uuid, Vec<unit_parent::Model>>,
    /// Today in Vietnam.
    today: NaiveDate,
    /// The sheet.
    sheet: &'a str,
    /// Whether to list each row's fate.
    list_rows: bool,
}

/// A unit row's plan.
#[derive(Debug)]
enum UnitPlan {
    New {
        id: Uuid,
        row: UnitRow,
    },
    Change {
        id: Uuid,
        row: usize,
        code: String,
        name: String,
        category: Option<String>,
        close_edge_on: Option<NaiveDate>,
        added_edges: Vec<Period<String>>,
    },
}

/// A member row's plan.
#[derive(Debug)]
enum MemberPlan {
    New(Uuid, MemberRow),
    Change {
        id: Uuid,
        row: MemberRow,
        close_unit_on: Option<NaiveDate>,
        added_units: Vec<Period<String>>,
        close_status_on: Option<NaiveDate>,
        added_statuses: Vec<Period<MemberStatus>>,
        close_residence_on: Option<NaiveDate>,
        added_residences: Vec<Period<String>>,
    },
}

fn unit_periods(
    edges: &[unit_parent::Model],
    code_of: &HashMap<Uuid, String>,
) -> Vec<Period<String>> {
    edges
        .iter()
        .map(|e| Period {
            value: code_of.get(&e.parent_id).cloned().unwrap_or_default(),
            from: e.valid_from,
            to: e.valid_to,
            reason: None,
        })
        .collect()
}

impl Registry<'_> {
    /// Imports units and members in one transaction (module docs).
    pub async fn import(
        &self,
        req: ImportRequest,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(&str, u64, u64) + Send),
    ) -> Result<ImportOutcome> {
        let txn = self.begin_write().await?;
        let mut out = ImportOutcome::default();
        // Today in Vietnam (UTC+7), for the scope of units that still exist.
        let today = (now + chrono::Duration::hours(7)).date_naive();

        // The tree as recorded: units by code, parent links by unit.
        progress("reading the tree", 0, 0);
        let TreeView {
            mut known,
            code_of,
            recorded_models,
            edges_of,
        } = read_tree(
            &txn,
            !req.units.is_empty() || req.members_scope.is_some() || !req.hamlets.is_empty(),
        )
        .await?;
        // Branch categories, the file's where it gives a unit (for the hamlets' branches).
        let mut category_of: HashMap<String, Option<String>> = recorded_models
            .iter()
            .map(|(c, m)| (c.clone(), m.branch_category.clone()))
            .collect();
        for r in &req.units {
            category_of.insert(r.code.clone(), r.branch_category.clone());
        }

        // Units: the new ones join the known set first, so that parents may follow children
        // in the file; a new unit refused leaves it, and its children are checked again.
        let us = req.units_sheet.as_str();
        let mut plans: Vec<UnitPlan> = Vec::new();
        let mut new_rows: Vec<UnitRow> = Vec::new();
        for r in req.units {
            match recorded_models.get(&r.code) {
                None => new_rows.push(r),
                Some(m) => {
                    let same_existence = m.kind == r.kind.as_str()
                        && m.valid_from == r.valid_from
                        && m.valid_to == r.valid_to
                        && m.successor_id.and_then(|s| code_of.get(&s)) == r.successor.as_ref();
                    if !same_existence {
                        out.problems.push(problem(
                            us,
                            r.row,
                            "",
                            "TREE_CHANGE",
                            Text::new(
                                format!("Loại, ngày thành lập, ngày kết thúc hoặc hợp nhất của {} khác với hệ thống: hãy dùng các lệnh chuyển, hợp nhất, giải thể đơn vị.", r.code),
                                format!("The kind, dates or merger of {} differ from the record: use the move, merge and dissolve commands.", r.code),
                            ),
                        ));
                        continue;
                    }
                    out.touched_units.push(m.id);
                    let recorded =
                        unit_periods(edges_of.get(&m.id).map_or(&[][..], Vec::as_slice), &code_of);
                    let (close_edge_on, added_edges) = match compare_history(&recorded, &r.parents)
                    {
                        HistoryChange::Same => (None, Vec::new()),
                        HistoryChange::Extends { close_on, added } => (close_on, added),
                        HistoryChange::Rewrites => {
                            out.problems.push(rewrite(us, r.row, "Đơn vị cấp trên"));
                            continue;
                        }
                    };
                    if close_edge_on.is_none()
                        && added_edges.is_empty()
                        && m.name == r.name
                        && m.branch_category == r.branch_category
                    {
                        out.counts.units_unchanged += 1;
                        out.list_row(req.list_rows, us, r.row, &r.code, RowAction::Unchanged);
                        continue;
                    }
                    plans.push(UnitPlan::Change {
                        id: m.id,
                        row: r.row,
                        code: r.code.clone(),
                        name: r.name.clone(),
                        category: r.branch_category.clone(),
                        close_edge_on,
                        added_edges,
                    });
                    // Added parents are checked with the new units below.
                    new_rows.push(r);
                }
            }
        }
        let mut new_ids: HashMap<String, Uuid> = HashMap::new();
        for r in &new_rows {
            if !known.contains_key(&r.code) {
                let id = Uuid::now_v7();
                new_ids.insert(r.code.clone(), id);
                known.insert(
                    r.code.clone(),
                    Known {
                        id,
                        facts: UnitFacts {
                            code: r.code.clone(),
                            kind: r.kind,
                            valid_from: r.valid_from,
                            valid_to: r.valid_to,
                        },
                        recorded: false,
                    },
                );
            }
        }
        let mut refused: HashMap<usize, Vec<Problem>> = HashMap::new();
        loop {
            let mut removed = false;
            for r in &new_rows {
                if refused.contains_key(&r.row) {
                    continue;
                }
                let mut ps = Vec::new();
                let is_new = new_ids.contains_key(&r.code);
                let parents: Vec<&Period<String>> = if is_new {
                    r.parents.iter().collect()
                } else {
                    plans
                        .iter()
                        .find_map(|p| match p {
                            UnitPlan::Change {
                                id, added_edges, ..
                            } if Some(*id) == known.get(&r.code).map(|k| k.id) => {
                                Some(added_edges.iter().collect())
                            }
                            _ => None,
                        })
                        .unwrap_or_default()
                };
                if let Some(k) = known.get(&r.code)
                    && k.recorded
                    && !in_scope(&req.units_scope, &edges_of, k.id, last_day(&k.facts, today))
                {
                    ps.push(out_of_scope(us, r.row, "Mã đơn vị", &r.code));
                }
                if is_new && r.parents.is_empty() && req.units_scope.is_some() {
                    ps.push(out_of_scope(us, r.row, "Đơn vị cấp trên", "-"));
                }
                for p in parents {
                    match known.get(&p.value) {
                        None => ps.push(unknown_unit(us, r.row, "Đơn vị cấp trên", &p.value)),
                        Some(k)
                            if k.recorded
                                && !in_scope(&req.units_scope, &edges_of, k.id, p.from) =>
                        {
                            ps.push(out_of_scope(us, r.row, "Đơn vị cấp trên", &p.value));
                        }
                        Some(k) => {
                            if let Err(e) = core::check_parent(&r.code, r.kind, &k.facts, p.from) {
                                ps.push(problem(us, r.row, "Đơn vị cấp trên", "TREE", e.reason));
                            }
                        }
                    }
                }
                if let Some(s) = &r.successor
                    && is_new
                {
                    match known.get(s) {
                        None => ps.push(unknown_unit(us, r.row, "Hợp nhất vào", s)),
                        Some(k) if r.valid_to.is_some_and(|t| !k.facts.exists_on(t)) => {
                            ps.push(problem(
                                us,
                                r.row,
                                "Hợp nhất vào",
                                "TREE",
                                Text::new(
                                    format!("Đơn vị {s} không tồn tại vào ngày hợp nhất."),
                                    format!("Unit {s} does not exist on the day of the merger."),
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                }
                if !ps.is_empty() {
                    refused.insert(r.row, ps);
                    if is_new {
                        known.remove(&r.code);
                    }
                    removed = true;
                }
            }
            if !removed {
                break;
            }
        }
        for r in new_rows {
            if let Some(ps) = refused.remove(&r.row) {
                out.problems.extend(ps);
                plans.retain(|p| !matches!(p, UnitPlan::Change { id, .. } if recorded_models.get(&r.code).is_some_and(|m| m.id == *id)));
                continue;
            }
            if let Some(id) = new_ids.get(&r.code) {
                for p in &r.parents {
                    if let Some(k) = known.get(&p.value)
                        && k.recorded
                    {
                        out.touched_units.push(k.id);
                    }
                }
                plans.push(UnitPlan::New { id: *id, row: r });
            }
        }
        for p in &plans {
            let (row, key, action) = match p {
                UnitPlan::New { row, .. } => {
                    out.counts.units_created += 1;
                    (row.row, &row.code, RowAction::New)
                }
                UnitPlan::Change { row, code, .. } => {
                    out.counts.units_changed += 1;
                    (*row, code, RowAction::Changed)
                }
            };
            out.list_row(req.list_rows, us, row, key, action);
        }

        // Hamlets: by code, on the tree as recorded and as the file's units change it.
        let mut parents: hamlets::Parents = HashMap::new();
        if !req.hamlets.is_empty() {
            for (u, es) in &edges_of {
                parents.insert(
                    *u,
                    es.iter()
                        .map(|e| (e.parent_id, e.valid_from, e.valid_to))
                        .collect(),
                );
            }
            let id_of = |c: &str| known.get(c).map(|k| k.id).unwrap_or_default();
            for p in &plans {
                match p {
                    UnitPlan::New { id, row } => {
                        parents.insert(
                            *id,
                            row.parents
                                .iter()
                                .map(|e| (id_of(&e.value), e.from, e.to))
                                .collect(),
                        );
                    }
                    UnitPlan::Change {
                        id,
                        close_edge_on,
                        added_edges,
                        ..
                    } => {
                        let es = parents.entry(*id).or_default();
                        if let Some(d) = close_edge_on {
                            for e in es.iter_mut().filter(|e| e.2.is_none()) {
                                e.2 = Some(*d);
                            }
                        }
                        es.extend(added_edges.iter().map(|e| (id_of(&e.value), e.from, e.to)));
                    }
                }
            }
        }
        let hamlet_checks = hamlets::HamletChecks {
            known: &known,
            category_of: &category_of,
            parents: &parents,
            scope: &req.members_scope,
            today,
            sheet: &req.hamlets_sheet,
            list_rows: req.list_rows,
        };
        let hamlet_plans =
            hamlets::plan_hamlets(&txn, &hamlet_checks, req.hamlets, &mut out).await?;

        // Members: by card number.
        let ms = req.members_sheet.as_str();
        progress("reading the registry", 0, req.members.len() as u64);
        let checks = MemberChecks {
            known: &known,
            code_of: &code_of,
            edges_of: &edges_of,
            scope: &req.members_scope,
            hamlets: &hamlet_plans.known,
            sheet: ms,
            list_rows: req.list_rows,
        };
        let member_plans = plan_members(&txn, &checks, req.members, &mut out).await?;
        out.touched_units.sort_unstable();
        out.touched_units.dedup();

        // Role holders: by login, role, unit and first day.
        let role_checks = roles::RoleChecks {
            known: &known,
            new_members: member_plans
                .iter()
                .filter_map(|p| match p {
                    MemberPlan::New(id, r) => Some((r.card.clone(), *id)),
                    MemberPlan::Change { .. } => None,
                })
                .collect(),
            today,
            sheet: &req.roles_sheet,
            list_rows: req.list_rows,
        };
        let role_plans = roles::plan_roles(&txn, &role_checks, req.roles, &mut out).await?;

        // Badges: by card number and years.
        let file_members: HashMap<String, (Uuid, &MemberRow)> = member_plans
            .iter()
            .map(|p| match p {
                MemberPlan::New(id, r) | MemberPlan::Change { id, row: r, .. } => {
                    (r.card.clone(), (*id, r))
                }
            })
            .collect();
        let context = |sheet| RowContext {
            known: &known,
            scope: &req.members_scope,
            edges_of: &edges_of,
            today,
            sheet,
            list_rows: req.list_rows,
        };
        let badge_checks = awards::BadgeChecks {
            file_members: file_members.clone(),
            rules: req.rules.as_ref(),
            context: context(&req.badges_sheet),
        };
        let badge_plans = awards::plan_badges(&txn, &badge_checks, req.badges, &mut out).await?;

        // The discipline register: by card number, form and decision date.
        let discipline_checks = discipline::DisciplineChecks {
            file_members: &file_members,
            context: context(&req.discipline_sheet),
        };
        let discipline_plans =
            discipline::plan_discipline(&txn, &discipline_checks, req.discipline, &mut out, now)
                .await?;

        if req.dry_run || (!out.problems.is_empty() && !req.accept_partial) {
            txn.rollback().await?;
            return Ok(out);
        }
        let unit_id = |code: &str| known.get(code).map(|k| k.id).unwrap_or_default();
        write_units(&txn, &plans, &unit_id, now, progress).await?;
        if !plans.is_empty() {
            self.store.tree_changing();
            crate::tree::ancestry::rebuild(&txn).await?;
        }
        hamlets::write_hamlets(&txn, &hamlet_plans, &unit_id, now).await?;
        let hamlet_id = |code: &str| {
            hamlet_plans
                .known
                .get(code)
                .map(|k| k.id)
                .unwrap_or_default()
        };
        write_members(&txn, &member_plans, &unit_id, &hamlet_id, now, progress).await?;
        if roles::write_roles(&txn, &role_plans, now).await? {
            // Rights change at once: every cached principal is read again.
            self.store.accounts().bump_auth_epoch(&txn).await?;
        }
        awards::write_badges(&txn, &badge_plans, now).await?;
        discipline::write_discipline(&txn, discipline_plans).await?;
        // The subtree aggregates: the file's dated tree changes and members, added up again
        // from the counters in this transaction.
        crate::stats::rollup::rebuild_kept(&txn).await?;
        if !plans.is_empty() {
            // The forecast's subtree rows follow the file's tree changes.
            crate::stats::forecast::rebuild_rollup(&txn).await?;
        }
        txn.commit().await?;
        out.written = true;
        tracing::info!(
            units_created = out.counts.units_created,
            units_changed = out.counts.units_changed,
            members_created = out.counts.members_created,
            members_changed = out.counts.members_changed,
            refused = out.problems.len(),
            "import committed"
        );
        Ok(out)
    }

    /// The whole registry in the import's form: units with their parents over time, members
    /// with a card number with their units and statuses over time.
    pub async fn export(&self) -> Result<RegistryExport> {
        self.export_within(None).await
    }

    /// The registry in the import's form within `scope` (`None`: everything): the units of
    /// the scope, and the members whose last recorded branch is in it.
    pub async fn export_within(&self, scope: Option<&HashSet<Uuid>>) -> Result<RegistryExport> {
        let within = |id: Uuid| scope.is_none_or(|s| s.contains(&id));
        let db = self.db();
        let ExportTree {
            units,
            code_of,
            hamlets,
            hamlet_code_of,
            ..
        } = self.export_tree(scope.cloned()).await?;
        let code_of = &code_of;
        let mut out = RegistryExport {
            units,
            hamlets,
            ..RegistryExport::default()
        };
        let members = member::Entity::find()
            .order_by_asc(member::Column::PartyCardNumber)
            .all(db)
            .await?;
        let mut units_of: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
        let mut last_unit: HashMap<Uuid, Uuid> = HashMap::new();
        for mu in member_unit::Entity::find()
            .order_by_asc(member_unit::Column::ValidFrom)
            .order_by_asc(member_unit::Column::Id)
            .all(db)
            .await?
        {
            last_unit.insert(mu.member_id, mu.unit_id);
            let member = mu.member_id;
            units_of
                .entry(member)
                .or_default()
                .push(export::unit_period(mu, code_of));
        }
        let mut residences_of: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
        for r in member_residence::Entity::find()
            .order_by_asc(member_residence::Column::ValidFrom)
            .order_by_asc(member_residence::Column::Id)
            .all(db)
            .await?
        {
            let member = r.member_id;
            residences_of
                .entry(member)
                .or_default()
                .push(export::residence_period(r, &hamlet_code_of));
        }
        let mut statuses_of: HashMap<Uuid, Vec<Period<MemberStatus>>> = HashMap::new();
        for st in member_status::Entity::find()
            .order_by_asc(member_status::Column::ValidFrom)
            .order_by_asc(member_status::Column::Id)
            .all(db)
            .await?
        {
            let member = st.member_id;
            if let Some(p) = export::status_period(st) {
                statuses_of.entry(member).or_default().push(p);
            }
        }
        let mut card_of: HashMap<Uuid, String> = HashMap::new();
        for m in members {
            if scope.is_some() && !last_unit.get(&m.id).is_some_and(|u| within(*u)) {
                continue;
            }
            let Some(card) = m.party_card_number.clone() else {
                out.members_without_card += 1;
                continue;
            };
            card_of.insert(m.id, card.clone());
            let (units, statuses, residences) = (
                units_of.remove(&m.id).unwrap_or_default(),
                statuses_of.remove(&m.id).unwrap_or_default(),
                residences_of.remove(&m.id).unwrap_or_default(),
            );
            let mut row = export::member_row(m, card, units, statuses, residences);
            row.row = out.members.len() + 2;
            out.members.push(row);
        }
        out.roles = roles::export_roles(db, code_of, scope).await?;
        out.badges = awards::export_badges(db, &card_of).await?;
        out.discipline = discipline::export_discipline(db, &card_of).await?;
        Ok(out)
    }
}

/// The tree as recorded, as rows are checked against it.
struct TreeView {
    /// Units by code (the file's new units join them).
    known: HashMap<String, Known>,
    code_of: HashMap<Uuid, String>,
    recorded_models: HashMap<String, unit::Model>,
    /// Parent links by unit, when asked for.
    edges_of: HashMap<Uuid, Vec<unit_parent::Model>>,
}

async fn read_tree(txn: &impl ConnectionTrait, with_edges: bool) -> Result<TreeView> {
    let recorded_units = unit::Entity::find().all(txn).await?;
    let mut known: HashMap<String, Known> = HashMap::new();
    let mut code_of: HashMap<Uuid, String> = HashMap::new();
    let mut recorded_models: HashMap<String, unit::Model> = HashMap::new();
    for u in recorded_units {
        let kind = core::UnitKind::parse(&u.kind)
            .ok_or_else(|| crate::stats::internal(format!("unit {} has an unknown kind", u.id)))?;
        code_of.insert(u.id, u.code.clone());
        known.insert(
            u.code.clone(),
            Known {
                id: u.id,
                facts: UnitFacts {
                    code: u.code.clone(),
                    kind,
                    valid_from: u.valid_from,
                    valid_to: u.valid_to,
                },
                recorded: true,
            },
        );
        recorded_models.insert(u.code.clone(), u);
    }
    let mut edges_of: HashMap<Uuid, Vec<unit_parent::Model>> = HashMap::new();
    if with_edges {
        for e in unit_parent::Entity::find()
            .order_by_asc(unit_parent::Column::ValidFrom)
            .order_by_asc(unit_parent::Column::Id)
            .all(txn)
            .await?
        {
            edges_of.entry(e.unit_id).or_default().push(e);
        }
    }
    Ok(TreeView {
        known,
        code_of,
        recorded_models,
        edges_of,
    })
}

/// What member rows are checked against: the units known (recorded, and the file's new
/// ones), the parent links (for the scope), the caller's scope.
struct MemberChecks<'a> {
    known: &'a HashMap<String, Known>,
    code_of: &'a HashMap<Uuid, String>,
    edges_of: &'a HashMap<Uuid, Vec<unit_parent::Model>>,
    scope: &'a Option<Vec<Uuid>>,
    /// Hamlets by code (recorded, and the file's new ones), for residences.
    hamlets: &'a HashMap<String, hamlets::KnownHamlet>,
    sheet: &'a str,
    list_rows: bool,
}

/// Checks member rows against the registry and plans each that passes (new, a dated
/// change, unchanged), the problems, counts and rows going into `out`: one batch of a file
/// or the whole of it, the same decisions either way.
async fn plan_members(
    txn: &impl ConnectionTrait,
    checks: &MemberChecks<'_>,
    rows: Vec<MemberRow>,
    out: &mut ImportOutcome,
) -> Result<Vec<MemberPlan>> {
    let ms = checks.sheet;
    let known = checks.known;
    let code_of = checks.code_of;
    let edges_of = checks.edges_of;
    let cards: Vec<String> = rows.iter().map(|m| m.card.clone()).collect();
    let mut recorded_members: HashMap<String, member::Model> = HashMap::new();
    for chunk in cards.chunks(500) {
        for m in member::Entity::find()
            .filter(member::Column::PartyCardNumber.is_in(chunk.iter().cloned()))
            .all(txn)
            .await?
        {
            if let Some(c) = m.party_card_number.clone() {
                recorded_members.insert(c, m);
            }
        }
    }
    let ids: Vec<Uuid> = recorded_members.values().map(|m| m.id).collect();
    let mut units_of: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
    let mut statuses_of: HashMap<Uuid, Vec<Period<MemberStatus>>> = HashMap::new();
    let mut residences_of: HashMap<Uuid, Vec<Period<String>>> = HashMap::new();
    let hamlet_code: HashMap<Uuid, &str> = checks
        .hamlets
        .iter()
        .map(|(c, h)| (h.id, c.as_str()))
        .collect();
    for chunk in ids.chunks(500) {
        for r in member_residence::Entity::find()
            .filter(member_residence::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_residence::Column::ValidFrom)
            .order_by_asc(member_residence::Column::Id)
            .all(txn)
            .await?
        {
            residences_of.entry(r.member_id).or_default().push(Period {
                value: hamlet_code
                    .get(&r.hamlet_id)
                    .map(|c| (*c).to_owned())
                    .unwrap_or_default(),
                from: r.valid_from,
                to: r.valid_to,
                reason: Some(r.reason),
            });
        }
        for mu in member_unit::Entity::find()
            .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_unit::Column::ValidFrom)
            .order_by_asc(member_unit::Column::Id)
            .all(txn)
            .await?
        {
            units_of.entry(mu.member_id).or_default().push(Period {
                value: code_of.get(&mu.unit_id).cloned().unwrap_or_default(),
                from: mu.valid_from,
                to: mu.valid_to,
                reason: Some(mu.reason),
            });
        }
        for st in member_status::Entity::find()
            .filter(member_status::Column::MemberId.is_in(chunk.iter().copied()))
            .order_by_asc(member_status::Column::ValidFrom)
            .order_by_asc(member_status::Column::Id)
            .all(txn)
            .await?
        {
            let status = MemberStatus::parse(&st.status).ok_or_else(|| {
                crate::stats::internal(format!("member {} has an unknown status", st.member_id))
            })?;
            statuses_of.entry(st.member_id).or_default().push(Period {
                value: status,
                from: st.valid_from,
                to: st.valid_to,
                reason: None,
            });
        }
    }
    let mut member_plans: Vec<MemberPlan> = Vec::new();
    for r in rows {
        let mut ps = Vec::new();
        for p in &r.units {
            match known.get(&p.value) {
                None => ps.push(unknown_unit(ms, r.row, "Chi bộ", &p.value)),
                Some(k) if !k.facts.kind.holds_members() => ps.push(problem(
                    ms,
                    r.row,
                    "Chi bộ",
                    "TREE",
                    Text::new(
                        format!(
                            "{} là {}: đảng viên sinh hoạt tại chi bộ.",
                            p.value,
                            k.facts.kind.label().vi
                        ),
                        format!(
                            "{} is a {}: members belong to branches.",
                            p.value,
                            k.facts.kind.label().en
                        ),
                    ),
                )),
                Some(k) if !k.facts.exists_on(p.from) => ps.push(problem(
                    ms,
                    r.row,
                    "Chi bộ",
                    "TREE",
                    Text::new(
                        format!(
                            "Chi bộ {} không tồn tại vào ngày {}.",
                            p.value,
                            p.from.format("%d/%m/%Y")
                        ),
                        format!("Branch {} does not exist on {}.", p.value, p.from),
                    ),
                )),
                Some(k) => {
                    if k.recorded {
                        out.touched_units.push(k.id);
                    }
                }
            }
        }
        for p in &r.residences {
            match checks.hamlets.get(&p.value) {
                None => ps.push(problem(
                    ms,
                    r.row,
                    "Lịch sử cư trú",
                    "UNKNOWN_CODE",
                    Text::new(
                        format!("Mã ấp, khu vực {} không có trong hệ thống, hoặc dòng của nó trong tệp có lỗi.", p.value),
                        format!("Hamlet code {} is not recorded, or its own row in the file has problems.", p.value),
                    ),
                )),
                Some(h) => {
                    if let Err(e) = memberflow_workflow::hamlet::check_hamlet_exists(&h.facts, p.from) {
                        ps.push(problem(ms, r.row, "Lịch sử cư trú", "TREE", e.reason));
                    }
                }
            }
        }
        if ps.is_empty()
            && let Some(last) = r.units.last()
            && let Some(k) = known.get(&last.value)
            && k.recorded
            && !in_scope(checks.scope, edges_of, k.id, last.from)
        {
            ps.push(out_of_scope(ms, r.row, "Chi bộ", &last.value));
        }
        if !ps.is_empty() {
            out.problems.extend(ps);
            continue;
        }
        let Some(m) = recorded_members.get(&r.card) else {
            member_plans.push(MemberPlan::New(Uuid::now_v7(), r));
            continue;
        };
        let fixed = [
            (
                m.admission_decision_date,
                r.admission_decision,
                "Ngày quyết định kết nạp",
            ),
            (m.ceremony_date, r.ceremony, "Ngày lễ kết nạp"),
            (m.official_date, r.official, "Ngày công nhận chính thức"),
        ];
        if let Some((_, _, col)) = fixed
            .iter()
            .find(|(rec, file, _)| rec.is_some() && rec != file)
        {
            out.problems.push(rewrite(ms, r.row, col));
            continue;
        }
        let rec_units = units_of.remove(&m.id).unwrap_or_default();
        let rec_statuses = statuses_of.remove(&m.id).unwrap_or_default();
        let (close_unit_on, added_units) = match compare_history(&rec_units, &r.units) {
            HistoryChange::Same => (None, Vec::new()),
            HistoryChange::Extends { close_on, added } => (close_on, added),
            HistoryChange::Rewrites => {
                out.problems.push(rewrite(ms, r.row, "Lịch sử sinh hoạt"));
                continue;
            }
        };
        let (close_status_on, added_statuses) = match compare_history(&rec_statuses, &r.statuses) {
            HistoryChange::Same => (None, Vec::new()),
            HistoryChange::Extends { close_on, added } => (close_on, added),
            HistoryChange::Rewrites => {
                out.problems.push(rewrite(ms, r.row, "Lịch sử tình trạng"));
                continue;
            }
        };
        let rec_residences = residences_of.remove(&m.id).unwrap_or_default();
        let (close_residence_on, added_residences) =
            match compare_history(&rec_residences, &r.residences) {
                HistoryChange::Same => (None, Vec::new()),
                HistoryChange::Extends { close_on, added } => (close_on, added),
                HistoryChange::Rewrites => {
                    out.problems.push(rewrite(ms, r.row, "Lịch sử cư trú"));
                    continue;
                }
            };
        let same_fields = m.full_name == r.full_name
            && m.date_of_birth == r.date_of_birth
            && m.sex == r.sex
            && m.ethnicity == r.ethnicity
            && m.religion == r.religion
            && m.education == r.education
            && m.occupation == r.occupation
            && m.admission_decision_date == r.admission_decision
            && m.ceremony_date == r.ceremony
            && m.official_date == r.official
            && (r.email.is_none() || m.email == r.email);
        if same_fields
            && close_unit_on.is_none()
            && added_units.is_empty()
            && close_status_on.is_none()
            && added_statuses.is_empty()
            && close_residence_on.is_none()
            && added_residences.is_empty()
        {
            out.counts.members_unchanged += 1;
            out.list_row(checks.list_rows, ms, r.row, &r.card, RowAction::Unchanged);
            continue;
        }
        if let Some(last) = rec_units.last()
            && let Some(k) = known.get(&last.value)
            && !in_scope(checks.scope, edges_of, k.id, last.from)
        {
            out.problems
                .push(out_of_scope(ms, r.row, "Chi bộ", &last.value));
            continue;
        }
        member_plans.push(MemberPlan::Change {
            id: m.id,
            row: r,
            close_unit_on,
            added_units,
            close_status_on,
            added_statuses,
            close_residence_on,
            added_residences,
        });
    }
    for p in &member_plans {
        let (row, action) = match p {
            MemberPlan::New(_, row) => {
                out.counts.members_created += 1;
                (row, RowAction::New)
            }
            MemberPlan::Change { row, .. } => {
                out.counts.members_changed += 1;
                (row, RowAction::Changed)
            }
        };
        out.list_row(checks.list_rows, ms, row.row, &row.card, action);
    }
    Ok(member_plans)
}

async fn write_units(
    txn: &impl BulkWrite,
    plans: &[UnitPlan],
    unit_id: &(dyn Fn(&str) -> Uuid + Sync),
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> Result<()> {
    let new: Vec<(Uuid, &UnitRow)> = plans
        .iter()
        .filter_map(|p| match p {
            UnitPlan::New { id, row } => Some((*id, row)),
            UnitPlan::Change { .. } => None,
        })
        .collect();
    let rows: Vec<UnitInsert<'_>> = new
        .iter()
        .map(|(id, u)| UnitInsert {
            id: *id,
            code: &u.code,
            name: &u.name,
            kind: u.kind,
            branch_category: u.branch_category.as_deref(),
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        })
        .collect();
    insert_units(txn, &rows, now, progress).await?;
    // Successors and merges: the units merged into one on a day, journaled as one merge.
    let mut merges: HashMap<(Uuid, NaiveDate), Vec<Uuid>> = HashMap::new();
    for (id, u) in &new {
        if let (Some(s), Some(to)) = (&u.successor, u.valid_to) {
            merges.entry((unit_id(s), to)).or_default().push(*id);
        }
    }
    let mut edges: Vec<LinkInsert> = Vec::new();
    let mut journal: Vec<JournalInsert<'_>> = Vec::new();
    for (id, u) in &new {
        for p in &u.parents {
            edges.push((*id, unit_id(&p.value), p.from, p.to));
        }
        journal.push((
            "CREATE",
            u.valid_from,
            serde_json::json!({
                "unit": id,
                "code": u.code,
                "parent": u.parents.first().map(|p| unit_id(&p.value)),
                "source": "import",
            }),
        ));
    }
    let mut merge_list: Vec<_> = merges.into_iter().collect();
    merge_list.sort_by_key(|((_, d), _)| *d);
    for ((target, date), sources) in merge_list {
        set_successor(txn, target, &sources).await?;
        journal.push((
            "MERGE",
            date,
            serde_json::json!({ "sources": sources, "target": target, "source": "import" }),
        ));
    }
    for p in plans {
        if let UnitPlan::Change {
            id,
            name,
            category,
            close_edge_on,
            added_edges,
            ..
        } = p
        {
            unit::Entity::update_many()
                .col_expr(unit::Column::Name, name.clone().into())
                .col_expr(unit::Column::BranchCategory, category.clone().into())
                .filter(unit::Column::Id.eq(*id))
                .exec(txn)
                .await?;
            if let Some(d) = close_edge_on {
                unit_parent::Entity::update_many()
                    .col_expr(unit_parent::Column::ValidTo, Expr::value(*d))
                    .filter(unit_parent::Column::UnitId.eq(*id))
                    .filter(unit_parent::Column::ValidTo.is_null())
                    .exec(txn)
                    .await?;
            }
            for e in added_edges {
                edges.push((*id, unit_id(&e.value), e.from, e.to));
                journal.push((
                    "MOVE",
                    e.from,
                    serde_json::json!({ "unit": id, "parent": unit_id(&e.value), "source": "import" }),
                ));
            }
        }
    }
    insert_links(txn, &edges, progress).await?;
    insert_journal(txn, &journal, now, progress).await
}

async fn write_members(
    txn: &impl BulkWrite,
    plans: &[MemberPlan],
    unit_id: &(dyn Fn(&str) -> Uuid + Sync),
    hamlet_id: &(dyn Fn(&str) -> Uuid + Sync),
    now: DateTime<Utc>,
    progress: &mut (dyn FnMut(&str, u64, u64) + Send),
) -> Result<()> {
    let changed: Vec<Uuid> = plans
        .iter()
        .filter_map(|p| match p {
            MemberPlan::Change { id, .. } => Some(*id),
            MemberPlan::New(..) => None,
        })
        .collect();
    // The counters: the changed members' old share out, their new share and the new
    // members' in, all in this transaction.
    count_members_with(txn, &changed, -1, false).await?;
    let mut memberships: Vec<(Uuid, &Period<String>)> = Vec::new();
    let mut statuses: Vec<(Uuid, &Period<MemberStatus>)> = Vec::new();
    let mut residences: Vec<(Uuid, &Period<String>)> = Vec::new();
    let mut new: Vec<(Uuid, &MemberRow)> = Vec::new();
    for p in plans {
        match p {
            MemberPlan::New(id, r) => {
                new.push((*id, r));
                memberships.extend(r.units.iter().map(|u| (*id, u)));
                statuses.extend(r.statuses.iter().map(|s| (*id, s)));
                residences.extend(r.residences.iter().map(|s| (*id, s)));
            }
            MemberPlan::Change {
                id,
                row: r,
                close_unit_on,
                added_units,
                close_status_on,
                added_statuses,
                close_residence_on,
                added_residences,
            } => {
                let mut m: member::ActiveModel = member::ActiveModel {
                    id: Set(*id),
                    ..Default::default()
                };
                m.full_name = Set(r.full_name.clone());
                m.search_name = Set(Some(memberflow_workflow::text::search_key(&r.full_name)));
                m.date_of_birth = Set(r.date_of_birth);
                m.sex = Set(r.sex.clone());
                m.ethnicity = Set(r.ethnicity.clone());
                m.religion = Set(r.religion.clone());
                m.education = Set(r.education.clone());
                m.occupation = Set(r.occupation.clone());
                m.admission_decision_date = Set(r.admission_decision);
                m.ceremony_date = Set(r.ceremony);
                m.official_date = Set(r.official);
                if r.email.is_some() {
                    m.email = Set(r.email.clone());
                }
                m.update(txn).await?;
                if let Some(d) = close_unit_on {
                    member_unit::Entity::update_many()
                        .col_expr(member_unit::Column::ValidTo, Expr::value(*d))
                        .filter(member_unit::Column::MemberId.eq(*id))
                        .filter(member_unit::Column::ValidTo.is_null())
                        .exec(txn)
                        .await?;
                }
                if let Some(d) = close_status_on {
                    member_status::Entity::update_many()
                        .col_expr(member_status::Column::ValidTo, Expr::value(*d))
                        .filter(member_status::Column::MemberId.eq(*id))
                        .filter(member_status::Column::ValidTo.is_null())
                        .exec(txn)
                        .await?;
                }
                if let Some(d) = close_residence_on {
                    member_residence::Entity::update_many()
                        .col_expr(member_residence::Column::ValidTo, Expr::value(*d))
                        .filter(member_residence::Column::MemberId.eq(*id))
                        .filter(member_residence::Column::ValidTo.is_null())
                        .exec(txn)
                        .await?;
                }
                memberships.extend(added_units.iter().map(|u| (*id, u)));
                statuses.extend(added_statuses.iter().map(|s| (*id, s)));
                residences.extend(added_residences.iter().map(|s| (*id, s)));
            }
        }
    }
    let members: Vec<MemberInsert<'_>> = new
        .iter()
        .map(|(id, m)| MemberInsert {
            id: *id,
            card: Some(&m.card),
            full_name: &m.full_name,
            date_of_birth: m.date_of_birth,
            sex: &m.sex,
            ethnicity: &m.ethnicity,
            religion: m.religion.as_deref(),
            education: &m.education,
            occupation: m.occupation.as_deref(),
            admission_decision: m.admission_decision,
            ceremony: m.ceremony,
            official: m.official,
            email: m.email.as_deref(),
        })
        .collect();
    insert_members(txn, &members, now, progress).await?;
    let memberships: Vec<MembershipInsert<'_>> = memberships
        .iter()
        .map(|(id, p)| MembershipInsert {
            member: *id,
            unit: unit_id(&p.value),
            from: p.from,
            to: p.to,
            reason: p.reason.as_deref().unwrap_or("REGISTERED"),
        })
        .collect();
    insert_memberships(txn, &memberships, progress).await?;
    let statuses: Vec<StatusInsert> = statuses
        .iter()
        .map(|(id, p)| StatusInsert {
            member: *id,
            status: p.value,
            from: p.from,
            to: p.to,
        })
        .collect();
    insert_statuses(txn, &statuses, progress).await?;
    let residences: Vec<member_residence::ActiveModel> = residences
        .iter()
        .map(|(id, p)| member_residence::ActiveModel {
            member_id: Set(*id),
            hamlet_id: Set(hamlet_id(&p.value)),
            valid_from: Set(p.from),
            valid_to: Set(p.to),
            reason: Set(p.reason.clone().unwrap_or_else(|| "SET".to_owned())),
            ..Default::default()
        })
        .collect();
    for chunk in residences.chunks(1000) {
        member_residence::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    let mut counted: Vec<Uuid> = changed;
    counted.extend(new.iter().map(|(id, _)| *id));
    let set: HashSet<Uuid> = counted.iter().copied().collect();
    progress("counters", 0, set.len() as u64);
    count_members_with(txn, &counted, 1, false).await?;
    progress("counters", set.len() as u64, set.len() as u64);
    Ok(())
}
