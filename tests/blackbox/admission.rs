//! The admission pipeline through GraphQL, from the candidate list to official membership,
//! with its effects on the member registry (A10, A13, A14, A15) on both databases.
//!
//! Every admission rule of the catalogue (schemas/rules.toml) that the admission workflow applies has at least one test here
//! named after its id (`a8_...`, `e1_...`): each checks the refusal (its code, its
//! `extensions.rules` and the Vietnamese reason a branch secretary reads) and the happy path at
//! the boundary. `docs/rules-coverage.md` maps every rule id to its test.

use chrono::{Days, Months, NaiveDate};
use memberflow_tests::{TestApp, error_code, refused_by as refused, spawn_app};
use serde_json::{Value, json};

use crate::support::{Board, RealRoles, holder, member_away, member_back, province};

const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState case { version subjectMemberId } } }";

pub(crate) struct Walk<'a> {
    app: &'a TestApp,
    pub(crate) case: String,
    version: i64,
    pub(crate) day: NaiveDate,
    /// The accounts that act on the branch's cases (never `operator`).
    pub(crate) roles: RealRoles,
    /// Who takes the admission decision (`decide_admission`, `refuse_admission`): the
    /// competent committee of A10, or the province's standing committee for an applicant over
    /// 60 (E2).
    pub(crate) decider: String,
}

impl Walk<'_> {
    /// The account the rules say fires `transition` on an admission case
    /// ([`RealRoles::admission_actor`]), the admission decision taken by [`Walk::decider`].
    pub(crate) fn actor(&self, transition: &str) -> &str {
        match transition {
            "decide_admission" | "refuse_admission" => &self.decider,
            t => self.roles.admission_actor(t),
        }
    }

    /// Moves the clock `gap` days on and fires `transition` that day, as its [`Walk::actor`].
    pub(crate) async fn step(&mut self, gap: u64, transition: &str, inputs: Value) -> Value {
        self.step_as(None, gap, transition, inputs).await
    }

    /// The same, as the account of `token` (the transition's [`Walk::actor`] by default).
    pub(crate) async fn step_as(
        &mut self,
        token: Option<&str>,
        gap: u64,
        transition: &str,
        inputs: Value,
    ) -> Value {
        self.day = self.day + Days::new(gap);
        self.app.set_today(&self.day.to_string());
        let inputs = fill_today(inputs, self.day);
        let vars = json!({ "i": { "caseId": self.case, "transition": transition, "expectedVersion": self.version, "inputs": inputs } });
        let token = token.map_or_else(|| self.actor(transition).to_owned(), str::to_owned);
        let r = self.app.gql_as(&token, FIRE, vars).await;
        if r.get("errors").is_none() {
            self.version += 1;
        }
        r
    }

    pub(crate) async fn ok(&mut self, gap: u64, transition: &str, inputs: Value) -> Value {
        let r = self.step(gap, transition, inputs).await;
        assert!(
            r.get("errors").is_none(),
            "{transition} on {}: {r:#}",
            self.day
        );
        r["data"]["fireTransition"].clone()
    }

    /// The same day, `token` holds none of the roles `transition` needs: `FORBIDDEN`, and the
    /// case is left as it was (its version unchanged).
    pub(crate) async fn forbidden(&mut self, token: &str, transition: &str, inputs: Value) {
        let r = self.step_as(Some(token), 0, transition, inputs).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{transition}: {r:#}");
        let v = self
            .app
            .ok(
                "query($id: ID!) { case(id: $id) { version } }",
                json!({ "id": self.case }),
            )
            .await;
        assert_eq!(v["case"]["version"], self.version, "{transition}");
    }

    /// The number of days from the walk's day to `day`.
    fn until(&self, day: NaiveDate) -> u64 {
        u64::try_from((day - self.day).num_days()).unwrap()
    }

    /// Decides `transition` today without recording it (`dryRun`), as its [`Walk::actor`].
    async fn dry_run(&self, transition: &str, inputs: Value) -> Value {
        let inputs = fill_today(inputs, self.day);
        self.app
            .gql_as(
                self.actor(transition),
                "mutation($i: FireInput!) { fireTransition(input: $i) { toState dryRun } }",
                json!({ "i": { "caseId": self.case, "transition": transition, "inputs": inputs, "dryRun": true } }),
            )
            .await
    }

    /// The case's open deadline `key` as of `on`.
    async fn deadline(&self, key: &str, on: NaiveDate) -> Value {
        let d = self
            .app
            .ok(
                "query($id: ID!, $on: Date) { case(id: $id) { deadlines(on: $on) { key rule due extendedDue extended overdue workingDaysLeft } } }",
                json!({ "id": self.case, "on": on.to_string() }),
            )
            .await;
        d["case"]["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// Replaces the string "today" by the day of the step, and "today-N" / "today+N" by the day
/// N days before or after it.
fn fill_today(v: Value, day: NaiveDate) -> Value {
    match v {
        Value::String(s) if s == "today" => Value::String(day.to_string()),
        Value::String(s) if s.starts_with("today-") || s.starts_with("today+") => {
            let n: u64 = s[6..].parse().unwrap();
            let d = if s.as_bytes()[5] == b'-' {
                day - Days::new(n)
            } else {
                day + Days::new(n)
            };
            Value::String(d.to_string())
        }
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, fill_today(v, day)))
                .collect(),
        ),
        other => other,
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Asserts that `r` is refused because of the state the case is in (the order of the
/// procedure), and returns the Vietnamese reason.
fn wrong_state(r: &Value) -> String {
    assert_eq!(error_code(r), "TRANSITION_REFUSED", "{r:#}");
    let reason = &r["errors"][0]["extensions"]["reasons"][0];
    assert_eq!(reason["code"], "WRONG_STATE", "{r:#}");
    reason["vi"].as_str().unwrap().to_owned()
}

pub(crate) async fn open<'a>(app: &'a TestApp, branch: &str, start: &str, dob: &str) -> Walk<'a> {
    open_with(app, branch, start, dob, json!({})).await
}

/// Opens a case on `start` for an applicant born on `dob`, with `extra` opening inputs.
pub(crate) async fn open_with<'a>(
    app: &'a TestApp,
    branch: &str,
    start: &str,
    dob: &str,
    extra: Value,
) -> Walk<'a> {
    app.set_today(start);
    let roles = RealRoles::of(app, branch, start).await;
    let mut inputs = json!({ "person_id": "P-001", "full_name": "Nguyễn Văn An", "date_of_birth": dob,
        "unit": branch, "education_level": "upper_secondary", "helper_member": "M-100" });
    for (k, v) in extra.as_object().unwrap() {
        inputs[k] = v.clone();
    }
    // The branch secretary opens the case (A1).
    let d = app
        .gql_as(
            &roles.secretary,
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id version } } }",
            json!({ "i": { "definitionId": "admission", "unitId": branch, "title": "Nguyễn Văn An",
                "inputs": inputs } }),
        )
        .await;
    assert!(d.get("errors").is_none(), "{d:#}");
    Walk {
        app,
        case: d["data"]["openCase"]["case"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        version: 1,
        day: date(start),
        decider: roles.competent.clone(),
        roles,
    }
}

/// Walks from the candidate list to the start of the background verification (A2–A5).
async fn to_verification(w: &mut Walk<'_>) {
    let certificate = (w.day - Days::new(60)).to_string();
    w.ok(
        1,
        "record_awareness_certificate",
        json!({ "certificate_date": certificate, "certificate_number": "GCN-17" }),
    )
    .await;
    w.ok(
        1,
        "file_application",
        json!({ "application_date": "today" }),
    )
    .await;
    w.ok(1, "draft_history", json!({ "history_date": "today" }))
        .await;
    w.ok(
        1,
        "start_verification",
        json!({ "verification_started_on": "today" }),
    )
    .await;
}

/// Walks from the candidate list to a verified background (A2–A5).
pub(crate) async fn to_verified(w: &mut Walk<'_>) {
    to_verification(w).await;
    w.ok(
        20,
        "conclude_verification",
        json!({ "verification_conclusion": "meets_standard", "verification_report_date": "today" }),
    )
    .await;
}

/// Walks from the candidate list to the collected opinions, ready for the branch vote.
pub(crate) async fn to_decision(w: &mut Walk<'_>) {
    to_verified(w).await;
    w.ok(1, "record_introducers", json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": "2020-01-01",
        "introducer_2": "M-102", "introducer_2_official": true, "introducer_2_since": "2021-05-01" })).await;
    w.ok(
        1,
        "collect_opinions",
        json!({ "opinions_collected_on": "today" }),
    )
    .await;
}

/// From the branch vote to the competent committee, each step by its actor.
pub(crate) async fn to_competent(w: &mut Walk<'_>) {
    w.ok(
        7,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 }),
    )
    .await;
    w.ok(
        7,
        "grassroots_review",
        json!({ "review_date": "today", "grassroots_delegated": false }),
    )
    .await;
    w.ok(1, "submit_to_competent", json!({ "submitted_on": "today" }))
        .await;
}

