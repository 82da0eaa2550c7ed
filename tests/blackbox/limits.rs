//! The endpoint's defences: depth, complexity and body-size limits, malformed requests, and
//! the language of error messages.

use memberflow_tests::{error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

#[tokio::test]
async fn a_too_deep_query_is_refused_with_its_code() {
    let app = spawn_app_with(|c| c.graphql.max_depth = 6).await;
    let q = "{ roots { parent { parent { parent { parent { parent { parent { code } } } } } } } }";
    assert_eq!(app.err_code(q, json!({})).await, "QUERY_TOO_DEEP");
    assert!(
        app.gql("{ roots { code } }", json!({}))
            .await
            .get("errors")
            .is_none()
    );
}

#[tokio::test]
async fn a_too_complex_query_is_refused_with_its_code() {
    let app = spawn_app().await;
    // 100 members times many fields, nested under a subtree: far past the default limit.
    let q = "{ roots { subtree { unit { members(first: 100) { edges { node { id fullName dateOfBirth ethnicity } } } } } } }";
    assert_eq!(app.err_code(q, json!({})).await, "QUERY_TOO_COMPLEX");
}

#[tokio::test]
async fn an_oversized_body_is_refused_before_it_is_read() {
    let app = spawn_app_with(|c| c.graphql.max_body_bytes = 4096).await;
    let big = format!("{{ roots {{ code }} }} # {}", "x".repeat(10_000));
    let r = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": big }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn malformed_requests_get_codes_not_crashes() {
    let app = spawn_app().await;
    for body in ["not json", "[1,2]", "{\"variables\": {}}"] {
        let r = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(error_code(&v), "BAD_REQUEST");
    }
    assert_eq!(
        app.err_code("{ roots { code }", json!({})).await,
        "GRAPHQL_PARSE_FAILED"
    );
    assert_eq!(
        app.err_code("{ roots { nope } }", json!({})).await,
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        app.err_code(
            "query($d: Date) { roots(on: $d) { code } }",
            json!({ "d": "2025-02-30" })
        )
        .await,
        "VALIDATION"
    );
}

#[tokio::test]
async fn messages_are_vietnamese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let q = "{ unit(code: \"NOPE\") { code } }";
    let vi = app.gql_lang(q, json!({}), None).await;
    let en = app.gql_lang(q, json!({}), Some("en-GB,en;q=0.9")).await;
    assert_eq!(vi["errors"][0]["message"], "Không tìm thấy đơn vị NOPE.");
    assert_eq!(en["errors"][0]["message"], "No unit NOPE.");
    for r in [&vi, &en] {
        assert_eq!(
            r["errors"][0]["extensions"]["messageVi"],
            "Không tìm thấy đơn vị NOPE."
        );
        assert_eq!(r["errors"][0]["extensions"]["messageEn"], "No unit NOPE.");
    }
}
