//! How fast the console's pages are on the demo province: each page requested in sequence as
//! a signed-in user through the real server, the time from request to last byte (p50, p95,
//! max) and what a first visit transfers (the HTML and the assets it loads). SQLite always;
//! PostgreSQL too when `MEMBERFLOW_TEST_DATABASE_URL` is set. Prints figures; asserts nothing
//! about time. Run: `cargo bench -p memberflow-tests --bench console`.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use memberflow_tests::{TEST_PASSWORD, TestApp, TestDb, spawn_app_on};
use serde_json::json;

const ROUNDS: usize = 40;

/// Signs in through the console's form; the cookie header of the session.
async fn sign_in(app: &TestApp, http: &reqwest::Client, who: &str) -> String {
    let r = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let mut cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let csrf = cookies
        .iter()
        .find_map(|c| c.strip_prefix("mf_csrf="))
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{}/login", app.base))
        .header("cookie", cookies.join("; "))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", who),
            ("password", TEST_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "signed in");
    for v in r.headers().get_all("set-cookie") {
        cookies.push(v.to_str().unwrap().split(';').next().unwrap().to_owned());
    }
    cookies.join("; ")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn bench(db: TestDb, label: &str) {
    let url = db.url().to_owned();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
        .args(["demo", "hau-giang-2023"])
        .env("MEMBERFLOW_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "{label}: demo built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let app = spawn_app_on(db, |_| {}).await;
    // A branch with open admission cases, one of them, one of its members.
    let d = app
        .ok(
            "{ cases(filter: { definitionId: \"admission\", openOnly: true }, first: 1) { nodes { id unit { id code parent { code parent { code } } } } } }",
            json!({}),
        )
        .await;
    let case = &d["cases"]["nodes"][0];
    let case_id = case["id"].as_str().unwrap().to_owned();
    let branch = case["unit"]["code"].as_str().unwrap().to_owned();
    let branch_id = case["unit"]["id"].as_str().unwrap().to_owned();
    let district = case["unit"]["parent"]["parent"]["code"]
        .as_str()
        .unwrap_or("HG")
        .to_owned();
    let m = app
        .ok(
            "query($u: ID!) { unit(id: $u) { members(first: 1) { nodes { id } } } }",
            json!({ "u": branch_id }),
        )
        .await;
    let member_id = m["unit"]["members"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.account("bench-secretary", &[("secretary", Some(&branch_id))], None)
        .await;
    app.account(
        "bench-province",
        &[("organization_department", None), ("admin", None)],
        None,
    )
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let secretary = sign_in(&app, &http, "bench-secretary").await;
    let province = sign_in(&app, &http, "bench-province").await;
    let pages: Vec<(&str, String, &String)> = vec![
        ("my work (branch secretary)", "/".to_owned(), &secretary),
        (
            "admission board of the branch",
            format!("/board?unit={branch}"),
            &secretary,
        ),
        ("a case page", format!("/cases/{case_id}"), &secretary),
        (
            "admission board of a district",
            format!("/board?unit={district}"),
            &province,
        ),
        (
            "discipline list (province)",
            "/discipline".to_owned(),
            &province,
        ),
        (
            "targets of the province, 2022",
            "/targets?unit=HG&year=2022".to_owned(),
            &province,
        ),
        (
            "the tree: the province",
            "/tree?unit=HG".to_owned(),
            &province,
        ),
        (
            "member search \"nguyen van\"",
            "/members?q=nguyen+van".to_owned(),
            &province,
        ),
        ("a member page", format!("/members/{member_id}"), &province),
        ("administration", "/admin".to_owned(), &province),
    ];
    let asset = |path: &str| {
        let http = http.clone();
        let url = format!("{}{path}", app.base);
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len()
        }
    };
    let assets = asset("/assets/console.css").await
        + asset("/assets/console.js").await
        + asset("/assets/icon.svg").await;
    let chart = asset("/charts/admissions/HG.svg?to=2022").await;
    println!("\n{label}: {ROUNDS} requests per page, in sequence, release build");
    println!(
        "| page | p50 ms | p95 ms | max ms | HTML KB | first visit KB |\n|---|---:|---:|---:|---:|---:|"
    );
    for (name, path, cookie) in pages {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut size = 0;
        for round in 0..ROUNDS + 3 {
            let t = Instant::now();
            let r = http
                .get(format!("{}{path}", app.base))
                .header("cookie", cookie.as_str())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body = r.bytes().await.unwrap();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            size = body.len();
            if round >= 3 {
                times.push(ms);
            }
        }
        times.sort_by(f64::total_cmp);
        let first = size
            + assets
            + if path.starts_with("/targets") {
                chart
            } else {
                0
            };
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times.last().copied().unwrap_or_default(),
            size as f64 / 1024.0,
            first as f64 / 1024.0
        );
    }
    app.stop().await;
}

#[tokio::main]
async fn main() {
    bench(TestDb::sqlite(), "SQLite").await;
    if let Ok(url) = std::env::var(memberflow_tests::PG_ENV)
        && !url.is_empty()
    {
        bench(TestDb::postgres(&url).await, "PostgreSQL").await;
    }
}
