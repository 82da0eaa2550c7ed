//! Reminders reach people: the holders of the role at the case's unit (their own address, or
//! that of the member their account belongs to), the member concerned; a role nobody can be
//! reached in is a dead letter that says who. What is coming up, per unit and per person; the
//! preview of a reminder's mail; marking a reminder handled.

use std::time::Duration;

use memberflow_tests::{TestApp, error_code, schemas_with, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::mail::{MAILING, smtp_sink};
use crate::support::{member, province};

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }";
const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }";

async fn outbox_of(app: &TestApp, case: &str) -> Vec<Value> {
    app.ok(
        "query($c: ID!) { outbox(caseId: $c) { id kind status lastError payload } }",
        json!({ "c": case }),
    )
    .await["outbox"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_step_s_mail_goes_to_the_holders_of_the_role_at_the_case_s_unit() {
    let (smtp, inbox) = smtp_sink().await;
    let schemas = schemas_with(&[("workflows/mailing.toml", MAILING)]);
    let dir = schemas.path().to_owned();
    let app = spawn_app_with(move |c| {
        c.schemas_dir = Some(dir);
        c.smtp_url = Some(format!("smtp://{smtp}"));
        c.mail_from = "Memberflow <noreply@example.vn>".into();
        c.mail.public_url = Some("https://memberflow.example.vn".into());
        c.schedules.enabled = true;
    })
    .await;
    let p = province(&app).await;
    // Two secretaries of branch 1: one with an address on her account, one whose account
    // belongs to a member with an address; a third holder has none at all.
    let lan = app
        .account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    app.set_account_email("lan", "lan@chibo1.example.vn").await;
    let m = member(&app, &p.b1, "Trần Văn Minh").await;
    app.ok(
        "mutation($id: ID!) { setMemberEmail(memberId: $id, email: \"minh@chibo1.example.vn\") { email } }",
        json!({ "id": m }),
    )
    .await;
    app.account("minh", &[("secretary", Some(&p.b1))], Some(&m))
        .await;
    app.account("hoa", &[("secretary", Some(&p.b1))], None)
        .await;
    // A secretary of another branch is not told.
    app.account("other", &[("secretary", Some(&p.b2))], None)
        .await;
    app.set_account_email("other", "other@chibo2.example.vn")
        .await;

    let open = app
        .gql_as(
            &lan,
            OPEN,
            json!({ "i": { "definitionId": "mailing", "unitId": p.b1, "title": "Hồ sơ thư", "inputs": {} } }),
        )
        .await;
    let case = open["data"]["openCase"]["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{open:#}"))
        .to_owned();
    let r = app
        .gql_as(
            &lan,
            FIRE,
            json!({ "i": { "caseId": case, "transition": "finish", "inputs": {} } }),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while inbox.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    let to = m
        .lines()
        .find(|l| l.starts_with("To: "))
        .unwrap_or_else(|| panic!("{m}"));
    assert!(
        to.contains("lan@chibo1.example.vn") && to.contains("minh@chibo1.example.vn"),
        "{to}"
    );
    assert!(!m.contains("other@chibo2.example.vn"), "{m}");
    // Text and HTML, the HTML with the link to the case.
    assert!(m.contains("multipart/alternative"), "{m}");
    assert!(m.contains("text/html"), "{m}");

    // Branch 2's case: nobody there holds the role with an address (and no configured
    // fallback): a dead letter that names the holder without an address.
    app.account("nam", &[("secretary", Some(&p.gb))], None)
        .await;
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "mailing", "unitId": p.gb, "title": "Không có địa chỉ", "inputs": {} } }),
        )
        .await;
    let case2 = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    app.ok(
        FIRE,
        json!({ "i": { "caseId": case2, "transition": "finish", "inputs": {} } }),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let dead = loop {
        let rows = outbox_of(&app, &case2).await;
        if let Some(r) = rows.iter().find(|r| r["status"] == "DEAD") {
            break r.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{rows:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let err = dead["lastError"].as_str().unwrap();
    assert!(
        err.contains("secretary@branch") && err.contains("nam") && err.contains("HG-D2-Y"),
        "{err}"
    );
}

/// An admission case in branch 1 with its awareness certificate recorded: A2 schedules the
/// expiry warning for the branch secretary (54 months on), and the 60-month validity runs.
async fn certified_case(app: &TestApp, branch: &str) -> String {
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "admission", "unitId": branch, "title": "Nguyễn Văn An",
                "inputs": { "person_id": "P-1", "full_name": "Nguyễn Văn An", "date_of_birth": "2000-01-01",
                    "unit": branch, "education_level": "upper_secondary", "helper_member": "M-1" } } }),
        )
        .await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    // The certificate is 4½ years old: the warning is due in a few weeks.
    app.ok(
        FIRE,
        json!({ "i": { "caseId": case, "transition": "record_awareness_certificate",
            "inputs": { "certificate_date": "2022-06-01" } } }),
    )
    .await;
    case
}

const UPCOMING: &str = "query($u: ID!, $n: Int) { upcoming(unitId: $u, withinWorkingDays: $n) {
    kind key rule due overdue workingDaysLeft to template outboxId case { id title } } }";
