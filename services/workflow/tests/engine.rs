//! Tests of the workflow engine's pure core.
//!
//! Most tests are data: a scenario (which definition, the steps to fire, what to expect) run by
//! one `check` helper, which also asserts the engine's invariants on every step (a refused event
//! changes nothing, an accepted one moves to a declared state and records its rule set). Tests
//! that check a rule are named after its id in the rulebook (docs/rules-coverage.md). Property tests drive random
//! event sequences through every definition; one test validates every file under `schemas/`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use memberflow_workflow::calendar::WorkingCalendar;
use memberflow_workflow::engine::context::{VoteExclusions, subject_discipline};
use memberflow_workflow::engine::{
    Actor, AvailabilityStatus, CaseSnapshot, CheckOptions, Decision, Definition, Effect, Event,
    InputType, MigrationBlocker, MigrationChange, Notice, ProblemCode, Refusal, RefusalCode,
    RoleRef, RuleBook, RuleSet, RuleSetSelection, Severity, ShellChecks, Source, Value, Values,
    available, check_sources, fire, open, plan_migration,
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

fn toml_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.display().to_string(), read(&p)))
        .collect();
    files.sort();
    files
}

fn rule_book() -> RuleBook {
    let files = toml_files(&repo_root().join("schemas/rulesets"));
    RuleBook::from_toml_strs(files.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .unwrap_or_else(|ps| panic!("rule sets do not load: {ps:#?}"))
}

fn definition(name: &str) -> Definition {
    let path = if name == "admission" {
        repo_root().join("schemas/workflows/admission.toml")
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/{name}.toml"))
    };
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
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

/// The admission happy path, in order.
const HAPPY_PATH: &[&str] = &[
    "open",
    "record_awareness_certificate",
    "file_application",
    "draft_history",
    "start_verification",
    "conclude_verification",
    "record_introducers",
    "collect_opinions",
    "branch_vote",
    "grassroots_review",
    "submit_to_competent",
    "decide_admission",
    "hold_ceremony",
    "file_member_history",
    "open_recognition_vote",
    "recognition_vote",
    "recognise",
];

fn admission_defaults() -> BTreeMap<String, toml::Table> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/admission_defaults.toml");
    toml::from_str(&read(&path)).expect("admission defaults")
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
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), to_value(v, today)))
        .collect()
}

fn gap_days(table: Option<&toml::Table>) -> u64 {
    table
        .and_then(|t| t.get("_gap_days"))
        .and_then(toml::Value::as_integer)
        .map_or(1, |g| u64::try_from(g).expect("non-negative gap"))
}

