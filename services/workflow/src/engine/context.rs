//! The registry context of a step: what the shell reads in the database about the member a case
//! is about and gives the engine with the event (`Event::context`), never from the client.
//! Guards read it like facts; it is not recorded on the case.
//!
//! [`SUBJECT_DISCIPLINE`]: the discipline cases of `disciplinary` definitions
//! about the subject member that were open on the day of the step, each with its state that day
//! and whether the discipline decided was in force then ([`OpenDiscipline::as_of`]): a step
//! recorded late with a past date is decided on the member's discipline as it stood on that
//! date. It serves C7 (no transfer while being inspected or disciplined) and C2 (no transfer,
//! appointment or title while a discipline is in force). [`REGISTRY_MEMBERS`]: the registered
//! members a step's inputs name (A6). [`VOTE_EXCLUSIONS`]: the members of the case's unit a
//! vote's denominator leaves out on the vote's day, living elsewhere or exempted (A8, A14, D5,
//! D33, S15).

use chrono::NaiveDate;

use super::case::{CaseSnapshot, StepRecord};
use super::definition::{Definition, OnExpiry};
use super::value::{Value, Values};

/// Key of the open discipline cases about the subject member.
pub const SUBJECT_DISCIPLINE: &str = "subject_discipline";

/// An open discipline case about the subject member, as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDiscipline {
    /// The case's id.
    pub case: String,
    /// The case's title.
    pub title: String,
    /// Its state.
    pub state: String,
    /// The state's Vietnamese label.
    pub state_vi: String,
    /// Whether the discipline decided is in force in that state (C2).
    pub in_force: bool,
    /// The form decided, once there is one.
    pub form: Option<String>,
    /// The day of the decision, once there is one.
    pub decision_date: Option<NaiveDate>,
}

impl OpenDiscipline {
    /// The entry for a case of `def` in `state`, with the case's facts.
    pub fn of(def: &Definition, case: String, title: String, state: &str, facts: &Values) -> Self {
        let st = def.state(state);
        OpenDiscipline {
            case,
            title,
            state: state.to_owned(),
            state_vi: st.map_or_else(|| state.to_owned(), |s| s.label_vi.clone()),
            in_force: st.is_some_and(|s| s.in_force),
            form: facts
                .get("discipline_form")
                .and_then(Value::as_text)
                .map(str::to_owned),
            decision_date: facts.get("decision_date").and_then(Value::as_date),
        }
    }

    /// The entry for a case of `def` as it stood on `on` (the day of the step that reads it),
    /// or `None` when it was not open that day (opened later, or closed by then). Its state is
    /// the one its steps dated up to `on` led to; an automatic step due by then (a lapse, C1)
    /// counts as taken even if the scheduler has not fired it yet; a decision dated after `on`
    /// was not in force on `on`. `history` is the case's steps, needed only when
    /// [`CaseSnapshot::needs_history_on`] says so for `on` (an empty slice otherwise).
    pub fn as_of(
        def: &Definition,
        case: String,
        title: String,
        snapshot: &CaseSnapshot,
        history: &[StepRecord],
        on: NaiveDate,
    ) -> Option<Self> {
        let mut state = snapshot.state_on(on, history)?;
        if state == snapshot.state
            && let Some(next) = due_escalation(def, snapshot, on)
        {
            state = next;
        }
        if def.state(state).is_none_or(|s| s.terminal) {
            return None;
        }
        let mut entry = Self::of(def, case, title, state, &snapshot.facts);
        if entry.decision_date.is_some_and(|d| d > on) {
            entry.in_force = false;
            entry.decision_date = None;
            entry.form = None;
        }
        Some(entry)
    }

    fn to_value(&self) -> Value {
        let mut m = Values::new();
        m.insert("case".into(), Value::Text(self.case.clone()));
        m.insert("title".into(), Value::Text(self.title.clone()));
        m.insert("state".into(), Value::Text(self.state.clone()));
        m.insert("state_vi".into(), Value::Text(self.state_vi.clone()));
        m.insert("in_force".into(), Value::Bool(self.in_force));
        if let Some(f) = &self.form {
            m.insert("form".into(), Value::Text(f.clone()));
        }
        if let Some(d) = self.decision_date {
            m.insert("decision_date".into(), Value::Date(d));
        }
        Value::Map(m)
    }

    fn from_value(v: &Value) -> Option<Self> {
        let Value::Map(m) = v else { return None };
        let text = |k: &str| m.get(k).and_then(Value::as_text).map(str::to_owned);
        Some(OpenDiscipline {
            case: text("case")?,
            title: text("title").unwrap_or_default(),
            state: text("state")?,
            state_vi: text("state_vi").unwrap_or_default(),
            in_force: matches!(m.get("in_force"), Some(Value::Bool(true))),
            form: text("form"),
            decision_date: m.get("decision_date").and_then(Value::as_date),
        })
    }
}

