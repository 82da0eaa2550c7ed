//! Discipline through the front door, with its consequences in the registry: an expulsion
//! proposed by the branch and decided by the competent committee ends the membership from the
//! decision (D2, D13, D31, D36); the member appeals as themselves (P1); an annulment gives the
//! membership back, in the same branch, from the annulment (P6). Each step is taken by the
//! account whose role the workflow names.
//!
//! Then long walks named after their rules, each checking the case's state after every step
//! and every refusal's code and rule id: a reprimand that lapses after 12 months (C1), the
//! limitation checked after the vote (D12, D7, D9), the two readings of the appeal window
//! (P1), a deferral while the member nurses a child (D29), an organisation disciplined by its
//! direct superior (D19), a name struck off and restored on appeal (D4, D5, P6). What the
//! scheduler does — closing an appeal window, lapsing a decision, resuming a deferral — is done
//! by its daily sweep, run by hand the way its loop runs it (the harness switches the loop
//! off): the transitions it fires are `system`-only, and nobody can fire them through GraphQL.
//! Last, a branch secretary cannot decide an expulsion by naming the district's standing
//! committee as the voting body: the actor must speak for the body a step names (D13).

use std::sync::Arc;

use base64::Engine as _;
use sea_orm::ConnectionTrait as _;

use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc};
use memberflow_tests::{TestApp, error_code, refused_by, spawn_app};
use memberflow_worker::{Job, Recipients, Schedules, Worker, WorkerOptions, vietnam_offset};
use serde_json::json;

use crate::support::{holder, province, registered};
use crate::walk::{OPEN, Walk, branch_vote, date, member_case, on_day};

const STATUS: &str =
    "query($id: ID!, $on: Date) { member(id: $id) { status(on: $on) unit(on: $on) { code } } }";