fn parse_role(s: &str) -> RoleRef {
    match s.split_once('@') {
        Some((role, level)) => RoleRef::at(role, RoleLevel::parse(level).expect("known level")),
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
// The `check` helper

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    definition: String,
    start: toml::value::Datetime,
    walk_until: Option<String>,
    #[serde(default)]
    walk_inputs: BTreeMap<String, toml::Table>,
    #[serde(default)]
    step: Vec<Step>,
    /// Text replacements `[from, to]` made in the committed rule-set files before they are
    /// loaded: a test flips a parameter's value and sees the decision change.
    #[serde(default)]
    rule_edits: Vec<[String; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    fire: String,
    on: Option<toml::value::Datetime>,
    gap_days: Option<u64>,
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
    #[serde(default)]
    expect_notice: Vec<String>,
    expect_rule_set: Option<String>,
    #[serde(default)]
    expect_fact: toml::Table,
    /// The exempted official members of the case's unit on the step's day (S15), as the shell
    /// would read them from the registry.
    exempted: Option<Vec<String>>,
    /// The official members of the case's unit living their party life temporarily elsewhere on
    /// the step's day, as the shell would read them. With `exempted`, the vote's exclusions
    /// (either given alone: the other is empty).
    #[serde(default)]
    away: Option<Vec<String>>,
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
    // Pure: the same call gives the same answer, and the case it was given is untouched.
    let again = match case {
        None => open(def, book, &cal, event, day),
        Some(case) => fire(def, book, &cal, case, event, day),
    };
    assert_eq!(result, again, "fire is not deterministic");
    assert_eq!(case.cloned(), before, "fire changed its input case");
    match &result {
        Ok(decision) => {
            let next = &decision.case;
            assert!(
                def.state(&next.state).is_some(),
                "undeclared state {}",
                next.state
            );
            assert_eq!(next.version, case.map_or(0, |c| c.version) + 1);
            let last = next.last_step.as_ref().expect("a step was recorded");
            assert_eq!(last.transition, event.transition);
            assert_eq!(last.rule_set, decision.rule_set);
            if case.is_none() {
                assert_eq!(
                    next.opened.as_ref(),
                    Some(last),
                    "the opening step is marked"
                );
            } else {
                assert_eq!(
                    next.opened,
                    case.and_then(|c| c.opened.clone()),
                    "the opening mark never moves"
                );
            }
            assert_eq!(last.on, day);
            if def.rule_set_selection == RuleSetSelection::EventDate {
                assert_eq!(
                    Some(last.rule_set.as_str()),
                    book.for_date(day).map(|s| s.id.as_str())
                );
            }
            for key in next.deadlines.keys() {
                let state = def.state(&next.state).expect("state");
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
                    assert!(
                        r.rule.is_some(),
                        "a failing guard must name its rule: {r:?}"
                    );
                }
            }
        }
    }
    result
}

/// Runs a scenario written in TOML (see the tests below for the format) and checks every
/// expectation, returning the final case.
fn check(scenario: &str) -> Option<CaseSnapshot> {
    let sc: Scenario = toml::from_str(scenario).unwrap_or_else(|e| panic!("bad scenario: {e}"));
    let def = definition(&sc.definition);
    let book = if sc.rule_edits.is_empty() {
        rule_book()
    } else {
        let mut files = toml_files(&repo_root().join("schemas/rulesets"));
        for [from, to] in &sc.rule_edits {
            let hits = files
                .iter()
                .filter(|(_, t)| t.contains(from.as_str()))
                .count();
            assert!(hits > 0, "no rule set contains {from:?}");
            for (_, t) in &mut files {
                *t = t.replace(from.as_str(), to);
            }
        }
        RuleBook::from_toml_strs(files.iter().map(|(n, s)| (n.as_str(), s.as_str())))
            .unwrap_or_else(|ps| panic!("edited rule sets do not load: {ps:#?}"))
    };
    let defaults = if sc.definition == "admission" {
        admission_defaults()
    } else {
        BTreeMap::new()
    };
    let mut day = d(&sc.start.to_string());
    let mut case: Option<CaseSnapshot> = None;
    let mut first = true;

    if let Some(until) = &sc.walk_until {
        assert!(
            HAPPY_PATH.contains(&until.as_str()),
            "walk_until must be on the happy path"
        );
        for t in HAPPY_PATH {
            let table = defaults.get(*t);
            if !first {
                day = day + Days::new(gap_days(table));
            }
            first = false;
            let mut inputs = table.map(|tb| inputs_from(tb, day)).unwrap_or_default();
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

    for step in &sc.step {
        day = match &step.on {
            Some(on) => d(&on.to_string()),
            None if first => day,
            None => {
                day + Days::new(
                    step.gap_days
                        .unwrap_or_else(|| gap_days(defaults.get(&step.fire))),
                )
            }
        };
        first = false;
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
        if step.exempted.is_some() || step.away.is_some() {
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
                let notices: Vec<String> =
                    decision.notices.iter().map(|n| format!("{n:?}")).collect();
                for want in &step.expect_notice {
                    assert!(
                        notices.iter().any(|n| n.contains(want.as_str())),
                        "{label}: no notice contains {want:?}; notices: {notices:?}"
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
// Files under schemas/

#[test]
fn every_schema_file_validates() {
    let defs = toml_files(&repo_root().join("schemas/workflows"));
    let sets = toml_files(&repo_root().join("schemas/rulesets"));
    assert!(defs.iter().any(|(n, _)| n.ends_with("admission.toml")));
    assert_eq!(
        sets.len(),
        6,
        "R2016, R2021, R2025a, R2025a2, R2025a3, R2025b"
    );
    let def_sources: Vec<Source<'_>> = defs
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let set_sources: Vec<Source<'_>> = sets
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let cron = |expr: &str| fake_cron(expr);
    let report = check_sources(
        &def_sources,
        &set_sources,
        &ShellChecks {
            templates: None,
            cron: Some(&cron),
        },
    );
    let errors: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.problem.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "errors:\n{}", errors.join("\n"));
    // The only warnings allowed: parameters deliberately left without a value (P5).
    for p in &report.problems {
        assert_eq!(
            p.problem.code,
            ProblemCode::ParameterUnset,
            "unexpected warning: {p}"
        );
        assert!(
            p.problem.message.contains("P5."),
            "unexpected unset parameter: {p}"
        );
    }
    assert_eq!(report.definitions.len(), defs.len());
    assert!(report.rules.is_some());
}

#[test]
fn every_non_terminal_state_of_every_schema_definition_reaches_a_terminal_one() {
    for (name, text) in toml_files(&repo_root().join("schemas/workflows")) {
        let def = Definition::from_toml_str(&text).unwrap_or_else(|ps| panic!("{name}: {ps:?}"));
        // An independent breadth-first search, rather than trusting the validator's own.
        for state in def.states.iter().filter(|s| !s.terminal) {
            let mut seen = BTreeSet::new();
            let mut queue = VecDeque::from([state.name.clone()]);
            let mut found = false;
            while let Some(s) = queue.pop_front() {
                if def.state(&s).is_some_and(|st| st.terminal) {
                    found = true;
                    break;
                }
                if seen.insert(s.clone()) {
                    queue.extend(def.transitions_from(&s).filter_map(|t| t.to.clone()));
                }
            }
            assert!(
                found,
                "{name}: no terminal state is reachable from {}",
                state.name
            );
        }
        assert!(def.states_without_exit_path().is_empty());
    }
}

#[test]
fn every_rule_set_has_every_parameter_the_guards_read() {
    let book = rule_book();
    assert_eq!(book.sets().len(), 6);
    for p in book.check_guard_parameters() {
        assert_eq!(p.severity, Severity::Warning, "{p}");
    }
}

#[test]
fn s_and_m_rules_are_documented_parameters_with_their_tag_and_source() {
    for set in rule_book().sets() {
        for p in set.params() {
            assert!(
                p.id.starts_with(&format!("{}.", p.rule)),
                "{}: {}",
                set.id,
                p.id
            );
            assert!(
                !p.source.trim().is_empty() && !p.doc.trim().is_empty(),
                "{}: {}",
                set.id,
                p.id
            );
            if p.value.is_none() {
                assert_eq!(
                    p.tag,
                    memberflow_workflow::engine::Tag::M,
                    "only [M] may lack a value: {}",
                    p.id
                );
            }
        }
    }
}

#[test]
fn rule_books_select_by_date_at_the_boundaries() {
    let book = rule_book();
    let id = |s: &str| book.for_date(d(s)).map(|r| r.id.clone());
    assert_eq!(id("2016-07-24"), None);
    assert_eq!(id("2016-07-25").as_deref(), Some("R2016"));
    assert_eq!(id("2021-07-29").as_deref(), Some("R2016"));
    assert_eq!(id("2021-07-30").as_deref(), Some("R2021"));
    assert_eq!(id("2025-01-19").as_deref(), Some("R2021"));
    assert_eq!(id("2025-01-20").as_deref(), Some("R2025a"));
    // Issue #15: R2025a ends the day before 296-QĐ/TW (30/5/2025); 08-HD/TW from 10/6/2025.
    assert_eq!(id("2025-05-29").as_deref(), Some("R2025a"));
    assert_eq!(id("2025-05-30").as_deref(), Some("R2025a2"));
    assert_eq!(id("2025-06-09").as_deref(), Some("R2025a2"));
    assert_eq!(id("2025-06-10").as_deref(), Some("R2025a3"));
    assert_eq!(id("2025-06-30").as_deref(), Some("R2025a3"));
    assert_eq!(id("2025-07-01").as_deref(), Some("R2025b"));
    assert_eq!(id("2040-01-01").as_deref(), Some("R2025b"));
}

#[test]
fn overlapping_rule_sets_are_reported() {
    let a = "id = \"A\"\nvalid_from = 2020-01-01\nvalid_to = 2021-01-01\n";
    let b = "id = \"B\"\nvalid_from = 2020-06-01\n";
    let c = "id = \"C\"\nvalid_from = 2022-01-01\n";
    let err = RuleBook::from_toml_strs([("a", a), ("b", b), ("c", c)]).expect_err("overlap");
    let codes: Vec<ProblemCode> = err.iter().map(|p| p.code).collect();
    assert_eq!(
        codes,
        vec![
            ProblemCode::OverlappingRuleSets,
            ProblemCode::OverlappingRuleSets
        ],
        "{err:#?}"
    );
}

#[test]
fn a_broken_rule_set_reports_every_problem_at_once() {
    let src = r#"
id = "X"
valid_from = 2025-07-01
valid_to = 2025-01-01
surprise = 1

[[param]]
id = "E1.min_age"
rule = "E1"
tag = "Q"
kind = "period"
value = { fortnights = 3 }
source = "s"
doc = "d"

[[param]]
id = "A8.vote_threshold"
rule = "A8"
tag = "V"
kind = "threshold"
source = "s"
doc = "d"

[[param]]
id = "wrong.prefix"
rule = "eight"
tag = "S"
kind = "colour"
value = 1
doc = "d"
"#;
    let problems = RuleSet::from_toml_str(src).expect_err("broken");
    let codes: BTreeSet<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    let want: BTreeSet<&str> = [
        "BAD_VALIDITY",
        "UNKNOWN_FIELD",
        "INVALID_VALUE",
        "MISSING_FIELD",
        "BAD_RULE_ID",
    ]
    .into();
    assert_eq!(codes, want, "{problems:#?}");
    // Each parameter's problems are all there: the bad tag and the bad period of E1.min_age, the
    // missing value of a [V] parameter, and three problems of the last one.
    assert!(problems.len() >= 8, "{problems:#?}");
}

// ---------------------------------------------------------------------------------------------
// Definitions: validation

fn fake_cron(expr: &str) -> Result<(), String> {
    // Stands in for the `cron` crate the shell passes: six or seven fields.
    let n = expr.split_whitespace().count();
    if n == 6 || n == 7 {
        Ok(())
    } else {
        Err(format!("expected 6 or 7 fields, found {n}"))
    }
}

#[test]
fn a_broken_definition_reports_all_its_problems_at_once() {
    let src = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken.toml"));
    let problems = Definition::from_toml_str(&src).expect_err("broken definition");
    let got: BTreeSet<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    let want: BTreeSet<&str> = [
        "UNKNOWN_FIELD",
        "INVALID_VALUE",
        "UNKNOWN_LEVEL",
        "DUPLICATE_STATE",
        "BAD_PERIOD",
        "UNREACHABLE_STATE",
        "NO_PATH_TO_TERMINAL",
        "UNKNOWN_GUARD",
        "UNKNOWN_INPUT_TYPE",
        "DUPLICATE_TRANSITION",
        "UNKNOWN_STATE",
        "TERMINAL_STATE_HAS_EXIT",
        "NO_ACTOR",
    ]
    .into();
    assert_eq!(
        got,
        want,
        "{}",
        problems
            .iter()
            .map(|p| format!("{p}\n"))
            .collect::<String>()
    );
    // Every message names its place.
    for p in &problems {
        assert!(!p.place.is_empty() && !p.message.is_empty(), "{p}");
    }
    assert!(
        problems
            .iter()
            .any(|p| p.code == ProblemCode::UnknownState && p.message.contains("Nowhere"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.code == ProblemCode::UnreachableState && p.place.contains("Island"))
    );
}

#[test]
fn templates_and_cron_expressions_are_checked_with_what_the_shell_knows() {
    let src = r#"
id = "mail"
version = 1
[open]
to = "A"
by = [{ role = "clerk" }]
effect = [{ kind = "send_mail", template = "known", to = { role = "clerk" } }]
[[state]]
name = "A"
[[state.reminder]]
key = "nag"
template = "missing.reminder"
to = { role = "clerk" }
cron = "every day"
[[state]]
name = "B"
terminal = true
[[transition]]
name = "done"
from = ["A"]
to = "B"
by = [{ role = "clerk" }]
effect = [{ kind = "send_mail", template = "missing.mail", to = { role = "clerk" } }]
"#;
    let def = Definition::from_toml_str(src).expect("structurally valid");
    assert_eq!(
        def.templates_used(),
        vec!["known", "missing.mail", "missing.reminder"]
    );
    let cron = |e: &str| fake_cron(e);
    let problems = def.check(&CheckOptions::new().templates(&["known"]).cron(&cron));
    let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "UNKNOWN_TEMPLATE").count(),
        2,
        "{problems:#?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "BAD_CRON").count(),
        1,
        "{problems:#?}"
    );
    // Without the shell's knowledge nothing outside is checked.
    assert!(def.check(&CheckOptions::new()).is_empty());
}

#[test]
fn definitions_are_checked_against_every_rule_set() {
    let src = r#"
id = "params"
version = 1
[open]
to = "A"
by = [{ role = "clerk" }]
[[state]]
name = "A"
[[state.deadline]]
key = "d"
rule = "A10"
period = { param = "A10.no_such_parameter" }
[[state.deadline]]
key = "e"
rule = "P5"
period = { param = "P5.appeal_resolution_period" }
[[state.deadline]]
key = "f"
rule = "A13"
period = { param = "A13.probation_period" }
[[state]]
name = "B"
terminal = true
[[transition]]
name = "done"
from = ["A"]
to = "B"
by = [{ role = "clerk" }]
"#;
    let def = Definition::from_toml_str(src).expect("structurally valid");
    let book = rule_book();
    let problems = def.check(&CheckOptions::new().rules(&book));
    let unknown = problems
        .iter()
        .filter(|p| p.code == ProblemCode::UnknownParameter)
        .count();
    let unset = problems
        .iter()
        .filter(|p| p.code == ProblemCode::ParameterUnset)
        .count();
    // One of each per rule set.
    assert_eq!(
        (unknown, unset, problems.len()),
        (6, 6, 12),
        "{problems:#?}"
    );
}

#[test]
fn guard_data_must_be_provided_by_some_transition() {
    let src = r#"
id = "g"
version = 1
[open]
to = "A"
by = [{ role = "clerk" }]
input = [{ name = "votes_for", type = "string" }]
[[state]]
name = "A"
[[state]]
name = "B"
terminal = true
[[transition]]
name = "vote"
from = ["A"]
to = "B"
by = [{ role = "clerk" }]
guards = ["branch_vote_two_thirds", "age_at_branch_vote"]
"#;
    let problems = Definition::from_toml_str(src).expect_err("guard data missing");
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        problems
            .iter()
            .all(|p| p.code == ProblemCode::GuardDataUnavailable),
        "{messages:#?}"
    );
    // votes_for has the wrong type; official_members and date_of_birth are provided nowhere.
    assert_eq!(problems.len(), 3, "{messages:#?}");
}

#[test]
fn admission_definition_declares_the_a1_to_a15_pipeline() {
    let def = definition("admission");
    for s in [
        "Candidate",
        "AwarenessCourseDone",
        "ApplicationFiled",
        "HistoryDrafted",
        "VerificationInProgress",
        "Verified",
        "IntroducersRecorded",
        "OpinionsCollected",
        "BranchVoted",
        "GrassrootsReviewed",
        "DecisionPending",
        "Admitted",
        "CeremonyHeld",
        "Probation",
        "RecognitionVote",
        "RecognitionPending",
        "Official",
        "StruckOff",
    ] {
        assert!(def.state(s).is_some(), "missing state {s}");
    }
    let terminal: BTreeSet<&str> = def
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        terminal,
        ["Official", "Rejected", "StruckOff", "Withdrawn"].into()
    );
    assert_eq!(def.initial_state(), "Candidate");
    let vote = def.transition("branch_vote").expect("branch_vote");
    assert!(matches!(
        vote.input("votes_for").map(|i| &i.ty),
        Some(InputType::Integer { min: Some(0), .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// E: eligibility

#[test]
fn e1_applicant_under_18_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { date_of_birth = 2007-11-20 }

[[step]]
fire = "branch_vote"
on = 2025-09-03
expect_refused = ["GUARD_FAILED:E1"]
expect_vi = ["chưa đủ 18 tuổi tại ngày chi bộ xét kết nạp (E1)", "còn thiếu 3 tháng"]
expect_en = ["not yet 18 years old"]
"#,
    );
}

#[test]
fn e1_applicant_turning_18_on_the_day_of_the_vote_is_accepted() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { date_of_birth = 2007-09-03 }

[[step]]
fire = "branch_vote"
on = 2025-09-03
expect_state = "BranchVoted"

[[step]]
fire = "grassroots_review"
expect_state = "GrassrootsReviewed"
"#,
    );
}

#[test]
fn e1_age_is_counted_at_the_branch_vote_date_not_the_recording_date() {
    // The vote took place when the applicant was 17; recording it later does not help.
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { date_of_birth = 2007-09-10 }

[[step]]
fire = "branch_vote"
on = 2025-09-20
inputs = { branch_vote_date = 2025-09-03 }
expect_refused = ["GUARD_FAILED:E1"]
expect_vi = ["còn thiếu 1 tháng"]
"#,
    );
}

#[test]
fn e2_e3_applicant_over_60_needs_province_written_consent_before_the_decision() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "submit_to_competent"
walk_inputs.open = { date_of_birth = 1963-01-15 }

[[step]]
fire = "decide_admission"
expect_refused = ["GUARD_FAILED:E3"]
expect_vi = ["trên 60 tuổi", "đồng ý bằng văn bản"]

[[step]]
fire = "record_province_consent"
inputs = { province_consent_date = 2025-09-20, province_consent_ref = "55-CV/TU" }
expect_state = "DecisionPending"
expect_fact = { province_consent_ref = "55-CV/TU" }

[[step]]
fire = "decide_admission"
expect_state = "Admitted"
"#,
    );
}

#[test]
fn e3_consent_dated_after_the_decision_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "submit_to_competent"
walk_inputs.open = { date_of_birth = 1963-01-15 }

[[step]]
fire = "record_province_consent"
inputs = { province_consent_date = 2025-12-01, province_consent_ref = "55-CV/TU" }

[[step]]
fire = "decide_admission"
on = 2025-10-01
expect_refused = ["GUARD_FAILED:E3"]
expect_vi = ["phải có trước ngày quyết định kết nạp"]
"#,
    );
}

