//! Mail through the front door: the server started with `smtp_url` runs the worker beside the
//! HTTP server, a step's mail reaches a real SMTP server (a small one on a loopback port),
//! once, with its stable Message-ID, and the worker stops with the server. The binary refuses
//! bad cron expressions before it serves. The worker's own tests (`services/worker/tests`)
//! cover retries, dead letters, cancellation, concurrency and the periodic jobs.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memberflow_api::FixedClock;
use memberflow_server::{Application, Config};
use memberflow_tests::{TestDb, default_now, schemas_with};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A workflow whose `finish` step sends a mail (with a template the worker has).
pub(crate) const MAILING: &str = r#"
id = "mailing"
version = 1
title = "Mail test workflow"

[open]
to = "Waiting"
by = [{ role = "secretary", level = "branch" }]

[[state]]
name = "Waiting"

[[state]]
name = "Done"
terminal = true

[[transition]]
name = "finish"
from = ["Waiting"]
to = "Done"
by = [{ role = "secretary", level = "branch" }]
effect = [{ kind = "send_mail", template = "admission.decision_issued", to = { role = "secretary", level = "branch" } }]
"#;

/// The raw messages an SMTP listener accepted.
pub(crate) type Inbox = Arc<Mutex<Vec<String>>>;

/// A minimal SMTP server on a loopback port: `judge` gets every message as transmitted and
/// says whether it is accepted (`250`) or refused for now (`451`, the sender retries).
pub(crate) async fn smtp_server(
    judge: impl Fn(String) -> bool + Send + Sync + 'static,
) -> SocketAddr {
    smtp_server_with(judge, Duration::ZERO).await
}

/// The same, answering each message only `delay` after it was transmitted (and judged): a
/// slow server, to catch a sender in the middle of a transaction.
pub(crate) async fn smtp_server_with(
    judge: impl Fn(String) -> bool + Send + Sync + 'static,
    delay: Duration,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let judge = Arc::new(judge);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let judge = judge.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r);
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if cmd == "DATA" {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        let accepted = judge(data);
                        tokio::time::sleep(delay).await;
                        if accepted {
                            b"250 queued\r\n"
                        } else {
                            b"451 4.3.0 try again later\r\n"
                        }
                    } else if cmd == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    addr
}

/// An SMTP server that accepts every message and keeps it as transmitted.
pub(crate) async fn smtp_sink() -> (SocketAddr, Inbox) {
    let inbox: Inbox = Arc::default();
    let keep = inbox.clone();
    let addr = smtp_server(move |data| {
        keep.lock().unwrap().push(data);
        true
    })
    .await;
    (addr, inbox)
}

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

