//! The worker against a real SMTP server on a loopback port and a real database (SQLite, or
//! PostgreSQL when `MEMBERFLOW_TEST_DATABASE_URL` is set): reminders are sent once, retried,
//! dead-lettered, cancelled, and the periodic jobs enqueue once per period.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use memberflow_store::{NewOutbox, OutboxKind, OutboxRecord, OutboxStatus, Store};
use memberflow_worker::{Job, Mailer, Recipients, Schedules, Worker, WorkerOptions};
use memberflow_workflow::engine::{Effect, RoleRef};
use memberflow_workflow::text::Lang;
use memberflow_workflow::tree::MemberStatus;
use memberflow_workflow::vocab::RoleLevel;
use support::smtp::SmtpSink;
use support::*;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(10);

async fn rows_of(store: &Store, case: Uuid) -> Vec<OutboxRecord> {
    let mut v = store.outbox().records(None, Some(case), 100).await.unwrap();
    v.sort_by_key(|r| r.id);
    v
}

fn mail_row(key: &str, template: &str, to: RoleRef) -> NewOutbox {
    NewOutbox {
        case_id: None,
        kind: OutboxKind::Mail,
        dedupe_key: key.into(),
        payload: serde_json::to_value(Effect::SendMail {
            template: template.into(),
            to,
        })
        .unwrap(),
        due_on: date(2026, 11, 25),
    }
}

#[tokio::test]
async fn a_reminder_is_sent_once_at_the_daily_sweep_of_its_day_however_often_dispatch_runs() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let case = f.open_case("Hồ sơ Nguyễn Văn An", opened_at()).await;
    let rows = rows_of(&f.store, case).await;
    let reminder = rows
        .iter()
        .find(|r| r.kind == OutboxKind::Reminder)
        .unwrap()
        .clone();
    let day = reminder.due_on;
    assert!(day > date(2026, 11, 25), "{reminder:?}");
    let w = f.worker(&sink.url(), options());

    // Not yet: the day before, and on the day before the 07:00 sweep.
    let before = vn(2026, 11, 25, 23, 0);
    assert_eq!(w.dispatch_due(before).await.unwrap().sent, 0);
    let early = vn_on(day, 6, 59);
    assert_eq!(w.dispatch_due(early).await.unwrap().sent, 0);

    // At the sweep: sent, then never again.
    let at = vn_on(day, 7, 0);
    assert_eq!(w.dispatch_due(at).await.unwrap().sent, 1);
    assert_eq!(w.dispatch_due(at).await.unwrap().sent, 0);
    assert_eq!(
        w.dispatch_due(at + TimeDelta::hours(5)).await.unwrap().sent,
        0
    );
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.to, vec![STANDING.to_owned()]);
    assert_eq!(m.from, "noreply@example.vn");
    assert_eq!(
        m.message_id(),
        format!("<outbox-{}@example.vn>", reminder.id)
    );
    // Vietnamese by default.
    assert!(
        m.subject()
            .starts_with("Sắp đến hạn ra quyết định kết nạp: Hồ sơ Nguyễn Văn An"),
        "{}",
        m.subject()
    );
    assert!(
        m.body().contains("Đơn vị HG-D1-X-1 (HG-D1-X-1)"),
        "{}",
        m.body()
    );
    assert_eq!(m.header("Content-Language").as_deref(), Some("vi"));
    let r = f.store.outbox().record(reminder.id).await.unwrap();
    assert_eq!(r.status, OutboxStatus::Sent);
    assert_eq!(r.attempts, 1);
    assert_eq!(r.sent_at, Some(at));
}

