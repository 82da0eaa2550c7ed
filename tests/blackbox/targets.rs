//! The admission target (S20, S21) and the statistics: the rate on hand-made trees through the
//! API (a merge in mid-year, a unit dissolved), the forecast from a small pipeline of open
//! cases, the counters against a from-scratch recomputation after random operations, and the
//! demo province's reports against the source report's figures through the real binary.

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{Days, NaiveDate};
use memberflow_tests::{TestApp, TestDb, spawn_app};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::support::{REGISTER, unit};

const BIN: &str = env!("CARGO_BIN_EXE_memberflow-under-test");

const TARGET: &str = "query($code: String!, $year: Int!, $depth: Int = 1) {
  admissionTarget(code: $code, year: $year, maxDepth: $depth) {
    year ruleSet bandLow bandHigh baseDate referenceDate
    rows { depth unit { code } membersAtBase admitted rate band targetLow targetHigh gapLow gapHigh
           forecast { openCases expectedDecisions projected band gapLow } }
  } }";

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Registers `n` official members of `unit` since 2015 (admitted in 2010).
async fn officials(app: &TestApp, unit: &str, n: usize) {
    for i in 0..n {
        app.ok(
            REGISTER,
            json!({ "i": {
                "unitId": unit, "unitSince": "2015-01-01", "fullName": format!("Đảng viên {i}"),
                "dateOfBirth": "1980-01-01", "sex": "MALE", "education": "UPPER_SECONDARY",
                "status": "OFFICIAL", "admissionDecisionDate": "2010-05-10",
                "ceremonyDate": "2010-06-01", "officialDate": "2011-06-01" } }),
        )
        .await;
    }
}

/// Registers a member admitted (decision) on `decision` in `unit`: probationary from the
/// ceremony ten days later.
async fn admitted(app: &TestApp, unit: &str, decision: &str) {
    let d = date(decision);
    let ceremony = (d + Days::new(10)).to_string();
    app.ok(
        REGISTER,
        json!({ "i": {
            "unitId": unit, "unitSince": decision, "fullName": "Người mới",
            "dateOfBirth": "1998-01-01", "sex": "FEMALE", "education": "UPPER_SECONDARY",
            "status": "PROBATIONARY", "admissionDecisionDate": decision,
            "ceremonyDate": ceremony } }),
    )
    .await;
}

