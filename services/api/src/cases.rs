//! Workflow cases in GraphQL: listing and filtering them, reading one with its history and
//! what could happen next, opening one, and firing a transition (or a dry run of it).
//!
//! Who acts is the logged-in account: its grants are resolved on the tree into the roles it
//! holds on the case (`secretary@branch`, `standing_committee@competent`, ...; see
//! `access`), a caller holding none of the roles a transition names gets `FORBIDDEN`, and the
//! engine checks the roles again against the definition on every transition.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use chrono::NaiveDate;
use memberflow_store::{
    CaseDefinition as _, CaseEventRecord, CaseFilter, CaseOutcome, CaseRecord, Command,
    MigrateCases, MigrationMode, NewCase, RefusalRecording, Subtree, UnitRecord,
};
use memberflow_workflow::access::{PathUnit, Permission};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::{
    self, Actor, AvailabilityStatus, Definition, Effect, Event, InputType, Reason, Refusal,
    RuleSetSelection, Transition, Value, Values,
};
use memberflow_workflow::text::{Lang, Text};

use crate::access::{
    CaseView, caller, case_roles, case_subject, case_visibility, read_case, require_everywhere,
    require_on_case, roles_on_path,
};
use crate::error::{ApiError, Code, OrGql, graphql_error};
use crate::scalars::{Date, decode_cursor, encode_cursor, page_size, parse_id, to_id};
use crate::tree::{Unit, app, lang, on_or_today};

fn catalog<'a>(ctx: &Context<'a>) -> &'a Catalog {
    &app(ctx).catalog
}

/// Converts JSON inputs to the engine's values, typed by the transition's declared inputs:
/// a string given for a date input becomes a date when it parses. Anything else is left for
/// the engine, which reports wrong types and unknown inputs with its reasons.
fn to_values(t: &Transition, inputs: Option<Json<serde_json::Value>>) -> Result<Values, ApiError> {
    let mut out = Values::new();
    let Some(Json(v)) = inputs else {
        return Ok(out);
    };
    let serde_json::Value::Object(map) = v else {
        return Err(ApiError::Validation(Text::new(
            "inputs phải là một đối tượng JSON {tên: giá trị}.",
            "inputs must be a JSON object {name: value}.",
        )));
    };
    for (k, v) in map {
        let ty = t.input(&k).map(|s| &s.ty);
        out.insert(k, json_to_value(v, ty));
    }
    Ok(out)
}

/// `VALIDATION` for a date input more than five years ahead (it would feed the registry and
/// its counters).
fn dates_not_too_far(inputs: &Values, today: NaiveDate) -> Result<(), ApiError> {
    for (name, v) in inputs {
        if let Value::Date(d) = v {
            crate::scalars::not_too_far_ahead(
                name,
                *d,
                today,
                crate::scalars::MAX_DAYS_AHEAD_WORKFLOW,
            )?;
        }
    }
    Ok(())
}

fn json_to_value(v: serde_json::Value, ty: Option<&InputType>) -> Value {
    match v {
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Text(n.to_string()),
        },
        serde_json::Value::String(s) => match ty {
            Some(InputType::Date) => memberflow_workflow::calendar::parse_iso_date(&s)
                .map(Value::Date)
                .unwrap_or(Value::Text(s)),
            _ => Value::Text(s),
        },
        serde_json::Value::Array(items) => {
            let inner = match ty {
                Some(InputType::List(t)) => Some(&**t),
                _ => None,
            };
            Value::List(items.into_iter().map(|i| json_to_value(i, inner)).collect())
        }
        serde_json::Value::Object(m) => Value::Map(
            m.into_iter()
                .map(|(k, v)| (k, json_to_value(v, None)))
                .collect(),
        ),
        serde_json::Value::Null => Value::Text(String::new()),
    }
}

fn value_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Text(s) => serde_json::Value::String(s.clone()),
        Value::Date(d) => serde_json::Value::String(d.to_string()),
        Value::List(l) => serde_json::Value::Array(l.iter().map(value_to_json).collect()),
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
    }
}

/// One reason of a refusal.
#[derive(SimpleObject)]
pub struct RefusalReason {
    /// Machine code (`GUARD_FAILED`, `MISSING_INPUT`, `ROLE_NOT_ALLOWED`, ...).
    code: String,
    /// The rule it applies (`E1`, `A8`, ...), when one does.
    rule: Option<String>,
    /// The guard that failed, when one did.
    guard: Option<String>,
    /// The input concerned, when one is.
    field: Option<String>,
    /// In Vietnamese.
    message_vi: String,
    /// In English.
    message_en: String,
}

impl From<&Reason> for RefusalReason {
    fn from(r: &Reason) -> Self {
        Self {
            code: r.code.as_str().to_owned(),
            rule: r.rule.clone(),
            guard: r.guard.clone(),
            field: r.field.clone(),
            message_vi: r.reason_vi.clone(),
            message_en: r.reason_en.clone(),
        }
    }
}

/// A refusal as a GraphQL error: `TRANSITION_REFUSED` (or `VALIDATION` when only the inputs
/// are at fault), every reason in both languages, and the rule ids.
pub(crate) fn refusal_error(r: &Refusal, l: Lang) -> async_graphql::Error {
    let code = if r.is_validation() {
        Code::Validation
    } else if r.is_not_permitted() {
        // The caller may not take this step (e.g. as the body it names): an authorization
        // refusal like the roles checked before the engine, with the engine's reasons.
        Code::Forbidden
    } else {
        Code::TransitionRefused
    };
    let texts: Vec<Text> = r
        .reasons
        .iter()
        .map(|x| Text::new(x.reason_vi.clone(), x.reason_en.clone()))
        .collect();
    let rules = r.rule_ids();
    let detail: Vec<serde_json::Value> = r
        .reasons
        .iter()
        .map(|x| {
            serde_json::json!({
                "code": x.code.as_str(), "rule": x.rule, "guard": x.guard, "field": x.field,
                "vi": x.reason_vi, "en": x.reason_en
            })
        })
        .collect();
    let err = graphql_error(code, &texts, l);
    use async_graphql::ErrorExtensions as _;
    err.extend_with(move |_, e| {
        e.set("rules", rules.clone());
        if let Ok(v) = async_graphql::Value::from_json(serde_json::Value::Array(detail.clone())) {
            e.set("reasons", v);
        }
    })
}

