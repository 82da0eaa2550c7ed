//! The domain's words, typed, each with exactly one Vietnamese and one English label: the
//! levels of the tree (and the levels a role is held at), the bodies that act at them, the
//! forms of discipline, the subjects a case is about, the statuses of a member.
//!
//! Everything that names one of these words to people (refusal reasons, pages, mails, reports,
//! import files) takes the label from here; a test scans the workspace for a label spelled
//! anywhere else. The codes (`as_str`) are the words of the files and the database (definition
//! and rule-set TOML, case data, JSON); the labels are for people. Capitalising a label at the
//! start of a heading ([`capitalised`]) is presentation, not a second label.
//!
//! Case data names levels, bodies and forms as text (a body is `kind@level`, e.g.
//! `standing_committee@superior`), so the `pub(crate)` helpers at the end take codes and fall
//! back to the code itself, marked, for a value the vocabulary does not know.

use serde::{Deserialize, Serialize};

use crate::text::Text;

/// `s` with its first letter in upper case (Vietnamese and English alike).
pub fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// Levels ----------------------------------------------------------------------------------------

/// A level of the organization tree. Ordered from the top: smaller is higher up, so
/// `level <= Level::Superior` reads "at or above the direct superior level".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The Central Committee.
    Central = 0,
    /// Province-level committees.
    Province = 1,
    /// Committees directly under the province (district, town, city, commune, bloc, police,
    /// military).
    Superior = 2,
    /// Grassroots organizations.
    Grassroots = 3,
    /// Branches under a grassroots committee.
    Branch = 4,
}

impl Level {
    /// Every level, from the top down.
    pub const ALL: [Level; 5] = [
        Level::Central,
        Level::Province,
        Level::Superior,
        Level::Grassroots,
        Level::Branch,
    ];

    /// The level's code in case data and rule sets (`branch` … `central`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Central => "central",
            Level::Province => "province",
            Level::Superior => "superior",
            Level::Grassroots => "grassroots",
            Level::Branch => "branch",
        }
    }

    /// Parses a level's code.
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level's rank from the bottom (branch 0 … central 4): bodies and appeals are ranked
    /// along it.
    pub fn rank(self) -> usize {
        Level::Branch as usize - self as usize
    }

    /// The level `up` ranks above this one, if the tree has it.
    pub fn above(self, up: usize) -> Option<Level> {
        let rank = self.rank() + up;
        Level::ALL.into_iter().find(|l| l.rank() == rank)
    }

    /// The party committee at this level.
    pub fn committee(self) -> Text {
        let vi = match self {
            Level::Branch => "chi bộ",
            Level::Grassroots => "đảng ủy cơ sở",
            Level::Superior => "cấp ủy cấp trên trực tiếp của tổ chức cơ sở đảng",
            Level::Province => "cấp ủy cấp tỉnh",
            Level::Central => "Ban Chấp hành Trung ương",
        };
        Text::new(
            vi,
            format!("the party committee at {} level", self.as_str()),
        )
    }
}

/// A level at which a role is held, as definitions name it (`secretary@branch`): a level of the
/// tree, or `competent`, whichever body the rule set makes competent for the case (A10; the
/// shell resolves it). Ordered from the bottom, `competent` between the superior and the
/// province (the order of definition files); [`RoleLevel::from`] is the one mapping from the
/// tree's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleLevel {
    /// Chi bộ (party branch).
    Branch,
    /// Đảng bộ cơ sở (grassroots party organization).
    Grassroots,
    /// The direct superior of the grassroots organization.
    Superior,
    /// Whichever body the rule set makes competent for the case (A10); the shell resolves it.
    Competent,
    /// Province level (cấp ủy trực thuộc Trung ương).
    Province,
    /// Central level.
    Central,
}

impl RoleLevel {
    /// Every level, in definition order.
    pub const ALL: [RoleLevel; 6] = [
        RoleLevel::Branch,
        RoleLevel::Grassroots,
        RoleLevel::Superior,
        RoleLevel::Competent,
        RoleLevel::Province,
        RoleLevel::Central,
    ];

