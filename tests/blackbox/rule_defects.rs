//! Rules closer to the law: defects a committee found by trying the rules through GraphQL, each
//! with the test that failed before the fix, and the weak spots of the other tests (the expiry
//! day of a limitation period, a refusal at the competent body's majority, the steps of the
//! competent committee walked as the real roles rather than as an account holding every role).

use memberflow_tests::{TestApp, error_code, refused_by as refused, spawn_app};
use serde_json::{Value, json};

use crate::admission::{Walk, open, to_decision, vote_to_ceremony};
use crate::support::province;

/// An account holding `role` at `unit` only.
async fn holder(app: &TestApp, name: &str, role: &str, unit: &str) -> String {
    app.account(name, &[(role, Some(unit))], None).await
}

/// From the branch vote to the competent committee, as the operator.
async fn to_competent(w: &mut Walk<'_>) {
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

fn rules_of(r: &Value) -> Vec<String> {
    r["errors"][0]["extensions"]["rules"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

// Defect 1 ------------------------------------------------------------------------------------

#[tokio::test]
async fn a14_after_three_inconclusive_rounds_no_branch_vote_of_any_outcome() {
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
    // A fourth vote that reaches two thirds is refused as well: the case belongs to the
    // competent committee now, whichever way the branch would vote.
    for proposal in ["recognise", "strike_off"] {
        let r = w
            .step(
                7,
                "recognition_vote",
                json!({ "recognition_vote_date": "today", "proposal": proposal, "votes_for": 9, "official_members": 10 }),
            )
            .await;
        let vi = refused(&r, "A14");
        assert!(vi.contains("đã biểu quyết 3 lần"), "{vi}");
    }
    let up = w
        .ok(
            0,
            "escalate_recognition",
            json!({ "escalated_on": "today" }),
        )
        .await;
    assert_eq!(up["toState"], "RecognitionPending");
}

// Defect 6 ------------------------------------------------------------------------------------

#[tokio::test]
async fn e2_the_admission_of_a_person_over_60_is_decided_at_the_province_level_only() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let district = holder(&app, "ubtv-huyen", "standing_committee", &p.d1).await;
    let provincial = holder(&app, "ubtv-tinh", "standing_committee", &p.hg).await;
    // 61 years 6 months at the branch vote.
    let mut w = open(&app, &p.b1, "2025-09-01", "1964-03-10").await;
    to_decision(&mut w).await;
    to_competent(&mut w).await;
    w.step_as(
        Some(&provincial),
        1,
        "record_province_consent",
        json!({ "province_consent_date": "today", "province_consent_ref": "15-CV/TU" }),
    )
    .await;
    // The district standing committee, competent under A10 for anyone else, is refused,
    // and the refusal names E2; so is its refusal to admit.
    let decide = json!({ "decision_date": "today", "decision_number": "123-QĐ/HU" });
    let r = w
        .step_as(Some(&district), 1, "decide_admission", decide.clone())
        .await;
    let vi = refused(&r, "E2");
    assert!(vi.contains("cấp ủy cấp tỉnh xem xét, quyết định"), "{vi}");
    let r = w
        .step_as(
            Some(&district),
            0,
            "refuse_admission",
            json!({ "decision_date": "today", "rejection_reason": "x" }),
        )
        .await;
    refused(&r, "E2");
    // The province-level standing committee decides.
    let r = w
        .step_as(Some(&provincial), 0, "decide_admission", decide)
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    assert_eq!(r["data"]["fireTransition"]["toState"], "Admitted");
}

#[tokio::test]
async fn e2_within_the_age_limit_the_province_does_not_take_the_competent_committees_decision() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let district = holder(&app, "ubtv-huyen", "standing_committee", &p.d1).await;
    let provincial = holder(&app, "ubtv-tinh", "standing_committee", &p.hg).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    to_competent(&mut w).await;
    let decide = json!({ "decision_date": "today", "decision_number": "123-QĐ/HU" });
    let r = w
        .step_as(Some(&provincial), 1, "decide_admission", decide.clone())
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert!(rules_of(&r).contains(&"A10".to_owned()), "{r:#}");
    let r = w
        .step_as(Some(&district), 0, "decide_admission", decide)
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
}
