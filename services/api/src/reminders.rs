//! What is coming up: the deadlines and reminders of the cases under a unit, or those of the
//! caller; a preview of the mail a reminder will send; marking a reminder handled.
//!
//! Every item comes from a case the caller may read (the same filter as `cases`); "mine" keeps
//! the items addressed to a role the caller holds on the case (and, for their own case, those
//! addressed to the member).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use futures::future::BoxFuture;
use memberflow_store::{CaseFilter, CaseRecord, OutboxRecord, PeriodicJob};
use memberflow_workflow::access::Permission;
use memberflow_workflow::engine::{Effect, RoleRef};
use memberflow_workflow::text::Text;
use uuid::Uuid;

use crate::access::{CaseView, caller, case_roles, case_visibility, read_case, require_everywhere};
use crate::cases::Case;
use crate::error::{ApiError, OrGql};
use crate::outbox::OutboxItem;
use crate::scalars::{Date, parse_id};
use crate::tree::{app, lang};

/// A mail as it would be sent now.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct MailPreview {
    /// Its recipients, as resolved now (the holders of the role at the unit, the member).
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: Option<String>,
    /// Why it could not be sent now (nobody with an address, ...), if so.
    pub problem: Option<String>,
}

/// Renders an outbox row's mail without sending it: supplied by the host, which knows the
/// templates and how to address people.
#[derive(Clone)]
pub struct MailPreviewer(
    pub Arc<dyn Fn(i64) -> BoxFuture<'static, Result<MailPreview, String>> + Send + Sync>,
);

impl std::fmt::Debug for MailPreviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MailPreviewer")
    }
}

/// Something due on a case.
#[derive(SimpleObject)]
pub struct UpcomingItem {
    /// `DEADLINE` (it has legal effect when it passes) or `REMINDER` (it only tells someone).
    kind: String,
    /// The case.
    case: Case,
    /// The deadline's or reminder's key in the workflow.
    key: String,
    /// The rule, for a deadline.
    rule: Option<String>,
    /// The last day on time (deadline) or the day it goes out (reminder).
    due: Date,
    /// Whether the day has passed.
    overdue: bool,
    /// Working days from today (negative when passed).
    working_days_left: i64,
    /// Whom a reminder is addressed to (`secretary@branch`, `member`, ...).
    to: Option<String>,
    /// The reminder's mail template.
    template: Option<String>,
    /// The reminder's outbox row: preview it, mark it handled.
    outbox_id: Option<ID>,
}

/// The role an outbox row is addressed to, and its template.
fn addressed_to(r: &OutboxRecord) -> Option<(RoleRef, String)> {
    if r.kind.carries_effect() {
        match serde_json::from_value::<Effect>(r.payload.clone()).ok()? {
            Effect::ScheduleReminder { to, template, .. }
            | Effect::SendMail { to, template }
            | Effect::ScheduleRecurringReminder { to, template, .. } => Some((to, template)),
            _ => None,
        }
    } else {
        match serde_json::from_value::<PeriodicJob>(r.payload.clone()).ok()? {
            PeriodicJob::DeadlinePassed { to, template, .. } => Some((to, template)),
            _ => None,
        }
    }
}

fn parse_outbox_id(id: &ID, l: memberflow_workflow::text::Lang) -> async_graphql::Result<i64> {
    id.parse().map_err(|_| {
        ApiError::Validation(Text::new(
            format!("Mã định danh không hợp lệ: {}.", id.as_str()),
            format!("Malformed outbox id: {}.", id.as_str()),
        ))
        .into_graphql(l)
    })
}

/// A case the caller may read, what they may see of it, and (for `mine`) the roles they
/// hold on it.
async fn with_roles(
    ctx: &Context<'_>,
    c: CaseRecord,
    mine: bool,
    today: chrono::NaiveDate,
) -> async_graphql::Result<(CaseRecord, CaseView, Vec<RoleRef>)> {
    let view = read_case(ctx, &c).await?;
    let roles = if mine {
        case_roles(ctx, c.unit_id, c.subject_member_id, today, None)
            .await?
            .1
    } else {
        Vec::new()
    };
    Ok((c, view, roles))
}

