//! The raw shapes of a definition file: every field optional, unknown fields collected, so that
//! validation reports every problem instead of stopping at serde's first.

use std::collections::BTreeMap;

use serde::Deserialize;

pub(super) type Extra = BTreeMap<String, toml::Value>;

#[derive(Deserialize)]
pub(super) struct RawDefinition {
    pub(super) id: Option<String>,
    pub(super) version: Option<i64>,
    pub(super) title: Option<String>,
    pub(super) rule_set_selection: Option<String>,
    pub(super) open: Option<RawTransition>,
    #[serde(default)]
    pub(super) state: Vec<RawState>,
    #[serde(default)]
    pub(super) transition: Vec<RawTransition>,
    #[serde(default)]
    pub(super) renamed_states: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) confidential: bool,
    #[serde(default)]
    pub(super) disciplinary: bool,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawState {
    pub(super) name: Option<String>,
    pub(super) label_vi: Option<String>,
    pub(super) label_en: Option<String>,
    #[serde(default)]
    pub(super) terminal: bool,
    #[serde(default)]
    pub(super) rules: Vec<String>,
    #[serde(default)]
    pub(super) deadline: Vec<RawDeadline>,
    #[serde(default)]
    pub(super) reminder: Vec<RawReminder>,
    #[serde(default)]
    pub(super) in_force: bool,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawRole {
    pub(super) role: Option<String>,
    pub(super) level: Option<String>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawMail {
    pub(super) template: Option<String>,
    pub(super) to: Option<RawRole>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawDeadline {
    pub(super) key: Option<String>,
    pub(super) rule: Option<String>,
    pub(super) from: Option<String>,
    pub(super) period: Option<toml::Table>,
    pub(super) extension: Option<toml::Table>,
    pub(super) escalate: Option<String>,
    pub(super) notify: Option<RawMail>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawReminder {
    pub(super) key: Option<String>,
    pub(super) template: Option<String>,
    pub(super) to: Option<RawRole>,
    pub(super) from: Option<String>,
    pub(super) after: Option<toml::Table>,
    pub(super) deadline: Option<String>,
    pub(super) before: Option<toml::Table>,
    pub(super) cron: Option<String>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawTransition {
    pub(super) name: Option<String>,
    pub(super) label_vi: Option<String>,
    pub(super) label_en: Option<String>,
    pub(super) from: Option<Vec<String>>,
    pub(super) to: Option<String>,
    #[serde(default)]
    pub(super) rules: Vec<String>,
    #[serde(default)]
    pub(super) by: Vec<RawRole>,
    #[serde(default)]
    pub(super) input: Vec<RawInput>,
    #[serde(default)]
    pub(super) guards: Vec<String>,
    #[serde(default)]
    pub(super) effect: Vec<RawEffect>,
    #[serde(default)]
    pub(super) compute: Vec<RawCompute>,
    #[serde(default)]
    pub(super) count: Vec<String>,
    pub(super) acting_body: Option<RawActingBody>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawActingBody {
    pub(super) kind: Option<String>,
    pub(super) level: Option<String>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawInput {
    pub(super) name: Option<String>,
    #[serde(rename = "type")]
    pub(super) ty: Option<String>,
    #[serde(default)]
    pub(super) list: bool,
    pub(super) required: Option<bool>,
    pub(super) values: Option<Vec<String>>,
    pub(super) min: Option<i64>,
    pub(super) max: Option<i64>,
    pub(super) label_vi: Option<String>,
    pub(super) label_en: Option<String>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawEffect {
    pub(super) kind: Option<String>,
    pub(super) template: Option<String>,
    pub(super) to: Option<RawRole>,
    pub(super) status: Option<String>,
    pub(super) date: Option<String>,
    pub(super) probation_end: Option<String>,
    pub(super) official_from: Option<String>,
    pub(super) key: Option<String>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}

#[derive(Deserialize)]
pub(super) struct RawCompute {
    pub(super) key: Option<String>,
    pub(super) from: Option<String>,
    pub(super) period: Option<toml::Table>,
    #[serde(flatten)]
    pub(super) extra: Extra,
}
