//! The vocabulary's own checks: every word has a label in both languages, no two words of a
//! kind share one, and no other source file of the workspace spells a label.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

/// Every word of the vocabulary with its label: (what, code, label).
fn every_label() -> Vec<(&'static str, String, Text)> {
    let mut out = Vec::new();
    for l in Level::ALL {
        out.push((
            "tree level (its committee)",
            l.as_str().to_owned(),
            l.committee(),
        ));
    }
    for l in RoleLevel::ALL {
        out.push(("role level", l.as_str().to_owned(), l.label()));
    }
    for k in BodyKind::ALL {
        out.push(("body kind", k.as_str().to_owned(), k.label()));
        for l in Level::ALL {
            out.push(("body", format!("{}@{}", k.as_str(), l.as_str()), k.at(l)));
        }
    }
    for f in DisciplineForm::ALL {
        out.push(("discipline form", f.as_str().to_owned(), f.label()));
    }
    for s in Subject::ALL {
        out.push(("subject", format!("{s:?}"), s.label()));
    }
    for s in MemberStatus::ALL
        .into_iter()
        .chain([MemberStatus::Candidate])
    {
        out.push(("member status", s.as_str().to_owned(), s.label()));
    }
    for k in HamletKind::ALL {
        out.push(("hamlet kind", k.as_str().to_owned(), k.label()));
    }
    out
}

#[test]
fn every_label_exists_in_both_languages() {
    for (what, code, label) in every_label() {
        assert!(
            !label.vi.trim().is_empty(),
            "{what} `{code}` has no Vietnamese label"
        );
        assert!(
            !label.en.trim().is_empty(),
            "{what} `{code}` has no English label"
        );
        assert!(
            label.en.is_ascii(),
            "{what} `{code}`: the English label `{}` is not English",
            label.en
        );
        assert!(
            !label.vi.is_ascii() || label.vi != label.en,
            "{what} `{code}`: the Vietnamese label `{}` is the English one",
            label.vi
        );
        for text in [&label.vi, &label.en] {
            assert!(
                !text.contains('«') && !text.contains('`'),
                "{what} `{code}` falls back to its code: `{text}`"
            );
        }
    }
}

#[test]
fn no_two_words_of_a_kind_share_a_label() {
    let mut seen: BTreeSet<(&str, String)> = BTreeSet::new();
    for (what, code, label) in every_label() {
        // A body's name may not depend on its level (the branch, the Politburo) and the
        // committee of a branch is the branch: bodies are checked by their kind's code.
        if what == "body" {
            continue;
        }
        for text in [label.vi, label.en] {
            assert!(
                seen.insert((what, text.to_lowercase())),
                "{what} `{code}`: label `{text}` is another word's"
            );
        }
    }
}

#[test]
fn the_discipline_form_removal_has_one_label() {
    // Once "removal from post" in reasons and "dismissal from post" in reports.
    assert_eq!(DisciplineForm::Removal.label().en, "removal from post");
    assert_eq!(
        crate::violations::form_label("removal").en,
        "removal from post"
    );
    assert_eq!(form_en("removal"), "removal from post");
}

#[test]
fn a_status_set_by_a_workflow_keeps_its_definition_name_when_serialized() {
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Effect {
        #[serde(with = "definition_name")]
        status: MemberStatus,
    }
    for status in MemberStatus::SET_BY_WORKFLOWS {
        let text = format!("status = \"{}\"\n", status.definition_name());
        let effect = Effect { status };
        assert_eq!(toml::to_string(&effect).ok(), Some(text.clone()));
        assert_eq!(toml::from_str::<Effect>(&text).ok(), Some(effect));
    }
    assert_eq!(
        MemberStatus::from_definition_name("struck_off"),
        Some(MemberStatus::StruckOff)
    );
    assert_eq!(MemberStatus::from_definition_name("expelled"), None);
}

