//! Files in and out in bounded memory (docs/import.md): the streamed download route
//! `/exports/registry.{csv|xlsx}` (the same rows as `exportRegistry`, the same
//! authorization, files that import back unchanged), uploads spooled to a temporary file
//! (over the limit: refused with its code, nothing written), and the role holders' card
//! numbers, which need `READ_MEMBERS` beside `ADMINISTER`. Through the server over HTTP and
//! through the real binary.

use std::process::Command;

use base64::Engine as _;
use memberflow_tests::{TestApp, TestDb, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::binary::{memberflow, sigterm, start};

const UNITS: &str = "\u{FEFF}Mã đơn vị,Tên đơn vị,Loại,Phân loại chi bộ,Từ ngày,Đến ngày,Đơn vị cấp trên,Hợp nhất vào
HG-VT-1,Chi bộ cơ sở số 1,Chi bộ cơ sở,,2004-01-01,,HG-VT,
HG-VT-2,Chi bộ cơ sở số 2,GRASSROOTS_BRANCH,,01/01/2004,,HG-VT,
HG-VT,\"Đảng bộ thành phố Vị Thanh, Hậu Giang\",CITY,,2004-01-01,,HG,
HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,2004-01-01,,,
";

const MEMBERS_HEADER: &str = "Số thẻ đảng viên;Họ và tên;Ngày sinh;Giới tính;Dân tộc;Tôn giáo;Trình độ học vấn;Nghề nghiệp;Ngày quyết định kết nạp;Ngày lễ kết nạp;Ngày công nhận chính thức;Chi bộ;Sinh hoạt từ ngày;Tình trạng";

/// `n` members from card number `first`, in branch 1 (odd) or 2 (even), every one with
/// diacritics in the name.
fn members(first: u32, n: u32) -> String {
    let mut out = format!("{MEMBERS_HEADER}\n");
    for i in first..first + n {
        let branch = if i % 2 == 0 { "HG-VT-2" } else { "HG-VT-1" };
        out.push_str(&format!(
            "{i:08};Nguyễn Thị Ánh {i};15/03/1980;Nữ;Kinh;;Trung học phổ thông;FARMER;2010-05-10;2010-06-01;2011-06-01;{branch};2015-01-01;Chính thức\n"
        ));
    }
    out
}

const IMPORT: &str =
    "mutation($file: Upload!, $kind: ImportKind) { importFile(file: $file, kind: $kind) {
    written problemCount problems(first: 5) { code row column }
    counts { unitsCreated unitsUpdated unitsUnchanged membersCreated membersUpdated membersUnchanged
             rolesCreated rolesUpdated rolesUnchanged } } }";

const EXPORT: &str =
    "query($unit: ID, $kind: ImportKind, $format: SheetFormat!, $template: Boolean!) {
    exportRegistry(unitId: $unit, kind: $kind, format: $format, template: $template) {
        fileName contentBase64 } }";

fn written(r: &Value) -> &Value {
    assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
    let p = &r["data"]["importFile"];
    assert_eq!(p["written"], true, "{p:#}");
    p
}

/// The registry's tables without the access log.
async fn registry_counts(app: &TestApp) -> Vec<(String, i64)> {
    app.row_counts()
        .await
        .into_iter()
        .filter(|(t, _)| t != "access_log")
        .collect()
}

/// A download: status, content type, content disposition, bytes.
async fn download(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
) -> (u16, String, String, Vec<u8>) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let header = |h: &str| {
        r.headers()
            .get(h)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (
        r.status().as_u16(),
        ct,
        cd,
        r.bytes().await.unwrap().to_vec(),
    )
}