#[tokio::test]
async fn a_person_is_taken_from_candidate_to_official_member_and_the_registry_follows() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    // A8: 6 of 10 official members is below two thirds; the refusal names the rule.
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10 }),
        )
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED");
    assert!(
        r["errors"][0]["extensions"]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("A8")),
        "{r:#}"
    );
    // The vote is the branch's, taken by its secretary: not another branch's secretary, not
    // the competent committee.
    let other_secretary = holder(&app, "secretary", &p.b2).await;
    let vote = json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 });
    w.forbidden(&other_secretary, "branch_vote", vote.clone())
        .await;
    let competent = w.roles.competent.clone();
    w.forbidden(&competent, "branch_vote", vote.clone()).await;
    w.ok(0, "branch_vote", vote).await;
    w.ok(
        7,
        "grassroots_review",
        json!({ "review_date": "today", "grassroots_delegated": false }),
    )
    .await;
    w.ok(1, "submit_to_competent", json!({ "submitted_on": "today" }))
        .await;
    // The competent committee decides (A10): neither the branch's secretary nor the grassroots
    // committee, nor another district's standing committee.
    let decide = json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" });
    let other_district = holder(&app, "standing_committee", &p.d2).await;
    for token in [
        w.roles.secretary.clone(),
        w.roles.executive.clone(),
        other_district.clone(),
    ] {
        w.forbidden(&token, "decide_admission", decide.clone())
            .await;
    }
    let decided = w.ok(14, "decide_admission", decide).await;
    let decision_day = w.day;
    // The decision creates the person as a probationary member of the branch (A10, A15).
    let member = decided["case"]["subjectMemberId"]
        .as_str()
        .expect("a member was created")
        .to_owned();
    let q = "query($id: ID!, $on: Date) { member(id: $id) { fullName partyAgeFrom ceremonyDate officialDate status(on: $on) unit(on: $on) { code } } }";
    let m = app
        .ok(q, json!({ "id": member, "on": decision_day.to_string() }))
        .await;
    assert_eq!(m["member"]["fullName"], "Nguyễn Văn An");
    assert_eq!(m["member"]["partyAgeFrom"], decision_day.to_string());
    assert_eq!(m["member"]["status"], "PROBATIONARY");
    assert_eq!(m["member"]["unit"]["code"], "HG-D1-X-1");

    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    let ceremony = w.day;
    w.ok(
        10,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
    // A13: the recognition vote cannot open before 12 months of probation.
    let early = w.step(30, "open_recognition_vote", json!({})).await;
    assert_eq!(error_code(&early), "TRANSITION_REFUSED", "{early:#}");
    w.ok(330, "open_recognition_vote", json!({})).await;
    // The branch meets late, and the committee decides late...
    w.forbidden(&other_secretary, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    w.ok(25, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    // Only the competent committee recognises (A14).
    let recognise = json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" });
    for token in [
        w.roles.secretary.clone(),
        other_secretary.clone(),
        other_district,
    ] {
        w.forbidden(&token, "recognise", recognise.clone()).await;
    }
    let done = w.ok(10, "recognise", recognise).await;
    assert_eq!(done["toState"], "Official");
    // ...yet the member is official from ceremony + 12 months (A14).
    let official = ceremony
        .checked_add_months(chrono::Months::new(12))
        .unwrap();
    let m = app
        .ok(q, json!({ "id": member, "on": official.to_string() }))
        .await;
    assert_eq!(m["member"]["ceremonyDate"], ceremony.to_string());
    assert_eq!(m["member"]["officialDate"], official.to_string());
    assert_eq!(m["member"]["status"], "OFFICIAL");
    let before = official.pred_opt().unwrap().to_string();
    let m = app.ok(q, json!({ "id": member, "on": before })).await;
    assert_eq!(m["member"]["status"], "PROBATIONARY");
    // The statistics counters followed the registry, step by step.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
        .args(["check", "--stats"])
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn e1_an_applicant_under_18_at_the_branch_vote_is_refused() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Born 2008-06-01: 17 years and some months at a vote in autumn 2025.
    let mut w = open(&app, &p.b1, "2025-09-01", "2008-06-01").await;
    to_decision(&mut w).await;
    let before = app.row_counts().await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 10, "official_members": 10 }),
        )
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED");
    assert!(
        r["errors"][0]["extensions"]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("E1")),
        "{r:#}"
    );
    assert!(
        r["errors"][0]["extensions"]["messageVi"]
            .as_str()
            .unwrap()
            .contains("18")
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_step_cannot_be_recorded_in_the_future() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    let r = app
        .gql_as(&w.roles.secretary, FIRE, json!({ "i": { "caseId": w.case, "transition": "record_awareness_certificate", "on": "2025-09-05", "inputs": { "certificate_date": "2025-06-10", "certificate_number": "x" } } }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION");
}

/// From the branch vote to the admission decision, on the happy path.
pub(crate) async fn vote_to_decision(w: &mut Walk<'_>) {
    to_competent(w).await;
    w.ok(
        14,
        "decide_admission",
        json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
    )
    .await;
}

/// From the branch vote to the ceremony, on the happy path.
pub(crate) async fn vote_to_ceremony(w: &mut Walk<'_>) {
    vote_to_decision(w).await;
    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    w.ok(
        10,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
}

#[tokio::test]
async fn a14_after_three_inconclusive_rounds_the_competent_committee_strikes_the_name_off() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1990-01-15").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    w.ok(360, "open_recognition_vote", json!({})).await;
    let round = json!({ "recognition_vote_date": "today", "votes_for": 5, "official_members": 10 });
    for _ in 0..3 {
        w.ok(7, "recognition_vote_inconclusive", round.clone())
            .await;
    }
    // A fourth round is not allowed: three rounds, then the competent committee decides.
    let r = w.step(7, "recognition_vote_inconclusive", round).await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED");
    assert!(
        r["errors"][0]["extensions"]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("A14")),
        "{r:#}"
    );
    w.ok(
        0,
        "escalate_recognition",
        json!({ "escalated_on": "today" }),
    )
    .await;
    // The case belongs to the competent committee now: not to the branch that escalated it,
    // nor to another branch's secretary, nor to the grassroots committee.
    let strike = json!({ "decision_date": "today", "decision_number": "9-QĐ", "strike_off_reason": "Không đủ tư cách" });
    let other_secretary = holder(&app, "secretary", &p.b2).await;
    for token in [
        w.roles.secretary.clone(),
        other_secretary,
        w.roles.executive.clone(),
    ] {
        w.forbidden(&token, "strike_off", strike.clone()).await;
    }
    let done = w.ok(10, "strike_off", strike).await;
    assert_eq!(done["toState"], "StruckOff");
    let member = done["case"]["subjectMemberId"].as_str().unwrap().to_owned();
    let q =
        "query($id: ID!, $on: Date) { member(id: $id) { status(on: $on) unit(on: $on) { code } } }";
    let m = app
        .ok(q, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    assert_eq!(m["member"]["status"], "STRUCK_OFF");
    assert!(
        m["member"]["unit"].is_null(),
        "striking off ends the membership of the branch"
    );
}

#[tokio::test]
async fn a_case_started_under_r2021_finishes_under_r2025b_and_each_step_keeps_its_rule_set() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2024-09-02", "1992-07-07").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    w.ok(365, "open_recognition_vote", json!({})).await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    let done = w
        .ok(
            10,
            "recognise",
            json!({ "decision_date": "today", "decision_number": "4-QĐ" }),
        )
        .await;
    assert_eq!(done["toState"], "Official");
    let d = app
        .ok(
            "query($id: ID!) { case(id: $id) { history { transition ruleSet effectiveDate } } }",
            json!({ "id": w.case }),
        )
        .await;
    let h = d["case"]["history"].as_array().unwrap();
    assert_eq!(h[0]["ruleSet"], "R2021", "{h:#?}");
    assert_eq!(h.last().unwrap()["ruleSet"], "R2025b", "{h:#?}");
    // Each step was decided under the rule set in force on its day.
    for e in h {
        let day = e["effectiveDate"].as_str().unwrap();
        let expected = if day < "2025-01-20" {
            "R2021"
        } else if day < "2025-05-30" {
            "R2025a"
        } else if day < "2025-06-10" {
            "R2025a2"
        } else if day < "2025-07-01" {
            "R2025a3"
        } else {
            "R2025b"
        };
        assert_eq!(e["ruleSet"], expected, "{e}");
    }
    // Each vote's result is computed under the threshold of its own step's rule set.
    let d = app.ok(VOTES, json!({ "id": w.case })).await;
    let v = d["case"]["votes"].as_array().unwrap();
    assert_eq!(v[0]["rule"], "A8");
    assert_eq!(v[0]["ruleSet"], "R2021", "{v:#?}");
    assert_eq!(v[0]["passed"], true);
    assert_eq!(v.last().unwrap()["rule"], "A14");
    assert_eq!(v.last().unwrap()["ruleSet"], "R2025b", "{v:#?}");
}

/// The file of `case` on `on`.
async fn dossier_of(app: &TestApp, case: &str, on: NaiveDate) -> Vec<Value> {
    let q = "query($id: ID!, $on: Date) { case(id: $id) { dossier(on: $on) { key rule label status date reference validUntil warnFrom dueBy note } } }";
    let d = app.ok(q, json!({ "id": case, "on": on.to_string() })).await;
    d["case"]["dossier"].as_array().unwrap().clone()
}

/// The document `key` of a file.
fn doc(docs: &[Value], key: &str) -> Value {
    docs.iter().find(|d| d["key"] == key).unwrap().clone()
}

const MEMBER: &str = "query($id: ID!, $on: Date) { member(id: $id) { fullName partyAgeFrom admissionDecisionDate ceremonyDate officialDate status(on: $on) } }";

// E1–E4 ----------------------------------------------------------------------------------------

#[tokio::test]
async fn e1_age_is_counted_in_whole_months_on_the_day_of_the_branch_vote() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // The vote is on 4/10/2025 (33 days after the start): born 4/10/2007, the applicant is 18
    // that very day and 17 years 11 months the day before.
    let mut w = open(&app, &p.b1, "2025-09-01", "2007-10-04").await;
    to_decision(&mut w).await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today-1", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    let vi = refused(&r, "E1");
    assert!(
        vi.contains("chưa đủ 18 tuổi tại ngày chi bộ xét kết nạp (E1)"),
        "{vi}"
    );
    assert!(
        vi.contains("mới 17 tuổi 11 tháng, còn thiếu 1 tháng"),
        "{vi}"
    );
    assert_eq!(w.day, date("2025-10-04"));
    let done = w
        .ok(
            0,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    assert_eq!(done["toState"], "BranchVoted");
}

/// Walks an applicant from the branch vote to official membership, recording the province's
/// written consent when `consent` is set (E2, E3). Returns the member's id and the decision day.
async fn over_60_to_official(w: &mut Walk<'_>, consent: bool) -> (String, NaiveDate) {
    to_competent(w).await;
    if consent {
        // Over 60: the province-level body decides (E2).
        w.decider = w.roles.province.clone();
        w.ok(
            5,
            "record_province_consent",
            json!({ "province_consent_date": "today", "province_consent_ref": "15-CV/TU" }),
        )
        .await;
    }
    let decided = w
        .ok(
            9,
            "decide_admission",
            json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
    let decision_day = w.day;
    let member = decided["case"]["subjectMemberId"]
        .as_str()
        .unwrap()
        .to_owned();
    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    let ceremony = w.day;
    w.ok(
        10,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
    let end = ceremony.checked_add_months(Months::new(12)).unwrap();
    w.ok(w.until(end), "open_recognition_vote", json!({})).await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    let done = w
        .ok(
            10,
            "recognise",
            json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
        )
        .await;
    assert_eq!(done["toState"], "Official");
    (member, decision_day)
}

#[tokio::test]
async fn e2_e3_over_60_needs_the_province_written_consent() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // 61 years 6 months at the branch vote on 4/10/2025.
    let mut w = open(&app, &p.b1, "2025-09-01", "1964-03-10").await;
    to_decision(&mut w).await;
    // E1 lets the branch consider a person over 60: E2 and E3 apply at the decision, taken
    // by the province-level body.
    to_competent(&mut w).await;
    w.decider = w.roles.province.clone();
    let r = w
        .step(
            5,
            "decide_admission",
            json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
    let vi = refused(&r, "E3");
    assert!(
        vi.contains("đã trên 60 tuổi tại ngày chi bộ xét (61 tuổi 6 tháng) (E2, E3)"),
        "{vi}"
    );
    assert!(
        vi.contains("ban thường vụ cấp ủy trực thuộc Trung ương đồng ý bằng văn bản trước khi cấp ủy có thẩm quyền ra quyết định"),
        "{vi}"
    );
    // The file shows the consent as still to come, then in (E3).
    assert_eq!(
        doc(&dossier_of(&app, &w.case, w.day).await, "province_consent")["status"],
        "PENDING"
    );
    // The branch secretary cannot record the province's consent.
    let secretary = app
        .account("secretary", &[("secretary", Some(&p.b1))], None)
        .await;
    let r = app
        .gql_as(
            &secretary,
            FIRE,
            json!({ "i": { "caseId": w.case, "transition": "record_province_consent", "inputs": { "province_consent_date": w.day.to_string(), "province_consent_ref": "15-CV/TU" } } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    w.ok(
        0,
        "record_province_consent",
        json!({ "province_consent_date": "today", "province_consent_ref": "15-CV/TU" }),
    )
    .await;
    let c = doc(&dossier_of(&app, &w.case, w.day).await, "province_consent");
    assert_eq!(c["status"], "PRESENT", "{c:#}");
    assert_eq!(c["reference"], "15-CV/TU");
    // The consent must come before the decision.
    let r = w
        .step(
            0,
            "decide_admission",
            json!({ "decision_date": "today-1", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
    let vi = refused(&r, "E3");
    assert!(vi.contains("phải có trước ngày quyết định kết nạp"), "{vi}");
    let decided = w
        .ok(
            1,
            "decide_admission",
            json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
    let decision_day = w.day;
    let member = decided["case"]["subjectMemberId"]
        .as_str()
        .unwrap()
        .to_owned();
    // ... and on to official membership.
    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    let ceremony = w.day;
    w.ok(
        10,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
    let end = ceremony.checked_add_months(Months::new(12)).unwrap();
    w.ok(w.until(end), "open_recognition_vote", json!({})).await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    let done = w
        .ok(
            10,
            "recognise",
            json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
        )
        .await;
    assert_eq!(done["toState"], "Official");
    let m = app
        .ok(MEMBER, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    assert_eq!(m["member"]["status"], "OFFICIAL");
    assert_eq!(m["member"]["partyAgeFrom"], decision_day.to_string());
    assert_eq!(m["member"]["officialDate"], end.to_string());

    // A full 60 years (counted in months) at the vote is still within E1: no consent needed.
    let mut w = open(&app, &p.b1, "2025-09-01", "1965-10-04").await;
    to_decision(&mut w).await;
    let (member, _) = over_60_to_official(&mut w, false).await;
    let m = app
        .ok(MEMBER, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    assert_eq!(m["member"]["status"], "OFFICIAL");
    // One month more and the same walk needs the consent.
    let mut w = open(&app, &p.b1, "2025-09-01", "1965-09-04").await;
    to_decision(&mut w).await;
    over_60_to_official(&mut w, true).await;
}

#[tokio::test]
async fn e4_a_lower_secondary_diploma_is_required_unless_the_exception_is_recorded() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1995-03-02",
        json!({ "education_level": "primary" }),
    )
    .await;
    to_decision(&mut w).await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    let vi = refused(&r, "E4");
    assert!(
        vi.contains("phải có bằng tốt nghiệp trung học cơ sở trở lên (E4); trình độ đã khai là tốt nghiệp tiểu học"),
        "{vi}"
    );
    // The same applicant in a hardship area (Ban Bí thư exception) may be considered.
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1995-03-02",
        json!({ "education_level": "primary", "education_exception": true }),
    )
    .await;
    to_decision(&mut w).await;
    w.ok(
        7,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
    )
    .await;
    // Lower secondary is enough.
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1995-03-02",
        json!({ "education_level": "lower_secondary" }),
    )
    .await;
    to_decision(&mut w).await;
    w.ok(
        7,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
    )
    .await;
}

#[tokio::test]
async fn e1_e4_every_failing_rule_is_reported_at_once() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "2008-06-01",
        json!({ "education_level": "primary" }),
    )
    .await;
    to_decision(&mut w).await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 5, "official_members": 10 }),
        )
        .await;
    refused(&r, "E1");
    refused(&r, "E4");
    refused(&r, "A8");
}

// A1–A7 ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a1_a_candidate_needs_a_helper_and_can_be_removed_from_the_list() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // The branch assigns an official member to help each candidate.
    let r = app
        .gql(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
            json!({ "i": { "definitionId": "admission", "unitId": p.b1, "title": "X", "inputs": { "person_id": "P-2", "full_name": "Trần Thị Bình", "date_of_birth": "1999-01-01",
                    "unit": p.b1, "education_level": "university" } } }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    let reason = &r["errors"][0]["extensions"]["reasons"][0];
    assert_eq!(reason["code"], "INPUT_MISSING", "{r:#}");
    assert_eq!(reason["field"], "helper_member", "{r:#}");
    let mut w = open(&app, &p.b1, "2025-09-01", "1999-01-01").await;
    let done = w
        .ok(
            30,
            "withdraw",
            json!({ "withdrawn_on": "today", "withdrawal_reason": "Chuyển công tác" }),
        )
        .await;
    assert_eq!(done["toState"], "Withdrawn");
    let r = w
        .step(
            1,
            "record_awareness_certificate",
            json!({ "certificate_date": "today" }),
        )
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED");
    let reason = &r["errors"][0]["extensions"]["reasons"][0];
    assert_eq!(reason["code"], "CASE_CLOSED", "{r:#}");
    assert!(
        reason["vi"]
            .as_str()
            .unwrap()
            .contains("Hồ sơ đã kết thúc ở trạng thái «Đưa ra khỏi danh sách cảm tình Đảng»"),
        "{r:#}"
    );
}

#[tokio::test]
async fn a2_certificate_older_than_60_months_at_the_branch_vote_is_refused() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    let vote = w.day + Days::new(7);
    let sixty = vote.checked_sub_months(Months::new(60)).unwrap();
    // A certificate issued 60 months and a day before the vote expired the day before it.
    w.ok(
        7,
        "renew_awareness_certificate",
        json!({ "certificate_date": sixty.pred_opt().unwrap().to_string() }),
    )
    .await;
    let r = w
        .step(
            0,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    let vi = refused(&r, "A2");
    assert!(
        vi.contains("chỉ có giá trị 60 tháng, đã hết hạn ngày 03/10/2025, trước ngày chi bộ xét kết nạp 04/10/2025 (A2): chi bộ phải giới thiệu người vào Đảng học lại"),
        "{vi}"
    );
    // Retaking the course gives a new certificate; one issued exactly 60 months before the
    // vote is still valid on the vote's day.
    w.ok(
        0,
        "renew_awareness_certificate",
        json!({ "certificate_date": sixty.to_string(), "certificate_number": "GCN-2020" }),
    )
    .await;
    let d = w.deadline("awareness_certificate", vote).await;
    assert_eq!(d["rule"], "A2", "{d:#}");
    assert_eq!(d["due"], vote.to_string(), "{d:#}");
    assert_eq!(d["overdue"], false, "{d:#}");
    let done = w
        .ok(
            0,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    assert_eq!(done["toState"], "BranchVoted");
}

#[tokio::test]
async fn a3_a4_the_application_comes_first_then_the_personal_history() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    // A2 before A3: no application before the awareness course.
    let r = w
        .step(
            1,
            "file_application",
            json!({ "application_date": "today" }),
        )
        .await;
    let vi = wrong_state(&r);
    assert!(
        vi.contains("Bước «Nhận đơn xin vào Đảng» chỉ thực hiện được khi hồ sơ ở trạng thái «Đã học lớp bồi dưỡng nhận thức về Đảng»"),
        "{vi}"
    );
    w.ok(
        0,
        "record_awareness_certificate",
        json!({ "certificate_date": "today-30" }),
    )
    .await;
    // A3: "có đơn tự nguyện xin vào Đảng … sau đó mới khai lý lịch".
    let r = w
        .step(1, "draft_history", json!({ "history_date": "today" }))
        .await;
    let vi = wrong_state(&r);
    assert!(
        vi.contains("Bước «Người vào Đảng khai lý lịch» chỉ thực hiện được khi hồ sơ ở trạng thái «Đã có đơn xin vào Đảng»; hồ sơ đang ở «Đã học lớp bồi dưỡng nhận thức về Đảng»"),
        "{vi}"
    );
    w.ok(
        0,
        "file_application",
        json!({ "application_date": "today" }),
    )
    .await;
    let done = w
        .ok(2, "draft_history", json!({ "history_date": "today" }))
        .await;
    assert_eq!(done["toState"], "HistoryDrafted");
    // A4 then A5: the verification starts on the drafted history.
    let done = w
        .ok(
            1,
            "start_verification",
            json!({ "verification_started_on": "today" }),
        )
        .await;
    assert_eq!(done["toState"], "VerificationInProgress");
}

#[tokio::test]
async fn a5_verification_must_conclude_that_the_applicant_meets_the_standard() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_verification(&mut w).await;
    let r = w
        .step(
            20,
            "conclude_verification",
            json!({ "verification_conclusion": "does_not_meet", "verification_report_date": "today" }),
        )
        .await;
    let vi = refused(&r, "A5");
    assert!(
        vi.contains("chưa xác định người vào Đảng đủ tiêu chuẩn chính trị (A5, E5)"),
        "{vi}"
    );
    let done = w
        .ok(
            0,
            "reject_after_verification",
            json!({ "verification_report_date": "today", "rejection_reason": "Không đủ tiêu chuẩn chính trị" }),
        )
        .await;
    assert_eq!(done["toState"], "Rejected");
    // The happy path: `to_verified` concludes `meets_standard`.
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_verified(&mut w).await;
}

fn introducers(since_1: &str, since_2: &str) -> Value {
    json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": since_1,
        "introducer_2": "M-102", "introducer_2_official": true, "introducer_2_since": since_2 })
}

#[tokio::test]
async fn a6_introducer_must_have_worked_12_months_with_the_applicant() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_verified(&mut w).await;
    let day = w.day + Days::new(1);
    let eleven = day.checked_sub_months(Months::new(11)).unwrap();
    let twelve = day.checked_sub_months(Months::new(12)).unwrap();
    let r = w
        .step(
            1,
            "record_introducers",
            introducers("2020-01-01", &eleven.to_string()),
        )
        .await;
    let vi = refused(&r, "A6");
    assert!(
        vi.contains(&format!(
            "Người giới thiệu M-102 mới cùng công tác, sinh hoạt với người vào Đảng 11 tháng (từ {}), chưa đủ 12 tháng (A6)",
            eleven.format("%d/%m/%Y")
        )),
        "{vi}"
    );
    // Exactly 12 months is enough, and no minimum length of membership is asked.
    let done = w
        .ok(
            0,
            "record_introducers",
            introducers("2020-01-01", &twelve.to_string()),
        )
        .await;
    assert_eq!(done["toState"], "IntroducersRecorded");
}

#[tokio::test]
async fn a6_two_distinct_official_members_or_an_organisation_and_one_member_introduce() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_verified(&mut w).await;
    let mut same = introducers("2020-01-01", "2020-01-01");
    same["introducer_2"] = json!("M-101");
    let r = w.step(1, "record_introducers", same).await;
    let vi = refused(&r, "A6");
    assert!(
        vi.contains("Cùng một đảng viên (M-101) không thể là cả hai người giới thiệu (A6)"),
        "{vi}"
    );
    assert!(
        vi.contains("Cần 2 người giới thiệu (đảng viên chính thức; Đoàn Thanh niên hoặc Công đoàn cơ sở có thể thay 1 người) (A6); hiện mới có 1"),
        "{vi}"
    );
    let mut probationary = introducers("2020-01-01", "2020-01-01");
    probationary["introducer_2_official"] = json!(false);
    let r = w.step(0, "record_introducers", probationary).await;
    let vi = refused(&r, "A6");
    assert!(
        vi.contains("Người giới thiệu M-102 phải là đảng viên chính thức (A6)"),
        "{vi}"
    );
    // The trade union stands for one of the two.
    let done = w
        .ok(
            0,
            "record_introducers",
            json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": "2020-01-01",
                "organisation_introducer": "trade_union" }),
        )
        .await;
    assert_eq!(done["toState"], "IntroducersRecorded");
}