/// `code → (members at base, admitted, band)` of a target report.
fn rows(d: &Value) -> BTreeMap<String, (u64, u64, String)> {
    d["admissionTarget"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unit"]["code"].as_str().unwrap().to_owned(),
                (
                    r["membersAtBase"].as_u64().unwrap(),
                    r["admitted"].as_u64().unwrap(),
                    r["band"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

fn row(code: &str, base: u64, admitted: u64, band: &str) -> (String, (u64, u64, String)) {
    (code.to_owned(), (base, admitted, band.to_owned()))
}

/// Runs the real binary on the test database.
fn memberflow(db: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    command(db, dir.path(), args).output().unwrap()
}

/// The binary on the database `db`, run in `dir` with nothing but defaults.
fn command(db: &str, dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_remove("MEMBERFLOW_CONFIG")
        .env_remove("RUST_LOG")
        .env("MEMBERFLOW_DATABASE_URL", db)
        .args(args);
    c
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The counters agree with a recomputation from the registry (`memberflow check --stats`).
fn assert_counters_agree(db: &str) {
    let out = stdout(&memberflow(db, &["check", "--stats"]));
    assert!(out.contains(" 0 difference(s)"), "{out}");
}

/// The first object of `v` (depth first) whose `job` is `job`.
fn job_in<'a>(v: &'a Value, job: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) if o.get("job").and_then(Value::as_str) == Some(job) => Some(v),
        Value::Object(o) => o.values().find_map(|x| job_in(x, job)),
        Value::Array(a) => a.iter().find_map(|x| job_in(x, job)),
        _ => None,
    }
}

/// The monthly report to a province's organization department carries the figures of the
/// province's `admissionTarget` report of that day (the subtree aggregates, not a count of
/// the registry): members at the base, admissions so far, the floor and ceiling of the rule
/// set's band (S21), and the grassroots organizations furthest behind the floor.
#[tokio::test]
async fn s21_the_monthly_report_of_a_province_has_the_figures_of_its_target_report() {
    use chrono::{TimeZone as _, Utc};
    use memberflow_worker::{Job, Recipients, Schedules, Worker, WorkerOptions, vietnam_offset};

    let app = spawn_app().await;
    let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
    let g1 = unit(&app, "P-G1", "GRASSROOTS_COMMITTEE", Some(&p), "2004-01-01").await;
    let g2 = unit(&app, "P-G2", "GRASSROOTS_COMMITTEE", Some(&p), "2004-01-01").await;
    let b1 = unit(&app, "P-G1-B1", "BRANCH", Some(&g1), "2004-01-01").await;
    let b2 = unit(&app, "P-G2-B2", "BRANCH", Some(&g2), "2004-01-01").await;
    officials(&app, &b1, 100).await;
    officials(&app, &b2, 40).await;
    for d in ["2026-02-02", "2026-05-04", "2026-09-07"] {
        admitted(&app, &b1, d).await;
    }
    crate::support::holder(&app, "organization_department", &p).await;

    // The job's tick: 5 November 2026, 08:00 in Vietnam (its default schedule).
    let day = date("2026-11-05");
    let tick = vietnam_offset()
        .from_local_datetime(&day.and_hms_opt(8, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    app.set_now(tick);
    let store = memberflow_store::Store::connect(app.database_url())
        .await
        .unwrap();
    let catalog = memberflow_server::load_catalog(&memberflow_server::Config::default()).unwrap();
    let worker = Worker::new(
        store.clone(),
        None,
        Schedules::default(),
        Recipients::default(),
        WorkerOptions::default(),
    )
    .with_catalog(std::sync::Arc::new(catalog));
    assert_eq!(
        worker
            .run_job(Job::MonthlyTargetReport, tick)
            .await
            .unwrap(),
        1
    );

    let rows = store.outbox().records(None, None, 1_000).await.unwrap();
    let job = rows
        .iter()
        .find_map(|r| job_in(&r.payload, "target_report"))
        .unwrap_or_else(|| panic!("no target report queued: {rows:#?}"));
    let d = app
        .ok(TARGET, json!({ "code": "P", "year": 2026, "depth": 0 }))
        .await;
    let total = &d["admissionTarget"]["rows"][0];
    assert_eq!(total["membersAtBase"], 140, "{d:#}");
    assert_eq!(total["admitted"], 3, "{d:#}");
    assert_eq!(job["members_at_start"], total["membersAtBase"], "{job:#}");
    assert_eq!(job["admitted"], total["admitted"], "{job:#}");
    assert_eq!(job["target_low"], total["targetLow"], "{job:#}");
    assert_eq!(job["target_high"], total["targetHigh"], "{job:#}");
    // 3 % and 4 % of 140, rounded up, from the rule set of 2026.
    assert_eq!(
        (job["target_low"].as_u64(), job["target_high"].as_u64()),
        (Some(5), Some(6))
    );
    // P-G2: 40 members, none admitted, 2 short of its floor; P-G1 has reached its own.
    assert_eq!(job["behind"][0][0], "P-G2", "{job:#}");
    assert_eq!(job["behind"][0][2], 2, "{job:#}");
}

#[tokio::test]
async fn s21_the_rate_follows_the_tree_of_the_year_through_a_merge_in_mid_year_and_a_dissolution() {
    let app = spawn_app().await;
    let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
    let d = unit(&app, "P-D", "DISTRICT", Some(&p), "2004-01-01").await;
    let g1 = unit(&app, "P-G1", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let g2 = unit(&app, "P-G2", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let b1 = unit(&app, "P-G1-B1", "BRANCH", Some(&g1), "2004-01-01").await;
    let b2 = unit(&app, "P-G1-B2", "BRANCH", Some(&g1), "2004-01-01").await;
    let b3 = unit(&app, "P-G2-B3", "BRANCH", Some(&g2), "2004-01-01").await;
    officials(&app, &b1, 50).await;
    officials(&app, &b2, 30).await;
    officials(&app, &b3, 20).await;
    // 2022: four admissions, two of them in B2 before it is merged into B1 on 1/7/2022.
    admitted(&app, &b1, "2022-03-01").await;
    admitted(&app, &b2, "2022-04-10").await;
    admitted(&app, &b2, "2022-05-20").await;
    admitted(&app, &b3, "2022-05-05").await;
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [b2], "targetId": b1, "effectiveDate": "2022-07-01" } }),
    )
    .await;
    // 2023: B3 moves under G1, then G2, empty, is dissolved.
    app.ok(
        "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": b3, "newParentId": g1, "effectiveDate": "2023-02-01" } }),
    )
    .await;
    app.ok(
        "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": g2, "effectiveDate": "2023-03-01" } }),
    )
    .await;

    // 2022, on the tree of 31/12/2022: B2's members of 31/12/2021 and its admissions count
    // in B1, its successor; 4 of 100 is the top of the band.
    let r = app
        .ok(TARGET, json!({ "code": "P", "year": 2022, "depth": 9 }))
        .await;
    let t = &r["admissionTarget"];
    assert_eq!(t["ruleSet"], "R2021");
    assert_eq!(
        (t["bandLow"].as_f64(), t["bandHigh"].as_f64()),
        (Some(3.0), Some(4.0))
    );
    assert_eq!(t["baseDate"], "2021-12-31");
    assert_eq!(t["referenceDate"], "2022-12-31");
    assert_eq!(
        rows(&r),
        BTreeMap::from([
            row("P", 100, 4, "WITHIN"),
            row("P-D", 100, 4, "WITHIN"),
            row("P-G1", 80, 3, "WITHIN"),
            row("P-G1-B1", 80, 3, "WITHIN"),
            row("P-G2", 20, 1, "ABOVE"),
            row("P-G2-B3", 20, 1, "ABOVE"),
        ])
    );
    let total = &t["rows"][0];
    assert_eq!(
        (
            &total["targetLow"],
            &total["targetHigh"],
            &total["gapLow"],
            &total["gapHigh"]
        ),
        (&json!(3), &json!(4), &json!(0), &json!(0))
    );
    assert!(total["forecast"].is_null(), "a past year has no forecast");

    // B2 keeps its own history up to its last day.
    let r = app
        .ok(TARGET, json!({ "code": "P-G1-B2", "year": 2022 }))
        .await;
    assert_eq!(r["admissionTarget"]["referenceDate"], "2022-06-30");
    assert_eq!(rows(&r), BTreeMap::from([row("P-G1-B2", 30, 2, "ABOVE")]));

    // 2023: 104 members on 31/12/2022 (the four new ones count from their ceremony), no
    // admission yet: 4 short of 3%. G2 is gone; B3 counts under G1.
    let r = app
        .ok(TARGET, json!({ "code": "P", "year": 2023, "depth": 9 }))
        .await;
    assert_eq!(
        rows(&r),
        BTreeMap::from([
            row("P", 104, 0, "BELOW"),
            row("P-D", 104, 0, "BELOW"),
            row("P-G1", 104, 0, "BELOW"),
            row("P-G1-B1", 83, 0, "BELOW"),
            row("P-G2-B3", 21, 0, "BELOW"),
        ])
    );
    assert_eq!(r["admissionTarget"]["rows"][0]["gapLow"], 4);
    // The dissolved committee still answers for the years it existed.
    let r = app
        .ok(TARGET, json!({ "code": "P-G2", "year": 2022 }))
        .await;
    assert_eq!(rows(&r)["P-G2"], (20, 1, "ABOVE".to_owned()));
    let r = app
        .ok(TARGET, json!({ "code": "P-G2", "year": 2023 }))
        .await;
    assert_eq!(r["admissionTarget"]["referenceDate"], "2023-02-28");
    assert_eq!(rows(&r)["P-G2"], (0, 0, "NO_BASE".to_owned()));
    // A year before a unit existed is refused, and so is a missing unit.
    let code = app
        .err_code(TARGET, json!({ "code": "P", "year": 2003 }))
        .await;
    assert_eq!(code, "VALIDATION");
    let code = app
        .err_code(TARGET, json!({ "code": "NOPE", "year": 2022 }))
        .await;
    assert_eq!(code, "NOT_FOUND");
    // The units furthest behind, in people.
    let r = app
        .ok(
            "{ admissionTarget(code: \"P\", year: 2023) { unitsAtRisk(first: 2) { unit { code } gapLow } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r["admissionTarget"]["unitsAtRisk"],
        json!([{ "unit": { "code": "P-D" }, "gapLow": 4 }, { "unit": { "code": "P-G1" }, "gapLow": 4 }])
    );
    // The chart: a bar and a band per year.
    let r = app
        .client
        .get(format!(
            "{}/charts/admissions/P.svg?from=2021&to=2023",
            app.base
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let svg = r.text().await.unwrap();
    assert_eq!(svg.matches("class=\"admitted\"").count(), 3, "{svg}");
    assert!(svg.contains("<title>2022: 4 / 3–4</title>"), "{svg}");
    let r = app
        .client
        .get(format!("{}/charts/admissions/NOPE.svg", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Without a token, no chart; with a token of another province's staff, none either.
    let r = app
        .client
        .get(format!("{}/charts/admissions/P.svg", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // By default the chart shows the seven years up to the last one with admissions, not
    // empty years up to today's; it has a y axis.
    let svg = app
        .client
        .get(format!("{}/charts/admissions/P.svg", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bars: Vec<(i32, u64)> = svg
        .split("<title>")
        .skip(1)
        .filter_map(|t| {
            let (year, rest) = t.split_once(": ")?;
            let admitted = rest.split(' ').next()?.parse().ok()?;
            Some((year.parse().ok()?, admitted))
        })
        .collect();
    assert_eq!(bars.len(), 7, "{svg}");
    assert!(bars.last().unwrap().1 > 0, "{bars:?}");
    assert!(svg.contains("class=\"y-axis\""));
    // CSV with a byte-order mark for Excel on Windows; --bom is for CSV only.
    let out = stdout(&memberflow(
        app.database_url(),
        &["report", "units", "--format", "csv", "--bom"],
    ));
    assert!(out.starts_with('\u{feff}'), "{out}");
    let plain = stdout(&memberflow(
        app.database_url(),
        &["report", "units", "--format", "csv"],
    ));
    assert_eq!(out.trim_start_matches('\u{feff}'), plain);
    let refused = memberflow(app.database_url(), &["report", "units", "--bom"]);
    assert!(!refused.status.success());
    assert_counters_agree(app.database_url());
}

const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }";

/// Opens an admission case in `branch` on `day`; returns its id.
async fn open_case(app: &TestApp, branch: &str, day: &str) -> String {
    app.set_today(day);
    let d = app
        .ok(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
            json!({ "i": { "definitionId": "admission", "unitId": branch, "title": "Trần Văn Bình",
                "inputs": { "person_id": "P-9", "full_name": "Trần Văn Bình",
                "date_of_birth": "1990-01-01", "unit": branch, "education_level": "upper_secondary",
                "helper_member": "M-100" } } }),
        )
        .await;
    d["openCase"]["case"]["id"].as_str().unwrap().to_owned()
}

/// Fires the steps up to the competent committee (A2–A9), one day after another from `day`.
async fn to_decision_pending(app: &TestApp, case: &str, mut day: NaiveDate) -> NaiveDate {
    let steps: [(u64, &str, Value); 10] = [
        (
            1,
            "record_awareness_certificate",
            json!({ "certificate_date": "2026-06-01", "certificate_number": "GCN-1" }),
        ),
        (
            1,
            "file_application",
            json!({ "application_date": "today" }),
        ),
        (1, "draft_history", json!({ "history_date": "today" })),
        (
            1,
            "start_verification",
            json!({ "verification_started_on": "today" }),
        ),
        (
            20,
            "conclude_verification",
            json!({ "verification_conclusion": "meets_standard", "verification_report_date": "today" }),
        ),
        (
            1,
            "record_introducers",
            json!({ "introducer_1": "M-101", "introducer_1_official": true, "introducer_1_since": "2020-01-01",
            "introducer_2": "M-102", "introducer_2_official": true, "introducer_2_since": "2021-05-01" }),
        ),
        (
            1,
            "collect_opinions",
            json!({ "opinions_collected_on": "today" }),
        ),
        (
            7,
            "branch_vote",
            json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 }),
        ),
        (
            7,
            "grassroots_review",
            json!({ "review_date": "today", "grassroots_delegated": false }),
        ),
        (1, "submit_to_competent", json!({ "submitted_on": "today" })),
    ];
    for (version, (gap, transition, inputs)) in (1..).zip(steps) {
        day = day + Days::new(gap);
        app.set_today(&day.to_string());
        let mut inputs = inputs;
        for v in inputs.as_object_mut().unwrap().values_mut() {
            if v == "today" {
                *v = json!(day.to_string());
            }
        }
        app.ok(
            FIRE,
            json!({ "i": { "caseId": case, "transition": transition, "expectedVersion": version, "inputs": inputs } }),
        )
        .await;
    }
    day
}

#[tokio::test]
async fn the_forecast_counts_the_open_cases_likely_to_be_decided_by_the_end_of_the_year() {
    let app = spawn_app().await;
    let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
    let g = unit(&app, "P-G", "GRASSROOTS_BRANCH", Some(&p), "2004-01-01").await;
    officials(&app, &g, 30).await;
    // One case reaches the competent committee with its decision deadline (A10: 60 working
    // days from the branch vote of 3/9/2026) before 31/12; another is a candidate listed in
    // November.
    let early = open_case(&app, &g, "2026-08-01").await;
    let day = to_decision_pending(&app, &early, date("2026-08-01")).await;
    assert!(day < date("2026-10-01"), "{day}");
    open_case(&app, &g, "2026-11-01").await;

    let r = app
        .ok(TARGET, json!({ "code": "P", "year": 2026, "depth": 0 }))
        .await;
    let total = &r["admissionTarget"]["rows"][0];
    assert_eq!(r["admissionTarget"]["referenceDate"], "2026-11-01");
    assert_eq!(
        (&total["membersAtBase"], &total["admitted"]),
        (&json!(30), &json!(0))
    );
    assert_eq!(total["band"], "BELOW");
    let f = &total["forecast"];
    assert_eq!(f["openCases"], 2);
    // 0.95 for the case due this year; the candidate's year-long road gives 61 of its 365
    // days in 2026, times the one in two that are admitted.
    let expected = 0.95 + 61.0 / 365.0 * 0.5;
    assert!(
        (f["expectedDecisions"].as_f64().unwrap() - expected).abs() < 1e-6,
        "{f}"
    );
    assert_eq!(f["projected"], 1);
    assert_eq!(f["band"], "WITHIN");
    assert_eq!(f["gapLow"], 0);
    // Once the year is over there is nothing left to forecast.
    let r = app
        .ok(TARGET, json!({ "code": "P", "year": 2025, "depth": 0 }))
        .await;
    assert!(r["admissionTarget"]["rows"][0]["forecast"].is_null());
}

/// A small deterministic generator for the random operations (the test crate has no PRNG).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

#[tokio::test]
async fn the_counters_match_a_recomputation_after_random_registrations_merges_and_moves() {
    for seed in [1u64, 7, 42] {
        let app = spawn_app().await;
        let mut rng = Lcg(seed);
        let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
        let g1 = unit(&app, "P-G1", "GRASSROOTS_COMMITTEE", Some(&p), "2004-01-01").await;
        let g2 = unit(&app, "P-G2", "GRASSROOTS_COMMITTEE", Some(&p), "2004-01-01").await;
        let committees = [g1, g2];
        let mut branches: Vec<String> = Vec::new();
        for i in 0..4 {
            let g = &committees[i % 2];
            branches.push(unit(&app, &format!("P-B{i}"), "BRANCH", Some(g), "2004-01-01").await);
        }
        // Every registration, for the expected counts: (decision, member from).
        let mut log: Vec<(NaiveDate, NaiveDate)> = Vec::new();
        let mut day = date("2012-01-01");
        for step in 0..40 {
            day = day + Days::new(20 + rng.below(120));
            match rng.below(10) {
                0 if branches.len() > 1 => {
                    let s = usize::try_from(rng.below(branches.len() as u64)).unwrap();
                    let source = branches.remove(s);
                    let t = usize::try_from(rng.below(branches.len() as u64)).unwrap();
                    app.ok(
                        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
                        json!({ "i": { "sourceIds": [source], "targetId": branches[t],
                            "effectiveDate": day.to_string() } }),
                    )
                    .await;
                }
                1 => {
                    let b = usize::try_from(rng.below(branches.len() as u64)).unwrap();
                    let g = &committees[usize::try_from(rng.below(2)).unwrap()];
                    // Moving under the parent it already has is a conflict: skip it.
                    let _ = app
                        .gql(
                            "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
                            json!({ "i": { "unitId": branches[b], "newParentId": g,
                                "effectiveDate": day.to_string() } }),
                        )
                        .await;
                }
                2 => {
                    let g = &committees[usize::try_from(rng.below(2)).unwrap()];
                    let code = format!("P-N{step}");
                    branches.push(unit(&app, &code, "BRANCH", Some(g), &day.to_string()).await);
                }
                _ => {
                    let b = &branches[usize::try_from(rng.below(branches.len() as u64)).unwrap()];
                    if rng.below(2) == 0 {
                        admitted(&app, b, &day.to_string()).await;
                        log.push((day, day + Days::new(10)));
                    } else {
                        // Admitted before the years compared below, in 2006–2011.
                        let decision = date("2011-12-31") - Days::new(rng.below(2000));
                        let ceremony = decision + Days::new(10);
                        let official = ceremony
                            .checked_add_months(chrono::Months::new(12))
                            .unwrap();
                        app.ok(
                            REGISTER,
                            json!({ "i": {
                                "unitId": b, "unitSince": day.to_string(), "fullName": "Đảng viên",
                                "dateOfBirth": "1970-01-01", "sex": "MALE", "education": "UPPER_SECONDARY",
                                "status": "OFFICIAL", "admissionDecisionDate": decision.to_string(),
                                "ceremonyDate": ceremony.to_string(), "officialDate": official.to_string() } }),
                        )
                        .await;
                        // Members since their ceremony, years before they joined the branch:
                        // counted from the day they joined.
                        log.push((decision, day));
                    }
                }
            }
        }
        assert_counters_agree(app.database_url());
        // And the report agrees with counting the registrations by hand.
        for year in 2013..=2017 {
            let base_day = date(&format!("{}-12-31", year - 1));
            let base = log.iter().filter(|(_, from)| *from <= base_day).count() as u64;
            let admitted_in = log
                .iter()
                .filter(|(d, _)| d.to_string().starts_with(&year.to_string()))
                .count() as u64;
            let r = app
                .ok(TARGET, json!({ "code": "P", "year": year, "depth": 0 }))
                .await;
            let (b, a, _) = rows(&r)["P"].clone();
            assert_eq!((b, a), (base, admitted_in), "seed {seed} year {year}");
        }
    }
}

fn csv_counts(out: &str) -> Vec<(String, String, u64)> {
    out.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.rsplitn(2, ',').collect();
            let (head, n) = (f[1], f[0]);
            let (section, group) = head.split_once(',').unwrap();
            (
                section.to_owned(),
                group.trim_matches('"').to_owned(),
                n.parse().unwrap(),
            )
        })
        .collect()
}

fn count(rows: &[(String, String, u64)], section: &str, group: &str) -> u64 {
    rows.iter()
        .find(|r| r.0 == section && r.1 == group)
        .map_or_else(|| panic!("no {section}/{group} in {rows:?}"), |r| r.2)
}

#[tokio::test]
async fn the_demo_province_gives_back_the_source_report_s_figures() {
    let db = TestDb::create().await;
    let url = db.url().to_owned();
    let run = |args: &[&str]| stdout(&memberflow(&url, args));
    let started = std::time::Instant::now();
    let out = run(&["demo", "hau-giang-2023"]);
    assert!(out.contains("33509") || out.contains("34931"), "{out}");
    eprintln!("demo built in {:.1} s", started.elapsed().as_secs_f64());
    let en = ["--format", "csv", "--lang", "en"];

    // The tree: 11 / 498 (171 + 327) / 1,523 as of 31/10/2023; 525 and 1,703 in 2018.
    let units = csv_counts(&run(
        &[&["report", "units", "--on", "2023-10-31"][..], &en].concat()
    ));
    assert_eq!(count(&units, "kind", "grassroots party committee"), 171);
    assert_eq!(count(&units, "kind", "grassroots branch"), 327);
    assert_eq!(count(&units, "grassroots organizations", ""), 498);
    assert_eq!(
        count(&units, "kind", "branch under a grassroots committee"),
        1_523
    );
    assert_eq!(
        count(&units, "branches", "hamlet or ward-area branches"),
        525
    );
    assert_eq!(count(&units, "branches", "commune-sector branches"), 517);
    assert_eq!(count(&units, "branches", "district-sector branches"), 175);
    assert_eq!(count(&units, "branches", "province-sector branches"), 306);
    let units = csv_counts(&run(
        &[&["report", "units", "--on", "2018-01-01"][..], &en].concat()
    ));
    assert_eq!(count(&units, "grassroots organizations", ""), 525);
    assert_eq!(
        count(&units, "kind", "branch under a grassroots committee"),
        1_703
    );

    // Members on 30/6/2023.
    let m = csv_counts(&run(&[
        &["report", "members", "--on", "2023-06-30", "--unit", "HG"][..],
        &en,
    ]
    .concat()));
    assert_eq!(count(&m, "total", ""), 33_509);
    assert_eq!(count(&m, "women", ""), 11_262);
    for (band, n) in [
        ("18–30", 5_516),
        ("31–35", 5_265),
        ("36–40", 5_932),
        ("41–45", 5_577),
        ("46–50", 3_254),
        ("51–55", 3_125),
        ("56–60", 2_445),
        ("over 60", 2_395),
    ] {
        assert_eq!(count(&m, "age", band), n, "{band}");
    }
    assert_eq!(count(&m, "ethnic minorities", ""), 654);
    assert_eq!(count(&m, "ethnicity", "Khmer"), 414);
    assert_eq!(count(&m, "ethnicity", "Hoa"), 227);
    assert_eq!(count(&m, "religious", ""), 539);
    assert_eq!(count(&m, "religion", "Catholic"), 426);
    assert_eq!(count(&m, "religion", "Protestant"), 25);
    assert_eq!(count(&m, "schooling", "primary"), 425);
    assert_eq!(count(&m, "schooling", "lower secondary"), 4_098);
    assert_eq!(count(&m, "schooling", "upper secondary"), 28_906);
    for (group, n) in [
        ("state officials, district level and up", 4_024),
        (
            "party, front and mass-organization officials, district level and up",
            852,
        ),
        ("commune-level officials and part-time staff", 5_260),
        ("hamlet part-time staff", 3_189),
        ("public-service employees", 8_685),
        ("non-public service workers", 139),
        ("enterprise managers and workers", 1_429),
        ("farmers, foresters, fishers", 2_175),
        ("army and police", 2_432),
        ("students", 117),
    ] {
        assert_eq!(count(&m, "occupation", group), n, "{group}");
    }

    // Admissions, discipline, removals and badges from 1/1/2018 to 30/6/2023.
    let period = ["--from", "2018-01-01", "--to", "2023-06-30"];
    let a = csv_counts(&run(&[&["report", "admissions"][..], &period, &en].concat()));
    assert_eq!(count(&a, "total", ""), 5_181);
    let d = csv_counts(&run(&[&["report", "discipline"][..], &period, &en].concat()));
    assert_eq!(count(&d, "discipline", "reprimand"), 469);
    assert_eq!(count(&d, "discipline", "warning"), 132);
    assert_eq!(count(&d, "discipline", "removal from post"), 28);
    assert_eq!(count(&d, "discipline", "expulsion"), 60);
    assert_eq!(count(&d, "disciplined", ""), 689);
    assert_eq!(count(&d, "struck off", ""), 1_362);
    // Those figures are counted from the cases: every admission and discipline decision of
    // the period is a case with its history, and the histories verify, hash chain and all.
    let h = run(&["check", "--history"]);
    let events: u64 = h
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{h}"));
    assert!(events > 80_000 && h.contains(": 0 problem(s)"), "{h}");
    let b = csv_counts(&run(&[&["report", "badges"][..], &period, &en].concat()));
    for (years, n) in [
        (30, 2_067),
        (40, 670),
        (45, 535),
        (50, 489),
        (55, 210),
        (60, 58),
        (65, 28),
        (70, 13),
    ] {
        assert_eq!(count(&b, "badge", &format!("{years} years")), n);
    }
    assert_eq!(count(&b, "total", ""), 4_070);

    // The same target report as a workbook, with the province's chart: numbers as numbers and
    // a native chart sheet (its parts are in the zip). Without --output, refused.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets-2022.xlsx");
    let out = memberflow(
        &url,
        &[
            "report",
            "targets",
            "--year",
            "2022",
            "--format",
            "xlsx",
            "--output",
            file.to_str().unwrap(),
        ],
    );
    stdout(&out);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let raw = String::from_utf8_lossy(&bytes);
    // The rows, the units at risk, the chart: three sheets.
    assert!(raw.contains("xl/charts/chart1.xml") && raw.contains("xl/worksheets/sheet3.xml"));
    let refused = memberflow(
        &url,
        &["report", "targets", "--year", "2022", "--format", "xlsx"],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--output"));

    // The target of 2022 for the province and each directly subordinate committee; the
    // rows add up and each band matches its rate.
    let out = run(&[&["report", "targets", "--year", "2022"][..], &en].concat());
    let all: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // The report's rows, then the grassroots organizations at risk (ten by default), told
    // apart by the last column.
    let lines: Vec<&Vec<&str>> = all.iter().filter(|l| l.last() == Some(&"report")).collect();
    let risky: Vec<&Vec<&str>> = all
        .iter()
        .filter(|l| l.last() == Some(&"at risk"))
        .collect();
    assert_eq!(lines.len(), 12, "{out}");
    assert_eq!(risky.len(), 10, "{out}");
    assert_eq!(lines.len() + risky.len(), all.len());
    // (Their names may hold commas, quoted: the band is read from the end.)
    for r in &risky {
        assert_eq!(r[r.len() - 2], "below", "{r:?}");
    }
    assert_eq!(lines[0][0], "HG");
    let (base, admitted): (u64, u64) = (lines[0][3].parse().unwrap(), lines[0][4].parse().unwrap());
    assert_eq!(admitted, 930);
    let children: Vec<&Vec<&str>> = lines[1..].to_vec();
    assert_eq!(
        children
            .iter()
            .map(|l| l[3].parse::<u64>().unwrap())
            .sum::<u64>(),
        base
    );
    assert_eq!(
        children
            .iter()
            .map(|l| l[4].parse::<u64>().unwrap())
            .sum::<u64>(),
        930
    );
    for l in &lines {
        let (b, a): (u64, u64) = (l[3].parse().unwrap(), l[4].parse().unwrap());
        let expected = if a * 100 < 3 * b {
            "below"
        } else if a * 100 <= 4 * b {
            "within"
        } else {
            "above"
        };
        assert_eq!(l[9], expected, "{l:?}");
    }
    // The table is in Vietnamese by default.
    let table = run(&["report", "targets", "--year", "2022"]);
    assert!(table.contains("Đảng bộ Công an tỉnh"), "{table}");
    assert!(table.contains("Đánh giá"), "{table}");

    // The committee's questions (docs/reports.md). The source report gives no figure for
    // them; these are the generator's, pinned so that a change to it shows: the grassroots
    // organizations and branches that admitted nobody from 1/7/2018 to 30/6/2023, and the
    // decisions in force on 30/6/2023 (the 60 expulsions are not: the expelled are no longer
    // members).
    let idle = run(&[
        "report",
        "without-admission",
        "--years",
        "5",
        "--on",
        "2023-06-30",
        "--unit",
        "HG",
        "--format",
        "csv",
    ]);
    let idle_rows = idle.lines().count() - 1;
    assert_eq!(idle_rows, 631, "{idle}");
    let in_force = csv_counts(&run(&[
        &[
            "report",
            "discipline-in-force",
            "--on",
            "2023-06-30",
            "--unit",
            "HG",
        ][..],
        &en,
    ]
    .concat()));
    assert_eq!(count(&in_force, "form in force", "reprimand"), 112);
    assert_eq!(count(&in_force, "form in force", "warning"), 36);
    assert_eq!(count(&in_force, "form in force", "removal from post"), 10);
    assert_eq!(count(&in_force, "members under discipline", ""), 158);
    // Hamlets (docs/reports.md): one per hamlet branch, merged with it; on the report's day
    // each has its branch and members living in it; on 1/1/2018 four of the hamlets merged
    // since had no member living in them.
    for (on, expected) in [
        (
            "2023-06-30",
            "525 looked at, 0 without members, 0 without a branch",
        ),
        (
            "2018-01-01",
            "721 looked at, 4 without members, 0 without a branch",
        ),
    ] {
        let table = run(&[
            "report",
            "hamlets-without",
            "--on",
            on,
            "--unit",
            "HG",
            "--lang",
            "en",
        ]);
        assert!(table.contains(expected), "{on}: {table}");
    }

    // The web console's targets page shows the same province in a browser.
    let app = memberflow_tests::spawn_app_on(db, |_| {}).await;
    // GraphQL gives the same list as the binary.
    let q = app
        .ok(
            "{ unitsWithoutAdmission(years: 5, on: \"2023-06-30\") { lookedAt units { unit { code } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        q["unitsWithoutAdmission"]["units"]
            .as_array()
            .unwrap()
            .len(),
        idle_rows
    );
    let members = app
        .ok(
            "{ unit(code: \"HG\") { memberCount(on: \"2023-06-30\", includeSubtree: true, disciplineInForce: true) } }",
            json!({}),
        )
        .await;
    assert_eq!(members["unit"]["memberCount"], 158, "{members:#}");
    // The demo walks only decided admissions: no case is open before the decision. A small
    // pipeline in three of its branches (one before the competent committee), then the
    // forecast read from its aggregates is what counting the open cases gave, for every unit
    // down to the branches, on the demo's tree: in the running year and the next one.
    assert_eq!(
        forecast_matches_the_cases(&app, "HG", 2023, "2023-10-31").await,
        0
    );
    use sea_orm::ConnectionTrait as _;
    let branches: Vec<String> = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id FROM unit WHERE kind = 'BRANCH' AND valid_to IS NULL ORDER BY code LIMIT 3",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<uuid::Uuid>("", "id").unwrap().to_string())
        .collect();
    assert_eq!(branches.len(), 3);
    let first = open_case(&app, &branches[0], "2026-08-01").await;
    to_decision_pending(&app, &first, date("2026-08-01")).await;
    open_case(&app, &branches[1], "2026-09-01").await;
    open_case(&app, &branches[2], "2026-10-01").await;
    assert_eq!(
        forecast_matches_the_cases(&app, "HG", 2026, "2026-11-25").await,
        3
    );
    assert_eq!(
        forecast_matches_the_cases(&app, "HG", 2027, "2026-11-25").await,
        3
    );
    // And its aggregates are those the open cases give, unit by unit.
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    assert!(!out.contains("forecast is not built"), "{out}");
    crate::console::the_targets_page_shows_the_demo_province(&app).await;
}

/// The demo's cases are walked and loaded a round at a time in the one transaction: with
/// rounds of 997 (a round ending in the middle of the admissions, one holding the last
/// admissions and the first discipline cases), every case and every step is loaded once —
/// none lost at a round's edge, none twice (the histories verify, their count is the
/// province's 91,842 steps) — and the counters and aggregates agree with the registry.
#[tokio::test]
async fn the_demo_loaded_in_rounds_of_cases_has_every_case_once_and_its_counters_agree() {
    let db = TestDb::create().await;
    let url = db.url().to_owned();
    let out = stdout(&memberflow(
        &url,
        &["demo", "hau-giang-2023", "--cases-per-round", "997"],
    ));
    assert!(out.contains("34931 members, 5870 cases"), "{out}");
    let h = stdout(&memberflow(&url, &["check", "--history"]));
    let events: u64 = h
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{h}"));
    assert_eq!(events, 91_842, "{h}");
    assert!(h.contains(": 0 problem(s)"), "{h}");
    let (ok, report) = check_stats(&url, &[]);
    assert!(ok, "{report}");
    let en = ["--format", "csv", "--lang", "en"];
    let period = ["--from", "2018-01-01", "--to", "2023-06-30"];
    let a = csv_counts(&stdout(&memberflow(
        &url,
        &[&["report", "admissions"][..], &period, &en].concat(),
    )));
    assert_eq!(count(&a, "total", ""), 5_181);
    let d = csv_counts(&stdout(&memberflow(
        &url,
        &[&["report", "discipline"][..], &period, &en].concat(),
    )));
    assert_eq!(count(&d, "disciplined", ""), 689);
    assert_eq!(count(&d, "discipline", "expulsion"), 60);
    // A round size of zero is refused before anything is written.
    let zero = memberflow(&url, &["demo", "hau-giang-2023", "--cases-per-round", "0"]);
    assert!(!zero.status.success());
}

/// An admission case of the batch's unit `unit` (code `code`) opened on `on` and walked by
/// the engine as the demo walks its cases: on the candidate list, still open.
fn bulk_admission(
    catalog: &memberflow_workflow::catalog::Catalog,
    unit: usize,
    code: &str,
    on: NaiveDate,
) -> memberflow_store::BulkCase {
    use memberflow_workflow::engine::{self, Actor, Event, Value};
    let def = catalog.latest("admission").unwrap();
    let mut event = Event::new("open", Actor::new("demo", def.open.by.clone()));
    event.inputs = [
        ("person_id", Value::Text(format!("{code}/{on}"))),
        ("full_name", Value::Text("Lê Thị Hoa".into())),
        ("date_of_birth", Value::Date(date("1995-03-01"))),
        ("unit", Value::Text(code.into())),
        ("education_level", Value::Text("upper_secondary".into())),
        ("helper_member", Value::Text(format!("{code}/helper"))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    event.context = engine::context::subject_discipline(&[]);
    let d = engine::open(def, &catalog.rules, &catalog.calendar, &event, on).unwrap();
    memberflow_store::BulkCase {
        unit,
        member: None,
        title: "Kết nạp đảng viên: Lê Thị Hoa".into(),
        definition: (def.id.clone(), def.version),
        terminal: false,
        steps: vec![memberflow_store::BulkStep {
            event,
            from: d.from,
            to: d.to,
            rule_set: d.rule_set,
            effects: d.effects,
            on: d.on,
        }],
        snapshot: d.case,
    }
}

/// Rounds of cases handed to the bulk load one after another.
struct Rounds(Vec<memberflow_store::BulkCaseRound>);

impl memberflow_store::BulkCaseRounds for Rounds {
    fn total(&self) -> u64 {
        self.0.iter().map(|r| r.cases.len() as u64).sum()
    }
    fn next_round(&mut self) -> Result<Option<memberflow_store::BulkCaseRound>, String> {
        Ok((!self.0.is_empty()).then(|| self.0.remove(0)))
    }
}

/// The open admission cases of a bulk load count in the forecast's aggregates whether they
/// come with the batch or in a later round (as the demo loads its cases): the forecast read
/// from them is what the cases give, and `check --stats` finds no difference.
#[tokio::test]
async fn open_admission_cases_loaded_in_rounds_count_in_the_forecast() {
    use memberflow_store::{BulkBatch, BulkCaseRound, BulkEdge, BulkTreeEvent, BulkUnit};
    use memberflow_workflow::tree::UnitKind;
    let app = spawn_app().await;
    let catalog = memberflow_server::load_catalog(&memberflow_server::Config::default()).unwrap();
    let since = date("2004-01-01");
    let unit = |code: &str, kind| BulkUnit {
        code: code.into(),
        name: code.into(),
        kind,
        branch_category: None,
        valid_from: since,
        valid_to: None,
        successor: None,
    };
    let units = vec![
        unit("R", UnitKind::Province),
        unit("R-G", UnitKind::GrassrootsCommittee),
        unit("R-G-B1", UnitKind::Branch),
        unit("R-G-B2", UnitKind::Branch),
    ];
    let edges = [(1, 0), (2, 1), (3, 1)]
        .map(|(unit, parent)| BulkEdge {
            unit,
            parent,
            valid_from: since,
            valid_to: None,
        })
        .to_vec();
    let tree_events = std::iter::once(BulkTreeEvent::Create {
        unit: 0,
        parent: None,
    })
    .chain(edges.iter().map(|e| BulkTreeEvent::Create {
        unit: e.unit,
        parent: Some(e.parent),
    }))
    .collect();
    let batch = BulkBatch {
        id_seed: 7,
        units,
        edges,
        tree_events,
        cases: vec![bulk_admission(&catalog, 2, "R-G-B1", date("2026-08-01"))],
        ..BulkBatch::default()
    };
    // Two rounds after the batch's own case: one case each, in both branches.
    let mut rounds = Rounds(
        [(2, "R-G-B1", "2026-09-01"), (3, "R-G-B2", "2026-10-01")]
            .map(|(u, code, on)| BulkCaseRound {
                cases: vec![bulk_admission(&catalog, u, code, date(on))],
                discipline: Vec::new(),
            })
            .to_vec(),
    );
    let store = memberflow_store::Store::connect(app.database_url())
        .await
        .unwrap();
    store
        .stats()
        .bulk_load_rounds(
            &batch,
            &mut rounds,
            date("2026-10-01").and_hms_opt(3, 0, 0).unwrap().and_utc(),
            &mut |_: &str, _: u64, _: u64| {},
        )
        .await
        .unwrap();
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    assert!(!out.contains("forecast is not built"), "{out}");
    assert_eq!(
        forecast_matches_the_cases(&app, "R", 2026, "2026-11-25").await,
        3
    );
    assert_eq!(
        forecast_matches_the_cases(&app, "R-G-B2", 2026, "2026-11-25").await,
        1
    );
}

/// `memberflow check --stats` on the test database: its output and whether it agreed.
/// The national demo loads its first province alone and the others two at a time on
/// PostgreSQL (one at a time on SQLite), each added to the counters and aggregates under
/// their lock, from the tree of its own batch: whatever the order the provinces commit in, the
/// counters, the subtree aggregates and the ancestry agree with the registry.
#[tokio::test]
async fn the_national_demo_loaded_provinces_at_a_time_agrees_with_its_registry() {
    let db = TestDb::create().await;
    let url = db.url().to_owned();
    let out = stdout(&memberflow(
        &url,
        &["demo", "national", "--members", "70000"],
    ));
    assert!(out.contains("demo national: 3 provinces"), "{out}");
    let h = stdout(&memberflow(&url, &["check", "--history"]));
    assert!(h.contains(": 0 problem(s)"), "{h}");
    let (ok, report) = check_stats(&url, &[]);
    assert!(ok, "{report}");
    assert!(report.contains(" 0 difference(s)"), "{report}");
    // On PostgreSQL the members' tables' indexes and the foreign keys were made at the end of
    // the build, not kept row by row (`Store::defer_indexes`): the schema is a fresh one's.
    let fresh = TestDb::create().await;
    stdout(&memberflow(fresh.url(), &["migrate"]));
    assert_eq!(schema_of(&url).await, schema_of(fresh.url()).await);
    assert_eq!(deferred(&url).await, 0);
}

/// A national demo stopped half-way (killed after its first province): the indexes and
/// foreign keys it deferred are made by the next start of the binary, and the database then
/// has every index and constraint of a fresh schema.
#[tokio::test]
async fn a_national_demo_killed_half_way_leaves_its_deferred_indexes_to_the_next_start() {
    use std::io::{BufRead, BufReader};
    let db = TestDb::create().await;
    let url = db.url().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(
        &url,
        dir.path(),
        &["demo", "national", "--members", "70000"],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let first_province_done = line.starts_with("province 1/3 aggregates");
        seen.push(line);
        if first_province_done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let log = seen.join("\n");
    assert!(log.contains("province 1/3 aggregates"), "{log}");
    let fresh = TestDb::create().await;
    stdout(&memberflow(fresh.url(), &["migrate"]));
    let expected = schema_of(fresh.url()).await;
    if db.is_postgres() {
        assert!(
            log.contains("indexes and foreign keys deferred to the end of the build"),
            "{log}"
        );
        assert!(deferred(&url).await > 0);
        assert_ne!(schema_of(&url).await, expected);
    }
    // The killed build's connections end as PostgreSQL notices them closed; until then its
    // lock says a build runs, and a start is refused: tried again a while.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let out = memberflow(&url, &["migrate"]);
        let refused = String::from_utf8_lossy(&out.stderr).contains("A bulk build");
        assert!(
            out.status.success() || refused,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if deferred(&url).await == 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(deferred(&url).await, 0);
    assert_eq!(schema_of(&url).await, expected);
}

/// An index or foreign key listed for a start to make that cannot be made (here a foreign key
/// to a table that does not exist) does not stop the start: it is logged and stays listed.
#[tokio::test]
async fn a_deferred_foreign_key_that_cannot_be_made_is_logged_and_left_listed() {
    let db = TestDb::create().await;
    let url = db.url().to_owned();
    stdout(&memberflow(&url, &["migrate"]));
    let conn = Database::connect(url.as_str()).await.unwrap();
    conn.execute_unprepared(
        "INSERT INTO deferred_index (table_name, name, kind, statement) VALUES \
         ('member_unit', 'fk_nowhere', 'foreign key', \
          'ALTER TABLE member_unit ADD CONSTRAINT fk_nowhere FOREIGN KEY (unit_id) REFERENCES nowhere (id)')",
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
    let out = memberflow(&url, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if db.is_postgres() {
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(log.contains("could not be made"), "{log}");
    }
    // SQLite has nothing to make at a start; PostgreSQL could not make it.
    assert_eq!(deferred(&url).await, 1);
}

/// A national build holds an advisory lock while its indexes and foreign keys are off: any
/// start against that database (a server, an import, a migration) is refused until it ends,
/// and goes on once the lock is gone. Held here by a connection of the test's, the build's key.
#[tokio::test]
async fn a_start_while_a_bulk_build_runs_is_refused() {
    let db = TestDb::create().await;
    let url = db.url().to_owned();
    stdout(&memberflow(&url, &["migrate"]));
    if db.is_postgres() {
        let conn = Database::connect(url.as_str()).await.unwrap();
        conn.execute_unprepared("SELECT pg_advisory_lock(x'6d66646566657200'::bigint)")
            .await
            .unwrap();
        for args in [&["migrate"][..], &["serve"][..]] {
            // A server that started anyway would never end: stopped after a while, and failed.
            let dir = tempfile::tempdir().unwrap();
            let mut child = command(&url, dir.path(), args)
                .env("MEMBERFLOW_LISTEN", "127.0.0.1:0")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
            }
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{args:?} started: {err}");
            assert!(
                err.contains("A bulk build (memberflow demo national) is writing to this database"),
                "{args:?}: {err}"
            );
        }
        conn.close().await.unwrap();
    }
    // The lock gone (SQLite never has one), a start goes on.
    stdout(&memberflow(&url, &["migrate"]));
}

/// Every index and constraint of the database at `url`, as the database defines them.
async fn schema_of(url: &str) -> Vec<String> {
    let sql = if url.starts_with("sqlite:") {
        // A SQLite table's constraints are in its definition; ANALYZE's own tables apart.
        "SELECT name || ' ' || COALESCE(sql, '') AS d FROM sqlite_master \
         WHERE type IN ('index', 'table') AND name NOT LIKE 'sqlite_stat%' ORDER BY 1"
    } else {
        "SELECT indexname || ' ' || indexdef AS d FROM pg_indexes \
         WHERE schemaname = current_schema() \
         UNION ALL \
         SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
         FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1"
    };
    let conn = Database::connect(url).await.unwrap();
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "d").unwrap())
        .collect()
}

/// The indexes and foreign keys a build deferred and nobody made again yet.
async fn deferred(url: &str) -> i64 {
    let conn = Database::connect(url).await.unwrap();
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM deferred_index",
        ))
        .await
        .unwrap()
        .unwrap();
    conn.close().await.unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

fn check_stats(db: &str, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["check", "--stats"];
    args.extend_from_slice(extra);
    let out = memberflow(db, &args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `(members at base, admitted)` of `code` for `year`, from its own report.
async fn figures(app: &TestApp, code: &str, year: i32) -> (u64, u64) {
    let r = app
        .ok(TARGET, json!({ "code": code, "year": year, "depth": 0 }))
        .await;
    let (b, a, _) = rows(&r)[code].clone();
    (b, a)
}

#[tokio::test]
async fn the_subtree_aggregates_follow_admissions_moves_between_districts_merges_and_are_checked() {
    let app = spawn_app().await;
    app.set_today("2024-06-15");
    let p = unit(&app, "Q", "PROVINCE", None, "2004-01-01").await;
    let d1 = unit(&app, "Q-D1", "DISTRICT", Some(&p), "2004-01-01").await;
    let d2 = unit(&app, "Q-D2", "DISTRICT", Some(&p), "2004-01-01").await;
    let g1 = unit(
        &app,
        "Q-G1",
        "GRASSROOTS_COMMITTEE",
        Some(&d1),
        "2004-01-01",
    )
    .await;
    let g2 = unit(
        &app,
        "Q-G2",
        "GRASSROOTS_COMMITTEE",
        Some(&d2),
        "2004-01-01",
    )
    .await;
    let b1 = unit(&app, "Q-G1-B1", "BRANCH", Some(&g1), "2004-01-01").await;
    let b2 = unit(&app, "Q-G1-B2", "BRANCH", Some(&g1), "2004-01-01").await;
    let b3 = unit(&app, "Q-G2-B3", "BRANCH", Some(&g2), "2004-01-01").await;
    officials(&app, &b1, 10).await;
    officials(&app, &b2, 5).await;
    officials(&app, &b3, 20).await;
    admitted(&app, &b1, "2021-03-01").await;
    admitted(&app, &b3, "2021-05-01").await;
    admitted(&app, &b3, "2021-07-01").await;
    assert_eq!(figures(&app, "Q-D1", 2021).await, (15, 1));
    assert_eq!(figures(&app, "Q-D2", 2021).await, (20, 2));
    assert_eq!(figures(&app, "Q", 2021).await, (35, 3));
    // The units at risk, read from the aggregates over the subtree's ancestry: the one branch
    // short of its floor, with its depth and parent, at every level or at its own only.
    let risk = "query($d: Int) { admissionTarget(code: \"Q\", year: 2021) { unitsAtRisk(depth: $d) { unit { code } parentId depth gapLow } } }";
    for d in [json!(null), json!(3)] {
        let r = app.ok(risk, json!({ "d": d })).await;
        assert_eq!(
            r["admissionTarget"]["unitsAtRisk"],
            json!([{ "unit": { "code": "Q-G1-B2" }, "parentId": g1, "depth": 3, "gapLow": 1 }]),
            "{d}"
        );
    }
    let r = app.ok(risk, json!({ "d": 2 })).await;
    assert_eq!(r["admissionTarget"]["unitsAtRisk"], json!([]));
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");

    // G1 moves to the other district in mid-2021: the whole year goes with it, 2020 stays.
    app.ok(
        "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": g1, "newParentId": d2, "effectiveDate": "2021-06-01" } }),
    )
    .await;
    assert_eq!(figures(&app, "Q-D1", 2021).await, (0, 0));
    assert_eq!(figures(&app, "Q-D2", 2021).await, (35, 3));
    assert_eq!(figures(&app, "Q-D1", 2020).await, (15, 0));
    assert_eq!(figures(&app, "Q-D2", 2020).await, (20, 0));
    assert_eq!(figures(&app, "Q", 2021).await, (35, 3));

    // B2 merged into B1 in 2022: from 2022 on its members and history count in B1.
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [b2], "targetId": b1, "effectiveDate": "2022-03-01" } }),
    )
    .await;
    admitted(&app, &b1, "2022-09-09").await;
    // 31/12/2021: 10 + 1 in B1, 5 in B2 (B2's counted in B1, its successor).
    assert_eq!(figures(&app, "Q-G1-B1", 2022).await, (16, 1));
    assert_eq!(figures(&app, "Q-G1-B1", 2021).await, (10, 1));
    assert_eq!(figures(&app, "Q-D2", 2022).await, (38, 1));
    // A year beyond every change reads the last one's members, no admission yet.
    assert_eq!(figures(&app, "Q", 2030).await, (39, 0));

    // The running year: a move already recorded for later this year leaves today's tree
    // different from the year-end one; the report still follows today's.
    app.ok(
        "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": g2, "newParentId": d1, "effectiveDate": "2024-10-01" } }),
    )
    .await;
    assert_eq!(figures(&app, "Q-D1", 2024).await, (0, 0));
    assert_eq!(figures(&app, "Q-D2", 2024).await, (39, 0));
    assert_eq!(figures(&app, "Q-D1", 2025).await, (22, 0));
    app.set_today("2024-11-01");
    assert_eq!(figures(&app, "Q-D1", 2024).await, (22, 0));
    assert_eq!(figures(&app, "Q-D2", 2024).await, (17, 0));

    // The district's figures are the sum of its branches' figures, from the registry.
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    for year in 2016..=2025 {
        let (qb, qa) = figures(&app, "Q", year).await;
        let (b1b, b1a) = figures(&app, "Q-G1-B1", year).await;
        let (b3b, b3a) = figures(&app, "Q-G2-B3", year).await;
        let (b2b, b2a) = if year < 2022 {
            figures(&app, "Q-G1-B2", year).await
        } else {
            (0, 0)
        };
        assert_eq!((qb, qa), (b1b + b2b + b3b, b1a + b2a + b3a), "{year}");
    }

    // A corrupted aggregate row is found, and repaired from the registry.
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared("UPDATE stat_rollup SET base = base + 7 WHERE year = 2021")
        .await
        .unwrap();
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("rollup@12-31 base"), "{out}");
    assert_eq!(figures(&app, "Q", 2021).await, (42, 3));
    let (_, out) = check_stats(app.database_url(), &["--repair"]);
    assert!(out.contains("rebuilt"), "{out}");
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    assert_eq!(figures(&app, "Q", 2021).await, (35, 3));
}

