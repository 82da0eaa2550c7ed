//! Workflow cases through the API, on the toy definition (`tests/data/toy.toml`): opening,
//! firing, refusals with their rule ids, dry runs, optimistic concurrency, idempotency keys,
//! the hash-chained history and its verification by `memberflow check --history`.

use memberflow_tests::{TestApp, error_code, schemas_with, spawn_app_with};
use serde_json::{Value, json};

use crate::support::{member, province};

const TOY: &str = include_str!("../data/toy.toml");

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) {
  toState replayed case { id state version definitionId definitionVersion ruleSet } event { seq hash prevHash } } }";
const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) {
  toState replayed dryRun effects case { id state version nextDue } event { seq kind hash prevHash } } }";

async fn toy_app() -> (TestApp, tempfile::TempDir) {
    let dir = schemas_with(&[("workflows/toy.toml", TOY)]);
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |c| c.schemas_dir = Some(path)).await;
    (app, dir)
}

/// Opens a toy case in a fresh branch and returns (case id, branch id).
async fn open_toy(app: &TestApp) -> (String, String) {
    let p = province(app).await;
    let owner = member(app, &p.b1, "Người phụ trách").await;
    (open_toy_in(app, &p.b1, &owner).await, p.b1)
}

/// Opens a toy case in `branch` and returns its id.
async fn open_toy_in(app: &TestApp, branch: &str, owner: &str) -> String {
    let p_b1 = branch;
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "toy", "unitId": p_b1, "title": "Hồ sơ thử",
                "inputs": { "title": "Hồ sơ thử", "owner": owner } } }),
        )
        .await;
    assert_eq!(d["openCase"]["toState"], "Draft");
    assert_eq!(d["openCase"]["case"]["version"], 1);
    assert_eq!(d["openCase"]["event"]["prevHash"], "");
    d["openCase"]["case"]["id"].as_str().unwrap().to_owned()
}

fn submit(case: &str, votes_for: i64, version: Option<i64>) -> Value {
    json!({ "i": { "caseId": case, "transition": "submit", "expectedVersion": version,
        "on": "2026-11-25", "inputs": { "votes_for": votes_for, "official_members": 12 } } })
}

