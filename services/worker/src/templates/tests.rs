use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use memberflow_store::{CaseBrief, OutboxKind, OutboxRecord, OutboxStatus, PeriodicJob, UnitBrief};
use memberflow_workflow::engine::{
    Definition, Effect, RoleRef, ShellChecks, Source as FileSource, check_sources,
};
use uuid::Uuid;

use super::*;

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// The `*.<ext>` files of `schemas/<sub>`, by name relative to `schemas/`.
fn files_of(sub: &str, ext: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(schemas().join(sub)).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|e| e == ext) {
            let name = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// The committed definitions, parsed.
fn definitions() -> Vec<Definition> {
    let defs = files_of("workflows", "toml");
    let sets = files_of("rulesets", "toml");
    let d: Vec<FileSource<'_>> = defs
        .iter()
        .map(|(n, t)| FileSource { name: n, text: t })
        .collect();
    let s: Vec<FileSource<'_>> = sets
        .iter()
        .map(|(n, t)| FileSource { name: n, text: t })
        .collect();
    let report = check_sources(&d, &s, &ShellChecks::default());
    assert!(!report.definitions.is_empty());
    report.definitions
}

/// The fixture values: every variable, with characters a template engine might mangle
/// (markup, braces, a line break in the subject).
fn fixture_full() -> Vars {
    let mut v = Vars::new();
    for (k, val) in [
        ("case", "Hồ sơ <Nguyễn Văn An> & “Bình”\n2026"),
        ("unit", "Chi bộ ấp 1 (CB1)"),
        ("state", "BranchVote {case} {{ unit }}"),
        ("due", "30/11/2026"),
        ("date", "25/11/2026"),
        ("rule", "S12"),
        (
            "items",
            "- 30/11/2026 [A10] Hồ sơ A (admission, Review)\n- 01/12/2026 [A11] Hồ sơ B \
             (admission, Ceremony) (QUÁ HẠN)",
        ),
        ("count", "2"),
        ("week", "2026-W48"),
        ("month", "2026-11"),
        ("year", "2026"),
        ("members", "1234"),
        ("admitted", "17"),
        ("target_low", "38"),
        ("target_high", "50"),
        ("on", "24/11/2026"),
        ("period", "2026-Q4"),
        (
            "decision",
            "Hình thức: khiển trách\nSố: 12-QĐ/ĐU, ngày 20/11/2026\nCơ quan: Đảng ủy xã",
        ),
    ] {
        v.insert(k, val.to_owned());
    }
    v
}

fn section(out: &mut String, set: &str, name: &str, code: &str, r: &Rendered) {
    out.push_str(&format!(
        "=== {set} {name} {code}\nSubject: {}\n{}",
        r.subject, r.body
    ));
}

/// The sections of a fixture text, by heading.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("=== ") {
            Some(h) => out.push((h.trim_end().to_owned(), String::new())),
            None => out.last_mut().unwrap().1.push_str(line),
        }
    }
    out
}