/// A deadline of a case.
#[derive(SimpleObject)]
pub struct CaseDeadline {
    /// Its key in the definition.
    key: String,
    /// The rule that sets it.
    rule: String,
    /// Due date.
    due: Date,
    /// Due date after extension, when extended.
    extended_due: Option<Date>,
    /// Whether it was extended.
    extended: bool,
    /// Whether it has passed (on the day asked).
    overdue: bool,
    /// Working days left (negative when overdue).
    working_days_left: i64,
}

/// One entry of a case's history.
pub struct CaseEvent(CaseEventRecord, CaseView);

#[Object]
impl CaseEvent {
    /// Position in the history, from 1.
    async fn seq(&self) -> u64 {
        self.0.seq
    }
    /// `STEP`, `REFUSED` (an attempt recorded on request) or `MIGRATED`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Transition.
    async fn transition(&self) -> &str {
        &self.0.transition
    }
    /// Who.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// Inputs given (an empty object for the member the case is about: what the bodies
    /// recorded, votes included, is not theirs to read).
    async fn inputs(&self) -> Json<serde_json::Value> {
        match self.1 {
            CaseView::Full => Json(self.0.inputs.clone()),
            CaseView::Subject => Json(serde_json::json!({})),
        }
    }
    /// State before.
    async fn from_state(&self) -> &str {
        &self.0.from_state
    }
    /// State after.
    async fn to_state(&self) -> &str {
        &self.0.to_state
    }
    /// The rule set the step was decided under.
    async fn rule_set(&self) -> &str {
        &self.0.rule_set
    }
    /// The definition version the step was decided under.
    async fn definition_version(&self) -> u32 {
        self.0.definition_version
    }
    /// Effects of a step, or the reasons of a refusal (an empty object for the member the
    /// case is about).
    async fn payload(&self) -> Json<serde_json::Value> {
        match self.1 {
            CaseView::Full => Json(self.0.payload.clone()),
            CaseView::Subject => Json(serde_json::json!({})),
        }
    }
    /// The caller's idempotency key.
    async fn idempotency_key(&self) -> Option<&str> {
        self.0.idempotency_key.as_deref()
    }
    /// The day of the step.
    async fn effective_date(&self) -> Date {
        self.0.effective_date.into()
    }
    /// When it was recorded (RFC 3339).
    async fn occurred_at(&self) -> String {
        self.0.occurred_at.to_rfc3339()
    }
    /// The previous event's hash.
    async fn prev_hash(&self) -> &str {
        &self.0.prev_hash
    }
    /// This event's hash.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}

/// One read of a confidential case.
#[derive(SimpleObject)]
pub struct AccessEntry {
    /// The account.
    account_id: ID,
    /// Its login name.
    username: String,
    /// What it did (`read`).
    action: String,
    /// When (RFC 3339).
    at: String,
}

/// A transition and whether it could be fired now.
#[derive(SimpleObject)]
pub struct AvailableTransition {
    /// Transition name.
    name: String,
    /// Its label in the reader's language.
    label: String,
    /// The state it leads to (none when it stays or is decided by its inputs).
    to: Option<String>,
    /// `ALLOWED`, `NEEDS_INPUT` (the guards that can be evaluated hold; the rest need the
    /// inputs) or `REFUSED`.
    status: String,
    /// Why not, or what is still needed.
    reasons: Vec<RefusalReason>,
    /// The inputs it requires.
    required_inputs: Vec<String>,
    /// Every input it takes, typed, in the definition's order: what a client needs to build
    /// its form.
    inputs: Vec<TransitionInput>,
    /// For a vote of the branch, the members of the case's unit its denominator leaves out as
    /// the registry has them on the preview's day, the same reading the step makes on the
    /// vote's date (A8, A14, D5, D33, S15); none for another step, and for the member the
    /// case is about.
    registry_exclusions: Option<VoteExclusionsPreview>,
}

/// The members of a unit a vote's denominator leaves out on a day, as the registry has them.
#[derive(SimpleObject)]
pub struct VoteExclusionsPreview {
    /// The day read.
    on: Date,
    /// Official members living their party life temporarily elsewhere that day.
    away: u32,
    /// Official members exempted from party work and activities that day (S15), not counting
    /// those away; left out when absent.
    exempted: u32,
}

/// The discipline a case decided (see `Case.decision`).
#[derive(SimpleObject)]
pub struct CaseDecision {
    /// The form (`reprimand`, `warning`, `removal`, `expulsion`, `dissolution`).
    form: String,
    /// The form in the reader's language.
    form_label: String,
    /// The decision's number.
    number: Option<String>,
    /// The day it was decided (or ruled on appeal).
    decided_on: Option<Date>,
    /// The body that decided it, in the reader's language.
    body: Option<String>,
    /// The day the member received it (the appeal window counts from it, P1).
    received_on: Option<Date>,
    /// The last day to appeal, while the window is open (P1).
    appeal_due_by: Option<Date>,
    /// The day it lapses (C1), once known.
    lapses_on: Option<Date>,
    /// After a removal from post, the first day the member may again be elected or appointed
    /// to an equivalent or higher post (C3).
    election_barred_until: Option<Date>,
    /// The member's appeal rights, in the reader's language: to whom, within when (P1), signed
    /// by themselves (P4), the decision in force meanwhile (P2).
    appeal_rights: String,
}

/// One input of a transition, as the definition declares it.
#[derive(SimpleObject)]
pub struct TransitionInput {
    /// Name (the key of `FireInput.inputs`).
    name: String,
    /// `string`, `integer`, `date`, `boolean`, `enum`, `member_ref`, `unit_ref`, or
    /// `list` (of `itemType`).
    r#type: String,
    /// The type of a list's items.
    item_type: Option<String>,
    /// Whether it must be given.
    required: bool,
    /// Its label in the reader's language.
    label: String,
    /// The values an `enum` input accepts.
    values: Vec<String>,
    /// Smallest value of an `integer` input.
    min: Option<i64>,
    /// Largest value of an `integer` input.
    max: Option<i64>,
}

impl TransitionInput {
    fn of(spec: &memberflow_workflow::engine::InputSpec, l: Lang) -> Self {
        let (ty, item) = match &spec.ty {
            InputType::List(inner) => ("list".to_owned(), Some(inner.as_ref())),
            other => (other.name(), None),
        };
        let scalar = item.unwrap_or(&spec.ty);
        let (min, max) = match scalar {
            InputType::Integer { min, max } => (*min, *max),
            _ => (None, None),
        };
        TransitionInput {
            name: spec.name.clone(),
            r#type: ty,
            item_type: item.map(InputType::name),
            required: spec.required,
            label: match l {
                Lang::Vi => spec.label_vi.clone(),
                Lang::En => spec.label_en.clone(),
            },
            values: match scalar {
                InputType::Enum(v) => v.clone(),
                _ => Vec::new(),
            },
            min,
            max,
        }
    }
}

/// A workflow case.
pub struct Case(pub CaseRecord, pub CaseView);

#[Object]
impl Case {
    /// Identifier.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The definition it runs under.
    async fn definition_id(&self) -> &str {
        &self.0.definition_id
    }
    /// The definition version it runs under.
    async fn definition_version(&self) -> u32 {
        self.0.definition_version
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Current state.
    async fn state(&self) -> &str {
        &self.0.state
    }
    /// The current state's label in the reader's language.
    async fn state_label(&self, ctx: &Context<'_>) -> Option<String> {
        let def = catalog(ctx).definition_of(&self.0).ok()?;
        let s = def.state(&self.0.state)?;
        Some(match lang(ctx) {
            Lang::Vi => s.label_vi.clone(),
            Lang::En => s.label_en.clone(),
        })
    }
    /// Version: the number of steps taken; give it back as `expectedVersion`.
    async fn version(&self) -> u64 {
        self.0.version
    }
    /// Whether the case has ended.
    async fn terminal(&self) -> bool {
        self.0.terminal
    }
    /// The rule set of the latest step.
    async fn rule_set(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self.0.snapshot().gql(lang(ctx))?.current_rule_set())
    }
    /// The unit that owns it.
    async fn unit(&self, ctx: &Context<'_>) -> async_graphql::Result<Unit> {
        Ok(Unit(crate::access::unit_record(ctx, self.0.unit_id).await?))
    }
    /// The member it is about, if any.
    async fn subject_member_id(&self) -> Option<ID> {
        self.0.subject_member_id.map(to_id)
    }
    /// Facts recorded by its steps (an empty object for the member the case is about).
    async fn facts(&self, ctx: &Context<'_>) -> async_graphql::Result<Json<serde_json::Value>> {
        if self.1 == CaseView::Subject {
            return Ok(Json(serde_json::json!({})));
        }
        Ok(Json(serde_json::Value::Object(
            self.0
                .snapshot()
                .gql(lang(ctx))?
                .facts
                .iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        )))
    }
    /// The discipline decided by the case, when it decided one: what the member concerned is
    /// told (D38) and may appeal against (P1) — the form, the decision's number and date, the
    /// body that decided and the appeal deadline — and never how anyone voted. Readable by
    /// whoever may read the case, the member concerned included.
    async fn decision(&self, ctx: &Context<'_>) -> Option<CaseDecision> {
        let l = lang(ctx);
        let d = engine::DecisionSummary::of(self.0.snapshot().ok()?)?;
        Some(CaseDecision {
            form_label: d.form_label().get(l).to_owned(),
            body: d.body_label().map(|b| b.get(l).to_owned()),
            appeal_rights: d.appeal_rights().get(l).to_owned(),
            form: d.form,
            number: d.number,
            decided_on: d.decided_on.map(Date),
            received_on: d.received_on.map(Date),
            appeal_due_by: d.appeal_due_by.map(Date),
            lapses_on: d.lapses_on.map(Date),
            election_barred_until: d.election_barred_until.map(Date),
        })
    }
    /// The earliest open deadline.
    async fn next_due(&self) -> Option<Date> {
        self.0.next_due.map(Date)
    }
    /// Open deadlines, as of `on` (today by default).
    /// (A list reads the open deadlines of its whole page at once.)
    async fn deadlines(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<CaseDeadline>> {
        let d = on_or_today(ctx, on);
        let cal = &catalog(ctx).calendar;
        Ok(self
            .0
            .deadlines()
            .gql(lang(ctx))?
            .into_iter()
            .map(|r| {
                let due = r.effective_due();
                CaseDeadline {
                    key: r.key,
                    rule: r.rule,
                    due: r.due.into(),
                    extended_due: r.extended_due.map(Date),
                    extended: r.extended,
                    overdue: d > due,
                    working_days_left: cal.working_days_between(d, due),
                }
            })
            .collect())
    }
    /// Whether the history is intact: every event in sequence, linked to the one before by
    /// its hash, its hash matching its content, and as many steps as the case's version (the
    /// check of `memberflow check --history`, for this case).
    async fn history_intact(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let breaks = app(ctx)
            .store
            .cases()
            .verify_case_history(self.0.id)
            .await
            .gql(lang(ctx))?;
        for b in &breaks {
            tracing::warn!(case = %b.case_id, seq = b.seq, problem = %b.problem, "history chain broken");
        }
        Ok(breaks.is_empty())
    }
    /// The whole history, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CaseEvent>> {
        Ok(app(ctx)
            .store
            .cases()
            .case_events(self.0.id)
            .await
            .gql(lang(ctx))?
            .into_iter()
            .map(|e| CaseEvent(e, self.1))
            .collect())
    }
    /// What could happen next for the caller on `on`: every transition from the current
    /// state, allowed or refused, with the reasons (a transition none of the caller's roles may
    /// fire is refused with the roles it needs).
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<AvailableTransition>> {
        let l = lang(ctx);
        let d = on_or_today(ctx, on);
        let cat = catalog(ctx);
        let def = cat.definition_of(&self.0).gql(l)?;
        let actor = actor_for(ctx, def, &self.0, d).await?;
        let context = app(ctx)
            .store
            .registry()
            .context_of(cat, &self.0, d)
            .await
            .gql(l)?;
        let exclusions = engine::context::read_vote_exclusions(&context);
        Ok(engine::available(
            def,
            &cat.rules,
            &cat.calendar,
            self.0.snapshot().gql(l)?,
            &actor,
            &context,
            d,
        )
        .into_iter()
        .map(|a| AvailableTransition {
            inputs: def
                .transition(&a.transition)
                .map(|t| t.inputs.iter().map(|i| TransitionInput::of(i, l)).collect())
                .unwrap_or_default(),
            registry_exclusions: exclusions
                .as_ref()
                .filter(|_| {
                    self.1 != CaseView::Subject
                        && def.transition(&a.transition).is_some_and(|t| {
                            engine::context::transition_reads(t, engine::context::VOTE_EXCLUSIONS)
                        })
                })
                .map(|x| VoteExclusionsPreview {
                    on: Date(x.on),
                    away: u32::try_from(x.away.len()).unwrap_or(u32::MAX),
                    exempted: u32::try_from(x.exempted.len()).unwrap_or(u32::MAX),
                }),
            name: a.transition,
            label: match l {
                Lang::Vi => a.label_vi,
                Lang::En => a.label_en,
            },
            to: a.to,
            status: match a.status {
                AvailabilityStatus::Allowed => "ALLOWED",
                AvailabilityStatus::NeedsInput => "NEEDS_INPUT",
                AvailabilityStatus::Refused => "REFUSED",
            }
            .to_owned(),
            reasons: a.reasons.iter().map(RefusalReason::from).collect(),
            required_inputs: a.required_inputs,
        })
        .collect())
    }
    /// Who read this case and when, newest first, at most `first` (50 by default): kept
    /// for confidential cases, readable by auditors and inspection commissions over its unit.
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<AccessEntry>> {
        let l = lang(ctx);
        require_on_case(ctx, Permission::ReadAccessLog, self.0.unit_id).await?;
        let n = first.unwrap_or(50).clamp(1, 500);
        Ok(app(ctx)
            .store
            .accounts()
            .access_log(&case_subject(self.0.id), u64::try_from(n).unwrap_or(50))
            .await
            .gql(l)?
            .into_iter()
            .map(|r| AccessEntry {
                account_id: to_id(r.account_id),
                username: r.username,
                action: r.action,
                at: r.at.to_rfc3339(),
            })
            .collect())
    }
    /// The votes of the case (A8, A9, A14, D5), oldest first, derived from its history: who
    /// could vote, how many were in favour, the denominator the rule uses, the threshold of the
    /// rule set each step was decided under, and the result. The engine computes the result;
    /// a refused attempt kept in the history (`recordRefusal`) appears with `recorded: false`.
    async fn votes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CaseVote>> {
        let l = lang(ctx);
        if self.1 == CaseView::Subject {
            return Err(ApiError::Forbidden(Text::new(
                "Đảng viên là đối tượng của hồ sơ không được xem kết quả biểu quyết.",
                "The member a case is about may not see its votes.",
            ))
            .into_graphql(l));
        }
        let cat = catalog(ctx);
        let def = cat.definition_of(&self.0).gql(l)?;
        let events = app(ctx).store.cases().case_events(self.0.id).await.gql(l)?;
        let parsed = parsed_history(&events);
        Ok(engine::votes(def, &cat.rules, &recorded_steps(&parsed))
            .into_iter()
            .map(|v| CaseVote {
                seq: v.seq,
                transition: v.transition,
                rule: v.rule,
                body: v.body.as_str().to_owned(),
                round: v.round,
                held_on: v.held_on.into(),
                rule_set: v.rule_set,
                recorded: v.recorded,
                proposal: v.proposal,
                eligible: v.eligible,
                excluded: v.excluded,
                excluded_away: v.excluded_away,
                excluded_exempted: v.excluded_exempted,
                excluded_from: v.excluded_from.map(Into::into),
                denominator: v.denominator,
                votes_for: v.votes_for,
                not_in_favour: v.not_in_favour,
                threshold_param: v.threshold_param,
                threshold: v.threshold.map(|t| t.to_string()),
                required: v.required,
                passed: v.passed,
                note: match l {
                    Lang::Vi => v.note_vi,
                    Lang::En => v.note_en,
                },
            })
            .collect())
    }
    /// The documents of the case's file as of `on` (today by default), in the order of the
    /// procedure: which are in, which are missing, pending, expiring or expired (A2–A12, E3),
    /// computed from the facts, the history and the rule sets. Empty for a workflow without a
    /// file list.
    async fn dossier(
        &self,
        ctx: &Context<'_>,
        on: Option<Date>,
    ) -> async_graphql::Result<Vec<DossierDocument>> {
        let l = lang(ctx);
        let d = on_or_today(ctx, on);
        let cat = catalog(ctx);
        let events = app(ctx).store.cases().case_events(self.0.id).await.gql(l)?;
        let parsed = parsed_history(&events);
        let steps = recorded_steps(&parsed);
        Ok(engine::dossier(
            self.0.snapshot().gql(l)?,
            &steps,
            &cat.rules,
            &cat.calendar,
            self.0.terminal,
            d,
        )
        .into_iter()
        .map(|x| DossierDocument {
            key: x.key,
            rule: x.rule,
            label: match l {
                Lang::Vi => x.label_vi,
                Lang::En => x.label_en,
            },
            status: x.status.into(),
            date: x.date.map(Date),
            reference: x.reference,
            valid_until: x.valid_until.map(Date),
            warn_from: x.warn_from.map(Date),
            due_by: x.due_by.map(Date),
            note: match l {
                Lang::Vi => x.note_vi,
                Lang::En => x.note_en,
            },
        })
        .collect())
    }
}

/// One entry of a history read back: the entry, its inputs and what the registry told its
/// guards (a vote's exclusions), as the engine's values.
type ParsedEntry<'a> = (&'a CaseEventRecord, Values, Option<Values>);