async fn graphql_export(app: &TestApp, token: &str, vars: Value) -> Vec<u8> {
    let r = app.gql_as(token, EXPORT, vars).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    base64::engine::general_purpose::STANDARD
        .decode(
            r["data"]["exportRegistry"]["contentBase64"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
}

#[tokio::test]
async fn exports_stream_from_the_download_route_and_import_back() {
    let app = spawn_app().await;
    written(
        &app.upload(IMPORT, json!({}), ("don-vi.csv", UNITS.as_bytes()))
            .await,
    );
    // More members than a page of the streamed reading (1,000), in two branches.
    let file = members(1, 2_345);
    let p = written(
        &app.upload(IMPORT, json!({}), ("dang-vien.csv", file.as_bytes()))
            .await,
    )
    .clone();
    assert_eq!(p["counts"]["membersCreated"], 2_345, "{p:#}");

    // CSV: the same bytes as exportRegistry's, streamed, as an attachment.
    let (status, ct, cd, csv) =
        download(&app, Some(&app.token), "/exports/registry.csv?kind=members").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&csv));
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert_eq!(cd, "attachment; filename=\"dang-vien-tat-ca.csv\"");
    let whole = graphql_export(
        &app,
        &app.token,
        json!({ "kind": "MEMBERS", "format": "CSV", "template": false }),
    )
    .await;
    assert_eq!(csv, whole);
    assert_eq!(
        String::from_utf8(csv.clone()).unwrap().lines().count(),
        2_346
    );
    // A unit's subtree: the members whose last branch is in it.
    let d = app
        .ok("query { unit(code: \"HG-VT-2\") { id } }", json!({}))
        .await;
    let vt2 = d["unit"]["id"].as_str().unwrap().to_owned();
    let (status, _, cd, part) = download(
        &app,
        Some(&app.token),
        "/exports/registry.csv?unit=HG-VT-2&kind=MEMBERS",
    )
    .await;
    assert_eq!(
        (status, cd.as_str()),
        (200, "attachment; filename=\"dang-vien-HG-VT-2.csv\"")
    );
    let whole = graphql_export(
        &app,
        &app.token,
        json!({ "unit": vt2, "kind": "MEMBERS", "format": "CSV", "template": false }),
    )
    .await;
    assert_eq!(part, whole);
    assert_eq!(String::from_utf8(part).unwrap().lines().count(), 1 + 1_172);
    // The CSV imports back: nothing changes.
    let before = registry_counts(&app).await;
    let p = written(&app.upload(IMPORT, json!({}), ("lai.csv", &csv)).await).clone();
    assert_eq!(p["counts"]["membersUnchanged"], 2_345, "{p:#}");
    assert_eq!(p["counts"]["membersCreated"], 0, "{p:#}");

    // XLSX: units and members, written a row at a time, then sent from its file.
    let (status, ct, cd, xlsx) = download(&app, Some(&app.token), "/exports/registry.xlsx").await;
    assert_eq!(status, 200);
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(cd, "attachment; filename=\"so-dang-vien-tat-ca.xlsx\"");
    assert!(xlsx.starts_with(b"PK"));
    let p = written(&app.upload(IMPORT, json!({}), ("lai.xlsx", &xlsx)).await).clone();
    assert_eq!(
        (
            &p["counts"]["unitsUnchanged"],
            &p["counts"]["membersUnchanged"],
            &p["problemCount"]
        ),
        (&json!(4), &json!(2_345), &json!(0)),
        "{p:#}"
    );
    assert_eq!(registry_counts(&app).await, before);
    // The template, through the same route.
    let (status, _, cd, t) = download(
        &app,
        Some(&app.token),
        "/exports/registry?kind=units&format=csv&template=1",
    )
    .await;
    assert_eq!(
        (status, cd.as_str()),
        (200, "attachment; filename=\"mau-don-vi-tat-ca.csv\"")
    );
    assert_eq!(String::from_utf8(t).unwrap().lines().count(), 1);

    // Authorization: as exportRegistry decides. An administrator reads no member data.
    let admin = app.account("quantri", &[("admin", None)], None).await;
    let (status, _, _, body) =
        download(&app, Some(&admin), "/exports/registry.csv?kind=members").await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, error_code(&v).as_str()),
        (403, "FORBIDDEN"),
        "{v:#}"
    );
    let r = app
        .gql_as(
            &admin,
            EXPORT,
            json!({ "kind": "MEMBERS", "format": "CSV", "template": false }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    // A branch secretary: their branch's members, not another's.
    let vt1 = app
        .ok("query { unit(code: \"HG-VT-1\") { id } }", json!({}))
        .await["unit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secretary = app
        .account("bithu", &[("secretary", Some(&vt1))], None)
        .await;
    let (status, ..) = download(
        &app,
        Some(&secretary),
        "/exports/registry.csv?unit=HG-VT-1&kind=members",
    )
    .await;
    assert_eq!(status, 200);
    let (status, ..) = download(
        &app,
        Some(&secretary),
        "/exports/registry.csv?unit=HG-VT-2&kind=members",
    )
    .await;
    assert_eq!(status, 403);
    // The console's session cookie is accepted as the report downloads accept it.
    let r = app
        .client
        .get(format!(
            "{}/exports/registry.csv?unit=HG-VT-1&kind=members",
            app.base
        ))
        .header("cookie", format!("mf_session={secretary}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Anonymous, a CSV without a kind, an unknown unit.
    let (status, _, _, body) = download(&app, None, "/exports/registry.csv?kind=members").await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, error_code(&v).as_str()), (401, "UNAUTHENTICATED"));
    let (status, _, _, body) = download(&app, Some(&app.token), "/exports/registry.csv").await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, error_code(&v).as_str()), (400, "VALIDATION"));
    let (status, ..) = download(
        &app,
        Some(&app.token),
        "/exports/registry.csv?kind=units&unit=XX",
    )
    .await;
    assert_eq!(status, 404);
}

