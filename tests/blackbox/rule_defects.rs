//! Rules closer to the law: defects a committee found by trying the rules through GraphQL, each
//! with the test that failed before the fix, and the weak spots of the other tests (the expiry
//! day of a limitation period, a refusal at the competent body's majority, the steps of the
//! competent committee walked as the real roles rather than as an account holding every role).

use memberflow_tests::{TestApp, error_code, refused_by as refused, spawn_app};
use serde_json::{Value, json};

use crate::admission::{Walk, open, to_competent, to_decision, to_verified, vote_to_ceremony};
use crate::discipline::Scheduler;
use crate::support::{REGISTER, holder, official_member_input, province, registered};
use crate::walk::{Walk as DWalk, branch_vote, date, member_case};

fn rules_of(r: &Value) -> Vec<String> {
    r["errors"][0]["extensions"]["rules"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
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
    let district = holder(&app, "standing_committee", &p.d1).await;
    let provincial = holder(&app, "standing_committee", &p.hg).await;
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
    let district = holder(&app, "standing_committee", &p.d1).await;
    let provincial = holder(&app, "standing_committee", &p.hg).await;
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

// Defect 2 ------------------------------------------------------------------------------------

#[tokio::test]
async fn a6_a_registered_introducer_is_taken_from_the_registry_not_from_the_request() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let official = registered(&app, &p.b2, "Trần Văn Chính Thức").await;
    let mut input = official_member_input(&p.b1, "Lê Thị Dự Bị");
    input["status"] = json!("PROBATIONARY");
    input["officialDate"] = Value::Null;
    input["admissionDecisionDate"] = json!("2025-01-10");
    input["ceremonyDate"] = json!("2025-02-01");
    let secretary = holder(&app, "secretary", &p.b1).await;
    let probationary =
        app.ok_as(&secretary, REGISTER, json!({ "i": input })).await["registerMember"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let elsewhere = registered(&app, &p.gb, "Phạm Văn Nơi Khác").await;
    let mut w = open(&app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_verified(&mut w).await;
    let named = |a: &str, b: &str| {
        json!({ "introducer_1": a, "introducer_1_official": true, "introducer_1_since": "2020-01-01",
                "introducer_2": b, "introducer_2_official": true, "introducer_2_since": "2020-01-01" })
    };
    // The request says "official"; the registry says probationary on the day: refused.
    let r = w
        .step(1, "record_introducers", named(&official, &probationary))
        .await;
    let vi = refused(&r, "A6");
    assert!(
        vi.contains("người giới thiệu Lê Thị Dự Bị là đảng viên dự bị vào ngày"),
        "{vi}"
    );
    // An official member of another grassroots organization: refused.
    let r = w
        .step(0, "record_introducers", named(&official, &elsewhere))
        .await;
    let vi = refused(&r, "A6");
    assert!(
        vi.contains(
            "Phạm Văn Nơi Khác sinh hoạt ở Đơn vị HG-D2-Y (HG-D2-Y), không cùng tổ chức cơ sở đảng"
        ),
        "{vi}"
    );
    // A registered official member of the same grassroots organization (another branch of
    // it) needs no flag from the request.
    let r = w
        .ok(
            0,
            "record_introducers",
            json!({ "introducer_1": official, "introducer_1_since": "2020-01-01",
                    "introducer_2": "M-102", "introducer_2_official": true, "introducer_2_since": "2020-01-01" }),
        )
        .await;
    assert_eq!(r["toState"], "IntroducersRecorded");
}

// Defects 3 and 5, and the end of the C2 bar -------------------------------------------------

const OPEN_ON: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id state history { transition effectiveDate } } } }";
const FIRE_ON: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState dryRun } }";
const HISTORY: &str =
    "query($id: ID!) { case(id: $id) { state history { transition effectiveDate } } }";

