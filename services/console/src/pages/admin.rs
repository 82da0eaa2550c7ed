//! Administration (the admin role): accounts, role grants scoped to units, the dead letters
//! of the mail outbox and their retry.

use axum::Form;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::fields;
use crate::gql::{self, GqlError, i, list, opt, s};
use crate::i18n::{date, t};
use crate::layout::{Nav, csrf, error_page, error_summary, page};
use crate::session::{Visit, urlencode};
use memberflow_api::Lang;

/// Accounts on a page of the console.
const PAGE: i32 = 50;

/// `GET /admin?q=…&after=…` (or `&before=…`): the search and the page of accounts.
#[derive(Deserialize, Default)]
pub(crate) struct AdminQuery {
    q: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

impl AdminQuery {
    fn search(&self) -> &str {
        self.q.as_deref().map_or("", str::trim)
    }

    fn variables(&self) -> serde_json::Value {
        let search = Some(self.search()).filter(|s| !s.is_empty());
        let nonempty =
            |c: &Option<String>| c.as_deref().filter(|c| !c.is_empty()).map(str::to_owned);
        match (nonempty(&self.after), nonempty(&self.before)) {
            (None, Some(before)) => {
                serde_json::json!({ "search": search, "last": PAGE, "before": before })
            }
            (after, _) => serde_json::json!({ "search": search, "first": PAGE, "after": after }),
        }
    }

