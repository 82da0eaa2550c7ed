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
use super::definition::{Definition, Level, Transition};
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
    /// The transition being fired (who may fire it, for the guards that ask which body acts).
    pub transition: &'a Transition,
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
        name: "over_age_decided_at_province",
        rules: &["E2", "A10"],
        doc: "Over the maximum age at the branch vote, the admission is decided by the body at `E2.deciding_level` (the province-level committee): the actor must hold one of the transition's roles at that level. Within the age limit it is decided by the competent committee of A10: a role held only at the province level, when that is not the competent level, does not decide it.",
        params: &[
            ("E1.max_age", ParamKind::Period),
            ("E2.deciding_level", ParamKind::Text),
        ],
        reads: &[
            req("date_of_birth", DataType::Date),
            req("branch_vote_date", DataType::Date),
        ],
        check: over_age_decided_at_province,
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
        doc: "Enough introducers: official members who have worked with the applicant for the minimum period, or a mass organisation in place of at most one of them; a Youth Union organisation introduces applicants of youth age where one exists. An introducer named by the id of a registered member is taken from the registry as of the day of the step (`registry_members`): an official member that day (the `introducer_N_official` flag is then not read), of the case's grassroots organization (`unit_grassroots`).",
        params: &[
            ("A6.introducers_required", ParamKind::Integer),
            ("A6.max_organisation_introducers", ParamKind::Integer),
            ("A6.min_co_working", ParamKind::Period),
            ("A6.youth_union_age_limit", ParamKind::Period),
        ],
        reads: &[
            req("introducer_1", DataType::Text),
            opt("introducer_1_official", DataType::Boolean),
            req("introducer_1_since", DataType::Date),
            opt("introducer_2", DataType::Text),
            opt("introducer_2_official", DataType::Boolean),
            opt("introducer_2_since", DataType::Date),
            opt("organisation_introducer", DataType::Text),
            opt("youth_union_present", DataType::Boolean),
            opt("date_of_birth", DataType::Date),
            opt(super::context::REGISTRY_MEMBERS, DataType::List),
            opt(super::context::UNIT_GRASSROOTS, DataType::Text),
            opt(super::context::UNIT_GRASSROOTS_NAME, DataType::Text),
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
        doc: "The branch may hold another recognition vote, conclusive or not: fewer inconclusive rounds than the maximum so far (after them the case belongs to the competent committee).",
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
    // ---------------------------------------------------------------------------------------
    // The discipline procedures (the rule catalogue, D rules): member, organisation and removal machines.
    GuardSpec {
        name: "detection_source_valid",
        rules: &["D23", "D25"],
        doc: "The case is opened on a source the rule set lists (supervision, inspection, complaint, denunciation, state notice); a denunciation is handled only if it has every element the rule set requires (signed, specific, backed by evidence), otherwise it may only prompt an inspection.",
        params: &[
            ("D23.sources", ParamKind::TextList),
            ("D25.required_elements", ParamKind::TextList),
        ],
        reads: &[
            req("detection_source", DataType::Text),
            opt("denunciation_signed", DataType::Boolean),
            opt("denunciation_specific", DataType::Boolean),
            opt("denunciation_evidence", DataType::Boolean),
        ],
        check: detection_source_valid,
    },
    GuardSpec {
        name: "state_notice_recorded",
        rules: &["D24"],
        doc: "A case opened on a state body's notice has the date of the state body's action and the date the notice was received, in that order (the notice is due within the D24 period; lateness is recorded, not refused: the duty is the state body's).",
        params: &[],
        reads: &[
            req("detection_source", DataType::Text),
            opt("state_action_date", DataType::Date),
            opt("notice_received_date", DataType::Date),
        ],
        check: state_notice_recorded,
    },
    GuardSpec {
        name: "inspecting_body_allowed",
        rules: &["D21", "D22"],
        doc: "The body that inspects on signs of violation is one the rule set allows (committees, their standing committees, inspection commissions, the branch; not advisory departments), and an inspection commission exists at its level (from the grassroots committee up).",
        params: &[
            ("D21.inspecting_bodies", ParamKind::TextList),
            ("D22.inspection_commission_levels", ParamKind::TextList),
        ],
        reads: &[
            req("inspecting_body", DataType::Text),
            req("inspecting_level", DataType::Text),
            opt("grassroots_is_branch", DataType::Boolean),
        ],
        check: inspecting_body_allowed,
    },
    GuardSpec {
        name: "self_criticism_invitations_unanswered",
        rules: &["D27"],
        doc: "The organisation may proceed without the member's self-criticism: the member was invited at least the rule set's number of times and did not come without good reason.",
        params: &[("D27.min_invitations", ParamKind::Integer)],
        reads: &[
            req("absent_without_good_reason", DataType::Boolean),
            opt("self_criticism_invitations", DataType::Integer),
        ],
        check: self_criticism_invitations_unanswered,
    },
    GuardSpec {
        name: "hearing_invitations_unanswered",
        rules: &["D27", "D28"],
        doc: "The organisation may decide without hearing the member (D28): the member was invited to the hearing at least the rule set's number of times and did not come without good reason.",
        params: &[("D27.min_invitations", ParamKind::Integer)],
        reads: &[
            req("absent_without_good_reason", DataType::Boolean),
            opt("hearing_invitations", DataType::Integer),
        ],
        check: hearing_invitations_unanswered,
    },
    GuardSpec {
        name: "deferral_ground_valid",
        rules: &["D29"],
        doc: "Consideration of discipline is deferred on a ground the rule set lists (pregnancy, raising a child under 12 months, serious illness in hospital); for a child, the birth date is recorded and the child is under the age limit on the day of the deferral.",
        params: &[
            ("D29.grounds", ParamKind::TextList),
            ("D29.infant_age", ParamKind::Period),
        ],
        reads: &[
            req("deferral_ground", DataType::Text),
            opt("child_birth_date", DataType::Date),
            opt("deferred_on", DataType::Date),
        ],
        check: deferral_ground_valid,
    },
    GuardSpec {
        name: "deferral_ground_ended",
        rules: &["D29"],
        doc: "The deferral may end: the child has reached the age limit, or the end of the pregnancy or the discharge from hospital is recorded on or before the day of resuming.",
        params: &[("D29.infant_age", ParamKind::Period)],
        reads: &[
            req("deferral_ground", DataType::Text),
            opt("child_birth_date", DataType::Date),
            opt("ground_ended_on", DataType::Date),
            opt("resumed_on", DataType::Date),
        ],
        check: deferral_ground_ended,
    },
    GuardSpec {
        name: "form_allowed_for_subject",
        rules: &["D1", "D2", "D3"],
        doc: "The form of discipline exists for the subject: an organisation (reprimand, warning, dissolution), an official member (reprimand, warning, removal from post if the member holds one, expulsion) or a probationary member (reprimand, warning).",
        params: &[
            ("D1.organisation_forms", ParamKind::TextList),
            ("D2.official_member_forms", ParamKind::TextList),
            ("D2.post_forms", ParamKind::TextList),
            ("D3.probationary_member_forms", ParamKind::TextList),
        ],
        reads: &[
            req("subject_kind", DataType::Text),
            req("discipline_form", DataType::Text),
            opt("membership", DataType::Text),
            opt("holds_post", DataType::Boolean),
        ],
        check: form_allowed_for_subject,
    },
    GuardSpec {
        name: "ballot_cumulated_form",
        rules: &["D30", "D31", "D32", "D33"],
        doc: "The secret ballot (D30) imposes the recorded form: a form with its own threshold of votes (D31) out of the D33 denominator, else the first form, from the most severe down, whose cumulated votes reach its threshold (D32).",
        params: BALLOT_PARAMS,
        reads: &[
            req("secret_ballot", DataType::Boolean),
            req("subject_kind", DataType::Text),
            req("voting_body", DataType::Text),
            req("discipline_form", DataType::Text),
            req("official_members", DataType::Integer),
            opt("excluded_members", DataType::Integer),
            opt("membership", DataType::Text),
            opt("holds_post", DataType::Boolean),
            opt("votes_expulsion", DataType::Integer),
            opt("votes_dissolution", DataType::Integer),
            opt("votes_removal", DataType::Integer),
            opt("votes_warning", DataType::Integer),
            opt("votes_reprimand", DataType::Integer),
            opt("votes_no_discipline", DataType::Integer),
        ],
        check: ballot_cumulated_form,
    },
    GuardSpec {
        name: "ballot_without_majority",
        rules: &["D30", "D31", "D32", "D33"],
        doc: "The secret ballot imposes no form: no form reaches its threshold, alone or with the votes of the more severe forms cumulated (D32); the case ends without discipline.",
        params: BALLOT_PARAMS,
        reads: &[
            req("secret_ballot", DataType::Boolean),
            req("subject_kind", DataType::Text),
            req("voting_body", DataType::Text),
            req("official_members", DataType::Integer),
            opt("excluded_members", DataType::Integer),
            opt("membership", DataType::Text),
            opt("holds_post", DataType::Boolean),
            opt("votes_expulsion", DataType::Integer),
            opt("votes_dissolution", DataType::Integer),
            opt("votes_removal", DataType::Integer),
            opt("votes_warning", DataType::Integer),
            opt("votes_reprimand", DataType::Integer),
            opt("votes_no_discipline", DataType::Integer),
        ],
        check: ballot_without_majority,
    },
    GuardSpec {
        name: "jurisdiction_may_consider",
        rules: &[
            "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D22",
        ],
        doc: "The voting body has some power over this form for this subject in the rule set's jurisdiction table (decide or propose); a branch committee, a partial committee or a grassroots standing committee has none, and an inspection commission exists only from the grassroots committee up.",
        params: JURISDICTION_PARAMS,
        reads: JURISDICTION_READS,
        check: jurisdiction_may_consider,
    },
    GuardSpec {
        name: "jurisdiction_may_decide",
        rules: &[
            "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D22",
        ],
        doc: "The voting body may decide this form for this subject (power `decide` in the jurisdiction table); a body that may only propose sends the case to the competent body. Dissolution also needs the agreement of the committee one level further up (D20).",
        params: JURISDICTION_DECIDE_PARAMS,
        reads: JURISDICTION_DECIDE_READS,
        check: jurisdiction_may_decide,
    },
    GuardSpec {
        name: "jurisdiction_must_propose",
        rules: &[
            "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D22",
        ],
        doc: "The voting body may only propose this form for this subject (power `propose`), so the case goes to the competent body; a body that may decide decides itself.",
        params: JURISDICTION_PARAMS,
        reads: JURISDICTION_READS,
        check: jurisdiction_must_propose,
    },
    GuardSpec {
        name: "limitation_period_expired",
        rules: &["D6", "D7", "D8", "D9", "D10", "D11", "D12"],
        doc: "The inverse of limitation_period_running, checked after the vote (D12): the limitation period for the voted form has run out, so the case ends without discipline; forms and categories without a limit (D9) never expire.",
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
        check: limitation_period_expired,
    },
    GuardSpec {
        name: "discipline_lapses",
        rules: &["C1"],
        doc: "The form in force lapses automatically after the C1 period (every form except those the rule set lists: expulsion, dissolution).",
        params: &[("C1.no_lapse_forms", ParamKind::TextList)],
        reads: &[req("discipline_form", DataType::Text)],
        check: discipline_lapses,
    },
    GuardSpec {
        name: "violation_in_catalogue",
        rules: &["D42", "D41", "D39"],
        doc: "The violation code the inspection names is in the catalogue of the rule set (`D42.violations`), and every aggravating or mitigating circumstance recorded is one the rule set lists (`D41.aggravating`, `D41.mitigating`). Naming none is allowed: the catalogue is not complete.",
        params: &[
            ("D42.violations", ParamKind::TextList),
            ("D41.aggravating", ParamKind::TextList),
            ("D41.mitigating", ParamKind::TextList),
        ],
        reads: &[
            opt("violation_code", DataType::Text),
            opt("aggravating_factors", DataType::List),
            opt("mitigating_factors", DataType::List),
        ],
        check: violation_in_catalogue,
    },
    GuardSpec {
        name: "not_barred_by_discipline",
        rules: &["C2", "C7"],
        doc: "The member the case is about may be transferred: no discipline of theirs is in force (C2, when `C2.restrictions` lists `transfer`) and no discipline case about them is open (C7, when `C7.restrictions_while_inspected` lists `transfer`). The shell reads the member's open discipline cases into the step's context (`subject_discipline`).",
        params: &[
            ("C2.restrictions", ParamKind::TextList),
            ("C7.restrictions_while_inspected", ParamKind::TextList),
        ],
        reads: &[opt(super::context::SUBJECT_DISCIPLINE, DataType::List)],
        check: not_barred_by_discipline,
    },
    GuardSpec {
        name: "discipline_does_not_lapse",
        rules: &["C1", "D2", "D1"],
        doc: "The form in force never lapses (expulsion ends membership, dissolution ends the organisation): the case follows the path without a lapse.",
        params: &[("C1.no_lapse_forms", ParamKind::TextList)],
        reads: &[req("discipline_form", DataType::Text)],
        check: discipline_does_not_lapse,
    },
    GuardSpec {
        name: "discipline_lapse_due",
        rules: &["C1"],
        doc: "The decision lapses today: its form lapses and the lapse date (12 months after the announcement, or after the appeal ruling) has come.",
        params: &[
            ("C1.lapse_period", ParamKind::Period),
            ("C1.no_lapse_forms", ParamKind::TextList),
        ],
        reads: &[
            req("discipline_form", DataType::Text),
            req("lapse_date", DataType::Date),
        ],
        check: discipline_lapse_due,
    },
    GuardSpec {
        name: "appeal_admissible",
        rules: &["P4", "D38"],
        doc: "None of the inadmissibility grounds the receiving body recorded is one the rule set lists (already before a higher level or decided at the highest, court sentence, on someone else's behalf, before the written decision, refusal to receive it, transfer out before appealing).",
        params: &[("P4.inadmissible_grounds", ParamKind::TextList)],
        reads: &[opt("inadmissibility", DataType::List)],
        check: appeal_admissible,
    },
    GuardSpec {
        name: "appeal_in_disputed_window",
        rules: &["P1"],
        doc: "The appeal was filed after the window of the stricter reading (30 days) but within the other reading (30 working days): it is neither accepted nor refused, but flagged for the appeal body to decide.",
        params: &[
            ("P1.appeal_window", ParamKind::Period),
            ("P1.appeal_window_lenient", ParamKind::Period),
        ],
        reads: &[
            req("decision_received_date", DataType::Date),
            opt("appeal_filed_date", DataType::Date),
        ],
        check: appeal_in_disputed_window,
    },
    GuardSpec {
        name: "appeal_level_allowed",
        rules: &["P3", "P4"],
        doc: "The appeal goes to a body above the one whose decision (or ruling) is appealed, from the grassroots level up, and no higher than the final instance for the form; a ruling of the final instance cannot be appealed.",
        params: &[
            ("P3.body_order", ParamKind::TextList),
            ("P3.lowest_appeal_level", ParamKind::Text),
            ("P3.final_instances", ParamKind::TextList),
            ("P3.final_instance_for_central_decisions", ParamKind::Text),
        ],
        reads: &[
            req("appeal_body", DataType::Text),
            req("appeal_level", DataType::Text),
            req("voting_body", DataType::Text),
            req("voting_level", DataType::Text),
            opt("ruling_body", DataType::Text),
            opt("ruling_level", DataType::Text),
            opt("discipline_form", DataType::Text),
        ],
        check: appeal_level_allowed,
    },
    GuardSpec {
        name: "appeal_outcome_consistent",
        rules: &["P3"],
        doc: "The appeal ruling's outcome agrees with the form it records: upheld keeps the form, reduced chooses a less severe one, increased a more severe one (severity order of D32).",
        params: &[("D32.severity_order", ParamKind::TextList)],
        reads: &[
            req("appeal_outcome", DataType::Text),
            req("discipline_form", DataType::Text),
        ],
        check: appeal_outcome_consistent,
    },
    GuardSpec {
        name: "removal_ground_established",
        rules: &["D4", "D5"],
        doc: "Striking the name off rests on a ground the rule set lists (skipping branch meetings, not paying dues) for at least the rule set's number of months in a year, without good reason.",
        params: &[
            ("D5.grounds", ParamKind::TextList),
            ("D5.min_months", ParamKind::Integer),
        ],
        reads: &[
            req("removal_ground", DataType::Text),
            opt("months_missed", DataType::Integer),
            opt("good_reason", DataType::Boolean),
        ],
        check: removal_ground_established,
    },
    GuardSpec {
        name: "removal_vote_threshold",
        rules: &["D5"],
        doc: "The branch resolution proposing to strike the name off has the rule set's threshold of official members (less the D33 exclusions).",
        params: &[("D5.branch_vote_threshold", ParamKind::Threshold)],
        reads: &[
            req("votes_for", DataType::Integer),
            req("official_members", DataType::Integer),
            opt("excluded_members", DataType::Integer),
        ],
        check: removal_vote_threshold,
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

/// The level of the tree the rule set makes competent (A10).
fn competent_tree_level(rules: &RuleSet) -> Level {
    match crate::access::competent_level(Some(rules)) {
        crate::access::CompetentLevel::Superior => Level::Superior,
        crate::access::CompetentLevel::Province => Level::Province,
    }
}

/// Whether the actor holds one of the transition's roles at `level` (a role held anywhere is
/// held at every level; one held at `competent`, at the level the rule set makes competent).
fn acts_at(ctx: &GuardContext<'_>, level: Level) -> bool {
    let competent = competent_tree_level(ctx.rules);
    ctx.transition.by.iter().any(|need| {
        ctx.actor.roles.iter().any(|held| {
            held.role == need.role
                && held
                    .level
                    .is_none_or(|l| l == level || (l == Level::Competent && competent == level))
        })
    })
}

fn over_age_decided_at_province(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.months("E1.max_age"));
    let level_name = get!(ctx.param_text("E2.deciding_level"));
    let Some(level) = Level::parse(level_name).filter(|l| *l != Level::Competent) else {
        return GuardOutcome::Fail(vec![
            Reason::new(
                RefusalCode::ParameterMissing,
                format!("Lỗi cấu hình: tham số «E2.deciding_level» phải là một cấp (branch, grassroots, superior, province, central), đang là «{level_name}»."),
                format!("Configuration error: parameter `E2.deciding_level` must be a level (branch, grassroots, superior, province, central), found `{level_name}`."),
            )
            .with_field("E2.deciding_level")
            .with_guard(ctx.guard.name),
        ]);
    };
    // An actor who holds none of the step's roles is refused as such (NOT_PERMITTED).
    let permitted = ctx
        .transition
        .by
        .iter()
        .any(|need| ctx.actor.roles.iter().any(|held| need.admits(held)));
    if !permitted {
        return GuardOutcome::Pass;
    }
    let dob = get!(ctx.need_date("date_of_birth"));
    let vote = get!(ctx.need_date("branch_vote_date"));
    let age = full_months_between(dob, vote);
    let competent = competent_tree_level(ctx.rules);
    if age > max {
        if acts_at(ctx, level) {
            return GuardOutcome::Pass;
        }
        return verdict(vec![ctx.reason(
            "E2",
            format!(
                "Người vào Đảng đã trên {} tại ngày chi bộ xét ({}) (E2): việc kết nạp do {} xem xét, quyết định; người thực hiện không nhân danh cấp đó.",
                age_vi(max),
                age_vi(age),
                committee_vi(level.as_str())
            ),
            format!(
                "The applicant was over {} at the branch vote ({}) (E2): the admission is decided by the party committee at {} level; the actor does not act at that level.",
                age_en(max),
                age_en(age),
                level.as_str()
            ),
        )]);
    }
    if acts_at(ctx, competent) {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A10",
        format!(
            "Người vào Đảng chưa quá {} tại ngày chi bộ xét (E2 không áp dụng): việc kết nạp do {} có thẩm quyền quyết định (A10), không phải cấp khác.",
            age_vi(max),
            committee_vi(competent.as_str())
        ),
        format!(
            "The applicant was not over {} at the branch vote (E2 does not apply): the admission is decided by the competent committee at {} level (A10), not another body.",
            age_en(max),
            competent.as_str()
        ),
    )])
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
        match super::context::registered_member(ctx.data, who) {
            // A registered member: the registry, not the request, says what they were that day.
            Some(m) => reasons.extend(registered_introducer_reasons(ctx, &m, on)),
            None => {
                if ctx.flag(&format!("introducer_{n}_official")) != Some(true) {
                    reasons.push(ctx.reason(
                        "A6",
                        format!("Người giới thiệu {who} phải là đảng viên chính thức (A6)."),
                        format!("Introducer {who} must be an official member (A6)."),
                    ));
                }
            }
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

/// Why a registered member may not introduce the applicant on `on`, as the registry has them
/// that day: not an official member (a probationary member, or no longer a member), or a member
/// of another grassroots organization than the case's unit (A6).
fn registered_introducer_reasons(
    ctx: &GuardContext<'_>,
    m: &super::context::RegisteredMember,
    on: NaiveDate,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let name = &m.full_name;
    if !m.official_on(on) {
        let (vi, en) = match m.status.as_deref() {
            Some("PROBATIONARY") => ("là đảng viên dự bị", "was a probationary member"),
            Some("OFFICIAL") => (
                "chưa là đảng viên chính thức",
                "was not yet an official member",
            ),
            _ => ("không còn là đảng viên", "was not a member"),
        };
        reasons.push(ctx.reason(
            "A6",
            format!(
                "Theo danh sách đảng viên, người giới thiệu {name} {vi} vào ngày {}: người giới thiệu phải là đảng viên chính thức (A6).",
                fmt_date(on)
            ),
            format!(
                "According to the registry, introducer {name} {en} on {}: an introducer must be an official member (A6).",
                fmt_date(on)
            ),
        ));
    }
    if let Some((unit_org, unit_org_name)) = super::context::unit_grassroots(ctx.data) {
        match &m.grassroots {
            Some((org, _)) if *org == unit_org => {}
            Some((_, org_name)) => reasons.push(ctx.reason(
                "A6",
                format!(
                    "Người giới thiệu {name} sinh hoạt ở {org_name}, không cùng tổ chức cơ sở đảng với người vào Đảng ({unit_org_name}) vào ngày {} (A6).",
                    fmt_date(on)
                ),
                format!(
                    "Introducer {name} belonged to {org_name}, not to the applicant's grassroots organization ({unit_org_name}), on {} (A6).",
                    fmt_date(on)
                ),
            )),
            None => reasons.push(ctx.reason(
                "A6",
                format!(
                    "Người giới thiệu {name} không sinh hoạt ở tổ chức đảng nào vào ngày {} (A6).",
                    fmt_date(on)
                ),
                format!(
                    "Introducer {name} belonged to no party organization on {} (A6).",
                    fmt_date(on)
                ),
            )),
        }
    }
    reasons
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

/// The statute-of-limitations reckoning of a case (D7–D11), shared by the guard that lets a
/// decision through and the one that closes a time-barred case.
struct Limitation {
    rule: &'static str,
    form: String,
    period: Period,
    start: NaiveDate,
    expiry: NaiveDate,
    until: NaiveDate,
}

/// `Ok(None)` when the form or the category of violation has no limit (D9).
fn limitation(ctx: &GuardContext<'_>) -> Result<Option<Limitation>, GuardOutcome> {
    let no_limit_forms = ctx.text_list("D9.no_limit_forms")?;
    let no_limit_categories = ctx.text_list("D9.no_limit_categories")?;
    let form = ctx.text("discipline_form").unwrap_or_default();
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let category = ctx.text("violation_category").unwrap_or_default();
    if no_limit_forms.iter().any(|f| f == form) || no_limit_categories.iter().any(|c| c == category)
    {
        return Ok(None);
    }
    let (rule, param) = match (subject, form) {
        ("member", "reprimand") => ("D7", "D7.member_reprimand"),
        ("member", "warning" | "removal") => ("D7", "D7.member_warning_or_removal"),
        ("organisation", "reprimand") => ("D8", "D8.organisation_reprimand"),
        ("organisation", "warning") => ("D8", "D8.organisation_warning"),
        _ => {
            return Err(verdict(vec![ctx.reason(
                "D7",
                format!(
                    "Hình thức kỷ luật {} không áp dụng cho đối tượng «{subject}» (D1–D3).",
                    form_vi(form)
                ),
                format!("Form `{form}` does not apply to subject `{subject}` (D1–D3)."),
            )]));
        }
    };
    let period = ctx.period(param)?;
    let ended = ctx.need_date("violation_end_date")?;
    // D10: a new violation within the period restarts the clock for the old one.
    let first_expiry = ctx.add(ended, period)?;
    let start = match ctx.date("new_violation_date") {
        Some(new) if new > ended && new <= first_expiry => new,
        _ => ended,
    };
    let expiry = ctx.add(start, period)?;
    // D11: the period runs until the competent body concludes; without a recorded conclusion,
    // the day of the step stands in for it.
    let until = ctx.date("conclusion_date").unwrap_or(ctx.today);
    Ok(Some(Limitation {
        rule,
        form: form.to_owned(),
        period,
        start,
        expiry,
        until,
    }))
}

fn limitation_period_running(ctx: &GuardContext<'_>) -> GuardOutcome {
    let Some(l) = get!(limitation(ctx)) else {
        return GuardOutcome::Pass;
    };
    if l.until <= l.expiry {
        return GuardOutcome::Pass;
    }
    let (rule, form) = (l.rule, l.form.as_str());
    verdict(vec![ctx.reason(
        rule,
        format!(
            "Đã hết thời hiệu kỷ luật ({rule}): thời hiệu {} đối với hình thức {} tính từ {} đã hết ngày {}, trước ngày kết luận {}. Không thi hành kỷ luật (hết thời hiệu).",
            l.period.vi(),
            form_vi(form),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
        format!(
            "The limitation period has run out ({rule}): {} for `{form}` counted from {} ended on {}, before the conclusion on {}. No discipline is imposed.",
            l.period.en(),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
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

// =============================================================================================
// The discipline procedures (the rule catalogue, D rules): the member, organisation and removal machines.
//
// Bodies are named `kind@level`: the kind (`branch`, `branch_committee`, `partial_committee`,
// `committee`, `standing_committee`, `inspection_commission`, `secretariat`, `politburo`) at a
// level of the tree (`branch`, `grassroots`, `superior`, `province`, `central`). Who may decide
// what is the rule set's jurisdiction table (D13–D20), never code.

/// The levels of the tree, lowest first: bodies and appeals are ranked along them.
const LEVELS: [&str; 5] = ["branch", "grassroots", "superior", "province", "central"];

fn level_rank(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

fn committee_vi(level: &str) -> String {
    match level {
        "branch" => "chi bộ".into(),
        "grassroots" => "đảng ủy cơ sở".into(),
        "superior" => "cấp ủy cấp trên trực tiếp của tổ chức cơ sở đảng".into(),
        "province" => "cấp ủy cấp tỉnh".into(),
        "central" => "Ban Chấp hành Trung ương".into(),
        other => format!("cấp ủy «{other}»"),
    }
}

/// The name of a body (`kind` at `level`) in both languages, for pages and mails.
pub fn body_label(kind: &str, level: &str) -> crate::text::Text {
    crate::text::Text::new(body_vi(kind, level), body_en(kind, level))
}

pub(crate) fn body_vi(kind: &str, level: &str) -> String {
    match (kind, level) {
        ("branch", _) => "chi bộ".into(),
        ("branch_committee", _) => "chi ủy".into(),
        ("partial_committee", _) => "đảng ủy bộ phận".into(),
        ("committee", l) => committee_vi(l),
        ("standing_committee", l) => format!("ban thường vụ {}", committee_vi(l)),
        ("inspection_commission", "central") => "Ủy ban Kiểm tra Trung ương".into(),
        ("inspection_commission", l) => format!("ủy ban kiểm tra {}", committee_vi(l)),
        ("secretariat", _) => "Ban Bí thư".into(),
        ("politburo", _) => "Bộ Chính trị".into(),
        ("advisory_department", l) => {
            format!("cơ quan tham mưu, giúp việc của {}", committee_vi(l))
        }
        (k, l) => format!("«{k}@{l}»"),
    }
}

pub(crate) fn body_en(kind: &str, level: &str) -> String {
    let k = match kind {
        "branch_committee" => "branch committee",
        "partial_committee" => "partial committee",
        "committee" => "party committee",
        "standing_committee" => "standing committee",
        "inspection_commission" => "inspection commission",
        "secretariat" => "Secretariat",
        "politburo" => "Politburo",
        "advisory_department" => "advisory department",
        other => other,
    };
    match kind {
        "branch" => "the branch".into(),
        "secretariat" | "politburo" => format!("the {k}"),
        _ => format!("the {k} at {level} level"),
    }
}

/// `kind@level` in both languages.
fn named_body(spec: &str) -> (String, String) {
    match spec.split_once('@') {
        Some((kind, level)) => (body_vi(kind, level), body_en(kind, level)),
        None => (format!("«{spec}»"), format!("`{spec}`")),
    }
}

fn form_en(code: &str) -> String {
    match code {
        "removal" => "removal from post".into(),
        "reprimand" | "warning" | "expulsion" | "dissolution" => code.into(),
        other => format!("`{other}`"),
    }
}

fn subject_vi(subject: &str, membership: Option<&str>) -> &'static str {
    match (subject, membership) {
        ("organisation", _) => "tổ chức đảng",
        (_, Some("probationary")) => "đảng viên dự bị",
        (_, Some("official")) => "đảng viên chính thức",
        _ => "đảng viên",
    }
}

fn subject_en(subject: &str, membership: Option<&str>) -> &'static str {
    match (subject, membership) {
        ("organisation", _) => "a party organisation",
        (_, Some("probationary")) => "a probationary member",
        (_, Some("official")) => "an official member",
        _ => "a member",
    }
}

/// A configuration error in a list parameter (an entry the guard cannot read).
fn bad_entry(ctx: &GuardContext<'_>, param: &str, entry: &str, expected: &str) -> GuardOutcome {
    GuardOutcome::Fail(vec![
        Reason::new(
            RefusalCode::ParameterMissing,
            format!(
                "Lỗi cấu hình: mục «{entry}» của tham số «{param}» trong bộ quy tắc {} không đúng dạng {expected}.",
                ctx.rules.id
            ),
            format!(
                "Configuration error: entry `{entry}` of parameter `{param}` in rule set {} is not of the form {expected}.",
                ctx.rules.id
            ),
        )
        .with_field(param)
        .with_guard(ctx.guard.name),
    ])
}

// D23–D25 -------------------------------------------------------------------------------------

fn source_vi(code: &str) -> String {
    match code {
        "supervision" => "giám sát thường xuyên hoặc chuyên đề".into(),
        "inspection" => "kiểm tra khi có dấu hiệu vi phạm".into(),
        "complaint" => "khiếu nại".into(),
        "denunciation" => "tố cáo".into(),
        "state_notice" => "thông báo của cơ quan nhà nước, Mặt trận, đoàn thể".into(),
        other => format!("«{other}»"),
    }
}

fn detection_source_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let sources = get!(ctx.text_list("D23.sources"));
    let required = get!(ctx.text_list("D25.required_elements"));
    let source = ctx.text("detection_source").unwrap_or_default();
    if !sources.iter().any(|s| s == source) {
        return verdict(vec![ctx.reason(
            "D23",
            format!(
                "Nguồn phát hiện vi phạm «{source}» không thuộc các nguồn của bộ quy tắc {} (D23): giám sát, kiểm tra khi có dấu hiệu vi phạm, khiếu nại, tố cáo, thông báo của cơ quan nhà nước.",
                ctx.rules.id
            ),
            format!(
                "Detection source `{source}` is not one rule set {} lists (D23).",
                ctx.rules.id
            ),
        )]);
    }
    if source != "denunciation" {
        return GuardOutcome::Pass;
    }
    // D25: a denunciation is handled only if it has every element; otherwise it may only
    // prompt an inspection (open the case with the source `inspection`).
    let missing: Vec<&String> = required
        .iter()
        .filter(|e| ctx.flag(&format!("denunciation_{e}")) != Some(true))
        .collect();
    if missing.is_empty() {
        return GuardOutcome::Pass;
    }
    let vi: Vec<&str> = missing
        .iter()
        .map(|e| match e.as_str() {
            "signed" => "có ký tên (không giấu tên, mạo danh)",
            "specific" => "có nội dung cụ thể",
            "evidence" => "có căn cứ, chứng cứ",
            other => other,
        })
        .collect();
    let en: Vec<&str> = missing.iter().map(|e| e.as_str()).collect();
    verdict(vec![ctx.reason(
        "D25",
        format!(
            "Đơn tố cáo chỉ được giải quyết khi {} (D25). Đơn giấu tên, mạo danh nhưng có nội dung cụ thể chỉ dùng làm căn cứ để quyết định kiểm tra: hãy mở hồ sơ với nguồn «{}».",
            vi.join(", "),
            source_vi("inspection")
        ),
        format!(
            "A denunciation is handled only when it is {} (D25). An anonymous or falsely named one with concrete content may only prompt an inspection: open the case with the source `inspection`.",
            en.join(", ")
        ),
    )])
}

fn state_notice_recorded(ctx: &GuardContext<'_>) -> GuardOutcome {
    if ctx.text("detection_source") != Some("state_notice") {
        return GuardOutcome::Pass;
    }
    match (ctx.date("state_action_date"), ctx.date("notice_received_date")) {
        (Some(action), Some(received)) if received >= action => GuardOutcome::Pass,
        (Some(action), Some(received)) => verdict(vec![ctx.reason(
            "D24",
            format!(
                "Ngày nhận thông báo ({}) không thể trước ngày cơ quan nhà nước đình chỉ công tác hoặc kỷ luật cán bộ ({}) (D24).",
                fmt_date(received),
                fmt_date(action)
            ),
            format!(
                "The notice cannot be received ({}) before the state body's action ({}) (D24).",
                fmt_date(received),
                fmt_date(action)
            ),
        )]),
        _ => verdict(vec![ctx.reason(
            "D24",
            "Hồ sơ phát hiện qua thông báo của cơ quan nhà nước phải ghi ngày cơ quan đó đình chỉ công tác hoặc kỷ luật cán bộ và ngày tổ chức đảng nhận thông báo (D24: chậm nhất 5 ngày): hãy ghi nhận thông báo trước khi kiểm tra.".to_owned(),
            "A case opened on a state body's notice must record the date of the state body's action and the date the notice was received (D24: within 5 days at most): record the notice before inspecting.".to_owned(),
        )]),
    }
}

// D21, D22 ------------------------------------------------------------------------------------

/// D22: an inspection commission exists only at the listed levels, and not in a grassroots
/// organisation that is itself a branch (chi bộ cơ sở has no committee to elect one).
fn inspection_commission_exists(
    ctx: &GuardContext<'_>,
    kind: &str,
    level: &str,
) -> Result<(), GuardOutcome> {
    if kind != "inspection_commission" {
        return Ok(());
    }
    let levels = ctx.text_list("D22.inspection_commission_levels")?;
    let at_branch_grassroots =
        level == "grassroots" && ctx.flag("grassroots_is_branch") == Some(true);
    if levels.iter().any(|l| l == level) && !at_branch_grassroots {
        return Ok(());
    }
    Err(verdict(vec![ctx.reason(
        "D22",
        format!(
            "Không có {} (D22): ủy ban kiểm tra chỉ có từ đảng ủy cơ sở trở lên, do cấp ủy cùng cấp bầu; chi bộ, kể cả chi bộ cơ sở, không có ủy ban kiểm tra.",
            body_vi(kind, level)
        ),
        format!(
            "There is no {} (D22): inspection commissions exist only from the grassroots committee up, elected by the committee at the same level; a branch, even a grassroots branch, has none.",
            body_en(kind, level)
        ),
    )]))
}

fn inspecting_body_allowed(ctx: &GuardContext<'_>) -> GuardOutcome {
    let allowed = get!(ctx.text_list("D21.inspecting_bodies"));
    let kind = ctx.text("inspecting_body").unwrap_or_default();
    let level = ctx.text("inspecting_level").unwrap_or_default();
    if !allowed.iter().any(|k| k == kind) {
        return verdict(vec![ctx.reason(
            "D21",
            format!(
                "{} không được kiểm tra khi có dấu hiệu vi phạm (D21): chỉ cấp ủy, ban thường vụ cấp ủy, ủy ban kiểm tra và chi bộ mới được kiểm tra; các cơ quan tham mưu, giúp việc của cấp ủy thì không.",
                capitalise(&body_vi(kind, level))
            ),
            format!(
                "{} may not inspect on signs of violation (D21): only committees, their standing committees, inspection commissions and the branch may; a committee's advisory departments may not.",
                capitalise(&body_en(kind, level))
            ),
        )]);
    }
    get!(inspection_commission_exists(ctx, kind, level));
    GuardOutcome::Pass
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// D27, D28 ------------------------------------------------------------------------------------

fn invitations_unanswered(
    ctx: &GuardContext<'_>,
    counter: &str,
    what_vi: &str,
    what_en: &str,
) -> GuardOutcome {
    let min = get!(ctx.integer("D27.min_invitations"));
    let invited = ctx.int(counter).unwrap_or(0);
    let mut reasons = Vec::new();
    if invited < min {
        reasons.push(ctx.reason(
            "D27",
            format!(
                "Chỉ tiếp tục {what_vi} khi đảng viên đã được mời ít nhất {min} lần mà không đến (D27); mới mời {invited} lần."
            ),
            format!(
                "The organisation may go on {what_en} only after inviting the member at least {min} times in vain (D27); invited {invited} times."
            ),
        ));
    }
    if ctx.flag("absent_without_good_reason") != Some(true) {
        reasons.push(ctx.reason(
            "D27",
            format!(
                "Đảng viên vắng mặt có lý do chính đáng thì chưa được tiếp tục {what_vi} (D27): mời lại khi đảng viên có thể đến."
            ),
            format!(
                "The member was absent with good reason, so the organisation may not go on {what_en} (D27): invite again."
            ),
        ));
    }
    verdict(reasons)
}

fn self_criticism_invitations_unanswered(ctx: &GuardContext<'_>) -> GuardOutcome {
    invitations_unanswered(
        ctx,
        "self_criticism_invitations",
        "xem xét mà không có bản tự kiểm điểm",
        "without the member's self-criticism",
    )
}

fn hearing_invitations_unanswered(ctx: &GuardContext<'_>) -> GuardOutcome {
    invitations_unanswered(
        ctx,
        "hearing_invitations",
        "họp xem xét kỷ luật mà không nghe đảng viên trình bày ý kiến (D28)",
        "to the meeting without hearing the member (D28)",
    )
}

// D29 -----------------------------------------------------------------------------------------

fn ground_vi(code: &str) -> String {
    match code {
        "pregnant" => "đang mang thai".into(),
        "nursing_infant" => "đang nuôi con dưới 12 tháng tuổi".into(),
        "hospitalised" => "đang ốm nặng phải điều trị nội trú tại bệnh viện".into(),
        other => format!("«{other}»"),
    }
}

fn deferral_ground_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let grounds = get!(ctx.text_list("D29.grounds"));
    let infant_age = get!(ctx.period("D29.infant_age"));
    let ground = ctx.text("deferral_ground").unwrap_or_default();
    if !grounds.iter().any(|g| g == ground) {
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "«{ground}» không phải trường hợp chưa xem xét kỷ luật theo bộ quy tắc {} (D29): chỉ khi đảng viên đang mang thai, nuôi con dưới 12 tháng tuổi hoặc ốm nặng điều trị nội trú.",
                ctx.rules.id
            ),
            format!(
                "`{ground}` is not a deferral ground in rule set {} (D29): pregnancy, raising a child under 12 months, serious illness in hospital.",
                ctx.rules.id
            ),
        )]);
    }
    if ground != "nursing_infant" {
        return GuardOutcome::Pass;
    }
    let at = ctx.date("deferred_on").unwrap_or(ctx.today);
    let Some(birth) = ctx.date("child_birth_date") else {
        return verdict(vec![
            ctx.reason(
                "D29",
                "Hoãn xem xét kỷ luật vì nuôi con nhỏ phải ghi ngày sinh của con (D29).".to_owned(),
                "A deferral for raising a child must record the child's date of birth (D29)."
                    .to_owned(),
            ),
        ]);
    };
    let until = get!(ctx.add(birth, infant_age));
    if birth > at {
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "Ngày sinh của con ({}) sau ngày hoãn ({}): nếu đảng viên đang mang thai, hãy hoãn vì lý do mang thai (D29).",
                fmt_date(birth),
                fmt_date(at)
            ),
            format!(
                "The child's birth ({}) is after the deferral ({}): while the member is pregnant, defer on that ground (D29).",
                fmt_date(birth),
                fmt_date(at)
            ),
        )]);
    }
    if at >= until {
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "Con của đảng viên (sinh ngày {}) đã đủ {} tuổi từ ngày {} (D29): không còn thuộc trường hợp nuôi con dưới {} tuổi.",
                fmt_date(birth),
                infant_age.vi(),
                fmt_date(until),
                infant_age.vi()
            ),
            format!(
                "The member's child (born {}) reached {} on {} (D29): the ground of raising a child under that age no longer holds.",
                fmt_date(birth),
                infant_age.en(),
                fmt_date(until)
            ),
        )]);
    }
    GuardOutcome::Pass
}

