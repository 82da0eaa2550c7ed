//! The admission board of a unit and, for a committee, its subtree: a column per stage of the
//! admission workflow with its count, a card per candidate with the deadline chip; filters by
//! unit, stage and overdue, kept in the URL so a link can be shared.

use axum::extract::Query;
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use crate::gql::{self, b, i, list, s};
use crate::i18n::t;
use crate::layout::{Nav, due_chip, error_page, page};
use crate::session::Visit;

#[derive(Deserialize, Default)]
pub(crate) struct Filter {
    unit: Option<String>,
    stage: Option<String>,
    overdue: Option<String>,
    /// `0` for the unit alone; its subtree otherwise.
    subtree: Option<String>,
}

/// The unit codes of the visitor's roles, from `Me`.
pub(crate) async fn role_units(v: &Visit) -> Vec<(String, String)> {
    let Ok(me) = v.gql(gql::SESSION, "Me", serde_json::json!({})).await else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for r in list(&me["me"], "roles") {
        let u = &r["unit"];
        let code = s(u, "code");
        if !code.is_empty() && !out.iter().any(|(c, _)| c == code) {
            out.push((code.to_owned(), s(u, "name").to_owned()));
        }
    }
    if out.is_empty()
        && let Ok(roots) = v
            .gql(gql::REGISTRY, "RootsPage", serde_json::json!({}))
            .await
    {
        for u in list(&roots, "roots") {
            out.push((s(u, "code").to_owned(), s(u, "name").to_owned()));
        }
    }
    out
}

/// The visitor's units (for the unit picker) and `read` of the unit asked for, by code, or of
/// the first of the visitor's units when the link names none (`None`: no unit at all). When
/// the link names the unit, both are read at once.
pub(crate) async fn with_role_units<'v, T, Fut>(
    v: &'v Visit,
    asked: Option<&str>,
    read: impl FnOnce(String) -> Fut,
) -> (Vec<(String, String)>, Option<(String, T)>)
where
    Fut: Future<Output = T> + 'v,
{
    match asked.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => {
            let (units, r) = tokio::join!(role_units(v), read(code.to_owned()));
            (units, Some((code.to_owned(), r)))
        }
        None => {
            let units = role_units(v).await;
            let Some(code) = units.first().map(|(c, _)| c.clone()) else {
                return (units, None);
            };
            let r = read(code.clone()).await;
            (units, Some((code, r)))
        }
    }
}

