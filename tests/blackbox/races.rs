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
const SEARCH: &str = "query($q: String!) { searchMembers(query: $q, first: 5) { id } }";
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

/// Rows of `sql` on the test's own connection to the server's database, first column as i64.
async fn numbers(app: &TestApp, sql: &str) -> Vec<i64> {
    column(app, sql).await
}

/// The first column of the rows of `sql` on the test's own connection.
async fn column<T: sea_orm::TryGetable>(app: &TestApp, sql: &str) -> Vec<T> {
    use sea_orm::ConnectionTrait as _;
    app.db
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            sql,
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<T>(0).unwrap())
        .collect()
}

/// A toy case opened (under `key`) and stepped once, in a province of `app`'s.
async fn stepped_case(app: &TestApp, title: &str, key: &str) -> String {
    let p = province(app).await;
    let owner = member(app, &p.b1, "Người phụ trách").await;
    let d = app.ok(OPEN, open_vars(&p.b1, &owner, title, key)).await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    app.ok(FIRE, note(&case, "một", None)).await;
    case
}

/// The server's own write connections in `pg_stat_activity` (the harness's store names its
/// connections apart), as a condition.
fn writers() -> String {
    format!(
        "datname = current_database() AND application_name = '{}'",
        memberflow_store::WRITERS_NAME
    )
}

/// The case's row held by a transaction of the test's own, and a step of it sent meanwhile,
/// which waits for the row.
async fn step_behind_a_lock(
    app: &TestApp,
    case: &str,
    text: &str,
) -> (
    sea_orm::DatabaseTransaction,
    tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
) {
    use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
    let blocker = app.db.begin().await.unwrap();
    blocker
        .execute_unprepared(&format!(
            "SELECT id FROM cases WHERE id = '{case}' FOR UPDATE"
        ))
        .await
        .unwrap();
    let request = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .json(&json!({ "query": FIRE, "variables": note(case, text, None) }))
        .send();
    (blocker, tokio::spawn(request))
}

