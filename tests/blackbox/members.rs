//! Members: registration of an organization that already runs, lookups, and the cursor
//! connection of a unit's members.

use std::collections::HashSet;

use memberflow_tests::spawn_app;
use serde_json::json;

use crate::support::{REGISTER, holder, member, member_as, official_member_input, province};

const PAGE: &str =
    "query($id: ID!, $first: Int, $after: String, $status: [MemberStatus!], $sub: Boolean) {
  unit(id: $id) { members(first: $first, after: $after, status: $status, includeSubtree: $sub) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id fullName } } } } }";

#[tokio::test]
async fn the_member_connection_pages_through_every_member_once() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(member(&app, &p.b1, &format!("Đảng viên {i:02}")).await);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let d = app
            .ok(PAGE, json!({ "id": p.b1, "first": 5, "after": after }))
            .await;
        let conn = &d["unit"]["members"];
        assert_eq!(conn["totalCount"], 23);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], after.is_some());
        for e in conn["edges"].as_array().unwrap() {
            seen.push(e["node"]["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = Some(conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned());
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, ids, "every member once, in registration order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
}

/// `unit(id) { members(first: N) }` reads the unit with its first page in one statement; the
/// answers are those of the page read apart (by code, or with a filter), and a caller who may
/// not read the members is refused the same way.
#[tokio::test]
async fn a_unit_read_with_its_first_page_of_members_answers_as_the_page_read_apart() {
    let app = spawn_app().await;
    let p = province(&app).await;
    for i in 0..7 {
        member(&app, &p.b1, &format!("Đảng viên {i:02}")).await;
    }
    let d = app
        .ok(
            "query($id: ID!) { unit(id: $id) { code } }",
            json!({ "id": p.b1 }),
        )
        .await;
    let code = d["unit"]["code"].as_str().unwrap().to_owned();
    let page =
        "totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { id fullName }";
    for args in [
        "first: 3",
        "first: 7",
        "first: 0",
        "first: 8",
        "",
        "first: 3, on: \"2014-12-31\"",
        "on: \"2015-01-01\", includeSubtree: false",
    ] {
        // Every member here is official: the filter changes how the page is read, not what.
        let (args, filtered) = if args.is_empty() {
            (String::new(), "(status: [OFFICIAL])".to_owned())
        } else {
            (format!("({args})"), format!("({args}, status: [OFFICIAL])"))
        };
        let q = format!(
            "query($id: ID!, $code: String!) {{ byId: unit(id: $id) {{ code members{args} {{ {page} }} }}
               byCode: unit(code: $code) {{ code members{args} {{ {page} }} }}
               filtered: unit(id: $id) {{ code members{filtered} {{ {page} }} }} }}"
        );
        let d = app.ok(&q, json!({ "id": p.b1, "code": code })).await;
        assert_eq!(d["byId"], d["byCode"], "{args}: {d:#}");
        assert_eq!(d["byId"], d["filtered"], "{args}: {d:#}");
        assert_eq!(d["byId"]["code"], code.as_str());
    }
    let d = app
        .ok(
            &format!("query($id: ID!) {{ unit(id: $id) {{ members(first: 3) {{ {page} }} }} }}"),
            json!({ "id": p.b1 }),
        )
        .await;
    assert_eq!(d["unit"]["members"]["totalCount"], 7);
    assert_eq!(d["unit"]["members"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(d["unit"]["members"]["pageInfo"]["hasNextPage"], true);
    let d = app
        .ok(
            "query($id: ID!) { unit(id: $id) { members(first: 3, on: \"2014-12-31\") { nodes { id } } } }",
            json!({ "id": p.b1 }),
        )
        .await;
    assert_eq!(
        d["unit"]["members"]["nodes"],
        json!([]),
        "nobody before 2015"
    );
    // The secretary of another branch reads the unit, never its members.
    let other = holder(&app, "secretary", &p.b2).await;
    let r = app
        .gql_as(
            &other,
            "query($id: ID!) { unit(id: $id) { code members(first: 3) { nodes { id } } } }",
            json!({ "id": p.b1 }),
        )
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "FORBIDDEN", "{r:#}");
    assert_eq!(r["data"]["unit"], json!({ "code": code }), "{r:#}");
}

#[tokio::test]
async fn members_filter_by_status_and_date_and_roll_up_the_subtree() {
    let app = spawn_app().await;
    let p = province(&app).await;
    member(&app, &p.b1, "Chính thức").await;
    let mut probationary = official_member_input(&p.b2, "Dự bị");
    probationary["status"] = json!("PROBATIONARY");
    probationary["admissionDecisionDate"] = json!("2026-02-02");
    probationary["ceremonyDate"] = json!("2026-03-01");
    probationary["officialDate"] = json!(null);
    probationary["unitSince"] = json!("2026-03-01");
    let d = app.ok(REGISTER, json!({ "i": probationary })).await;
    let pid = d["registerMember"]["id"].as_str().unwrap().to_owned();

    let d = app.ok(PAGE, json!({ "id": p.gc, "sub": true })).await;
    assert_eq!(d["unit"]["members"]["totalCount"], 2);
    let d = app
        .ok(
            PAGE,
            json!({ "id": p.gc, "sub": true, "status": ["PROBATIONARY"] }),
        )
        .await;
    assert_eq!(d["unit"]["members"]["edges"][0]["node"]["id"], pid);
    assert_eq!(d["unit"]["members"]["totalCount"], 1);
    let d = app.ok(PAGE, json!({ "id": p.gc })).await;
    assert_eq!(
        d["unit"]["members"]["totalCount"], 0,
        "a grassroots committee holds no members itself"
    );

    // On a date before the ceremony the probationary member was not there yet.
    let d = app
        .ok("query($id: ID!) { unit(id: $id) { memberCount(on: \"2026-01-01\", includeSubtree: true) } }", json!({ "id": p.gc }))
        .await;
    assert_eq!(d["unit"]["memberCount"], 1);
}

#[tokio::test]
async fn an_official_member_was_probationary_between_ceremony_and_official_date() {
    // A13, A14, A15: probation from the ceremony, official 12 months later, party age from
    // the admission decision.
    let app = spawn_app().await;
    let p = province(&app).await;
    let id = member(&app, &p.b1, "Võ Thị Hoa").await;
    let d = app
        .ok(
            "query($id: ID!) { member(id: $id) { partyAgeFrom ceremonyDate officialDate
                a: status(on: \"2010-12-31\") b: status(on: \"2011-06-01\") c: status(on: \"2010-05-31\")
                statusHistory { status validFrom validTo } } }",
            json!({ "id": id }),
        )
        .await;
    let m = &d["member"];
    assert_eq!(m["partyAgeFrom"], "2010-05-10");
    assert_eq!(m["a"], "PROBATIONARY");
    assert_eq!(m["b"], "OFFICIAL");
    assert_eq!(m["c"], json!(null));
    assert_eq!(
        m["statusHistory"],
        json!([
            { "status": "PROBATIONARY", "validFrom": "2010-06-01", "validTo": "2011-06-01" },
            { "status": "OFFICIAL", "validFrom": "2011-06-01", "validTo": null }
        ])
    );
}

