//! Rule sets as layers (`schemas/rulesets/`, docs/workflows.md "Rule sets as layers"): each
//! rule set after R2016 states only what changed from the one before, the loader resolves it
//! onto its base, and `memberflow check` refuses a layer that restates an unchanged value or
//! names a parameter its base lacks.
//!
//! `tests/data/rulesets-before-layers/` holds the four complete files as they were before the
//! rule sets became layers (the files of commit 83879e6, with two deliberate changes since:
//! issue #15 ended R2025a on 2025-05-29, see the fixture's first lines; and the inert flag
//! `P2.decision_in_force_during_appeal` was removed, the appealed states' `in_force` being the
//! rule). The effective rule sets
//! must equal them: a value, tag, source, note or order that drifts fails here. A deliberate
//! change to a rule set is made in `schemas/rulesets/` AND in the fixture. R2025a2 and R2025a3,
//! which issue #15 cut out of the former R2025a, are checked against R2025a and R2025b.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use memberflow_workflow::engine::{
    ProblemCode, RuleBook, RuleSet, Severity, ShellChecks, Source, check_sources, diff_rule_sets,
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn toml_files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn committed() -> Vec<(String, String)> {
    toml_files(&repo_root().join("schemas/rulesets"))
}

fn book(files: &[(String, String)]) -> RuleBook {
    RuleBook::from_toml_strs(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .unwrap_or_else(|ps| panic!("rule sets do not load: {ps:#?}"))
}

/// Every difference between an effective rule set and the complete one it must equal.
fn differences(effective: &RuleSet, complete: &RuleSet) -> Vec<String> {
    let mut out = Vec::new();
    if effective.id != complete.id {
        out.push(format!("id {} != {}", effective.id, complete.id));
    }
    if effective.title != complete.title {
        out.push(format!("{}: title differs", complete.id));
    }
    if (effective.valid_from, effective.valid_to) != (complete.valid_from, complete.valid_to) {
        out.push(format!("{}: validity differs", complete.id));
    }
    if effective.documents != complete.documents {
        out.push(format!("{}: documents differ", complete.id));
    }
    let ids = |s: &RuleSet| s.params().iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    if ids(effective) != ids(complete) {
        out.push(format!("{}: parameters or their order differ", complete.id));
    }
    for p in complete.params() {
        match effective.param(&p.id) {
            Some(e) if e == p => {}
            Some(e) => out.push(format!("{}: {}: {e:?} != {p:?}", complete.id, p.id)),
            None => out.push(format!("{}: {} missing", complete.id, p.id)),
        }
    }
    out
}

fn fixture_sets() -> Vec<RuleSet> {
    toml_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rulesets-before-layers"))
        .iter()
        .map(|(n, t)| RuleSet::from_toml_str(t).unwrap_or_else(|ps| panic!("{n}: {ps:#?}")))
        .collect()
}

#[test]
fn the_effective_rule_sets_equal_the_complete_files_they_replace() {
    let book = book(&committed());
    let complete = fixture_sets();
    assert_eq!(complete.len(), 4);
    assert_eq!(book.sets().len(), 6);
    for c in &complete {
        let e = book
            .get(&c.id)
            .unwrap_or_else(|| panic!("{} missing", c.id));
        let d = differences(e, c);
        assert!(d.is_empty(), "{}", d.join("\n"));
        assert_eq!(c.params().len(), 107, "{}", c.id);
    }
    // R2016 stays complete; every later one is a layer on the one before it.
    let bases: Vec<(&str, Option<&str>)> = book
        .sets()
        .iter()
        .map(|s| (s.id.as_str(), s.base.as_deref()))
        .collect();
    assert_eq!(
        bases,
        [
            ("R2016", None),
            ("R2021", Some("R2016")),
            ("R2025a", Some("R2021")),
            ("R2025a2", Some("R2025a")),
            ("R2025a3", Some("R2025a2")),
            ("R2025b", Some("R2025a3")),
        ]
    );
}

#[test]
fn the_equality_check_catches_a_value_that_drifts() {
    // The comparison above is not vacuous: a layer whose value moves, or an inherited value
    // that moves in the base, is caught in every rule set that sees it.
    let mut files = committed();
    let (_, r2025a3) = files.iter_mut().find(|(n, _)| n == "R2025a3.toml").unwrap();
    let before = r2025a3.clone();
    *r2025a3 = r2025a3.replacen("value = \"conclusion\"", "value = \"concluded\"", 1);
    assert_ne!(
        *r2025a3, before,
        "the value to move is in the R2025a3 layer"
    );
    let moved = book(&files);
    let complete = fixture_sets();
    let c = complete.iter().find(|s| s.id == "R2025b").unwrap();
    let d = differences(moved.get("R2025b").unwrap(), c);
    assert!(d.len() == 1 && d[0].contains("D11.count_until"), "{d:#?}");

    let mut files = committed();
    let (_, r2016) = files.iter_mut().find(|(n, _)| n == "R2016.toml").unwrap();
    *r2016 = r2016.replacen("value = { months = 216 }", "value = { months = 204 }", 1);
    let moved = book(&files);
    for c in &complete {
        let d = differences(moved.get(&c.id).unwrap(), c);
        assert!(
            d.len() == 1 && d[0].contains("E1.min_age"),
            "{}: {d:#?}",
            c.id
        );
    }
}

#[test]
fn layers_are_shorter_than_the_files_they_replace() {
    let lines = |files: &[(String, String)], id: &str| {
        files
            .iter()
            .find(|(n, _)| n == &format!("{id}.toml"))
            .map(|(_, t)| t.lines().count())
            .unwrap()
    };
    let now = committed();
    let before = toml_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rulesets-before-layers"),
    );
    assert_eq!(lines(&now, "R2016"), lines(&before, "R2016"));
    for id in ["R2021", "R2025a", "R2025b"] {
        assert!(
            lines(&now, id) * 2 < lines(&before, id),
            "{id}: {} lines",
            lines(&now, id)
        );
    }
}

