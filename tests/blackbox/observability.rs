//! What an operator sees: `/metrics` in the Prometheus text format with the series
//! docs/metrics.md lists, and request ids in response headers, error extensions and the log.

use std::collections::BTreeSet;
use std::time::Duration;

use memberflow_tests::{TestApp, TestDb, schemas_with, spawn_app, spawn_app_on, spawn_app_with};
use serde_json::json;

use crate::binary::{memberflow, sigterm};
use crate::support::{member, province};

/// The value of the series `name{labels}` (labels exactly as rendered), if present.
fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let r = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let text = r.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
    text
}

#[tokio::test]
async fn metrics_count_operations_errors_refusals_cases_steps_deadlines_outbox_and_the_pool() {
    let dir = schemas_with(&[("workflows/toy.toml", include_str!("../data/toy.toml"))]);
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |c| c.schemas_dir = Some(path)).await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let open = |title: &str| {
        json!({ "i": { "definitionId": "toy", "unitId": p.b1, "title": title,
            "inputs": { "title": title, "owner": owner } } })
    };
    const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }";
    const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }";
    let a = app.ok(OPEN, open("Một")).await["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(OPEN, open("Hai")).await;
    let submit = |votes: i64| {
        json!({ "i": { "caseId": a, "transition": "submit", "on": "2026-11-25",
            "inputs": { "votes_for": votes, "official_members": 12 } } })
    };
    // 7 of 12 is refused by A8; 8 of 12 moves the case to Review, with a deadline.
    let refused = app.gql(FIRE, submit(7)).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "TRANSITION_REFUSED"
    );
    app.ok(FIRE, submit(8)).await;
    let invalid = app.gql("{ noSuchField }", json!({})).await;
    assert_eq!(
        invalid["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );

    let text = scrape(&app).await;
    let op = |o: &str| format!("memberflow_graphql_requests_total{{operation=\"{o}\"}}");
    assert_eq!(series(&text, &op("openCase")), Some(2.0), "{text}");
    assert_eq!(series(&text, &op("fireTransition")), Some(2.0), "{text}");
    assert_eq!(series(&text, &op("invalid")), Some(1.0), "{text}");
    assert!(series(&text, &op("noSuchField")).is_none(), "{text}");
    assert_eq!(
        series(
            &text,
            "memberflow_graphql_request_duration_seconds_count{operation=\"openCase\"}"
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "memberflow_graphql_errors_total{code=\"TRANSITION_REFUSED\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "memberflow_graphql_errors_total{code=\"GRAPHQL_VALIDATION_FAILED\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "memberflow_refusals_total{rule=\"A8\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "memberflow_open_cases{workflow=\"toy\",state=\"Draft\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "memberflow_open_cases{workflow=\"toy\",state=\"Review\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "memberflow_case_steps_total{workflow=\"toy\",transition=\"submit\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(&text, "memberflow_overdue_deadlines{workflow=\"toy\"}"),
        Some(0.0),
        "{text}"
    );
    for status in ["pending", "sent", "dead"] {
        assert!(
            series(&text, &format!("memberflow_outbox{{status=\"{status}\"}}")).is_some(),
            "{status}: {text}"
        );
    }
    assert!(
        series(&text, "memberflow_outbox_oldest_pending_age_seconds").is_some(),
        "{text}"
    );
    assert_eq!(series(&text, "memberflow_database_up"), Some(1.0));
    let pool = series(&text, "memberflow_db_pool_connections").unwrap();
    let max = series(&text, "memberflow_db_pool_max_connections").unwrap();
    assert!(pool >= 1.0 && pool <= max, "{text}");

    // The review deadline (2/12/2026) passes: the case's deadline is overdue.
    app.set_today("2026-12-10");
    let text = scrape(&app).await;
    assert_eq!(
        series(&text, "memberflow_overdue_deadlines{workflow=\"toy\"}"),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn the_scheduler_s_runs_and_lag_are_metrics() {
    let dir = schemas_with(&[("workflows/toy.toml", include_str!("../data/toy.toml"))]);
    let path = dir.path().to_owned();
    let app = spawn_app_on(TestDb::create().await, move |c| {
        c.schedules.enabled = true;
        c.schemas_dir = Some(path);
    })
    .await;
    // A step, a refusal and an open deadline, so that every family has a sample.
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let case = app
        .ok(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
            json!({ "i": { "definitionId": "toy", "unitId": p.b1, "title": "Một",
                "inputs": { "title": "Một", "owner": owner } } }),
        )
        .await["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for votes in [7, 8] {
        app.gql(
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
            json!({ "i": { "caseId": case, "transition": "submit", "on": "2026-11-25",
                "inputs": { "votes_for": votes, "official_members": 12 } } }),
        )
        .await;
    }
    // The test clock stands at 10:00 in Vietnam: the daily sweep of 07:00 runs at start-up,
    // three hours late.
    let mut text = String::new();
    for _ in 0..100 {
        text = scrape(&app).await;
        if text.contains("memberflow_scheduler_runs_total{job=\"daily_sweep\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        series(
            &text,
            "memberflow_scheduler_runs_total{job=\"daily_sweep\",outcome=\"ok\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            "memberflow_scheduler_lag_seconds{job=\"daily_sweep\"}"
        ),
        Some(3.0 * 3600.0),
        "{text}"
    );
    assert!(
        series(
            &text,
            "memberflow_scheduler_run_duration_seconds{job=\"daily_sweep\"}"
        )
        .is_some()
    );

    // docs/metrics.md lists exactly the families served; the example dashboard queries only
    // those.
    app.set_today("2026-12-10");
    let text = scrape(&app).await;
    let served: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let family = |name: &str| {
        ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .fold(name.to_owned(), |n, s| {
                n.strip_suffix(s).map_or(n.clone(), str::to_owned)
            })
    };
    let names = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("memberflow_"))
            .map(family)
            .collect()
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/metrics.md")).unwrap();
    let documented: BTreeSet<String> = doc
        .lines()
        .filter(|l| l.starts_with("| `memberflow_"))
        .flat_map(names)
        .collect();
    assert_eq!(documented, served);
    let dashboard = std::fs::read_to_string(root.join("deploy/grafana-dashboard.json")).unwrap();
    let queried = names(&dashboard);
    assert!(queried.is_subset(&served), "{queried:?} vs {served:?}");
    assert_eq!(queried, served, "every family has a panel");
}

#[tokio::test]
async fn a_request_id_is_accepted_or_made_and_returned_in_the_header_and_the_errors() {
    let app = spawn_app().await;
    let post = |id: Option<&str>| {
        let mut r = app
            .client
            .post(format!("{}/graphql", app.base))
            .json(&json!({ "query": "{ unit(code: \"NOPE\") { id } }" }));
        if let Some(id) = id {
            r = r.header("x-request-id", id);
        }
        r.send()
    };
    let r = post(Some("client-chosen-42")).await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-chosen-42");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["requestId"], "client-chosen-42",
        "{body}"
    );
    // None given, or one that is not a sane token: a new UUID.
    for given in [None, Some("bad id with spaces")] {
        let r = post(given).await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["requestId"], id.as_str());
    }
    // Errors answered before the executor carry it too.
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-request-id", "early-1")
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["requestId"], "early-1");
}

/// A document sent again is not parsed again: the server keeps it once it has passed the
/// schema (`memberflow_graphql_documents_kept`), and runs the kept copy with each request's
/// own variables; a document that fails validation is not kept.
#[tokio::test]
async fn documents_that_pass_the_schema_are_kept_and_run_with_each_request_s_variables() {
    let app = spawn_app().await;
    let kept = |text: String| series(&text, "memberflow_graphql_documents_kept").unwrap();
    let before = kept(scrape(&app).await);
    let q = "query Kept($skip: Boolean!) { today again: today @skip(if: $skip) }";
    let first = app.ok(q, json!({ "skip": true })).await;
    let second = app.ok(q, json!({ "skip": false })).await;
    let third = app.ok(q, json!({ "skip": true })).await;
    assert!(first.get("again").is_none(), "{first}");
    assert!(second["again"].is_string(), "{second}");
    assert_eq!(first, third);
    assert_eq!(kept(scrape(&app).await), before + 1.0);
    for _ in 0..2 {
        let r = app
            .gql("query Unkept { today noSuchField }", json!({}))
            .await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{r}"
        );
    }
    assert_eq!(kept(scrape(&app).await), before + 1.0);
}

/// A kept document's variables are still checked: values that do not fit the types it
/// declares get, word for word, the answer they get before the document is kept, and values
/// that fit run as on the first request.
#[tokio::test]
async fn a_kept_document_s_variables_that_do_not_fit_get_the_full_validation_s_errors() {
    let app = spawn_app().await;
    let q = "query Risky($first: Int!, $status: OutboxStatus, $skip: Boolean!) \
             { today outbox(first: $first, status: $status) @skip(if: $skip) { id } }";
    let bad = [
        json!({ "first": "many", "skip": false }),
        json!({ "first": 1.5, "skip": false }),
        json!({ "first": null, "skip": false }),
        json!({ "skip": false }),
        json!({ "first": 2, "status": "NOPE", "skip": false }),
        json!({ "first": 2, "status": 1, "skip": false }),
        json!({ "first": 2, "skip": "no" }),
        json!({ "first": [2], "skip": false }),
    ];
    // The errors without the request's id, which differs from one request to the next.
    let errors = |mut r: serde_json::Value| {
        if let Some(errors) = r["errors"].as_array_mut() {
            for e in errors {
                e["extensions"]
                    .as_object_mut()
                    .map(|x| x.remove("requestId"));
            }
        }
        r
    };
    // Each first sent as a document of its own (a comment makes the text new), never kept.
    let mut before = Vec::new();
    for (i, v) in bad.iter().enumerate() {
        before.push(errors(app.gql(&format!("{q} # {i}"), v.clone()).await));
    }
    // (async-graphql lets a null or missing `$first: Int!` through to the nullable argument.)
    for at in [0, 1, 4, 5, 6, 7] {
        let code = &before[at]["errors"][0]["extensions"]["code"];
        assert_eq!(code, "VALIDATION", "{}: {}", bad[at], before[at]);
    }
    let checked = |text: String| series(&text, "memberflow_graphql_documents_checked").unwrap();
    let checked_before = checked(scrape(&app).await);
    let good = json!({ "first": 3, "status": "PENDING", "skip": false });
    let first = app.gql(q, good.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    // Kept and checked: every variable was given a value of its type.
    assert_eq!(checked(scrape(&app).await), checked_before + 1.0);
    for (v, expected) in bad.iter().zip(before) {
        assert_eq!(errors(app.gql(q, v.clone()).await), expected, "{v}");
    }
    assert_eq!(app.gql(q, good).await, first);
    let unfiltered = app
        .gql(q, json!({ "first": 3, "status": null, "skip": false }))
        .await;
    assert!(unfiltered.get("errors").is_none(), "{unfiltered}");
    assert!(unfiltered["data"]["outbox"].is_array(), "{unfiltered}");
    let skipped = app
        .gql(q, json!({ "first": 1, "status": "SENT", "skip": true }))
        .await;
    assert!(skipped.get("errors").is_none(), "{skipped}");
    assert!(skipped["data"].get("outbox").is_none(), "{skipped}");
    assert!(skipped["data"]["today"].is_string(), "{skipped}");
}

/// A document kept from a request that left a variable out (async-graphql then checks
/// nothing of the argument holding it) is not trusted for the parts of that argument written
/// in the document: a later request giving the variable is validated in full, refused as a
/// fresh document is, and the document is not marked checked.
#[tokio::test]
async fn a_document_kept_with_an_argument_unchecked_is_still_validated_in_full() {
    let app = spawn_app().await;
    let checked = |text: String| series(&text, "memberflow_graphql_documents_checked").unwrap();
    let before = checked(scrape(&app).await);
    let q = "query Loose($open: Boolean = true, $first: Int) \
             { cases(first: $first, filter: { openOnly: $open, overdue: \"no\" }) { totalCount } }";
    // `$open` left out: the argument holding it is not validated, the part of it written in
    // the document (`overdue` is a Boolean) neither; the document passes validation (the
    // resolver's own parse of the argument fails: an error of the field) and is kept,
    // unchecked.
    let kept_before = series(&scrape(&app).await, "memberflow_graphql_documents_kept").unwrap();
    let loose = app.gql(q, json!({ "first": 2 })).await;
    assert_eq!(loose["errors"][0]["path"], json!(["cases"]), "{loose}");
    let metrics = scrape(&app).await;
    assert_eq!(
        series(&metrics, "memberflow_graphql_documents_kept"),
        Some(kept_before + 1.0)
    );
    let given = json!({ "open": false, "first": 2 });
    let fresh = app.gql(&format!("{q} # fresh"), given.clone()).await;
    assert_eq!(
        fresh["errors"][0]["extensions"]["code"], "VALIDATION",
        "{fresh}"
    );
    for _ in 0..2 {
        let kept = app.gql(q, given.clone()).await;
        assert_eq!(
            kept["errors"][0]["extensions"]["detail"], fresh["errors"][0]["extensions"]["detail"],
            "{kept}"
        );
        assert_eq!(kept["data"], serde_json::Value::Null, "{kept}");
    }
    assert_eq!(checked(scrape(&app).await), before);
}

/// The log lines of the binary, started in `format` at `info`, that served one `{ today }`
/// with the request id `id` and was stopped.
async fn log_of_one_request(format: &str, id: &str) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = memberflow(dir.path())
        .env("MEMBERFLOW_LOG__FORMAT", format)
        .env("RUST_LOG", "info")
        // Colours are off in a pipe by themselves, not because the environment says so.
        .env_remove("NO_COLOR")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The "serving" line: `fields.addr` in JSON, `addr=…` in text.
    let addr = loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["fields"]["message"] == "serving" {
            break v["fields"]["addr"].as_str().unwrap().to_owned();
        }
        if line.contains("serving")
            && let Some(at) = line.find("addr=")
        {
            break line[at + 5..].split_whitespace().next().unwrap().to_owned();
        }
    };
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("x-request-id", id)
        .json(&json!({ "query": "{ today }" }))
        .send()
        .await
        .unwrap();
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    rx.try_iter().collect()
}

#[tokio::test]
async fn every_log_line_of_a_request_carries_its_id() {
    let lines: Vec<serde_json::Value> = log_of_one_request("json", "follow-me-7")
        .await
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of_request: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| v["span"]["name"] == "request")
        .collect();
    assert!(!of_request.is_empty(), "{lines:#?}");
    for v in &of_request {
        assert_eq!(v["span"]["request_id"], "follow-me-7", "{v}");
    }
}

/// The default (`pretty`) log format, written to a pipe as under a service manager: plain
/// text, no colour escapes; at `info` a request is its access line, with its id.
#[tokio::test]
async fn pretty_log_lines_into_a_pipe_are_plain_text() {
    let lines = log_of_one_request("pretty", "plain-text-1").await;
    assert!(
        lines.iter().all(|l| !l.contains('\u{1b}')),
        "colour escapes in a pipe: {lines:#?}"
    );
    let access: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("request_id=plain-text-1"))
        .collect();
    assert_eq!(access.len(), 1, "{lines:#?}");
    assert!(
        access[0].contains("finished processing request") && access[0].contains("status=200"),
        "{}",
        access[0]
    );
}

/// One HTTP/1.1 request read off `stream`: its path, content type and body; `None` at the end
/// of the connection.
async fn next_request(
    stream: &mut tokio::io::BufReader<tokio::net::TcpStream>,
) -> Option<(String, String, Vec<u8>)> {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};
    let mut line = String::new();
    if stream.read_line(&mut line).await.ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let (mut length, mut kind) = (0, String::new());
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "content-type" => kind = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((path, kind, body))
}

// Two threads: the collector answers while the test waits for the process to exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_as_traces_over_otlp_when_an_endpoint_is_set() {
    use tokio::io::AsyncWriteExt as _;
    // A collector on loopback: takes every OTLP/HTTP post, answers 200, hands it to the test.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = listener.local_addr().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut stream = tokio::io::BufReader::new(stream);
                while let Some(request) = next_request(&mut stream).await {
                    let _ = tx.send(request);
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if stream.get_mut().write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = crate::binary::memberflow(dir.path());
    cmd.env(
        "MEMBERFLOW_LOG__OTLP_ENDPOINT",
        format!("http://{collector}"),
    );
    let (mut child, addr) = crate::binary::start(cmd);
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .header("x-request-id", "trace-me-42")
        .json(&json!({ "query": "{ today }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Spans still buffered are sent before the process exits.
    crate::binary::sigterm(&child);
    assert!(child.wait().unwrap().success());

    let mut posts = Vec::new();
    while let Ok(post) = rx.try_recv() {
        posts.push(post);
    }
    assert!(!posts.is_empty(), "nothing reached the collector");
    for (path, kind, _) in &posts {
        assert_eq!(path, "/v1/traces");
        assert_eq!(kind, "application/x-protobuf");
    }
    // Protobuf keeps strings as they are: the service's name and the request's span, with
    // the request id the client sent as one of its attributes.
    let all: Vec<u8> = posts.into_iter().flat_map(|(_, _, body)| body).collect();
    let holds = |needle: &str| all.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(holds("service.name") && holds("memberflow"));
    assert!(
        holds("trace-me-42"),
        "the request's span is not among the exported ones"
    );

    // An endpoint that is not an HTTP URL is refused at start, naming the variable.
    let out = crate::binary::memberflow(dir.path())
        .env("MEMBERFLOW_LOG__OTLP_ENDPOINT", "collector:4318")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("MEMBERFLOW_LOG__OTLP_ENDPOINT"),
        "{out:?}"
    );
}
