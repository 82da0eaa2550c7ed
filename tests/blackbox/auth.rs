//! Accounts: the first administrator bootstrapped from the command line, login and logout,
//! the token's expiry and revocation, password changes.

use std::process::Command;

use memberflow_tests::{TestApp, default_now, error_code, spawn_app};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_memberflow-under-test");
const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt me { username roles { role unitId } } } }";
const ME: &str = "{ me { username roles { role } } }";

fn user(app: &TestApp, args: &[&str], password: Option<&str>) -> std::process::Output {
    let mut c = Command::new(BIN);
    c.arg("user")
        .args(args)
        .env_remove("MEMBERFLOW_CONFIG")
        .env("MEMBERFLOW_DATABASE_URL", app.database_url());
    match password {
        Some(p) => c.env("MEMBERFLOW_NEW_PASSWORD", p),
        None => c.env_remove("MEMBERFLOW_NEW_PASSWORD"),
    };
    c.output().unwrap()
}

async fn login(app: &TestApp, u: &str, p: &str) -> String {
    let d = app.ok(LOGIN, json!({ "u": u, "p": p })).await;
    d["login"]["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_first_administrator_is_made_on_the_command_line_and_logs_in() {
    let app = spawn_app().await;
    let out = user(&app, &["add", "admin"], Some("một mật khẩu dài"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = user(&app, &["role", "admin", "admin"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A second account with the same name, and a short password, are refused.
    assert!(
        !user(&app, &["add", "admin"], Some("một mật khẩu dài"))
            .status
            .success()
    );
    let short = user(&app, &["add", "bob"], Some("short"));
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));

    let d = app
        .ok(LOGIN, json!({ "u": "admin", "p": "một mật khẩu dài" }))
        .await;
    assert_eq!(
        d["login"]["me"]["roles"],
        json!([{ "role": "admin", "unitId": null }])
    );
    let token = d["login"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    let me = app.gql_as(token, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["username"], "admin");
    // Anonymous: no one.
    assert!(app.gql_anon(ME, json!({})).await["data"]["me"].is_null());
}

#[tokio::test]
async fn wrong_names_and_wrong_passwords_are_the_same_error() {
    let app = spawn_app().await;
    assert!(
        user(&app, &["add", "lan"], Some("correct horse battery"))
            .status
            .success()
    );
    let wrong_pass = app
        .gql(LOGIN, json!({ "u": "lan", "p": "wrong password!!" }))
        .await;
    let wrong_user = app
        .gql(
            LOGIN,
            json!({ "u": "nobody", "p": "correct horse battery" }),
        )
        .await;
    assert_eq!(error_code(&wrong_pass), "UNAUTHENTICATED");
    assert_eq!(error_code(&wrong_user), "UNAUTHENTICATED");
    assert_eq!(
        wrong_pass["errors"][0]["message"],
        wrong_user["errors"][0]["message"]
    );
}

#[tokio::test]
async fn tokens_expire_and_are_revoked_by_logout_password_change_and_disabling() {
    let app = spawn_app().await;
    assert!(
        user(&app, &["add", "lan"], Some("correct horse battery"))
            .status
            .success()
    );
    // Logout ends the session.
    let t = login(&app, "lan", "correct horse battery").await;
    assert_eq!(
        app.gql_as(&t, "mutation { logout }", json!({})).await["data"]["logout"],
        true
    );
    assert!(app.gql_as(&t, ME, json!({})).await["data"]["me"].is_null());
    assert_eq!(
        error_code(&app.gql_as(&t, "mutation { logout }", json!({})).await),
        "UNAUTHENTICATED"
    );

    // A session lasts 8 hours by default.
    let t = login(&app, "lan", "correct horse battery").await;
    app.set_now(default_now() + chrono::Duration::minutes(479));
    assert_eq!(
        app.gql_as(&t, ME, json!({})).await["data"]["me"]["username"],
        "lan"
    );
    app.set_now(default_now() + chrono::Duration::minutes(481));
    assert!(app.gql_as(&t, ME, json!({})).await["data"]["me"].is_null());
    app.set_now(default_now());

    // Changing the password ends every session, and the old password stops working.
    let t1 = login(&app, "lan", "correct horse battery").await;
    let t2 = login(&app, "lan", "correct horse battery").await;
    let change =
        "mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) }";
    let r = app
        .gql_as(
            &t1,
            change,
            json!({ "o": "wrong", "n": "another long password" }),
        )
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED");
    let r = app
        .gql_as(
            &t1,
            change,
            json!({ "o": "correct horse battery", "n": "short" }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION");
    let r = app
        .gql_as(
            &t1,
            change,
            json!({ "o": "correct horse battery", "n": "another long password" }),
        )
        .await;
    assert_eq!(r["data"]["changePassword"], true, "{r}");
    for t in [&t1, &t2] {
        assert!(app.gql_as(t, ME, json!({})).await["data"]["me"].is_null());
    }
    assert_eq!(
        error_code(
            &app.gql(LOGIN, json!({ "u": "lan", "p": "correct horse battery" }))
                .await
        ),
        "UNAUTHENTICATED"
    );
    let t = login(&app, "lan", "another long password").await;

    // Disabling the account ends its sessions and its logins.
    assert!(user_heard(&app, &["disable", "lan"]).await.status.success());
    assert!(app.gql_as(&t, ME, json!({})).await["data"]["me"].is_null());
    assert_eq!(
        error_code(
            &app.gql(LOGIN, json!({ "u": "lan", "p": "another long password" }))
                .await
        ),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn an_account_s_address_is_set_on_the_command_line_and_checked() {
    let app = spawn_app().await;
    let out = user(
        &app,
        &["add", "lan", "--email", "Lan@ChiBo1.Example.VN"],
        Some("một mật khẩu dài"),
    );
    assert!(out.status.success(), "{out:?}");
    let bad = user(&app, &["email", "lan", "not an address"], None);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not an e-mail address"),
        "{bad:?}"
    );
    let out = user(&app, &["email", "lan", "lan@chibo1.example.vn"], None);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("lan@chibo1.example.vn"));
    let out = user(&app, &["email", "lan"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("no e-mail address"));
    // A bad address at creation makes no account.
    let out = user(
        &app,
        &["add", "minh", "--email", "minh@"],
        Some("một mật khẩu dài"),
    );
    assert!(!out.status.success());
    let login = app
        .gql_anon(LOGIN, json!({ "u": "minh", "p": "một mật khẩu dài" }))
        .await;
    assert_eq!(error_code(&login), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_revoked_role_ends_its_rights_at_once() {
    let app = spawn_app().await;
    let unit = "mutation { createUnit(input: { code: \"HG\", name: \"Hậu Giang\", kind: PROVINCE, validFrom: \"2004-01-01\" }) { id } }";
    app.ok(unit, json!({})).await;
    assert!(
        user(&app, &["add", "lan"], Some("một mật khẩu dài"))
            .status
            .success()
    );
    assert!(
        user(
            &app,
            &["role", "lan", "organization_department", "--unit", "HG"],
            None
        )
        .status
        .success()
    );
    let token = login(&app, "lan", "một mật khẩu dài").await;
    let q = "{ unit(code: \"HG\") { memberCount } }";
    assert!(
        app.gql_as(&token, q, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    let out = user_heard(
        &app,
        &["revoke", "lan", "organization_department", "--unit", "HG"],
    )
    .await;
    assert!(out.status.success(), "{out:?}");
    // The same session, the next request: the right is gone.
    assert_eq!(
        error_code(&app.gql_as(&token, q, json!({})).await),
        "FORBIDDEN"
    );
    // Revoking what is not held says so.
    let out = user(
        &app,
        &["revoke", "lan", "organization_department", "--unit", "HG"],
        None,
    );
    assert!(!out.status.success());
}

/// A series of `/metrics`.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// Waits (at most ten seconds) until the server listens for changes, or not, as `want` says.
async fn until_listening(app: &TestApp, want: f64) {
    for _ in 0..100 {
        if metric(app, "memberflow_changes_listening").await == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("memberflow_changes_listening never became {want}");
}

/// `memberflow user ARGS`, a command of another process; on PostgreSQL, returns once the
/// server has heard its commit (the notification, usually within a millisecond, may come a
/// little later on a loaded machine: docs/operations.md "Revocations and tree changes").
async fn user_heard(app: &TestApp, args: &[&str]) -> std::process::Output {
    let listening = metric(app, "memberflow_changes_listening").await == 1.0;
    let before = metric(app, "memberflow_changes_heard_total").await;
    let out = user(app, args, None);
    if listening && out.status.success() {
        for _ in 0..500 {
            if metric(app, "memberflow_changes_heard_total").await > before {
                return out;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!(
            "the server never heard `memberflow user {}`",
            args.join(" ")
        );
    }
    out
}

#[tokio::test]
async fn a_server_hears_revocations_by_another_process_and_reads_again_while_it_cannot() {
    let app = spawn_app().await;
    if !app.database_url().starts_with("postgres") {
        // SQLite: nothing to hear; every request reads the revocation epoch.
        assert_eq!(metric(&app, "memberflow_changes_listening").await, 0.0);
        return;
    }
    until_listening(&app, 1.0).await;
    app.ok(
        "mutation { createUnit(input: { code: \"HG\", name: \"Hậu Giang\", kind: PROVINCE, validFrom: \"2004-01-01\" }) { id } }",
        json!({}),
    )
    .await;
    assert!(
        user(&app, &["add", "lan"], Some("một mật khẩu dài"))
            .status
            .success()
    );
    let grant = ["role", "lan", "organization_department", "--unit", "HG"];
    let revoke = ["revoke", "lan", "organization_department", "--unit", "HG"];
    assert!(user(&app, &grant, None).status.success());
    let token = login(&app, "lan", "một mật khẩu dài").await;
    let q = "{ unit(code: \"HG\") { memberCount } }";
    let allowed = |v: &serde_json::Value| v.get("errors").is_none();
    // Cached while heard; another process's revocation counts from the moment it is heard.
    assert!(allowed(&app.gql_as(&token, q, json!({})).await));
    assert!(allowed(&app.gql_as(&token, q, json!({})).await));
    assert!(user_heard(&app, &revoke).await.status.success());
    assert_eq!(
        error_code(&app.gql_as(&token, q, json!({})).await),
        "FORBIDDEN"
    );
    // A grant by another process too.
    assert!(user_heard(&app, &grant).await.status.success());
    let r = app.gql_as(&token, q, json!({})).await;
    assert!(allowed(&r), "{r}");

    // The listening connection lost: the server stops trusting its cache at once and reads
    // the epoch meanwhile, so a revocation made while it cannot hear still counts.
    let killed: Vec<bool> = sea_orm::ConnectionTrait::query_all_raw(
        &app.db,
        sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        ),
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("", "killed").unwrap())
    .collect();
    assert_eq!(killed, vec![true]);
    until_listening(&app, 0.0).await;
    assert!(user(&app, &revoke, None).status.success());
    assert_eq!(
        error_code(&app.gql_as(&token, q, json!({})).await),
        "FORBIDDEN"
    );
    // Heard again (a new connection a second later), and trusted again.
    until_listening(&app, 1.0).await;
    assert!(user_heard(&app, &grant).await.status.success());
    assert!(allowed(&app.gql_as(&token, q, json!({})).await));
    assert!(user_heard(&app, &revoke).await.status.success());
    assert_eq!(
        error_code(&app.gql_as(&token, q, json!({})).await),
        "FORBIDDEN"
    );
}
