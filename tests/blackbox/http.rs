//! The HTTP surface besides GraphQL: health, readiness, GraphiQL and metrics.

use memberflow_tests::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_readiness_graphiql_and_metrics_answer() {
    let app = spawn_app().await;
    let get = |p: &str| app.client.get(format!("{}{p}", app.base)).send();
    let r = get("/healthz").await.unwrap();
    assert_eq!(r.status(), 200);
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 200);
    let r = get("/graphql").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("graphiql"));
    app.ok("{ today }", serde_json::json!({})).await;
    let r = get("/metrics").await.unwrap();
    let text = r.text().await.unwrap();
    assert!(
        text.contains("memberflow_graphql_requests_total{operation=\"today\"} 1"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn today_follows_the_injected_clock_in_vietnam_time() {
    // The test clock stands at 2026-11-25 03:00 UTC, 10:00 in Vietnam.
    let app = spawn_app().await;
    let d = app.ok("{ today }", serde_json::json!({})).await;
    assert_eq!(d["today"], "2026-11-25");
}

#[tokio::test]
async fn graphiql_and_introspection_can_be_switched_off() {
    let app = spawn_app_with(|c| {
        c.graphql.graphiql = false;
        c.graphql.introspection = false;
    })
    .await;
    let r = app
        .client
        .get(format!("{}/graphql", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .gql("{ __schema { types { name } } }", serde_json::json!({}))
        .await;
    assert!(
        r.get("errors").is_some() || r["data"]["__schema"].is_null(),
        "{r}"
    );
}
