//! What a discipline does to the rest of the registry, through the front door: the discipline
//! register the cases write and the statistics counted from it (689 = 469/132/28/60 in the
//! demo, `targets.rs`); the transfer refused while the member is inspected (C7) or disciplined
//! (C2); the Party badge refused while a discipline is in force (C2) and by A30/A33; the
//! catalogue of violations (D42) an inspection names.

use memberflow_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

use crate::support::{holder, province, registered};
use crate::walk::{OPEN, Walk, branch_vote, date, member_case};

const FIRE_DRY: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState dryRun } }";
const STATS: &str = "query($id: ID!, $from: Date!, $to: Date!) { disciplineStatistics(unitId: $id, from: $from, to: $to) { disciplined struckOff expelled byForm { form label count } } }";
const AWARD: &str = "mutation($m: ID!, $y: Int!, $d: Date!) { awardBadge(memberId: $m, years: $y, awardDate: $d) { years awardDate } }";

/// Fires `transition` on `day` as the account of `token`.
async fn fire(
    app: &TestApp,
    token: &str,
    case: &str,
    day: &str,
    transition: &str,
    inputs: Value,
) -> Value {
    let mut w = Walk {
        app,
        case: case.to_owned(),
        day: date(day),
    };
    w.fire_on(date(day), token, transition, inputs).await
}

