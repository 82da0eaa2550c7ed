//! Import and export through GraphQL (docs/import.md): files uploaded by GraphQL multipart
//! request, previewed (every row's fate and every problem, nothing written), imported whole
//! or not at all and idempotently, exported back (XLSX and CSV) and imported again; the
//! caller's jurisdiction (the subtree of `unitId`, the permission per kind of row); the
//! multipart protocol's limits and refusals; the access log.

use base64::Engine as _;
use memberflow_tests::{TestApp, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const UNITS: &str = "\u{FEFF}Mã đơn vị,Tên đơn vị,Loại,Phân loại chi bộ,Từ ngày,Đến ngày,Đơn vị cấp trên,Hợp nhất vào
HG-VT-1,Chi bộ cơ sở số 1,Chi bộ cơ sở,,2004-01-01,,HG-VT,
HG-VT-2,Chi bộ cơ sở số 2,GRASSROOTS_BRANCH,,01/01/2004,,HG-VT,
HG-VT,\"Đảng bộ thành phố Vị Thanh, Hậu Giang\",CITY,,2004-01-01,,HG,
HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,2004-01-01,,,
";

const MEMBERS_HEADER: &str = "Số thẻ đảng viên;Họ và tên;Ngày sinh;Giới tính;Dân tộc;Tôn giáo;Trình độ học vấn;Nghề nghiệp;Ngày quyết định kết nạp;Ngày lễ kết nạp;Ngày công nhận chính thức;Chi bộ;Sinh hoạt từ ngày;Tình trạng";

fn members(rows: &[&str]) -> String {
    format!("{MEMBERS_HEADER}\n{}\n", rows.join("\n"))
}

const AN: &str = "0100001;Nguyễn Văn An;15/03/1980;Nam;Kinh;;Trung học phổ thông;FARMER;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức";
const BICH: &str = "0100002;Trần Thị Bích;29221;Nữ;Khmer;Phật giáo;UPPER_SECONDARY;;2012-05-10;2012-06-01;;HG-VT-2;2012-06-01;Dự bị";

const REPORT: &str = "fileName kinds passes written problemCount rowCount
    counts { unitsCreated unitsUpdated unitsUnchanged membersCreated membersUpdated membersUnchanged }
    problems(first: 50) { sheet row column code messageVi messageEn }
    rows(first: 50) { sheet row key action }";

fn preview_doc() -> String {
    format!(
        "mutation($file: Upload!, $unit: ID, $kind: ImportKind) {{ importPreview(file: $file, unitId: $unit, kind: $kind) {{ {REPORT} }} }}"
    )
}

fn import_doc() -> String {
    format!(
        "mutation($file: Upload!, $unit: ID, $kind: ImportKind) {{ importFile(file: $file, unitId: $unit, kind: $kind) {{ {REPORT} }} }}"
    )
}

const EXPORT: &str =
    "query($unit: ID, $kind: ImportKind, $format: SheetFormat!, $template: Boolean!) {
    exportRegistry(unitId: $unit, kind: $kind, format: $format, template: $template) {
        fileName contentType contentBase64 units members } }";

/// The fingerprint of the registry's tables (the access log aside: every preview, import
/// and export is written there on purpose).
async fn registry_counts(app: &TestApp) -> Vec<(String, i64)> {
    app.row_counts()
        .await
        .into_iter()
        .filter(|(t, _)| t != "access_log")
        .collect()
}

async fn access_log_lines(app: &TestApp) -> i64 {
    app.row_counts()
        .await
        .into_iter()
        .find(|(t, _)| t == "access_log")
        .map_or(0, |(_, n)| n)
}

fn ok_report<'a>(r: &'a Value, op: &str) -> &'a Value {
    assert!(r.get("errors").is_none(), "unexpected errors: {r:#}");
    &r["data"][op]
}

