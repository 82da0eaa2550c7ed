//! Role holders imported and exported (docs/import.md, «Role holders»): who holds which role
//! at which unit from which day, and where the mail for the role reaches them.
//!
//! A row's natural key is the login, the role, the unit and the first day. The role grants
//! of an account are its history: a grant's first day is the day (in Vietnam) it was given,
//! its last the day it was revoked. A row recorded the same is unchanged; a row that ends a
//! recorded open grant revokes it on that day (a dated change); a row for a new period that
//! overlaps none recorded is a new grant; anything else would rewrite history and is refused.
//! An account not recorded is created without a password (an administrator sets one:
//! `memberflow user password`), its address and member from the file; a recorded account's
//! address is corrected as the file gives it, its member filled in when it had none.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::access::Role;
use memberflow_workflow::import::RoleRow;
use memberflow_workflow::text::Text;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{ImportOutcome, Known, RowAction, problem, unknown_unit};
use crate::entity::{account, role_assignment};
use crate::error::Result;

/// The password hash of an account created by an import: no password matches it.
pub(crate) const NO_PASSWORD: &str = "!";

/// Vietnam's offset from UTC: a grant's day is the day in Vietnam.
const VIETNAM: chrono::Duration = chrono::Duration::hours(7);

/// The day in Vietnam of an instant.
pub(crate) fn day_of(at: DateTime<Utc>) -> NaiveDate {
    (at + VIETNAM).date_naive()
}

/// The first instant of a day in Vietnam.
fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc() - VIETNAM
}

/// An account as the import plans it.
#[derive(Debug, Clone)]
struct AccountPlan {
    id: Uuid,
    login: String,
    /// Recorded before the import.
    recorded: bool,
    email: Option<String>,
    member_id: Option<Uuid>,
    /// A recorded account whose address or member the file changes.
    changed: bool,
}

/// A grant as recorded or planned.
#[derive(Debug, Clone)]
struct Grant {
    /// The recorded row (none for a new grant).
    id: Option<i64>,
    from: NaiveDate,
    to: Option<NaiveDate>,
}

/// A new grant: account, role, unit, first day, end.
type NewGrant = (Uuid, Role, Option<Uuid>, NaiveDate, Option<NaiveDate>);

/// What the role holders of a file do.
#[derive(Debug, Default)]
pub(super) struct RolePlans {
    accounts: Vec<AccountPlan>,
    /// New grants.
    grants: Vec<NewGrant>,
    /// Recorded open grants to revoke on a day.
    revokes: Vec<(i64, NaiveDate)>,
}

/// What role holder rows need of the rest of the import.
pub(super) struct RoleChecks<'a> {
    /// Units by code, the file's new ones included.
    pub known: &'a HashMap<String, Known>,
    /// The card numbers of the file's new members, with their ids.
    pub new_members: HashMap<String, Uuid>,
    /// Today in Vietnam.
    pub today: NaiveDate,
    /// The sheet.
    pub sheet: &'a str,
    /// Whether to list each row's fate.
    pub list_rows: bool,
}

fn refusal(
    sheet: &str,
    row: usize,
    column: &str,
    code: &'static str,
    vi: String,
    en: String,
) -> super::Problem {
    problem(sheet, row, column, code, Text::new(vi, en))
}

