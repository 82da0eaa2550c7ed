//! The tree's ancestry kept as data (unit_ancestry) and the sessions cached under a
//! revocation epoch: black-box checks that a move of a unit changes, from its date on and not
//! before, which subtree lists its cases and who may read them, that `check --history` finds
//! the ancestry true to the parent links, and that revocations through the API end a
//! session's rights on the very next request although its principal is cached.

use memberflow_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

use crate::support::province;

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }";

async fn admission_case(app: &TestApp, branch: &str, name: &str) -> String {
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "admission", "unitId": branch, "title": name,
                "inputs": { "person_id": format!("P-{name}"), "full_name": name, "date_of_birth": "2000-01-01",
                    "unit": branch, "education_level": "upper_secondary", "helper_member": "M-1" } } }),
        )
        .await;
    d["openCase"]["case"]["id"].as_str().unwrap().to_owned()
}

const SUBTREE_CASES: &str = "query($u: ID!) { cases(filter: { unitId: $u, includeSubtree: true }) { totalCount nodes { id unit { code } } } }";

/// The ids of the cases listed in the subtree of `unit`, and the list's count.
async fn subtree_cases(app: &TestApp, token: Option<&str>, unit: &str) -> (Vec<String>, u64) {
    let r = match token {
        Some(t) => app.gql_as(t, SUBTREE_CASES, json!({ "u": unit })).await,
        None => app.gql(SUBTREE_CASES, json!({ "u": unit })).await,
    };
    assert!(r.get("errors").is_none(), "{r}");
    let ids = r["data"]["cases"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, r["data"]["cases"]["totalCount"].as_u64().unwrap())
}

fn codes(r: &Value) -> Vec<String> {
    r["unit"]["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_owned())
        .collect()
}

fn check_history(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
        .args(["check", "--history"])
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_moved_unit_takes_its_cases_and_their_readers_with_it_from_the_move_s_date() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.set_today("2026-11-25");
    let case = admission_case(&app, &p.b1, "Nguyễn Văn Chuyển").await;
    let sc_d1 = app
        .account("sc_d1", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let sc_d2 = app
        .account("sc_d2", &[("standing_committee", Some(&p.d2))], None)
        .await;
    let read = "query($id: ID!) { case(id: $id) { id } }";

    // Before: the branch's committee sits under D1.
    assert!(subtree_cases(&app, None, &p.d1).await.0.contains(&case));
    assert!(subtree_cases(&app, None, &p.d2).await.0.is_empty());
    assert!(
        app.gql_as(&sc_d1, read, json!({ "id": case }))
            .await
            .get("errors")
            .is_none()
    );
    assert_eq!(
        error_code(&app.gql_as(&sc_d2, read, json!({ "id": case })).await),
        "FORBIDDEN"
    );

    // The grassroots committee (with both branches) moves under D2 from 1/12/2026.
    app.ok(
        "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": p.gc, "newParentId": p.d2, "effectiveDate": "2026-12-01" } }),
    )
    .await;
    // Still November: nothing has changed yet.
    assert!(subtree_cases(&app, None, &p.d1).await.0.contains(&case));
    assert_eq!(
        error_code(&app.gql_as(&sc_d2, read, json!({ "id": case })).await),
        "FORBIDDEN"
    );

    app.set_today("2026-12-01");
    let (d1_cases, d1_count) = subtree_cases(&app, None, &p.d1).await;
    assert!(d1_cases.is_empty());
    assert_eq!(d1_count, 0);
    let (d2_cases, d2_count) = subtree_cases(&app, None, &p.d2).await;
    assert_eq!(d2_cases, vec![case.clone()]);
    assert_eq!(d2_count, 1);
    // The committees' rights follow the tree of the day.
    assert_eq!(
        error_code(&app.gql_as(&sc_d1, read, json!({ "id": case })).await),
        "FORBIDDEN"
    );
    assert!(
        app.gql_as(&sc_d2, read, json!({ "id": case }))
            .await
            .get("errors")
            .is_none()
    );
    // Lists filtered by the caller's scope agree.
    assert!(
        subtree_cases(&app, Some(&sc_d2), &p.d2)
            .await
            .0
            .contains(&case)
    );
    assert!(subtree_cases(&app, Some(&sc_d1), &p.d1).await.0.is_empty());

    // The ancestry of the branch on either side of the move.
    let q = "query($on: Date) { unit(code: \"HG-D1-X-1\") { ancestors(on: $on) { code } } }";
    assert_eq!(
        codes(&app.ok(q, json!({ "on": "2026-11-30" })).await),
        ["HG-D1-X", "HG-D1", "HG"]
    );
    assert_eq!(
        codes(&app.ok(q, json!({ "on": "2026-12-01" })).await),
        ["HG-D1-X", "HG-D2", "HG"]
    );

    // check --history recomputes the ancestry from the parent links and finds it true.
    let out = check_history(&app);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("ancestry row(s) of the tree: 0 problem(s)"),
        "{stdout}"
    );

    // A row of the ancestry altered behind the store's back is found.
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared("DELETE FROM unit_ancestry WHERE depth = 2")
        .await
        .unwrap();
    let out = check_history(&app);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ancestry row missing"));
}

