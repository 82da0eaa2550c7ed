//! Guards: named Rust functions that decide whether a rule holds, reading the rule set.
//!
//! A definition names guards; the core implements them here, once, with the rule ids they
//! check, the rule-set parameters they read and the case data they need. Every number comes
//! from the rule set in force (rules are data); the code only knows how to compare. A failing
//! guard explains itself in Vietnamese a branch secretary understands and in English, naming
//! the rule id. A guard never panics and never guesses: missing data is reported as such.

use std::fmt;

use chrono::NaiveDate;

use super::case::{Actor, CaseSnapshot};
use super::definition::Definition;
use super::period::{Period, Threshold, fmt_date, full_months_between, months_en, months_vi};
use super::refusal::{Reason, RefusalCode};
use super::ruleset::{ParamKind, RuleSet};
use super::value::{Value, Values};
use crate::calendar::WorkingCalendar;

/// The shape of a piece of case data, as guards read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// A date.
    Date,
    /// A whole number.
    Integer,
    /// Yes or no.
    Boolean,
    /// Text (strings, enum values, member and unit references).
    Text,
    /// A list.
    List,
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DataType::Date => "a date",
            DataType::Integer => "an integer",
            DataType::Boolean => "a boolean",
            DataType::Text => "text",
            DataType::List => "a list",
        })
    }
}

/// A piece of case data a guard reads (an input of the event, else a fact of the case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Key.
    pub key: &'static str,
    /// Shape.
    pub ty: DataType,
    /// Whether the guard cannot decide without it.
    pub required: bool,
}

const fn req(key: &'static str, ty: DataType) -> Read {
    Read {
        key,
        ty,
        required: true,
    }
}

const fn opt(key: &'static str, ty: DataType) -> Read {
    Read {
        key,
        ty,
        required: false,
    }
}

/// What a guard concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardOutcome {
    /// The rule holds.
    Pass,
    /// The rule does not hold, for these reasons.
    Fail(Vec<Reason>),
    /// The guard cannot decide before these keys are known.
    NeedsData(Vec<String>),
}

/// The signature of a guard.
pub type GuardFn = fn(&GuardContext<'_>) -> GuardOutcome;

/// A guard of the registry.
#[derive(Debug)]
pub struct GuardSpec {
    /// Name used in definitions.
    pub name: &'static str,
    /// Rule ids it checks.
    pub rules: &'static [&'static str],
    /// What it checks, for `docs/workflows.md` and `memberflow check`.
    pub doc: &'static str,
    /// Rule-set parameters it reads, with their kinds.
    pub params: &'static [(&'static str, ParamKind)],
    /// Case data it reads.
    pub reads: &'static [Read],
    /// The check.
    pub check: GuardFn,
}

/// What a guard may look at.
#[derive(Debug)]
pub struct GuardContext<'a> {
    /// The definition of the case.
    pub definition: &'a Definition,
    /// The rule set the step is decided under.
    pub rules: &'a RuleSet,
    /// The working-day calendar.
    pub calendar: &'a WorkingCalendar,
    /// The case before the step.
    pub case: &'a CaseSnapshot,
    /// Who fires the event.
    pub actor: &'a Actor,
    /// The data the guard reads: the event's inputs over the case's earlier facts.
    pub data: &'a Values,
    /// The day of the step.
    pub today: NaiveDate,
    /// The guard being run (its name goes on every reason).
    pub guard: &'a GuardSpec,
}

impl GuardContext<'_> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// The date `key`, if present.
    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        self.get(key).and_then(Value::as_date)
    }

    /// The integer `key`, if present.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(Value::as_int)
    }

    /// The boolean `key`, if present.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    /// The text `key`, if present.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_text)
    }

    /// The date `key`, or `NeedsData`.
    pub fn need_date(&self, key: &str) -> Result<NaiveDate, GuardOutcome> {
        self.date(key)
            .ok_or_else(|| GuardOutcome::NeedsData(vec![key.to_owned()]))
    }

    /// The integer `key`, or `NeedsData`.
    pub fn need_int(&self, key: &str) -> Result<i64, GuardOutcome> {
        self.int(key)
            .ok_or_else(|| GuardOutcome::NeedsData(vec![key.to_owned()]))
    }

    /// A period parameter, or a failure explaining why it cannot be read.
    pub fn period(&self, id: &str) -> Result<Period, GuardOutcome> {
        self.rules.period(id).map_err(|e| self.param_failure(&e))
    }

    /// A threshold parameter.
    pub fn threshold(&self, id: &str) -> Result<Threshold, GuardOutcome> {
        self.rules.threshold(id).map_err(|e| self.param_failure(&e))
    }

    /// An integer parameter.
    pub fn integer(&self, id: &str) -> Result<i64, GuardOutcome> {
        self.rules.integer(id).map_err(|e| self.param_failure(&e))
    }

    /// A flag parameter.
    pub fn param_flag(&self, id: &str) -> Result<bool, GuardOutcome> {
        self.rules.flag(id).map_err(|e| self.param_failure(&e))
    }

    /// A text parameter.
    pub fn param_text(&self, id: &str) -> Result<&str, GuardOutcome> {
        self.rules.text(id).map_err(|e| self.param_failure(&e))
    }

    /// A text-list parameter.
    pub fn text_list(&self, id: &str) -> Result<&[String], GuardOutcome> {
        self.rules.text_list(id).map_err(|e| self.param_failure(&e))
    }

    /// A period in months (ages, validity periods), or a failure if the parameter is stated in
    /// days.
    pub fn months(&self, id: &str) -> Result<i64, GuardOutcome> {
        let p = self.period(id)?;
        p.in_months().map(i64::from).ok_or_else(|| {
            GuardOutcome::Fail(vec![
                Reason::new(
                    RefusalCode::ParameterMissing,
                    format!("Lỗi cấu hình: tham số «{id}» phải tính theo tháng hoặc năm, đang là {}.", p.vi()),
                    format!("Configuration error: parameter `{id}` must be in months or years, found {}.", p.en()),
                )
                .with_field(id)
                .with_guard(self.guard.name),
            ])
        })
    }

    /// `date` plus a period, or a failure past the end of the calendar.
    pub fn add(&self, date: NaiveDate, period: Period) -> Result<NaiveDate, GuardOutcome> {
        period.after(date, self.calendar).ok_or_else(|| {
            GuardOutcome::Fail(vec![
                Reason::new(
                    RefusalCode::DateOutOfRange,
                    format!(
                        "Ngày {} cộng {} vượt quá phạm vi lịch.",
                        fmt_date(date),
                        period.vi()
                    ),
                    format!(
                        "{} plus {} is beyond the calendar.",
                        fmt_date(date),
                        period.en()
                    ),
                )
                .with_guard(self.guard.name),
            ])
        })
    }

    /// A failing reason for `rule`, attributed to this guard.
    pub fn reason(&self, rule: &str, vi: String, en: String) -> Reason {
        Reason::new(RefusalCode::GuardFailed, vi, en)
            .with_rule(rule)
            .with_guard(self.guard.name)
    }

    fn param_failure(&self, e: &super::ruleset::ParamError) -> GuardOutcome {
        GuardOutcome::Fail(vec![
            Reason::from_param_error(e).with_guard(self.guard.name),
        ])
    }
}

