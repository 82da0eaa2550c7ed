//! The file of a case ("hồ sơ"): which documents are in, which are missing, expiring or
//! expired, computed from the case's facts and history and the rule set, never stated by a
//! client.
//!
//! The list of documents of a workflow is data, [`ADMISSION_DOSSIER`] for the admission
//! workflow (A2–A12, E3), keyed by the names of the facts the workflow's inputs record: a
//! document is in when its fact is. Each document names the rule that asks for it and, where
//! the same fact name is recorded by several transitions (`decision_date` is written by the
//! admission decision and again by the recognition decision), the transitions whose inputs
//! carry it. A document that is not in is **missing** when a later document of the file already
//! is (or its own deadline has passed), **pending** while its step is still ahead, and **not
//! required** when the rule does not apply (the province's consent for an applicant within the
//! age limit, E3) or the case ended before its step. The awareness certificate is valid for
//! `A2.certificate_validity` (60 months) measured to the branch vote, with a warning from
//! `A2.certificate_warning` (54 months); the member's personal-history file is due
//! `A12.member_history_period` (30 working days) after the ceremony.
//!
//! Other workflows have no file list yet: their dossier is empty.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::case::CaseSnapshot;
use super::period::{fmt_date, full_months_between};
use super::ruleset::RuleBook;
use super::value::{Value, Values};
use super::votes::RecordedStep;
use crate::calendar::WorkingCalendar;

/// Whether a document of the file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentStatus {
    /// In the file, and valid.
    Present,
    /// In the file, valid, but its validity ends soon (A2: from 54 months).
    Expiring,
    /// In the file, but no longer valid: it must be renewed (A2: retake the course).
    Expired,
    /// Not in the file although the procedure is past its step, or its deadline has passed.
    Missing,
    /// Not in the file yet: its step is still ahead.
    Pending,
    /// Not needed for this case.
    NotRequired,
}

impl DocumentStatus {
    /// Stable code, e.g. `PRESENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Present => "PRESENT",
            DocumentStatus::Expiring => "EXPIRING",
            DocumentStatus::Expired => "EXPIRED",
            DocumentStatus::Missing => "MISSING",
            DocumentStatus::Pending => "PENDING",
            DocumentStatus::NotRequired => "NOT_REQUIRED",
        }
    }
}

/// What else than presence decides a document's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// In or not.
    Plain,
    /// A2: valid for `A2.certificate_validity` to the branch vote, warned from
    /// `A2.certificate_warning`.
    AwarenessCertificate,
    /// E2, E3: needed only when the applicant is over `E1.max_age` at the branch vote.
    OverAgeConsent,
    /// A12: due `A12.member_history_period` after the ceremony (`ceremony_date`).
    MemberHistory,
}

/// A document of a workflow's file, as data.
#[derive(Debug, Clone, Copy)]
pub struct DocumentSpec {
    /// Stable key.
    pub key: &'static str,
    /// The rule that asks for it.
    pub rule: &'static str,
    /// Vietnamese name.
    pub label_vi: &'static str,
    /// English name.
    pub label_en: &'static str,
    /// The fact whose presence means the document is in.
    pub present: &'static str,
    /// The fact holding its date (the day of the step that recorded it when `None`).
    pub date: Option<&'static str>,
    /// Facts that identify it (numbers, names), joined with commas.
    pub reference: &'static [&'static str],
    /// The transitions whose inputs carry those facts; empty: the case's facts.
    pub recorded_by: &'static [&'static str],
    /// What else decides its status.
    pub kind: DocumentKind,
}

const fn doc(
    key: &'static str,
    rule: &'static str,
    label_vi: &'static str,
    label_en: &'static str,
    present: &'static str,
) -> DocumentSpec {
    DocumentSpec {
        key,
        rule,
        label_vi,
        label_en,
        present,
        date: Some(present),
        reference: &[],
        recorded_by: &[],
        kind: DocumentKind::Plain,
    }
}