#[test]
fn a_layer_keeps_its_own_period_and_inherits_parameters_only() {
    let book = book(&committed());
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    // R2025b states no `valid_to`: in force until further notice, although its base ends.
    let b = book.for_date(d("2025-07-01")).unwrap();
    assert_eq!(b.id, "R2025b");
    assert_eq!(b.valid_to, None);
    assert_eq!(book.for_date(d("2025-06-30")).unwrap().id, "R2025a3");
    assert_eq!(book.for_date(d("2025-05-29")).unwrap().id, "R2025a");
    assert_eq!(book.for_date(d("2025-01-19")).unwrap().id, "R2021");
    assert_eq!(book.for_date(d("2021-07-29")).unwrap().id, "R2016");
    assert!(book.for_date(d("2016-07-24")).is_none());
    assert!(b.documents.iter().any(|x| x.contains("294-QĐ/TW")));
    assert!(
        !book
            .get("R2016")
            .unwrap()
            .documents
            .iter()
            .any(|x| x.contains("294-QĐ/TW"))
    );
}

#[test]
fn diff_lists_the_effective_differences_between_any_two_rule_sets() {
    let book = book(&committed());
    let a = book.get("R2025a").unwrap();
    let b = book.get("R2025b").unwrap();
    let changes = diff_rule_sets(a, b);
    let values: Vec<&str> = changes
        .iter()
        .filter(|c| c.value_changed())
        .map(|c| c.id)
        .collect();
    assert_eq!(values, ["A10.competent_body", "D11.count_until"]);
    // Every entry of the R2025a2, R2025a3 and R2025b layers is a difference, nothing else is.
    assert_eq!(changes.len(), 51);
    assert!(
        changes
            .iter()
            .all(|c| c.before.is_some() && c.after.is_some())
    );
    // Any two, not only neighbours: R2016 to R2025b shows the three values of 2025.
    let r2016 = book.get("R2016").unwrap();
    let values: Vec<&str> = diff_rule_sets(r2016, b)
        .iter()
        .filter(|c| c.value_changed())
        .map(|c| c.id)
        .collect();
    assert_eq!(values, ["A10.competent_body", "D11.count_until"]);
    let r2021 = book.get("R2021").unwrap();
    assert!(
        diff_rule_sets(r2016, r2021)
            .iter()
            .all(|c| !c.value_changed())
    );
    assert_eq!(
        diff_rule_sets(r2021, a)
            .iter()
            .filter(|c| c.value_changed())
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        ["A10.competent_body"]
    );
    assert!(diff_rule_sets(b, b).is_empty());
}