/// The history of a case: (transition, effective date).
async fn history(app: &TestApp, case: &str) -> Vec<(String, String)> {
    let c = app.ok(HISTORY, json!({ "id": case })).await;
    c["case"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["transition"].as_str().unwrap().to_owned(),
                e["effectiveDate"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `transition` on `case` dated `on` (`dry`: decided, not recorded), as the account of
/// `token`.
async fn fire_dated(
    app: &TestApp,
    token: &str,
    case: &str,
    on: &str,
    transition: &str,
    inputs: Value,
    dry: bool,
) -> Value {
    app.gql_as(
        token,
        FIRE_ON,
        json!({ "i": { "caseId": case, "transition": transition, "on": on, "dryRun": dry,
            "inputs": inputs } }),
    )
    .await
}

#[tokio::test]
async fn c2_c1_a_late_step_reads_the_discipline_of_its_own_date_and_automatic_steps_are_dated_when_due()
 {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Trần Thị Kỷ Luật").await;
    let scheduler = Scheduler::new(&app).await;
    // Every step is the branch's, fired by its secretary.
    let secretary = holder(&app, "secretary", &p.b1).await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Trần Thị Kỷ Luật", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2026-01-15", "reprimand")
        .await;
    w.branch_decides_and_notifies(&secretary, "02-QĐ/CB").await;
    // Decided 8/3/2026, received 9/3: the window closes after 21/4 (30 working days), the
    // reprimand lapses on 8/3/2027 (C1).
    let window_end = w.deadline("appeal_window").await.unwrap();
    // The sweep runs late, a week after the window's last day: the closing step is dated the
    // day the window ended, not the day of the sweep (defect 5).
    scheduler
        .sweep(&app, window_end + chrono::Days::new(7))
        .await;
    assert_eq!(w.state().await, "InForce");
    let h = history(&app, &w.case).await;
    assert_eq!(
        h.last().unwrap(),
        &("close_appeal_window".to_owned(), window_end.to_string())
    );

    // A transfer whose events happened in June 2026, recorded a year later: the case opens on
    // the day of its first event (openCase `on:`), and its history starts there.
    app.set_today("2027-03-20");
    let opened = app
        .gql_as(
            &secretary,
            OPEN_ON,
            json!({ "i": { "definitionId": "transfer", "unitId": p.b1, "title": "Chuyển sinh hoạt",
                "on": "2026-06-01",
                "inputs": { "member_id": m, "full_name": "Trần Thị Kỷ Luật", "unit": p.b1,
                    "transfer_reason": "moved_residence", "effective_date": "2026-06-01" } } }),
        )
        .await;
    let opened = &opened["data"];
    let transfer = opened["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        opened["openCase"]["case"]["history"][0]["effectiveDate"],
        "2026-06-01"
    );
    let letter = |d: &str| json!({ "transferred_on": d, "introduction_letter": "GT-01" });
    // On 10/6/2026 the reprimand was in force: C2, even though the case reads `InForce` only
    // until the lapse, and even once it has lapsed (below).
    let r = fire_dated(
        &app,
        &secretary,
        &transfer,
        "2026-06-10",
        "complete_transfer",
        letter("2026-06-10"),
        true,
    )
    .await;
    refused(&r, "C2");
    // The day before the lapse, still barred; on the lapse day itself the bar has ended, even
    // before the scheduler has fired the lapse (C1 takes effect by itself).
    let r = fire_dated(
        &app,
        &secretary,
        &transfer,
        "2027-03-07",
        "complete_transfer",
        letter("2027-03-07"),
        true,
    )
    .await;
    refused(&r, "C2");
    let r = fire_dated(
        &app,
        &secretary,
        &transfer,
        "2027-03-08",
        "complete_transfer",
        letter("2027-03-08"),
        true,
    )
    .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "Transferred",
        "{r:#}"
    );

    // The sweep of 20/3/2027 lapses the reprimand, dated 8/3/2027 (defect 5).
    scheduler.sweep(&app, date("2027-03-20")).await;
    assert_eq!(w.state().await, "Lapsed");
    let h = history(&app, &w.case).await;
    assert_eq!(
        h.last().unwrap(),
        &("lapse".to_owned(), "2027-03-08".to_owned())
    );
    let dates: Vec<&String> = h.iter().map(|(_, d)| d).collect();
    assert!(dates.windows(2).all(|d| d[0] <= d[1]), "{h:?}");

    // The discipline case is closed now; a step dated 10/6/2026 still reads the reprimand in
    // force that day (defect 3), and writes nothing.
    let before = app.row_counts().await;
    let r = fire_dated(
        &app,
        &secretary,
        &transfer,
        "2026-06-10",
        "complete_transfer",
        letter("2026-06-10"),
        false,
    )
    .await;
    refused(&r, "C2");
    assert_eq!(app.row_counts().await, before);
    // Dated on the lapse day, the transfer goes through.
    let r = fire_dated(
        &app,
        &secretary,
        &transfer,
        "2027-03-08",
        "complete_transfer",
        letter("2027-03-08"),
        false,
    )
    .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "Transferred",
        "{r:#}"
    );
}

