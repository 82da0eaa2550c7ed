//! The organization tree in GraphQL: units, their history, and the mutations that change
//! the tree (create, move, merge, dissolve).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use memberflow_store::{MergeUnits, NewUnit, UnitKey, UnitRecord};
use memberflow_workflow::access::Permission;
use memberflow_workflow::text::{Lang, Text};
use memberflow_workflow::tree::UnitKind as CoreKind;
use uuid::Uuid;

use crate::access::{caller, require, require_all, require_everywhere};
use crate::error::{ApiError, OrGql};
use crate::members::{MemberConnection, MemberStatus, members_connection};
use crate::memo::{self, Memo};
use crate::scalars::{Date, parse_id, to_id};
use crate::schema::Ctx;

pub(crate) fn lang(ctx: &Context<'_>) -> Lang {
    ctx.data_opt::<Lang>().copied().unwrap_or_default()
}

pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a Ctx {
    // The schema is always built with its `Ctx` (see `build_schema`); `data_unchecked`
    // would panic otherwise, which a test of every query would show at once.
    ctx.data_unchecked::<Ctx>()
}

/// Runs `read` over the store on a task of its own. The fields of one request are polled
/// together in the request's task, so two reads that decode many rows take turns on one core;
/// apart, the targets report's figures and its questions use every core at once.
pub(crate) async fn read_apart<T, Fut>(
    ctx: &Context<'_>,
    read: impl FnOnce(memberflow_store::Store) -> Fut,
) -> async_graphql::Result<T>
where
    Fut: std::future::Future<Output = memberflow_store::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    use tracing::Instrument as _;
    let task = tokio::spawn(read(app(ctx).store.clone()).instrument(tracing::Span::current()));
    match task.await {
        Ok(r) => r.gql(lang(ctx)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only when the runtime shuts down under the request.
        Err(_) => Err(memberflow_store::StoreError::Unreachable(Text::new(
            "Máy chủ đang dừng.",
            "The server is shutting down.",
        )))
        .gql(lang(ctx)),
    }
}

/// `VALIDATION` for a registry or tree date more than a year ahead.
pub(crate) fn ahead(ctx: &Context<'_>, field: &str, d: Date) -> async_graphql::Result<()> {
    crate::scalars::not_too_far_ahead(
        field,
        d.0,
        app(ctx).clock.today(),
        crate::scalars::MAX_DAYS_AHEAD_REGISTRY,
    )
    .gql(lang(ctx))
}

pub(crate) fn on_or_today(ctx: &Context<'_>, on: Option<Date>) -> NaiveDate {
    on.map_or_else(|| app(ctx).clock.today(), |d| d.0)
}

/// The kind of a party unit.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum UnitKind {
    /// The Central Committee.
    Central,
    /// Province-level committee (Đảng bộ tỉnh).
    Province,
    /// District committee (huyện), abolished on 1/7/2025.
    District,
    /// Town committee (thị xã).
    Town,
    /// Provincial city committee (thành phố thuộc tỉnh).
    City,
    /// Commune or ward committee directly under the province (from 2025).
    Commune,
    /// Bloc of agencies and enterprises (Đảng bộ Khối).
    Bloc,
    /// Provincial police committee.
    Police,
    /// Provincial military committee.
    Military,
    /// Grassroots party committee (đảng bộ cơ sở).
    GrassrootsCommittee,
    /// Grassroots branch (chi bộ cơ sở).
    GrassrootsBranch,
    /// Branch under a grassroots committee (chi bộ trực thuộc).
    Branch,
}

impl From<CoreKind> for UnitKind {
    fn from(k: CoreKind) -> Self {
        match k {
            CoreKind::Central => UnitKind::Central,
            CoreKind::Province => UnitKind::Province,
            CoreKind::District => UnitKind::District,
            CoreKind::Town => UnitKind::Town,
            CoreKind::City => UnitKind::City,
            CoreKind::Commune => UnitKind::Commune,
            CoreKind::Bloc => UnitKind::Bloc,
            CoreKind::Police => UnitKind::Police,
            CoreKind::Military => UnitKind::Military,
            CoreKind::GrassrootsCommittee => UnitKind::GrassrootsCommittee,
            CoreKind::GrassrootsBranch => UnitKind::GrassrootsBranch,
            CoreKind::Branch => UnitKind::Branch,
        }
    }
}

