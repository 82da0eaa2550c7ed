//! Authorization at the GraphQL border: every resolver that reads or changes something asks
//! here first, with the permission it needs and the unit the thing belongs to.
//!
//! The decisions are the core's (`memberflow_workflow::access`); this module resolves what they
//! need from the store: the caller's grants, a unit's path to the root on a date (cached for
//! the request), the case's rule set for the competent level. Lists never ask per row: they
//! turn the caller's grants into a filter of units ([`scope_units`]) that the store query
//! applies, so no page, cursor or count can reach beyond it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::Context;
use chrono::NaiveDate;
use memberflow_store::{CaseRecord, CaseVisibility, UnitRecord};
use memberflow_workflow::access::{self, Grant, PathUnit, Permission, Scope, competent_level};
use memberflow_workflow::engine::RoleRef;
use memberflow_workflow::text::Text;
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::{ApiError, Code, OrGql, graphql_error};
use crate::tree::{app, lang};

/// Paths to the root already resolved in this request, and the units read with them.
#[derive(Debug, Default)]
pub(crate) struct PathCache {
    paths: Mutex<HashMap<(Uuid, NaiveDate), SharedPath>>,
    units: Mutex<HashMap<Uuid, UnitRecord>>,
}

/// A unit's path to the root, shared between the resolvers of a request.
type SharedPath = Arc<Vec<PathUnit<Uuid>>>;

/// The logged-in caller, or `UNAUTHENTICATED`.
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Auth> {
    ctx.data_opt::<Auth>().ok_or_else(|| {
        graphql_error(
            Code::Unauthenticated,
            &[Text::new("Hãy đăng nhập trước.", "Log in first.")],
            lang(ctx),
        )
    })
}

/// The refusal for a caller without `p` where it is needed.
pub(crate) fn forbidden(p: Permission) -> ApiError {
    let what = p.label();
    ApiError::Forbidden(Text::new(
        format!(
            "Tài khoản của đồng chí không có quyền {} ở đơn vị này.",
            what.vi
        ),
        format!("Your account may not {} here.", what.en),
    ))
}

/// Reads the paths to the root on `on` of every unit of `units` not yet known to this
/// request, in one query (a list resolves its rows' paths before it authorizes each row).
pub(crate) async fn prefetch_paths(
    ctx: &Context<'_>,
    units: &[Uuid],
    on: NaiveDate,
) -> async_graphql::Result<()> {
    let cache = ctx.data_opt::<PathCache>();
    let mut missing: Vec<Uuid> = match cache.and_then(|c| c.paths.lock().ok()) {
        Some(m) => units
            .iter()
            .filter(|u| !m.contains_key(&(**u, on)))
            .copied()
            .collect(),
        None => units.to_vec(),
    };
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    let found = app(ctx)
        .store
        .tree()
        .paths_on(&missing, on)
        .await
        .gql(lang(ctx))?;
    let Some(cache) = cache else {
        return Ok(());
    };
    if let (Ok(mut paths), Ok(mut known)) = (cache.paths.lock(), cache.units.lock()) {
        for (id, path) in found {
            paths.insert(
                (id, on),
                Arc::new(
                    path.iter()
                        .map(|u| PathUnit {
                            id: u.id,
                            kind: u.kind,
                        })
                        .collect(),
                ),
            );
            for u in path {
                known.insert(u.id, u);
            }
        }
    }
    Ok(())
}

/// The unit `unit` and its ancestors on `on`, nearest first: one query, then from the
/// request's cache.
pub(crate) async fn path(
    ctx: &Context<'_>,
    unit: Uuid,
    on: NaiveDate,
) -> async_graphql::Result<SharedPath> {
    let cached = |ctx: &Context<'_>| {
        ctx.data_opt::<PathCache>().and_then(|c| {
            c.paths
                .lock()
                .ok()
                .and_then(|m| m.get(&(unit, on)).cloned())
        })
    };
    if let Some(hit) = cached(ctx) {
        return Ok(hit);
    }
    if ctx.data_opt::<PathCache>().is_none() {
        let path = app(ctx)
            .store
            .tree()
            .paths_on(&[unit], on)
            .await
            .gql(lang(ctx))?
            .remove(&unit)
            .unwrap_or_default();
        return Ok(Arc::new(
            path.iter()
                .map(|u| PathUnit {
                    id: u.id,
                    kind: u.kind,
                })
                .collect(),
        ));
    }
    prefetch_paths(ctx, &[unit], on).await?;
    Ok(cached(ctx).unwrap_or_default())
}