/// Pass when no reason was collected.
fn verdict(reasons: Vec<Reason>) -> GuardOutcome {
    if reasons.is_empty() {
        GuardOutcome::Pass
    } else {
        GuardOutcome::Fail(reasons)
    }
}

/// Unwraps a parameter or datum, or returns the guard's outcome at once.
macro_rules! get {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(outcome) => return outcome,
        }
    };
}

/// Every guard the core implements.
pub static GUARDS: &[GuardSpec] = &[
    GuardSpec {
        name: "age_at_branch_vote",
        rules: &["E1"],
        doc: "The applicant is at least the minimum age, counted in whole months, on the day of the branch vote. Over the maximum age the case is not refused here: E2/E3 apply at the decision (guard over_age_province_consent).",
        params: &[
            ("E1.min_age", ParamKind::Period),
            ("E1.max_age", ParamKind::Period),
        ],
        reads: &[
            req("date_of_birth", DataType::Date),
            opt("branch_vote_date", DataType::Date),
        ],
        check: age_at_branch_vote,
    },
    GuardSpec {
        name: "over_age_province_consent",
        rules: &["E2", "E3"],
        doc: "An applicant over the maximum age at the branch vote needs the written consent of the province-level standing committee, dated no later than the admission decision.",
        params: &[
            ("E1.max_age", ParamKind::Period),
            ("E3.written_consent_required", ParamKind::Flag),
        ],
        reads: &[
            req("date_of_birth", DataType::Date),
            req("branch_vote_date", DataType::Date),
            opt("decision_date", DataType::Date),
            opt("province_consent_date", DataType::Date),
        ],
        check: over_age_province_consent,
    },
    GuardSpec {
        name: "education_sufficient",
        rules: &["E4"],
        doc: "The applicant's education level is at least the minimum of the rule set, unless the case falls under the exceptions for hardship areas (Ban Bí thư guidance).",
        params: &[
            ("E4.education_levels", ParamKind::TextList),
            ("E4.min_education", ParamKind::Text),
        ],
        reads: &[
            req("education_level", DataType::Text),
            opt("education_exception", DataType::Boolean),
        ],
        check: education_sufficient,
    },
    GuardSpec {
        name: "awareness_certificate_valid",
        rules: &["A2"],
        doc: "The Party awareness course certificate is still valid on the day of the branch vote (validity counted from its issue date).",
        params: &[("A2.certificate_validity", ParamKind::Period)],
        reads: &[
            req("certificate_date", DataType::Date),
            opt("branch_vote_date", DataType::Date),
        ],
        check: awareness_certificate_valid,
    },
    GuardSpec {
        name: "verification_meets_standard",
        rules: &["A5", "E5"],
        doc: "The background verification concluded that the applicant meets the political standard (`verification_conclusion` = `meets_standard`).",
        params: &[],
        reads: &[req("verification_conclusion", DataType::Text)],
        check: verification_meets_standard,
    },
    GuardSpec {
        name: "introducers_valid",
        rules: &["A6"],
        doc: "Enough introducers: official members who have worked with the applicant for the minimum period, or a mass organisation in place of at most one of them; a Youth Union organisation introduces applicants of youth age where one exists.",
        params: &[
            ("A6.introducers_required", ParamKind::Integer),
            ("A6.max_organisation_introducers", ParamKind::Integer),
            ("A6.min_co_working", ParamKind::Period),
            ("A6.youth_union_age_limit", ParamKind::Period),
        ],
        reads: &[
            req("introducer_1", DataType::Text),
            req("introducer_1_official", DataType::Boolean),
            req("introducer_1_since", DataType::Date),
            opt("introducer_2", DataType::Text),
            opt("introducer_2_official", DataType::Boolean),
            opt("introducer_2_since", DataType::Date),
            opt("organisation_introducer", DataType::Text),
            opt("youth_union_present", DataType::Boolean),
            opt("date_of_birth", DataType::Date),
        ],
        check: introducers_valid,
    },
    GuardSpec {
        name: "branch_vote_two_thirds",
        rules: &["A8"],
        doc: "The branch resolution proposing admission has the threshold of votes in favour out of all official members, less those living their party life temporarily elsewhere and exempted members who are absent.",
        params: &[("A8.vote_threshold", ParamKind::Threshold)],
        reads: &[
            req("votes_for", DataType::Integer),
            req("official_members", DataType::Integer),
            opt("excluded_members", DataType::Integer),
        ],
        check: branch_vote_two_thirds,
    },
    GuardSpec {
        name: "grassroots_resolution_valid",
        rules: &["A9"],
        doc: "Where the grassroots committee has been delegated the power to admit, its resolution has the threshold of all committee members in favour.",
        params: &[("A9.committee_threshold", ParamKind::Threshold)],
        reads: &[
            req("grassroots_delegated", DataType::Boolean),
            opt("committee_votes_for", DataType::Integer),
            opt("committee_members", DataType::Integer),
        ],
        check: grassroots_resolution_valid,
    },
    GuardSpec {
        name: "ceremony_within_deadline",
        rules: &["A11"],
        doc: "The admission ceremony is held within the period after the branch received the decision, or later with the direct superior committee's consent.",
        params: &[("A11.ceremony_period", ParamKind::Period)],
        reads: &[
            req("ceremony_date", DataType::Date),
            req("decision_date", DataType::Date),
            opt("decision_received_date", DataType::Date),
            opt("superior_consent_date", DataType::Date),
        ],
        check: ceremony_within_deadline,
    },
    GuardSpec {
        name: "probation_completed",
        rules: &["A13"],
        doc: "The recognition vote is held on or after the end of probation (probation_end, computed from the ceremony date).",
        params: &[("A13.probation_period", ParamKind::Period)],
        reads: &[
            req("probation_end", DataType::Date),
            opt("recognition_vote_date", DataType::Date),
        ],
        check: probation_completed,
    },
    GuardSpec {
        name: "recognition_vote_two_thirds",
        rules: &["A14"],
        doc: "The branch resolution on recognition (or on striking the name) has the threshold of votes of official members.",
        params: &[("A14.vote_threshold", ParamKind::Threshold)],
        reads: &[
            req("votes_for", DataType::Integer),
            req("official_members", DataType::Integer),
            opt("excluded_members", DataType::Integer),
        ],
        check: recognition_vote_two_thirds,
    },
    GuardSpec {
        name: "recognition_rounds_remaining",
        rules: &["A14"],
        doc: "The branch may hold another recognition vote: fewer inconclusive rounds than the maximum so far.",
        params: &[("A14.max_vote_rounds", ParamKind::Integer)],
        reads: &[opt("recognition_vote_rounds", DataType::Integer)],
        check: recognition_rounds_remaining,
    },
    GuardSpec {
        name: "recognition_rounds_exhausted",
        rules: &["A14"],
        doc: "The branch has held the maximum number of inconclusive recognition votes, so the case goes to the competent committee.",
        params: &[("A14.max_vote_rounds", ParamKind::Integer)],
        reads: &[opt("recognition_vote_rounds", DataType::Integer)],
        check: recognition_rounds_exhausted,
    },
    GuardSpec {
        name: "readmission_conditions",
        rules: &["A16", "A17"],
        doc: "For a readmission: enough time since leaving the Party and since a conviction was expunged, and a reason for leaving that does not bar readmission.",
        params: &[
            ("A16.min_interval", ParamKind::Period),
            ("A16.after_expungement", ParamKind::Period),
            ("A17.never_readmit_reasons", ParamKind::TextList),
        ],
        reads: &[
            opt("readmission", DataType::Boolean),
            opt("left_party_date", DataType::Date),
            opt("left_reason", DataType::Text),
            opt("conviction_expunged_date", DataType::Date),
            opt("branch_vote_date", DataType::Date),
        ],
        check: readmission_conditions,
    },
    GuardSpec {
        name: "limitation_period_running",
        rules: &["D7", "D8", "D9", "D10", "D11"],
        doc: "The statute of limitations for the proposed form of discipline has not run out, counted from the end of the violation (restarted by a new violation) to the conclusion of the competent body; some forms and categories have no limit.",
        params: &[
            ("D7.member_reprimand", ParamKind::Period),
            ("D7.member_warning_or_removal", ParamKind::Period),
            ("D8.organisation_reprimand", ParamKind::Period),
            ("D8.organisation_warning", ParamKind::Period),
            ("D9.no_limit_forms", ParamKind::TextList),
            ("D9.no_limit_categories", ParamKind::TextList),
        ],
        reads: &[
            req("subject_kind", DataType::Text),
            req("discipline_form", DataType::Text),
            req("violation_end_date", DataType::Date),
            opt("new_violation_date", DataType::Date),
            opt("violation_category", DataType::Text),
            opt("conclusion_date", DataType::Date),
        ],
        check: limitation_period_running,
    },
    GuardSpec {
        name: "discipline_vote_threshold",
        rules: &["D31", "D33"],
        doc: "The discipline vote reaches its threshold out of all official members (less the D33 exclusions): more than half, or two thirds for a branch proposing expulsion.",
        params: &[
            ("D31.majority", ParamKind::Threshold),
            ("D31.expulsion_branch_threshold", ParamKind::Threshold),
        ],
        reads: &[
            req("discipline_form", DataType::Text),
            req("votes_for", DataType::Integer),
            req("official_members", DataType::Integer),
            opt("excluded_members", DataType::Integer),
        ],
        check: discipline_vote_threshold,
    },
    GuardSpec {
        name: "appeal_within_window",
        rules: &["P1", "P4"],
        doc: "The appeal is filed after the written decision was received and within the appeal window.",
        params: &[("P1.appeal_window", ParamKind::Period)],
        reads: &[
            req("decision_received_date", DataType::Date),
            opt("appeal_filed_date", DataType::Date),
        ],
        check: appeal_within_window,
    },
    GuardSpec {
        name: "appeal_resolution_limit_known",
        rules: &["P5"],
        doc: "The time limit for resolving an appeal is known in the rule set; refuses while the unverified parameter has no value.",
        params: &[("P5.appeal_resolution_period", ParamKind::Period)],
        reads: &[],
        check: appeal_resolution_limit_known,
    },
];