impl From<UnitKind> for CoreKind {
    fn from(k: UnitKind) -> Self {
        match k {
            UnitKind::Central => CoreKind::Central,
            UnitKind::Province => CoreKind::Province,
            UnitKind::District => CoreKind::District,
            UnitKind::Town => CoreKind::Town,
            UnitKind::City => CoreKind::City,
            UnitKind::Commune => CoreKind::Commune,
            UnitKind::Bloc => CoreKind::Bloc,
            UnitKind::Police => CoreKind::Police,
            UnitKind::Military => CoreKind::Military,
            UnitKind::GrassrootsCommittee => CoreKind::GrassrootsCommittee,
            UnitKind::GrassrootsBranch => CoreKind::GrassrootsBranch,
            UnitKind::Branch => CoreKind::Branch,
        }
    }
}

/// A party unit: a committee, a grassroots organization or a branch.
pub struct Unit(pub UnitRecord);

#[Object]
impl Unit {
    /// Identifier (a UUID).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Unique code.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// Vietnamese name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Kind.
    async fn kind(&self) -> UnitKind {
        self.0.kind.into()
    }
    /// The kind's name in the reader's language.
    async fn kind_label(&self, ctx: &Context<'_>) -> String {
        self.0.kind.label().get(lang(ctx)).to_owned()
    }
    /// For branches, the source report's category (hamlet, commune sector, ...).
    async fn branch_category(&self) -> Option<&str> {
        self.0.branch_category.as_deref()
    }
    /// First day of existence.
    async fn valid_from(&self) -> Date {
        self.0.valid_from.into()
    }
    /// First day it no longer exists (merged or dissolved), if it has ended.
    async fn valid_to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
    /// Whether the unit exists on `date` (today by default).
    async fn exists_on(&self, ctx: &Context<'_>, date: Option<Date>) -> bool {
        self.0.facts().exists_on(on_or_today(ctx, date))
    }
    /// The unit it was merged into, if it was.
    async fn successor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Unit>> {
        match self.0.successor_id {
            Some(id) => Ok(Some(Unit(
                app(ctx).store.tree().unit(id).await.gql(lang(ctx))?,
            ))),
            None => Ok(None),
        }
    }
    /// Its parent on `on` (today by default).
    async fn parent(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Option<Unit>> {
        let d = on_or_today(ctx, on);
        Ok(app(ctx)
            .store
            .tree()
            .parent_on(self.0.id, d)
            .await
            .gql(lang(ctx))?
            .map(Unit))
    }
    /// Its ancestors on `on`, nearest first.
    #[graphql(complexity = "10 * child_complexity + 1")]
    async fn ancestors(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<Unit>> {
        let d = on_or_today(ctx, on);
        Ok(app(ctx)
            .store
            .tree()
            .ancestors_on(self.0.id, d)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(Unit)
            .collect())
    }
    /// Its children on `on`, by code.
    #[graphql(complexity = "20 * child_complexity + 1")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<Unit>> {
        let d = on_or_today(ctx, on);
        let tree = app(ctx).store.tree();
        let read = tree.children_on(self.0.id, d);
        let memo = ctx.data_opt::<ChildrenCache>().map(|c| &c.0);
        Ok(memo::or_read(memo, (self.0.id, d), read)
            .await
            .gql(lang(ctx))?
            .iter()
            .cloned()
            .map(Unit)
            .collect())
    }
    /// The whole subtree as it stood on `on`, breadth first, this unit first (depth 0), down
    /// to `maxDepth` levels below it.
    #[graphql(complexity = "50 * child_complexity + 50")]
    async fn subtree(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
        max_depth: Option<u32>,
    ) -> async_graphql::Result<Vec<TreeNode>> {
        let d = on_or_today(ctx, on);
        Ok(app(ctx)
            .store
            .tree()
            .subtree_on(self.0.id, d, max_depth)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(|n| TreeNode {
                unit: Unit(n.unit),
                parent_id: n.parent_id.map(to_id),
                depth: n.depth,
            })
            .collect())
    }
    /// The hamlets and residential groups of its subtree existing on `on` (today by
    /// default), by code, each with its hamlet branch and its official and probationary
    /// members living in it that day (docs/reports.md). Needs the right to read the tree.
    #[graphql(complexity = "20 * child_complexity + 20")]
    async fn hamlets(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<crate::hamlets::HamletOnDay>> {
        require(ctx, Permission::ReadTree, self.0.id).await?;
        let d = on_or_today(ctx, on);
        Ok(crate::hamlets::hamlets_of(ctx, self.0.id, d)
            .await?
            .into_iter()
            .map(crate::hamlets::HamletOnDay)
            .collect())
    }
    /// Its members on `on` (today by default), in registration order, optionally with one
    /// of `status`, with (`disciplineInForce: true`) or without (`false`) a discipline in
    /// force that day (the discipline register: `Member.disciplineInForce`), and including
    /// the units below it.
    #[graphql(
        complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + if include_subtree.unwrap_or(false) { 100 } else { 1 }"
    )]
    #[allow(clippy::too_many_arguments)] // the field's GraphQL arguments
    async fn members(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
        status: Option<Vec<MemberStatus>>,
        discipline_in_force: Option<bool>,
        include_subtree: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<MemberConnection> {
        require(ctx, Permission::ReadMembers, self.0.id).await?;
        let d = on_or_today(ctx, on);
        let subtree = include_subtree.unwrap_or(false);
        let plain = !subtree
            && status.as_ref().is_none_or(Vec::is_empty)
            && discipline_in_force.is_none()
            && after.is_none();
        let read = match crate::scalars::page_size(first) {
            Ok(n) if plain => ctx
                .data_opt::<MemberPages>()
                .and_then(|c| c.0.get(&(self.0.id, d, n))),
            _ => None,
        };
        let filter = member_filter(ctx, self.0.id, d, status, discipline_in_force, subtree).await?;
        members_connection(ctx, filter, first, after, read.map(|p| (*p).clone())).await
    }
    /// How many members it has on `on`, optionally with one of `status`, optionally with
    /// (`disciplineInForce: true`) or without (`false`) a discipline in force that day,
    /// optionally with the units below it.
    #[graphql(complexity = "if include_subtree.unwrap_or(false) { 100 } else { 5 }")]
    async fn member_count(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
        status: Option<Vec<MemberStatus>>,
        discipline_in_force: Option<bool>,
        include_subtree: Option<bool>,
    ) -> async_graphql::Result<u64> {
        require(ctx, Permission::ReadMembers, self.0.id).await?;
        let d = on_or_today(ctx, on);
        let subtree = include_subtree.unwrap_or(false);
        let filter = member_filter(ctx, self.0.id, d, status, discipline_in_force, subtree).await?;
        app(ctx)
            .store
            .registry()
            .members_count(&filter)
            .await
            .gql(lang(ctx))
    }
}

/// The members of `unit` (with the units below it when `subtree`) on `d`, with one of
/// `status` and with or without a discipline in force: what `members` and `memberCount` list.
async fn member_filter(
    ctx: &Context<'_>,
    unit: Uuid,
    d: NaiveDate,
    status: Option<Vec<MemberStatus>>,
    discipline_in_force: Option<bool>,
    subtree: bool,
) -> async_graphql::Result<memberflow_store::MemberFilter> {
    let units = if subtree {
        app(ctx)
            .store
            .tree()
            .subtree_ids_on(unit, d)
            .await
            .gql(lang(ctx))?
    } else {
        vec![unit]
    };
    Ok(memberflow_store::MemberFilter {
        units,
        on: d,
        statuses: status
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        discipline_in_force,
    })
}

/// The children of units read with them in this request, by unit and day: `unit(id) {
/// children }` is one statement.
#[derive(Debug, Default)]
pub(crate) struct ChildrenCache(Memo<(Uuid, NaiveDate), Vec<UnitRecord>>);

/// The day the `children` of the current field are asked for (their `on`, today without),
/// when the selection asks for them, and for one day only: the unit's children can then be
/// read with the unit. Whatever this gets wrong costs a read, never an answer: `children`
/// looks up its own day.
fn children_day(ctx: &Context<'_>) -> Option<NaiveDate> {
    let mut day = None;
    for f in ctx.look_ahead().field("children").selection_fields() {
        let on = f
            .arguments()
            .ok()?
            .into_iter()
            .find(|(n, _)| n.as_str() == "on");
        let d = match on.map(|(_, v)| v) {
            None | Some(async_graphql::Value::Null) => on_or_today(ctx, None),
            Some(async_graphql::Value::String(s)) => {
                memberflow_workflow::calendar::parse_iso_date(&s)?
            }
            Some(_) => return None,
        };
        if day.is_some_and(|other| other != d) {
            return None;
        }
        day = Some(d);
    }
    day
}

/// First pages of units' members read with their unit in this request, by unit, day and
/// page size: `unit(id) { members(first: N) }` is one statement.
#[derive(Debug, Default)]
pub(crate) struct MemberPages(Memo<(Uuid, NaiveDate, u64), memberflow_store::MemberPage>);

/// The day and page size of the `members` of the current field when it asks for one plain
/// page (the unit's own members on one day, from the start, no filter) and nothing else of
/// them: that page can then be read with the unit. As for [`children_day`], a wrong guess
/// costs a read, never an answer.
fn plain_members_page(ctx: &Context<'_>) -> Option<(NaiveDate, u64)> {
    use async_graphql::Value;
    let fields = ctx.look_ahead().field("members").selection_fields();
    let [f] = fields.as_slice() else {
        return None;
    };
    let mut day = on_or_today(ctx, None);
    let mut first = None;
    for (name, v) in f.arguments().ok()? {
        match (name.as_str(), v) {
            ("on", Value::String(s)) => day = memberflow_workflow::calendar::parse_iso_date(&s)?,
            ("first", Value::Number(n)) => first = Some(i32::try_from(n.as_i64()?).ok()?),
            ("includeSubtree", Value::Boolean(false)) | (_, Value::Null) => {}
            _ => return None,
        }
    }
    Some((day, crate::scalars::page_size(first).ok()?))
}

/// A unit in a subtree as it stood on a date.
#[derive(SimpleObject)]
pub struct TreeNode {
    /// The unit.
    unit: Unit,
    /// Its parent on that date.
    parent_id: Option<ID>,
    /// Levels below the subtree's root.
    depth: u32,
}

/// Reading the tree.
#[derive(Default)]
pub struct TreeQuery;

#[Object]
impl TreeQuery {
    /// A unit by `id` or by `code` (exactly one of them).
    async fn unit(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        code: Option<String>,
    ) -> async_graphql::Result<Unit> {
        caller(ctx)?;
        let l = lang(ctx);
        let store = &app(ctx).store;
        let key = match (&id, &code) {
            (Some(id), None) => UnitKey::Id(parse_id(id, "unit").gql(l)?),
            (None, Some(code)) => UnitKey::Code(code),
            _ => Err(ApiError::Validation(Text::new(
                "Hãy cho biết đúng một trong hai: id hoặc code.",
                "Give exactly one of id and code.",
            ))
            .into_graphql(l))?,
        };
        if let UnitKey::Id(id) = key
            && let Some((d, first)) = plain_members_page(ctx)
            && require(ctx, Permission::ReadMembers, id).await.is_ok()
        {
            let filter = memberflow_store::MemberFilter {
                units: vec![id],
                on: d,
                statuses: Vec::new(),
                discipline_in_force: None,
            };
            let (unit, page) = store
                .registry()
                .unit_with_members_page(id, &filter, first)
                .await
                .gql(l)?;
            if let Some(c) = ctx.data_opt::<MemberPages>() {
                c.0.put((id, d, first), page);
            }
            return Ok(Unit(unit));
        }
        let Some(d) = children_day(ctx) else {
            return match key {
                UnitKey::Id(id) => store.tree().unit(id).await,
                UnitKey::Code(code) => store.tree().unit_by_code(code).await,
            }
            .map(Unit)
            .gql(l);
        };
        let (unit, children) = store.tree().unit_with_children(key, d).await.gql(l)?;
        if let Some(c) = ctx.data_opt::<ChildrenCache>() {
            c.0.put((unit.id, d), children);
        }
        Ok(Unit(unit))
    }