/// A unit already read by this request (with a path), else from the store.
pub(crate) async fn unit_record(ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<UnitRecord> {
    if let Some(u) = ctx
        .data_opt::<PathCache>()
        .and_then(|c| c.units.lock().ok().and_then(|m| m.get(&id).cloned()))
    {
        return Ok(u);
    }
    app(ctx).store.tree().unit(id).await.gql(lang(ctx))
}

fn ids(path: &[PathUnit<Uuid>]) -> Vec<Uuid> {
    path.iter().map(|p| p.id).collect()
}

/// The caller, if they hold `p` over `unit` (on today's tree); `FORBIDDEN` otherwise.
pub(crate) async fn require<'a>(
    ctx: &Context<'a>,
    p: Permission,
    unit: Uuid,
) -> async_graphql::Result<&'a Auth> {
    let who = caller(ctx)?;
    let grants = who.principal.grants();
    // A grant everywhere needs no tree walk (and answers for a unit that does not exist the
    // same way as the store will: NOT_FOUND further on).
    if grants.iter().any(|g| g.unit.is_none() && g.role.has(p)) {
        return Ok(who);
    }
    let today = app(ctx).clock.today();
    let path = path(ctx, unit, today).await?;
    if access::allows(&grants, p, &ids(&path)) {
        Ok(who)
    } else {
        Err(forbidden(p).into_graphql(lang(ctx)))
    }
}

/// The caller, if they hold `p` over every unit of `units`.
pub(crate) async fn require_all<'a>(
    ctx: &Context<'a>,
    p: Permission,
    units: &[Uuid],
) -> async_graphql::Result<&'a Auth> {
    let who = caller(ctx)?;
    for u in units {
        require(ctx, p, *u).await?;
    }
    Ok(who)
}

/// The caller, if some grant of theirs carries `p` over the whole tree (administration,
/// creating a root unit).
pub(crate) fn require_everywhere<'a>(
    ctx: &Context<'a>,
    p: Permission,
) -> async_graphql::Result<&'a Auth> {
    let who = caller(ctx)?;
    match access::scope(&who.principal.grants(), p) {
        Scope::Everywhere => Ok(who),
        Scope::Subtrees(_) => Err(forbidden(p).into_graphql(lang(ctx))),
    }
}

/// The units where the caller holds `p`, as a filter: `None` for everywhere, else every unit
/// of their subtrees on `on` (empty: nowhere).
pub(crate) async fn scope_units(
    ctx: &Context<'_>,
    p: Permission,
    on: NaiveDate,
) -> async_graphql::Result<Option<Vec<Uuid>>> {
    scope(ctx, p, on, false).await
}

/// [`scope_units`], or for `cases` the units whose cases the caller's subtrees hold: those
/// of units that have ended too, where they stood on their last day ([`case_path`]).
async fn scope(
    ctx: &Context<'_>,
    p: Permission,
    on: NaiveDate,
    cases: bool,
) -> async_graphql::Result<Option<Vec<Uuid>>> {
    let who = caller(ctx)?;
    match access::scope(&who.principal.grants(), p) {
        Scope::Everywhere => Ok(None),
        Scope::Subtrees(roots) => {
            let a = app(ctx);
            let mut out: Vec<Uuid> = Vec::new();
            for r in roots {
                let tree = a.store.tree();
                let below = if cases {
                    tree.case_units_below(r, on).await
                } else {
                    tree.subtree_ids_on(r, on).await
                };
                for id in below.gql(lang(ctx))? {
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
            }
            Ok(Some(out))
        }
    }
}

/// The cases the caller may read, as the store's filter: the units of their scope for
/// ordinary workflows, the (usually smaller) scope for confidential ones, and their own cases.
pub(crate) async fn case_visibility(
    ctx: &Context<'_>,
    today: NaiveDate,
) -> async_graphql::Result<CaseVisibility> {
    let who = caller(ctx)?;
    Ok(CaseVisibility {
        units: scope(ctx, Permission::ReadCases, today, true).await?,
        confidential_units: scope(ctx, Permission::ReadConfidentialCases, today, true).await?,
        confidential_definitions: app(ctx)
            .catalog
            .definitions
            .iter()
            .filter(|d| d.confidential)
            .map(|d| d.id.clone())
            .collect(),
        own_member: who.principal.account.member_id,
    })
}

/// How much of a case the caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaseView {
    /// Everything.
    Full,
    /// The member the case is about: its course, not the votes or what the bodies recorded.
    Subject,
}

/// Whether the caller's account belongs to the member `subject` (a case's subject).
fn is_member(who: &Auth, subject: Option<Uuid>) -> bool {
    subject.is_some() && who.principal.account.member_id == subject
}

fn is_subject(who: &Auth, case: &CaseRecord) -> bool {
    is_member(who, case.subject_member_id)
}

fn read_permission(ctx: &Context<'_>, case: &CaseRecord) -> Permission {
    let confidential = app(ctx)
        .catalog
        .definition(&case.definition_id, case.definition_version)
        .is_none_or(|d| d.confidential);
    if confidential {
        Permission::ReadConfidentialCases
    } else {
        Permission::ReadCases
    }
}