#[tokio::test]
async fn english_is_available() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:en",
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            opened_at(),
        )
        .await
        .unwrap();
    let w = f.worker(
        &sink.url(),
        WorkerOptions {
            language: Lang::En,
            ..options()
        },
    );
    assert_eq!(w.dispatch_due(opened_at()).await.unwrap().sent, 1);
    let m = &sink.wait_for(1, WAIT).await[0];
    assert!(
        m.subject().starts_with("Admission decision issued"),
        "{}",
        m.subject()
    );
    assert!(m.body().contains("within 30 working days"), "{}", m.body());
    assert!(m.body().contains("Please do not reply"), "{}", m.body());
    assert_eq!(m.header("Content-Language").as_deref(), Some("en"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_dispatchers_send_each_row_once() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let rows: Vec<NewOutbox> = (0..40)
        .map(|i| {
            mail_row(
                &format!("mail:burst:{i}"),
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )
        })
        .collect();
    // Enqueued twice: the dedupe keys keep one row each.
    assert_eq!(
        f.store
            .outbox()
            .enqueue(rows.clone(), opened_at())
            .await
            .unwrap(),
        40
    );
    assert_eq!(
        f.store.outbox().enqueue(rows, opened_at()).await.unwrap(),
        0
    );

    // Eight workers, each with its own connection pool, as eight server instances would.
    let mut workers = Vec::new();
    for _ in 0..8 {
        let store = Store::connect(f.db.url()).await.unwrap();
        workers.push(Arc::new(worker_on(
            store,
            &sink.url(),
            WorkerOptions {
                batch: 3,
                ..options()
            },
        )));
    }
    let now = opened_at();
    let tasks: Vec<_> = workers
        .iter()
        .map(|w| {
            let w = w.clone();
            tokio::spawn(async move { w.dispatch_due(now).await.unwrap() })
        })
        .collect();
    let mut sent = 0;
    let mut claimed = 0;
    for t in tasks {
        let r = t.await.unwrap();
        sent += r.sent;
        claimed += r.claimed;
    }
    assert_eq!((sent, claimed), (40, 40));
    let got = sink.wait_for(40, WAIT).await;
    assert_eq!(got.len(), 40);
    let ids: HashSet<String> = got.iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), 40, "a Message-ID came twice");
    // And again, concurrently: nothing left.
    let again: Vec<_> = workers
        .iter()
        .map(|w| {
            let w = w.clone();
            tokio::spawn(async move { w.dispatch_due(now).await.unwrap() })
        })
        .collect();
    for t in again {
        assert_eq!(t.await.unwrap().sent, 0);
    }
    let sent_rows = f
        .store
        .outbox()
        .records(Some(OutboxStatus::Sent), None, 100)
        .await
        .unwrap();
    assert_eq!(sent_rows.len(), 40);
    assert!(sent_rows.iter().all(|r| r.attempts == 1));
    assert_eq!(sink.messages().len(), 40);
}

