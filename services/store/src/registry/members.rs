//! The member registry: registering members of a running organization, and reading them by
//! unit and status as of any date.

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::email::EmailAddress;
use memberflow_workflow::text::Text;
use memberflow_workflow::tree::{self as core, AdmissionDates, MemberStatus};
use sea_orm::sea_query::{
    Alias, Asterisk, CommonTableExpression, Expr, JoinType, Order, Query, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationTrait, Set,
};
use uuid::Uuid;

use super::Registry;
use crate::entity::{member, member_status, member_unit, unit};
use crate::error::{Result, StoreError};
use crate::records::{MemberRecord, MembershipPeriod, StatusPeriod, UnitRecord};
use crate::stats::entity::discipline_record;
use crate::tree::{load_unit, valid_on_membership};

/// A member to register, as an organization that already runs knows them.
#[derive(Debug, Clone)]
pub struct NewMember {
    /// The branch the member belongs to.
    pub unit_id: Uuid,
    /// Since when they belong to it.
    pub unit_since: NaiveDate,
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// `MALE` or `FEMALE`.
    pub sex: String,
    /// Ethnicity.
    pub ethnicity: String,
    /// Religion, if any.
    pub religion: Option<String>,
    /// Schooling level.
    pub education: String,
    /// Occupation group.
    pub occupation: Option<String>,
    /// Current status.
    pub status: MemberStatus,
    /// Since when the status holds (defaults to the relevant admission date).
    pub status_since: Option<NaiveDate>,
    /// Admission decision date (A15).
    pub admission_decision_date: Option<NaiveDate>,
    /// Ceremony date (A13).
    pub ceremony_date: Option<NaiveDate>,
    /// Official date (A14).
    pub official_date: Option<NaiveDate>,
    /// E-mail address, for the reminders about their own cases.
    pub email: Option<EmailAddress>,
}

/// Which members to list.
#[derive(Debug, Clone)]
pub struct MemberFilter {
    /// Members of any of these units.
    pub units: Vec<Uuid>,
    /// As of this date.
    pub on: NaiveDate,
    /// With one of these statuses on that date (any when empty).
    pub statuses: Vec<MemberStatus>,
    /// Only the members with (`Some(true)`) or without (`Some(false)`) a discipline in force
    /// on that date ([`discipline_in_force_on`]); everyone when `None`.
    pub discipline_in_force: Option<bool>,
}

/// A discipline decision of the register in force on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisciplineInForce {
    /// The form (`KHIEN_TRACH`, `CANH_CAO`, …) in force, after any appeal.
    pub form: String,
    /// The decision's date: in force from that day.
    pub decision_date: NaiveDate,
    /// The unit the member belonged to when it was decided.
    pub unit_id: Uuid,
}

/// The discipline register's decisions in force on `d`: decided on or before `d`, never
/// annulled (an annulled decision never had effect, P6), and still in force, or lapsed (C1)
/// only after `d`. The same reading as the C2 check of a badge award.
pub(crate) fn discipline_in_force_on(d: NaiveDate) -> Condition {
    use memberflow_workflow::engine::DisciplineStatus;
    Condition::all()
        .add(discipline_record::Column::DecisionDate.lte(d))
        .add(discipline_record::Column::Status.ne(DisciplineStatus::Annulled.code()))
        .add(
            Condition::any()
                .add(discipline_record::Column::Status.eq(DisciplineStatus::InForce.code()))
                .add(discipline_record::Column::StatusDate.gt(d)),
        )
}

/// One page of members, in id order.
#[derive(Debug, Clone)]
pub struct MemberPage {
    /// The members.
    pub members: Vec<MemberRecord>,
    /// Whether more follow.
    pub has_next: bool,
}

/// Members with (`want`) or without (`!want`) a discipline in force on `on`: one subquery of
/// the register, so pages, cursors and counts agree.
fn with_discipline_in_force(want: bool, on: NaiveDate) -> Condition {
    let sub = Query::select()
        .column(discipline_record::Column::MemberId)
        .from(discipline_record::Entity)
        .cond_where(discipline_in_force_on(on))
        .to_owned();
    if want {
        Condition::all().add(member::Column::Id.in_subquery(sub))
    } else {
        Condition::all().add(member::Column::Id.not_in_subquery(sub))
    }
}

fn valid_on_status(d: NaiveDate) -> Condition {
    crate::tree::valid_on(
        member_status::Column::ValidFrom,
        member_status::Column::ValidTo,
        d,
    )
}

