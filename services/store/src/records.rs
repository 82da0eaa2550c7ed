//! The store's own records: what queries return, independent of the database entities.

use chrono::{DateTime, NaiveDate, Utc};
use memberflow_workflow::tree::{MemberStatus, UnitFacts, UnitKind};
use uuid::Uuid;

use crate::entity;
use crate::error::{Result, StoreError};

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRecord {
    /// Identifier.
    pub id: Uuid,
    /// Unique code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// For branches, the report's category (hamlet, commune sector, ...).
    pub branch_category: Option<String>,
    /// First day of existence.
    pub valid_from: NaiveDate,
    /// First day it no longer exists.
    pub valid_to: Option<NaiveDate>,
    /// The unit it was merged into.
    pub successor_id: Option<Uuid>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

impl UnitRecord {
    /// The facts the core's checks need.
    pub fn facts(&self) -> UnitFacts {
        UnitFacts {
            code: self.code.clone(),
            kind: self.kind,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
        }
    }
}

impl TryFrom<entity::unit::Model> for UnitRecord {
    type Error = StoreError;
    fn try_from(m: entity::unit::Model) -> Result<Self> {
        let kind = UnitKind::parse(&m.kind).ok_or_else(|| {
            StoreError::Database(sea_orm::DbErr::Custom(format!(
                "unit {} has an unknown kind {}",
                m.id, m.kind
            )))
        })?;
        Ok(Self {
            id: m.id,
            code: m.code,
            name: m.name,
            kind,
            branch_category: m.branch_category,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            successor_id: m.successor_id,
            created_at: m.created_at,
        })
    }
}

/// A unit in a tree as it stood on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    /// The unit.
    pub unit: UnitRecord,
    /// Its parent on that date, if any.
    pub parent_id: Option<Uuid>,
    /// Distance from the root of the subtree asked for (0 for the root).
    pub depth: u32,
}

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// Identifier.
    pub id: Uuid,
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// `MALE` or `FEMALE`.
    pub sex: String,
    /// Ethnicity (Kinh, Khmer, Hoa, ...).
    pub ethnicity: String,
    /// Religion, if any.
    pub religion: Option<String>,
    /// Schooling level.
    pub education: String,
    /// Occupation group.
    pub occupation: Option<String>,
    /// Date written in the admission decision (A15: party age counts from it).
    pub admission_decision_date: Option<NaiveDate>,
    /// Ceremony date (A13: probation starts then).
    pub ceremony_date: Option<NaiveDate>,
    /// Official date (A14: ceremony + 12 months).
    pub official_date: Option<NaiveDate>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// E-mail address, if known.
    pub email: Option<String>,
    /// Party card number (số thẻ đảng viên), unique when known.
    pub party_card_number: Option<String>,
}

impl From<entity::member::Model> for MemberRecord {
    fn from(m: entity::member::Model) -> Self {
        Self {
            id: m.id,
            full_name: m.full_name,
            date_of_birth: m.date_of_birth,
            sex: m.sex,
            ethnicity: m.ethnicity,
            religion: m.religion,
            education: m.education,
            occupation: m.occupation,
            admission_decision_date: m.admission_decision_date,
            ceremony_date: m.ceremony_date,
            official_date: m.official_date,
            created_at: m.created_at,
            email: m.email,
            party_card_number: m.party_card_number,
        }
    }
}

/// A member's unit over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipPeriod {
    /// The unit.
    pub unit_id: Uuid,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
    /// Why the period began (`REGISTERED`, `MERGED`, ...).
    pub reason: String,
}

/// A member's status over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPeriod {
    /// The status.
    pub status: MemberStatus,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
}
