//! Signing in and out, and the language switch.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use memberflow_api::Lang;
use serde::Deserialize;

use super::fields;
use crate::gql::{self, GqlError};
use crate::i18n::t;
use crate::layout::{Nav, csrf, csrf_refused, error_summary, page_with_status};
use crate::session::{Visit, local_path};

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

fn render(v: &Visit, next: &str, username: &str, error: Option<&GqlError>) -> Response {
    let l = v.lang;
    let status = match error {
        Some(e) if e.is("RATE_LIMITED") => StatusCode::TOO_MANY_REQUESTS,
        Some(_) => StatusCode::UNAUTHORIZED,
        None => StatusCode::OK,
    };
    page_with_status(
        v,
        status,
        t(l, "Đăng nhập", "Sign in"),
        Nav::None,
        html! {
            h1 { (t(l, "Đăng nhập", "Sign in")) }
            @if let Some(e) = error { (error_summary(l, e)) }
            form method="post" action="/login" {
                (csrf(v))
                input type="hidden" name="next" value=(next);
                label for="username" { (t(l, "Tên đăng nhập", "Username")) }
                input id="username" type="text" name="username" value=(username)
                    autocomplete="username" required autofocus[error.is_none()];
                label for="password" { (t(l, "Mật khẩu", "Password")) }
                input id="password" type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { (t(l, "Đăng nhập", "Sign in")) } }
            }
            p.hint { (t(l, "Tài khoản do quản trị viên cấp (memberflow user add).",
                        "Accounts are made by an administrator (memberflow user add).")) }
        },
    )
}

/// `GET /login`.
pub(crate) async fn form(v: Visit, Query(q): Query<Next>) -> Response {
    let next = local_path(q.next.as_deref());
    if v.auth.is_some() {
        return v.finish(Redirect::to(&next).into_response());
    }
    render(&v, &next, "", None)
}

/// `POST /login`: the API's `login`, with its rate limits; the token goes into the session
/// cookie.
pub(crate) async fn submit(v: Visit, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let f = fields(pairs);
    if !v.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused(&v);
    }
    let next = local_path(f.get("next").map(String::as_str));
    let username = f.get("username").map(|s| s.trim()).unwrap_or_default();
    let password = f.get("password").map(String::as_str).unwrap_or_default();
    let vars = serde_json::json!({ "username": username, "password": password });
    match v.gql(gql::SESSION, "Login", vars).await {
        Ok(data) => {
            let login = &data["login"];
            let token = gql::s(login, "token");
            let max_age = chrono::DateTime::parse_from_rfc3339(gql::s(login, "expiresAt"))
                .map(|e| (e.with_timezone(&chrono::Utc) - v.now()).num_seconds())
                .unwrap_or(8 * 3600);
            let mut response = Redirect::to(&next).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&v.session_cookie(token, max_age)) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            tracing::info!(username, "console sign-in");
            v.finish(response)
        }
        Err(e) => render(&v, &next, username, Some(&e)),
    }
}

/// `POST /logout`: ends the session (the API's `logout`) and clears the cookie.
pub(crate) async fn logout(v: Visit, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let f = fields(pairs);
    if !v.csrf_ok(f.get("csrf").map(String::as_str)) {
        return csrf_refused(&v);
    }
    if v.auth.is_some()
        && let Err(e) = v.gql(gql::SESSION, "Logout", serde_json::json!({})).await
    {
        tracing::warn!(code = %e.code, "console sign-out failed");
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&v.cleared_session_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    v.finish(response)
}

/// `GET /lang/{vi|en}?next=…`: remembers the language in a cookie and goes back.
pub(crate) async fn language(
    v: Visit,
    Path(code): Path<String>,
    Query(q): Query<Next>,
) -> Response {
    let lang = if code == "en" { Lang::En } else { Lang::Vi };
    let mut response = Redirect::to(&local_path(q.next.as_deref())).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&v.lang_cookie(lang)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    v.finish(response)
}