async fn id_of(app: &TestApp, code: &str) -> String {
    let d = app
        .ok(
            "query($c: String!) { unit(code: $c) { id } }",
            json!({ "c": code }),
        )
        .await;
    d["unit"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_file_is_previewed_then_imported_whole_once_and_exported_back() {
    let app = spawn_app().await;
    let before = registry_counts(&app).await;
    let logged = access_log_lines(&app).await;

    // The preview: every row's fate, nothing written, the access logged.
    let r = app
        .upload(&preview_doc(), json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    let p = ok_report(&r, "importPreview");
    assert_eq!(p["fileName"], "don-vi.csv");
    assert_eq!(p["kinds"], json!(["UNITS"]));
    assert_eq!(
        (p["passes"].clone(), p["written"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(p["counts"]["unitsCreated"], 4);
    assert_eq!(p["rowCount"], 4);
    assert_eq!(
        p["rows"][0],
        json!({ "sheet": "don-vi.csv", "row": 2, "key": "HG-VT-1", "action": "CREATE" })
    );
    assert_eq!(
        registry_counts(&app).await,
        before,
        "a preview writes nothing"
    );
    assert_eq!(access_log_lines(&app).await, logged + 1);

    // The import, then the same file again: nothing changes.
    let r = app
        .upload(&import_doc(), json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(
        (p["passes"].clone(), p["written"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(p["counts"]["unitsCreated"], 4);
    let r = app
        .upload(&import_doc(), json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["counts"]["unitsCreated"], 0);
    assert_eq!(p["counts"]["unitsUnchanged"], 4);
    assert!(
        p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "UNCHANGED")
    );

    // The members are the registry's: imported by the city's organization department, over
    // the city (docs/security.md), no longer by an account holding every role.
    let vt = id_of(&app, "HG-VT").await;
    let department = crate::support::holder(&app, "organization_department", &vt).await;

    // Members with problems: every problem with its row and column, nothing written.
    let bad = members(&[
        AN,
        "0100003;Lê Văn Cường;31/02/1985;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-XX;2015-01-01;Chính thức",
        "0100001;Nguyễn Văn An;15/03/1980;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức",
    ]);
    let before = registry_counts(&app).await;
    let (_, r) = app
        .upload_as(
            Some(&department),
            &import_doc(),
            json!({ "unit": vt }),
            ("dang-vien.csv", bad.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(
        (p["passes"].clone(), p["written"].clone()),
        (json!(false), json!(false))
    );
    let found: Vec<(i64, String, String)> = p["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["row"].as_i64().unwrap(),
                x["column"].as_str().unwrap_or("").to_owned(),
                x["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        (3, "Ngày sinh", "BAD_DATE"),
        (4, "Số thẻ đảng viên", "DUPLICATE"),
    ] {
        assert!(
            found
                .iter()
                .any(|(r, c, k)| (*r, c.as_str(), k.as_str()) == want),
            "{want:?} not in {found:?}"
        );
    }
    assert!(
        p["problems"][0]["messageVi"].as_str().unwrap()
            != p["problems"][0]["messageEn"].as_str().unwrap()
    );
    assert_eq!(
        registry_counts(&app).await,
        before,
        "a refused import writes nothing"
    );

    // The good file, then its export imported back (XLSX): nothing to change.
    let good = members(&[AN, BICH]);
    let (_, r) = app
        .upload_as(
            Some(&department),
            &import_doc(),
            json!({ "unit": vt }),
            ("dang-vien.csv", good.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["counts"]["membersCreated"], 2, "{p:#}");
    let d = app
        .ok_as(
            &department,
            EXPORT,
            json!({ "unit": vt, "format": "XLSX", "template": false }),
        )
        .await;
    let e = &d["exportRegistry"];
    assert_eq!(e["fileName"], "so-dang-vien-HG-VT.xlsx");
    assert_eq!(
        (e["units"].clone(), e["members"].clone()),
        (json!(3), json!(2))
    );
    let xlsx = base64::engine::general_purpose::STANDARD
        .decode(e["contentBase64"].as_str().unwrap())
        .unwrap();
    assert!(xlsx.starts_with(b"PK"));
    // The export names HG as HG-VT's parent: outside HG-VT's subtree, so imported at HG,
    // by the province's organization department.
    let hg = id_of(&app, "HG").await;
    let province = crate::support::holder(&app, "organization_department", &hg).await;
    let (_, r) = app
        .upload_as(
            Some(&province),
            &preview_doc(),
            json!({ "unit": hg }),
            ("so-dang-vien.xlsx", &xlsx),
        )
        .await;
    let p = ok_report(&r, "importPreview");
    assert_eq!(p["passes"], true, "{p:#}");
    assert_eq!(p["kinds"], json!(["UNITS", "MEMBERS"]));
    assert_eq!(p["counts"]["unitsUnchanged"], 3);
    assert_eq!(p["counts"]["membersUnchanged"], 2);

    // CSV needs one kind; the template has headers only.
    assert_eq!(
        error_code(
            &app.gql(EXPORT, json!({ "format": "CSV", "template": false }))
                .await
        ),
        "VALIDATION"
    );
    let d = app
        .ok(
            EXPORT,
            json!({ "kind": "MEMBERS", "format": "CSV", "template": true }),
        )
        .await;
    let csv = base64::engine::general_purpose::STANDARD
        .decode(d["exportRegistry"]["contentBase64"].as_str().unwrap())
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("\u{FEFF}Số thẻ đảng viên,"), "{csv}");
    assert_eq!(csv.lines().count(), 1);
}

/// A file with problems comes back annotated (docs/import.md): the same rows in an XLSX
/// workbook, with a sheet listing every problem and its reason; a file without problems,
/// or one that could not be read, has no annotated copy.
#[tokio::test]
async fn a_file_with_problems_comes_back_annotated_as_xlsx() {
    use calamine::Reader as _;
    let app = spawn_app().await;
    let doc = "mutation($file: Upload!) { importPreview(file: $file) {
        problemCount problems { code messageVi messageEn }
        annotated { fileName contentType contentBase64 } } }";
    let bad = UNITS.replace(
        "HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,2004-01-01",
        "HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,31/02/2004",
    );
    let r = app
        .upload(doc, json!({}), ("don-vi.csv", bad.as_bytes()))
        .await;
    let p = ok_report(&r, "importPreview");
    let bad_date = p["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "BAD_DATE")
        .unwrap_or_else(|| panic!("no BAD_DATE: {p:#}"));
    let reason_vi = bad_date["messageVi"].as_str().unwrap();
    let reason_en = bad_date["messageEn"].as_str().unwrap();
    let a = &p["annotated"];
    assert_eq!(a["fileName"], "don-vi-ghi-chu-loi.xlsx");
    assert_eq!(
        a["contentType"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let xlsx = base64::engine::general_purpose::STANDARD
        .decode(a["contentBase64"].as_str().unwrap())
        .unwrap();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names, ["don-vi.csv", "Lỗi - Problems"], "{names:?}");
    let cells = |r: calamine::Range<calamine::Data>| -> Vec<Vec<String>> {
        r.rows()
            .map(|row| row.iter().map(ToString::to_string).collect())
            .collect()
    };
    let rows = cells(wb.worksheet_range("don-vi.csv").unwrap());
    assert_eq!(rows.len(), 5, "the file's rows, as sent: {rows:?}");
    assert!(
        rows.iter().any(|r| r.contains(&"31/02/2004".to_owned())),
        "{rows:?}"
    );
    let listed = cells(wb.worksheet_range("Lỗi - Problems").unwrap());
    assert!(
        listed.iter().any(|r| r.contains(&"BAD_DATE".to_owned())
            && r.contains(&reason_vi.to_owned())
            && r.contains(&reason_en.to_owned())),
        "{listed:?}"
    );

    // A file that passes: none.
    let r = app
        .upload(doc, json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    let p = ok_report(&r, "importPreview");
    assert_eq!(
        (p["problemCount"].clone(), p["annotated"].clone()),
        (json!(0), Value::Null)
    );
    // A file that cannot be read as a spreadsheet: its problems, no copy.
    let r = app
        .upload(
            doc,
            json!({}),
            ("hong.xlsx", b"PK\x03\x04 not really a workbook".as_slice()),
        )
        .await;
    let p = ok_report(&r, "importPreview");
    assert!(p["problemCount"].as_i64().unwrap() > 0, "{p:#}");
    assert_eq!(p["annotated"], Value::Null);
}

#[tokio::test]
async fn imports_stay_inside_the_caller_s_jurisdiction() {
    let app = spawn_app().await;
    let r = app
        .upload(&import_doc(), json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    assert_eq!(ok_report(&r, "importFile")["written"], true);
    let (hg, vt, b1) = (
        id_of(&app, "HG").await,
        id_of(&app, "HG-VT").await,
        id_of(&app, "HG-VT-1").await,
    );
    let secretary = app
        .account("bithu-vt1", &[("secretary", Some(&b1))], None)
        .await;
    let department = app
        .account(
            "bantochuc-vt",
            &[("organization_department", Some(&vt))],
            None,
        )
        .await;
    let auditor = app.account("kiemtra", &[("auditor", None)], None).await;

    // A branch secretary registers members of the branch, not of another.
    let file = members(&[AN, BICH]);
    let (_, r) = app
        .upload_as(
            Some(&secretary),
            &preview_doc(),
            json!({ "unit": b1 }),
            ("dang-vien.csv", file.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importPreview");
    assert_eq!(p["counts"]["membersCreated"], 1, "{p:#}");
    assert_eq!(p["problems"][0]["row"], 3);
    assert_eq!(p["problems"][0]["code"], "OUT_OF_SCOPE");
    assert_eq!(p["problems"][0]["column"], "Chi bộ");
    // A secretary of another branch imports nothing into this one: FORBIDDEN before the file
    // is read, nothing written.
    let b2 = id_of(&app, "HG-VT-2").await;
    let next_door = crate::support::holder(&app, "secretary", &b2).await;
    for doc in [preview_doc(), import_doc()] {
        let before = registry_counts(&app).await;
        let (_, r) = app
            .upload_as(
                Some(&next_door),
                &doc,
                json!({ "unit": b1 }),
                ("dang-vien.csv", members(&[AN]).as_bytes()),
            )
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
        assert_eq!(registry_counts(&app).await, before, "{r:#}");
    }
    // ... and keeps no tree; nor the whole registry without a unit.
    for (vars, name, body) in [
        (json!({ "unit": b1 }), "don-vi.csv", UNITS.to_owned()),
        (json!({}), "dang-vien.csv", file.clone()),
    ] {
        let (_, r) = app
            .upload_as(
                Some(&secretary),
                &import_doc(),
                vars,
                (name, body.as_bytes()),
            )
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    // The city's organization department: the city's units, not a new one under the
    // province nor the province itself.
    let units = format!(
        "{}HG-VT-3,Chi bộ cơ sở số 3,GRASSROOTS_BRANCH,,2020-01-01,,HG-VT,\nHG-NEW,Đảng bộ mới,DISTRICT,,2020-01-01,,HG,\n",
        UNITS.replace(
            "HG,Đảng bộ tỉnh Hậu Giang,",
            "HG,Đảng bộ tỉnh Hậu Giang mới,"
        )
    );
    let before = registry_counts(&app).await;
    let (_, r) = app
        .upload_as(
            Some(&department),
            &import_doc(),
            json!({ "unit": vt }),
            ("don-vi.csv", units.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["written"], false);
    let refused: Vec<(i64, &str)> = p["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["row"].as_i64().unwrap(), x["code"].as_str().unwrap()))
        .collect();
    assert_eq!(refused, vec![(5, "OUT_OF_SCOPE"), (7, "OUT_OF_SCOPE")]);
    assert_eq!(p["counts"]["unitsCreated"], 1);
    assert_eq!(registry_counts(&app).await, before);
    // An auditor reads, exports and imports nothing.
    let (_, r) = app
        .upload_as(
            Some(&auditor),
            &preview_doc(),
            json!({ "unit": hg }),
            ("dang-vien.csv", file.as_bytes()),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = app
        .gql_as(
            &auditor,
            EXPORT,
            json!({ "unit": hg, "kind": "MEMBERS", "format": "CSV", "template": false }),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
    // Anonymous: not even read.
    let (_, r) = app
        .upload_as(None, &preview_doc(), json!({}), ("x.csv", b"a,b\n"))
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_multipart_protocol_keeps_its_limits() {
    let app = spawn_app_with(|c| c.graphql.max_upload_bytes = 64 * 1024).await;
    // Too large: 413 with its code, before anything runs.
    let big = vec![b'a'; 70 * 1024];
    let (status, r) = app
        .upload_as(
            Some(&app.token),
            &preview_doc(),
            json!({}),
            ("big.csv", &big),
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(error_code(&r), "PAYLOAD_TOO_LARGE");
    // Not a spreadsheet: a problem of the file, not an error.
    let r = app
        .upload(
            &preview_doc(),
            json!({}),
            ("scan.pdf", b"%PDF-1.4\n\x00\x01binary"),
        )
        .await;
    let p = ok_report(&r, "importPreview");
    assert_eq!(p["problems"][0]["code"], "NOT_A_SPREADSHEET");
    // A multipart body without its map, or with two files: 400.
    let client = reqwest::Client::new();
    let b = memberflow_tests::MULTIPART_BOUNDARY;
    let ops = json!({ "query": preview_doc(), "variables": { "file": null } });
    let no_map = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{ops}\r\n--{b}--\r\n"
    );
    let two_files = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{ops}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{\"0\": [\"variables.file\"], \"1\": [\"variables.file\"]}}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.csv\"\r\n\r\nx\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"1\"; filename=\"b.csv\"\r\n\r\ny\r\n--{b}--\r\n"
    );
    for body in [no_map, two_files] {
        let resp = client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&app.token)
            .header("content-type", format!("multipart/form-data; boundary={b}"))
            .header("accept", "application/graphql-response+json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap();
        assert_eq!(status, 400, "{v:#}");
        assert_eq!(error_code(&v), "BAD_REQUEST");
        assert!(v.get("data").is_none(), "{v:#}");
    }
    // JSON posing as an upload (the marker async-graphql puts in place of a file) is refused
    // at the edge, whatever index it names.
    for marker in ["#__graphql_file__:0", "#__graphql_file__:x"] {
        let r = app.gql(&preview_doc(), json!({ "file": marker })).await;
        assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    }
    // A JSON body keeps its own, smaller limit.
    let resp = client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ today }", "variables": { "x": "a".repeat(70 * 1024) } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
}

#[tokio::test]
async fn role_holders_are_an_administrators_to_import_and_export() {
    let app = spawn_app().await;
    let r = app
        .upload(&import_doc(), json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    assert_eq!(ok_report(&r, "importFile")["written"], true);
    let hg = id_of(&app, "HG").await;
    let department = app
        .account(
            "bantochuc-hg",
            &[("organization_department", Some(&hg))],
            None,
        )
        .await;
    let admin = app.account("quantri", &[("admin", None)], None).await;
    let file = "Tên đăng nhập;Vai trò;Mã đơn vị;Số thẻ đảng viên;Thư điện tử;Từ ngày;Đến ngày
bithu.vt1;secretary;HG-VT-1;;bithu.vt1@example.vn;2020-01-01;
";
    let doc = "mutation($file: Upload!) { importFile(file: $file) {
        kinds written problemCount counts { rolesCreated rolesUpdated rolesUnchanged }
        rows(first: 5) { key action } } }";
    let before = registry_counts(&app).await;
    // The organization department keeps the tree and the registry, not accounts and rights.
    let (_, r) = app
        .upload_as(
            Some(&department),
            doc,
            json!({}),
            ("vai-tro.csv", file.as_bytes()),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    assert_eq!(registry_counts(&app).await, before);
    let (_, r) = app
        .upload_as(
            Some(&admin),
            doc,
            json!({}),
            ("vai-tro.csv", file.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["kinds"], json!(["ROLE_HOLDERS"]));
    assert_eq!(p["written"], true, "{p:#}");
    assert_eq!(
        p["counts"],
        json!({ "rolesCreated": 1, "rolesUpdated": 0, "rolesUnchanged": 0 })
    );
    assert_eq!(
        p["rows"],
        json!([{ "key": "bithu.vt1 secretary HG-VT-1", "action": "CREATE" }])
    );

    let vars = json!({ "kind": "ROLE_HOLDERS", "format": "CSV", "template": false });
    let r = app.gql_as(&department, EXPORT, vars.clone()).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    let r = app.gql_as(&admin, EXPORT, vars).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    let e = &r["data"]["exportRegistry"];
    assert!(
        e["fileName"].as_str().unwrap().starts_with("vai-tro-"),
        "{e:#}"
    );
    let csv = base64::engine::general_purpose::STANDARD
        .decode(e["contentBase64"].as_str().unwrap())
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("\r\nbithu.vt1,secretary,HG-VT-1,,bithu.vt1@example.vn,2020-01-01,\r\n"),
        "{csv}"
    );
    // The file exported imports back unchanged.
    let (_, r) = app
        .upload_as(
            Some(&admin),
            doc,
            json!({}),
            ("vai-tro.csv", csv.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["counts"]["rolesCreated"], 0, "{p:#}");
    assert_eq!(p["counts"]["rolesUpdated"], 0, "{p:#}");
}

/// Badges preview/import, with the counts of the badge kind.
fn badges_doc(op: &str) -> String {
    format!(
        "mutation($file: Upload!, $unit: ID) {{ {op}(file: $file, unitId: $unit, kind: BADGES) {{
            passes written counts {{ badgesCreated badgesUnchanged }}
            problems(first: 20) {{ row column code }} }} }}"
    )
}

const OLD_MEMBERS: [&str; 2] = [
    "0200001;Lê Văn Cũ;01/01/1960;Nam;Kinh;;UPPER_SECONDARY;RETIRED;1985-03-10;1985-04-01;1986-04-01;HG-VT-1;2004-01-01;OFFICIAL",
    "0200002;Lê Thị Xưa;01/01/1961;Nữ;Kinh;;UPPER_SECONDARY;RETIRED;1985-03-10;1985-04-01;1986-04-01;HG-VT-2;2004-01-01;OFFICIAL",
];

const TWO_BADGES: &str =
    "Số thẻ đảng viên,Số năm tuổi Đảng,Ngày trao\n0200001,30,2016-09-02\n0200002,30,2016-09-02\n";

/// The units and the two old members imported (the members by the city's organization
/// department); the ids of the city (HG-VT) and of its first branch (HG-VT-1), and the
/// department's token.
async fn with_old_members(app: &TestApp) -> (String, String, String) {
    let r = app
        .upload(&import_doc(), json!({}), ("don-vi.csv", UNITS.as_bytes()))
        .await;
    assert_eq!(ok_report(&r, "importFile")["written"], true);
    // The members and the badges of the city: its organization department's to import.
    let (vt, b1) = (id_of(app, "HG-VT").await, id_of(app, "HG-VT-1").await);
    let department = crate::support::holder(app, "organization_department", &vt).await;
    let (_, r) = app
        .upload_as(
            Some(&department),
            &import_doc(),
            json!({ "unit": vt }),
            ("dang-vien.csv", members(&OLD_MEMBERS).as_bytes()),
        )
        .await;
    assert_eq!(ok_report(&r, "importFile")["written"], true, "{r:#}");
    (vt, b1, department)
}

#[tokio::test]
async fn badges_are_imported_and_exported_within_the_caller_s_subtree() {
    let app = spawn_app().await;
    let (vt, b1, department) = with_old_members(&app).await;
    let secretary = app
        .account("bithu-vt1", &[("secretary", Some(&b1))], None)
        .await;

    // The branch's secretary: the badge of the branch's member, not of the other branch's.
    let before = registry_counts(&app).await;
    let (_, r) = app
        .upload_as(
            Some(&secretary),
            &badges_doc("importFile"),
            json!({ "unit": b1 }),
            ("huy-hieu.csv", TWO_BADGES.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["written"], false, "{p:#}");
    assert_eq!(p["counts"]["badgesCreated"], 1, "{p:#}");
    assert_eq!(
        p["problems"],
        json!([{ "row": 3, "column": "Số thẻ đảng viên", "code": "OUT_OF_SCOPE" }])
    );
    assert_eq!(registry_counts(&app).await, before, "nothing written");
    // ... nor over the city, where the account holds nothing: refused before reading.
    for op in ["importPreview", "importFile"] {
        let (_, r) = app
            .upload_as(
                Some(&secretary),
                &badges_doc(op),
                json!({ "unit": vt }),
                ("huy-hieu.csv", TWO_BADGES.as_bytes()),
            )
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    assert_eq!(registry_counts(&app).await, before, "nothing written");

    // Both badges recorded by the city's organization department; the secretary exports the
    // branch's only.
    let (_, r) = app
        .upload_as(
            Some(&department),
            &badges_doc("importFile"),
            json!({ "unit": vt }),
            ("huy-hieu.csv", TWO_BADGES.as_bytes()),
        )
        .await;
    assert_eq!(ok_report(&r, "importFile")["counts"]["badgesCreated"], 2);
    let r = app
        .gql_as(
            &secretary,
            EXPORT,
            json!({ "unit": b1, "kind": "BADGES", "format": "CSV", "template": false }),
        )
        .await;
    let e = &ok_report(&r, "exportRegistry");
    let csv = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(e["contentBase64"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines, vec!["0200001,30,2016-09-02"]);
    let r = app
        .gql_as(
            &secretary,
            EXPORT,
            json!({ "unit": vt, "kind": "BADGES", "format": "CSV", "template": false }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    // The download route decides the same way.
    let res = app
        .client
        .get(format!(
            "{}/exports/registry.csv?kind=badges&unit=HG-VT",
            app.base
        ))
        .bearer_auth(&secretary)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = app
        .client
        .get(format!(
            "{}/exports/registry.csv?kind=badges&unit=HG-VT-1",
            app.base
        ))
        .bearer_auth(&secretary)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.text().await.unwrap();
    assert_eq!(
        body.lines().skip(1).collect::<Vec<_>>(),
        vec!["0200001,30,2016-09-02"]
    );
}

/// Discipline register preview/import, with the counts of the kind.
fn discipline_doc(op: &str) -> String {
    format!(
        "mutation($file: Upload!, $unit: ID) {{ {op}(file: $file, unitId: $unit, kind: DISCIPLINE) {{
            passes written counts {{ disciplineCreated disciplineUpdated disciplineUnchanged }}
            problems(first: 20) {{ row column code }} }} }}"
    )
}

const TWO_DISCIPLINES: &str = "Số thẻ đảng viên,Hình thức kỷ luật,Số quyết định,Cơ quan quyết định,Cấp quyết định,Ngày quyết định,Tình trạng kỷ luật,Ngày đổi tình trạng
0200001,REPRIMAND,01-QĐ/ĐU,STANDING_COMMITTEE,SUPERIOR,2016-09-02,,
0200002,WARNING,,BRANCH,BRANCH,2017-03-01,LAPSED,2018-03-01
";

fn csv_of(e: &Value) -> Vec<String> {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(e["contentBase64"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
    .lines()
    .skip(1)
    .map(str::to_owned)
    .collect()
}

#[tokio::test]
async fn the_discipline_register_is_kept_by_committees_and_refused_to_a_branch_secretary() {
    let app = spawn_app().await;
    let (vt, b1, _) = with_old_members(&app).await;
    let secretary = app
        .account("bithu-kl", &[("secretary", Some(&b1))], None)
        .await;
    let commission = app
        .account("ubkt-vt", &[("inspection_commission", Some(&vt))], None)
        .await;
    let branch_committee = app
        .account("capuy-vt1", &[("committee", Some(&b1))], None)
        .await;

    // A branch secretary reads the branch's members, not its discipline register: refused
    // before the file is read, on export, and on the download route.
    let before = registry_counts(&app).await;
    for op in ["importPreview", "importFile"] {
        let (_, r) = app
            .upload_as(
                Some(&secretary),
                &discipline_doc(op),
                json!({ "unit": b1 }),
                ("ky-luat.csv", TWO_DISCIPLINES.as_bytes()),
            )
            .await;
        assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    }
    let r = app
        .gql_as(
            &secretary,
            EXPORT,
            json!({ "unit": b1, "kind": "DISCIPLINE", "format": "CSV", "template": false }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    let res = app
        .client
        .get(format!(
            "{}/exports/registry.csv?kind=discipline&unit=HG-VT-1",
            app.base
        ))
        .bearer_auth(&secretary)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(registry_counts(&app).await, before, "nothing written");

    // The branch's committee keeps the branch's register: the other branch's row is out of
    // its scope, and the file writes nothing.
    let (_, r) = app
        .upload_as(
            Some(&branch_committee),
            &discipline_doc("importFile"),
            json!({ "unit": b1 }),
            ("ky-luat.csv", TWO_DISCIPLINES.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["written"], false, "{p:#}");
    assert_eq!(p["counts"]["disciplineCreated"], 1, "{p:#}");
    assert_eq!(
        p["problems"],
        json!([{ "row": 3, "column": "Số thẻ đảng viên", "code": "OUT_OF_SCOPE" }])
    );
    assert_eq!(registry_counts(&app).await, before, "nothing written");

    // The city's inspection commission: both rows, then again unchanged, then exported.
    for (created, unchanged) in [(2, 0), (0, 2)] {
        let (_, r) = app
            .upload_as(
                Some(&commission),
                &discipline_doc("importFile"),
                json!({ "unit": vt }),
                ("ky-luat.csv", TWO_DISCIPLINES.as_bytes()),
            )
            .await;
        let p = ok_report(&r, "importFile");
        assert_eq!(p["passes"], true, "{p:#}");
        assert_eq!(p["counts"]["disciplineCreated"], created, "{p:#}");
        assert_eq!(p["counts"]["disciplineUnchanged"], unchanged, "{p:#}");
    }
    let r = app
        .gql_as(
            &commission,
            EXPORT,
            json!({ "unit": vt, "kind": "DISCIPLINE", "format": "CSV", "template": false }),
        )
        .await;
    assert_eq!(
        csv_of(ok_report(&r, "exportRegistry")),
        vec![
            "0200001,REPRIMAND,01-QĐ/ĐU,STANDING_COMMITTEE,SUPERIOR,2016-09-02,IN_FORCE,",
            "0200002,WARNING,,BRANCH,BRANCH,2017-03-01,LAPSED,2018-03-01",
        ]
    );
    // The download route gives the branch committee its branch's record only.
    let res = app
        .client
        .get(format!(
            "{}/exports/registry.csv?kind=discipline&unit=HG-VT-1",
            app.base
        ))
        .bearer_auth(&branch_committee)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.text().await.unwrap();
    assert_eq!(
        body.lines().skip(1).collect::<Vec<_>>(),
        vec!["0200001,REPRIMAND,01-QĐ/ĐU,STANDING_COMMITTEE,SUPERIOR,2016-09-02,IN_FORCE,"]
    );
}

const WARD: &str =
    "Mã đơn vị,Tên đơn vị,Loại,Phân loại chi bộ,Từ ngày,Đến ngày,Đơn vị cấp trên,Hợp nhất vào
HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,2004-01-01,,,
HG-VT,Đảng bộ thành phố Vị Thanh,CITY,,2004-01-01,,HG,
HG-VT-P1,Đảng bộ phường I,GRASSROOTS_COMMITTEE,,2004-01-01,,HG-VT,
HG-VT-P1-A1,Chi bộ khu vực 1,BRANCH,HAMLET,2004-01-01,,HG-VT-P1,
HG-VT-P3,Đảng bộ phường III,GRASSROOTS_COMMITTEE,,2004-01-01,,HG-VT,
";

const HAMLETS: &str = "Mã ấp,Tên ấp,Loại ấp,Đơn vị cấp xã,Từ ngày,Đến ngày,Hợp nhất vào,Chi bộ ấp
KV1,Khu vực 1,WARD_AREA,HG-VT-P1,2010-01-01,,,HG-VT-P1-A1
KV3,Khu vực 3,WARD_AREA,HG-VT-P3,2010-01-01,,,
";

#[tokio::test]
async fn hamlets_are_imported_through_graphql_within_the_subtree_and_downloaded_back() {
    let app = spawn_app().await;
    let r = app
        .upload(&import_doc(), json!({}), ("don-vi.csv", WARD.as_bytes()))
        .await;
    assert_eq!(ok_report(&r, "importFile")["written"], true, "{r:#}");
    let p1 = id_of(&app, "HG-VT-P1").await;
    let secretary = app
        .account("bithu-p1", &[("secretary", Some(&p1))], None)
        .await;
    let doc = "mutation($file: Upload!, $unit: ID) { importFile(file: $file, unitId: $unit, kind: HAMLETS) {
        kinds passes written counts { hamletsCreated hamletsUpdated hamletsUnchanged }
        problems(first: 20) { row column code } rows(first: 20) { row key action } } }";
    // The ward's secretary: the ward's hamlet, not another ward's; nothing written.
    let before = registry_counts(&app).await;
    let (_, r) = app
        .upload_as(
            Some(&secretary),
            doc,
            json!({ "unit": p1 }),
            ("ap.csv", HAMLETS.as_bytes()),
        )
        .await;
    let p = ok_report(&r, "importFile");
    assert_eq!(p["kinds"], json!(["HAMLETS"]));
    assert_eq!(p["written"], false);
    assert_eq!(p["counts"]["hamletsCreated"], 1);
    assert_eq!(
        p["problems"],
        json!([{ "row": 3, "column": "Đơn vị cấp xã", "code": "OUT_OF_SCOPE" }])
    );
    assert_eq!(registry_counts(&app).await, before);
    // The ward's row alone: written, then unchanged.
    let ward = "Mã ấp,Tên ấp,Loại ấp,Đơn vị cấp xã,Từ ngày,Đến ngày,Hợp nhất vào,Chi bộ ấp\nKV1,Khu vực 1,WARD_AREA,HG-VT-P1,2010-01-01,,,HG-VT-P1-A1\n";
    for (created, unchanged) in [(1, 0), (0, 1)] {
        let (_, r) = app
            .upload_as(
                Some(&secretary),
                doc,
                json!({ "unit": p1 }),
                ("ap.csv", ward.as_bytes()),
            )
            .await;
        let p = ok_report(&r, "importFile");
        assert_eq!(p["written"], true, "{p:#}");
        assert_eq!(
            (
                p["counts"]["hamletsCreated"].clone(),
                p["counts"]["hamletsUnchanged"].clone()
            ),
            (json!(created), json!(unchanged))
        );
    }
    // Exported back the same through GraphQL and the download route.
    let r = app
        .gql_as(
            &secretary,
            EXPORT,
            json!({ "unit": p1, "kind": "HAMLETS", "format": "CSV", "template": false }),
        )
        .await;
    let e = &ok_report(&r, "exportRegistry");
    assert_eq!(e["fileName"], "ap-khu-vuc-HG-VT-P1.csv");
    let csv = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(e["contentBase64"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let res = app
        .client
        .get(format!(
            "{}/exports/registry.csv?kind=hamlets&unit=HG-VT-P1",
            app.base
        ))
        .bearer_auth(&secretary)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.text().await.unwrap();
    assert_eq!(body, csv);
    assert_eq!(
        body.trim_start_matches('\u{FEFF}').replace("\r\n", "\n"),
        ward
    );
}
