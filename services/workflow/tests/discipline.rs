//! Tests of the discipline procedures: the `discipline_member`, `discipline_organization` and
//! `removal` definitions of `schemas/workflows/` on the engine, with the rule sets of
//! `schemas/rulesets/`.
//!
//! Scenarios are data, run by one `check` helper (a copy of the one in `tests/engine.rs`, cut
//! down to what these machines need), which asserts the engine's invariants on every step. Each
//! test is named after the rule of the rulebook (docs/rules-coverage.md) §2 it checks. A property test checks the
//! D32 cumulation against its definition, another drives the three machines with random events.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use memberflow_workflow::calendar::WorkingCalendar;
use memberflow_workflow::engine::context::{VoteExclusions, subject_discipline};
use memberflow_workflow::engine::guards::{BallotLine, cumulate_from_most_severe};
use memberflow_workflow::engine::{
    Actor, CaseSnapshot, Decision, Definition, Event, InputType, Refusal, RefusalCode, RoleRef,
    RuleBook, Threshold, Value, Values, fire, open,
};
use memberflow_workflow::vocab::RoleLevel;
use proptest::prelude::*;
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Loading

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn rule_book() -> RuleBook {
    edited_rule_book(&[])
}

/// The rule sets of `schemas/rulesets`, with `edits` (`[from, to]`) made in their text first;
/// each `from` must be found.
fn edited_rule_book(edits: &[[String; 2]]) -> RuleBook {
    let dir = repo_root().join("schemas/rulesets");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.display().to_string(), read(&p)))
        .collect();
    files.sort();
    for [from, to] in edits {
        assert!(
            files.iter().any(|(_, t)| t.contains(from.as_str())),
            "no rule set contains {from:?}"
        );
        for (_, t) in &mut files {
            *t = t.replace(from.as_str(), to);
        }
    }
    RuleBook::from_toml_strs(files.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .unwrap_or_else(|ps| panic!("rule sets do not load: {ps:#?}"))
}

const MACHINES: [&str; 3] = ["discipline_member", "discipline_organization", "removal"];

fn definition(name: &str) -> Definition {
    let path = repo_root().join(format!("schemas/workflows/{name}.toml"));
    Definition::from_toml_str(&read(&path)).unwrap_or_else(|ps| {
        panic!(
            "{} does not load:\n{}",
            path.display(),
            ps.iter().map(|p| format!("  {p}\n")).collect::<String>()
        )
    })
}

fn calendar() -> WorkingCalendar {
    WorkingCalendar::weekends_only()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

// ---------------------------------------------------------------------------------------------
// Default inputs along each machine's main path (a scenario overrides what it checks)

/// The main path of each machine, in order: `walk_until` fires these with the defaults below,
/// one day apart.
fn main_path(machine: &str) -> &'static [&'static str] {
    match machine {
        "discipline_member" => &[
            "open",
            "start_inspection",
            "conclude_inspection",
            "record_self_criticism",
            "hold_hearing",
            "vote",
            "impose",
            "notify",
        ],
        "discipline_organization" => &[
            "open",
            "start_inspection",
            "conclude_inspection",
            "record_self_criticism",
            "vote",
            "impose",
            "notify",
        ],
        "removal" => &["open", "branch_proposes", "decide_removal", "notify"],
        other => panic!("no main path for {other}"),
    }
}

const DEFAULTS: &str = r#"
[discipline_member.open]
member_id = "M-1"
full_name = "Nguyễn Văn A"
unit = "CB-1"
subject_kind = "member"
membership = "official"
holds_post = true
detection_source = "supervision"
detected_on = "today"

[discipline_member.start_inspection]
inspecting_body = "branch"
inspecting_level = "branch"
inspection_decision_date = "today"

[discipline_member.conclude_inspection]
inspection_concluded_on = "today"
violation_end_date = 2025-06-01
violation_category = "ordinary"

[discipline_member.record_self_criticism]
self_criticism_date = "today"
proposed_form = "reprimand"

[discipline_member.hold_hearing]
hearing_date = "today"

[discipline_member.vote]
vote_date = "today"
voting_body = "branch"
voting_level = "branch"
secret_ballot = true
discipline_form = "warning"
votes_warning = 6
votes_reprimand = 3
official_members = 10

[discipline_member.vote_no_discipline]
vote_date = "today"
voting_body = "branch"
voting_level = "branch"
secret_ballot = true
official_members = 10

# D34: the walk's branch announces the vote's result to the member the day after its meeting,
# and its decision is dated that day (without `announced_on` it is dated the vote's day).
[discipline_member.impose]
decision_date = "today"
announced_on = "today"
decision_number = "01-QĐ/CB"

[discipline_member.propose_to_competent]
proposed_on = "today"

[discipline_member.notify]
decision_received_date = "today"

[discipline_member.notify_expulsion]
decision_received_date = "today"

[discipline_member.file_appeal]
appeal_filed_date = "today"
appeal_body = "inspection_commission"
appeal_level = "grassroots"
appeal_grounds = "Hình thức kỷ luật quá nặng"

[discipline_member.file_appeal_disputed]
appeal_filed_date = "today"
appeal_body = "inspection_commission"
appeal_level = "grassroots"
appeal_grounds = "Hình thức kỷ luật quá nặng"

[discipline_member.rule_on_appeal]
appeal_outcome = "upheld"
discipline_form = "warning"
ruling_body = "inspection_commission"
ruling_level = "grassroots"
appeal_ruling_date = "today"
decision_received_date = "today"

[discipline_organization.open]
organisation_id = "DB-1"
organisation_name = "Đảng bộ cơ sở X"
subject_kind = "organisation"
subject_level = "grassroots"
detection_source = "supervision"
detected_on = "today"

[discipline_organization.start_inspection]
inspecting_body = "inspection_commission"
inspecting_level = "superior"
inspection_decision_date = "today"

[discipline_organization.conclude_inspection]
inspection_concluded_on = "today"
violation_end_date = 2025-06-01
violation_category = "ordinary"

[discipline_organization.record_self_criticism]
self_criticism_date = "today"
proposed_form = "reprimand"

[discipline_organization.vote]
vote_date = "today"
voting_body = "standing_committee"
voting_level = "superior"
secret_ballot = true
discipline_form = "warning"
votes_warning = 5
votes_reprimand = 3
official_members = 9

[discipline_organization.impose]
decision_date = "today"
decision_number = "12-QĐ/ĐU"

[discipline_organization.notify]
decision_received_date = "today"

[discipline_organization.notify_dissolution]
decision_received_date = "today"

[removal.open]
member_id = "M-2"
full_name = "Trần Thị B"
unit = "CB-1"
membership = "official"
removal_ground = "skipped_meetings"
months_missed = 3
good_reason = false
identified_on = "today"

[removal.branch_proposes]
branch_vote_date = "today"
votes_for = 6
official_members = 10

[removal.decide_removal]
voting_body = "standing_committee"
voting_level = "superior"
decision_date = "today"
decision_number = "05-QĐ/ĐU"

[removal.notify]
decision_received_date = "today"

[removal.file_appeal]
appeal_filed_date = "today"
appeal_body = "standing_committee"
appeal_level = "province"
appeal_grounds = "Có lý do chính đáng"
"#;

fn defaults(machine: &str) -> BTreeMap<String, toml::Table> {
    let all: BTreeMap<String, BTreeMap<String, toml::Table>> = toml::from_str(DEFAULTS).unwrap();
    all.get(machine).cloned().unwrap_or_default()
}

fn to_value(v: &toml::Value, today: NaiveDate) -> Value {
    match v {
        toml::Value::String(s) if s == "today" => Value::Date(today),
        toml::Value::String(s) => Value::Text(s.clone()),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(dt) => Value::Date(d(&dt.to_string())),
        toml::Value::Array(items) => {
            Value::List(items.iter().map(|i| to_value(i, today)).collect())
        }
        toml::Value::Table(t) => Value::Map(
            t.iter()
                .map(|(k, v)| (k.clone(), to_value(v, today)))
                .collect(),
        ),
        toml::Value::Float(f) => Value::Text(f.to_string()),
    }
}

fn inputs_from(table: &toml::Table, today: NaiveDate) -> Values {
    table
        .iter()
        .map(|(k, v)| (k.clone(), to_value(v, today)))
        .collect()
}

fn parse_role(s: &str) -> RoleRef {
    match s.split_once('@') {
        Some((role, level)) => RoleRef::at(role, RoleLevel::parse(level).unwrap()),
        None => RoleRef::anywhere(s),
    }
}

/// An actor holding every role the transition allows.
fn actor_for(def: &Definition, transition: &str) -> Actor {
    let roles = def
        .transition(transition)
        .map(|t| t.by.clone())
        .unwrap_or_default();
    Actor::new("tester", roles)
}

// ---------------------------------------------------------------------------------------------
// The `check` helper (as in tests/engine.rs)

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    definition: String,
    start: toml::value::Datetime,
    walk_until: Option<String>,
    #[serde(default)]
    walk_inputs: BTreeMap<String, toml::Table>,
    /// Text replacements made in the rule-set files before they load (`[from, to]`): a
    /// parameter flipped to see the decision change.
    #[serde(default)]
    rule_edits: Vec<[String; 2]>,
    #[serde(default)]
    step: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    fire: String,
    on: Option<toml::value::Datetime>,
    #[serde(rename = "as")]
    roles: Option<Vec<String>>,
    #[serde(default)]
    inputs: toml::Table,
    #[serde(default = "yes")]
    defaults: bool,
    #[serde(default)]
    remove: Vec<String>,
    expect_state: Option<String>,
    expect_refused: Option<Vec<String>>,
    #[serde(default)]
    expect_vi: Vec<String>,
    #[serde(default)]
    expect_en: Vec<String>,
    #[serde(default)]
    expect_deadline: BTreeMap<String, toml::value::Datetime>,
    #[serde(default)]
    expect_no_deadline: Vec<String>,
    #[serde(default)]
    expect_effect: Vec<String>,
    #[serde(default)]
    expect_no_effect: Vec<String>,
    expect_rule_set: Option<String>,
    #[serde(default)]
    expect_fact: toml::Table,
    /// The members of the case's unit the registry has living their party life temporarily
    /// elsewhere on the step's day (with `exempted`: the vote's exclusions, as the shell reads
    /// them; either alone leaves the other empty).
    away: Option<Vec<String>>,
    /// The exempted official members of the case's unit on the step's day (S15).
    exempted: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

fn reason_keys(refusal: &Refusal) -> BTreeSet<String> {
    refusal
        .reasons
        .iter()
        .map(|r| match (&r.rule, &r.field) {
            (Some(rule), _) => format!("{}:{rule}", r.code),
            (None, Some(field)) => format!("{}:{field}", r.code),
            (None, None) => r.code.to_string(),
        })
        .collect()
}

fn describe(refusal: &Refusal) -> String {
    refusal
        .reasons
        .iter()
        .map(|r| format!("  {r}\n    vi: {}\n", r.reason_vi))
        .collect()
}

/// Fires `event` and asserts the invariants every step must keep.
fn step_once(
    def: &Definition,
    book: &RuleBook,
    case: Option<&CaseSnapshot>,
    event: &Event,
    day: NaiveDate,
) -> Result<Decision, Refusal> {
    let cal = calendar();
    let before = case.cloned();
    let result = match case {
        None => open(def, book, &cal, event, day),
        Some(case) => fire(def, book, &cal, case, event, day),
    };
    assert_eq!(case.cloned(), before, "fire changed its input case");
    match &result {
        Ok(decision) => {
            let next = &decision.case;
            assert!(def.state(&next.state).is_some(), "undeclared state");
            assert_eq!(next.version, case.map_or(0, |c| c.version) + 1);
            let last = next.last_step.as_ref().unwrap();
            assert_eq!(
                Some(last.rule_set.as_str()),
                book.for_date(day).map(|s| s.id.as_str())
            );
            for key in next.deadlines.keys() {
                let state = def.state(&next.state).unwrap();
                assert!(
                    state.deadlines.iter().any(|dl| &dl.key == key),
                    "deadline {key} runs in {}",
                    next.state
                );
            }
        }
        Err(refusal) => {
            assert!(!refusal.reasons.is_empty(), "a refusal without reasons");
            for r in &refusal.reasons {
                assert!(
                    !r.reason_vi.trim().is_empty() && !r.reason_en.trim().is_empty(),
                    "reason without words: {r:?}"
                );
                if r.code == RefusalCode::GuardFailed {
                    let rule = r.rule.as_deref().unwrap_or_default();
                    assert!(
                        !rule.is_empty(),
                        "a failing guard must name its rule: {r:?}"
                    );
                    assert!(
                        r.reason_vi.contains(rule),
                        "the Vietnamese reason must name {rule}: {}",
                        r.reason_vi
                    );
                    assert!(
                        r.reason_en.contains(rule),
                        "the English reason must name {rule}: {}",
                        r.reason_en
                    );
                }
            }
        }
    }
    result
}