#[tokio::test]
async fn a6_an_applicant_of_youth_age_is_introduced_by_the_youth_union() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // 25 years old, where a Youth Union organisation exists.
    let mut w = open(&app, &p.b1, "2025-09-01", "2000-05-01").await;
    to_verified(&mut w).await;
    let mut two_members = introducers("2020-01-01", "2021-01-01");
    two_members["youth_union_present"] = json!(true);
    let r = w.step(1, "record_introducers", two_members).await;
    let vi = refused(&r, "A6");
    assert!(
        vi.contains("Người vào Đảng trong độ tuổi thanh niên (dưới 30 tuổi) ở nơi có tổ chức Đoàn phải được Ban Chấp hành Đoàn cơ sở và một đảng viên chính thức giới thiệu (A6)"),
        "{vi}"
    );
    let done = w
        .ok(
            0,
            "record_introducers",
            json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": "2020-01-01",
                "organisation_introducer": "youth_union", "youth_union_present": true }),
        )
        .await;
    assert_eq!(done["toState"], "IntroducersRecorded");
}

#[tokio::test]
async fn a7_the_branch_votes_only_after_the_opinions_are_collected() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_verified(&mut w).await;
    w.ok(
        1,
        "record_introducers",
        introducers("2020-01-01", "2021-05-01"),
    )
    .await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    let vi = wrong_state(&r);
    assert!(
        vi.contains("chỉ thực hiện được khi hồ sơ ở trạng thái «Đã lấy ý kiến đoàn thể và chi ủy nơi cư trú»"),
        "{vi}"
    );
    w.ok(
        0,
        "collect_opinions",
        json!({ "opinions_collected_on": "today", "opinion_sources": ["Công đoàn", "Chi bộ nơi cư trú"] }),
    )
    .await;
    let done = w
        .ok(
            0,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    assert_eq!(done["toState"], "BranchVoted");
}