    /// The level's name in definition files.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleLevel::Branch => "branch",
            RoleLevel::Grassroots => "grassroots",
            RoleLevel::Superior => "superior",
            RoleLevel::Competent => "competent",
            RoleLevel::Province => "province",
            RoleLevel::Central => "central",
        }
    }

    /// Parses a level name.
    pub fn parse(s: &str) -> Option<RoleLevel> {
        RoleLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level's label.
    pub fn label(self) -> Text {
        let (vi, en) = self.words();
        Text::new(vi, en)
    }

    /// The level's Vietnamese label.
    pub fn vi(self) -> &'static str {
        self.words().0
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            RoleLevel::Branch => ("chi bộ", "branch"),
            RoleLevel::Grassroots => ("đảng ủy cơ sở", "grassroots"),
            RoleLevel::Superior => ("cấp ủy cấp trên trực tiếp", "direct superior"),
            RoleLevel::Competent => ("cấp ủy có thẩm quyền", "competent committee"),
            RoleLevel::Province => ("cấp tỉnh", "province"),
            RoleLevel::Central => ("Trung ương", "central"),
        }
    }
}

impl From<Level> for RoleLevel {
    /// The tree's level a role held on a unit is held at.
    fn from(l: Level) -> RoleLevel {
        match l {
            Level::Central => RoleLevel::Central,
            Level::Province => RoleLevel::Province,
            Level::Superior => RoleLevel::Superior,
            Level::Grassroots => RoleLevel::Grassroots,
            Level::Branch => RoleLevel::Branch,
        }
    }
}

// Bodies ----------------------------------------------------------------------------------------

/// The kind of a body that acts in a discipline case (D13–D22). Bodies are named
/// `kind@level`: the kind at a level of the tree. Who may decide what is the rule set's
/// jurisdiction table (D13–D20), never code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// Chi bộ.
    Branch,
    /// Chi ủy.
    BranchCommittee,
    /// Đảng ủy bộ phận.
    PartialCommittee,
    /// The party committee (cấp ủy) at a level.
    Committee,
    /// Its standing committee (ban thường vụ).
    StandingCommittee,
    /// Its inspection commission (ủy ban kiểm tra).
    InspectionCommission,
    /// The Secretariat (Ban Bí thư).
    Secretariat,
    /// The Politburo (Bộ Chính trị).
    Politburo,
    /// A committee's advisory departments (cơ quan tham mưu, giúp việc).
    AdvisoryDepartment,
}

impl BodyKind {
    /// Every kind.
    pub const ALL: [BodyKind; 9] = [
        BodyKind::Branch,
        BodyKind::BranchCommittee,
        BodyKind::PartialCommittee,
        BodyKind::Committee,
        BodyKind::StandingCommittee,
        BodyKind::InspectionCommission,
        BodyKind::Secretariat,
        BodyKind::Politburo,
        BodyKind::AdvisoryDepartment,
    ];

    /// The kind's code in case data and rule sets.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyKind::Branch => "branch",
            BodyKind::BranchCommittee => "branch_committee",
            BodyKind::PartialCommittee => "partial_committee",
            BodyKind::Committee => "committee",
            BodyKind::StandingCommittee => "standing_committee",
            BodyKind::InspectionCommission => "inspection_commission",
            BodyKind::Secretariat => "secretariat",
            BodyKind::Politburo => "politburo",
            BodyKind::AdvisoryDepartment => "advisory_department",
        }
    }

    /// Parses a kind's code.
    pub fn parse(s: &str) -> Option<BodyKind> {
        BodyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind's name, as a list of choices shows it (`Ban Thường vụ`, `Standing committee`).
    pub fn label(self) -> Text {
        let (vi, en) = match self {
            BodyKind::Branch => ("Chi bộ", "Branch"),
            BodyKind::BranchCommittee => ("Chi ủy", "Branch committee"),
            BodyKind::PartialCommittee => ("Đảng ủy bộ phận", "Partial committee"),
            BodyKind::Committee => ("Cấp ủy", "Party committee"),
            BodyKind::StandingCommittee => ("Ban Thường vụ", "Standing committee"),
            BodyKind::InspectionCommission => ("Ủy ban Kiểm tra", "Inspection commission"),
            BodyKind::Secretariat => ("Ban Bí thư", "Secretariat"),
            BodyKind::Politburo => ("Bộ Chính trị", "Politburo"),
            BodyKind::AdvisoryDepartment => ("Cơ quan tham mưu, giúp việc", "Advisory department"),
        };
        Text::new(vi, en)
    }

    /// The body of this kind at `level`: `chi bộ`, `ban thường vụ cấp ủy cấp tỉnh`, "the
    /// standing committee at province level".
    pub fn at(self, level: Level) -> Text {
        Text::new(
            body_vi_at(self, level.as_str()),
            body_en_at(self, level.as_str()),
        )
    }
}