/// The guard named `name`.
pub fn guard(name: &str) -> Option<&'static GuardSpec> {
    GUARDS.iter().find(|g| g.name == name)
}

/// An elapsed number of months in the unit the rule states its period in: "31 tháng" next to
/// "36 tháng", "4 năm 2 tháng" next to "5 năm".
fn elapsed_vi(months: i64, unit: Period) -> String {
    match unit {
        Period::Months(_) => format!("{months} tháng"),
        _ => months_vi(months),
    }
}

fn elapsed_en(months: i64, unit: Period) -> String {
    match unit {
        Period::Months(_) if months == 1 => "1 month".to_owned(),
        Period::Months(_) => format!("{months} months"),
        _ => months_en(months),
    }
}

fn age_vi(months: i64) -> String {
    match (months / 12, months % 12) {
        (y, 0) => format!("{y} tuổi"),
        (y, m) => format!("{y} tuổi {m} tháng"),
    }
}

fn age_en(months: i64) -> String {
    format!("{} old", months_en(months))
}

// E1 ------------------------------------------------------------------------------------------

fn age_at_branch_vote(ctx: &GuardContext<'_>) -> GuardOutcome {
    let min = get!(ctx.months("E1.min_age"));
    let dob = get!(ctx.need_date("date_of_birth"));
    let at = ctx.date("branch_vote_date").unwrap_or(ctx.today);
    let age = full_months_between(dob, at);
    if age >= min {
        // Over the maximum age is E2/E3's business, at the decision.
        return GuardOutcome::Pass;
    }
    let short = min - age;
    verdict(vec![ctx.reason(
        "E1",
        format!(
            "Người vào Đảng chưa đủ {} tại ngày chi bộ xét kết nạp (E1): sinh ngày {}, ngày xét {}, mới {}, còn thiếu {}.",
            age_vi(min),
            fmt_date(dob),
            fmt_date(at),
            if age >= 0 { age_vi(age) } else { "chưa sinh".to_owned() },
            months_vi(short)
        ),
        format!(
            "The applicant is not yet {} on the day the branch considers the admission (E1): born {}, considered on {}, aged {}, {} short.",
            age_en(min),
            fmt_date(dob),
            fmt_date(at),
            months_en(age.max(0)),
            months_en(short)
        ),
    )])
}