/// Runs a scenario written in TOML and checks every expectation, returning the final case.
fn check(scenario: &str) -> Option<CaseSnapshot> {
    let sc: Scenario = toml::from_str(scenario).unwrap_or_else(|e| panic!("bad scenario: {e}"));
    let def = definition(&sc.definition);
    let book = edited_rule_book(&sc.rule_edits);
    let defaults = defaults(&sc.definition);
    let mut day = d(&sc.start.to_string());
    let mut case: Option<CaseSnapshot> = None;

    if let Some(until) = &sc.walk_until {
        let path = main_path(&sc.definition);
        assert!(
            path.contains(&until.as_str()),
            "walk_until must be on the main path"
        );
        for (i, t) in path.iter().enumerate() {
            if i > 0 {
                day = day + Days::new(1);
            }
            let mut inputs = defaults
                .get(*t)
                .map(|tb| inputs_from(tb, day))
                .unwrap_or_default();
            if let Some(over) = sc.walk_inputs.get(*t) {
                inputs.extend(inputs_from(over, day));
            }
            let event = Event {
                transition: (*t).to_owned(),
                actor: actor_for(&def, t),
                inputs,
                context: subject_discipline(&[]),
            };
            match step_once(&def, &book, case.as_ref(), &event, day) {
                Ok(decision) => case = Some(decision.case),
                Err(r) => panic!("walking `{t}` on {day} was refused:\n{}", describe(&r)),
            }
            if *t == until.as_str() {
                break;
            }
        }
    }

    for (i, step) in sc.step.iter().enumerate() {
        day = match &step.on {
            Some(on) => d(&on.to_string()),
            None if i == 0 && case.is_none() => day,
            None => day + Days::new(1),
        };
        let mut inputs = if step.defaults {
            defaults
                .get(&step.fire)
                .map(|tb| inputs_from(tb, day))
                .unwrap_or_default()
        } else {
            Values::new()
        };
        inputs.extend(inputs_from(&step.inputs, day));
        for k in &step.remove {
            inputs.remove(k);
        }
        let actor = match &step.roles {
            Some(roles) => Actor::new("tester", roles.iter().map(|r| parse_role(r)).collect()),
            None => actor_for(&def, &step.fire),
        };
        let mut context = subject_discipline(&[]);
        if step.away.is_some() || step.exempted.is_some() {
            context.extend(
                VoteExclusions::new(
                    day,
                    step.away.clone().unwrap_or_default(),
                    step.exempted.clone().unwrap_or_default(),
                )
                .to_context(),
            );
        }
        let event = Event {
            transition: step.fire.clone(),
            actor,
            inputs,
            context,
        };
        let result = step_once(&def, &book, case.as_ref(), &event, day);
        let label = format!("step `{}` on {day}", step.fire);
        match (&step.expect_refused, result) {
            (None, Err(r)) => panic!("{label} was refused:\n{}", describe(&r)),
            (Some(want), Ok(decision)) => {
                panic!(
                    "{label} was accepted (to {}), expected refusal {want:?}",
                    decision.to
                )
            }
            (Some(want), Err(refusal)) => {
                let got = reason_keys(&refusal);
                let want: BTreeSet<String> = want.iter().cloned().collect();
                assert_eq!(got, want, "{label}: reasons differ\n{}", describe(&refusal));
                for text in &step.expect_vi {
                    assert!(
                        refusal
                            .reasons
                            .iter()
                            .any(|r| r.reason_vi.contains(text.as_str())),
                        "{label}: no Vietnamese reason contains {text:?}\n{}",
                        describe(&refusal)
                    );
                }
                for text in &step.expect_en {
                    assert!(
                        refusal
                            .reasons
                            .iter()
                            .any(|r| r.reason_en.contains(text.as_str())),
                        "{label}: no English reason contains {text:?}\n{}",
                        describe(&refusal)
                    );
                }
            }
            (None, Ok(decision)) => {
                if let Some(state) = &step.expect_state {
                    assert_eq!(&decision.to, state, "{label}: wrong state");
                }
                if let Some(rs) = &step.expect_rule_set {
                    assert_eq!(&decision.rule_set, rs, "{label}: wrong rule set");
                }
                for (key, due) in &step.expect_deadline {
                    let rec = decision.case.deadlines.get(key).unwrap_or_else(|| {
                        panic!(
                            "{label}: no deadline {key}; running: {:?}",
                            decision.case.deadlines.keys()
                        )
                    });
                    assert_eq!(rec.due, d(&due.to_string()), "{label}: deadline {key}");
                }
                for key in &step.expect_no_deadline {
                    assert!(
                        !decision.case.deadlines.contains_key(key),
                        "{label}: deadline {key} still runs"
                    );
                }
                let effects: Vec<String> =
                    decision.effects.iter().map(|e| format!("{e:?}")).collect();
                for want in &step.expect_effect {
                    assert!(
                        effects.iter().any(|e| e.contains(want.as_str())),
                        "{label}: no effect contains {want:?}; effects:\n{effects:#?}"
                    );
                }
                for unwanted in &step.expect_no_effect {
                    assert!(
                        !effects.iter().any(|e| e.contains(unwanted.as_str())),
                        "{label}: an effect contains {unwanted:?}; effects:\n{effects:#?}"
                    );
                }
                for (key, value) in &step.expect_fact {
                    assert_eq!(
                        decision.case.facts.get(key),
                        Some(&to_value(value, day)),
                        "{label}: fact {key}"
                    );
                }
                case = Some(decision.case);
            }
        }
    }
    case
}

// ---------------------------------------------------------------------------------------------
// The definitions

#[test]
fn all_three_definitions_validate_and_every_state_reaches_a_terminal_one() {
    let book = rule_book();
    for m in MACHINES {
        let def = definition(m);
        assert_eq!(def.id, m, "the id is the file name");
        // Only the deliberately unset P5 time limit may warn (the timed appeal review reads it).
        for p in def.check(&memberflow_workflow::engine::CheckOptions::new().rules(&book)) {
            assert!(p.message.contains("P5."), "{m}: unexpected problem {p}");
        }
        assert!(def.states_without_exit_path().is_empty(), "{m}");
        // An independent search: from every non-terminal state some terminal state is reached.
        for state in def.states.iter().filter(|s| !s.terminal) {
            let mut seen = BTreeSet::new();
            let mut stack = vec![state.name.clone()];
            let mut found = false;
            while let Some(s) = stack.pop() {
                if def.state(&s).is_some_and(|st| st.terminal) {
                    found = true;
                    break;
                }
                if seen.insert(s.clone()) {
                    stack.extend(def.transitions_from(&s).filter_map(|t| t.to.clone()));
                }
            }
            assert!(
                found,
                "{m}: no terminal state reachable from {}",
                state.name
            );
        }
    }
}

#[test]
fn the_member_machine_declares_the_discipline_states_in_order() {
    let def = definition("discipline_member");
    for s in [
        "Detected",
        "Inspection",
        "SelfCriticism",
        "Hearing",
        "Deferred",
        "DeferredNursing",
        "Vote",
        "LimitationCheck",
        "Decided",
        "AppealWindow",
        "Appealed",
        "InForce",
        "Lapsed",
        "Expelled",
        "TimeBarred",
    ] {
        assert!(def.state(s).is_some(), "missing state {s}");
    }
    // D4: striking off is not a form of discipline: no transition of the discipline machines
    // strikes a name off; the removal machine does.
    for m in ["discipline_member", "discipline_organization"] {
        let def = definition(m);
        for t in &def.transitions {
            assert!(
                !t.effects
                    .iter()
                    .any(|e| format!("{e:?}").contains("StrikeOff")
                        || format!("{e:?}").contains("StruckOff")),
                "{m}: {} strikes a name off",
                t.name
            );
        }
    }
    let removal = definition("removal");
    assert!(removal.transitions.iter().any(|t| {
        t.effects
            .iter()
            .any(|e| format!("{e:?}").contains("StruckOff"))
    }));
}

// ---------------------------------------------------------------------------------------------
// The member machine, end to end

#[test]
fn d34_c1_member_path_from_detection_to_lapse() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

# notify on 08/08: the appeal window runs 30 working days from receipt (the lenient reading,
# P1), the lapse date is 12 months after the decision of 07/08/2025 (C1).
[[step]]
fire = "close_appeal_window"
on = 2025-09-19
as = ["system"]
expect_state = "InForce"
expect_deadline = { lapse = 2026-08-07 }
expect_fact = { lapse_date = 2026-08-07 }

[[step]]
fire = "lapse"
on = 2026-08-07
as = ["system"]
expect_state = "Lapsed"
expect_effect = ["discipline.lapsed"]
"#,
    );
}

#[test]
fn p1_appeal_window_runs_from_the_receipt_of_the_written_decision() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "impose"

[[step]]
fire = "notify"
on = 2025-08-08
expect_state = "AppealWindow"
expect_deadline = { appeal_window = 2025-09-19 }
expect_fact = { lapse_date = 2026-08-07, decision_received_date = 2025-08-08 }
expect_effect = ["discipline.notified"]
"#,
    );
}

// D1–D3 ---------------------------------------------------------------------------------------

#[test]
fn d3_probationary_member_can_only_be_reprimanded_or_warned() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"
walk_inputs = { open = { membership = "probationary" } }

[[step]]
fire = "vote"
inputs = { discipline_form = "expulsion", votes_expulsion = 8, votes_warning = 0, votes_reprimand = 0 }
expect_refused = ["GUARD_FAILED:D3"]
expect_vi = ["Hình thức khai trừ không áp dụng cho đảng viên dự bị (D3)", "khiển trách, cảnh cáo"]
expect_en = ["probationary member (D3)"]

[[step]]
fire = "vote"
expect_state = "LimitationCheck"
"#,
    );
}

#[test]
fn d2_removal_from_post_only_for_a_member_who_holds_one() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"
walk_inputs = { open = { holds_post = false } }

[[step]]
fire = "vote"
inputs = { discipline_form = "removal", votes_removal = 6, votes_warning = 0, votes_reprimand = 0 }
expect_refused = ["GUARD_FAILED:D2"]
expect_vi = ["Cách chức chỉ áp dụng với đảng viên có chức vụ"]
"#,
    );
}

// D23–D25 -------------------------------------------------------------------------------------

#[test]
fn d25_anonymous_denunciation_only_prompts_an_inspection() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { detection_source = "denunciation", denunciation_signed = false, denunciation_specific = true }
expect_refused = ["GUARD_FAILED:D25"]
expect_vi = ["có ký tên", "có căn cứ, chứng cứ", "chỉ dùng làm căn cứ để quyết định kiểm tra"]

[[step]]
fire = "open"
on = 2025-08-01
inputs = { detection_source = "denunciation", denunciation_signed = true, denunciation_specific = true, denunciation_evidence = true }
expect_state = "Detected"
"#,
    );
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { detection_source = "inspection" }
expect_state = "Detected"
"#,
    );
}

#[test]
fn d24_state_notice_is_recorded_with_its_five_day_due_date() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-11

[[step]]
fire = "open"
inputs = { detection_source = "state_notice" }
expect_state = "Detected"

