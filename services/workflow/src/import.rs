//! Import files read into typed records: the pure half of `memberflow import` (docs/import.md).
//!
//! The shell decodes a file (CSV or XLSX) into [`Sheet`]s of [`Cell`]s; this module finds the
//! columns by their headers, parses every cell (dates as `YYYY-MM-DD`, `dd/mm/yyyy` or Excel
//! serial numbers; codes from closed lists; histories), applies the registration rules that
//! need nothing but the row (A13–A15 through [`crate::tree::check_admission_dates`]) and the
//! rules within the file (duplicate natural keys), and reports **every** problem at once with
//! its sheet, row, column and a reason in Vietnamese and English. What needs the database
//! (unknown unit codes, the tree on a date, history already recorded) is the store's part.
//!
//! Histories are written in one cell: periods separated by `;`, each `DATE VALUE [REASON]`,
//! a period ending where the next begins; `DATE -` ends the last one (and leaves a gap when
//! another follows). `2004-01-01 HG-VT-1; 2019-07-15 HG-VT-2 MERGED; 2021-05-05 -`.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};

use crate::access::Role;
use crate::engine::DisciplineStatus;
use crate::hamlet::HamletKind;
use crate::text::Text;
use crate::tree::{self, AdmissionDates, MemberStatus, UnitKind};
use crate::vocab::{BodyKind, DisciplineForm, Level, RoleLevel};

/// One cell as a spreadsheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text (every CSV cell).
    Text(String),
    /// A number (Excel stores dates as serial numbers when the cell is not formatted).
    Number(f64),
    /// A date (a date-formatted XLSX cell).
    Date(NaiveDate),
    /// A boolean.
    Bool(bool),
}

impl Cell {
    /// The cell as text: numbers without a fractional part print as integers (a card number
    /// typed into Excel becomes a number).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_owned(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Bool(b) => b.to_string(),
        }
    }

    /// Whether the cell holds nothing but spaces.
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A sheet: its name and its rows, the first being the headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    /// The sheet's name (for a CSV file, the file's name).
    pub name: String,
    /// Rows of cells; row 0 holds the headers.
    pub rows: Vec<Vec<Cell>>,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The organization tree.
    Units,
    /// The member registry.
    Members,
    /// The holders of roles at units, with their accounts' addresses.
    RoleHolders,
    /// Party badges awarded to members (A30–A33).
    Badges,
    /// The register of hamlets and residential groups, with their branches over time.
    Hamlets,
    /// The discipline register: the disciplines decided against members, with their status.
    Discipline,
}

impl Kind {
    /// Every kind, in the order a whole workbook holds them (the template, an export).
    pub const ALL: [Kind; 6] = [
        Kind::Units,
        Kind::Hamlets,
        Kind::Members,
        Kind::RoleHolders,
        Kind::Badges,
        Kind::Discipline,
    ];

    /// The kind's code on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Units => "units",
            Kind::Members => "members",
            Kind::RoleHolders => "role-holders",
            Kind::Badges => "badges",
            Kind::Hamlets => "hamlets",
            Kind::Discipline => "discipline",
        }
    }

    /// The sheet name the templates and exports use.
    pub fn sheet_name(self) -> &'static str {
        match self {
            Kind::Units => "Đơn vị",
            Kind::Members => "Đảng viên",
            Kind::RoleHolders => "Người giữ vai trò",
            Kind::Badges => "Huy hiệu Đảng",
            Kind::Hamlets => "Ấp, khu vực, tổ dân phố",
            Kind::Discipline => "Kỷ luật đảng viên",
        }
    }

    /// The columns of the kind's template, in order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Units => UNIT_COLUMNS,
            Kind::Members => MEMBER_COLUMNS,
            Kind::RoleHolders => ROLE_COLUMNS,
            Kind::Badges => BADGE_COLUMNS,
            Kind::Hamlets => HAMLET_COLUMNS,
            Kind::Discipline => DISCIPLINE_COLUMNS,
        }
    }
}

/// A problem found in a file, located as the person who fixes it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The sheet.
    pub sheet: String,
    /// The row as the spreadsheet numbers it (the headers are row 1); 0 for the whole file
    /// or sheet.
    pub row: usize,
    /// The column's header, when one column is at fault.
    pub column: Option<String>,
    /// A stable code (docs/import.md).
    pub code: &'static str,
    /// Why, in Vietnamese and English.
    pub reason: Text,
}

/// A column of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The field it fills.
    pub key: &'static str,
    /// Its Vietnamese header (what the templates and exports write).
    pub vi: &'static str,
    /// Its English header (also accepted on import).
    pub en: &'static str,
    /// Whether every row must fill it.
    pub required: bool,
    /// What to write in it, in Vietnamese.
    pub help_vi: &'static str,
    /// What to write in it, in English.
    pub help_en: &'static str,
}

const fn col(
    key: &'static str,
    vi: &'static str,
    en: &'static str,
    required: bool,
    help_vi: &'static str,
    help_en: &'static str,
) -> Column {
    Column {
        key,
        vi,
        en,
        required,
        help_vi,
        help_en,
    }
}

/// The units template.
pub const UNIT_COLUMNS: &[Column] = &[
    col(
        "code",
        "Mã đơn vị",
        "Unit code",
        true,
        "Mã duy nhất của tổ chức đảng, ví dụ HG-VT-1.",
        "The unit's unique code, e.g. HG-VT-1.",
    ),
    col(
        "name",
        "Tên đơn vị",
        "Name",
        true,
        "Tên đầy đủ, có dấu.",
        "Full name, with diacritics.",
    ),
    col(
        "kind",
        "Loại",
        "Kind",
        true,
        "Mã loại (PROVINCE, DISTRICT, CITY, TOWN, COMMUNE, BLOC, POLICE, MILITARY, GRASSROOTS_COMMITTEE, GRASSROOTS_BRANCH, BRANCH, CENTRAL) hoặc tên loại (Chi bộ cơ sở, ...).",
        "The kind's code (PROVINCE, DISTRICT, ..., BRANCH, CENTRAL) or its Vietnamese name.",
    ),
    col(
        "branch_category",
        "Phân loại chi bộ",
        "Branch category",
        false,
        "Với chi bộ: HAMLET, COMMUNE_SECTOR, DISTRICT_SECTOR, PROVINCE_SECTOR; để trống nếu không có.",
        "For branches: HAMLET, COMMUNE_SECTOR, DISTRICT_SECTOR, PROVINCE_SECTOR; empty otherwise.",
    ),
    col(
        "valid_from",
        "Từ ngày",
        "Valid from",
        true,
        "Ngày thành lập: YYYY-MM-DD, dd/mm/yyyy hoặc ô ngày của Excel.",
        "First day: YYYY-MM-DD, dd/mm/yyyy or an Excel date cell.",
    ),
    col(
        "valid_to",
        "Đến ngày",
        "Valid to",
        false,
        "Ngày đầu tiên đơn vị không còn (giải thể, hợp nhất); để trống nếu còn hoạt động.",
        "The first day the unit no longer exists (dissolved, merged); empty while it exists.",
    ),
    col(
        "parent",
        "Đơn vị cấp trên",
        "Parent",
        false,
        "Mã đơn vị cấp trên; nếu đã đổi cấp trên: lịch sử «YYYY-MM-DD MÃ; YYYY-MM-DD MÃ». Để trống cho đơn vị gốc.",
        "The parent's code; when it changed: a history `YYYY-MM-DD CODE; YYYY-MM-DD CODE`. Empty for a root.",
    ),
    col(
        "successor",
        "Hợp nhất vào",
        "Merged into",
        false,
        "Mã đơn vị đã tiếp nhận đơn vị này khi hợp nhất (cần «Đến ngày»).",
        "The code of the unit this one was merged into (needs `Valid to`).",
    ),
];

/// The members template.
pub const MEMBER_COLUMNS: &[Column] = &[
    col(
        "card",
        "Số thẻ đảng viên",
        "Party card number",
        true,
        "Số thẻ đảng viên, duy nhất; định dạng ô là văn bản để giữ số 0 ở đầu.",
        "The party card number, unique; format the cells as text to keep leading zeros.",
    ),
    col(
        "full_name",
        "Họ và tên",
        "Full name",
        true,
        "Họ và tên đầy đủ, có dấu.",
        "Full name, with diacritics.",
    ),
    col(
        "date_of_birth",
        "Ngày sinh",
        "Date of birth",
        true,
        "YYYY-MM-DD, dd/mm/yyyy hoặc ô ngày của Excel.",
        "YYYY-MM-DD, dd/mm/yyyy or an Excel date cell.",
    ),
    col(
        "sex",
        "Giới tính",
        "Sex",
        true,
        "Nam hoặc Nữ (MALE, FEMALE).",
        "Nam or Nữ (MALE, FEMALE).",
    ),
    col(
        "ethnicity",
        "Dân tộc",
        "Ethnicity",
        true,
        "Tên dân tộc: Kinh, Khmer, Hoa, ...",
        "The ethnic group: Kinh, Khmer, Hoa, ...",
    ),
    col(
        "religion",
        "Tôn giáo",
        "Religion",
        false,
        "Để trống nếu không theo tôn giáo.",
        "Empty for none.",
    ),
    col(
        "education",
        "Trình độ học vấn",
        "Schooling",
        false,
        "PRIMARY (Tiểu học), LOWER_SECONDARY (Trung học cơ sở), UPPER_SECONDARY (Trung học phổ thông); để trống nếu chưa ghi.",
        "PRIMARY, LOWER_SECONDARY, UPPER_SECONDARY (or the Vietnamese names); empty when not recorded.",
    ),
    col(
        "occupation",
        "Nghề nghiệp",
        "Occupation",
        false,
        "Mã nhóm nghề nghiệp (STUDENT, RETIRED, FARMER, ARMED_FORCES, OTHER, ...).",
        "The occupation group's code (STUDENT, RETIRED, FARMER, ARMED_FORCES, OTHER, ...).",
    ),
    col(
        "admission_decision",
        "Ngày quyết định kết nạp",
        "Admission decision date",
        false,
        "Ngày ghi trong quyết định kết nạp: tuổi đảng tính từ ngày này (A15).",
        "The date in the admission decision: party age counts from it (A15).",
    ),
    col(
        "ceremony",
        "Ngày lễ kết nạp",
        "Ceremony date",
        false,
        "Ngày tổ chức lễ kết nạp: bắt đầu 12 tháng dự bị (A13).",
        "The admission ceremony: probation starts then (A13).",
    ),
    col(
        "official",
        "Ngày công nhận chính thức",
        "Official date",
        false,
        "Ngày lễ kết nạp cộng 12 tháng (A14).",
        "The ceremony plus 12 months (A14).",
    ),
    col(
        "unit",
        "Chi bộ",
        "Branch",
        false,
        "Mã chi bộ đảng viên sinh hoạt (bắt buộc khi không ghi lịch sử sinh hoạt).",
        "The code of the member's branch (required without a unit history).",
    ),
    col(
        "unit_since",
        "Sinh hoạt từ ngày",
        "In the branch since",
        false,
        "Ngày bắt đầu sinh hoạt tại chi bộ (bắt buộc khi không ghi lịch sử sinh hoạt).",
        "Since when the member belongs to the branch (required without a unit history).",
    ),
    col(
        "status",
        "Tình trạng",
        "Status",
        false,
        "PROBATIONARY (Dự bị), OFFICIAL (Chính thức), STRUCK_OFF (Xóa tên), EXPELLED (Khai trừ), LEFT (Ra khỏi Đảng), DECEASED (Từ trần) (bắt buộc khi không ghi lịch sử tình trạng).",
        "PROBATIONARY, OFFICIAL, STRUCK_OFF, EXPELLED, LEFT, DECEASED or the Vietnamese names (required without a status history).",
    ),
    col(
        "unit_history",
        "Lịch sử sinh hoạt",
        "Unit history",
        false,
        "Tùy chọn: «YYYY-MM-DD MÃ [LÝ DO]; ...; YYYY-MM-DD -». Lý do: REGISTERED, ADMITTED, TRANSFERRED, MERGED, RESTORED.",
        "Optional: `YYYY-MM-DD CODE [REASON]; ...; YYYY-MM-DD -`. Reasons: REGISTERED, ADMITTED, TRANSFERRED, MERGED, RESTORED.",
    ),
    col(
        "status_history",
        "Lịch sử tình trạng",
        "Status history",
        false,
        "Tùy chọn: «YYYY-MM-DD TÌNH_TRẠNG; ...».",
        "Optional: `YYYY-MM-DD STATUS; ...`.",
    ),
    col(
        "email",
        "Thư điện tử",
        "E-mail",
        false,
        "Địa chỉ nhận nhắc việc về hồ sơ của chính đảng viên.",
        "Where reminders about the member's own cases go.",
    ),
    col(
        "residence_history",
        "Lịch sử cư trú",
        "Residence history",
        false,
        "Tùy chọn: ấp, khu vực, tổ dân phố nơi đảng viên cư trú «YYYY-MM-DD MÃ_ẤP [LÝ DO]; ...; YYYY-MM-DD -». Lý do: SET, MERGED.",
        "Optional: the hamlets the member lived in, `YYYY-MM-DD HAMLET_CODE [REASON]; ...; YYYY-MM-DD -`. Reasons: SET, MERGED.",
    ),
];

