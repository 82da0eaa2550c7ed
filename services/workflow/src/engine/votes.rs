//! Votes as records: who could vote, how many were for, the denominator the rule uses, the
//! threshold of the rule set the step was decided under, and the result.
//!
//! A vote is not a separate input to trust: it is derived from the history of a case. Every
//! step of a transition that records a vote (its `rules` name a voting rule and its inputs carry
//! the vote's figures) gives one [`VoteRecord`]; the engine computes the denominator and the
//! result from the rule set, the client never states them. The shapes of the votes are data
//! ([`VOTE_SHAPES`]), keyed by rule id and input names, so a new workflow that records a vote
//! with the same inputs gets its records without code:
//!
//! - A8 (branch resolution proposing admission), A14 (branch resolution on recognition or
//!   striking off, including inconclusive rounds) and D5 (branch resolution proposing to strike a
//!   name off): `votes_for` of `official_members`, less the members living their party life
//!   temporarily elsewhere and the exempted members who are absent (294-QĐ/TW 9.3.2, S15). Those
//!   are the registry's on the vote's date, as the guard read them and the history kept them
//!   with the step ([`RecordedStep::facts`], [`ExclusionSource::Registry`]); a step recorded
//!   without them (the core used alone, or before they were kept) falls back on the counts its
//!   inputs typed (`excluded_members`, `exempted_members`, less `exempted_present`;
//!   [`ExclusionSource::Inputs`]);
//! - A9 (a grassroots committee delegated to admit): `committee_votes_for` of
//!   `committee_members`.
//!
//! The inputs record only the votes in favour: everyone else counted in the denominator
//! (against, abstaining or absent) is reported together as "not in favour", which is what the
//! rules compare. The secret ballots of discipline (D30–D33, cumulated by form) are explained
//! by their guards and are not records here yet.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::context::{ExclusionKind, read_vote_exclusions};
use super::definition::{Definition, RuleSetSelection};
use super::period::Threshold;
use super::ruleset::RuleBook;
use super::value::{Value, Values};

/// One entry of a case's history with the inputs it was given, as the shell stores it.
#[derive(Debug, Clone, Copy)]
pub struct RecordedStep<'a> {
    /// Position in the history, from 1.
    pub seq: u64,
    /// Transition fired (or attempted).
    pub transition: &'a str,
    /// Day of the step.
    pub on: NaiveDate,
    /// Rule set recorded with the entry.
    pub rule_set: &'a str,
    /// `true` for a step taken, `false` for a refused attempt kept in the history.
    pub accepted: bool,
    /// The inputs given.
    pub inputs: &'a Values,
    /// What the registry told the step's guards, as the history kept it (the context key
    /// [`super::context::VOTE_EXCLUSIONS`] for a vote); `None` when nothing was kept.
    pub facts: Option<&'a Values>,
}

/// Where a vote's excluded members were counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionSource {
    /// The registry on the vote's date, as the guard read it when the step was decided (kept
    /// with the step).
    Registry,
    /// The counts the step's inputs typed: a step recorded without the registry's figures.
    Inputs,
}

impl ExclusionSource {
    /// Stable code, e.g. `registry`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionSource::Registry => "registry",
            ExclusionSource::Inputs => "inputs",
        }
    }
}

/// Who votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VotingBody {
    /// The branch's official members (probationary members do not vote, A13).
    Branch,
    /// The members of the grassroots party committee.
    GrassrootsCommittee,
}

impl VotingBody {
    /// Stable code, e.g. `branch`.
    pub fn as_str(self) -> &'static str {
        match self {
            VotingBody::Branch => "branch",
            VotingBody::GrassrootsCommittee => "grassroots_committee",
        }
    }
}

