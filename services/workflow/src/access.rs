//! Who may do what: roles held at a unit of the organization tree (and so over its subtree),
//! the permissions each role carries, and the workflow roles a holder has on a case.
//!
//! Pure: the shell resolves the tree (a unit's path to the root on a date) and the rule set
//! in force, and asks this module. The permission table is the one place that says which
//! role may read or change what (docs/security.md prints it); which role may fire which
//! transition stays in the workflow definitions, and this module only translates a grant held
//! at a unit into the `role@level` the definitions speak of, for one case.

use std::fmt;

use crate::engine::RoleRef;
use crate::text::Text;
use crate::tree::UnitKind;
use crate::vocab::{BodyKind, Level, RoleLevel};

/// A role an account can be granted, at a unit (and its subtree) or everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Branch secretary (bí thư), or the secretary of the committee at the unit.
    Secretary,
    /// Member of a branch committee (chi ủy viên).
    BranchCommittee,
    /// The executive committee of a grassroots organization (đảng ủy cơ sở).
    ExecutiveCommittee,
    /// A standing committee (ban thường vụ).
    StandingCommittee,
    /// A party committee as a whole (cấp ủy, ban chấp hành).
    Committee,
    /// An inspection commission (ủy ban kiểm tra): from the grassroots committee up (D22).
    InspectionCommission,
    /// The Secretariat (Ban Bí thư): central only.
    Secretariat,
    /// Organization-department staff (ban tổ chức): read and report on their subtree, keep
    /// the tree and the member registry.
    OrganizationDepartment,
    /// Auditor: reads everything in scope, history and access log included; changes nothing.
    Auditor,
    /// Administrator: accounts, configuration, the mail queue and case migrations; never a
    /// case decision and no member data.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 10] = [
        Role::Secretary,
        Role::BranchCommittee,
        Role::ExecutiveCommittee,
        Role::StandingCommittee,
        Role::Committee,
        Role::InspectionCommission,
        Role::Secretariat,
        Role::OrganizationDepartment,
        Role::Auditor,
        Role::Admin,
    ];

    /// The role's name in storage, on the command line and in workflow definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Secretary => "secretary",
            Role::BranchCommittee => "branch_committee",
            Role::ExecutiveCommittee => "executive_committee",
            Role::StandingCommittee => "standing_committee",
            Role::Committee => "committee",
            Role::InspectionCommission => "inspection_commission",
            Role::Secretariat => "secretariat",
            Role::OrganizationDepartment => "organization_department",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// The role's name for people.
    pub fn label(self) -> Text {
        // The roles that speak for a body are named as the body is.
        match self {
            Role::StandingCommittee => BodyKind::StandingCommittee.label(),
            Role::Committee => BodyKind::Committee.label(),
            Role::InspectionCommission => BodyKind::InspectionCommission.label(),
            Role::Secretariat => BodyKind::Secretariat.label(),
            Role::Secretary => Text::new("Bí thư", "Secretary"),
            Role::BranchCommittee => Text::new("Chi ủy viên", "Branch committee member"),
            Role::ExecutiveCommittee => Text::new("Đảng ủy cơ sở", "Grassroots committee"),
            Role::OrganizationDepartment => Text::new("Ban Tổ chức", "Organization department"),
            Role::Auditor => Text::new("Kiểm toán, thanh tra", "Auditor"),
            Role::Admin => Text::new("Quản trị hệ thống", "Administrator"),
        }
    }

    /// Parses a role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role takes part in workflows (fires transitions, under its own name).
    pub fn acts_in_workflows(self) -> bool {
        !matches!(
            self,
            Role::OrganizationDepartment | Role::Auditor | Role::Admin
        )
    }

    /// Whether the role carries `p`: the permission table.
    pub fn has(self, p: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match p {
            P::ReadTree => true,
            P::EditTree => matches!(self, R::OrganizationDepartment | R::Admin),
            P::ReadMembers | P::ReadReports => self != R::Admin,
            P::RegisterMembers => matches!(self, R::Secretary | R::OrganizationDepartment),
            P::ReadCases => {
                self.acts_in_workflows() || matches!(self, R::OrganizationDepartment | R::Auditor)
            }
            P::ReadConfidentialCases => self.acts_in_workflows() || self == R::Auditor,
            P::ReadAccessLog => matches!(self, R::Auditor | R::InspectionCommission),
            P::ReadOutbox => matches!(self, R::Admin | R::Auditor),
            P::KeepDisciplineRegister => matches!(
                self,
                R::InspectionCommission
                    | R::ExecutiveCommittee
                    | R::StandingCommittee
                    | R::Committee
                    | R::Secretariat
            ),
            P::Administer => self == R::Admin,
        }
    }

    /// Whether the role can be held at a unit of `kind` (`Err` says why not).
    pub fn check_unit(self, kind: UnitKind) -> Result<(), Text> {
        let level = kind.level();
        let ok = match self {
            Role::Secretary | Role::Committee | Role::Auditor | Role::Admin => true,
            Role::BranchCommittee => kind.holds_members(),
            Role::ExecutiveCommittee => level == Level::Grassroots,
            Role::StandingCommittee => {
                level <= Level::Superior || kind == UnitKind::GrassrootsCommittee
            }
            // D22: an inspection commission exists from the grassroots committee up.
            Role::InspectionCommission => {
                level <= Level::Superior || kind == UnitKind::GrassrootsCommittee
            }
            Role::Secretariat => kind == UnitKind::Central,
            Role::OrganizationDepartment => level <= Level::Superior,
        };
        if ok {
            Ok(())
        } else {
            let k = kind.label();
            Err(Text::new(
                format!("Vai trò `{self}` không có ở {} (D22 và Điều lệ).", k.vi),
                format!(
                    "The role `{self}` does not exist at a {} (D22 and the Charter).",
                    k.en
                ),
            ))
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request may need, checked against the roles held over the unit concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read the tree's structure (units, their names and links).
    ReadTree,
    /// Create, move, merge and dissolve units.
    EditTree,
    /// Read member records and member counts.
    ReadMembers,
    /// Register members (imports).
    RegisterMembers,
    /// Read cases that are not confidential (admission, removal).
    ReadCases,
    /// Read disciplinary cases (confidential workflows).
    ReadConfidentialCases,
    /// Read who looked at a disciplinary case.
    ReadAccessLog,
    /// Read target reports and statistics.
    ReadReports,
    /// Read the mail queue.
    ReadOutbox,
    /// Import and export the discipline register (confidential): the inspection
    /// commissions and the committees that decide discipline, not a branch's secretary.
    KeepDisciplineRegister,
    /// Requeue mail, migrate cases to new workflow versions.
    Administer,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 11] = [
        Permission::ReadTree,
        Permission::EditTree,
        Permission::ReadMembers,
        Permission::RegisterMembers,
        Permission::ReadCases,
        Permission::ReadConfidentialCases,
        Permission::ReadAccessLog,
        Permission::ReadReports,
        Permission::ReadOutbox,
        Permission::KeepDisciplineRegister,
        Permission::Administer,
    ];

    /// What the permission allows, for a refusal.
    pub fn label(self) -> Text {
        let (vi, en) = match self {
            Permission::ReadTree => ("xem cơ cấu tổ chức", "read the organization tree"),
            Permission::EditTree => ("thay đổi cơ cấu tổ chức", "change the organization tree"),
            Permission::ReadMembers => ("xem hồ sơ đảng viên", "read member records"),
            Permission::RegisterMembers => ("đăng ký đảng viên", "register members"),
            Permission::ReadCases => ("xem hồ sơ công việc", "read cases"),
            Permission::ReadConfidentialCases => (
                "xem hồ sơ kỷ luật (mật)",
                "read disciplinary cases (confidential)",
            ),
            Permission::ReadAccessLog => ("xem nhật ký truy cập", "read the access log"),
            Permission::ReadReports => ("xem báo cáo, thống kê", "read reports and statistics"),
            Permission::ReadOutbox => ("xem hàng đợi thư", "read the mail queue"),
            Permission::KeepDisciplineRegister => (
                "nhập, xuất sổ kỷ luật đảng viên (mật)",
                "import and export the discipline register (confidential)",
            ),
            Permission::Administer => ("quản trị hệ thống", "administer the system"),
        };
        Text::new(vi, en)
    }
}