const FORECAST_ROWS: &str = "query($code: String!, $year: Int!) {
  admissionTarget(code: $code, year: $year, maxDepth: 10) {
    referenceDate
    rows { unit { id code } forecast { openCases expectedDecisions } }
    unitsAtRisk(first: 1000) { unit { id code } forecast { openCases expectedDecisions } }
  } }";

/// The forecast of every unit of `code`'s report of `year` seen on `today` (the rows down to
/// ten levels and the units at risk), read from the aggregates through the API, against the
/// count from the open cases themselves that the reports made before them. Returns the
/// report's unit's open cases.
async fn forecast_matches_the_cases(app: &TestApp, code: &str, year: i32, today: &str) -> u64 {
    app.set_today(today);
    let r = app
        .ok(FORECAST_ROWS, json!({ "code": code, "year": year }))
        .await;
    let t = &r["admissionTarget"];
    let on = date(t["referenceDate"].as_str().unwrap());
    let store = memberflow_store::Store::connect(app.database_url())
        .await
        .unwrap();
    let reference = store
        .stats()
        .forecast_reference(on, date(today), year)
        .await
        .unwrap();
    let rows = t["rows"].as_array().unwrap();
    let at_risk = t["unitsAtRisk"].as_array().unwrap();
    for row in rows.iter().chain(at_risk) {
        let id: uuid::Uuid = row["unit"]["id"].as_str().unwrap().parse().unwrap();
        let (n, e) = reference.get(&id).copied().unwrap_or_default();
        let f = &row["forecast"];
        assert_eq!(
            f["openCases"],
            json!(n),
            "{} on {today}: {f}",
            row["unit"]["code"]
        );
        let got = f["expectedDecisions"].as_f64().unwrap();
        assert!(
            (got - e).abs() < 1e-9,
            "{} on {today}: {got} against {e}",
            row["unit"]["code"]
        );
    }
    rows[0]["forecast"]["openCases"].as_u64().unwrap()
}