    /// The units that had no parent on `on` (today by default): the roots of the tree.
    async fn roots(&self, ctx: &Context<'_>, on: Option<Date>) -> async_graphql::Result<Vec<Unit>> {
        caller(ctx)?;
        let d = on_or_today(ctx, on);
        Ok(app(ctx)
            .store
            .tree()
            .roots_on(d)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(Unit)
            .collect())
    }

    /// Today's date in Vietnam, as the server sees it: the default of every `on` argument.
    async fn today(&self, ctx: &Context<'_>) -> Date {
        Date(app(ctx).clock.today())
    }
}

/// A unit to create.
#[derive(InputObject)]
pub struct CreateUnitInput {
    /// Unique code (no spaces).
    code: String,
    /// Vietnamese name.
    name: String,
    /// Kind.
    kind: UnitKind,
    /// Parent from `validFrom` on; none for a root.
    parent_id: Option<ID>,
    /// First day of existence.
    valid_from: Date,
    /// For branches, the report's category.
    branch_category: Option<String>,
}

/// A unit to move under another parent.
#[derive(InputObject)]
pub struct MoveUnitInput {
    /// The unit.
    unit_id: ID,
    /// Its new parent.
    new_parent_id: ID,
    /// First day under the new parent.
    effective_date: Date,
}

/// Units to merge into another.
#[derive(InputObject)]
pub struct MergeUnitsInput {
    /// The units that end.
    source_ids: Vec<ID>,
    /// The unit that takes over their children and members.
    target_id: ID,
    /// First day of the merged unit: the sources' last day is the day before.
    effective_date: Date,
}

/// A unit to dissolve.
#[derive(InputObject)]
pub struct DissolveUnitInput {
    /// The unit: it must have no children and no members left.
    unit_id: ID,
    /// First day it no longer exists.
    effective_date: Date,
}

/// Changing the tree.
#[derive(Default)]
pub struct TreeMutation;

#[Object]
impl TreeMutation {
    /// Creates a unit.
    async fn create_unit(
        &self,
        ctx: &Context<'_>,
        input: CreateUnitInput,
    ) -> async_graphql::Result<Unit> {
        let l = lang(ctx);
        let a = app(ctx);
        let parent_id = input
            .parent_id
            .as_ref()
            .map(|p| parse_id(p, "unit"))
            .transpose()
            .gql(l)?;
        match parent_id {
            Some(p) => require(ctx, Permission::EditTree, p).await?,
            None => require_everywhere(ctx, Permission::EditTree)?,
        };
        ahead(ctx, "validFrom", input.valid_from)?;
        let u = a
            .store
            .tree()
            .create_unit(
                NewUnit {
                    code: input.code,
                    name: input.name,
                    kind: input.kind.into(),
                    branch_category: input.branch_category,
                    parent_id,
                    valid_from: input.valid_from.0,
                },
                a.clock.now(),
            )
            .await
            .gql(l)?;
        Ok(Unit(u))
    }