/// The entries of a history that are steps taken or refused attempts, with their inputs and
/// registry facts read back as the engine's values.
fn parsed_history(events: &[CaseEventRecord]) -> Vec<ParsedEntry<'_>> {
    events
        .iter()
        .filter(|e| e.kind == "STEP" || e.kind == "REFUSED")
        .map(|e| {
            (
                e,
                serde_json::from_value(e.inputs.clone()).unwrap_or_default(),
                e.registry_facts
                    .clone()
                    .and_then(|f| serde_json::from_value(f).ok()),
            )
        })
        .collect()
}

fn recorded_steps<'a>(parsed: &'a [ParsedEntry<'a>]) -> Vec<engine::RecordedStep<'a>> {
    parsed
        .iter()
        .map(|(e, inputs, facts)| engine::RecordedStep {
            seq: e.seq,
            transition: &e.transition,
            on: e.effective_date,
            rule_set: &e.rule_set,
            accepted: e.kind == "STEP",
            inputs,
            facts: facts.as_ref(),
        })
        .collect()
}

/// A vote of a case, with the result the engine computes from the rule set (never the
/// client's).
#[derive(SimpleObject)]
pub struct CaseVote {
    /// The history entry that recorded it.
    seq: u64,
    /// Its transition.
    transition: String,
    /// The rule that sets the threshold: `A8`, `A9`, `A14` or `D5`.
    rule: String,
    /// Who voted: `branch` (its official members) or `grassroots_committee`.
    body: String,
    /// 1 for the first vote under this rule in the case, then 2, 3 (A14 allows 3 rounds).
    round: u32,
    /// Day of the meeting.
    held_on: Date,
    /// The rule set the result is computed under (the step's).
    rule_set: String,
    /// `false` for a refused attempt kept in the history.
    recorded: bool,
    /// What was voted on, when recorded (`recognise`, `strike_off`).
    proposal: Option<String>,
    /// Members entitled to vote: the branch's official members, or the committee's members.
    eligible: i64,
    /// Left out of the denominator: members living their party life temporarily elsewhere and
    /// exempted members who are absent (A8, D33, S15); `excludedAway` plus `excludedExempted`.
    excluded: i64,
    /// Of them, the members living their party life temporarily elsewhere on the vote's date.
    excluded_away: i64,
    /// Of them, the members exempted from party activities and work (S15) who were absent.
    excluded_exempted: i64,
    /// Where they were counted from: `REGISTRY` (the registry on the vote's date, as the step
    /// was decided on it) or `INPUTS` (the counts typed with a step recorded without the
    /// registry's figures); null for a committee's vote, which leaves nobody out.
    excluded_from: Option<ExclusionSource>,
    /// The denominator the rule uses: eligible less excluded (not the members present).
    denominator: i64,
    /// Votes in favour.
    votes_for: i64,
    /// Everyone else counted in the denominator: against, abstaining or absent.
    not_in_favour: i64,
    /// The rule-set parameter of the threshold, e.g. `A8.vote_threshold`.
    threshold_param: String,
    /// Its value in that rule set, e.g. `>= 2/3`.
    threshold: Option<String>,
    /// The smallest number of votes in favour that meets it.
    required: Option<i64>,
    /// Whether the threshold was met; null when it cannot be computed (see `note`).
    passed: Option<bool>,
    /// Why the result cannot be computed, in the reader's language.
    note: Option<String>,
}

/// Where a vote's excluded members were counted from.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExclusionSource {
    /// The registry on the vote's date, as the step's guard read it (kept with the step).
    Registry,
    /// The counts the step's inputs typed: a step recorded without the registry's figures.
    Inputs,
}

