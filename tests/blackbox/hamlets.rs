//! The register of hamlets and residential groups and Resolution 21's question (docs/reports.md):
//! hamlets recorded under a commune-level unit, hamlet branches linked to them over time,
//! members' residences over time, a merge and an end; `hamletsWithout` and `Unit.hamlets` on
//! the days around each change (a branch linked after the day, a member moving, a hamlet
//! merged on a day), the refusals, and `memberflow report hamlets-without`, on both databases.

use std::process::Command;

use memberflow_tests::{TEST_PASSWORD, TestApp, error_code, spawn_app};
use serde_json::{Value, json};

use crate::support::{holder, province, registered, unit};

const BIN: &str = env!("CARGO_BIN_EXE_memberflow-under-test");

const RECORD: &str = "mutation($i: RecordHamletInput!) { recordHamlet(input: $i) { id code kind kindLabel unit { code } validFrom validTo } }";
const LINK: &str = "mutation($h: ID!, $u: ID!, $from: Date!) { linkHamletBranch(hamletId: $h, unitId: $u, from: $from) { hamletId branch { code } from to } }";
const RESIDE: &str = "mutation($m: ID!, $h: ID!, $from: Date!) { setMemberResidence(memberId: $m, hamletId: $h, from: $from) { hamlet { code } from to reason } }";
const WITHOUT: &str = "query($u: ID!, $on: Date) { hamletsWithout(unitId: $u, on: $on) {
  on lookedAt
  withoutMembers { hamlet { code } branch { code } members }
  withoutBranch { hamlet { code } branch { code } members } } }";

/// Records a hamlet of the commune-level `unit` as the unit's secretary (who keeps its
/// registry, docs/security.md).
async fn hamlet(app: &TestApp, unit: &str, code: &str, kind: &str, from: &str) -> String {
    let secretary = holder(app, "secretary", unit).await;
    let d = app
        .ok_as(
            &secretary,
            RECORD,
            json!({ "i": { "unitId": unit, "code": code, "name": format!("Ấp {code}"),
                           "kind": kind, "from": from } }),
        )
        .await;
    d["recordHamlet"]["id"].as_str().unwrap().to_owned()
}

async fn hamlet_branch(app: &TestApp, code: &str, parent: &str, from: &str) -> String {
    let d = app
        .ok(
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "code": code, "name": format!("Chi bộ {code}"), "kind": "BRANCH",
                           "parentId": parent, "validFrom": from, "branchCategory": "HAMLET" } }),
        )
        .await;
    d["createUnit"]["id"].as_str().unwrap().to_owned()
}

/// The codes of a list of the answer.
fn codes(d: &Value, list: &str) -> Vec<String> {
    d["hamletsWithout"][list]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hamlet"]["code"].as_str().unwrap().to_owned())
        .collect()
}

/// `(looked at, without members, without a branch)` of `unit` on `on`.
async fn without(app: &TestApp, unit: &str, on: &str) -> (u64, Vec<String>, Vec<String>) {
    let d = app.ok(WITHOUT, json!({ "u": unit, "on": on })).await;
    assert_eq!(d["hamletsWithout"]["on"], json!(on));
    (
        d["hamletsWithout"]["lookedAt"].as_u64().unwrap(),
        codes(&d, "withoutMembers"),
        codes(&d, "withoutBranch"),
    )
}

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