fn deferral_ground_ended(ctx: &GuardContext<'_>) -> GuardOutcome {
    let infant_age = get!(ctx.period("D29.infant_age"));
    let ground = ctx.text("deferral_ground").unwrap_or_default();
    let at = ctx.date("resumed_on").unwrap_or(ctx.today);
    if ground == "nursing_infant" {
        let Some(birth) = ctx.date("child_birth_date") else {
            return verdict(vec![
                ctx.reason(
                    "D29",
                    "Hồ sơ hoãn vì nuôi con nhỏ chưa ghi ngày sinh của con (D29).".to_owned(),
                    "The deferral for raising a child has no date of birth of the child (D29)."
                        .to_owned(),
                ),
            ]);
        };
        let until = get!(ctx.add(birth, infant_age));
        if at >= until {
            return GuardOutcome::Pass;
        }
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "Con của đảng viên (sinh ngày {}) chưa đủ {} tuổi (D29): tiếp tục hoãn xem xét kỷ luật đến ngày {}.",
                fmt_date(birth),
                infant_age.vi(),
                fmt_date(until)
            ),
            format!(
                "The member's child (born {}) is not yet {} old (D29): consideration stays deferred until {}.",
                fmt_date(birth),
                infant_age.en(),
                fmt_date(until)
            ),
        )]);
    }
    match ctx.date("ground_ended_on") {
        Some(ended) if ended <= at => GuardOutcome::Pass,
        Some(ended) => verdict(vec![ctx.reason(
            "D29",
            format!(
                "Ngày kết thúc lý do hoãn ({}) sau ngày tiếp tục xem xét ({}) (D29).",
                fmt_date(ended),
                fmt_date(at)
            ),
            format!(
                "The deferral ground ends ({}) after the day of resuming ({}) (D29).",
                fmt_date(ended),
                fmt_date(at)
            ),
        )]),
        None => verdict(vec![ctx.reason(
            "D29",
            format!(
                "Đảng viên {} (D29): chỉ tiếp tục xem xét kỷ luật khi ghi được ngày lý do hoãn chấm dứt (ngày ra viện, ngày kết thúc thai kỳ); nếu đảng viên đã sinh con, hãy chuyển sang hoãn vì nuôi con dưới 12 tháng tuổi.",
                ground_vi(ground)
            ),
            format!(
                "The member's deferral ground (`{ground}`) has not ended (D29): record the day it ended (discharge, end of pregnancy); after a birth, defer for raising a child under 12 months."
            ),
        )]),
    }
}