#[tokio::test]
async fn the_forecast_aggregates_follow_the_steps_moves_and_merges_and_are_checked() {
    let app = spawn_app().await;
    let p = unit(&app, "F", "PROVINCE", None, "2004-01-01").await;
    let d1 = unit(&app, "F-D1", "DISTRICT", Some(&p), "2004-01-01").await;
    let d2 = unit(&app, "F-D2", "DISTRICT", Some(&p), "2004-01-01").await;
    let g1 = unit(&app, "F-G1", "GRASSROOTS_BRANCH", Some(&d1), "2004-01-01").await;
    let g2 = unit(&app, "F-G2", "GRASSROOTS_BRANCH", Some(&d2), "2004-01-01").await;
    officials(&app, &g1, 30).await;
    officials(&app, &g2, 30).await;
    // Three cases in three stages: one before the competent committee with its A10 deadline,
    // two candidates.
    let a = open_case(&app, &g1, "2026-08-01").await;
    to_decision_pending(&app, &a, date("2026-08-01")).await;
    open_case(&app, &g1, "2026-09-01").await;
    let c = open_case(&app, &g2, "2026-10-01").await;
    assert_eq!(
        forecast_matches_the_cases(&app, "F", 2026, "2026-11-01").await,
        3
    );
    assert_eq!(
        forecast_matches_the_cases(&app, "F-D2", 2026, "2026-11-01").await,
        1
    );
    // A dry run moves nothing.
    let d = app
        .ok(
            "mutation($i: FireInput!) { fireTransition(input: $i) { dryRun toState } }",
            json!({ "i": { "caseId": c, "transition": "record_awareness_certificate", "dryRun": true,
                "inputs": { "certificate_date": "2026-10-20", "certificate_number": "GCN-2" } } }),
        )
        .await;
    assert_eq!(d["fireTransition"]["dryRun"], true, "{d}");
    assert_eq!(
        forecast_matches_the_cases(&app, "F", 2026, "2026-11-01").await,
        3
    );
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");

    // G2 moves under D1 from 5/11: seen on 1/11 the tree still changes (the own rows added
    // up on that day's tree), seen on 10/11 it is settled (the subtree rows).
    app.set_today("2026-11-01");
    app.ok(
        "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": g2, "newParentId": d1, "effectiveDate": "2026-11-05" } }),
    )
    .await;
    assert_eq!(
        forecast_matches_the_cases(&app, "F-D2", 2026, "2026-11-01").await,
        1
    );
    assert_eq!(
        forecast_matches_the_cases(&app, "F-D2", 2026, "2026-11-10").await,
        0
    );
    assert_eq!(
        forecast_matches_the_cases(&app, "F-D1", 2026, "2026-11-10").await,
        3
    );
    // G2 merged into G1 on 20/11: its case counts in G1, and a step of it still moves it.
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [g2], "targetId": g1, "effectiveDate": "2026-11-20" } }),
    )
    .await;
    assert_eq!(
        forecast_matches_the_cases(&app, "F-G1", 2026, "2026-11-25").await,
        3
    );
    app.ok(
        FIRE,
        json!({ "i": { "caseId": c, "transition": "record_awareness_certificate", "expectedVersion": 1,
            "inputs": { "certificate_date": "2026-11-24", "certificate_number": "GCN-2" } } }),
    )
    .await;
    assert_eq!(
        forecast_matches_the_cases(&app, "F", 2026, "2026-11-25").await,
        3
    );
    assert_eq!(
        forecast_matches_the_cases(&app, "F", 2027, "2026-11-25").await,
        3
    );
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");

    // A corrupted subtree row and a lost own row are found, and rebuilt from the cases.
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared(
            "UPDATE stat_open_rollup SET cases = cases + 2 WHERE stage = 'Candidate'",
        )
        .await
        .unwrap();
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("forecast subtree Candidate due none"), "{out}");
    let r = app
        .ok(FORECAST_ROWS, json!({ "code": "F", "year": 2026 }))
        .await;
    assert_eq!(r["admissionTarget"]["rows"][0]["forecast"]["openCases"], 5);
    app.db
        .execute_unprepared("DELETE FROM stat_open_admission WHERE stage = 'DecisionPending'")
        .await
        .unwrap();
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("forecast own DecisionPending due 2026-"),
        "{out}"
    );
    let (_, out) = check_stats(app.database_url(), &["--repair"]);
    assert!(out.contains("rebuilt"), "{out}");
    let (ok, out) = check_stats(app.database_url(), &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    assert_eq!(
        forecast_matches_the_cases(&app, "F", 2026, "2026-11-25").await,
        3
    );
}