/// The state an escalation of the case's current state leads to, when its deadline fell due
/// on or before `on` (the step the scheduler fires, dated that day).
fn due_escalation<'d>(
    def: &'d Definition,
    snapshot: &CaseSnapshot,
    on: NaiveDate,
) -> Option<&'d str> {
    snapshot
        .deadlines
        .values()
        .find_map(|d| match &d.on_expiry {
            OnExpiry::Escalate { transition } if d.effective_due() <= on => {
                def.transition(transition).and_then(|t| t.to.as_deref())
            }
            _ => None,
        })
}

/// The context of a step whose subject has these open discipline cases (none: an empty list,
/// which says "read, and there are none").
pub fn subject_discipline(cases: &[OpenDiscipline]) -> Values {
    let mut v = Values::new();
    v.insert(
        SUBJECT_DISCIPLINE.into(),
        Value::List(cases.iter().map(OpenDiscipline::to_value).collect()),
    );
    v
}

/// The open discipline cases a context holds; `None` when the shell gave none, or gave
/// something malformed (a guard then refuses for want of it rather than passing).
pub fn read_subject_discipline(data: &Values) -> Option<Vec<OpenDiscipline>> {
    match data.get(SUBJECT_DISCIPLINE)? {
        Value::List(items) => items.iter().map(OpenDiscipline::from_value).collect(),
        _ => None,
    }
}

/// Key of the registered members a step's `member_ref` inputs name, as the registry has them on
/// the day of the step (A6: an introducer's status, official date and grassroots organization
/// come from the registry when the introducer is a registered member).
pub const REGISTRY_MEMBERS: &str = "registry_members";

/// Key of the grassroots organization the case's unit belongs to on the day of the step (the
/// unit's id), read with [`REGISTRY_MEMBERS`].
pub const UNIT_GRASSROOTS: &str = "unit_grassroots";

/// Key of that organization's name.
pub const UNIT_GRASSROOTS_NAME: &str = "unit_grassroots_name";

/// A registered member named by an input of the step, as the registry has them on its day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredMember {
    /// The member's id, as the input names it.
    pub id: String,
    /// Full name.
    pub full_name: String,
    /// Status that day (`OFFICIAL`, `PROBATIONARY`, ...), if the member had one.
    pub status: Option<String>,
    /// The day the member became official, if they did.
    pub official_date: Option<NaiveDate>,
    /// The grassroots organization they belonged to that day: id and name.
    pub grassroots: Option<(String, String)>,
}

impl RegisteredMember {
    /// Whether the member was an official member on `on`.
    pub fn official_on(&self, on: NaiveDate) -> bool {
        self.status.as_deref() == Some("OFFICIAL") && self.official_date.is_none_or(|d| d <= on)
    }

    fn to_value(&self) -> Value {
        let mut m = Values::new();
        m.insert("id".into(), Value::Text(self.id.clone()));
        m.insert("full_name".into(), Value::Text(self.full_name.clone()));
        if let Some(s) = &self.status {
            m.insert("status".into(), Value::Text(s.clone()));
        }
        if let Some(d) = self.official_date {
            m.insert("official_date".into(), Value::Date(d));
        }
        if let Some((id, name)) = &self.grassroots {
            m.insert("grassroots".into(), Value::Text(id.clone()));
            m.insert("grassroots_name".into(), Value::Text(name.clone()));
        }
        Value::Map(m)
    }

    fn from_value(v: &Value) -> Option<Self> {
        let Value::Map(m) = v else { return None };
        let text = |k: &str| m.get(k).and_then(Value::as_text).map(str::to_owned);
        Some(RegisteredMember {
            id: text("id")?,
            full_name: text("full_name").unwrap_or_default(),
            status: text("status"),
            official_date: m.get("official_date").and_then(Value::as_date),
            grassroots: text("grassroots")
                .map(|g| (g, text("grassroots_name").unwrap_or_default())),
        })
    }
}

/// The context of a step whose inputs name these registered members, in a case whose unit
/// belongs to `unit_grassroots` (id, name) that day.
pub fn registry_members(
    members: &[RegisteredMember],
    unit_grassroots: Option<(String, String)>,
) -> Values {
    let mut v = Values::new();
    v.insert(
        REGISTRY_MEMBERS.into(),
        Value::List(members.iter().map(RegisteredMember::to_value).collect()),
    );
    if let Some((id, name)) = unit_grassroots {
        v.insert(UNIT_GRASSROOTS.into(), Value::Text(id));
        v.insert(UNIT_GRASSROOTS_NAME.into(), Value::Text(name));
    }
    v
}

/// The registered member `reference` names in a context, if the shell found one.
pub fn registered_member(data: &Values, reference: &str) -> Option<RegisteredMember> {
    let Some(Value::List(items)) = data.get(REGISTRY_MEMBERS) else {
        return None;
    };
    let wanted = reference.trim();
    items
        .iter()
        .filter_map(RegisteredMember::from_value)
        .find(|m| m.id.eq_ignore_ascii_case(wanted))
}

