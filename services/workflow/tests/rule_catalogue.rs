//! The rule catalogue (`schemas/rules.toml`) against everything that cites rule ids: the
//! committed rule sets and workflows, the guards, every rule-id literal in the services'
//! code, and docs/rules-coverage.md (every catalogue rule has a row there, every row is a
//! catalogue rule, and the row's tag is the catalogue's certainty).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use memberflow_workflow::engine::{Source, check_sources};
use memberflow_workflow::rule_catalogue::{self, RuleCatalogue, is_rule_id};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalogue() -> &'static RuleCatalogue {
    RuleCatalogue::committed()
}

fn toml_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_committed_catalogue_is_valid() {
    let catalogue = RuleCatalogue::from_toml_str(rule_catalogue::RULES_TOML)
        .unwrap_or_else(|problems| panic!("{problems:#?}"));
    assert!(catalogue.rules().len() > 100);
    for prefix in ["E", "A", "D", "P", "C", "S"] {
        assert!(
            catalogue.rules().iter().any(|r| r.id.starts_with(prefix)),
            "{prefix}"
        );
    }
    let s22 = catalogue.get("S22").unwrap();
    assert!(s22.title_vi.contains("ngày làm việc"));
    assert!(s22.source.contains("Bộ luật Lao động"));
}

#[test]
fn every_rule_id_the_rule_sets_workflows_and_guards_cite_is_in_the_catalogue() {
    let workflows = toml_files(&repo().join("schemas/workflows"));
    let rulesets = toml_files(&repo().join("schemas/rulesets"));
    let defs: Vec<Source<'_>> = workflows
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let sets: Vec<Source<'_>> = rulesets
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let checked = check_sources(&defs, &sets, &Default::default());
    let book = checked.rules.unwrap();
    let cited = rule_catalogue::citations(&checked.definitions, book.sets());
    assert!(cited.iter().any(|c| c.file.starts_with("guard ")));
    assert!(cited.iter().any(|c| c.file.starts_with("rule set ")));
    assert!(cited.iter().any(|c| c.file.starts_with("workflow ")));
    let unknown: Vec<_> = catalogue()
        .check_citations(&cited)
        .into_iter()
        .filter(|p| p.unknown)
        .map(|p| p.to_string())
        .collect();
    assert!(unknown.is_empty(), "{unknown:#?}");
}

/// The string literals of a Rust file that look like rule ids of the rulebook's families
/// (`"A10"`, `"D31"`).
fn rule_literals(text: &str) -> BTreeSet<String> {
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            is_rule_id(s)
                && s.len() <= 3
                && "EADPCS".contains(&s[..1])
                && s[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_rule_id_literal_in_the_code_is_in_the_catalogue() {
    let mut files = Vec::new();
    for service in std::fs::read_dir(repo().join("services")).unwrap() {
        let src = service.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 20);
    let mut seen = 0;
    let mut missing = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for id in rule_literals(&text) {
            seen += 1;
            if catalogue().get(&id).is_none() {
                missing.push(format!("{}: {id}", f.display()));
            }
        }
    }
    assert!(seen > 50, "the scan finds the code's rule ids ({seen})");
    assert!(missing.is_empty(), "{missing:#?}");
}

/// The rows of docs/rules-coverage.md's tables: (id, tag).
fn coverage_rows() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("docs/rules-coverage.md")).unwrap();
    text.lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix('|')?.split('|').map(str::trim);
            let id = cells.next()?;
            let tag = cells.next()?;
            is_rule_id(id).then(|| (id.to_owned(), tag.to_owned()))
        })
        .collect()
}

#[test]
fn docs_rules_coverage_has_a_row_for_every_catalogue_rule_with_its_certainty() {
    let rows = coverage_rows();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (id, tag) in &rows {
        if !seen.insert(id.clone()) {
            problems.push(format!("{id}: two rows"));
        }
        match catalogue().get(id) {
            None => problems.push(format!("{id}: a row for a rule the catalogue lacks")),
            // The tag may carry a remark after the certainty: "V (practice)".
            Some(rule) if tag.split_whitespace().next() != Some(rule.certainty.as_str()) => {
                problems.push(format!(
                    "{id}: tagged {tag:?} in the doc, {:?} in the catalogue",
                    rule.certainty
                ));
            }
            Some(_) => {}
        }
    }
    for rule in catalogue().rules() {
        if !seen.contains(&rule.id) {
            problems.push(format!("{}: no row in docs/rules-coverage.md", rule.id));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_broken_catalogue_reports_every_problem_at_once() {
    let src = r#"
        [[rule]]
        id = "A1"
        title_vi = ""
        title_en = "x"
        source = "x"
        certainty = "V/V"
        valid_from = 2025-02-01
        valid_to = 2025-01-01

        [[rule]]
        id = "a2"
        title_vi = "x"
        title_en = "x"
        source = "x"
        certainty = "S"
        colour = "red"

        [[rule]]
        id = "A1"
        title_vi = "x"
        title_en = "x"
        source = " "
        certainty = "M"
        valid_from = "1 May"
    "#;
    let problems: Vec<String> = RuleCatalogue::from_toml_str(src)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    for needle in [
        "rule[0] (A1): `title_vi` is empty",
        "rule[0] (A1): certainty \"V/V\" must be V, S or M",
        "rule[0] (A1): valid_from 2025-02-01 is after valid_to 2025-01-01",
        "rule[1] (a2): unknown field `colour`",
        "rule[2] (A1): `source` is empty",
        "rule[2] (A1): `valid_from` = \"1 May\" is not a date",
        "rule[2] (A1): `A1` is listed twice (first at rule[0])",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{needle} missing from {problems:#?}"
        );
    }
    assert_eq!(
        RuleCatalogue::from_toml_str("nope = = 1")
            .unwrap_err()
            .len(),
        1
    );
}