#[tokio::test]
async fn a_failed_send_is_retried_with_backoff_then_dead_lettered_and_can_be_requeued() {
    let sink = SmtpSink::start().await;
    sink.fail_always(true);
    let f = Fixture::new().await;
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:fails",
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            opened_at(),
        )
        .await
        .unwrap();
    let w = f.worker(&sink.url(), options());
    let t0 = opened_at();

    let r = w.dispatch_due(t0).await.unwrap();
    assert_eq!((r.retried, r.dead), (1, 0));
    // Before the backoff ends, nothing is tried.
    assert_eq!(w.dispatch_due(t0).await.unwrap().claimed, 0);
    assert_eq!(
        w.dispatch_due(t0 + TimeDelta::seconds(59))
            .await
            .unwrap()
            .claimed,
        0
    );
    // 1 minute after the first failure, then 2 minutes after the second.
    let r = w.dispatch_due(t0 + TimeDelta::minutes(1)).await.unwrap();
    assert_eq!((r.retried, r.dead), (1, 0));
    assert_eq!(
        w.dispatch_due(t0 + TimeDelta::minutes(2))
            .await
            .unwrap()
            .claimed,
        0
    );
    let r = w.dispatch_due(t0 + TimeDelta::minutes(3)).await.unwrap();
    assert_eq!((r.retried, r.dead), (0, 1));
    assert_eq!(sink.rejected(), 3);
    assert!(sink.messages().is_empty());

    // A dead letter stays, with its last error, and is not tried again.
    assert_eq!(
        w.dispatch_due(t0 + TimeDelta::days(30))
            .await
            .unwrap()
            .claimed,
        0
    );
    let dead = f.store.outbox().dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    let err = dead[0].last_error.clone().unwrap();
    assert!(err.contains("451"), "{err}");

    // Requeued once the server is back: sent.
    sink.fail_always(false);
    let later = t0 + TimeDelta::hours(1);
    let r = f
        .store
        .outbox()
        .requeue_dead_letter(dead[0].id, later)
        .await
        .unwrap();
    assert_eq!((r.status, r.attempts), (OutboxStatus::Pending, 0));
    assert!(
        f.store
            .outbox()
            .requeue_dead_letter(dead[0].id, later)
            .await
            .is_err()
    );
    assert_eq!(w.dispatch_due(later).await.unwrap().sent, 1);
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
    assert!(f.store.outbox().dead_letters(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_then_sent_once_with_the_same_message_id() {
    let sink = SmtpSink::start().await;
    sink.fail_next(1);
    let f = Fixture::new().await;
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:once",
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            opened_at(),
        )
        .await
        .unwrap();
    let w = f.worker(&sink.url(), options());
    assert_eq!(w.dispatch_due(opened_at()).await.unwrap().retried, 1);
    let r = w
        .dispatch_due(opened_at() + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(r.sent, 1);
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let row = &f.store.outbox().records(None, None, 10).await.unwrap()[0];
    assert_eq!(row.attempts, 2);
    assert_eq!(
        got[0].message_id(),
        format!("<outbox-{}@example.vn>", row.id)
    );
}

#[tokio::test]
async fn a_cancelled_reminder_is_not_sent() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let case = f.open_case("Hồ sơ hủy nhắc", opened_at()).await;
    // Leaving the state cancels both reminders in the step's transaction, and enqueues the
    // step's own mail.
    f.fire(case, "finish", opened_at() + TimeDelta::hours(1))
        .await;
    let rows = rows_of(&f.store, case).await;
    let cancelled: Vec<_> = rows
        .iter()
        .filter(|r| r.status == OutboxStatus::Cancelled)
        .collect();
    assert_eq!(cancelled.len(), 2, "{rows:?}");
    let w = f.worker(&sink.url(), options());
    for day in 0..60 {
        w.dispatch_due(opened_at() + TimeDelta::days(day))
            .await
            .unwrap();
    }
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "only the step's mail");
    assert!(got[0].subject().starts_with("Đã có quyết định kết nạp"));
    assert_eq!(got[0].to, vec![SECRETARY.to_owned()]);
    for r in rows_of(&f.store, case).await {
        if r.kind == OutboxKind::Mail {
            assert_eq!(r.status, OutboxStatus::Sent);
        } else {
            assert_eq!(r.status, OutboxStatus::Cancelled, "{r:?}");
        }
    }
}

#[tokio::test]
async fn a_recurring_reminder_sends_one_mail_per_tick_until_cancelled() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let case = f.open_case("Hồ sơ nhắc hằng tháng", opened_at()).await;
    let w = f.worker(&sink.url(), options());
    let monthly = |sink: &SmtpSink| {
        sink.messages()
            .iter()
            .filter(|m| m.subject().contains("đang chờ thẩm tra lý lịch"))
            .count()
    };
    // The monthly reminder (08:00 on the 1st) first ticks on 1/12.
    let r = w.dispatch_due(opened_at()).await.unwrap();
    assert_eq!(r.ticks, 0);
    let tick = vn(2026, 12, 1, 8, 0);
    assert_eq!(
        w.dispatch_due(tick - TimeDelta::seconds(1))
            .await
            .unwrap()
            .ticks,
        0
    );
    assert_eq!(w.dispatch_due(tick).await.unwrap().ticks, 1);
    let r = w.dispatch_due(tick + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!((r.ticks, r.sent), (0, 0));
    assert_eq!(monthly(&sink), 1);
    // The server was down for two months: the missed ticks make one mail, not two.
    let r = w.dispatch_due(vn(2027, 2, 10, 9, 0)).await.unwrap();
    assert_eq!((r.ticks, r.sent), (1, 1));
    assert_eq!(monthly(&sink), 2);
    let tick_rows: Vec<_> = rows_of(&f.store, case)
        .await
        .into_iter()
        .filter(|r| {
            r.dedupe_key
                .starts_with(&format!("reminder:{case}:monthly:"))
        })
        .collect();
    assert_eq!(tick_rows.len(), 2, "{tick_rows:?}");
    assert_eq!(tick_rows[0].due_on, date(2026, 12, 1));
    assert_eq!(tick_rows[1].due_on, date(2027, 2, 1));
    // Leaving the state stops it.
    f.fire(case, "finish", vn(2027, 2, 11, 9, 0)).await;
    let r = w.dispatch_due(vn(2027, 3, 1, 9, 0)).await.unwrap();
    assert_eq!(r.ticks, 0);
    assert_eq!(monthly(&sink), 2);
}