/// `d` as the rules' texts write it (`dd/mm/yyyy`).
fn vn(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// The member's status and branch on `on`.
async fn status_on(app: &TestApp, m: &str, on: NaiveDate) -> (String, Option<String>) {
    let s = app
        .ok(STATUS, json!({ "id": m, "on": on.to_string() }))
        .await;
    (
        s["member"]["status"].as_str().unwrap().to_owned(),
        s["member"]["unit"]["code"].as_str().map(str::to_owned),
    )
}

/// The scheduler's daily sweep, run by hand: the harness switches the server's loop off, and
/// this is the call that loop makes each morning (`Worker::run_job(DailySweep)`): the notices
/// of passed deadlines, and the escalations their definitions name, fired as `system`.
pub(crate) struct Scheduler {
    worker: Worker,
}

impl Scheduler {
    pub(crate) async fn new(app: &TestApp) -> Self {
        let store = memberflow_store::Store::connect(app.database_url())
            .await
            .unwrap();
        let catalog =
            memberflow_server::load_catalog(&memberflow_server::Config::default()).unwrap();
        let worker = Worker::new(
            store,
            None,
            Schedules::default(),
            Recipients::default(),
            WorkerOptions::default(),
        )
        .with_catalog(Arc::new(catalog));
        Self { worker }
    }

    /// The sweep of `day`, at 07:00 in Vietnam (its default schedule).
    pub(crate) async fn sweep(&self, app: &TestApp, day: NaiveDate) {
        let tick: DateTime<Utc> = vietnam_offset()
            .from_local_datetime(&day.and_hms_opt(7, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        app.set_now(tick);
        self.worker.run_job(Job::DailySweep, tick).await.unwrap();
    }
}

#[tokio::test]
async fn d36_p6_an_expulsion_ends_the_membership_from_the_decision_and_an_annulment_restores_it() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Nguyễn Văn Vi Phạm").await;
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
        day: date("2026-03-02"),
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
    // The vote is this branch's: another branch's secretary holds no role on the case.
    let other_secretary = holder(&app, "secretary", &p.b2).await;
    w.forbidden(&other_secretary, "vote", vote.clone(), "secretary@branch")
        .await;
    assert_eq!(w.ok(&secretary, "vote", vote).await, "LimitationCheck");
    // ...but may only propose it (D13): the branch secretary cannot decide it.
    let r = w
        .step(
            &secretary,
            "impose",
            json!({ "decision_date": "today", "announced_on": "today", "decision_number": "01-QĐ/CB" }),
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
    // The decision is the district's: not another district's standing committee.
    let other_district = holder(&app, "standing_committee", &p.d2).await;
    w.forbidden(
        &other_district,
        "vote",
        competent.clone(),
        "standing_committee",
    )
    .await;
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

/// C1: a reprimand decided by the branch (D13) is delivered, its appeal window closes by
/// itself (P1, the lenient reading) and it lapses by itself 12 months after the decision; nobody
/// but the scheduler lapses it, and not before its day.
#[tokio::test]
async fn c1_a_reprimand_by_the_branch_lapses_after_12_months() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Phạm Thị Khiển Trách").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let subject = app.account("khientrach", &[], Some(&m)).await;
    let scheduler = Scheduler::new(&app).await;

    let mut w = Walk::open(
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
    // Two months after the violation, the limitation runs: no closing it as time-barred (D7).
    let vi = w.refused(&secretary, "time_barred", json!({}), "D7").await;
    assert!(vi.contains("Chưa hết thời hiệu"), "{vi}");
    // The member concerned takes no part in the decision.
    w.forbidden(
        &subject,
        "impose",
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "03-QĐ/CB" }),
        "secretary@branch",
    )
    .await;
    // The branch decides a reprimand itself (D13).
    w.expect(
        &secretary,
        "impose",
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "03-QĐ/CB" }),
        "Decided",
    )
    .await;
    let decided = w.day;
    assert_eq!(decided, date("2026-03-08"));

    // Delivered three days later: the lapse date is fixed 12 months after the decision (C1),
    // and the window runs 30 working days from receipt (P1, the lenient reading).
    w.day = decided + chrono::Days::new(2);
    w.expect(
        &secretary,
        "notify",
        json!({ "decision_received_date": "today" }),
        "AppealWindow",
    )
    .await;
    let lapse_date = decided + Months::new(12);
    assert_eq!(lapse_date, date("2027-03-08"));
    assert_eq!(
        w.read().await["facts"]["lapse_date"],
        lapse_date.to_string()
    );
    // 11/3/2026 + 30 working days (no holiday until 26/4) = 22/4/2026.
    let window_end = date("2026-04-22");
    assert_eq!(w.deadline("appeal_window").await, Some(window_end));

    // The window's last day is still open; the sweep of the day after closes it.
    scheduler.sweep(&app, window_end).await;
    assert_eq!(w.state().await, "AppealWindow");
    scheduler.sweep(&app, window_end.succ_opt().unwrap()).await;
    assert_eq!(w.state().await, "InForce");
    assert_eq!(
        w.last_step().await,
        (
            "close_appeal_window".to_owned(),
            "system".to_owned(),
            "InForce".to_owned()
        )
    );
    assert_eq!(w.deadline("lapse").await, Some(lapse_date));
    // The reprimand leaves the membership as it is.
    assert_eq!(
        status_on(&app, &m, window_end).await,
        ("OFFICIAL".to_owned(), Some("HG-D1-X-1".to_owned()))
    );

    // The day before the lapse, nobody lapses it by hand: `lapse` is the scheduler's alone,
    // not the secretary's, not even an account holding every role everywhere.
    let eve = lapse_date.pred_opt().unwrap();
    w.day = eve;
    w.forbidden(&secretary, "lapse", json!({}), "system").await;
    w.forbidden(&app.token, "lapse", json!({}), "system").await;
    // The sweeps of the eve and of the day itself leave it in force: the deadline passes when
    // its day has ended.
    scheduler.sweep(&app, eve).await;
    assert_eq!(w.state().await, "InForce");
    scheduler.sweep(&app, lapse_date).await;
    assert_eq!(w.state().await, "InForce");
    scheduler.sweep(&app, lapse_date.succ_opt().unwrap()).await;
    assert_eq!(w.state().await, "Lapsed");
    assert_eq!(
        w.last_step().await,
        ("lapse".to_owned(), "system".to_owned(), "Lapsed".to_owned())
    );
    let c = w.read().await;
    assert_eq!(c["terminal"], true, "{c:#}");
    assert!(c["deadlines"].as_array().unwrap().is_empty(), "{c:#}");
    // A second sweep does nothing more.
    scheduler
        .sweep(&app, lapse_date + chrono::Days::new(2))
        .await;
    assert_eq!(w.state().await, "Lapsed");
    assert_eq!(
        status_on(&app, &m, lapse_date).await,
        ("OFFICIAL".to_owned(), Some("HG-D1-X-1".to_owned()))
    );

    // The register keeps the decision's number and the body that decided it, as the case's
    // facts gave them: the discipline register's export carries them (docs/import.md).
    app.db
        .execute_unprepared(
            "UPDATE member SET party_card_number = '0300001' WHERE full_name = 'Phạm Thị Khiển Trách'",
        )
        .await
        .unwrap();
    let r = app
        .ok(
            "query { exportRegistry(kind: DISCIPLINE, format: CSV) { contentBase64 } }",
            json!({}),
        )
        .await;
    let csv = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(r["exportRegistry"]["contentBase64"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        csv.lines().skip(1).collect::<Vec<_>>(),
        vec![format!(
            "0300001,REPRIMAND,03-QĐ/CB,BRANCH,BRANCH,2026-03-08,LAPSED,{lapse_date}"
        )],
        "{csv}"
    );
}

/// D12: the vote comes first, the limitation is checked after it. A reprimand for a violation
/// that ended more than 5 years before cannot be imposed (D7) and the case ends time-barred; a
/// warning within its 10 years cannot be closed as time-barred (D7); an expulsion has no
/// limit (D9), at the branch that proposes it and at the competent body that decides it.
#[tokio::test]
async fn d12_a_case_whose_limitation_has_run_out_after_the_vote_is_time_barred() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let district = app
        .account("thuongvu", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let start = date("2026-03-02");

    // A reprimand: 5 years from 1/6/2020 ended on 1/6/2025.
    let m = registered(&app, &p.b1, "Lê Văn Thời Hiệu").await;
    let mut w = Walk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Lê Văn Thời Hiệu", &p.b1),
        start,
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2020-06-01", "reprimand")
        .await;
    let vi = w
        .refused(
            &secretary,
            "impose",
            json!({ "decision_date": "today", "announced_on": "today", "decision_number": "04-QĐ/CB" }),
            "D7",
        )
        .await;
    assert!(
        vi.contains("Đã hết thời hiệu") && vi.contains("5 năm") && vi.contains("01/06/2025"),
        "{vi}"
    );
    w.expect(&secretary, "time_barred", json!({}), "TimeBarred")
        .await;
    assert_eq!(w.read().await["terminal"], true);
    // Closed: nothing more is decided on it.
    let r = w
        .fire_on(
            w.day,
            &secretary,
            "impose",
            json!({ "decision_date": "today", "announced_on": "today", "decision_number": "04-QĐ/CB" }),
        )
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert_eq!(
        r["errors"][0]["extensions"]["reasons"][0]["code"], "CASE_CLOSED",
        "{r:#}"
    );
    assert_eq!(w.state().await, "TimeBarred");
    assert_eq!(status_on(&app, &m, w.day).await.0, "OFFICIAL");

    // A warning for the same dates: 10 years, still running.
    let m2 = registered(&app, &p.b1, "Hoàng Văn Cảnh Cáo").await;
    let mut w = Walk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m2),
        member_case(&m2, "Hoàng Văn Cảnh Cáo", &p.b1),
        start,
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2020-06-01", "warning")
        .await;
    let vi = w.refused(&secretary, "time_barred", json!({}), "D7").await;
    assert!(
        vi.contains("Chưa hết thời hiệu") && vi.contains("10 năm"),
        "{vi}"
    );
    w.expect(
        &secretary,
        "impose",
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "05-QĐ/CB" }),
        "Decided",
    )
    .await;

    // An expulsion for a violation of 2001: no limit (D9), at either body.
    let m3 = registered(&app, &p.b1, "Đỗ Văn Khai Trừ").await;
    let mut w = Walk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m3),
        member_case(&m3, "Đỗ Văn Khai Trừ", &p.b1),
        start,
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(&secretary, "2001-01-01", "expulsion")
        .await;
    w.refused(&secretary, "time_barred", json!({}), "D9").await;
    w.expect(
        &secretary,
        "propose_to_competent",
        json!({ "proposed_on": "today" }),
        "Proposed",
    )
    .await;
    let competent = json!({ "vote_date": "today", "voting_body": "standing_committee",
        "voting_level": "superior", "secret_ballot": true, "discipline_form": "expulsion",
        "votes_expulsion": 5, "votes_warning": 4, "votes_reprimand": 0, "official_members": 9 });
    w.expect(&district, "vote", competent, "LimitationCheck")
        .await;
    w.refused(&district, "time_barred", json!({}), "D9").await;
    w.expect(
        &district,
        "impose",
        json!({ "decision_date": "today", "decision_number": "16-QĐ/HU" }),
        "Decided",
    )
    .await;
}

