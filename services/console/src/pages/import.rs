//! Import and export (docs/import.md): a spreadsheet uploaded and checked (`importPreview`:
//! what each row would do, every problem with its row and column, nothing written), then
//! confirmed (`importFile`: the whole file in one transaction, or nothing); the registry or
//! an empty template downloaded from the server's streamed route (`/exports/registry`).
//!
//! Plain forms: the upload is a `multipart/form-data` form, CSRF-checked like every other.
//! Between the check and the confirmation the file waits on the server (the browser cannot
//! send it again without a script): in memory, for the account that sent it, at most
//! [`STASH_ENTRIES`] files for [`STASH_MINUTES`] minutes, under a random key the confirm form
//! carries. The confirmation imports exactly the file that was checked. A file with problems
//! leaves instead its annotated copy (`importPreview`'s `annotated`: the file as XLSX, each
//! problem's cell marked with its reason) in the same place, downloaded from
//! `/import/annotated?key=…` by the account that sent it.

use std::time::{Duration, Instant};

use axum::extract::{Multipart, Query, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use maud::{Markup, html};
use serde_json::Value;

use super::Fields;
use crate::gql::{self, GqlError, b, i, list, opt, s};
use crate::i18n::t;
use crate::layout::{Nav, csrf, error_summary, page_with_status};
use crate::session::{Visit, random_token};

/// How many checked files may wait for their confirmation at once.
pub(crate) const STASH_ENTRIES: usize = 8;
/// How long a checked file waits for its confirmation.
pub(crate) const STASH_MINUTES: u64 = 30;

/// A checked file waiting for its confirmation.
#[derive(Debug)]
pub(crate) struct Stashed {
    key: String,
    username: String,
    file_name: String,
    bytes: Vec<u8>,
    unit: Option<String>,
    kind: Option<String>,
    /// The annotated copy of a file with problems, to download (not to import).
    annotated: bool,
    at: Instant,
}

/// The files waiting, shared by the console's handlers.
pub(crate) type Stash = std::sync::Arc<std::sync::Mutex<Vec<Stashed>>>;

fn keep(stash: &Stash, entry: Stashed) {
    if let Ok(mut s) = stash.lock() {
        let ttl = Duration::from_secs(STASH_MINUTES * 60);
        s.retain(|e| e.at.elapsed() < ttl && e.username != entry.username);
        while s.len() >= STASH_ENTRIES {
            s.remove(0);
        }
        s.push(entry);
    }
}

fn take(stash: &Stash, key: &str, username: &str) -> Option<Stashed> {
    let mut s = stash.lock().ok()?;
    let ttl = Duration::from_secs(STASH_MINUTES * 60);
    s.retain(|e| e.at.elapsed() < ttl);
    let i = s
        .iter()
        .position(|e| e.key == key && e.username == username && !e.annotated)?;
    Some(s.remove(i))
}

/// The annotated copy waiting under `key` for `username`: its name and bytes.
fn annotated_copy(stash: &Stash, key: &str, username: &str) -> Option<(String, Vec<u8>)> {
    let mut s = stash.lock().ok()?;
    let ttl = Duration::from_secs(STASH_MINUTES * 60);
    s.retain(|e| e.at.elapsed() < ttl);
    s.iter()
        .find(|e| e.key == key && e.username == username && e.annotated)
        .map(|e| (e.file_name.clone(), e.bytes.clone()))
}

const KINDS: [(&str, &str, &str); 7] = [
    ("", "Tự nhận biết theo tiêu đề cột", "Told by the headers"),
    ("UNITS", "Đơn vị", "Units"),
    ("MEMBERS", "Đảng viên", "Members"),
    ("ROLE_HOLDERS", "Người giữ vai trò", "Role holders"),
    ("BADGES", "Huy hiệu Đảng", "Party badges"),
    ("HAMLETS", "Ấp, khu vực, tổ dân phố", "Hamlets"),
    ("DISCIPLINE", "Kỷ luật đảng viên", "Discipline register"),
];

fn kind_of(f: Option<&str>) -> Option<String> {
    f.filter(|k| {
        matches!(
            *k,
            "UNITS" | "MEMBERS" | "ROLE_HOLDERS" | "BADGES" | "HAMLETS" | "DISCIPLINE"
        )
    })
    .map(str::to_owned)
}

/// The unit a form names by code, as the API's id (`None`: the whole tree).
async fn unit_id(v: &Visit, code: Option<&str>) -> Result<Option<String>, GqlError> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let d = v
        .gql(
            gql::IMPORT,
            "ImportUnit",
            serde_json::json!({ "code": code }),
        )
        .await?;
    Ok(opt(&d["unit"], "id").map(str::to_owned))
}

