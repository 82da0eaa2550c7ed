//! Transitions per second through the real server: a loop of `fireTransition` mutations over
//! HTTP on the toy workflow, one client and then 8 concurrent clients (each on its own case).
//! SQLite always; PostgreSQL too when `MEMBERFLOW_TEST_DATABASE_URL` is set. Prints figures;
//! asserts nothing about time. Each step is authorized like any other (the caller's grants
//! resolved on the tree). Run: `cargo bench -p memberflow-tests --bench transitions`.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use memberflow_tests::{TestApp, TestDb, schemas_with, spawn_app_on};
use serde_json::json;

const TOY: &str = include_str!("../data/toy.toml");
const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { case { version } } }";
const STEPS: u64 = 400;

async fn setup(db: TestDb) -> (TestApp, tempfile::TempDir, Vec<String>) {
    let dir = schemas_with(&[("workflows/toy.toml", TOY)]);
    let path = dir.path().to_owned();
    let app = spawn_app_on(db, move |c| c.schemas_dir = Some(path)).await;
    let unit = |code: &str, kind: &str, parent: Option<&str>| json!({ "i": { "code": code, "name": code, "kind": kind, "parentId": parent, "validFrom": "2004-01-01" } });
    let q = "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }";
    let p = app.ok(q, unit("P", "PROVINCE", None)).await["createUnit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let g = app.ok(q, unit("G", "GRASSROOTS_COMMITTEE", Some(&p))).await["createUnit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.ok(q, unit("B", "BRANCH", Some(&g))).await["createUnit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut cases = Vec::new();
    for i in 0..8 {
        let d = app
            .ok(
                "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
                json!({ "i": { "definitionId": "toy", "unitId": b, "title": format!("bench {i}"),
                    "inputs": { "title": "x", "owner": "m" } } }),
            )
            .await;
        cases.push(d["openCase"]["case"]["id"].as_str().unwrap().to_owned());
    }
    (app, dir, cases)
}

async fn run(app: &TestApp, case: &str, steps: u64) {
    for v in 1..=steps {
        app.ok(
            FIRE,
            json!({ "i": { "caseId": case, "transition": "note", "expectedVersion": v,
                "inputs": { "text": "bench" } } }),
        )
        .await;
    }
}

async fn bench(label: &str, db: TestDb) {
    let (app, _dir, cases) = setup(db).await;
    let start = Instant::now();
    run(&app, &cases[0], STEPS).await;
    let one = STEPS as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let tasks: Vec<_> = cases[1..]
        .iter()
        .map(|c| {
            let app = &app;
            async move { run(app, c, STEPS / 4).await }
        })
        .collect();
    futures::future::join_all(tasks).await;
    let many = (STEPS / 4 * 7) as f64 / start.elapsed().as_secs_f64();
    println!(
        "{label:<12} 1 client: {one:>7.0} transitions/s   7 concurrent clients: {many:>7.0} transitions/s"
    );
}

#[tokio::main]
async fn main() {
    println!("memberflow: fireTransition over HTTP (debug or release as built), toy workflow");
    bench("SQLite", TestDb::sqlite()).await;
    if let Ok(url) = std::env::var(memberflow_tests::PG_ENV) {
        bench("PostgreSQL", TestDb::postgres(&url).await).await;
    }
}