[[step]]
fire = "start_inspection"
expect_refused = ["GUARD_FAILED:D24"]
expect_vi = ["chậm nhất 5 ngày"]

# The notice came 9 days after the suspension: recorded, not refused (the duty is the state
# body's), with the day it was due.
[[step]]
fire = "record_state_notice"
inputs = { state_body = "UBND xã A", state_action = "suspended", state_action_date = 2025-08-01, notice_received_date = 2025-08-10 }
expect_state = "Detected"
expect_fact = { state_notice_due = 2025-08-06 }

[[step]]
fire = "start_inspection"
expect_state = "Inspection"
"#,
    );
}

#[test]
fn d24_notice_cannot_precede_the_state_action() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-11

[[step]]
fire = "open"
inputs = { detection_source = "state_notice" }

[[step]]
fire = "record_state_notice"
inputs = { state_body = "Sở Y tế", state_action = "disciplined", state_action_date = 2025-08-05, notice_received_date = 2025-08-01 }
expect_refused = ["GUARD_FAILED:D24"]
"#,
    );
}

// D21, D22 ------------------------------------------------------------------------------------

#[test]
fn d21_advisory_departments_may_not_inspect() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "open"

[[step]]
fire = "start_inspection"
inputs = { inspecting_body = "advisory_department", inspecting_level = "province" }
expect_refused = ["GUARD_FAILED:D21"]
expect_vi = ["cơ quan tham mưu, giúp việc"]

[[step]]
fire = "start_inspection"
inputs = { inspecting_body = "inspection_commission", inspecting_level = "superior" }
expect_state = "Inspection"
"#,
    );
}

#[test]
fn d22_an_inspection_commission_exists_only_from_the_grassroots_committee_up() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "open"
walk_inputs = { open = { grassroots_is_branch = true } }

[[step]]
fire = "start_inspection"
inputs = { inspecting_body = "inspection_commission", inspecting_level = "branch" }
expect_refused = ["GUARD_FAILED:D22"]
expect_vi = ["ủy ban kiểm tra chỉ có từ đảng ủy cơ sở trở lên"]

# A grassroots organisation that is a branch (chi bộ cơ sở) has no inspection commission.
[[step]]
fire = "start_inspection"
inputs = { inspecting_body = "inspection_commission", inspecting_level = "grassroots" }
expect_refused = ["GUARD_FAILED:D22"]

[[step]]
fire = "start_inspection"
inputs = { inspecting_body = "inspection_commission", inspecting_level = "superior" }
expect_state = "Inspection"
"#,
    );
}

// D26–D28 -------------------------------------------------------------------------------------

#[test]
fn d26_self_criticism_records_the_form_the_member_proposes() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "conclude_inspection"

[[step]]
fire = "record_self_criticism"
remove = ["proposed_form"]
expect_refused = ["GUARD_FAILED:D26"]

[[step]]
fire = "record_self_criticism"
inputs = { proposed_form = "warning" }
expect_state = "Hearing"
expect_fact = { proposed_form = "warning" }
"#,
    );
}

#[test]
fn d27_proceeding_without_the_member_needs_repeated_invitations() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "conclude_inspection"

[[step]]
fire = "invite_self_criticism"
inputs = { invited_on = "today" }
expect_fact = { self_criticism_invitations = 1 }

[[step]]
fire = "proceed_without_self_criticism"
inputs = { proceeded_on = "today", absent_without_good_reason = true }
expect_refused = ["GUARD_FAILED:D27"]
expect_vi = ["ít nhất 2 lần", "mới mời 1 lần"]

[[step]]
fire = "invite_self_criticism"
inputs = { invited_on = "today" }

# Absent with good reason: invite again.
[[step]]
fire = "proceed_without_self_criticism"
inputs = { proceeded_on = "today", absent_without_good_reason = false }
expect_refused = ["GUARD_FAILED:D27"]
expect_vi = ["có lý do chính đáng"]

[[step]]
fire = "proceed_without_self_criticism"
inputs = { proceeded_on = "today", absent_without_good_reason = true }
expect_state = "Hearing"

# The hearing counts its own invitations (D28 with D27).
[[step]]
fire = "proceed_without_hearing"
inputs = { proceeded_on = "today", absent_without_good_reason = true }
expect_refused = ["GUARD_FAILED:D27"]
expect_vi = ["mới mời 0 lần"]

[[step]]
fire = "invite_to_hearing"
inputs = { invited_on = "today" }

[[step]]
fire = "invite_to_hearing"
inputs = { invited_on = "today" }

[[step]]
fire = "proceed_without_hearing"
inputs = { proceeded_on = "today", absent_without_good_reason = true }
expect_state = "Vote"
"#,
    );
}

#[test]
fn d28_the_vote_waits_for_the_hearing() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "record_self_criticism"

[[step]]
fire = "vote"
expect_refused = ["WRONG_STATE"]
expect_vi = ["Gặp, nghe đảng viên trình bày ý kiến"]

[[step]]
fire = "hold_hearing"
expect_state = "Vote"

[[step]]
fire = "vote"
expect_state = "LimitationCheck"
"#,
    );
}

// D29 -----------------------------------------------------------------------------------------

#[test]
fn d29_deferral_until_the_child_is_12_months() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "defer_nursing"
on = 2025-09-01
inputs = { deferral_ground = "nursing_infant", deferred_on = "today", child_birth_date = 2025-03-10 }
expect_state = "DeferredNursing"
expect_fact = { infant_12_months = 2026-03-10 }
expect_deadline = { deferral_end = 2026-03-10 }
expect_effect = ["deferral_ending"]

[[step]]
fire = "vote"
on = 2025-10-01
expect_refused = ["WRONG_STATE"]

[[step]]
fire = "resume"
on = 2026-03-09
expect_refused = ["GUARD_FAILED:D29"]
expect_vi = ["chưa đủ 12 tháng tuổi", "10/03/2026"]

# The scheduler resumes on the day the child reaches 12 months.
[[step]]
fire = "resume"
on = 2026-03-10
as = ["system"]
expect_state = "Vote"
expect_no_deadline = ["deferral_end"]

[[step]]
fire = "vote"
on = 2026-03-20
expect_state = "LimitationCheck"
"#,
    );
}

#[test]
fn d29_a_child_already_12_months_old_is_no_ground() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "defer_nursing"
on = 2025-09-01
inputs = { deferral_ground = "nursing_infant", deferred_on = "today", child_birth_date = 2024-09-01 }
expect_refused = ["GUARD_FAILED:D29"]
expect_vi = ["đã đủ 12 tháng tuổi từ ngày 01/09/2025"]
"#,
    );
}

#[test]
fn d29_pregnancy_deferral_continues_as_nursing_after_the_birth() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "defer"
on = 2025-08-10
inputs = { deferral_ground = "pregnant", deferred_on = "today" }
expect_state = "Deferred"
expect_effect = ["deferral_review"]

[[step]]
fire = "resume"
on = 2025-11-10
expect_refused = ["GUARD_FAILED:D29"]
expect_vi = ["đang mang thai", "nuôi con dưới 12 tháng tuổi"]

[[step]]
fire = "defer_nursing"
on = 2025-12-01
inputs = { deferral_ground = "nursing_infant", deferred_on = "today", child_birth_date = 2025-11-20 }
expect_state = "DeferredNursing"
expect_deadline = { deferral_end = 2026-11-20 }
"#,
    );
}

#[test]
fn d29_hospital_deferral_resumes_after_discharge() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "defer"
on = 2025-08-10
inputs = { deferral_ground = "hospitalised", deferred_on = "today" }
expect_state = "Deferred"

[[step]]
fire = "resume"
on = 2025-09-01
inputs = { ground_ended_on = 2025-09-05 }
expect_refused = ["GUARD_FAILED:D29"]

[[step]]
fire = "resume"
on = 2025-09-08
inputs = { ground_ended_on = 2025-09-05, resumed_on = "today" }
expect_state = "Vote"
"#,
    );
}

// D30–D33 -------------------------------------------------------------------------------------

#[test]
fn d30_an_open_vote_is_refused() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
inputs = { secret_ballot = false }
expect_refused = ["GUARD_FAILED:D30"]
expect_vi = ["phải bằng phiếu kín"]
"#,
    );
}

#[test]
fn d31_expulsion_needs_two_thirds() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# 6 of 10 for expulsion is less than 2/3; cumulated with the next form down (removal) it is
# more than half, so the ballot gives removal, not expulsion (D31, D32).
[[step]]
fire = "vote"
inputs = { discipline_form = "expulsion", votes_expulsion = 6, votes_warning = 2, votes_reprimand = 2 }
expect_refused = ["GUARD_FAILED:D32"]
expect_vi = ["Kết quả phiếu kín là cách chức, không phải khai trừ", "khai trừ 6 phiếu", "cách chức 0 phiếu (cộng dồn 6)"]

[[step]]
fire = "vote"
inputs = { discipline_form = "expulsion", votes_expulsion = 7, votes_warning = 2, votes_reprimand = 1 }
expect_state = "LimitationCheck"
"#,
    );
}

#[test]
fn d32_votes_cumulate_from_the_most_severe_form() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# 10 official members: expulsion 2, removal 2, warning 2, reprimand 3, no discipline 1. No
# form has more than half; from the top: 2, 4, 6 > 5 at warning.
[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_expulsion = 2, votes_removal = 2, votes_warning = 2, votes_reprimand = 3, votes_no_discipline = 1 }
expect_refused = ["GUARD_FAILED:D32"]
expect_vi = ["Kết quả phiếu kín là cảnh cáo, không phải khiển trách", "cảnh cáo 2 phiếu (cộng dồn 6)", "cần ít nhất 6"]
expect_en = ["gives warning, not reprimand"]

[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_expulsion = 2, votes_removal = 2, votes_warning = 2, votes_reprimand = 3, votes_no_discipline = 1 }
expect_state = "LimitationCheck"
expect_fact = { discipline_form = "warning" }
"#,
    );
}

#[test]
fn d32_no_majority_even_cumulated_means_no_discipline() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# Warning 2 and reprimand 3 make 5 of 10: not more than half.
[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_warning = 2, votes_reprimand = 3, votes_no_discipline = 5 }
expect_refused = ["GUARD_FAILED:D31"]
expect_vi = ["Không hình thức kỷ luật nào đạt số phiếu cần thiết"]

[[step]]
fire = "vote_no_discipline"
inputs = { votes_warning = 4, votes_reprimand = 3, votes_no_discipline = 3 }
expect_refused = ["GUARD_FAILED:D32"]
expect_vi = ["hình thức khiển trách"]

[[step]]
fire = "vote_no_discipline"
inputs = { votes_warning = 2, votes_reprimand = 3, votes_no_discipline = 5 }
expect_state = "NotDisciplined"
"#,
    );
}

#[test]
fn d33_denominator_leaves_out_members_elsewhere_and_exempted_absent_members() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# 5 of 10 is not more than half...
[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_warning = 5, votes_reprimand = 0, votes_no_discipline = 3 }
expect_refused = ["GUARD_FAILED:D31"]
expect_vi = ["trên 10 phiếu tính"]

# ...but 5 of 8 is, when 2 members live their party life elsewhere or are exempted and absent.
[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_warning = 5, votes_reprimand = 0, votes_no_discipline = 3, excluded_members = 2 }
expect_state = "LimitationCheck"

[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_warning = 9, votes_reprimand = 2 }
expect_refused = ["WRONG_STATE", "GUARD_FAILED:D33"]
"#,
    );
}

#[test]
fn d33_the_branch_ballot_leaves_out_the_members_away_on_the_registry() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# 5 of 10 is not more than half, with nobody away on the vote's date...
[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_warning = 5, votes_reprimand = 0, votes_no_discipline = 3 }
away = []
exempted = []
expect_refused = ["GUARD_FAILED:D31"]

# ...a typed count of members away that the registry does not bear out is refused...
[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_warning = 5, votes_reprimand = 0, votes_no_discipline = 3, excluded_members = 2 }
away = ["a1"]
expect_refused = ["TEMPORARY_ACTIVITY_COUNT_MISMATCH:D33"]