fn body_vi_at(kind: BodyKind, level: &str) -> String {
    let committee = committee_vi(level);
    match kind {
        BodyKind::Branch => "chi bộ".into(),
        BodyKind::BranchCommittee => "chi ủy".into(),
        BodyKind::PartialCommittee => "đảng ủy bộ phận".into(),
        BodyKind::Committee => committee,
        BodyKind::StandingCommittee => format!("ban thường vụ {committee}"),
        BodyKind::InspectionCommission if level == Level::Central.as_str() => {
            "Ủy ban Kiểm tra Trung ương".into()
        }
        BodyKind::InspectionCommission => format!("ủy ban kiểm tra {committee}"),
        BodyKind::Secretariat => "Ban Bí thư".into(),
        BodyKind::Politburo => "Bộ Chính trị".into(),
        BodyKind::AdvisoryDepartment => format!("cơ quan tham mưu, giúp việc của {committee}"),
    }
}

fn body_en_at(kind: BodyKind, level: &str) -> String {
    let k = match kind {
        BodyKind::Branch => return "the branch".into(),
        BodyKind::Secretariat => return "the Secretariat".into(),
        BodyKind::Politburo => return "the Politburo".into(),
        BodyKind::BranchCommittee => "branch committee",
        BodyKind::PartialCommittee => "partial committee",
        BodyKind::Committee => "party committee",
        BodyKind::StandingCommittee => "standing committee",
        BodyKind::InspectionCommission => "inspection commission",
        BodyKind::AdvisoryDepartment => "advisory department",
    };
    format!("the {k} at {level} level")
}

// Forms of discipline ---------------------------------------------------------------------------

/// A form of discipline (D1 for organisations, D2 and D3 for members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisciplineForm {
    /// Khiển trách.
    Reprimand,
    /// Cảnh cáo.
    Warning,
    /// Cách chức: removal from a post the member holds.
    Removal,
    /// Khai trừ.
    Expulsion,
    /// Giải tán (an organisation).
    Dissolution,
}

impl DisciplineForm {
    /// Every form, least severe first.
    pub const ALL: [DisciplineForm; 5] = [
        DisciplineForm::Reprimand,
        DisciplineForm::Warning,
        DisciplineForm::Removal,
        DisciplineForm::Expulsion,
        DisciplineForm::Dissolution,
    ];

    /// The form's code in case data and rule sets.
    pub fn as_str(self) -> &'static str {
        match self {
            DisciplineForm::Reprimand => "reprimand",
            DisciplineForm::Warning => "warning",
            DisciplineForm::Removal => "removal",
            DisciplineForm::Expulsion => "expulsion",
            DisciplineForm::Dissolution => "dissolution",
        }
    }

    /// Parses a form's code.
    pub fn parse(s: &str) -> Option<DisciplineForm> {
        DisciplineForm::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The form's label, as a sentence names it (`khiển trách`, `removal from post`).
    pub fn label(self) -> Text {
        let vi = match self {
            DisciplineForm::Reprimand => "khiển trách",
            DisciplineForm::Warning => "cảnh cáo",
            DisciplineForm::Removal => "cách chức",
            DisciplineForm::Expulsion => "khai trừ",
            DisciplineForm::Dissolution => "giải tán",
        };
        let en = match self {
            DisciplineForm::Removal => "removal from post",
            other => other.as_str(),
        };
        Text::new(vi, en)
    }

    /// The label as lists and reports head a line with it (`Khiển trách`, `reprimand`).
    pub fn heading(self) -> Text {
        let label = self.label();
        Text::new(capitalised(&label.vi), label.en)
    }
}

// Subjects --------------------------------------------------------------------------------------

/// What a discipline case is about: a party organisation or a member, and for a member, which
/// membership they hold when the case knows it (D1–D3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A party organisation.
    Organisation,
    /// A member, membership not stated.
    Member,
    /// A probationary member.
    ProbationaryMember,
    /// An official member.
    OfficialMember,
}

impl Subject {
    /// Every subject.
    pub const ALL: [Subject; 4] = [
        Subject::Organisation,
        Subject::Member,
        Subject::ProbationaryMember,
        Subject::OfficialMember,
    ];