/// The role holders template: who holds which role at which unit, from when, and where
/// the mail for the role reaches them.
pub const ROLE_COLUMNS: &[Column] = &[
    col(
        "login",
        "Tên đăng nhập",
        "Login name",
        true,
        "Tên đăng nhập của tài khoản, không có khoảng trắng: tài khoản chưa có thì được tạo (chưa có mật khẩu).",
        "The account's login name, no spaces: an account not recorded is created (without a password).",
    ),
    col(
        "role",
        "Vai trò",
        "Role",
        true,
        "Mã vai trò (secretary, branch_committee, executive_committee, standing_committee, committee, inspection_commission, secretariat, organization_department, auditor, admin) hoặc tên vai trò.",
        "The role's code (secretary, branch_committee, executive_committee, standing_committee, committee, inspection_commission, secretariat, organization_department, auditor, admin) or its Vietnamese name.",
    ),
    col(
        "unit",
        "Mã đơn vị",
        "Unit code",
        false,
        "Mã đơn vị nơi giữ vai trò (và các đơn vị trực thuộc); để trống cho vai trò toàn hệ thống.",
        "The code of the unit where the role is held (with its subtree); empty for a role everywhere.",
    ),
    col(
        "card",
        "Số thẻ đảng viên",
        "Party card number",
        false,
        "Số thẻ của đảng viên sở hữu tài khoản; để trống nếu không phải đảng viên.",
        "The card number of the member the account belongs to; empty otherwise.",
    ),
    col(
        "email",
        "Thư điện tử",
        "E-mail",
        false,
        "Địa chỉ nhận thư gửi vai trò; để trống thì giữ địa chỉ đã ghi.",
        "Where the mail for the role goes; empty keeps the address recorded.",
    ),
    col(
        "from",
        "Từ ngày",
        "From",
        true,
        "Ngày bắt đầu giữ vai trò (không sau hôm nay).",
        "The first day the role is held (not after today).",
    ),
    col(
        "to",
        "Đến ngày",
        "Until",
        false,
        "Ngày thôi giữ vai trò (không sau hôm nay); để trống nếu còn giữ.",
        "The day the role ends (not after today); empty while it is held.",
    ),
];

/// The party badges template: which badge a member received, and when.
pub const BADGE_COLUMNS: &[Column] = &[
    col(
        "card",
        "Số thẻ đảng viên",
        "Party card number",
        true,
        "Số thẻ của đảng viên được tặng (đã ghi, hoặc một dòng đảng viên của cùng tệp).",
        "The card number of the member awarded (recorded, or a member row of the same file).",
    ),
    col(
        "years",
        "Số năm tuổi Đảng",
        "Years of party age",
        true,
        "Huy hiệu bao nhiêu năm tuổi Đảng: 30, 40, 45, 50, ... (theo bộ quy tắc có hiệu lực vào ngày trao, A30).",
        "The badge's years of party age: 30, 40, 45, 50, ... (as the rule set in force on the day lists them, A30).",
    ),
    col(
        "award_date",
        "Ngày trao",
        "Award date",
        true,
        "Ngày trao huy hiệu (không sau hôm nay): đảng viên chính thức, đủ tuổi Đảng vào ngày đó (A15, A33).",
        "The day the badge was awarded (not after today): an official member with the party age by then (A15, A33).",
    ),
];

/// The hamlets template: the register of hamlets and residential groups, each with its
/// commune-level unit and its hamlet branch over time.
pub const HAMLET_COLUMNS: &[Column] = &[
    col(
        "hamlet_code",
        "Mã ấp",
        "Hamlet code",
        true,
        "Mã duy nhất của ấp, thôn, khu vực hoặc tổ dân phố, không có khoảng trắng.",
        "The hamlet's (or residential group's) unique code, no spaces.",
    ),
    col(
        "name",
        "Tên ấp",
        "Hamlet name",
        true,
        "Tên đầy đủ, có dấu.",
        "Full name, with diacritics.",
    ),
    col(
        "kind",
        "Loại ấp",
        "Hamlet kind",
        true,
        "HAMLET (ấp, thôn), WARD_AREA (khu vực), RESIDENTIAL_GROUP (tổ dân phố).",
        "HAMLET, WARD_AREA, RESIDENTIAL_GROUP or the Vietnamese names.",
    ),
    col(
        "unit",
        "Đơn vị cấp xã",
        "Commune-level unit",
        true,
        "Mã đảng bộ, chi bộ cơ sở xã, phường, thị trấn (hoặc đảng bộ xã) mà ấp, khu vực thuộc về.",
        "The code of the commune-level unit (grassroots committee or branch, commune committee) it belongs to.",
    ),
    col(
        "valid_from",
        "Từ ngày",
        "Valid from",
        true,
        "Ngày bắt đầu: YYYY-MM-DD, dd/mm/yyyy hoặc ô ngày của Excel.",
        "First day: YYYY-MM-DD, dd/mm/yyyy or an Excel date cell.",
    ),
    col(
        "valid_to",
        "Đến ngày",
        "Valid to",
        false,
        "Ngày đầu tiên ấp, khu vực không còn (sáp nhập, giải thể); để trống nếu còn.",
        "The first day it no longer exists (merged, ended); empty while it exists.",
    ),
    col(
        "successor",
        "Hợp nhất vào",
        "Merged into",
        false,
        "Mã ấp, khu vực đã tiếp nhận ấp này khi sáp nhập (cần «Đến ngày»).",
        "The code of the hamlet this one was merged into (needs `Valid to`).",
    ),
    col(
        "branch",
        "Chi bộ ấp",
        "Hamlet branch",
        false,
        "Mã chi bộ ấp, khu vực (phân loại HAMLET); nếu đã đổi: lịch sử «YYYY-MM-DD MÃ; YYYY-MM-DD -». Để trống nếu không có.",
        "The code of its hamlet branch (category HAMLET); when it changed: a history `YYYY-MM-DD CODE; YYYY-MM-DD -`. Empty for none.",
    ),
];

/// The discipline register template: a discipline decided against a member, and its status.
pub const DISCIPLINE_COLUMNS: &[Column] = &[
    col(
        "card",
        "Số thẻ đảng viên",
        "Party card number",
        true,
        "Số thẻ của đảng viên bị kỷ luật (đã ghi, hoặc một dòng đảng viên của cùng tệp).",
        "The card number of the member disciplined (recorded, or a member row of the same file).",
    ),
    col(
        "discipline_form",
        "Hình thức kỷ luật",
        "Discipline form",
        true,
        "REPRIMAND (khiển trách), WARNING (cảnh cáo), REMOVAL (cách chức), EXPULSION (khai trừ).",
        "REPRIMAND, WARNING, REMOVAL (from post), EXPULSION or the Vietnamese names.",
    ),
    col(
        "decision_number",
        "Số quyết định",
        "Decision number",
        false,
        "Số của quyết định kỷ luật, như ghi trên quyết định (ví dụ 12-QĐ/ĐU); để trống nếu không rõ.",
        "The decision's number as written on it (e.g. 12-QĐ/ĐU); empty when not known.",
    ),
    col(
        "body_kind",
        "Cơ quan quyết định",
        "Deciding body",
        false,
        "BRANCH, BRANCH_COMMITTEE, PARTIAL_COMMITTEE, COMMITTEE, STANDING_COMMITTEE, INSPECTION_COMMISSION, SECRETARIAT, POLITBURO hoặc tên tiếng Việt; cùng với «Cấp quyết định».",
        "BRANCH, BRANCH_COMMITTEE, PARTIAL_COMMITTEE, COMMITTEE, STANDING_COMMITTEE, INSPECTION_COMMISSION, SECRETARIAT, POLITBURO or the Vietnamese names; with `Level of the deciding body`.",
    ),
    col(
        "body_level",
        "Cấp quyết định",
        "Level of the deciding body",
        false,
        "BRANCH, GRASSROOTS, SUPERIOR (cấp trên trực tiếp của cơ sở), PROVINCE, CENTRAL hoặc tên tiếng Việt của cấp; cùng với «Cơ quan quyết định».",
        "BRANCH, GRASSROOTS, SUPERIOR (directly above the grassroots), PROVINCE, CENTRAL; with `Deciding body`.",
    ),
    col(
        "decision_date",
        "Ngày quyết định",
        "Decision date",
        true,
        "Ngày quyết định kỷ luật (không sau hôm nay, không trước ngày quyết định kết nạp).",
        "The day the discipline was decided (not after today, not before the admission decision).",
    ),
    col(
        "discipline_status",
        "Tình trạng kỷ luật",
        "Discipline status",
        false,
        "IN_FORCE (còn hiệu lực), LAPSED (hết hiệu lực, C1), ANNULLED (bị hủy bỏ, P6); để trống: còn hiệu lực.",
        "IN_FORCE, LAPSED (C1), ANNULLED (P6) or the Vietnamese names; empty: in force.",
    ),
    col(
        "status_date",
        "Ngày đổi tình trạng",
        "Status date",
        false,
        "Ngày kỷ luật hết hiệu lực hoặc bị hủy bỏ (sau ngày quyết định, không sau hôm nay); để trống khi còn hiệu lực.",
        "The day it lapsed or was annulled (after the decision, not after today); empty while in force.",
    ),
];

/// A period of a history: `value` from `from` until `to` (open when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period<T> {
    /// What held.
    pub value: T,
    /// First day.
    pub from: NaiveDate,
    /// First day after.
    pub to: Option<NaiveDate>,
    /// Why it began (member units only).
    pub reason: Option<String>,
}

/// A unit row, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitRow {
    /// The row number in its sheet.
    pub row: usize,
    /// Unique code (the natural key).
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: UnitKind,
    /// Branch category.
    pub branch_category: Option<String>,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
    /// Parents over time, by code.
    pub parents: Vec<Period<String>>,
    /// The unit it was merged into, by code.
    pub successor: Option<String>,
}

/// A member row, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// The row number in its sheet.
    pub row: usize,
    /// Party card number (the natural key).
    pub card: String,
    /// Full name.
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// `MALE` or `FEMALE`.
    pub sex: String,
    /// Ethnicity.
    pub ethnicity: String,
    /// Religion.
    pub religion: Option<String>,
    /// Schooling code.
    pub education: String,
    /// Occupation code.
    pub occupation: Option<String>,
    /// Admission decision (A15).
    pub admission_decision: Option<NaiveDate>,
    /// Ceremony (A13).
    pub ceremony: Option<NaiveDate>,
    /// Official (A14).
    pub official: Option<NaiveDate>,
    /// E-mail address.
    pub email: Option<String>,
    /// Units over time, by code, with the reason each period began.
    pub units: Vec<Period<String>>,
    /// Statuses over time.
    pub statuses: Vec<Period<MemberStatus>>,
    /// Hamlets of residence over time, by code, with the reason each period began.
    pub residences: Vec<Period<String>>,
}