// E2, E3 --------------------------------------------------------------------------------------

fn over_age_province_consent(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.months("E1.max_age"));
    let consent_required = get!(ctx.param_flag("E3.written_consent_required"));
    let dob = get!(ctx.need_date("date_of_birth"));
    let vote = get!(ctx.need_date("branch_vote_date"));
    let age = full_months_between(dob, vote);
    if age <= max || !consent_required {
        return GuardOutcome::Pass;
    }
    let decision = ctx.date("decision_date").unwrap_or(ctx.today);
    match ctx.date("province_consent_date") {
        None => verdict(vec![ctx.reason(
            "E3",
            format!(
                "Người vào Đảng đã trên {} tại ngày chi bộ xét ({}) (E2, E3): việc kết nạp phải được ban thường vụ cấp ủy trực thuộc Trung ương đồng ý bằng văn bản trước khi cấp ủy có thẩm quyền ra quyết định, nhưng hồ sơ chưa có văn bản đồng ý này.",
                age_vi(max),
                age_vi(age)
            ),
            format!(
                "The applicant was over {} at the branch vote ({}) (E2, E3): the province-level standing committee must agree in writing before the competent committee decides, and no such consent is on file.",
                age_en(max),
                age_en(age)
            ),
        )]),
        Some(consent) if consent > decision => verdict(vec![ctx.reason(
            "E3",
            format!(
                "Văn bản đồng ý của ban thường vụ cấp ủy trực thuộc Trung ương (ngày {}) phải có trước ngày quyết định kết nạp ({}) (E3).",
                fmt_date(consent),
                fmt_date(decision)
            ),
            format!(
                "The province-level standing committee's written consent (dated {}) must precede the admission decision ({}) (E3).",
                fmt_date(consent),
                fmt_date(decision)
            ),
        )]),
        Some(_) => GuardOutcome::Pass,
    }
}

// E4 ------------------------------------------------------------------------------------------

fn education_vi(code: &str) -> String {
    match code {
        "none" => "chưa tốt nghiệp tiểu học".into(),
        "primary" => "tốt nghiệp tiểu học".into(),
        "lower_secondary" => "tốt nghiệp trung học cơ sở".into(),
        "upper_secondary" => "tốt nghiệp trung học phổ thông".into(),
        "vocational" => "trung cấp, cao đẳng".into(),
        "university" => "đại học".into(),
        "postgraduate" => "sau đại học".into(),
        other => format!("«{other}»"),
    }
}

fn education_sufficient(ctx: &GuardContext<'_>) -> GuardOutcome {
    let levels = get!(ctx.text_list("E4.education_levels"));
    let min = get!(ctx.param_text("E4.min_education"));
    if ctx.flag("education_exception") == Some(true) {
        return GuardOutcome::Pass;
    }
    let level = ctx.text("education_level").unwrap_or_default();
    let rank = |code: &str| levels.iter().position(|l| l == code);
    match (rank(level), rank(min)) {
        (Some(have), Some(need)) if have >= need => GuardOutcome::Pass,
        (Some(_), Some(_)) => verdict(vec![ctx.reason(
            "E4",
            format!(
                "Người vào Đảng phải có bằng {} trở lên (E4); trình độ đã khai là {}. Nếu thuộc vùng được áp dụng ngoại lệ theo hướng dẫn của Ban Bí thư, hãy ghi rõ ngoại lệ.",
                education_vi(min),
                education_vi(level)
            ),
            format!(
                "The applicant must hold at least a `{min}` diploma (E4); the declared level is `{level}`. If the case falls under the Secretariat's exceptions for hardship areas, record the exception."
            ),
        )]),
        _ => verdict(vec![ctx.reason(
            "E4",
            format!(
                "Không xác định được trình độ học vấn «{level}» theo danh mục của bộ quy tắc {} (E4).",
                ctx.rules.id
            ),
            format!(
                "Education level `{level}` (or the minimum `{min}`) is not in the list of rule set {} (E4).",
                ctx.rules.id
            ),
        )]),
    }
}

