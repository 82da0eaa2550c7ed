//! "My work": everything waiting for the signed-in person across their roles and units, by
//! deadline in working days — overdue first (in red), then this week, then what comes later.

use axum::response::Response;
use maud::{Markup, html};
use memberflow_api::Lang;
use serde_json::Value;

use crate::gql::{self, b, i, list, s};
use crate::i18n::t;
use crate::layout::{Nav, due_chip, error_page, page, rule_id};
use crate::session::Visit;

/// How far ahead the list looks, in working days.
const WITHIN: i64 = 90;

fn kind_label(l: Lang, kind: &str) -> &'static str {
    match kind {
        "DEADLINE" => t(l, "Hạn", "Deadline"),
        "REMINDER" | "RECURRING_REMINDER" => t(l, "Nhắc việc", "Reminder"),
        _ => t(l, "Việc", "Task"),
    }
}

fn items(l: Lang, rows: &[&Value]) -> Markup {
    html! {
        ul.plain {
            @for r in rows {
                @let c = &r["case"];
                li {
                    (due_chip(l, s(r, "due"), i(r, "workingDaysLeft"), b(r, "overdue")))
                    " "
                    a href={ "/cases/" (s(c, "id")) } { (s(c, "title")) }
                    " — " (kind_label(l, s(r, "kind"))) ": " (crate::i18n::deadline(l, s(r, "key")))
                    @if let Some(rule) = gql::opt(r, "rule") { " " (rule_id(rule)) }
                    div.meta.muted {
                        (s(c, "stateLabel")) " · " (s(&c["unit"], "name"))
                    }
                }
            }
        }
    }
}

/// `GET /`.
pub(crate) async fn show(v: Visit) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let data = match v
        .gql(gql::WORK, "MyWork", serde_json::json!({ "within": WITHIN }))
        .await
    {
        Ok(d) => d,
        Err(e) => return error_page(&v, Nav::Work, &e),
    };
    let mut all: Vec<&Value> = list(&data, "myUpcoming").iter().collect();
    all.sort_by_key(|r| (i(r, "workingDaysLeft"), s(r, "due").to_owned()));
    let overdue: Vec<&Value> = all.iter().copied().filter(|r| b(r, "overdue")).collect();
    let week: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|r| !b(r, "overdue") && i(r, "workingDaysLeft") <= 5)
        .collect();
    let later: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|r| !b(r, "overdue") && i(r, "workingDaysLeft") > 5)
        .collect();
    let roles = v
        .auth
        .as_ref()
        .map(|a| a.principal.roles.len())
        .unwrap_or_default();
    page(
        &v,
        t(l, "Việc của tôi", "My work"),
        Nav::Work,
        html! {
            h1 { (t(l, "Việc của tôi", "My work")) }
            p.muted {
                (t(l, "Hôm nay", "Today")) ": " (crate::i18n::date(s(&data, "today")))
                " · " (all.len()) " " (t(l, "việc trong", "items within")) " " (WITHIN) " "
                (t(l, "ngày làm việc tới", "working days"))
            }
            @if roles == 0 {
                p { (t(l, "Tài khoản chưa được giao vai trò nào: hãy liên hệ quản trị viên.",
                       "The account holds no role yet: ask an administrator.")) }
            }
            section aria-labelledby="overdue" {
                h2 id="overdue" { (t(l, "Quá hạn", "Overdue")) " (" (overdue.len()) ")" }
                @if overdue.is_empty() { p.muted { (t(l, "Không có việc quá hạn.", "Nothing overdue.")) } }
                @else { (items(l, &overdue)) }
            }
            section aria-labelledby="week" {
                h2 id="week" { (t(l, "Đến hạn trong tuần", "Due this week")) " (" (week.len()) ")" }
                @if week.is_empty() { p.muted { (t(l, "Không có.", "None.")) } }
                @else { (items(l, &week)) }
            }
            section aria-labelledby="later" {
                h2 id="later" { (t(l, "Sắp tới", "Coming up")) " (" (later.len()) ")" }
                @if later.is_empty() { p.muted { (t(l, "Không có.", "None.")) } }
                @else { (items(l, &later)) }
            }
        },
    )
}