/// A hamlet row, parsed. The natural key is the hamlet's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HamletRow {
    /// The row number in its sheet.
    pub row: usize,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Ấp, khu vực or tổ dân phố.
    pub kind: HamletKind,
    /// The commune-level unit's code.
    pub unit: String,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day after.
    pub valid_to: Option<NaiveDate>,
    /// The hamlet it was merged into, by code.
    pub successor: Option<String>,
    /// Its hamlet branches over time, by code.
    pub branches: Vec<Period<String>>,
}

/// A role holder row, parsed: `login` holds `role` at `unit` (everywhere when `None`) from
/// `from` until `to`. The natural key is the login, the role, the unit and the first day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    /// The row number in its sheet.
    pub row: usize,
    /// The account's login name.
    pub login: String,
    /// The role.
    pub role: Role,
    /// The unit's code.
    pub unit: Option<String>,
    /// The card number of the member the account belongs to.
    pub card: Option<String>,
    /// Where the mail for the account's roles goes.
    pub email: Option<String>,
    /// First day.
    pub from: NaiveDate,
    /// The day it ended (revoked).
    pub to: Option<NaiveDate>,
}

/// A badge row, parsed: the member with card `card` received the badge of `years` on
/// `award_date`. The natural key is the card number and the years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeRow {
    /// The row number in its sheet.
    pub row: usize,
    /// The member's card number.
    pub card: String,
    /// Years of party age (A30).
    pub years: u32,
    /// The day it was awarded.
    pub award_date: NaiveDate,
}

/// A discipline register row, parsed: the member with card `card` received `form` by the
/// decision of `decision_date`, whose status is `status` from `status_date`. The natural key
/// is the card number, the form and the decision date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisciplineRow {
    /// The row number in its sheet.
    pub row: usize,
    /// The member's card number.
    pub card: String,
    /// The form.
    pub form: DisciplineForm,
    /// The decision's number.
    pub number: Option<String>,
    /// The deciding body: kind and level.
    pub body: Option<(BodyKind, Level)>,
    /// The day it was decided.
    pub decision_date: NaiveDate,
    /// In force, lapsed or annulled.
    pub status: DisciplineStatus,
    /// The day it lapsed or was annulled (none while in force).
    pub status_date: Option<NaiveDate>,
}

/// Rows parsed from a sheet, and the problems of the rows that could not be.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// The rows that parsed.
    pub rows: Vec<T>,
    /// Every problem, in row order.
    pub problems: Vec<Problem>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// Normalizes a header for matching: lower case, no `*`, single spaces.
fn norm(s: &str) -> String {
    s.replace('*', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn header_matches(c: &Column, h: &str) -> bool {
    let h = norm(h);
    h == norm(c.vi) || h == norm(c.en) || h == c.key
}

/// The kind a sheet holds, from its headers: a party card column means members, a unit code
/// column units.
pub fn kind_of(sheet: &Sheet) -> Option<Kind> {
    let headers: Vec<String> = sheet
        .rows
        .first()
        .map(|r| r.iter().map(Cell::text).collect())
        .unwrap_or_default();
    let has = |c: &Column| headers.iter().any(|h| header_matches(c, h));
    // The role holders' sheet names a card and a unit too: its login column tells it.
    if has(&ROLE_COLUMNS[0]) {
        Some(Kind::RoleHolders)
    } else if has(&HAMLET_COLUMNS[0]) {
        Some(Kind::Hamlets)
    } else if has(&DISCIPLINE_COLUMNS[1]) {
        // A discipline sheet names a card too: its form column tells it.
        Some(Kind::Discipline)
    } else if has(&BADGE_COLUMNS[1]) {
        // A badges sheet names a card too: its years column tells it.
        Some(Kind::Badges)
    } else if has(&MEMBER_COLUMNS[0]) {
        Some(Kind::Members)
    } else if has(&UNIT_COLUMNS[0]) {
        Some(Kind::Units)
    } else {
        None
    }
}

/// The existence of a unit or hamlet row as read ([`RowReader::existence`]).
struct Existence {
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    successor: Option<String>,
    history: Vec<Period<String>>,
}

/// One row's cells by column key, with the problems found reading them.
struct RowReader<'a> {
    sheet: &'a str,
    row: usize,
    cells: &'a [Cell],
    index: &'a ColumnIndex,
    problems: Vec<Problem>,
}

impl<'a> RowReader<'a> {
    fn problem(&mut self, column: Option<&Column>, code: &'static str, reason: Text) {
        self.problems.push(Problem {
            sheet: self.sheet.to_owned(),
            row: self.row,
            column: column.map(|c| c.vi.to_owned()),
            code,
            reason,
        });
    }

    fn cell(&self, key: &str) -> Option<(&'a Cell, &'static Column)> {
        let (i, c) = self.index.get(key)?;
        Some((self.cells.get(*i).unwrap_or(&Cell::Empty), *c))
    }

    fn column(&self, key: &str) -> Option<&'static Column> {
        self.index.get(key).map(|(_, c)| *c)
    }

    /// A column naming one code for the whole of a row's existence (`from` to `to`), or a
    /// dated history of codes (`DATE CODE; DATE CODE`) that must lie within it: `BAD_HISTORY`
    /// with `outside` as the reason otherwise. Nothing without `from`.
    fn code_or_history(
        &mut self,
        key: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        outside: Text,
    ) -> Vec<Period<String>> {
        let text = self.text(key).unwrap_or_default();
        let Some(from) = from else {
            return Vec::new();
        };
        if text.is_empty() {
            return Vec::new();
        }
        if !text.contains([' ', ';']) {
            return vec![Period {
                value: text,
                from,
                to,
                reason: None,
            }];
        }
        let periods = self.history(key, parse_code, false).unwrap_or_default();
        if periods.first().is_some_and(|p| p.from < from)
            || periods
                .last()
                .is_some_and(|p| to.is_some_and(|t| p.to.is_none_or(|pt| pt > t)))
        {
            let c = self.column(key);
            self.problem(c, "BAD_HISTORY", outside);
        }
        periods
    }

    /// The existence of a unit or hamlet row: its first and last days (`valid_from`,
    /// `valid_to`, in order), what it merged into (`successor`, `successor_hint` naming what
    /// may stand there; a merged row needs an end, `merged` the reason) and the dated history
    /// of the column `history` within that existence (`outside` the reason otherwise).
    fn existence(
        &mut self,
        successor_hint: &str,
        (history, outside): (&str, Text),
        merged: Text,
    ) -> Existence {
        let valid_from = self.date("valid_from");
        let valid_to = self.date("valid_to");
        let successor = self.code("successor", parse_code, successor_hint);
        let history = self.code_or_history(history, valid_from, valid_to, outside);
        self.span(
            ("valid_from", valid_from),
            ("valid_to", valid_to),
            successor.is_some().then_some(("successor", merged)),
        );
        Existence {
            valid_from,
            valid_to,
            successor,
            history,
        }
    }

    /// A row's existence: the date in column `to` after the one in column `from` (`DATES`),
    /// and, when `needs_end` names a column whose value calls for an end (a merger, a lapse),
    /// an end (`DATES` on that column, with its reason).
    fn span(
        &mut self,
        (from_key, from): (&str, Option<NaiveDate>),
        (to_key, to): (&str, Option<NaiveDate>),
        needs_end: Option<(&str, Text)>,
    ) {
        if let (Some(f), Some(t)) = (from, to)
            && t <= f
            && let (Some(fc), Some(tc)) = (self.column(from_key), self.column(to_key))
        {
            self.problem(
                Some(tc),
                "DATES",
                Text::new(
                    format!("«{}» phải sau «{}».", tc.vi, fc.vi),
                    format!("`{}` must come after `{}`.", tc.en, fc.en),
                ),
            );
        }
        if let Some((key, reason)) = needs_end
            && to.is_none()
        {
            let c = self.column(key);
            self.problem(c, "DATES", reason);
        }
    }

    /// A natural key seen for the first time in the file (`DUPLICATE` on `key` otherwise,
    /// `again(code, first row)` as the reason).
    fn first_time(
        &mut self,
        key: &str,
        code: &Option<String>,
        seen: &mut HashMap<String, usize>,
        again: impl FnOnce(&str, usize) -> Text,
    ) {
        if let Some(code) = code
            && let Some(first) = seen.insert(code.clone(), self.row)
        {
            let c = self.column(key);
            self.problem(c, "DUPLICATE", again(code, first));
        }
    }

    /// The cell's text, `None` when empty; a required column left empty is a problem.
    fn text(&mut self, key: &str) -> Option<String> {
        let (cell, c) = self.cell(key)?;
        if cell.is_empty() {
            if c.required {
                self.problem(
                    Some(c),
                    "REQUIRED",
                    Text::new(
                        format!("Cột «{}» không được để trống.", c.vi),
                        format!("The column `{}` must be filled.", c.en),
                    ),
                );
            }
            return None;
        }
        Some(cell.text())
    }

    fn date(&mut self, key: &str) -> Option<NaiveDate> {
        let (cell, c) = self.cell(key)?;
        if cell.is_empty() {
            return self.text(key).and(None);
        }
        match cell_date(cell) {
            Ok(d) => Some(d),
            Err(reason) => {
                self.problem(Some(c), "BAD_DATE", reason);
                None
            }
        }
    }

    /// A closed-list code, from its code or its Vietnamese name.
    fn code<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &str,
    ) -> Option<T> {
        let text = self.text(key)?;
        let c = self.column(key)?;
        match parse(&text) {
            Some(v) => Some(v),
            None => {
                self.problem(
                    Some(c),
                    "UNKNOWN_CODE",
                    Text::new(
                        format!("«{text}» không phải là giá trị hợp lệ ({allowed})."),
                        format!("`{text}` is not a known value ({allowed})."),
                    ),
                );
                None
            }
        }
    }

    fn history<T>(
        &mut self,
        key: &str,
        value: impl Fn(&str) -> Option<T>,
        with_reason: bool,
    ) -> Option<Vec<Period<T>>> {
        let reasons = if with_reason { MEMBERSHIP_REASONS } else { &[] };
        self.history_with(key, value, reasons)
    }

    /// A history whose periods may name one of `reasons`.
    fn history_with<T>(
        &mut self,
        key: &str,
        value: impl Fn(&str) -> Option<T>,
        reasons: &[&str],
    ) -> Option<Vec<Period<T>>> {
        let text = self.text(key)?;
        let c = self.column(key)?;
        match history_of(&text, value, reasons) {
            Ok(h) => Some(h),
            Err(reason) => {
                self.problem(Some(c), "BAD_HISTORY", reason);
                None
            }
        }
    }
}

/// Parses a date cell: a date cell, `YYYY-MM-DD`, `dd/mm/yyyy` (or `d/m/yyyy`, `dd-mm-yyyy`,
/// `dd.mm.yyyy`) text, or an Excel serial number (1900 date system).
pub fn cell_date(cell: &Cell) -> Result<NaiveDate, Text> {
    match cell {
        Cell::Date(d) => Ok(*d),
        Cell::Number(n) => excel_serial(*n),
        other => {
            let s = other.text();
            if !s.is_empty() && s.len() <= 6 && s.chars().all(|c| c.is_ascii_digit()) {
                return s
                    .parse::<f64>()
                    .map_err(|_| bad_date(&s))
                    .and_then(excel_serial);
            }
            parse_date(&s).ok_or_else(|| bad_date(&s))
        }
    }
}

