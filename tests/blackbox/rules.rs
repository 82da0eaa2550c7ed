//! The rule catalogue through the real binary: `memberflow rules [ID]` prints it, and
//! `memberflow check` refuses every rule id a definition or rule set cites that the catalogue
//! lacks, with every other problem, at once.

use crate::binary::memberflow;

const CATALOGUE: &str = include_str!("../../schemas/rules.toml");

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = memberflow(dir).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn rules_lists_the_catalogue_in_vietnamese_and_in_english() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(dir.path(), &["rules"]);
    assert!(ok, "{out}{err}");
    let entries = CATALOGUE.matches("\n[[rule]]\n").count();
    assert!(entries > 100);
    assert!(out.ends_with(&format!("{entries} quy tắc\n")), "{out}");
    // Every rule once, in order of letter then number (A2 before A10).
    let ids: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids.len(), entries + 1, "{out}");
    let a2 = ids.iter().position(|i| *i == "A2").unwrap();
    let a10 = ids.iter().position(|i| *i == "A10").unwrap();
    assert!(a2 < a10);
    assert!(
        out.contains("A10  V/M    Cấp ủy có thẩm quyền quyết định kết nạp"),
        "{out}"
    );
    assert!(
        out.contains(
            "nguồn: Hướng dẫn 08-HD/TW (10/6/2025) mục I điểm 7; hiệu lực: from 2025-06-10"
        )
    );

    let (ok, out, _) = run(dir.path(), &["rules", "--lang", "en"]);
    assert!(ok);
    assert!(
        out.contains("A10  V/M    The competent committee decides an admission"),
        "{out}"
    );
    assert!(out.ends_with(&format!("{entries} rule(s)\n")));
}

#[test]
fn rules_id_shows_one_rule_with_the_parameters_of_every_rule_set() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(dir.path(), &["rules", "A10"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with("A10: Cấp ủy có thẩm quyền quyết định kết nạp"),
        "{out}"
    );
    assert!(out.contains("Nguồn: Quy định 29-QĐ/TW"), "{out}");
    assert!(out.contains("Mức kiểm chứng: V/M"), "{out}");
    for set in [
        "R2016 (2016-07-25 – 2021-07-29):",
        "R2021 (2021-07-30 – 2025-01-19):",
        "R2025b (2025-07-01 –):",
    ] {
        assert!(out.contains(set), "{set} missing from:\n{out}");
    }
    assert!(
        out.contains("    A10.admission_decision_period = "),
        "{out}"
    );
    // Where it is cited: the admission workflow's deadline.
    assert!(out.contains("workflow admission: state "), "{out}");

    let (ok, out, _) = run(dir.path(), &["rules", "D11", "--lang", "en"]);
    assert!(ok);
    assert!(
        out.starts_with("D11: Limitation runs from the violation until"),
        "{out}"
    );
    assert!(out.contains("In force: from 2025-06-10"), "{out}");
    assert!(
        out.contains("Vietnamese: Thời hiệu tính từ thời điểm vi phạm"),
        "{out}"
    );

    let (ok, out, err) = run(dir.path(), &["rules", "Z9"]);
    assert!(!ok, "{out}");
    assert!(err.contains("không có quy tắc «Z9»"), "{err}");
}

/// `memberflow check` on a schemas directory that must fail; its report.
fn check_dir(dir: &std::path::Path) -> String {
    let o = memberflow(dir)
        .env("MEMBERFLOW_SCHEMAS_DIR", dir)
        .arg("check")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!o.status.success(), "{out}");
    out
}