// A2 ------------------------------------------------------------------------------------------

fn awareness_certificate_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let validity = get!(ctx.period("A2.certificate_validity"));
    let issued = get!(ctx.need_date("certificate_date"));
    let at = ctx.date("branch_vote_date").unwrap_or(ctx.today);
    let expires = get!(ctx.add(issued, validity));
    if issued > at {
        return verdict(vec![ctx.reason(
            "A2",
            format!(
                "Ngày cấp giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng ({}) sau ngày chi bộ xét kết nạp ({}) (A2).",
                fmt_date(issued),
                fmt_date(at)
            ),
            format!(
                "The Party awareness course certificate is dated {}, after the branch vote on {} (A2).",
                fmt_date(issued),
                fmt_date(at)
            ),
        )]);
    }
    if at > expires {
        return verdict(vec![ctx.reason(
            "A2",
            format!(
                "Giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng (cấp ngày {}) chỉ có giá trị {}, đã hết hạn ngày {}, trước ngày chi bộ xét kết nạp {} (A2): chi bộ phải giới thiệu người vào Đảng học lại.",
                fmt_date(issued),
                validity.vi(),
                fmt_date(expires),
                fmt_date(at)
            ),
            format!(
                "The Party awareness course certificate (issued {}) is valid for {} and expired on {}, before the branch vote on {} (A2): the branch must send the applicant to take the course again.",
                fmt_date(issued),
                validity.en(),
                fmt_date(expires),
                fmt_date(at)
            ),
        )]);
    }
    GuardOutcome::Pass
}

// A5, E5 --------------------------------------------------------------------------------------

fn verification_meets_standard(ctx: &GuardContext<'_>) -> GuardOutcome {
    match ctx.text("verification_conclusion") {
        Some("meets_standard") => GuardOutcome::Pass,
        other => verdict(vec![ctx.reason(
            "A5",
            format!(
                "Kết luận thẩm tra lý lịch chưa xác định người vào Đảng đủ tiêu chuẩn chính trị (A5, E5); kết luận hiện tại: «{}».",
                other.unwrap_or("chưa có")
            ),
            format!(
                "The background verification has not concluded that the applicant meets the political standard (A5, E5); current conclusion: `{}`.",
                other.unwrap_or("none")
            ),
        )]),
    }
}

// A6 ------------------------------------------------------------------------------------------

fn introducers_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let required = get!(ctx.integer("A6.introducers_required"));
    let max_org = get!(ctx.integer("A6.max_organisation_introducers"));
    let co_working = get!(ctx.months("A6.min_co_working"));
    let co_working_period = get!(ctx.period("A6.min_co_working"));
    let mut reasons = Vec::new();
    let on = ctx.today;

    let mut people: Vec<&str> = Vec::new();
    for n in ["1", "2"] {
        let Some(who) = ctx
            .text(&format!("introducer_{n}"))
            .filter(|s| !s.trim().is_empty())
        else {
            continue;
        };
        if people.contains(&who) {
            reasons.push(ctx.reason(
                "A6",
                format!("Cùng một đảng viên ({who}) không thể là cả hai người giới thiệu (A6)."),
                format!("The same member ({who}) cannot be both introducers (A6)."),
            ));
            continue;
        }
        people.push(who);
        if ctx.flag(&format!("introducer_{n}_official")) != Some(true) {
            reasons.push(ctx.reason(
                "A6",
                format!("Người giới thiệu {who} phải là đảng viên chính thức (A6)."),
                format!("Introducer {who} must be an official member (A6)."),
            ));
        }
        match ctx.date(&format!("introducer_{n}_since")) {
            None => reasons.push(ctx.reason(
                "A6",
                format!("Chưa ghi thời điểm người giới thiệu {who} bắt đầu cùng công tác, sinh hoạt với người vào Đảng (A6)."),
                format!("The date introducer {who} started working with the applicant is not recorded (A6)."),
            )),
            Some(since) => {
                let together = full_months_between(since, on);
                if together < co_working {
                    reasons.push(ctx.reason(
                        "A6",
                        format!(
                            "Người giới thiệu {who} mới cùng công tác, sinh hoạt với người vào Đảng {} (từ {}), chưa đủ {} (A6).",
                            elapsed_vi(together.max(0), co_working_period),
                            fmt_date(since),
                            co_working_period.vi()
                        ),
                        format!(
                            "Introducer {who} has worked with the applicant for {} (since {}), less than {} (A6).",
                            elapsed_en(together.max(0), co_working_period),
                            fmt_date(since),
                            co_working_period.en()
                        ),
                    ));
                }
            }
        }
    }

    let organisation = ctx
        .text("organisation_introducer")
        .filter(|o| !o.is_empty() && *o != "none");
    let org_count = i64::from(organisation.is_some()).min(max_org);
    let total = i64::try_from(people.len())
        .unwrap_or(i64::MAX)
        .saturating_add(org_count);
    if total < required {
        reasons.push(ctx.reason(
            "A6",
            format!(
                "Cần {required} người giới thiệu (đảng viên chính thức; Đoàn Thanh niên hoặc Công đoàn cơ sở có thể thay {max_org} người) (A6); hiện mới có {total}."
            ),
            format!(
                "{required} introducers are needed (official members; the Youth Union or the trade union may stand for {max_org} of them) (A6); there are {total}."
            ),
        ));
    }

    if ctx.flag("youth_union_present") == Some(true) {
        let limit = get!(ctx.months("A6.youth_union_age_limit"));
        if let Some(dob) = ctx.date("date_of_birth") {
            let age = full_months_between(dob, on);
            if age < limit && organisation != Some("youth_union") {
                reasons.push(ctx.reason(
                    "A6",
                    format!(
                        "Người vào Đảng trong độ tuổi thanh niên (dưới {}) ở nơi có tổ chức Đoàn phải được Ban Chấp hành Đoàn cơ sở và một đảng viên chính thức giới thiệu (A6).",
                        age_vi(limit)
                    ),
                    format!(
                        "An applicant of youth age (under {}) where a Youth Union organisation exists must be introduced by the grassroots Youth Union committee and one official member (A6).",
                        age_en(limit)
                    ),
                ));
            }
        }
    }
    verdict(reasons)
}