fn bad_date(s: &str) -> Text {
    Text::new(
        format!("«{s}» không phải là ngày (YYYY-MM-DD hoặc dd/mm/yyyy)."),
        format!("`{s}` is not a date (YYYY-MM-DD or dd/mm/yyyy)."),
    )
}

/// Parses a date written `YYYY-MM-DD` or `dd/mm/yyyy` (also with `-` or `.`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    for f in ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f)
            && s.rsplit(['/', '-', '.'])
                .next()
                .is_some_and(|y| y.len() == 4)
        {
            return Some(d);
        }
    }
    None
}

/// An Excel serial date (1900 system, where 60 is the 29 February 1900 that never was).
pub fn excel_serial(n: f64) -> Result<NaiveDate, Text> {
    if n.fract() != 0.0 || !(1.0..=2_958_465.0).contains(&n) {
        return Err(Text::new(
            format!("Số {n} không phải là ngày của Excel."),
            format!("The number {n} is not an Excel date."),
        ));
    }
    let days = n as u64;
    let base = NaiveDate::from_ymd_opt(1899, 12, if days > 60 { 30 } else { 31 });
    base.and_then(|b| b.checked_add_days(Days::new(days)))
        .ok_or_else(|| Text::new("Ngày ngoài phạm vi.", "The date is out of range."))
}

/// Parses a history cell (module docs). `value` parses each period's value; with
/// `with_reason` a period may name the reason it began.
pub fn parse_history<T>(
    s: &str,
    value: impl Fn(&str) -> Option<T>,
    with_reason: bool,
) -> Result<Vec<Period<T>>, Text> {
    history_of(s, value, if with_reason { MEMBERSHIP_REASONS } else { &[] })
}

/// [`parse_history`] with the reasons a period may name.
fn history_of<T>(
    s: &str,
    value: impl Fn(&str) -> Option<T>,
    reasons: &[&str],
) -> Result<Vec<Period<T>>, Text> {
    let mut out: Vec<Period<T>> = Vec::new();
    let mut last: Option<NaiveDate> = None;
    for part in s
        .split([';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let mut words = part.split_whitespace();
        let (Some(d), Some(v)) = (words.next(), words.next()) else {
            return Err(Text::new(
                format!("«{part}»: mỗi giai đoạn ghi «NGÀY GIÁ_TRỊ»."),
                format!("`{part}`: each period is written `DATE VALUE`."),
            ));
        };
        let date = parse_date(d).ok_or_else(|| bad_date(d))?;
        if last.is_some_and(|l| date <= l) {
            return Err(Text::new(
                format!("«{part}»: các giai đoạn phải theo thứ tự ngày tăng dần."),
                format!("`{part}`: periods must be in increasing date order."),
            ));
        }
        last = Some(date);
        if let Some(prev) = out.last_mut()
            && prev.to.is_none()
        {
            prev.to = Some(date);
        }
        if v == "-" {
            if out.is_empty() {
                return Err(Text::new(
                    "Lịch sử không thể bắt đầu bằng «-».",
                    "A history cannot begin with `-`.",
                ));
            }
            continue;
        }
        let parsed = value(v).ok_or_else(|| {
            Text::new(
                format!("«{v}» không phải là giá trị hợp lệ."),
                format!("`{v}` is not a known value."),
            )
        })?;
        let reason = words.next().map(str::to_owned);
        if let Some(r) = &reason
            && !reasons.contains(&r.as_str())
        {
            return Err(Text::new(
                format!("«{r}» không phải là lý do hợp lệ."),
                format!("`{r}` is not a known reason."),
            ));
        }
        if words.next().is_some() {
            return Err(Text::new(
                format!("«{part}»: thừa nội dung."),
                format!("`{part}`: too many words."),
            ));
        }
        out.push(Period {
            value: parsed,
            from: date,
            to: None,
            reason,
        });
    }
    Ok(out)
}

/// Writes a history in the form [`parse_history`] reads.
pub fn format_history<T>(periods: &[Period<T>], value: impl Fn(&T) -> String) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (i, p) in periods.iter().enumerate() {
        let mut s = format!("{} {}", p.from, value(&p.value));
        if let Some(r) = &p.reason {
            s.push(' ');
            s.push_str(r);
        }
        parts.push(s);
        let next = periods.get(i + 1).map(|n| n.from);
        if let Some(to) = p.to
            && next != Some(to)
        {
            parts.push(format!("{to} -"));
        }
    }
    parts.join("; ")
}

/// Why a member's unit period began.
pub const MEMBERSHIP_REASONS: &[&str] = &[
    "REGISTERED",
    "ADMITTED",
    "TRANSFERRED",
    "MERGED",
    "RESTORED",
];

/// Why a member's residence period began (docs/reports.md, «Hamlets»).
pub const RESIDENCE_REASONS: &[&str] = &["SET", "MERGED"];

/// Schooling codes.
pub const EDUCATION: &[(&str, &str)] = &[
    ("PRIMARY", "Tiểu học"),
    ("LOWER_SECONDARY", "Trung học cơ sở"),
    ("UPPER_SECONDARY", "Trung học phổ thông"),
    ("NOT_RECORDED", "Chưa ghi"),
    ("NONE", "Không"),
];

/// A unit kind from its code or its Vietnamese name.
pub fn parse_kind(s: &str) -> Option<UnitKind> {
    UnitKind::parse(&s.to_uppercase()).or_else(|| {
        UnitKind::ALL
            .into_iter()
            .find(|k| norm(&k.label().vi) == norm(s))
    })
}

/// A status from its code or its Vietnamese name.
pub fn parse_status(s: &str) -> Option<MemberStatus> {
    MemberStatus::parse(&s.to_uppercase()).or_else(|| {
        MemberStatus::ALL
            .into_iter()
            .find(|st| norm(status_label(*st).vi.as_str()) == norm(s))
    })
}

/// A status's name.
pub fn status_label(s: MemberStatus) -> Text {
    s.label()
}

fn parse_sex(s: &str) -> Option<String> {
    match norm(s).as_str() {
        "nam" | "male" => Some("MALE".into()),
        "nữ" | "nu" | "female" => Some("FEMALE".into()),
        _ => None,
    }
}

fn parse_education(s: &str) -> Option<String> {
    EDUCATION
        .iter()
        .find(|(code, vi)| code.eq_ignore_ascii_case(s) || norm(vi) == norm(s))
        .map(|(code, _)| (*code).to_owned())
}

fn parse_code(s: &str) -> Option<String> {
    (!s.is_empty() && s.len() <= 64 && !s.contains(char::is_whitespace)).then(|| s.to_owned())
}

/// A sheet's columns by field key: where each is, and its template column.
type ColumnIndex = HashMap<&'static str, (usize, &'static Column)>;

/// Finds the columns of `kind` in the sheet's header row; a required column missing is a
/// problem of the whole sheet, and so is a header that names no column.
fn columns(sheet: &Sheet, kind: Kind, problems: &mut Vec<Problem>) -> ColumnIndex {
    columns_of(
        &sheet.name,
        sheet.rows.first().map_or(&[][..], Vec::as_slice),
        kind,
        problems,
    )
}

/// [`columns`] of a header row given by itself (a file read row by row).
fn columns_of(
    sheet: &str,
    header: &[Cell],
    kind: Kind,
    problems: &mut Vec<Problem>,
) -> ColumnIndex {
    let headers: Vec<String> = header.iter().map(Cell::text).collect();
    let mut index = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        match kind.columns().iter().find(|c| header_matches(c, h)) {
            Some(c) => {
                if index.insert(c.key, (i, c)).is_some() {
                    problems.push(Problem {
                        sheet: sheet.to_owned(),
                        row: 1,
                        column: Some(h.clone()),
                        code: "DUPLICATE_COLUMN",
                        reason: Text::new(
                            format!("Cột «{h}» xuất hiện hai lần."),
                            format!("The column `{h}` appears twice."),
                        ),
                    });
                }
            }
            None => problems.push(Problem {
                sheet: sheet.to_owned(),
                row: 1,
                column: Some(h.clone()),
                code: "UNKNOWN_COLUMN",
                reason: Text::new(
                    format!("Cột «{h}» không có trong mẫu."),
                    format!("The column `{h}` is not in the template."),
                ),
            }),
        }
    }
    for c in kind.columns().iter().filter(|c| c.required) {
        if !index.contains_key(c.key) {
            problems.push(Problem {
                sheet: sheet.to_owned(),
                row: 1,
                column: Some(c.vi.to_owned()),
                code: "MISSING_COLUMN",
                reason: Text::new(
                    format!("Thiếu cột bắt buộc «{}».", c.vi),
                    format!("The required column `{}` is missing.", c.en),
                ),
            });
        }
    }
    index
}

/// Whether a row holds nothing (blank rows are skipped).
pub fn blank(cells: &[Cell]) -> bool {
    cells.iter().all(Cell::is_empty)
}

/// The data rows with their sheet row numbers, blank rows skipped.
fn data_rows(sheet: &Sheet) -> impl Iterator<Item = (usize, &Vec<Cell>)> {
    sheet
        .rows
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, r)| !r.iter().all(Cell::is_empty))
        .map(|(i, r)| (i + 1, r))
}

