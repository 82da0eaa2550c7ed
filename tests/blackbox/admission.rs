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
        assert!(
            r.get("errors").is_none(),
            "{transition} on {}: {r:#}",
            self.day
        );
        r["data"]["fireTransition"].clone()
    }
}

/// Replaces the string "today" by the day of the step.
fn fill_today(v: Value, day: NaiveDate) -> Value {
    match v {
        Value::String(s) if s == "today" => Value::String(day.to_string()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, fill_today(v, day)))
                .collect(),
        ),
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
    w.ok(
        20,
        "conclude_verification",
        json!({ "verification_conclusion": "meets_standard", "verification_report_date": "today" }),
    )
    .await;
    w.ok(1, "record_introducers", json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": "2020-01-01",
        "introducer_2": "M-102", "introducer_2_official": true, "introducer_2_since": "2021-05-01" })).await;
    w.ok(
        1,
        "collect_opinions",
        json!({ "opinions_collected_on": "today" }),
    )
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
    w.ok(
        0,
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
    let decided = w
        .ok(
            14,
            "decide_admission",
            json!({ "decision_date": "today", "decision_number": "123-QĐ/ĐU" }),
        )
        .await;
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
    w.ok(25, "recognition_vote", json!({ "recognition_vote_date": "today", "proposal": "recognise", "votes_for": 9, "official_members": 10 })).await;
    let done = w
        .ok(
            10,
            "recognise",
            json!({ "decision_date": "today", "decision_number": "456-QĐ/ĐU" }),
        )
        .await;
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
        .gql(FIRE, json!({ "i": { "caseId": w.case, "transition": "record_awareness_certificate", "actor": everyone(),
            "on": "2025-09-05", "inputs": { "certificate_date": "2025-06-10", "certificate_number": "x" } } }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION");
}

/// From the branch vote to the ceremony, on the happy path.
async fn vote_to_ceremony(w: &mut Walk<'_>) {
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
    let done = w
        .ok(10, "strike_off", json!({ "decision_date": "today", "decision_number": "9-QĐ", "strike_off_reason": "Không đủ tư cách" }))
        .await;
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
        } else if day < "2025-07-01" {
            "R2025a"
        } else {
            "R2025b"
        };
        assert_eq!(e["ruleSet"], expected, "{e}");
    }
}