impl From<engine::ExclusionSource> for ExclusionSource {
    fn from(s: engine::ExclusionSource) -> Self {
        match s {
            engine::ExclusionSource::Registry => ExclusionSource::Registry,
            engine::ExclusionSource::Inputs => ExclusionSource::Inputs,
        }
    }
}

/// Whether a document of a case's file is in.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DocumentStatus {
    /// In the file, and valid.
    Present,
    /// In the file, valid, but its validity ends soon (A2: from 54 months).
    Expiring,
    /// In the file, no longer valid: renew it (A2: retake the course).
    Expired,
    /// Not in the file although the procedure is past its step, or its deadline has passed.
    Missing,
    /// Not in the file yet: its step is still ahead.
    Pending,
    /// Not needed for this case.
    NotRequired,
}

impl From<engine::DocumentStatus> for DocumentStatus {
    fn from(s: engine::DocumentStatus) -> Self {
        match s {
            engine::DocumentStatus::Present => DocumentStatus::Present,
            engine::DocumentStatus::Expiring => DocumentStatus::Expiring,
            engine::DocumentStatus::Expired => DocumentStatus::Expired,
            engine::DocumentStatus::Missing => DocumentStatus::Missing,
            engine::DocumentStatus::Pending => DocumentStatus::Pending,
            engine::DocumentStatus::NotRequired => DocumentStatus::NotRequired,
        }
    }
}