/// The grassroots organization of the case's unit in a context (id, name).
pub fn unit_grassroots(data: &Values) -> Option<(String, String)> {
    let text = |k: &str| data.get(k).and_then(Value::as_text).map(str::to_owned);
    Some((
        text(UNIT_GRASSROOTS)?,
        text(UNIT_GRASSROOTS_NAME).unwrap_or_default(),
    ))
}

/// Whether a guard of `t` reads the context key `key`: the shell reads that part of the
/// registry for the step only then.
pub fn transition_reads(t: &super::definition::Transition, key: &str) -> bool {
    t.guard_reads(key)
}

/// Key of the members of the case's unit the registry leaves out of the denominator of the
/// vote a step records, as of the vote's day (A8, A14, D5, D33; 294-QĐ/TW 9.3.2): the official
/// members living their party life temporarily elsewhere that day (`away`, the registry's
/// `temporary_activity`), and those exempted from party activities and work (S15, `exempted`).
/// `{ on: date, away: [id, ...], exempted: [id, ...] }`. The vote guards leave out all of the
/// first and the second less those the step says were present (`exempted_present`).
pub const VOTE_EXCLUSIONS: &str = "vote_exclusions";

/// One kind of member the registry leaves out of a vote's denominator on the vote's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionKind {
    /// Living their party life temporarily elsewhere (A8, D33).
    Away,
    /// Exempted from party activities and work (S15): left out only when absent.
    Exempted,
}

impl ExclusionKind {
    /// Both kinds, in the order a denominator leaves them out (a member away and exempted is
    /// left out once, as away).
    pub const ALL: [ExclusionKind; 2] = [ExclusionKind::Away, ExclusionKind::Exempted];

    /// The key of the kind's list in the context.
    pub fn key(self) -> &'static str {
        match self {
            ExclusionKind::Away => "away",
            ExclusionKind::Exempted => "exempted",
        }
    }
}

/// The members of the case's unit the registry leaves out of a vote's denominator on its day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoteExclusions {
    /// The day they were read for (the vote's date).
    pub on: NaiveDate,
    /// Official members living their party life temporarily elsewhere that day, by id.
    pub away: Vec<String>,
    /// Official members exempted from party activities and work that day (S15), by id, less
    /// those already in `away`.
    pub exempted: Vec<String>,
}

impl VoteExclusions {
    /// The exclusions of a vote dated `on`: `away` and `exempted` as the registry has them
    /// (a member in both is kept once, as away).
    pub fn new(on: NaiveDate, mut away: Vec<String>, exempted: Vec<String>) -> Self {
        away.sort();
        away.dedup();
        let mut exempted: Vec<String> = exempted
            .into_iter()
            .filter(|m| away.binary_search(m).is_err())
            .collect();
        exempted.sort();
        exempted.dedup();
        VoteExclusions { on, away, exempted }
    }

    /// The members of one kind.
    pub fn of(&self, kind: ExclusionKind) -> &[String] {
        match kind {
            ExclusionKind::Away => &self.away,
            ExclusionKind::Exempted => &self.exempted,
        }
    }

    /// The context a vote step is given with these exclusions.
    pub fn to_context(&self) -> Values {
        let mut m = Values::new();
        m.insert("on".into(), Value::Date(self.on));
        for kind in ExclusionKind::ALL {
            m.insert(
                kind.key().into(),
                Value::List(self.of(kind).iter().cloned().map(Value::Text).collect()),
            );
        }
        let mut v = Values::new();
        v.insert(VOTE_EXCLUSIONS.into(), Value::Map(m));
        v
    }
}

/// The exclusions a context holds; `None` when the shell read none (a core used without a
/// registry) or gave something malformed.
pub fn read_vote_exclusions(data: &Values) -> Option<VoteExclusions> {
    let Value::Map(m) = data.get(VOTE_EXCLUSIONS)? else {
        return None;
    };
    let on = m.get("on").and_then(Value::as_date)?;
    let list = |kind: ExclusionKind| -> Option<Vec<String>> {
        let Some(Value::List(items)) = m.get(kind.key()) else {
            return None;
        };
        items
            .iter()
            .map(|v| v.as_text().map(str::to_owned))
            .collect()
    };
    Some(VoteExclusions {
        on,
        away: list(ExclusionKind::Away)?,
        exempted: list(ExclusionKind::Exempted)?,
    })
}

/// The day of the vote a step records: its first date input whose name ends in `vote_date`
/// (`branch_vote_date`, `recognition_vote_date`, `vote_date`), else the day of the step. The
/// shell reads the vote's exclusions ([`VOTE_EXCLUSIONS`]) as of this day.
pub fn vote_date(
    t: &super::definition::Transition,
    inputs: &Values,
    step_day: NaiveDate,
) -> NaiveDate {
    t.inputs
        .iter()
        .filter(|i| i.name.ends_with("vote_date"))
        .find_map(|i| inputs.get(&i.name).and_then(Value::as_date))
        .unwrap_or(step_day)
}