# ...and 5 of 9 is, when the registry has one member away that day.
[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_warning = 5, votes_reprimand = 0, votes_no_discipline = 3 }
away = ["a1"]
expect_state = "LimitationCheck"
"#,
    );
}

/// A `rule_edits` entry flipping the R2016 flag `id` of rule `rule` (tagged M) to false: the
/// later rule sets inherit it.
fn flag_off(id: &str, rule: &str) -> String {
    let on =
        format!("id = \"{id}\"\nrule = \"{rule}\"\ntag = \"M\"\nkind = \"flag\"\nvalue = true");
    let off = on.replace("value = true", "value = false");
    format!("rule_edits = [[{:?}, {:?}]]", on, off)
}

#[test]
fn d26_the_self_criticism_records_the_form_proposed_while_the_rule_set_requires_it() {
    let scenario = |edits: &str, expect: &str| {
        format!(
            r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "conclude_inspection"
{edits}

[[step]]
fire = "record_self_criticism"
remove = ["proposed_form"]
{expect}
"#
        )
    };
    check(&scenario(
        "",
        "expect_refused = [\"GUARD_FAILED:D26\"]\nexpect_vi = [\"hình thức kỷ luật tự nhận\"]",
    ));
    check(&scenario(
        &flag_off("D26.member_proposes_form", "D26"),
        "expect_state = \"Hearing\"",
    ));
}

#[test]
fn d28_without_a_hearing_only_after_repeated_invitations_unless_the_rule_set_drops_it() {
    let scenario = |edits: &str, expect: &str| {
        format!(
            r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "record_self_criticism"
{edits}

[[step]]
fire = "proceed_without_hearing"
inputs = {{ proceeded_on = "today", absent_without_good_reason = true }}
{expect}
"#
        )
    };
    check(&scenario("", "expect_refused = [\"GUARD_FAILED:D27\"]"));
    check(&scenario(
        &flag_off("D28.hearing_required", "D28"),
        "expect_state = \"Vote\"",
    ));
}

#[test]
fn d35_a_branch_decision_needs_no_approval_unless_the_rule_set_says_it_does() {
    let scenario = |edits: &str| {
        format!(
            r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "vote"
{edits}

[[step]]
fire = "impose"
{{expect}}
"#
        )
    };
    check(&scenario("").replace("{expect}", "expect_state = \"Decided\""));
    let off = scenario(&flag_off("D35.no_approval_needed", "D35"));
    check(&off.replace(
        "{expect}",
        "expect_refused = [\"GUARD_FAILED:D35\"]\nexpect_vi = [\"chuẩn y\"]",
    ));
    check(&off.replace(
        "{expect}",
        "inputs = { superior_approval = \"05-QĐ/ĐU ngày 02/08/2025\" }\nexpect_state = \"Decided\"",
    ));
}

#[test]
fn d34_a_branch_warning_is_dated_the_day_the_vote_is_announced_while_the_rule_set_says_so() {
    // The branch votes a warning on 6/8/2025; the written decision is drafted the day after.
    let scenario = |edits: &str, inputs: &str, expect: &str| {
        format!(
            r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "vote"
{edits}

[[step]]
fire = "impose"
on = 2025-08-07
inputs = {{ {inputs} }}
remove = ["announced_on"]
{expect}
"#
        )
    };
    let announced = |edits: &str, inputs: &str, expect: &str| {
        scenario(edits, inputs, expect).replace("remove = [\"announced_on\"]\n", "")
    };
    // Without the day of the announcement the result was announced at the meeting: the
    // decision dated the day after the vote is refused, dated the vote's day it is in force.
    check(&scenario(
        "",
        "",
        "expect_refused = [\"GUARD_FAILED:D34\"]\nexpect_vi = [\"ngày họp 06/08/2025, không phải 07/08/2025\"]\nexpect_en = [\"dated the day of the vote, 06/08/2025\"]",
    ));
    check(&scenario(
        "",
        "decision_date = 2025-08-06",
        "expect_state = \"Decided\"\nexpect_fact = { decision_date = 2025-08-06 }",
    ));
    // Announced on 6/8: the decision dated 7/8 is refused, dated 6/8 it is in force from then.
    check(&announced(
        "",
        "announced_on = 2025-08-06",
        "expect_refused = [\"GUARD_FAILED:D34\"]\nexpect_vi = [\"ngày công bố 06/08/2025, không phải 07/08/2025\"]",
    ));
    check(&announced(
        "",
        "announced_on = 2025-08-06, decision_date = 2025-08-06",
        "expect_state = \"Decided\"",
    ));
    // Announced on a later day than the vote: the decision is dated that day.
    check(&announced(
        "",
        "announced_on = 2025-08-07",
        "expect_state = \"Decided\"\nexpect_fact = { decision_date = 2025-08-07 }",
    ));
    // An announcement before the vote is refused whatever the rule set.
    let off = flag_off("D34.effective_on_announcement", "D34");
    check(&announced(
        &off,
        "announced_on = 2025-08-05, decision_date = 2025-08-05",
        "expect_refused = [\"GUARD_FAILED:D34\"]\nexpect_vi = [\"không thể trước ngày họp biểu quyết\"]",
    ));
    // The flag flipped: the written decision takes effect from its own date, announced or not.
    check(&announced(
        &off,
        "announced_on = 2025-08-06",
        "expect_state = \"Decided\"\nexpect_fact = { decision_date = 2025-08-07 }",
    ));
    check(&scenario(
        &off,
        "",
        "expect_state = \"Decided\"\nexpect_fact = { decision_date = 2025-08-07 }",
    ));
    // The competent body's decision (not a branch's) is dated as it is written.
    check(&scenario(
        "",
        "",
        "expect_state = \"Decided\"",
    ).replace(
        "walk_until = \"vote\"",
        "walk_until = \"vote\"\n\n[walk_inputs.vote]\nvoting_body = \"standing_committee\"\nvoting_level = \"superior\"\nofficial_members = 9\nvotes_warning = 6\nvotes_reprimand = 2",
    ));
}

#[test]
fn d38_an_appeal_before_the_written_decision_is_inadmissible_while_the_rule_set_requires_it() {
    let scenario = |edits: &str, expect: &str| {
        format!(
            r#"
definition = "discipline_member"
start = 2025-07-28
walk_until = "impose"
{edits}

[[step]]
fire = "notify"
on = 2025-08-04
inputs = {{ decision_received_date = 2025-08-06 }}

[[step]]
fire = "file_appeal"
on = 2025-08-05
{expect}
"#
        )
    };
    check(&scenario(
        "",
        "expect_refused = [\"GUARD_FAILED:P4\"]\nexpect_vi = [\"trước khi nhận quyết định kỷ luật bằng văn bản\"]",
    ));
    check(&scenario(
        &flag_off("D38.written_decision_required", "D38"),
        "expect_state = \"Appealed\"",
    ));
}

// D13–D20, D22: jurisdiction ------------------------------------------------------------------

#[test]
fn d13_branch_decides_reprimand_and_warning_for_its_own_members() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "vote"

[[step]]
fire = "propose_to_competent"
expect_refused = ["GUARD_FAILED:D13"]
expect_vi = ["Chi bộ có thẩm quyền quyết định hình thức cảnh cáo"]

[[step]]
fire = "impose"
expect_state = "Decided"
expect_effect = ["discipline.decided"]
"#,
    );
}

#[test]
fn d13_branch_may_only_propose_for_tasks_assigned_by_a_higher_level() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "vote"
walk_inputs = { conclude_inspection = { higher_assigned_task = true } }

[[step]]
fire = "impose"
expect_refused = ["GUARD_FAILED:D14"]
expect_vi = ["Chi bộ chỉ có quyền đề nghị, không có quyền quyết định hình thức cảnh cáo", "nhiệm vụ do cấp trên giao"]

[[step]]
fire = "propose_to_competent"
expect_state = "Proposed"
expect_effect = ["discipline.proposed"]

# The competent body votes again, out of its own members.
[[step]]
fire = "vote"
inputs = { voting_body = "standing_committee", voting_level = "superior", votes_warning = 5, votes_reprimand = 2, official_members = 9 }
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
expect_state = "Decided"
"#,
    );
}

#[test]
fn d15_branch_committee_has_no_power_to_discipline() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
inputs = { voting_body = "branch_committee", voting_level = "branch" }
expect_refused = ["GUARD_FAILED:D15"]
expect_vi = ["Chi ủy không có thẩm quyền kỷ luật"]
"#,
    );
}

#[test]
fn d16_grassroots_standing_committee_and_partial_committee_have_no_power() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
inputs = { voting_body = "standing_committee", voting_level = "grassroots" }
expect_refused = ["GUARD_FAILED:D16"]
expect_vi = ["Ban thường vụ đảng ủy cơ sở không có thẩm quyền", "chỉ thẩm tra đề nghị kỷ luật"]

[[step]]
fire = "vote"
inputs = { voting_body = "partial_committee", voting_level = "grassroots" }
expect_refused = ["GUARD_FAILED:D16"]
"#,
    );
}

#[test]
fn d17_grassroots_inspection_commission_decides_a_warning_but_proposes_removal() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
inputs = { voting_body = "inspection_commission", voting_level = "grassroots", discipline_form = "removal", votes_removal = 4, votes_warning = 0, votes_reprimand = 0, official_members = 7 }
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
expect_refused = ["GUARD_FAILED:D17"]
expect_vi = ["Ủy ban kiểm tra đảng ủy cơ sở chỉ có quyền đề nghị"]

[[step]]
fire = "propose_to_competent"
expect_state = "Proposed"
"#,
    );
}

#[test]
fn d22_no_inspection_commission_votes_at_branch_level() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
inputs = { voting_body = "inspection_commission", voting_level = "branch" }
expect_refused = ["GUARD_FAILED:D22"]
"#,
    );
}

#[test]
fn d36_expulsion_proposed_by_a_branch_takes_effect_only_when_the_competent_body_decides() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
inputs = { discipline_form = "expulsion", votes_expulsion = 7, votes_warning = 3, votes_reprimand = 0 }
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
expect_refused = ["GUARD_FAILED:D13"]
expect_vi = ["chỉ có quyền đề nghị, không có quyền quyết định hình thức khai trừ", "Có thẩm quyền quyết định: cấp ủy cấp trên trực tiếp", "ban thường vụ cấp ủy cấp trên trực tiếp", "ủy ban kiểm tra cấp ủy cấp trên trực tiếp"]
expect_en = ["It may be decided by: the party committee at superior level"]

[[step]]
fire = "propose_to_competent"
expect_state = "Proposed"

# The competent committee: more than half of its members (D31), not 2/3.
[[step]]
fire = "vote"
inputs = { voting_body = "standing_committee", voting_level = "superior", discipline_form = "expulsion", votes_expulsion = 5, votes_warning = 4, votes_reprimand = 0, official_members = 9 }
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
expect_state = "Decided"

# C1: expulsion never lapses, so it follows its own path.
[[step]]
fire = "notify"
expect_refused = ["GUARD_FAILED:C1"]
expect_vi = ["Hình thức khai trừ không tự động hết hiệu lực"]

[[step]]
fire = "notify_expulsion"
on = 2025-08-11
expect_state = "ExpulsionAppealWindow"
expect_deadline = { expulsion_appeal_window = 2025-09-22 }
expect_no_effect = ["lapse"]

[[step]]
fire = "close_expulsion_appeal_window"
on = 2025-09-22
as = ["system"]
expect_state = "Expelled"
"#,
    );
}

// D13–D22, P3: the actor speaks for the body the step names -----------------------------------

#[test]
fn d13_the_actor_must_hold_the_body_it_votes_as() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# The branch secretary may only propose an expulsion (D13); naming the district's standing
# committee as the voting body does not make them speak for it.
[[step]]
fire = "vote"
as = ["secretary@branch"]
inputs = { voting_body = "standing_committee", voting_level = "superior", discipline_form = "expulsion", votes_expulsion = 5, votes_warning = 4, votes_reprimand = 0, official_members = 9 }
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["không giữ vai trò standing_committee@superior", "nhân danh ban thường vụ cấp ủy cấp trên trực tiếp", "«Biểu quyết kỷ luật bằng phiếu kín»"]
expect_en = ["does not hold standing_committee@superior", "in the name of the standing committee at superior level"]

