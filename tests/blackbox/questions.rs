//! The questions a provincial committee asks (docs/reports.md), through GraphQL and the real
//! binary's `memberflow report`: the grassroots organizations and branches without an
//! admission for N years (the day exactly N years before is outside the period), and the
//! members with a discipline in force on a date (a field on Member, a filter on the member
//! lists and search, the statistics by form), on both databases.

use std::process::Command;

use chrono::{Days, NaiveDate};
use memberflow_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

use crate::consequences::{appeal_roles, branch_decides, ok, open_discipline};
use crate::support::{REGISTER, holder, province, registered, unit};

const BIN: &str = env!("CARGO_BIN_EXE_memberflow-under-test");

const IDLE: &str = "query($u: ID, $y: Int!, $on: Date, $first: Int) {
  unitsWithoutAdmission(unitId: $u, years: $y, on: $on, first: $first) {
    on years since lookedAt total
    units { unit { code } members lastAdmission }
  } }";

/// Registers `n` official members of `unit`, there since 2015, admitted in 2010, as the
/// unit's secretary.
async fn officials(app: &TestApp, unit: &str, n: usize) {
    let secretary = holder(app, "secretary", unit).await;
    for i in 0..n {
        app.ok_as(
            &secretary,
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

/// A member admitted in `unit` by the decision of `decision` (probationary from the ceremony
/// ten days later), registered by the unit's secretary.
async fn admitted(app: &TestApp, unit: &str, decision: &str) {
    let d = NaiveDate::parse_from_str(decision, "%Y-%m-%d").unwrap();
    let secretary = holder(app, "secretary", unit).await;
    app.ok_as(
        &secretary,
        REGISTER,
        json!({ "i": {
            "unitId": unit, "unitSince": decision, "fullName": "Người mới",
            "dateOfBirth": "1998-01-01", "sex": "FEMALE", "education": "UPPER_SECONDARY",
            "status": "PROBATIONARY", "admissionDecisionDate": decision,
            "ceremonyDate": (d + Days::new(10)).to_string() } }),
    )
    .await;
}

/// Runs the real binary on the test's database; its standard output.
fn report(app: &TestApp, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("MEMBERFLOW_CONFIG")
        .env_remove("RUST_LOG")
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .arg("report")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `memberflow check --stats` (with `extra`): whether it passed, and what it printed.
fn check_stats(app: &TestApp, extra: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .env_remove("MEMBERFLOW_CONFIG")
        .env_remove("RUST_LOG")
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .args(["check", "--stats"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `(code, members, last admission)` of the units listed.
fn idle(d: &Value) -> Vec<(String, u64, Value)> {
    d["unitsWithoutAdmission"]["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit"]["code"].as_str().unwrap().to_owned(),
                u["members"].as_u64().unwrap(),
                u["lastAdmission"].clone(),
            )
        })
        .collect()
}

fn listed(code: &str, members: u64, last: &str) -> (String, u64, Value) {
    (code.to_owned(), members, json!(last))
}

#[tokio::test]
async fn units_without_admission_for_n_years_list_the_unit_whose_last_admission_was_exactly_n_years_before()
 {
    let app = spawn_app().await;
    let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
    let d = unit(&app, "P-D", "DISTRICT", Some(&p), "2004-01-01").await;
    let g = unit(&app, "P-G", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let b1 = unit(&app, "P-G-B1", "BRANCH", Some(&g), "2004-01-01").await;
    let b2 = unit(&app, "P-G-B2", "BRANCH", Some(&g), "2004-01-01").await;
    let gb = unit(&app, "P-D-GB", "GRASSROOTS_BRANCH", Some(&d), "2004-01-01").await;
    // Set up in 2020: not judged over five years in 2023.
    unit(&app, "P-G-B3", "BRANCH", Some(&g), "2020-01-01").await;
    officials(&app, &b1, 3).await;
    officials(&app, &b2, 3).await;
    officials(&app, &gb, 2).await;
    // B1's last admission: exactly five years before 30/6/2023; B2's: the day after.
    admitted(&app, &b1, "2018-06-30").await;
    admitted(&app, &b2, "2018-07-01").await;

    let q = |on: &'static str, years: i64| {
        let app = &app;
        let p = p.clone();
        async move { app.ok(IDLE, json!({ "u": p, "y": years, "on": on })).await }
    };
    let r = q("2023-06-30", 5).await;
    let w = &r["unitsWithoutAdmission"];
    assert_eq!(w["since"], "2018-07-01", "{r:#}");
    assert_eq!(w["years"], 5);
    // G, B1, B2 and GB looked at; B3 is younger than five years.
    assert_eq!(w["lookedAt"], 4, "{r:#}");
    assert_eq!(
        idle(&r),
        vec![
            listed("P-D-GB", 2, "2010-05-10"),
            listed("P-G-B1", 4, "2018-06-30"),
        ],
        "{r:#}"
    );
    // A day later B2's admission is exactly five years old too: B2 and its grassroots
    // committee join the list (the committee's members are its branches').
    let r = q("2023-07-01", 5).await;
    assert_eq!(
        idle(&r),
        vec![
            listed("P-D-GB", 2, "2010-05-10"),
            listed("P-G", 8, "2018-07-01"),
            listed("P-G-B1", 4, "2018-06-30"),
            listed("P-G-B2", 4, "2018-07-01"),
        ],
        "{r:#}"
    );
    assert_eq!(r["unitsWithoutAdmission"]["total"], 4, "{r:#}");
    // The first two by code only (what the console lists): the total still counts all four.
    let firsts = app
        .ok(
            IDLE,
            json!({ "u": p, "y": 5, "on": "2023-07-01", "first": 2 }),
        )
        .await;
    assert_eq!(firsts["unitsWithoutAdmission"]["total"], 4, "{firsts:#}");
    assert_eq!(
        idle(&firsts),
        vec![
            listed("P-D-GB", 2, "2010-05-10"),
            listed("P-G", 8, "2018-07-01"),
        ],
        "{firsts:#}"
    );
    // The question reads the admissions counter kept to the day: it follows the registry,
    // and a corrupted row is found by `check --stats` and repaired from the registry.
    let (ok, out) = check_stats(&app, &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared("UPDATE stat_admission_day SET admitted = admitted + 1")
        .await
        .unwrap();
    let (ok, out) = check_stats(&app, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("admissions on 2018-07-01"), "{out}");
    let (_, out) = check_stats(&app, &["--repair"]);
    assert!(out.contains("rebuilt"), "{out}");
    let (ok, out) = check_stats(&app, &[]);
    assert!(ok && out.contains(" 0 difference(s)"), "{out}");
    // Over six years B3 is still too young, GB still idle, B1 and B2 admitted.
    let r = q("2023-06-30", 6).await;
    assert_eq!(idle(&r), vec![listed("P-D-GB", 2, "2010-05-10")], "{r:#}");
    // The subtree of B1 alone; the whole organization without a unit.
    let one = app
        .ok(IDLE, json!({ "u": b1, "y": 5, "on": "2023-06-30" }))
        .await;
    assert_eq!(idle(&one), vec![listed("P-G-B1", 4, "2018-06-30")]);
    let all = app
        .ok(IDLE, json!({ "u": null, "y": 5, "on": "2023-06-30" }))
        .await;
    assert_eq!(
        idle(&all),
        vec![
            listed("P-D-GB", 2, "2010-05-10"),
            listed("P-G-B1", 4, "2018-06-30"),
        ]
    );
    // Bad input: no years, too many, a malformed id.
    for y in [0, 101] {
        let r = app
            .gql(IDLE, json!({ "u": p, "y": y, "on": "2023-06-30" }))
            .await;
        assert_eq!(error_code(&r), "VALIDATION", "{y}: {r:#}");
    }
    let r = app
        .gql(
            IDLE,
            json!({ "u": "not-an-id", "y": 5, "on": "2023-06-30" }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");

    // The same through `memberflow report`, as CSV and as a table, in both languages.
    let csv = report(
        &app,
        &[
            "without-admission",
            "--years",
            "5",
            "--on",
            "2023-07-01",
            "--unit",
            "P",
            "--format",
            "csv",
        ],
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0], "Mã,Đơn vị,Loại,Trực thuộc,Đảng viên,Kết nạp gần nhất",
        "{csv}"
    );
    assert_eq!(
        &lines[1..],
        [
            "P-D-GB,Đơn vị P-D-GB,Chi bộ cơ sở,P-D,2,10/05/2010",
            "P-G,Đơn vị P-G,Đảng bộ cơ sở,P-D,8,01/07/2018",
            "P-G-B1,Đơn vị P-G-B1,Chi bộ trực thuộc,P-G,4,30/06/2018",
            "P-G-B2,Đơn vị P-G-B2,Chi bộ trực thuộc,P-G,4,01/07/2018",
        ],
        "{csv}"
    );
    let table = report(
        &app,
        &[
            "without-admission",
            "--years",
            "5",
            "--on",
            "2023-06-30",
            "--unit",
            "P",
            "--lang",
            "en",
        ],
    );
    assert!(
        table.starts_with(
            "Grassroots organizations and branches without an admission in 5 years (2018-07-01 to 2023-06-30): 2 of 4\n"
        ),
        "{table}"
    );
    assert!(table.contains("P-D-GB"), "{table}");
    assert!(!table.contains("P-G-B2"), "{table}");
    let vi = report(
        &app,
        &["without-admission", "--years", "5", "--on", "2023-06-30"],
    );
    assert!(
        vi.starts_with("Tổ chức cơ sở đảng và chi bộ không kết nạp được đảng viên trong 5 năm (từ 01/07/2018 đến 30/06/2023): 2 trong số 4\n"),
        "{vi}"
    );
}

/// The question through merges, a chain of merges and a move: a branch merged away makes its
/// successor (and the units above it) active with the admissions it decided before the merge
/// inside the period, and gives it its last admission when they were before the period; a
/// moved branch counts in its parent of the day asked about (the listed unit's parent too);
/// an admission after the day does not count; `first` cuts by code; the whole organization.
#[tokio::test]
async fn units_without_admission_follow_merges_chains_of_merges_and_moves_to_the_day_asked_about() {
    let app = spawn_app().await;
    let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
    let d = unit(&app, "P-D", "DISTRICT", Some(&p), "2004-01-01").await;
    let g1 = unit(&app, "P-G1", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let g2 = unit(&app, "P-G2", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let g3 = unit(&app, "P-G3", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let b1 = unit(&app, "P-G1-B1", "BRANCH", Some(&g1), "2004-01-01").await;
    let b2 = unit(&app, "P-G1-B2", "BRANCH", Some(&g1), "2004-01-01").await;
    let b3 = unit(&app, "P-G2-B3", "BRANCH", Some(&g2), "2004-01-01").await;
    let b5 = unit(&app, "P-G3-B5", "BRANCH", Some(&g3), "2004-01-01").await;
    let b6 = unit(&app, "P-G3-B6", "BRANCH", Some(&g3), "2004-01-01").await;
    let b7 = unit(&app, "P-G3-B7", "BRANCH", Some(&g3), "2004-01-01").await;
    let b8 = unit(&app, "P-G3-B8", "BRANCH", Some(&g3), "2004-01-01").await;
    let b9 = unit(&app, "P-B9", "BRANCH", Some(&g1), "2004-01-01").await;
    let gb = unit(&app, "P-D-GB", "GRASSROOTS_BRANCH", Some(&d), "2004-01-01").await;
    // Another organization, for the question without a unit.
    let q = unit(&app, "Q", "PROVINCE", None, "2004-01-01").await;
    let qgb = unit(&app, "Q-GB", "GRASSROOTS_BRANCH", Some(&q), "2004-01-01").await;
    for (u, n) in [
        (&b1, 2),
        (&b2, 1),
        (&b3, 1),
        (&b5, 1),
        (&b6, 2),
        (&b7, 1),
        (&b8, 1),
        (&b9, 1),
        (&gb, 1),
        (&qgb, 1),
    ] {
        officials(&app, u, n).await;
    }
    const MERGE: &str = "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }";
    const MOVE: &str = "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }";
    let merge = |s: String, t: String, on: &'static str| {
        let app = &app;
        async move {
            app.ok(
                MERGE,
                json!({ "i": { "sourceIds": [s], "targetId": t, "effectiveDate": on } }),
            )
            .await
        }
    };
    let move_to = |u: String, parent: String, on: &'static str| {
        let app = &app;
        async move {
            app.ok(
                MOVE,
                json!({ "i": { "unitId": u, "newParentId": parent, "effectiveDate": on } }),
            )
            .await
        }
    };
    // B2 admits on 1/3/2019 and is merged into B1 on 1/1/2020.
    admitted(&app, &b2, "2019-03-01").await;
    merge(b2.clone(), b1.clone(), "2020-01-01").await;
    // A chain: B7 admits on 4/4/2015 and is merged into B5 on 1/6/2015; B5, which admitted
    // on 1/2/2015, is merged into B6 on 1/1/2016.
    admitted(&app, &b5, "2015-02-01").await;
    admitted(&app, &b7, "2015-04-04").await;
    merge(b7.clone(), b5.clone(), "2015-06-01").await;
    merge(b5.clone(), b6.clone(), "2016-01-01").await;
    // B8 admits under G3 on 8/8/2019 and moves under G1 on 1/6/2021; B9 moves from G1 to G2
    // on 1/1/2022.
    admitted(&app, &b8, "2019-08-08").await;
    move_to(b8.clone(), g1.clone(), "2021-06-01").await;
    move_to(b9.clone(), g2.clone(), "2022-01-01").await;
    // B3 admits after the day asked about.
    admitted(&app, &b3, "2023-08-01").await;

    let ask = |u: Option<String>, on: &'static str, first: Option<u64>| {
        let app = &app;
        async move {
            app.ok(IDLE, json!({ "u": u, "y": 5, "on": on, "first": first }))
                .await
        }
    };
    // 30/6/2023, over five years (from 1/7/2018): B1 and G1 admitted through B2 (merged
    // since), and through B8 (under G1 that day); G3's line is B6, with B5 and B7 merged into
    // it, their admissions before the period: B6's and G3's last admission is B7's. G2 counts
    // B9 (moved under it); B3's admission after the day is not counted.
    let r = ask(Some(p.clone()), "2023-06-30", None).await;
    let w = &r["unitsWithoutAdmission"];
    assert_eq!(w["lookedAt"], 9, "{r:#}");
    assert_eq!(w["total"], 6, "{r:#}");
    let on_2023 = vec![
        listed("P-B9", 1, "2010-05-10"),
        listed("P-D-GB", 1, "2010-05-10"),
        listed("P-G2", 2, "2010-05-10"),
        listed("P-G2-B3", 1, "2010-05-10"),
        listed("P-G3", 6, "2015-04-04"),
        listed("P-G3-B6", 6, "2015-04-04"),
    ];
    assert_eq!(idle(&r), on_2023, "{r:#}");
    // The first five by code; the total still counts all six.
    let r = ask(Some(p.clone()), "2023-06-30", Some(5)).await;
    assert_eq!(r["unitsWithoutAdmission"]["total"], 6, "{r:#}");
    assert_eq!(idle(&r), on_2023[..5].to_vec(), "{r:#}");
    // The whole organization: Q's grassroots branch too.
    let r = ask(None, "2023-06-30", None).await;
    assert_eq!(r["unitsWithoutAdmission"]["lookedAt"], 10, "{r:#}");
    let mut all = on_2023.clone();
    all.push(listed("Q-GB", 1, "2010-05-10"));
    assert_eq!(idle(&r), all, "{r:#}");
    // The subtrees of G3 (its line) and of G1 (everyone admitted).
    let r = ask(Some(g3.clone()), "2023-06-30", None).await;
    assert_eq!(r["unitsWithoutAdmission"]["lookedAt"], 2, "{r:#}");
    assert_eq!(idle(&r), on_2023[4..].to_vec(), "{r:#}");
    let r = ask(Some(g1.clone()), "2023-06-30", None).await;
    assert_eq!(
        (
            &r["unitsWithoutAdmission"]["lookedAt"],
            &r["unitsWithoutAdmission"]["total"]
        ),
        (&json!(3), &json!(0)),
        "{r:#}"
    );
    // 31/5/2021, before the moves (from 1/6/2016): B8's admission counts in G3.
    let r = ask(Some(p.clone()), "2021-05-31", None).await;
    assert_eq!(r["unitsWithoutAdmission"]["lookedAt"], 9, "{r:#}");
    assert_eq!(
        idle(&r),
        vec![
            listed("P-B9", 1, "2010-05-10"),
            listed("P-D-GB", 1, "2010-05-10"),
            listed("P-G2", 1, "2010-05-10"),
            listed("P-G2-B3", 1, "2010-05-10"),
            listed("P-G3-B6", 6, "2015-04-04"),
        ],
        "{r:#}"
    );
    // 31/12/2019, before B2's merge (from 1/1/2015): B2 and B1 are apart, B1 idle; B7's
    // and B5's admissions, inside the period, count in B6 through the chain.
    let r = ask(Some(p.clone()), "2019-12-31", None).await;
    assert_eq!(r["unitsWithoutAdmission"]["lookedAt"], 10, "{r:#}");
    assert_eq!(
        idle(&r),
        vec![
            listed("P-B9", 1, "2010-05-10"),
            listed("P-D-GB", 1, "2010-05-10"),
            listed("P-G1-B1", 2, "2010-05-10"),
            listed("P-G2", 1, "2010-05-10"),
            listed("P-G2-B3", 1, "2010-05-10"),
        ],
        "{r:#}"
    );
    // The parents of the day, through `memberflow report`.
    let csv = report(
        &app,
        &[
            "without-admission",
            "--years",
            "5",
            "--on",
            "2023-06-30",
            "--unit",
            "P",
            "--format",
            "csv",
        ],
    );
    let parents: Vec<(&str, &str)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0], f[3])
        })
        .collect();
    assert_eq!(
        parents,
        [
            ("P-B9", "P-G2"),
            ("P-D-GB", "P-D"),
            ("P-G2", "P-D"),
            ("P-G2-B3", "P-G2"),
            ("P-G3", "P-D"),
            ("P-G3-B6", "P-G3"),
        ],
        "{csv}"
    );
}

/// The targets report and its two questions in one request: units without an admission and
/// hamlets without members or a branch, as of the report's reference date, the same answers
/// as the questions asked alone on that day.
#[tokio::test]
async fn the_targets_report_asks_its_questions_on_its_reference_date_in_the_same_request() {
    let app = spawn_app().await;
    let p = unit(&app, "P", "PROVINCE", None, "2004-01-01").await;
    let d = unit(&app, "P-D", "DISTRICT", Some(&p), "2004-01-01").await;
    let g = unit(&app, "P-G", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let b1 = unit(&app, "P-G-B1", "BRANCH", Some(&g), "2004-01-01").await;
    let gb = unit(&app, "P-D-GB", "GRASSROOTS_BRANCH", Some(&d), "2004-01-01").await;
    officials(&app, &b1, 3).await;
    officials(&app, &gb, 2).await;
    admitted(&app, &b1, "2018-06-30").await;
    // A hamlet of the commune, with neither a branch nor a member living in it, recorded by
    // the commune's secretary.
    app.ok_as(
        &holder(&app, "secretary", &g).await,
        "mutation($i: RecordHamletInput!) { recordHamlet(input: $i) { id } }",
        json!({ "i": { "unitId": g, "code": "P-AP1", "name": "Ấp 1", "kind": "HAMLET",
                       "from": "2010-01-01" } }),
    )
    .await;
    const NESTED: &str = "query($y: Int!, $years: Int!) {
      admissionTarget(code: \"P\", year: $y) {
        referenceDate
        total { unit { code } }
        unitsWithoutAdmission(years: $years) {
          on years since lookedAt total units { unit { code } members lastAdmission } }
        hamletsWithout { on lookedAt withoutMembers { hamlet { code } } withoutBranch { hamlet { code } } }
      } }";
    const HAMLETS: &str = "query($u: ID!, $on: Date) {
      hamletsWithout(unitId: $u, on: $on) {
        on lookedAt withoutMembers { hamlet { code } } withoutBranch { hamlet { code } } } }";
    // A past year: the questions are those of its last day. Over five years up to
    // 31/12/2022 B1 admitted (30/6/2018), its committee with it; the grassroots branch did not.
    let r = app.ok(NESTED, json!({ "y": 2022, "years": 5 })).await;
    let t = &r["admissionTarget"];
    assert_eq!(t["referenceDate"], "2022-12-31", "{r:#}");
    assert_eq!(t["total"]["unit"]["code"], "P", "{r:#}");
    let alone = app
        .ok(IDLE, json!({ "u": p, "y": 5, "on": "2022-12-31" }))
        .await;
    assert_eq!(
        t["unitsWithoutAdmission"], alone["unitsWithoutAdmission"],
        "{r:#}"
    );
    assert_eq!(
        idle(&json!({ "unitsWithoutAdmission": t["unitsWithoutAdmission"] })),
        vec![listed("P-D-GB", 2, "2010-05-10")],
        "{r:#}"
    );
    let alone = app.ok(HAMLETS, json!({ "u": p, "on": "2022-12-31" })).await;
    assert_eq!(t["hamletsWithout"], alone["hamletsWithout"], "{r:#}");
    assert_eq!(t["hamletsWithout"]["on"], "2022-12-31", "{r:#}");
    assert_eq!(t["hamletsWithout"]["lookedAt"], 1, "{r:#}");
    for list in ["withoutMembers", "withoutBranch"] {
        assert_eq!(
            t["hamletsWithout"][list],
            json!([{ "hamlet": { "code": "P-AP1" } }]),
            "{list}: {r:#}"
        );
    }
    // Over four years (from 1/1/2019) B1 and its committee are idle too.
    let r = app.ok(NESTED, json!({ "y": 2022, "years": 4 })).await;
    assert_eq!(
        r["admissionTarget"]["unitsWithoutAdmission"]["total"], 3,
        "{r:#}"
    );
    // The running year: the questions are today's; a year to come: today's too (its
    // reference date, 1 January, has not come yet).
    let today = app.ok("{ today }", json!({})).await["today"].clone();
    for y in [2026, 2027] {
        let r = app.ok(NESTED, json!({ "y": y, "years": 5 })).await;
        let t = &r["admissionTarget"];
        assert_eq!(t["unitsWithoutAdmission"]["on"], today, "{y}: {r:#}");
        assert_eq!(t["hamletsWithout"]["on"], today, "{y}: {r:#}");
    }
    // Bad input as for the question alone.
    let r = app.gql(NESTED, json!({ "y": 2022, "years": 0 })).await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
}

const IN_FORCE: &str = "query($m: ID!, $on: Date) {
  member(id: $m) { disciplineInForce(on: $on) { form label decisionDate } } }";