#[tokio::test]
async fn a_merge_and_a_dissolution_keep_the_subtrees_true() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.set_today("2026-11-25");
    let case = admission_case(&app, &p.b2, "Trần Thị Hợp").await;
    // D1 is merged into D2 on 1/12/2026: its grassroots committee moves under D2.
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [p.d1], "targetId": p.d2, "effectiveDate": "2026-12-01" } }),
    )
    .await;
    app.set_today("2026-12-02");
    assert_eq!(subtree_cases(&app, None, &p.d2).await.0, vec![case.clone()]);
    assert!(subtree_cases(&app, None, &p.hg).await.0.contains(&case));
    // The province still lists every unit below it, the merged district no more.
    let r = app
        .ok(
            "query($id: ID!) { unit(id: $id) { subtree { unit { code } } } }",
            json!({ "id": p.hg }),
        )
        .await;
    let listed: Vec<&str> = r["unit"]["subtree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["unit"]["code"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&"HG-D1-X-2"));
    assert!(!listed.contains(&"HG-D1"));
    // A branch dissolved: gone from the subtree from its date.
    app.ok(
        "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { code } }",
        json!({ "i": { "unitId": p.gb, "effectiveDate": "2026-12-02" } }),
    )
    .await;
    let out = check_history(&app);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn revocations_through_the_api_end_a_cached_session_s_rights_on_the_next_request() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let lan = app
        .account("lan", &[("organization_department", Some(&p.hg))], None)
        .await;
    let q = "{ unit(code: \"HG\") { memberCount } }";
    // Used a few times: the session's principal is now cached.
    for _ in 0..3 {
        assert!(app.gql_as(&lan, q, json!({})).await.get("errors").is_none());
    }
    let revoke = "mutation { revokeRole(username: \"lan\", role: \"organization_department\", unitCode: \"HG\") { username } }";
    app.ok(revoke, json!({})).await;
    assert_eq!(
        error_code(&app.gql_as(&lan, q, json!({})).await),
        "FORBIDDEN"
    );
    // A grant is seen at once too.
    let grant = "mutation { grantRole(username: \"lan\", role: \"organization_department\", unitCode: \"HG\") { username } }";
    app.ok(grant, json!({})).await;
    assert!(app.gql_as(&lan, q, json!({})).await.get("errors").is_none());

    // Logging out ends the token at once, not the account's other session.
    let other = app.session_of("lan").await;
    assert!(
        app.gql_as(&other, q, json!({}))
            .await
            .get("errors")
            .is_none()
    );
    let out = app.gql_as(&lan, "mutation { logout }", json!({})).await;
    assert!(out.get("errors").is_none(), "{out}");
    assert_eq!(
        error_code(&app.gql_as(&lan, q, json!({})).await),
        "UNAUTHENTICATED"
    );
    assert!(
        app.gql_as(&other, q, json!({}))
            .await
            .get("errors")
            .is_none()
    );

    // Disabling the account ends every session of it at once.
    app.ok(
        "mutation { disableAccount(username: \"lan\") { username } }",
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(&app.gql_as(&other, q, json!({})).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn a_subtree_s_cases_are_those_of_its_units_on_the_day_and_no_others() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.set_today("2026-11-25");
    let in_b1 = admission_case(&app, &p.b1, "Trần Thị Một").await;
    let in_b2 = admission_case(&app, &p.b2, "Lê Văn Hai").await;
    let in_gb = admission_case(&app, &p.gb, "Phạm Văn Ba").await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // The subtree is read from the ancestry: the unit and every unit below it, and the
    // count agrees with the list.
    let (hg, n) = subtree_cases(&app, None, &p.hg).await;
    assert_eq!(
        sorted(hg),
        sorted(vec![in_b1.clone(), in_b2.clone(), in_gb.clone()])
    );
    assert_eq!(n, 3);
    let (d1, n) = subtree_cases(&app, None, &p.d1).await;
    assert_eq!(sorted(d1), sorted(vec![in_b1.clone(), in_b2.clone()]));
    assert_eq!(n, 2);
    assert_eq!(
        subtree_cases(&app, None, &p.gb).await,
        (vec![in_gb.clone()], 1)
    );
    assert_eq!(
        subtree_cases(&app, None, &p.b2).await,
        (vec![in_b2.clone()], 1)
    );
    // Without the subtree: the unit's own cases only (none at the district itself).
    let own = app
        .ok(
            "query($u: ID!) { cases(filter: { unitId: $u }) { totalCount } }",
            json!({ "u": p.d1 }),
        )
        .await;
    assert_eq!(own["cases"]["totalCount"], 0);
    // Paged through the subtree: every case once.
    let page = "query($u: ID!, $a: String) { cases(filter: { unitId: $u, includeSubtree: true }, first: 1, after: $a) { pageInfo { hasNextPage endCursor } nodes { id } } }";
    let (mut seen, mut after) = (Vec::new(), Value::Null);
    loop {
        let r = app.ok(page, json!({ "u": p.hg, "a": after })).await;
        for n in r["cases"]["nodes"].as_array().unwrap() {
            seen.push(n["id"].as_str().unwrap().to_owned());
        }
        if !r["cases"]["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = r["cases"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(sorted(seen), sorted(vec![in_b1, in_b2, in_gb]));
    // A unit that does not exist on the day has no subtree to list.
    let later = crate::support::unit(&app, "HG-D3", "DISTRICT", Some(&p.hg), "2027-01-01").await;
    let r = app.gql(SUBTREE_CASES, json!({ "u": later })).await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");
}