# Nor does a standing committee of another level, nor an inspection commission.
[[step]]
fire = "vote"
as = ["standing_committee@province", "inspection_commission@superior"]
inputs = { voting_body = "standing_committee", voting_level = "superior", discipline_form = "expulsion", votes_expulsion = 5, votes_warning = 4, votes_reprimand = 0, official_members = 9 }
expect_refused = ["NOT_PERMITTED:voting_body"]

# The branch's vote is recorded by its secretary (a branch committee member does not speak
# for the branch).
[[step]]
fire = "vote"
as = ["branch_committee@branch"]
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["secretary@branch", "chi bộ"]

[[step]]
fire = "vote"
as = ["secretary@branch"]
expect_state = "LimitationCheck"

# The decision is the act of the body that voted: not of another one, even one that could
# decide the form itself.
[[step]]
fire = "impose"
as = ["standing_committee@superior"]
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["là việc của chi bộ", "secretary@branch"]
expect_en = ["is the act of the branch", "recorded on the case as `voting_body`"]

[[step]]
fire = "time_barred"
as = ["inspection_commission@grassroots"]
expect_refused = ["NOT_PERMITTED:voting_body", "GUARD_FAILED:D7"]

[[step]]
fire = "impose"
as = ["secretary@branch"]
expect_state = "Decided"
"#,
    );
}

#[test]
fn d36_the_competent_body_votes_and_decides_as_itself() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
as = ["secretary@branch"]
inputs = { discipline_form = "expulsion", votes_expulsion = 7, votes_warning = 3, votes_reprimand = 0 }
expect_state = "LimitationCheck"

# The proposal is the branch's too.
[[step]]
fire = "propose_to_competent"
as = ["standing_committee@superior"]
expect_refused = ["NOT_PERMITTED:voting_body"]

[[step]]
fire = "propose_to_competent"
as = ["secretary@branch"]
expect_state = "Proposed"

# At the competent body, the branch secretary cannot vote in its place.
[[step]]
fire = "vote"
as = ["secretary@branch"]
inputs = { voting_body = "standing_committee", voting_level = "superior", discipline_form = "expulsion", votes_expulsion = 5, votes_warning = 4, votes_reprimand = 0, official_members = 9 }
expect_refused = ["NOT_PERMITTED:voting_body"]

[[step]]
fire = "vote"
as = ["standing_committee@superior"]
inputs = { voting_body = "standing_committee", voting_level = "superior", discipline_form = "expulsion", votes_expulsion = 5, votes_warning = 4, votes_reprimand = 0, official_members = 9 }
expect_state = "LimitationCheck"

# Nor decide what it voted.
[[step]]
fire = "impose"
as = ["secretary@branch"]
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["là việc của ban thường vụ cấp ủy cấp trên trực tiếp", "standing_committee@superior"]

# A role held at the competent level is held at the level the rule set makes competent
# (A10.competent_level: superior in R2025b).
[[step]]
fire = "impose"
as = ["standing_committee@competent"]
expect_state = "Decided"
"#,
    );
}

#[test]
fn d13_a_body_at_any_level_and_the_central_bodies() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

# The Secretariat exists only at central level, and records its own vote.
[[step]]
fire = "vote"
as = ["secretariat@province"]
inputs = { voting_body = "secretariat", voting_level = "central", votes_warning = 5, votes_reprimand = 2, official_members = 9 }
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["secretariat@central", "Ban Bí thư"]

# The Politburo is spoken for by the Central Committee's standing body.
[[step]]
fire = "vote"
as = ["secretariat@central"]
inputs = { voting_body = "politburo", voting_level = "central", votes_warning = 5, votes_reprimand = 2, official_members = 9 }
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["standing_committee@central", "Bộ Chính trị"]

# A role held without a level speaks for the body at every level.
[[step]]
fire = "vote"
as = ["standing_committee"]
inputs = { voting_body = "politburo", voting_level = "central", votes_warning = 5, votes_reprimand = 2, official_members = 9 }
expect_state = "LimitationCheck"
"#,
    );
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"

[[step]]
fire = "vote"
as = ["secretariat@central"]
inputs = { voting_body = "secretariat", voting_level = "central", votes_warning = 5, votes_reprimand = 2, official_members = 9 }
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
as = ["secretariat@central"]
expect_state = "Decided"
"#,
    );
}

#[test]
fn d21_the_inspecting_body_starts_and_concludes_its_inspection() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "open"

[[step]]
fire = "start_inspection"
as = ["secretary@branch"]
inputs = { inspecting_body = "inspection_commission", inspecting_level = "superior" }
expect_refused = ["NOT_PERMITTED:inspecting_body"]
expect_vi = ["inspection_commission@superior", "ủy ban kiểm tra cấp ủy cấp trên trực tiếp"]

[[step]]
fire = "start_inspection"
as = ["inspection_commission@superior"]
inputs = { inspecting_body = "inspection_commission", inspecting_level = "superior" }
expect_state = "Inspection"

# Its conclusion, whichever way, is the inspecting body's.
[[step]]
fire = "close_no_violation"
as = ["secretary@branch"]
inputs = { closed_on = "today", closing_reason = "Không vi phạm" }
expect_refused = ["NOT_PERMITTED:inspecting_body"]

[[step]]
fire = "conclude_inspection"
as = ["secretary@branch"]
expect_refused = ["NOT_PERMITTED:inspecting_body"]
expect_vi = ["là việc của ủy ban kiểm tra cấp ủy cấp trên trực tiếp"]

[[step]]
fire = "conclude_inspection"
as = ["inspection_commission@superior"]
expect_state = "SelfCriticism"
"#,
    );
}

#[test]
fn p3_the_appeal_body_rules_on_the_appeal_as_itself() {
    check(
        r#"
definition = "discipline_member"
start = 2025-07-28
walk_until = "impose"

[[step]]
fire = "notify"
on = 2025-08-04

[[step]]
fire = "file_appeal_disputed"
on = 2025-09-10
as = ["member"]
inputs = { appeal_body = "inspection_commission", appeal_level = "superior" }
expect_state = "AppealAdmissibilityDisputed"

# The body the appeal was filed with decides whether it is in time.
[[step]]
fire = "admit_disputed_appeal"
as = ["inspection_commission@grassroots"]
inputs = { admitted_on = "today", admission_reason = "Một tháng tính là 30 ngày làm việc" }
expect_refused = ["NOT_PERMITTED:appeal_body"]
expect_en = ["is the act of the inspection commission at superior level", "`appeal_body`"]

[[step]]
fire = "admit_disputed_appeal"
as = ["inspection_commission@superior"]
inputs = { admitted_on = "today", admission_reason = "Một tháng tính là 30 ngày làm việc" }
expect_state = "Appealed"

# The ruling names its body, and the actor must speak for it.
[[step]]
fire = "annul"
as = ["inspection_commission@superior"]
inputs = { ruling_body = "standing_committee", ruling_level = "province", appeal_ruling_date = "today", restoration = "Xin lỗi, khôi phục quyền lợi" }
expect_refused = ["NOT_PERMITTED:ruling_body"]
expect_vi = ["standing_committee@province", "nhân danh ban thường vụ cấp ủy cấp tỉnh"]

[[step]]
fire = "annul"
as = ["standing_committee@province"]
inputs = { ruling_body = "standing_committee", ruling_level = "province", appeal_ruling_date = "today", restoration = "Xin lỗi, khôi phục quyền lợi" }
expect_state = "Annulled"
"#,
    );
}

#[test]
fn d19_the_direct_superior_votes_and_decides_as_itself() {
    check(
        r#"
definition = "discipline_organization"
start = 2025-08-01
walk_until = "record_self_criticism"

# The organisation's own standing committee cannot vote as its superior's.
[[step]]
fire = "vote"
as = ["standing_committee@grassroots"]
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["standing_committee@superior"]

[[step]]
fire = "vote"
as = ["standing_committee@superior"]
expect_state = "LimitationCheck"

# The superior's committee did not vote: the decision is its standing committee's.
[[step]]
fire = "impose"
as = ["committee@superior"]
expect_refused = ["NOT_PERMITTED:voting_body"]

[[step]]
fire = "impose"
as = ["standing_committee@superior"]
expect_state = "Decided"
"#,
    );
}

#[test]
fn d5_the_competent_committee_strikes_off_as_itself() {
    check(
        r#"
definition = "removal"
start = 2025-08-01
walk_until = "branch_proposes"

# The competent standing committee does not decide in the name of the committee.
[[step]]
fire = "decide_removal"
as = ["standing_committee@competent", "standing_committee@superior"]
inputs = { voting_body = "committee", voting_level = "superior" }
expect_refused = ["NOT_PERMITTED:voting_body"]
expect_vi = ["committee@superior"]

[[step]]
fire = "decide_removal"
as = ["committee@competent", "committee@superior"]
inputs = { voting_body = "committee", voting_level = "superior" }
expect_state = "Decided"
"#,
    );
}

/// A small machine whose acting body is named relative to the organisation disciplined, and a
/// step the scheduler may also fire.
const RELATIVE_BODY: &str = r#"
id = "relative_body"
version = 1
title = "test"

[open]
to = "Open"
by = [{ role = "inspection_commission" }]
input = [{ name = "subject_level", type = "enum", values = ["branch", "grassroots", "superior", "province"] }]

[[state]]
name = "Open"

[[state]]
name = "Done"
terminal = true

[[transition]]
name = "decide"
from = ["Open"]
to = "Done"
by = [{ role = "system" }, { role = "standing_committee" }]
acting_body = { kind = "body", level = "level" }
input = [
  { name = "body", type = "enum", values = ["standing_committee"] },
  { name = "level", type = "enum", values = ["direct_superior", "second_superior", "province"] },
]
"#;

#[test]
fn d19_a_body_named_relative_to_the_organisation_is_resolved_from_its_level() {
    let def = Definition::from_toml_str(RELATIVE_BODY).unwrap();
    let book = rule_book();
    let cal = calendar();
    let day = d("2025-08-01");
    let opened = open(
        &def,
        &book,
        &cal,
        &Event::new(
            "open",
            Actor::new("t", vec![RoleRef::anywhere("inspection_commission")]),
        )
        .with("subject_level", "grassroots"),
        day,
    )
    .unwrap()
    .case;
    let decide = |roles: Vec<RoleRef>, level: &str| {
        fire(
            &def,
            &book,
            &cal,
            &opened,
            &Event::new("decide", Actor::new("t", roles))
                .with("body", "standing_committee")
                .with("level", level),
            day,
        )
    };
    // The direct superior of a grassroots organisation is the superior level.
    let r = decide(
        vec![RoleRef::at("standing_committee", RoleLevel::Grassroots)],
        "direct_superior",
    )
    .unwrap_err();
    assert_eq!(
        reason_keys(&r),
        BTreeSet::from(["NOT_PERMITTED:body".to_owned()])
    );
    assert!(
        r.reasons[0]
            .reason_vi
            .contains("standing_committee@superior"),
        "{r}"
    );
    assert!(
        decide(
            vec![RoleRef::at("standing_committee", RoleLevel::Superior)],
            "direct_superior"
        )
        .is_ok()
    );
    // One level further up: the province.
    let r = decide(
        vec![RoleRef::at("standing_committee", RoleLevel::Superior)],
        "second_superior",
    )
    .unwrap_err();
    assert!(
        r.reasons[0]
            .reason_en
            .contains("standing_committee@province"),
        "{r}"
    );
    assert!(
        decide(
            vec![RoleRef::at("standing_committee", RoleLevel::Province)],
            "second_superior"
        )
        .is_ok()
    );
    // The scheduler, where it may fire the step, speaks for no body and needs none.
    assert!(decide(vec![RoleRef::anywhere("system")], "province").is_ok());
}

