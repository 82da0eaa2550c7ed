//! The admission pipeline through GraphQL, from the candidate list to official membership,
//! with its effects on the member registry (A10, A13, A14, A15) on both databases.

use chrono::{Days, NaiveDate};
use memberflow_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

use crate::support::province;

const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState case { version subjectMemberId } } }";

fn everyone() -> Value {
    json!({ "id": "tester", "roles": [
        { "role": "secretary", "level": "branch" },
        { "role": "executive_committee", "level": "grassroots" },
        { "role": "standing_committee", "level": "competent" },
        { "role": "standing_committee", "level": "province" } ] })
}

struct Walk<'a> {
    app: &'a TestApp,
    case: String,
    version: i64,
    day: NaiveDate,
}

impl Walk<'_> {
    /// Moves the clock `gap` days on and fires `transition` that day.
    async fn step(&mut self, gap: u64, transition: &str, inputs: Value) -> Value {
        self.day = self.day + Days::new(gap);
        self.app.set_today(&self.day.to_string());
        let inputs = fill_today(inputs, self.day);
        let r = self
            .app
            .gql(
                FIRE,
                json!({ "i": { "caseId": self.case, "transition": transition, "actor": everyone(),
                    "expectedVersion": self.version, "inputs": inputs } }),
            )
            .await;
        if r.get("errors").is_none() {
            self.version += 1;
        }
        r
    }

    async fn ok(&mut self, gap: u64, transition: &str, inputs: Value) -> Value {
        let r = self.step(gap, transition, inputs).await;
        assert!(r.get("errors").is_none(), "{transition} on {}: {r:#}", self.day);
        r["data"]["fireTransition"].clone()
    }
}

/// Replaces the string "today" by the day of the step.
fn fill_today(v: Value, day: NaiveDate) -> Value {
    match v {
        Value::String(s) if s == "today" => Value::String(day.to_string()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, fill_today(v, day))).collect()),
        other => other,
    }
}

async fn open<'a>(app: &'a TestApp, branch: &str, start: &str, dob: &str) -> Walk<'a> {
    app.set_today(start);
    let d = app
        .ok(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id version } } }",
            json!({ "i": { "definitionId": "admission", "unitId": branch, "title": "Nguyễn Văn An",
                "actor": everyone(),
                "inputs": { "person_id": "P-001", "full_name": "Nguyễn Văn An", "date_of_birth": dob,
                    "unit": branch, "education_level": "upper_secondary", "helper_member": "M-100" } } }),
        )
        .await;
    Walk {
        app,
        case: d["openCase"]["case"]["id"].as_str().unwrap().to_owned(),
        version: 1,
        day: NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap(),
    }
}

/// Walks from the candidate list to the admission decision.
async fn to_decision(w: &mut Walk<'_>) {
    w.ok(1, "record_awareness_certificate", json!({ "certificate_date": "2025-06-10", "certificate_number": "GCN-17" })).await;
    w.ok(1, "file_application", json!({ "application_date": "today" })).await;
    w.ok(1, "draft_history", json!({ "history_date": "today" })).await;
    w.ok(1, "start_verification", json!({ "verification_started_on": "today" })).await;
    w.ok(20, "conclude_verification", json!({ "verification_conclusion": "meets_standard", "verification_report_date": "today" })).await;
    w.ok(1, "record_introducers", json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": "2020-01-01",
        "introducer_2": "M-102", "introducer_2_official": true, "introducer_2_since": "2021-05-01" })).await;
    w.ok(1, "collect_opinions", json!({ "opinions_collected_on": "today" })).await;
}

#[tokio::test]
async fn a_person_is_taken_from_candidate_to_official_member_and_the_registry_follows() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    // A8: 6 of 10 official members is below two thirds; the refusal names the rule.
    let r = w.step(7, "branch_vote", json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10 })).await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED");
    assert!(r["errors"][0]["extensions"]["rules"].as_array().unwrap().contains(&json!("A8")), "{r:#}");
    w.ok(0, "branch_vote", json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 })).await;
    w.ok(7, "grassroots_review", json!({ "review_date": "today", "grassroots_delegated": false })).await;
    w.ok(1, "submit_to_competent", json!({ "submitted_on": "today" })).await;
    let decided = w.ok(14, "decide_admission", json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" })).await;
    let decision_day = w.day;
    // The decision creates the person as a probationary member of the branch (A10, A15).
    let member = decided["case"]["subjectMemberId"].as_str().expect("a member was created").to_owned();
    let q = "query($id: ID!, $on: Date) { member(id: $id) { fullName partyAgeFrom ceremonyDate officialDate status(on: $on) unit(on: $on) { code } } }";
    let m = app.ok(q, json!({ "id": member, "on": decision_day.to_string() })).await;
    assert_eq!(m["member"]["fullName"], "Nguyễn Văn An");
    assert_eq!(m["member"]["partyAgeFrom"], decision_day.to_string());
    assert_eq!(m["member"]["status"], "PROBATIONARY");
    assert_eq!(m["member"]["unit"]["code"], "HG-D1-X-1");

    w.ok(10, "hold_ceremony", json!({ "ceremony_date": "today" })).await;
    let ceremony = w.day;
    w.ok(10, "file_member_history", json!({ "member_history_filed_on": "today" })).await;
    // A13: the recognition vote cannot open before 12 months of probation.
    let early = w.step(30, "open_recognition_vote", json!({})).await;
    assert_eq!(error_code(&early), "TRANSITION_REFUSED", "{early:#}");
    w.ok(330, "open_recognition_vote", json!({})).await;
    // The branch meets late, and the committee decides late...
    w.ok(25, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    let done = w.ok(10, "recognise", json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" })).await;
    assert_eq!(done["toState"], "Official");
    // ...yet the member is official from ceremony + 12 months (A14).
    let official = ceremony.checked_add_months(chrono::Months::new(12)).unwrap();
    let m = app.ok(q, json!({ "id": member, "on": official.to_string() })).await;
    assert_eq!(m["member"]["ceremonyDate"], ceremony.to_string());
    assert_eq!(m["member"]["officialDate"], official.to_string());
    assert_eq!(m["member"]["status"], "OFFICIAL");
    let before = official.pred_opt().unwrap().to_string();
    let m = app.ok(q, json!({ "id": member, "on": before })).await;
    assert_eq!(m["member"]["status"], "PROBATIONARY");
}

#[tokio::test]
async fn e1_an_applicant_under_18_at_the_branch_vote_is_refused() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Born 2008-06-01: 17 years and some months at a vote in autumn 2025.
    let mut w = open(&app, &p.b1, "2025-09-01", "2008-06-01").await;
    to_decision(&mut w).await;
    let before = app.row_counts().await;
    let r = w.step(7, "branch_vote", json!({ "branch_vote_date": "today", "votes_for": 10, "official_members": 10 })).await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED");
    assert!(r["errors"][0]["extensions"]["rules"].as_array().unwrap().contains(&json!("E1")), "{r:#}");
    assert!(r["errors"][0]["extensions"]["messageVi"].as_str().unwrap().contains("18"));
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_step_cannot_be_recorded_in_the_future() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    let r = app
        .gql(FIRE, json!({ "i": { "caseId": w.case, "transition": "record_awareness_certificate", "actor": everyone(),
            "on": "2025-09-05", "inputs": { "certificate_date": "2025-06-10", "certificate_number": "x" } } }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION");
}