// D1–D3 ---------------------------------------------------------------------------------------

/// The forms of discipline that exist for the case's subject (D1–D3), in the rule set's order.
fn forms_for_subject(ctx: &GuardContext<'_>) -> Result<(Vec<String>, &'static str), GuardOutcome> {
    let subject = ctx.text("subject_kind").unwrap_or_default();
    if subject == "organisation" {
        return Ok((ctx.text_list("D1.organisation_forms")?.to_vec(), "D1"));
    }
    let (mut forms, rule) = match ctx.text("membership") {
        Some("probationary") => (
            ctx.text_list("D3.probationary_member_forms")?.to_vec(),
            "D3",
        ),
        _ => (ctx.text_list("D2.official_member_forms")?.to_vec(), "D2"),
    };
    // D2: removal from post only for a member who holds one.
    if ctx.flag("holds_post") != Some(true) {
        let post_forms = ctx.text_list("D2.post_forms")?;
        forms.retain(|f| !post_forms.contains(f));
    }
    Ok((forms, rule))
}

fn form_not_allowed(ctx: &GuardContext<'_>, form: &str, forms: &[String], rule: &str) -> Reason {
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let membership = ctx.text("membership");
    let list_vi: Vec<String> = forms.iter().map(|f| form_vi(f)).collect();
    let list_en: Vec<String> = forms.iter().map(|f| form_en(f)).collect();
    let post_vi = if form == "removal" && subject != "organisation" {
        " Cách chức chỉ áp dụng với đảng viên có chức vụ."
    } else {
        ""
    };
    let post_en = if form == "removal" && subject != "organisation" {
        " Removal applies only to a member who holds a post."
    } else {
        ""
    };
    ctx.reason(
        rule,
        format!(
            "Hình thức {} không áp dụng cho {} ({rule}): chỉ có thể {}.{post_vi}",
            form_vi(form),
            subject_vi(subject, membership),
            list_vi.join(", ")
        ),
        format!(
            "{} cannot be given to {} ({rule}): the forms are {}.{post_en}",
            capitalise(&form_en(form)),
            subject_en(subject, membership),
            list_en.join(", ")
        ),
    )
}

