//! What failing logins and a closed schema tell and allow: failures from one address do not
//! lock an account's owner out from another, a disabled account is refused with the same work
//! as a wrong password, and with introspection off the schema is neither served nor hinted at.

use std::time::{Duration, Instant};

use memberflow_tests::{TEST_PASSWORD, TestApp, error_code, spawn_app_with};
use serde_json::{Value, json};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";

/// A client whose requests come from `ip` (any address of 127.0.0.0/8 is the loopback).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, client: &reqwest::Client, user: &str, password: &str) -> Value {
    client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": LOGIN, "variables": { "u": user, "p": password } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_from_another_address_slow_the_owner_down_but_never_lock_them_out() {
    let app = spawn_app_with(|c| {
        c.limits.login_per_account = 3;
        c.limits.login_per_address = 100;
    })
    .await;
    app.account("lan", &[], None).await;
    let attacker = client_from([127, 0, 0, 2]);
    let owner = client_from([127, 0, 0, 1]);
    let mut codes = Vec::new();
    for _ in 0..6 {
        let r = login_from(&app, &attacker, "lan", "not the password at all").await;
        codes.push(error_code(&r));
    }
    assert_eq!(
        codes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED",
            "RATE_LIMITED",
            "RATE_LIMITED"
        ]
    );
    // The owner, from their own address, with the right password: let in (after a pause).
    let r = login_from(&app, &owner, "lan", TEST_PASSWORD).await;
    assert!(r["data"]["login"]["token"].is_string(), "{r:#}");
    // The attacker's pair stays refused, even with the right password.
    let r = login_from(&app, &attacker, "lan", TEST_PASSWORD).await;
    assert_eq!(error_code(&r), "RATE_LIMITED", "{r:#}");
}

/// The median time of three refused logins.
async fn refusal_time(app: &TestApp, user: &str) -> Duration {
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = app
            .gql_anon(LOGIN, json!({ "u": user, "p": "not the password at all" }))
            .await;
        times.push(t.elapsed());
        assert_eq!(error_code(&r), "UNAUTHENTICATED", "{r:#}");
    }
    times.sort();
    times[1]
}

#[tokio::test]
async fn a_disabled_account_is_refused_after_the_same_password_check_as_any_other() {
    let app = spawn_app_with(|_| {}).await;
    app.account("lan", &[], None).await;
    app.account("ghost", &[], None).await;
    let store = memberflow_store::Store::connect(app.database_url())
        .await
        .unwrap();
    store
        .accounts()
        .disable_account("ghost", memberflow_tests::default_now())
        .await
        .unwrap();
    let active = refusal_time(&app, "lan").await;
    let disabled = refusal_time(&app, "ghost").await;
    // Before, a disabled account skipped the password hash (a few milliseconds against
    // tens or hundreds). Printed, not asserted: no test fails on a timing (the store checks
    // the password before it looks at `disabled`, services/store/src/accounts/mod.rs).
    eprintln!("refusal of a disabled account {disabled:?}, of an active one {active:?}");
    // And the right password of a disabled account is refused just the same.
    let r = app
        .gql_anon(LOGIN, json!({ "u": "ghost", "p": TEST_PASSWORD }))
        .await;
    assert_eq!(error_code(&r), "UNAUTHENTICATED", "{r:#}");
}

#[tokio::test]
async fn with_introspection_off_the_schema_is_refused_with_a_code_and_never_suggested() {
    let app = spawn_app_with(|c| c.graphql.introspection = false).await;
    for q in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"Case\") { fields { name } } }",
        "query { ...F } fragment F on Query { __schema { queryType { name } } }",
    ] {
        let r = app.gql(q, json!({})).await;
        assert_eq!(error_code(&r), "GRAPHQL_VALIDATION_FAILED", "{q}: {r:#}");
        assert!(r["data"].is_null(), "{r:#}");
    }
    let r = app.gql("{ cas(id: \"x\") { id } }", json!({})).await;
    assert_eq!(error_code(&r), "GRAPHQL_VALIDATION_FAILED", "{r:#}");
    let text = r.to_string();
    assert!(!text.contains("Did you mean"), "{text}");
    // `__typename` is not introspection of the schema: still answered.
    let r = app.gql("{ __typename }", json!({})).await;
    assert_eq!(r["data"]["__typename"], "Query", "{r:#}");
}