fn upload_form(v: &Visit, unit: &str, kind: Option<&str>) -> Markup {
    let l = v.lang;
    html! {
        form method="post" action="/import" enctype="multipart/form-data" {
            fieldset {
                legend { (t(l, "Kiểm tra một tệp", "Check a file")) }
                (csrf(v))
                label for="i-file" { (t(l, "Tệp XLSX hoặc CSV (UTF-8)", "An XLSX or CSV (UTF-8) file")) }
                input id="i-file" type="file" name="file" required accept=".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv";
                label for="i-unit" { (t(l, "Vào đơn vị (mã; để trống: toàn bộ cây)", "Into unit (code; empty: the whole tree)")) }
                input id="i-unit" type="text" name="unit" value=(unit);
                label for="i-kind" { (t(l, "Loại dữ liệu", "Kind of rows")) }
                select id="i-kind" name="kind" {
                    @for (k, vi, en) in KINDS {
                        option value=(k) selected[kind.unwrap_or("") == k] { (t(l, vi, en)) }
                    }
                }
                p.muted { (t(l, "Kiểm tra không ghi gì: đồng chí xem kết quả rồi mới xác nhận nhập.",
                             "Checking writes nothing: you see the outcome, then confirm the import.")) }
                p { button type="submit" { (t(l, "Kiểm tra tệp", "Check the file")) } }
            }
        }
    }
}

fn export_form(v: &Visit) -> Markup {
    let l = v.lang;
    html! {
        form method="get" action=(EXPORT_ROUTE) {
            fieldset {
                legend { (t(l, "Xuất dữ liệu hoặc tải tệp mẫu", "Export, or download a template")) }
                label for="e-unit" { (t(l, "Đơn vị (mã; để trống: toàn bộ cây)", "Unit (code; empty: the whole tree)")) }
                input id="e-unit" type="text" name="unit";
                label for="e-kind" { (t(l, "Loại dữ liệu", "Kind of rows")) }
                select id="e-kind" name="kind" {
                    option value="" { (t(l, "Đơn vị và đảng viên (XLSX)", "Units and members (XLSX)")) }
                    option value="UNITS" { (t(l, "Đơn vị", "Units")) }
                    option value="MEMBERS" { (t(l, "Đảng viên", "Members")) }
                    option value="ROLE_HOLDERS" { (t(l, "Người giữ vai trò", "Role holders")) }
                    option value="BADGES" { (t(l, "Huy hiệu Đảng", "Party badges")) }
                    option value="HAMLETS" { (t(l, "Ấp, khu vực, tổ dân phố", "Hamlets")) }
                    option value="DISCIPLINE" { (t(l, "Kỷ luật đảng viên", "Discipline register")) }
                }
                label for="e-format" { (t(l, "Định dạng", "Format")) }
                select id="e-format" name="format" {
                    option value="XLSX" { "XLSX (Excel)" }
                    option value="CSV" { "CSV (UTF-8)" }
                }
                p {
                    input id="e-template" type="checkbox" name="template" value="1";
                    " "
                    label.inline for="e-template" { (t(l, "Chỉ tệp mẫu (không có dữ liệu)", "Template only (no rows)")) }
                }
                p { button type="submit" { (t(l, "Tải xuống", "Download")) } }
            }
        }
    }
}

fn action_label(l: memberflow_api::Lang, a: &str) -> &'static str {
    match a {
        "CREATE" => t(l, "Thêm mới", "Create"),
        "UPDATE" => t(l, "Cập nhật", "Update"),
        _ => t(l, "Không đổi", "Unchanged"),
    }
}