#[test]
fn levels_map_to_role_levels_in_one_place() {
    for l in Level::ALL {
        assert_eq!(RoleLevel::from(l).as_str(), l.as_str());
        assert_eq!(Level::parse(l.as_str()), Some(l));
    }
    assert!(
        Level::Central < Level::Branch,
        "the tree is ordered from the top"
    );
    assert!(
        RoleLevel::Branch < RoleLevel::Central,
        "roles are ordered from the bottom"
    );
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

// No label spelled elsewhere ------------------------------------------------------------------

/// The string literals of Rust source `src`, with their line numbers: comments skipped, the
/// contents of `#[cfg(test)]` modules left out (a test may spell what it expects).
fn literals(src: &str) -> Vec<(usize, String)> {
    let code = match src.find("#[cfg(test)]") {
        Some(i) => &src[..i],
        None => src,
    };
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        match chars[i] {
            '\n' => line += 1,
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            // A character literal such as '"' or '\''.
            '\'' if chars.get(i + 2) == Some(&'\'') => {
                i += 3;
                continue;
            }
            '\'' if chars.get(i + 1) == Some(&'\\') && chars.get(i + 3) == Some(&'\'') => {
                i += 4;
                continue;
            }
            '"' => {
                let start = line;
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if let Some(&c) = chars.get(i) {
                        if c == '\n' {
                            line += 1;
                        }
                        s.push(c);
                    }
                    i += 1;
                }
                out.push((start, s));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn literals_are_read_from_code_not_comments() {
    let src =
        "let a = \"x\"; // \"y\"\nlet q = '\"'; let b = \"p\\\"q\";\n#[cfg(test)]\nlet c = \"z\";";
    assert_eq!(
        literals(src),
        vec![(1, "x".to_owned()), (2, "p\"q".to_owned())]
    );
}

/// The domain's commonest nouns, which are labels and also what headings, columns, sheets and
/// unit names are called ("Đảng viên" heads the members page): not scanned for.
const GENERIC: &[&str] = &[
    "đảng viên",
    "tổ chức đảng",
    "chi bộ",
    "trung ương",
    "branch",
];

/// Literals that read like a label but name another word: (file, literal, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "workflow/src/access.rs",
        "Đảng ủy cơ sở",
        "a role's label (access::Role): the grassroots executive committee's members",
    ),
    (
        "console/src/i18n.rs",
        "Direct superior",
        "a choice list's short name of a level, beside `Cấp trên trực tiếp`",
    ),
];

#[test]
fn no_other_module_spells_a_label() {
    // Every label that is not also a code (the English `warning` is the form's code too, and
    // codes are spelled in files and matches everywhere), compared without case.
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for (_, code, _) in every_label() {
        codes.insert(code.to_lowercase());
    }
    let mut labels: BTreeSet<String> = BTreeSet::new();
    for (_, _, label) in every_label() {
        for text in [label.vi, label.en] {
            if !codes.contains(&text.to_lowercase())
                && !GENERIC.contains(&text.to_lowercase().as_str())
            {
                labels.insert(text.to_lowercase());
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let services = root
        .join("..")
        .canonicalize()
        .unwrap_or_else(|_| root.join(".."));
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&services).into_iter().flatten().flatten() {
        rust_files(&krate.path().join("src"), &mut files);
    }
    let vocab = services.join("workflow/src/vocab");
    assert!(files.len() > 50, "the workspace's sources were not found");
    let mut found = Vec::new();
    for file in files {
        if file.with_extension("") == vocab || file.starts_with(&vocab) {
            continue;
        }
        let src = std::fs::read_to_string(&file).unwrap_or_default();
        let path = file.to_string_lossy().replace('\\', "/");
        for (line, literal) in literals(&src) {
            let allowed = ALLOWED
                .iter()
                .any(|(suffix, text, _)| path.ends_with(suffix) && literal == *text);
            if !allowed && labels.contains(&literal.trim().to_lowercase()) {
                found.push(format!("{}:{line}: \"{literal}\"", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "labels of the vocabulary spelled outside src/vocab.rs (take them from \
         memberflow_workflow::vocab):\n{}",
        found.join("\n")
    );
}
