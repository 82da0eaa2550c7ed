//! `memberflow rules [ID]`: the rule catalogue (`schemas/rules.toml`), and for one rule its
//! source, how far it was verified, the parameters each rule set gives it and where the
//! definitions and guards cite it; `memberflow rules --diff FROM TO`: the effective
//! differences between two rule sets (layers resolved). Vietnamese by default, `--lang en` for
//! English.

use std::fmt::Write as _;
use std::process::ExitCode;

use memberflow_workflow::engine::{Param, ParamChange, ParamValue, RuleSet, diff_rule_sets};
use memberflow_workflow::rule_catalogue::{self, CatalogueRule, RuleCatalogue};
use memberflow_workflow::text::Lang;

use crate::config::Config;

/// The catalogue and rule sets `memberflow rules` reads: from `schemas_dir` when configured
/// (its `rules.toml`, or the built-in catalogue when it has none), else the built-in files.
fn load(config: &Config) -> anyhow::Result<(RuleCatalogue, memberflow_workflow::catalog::Catalog)> {
    let catalog = crate::load_catalog(config)?;
    let catalogue = match &config.schemas_dir {
        Some(dir) if dir.join("rules.toml").is_file() => {
            let text = std::fs::read_to_string(dir.join("rules.toml"))?;
            RuleCatalogue::from_toml_str(&text).map_err(|ps| {
                anyhow::anyhow!(
                    "rules.toml is invalid:\n  - {}",
                    ps.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n  - ")
                )
            })?
        }
        _ => RuleCatalogue::committed().clone(),
    };
    Ok((catalogue, catalog))
}

fn title(rule: &CatalogueRule, lang: Lang) -> &str {
    match lang {
        Lang::En => &rule.title_en,
        _ => &rule.title_vi,
    }
}

fn value_text(value: Option<&ParamValue>, lang: Lang) -> String {
    let none = match lang {
        Lang::En => "(no value)",
        _ => "(chưa có giá trị)",
    };
    match value {
        None => none.to_owned(),
        Some(ParamValue::Integer(i)) => i.to_string(),
        // Durations and thresholds in the reader's words: "12 tháng", "30 ngày làm việc",
        // "ít nhất 2/3" (English: "12 months", "30 working days", "at least 2/3").
        Some(ParamValue::Period(p)) => match lang {
            Lang::En => p.en(),
            _ => p.vi(),
        },
        Some(ParamValue::Threshold(t)) => match lang {
            Lang::En => t.en(),
            _ => t.vi(),
        },
        Some(ParamValue::Text(t)) => format!("{t:?}"),
        Some(ParamValue::TextList(l)) => format!("{l:?}"),
        Some(ParamValue::Flag(b)) => match (lang, b) {
            (Lang::En, b) => b.to_string(),
            (_, true) => "có".to_owned(),
            (_, false) => "không".to_owned(),
        },
    }
}

