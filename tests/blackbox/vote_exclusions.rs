//! A8, D33: members living their party life temporarily elsewhere leave a branch vote's
//! denominator on the vote's date, read from the registry (`recordTemporaryActivity`) as the
//! exempted are (S15); a count still typed in must agree. The preview of a case's steps reads
//! the same exclusions as the step, and the two agree. Walked as the branch's secretary.

use memberflow_tests::{TestApp, refused_by as refused, spawn_app};
use serde_json::{Value, json};

use crate::admission::{open, to_decision};
use crate::support::{province, registered};
use crate::walk::{Walk as DWalk, branch_vote, date, member_case};

const RECORD_AWAY: &str = "mutation($i: RecordTemporaryActivityInput!) {
  recordTemporaryActivity(input: $i) { from to } }";

const PREVIEW: &str = "query($id: ID!) { case(id: $id) { version availableTransitions {
  name status registryExclusions { on away exempted } } } }";

const DRY_RUN: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState dryRun } }";

/// `token` records that `member` lives their party life in another province from `from`.
async fn away(app: &TestApp, token: &str, member: &str, from: &str) {
    let r = app
        .gql_as(
            token,
            RECORD_AWAY,
            json!({ "i": { "memberId": member, "place": "Thành phố Hồ Chí Minh", "from": from } }),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
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

/// The preview's exclusions for `transition` of `case`, as `token` reads them.
async fn preview(app: &TestApp, token: &str, case: &str, transition: &str) -> Value {
    let r = app.gql_as(token, PREVIEW, json!({ "id": case })).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    r["data"]["case"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == transition)
        .unwrap_or_else(|| panic!("no {transition} in {r:#}"))["registryExclusions"]
        .clone()
}

#[tokio::test]
async fn a8_a_member_away_on_the_vote_date_leaves_the_denominator_from_the_registry() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let secretary = app
        .account("bithu", &[("secretary", Some(p.b1.as_str()))], None)
        .await;
    let x = registered(&app, &p.b1, "Trương Văn Đi Vắng").await;
    let elsewhere = registered(&app, &p.b2, "Trương Thị Chi Bộ Khác").await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    let vote = |extra: Value| {
        let mut v = json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10 });
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    // Nobody away: 6 of 10 is not two thirds.
    let r = w
        .step_as(Some(secretary.as_str()), 7, "branch_vote", vote(json!({})))
        .await;
    refused(&r, "A8");
    // The secretary records a member of the branch away from three days before (and one of
    // another branch, which changes nothing here).
    let from = (w.day - chrono::Days::new(3)).to_string();
    away(&app, &secretary, &x, &from).await;
    away(&app, &app.token, &elsewhere, &from).await;
    // The preview of the steps reads the registry as the step will: one away, none exempted.
    let pre = preview(&app, &secretary, &w.case, "branch_vote").await;
    assert_eq!(
        pre,
        json!({ "on": w.day.to_string(), "away": 1, "exempted": 0 }),
        "{pre:#}"
    );
    // A typed count the registry does not bear out is refused with its own code.
    let r = w
        .step_as(
            Some(secretary.as_str()),
            0,
            "branch_vote",
            vote(json!({ "excluded_members": 2 })),
        )
        .await;
    let vi = refused(&r, "A8");
    assert!(vi.contains("khác với sổ đảng viên"), "{vi}");
    assert!(
        reason_codes(&r).contains(&"TEMPORARY_ACTIVITY_COUNT_MISMATCH".to_owned()),
        "{r:#}"
    );
    // A vote held before the member left counts them: 6 of 10 again.
    let before = (w.day - chrono::Days::new(4)).to_string();
    let r = w
        .step_as(
            Some(secretary.as_str()),
            0,
            "branch_vote",
            vote(json!({ "branch_vote_date": before })),
        )
        .await;
    refused(&r, "A8");
    // On the vote's date they are away: 6 of 9 is two thirds. The dry run and the step agree
    // with the preview.
    let dry = app
        .gql_as(
            &secretary,
            DRY_RUN,
            json!({ "i": { "caseId": w.case, "transition": "branch_vote",
                "inputs": { "branch_vote_date": w.day.to_string(), "votes_for": 6, "official_members": 10 },
                "dryRun": true } }),
        )
        .await;
    assert_eq!(
        dry["data"]["fireTransition"],
        json!({ "toState": "BranchVoted", "dryRun": true }),
        "{dry:#}"
    );
    let r = w
        .step_as(
            Some(secretary.as_str()),
            0,
            "branch_vote",
            vote(json!({ "excluded_members": 1 })),
        )
        .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "BranchVoted",
        "{r:#}"
    );
}

