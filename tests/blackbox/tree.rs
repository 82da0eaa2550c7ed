//! The organization tree and its history: creating, moving, merging and dissolving units, and
//! reading the tree as it stood on a date.

use memberflow_tests::spawn_app;
use serde_json::json;

use crate::support::{CREATE_UNIT, member, province, unit};

const SUBTREE: &str = "query($code: String!, $on: Date) { unit(code: $code) { subtree(on: $on) { depth unit { code } } } }";

fn codes(d: &serde_json::Value) -> Vec<String> {
    d["unit"]["subtree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["unit"]["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_unit_is_found_by_id_and_by_code_with_its_parent_and_children() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let d = app
        .ok(
            "query($id: ID!) { unit(id: $id) { code kind kindLabel parent { code } children { code } ancestors { code } } }",
            json!({ "id": p.gc }),
        )
        .await;
    assert_eq!(d["unit"]["code"], "HG-D1-X");
    assert_eq!(d["unit"]["kind"], "GRASSROOTS_COMMITTEE");
    assert_eq!(d["unit"]["kindLabel"], "Đảng bộ cơ sở");
    assert_eq!(d["unit"]["parent"]["code"], "HG-D1");
    assert_eq!(
        d["unit"]["children"],
        json!([{ "code": "HG-D1-X-1" }, { "code": "HG-D1-X-2" }])
    );
    assert_eq!(
        d["unit"]["ancestors"],
        json!([{ "code": "HG-D1" }, { "code": "HG" }])
    );
    let d = app.ok("{ roots { code } }", json!({})).await;
    assert_eq!(d["roots"], json!([{ "code": "HG" }]));
}

#[tokio::test]
async fn a_merge_moves_children_and_members_and_the_old_tree_stays_answerable() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = member(&app, &p.gb, "Nguyễn Thị Lan").await;
    // Hậu Giang was merged into Cần Thơ on 12/6/2025.
    let ct = unit(&app, "CT", "PROVINCE", None, "2025-06-12").await;
    let d = app
        .ok(
            "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
            json!({ "i": { "sourceIds": [p.hg], "targetId": ct, "effectiveDate": "2025-06-12" } }),
        )
        .await;
    assert_eq!(d["mergeUnits"]["code"], "CT");

    let before = app
        .ok(SUBTREE, json!({ "code": "HG", "on": "2025-06-11" }))
        .await;
    assert_eq!(
        codes(&before),
        [
            "HG",
            "HG-D1",
            "HG-D2",
            "HG-D1-X",
            "HG-D2-Y",
            "HG-D1-X-1",
            "HG-D1-X-2"
        ]
    );
    let after = app
        .ok(SUBTREE, json!({ "code": "CT", "on": "2025-06-12" }))
        .await;
    assert_eq!(
        codes(&after),
        [
            "CT",
            "HG-D1",
            "HG-D2",
            "HG-D1-X",
            "HG-D2-Y",
            "HG-D1-X-1",
            "HG-D1-X-2"
        ]
    );
    // HG no longer exists after the merge, and says where it went.
    let d = app
        .ok(
            "{ unit(code: \"HG\") { validTo existsOn(date: \"2025-06-12\") successor { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["unit"],
        json!({ "validTo": "2025-06-12", "existsOn": false, "successor": { "code": "CT" } })
    );
    let r = app
        .gql(SUBTREE, json!({ "code": "HG", "on": "2025-07-01" }))
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "VALIDATION");
    // The roots of the forest differ on each side of the merge.
    let d = app
        .ok(
            "{ a: roots(on: \"2025-06-11\") { code } b: roots(on: \"2025-06-12\") { code } }",
            json!({}),
        )
        .await;
    assert_eq!(d["a"], json!([{ "code": "HG" }]));
    assert_eq!(d["b"], json!([{ "code": "CT" }]));
    // The member still belongs to the branch, which now sits under CT.
    let d = app
        .ok(
            "query($id: ID!) { member(id: $id) { unit { code ancestors { code } } } }",
            json!({ "id": m }),
        )
        .await;
    assert_eq!(
        d["member"]["unit"]["ancestors"],
        json!([{ "code": "HG-D2" }, { "code": "CT" }])
    );
}