/// What the caller may see of `case`, or `FORBIDDEN`. A read of a confidential case is
/// written to the access log (who, when) before anything of it is returned.
pub(crate) async fn read_case(
    ctx: &Context<'_>,
    case: &CaseRecord,
) -> async_graphql::Result<CaseView> {
    let who = caller(ctx)?;
    let p = read_permission(ctx, case);
    let a = app(ctx);
    let today = a.clock.today();
    let path = case_path(ctx, case.unit_id, today).await?;
    let view = if access::allows(&who.principal.grants(), p, &ids(&path)) && !is_subject(who, case)
    {
        CaseView::Full
    } else if is_subject(who, case) {
        CaseView::Subject
    } else {
        return Err(forbidden(p).into_graphql(lang(ctx)));
    };
    if p == Permission::ReadConfidentialCases {
        a.store
            .accounts()
            .log_access(
                who.principal.account.id,
                &case_subject(case.id),
                "read",
                a.clock.now(),
            )
            .await
            .gql(lang(ctx))?;
    }
    Ok(view)
}

/// The access-log subject of a case.
pub(crate) fn case_subject(id: Uuid) -> String {
    format!("case:{id}")
}

/// The path on `on` of `unit`, which owns a case: the unit and its ancestors that day, nearest
/// first. A unit that has ended (dissolved, merged) has no ancestors after its last day: its
/// cases stay with the bodies above it on that day, so that the committee that was competent
/// still reads, decides and closes them, rather than nobody but a grant everywhere. Steps,
/// reads and the access log of a case all resolve rights on this path; case lists place an
/// ended unit the same way (the store's `case_units_below` and case subtree filter).
pub(crate) async fn case_path(
    ctx: &Context<'_>,
    unit: Uuid,
    on: NaiveDate,
) -> async_graphql::Result<SharedPath> {
    let path = path(ctx, unit, on).await?;
    if path.len() == 1
        && let Some(last) = last_day(unit_record(ctx, unit).await?.valid_to, on)
    {
        return self::path(ctx, unit, last).await;
    }
    Ok(path)
}

/// [`case_path`] outside a request (the `caseChanged` subscription, after the request that
/// made it): the same placement, read from the store without the request's cache.
pub(crate) async fn case_path_in(
    store: &memberflow_store::Store,
    unit: Uuid,
    on: NaiveDate,
) -> Result<Vec<Uuid>, memberflow_store::StoreError> {
    let path = store.tree().case_path_on(unit, on).await?;
    Ok(path.iter().map(|u| u.id).collect())
}

/// The last day of a unit that ends on `end` (its `valid_to`), if it has ended by `on`: the
/// day whose tree places its cases ([`case_path`]).
fn last_day(end: Option<NaiveDate>, on: NaiveDate) -> Option<NaiveDate> {
    end.filter(|end| on >= *end).and_then(|end| end.pred_opt())
}

/// The caller, if they hold `p` over the case of `unit` today (on [`case_path`]).
pub(crate) async fn require_on_case<'a>(
    ctx: &Context<'a>,
    p: Permission,
    unit: Uuid,
) -> async_graphql::Result<&'a Auth> {
    let who = caller(ctx)?;
    let path = case_path(ctx, unit, app(ctx).clock.today()).await?;
    if access::allows(&who.principal.grants(), p, &ids(&path)) {
        Ok(who)
    } else {
        Err(forbidden(p).into_graphql(lang(ctx)))
    }
}

/// The workflow roles the caller holds on a case of `unit` whose subject is `subject`, for a
/// step on `on` under rule set `rule_set` (which says where the competent body sits).
pub(crate) async fn case_roles(
    ctx: &Context<'_>,
    unit: Uuid,
    subject: Option<Uuid>,
    on: NaiveDate,
    rule_set: Option<&str>,
) -> async_graphql::Result<(String, Vec<RoleRef>)> {
    let path = case_path(ctx, unit, on).await?;
    roles_on_path(ctx, &path, subject, on, rule_set)
}

/// [`case_roles`] on the case's `path` (its unit first), already known.
pub(crate) fn roles_on_path(
    ctx: &Context<'_>,
    path: &[PathUnit<Uuid>],
    subject: Option<Uuid>,
    on: NaiveDate,
    rule_set: Option<&str>,
) -> async_graphql::Result<(String, Vec<RoleRef>)> {
    let who = caller(ctx)?;
    let a = app(ctx);
    let set = match rule_set {
        Some(id) => a.catalog.rules.get(id),
        None => a.catalog.rules.for_date(on),
    };
    let grants: Vec<Grant<Uuid>> = who.principal.grants();
    let roles = access::case_roles(&grants, path, competent_level(set), is_member(who, subject));
    Ok((who.principal.account.username.clone(), roles))
}

/// Whether `auth` holds `p` over `unit` on `on`: for the routes outside GraphQL (the charts).
pub async fn permits(
    store: &memberflow_store::Store,
    auth: &Auth,
    p: Permission,
    unit: Uuid,
    on: NaiveDate,
) -> Result<bool, memberflow_store::StoreError> {
    let path: Vec<Uuid> = store
        .tree()
        .paths_on(&[unit], on)
        .await?
        .remove(&unit)
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.id)
        .collect();
    Ok(access::allows(&auth.principal.grants(), p, &path))
}