#[test]
fn e4_applicant_without_lower_secondary_diploma_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { education_level = "primary" }

[[step]]
fire = "branch_vote"
expect_refused = ["GUARD_FAILED:E4"]
expect_vi = ["bằng tốt nghiệp trung học cơ sở trở lên (E4)"]
"#,
    );
}

#[test]
fn e4_hardship_area_exception_is_accepted() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { education_level = "primary", education_exception = true }

[[step]]
fire = "branch_vote"
expect_state = "BranchVoted"
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// A: admission steps

#[test]
fn a2_certificate_older_than_60_months_at_the_branch_vote_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.record_awareness_certificate = { certificate_date = 2020-08-15 }

[[step]]
fire = "branch_vote"
on = 2025-09-03
expect_refused = ["GUARD_FAILED:A2"]
expect_vi = ["đã hết hạn ngày 15/08/2025", "học lại"]
"#,
    );
}

#[test]
fn a2_certificate_exactly_60_months_old_at_the_vote_is_still_valid() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.record_awareness_certificate = { certificate_date = 2020-09-03 }

[[step]]
fire = "branch_vote"
on = 2025-09-03
expect_state = "BranchVoted"
"#,
    );
}

#[test]
fn a2_certificate_expiry_runs_as_a_deadline_and_a_renewed_certificate_moves_it() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "record_awareness_certificate"

[[step]]
fire = "file_application"
expect_state = "ApplicationFiled"
expect_deadline = { awareness_certificate = 2030-06-10 }
# carried over from the previous state, not rescheduled
expect_no_effect = ["ScheduleDeadline", "CancelDeadline", "CancelReminder"]

[[step]]
fire = "renew_awareness_certificate"
inputs = { certificate_date = 2025-08-20 }
expect_state = "ApplicationFiled"
expect_deadline = { awareness_certificate = 2030-08-20 }
expect_effect = ["ScheduleDeadline { key: \"awareness_certificate\", rule: \"A2\", due: 2030-08-20", "ScheduleReminder { key: \"awareness_certificate_warning\""]
"#,
    );
}

#[test]
fn a5_verification_that_does_not_meet_the_standard_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "start_verification"

[[step]]
fire = "conclude_verification"
inputs = { verification_conclusion = "does_not_meet" }
expect_refused = ["GUARD_FAILED:A5"]

[[step]]
fire = "reject_after_verification"
defaults = false
inputs = { verification_report_date = 2025-08-30, rejection_reason = "E5" }
expect_state = "Rejected"
"#,
    );
}

#[test]
fn a6_introducer_who_worked_with_the_applicant_less_than_12_months_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "conclude_verification"

[[step]]
fire = "record_introducers"
on = 2025-08-26
inputs = { introducer_2_since = 2025-01-10 }
expect_refused = ["GUARD_FAILED:A6"]
expect_vi = ["mới cùng công tác, sinh hoạt với người vào Đảng 7 tháng", "chưa đủ 12 tháng (A6)"]
"#,
    );
}

#[test]
fn a6_one_introducer_alone_is_refused_and_every_problem_is_listed() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "conclude_verification"

[[step]]
fire = "record_introducers"
remove = ["introducer_2", "introducer_2_official", "introducer_2_since"]
inputs = { introducer_1_official = false }
expect_refused = ["GUARD_FAILED:A6"]
expect_vi = ["phải là đảng viên chính thức (A6)", "hiện mới có 1"]
"#,
    );
}

#[test]
fn a6_youth_union_may_stand_for_one_introducer() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "conclude_verification"

[[step]]
fire = "record_introducers"
remove = ["introducer_2", "introducer_2_official", "introducer_2_since"]
inputs = { organisation_introducer = "youth_union", youth_union_present = true }
expect_state = "IntroducersRecorded"
"#,
    );
}

#[test]
fn a6_applicant_of_youth_age_where_the_youth_union_exists_must_be_introduced_by_it() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "conclude_verification"
walk_inputs.open = { date_of_birth = 2000-01-01 }