fn form_allowed_for_subject(ctx: &GuardContext<'_>) -> GuardOutcome {
    let (forms, rule) = get!(forms_for_subject(ctx));
    let form = ctx.text("discipline_form").unwrap_or_default();
    if forms.iter().any(|f| f == form) {
        return GuardOutcome::Pass;
    }
    verdict(vec![form_not_allowed(ctx, form, &forms, rule)])
}

// D30–D33 -------------------------------------------------------------------------------------

/// One form on a discipline ballot (D30): the votes it received and the threshold it needs
/// (D31), out of the D33 denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BallotLine {
    /// Votes for this form.
    pub votes: u64,
    /// Share of the denominator the form needs.
    pub threshold: Threshold,
}

/// D32: which form a ballot imposes, as an index into `lines`, which run from the most severe
/// form down. A form that reaches its own threshold is imposed (the most severe one if several
/// do); otherwise the votes are cumulated from the most severe form down and the first form
/// whose cumulated votes reach its threshold is imposed. `None`: no form, no discipline.
///
/// With thresholds of at least a strict half (those of D31) the first step never changes the
/// answer of the second, but the rule says "if no form gets the required majority", so both
/// steps are kept: a rule set with other thresholds still gets the rule as written.
pub fn cumulate_from_most_severe(lines: &[BallotLine], counted: u64) -> Option<usize> {
    if let Some(i) = lines.iter().position(|l| l.threshold.met(l.votes, counted)) {
        return Some(i);
    }
    let mut cumulated: u64 = 0;
    for (i, line) in lines.iter().enumerate() {
        cumulated = cumulated.saturating_add(line.votes);
        if line.threshold.met(cumulated, counted) {
            return Some(i);
        }
    }
    None
}