#[test]
fn d13_acting_body_declarations_are_validated() {
    let problems = |acting: &str, by: &str| -> Vec<String> {
        let src = RELATIVE_BODY
            .replace(
                r#"acting_body = { kind = "body", level = "level" }"#,
                acting,
            )
            .replace(
                r#"by = [{ role = "system" }, { role = "standing_committee" }]"#,
                by,
            );
        match Definition::from_toml_str(&src) {
            Ok(_) => Vec::new(),
            Err(ps) => ps.iter().map(ToString::to_string).collect(),
        }
    };
    let by = r#"by = [{ role = "standing_committee" }]"#;
    assert!(problems(r#"acting_body = { kind = "body", level = "level" }"#, by).is_empty());
    // Both keys are the transition's inputs, or both facts recorded by other steps.
    let p = problems(
        r#"acting_body = { kind = "body", level = "subject_level" }"#,
        by,
    );
    assert!(p.iter().any(|p| p.contains("must both be inputs")), "{p:?}");
    let p = problems(
        r#"acting_body = { kind = "nothing", level = "nowhere" }"#,
        by,
    );
    assert!(
        p.iter()
            .any(|p| p.contains("`nothing` is neither an input")),
        "{p:?}"
    );
    let p = problems(r#"acting_body = { kind = "body" }"#, by);
    assert!(p.iter().any(|p| p.contains("missing `level`")), "{p:?}");
    // Someone in `by` must be able to speak for every body the input lists.
    let p = problems(
        r#"acting_body = { kind = "body", level = "level" }"#,
        r#"by = [{ role = "committee" }]"#,
    );
    assert!(
        p.iter()
            .any(|p| p.contains("`standing_committee`, which `by` does not list")),
        "{p:?}"
    );
    // Kinds and levels the core knows.
    let src = RELATIVE_BODY
        .replace(
            r#"values = ["standing_committee"]"#,
            r#"values = ["standing_committee", "people_committee"]"#,
        )
        .replace(
            r#""second_superior", "province""#,
            r#""second_superior", "district""#,
        );
    let p: Vec<String> = Definition::from_toml_str(&src)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        p.iter()
            .any(|p| p.contains("`people_committee`, which is not a body kind")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.contains("`district`, which is not one of")),
        "{p:?}"
    );
}

// D6–D12: the limitation check after the vote ---------------------------------------------------

#[test]
fn d12_d7_reprimand_voted_more_than_5_years_after_the_violation_is_time_barred() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"
walk_inputs = { conclude_inspection = { violation_end_date = 2020-06-01 } }

# The vote comes first (D12)...
[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_warning = 0, votes_reprimand = 6 }
expect_state = "LimitationCheck"

# ...then the limitation decides.
[[step]]
fire = "impose"
expect_refused = ["GUARD_FAILED:D7"]
expect_vi = ["Đã hết thời hiệu kỷ luật (D7)", "5 năm", "01/06/2025"]

[[step]]
fire = "time_barred"
expect_state = "TimeBarred"
expect_effect = ["discipline.time_barred"]
"#,
    );
}

#[test]
fn d7_a_warning_within_its_10_years_cannot_be_closed_as_time_barred() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "vote"
walk_inputs = { conclude_inspection = { violation_end_date = 2020-06-01 } }

[[step]]
fire = "time_barred"
expect_refused = ["GUARD_FAILED:D7"]
expect_vi = ["Chưa hết thời hiệu kỷ luật (D7, D12)", "10 năm"]

[[step]]
fire = "impose"
expect_state = "Decided"
"#,
    );
}

#[test]
fn d9_expulsion_is_never_time_barred() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"
walk_inputs = { conclude_inspection = { violation_end_date = 2001-01-01 } }

[[step]]
fire = "vote"
inputs = { discipline_form = "expulsion", votes_expulsion = 7, votes_warning = 3, votes_reprimand = 0 }

[[step]]
fire = "time_barred"
expect_refused = ["GUARD_FAILED:D9"]

[[step]]
fire = "propose_to_competent"
expect_state = "Proposed"
"#,
    );
}

#[test]
fn d9_internal_political_security_has_no_limit() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "vote"
walk_inputs = { conclude_inspection = { violation_end_date = 2001-01-01, violation_category = "internal_political_security" } }

[[step]]
fire = "impose"
expect_state = "Decided"
"#,
    );
}

#[test]
fn d10_d11_a_new_violation_restarts_and_the_conclusion_date_stops_the_clock() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"
walk_inputs = { conclude_inspection = { violation_end_date = 2020-06-01, new_violation_date = 2023-02-01 } }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_warning = 0, votes_reprimand = 6 }

[[step]]
fire = "time_barred"
expect_refused = ["GUARD_FAILED:D7"]
expect_vi = ["tính từ 01/02/2023"]
"#,
    );
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "hold_hearing"
walk_inputs = { conclude_inspection = { violation_end_date = 2020-06-01 } }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_warning = 0, votes_reprimand = 6 }

[[step]]
fire = "impose"
inputs = { conclusion_date = 2025-05-30 }
expect_state = "Decided"
"#,
    );
}

// P1–P6 ---------------------------------------------------------------------------------------

#[test]
fn p1_appeal_after_the_window_is_refused() {
    check(
        r#"
definition = "discipline_member"
start = 2025-07-28
walk_until = "impose"

[[step]]
fire = "notify"
on = 2025-08-04

# 30 days from 04/08 end on 03/09; 30 working days on 15/09.
[[step]]
fire = "file_appeal"
on = 2025-09-16
expect_refused = ["GUARD_FAILED:P1"]
expect_vi = ["quá thời hạn 30 ngày", "03/09/2025"]

[[step]]
fire = "file_appeal_disputed"
on = 2025-09-16
expect_refused = ["GUARD_FAILED:P1"]
expect_vi = ["quá hạn theo cả hai cách hiểu", "15/09/2025"]
"#,
    );
}

#[test]
fn p1_appeal_between_30_days_and_30_working_days_is_flagged_not_decided() {
    check(
        r#"
definition = "discipline_member"
start = 2025-07-28
walk_until = "impose"

[[step]]
fire = "notify"
on = 2025-08-04
expect_deadline = { appeal_window = 2025-09-15 }

[[step]]
fire = "file_appeal"
on = 2025-09-10
expect_refused = ["GUARD_FAILED:P1"]

[[step]]
fire = "file_appeal_disputed"
on = 2025-09-10
expect_state = "AppealAdmissibilityDisputed"
expect_effect = ["discipline.appeal_disputed"]
expect_no_deadline = ["appeal_window"]

[[step]]
fire = "admit_disputed_appeal"
inputs = { admitted_on = "today", admission_reason = "Một tháng tính là 30 ngày làm việc" }
expect_state = "Appealed"
"#,
    );
    // Within the stricter window, the ordinary way.
    check(
        r#"
definition = "discipline_member"
start = 2025-07-28
walk_until = "impose"

[[step]]
fire = "notify"
on = 2025-08-04

[[step]]
fire = "file_appeal_disputed"
on = 2025-09-03
expect_refused = ["GUARD_FAILED:P1"]
expect_vi = ["nộp theo thủ tục thông thường"]

[[step]]
fire = "file_appeal"
on = 2025-09-03
expect_state = "Appealed"
"#,
    );
}

#[test]
fn p1_a_disputed_appeal_rejected_as_late_leaves_the_decision_in_force() {
    check(
        r#"
definition = "discipline_member"
start = 2025-07-28
walk_until = "impose"

[[step]]
fire = "notify"
on = 2025-08-04

[[step]]
fire = "file_appeal_disputed"
on = 2025-09-10

[[step]]
fire = "reject_disputed_appeal"
inputs = { rejected_on = "today", rejection_reason = "Quá 30 ngày" }
expect_state = "InForce"
expect_deadline = { lapse = 2026-08-03 }
"#,
    );
}

#[test]
fn p4_inadmissible_grounds_are_refused() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "file_appeal"
inputs = { inadmissibility = ["on_behalf", "transferred_out"] }
expect_refused = ["GUARD_FAILED:P4"]
expect_vi = ["khiếu nại hộ người khác", "đã chuyển sinh hoạt đảng ra ngoài đảng bộ"]

[[step]]
fire = "file_appeal"
expect_state = "Appealed"
"#,
    );
}

#[test]
fn p2_the_decision_stays_in_force_while_the_appeal_is_pending() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "file_appeal"
expect_state = "Appealed"
expect_effect = ["discipline.appeal_filed"]
expect_no_effect = ["SetMemberStatus"]
expect_fact = { discipline_form = "warning" }
"#,
    );
}

#[test]
fn p3_appeal_goes_up_the_levels_to_the_final_instance() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

# A warning decided by the branch: not to a body at or below it...
[[step]]
fire = "file_appeal"
inputs = { appeal_body = "secretariat", appeal_level = "central" }
expect_refused = ["GUARD_FAILED:P3"]
expect_vi = ["Cấp giải quyết khiếu nại cuối cùng trong trường hợp này là Ủy ban Kiểm tra Trung ương"]

[[step]]
fire = "file_appeal"
inputs = { appeal_body = "inspection_commission", appeal_level = "grassroots" }
expect_state = "Appealed"

[[step]]
fire = "rule_on_appeal"
inputs = { ruling_body = "inspection_commission", ruling_level = "grassroots" }
expect_state = "AppealWindow"

# The next appeal goes above the grassroots inspection commission, e.g. to its committee.
[[step]]
fire = "file_appeal"
inputs = { appeal_body = "inspection_commission", appeal_level = "grassroots" }
expect_refused = ["GUARD_FAILED:P3"]
expect_vi = ["cấp trên của ủy ban kiểm tra đảng ủy cơ sở"]

[[step]]
fire = "file_appeal"
inputs = { appeal_body = "inspection_commission", appeal_level = "central" }
expect_state = "Appealed"

[[step]]
fire = "rule_on_appeal"
inputs = { ruling_body = "inspection_commission", ruling_level = "central" }
expect_state = "AppealWindow"

# The Central Inspection Commission is the final instance for a warning.
[[step]]
fire = "file_appeal"
inputs = { appeal_body = "committee", appeal_level = "central" }
expect_refused = ["GUARD_FAILED:P4"]
expect_vi = ["cấp giải quyết cuối cùng (P3)"]
"#,
    );
}

#[test]
fn p3_ruling_outcome_must_agree_with_the_forms() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "file_appeal"

[[step]]
fire = "rule_on_appeal"
inputs = { appeal_outcome = "reduced", discipline_form = "warning" }
expect_refused = ["GUARD_FAILED:P3"]
expect_vi = ["«giảm hình thức kỷ luật» không khớp"]

# Reduced to a reprimand; C1 now counts 12 months from the ruling.
[[step]]
fire = "rule_on_appeal"
on = 2025-10-01
inputs = { appeal_outcome = "reduced", discipline_form = "reprimand" }
expect_state = "AppealWindow"
expect_fact = { lapse_date = 2026-10-01, discipline_form = "reprimand" }
"#,
    );
}

#[test]
fn p3_a_ruling_that_increases_to_expulsion_follows_the_expulsion_path() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "file_appeal"

[[step]]
fire = "rule_on_appeal"
inputs = { appeal_outcome = "increased", discipline_form = "expulsion" }
expect_refused = ["GUARD_FAILED:C1"]

[[step]]
fire = "rule_on_appeal_expulsion"
inputs = { appeal_outcome = "increased", discipline_form = "expulsion", ruling_body = "standing_committee", ruling_level = "superior", appeal_ruling_date = "today", decision_received_date = "today" }
expect_state = "ExpulsionAppealWindow"
"#,
    );
}

#[test]
fn p5_timed_review_is_refused_while_the_limit_is_unverified() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "file_appeal"

[[step]]
fire = "start_appeal_review"
inputs = { review_started_on = "today" }
expect_refused = ["PARAMETER_UNSET:P5"]
expect_vi = ["chưa có giá trị trong bộ quy tắc R2025b"]