[[step]]
fire = "record_introducers"
inputs = { youth_union_present = true }
expect_refused = ["GUARD_FAILED:A6"]
expect_vi = ["Ban Chấp hành Đoàn cơ sở"]
"#,
    );
}

#[test]
fn a8_vote_below_two_thirds_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 5, official_members = 9 }
expect_refused = ["GUARD_FAILED:A8"]
expect_vi = ["ít nhất 2/3", "có 5/9", "cần ít nhất 6 phiếu"]
"#,
    );
}

#[test]
fn a8_exactly_two_thirds_is_accepted() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 6, official_members = 9 }
expect_state = "BranchVoted"
"#,
    );
}

#[test]
fn a8_denominator_leaves_out_members_elsewhere_and_exempted_absent_members_only() {
    // 7 of 12 fails; 7 of 12 less 2 exclusions (7/10 ≥ 2/3) passes.
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 7, official_members = 12 }
expect_refused = ["GUARD_FAILED:A8"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 7, official_members = 12, excluded_members = 2 }
expect_state = "BranchVoted"
"#,
    );
}

#[test]
fn s15_a8_the_registry_exempted_leave_the_denominator_unless_present() {
    // 7 of 12 fails; with 2 members exempted on the registry, 7 of 10 passes without any
    // count typed in; a typed count that disagrees with the registry is refused with its own
    // code; an exempted member present is counted back (7 of 11 < 2/3).
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 7, official_members = 12 }
exempted = []
expect_refused = ["GUARD_FAILED:A8"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 7, official_members = 12, exempted_members = 1 }
exempted = ["m1", "m2"]
expect_refused = ["EXEMPTION_COUNT_MISMATCH:S15"]
expect_vi = ["khác với sổ đảng viên"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 7, official_members = 12, exempted_present = 1 }
exempted = ["m1", "m2"]
expect_refused = ["GUARD_FAILED:A8"]
expect_vi = ["trừ 0 người sinh hoạt tạm thời nơi khác và 1 người được miễn sinh hoạt vắng mặt"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 7, official_members = 12, exempted_present = 3 }
exempted = ["m1", "m2"]
expect_refused = ["GUARD_FAILED:A8"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 7, official_members = 12, exempted_members = 2 }
exempted = ["m1", "m2"]
expect_state = "BranchVoted"
"#,
    );
}

#[test]
fn s15_a8_exempted_and_living_elsewhere_both_leave_the_denominator() {
    // 6 of 12: less 1 living elsewhere and 2 exempted (both from the registry), 6 of 9 = 2/3.
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 6, official_members = 12 }
away = ["a1"]
exempted = ["m1"]
expect_refused = ["GUARD_FAILED:A8"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 6, official_members = 12, excluded_members = 1 }
away = ["a1"]
exempted = ["m1", "m2"]
expect_state = "BranchVoted"
"#,
    );
}

#[test]
fn a8_the_registry_members_away_leave_the_denominator_and_a_typed_count_must_agree() {
    // 8 of 13 fails (< 2/3); with 1 member away on the registry on the vote's date, 8 of 12
    // passes without any count typed in. A typed count that disagrees with the registry is
    // refused with its own code naming the vote's rule; a member both away and exempted is
    // left out once.
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 8, official_members = 13 }
away = []
expect_refused = ["GUARD_FAILED:A8"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 8, official_members = 13, excluded_members = 2 }
away = ["a1"]
expect_refused = ["TEMPORARY_ACTIVITY_COUNT_MISMATCH:A8"]
expect_vi = ["khác với sổ đảng viên"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 8, official_members = 14 }
away = ["a1"]
exempted = ["a1"]
expect_refused = ["GUARD_FAILED:A8"]

[[step]]
fire = "branch_vote"
gap_days = 0
inputs = { votes_for = 8, official_members = 13 }
away = ["a1"]
expect_state = "BranchVoted"
"#,
    );
}

#[test]
fn a8_more_votes_than_members_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 11, official_members = 10 }
expect_refused = ["GUARD_FAILED:A8"]
expect_vi = ["nhiều hơn số thành viên được tính"]
"#,
    );
}

#[test]
fn a9_delegated_grassroots_committee_needs_two_thirds_of_its_members() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "branch_vote"

[[step]]
fire = "grassroots_review"
inputs = { grassroots_delegated = true, committee_votes_for = 4, committee_members = 7 }
expect_refused = ["GUARD_FAILED:A9"]
expect_vi = ["có 4/7", "cần ít nhất 5 phiếu"]

[[step]]
fire = "grassroots_review"
gap_days = 0
inputs = { grassroots_delegated = true }
expect_refused = ["GUARD_FAILED:A9"]

[[step]]
fire = "grassroots_review"
gap_days = 0
inputs = { grassroots_delegated = true, committee_votes_for = 5, committee_members = 7 }
expect_state = "GrassrootsReviewed"
"#,
    );
}

#[test]
fn a10_decision_deadline_is_60_working_days_from_the_branch_vote() {
    // Branch vote on Wednesday 3/9/2025; 60 working days later (weekends only) is 26/11/2025.
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
on = 2025-09-03
expect_deadline = { admission_decision = 2025-11-26 }
expect_effect = ["ScheduleDeadline { key: \"admission_decision\", rule: \"A10\", due: 2025-11-26"]

[[step]]
fire = "grassroots_review"
expect_deadline = { admission_decision = 2025-11-26 }

[[step]]
fire = "submit_to_competent"
expect_deadline = { admission_decision = 2025-11-26 }
expect_effect = ["ScheduleReminder { key: \"admission_decision_soon\"", "at: 2025-11-12"]
"#,
    );
}

#[test]
fn a10_extension_adds_30_working_days_once() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "submit_to_competent"

[[step]]
fire = "extend_admission_deadline"
inputs = { extension_reason = "Chờ kết quả thẩm tra bổ sung" }
expect_state = "DecisionPending"
expect_deadline = { admission_decision = 2026-01-07 }
expect_effect = ["extended: true"]

[[step]]
fire = "extend_admission_deadline"
inputs = { extension_reason = "again" }
expect_refused = ["DEADLINE_NOT_EXTENDABLE:A10"]
expect_vi = ["đã được gia hạn một lần"]
"#,
    );
}

#[test]
fn a10_late_decision_is_accepted_and_reported() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "submit_to_competent"

[[step]]
fire = "decide_admission"
on = 2025-12-15
expect_state = "Admitted"
expect_notice = ["LeftAfterDeadline { key: \"admission_decision\", rule: \"A10\", due: 2025-11-26 }"]
expect_effect = ["CancelDeadline { key: \"admission_decision\" }", "CancelReminder { key: \"admission_decision_soon\" }"]
"#,
    );
}

#[test]
fn a11_ceremony_later_than_30_working_days_needs_the_superior_committees_consent() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "decide_admission"

[[step]]
fire = "hold_ceremony"
on = 2025-12-01
expect_refused = ["GUARD_FAILED:A11"]
expect_vi = ["quá thời hạn 30 ngày làm việc", "cấp ủy cấp trên trực tiếp đồng ý"]

[[step]]
fire = "hold_ceremony"
on = 2025-12-01
inputs = { superior_consent_date = 2025-11-20 }
expect_state = "CeremonyHeld"
"#,
    );
}

#[test]
fn a11_a13_ceremony_starts_probation_and_schedules_the_a12_file() {
    // Decision on 25/9/2025 (Thursday), ceremony on 5/10/2025.
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "decide_admission"

[[step]]
fire = "hold_ceremony"
on = 2025-10-05
expect_state = "CeremonyHeld"
expect_fact = { probation_end = 2026-10-05 }
expect_effect = ["RecordCeremony { ceremony_date: 2025-10-05, probation_end: 2026-10-05 }", "SetMemberStatus { status: Probationary }", "CancelDeadline { key: \"ceremony\" }"]
expect_deadline = { member_history = 2025-11-14 }
"#,
    );
}

#[test]
fn a13_recognition_before_the_end_of_probation_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "file_member_history"

[[step]]
fire = "open_recognition_vote"
on = 2026-09-30
expect_refused = ["GUARD_FAILED:A13"]
expect_vi = ["chưa hết thời kỳ dự bị 12 tháng", "05/10/2026"]

[[step]]
fire = "open_recognition_vote"
on = 2026-10-05
expect_state = "RecognitionVote"
expect_deadline = { recognition_vote = 2026-11-16 }
"#,
    );
}

#[test]
fn a13_probation_deadline_escalates_to_the_recognition_vote() {
    let case = check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "file_member_history"
"#,
    )
    .expect("a case");
    let rec = case.deadlines.get("probation").expect("probation deadline");
    assert_eq!(rec.due, d("2026-10-05"));
    assert_eq!(rec.rule, "A13");
    assert_eq!(
        rec.on_expiry,
        memberflow_workflow::engine::OnExpiry::Escalate {
            transition: "open_recognition_vote".into()
        }
    );
    // The scheduler fires it as `system` the day after.
    let def = definition("admission");
    let decision = fire(
        &def,
        &rule_book(),
        &calendar(),
        &case,
        &Event::new("open_recognition_vote", Actor::system()),
        d("2026-10-06"),
    )
    .expect("escalation accepted");
    assert_eq!(decision.to, "RecognitionVote");
}