/// PostgreSQL's write transactions run on connections the server keeps itself and takes back
/// without a round trip (services/store/src/write.rs). A replayed step, whose transaction ends
/// without a commit, leaves no transaction open. A step whose client went away while it waited
/// on the case's lock must not hand its connection, mid-statement, to the next step: the
/// connection is closed (its backend ends). A write connection the database ended while it was
/// idle is replaced by the next step, which applies. On both databases the steps after them
/// apply in one chain, and the step given up left nothing.
#[tokio::test]
async fn a_step_given_up_mid_statement_or_a_write_connection_lost_leaves_the_next_steps_whole() {
    let (app, _dir) = toy_app().await;
    let case = stepped_case(&app, "Bỏ dở", "k-open").await;
    let postgres = app.database_url().starts_with("postgres");
    if postgres {
        let writers = writers();
        // A step replayed by its idempotency key ends its transaction without a commit: it is
        // rolled back at once, so the key's lock and the case's row are free for the next.
        for _ in 0..2 {
            app.ok(FIRE, note(&case, "khóa", Some("k-note"))).await;
        }
        let open_txns = format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE {writers} \
             AND state LIKE 'idle in transaction%'"
        );
        let mut tries = 0;
        while numbers(&app, &open_txns).await != vec![0] {
            tries += 1;
            assert!(tries < 100, "a replayed step's transaction was left open");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The case's row held by another transaction: the step waits for it in its own
        // transaction, and its client gives up.
        let (blocker, given_up) = step_behind_a_lock(&app, &case, "bỏ dở").await;
        let lock_waits = format!(
            "SELECT pid::bigint FROM pg_stat_activity WHERE {writers} \
             AND wait_event_type = 'Lock'"
        );
        let mut tries = 0;
        let waiting = loop {
            let waiting = numbers(&app, &lock_waits).await;
            if !waiting.is_empty() {
                break waiting;
            }
            tries += 1;
            assert!(tries < 200, "the step never waited for the case's row");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(waiting.len(), 1, "{waiting:?}");
        given_up.abort();
        assert!(given_up.await.is_err());
        // The server hears the client leave before the row is free.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        blocker.rollback().await.unwrap();
        // Closed, not reused: the waiting backend ends once its statement is answered.
        let gone = format!(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = {}",
            waiting[0]
        );
        let mut tries = 0;
        while numbers(&app, &gone).await != vec![0] {
            tries += 1;
            assert!(tries < 100, "the given-up step's connection was kept");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        app.ok(FIRE, note(&case, "hai", None)).await;
        // The write connections ended behind the server's back while idle.
        let ended = numbers(
            &app,
            &format!(
                "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid))::bigint \
                 FROM pg_stat_activity WHERE {writers}"
            ),
        )
        .await;
        assert!(ended[0] >= 1, "{ended:?}");
    } else {
        app.ok(FIRE, note(&case, "hai", None)).await;
    }
    app.ok(FIRE, note(&case, "ba", None)).await;
    assert_chain(&app, &case, if postgres { 5 } else { 4 }).await;
    if postgres {
        let open = numbers(
            &app,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND state LIKE 'idle in transaction%'",
        )
        .await;
        assert_eq!(open, vec![0]);
    }
}

/// On PostgreSQL a step goes out in two messages (services/store/src/write.rs, batch.rs): the
/// `BEGIN` with the locked read of the case and the head of its history, each the `EXECUTE` of
/// a statement prepared on the connection; then the case's `UPDATE` and the event's `INSERT`
/// with the `COMMIT`. Seen in `pg_stat_activity`, which shows each write connection's message
/// (the one under way, or its last) and whether a transaction is open on it: while the step
/// waits for the case's row, its first; once it is done, its last. On both databases the steps
/// apply in one chain.
#[tokio::test]
async fn a_step_sends_its_begin_with_its_reads_and_its_writes_with_its_commit() {
    let (app, _defs) = toy_app().await;
    let case = stepped_case(&app, "Hai lượt", "k-two").await;
    // A second step, on a connection that has prepared the step's statements already: its
    // message opens with them (PostgreSQL keeps only the first part of a message's text).
    app.ok(FIRE, note(&case, "hai", None)).await;
    if !app.database_url().starts_with("postgres") {
        app.ok(FIRE, note(&case, "ba", None)).await;
        assert_chain(&app, &case, 4).await;
        return;
    }
    let writers = writers();
    let messages = |more: &str| {
        format!("SELECT COUNT(*) FROM pg_stat_activity WHERE {writers} AND query ~ '{more}'")
    };
    // The last message of the step that committed: the two statements put off, and the
    // transaction ended with it (the `COMMIT` at its end is past the part PostgreSQL keeps of a
    // message's text, `track_activity_query_size`).
    let last = messages(r"^EXECUTE mf_[0-9]+\(.*; EXECUTE mf_[0-9]+\(");
    let last = format!("{last} AND state = 'idle'");
    let seen: Vec<String> = column(
        &app,
        &format!("SELECT query FROM pg_stat_activity WHERE {writers}"),
    )
    .await;
    assert_eq!(numbers(&app, &last).await, vec![1], "{last}: {seen:#?}");
    // The first message of a step waiting for the case's row: BEGIN and both reads.
    let (blocker, waiting) = step_behind_a_lock(&app, &case, "ba").await;
    let first = messages(
        // (quotes doubled: the pattern is a literal of the query)
        r"^BEGIN; (.*; )?EXECUTE mf_[0-9]+\(''[-0-9a-f]+''\); (.*; )?EXECUTE mf_[0-9]+\(''[-0-9a-f]+''\)$",
    );
    let first = format!("{first} AND wait_event_type = 'Lock'");
    let mut tries = 0;
    while numbers(&app, &first).await != vec![1] {
        tries += 1;
        assert!(
            tries < 200,
            "no step waited with its first message: {first}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    blocker.rollback().await.unwrap();
    let answer = waiting.await.unwrap().unwrap();
    assert!(answer.status().is_success());
    assert_chain(&app, &case, 4).await;
}

/// PostgreSQL's reads run on connections the server keeps itself too
/// (services/store/src/reads.rs), named apart in `pg_stat_activity`, and given back without a
/// round trip. Read connections the database ended while they were idle (a restart,
/// `pg_terminate_backend`) cost the next reads nothing: each answers as before, none with an
/// error. On SQLite the same reads answer.
#[tokio::test]
async fn read_connections_ended_while_idle_cost_the_next_reads_nothing() {
    let (app, _dir) = toy_app().await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người đọc").await;
    let d = app
        .ok(OPEN, open_vars(&p.b1, &owner, "Đọc lại", "k-read"))
        .await;
    let case = d["openCase"]["case"]["id"].as_str().unwrap().to_owned();
    app.ok(FIRE, note(&case, "một", None)).await;
    // The case's history (`SELECT`s) and a search of the registry (a `WITH`), each several
    // at once, so that several read connections are open.
    let histories = || join_all((0..4).map(|_| app.ok(HISTORY, json!({ "id": case }))));
    let searches = || join_all((0..4).map(|_| app.ok(SEARCH, json!({ "q": "nguoi doc" }))));
    let (history, found) = (histories().await, searches().await);
    assert_eq!(
        history[0]["case"]["history"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        found[0]["searchMembers"][0]["id"].as_str(),
        Some(owner.as_str()),
        "{found:?}"
    );
    // The server's own read connections ended behind its back (the harness's store names its
    // connections apart), and gone before the next reads (the wait of up to 5 s).
    let end_readers = || async {
        if !app.database_url().starts_with("postgres") {
            return;
        }
        let ended = numbers(
            &app,
            &format!(
                "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid, 5000))::bigint \
                 FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = '{}'",
                memberflow_store::READERS_NAME
            ),
        )
        .await;
        assert!(
            ended[0] >= 1,
            "no read connection of the server's own: {ended:?}"
        );
    };
    end_readers().await;
    assert_eq!(searches().await, found);
    end_readers().await;
    assert_eq!(histories().await, history);
}