// ---------------------------------------------------------------------------------------------
// `memberflow check` on layers

/// The errors of checking the committed rule sets with `file` replaced by `text`, as
/// `CODE file: place: message` lines.
fn check_with(file: &str, text: &str) -> Vec<String> {
    let mut files = committed();
    match files.iter_mut().find(|(n, _)| n == file) {
        Some(f) => f.1 = text.to_owned(),
        None => files.push((file.to_owned(), text.to_owned())),
    }
    errors(&files)
}

fn errors(files: &[(String, String)]) -> Vec<String> {
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(n, t)| Source { name: n, text: t })
        .collect();
    let report = check_sources(&[], &sources, &ShellChecks::default());
    report
        .problems
        .iter()
        .filter(|p| p.problem.severity == Severity::Error)
        .map(|p| {
            format!(
                "{} {}: {}: {}",
                p.problem.code.as_str(),
                p.file,
                p.problem.place,
                p.problem.message
            )
        })
        .collect()
}

fn r2025b() -> String {
    committed()
        .into_iter()
        .find(|(n, _)| n == "R2025b.toml")
        .unwrap()
        .1
}

#[test]
fn the_committed_layers_check_clean() {
    let problems = check_with("R2025b.toml", &r2025b());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn check_rejects_a_layer_that_restates_an_unchanged_value() {
    // E1.min_age is 216 months in R2025a: restating the value in R2025b (which changes its tag
    // and source) is an error naming the file and the parameter; so is restating A13's tag
    // ([S] in R2025a) with a new source, and an entry that changes nothing.
    let text = r2025b().replacen(
        "id = \"E1.min_age\"\ntag = \"S\"\n",
        "id = \"E1.min_age\"\ntag = \"S\"\nvalue = { months = 216 }\n",
        1,
    ) + "\n[[param]]\nid = \"A13.probation_period\"\ntag = \"S\"\nsource = \"294-QĐ/TW\"\n\n[[param]]\nid = \"A14.vote_threshold\"\n";
    let problems = check_with("R2025b.toml", &text);
    let has = |needle: &str| problems.iter().any(|p| p.starts_with(needle));
    assert!(
        has(
            "RESTATED_VALUE R2025b.toml: parameter `E1.min_age`: `value` restates the value it has in base R2025a3"
        ),
        "{problems:#?}"
    );
    assert!(
        has("RESTATED_VALUE R2025b.toml: parameter `A13.probation_period`: `tag` restates"),
        "{problems:#?}"
    );
    assert!(
        has(
            "RESTATED_VALUE R2025b.toml: parameter `A14.vote_threshold`: changes nothing from base R2025a3"
        ),
        "{problems:#?}"
    );
    // The new source of A13 is a change, not a restatement: exactly these three problems.
    assert_eq!(problems.len(), 3, "{problems:#?}");
    // The same value written another way is still the same value.
    let text = r2025b() + "\n[[param]]\nid = \"A14.vote_threshold\"\nvalue = \">=2/3\"\n";
    let problems = check_with("R2025b.toml", &text);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`A14.vote_threshold`: `value` restates")),
        "{problems:#?}"
    );
}

#[test]
fn check_rejects_a_layer_naming_a_parameter_its_base_lacks_unless_declared_new() {
    let text = r2025b() + "\n[[param]]\nid = \"E1.min_agee\"\ntag = \"V\"\n";
    let problems = check_with("R2025b.toml", &text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with(
            "NOT_IN_BASE R2025b.toml: parameter `E1.min_agee`: base R2025a3 has no parameter `E1.min_agee`"
        ),
        "{problems:#?}"
    );

    // Declared new, it must be complete, and it is then in the effective set.
    let new = "\n[[param]]\nid = \"E1.note_x\"\nnew = true\nrule = \"E1\"\ntag = \"M\"\nkind = \"integer\"\nvalue = 3\nsource = \"s\"\ndoc = \"d\"\n";
    let files: Vec<(String, String)> = committed()
        .into_iter()
        .map(|(n, t)| {
            let t = if n == "R2025b.toml" { t + new } else { t };
            (n, t)
        })
        .collect();
    let b = book(&files);
    assert_eq!(b.get("R2025b").unwrap().integer("E1.note_x"), Ok(3));
    assert!(b.get("R2025a").unwrap().param("E1.note_x").is_none());
    let problems = check_with(
        "R2025b.toml",
        &(r2025b() + "\n[[param]]\nid = \"E1.note_x\"\nnew = true\ntag = \"M\"\n"),
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("MISSING_FIELD") && p.contains("`E1.note_x`: missing `rule`")),
        "{problems:#?}"
    );
    // `new = true` on a parameter the base has.
    let problems = check_with(
        "R2025b.toml",
        &(r2025b() + "\n[[param]]\nid = \"A14.vote_threshold\"\nnew = true\ntag = \"V\"\n"),
    );
    assert!(
        problems.iter().any(|p| p.contains("DUPLICATE_PARAMETER")
            && p.contains("declared `new = true`, but base R2025a3 already has it")),
        "{problems:#?}"
    );
}