// Votes (A8, A9, A14, D31) --------------------------------------------------------------------

struct Tally {
    votes: i64,
    counted: i64,
    members: i64,
    excluded: i64,
}

/// Reads a vote from `votes_key` out of `members_key`, less `excluded_key`, and checks the
/// inputs make sense. The denominator is all official members, not those present (A8, D33).
fn tally(
    ctx: &GuardContext<'_>,
    rule: &str,
    votes_key: &str,
    members_key: &str,
    excluded_key: Option<&str>,
) -> Result<Tally, GuardOutcome> {
    let votes = ctx.need_int(votes_key)?;
    let members = ctx.need_int(members_key)?;
    let excluded = excluded_key.and_then(|k| ctx.int(k)).unwrap_or(0);
    let counted = members - excluded;
    if counted <= 0 || votes < 0 || excluded < 0 {
        return Err(verdict(vec![ctx.reason(
            rule,
            format!(
                "Số liệu biểu quyết không hợp lệ ({rule}): {members} thành viên, loại trừ {excluded}, {votes} phiếu tán thành."
            ),
            format!("Invalid vote figures ({rule}): {members} members, {excluded} excluded, {votes} in favour."),
        )]));
    }
    if votes > counted {
        return Err(verdict(vec![ctx.reason(
            rule,
            format!("Số phiếu tán thành ({votes}) nhiều hơn số thành viên được tính ({counted}) ({rule})."),
            format!("More votes in favour ({votes}) than members counted ({counted}) ({rule})."),
        )]));
    }
    Ok(Tally {
        votes,
        counted,
        members,
        excluded,
    })
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn vote_reason(
    ctx: &GuardContext<'_>,
    rule: &str,
    t: &Tally,
    threshold: Threshold,
    what_vi: &str,
    what_en: &str,
) -> Reason {
    let needed = threshold.required(unsigned(t.counted));
    let base_vi = if t.excluded > 0 {
        format!(
            " (mẫu số: {} đảng viên chính thức, trừ {} người sinh hoạt tạm thời nơi khác hoặc được miễn sinh hoạt và vắng mặt)",
            t.members, t.excluded
        )
    } else {
        String::new()
    };
    let base_en = if t.excluded > 0 {
        format!(
            " (denominator: {} official members less {} living their party life elsewhere or exempted and absent)",
            t.members, t.excluded
        )
    } else {
        String::new()
    };
    ctx.reason(
        rule,
        format!(
            "{what_vi} chỉ có giá trị khi {} tán thành ({rule}): có {}/{}{base_vi} tán thành, cần ít nhất {needed} phiếu.",
            threshold.vi(),
            t.votes,
            t.counted
        ),
        format!(
            "{what_en} is valid only with {} in favour ({rule}): {}/{}{base_en} in favour, at least {needed} needed.",
            threshold.en(),
            t.votes,
            t.counted
        ),
    )
}

fn branch_vote_two_thirds(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A8.vote_threshold"));
    let t = get!(tally(
        ctx,
        "A8",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "A8",
        &t,
        threshold,
        "Nghị quyết đề nghị kết nạp của chi bộ",
        "The branch resolution proposing admission",
    )])
}

fn grassroots_resolution_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A9.committee_threshold"));
    if ctx.flag("grassroots_delegated") != Some(true) {
        return GuardOutcome::Pass;
    }
    if ctx.int("committee_votes_for").is_none() || ctx.int("committee_members").is_none() {
        return verdict(vec![ctx.reason(
            "A9",
            "Đảng ủy cơ sở được ủy quyền kết nạp phải ghi số cấp ủy viên và số phiếu tán thành (A9).".to_owned(),
            "A grassroots committee delegated to admit must record its membership and the votes in favour (A9).".to_owned(),
        )]);
    }
    let t = get!(tally(
        ctx,
        "A9",
        "committee_votes_for",
        "committee_members",
        None
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "A9",
        &t,
        threshold,
        "Nghị quyết kết nạp của đảng ủy cơ sở được ủy quyền",
        "The resolution of a delegated grassroots committee",
    )])
}

fn recognition_vote_two_thirds(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A14.vote_threshold"));
    let t = get!(tally(
        ctx,
        "A14",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "A14",
        &t,
        threshold,
        "Nghị quyết của chi bộ đề nghị công nhận đảng viên chính thức (hoặc xóa tên)",
        "The branch resolution on recognition (or on striking the name)",
    )])
}

// A11 -----------------------------------------------------------------------------------------

fn ceremony_within_deadline(ctx: &GuardContext<'_>) -> GuardOutcome {
    let period = get!(ctx.period("A11.ceremony_period"));
    let ceremony = get!(ctx.need_date("ceremony_date"));
    let received = match ctx.date("decision_received_date") {
        Some(d) => d,
        None => get!(ctx.need_date("decision_date")),
    };
    if ceremony < received {
        return verdict(vec![ctx.reason(
            "A11",
            format!(
                "Lễ kết nạp ({}) không thể tổ chức trước ngày nhận quyết định kết nạp ({}) (A11).",
                fmt_date(ceremony),
                fmt_date(received)
            ),
            format!(
                "The ceremony ({}) cannot precede receipt of the admission decision ({}) (A11).",
                fmt_date(ceremony),
                fmt_date(received)
            ),
        )]);
    }
    let due = get!(ctx.add(received, period));
    if ceremony > due && ctx.date("superior_consent_date").is_none() {
        return verdict(vec![ctx.reason(
            "A11",
            format!(
                "Lễ kết nạp ngày {} quá thời hạn {} kể từ ngày nhận quyết định ({}, hạn cuối {}) (A11): chi bộ phải báo cáo và được cấp ủy cấp trên trực tiếp đồng ý; hãy ghi ngày đồng ý.",
                fmt_date(ceremony),
                period.vi(),
                fmt_date(received),
                fmt_date(due)
            ),
            format!(
                "The ceremony on {} is later than {} after receipt of the decision ({}, due {}) (A11): the branch must report and obtain the direct superior committee's consent; record its date.",
                fmt_date(ceremony),
                period.en(),
                fmt_date(received),
                fmt_date(due)
            ),
        )]);
    }
    GuardOutcome::Pass
}