#[test]
fn a14_official_membership_takes_effect_at_the_end_of_probation_not_the_decision_date() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "recognition_vote"

[[step]]
fire = "recognise"
on = 2027-01-20
expect_state = "Official"
expect_effect = ["RecordRecognition { official_from: 2026-10-05 }", "SetMemberStatus { status: Official }"]
expect_notice = ["LeftAfterDeadline { key: \"recognition_decision\""]
"#,
    );
}

#[test]
fn a14_recognition_vote_below_two_thirds_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "open_recognition_vote"

[[step]]
fire = "recognition_vote"
inputs = { votes_for = 6, official_members = 10 }
expect_refused = ["GUARD_FAILED:A14"]
expect_vi = ["công nhận đảng viên chính thức", "cần ít nhất 7 phiếu"]
"#,
    );
}

#[test]
fn a14_after_three_inconclusive_votes_the_competent_committee_decides() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "open_recognition_vote"

[[step]]
fire = "escalate_recognition"
defaults = false
inputs = { escalated_on = 2026-10-12 }
expect_refused = ["GUARD_FAILED:A14"]
expect_vi = ["mới biểu quyết 0 lần"]

[[step]]
fire = "recognition_vote_inconclusive"
inputs = { recognition_vote_date = "today", votes_for = 6, official_members = 10 }
expect_fact = { recognition_vote_rounds = 1 }

[[step]]
fire = "recognition_vote_inconclusive"
inputs = { recognition_vote_date = "today", votes_for = 6, official_members = 10 }

[[step]]
fire = "recognition_vote_inconclusive"
inputs = { recognition_vote_date = "today", votes_for = 5, official_members = 10 }
expect_state = "RecognitionVote"
expect_fact = { recognition_vote_rounds = 3 }

[[step]]
fire = "recognition_vote_inconclusive"
inputs = { recognition_vote_date = "today", votes_for = 5, official_members = 10 }
expect_refused = ["GUARD_FAILED:A14"]
expect_vi = ["đã biểu quyết 3 lần"]

[[step]]
fire = "escalate_recognition"
defaults = false
inputs = { escalated_on = "today" }
expect_state = "RecognitionPending"

[[step]]
fire = "strike_off"
defaults = false
inputs = { decision_date = "today", decision_number = "9-QĐ", strike_off_reason = "A14" }
expect_state = "StruckOff"
expect_effect = ["RecordStrikeOff", "SetMemberStatus { status: StruckOff }"]
"#,
    );
}

#[test]
fn a15_party_age_counts_from_the_decision_date() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "submit_to_competent"

[[step]]
fire = "decide_admission"
on = 2025-09-25
expect_state = "Admitted"
expect_effect = ["RecordAdmissionDecision { decision_date: 2025-09-25, party_age_from: 2025-09-25 }"]
expect_deadline = { ceremony = 2025-11-06 }
"#,
    );
}

#[test]
fn a16_readmission_within_36_months_of_leaving_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { readmission = true, left_party_date = 2023-01-10, left_reason = "struck_off_other" }

[[step]]
fire = "branch_vote"
on = 2025-09-03
expect_refused = ["GUARD_FAILED:A16"]
expect_vi = ["ít nhất 36 tháng", "mới được 31 tháng"]
"#,
    );
}

#[test]
fn a16_a17_every_readmission_bar_is_listed() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { readmission = true, left_party_date = 2020-01-10, left_reason = "corruption_conviction", conviction_expunged_date = 2024-01-01 }

[[step]]
fire = "branch_vote"
expect_refused = ["GUARD_FAILED:A16", "GUARD_FAILED:A17"]
expect_vi = ["tham nhũng (A17)", "xóa án tích ít nhất 60 tháng"]
"#,
    );
}

#[test]
fn every_failing_guard_is_listed_with_its_rule() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { date_of_birth = 2008-01-01, education_level = "primary" }
walk_inputs.record_awareness_certificate = { certificate_date = 2019-01-01 }

[[step]]
fire = "branch_vote"
inputs = { votes_for = 1 }
expect_refused = ["GUARD_FAILED:E1", "GUARD_FAILED:E4", "GUARD_FAILED:A2", "GUARD_FAILED:A8"]
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// Inputs, roles, states

#[test]
fn bad_inputs_are_all_reported_as_validation() {
    let def = definition("admission");
    let book = rule_book();
    let case = check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
"#,
    )
    .expect("a case");
    let event = Event::new("branch_vote", actor_for(&def, "branch_vote"))
        .with("branch_vote_date", "3/9/2025")
        .with("votes_for", -1_i64)
        .with("official_members", "ten")
        .with("favourite_colour", "red");
    let refusal =
        fire(&def, &book, &calendar(), &case, &event, d("2025-09-03")).expect_err("bad inputs");
    let keys = reason_keys(&refusal);
    let want: BTreeSet<String> = [
        "INPUT_TYPE:branch_vote_date",
        "INPUT_INVALID:votes_for",
        "INPUT_TYPE:official_members",
        "INPUT_UNKNOWN:favourite_colour",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(keys, want, "{}", describe(&refusal));
    assert!(refusal.is_validation());
    assert!(
        refusal
            .reasons
            .iter()
            .any(|r| r.reason_vi.contains("Ngày chi bộ họp xét kết nạp"))
    );

    let refusal = fire(
        &def,
        &book,
        &calendar(),
        &case,
        &Event::new("branch_vote", actor_for(&def, "branch_vote")),
        d("2025-09-03"),
    )
    .expect_err("missing inputs");
    let keys = reason_keys(&refusal);
    assert!(
        keys.contains("INPUT_MISSING:votes_for") && keys.contains("INPUT_MISSING:branch_vote_date"),
        "{keys:?}"
    );
    assert!(
        refusal
            .reasons
            .iter()
            .any(|r| r.reason_vi.starts_with("Thiếu thông tin bắt buộc"))
    );
}

#[test]
fn dates_given_as_iso_text_are_accepted() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
inputs = { branch_vote_date = "2025-09-03" }
expect_state = "BranchVoted"
expect_deadline = { admission_decision = 2025-11-26 }
"#,
    );
}

#[test]
fn enum_inputs_reject_unlisted_values() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "start_verification"

[[step]]
fire = "conclude_verification"
inputs = { verification_conclusion = "probably_fine" }
expect_refused = ["INPUT_INVALID:verification_conclusion"]
expect_vi = ["chọn một trong: meets_standard, does_not_meet"]
"#,
    );
}

#[test]
fn an_actor_without_an_allowed_role_is_refused() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "submit_to_competent"

[[step]]
fire = "decide_admission"
as = ["secretary@branch", "standing_committee@grassroots"]
expect_refused = ["NOT_PERMITTED"]
expect_vi = ["standing_committee@competent"]
"#,
    );
}

#[test]
fn a_transition_from_another_state_is_refused_with_every_other_reason() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "open"

[[step]]
fire = "branch_vote"
inputs = { votes_for = 1 }
expect_refused = ["WRONG_STATE", "GUARD_FAILED:A8", "DATA_MISSING:A2"]
expect_vi = ["chỉ thực hiện được khi hồ sơ ở trạng thái «Đã lấy ý kiến đoàn thể và chi ủy nơi cư trú»"]
"#,
    );
}

#[test]
fn a_closed_case_refuses_everything() {
    check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "open"

[[step]]
fire = "withdraw"
inputs = { withdrawn_on = "today", withdrawal_reason = "Chuyển công tác" }
expect_state = "Withdrawn"
expect_effect = []

[[step]]
fire = "record_awareness_certificate"
expect_refused = ["CASE_CLOSED"]

[[step]]
fire = "no_such_step"
expect_refused = ["UNKNOWN_TRANSITION:no_such_step"]
"#,
    );
}

#[test]
fn opening_needs_the_open_transition() {
    let def = definition("toy");
    let book = rule_book();
    let refusal = open(
        &def,
        &book,
        &calendar(),
        &Event::new("submit", actor_for(&def, "open")),
        d("2025-08-01"),
    )
    .expect_err("not open");
    assert_eq!(refusal.codes(), vec![RefusalCode::UnknownTransition]);
}

// ---------------------------------------------------------------------------------------------
// Rule sets and definition versions on a case

#[test]
fn each_step_records_its_rule_set_and_a_change_is_reported() {
    let case = check(
        r#"
definition = "admission"
start = 2025-05-20
walk_until = "collect_opinions"

[[step]]
fire = "branch_vote"
on = 2025-06-30
expect_rule_set = "R2025a3"

[[step]]
fire = "grassroots_review"
on = 2025-07-01
expect_rule_set = "R2025b"
expect_notice = ["RuleSetChanged { previous: \"R2025a3\", current: \"R2025b\" }"]
"#,
    )
    .expect("a case");
    assert_eq!(case.opening_rule_set(), Some("R2025a"));
    assert_eq!(case.current_rule_set(), Some("R2025b"));
    // The A10 deadline computed under R2025a3 keeps its rule set.
    assert_eq!(
        case.deadlines
            .get("admission_decision")
            .map(|r| r.rule_set.as_str()),
        Some("R2025a3")
    );
}