fn report(v: &Visit, r: &Value, stash_key: Option<&str>) -> Markup {
    let l = v.lang;
    let c = &r["counts"];
    let problems = list(r, "problems");
    let rows = list(r, "rows");
    let message = match l {
        memberflow_api::Lang::Vi => "messageVi",
        memberflow_api::Lang::En => "messageEn",
    };
    html! {
        h2 { (t(l, "Kết quả kiểm tra tệp", "The file checked")) " " span.code { (s(r, "fileName")) } }
        @if b(r, "written") {
            p.notice role="status" { (t(l, "Đã nhập toàn bộ tệp vào hệ thống.", "The whole file was imported.")) }
        } @else if b(r, "passes") {
            p.notice role="status" { (t(l, "Tệp hợp lệ: chưa ghi gì. Hãy xác nhận để nhập.", "The file passes: nothing written yet. Confirm to import it.")) }
        } @else {
            div.error-summary role="alert" tabindex="-1" {
                h2 { (t(l, "Tệp có lỗi: không ghi gì", "The file has problems: nothing written")) }
                p { (i(r, "problemCount")) " " (t(l, "lỗi. Hãy sửa tệp rồi tải lên lại.", "problem(s). Fix the file and upload it again.")) }
            }
        }
        div.table-wrap {
            table {
                caption { (t(l, "Số dòng theo kết quả", "Rows by outcome")) }
                thead { tr { th {} th.num { (t(l, "Thêm mới", "Create")) } th.num { (t(l, "Cập nhật", "Update")) } th.num { (t(l, "Không đổi", "Unchanged")) } } }
                tbody {
                    tr { th scope="row" { (t(l, "Đơn vị", "Units")) } td.num { (i(c, "unitsCreated")) } td.num { (i(c, "unitsUpdated")) } td.num { (i(c, "unitsUnchanged")) } }
                    tr { th scope="row" { (t(l, "Đảng viên", "Members")) } td.num { (i(c, "membersCreated")) } td.num { (i(c, "membersUpdated")) } td.num { (i(c, "membersUnchanged")) } }
                    tr { th scope="row" { (t(l, "Người giữ vai trò", "Role holders")) } td.num { (i(c, "rolesCreated")) } td.num { (i(c, "rolesUpdated")) } td.num { (i(c, "rolesUnchanged")) } }
                    tr { th scope="row" { (t(l, "Huy hiệu Đảng", "Party badges")) } td.num { (i(c, "badgesCreated")) } td.num { "0" } td.num { (i(c, "badgesUnchanged")) } }
                    tr { th scope="row" { (t(l, "Ấp, khu vực, tổ dân phố", "Hamlets")) } td.num { (i(c, "hamletsCreated")) } td.num { (i(c, "hamletsUpdated")) } td.num { (i(c, "hamletsUnchanged")) } }
                    tr { th scope="row" { (t(l, "Kỷ luật đảng viên", "Discipline register")) } td.num { (i(c, "disciplineCreated")) } td.num { (i(c, "disciplineUpdated")) } td.num { (i(c, "disciplineUnchanged")) } }
                }
            }
        }
        @if let Some(key) = stash_key {
            @if b(r, "passes") {
                form method="post" action="/import/confirm" {
                    (csrf(v))
                    input type="hidden" name="key" value=(key);
                    p { button type="submit" { (t(l, "Xác nhận nhập tệp này", "Confirm: import this file")) } }
                }
            }
        }
        @if !problems.is_empty() {
            h3 { (t(l, "Lỗi theo dòng", "Problems by row")) }
            @if let (Some(key), false) = (stash_key, b(r, "passes")) {
                p {
                    a.button href={ (ANNOTATED_ROUTE) "?key=" (key) } download {
                        (t(l, "Tải tệp có ghi chú lỗi (XLSX)", "Download the file annotated with its problems (XLSX)"))
                    }
                }
            }
            @if i(r, "problemCount") > problems.len() as i64 {
                p.muted { (t(l, "Chỉ hiện", "Showing the first")) " " (problems.len()) " / " (i(r, "problemCount")) }
            }
            div.table-wrap {
                table data-sortable {
                    thead { tr { th { (t(l, "Bảng", "Sheet")) } th.num { (t(l, "Dòng", "Row")) } th { (t(l, "Cột", "Column")) } th { (t(l, "Mã lỗi", "Code")) } th { (t(l, "Lý do", "Reason")) } } }
                    tbody {
                        @for p in problems {
                            tr {
                                td { (s(p, "sheet")) }
                                td.num { (i(p, "row")) }
                                td { (s(p, "column")) }
                                td { span.code { (s(p, "code")) } }
                                td { (s(p, message)) }
                            }
                        }
                    }
                }
            }
        }
        @if !rows.is_empty() {
            h3 { (t(l, "Các dòng hợp lệ", "Rows that pass")) }
            @if i(r, "rowCount") > rows.len() as i64 {
                p.muted { (t(l, "Chỉ hiện", "Showing the first")) " " (rows.len()) " / " (i(r, "rowCount")) }
            }
            div.table-wrap {
                table data-sortable {
                    thead { tr { th { (t(l, "Bảng", "Sheet")) } th.num { (t(l, "Dòng", "Row")) } th { (t(l, "Mã / số thẻ", "Code / card")) } th { (t(l, "Kết quả", "Outcome")) } } }
                    tbody {
                        @for x in rows {
                            tr {
                                td { (s(x, "sheet")) }
                                td.num { (i(x, "row")) }
                                td { (s(x, "key")) }
                                td { (action_label(l, s(x, "action"))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn render(v: &Visit, status: StatusCode, problem: Option<&GqlError>, body: Markup) -> Response {
    let l = v.lang;
    page_with_status(
        v,
        status,
        t(l, "Nhập, xuất dữ liệu", "Import and export"),
        Nav::Import,
        html! {
            h1 { (t(l, "Nhập, xuất dữ liệu", "Import and export")) }
            @if let Some(e) = problem { (error_summary(l, e)) }
            (body)
        },
    )
}

/// `GET /import`.
pub(crate) async fn show(v: Visit) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    render(
        &v,
        StatusCode::OK,
        None,
        html! {
            p { (t(l, "Đưa cơ cấu tổ chức và danh sách đảng viên từ bảng tính vào hệ thống, theo mẫu. Mỗi tệp được kiểm tra toàn bộ trước; chỉ khi không có lỗi nào mới nhập, và nhập cả tệp một lần.",
                   "Bring the organization tree and the member registry in from spreadsheets that follow the template. Every file is checked whole first; only a file without problems is imported, all at once.")) }
            div.split {
                (upload_form(&v, "", None))
                (export_form(&v))
            }
        },
    )
}

/// The text fields and the file of the upload form.
async fn read_form(mut m: Multipart) -> Result<(Fields, Option<(String, Vec<u8>)>), String> {
    let mut fields = Fields::new();
    let mut file = None;
    while let Some(part) = m.next_field().await.map_err(|e| e.body_text())? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = part.file_name().unwrap_or("tep").to_owned();
            let bytes = part.bytes().await.map_err(|e| e.body_text())?;
            file = Some((file_name, bytes.to_vec()));
        } else {
            let text = part.text().await.map_err(|e| e.body_text())?;
            fields.insert(name, text);
        }
    }
    Ok((fields, file))
}

/// `POST /import`: the file checked.
pub(crate) async fn preview(
    v: Visit,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let bad = |e: String| {
        let err = GqlError {
            code: "BAD_REQUEST".into(),
            message: format!(
                "{} {e}",
                t(
                    l,
                    "Không đọc được tệp tải lên:",
                    "The upload could not be read:"
                )
            ),
            reasons: Vec::new(),
        };
        render(
            &v,
            StatusCode::BAD_REQUEST,
            Some(&err),
            upload_form(&v, "", None),
        )
    };
    let form = match form {
        Ok(m) => read_form(m).await,
        Err(e) => Err(e.body_text()),
    };
    let (f, file) = match form {
        Ok(x) => x,
        Err(e) => return bad(e),
    };
    if let Some(r) = v.refuse_form(&f) {
        return r;
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return bad(t(l, "chưa chọn tệp.", "no file chosen.").to_owned());
    };
    let unit_code = f
        .get("unit")
        .map(|u| u.trim().to_owned())
        .unwrap_or_default();
    let kind = kind_of(f.get("kind").map(String::as_str));
    let unit = match unit_id(&v, Some(&unit_code)).await {
        Ok(u) => u,
        Err(e) => {
            return render(
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&e),
                upload_form(&v, &unit_code, kind.as_deref()),
            );
        }
    };
    let response = v
        .gql_with_file(
            gql::IMPORT,
            "ImportPreview",
            serde_json::json!({ "unit": unit, "kind": kind }),
            (&file_name, bytes.clone()),
        )
        .await;
    let r = match response {
        Ok(d) => d["importPreview"].clone(),
        Err(e) => {
            return render(
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&e),
                upload_form(&v, &unit_code, kind.as_deref()),
            );
        }
    };
    // A file that passes waits for its confirmation; one with problems leaves its annotated
    // copy to download.
    let annotated = opt(&r["annotated"], "contentBase64")
        .and_then(|c| base64::engine::general_purpose::STANDARD.decode(c).ok())
        .map(|bytes| (s(&r["annotated"], "fileName").to_owned(), bytes));
    let waiting = if b(&r, "passes") {
        Some((file_name, bytes, false))
    } else {
        annotated.map(|(name, bytes)| (name, bytes, true))
    };
    let key = waiting.map(|(file_name, bytes, annotated)| {
        let key = random_token();
        keep(
            v.stash(),
            Stashed {
                key: key.clone(),
                username: v.username().unwrap_or_default().to_owned(),
                file_name,
                bytes,
                unit: unit.clone(),
                kind: kind.clone(),
                annotated,
                at: Instant::now(),
            },
        );
        key
    });
    let status = if b(&r, "passes") {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        &v,
        status,
        None,
        html! {
            (report(&v, &r, key.as_deref()))
            (upload_form(&v, &unit_code, kind.as_deref()))
        },
    )
}

/// `POST /import/confirm`: the file checked, imported.
pub(crate) async fn confirm(
    v: Visit,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let f = super::fields(pairs);
    if let Some(r) = v.refuse_form(&f) {
        return r;
    }
    let l = v.lang;
    let key = f.get("key").cloned().unwrap_or_default();
    let Some(e) = take(v.stash(), &key, v.username().unwrap_or_default()) else {
        let err = GqlError {
            code: "NOT_FOUND".into(),
            message: t(l, "Tệp đã kiểm tra không còn chờ xác nhận (quá 30 phút, hoặc đã nhập): hãy tải lên lại.",
                          "The checked file is no longer waiting (over 30 minutes, or imported already): upload it again.").to_owned(),
            reasons: Vec::new(),
        };
        return render(
            &v,
            StatusCode::NOT_FOUND,
            Some(&err),
            upload_form(&v, "", None),
        );
    };
    let response = v
        .gql_with_file(
            gql::IMPORT,
            "ImportFile",
            serde_json::json!({ "unit": e.unit, "kind": e.kind }),
            (&e.file_name, e.bytes),
        )
        .await;
    match response {
        Ok(d) => {
            let r = &d["importFile"];
            let status = if b(r, "written") {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render(
                &v,
                status,
                None,
                html! { (report(&v, r, None)) p { a href="/import" { (t(l, "Nhập tệp khác", "Import another file")) } } },
            )
        }
        Err(err) => render(
            &v,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&err),
            upload_form(&v, "", None),
        ),
    }
}

/// Where the annotated copy of a file with problems is downloaded.
pub(crate) const ANNOTATED_ROUTE: &str = "/import/annotated";

/// `GET /import/annotated?key=…`: the annotated copy the last check of a file with problems
/// left (for 30 minutes, for the account that sent the file), as an XLSX attachment.
pub(crate) async fn annotated(
    v: Visit,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let key = q.get("key").map(String::as_str).unwrap_or_default();
    let Some((file_name, bytes)) = annotated_copy(v.stash(), key, v.username().unwrap_or_default())
    else {
        let err = GqlError {
            code: "NOT_FOUND".into(),
            message: t(l, "Tệp có ghi chú lỗi không còn (quá 30 phút, hoặc đã kiểm tra tệp khác): hãy kiểm tra lại tệp.",
                          "The annotated file is gone (over 30 minutes, or another file was checked since): check the file again.").to_owned(),
            reasons: Vec::new(),
        };
        return render(
            &v,
            StatusCode::NOT_FOUND,
            Some(&err),
            upload_form(&v, "", None),
        );
    };
    // The name as an ASCII fallback and in UTF-8 (RFC 6266).
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    if let Ok(d) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    v.finish(response)
}

/// The server's route that streams exports and templates (docs/import.md, «Exports»).
pub(crate) const EXPORT_ROUTE: &str = "/exports/registry";

/// `GET /import/export?unit=CODE&kind=MEMBERS&format=CSV&template=1`: the same query sent on
/// to the server's streamed download, which answers with the file as an attachment.
pub(crate) async fn export(v: Visit, RawQuery(q): RawQuery) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let to = match q.filter(|q| !q.is_empty()) {
        Some(q) => format!("{EXPORT_ROUTE}?{q}"),
        None => EXPORT_ROUTE.to_owned(),
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&to) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    v.finish(response)
}