#[tokio::test]
async fn a_passed_deadline_gets_one_notice_however_often_the_sweep_runs() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let case = f.open_case("Hồ sơ quá hạn", opened_at()).await;
    let w = f.worker(&sink.url(), options());
    let due = f.store.cases().case(case).await.unwrap().next_due.unwrap();
    // The sweep of the due day itself: not passed yet.
    assert_eq!(
        w.run_job(Job::DailySweep, vn_on(due, 7, 0)).await.unwrap(),
        0
    );
    let next = vn_on(due + TimeDelta::days(1), 7, 0);
    assert_eq!(w.run_job(Job::DailySweep, next).await.unwrap(), 1);
    assert_eq!(w.run_job(Job::DailySweep, next).await.unwrap(), 0);
    assert_eq!(
        w.run_job(Job::DailySweep, next + TimeDelta::days(1))
            .await
            .unwrap(),
        0
    );
    let r = w.dispatch_due(next).await.unwrap();
    assert!(r.sent >= 1, "{r:?}");
    let got = sink.wait_for(2, WAIT).await;
    let notice = got
        .iter()
        .find(|m| m.subject().starts_with("Quá hạn ra quyết định kết nạp"))
        .unwrap_or_else(|| panic!("{got:?}"));
    assert_eq!(notice.to, vec![STANDING.to_owned()]);
    assert!(notice.body().contains("A10"), "{}", notice.body());
}

#[tokio::test]
async fn weekly_digests_list_everything_due_in_one_mail_per_secretary_and_committee() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    f.open_case("Hồ sơ một", opened_at()).await;
    f.open_case("Hồ sơ hai", opened_at()).await;
    let w = f.worker(&sink.url(), options());
    let monday = vn(2026, 11, 30, 7, 30);
    // The branch's secretary and the grassroots committee above it.
    assert_eq!(w.run_job(Job::WeeklyDigest, monday).await.unwrap(), 2);
    assert_eq!(w.run_job(Job::WeeklyDigest, monday).await.unwrap(), 0);
    // The two digests, and the two cases' reminders of the day.
    assert_eq!(w.dispatch_due(monday).await.unwrap().sent, 4);
    let got: Vec<_> = sink
        .wait_for(4, WAIT)
        .await
        .into_iter()
        .filter(|m| m.subject().starts_with("Tổng hợp công việc đến hạn"))
        .collect();
    assert_eq!(got.len(), 2);
    for m in &got {
        let body = m.body();
        assert!(
            body.contains("Hồ sơ một") && body.contains("Hồ sơ hai"),
            "{body}"
        );
        assert!(m.subject().contains("2026-W49"), "{}", m.subject());
    }
    let to: HashSet<String> = got.iter().map(|m| m.to[0].clone()).collect();
    // secretary@branch, and standing_committee@grassroots via the role-only key.
    assert_eq!(
        to,
        HashSet::from([SECRETARY.to_owned(), STANDING.to_owned()])
    );
}