#[tokio::test]
async fn the_units_at_risk_of_a_past_year_are_the_furthest_behind_ties_by_rate_then_code() {
    // A past year: the database picks the candidates (those whose shortfall reaches the
    // `first`-th largest, ties included) and the order is decided on them. Every `first`
    // must give the head of the whole ordering computed from every unit's own row: people
    // missing, then rate, then code.
    let app = spawn_app().await;
    app.set_today("2024-06-15");
    let p = unit(&app, "Z", "PROVINCE", None, "2004-01-01").await;
    let d = unit(&app, "Z-D", "DISTRICT", Some(&p), "2004-01-01").await;
    let g = unit(
        &app,
        "Z-D-G",
        "GRASSROOTS_COMMITTEE",
        Some(&d),
        "2004-01-01",
    )
    .await;
    // (code, members at base, admitted in 2022): floors at 3% are 3, 2, 2, 1, 1, 1, 1.
    let branches = [
        ("Z-D-G-B1", 67, 0),
        ("Z-D-G-B2", 40, 1),
        ("Z-D-G-B3", 34, 0),
        ("Z-D-G-B4", 20, 0),
        ("Z-D-G-B5", 10, 0),
        ("Z-D-G-B6", 5, 0),
        ("Z-D-G-B7", 30, 1),
    ];
    for (code, members, admissions) in branches {
        let b = unit(&app, code, "BRANCH", Some(&g), "2004-01-01").await;
        officials(&app, &b, members).await;
        for _ in 0..admissions {
            admitted(&app, &b, "2022-03-01").await;
        }
    }
    let r = app
        .ok(TARGET, json!({ "code": "Z", "year": 2022, "depth": 5 }))
        .await;
    let mut expected: Vec<(u64, f64, String)> = r["admissionTarget"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["depth"].as_u64().unwrap() > 0)
        .filter(|r| r["membersAtBase"].as_u64().unwrap() > 0 && r["gapLow"].as_u64().unwrap() > 0)
        .map(|r| {
            (
                r["gapLow"].as_u64().unwrap(),
                r["rate"].as_f64().unwrap_or(0.0),
                r["unit"]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    expected.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.total_cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    // The district and the committee (5 short of 7), B1 (3), B3 (2), then four units one
    // short: B4, B5, B6 at rate 0 by code, B2 after them by its rate; B7 meets its floor.
    assert_eq!(
        expected.iter().map(|e| e.2.as_str()).collect::<Vec<_>>(),
        [
            "Z-D", "Z-D-G", "Z-D-G-B1", "Z-D-G-B3", "Z-D-G-B4", "Z-D-G-B5", "Z-D-G-B6", "Z-D-G-B2"
        ]
    );
    let risk = "query($n: Int!) { admissionTarget(code: \"Z\", year: 2022) { unitsAtRisk(first: $n) { unit { code } gapLow } } }";
    for n in 1..=expected.len() + 1 {
        let r = app.ok(risk, json!({ "n": n })).await;
        let got: Vec<(u64, String)> = r["admissionTarget"]["unitsAtRisk"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["gapLow"].as_u64().unwrap(),
                    u["unit"]["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want: Vec<(u64, String)> = expected
            .iter()
            .take(n)
            .map(|e| (e.0, e.2.clone()))
            .collect();
        assert_eq!(got, want, "first: {n}");
    }
}