#[test]
fn check_rejects_a_layer_on_an_unknown_or_wrong_base() {
    let text = r2025b().replacen("base = \"R2025a3\"", "base = \"R2024\"", 1);
    let problems = check_with("R2025b.toml", &text);
    assert!(
        problems.iter().any(
            |p| p == "UNKNOWN_BASE R2025b.toml: rule set: `base = \"R2024\"` names no rule set"
        ),
        "{problems:#?}"
    );
    // R2021 is a rule set, but not the one just before R2025b.
    let text = r2025b().replacen("base = \"R2025a3\"", "base = \"R2021\"", 1);
    let problems = check_with("R2025b.toml", &text);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("UNKNOWN_BASE R2025b.toml")
                && p.contains("the rule set just before R2025b (from 2025-07-01) is R2025a3")),
        "{problems:#?}"
    );
    // A broken base: the layers on it, directly or not, say so instead of failing silently.
    let files = committed();
    let r2021 = &files.iter().find(|(n, _)| n == "R2021.toml").unwrap().1;
    let problems = check_with("R2021.toml", &r2021.replacen("tag = \"", "tag = \"Q", 1));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("INVALID_VALUE R2021.toml")),
        "{problems:#?}"
    );
    for (layer, base) in [
        ("R2025a", "R2021"),
        ("R2025a2", "R2025a"),
        ("R2025a3", "R2025a2"),
        ("R2025b", "R2025a3"),
    ] {
        let needle = format!("its base `{base}` did not load");
        assert!(
            problems.iter().any(
                |p| p.starts_with(&format!("UNKNOWN_BASE {layer}.toml")) && p.contains(&needle)
            ),
            "{layer}: {problems:#?}"
        );
    }
    assert!(
        !problems.iter().any(|p| p.contains("circle")),
        "{problems:#?}"
    );
    // Two layers on each other: a circle, named as such.
    let a = "id = \"X1\"\nbase = \"X2\"\ntitle = \"x\"\nvalid_from = 2030-01-01\n";
    let b = "id = \"X2\"\nbase = \"X1\"\ntitle = \"x\"\nvalid_from = 2031-01-01\n";
    let mut files = committed();
    files.push(("X1.toml".to_owned(), a.to_owned()));
    files.push(("X2.toml".to_owned(), b.to_owned()));
    let problems = errors(&files);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .all(|p| p.starts_with("UNKNOWN_BASE X") && p.contains("cannot form a circle")),
        "{problems:#?}"
    );
}

#[test]
fn unset_drops_an_optional_field_and_refuses_what_is_not_there() {
    // A2.certificate_validity has a note in R2025a that R2025b drops.
    let book = book(&committed());
    assert!(
        book.get("R2025a")
            .unwrap()
            .param("A2.certificate_validity")
            .unwrap()
            .note
            .is_some()
    );
    assert!(
        book.get("R2025b")
            .unwrap()
            .param("A2.certificate_validity")
            .unwrap()
            .note
            .is_none()
    );
    // Unsetting it again in a later layer: nothing to drop.
    let layer = "# a layer\nid = \"R2026\"\nbase = \"R2025b\"\ntitle = \"t\"\nvalid_from = 2026-01-01\n\n[[param]]\nid = \"A2.certificate_validity\"\nunset = [\"note\"]\n\n[[param]]\nid = \"E1.min_age\"\nunset = [\"doc\"]\n";
    let mut files = committed();
    for (n, t) in &mut files {
        if n == "R2025b.toml" {
            *t = t.replacen(
                "valid_from = 2025-07-01\n",
                "valid_from = 2025-07-01\nvalid_to = 2025-12-31\n",
                1,
            );
        }
    }
    files.push(("R2026.toml".to_owned(), layer.to_owned()));
    let problems = errors(&files);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems.iter().any(|p| p.starts_with(
            "RESTATED_VALUE R2026.toml: parameter `A2.certificate_validity`: unsets `note`"
        )),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p
            .starts_with("INVALID_VALUE R2026.toml: parameter `E1.min_age`: `unset` names `doc`")),
        "{problems:#?}"
    );
}