# The appeal is still settled, only without a time limit.
[[step]]
fire = "rule_on_appeal"
expect_state = "AppealWindow"
"#,
    );
}

#[test]
fn p5_refusals_name_the_rule_set_in_force_before_and_after_30_may_and_10_june_2025() {
    // Issue #15: 296-QĐ/TW (from 30/5/2025) and 08-HD/TW (from 10/6/2025) split the former
    // R2025a, so a step in June 2025 is decided and labelled under the rules then in force.
    check(
        r#"
definition = "discipline_member"
start = 2025-05-02
walk_until = "notify"

[[step]]
fire = "file_appeal"
on = 2025-05-20
expect_rule_set = "R2025a"

[[step]]
fire = "start_appeal_review"
on = 2025-05-29
inputs = { review_started_on = "today" }
expect_refused = ["PARAMETER_UNSET:P5"]
expect_vi = ["chưa có giá trị trong bộ quy tắc R2025a vì"]

[[step]]
fire = "start_appeal_review"
on = 2025-05-30
inputs = { review_started_on = "today" }
expect_refused = ["PARAMETER_UNSET:P5"]
expect_vi = ["chưa có giá trị trong bộ quy tắc R2025a2 vì"]
expect_en = ["has no value in rule set R2025a2 because"]

[[step]]
fire = "start_appeal_review"
on = 2025-06-09
inputs = { review_started_on = "today" }
expect_refused = ["PARAMETER_UNSET:P5"]
expect_vi = ["chưa có giá trị trong bộ quy tắc R2025a2 vì"]

[[step]]
fire = "start_appeal_review"
on = 2025-06-10
inputs = { review_started_on = "today" }
expect_refused = ["PARAMETER_UNSET:P5"]
expect_vi = ["chưa có giá trị trong bộ quy tắc R2025a3 vì"]

[[step]]
fire = "rule_on_appeal"
on = 2025-06-10
expect_state = "AppealWindow"
expect_rule_set = "R2025a3"
"#,
    );
}

#[test]
fn p6_annulment_ends_the_case_with_restoration() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "file_appeal"

[[step]]
fire = "annul"
inputs = { ruling_body = "inspection_commission", ruling_level = "grassroots", appeal_ruling_date = "today", restoration = "Xin lỗi, khôi phục quyền lợi" }
expect_state = "Annulled"
expect_effect = ["discipline.annulled"]
expect_no_deadline = ["lapse"]
"#,
    );
}

// C1 ------------------------------------------------------------------------------------------

#[test]
fn c1_discipline_lapses_after_12_months() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "close_appeal_window"
on = 2025-09-19
as = ["system"]
expect_deadline = { lapse = 2026-08-07 }

[[step]]
fire = "lapse"
on = 2026-08-06
as = ["system"]
expect_refused = ["GUARD_FAILED:C1"]
expect_vi = ["từ ngày 07/08/2026"]

# Nobody but the scheduler lapses a decision.
[[step]]
fire = "lapse"
on = 2026-08-07
as = ["secretary@branch"]
expect_refused = ["NOT_PERMITTED"]

[[step]]
fire = "lapse"
on = 2026-08-07
as = ["system"]
expect_state = "Lapsed"
"#,
    );
}

#[test]
fn c1_a_new_violation_stops_the_automatic_lapse() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "close_appeal_window"
on = 2025-09-19
as = ["system"]

[[step]]
fire = "record_new_violation"
on = 2026-03-01
inputs = { new_violation_found_on = "today" }
expect_state = "NewViolationPending"
expect_no_deadline = ["lapse"]
expect_effect = ["CancelDeadline"]

[[step]]
fire = "new_violation_dismissed"
on = 2026-04-01
inputs = { dismissed_on = "today" }
expect_state = "InForce"
expect_deadline = { lapse = 2026-08-07 }

[[step]]
fire = "record_new_violation"
on = 2026-05-01
inputs = { new_violation_found_on = "today" }

[[step]]
fire = "superseded"
on = 2026-09-01
inputs = { superseded_on = "today" }
expect_state = "ClosedWithoutLapse"
"#,
    );
}

// The organisation machine ---------------------------------------------------------------------

#[test]
fn d19_organisation_warning_is_decided_by_the_direct_superior() {
    check(
        r#"
definition = "discipline_organization"
start = 2025-08-01
walk_until = "record_self_criticism"

# A grassroots organisation's direct superior is at the `superior` level, not its own.
[[step]]
fire = "vote"
inputs = { voting_body = "committee", voting_level = "grassroots" }
expect_refused = ["GUARD_FAILED:D19"]
expect_vi = ["không có thẩm quyền quyết định hay đề nghị hình thức cảnh cáo đối với tổ chức đảng"]

[[step]]
fire = "vote"
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
expect_state = "Decided"

[[step]]
fire = "notify"
expect_state = "AppealWindow"
"#,
    );
}

#[test]
fn d20_dissolution_needs_the_agreement_of_the_next_level_and_never_lapses() {
    check(
        r#"
definition = "discipline_organization"
start = 2025-08-01
walk_until = "record_self_criticism"

# The standing committee may discipline an organisation but not dissolve it.
[[step]]
fire = "vote"
inputs = { discipline_form = "dissolution", votes_dissolution = 5, votes_warning = 2, votes_reprimand = 0 }
expect_refused = ["GUARD_FAILED:D19"]

[[step]]
fire = "vote"
inputs = { voting_body = "committee", discipline_form = "dissolution", votes_dissolution = 5, votes_warning = 2, votes_reprimand = 0 }
expect_state = "LimitationCheck"

[[step]]
fire = "impose"
expect_refused = ["GUARD_FAILED:D20"]
expect_vi = ["sau khi được cấp ủy cấp trên một cấp đồng ý"]

[[step]]
fire = "impose"
inputs = { higher_agreement_date = "today" }
expect_state = "Decided"

[[step]]
fire = "notify"
expect_refused = ["GUARD_FAILED:C1"]

[[step]]
fire = "notify_dissolution"
on = 2025-08-11
expect_state = "DissolutionAppealWindow"

[[step]]
fire = "close_dissolution_appeal_window"
on = 2025-09-22
as = ["system"]
expect_state = "Dissolved"
"#,
    );
}

#[test]
fn d8_organisation_reprimand_is_time_barred_after_5_years() {
    check(
        r#"
definition = "discipline_organization"
start = 2025-08-01
walk_until = "record_self_criticism"
walk_inputs = { conclude_inspection = { violation_end_date = 2019-01-01 } }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_warning = 0, votes_reprimand = 5 }

[[step]]
fire = "impose"
expect_refused = ["GUARD_FAILED:D8"]

[[step]]
fire = "time_barred"
expect_state = "TimeBarred"
"#,
    );
}

#[test]
fn d1_organisation_ballot_cumulates_from_dissolution_down() {
    check(
        r#"
definition = "discipline_organization"
start = 2025-08-01
walk_until = "record_self_criticism"

# 9 members: dissolution 3, warning 2, reprimand 3: from the top 3, 5 > 4.5 at warning.
[[step]]
fire = "vote"
inputs = { voting_body = "committee", discipline_form = "warning", votes_dissolution = 3, votes_warning = 2, votes_reprimand = 3 }
expect_state = "LimitationCheck"
"#,
    );
}

#[test]
fn c1_organisation_discipline_lapses_after_12_months() {
    check(
        r#"
definition = "discipline_organization"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "close_appeal_window"
on = 2025-09-18
as = ["system"]
expect_deadline = { lapse = 2026-08-06 }

[[step]]
fire = "lapse"
on = 2026-08-06
as = ["system"]
expect_state = "Lapsed"
"#,
    );
}

// The removal machine ---------------------------------------------------------------------------

#[test]
fn d5_striking_off_needs_three_months_without_good_reason() {
    check(
        r#"
definition = "removal"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { months_missed = 2 }
expect_refused = ["GUARD_FAILED:D5"]
expect_vi = ["bỏ sinh hoạt chi bộ 3 tháng trong năm (D5); mới ghi nhận 2 tháng"]

[[step]]
fire = "open"
on = 2025-08-01
inputs = { good_reason = true }
expect_refused = ["GUARD_FAILED:D5"]
expect_vi = ["có lý do chính đáng"]

[[step]]
fire = "open"
on = 2025-08-01
inputs = { removal_ground = "unpaid_dues" }
expect_state = "Identified"
"#,
    );
}

#[test]
fn d5_branch_resolution_to_strike_off_needs_more_than_half() {
    check(
        r#"
definition = "removal"
start = 2025-08-01
walk_until = "open"

[[step]]
fire = "branch_proposes"
inputs = { votes_for = 5 }
expect_refused = ["GUARD_FAILED:D5"]
expect_vi = ["trên 1/2", "cần ít nhất 6 phiếu"]

[[step]]
fire = "branch_proposes"
expect_state = "Proposed"
"#,
    );
}

#[test]
fn d4_striking_off_is_its_own_procedure_with_its_own_appeal() {
    check(
        r#"
definition = "removal"
start = 2025-08-01
walk_until = "branch_proposes"

[[step]]
fire = "decide_removal"
expect_state = "Decided"
expect_effect = ["RecordStrikeOff", "StruckOff", "removal.decided"]

[[step]]
fire = "notify"
expect_state = "AppealWindow"
expect_deadline = { appeal_window = 2025-09-15 }

# The appeal goes above the deciding standing committee (P3, by analogy).
[[step]]
fire = "file_appeal"
inputs = { appeal_body = "inspection_commission", appeal_level = "superior" }
expect_refused = ["GUARD_FAILED:P3"]

[[step]]
fire = "file_appeal"
expect_state = "Appealed"

[[step]]
fire = "annul_removal"
inputs = { ruling_body = "standing_committee", ruling_level = "province", appeal_ruling_date = "today" }
expect_state = "Restored"
expect_effect = ["removal.annulled"]
"#,
    );
    check(
        r#"
definition = "removal"
start = 2025-08-01
walk_until = "notify"

[[step]]
fire = "close_appeal_window"
on = 2025-09-15
as = ["system"]
expect_state = "StruckOff"
"#,
    );
}