/// `tests/data/mails.txt` was written by the mail texts as Rust constants, before they
/// became files (commit "worker: the rendered mails of every template as a fixture"): every
/// kind in both languages with every variable given, and every kind a definition names for
/// a case without unit, deadline or decision (those are dashes). The files render the same
/// bytes. `MEMBERFLOW_UPDATE_MAIL_FIXTURE=1` rewrites it after a deliberate wording change.
#[test]
fn every_mail_renders_byte_for_byte_as_the_rust_constants_did() {
    let t = MailTemplates::embedded();
    let full = fixture_full();
    let mut out = String::new();
    for kind in t.kinds() {
        for (lang, code) in LANGS {
            section(
                &mut out,
                "full",
                kind,
                code,
                &t.render(kind, lang, &full).unwrap(),
            );
        }
    }
    let definition_kinds: BTreeSet<String> = mail_uses(&definitions())
        .into_iter()
        .filter(|(k, _)| !JOB_KINDS.iter().any(|(j, _)| j == k))
        .map(|(k, _)| k)
        .collect();
    let bare = CaseBrief {
        id: Uuid::nil(),
        title: full["case"].clone(),
        definition_id: "admission".into(),
        state: full["state"].clone(),
        terminal: false,
        next_due: None,
        unit: None,
        subject_member_id: None,
        decision: None,
    };
    for kind in &definition_kinds {
        for (lang, code) in LANGS {
            let mut vars = Vars::new();
            crate::worker::case_vars(&mut vars, Some(&bare), lang);
            vars.insert("date", full["date"].clone());
            vars.insert("rule", full["rule"].clone());
            section(
                &mut out,
                "sparse",
                kind,
                code,
                &t.render(kind, lang, &vars).unwrap(),
            );
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mails.txt");
    if std::env::var_os("MEMBERFLOW_UPDATE_MAIL_FIXTURE").is_some() {
        // A deliberate wording change (docs/reminders.md): the diff is reviewed.
        std::fs::write(&path, &out).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    let (got, want) = (sections(&out), sections(&expected));
    assert_eq!(
        got.iter().map(|s| &s.0).collect::<Vec<_>>(),
        want.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    for ((heading, g), (_, w)) in got.iter().zip(&want) {
        assert_eq!(g, w, "{heading}");
    }
    assert_eq!(out, expected);
    assert_eq!(want.len(), 2 * (t.kinds().len() + definition_kinds.len()));
}

#[test]
fn the_embedded_files_are_exactly_the_committed_ones() {
    let mut on_disk = files_of("mail", "txt");
    on_disk.sort();
    let mut embedded = embedded_files();
    embedded.sort();
    assert_eq!(
        on_disk.iter().map(|f| &f.0).collect::<Vec<_>>(),
        embedded.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "add new files under schemas/mail/ to KINDS in worker/src/templates/embedded.rs"
    );
    assert!(on_disk == embedded);
}

#[test]
fn the_committed_templates_pass_the_check_without_a_warning() {
    let uses = mail_uses(&definitions());
    let problems = check(&embedded_files(), &uses, true);
    assert!(problems.is_empty(), "{problems:#?}");
    // Every kind sent has a file; every file is sent.
    let t = MailTemplates::embedded();
    let kinds: BTreeSet<&str> = t.kinds().into_iter().collect();
    let sent: BTreeSet<&str> = uses.keys().map(String::as_str).collect();
    assert_eq!(kinds, sent);
}

#[test]
fn vietnamese_is_the_default_and_english_is_available() {
    let t = MailTemplates::embedded();
    let mut vars = Vars::new();
    crate::worker::case_vars(&mut vars, None, Lang::Vi);
    vars.insert("case", "Nguyễn Văn A".into());
    vars.insert("unit", "Chi bộ ấp 1 (CB1)".into());
    vars.insert("due", "30/11/2026".into());
    vars.insert("date", "25/11/2026".into());
    let vi = t
        .render("admission.decision_due_soon", Lang::default(), &vars)
        .unwrap();
    assert!(
        vi.subject.starts_with("Sắp đến hạn ra quyết định kết nạp"),
        "{vi:?}"
    );
    assert!(vi.body.contains("Hạn cuối: 30/11/2026"), "{vi:?}");
    assert!(
        vi.body.ends_with("Vui lòng không trả lời thư này.\n"),
        "{vi:?}"
    );
    let en = t
        .render("admission.decision_due_soon", Lang::En, &vars)
        .unwrap();
    assert!(
        en.subject.starts_with("Admission decision due soon"),
        "{en:?}"
    );
    assert!(en.body.contains("Last day: 30/11/2026"), "{en:?}");
    let e = t.render("no.such", Lang::Vi, &vars).unwrap_err();
    assert!(e.0.contains("unknown mail template no.such"), "{e}");
}

fn file(name: &str, text: &str) -> (String, String) {
    (name.to_owned(), text.to_owned())
}

fn footers() -> Vec<(String, String)> {
    vec![
        file("mail/footer.vi.txt", "--\nThư tự động.\n"),
        file("mail/footer.en.txt", "--\nAn automatic message.\n"),
    ]
}

#[test]
fn a_variable_the_mail_lacks_fails_the_render_naming_file_and_line() {
    let mut files = footers();
    files.push(file(
        "mail/x.vi.txt",
        "Về {{ case }}\n\nKính gửi {{ unit }},\n\nHạn: {{ deu }}.\n",
    ));
    let (t, problems) = MailTemplates::load(&files);
    assert!(problems.is_empty(), "{problems:?}");
    let mut vars = Vars::new();
    vars.insert("case", "A".into());
    vars.insert("unit", "B".into());
    let e = t.render("x", Lang::Vi, &vars).unwrap_err();
    assert!(
        e.0.starts_with("mail template mail/x.vi.txt, line 5: undefined value"),
        "{e}"
    );
    // Given, it renders; the footer follows after an empty line.
    vars.insert("deu", "C".into());
    let r = t.render("x", Lang::Vi, &vars).unwrap();
    assert_eq!(r.subject, "Về A");
    assert_eq!(r.body, "Kính gửi B,\n\nHạn: C.\n\n--\nThư tự động.\n");
    // A subject variable too.
    vars.remove("case");
    let e = t.render("x", Lang::Vi, &vars).unwrap_err();
    assert!(
        e.0.starts_with("mail template mail/x.vi.txt, line 1: undefined value"),
        "{e}"
    );
}

#[test]
fn windows_line_ends_a_byte_order_mark_and_trailing_blank_lines_change_nothing() {
    let mut files = footers();
    files.push(file("mail/x.vi.txt", "Về {{ case }}\n\nDòng 1\nDòng 2\n"));
    files.push(file(
        "mail/x.en.txt",
        "\u{feff}Về {{ case }}  \r\n\r\nDòng 1\r\nDòng 2\r\n\r\n\r\n",
    ));
    let (t, problems) = MailTemplates::load(&files);
    assert!(problems.is_empty(), "{problems:?}");
    let mut vars = Vars::new();
    vars.insert("case", "A".into());
    let vi = t.render("x", Lang::Vi, &vars).unwrap();
    let en = t.render("x", Lang::En, &vars).unwrap();
    assert_eq!(vi.subject, en.subject);
    assert_eq!(
        vi.body.replace("Thư tự động", "An automatic message"),
        en.body
    );
}

/// The uses of the test kinds: `x` is about a case, `digest.weekly` the digest's.
fn uses() -> BTreeMap<String, BTreeSet<Source>> {
    let mut m = BTreeMap::new();
    m.insert("x".to_owned(), BTreeSet::from([Source::Case]));
    m.insert(
        "n".to_owned(),
        BTreeSet::from([Source::Case, Source::DeadlinePassed]),
    );
    m.insert("d".to_owned(), BTreeSet::from([Source::DeadlinePassed]));
    m
}

fn codes(problems: &[MailProblem]) -> Vec<(String, Option<usize>, &'static str)> {
    problems
        .iter()
        .map(|p| (p.file.clone(), p.line, p.code.as_str()))
        .collect()
}

#[test]
fn check_reports_an_unknown_variable_with_its_file_and_line() {
    let mut files = footers();
    files.push(file("mail/x.vi.txt", "Về {{ case }}\n\nA\n\nB {{ cas }}\n"));
    files.push(file("mail/x.en.txt", "On {{ case }}\n\nA {{ unit }}\n"));
    // `rule` is given with a passed deadline's notice only: not to a kind also sent as a
    // case mail; `d` has it.
    files.push(file("mail/n.vi.txt", "{{ rule }}\n\nA\n"));
    files.push(file("mail/n.en.txt", "N\n\nA\n"));
    files.push(file("mail/d.vi.txt", "{{ rule }}\n\n{{ due }}\n"));
    files.push(file("mail/d.en.txt", "D\n\nA\n"));
    let problems = check(&files, &uses(), true);
    assert_eq!(
        codes(&problems),
        vec![
            ("mail/n.vi.txt".into(), Some(1), "MAIL_UNKNOWN_VARIABLE"),
            ("mail/x.vi.txt".into(), Some(5), "MAIL_UNKNOWN_VARIABLE"),
        ],
        "{problems:#?}"
    );
    let text = problems[1].to_string();
    assert!(
        text.starts_with(
            "mail/x.vi.txt: error[MAIL_UNKNOWN_VARIABLE] line 5: `cas` is not a variable of \
             this mail; it may use `case`, `date`, `decision`, `due`, `state`, `unit`"
        ),
        "{text}"
    );
}

#[test]
fn check_reports_syntax_layout_names_filters_missing_languages_and_unused_files() {
    let mut files = vec![file("mail/footer.vi.txt", "--\n{{ case }}\n")];
    files.extend([
        // An unclosed tag on line 4.
        file("mail/x.vi.txt", "Về {{ case }}\n\nA\nB {{ case \n"),
        // No empty second line.
        file("mail/x.en.txt", "On {{ case }}\nA\n"),
        // A filter the engine does not have.
        file("mail/n.vi.txt", "N\n\nA\n{{ case | upper }}\n"),
        // `n` has no English, `d` nothing.
        file("mail/stray.vi.txt", "S\n\nA\n"),
        file("mail/stray.fr.txt", "S\n\nA\n"),
        file("mail/README.md", "notes"),
    ]);
    let problems = check(&files, &uses(), true);
    let mut got = codes(&problems);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("mail/README.md".into(), None, "MAIL_FILE_NAME"),
            ("mail/footer.en.txt".into(), None, "MAIL_MISSING_LANGUAGE"),
            (
                "mail/footer.vi.txt".into(),
                Some(2),
                "MAIL_UNKNOWN_VARIABLE"
            ),
            ("mail/n.en.txt".into(), None, "MAIL_MISSING_LANGUAGE"),
            ("mail/n.vi.txt".into(), Some(4), "MAIL_RENDER"),
            ("mail/stray.fr.txt".into(), None, "MAIL_FILE_NAME"),
            ("mail/stray.vi.txt".into(), None, "MAIL_UNUSED"),
            ("mail/x.en.txt".into(), Some(2), "MAIL_LAYOUT"),
            ("mail/x.vi.txt".into(), Some(4), "MAIL_SYNTAX"),
        ],
        "{problems:#?}"
    );
    let unused = problems
        .iter()
        .find(|p| p.code == MailProblemCode::Unused)
        .unwrap();
    assert!(!unused.error);
    assert!(
        problems
            .iter()
            .filter(|p| p.code != MailProblemCode::Unused)
            .all(|p| p.error)
    );
    // Without unused warnings (the built-in files beside a directory of definitions).
    assert!(
        !check(&files, &uses(), false)
            .iter()
            .any(|p| p.code == MailProblemCode::Unused)
    );
}

#[test]
fn check_requires_the_periodic_jobs_kinds_and_the_footer() {
    let mut m = BTreeMap::new();
    m.insert(DIGEST.to_owned(), BTreeSet::from([Source::Digest]));
    let files = vec![file(
        "mail/digest.weekly.vi.txt",
        "{{ week }}\n\n{{ count }} {{ items }} {{ unit }} {{ date }}\n",
    )];
    let mut got = codes(&check(&files, &m, true));
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "mail/digest.weekly.en.txt".into(),
                None,
                "MAIL_MISSING_LANGUAGE"
            ),
            ("mail/footer.en.txt".into(), None, "MAIL_MISSING_TEMPLATE"),
            ("mail/footer.vi.txt".into(), None, "MAIL_MISSING_TEMPLATE"),
        ]
    );
}