// A8–A10 ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a8_branch_vote_needs_two_thirds_of_official_members() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    let vote = |votes: i64, excluded: i64| {
        json!({ "branch_vote_date": "today", "votes_for": votes, "official_members": 10,
            "excluded_members": excluded, "resolution_number": "01-NQ/CB" })
    };
    // The denominator is every official member, not those present.
    let r = w.step(7, "branch_vote", vote(6, 0)).await;
    let vi = refused(&r, "A8");
    assert!(
        vi.contains("Nghị quyết đề nghị kết nạp của chi bộ chỉ có giá trị khi ít nhất 2/3 tán thành (A8): có 6/10 tán thành, cần ít nhất 7 phiếu"),
        "{vi}"
    );
    // Only members living their party life elsewhere and exempted members who are absent
    // (both from the registry on the vote's date: two away here, none exempted) are left out.
    let x = member_away(&app, &p.b1, "Ngô Văn Đi Xa", "2025-01-01").await;
    member_away(&app, &p.b1, "Ngô Thị Đi Xa", "2025-01-01").await;
    let r = w.step(0, "branch_vote", vote(5, 2)).await;
    let vi = refused(&r, "A8");
    assert!(
        vi.contains("có 5/8 (mẫu số: 10 đảng viên chính thức, trừ 2 người sinh hoạt tạm thời nơi khác và 0 người được miễn sinh hoạt vắng mặt) tán thành, cần ít nhất 6 phiếu"),
        "{vi}"
    );
    let r = w.step(0, "branch_vote", vote(9, 2)).await;
    let vi = refused(&r, "A8");
    assert!(
        vi.contains("Số phiếu tán thành (9) nhiều hơn số thành viên được tính (8) (A8)"),
        "{vi}"
    );
    // One is back on the vote's day: 6 of 9 is exactly two thirds.
    member_back(&app, &p.b1, &x, &w.day.to_string()).await;
    let done = w.ok(0, "branch_vote", vote(6, 1)).await;
    assert_eq!(done["toState"], "BranchVoted");
}

#[tokio::test]
async fn a8_a_branch_that_does_not_propose_admission_ends_the_case() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    let done = w
        .ok(
            7,
            "branch_vote_rejected",
            json!({ "branch_vote_date": "today", "votes_for": 4, "official_members": 10 }),
        )
        .await;
    assert_eq!(done["toState"], "Rejected");
}

#[tokio::test]
async fn a9_a_delegated_grassroots_committee_needs_two_thirds_of_its_members() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    w.ok(
        7,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 }),
    )
    .await;
    let r = w
        .step(
            7,
            "grassroots_review",
            json!({ "review_date": "today", "grassroots_delegated": true }),
        )
        .await;
    let vi = refused(&r, "A9");
    assert!(
        vi.contains(
            "Đảng ủy cơ sở được ủy quyền kết nạp phải ghi số cấp ủy viên và số phiếu tán thành (A9)"
        ),
        "{vi}"
    );
    let review = |votes: i64| json!({ "review_date": "today", "grassroots_delegated": true, "committee_votes_for": votes, "committee_members": 7 });
    let r = w.step(0, "grassroots_review", review(4)).await;
    let vi = refused(&r, "A9");
    assert!(
        vi.contains("Nghị quyết kết nạp của đảng ủy cơ sở được ủy quyền chỉ có giá trị khi ít nhất 2/3 tán thành (A9): có 4/7 tán thành, cần ít nhất 5 phiếu"),
        "{vi}"
    );
    let done = w.ok(0, "grassroots_review", review(5)).await;
    assert_eq!(done["toState"], "GrassrootsReviewed");
}