/// A role held at a unit and every unit below it, or everywhere (`unit: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant<U> {
    /// The role.
    pub role: Role,
    /// Where it is held.
    pub unit: Option<U>,
}

impl<U: PartialEq> Grant<U> {
    /// Whether the grant reaches the unit whose path to the root is `path` (the unit first).
    pub fn covers(&self, path: &[U]) -> bool {
        self.unit.as_ref().is_none_or(|u| path.contains(u))
    }
}

/// Whether some grant carries `p` over the unit whose path to the root is `path`.
pub fn allows<U: PartialEq>(grants: &[Grant<U>], p: Permission, path: &[U]) -> bool {
    grants.iter().any(|g| g.role.has(p) && g.covers(path))
}

/// Whether some grant carries `p` somewhere (for permissions that are not about a unit, or
/// to tell `FORBIDDEN` from an empty list).
pub fn allows_somewhere<U>(grants: &[Grant<U>], p: Permission) -> bool {
    grants.iter().any(|g| g.role.has(p))
}

/// The part of the tree where a permission holds: the filter of every list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope<U> {
    /// Every unit.
    Everywhere,
    /// These units and their subtrees (empty: nowhere).
    Subtrees(Vec<U>),
}

/// Where `p` holds for `grants`.
pub fn scope<U: Clone + PartialEq>(grants: &[Grant<U>], p: Permission) -> Scope<U> {
    let mut roots: Vec<U> = Vec::new();
    for g in grants.iter().filter(|g| g.role.has(p)) {
        match &g.unit {
            None => return Scope::Everywhere,
            Some(u) if !roots.contains(u) => roots.push(u.clone()),
            Some(_) => {}
        }
    }
    Scope::Subtrees(roots)
}