#[tokio::test]
async fn bad_registrations_and_cursors_get_their_code_and_change_nothing() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let before = app.row_counts().await;
    let base = official_member_input(&p.b1, "Sai");
    let mut bad = Vec::new();
    // A14: the official date must be the ceremony plus 12 months.
    let mut v = base.clone();
    v["officialDate"] = json!("2011-09-01");
    bad.push((v, "VALIDATION"));
    // A15: an official member needs the admission decision date.
    let mut v = base.clone();
    v["admissionDecisionDate"] = json!(null);
    bad.push((v, "VALIDATION"));
    // Members belong to branches, not committees.
    let mut v = base.clone();
    v["unitId"] = json!(p.gc);
    bad.push((v, "VALIDATION"));
    // The branch did not exist yet.
    let mut v = base.clone();
    v["unitSince"] = json!("2000-01-01");
    bad.push((v, "VALIDATION"));
    let mut v = base.clone();
    v["unitId"] = json!(uuid::Uuid::now_v7().to_string());
    bad.push((v, "NOT_FOUND"));
    let mut v = base.clone();
    v["fullName"] = json!("   ");
    bad.push((v, "VALIDATION"));
    let mut v = base.clone();
    v["sex"] = json!("UNKNOWN");
    bad.push((v, "VALIDATION"));
    for (input, code) in bad {
        let r = app.gql(REGISTER, json!({ "i": input })).await;
        assert_eq!(memberflow_tests::error_code(&r), code, "{input} gave {r:#}");
    }
    assert_eq!(app.row_counts().await, before);

    assert_eq!(
        app.err_code(PAGE, json!({ "id": p.b1, "after": "###" }))
            .await,
        "VALIDATION"
    );
    assert_eq!(
        app.err_code(PAGE, json!({ "id": p.b1, "first": 1000 }))
            .await,
        "VALIDATION"
    );
    assert_eq!(
        app.err_code(PAGE, json!({ "id": p.b1, "first": -1 })).await,
        "VALIDATION"
    );
}

/// Registering a member is the registry keepers' (docs/security.md): the secretary of the
/// branch and the organization department above it. A secretary of another branch, of another
/// district's branch, the grassroots committee's executive committee and another district's
/// organization department are refused (`FORBIDDEN`), and nothing is written.
#[tokio::test]
async fn a_member_is_registered_by_the_branch_secretary_or_the_organization_department_only() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let secretary = holder(&app, "secretary", &p.b1).await;
    let department = holder(&app, "organization_department", &p.d1).await;
    let refused = [
        holder(&app, "secretary", &p.b2).await,
        holder(&app, "secretary", &p.gb).await,
        holder(&app, "executive_committee", &p.gc).await,
        holder(&app, "organization_department", &p.d2).await,
    ];
    for token in &refused {
        let before = app.row_counts().await;
        let r = app
            .gql_as(
                token,
                REGISTER,
                json!({ "i": official_member_input(&p.b1, "Người lạ") }),
            )
            .await;
        assert_eq!(memberflow_tests::error_code(&r), "FORBIDDEN", "{r:#}");
        assert_eq!(app.row_counts().await, before, "{r:#}");
    }
    member_as(&app, &secretary, &p.b1, "Nguyễn Văn An").await;
    member_as(&app, &department, &p.b1, "Trần Văn Bình").await;
    let d = app.ok(PAGE, json!({ "id": p.b1 })).await;
    assert_eq!(d["unit"]["members"]["totalCount"], 2, "{d:#}");
}