/// `GET /board?unit=CODE&stage=STATE&overdue=1&subtree=0`.
pub(crate) async fn show(v: Visit, Query(f): Query<Filter>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let visit = &v;
    let (units, asked) = with_role_units(visit, f.unit.as_deref(), |code| async move {
        visit
            .gql(gql::BOARD, "Board", serde_json::json!({ "code": code }))
            .await
    })
    .await;
    let Some((code, head)) = asked else {
        return page(
            &v,
            t(l, "Kết nạp", "Admission"),
            Nav::Board,
            html! {
                h1 { (t(l, "Bảng kết nạp", "Admission board")) }
                p { (t(l, "Chưa có đơn vị nào để hiển thị.", "There is no unit to show.")) }
            },
        );
    };
    let subtree = f.subtree.as_deref() != Some("0");
    let overdue = f.overdue.as_deref() == Some("1");
    let stage = f.stage.clone().filter(|st| !st.is_empty());
    let head = match head {
        Ok(d) => d,
        Err(e) => return error_page(&v, Nav::Board, &e),
    };
    let unit = &head["unit"];
    let stages: Vec<&Value> = list(&head, "workflows")
        .iter()
        .filter(|w| s(w, "id") == "admission")
        .max_by_key(|w| i(w, "version"))
        .map(|w| {
            list(w, "stages")
                .iter()
                .filter(|st| !b(st, "terminal"))
                .collect()
        })
        .unwrap_or_default();
    let mut cards: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    let mut total = 0;
    // At most two pages of 100: a board of more cases than that is filtered first (by stage,
    // overdue, or a unit lower down), which the page says. The second page does not count
    // the cards again.
    for (n, operation) in ["BoardCases", "BoardCasesMore"].into_iter().enumerate() {
        let mut vars = serde_json::json!({
            "unitId": s(unit, "id"), "subtree": subtree,
            "states": stage.as_ref().map(|st| vec![st.clone()]),
            "overdue": overdue.then_some(true),
        });
        if n > 0 {
            vars["after"] = serde_json::json!(after);
        }
        let page_data = match v.gql(gql::BOARD, operation, vars).await {
            Ok(d) => d,
            Err(e) => return error_page(&v, Nav::Board, &e),
        };
        let conn = &page_data["cases"];
        if n == 0 {
            total = i(conn, "totalCount");
        }
        cards.extend(list(conn, "nodes").iter().cloned());
        if !b(&conn["pageInfo"], "hasNextPage") {
            break;
        }
        after = gql::opt(&conn["pageInfo"], "endCursor").map(str::to_owned);
    }
    let count = |st: &Value| {
        cards
            .iter()
            .filter(|c| s(c, "state") == s(st, "name"))
            .count()
    };
    // Stages without a card are named in one line rather than drawn as empty columns: the
    // admission workflow has fourteen, and a phone shows two.
    let (shown, empty): (Vec<&&Value>, Vec<&&Value>) = stages
        .iter()
        .filter(|st| stage.as_deref().is_none_or(|x| x == s(st, "name")))
        .partition(|st| count(st) > 0);
    page(
        &v,
        t(l, "Bảng kết nạp", "Admission board"),
        Nav::Board,
        html! {
            h1 { (t(l, "Bảng kết nạp", "Admission board")) ": " (s(unit, "name")) }
            form.filters method="get" action="/board" {
                div.row {
                    div {
                        label for="unit" { (t(l, "Đơn vị (mã)", "Unit (code)")) }
                        input id="unit" type="text" name="unit" value=(code) list="my-units" autocomplete="off";
                        datalist id="my-units" {
                            @for (c, n) in &units { option value=(c) { (n) } }
                        }
                    }
                    div {
                        label for="stage" { (t(l, "Giai đoạn", "Stage")) }
                        select id="stage" name="stage" {
                            option value="" { (t(l, "Tất cả", "All")) }
                            @for st in &stages {
                                option value=(s(st, "name")) selected[stage.as_deref() == Some(s(st, "name"))] { (s(st, "label")) }
                            }
                        }
                    }
                    div {
                        label.check {
                            input type="checkbox" name="overdue" value="1" checked[overdue];
                            (t(l, "Chỉ hồ sơ quá hạn", "Overdue only"))
                        }
                        label.check {
                            input type="checkbox" name="subtree" value="0" checked[!subtree];
                            (t(l, "Chỉ đơn vị này (không gồm cấp dưới)", "This unit only (not below)"))
                        }
                    }
                    div { button type="submit" { (t(l, "Lọc", "Filter")) } }
                }
            }
            p.muted { (total) " " (t(l, "hồ sơ đang mở", "open cases")) }
            @if (cards.len() as i64) < total {
                p.notice role="status" {
                    (t(l, "Đang hiện ", "Showing ")) (cards.len()) (t(l, " hồ sơ đầu tiên; hãy lọc theo giai đoạn, hồ sơ quá hạn hoặc một đơn vị cấp dưới để xem các hồ sơ còn lại.",
                        " cases; filter by stage, overdue, or a unit lower down to see the others."))
                }
            }
            @if !empty.is_empty() {
                p.muted {
                    (t(l, "Giai đoạn chưa có hồ sơ", "Stages with no case")) ": "
                    @for (n, st) in empty.iter().enumerate() {
                        @if n > 0 { ", " }
                        (s(st, "label"))
                    }
                }
            }
            div.board role="list" {
                @for st in &shown {
                    @let mine: Vec<&Value> = cards.iter().filter(|c| s(c, "state") == s(st, "name")).collect();
                    section.column role="listitem" aria-label=(s(st, "label")) {
                        h2 { (s(st, "label")) " " span.chip { (mine.len()) } }
                        @for c in &mine {
                            @let next = list(c, "deadlines").iter().min_by_key(|d| i(d, "workingDaysLeft"));
                            @let late = next.is_some_and(|d| b(d, "overdue"));
                            article class=(if late { "card overdue" } else { "card" }) {
                                a href={ "/cases/" (s(c, "id")) } { (s(c, "title")) }
                                div.meta { (s(&c["unit"], "name")) }
                                @if let Some(d) = next {
                                    div { (due_chip(l, s(d, "due"), i(d, "workingDaysLeft"), b(d, "overdue"))) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