    /// Moves a unit under another parent from a date on.
    async fn move_unit(
        &self,
        ctx: &Context<'_>,
        input: MoveUnitInput,
    ) -> async_graphql::Result<Unit> {
        let l = lang(ctx);
        let a = app(ctx);
        let id = parse_id(&input.unit_id, "unit").gql(l)?;
        let parent = parse_id(&input.new_parent_id, "unit").gql(l)?;
        require_all(ctx, Permission::EditTree, &[id, parent]).await?;
        ahead(ctx, "effectiveDate", input.effective_date)?;
        let u = a
            .store
            .tree()
            .move_unit(id, parent, input.effective_date.0, a.clock.now())
            .await
            .gql(l)?;
        Ok(Unit(u))
    }

    /// Merges units into another: their children and members move to it on the date.
    async fn merge_units(
        &self,
        ctx: &Context<'_>,
        input: MergeUnitsInput,
    ) -> async_graphql::Result<Unit> {
        let l = lang(ctx);
        let a = app(ctx);
        let sources = input
            .source_ids
            .iter()
            .map(|s| parse_id(s, "unit"))
            .collect::<Result<Vec<_>, _>>()
            .gql(l)?;
        let target = parse_id(&input.target_id, "unit").gql(l)?;
        require_all(ctx, Permission::EditTree, &sources).await?;
        require(ctx, Permission::EditTree, target).await?;
        ahead(ctx, "effectiveDate", input.effective_date)?;
        let u = a
            .store
            .tree()
            .merge_units(
                MergeUnits {
                    sources,
                    target,
                    date: input.effective_date.0,
                },
                a.clock.now(),
            )
            .await
            .gql(l)?;
        Ok(Unit(u))
    }

    /// Dissolves an empty unit on a date.
    async fn dissolve_unit(
        &self,
        ctx: &Context<'_>,
        input: DissolveUnitInput,
    ) -> async_graphql::Result<Unit> {
        let l = lang(ctx);
        let a = app(ctx);
        let id = parse_id(&input.unit_id, "unit").gql(l)?;
        require(ctx, Permission::EditTree, id).await?;
        ahead(ctx, "effectiveDate", input.effective_date)?;
        let u = a
            .store
            .tree()
            .dissolve_unit(id, input.effective_date.0, a.clock.now())
            .await
            .gql(l)?;
        Ok(Unit(u))
    }
}