#[tokio::test]
async fn monthly_meetings_and_target_reports_are_enqueued_once_per_month() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    for i in 0..20 {
        f.member(
            &format!("Đảng viên {i}"),
            MemberStatus::Official,
            date(2010, 5, 10),
        )
        .await;
    }
    f.member(
        "Đảng viên mới",
        MemberStatus::Probationary,
        date(2026, 3, 2),
    )
    .await;
    // The target report's band comes from the rule set of the year (S21).
    let w = f
        .worker(&sink.url(), options())
        .with_catalog(Arc::new(rules_catalog()));
    let first = vn(2026, 12, 1, 8, 0);
    // The branch and the grassroots committee meet monthly (S1).
    assert_eq!(w.run_job(Job::MonthlyMeeting, first).await.unwrap(), 2);
    assert_eq!(
        w.run_job(Job::MonthlyMeeting, first + TimeDelta::hours(1))
            .await
            .unwrap(),
        0
    );
    let fifth = vn(2026, 12, 5, 8, 0);
    assert_eq!(w.run_job(Job::MonthlyTargetReport, fifth).await.unwrap(), 1);
    assert_eq!(w.run_job(Job::MonthlyTargetReport, fifth).await.unwrap(), 0);
    assert_eq!(w.dispatch_due(fifth).await.unwrap().sent, 3);
    let got = sink.wait_for(3, WAIT).await;
    let report = got
        .iter()
        .find(|m| {
            m.subject()
                .starts_with("Báo cáo chỉ tiêu kết nạp đảng viên năm 2026")
        })
        .unwrap_or_else(|| panic!("{got:?}"));
    let body = report.body();
    // S21: 20 members on 31/12/2025; 3–4% of 20 rounds up to 1; one admitted in 2026.
    assert!(
        body.contains("Số đảng viên ngày 31/12 năm trước: 20"),
        "{body}"
    );
    assert!(body.contains("1–1 đảng viên"), "{body}");
    assert!(body.contains("Đã kết nạp: 1"), "{body}");
    assert_eq!(report.to, vec![FALLBACK.to_owned()]);
    let meetings = got
        .iter()
        .filter(|m| {
            m.subject()
                .starts_with("Nhắc lịch sinh hoạt chi bộ tháng 2026-12")
        })
        .count();
    assert_eq!(meetings, 2);
}