/// Walks a reprimand of `m` by the branch up to its delivery on `received` (the decision
/// three days before), and returns the walk in `AppealWindow`.
async fn delivered_reprimand<'a>(
    app: &'a TestApp,
    secretary: &str,
    branch: &str,
    m: &str,
    name: &str,
    received: NaiveDate,
) -> Walk<'a> {
    let start = received - chrono::Days::new(9);
    let mut w = Walk::open(
        app,
        secretary,
        "discipline_member",
        branch,
        Some(m),
        member_case(m, name, branch),
        start,
        "Detected",
    )
    .await;
    w.walk_to_limitation_check(secretary, "2026-01-15", "reprimand")
        .await;
    w.expect(
        secretary,
        "impose",
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "06-QĐ/CB" }),
        "Decided",
    )
    .await;
    w.day = received.pred_opt().unwrap();
    w.expect(
        secretary,
        "notify",
        json!({ "decision_received_date": "today" }),
        "AppealWindow",
    )
    .await;
    w
}

/// P1: "one month" read two ways. An appeal on day 31 after receipt is past the stricter
/// reading (30 days) but within the lenient one (30 working days): it can only be filed as
/// disputed, and the appeal body decides; filed within 30 days it is an ordinary appeal (not a
/// disputed one); after both readings it is refused either way, and the window closes.
#[tokio::test]
async fn p1_an_appeal_filed_a_day_late_is_refused_or_disputed() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let commission = app
        .account("ubkt", &[("inspection_commission", Some(&p.gc))], None)
        .await;
    let scheduler = Scheduler::new(&app).await;
    let received = date("2026-03-11");
    let strict_end = received + chrono::Days::new(30);
    assert_eq!(strict_end, date("2026-04-10"));
    let lenient_end = date("2026-04-22");
    let appeal = json!({ "appeal_filed_date": "today", "appeal_body": "inspection_commission",
        "appeal_level": "grassroots", "appeal_grounds": "Hình thức kỷ luật quá nặng" });

    // Day 31.
    let m = registered(&app, &p.b1, "Vũ Thị Khiếu Nại").await;
    let subject = app.account("khieunai", &[], Some(&m)).await;
    let mut w =
        delivered_reprimand(&app, &secretary, &p.b1, &m, "Vũ Thị Khiếu Nại", received).await;
    assert_eq!(w.deadline("appeal_window").await, Some(lenient_end));
    w.day = strict_end.succ_opt().unwrap();
    let vi = w
        .refused(&subject, "file_appeal", appeal.clone(), "P1")
        .await;
    assert!(
        vi.contains("quá thời hạn 30 ngày") && vi.contains(&vn(strict_end)),
        "{vi}"
    );
    let r = w
        .fire_on(w.day, &subject, "file_appeal_disputed", appeal.clone())
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    assert_eq!(
        r["data"]["fireTransition"]["toState"],
        "AppealAdmissibilityDisputed"
    );
    assert_eq!(w.state().await, "AppealAdmissibilityDisputed");
    // The window no longer runs: nothing for the scheduler to close.
    assert_eq!(w.deadline("appeal_window").await, None);
    scheduler
        .sweep(&app, lenient_end + chrono::Days::new(1))
        .await;
    assert_eq!(w.state().await, "AppealAdmissibilityDisputed");
    // The member does not decide the admissibility of their own appeal; the commission does.
    w.day = lenient_end;
    w.forbidden(
        &subject,
        "admit_disputed_appeal",
        json!({ "admitted_on": "today", "admission_reason": "Một tháng tính là 30 ngày làm việc" }),
        "inspection_commission",
    )
    .await;
    w.expect(
        &commission,
        "admit_disputed_appeal",
        json!({ "admitted_on": "today", "admission_reason": "Một tháng tính là 30 ngày làm việc" }),
        "Appealed",
    )
    .await;

    // Within 30 days: the ordinary appeal, not a disputed one; after 30 working days: neither.
    let m2 = registered(&app, &p.b1, "Ngô Văn Quá Hạn").await;
    let subject2 = app.account("quahan", &[], Some(&m2)).await;
    let mut w =
        delivered_reprimand(&app, &secretary, &p.b1, &m2, "Ngô Văn Quá Hạn", received).await;
    w.day = received + chrono::Days::new(10);
    let vi = w
        .refused(&subject2, "file_appeal_disputed", appeal.clone(), "P1")
        .await;
    assert!(vi.contains("nộp theo thủ tục thông thường"), "{vi}");
    w.day = lenient_end.succ_opt().unwrap();
    let vi = w
        .refused(&subject2, "file_appeal", appeal.clone(), "P1")
        .await;
    assert!(vi.contains(&vn(strict_end)), "{vi}");
    let vi = w
        .refused(&subject2, "file_appeal_disputed", appeal.clone(), "P1")
        .await;
    assert!(
        vi.contains("quá hạn theo cả hai cách hiểu") && vi.contains(&vn(lenient_end)),
        "{vi}"
    );
    // That morning's sweep closes the window: the reprimand is in force.
    scheduler.sweep(&app, lenient_end.succ_opt().unwrap()).await;
    assert_eq!(w.state().await, "InForce");
    assert_eq!(
        w.last_step().await,
        (
            "close_appeal_window".to_owned(),
            "system".to_owned(),
            "InForce".to_owned()
        )
    );
}