/// The admission file, in the order of the procedure (06-HD/TW mục 3; rules A1–A15 of schemas/rules.toml).
pub static ADMISSION_DOSSIER: &[DocumentSpec] = &[
    DocumentSpec {
        reference: &["certificate_number"],
        kind: DocumentKind::AwarenessCertificate,
        ..doc(
            "awareness_certificate",
            "A2",
            "Giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng",
            "Party awareness course certificate",
            "certificate_date",
        )
    },
    doc(
        "application",
        "A3",
        "Đơn xin vào Đảng",
        "Application to join the Party",
        "application_date",
    ),
    doc(
        "personal_history",
        "A4",
        "Lý lịch của người xin vào Đảng",
        "Applicant's personal history",
        "history_date",
    ),
    doc(
        "verification_report",
        "A5",
        "Kết quả thẩm tra lý lịch",
        "Background verification report",
        "verification_report_date",
    ),
    DocumentSpec {
        date: None,
        reference: &["introducer_1", "introducer_2", "organisation_introducer"],
        recorded_by: &["record_introducers"],
        ..doc(
            "introducers",
            "A6",
            "Giấy giới thiệu người vào Đảng",
            "Introductions",
            "introducer_1",
        )
    },
    DocumentSpec {
        reference: &["opinion_sources"],
        ..doc(
            "opinions",
            "A7",
            "Nhận xét của đoàn thể và chi ủy nơi cư trú",
            "Opinions of mass organisations and of the residence branch",
            "opinions_collected_on",
        )
    },
    DocumentSpec {
        reference: &["resolution_number"],
        ..doc(
            "branch_resolution",
            "A8",
            "Nghị quyết của chi bộ đề nghị kết nạp",
            "Branch resolution proposing admission",
            "branch_vote_date",
        )
    },
    doc(
        "grassroots_review",
        "A9",
        "Báo cáo thẩm định của đảng ủy cơ sở",
        "Grassroots committee's review",
        "review_date",
    ),
    DocumentSpec {
        reference: &["province_consent_ref"],
        kind: DocumentKind::OverAgeConsent,
        ..doc(
            "province_consent",
            "E3",
            "Văn bản đồng ý của ban thường vụ cấp ủy trực thuộc Trung ương (người trên 60 tuổi)",
            "Province-level standing committee's written consent (applicant over 60)",
            "province_consent_date",
        )
    },
    DocumentSpec {
        reference: &["decision_number"],
        recorded_by: &["decide_admission"],
        ..doc(
            "admission_decision",
            "A10",
            "Quyết định kết nạp đảng viên",
            "Admission decision",
            "decision_date",
        )
    },
    doc(
        "ceremony",
        "A11",
        "Lễ kết nạp đảng viên",
        "Admission ceremony",
        "ceremony_date",
    ),
    DocumentSpec {
        kind: DocumentKind::MemberHistory,
        ..doc(
            "member_history",
            "A12",
            "Lý lịch đảng viên",
            "Member's personal-history file",
            "member_history_filed_on",
        )
    },
];

/// The documents of the file of a workflow (empty for a workflow without one).
pub fn dossier_spec(definition_id: &str) -> &'static [DocumentSpec] {
    match definition_id {
        "admission" => ADMISSION_DOSSIER,
        _ => &[],
    }
}

/// One document of a case's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierDocument {
    /// Stable key (`awareness_certificate`, `application`, ...).
    pub key: String,
    /// The rule that asks for it.
    pub rule: String,
    /// Vietnamese name.
    pub label_vi: String,
    /// English name.
    pub label_en: String,
    /// Whether it is in.
    pub status: DocumentStatus,
    /// Its date, when it is in.
    pub date: Option<NaiveDate>,
    /// Numbers or names that identify it.
    pub reference: Option<String>,
    /// Last day it is valid (A2).
    pub valid_until: Option<NaiveDate>,
    /// First day of the expiry warning (A2).
    pub warn_from: Option<NaiveDate>,
    /// Last day to bring it (A12).
    pub due_by: Option<NaiveDate>,
    /// Why the status is what it is, in Vietnamese.
    pub note_vi: Option<String>,
    /// The same in English.
    pub note_en: Option<String>,
}