#[test]
fn layer_fields_belong_to_layers_and_a_layer_alone_does_not_load() {
    let r2016 = &committed()[0];
    assert_eq!(r2016.0, "R2016.toml");
    let text = r2016.1.replacen(
        "id = \"E1.min_age\"\n",
        "id = \"E1.min_age\"\nnew = true\n",
        1,
    );
    let problems = RuleSet::from_toml_str(&text).expect_err("layer field in a complete file");
    assert!(
        problems.iter().any(|p| p.code == ProblemCode::UnknownField
            && p.message.contains("`new` belongs to a layer")),
        "{problems:#?}"
    );
    let problems = RuleSet::from_toml_str(&r2025b()).expect_err("a layer needs its base");
    assert_eq!(problems[0].code, ProblemCode::UnknownBase);
}

#[test]
fn r2025a_is_split_at_296_qd_tw_and_08_hd_tw() {
    // Issue #15: from 30/5/2025 the discipline, appeal and inspection parameters of 296-QĐ/TW
    // (as R2025b states them), from 10/6/2025 D11 of 08-HD/TW; admission stays under
    // 232-QĐ/TW until 294-QĐ/TW (R2025b, 1/7/2025).
    let book = book(&committed());
    let a = book.get("R2025a").unwrap();
    let a2 = book.get("R2025a2").unwrap();
    let a3 = book.get("R2025a3").unwrap();
    let b = book.get("R2025b").unwrap();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(
        (a.valid_from, a.valid_to),
        (day("2025-01-20"), Some(day("2025-05-29")))
    );
    assert_eq!(
        (a2.valid_from, a2.valid_to),
        (day("2025-05-30"), Some(day("2025-06-09")))
    );
    assert_eq!(
        (a3.valid_from, a3.valid_to),
        (day("2025-06-10"), Some(day("2025-06-30")))
    );
    let from_296 = |id: &str| {
        id.starts_with('D') && id != "D11.count_until" && id != "D4.appeal_resolution_period"
            || id.starts_with("P1.")
            || id.starts_with("P3.")
            || id.starts_with("P4.")
    };
    let mut moved = 0;
    for p in a.params() {
        let changed_in_b = b.param(&p.id) != Some(p);
        let want_a2 = if from_296(&p.id) && changed_in_b {
            moved += 1;
            b.param(&p.id)
        } else {
            Some(p)
        };
        assert_eq!(a2.param(&p.id), want_a2, "R2025a2 {}", p.id);
        let want_a3 = if p.id == "D11.count_until" {
            b.param(&p.id)
        } else {
            want_a2
        };
        assert_eq!(a3.param(&p.id), want_a3, "R2025a3 {}", p.id);
    }
    assert_eq!(moved, 25);
    assert_eq!(a2.params().len(), a.params().len());
    assert_eq!(a3.params().len(), a.params().len());
    // The rule D11's new counting is in force from 10/6/2025, as its catalogue entry says.
    let d11 = |date: &str| {
        book.for_date(day(date))
            .unwrap()
            .text("D11.count_until")
            .unwrap()
            .to_owned()
    };
    assert_eq!(d11("2025-06-09"), "consideration");
    assert_eq!(d11("2025-06-10"), "conclusion");
    // Only tags, sources and notes change at 30/5: no value.
    assert!(diff_rule_sets(a, a2).iter().all(|c| !c.value_changed()));
    let values: Vec<&str> = diff_rule_sets(a2, a3)
        .iter()
        .filter(|c| c.value_changed())
        .map(|c| c.id)
        .collect();
    assert_eq!(values, ["D11.count_until"]);
}