/// Reads every data row of a sheet of `kind` with `read` (given the row's reader and the
/// natural keys seen so far, for [`RowReader::first_time`]): a row is kept when `read` gives it
/// and found no problem, its problems are the sheet's otherwise. A header that is not the
/// template's leaves no row read.
fn parse_rows<T>(
    sheet: &Sheet,
    kind: Kind,
    mut read: impl FnMut(&mut RowReader<'_>, &mut HashMap<String, usize>) -> Option<T>,
) -> Parsed<T> {
    let mut out = Parsed::default();
    let index = columns(sheet, kind, &mut out.problems);
    if !out.problems.is_empty() {
        return out;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in data_rows(sheet) {
        let mut r = RowReader {
            sheet: &sheet.name,
            row,
            cells,
            index: &index,
            problems: Vec::new(),
        };
        match read(&mut r, &mut seen) {
            Some(v) if r.problems.is_empty() => out.rows.push(v),
            _ => out.problems.append(&mut r.problems),
        }
    }
    out
}

/// Parses a units sheet.
pub fn parse_units(sheet: &Sheet) -> Parsed<UnitRow> {
    parse_rows(sheet, Kind::Units, |r, seen| {
        let row = r.row;
        let code = r.code("code", parse_code, "không có khoảng trắng / no spaces");
        let name = r.text("name");
        let kind = r.code("kind", parse_kind, "PROVINCE, ..., BRANCH");
        let branch_category = r.text("branch_category");
        let Existence {
            valid_from,
            valid_to,
            successor,
            history: parents,
        } = r.existence(
            "mã đơn vị / a unit code",
            (
                "parent",
                Text::new(
                    "Lịch sử cấp trên phải nằm trong thời gian tồn tại của đơn vị.",
                    "The parent history must lie within the unit's existence.",
                ),
            ),
            Text::new(
                "Đơn vị đã hợp nhất phải có «Đến ngày».",
                "A merged unit needs `Valid to`.",
            ),
        );
        r.first_time("code", &code, seen, |code, first| {
            Text::new(
                format!("Mã đơn vị {code} đã có ở dòng {first}."),
                format!("Unit code {code} already appears on row {first}."),
            )
        });
        Some(UnitRow {
            row,
            code: code?,
            name: name?,
            kind: kind?,
            branch_category,
            valid_from: valid_from?,
            valid_to,
            parents,
            successor,
        })
    })
}

/// Parses a members sheet; `probation_months` gives the probation (A13) of the rule set in
/// force on a ceremony day.
pub fn parse_members(
    sheet: &Sheet,
    probation_months: &dyn Fn(Option<NaiveDate>) -> u32,
) -> Parsed<MemberRow> {
    let mut out = Parsed::default();
    let parser = match MemberParser::new(
        &sheet.name,
        sheet.rows.first().map_or(&[][..], Vec::as_slice),
    ) {
        Ok(p) => p,
        Err(problems) => {
            out.problems = problems;
            return out;
        }
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (row, cells) in data_rows(sheet) {
        let mut read = parser.read(row, cells, probation_months);
        if let Some(card) = &read.card
            && let Some(first) = seen.insert(card.clone(), row)
        {
            read.problems.push(parser.duplicate(row, card, first));
        }
        match read.member {
            Some(m) if read.problems.is_empty() => out.rows.push(m),
            _ => out.problems.extend(read.problems),
        }
    }
    out
}

/// A role from its code or its Vietnamese name.
pub fn parse_role(s: &str) -> Option<Role> {
    Role::parse(&s.to_lowercase()).or_else(|| {
        Role::ALL
            .into_iter()
            .find(|r| norm(&r.label().vi) == norm(s))
    })
}

/// Parses a role holders sheet: every cell, the dates in order, a natural key (login, role,
/// unit, first day) given once, the periods of one login, role and unit apart, and one
/// account's card number and address the same on all its rows.
pub fn parse_role_holders(sheet: &Sheet) -> Parsed<RoleRow> {
    let mut out = Parsed::default();
    let index = columns(sheet, Kind::RoleHolders, &mut out.problems);
    if !out.problems.is_empty() {
        return out;
    }
    type Key = (String, Role, Option<String>);
    let mut periods: HashMap<Key, Vec<(NaiveDate, Option<NaiveDate>, usize)>> = HashMap::new();
    let mut accounts: HashMap<String, (Option<String>, Option<String>, usize)> = HashMap::new();
    for (row, cells) in data_rows(sheet) {
        let mut r = RowReader {
            sheet: &sheet.name,
            row,
            cells,
            index: &index,
            problems: Vec::new(),
        };
        let login = r.code("login", parse_code, "không có khoảng trắng / no spaces");
        let role = r.code("role", parse_role, "secretary, ..., admin");
        let unit = r.code("unit", parse_code, "mã đơn vị / a unit code");
        let card = r.code("card", parse_code, "không có khoảng trắng / no spaces");
        let email = r.text("email");
        if let Some(e) = &email
            && crate::email::EmailAddress::parse(e).is_err()
        {
            let c = r.column("email");
            r.problem(
                c,
                "BAD_EMAIL",
                Text::new(
                    format!("«{e}» không phải là địa chỉ thư điện tử."),
                    format!("`{e}` is not an e-mail address."),
                ),
            );
        }
        let from = r.date("from");
        let to = r.date("to");
        if let (Some(f), Some(t)) = (from, to)
            && t < f
        {
            let c = r.column("to");
            r.problem(
                c,
                "DATES",
                Text::new(
                    "«Đến ngày» không được trước «Từ ngày».",
                    "`Until` may not come before `From`.",
                ),
            );
        }
        if let (Some(login), Some(role), Some(from)) = (&login, role, from) {
            let key = (login.clone(), role, unit.clone());
            let others = periods.entry(key).or_default();
            if let Some((_, _, first)) = others.iter().find(|(f, _, _)| *f == from) {
                let c = r.column("from");
                r.problem(
                    c,
                    "DUPLICATE",
                    Text::new(
                        format!("{login} giữ vai trò này tại đơn vị này từ ngày {from} đã có ở dòng {first}."),
                        format!("{login} holding this role at this unit from {from} already appears on row {first}."),
                    ),
                );
            } else if let Some((_, _, other)) = others.iter().find(|(f, t, _)| {
                from < t.unwrap_or(NaiveDate::MAX) && *f < to.unwrap_or(NaiveDate::MAX)
            }) {
                let c = r.column("from");
                r.problem(
                    c,
                    "DATES",
                    Text::new(
                        format!(
                            "Thời gian này trùng với dòng {other} (cùng người, vai trò, đơn vị)."
                        ),
                        format!("This period overlaps row {other} (same login, role and unit)."),
                    ),
                );
            } else {
                others.push((from, to, row));
            }
        }
        if let Some(login) = &login {
            match accounts.get(login) {
                None => {
                    accounts.insert(login.clone(), (card.clone(), email.clone(), row));
                }
                Some((first_card, first_email, first)) => {
                    let first = *first;
                    if card.is_some() && first_card.is_some() && &card != first_card {
                        let c = r.column("card");
                        r.problem(
                            c,
                            "INCONSISTENT",
                            Text::new(
                                format!("Tài khoản {login} đã ghi số thẻ khác ở dòng {first}."),
                                format!(
                                    "The account {login} has another card number on row {first}."
                                ),
                            ),
                        );
                    }
                    if email.is_some() && first_email.is_some() && &email != first_email {
                        let c = r.column("email");
                        r.problem(
                            c,
                            "INCONSISTENT",
                            Text::new(
                                format!(
                                    "Tài khoản {login} đã ghi địa chỉ thư khác ở dòng {first}."
                                ),
                                format!(
                                    "The account {login} has another e-mail address on row {first}."
                                ),
                            ),
                        );
                    }
                }
            }
        }
        let problems = std::mem::take(&mut r.problems);
        match (login, role, from) {
            (Some(login), Some(role), Some(from)) if problems.is_empty() => {
                out.rows.push(RoleRow {
                    row,
                    login,
                    role,
                    unit,
                    card,
                    email,
                    from,
                    to,
                });
            }
            _ => out.problems.extend(problems),
        }
    }
    out
}

/// Parses a badges sheet: every cell, a whole number of years, and a natural key (card
/// number, years) given once: a member receives each badge once (A30).
pub fn parse_badges(sheet: &Sheet) -> Parsed<BadgeRow> {
    parse_rows(sheet, Kind::Badges, |r, seen| {
        let row = r.row;
        let card = r.code("card", parse_code, "không có khoảng trắng / no spaces");
        let years = r.code("years", parse_years, "30, 40, 45, 50, ...");
        let award_date = r.date("award_date");
        let key = card.as_ref().zip(years).map(|(c, y)| format!("{c} {y}"));
        r.first_time("years", &key, seen, |_, first| {
            let (card, years) = (
                card.as_deref().unwrap_or_default(),
                years.unwrap_or_default(),
            );
            Text::new(
                format!(
                    "Huy hiệu {years} năm tuổi Đảng của đảng viên {card} đã có ở dòng {first}."
                ),
                format!("The {years}-year badge of member {card} already appears on row {first}."),
            )
        });
        Some(BadgeRow {
            row,
            card: card?,
            years: years?,
            award_date: award_date?,
        })
    })
}

/// A hamlet's kind from its code or its Vietnamese name (`thôn` is an `ấp`).
fn parse_hamlet_kind(s: &str) -> Option<HamletKind> {
    if norm(s) == "thôn" {
        return Some(HamletKind::Hamlet);
    }
    HamletKind::parse(&s.to_uppercase()).or_else(|| {
        [
            HamletKind::Hamlet,
            HamletKind::WardArea,
            HamletKind::ResidentialGroup,
        ]
        .into_iter()
        .find(|k| norm(&k.label().vi) == norm(s))
    })
}

/// Parses a hamlets sheet: every cell, the branch history within the hamlet's existence,
/// the dates in order, and a code given once.
pub fn parse_hamlets(sheet: &Sheet) -> Parsed<HamletRow> {
    parse_rows(sheet, Kind::Hamlets, |r, seen| {
        let row = r.row;
        let code = r.code(
            "hamlet_code",
            parse_code,
            "không có khoảng trắng / no spaces",
        );
        let name = r.text("name");
        if name.as_ref().is_some_and(|n| n.chars().count() > 255) {
            let c = r.column("name");
            r.problem(
                c,
                "TOO_LONG",
                Text::new(
                    "Tên tối đa 255 ký tự.",
                    "The name has at most 255 characters.",
                ),
            );
        }
        let kind = r.code(
            "kind",
            parse_hamlet_kind,
            "HAMLET, WARD_AREA, RESIDENTIAL_GROUP",
        );
        let unit = r.code("unit", parse_code, "mã đơn vị / a unit code");
        let Existence {
            valid_from,
            valid_to,
            successor,
            history: branches,
        } = r.existence(
            "mã ấp, khu vực / a hamlet code",
            (
                "branch",
                Text::new(
                    "Lịch sử chi bộ phải nằm trong thời gian tồn tại của ấp, khu vực.",
                    "The branch history must lie within the hamlet's existence.",
                ),
            ),
            Text::new(
                "Ấp, khu vực đã sáp nhập phải có «Đến ngày».",
                "A merged hamlet needs `Valid to`.",
            ),
        );
        r.first_time("hamlet_code", &code, seen, |code, first| {
            Text::new(
                format!("Mã ấp, khu vực {code} đã có ở dòng {first}."),
                format!("Hamlet code {code} already appears on row {first}."),
            )
        });
        Some(HamletRow {
            row,
            code: code?,
            name: name?,
            kind: kind?,
            unit: unit?,
            valid_from: valid_from?,
            valid_to,
            successor,
            branches,
        })
    })
}

/// A member's form of discipline from its code or its Vietnamese name (an organisation's
/// dissolution is not a member's).
fn parse_form(s: &str) -> Option<DisciplineForm> {
    DisciplineForm::ALL
        .into_iter()
        .filter(|f| *f != DisciplineForm::Dissolution)
        .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()) || norm(&f.label().vi) == norm(s))
}

/// A deciding body's kind from its code (either case) or its Vietnamese name.
fn parse_body_kind(s: &str) -> Option<BodyKind> {
    BodyKind::parse(&s.trim().to_lowercase()).or_else(|| {
        BodyKind::ALL
            .into_iter()
            .find(|k| norm(&k.label().vi) == norm(s))
    })
}

/// A deciding body's level from its code (either case) or its Vietnamese name as a role's
/// level names it (`chi bộ`, `đảng ủy cơ sở`, `cấp tỉnh`, …).
fn parse_body_level(s: &str) -> Option<Level> {
    Level::parse(&s.trim().to_lowercase()).or_else(|| {
        Level::ALL
            .into_iter()
            .find(|l| norm(RoleLevel::from(*l).vi()) == norm(s))
    })
}

/// The register's status words, Vietnamese and English, with their codes.
const DISCIPLINE_STATUSES: [(DisciplineStatus, &str); 3] = [
    (DisciplineStatus::InForce, "còn hiệu lực"),
    (DisciplineStatus::Lapsed, "hết hiệu lực"),
    (DisciplineStatus::Annulled, "bị hủy bỏ"),
];

/// A discipline's status from its code (`IN_FORCE`, `in_force`) or its Vietnamese name.
fn parse_discipline_status(s: &str) -> Option<DisciplineStatus> {
    DisciplineStatus::parse(&norm(s).replace(' ', "_")).or_else(|| {
        DISCIPLINE_STATUSES
            .into_iter()
            .find(|(_, vi)| norm(vi) == norm(s))
            .map(|(st, _)| st)
    })
}

/// Parses a discipline register sheet: every cell, the body's kind and level together, the
/// status date after the decision and given exactly when the discipline is no longer in force,
/// and a natural key (card number, form, decision date) given once.
pub fn parse_discipline(sheet: &Sheet) -> Parsed<DisciplineRow> {
    parse_rows(sheet, Kind::Discipline, |r, seen| {
        let row = r.row;
        let card = r.code("card", parse_code, "không có khoảng trắng / no spaces");
        let form = r.code(
            "discipline_form",
            parse_form,
            "REPRIMAND, WARNING, REMOVAL, EXPULSION",
        );
        let number = r.text("decision_number");
        if number.as_ref().is_some_and(|n| n.chars().count() > 100) {
            let c = r.column("decision_number");
            r.problem(
                c,
                "TOO_LONG",
                Text::new(
                    "Số quyết định tối đa 100 ký tự.",
                    "The decision number has at most 100 characters.",
                ),
            );
        }
        let body_kind = r.code(
            "body_kind",
            parse_body_kind,
            "BRANCH, COMMITTEE, STANDING_COMMITTEE, INSPECTION_COMMISSION, ...",
        );
        let body_level = r.code(
            "body_level",
            parse_body_level,
            "BRANCH, GRASSROOTS, SUPERIOR, PROVINCE, CENTRAL",
        );
        let body_given = (
            r.cell("body_kind").is_some_and(|(c, _)| !c.is_empty()),
            r.cell("body_level").is_some_and(|(c, _)| !c.is_empty()),
        );
        if body_given.0 != body_given.1 {
            let missing = if body_given.0 {
                "body_level"
            } else {
                "body_kind"
            };
            let c = r.column(missing);
            r.problem(
                c,
                "REQUIRED",
                Text::new(
                    "Cơ quan quyết định và cấp của nó đi cùng nhau: ghi cả hai hoặc để trống cả hai.",
                    "The deciding body and its level go together: give both or neither.",
                ),
            );
        }
        let decision_date = r.date("decision_date");
        let status = if r
            .cell("discipline_status")
            .is_some_and(|(c, _)| !c.is_empty())
        {
            r.code(
                "discipline_status",
                parse_discipline_status,
                "IN_FORCE, LAPSED, ANNULLED",
            )
        } else {
            Some(DisciplineStatus::InForce)
        };
        let status_date = r.date("status_date");
        r.span(
            ("decision_date", decision_date),
            ("status_date", status_date),
            status.filter(|s| *s != DisciplineStatus::InForce).map(|_| {
                (
                    "status_date",
                    Text::new(
                        "Kỷ luật hết hiệu lực hoặc bị hủy bỏ phải có «Ngày đổi tình trạng».",
                        "A discipline lapsed or annulled needs `Status date`.",
                    ),
                )
            }),
        );
        if status == Some(DisciplineStatus::InForce) && status_date.is_some() {
            let c = r.column("status_date");
            r.problem(
                c,
                "DATES",
                Text::new(
                    "Kỷ luật còn hiệu lực không có «Ngày đổi tình trạng».",
                    "A discipline in force has no `Status date`.",
                ),
            );
        }
        let key = match (&card, form, decision_date) {
            (Some(c), Some(f), Some(d)) => Some(format!("{c} {} {d}", f.as_str())),
            _ => None,
        };
        r.first_time("decision_date", &key, seen, |_, first| {
            Text::new(
                format!("Kỷ luật này (cùng số thẻ, hình thức, ngày quyết định) đã có ở dòng {first}."),
                format!("This discipline (same card number, form and decision date) already appears on row {first}."),
            )
        });
        Some(DisciplineRow {
            row,
            card: card?,
            form: form?,
            number,
            body: body_kind.zip(body_level),
            decision_date: decision_date?,
            status: status?,
            status_date,
        })
    })
}

/// A badge's years: a whole number from 1 (`30`, also `30.0` as a number cell gives it).
fn parse_years(s: &str) -> Option<u32> {
    let s = s.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    s.parse::<u32>().ok().filter(|y| *y > 0)
}

/// A members sheet's header row understood: each row is then read by itself, so that a
/// file too large to hold is read a row at a time (the duplicates of its card numbers are
/// the reader's to find: [`KeyHashes`]).
#[derive(Debug, Clone)]
pub struct MemberParser {
    sheet: String,
    index: ColumnIndex,
}

/// One member row read: its card number (when it parsed, for the duplicates), the member
/// when every cell parsed and passed the row's own rules, and the problems otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRow {
    /// The row as the spreadsheet numbers it.
    pub row: usize,
    /// The party card number.
    pub card: Option<String>,
    /// The member (with no problem only).
    pub member: Option<MemberRow>,
    /// The row's problems.
    pub problems: Vec<Problem>,
}