/// A document of a case's file.
#[derive(SimpleObject)]
pub struct DossierDocument {
    /// Stable key: `awareness_certificate`, `application`, `personal_history`,
    /// `verification_report`, `introducers`, `opinions`, `branch_resolution`,
    /// `grassroots_review`, `province_consent`, `admission_decision`, `ceremony`,
    /// `member_history`.
    key: String,
    /// The rule that asks for it.
    rule: String,
    /// Its name in the reader's language.
    label: String,
    /// Whether it is in.
    status: DocumentStatus,
    /// Its date, when it is in.
    date: Option<Date>,
    /// Numbers or names that identify it.
    reference: Option<String>,
    /// Last day it is valid (A2: the awareness certificate).
    valid_until: Option<Date>,
    /// First day of the expiry warning (A2).
    warn_from: Option<Date>,
    /// Last day to bring it (A12: the member's personal-history file).
    due_by: Option<Date>,
    /// Why the status is what it is, in the reader's language.
    note: Option<String>,
}

/// Which cases to list.
#[derive(InputObject, Default)]
pub struct CaseFilterInput {
    /// Cases of this unit...
    unit_id: Option<ID>,
    /// ...and of the units below it (on today's tree).
    include_subtree: Option<bool>,
    /// Of this workflow (`admission`, ...).
    definition_id: Option<String>,
    /// In one of these states.
    states: Option<Vec<String>>,
    /// Only cases that have not ended.
    open_only: Option<bool>,
    /// Only cases with a deadline already passed.
    overdue: Option<bool>,
    /// Only cases with a deadline due within this many working days (overdue ones included).
    due_within_working_days: Option<u32>,
    /// Only cases about this member.
    subject_member_id: Option<ID>,
}

/// Extra fields of a case connection.
#[derive(SimpleObject)]
pub struct CaseConnectionFields {
    /// How many cases match, over all pages.
    total_count: u64,
}

/// A page of cases.
pub type CaseConnection = Connection<String, Case, CaseConnectionFields>;