async fn unit(
    client: &reqwest::Client,
    base: &str,
    code: &str,
    kind: &str,
    parent: Option<&str>,
) -> String {
    let d = gql(
        client,
        base,
        "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
        json!({ "i": { "code": code, "name": format!("Đơn vị {code}"), "kind": kind,
                       "parentId": parent, "validFrom": "2005-01-01" } }),
    )
    .await;
    d["createUnit"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_step_s_mail_reaches_the_smtp_server_and_the_worker_stops_with_the_server() {
    let (smtp, inbox) = smtp_sink().await;
    let schemas = schemas_with(&[("workflows/mailing.toml", MAILING)]);
    let db = TestDb::create().await;
    let mut config = Config {
        database_url: db.url().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        schemas_dir: Some(schemas.path().to_owned()),
        smtp_url: Some(format!("smtp://{smtp}")),
        mail_from: "Memberflow <noreply@example.vn>".into(),
        ..Config::default()
    };
    config
        .mail
        .recipients
        .insert("secretary@branch".into(), "bithu@example.vn".into());
    let app = Application::build(&config, Arc::new(FixedClock(default_now())))
        .await
        .unwrap();
    let worker = app.worker_handle().expect("mail is on");
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
    let p = unit(&client, &base, "HG", "PROVINCE", None).await;
    let d = unit(&client, &base, "HG-D1", "DISTRICT", Some(&p)).await;
    let g = unit(&client, &base, "HG-D1-X", "GRASSROOTS_COMMITTEE", Some(&d)).await;
    let b = unit(&client, &base, "HG-D1-X-1", "BRANCH", Some(&g)).await;
    let opened = gql(
        &client,
        &base,
        "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
        json!({ "i": { "definitionId": "mailing", "unitId": b, "title": "Hồ sơ thư",
                       "inputs": {} } }),
    )
    .await;
    let case = opened["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(
        &client,
        &base,
        "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
        json!({ "i": { "caseId": case, "transition": "finish", "inputs": {} } }),
    )
    .await;
    // The step committed a mail to send now; the wake spares the loop's idle wait.
    worker.wake();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while inbox.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert!(m.contains("To: bithu@example.vn\r\n"), "{m}");
    assert!(m.contains("Content-Language: vi\r\n"), "{m}");
    let id_line = m
        .lines()
        .find(|l| l.starts_with("Message-ID: "))
        .unwrap_or_else(|| panic!("{m}"));
    assert!(
        id_line.starts_with("Message-ID: <outbox-") && id_line.ends_with("@example.vn>"),
        "{id_line}"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("the server and its worker stop")
        .unwrap()
        .unwrap();
}

#[test]
fn the_binary_refuses_bad_cron_expressions_before_serving() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
        .current_dir(dir.path())
        .env_remove("MEMBERFLOW_DATABASE_URL")
        .env_remove("MEMBERFLOW_CONFIG")
        .env("MEMBERFLOW_LISTEN", "127.0.0.1:0")
        // A crontab line without seconds, and Monday written as 1 (which means Sunday).
        .env("MEMBERFLOW_SCHEDULES__WEEKLY_DIGEST", "30 7 * * 1")
        .env("MEMBERFLOW_SCHEDULES__MONTHLY_MEETING", "0 0 8 * * 2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("schedules.weekly_digest"), "{err}");
    assert!(err.contains("seconds field"), "{err}");
    assert!(err.contains("schedules.monthly_meeting"), "{err}");
    assert!(err.contains("1 means Sunday"), "{err}");
    // Refused before anything else: no database file was created.
    assert!(!dir.path().join("memberflow.db").exists());
}

/// The mail wording is data: a template file under the configured `schemas_dir` replaces the
/// built-in one, without Rust.
#[tokio::test]
async fn a_template_file_in_the_schemas_directory_words_the_mail() {
    let (smtp, inbox) = smtp_sink().await;
    let schemas = schemas_with(&[
        ("workflows/mailing.toml", MAILING),
        (
            "mail/admission.decision_issued.vi.txt",
            "Quyet dinh da co: {{ case }}\n\nKinh gui {{ unit }}.\n",
        ),
    ]);
    let db = TestDb::create().await;
    let mut config = Config {
        database_url: db.url().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        schemas_dir: Some(schemas.path().to_owned()),
        smtp_url: Some(format!("smtp://{smtp}")),
        mail_from: "Memberflow <noreply@example.vn>".into(),
        ..Config::default()
    };
    config
        .mail
        .recipients
        .insert("secretary@branch".into(), "bithu@example.vn".into());
    let app = Application::build(&config, Arc::new(FixedClock(default_now())))
        .await
        .unwrap();
    let worker = app.worker_handle().expect("mail is on");
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
    let p = unit(&client, &base, "HG", "PROVINCE", None).await;
    let d = unit(&client, &base, "HG-D1", "DISTRICT", Some(&p)).await;
    let g = unit(&client, &base, "HG-D1-X", "GRASSROOTS_COMMITTEE", Some(&d)).await;
    let b = unit(&client, &base, "HG-D1-X-1", "BRANCH", Some(&g)).await;
    let opened = gql(
        &client,
        &base,
        "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
        json!({ "i": { "definitionId": "mailing", "unitId": b, "title": "Ho so thu",
                       "inputs": {} } }),
    )
    .await;
    let case = opened["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(
        &client,
        &base,
        "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
        json!({ "i": { "caseId": case, "transition": "finish", "inputs": {} } }),
    )
    .await;
    worker.wake();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while inbox.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("\r\nSubject: Quyet dinh da co: Ho so thu\r\n"),
        "{}",
        got[0]
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("the server and its worker stop")
        .unwrap()
        .unwrap();
}

/// `memberflow check` (the real binary) refuses a template that uses a variable its mail
/// does not have, naming the code, the file and the line; the server refuses to start with
/// it.
#[tokio::test]
async fn check_fails_on_a_template_with_an_unknown_variable_and_the_server_does_not_start() {
    let schemas = schemas_with(&[(
        "mail/admission.refused.en.txt",
        "Admission refused: {{ case }}\n\nTo the secretary of {{ unit }},\n\nCase {{ caes }}.\n",
    )]);
    let o = crate::binary::memberflow(schemas.path())
        .env("MEMBERFLOW_SCHEMAS_DIR", schemas.path())
        .arg("check")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains(
            "error: mail/admission.refused.en.txt: error[MAIL_UNKNOWN_VARIABLE] line 5: `caes` \
             is not a variable of this mail"
        ),
        "{out}"
    );
    assert!(out.contains("1 problem(s)"), "{out}");

    let db = TestDb::create().await;
    let config = Config {
        database_url: db.url().to_owned(),
        listen: "127.0.0.1:0".parse().unwrap(),
        schemas_dir: Some(schemas.path().to_owned()),
        ..Config::default()
    };
    let Err(err) = Application::build(&config, Arc::new(FixedClock(default_now()))).await else {
        panic!("the server refuses to start");
    };
    assert!(
        format!("{err:#}").contains("MAIL_UNKNOWN_VARIABLE"),
        "{err:#}"
    );
}
