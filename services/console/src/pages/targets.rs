//! The targets dashboard: a unit's admissions of a year against the 3–4% band (S20, S21), its
//! subtree as a sortable table, the units at risk, the forecast, the admissions chart, the
//! grassroots organizations and branches without an admission for some years, and every
//! report as CSV and XLSX.

use axum::extract::Query;
use axum::response::Response;
use maud::{Markup, html};
use memberflow_api::Lang;
use serde::Deserialize;
use serde_json::Value;

use crate::gql::{self, i, list, s};
use crate::i18n::{date, percent, t};
use crate::layout::{Nav, error_page, page, rule_id};
use crate::session::{Visit, urlencode};

#[derive(Deserialize, Default)]
pub(crate) struct Filter {
    unit: Option<String>,
    year: Option<i32>,
    depth: Option<u32>,
    /// Years without an admission to list units for (5 by default).
    idle: Option<u32>,
}

/// At most this many units without an admission are shown; the download has them all.
const IDLE_SHOWN: usize = 100;

fn rate(l: Lang, row: &Value) -> String {
    row.get("rate")
        .and_then(Value::as_f64)
        .map_or_else(|| "—".to_owned(), |r| percent(l, r))
}

fn band(row: &Value) -> Markup {
    html! { span class={ "band-" (s(row, "band")) } { (s(row, "bandLabel")) } }
}

