//! Mail after a crash: the real binary is killed (`kill -9`) in the middle of an outbox pass,
//! with a mail's SMTP transaction in flight, and started again. The restarted instance frees
//! the claims its predecessor left at once (it does not wait for their leases to run out),
//! every mail reaches the SMTP server, and the only one sent twice is the one in flight, with
//! the same Message-ID both times (docs/reminders.md).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use memberflow_api::FixedClock;
use memberflow_server::{Application, Config};
use memberflow_tests::{TestDb, schemas_with};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::binary::{memberflow, sigterm, start};
use crate::mail::{MAILING, smtp_server_with};

/// Mails waiting when the binary starts.
const MAILS: usize = 12;

async fn gql(client: &reqwest::Client, base: &str, query: &str, variables: Value) -> Value {
    let r: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
    r["data"].clone()
}

/// Fills the outbox of `db` with `MAILS` mails to send now, through the API of a server
/// without mail (the mail waits in the outbox).
async fn fill_outbox(db: &TestDb, schemas: &std::path::Path) {
    let config = Config {
        database_url: db.url().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        schemas_dir: Some(schemas.to_owned()),
        ..Config::default()
    };
    let app = Application::build(&config, Arc::new(FixedClock(chrono::Utc::now())))
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let token = memberflow_tests::operator_token_for(db.url()).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let mut parent: Option<String> = None;
    for (code, kind) in [
        ("HG", "PROVINCE"),
        ("HG-D1", "DISTRICT"),
        ("HG-D1-X", "GRASSROOTS_COMMITTEE"),
        ("HG-D1-X-1", "BRANCH"),
    ] {
        let d = gql(
            &client,
            &base,
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "code": code, "name": format!("Đơn vị {code}"), "kind": kind,
                           "parentId": parent, "validFrom": "2005-01-01" } }),
        )
        .await;
        parent = Some(d["createUnit"]["id"].as_str().unwrap().to_owned());
    }
    for i in 0..MAILS {
        let d = gql(
            &client,
            &base,
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
            json!({ "i": { "definitionId": "mailing", "unitId": parent,
                           "title": format!("Hồ sơ thư {i}"), "inputs": {} } }),
        )
        .await;
        gql(
            &client,
            &base,
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
            json!({ "i": { "caseId": d["openCase"]["case"]["id"], "transition": "finish",
                           "inputs": {} } }),
        )
        .await;
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

fn message_id(m: &str) -> String {
    m.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_else(|| panic!("no Message-ID: {m}"))
        .to_owned()
}

async fn sent_rows(db: &TestDb) -> i64 {
    let conn = Database::connect(db.url()).await.unwrap();
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'SENT'",
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get::<i64>("", "n").unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test]
async fn a_worker_killed_while_sending_is_followed_at_once_and_resends_only_the_mail_in_flight() {
    let schemas = schemas_with(&[("workflows/mailing.toml", MAILING)]);
    let db = TestDb::create().await;
    fill_outbox(&db, schemas.path()).await;

    // Each message is kept when transmitted and acknowledged 400 ms later: a kill right after
    // the third one arrives catches its transaction in flight.
    let inbox: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = inbox.clone();
    let smtp = smtp_server_with(
        move |m| {
            keep.lock().unwrap().push(m);
            true
        },
        Duration::from_millis(400),
    )
    .await;
    let work = tempfile::tempdir().unwrap();
    let binary = || {
        let mut c = memberflow(work.path());
        c.env("MEMBERFLOW_DATABASE_URL", db.url())
            .env("MEMBERFLOW_SCHEMAS_DIR", schemas.path())
            .env("MEMBERFLOW_SMTP_URL", format!("smtp://{smtp}"))
            .env("MEMBERFLOW_MAIL_FROM", "Memberflow <noreply@example.vn>")
            .env("MEMBERFLOW_MAIL__RECIPIENTS__DEFAULT", "bithu@example.vn")
            .env("MEMBERFLOW_MAIL__INSTANCE", "crash-test");
        // The outbox's mails only: the scheduler's jobs run at start-up when one of their
        // ticks fell in the last day (the monthly target report on the 5th, ...), which
        // would add mails of the day the test runs on. 29 February is two years away.
        for job in memberflow_worker::Job::ALL {
            c.env(
                format!("MEMBERFLOW_SCHEDULES__{}", job.key().to_uppercase()),
                "0 0 8 29 Feb *",
            );
        }
        c
    };

    let (mut first, _) = start(binary());
    let deadline = Instant::now() + Duration::from_secs(30);
    while inbox.lock().unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "the first run sent nothing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap(); // SIGKILL: no shutdown, no outcome recorded
    first.wait().unwrap();
    let before_restart: Vec<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .map(|m| message_id(m))
        .collect();
    assert!(before_restart.len() < MAILS, "{before_restart:?}");

    // The restarted instance sends the rest now, not after the lease (a minute).
    let restarted_at = Instant::now();
    let (second, _) = start(binary());
    let all_sent = loop {
        let ids: Vec<String> = inbox
            .lock()
            .unwrap()
            .iter()
            .map(|m| message_id(m))
            .collect();
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        if distinct.len() == MAILS && sent_rows(&db).await == MAILS as i64 {
            break ids;
        }
        assert!(
            restarted_at.elapsed() < Duration::from_secs(30),
            "after the restart only {} of {MAILS} mails were sent: {ids:?}",
            distinct.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    sigterm(&second);
    let mut second = second;
    second.wait().unwrap();

    // At most one mail was sent twice: the one in flight at the kill, with the same
    // Message-ID both times.
    let mut times: BTreeMap<&String, usize> = BTreeMap::new();
    for id in &all_sent {
        *times.entry(id).or_default() += 1;
    }
    let twice: Vec<&&String> = times
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| id)
        .collect();
    assert!(twice.len() <= 1, "{all_sent:?}");
    assert!(times.values().all(|n| *n <= 2), "{all_sent:?}");
    if let Some(id) = twice.first() {
        assert_eq!(before_restart.last(), Some(**id), "{all_sent:?}");
    }
    assert_eq!(all_sent.len(), MAILS + twice.len());
}