/// Reading cases.
#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// A case by id.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Case> {
        let l = lang(ctx);
        caller(ctx)?;
        let id = parse_id(&id, "case").gql(l)?;
        let case = app(ctx).store.cases().case(id).await.gql(l)?;
        let view = read_case(ctx, &case).await?;
        Ok(Case(case, view))
    }

    /// Cases matching `filter`, in opening order.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CaseConnection> {
        let l = lang(ctx);
        let a = app(ctx);
        caller(ctx)?;
        let f = filter.unwrap_or_default();
        let today = a.clock.today();
        let first = page_size(first).gql(l)?;
        // A subtree is read by the query itself from the tree's ancestry.
        let (units, subtree) = match &f.unit_id {
            Some(id) => {
                let id = parse_id(id, "unit").gql(l)?;
                if f.include_subtree.unwrap_or(false) {
                    a.store.tree().unit_on(id, today).await.gql(l)?;
                    (
                        None,
                        Some(Subtree {
                            root: id,
                            on: today,
                        }),
                    )
                } else {
                    a.store.tree().unit(id).await.gql(l)?;
                    (Some(vec![id]), None)
                }
            }
            None => (None, None),
        };
        // Applied by the store to the page and to the count alike, so no cursor reaches past
        // the caller's scope.
        let visible = case_visibility(ctx, today).await?;
        let due_by = match (f.overdue.unwrap_or(false), f.due_within_working_days) {
            (true, _) => today.pred_opt(),
            (false, Some(n)) => Some(a.catalog.calendar.add_working_days(today, n)),
            (false, None) => None,
        };
        let filter = CaseFilter {
            units,
            subtree,
            definition_id: f.definition_id,
            states: f.states.unwrap_or_default(),
            open_only: f.open_only.unwrap_or(false),
            due_by,
            visible: Some(visible),
            subject_member: f
                .subject_member_id
                .as_ref()
                .map(|m| parse_id(m, "member"))
                .transpose()
                .gql(l)?,
        };
        let after_id = after.as_deref().map(decode_cursor).transpose().gql(l)?;
        // The page and, only when asked for, the count: read at once.
        let store = a.store.cases();
        let count = async {
            if ctx.look_ahead().field("totalCount").exists() {
                store.count(&filter).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (page, total) = tokio::join!(store.page(&filter, after_id, first), count);
        let page = page.gql(l)?;
        let total = total.gql(l)?.unwrap_or(0);
        // Every row is authorized below: their units' paths in one read; and the page's open
        // deadlines in one read, when asked for (a board's cards), so that no case's snapshot
        // is decoded for them. Both at once.
        let mut cases = page.cases;
        let look = ctx.look_ahead();
        let units: Vec<_> = cases.iter().map(|c| c.unit_id).collect();
        let ids: Vec<_> = cases.iter().map(|c| c.id).collect();
        let deadlines = async {
            if look.field("nodes").field("deadlines").exists()
                || look
                    .field("edges")
                    .field("node")
                    .field("deadlines")
                    .exists()
            {
                store.open_deadlines_of(&ids).await.map(Some)
            } else {
                Ok(None)
            }
        };
        let (paths, deadlines) =
            tokio::join!(crate::access::prefetch_paths(ctx, &units, today), deadlines);
        paths?;
        if let Some(mut rows) = deadlines.gql(l)? {
            for c in &mut cases {
                c.open_deadlines = Some(rows.remove(&c.id).unwrap_or_default());
            }
        }
        let mut conn = Connection::with_additional_fields(
            after_id.is_some(),
            page.has_next,
            CaseConnectionFields { total_count: total },
        );
        for c in cases {
            let view = read_case(ctx, &c).await?;
            conn.edges
                .push(Edge::new(encode_cursor(c.id), Case(c, view)));
        }
        Ok(conn)
    }

    /// The workflow definitions loaded, every version.
    async fn workflows(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WorkflowInfo>> {
        caller(ctx)?;
        Ok(catalog(ctx)
            .definitions
            .iter()
            .map(|d| WorkflowInfo {
                id: d.id.clone(),
                version: d.version,
                title: d.title.clone(),
                states: d.states.iter().map(|s| s.name.clone()).collect(),
                stages: d
                    .states
                    .iter()
                    .map(|s| WorkflowStage {
                        name: s.name.clone(),
                        label: match lang(ctx) {
                            Lang::Vi => s.label_vi.clone(),
                            Lang::En => s.label_en.clone(),
                        },
                        terminal: s.terminal,
                    })
                    .collect(),
                transitions: std::iter::once((
                    engine::OPEN.to_owned(),
                    d.open.label_vi.clone(),
                    d.open.label_en.clone(),
                ))
                .chain(
                    d.transitions
                        .iter()
                        .map(|t| (t.name.clone(), t.label_vi.clone(), t.label_en.clone())),
                )
                .map(|(name, vi, en)| WorkflowStage {
                    name,
                    label: match lang(ctx) {
                        Lang::Vi => vi,
                        Lang::En => en,
                    },
                    terminal: false,
                })
                .collect(),
            })
            .collect())
    }
}

/// A workflow definition.
#[derive(SimpleObject)]
pub struct WorkflowInfo {
    /// Id.
    id: String,
    /// Version.
    version: u32,
    /// Title.
    title: String,
    /// Its states.
    states: Vec<String>,
    /// Its states in the definition's order, with their labels: the columns of a board.
    stages: Vec<WorkflowStage>,
    /// Its transitions (`open` first), with their labels, for histories (`terminal` is
    /// always false).
    transitions: Vec<WorkflowStage>,
}

/// A state (or transition) of a workflow, for people.
#[derive(SimpleObject)]
pub struct WorkflowStage {
    /// Name.
    name: String,
    /// Its label in the reader's language.
    label: String,
    /// Whether a case ends there.
    terminal: bool,
}

/// A case to open.
#[derive(InputObject)]
pub struct OpenCaseInput {
    /// Which workflow (its newest version is used).
    definition_id: String,
    /// The unit that owns the case.
    unit_id: ID,
    /// The member it is about, if known.
    subject_member_id: Option<ID>,
    /// A title for lists.
    title: String,
    /// The opening transition's inputs, as a JSON object.
    inputs: Option<Json<serde_json::Value>>,
    /// A key that makes a retry harmless.
    idempotency_key: Option<String>,
    /// The day the case opened, today or earlier (today by default): a case recording past
    /// events opens on the day the first of them happened, under the rule set in force then.
    on: Option<Date>,
}

/// A transition to fire.
#[derive(InputObject)]
pub struct FireInput {
    /// The case.
    case_id: ID,
    /// The transition.
    transition: String,
    /// Its inputs, as a JSON object (dates as `YYYY-MM-DD`).
    inputs: Option<Json<serde_json::Value>>,
    /// The version read; a case that moved on meanwhile gives `CONFLICT`.
    expected_version: Option<u64>,
    /// A key that makes a retry harmless: the same key returns the first result.
    idempotency_key: Option<String>,
    /// Decide and report, change nothing.
    dry_run: Option<bool>,
    /// Keep a refused attempt in the history.
    record_refusal: Option<bool>,
    /// The day of the step, today or earlier (today by default): recording a step that
    /// happened last week applies the rule set in force that day.
    on: Option<Date>,
}

/// What a command did.
#[derive(SimpleObject)]
pub struct StepResult {
    /// The case after the step (before it, for a dry run).
    case: Case,
    /// The history entry (none for a dry run).
    event: Option<CaseEvent>,
    /// The state the step leads to.
    to_state: String,
    /// The rule set the step was decided under.
    rule_set: String,
    /// The effects, as data.
    effects: Json<serde_json::Value>,
    /// Whether this is the first result of a repeated idempotency key (nothing changed).
    replayed: bool,
    /// Whether this was a dry run (nothing changed).
    dry_run: bool,
}

/// Open cases to move to a newer version of their workflow.
#[derive(InputObject)]
pub struct MigrateCasesInput {
    /// The workflow.
    definition_id: String,
    /// The version to move to (the newest by default).
    to_version: Option<u32>,
    /// List what would change and change nothing (the default: set `dryRun: false` to apply).
    dry_run: Option<bool>,
}

/// What a migration did, or would do, to one case.
#[derive(SimpleObject)]
pub struct CaseMigrationResult {
    /// The case.
    case_id: ID,
    /// Its title.
    title: String,
    /// Version it runs under now (before the migration).
    from_version: u32,
    /// Version it moves to.
    to_version: u32,
    /// State now.
    from_state: String,
    /// State in the new version, if it has one.
    to_state: Option<String>,
    /// What changes for it, as data (`state_kept`, `transition_added`, `deadline_cancelled`...).
    changes: Json<serde_json::Value>,
    /// Why it cannot move, if it cannot.
    blockers: Vec<String>,
    /// Whether it was moved.
    applied: bool,
}

/// Changing cases.
#[derive(Default)]
pub struct CaseMutation;

fn definition<'a>(cat: &'a Catalog, id: &str, l: Lang) -> async_graphql::Result<&'a Definition> {
    cat.latest(id).ok_or_else(|| {
        graphql_error(
            Code::NotFound,
            &[Text::new(
                format!("Không có quy trình {id}."),
                format!("There is no workflow {id}."),
            )],
            l,
        )
    })
}

