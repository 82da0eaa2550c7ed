//! Who is visiting: the session cookie (the API's login token), the CSRF cookie every form
//! echoes, the remembered language, the peer address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use memberflow_api::{Auth, Lang};
use serde_json::Value;

use crate::Console;
use crate::gql::{self, GqlError};

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "mf_session";
const CSRF_COOKIE: &str = "mf_csrf";
const LANG_COOKIE: &str = "mf_lang";

/// The value of the cookie `name` in `headers`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The console's session token in a request's cookies, for other routes of the server that a
/// browser reaches with the console's session (the charts, the report downloads).
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// 32 random bytes as hex.
pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut b) {
        // No randomness: refuse to make a token anyone could guess.
        tracing::error!(error = %e, "no randomness for a CSRF token");
        panic!("the operating system gave no randomness: {e}");
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One visit: everything a page needs to know about who asks.
#[derive(Debug)]
pub(crate) struct Visit {
    pub lang: Lang,
    pub auth: Option<Auth>,
    /// The CSRF token forms must carry.
    pub csrf: String,
    /// Whether the CSRF cookie must be set on the response.
    new_csrf: bool,
    /// Whether the language cookie must be set on the response (a first visit).
    new_lang: bool,
    /// Whether cookies get `Secure` (the request came over TLS through a proxy).
    pub secure: bool,
    pub peer: IpAddr,
    /// The path and query asked, to come back to after signing in.
    pub here: String,
    console: Console,
}

impl FromRequestParts<Console> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Console,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        // Vietnamese first, whatever the browser's own language: English only when chosen
        // (and then remembered, for the charts and downloads too).
        let remembered = cookie(headers, LANG_COOKIE);
        let lang = match remembered {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        };
        let auth = match cookie(headers, SESSION_COOKIE) {
            Some(token) => console.gateway.authenticate(token).await,
            None => None,
        };
        let (csrf, new_csrf) = match cookie(headers, CSRF_COOKIE) {
            Some(c) if c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
                (c.to_owned(), false)
            }
            _ => (random_token(), true),
        };
        let secure = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Visit {
            lang,
            auth,
            csrf,
            new_csrf,
            new_lang: remembered.is_none(),
            secure,
            peer,
            here,
            console: console.clone(),
        })
    }
}

impl Visit {
    /// Runs `operation` of `document` as the visitor: the `data` object, or the first error
    /// with its code and reasons.
    pub(crate) async fn gql(
        &self,
        document: &str,
        operation: &str,
        variables: Value,
    ) -> Result<Value, GqlError> {
        let response = self
            .console
            .gateway
            .call(
                gql::operation_text(document, operation),
                operation,
                variables,
                self.lang,
                self.auth.clone(),
                Some(self.peer),
            )
            .await;
        gql::result(response, self.lang)
    }

    /// [`Visit::gql`] with a file in the variable `$file` (an upload).
    pub(crate) async fn gql_with_file(
        &self,
        document: &str,
        operation: &str,
        variables: Value,
        file: (&str, Vec<u8>),
    ) -> Result<Value, GqlError> {
        let response = self
            .console
            .gateway
            .call_with_file(
                gql::operation_text(document, operation),
                operation,
                variables,
                file,
                self.lang,
                self.auth.clone(),
                Some(self.peer),
            )
            .await;
        gql::result(response, self.lang)
    }

    /// The files checked and waiting for their confirmation.
    pub(crate) fn stash(&self) -> &crate::pages::import::Stash {
        &self.console.stash
    }

    /// Now, on the API's clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.console.gateway.now()
    }

    /// The account's roles, from the session (no query).
    pub(crate) fn roles(&self) -> Vec<String> {
        self.auth
            .as_ref()
            .map(|a| a.principal.roles.iter().map(|r| r.role.clone()).collect())
            .unwrap_or_default()
    }

    /// The login name, when signed in.
    pub(crate) fn username(&self) -> Option<&str> {
        self.auth
            .as_ref()
            .map(|a| a.principal.account.username.as_str())
    }

    /// The way to the sign-in page, when the visitor is not signed in.
    pub(crate) fn login_redirect(&self) -> Option<Response> {
        if self.auth.is_some() {
            return None;
        }
        let next = urlencode(&self.here);
        Some(Redirect::to(&format!("/login?next={next}")).into_response())
    }

    /// What a form of a signed-in visitor is answered with before it is looked at: the way
    /// to the sign-in page, or the refusal of a form whose CSRF token is not this visitor's.
    pub(crate) fn refuse_form(&self, f: &crate::pages::Fields) -> Option<Response> {
        self.login_redirect().or_else(|| {
            (!self.csrf_ok(f.get("csrf").map(String::as_str)))
                .then(|| crate::layout::csrf_refused(self))
        })
    }

    /// Whether a submitted form's CSRF token is this visitor's.
    pub(crate) fn csrf_ok(&self, submitted: Option<&str>) -> bool {
        !self.new_csrf
            && submitted.is_some_and(|s| constant_time_eq(s.as_bytes(), self.csrf.as_bytes()))
    }

    fn cookie_attrs(&self) -> &'static str {
        if self.secure {
            "; Path=/; HttpOnly; SameSite=Strict; Secure"
        } else {
            "; Path=/; HttpOnly; SameSite=Strict"
        }
    }

    /// Adds the cookies this visit must set (the CSRF token and the language on a first
    /// visit).
    pub(crate) fn finish(&self, mut response: Response) -> Response {
        let already = |r: &Response, name: &str| {
            r.headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.starts_with(name)))
        };
        if self.new_csrf
            && let Ok(v) = HeaderValue::from_str(&format!(
                "{CSRF_COOKIE}={}{}",
                self.csrf,
                self.cookie_attrs()
            ))
        {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        if self.new_lang
            && !already(&response, LANG_COOKIE)
            && let Ok(v) = HeaderValue::from_str(&self.lang_cookie(self.lang))
        {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
        response
    }

    /// A `Set-Cookie` value for the session token, for `max_age` seconds.
    pub(crate) fn session_cookie(&self, token: &str, max_age: i64) -> String {
        format!(
            "{SESSION_COOKIE}={token}{}; Max-Age={}",
            self.cookie_attrs(),
            max_age.max(0)
        )
    }

    /// A `Set-Cookie` value that removes the session cookie.
    pub(crate) fn cleared_session_cookie(&self) -> String {
        format!("{SESSION_COOKIE}={}; Max-Age=0", self.cookie_attrs())
    }

    /// A `Set-Cookie` value remembering the language for a year.
    pub(crate) fn lang_cookie(&self, lang: Lang) -> String {
        let code = match lang {
            Lang::Vi => "vi",
            Lang::En => "en",
        };
        format!(
            "{LANG_COOKIE}={code}{}; Max-Age=31536000",
            self.cookie_attrs()
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes a path and query for a `next=` parameter.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A local path to go back to: only paths of this site (`/…`, never `//host`), else `/`.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; mf_session=tok; mf_lang=en"),
        );
        assert_eq!(session_token(&h), Some("tok"));
        assert_eq!(cookie(&h, "mf_lang"), Some("en"));
        assert_eq!(cookie(&h, "mf_csrf"), None);
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/board?unit=HG")), "/board?unit=HG");
        assert_eq!(local_path(Some("//evil.example/x")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(None), "/");
        assert_eq!(urlencode("/cases/1?x=a b"), "/cases/1%3Fx%3Da%20b");
    }
}