#[tokio::test]
async fn a_case_opens_on_a_past_date_but_never_in_the_future_and_its_steps_keep_date_order() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.set_today("2025-09-20");
    let secretary = holder(&app, "secretary", &p.b1).await;
    let inputs = json!({ "person_id": "P-001", "full_name": "Nguyễn Văn An", "date_of_birth": "1995-03-02",
        "unit": p.b1, "education_level": "upper_secondary", "helper_member": "M-100" });
    let r = app
        .gql_as(
            &secretary,
            OPEN_ON,
            json!({ "i": { "definitionId": "admission", "unitId": p.b1, "title": "An", "on": "2025-09-21", "inputs": inputs } }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    let opened = app
        .gql_as(
            &secretary,
            OPEN_ON,
            json!({ "i": { "definitionId": "admission", "unitId": p.b1, "title": "An", "on": "2025-09-01", "inputs": inputs } }),
        )
        .await;
    assert!(opened.get("errors").is_none(), "{opened:#}");
    let case = opened["data"]["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cert = json!({ "certificate_date": "2025-06-10" });
    // Before the opening: refused, with its code, and nothing is written.
    let before = app.row_counts().await;
    let r = fire_dated(
        &app,
        &secretary,
        &case,
        "2025-08-31",
        "record_awareness_certificate",
        cert.clone(),
        false,
    )
    .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert_eq!(
        r["errors"][0]["extensions"]["reasons"][0]["code"], "STEP_OUT_OF_ORDER",
        "{r:#}"
    );
    assert_eq!(app.row_counts().await, before);
    let r = fire_dated(
        &app,
        &secretary,
        &case,
        "2025-09-05",
        "record_awareness_certificate",
        cert,
        false,
    )
    .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    assert_eq!(
        history(&app, &case).await,
        [
            ("open".to_owned(), "2025-09-01".to_owned()),
            (
                "record_awareness_certificate".to_owned(),
                "2025-09-05".to_owned()
            )
        ]
    );
}

// Defect 4 ------------------------------------------------------------------------------------

#[tokio::test]
async fn d38_p1_the_member_reads_the_decision_and_appeal_rights_never_the_votes_and_the_mail_states_it()
 {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Phạm Thị Khiển Trách").await;
    let secretary = holder(&app, "secretary", &p.b1).await;
    let subject = app.account("khientrach", &[], Some(&m)).await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Phạm Thị Khiển Trách", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2026-01-15", "reprimand")
        .await;
    w.branch_decides_and_notifies(&secretary, "03-QĐ/CB").await;
    let q = "query($id: ID!) { case(id: $id) { state facts history { inputs payload } \
        decision { form formLabel number decidedOn body receivedOn appealDueBy lapsesOn appealRights } } }";
    let r = app.gql_as(&subject, q, json!({ "id": w.case })).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let c = &r["data"]["case"];
    let d = &c["decision"];
    assert_eq!(d["form"], "reprimand", "{c:#}");
    assert_eq!(d["formLabel"], "Khiển trách");
    assert_eq!(d["number"], "03-QĐ/CB");
    assert_eq!(d["decidedOn"], "2026-03-08");
    assert_eq!(d["body"], "chi bộ");
    assert_eq!(d["receivedOn"], "2026-03-09");
    assert_eq!(d["lapsesOn"], "2027-03-08");
    let due = d["appealDueBy"].as_str().unwrap().to_owned();
    let rights = d["appealRights"].as_str().unwrap();
    assert!(rights.contains("có quyền khiếu nại"), "{rights}");
    assert!(
        rights.contains(&format!("hạn cuối: {}", dmy(&due))),
        "{rights}"
    );
    // Never the votes, nor what the bodies recorded.
    assert_eq!(c["facts"], json!({}), "{c:#}");
    assert!(
        c["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["inputs"] == json!({}) && e["payload"] == json!({})),
        "{c:#}"
    );
    assert!(!c.to_string().contains("votes_reprimand"), "{c:#}");
    let v = app
        .gql_as(
            &subject,
            "query($id: ID!) { case(id: $id) { votes { votesFor } } }",
            json!({ "id": w.case }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v:#}");
    // In English, for a reader who asks for it.
    let en = app.gql_lang(q, json!({ "id": w.case }), Some("en")).await;
    assert_eq!(
        en["data"]["case"]["decision"]["formLabel"], "reprimand",
        "{en:#}"
    );
    assert!(
        en["data"]["case"]["decision"]["appealRights"]
            .as_str()
            .unwrap()
            .contains("you may appeal"),
        "{en:#}"
    );

    // The notification mail to the member states the decision.
    let rows = app
        .ok(
            "query($c: ID!) { outbox(caseId: $c) { id kind payload } }",
            json!({ "c": w.case }),
        )
        .await;
    let row = rows["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["payload"].to_string().contains("discipline.notified"))
        .unwrap_or_else(|| panic!("{rows:#}"))
        .clone();
    let pv = app
        .ok(
            "query($id: ID!) { mailPreview(id: $id) { subject text } }",
            json!({ "id": row["id"] }),
        )
        .await;
    let text = pv["mailPreview"]["text"].as_str().unwrap();
    for line in [
        "Hình thức kỷ luật: Khiển trách",
        "Số quyết định: 03-QĐ/CB",
        "Ngày quyết định: 08/03/2026",
        "Cấp quyết định: chi bộ",
        "Ngày nhận quyết định: 09/03/2026",
        "có quyền khiếu nại",
    ] {
        assert!(text.contains(line), "{line} not in {text}");
    }
}

/// `YYYY-MM-DD` as `DD/MM/YYYY`.
fn dmy(iso: &str) -> String {
    let p: Vec<&str> = iso.split('-').collect();
    format!("{}/{}/{}", p[2], p[1], p[0])
}

// Weak spots ----------------------------------------------------------------------------------

/// A warning voted by the branch on 7/3/2026 for a violation that ended on `ended`, walked by
/// the branch secretary up to `LimitationCheck`.
async fn warning_voted<'a>(
    app: &'a TestApp,
    p: &crate::support::Province,
    ended: &str,
) -> (DWalk<'a>, String) {
    let m = registered(app, &p.b1, "Hoàng Văn Cảnh Cáo").await;
    let secretary = holder(app, "secretary", &p.b1).await;
    let mut w = DWalk::open(
        app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Hoàng Văn Cảnh Cáo", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, ended, "warning")
        .await;
    (w, secretary)
}

#[tokio::test]
async fn d7_a_warning_can_be_imposed_on_the_last_day_of_its_10_year_limitation_period() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Ended 8/3/2016: the 10 years end on 8/3/2026, the day of the decision, which is still
    // within the period.
    let (mut w, secretary) = warning_voted(&app, &p, "2016-03-08").await;
    let vi = w.refused(&secretary, "time_barred", json!({}), "D7").await;
    assert!(vi.contains("Chưa hết thời hiệu"), "{vi}");
    w.expect(
        &secretary,
        "impose",
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "04-QĐ/CB" }),
        "Decided",
    )
    .await;
    assert_eq!(w.day, date("2026-03-08"));
}

#[tokio::test]
async fn d7_a_warning_is_time_barred_the_day_after_its_10_years() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Ended 7/3/2016: the 10 years ended on 7/3/2026, the day before the decision (not 5
    // years: a warning's period is the longer one).
    let (mut w, secretary) = warning_voted(&app, &p, "2016-03-07").await;
    w.day = date("2026-03-08");
    let vi = w
        .refused(
            &secretary,
            "impose",
            json!({ "decision_date": "today", "announced_on": "today", "decision_number": "04-QĐ/CB" }),
            "D7",
        )
        .await;
    assert!(vi.contains("10 năm"), "{vi}");
    assert!(vi.contains("07/03/2026"), "{vi}");
    let r = w.fire_on(w.day, &secretary, "time_barred", json!({})).await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "TimeBarred",
        "{r:#}"
    );
}

#[tokio::test]
async fn d34_a_branch_warning_takes_effect_on_the_day_its_vote_is_announced() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Đinh Văn Công Bố").await;
    let secretary = holder(&app, "secretary", &p.b1).await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Đinh Văn Công Bố", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2025-06-01", "warning")
        .await;
    // The branch voted and announced the warning on the day of its meeting; the written
    // decision is drafted the next day.
    let announced = w.day.to_string();
    let next = w.day.succ_opt().unwrap();
    let vi = w
        .refused(
            &secretary,
            "impose",
            json!({ "decision_date": next.to_string(), "announced_on": announced,
                "decision_number": "05-QĐ/CB" }),
            "D34",
        )
        .await;
    assert!(vi.contains("công bố kết quả biểu quyết"), "{vi}");
    // Dated the day of the announcement, it is decided and in force from that day.
    let r = w
        .fire_on(
            next,
            &secretary,
            "impose",
            json!({ "decision_date": announced, "announced_on": announced,
                "decision_number": "05-QĐ/CB" }),
        )
        .await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Decided", "{r:#}");
    let in_force = |on: String| {
        let app = &app;
        let m = m.clone();
        async move {
            app.ok(
                "query($m: ID!, $on: Date) { member(id: $m) { disciplineInForce(on: $on) { form decisionDate } } }",
                json!({ "m": m, "on": on }),
            )
            .await["member"]["disciplineInForce"]
                .clone()
        }
    };
    assert_eq!(
        in_force(announced.clone()).await,
        json!([{ "form": "warning", "decisionDate": announced }])
    );
    let before = (date(&announced) - chrono::Days::new(1)).to_string();
    assert_eq!(in_force(before).await, json!([]));
}