/// `VALIDATION` for a step (or an opening) dated after today.
fn not_in_future(on: NaiveDate, today: NaiveDate, l: Lang) -> async_graphql::Result<()> {
    if on > today {
        return Err(ApiError::Validation(Text::new(
            "Không thể ghi một bước vào ngày trong tương lai.",
            "A step cannot be recorded on a future date.",
        ))
        .into_graphql(l));
    }
    Ok(())
}

/// The caller as the actor of a step on `case` on `on`: the roles their grants give on it.
async fn actor_for(
    ctx: &Context<'_>,
    def: &Definition,
    case: &CaseRecord,
    on: NaiveDate,
) -> async_graphql::Result<Actor> {
    let set = rule_set_for(def, case, lang(ctx))?;
    let (id, roles) = case_roles(ctx, case.unit_id, case.subject_member_id, on, set).await?;
    Ok(Actor::new(id, roles))
}

/// The rule set a step's roles are decided under: the one the case opened with when its
/// definition says so, else the step's date's (`None`).
fn rule_set_for<'c>(
    def: &Definition,
    case: &'c CaseRecord,
    l: Lang,
) -> async_graphql::Result<Option<&'c str>> {
    Ok(match def.rule_set_selection {
        RuleSetSelection::CaseOpened => case.snapshot().gql(l)?.opening_rule_set(),
        RuleSetSelection::EventDate => None,
    })
}

/// The command of a step on `case` (as its transaction read it, placed on `path`) and how its caller sees the
/// case, or why the caller may not fire it: a transition the workflow lacks, no role it
/// names, inputs that do not parse.
fn prepare_step(
    ctx: &Context<'_>,
    case: &CaseRecord,
    path: &[UnitRecord],
    input: &FireInput,
    today: NaiveDate,
) -> async_graphql::Result<(Command, CaseView)> {
    let l = lang(ctx);
    let a = app(ctx);
    let def = a.catalog.definition_of(case).gql(l)?;
    let t = def.transition(&input.transition).ok_or_else(|| {
        graphql_error(
            Code::TransitionRefused,
            &[Text::new(
                format!("Quy trình không có bước «{}».", input.transition),
                format!("The workflow has no transition `{}`.", input.transition),
            )],
            l,
        )
    })?;
    let set = rule_set_for(def, case, l)?;
    let path: Vec<PathUnit<uuid::Uuid>> = path
        .iter()
        .map(|u| PathUnit {
            id: u.id,
            kind: u.kind,
        })
        .collect();
    let (id, roles) = roles_on_path(ctx, &path, case.subject_member_id, today, set)?;
    let actor = Actor::new(id, roles);
    ensure_may_fire(t, &actor, l)?;
    let view = view_of(&actor);
    let mut event = Event::new(input.transition.clone(), actor);
    event.inputs = to_values(t, input.inputs.clone()).gql(l)?;
    dates_not_too_far(&event.inputs, a.clock.today()).gql(l)?;
    Ok((
        Command {
            event,
            idempotency_key: input.idempotency_key.clone(),
            refusals: if input.record_refusal.unwrap_or(false) {
                RefusalRecording::Record
            } else {
                RefusalRecording::Discard
            },
            today,
            now: a.clock.now(),
        },
        view,
    ))
}

/// `FORBIDDEN` unless one of the actor's roles is one the transition names. (The engine
/// checks the same again; this answers a caller with no part in the step before anything of
/// the case is decided or shown.)
fn ensure_may_fire(t: &Transition, actor: &Actor, l: Lang) -> async_graphql::Result<()> {
    if t.by.iter().any(|r| actor.roles.iter().any(|h| r.admits(h))) {
        return Ok(());
    }
    let needed =
        t.by.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
    Err(ApiError::Forbidden(Text::new(
        format!(
            "Tài khoản của đồng chí không giữ vai trò nào được thực hiện bước «{}» của hồ sơ này (cần: {needed}).",
            t.name
        ),
        format!(
            "Your account holds none of the roles that may fire `{}` on this case (needed: {needed}).",
            t.name
        ),
    ))
    .into_graphql(l))
}

fn view_of(actor: &Actor) -> CaseView {
    if actor.roles.iter().all(|r| r.role == "member") && !actor.roles.is_empty() {
        CaseView::Subject
    } else {
        CaseView::Full
    }
}