#[test]
fn no_rule_set_before_25_july_2016_refuses() {
    check(
        r#"
definition = "toy"
start = 2016-07-24

[[step]]
fire = "open"
inputs = { title = "x", owner = "M-1" }
expect_refused = ["NO_RULE_SET"]
"#,
    );
}

#[test]
fn a_case_opened_under_one_rule_set_can_be_pinned_to_it() {
    check(
        r#"
definition = "toy_pinned"
start = 2025-06-30

[[step]]
fire = "open"
expect_rule_set = "R2025a3"

[[step]]
fire = "close"
on = 2025-08-01
expect_rule_set = "R2025a3"
"#,
    );
}

#[test]
fn a_case_under_another_definition_version_is_refused() {
    let v1 = definition("toy");
    let v2 = definition("toy_v2");
    let book = rule_book();
    let opened = open(
        &v1,
        &book,
        &calendar(),
        &Event::new("open", actor_for(&v1, "open"))
            .with("title", "t")
            .with("owner", "M-1"),
        d("2025-08-01"),
    )
    .expect("opened");
    let refusal = fire(
        &v2,
        &book,
        &calendar(),
        &opened.case,
        &Event::new("park", actor_for(&v2, "submit")),
        d("2025-08-02"),
    )
    .expect_err("version mismatch");
    assert_eq!(refusal.codes(), vec![RefusalCode::DefinitionMismatch]);
}

// ---------------------------------------------------------------------------------------------
// Engine mechanics on the toy machine

#[test]
fn toy_deadline_reminder_extension_and_escalation() {
    check(
        r#"
definition = "toy"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { title = "Đề án", owner = "M-1" }
expect_state = "Draft"
expect_effect = ["ScheduleRecurringReminder { key: \"weekly_nudge\""]

[[step]]
fire = "submit"
on = 2025-08-01
inputs = { votes_for = 2, official_members = 3 }
expect_state = "Review"
expect_deadline = { review = 2025-08-08 }
expect_effect = ["CancelReminder { key: \"weekly_nudge\" }", "ScheduleReminder { key: \"review_soon\"", "at: 2025-08-07", "Escalate { transition: \"expire\" }"]

[[step]]
fire = "extend"
expect_deadline = { review = 2025-08-12 }

[[step]]
fire = "note"
as = ["chair"]
inputs = { text = "ghi chú" }
expect_state = "Review"
expect_no_effect = ["Schedule", "Cancel"]

[[step]]
fire = "expire"
as = ["system"]
on = 2025-08-13
expect_state = "Rejected"
expect_notice = ["LeftAfterDeadline { key: \"review\", rule: \"A10\", due: 2025-08-12 }"]
"#,
    );
}

#[test]
fn toy_carried_over_reminder_is_not_rescheduled() {
    check(
        r#"
definition = "toy"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { title = "t", owner = "M-1" }

[[step]]
fire = "park"
expect_state = "Parked"
expect_no_effect = ["weekly_nudge"]

[[step]]
fire = "resume"
expect_state = "Draft"
expect_no_effect = ["weekly_nudge"]
"#,
    );
}

#[test]
fn toy_list_and_enum_inputs_are_typed() {
    check(
        r#"
definition = "toy"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { title = "t", owner = "M-1" }

[[step]]
fire = "submit"
inputs = { votes_for = 3, official_members = 3 }

[[step]]
fire = "approve"
inputs = { decided_on = "today", priority = "urgent", tags = ["a", 1] }
expect_refused = ["INPUT_INVALID:priority", "INPUT_TYPE:tags"]

[[step]]
fire = "approve"
inputs = { decided_on = "today", priority = "high", tags = ["a", "b"] }
expect_state = "Approved"
expect_fact = { tags = ["a", "b"] }
expect_effect = ["SendMail { template: \"toy.approved\""]
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// Discipline guards (on a minimal machine; the discipline workflow is another issue's)

#[test]
fn d7_reprimand_more_than_5_years_after_the_violation_is_time_barred() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "member", violation_end_date = 2020-06-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_for = 6, official_members = 10 }

[[step]]
fire = "decide"
inputs = { decision_received_date = "today" }
expect_refused = ["GUARD_FAILED:D7"]
expect_vi = ["Đã hết thời hiệu kỷ luật (D7)", "5 năm", "khiển trách", "01/06/2025"]

[[step]]
fire = "time_barred"
expect_state = "TimeBarred"
"#,
    );
}

#[test]
fn d7_warning_is_within_its_10_year_limit() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "member", violation_end_date = 2020-06-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_for = 6, official_members = 10 }

[[step]]
fire = "decide"
inputs = { decision_received_date = "today" }
expect_state = "Decided"
"#,
    );
}

#[test]
fn d8_organisation_reprimand_is_time_barred_after_5_years() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "organisation", violation_end_date = 2019-01-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_for = 6, official_members = 10 }

[[step]]
fire = "decide"
inputs = { decision_received_date = "today" }
expect_refused = ["GUARD_FAILED:D8"]
"#,
    );
}

#[test]
fn d9_expulsion_and_internal_political_security_have_no_limit() {
    for (form, category) in [
        ("expulsion", "ordinary"),
        ("reprimand", "internal_political_security"),
    ] {
        let votes = if form == "expulsion" { 7 } else { 6 };
        check(&format!(
            r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = {{ subject_kind = "member", violation_end_date = 2001-01-01, violation_category = "{category}" }}

[[step]]
fire = "vote"
inputs = {{ discipline_form = "{form}", votes_for = {votes}, official_members = 10 }}

[[step]]
fire = "decide"
inputs = {{ decision_received_date = "today" }}
expect_state = "Decided"
"#
        ));
    }
}

#[test]
fn d10_a_new_violation_within_the_period_restarts_the_clock() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "member", violation_end_date = 2020-06-01, new_violation_date = 2023-02-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_for = 6, official_members = 10 }

[[step]]
fire = "decide"
inputs = { decision_received_date = "today" }
expect_state = "Decided"
"#,
    );
}

#[test]
fn d11_the_period_runs_until_the_conclusion_date() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "member", violation_end_date = 2020-06-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "reprimand", votes_for = 6, official_members = 10 }

[[step]]
fire = "decide"
inputs = { decision_received_date = "today", conclusion_date = 2025-05-30 }
expect_state = "Decided"
"#,
    );
}

#[test]
fn d10_d11_the_rule_set_decides_the_restart_and_the_end_of_the_period() {
    // D11 under R2025a (`consideration`): a reprimand's 5 years from 1/1/2020 end on 1/1/2025;
    // the period runs until the body considers the case, the day of the step (March 2025):
    // time-barred, although the conclusion was recorded on 30/12/2024.
    let scenario = |edits: &str, expect: &str| {
        format!(
            r#"
definition = "toy_discipline"
start = 2025-03-03
{edits}

[[step]]
fire = "open"
inputs = {{ subject_kind = "member", violation_end_date = 2020-01-01 }}

[[step]]
fire = "vote"
inputs = {{ discipline_form = "reprimand", votes_for = 6, official_members = 10 }}

[[step]]
fire = "decide"
inputs = {{ decision_received_date = "today", conclusion_date = 2024-12-30 }}
{expect}
"#
        )
    };
    check(&scenario("", "expect_refused = [\"GUARD_FAILED:D7\"]"));
    // Flipped to `conclusion` in every rule set (the counting of 08-HD/TW): the period runs
    // until the conclusion, before the expiry: the discipline goes ahead.
    check(&scenario(
        "rule_edits = [[\"value = \\\"consideration\\\"\", \"value = \\\"conclusion\\\"\"], [\"tag = \\\"S\\\"\\nvalue = \\\"conclusion\\\"\\n\", \"tag = \\\"S\\\"\\n\"]]",
        "expect_state = \"Decided\"",
    ));
    // D10: a new violation on 1/1/2024 restarts the clock, unless the rule set says not.
    let restart = |edits: &str, expect: &str| {
        format!(
            r#"
definition = "toy_discipline"
start = 2025-08-01
{edits}

[[step]]
fire = "open"
inputs = {{ subject_kind = "member", violation_end_date = 2020-06-01, new_violation_date = 2024-01-01 }}

[[step]]
fire = "vote"
inputs = {{ discipline_form = "reprimand", votes_for = 6, official_members = 10 }}

[[step]]
fire = "decide"
inputs = {{ decision_received_date = "today" }}
{expect}
"#
        )
    };
    check(&restart("", "expect_state = \"Decided\""));
    check(&restart(
        "rule_edits = [[\"id = \\\"D10.restart_on_new_violation\\\"\\nrule = \\\"D10\\\"\\ntag = \\\"M\\\"\\nkind = \\\"flag\\\"\\nvalue = true\", \"id = \\\"D10.restart_on_new_violation\\\"\\nrule = \\\"D10\\\"\\ntag = \\\"M\\\"\\nkind = \\\"flag\\\"\\nvalue = false\"]]",
        "expect_refused = [\"GUARD_FAILED:D7\"]",
    ));
}