const BALLOT_PARAMS: &[(&str, ParamKind)] = &[
    ("D30.secret_ballot_required", ParamKind::Flag),
    ("D31.majority", ParamKind::Threshold),
    ("D31.expulsion_branch_threshold", ParamKind::Threshold),
    ("D31.expulsion_competent_threshold", ParamKind::Threshold),
    ("D31.dissolution_threshold", ParamKind::Threshold),
    ("D32.severity_order", ParamKind::TextList),
    ("D1.organisation_forms", ParamKind::TextList),
    ("D2.official_member_forms", ParamKind::TextList),
    ("D2.post_forms", ParamKind::TextList),
    ("D3.probationary_member_forms", ParamKind::TextList),
];

/// A ballot read from the case: the forms that exist for the subject, most severe first, with
/// their votes and thresholds.
struct Ballot {
    forms: Vec<String>,
    lines: Vec<BallotLine>,
    counted: u64,
    members: i64,
    excluded: i64,
}

impl Ballot {
    fn result(&self) -> Option<usize> {
        cumulate_from_most_severe(&self.lines, self.counted)
    }

    /// "khai trừ 3, cách chức 2 (cộng dồn 5)" up to line `upto`.
    fn describe(&self, upto: usize) -> (String, String) {
        let mut cumulated = 0u64;
        let mut vi = Vec::new();
        let mut en = Vec::new();
        for (i, (form, line)) in self.forms.iter().zip(&self.lines).enumerate() {
            if i > upto {
                break;
            }
            cumulated = cumulated.saturating_add(line.votes);
            if i == 0 {
                vi.push(format!("{} {} phiếu", form_vi(form), line.votes));
                en.push(format!("{} {}", form_en(form), line.votes));
            } else {
                vi.push(format!(
                    "{} {} phiếu (cộng dồn {cumulated})",
                    form_vi(form),
                    line.votes
                ));
                en.push(format!(
                    "{} {} (cumulated {cumulated})",
                    form_en(form),
                    line.votes
                ));
            }
        }
        (vi.join(", "), en.join(", "))
    }

    fn denominator_vi(&self) -> String {
        if self.excluded > 0 {
            format!(
                "{} (trên tổng số {} đảng viên chính thức, trừ {} người sinh hoạt tạm thời nơi khác hoặc được miễn sinh hoạt và vắng mặt)",
                self.counted, self.members, self.excluded
            )
        } else {
            self.counted.to_string()
        }
    }

    fn denominator_en(&self) -> String {
        if self.excluded > 0 {
            format!(
                "{} ({} official members less {} living their party life elsewhere or exempted and absent)",
                self.counted, self.members, self.excluded
            )
        } else {
            self.counted.to_string()
        }
    }
}

fn read_ballot(ctx: &GuardContext<'_>) -> Result<Ballot, GuardOutcome> {
    let required = ctx.param_flag("D30.secret_ballot_required")?;
    if required && ctx.flag("secret_ballot") != Some(true) {
        return Err(verdict(vec![ctx.reason(
            "D30",
            "Biểu quyết quyết định hoặc đề nghị kỷ luật phải bằng phiếu kín, mỗi người một phiếu ghi các hình thức kỷ luật (D30): kết quả biểu quyết công khai không có giá trị.".to_owned(),
            "A vote to decide or propose discipline must be by secret ballot, one ballot per voter listing the forms (D30): an open vote is not valid.".to_owned(),
        )]));
    }
    let majority = ctx.threshold("D31.majority")?;
    let expulsion = if ctx.text("voting_body") == Some("branch") {
        ctx.threshold("D31.expulsion_branch_threshold")?
    } else {
        ctx.threshold("D31.expulsion_competent_threshold")?
    };
    let dissolution = ctx.threshold("D31.dissolution_threshold")?;
    let order = ctx.text_list("D32.severity_order")?;
    let (allowed, rule) = forms_for_subject(ctx)?;

    let members = ctx.need_int("official_members")?;
    let excluded = ctx.int("excluded_members").unwrap_or(0);
    let counted = members - excluded;
    let mut reasons = Vec::new();
    let mut forms = Vec::new();
    let mut lines = Vec::new();
    let mut total: i64 = ctx.int("votes_no_discipline").unwrap_or(0);
    for form in order {
        let votes = ctx.int(&format!("votes_{form}")).unwrap_or(0);
        total = total.saturating_add(votes);
        if !allowed.contains(form) {
            if votes > 0 {
                reasons.push(form_not_allowed(ctx, form, &allowed, rule));
            }
            continue;
        }
        let threshold = match form.as_str() {
            "expulsion" => expulsion,
            "dissolution" => dissolution,
            _ => majority,
        };
        forms.push(form.clone());
        lines.push(BallotLine {
            votes: unsigned(votes),
            threshold,
        });
    }
    if counted <= 0 || excluded < 0 || total < 0 {
        reasons.push(ctx.reason(
            "D33",
            format!(
                "Số liệu biểu quyết không hợp lệ (D33): {members} thành viên, loại trừ {excluded}, {total} phiếu."
            ),
            format!("Invalid vote figures (D33): {members} members, {excluded} excluded, {total} ballots."),
        ));
    } else if total > counted {
        reasons.push(ctx.reason(
            "D33",
            format!("Tổng số phiếu ({total}) nhiều hơn số thành viên được tính ({counted}) (D33)."),
            format!("More ballots ({total}) than members counted ({counted}) (D33)."),
        ));
    }
    if !reasons.is_empty() {
        return Err(verdict(reasons));
    }
    Ok(Ballot {
        forms,
        lines,
        counted: unsigned(counted),
        members,
        excluded,
    })
}

fn ballot_cumulated_form(ctx: &GuardContext<'_>) -> GuardOutcome {
    let ballot = get!(read_ballot(ctx));
    let recorded = ctx.text("discipline_form").unwrap_or_default();
    match ballot.result() {
        Some(i) if ballot.forms.get(i).is_some_and(|f| f == recorded) => GuardOutcome::Pass,
        Some(i) => {
            let form = ballot.forms.get(i).map_or("", String::as_str);
            let (vi, en) = ballot.describe(i);
            let needed = ballot
                .lines
                .get(i)
                .map_or(0, |l| l.threshold.required(ballot.counted));
            verdict(vec![ctx.reason(
                "D32",
                format!(
                    "Kết quả phiếu kín là {}, không phải {} (D31, D32): {vi}, trên {} phiếu tính, cần ít nhất {needed}. Khi không hình thức nào đủ số phiếu thì cộng dồn từ hình thức cao nhất xuống; hình thức đầu tiên đạt số phiếu cần thiết được áp dụng.",
                    form_vi(form),
                    form_vi(recorded),
                    ballot.denominator_vi()
                ),
                format!(
                    "The secret ballot gives {}, not {} (D31, D32): {en}, out of {}, at least {needed} needed. When no form has enough votes, votes are cumulated from the most severe form down; the first form that reaches its threshold is imposed.",
                    form_en(form),
                    form_en(recorded),
                    ballot.denominator_en()
                ),
            )])
        }
        None => {
            let (vi, en) = ballot.describe(ballot.lines.len());
            verdict(vec![ctx.reason(
                "D31",
                format!(
                    "Không hình thức kỷ luật nào đạt số phiếu cần thiết, kể cả khi cộng dồn từ hình thức cao nhất xuống (D31, D32): {vi}, trên {} phiếu tính. Không thi hành kỷ luật; ghi kết quả bằng bước «biểu quyết không kỷ luật».",
                    ballot.denominator_vi()
                ),
                format!(
                    "No form reaches its threshold, even with votes cumulated from the most severe form down (D31, D32): {en}, out of {}. No discipline: record the vote with `vote_no_discipline`.",
                    ballot.denominator_en()
                ),
            )])
        }
    }
}

fn ballot_without_majority(ctx: &GuardContext<'_>) -> GuardOutcome {
    let ballot = get!(read_ballot(ctx));
    let Some(i) = ballot.result() else {
        return GuardOutcome::Pass;
    };
    let form = ballot.forms.get(i).map_or("", String::as_str);
    let (vi, en) = ballot.describe(i);
    verdict(vec![ctx.reason(
        "D32",
        format!(
            "Phiếu kín có kết quả: hình thức {} (D31, D32: {vi}, trên {} phiếu tính); không thể ghi là không kỷ luật.",
            form_vi(form),
            ballot.denominator_vi()
        ),
        format!(
            "The secret ballot imposes {} (D31, D32: {en}, out of {}); it cannot be recorded as no discipline.",
            form_en(form),
            ballot.denominator_en()
        ),
    )])
}

// D13–D22: jurisdiction -----------------------------------------------------------------------

/// What a body may do with a form of discipline for a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Power {
    None,
    Propose,
    Decide,
}

/// The parameters that make up the jurisdiction table, with the rule each one states. Each
/// entry reads `body:subject:form:power[:condition]`, e.g. `branch@branch:member:warning:decide`
/// or `branch@branch:member:warning:propose:higher_task` (D14).
const JURISDICTION_TABLE: &[(&str, &str)] = &[
    ("D13", "D13.powers"),
    ("D14", "D14.powers"),
    ("D15", "D15.powers"),
    ("D16", "D16.powers"),
    ("D17", "D17.powers"),
    ("D18", "D18.powers"),
    ("D19", "D19.powers"),
    ("D20", "D20.powers"),
];

const JURISDICTION_PARAMS: &[(&str, ParamKind)] = &[
    ("D13.powers", ParamKind::TextList),
    ("D14.powers", ParamKind::TextList),
    ("D15.powers", ParamKind::TextList),
    ("D16.powers", ParamKind::TextList),
    ("D17.powers", ParamKind::TextList),
    ("D18.powers", ParamKind::TextList),
    ("D19.powers", ParamKind::TextList),
    ("D20.powers", ParamKind::TextList),
    ("D22.inspection_commission_levels", ParamKind::TextList),
];

const JURISDICTION_DECIDE_PARAMS: &[(&str, ParamKind)] = &[
    ("D13.powers", ParamKind::TextList),
    ("D14.powers", ParamKind::TextList),
    ("D15.powers", ParamKind::TextList),
    ("D16.powers", ParamKind::TextList),
    ("D17.powers", ParamKind::TextList),
    ("D18.powers", ParamKind::TextList),
    ("D19.powers", ParamKind::TextList),
    ("D20.powers", ParamKind::TextList),
    ("D22.inspection_commission_levels", ParamKind::TextList),
    ("D20.higher_agreement_required", ParamKind::Flag),
];

