//! Rule sets as layers: a later rule set states only what changed from the one before it.
//!
//! A layer is a rule-set file with `base = "<id>"`, the rule set in force just before it. It
//! states its own `id`, `title`, `valid_from`, `valid_to` and `documents` (a layer inherits
//! parameters only) and, per `[[param]]` entry, a parameter of its base by `id` with only the
//! fields that change (`value`, `tag`, `source`, `doc`, `note`, `rule`, `kind`), optionally
//! `unset = ["note"]` (or `"value"`) to drop an optional field, or `new = true` with every
//! field for a parameter its base lacks. [`resolve`] applies each layer onto its effective base,
//! so every reader sees complete rule sets; the effective parameter is validated exactly as
//! in a complete file. A layer may not restate an unchanged field (`RESTATED_VALUE`), name a
//! parameter its base lacks without `new = true` (`NOT_IN_BASE`), or name a base that is
//! unknown, broken or not the rule set just before it (`UNKNOWN_BASE`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Header, Param, ParamValue, RawParam, RawRuleSet, RuleSet, param_place, parse_param};
use crate::engine::problem::{Problem, ProblemCode, toml_problem, unknown_fields};

/// Rule sets resolved from their files.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Every effective rule set that loaded, with its file's name, oldest first.
    pub sets: Vec<(String, RuleSet)>,
    /// Every problem, with the name of the file it is in.
    pub problems: Vec<(String, Problem)>,
}

/// A layer waiting for its base.
struct Pending {
    name: String,
    header: Header,
    base: String,
    params: Vec<RawParam>,
}

/// Parses every rule-set file and resolves each layer onto its base, reporting every problem
/// of every file at once. Overlaps and duplicate ids are left to [`super::RuleBook::new`].
pub fn resolve<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Resolved {
    let mut out = Resolved::default();
    // The effective raw parameters of every loaded rule set, by id: what a layer builds on.
    let mut raws: BTreeMap<String, Vec<RawParam>> = BTreeMap::new();
    let mut broken: BTreeSet<String> = BTreeSet::new();
    let mut pending = Vec::new();
    for (name, src) in sources {
        let raw: RawRuleSet = match toml::from_str(src) {
            Ok(raw) => raw,
            Err(e) => {
                out.problems.push((name.to_owned(), toml_problem(src, &e)));
                continue;
            }
        };
        let own_id = raw.id.clone().unwrap_or_default();
        match raw.base.clone() {
            None => match RuleSet::from_raw(raw) {
                Ok((set, params)) => {
                    raws.entry(set.id.clone()).or_insert(params);
                    out.sets.push((name.to_owned(), set));
                }
                Err(ps) => {
                    broken.insert(own_id);
                    out.problems
                        .extend(ps.into_iter().map(|p| (name.to_owned(), p)));
                }
            },
            Some(base) => {
                let (header, _, params) = raw.split();
                let (header, ps) = Header::parse(header);
                match header {
                    Some(header) if ps.is_empty() => pending.push(Pending {
                        name: name.to_owned(),
                        header,
                        base,
                        params,
                    }),
                    _ => {
                        broken.insert(own_id);
                        out.problems
                            .extend(ps.into_iter().map(|p| (name.to_owned(), p)));
                    }
                }
            }
        }
    }

    // Resolve layers whose base is loaded until none is left that can be.
    while let Some(i) = pending.iter().position(|p| raws.contains_key(&p.base)) {
        let layer = pending.swap_remove(i);
        let id = layer.header.id.clone();
        let base = out.sets.iter().map(|(_, s)| s).find(|s| s.id == layer.base);
        let (Some(base), Some(base_raw)) = (base, raws.get(&layer.base)) else {
            continue;
        };
        match apply(base, base_raw, layer.header, layer.params) {
            Ok((set, params)) => {
                raws.entry(set.id.clone()).or_insert(params);
                out.sets.push((layer.name, set));
            }
            Err(ps) => {
                broken.insert(id);
                out.problems
                    .extend(ps.into_iter().map(|p| (layer.name.clone(), p)));
            }
        }
    }
    // What is left waits for a base that did not load (perhaps itself a layer waiting for a
    // broken base), that does not exist, or that is part of a circle of layers.
    let mut blocked = true;
    while blocked {
        blocked = false;
        for layer in &pending {
            if broken.contains(&layer.base) && broken.insert(layer.header.id.clone()) {
                blocked = true;
            }
        }
    }
    let waiting: BTreeSet<String> = pending.iter().map(|p| p.header.id.clone()).collect();
    for layer in pending {
        let message = if broken.contains(&layer.base) {
            format!("its base `{}` did not load (see its problems)", layer.base)
        } else if waiting.contains(&layer.base) {
            format!(
                "its base `{}` is a layer that waits, directly or not, for this one: layers cannot form a circle",
                layer.base
            )
        } else {
            format!("`base = \"{}\"` names no rule set", layer.base)
        };
        out.problems.push((
            layer.name,
            Problem::error(ProblemCode::UnknownBase, "rule set", message),
        ));
    }

    out.sets.sort_by(|(_, a), (_, b)| {
        a.valid_from
            .cmp(&b.valid_from)
            .then_with(|| a.id.cmp(&b.id))
    });
    if out.problems.is_empty() {
        check_bases(&mut out);
    }
    out
}