const MINE: &str =
    "query($n: Int) { myUpcoming(withinWorkingDays: $n) { kind to outboxId case { id } } }";

#[tokio::test]
async fn what_is_coming_up_per_unit_and_per_person_and_a_reminder_previewed_and_handled() {
    let app = spawn_app_with(|c| {
        c.mail.public_url = Some("https://memberflow.example.vn/".into());
    })
    .await;
    let p = province(&app).await;
    let case = certified_case(&app, &p.b1).await;
    let lan = app
        .account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    app.set_account_email("lan", "lan@chibo1.example.vn").await;
    let other = app
        .account("other", &[("secretary", Some(&p.b2))], None)
        .await;

    // The province's view: the certificate's 60-month validity (a deadline) and its 54-month
    // warning (a reminder), within a year of working days.
    let d = app.ok(UPCOMING, json!({ "u": p.hg, "n": 260 })).await;
    let items = d["upcoming"].as_array().unwrap();
    let reminder = items
        .iter()
        .find(|i| i["kind"] == "REMINDER")
        .unwrap_or_else(|| panic!("{d:#}"));
    assert_eq!(reminder["to"], "secretary@branch");
    assert_eq!(reminder["template"], "admission.certificate_expiring");
    assert_eq!(reminder["due"], "2026-12-01", "{reminder:#}");
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "DEADLINE" && i["rule"] == "A2"),
        "{d:#}"
    );
    // Within 2 working days nothing is due yet.
    let d = app.ok(UPCOMING, json!({ "u": p.hg, "n": 2 })).await;
    assert_eq!(d["upcoming"], json!([]), "{d:#}");
    // Branch 2's subtree has none of it.
    let d = app.ok(UPCOMING, json!({ "u": p.b2, "n": 260 })).await;
    assert_eq!(d["upcoming"], json!([]));

    // The branch secretary's own list has the reminder; the other branch's secretary's
    // has nothing.
    let mine = app.gql_as(&lan, MINE, json!({ "n": 260 })).await;
    let mine = mine["data"]["myUpcoming"].as_array().unwrap().clone();
    assert!(
        mine.iter()
            .any(|i| i["kind"] == "REMINDER" && i["case"]["id"] == case.as_str()),
        "{mine:#?}"
    );
    let theirs = app.gql_as(&other, MINE, json!({ "n": 260 })).await;
    assert_eq!(theirs["data"]["myUpcoming"], json!([]), "{theirs:#}");

    // The preview: who would receive it, and what it says, with the link to the case.
    let id = reminder["outboxId"].as_str().unwrap().to_owned();
    let q = "query($id: ID!) { mailPreview(id: $id) { to subject text html problem } }";
    let pv = app.gql_as(&lan, q, json!({ "id": id })).await;
    let pv = &pv["data"]["mailPreview"];
    assert_eq!(pv["to"], json!(["lan@chibo1.example.vn"]), "{pv:#}");
    assert!(pv["problem"].is_null());
    assert!(!pv["subject"].as_str().unwrap().is_empty());
    assert!(
        pv["text"]
            .as_str()
            .unwrap()
            .contains("https://memberflow.example.vn/graphql?query="),
        "{pv:#}"
    );
    assert!(pv["html"].as_str().unwrap().contains("<a href="), "{pv:#}");
    // The other branch's secretary may not read it.
    let r = app.gql_as(&other, q, json!({ "id": id })).await;
    assert_eq!(error_code(&r), "FORBIDDEN");

    // Marking it handled: not by someone who does not hold its role on the case; by the
    // branch secretary, once.
    let mark = "mutation($id: ID!) { markReminderHandled(id: $id, note: \"Đã nhắc tại cuộc họp\") { status handledBy note } }";
    let r = app.gql_as(&other, mark, json!({ "id": id })).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = app.gql_as(&lan, mark, json!({ "id": id })).await;
    assert_eq!(
        r["data"]["markReminderHandled"],
        json!({ "status": "HANDLED", "handledBy": "lan", "note": "Đã nhắc tại cuộc họp" }),
        "{r:#}"
    );
    let r = app.gql_as(&lan, mark, json!({ "id": id })).await;
    assert_eq!(error_code(&r), "CONFLICT");
    // It is no longer coming up.
    let d = app.ok(UPCOMING, json!({ "u": p.hg, "n": 260 })).await;
    assert!(
        !d["upcoming"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "REMINDER"),
        "{d:#}"
    );
}