/// How a voting rule is recorded in a transition's inputs.
#[derive(Debug, Clone, Copy)]
pub struct VoteShape {
    /// The rule id a transition names when it records this vote.
    pub rule: &'static str,
    /// The threshold parameter of the rule set.
    pub threshold: &'static str,
    /// Who votes.
    pub body: VotingBody,
    /// Input: votes in favour.
    pub votes_for: &'static str,
    /// Input: members entitled to vote.
    pub members: &'static str,
    /// Input: members left out of the denominator, if the rule leaves any out.
    pub excluded: Option<&'static str>,
    /// Input: the day of the meeting (the day of the step when absent).
    pub held_on: &'static str,
    /// Input: what the vote was on, when the transition records it.
    pub proposal: Option<&'static str>,
}

/// The votes the engine recognises.
pub static VOTE_SHAPES: &[VoteShape] = &[
    VoteShape {
        rule: "A8",
        threshold: "A8.vote_threshold",
        body: VotingBody::Branch,
        votes_for: "votes_for",
        members: "official_members",
        excluded: Some("excluded_members"),
        held_on: "branch_vote_date",
        proposal: None,
    },
    VoteShape {
        rule: "A9",
        threshold: "A9.committee_threshold",
        body: VotingBody::GrassrootsCommittee,
        votes_for: "committee_votes_for",
        members: "committee_members",
        excluded: None,
        held_on: "review_date",
        proposal: None,
    },
    VoteShape {
        rule: "A14",
        threshold: "A14.vote_threshold",
        body: VotingBody::Branch,
        votes_for: "votes_for",
        members: "official_members",
        excluded: Some("excluded_members"),
        held_on: "recognition_vote_date",
        proposal: Some("proposal"),
    },
    VoteShape {
        rule: "D5",
        threshold: "D5.branch_vote_threshold",
        body: VotingBody::Branch,
        votes_for: "votes_for",
        members: "official_members",
        excluded: Some("excluded_members"),
        held_on: "branch_vote_date",
        proposal: None,
    },
];

/// One vote of a case, with its result computed from the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    /// The history entry that recorded it.
    pub seq: u64,
    /// Its transition.
    pub transition: String,
    /// The rule that sets the threshold (`A8`, `A9`, `A14`, `D5`).
    pub rule: String,
    /// Who voted.
    pub body: VotingBody,
    /// The round: 1 for the first vote under this rule in the case, then 2, 3 (A14 allows 3).
    pub round: u32,
    /// Day of the meeting.
    pub held_on: NaiveDate,
    /// The rule set the result is computed under: the step's own.
    pub rule_set: String,
    /// `false` for an attempt the engine refused and the history kept.
    pub recorded: bool,
    /// What was voted on, when the transition records it (`recognise`, `strike_off`).
    pub proposal: Option<String>,
    /// Members entitled to vote (the branch's official members, or the committee's members).
    pub eligible: i64,
    /// Members left out of the denominator: `excluded_away` and `excluded_exempted`.
    pub excluded: i64,
    /// Of them, the members living their party life temporarily elsewhere on the vote's date.
    pub excluded_away: i64,
    /// Of them, the members exempted from party activities and work (S15) who were absent.
    pub excluded_exempted: i64,
    /// Where they were counted from; `None` for a vote that leaves nobody out (a committee's).
    pub excluded_from: Option<ExclusionSource>,
    /// The denominator the rule uses: eligible less excluded.
    pub denominator: i64,
    /// Votes in favour.
    pub votes_for: i64,
    /// Everyone else counted: against, abstaining or absent.
    pub not_in_favour: i64,
    /// The threshold parameter read.
    pub threshold_param: String,
    /// Its value, when the rule set has one.
    pub threshold: Option<Threshold>,
    /// The smallest number of votes in favour that meets the threshold.
    pub required: Option<i64>,
    /// Whether the threshold was met; `None` when it cannot be said (see `note_vi`).
    pub passed: Option<bool>,
    /// Why the result cannot be computed, in Vietnamese.
    pub note_vi: Option<String>,
    /// The same in English.
    pub note_en: Option<String>,
}

fn int(inputs: &Values, key: &str) -> Option<i64> {
    inputs.get(key).and_then(Value::as_int)
}