// A13 -----------------------------------------------------------------------------------------

fn probation_completed(ctx: &GuardContext<'_>) -> GuardOutcome {
    let period = get!(ctx.period("A13.probation_period"));
    let end = get!(ctx.need_date("probation_end"));
    let at = ctx.date("recognition_vote_date").unwrap_or(ctx.today);
    if at >= end {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A13",
        format!(
            "Đảng viên chưa hết thời kỳ dự bị {} (A13): thời kỳ dự bị kết thúc ngày {}, chi bộ chỉ xét công nhận đảng viên chính thức từ ngày đó (ngày xét: {}).",
            period.vi(),
            fmt_date(end),
            fmt_date(at)
        ),
        format!(
            "The {} of probation are not over (A13): probation ends on {}, and the branch may consider recognition only from that day (vote date: {}).",
            period.en(),
            fmt_date(end),
            fmt_date(at)
        ),
    )])
}

// A14 rounds ----------------------------------------------------------------------------------

fn recognition_rounds_remaining(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.integer("A14.max_vote_rounds"));
    let rounds = ctx.int("recognition_vote_rounds").unwrap_or(0);
    if rounds < max {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A14",
        format!(
            "Chi bộ đã biểu quyết {rounds} lần mà không đạt 2/3 cho việc công nhận hay xóa tên (A14): không biểu quyết thêm; báo cáo cấp ủy cấp trên trực tiếp để cấp ủy có thẩm quyền xem xét, quyết định."
        ),
        format!(
            "The branch has voted {rounds} times without reaching the threshold for recognition or striking off (A14): no further vote; report to the direct superior committee so the competent committee decides."
        ),
    )])
}

fn recognition_rounds_exhausted(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.integer("A14.max_vote_rounds"));
    let rounds = ctx.int("recognition_vote_rounds").unwrap_or(0);
    if rounds >= max {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A14",
        format!(
            "Chỉ báo cáo lên cấp ủy cấp trên khi chi bộ đã biểu quyết {max} lần mà không đạt 2/3 (A14); chi bộ mới biểu quyết {rounds} lần."
        ),
        format!(
            "The case goes up only after {max} inconclusive branch votes (A14); the branch has voted {rounds} times."
        ),
    )])
}

// A16, A17 ------------------------------------------------------------------------------------

fn leave_reason_vi(code: &str) -> String {
    match code {
        "abandoned_activities" => "tự ý bỏ sinh hoạt đảng".into(),
        "applied_to_leave" => "xin ra khỏi Đảng".into(),
        "internal_disunity" => "gây mất đoàn kết nội bộ nghiêm trọng".into(),
        "corruption_conviction" => "bị kết án về tội tham nhũng".into(),
        "serious_crime_conviction" => "bị kết án về tội nghiêm trọng trở lên".into(),
        other => format!("«{other}»"),
    }
}

fn readmission_conditions(ctx: &GuardContext<'_>) -> GuardOutcome {
    let interval = get!(ctx.months("A16.min_interval"));
    let interval_period = get!(ctx.period("A16.min_interval"));
    let after_expunged = get!(ctx.months("A16.after_expungement"));
    let after_expunged_period = get!(ctx.period("A16.after_expungement"));
    let never = get!(ctx.text_list("A17.never_readmit_reasons"));
    if ctx.flag("readmission") != Some(true) {
        return GuardOutcome::Pass;
    }
    let at = ctx.date("branch_vote_date").unwrap_or(ctx.today);
    let mut reasons = Vec::new();
    if let Some(reason) = ctx.text("left_reason")
        && never.iter().any(|n| n == reason)
    {
        reasons.push(ctx.reason(
            "A17",
            format!(
                "Không xem xét kết nạp lại người đã ra khỏi Đảng vì {} (A17).",
                leave_reason_vi(reason)
            ),
            format!("A person who left the Party for `{reason}` is never readmitted (A17)."),
        ));
    }
    match ctx.date("left_party_date") {
        None => reasons.push(ctx.reason(
            "A16",
            "Hồ sơ kết nạp lại phải ghi ngày ra khỏi Đảng (A16).".to_owned(),
            "A readmission file must record the date the person left the Party (A16).".to_owned(),
        )),
        Some(left) => {
            let since = full_months_between(left, at);
            if since < interval {
                reasons.push(ctx.reason(
                    "A16",
                    format!(
                        "Người xin kết nạp lại phải ra khỏi Đảng ít nhất {} (A16): ra khỏi Đảng ngày {}, đến ngày xét {} mới được {}.",
                        interval_period.vi(),
                        fmt_date(left),
                        fmt_date(at),
                        elapsed_vi(since.max(0), interval_period)
                    ),
                    format!(
                        "A readmitted person must have left the Party at least {} earlier (A16): left on {}, {} by {}.",
                        interval_period.en(),
                        fmt_date(left),
                        elapsed_en(since.max(0), interval_period),
                        fmt_date(at)
                    ),
                ));
            }
        }
    }
    if let Some(expunged) = ctx.date("conviction_expunged_date") {
        let since = full_months_between(expunged, at);
        if since < after_expunged {
            reasons.push(ctx.reason(
                "A16",
                format!(
                    "Người từng bị kết án phải được xóa án tích ít nhất {} (A16): xóa án tích ngày {}, đến ngày xét mới được {}.",
                    after_expunged_period.vi(),
                    fmt_date(expunged),
                    elapsed_vi(since.max(0), after_expunged_period)
                ),
                format!(
                    "A person once convicted needs {} since the conviction was expunged (A16): expunged on {}, {} by the vote.",
                    after_expunged_period.en(),
                    fmt_date(expunged),
                    elapsed_en(since.max(0), after_expunged_period)
                ),
            ));
        }
    }
    verdict(reasons)
}