/// A layer states what changed from the rule set just before it: its base must be that one.
fn check_bases(out: &mut Resolved) {
    let mut problems = Vec::new();
    for (i, (name, set)) in out.sets.iter().enumerate() {
        let Some(base) = &set.base else { continue };
        let before = i
            .checked_sub(1)
            .and_then(|j| out.sets.get(j))
            .map(|(_, s)| s);
        match before {
            Some(b) if &b.id == base => {}
            Some(b) => problems.push((
                name.clone(),
                Problem::error(
                    ProblemCode::UnknownBase,
                    "rule set",
                    format!(
                        "`base = \"{base}\"`, but the rule set just before {} (from {}) is {}: a layer states what changed from the rule set before it",
                        set.id, set.valid_from, b.id
                    ),
                ),
            )),
            None => problems.push((
                name.clone(),
                Problem::error(
                    ProblemCode::UnknownBase,
                    "rule set",
                    format!(
                        "`base = \"{base}\"`, but no rule set is in force before {} (from {})",
                        set.id, set.valid_from
                    ),
                ),
            )),
        }
    }
    out.problems.extend(problems);
}

/// Applies a layer's entries onto its base's effective parameters.
fn apply(
    base: &RuleSet,
    base_raw: &[RawParam],
    header: Header,
    entries: Vec<RawParam>,
) -> Result<(RuleSet, Vec<RawParam>), Vec<Problem>> {
    let mut params: Vec<Param> = base.params().to_vec();
    let mut raws: Vec<RawParam> = base_raw.to_vec();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let place = param_place(entry.id.as_deref(), i);
        let Some(id) = entry.id.clone().filter(|id| !id.trim().is_empty()) else {
            problems.push(Problem::error(
                ProblemCode::MissingField,
                place,
                "missing `id`",
            ));
            continue;
        };
        if !seen.insert(id.clone()) {
            problems.push(Problem::error(
                ProblemCode::DuplicateParameter,
                place,
                "named twice in this layer",
            ));
            continue;
        }
        let is_new = entry.new.unwrap_or(false);
        match (base.by_id.get(&id).copied(), is_new) {
            (Some(_), true) => problems.push(Problem::error(
                ProblemCode::DuplicateParameter,
                place,
                format!(
                    "declared `new = true`, but base {} already has it: state only the fields that change",
                    base.id
                ),
            )),
            (None, false) => problems.push(Problem::error(
                ProblemCode::NotInBase,
                place,
                format!(
                    "base {} has no parameter `{id}`: a parameter new in this rule set says `new = true` and gives every field",
                    base.id
                ),
            )),
            (None, true) => {
                let mut raw = entry;
                raw.new = None;
                if raw.unset.take().is_some() {
                    problems.push(Problem::error(
                        ProblemCode::InvalidValue,
                        &place,
                        "a new parameter has nothing to `unset`",
                    ));
                }
                let copy = raw.clone();
                if let Some(p) = parse_param(raw, &place, &mut problems) {
                    params.push(p);
                    raws.push(copy);
                }
            }
            (Some(k), false) => {
                let (Some(before), Some(before_raw)) = (params.get(k), raws.get(k)) else {
                    continue;
                };
                let Some(merged) = overlay(before_raw, &entry, &base.id, &place, &mut problems)
                else {
                    continue;
                };
                let copy = merged.clone();
                if let Some(after) = parse_param(merged, &place, &mut problems) {
                    restated(before, &after, &entry, &base.id, &place, &mut problems);
                    params[k] = after;
                    raws[k] = copy;
                }
            }
        }
    }
    if problems.is_empty() {
        Ok((header.into_set(Some(base.id.clone()), params), raws))
    } else {
        Err(problems)
    }
}

/// The fields a layer entry may drop.
const UNSETTABLE: [&str; 2] = ["note", "value"];