/// A discipline case against the grassroots committee X for a violation that ended on the day
/// the decision will be taken less `back` months plus `extra` days, walked by the district's
/// inspection commission and voted (`form`) by the district's standing committee, its direct
/// superior (D19), up to `LimitationCheck`. Returns the walk and the standing committee.
async fn organisation_voted<'a>(
    app: &'a TestApp,
    p: &crate::support::Province,
    form: &str,
    back: u32,
    extra: u64,
) -> (DWalk<'a>, String) {
    let district = holder(app, "standing_committee", &p.d1).await;
    let ic = holder(app, "inspection_commission", &p.d1).await;
    let start = date("2026-03-02");
    // Opened, inspected, concluded, self-criticised and voted one day apart: decided on the 5th day.
    let decided = start + chrono::Days::new(5);
    let ended = decided - chrono::Months::new(back) - chrono::Days::new(extra);
    let mut w = DWalk::open(
        app,
        &ic,
        "discipline_organization",
        &p.gc,
        None,
        json!({ "organisation_id": p.gc, "organisation_name": "Đảng bộ xã X",
            "subject_kind": "organisation", "subject_level": "grassroots",
            "detection_source": "supervision", "detected_on": "today" }),
        start,
        "Detected",
    )
    .await;
    w.expect(
        &ic,
        "start_inspection",
        json!({ "inspecting_body": "inspection_commission", "inspecting_level": "superior",
            "inspection_decision_date": "today" }),
        "Inspection",
    )
    .await;
    w.expect(
        &ic,
        "conclude_inspection",
        json!({ "inspection_concluded_on": "today", "violation_end_date": ended.to_string(),
            "violation_category": "ordinary" }),
        "SelfCriticism",
    )
    .await;
    w.expect(
        &ic,
        "record_self_criticism",
        json!({ "self_criticism_date": "today", "proposed_form": form }),
        "Vote",
    )
    .await;
    let (warning, reprimand) = if form == "warning" { (7, 1) } else { (1, 7) };
    w.expect(
        &district,
        "vote",
        json!({ "vote_date": "today", "voting_body": "standing_committee", "voting_level": "superior",
            "secret_ballot": true, "discipline_form": form, "votes_warning": warning,
            "votes_reprimand": reprimand, "official_members": 9 }),
        "LimitationCheck",
    )
    .await;
    assert_eq!(w.day.succ_opt().unwrap(), decided);
    (w, district)
}