impl MemberParser {
    /// The parser of a sheet with this header row, or the problems of the header
    /// (`MISSING_COLUMN`, `UNKNOWN_COLUMN`, `DUPLICATE_COLUMN`).
    pub fn new(sheet: &str, header: &[Cell]) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let index = columns_of(sheet, header, Kind::Members, &mut problems);
        if problems.is_empty() {
            Ok(Self {
                sheet: sheet.to_owned(),
                index,
            })
        } else {
            Err(problems)
        }
    }

    /// The sheet's name.
    pub fn sheet(&self) -> &str {
        &self.sheet
    }

    /// The problem of a card number already given on row `first`.
    pub fn duplicate(&self, row: usize, card: &str, first: usize) -> Problem {
        duplicate_card(&self.sheet, row, card, first)
    }

    /// Reads data row `row` (as the spreadsheet numbers it): every cell parsed, the rules
    /// that need nothing but the row (A13–A15, dates after the birth) applied.
    pub fn read(
        &self,
        row: usize,
        cells: &[Cell],
        probation_months: &dyn Fn(Option<NaiveDate>) -> u32,
    ) -> ReadRow {
        let index = &self.index;
        let mut r = RowReader {
            sheet: &self.sheet,
            row,
            cells,
            index,
            problems: Vec::new(),
        };
        let card = r.code("card", parse_code, "không có khoảng trắng / no spaces");
        let full_name = r.text("full_name");
        if full_name.as_ref().is_some_and(|n| n.chars().count() > 255) {
            let c = r.column("full_name");
            r.problem(
                c,
                "TOO_LONG",
                Text::new(
                    "Họ và tên tối đa 255 ký tự.",
                    "The full name has at most 255 characters.",
                ),
            );
        }
        let date_of_birth = r.date("date_of_birth");
        let sex = r.code("sex", parse_sex, "Nam, Nữ");
        let ethnicity = r.text("ethnicity");
        let religion = r.text("religion");
        let education = r
            .code(
                "education",
                parse_education,
                "PRIMARY, LOWER_SECONDARY, UPPER_SECONDARY",
            )
            .unwrap_or_else(|| "NOT_RECORDED".to_owned());
        let occupation = r.text("occupation");
        let admission_decision = r.date("admission_decision");
        let ceremony = r.date("ceremony");
        let official = r.date("official");
        let email = r.text("email");
        if let Some(e) = &email
            && crate::email::EmailAddress::parse(e).is_err()
        {
            let c = r.column("email");
            r.problem(
                c,
                "BAD_EMAIL",
                Text::new(
                    format!("«{e}» không phải là địa chỉ thư điện tử."),
                    format!("`{e}` is not an e-mail address."),
                ),
            );
        }
        let unit_history = r.history("unit_history", parse_code, true);
        let residences = r
            .history_with("residence_history", parse_code, RESIDENCE_REASONS)
            .unwrap_or_default();
        let status_history = r.history("status_history", parse_status, false);
        let unit = r.code("unit", parse_code, "mã chi bộ / a branch code");
        let unit_since = r.date("unit_since");
        let status = r.code("status", parse_status, "PROBATIONARY, OFFICIAL, ...");
        let units = match unit_history {
            Some(h) if !h.is_empty() => h,
            _ => match (unit, unit_since) {
                (Some(u), Some(since)) => vec![Period {
                    value: u,
                    from: since,
                    to: None,
                    reason: Some("REGISTERED".to_owned()),
                }],
                _ => {
                    let c = r.column("unit").or(r.column("unit_history"));
                    r.problem(
                        c,
                        "REQUIRED",
                        Text::new(
                            "Phải ghi chi bộ và ngày sinh hoạt, hoặc lịch sử sinh hoạt.",
                            "The branch and since when, or the unit history, are required.",
                        ),
                    );
                    Vec::new()
                }
            },
        };
        let dates = date_of_birth.map(|dob| AdmissionDates {
            date_of_birth: dob,
            admission_decision,
            ceremony,
            official,
        });
        let statuses = match (status_history, status, &units.first()) {
            (Some(h), _, _) if !h.is_empty() => h,
            (_, Some(s), Some(first)) => dates
                .map(|d| tree::registration_statuses(s, &d, first.from, None))
                .unwrap_or_default(),
            _ => {
                let c = r.column("status").or(r.column("status_history"));
                r.problem(
                    c,
                    "REQUIRED",
                    Text::new(
                        "Phải ghi tình trạng hoặc lịch sử tình trạng.",
                        "The status or the status history is required.",
                    ),
                );
                Vec::new()
            }
        };
        // A member decided whose ceremony is still to come is what the admission workflow
        // records at the decision (A10): probationary from the decision, no ceremony yet.
        let pending_ceremony = |d: AdmissionDates, s: MemberStatus| {
            if s == MemberStatus::Probationary && d.ceremony.is_none() && d.official.is_none() {
                AdmissionDates {
                    ceremony: d.admission_decision,
                    ..d
                }
            } else {
                d
            }
        };
        if let (Some(d), Some(last)) = (dates, statuses.last())
            && let Err(ps) = tree::check_admission_dates(
                last.value,
                &pending_ceremony(d, last.value),
                probation_months(ceremony),
            )
        {
            let c = r.column("admission_decision");
            for p in ps {
                r.problem(c, "ADMISSION_DATES", p);
            }
        }
        if let Some(dob) = date_of_birth
            && (units.first().is_some_and(|u| u.from < dob)
                || statuses.first().is_some_and(|s| s.from < dob))
        {
            r.problem(
                None,
                "DATES",
                Text::new(
                    "Ngày sinh hoạt tại chi bộ và ngày của tình trạng phải sau ngày sinh.",
                    "The dates of the unit and of the status must come after the date of birth.",
                ),
            );
        }
        let problems = std::mem::take(&mut r.problems);
        let member = match (card.clone(), full_name, date_of_birth, sex, ethnicity) {
            (Some(card), Some(full_name), Some(date_of_birth), Some(sex), Some(ethnicity))
                if problems.is_empty() =>
            {
                Some(MemberRow {
                    row,
                    card,
                    full_name,
                    date_of_birth,
                    sex,
                    ethnicity,
                    religion,
                    education,
                    occupation,
                    admission_decision,
                    ceremony,
                    official,
                    email,
                    units,
                    statuses,
                    residences,
                })
            }
            _ => None,
        };
        ReadRow {
            row,
            card,
            member,
            problems,
        }
    }
}

/// The problem of row `row` of `sheet` giving card number `card` already given on row
/// `first`.
pub fn duplicate_card(sheet: &str, row: usize, card: &str, first: usize) -> Problem {
    Problem {
        sheet: sheet.to_owned(),
        row,
        column: Some(MEMBER_COLUMNS[0].vi.to_owned()),
        code: "DUPLICATE",
        reason: Text::new(
            format!("Số thẻ {card} đã có ở dòng {first}."),
            format!("Card number {card} already appears on row {first}."),
        ),
    }
}

/// The natural keys of a file too large to hold, each as a 64-bit hash (8 bytes a row: some
/// 45 MB for 5.6 million card numbers): what finds the keys given twice without keeping the
/// keys. Two keys may share a hash, so the hashes seen twice are only candidates: the reader
/// reads the file again for the rows with those hashes and compares the keys themselves.
#[derive(Debug, Clone, Default)]
pub struct KeyHashes {
    hashes: Vec<u64>,
}

impl KeyHashes {
    /// Notes a key.
    pub fn insert(&mut self, key: &str) {
        self.hashes.push(key_hash(key));
    }

    /// How many keys were noted.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hashes noted more than once (candidates, above), the memory given back.
    pub fn repeated(mut self) -> std::collections::HashSet<u64> {
        self.hashes.sort_unstable();
        let mut out = std::collections::HashSet::new();
        for w in self.hashes.windows(2) {
            if w[0] == w[1] {
                out.insert(w[0]);
            }
        }
        out
    }
}

/// A key's hash for [`KeyHashes`] (the same in every run).
pub fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// How a history recorded in the registry compares with the one a file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryChange<T> {
    /// The same.
    Same,
    /// The file carries the history on: the open period recorded is closed on `close_on`
    /// (when given) and the periods `added` follow. A dated change, nothing rewritten.
    Extends {
        /// The day the recorded open period ends, if it does.
        close_on: Option<NaiveDate>,
        /// The periods after the recorded ones.
        added: Vec<Period<T>>,
    },
    /// The file differs in the past: importing it would rewrite history.
    Rewrites,
}

