//! Walking a case through GraphQL, step by step, checking its state: shared by the
//! discipline scenarios and the tests of what a discipline does to the rest of the registry.

use chrono::NaiveDate;
use memberflow_tests::{TestApp, error_code, refused_by};
use serde_json::{Value, json};

pub(crate) const OPEN: &str =
    "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id state } } }";
pub(crate) const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }";
pub(crate) const CASE: &str = "query($id: ID!) { case(id: $id) { state terminal facts \
     deadlines { key due } history { kind transition actor toState } } }";

pub(crate) fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// `inputs` with every `"today"` replaced by `day`.
pub(crate) fn on_day(inputs: &Value, day: NaiveDate) -> Value {
    let text = inputs
        .to_string()
        .replace("\"today\"", &format!("\"{day}\""));
    serde_json::from_str(&text).unwrap()
}

pub(crate) struct Walk<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) case: String,
    pub(crate) day: NaiveDate,
}

impl<'a> Walk<'a> {
    /// Opens a case of `definition` at `unit` on `day` as `token`, and checks it is `Detected`
    /// (or whatever the machine starts in: `first`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open(
        app: &'a TestApp,
        token: &str,
        definition: &str,
        unit: &str,
        subject: Option<&str>,
        inputs: Value,
        day: NaiveDate,
        first: &str,
    ) -> Walk<'a> {
        app.set_today(&day.to_string());
        let d = app
            .gql_as(
                token,
                OPEN,
                json!({ "i": { "definitionId": definition, "unitId": unit, "title": "Hồ sơ",
                    "subjectMemberId": subject, "inputs": on_day(&inputs, day) } }),
            )
            .await;
        assert_eq!(d["data"]["openCase"]["case"]["state"], first, "{d:#}");
        let w = Walk {
            app,
            case: d["data"]["openCase"]["case"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
            day,
        };
        assert_eq!(w.state().await, first);
        w
    }

    /// On `day`, `token` fires `transition` with `inputs` (`"today"` for the day).
    pub(crate) async fn fire_on(
        &mut self,
        day: NaiveDate,
        token: &str,
        transition: &str,
        inputs: Value,
    ) -> Value {
        self.day = day;
        self.app.set_today(&day.to_string());
        self.app
            .gql_as(
                token,
                FIRE,
                json!({ "i": { "caseId": self.case, "transition": transition,
                    "inputs": on_day(&inputs, day) } }),
            )
            .await
    }

    /// The next day, `token` fires `transition` with `inputs` (`"today"` for the day).
    pub(crate) async fn step(&mut self, token: &str, transition: &str, inputs: Value) -> Value {
        let next = self.day.succ_opt().unwrap();
        self.fire_on(next, token, transition, inputs).await
    }

    pub(crate) async fn ok(&mut self, token: &str, transition: &str, inputs: Value) -> String {
        let r = self.step(token, transition, inputs).await;
        assert!(
            r.get("errors").is_none(),
            "{transition} on {}: {r:#}",
            self.day
        );
        r["data"]["fireTransition"]["toState"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The next day, the step leads to `state`, and the case reads back in it.
    pub(crate) async fn expect(
        &mut self,
        token: &str,
        transition: &str,
        inputs: Value,
        state: &str,
    ) {
        assert_eq!(self.ok(token, transition, inputs).await, state);
        assert_eq!(self.state().await, state, "{transition} on {}", self.day);
    }

    /// The same day, the step is refused by `rule`, and the case stays where it was; returns
    /// the Vietnamese reasons of that rule.
    pub(crate) async fn refused(
        &mut self,
        token: &str,
        transition: &str,
        inputs: Value,
        rule: &str,
    ) -> String {
        let before = self.state().await;
        let r = self.fire_on(self.day, token, transition, inputs).await;
        let vi = refused_by(&r, rule);
        assert_eq!(self.state().await, before, "{transition} refused by {rule}");
        vi
    }

    /// The same day, `token` holds none of the roles `transition` needs: `FORBIDDEN`, naming
    /// the roles that may (`needed`), and nothing changes.
    pub(crate) async fn forbidden(
        &mut self,
        token: &str,
        transition: &str,
        inputs: Value,
        needed: &str,
    ) {
        let before = self.state().await;
        let r = self.fire_on(self.day, token, transition, inputs).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
        assert!(
            r["errors"][0]["extensions"]["messageEn"]
                .as_str()
                .unwrap()
                .contains(needed),
            "{needed} not named in {r:#}"
        );
        assert_eq!(self.state().await, before);
    }

    /// `token` decides (decision `number`) the day after the vote, and the decision is
    /// received the next day: the appeal window opens.
    pub(crate) async fn decide_and_notify(&mut self, token: &str, number: &str) {
        self.decided_and_notified(
            token,
            json!({ "decision_date": "today", "decision_number": number }),
        )
        .await;
    }

    /// The same for a branch deciding a member's reprimand or warning: it announces the vote's
    /// result the day after the vote, and its decision is dated that day (D34: without
    /// `announced_on` it would be dated the vote's day).
    pub(crate) async fn branch_decides_and_notifies(&mut self, token: &str, number: &str) {
        self.decided_and_notified(
            token,
            json!({ "decision_date": "today", "announced_on": "today", "decision_number": number }),
        )
        .await;
    }

    async fn decided_and_notified(&mut self, token: &str, decision: Value) {
        self.expect(token, "impose", decision, "Decided").await;
        self.expect(
            token,
            "notify",
            json!({ "decision_received_date": "today" }),
            "AppealWindow",
        )
        .await;
    }

    /// The case as `operator` reads it.
    pub(crate) async fn read(&self) -> Value {
        self.app.ok(CASE, json!({ "id": self.case })).await["case"].clone()
    }

    pub(crate) async fn state(&self) -> String {
        self.read().await["state"].as_str().unwrap().to_owned()
    }

    /// The due date of the open deadline `key`, if it runs.
    pub(crate) async fn deadline(&self, key: &str) -> Option<NaiveDate> {
        self.read().await["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == key)
            .map(|d| date(d["due"].as_str().unwrap()))
    }

    /// The last entry of the history: (transition, actor, state after).
    pub(crate) async fn last_step(&self) -> (String, String, String) {
        let c = self.read().await;
        let last = c["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["kind"], "STEP", "{c:#}");
        (
            last["transition"].as_str().unwrap().to_owned(),
            last["actor"].as_str().unwrap().to_owned(),
            last["toState"].as_str().unwrap().to_owned(),
        )
    }

    /// [`Walk::walk_to_vote`], then the branch's secret ballot for `form` (10 official
    /// members): the case waits in `LimitationCheck`.
    pub(crate) async fn walk_to_limitation_check(
        &mut self,
        secretary: &str,
        violation_end: &str,
        form: &str,
    ) {
        self.walk_to_vote(secretary, violation_end, form).await;
        self.expect(secretary, "vote", branch_vote(form), "LimitationCheck")
            .await;
    }

    /// Inspection, conclusion, self-criticism and hearing by the branch secretary, one day
    /// apart, up to `Vote`.
    pub(crate) async fn walk_to_vote(
        &mut self,
        secretary: &str,
        violation_end: &str,
        proposed: &str,
    ) {
        self.expect(
            secretary,
            "start_inspection",
            json!({ "inspecting_body": "branch", "inspecting_level": "branch",
                "inspection_decision_date": "today" }),
            "Inspection",
        )
        .await;
        self.expect(
            secretary,
            "conclude_inspection",
            json!({ "inspection_concluded_on": "today", "violation_end_date": violation_end,
                "violation_category": "ordinary" }),
            "SelfCriticism",
        )
        .await;
        self.expect(
            secretary,
            "record_self_criticism",
            json!({ "self_criticism_date": "today", "proposed_form": proposed }),
            "Hearing",
        )
        .await;
        self.expect(
            secretary,
            "hold_hearing",
            json!({ "hearing_date": "today" }),
            "Vote",
        )
        .await;
    }
}

/// The opening inputs of a member's discipline case in `branch`.
pub(crate) fn member_case(m: &str, name: &str, branch: &str) -> Value {
    json!({ "member_id": m, "full_name": name, "unit": branch, "subject_kind": "member",
        "membership": "official", "detection_source": "supervision", "detected_on": "today" })
}

/// A secret ballot of the branch (10 official members) giving `form`.
pub(crate) fn branch_vote(form: &str) -> Value {
    let mut v = json!({ "vote_date": "today", "voting_body": "branch", "voting_level": "branch",
        "secret_ballot": true, "discipline_form": form, "official_members": 10,
        "votes_expulsion": 0, "votes_warning": 0, "votes_reprimand": 0 });
    match form {
        "reprimand" => v["votes_reprimand"] = json!(6),
        "warning" => {
            v["votes_warning"] = json!(6);
            v["votes_reprimand"] = json!(3);
        }
        "expulsion" => {
            v["votes_expulsion"] = json!(7);
            v["votes_warning"] = json!(3);
        }
        other => panic!("no ballot for {other}"),
    }
    v
}
