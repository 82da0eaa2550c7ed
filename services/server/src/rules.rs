//! `memberflow rules [ID]`: the rule catalogue (`schemas/rules.toml`), and for one rule its
//! source, how far it was verified, the parameters each rule set gives it and where the
//! definitions and guards cite it. Vietnamese by default, `--lang en` for English.

use std::fmt::Write as _;
use std::process::ExitCode;

use memberflow_workflow::engine::{ParamValue, RuleSet};
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
        Some(ParamValue::Period(p)) => p.to_string(),
        Some(ParamValue::Threshold(t)) => t.to_string(),
        Some(ParamValue::Text(t)) => format!("{t:?}"),
        Some(ParamValue::TextList(l)) => format!("{l:?}"),
        Some(ParamValue::Flag(b)) => b.to_string(),
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