/// A unit asked for with its children is read with them in one statement when its selection
/// asks for one day; every way of asking answers as the children read apart.
#[tokio::test]
async fn a_unit_read_with_its_children_answers_for_the_day_each_selection_asks() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let ct = unit(&app, "CT", "PROVINCE", None, "2025-06-12").await;
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [p.hg], "targetId": ct, "effectiveDate": "2025-06-12" } }),
    )
    .await;
    let districts = json!([{ "code": "HG-D1" }, { "code": "HG-D2" }]);
    // By code, each on its own day, in one request.
    let d = app
        .ok(
            r#"{ hg: unit(code: "HG") { code children(on: "2025-06-11") { code } }
                 ct: unit(code: "CT") { code children(on: "2025-06-12") { code } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(d["hg"], json!({ "code": "HG", "children": districts }));
    assert_eq!(d["ct"], json!({ "code": "CT", "children": districts }));
    // Two days in one selection: each answered for its own.
    let d = app
        .ok(
            r#"query($id: ID!) { unit(id: $id) { before: children(on: "2025-06-11") { code }
                 after: children(on: "2025-06-12") { code } } }"#,
            json!({ "id": p.hg }),
        )
        .await;
    assert_eq!(d["unit"]["before"], districts);
    assert_eq!(d["unit"]["after"], json!([]));
    // The day through a variable; today (after the merge) by default.
    let q = "query($id: ID!, $on: Date) { unit(id: $id) { code children(on: $on) { code } } }";
    let d = app.ok(q, json!({ "id": p.hg, "on": "2025-06-11" })).await;
    assert_eq!(d["unit"]["children"], districts);
    let d = app.ok(q, json!({ "id": p.hg })).await;
    assert_eq!(d["unit"], json!({ "code": "HG", "children": [] }));
    let d = app.ok(q, json!({ "id": ct })).await;
    assert_eq!(d["unit"]["children"], districts);
    // A branch has none; an unknown unit is not found, children asked or not.
    let d = app.ok(q, json!({ "id": p.b1 })).await;
    assert_eq!(d["unit"]["children"], json!([]));
    for q in [
        r#"{ unit(code: "NOPE") { children { code } } }"#,
        r#"{ unit(code: "NOPE") { code } }"#,
    ] {
        let r = app.gql(q, json!({})).await;
        assert_eq!(memberflow_tests::error_code(&r), "NOT_FOUND", "{r:#}");
    }
    let r = app
        .gql(
            "query($id: ID!) { unit(id: $id) { children { code } } }",
            json!({ "id": "0190a0a0-0000-7000-8000-000000000000" }),
        )
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "NOT_FOUND", "{r:#}");
}

#[tokio::test]
async fn merging_branches_moves_their_members_with_history() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let a = member(&app, &p.b1, "Trần Văn An").await;
    member(&app, &p.b2, "Lê Thị Bình").await;
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [p.b1], "targetId": p.b2, "effectiveDate": "2024-03-01" } }),
    )
    .await;
    let q = "query($id: ID!, $on: Date) { unit(id: $id) { memberCount(on: $on) } }";
    let old = app.ok(q, json!({ "id": p.b2, "on": "2024-02-29" })).await;
    let new = app.ok(q, json!({ "id": p.b2, "on": "2024-03-01" })).await;
    assert_eq!(old["unit"]["memberCount"], 1);
    assert_eq!(new["unit"]["memberCount"], 2);
    let d = app
        .ok(
            "query($id: ID!) { member(id: $id) { unitHistory { unitId validFrom validTo reason } } }",
            json!({ "id": a }),
        )
        .await;
    assert_eq!(
        d["member"]["unitHistory"],
        json!([
            { "unitId": p.b1, "validFrom": "2015-01-01", "validTo": "2024-03-01", "reason": "REGISTERED" },
            { "unitId": p.b2, "validFrom": "2024-03-01", "validTo": null, "reason": "MERGED" }
        ])
    );
}

#[tokio::test]
async fn the_district_level_is_abolished_by_moving_grassroots_up_and_dissolving_districts() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mv = "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }";
    for g in [&p.gc, &p.gb] {
        app.ok(
            mv,
            json!({ "i": { "unitId": g, "newParentId": p.hg, "effectiveDate": "2025-07-01" } }),
        )
        .await;
    }
    let dissolve = "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { validTo } }";
    for d in [&p.d1, &p.d2] {
        let r = app
            .ok(
                dissolve,
                json!({ "i": { "unitId": d, "effectiveDate": "2025-07-01" } }),
            )
            .await;
        assert_eq!(r["dissolveUnit"]["validTo"], "2025-07-01");
    }
    let q = "query($on: Date) { unit(code: \"HG\") { children(on: $on) { code } } }";
    let before = app.ok(q, json!({ "on": "2025-06-30" })).await;
    let after = app.ok(q, json!({ "on": "2025-07-01" })).await;
    assert_eq!(
        before["unit"]["children"],
        json!([{ "code": "HG-D1" }, { "code": "HG-D2" }])
    );
    assert_eq!(
        after["unit"]["children"],
        json!([{ "code": "HG-D1-X" }, { "code": "HG-D2-Y" }])
    );
    let d = app
        .ok("{ unit(code: \"HG-D1-X-1\") { a: ancestors(on: \"2025-06-30\") { code } b: ancestors(on: \"2025-07-01\") { code } } }", json!({}))
        .await;
    assert_eq!(
        d["unit"]["a"],
        json!([{ "code": "HG-D1-X" }, { "code": "HG-D1" }, { "code": "HG" }])
    );
    assert_eq!(
        d["unit"]["b"],
        json!([{ "code": "HG-D1-X" }, { "code": "HG" }])
    );
}

