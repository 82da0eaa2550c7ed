//! Transitions per second through the real server: a loop of `fireTransition` mutations over
//! HTTP on the toy workflow, one client, then 4 and 16 concurrent clients (each on its own
//! case), with each step's latency (p50, p99, max); then one long case of `LONG` steps, with the
//! latency of its first and last hundred steps (a step's cost must not grow with the case's age).
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
/// Steps of the long case.
const LONG: u64 = 1_000;
/// One case for the single client, then one per client of each concurrent run, then the long one.
const CASES: usize = 1 + 4 + 16 + 1;

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
    for i in 0..CASES {
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

/// `steps` steps on `case` in sequence; the latency of each, in milliseconds.
async fn run(app: &TestApp, case: &str, steps: u64) -> Vec<f64> {
    let mut took = Vec::with_capacity(steps as usize);
    for v in 1..=steps {
        let t = Instant::now();
        app.ok(
            FIRE,
            json!({ "i": { "caseId": case, "transition": "note", "expectedVersion": v,
                "inputs": { "text": "bench" } } }),
        )
        .await;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    took
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// `clients` clients at once, each on its own case, `steps` steps each: transitions per second
/// and the latencies' p50 / p99 / max.
async fn clients(app: &TestApp, cases: &[String], steps: u64) -> String {
    let start = Instant::now();
    let tasks: Vec<_> = cases
        .iter()
        .map(|c| async move { run(app, c, steps).await })
        .collect();
    let mut all: Vec<f64> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .flatten()
        .collect();
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    format!(
        "{:>2} client(s): {rate:>6.0} transitions/s, p50 {:>6.1} ms, p99 {:>6.1} ms, max {:>6.1} ms",
        cases.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or_default()
    )
}

/// The long case: `LONG` steps in sequence; the p50 and mean of its first and last hundred.
async fn long_case(app: &TestApp, case: &str) -> String {
    let took = run(app, case, LONG).await;
    let stats = |part: &[f64]| {
        let mut s = part.to_vec();
        s.sort_by(f64::total_cmp);
        (percentile(&s, 0.5), s.iter().sum::<f64>() / s.len() as f64)
    };
    let (first50, first_mean) = stats(&took[..100]);
    let (last50, last_mean) = stats(&took[took.len() - 100..]);
    format!(
        "long case, {LONG} steps: steps 1-100 p50 {first50:>5.1} ms (mean {first_mean:>5.1}), \
         last 100 p50 {last50:>5.1} ms (mean {last_mean:>5.1}): {:.2}x",
        last_mean / first_mean
    )
}

async fn bench(label: &str, db: TestDb) {
    let (app, _dir, cases) = setup(db).await;
    println!("{label:<12} {}", clients(&app, &cases[..1], STEPS).await);
    println!(
        "{label:<12} {}",
        clients(&app, &cases[1..5], STEPS / 4).await
    );
    println!(
        "{label:<12} {}",
        clients(&app, &cases[5..21], STEPS / 16).await
    );
    println!("{label:<12} {}", long_case(&app, &cases[21]).await);
}

#[tokio::main]
async fn main() {
    println!("memberflow: fireTransition over HTTP (debug or release as built), toy workflow");
    bench("SQLite", TestDb::sqlite()).await;
    if let Ok(url) = std::env::var(memberflow_tests::PG_ENV) {
        bench("PostgreSQL", TestDb::postgres(&url).await).await;
    }
}