#[tokio::test]
async fn a_member_s_address_is_parsed_at_the_edge() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = member(&app, &p.b1, "Lê Thị Hoa").await;
    let set =
        "mutation($id: ID!, $e: String) { setMemberEmail(memberId: $id, email: $e) { email } }";
    let r = app
        .gql(set, json!({ "id": m, "e": "hoa at example" }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION");
    let d = app
        .ok(set, json!({ "id": m, "e": " Hoa@Example.VN " }))
        .await;
    assert_eq!(d["setMemberEmail"]["email"], "Hoa@example.vn");
    let d = app.ok(set, json!({ "id": m, "e": null })).await;
    assert!(d["setMemberEmail"]["email"].is_null());
    // The member may set their own.
    let own = app.account("hoa", &[], Some(&m)).await;
    let r = app
        .gql_as(&own, set, json!({ "id": m, "e": "hoa@example.vn" }))
        .await;
    assert_eq!(
        r["data"]["setMemberEmail"]["email"], "hoa@example.vn",
        "{r:#}"
    );
}

/// S12: a member who must transfer their membership: 60 working days from the decision
/// taking effect, a reminder to the branch secretary 10 working days before, the superior's
/// standing committee told if it passes; completing the transfer cancels what was pending.
#[tokio::test]
async fn s12_a_membership_transfer_is_due_within_60_working_days() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = member(&app, &p.b1, "Phạm Văn Chuyển").await;
    let lan = app
        .account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let d = app
        .gql_as(
            &lan,
            OPEN,
            json!({ "i": { "definitionId": "transfer", "unitId": p.b1, "title": "Phạm Văn Chuyển",
                "subjectMemberId": m,
                "inputs": { "member_id": m, "full_name": "Phạm Văn Chuyển", "unit": p.b1,
                    "transfer_reason": "retirement", "effective_date": "2026-11-02",
                    "destination": "Chi bộ khu vực 3, phường Vị Thanh" } } }),
        )
        .await;
    let case = d["data"]["openCase"]["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{d:#}"))
        .to_owned();
    let items = app.gql_as(&lan, MINE, json!({ "n": 100 })).await["data"]["myUpcoming"]
        .as_array()
        .unwrap()
        .clone();
    let q = "query($u: ID!) { upcoming(unitId: $u, withinWorkingDays: 100) { kind rule due to template } }";
    let up = app.gql_as(&lan, q, json!({ "u": p.b1 })).await;
    let up = up["data"]["upcoming"].as_array().unwrap().clone();
    let deadline = up
        .iter()
        .find(|i| i["kind"] == "DEADLINE")
        .unwrap_or_else(|| panic!("{up:#?}"));
    assert_eq!(deadline["rule"], "S12");
    // 60 working days from Monday 2/11/2026 (weekends, 24/11/2026 and 1/1 off): Wednesday
    // 27/1/2027.
    assert_eq!(deadline["due"], "2027-01-27", "{deadline:#}");
    let reminder = up
        .iter()
        .find(|i| i["kind"] == "REMINDER")
        .unwrap_or_else(|| panic!("{up:#?}"));
    assert_eq!(reminder["template"], "transfer.due_soon");
    assert_eq!(reminder["to"], "secretary@branch");
    assert!(items.iter().any(|i| i["kind"] == "REMINDER"), "{items:#?}");
    // Completed: nothing is coming up any more.
    let r = app
        .gql_as(
            &lan,
            FIRE,
            json!({ "i": { "caseId": case, "transition": "complete_transfer",
                "inputs": { "transferred_on": "2026-11-25", "introduction_letter": "45-GGT/ĐU" } } }),
        )
        .await;
    assert_eq!(
        r["data"]["fireTransition"]["toState"], "Transferred",
        "{r:#}"
    );
    let up = app.gql_as(&lan, q, json!({ "u": p.b1 })).await;
    assert_eq!(up["data"]["upcoming"], json!([]), "{up:#}");
    let rows = outbox_of(&app, &case).await;
    assert!(
        rows.iter()
            .filter(|r| r["kind"] == "REMINDER")
            .all(|r| r["status"] == "CANCELLED"),
        "{rows:#?}"
    );
}

/// S22 through the front door: a working-day deadline that runs over Tết is pushed back by
/// the holidays. A transfer effective on 4/1/2027 is due 60 working days later; counting
/// weekdays only would end it earlier, because the Tết break of 2027 is not worked.
#[tokio::test]
async fn s12_s22_a_transfer_running_over_tet_ends_later_than_60_weekdays() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = member(&app, &p.b1, "Lê Văn Tết").await;
    app.ok(
        OPEN,
        json!({ "i": { "definitionId": "transfer", "unitId": p.b1, "title": "Lê Văn Tết",
            "subjectMemberId": m,
            "inputs": { "member_id": m, "full_name": "Lê Văn Tết", "unit": p.b1,
                "transfer_reason": "moved_residence", "effective_date": "2027-01-04" } } }),
    )
    .await;
    let q = "query($u: ID!) { upcoming(unitId: $u, withinWorkingDays: 120) { kind due } }";
    let d = app.ok(q, json!({ "u": p.b1 })).await;
    let due = d["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "DEADLINE")
        .unwrap_or_else(|| panic!("{d:#}"))["due"]
        .as_str()
        .unwrap()
        .to_owned();
    let due = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
    // 60 weekdays after Monday 4/1/2027, ignoring holidays.
    let mut naive = chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let mut n = 0;
    while n < 60 {
        naive = naive.succ_opt().unwrap();
        if !matches!(naive.format("%a").to_string().as_str(), "Sat" | "Sun") {
            n += 1;
        }
    }
    assert!(due > naive, "due {due}, 60 weekdays: {naive}");
}