    /// The subject of a case from its `subject_kind` (`organisation`, `member`) and its
    /// `membership` (`probationary`, `official`).
    pub fn of(kind: &str, membership: Option<&str>) -> Subject {
        match (kind, membership) {
            ("organisation", _) => Subject::Organisation,
            (_, Some("probationary")) => Subject::ProbationaryMember,
            (_, Some("official")) => Subject::OfficialMember,
            _ => Subject::Member,
        }
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            Subject::Organisation => ("tổ chức đảng", "a party organisation"),
            Subject::Member => ("đảng viên", "a member"),
            Subject::ProbationaryMember => ("đảng viên dự bị", "a probationary member"),
            Subject::OfficialMember => ("đảng viên chính thức", "an official member"),
        }
    }

    /// The subject's label.
    pub fn label(self) -> Text {
        let (vi, en) = self.words();
        Text::new(vi, en)
    }
}

// Member statuses -------------------------------------------------------------------------------

/// A member's status, over time (rule A1 candidate, A13 probation, A14 official, D4 struck off,
/// D2 expulsion). The registry records the statuses of members ([`MemberStatus::ALL`]); a
/// candidate is not a member yet, so only a workflow's effect names [`MemberStatus::Candidate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    /// On the branch's list of candidates for admission (A1): not a member yet.
    Candidate,
    /// Đảng viên dự bị.
    Probationary,
    /// Đảng viên chính thức.
    Official,
    /// Xóa tên.
    StruckOff,
    /// Khai trừ.
    Expelled,
    /// Ra khỏi Đảng (left of their own accord).
    Left,
    /// Từ trần.
    Deceased,
}

impl MemberStatus {
    /// Every status the registry records (a member's; not [`MemberStatus::Candidate`]).
    pub const ALL: [MemberStatus; 6] = [
        MemberStatus::Probationary,
        MemberStatus::Official,
        MemberStatus::StruckOff,
        MemberStatus::Expelled,
        MemberStatus::Left,
        MemberStatus::Deceased,
    ];

    /// The stable code used in storage and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Candidate => "CANDIDATE",
            MemberStatus::Probationary => "PROBATIONARY",
            MemberStatus::Official => "OFFICIAL",
            MemberStatus::StruckOff => "STRUCK_OFF",
            MemberStatus::Expelled => "EXPELLED",
            MemberStatus::Left => "LEFT",
            MemberStatus::Deceased => "DECEASED",
        }
    }

    /// Parses the stable code of a status the registry records.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The statuses a workflow's effect may set (`set_member_status` in definition files).
    pub const SET_BY_WORKFLOWS: [MemberStatus; 4] = [
        MemberStatus::Candidate,
        MemberStatus::Probationary,
        MemberStatus::Official,
        MemberStatus::StruckOff,
    ];

    /// The status's name in definition files and in a decision's effects (`struck_off`).
    pub fn definition_name(self) -> &'static str {
        match self {
            MemberStatus::Candidate => "candidate",
            MemberStatus::Probationary => "probationary",
            MemberStatus::Official => "official",
            MemberStatus::StruckOff => "struck_off",
            MemberStatus::Expelled => "expelled",
            MemberStatus::Left => "left",
            MemberStatus::Deceased => "deceased",
        }
    }

    /// Parses a definition file's status name (one a workflow may set).
    pub fn from_definition_name(s: &str) -> Option<Self> {
        Self::SET_BY_WORKFLOWS
            .into_iter()
            .find(|k| k.definition_name() == s)
    }

    /// Whether a member with this status is still a party member.
    pub fn is_member(self) -> bool {
        matches!(self, MemberStatus::Probationary | MemberStatus::Official)
    }

    /// The status's label.
    pub fn label(self) -> Text {
        let (vi, en) = match self {
            MemberStatus::Candidate => ("Đối tượng kết nạp", "candidate"),
            MemberStatus::Probationary => ("Dự bị", "probationary"),
            MemberStatus::Official => ("Chính thức", "official"),
            MemberStatus::StruckOff => ("Xóa tên", "struck off"),
            MemberStatus::Expelled => ("Khai trừ", "expelled"),
            MemberStatus::Left => ("Ra khỏi Đảng", "left"),
            MemberStatus::Deceased => ("Từ trần", "deceased"),
        };
        Text::new(vi, en)
    }
}

/// The serde form of a status in a decision's effects: its definition name (`struck_off`), as
/// the effects stored with a case have always spelled it.
pub mod definition_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::MemberStatus;

    /// Serializes the status as its definition name.
    pub fn serialize<S: Serializer>(status: &MemberStatus, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(status.definition_name())
    }

    /// Reads a status from its definition name.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<MemberStatus, D::Error> {
        let name = String::deserialize(d)?;
        MemberStatus::from_definition_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown member status `{name}`")))
    }
}