/// The decision of the walk, the day after the vote.
fn organisation_decision() -> Value {
    json!({ "decision_date": "today", "decision_number": "20-QĐ/HU" })
}

#[tokio::test]
async fn d8_an_organisation_is_reprimanded_on_the_last_day_of_5_years_and_not_the_day_after() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Ended 5 years before the decision to the day: the last day of the period.
    let (mut w, district) = organisation_voted(&app, &p, "reprimand", 60, 0).await;
    w.day = w.day.succ_opt().unwrap();
    let vi = w.refused(&district, "time_barred", json!({}), "D8").await;
    assert!(vi.contains("Chưa hết thời hiệu"), "{vi}");
    let r = w
        .fire_on(w.day, &district, "impose", organisation_decision())
        .await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Decided", "{r:#}");

    // One day more: time-barred (5 years for an organisation's reprimand, D8).
    let app = spawn_app().await;
    let p = province(&app).await;
    let (mut w, district) = organisation_voted(&app, &p, "reprimand", 60, 1).await;
    w.day = w.day.succ_opt().unwrap();
    let vi = w
        .refused(&district, "impose", organisation_decision(), "D8")
        .await;
    assert!(vi.contains("5 năm"), "{vi}");
    let r = w.fire_on(w.day, &district, "time_barred", json!({})).await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "TimeBarred",
        "{r:#}"
    );
}