/// The vote shape a transition records, if any: the first shape whose rule the transition names
/// and whose figures its inputs carry.
fn shape_of(def: &Definition, step: &RecordedStep<'_>) -> Option<&'static VoteShape> {
    let t = def.transition(step.transition)?;
    VOTE_SHAPES.iter().find(|s| {
        t.rules.iter().any(|r| r == s.rule)
            && int(step.inputs, s.votes_for).is_some()
            && int(step.inputs, s.members).is_some()
    })
}

/// The rule set a step's result is computed under: the one recorded with a step taken; for a
/// refused attempt, the one the engine would have used that day.
fn rule_set_of<'a>(
    def: &Definition,
    rules: &RuleBook,
    step: &RecordedStep<'a>,
    opening: Option<&'a str>,
) -> Option<String> {
    if step.accepted {
        return Some(step.rule_set.to_owned());
    }
    match def.rule_set_selection {
        RuleSetSelection::EventDate => rules.for_date(step.on).map(|r| r.id.clone()),
        RuleSetSelection::CaseOpened => opening.map(str::to_owned),
    }
}

/// The members a vote of `shape` recorded by `step` left out of its denominator: those living
/// their party life elsewhere and the exempted who were absent, from the registry's figures
/// the step was decided on when the history kept them, else from the counts its inputs typed
/// (as the guard counts them without a registry).
fn excluded(shape: &VoteShape, step: &RecordedStep<'_>) -> (i64, i64, Option<ExclusionSource>) {
    let Some(typed_away) = shape.excluded else {
        return (0, 0, None);
    };
    let present = int(step.inputs, "exempted_present").unwrap_or(0).max(0);
    if let Some(r) = step.facts.and_then(read_vote_exclusions) {
        let count = |k: ExclusionKind| i64::try_from(r.of(k).len()).unwrap_or(i64::MAX);
        let exempted = count(ExclusionKind::Exempted);
        return (
            count(ExclusionKind::Away),
            (exempted - present).max(0),
            Some(ExclusionSource::Registry),
        );
    }
    let exempted = int(step.inputs, "exempted_members").unwrap_or(0);
    (
        int(step.inputs, typed_away).unwrap_or(0),
        (exempted - present).max(0),
        Some(ExclusionSource::Inputs),
    )
}