pub(crate) async fn ok(
    app: &TestApp,
    token: &str,
    case: &str,
    day: &str,
    transition: &str,
    inputs: Value,
) -> String {
    let r = fire(app, token, case, day, transition, inputs).await;
    assert!(r.get("errors").is_none(), "{transition} on {day}: {r:#}");
    r["data"]["fireTransition"]["toState"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The secretary of the branch that owns `case` (a fresh session of [`holder`]).
async fn secretary_of(app: &TestApp, case: &str) -> String {
    let d = app
        .ok(
            "query($id: ID!) { case(id: $id) { unit { id } } }",
            json!({ "id": case }),
        )
        .await;
    holder(app, "secretary", d["case"]["unit"]["id"].as_str().unwrap()).await
}

/// The accounts that act on a member's appeal against a branch's decision: the member
/// (`file_appeal`) and the inspection commission of the superior committee that rules on it
/// (`ruling_level = "superior"`: the district above the grassroots committee).
pub(crate) async fn appeal_roles(
    app: &TestApp,
    name: &str,
    member: &str,
    superior: &str,
) -> (String, String) {
    (
        app.account(name, &[], Some(member)).await,
        holder(app, "inspection_commission", superior).await,
    )
}

fn rules_of(r: &Value) -> Vec<String> {
    r["errors"][0]["extensions"]["rules"]
        .as_array()
        .unwrap_or_else(|| panic!("no rules: {r:#}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// Opens a discipline case about `m` in `branch` on `day` as the branch's secretary; returns
/// its id.
pub(crate) async fn open_discipline(app: &TestApp, branch: &str, m: &str, day: &str) -> String {
    let case = member_case(m, "Trần Thị Kỷ Luật", branch);
    Walk::open(
        app,
        &holder(app, "secretary", branch).await,
        "discipline_member",
        branch,
        Some(m),
        case,
        date(day),
        "Detected",
    )
    .await
    .case
}

/// Takes a discipline case opened on 2/3/2026 to a reprimand decided by the branch on 8/3 and
/// delivered on 9/3 (`AppealWindow`).
async fn reprimand(app: &TestApp, case: &str) {
    branch_decides(app, case, "reprimand").await;
}

/// The same for `form` (reprimand or warning, which a branch decides, D13), every step by the
/// branch's secretary.
pub(crate) async fn branch_decides(app: &TestApp, case: &str, form: &str) {
    let mut w = Walk {
        app,
        case: case.to_owned(),
        day: date("2026-03-02"),
    };
    let secretary = &secretary_of(app, case).await;
    w.walk_to_vote(secretary, "2026-01-15", form).await;
    w.expect(secretary, "vote", branch_vote(form), "LimitationCheck")
        .await;
    let decision =
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "02-QĐ/CB" });
    w.expect(secretary, "impose", decision, "Decided").await;
    let delivered = json!({ "decision_received_date": "today" });
    w.expect(secretary, "notify", delivered, "AppealWindow")
        .await;
}

#[tokio::test]
async fn p3_p6_the_discipline_register_follows_the_cases_and_the_statistics_count_it() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let a = registered(&app, &p.b1, "Trần Thị Kỷ Luật").await;
    let b = registered(&app, &p.b2, "Lê Văn Hai").await;
    let first = open_discipline(&app, &p.b1, &a, "2026-03-02").await;
    reprimand(&app, &first).await;
    let second = open_discipline(&app, &p.b2, &b, "2026-03-02").await;
    reprimand(&app, &second).await;
    let stats = |unit: String| {
        let app = &app;
        async move {
            app.ok(
                STATS,
                json!({ "id": unit, "from": "2026-01-01", "to": "2026-12-31" }),
            )
            .await["disciplineStatistics"]
                .clone()
        }
    };
    let s = stats(p.hg.clone()).await;
    assert_eq!(s["disciplined"], 2, "{s:#}");
    assert_eq!(
        s["byForm"],
        json!([{ "form": "reprimand", "label": "Khiển trách", "count": 2 }])
    );
    // Rolled up by the tree: each branch has its own.
    assert_eq!(stats(p.b1.clone()).await["disciplined"], 1);
    assert_eq!(stats(p.gb.clone()).await["disciplined"], 0);
    // Outside the period: none.
    let before = app
        .ok(
            STATS,
            json!({ "id": p.hg, "from": "2025-01-01", "to": "2025-12-31" }),
        )
        .await;
    assert_eq!(before["disciplineStatistics"]["disciplined"], 0);

    // The member appeals the first; the superior committee's inspection commission annuls it
    // (P6): it no longer counts.
    let (appellant, commission) = appeal_roles(&app, "khieunai-a", &a, &p.d1).await;
    ok(
        &app,
        &appellant,
        &first,
        "2026-03-20",
        "file_appeal",
        json!({ "appeal_filed_date": "today",
        "appeal_body": "inspection_commission", "appeal_level": "superior",
        "appeal_grounds": "Không vi phạm" }),
    )
    .await;
    assert_eq!(
        ok(
            &app,
            &commission,
            &first,
            "2026-04-10",
            "annul",
            json!({ "ruling_body": "inspection_commission",
            "ruling_level": "superior", "appeal_ruling_date": "today",
            "restoration": "Xin lỗi, khôi phục quyền lợi" })
        )
        .await,
        "Annulled"
    );
    let s = stats(p.hg.clone()).await;
    assert_eq!(s["disciplined"], 1, "{s:#}");
    assert_eq!(stats(p.b1.clone()).await["disciplined"], 0);

    // A warning reduced to a reprimand on appeal (P3) counts once, as a reprimand, by the day
    // of the original decision.
    let c = registered(&app, &p.b1, "Võ Văn Ba").await;
    let third = open_discipline(&app, &p.b1, &c, "2026-03-02").await;
    branch_decides(&app, &third, "warning").await;
    assert_eq!(stats(p.b1.clone()).await["byForm"][0]["form"], "warning");
    let (appellant, commission) = appeal_roles(&app, "khieunai-c", &c, &p.d1).await;
    ok(
        &app,
        &appellant,
        &third,
        "2026-03-20",
        "file_appeal",
        json!({ "appeal_filed_date": "today",
        "appeal_body": "inspection_commission", "appeal_level": "superior",
        "appeal_grounds": "Hình thức quá nặng" }),
    )
    .await;
    assert_eq!(
        ok(
            &app,
            &commission,
            &third,
            "2026-04-10",
            "rule_on_appeal",
            json!({ "appeal_outcome": "reduced",
            "discipline_form": "reprimand", "ruling_body": "inspection_commission",
            "ruling_level": "superior", "appeal_ruling_date": "today",
            "decision_received_date": "today" })
        )
        .await,
        "AppealWindow"
    );
    let s = stats(p.b1.clone()).await;
    assert_eq!(
        s["byForm"],
        json!([{ "form": "reprimand", "label": "Khiển trách", "count": 1 }]),
        "{s:#}"
    );
    let march = app
        .ok(
            STATS,
            json!({ "id": p.b1, "from": "2026-03-01", "to": "2026-03-31" }),
        )
        .await;
    assert_eq!(march["disciplineStatistics"]["disciplined"], 1, "{march:#}");

    // Bad input: a period that runs backwards.
    let r = app
        .gql(
            STATS,
            json!({ "id": p.hg, "from": "2026-12-31", "to": "2026-01-01" }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
}

async fn open_transfer(app: &TestApp, branch: &str, m: &str, day: &str) -> String {
    // No `subjectMemberId`: the subject is the member `member_id` names.
    let inputs = json!({ "member_id": m, "full_name": "Trần Thị Kỷ Luật", "unit": branch,
        "transfer_reason": "moved_residence", "effective_date": "today" });
    Walk::open(
        app,
        &holder(app, "secretary", branch).await,
        "transfer",
        branch,
        None,
        inputs,
        date(day),
        "TransferDue",
    )
    .await
    .case
}

const COMPLETE: &str = "complete_transfer";

fn letter() -> Value {
    json!({ "transferred_on": "today", "introduction_letter": "GT-01" })
}

#[tokio::test]
async fn c7_c2_a_member_is_not_transferred_while_inspected_or_while_a_discipline_is_in_force() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Trần Thị Kỷ Luật").await;
    let other = registered(&app, &p.b1, "Phạm Văn Sạch").await;
    let case = open_discipline(&app, &p.b1, &m, "2026-03-02").await;
    // The subject is found from the transfer's `member_id` even when the client leaves
    // `subjectMemberId` out.
    let transfer = open_transfer(&app, &p.b1, &m, "2026-03-03").await;
    // The branch's secretary completes a transfer.
    let secretary = holder(&app, "secretary", &p.b1).await;
    let before = app.row_counts().await;
    let r = fire(
        &app,
        &secretary,
        &transfer,
        "2026-03-03",
        COMPLETE,
        letter(),
    )
    .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert_eq!(rules_of(&r), ["C7"], "{r:#}");
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("đang bị kiểm tra hoặc xử lý kỷ luật"), "{msg}");
    // The refusal names no confidential detail of the discipline case.
    assert!(!msg.contains("Hồ sơ") && !msg.contains("Detected"), "{msg}");
    assert_eq!(app.row_counts().await, before, "a refusal writes nothing");
    // A dry run is given the same registry context as the step.
    app.set_today("2026-03-03");
    let dry = app
        .gql_as(
            &secretary,
            FIRE_DRY,
            json!({ "i": { "caseId": transfer, "transition": COMPLETE, "dryRun": true,
                "inputs": { "transferred_on": "2026-03-03", "introduction_letter": "GT-01" } } }),
        )
        .await;
    assert_eq!(rules_of(&dry), ["C7"], "{dry:#}");
    // The preview says the same before anyone tries.
    let avail = app
        .gql_as(
            &secretary,
            "query($id: ID!) { case(id: $id) { availableTransitions { name status reasons { rule } } } }",
            json!({ "id": transfer }),
        )
        .await;
    let row = avail["data"]["case"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == COMPLETE)
        .cloned()
        .unwrap();
    assert_eq!(row["status"], "REFUSED", "{avail:#}");
    assert_eq!(row["reasons"][0]["rule"], "C7", "{avail:#}");

    // Once decided, the discipline is in force until it lapses: C2.
    reprimand(&app, &case).await;
    let r = fire(
        &app,
        &secretary,
        &transfer,
        "2026-03-12",
        COMPLETE,
        letter(),
    )
    .await;
    assert_eq!(rules_of(&r), ["C2"], "{r:#}");
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("thời gian chấp hành kỷ luật"), "{msg}");

    // Another member of the branch, with nothing open, is transferred.
    let clean = open_transfer(&app, &p.b1, &other, "2026-03-12").await;
    assert_eq!(
        ok(&app, &secretary, &clean, "2026-03-13", COMPLETE, letter()).await,
        "Transferred"
    );
    // A subject named twice, differently, is bad input.
    app.set_today("2026-03-13");
    let r = app
        .gql_as(
            &secretary,
            OPEN,
            json!({ "i": { "definitionId": "transfer", "unitId": p.b1, "title": "x", "subjectMemberId": other,
                "inputs": { "member_id": m, "full_name": "x", "unit": p.b1,
                    "transfer_reason": "moved_residence", "effective_date": "2026-03-13" } } }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    // A member id that is not one, a discipline case about nobody, and one about a member of
    // another branch opened by this one: refused at the edge, nothing written.
    let elsewhere = registered(&app, &p.b2, "Đỗ Thị Khác").await;
    let before = app.row_counts().await;
    let bad = |subject: Option<&str>, member_id: Option<&str>| {
        let mut inputs = json!({ "full_name": "x", "unit": p.b1, "subject_kind": "member",
            "membership": "official", "detection_source": "supervision", "detected_on": "2026-03-13" });
        if let Some(id) = member_id {
            inputs["member_id"] = json!(id);
        }
        json!({ "i": { "definitionId": "discipline_member", "unitId": p.b1, "title": "x",
            "subjectMemberId": subject, "inputs": inputs } })
    };
    for (vars, words) in [
        (
            bad(None, Some("HG-0001")),
            "không phải là mã của một đảng viên",
        ),
        (bad(None, None), "phải nêu đảng viên"),
        (
            bad(Some(&elsewhere), Some(&elsewhere)),
            "không sinh hoạt ở đơn vị",
        ),
    ] {
        let r = app.gql_as(&secretary, OPEN, vars).await;
        assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
        let msg = r["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains(words), "{msg}");
    }
    assert_eq!(app.row_counts().await, before, "a refusal writes nothing");
}

#[tokio::test]
async fn a30_a33_c2_the_party_badge_is_awarded_by_the_rules_and_not_while_disciplined() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Admitted on 10/5/2010 (support::official_member_input): no 30-year badge before 2040.
    let m = registered(&app, &p.b1, "Trần Thị Kỷ Luật").await;
    app.set_today("2026-03-02");
    // The registry keepers award it: the province's organization department.
    let org = holder(&app, "organization_department", &p.hg).await;
    let r = app
        .gql_as(&org, AWARD, json!({ "m": m, "y": 30, "d": "2026-02-03" }))
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert_eq!(rules_of(&r), ["A33"], "{r:#}");
    let r = app
        .gql_as(&org, AWARD, json!({ "m": m, "y": 31, "d": "2026-02-03" }))
        .await;
    assert_eq!(rules_of(&r), ["A30"], "{r:#}");

    // A member admitted in 1990 reaches 30 years on 10/5/2020.
    let mut input = crate::support::official_member_input(&p.b1, "Nguyễn Văn Lâu Năm");
    input["admissionDecisionDate"] = json!("1990-05-10");
    input["ceremonyDate"] = json!("1990-06-01");
    input["officialDate"] = json!("1991-06-01");
    input["dateOfBirth"] = json!("1965-01-01");
    let secretary = holder(&app, "secretary", &p.b1).await;
    let old = app
        .ok_as(&secretary, crate::support::REGISTER, json!({ "i": input }))
        .await["registerMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = open_discipline(&app, &p.b1, &old, "2026-03-02").await;
    reprimand(&app, &case).await;
    app.set_today("2026-03-12");
    let before = app.row_counts().await;
    let r = app
        .gql_as(&org, AWARD, json!({ "m": old, "y": 30, "d": "2026-03-12" }))
        .await;
    assert_eq!(rules_of(&r), ["C2"], "{r:#}");
    assert_eq!(app.row_counts().await, before, "a refusal writes nothing");
    // C2 is judged on the discipline as it stood on the award's day: an award recorded for
    // 2/9/2021, years before this reprimand, is accepted.
    let d = app
        .gql_as(&org, AWARD, json!({ "m": old, "y": 30, "d": "2021-09-02" }))
        .await["data"]
        .clone();
    assert_eq!(d["awardBadge"]["awardDate"], "2021-09-02");
    let awards = app
        .ok(
            "query($id: ID!) { member(id: $id) { badges { years awardedOn } } }",
            json!({ "id": old }),
        )
        .await;
    assert_eq!(
        awards["member"]["badges"][0],
        json!({ "years": 30, "awardedOn": "2021-09-02" }),
        "{awards:#}"
    );

    // A member admitted on 20/8/1991, without discipline, receives it on the batch day of
    // 2/9/2021 (A32), once.
    let mut input = crate::support::official_member_input(&p.b2, "Lê Thị Sạch");
    input["admissionDecisionDate"] = json!("1991-08-20");
    input["ceremonyDate"] = json!("1991-09-01");
    input["officialDate"] = json!("1992-09-01");
    input["dateOfBirth"] = json!("1965-01-01");
    let secretary = holder(&app, "secretary", &p.b2).await;
    let clean = app
        .ok_as(&secretary, crate::support::REGISTER, json!({ "i": input }))
        .await["registerMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = app
        .gql_as(
            &org,
            AWARD,
            json!({ "m": clean, "y": 30, "d": "2021-09-02" }),
        )
        .await["data"]
        .clone();
    assert_eq!(
        d["awardBadge"],
        json!({ "years": 30, "awardDate": "2021-09-02" })
    );
    let r = app
        .gql_as(
            &org,
            AWARD,
            json!({ "m": clean, "y": 30, "d": "2022-02-03" }),
        )
        .await;
    assert_eq!(rules_of(&r), ["A30"], "{r:#}");
    let b = app
        .ok(
            "query($id: ID!) { member(id: $id) { badges(on: \"2026-03-12\") { years awardedOn } } }",
            json!({ "id": clean }),
        )
        .await;
    assert_eq!(
        b["member"]["badges"][0],
        json!({ "years": 30, "awardedOn": "2021-09-02" })
    );
}

#[tokio::test]
async fn d41_d42_the_violation_catalogue_is_read_from_the_rule_set_and_checked_at_the_conclusion() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.set_today("2026-03-02");
    let c = app
        .ok(
            "{ violationCatalogue { ruleSet violations { code article defaultForm label } aggravating mitigating } }",
            json!({}),
        )
        .await;
    let cat = &c["violationCatalogue"];
    assert_eq!(cat["ruleSet"], "R2025b");
    assert!(
        cat["violations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == "69-41.2" && v["defaultForm"] == "warning"),
        "{cat:#}"
    );
    assert!(
        cat["aggravating"]
            .as_array()
            .unwrap()
            .contains(&json!("repeated"))
    );
    let m = registered(&app, &p.b1, "Trần Thị Kỷ Luật").await;
    let case = open_discipline(&app, &p.b1, &m, "2026-03-02").await;
    let secretary = holder(&app, "secretary", &p.b1).await;
    ok(&app, &secretary, &case, "2026-03-03", "start_inspection", json!({ "inspecting_body": "branch", "inspecting_level": "branch", "inspection_decision_date": "today" })).await;
    let r = fire(
        &app,
        &secretary,
        &case,
        "2026-03-04",
        "conclude_inspection",
        json!({ "inspection_concluded_on": "today",
        "violation_end_date": "2026-01-15", "violation_category": "ordinary",
        "violation_code": "00-0", "aggravating_factors": ["unknown_factor"] }),
    )
    .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    let mut rules = rules_of(&r);
    rules.sort();
    assert_eq!(rules, ["D41", "D42"], "{r:#}");
    // Nothing recorded: the case is still under inspection.
    let s = app
        .ok(
            "query($id: ID!) { case(id: $id) { state } }",
            json!({ "id": case }),
        )
        .await;
    assert_eq!(s["case"]["state"], "Inspection");
    // A code of the catalogue and listed circumstances are recorded on the case.
    let concluded = ok(
        &app,
        &secretary,
        &case,
        "2026-03-04",
        "conclude_inspection",
        json!({ "inspection_concluded_on": "today",
        "violation_end_date": "2026-01-15", "violation_category": "ordinary",
        "violation_code": "69-41.1d", "mitigating_factors": ["first_violation"] }),
    )
    .await;
    assert_eq!(concluded, "SelfCriticism");
    let f = app
        .ok(
            "query($id: ID!) { case(id: $id) { facts } }",
            json!({ "id": case }),
        )
        .await;
    assert_eq!(f["case"]["facts"]["violation_code"], "69-41.1d", "{f:#}");
}