const JURISDICTION_READS: &[Read] = &[
    req("voting_body", DataType::Text),
    req("voting_level", DataType::Text),
    req("subject_kind", DataType::Text),
    req("discipline_form", DataType::Text),
    opt("higher_assigned_task", DataType::Boolean),
    opt("subject_level", DataType::Text),
    opt("grassroots_is_branch", DataType::Boolean),
];

const JURISDICTION_DECIDE_READS: &[Read] = &[
    req("voting_body", DataType::Text),
    req("voting_level", DataType::Text),
    req("subject_kind", DataType::Text),
    req("discipline_form", DataType::Text),
    opt("higher_assigned_task", DataType::Boolean),
    opt("subject_level", DataType::Text),
    opt("grassroots_is_branch", DataType::Boolean),
    opt("higher_agreement_date", DataType::Date),
];

/// The power the jurisdiction table gives the voting body for this form and subject.
struct Jurisdiction {
    power: Power,
    /// The rule of the entry that decided, or `None` when no entry matched.
    rule: Option<&'static str>,
    kind: String,
    level: String,
    form: String,
    subject: String,
    higher_task: bool,
}

/// Resolves an entry's level: absolute, or relative to the disciplined organisation's level
/// (`direct_superior`, `second_superior`, D19, D20).
pub(crate) fn entry_level(token: &str, subject_level: Option<&str>) -> Option<&'static str> {
    let up = match token {
        "direct_superior" => 1,
        "second_superior" => 2,
        _ => return level_rank(token).and_then(|i| LEVELS.get(i).copied()),
    };
    let base = level_rank(subject_level?)?;
    LEVELS.get(base + up).copied()
}

fn jurisdiction(ctx: &GuardContext<'_>) -> Result<Jurisdiction, GuardOutcome> {
    let kind = ctx.text("voting_body").unwrap_or_default();
    let level = ctx.text("voting_level").unwrap_or_default();
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let form = ctx.text("discipline_form").unwrap_or_default();
    let higher_task = ctx.flag("higher_assigned_task") == Some(true);
    inspection_commission_exists(ctx, kind, level)?;
    let best = power_of(ctx, kind, level)?;
    Ok(Jurisdiction {
        power: best.map_or(Power::None, |(p, _)| p),
        rule: best.map(|(_, r)| r),
        kind: kind.to_owned(),
        level: level.to_owned(),
        form: form.to_owned(),
        subject: subject.to_owned(),
        higher_task,
    })
}

/// One entry of the jurisdiction table: `(rule, kind, level token, subject, form, power,
/// condition)`.
type PowerEntry<'a> = (
    &'static str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Power,
    Option<&'a str>,
);

/// Every entry of the jurisdiction table of the rule set, parsed; a malformed one fails.
fn power_entries<'a>(ctx: &'a GuardContext<'_>) -> Result<Vec<PowerEntry<'a>>, GuardOutcome> {
    let mut out = Vec::new();
    for (rule, param) in JURISDICTION_TABLE {
        for entry in ctx.text_list(param)? {
            let parts: Vec<&str> = entry.split(':').collect();
            let expected = "«cơ_quan@cấp:đối_tượng:hình_thức:quyền[:điều_kiện]»";
            let (body, e_subject, e_form, e_power, condition) = match parts.as_slice() {
                [b, s, f, p] => (*b, *s, *f, *p, None),
                [b, s, f, p, c] => (*b, *s, *f, *p, Some(*c)),
                _ => return Err(bad_entry(ctx, param, entry, expected)),
            };
            let Some((e_kind, e_level)) = body.split_once('@') else {
                return Err(bad_entry(ctx, param, entry, expected));
            };
            let power = match e_power {
                "decide" => Power::Decide,
                "propose" => Power::Propose,
                "none" => Power::None,
                _ => return Err(bad_entry(ctx, param, entry, expected)),
            };
            if condition.is_some_and(|c| c != "higher_task") {
                return Err(bad_entry(ctx, param, entry, expected));
            }
            out.push((*rule, e_kind, e_level, e_subject, e_form, power, condition));
        }
    }
    Ok(out)
}

/// The power of the body `kind@level` over the case's subject and form, and the rule of the
/// entry that gives it; `None` when no entry matches (no power). The most specific matching
/// entry wins: a condition beats none, an exact form beats `*`, an exact subject beats `*`;
/// between equally specific entries, the lesser power.
fn power_of(
    ctx: &GuardContext<'_>,
    kind: &str,
    level: &str,
) -> Result<Option<(Power, &'static str)>, GuardOutcome> {
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let form = ctx.text("discipline_form").unwrap_or_default();
    let higher_task = ctx.flag("higher_assigned_task") == Some(true);
    let subject_level = ctx.text("subject_level");
    let mut best: Option<(u8, Power, &'static str)> = None;
    for (rule, e_kind, e_level, e_subject, e_form, power, condition) in power_entries(ctx)? {
        let condition_holds = condition.is_none() || higher_task;
        let matches = e_kind == kind
            && entry_level(e_level, subject_level).is_some_and(|l| l == level)
            && (e_subject == "*" || e_subject == subject)
            && (e_form == "*" || e_form == form)
            && condition_holds;
        if !matches {
            continue;
        }
        let score = u8::from(condition.is_some()) * 4
            + u8::from(e_form != "*") * 2
            + u8::from(e_subject != "*");
        let better = match best {
            None => true,
            Some((s, p, _)) => score > s || (score == s && power < p),
        };
        if better {
            best = Some((score, power, rule));
        }
    }
    Ok(best.map(|(_, p, r)| (p, r)))
}

/// The bodies that may decide the case's form for its subject, as the table gives them (each
/// resolved as `power_of` resolves it, so a more specific entry that takes the power away
/// wins): what a body that may only propose is told.
fn deciders(ctx: &GuardContext<'_>) -> Result<Vec<(String, String)>, GuardOutcome> {
    let subject_level = ctx.text("subject_level");
    let mut bodies: Vec<(String, String)> = Vec::new();
    for (_, kind, level, _, _, power, _) in power_entries(ctx)? {
        if power != Power::Decide {
            continue;
        }
        let Some(level) = entry_level(level, subject_level) else {
            continue;
        };
        let body = (kind.to_owned(), level.to_owned());
        if !bodies.contains(&body) {
            bodies.push(body);
        }
    }
    let mut out = Vec::new();
    for (kind, level) in bodies {
        if matches!(power_of(ctx, &kind, &level)?, Some((Power::Decide, _))) {
            out.push((kind, level));
        }
    }
    Ok(out)
}

impl Jurisdiction {
    fn body_vi(&self) -> String {
        capitalise(&body_vi(&self.kind, &self.level))
    }

    fn body_en(&self) -> String {
        capitalise(&body_en(&self.kind, &self.level))
    }

    /// The rule to cite: the matching entry's, else the general rule for the subject.
    fn rule(&self) -> &'static str {
        self.rule.unwrap_or(if self.subject == "organisation" {
            "D19"
        } else {
            "D13"
        })
    }

    fn no_power(&self, ctx: &GuardContext<'_>) -> Reason {
        let rule = self.rule();
        let why_vi = match rule {
            "D15" => " Chi ủy không có thẩm quyền kỷ luật.",
            "D16" => {
                " Đảng ủy bộ phận và ban thường vụ đảng ủy cơ sở không có thẩm quyền kỷ luật; chỉ thẩm tra đề nghị kỷ luật."
            }
            _ => "",
        };
        let why_en = match rule {
            "D15" => " A branch committee has no power to discipline.",
            "D16" => {
                " A partial committee or the grassroots standing committee has no power to discipline; it reviews proposals."
            }
            _ => "",
        };
        ctx.reason(
            rule,
            format!(
                "{} không có thẩm quyền quyết định hay đề nghị hình thức {} đối với {} theo bộ quy tắc {} ({rule}).{why_vi}",
                self.body_vi(),
                form_vi(&self.form),
                subject_vi(&self.subject, None),
                ctx.rules.id
            ),
            format!(
                "{} has no power to decide or propose {} for {} in rule set {} ({rule}).{why_en}",
                self.body_en(),
                form_en(&self.form),
                subject_en(&self.subject, None),
                ctx.rules.id
            ),
        )
    }

    fn only_propose(&self, ctx: &GuardContext<'_>) -> Reason {
        let rule = self.rule();
        // Who may decide instead, as the rule set's table says (D13–D20).
        let who = deciders(ctx).unwrap_or_default();
        let (who_vi, who_en) = if who.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!(
                    " Có thẩm quyền quyết định: {}.",
                    who.iter()
                        .map(|(k, l)| body_vi(k, l))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    " It may be decided by: {}.",
                    who.iter()
                        .map(|(k, l)| body_en(k, l))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        };
        let task_vi = if self.higher_task {
            " vì vi phạm liên quan đến nhiệm vụ do cấp trên giao"
        } else {
            ""
        };
        let task_en = if self.higher_task {
            " because the violation concerns a task assigned by a higher level"
        } else {
            ""
        };
        ctx.reason(
            rule,
            format!(
                "{} chỉ có quyền đề nghị, không có quyền quyết định hình thức {} đối với {}{task_vi} ({rule}): chuyển hồ sơ đề nghị lên cấp có thẩm quyền quyết định.{who_vi}",
                self.body_vi(),
                form_vi(&self.form),
                subject_vi(&self.subject, None)
            ),
            format!(
                "{} may only propose, not decide, {} for {}{task_en} ({rule}): send the proposal to the competent body.{who_en}",
                self.body_en(),
                form_en(&self.form),
                subject_en(&self.subject, None)
            ),
        )
    }
}

fn jurisdiction_may_consider(ctx: &GuardContext<'_>) -> GuardOutcome {
    let j = get!(jurisdiction(ctx));
    if j.power == Power::None {
        return verdict(vec![j.no_power(ctx)]);
    }
    GuardOutcome::Pass
}

fn jurisdiction_may_decide(ctx: &GuardContext<'_>) -> GuardOutcome {
    let agreement_required = get!(ctx.param_flag("D20.higher_agreement_required"));
    let j = get!(jurisdiction(ctx));
    match j.power {
        Power::None => return verdict(vec![j.no_power(ctx)]),
        Power::Propose => return verdict(vec![j.only_propose(ctx)]),
        Power::Decide => {}
    }
    // D20: dissolution needs the agreement of the committee one level further up.
    if j.form == "dissolution" && agreement_required && ctx.date("higher_agreement_date").is_none()
    {
        return verdict(vec![ctx.reason(
            "D20",
            format!(
                "{} chỉ quyết định giải tán tổ chức đảng sau khi được cấp ủy cấp trên một cấp đồng ý (D20): hãy ghi ngày văn bản đồng ý.",
                j.body_vi()
            ),
            format!(
                "{} may dissolve a party organisation only after the committee one level further up agrees (D20): record the date of its agreement.",
                j.body_en()
            ),
        )]);
    }
    GuardOutcome::Pass
}

fn jurisdiction_must_propose(ctx: &GuardContext<'_>) -> GuardOutcome {
    let j = get!(jurisdiction(ctx));
    match j.power {
        Power::Propose => GuardOutcome::Pass,
        Power::None => verdict(vec![j.no_power(ctx)]),
        Power::Decide => {
            let rule = j.rule();
            verdict(vec![ctx.reason(
                rule,
                format!(
                    "{} có thẩm quyền quyết định hình thức {} đối với {} ({rule}): tự ra quyết định, không chuyển lên cấp trên.",
                    j.body_vi(),
                    form_vi(&j.form),
                    subject_vi(&j.subject, None)
                ),
                format!(
                    "{} has the power to decide {} for {} ({rule}): it decides itself instead of proposing upward.",
                    j.body_en(),
                    form_en(&j.form),
                    subject_en(&j.subject, None)
                ),
            )])
        }
    }
}