/// D29: a member raising a child under 12 months is not considered yet; the deferral ends on
/// the child's first birthday, and the scheduler resumes the case; the secretary cannot resume
/// it before, and a child already 12 months old is no ground.
#[tokio::test]
async fn d29_a_deferral_for_nursing_resumes_when_the_child_is_12_months_old() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Trịnh Thị Nuôi Con").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let scheduler = Scheduler::new(&app).await;
    let mut w = Walk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Trịnh Thị Nuôi Con", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "warning").await;
    w.day = w.day.succ_opt().unwrap();
    let vi = w
        .refused(
            &secretary,
            "defer_nursing",
            json!({ "deferral_ground": "nursing_infant", "deferred_on": "today",
                "child_birth_date": "2025-01-10" }),
            "D29",
        )
        .await;
    assert!(!vi.is_empty());
    let birthday = date("2026-09-15");
    w.expect(
        &secretary,
        "defer_nursing",
        json!({ "deferral_ground": "nursing_infant", "deferred_on": "today",
            "child_birth_date": "2025-09-15" }),
        "DeferredNursing",
    )
    .await;
    assert_eq!(
        w.read().await["facts"]["infant_12_months"],
        birthday.to_string()
    );
    assert_eq!(w.deadline("deferral_end").await, Some(birthday));
    // Not considered meanwhile.
    w.day = w.day.succ_opt().unwrap();
    let r = w
        .fire_on(w.day, &secretary, "vote", branch_vote("warning"))
        .await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert_eq!(
        r["errors"][0]["extensions"]["reasons"][0]["code"], "WRONG_STATE",
        "{r:#}"
    );
    assert_eq!(w.state().await, "DeferredNursing");
    // The day before the birthday the ground still holds.
    w.day = birthday.pred_opt().unwrap();
    let vi = w
        .refused(
            &secretary,
            "resume",
            json!({ "resumed_on": "today" }),
            "D29",
        )
        .await;
    assert!(
        vi.contains("chưa đủ 12 tháng tuổi") && vi.contains(&vn(birthday)),
        "{vi}"
    );
    scheduler.sweep(&app, w.day).await;
    assert_eq!(w.state().await, "DeferredNursing");
    scheduler.sweep(&app, birthday).await;
    assert_eq!(w.state().await, "DeferredNursing");
    // The morning after the birthday, the scheduler resumes the case.
    scheduler.sweep(&app, birthday.succ_opt().unwrap()).await;
    assert_eq!(w.state().await, "Vote");
    assert_eq!(
        w.last_step().await,
        ("resume".to_owned(), "system".to_owned(), "Vote".to_owned())
    );
    assert_eq!(w.deadline("deferral_end").await, None);
    w.day = birthday.succ_opt().unwrap();
    w.expect(
        &secretary,
        "vote",
        branch_vote("warning"),
        "LimitationCheck",
    )
    .await;
    w.expect(
        &secretary,
        "impose",
        json!({ "decision_date": "today", "announced_on": "today", "decision_number": "07-QĐ/CB" }),
        "Decided",
    )
    .await;
}