#[test]
fn check_refuses_rule_ids_missing_from_the_catalogue_with_every_other_problem() {
    // A catalogue without A1 (cited by the admission workflow) and with a broken entry, a
    // workflow citing A98, and a broken calendar: all reported by one run.
    let start = CATALOGUE.find("[[rule]]\nid = \"A1\"\n").unwrap();
    let end = start + CATALOGUE[start..].find("\n\n").unwrap();
    let catalogue = format!(
        "{}{}\n[[rule]]\nid = \"X01\"\ntitle_vi = \"\"\ntitle_en = \"x\"\nsource = \"x\"\ncertainty = \"Q\"\n",
        &CATALOGUE[..start],
        &CATALOGUE[end..]
    );
    let toy =
        include_str!("../data/toy.toml").replacen("rules = [\"A10\"]", "rules = [\"A98\"]", 1);
    assert!(toy.contains("A98"));
    let dir = memberflow_tests::schemas_with(&[
        ("rules.toml", &catalogue),
        ("workflows/toy.toml", &toy),
        ("calendars/bad.toml", "weekends = [\"Funday\"]\n"),
    ]);
    let out = check_dir(dir.path());
    for needle in [
        "error: rules.toml: rule[",
        "(X01): `X01` is not a rule id",
        "(X01): `title_vi` is empty",
        "certainty \"Q\" must be V, S or M",
        "error: workflow admission: transition open: rule `A1` is not in the rule catalogue (schemas/rules.toml)",
        "error: workflow toy: state Review: rule `A98` is not in the rule catalogue",
        "error: calendars/bad.toml",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
    // And the committed catalogue covers the committed files; a rule set carrying a rule
    // outside the rule's own days is a warning, not an error.
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let (ok, out, err) = run(std::path::Path::new(repo), &["check"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("0 problem(s)"), "{out}");
    assert!(out.contains("warning: rule set R2021: param D11."), "{out}");
}

#[test]
fn rules_diff_prints_the_effective_differences_between_two_rule_sets() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(dir.path(), &["rules", "--diff", "R2025a", "R2025b"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with(
            "Khác biệt hiệu lực từ R2025a (2025-01-20 – 2025-05-29) → R2025b (2025-07-01 –)\nGiá trị thay đổi: 2\n"
        ),
        "{out}"
    );
    // The two values of 2025b: id, old → new value with its tag, and the new source.
    assert!(
        out.contains(
            "  D11.count_until: \"consideration\" [V] → \"conclusion\" [S]\n      nguồn: 08-HD/TW (10/6/2025) mục I điểm 7 (D11)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("  A10.competent_body: \"Ban thường vụ cấp ủy cấp trên trực tiếp"),
        "{out}"
    );
    // The parameters whose value stays and whose tag or source changed, then the count.
    assert!(
        out.contains(
            "  E1.min_age = 216 tháng [V] → [S] (đổi: mức kiểm chứng, nguồn)\n      nguồn: 294-QĐ/TW Điều 1 mục 1.1.1 (quiz)\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("Giá trị không đổi, đổi mức kiểm chứng, nguồn hoặc ghi chú: 49\n"),
        "{out}"
    );
    assert!(out.ends_with("51 tham số khác nhau\n"), "{out}");
    // A parameter neither changes is not listed.
    assert!(!out.contains("A14.vote_threshold"), "{out}");

    let (ok, en, _) = run(
        dir.path(),
        &["rules", "--diff", "R2025a", "R2025b", "--lang", "en"],
    );
    assert!(ok);
    assert!(en.starts_with("Effective differences from R2025a"), "{en}");
    assert!(en.contains("Values changed: 2\n"), "{en}");
    assert!(
        en.contains("      source: 08-HD/TW (10/6/2025) mục I điểm 7 (D11)\n"),
        "{en}"
    );
    assert!(en.contains("(changed: tag, source)"), "{en}");
    assert!(
        en.contains("  E1.min_age = 216 months [V] → [S] (changed: tag, source)\n"),
        "{en}"
    );
    assert!(en.ends_with("51 parameter(s) differ\n"), "{en}");

    // Any two rule sets, either way round: R2016 to R2021 changes no value.
    let (ok, out, _) = run(dir.path(), &["rules", "--diff", "R2021", "R2016"]);
    assert!(ok);
    assert!(out.contains("Giá trị thay đổi: 0\n"), "{out}");
    assert!(out.ends_with("106 tham số khác nhau\n"), "{out}");

    // Issue #15's split: 08-HD/TW changes one value on 10/6/2025.
    let (ok, out, _) = run(dir.path(), &["rules", "--diff", "R2025a2", "R2025a3"]);
    assert!(ok);
    assert!(
        out.contains("Giá trị thay đổi: 1\n  D11.count_until: "),
        "{out}"
    );
    assert!(out.ends_with("\n1 tham số khác nhau\n"), "{out}");

    let (ok, _, err) = run(dir.path(), &["rules", "--diff", "R2025a", "R2099"]);
    assert!(!ok);
    assert!(
        err.contains("không có bộ quy tắc «R2099» (các bộ quy tắc: R2016, R2021, R2025a, R2025a2, R2025a3, R2025b)"),
        "{err}"
    );
}

#[test]
fn check_refuses_a_rule_set_layer_that_restates_a_value_or_names_an_unknown_parameter() {
    let layer = include_str!("../../schemas/rulesets/R2025b.toml");
    let bad = layer.replacen(
        "id = \"E1.min_age\"\ntag = \"S\"\n",
        "id = \"E1.min_age\"\ntag = \"S\"\nvalue = { months = 216 }\n",
        1,
    ) + "\n[[param]]\nid = \"A10.decision_periodd\"\nvalue = { working_days = 30 }\n";
    assert_ne!(bad, layer);
    let dir = memberflow_tests::schemas_with(&[("rulesets/R2025b.toml", &bad)]);
    let out = check_dir(dir.path());
    for needle in [
        "error: rulesets/R2025b.toml: error[RESTATED_VALUE] parameter `E1.min_age`: `value` restates the value it has in base R2025a3",
        "error: rulesets/R2025b.toml: error[NOT_IN_BASE] parameter `A10.decision_periodd`: base R2025a3 has no parameter `A10.decision_periodd`",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
}

/// Durations, thresholds and flags are printed in the reader's language: "12 tháng",
/// "60 ngày làm việc", "ít nhất 2/3" in Vietnamese (the default), "12 months", "60 working
/// days", "at least 2/3" with `--lang en`; never the English forms in a Vietnamese listing.
#[test]
fn rules_print_durations_in_vietnamese_by_default_and_in_english_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, vi, err) = run(dir.path(), &["rules", "A13"]);
    assert!(ok, "{vi}{err}");
    assert!(
        vi.contains("    A13.probation_period = 12 tháng [M]\n"),
        "{vi}"
    );
    let (ok, vi, _) = run(dir.path(), &["rules", "A10"]);
    assert!(ok);
    assert!(
        vi.contains("    A10.admission_decision_period = 60 ngày làm việc [M]\n"),
        "{vi}"
    );
    let (ok, vi, _) = run(dir.path(), &["rules", "A8"]);
    assert!(ok);
    assert!(
        vi.contains("    A8.vote_threshold = ít nhất 2/3 [M]\n"),
        "{vi}"
    );
    for english in ["month", "working day", "at least", "years"] {
        for id in ["A8", "A10", "A13"] {
            let (_, vi, _) = run(dir.path(), &["rules", id]);
            let params: String = vi
                .lines()
                .filter(|l| l.starts_with("    "))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(!params.contains(english), "{english} in {id}:\n{params}");
        }
    }

    let (ok, en, _) = run(dir.path(), &["rules", "A13", "--lang", "en"]);
    assert!(ok);
    assert!(
        en.contains("    A13.probation_period = 12 months [M]\n"),
        "{en}"
    );
    let (ok, en, _) = run(dir.path(), &["rules", "A10", "--lang", "en"]);
    assert!(ok);
    assert!(
        en.contains("    A10.admission_decision_period = 60 working days [M]\n"),
        "{en}"
    );
    let (ok, en, _) = run(dir.path(), &["rules", "A8", "--lang", "en"]);
    assert!(ok);
    assert!(
        en.contains("    A8.vote_threshold = at least 2/3 [M]\n"),
        "{en}"
    );
}
