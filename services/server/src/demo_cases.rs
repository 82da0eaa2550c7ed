//! The demo's workflow cases: every admission and discipline decision of the demo province
//! walked through the engine, step by step, on the days the registry dates them, so that the
//! province has the cases and histories the commands would have recorded (`memberflow demo
//! hau-giang-2023`; docs/demo.md). The engine decides every step under the rule set of its day;
//! a refusal is an error (the generator and the rules disagree), never silently skipped.
//!
//! Dates around the registry's: an admission's branch vote 30 days before the decision, the
//! steps before it spread over the preceding months, the ceremony and official dates as the
//! registry has them (recognition voted and decided on the day probation ends). A discipline's
//! steps lead up to its decision day over six weeks; the appeal window closes and the decision
//! lapses when the scheduler would have fired them. Only steps on or before the report's day
//! (30/6/2023) are taken: a case still running then stays in the state it had reached.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use chrono::NaiveDate;
use memberflow_store::{
    BulkBatch, BulkCase, BulkCaseRound, BulkCaseRounds, BulkDiscipline, BulkStep,
};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::DisciplineStatus;
use memberflow_workflow::engine::context::subject_discipline;
use memberflow_workflow::engine::{
    self, Actor, CaseSnapshot, DecisionSummary, Definition, Effect, Event, Value, Values,
};
use memberflow_workflow::violations::FORMS;

use crate::demo::{PERIOD_START, SNAPSHOT, add_days, add_years};

fn date(d: NaiveDate) -> Value {
    Value::Date(d)
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

fn values<const N: usize>(pairs: [(&str, Value); N]) -> Values {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// One case being walked.
struct Walk<'a> {
    catalog: &'a Catalog,
    def: &'a Definition,
    case: Option<CaseSnapshot>,
    steps: Vec<BulkStep>,
    /// For each step that records a discipline, the decision as the case stood after it
    /// (what the effect reads its number and body from, `registry::apply`).
    decisions: Vec<Option<DecisionSummary>>,
    what: String,
}

impl<'a> Walk<'a> {
    fn new(catalog: &'a Catalog, definition: &str, what: String) -> anyhow::Result<Self> {
        let def = catalog
            .latest(definition)
            .ok_or_else(|| anyhow!("no workflow {definition}"))?;
        Ok(Walk {
            catalog,
            def,
            case: None,
            steps: Vec::new(),
            decisions: Vec::new(),
            what,
        })
    }

    /// Fires `transition` on `on` with `inputs`, as an actor holding the roles it names (the
    /// demo records what the bodies did; who they were is not in the report), unless `on` is
    /// after the report's day. Returns whether the step was taken.
    fn step(&mut self, transition: &str, on: NaiveDate, inputs: Values) -> anyhow::Result<bool> {
        if on > SNAPSHOT {
            return Ok(false);
        }
        let t = if transition == self.def.open.name {
            &self.def.open
        } else {
            self.def
                .transition(transition)
                .ok_or_else(|| anyhow!("{} has no transition {transition}", self.def.id))?
        };
        let mut event = Event::new(transition, Actor::new("demo", t.by.clone()));
        event.inputs = inputs;
        event.context = subject_discipline(&[]);
        let (rules, cal) = (&self.catalog.rules, &self.catalog.calendar);
        let decided = match &self.case {
            None => engine::open(self.def, rules, cal, &event, on),
            Some(c) => engine::fire(self.def, rules, cal, c, &event, on),
        };
        let d = decided.map_err(|r| {
            let reasons: Vec<String> = r.reasons.iter().map(ToString::to_string).collect();
            anyhow!(
                "{}: {transition} on {on} refused: {}",
                self.what,
                reasons.join("; ")
            )
        })?;
        let records = (d.effects.iter()).any(|e| matches!(e, Effect::RecordDiscipline { .. }));
        self.decisions
            .push(DecisionSummary::of(&d.case).filter(|_| records));
        self.steps.push(BulkStep {
            event,
            from: d.from,
            to: d.to,
            rule_set: d.rule_set,
            effects: d.effects,
            on: d.on,
        });
        self.case = Some(d.case);
        Ok(true)
    }

    fn snapshot(&self) -> anyhow::Result<&CaseSnapshot> {
        self.case
            .as_ref()
            .ok_or_else(|| anyhow!("{}: not opened", self.what))
    }

    /// The due day of a deadline running in the current state.
    fn due(&self, key: &str) -> anyhow::Result<NaiveDate> {
        let d = self
            .snapshot()?
            .deadlines
            .get(key)
            .ok_or_else(|| anyhow!("{}: no deadline {key}", self.what))?;
        Ok(d.effective_due())
    }

    fn finish(self, unit: usize, member: Option<usize>, title: String) -> anyhow::Result<BulkCase> {
        let snapshot = self
            .case
            .ok_or_else(|| anyhow!("{}: not opened", self.what))?;
        let terminal = self.def.state(&snapshot.state).is_some_and(|s| s.terminal);
        Ok(BulkCase {
            unit,
            member,
            title,
            definition: (self.def.id.clone(), self.def.version),
            snapshot,
            terminal,
            steps: self.steps,
        })
    }
}

/// What `record` added.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Admission cases.
    pub admissions: usize,
    /// Discipline cases.
    pub discipline: usize,
    /// Steps over all of them.
    pub steps: usize,
    /// Cases still open on the report's day.
    pub open: usize,
}