#[tokio::test]
async fn a8_a_refused_step_names_its_rule_and_changes_nothing_then_a_valid_one_moves_the_case() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let g = app
        .ok("{ unit(code: \"HG-D1-X\") { id } }", json!({}))
        .await["unit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let chair = app
        .account("chair", &[("executive_committee", Some(&g))], None)
        .await;
    let before = app.row_counts().await;
    // 7 of 12 is below two thirds (A8).
    let r = app.gql(FIRE, submit(&case, 7, Some(1))).await;
    assert_eq!(error_code(&r), "TRANSITION_REFUSED", "{r:#}");
    assert!(
        r["errors"][0]["extensions"]["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("A8")),
        "{r:#}"
    );
    let reasons = r["errors"][0]["extensions"]["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .all(|x| x["vi"].as_str().is_some_and(|s| !s.is_empty())
                && x["en"].as_str().is_some_and(|s| !s.is_empty()))
    );
    assert_eq!(app.row_counts().await, before);

    // A caller without the role the step names is refused before anything is decided,
    // and told which roles may.
    let r = app
        .gql_as(
            &chair,
            FIRE,
            json!({ "i": { "caseId": case, "transition": "submit",
            "inputs": { "votes_for": 1, "official_members": 12 } } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    assert!(
        r["errors"][0]["extensions"]["messageEn"]
            .as_str()
            .unwrap()
            .contains("secretary@branch"),
        "{r:#}"
    );
    assert_eq!(app.row_counts().await, before);

    // Missing inputs are a VALIDATION refusal.
    let r = app
        .gql(
            FIRE,
            json!({ "i": { "caseId": case, "transition": "submit" } }),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r:#}");

    let d = app.ok(FIRE, submit(&case, 8, Some(1))).await;
    let step = &d["fireTransition"];
    assert_eq!(step["toState"], "Review");
    assert_eq!(step["case"]["version"], 2);
    // The review deadline (5 working days) is due after 25/11/2026: Wed 2/12/2026.
    assert_eq!(step["case"]["nextDue"], "2026-12-02");
    let q = "query($id: ID!) { case(id: $id) { state history { seq kind transition fromState toState ruleSet hash prevHash }
        deadlines(on: \"2026-11-25\") { key rule due overdue workingDaysLeft } } }";
    let d = app.ok(q, json!({ "id": case })).await;
    let h = d["case"]["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1]["prevHash"], h[0]["hash"]);
    assert_eq!(h[1]["ruleSet"], "R2025b");
    assert_eq!(
        d["case"]["deadlines"],
        json!([{ "key": "review", "rule": "A10", "due": "2026-12-02", "overdue": false, "workingDaysLeft": 5 }])
    );
}

#[tokio::test]
async fn a_dry_run_decides_without_changing_anything_and_available_transitions_explain_themselves()
{
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let before = app.row_counts().await;
    let mut vars = submit(&case, 12, Some(1));
    vars["i"]["dryRun"] = json!(true);
    let d = app.ok(FIRE, vars).await;
    assert_eq!(d["fireTransition"]["dryRun"], true);
    assert_eq!(d["fireTransition"]["toState"], "Review");
    assert_eq!(d["fireTransition"]["case"]["state"], "Draft");
    assert!(d["fireTransition"]["event"].is_null());
    assert_eq!(app.row_counts().await, before);

    let q = "query($id: ID!) { case(id: $id) { availableTransitions { name status to reasons { code rule messageVi messageEn } requiredInputs } } }";
    let d = app.ok(q, json!({ "id": case })).await;
    let avail = d["case"]["availableTransitions"].as_array().unwrap();
    let by_name = |n: &str| avail.iter().find(|t| t["name"] == n).unwrap().clone();
    assert_eq!(by_name("submit")["status"], "NEEDS_INPUT");
    assert_eq!(by_name("park")["status"], "ALLOWED");
    let g = app
        .ok("{ unit(code: \"HG-D1-X\") { id } }", json!({}))
        .await["unit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let chair = app
        .account("chair", &[("executive_committee", Some(&g))], None)
        .await;
    let d = app.gql_as(&chair, q, json!({ "id": case })).await;
    let d = &d["data"];
    let avail = d["case"]["availableTransitions"].as_array().unwrap();
    let park = avail.iter().find(|t| t["name"] == "park").unwrap();
    assert_eq!(park["status"], "REFUSED");
    assert!(!park["reasons"].as_array().unwrap().is_empty());
}

/// Every field a step's answer can show of its case: the step answers with the case as it
/// wrote it (its row read locked, by position, and the new values), without reading it again.
const CASE_FIELDS: &str = "id definitionId definitionVersion title state stateLabel version
  terminal ruleSet unit { id } subjectMemberId facts nextDue
  deadlines(on: \"2026-11-25\") { key rule due extendedDue extended overdue workingDaysLeft }";

#[tokio::test]
async fn a_step_answers_with_its_case_as_a_fresh_read_shows_it() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let fire = |transition: &str, inputs: Value| {
        json!({ "i": { "caseId": case, "transition": transition, "on": "2026-11-25",
            "inputs": inputs } })
    };
    let steps = [
        (submit(&case, 9, Some(1)), 2),
        (fire("note", json!({ "text": "ghi chú" })), 3),
        (fire("park", json!({})), 4),
    ];
    for (step, version) in steps {
        let fired = app
            .ok(
                &format!("mutation($i: FireInput!) {{ fireTransition(input: $i) {{ case {{ {CASE_FIELDS} }} }} }}"),
                step,
            )
            .await;
        let read = app
            .ok(
                &format!("query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"),
                json!({ "id": case }),
            )
            .await;
        assert_eq!(fired["fireTransition"]["case"], read["case"]);
        assert_eq!(read["case"]["version"], version);
        assert_eq!(read["case"]["definitionId"], "toy");
        assert_eq!(read["case"]["title"], "Hồ sơ thử");
    }
}

#[tokio::test]
async fn two_clients_firing_on_the_same_version_exactly_one_wins() {
    let (app, _dir) = toy_app().await;
    let (_, branch) = open_toy(&app).await;
    let owner = member(&app, &branch, "Chủ hồ sơ").await;
    for _ in 0..5 {
        let case = open_toy_in(&app, &branch, &owner).await;
        let before = app.row_counts().await;
        let (a, b) = tokio::join!(
            app.gql(FIRE, submit(&case, 9, Some(1))),
            app.gql(FIRE, submit(&case, 10, Some(1)))
        );
        let wins = [&a, &b]
            .iter()
            .filter(|r| r.get("errors").is_none())
            .count();
        assert_eq!(wins, 1, "{a:#} {b:#}");
        let loser = if a.get("errors").is_some() { &a } else { &b };
        assert_eq!(error_code(loser), "CONFLICT", "{loser:#}");
        let after = app.row_counts().await;
        // Exactly one step was appended.
        let events = |c: &Vec<(String, i64)>| c.iter().find(|(t, _)| t == "case_event").unwrap().1;
        assert_eq!(events(&after), events(&before) + 1);
        let d = app
            .ok(
                "query($id: ID!) { case(id: $id) { version } }",
                json!({ "id": case }),
            )
            .await;
        assert_eq!(d["case"]["version"], 2);
    }
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_a_repeated_idempotency_key_returns_the_first_result() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let mut vars = submit(&case, 12, Some(1));
    vars["i"]["idempotencyKey"] = json!("submit-once");
    let first = app.ok(FIRE, vars.clone()).await;
    assert_eq!(first["fireTransition"]["replayed"], false);
    let before = app.row_counts().await;
    let again = app.ok(FIRE, vars).await;
    assert_eq!(again["fireTransition"]["replayed"], true);
    assert_eq!(
        again["fireTransition"]["event"],
        first["fireTransition"]["event"]
    );
    assert_eq!(app.row_counts().await, before);
    // Version 1 is stale now.
    assert_eq!(
        app.err_code(FIRE, submit(&case, 12, Some(1))).await,
        "CONFLICT"
    );
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn a_refusal_can_be_recorded_without_moving_the_case() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let mut vars = submit(&case, 1, Some(1));
    vars["i"]["recordRefusal"] = json!(true);
    assert_eq!(app.err_code(FIRE, vars).await, "TRANSITION_REFUSED");
    let d = app
        .ok("query($id: ID!) { case(id: $id) { version state history { kind transition payload } } }", json!({ "id": case }))
        .await;
    assert_eq!(d["case"]["version"], 1);
    assert_eq!(d["case"]["state"], "Draft");
    let h = d["case"]["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1]["kind"], "REFUSED");
}

#[tokio::test]
async fn cases_are_listed_by_subtree_state_and_deadline() {
    let (app, _dir) = toy_app().await;
    let (c1, b1) = open_toy(&app).await;
    app.ok(FIRE, submit(&c1, 12, Some(1))).await;
    let hg = app.ok("{ unit(code: \"HG\") { id } }", json!({})).await["unit"]["id"].clone();
    let q = "query($f: CaseFilterInput) { cases(filter: $f) { totalCount edges { node { id state } } } }";
    let all = app
        .ok(q, json!({ "f": { "unitId": hg, "includeSubtree": true } }))
        .await;
    assert_eq!(all["cases"]["totalCount"], 1);
    let none = app.ok(q, json!({ "f": { "unitId": hg } })).await;
    assert_eq!(none["cases"]["totalCount"], 0);
    let review = app
        .ok(q, json!({ "f": { "unitId": b1, "states": ["Review"] } }))
        .await;
    assert_eq!(review["cases"]["edges"][0]["node"]["id"], c1);
    // Due 2/12/2026; today is 25/11/2026: due within 5 working days, not within 4, not overdue.
    for (n, expected) in [(5, 1), (4, 0)] {
        let d = app
            .ok(q, json!({ "f": { "dueWithinWorkingDays": n } }))
            .await;
        assert_eq!(d["cases"]["totalCount"], expected, "within {n}");
    }
    let d = app.ok(q, json!({ "f": { "overdue": true } })).await;
    assert_eq!(d["cases"]["totalCount"], 0);
}

#[tokio::test]
async fn check_history_detects_an_edited_event() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    app.ok(FIRE, submit(&case, 12, Some(1))).await;
    let url = app_url(&app);
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
            .args(["check", "--history"])
            .env("MEMBERFLOW_DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let ok = run();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("verified 2 history event(s): 0 problem(s)")
    );
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared("UPDATE case_event SET actor = 'mallory' WHERE seq = 1")
        .await
        .unwrap();
    let bad = run();
    assert!(!bad.status.success());
    let out = String::from_utf8_lossy(&bad.stdout);
    assert!(out.contains("the event was edited"), "{out}");
}

fn app_url(app: &TestApp) -> String {
    app.database_url().to_owned()
}

#[tokio::test]
async fn a_board_subscribed_to_a_unit_sees_the_changes_of_its_subtree_only() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let hg = app.ok("{ unit(code: \"HG\") { id } }", json!({})).await["unit"]["id"].clone();
    // Another province with a case of its own.
    let other = crate::support::unit(&app, "CT", "PROVINCE", None, "2004-01-01").await;
    let other_gc = crate::support::unit(
        &app,
        "CT-X",
        "GRASSROOTS_COMMITTEE",
        Some(&other),
        "2004-01-01",
    )
    .await;
    let other_b =
        crate::support::unit(&app, "CT-X-1", "BRANCH", Some(&other_gc), "2004-01-01").await;
    let owner = member(&app, &other_b, "Người ngoài").await;
    let foreign = open_toy_in(&app, &other_b, &owner).await;

    let mut board = crate::support::Board::subscribe(&app, &app.token, hg.as_str().unwrap()).await;

    app.ok(FIRE, submit(&foreign, 12, Some(1))).await;
    app.ok(FIRE, submit(&case, 12, Some(1))).await;
    assert_eq!(
        board.change().await,
        json!({ "caseId": case, "state": "Review", "version": 2, "kind": "STEP", "transition": "submit" })
    );
}

#[tokio::test]
async fn open_cases_move_to_a_new_definition_version_with_a_dry_run_first() {
    // Version 2 of the toy renames Review to UnderReview and drops Parked.
    let v2 = include_str!("../data/toy_v2.toml");
    let (app, _v1) = toy_app().await;
    let (draft, branch) = open_toy(&app).await;
    let owner = member(&app, &branch, "Chủ").await;
    let review = open_toy_in(&app, &branch, &owner).await;
    app.ok(FIRE, submit(&review, 12, Some(1))).await;
    let parked = open_toy_in(&app, &branch, &owner).await;
    app.ok(
        FIRE,
        json!({ "i": { "caseId": parked, "transition": "park" } }),
    )
    .await;

    // A new version is deployed: cases in flight keep running under version 1.
    let both = schemas_with(&[("workflows/toy.toml", TOY), ("workflows/toy_v2.toml", v2)]);
    let path = both.path().to_owned();
    let app = app.restart_with(move |c| c.schemas_dir = Some(path)).await;
    let version =
        "query($id: ID!) { case(id: $id) { definitionVersion state version history { kind } } }";
    assert_eq!(
        app.ok(version, json!({ "id": review })).await["case"]["definitionVersion"],
        1
    );

    let mig = "mutation($i: MigrateCasesInput!) { migrateCases(input: $i) { caseId fromVersion toVersion fromState toState changes blockers applied } }";
    let before = app.row_counts().await;
    let plan = app.ok(mig, json!({ "i": { "definitionId": "toy" } })).await;
    assert_eq!(app.row_counts().await, before, "a dry run changes nothing");
    let plan = plan["migrateCases"].as_array().unwrap().clone();
    assert_eq!(plan.len(), 3);
    let of = |id: &str| plan.iter().find(|p| p["caseId"] == id).unwrap().clone();
    assert_eq!(of(&draft)["toState"], "Draft");
    assert_eq!(of(&review)["toState"], "UnderReview");
    assert!(
        of(&review)["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["kind"] == "state_renamed"),
        "{:#}",
        of(&review)
    );
    assert!(!of(&parked)["blockers"].as_array().unwrap().is_empty());
    assert!(plan.iter().all(|p| p["applied"] == false));

    let done = app
        .ok(
            mig,
            json!({ "i": { "definitionId": "toy", "dryRun": false } }),
        )
        .await;
    let applied: Vec<_> = done["migrateCases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["applied"] == true)
        .collect();
    assert_eq!(applied.len(), 2);
    let d = app.ok(version, json!({ "id": review })).await;
    assert_eq!(d["case"]["definitionVersion"], 2);
    assert_eq!(d["case"]["state"], "UnderReview");
    assert_eq!(d["case"]["version"], 3);
    assert_eq!(
        d["case"]["history"].as_array().unwrap().last().unwrap()["kind"],
        "MIGRATED"
    );
    let d = app.ok(version, json!({ "id": parked })).await;
    assert_eq!(
        d["case"]["definitionVersion"], 1,
        "a blocked case stays where it was"
    );
    // The migrated history still verifies.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
        .args(["check", "--history"])
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_steps_mail_waits_in_the_outbox_with_its_state() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    // The toy's approval records an admission decision: the case is about an existing member.
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "toy", "unitId": p.b1, "title": "Hồ sơ thử", "subjectMemberId": owner,
                "inputs": { "title": "Hồ sơ thử", "owner": owner } } }),
        )
        .await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    app.ok(FIRE, submit(&case, 12, Some(1))).await;
    app.ok(
        FIRE,
        json!({ "i": { "caseId": case, "transition": "approve", "inputs": { "decided_on": "2026-11-25", "priority": "high" } } }),
    )
    .await;
    let q = "query($c: ID, $s: OutboxStatus) { outbox(caseId: $c, status: $s) { id kind status dueOn attempts lastError } }";
    let d = app.ok(q, json!({ "c": case })).await;
    let rows = d["outbox"].as_array().unwrap();
    let mail = rows
        .iter()
        .find(|r| r["kind"] == "MAIL")
        .unwrap_or_else(|| panic!("{rows:#?}"));
    // No SMTP server is configured in this test: the mail waits, nothing is lost.
    assert_eq!(mail["status"], "PENDING");
    assert_eq!(mail["dueOn"], "2026-11-25");
    assert_eq!(
        app.ok(q, json!({ "c": case, "s": "DEAD" })).await["outbox"],
        json!([])
    );
    // Only a dead letter can be requeued.
    let r = app
        .gql(
            "mutation($id: ID!) { requeueDeadLetter(id: $id) { status } }",
            json!({ "id": mail["id"] }),
        )
        .await;
    assert_eq!(error_code(&r), "CONFLICT", "{r:#}");
    let r = app
        .gql(
            "mutation { requeueDeadLetter(id: \"x\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&r), "VALIDATION");
}

/// The case's stored snapshot, as the database holds it.
async fn stored_snapshot(app: &TestApp, title: &str) -> Value {
    use sea_orm::ConnectionTrait as _;
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "SELECT CAST(snapshot AS TEXT) AS s FROM cases WHERE title = $1"
                }
                _ => "SELECT CAST(snapshot AS TEXT) AS s FROM cases WHERE title = ?",
            },
            [title.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&row.try_get::<String>("", "s").unwrap()).unwrap()
}

#[tokio::test]
async fn a_step_appends_one_history_row_and_rewrites_a_snapshot_that_holds_no_step_list() {
    let (app, _dir) = toy_app().await;
    let (case, _) = open_toy(&app).await;
    let note = |v: i64| {
        json!({ "i": { "caseId": case, "transition": "note", "expectedVersion": v,
            "inputs": { "text": "ghi chú" } } })
    };
    app.ok(FIRE, note(1)).await;
    let early = stored_snapshot(&app, "Hồ sơ thử").await;
    let history_len = || async {
        app.ok(
            "query($id: ID!) { case(id: $id) { history { seq } } }",
            json!({ "id": case }),
        )
        .await["case"]["history"]
            .as_array()
            .unwrap()
            .len()
    };
    for v in 2..=30 {
        let before = history_len().await;
        app.ok(FIRE, note(v)).await;
        assert_eq!(history_len().await, before + 1, "one row appended per step");
    }
    // The snapshot is the current state only: no step list, the opening and latest steps'
    // marks, and the same size after 31 steps as after 2 (the version has one digit more).
    let late = stored_snapshot(&app, "Hồ sơ thử").await;
    assert!(late.get("steps").is_none(), "{late:#}");
    assert_eq!(late["version"], 31);
    assert_eq!(late["opened"]["transition"], "open");
    assert_eq!(late["last_step"]["transition"], "note");
    assert!(
        late.to_string().len() <= early.to_string().len() + 1,
        "{early}\n{late}"
    );
    // The history and a dry run still see every step.
    let h = app
        .ok(
            "query($id: ID!) { case(id: $id) { ruleSet history { seq kind transition } historyIntact } }",
            json!({ "id": case }),
        )
        .await;
    let events = h["case"]["history"].as_array().unwrap();
    assert_eq!(events.len(), 31);
    assert_eq!(events[0]["transition"], "open");
    assert!(events[1..].iter().all(|e| e["transition"] == "note"));
    assert_eq!(h["case"]["historyIntact"], true);
    let mut dry = note(31);
    dry["i"]["dryRun"] = json!(true);
    let d = app.ok(FIRE, dry).await;
    assert_eq!(d["fireTransition"]["dryRun"], true);
    assert_eq!(d["fireTransition"]["toState"], "Draft");
    assert_eq!(d["fireTransition"]["case"]["version"], 31);
    assert_eq!(history_len().await, 31, "a dry run appends nothing");

    // A database written with the old shape (every step in the snapshot): migration 000040
    // taken back rebuilds the list from the history, and taken again removes it; the history
    // verifies and the case steps on.
    let url = app_url(&app);
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_memberflow-under-test"))
            .args(args)
            .env("MEMBERFLOW_DATABASE_URL", &url)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {text}");
        text
    };
    let status = cli(&["migrate", "--status"]);
    let applied: Vec<&str> = status
        .lines()
        .filter_map(|l| l.strip_prefix("applied "))
        .collect();
    let at = applied
        .iter()
        .position(|m| m.contains("000040_compact_snapshots"))
        .expect("migration 000040 applied");
    let back = (applied.len() - at).to_string();
    cli(&["migrate", "down", &back]);
    let old = stored_snapshot(&app, "Hồ sơ thử").await;
    let steps = old["steps"].as_array().expect("the old shape's step list");
    assert_eq!(steps.len(), 31);
    assert!(old.get("opened").is_none() && old.get("last_step").is_none());
    assert_eq!(steps[0]["transition"], "open");
    assert_eq!(steps[0]["to"], "Draft");
    assert_eq!(steps[30]["seq"], 31);
    assert_eq!(steps[30]["on"], late["last_step"]["on"]);
    assert_eq!(steps[30]["rule_set"], late["last_step"]["rule_set"]);
    cli(&["migrate"]);
    assert_eq!(stored_snapshot(&app, "Hồ sơ thử").await, late);
    let checked = cli(&["check", "--history"]);
    assert!(
        checked.contains("verified 31 history event(s): 0 problem(s)"),
        "{checked}"
    );
    let d = app.ok(FIRE, note(31)).await;
    assert_eq!(d["fireTransition"]["case"]["version"], 32);
    assert_eq!(history_len().await, 32);
}

#[tokio::test]
async fn a_page_of_cases_shows_the_same_deadlines_as_each_case_extended_ones_included() {
    let (app, _dir) = toy_app().await;
    let (first, branch) = open_toy(&app).await;
    let owner = member(&app, &branch, "Người phụ trách hai").await;
    let second = open_toy_in(&app, &branch, &owner).await;
    let third = open_toy_in(&app, &branch, &owner).await;
    for c in [&first, &second] {
        app.ok(FIRE, submit(c, 12, Some(1))).await;
    }
    let g = app
        .ok("{ unit(code: \"HG-D1-X\") { id } }", json!({}))
        .await["unit"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let chair = app
        .account("chair", &[("executive_committee", Some(&g))], None)
        .await;
    let r = app
        .gql_as(
            &chair,
            FIRE,
            json!({ "i": { "caseId": second, "transition": "extend", "expectedVersion": 2 } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r:#}");
    const FIELDS: &str = "deadlines(on: \"2026-12-03\") { key rule due extendedDue extended overdue workingDaysLeft }";
    let list = app
        .ok(
            &format!("{{ cases(filter: {{ definitionId: \"toy\" }}, first: 10) {{ nodes {{ id {FIELDS} }} }} }}"),
            json!({}),
        )
        .await;
    let nodes = list["cases"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for n in nodes {
        let one = app
            .ok(
                &format!("query($id: ID!) {{ case(id: $id) {{ {FIELDS} }} }}"),
                json!({ "id": n["id"] }),
            )
            .await;
        assert_eq!(n["deadlines"], one["case"]["deadlines"], "{n:#}");
    }
    let by_id = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap()["deadlines"].clone();
    // Due 2/12/2026, extendable by 2 working days to 4/12/2026.
    assert_eq!(
        by_id(&first),
        json!([{ "key": "review", "rule": "A10", "due": "2026-12-02", "extendedDue": "2026-12-04",
            "extended": false, "overdue": true, "workingDaysLeft": -1 }])
    );
    let ext = &by_id(&second)[0];
    assert_eq!(ext["extendedDue"], "2026-12-04", "{ext:#}");
    assert_eq!(ext["extended"], true, "{ext:#}");
    assert_eq!(ext["overdue"], false, "{ext:#}");
    assert_eq!(by_id(&third), json!([]));
}