#[tokio::test]
async fn a_mail_whose_role_has_no_address_is_a_dead_letter_at_once() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    f.store
        .outbox()
        .enqueue(
            vec![
                mail_row(
                    "mail:nobody",
                    "admission.decision_issued",
                    RoleRef::at("secretary", RoleLevel::Branch),
                ),
                mail_row(
                    "mail:unknown-template",
                    "no.such.template",
                    RoleRef::at("secretary", RoleLevel::Branch),
                ),
            ],
            opened_at(),
        )
        .await
        .unwrap();
    let w = Worker::new(
        f.store.clone(),
        Some(Mailer::new(&sink.url(), "noreply@example.vn").unwrap()),
        Schedules::default(),
        Recipients::default(),
        options(),
    );
    let r = w.dispatch_due(opened_at()).await.unwrap();
    assert_eq!((r.sent, r.dead), (0, 2));
    let dead = f.store.outbox().dead_letters(10).await.unwrap();
    let errors: Vec<String> = dead.iter().filter_map(|d| d.last_error.clone()).collect();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("no e-mail address for secretary@branch")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown mail template no.such.template")),
        "{errors:?}"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn credentials_come_from_the_url_and_a_wrong_password_is_retried_not_logged() {
    let sink = SmtpSink::with_credentials("mf", "p@ss word").await;
    let f = Fixture::new().await;
    f.store
        .outbox()
        .enqueue(
            vec![
                mail_row("mail:a", "admission.recognised", RoleRef::anywhere("x")),
                mail_row("mail:b", "admission.recognised", RoleRef::anywhere("x")),
            ],
            opened_at(),
        )
        .await
        .unwrap();
    let port = sink.port();
    let wrong = worker_on(
        f.store.clone(),
        &format!("smtp://mf:wrong-secret@127.0.0.1:{port}"),
        WorkerOptions {
            batch: 1,
            ..options()
        },
    );
    let r = wrong.dispatch_due(opened_at()).await.unwrap();
    assert_eq!(r.sent, 0);
    let rows = f.store.outbox().records(None, None, 10).await.unwrap();
    for row in &rows {
        let e = row.last_error.clone().unwrap_or_default();
        assert!(!e.contains("wrong-secret"), "{e}");
    }
    let right = worker_on(
        f.store.clone(),
        &format!("smtp://mf:p%40ss%20word@127.0.0.1:{port}?tls=none"),
        options(),
    );
    let r = right
        .dispatch_due(opened_at() + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(r.sent, 2);
    let got = sink.wait_for(2, WAIT).await;
    assert!(got.iter().all(|m| m.auth.as_deref() == Some("mf")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_sends_wakes_on_demand_and_stops_on_shutdown() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:loop:1",
                "admission.recognised",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            opened_at(),
        )
        .await
        .unwrap();
    let now: DateTime<Utc> = opened_at();
    let w = f
        .worker(
            &sink.url(),
            WorkerOptions {
                // Without a wake the loop would sleep for an hour.
                max_idle: Duration::from_secs(3600),
                ..options()
            },
        )
        .with_clock(Arc::new(move || now));
    let handle = w.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(w.run(async move {
        let _ = stopped.await;
    }));
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);

    // A commit adds work; the wake makes the loop see it now.
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:loop:2",
                "admission.recognised",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            now,
        )
        .await
        .unwrap();
    handle.wake();
    assert_eq!(sink.wait_for(2, WAIT).await.len(), 2);

    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn bad_cron_expressions_are_rejected_with_a_clear_message() {
    let e = Schedules::parse([
        (Job::DailySweep, "30 7 * * *"),
        (Job::WeeklyDigest, "0 30 7 * * 1"),
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("schedules.daily_sweep"), "{e}");
    assert!(e.contains("seconds field"), "{e}");
    assert!(e.contains("schedules.weekly_digest"), "{e}");
    assert!(e.contains("1 means Sunday"), "{e}");
    assert!(memberflow_worker::validate_cron("0 30 7 * * Mon-Fri").is_ok());
}

/// A workflow whose deadline escalates when it passes (like A10's overdue decision).
const ESCALATE: &str = r#"
id = "escalate"
version = 1
title = "Escalation test workflow"

[open]
to = "Waiting"
by = [{ role = "secretary", level = "branch" }]

[[state]]
name = "Waiting"
[[state.deadline]]
key = "decision"
rule = "A10"
period = { working_days = 5 }
escalate = "expire"

[[state]]
name = "Expired"
terminal = true

[[transition]]
name = "expire"
from = ["Waiting"]
to = "Expired"
by = [{ role = "system" }]
"#;

#[tokio::test]
async fn a_passed_deadline_fires_its_escalation_once_as_the_system_even_with_mail_off() {
    use memberflow_store::{CaseOutcome, Command, NewCase, RefusalRecording};
    use memberflow_workflow::engine::{Actor, Definition, Event};

    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let mut catalog = catalog();
    catalog
        .definitions
        .push(Definition::from_toml_str(ESCALATE).unwrap());
    let catalog = Arc::new(catalog);
    let actor = Actor::new("u1", vec![RoleRef::at("secretary", RoleLevel::Branch)]);
    let opened = f
        .store
        .cases()
        .open_case(
            &catalog,
            NewCase {
                definition_id: "escalate".into(),
                unit_id: f.branch.id,
                subject_member_id: None,
                title: "Quá hạn".into(),
            },
            Command {
                event: Event::new("open", actor),
                idempotency_key: None,
                refusals: RefusalRecording::Discard,
                today: memberflow_worker::today_in_vietnam(opened_at()),
                now: opened_at(),
            },
        )
        .await
        .unwrap();
    let CaseOutcome::Applied { case, .. } = opened else {
        panic!("not opened: {opened:?}")
    };
    let due = case.next_due.unwrap();
    // Mail is off: a passed deadline has legal effect, so the sweep escalates all the same.
    let w = Worker::new(
        f.store.clone(),
        None,
        Schedules::default(),
        recipients(),
        options(),
    )
    .with_catalog(catalog.clone());
    // On the due day the decision is still in time.
    w.run_job(Job::DailySweep, vn_on(due, 7, 0)).await.unwrap();
    assert_eq!(
        f.store.cases().case(case.id).await.unwrap().state,
        "Waiting"
    );
    // The day after, the sweep escalates, once however often it runs.
    let next = vn_on(due + TimeDelta::days(1), 7, 0);
    w.run_job(Job::DailySweep, next).await.unwrap();
    w.run_job(Job::DailySweep, next).await.unwrap();
    let after = f.store.cases().case(case.id).await.unwrap();
    assert_eq!(after.state, "Expired");
    let history = f.store.cases().case_events(case.id).await.unwrap();
    let escalations: Vec<_> = history
        .iter()
        .filter(|e| e.transition == "expire")
        .collect();
    assert_eq!(escalations.len(), 1, "{history:#?}");
    assert_eq!(escalations[0].actor, "system");
    // Nothing is sent without a mailer; a mail due now waits for one.
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:off:1",
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            next,
        )
        .await
        .unwrap();
    let report = w.dispatch_due(next).await.unwrap();
    assert_eq!(report.claimed, 0);
    assert!(sink.messages().is_empty());
    // A mailing worker on the same database sends what waited.
    let mailing = f.worker(&sink.url(), options()).with_catalog(catalog);
    assert!(mailing.dispatch_due(next).await.unwrap().sent >= 1);
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
}

#[tokio::test]
async fn s3_s5_thematic_meetings_each_quarter_and_the_rating_season_each_year_once() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let w = f.worker(&sink.url(), options());
    // The branch and the grassroots committee: one thematic meeting per quarter (S3).
    let april = vn(2026, 4, 1, 8, 0);
    assert_eq!(
        w.run_job(Job::QuarterlyThematicMeeting, april)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        w.run_job(Job::QuarterlyThematicMeeting, april + TimeDelta::hours(2))
            .await
            .unwrap(),
        0
    );
    let july = vn(2026, 7, 1, 8, 0);
    assert_eq!(
        w.run_job(Job::QuarterlyThematicMeeting, july)
            .await
            .unwrap(),
        2
    );
    // The rating season once a year (S5).
    let december = vn(2026, 12, 1, 8, 0);
    assert_eq!(w.run_job(Job::AnnualRating, december).await.unwrap(), 2);
    assert_eq!(w.run_job(Job::AnnualRating, december).await.unwrap(), 0);
    assert_eq!(w.dispatch_due(december).await.unwrap().sent, 6);
    let got = sink.wait_for(6, WAIT).await;
    let subjects: Vec<String> = got.iter().map(|m| m.subject()).collect();
    for q in ["2026-Q2", "2026-Q3"] {
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.starts_with(&format!("Nhắc sinh hoạt chuyên đề quý {q}")))
                .count(),
            2,
            "{subjects:?}"
        );
    }
    let rating = got
        .iter()
        .find(|m| {
            m.subject()
                .starts_with("Kiểm điểm, đánh giá, xếp loại chất lượng năm 2026")
        })
        .unwrap_or_else(|| panic!("{subjects:?}"));
    assert!(rating.body().contains("124-QĐ/TW"), "{}", rating.body());
    // The default schedules: the first day of each quarter, and 1 December.
    let s = Schedules::default();
    assert_eq!(
        s.expr(Job::QuarterlyThematicMeeting),
        Some("0 0 8 1 Jan,Apr,Jul,Oct *")
    );
    assert_eq!(s.expr(Job::AnnualRating), Some("0 0 8 1 Dec *"));
}