/// The demo's cases, walked a round at a time for the store's bulk loader
/// ([`BulkCaseRounds`]): every admission decided in the period, then every discipline
/// decision of the batch (taken out of it: each is loaded with its case, its register row as
/// the case's effects wrote it). Only one round of cases is in memory at a time.
pub struct CaseWalker<'a> {
    catalog: &'a Catalog,
    batch: &'a BulkBatch,
    /// Each member's unit periods.
    periods: HashMap<usize, Vec<(usize, NaiveDate, Option<NaiveDate>)>>,
    /// The members admitted in the period, in order; how many are walked.
    admitted: Vec<usize>,
    next_admission: usize,
    /// The discipline decisions, each walked into its case in turn.
    discipline: std::vec::IntoIter<BulkDiscipline>,
    /// Cases walked so far, and those of the batch before them.
    first_case: usize,
    /// What was walked so far.
    pub recorded: Recorded,
    /// Cases per round.
    round: usize,
    total: u64,
}

/// Cases per round: enough that each round is a few large inserts, few enough that a round's
/// histories stay small in memory.
pub const CASES_PER_ROUND: usize = 500;

impl<'a> CaseWalker<'a> {
    /// A walker over `batch`'s admissions and over `discipline` (the batch's discipline
    /// decisions, taken out of it), `round` cases at a time.
    pub fn new(
        batch: &'a BulkBatch,
        discipline: Vec<BulkDiscipline>,
        catalog: &'a Catalog,
        round: usize,
    ) -> Self {
        let mut periods: HashMap<usize, Vec<(usize, NaiveDate, Option<NaiveDate>)>> =
            HashMap::new();
        for m in &batch.memberships {
            periods
                .entry(m.member)
                .or_default()
                .push((m.unit, m.valid_from, m.valid_to));
        }
        let admitted: Vec<usize> = batch
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.admission_decision_date
                    .is_some_and(|d| (PERIOD_START..=SNAPSHOT).contains(&d))
            })
            .map(|(i, _)| i)
            .collect();
        let total = (admitted.len() + discipline.len()) as u64;
        CaseWalker {
            catalog,
            batch,
            periods,
            admitted,
            next_admission: 0,
            discipline: discipline.into_iter(),
            first_case: batch.cases.len(),
            recorded: Recorded::default(),
            round: round.max(1),
            total,
        }
    }

    fn unit_on(&self, member: usize, d: NaiveDate) -> Option<usize> {
        let ps = self.periods.get(&member)?;
        ps.iter()
            .find(|p| p.1 <= d && p.2.is_none_or(|t| d < t))
            .or_else(|| ps.iter().filter(|p| p.1 <= d).max_by_key(|p| p.1))
            .or_else(|| ps.iter().min_by_key(|p| p.1))
            .map(|p| p.0)
    }

    /// The next round of cases, `None` when every case is walked.
    pub fn walk_round(&mut self) -> anyhow::Result<Option<BulkCaseRound>> {
        let mut out = BulkCaseRound::default();
        let batch = self.batch;
        while out.cases.len() < self.round && self.next_admission < self.admitted.len() {
            let i = self.admitted[self.next_admission];
            self.next_admission += 1;
            let m = &batch.members[i];
            let decision = m
                .admission_decision_date
                .context("an admission without a decision")?;
            let unit = self
                .unit_on(i, decision)
                .ok_or_else(|| anyhow!("member {i} has no unit"))?;
            let c = admission(self.catalog, i, m, &batch.units[unit].code)?;
            self.recorded.admissions += 1;
            out.cases.push(c.finish(
                unit,
                Some(i),
                format!("Kết nạp đảng viên: {}", m.full_name),
            )?);
        }
        while out.cases.len() < self.round {
            let Some(mut entry) = self.discipline.next() else {
                break;
            };
            let m = &batch.members[entry.member];
            let official = m.official_date.is_some_and(|o| o <= entry.decision_date);
            let walk = discipline(
                self.catalog,
                entry.member,
                &m.full_name,
                &batch.units[entry.unit].code,
                entry.form,
                entry.decision_date,
                official,
            )?;
            entry.case = Some(self.first_case + out.cases.len());
            // The register row is what the case's effects write, as `registry::apply` would.
            register_from(&walk, &mut entry).with_context(|| walk.what.clone())?;
            self.recorded.discipline += 1;
            out.cases.push(walk.finish(
                entry.unit,
                Some(entry.member),
                format!("Kỷ luật đảng viên: {}", m.full_name),
            )?);
            out.discipline.push(entry);
        }
        if out.cases.is_empty() {
            return Ok(None);
        }
        self.first_case += out.cases.len();
        self.recorded.steps += out.cases.iter().map(|c| c.steps.len()).sum::<usize>();
        self.recorded.open += out.cases.iter().filter(|c| !c.terminal).count();
        Ok(Some(out))
    }
}