#[tokio::test]
async fn d33_the_discipline_ballot_leaves_out_the_members_away_on_its_date() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Phạm Văn Vi Phạm").await;
    let x = registered(&app, &p.b1, "Đỗ Văn Công Tác Xa").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(p.b1.as_str()))], None)
        .await;
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
    // Nobody away: 5 of 10 is not more than half.
    w.day = w.day.succ_opt().unwrap();
    w.refused(&secretary, "vote", ballot.clone(), "D31").await;
    assert_eq!(
        preview(&app, &secretary, &w.case, "vote").await,
        json!({ "on": w.day.to_string(), "away": 0, "exempted": 0 })
    );
    // Away from that day: left out of the ballot's denominator.
    away(&app, &secretary, &x, &w.day.to_string()).await;
    let pre = preview(&app, &secretary, &w.case, "vote").await;
    assert_eq!(
        pre,
        json!({ "on": w.day.to_string(), "away": 1, "exempted": 0 }),
        "{pre:#}"
    );
    let mut typed = ballot.clone();
    typed["excluded_members"] = json!(0);
    let r = w.fire_on(w.day, &secretary, "vote", typed).await;
    refused(&r, "D33");
    assert!(
        reason_codes(&r).contains(&"TEMPORARY_ACTIVITY_COUNT_MISMATCH".to_owned()),
        "{r:#}"
    );
    // 5 of 9 is more than half: the dry run and the step say so.
    let dry = app
        .gql_as(
            &secretary,
            DRY_RUN,
            json!({ "i": { "caseId": w.case, "transition": "vote",
                "inputs": crate::walk::on_day(&ballot, w.day), "dryRun": true } }),
        )
        .await;
    assert_eq!(
        dry["data"]["fireTransition"]["toState"], "LimitationCheck",
        "{dry:#}"
    );
    let r = w.fire_on(w.day, &secretary, "vote", ballot).await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "LimitationCheck",
        "{r:#}"
    );
}

#[tokio::test]
async fn the_preview_of_a_vote_shows_what_the_registry_leaves_out_but_not_to_the_member_concerned()
{
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Lý Văn Đương Sự").await;
    let x = registered(&app, &p.b1, "Lý Thị Đi Học").await;
    let y = registered(&app, &p.b1, "Lý Văn Cao Tuổi").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(p.b1.as_str()))], None)
        .await;
    let subject = app.account("duongsu", &[], Some(&m)).await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Lý Văn Đương Sự", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "reprimand").await;
    // Away and exempted (S15) both: counted once, as away; another exempted.
    away(&app, &secretary, &x, "2026-01-01").await;
    for who in [&x, &y] {
        let r = app
            .gql_as(
                &secretary,
                "mutation($m: ID!) { exemptMember(memberId: $m, ground: \"elderly\", decision: \"01-NQ/CB\", validFrom: \"2026-01-01\") { id } }",
                json!({ "m": who }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r:#}");
    }
    let pre = preview(&app, &secretary, &w.case, "vote").await;
    assert_eq!(
        pre,
        json!({ "on": w.day.to_string(), "away": 1, "exempted": 1 }),
        "{pre:#}"
    );
    // A step that is not a vote shows none.
    assert_eq!(
        preview(&app, &secretary, &w.case, "defer").await,
        Value::Null
    );
    // The member concerned reads their case, not the branch's registry.
    let r = app.gql_as(&subject, PREVIEW, json!({ "id": w.case })).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let steps = r["data"]["case"]["availableTransitions"]
        .as_array()
        .unwrap();
    assert!(steps.iter().any(|a| a["name"] == "vote"), "{r:#}");
    for a in steps {
        assert_eq!(a["registryExclusions"], Value::Null, "{r:#}");
    }
}

const VOTES: &str = "query($id: ID!) { case(id: $id) { votes { seq recorded eligible excluded
  excludedAway excludedExempted excludedFrom denominator votesFor notInFavour required passed } } }";

/// The votes of `case` as `token` reads them (`Case.votes`).
async fn votes(app: &TestApp, token: &str, case: &str) -> Vec<Value> {
    let r = app.gql_as(token, VOTES, json!({ "id": case })).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    r["data"]["case"]["votes"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a8_the_case_votes_show_the_denominator_the_registry_gave_the_step() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let secretary = app
        .account("bithu", &[("secretary", Some(p.b1.as_str()))], None)
        .await;
    let x = registered(&app, &p.b1, "Trương Văn Đi Vắng").await;
    let y = registered(&app, &p.b1, "Trương Thị Cao Tuổi").await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    // One member away from three days before the vote, one exempted (S15) and absent: the
    // inputs type neither count.
    let from = (w.day - chrono::Days::new(3)).to_string();
    away(&app, &secretary, &x, &from).await;
    let r = app
        .gql_as(
            &secretary,
            "mutation($m: ID!, $f: Date!) { exemptMember(memberId: $m, ground: \"elderly\", decision: \"02-NQ/CB\", validFrom: $f) { id } }",
            json!({ "m": y, "f": from }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r:#}");
    let r = w
        .step_as(
            Some(secretary.as_str()),
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10 }),
        )
        .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "BranchVoted",
        "6 of 8 is two thirds: {r:#}"
    );
    // The case's votes show what the step was decided on: 10 members, 2 left out by the
    // registry (1 away, 1 exempted and absent), 6 of 8, passed.
    let v = votes(&app, &secretary, &w.case).await;
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(
        v[0],
        json!({ "seq": v[0]["seq"], "recorded": true, "eligible": 10, "excluded": 2,
            "excludedAway": 1, "excludedExempted": 1, "excludedFrom": "REGISTRY",
            "denominator": 8, "votesFor": 6, "notInFavour": 2, "required": 6, "passed": true }),
        "{v:#?}"
    );
    // Read later, after the member came back, the vote still shows the registry of its day.
    crate::support::member_back(&app, &p.b1, &x, &w.day.succ_opt().unwrap().to_string()).await;
    let again = votes(&app, &secretary, &w.case).await;
    assert_eq!(again, v);
}