#[test]
fn d31_expulsion_needs_two_thirds_and_other_forms_more_than_half() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "member", violation_end_date = 2025-01-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "expulsion", votes_for = 6, official_members = 10 }
expect_refused = ["GUARD_FAILED:D31"]
expect_vi = ["ít nhất 2/3", "cần ít nhất 7 phiếu"]

[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_for = 5, official_members = 10 }
expect_refused = ["GUARD_FAILED:D31"]
expect_vi = ["trên 1/2", "cần ít nhất 6 phiếu"]

[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_for = 6, official_members = 10 }
expect_state = "Voted"
"#,
    );
}

#[test]
fn p1_appeal_later_than_30_days_after_receipt_is_refused_and_p5_refuses_while_unverified() {
    check(
        r#"
definition = "toy_discipline"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { subject_kind = "member", violation_end_date = 2025-01-01 }

[[step]]
fire = "vote"
inputs = { discipline_form = "warning", votes_for = 6, official_members = 10 }

[[step]]
fire = "decide"
inputs = { decision_received_date = 2025-08-04 }

[[step]]
fire = "appeal"
on = 2025-09-04
expect_refused = ["GUARD_FAILED:P1", "PARAMETER_UNSET:P5"]
expect_vi = ["quá thời hạn 30 ngày", "03/09/2025", "chưa có giá trị trong bộ quy tắc R2025b"]

[[step]]
fire = "appeal"
on = 2025-09-03
expect_refused = ["PARAMETER_UNSET:P5"]
expect_en = ["has no value in rule set R2025b"]
"#,
    );
}

// ---------------------------------------------------------------------------------------------
// What could happen next

#[test]
fn available_lists_every_transition_with_its_verdict() {
    let def = definition("admission");
    let book = rule_book();
    let case = check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "collect_opinions"
walk_inputs.open = { date_of_birth = 2008-01-01 }
"#,
    )
    .expect("a case");
    let secretary = Actor::new("s", vec![RoleRef::at("secretary", RoleLevel::Branch)]);
    let next = available(
        &def,
        &book,
        &calendar(),
        &case,
        &secretary,
        &Values::new(),
        d("2025-09-03"),
    );
    let by_name: BTreeMap<&str, _> = next.iter().map(|a| (a.transition.as_str(), a)).collect();
    assert_eq!(
        by_name.keys().copied().collect::<BTreeSet<_>>(),
        [
            "branch_vote",
            "branch_vote_rejected",
            "renew_awareness_certificate",
            "withdraw"
        ]
        .into()
    );
    // The applicant is 17 on the day: E1 refuses already; A8 waits for the votes.
    let vote = by_name["branch_vote"];
    assert_eq!(vote.status, AvailabilityStatus::Refused);
    assert_eq!(
        vote.reasons
            .iter()
            .filter_map(|r| r.rule.as_deref())
            .collect::<Vec<_>>(),
        vec!["E1"]
    );
    let pending: Vec<&str> = vote
        .pending_guards
        .iter()
        .map(|p| p.guard.as_str())
        .collect();
    assert_eq!(pending, vec!["branch_vote_two_thirds"]);
    assert!(
        vote.pending_guards[0]
            .needs
            .contains(&"votes_for".to_owned())
    );
    assert_eq!(by_name["withdraw"].status, AvailabilityStatus::NeedsInput);

    // Someone else may do nothing here.
    let outsider = Actor::new("o", vec![RoleRef::at("secretary", RoleLevel::Grassroots)]);
    let next = available(
        &def,
        &book,
        &calendar(),
        &case,
        &outsider,
        &Values::new(),
        d("2025-09-03"),
    );
    assert!(next.iter().all(|a| a.status == AvailabilityStatus::Refused));
    assert!(next.iter().all(|a| {
        a.reasons
            .iter()
            .any(|r| r.code == RefusalCode::NotPermitted)
    }));
}

#[test]
fn available_allows_a_transition_without_inputs_when_its_guards_hold() {
    let def = definition("admission");
    let book = rule_book();
    let case = check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "file_member_history"
"#,
    )
    .expect("a case");
    let system = Actor::system();
    let early = available(
        &def,
        &book,
        &calendar(),
        &case,
        &system,
        &Values::new(),
        d("2026-09-01"),
    );
    assert_eq!(early[0].transition, "open_recognition_vote");
    assert_eq!(early[0].status, AvailabilityStatus::Refused);
    assert_eq!(early[0].reasons[0].rule.as_deref(), Some("A13"));
    let later = available(
        &def,
        &book,
        &calendar(),
        &case,
        &system,
        &Values::new(),
        d("2026-10-06"),
    );
    assert_eq!(later[0].status, AvailabilityStatus::Allowed);
}

// ---------------------------------------------------------------------------------------------
// Migration

fn toy_case_in_review() -> CaseSnapshot {
    check(
        r#"
definition = "toy"
start = 2025-08-01

[[step]]
fire = "open"
inputs = { title = "t", owner = "M-1" }

[[step]]
fire = "submit"
inputs = { votes_for = 3, official_members = 3 }
"#,
    )
    .expect("a case")
}

#[test]
fn migration_dry_run_maps_a_renamed_state_and_lists_the_changes() {
    let v1 = definition("toy");
    let v2 = definition("toy_v2");
    let case = toy_case_in_review();
    let plan = plan_migration(&v1, &v2, &case);
    assert!(plan.can_migrate(), "{plan:#?}");
    assert_eq!(plan.new_state.as_deref(), Some("UnderReview"));
    let has = |c: &MigrationChange| plan.changes.contains(c);
    assert!(has(&MigrationChange::StateRenamed {
        from: "Review".into(),
        to: "UnderReview".into()
    }));
    assert!(has(&MigrationChange::DeadlineDeclarationChanged {
        key: "review".into()
    }));
    assert!(has(&MigrationChange::ReminderCancelled {
        key: "review_soon".into()
    }));
    assert!(has(&MigrationChange::TransitionRemoved {
        name: "extend".into()
    }));
    assert!(has(&MigrationChange::GuardsChanged {
        transition: "approve".into(),
        added: vec!["recognition_vote_two_thirds".into()],
        removed: vec![],
    }));
    assert!(has(&MigrationChange::InputsChanged {
        transition: "approve".into()
    }));

    let migrated = plan.apply(&case).expect("applies");
    assert_eq!(migrated.case.state, "UnderReview");
    assert_eq!(migrated.case.definition.version, 2);
    assert_eq!(migrated.case.version, case.version + 1);
    assert_eq!(
        migrated.case.deadlines, case.deadlines,
        "running deadlines keep their dates"
    );
    assert_eq!(
        migrated.effects,
        vec![Effect::CancelReminder {
            key: "review_soon".into()
        }]
    );
    // The migrated case now runs under version 2.
    let book = rule_book();
    let decision = fire(
        &v2,
        &book,
        &calendar(),
        &migrated.case,
        &Event::new("reject", actor_for(&v2, "reject")),
        d("2025-08-05"),
    )
    .expect("fires under v2");
    assert_eq!(decision.to, "Rejected");
}

#[test]
fn migration_is_blocked_when_the_state_no_longer_exists() {
    let v1 = definition("toy");
    let v2 = definition("toy_v2");
    let book = rule_book();
    let case = toy_case_in_review();
    let parked = fire(
        &v1,
        &book,
        &calendar(),
        &case,
        &Event::new("park", actor_for(&v1, "park")),
        d("2025-08-04"),
    )
    .expect("parked")
    .case;
    let plan = plan_migration(&v1, &v2, &parked);
    assert!(!plan.can_migrate());
    assert_eq!(
        plan.blockers,
        vec![MigrationBlocker::StateMissing {
            state: "Parked".into()
        }]
    );
    assert!(plan.apply(&parked).is_err());
    // Nor backwards.
    let back = plan_migration(&v2, &v1, &parked);
    assert!(
        back.blockers
            .iter()
            .any(|b| matches!(b, MigrationBlocker::NotNewer { .. }))
    );
}

// ---------------------------------------------------------------------------------------------
// Serialization (the store keeps snapshots and effects as JSON; TOML stands in for it here)

