//! Every rule-set parameter drives something: a guard, a deadline or reminder of a workflow
//! definition, or another reader of the code (badges, targets, access, exemptions, C3) names it.
//! A parameter read by nothing fails here, unless it is one of the few texts and values kept
//! for people and listed below with the reason (then `memberflow rules` shows it, nothing
//! decides with it). Flipping a listed flag would change nothing: that is why the list is short
//! and each entry says what stands in for it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use memberflow_workflow::engine::RuleBook;

/// Parameters no code reads, on purpose, with what stands in for them.
const FOR_PEOPLE_ONLY: &[(&str, &str)] = &[
    (
        "A10.competent_body",
        "the body in words; `A10.competent_level` is what access reads",
    ),
    (
        "E2.deciding_body",
        "the body in words; `E2.deciding_level` is what the guard reads",
    ),
    (
        "D6.definition",
        "the definition of the limitation period, a text",
    ),
    (
        "D4.not_a_form",
        "says in words that striking off is not a form of discipline",
    ),
    (
        "D36.effective_from",
        "when higher bodies' decisions take effect, in words",
    ),
    (
        "P6.restoration",
        "what the shell does after an annulment beyond membership, in words",
    ),
    (
        "C4.cadre_bar_min",
        "cadre careers are not run by the service",
    ),
    (
        "C4.cadre_bar_max",
        "cadre careers are not run by the service",
    ),
    ("C5.civil_servant_bar", "state law, for comparison only"),
    (
        "C5.civil_servant_bar_demotion",
        "state law, for comparison only",
    ),
    (
        "D37.delivery_period",
        "[M] without a value: the workflow reminds weekly instead",
    ),
    (
        "D4.appeal_resolution_period",
        "[M] without a value: the workflow reminds instead",
    ),
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

/// The code of the services, without their unit tests (a test naming a parameter is not a
/// reader) and without this project's test directories.
fn service_code() -> String {
    let mut paths = Vec::new();
    for s in std::fs::read_dir(repo_root().join("services")).unwrap() {
        let src = s.unwrap().path().join("src");
        if src.is_dir() {
            files(&src, "rs", &mut paths);
        }
    }
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_owned(),
                None => text,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn definitions() -> String {
    let mut paths = Vec::new();
    files(&repo_root().join("schemas/workflows"), "toml", &mut paths);
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn book() -> RuleBook {
    let mut paths = Vec::new();
    files(&repo_root().join("schemas/rulesets"), "toml", &mut paths);
    let sources: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    RuleBook::from_toml_strs(sources.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap()
}

#[test]
fn every_rule_set_parameter_is_read_by_some_code_or_definition() {
    let code = service_code();
    let defs = definitions();
    let listed: BTreeSet<&str> = FOR_PEOPLE_ONLY.iter().map(|(id, _)| *id).collect();
    let mut unread = BTreeSet::new();
    let mut all = BTreeSet::new();
    for set in book().sets() {
        for p in set.params() {
            all.insert(p.id.clone());
            let quoted = format!("\"{}\"", p.id);
            if !code.contains(&quoted) && !defs.contains(&quoted) && !listed.contains(p.id.as_str())
            {
                unread.insert(format!("{} ({})", p.id, set.id));
            }
        }
    }
    assert!(
        unread.is_empty(),
        "parameters no code or definition reads (make them drive a decision, or remove them): {unread:#?}"
    );
    // The list holds only parameters that exist and that nothing reads.
    for (id, _) in FOR_PEOPLE_ONLY {
        assert!(all.contains(*id), "`{id}` is listed but no rule set has it");
        let quoted = format!("\"{id}\"");
        assert!(
            !code.contains(&quoted) && !defs.contains(&quoted),
            "`{id}` is read now: take it off the list"
        );
    }
}

#[test]
fn the_parameters_issue_15_named_are_read() {
    let code = service_code();
    for id in [
        "D11.count_until",
        "C3.removal_bar_period",
        "S17.grounds",
        "D10.restart_on_new_violation",
    ] {
        assert!(code.contains(&format!("\"{id}\"")), "{id}");
    }
    // D12's order is the state machine's, and P2 (verified) is the `in_force` of the
    // appealed states: their flags were removed.
    for gone in ["D12.check_after_vote", "P2.decision_in_force_during_appeal"] {
        assert!(
            book().sets().iter().all(|s| s.param(gone).is_none()),
            "{gone}"
        );
    }
    // The [S]/[M] flags of the discipline procedure drive guards.
    for id in [
        "D26.member_proposes_form",
        "D28.hearing_required",
        "D35.no_approval_needed",
        "D38.written_decision_required",
    ] {
        assert!(code.contains(&format!("\"{id}\"")), "{id}");
    }
}