/// Compares a recorded history with a file's (reasons are not compared: they are the
/// registry's own account of why).
pub fn compare_history<T: PartialEq + Clone>(
    recorded: &[Period<T>],
    file: &[Period<T>],
) -> HistoryChange<T> {
    if recorded.len() > file.len() {
        return HistoryChange::Rewrites;
    }
    let same = |a: &Period<T>, b: &Period<T>| a.value == b.value && a.from == b.from;
    let n = recorded.len();
    for (i, (a, b)) in recorded.iter().zip(file).enumerate() {
        if !same(a, b) {
            return HistoryChange::Rewrites;
        }
        if a.to != b.to && !(i + 1 == n && a.to.is_none()) {
            return HistoryChange::Rewrites;
        }
    }
    let close_on = match (recorded.last(), file.get(n.wrapping_sub(1))) {
        (Some(a), Some(b)) if a.to != b.to => b.to,
        _ => None,
    };
    let added: Vec<Period<T>> = file.iter().skip(n).cloned().collect();
    if close_on.is_none() && added.is_empty() {
        return HistoryChange::Same;
    }
    // A period opened after an open one that is not closed would overlap it.
    if recorded.last().is_some_and(|a| a.to.is_none()) && close_on.is_none() {
        return HistoryChange::Rewrites;
    }
    HistoryChange::Extends { close_on, added }
}

/// Which kind each sheet holds: every sheet of `only` when given, else by its name or
/// headers; sheets of neither kind (the template's explanations) are skipped.
pub fn kinds(sheets: &[Sheet], only: Option<Kind>) -> Vec<(Kind, &Sheet)> {
    sheets
        .iter()
        .filter_map(|s| {
            let k = if s.name == Kind::Units.sheet_name() {
                Some(Kind::Units)
            } else if s.name == Kind::Members.sheet_name() {
                Some(Kind::Members)
            } else if s.name == Kind::RoleHolders.sheet_name() {
                Some(Kind::RoleHolders)
            } else if s.name == Kind::Badges.sheet_name() {
                Some(Kind::Badges)
            } else if s.name == Kind::Hamlets.sheet_name() {
                Some(Kind::Hamlets)
            } else if s.name == Kind::Discipline.sheet_name() {
                Some(Kind::Discipline)
            } else {
                kind_of(s)
            }?;
            only.is_none_or(|o| o == k).then_some((k, s))
        })
        .collect()
}

/// The rows of every sheet of a file, parsed: what the store is given to check against the
/// database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileRows {
    /// Unit rows.
    pub units: Vec<UnitRow>,
    /// The sheet the units came from.
    pub units_sheet: String,
    /// Member rows.
    pub members: Vec<MemberRow>,
    /// The sheet the members came from.
    pub members_sheet: String,
    /// Role holder rows.
    pub roles: Vec<RoleRow>,
    /// The sheet the role holders came from.
    pub roles_sheet: String,
    /// Badge rows.
    pub badges: Vec<BadgeRow>,
    /// The sheet the badges came from.
    pub badges_sheet: String,
    /// Hamlet rows.
    pub hamlets: Vec<HamletRow>,
    /// The sheet the hamlets came from.
    pub hamlets_sheet: String,
    /// Discipline register rows.
    pub discipline: Vec<DisciplineRow>,
    /// The sheet the discipline register came from.
    pub discipline_sheet: String,
    /// Every problem found in the file itself.
    pub problems: Vec<Problem>,
    /// The kinds the file holds.
    pub kinds: Vec<Kind>,
}