impl BulkCaseRounds for CaseWalker<'_> {
    fn total(&self) -> u64 {
        self.total
    }

    fn next_round(&mut self) -> Result<Option<BulkCaseRound>, String> {
        self.walk_round().map_err(|e| format!("{e:#}"))
    }
}

/// Walks every admission decided in the period and every discipline decision of `batch`
/// through the engine and adds the cases to the batch, linking each discipline decision to its
/// case (all at once: for tests; the demo loads them a round at a time, [`CaseWalker`]).
#[cfg(test)]
pub fn record(batch: &mut BulkBatch, catalog: &Catalog) -> anyhow::Result<Recorded> {
    let discipline = std::mem::take(&mut batch.discipline);
    let mut walker = CaseWalker::new(batch, discipline, catalog, CASES_PER_ROUND);
    let (mut cases, mut decisions) = (Vec::new(), Vec::new());
    while let Some(round) = walker.walk_round()? {
        cases.extend(round.cases);
        decisions.extend(round.discipline);
    }
    let recorded = walker.recorded;
    batch.cases.extend(cases);
    batch.discipline = decisions;
    Ok(recorded)
}

/// Folds the `record_discipline` effects of a case's steps into its register row: the first
/// decision dates it, each decision or ruling sets the form in force, a lapse or an annulment
/// the status from its day; the decision's number and deciding body are filled in from the
/// case as it stood after the step, where the row lacks them, as `registry::apply` fills them.
fn register_from(walk: &Walk, entry: &mut BulkDiscipline) -> anyhow::Result<()> {
    let mut decided = false;
    let effects = (walk.steps.iter().zip(&walk.decisions))
        .flat_map(|(s, d)| s.effects.iter().map(move |e| (e, d)));
    for (effect, decision) in effects {
        let Effect::RecordDiscipline { status, form, date } = effect else {
            continue;
        };
        if *status == DisciplineStatus::InForce {
            if let Some(f) = form {
                entry.form = FORMS
                    .iter()
                    .find(|x| *x == f)
                    .copied()
                    .ok_or_else(|| anyhow!("unknown form {f}"))?;
            }
            if !decided {
                entry.decision_date = *date;
                decided = true;
            }
            entry.status_date = None;
        } else {
            entry.status_date = Some(*date);
        }
        entry.status = *status;
        if decided && let Some(d) = decision {
            if entry.decision_number.is_none() {
                entry.decision_number.clone_from(&d.number);
            }
            if entry.body.is_none() {
                entry.body.clone_from(&d.body);
            }
        }
    }
    if decided {
        Ok(())
    } else {
        Err(anyhow!("the case recorded no decision"))
    }
}