/// Plans the role holder rows against the accounts and grants recorded.
pub(super) async fn plan_roles(
    txn: &impl ConnectionTrait,
    checks: &RoleChecks<'_>,
    mut rows: Vec<RoleRow>,
    out: &mut ImportOutcome,
) -> Result<RolePlans> {
    let sheet = checks.sheet;
    let mut plans = RolePlans::default();
    if rows.is_empty() {
        return Ok(plans);
    }
    // The periods of one key are taken in date order, so that a row closing a term comes
    // before the row opening the next.
    rows.sort_by(|a, b| {
        (&a.login, a.role, &a.unit, a.from).cmp(&(&b.login, b.role, &b.unit, b.from))
    });
    let logins: Vec<String> = {
        let mut l: Vec<String> = rows.iter().map(|r| r.login.clone()).collect();
        l.dedup();
        l
    };
    let mut recorded_accounts: HashMap<String, account::Model> = HashMap::new();
    for chunk in logins.chunks(500) {
        for a in account::Entity::find()
            .filter(account::Column::Username.is_in(chunk.iter().cloned()))
            .all(txn)
            .await?
        {
            recorded_accounts.insert(a.username.clone(), a);
        }
    }
    let ids: Vec<Uuid> = recorded_accounts.values().map(|a| a.id).collect();
    // Recorded grants by account, role and unit.
    let mut grants: HashMap<(Uuid, String, Option<Uuid>), Vec<Grant>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for g in role_assignment::Entity::find()
            .filter(role_assignment::Column::AccountId.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            grants
                .entry((g.account_id, g.role.clone(), g.unit_id))
                .or_default()
                .push(Grant {
                    id: Some(g.id),
                    from: day_of(g.created_at),
                    to: g.revoked_at.map(day_of),
                });
        }
    }
    let cards: Vec<String> = {
        let mut c: Vec<String> = rows.iter().filter_map(|r| r.card.clone()).collect();
        c.sort();
        c.dedup();
        c
    };
    let mut member_of_card: HashMap<String, Uuid> = checks.new_members.clone();
    for m in super::export::members_by_card(txn, &cards).await? {
        if let Some(c) = m.party_card_number {
            member_of_card.insert(c, m.id);
        }
    }

    let mut accounts: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let mut problems = Vec::new();
        let unit = match &r.unit {
            None => None,
            Some(code) => match checks.known.get(code) {
                None => {
                    problems.push(unknown_unit(sheet, r.row, "Mã đơn vị", code));
                    None
                }
                Some(k) => {
                    if let Err(t) = r.role.check_unit(k.facts.kind) {
                        problems.push(problem(sheet, r.row, "Vai trò", "TREE", t));
                    } else if k.facts.valid_from > r.from
                        || k.facts.valid_to.is_some_and(|t| t <= r.from)
                    {
                        problems.push(refusal(
                            sheet,
                            r.row,
                            "Từ ngày",
                            "TREE",
                            format!("Đơn vị {code} không tồn tại vào ngày {}.", r.from),
                            format!("Unit {code} does not exist on {}.", r.from),
                        ));
                    }
                    Some(k.id)
                }
            },
        };
        for (column, day) in [("Từ ngày", Some(r.from)), ("Đến ngày", r.to)] {
            if day.is_some_and(|d| d > checks.today) {
                problems.push(refusal(
                    sheet,
                    r.row,
                    column,
                    "DATES",
                    "Không ghi trước một ngày chưa đến: hãy nhập khi đến ngày.".to_owned(),
                    "A day still to come cannot be recorded: import it on the day.".to_owned(),
                ));
            }
        }
        let member_id = match &r.card {
            None => None,
            Some(card) => match member_of_card.get(card) {
                Some(id) => Some(*id),
                None => {
                    problems.push(refusal(
                        sheet,
                        r.row,
                        "Số thẻ đảng viên",
                        "UNKNOWN_MEMBER",
                        format!("Số thẻ {card} không có trong hệ thống, hoặc dòng của đảng viên trong tệp có lỗi."),
                        format!("Card number {card} is not recorded, or the member's own row in the file has problems."),
                    ));
                    None
                }
            },
        };
        // The account: recorded, or planned by an earlier row.
        let existing = accounts.get(&r.login).copied();
        let recorded = recorded_accounts.get(&r.login);
        if existing.is_none()
            && let Some(a) = recorded
            && let (Some(had), Some(new)) = (a.member_id, member_id)
            && had != new
        {
            problems.push(refusal(
                sheet,
                r.row,
                "Số thẻ đảng viên",
                "HISTORY_REWRITE",
                format!("Tài khoản {} đã gắn với một đảng viên khác.", r.login),
                format!("The account {} belongs to another member.", r.login),
            ));
        }
        if !problems.is_empty() {
            out.problems.extend(problems);
            continue;
        }
        let mut account_changed = false;
        let a = match existing {
            Some(i) => i,
            None => {
                let plan = match recorded {
                    Some(a) => {
                        let email = r.email.clone().or_else(|| a.email.clone());
                        let member_id = a.member_id.or(member_id);
                        let changed = email != a.email || member_id != a.member_id;
                        account_changed = changed;
                        AccountPlan {
                            id: a.id,
                            login: r.login.clone(),
                            recorded: true,
                            email,
                            member_id,
                            changed,
                        }
                    }
                    None => AccountPlan {
                        id: Uuid::now_v7(),
                        login: r.login.clone(),
                        recorded: false,
                        email: r.email.clone(),
                        member_id,
                        changed: false,
                    },
                };
                plans.accounts.push(plan);
                accounts.insert(r.login.clone(), plans.accounts.len() - 1);
                plans.accounts.len() - 1
            }
        };
        let account_id = plans.accounts[a].id;
        let held = grants
            .entry((account_id, r.role.as_str().to_owned(), unit))
            .or_default();
        let action = if let Some(g) = held.iter_mut().find(|g| g.from == r.from) {
            match (g.id, g.to, r.to) {
                (_, a, b) if a == b => RowAction::Unchanged,
                (Some(id), None, Some(to)) => {
                    plans.revokes.push((id, to));
                    g.to = Some(to);
                    RowAction::Changed
                }
                _ => {
                    out.problems.push(refusal(
                        sheet,
                        r.row,
                        "Đến ngày",
                        "HISTORY_REWRITE",
                        "Ngày thôi giữ vai trò khác với ngày đã ghi: không sửa quá khứ.".to_owned(),
                        "The day the role ended differs from the one recorded: history is never rewritten.".to_owned(),
                    ));
                    continue;
                }
            }
        } else if held.iter().any(|g| {
            g.from < r.to.unwrap_or(NaiveDate::MAX) && r.from < g.to.unwrap_or(NaiveDate::MAX)
        }) {
            out.problems.push(refusal(
                sheet,
                r.row,
                "Từ ngày",
                "HISTORY_REWRITE",
                "Thời gian này trùng với một thời gian giữ vai trò đã ghi: hãy ghi ngày kết thúc của thời gian trước.".to_owned(),
                "This period overlaps one recorded: end the recorded one first.".to_owned(),
            ));
            continue;
        } else {
            held.push(Grant {
                id: None,
                from: r.from,
                to: r.to,
            });
            plans.grants.push((account_id, r.role, unit, r.from, r.to));
            RowAction::New
        };
        let action = match action {
            RowAction::Unchanged if account_changed => RowAction::Changed,
            a => a,
        };
        match action {
            RowAction::New => out.counts.roles_created += 1,
            RowAction::Changed => out.counts.roles_changed += 1,
            RowAction::Unchanged => out.counts.roles_unchanged += 1,
        }
        let key = match &r.unit {
            Some(u) => format!("{} {} {u}", r.login, r.role.as_str()),
            None => format!("{} {}", r.login, r.role.as_str()),
        };
        out.list_row(checks.list_rows, sheet, r.row, &key, action);
    }
    Ok(plans)
}