#[tokio::test]
async fn a10_decision_overdue_after_60_working_days_is_flagged() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    w.ok(
        7,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 }),
    )
    .await;
    let vote = w.day;
    // The deadline runs from the branch resolution: 60 working days from the vote's day.
    let d = w.deadline("admission_decision", vote).await;
    assert_eq!(d["rule"], "A10", "{d:#}");
    assert_eq!(d["workingDaysLeft"], 60, "{d:#}");
    assert_eq!(d["overdue"], false, "{d:#}");
    let due = date(d["due"].as_str().unwrap());
    w.ok(
        7,
        "grassroots_review",
        json!({ "review_date": "today", "grassroots_delegated": false }),
    )
    .await;
    w.ok(1, "submit_to_competent", json!({ "submitted_on": "today" }))
        .await;
    // Through the review and the submission, the same deadline runs on.
    let d = w.deadline("admission_decision", due).await;
    assert_eq!(d["due"], due.to_string(), "{d:#}");
    assert_eq!(d["workingDaysLeft"], 0, "{d:#}");
    assert_eq!(d["overdue"], false, "{d:#}");
    let late = due.succ_opt().unwrap();
    let d = w.deadline("admission_decision", late).await;
    assert_eq!(d["overdue"], true, "{d:#}");
    // The overdue filter finds the case the day after the due date, not on it.
    let q = "query { cases(filter: { overdue: true, definitionId: \"admission\" }) { totalCount edges { node { id state } } } }";
    app.set_today(&due.to_string());
    assert_eq!(app.ok(q, json!({})).await["cases"]["totalCount"], 0);
    app.set_today(&late.to_string());
    let d = app.ok(q, json!({})).await;
    assert_eq!(d["cases"]["totalCount"], 1);
    assert_eq!(d["cases"]["edges"][0]["node"]["id"], w.case.as_str());
    // Lateness is flagged (and calls for self-criticism before the higher committee); it does
    // not stop the decision.
    let done = w
        .ok(
            w.until(late),
            "decide_admission",
            json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
    assert_eq!(done["toState"], "Admitted");
    assert!(
        w.deadline("admission_decision", late).await.is_null(),
        "the decision closes the deadline"
    );
}

#[tokio::test]
async fn a10_extension_adds_30_working_days() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    w.ok(
        7,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 }),
    )
    .await;
    let vote = w.day;
    w.ok(
        7,
        "grassroots_review",
        json!({ "review_date": "today", "grassroots_delegated": false }),
    )
    .await;
    w.ok(1, "submit_to_competent", json!({ "submitted_on": "today" }))
        .await;
    let before = w.deadline("admission_decision", vote).await;
    assert_eq!(before["extended"], false, "{before:#}");
    w.ok(
        20,
        "extend_admission_deadline",
        json!({ "extension_reason": "Chờ kết quả thẩm tra bổ sung" }),
    )
    .await;
    let d = w.deadline("admission_decision", vote).await;
    assert_eq!(d["extended"], true, "{d:#}");
    assert_eq!(d["workingDaysLeft"], 90, "{d:#}");
    assert_eq!(d["extendedDue"], d["due"], "{d:#}");
    assert_ne!(d["due"], before["due"], "{d:#}");
    // Once only.
    let r = w
        .step(
            1,
            "extend_admission_deadline",
            json!({ "extension_reason": "Lần nữa" }),
        )
        .await;
    let vi = refused(&r, "A10");
    assert!(vi.contains("Thời hạn này đã được gia hạn một lần"), "{vi}");
    assert_eq!(
        r["errors"][0]["extensions"]["reasons"][0]["code"],
        "DEADLINE_NOT_EXTENDABLE"
    );
}

// A11–A15 --------------------------------------------------------------------------------------

#[tokio::test]
async fn a11_ceremony_after_30_working_days_needs_superior_consent() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_decision(&mut w).await;
    let decision = w.day;
    let d = w.deadline("ceremony", decision).await;
    assert_eq!(d["rule"], "A11", "{d:#}");
    assert_eq!(d["workingDaysLeft"], 30, "{d:#}");
    let due = date(d["due"].as_str().unwrap());
    let late = due.succ_opt().unwrap();
    let r = w
        .step(
            w.until(late),
            "hold_ceremony",
            json!({ "ceremony_date": "today" }),
        )
        .await;
    let vi = refused(&r, "A11");
    assert!(
        vi.contains(&format!(
            "Lễ kết nạp ngày {} quá thời hạn 30 ngày làm việc kể từ ngày nhận quyết định ({}, hạn cuối {}) (A11): chi bộ phải báo cáo và được cấp ủy cấp trên trực tiếp đồng ý",
            late.format("%d/%m/%Y"),
            decision.format("%d/%m/%Y"),
            due.format("%d/%m/%Y")
        )),
        "{vi}"
    );
    // The 30 working days run from the day the branch received the decision.
    let r = w
        .dry_run(
            "hold_ceremony",
            json!({ "ceremony_date": "today", "decision_received_date": "today-7" }),
        )
        .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "CeremonyHeld",
        "{r:#}"
    );
    assert_eq!(r["data"]["fireTransition"]["dryRun"], true);
    // A late ceremony with the direct superior's consent.
    let done = w
        .ok(
            0,
            "hold_ceremony",
            json!({ "ceremony_date": "today", "superior_consent_date": "today-2" }),
        )
        .await;
    assert_eq!(done["toState"], "CeremonyHeld");
}

#[tokio::test]
async fn a12_member_history_file_is_due_30_working_days_after_the_ceremony() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_decision(&mut w).await;
    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    let ceremony = w.day;
    let d = w.deadline("member_history", ceremony).await;
    assert_eq!(d["rule"], "A12", "{d:#}");
    assert_eq!(d["workingDaysLeft"], 30, "{d:#}");
    let due = date(d["due"].as_str().unwrap());
    assert_eq!(
        w.deadline("member_history", due.succ_opt().unwrap()).await["overdue"],
        true
    );
    let done = w
        .ok(
            10,
            "file_member_history",
            json!({ "member_history_filed_on": "today" }),
        )
        .await;
    assert_eq!(done["toState"], "Probation");
    assert!(w.deadline("member_history", w.day).await.is_null());
}

#[tokio::test]
async fn a13_recognition_is_considered_only_after_12_months_of_probation() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    let ceremony = w.day - Days::new(10);
    let end = ceremony.checked_add_months(Months::new(12)).unwrap();
    // Probation: 12 months from the ceremony, not from the decision.
    let d = w.deadline("probation", w.day).await;
    assert_eq!(d["rule"], "A13", "{d:#}");
    assert_eq!(d["due"], end.to_string(), "{d:#}");
    let r = w
        .step(
            w.until(end.pred_opt().unwrap()),
            "open_recognition_vote",
            json!({}),
        )
        .await;
    let vi = refused(&r, "A13");
    assert!(
        vi.contains(&format!(
            "Đảng viên chưa hết thời kỳ dự bị 12 tháng (A13): thời kỳ dự bị kết thúc ngày {}",
            end.format("%d/%m/%Y")
        )),
        "{vi}"
    );
    let done = w.ok(1, "open_recognition_vote", json!({})).await;
    assert_eq!(done["toState"], "RecognitionVote");
    // A vote dated before the end of probation is refused too.
    let r = w
        .step(
            3,
            "recognition_vote",
            json!({ "recognition_vote_date": end.pred_opt().unwrap().to_string(), "proposal": "recognise", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    refused(&r, "A13");
}

#[tokio::test]
async fn a14_recognition_needs_two_thirds_within_30_working_days_of_the_end_of_probation() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    let end = (w.day - Days::new(10))
        .checked_add_months(Months::new(12))
        .unwrap();
    w.ok(w.until(end), "open_recognition_vote", json!({})).await;
    // The branch considers recognition within 30 working days of the end of probation.
    let d = w.deadline("recognition_vote", end).await;
    assert_eq!(d["rule"], "A14", "{d:#}");
    assert_eq!(d["workingDaysLeft"], 30, "{d:#}");
    let vote = |votes: i64, excluded: i64| {
        json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": votes,
            "official_members": 10, "excluded_members": excluded })
    };
    let r = w.step(7, "recognition_vote", vote(6, 0)).await;
    let vi = refused(&r, "A14");
    assert!(
        vi.contains("Nghị quyết của chi bộ đề nghị công nhận đảng viên chính thức (hoặc xóa tên) chỉ có giá trị khi ít nhất 2/3 tán thành (A14): có 6/10 tán thành, cần ít nhất 7 phiếu"),
        "{vi}"
    );
    // One member lives their party life elsewhere on the vote's date: 6 of 9.
    member_away(&app, &p.b1, "Ngô Văn Đi Xa", &w.day.to_string()).await;
    let done = w.ok(0, "recognition_vote", vote(6, 1)).await;
    assert_eq!(done["toState"], "RecognitionPending");
    // The competent committee decides within 30 working days (A14, A10), +30 once.
    let d = w.deadline("recognition_decision", w.day).await;
    assert_eq!(d["rule"], "A14", "{d:#}");
    assert_eq!(d["workingDaysLeft"], 30, "{d:#}");
    w.ok(
        5,
        "extend_recognition_deadline",
        json!({ "extension_reason": "Bổ sung hồ sơ" }),
    )
    .await;
    let d = w
        .deadline("recognition_decision", w.day - Days::new(5))
        .await;
    assert_eq!(d["extended"], true, "{d:#}");
    assert_eq!(d["workingDaysLeft"], 60, "{d:#}");
    let done = w
        .ok(
            20,
            "recognise",
            json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
        )
        .await;
    assert_eq!(done["toState"], "Official");
    // Official from the end of probation, not from the decision (A14).
    let member = done["case"]["subjectMemberId"].as_str().unwrap();
    let m = app
        .ok(MEMBER, json!({ "id": member, "on": end.to_string() }))
        .await;
    assert_eq!(m["member"]["officialDate"], end.to_string());
    assert_eq!(m["member"]["status"], "OFFICIAL");
}