#[tokio::test]
async fn d8_an_organisation_warning_runs_10_years_past_the_5_of_a_reprimand() {
    let app = spawn_app().await;
    let p = province(&app).await;
    // Seven years on: too late for a reprimand, inside the warning's 10 years.
    let (mut w, district) = organisation_voted(&app, &p, "warning", 84, 0).await;
    w.day = w.day.succ_opt().unwrap();
    let r = w
        .fire_on(w.day, &district, "impose", organisation_decision())
        .await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Decided", "{r:#}");

    // Ten years and a day: time-barred even for a warning.
    let app = spawn_app().await;
    let p = province(&app).await;
    let (mut w, district) = organisation_voted(&app, &p, "warning", 120, 1).await;
    w.day = w.day.succ_opt().unwrap();
    let vi = w
        .refused(&district, "impose", organisation_decision(), "D8")
        .await;
    assert!(vi.contains("10 năm"), "{vi}");
}

#[tokio::test]
async fn d31_four_of_nine_is_not_the_majority_the_branch_needs_for_a_reprimand() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Phạm Thị Khiển Trách").await;
    let secretary = holder(&app, "secretary", &p.b1).await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Phạm Thị Khiển Trách", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "reprimand").await;
    let mut ballot = branch_vote("reprimand");
    ballot["official_members"] = json!(9);
    ballot["votes_reprimand"] = json!(4);
    w.day = w.day.succ_opt().unwrap();
    let vi = w.refused(&secretary, "vote", ballot.clone(), "D31").await;
    assert!(!vi.is_empty());
    // Five of nine is more than half.
    ballot["votes_reprimand"] = json!(5);
    let r = w.fire_on(w.day, &secretary, "vote", ballot).await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "LimitationCheck",
        "{r:#}"
    );
}

/// An admission walked to the recognition vote, the branch's steps fired by its secretary.
async fn to_recognition<'a>(
    app: &'a TestApp,
    p: &crate::support::Province,
    proposal: &str,
) -> (Walk<'a>, String) {
    let secretary = holder(app, "secretary", &p.b1).await;
    let mut w = open(app, &p.b1, "2025-09-01", "1995-03-02").await;
    to_decision(&mut w).await;
    vote_to_ceremony(&mut w).await;
    let r = w
        .step_as(Some(&secretary), 360, "open_recognition_vote", json!({}))
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let r = w
        .step_as(
            Some(&secretary),
            7,
            "recognition_vote",
            json!({ "recognition_vote_date": "today", "proposal": proposal, "votes_for": 8, "official_members": 10 }),
        )
        .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "RecognitionPending",
        "{r:#}"
    );
    (w, secretary)
}