// D6–D12: after the vote ----------------------------------------------------------------------

fn limitation_period_expired(ctx: &GuardContext<'_>) -> GuardOutcome {
    let Some(l) = get!(limitation(ctx)) else {
        let form = ctx.text("discipline_form").unwrap_or_default();
        return verdict(vec![ctx.reason(
            "D9",
            format!(
                "Không áp dụng thời hiệu đối với vi phạm đến mức {} hoặc thuộc các loại vi phạm không tính thời hiệu (D9): không thể kết thúc hồ sơ vì hết thời hiệu.",
                form_vi(form)
            ),
            format!(
                "No limitation period applies to a violation warranting {} or of a category without a limit (D9): the case cannot end as time-barred.",
                form_en(form)
            ),
        )]);
    };
    if l.until > l.expiry {
        return GuardOutcome::Pass;
    }
    let rule = l.rule;
    verdict(vec![ctx.reason(
        rule,
        format!(
            "Chưa hết thời hiệu kỷ luật ({rule}, D12): thời hiệu {} đối với hình thức {} tính từ {} đến hết ngày {}, ngày kết luận là {}. Phải thi hành kỷ luật theo kết quả biểu quyết.",
            l.period.vi(),
            form_vi(&l.form),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
        format!(
            "The limitation period has not run out ({rule}, D12): {} for {} counted from {} runs until {}, and the conclusion is on {}. The voted discipline is imposed.",
            l.period.en(),
            form_en(&l.form),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
    )])
}

// C1 ------------------------------------------------------------------------------------------

fn lapses(ctx: &GuardContext<'_>) -> Result<(bool, String), GuardOutcome> {
    let never = ctx.text_list("C1.no_lapse_forms")?;
    let form = ctx.text("discipline_form").unwrap_or_default();
    Ok((!never.iter().any(|f| f == form), form.to_owned()))
}

fn discipline_lapses(ctx: &GuardContext<'_>) -> GuardOutcome {
    let (lapses, form) = get!(lapses(ctx));
    if lapses {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "C1",
        format!(
            "Hình thức {} không tự động hết hiệu lực sau 12 tháng (C1): dùng bước dành cho {}.",
            form_vi(&form),
            form_vi(&form)
        ),
        format!(
            "{} never lapses after 12 months (C1): use the step for {}.",
            capitalise(&form_en(&form)),
            form_en(&form)
        ),
    )])
}

fn discipline_does_not_lapse(ctx: &GuardContext<'_>) -> GuardOutcome {
    let (lapses, form) = get!(lapses(ctx));
    if !lapses {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "C1",
        format!(
            "Bước này chỉ dành cho khai trừ hoặc giải tán; hình thức {} sẽ tự động hết hiệu lực sau 12 tháng (C1).",
            form_vi(&form)
        ),
        format!(
            "This step is for expulsion or dissolution only; {} lapses after 12 months (C1).",
            form_en(&form)
        ),
    )])
}

fn discipline_lapse_due(ctx: &GuardContext<'_>) -> GuardOutcome {
    let period = get!(ctx.period("C1.lapse_period"));
    let (lapses, form) = get!(lapses(ctx));
    if !lapses {
        return discipline_lapses(ctx);
    }
    let due = get!(ctx.need_date("lapse_date"));
    if ctx.today >= due {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "C1",
        format!(
            "Quyết định kỷ luật {} chỉ tự động hết hiệu lực sau {} kể từ ngày công bố hoặc ngày có quyết định giải quyết khiếu nại, tức từ ngày {} (C1).",
            form_vi(&form),
            period.vi(),
            fmt_date(due)
        ),
        format!(
            "The {} lapses only {} after its announcement or the appeal ruling, on {} (C1).",
            form_en(&form),
            period.en(),
            fmt_date(due)
        ),
    )])
}

// P1, P3, P4 ----------------------------------------------------------------------------------

fn inadmissible_vi(code: &str) -> String {
    match code {
        "pending_or_decided_higher" => "đang được cấp trên giải quyết hoặc đã được cấp có thẩm quyền cao nhất giải quyết".into(),
        "court_sentence" => "đảng viên đang chịu hình phạt từ cải tạo không giam giữ trở lên theo bản án chưa được hủy bỏ".into(),
        "on_behalf" => "khiếu nại hộ người khác".into(),
        "before_written_decision" => "khiếu nại khi chưa nhận được quyết định kỷ luật bằng văn bản (D38)".into(),
        "refused_to_receive" => "đã từ chối nhận quyết định kỷ luật hoặc quyết định giải quyết khiếu nại".into(),
        "transferred_out" => "đã chuyển sinh hoạt đảng ra ngoài đảng bộ cấp trên trực tiếp trước khi khiếu nại".into(),
        other => format!("«{other}»"),
    }
}

fn appeal_admissible(ctx: &GuardContext<'_>) -> GuardOutcome {
    let grounds = get!(ctx.text_list("P4.inadmissible_grounds"));
    let recorded: Vec<&str> = ctx
        .get("inadmissibility")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_text)
        .collect();
    verdict(
        recorded
            .into_iter()
            .filter(|code| grounds.iter().any(|g| g == code))
            .map(|code| {
                ctx.reason(
                    "P4",
                    format!(
                        "Đơn khiếu nại không đủ điều kiện giải quyết (P4): {}.",
                        inadmissible_vi(code)
                    ),
                    format!("The appeal is inadmissible (P4): `{code}`."),
                )
            })
            .collect(),
    )
}

fn appeal_in_disputed_window(ctx: &GuardContext<'_>) -> GuardOutcome {
    let strict = get!(ctx.period("P1.appeal_window"));
    let lenient = get!(ctx.period("P1.appeal_window_lenient"));
    let received = get!(ctx.need_date("decision_received_date"));
    let filed = ctx.date("appeal_filed_date").unwrap_or(ctx.today);
    let strict_due = get!(ctx.add(received, strict));
    let lenient_due = get!(ctx.add(received, lenient));
    if filed > strict_due && filed <= lenient_due {
        return GuardOutcome::Pass;
    }
    if filed <= strict_due {
        return verdict(vec![ctx.reason(
            "P1",
            format!(
                "Đơn khiếu nại nộp ngày {} còn trong thời hạn {} kể từ ngày nhận quyết định (hạn cuối {}) (P1): nộp theo thủ tục thông thường.",
                fmt_date(filed),
                strict.vi(),
                fmt_date(strict_due)
            ),
            format!(
                "The appeal filed on {} is within {} of receipt (due {}) (P1): file it the ordinary way.",
                fmt_date(filed),
                strict.en(),
                fmt_date(strict_due)
            ),
        )]);
    }
    verdict(vec![ctx.reason(
        "P1",
        format!(
            "Đơn khiếu nại nộp ngày {} quá hạn theo cả hai cách hiểu thời hạn «một tháng» ({}, hạn {}; {}, hạn {}) (P1); đơn quá hạn không được giải quyết (P4).",
            fmt_date(filed),
            strict.vi(),
            fmt_date(strict_due),
            lenient.vi(),
            fmt_date(lenient_due)
        ),
        format!(
            "The appeal filed on {} is late under both readings of \"one month\" ({}, due {}; {}, due {}) (P1); late appeals are inadmissible (P4).",
            fmt_date(filed),
            strict.en(),
            fmt_date(strict_due),
            lenient.en(),
            fmt_date(lenient_due)
        ),
    )])
}

/// A body's rank for appeals: its level, then its kind's place in `P3.body_order`.
fn appeal_rank(order: &[String], kind: &str, level: &str) -> Option<(usize, usize)> {
    Some((level_rank(level)?, order.iter().position(|k| k == kind)?))
}

fn appeal_level_allowed(ctx: &GuardContext<'_>) -> GuardOutcome {
    let order = get!(ctx.text_list("P3.body_order"));
    let lowest = get!(ctx.param_text("P3.lowest_appeal_level"));
    let finals = get!(ctx.text_list("P3.final_instances"));
    let central_final = get!(ctx.param_text("P3.final_instance_for_central_decisions"));
    let kind = ctx.text("appeal_body").unwrap_or_default();
    let level = ctx.text("appeal_level").unwrap_or_default();
    let (to_vi, to_en) = (body_vi(kind, level), body_en(kind, level));

    let Some(to) = appeal_rank(order, kind, level)
        .filter(|(l, _)| level_rank(lowest).is_some_and(|low| *l >= low))
    else {
        return verdict(vec![ctx.reason(
            "P3",
            format!(
                "{} không giải quyết khiếu nại kỷ luật (P3): khiếu nại được giải quyết bởi ủy ban kiểm tra, ban thường vụ cấp ủy, cấp ủy từ cấp cơ sở trở lên.",
                capitalise(&to_vi)
            ),
            format!(
                "{} does not settle discipline appeals (P3): inspection commissions, standing committees and committees from the grassroots level up do.",
                capitalise(&to_en)
            ),
        )]);
    };

    // The decision appealed: the latest ruling if there was one, else the decision itself.
    let voting_kind = ctx.text("voting_body").unwrap_or_default();
    let voting_level = ctx.text("voting_level").unwrap_or_default();
    let (from_kind, from_level) = match (ctx.text("ruling_body"), ctx.text("ruling_level")) {
        (Some(k), Some(l)) => (k, l),
        _ => (voting_kind, voting_level),
    };
    let from = (
        level_rank(from_level).unwrap_or(0),
        order.iter().position(|k| k == from_kind).unwrap_or(0),
    );
    let mut reasons = Vec::new();
    if to <= from {
        reasons.push(ctx.reason(
            "P3",
            format!(
                "Khiếu nại phải gửi lên cấp ủy hoặc ủy ban kiểm tra cấp trên của {} (P1, P3), không gửi {}.",
                body_vi(from_kind, from_level),
                to_vi
            ),
            format!(
                "The appeal goes to a committee or inspection commission above {} (P1, P3), not to {}.",
                body_en(from_kind, from_level),
                to_en
            ),
        ));
    }

    // The final instance: the Central Committee for decisions of central bodies, else the
    // rule set's table by form.
    let final_spec = if voting_level == "central" {
        Some(central_final.to_owned())
    } else {
        ctx.text("discipline_form").and_then(|form| {
            finals.iter().find_map(|entry| {
                entry
                    .split_once(':')
                    .filter(|(f, _)| *f == form)
                    .map(|(_, body)| body.to_owned())
            })
        })
    };
    if let Some(spec) = final_spec {
        let Some((f_kind, f_level)) = spec.split_once('@') else {
            return bad_entry(ctx, "P3.final_instances", &spec, "«hình_thức:cơ_quan@cấp»");
        };
        let (final_vi, final_en) = named_body(&spec);
        if from_kind == f_kind && from_level == f_level {
            reasons.push(ctx.reason(
                "P4",
                format!(
                    "Quyết định bị khiếu nại là của {final_vi}, cấp giải quyết cuối cùng (P3): đơn không đủ điều kiện giải quyết (P4)."
                ),
                format!(
                    "The decision appealed is {final_en}'s, the final instance (P3): the appeal is inadmissible (P4)."
                ),
            ));
        } else if appeal_rank(order, f_kind, f_level).is_some_and(|f| to > f) {
            reasons.push(ctx.reason(
                "P3",
                format!(
                    "Cấp giải quyết khiếu nại cuối cùng trong trường hợp này là {} (P3); không gửi {}.",
                    final_vi, to_vi
                ),
                format!(
                    "The final instance here is {final_en} (P3); the appeal cannot go to {to_en}."
                ),
            ));
        }
    }
    verdict(reasons)
}

