//! Discipline through the front door, with its consequences in the registry: an expulsion
//! proposed by the branch and decided by the competent committee ends the membership from the
//! decision (D2, D13, D31, D36); the member appeals as themselves (P1); an annulment gives the
//! membership back, in the same branch, from the annulment (P6). Each step is taken by the
//! account whose role the workflow names.

use chrono::NaiveDate;
use memberflow_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

use crate::support::{member, province};

const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }";
const STATUS: &str =
    "query($id: ID!, $on: Date) { member(id: $id) { status(on: $on) unit(on: $on) { code } } }";

struct Walk<'a> {
    app: &'a TestApp,
    case: String,
    day: NaiveDate,
}

impl Walk<'_> {
    /// The next day, `token` fires `transition` with `inputs` (`"today"` for the day).
    async fn step(&mut self, token: &str, transition: &str, inputs: Value) -> Value {
        self.day = self.day.succ_opt().unwrap();
        self.app.set_today(&self.day.to_string());
        let text = inputs
            .to_string()
            .replace("\"today\"", &format!("\"{}\"", self.day));
        let inputs: Value = serde_json::from_str(&text).unwrap();
        self.app
            .gql_as(
                token,
                FIRE,
                json!({ "i": { "caseId": self.case, "transition": transition, "inputs": inputs } }),
            )
            .await
    }

    async fn ok(&mut self, token: &str, transition: &str, inputs: Value) -> String {
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
}

#[tokio::test]
async fn d36_p6_an_expulsion_ends_the_membership_from_the_decision_and_an_annulment_restores_it() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = member(&app, &p.b1, "Nguyễn Văn Vi Phạm").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let district = app
        .account("thuongvu", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let commission = app
        .account("ubkt", &[("inspection_commission", Some(&p.hg))], None)
        .await;
    let subject = app.account("vipham", &[], Some(&m)).await;

    app.set_today("2026-03-02");
    let d = app
        .gql_as(
            &secretary,
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
            json!({ "i": { "definitionId": "discipline_member", "unitId": p.b1, "title": "Kỷ luật",
                "subjectMemberId": m,
                "inputs": { "member_id": m, "full_name": "Nguyễn Văn Vi Phạm", "unit": p.b1,
                    "subject_kind": "member", "membership": "official",
                    "detection_source": "supervision", "detected_on": "2026-03-02" } } }),
        )
        .await;
    let mut w = Walk {
        app: &app,
        case: d["data"]["openCase"]["case"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{d:#}"))
            .to_owned(),
        day: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
    };
    w.ok(&secretary, "start_inspection", json!({ "inspecting_body": "branch", "inspecting_level": "branch", "inspection_decision_date": "today" })).await;
    w.ok(&secretary, "conclude_inspection", json!({ "inspection_concluded_on": "today", "violation_end_date": "2026-01-15", "violation_category": "ordinary" })).await;
    w.ok(
        &secretary,
        "record_self_criticism",
        json!({ "self_criticism_date": "today", "proposed_form": "expulsion" }),
    )
    .await;
    w.ok(
        &secretary,
        "hold_hearing",
        json!({ "hearing_date": "today" }),
    )
    .await;
    // The branch votes to propose expulsion (D31: at least 2/3 of its official members)...
    let vote = json!({ "vote_date": "today", "voting_body": "branch", "voting_level": "branch", "secret_ballot": true,
        "discipline_form": "expulsion", "votes_expulsion": 7, "votes_warning": 3, "votes_reprimand": 0, "official_members": 10 });
    assert_eq!(w.ok(&secretary, "vote", vote).await, "LimitationCheck");
    // ...but may only propose it (D13): the branch secretary cannot decide it.
    let r = w
        .step(
            &secretary,
            "impose",
            json!({ "decision_date": "today", "decision_number": "01-QĐ/CB" }),
        )
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    w.ok(
        &secretary,
        "propose_to_competent",
        json!({ "proposed_on": "today" }),
    )
    .await;
    // The member concerned takes no part in the decision.
    let r = w.step(&subject, "vote", json!({})).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    w.day = w.day.pred_opt().unwrap();
    let competent = json!({ "vote_date": "today", "voting_body": "standing_committee", "voting_level": "superior", "secret_ballot": true,
        "discipline_form": "expulsion", "votes_expulsion": 5, "votes_warning": 4, "votes_reprimand": 0, "official_members": 9 });
    w.ok(&district, "vote", competent).await;
    w.ok(
        &district,
        "impose",
        json!({ "decision_date": "today", "decision_number": "15-QĐ/HU" }),
    )
    .await;
    let decided = w.day;
    // Delivered a few days later; the membership ends from the decision (D36).
    w.day = w.day + chrono::Days::new(3);
    assert_eq!(
        w.ok(
            &secretary,
            "notify_expulsion",
            json!({ "decision_received_date": "today" })
        )
        .await,
        "ExpulsionAppealWindow"
    );
    let s = app
        .ok(STATUS, json!({ "id": m, "on": decided.to_string() }))
        .await;
    assert_eq!(s["member"]["status"], "EXPELLED", "{s:#}");
    assert!(s["member"]["unit"].is_null(), "{s:#}");
    let before = app
        .ok(
            STATUS,
            json!({ "id": m, "on": decided.pred_opt().unwrap().to_string() }),
        )
        .await;
    assert_eq!(before["member"]["status"], "OFFICIAL");
    assert_eq!(before["member"]["unit"]["code"], "HG-D1-X-1");

    // The member appeals, as themselves (P1) — the only step a party may take.
    w.ok(
        &subject,
        "file_appeal",
        json!({ "appeal_filed_date": "today", "appeal_body": "inspection_commission",
        "appeal_level": "province", "appeal_grounds": "Quyết định khai trừ không đúng sự thật" }),
    )
    .await;
    // The appeal goes above the body that decided (P3): the province's inspection commission
    // annuls it (P6), and the person is a member again, in the branch.
    assert_eq!(
        w.ok(
            &commission,
            "annul",
            json!({ "ruling_body": "inspection_commission", "ruling_level": "province",
            "appeal_ruling_date": "today", "restoration": "Khôi phục sinh hoạt đảng và quyền lợi" })
        )
        .await,
        "Annulled"
    );
    let after = app
        .ok(STATUS, json!({ "id": m, "on": w.day.to_string() }))
        .await;
    assert_eq!(after["member"]["status"], "OFFICIAL", "{after:#}");
    assert_eq!(after["member"]["unit"]["code"], "HG-D1-X-1");
    // The history keeps the expulsion between the two.
    let h = app
        .ok(
            "query($id: ID!) { member(id: $id) { statusHistory { status validFrom validTo } } }",
            json!({ "id": m }),
        )
        .await;
    let statuses: Vec<&str> = h["member"]["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.ends_with(&["OFFICIAL", "EXPELLED", "OFFICIAL"]),
        "{h:#}"
    );
}