/// Which unit the rule set makes competent to decide admission and recognition (A10), read
/// from the parameter `A10.competent_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompetentLevel {
    /// The direct superior of the grassroots organization (formerly the district; from
    /// 1/7/2025 the commune or ward committee, or the province where the grassroots
    /// organization sits directly under it).
    Superior,
    /// The province-level committee.
    Province,
}

/// The parameter that names the competent level.
pub const COMPETENT_LEVEL_PARAM: &str = "A10.competent_level";

impl CompetentLevel {
    /// Parses the parameter's value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "superior" => Some(CompetentLevel::Superior),
            "province" => Some(CompetentLevel::Province),
            _ => None,
        }
    }

    /// The level of the tree it names, as roles are held at it.
    pub fn role_level(self) -> RoleLevel {
        match self {
            CompetentLevel::Superior => RoleLevel::Superior,
            CompetentLevel::Province => RoleLevel::Province,
        }
    }
}

/// One unit of a path to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathUnit<U> {
    /// The unit.
    pub id: U,
    /// Its kind.
    pub kind: UnitKind,
}

/// The levels a unit on the path of a case's unit stands at, for that case: its own level,
/// `branch` for the case's own unit when it holds members (a grassroots branch is both), and
/// `competent` for the unit the rule set makes competent (A10).
pub fn levels_on_path<U: PartialEq>(
    path: &[PathUnit<U>],
    unit: &U,
    competent: CompetentLevel,
) -> Vec<RoleLevel> {
    let Some(pos) = path.iter().position(|p| &p.id == unit) else {
        return Vec::new();
    };
    let here = &path[pos];
    let mut out = vec![RoleLevel::from(here.kind.level())];
    if pos == 0 && here.kind.holds_members() && !out.contains(&RoleLevel::Branch) {
        out.push(RoleLevel::Branch);
    }
    if competent_index(path, competent) == Some(pos) {
        out.push(RoleLevel::Competent);
    }
    out
}

/// The position on `path` of the competent unit.
fn competent_index<U>(path: &[PathUnit<U>], competent: CompetentLevel) -> Option<usize> {
    match competent {
        CompetentLevel::Superior => {
            let g = path
                .iter()
                .position(|p| p.kind.level() == Level::Grassroots)?;
            (g + 1 < path.len()).then_some(g + 1)
        }
        CompetentLevel::Province => path.iter().position(|p| p.kind == UnitKind::Province),
    }
}

/// The workflow roles `grants` give on a case of the unit whose path is `path` (the case's
/// unit first). A role held everywhere is held at every level. The member a case is about
/// (`is_subject`) is a party to it: they act only as `member` (their own appeal), never in
/// another role, whatever they hold.
pub fn case_roles<U: PartialEq>(
    grants: &[Grant<U>],
    path: &[PathUnit<U>],
    competent: CompetentLevel,
    is_subject: bool,
) -> Vec<RoleRef> {
    if is_subject {
        return vec![RoleRef::anywhere("member")];
    }
    let mut out: Vec<RoleRef> = Vec::new();
    for g in grants.iter().filter(|g| g.role.acts_in_workflows()) {
        let levels = match &g.unit {
            None => RoleLevel::ALL.to_vec(),
            Some(u) => levels_on_path(path, u, competent),
        };
        for l in levels {
            let r = RoleRef::at(g.role.as_str(), l);
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// The competent level in rule set `set` (the direct superior when the set has none; the
/// configuration check refuses a value that does not parse).
pub fn competent_level(set: Option<&crate::engine::RuleSet>) -> CompetentLevel {
    set.and_then(|s| s.text(COMPETENT_LEVEL_PARAM).ok())
        .and_then(CompetentLevel::parse)
        .unwrap_or(CompetentLevel::Superior)
}