#[tokio::test]
async fn a14_only_the_competent_committee_recognises_and_not_the_branch_the_grassroots_or_the_province()
 {
    let app = spawn_app().await;
    let p = province(&app).await;
    let (mut w, secretary) = to_recognition(&app, &p, "recognise").await;
    let grassroots = holder(&app, "executive_committee", &p.gc).await;
    let provincial = holder(&app, "standing_committee", &p.hg).await;
    let district = holder(&app, "standing_committee", &p.d1).await;
    let other_secretary = holder(&app, "secretary", &p.b2).await;
    let decision = json!({ "decision_date": "today", "decision_number": "45-QĐ/HU" });
    for token in [&secretary, &other_secretary, &grassroots, &provincial] {
        let r = w
            .step_as(Some(token), 1, "recognise", decision.clone())
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    let r = w.step_as(Some(&district), 0, "recognise", decision).await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Official", "{r:#}");
}

#[tokio::test]
async fn a14_d4_only_the_competent_committee_strikes_the_name_off() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let (mut w, secretary) = to_recognition(&app, &p, "strike_off").await;
    let grassroots = holder(&app, "executive_committee", &p.gc).await;
    let other_district = holder(&app, "standing_committee", &p.d2).await;
    let district = holder(&app, "standing_committee", &p.d1).await;
    let other_secretary = holder(&app, "secretary", &p.b2).await;
    let decision = json!({ "decision_date": "today", "decision_number": "46-QĐ/HU", "strike_off_reason": "Vi phạm tư cách" });
    for token in [&secretary, &other_secretary, &grassroots, &other_district] {
        let r = w
            .step_as(Some(token), 1, "strike_off", decision.clone())
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    let r = w.step_as(Some(&district), 0, "strike_off", decision).await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "StruckOff", "{r:#}");
}

#[tokio::test]
async fn d34_without_an_announcement_day_a_branch_warning_is_dated_the_day_of_its_vote() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Trịnh Văn Họp").await;
    let secretary = holder(&app, "secretary", &p.b1).await;
    let mut w = DWalk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Trịnh Văn Họp", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2025-06-01", "warning")
        .await;
    // No announcement day recorded: the result was announced at the meeting, so the decision
    // recorded the next day and dated that day is refused, naming the vote's day.
    let voted = w.day;
    let next = voted.succ_opt().unwrap();
    let r = w
        .fire_on(
            next,
            &secretary,
            "impose",
            json!({ "decision_date": next.to_string(), "decision_number": "06-QĐ/CB" }),
        )
        .await;
    let vi = refused(&r, "D34");
    let voted_vi = voted.format("%d/%m/%Y").to_string();
    assert!(vi.contains(&format!("ngày họp {voted_vi}")), "{vi}");
    assert!(
        r.to_string()
            .contains(&format!("dated the day of the vote, {voted_vi}")),
        "{r:#}"
    );
    assert_eq!(w.state().await, "LimitationCheck");
    // Dated the vote's day (recorded the day after), it is decided and in force from the vote.
    let r = w
        .fire_on(
            next,
            &secretary,
            "impose",
            json!({ "decision_date": voted.to_string(), "decision_number": "06-QĐ/CB" }),
        )
        .await;
    assert_eq!(r["data"]["fireTransition"]["toState"], "Decided", "{r:#}");
    let in_force = |on: chrono::NaiveDate| {
        let app = &app;
        let m = m.clone();
        async move {
            app.ok(
                "query($m: ID!, $on: Date) { member(id: $m) { disciplineInForce(on: $on) { form decisionDate } } }",
                json!({ "m": m, "on": on.to_string() }),
            )
            .await["member"]["disciplineInForce"]
                .clone()
        }
    };
    assert_eq!(
        in_force(voted).await,
        json!([{ "form": "warning", "decisionDate": voted.to_string() }])
    );
    assert_eq!(in_force(voted.pred_opt().unwrap()).await, json!([]));
}