#[test]
fn d5_rule_sets_before_2025_apply_to_a_case_decided_then() {
    // A case under R2021: every parameter the machines read exists there too.
    check(
        r#"
definition = "discipline_member"
start = 2024-03-01
walk_until = "notify"
walk_inputs = { conclude_inspection = { violation_end_date = 2023-06-01 } }

[[step]]
fire = "close_appeal_window"
on = 2024-05-01
as = ["system"]
expect_state = "InForce"
expect_rule_set = "R2021"
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests

fn threshold(strict: bool, num: u32, den: u32) -> Threshold {
    Threshold { num, den, strict }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// D32: the imposed form's cumulated votes (from the most severe down) reach its threshold,
    /// and no more severe form's cumulated votes reach its own.
    #[test]
    fn d32_the_cumulated_form_reaches_its_majority_and_no_more_severe_form_does(
        votes in prop::collection::vec(0u64..12, 1..6),
        extra in 0u64..10,
        kinds in prop::collection::vec(0u8..3, 6),
    ) {
        // The thresholds of D31 (more than half; at least 2/3 for expulsion; more than 2/3 as a
        // stricter variant): never below a strict half.
        let lines: Vec<BallotLine> = votes
            .iter()
            .zip(&kinds)
            .map(|(v, k)| BallotLine {
                votes: *v,
                threshold: match k {
                    0 => threshold(true, 1, 2),
                    1 => threshold(false, 2, 3),
                    _ => threshold(true, 2, 3),
                },
            })
            .collect();
        let counted = votes.iter().sum::<u64>() + extra;
        prop_assume!(counted > 0);
        let cumulated = |upto: usize| lines.iter().take(upto + 1).map(|l| l.votes).sum::<u64>();
        match cumulate_from_most_severe(&lines, counted) {
            Some(i) => {
                prop_assert!(lines[i].threshold.met(cumulated(i), counted));
                for (j, line) in lines.iter().enumerate().take(i) {
                    prop_assert!(!line.threshold.met(cumulated(j), counted), "form {j} above {i} reaches its threshold");
                }
            }
            None => {
                for (j, line) in lines.iter().enumerate() {
                    prop_assert!(!line.threshold.met(cumulated(j), counted));
                }
            }
        }
    }

    #[test]
    fn random_event_sequences_keep_every_discipline_case_in_a_declared_state(
        machine in 0usize..3,
        actions in prop::collection::vec((any::<u8>(), any::<u64>(), any::<u8>()), 1..40)
    ) {
        drive(MACHINES[machine], &actions);
    }
}

/// A small deterministic generator driven by a proptest seed (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }

    fn chance(&mut self, in_ten: u64) -> bool {
        self.next() % 10 < in_ten
    }
}

fn random_value(rng: &mut Rng, ty: &InputType, day: NaiveDate) -> Value {
    if rng.chance(1) {
        return Value::Bool(true);
    }
    match ty {
        InputType::String => Value::Text(["", "lý do", "x"][rng.below(3)].into()),
        InputType::MemberRef | InputType::UnitRef => {
            Value::Text(["M-1", "M-2", ""][rng.below(3)].into())
        }
        InputType::Integer { .. } => Value::Int(i64::try_from(rng.below(14)).unwrap() - 1),
        InputType::Boolean => Value::Bool(rng.chance(5)),
        InputType::Date => {
            let back = u64::try_from(rng.below(4000)).unwrap();
            Value::Date(day.checked_sub_days(Days::new(back)).unwrap_or(day))
        }
        InputType::Enum(values) => Value::Text(values[rng.below(values.len())].clone()),
        InputType::List(inner) => Value::List(
            (0..rng.below(3))
                .map(|_| random_value(rng, inner, day))
                .collect(),
        ),
    }
}

/// Drives a machine along its main path and with random events, checking on every step the
/// invariants of `step_once` and that a refused event leaves the case as it was.
fn drive(machine: &str, actions: &[(u8, u64, u8)]) {
    let def = definition(machine);
    let book = rule_book();
    let defaults = defaults(machine);
    let path = main_path(machine);
    let mut day = d("2025-07-15");
    let open_event = Event {
        transition: "open".into(),
        actor: actor_for(&def, "open"),
        inputs: inputs_from(&defaults["open"], day),
        context: subject_discipline(&[]),
    };
    let mut case = step_once(&def, &book, None, &open_event, day).unwrap().case;
    for (choice, seed, gap) in actions {
        let mut rng = Rng(*seed);
        day = day + Days::new(u64::from(*gap % 40));
        let next = path
            .iter()
            .position(|t| {
                def.transition(t)
                    .is_some_and(|t| t.from.contains(&case.state))
            })
            .map(|i| path[i]);
        let event = match next {
            Some(t) if choice % 3 != 0 => Event {
                transition: t.to_owned(),
                context: subject_discipline(&[]),
                actor: actor_for(&def, t),
                inputs: defaults
                    .get(t)
                    .map(|tb| inputs_from(tb, day))
                    .unwrap_or_default(),
            },
            _ => {
                let t = &def.transitions[rng.below(def.transitions.len())];
                let mut inputs = Values::new();
                for spec in &t.inputs {
                    if spec.required && rng.chance(9) || !spec.required && rng.chance(3) {
                        inputs.insert(spec.name.clone(), random_value(&mut rng, &spec.ty, day));
                    }
                }
                Event {
                    transition: t.name.clone(),
                    actor: Actor::new("prop", t.by.clone()),
                    inputs,
                    context: subject_discipline(&[]),
                }
            }
        };
        let before = case.clone();
        match step_once(&def, &book, Some(&case), &event, day) {
            Ok(decision) => case = decision.case,
            Err(_) => assert_eq!(case, before, "a refused event changed the case"),
        }
        assert!(def.state(&case.state).is_some());
    }
}

// D39–D42: the catalogue of violations and the circumstances ---------------------------------

#[test]
fn d42_the_violation_code_must_be_in_the_rule_set_s_catalogue() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "start_inspection"

[[step]]
fire = "conclude_inspection"
inputs = { violation_code = "99-1.1" }
expect_refused = ["GUARD_FAILED:D42"]
expect_vi = ["Mã vi phạm «99-1.1» không có trong danh mục", "69-41.1d, 69-41.2"]
expect_en = ["not in the catalogue"]

[[step]]
fire = "conclude_inspection"
inputs = { violation_code = "69-41.2" }
expect_state = "SelfCriticism"
expect_fact = { violation_code = "69-41.2" }
"#,
    );
}

#[test]
fn d41_circumstances_recorded_must_be_those_the_rule_set_lists() {
    check(
        r#"
definition = "discipline_member"
start = 2025-08-01
walk_until = "start_inspection"

[[step]]
fire = "conclude_inspection"
inputs = { aggravating_factors = ["deliberate", "bribed_the_inspector"], mitigating_factors = ["self_reported"] }
expect_refused = ["GUARD_FAILED:D41"]
expect_vi = ["Tình tiết tăng nặng «bribed_the_inspector»"]

[[step]]
fire = "conclude_inspection"
inputs = { violation_code = "69-41.1d", aggravating_factors = ["deliberate"], mitigating_factors = ["self_reported", "first_violation"] }
expect_state = "SelfCriticism"
"#,
    );
}

#[test]
fn d42_every_rule_set_s_catalogue_reads_and_defaults_to_a_known_form() {
    let book = rule_book();
    for rs in book.sets() {
        let cat = memberflow_workflow::violations::catalogue(rs)
            .unwrap_or_else(|e| panic!("{}: {e}", rs.id));
        assert!(
            cat.iter()
                .any(|v| v.code == "69-41.2" && v.default_form == "warning"),
            "{}: {cat:?}",
            rs.id
        );
        assert!(
            cat.iter()
                .all(|v| memberflow_workflow::violations::FORMS.contains(&v.default_form.as_str())),
            "{}",
            rs.id
        );
        let (aggravating, mitigating) = memberflow_workflow::violations::circumstances(rs).unwrap();
        assert!(aggravating.contains(&"repeated".to_owned()), "{}", rs.id);
        assert!(
            mitigating.contains(&"self_reported".to_owned()),
            "{}",
            rs.id
        );
    }
}

// C2, C7: a transfer while the member is being disciplined -----------------------------------

fn transfer_case(day: NaiveDate) -> CaseSnapshot {
    let def = definition("transfer");
    let open_event = Event::new(
        "open",
        Actor::new("tester", vec![RoleRef::at("secretary", RoleLevel::Branch)]),
    )
    .with("member_id", "M-1")
    .with("full_name", "Nguyễn Văn A")
    .with("unit", "CB-1")
    .with("transfer_reason", "moved_residence")
    .with("effective_date", Value::Date(day));
    open(&def, &rule_book(), &calendar(), &open_event, day)
        .expect("the transfer opens")
        .case
}

fn complete(case: &CaseSnapshot, context: Values, day: NaiveDate) -> Result<Decision, Refusal> {
    let def = definition("transfer");
    let mut e = Event::new(
        "complete_transfer",
        Actor::new("tester", vec![RoleRef::at("secretary", RoleLevel::Branch)]),
    )
    .with("transferred_on", Value::Date(day))
    .with("introduction_letter", "GT-12");
    e.context = context;
    fire(&def, &rule_book(), &calendar(), case, &e, day)
}

fn open_discipline(
    state: &str,
    in_force: bool,
) -> memberflow_workflow::engine::context::OpenDiscipline {
    memberflow_workflow::engine::context::OpenDiscipline {
        case: "c-1".into(),
        title: "Kỷ luật đảng viên".into(),
        state: state.into(),
        state_vi: state.into(),
        in_force,
        form: in_force.then(|| "warning".to_owned()),
        decision_date: in_force.then(|| d("2025-09-01")),
    }
}

#[test]
fn c7_membership_is_not_transferred_while_the_member_is_being_inspected() {
    let day = d("2025-10-01");
    let case = transfer_case(day);
    let r = complete(
        &case,
        subject_discipline(&[open_discipline("Inspection", false)]),
        day,
    )
    .expect_err("refused while inspected");
    assert_eq!(
        reason_keys(&r),
        BTreeSet::from(["GUARD_FAILED:C7".to_owned()])
    );
    assert!(
        describe(&r).contains("đang bị kiểm tra hoặc xử lý kỷ luật"),
        "{}",
        describe(&r)
    );
    // Nothing of the confidential case (its title, its state) is in the reason.
    assert!(
        !describe(&r).contains("Kỷ luật đảng viên"),
        "{}",
        describe(&r)
    );
    // Nothing open about the member: the transfer goes through.
    let ok = complete(&case, subject_discipline(&[]), day).expect("no discipline open");
    assert_eq!(ok.to, "Transferred");
}

#[test]
fn c2_membership_is_not_transferred_while_a_discipline_is_in_force() {
    let day = d("2025-10-01");
    let case = transfer_case(day);
    let r = complete(
        &case,
        subject_discipline(&[open_discipline("InForce", true)]),
        day,
    )
    .expect_err("refused while in force");
    assert_eq!(
        reason_keys(&r),
        BTreeSet::from(["GUARD_FAILED:C2".to_owned()])
    );
    let text = describe(&r);
    assert!(text.contains("thời gian chấp hành kỷ luật"), "{text}");
    assert!(
        !text.contains("Kỷ luật đảng viên") && !text.contains("InForce"),
        "{text}"
    );
}

#[test]
fn c2_c7_a_shell_that_did_not_read_the_registry_gets_a_refusal_not_a_pass() {
    let day = d("2025-10-01");
    let case = transfer_case(day);
    let r = complete(&case, Values::new(), day).expect_err("no context, no transfer");
    assert!(
        r.reasons.iter().any(|x| x.code == RefusalCode::DataMissing),
        "{r:?}"
    );
    // A malformed context is no context: refused, not passed.
    let mut bad = Values::new();
    bad.insert(
        "subject_discipline".into(),
        Value::List(vec![Value::Text("garbage".into())]),
    );
    let r = complete(&case, bad, day).expect_err("a malformed context, no transfer");
    assert!(
        r.reasons.iter().any(|x| x.code == RefusalCode::DataMissing),
        "{r:?}"
    );
}

#[test]
fn d42_a_malformed_catalogue_entry_fails_the_check_of_the_sources() {
    use memberflow_workflow::engine::{ProblemCode, ShellChecks, Source, check_sources};
    // The catalogue is stated in R2016 and inherited by the layers after it (R2025b included).
    let dir = repo_root().join("schemas/rulesets");
    let files: Vec<(String, String)> = ["R2016", "R2021", "R2025a", "R2025a2", "R2025a3", "R2025b"]
        .iter()
        .map(|id| (format!("{id}.toml"), read(&dir.join(format!("{id}.toml")))))
        .collect();
    let good = &files[0].1;
    let bad = good.replacen(
        "\"69-41.2|69-QĐ/TW Điều 41 khoản 2|warning|",
        "\"69-41.2|69-QĐ/TW Điều 41 khoản 2|flogging|",
        1,
    );
    assert_ne!(good, &bad, "the entry to break is there");
    let sources: Vec<Source<'_>> = files
        .iter()
        .enumerate()
        .map(|(i, (name, text))| Source {
            name,
            text: if i == 0 { &bad } else { text },
        })
        .collect();
    let report = check_sources(
        &[],
        &sources,
        &ShellChecks {
            templates: None,
            cron: None,
        },
    );
    assert!(
        report.problems.iter().any(|p| p.file == "R2025b.toml"
            && p.problem.code == ProblemCode::InvalidValue
            && p.problem.message.contains("D42.violations")),
        "{:#?}",
        report.problems
    );
}

#[test]
fn c2_c7_only_the_definitions_that_read_the_registry_context_are_given_it() {
    assert!(definition("transfer").needs_registry_context());
    assert!(definition("discipline_member").needs_registry_context());
    assert!(!definition("removal").needs_registry_context());
    let admission =
        Definition::from_toml_str(&read(&repo_root().join("schemas/workflows/admission.toml")))
            .unwrap();
    assert!(!admission.needs_registry_context());
}
