//! Members in GraphQL: looking them up, listing them by unit with cursor pagination, and
//! registering the members of an organization that already runs.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::NaiveDate;
use memberflow_store::{
    AwardOutcome, ExemptionRecord, MemberFilter, MemberPage, MemberRecord, MembershipPeriod,
    NewExemption, NewMember, StatusPeriod,
};
use memberflow_workflow::access::Permission;
use memberflow_workflow::email::EmailAddress;
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::MemberStatus as CoreStatus;
use uuid::Uuid;

use crate::access::{caller, require, require_everywhere};
use crate::error::{ApiError, OrGql};
use crate::memo::{self, Memo};
use crate::scalars::{Date, decode_cursor, encode_cursor, page_size, parse_id, to_id};
use crate::tree::{Unit, app, lang, on_or_today};

/// A member's status.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum MemberStatus {
    /// Probationary member (đảng viên dự bị, A13).
    Probationary,
    /// Official member (đảng viên chính thức, A14).
    Official,
    /// Name struck off (xóa tên).
    StruckOff,
    /// Expelled (khai trừ).
    Expelled,
    /// Left the party.
    Left,
    /// Deceased.
    Deceased,
}

impl From<MemberStatus> for CoreStatus {
    fn from(s: MemberStatus) -> Self {
        match s {
            MemberStatus::Probationary => CoreStatus::Probationary,
            MemberStatus::Official => CoreStatus::Official,
            MemberStatus::StruckOff => CoreStatus::StruckOff,
            MemberStatus::Expelled => CoreStatus::Expelled,
            MemberStatus::Left => CoreStatus::Left,
            MemberStatus::Deceased => CoreStatus::Deceased,
        }
    }
}

impl MemberStatus {
    /// The GraphQL value of a status the registry records; `None` for a candidate, whom the
    /// registry does not hold (a workflow's effect names them; the store never returns one).
    pub(crate) fn from_core(s: CoreStatus) -> Option<Self> {
        Some(match s {
            CoreStatus::Candidate => return None,
            CoreStatus::Probationary => MemberStatus::Probationary,
            CoreStatus::Official => MemberStatus::Official,
            CoreStatus::StruckOff => MemberStatus::StruckOff,
            CoreStatus::Expelled => MemberStatus::Expelled,
            CoreStatus::Left => MemberStatus::Left,
            CoreStatus::Deceased => MemberStatus::Deceased,
        })
    }
}

/// Sex, as the reports count it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Sex {
    /// Nam.
    Male,
    /// Nữ.
    Female,
}

/// Schooling (general education), as the source report counts it (E4).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Education {
    /// Tiểu học.
    Primary,
    /// Trung học cơ sở.
    LowerSecondary,
    /// Trung học phổ thông.
    UpperSecondary,
}

/// Occupation groups of the source report.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Occupation {
    /// Cán bộ, công chức từ cấp huyện trở lên.
    StateOfficial,
    /// Cán bộ Đảng, Mặt trận, đoàn thể từ cấp huyện trở lên.
    PartyMassOrgOfficial,
    /// Cán bộ, công chức và người hoạt động không chuyên trách cấp xã.
    CommuneOfficial,
    /// Người hoạt động không chuyên trách ở ấp, khu vực.
    HamletStaff,
    /// Viên chức sự nghiệp.
    PublicServiceEmployee,
    /// Người làm việc trong đơn vị sự nghiệp ngoài công lập.
    NonPublicServiceWorker,
    /// Chủ, người quản lý và công nhân doanh nghiệp.
    Enterprise,
    /// Nông, lâm, ngư nghiệp.
    Farmer,
    /// Quân đội, công an.
    ArmedForces,
    /// Học sinh, sinh viên.
    Student,
    /// Nghỉ hưu.
    Retired,
    /// Khác.
    Other,
}

fn enum_code<T: async_graphql::resolver_utils::EnumType>(v: T) -> String {
    // The stored code is the GraphQL name of the value: stable, and readable in the database.
    T::items()
        .iter()
        .find(|i| i.value == v)
        .map_or_else(String::new, |i| i.name.to_owned())
}