fn education_level(code: &str) -> &'static str {
    match code {
        "PRIMARY" => "primary",
        "LOWER_SECONDARY" => "lower_secondary",
        _ => "upper_secondary",
    }
}

fn admission<'a>(
    catalog: &'a Catalog,
    i: usize,
    m: &memberflow_store::BulkMember,
    unit: &str,
) -> anyhow::Result<Walk<'a>> {
    let decision = m
        .admission_decision_date
        .context("an admission without a decision")?;
    let vote = add_days(decision, -30);
    let mut w = Walk::new(catalog, "admission", format!("admission of member {i}"))?;
    let mut open = values([
        ("person_id", text(format!("{unit}/{i}"))),
        ("full_name", text(m.full_name.clone())),
        ("date_of_birth", date(m.date_of_birth)),
        ("unit", text(unit)),
        ("education_level", text(education_level(m.education))),
        ("helper_member", text(format!("{unit}/helper"))),
    ]);
    if m.education == "PRIMARY" {
        // E4: admitted with primary schooling, so from a hardship area.
        open.insert("education_exception".into(), Value::Bool(true));
    }
    w.step("open", add_days(vote, -80), open)?;
    w.step(
        "record_awareness_certificate",
        add_days(vote, -78),
        values([
            ("certificate_date", date(add_days(vote, -100))),
            ("certificate_number", text(format!("GCN/{i}"))),
        ]),
    )?;
    let on = add_days(vote, -70);
    w.step(
        "file_application",
        on,
        values([("application_date", date(on))]),
    )?;
    let on = add_days(vote, -69);
    w.step("draft_history", on, values([("history_date", date(on))]))?;
    let on = add_days(vote, -68);
    w.step(
        "start_verification",
        on,
        values([("verification_started_on", date(on))]),
    )?;
    let on = add_days(vote, -45);
    w.step(
        "conclude_verification",
        on,
        values([
            ("verification_conclusion", text("meets_standard")),
            ("verification_report_date", date(on)),
        ]),
    )?;
    w.step(
        "record_introducers",
        add_days(vote, -40),
        values([
            ("introducer_1", text(format!("{unit}/introducer-1"))),
            ("introducer_1_official", Value::Bool(true)),
            ("introducer_1_since", date(add_years(vote, -6))),
            ("introducer_2", text(format!("{unit}/introducer-2"))),
            ("introducer_2_official", Value::Bool(true)),
            ("introducer_2_since", date(add_years(vote, -4))),
        ]),
    )?;
    let on = add_days(vote, -35);
    w.step(
        "collect_opinions",
        on,
        values([("opinions_collected_on", date(on))]),
    )?;
    w.step(
        "branch_vote",
        vote,
        values([
            ("branch_vote_date", date(vote)),
            ("votes_for", Value::Int(9)),
            ("official_members", Value::Int(11)),
        ]),
    )?;
    let on = add_days(vote, 7);
    w.step(
        "grassroots_review",
        on,
        values([
            ("review_date", date(on)),
            ("grassroots_delegated", Value::Bool(false)),
        ]),
    )?;
    let on = add_days(vote, 8);
    w.step(
        "submit_to_competent",
        on,
        values([("submitted_on", date(on))]),
    )?;
    w.step(
        "decide_admission",
        decision,
        values([
            ("decision_date", date(decision)),
            ("decision_number", text(format!("{i}-QĐ/KN"))),
        ]),
    )?;
    let Some(ceremony) = m.ceremony_date else {
        return Ok(w);
    };
    let mut inputs = values([("ceremony_date", date(ceremony))]);
    if ceremony > catalog.calendar.add_working_days(decision, 30) {
        inputs.insert("superior_consent_date".into(), date(add_days(decision, 20)));
    }
    w.step("hold_ceremony", ceremony, inputs)?;
    let on = add_days(ceremony, 10);
    w.step(
        "file_member_history",
        on,
        values([("member_history_filed_on", date(on))]),
    )?;
    let Some(official) = m.official_date else {
        return Ok(w);
    };
    w.step("open_recognition_vote", official, Values::new())?;
    w.step(
        "recognition_vote",
        official,
        values([
            ("recognition_vote_date", date(official)),
            ("proposal", text("recognise")),
            ("votes_for", Value::Int(10)),
            ("official_members", Value::Int(11)),
        ]),
    )?;
    w.step(
        "recognise",
        official,
        values([
            ("decision_date", date(official)),
            ("decision_number", text(format!("{i}-QĐ/CT"))),
        ]),
    )?;
    Ok(w)
}

