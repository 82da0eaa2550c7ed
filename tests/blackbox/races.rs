//! Races on one case, on both databases: the same idempotency key sent by many clients at
//! once, a key sent again with another request, and steps sent without an expected version.
//! Every client holding a key gets the first answer; steps without a version all apply, in
//! one unbroken history.

use futures::future::join_all;
use memberflow_tests::{TestApp, error_code, schemas_with, spawn_app_with};
use serde_json::{Value, json};

use crate::support::{member, province};

const TOY: &str = include_str!("../data/toy.toml");
const CLIENTS: usize = 16;

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) {
  replayed case { id version } event { seq hash } } }";
const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) {
  replayed case { id version } event { seq hash transition } } }";
const HISTORY: &str = "query($id: ID!) { case(id: $id) { version history { seq hash prevHash } } }";

async fn toy_app() -> (TestApp, tempfile::TempDir) {
    let dir = schemas_with(&[("workflows/toy.toml", TOY)]);
    let path = dir.path().to_owned();
    let app = spawn_app_with(move |c| c.schemas_dir = Some(path)).await;
    (app, dir)
}

fn open_vars(branch: &str, owner: &str, title: &str, key: &str) -> Value {
    json!({ "i": { "definitionId": "toy", "unitId": branch, "title": title,
        "inputs": { "title": title, "owner": owner }, "idempotencyKey": key } })
}

fn note(case: &str, text: &str, key: Option<&str>) -> Value {
    json!({ "i": { "caseId": case, "transition": "note", "inputs": { "text": text },
        "idempotencyKey": key } })
}

fn count(counts: &[(String, i64)], table: &str) -> i64 {
    counts.iter().find(|(t, _)| t == table).unwrap().1
}

/// The history of a case is one unbroken chain, as long as its version says.
async fn assert_chain(app: &TestApp, case: &str, version: usize) {
    let d = app.ok(HISTORY, json!({ "id": case })).await;
    assert_eq!(d["case"]["version"], version, "{d:#}");
    let h = d["case"]["history"].as_array().unwrap();
    assert_eq!(h.len(), version, "{d:#}");
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e["seq"], i + 1, "{d:#}");
        if i > 0 {
            assert_eq!(e["prevHash"], h[i - 1]["hash"], "{d:#}");
        }
    }
}

#[tokio::test]
async fn clients_sending_the_same_idempotency_key_at_once_all_get_the_first_answer() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let before = app.row_counts().await;

    let answers = join_all(
        (0..CLIENTS).map(|_| app.gql(OPEN, open_vars(&p.b1, &owner, "Hồ sơ đua", "open-race"))),
    )
    .await;
    for a in &answers {
        assert!(a.get("errors").is_none(), "{a:#}");
    }
    let case = answers[0]["data"]["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first: Vec<&Value> = answers
        .iter()
        .filter(|a| a["data"]["openCase"]["replayed"] == false)
        .collect();
    assert_eq!(first.len(), 1, "exactly one client opened the case");
    for a in &answers {
        assert_eq!(a["data"]["openCase"]["case"]["id"], case.as_str(), "{a:#}");
        assert_eq!(
            a["data"]["openCase"]["event"],
            first[0]["data"]["openCase"]["event"]
        );
    }
    let after = app.row_counts().await;
    assert_eq!(count(&after, "cases"), count(&before, "cases") + 1);
    assert_eq!(
        count(&after, "case_event"),
        count(&before, "case_event") + 1
    );

    let answers =
        join_all((0..CLIENTS).map(|_| app.gql(FIRE, note(&case, "một lần", Some("note-race")))))
            .await;
    for a in &answers {
        assert!(a.get("errors").is_none(), "{a:#}");
    }
    let first: Vec<&Value> = answers
        .iter()
        .filter(|a| a["data"]["fireTransition"]["replayed"] == false)
        .collect();
    assert_eq!(first.len(), 1, "exactly one client took the step");
    for a in &answers {
        assert_eq!(
            a["data"]["fireTransition"]["event"], first[0]["data"]["fireTransition"]["event"],
            "{a:#}"
        );
    }
    assert_eq!(
        count(&app.row_counts().await, "case_event"),
        count(&after, "case_event") + 1
    );
    assert_chain(&app, &case, 2).await;
}

#[tokio::test]
async fn a_key_sent_again_with_another_request_is_refused_and_changes_nothing() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let other = member(&app, &p.b1, "Người khác").await;
    let d = app
        .ok(OPEN, open_vars(&p.b1, &owner, "Hồ sơ", "k-open"))
        .await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    app.ok(FIRE, note(&case, "a", Some("k-note"))).await;
    let secretary = app
        .account("secretary-b1", &[("secretary", Some(&p.b1))], None)
        .await;
    let before = app.row_counts().await;

    // The same keys with the same requests: replayed.
    let d = app
        .ok(OPEN, open_vars(&p.b1, &owner, "Hồ sơ", "k-open"))
        .await;
    assert_eq!(d["openCase"]["replayed"], true);
    let d = app.ok(FIRE, note(&case, "a", Some("k-note"))).await;
    assert_eq!(d["fireTransition"]["replayed"], true);

    // Other inputs, another title, another transition, another case, another caller.
    let reused = [
        app.gql(OPEN, open_vars(&p.b1, &other, "Hồ sơ", "k-open"))
            .await,
        app.gql(OPEN, open_vars(&p.b1, &owner, "Hồ sơ khác", "k-open"))
            .await,
        app.gql(FIRE, note(&case, "b", Some("k-note"))).await,
        app.gql(
            FIRE,
            json!({ "i": { "caseId": case, "transition": "park", "idempotencyKey": "k-note" } }),
        )
        .await,
        app.gql(FIRE, note(&case, "a", Some("k-open"))).await,
    ];
    for r in &reused {
        assert_eq!(error_code(r), "IDEMPOTENCY_KEY_REUSED", "{r:#}");
        assert!(
            r["errors"][0]["extensions"]["messageEn"]
                .as_str()
                .unwrap()
                .contains("idempotency key"),
            "{r:#}"
        );
    }
    let r = app
        .gql_as(&secretary, FIRE, note(&case, "a", Some("k-note")))
        .await;
    assert_eq!(error_code(&r), "IDEMPOTENCY_KEY_REUSED", "{r:#}");
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn steps_sent_at_once_without_an_expected_version_all_apply_in_one_chain() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    let d = app.ok(OPEN, open_vars(&p.b1, &owner, "Hồ sơ", "k")).await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    let answers =
        join_all((0..CLIENTS).map(|i| app.gql(FIRE, note(&case, &format!("ghi chú {i}"), None))))
            .await;
    for a in &answers {
        assert!(a.get("errors").is_none(), "{a:#}");
    }
    let mut seqs: Vec<i64> = answers
        .iter()
        .map(|a| {
            a["data"]["fireTransition"]["event"]["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (2..=1 + CLIENTS as i64).collect::<Vec<_>>());
    assert_chain(&app, &case, 1 + CLIENTS).await;
}