fn record(kind: OutboxKind, payload: serde_json::Value, case: Option<Uuid>) -> OutboxRecord {
    OutboxRecord {
        id: 1,
        case_id: case,
        kind,
        dedupe_key: "k".into(),
        payload,
        due_on: NaiveDate::from_ymd_opt(2026, 11, 25).unwrap(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: None,
        last_error: None,
        sent_at: None,
        created_at: Utc::now(),
        handled_by: None,
        note: None,
    }
}

/// The worker gives each mail exactly the variables its source declares, whatever the case
/// lacks: what `memberflow check` checks the files against is what the worker does.
#[test]
fn the_worker_gives_every_mail_exactly_the_variables_of_its_source() {
    let to = RoleRef {
        role: "secretary".into(),
        level: None,
    };
    let unit = UnitBrief {
        id: Uuid::nil(),
        code: "CB1".into(),
        name: "Chi bộ 1".into(),
    };
    let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let job = |j: PeriodicJob| (j.kind(), serde_json::to_value(&j).unwrap());
    let rows = [
        (
            OutboxKind::Mail,
            serde_json::to_value(Effect::SendMail {
                template: "admission.decision_issued".into(),
                to: to.clone(),
            })
            .unwrap(),
            Source::Case,
        ),
        (
            OutboxKind::Reminder,
            serde_json::to_value(Effect::ScheduleReminder {
                key: "r".into(),
                template: "admission.decision_due_soon".into(),
                to: to.clone(),
                at: day,
            })
            .unwrap(),
            Source::Case,
        ),
        {
            let (k, p) = job(PeriodicJob::DeadlinePassed {
                case_id: Uuid::nil(),
                key: "d".into(),
                rule: "A10".into(),
                due: day,
                template: "admission.decision_overdue".into(),
                to: to.clone(),
            });
            (k, p, Source::DeadlinePassed)
        },
        {
            let (k, p) = job(PeriodicJob::Digest {
                unit: unit.clone(),
                to: to.clone(),
                week: "2026-W48".into(),
                items: Vec::new(),
            });
            (k, p, Source::Digest)
        },
        {
            let (k, p) = job(PeriodicJob::Meeting {
                unit: unit.clone(),
                to: to.clone(),
                month: "2026-11".into(),
            });
            (k, p, Source::Meeting)
        },
        {
            let (k, p) = job(PeriodicJob::TargetReport {
                unit: unit.clone(),
                to: to.clone(),
                month: "2026-11".into(),
                year: 2026,
                members_at_start: 100,
                admitted: 1,
                target_low: 3,
                target_high: 4,
                on: day,
                behind: Vec::new(),
            });
            (k, p, Source::TargetReport)
        },
        {
            let (k, p) = job(PeriodicJob::Occasion {
                unit: unit.clone(),
                to: to.clone(),
                template: THEMATIC_MEETING.into(),
                period: "2026-Q4".into(),
            });
            (k, p, Source::Occasion)
        },
    ];
    let t = MailTemplates::embedded();
    for (kind, payload, source) in rows {
        for lang in [Lang::Vi, Lang::En] {
            let r = record(kind, payload.clone(), None);
            let (template, _, _, got, vars) = crate::worker::mail_vars(&r, None, lang).unwrap();
            assert_eq!(got, source, "{kind:?}");
            let keys: BTreeSet<&str> = vars.keys().copied().collect();
            let want: BTreeSet<&str> = source.variables().iter().copied().collect();
            assert_eq!(keys, want, "{kind:?}");
            // And the committed template of that kind renders with them.
            t.render(&template, lang, &vars).unwrap();
        }
    }
}