#[test]
fn snapshots_decisions_and_refusals_round_trip_through_serde() {
    let case = check(
        r#"
definition = "admission"
start = 2025-08-01
walk_until = "hold_ceremony"
"#,
    )
    .expect("a case");
    let text = toml::to_string(&case).expect("serializes");
    let back: CaseSnapshot = toml::from_str(&text).expect("deserializes");
    assert_eq!(back, case);
    assert!(
        text.contains("type = \"date\""),
        "dates stay dates:\n{text}"
    );

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Wrap<T> {
        items: Vec<T>,
    }
    let effects = Wrap {
        items: vec![
            Effect::SendMail {
                template: "t".into(),
                to: RoleRef::at("secretary", RoleLevel::Branch),
            },
            Effect::CancelDeadline { key: "k".into() },
        ],
    };
    let text = toml::to_string(&effects).expect("effects serialize");
    assert_eq!(
        toml::from_str::<Wrap<Effect>>(&text).expect("effects deserialize"),
        effects
    );
    let notices = Wrap {
        items: vec![Notice::RuleSetChanged {
            previous: "a".into(),
            current: "b".into(),
        }],
    };
    let text = toml::to_string(&notices).expect("notices serialize");
    assert_eq!(
        toml::from_str::<Wrap<Notice>>(&text).expect("notices deserialize"),
        notices
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// A small deterministic generator driven by a proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).expect("fits")).expect("fits")
    }

    fn chance(&mut self, in_ten: u64) -> bool {
        self.next() % 10 < in_ten
    }
}

fn random_value(rng: &mut Rng, ty: &InputType, day: NaiveDate) -> Value {
    // Mostly well-typed, sometimes not, to exercise the refusals.
    if rng.chance(1) {
        return Value::Bool(true);
    }
    match ty {
        InputType::String => Value::Text(["", "lý do", "x"][rng.below(3)].into()),
        InputType::MemberRef | InputType::UnitRef => {
            Value::Text(["M-1", "M-2", ""][rng.below(3)].into())
        }
        InputType::Integer { .. } => Value::Int(i64::try_from(rng.below(14)).expect("small") - 1),
        InputType::Boolean => Value::Bool(rng.chance(5)),
        InputType::Date => {
            let back = u64::try_from(rng.below(9000)).expect("small");
            Value::Date(day.checked_sub_days(Days::new(back)).unwrap_or(day))
        }
        InputType::Enum(values) => {
            if rng.chance(1) {
                Value::Text("bogus".into())
            } else {
                Value::Text(values[rng.below(values.len())].clone())
            }
        }
        InputType::List(inner) => Value::List(
            (0..rng.below(3))
                .map(|_| random_value(rng, inner, day))
                .collect(),
        ),
    }
}

fn random_event(def: &Definition, rng: &mut Rng, day: NaiveDate) -> Event {
    let t = &def.transitions[rng.below(def.transitions.len())];
    let mut inputs = Values::new();
    for spec in &t.inputs {
        if spec.required && rng.chance(9) || !spec.required && rng.chance(3) {
            inputs.insert(spec.name.clone(), random_value(rng, &spec.ty, day));
        }
    }
    if rng.chance(1) {
        inputs.insert("unexpected".into(), Value::Int(1));
    }
    let roles = if rng.chance(8) {
        t.by.clone()
    } else {
        vec![RoleRef::at("secretary", RoleLevel::Central)]
    };
    Event {
        transition: t.name.clone(),
        actor: Actor::new("prop", roles),
        inputs,
        context: subject_discipline(&[]),
    }
}

fn happy_next(state: &str) -> Option<&'static str> {
    let position = [
        ("Candidate", "record_awareness_certificate"),
        ("AwarenessCourseDone", "file_application"),
        ("ApplicationFiled", "draft_history"),
        ("HistoryDrafted", "start_verification"),
        ("VerificationInProgress", "conclude_verification"),
        ("Verified", "record_introducers"),
        ("IntroducersRecorded", "collect_opinions"),
        ("OpinionsCollected", "branch_vote"),
        ("BranchVoted", "grassroots_review"),
        ("GrassrootsReviewed", "submit_to_competent"),
        ("DecisionPending", "decide_admission"),
        ("Admitted", "hold_ceremony"),
        ("CeremonyHeld", "file_member_history"),
        ("Probation", "open_recognition_vote"),
        ("RecognitionVote", "recognition_vote"),
        ("RecognitionPending", "recognise"),
    ];
    position.iter().find(|(s, _)| *s == state).map(|(_, t)| *t)
}

/// Drives `def` with `actions` and checks the invariants on every step (inside `step_once`).
fn drive(def: &Definition, book: &RuleBook, actions: &[(u8, u64, u8)], happy: bool) {
    let defaults = if happy {
        admission_defaults()
    } else {
        BTreeMap::new()
    };
    let mut day = d("2025-07-15");
    let open_inputs = if happy {
        inputs_from(&defaults["open"], day)
    } else {
        [
            ("title".to_owned(), Value::from("t")),
            ("owner".to_owned(), Value::from("M-1")),
        ]
        .into_iter()
        .collect()
    };
    let opened = step_once(
        def,
        book,
        None,
        &Event {
            transition: "open".into(),
            actor: actor_for(def, "open"),
            inputs: open_inputs,
            context: subject_discipline(&[]),
        },
        day,
    )
    .expect("the case opens");
    let mut case = opened.case;
    for (choice, seed, gap) in actions {
        let mut rng = Rng(*seed);
        let next = if happy { happy_next(&case.state) } else { None };
        let event = match next {
            Some(t) if choice % 3 != 0 => {
                let table = defaults.get(t);
                day = day + Days::new(gap_days(table));
                Event {
                    transition: t.to_owned(),
                    actor: actor_for(def, t),
                    inputs: table.map(|tb| inputs_from(tb, day)).unwrap_or_default(),
                    context: subject_discipline(&[]),
                }
            }
            _ => {
                day = day + Days::new(u64::from(*gap % 40));
                random_event(def, &mut rng, day)
            }
        };
        let before = case.clone();
        match step_once(def, book, Some(&case), &event, day) {
            Ok(decision) => {
                assert_eq!(decision.case.state, decision.to);
                case = decision.case;
            }
            Err(_) => assert_eq!(case, before, "a refused event changed the case"),
        }
        assert!(
            def.state(&case.state).is_some(),
            "case left the declared states: {}",
            case.state
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn admission_event_sequences_keep_the_case_in_a_declared_state(
        actions in prop::collection::vec((any::<u8>(), any::<u64>(), any::<u8>()), 1..40)
    ) {
        let def = definition("admission");
        let book = rule_book();
        drive(&def, &book, &actions, true);
    }

    #[test]
    fn toy_event_sequences_keep_the_case_in_a_declared_state(
        actions in prop::collection::vec((any::<u8>(), any::<u64>(), any::<u8>()), 1..30)
    ) {
        let def = definition("toy");
        let book = rule_book();
        drive(&def, &book, &actions, false);
    }

    #[test]
    fn available_agrees_with_fire_for_transitions_without_inputs(
        steps in 0usize..17, day_offset in 0u64..500
    ) {
        // Walk the happy path some way, then compare `available` with `fire` for every
        // transition that takes no required input.
        let def = definition("admission");
        let book = rule_book();
        let defaults = admission_defaults();
        let mut day = d("2025-08-01");
        let mut case: Option<CaseSnapshot> = None;
        for t in HAPPY_PATH.iter().take(steps + 1) {
            let table = defaults.get(*t);
            if case.is_some() {
                day = day + Days::new(gap_days(table));
            }
            let inputs = table.map(|tb| inputs_from(tb, day)).unwrap_or_default();
            let event = Event {
                transition: (*t).to_owned(),
                actor: actor_for(&def, t),
                inputs,
                context: subject_discipline(&[]),
            };
            case = Some(step_once(&def, &book, case.as_ref(), &event, day).expect("happy path").case);
        }
        let case = case.expect("opened");
        let when = day + Days::new(day_offset);
        let actor = Actor::new("all", def.transitions.iter().flat_map(|t| t.by.clone()).collect());
        for a in available(&def, &book, &calendar(), &case, &actor, &Values::new(), when) {
            if a.required_inputs.is_empty() {
                let result = fire(&def, &book, &calendar(), &case, &Event::new(a.transition.clone(), actor.clone()), when);
                match a.status {
                    AvailabilityStatus::Allowed => prop_assert!(result.is_ok(), "{}: {:?}", a.transition, result),
                    AvailabilityStatus::Refused => prop_assert!(result.is_err(), "{}", a.transition),
                    AvailabilityStatus::NeedsInput => {}
                }
            }
        }
    }
}

#[test]
fn docs_list_every_guard_with_its_rules_and_parameters() {
    let docs = read(&repo_root().join("docs/workflows.md"));
    for g in memberflow_workflow::engine::guards::GUARDS {
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", g.name)))
            .unwrap_or_else(|| panic!("docs/workflows.md lists no guard `{}`", g.name));
        for rule in g.rules {
            assert!(
                row.contains(rule),
                "docs row of `{}` lacks rule {rule}",
                g.name
            );
        }
        for (param, _) in g.params {
            assert!(
                row.contains(&format!("`{param}`")),
                "docs row of `{}` lacks `{param}`",
                g.name
            );
        }
        for read in g.reads {
            assert!(
                row.contains(&format!("`{}`", read.key)),
                "docs row of `{}` lacks `{}`",
                g.name,
                read.key
            );
        }
    }
}