fn appeal_outcome_consistent(ctx: &GuardContext<'_>) -> GuardOutcome {
    let order = get!(ctx.text_list("D32.severity_order"));
    let outcome = ctx.text("appeal_outcome").unwrap_or_default();
    let new = ctx.text("discipline_form").unwrap_or_default();
    // The form under appeal is the case's fact before this step; the ruling records the new one.
    let Some(old) = ctx.case.fact("discipline_form").and_then(Value::as_text) else {
        return verdict(vec![ctx.reason(
            "P3",
            "Hồ sơ chưa có hình thức kỷ luật bị khiếu nại (P3).".to_owned(),
            "The case records no form of discipline under appeal (P3).".to_owned(),
        )]);
    };
    let severity = |f: &str| order.iter().position(|o| o == f);
    let consistent = match (outcome, severity(old), severity(new)) {
        ("upheld", _, _) => old == new,
        // A lower index is a more severe form.
        ("reduced", Some(o), Some(n)) => n > o,
        ("increased", Some(o), Some(n)) => n < o,
        _ => false,
    };
    if consistent {
        return GuardOutcome::Pass;
    }
    let (vi, en) = match outcome {
        "upheld" => ("giữ nguyên", "upheld"),
        "reduced" => ("giảm hình thức kỷ luật", "reduced"),
        "increased" => ("tăng hình thức kỷ luật", "increased"),
        other => (other, other),
    };
    verdict(vec![ctx.reason(
        "P3",
        format!(
            "Kết quả giải quyết khiếu nại «{vi}» không khớp với hình thức ghi nhận: hình thức bị khiếu nại là {}, hình thức sau giải quyết là {} (P3).",
            form_vi(old),
            form_vi(new)
        ),
        format!(
            "The ruling `{en}` does not agree with the forms: {} under appeal, {} after the ruling (P3).",
            form_en(old),
            form_en(new)
        ),
    )])
}

// D4, D5 --------------------------------------------------------------------------------------

fn removal_ground_established(ctx: &GuardContext<'_>) -> GuardOutcome {
    let grounds = get!(ctx.text_list("D5.grounds"));
    let min = get!(ctx.integer("D5.min_months"));
    let ground = ctx.text("removal_ground").unwrap_or_default();
    if !grounds.iter().any(|g| g == ground) {
        return verdict(vec![ctx.reason(
            "D5",
            format!(
                "«{ground}» không phải căn cứ xóa tên theo bộ quy tắc {} (D5): bỏ sinh hoạt chi bộ hoặc không đóng đảng phí {min} tháng trong năm mà không có lý do chính đáng. Xóa tên không phải là hình thức kỷ luật (D4).",
                ctx.rules.id
            ),
            format!(
                "`{ground}` is not a ground for striking the name off in rule set {} (D5): skipping branch meetings or not paying dues for {min} months in a year without good reason. Striking off is not a form of discipline (D4).",
                ctx.rules.id
            ),
        )]);
    }
    let mut reasons = Vec::new();
    let months = ctx.int("months_missed").unwrap_or(0);
    if months < min {
        let what_vi = if ground == "unpaid_dues" {
            "không đóng đảng phí"
        } else {
            "bỏ sinh hoạt chi bộ"
        };
        reasons.push(ctx.reason(
            "D5",
            format!(
                "Chỉ xem xét xóa tên khi đảng viên {what_vi} {min} tháng trong năm (D5); mới ghi nhận {months} tháng."
            ),
            format!(
                "The name is struck off only after {min} months in a year of `{ground}` (D5); {months} recorded."
            ),
        ));
    }
    if ctx.flag("good_reason") == Some(true) {
        reasons.push(ctx.reason(
            "D5",
            "Đảng viên có lý do chính đáng thì không xem xét xóa tên (D5).".to_owned(),
            "A member with good reason is not struck off (D5).".to_owned(),
        ));
    }
    verdict(reasons)
}

fn removal_vote_threshold(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("D5.branch_vote_threshold"));
    let t = get!(tally(
        ctx,
        "D5",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "D5",
        &t,
        threshold,
        "Nghị quyết của chi bộ đề nghị xóa tên đảng viên",
        "The branch resolution proposing to strike the name off",
    )])
}

fn activity_vi(activity: &str) -> &str {
    match activity {
        "transfer" => "chuyển sinh hoạt đảng",
        "rotation" => "luân chuyển",
        "appointment" => "bổ nhiệm, giới thiệu ứng cử",
        "military_rank" => "phong, thăng quân hàm",
        "titles" => "xét tặng danh hiệu, Huy hiệu Đảng",
        other => other,
    }
}

fn activity_en(activity: &str) -> &str {
    match activity {
        "transfer" => "transfer of membership",
        "rotation" => "rotation",
        "appointment" => "appointment or nomination",
        "military_rank" => "military rank",
        "titles" => "award of titles or the Party badge",
        other => other,
    }
}

/// Why the member with these open discipline cases may not undergo `activity` (`transfer`,
/// `appointment`, `titles`, ... as the rule set lists them): C2 when a discipline decided is in
/// force and `C2.restrictions` lists the activity; C7 when another case is open (being
/// inspected or disciplined) and `C7.restrictions_while_inspected` lists it. Pure; the guard
/// `not_barred_by_discipline` and the badge path both ask it.
pub fn barred_by_discipline(
    rules: &RuleSet,
    activity: &str,
    cases: &[super::context::OpenDiscipline],
) -> Result<Vec<(&'static str, String, String)>, super::ruleset::ParamError> {
    let in_force_bars = rules.text_list("C2.restrictions")?;
    let c2 = in_force_bars.iter().any(|a| a == activity);
    // C7 is read only where a case is open without a decision in force: a rule set without
    // it still decides C2.
    let c7 = || {
        rules
            .text_list("C7.restrictions_while_inspected")
            .map(|l| l.iter().any(|a| a == activity))
    };
    // The reasons name the rule and the activity only: the discipline cases are confidential,
    // and whoever reads this refusal (a transfer's preview, a badge award) may not read them.
    let mut out = Vec::new();
    if c2 && cases.iter().any(|c| c.in_force) {
        out.push((
            "C2",
            format!(
                "Đảng viên đang trong thời gian chấp hành kỷ luật: không được {} (C2).",
                activity_vi(activity)
            ),
            format!(
                "The member is under a discipline in force: no {} (C2).",
                activity_en(activity)
            ),
        ));
    }
    let others = cases.iter().filter(|c| !(c2 && c.in_force)).count();
    if others > 0 && c7()? {
        out.push((
            "C7",
            format!(
                "Đảng viên đang bị kiểm tra hoặc xử lý kỷ luật: chưa được {} (C7).",
                activity_vi(activity)
            ),
            format!(
                "The member is being inspected or disciplined: no {} meanwhile (C7).",
                activity_en(activity)
            ),
        ));
    }
    Ok(out)
}

fn not_barred_by_discipline(ctx: &GuardContext<'_>) -> GuardOutcome {
    let Some(cases) = super::context::read_subject_discipline(ctx.data) else {
        return GuardOutcome::NeedsData(vec![super::context::SUBJECT_DISCIPLINE.to_owned()]);
    };
    match barred_by_discipline(ctx.rules, "transfer", &cases) {
        Ok(bars) => verdict(
            bars.into_iter()
                .map(|(rule, vi, en)| ctx.reason(rule, vi, en))
                .collect(),
        ),
        Err(e) => ctx.param_failure(&e),
    }
}

fn violation_in_catalogue(ctx: &GuardContext<'_>) -> GuardOutcome {
    let catalogue = match crate::violations::catalogue(ctx.rules) {
        Ok(c) => c,
        Err(crate::violations::CatalogueError::Param(e)) => return ctx.param_failure(&e),
        Err(e) => {
            return GuardOutcome::Fail(vec![ctx.reason(
                "D42",
                format!(
                    "Lỗi cấu hình: danh mục vi phạm của bộ quy tắc {} không hợp lệ ({e}) (D42).",
                    ctx.rules.id
                ),
                format!(
                    "Configuration error: the violation catalogue of rule set {} is invalid ({e}).",
                    ctx.rules.id
                ),
            )]);
        }
    };
    let (aggravating, mitigating) =
        get!(crate::violations::circumstances(ctx.rules).map_err(|e| ctx.param_failure(&e)));
    let mut reasons = Vec::new();
    if let Some(code) = ctx.text("violation_code")
        && !catalogue.iter().any(|v| v.code == code)
    {
        let known: Vec<&str> = catalogue.iter().map(|v| v.code.as_str()).collect();
        reasons.push(ctx.reason(
            "D42",
            format!(
                "Mã vi phạm «{code}» không có trong danh mục vi phạm của bộ quy tắc {} (có: {}) (D42).",
                ctx.rules.id,
                known.join(", ")
            ),
            format!(
                "Violation code `{code}` is not in the catalogue of rule set {} (known: {}) (D42).",
                ctx.rules.id,
                known.join(", ")
            ),
        ));
    }
    for (key, list, vi, en) in [
        (
            "aggravating_factors",
            &aggravating,
            "tăng nặng",
            "aggravating",
        ),
        ("mitigating_factors", &mitigating, "giảm nhẹ", "mitigating"),
    ] {
        for item in ctx.get(key).and_then(Value::as_list).unwrap_or_default() {
            let code = item.as_text().unwrap_or_default();
            if !list.iter().any(|c| c == code) {
                reasons.push(ctx.reason(
                    "D41",
                    format!(
                        "Tình tiết {vi} «{code}» không có trong danh sách của bộ quy tắc {} (có: {}) (D41).",
                        ctx.rules.id,
                        list.join(", ")
                    ),
                    format!(
                        "`{code}` is not an {en} circumstance of rule set {} (known: {}) (D41).",
                        ctx.rules.id,
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    verdict(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(votes: u64, threshold: &str) -> BallotLine {
        BallotLine {
            votes,
            threshold: Threshold::parse(threshold).unwrap_or(Threshold {
                num: 1,
                den: 2,
                strict: true,
            }),
        }
    }

    // D32: expulsion 3, removal 2, warning 2, reprimand 3 of 10: no form has more than half;
    // cumulated from the top, expulsion + removal + warning = 7 > 5, so warning.
    #[test]
    fn d32_votes_cumulate_from_the_most_severe_form() {
        let lines = [
            line(3, ">= 2/3"),
            line(2, "> 1/2"),
            line(2, "> 1/2"),
            line(3, "> 1/2"),
        ];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(2));
    }

    #[test]
    fn d32_a_form_with_its_own_majority_is_imposed_without_cumulating() {
        let lines = [line(1, ">= 2/3"), line(0, "> 1/2"), line(6, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(2));
    }

    #[test]
    fn d31_d32_expulsion_needs_two_thirds_but_its_votes_count_towards_lower_forms() {
        // 6 of 10 for expulsion is not 2/3, but counts for the next form down.
        let lines = [line(6, ">= 2/3"), line(0, "> 1/2"), line(4, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(1));
        let lines = [line(7, ">= 2/3"), line(0, "> 1/2"), line(3, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(0));
    }

    #[test]
    fn d32_no_form_and_no_cumulation_reaching_the_majority_means_no_discipline() {
        // Half exactly is not more than half (D31 "trên một nửa").
        let lines = [line(2, "> 1/2"), line(3, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), None);
        assert_eq!(cumulate_from_most_severe(&[], 10), None);
    }

    #[test]
    fn entry_levels_resolve_relative_to_the_organisation() {
        assert_eq!(
            entry_level("direct_superior", Some("grassroots")),
            Some("superior")
        );
        assert_eq!(
            entry_level("second_superior", Some("grassroots")),
            Some("province")
        );
        assert_eq!(entry_level("direct_superior", Some("central")), None);
        assert_eq!(entry_level("direct_superior", None), None);
        assert_eq!(entry_level("province", None), Some("province"));
    }
}