/// Writes the planned accounts and grants; whether anything was written (the caller then
/// raises the revocation epoch).
pub(super) async fn write_roles(
    txn: &impl ConnectionTrait,
    plans: &RolePlans,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut wrote = false;
    let new_accounts: Vec<account::ActiveModel> = plans
        .accounts
        .iter()
        .filter(|a| !a.recorded)
        .map(|a| account::ActiveModel {
            id: Set(a.id),
            username: Set(a.login.clone()),
            password_hash: Set(NO_PASSWORD.to_owned()),
            member_id: Set(a.member_id),
            disabled: Set(false),
            created_at: Set(now),
            password_changed_at: Set(now),
            email: Set(a.email.clone()),
            search_name: Set(Some(memberflow_workflow::text::search_key(&a.login))),
        })
        .collect();
    for chunk in new_accounts.chunks(500) {
        account::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
        wrote = true;
    }
    for a in plans.accounts.iter().filter(|a| a.recorded && a.changed) {
        account::Entity::update_many()
            .col_expr(account::Column::Email, Expr::value(a.email.clone()))
            .col_expr(account::Column::MemberId, Expr::value(a.member_id))
            .filter(account::Column::Id.eq(a.id))
            .exec(txn)
            .await?;
        wrote = true;
    }
    for (id, to) in &plans.revokes {
        role_assignment::Entity::update_many()
            .col_expr(
                role_assignment::Column::RevokedAt,
                Expr::value(start_of(*to)),
            )
            .filter(role_assignment::Column::Id.eq(*id))
            .exec(txn)
            .await?;
        wrote = true;
    }
    let new_grants: Vec<role_assignment::ActiveModel> = plans
        .grants
        .iter()
        .map(
            |(account, role, unit, from, to)| role_assignment::ActiveModel {
                account_id: Set(*account),
                role: Set(role.as_str().to_owned()),
                unit_id: Set(*unit),
                created_at: Set(start_of(*from)),
                revoked_at: Set(to.map(start_of)),
                ..Default::default()
            },
        )
        .collect();
    for chunk in new_grants.chunks(500) {
        role_assignment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
        wrote = true;
    }
    Ok(wrote)
}

/// Every role grant, in the import's form, ordered by login, role, unit and first day;
/// within a scope, only the grants held at its units.
pub(super) async fn export_roles(
    db: &impl ConnectionTrait,
    code_of: &HashMap<Uuid, String>,
    scope: Option<&HashSet<Uuid>>,
) -> Result<Vec<RoleRow>> {
    let accounts: HashMap<Uuid, account::Model> = account::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let member_ids: Vec<Uuid> = accounts.values().filter_map(|a| a.member_id).collect();
    let card_of = super::export::cards_of(db, &member_ids).await?;
    let mut rows = Vec::new();
    for g in role_assignment::Entity::find().all(db).await? {
        let (Some(a), Some(role)) = (accounts.get(&g.account_id), Role::parse(&g.role)) else {
            continue;
        };
        let within = match (scope, g.unit_id) {
            (None, _) => true,
            (Some(s), Some(u)) => s.contains(&u),
            (Some(_), None) => false,
        };
        if !within {
            continue;
        }
        rows.push(RoleRow {
            row: 0,
            login: a.username.clone(),
            role,
            unit: g.unit_id.and_then(|u| code_of.get(&u).cloned()),
            card: a.member_id.and_then(|m| card_of.get(&m).cloned()),
            email: a.email.clone(),
            from: day_of(g.created_at),
            to: g.revoked_at.map(day_of),
        });
    }
    rows.sort_by(|a, b| {
        (&a.login, a.role, &a.unit, a.from).cmp(&(&b.login, b.role, &b.unit, b.from))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.row = i + 2;
    }
    Ok(rows)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_day_in_vietnam_round_trips_through_its_first_instant() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(day_of(start_of(d)), d);
        assert_eq!(start_of(d).to_rfc3339(), "2024-02-29T17:00:00+00:00");
    }
}
