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

/// GraphQL over HTTP: the response type follows `Accept`, a POST must be `application/json`,
/// request errors are 400 without `data` under `application/graphql-response+json` (200 under
/// `application/json`), and `GET` runs queries but never mutations. (`.ci/run` also runs the
/// `graphql-http` audit, scripts/graphql-http-audit.)
#[tokio::test]
async fn graphql_over_http_media_types_status_codes_and_get() {
    use serde_json::{Value, json};
    const GRJ: &str = "application/graphql-response+json";
    let app = spawn_app().await;
    let url = format!("{}/graphql", app.base);
    let post = |accept: &'static str, body: Value| {
        app.client
            .post(&url)
            .bearer_auth(&app.token)
            .header("accept", accept)
            .json(&body)
            .send()
    };
    let ctype = |r: &reqwest::Response| {
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };

    let r = post(GRJ, json!({ "query": "{ today }" })).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(ctype(&r).starts_with(GRJ), "{}", ctype(&r));
    let r = post("application/json", json!({ "query": "{ today }" }))
        .await
        .unwrap();
    assert!(ctype(&r).starts_with("application/json"), "{}", ctype(&r));

    for (query, vars, code) in [
        ("{ today", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($d: Date!) { roots(on: $d) { code } }",
            json!({ "d": 5 }),
            "VALIDATION",
        ),
    ] {
        let body = json!({ "query": query, "variables": vars });
        let r = post(GRJ, body.clone()).await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
        let v: Value = r.json().await.unwrap();
        assert!(v.get("data").is_none(), "{v}");
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{v}");
        let r = post("application/json", body).await.unwrap();
        assert_eq!(r.status(), 200, "{query}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], code, "{v}");
    }
    // A field error is not a request error: 200 with data.
    let r = post(
        GRJ,
        json!({ "query": "{ case(id: \"00000000-0000-7000-8000-000000000000\") { id } }" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);

    // A POST that is not JSON: 415, and nothing runs.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut req = app
            .client
            .post(&url)
            .bearer_auth(&app.token)
            .body(r#"{"query":"mutation { logout }"}"#);
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 415, "{content_type:?}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    }
    assert!(
        app.gql("{ me { username } }", json!({}))
            .await
            .get("errors")
            .is_none()
    );

    // GET runs queries, with variables as a JSON string...
    let r = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .header("accept", GRJ)
        .query(&[
            ("query", "query($c: String!) { unit(code: $c) { code } }"),
            ("variables", r#"{"c":"NONE"}"#),
        ])
        .send()
        .await
        .unwrap();
    assert!(ctype(&r).starts_with(GRJ), "{}", ctype(&r));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["extensions"]["code"], "NOT_FOUND", "{v}");
    let r = app
        .client
        .get(&url)
        .query(&[("query", "{ today }")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"]["today"], "2026-11-25");
    // ...but never a mutation: 405, Allow: POST, nothing done.
    let before = app.row_counts().await;
    let r = app
        .client
        .get(&url)
        .bearer_auth(&app.token)
        .query(&[(
            "query",
            "mutation { createUnit(input: { code: \"G\", name: \"G\", kind: PROVINCE, validFrom: \"2004-01-01\" }) { id } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    assert_eq!(app.row_counts().await, before);
    // Without a query, GET is GraphiQL.
    let r = app.client.get(&url).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("graphiql"));
}