impl Registry<'_> {
    /// Registers an existing member in a branch. `probation_months` comes from the rule set
    /// in force (A13).
    pub async fn register_member(
        &self,
        m: NewMember,
        probation_months: u32,
        now: DateTime<Utc>,
    ) -> Result<MemberRecord> {
        let mut problems = Vec::new();
        let full_name = m.full_name.trim().to_owned();
        if full_name.is_empty() || full_name.chars().count() > 255 {
            problems.push(Text::new(
                "Họ và tên phải có từ 1 đến 255 ký tự.",
                "The full name must have 1 to 255 characters.",
            ));
        }
        if m.ethnicity.trim().is_empty() {
            problems.push(Text::new("Phải ghi dân tộc.", "The ethnicity is required."));
        }
        let dates = AdmissionDates {
            date_of_birth: m.date_of_birth,
            admission_decision: m.admission_decision_date,
            ceremony: m.ceremony_date,
            official: m.official_date,
        };
        if let Err(p) = core::check_admission_dates(m.status, &dates, probation_months) {
            problems.extend(p);
        }
        let statuses = core::registration_statuses(m.status, &dates, m.unit_since, m.status_since);
        let status_since = statuses.last().map_or(m.unit_since, |p| p.from);
        if m.unit_since < m.date_of_birth || status_since < m.date_of_birth {
            problems.push(Text::new(
                "Ngày sinh hoạt tại chi bộ và ngày của tình trạng phải sau ngày sinh.",
                "The dates of the unit and of the status must come after the date of birth.",
            ));
        }
        if !problems.is_empty() {
            return Err(StoreError::Validation(problems));
        }
        let txn = self.begin_write().await?;
        let unit = load_unit(&txn, m.unit_id).await?;
        if !unit.kind.holds_members() {
            return Err(StoreError::validation(
                format!(
                    "{} là {}: đảng viên sinh hoạt tại chi bộ.",
                    unit.code,
                    unit.kind.label().vi
                ),
                format!(
                    "{} is a {}: members belong to branches.",
                    unit.code,
                    unit.kind.label().en
                ),
            ));
        }
        if !unit.facts().exists_on(m.unit_since) {
            return Err(StoreError::validation(
                format!(
                    "Chi bộ {} không tồn tại vào ngày {}.",
                    unit.code,
                    m.unit_since.format("%d/%m/%Y")
                ),
                format!("Branch {} does not exist on {}.", unit.code, m.unit_since),
            ));
        }
        let id = Uuid::now_v7();
        let model = member::ActiveModel {
            id: Set(id),
            search_name: Set(Some(memberflow_workflow::text::search_key(&full_name))),
            full_name: Set(full_name),
            date_of_birth: Set(m.date_of_birth),
            sex: Set(m.sex),
            ethnicity: Set(m.ethnicity.trim().to_owned()),
            religion: Set(m.religion.filter(|r| !r.trim().is_empty())),
            education: Set(m.education),
            occupation: Set(m.occupation),
            admission_decision_date: Set(m.admission_decision_date),
            ceremony_date: Set(m.ceremony_date),
            official_date: Set(m.official_date),
            created_at: Set(now),
            email: Set(m.email.map(|e| e.to_string())),
            party_card_number: Set(None),
        }
        .insert(&txn)
        .await?;
        member_unit::ActiveModel {
            member_id: Set(id),
            unit_id: Set(m.unit_id),
            valid_from: Set(m.unit_since),
            valid_to: Set(None),
            reason: Set("REGISTERED".to_owned()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for p in &statuses {
            member_status::ActiveModel {
                member_id: Set(id),
                status: Set(p.value.as_str().to_owned()),
                valid_from: Set(p.from),
                valid_to: Set(p.to),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        // Statistics counters (docs/targets.md): the new member's share, in this transaction.
        crate::stats::count_members(&txn, &[id], 1).await?;
        txn.commit().await?;
        tracing::info!(member = %id, unit = %m.unit_id, "member registered");
        Ok(model.into())
    }

    /// The member with this id.
    pub async fn member(&self, id: Uuid) -> Result<MemberRecord> {
        member::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .map(Into::into)
            .ok_or_else(|| StoreError::not_found("member", id))
    }

    /// Members whose name contains `query` ignoring case and Vietnamese diacritics, in name
    /// order, at most `limit`: among the members of `units` on `on` (everyone when `None`).
    pub async fn search_members(
        &self,
        query: &str,
        units: Option<&[Uuid]>,
        on: NaiveDate,
        discipline_in_force: Option<bool>,
        limit: u64,
    ) -> Result<Vec<MemberRecord>> {
        let key: String = memberflow_workflow::text::search_key(query)
            .chars()
            .filter(|c| !matches!(c, '%' | '_' | '\\'))
            .collect();
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = member::Entity::find().filter(member::Column::SearchName.contains(&key));
        if let Some(want) = discipline_in_force {
            q = q.filter(with_discipline_in_force(want, on));
        }
        if let Some(units) = units {
            q = q
                .join(JoinType::InnerJoin, member::Relation::MemberUnit.def())
                .filter(member_unit::Column::UnitId.is_in(units.iter().copied()))
                .filter(valid_on_membership(on));
        }
        // The matches first, then their order: a query planner that walks the name index in
        // order and filters each row (PostgreSQL does, for a common name deep in the
        // alphabet) reads most of the registry; matching first lets PostgreSQL use its
        // trigram index (migration 000033) and sorts only the matches.
        let matches = CommonTableExpression::new()
            .query(q.into_query())
            .table_name(Alias::new("m"))
            .materialized(true)
            .to_owned();
        let page = Query::select()
            .column(Asterisk)
            .from(Alias::new("m"))
            .order_by((Alias::new("m"), member::Column::SearchName), Order::Asc)
            .order_by((Alias::new("m"), member::Column::Id), Order::Asc)
            .limit(limit)
            .to_owned()
            .with(WithClause::new().cte(matches).to_owned());
        let stmt = self.db().get_database_backend().build(&page);
        Ok(member::Entity::find()
            .from_raw_sql(stmt)
            .all(self.db())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A page of members matching `f`, after the member `after`, at most `first` of them.
    pub async fn members_page(
        &self,
        f: &MemberFilter,
        after: Option<Uuid>,
        first: u64,
    ) -> Result<MemberPage> {
        let mut q = self.member_query(f);
        if let Some(a) = after {
            q = q.filter(member::Column::Id.gt(a));
        }
        let mut rows = q
            .order_by_asc(member::Column::Id)
            .limit(first + 1)
            .all(self.db())
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        Ok(MemberPage {
            members: rows.into_iter().map(Into::into).collect(),
            has_next,
        })
    }

    /// The unit `unit_id` and the first page (at most `first`) of the members `f` lists, in
    /// one statement: the unit's row joined to the page (a list of that unit's members).
    pub async fn unit_with_members_page(
        &self,
        unit_id: Uuid,
        f: &MemberFilter,
        first: u64,
    ) -> Result<(UnitRecord, MemberPage)> {
        use sea_orm::{
            ConnectionTrait as _, ExprTrait as _, FromQueryResult as _, IdenStatic as _,
            Iterable as _,
        };
        let page = self
            .member_query(f)
            .order_by_asc(member::Column::Id)
            .limit(first + 1)
            .into_query();
        let m = Alias::new("m");
        let mut q = Query::select();
        q.columns(unit::Column::iter().map(|c| (unit::Entity, c)));
        for c in member::Column::iter() {
            q.expr_as(
                Expr::col((m.clone(), c)),
                Alias::new(format!("m_{}", c.as_str())),
            );
        }
        q.from(unit::Entity)
            .join_subquery(JoinType::LeftJoin, page, m, Expr::cust("1 = 1"))
            .and_where(Expr::col((unit::Entity, unit::Column::Id)).eq(unit_id));
        let rows = self.db().query_all(&q).await?;
        let first_row = rows
            .first()
            .ok_or_else(|| StoreError::not_found("unit", unit_id))?;
        let found: UnitRecord = unit::Model::from_query_result(first_row, "")?.try_into()?;
        let mut members = Vec::with_capacity(rows.len());
        for row in &rows {
            // A unit without any member listed: its row alone, the page's columns empty.
            if row.try_get::<Option<Uuid>>("", "m_id")?.is_some() {
                members.push(MemberRecord::from(member::Model::from_query_result(
                    row, "m_",
                )?));
            }
        }
        members.sort_by_key(|m| m.id);
        let has_next = members.len() as u64 > first;
        members.truncate(usize::try_from(first).unwrap_or(usize::MAX));
        Ok((found, MemberPage { members, has_next }))
    }

    /// How many members match `f`.
    pub async fn members_count(&self, f: &MemberFilter) -> Result<u64> {
        Ok(self.member_query(f).count(self.db()).await?)
    }

    fn member_query(&self, f: &MemberFilter) -> sea_orm::Select<member::Entity> {
        let mut q = member::Entity::find()
            .join(JoinType::InnerJoin, member::Relation::MemberUnit.def())
            .filter(member_unit::Column::UnitId.is_in(f.units.iter().copied()))
            .filter(valid_on_membership(f.on));
        if !f.statuses.is_empty() {
            q = q
                .join(JoinType::InnerJoin, member::Relation::MemberStatus.def())
                .filter(valid_on_status(f.on))
                .filter(
                    member_status::Column::Status
                        .is_in(f.statuses.iter().map(|s| s.as_str().to_owned())),
                );
        }
        if let Some(want) = f.discipline_in_force {
            q = q.filter(with_discipline_in_force(want, f.on));
        }
        q
    }

    /// The decisions of the discipline register in force against `member` on `on`
    /// ([`discipline_in_force_on`]), oldest first.
    pub async fn discipline_in_force(
        &self,
        member: Uuid,
        on: NaiveDate,
    ) -> Result<Vec<DisciplineInForce>> {
        Ok(discipline_record::Entity::find()
            .filter(discipline_record::Column::MemberId.eq(member))
            .filter(discipline_in_force_on(on))
            .order_by_asc(discipline_record::Column::DecisionDate)
            .order_by_asc(discipline_record::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|r| DisciplineInForce {
                form: r.form,
                decision_date: r.decision_date,
                unit_id: r.unit_id,
            })
            .collect())
    }

    /// The member's units over time, oldest first.
    pub async fn member_units(&self, id: Uuid) -> Result<Vec<MembershipPeriod>> {
        Ok(self
            .members_units(&[id])
            .await?
            .remove(&id)
            .unwrap_or_default())
    }

    /// The units over time of each of `ids` (a page of members: one read for all of them, at
    /// most 500 ids a statement), oldest first; a member with none is absent.
    pub async fn members_units(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<MembershipPeriod>>> {
        let mut out: std::collections::HashMap<Uuid, Vec<MembershipPeriod>> =
            std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let rows = member_unit::Entity::find()
                .filter(member_unit::Column::MemberId.is_in(chunk.iter().copied()))
                .order_by_asc(member_unit::Column::MemberId)
                .order_by_asc(member_unit::Column::ValidFrom)
                .order_by_asc(member_unit::Column::Id)
                .all(self.db())
                .await?;
            for m in rows {
                out.entry(m.member_id).or_default().push(MembershipPeriod {
                    unit_id: m.unit_id,
                    valid_from: m.valid_from,
                    valid_to: m.valid_to,
                    reason: m.reason,
                });
            }
        }
        Ok(out)
    }

    /// The member's statuses over time, oldest first.
    pub async fn member_statuses(&self, id: Uuid) -> Result<Vec<StatusPeriod>> {
        Ok(self
            .members_statuses(&[id])
            .await?
            .remove(&id)
            .unwrap_or_default())
    }

    /// The statuses over time of each of `ids` (a page of members: one read for all of them,
    /// at most 500 ids a statement), oldest first; a member with none is absent.
    pub async fn members_statuses(
        &self,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<StatusPeriod>>> {
        let mut out: std::collections::HashMap<Uuid, Vec<StatusPeriod>> =
            std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let rows = member_status::Entity::find()
                .filter(member_status::Column::MemberId.is_in(chunk.iter().copied()))
                .order_by_asc(member_status::Column::MemberId)
                .order_by_asc(member_status::Column::ValidFrom)
                .order_by_asc(member_status::Column::Id)
                .all(self.db())
                .await?;
            for m in rows {
                let status = MemberStatus::parse(&m.status).ok_or_else(|| {
                    StoreError::Database(sea_orm::DbErr::Custom(format!(
                        "member {} has an unknown status {}",
                        m.member_id, m.status
                    )))
                })?;
                out.entry(m.member_id).or_default().push(StatusPeriod {
                    status,
                    valid_from: m.valid_from,
                    valid_to: m.valid_to,
                });
            }
        }
        Ok(out)
    }
}

impl Registry<'_> {
    /// Sets (or clears) member `id`'s e-mail address.
    pub async fn set_member_email(
        &self,
        id: Uuid,
        email: Option<&EmailAddress>,
    ) -> Result<MemberRecord> {
        let m = member::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| StoreError::not_found("member", id))?;
        let mut m: member::ActiveModel = m.into();
        m.email = Set(email.map(ToString::to_string));
        Ok(m.update(self.db()).await?.into())
    }

    /// The address of member `id`, if known.
    pub async fn member_address(&self, id: Uuid) -> Result<Option<String>> {
        Ok(member::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .and_then(|m| m.email))
    }
}