/// D19: a grassroots organisation is disciplined by its direct superior's standing committee
/// (the district's); its own standing committee (D16) and its own committee (no entry: D19)
/// have no power over it, and its appeal goes above the body that decided (P3).
#[tokio::test]
async fn d19_an_organisation_is_disciplined_by_its_direct_superior() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let district = app
        .account("thuongvu", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let district_ic = app
        .account(
            "ubkt_huyen",
            &[("inspection_commission", Some(&p.d1))],
            None,
        )
        .await;
    let own_standing = app
        .account("thuongvu_xa", &[("standing_committee", Some(&p.gc))], None)
        .await;
    let own_committee = app
        .account("dangbo_xa", &[("committee", Some(&p.gc))], None)
        .await;
    let own_secretary = app
        .account("bithu_xa", &[("secretary", Some(&p.gc))], None)
        .await;
    let scheduler = Scheduler::new(&app).await;

    let mut w = Walk::open(
        &app,
        &district_ic,
        "discipline_organization",
        &p.gc,
        None,
        json!({ "organisation_id": p.gc, "organisation_name": "Đảng bộ xã X",
            "subject_kind": "organisation", "subject_level": "grassroots",
            "detection_source": "supervision", "detected_on": "today" }),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.expect(
        &district_ic,
        "start_inspection",
        json!({ "inspecting_body": "inspection_commission", "inspecting_level": "superior",
            "inspection_decision_date": "today" }),
        "Inspection",
    )
    .await;
    w.expect(
        &district_ic,
        "conclude_inspection",
        json!({ "inspection_concluded_on": "today", "violation_end_date": "2026-01-15",
            "violation_category": "ordinary" }),
        "SelfCriticism",
    )
    .await;
    w.expect(
        &district_ic,
        "record_self_criticism",
        json!({ "self_criticism_date": "today", "proposed_form": "reprimand" }),
        "Vote",
    )
    .await;
    let ballot = |body: &str, level: &str| {
        json!({ "vote_date": "today", "voting_body": body, "voting_level": level,
            "secret_ballot": true, "discipline_form": "warning", "votes_warning": 5,
            "votes_reprimand": 3, "official_members": 9 })
    };
    w.day = w.day.succ_opt().unwrap();
    // The organisation's own bodies cannot discipline it.
    let vi = w
        .refused(
            &own_standing,
            "vote",
            ballot("standing_committee", "grassroots"),
            "D16",
        )
        .await;
    assert!(vi.contains("không có thẩm quyền"), "{vi}");
    let vi = w
        .refused(
            &own_committee,
            "vote",
            ballot("committee", "grassroots"),
            "D19",
        )
        .await;
    assert!(
        vi.contains(
            "không có thẩm quyền quyết định hay đề nghị hình thức cảnh cáo đối với tổ chức đảng"
        ),
        "{vi}"
    );
    // Its secretary holds none of the roles that vote.
    w.forbidden(
        &own_secretary,
        "vote",
        ballot("committee", "grassroots"),
        "standing_committee",
    )
    .await;
    // The district's standing committee, its direct superior, votes and decides (D19).
    w.expect(
        &district,
        "vote",
        ballot("standing_committee", "superior"),
        "LimitationCheck",
    )
    .await;
    w.decide_and_notify(&district, "20-QĐ/HU").await;
    let received = w.day;
    // The organisation appeals through its secretary, but not to a body below the one that
    // decided: the district's inspection commission ranks under its standing committee (P3).
    w.day = received + chrono::Days::new(5);
    w.refused(
        &own_secretary,
        "file_appeal",
        json!({ "appeal_filed_date": "today", "appeal_body": "inspection_commission",
            "appeal_level": "superior", "appeal_grounds": "Hình thức quá nặng" }),
        "P3",
    )
    .await;
    // No appeal: the window closes by itself and the warning is in force.
    let window_end = w.deadline("appeal_window").await.unwrap();
    scheduler.sweep(&app, window_end).await;
    assert_eq!(w.state().await, "AppealWindow");
    scheduler.sweep(&app, window_end.succ_opt().unwrap()).await;
    assert_eq!(w.state().await, "InForce");
    assert_eq!(
        w.last_step().await,
        (
            "close_appeal_window".to_owned(),
            "system".to_owned(),
            "InForce".to_owned()
        )
    );
    assert_eq!(
        w.deadline("lapse").await,
        Some(received.pred_opt().unwrap() + Months::new(12))
    );
}

/// D4, D5: striking a name off is its own procedure. The branch proposes (D5: three months
/// without good reason, more than half of the branch), the competent standing committee (the
/// district's, A10.competent_level) decides and the member is `STRUCK_OFF` from the decision,
/// out of the branch; the member appeals as themselves to a body above it (P3) and the
/// province annuls the removal: the member is a member again, in the branch (P6).
#[tokio::test]
async fn d4_d5_a_name_struck_off_and_restored_on_appeal() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Bùi Văn Xóa Tên").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let district = app
        .account("thuongvu", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let provincial = app
        .account(
            "thuongvu_tinh",
            &[("standing_committee", Some(&p.hg))],
            None,
        )
        .await;
    let subject = app.account("xoaten", &[], Some(&m)).await;
    let start = date("2026-03-02");
    let opening = json!({ "member_id": m, "full_name": "Bùi Văn Xóa Tên", "unit": p.b1,
        "membership": "official", "removal_ground": "skipped_meetings", "months_missed": 3,
        "good_reason": false, "identified_on": "today" });

    // Two months are not a ground (D5).
    app.set_today(&start.to_string());
    let mut short = opening.clone();
    short["months_missed"] = json!(2);
    let r = app
        .gql_as(
            &secretary,
            OPEN,
            json!({ "i": { "definitionId": "removal", "unitId": p.b1, "title": "Xóa tên",
                "subjectMemberId": m, "inputs": on_day(&short, start) } }),
        )
        .await;
    let vi = refused_by(&r, "D5");
    assert!(vi.contains("2 tháng"), "{vi}");

    let mut w = Walk::open(
        &app,
        &secretary,
        "removal",
        &p.b1,
        Some(&m),
        opening,
        start,
        "Identified",
    )
    .await;
    // 5 of 10 is not more than half (D5).
    w.day = w.day.succ_opt().unwrap();
    let vi = w
        .refused(
            &secretary,
            "branch_proposes",
            json!({ "branch_vote_date": "today", "votes_for": 5, "official_members": 10 }),
            "D5",
        )
        .await;
    assert!(vi.contains("cần ít nhất 6 phiếu"), "{vi}");
    w.expect(
        &secretary,
        "branch_proposes",
        json!({ "branch_vote_date": "today", "votes_for": 6, "official_members": 10 }),
        "Proposed",
    )
    .await;
    // The branch only proposes: the competent standing committee decides.
    let decide = json!({ "voting_body": "standing_committee", "voting_level": "superior",
        "decision_date": "today", "decision_number": "05-QĐ/HU" });
    w.forbidden(
        &secretary,
        "decide_removal",
        decide.clone(),
        "standing_committee@competent",
    )
    .await;
    w.expect(&district, "decide_removal", decide, "Decided")
        .await;
    let decided = w.day;
    assert_eq!(
        status_on(&app, &m, decided).await,
        ("STRUCK_OFF".to_owned(), None)
    );
    assert_eq!(
        status_on(&app, &m, decided.pred_opt().unwrap()).await,
        ("OFFICIAL".to_owned(), Some("HG-D1-X-1".to_owned()))
    );
    w.expect(
        &secretary,
        "notify",
        json!({ "decision_received_date": "today" }),
        "AppealWindow",
    )
    .await;
    // The member appeals as themselves, above the district's standing committee (P3).
    w.day = w.day + chrono::Days::new(10);
    w.refused(
        &subject,
        "file_appeal",
        json!({ "appeal_filed_date": "today", "appeal_body": "inspection_commission",
            "appeal_level": "superior", "appeal_grounds": "Tôi có lý do chính đáng" }),
        "P3",
    )
    .await;
    w.expect(
        &subject,
        "file_appeal",
        json!({ "appeal_filed_date": "today", "appeal_body": "standing_committee",
            "appeal_level": "province", "appeal_grounds": "Tôi có lý do chính đáng" }),
        "Appealed",
    )
    .await;
    // The decision stays in force during the appeal (P2).
    assert_eq!(status_on(&app, &m, w.day).await.0, "STRUCK_OFF");
    // The member does not rule on their own appeal.
    let annul = json!({ "ruling_body": "standing_committee", "ruling_level": "province",
        "appeal_ruling_date": "today" });
    w.forbidden(
        &subject,
        "annul_removal",
        annul.clone(),
        "standing_committee",
    )
    .await;
    w.expect(&provincial, "annul_removal", annul, "Restored")
        .await;
    let annulled = w.day;
    assert_eq!(w.read().await["terminal"], true);
    // Restored from the annulment, in the same branch (P6); struck off in between.
    assert_eq!(
        status_on(&app, &m, annulled).await,
        ("OFFICIAL".to_owned(), Some("HG-D1-X-1".to_owned()))
    );
    assert_eq!(
        status_on(&app, &m, annulled.pred_opt().unwrap()).await.0,
        "STRUCK_OFF"
    );
}

/// D13, D36 (docs/discipline.md, "Bodies, levels and roles": the actor must speak for the body
/// the step names): a branch secretary, who may only propose an expulsion, cannot decide one by
/// naming the district's standing committee as the voting body. The engine refuses the vote
/// (`FORBIDDEN`, its reason `NOT_PERMITTED` naming the body) and nothing is recorded; the district's standing
/// committee votes as itself, and only it decides what it voted.
#[tokio::test]
async fn d13_a_branch_secretary_cannot_vote_as_the_district_s_standing_committee() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = registered(&app, &p.b1, "Cao Văn Mạo Danh").await;
    let secretary = app
        .account("bithu", &[("secretary", Some(&p.b1))], None)
        .await;
    let district = app
        .account("thuongvu", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let mut w = Walk::open(
        &app,
        &secretary,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Cao Văn Mạo Danh", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&secretary, "2026-01-15", "expulsion").await;
    let before = w.read().await;
    let as_district = json!({ "vote_date": "today", "voting_body": "standing_committee",
        "voting_level": "superior", "secret_ballot": true, "discipline_form": "expulsion",
        "votes_expulsion": 5, "votes_warning": 4, "votes_reprimand": 0, "official_members": 9 });
    let r = w.step(&secretary, "vote", as_district.clone()).await;
    // An authorization refusal, with the engine's reason naming the body.
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    let reasons = r["errors"][0]["extensions"]["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{r:#}");
    assert_eq!(reasons[0]["code"], "NOT_PERMITTED", "{r:#}");
    assert_eq!(reasons[0]["field"], "voting_body", "{r:#}");
    let vi = reasons[0]["vi"].as_str().unwrap();
    assert!(
        vi.contains("standing_committee@superior")
            && vi.contains("ban thường vụ cấp ủy cấp trên trực tiếp"),
        "{vi}"
    );
    let en = reasons[0]["en"].as_str().unwrap();
    assert!(
        en.contains("the standing committee at superior level"),
        "{en}"
    );
    // Nothing changed: the case, its facts and its history are as before the attempt, and
    // the member is a member, in the branch.
    assert_eq!(w.read().await, before);
    assert_eq!(
        status_on(&app, &m, w.day).await,
        ("OFFICIAL".to_owned(), Some("HG-D1-X-1".to_owned()))
    );

    // The district's standing committee votes as itself; the branch secretary cannot decide
    // what it voted, the standing committee does.
    w.expect(&district, "vote", as_district, "LimitationCheck")
        .await;
    let decision = json!({ "decision_date": "today", "decision_number": "99-QĐ/HU" });
    let r = w
        .fire_on(w.day, &secretary, "impose", decision.clone())
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    assert_eq!(
        r["errors"][0]["extensions"]["reasons"][0]["code"], "NOT_PERMITTED",
        "{r:#}"
    );
    assert_eq!(w.state().await, "LimitationCheck");
    w.expect(&district, "impose", decision, "Decided").await;
}
