//! Bytes and numbers the databases would refuse or misread are refused at the edge, the same
//! way on SQLite and PostgreSQL, and change nothing: control characters in text, dates not
//! written `YYYY-MM-DD`, integers out of range, queries deeper than the parser goes.

use memberflow_tests::{TestApp, error_code, schemas_with, spawn_app_with};
use serde_json::{Value, json};

use crate::support::{member, official_member_input, province};

const TOY: &str = include_str!("../data/toy.toml");
const REGISTER: &str = "mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id } }";
const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { case { version } } }";
const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }";

async fn toy_app() -> (TestApp, tempfile::TempDir) {
    let dir = schemas_with(&[("workflows/toy.toml", TOY)]);
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |c| c.schemas_dir = Some(path)).await;
    (app, dir)
}

/// Every request is `code`, and the database is as it was.
async fn all_refused(app: &TestApp, code: &str, requests: &[(&str, Value)]) {
    let before = app.row_counts().await;
    for (query, vars) in requests {
        let r = app.gql(query, vars.clone()).await;
        assert_eq!(error_code(&r), code, "{query} {vars} → {r:#}");
        assert!(
            r["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn control_characters_in_text_are_refused_before_anything_is_written() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "toy", "unitId": p.b1, "title": "Hồ sơ",
                "inputs": { "title": "Hồ sơ", "owner": owner } } }),
        )
        .await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    let mut nul_name = official_member_input(&p.b1, "Nguyễn\u{0}Văn A");
    let mut esc_name = official_member_input(&p.b1, "Trần \u{1b}[31mB");
    esc_name["email"] = json!("b@example.org");
    nul_name["email"] = json!("a@example.org");
    let note = |text: &str| json!({ "i": { "caseId": case, "transition": "note", "inputs": { "text": text } } });
    all_refused(
        &app,
        "VALIDATION",
        &[
            (REGISTER, json!({ "i": nul_name })),
            (REGISTER, json!({ "i": esc_name })),
            (FIRE, note("ghi chú\u{0}")),
            (FIRE, note("ghi chú\u{7f}")),
            (
                "mutation { createUnit(input: { code: \"X1\", name: \"Chi bộ\\u0000\", kind: BRANCH, validFrom: \"2020-01-01\" }) { id } }",
                json!({}),
            ),
            (
                "mutation { login(username: \"admin\\u0000\", password: \"x\") { token } }",
                json!({}),
            ),
            ("query($c: String!) { unit(code: $c) { id } }", json!({ "c": "HG\u{0}" })),
        ],
    )
    .await;
    // Tabs and line breaks are text.
    app.ok(FIRE, note("dòng một\n\tdòng hai\r\n")).await;
}

#[tokio::test]
async fn dates_are_exactly_yyyy_mm_dd_and_integers_out_of_range_are_validation() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "toy", "unitId": p.b1, "title": "Hồ sơ",
                "inputs": { "title": "Hồ sơ", "owner": owner } } }),
        )
        .await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    let unit = |date: &str| {
        json!({ "i": { "code": "X2", "name": "Chi bộ mới", "kind": "BRANCH",
            "parentId": p.gc, "validFrom": date } })
    };
    let create = "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }";
    let submit = |votes: Value, official: Value| {
        json!({ "i": { "caseId": case, "transition": "submit",
            "inputs": { "votes_for": votes, "official_members": official } } })
    };
    all_refused(
        &app,
        "VALIDATION",
        &[
            (create, unit("2023-1-1")),
            (create, unit("2023-01-1")),
            (create, unit(" 2023-01-01")),
            (create, unit("+2023-01-01")),
            ("query { roots(on: \"2026-1-1\") { code } }", json!({})),
            (
                FIRE,
                json!({ "i": { "caseId": case, "transition": "submit", "on": "2026-11-2",
                    "inputs": { "votes_for": 9, "official_members": 12 } } }),
            ),
            (
                "query { cases(first: 2147483648) { totalCount } }",
                json!({}),
            ),
            (
                "query($n: Int) { cases(first: $n) { totalCount } }",
                json!({ "n": 1e20 }),
            ),
            ("query { cases(first: -1) { totalCount } }", json!({})),
            (
                "query { admissionTarget(code: \"HG\", year: 2147483647) { year } }",
                json!({}),
            ),
            (
                "query { admissionTarget(code: \"HG\", year: -2147483648) { year } }",
                json!({}),
            ),
            (FIRE, submit(json!(99_999_999_999_999_999_999.0), json!(12))),
            (FIRE, submit(json!(u64::MAX), json!(12))),
            (FIRE, submit(json!(i64::MIN), json!(12))),
            (FIRE, submit(json!(9), json!(1.5))),
        ],
    )
    .await;
    // The same dates written properly are taken.
    app.ok(create, unit("2023-01-01")).await;
}

#[tokio::test]
async fn a_query_deeper_than_the_parser_goes_is_query_too_deep() {
    let (app, _dir) = toy_app().await;
    let deep = format!("{{ {} today {} }}", "me { ".repeat(300), "} ".repeat(300));
    let r = app.gql(&deep, json!({})).await;
    assert_eq!(error_code(&r), "QUERY_TOO_DEEP", "{r:#}");
}

/// Sends `request` as raw bytes on a new connection and returns the status and the body.
async fn raw_http(app: &TestApp, request: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status code");
    (status, body.to_owned())
}

#[tokio::test]
async fn a_token_holding_a_nul_byte_gets_a_json_error_with_a_code() {
    let (app, _dir) = toy_app().await;
    let query = br#"{"query":"{ roots { code } }"}"#;
    let request = |authorization: &[u8]| {
        let mut r = Vec::new();
        r.extend_from_slice(b"POST /graphql HTTP/1.1\r\nHost: localhost\r\n");
        r.extend_from_slice(b"Content-Type: application/json\r\nAccept: application/json\r\n");
        r.extend_from_slice(b"Authorization: Bearer ");
        r.extend_from_slice(authorization);
        r.extend_from_slice(
            format!(
                "\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                query.len()
            )
            .as_bytes(),
        );
        r.extend_from_slice(query);
        r
    };

    // The token with a NUL byte never reaches the API: the request is answered as one
    // without a token, in JSON, with the code every client already handles.
    let mut bad = app.token.as_bytes().to_vec();
    bad.insert(bad.len() / 2, 0);
    let (status, body) = raw_http(&app, &request(&bad)).await;
    let body: Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{status} {e}: {body:?}"));
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{status} {body:#}");
    assert!(
        body["data"].is_null() || body["data"]["roots"].is_null(),
        "{body:#}"
    );

    // The same request with the real token is served: the connection handling is the same.
    let (status, body) = raw_http(&app, &request(app.token.as_bytes())).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    assert!(body["data"]["roots"].is_array(), "{body:#}");
}