// D7–D11 --------------------------------------------------------------------------------------

fn form_vi(code: &str) -> String {
    match code {
        "reprimand" => "khiển trách".into(),
        "warning" => "cảnh cáo".into(),
        "removal" => "cách chức".into(),
        "expulsion" => "khai trừ".into(),
        "dissolution" => "giải tán".into(),
        other => format!("«{other}»"),
    }
}

fn limitation_period_running(ctx: &GuardContext<'_>) -> GuardOutcome {
    let no_limit_forms = get!(ctx.text_list("D9.no_limit_forms"));
    let no_limit_categories = get!(ctx.text_list("D9.no_limit_categories"));
    let form = ctx.text("discipline_form").unwrap_or_default();
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let category = ctx.text("violation_category").unwrap_or_default();
    if no_limit_forms.iter().any(|f| f == form) || no_limit_categories.iter().any(|c| c == category)
    {
        return GuardOutcome::Pass;
    }
    let (rule, param) = match (subject, form) {
        ("member", "reprimand") => ("D7", "D7.member_reprimand"),
        ("member", "warning" | "removal") => ("D7", "D7.member_warning_or_removal"),
        ("organisation", "reprimand") => ("D8", "D8.organisation_reprimand"),
        ("organisation", "warning") => ("D8", "D8.organisation_warning"),
        _ => {
            return verdict(vec![ctx.reason(
                "D7",
                format!(
                    "Hình thức kỷ luật {} không áp dụng cho đối tượng «{subject}» (D1–D3).",
                    form_vi(form)
                ),
                format!("Form `{form}` does not apply to subject `{subject}` (D1–D3)."),
            )]);
        }
    };
    let period = get!(ctx.period(param));
    let ended = get!(ctx.need_date("violation_end_date"));
    // D10: a new violation within the period restarts the clock for the old one.
    let first_expiry = get!(ctx.add(ended, period));
    let start = match ctx.date("new_violation_date") {
        Some(new) if new > ended && new <= first_expiry => new,
        _ => ended,
    };
    let expiry = get!(ctx.add(start, period));
    // D11: the period runs until the competent body concludes; without a recorded conclusion,
    // the day of the step stands in for it.
    let until = ctx.date("conclusion_date").unwrap_or(ctx.today);
    if until <= expiry {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        rule,
        format!(
            "Đã hết thời hiệu kỷ luật ({rule}): thời hiệu {} đối với hình thức {} tính từ {} đã hết ngày {}, trước ngày kết luận {}. Không thi hành kỷ luật (hết thời hiệu).",
            period.vi(),
            form_vi(form),
            fmt_date(start),
            fmt_date(expiry),
            fmt_date(until)
        ),
        format!(
            "The limitation period has run out ({rule}): {} for `{form}` counted from {} ended on {}, before the conclusion on {}. No discipline is imposed.",
            period.en(),
            fmt_date(start),
            fmt_date(expiry),
            fmt_date(until)
        ),
    )])
}

fn discipline_vote_threshold(ctx: &GuardContext<'_>) -> GuardOutcome {
    let form = ctx.text("discipline_form").unwrap_or_default();
    let (param, what_vi, what_en) = if form == "expulsion" {
        (
            "D31.expulsion_branch_threshold",
            "Nghị quyết đề nghị khai trừ của chi bộ",
            "A branch resolution proposing expulsion",
        )
    } else {
        ("D31.majority", "Biểu quyết kỷ luật", "A discipline vote")
    };
    let threshold = get!(ctx.threshold(param));
    let t = get!(tally(
        ctx,
        "D31",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx, "D31", &t, threshold, what_vi, what_en,
    )])
}

// P1, P4, P5 ----------------------------------------------------------------------------------

fn appeal_within_window(ctx: &GuardContext<'_>) -> GuardOutcome {
    let window = get!(ctx.period("P1.appeal_window"));
    let received = get!(ctx.need_date("decision_received_date"));
    let filed = ctx.date("appeal_filed_date").unwrap_or(ctx.today);
    if filed < received {
        return verdict(vec![ctx.reason(
            "P4",
            format!(
                "Đơn khiếu nại nộp ngày {} trước khi nhận quyết định kỷ luật bằng văn bản ({}): không đủ điều kiện giải quyết (P4).",
                fmt_date(filed),
                fmt_date(received)
            ),
            format!(
                "The appeal was filed on {}, before the written decision was received ({}): inadmissible (P4).",
                fmt_date(filed),
                fmt_date(received)
            ),
        )]);
    }
    let due = get!(ctx.add(received, window));
    if filed > due {
        return verdict(vec![ctx.reason(
            "P1",
            format!(
                "Đơn khiếu nại nộp ngày {} quá thời hạn {} kể từ ngày nhận quyết định kỷ luật ({}, hạn cuối {}) (P1); đơn quá hạn không được giải quyết (P4).",
                fmt_date(filed),
                window.vi(),
                fmt_date(received),
                fmt_date(due)
            ),
            format!(
                "The appeal filed on {} is later than {} after receipt of the decision ({}, due {}) (P1); late appeals are inadmissible (P4).",
                fmt_date(filed),
                window.en(),
                fmt_date(received),
                fmt_date(due)
            ),
        )]);
    }
    GuardOutcome::Pass
}

fn appeal_resolution_limit_known(ctx: &GuardContext<'_>) -> GuardOutcome {
    get!(ctx.period("P5.appeal_resolution_period"));
    GuardOutcome::Pass
}
