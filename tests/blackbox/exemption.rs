//! S15: exemption from party work and activities, a dated member status decided by the branch,
//! and the vote denominators that leave the exempted out on the vote's date (A8, D33) without a
//! count typed in by the caller.

use memberflow_tests::{TestApp, error_code, refused_by as refused, spawn_app};
use serde_json::{Value, json};

use crate::admission::{open, to_decision};
use crate::support::{holder, province, registered};
use crate::walk::{Walk as DWalk, branch_vote, date, member_case};

const EXEMPT: &str = "mutation($m: ID!, $g: String!, $f: Date!, $t: Date) { exemptMember(memberId: $m, \
     ground: $g, decision: \"01-NQ/CB\", validFrom: $f, validTo: $t) { id ground groundLabel validFrom validTo } }";

/// Exempts `m` from `from` (until `to`), as the account of `by` (the secretary of the
/// member's branch, who decides it).
async fn exempt(app: &TestApp, by: &str, m: &str, from: &str, to: Option<&str>) -> String {
    let r = app
        .gql_as(
            by,
            EXEMPT,
            json!({ "m": m, "g": "elderly", "f": from, "t": to }),
        )
        .await;
    r["data"]["exemptMember"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r:#}"))
        .to_owned()
}

/// `liftExemption` of `e` on `on`, as the account of `by`.
async fn lift(app: &TestApp, by: &str, e: &str, on: &str, decision: &str) -> Value {
    let r = app
        .gql_as(
            by,
            "mutation($e: ID!, $on: Date!, $d: String!) { liftExemption(exemptionId: $e, on: $on, decision: $d) { id validTo liftedDecision } }",
            json!({ "e": e, "on": on, "d": decision }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r:#}");
    r["data"]["liftExemption"].clone()
}

fn reason_codes(r: &Value) -> Vec<String> {
    r["errors"][0]["extensions"]["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn s15_an_exemption_is_a_dated_status_of_the_member_set_by_the_registry_keepers() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Trần Văn Cao Tuổi").await;
    app.set_today("2026-03-01");
    let secretary = holder(&app, "secretary", &p.b1).await;
    let id = exempt(&app, &secretary, &m, "2025-01-01", None).await;
    let q = "query($m: ID!) { member(id: $m) { before: exempted(on: \"2024-12-31\") \
             during: exempted(on: \"2025-06-01\") now: exempted \
             exemptions { id ground groundLabel decision validFrom validTo liftedDecision } } }";
    let d = app.ok(q, json!({ "m": m })).await;
    assert_eq!(d["member"]["before"], false, "{d:#}");
    assert_eq!(d["member"]["during"], true, "{d:#}");
    assert_eq!(d["member"]["now"], true, "{d:#}");
    assert_eq!(d["member"]["exemptions"][0]["groundLabel"], "Tuổi cao");
    // An overlapping period and an unknown ground are refused.
    let r = app
        .gql_as(
            &secretary,
            EXEMPT,
            json!({ "m": m, "g": "ill", "f": "2025-06-01", "t": null }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    let r = app
        .gql_as(
            &secretary,
            EXEMPT,
            json!({ "m": m, "g": "bored", "f": "2020-01-01", "t": "2021-01-01" }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    // The branch lifts it: it ends that day.
    let d = lift(&app, &secretary, &id, "2026-02-01", "05-NQ/CB").await;
    assert_eq!(d["validTo"], "2026-02-01", "{d:#}");
    assert_eq!(d["liftedDecision"], "05-NQ/CB", "{d:#}");
    let d = app.ok(q, json!({ "m": m })).await;
    assert_eq!(d["member"]["now"], false, "{d:#}");
    // A secretary of another branch may not exempt this member.
    let other = app
        .account("bithu2", &[("secretary", Some(p.b2.as_str()))], None)
        .await;
    let r = app
        .gql_as(
            &other,
            EXEMPT,
            json!({ "m": m, "g": "ill", "f": "2026-03-01", "t": null }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
}

#[tokio::test]
async fn s15_a8_the_branch_vote_leaves_out_the_members_exempted_on_its_date() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m1 = registered(&app, &p.b1, "Lê Thị Miễn").await;
    let m2 = registered(&app, &p.b1, "Lê Văn Hết Miễn").await;
    let m3 = registered(&app, &p.b2, "Võ Văn Chi Bộ Khác").await;
    app.set_today("2025-08-01");
    let (s1, s2) = (
        holder(&app, "secretary", &p.b1).await,
        holder(&app, "secretary", &p.b2).await,
    );
    exempt(&app, &s1, &m1, "2025-01-01", None).await;
    // Ended before the vote, and of another branch: neither is left out.
    exempt(&app, &s1, &m2, "2025-01-01", Some("2025-06-01")).await;
    exempt(&app, &s2, &m3, "2025-01-01", None).await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    let vote = |extra: Value| {
        let mut v = json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10 });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    // A count typed in that disagrees with the registry is refused with its own code.
    let r = w
        .step(7, "branch_vote", vote(json!({ "exempted_members": 2 })))
        .await;
    let vi = refused(&r, "S15");
    assert!(vi.contains("khác với sổ đảng viên"), "{vi}");
    assert!(
        reason_codes(&r).contains(&"EXEMPTION_COUNT_MISMATCH".to_owned()),
        "{r:#}"
    );
    // An exempted member who attends is counted: 6 of 10 is not two thirds.
    let r = w
        .step(0, "branch_vote", vote(json!({ "exempted_present": 1 })))
        .await;
    refused(&r, "A8");
    // Otherwise the one exempted on the vote's date leaves the denominator: 6 of 9.
    let done = w.ok(0, "branch_vote", vote(json!({}))).await;
    assert_eq!(done["toState"], "BranchVoted", "{done:#}");
}

#[tokio::test]
async fn s15_d33_the_discipline_ballot_reads_the_exemptions_as_of_the_vote_date() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Phạm Văn Vi Phạm").await;
    let x = registered(&app, &p.b1, "Đỗ Thị Ốm").await;
    app.set_today("2026-03-01");
    let secretary = app
        .account("bithu", &[("secretary", Some(p.b1.as_str()))], None)
        .await;
    let first = exempt(&app, &secretary, &x, "2026-01-01", None).await;
    lift(&app, &secretary, &first, "2026-02-01", "03-NQ/CB").await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Phạm Văn Vi Phạm", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "reprimand").await;
    let mut ballot = branch_vote("reprimand");
    ballot["votes_reprimand"] = json!(5);
    // Lifted on 1/2: on the vote's date the member is not exempted, 5 of 10 is not more than
    // half.
    w.day = w.day.succ_opt().unwrap();
    w.refused(&secretary, "vote", ballot.clone(), "D31").await;
    // Exempted again from the day before the vote: 5 of 9 is.
    let vote_day = w.day.to_string();
    let before = w.day.pred_opt().unwrap().to_string();
    exempt(&app, &secretary, &x, &before, None).await;
    app.set_today(&vote_day);
    let r = w.fire_on(w.day, &secretary, "vote", ballot).await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "LimitationCheck",
        "{r:#}"
    );
}

/// The pending outbox rows of `case` whose payload names `template`.
async fn mails_of(app: &TestApp, case: &str, template: &str) -> usize {
    let d = app
        .ok(
            "query($c: ID!) { outbox(caseId: $c) { kind payload } }",
            json!({ "c": case }),
        )
        .await;
    d["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["payload"].to_string().contains(template))
        .count()
}

#[tokio::test]
async fn a28_c3_the_branch_is_told_to_collect_the_card_and_the_member_carries_the_bar() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // The branch's secretary takes its steps; the district's standing committee, competent
    // for a removal from post and an expulsion (D13), decides.
    let secretary = holder(&app, "secretary", &p.b1).await;
    let district = holder(&app, "standing_committee", &p.d1).await;
    // C3: a removal from post, proposed by the branch and decided by the district.
    let m = registered(&app, &p.b1, "Hoàng Văn Cách Chức").await;
    let mut inputs = member_case(&m, "Hoàng Văn Cách Chức", &p.b1);
    inputs["holds_post"] = json!(true);
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        inputs,
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "removal").await;
    let ballot = json!({ "vote_date": "today", "voting_body": "branch", "voting_level": "branch",
        "secret_ballot": true, "discipline_form": "removal", "official_members": 10,
        "votes_expulsion": 0, "votes_removal": 6, "votes_warning": 0, "votes_reprimand": 0 });
    w.expect(&secretary, "vote", ballot, "LimitationCheck")
        .await;
    w.ok(
        &secretary,
        "propose_to_competent",
        json!({ "proposed_on": "today" }),
    )
    .await;
    let competent = json!({ "vote_date": "today", "voting_body": "standing_committee", "voting_level": "superior",
        "secret_ballot": true, "discipline_form": "removal", "official_members": 9,
        "votes_expulsion": 0, "votes_removal": 5, "votes_warning": 0, "votes_reprimand": 0 });
    w.ok(&district, "vote", competent).await;
    w.ok(
        &district,
        "impose",
        json!({ "decision_date": "today", "decision_number": "20-QĐ/HU" }),
    )
    .await;
    let decided = w.day;
    assert_eq!(
        w.ok(
            &district,
            "notify",
            json!({ "decision_received_date": "today" })
        )
        .await,
        "AppealWindow"
    );
    let until = decided
        .checked_add_months(chrono::Months::new(12))
        .unwrap()
        .to_string();
    let d = app
        .ok(
            "query($c: ID!) { case(id: $c) { decision { electionBarredUntil } } }",
            json!({ "c": w.case }),
        )
        .await;
    assert_eq!(
        d["case"]["decision"]["electionBarredUntil"],
        until.as_str(),
        "{d:#}"
    );
    assert_eq!(mails_of(&app, &w.case, "discipline.consequences").await, 1);
    let q = "query($m: ID!, $on: Date) { member(id: $m) { electionBarredUntil(on: $on) } }";
    let during = w.day.to_string();
    let d = app.ok(q, json!({ "m": m, "on": during })).await;
    assert_eq!(d["member"]["electionBarredUntil"], until.as_str(), "{d:#}");
    let d = app.ok(q, json!({ "m": m, "on": until })).await;
    assert!(d["member"]["electionBarredUntil"].is_null(), "{d:#}");

    // A28: an expulsion notified tells the branch to collect the card.
    let x = registered(&app, &p.b1, "Đinh Văn Khai Trừ").await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&x),
        member_case(&x, "Đinh Văn Khai Trừ", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "expulsion").await;
    w.expect(
        &secretary,
        "vote",
        branch_vote("expulsion"),
        "LimitationCheck",
    )
    .await;
    w.ok(
        &secretary,
        "propose_to_competent",
        json!({ "proposed_on": "today" }),
    )
    .await;
    let competent = json!({ "vote_date": "today", "voting_body": "standing_committee", "voting_level": "superior",
        "secret_ballot": true, "discipline_form": "expulsion", "official_members": 9,
        "votes_expulsion": 5, "votes_warning": 4, "votes_reprimand": 0 });
    w.ok(&district, "vote", competent).await;
    w.ok(
        &district,
        "impose",
        json!({ "decision_date": "today", "decision_number": "21-QĐ/HU" }),
    )
    .await;
    assert_eq!(mails_of(&app, &w.case, "card.collect").await, 0);
    w.ok(
        &secretary,
        "notify_expulsion",
        json!({ "decision_received_date": "today" }),
    )
    .await;
    assert_eq!(mails_of(&app, &w.case, "card.collect").await, 1);
}
