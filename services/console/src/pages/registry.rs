//! The organization tree on any date, member search (with or without diacritics) and a
//! member's page.

use axum::extract::{Path, Query};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use crate::gql::{self, b, i, list, opt, s};
use crate::i18n::{date, parse_date, status, t};
use crate::layout::{Nav, error_page, page};
use crate::session::{Visit, urlencode};

#[derive(Deserialize, Default)]
pub(crate) struct TreeQuery {
    unit: Option<String>,
    on: Option<String>,
}

/// `GET /tree?unit=CODE&on=dd/mm/yyyy`.
pub(crate) async fn tree(v: Visit, Query(q): Query<TreeQuery>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let on =
        q.on.as_deref()
            .and_then(parse_date)
            .map(|d| d.format("%Y-%m-%d").to_string());
    let code = q.unit.clone().filter(|c| !c.trim().is_empty());
    let on_q = on
        .as_deref()
        .map(|d| format!("&on={d}"))
        .unwrap_or_default();
    let data = match &code {
        Some(c) => {
            v.gql(
                gql::REGISTRY,
                "TreePage",
                serde_json::json!({ "code": c.trim(), "on": on }),
            )
            .await
        }
        None => {
            v.gql(gql::REGISTRY, "RootsPage", serde_json::json!({ "on": on }))
                .await
        }
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => return error_page(&v, Nav::Tree, &e),
    };
    let shown_on = on.clone().unwrap_or_else(|| s(&data, "today").to_owned());
    let unit = &data["unit"];
    page(
        &v,
        t(l, "Cơ cấu tổ chức", "Organization"),
        Nav::Tree,
        html! {
            h1 { (t(l, "Cơ cấu tổ chức", "Organization tree")) }
            form method="get" action="/tree" {
                div.row {
                    div {
                        label for="unit" { (t(l, "Đơn vị (mã)", "Unit (code)")) }
                        input id="unit" type="text" name="unit" value=(code.clone().unwrap_or_default());
                    }
                    div {
                        label for="on" { (t(l, "Vào ngày (ngày/tháng/năm)", "On (day/month/year)")) }
                        input.date id="on" type="text" name="on" value=(date(&shown_on)) inputmode="numeric";
                    }
                    div { button type="submit" { (t(l, "Xem", "Show")) } }
                }
            }
            p.muted { (t(l, "Cơ cấu vào ngày", "The tree as it stood on")) " " (date(&shown_on)) }
            @if unit.is_object() {
                p {
                    a href={ "/tree?on=" (shown_on) } { (t(l, "Cấp cao nhất", "Top")) }
                    @for a in list(unit, "ancestors").iter().rev() {
                        " › " a href={ "/tree?unit=" (urlencode(s(a, "code"))) (on_q) } { (s(a, "name")) }
                    }
                }
                h2 { (s(unit, "name")) " (" (s(unit, "code")) ") — " (s(unit, "kindLabel")) }
                dl.facts {
                    dt { (t(l, "Thành lập", "Since")) } dd { (date(s(unit, "validFrom"))) }
                    @if let Some(to) = opt(unit, "validTo") {
                        dt { (t(l, "Chấm dứt", "Until")) } dd { (date(to))
                            @if let Some(sc) = unit["successor"].as_object() {
                                " — " (t(l, "hợp nhất vào", "merged into")) " "
                                a href={ "/tree?unit=" (urlencode(sc.get("code").and_then(Value::as_str).unwrap_or_default())) } {
                                    (sc.get("name").and_then(Value::as_str).unwrap_or_default())
                                }
                            } @else { " — " (t(l, "giải thể", "dissolved")) }
                        }
                    }
                }
                p {
                    a href={ "/board?unit=" (urlencode(s(unit, "code"))) } { (t(l, "Bảng kết nạp", "Admission board")) } " · "
                    a href={ "/targets?unit=" (urlencode(s(unit, "code"))) } { (t(l, "Chỉ tiêu", "Targets")) }
                }
                h3 { (t(l, "Đơn vị trực thuộc", "Units below")) " (" (list(unit, "children").len()) ")" }
                ul.plain {
                    @for c in list(unit, "children") {
                        li {
                            a href={ "/tree?unit=" (urlencode(s(c, "code"))) (on_q) } { (s(c, "name")) }
                            " " span.muted { (s(c, "code")) " · " (s(c, "kindLabel")) }
                            @if let Some(to) = opt(c, "validTo") { " " span.chip { (t(l, "đến", "until")) " " (date(to)) } }
                        }
                    }
                }
            } @else {
                ul.plain {
                    @for r in list(&data, "roots") {
                        li { a href={ "/tree?unit=" (urlencode(s(r, "code"))) (on_q) } { (s(r, "name")) } " " span.muted { (s(r, "code")) " · " (s(r, "kindLabel")) } }
                    }
                }
            }
        },
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

/// `GET /members?q=…`: search by name, ignoring case and diacritics.
pub(crate) async fn search(v: Visit, Query(q): Query<SearchQuery>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let query = q.q.unwrap_or_default();
    let results = if query.trim().is_empty() {
        None
    } else {
        match v
            .gql(
                gql::REGISTRY,
                "SearchMembers",
                serde_json::json!({ "query": query.trim() }),
            )
            .await
        {
            Ok(d) => Some(list(&d, "searchMembers").to_vec()),
            Err(e) => return error_page(&v, Nav::Members, &e),
        }
    };
    page(
        &v,
        t(l, "Đảng viên", "Members"),
        Nav::Members,
        html! {
            h1 { (t(l, "Tìm đảng viên", "Find a member")) }
            form method="get" action="/members" role="search" {
                label for="q" { (t(l, "Họ tên (có hoặc không dấu)", "Name (with or without diacritics)")) }
                div.row {
                    input id="q" type="search" name="q" value=(query) autocomplete="off";
                    button type="submit" { (t(l, "Tìm", "Search")) }
                }
            }
            @if let Some(rows) = &results {
                p.muted { (rows.len()) " " (t(l, "kết quả", "results")) }
                ul.plain {
                    @for m in rows {
                        li {
                            a href={ "/members/" (s(m, "id")) } { (s(m, "fullName")) }
                            " " span.muted {
                                (date(s(m, "dateOfBirth")))
                                @if let Some(st) = opt(m, "status") { " · " (status(l, st)) }
                                @if m["unit"].is_object() { " · " (s(&m["unit"], "name")) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `GET /members/{id}`.
pub(crate) async fn member(v: Visit, Path(id): Path<String>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let data = match v
        .gql(gql::REGISTRY, "MemberPage", serde_json::json!({ "id": id }))
        .await
    {
        Ok(d) => d,
        Err(e) => return error_page(&v, Nav::Members, &e),
    };
    let cases = v
        .gql(
            gql::REGISTRY,
            "MemberCases",
            serde_json::json!({ "id": id }),
        )
        .await
        .map(|d| list(&d["cases"], "nodes").to_vec())
        .unwrap_or_default();
    let m = &data["member"];
    let in_force: Vec<&Value> = cases
        .iter()
        .filter(|c| c["decision"].is_object() && !b(c, "terminal"))
        .collect();
    page(
        &v,
        s(m, "fullName"),
        Nav::Members,
        html! {
            h1 { (s(m, "fullName")) }
            dl.facts {
                dt { (t(l, "Ngày sinh", "Born")) } dd { (date(s(m, "dateOfBirth"))) }
                dt { (t(l, "Dân tộc", "Ethnicity")) } dd { (s(m, "ethnicity")) }
                @if let Some(r) = opt(m, "religion") { dt { (t(l, "Tôn giáo", "Religion")) } dd { (r) } }
                dt { (t(l, "Tình trạng", "Status")) } dd { strong { (status(l, s(m, "status"))) } }
                @if m["unit"].is_object() { dt { (t(l, "Chi bộ", "Branch")) } dd { (s(&m["unit"], "name")) } }
                @if let Some(d) = opt(m, "admissionDecisionDate") { dt { (t(l, "Ngày quyết định kết nạp", "Admission decided")) } dd { (date(d)) } }
                @if let Some(d) = opt(m, "ceremonyDate") { dt { (t(l, "Ngày kết nạp (lễ)", "Ceremony")) } dd { (date(d)) } }
                @if let Some(d) = opt(m, "officialDate") { dt { (t(l, "Ngày chính thức", "Official since")) } dd { (date(d)) } }
                @if let Some(d) = opt(m, "partyAgeFrom") { dt { (t(l, "Tuổi đảng tính từ", "Party age from")) } dd { (date(d)) } }
                @if b(m, "exempted") { dt { (t(l, "Miễn công tác và sinh hoạt đảng", "Exempted from party work and activities")) } dd { (t(l, "Đang được miễn (S15)", "Exempted now (S15)")) } }
                @if let Some(d) = opt(m, "electionBarredUntil") { dt { (t(l, "Không được bầu, bổ nhiệm trước ngày", "Not elected or appointed before")) } dd { (date(d)) " (C3)" } }
            }
            @if !list(m, "exemptions").is_empty() {
                h2 { (t(l, "Miễn công tác và sinh hoạt đảng", "Exemption from party work and activities")) }
                table {
                    thead { tr { th { (t(l, "Lý do", "Ground")) } th { (t(l, "Quyết định", "Decision")) } th { (t(l, "Từ", "From")) } th { (t(l, "Đến", "To")) } } }
                    tbody { @for e in list(m, "exemptions") { tr {
                        td { (s(e, "groundLabel")) }
                        td { (s(e, "decision")) @if let Some(x) = opt(e, "liftedDecision") { " — " (t(l, "thôi miễn: ", "lifted: ")) (x) } }
                        td { (date(s(e, "validFrom"))) }
                        td { @if let Some(d) = opt(e, "validTo") { (date(d)) } }
                    } } }
                }
            }
            h2 { (t(l, "Kỷ luật đang có hiệu lực", "Discipline in force")) }
            @if in_force.is_empty() { p.muted { (t(l, "Không có (trong phạm vi đồng chí được xem).", "None (within what you may read).")) } }
            @else {
                ul.plain { @for c in &in_force { li {
                    strong { (s(&c["decision"], "formLabel")) }
                    @if let Some(d) = opt(&c["decision"], "decidedOn") { " — " (date(d)) }
                    " " a href={ "/cases/" (s(c, "id")) } { (s(c, "title")) }
                } } }
            }
            h2 { (t(l, "Hồ sơ", "Cases")) }
            @if cases.is_empty() { p.muted { (t(l, "Không có hồ sơ (trong phạm vi đồng chí được xem).", "No case (within what you may read).")) } }
            @else {
                ul.plain { @for c in &cases { li {
                    a href={ "/cases/" (s(c, "id")) } { (s(c, "title")) }
                    " " span.muted { (s(c, "stateLabel")) }
                } } }
            }
            h2 { (t(l, "Quá trình", "Status history")) }
            table {
                thead { tr { th { (t(l, "Tình trạng", "Status")) } th { (t(l, "Từ", "From")) } th { (t(l, "Đến", "To")) } } }
                tbody { @for p in list(m, "statusHistory") { tr {
                    td { (status(l, s(p, "status"))) } td { (date(s(p, "validFrom"))) } td { @if let Some(d) = opt(p, "validTo") { (date(d)) } }
                } } }
            }
            h2 { (t(l, "Huy hiệu Đảng", "Party badges")) }
            table {
                thead { tr { th.num { (t(l, "Năm tuổi đảng", "Years")) } th { (t(l, "Đủ tuổi ngày", "Reached on")) } th { (t(l, "Dự kiến trao", "Planned")) } th { (t(l, "Đã trao", "Awarded")) } } }
                tbody { @for bd in list(m, "badges") { tr {
                    td.num { (i(bd, "years")) }
                    td { (date(s(bd, "reachedOn"))) }
                    td { @if let Some(d) = opt(bd, "awardOn") { (date(d)) } }
                    td { @if let Some(d) = opt(bd, "awardedOn") { (date(d)) } }
                } } }
            }
        },
    )
}