// Hamlets --------------------------------------------------------------------------------------

/// A kind of hamlet or residential group, the places below a commune (Resolution 21's goals:
/// each has party members and a party branch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HamletKind {
    /// Ấp: a hamlet of a rural commune.
    Hamlet,
    /// Khu vực: an area of a ward or town.
    WardArea,
    /// Tổ dân phố: a residential group of a ward or town.
    ResidentialGroup,
}

impl HamletKind {
    /// Every kind.
    pub const ALL: [HamletKind; 3] = [
        HamletKind::Hamlet,
        HamletKind::WardArea,
        HamletKind::ResidentialGroup,
    ];

    /// The stable code used in storage, the API and import files.
    pub fn as_str(self) -> &'static str {
        match self {
            HamletKind::Hamlet => "HAMLET",
            HamletKind::WardArea => "WARD_AREA",
            HamletKind::ResidentialGroup => "RESIDENTIAL_GROUP",
        }
    }

    /// The kind of a code.
    pub fn parse(s: &str) -> Option<HamletKind> {
        HamletKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind's label.
    pub fn label(self) -> Text {
        let (vi, en) = match self {
            HamletKind::Hamlet => ("ấp", "hamlet"),
            HamletKind::WardArea => ("khu vực", "ward area"),
            HamletKind::ResidentialGroup => ("tổ dân phố", "residential group"),
        };
        Text::new(vi, en)
    }
}

// Codes as case data holds them -----------------------------------------------------------------

/// The rank from the bottom of the level coded `level`.
pub(crate) fn level_rank(level: &str) -> Option<usize> {
    Level::parse(level).map(Level::rank)
}

/// The party committee at the level coded `level`, in Vietnamese.
pub(crate) fn committee_vi(level: &str) -> String {
    match Level::parse(level) {
        Some(l) => l.committee().vi,
        None => format!("cấp ủy «{level}»"),
    }
}

/// The name of a body (`kind` at `level`) in both languages, for pages and mails.
pub fn body_label(kind: &str, level: &str) -> Text {
    Text::new(body_vi(kind, level), body_en(kind, level))
}

pub(crate) fn body_vi(kind: &str, level: &str) -> String {
    match BodyKind::parse(kind) {
        Some(k) => body_vi_at(k, level),
        None => format!("«{kind}@{level}»"),
    }
}

pub(crate) fn body_en(kind: &str, level: &str) -> String {
    match BodyKind::parse(kind) {
        Some(k) => body_en_at(k, level),
        None => format!("the {kind} at {level} level"),
    }
}

/// `kind@level` in both languages.
pub(crate) fn named_body(spec: &str) -> (String, String) {
    match spec.split_once('@') {
        Some((kind, level)) => (body_vi(kind, level), body_en(kind, level)),
        None => (format!("«{spec}»"), format!("`{spec}`")),
    }
}

/// The form coded `code`, as a Vietnamese sentence names it.
pub(crate) fn form_vi(code: &str) -> String {
    match DisciplineForm::parse(code) {
        Some(f) => f.label().vi,
        None => format!("«{code}»"),
    }
}

/// The form coded `code`, as an English sentence names it.
pub(crate) fn form_en(code: &str) -> String {
    match DisciplineForm::parse(code) {
        Some(f) => f.label().en,
        None => format!("`{code}`"),
    }
}

/// The subject of a case, in Vietnamese.
pub(crate) fn subject_vi(subject: &str, membership: Option<&str>) -> &'static str {
    Subject::of(subject, membership).words().0
}

/// The subject of a case, in English.
pub(crate) fn subject_en(subject: &str, membership: Option<&str>) -> &'static str {
    Subject::of(subject, membership).words().1
}

/// Resolves a jurisdiction entry's level: absolute, or relative to the disciplined
/// organisation's level (`direct_superior`, `second_superior`, D19, D20).
pub(crate) fn entry_level(token: &str, subject_level: Option<&str>) -> Option<&'static str> {
    let up = match token {
        "direct_superior" => 1,
        "second_superior" => 2,
        _ => return Level::parse(token).map(Level::as_str),
    };
    Level::parse(subject_level?)?.above(up).map(Level::as_str)
}

#[cfg(test)]
mod tests;