fn rows_table(l: Lang, rows: &[&Value]) -> Markup {
    html! {
        div.table-wrap {
            table data-sortable {
                thead { tr {
                    th { (t(l, "Đơn vị", "Unit")) }
                    th.num { (t(l, "Đảng viên đầu năm", "Members at base")) }
                    th.num { (t(l, "Đã kết nạp", "Admitted")) }
                    th.num { (t(l, "Tỷ lệ", "Rate")) }
                    th { (t(l, "So với 3–4%", "Against 3–4%")) }
                    th.num { (t(l, "Chỉ tiêu (3%–4%)", "Target (3%–4%)")) }
                    th.num { (t(l, "Còn thiếu (đến 3%)", "Missing (to 3%)")) }
                    th.num { (t(l, "Dự báo cuối năm", "Forecast at year end")) }
                } }
                tbody {
                    @for r in rows {
                        @let f = &r["forecast"];
                        tr {
                            td { a href={ "/targets?unit=" (urlencode(s(&r["unit"], "code"))) } { (s(&r["unit"], "name")) } }
                            td.num { (i(r, "membersAtBase")) }
                            td.num { (i(r, "admitted")) }
                            td.num data-sort=(r.get("rate").and_then(Value::as_f64).unwrap_or(-1.0)) { (rate(l, r)) }
                            td { (band(r)) }
                            td.num { (i(r, "targetLow")) "–" (i(r, "targetHigh")) }
                            td.num { (i(r, "gapLow")) }
                            td.num { @if f.is_object() { (i(f, "projected")) } @else { "—" } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /targets?unit=CODE&year=YYYY&depth=N`.
pub(crate) async fn show(v: Visit, Query(f): Query<Filter>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let year_now: i32 = v.now().format("%Y").to_string().parse().unwrap_or(2026);
    let year = f.year.unwrap_or(year_now).clamp(1990, 2100);
    let depth = f.depth.unwrap_or(1).clamp(1, 4);
    let idle_years = f.idle.unwrap_or(5).clamp(1, 100);
    let visit = &v;
    let (units, asked) = super::board::with_role_units(visit, f.unit.as_deref(), |code| {
        let vars = serde_json::json!({ "code": code, "year": year, "depth": depth,
                                       "years": idle_years, "first": IDLE_SHOWN });
        async move { visit.gql(gql::TARGETS, "Targets", vars).await }
    })
    .await;
    let Some((code, data)) = asked else {
        return page(
            &v,
            t(l, "Chỉ tiêu", "Targets"),
            Nav::Targets,
            html! { h1 { (t(l, "Chỉ tiêu kết nạp", "Admission targets")) } p { (t(l, "Chưa có đơn vị nào để hiển thị.", "There is no unit to show.")) } },
        );
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => return error_page(&v, Nav::Targets, &e),
    };
    let report = &data["admissionTarget"];
    let total = &report["total"];
    let idle = &report["unitsWithoutAdmission"];
    let idle_units: Vec<&Value> = list(idle, "units").iter().collect();
    let idle_title = match l {
        Lang::Vi => format!(
            "Tổ chức cơ sở đảng và chi bộ không kết nạp được đảng viên trong {idle_years} năm"
        ),
        Lang::En => format!(
            "Grassroots organizations and branches without an admission in {idle_years} years"
        ),
    };
    let idle_more = match l {
        Lang::Vi => format!("hiện {IDLE_SHOWN} đơn vị đầu, tải báo cáo để xem đủ"),
        Lang::En => format!("the first {IDLE_SHOWN} shown, download the report for all"),
    };
    let idle_download = match l {
        Lang::Vi => format!("Không kết nạp được đảng viên trong {idle_years} năm"),
        Lang::En => format!("No admission in {idle_years} years"),
    };
    let hamlets = &report["hamletsWithout"];
    let no_members: Vec<&Value> = list(hamlets, "withoutMembers").iter().collect();
    let no_branch: Vec<&Value> = list(hamlets, "withoutBranch").iter().collect();
    let rows: Vec<&Value> = list(report, "rows")
        .iter()
        .filter(|r| i(r, "depth") > 0)
        .collect();
    let at_risk: Vec<&Value> = list(report, "unitsAtRisk").iter().collect();
    let code_q = urlencode(&code);
    let lang_q = match l {
        Lang::Vi => "vi",
        Lang::En => "en",
    };
    let download = |kind: &str, ext: &str, extra: &str| {
        format!("/reports/{kind}.{ext}?unit={code_q}&lang={lang_q}{extra}")
    };
    let unit_name = s(&total["unit"], "name").to_owned();
    page(
        &v,
        t(l, "Chỉ tiêu kết nạp", "Admission targets"),
        Nav::Targets,
        html! {
            h1 { (t(l, "Chỉ tiêu kết nạp", "Admission targets")) ": " (unit_name) " — " (year) }
            form method="get" action="/targets" {
                div.row {
                    div {
                        label for="unit" { (t(l, "Đơn vị (mã)", "Unit (code)")) }
                        input id="unit" type="text" name="unit" value=(code) list="my-units" autocomplete="off";
                        datalist id="my-units" { @for (c, n) in &units { option value=(c) { (n) } } }
                    }
                    div {
                        label for="year" { (t(l, "Năm", "Year")) }
                        input id="year" type="number" name="year" value=(year) min="1990" max="2100";
                    }
                    div {
                        label for="depth" { (t(l, "Số cấp bên dưới", "Levels below")) }
                        input id="depth" type="number" name="depth" value=(depth) min="1" max="4";
                    }
                    div {
                        label for="idle" { (t(l, "Số năm không kết nạp", "Years without admission")) }
                        input id="idle" type="number" name="idle" value=(idle_years) min="1" max="100";
                    }
                    div { button type="submit" { (t(l, "Xem", "Show")) } }
                }
            }
            section.panel aria-labelledby="summary" {
                h2 id="summary" { (t(l, "Tỷ lệ kết nạp", "Admission rate")) " " (rule_id("S21")) }
                @if total.is_object() {
                    p style="font-size:1.4rem" {
                        strong { (rate(l, total)) } " — " (band(total))
                    }
                    dl.facts {
                        dt { (t(l, "Dải chỉ tiêu", "Target band")) }
                        dd { (percent(l, report["bandLow"].as_f64().unwrap_or_default())) " – " (percent(l, report["bandHigh"].as_f64().unwrap_or_default())) " (" (s(report, "ruleSet")) ")" }
                        dt { (t(l, "Đảng viên tại ngày gốc", "Members at the base date")) }
                        dd { (i(total, "membersAtBase")) " (" (date(s(report, "baseDate"))) ")" }
                        dt { (t(l, "Đã kết nạp", "Admitted")) } dd { (i(total, "admitted")) " (" (t(l, "đến", "to")) " " (date(s(report, "referenceDate"))) ")" }
                        dt { (t(l, "Chỉ tiêu", "Target")) } dd { (i(total, "targetLow")) " – " (i(total, "targetHigh")) }
                        dt { (t(l, "Còn thiếu để đạt 3%", "Still missing to 3%")) } dd { (i(total, "gapLow")) }
                        @let fc = &total["forecast"];
                        @if fc.is_object() {
                            dt { (t(l, "Dự báo cuối năm", "Forecast at year end")) }
                            dd {
                                (i(fc, "projected")) " " (t(l, "người", "people")) " ("
                                (i(fc, "openCases")) " " (t(l, "hồ sơ đang mở", "open cases")) "); "
                                (t(l, "còn thiếu", "missing")) " " (i(fc, "gapLow"))
                            }
                        }
                    }
                }
            }
            figure {
                img.chart src={ "/charts/admissions/" (code_q) ".svg?to=" (year) } width="720" height="360"
                    alt=(format!("{} {}", t(l, "Biểu đồ số kết nạp theo năm so với dải 3–4% của", "Chart of admissions by year against the 3–4% band of"), unit_name));
                figcaption.muted { (t(l, "Số kết nạp mỗi năm (cột) và dải chỉ tiêu 3–4%.", "Admissions per year (bars) and the 3–4% target band.")) }
            }
            h2 { (t(l, "Các đơn vị trực thuộc", "Units below")) }
            @if rows.is_empty() { p.muted { (t(l, "Không có đơn vị trực thuộc.", "No unit below.")) } }
            @else { (rows_table(l, &rows)) }
            h2 { (t(l, "Đơn vị có nguy cơ không đạt", "Units at risk")) }
            @if at_risk.is_empty() { p.muted { (t(l, "Không có.", "None.")) } }
            @else { (rows_table(l, &at_risk)) }
            h2 id="idle-units" {
                (idle_title)
            }
            p.muted {
                (i(idle, "total")) " / " (i(idle, "lookedAt")) " "
                (t(l, "đơn vị (từ", "units (from")) " " (date(s(idle, "since"))) " "
                (t(l, "đến", "to")) " " (date(s(idle, "on"))) ")"
                @if i(idle, "total") > idle_units.len() as i64 {
                    "; " (idle_more)
                }
            }
            @if !idle_units.is_empty() {
                div.table-wrap {
                    table data-sortable aria-labelledby="idle-units" {
                        thead { tr {
                            th { (t(l, "Đơn vị", "Unit")) }
                            th { (t(l, "Loại", "Kind")) }
                            th.num { (t(l, "Đảng viên", "Members")) }
                            th { (t(l, "Kết nạp gần nhất", "Last admission")) }
                        } }
                        tbody {
                            @for u in &idle_units {
                                tr {
                                    td { a href={ "/targets?unit=" (urlencode(s(&u["unit"], "code"))) } { (s(&u["unit"], "name")) } }
                                    td { (s(&u["unit"], "kindLabel")) }
                                    td.num { (i(u, "members")) }
                                    td data-sort=(s(u, "lastAdmission")) {
                                        @if u["lastAdmission"].is_string() { (date(s(u, "lastAdmission"))) }
                                        @else { (t(l, "chưa từng", "never")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 id="hamlets" {
                (t(l, "Ấp, khu vực, tổ dân phố chưa có đảng viên, chưa có chi bộ",
                   "Hamlets and residential groups without members, without a branch"))
            }
            p.muted {
                (no_members.len()) " " (t(l, "chưa có đảng viên cư trú", "without a member living there")) ", "
                (no_branch.len()) " " (t(l, "chưa có chi bộ", "without a branch")) "; "
                (i(hamlets, "lookedAt")) " " (t(l, "ấp, khu vực, tổ dân phố vào ngày", "hamlets and residential groups on")) " "
                (date(s(hamlets, "on")))
                @if no_members.len().max(no_branch.len()) > IDLE_SHOWN {
                    "; " (idle_more)
                }
            }
            @for (id, caption, list) in [
                ("hamlets-without-members", t(l, "Chưa có đảng viên cư trú", "Without a member living there"), &no_members),
                ("hamlets-without-branch", t(l, "Chưa có chi bộ", "Without a branch"), &no_branch),
            ] {
                @if !list.is_empty() {
                    div.table-wrap {
                        table data-sortable aria-labelledby=(id) {
                            caption id=(id) { (caption) }
                            thead { tr {
                                th { (t(l, "Mã", "Code")) }
                                th { (t(l, "Tên", "Name")) }
                                th { (t(l, "Loại", "Kind")) }
                                th.num { (t(l, "Đảng viên cư trú", "Members living there")) }
                            } }
                            tbody {
                                @for h in list.iter().take(IDLE_SHOWN) {
                                    tr {
                                        td { (s(&h["hamlet"], "code")) }
                                        td { (s(&h["hamlet"], "name")) }
                                        td { (s(&h["hamlet"], "kindLabel")) }
                                        td.num { (i(h, "members")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { (t(l, "Tải báo cáo", "Download reports")) }
            ul {
                li { (t(l, "Chỉ tiêu kết nạp", "Admission targets")) ": "
                    a href=(download("targets", "csv", &format!("&year={year}&depth={depth}"))) { "CSV" } " · "
                    a href=(download("targets", "xlsx", &format!("&year={year}&depth={depth}"))) { "XLSX" } }
                li { (t(l, "Đảng viên", "Members")) ": "
                    a href=(download("members", "csv", "")) { "CSV" } " · " a href=(download("members", "xlsx", "")) { "XLSX" } }
                li { (t(l, "Kết nạp theo năm", "Admissions by year")) ": "
                    a href=(download("admissions", "csv", "")) { "CSV" } " · " a href=(download("admissions", "xlsx", "")) { "XLSX" } }
                li { (t(l, "Kỷ luật", "Discipline")) ": "
                    a href=(download("discipline", "csv", "")) { "CSV" } " · " a href=(download("discipline", "xlsx", "")) { "XLSX" } }
                li { (t(l, "Huy hiệu Đảng", "Party badges")) ": "
                    a href=(download("badges", "csv", "")) { "CSV" } " · " a href=(download("badges", "xlsx", "")) { "XLSX" } }
                li { (t(l, "Tổ chức đảng", "Units")) ": "
                    a href=(download("units", "csv", "")) { "CSV" } " · " a href=(download("units", "xlsx", "")) { "XLSX" } }
                @let idle_q = format!("&years={idle_years}&on={}", s(idle, "on"));
                li { (idle_download) ": "
                    a href=(download("without-admission", "csv", &idle_q)) { "CSV" } " · "
                    a href=(download("without-admission", "xlsx", &idle_q)) { "XLSX" } }
                @let hamlets_q = format!("&on={}", s(hamlets, "on"));
                li { (t(l, "Ấp, khu vực chưa có đảng viên, chi bộ", "Hamlets without members, without a branch")) ": "
                    a href=(download("hamlets-without", "csv", &hamlets_q)) { "CSV" } " · "
                    a href=(download("hamlets-without", "xlsx", &hamlets_q)) { "XLSX" } }
                li { (t(l, "Kỷ luật còn hiệu lực", "Discipline in force")) ": "
                    a href=(download("discipline-in-force", "csv", "")) { "CSV" } " · "
                    a href=(download("discipline-in-force", "xlsx", "")) { "XLSX" } }
            }
        },
    )
}