/// The base's raw parameter with the entry's fields laid over it.
fn overlay(
    base: &RawParam,
    entry: &RawParam,
    base_id: &str,
    place: &str,
    problems: &mut Vec<Problem>,
) -> Option<RawParam> {
    let before = problems.len();
    unknown_fields(&entry.extra, place, problems);
    let mut merged = base.clone();
    let mut changes = 0;
    macro_rules! lay {
        ($($field:ident),*) => {$(
            if let Some(v) = &entry.$field {
                merged.$field = Some(v.clone());
                changes += 1;
            }
        )*};
    }
    lay!(rule, tag, kind, value, source, doc, note);
    for field in entry.unset.iter().flatten() {
        changes += 1;
        let (given, present) = match field.as_str() {
            "note" => (entry.note.is_some(), merged.note.take().is_some()),
            "value" => (entry.value.is_some(), merged.value.take().is_some()),
            other => {
                problems.push(Problem::error(
                    ProblemCode::InvalidValue,
                    place,
                    format!(
                        "`unset` names `{other}`; only {} can be unset",
                        UNSETTABLE.join(" and ")
                    ),
                ));
                continue;
            }
        };
        if given {
            problems.push(Problem::error(
                ProblemCode::InvalidValue,
                place,
                format!("gives `{field}` and unsets it"),
            ));
        } else if !present {
            problems.push(Problem::error(
                ProblemCode::RestatedValue,
                place,
                format!("unsets `{field}`, which the parameter does not have in base {base_id}"),
            ));
        }
    }
    if changes == 0 {
        problems.push(Problem::error(
            ProblemCode::RestatedValue,
            place,
            format!("changes nothing from base {base_id}: remove the entry"),
        ));
    }
    (problems.len() == before).then_some(merged)
}

/// Reports every field the entry gives with the base's value unchanged.
fn restated(
    before: &Param,
    after: &Param,
    entry: &RawParam,
    base_id: &str,
    place: &str,
    problems: &mut Vec<Problem>,
) {
    let same = [
        ("rule", entry.rule.is_some() && before.rule == after.rule),
        ("tag", entry.tag.is_some() && before.tag == after.tag),
        ("kind", entry.kind.is_some() && before.kind == after.kind),
        (
            "value",
            entry.value.is_some() && before.value == after.value,
        ),
        (
            "source",
            entry.source.is_some() && before.source == after.source,
        ),
        ("doc", entry.doc.is_some() && before.doc == after.doc),
        ("note", entry.note.is_some() && before.note == after.note),
    ];
    for (field, _) in same.iter().filter(|(_, s)| *s) {
        problems.push(Problem::error(
            ProblemCode::RestatedValue,
            place,
            format!(
                "`{field}` restates the value it has in base {base_id}: a layer states only what changed"
            ),
        ));
    }
}

/// Rejects the layer-only fields in a complete rule set's parameter.
pub(super) fn refuse_layer_fields(rp: &RawParam, place: &str, problems: &mut Vec<Problem>) {
    for (field, given) in [("new", rp.new.is_some()), ("unset", rp.unset.is_some())] {
        if given {
            problems.push(Problem::error(
                ProblemCode::UnknownField,
                place,
                format!("`{field}` belongs to a layer's entries (a rule set with `base`)"),
            ));
        }
    }
}

/// How one parameter differs between two rule sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamChange<'a> {
    /// Parameter id.
    pub id: &'a str,
    /// The parameter in the first rule set (`None`: added by the second).
    pub before: Option<&'a Param>,
    /// The parameter in the second rule set (`None`: absent from it).
    pub after: Option<&'a Param>,
}

impl ParamChange<'_> {
    /// Whether the value differs (or the parameter is only in one of the rule sets).
    pub fn value_changed(&self) -> bool {
        self.value(self.before) != self.value(self.after)
            || self.before.is_none() != self.after.is_none()
    }

    fn value<'p>(&self, p: Option<&'p Param>) -> Option<&'p ParamValue> {
        p.and_then(|p| p.value.as_ref())
    }
}

/// The effective differences from `from` to `to`, any two rule sets (not only a layer and its
/// base): every parameter whose value, tag, kind, rule, source, doc or note differs, in the
/// order of `from` then the parameters only `to` has.
pub fn diff<'a>(from: &'a RuleSet, to: &'a RuleSet) -> Vec<ParamChange<'a>> {
    let mut out: Vec<ParamChange<'a>> = from
        .params()
        .iter()
        .filter_map(|b| {
            let a = to.param(&b.id);
            (a != Some(b)).then_some(ParamChange {
                id: &b.id,
                before: Some(b),
                after: a,
            })
        })
        .collect();
    out.extend(
        to.params()
            .iter()
            .filter(|a| from.param(&a.id).is_none())
            .map(|a| ParamChange {
                id: &a.id,
                before: None,
                after: Some(a),
            }),
    );
    out
}