const IN_FORCE_LIST: &str = "query($u: ID!, $on: Date, $f: Boolean) {
  unit(id: $u) {
    members(on: $on, includeSubtree: true, disciplineInForce: $f, first: 50) {
      totalCount edges { node { fullName } } }
    memberCount(on: $on, includeSubtree: true, disciplineInForce: $f)
  } }";
const IN_FORCE_STATS: &str = "query($u: ID, $on: Date) {
  disciplineInForce(unitId: $u, on: $on) { on members byForm { form label count } } }";

fn names(d: &Value) -> Vec<String> {
    let mut v: Vec<String> = d["unit"]["members"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["fullName"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_discipline_is_in_force_from_its_decision_s_day_until_annulled_on_the_member_the_lists_and_the_reports()
 {
    let app = spawn_app().await;
    let p = province(&app).await;
    let a = registered(&app, &p.b1, "Trần Thị Kỷ Luật").await;
    registered(&app, &p.b1, "Lê Văn Hai").await;
    registered(&app, &p.b2, "Võ Văn Ba").await;
    let case = open_discipline(&app, &p.b1, &a, "2026-03-02").await;
    branch_decides(&app, &case, "warning").await;

    // The decision's day, from the member's record.
    let now = app.ok(IN_FORCE, json!({ "m": a, "on": null })).await;
    let list = now["member"]["disciplineInForce"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{now:#}");
    assert_eq!(list[0]["form"], "warning");
    assert_eq!(list[0]["label"], "Cảnh cáo");
    let decided = list[0]["decisionDate"].as_str().unwrap().to_owned();
    let day = NaiveDate::parse_from_str(&decided, "%Y-%m-%d").unwrap();
    let before = day.pred_opt().unwrap().to_string();
    // The day before the decision: nothing in force; on the day: the warning.
    let r = app.ok(IN_FORCE, json!({ "m": a, "on": before })).await;
    assert_eq!(r["member"]["disciplineInForce"], json!([]), "{r:#}");
    let r = app.ok(IN_FORCE, json!({ "m": a, "on": decided })).await;
    assert_eq!(
        r["member"]["disciplineInForce"],
        json!([{ "form": "warning", "label": "Cảnh cáo", "decisionDate": decided }])
    );

    // The member lists filtered, pages and counts agreeing.
    let l = app
        .ok(
            IN_FORCE_LIST,
            json!({ "u": p.hg, "on": decided, "f": true }),
        )
        .await;
    assert_eq!(names(&l), ["Trần Thị Kỷ Luật"], "{l:#}");
    assert_eq!(l["unit"]["members"]["totalCount"], 1);
    assert_eq!(l["unit"]["memberCount"], 1);
    let l = app
        .ok(
            IN_FORCE_LIST,
            json!({ "u": p.hg, "on": decided, "f": false }),
        )
        .await;
    assert_eq!(names(&l), ["Lê Văn Hai", "Võ Văn Ba"], "{l:#}");
    assert_eq!(l["unit"]["memberCount"], 2);
    let l = app
        .ok(IN_FORCE_LIST, json!({ "u": p.hg, "on": before, "f": true }))
        .await;
    assert_eq!(l["unit"]["memberCount"], 0, "{l:#}");
    let l = app
        .ok(
            IN_FORCE_LIST,
            json!({ "u": p.b2, "on": decided, "f": true }),
        )
        .await;
    assert_eq!(l["unit"]["memberCount"], 0, "{l:#}");
    // The search, as of today.
    let s = app
        .ok(
            "query($u: ID) { searchMembers(query: \"van\", unitId: $u, disciplineInForce: false) { fullName } }",
            json!({ "u": p.hg }),
        )
        .await;
    assert_eq!(
        s["searchMembers"],
        json!([{ "fullName": "Lê Văn Hai" }, { "fullName": "Võ Văn Ba" }])
    );
    let s = app
        .ok(
            "{ searchMembers(query: \"tran\", disciplineInForce: true) { fullName } }",
            json!({}),
        )
        .await;
    assert_eq!(
        s["searchMembers"],
        json!([{ "fullName": "Trần Thị Kỷ Luật" }])
    );

    // The statistics by form, in the subtree.
    let st = app
        .ok(IN_FORCE_STATS, json!({ "u": p.hg, "on": decided }))
        .await;
    assert_eq!(
        st["disciplineInForce"],
        json!({ "on": decided, "members": 1,
                "byForm": [{ "form": "warning", "label": "Cảnh cáo", "count": 1 }] })
    );
    let st = app
        .ok(IN_FORCE_STATS, json!({ "u": p.gb, "on": decided }))
        .await;
    assert_eq!(st["disciplineInForce"]["members"], 0);
    let csv = report(
        &app,
        &[
            "discipline-in-force",
            "--on",
            &decided,
            "--unit",
            "HG",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        csv,
        "Mục,Nhóm,Số lượng\nHình thức còn hiệu lực,Cảnh cáo,1\nĐảng viên đang chịu kỷ luật,,1\n",
        "{csv}"
    );
    let csv = report(
        &app,
        &[
            "discipline-in-force",
            "--on",
            &before,
            "--format",
            "csv",
            "--lang",
            "en",
        ],
    );
    assert_eq!(
        csv, "Section,Group,Count\nmembers under discipline,,0\n",
        "{csv}"
    );

    // Annulled on appeal (P6): it never had effect, on no day. The member appeals; the
    // superior committee's inspection commission rules.
    let (appellant, commission) = appeal_roles(&app, "khieunai", &a, &p.d1).await;
    ok(
        &app,
        &appellant,
        &case,
        "2026-03-20",
        "file_appeal",
        json!({ "appeal_filed_date": "today",
        "appeal_body": "inspection_commission", "appeal_level": "superior",
        "appeal_grounds": "Không vi phạm" }),
    )
    .await;
    assert_eq!(
        ok(
            &app,
            &commission,
            &case,
            "2026-04-10",
            "annul",
            json!({ "ruling_body": "inspection_commission",
            "ruling_level": "superior", "appeal_ruling_date": "today",
            "restoration": "Xin lỗi, khôi phục quyền lợi" })
        )
        .await,
        "Annulled"
    );
    let r = app.ok(IN_FORCE, json!({ "m": a, "on": decided })).await;
    assert_eq!(r["member"]["disciplineInForce"], json!([]), "{r:#}");
    let st = app
        .ok(IN_FORCE_STATS, json!({ "u": null, "on": decided }))
        .await;
    assert_eq!(st["disciplineInForce"]["members"], 0, "{st:#}");
}

const RECORD_AWAY: &str = "mutation($i: RecordTemporaryActivityInput!) {
  recordTemporaryActivity(input: $i) { memberId hostUnit { code } place abroad from to } }";
const AWAY: &str = "query($u: ID!, $on: Date) {
  temporaryActivity(unitId: $u, on: $on) {
    on
    away { member { fullName } homeUnit { code } activity { hostUnit { code } place abroad from to } }
    hosted { member { fullName } homeUnit { code } activity { hostUnit { code } from } }
  } }";

/// `name@home→host` of a list of the report.
fn entries(d: &Value, list: &str) -> Vec<String> {
    d["temporaryActivity"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let a = &e["activity"];
            let host = a["hostUnit"]["code"]
                .as_str()
                .or(a["place"].as_str())
                .unwrap_or("?");
            format!(
                "{}@{}→{}",
                e["member"]["fullName"].as_str().unwrap(),
                e["homeUnit"]["code"].as_str().unwrap(),
                host
            )
        })
        .collect()
}

#[tokio::test]
async fn temporary_party_activity_is_a_dated_fact_listed_away_from_home_and_hosted_on_its_days() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let a = registered(&app, &p.b1, "Nguyễn Văn An").await;
    let b = registered(&app, &p.b1, "Trần Văn Bình").await;
    let c = registered(&app, &p.gb, "Lê Thị Cúc").await;
    // Recorded by the secretaries of the members' branches (docs/security.md).
    let (s1, sg) = (
        holder(&app, "secretary", &p.b1).await,
        holder(&app, "secretary", &p.gb).await,
    );
    let r = app
        .ok_as(
            &s1,
            RECORD_AWAY,
            json!({ "i": { "memberId": a, "hostUnitId": p.b2, "from": "2026-01-10" } }),
        )
        .await;
    assert_eq!(
        r["recordTemporaryActivity"],
        json!({ "memberId": a, "hostUnit": { "code": "HG-D1-X-2" }, "place": null,
                "abroad": false, "from": "2026-01-10", "to": null })
    );
    app.ok_as(
        &sg,
        RECORD_AWAY,
        json!({ "i": { "memberId": c, "place": "Hàn Quốc", "abroad": true, "from": "2025-06-01" } }),
    )
    .await;

    // Refused: the member's own branch, a unit that is not a branch, no host at all, a period
    // ending before it starts (VALIDATION); a period overlapping another (CONFLICT).
    for (input, code) in [
        (
            json!({ "memberId": b, "hostUnitId": p.b1, "from": "2026-01-10" }),
            "VALIDATION",
        ),
        (
            json!({ "memberId": b, "hostUnitId": p.gc, "from": "2026-01-10" }),
            "VALIDATION",
        ),
        (json!({ "memberId": b, "from": "2026-01-10" }), "VALIDATION"),
        (
            json!({ "memberId": b, "place": "Cần Thơ", "from": "2026-01-10", "to": "2026-01-10" }),
            "VALIDATION",
        ),
        (
            json!({ "memberId": a, "place": "Cần Thơ", "from": "2026-02-01" }),
            "CONFLICT",
        ),
        (
            json!({ "memberId": a, "place": "Cần Thơ", "from": "2025-12-01", "to": "2026-01-11" }),
            "CONFLICT",
        ),
    ] {
        let r = app.gql_as(&s1, RECORD_AWAY, json!({ "i": input })).await;
        assert_eq!(error_code(&r), code, "{input}: {r:#}");
    }
    // Back to back is fine: a period ending the day the other starts.
    app.ok_as(
        &s1,
        RECORD_AWAY,
        json!({ "i": { "memberId": a, "place": "Cần Thơ", "from": "2025-12-01", "to": "2026-01-10" } }),
    )
    .await;

    let on = |unit: &str, day: &str| {
        let app = &app;
        let q = json!({ "u": unit, "on": day });
        async move { app.ok(AWAY, q).await }
    };
    let d = on(&p.hg, "2026-02-01").await;
    assert_eq!(
        entries(&d, "away"),
        [
            "Lê Thị Cúc@HG-D2-Y→Hàn Quốc",
            "Nguyễn Văn An@HG-D1-X-1→HG-D1-X-2"
        ]
    );
    assert_eq!(entries(&d, "hosted"), Vec::<String>::new());
    // From the host's side: a member of another branch hosted.
    let d = on(&p.b2, "2026-02-01").await;
    assert_eq!(entries(&d, "away"), Vec::<String>::new());
    assert_eq!(entries(&d, "hosted"), ["Nguyễn Văn An@HG-D1-X-1→HG-D1-X-2"]);
    let d = on(&p.b1, "2026-01-09").await;
    assert_eq!(entries(&d, "away"), ["Nguyễn Văn An@HG-D1-X-1→Cần Thơ"]);

    // Back home on 1/3: away on the 28th of February, not on the 1st of March.
    let end =
        "mutation($m: ID!, $on: Date!) { endTemporaryActivity(memberId: $m, on: $on) { from to } }";
    let r = app
        .ok_as(&s1, end, json!({ "m": a, "on": "2026-03-01" }))
        .await;
    assert_eq!(
        r["endTemporaryActivity"],
        json!({ "from": "2026-01-10", "to": "2026-03-01" })
    );
    assert_eq!(
        entries(&on(&p.b1, "2026-02-28").await, "away"),
        ["Nguyễn Văn An@HG-D1-X-1→HG-D1-X-2"]
    );
    assert_eq!(
        entries(&on(&p.b1, "2026-03-01").await, "away"),
        Vec::<String>::new()
    );
    let r = app
        .gql_as(&s1, end, json!({ "m": a, "on": "2026-03-05" }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    // The member's history.
    let h = app
        .ok(
            "query($m: ID!) { member(id: $m) { temporaryActivity { place hostUnit { code } from to } } }",
            json!({ "m": a }),
        )
        .await;
    assert_eq!(
        h["member"]["temporaryActivity"],
        json!([
            { "place": "Cần Thơ", "hostUnit": null, "from": "2025-12-01", "to": "2026-01-10" },
            { "place": null, "hostUnit": { "code": "HG-D1-X-2" }, "from": "2026-01-10", "to": "2026-03-01" }
        ])
    );

    // A secretary of the host branch may not record for a member of another branch.
    let host = app
        .account("bithu_b2", &[("secretary", Some(&p.b2))], None)
        .await;
    let r = app
        .gql_as(
            &host,
            RECORD_AWAY,
            json!({ "i": { "memberId": b, "hostUnitId": p.b2, "from": "2026-04-01" } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");

    // The same through `memberflow report`.
    let csv = report(
        &app,
        &[
            "temporary-activity",
            "--on",
            "2026-02-01",
            "--unit",
            "HG",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        csv,
        "Danh sách,Đảng viên,Chi bộ,Nơi sinh hoạt tạm thời,Nước ngoài,Từ ngày,Đến ngày\n\
         đi,Lê Thị Cúc,HG-D2-Y,Hàn Quốc,có,01/06/2025,\n\
         đi,Nguyễn Văn An,HG-D1-X-1,HG-D1-X-2,không,10/01/2026,01/03/2026\n",
        "{csv}"
    );
}