#[tokio::test]
async fn a14_a_branch_may_propose_striking_the_name_off() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    w.ok(360, "open_recognition_vote", json!({})).await;
    w.ok(
        7,
        "recognition_vote",
        json!({ "recognition_vote_date": "today", "proposal": "strike_off", "votes_for": 8, "official_members": 10 }),
    )
    .await;
    let done = w
        .ok(10, "strike_off", json!({ "decision_date": "today", "decision_number": "9-QĐ", "strike_off_reason": "Vi phạm tư cách" }))
        .await;
    assert_eq!(done["toState"], "StruckOff");
    let member = done["case"]["subjectMemberId"].as_str().unwrap();
    let m = app
        .ok(MEMBER, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    assert_eq!(m["member"]["status"], "STRUCK_OFF");
    assert!(m["member"]["officialDate"].is_null());
    // The counters and the subtree aggregates followed the admission and the strike-off.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
        .args(["check", "--stats"])
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(" 0 difference(s)"), "{text}");
}

#[tokio::test]
async fn a15_party_age_counts_from_the_decision() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    to_competent(&mut w).await;
    // The decision is dated two days before it is recorded: the date written in it counts.
    let decided = w
        .ok(
            14,
            "decide_admission",
            json!({ "decision_date": "today-2", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
    let decision = w.day - Days::new(2);
    let member = decided["case"]["subjectMemberId"]
        .as_str()
        .unwrap()
        .to_owned();
    w.ok(21, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    let ceremony = w.day;
    w.ok(
        5,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
    let end = ceremony.checked_add_months(Months::new(12)).unwrap();
    w.ok(w.until(end), "open_recognition_vote", json!({})).await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    w.ok(
        10,
        "recognise",
        json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
    )
    .await;
    let m = app
        .ok(MEMBER, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    // Party age from the decision; probation from the ceremony; official from its end.
    assert_eq!(m["member"]["partyAgeFrom"], decision.to_string());
    assert_eq!(m["member"]["admissionDecisionDate"], decision.to_string());
    assert_eq!(m["member"]["ceremonyDate"], ceremony.to_string());
    assert_eq!(m["member"]["officialDate"], end.to_string());
    assert_ne!(m["member"]["partyAgeFrom"], m["member"]["ceremonyDate"]);
}

// A16, A17 -------------------------------------------------------------------------------------

#[tokio::test]
async fn a16_readmission_needs_36_months() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // The vote is on 4/10/2025; the person left the Party on 5/10/2022: 35 months.
    let readmit = |left: &str| json!({ "readmission": true, "left_party_date": left, "left_reason": "struck_off_other" });
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1985-03-02",
        readmit("2022-10-05"),
    )
    .await;
    to_decision(&mut w).await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    let vi = refused(&r, "A16");
    assert!(
        vi.contains("Người xin kết nạp lại phải ra khỏi Đảng ít nhất 36 tháng (A16): ra khỏi Đảng ngày 05/10/2022, đến ngày xét 04/10/2025 mới được 35 tháng"),
        "{vi}"
    );
    // Left on 4/10/2022: 36 months on the day of the vote.
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1985-03-02",
        readmit("2022-10-04"),
    )
    .await;
    to_decision(&mut w).await;
    let done = w
        .ok(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    assert_eq!(done["toState"], "BranchVoted");
}

#[tokio::test]
async fn a16_a_conviction_must_have_been_expunged_60_months_before() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1985-03-02",
        json!({ "readmission": true, "left_party_date": "2018-01-01", "left_reason": "expelled_other",
            "conviction_expunged_date": "2021-01-01" }),
    )
    .await;
    to_decision(&mut w).await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 9, "official_members": 10 }),
        )
        .await;
    let vi = refused(&r, "A16");
    assert!(
        vi.contains("Người từng bị kết án phải được xóa án tích ít nhất 60 tháng (A16): xóa án tích ngày 01/01/2021, đến ngày xét mới được 57 tháng"),
        "{vi}"
    );
}

#[tokio::test]
async fn a17_a_person_who_left_for_a_barred_reason_is_never_readmitted() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open_with(
        &app,
        &p.b1,
        "2025-09-01",
        "1985-03-02",
        json!({ "readmission": true, "left_party_date": "2010-01-01", "left_reason": "corruption_conviction" }),
    )
    .await;
    to_decision(&mut w).await;
    let r = w
        .step(
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 10, "official_members": 10 }),
        )
        .await;
    let vi = refused(&r, "A17");
    assert!(
        vi.contains(
            "Không xem xét kết nạp lại người đã ra khỏi Đảng vì bị kết án về tội tham nhũng (A17)"
        ),
        "{vi}"
    );
    assert!(
        !r["errors"][0]["extensions"]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("A16")),
        "15 years is long enough: {r:#}"
    );
}

// Votes, dossier, card and badges ---------------------------------------------------------------

const VOTES: &str = "query($id: ID!) { case(id: $id) { votes { seq transition rule body round heldOn ruleSet recorded proposal
    eligible excluded denominator votesFor notInFavour thresholdParam threshold required passed note } } }";

#[tokio::test]
async fn a8_a9_a14_votes_are_records_whose_result_the_engine_computes() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    // A failed vote, kept in the history on request.
    w.day = w.day + Days::new(7);
    app.set_today(&w.day.to_string());
    let r = app
        .gql(
            FIRE,
            json!({ "i": { "caseId": w.case, "transition": "branch_vote", "recordRefusal": true,
                "inputs": { "branch_vote_date": w.day.to_string(), "votes_for": 6, "official_members": 10 } } }),
        )
        .await;
    refused(&r, "A8");
    // A refusal kept in the history does not move the case: its version stays.
    let vote = w.day;
    member_away(&app, &p.b1, "Ngô Văn Đi Xa", "2025-01-01").await;
    w.ok(
        0,
        "branch_vote",
        json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10, "excluded_members": 1 }),
    )
    .await;
    w.ok(
        7,
        "grassroots_review",
        json!({ "review_date": "today", "grassroots_delegated": true, "committee_votes_for": 5, "committee_members": 7 }),
    )
    .await;
    w.ok(1, "submit_to_competent", json!({ "submitted_on": "today" }))
        .await;
    w.ok(
        14,
        "decide_admission",
        json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
    )
    .await;
    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    w.ok(
        10,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
    w.ok(360, "open_recognition_vote", json!({})).await;
    w.ok(
        7,
        "recognition_vote_inconclusive",
        json!({ "recognition_vote_date": "today", "votes_for": 5, "official_members": 10 }),
    )
    .await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 7, "official_members": 10 })).await;
    let d = app.ok(VOTES, json!({ "id": w.case })).await;
    let v = d["case"]["votes"].as_array().unwrap();
    assert_eq!(v.len(), 5, "{v:#?}");
    assert_eq!(
        v[0],
        json!({ "seq": v[0]["seq"], "transition": "branch_vote", "rule": "A8", "body": "branch", "round": 1,
            "heldOn": vote.to_string(), "ruleSet": "R2025b", "recorded": false, "proposal": null,
            "eligible": 10, "excluded": 0, "denominator": 10, "votesFor": 6, "notInFavour": 4,
            "thresholdParam": "A8.vote_threshold", "threshold": ">= 2/3", "required": 7, "passed": false, "note": null })
    );
    // The denominator leaves out members living their party life elsewhere or exempted and
    // absent: 6 of 9 is exactly two thirds.
    assert_eq!(v[1]["recorded"], true);
    assert_eq!(v[1]["round"], 2);
    assert_eq!(v[1]["excluded"], 1);
    assert_eq!(v[1]["denominator"], 9);
    assert_eq!(v[1]["notInFavour"], 3);
    assert_eq!(v[1]["required"], 6);
    assert_eq!(v[1]["passed"], true);
    assert_eq!(v[2]["rule"], "A9");
    assert_eq!(v[2]["body"], "grassroots_committee");
    assert_eq!(v[2]["thresholdParam"], "A9.committee_threshold");
    assert_eq!(v[2]["eligible"], 7);
    assert_eq!(v[2]["required"], 5);
    assert_eq!(v[2]["passed"], true);
    assert_eq!(v[3]["transition"], "recognition_vote_inconclusive");
    assert_eq!(v[3]["rule"], "A14");
    assert_eq!(v[3]["passed"], false);
    assert_eq!(v[4]["round"], 2);
    assert_eq!(v[4]["proposal"], "recognise");
    assert_eq!(v[4]["thresholdParam"], "A14.vote_threshold");
    assert_eq!(v[4]["passed"], true);
}