#[tokio::test]
async fn bad_tree_changes_get_their_code_and_change_nothing() {
    let app = spawn_app().await;
    let p = province(&app).await;
    member(&app, &p.b1, "Phạm Văn Cường").await;
    let before = app.row_counts().await;
    let mv = "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }";
    let cases = [
        // A unit made its own ancestor.
        (
            mv,
            json!({ "i": { "unitId": p.d1, "newParentId": p.gc, "effectiveDate": "2024-01-01" } }),
            "VALIDATION",
        ),
        (
            mv,
            json!({ "i": { "unitId": p.gc, "newParentId": p.gc, "effectiveDate": "2024-01-01" } }),
            "VALIDATION",
        ),
        // Unknown and malformed ids.
        (
            mv,
            json!({ "i": { "unitId": uuid::Uuid::now_v7().to_string(), "newParentId": p.hg, "effectiveDate": "2024-01-01" } }),
            "NOT_FOUND",
        ),
        (
            mv,
            json!({ "i": { "unitId": "not-a-uuid", "newParentId": p.hg, "effectiveDate": "2024-01-01" } }),
            "VALIDATION",
        ),
        // A change dated before the current period began rewrites the past.
        (
            mv,
            json!({ "i": { "unitId": p.gc, "newParentId": p.d2, "effectiveDate": "2004-06-01" } }),
            "VALIDATION",
        ),
        // A malformed date.
        (
            mv,
            json!({ "i": { "unitId": p.gc, "newParentId": p.d2, "effectiveDate": "31/12/2024" } }),
            "VALIDATION",
        ),
        // Duplicate code, parent at a lower level.
        (
            CREATE_UNIT,
            json!({ "i": { "code": "HG", "name": "x", "kind": "PROVINCE", "validFrom": "2020-01-01" } }),
            "CONFLICT",
        ),
        (
            CREATE_UNIT,
            json!({ "i": { "code": "NEW", "name": "x", "kind": "DISTRICT", "parentId": p.b1, "validFrom": "2020-01-01" } }),
            "VALIDATION",
        ),
        (
            CREATE_UNIT,
            json!({ "i": { "code": "has space", "name": "x", "kind": "BRANCH", "parentId": p.gc, "validFrom": "2020-01-01" } }),
            "VALIDATION",
        ),
        // A unit with members or children cannot be dissolved.
        (
            "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { code } }",
            json!({ "i": { "unitId": p.b1, "effectiveDate": "2024-01-01" } }),
            "CONFLICT",
        ),
        (
            "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { code } }",
            json!({ "i": { "unitId": p.gc, "effectiveDate": "2024-01-01" } }),
            "CONFLICT",
        ),
        // Merges across levels, into a non-branch while members remain, into itself.
        (
            "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
            json!({ "i": { "sourceIds": [p.gb], "targetId": p.d1, "effectiveDate": "2024-01-01" } }),
            "VALIDATION",
        ),
        (
            "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
            json!({ "i": { "sourceIds": [p.d1], "targetId": p.d1, "effectiveDate": "2024-01-01" } }),
            "VALIDATION",
        ),
        (
            "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
            json!({ "i": { "sourceIds": [p.b1], "targetId": p.gb, "effectiveDate": "2024-01-01" } }),
            "VALIDATION",
        ),
    ];
    for (q, vars, code) in cases {
        let r = app.gql(q, vars.clone()).await;
        assert_eq!(memberflow_tests::error_code(&r), code, "{vars} gave {r:#}");
        assert!(
            r["errors"][0]["extensions"]["messageVi"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(
            r["errors"][0]["extensions"]["messageEn"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused change wrote something"
    );
}

#[tokio::test]
async fn lookups_of_unknown_or_malformed_ids_are_not_found_or_validation() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let q = "query($id: ID!) { unit(id: $id) { code } }";
    assert_eq!(app.err_code(q, json!({ "id": unknown })).await, "NOT_FOUND");
    assert_eq!(app.err_code(q, json!({ "id": "12" })).await, "VALIDATION");
    assert_eq!(
        app.err_code("{ unit(code: \"NOPE\") { code } }", json!({}))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err_code("{ unit { code } }", json!({})).await,
        "VALIDATION"
    );
    let q = "query($id: ID!) { member(id: $id) { fullName } }";
    assert_eq!(app.err_code(q, json!({ "id": unknown })).await, "NOT_FOUND");
    assert_eq!(app.err_code(q, json!({ "id": "x" })).await, "VALIDATION");
}