    /// The page's address with `cursor` as `after` or `before`.
    fn link(&self, key: &str, cursor: &str) -> String {
        let mut href = String::from("/admin?");
        if !self.search().is_empty() {
            href.push_str("q=");
            href.push_str(&urlencode(self.search()));
            href.push('&');
        }
        href.push_str(key);
        href.push('=');
        href.push_str(&urlencode(cursor));
        href
    }
}

async fn render(v: &Visit, q: &AdminQuery, problem: Option<&GqlError>, done: bool) -> Response {
    let l = v.lang;
    let data = match v.gql(gql::ADMIN, "AdminPage", q.variables()).await {
        Ok(d) => d,
        Err(e) => return error_page(v, Nav::Admin, &e),
    };
    let accounts = &data["accountsConnection"];
    let info = &accounts["pageInfo"];
    let previous = (info["hasPreviousPage"].as_bool() == Some(true))
        .then(|| opt(info, "startCursor"))
        .flatten()
        .map(|c| q.link("before", c));
    let next = (info["hasNextPage"].as_bool() == Some(true))
        .then(|| opt(info, "endCursor"))
        .flatten()
        .map(|c| q.link("after", c));
    page(
        v,
        t(l, "Quản trị", "Administration"),
        Nav::Admin,
        html! {
            h1 { (t(l, "Quản trị", "Administration")) }
            @if let Some(e) = problem { (error_summary(l, e)) }
            @if done { p.notice role="status" { (t(l, "Đã lưu.", "Saved.")) } }
            h2 { (t(l, "Tài khoản", "Accounts")) }
            form method="get" action="/admin" role="search" {
                label for="q" { (t(l, "Tên đăng nhập hoặc họ tên (có hoặc không dấu)", "Username or name (with or without diacritics)")) }
                div.row {
                    input id="q" type="search" name="q" value=(q.search()) autocomplete="off";
                    button type="submit" { (t(l, "Tìm", "Search")) }
                }
            }
            p.muted role="status" {
                (i(accounts, "totalCount")) " " (t(l, "tài khoản", "accounts"))
                @if !q.search().is_empty() { " " (t(l, "khớp với", "matching")) " «" (q.search()) "»" }
            }
            (pager(l, previous.as_deref(), next.as_deref()))
            div.table-wrap {
                table data-sortable {
                    thead { tr { th { (t(l, "Tên đăng nhập", "Username")) } th { (t(l, "Họ tên", "Name")) } th { (t(l, "Thư điện tử", "E-mail")) } th { (t(l, "Vai trò", "Roles")) } th { (t(l, "Tình trạng", "State")) } } }
                    tbody {
                        @for a in list(accounts, "nodes") {
                            tr {
                                td { (s(a, "username")) }
                                td { (s(a, "displayName")) }
                                td { (s(a, "email")) }
                                td {
                                    ul.plain {
                                        @for r in list(a, "roles") {
                                            li {
                                                (s(r, "label"))
                                                @if r["unit"].is_object() { " — " (s(&r["unit"], "name")) " (" (s(&r["unit"], "code")) ")" }
                                                @else { " — " (t(l, "mọi nơi", "everywhere")) }
                                                " "
                                                form.inline method="post" action="/admin/roles" {
                                                    (csrf(v))
                                                    input type="hidden" name="op" value="revoke";
                                                    input type="hidden" name="username" value=(s(a, "username"));
                                                    input type="hidden" name="role" value=(s(r, "role"));
                                                    input type="hidden" name="unit" value=(s(&r["unit"], "code"));
                                                    button.link type="submit" { (t(l, "Thu hồi", "Revoke")) }
                                                }
                                            }
                                        }
                                    }
                                }
                                td { @if a["disabled"].as_bool() == Some(true) { (t(l, "Đã khóa", "Disabled")) } @else { (t(l, "Hoạt động", "Active")) } }
                            }
                        }
                    }
                }
            }
            (pager(l, previous.as_deref(), next.as_deref()))
            div.split {
                form method="post" action="/admin/roles" {
                    fieldset {
                        legend { (t(l, "Giao vai trò", "Grant a role")) }
                        (csrf(v))
                        input type="hidden" name="op" value="grant";
                        label for="g-user" { (t(l, "Tên đăng nhập", "Username")) }
                        input id="g-user" type="text" name="username" required;
                        label for="g-role" { (t(l, "Vai trò", "Role")) }
                        select id="g-role" name="role" {
                            @for r in memberflow_workflow::access::Role::ALL {
                                option value=(r.as_str()) { (memberflow_workflow::vocab::capitalised(r.label().get(l))) }
                            }
                        }
                        label for="g-unit" { (t(l, "Tại đơn vị (mã; để trống: mọi nơi)", "At unit (code; empty: everywhere)")) }
                        input id="g-unit" type="text" name="unit";
                        p { button type="submit" { (t(l, "Giao vai trò", "Grant")) } }
                    }
                }
                form method="post" action="/admin/accounts" {
                    fieldset {
                        legend { (t(l, "Tạo tài khoản", "Create an account")) }
                        (csrf(v))
                        label for="a-user" { (t(l, "Tên đăng nhập", "Username")) }
                        input id="a-user" type="text" name="username" required autocomplete="off";
                        label for="a-pass" { (t(l, "Mật khẩu (ít nhất 12 ký tự)", "Password (12 characters or more)")) }
                        input id="a-pass" type="password" name="password" required autocomplete="new-password";
                        label for="a-mail" { (t(l, "Thư điện tử (không bắt buộc)", "E-mail (optional)")) }
                        input id="a-mail" type="email" name="email";
                        p { button type="submit" { (t(l, "Tạo", "Create")) } }
                    }
                }
            }
            h2 { (t(l, "Thư không gửi được", "Dead letters")) }
            @let dead = list(&data, "outbox");
            @if dead.is_empty() { p.muted { (t(l, "Không có thư nào bị kẹt.", "No mail is stuck.")) } }
            @else {
                div.table-wrap {
                    table {
                        thead { tr { th { (t(l, "Loại", "Kind")) } th { (t(l, "Hạn gửi", "Due")) } th.num { (t(l, "Số lần thử", "Attempts")) } th { (t(l, "Lỗi cuối", "Last error")) } th {} } }
                        tbody {
                            @for m in dead {
                                tr {
                                    td { (outbox_kind(l, s(m, "kind"))) @if let Some(c) = opt(m, "caseId") { " " a href={ "/cases/" (c) } { (t(l, "hồ sơ", "case")) } } }
                                    td { (date(s(m, "dueOn"))) }
                                    td.num { (i(m, "attempts")) }
                                    td { (s(m, "lastError")) }
                                    td {
                                        form.inline method="post" action={ "/admin/outbox/" (s(m, "id")) "/requeue" } {
                                            (csrf(v))
                                            button.secondary type="submit" { (t(l, "Gửi lại", "Retry")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// What an outbox row is, for people (its code when the console does not know it).
fn outbox_kind(l: Lang, kind: &str) -> String {
    let (vi, en) = match kind {
        "MAIL" => ("Thư thông báo", "Notice"),
        "REMINDER" => ("Nhắc việc", "Reminder"),
        "RECURRING_REMINDER" => ("Nhắc việc định kỳ", "Recurring reminder"),
        "DEADLINE" => ("Báo quá hạn", "Deadline passed"),
        "DIGEST" => ("Thư tổng hợp", "Digest"),
        "MEETING" => ("Nhắc lịch sinh hoạt", "Meeting reminder"),
        other => return other.to_owned(),
    };
    t(l, vi, en).to_owned()
}

/// Links to the previous and the next page of accounts, when there are.
fn pager(l: Lang, previous: Option<&str>, next: Option<&str>) -> Markup {
    html! {
        @if previous.is_some() || next.is_some() {
            nav aria-label=(t(l, "Các trang tài khoản", "Pages of accounts")) {
                p.row {
                    @if let Some(href) = previous { a href=(href) rel="prev" { "← " (t(l, "Trang trước", "Previous page")) } }
                    @if let Some(href) = next { a href=(href) rel="next" { (t(l, "Trang sau", "Next page")) " →" } }
                }
            }
        }
    }
}

/// `GET /admin`.
pub(crate) async fn show(v: Visit, Query(q): Query<AdminQuery>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    render(&v, &q, None, false).await
}

async fn after(v: &Visit, r: Result<serde_json::Value, GqlError>) -> Response {
    match r {
        Ok(_) => v.finish(Redirect::to("/admin").into_response()),
        Err(e) => render(v, &AdminQuery::default(), Some(&e), false).await,
    }
}

/// `POST /admin/accounts`.
pub(crate) async fn create_account(v: Visit, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let f = fields(pairs);
    if let Some(r) = v.refuse_form(&f) {
        return r;
    }
    let email = f.get("email").map(|e| e.trim()).filter(|e| !e.is_empty());
    let r = v
        .gql(
            gql::ADMIN,
            "CreateAccount",
            serde_json::json!({
                "username": f.get("username").map(|u| u.trim()).unwrap_or_default(),
                "password": f.get("password").cloned().unwrap_or_default(),
                "email": email,
            }),
        )
        .await;
    after(&v, r).await
}

/// `POST /admin/roles` (`op=grant` or `op=revoke`).
pub(crate) async fn change_role(v: Visit, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let f = fields(pairs);
    if let Some(r) = v.refuse_form(&f) {
        return r;
    }
    let op = if f.get("op").map(String::as_str) == Some("revoke") {
        "RevokeRole"
    } else {
        "GrantRole"
    };
    let unit = f.get("unit").map(|u| u.trim()).filter(|u| !u.is_empty());
    let r = v
        .gql(
            gql::ADMIN,
            op,
            serde_json::json!({
                "username": f.get("username").map(|u| u.trim()).unwrap_or_default(),
                "role": f.get("role").cloned().unwrap_or_default(),
                "unitCode": unit,
            }),
        )
        .await;
    after(&v, r).await
}

/// `POST /admin/outbox/{id}/requeue`.
pub(crate) async fn requeue(
    v: Visit,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = fields(pairs);
    if let Some(r) = v.refuse_form(&f) {
        return r;
    }
    let r = v
        .gql(
            gql::ADMIN,
            "RequeueDeadLetter",
            serde_json::json!({ "id": id }),
        )
        .await;
    after(&v, r).await
}