/// A worker that dies after claiming a mail and before sending it: nothing is lost — the
/// lease runs out and another worker sends it, once — and nothing is doubled — the dead
/// worker's late outcome is refused because its claim is gone.
#[tokio::test]
async fn a_worker_dying_between_claim_and_send_neither_loses_nor_duplicates_the_mail() {
    use memberflow_store::ClaimRequest;

    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    let t0 = vn(2026, 11, 25, 9, 0);
    f.store
        .outbox()
        .enqueue(
            vec![mail_row(
                "mail:crash:1",
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )],
            t0,
        )
        .await
        .unwrap();
    // Worker A claims the row, then dies (it never sends nor records anything).
    let lease = options().lease;
    let claimed = f
        .store
        .outbox()
        .claim(&ClaimRequest {
            now: t0,
            today: date(2026, 11, 25),
            reminders_through: date(2026, 11, 25),
            lease,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let dead_token = claimed[0].token.clone();
    let id = claimed[0].record.id;
    // Worker B, while the lease holds: leaves it alone.
    let b = f.worker(&sink.url(), options());
    let r = b.dispatch_due(t0 + lease / 2).await.unwrap();
    assert_eq!((r.claimed, r.sent), (0, 0));
    assert!(sink.messages().is_empty());
    // Once the lease ran out: B takes it over and sends it, once.
    let later = t0 + lease + TimeDelta::minutes(1);
    let r = b.dispatch_due(later).await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let r = b.dispatch_due(later + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!(r.sent, 0);
    // A comes back and tries to record an outcome under its old claim: refused.
    assert!(
        !f.store
            .outbox()
            .mark_sent(id, &dead_token, later)
            .await
            .unwrap()
    );
    assert!(
        !f.store
            .outbox()
            .still_claimed(id, &dead_token)
            .await
            .unwrap()
    );
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    let row = f.store.outbox().record(id).await.unwrap();
    assert_eq!(row.status, OutboxStatus::Sent);
    // Two attempts were counted: the dead worker's and B's.
    assert_eq!(row.attempts, 2);
}

/// A batch that takes longer than the lease keeps its rows: the worker renews the lease while
/// it sends (a heartbeat every third of the lease), so a second worker finds nothing to claim
/// and every mail goes out once. (Without the heartbeat the second worker would take the rows
/// not sent yet once the lease ran out, and send them as well.)
#[tokio::test]
async fn a_batch_slower_than_its_lease_keeps_its_claim_through_the_heartbeat() {
    let sink = SmtpSink::start().await;
    sink.slow(Duration::from_millis(1000));
    let f = Fixture::new().await;
    let t0 = vn(2026, 11, 25, 9, 0);
    let rows = (0..4)
        .map(|i| {
            mail_row(
                &format!("mail:slow:{i}"),
                "admission.decision_issued",
                RoleRef::at("secretary", RoleLevel::Branch),
            )
        })
        .collect();
    f.store.outbox().enqueue(rows, t0).await.unwrap();
    let lease = TimeDelta::milliseconds(1500);
    let a = f.worker(
        &sink.url(),
        WorkerOptions {
            lease,
            instance: "a".into(),
            ..options()
        },
    );
    let b = f.worker(
        &sink.url(),
        WorkerOptions {
            lease,
            instance: "b".into(),
            ..options()
        },
    );
    let started = std::time::Instant::now();
    let first = tokio::spawn(async move { a.dispatch_due(t0).await });
    // Well past the first lease, while A is still sending.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let elapsed = TimeDelta::from_std(started.elapsed()).unwrap();
    assert!(elapsed > lease);
    let r = b.dispatch_due(t0 + elapsed).await.unwrap();
    assert_eq!(r.claimed, 0, "{r:?}");
    let r = first.await.unwrap().unwrap();
    assert_eq!(r.sent, 4, "{r:?}");
    let got = sink.messages();
    let ids: HashSet<String> = got.iter().map(|m| m.message_id()).collect();
    assert_eq!((got.len(), ids.len()), (4, 4));
}

/// S20, S21: the monthly report names the grassroots organizations behind the 3% floor, with
/// the admissions they still miss: 40 members at the start of the year make a floor of 2, and
/// none admitted by November.
#[tokio::test]
async fn s20_the_monthly_target_report_names_the_units_falling_behind() {
    let sink = SmtpSink::start().await;
    let f = Fixture::new().await;
    for i in 0..40 {
        f.member(
            &format!("Đảng viên {i}"),
            MemberStatus::Official,
            date(2010, 5, 10),
        )
        .await;
    }
    let w = f
        .worker(&sink.url(), options())
        .with_catalog(f.catalog.clone());
    let fifth = vn(2026, 11, 5, 8, 0);
    assert_eq!(w.run_job(Job::MonthlyTargetReport, fifth).await.unwrap(), 1);
    assert_eq!(w.dispatch_due(fifth).await.unwrap().sent, 1);
    let got = sink.wait_for(1, WAIT).await;
    let body = got[0].body();
    assert!(body.contains("Các tổ chức cơ sở đảng chậm nhất"), "{body}");
    assert!(
        body.contains("- Đơn vị HG-D1-X (HG-D1-X): còn thiếu 2"),
        "{body}"
    );
}