fn outcome(
    ctx: &Context<'_>,
    o: CaseOutcome,
    view: CaseView,
    l: Lang,
) -> async_graphql::Result<StepResult> {
    match o {
        CaseOutcome::Applied {
            case,
            event,
            decision,
        } => {
            // The outbox's sender has something new only when the step queued a row for it.
            if decision.effects.iter().any(Effect::queues_outbox_row) {
                app(ctx).committed();
            }
            app(ctx).bus.publish(|| {
                crate::live::change(
                    case.id,
                    case.unit_id,
                    &event.kind,
                    &event.transition,
                    &case.state,
                    case.version,
                    app(ctx)
                        .catalog
                        .definition(&case.definition_id, case.definition_version)
                        .is_none_or(|d| d.confidential),
                )
            });
            Ok(StepResult {
                to_state: decision.to.clone(),
                rule_set: decision.rule_set.clone(),
                effects: Json(serde_json::to_value(&decision.effects).unwrap_or_default()),
                case: Case(*case, view),
                event: Some(CaseEvent(*event, view)),
                replayed: false,
                dry_run: false,
            })
        }
        CaseOutcome::Replayed { case, event } => Ok(StepResult {
            to_state: event.to_state.clone(),
            rule_set: event.rule_set.clone(),
            effects: Json(event.payload.clone()),
            case: Case(*case, view),
            event: Some(CaseEvent(*event, view)),
            replayed: true,
            dry_run: false,
        }),
        CaseOutcome::Refused { refusal, .. } => Err(refusal_error(&refusal, l)),
    }
}

#[Object]
impl CaseMutation {
    /// Opens a case with the workflow's opening transition.
    async fn open_case(
        &self,
        ctx: &Context<'_>,
        input: OpenCaseInput,
    ) -> async_graphql::Result<StepResult> {
        let l = lang(ctx);
        let a = app(ctx);
        let def = definition(&a.catalog, &input.definition_id, l)?;
        let unit_id = parse_id(&input.unit_id, "unit").gql(l)?;
        let subject = input
            .subject_member_id
            .as_ref()
            .map(|s| parse_id(s, "member"))
            .transpose()
            .gql(l)?;
        let today = input.on.map_or_else(|| a.clock.today(), |d| d.0);
        not_in_future(today, a.clock.today(), l)?;
        let (id, roles) = case_roles(ctx, unit_id, subject, today, None).await?;
        let actor = Actor::new(id, roles);
        ensure_may_fire(&def.open, &actor, l)?;
        let view = view_of(&actor);
        let mut event = Event::new(def.open.name.clone(), actor);
        event.inputs = to_values(&def.open, input.inputs).gql(l)?;
        dates_not_too_far(&event.inputs, a.clock.today()).gql(l)?;
        let o = a
            .store
            .cases()
            .open_case(
                &a.catalog,
                NewCase {
                    definition_id: input.definition_id,
                    unit_id,
                    subject_member_id: subject,
                    title: input.title,
                },
                Command {
                    event,
                    idempotency_key: input.idempotency_key,
                    refusals: RefusalRecording::Discard,
                    today,
                    now: a.clock.now(),
                },
            )
            .await
            .gql(l)?;
        outcome(ctx, o, view, l)
    }

    /// Moves the open cases of a workflow to a newer version of it, or (by default) lists
    /// what would change. Each moved case gets a `MIGRATED` entry in its history.
    async fn migrate_cases(
        &self,
        ctx: &Context<'_>,
        input: MigrateCasesInput,
    ) -> async_graphql::Result<Vec<CaseMigrationResult>> {
        let l = lang(ctx);
        let a = app(ctx);
        let who = require_everywhere(ctx, Permission::Administer)?;
        let actor = Actor::new(who.principal.account.username.clone(), Vec::new());
        let mode = if input.dry_run.unwrap_or(true) {
            MigrationMode::DryRun
        } else {
            MigrationMode::Apply
        };
        let results = a
            .store
            .cases()
            .migrate(
                &a.catalog,
                MigrateCases {
                    definition_id: input.definition_id,
                    to_version: input.to_version,
                    mode,
                    actor,
                    today: a.clock.today(),
                    now: a.clock.now(),
                },
            )
            .await
            .gql(l)?;
        if results.iter().any(|m| m.applied) {
            a.committed();
        }
        Ok(results
            .into_iter()
            .map(|m| CaseMigrationResult {
                case_id: to_id(m.case_id),
                title: m.title,
                from_version: m.plan.from.version,
                to_version: m.plan.to.version,
                from_state: m.plan.state.clone(),
                to_state: m.plan.new_state.clone(),
                changes: Json(serde_json::to_value(&m.plan.changes).unwrap_or_default()),
                blockers: m.plan.blockers.iter().map(ToString::to_string).collect(),
                applied: m.applied,
            })
            .collect())
    }

    /// Fires a transition on a case, or with `dryRun` decides it without changing anything.
    async fn fire_transition(
        &self,
        ctx: &Context<'_>,
        input: FireInput,
    ) -> async_graphql::Result<StepResult> {
        let l = lang(ctx);
        let a = app(ctx);
        let case_id = parse_id(&input.case_id, "case").gql(l)?;
        caller(ctx)?;
        let today = input.on.map_or_else(|| a.clock.today(), |d| d.0);
        not_in_future(today, a.clock.today(), l)?;
        let dry_run = input.dry_run.unwrap_or(false);
        // The step's transaction locks the case first; who may fire what is decided on the
        // row the step writes (no read of the case before), and a refusal ends the
        // transaction with nothing written. A race lost runs it all again.
        let store = &a.store;
        let fired = memberflow_store::retrying(|| async {
            let locked = store.cases().lock_case(case_id, today).await?;
            match prepare_step(ctx, locked.case(), locked.path(), &input, today) {
                Err(refused) => {
                    locked.release().await?;
                    Ok(Err(refused))
                }
                Ok((command, view)) => store
                    .cases()
                    .fire_locked(&a.catalog, locked, input.expected_version, command, dry_run)
                    .await
                    .map(|o| Ok((o, view))),
            }
        })
        .await
        .gql(l)?;
        let (o, view) = fired?;
        if dry_run {
            // The real step in its transaction, rolled back: it cannot disagree with the step.
            return match o {
                CaseOutcome::Applied { case, decision, .. } => Ok(StepResult {
                    to_state: decision.to.clone(),
                    rule_set: decision.rule_set.clone(),
                    effects: Json(serde_json::to_value(&decision.effects).unwrap_or_default()),
                    case: Case(*case, view),
                    event: None,
                    replayed: false,
                    dry_run: true,
                }),
                CaseOutcome::Replayed { .. } | CaseOutcome::Refused { .. } => {
                    outcome(ctx, o, view, l).map(|r| StepResult { dry_run: true, ..r })
                }
            };
        }
        outcome(ctx, o, view, l)
    }
}
