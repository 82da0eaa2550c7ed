//! The page shell (header, navigation, language switch, sign-out) and the small pieces every
//! page uses: the error summary, deadline chips, rule ids.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use memberflow_api::Lang;

use crate::gql::{GqlError, Reason};
use crate::i18n::{t, working_days};
use crate::session::{Visit, urlencode};

/// Which item of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Work,
    Board,
    Discipline,
    Targets,
    Tree,
    Members,
    Import,
    Admin,
    None,
}

/// A whole page: the shell around `body`, with the cookies the visit must set.
pub(crate) fn page(v: &Visit, title: &str, nav: Nav, body: Markup) -> Response {
    page_with_status(v, StatusCode::OK, title, nav, body)
}

/// A whole page with another status than 200 (a refused form is 422, a forbidden page 403).
pub(crate) fn page_with_status(
    v: &Visit,
    status: StatusCode,
    title: &str,
    nav: Nav,
    body: Markup,
) -> Response {
    let l = v.lang;
    let lang_attr = match l {
        Lang::Vi => "vi",
        Lang::En => "en",
    };
    let is_admin = v.roles().iter().any(|r| r == "admin");
    let item = |n: Nav, href: &str, vi: &'static str, en: &'static str| {
        html! {
            li { a href=(href) aria-current=[(nav == n).then_some("page")] { (t(l, vi, en)) } }
        }
    };
    let here = urlencode(&v.here);
    let markup = html! {
        (DOCTYPE)
        html lang=(lang_attr) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · memberflow" }
                link rel="icon" href="/assets/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href=(crate::assets::CSS_PATH);
                script src=(crate::assets::JS_PATH) defer {}
            }
            body {
                a.skip href="#main" { (t(l, "Bỏ qua, đến nội dung chính", "Skip to the main content")) }
                header.top {
                    a.brand href="/" { "memberflow" }
                    @if v.auth.is_some() {
                        nav aria-label=(t(l, "Các trang", "Pages")) {
                            ul {
                                (item(Nav::Work, "/", "Việc của tôi", "My work"))
                                (item(Nav::Board, "/board", "Kết nạp", "Admission"))
                                (item(Nav::Discipline, "/discipline", "Kỷ luật", "Discipline"))
                                (item(Nav::Targets, "/targets", "Chỉ tiêu", "Targets"))
                                (item(Nav::Tree, "/tree", "Tổ chức", "Organization"))
                                (item(Nav::Members, "/members", "Đảng viên", "Members"))
                                (item(Nav::Import, "/import", "Nhập, xuất", "Import, export"))
                                @if is_admin {
                                    (item(Nav::Admin, "/admin", "Quản trị", "Administration"))
                                }
                            }
                        }
                    }
                    div.account {
                        @if l == Lang::Vi {
                            a href={ "/lang/en?next=" (here) } lang="en" hreflang="en" { "English" }
                        } @else {
                            a href={ "/lang/vi?next=" (here) } lang="vi" hreflang="vi" { "Tiếng Việt" }
                        }
                        @if let Some(u) = v.username() {
                            span.who { (u) }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(v.csrf);
                                button.link type="submit" { (t(l, "Đăng xuất", "Sign out")) }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (body)
                }
                footer {
                    p {
                        (t(l, "Ngày được hiển thị theo dạng ngày/tháng/năm; hạn tính theo ngày làm việc.",
                               "Dates read day/month/year; deadlines count working days."))
                        " "
                        a href="/graphql" { "GraphQL" }
                    }
                }
            }
        }
    };
    v.finish((status, Html(markup.into_string())).into_response())
}

/// The page for an error of the API: its message in the reader's language, with its code,
/// and the status that fits it.
pub(crate) fn error_page(v: &Visit, nav: Nav, e: &GqlError) -> Response {
    let l = v.lang;
    let status = match e.code.as_str() {
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "VALIDATION" => StatusCode::BAD_REQUEST,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let title = match e.code.as_str() {
        "FORBIDDEN" => t(l, "Không có quyền", "Not allowed"),
        "NOT_FOUND" => t(l, "Không tìm thấy", "Not found"),
        _ => t(l, "Không thực hiện được", "Could not be done"),
    };
    page_with_status(
        v,
        status,
        title,
        nav,
        html! {
            h1 { (title) }
            (error_summary(l, e))
            p { a href="/" { (t(l, "Về trang Việc của tôi", "Back to My work")) } }
        },
    )
}

/// The error summary at the top of a page: the message, each reason with its rule id.
pub(crate) fn error_summary(l: Lang, e: &GqlError) -> Markup {
    html! {
        div.error-summary role="alert" tabindex="-1" {
            h2 { (t(l, "Có vấn đề", "There is a problem")) }
            p { (e.message) " " span.code { "(" (e.code) ")" } }
            @if !e.reasons.is_empty() {
                (reasons(e.reasons.as_slice()))
            }
        }
    }
}

/// Reasons, each with its rule id first.
pub(crate) fn reasons(rs: &[Reason]) -> Markup {
    html! {
        ul.reasons {
            @for r in rs {
                li {
                    @if let Some(rule) = &r.rule { (rule_id(rule)) " " }
                    (r.message)
                    @if let Some(f) = &r.field {
                        " " span.field { "[" (f) "]" }
                    }
                }
            }
        }
    }
}

/// A rule id as a badge.
pub(crate) fn rule_id(rule: &str) -> Markup {
    html! { span.rule title={ "Quy tắc / rule " (rule) } { (rule) } }
}

/// A deadline chip: red when overdue, amber within a week of working days.
pub(crate) fn due_chip(l: Lang, due: &str, left: i64, overdue: bool) -> Markup {
    let class = if overdue {
        "chip overdue"
    } else if left <= 5 {
        "chip soon"
    } else {
        "chip"
    };
    html! {
        span class=(class) {
            (crate::i18n::date(due)) " · " (working_days(l, left))
        }
    }
}

/// A hidden CSRF field.
pub(crate) fn csrf(v: &Visit) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

/// The answer to a form whose CSRF token did not match.
pub(crate) fn csrf_refused(v: &Visit) -> Response {
    let l = v.lang;
    page_with_status(
        v,
        StatusCode::FORBIDDEN,
        t(l, "Phiên làm việc đã thay đổi", "The session changed"),
        Nav::None,
        html! {
            h1 { (t(l, "Phiên làm việc đã thay đổi", "The session changed")) }
            p { (t(l, "Biểu mẫu này không còn hợp lệ (mã chống giả mạo không khớp). Hãy mở lại trang và gửi lại.",
                   "This form is no longer valid (its anti-forgery token does not match). Open the page again and resubmit.")) }
            p { a href="/" { (t(l, "Về trang Việc của tôi", "Back to My work")) } }
        },
    )
}