/// Lists the items of the cases the caller may read, under `units` (any when `None`), due
/// within `within` working days; `mine` keeps those addressed to the caller.
async fn upcoming(
    ctx: &Context<'_>,
    units: Option<Vec<Uuid>>,
    within: u32,
    mine: bool,
    first: usize,
) -> async_graphql::Result<Vec<UpcomingItem>> {
    let l = lang(ctx);
    let a = app(ctx);
    caller(ctx)?;
    let today = a.clock.today();
    let cal = &a.catalog.calendar;
    let through = cal.add_working_days(today, within);
    let visible = case_visibility(ctx, today).await?;
    let filter = CaseFilter {
        units: units.clone(),
        open_only: true,
        due_by: Some(through),
        visible: Some(visible.clone()),
        ..CaseFilter::default()
    };
    let mut cases: HashMap<Uuid, (CaseRecord, CaseView, Vec<RoleRef>)> = HashMap::new();
    let mut items = Vec::new();
    let page = a
        .store
        .cases()
        .page(&filter, None, first as u64)
        .await
        .gql(l)?;
    // The page's open deadlines in one read, without decoding a snapshot.
    let ids: Vec<Uuid> = page.cases.iter().map(|c| c.id).collect();
    let mut rows = a.store.cases().open_deadlines_of(&ids).await.gql(l)?;
    for mut c in page.cases {
        c.open_deadlines = Some(rows.remove(&c.id).unwrap_or_default());
        let id = c.id;
        cases.insert(id, with_roles(ctx, c, mine, today).await?);
    }
    for (c, view, roles) in cases.values() {
        // A deadline is the caller's when they may act on the case at all.
        if mine && roles.is_empty() {
            continue;
        }
        for d in c.deadlines().gql(l)? {
            let due = d.effective_due();
            let key = &d.key;
            if due > through {
                continue;
            }
            items.push(UpcomingItem {
                kind: "DEADLINE".into(),
                case: Case(c.clone(), *view),
                key: key.clone(),
                rule: Some(d.rule.clone()),
                due: due.into(),
                overdue: today > due,
                working_days_left: cal.working_days_between(today, due),
                to: None,
                template: None,
                outbox_id: None,
            });
        }
    }
    // Reminders: pending rows due by then, of cases the caller may read under the units.
    let unit_set: Option<std::collections::HashSet<Uuid>> = units.map(|u| u.into_iter().collect());
    for r in a
        .store
        .outbox()
        .pending_reminders(through, 5_000)
        .await
        .gql(l)?
    {
        let Some(case_id) = r.case_id else { continue };
        let Some((to, template)) = addressed_to(&r) else {
            continue;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = cases.entry(case_id) {
            let Ok(c) = a.store.cases().case(case_id).await else {
                continue;
            };
            if c.terminal || unit_set.as_ref().is_some_and(|s| !s.contains(&c.unit_id)) {
                continue;
            }
            let Ok(entry) = with_roles(ctx, c, mine, today).await else {
                continue;
            };
            slot.insert(entry);
        }
        let Some((c, view, roles)) = cases.get(&case_id) else {
            continue;
        };
        if mine && !roles.iter().any(|h| to.admits(h)) {
            continue;
        }
        items.push(UpcomingItem {
            kind: "REMINDER".into(),
            case: Case(c.clone(), *view),
            key: r.dedupe_key.clone(),
            rule: None,
            due: r.due_on.into(),
            overdue: today > r.due_on,
            working_days_left: cal.working_days_between(today, r.due_on),
            to: Some(to.to_string()),
            template: Some(template),
            outbox_id: Some(ID(r.id.to_string())),
        });
    }
    items.sort_by(|x, y| {
        (x.due.0, x.kind.as_str(), x.key.as_str()).cmp(&(y.due.0, y.kind.as_str(), y.key.as_str()))
    });
    items.truncate(first);
    Ok(items)
}

/// Reading what is coming up.
#[derive(Default)]
pub struct ReminderQuery;

#[Object]
impl ReminderQuery {
    /// The deadlines and reminders of the open cases of `unitId` (and the units below it
    /// unless `includeSubtree: false`) due within `withinWorkingDays` working days (20 by
    /// default) or already passed, earliest first, at most `first` (100, at most 500).
    async fn upcoming(
        &self,
        ctx: &Context<'_>,
        unit_id: ID,
        include_subtree: Option<bool>,
        within_working_days: Option<u32>,
        first: Option<u32>,
    ) -> async_graphql::Result<Vec<UpcomingItem>> {
        let l = lang(ctx);
        caller(ctx)?;
        let a = app(ctx);
        let unit = parse_id(&unit_id, "unit").gql(l)?;
        a.store.tree().unit(unit).await.gql(l)?;
        let units = if include_subtree.unwrap_or(true) {
            a.store
                .tree()
                .case_units_below(unit, a.clock.today())
                .await
                .gql(l)?
        } else {
            vec![unit]
        };
        let n = first.unwrap_or(100).clamp(1, 500) as usize;
        upcoming(
            ctx,
            Some(units),
            within_working_days.unwrap_or(20).min(260),
            false,
            n,
        )
        .await
    }

    /// The caller's own: the deadlines of the cases they may act on and the reminders
    /// addressed to a role they hold on the case (or to them, as the member concerned).
    async fn my_upcoming(
        &self,
        ctx: &Context<'_>,
        within_working_days: Option<u32>,
        first: Option<u32>,
    ) -> async_graphql::Result<Vec<UpcomingItem>> {
        caller(ctx)?;
        let n = first.unwrap_or(100).clamp(1, 500) as usize;
        upcoming(
            ctx,
            None,
            within_working_days.unwrap_or(20).min(260),
            true,
            n,
        )
        .await
    }

    /// The mail outbox row `id` would send now — recipients, subject, text and HTML — without
    /// sending it. Rows of a case: whoever may read the case; others (digests, reports): those
    /// who may read the mail queue.
    async fn mail_preview(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<MailPreview> {
        let l = lang(ctx);
        caller(ctx)?;
        let a = app(ctx);
        let id = parse_outbox_id(&id, l)?;
        let row = a.store.outbox().record(id).await.gql(l)?;
        match row.case_id {
            Some(c) => {
                let case = a.store.cases().case(c).await.gql(l)?;
                if read_case(ctx, &case).await? == CaseView::Subject {
                    return Err(crate::access::forbidden(Permission::ReadCases).into_graphql(l));
                }
            }
            None => {
                require_everywhere(ctx, Permission::ReadOutbox)?;
            }
        }
        let Some(preview) = a.previewer.as_ref() else {
            return Err(ApiError::Validation(Text::new(
                "Máy chủ này không soạn thư (bộ lập lịch đang tắt).",
                "This server does not compose mail (its scheduler is off).",
            ))
            .into_graphql(l));
        };
        (preview.0)(id).await.map_err(|e| {
            tracing::error!(error = %e, outbox = id, "mail preview failed");
            crate::error::graphql_error(crate::error::Code::Internal, &[], l)
        })
    }
}

/// Acting on reminders.
#[derive(Default)]
pub struct ReminderMutation;

#[Object]
impl ReminderMutation {
    /// Marks a pending reminder handled, with an optional note: it will not be sent. Allowed
    /// to whoever holds, on its case, the role it is addressed to.
    async fn mark_reminder_handled(
        &self,
        ctx: &Context<'_>,
        id: ID,
        note: Option<String>,
    ) -> async_graphql::Result<OutboxItem> {
        let l = lang(ctx);
        let who = caller(ctx)?;
        let a = app(ctx);
        let id = parse_outbox_id(&id, l)?;
        let row = a.store.outbox().record(id).await.gql(l)?;
        let to = addressed_to(&row).map(|(to, _)| to);
        let allowed = match (row.case_id, &to) {
            (Some(c), Some(to)) => {
                let case = a.store.cases().case(c).await.gql(l)?;
                let (_, roles) = case_roles(
                    ctx,
                    case.unit_id,
                    case.subject_member_id,
                    a.clock.today(),
                    None,
                )
                .await?;
                roles.iter().any(|h| to.admits(h))
            }
            _ => false,
        };
        if !allowed {
            return Err(ApiError::Forbidden(Text::new(
                format!(
                    "Chỉ người giữ vai trò {} của hồ sơ mới đánh dấu được nhắc việc này.",
                    to.as_ref()
                        .map_or_else(|| "?".to_owned(), ToString::to_string)
                ),
                format!(
                    "Only a holder of {} on the case may mark this reminder handled.",
                    to.as_ref()
                        .map_or_else(|| "?".to_owned(), ToString::to_string)
                ),
            ))
            .into_graphql(l));
        }
        let note = note.filter(|n| !n.trim().is_empty());
        let r = a
            .store
            .outbox()
            .mark_handled(id, &who.principal.account.username, note.as_deref())
            .await
            .gql(l)?;
        Ok(r.into())
    }
}