/// Posts a multipart body to `/graphql` in chunks of 8 KiB without declaring its length
/// (`Transfer-Encoding: chunked`), as the operator: the status and the raw response.
async fn post_chunked(app: &TestApp, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n",
        app.token,
        memberflow_tests::MULTIPART_BOUNDARY
    );
    let mut out = head.into_bytes();
    for c in body.chunks(8 * 1024) {
        out.extend(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend(c);
        out.extend(b"\r\n");
    }
    out.extend(b"0\r\n\r\n");
    // The server may answer and close before it has read everything.
    let _ = s.write_all(&out).await;
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf).await {
        if n == 0 {
            break;
        }
        response.extend(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_its_code_and_writes_nothing() {
    let app = spawn_app_with(|c| c.graphql.max_upload_bytes = 64 * 1024).await;
    written(
        &app.upload(IMPORT, json!({}), ("don-vi.csv", UNITS.as_bytes()))
            .await,
    );
    let before = registry_counts(&app).await;
    let log_before = app.row_counts().await;
    // A good members file, too large: 413 with its code, nothing written, nothing logged.
    let big = members(1, 1_000);
    assert!(big.len() > 64 * 1024);
    let (status, r) = app
        .upload_as(
            Some(&app.token),
            IMPORT,
            json!({}),
            ("dang-vien.csv", big.as_bytes()),
        )
        .await;
    assert_eq!(
        (status, error_code(&r).as_str()),
        (413, "PAYLOAD_TOO_LARGE"),
        "{r:#}"
    );
    // The same without a declared length (chunked): the reading stops at the limit.
    let mut variables = json!({});
    variables["file"] = Value::Null;
    let body = memberflow_tests::multipart_body(
        &json!({ "query": IMPORT, "variables": variables }),
        "dang-vien.csv",
        big.as_bytes(),
    );
    let (status, response) = post_chunked(&app, &body).await;
    assert_eq!(status, 413, "{response}");
    assert!(response.contains("PAYLOAD_TOO_LARGE"), "{response}");
    assert_eq!(app.row_counts().await, log_before);
    assert_eq!(registry_counts(&app).await, before);
    // A file under the limit, spooled the same way, imports.
    let small = members(1, 300);
    let p = written(
        &app.upload(IMPORT, json!({}), ("dang-vien.csv", small.as_bytes()))
            .await,
    )
    .clone();
    assert_eq!(p["counts"]["membersCreated"], 300, "{p:#}");
}

#[tokio::test]
async fn role_holders_card_numbers_need_read_members_beside_administer() {
    let app = spawn_app().await;
    written(
        &app.upload(IMPORT, json!({}), ("don-vi.csv", UNITS.as_bytes()))
            .await,
    );
    written(
        &app.upload(
            IMPORT,
            json!({}),
            ("dang-vien.csv", members(1, 2).as_bytes()),
        )
        .await,
    );
    let admin = app.account("quantri", &[("admin", None)], None).await;
    let header = "Tên đăng nhập;Vai trò;Mã đơn vị;Số thẻ đảng viên;Thư điện tử;Từ ngày;Đến ngày";
    let with_card = format!(
        "{header}\nbithu.vt1;secretary;HG-VT-1;00000001;bithu.vt1@example.vn;2020-01-01;\n"
    );
    let without =
        format!("{header}\nbithu.vt2;secretary;HG-VT-2;;bithu.vt2@example.vn;2020-01-01;\n");
    // The administrator may not learn whether a card number is recorded, nor link it.
    let before = registry_counts(&app).await;
    let (_, r) = app
        .upload_as(
            Some(&admin),
            IMPORT,
            json!({}),
            ("vai-tro.csv", with_card.as_bytes()),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    assert_eq!(registry_counts(&app).await, before);
    // Rows without a card number stay an administrator's.
    let (_, r) = app
        .upload_as(
            Some(&admin),
            IMPORT,
            json!({}),
            ("vai-tro.csv", without.as_bytes()),
        )
        .await;
    assert_eq!(written(&r)["counts"]["rolesCreated"], 1);
    // Whoever also reads members everywhere may give it.
    let p = written(
        &app.upload(IMPORT, json!({}), ("vai-tro.csv", with_card.as_bytes()))
            .await,
    )
    .clone();
    assert_eq!(p["counts"]["rolesCreated"], 1, "{p:#}");

    let vars = json!({ "kind": "ROLE_HOLDERS", "format": "CSV", "template": false });
    let line = "bithu.vt1,secretary,HG-VT-1,00000001,bithu.vt1@example.vn,2020-01-01,";
    let blank = "bithu.vt1,secretary,HG-VT-1,,bithu.vt1@example.vn,2020-01-01,";
    // The administrator's export leaves the column empty, through GraphQL and the route.
    let csv = String::from_utf8(graphql_export(&app, &admin, vars.clone()).await).unwrap();
    assert!(csv.contains(blank) && !csv.contains("00000001"), "{csv}");
    let (status, _, _, body) = download(
        &app,
        Some(&admin),
        "/exports/registry.csv?kind=role-holders",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8(body).unwrap(), csv);
    // The operator (every role everywhere) gets the card numbers.
    let full = String::from_utf8(graphql_export(&app, &app.token, vars).await).unwrap();
    assert!(full.contains(line), "{full}");
    let (_, _, _, body) = download(
        &app,
        Some(&app.token),
        "/exports/registry.csv?kind=role-holders",
    )
    .await;
    assert_eq!(String::from_utf8(body).unwrap(), full);
    // The administrator's export imports back unchanged: an empty card number keeps the
    // account's member.
    let (_, r) = app
        .upload_as(
            Some(&admin),
            IMPORT,
            json!({}),
            ("vai-tro.csv", csv.as_bytes()),
        )
        .await;
    let p = written(&r);
    assert_eq!(
        (&p["counts"]["rolesCreated"], &p["counts"]["rolesUpdated"]),
        (&json!(0), &json!(0)),
        "{p:#}"
    );
    let (_, _, _, body) = download(
        &app,
        Some(&app.token),
        "/exports/registry.csv?kind=role-holders",
    )
    .await;
    assert_eq!(String::from_utf8(body).unwrap(), full);
}

/// Runs the binary with the test database and returns its standard output.
fn run(db: &TestDb, dir: &std::path::Path, args: &[&str], password: Option<&str>) -> String {
    let mut c: Command = memberflow(dir);
    c.env("MEMBERFLOW_DATABASE_URL", db.url()).args(args);
    if let Some(p) = password {
        c.env("MEMBERFLOW_NEW_PASSWORD", p);
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_binary_streams_exports_that_import_back_and_refuses_whom_the_api_refuses() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let password = "một mật khẩu dài";
    for (user, role) in [("quantri", "admin"), ("tochuc", "organization_department")] {
        run(&db, dir.path(), &["user", "add", user], Some(password));
        run(&db, dir.path(), &["user", "role", user, role], None);
    }
    let units = dir.path().join("don-vi.csv");
    std::fs::write(&units, UNITS).unwrap();
    let people = dir.path().join("dang-vien.csv");
    std::fs::write(&people, members(1, 1_500)).unwrap();
    run(&db, dir.path(), &["import", units.to_str().unwrap()], None);
    run(&db, dir.path(), &["import", people.to_str().unwrap()], None);

    let mut cmd = memberflow(dir.path());
    cmd.env("MEMBERFLOW_DATABASE_URL", db.url());
    let (mut child, addr) = start(cmd);
    let client = reqwest::Client::new();
    let login = |user: &'static str| {
        let client = client.clone();
        let addr = addr.clone();
        async move {
            let v: Value = client
                .post(format!("http://{addr}/graphql"))
                .json(&json!({ "query": format!(
                    "mutation {{ login(username: \"{user}\", password: \"{password}\") {{ token }} }}") }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["data"]["login"]["token"].as_str().unwrap().to_owned()
        }
    };
    let (department, admin) = (login("tochuc").await, login("quantri").await);
    let get = |token: String, path: &'static str| {
        let client = client.clone();
        let addr = addr.clone();
        async move {
            let r = client
                .get(format!("http://{addr}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        }
    };
    let (status, csv) = get(department.clone(), "/exports/registry.csv?kind=members").await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(csv.clone()).unwrap().lines().count(),
        1_501
    );
    let (status, xlsx) = get(department.clone(), "/exports/registry.xlsx").await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"));
    let (status, body) = get(admin, "/exports/registry.csv?kind=members").await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, error_code(&v).as_str()), (403, "FORBIDDEN"));
    sigterm(&child);
    assert!(child.wait().unwrap().success());

    // Both files import back into the same registry unchanged.
    let back = dir.path().join("lai.csv");
    std::fs::write(&back, &csv).unwrap();
    let out = run(&db, dir.path(), &["import", back.to_str().unwrap()], None);
    assert!(
        out.contains("members: 0 new, 0 changed, 1500 unchanged; 0 problem(s)"),
        "{out}"
    );
    let back = dir.path().join("lai.xlsx");
    std::fs::write(&back, &xlsx).unwrap();
    let out = run(&db, dir.path(), &["import", back.to_str().unwrap()], None);
    assert!(
        out.contains("units: 0 new, 0 changed, 4 unchanged; members: 0 new, 0 changed, 1500 unchanged; 0 problem(s)"),
        "{out}"
    );
}