/// Where a document's facts were found.
struct Found<'a> {
    values: &'a Values,
    day: Option<NaiveDate>,
}

fn find<'a>(
    spec: &DocumentSpec,
    case: &'a CaseSnapshot,
    steps: &'a [RecordedStep<'a>],
) -> Option<Found<'a>> {
    if spec.recorded_by.is_empty() {
        return case.facts.get(spec.present).map(|_| Found {
            values: &case.facts,
            day: None,
        });
    }
    steps
        .iter()
        .rev()
        .find(|s| {
            s.accepted
                && spec.recorded_by.contains(&s.transition)
                && s.inputs.contains_key(spec.present)
        })
        .map(|s| Found {
            values: s.inputs,
            day: Some(s.on),
        })
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) if s.is_empty() || s == "none" => None,
        Value::List(items) => {
            let parts: Vec<String> = items.iter().filter_map(text_of).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        other => Some(other.to_string()),
    }
}

fn date_fact(facts: &Values, key: &str) -> Option<NaiveDate> {
    facts.get(key).and_then(Value::as_date)
}

/// Whether the applicant is over the maximum age at the branch vote (or on `today` before it).
fn over_age(case: &CaseSnapshot, rules: &RuleBook, today: NaiveDate) -> bool {
    let Some(dob) = date_fact(&case.facts, "date_of_birth") else {
        return false;
    };
    let at = date_fact(&case.facts, "branch_vote_date").unwrap_or(today);
    rules
        .for_date(at)
        .and_then(|rs| rs.period("E1.max_age").ok())
        .and_then(|p| p.in_months())
        .is_some_and(|max| full_months_between(dob, at) > i64::from(max))
}

fn note(d: &mut DossierDocument, vi: String, en: String) {
    d.note_vi = Some(vi);
    d.note_en = Some(en);
}

/// A2: validity measured to the branch vote, or to `today` before it.
fn certificate(
    d: &mut DossierDocument,
    case: &CaseSnapshot,
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    today: NaiveDate,
) {
    let Some(issued) = d.date else { return };
    let vote = date_fact(&case.facts, "branch_vote_date");
    let Some(rs) = rules.for_date(vote.unwrap_or(today)) else {
        return;
    };
    let expires = rs
        .period("A2.certificate_validity")
        .ok()
        .and_then(|p| p.after(issued, calendar));
    let warn = rs
        .period("A2.certificate_warning")
        .ok()
        .and_then(|p| p.after(issued, calendar));
    d.valid_until = expires;
    d.warn_from = warn;
    let Some(expires) = expires else { return };
    match vote {
        Some(v) if v <= expires => note(
            d,
            format!(
                "Còn giá trị tại ngày chi bộ xét kết nạp {} (A2).",
                fmt_date(v)
            ),
            format!("Valid on the day of the branch vote, {} (A2).", fmt_date(v)),
        ),
        Some(v) => {
            d.status = DocumentStatus::Expired;
            note(
                d,
                format!(
                    "Đã hết hạn ngày {}, trước ngày chi bộ xét kết nạp {} (A2).",
                    fmt_date(expires),
                    fmt_date(v)
                ),
                format!(
                    "Expired on {}, before the branch vote on {} (A2).",
                    fmt_date(expires),
                    fmt_date(v)
                ),
            );
        }
        None if today > expires => {
            d.status = DocumentStatus::Expired;
            note(
                d,
                format!(
                    "Đã hết hạn ngày {} (A2): chi bộ phải giới thiệu người vào Đảng học lại lớp bồi dưỡng nhận thức về Đảng.",
                    fmt_date(expires)
                ),
                format!(
                    "Expired on {} (A2): the branch must send the applicant to take the course again.",
                    fmt_date(expires)
                ),
            );
        }
        None if warn.is_some_and(|w| today >= w) => {
            d.status = DocumentStatus::Expiring;
            note(
                d,
                format!(
                    "Sắp hết hạn: còn giá trị đến hết ngày {} (A2); chi bộ cần xét kết nạp trước ngày đó.",
                    fmt_date(expires)
                ),
                format!(
                    "Expiring: valid until {} (A2); the branch must vote before then.",
                    fmt_date(expires)
                ),
            );
        }
        None => {}
    }
}