/// The whole catalogue, one rule per line with its source on the next.
pub fn list(catalogue: &RuleCatalogue, lang: Lang) -> String {
    let mut out = String::new();
    let (source, validity, count) = match lang {
        Lang::En => ("source", "in force", "rule(s)"),
        _ => ("nguồn", "hiệu lực", "quy tắc"),
    };
    for rule in catalogue.rules() {
        let _ = writeln!(
            out,
            "{:<4} {:<6} {}",
            rule.id,
            rule.certainty,
            title(rule, lang)
        );
        let _ = write!(out, "            {source}: {}", rule.source);
        if rule.valid_from.is_some() || rule.valid_to.is_some() {
            let _ = write!(out, "; {validity}: {}", rule.validity());
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{} {count}", catalogue.rules().len());
    out
}

/// One rule: its titles, source, certainty, validity, parameters by rule set and citations.
pub fn show(
    rule: &CatalogueRule,
    rule_sets: &[RuleSet],
    definitions: &[memberflow_workflow::engine::Definition],
    lang: Lang,
) -> String {
    let en = lang == Lang::En;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", rule.id, title(rule, lang));
    let other = if en { &rule.title_vi } else { &rule.title_en };
    let _ = writeln!(
        out,
        "{}: {other}",
        if en { "Vietnamese" } else { "Tiếng Anh" }
    );
    let _ = writeln!(
        out,
        "{}: {}",
        if en { "Source" } else { "Nguồn" },
        rule.source
    );
    let _ = writeln!(
        out,
        "{}: {} ({})",
        if en {
            "Certainty"
        } else {
            "Mức kiểm chứng"
        },
        rule.certainty,
        if en {
            "V read in the primary text, S secondary source, M unverified"
        } else {
            "V đã đọc văn bản gốc, S nguồn thứ cấp, M chưa kiểm chứng"
        }
    );
    let validity = match (rule.valid_from, rule.valid_to, en) {
        (None, None, true) => "as long as the rule sets that carry it".to_owned(),
        (None, None, false) => "theo các bộ quy tắc có nó".to_owned(),
        _ => rule.validity(),
    };
    let _ = writeln!(
        out,
        "{}: {validity}",
        if en { "In force" } else { "Hiệu lực" }
    );
    if let Some(note) = &rule.note {
        let _ = writeln!(out, "{}: {note}", if en { "Note" } else { "Ghi chú" });
    }
    let _ = writeln!(
        out,
        "{}:",
        if en {
            "Parameters by rule set"
        } else {
            "Tham số theo bộ quy tắc"
        }
    );
    for (set, params) in rule_catalogue::parameters_of(&rule.id, rule_sets) {
        let days = match set.valid_to {
            Some(to) => format!("{} – {to}", set.valid_from),
            None => format!("{} –", set.valid_from),
        };
        if params.is_empty() {
            let _ = writeln!(
                out,
                "  {} ({days}): {}",
                set.id,
                if en { "none" } else { "không có" }
            );
            continue;
        }
        let _ = writeln!(out, "  {} ({days}):", set.id);
        for p in params {
            let _ = writeln!(
                out,
                "    {} = {} {}",
                p.id,
                value_text(p.value.as_ref(), lang),
                p.tag
            );
        }
    }
    let cited: Vec<_> = rule_catalogue::citations(definitions, &[])
        .into_iter()
        .filter(|c| c.rule == rule.id)
        .collect();
    let _ = writeln!(
        out,
        "{}:",
        if en {
            "Cited by"
        } else {
            "Được dẫn chiếu tại"
        }
    );
    if cited.is_empty() {
        let _ = writeln!(out, "  {}", if en { "nothing" } else { "không có" });
    }
    for c in cited {
        let _ = writeln!(out, "  {}: {}", c.file, c.place);
    }
    out
}

/// Runs `memberflow rules [ID]`.
pub fn run(config: &Config, id: Option<&str>, lang: Lang) -> anyhow::Result<ExitCode> {
    let (catalogue, catalog) = load(config)?;
    match id {
        None => {
            print!("{}", list(&catalogue, lang));
            Ok(ExitCode::SUCCESS)
        }
        Some(id) => match catalogue.get(id) {
            Some(rule) => {
                print!(
                    "{}",
                    show(rule, catalog.rules.sets(), &catalog.definitions, lang)
                );
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!(
                    "{}",
                    match lang {
                        Lang::En => format!(
                            "no rule `{id}` in the rule catalogue (memberflow rules lists them)"
                        ),
                        _ => format!(
                            "không có quy tắc «{id}» trong danh mục quy tắc (xem danh sách bằng memberflow rules)"
                        ),
                    }
                );
                Ok(ExitCode::FAILURE)
            }
        },
    }
}

fn period_of(set: &RuleSet) -> String {
    match set.valid_to {
        Some(to) => format!("{} – {to}", set.valid_from),
        None => format!("{} –", set.valid_from),
    }
}

/// The fields other than the value that differ, in the language's words.
fn other_changes(before: &Param, after: &Param, lang: Lang) -> Vec<&'static str> {
    let en = lang == Lang::En;
    let mut out = Vec::new();
    if before.tag != after.tag {
        out.push(if en { "tag" } else { "mức kiểm chứng" });
    }
    if before.kind != after.kind {
        out.push(if en { "kind" } else { "loại" });
    }
    if before.rule != after.rule {
        out.push(if en { "rule" } else { "quy tắc" });
    }
    if before.source != after.source {
        out.push(if en { "source" } else { "nguồn" });
    }
    if before.doc != after.doc {
        out.push(if en { "description" } else { "mô tả" });
    }
    if before.note != after.note {
        out.push(if en { "note" } else { "ghi chú" });
    }
    out
}

/// `memberflow rules --diff FROM TO`: every parameter that differs between the two effective
/// rule sets, the changed values first (id, old → new value, source), then the parameters whose
/// value is the same but whose tag, source or note changed.
pub fn diff(from: &RuleSet, to: &RuleSet, lang: Lang) -> String {
    let en = lang == Lang::En;
    let absent = if en { "(absent)" } else { "(không có)" };
    let source = if en { "source" } else { "nguồn" };
    let changes = diff_rule_sets(from, to);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({}) → {} ({})",
        if en {
            "Effective differences from"
        } else {
            "Khác biệt hiệu lực từ"
        },
        from.id,
        period_of(from),
        to.id,
        period_of(to)
    );
    let (values, others): (Vec<&ParamChange<'_>>, Vec<&ParamChange<'_>>) =
        changes.iter().partition(|c| c.value_changed());
    let _ = writeln!(
        out,
        "{}: {}",
        if en {
            "Values changed"
        } else {
            "Giá trị thay đổi"
        },
        values.len()
    );
    for c in &values {
        let side = |p: Option<&Param>| match p {
            Some(p) => format!("{} {}", value_text(p.value.as_ref(), lang), p.tag),
            None => absent.to_owned(),
        };
        let _ = writeln!(out, "  {}: {} → {}", c.id, side(c.before), side(c.after));
        if let Some(p) = c.after.or(c.before) {
            let _ = writeln!(out, "      {source}: {}", p.source);
        }
    }
    let _ = writeln!(
        out,
        "{}: {}",
        if en {
            "Same value, tag, source or note changed"
        } else {
            "Giá trị không đổi, đổi mức kiểm chứng, nguồn hoặc ghi chú"
        },
        others.len()
    );
    for c in &others {
        let (Some(before), Some(after)) = (c.before, c.after) else {
            continue;
        };
        let tags = if before.tag == after.tag {
            after.tag.to_string()
        } else {
            format!("{} → {}", before.tag, after.tag)
        };
        let _ = writeln!(
            out,
            "  {} = {} {tags} ({}: {})",
            c.id,
            value_text(after.value.as_ref(), lang),
            if en { "changed" } else { "đổi" },
            other_changes(before, after, lang).join(", ")
        );
        let _ = writeln!(out, "      {source}: {}", after.source);
    }
    let _ = writeln!(
        out,
        "{} {}",
        changes.len(),
        if en {
            "parameter(s) differ"
        } else {
            "tham số khác nhau"
        }
    );
    out
}

/// Runs `memberflow rules --diff FROM TO`.
pub fn run_diff(config: &Config, from: &str, to: &str, lang: Lang) -> anyhow::Result<ExitCode> {
    let (_, catalog) = load(config)?;
    let book = &catalog.rules;
    match (book.get(from), book.get(to)) {
        (Some(a), Some(b)) => {
            print!("{}", diff(a, b, lang));
            Ok(ExitCode::SUCCESS)
        }
        (a, _) => {
            let missing = if a.is_none() { from } else { to };
            let known = book
                .sets()
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            eprintln!(
                "{}",
                match lang {
                    Lang::En => format!("no rule set `{missing}` (the rule sets: {known})"),
                    _ => format!("không có bộ quy tắc «{missing}» (các bộ quy tắc: {known})"),
                }
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