/// Parses every sheet of a file (of kind `only` when given): `NO_SHEET` when none follows a
/// template.
pub fn parse_file(
    file: &str,
    sheets: &[Sheet],
    only: Option<Kind>,
    probation_months: &dyn Fn(Option<NaiveDate>) -> u32,
) -> FileRows {
    let mut out = FileRows::default();
    let found = kinds(sheets, only);
    if found.is_empty() {
        out.problems.push(Problem {
            sheet: file.to_owned(),
            row: 0,
            column: None,
            code: "NO_SHEET",
            reason: Text::new(
                "Không có bảng nào theo mẫu (đơn vị, đảng viên, người giữ vai trò, huy hiệu Đảng, ấp, khu vực hoặc kỷ luật): hãy dùng tệp mẫu.",
                "No sheet follows a template (units, members, role holders, party badges, hamlets or discipline): use the template.",
            ),
        });
    }
    for (kind, sheet) in found {
        if !out.kinds.contains(&kind) {
            out.kinds.push(kind);
        }
        match kind {
            Kind::Units => {
                let p = parse_units(sheet);
                out.problems.extend(p.problems);
                out.units.extend(p.rows);
                out.units_sheet = sheet.name.clone();
            }
            Kind::Members => {
                let p = parse_members(sheet, probation_months);
                out.problems.extend(p.problems);
                out.members.extend(p.rows);
                out.members_sheet = sheet.name.clone();
            }
            Kind::RoleHolders => {
                let p = parse_role_holders(sheet);
                out.problems.extend(p.problems);
                out.roles.extend(p.rows);
                out.roles_sheet = sheet.name.clone();
            }
            Kind::Badges => {
                let p = parse_badges(sheet);
                out.problems.extend(p.problems);
                out.badges.extend(p.rows);
                out.badges_sheet = sheet.name.clone();
            }
            Kind::Hamlets => {
                let p = parse_hamlets(sheet);
                out.problems.extend(p.problems);
                out.hamlets.extend(p.rows);
                out.hamlets_sheet = sheet.name.clone();
            }
            Kind::Discipline => {
                let p = parse_discipline(sheet);
                out.problems.extend(p.problems);
                out.discipline.extend(p.rows);
                out.discipline_sheet = sheet.name.clone();
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    fn members_sheet(rows: Vec<Vec<Cell>>) -> Sheet {
        let mut all = vec![MEMBER_COLUMNS.iter().map(|c| t(c.vi)).collect()];
        all.extend(rows);
        Sheet {
            name: "Đảng viên".into(),
            rows: all,
        }
    }

    fn member(card: &str, dob: Cell, status: &str) -> Vec<Cell> {
        vec![
            t(card),
            t("Nguyễn Thị Lan"),
            dob,
            t("Nữ"),
            t("Kinh"),
            Cell::Empty,
            t("UPPER_SECONDARY"),
            t("FARMER"),
            t("10/03/2016"),
            t("2016-04-01"),
            Cell::Number(42826.0), // 2017-04-01
            t("HG-VT-1"),
            t("2016-03-10"),
            t(status),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
        ]
    }

    #[test]
    fn dates_are_read_in_the_three_forms() {
        assert_eq!(cell_date(&t("2023-06-30")).unwrap(), d("2023-06-30"));
        assert_eq!(cell_date(&t("30/06/2023")).unwrap(), d("2023-06-30"));
        assert_eq!(cell_date(&t("1/7/2025")).unwrap(), d("2025-07-01"));
        assert_eq!(cell_date(&Cell::Number(45107.0)).unwrap(), d("2023-06-30"));
        assert_eq!(cell_date(&t("45107")).unwrap(), d("2023-06-30"));
        assert_eq!(excel_serial(1.0).unwrap(), d("1900-01-01"));
        assert!(cell_date(&t("30/06/23")).is_err());
        assert!(cell_date(&t("31/02/2023")).is_err());
        assert!(cell_date(&Cell::Number(1.5)).is_err());
    }

    #[test]
    fn histories_round_trip_through_their_text() {
        let s = "2004-01-01 HG-A REGISTERED; 19/07/2019 HG-B MERGED; 2021-05-05 -";
        let h = parse_history(s, parse_code, true).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].to, Some(d("2019-07-19")));
        assert_eq!(h[1].to, Some(d("2021-05-05")));
        let back = format_history(&h, String::clone);
        assert_eq!(
            back,
            "2004-01-01 HG-A REGISTERED; 2019-07-19 HG-B MERGED; 2021-05-05 -"
        );
        assert_eq!(parse_history(&back, parse_code, true).unwrap(), h);
        assert!(parse_history("2019-01-01 A; 2018-01-01 B", parse_code, false).is_err());
        assert!(parse_history("2019-01-01 A BOGUS", parse_code, true).is_err());
    }

    #[test]
    fn a_good_member_row_parses_with_its_derived_statuses() {
        let p = parse_members(
            &members_sheet(vec![member("01234567", t("1990-05-02"), "Chính thức")]),
            &|_| 12,
        );
        assert_eq!(p.problems, vec![]);
        let m = &p.rows[0];
        assert_eq!(m.sex, "FEMALE");
        assert_eq!(m.admission_decision, Some(d("2016-03-10")));
        assert_eq!(m.official, Some(d("2017-04-01")));
        assert_eq!(m.units[0].value, "HG-VT-1");
        assert_eq!(
            m.statuses
                .iter()
                .map(|s| (s.value, s.from, s.to))
                .collect::<Vec<_>>(),
            vec![
                (
                    MemberStatus::Probationary,
                    d("2016-04-01"),
                    Some(d("2017-04-01"))
                ),
                (MemberStatus::Official, d("2017-04-01"), None),
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_with_row_and_column() {
        let mut bad = member("01234567", t("31/02/1990"), "Chính thức");
        bad[3] = t("X");
        let p = parse_members(
            &members_sheet(vec![
                member("01234567", t("1990-05-02"), "Chính thức"),
                member("01234567", t("1990-05-02"), "Chính thức"),
                bad,
            ]),
            &|_| 12,
        );
        assert_eq!(p.rows.len(), 1);
        let found: Vec<(usize, Option<&str>, &str)> = p
            .problems
            .iter()
            .map(|p| (p.row, p.column.as_deref(), p.code))
            .collect();
        assert!(found.contains(&(3, Some("Số thẻ đảng viên"), "DUPLICATE")));
        assert!(found.contains(&(4, Some("Ngày sinh"), "BAD_DATE")));
        assert!(found.contains(&(4, Some("Giới tính"), "UNKNOWN_CODE")));
    }

    #[test]
    fn a_row_read_by_itself_is_the_row_the_sheet_gives() {
        let sheet = members_sheet(vec![
            member("01234567", t("1990-05-02"), "Chính thức"),
            member("01234568", t("31/02/1990"), "Chính thức"),
        ]);
        let whole = parse_members(&sheet, &|_| 12);
        let parser = MemberParser::new("Đảng viên", &sheet.rows[0]).unwrap();
        let first = parser.read(2, &sheet.rows[1], &|_| 12);
        assert_eq!(first.member.as_ref(), whole.rows.first());
        assert_eq!(first.card.as_deref(), Some("01234567"));
        let second = parser.read(3, &sheet.rows[2], &|_| 12);
        assert_eq!(second.member, None);
        assert_eq!(second.card.as_deref(), Some("01234568"));
        assert_eq!(second.problems, whole.problems);
        let bad = MemberParser::new("x", &[t("Số thẻ đảng viên"), t("Cột lạ")]).unwrap_err();
        let codes: Vec<&str> = bad.iter().map(|p| p.code).collect();
        assert!(codes.contains(&"UNKNOWN_COLUMN") && codes.contains(&"MISSING_COLUMN"));
    }

    #[test]
    fn key_hashes_name_the_keys_given_twice() {
        let mut keys = KeyHashes::default();
        for k in ["0001", "0002", "0003", "0002", "0004", "0001", "0002"] {
            keys.insert(k);
        }
        assert_eq!(keys.len(), 7);
        let repeated = keys.repeated();
        assert_eq!(repeated.len(), 2);
        assert!(repeated.contains(&key_hash("0001")) && repeated.contains(&key_hash("0002")));
        assert!(!repeated.contains(&key_hash("0003")));
        assert_ne!(key_hash("0001"), key_hash("0010"));
    }

    #[test]
    fn a_missing_column_is_a_problem_of_the_sheet() {
        let sheet = Sheet {
            name: "x".into(),
            rows: vec![vec![t("Mã đơn vị"), t("Tên đơn vị")]],
        };
        let p = parse_units(&sheet);
        assert!(
            p.problems
                .iter()
                .any(|p| p.code == "MISSING_COLUMN" && p.column.as_deref() == Some("Loại"))
        );
        assert_eq!(kind_of(&sheet), Some(Kind::Units));
    }

    #[test]
    fn a_longer_history_is_a_dated_change_a_different_past_a_rewrite() {
        let p = |v: &str, from: &str, to: Option<&str>| Period {
            value: v.to_owned(),
            from: d(from),
            to: to.map(d),
            reason: None,
        };
        let recorded = vec![p("A", "2004-01-01", None)];
        assert_eq!(
            compare_history(&recorded, &recorded.clone()),
            HistoryChange::Same
        );
        let moved = vec![
            p("A", "2004-01-01", Some("2020-01-01")),
            p("B", "2020-01-01", None),
        ];
        assert_eq!(
            compare_history(&recorded, &moved),
            HistoryChange::Extends {
                close_on: Some(d("2020-01-01")),
                added: vec![p("B", "2020-01-01", None)]
            }
        );
        assert_eq!(
            compare_history(&recorded, &[p("C", "2004-01-01", None)]),
            HistoryChange::Rewrites
        );
        assert_eq!(compare_history(&moved, &recorded), HistoryChange::Rewrites);
    }

    fn roles_sheet(rows: &[&[&str]]) -> Sheet {
        let mut all = vec![ROLE_COLUMNS.iter().map(|c| t(c.vi)).collect::<Vec<Cell>>()];
        all.extend(rows.iter().map(|r| r.iter().map(|c| t(c)).collect()));
        Sheet {
            name: "Người giữ vai trò".into(),
            rows: all,
        }
    }

    #[test]
    fn role_holders_parse_with_their_codes_names_and_periods() {
        let sheet = roles_sheet(&[
            &[
                "bt-a01",
                "secretary",
                "HG-A01",
                "0100001",
                "a@example.org",
                "2020-01-01",
                "2023-01-01",
            ],
            &["bt-a01", "Bí thư", "HG-A01", "", "", "01/01/2023", ""],
            &[
                "tc",
                "organization_department",
                "",
                "",
                "",
                "2021-05-05",
                "",
            ],
        ]);
        assert_eq!(kind_of(&sheet), Some(Kind::RoleHolders));
        let p = parse_role_holders(&sheet);
        assert_eq!(p.problems, vec![]);
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[1].role, Role::Secretary);
        assert_eq!(p.rows[1].from, d("2023-01-01"));
        assert_eq!(p.rows[0].to, Some(d("2023-01-01")));
        assert_eq!(p.rows[2].unit, None);
        assert_eq!(p.rows[0].email.as_deref(), Some("a@example.org"));
    }

    #[test]
    fn role_holder_rows_with_problems_name_their_cells() {
        let sheet = roles_sheet(&[
            &[
                "bt-a01",
                "secretary",
                "HG-A01",
                "0100001",
                "a@example.org",
                "2020-01-01",
                "",
            ],
            // The same key again, an overlapping period, another card, a bad role and date.
            &["bt-a01", "secretary", "HG-A01", "", "", "2020-01-01", ""],
            &[
                "bt-a01",
                "secretary",
                "HG-A01",
                "0100002",
                "",
                "2021-01-01",
                "",
            ],
            &["x", "mayor", "", "", "not-an-address", "2020-13-01", ""],
            &["y", "admin", "", "", "", "2020-01-02", "2020-01-01"],
        ]);
        let p = parse_role_holders(&sheet);
        assert_eq!(p.rows.len(), 1);
        let codes: Vec<(usize, &str)> = p.problems.iter().map(|p| (p.row, p.code)).collect();
        assert_eq!(
            codes,
            vec![
                (3, "DUPLICATE"),
                (4, "DATES"),
                (4, "INCONSISTENT"),
                (5, "UNKNOWN_CODE"),
                (5, "BAD_EMAIL"),
                (5, "BAD_DATE"),
                (6, "DATES"),
            ]
        );
    }

    #[test]
    fn badge_rows_are_told_by_their_years_column_and_given_once() {
        let header: Vec<Cell> = BADGE_COLUMNS.iter().map(|c| t(c.en)).collect();
        let sheet = Sheet {
            name: "badges.csv".into(),
            rows: vec![
                header,
                vec![t("00000001"), Cell::Number(30.0), t("02/09/2025")],
                vec![t("00000001"), t("30"), t("2025-09-02")],
                vec![t("00000002"), t("ba mươi"), t("2025-09-02")],
                vec![t("00000003"), t("40"), t("2025-13-02")],
                vec![Cell::Empty, t("40"), t("2025-09-02")],
            ],
        };
        assert_eq!(kind_of(&sheet), Some(Kind::Badges));
        let p = parse_badges(&sheet);
        assert_eq!(
            p.rows,
            vec![BadgeRow {
                row: 2,
                card: "00000001".into(),
                years: 30,
                award_date: d("2025-09-02"),
            }]
        );
        let codes: Vec<(usize, &str)> = p.problems.iter().map(|p| (p.row, p.code)).collect();
        assert_eq!(
            codes,
            vec![
                (3, "DUPLICATE"),
                (4, "UNKNOWN_CODE"),
                (5, "BAD_DATE"),
                (6, "REQUIRED")
            ]
        );
        assert_eq!(kinds(std::slice::from_ref(&sheet), None).len(), 1);
    }

    #[test]
    fn hamlet_rows_are_told_by_their_code_column_with_their_branch_history() {
        let header: Vec<Cell> = HAMLET_COLUMNS.iter().map(|c| t(c.vi)).collect();
        let sheet = Sheet {
            name: "ap.csv".into(),
            rows: vec![
                header,
                vec![
                    t("KV1"),
                    t("Khu vực 1"),
                    t("khu vực"),
                    t("P1"),
                    t("2010-01-01"),
                    Cell::Empty,
                    Cell::Empty,
                    t("2010-01-01 A1; 2020-01-01 -; 2021-01-01 A2"),
                ],
                vec![
                    t("KV2"),
                    t("Thôn 2"),
                    t("thôn"),
                    t("P1"),
                    t("2010-01-01"),
                    t("2020-01-01"),
                    t("KV1"),
                    t("A3"),
                ],
                vec![
                    t("KV3"),
                    t("Tổ 3"),
                    t("RESIDENTIAL_GROUP"),
                    t("P1"),
                    t("2010-01-01"),
                    t("2012-01-01"),
                    Cell::Empty,
                    t("2009-01-01 A4"),
                ],
                vec![
                    t("KV1"),
                    t("Khu vực 1"),
                    t("PHUONG"),
                    t("P1"),
                    t("2010-01-01"),
                    Cell::Empty,
                    t("KV9"),
                    Cell::Empty,
                ],
            ],
        };
        assert_eq!(kind_of(&sheet), Some(Kind::Hamlets));
        assert_eq!(kinds(std::slice::from_ref(&sheet), None).len(), 1);
        let p = parse_hamlets(&sheet);
        let codes: Vec<(usize, &str)> = p.problems.iter().map(|p| (p.row, p.code)).collect();
        assert_eq!(
            codes,
            vec![
                (4, "BAD_HISTORY"),
                (5, "UNKNOWN_CODE"),
                (5, "DATES"),
                (5, "DUPLICATE")
            ]
        );
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0].kind, HamletKind::WardArea);
        assert_eq!(
            p.rows[0].branches,
            vec![
                Period {
                    value: "A1".to_owned(),
                    from: d("2010-01-01"),
                    to: Some(d("2020-01-01")),
                    reason: None
                },
                Period {
                    value: "A2".to_owned(),
                    from: d("2021-01-01"),
                    to: None,
                    reason: None
                }
            ]
        );
        // One code: the branch over the hamlet's whole existence.
        assert_eq!(p.rows[1].kind, HamletKind::Hamlet);
        assert_eq!(p.rows[1].successor.as_deref(), Some("KV1"));
        assert_eq!(
            p.rows[1].branches,
            vec![Period {
                value: "A3".to_owned(),
                from: d("2010-01-01"),
                to: Some(d("2020-01-01")),
                reason: None
            }]
        );
    }

    #[test]
    fn discipline_rows_are_told_by_their_form_column_with_their_status_dates() {
        let header: Vec<Cell> = DISCIPLINE_COLUMNS.iter().map(|c| t(c.vi)).collect();
        let row = |cells: [&str; 8]| cells.iter().map(|c| t(c)).collect::<Vec<Cell>>();
        let sheet = Sheet {
            name: "ky-luat.csv".into(),
            rows: vec![
                header,
                row([
                    "00000001",
                    "khiển trách",
                    "12-QĐ/ĐU",
                    "Ban Thường vụ",
                    "grassroots",
                    "2020-03-01",
                    "LAPSED",
                    "2021-03-01",
                ]),
                row(["00000001", "REPRIMAND", "", "", "", "01/03/2020", "", ""]),
                row(["00000002", "giải tán", "", "", "", "2020-03-01", "", ""]),
                row([
                    "00000003",
                    "WARNING",
                    "",
                    "branch",
                    "",
                    "2020-03-01",
                    "",
                    "",
                ]),
                row([
                    "00000004",
                    "WARNING",
                    "",
                    "",
                    "",
                    "2020-03-01",
                    "LAPSED",
                    "",
                ]),
                row([
                    "00000005",
                    "WARNING",
                    "",
                    "",
                    "",
                    "2020-03-01",
                    "ANNULLED",
                    "2020-03-01",
                ]),
                row([
                    "00000006",
                    "WARNING",
                    "",
                    "",
                    "",
                    "2020-03-01",
                    "",
                    "2021-01-01",
                ]),
                row([
                    "00000007",
                    "expulsion",
                    "",
                    "branch",
                    "chi bộ",
                    "2020-03-01",
                    "in force",
                    "",
                ]),
            ],
        };
        assert_eq!(kind_of(&sheet), Some(Kind::Discipline));
        let p = parse_discipline(&sheet);
        assert_eq!(
            p.rows,
            vec![
                DisciplineRow {
                    row: 2,
                    card: "00000001".into(),
                    form: DisciplineForm::Reprimand,
                    number: Some("12-QĐ/ĐU".into()),
                    body: Some((BodyKind::StandingCommittee, Level::Grassroots)),
                    decision_date: d("2020-03-01"),
                    status: DisciplineStatus::Lapsed,
                    status_date: Some(d("2021-03-01")),
                },
                DisciplineRow {
                    row: 9,
                    card: "00000007".into(),
                    form: DisciplineForm::Expulsion,
                    number: None,
                    body: Some((BodyKind::Branch, Level::Branch)),
                    decision_date: d("2020-03-01"),
                    status: DisciplineStatus::InForce,
                    status_date: None,
                },
            ]
        );
        let codes: Vec<(usize, &str, Option<&str>)> = p
            .problems
            .iter()
            .map(|p| (p.row, p.code, p.column.as_deref()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (3, "DUPLICATE", Some("Ngày quyết định")),
                (4, "UNKNOWN_CODE", Some("Hình thức kỷ luật")),
                (5, "REQUIRED", Some("Cấp quyết định")),
                (6, "DATES", Some("Ngày đổi tình trạng")),
                (7, "DATES", Some("Ngày đổi tình trạng")),
                (8, "DATES", Some("Ngày đổi tình trạng")),
            ]
        );
        assert!(
            p.problems
                .iter()
                .all(|p| !p.reason.vi.is_empty() && !p.reason.en.is_empty())
        );
        assert_eq!(kinds(std::slice::from_ref(&sheet), None).len(), 1);
    }
}