/// A12: the member's file is due some time after the ceremony.
fn member_history_due(
    case: &CaseSnapshot,
    rules: &RuleBook,
    calendar: &WorkingCalendar,
) -> Option<NaiveDate> {
    if let Some(d) = case.deadlines.get("member_history") {
        return Some(d.due);
    }
    let ceremony = date_fact(&case.facts, "ceremony_date")?;
    rules
        .for_date(ceremony)?
        .period("A12.member_history_period")
        .ok()?
        .after(ceremony, calendar)
}

/// The file of `case` on `today`, from its facts, its history (`steps`, in order) and the
/// rule sets. Empty for a workflow without a file list.
pub fn dossier(
    case: &CaseSnapshot,
    steps: &[RecordedStep<'_>],
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    terminal: bool,
    today: NaiveDate,
) -> Vec<DossierDocument> {
    let specs = dossier_spec(&case.definition.id);
    let found: Vec<Option<Found<'_>>> = specs.iter().map(|s| find(s, case, steps)).collect();
    let needs_consent = over_age(case, rules, today);
    let mut out = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let mut d = DossierDocument {
            key: spec.key.to_owned(),
            rule: spec.rule.to_owned(),
            label_vi: spec.label_vi.to_owned(),
            label_en: spec.label_en.to_owned(),
            status: DocumentStatus::Present,
            date: None,
            reference: None,
            valid_until: None,
            warn_from: None,
            due_by: None,
            note_vi: None,
            note_en: None,
        };
        let later_present = found[i + 1..].iter().any(Option::is_some);
        if spec.kind == DocumentKind::MemberHistory {
            d.due_by = member_history_due(case, rules, calendar);
        }
        match &found[i] {
            Some(f) => {
                d.date = match spec.date {
                    Some(k) => date_fact(f.values, k),
                    None => f.day,
                };
                let refs: Vec<String> = spec
                    .reference
                    .iter()
                    .filter_map(|k| f.values.get(*k).and_then(text_of))
                    .collect();
                d.reference = (!refs.is_empty()).then(|| refs.join(", "));
                if spec.kind == DocumentKind::AwarenessCertificate {
                    certificate(&mut d, case, rules, calendar, today);
                }
            }
            None => {
                d.status = if spec.kind == DocumentKind::OverAgeConsent && !needs_consent {
                    DocumentStatus::NotRequired
                } else if let Some(due) = d.due_by.filter(|due| today > *due) {
                    note(
                        &mut d,
                        format!("Đã quá hạn nộp ngày {} ({}).", fmt_date(due), spec.rule),
                        format!("Overdue since {} ({}).", fmt_date(due), spec.rule),
                    );
                    DocumentStatus::Missing
                } else if later_present {
                    DocumentStatus::Missing
                } else if terminal {
                    DocumentStatus::NotRequired
                } else {
                    DocumentStatus::Pending
                };
            }
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_names_a_rule_and_a_distinct_key() {
        let mut keys: Vec<&str> = ADMISSION_DOSSIER.iter().map(|d| d.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ADMISSION_DOSSIER.len());
        assert!(ADMISSION_DOSSIER.iter().all(|d| !d.rule.is_empty()));
    }
}