fn parse_enum<T: async_graphql::resolver_utils::EnumType>(s: &str) -> Option<T> {
    T::items().iter().find(|i| i.name == s).map(|i| i.value)
}

/// A person in the member registry.
pub struct Member(pub MemberRecord);

#[Object]
impl Member {
    /// Identifier (a UUID).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Full name.
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    /// Date of birth.
    async fn date_of_birth(&self) -> Date {
        self.0.date_of_birth.into()
    }
    /// Sex.
    async fn sex(&self) -> Option<Sex> {
        parse_enum(&self.0.sex)
    }
    /// Ethnicity.
    async fn ethnicity(&self) -> &str {
        &self.0.ethnicity
    }
    /// Religion, if any.
    async fn religion(&self) -> Option<&str> {
        self.0.religion.as_deref()
    }
    /// Schooling.
    async fn education(&self) -> Option<Education> {
        parse_enum(&self.0.education)
    }
    /// Occupation group.
    async fn occupation(&self) -> Option<Occupation> {
        self.0.occupation.as_deref().and_then(parse_enum)
    }
    /// Date written in the admission decision.
    async fn admission_decision_date(&self) -> Option<Date> {
        self.0.admission_decision_date.map(Date)
    }
    /// Ceremony date: probation starts that day (A13).
    async fn ceremony_date(&self) -> Option<Date> {
        self.0.ceremony_date.map(Date)
    }
    /// Official date: the end of the 12 months' probation (A14).
    async fn official_date(&self) -> Option<Date> {
        self.0.official_date.map(Date)
    }
    /// E-mail address: reminders about the member's own cases go there.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// The date party age counts from: the admission decision's date (A15), not the ceremony.
    async fn party_age_from(&self) -> Option<Date> {
        self.0.admission_decision_date.map(Date)
    }
    /// The last day the party card is due (A25): the branch hands it out at its next meeting
    /// after recognition, and a branch meets every `S1.branch_meeting_interval` (monthly) on a
    /// day of its own, so the card is due by the end of the month after the member became
    /// official. Counted from the official date the registry holds (ceremony + 12 months,
    /// A14); a recognition decided later than that date moves the meeting with it. Null before
    /// recognition.
    async fn card_due_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Date>> {
        let Some(official) = self.0.official_date else {
            return Ok(None);
        };
        let cat = &app(ctx).catalog;
        // A member recognised before the first rule set follows the oldest one's convention.
        let Some(rs) = cat
            .rules
            .for_date(official)
            .or_else(|| cat.rules.sets().first())
        else {
            return Ok(None);
        };
        let interval = rs.period("S1.branch_meeting_interval").map_err(|e| {
            crate::error::graphql_error(
                crate::error::Code::Internal,
                &[Text::new(
                    format!("Lỗi cấu hình: không đọc được tham số «S1.branch_meeting_interval» của bộ quy tắc {}.", rs.id),
                    format!("Configuration error: {e}."),
                )],
                lang(ctx),
            )
        })?;
        Ok(memberflow_workflow::badges::card_due_by(official, interval, &cat.calendar).map(Date))
    }
    /// The Party badges of the member (A30–A33) as of `on` (today by default): every milestone
    /// of the rule set in force that day, reached or not, counted from the admission decision's
    /// date (A15), with the batch day each is planned for (A32) and the cash award as a multiple
    /// of the base salary (A31). Empty unless the member is an official member on `on` (party
    /// age counts once recognised, A15).
    async fn badges(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<Badge>> {
        let d = on_or_today(ctx, on);
        let l = lang(ctx);
        let Some(from) = self.0.admission_decision_date else {
            return Ok(Vec::new());
        };
        let statuses = statuses_of(ctx, self.0.id).await?;
        let official = statuses
            .iter()
            .find(|p| covers(p.valid_from, p.valid_to, d))
            .is_some_and(|p| p.status == CoreStatus::Official);
        let Some(rs) = app(ctx).catalog.rules.for_date(d).filter(|_| official) else {
            return Ok(Vec::new());
        };
        let rules = memberflow_workflow::badges::BadgeRules::from_rule_set(rs)
            .map_err(|t| crate::error::graphql_error(crate::error::Code::Internal, &[t], l))?;
        let awarded = app(ctx)
            .store
            .registry()
            .badge_awards(self.0.id)
            .await
            .gql(l)?;
        Ok(memberflow_workflow::badges::badges(from, &rules, d)
            .into_iter()
            .map(|b| Badge {
                years: b.years,
                reached_on: b.reached_on.into(),
                reached: b.reached,
                award_on: b.award_on.map(Date),
                cash_award_multiplier: b.cash_multiplier,
                awarded_on: awarded
                    .iter()
                    .find(|a| a.years == b.years && a.award_date <= d)
                    .map(|a| Date(a.award_date)),
            })
            .collect())
    }
    /// The discipline decisions in force against the member on `on` (today by default),
    /// oldest first: from the discipline register, decided on or before `on`, not annulled
    /// (P6), not lapsed (C1) by then. Empty when none. Whoever may read the member may read
    /// it (the decision is announced to the member's branch); the case itself stays
    /// confidential.
    async fn discipline_in_force(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<DisciplineInForceGql>> {
        let d = on_or_today(ctx, on);
        let l = lang(ctx);
        Ok(app(ctx)
            .store
            .registry()
            .discipline_in_force(self.0.id, d)
            .await
            .gql(l)?
            .into_iter()
            .map(|r| DisciplineInForceGql {
                label: memberflow_workflow::violations::form_label(&r.form)
                    .get(l)
                    .to_owned(),
                form: r.form,
                decision_date: Date(r.decision_date),
            })
            .collect())
    }
    /// The member's periods of temporary party activity elsewhere (sinh hoạt đảng tạm thời),
    /// oldest first.
    async fn temporary_activity(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::away::TemporaryActivity>> {
        Ok(app(ctx)
            .store
            .registry()
            .temporary_activities(self.0.id)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(crate::away::TemporaryActivity)
            .collect())
    }
    /// The hamlets the member lived in over time (nơi cư trú), oldest first.
    async fn residences(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::hamlets::Residence>> {
        Ok(app(ctx)
            .store
            .registry()
            .residences(self.0.id)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(crate::hamlets::Residence)
            .collect())
    }
    /// Status on `on` (today by default); null before any status was recorded.
    async fn status(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Option<MemberStatus>> {
        let d = on_or_today(ctx, on);
        let periods = statuses_of(ctx, self.0.id).await?;
        Ok(periods
            .iter()
            .find(|p| covers(p.valid_from, p.valid_to, d))
            .and_then(|p| MemberStatus::from_core(p.status)))
    }
    /// Unit on `on` (today by default).
    async fn unit(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Option<Unit>> {
        let d = on_or_today(ctx, on);
        let periods = units_of(ctx, self.0.id).await?;
        match periods.iter().find(|p| covers(p.valid_from, p.valid_to, d)) {
            Some(p) => Ok(Some(Unit(
                crate::access::unit_record(ctx, p.unit_id).await?,
            ))),
            None => Ok(None),
        }
    }
    /// The member's exemptions from party work and activities (S15), oldest first: each
    /// decided by the branch, from a day until a planned end or until lifted.
    async fn exemptions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MemberExemption>> {
        Ok(app(ctx)
            .store
            .registry()
            .exemptions(self.0.id)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(MemberExemption)
            .collect())
    }
    /// Whether the member is exempted from party work and activities on `on` (today by
    /// default, S15): an exempted official member who is absent is left out of the branch's
    /// vote denominators (A8, A14, D5, D33).
    async fn exempted(&self, ctx: &Context<'_>, on: Option<Date>) -> async_graphql::Result<bool> {
        let d = on_or_today(ctx, on);
        Ok(app(ctx)
            .store
            .registry()
            .exemptions(self.0.id)
            .await
            .gql(lang(ctx))?
            .iter()
            .any(|e| e.holds(d)))
    }
    /// While the member may not be elected to a committee nor appointed to an equivalent or
    /// higher post after a removal from post (cách chức, C3) on `on` (today by default): the
    /// first day they may again be, the decision day plus the rule set's `C3.removal_bar_period`.
    /// Null when no such bar holds that day.
    async fn election_barred_until(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Option<Date>> {
        let d = on_or_today(ctx, on);
        let a = app(ctx);
        let decisions = a
            .store
            .registry()
            .removal_decisions(self.0.id)
            .await
            .gql(lang(ctx))?;
        Ok(memberflow_workflow::consequences::barred_until(
            &a.catalog.rules,
            &a.catalog.calendar,
            &decisions,
            d,
        )
        .map(Date))
    }
    /// Every status the member has had, oldest first.
    async fn status_history(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<StatusPeriodGql>> {
        let periods = statuses_of(ctx, self.0.id).await?;
        Ok(periods
            .iter()
            .cloned()
            .filter_map(StatusPeriodGql::from_core)
            .collect())
    }
    /// Every unit the member has belonged to, oldest first.
    async fn unit_history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UnitPeriod>> {
        let periods = units_of(ctx, self.0.id).await?;
        Ok(periods.iter().cloned().map(UnitPeriod::from).collect())
    }
}

/// A discipline decision in force against a member.
#[derive(SimpleObject)]
#[graphql(name = "DisciplineInForce")]
pub struct DisciplineInForceGql {
    /// `reprimand`, `warning`, `removal` or `expulsion`.
    form: String,
    /// Its name (khiển trách, cảnh cáo, cách chức, khai trừ).
    label: String,
    /// The decision's date: in force from that day.
    decision_date: Date,
}

/// A Party badge awarded.
#[derive(SimpleObject)]
pub struct BadgeAward {
    /// Years of party age.
    years: u32,
    /// The day it was awarded.
    award_date: Date,
}

/// A Party badge milestone of a member (A30–A33).
#[derive(SimpleObject)]
pub struct Badge {
    /// Years of party age (A30: 30, 40, 45, ... 90).
    years: u32,
    /// The day the party age reaches them: the admission decision's anniversary (A15).
    reached_on: Date,
    /// Whether that day is on or before the day asked about.
    reached: bool,
    /// The batch day it is planned for (A32: 3/2, 19/5, 2/9 or 7/11), the first on or after
    /// `reachedOn`.
    award_on: Option<Date>,
    /// The cash award as a multiple of the base salary (A31), when the guidance lists one.
    cash_award_multiplier: Option<String>,
    /// The day it was awarded (`awardBadge`), if it was.
    awarded_on: Option<Date>,
}

fn covers(from: NaiveDate, to: Option<NaiveDate>, d: NaiveDate) -> bool {
    from <= d && to.is_none_or(|t| d < t)
}

/// An exemption from party work and activities (S15) over `[validFrom, validTo)`.
pub struct MemberExemption(ExemptionRecord);

#[Object]
impl MemberExemption {
    /// Identifier (a UUID).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The ground's code (one of the rule set's `S17.grounds`: `elderly`, `ill`, ...).
    async fn ground(&self) -> &str {
        &self.0.ground
    }
    /// The ground in the caller's language.
    async fn ground_label(&self, ctx: &Context<'_>) -> String {
        memberflow_workflow::exemption::ground_label(&self.0.ground)
            .get(lang(ctx))
            .to_owned()
    }
    /// The branch's decision, as the branch wrote it.
    async fn decision(&self) -> &str {
        &self.0.decision
    }
    /// First day exempted.
    async fn valid_from(&self) -> Date {
        Date(self.0.valid_from)
    }
    /// First day no longer exempted: the planned end, or the day it was lifted.
    async fn valid_to(&self) -> Option<Date> {
        self.0.valid_to.map(Date)
    }
    /// The branch's decision lifting it, if it was lifted.
    async fn lifted_decision(&self) -> Option<&str> {
        self.0.lifted_decision.as_deref()
    }
}

/// A status over a period `[validFrom, validTo)`.
#[derive(SimpleObject)]
#[graphql(name = "StatusPeriod")]
pub struct StatusPeriodGql {
    /// The status.
    status: MemberStatus,
    /// First day.
    valid_from: Date,
    /// First day after, if it ended.
    valid_to: Option<Date>,
}

impl StatusPeriodGql {
    /// A period of a status the registry records (see [`MemberStatus::from_core`]).
    fn from_core(p: StatusPeriod) -> Option<Self> {
        Some(Self {
            status: MemberStatus::from_core(p.status)?,
            valid_from: p.valid_from.into(),
            valid_to: p.valid_to.map(Date),
        })
    }
}

/// Membership of a unit over a period `[validFrom, validTo)`.
#[derive(SimpleObject)]
pub struct UnitPeriod {
    /// The unit's id.
    unit_id: ID,
    /// First day.
    valid_from: Date,
    /// First day after, if it ended.
    valid_to: Option<Date>,
    /// Why it began: `REGISTERED`, `MERGED`, ...
    reason: String,
}

impl From<MembershipPeriod> for UnitPeriod {
    fn from(p: MembershipPeriod) -> Self {
        Self {
            unit_id: to_id(p.unit_id),
            valid_from: p.valid_from.into(),
            valid_to: p.valid_to.map(Date),
            reason: p.reason,
        }
    }
}

/// Extra fields of a member connection.
#[derive(SimpleObject)]
pub struct MemberConnectionFields {
    /// How many members match, over all pages.
    total_count: u64,
}

/// A page of members.
pub type MemberConnection = Connection<String, Member, MemberConnectionFields>;

/// The page of the members `filter` lists that `first` and `after` ask for, unless the
/// request has already `read` it (with its unit).
pub(crate) async fn members_connection(
    ctx: &Context<'_>,
    filter: MemberFilter,
    first: Option<i32>,
    after: Option<String>,
    read: Option<MemberPage>,
) -> async_graphql::Result<MemberConnection> {
    let l = lang(ctx);
    let first = page_size(first).gql(l)?;
    let after_id = after.as_deref().map(decode_cursor).transpose().gql(l)?;
    let store = &app(ctx).store;
    let page = match read {
        Some(p) => p,
        None => store
            .registry()
            .members_page(&filter, after_id, first)
            .await
            .gql(l)?,
    };
    // Counted only when asked for.
    let total = if ctx.look_ahead().field("totalCount").exists() {
        store.registry().members_count(&filter).await.gql(l)?
    } else {
        0
    };
    let ids: Vec<Uuid> = page.members.iter().map(|m| m.id).collect();
    let look = ctx.look_ahead();
    prefetch_members(ctx, &ids, look.field("nodes")).await?;
    prefetch_members(ctx, &ids, look.field("edges").field("node")).await?;
    let mut conn = Connection::with_additional_fields(
        after_id.is_some(),
        page.has_next,
        MemberConnectionFields { total_count: total },
    );
    conn.edges.extend(
        page.members
            .into_iter()
            .map(|m| Edge::new(encode_cursor(m.id), Member(m))),
    );
    Ok(conn)
}

/// The caller, if they are the member `id` or hold `p` over the member's latest unit (a
/// member who moved away is no longer the old branch's).
async fn require_over_member(
    ctx: &Context<'_>,
    p: Permission,
    id: Uuid,
) -> async_graphql::Result<()> {
    let who = caller(ctx)?;
    if who.principal.account.member_id == Some(id) {
        return Ok(());
    }
    require_over_members_unit(ctx, p, id).await
}

/// `p` over the unit the member last belonged to (everywhere for one who never belonged to
/// any), with no exception for the member themselves.
pub(crate) async fn require_over_members_unit(
    ctx: &Context<'_>,
    p: Permission,
    id: Uuid,
) -> async_graphql::Result<()> {
    let latest = app(ctx)
        .store
        .registry()
        .member_units(id)
        .await
        .gql(lang(ctx))?
        .into_iter()
        .max_by_key(|m| m.valid_from);
    match latest {
        Some(m) => require(ctx, p, m.unit_id).await.map(|_| ()),
        None => require_everywhere(ctx, p).map(|_| ()),
    }
}

/// Reading members.
#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// A member by id.
    async fn member(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Member> {
        let l = lang(ctx);
        let id = parse_id(&id, "member").gql(l)?;
        let member = app(ctx).store.registry().member(id).await.gql(l)?;
        require_over_member(ctx, Permission::ReadMembers, id).await?;
        Ok(Member(member))
    }

    /// Members whose name contains `query`, ignoring case and Vietnamese diacritics ("nguyen
    /// van a" finds "Nguyễn Văn A"), in name order, at most `first` (20 by default, at most
    /// 100): in the subtree of `unitId` when given (the right to read its members needed),
    /// else wherever the caller may read members, as of today. `disciplineInForce`: only
    /// the members with (true) or without (false) a discipline in force today.
    async fn search_members(
        &self,
        ctx: &Context<'_>,
        query: String,
        unit_id: Option<ID>,
        discipline_in_force: Option<bool>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Member>> {
        let l = lang(ctx);
        let today = on_or_today(ctx, None);
        let limit = u64::try_from(first.unwrap_or(20).clamp(1, 100)).unwrap_or(20);
        let a = app(ctx);
        let units = match unit_id {
            Some(u) => {
                let u = parse_id(&u, "unit").gql(l)?;
                require(ctx, Permission::ReadMembers, u).await?;
                Some(a.store.tree().subtree_ids_on(u, today).await.gql(l)?)
            }
            None => crate::access::scope_units(ctx, Permission::ReadMembers, today).await?,
        };
        if units.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let found = a
            .store
            .registry()
            .search_members(&query, units.as_deref(), today, discipline_in_force, limit)
            .await
            .gql(l)?;
        let ids: Vec<Uuid> = found.iter().map(|m| m.id).collect();
        prefetch_members(ctx, &ids, ctx.look_ahead()).await?;
        Ok(found.into_iter().map(Member).collect())
    }
}

/// A member of an organization that already runs, to register.
#[derive(InputObject)]
pub struct RegisterMemberInput {
    /// The branch.
    unit_id: ID,
    /// Since when the member belongs to the branch.
    unit_since: Date,
    /// Full name.
    full_name: String,
    /// Date of birth.
    date_of_birth: Date,
    /// Sex.
    sex: Sex,
    /// Ethnicity (default Kinh).
    #[graphql(default_with = "String::from(\"Kinh\")")]
    ethnicity: String,
    /// Religion, if any.
    religion: Option<String>,
    /// Schooling.
    education: Education,
    /// Occupation group.
    occupation: Option<Occupation>,
    /// Current status: PROBATIONARY or OFFICIAL for a member still in the party.
    status: MemberStatus,
    /// Since when the status holds (by default the official date, or the ceremony date).
    status_since: Option<Date>,
    /// Date written in the admission decision (A15).
    admission_decision_date: Option<Date>,
    /// Ceremony date (A13).
    ceremony_date: Option<Date>,
    /// Official date: ceremony + 12 months (A14).
    official_date: Option<Date>,
    /// E-mail address, for the reminders about the member's own cases.
    email: Option<String>,
}

/// The probation length (A13) of the rule set in force on the ceremony day; for a ceremony
/// before the first rule set, the first rule set's (the Charter's 12 months predate them all).
pub fn probation_months(
    cat: &memberflow_workflow::catalog::Catalog,
    ceremony: Option<NaiveDate>,
) -> u32 {
    use memberflow_workflow::engine::Period;
    let set = ceremony
        .and_then(|d| cat.rules.for_date(d))
        .or_else(|| cat.rules.sets().first());
    match set.and_then(|s| s.period("A13.probation_period").ok()) {
        Some(Period::Months(m)) => m,
        Some(Period::Years(y)) => y * 12,
        // The rule-book check guarantees A13 is a period in months; keep the Charter's value
        // should a set ever say otherwise.
        _ => 12,
    }
}

/// Changing the registry.
#[derive(Default)]
pub struct MemberMutation;

/// An optional address parsed at the edge (an empty one clears it).
fn parse_email(raw: Option<&str>) -> Result<Option<EmailAddress>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => EmailAddress::parse(s)
            .map(Some)
            .map_err(ApiError::Validation),
    }
}

#[Object]
impl MemberMutation {
    /// Records the award of the Party badge of `years` years of party age to a member on
    /// `awardDate`, by those who keep the registry of the member's unit. Refused
    /// (`TRANSITION_REFUSED`, with the rule ids in `extensions.rules`) when `years` is not a
    /// milestone (A30), the party age has not reached it on that day (A15, A33), the member is
    /// not official then, the badge was already awarded, or a discipline of the member is in
    /// force (C2); nothing is written then.
    async fn award_badge(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        years: u32,
        award_date: Date,
    ) -> async_graphql::Result<BadgeAward> {
        let l = lang(ctx);
        let a = app(ctx);
        let id = parse_id(&member_id, "member").gql(l)?;
        a.store.registry().member(id).await.gql(l)?;
        require_over_members_unit(ctx, Permission::RegisterMembers, id).await?;
        crate::tree::ahead(ctx, "awardDate", award_date)?;
        match a
            .store
            .registry()
            .award_badge(
                &a.catalog,
                id,
                years,
                award_date.0,
                a.clock.today(),
                a.clock.now(),
            )
            .await
            .gql(l)?
        {
            AwardOutcome::Awarded(b) => Ok(BadgeAward {
                years: b.years,
                award_date: Date(b.award_date),
            }),
            AwardOutcome::Refused(reasons) => {
                Err(crate::error::rules_refusal("award_badge", &reasons, l))
            }
        }
    }

    /// Sets or clears (`email: null`) a member's e-mail address: by those who keep the
    /// registry of the member's unit, or by the member.
    async fn set_member_email(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        email: Option<String>,
    ) -> async_graphql::Result<Member> {
        let l = lang(ctx);
        let id = parse_id(&member_id, "member").gql(l)?;
        let store = &app(ctx).store;
        store.registry().member(id).await.gql(l)?;
        require_over_member(ctx, Permission::RegisterMembers, id).await?;
        let email = parse_email(email.as_deref()).gql(l)?;
        Ok(Member(
            store
                .registry()
                .set_member_email(id, email.as_ref())
                .await
                .gql(l)?,
        ))
    }

    /// Records the branch's decision exempting a member from party work and activities (S15),
    /// by those who keep the registry of the member's unit: from `validFrom` until `validTo`
    /// (exclusive; open-ended when null), on a ground of the rule set's `S17.grounds`. Refused
    /// (`VALIDATION`) when it overlaps another exemption of the member or the ground is unknown.
    async fn exempt_member(
        &self,
        ctx: &Context<'_>,
        member_id: ID,
        ground: String,
        decision: String,
        valid_from: Date,
        valid_to: Option<Date>,
    ) -> async_graphql::Result<MemberExemption> {
        let l = lang(ctx);
        let a = app(ctx);
        let id = parse_id(&member_id, "member").gql(l)?;
        a.store.registry().member(id).await.gql(l)?;
        require_over_members_unit(ctx, Permission::RegisterMembers, id).await?;
        crate::tree::ahead(ctx, "validFrom", valid_from)?;
        let rec = a
            .store
            .registry()
            .exempt(
                &a.catalog.rules,
                NewExemption {
                    member_id: id,
                    ground,
                    decision,
                    from: valid_from.0,
                    until: valid_to.map(|d| d.0),
                },
                a.clock.now(),
            )
            .await
            .gql(l)?;
        Ok(MemberExemption(rec))
    }

    /// Lifts an exemption on `on` by the branch's `decision` (the member asked to return to
    /// party activities, S15): it ends that day. By those who keep the registry of the member's
    /// unit.
    async fn lift_exemption(
        &self,
        ctx: &Context<'_>,
        exemption_id: ID,
        on: Date,
        decision: String,
    ) -> async_graphql::Result<MemberExemption> {
        let l = lang(ctx);
        let a = app(ctx);
        let id = parse_id(&exemption_id, "exemption").gql(l)?;
        let member = a.store.registry().exemption_member(id).await.gql(l)?;
        require_over_members_unit(ctx, Permission::RegisterMembers, member).await?;
        crate::tree::ahead(ctx, "on", on)?;
        let rec = a
            .store
            .registry()
            .lift_exemption(id, on.0, &decision)
            .await
            .gql(l)?;
        Ok(MemberExemption(rec))
    }

    /// Registers a member of an organization that already runs (for imports).
    async fn register_member(
        &self,
        ctx: &Context<'_>,
        input: RegisterMemberInput,
    ) -> async_graphql::Result<Member> {
        let l = lang(ctx);
        let a = app(ctx);
        let unit_id = parse_id(&input.unit_id, "unit").gql(l)?;
        require(ctx, Permission::RegisterMembers, unit_id).await?;
        let email = parse_email(input.email.as_deref()).gql(l)?;
        for (field, d) in [
            ("unitSince", Some(input.unit_since)),
            ("statusSince", input.status_since),
            ("admissionDecisionDate", input.admission_decision_date),
            ("ceremonyDate", input.ceremony_date),
            ("officialDate", input.official_date),
        ] {
            if let Some(d) = d {
                crate::tree::ahead(ctx, field, d)?;
            }
        }
        let m = a
            .store
            .registry()
            .register_member(
                NewMember {
                    unit_id,
                    unit_since: input.unit_since.0,
                    full_name: input.full_name,
                    date_of_birth: input.date_of_birth.0,
                    sex: enum_code(input.sex),
                    ethnicity: input.ethnicity,
                    religion: input.religion,
                    education: enum_code(input.education),
                    occupation: input.occupation.map(enum_code),
                    status: input.status.into(),
                    status_since: input.status_since.map(|d| d.0),
                    admission_decision_date: input.admission_decision_date.map(|d| d.0),
                    ceremony_date: input.ceremony_date.map(|d| d.0),
                    official_date: input.official_date.map(|d| d.0),
                    email,
                },
                probation_months(&a.catalog, input.ceremony_date.map(|d| d.0)),
                a.clock.now(),
            )
            .await
            .gql(l)?;
        Ok(Member(m))
    }
}

/// Members' statuses and units already read in this request: a list of members reads them
/// for its whole page at once ([`prefetch_members`]), and each member's `status`, `unit` and
/// histories read them from here instead of two or three statements per member.
#[derive(Debug, Default)]
pub(crate) struct MemberCache {
    statuses: Memo<Uuid, Vec<StatusPeriod>>,
    units: Memo<Uuid, Vec<MembershipPeriod>>,
}

/// Reads, for the members `ids` of a list, what its selection asks of each (`status`,
/// `unit`, their histories, badges): one statement each for the whole page, the units they
/// belong to with their paths' cache.
pub(crate) async fn prefetch_members(
    ctx: &Context<'_>,
    ids: &[Uuid],
    look: async_graphql::Lookahead<'_>,
) -> async_graphql::Result<()> {
    let Some(cache) = ctx.data_opt::<MemberCache>() else {
        return Ok(());
    };
    if ids.is_empty() {
        return Ok(());
    }
    let l = lang(ctx);
    let registry = app(ctx).store.registry();
    let wants = |f: &str| look.field(f).exists();
    if wants("status") || wants("statusHistory") || wants("badges") {
        let mut found = registry.members_statuses(ids).await.gql(l)?;
        for id in ids {
            cache
                .statuses
                .put(*id, found.remove(id).unwrap_or_default());
        }
    }
    if wants("unit") || wants("unitHistory") {
        let mut found = registry.members_units(ids).await.gql(l)?;
        let today = on_or_today(ctx, None);
        let current: Vec<Uuid> = found
            .values()
            .filter_map(|ps| ps.iter().find(|p| covers(p.valid_from, p.valid_to, today)))
            .map(|p| p.unit_id)
            .collect();
        for id in ids {
            cache.units.put(*id, found.remove(id).unwrap_or_default());
        }
        if wants("unit") {
            crate::access::prefetch_paths(ctx, &current, today).await?;
        }
    }
    Ok(())
}

/// The member `id`'s statuses over time: from the request's cache, else read.
async fn statuses_of(
    ctx: &Context<'_>,
    id: Uuid,
) -> async_graphql::Result<std::sync::Arc<Vec<StatusPeriod>>> {
    let registry = app(ctx).store.registry();
    let read = registry.member_statuses(id);
    memo::or_read(ctx.data_opt::<MemberCache>().map(|c| &c.statuses), id, read)
        .await
        .gql(lang(ctx))
}

/// The member `id`'s units over time: from the request's cache, else read.
async fn units_of(
    ctx: &Context<'_>,
    id: Uuid,
) -> async_graphql::Result<std::sync::Arc<Vec<MembershipPeriod>>> {
    let registry = app(ctx).store.registry();
    let read = registry.member_units(id);
    memo::or_read(ctx.data_opt::<MemberCache>().map(|c| &c.units), id, read)
        .await
        .gql(lang(ctx))
}