#[tokio::test]
async fn a2_a10_a12_the_dossier_shows_what_is_in_missing_or_expiring() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    // A certificate 55 months old: past the 54-month warning.
    let issued = date("2025-09-01")
        .checked_sub_months(Months::new(55))
        .unwrap();
    w.ok(
        0,
        "record_awareness_certificate",
        json!({ "certificate_date": issued.to_string(), "certificate_number": "GCN-55" }),
    )
    .await;
    let docs = dossier_of(&app, &w.case, w.day).await;
    let keys: Vec<&str> = docs.iter().map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "awareness_certificate",
            "application",
            "personal_history",
            "verification_report",
            "introducers",
            "opinions",
            "branch_resolution",
            "grassroots_review",
            "province_consent",
            "admission_decision",
            "ceremony",
            "member_history"
        ]
    );
    let cert = doc(&docs, "awareness_certificate");
    let expires = issued.checked_add_months(Months::new(60)).unwrap();
    assert_eq!(cert["status"], "EXPIRING", "{cert:#}");
    assert_eq!(cert["rule"], "A2");
    assert_eq!(
        cert["label"],
        "Giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng"
    );
    assert_eq!(cert["reference"], "GCN-55");
    assert_eq!(cert["date"], issued.to_string());
    assert_eq!(cert["validUntil"], expires.to_string());
    assert_eq!(
        cert["warnFrom"],
        issued
            .checked_add_months(Months::new(54))
            .unwrap()
            .to_string()
    );
    assert!(
        cert["note"].as_str().unwrap().contains(&format!(
            "còn giá trị đến hết ngày {}",
            expires.format("%d/%m/%Y")
        )),
        "{cert:#}"
    );
    assert_eq!(doc(&docs, "application")["status"], "PENDING");
    assert_eq!(doc(&docs, "province_consent")["status"], "NOT_REQUIRED");
    // Unless the branch votes first, the certificate expires.
    let later = dossier_of(&app, &w.case, expires.succ_opt().unwrap()).await;
    let cert = doc(&later, "awareness_certificate");
    assert_eq!(cert["status"], "EXPIRED", "{cert:#}");
    assert!(
        cert["note"].as_str().unwrap().contains("học lại"),
        "{cert:#}"
    );
    w.ok(
        1,
        "file_application",
        json!({ "application_date": "today" }),
    )
    .await;
    w.ok(1, "draft_history", json!({ "history_date": "today" }))
        .await;
    w.ok(
        1,
        "start_verification",
        json!({ "verification_started_on": "today" }),
    )
    .await;
    w.ok(
        10,
        "conclude_verification",
        json!({ "verification_conclusion": "meets_standard", "verification_report_date": "today" }),
    )
    .await;
    w.ok(
        1,
        "record_introducers",
        introducers("2020-01-01", "2021-05-01"),
    )
    .await;
    let introduced = w.day;
    w.ok(
        1,
        "collect_opinions",
        json!({ "opinions_collected_on": "today", "opinion_sources": ["Công đoàn", "Chi bộ nơi cư trú"] }),
    )
    .await;
    vote_to_decision(&mut w).await;
    let decision = w.day;
    let docs = dossier_of(&app, &w.case, w.day).await;
    // Valid on the day of the vote: it no longer expires.
    let cert = doc(&docs, "awareness_certificate");
    assert_eq!(cert["status"], "PRESENT", "{cert:#}");
    assert!(
        cert["note"]
            .as_str()
            .unwrap()
            .contains("Còn giá trị tại ngày chi bộ xét kết nạp"),
        "{cert:#}"
    );
    let intro = doc(&docs, "introducers");
    assert_eq!(intro["status"], "PRESENT");
    assert_eq!(intro["date"], introduced.to_string());
    assert_eq!(intro["reference"], "M-101, M-102");
    assert_eq!(
        doc(&docs, "opinions")["reference"],
        "Công đoàn, Chi bộ nơi cư trú"
    );
    assert_eq!(doc(&docs, "ceremony")["status"], "PENDING");
    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" }))
        .await;
    let ceremony = w.day;
    // A12: the member's file is due 30 working days after the ceremony.
    let due = w.deadline("member_history", ceremony).await["due"]
        .as_str()
        .unwrap()
        .to_owned();
    let history = doc(&dossier_of(&app, &w.case, ceremony).await, "member_history");
    assert_eq!(history["status"], "PENDING");
    assert_eq!(history["dueBy"], due.as_str());
    let history = doc(
        &dossier_of(&app, &w.case, date(&due).succ_opt().unwrap()).await,
        "member_history",
    );
    assert_eq!(history["status"], "MISSING", "{history:#}");
    assert!(
        history["note"].as_str().unwrap().contains("Đã quá hạn nộp"),
        "{history:#}"
    );
    w.ok(
        10,
        "file_member_history",
        json!({ "member_history_filed_on": "today" }),
    )
    .await;
    w.ok(360, "open_recognition_vote", json!({})).await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    w.ok(
        10,
        "recognise",
        json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
    )
    .await;
    // Everything is in; the admission decision keeps its own date and number, not those of
    // the recognition decision.
    let docs = dossier_of(&app, &w.case, w.day).await;
    for d in &docs {
        let expected = if d["key"] == "province_consent" {
            "NOT_REQUIRED"
        } else {
            "PRESENT"
        };
        assert_eq!(d["status"], expected, "{d:#}");
    }
    let decided = doc(&docs, "admission_decision");
    assert_eq!(decided["date"], decision.to_string());
    assert_eq!(decided["reference"], "123-QĐ/ĐU");
    // A case that ends early needs nothing more.
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    w.ok(
        0,
        "withdraw",
        json!({ "withdrawn_on": "today", "withdrawal_reason": "Chuyển đi nơi khác" }),
    )
    .await;
    let docs = dossier_of(&app, &w.case, w.day).await;
    assert!(
        docs.iter().all(|d| d["status"] == "NOT_REQUIRED"),
        "{docs:#?}"
    );
}

#[tokio::test]
async fn a25_a30_a33_the_card_and_the_badges_follow_the_dates_of_admission() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut input = crate::support::official_member_input(&p.b1, "Lê Văn Ba");
    input["admissionDecisionDate"] = json!("1995-08-25");
    input["ceremonyDate"] = json!("1995-09-10");
    input["officialDate"] = json!("1996-09-10");
    let secretary = holder(&app, "secretary", &p.b1).await;
    let d = app
        .ok_as(&secretary, crate::support::REGISTER, json!({ "i": input }))
        .await;
    let id = d["registerMember"]["id"].as_str().unwrap().to_owned();
    let q = "query($id: ID!, $on: Date) { member(id: $id) { cardDueBy
        badges(on: $on) { years reachedOn reached awardOn cashAwardMultiplier } } }";
    // Party age from the decision of 25/8/1995: 30 years on 25/8/2025, handed out on 2/9.
    let m = app.ok(q, json!({ "id": id, "on": "2025-08-25" })).await;
    // A25: the next monthly meeting after the official date, at the latest.
    assert_eq!(m["member"]["cardDueBy"], "1996-10-31");
    let b = m["member"]["badges"].as_array().unwrap();
    assert_eq!(
        b.iter()
            .map(|x| x["years"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [30, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90]
    );
    assert_eq!(
        b[0],
        json!({ "years": 30, "reachedOn": "2025-08-25", "reached": true, "awardOn": "2025-09-02", "cashAwardMultiplier": "1.5" })
    );
    assert_eq!(b[1]["reachedOn"], "2035-08-25");
    assert_eq!(b[1]["reached"], false);
    assert_eq!(
        b[2]["cashAwardMultiplier"],
        Value::Null,
        "45 years has no listed award"
    );
    let m = app.ok(q, json!({ "id": id, "on": "2025-08-24" })).await;
    assert_eq!(m["member"]["badges"][0]["reached"], false);

    // A member admitted through the workflow: no card nor badge while probationary.
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    let case = app
        .ok(
            "query($id: ID!) { case(id: $id) { subjectMemberId } }",
            json!({ "id": w.case }),
        )
        .await;
    let member = case["case"]["subjectMemberId"].as_str().unwrap().to_owned();
    let m = app
        .ok(q, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    assert!(m["member"]["cardDueBy"].is_null());
    assert_eq!(m["member"]["badges"], json!([]));
    let ceremony = w.day - Days::new(10);
    let end = ceremony.checked_add_months(Months::new(12)).unwrap();
    w.ok(w.until(end), "open_recognition_vote", json!({})).await;
    w.ok(7, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    w.ok(
        10,
        "recognise",
        json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
    )
    .await;
    let m = app
        .ok(q, json!({ "id": member, "on": w.day.to_string() }))
        .await;
    let next_month = end.checked_add_months(Months::new(1)).unwrap();
    let last_day = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&next_month),
        chrono::Datelike::month(&next_month),
        1,
    )
    .unwrap()
    .checked_add_months(Months::new(1))
    .unwrap()
    .pred_opt()
    .unwrap();
    assert_eq!(m["member"]["cardDueBy"], last_day.to_string());
    let b = &m["member"]["badges"][0];
    assert_eq!(b["reached"], false);
    // 30 years from the admission decision (vote_to_ceremony decides 10 days before the
    // ceremony), not from the ceremony.
    let decision = ceremony - Days::new(10);
    assert_eq!(
        b["reachedOn"],
        decision
            .checked_add_months(Months::new(360))
            .unwrap()
            .to_string()
    );
}

/// A10 and the tree: the competent committee is found on the tree as it stands on the day of
/// the step. The grassroots committee sits under district D1 until 30/6/2025 and under a commune
/// from 1/7/2025 (the district level was abolished): the district's standing committee decides
/// a step dated in June, the commune's one dated in July; neither the other, nor the other
/// district's, nor the branch secretary.
#[tokio::test]
async fn a10_the_competent_committee_is_found_on_the_tree_of_the_step_s_day() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let commune = crate::support::unit(&app, "HG-XA", "COMMUNE", Some(&p.hg), "2025-07-01").await;
    app.set_today("2025-08-20");
    app.ok(
        "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": p.gc, "newParentId": commune, "effectiveDate": "2025-07-01" } }),
    )
    .await;
    let district = app
        .account("sc_d1", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let other_district = app
        .account("sc_d2", &[("standing_committee", Some(&p.d2))], None)
        .await;
    let commune_sc = app
        .account("sc_xa", &[("standing_committee", Some(&commune))], None)
        .await;
    let secretary = app.account("bt", &[("secretary", Some(&p.b1))], None).await;

    let mut w = open(&app, &p.b1, "2025-03-03", "1995-03-02").await;
    to_decision(&mut w).await;
    to_competent(&mut w).await;
    assert!(w.day < date("2025-06-30"), "{}", w.day);
    app.set_today("2025-08-20");
    let decide = |on: &str| {
        json!({ "i": { "caseId": w.case, "transition": "decide_admission", "dryRun": true, "on": on,
            "inputs": { "decision_date": on, "decision_number": "12-QĐ/HU" } } })
    };
    let fire = "mutation($i: FireInput!) { fireTransition(input: $i) { toState dryRun } }";
    // June: the district.
    let r = app.gql_as(&district, fire, decide("2025-06-20")).await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Admitted", "{r:#}");
    for (who, token) in [
        ("commune", &commune_sc),
        ("other district", &other_district),
        ("secretary", &secretary),
    ] {
        let r = app.gql_as(token, fire, decide("2025-06-20")).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{who}: {r:#}");
    }
    // July: the commune.
    let r = app.gql_as(&commune_sc, fire, decide("2025-07-15")).await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Admitted", "{r:#}");
    let r = app.gql_as(&district, fire, decide("2025-07-15")).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    // The commune's committee decides for real; the step records who did.
    let r = app
        .gql_as(
            &commune_sc,
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState event { actor } } }",
            json!({ "i": { "caseId": w.case, "transition": "decide_admission", "on": "2025-07-15",
                "inputs": { "decision_date": "2025-07-15", "decision_number": "12-QĐ/ĐU" } } }),
        )
        .await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Admitted", "{r:#}");
    assert_eq!(r["data"]["fireTransition"]["event"]["actor"], "sc_xa");
}

/// A case of branch `b1` brought to the competent committee, whose branch is dissolved the
/// next day.
async fn dissolved_at_the_competent<'a>(
    app: &'a TestApp,
    p: &crate::support::Province,
) -> Walk<'a> {
    let mut w = open(app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    to_competent(&mut w).await;
    let dissolved = (w.day + Days::new(1)).to_string();
    app.ok(
        "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": p.b1, "effectiveDate": dissolved } }),
    )
    .await;
    w
}