/// Every vote of a case, oldest first, from its history (`steps`, in order).
pub fn votes(def: &Definition, rules: &RuleBook, steps: &[RecordedStep<'_>]) -> Vec<VoteRecord> {
    let opening = steps.iter().find(|s| s.accepted).map(|s| s.rule_set);
    let mut out: Vec<VoteRecord> = Vec::new();
    for step in steps {
        let Some(shape) = shape_of(def, step) else {
            continue;
        };
        let votes_for = int(step.inputs, shape.votes_for).unwrap_or(0);
        let eligible = int(step.inputs, shape.members).unwrap_or(0);
        let (excluded_away, excluded_exempted, excluded_from) = excluded(shape, step);
        let excluded = excluded_away + excluded_exempted;
        let denominator = eligible - excluded;
        let round = out.iter().filter(|v| v.rule == shape.rule).count() + 1;
        let rule_set = rule_set_of(def, rules, step, opening);
        let threshold = rule_set
            .as_deref()
            .and_then(|id| rules.get(id))
            .map(|rs| rs.threshold(shape.threshold));
        let mut record = VoteRecord {
            seq: step.seq,
            transition: step.transition.to_owned(),
            rule: shape.rule.to_owned(),
            body: shape.body,
            round: u32::try_from(round).unwrap_or(u32::MAX),
            held_on: step
                .inputs
                .get(shape.held_on)
                .and_then(Value::as_date)
                .unwrap_or(step.on),
            rule_set: rule_set.clone().unwrap_or_default(),
            recorded: step.accepted,
            proposal: shape
                .proposal
                .and_then(|k| step.inputs.get(k))
                .and_then(Value::as_text)
                .map(str::to_owned),
            eligible,
            excluded,
            excluded_away,
            excluded_exempted,
            excluded_from,
            denominator,
            votes_for,
            not_in_favour: denominator - votes_for,
            threshold_param: shape.threshold.to_owned(),
            threshold: None,
            required: None,
            passed: None,
            note_vi: None,
            note_en: None,
        };
        match threshold {
            None => {
                let id = rule_set.unwrap_or_else(|| "?".to_owned());
                record.note_vi = Some(format!(
                    "Không tìm thấy bộ quy tắc {id} để tính kết quả biểu quyết ({}).",
                    shape.rule
                ));
                record.note_en = Some(format!(
                    "Rule set {id} is not loaded: the result cannot be computed ({}).",
                    shape.rule
                ));
            }
            Some(Err(e)) => {
                record.note_vi = Some(format!(
                    "Không đọc được tham số «{}» của bộ quy tắc {} ({}).",
                    shape.threshold, record.rule_set, shape.rule
                ));
                record.note_en = Some(e.to_string());
            }
            Some(Ok(t)) => {
                record.threshold = Some(t);
                if denominator <= 0 || votes_for < 0 || excluded < 0 || votes_for > denominator {
                    record.note_vi = Some(format!(
                        "Số liệu biểu quyết không hợp lệ ({}): {eligible} thành viên, loại trừ {excluded}, {votes_for} phiếu tán thành.",
                        shape.rule
                    ));
                    record.note_en = Some(format!(
                        "Invalid vote figures ({}): {eligible} members, {excluded} excluded, {votes_for} in favour.",
                        shape.rule
                    ));
                } else {
                    let (v, d) = (
                        u64::try_from(votes_for).unwrap_or(0),
                        u64::try_from(denominator).unwrap_or(0),
                    );
                    record.required = Some(i64::try_from(t.required(d)).unwrap_or(i64::MAX));
                    record.passed = Some(t.met(v, d));
                }
            }
        }
        out.push(record);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shapes_name_rules_and_parameters_of_the_same_rule() {
        for s in VOTE_SHAPES {
            assert!(
                s.threshold.starts_with(&format!("{}.", s.rule)),
                "{} reads {}",
                s.rule,
                s.threshold
            );
        }
    }

    fn step<'a>(inputs: &'a Values, facts: Option<&'a Values>) -> RecordedStep<'a> {
        RecordedStep {
            seq: 2,
            transition: "branch_vote",
            on: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            rule_set: "R2025a",
            accepted: true,
            inputs,
            facts,
        }
    }

    fn values(pairs: &[(&str, i64)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::Int(*v)))
            .collect()
    }

    #[test]
    fn the_registry_figures_kept_with_the_step_are_the_excluded_members() {
        let a8 = &VOTE_SHAPES[0];
        let inputs = values(&[
            ("votes_for", 6),
            ("official_members", 10),
            ("exempted_present", 1),
        ]);
        let facts = super::super::context::VoteExclusions::new(
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            vec!["a".into()],
            vec!["b".into(), "c".into()],
        )
        .to_context();
        // One away, two exempted of whom one was present: two left out, from the registry.
        assert_eq!(
            excluded(a8, &step(&inputs, Some(&facts))),
            (1, 1, Some(ExclusionSource::Registry))
        );
        // Without the registry's figures the typed counts stand (none typed: nobody).
        assert_eq!(
            excluded(a8, &step(&inputs, None)),
            (0, 0, Some(ExclusionSource::Inputs))
        );
        let typed = values(&[
            ("votes_for", 6),
            ("official_members", 10),
            ("excluded_members", 2),
            ("exempted_members", 1),
        ]);
        assert_eq!(
            excluded(a8, &step(&typed, None)),
            (2, 1, Some(ExclusionSource::Inputs))
        );
        // A committee's vote leaves nobody out.
        let a9 = VOTE_SHAPES.iter().find(|s| s.rule == "A9").unwrap();
        assert_eq!(excluded(a9, &step(&typed, Some(&facts))), (0, 0, None));
    }
}