/// The ballot of a body for `form`: 7 of 10 (a branch) or 6 of 9 (a committee) for it, the
/// rest for no discipline.
fn ballot(on: NaiveDate, body: &str, level: &str, form: &str, competent: bool) -> Values {
    let (for_, members) = if competent { (6, 9) } else { (7, 10) };
    let mut v = values([
        ("vote_date", date(on)),
        ("voting_body", text(body)),
        ("voting_level", text(level)),
        ("secret_ballot", Value::Bool(true)),
        ("discipline_form", text(form)),
        ("votes_no_discipline", Value::Int(members - for_)),
        ("official_members", Value::Int(members)),
    ]);
    v.insert(format!("votes_{form}"), Value::Int(for_));
    v
}

/// A discipline decided on `decided`, of `form`, taken as far as the report's day.
fn discipline<'a>(
    catalog: &'a Catalog,
    member: usize,
    name: &str,
    unit: &str,
    form: &str,
    decided: NaiveDate,
    official: bool,
) -> anyhow::Result<Walk<'a>> {
    let mut w = Walk::new(
        catalog,
        "discipline_member",
        format!("{form} of member {member} on {decided}"),
    )?;
    let detected = add_days(decided, -40);
    w.step(
        "open",
        detected,
        values([
            ("member_id", text(format!("{unit}/{member}"))),
            ("full_name", text(name)),
            ("unit", text(unit)),
            ("subject_kind", text("member")),
            (
                "membership",
                text(if official { "official" } else { "probationary" }),
            ),
            ("holds_post", Value::Bool(form == "removal")),
            ("detection_source", text("supervision")),
            ("detected_on", date(detected)),
        ]),
    )?;
    let on = add_days(decided, -35);
    w.step(
        "start_inspection",
        on,
        values([
            ("inspecting_body", text("branch")),
            ("inspecting_level", text("branch")),
            ("inspection_decision_date", date(on)),
        ]),
    )?;
    let on = add_days(decided, -25);
    w.step(
        "conclude_inspection",
        on,
        values([
            ("inspection_concluded_on", date(on)),
            ("violation_end_date", date(add_days(decided, -60))),
            ("violation_category", text("ordinary")),
        ]),
    )?;
    let on = add_days(decided, -20);
    w.step(
        "record_self_criticism",
        on,
        values([
            ("self_criticism_date", date(on)),
            ("proposed_form", text(form)),
        ]),
    )?;
    let on = add_days(decided, -15);
    w.step("hold_hearing", on, values([("hearing_date", date(on))]))?;
    // D13: the branch decides reprimand and warning; it proposes removal and expulsion, which
    // the district's standing committee decides (D18). D34: the branch's decision takes effect
    // when it announces the vote's result, at the meeting: it votes on the decision's day.
    let branch_decides = matches!(form, "reprimand" | "warning");
    let vote_on = if branch_decides {
        decided
    } else {
        add_days(decided, -10)
    };
    w.step(
        "vote",
        vote_on,
        ballot(vote_on, "branch", "branch", form, false),
    )?;
    if !branch_decides {
        let on = add_days(decided, -7);
        w.step(
            "propose_to_competent",
            on,
            values([("proposed_on", date(on))]),
        )?;
        let on = add_days(decided, -2);
        w.step(
            "vote",
            on,
            ballot(on, "standing_committee", "superior", form, true),
        )?;
    }
    w.step(
        "impose",
        decided,
        values([
            ("decision_date", date(decided)),
            ("decision_number", text(format!("{member}-QĐ/KL"))),
        ]),
    )?;
    let received = add_days(decided, 3);
    if form == "expulsion" {
        if w.step(
            "notify_expulsion",
            received,
            values([("decision_received_date", date(received))]),
        )? {
            let close = add_days(w.due("expulsion_appeal_window")?, 1);
            w.step("close_expulsion_appeal_window", close, Values::new())?;
        }
        return Ok(w);
    }
    if !w.step(
        "notify",
        received,
        values([("decision_received_date", date(received))]),
    )? {
        return Ok(w);
    }
    let close = add_days(w.due("appeal_window")?, 1);
    if !w.step("close_appeal_window", close, Values::new())? {
        return Ok(w);
    }
    let lapse = w.due("lapse")?;
    w.step("lapse", add_days(lapse, 1), Values::new())?;
    Ok(w)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::demo::{Figures, province};

    /// The demo's cases agree with its registry: one admission case per admission of the
    /// period, decided on the registry's day, official when the registry says so; one
    /// discipline case per decision, of its form, decided on its day, lapsed when the register
    /// says so; every step accepted by the engine under the rule set of its day.
    #[test]
    fn every_admission_and_discipline_of_the_demo_is_a_case_the_engine_accepted() {
        let catalog = crate::load_catalog(&crate::Config::default()).unwrap();
        let mut batch = province(&Figures::hau_giang_2023(), "", "Hậu Giang", 2023);
        let r = record(&mut batch, &catalog).unwrap();
        assert_eq!((r.admissions, r.discipline), (5_181, 689), "{r:?}");
        assert_eq!(batch.cases.len(), 5_870);
        for c in batch.cases.iter().filter(|c| c.definition.0 == "admission") {
            let m = &batch.members[c.member.unwrap()];
            let decided = c
                .steps
                .iter()
                .find(|s| s.event.transition == "decide_admission")
                .unwrap();
            assert_eq!(Some(decided.on), m.admission_decision_date);
            assert_eq!(
                c.snapshot.state == "Official",
                m.official_date.is_some(),
                "{}",
                c.title
            );
            assert!(c.steps.iter().all(|s| s.on <= SNAPSHOT));
        }
        let mut by_form: HashMap<&str, usize> = HashMap::new();
        for d in &batch.discipline {
            let c = &batch.cases[d.case.unwrap()];
            assert_eq!(c.member, Some(d.member));
            assert_eq!(
                c.snapshot.fact("discipline_form").and_then(Value::as_text),
                Some(d.form)
            );
            assert_eq!(
                c.snapshot.fact("decision_date").and_then(Value::as_date),
                Some(d.decision_date)
            );
            assert_eq!(
                d.status == DisciplineStatus::Lapsed,
                c.snapshot.state == "Lapsed"
            );
            // The decision's number and deciding body, as the case's effect records them.
            let decided = DecisionSummary::of(&c.snapshot).unwrap();
            assert!(
                d.decision_number.is_some() && d.body.is_some(),
                "{}",
                c.title
            );
            assert_eq!(
                (&d.decision_number, &d.body),
                (&decided.number, &decided.body)
            );
            let decider = if matches!(d.form, "reprimand" | "warning") {
                ("branch", "branch")
            } else {
                ("standing_committee", "superior")
            };
            assert_eq!(
                d.body.as_ref().map(|(k, l)| (k.as_str(), l.as_str())),
                Some(decider)
            );
            *by_form.entry(d.form).or_default() += 1;
        }
        assert_eq!(
            by_form,
            HashMap::from([
                ("reprimand", 469),
                ("warning", 132),
                ("removal", 28),
                ("expulsion", 60)
            ])
        );
        // Admissions before 30/7/2021 were decided under R2016, later ones under R2021.
        let rule_sets: std::collections::BTreeSet<&str> = batch
            .cases
            .iter()
            .flat_map(|c| c.steps.iter().map(|s| s.rule_set.as_str()))
            .collect();
        assert_eq!(rule_sets, ["R2016", "R2021"].into_iter().collect());
    }

    /// Walked in rounds of 7, the demo gives the same cases in the same order, each discipline
    /// decision linked to the same case, as walked all at once: a round's edge loses or
    /// repeats nothing.
    #[test]
    fn rounds_of_any_size_walk_the_same_cases() {
        let catalog = crate::load_catalog(&crate::Config::default()).unwrap();
        let mut whole = province(&Figures::hau_giang_2023(), "", "Hậu Giang", 2023);
        let all = record(&mut whole, &catalog).unwrap();
        let mut batch = province(&Figures::hau_giang_2023(), "", "Hậu Giang", 2023);
        let discipline = std::mem::take(&mut batch.discipline);
        let mut walker = CaseWalker::new(&batch, discipline, &catalog, 7);
        assert_eq!(walker.total(), 5_870);
        let (mut cases, mut decisions) = (Vec::new(), Vec::new());
        while let Some(round) = walker.next_round().unwrap() {
            assert!(!round.cases.is_empty() && round.cases.len() <= 7);
            cases.extend(round.cases);
            decisions.extend(round.discipline);
        }
        assert_eq!(walker.recorded, all);
        assert_eq!(cases.len(), whole.cases.len());
        for (a, b) in cases.iter().zip(&whole.cases) {
            assert_eq!((&a.title, a.member, a.unit), (&b.title, b.member, b.unit));
            assert_eq!(a.steps.len(), b.steps.len());
            assert_eq!(a.snapshot.state, b.snapshot.state);
        }
        assert_eq!(decisions.len(), whole.discipline.len());
        for (a, b) in decisions.iter().zip(&whole.discipline) {
            assert_eq!(
                (a.member, a.case, a.form, a.status),
                (b.member, b.case, b.form, b.status)
            );
        }
    }

    /// The demo's 4,070 badges reconcile with the rules an award is checked by (`awardBadge`,
    /// A30, A33): each is a milestone its member's party age had reached on the award's day,
    /// for an official member, under the rule set of that day, and none is awarded twice.
    #[test]
    fn the_demo_s_badges_reconcile_with_the_rules_of_an_award() {
        let catalog = crate::load_catalog(&crate::Config::default()).unwrap();
        let batch = province(&Figures::hau_giang_2023(), "", "Hậu Giang", 2023);
        let mut seen = std::collections::HashSet::new();
        for b in &batch.badges {
            let m = &batch.members[b.member];
            let rs = catalog.rules.for_date(b.award_date).unwrap();
            let years = u32::try_from(b.years).unwrap();
            let refusals = memberflow_workflow::badges::award_refusals(
                rs,
                m.admission_decision_date,
                m.official_date.is_some_and(|o| o <= b.award_date),
                &[],
                years,
                b.award_date,
                &[],
            )
            .unwrap();
            assert!(refusals.is_empty(), "{b:?}: {refusals:?}");
            assert!(seen.insert((b.member, years)), "{b:?} twice");
        }
        assert_eq!(batch.badges.len(), 4_070);
    }
}