/// A dry run is the step itself, rolled back: where the registry refuses what the rules allow
/// (here the branch named in the case was dissolved before the decision), the dry run answers
/// what the step answers, and nothing is written by either.
#[tokio::test]
async fn a_dry_run_answers_what_the_step_answers_and_writes_nothing() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = dissolved_at_the_competent(&app, &p).await;
    let on = (w.day + Days::new(3)).to_string();
    let fire = |dry: bool| {
        json!({ "i": { "caseId": w.case, "transition": "decide_admission", "dryRun": dry, "on": on,
            "inputs": { "decision_date": on, "decision_number": "12-QĐ/HU" } } })
    };
    app.set_today(&on);
    let q = "mutation($i: FireInput!) { fireTransition(input: $i) { toState dryRun case { version } } }";
    let before = app.row_counts().await;
    let dry = app.gql_as(&w.roles.competent, q, fire(true)).await;
    assert_eq!(app.row_counts().await, before, "a dry run writes nothing");
    let real = app.gql_as(&w.roles.competent, q, fire(false)).await;
    assert_eq!(error_code(&real), "VALIDATION", "{real:#}");
    assert_eq!(error_code(&dry), error_code(&real), "{dry:#}");
    assert_eq!(dry["errors"][0]["message"], real["errors"][0]["message"]);
    assert!(
        real["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("HG-D1-X-1"),
        "{real:#}"
    );
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused step writes nothing"
    );
    // The case of the dissolved branch stays with the competent committee above it on its last
    // day: it refuses the admission and closes the case; another district still cannot.
    let refuse = json!({ "decision_date": "today", "rejection_reason": "Chi bộ đã giải thể" });
    let other_district = holder(&app, "standing_committee", &p.d2).await;
    w.day = date(&on);
    w.forbidden(&other_district, "refuse_admission", refuse.clone())
        .await;
    let done = w.ok(0, "refuse_admission", refuse).await;
    assert_eq!(done["toState"], "Rejected");
}

/// A case of a unit that has ended is read where its steps are decided: on the tree of the
/// unit's last day. The competent district reads the case of a dissolved branch (directly, in
/// its case lists, its access log through the district's inspection commission); another
/// district is still refused and does not list it.
#[tokio::test]
async fn the_case_of_a_dissolved_branch_is_read_by_the_district_above_it_on_its_last_day() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let w = dissolved_at_the_competent(&app, &p).await;
    app.set_today(&(w.day + Days::new(3)).to_string());
    let other_district = holder(&app, "standing_committee", &p.d2).await;
    let inspection = holder(&app, "inspection_commission", &p.d1).await;
    let other_inspection = holder(&app, "inspection_commission", &p.d2).await;

    let read = "query($id: ID!) { case(id: $id) { id state } }";
    let r = app
        .gql_as(&w.roles.competent, read, json!({ "id": w.case }))
        .await;
    assert_eq!(r["data"]["case"]["id"], w.case.as_str(), "{r:#}");
    for who in [&other_district, &other_inspection] {
        let r = app.gql_as(who, read, json!({ "id": w.case })).await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }

    let log = "query($id: ID!) { case(id: $id) { accessLog { username } } }";
    let r = app.gql_as(&inspection, log, json!({ "id": w.case })).await;
    assert!(r["errors"].is_null(), "{r:#}");
    assert!(r["data"]["case"]["accessLog"].is_array(), "{r:#}");
    let r = app
        .gql_as(&other_inspection, log, json!({ "id": w.case }))
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");

    // The lists: the caller's scope, and a subtree asked for by unit.
    let list =
        "query($f: CaseFilterInput) { cases(filter: $f, first: 50) { totalCount nodes { id } } }";
    let ids = |r: &Value| -> Vec<String> {
        r["data"]["cases"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{r:#}"))
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mine = app.gql_as(&w.roles.competent, list, json!({})).await;
    assert_eq!(ids(&mine), vec![w.case.clone()], "{mine:#}");
    assert_eq!(mine["data"]["cases"]["totalCount"], 1);
    let subtree = json!({ "f": { "unitId": p.d1, "includeSubtree": true } });
    let r = app.gql_as(&w.roles.competent, list, subtree.clone()).await;
    assert_eq!(ids(&r), vec![w.case.clone()], "{r:#}");
    let r = app.gql_as(&other_district, list, json!({})).await;
    assert!(ids(&r).is_empty(), "{r:#}");
    assert_eq!(r["data"]["cases"]["totalCount"], 0);
    let r = app.gql_as(&other_district, list, subtree).await;
    assert!(ids(&r).is_empty(), "{r:#}");
    let r = app
        .gql_as(
            &other_district,
            list,
            json!({ "f": { "unitId": p.d2, "includeSubtree": true } }),
        )
        .await;
    assert!(ids(&r).is_empty(), "{r:#}");

    // What is coming up under the district includes the case's deadlines.
    let up = "query($u: ID!) { upcoming(unitId: $u, withinWorkingDays: 260) { case { id } } }";
    let r = app
        .gql_as(&w.roles.competent, up, json!({ "u": p.d1 }))
        .await;
    let items = r["data"]["upcoming"]
        .as_array()
        .unwrap_or_else(|| panic!("{r:#}"));
    assert!(
        items.iter().any(|i| i["case"]["id"] == w.case.as_str()),
        "{r:#}"
    );
    let r = app.gql_as(&other_district, up, json!({ "u": p.d2 })).await;
    assert_eq!(r["data"]["upcoming"], json!([]), "{r:#}");
}

/// A board follows the cases of a unit that has ended where they are read: on the tree of the
/// unit's last day. The competent district above a dissolved branch subscribed to its own
/// unit sees a step on the branch's case; the standing committee of another district and the
/// secretary of another branch, each subscribed to their own unit, see only the steps of
/// their own cases that follow it.
#[tokio::test]
async fn a_change_to_the_case_of_a_dissolved_branch_reaches_the_district_above_it_on_its_last_day()
{
    let app = spawn_app().await;
    let p = province(&app).await;
    // A case in another branch of the same grassroots committee and one in the other district,
    // each moved on after the dissolved branch's step: what their boards must see first.
    let mut next_door = open(&app, &p.b2, "2025-09-01", "1995-04-05").await;
    let mut elsewhere = open(&app, &p.gb, "2025-09-01", "1995-05-06").await;
    let mut w = dissolved_at_the_competent(&app, &p).await;
    let on = w.day + Days::new(3);
    app.set_today(&on.to_string());

    let mut district = Board::subscribe(&app, &w.roles.competent, &p.d1).await;
    let other_district = holder(&app, "standing_committee", &p.d2).await;
    let mut other_district = Board::subscribe(&app, &other_district, &p.d2).await;
    let mut secretary = Board::subscribe(&app, &next_door.roles.secretary, &p.b2).await;

    let refuse = json!({ "decision_date": "today", "rejection_reason": "Chi bộ đã giải thể" });
    w.ok(3, "refuse_admission", refuse).await;
    let change = district.change().await;
    assert_eq!(change["caseId"], w.case.as_str(), "{change:#}");
    assert_eq!(change["transition"], "refuse_admission");
    assert_eq!(change["state"], "Rejected");

    let certificate = json!({ "certificate_date": "today-60", "certificate_number": "GCN-18" });
    for (walk, board) in [
        (&mut next_door, &mut secretary),
        (&mut elsewhere, &mut other_district),
    ] {
        walk.day = on;
        walk.ok(0, "record_awareness_certificate", certificate.clone())
            .await;
        assert_eq!(board.change().await["caseId"], walk.case.as_str());
    }
}