#[tokio::test]
async fn hamlets_without_members_or_a_branch_follow_links_residences_and_merges_by_date() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let a1 = hamlet_branch(&app, "HG-D1-X-A1", &p.gc, "2005-01-01").await;
    let a2 = hamlet_branch(&app, "HG-D1-X-A2", &p.gc, "2005-01-01").await;
    let a3 = hamlet_branch(&app, "HG-D1-X-A3", &p.gc, "2021-01-01").await;
    // The register is kept by the commune's secretary (`hamlet`) and by the province's
    // organization department, over its subtree.
    let keeper = holder(&app, "organization_department", &p.hg).await;

    let r = app
        .ok_as(
            &holder(&app, "secretary", &p.gc).await,
            RECORD,
            json!({ "i": { "unitId": p.gc, "code": "X-AP1", "name": "Ấp Một",
                           "kind": "HAMLET", "from": "2010-01-01" } }),
        )
        .await;
    assert_eq!(
        r["recordHamlet"],
        json!({ "id": r["recordHamlet"]["id"], "code": "X-AP1", "kind": "HAMLET",
                "kindLabel": "ấp", "unit": { "code": "HG-D1-X" },
                "validFrom": "2010-01-01", "validTo": null })
    );
    let h1 = r["recordHamlet"]["id"].as_str().unwrap().to_owned();
    let h2 = hamlet(&app, &p.gc, "X-AP2", "HAMLET", "2010-01-01").await;
    let h3 = hamlet(&app, &p.gc, "X-KV3", "WARD_AREA", "2010-01-01").await;
    let t1 = hamlet(&app, &p.gb, "Y-TDP1", "RESIDENTIAL_GROUP", "2010-01-01").await;

    // Refused: a hamlet of a unit that is not commune-level (a branch, a district), of a unit
    // not existing on its first day, with a code taken.
    for (unit, code, from, expect) in [
        (&p.b1, "Z1", "2010-01-01", "VALIDATION"),
        (&p.d1, "Z2", "2010-01-01", "VALIDATION"),
        (&p.gc, "Z3", "2004-12-31", "VALIDATION"),
        (&p.gc, "X-AP1", "2010-01-01", "CONFLICT"),
    ] {
        let before = app.row_counts().await;
        let r = app
            .gql_as(
                &keeper,
                RECORD,
                json!({ "i": { "unitId": unit, "code": code, "name": "Ấp",
                               "kind": "HAMLET", "from": from } }),
            )
            .await;
        assert_eq!(error_code(&r), expect, "{code}: {r:#}");
        assert_eq!(app.row_counts().await, before, "{code} wrote something");
    }

    // Branch links.
    let r = app
        .ok_as(
            &keeper,
            LINK,
            json!({ "h": h1, "u": a1, "from": "2015-01-01" }),
        )
        .await;
    assert_eq!(
        r["linkHamletBranch"],
        json!({ "hamletId": h1, "branch": { "code": "HG-D1-X-A1" }, "from": "2015-01-01", "to": null })
    );
    app.ok_as(
        &keeper,
        LINK,
        json!({ "h": h2, "u": a2, "from": "2015-01-01" }),
    )
    .await;
    // Refused: a branch that is not a hamlet branch, a branch not under the hamlet's unit, a
    // branch not existing yet on the day, the same link again.
    let b_other = unit(
        &app,
        "HG-D2-Z",
        "GRASSROOTS_COMMITTEE",
        Some(&p.d2),
        "2005-01-01",
    )
    .await;
    let a_other = hamlet_branch(&app, "HG-D2-Z-A1", &b_other, "2005-01-01").await;
    for (h, u, from, expect) in [
        (&h3, &p.b1, "2015-01-01", "VALIDATION"),
        (&h3, &a_other, "2015-01-01", "VALIDATION"),
        (&h3, &a3, "2020-06-01", "VALIDATION"),
        (&h1, &a1, "2016-01-01", "CONFLICT"),
        (&t1, &a1, "2015-01-01", "VALIDATION"),
    ] {
        let before = app.row_counts().await;
        let r = app
            .gql_as(&keeper, LINK, json!({ "h": h, "u": u, "from": from }))
            .await;
        assert_eq!(error_code(&r), expect, "{from}: {r:#}");
        assert_eq!(app.row_counts().await, before);
    }
    // A3 is linked to X-KV3 from 1/3/2021, after the day asked about below.
    app.ok_as(
        &keeper,
        LINK,
        json!({ "h": h3, "u": a3, "from": "2021-03-01" }),
    )
    .await;

    // Residences.
    let m1 = registered(&app, &p.b1, "Nguyễn Văn An").await;
    let m2 = registered(&app, &p.b1, "Trần Văn Bình").await;
    let m3 = registered(&app, &p.gb, "Lê Thị Cúc").await;
    for (m, h) in [(&m1, &h1), (&m2, &h2), (&m3, &t1)] {
        app.ok_as(
            &keeper,
            RESIDE,
            json!({ "m": m, "h": h, "from": "2016-01-01" }),
        )
        .await;
    }

    // Before the link of X-KV3: no branch there, and nobody lives in it.
    assert_eq!(
        without(&app, &p.hg, "2021-02-28").await,
        (
            4,
            vec!["X-KV3".to_owned()],
            vec!["X-KV3".to_owned(), "Y-TDP1".to_owned()]
        )
    );
    // From the day of the link, it has one.
    assert_eq!(
        without(&app, &p.hg, "2021-03-01").await,
        (4, vec!["X-KV3".to_owned()], vec!["Y-TDP1".to_owned()])
    );
    // Before any hamlet existed: none looked at.
    assert_eq!(
        without(&app, &p.hg, "2009-12-31").await,
        (0, vec![], vec![])
    );

    // Bình moves from X-AP2 to X-KV3 on 1/5/2022: X-AP2 is without members from that day.
    for (h, from, expect) in [
        (&h3, "2016-01-01", "CONFLICT"),
        (&h3, "2015-06-01", "CONFLICT"),
        (&h2, "2022-05-01", "CONFLICT"),
    ] {
        let before = app.row_counts().await;
        let r = app
            .gql_as(&keeper, RESIDE, json!({ "m": m2, "h": h, "from": from }))
            .await;
        assert_eq!(error_code(&r), expect, "{from}: {r:#}");
        assert_eq!(app.row_counts().await, before);
    }
    app.ok_as(
        &keeper,
        RESIDE,
        json!({ "m": m2, "h": h3, "from": "2022-05-01" }),
    )
    .await;
    assert_eq!(
        without(&app, &p.hg, "2022-04-30").await,
        (4, vec!["X-KV3".to_owned()], vec!["Y-TDP1".to_owned()])
    );
    assert_eq!(
        without(&app, &p.hg, "2022-05-01").await,
        (4, vec!["X-AP2".to_owned()], vec!["Y-TDP1".to_owned()])
    );

    // X-KV3 merged into X-AP1 on 1/7/2023: its residents live in X-AP1 from that day, its
    // branch's link ends.
    let merge = "mutation($s: [ID!]!, $t: ID!, $on: Date!) { mergeHamlets(sourceIds: $s, targetId: $t, on: $on) { code } }";
    for (s, t, on, expect) in [
        (json!([h3]), &h1, "2010-01-01", "CONFLICT"),
        (json!([h1]), &h1, "2023-07-01", "VALIDATION"),
        (json!([]), &h1, "2023-07-01", "VALIDATION"),
    ] {
        let before = app.row_counts().await;
        let r = app
            .gql_as(&keeper, merge, json!({ "s": s, "t": t, "on": on }))
            .await;
        assert_eq!(error_code(&r), expect, "{s}: {r:#}");
        assert_eq!(app.row_counts().await, before);
    }
    app.ok_as(
        &keeper,
        merge,
        json!({ "s": [h3], "t": h1, "on": "2023-07-01" }),
    )
    .await;
    assert_eq!(
        without(&app, &p.hg, "2023-06-30").await,
        (4, vec!["X-AP2".to_owned()], vec!["Y-TDP1".to_owned()])
    );
    assert_eq!(
        without(&app, &p.hg, "2023-07-01").await,
        (3, vec!["X-AP2".to_owned()], vec!["Y-TDP1".to_owned()])
    );
    // The committee's own subtree leaves the residential group of the other one out.
    assert_eq!(
        without(&app, &p.gc, "2023-07-01").await,
        (2, vec!["X-AP2".to_owned()], vec![])
    );
    let hamlets = "query($u: ID!, $on: Date) { unit(id: $u) { hamlets(on: $on) { hamlet { code kind } branch { code } members } } }";
    let d = app
        .ok(hamlets, json!({ "u": p.gc, "on": "2023-06-30" }))
        .await;
    assert_eq!(
        d["unit"]["hamlets"],
        json!([
            { "hamlet": { "code": "X-AP1", "kind": "HAMLET" }, "branch": { "code": "HG-D1-X-A1" }, "members": 1 },
            { "hamlet": { "code": "X-AP2", "kind": "HAMLET" }, "branch": { "code": "HG-D1-X-A2" }, "members": 0 },
            { "hamlet": { "code": "X-KV3", "kind": "WARD_AREA" }, "branch": { "code": "HG-D1-X-A3" }, "members": 1 }
        ])
    );
    let d = app
        .ok(hamlets, json!({ "u": p.gc, "on": "2023-07-01" }))
        .await;
    assert_eq!(
        d["unit"]["hamlets"],
        json!([
            { "hamlet": { "code": "X-AP1", "kind": "HAMLET" }, "branch": { "code": "HG-D1-X-A1" }, "members": 2 },
            { "hamlet": { "code": "X-AP2", "kind": "HAMLET" }, "branch": { "code": "HG-D1-X-A2" }, "members": 0 }
        ])
    );
    // Bình's history, kept: set, set, merged.
    let d = app
        .ok(
            "query($m: ID!) { member(id: $m) { residences { hamlet { code } from to reason } } }",
            json!({ "m": m2 }),
        )
        .await;
    assert_eq!(
        d["member"]["residences"],
        json!([
            { "hamlet": { "code": "X-AP2" }, "from": "2016-01-01", "to": "2022-05-01", "reason": "SET" },
            { "hamlet": { "code": "X-KV3" }, "from": "2022-05-01", "to": "2023-07-01", "reason": "SET" },
            { "hamlet": { "code": "X-AP1" }, "from": "2023-07-01", "to": null, "reason": "MERGED" }
        ])
    );
    let d = app
        .ok(
            "query($u: ID!) { unit(id: $u) { hamlets(on: \"2023-06-30\") { hamlet { code validTo mergedInto { code } branchLinks { branch { code } from to } } } } }",
            json!({ "u": p.gc }),
        )
        .await;
    assert_eq!(
        d["unit"]["hamlets"][2]["hamlet"],
        json!({ "code": "X-KV3", "validTo": "2023-07-01", "mergedInto": { "code": "X-AP1" },
                "branchLinks": [{ "branch": { "code": "HG-D1-X-A3" }, "from": "2021-03-01", "to": "2023-07-01" }] })
    );

    // Ending: refused while members live there; X-AP2, empty, ends on 1/1/2024.
    let end = "mutation($h: ID!, $on: Date!) { endHamlet(hamletId: $h, on: $on) { code validTo } }";
    let r = app
        .gql_as(&keeper, end, json!({ "h": h1, "on": "2024-01-01" }))
        .await;
    assert_eq!(error_code(&r), "CONFLICT", "{r:#}");
    let r = app
        .ok_as(&keeper, end, json!({ "h": h2, "on": "2024-01-01" }))
        .await;
    assert_eq!(
        r["endHamlet"],
        json!({ "code": "X-AP2", "validTo": "2024-01-01" })
    );
    // Its branch's link ends with it, on the same day (the row is closed, not left open).
    let d = app
        .ok(
            "query($u: ID!) { unit(id: $u) { hamlets(on: \"2023-12-31\") { hamlet { code branchLinks { branch { code } from to } } } } }",
            json!({ "u": p.gc }),
        )
        .await;
    let ended = d["unit"]["hamlets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hamlet"]["code"] == "X-AP2")
        .unwrap_or_else(|| panic!("X-AP2 on 31/12/2023: {d:#}"));
    assert_eq!(
        ended["hamlet"]["branchLinks"],
        json!([{ "branch": { "code": "HG-D1-X-A2" }, "from": "2015-01-01", "to": "2024-01-01" }]),
        "{d:#}"
    );
    assert_eq!(
        without(&app, &p.hg, "2024-01-01").await,
        (2, vec![], vec!["Y-TDP1".to_owned()])
    );
    // Nobody moves into a hamlet that has ended.
    let r = app
        .gql_as(
            &keeper,
            RESIDE,
            json!({ "m": m3, "h": h2, "from": "2024-02-01" }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");

    // Who keeps the registry: a secretary of the other grassroots branch may not link the
    // committee's branches, nor record a hamlet there.
    let other = app
        .account("bithu_gb", &[("secretary", Some(&p.gb))], None)
        .await;
    let r = app
        .gql_as(
            &other,
            LINK,
            json!({ "h": h1, "u": a2, "from": "2024-02-01" }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    let r = app
        .gql_as(
            &other,
            RECORD,
            json!({ "i": { "unitId": p.gc, "code": "Z9", "name": "Ấp", "kind": "HAMLET", "from": "2020-01-01" } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    // Its own residential group is its to keep.
    let r = app
        .gql_as(&other, WITHOUT, json!({ "u": p.gb, "on": "2024-01-01" }))
        .await;
    assert_eq!(r["data"]["hamletsWithout"]["lookedAt"], json!(1), "{r:#}");

    // The console's targets page, as of the end of 2023, and its download.
    app.account("tinh", &[("organization_department", Some(&p.hg))], None)
        .await;
    let mut c = crate::console::Plain::new(&app);
    c.get("/login").await;
    let csrf = c.csrf();
    let (status, _) = c
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "tinh"),
                ("password", TEST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (status, page) = c.get("/targets?unit=HG&year=2023").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("1 chưa có đảng viên cư trú, 1 chưa có chi bộ; 3 ấp, khu vực, tổ dân phố vào ngày 31/12/2023"),
        "{page}"
    );
    assert!(
        page.contains("Ấp X-AP2") && page.contains("Ấp Y-TDP1") && !page.contains("Ấp X-AP1"),
        "{page}"
    );
    let (status, csv) = c
        .get("/reports/hamlets-without.csv?unit=HG&on=2023-07-01&bom=0")
        .await;
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.contains("không có đảng viên,X-AP2,Ấp X-AP2,ấp,HG-D1-X,HG-D1-X-A2,0"),
        "{csv}"
    );

    // The same through `memberflow report`.
    let csv = report(
        &app,
        &[
            "hamlets-without",
            "--on",
            "2023-07-01",
            "--unit",
            "HG",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        csv,
        "Danh sách,Mã,Tên,Loại,Đảng bộ cơ sở,Chi bộ ấp,Đảng viên cư trú\n\
         không có đảng viên,X-AP2,Ấp X-AP2,ấp,HG-D1-X,HG-D1-X-A2,0\n\
         không có chi bộ,Y-TDP1,Ấp Y-TDP1,tổ dân phố,HG-D2-Y,,1\n",
        "{csv}"
    );
    let table = report(
        &app,
        &["hamlets-without", "--on", "2023-07-01", "--lang", "en"],
    );
    assert!(
        table.contains("3 looked at, 1 without members, 1 without a branch"),
        "{table}"
    );
}

/// Each hamlet of `unit` on `on` with its branch that day and every link it ever had.
async fn links(app: &TestApp, unit: &str, on: &str) -> Value {
    let d = app
        .ok(
            "query($u: ID!, $on: Date) { unit(id: $u) { hamlets(on: $on) { hamlet { code branchLinks { branch { code } from to } } branch { code } } } }",
            json!({ "u": unit, "on": on }),
        )
        .await;
    d["unit"]["hamlets"].clone()
}

#[tokio::test]
async fn dissolving_or_merging_a_hamlet_branch_closes_its_links_and_a_merged_hamlet_branch_takes_them_over()
 {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut branches = Vec::new();
    let mut hamlets = Vec::new();
    for i in 1..=4 {
        branches.push(hamlet_branch(&app, &format!("HG-D1-X-A{i}"), &p.gc, "2005-01-01").await);
        hamlets.push(hamlet(&app, &p.gc, &format!("X-AP{i}"), "HAMLET", "2010-01-01").await);
    }
    // The commune's secretary links its hamlet branches.
    let secretary = holder(&app, "secretary", &p.gc).await;
    for i in 0..3 {
        app.ok_as(
            &secretary,
            LINK,
            json!({ "h": hamlets[i], "u": branches[i], "from": "2015-01-01" }),
        )
        .await;
    }
    // X-AP4's branch is linked from 1/9/2024 only.
    app.ok_as(
        &secretary,
        LINK,
        json!({ "h": hamlets[3], "u": branches[3], "from": "2024-09-01" }),
    )
    .await;
    let dissolve = "mutation($u: ID!, $on: Date!) { dissolveUnit(input: { unitId: $u, effectiveDate: $on }) { code validTo } }";
    let merge = "mutation($s: [ID!]!, $t: ID!, $on: Date!) { mergeUnits(input: { sourceIds: $s, targetId: $t, effectiveDate: $on }) { code } }";

    // A3 dissolved on 1/3/2024: X-AP3's link ends that day (in the same transaction).
    app.ok(dissolve, json!({ "u": branches[2], "on": "2024-03-01" }))
        .await;
    // A2 merged into A1 (a hamlet branch) on 1/6/2024: X-AP2's branch is A1 from that day.
    app.ok(
        merge,
        json!({ "s": [branches[1]], "t": branches[0], "on": "2024-06-01" }),
    )
    .await;
    let link = |code: &str, from: &str, to: Option<&str>| json!({ "branch": { "code": code }, "from": from, "to": to });
    let on_may = links(&app, &p.gc, "2024-05-31").await;
    let on_june = links(&app, &p.gc, "2024-06-01").await;
    assert_eq!(
        on_june,
        json!([
            { "hamlet": { "code": "X-AP1", "branchLinks": [link("HG-D1-X-A1", "2015-01-01", None)] },
              "branch": { "code": "HG-D1-X-A1" } },
            { "hamlet": { "code": "X-AP2", "branchLinks": [
                link("HG-D1-X-A2", "2015-01-01", Some("2024-06-01")),
                link("HG-D1-X-A1", "2024-06-01", None)] },
              "branch": { "code": "HG-D1-X-A1" } },
            { "hamlet": { "code": "X-AP3", "branchLinks": [link("HG-D1-X-A3", "2015-01-01", Some("2024-03-01"))] },
              "branch": null },
            { "hamlet": { "code": "X-AP4", "branchLinks": [link("HG-D1-X-A4", "2024-09-01", None)] },
              "branch": null }
        ]),
        "{on_june:#}"
    );
    // The day before the merge, X-AP2's branch was still A2.
    assert_eq!(
        on_may[1]["branch"],
        json!({ "code": "HG-D1-X-A2" }),
        "{on_may:#}"
    );
    assert_eq!(
        without(&app, &p.gc, "2024-06-01").await.2,
        vec!["X-AP3".to_owned(), "X-AP4".to_owned()]
    );

    // A1 merged into a branch that is not a hamlet branch on 1/8/2024: both its links end and
    // none moves (X-AP1 and X-AP2 are without a branch from that day).
    app.ok(
        merge,
        json!({ "s": [branches[0]], "t": p.b1, "on": "2024-08-01" }),
    )
    .await;
    let on_august = links(&app, &p.gc, "2024-08-01").await;
    assert_eq!(
        on_august[0]["hamlet"]["branchLinks"],
        json!([link("HG-D1-X-A1", "2015-01-01", Some("2024-08-01"))]),
        "{on_august:#}"
    );
    assert_eq!(
        on_august[1]["hamlet"]["branchLinks"],
        json!([
            link("HG-D1-X-A2", "2015-01-01", Some("2024-06-01")),
            link("HG-D1-X-A1", "2024-06-01", Some("2024-08-01"))
        ]),
        "{on_august:#}"
    );
    assert_eq!(on_august[0]["branch"], Value::Null);
    assert_eq!(on_august[1]["branch"], Value::Null);

    // Refused, nothing written: dissolving A4 before its link begins (history is not rewritten).
    let before = app.row_counts().await;
    let r = app
        .gql(dissolve, json!({ "u": branches[3], "on": "2024-08-15" }))
        .await;
    assert_eq!(error_code(&r), "CONFLICT", "{r:#}");
    assert_eq!(app.row_counts().await, before);
    // After its link began it may go, and the link ends with it.
    let r = app
        .ok(dissolve, json!({ "u": branches[3], "on": "2024-10-01" }))
        .await;
    assert_eq!(r["dissolveUnit"]["validTo"], json!("2024-10-01"));
    let on_october = links(&app, &p.gc, "2024-10-01").await;
    assert_eq!(
        on_october[3]["hamlet"]["branchLinks"],
        json!([link("HG-D1-X-A4", "2024-09-01", Some("2024-10-01"))]),
        "{on_october:#}"
    );
}

/// The hamlets of a commune merged into another one count under the commune that took it over
/// (and under the one that took that one over in turn), from the merge's day and not before;
/// a link to a hamlet branch that was dissolved stops counting that day; the whole
/// organization (every root) through `memberflow report`.
#[tokio::test]
async fn the_hamlets_of_a_merged_commune_count_under_the_commune_that_took_it_over() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let c2 = unit(
        &app,
        "HG-D2-Z",
        "GRASSROOTS_COMMITTEE",
        Some(&p.d2),
        "2005-01-01",
    )
    .await;
    let c3 = unit(
        &app,
        "HG-D2-W",
        "GRASSROOTS_COMMITTEE",
        Some(&p.d2),
        "2005-01-01",
    )
    .await;
    let a1 = hamlet_branch(&app, "HG-D1-X-A1", &p.gc, "2005-01-01").await;
    let a2 = hamlet_branch(&app, "HG-D2-Z-A2", &c2, "2005-01-01").await;
    let hx = hamlet(&app, &p.gc, "X-AP1", "HAMLET", "2010-01-01").await;
    let hz = hamlet(&app, &c2, "Z-AP1", "HAMLET", "2010-01-01").await;
    hamlet(&app, &c3, "W-AP1", "HAMLET", "2010-01-01").await;
    // Each commune's secretary links its hamlet branch and records where its members live.
    let (x, z) = (
        holder(&app, "secretary", &p.gc).await,
        holder(&app, "secretary", &c2).await,
    );
    app.ok_as(&x, LINK, json!({ "h": hx, "u": a1, "from": "2015-01-01" }))
        .await;
    app.ok_as(&z, LINK, json!({ "h": hz, "u": a2, "from": "2015-01-01" }))
        .await;
    let m = registered(&app, &p.b1, "Nguyễn Văn An").await;
    app.ok_as(&x, RESIDE, json!({ "m": m, "h": hx, "from": "2016-01-01" }))
        .await;
    // Another organization with a hamlet, for the question over every root.
    let q = unit(&app, "Q", "PROVINCE", None, "2004-01-01").await;
    let qc = unit(&app, "Q-X", "GRASSROOTS_COMMITTEE", Some(&q), "2005-01-01").await;
    hamlet(&app, &qc, "Q-AP1", "HAMLET", "2010-01-01").await;
    // A2 is dissolved on 1/6/2021 (Z-AP1's link ends), the commune X is merged into Z on
    // 1/1/2022 (its branches, A1 among them, move with it) and Z into W on 1/1/2023.
    app.ok(
        "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": a2, "effectiveDate": "2021-06-01" } }),
    )
    .await;
    for (s, t, on) in [(&p.gc, &c2, "2022-01-01"), (&c2, &c3, "2023-01-01")] {
        app.ok(
            "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
            json!({ "i": { "sourceIds": [s], "targetId": t, "effectiveDate": on } }),
        )
        .await;
    }
    let s = |v: &[&str]| v.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    // Before the dissolution Z-AP1 has a branch; from that day it has none.
    assert_eq!(
        without(&app, &p.d2, "2021-05-31").await,
        (2, s(&["W-AP1", "Z-AP1"]), s(&["W-AP1"]))
    );
    assert_eq!(
        without(&app, &p.d2, "2021-12-31").await,
        (2, s(&["W-AP1", "Z-AP1"]), s(&["W-AP1", "Z-AP1"]))
    );
    assert_eq!(
        without(&app, &p.d1, "2021-12-31").await,
        (1, s(&[]), s(&[]))
    );
    // From the first merge X-AP1 counts under Z (and its district), no longer under D1.
    assert_eq!(
        without(&app, &p.d1, "2022-06-30").await,
        (0, s(&[]), s(&[]))
    );
    assert_eq!(
        without(&app, &p.d2, "2022-06-30").await,
        (3, s(&["W-AP1", "Z-AP1"]), s(&["W-AP1", "Z-AP1"]))
    );
    assert_eq!(
        without(&app, &c2, "2022-06-30").await,
        (2, s(&["Z-AP1"]), s(&["Z-AP1"]))
    );
    assert_eq!(
        without(&app, &c3, "2022-06-30").await,
        (1, s(&["W-AP1"]), s(&["W-AP1"]))
    );
    let hamlets = "query($u: ID!, $on: Date) { unit(id: $u) { hamlets(on: $on) { hamlet { code } branch { code } members } } }";
    let d = app
        .ok(hamlets, json!({ "u": c2, "on": "2022-06-30" }))
        .await;
    assert_eq!(
        d["unit"]["hamlets"],
        json!([
            { "hamlet": { "code": "X-AP1" }, "branch": { "code": "HG-D1-X-A1" }, "members": 1 },
            { "hamlet": { "code": "Z-AP1" }, "branch": null, "members": 0 }
        ])
    );
    // From the second merge both count under W: a chain of merges.
    assert_eq!(
        without(&app, &c3, "2023-06-30").await,
        (3, s(&["W-AP1", "Z-AP1"]), s(&["W-AP1", "Z-AP1"]))
    );
    assert_eq!(
        without(&app, &p.hg, "2023-06-30").await,
        (3, s(&["W-AP1", "Z-AP1"]), s(&["W-AP1", "Z-AP1"]))
    );
    let d = app
        .ok(hamlets, json!({ "u": c3, "on": "2023-06-30" }))
        .await;
    assert_eq!(
        d["unit"]["hamlets"],
        json!([
            { "hamlet": { "code": "W-AP1" }, "branch": null, "members": 0 },
            { "hamlet": { "code": "X-AP1" }, "branch": { "code": "HG-D1-X-A1" }, "members": 1 },
            { "hamlet": { "code": "Z-AP1" }, "branch": null, "members": 0 }
        ])
    );
    // Z no longer exists then: refused, as for any unit on a day it does not exist.
    let r = app
        .gql(WITHOUT, json!({ "u": c2, "on": "2023-06-30" }))
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
    // Every root: Q's hamlet too.
    let table = report(
        &app,
        &["hamlets-without", "--on", "2023-06-30", "--lang", "en"],
    );
    assert!(
        table.contains("4 looked at, 3 without members, 3 without a branch"),
        "{table}"
    );
}
