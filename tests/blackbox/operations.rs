//! Operating the binary: the container's health check, the migrations' status and the way
//! back, a backup taken while serving and its restore (verifying the history chains and the
//! counters), and an unreachable database named at once (docs/operations.md).

use std::time::{Duration, Instant};

use memberflow_tests::{TestDb, schemas_with, spawn_app_on};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

use crate::binary::{memberflow, sigterm, start};
use crate::support::{member, province};

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn healthcheck_is_ready_only_while_the_server_serves() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = start(memberflow(dir.path()));
    let ok = memberflow(dir.path())
        .args(["healthcheck", "--addr", &addr])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).starts_with("ready"), "{}", text(&ok));
    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let down = memberflow(dir.path())
        .args(["healthcheck", "--addr", &addr])
        .output()
        .unwrap();
    assert!(!down.status.success(), "{}", text(&down));
    assert!(text(&down).contains("not ready"), "{}", text(&down));
}

#[tokio::test]
async fn migrate_status_lists_applied_and_pending_and_down_reverts_the_last() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = memberflow(dir.path())
            .env("MEMBERFLOW_DATABASE_URL", db.url())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let fresh = run(&["migrate", "--status"]);
    let total = fresh.lines().filter(|l| l.starts_with("pending ")).count();
    assert!(total >= 8, "{fresh}");
    assert!(
        fresh.ends_with(&format!("0 applied, {total} pending\n")),
        "{fresh}"
    );
    run(&["migrate"]);
    let all = run(&["migrate", "--status"]);
    assert!(
        all.ends_with(&format!("{total} applied, 0 pending\n")),
        "{all}"
    );
    let last = all
        .lines()
        .filter_map(|l| l.strip_prefix("applied "))
        .next_back()
        .unwrap()
        .to_owned();
    let down = run(&["migrate", "down", "1"]);
    assert!(
        down.contains("reverted 1 migration(s)") && down.contains(&last),
        "{down}"
    );
    let after = run(&["migrate", "--status"]);
    assert!(after.contains(&format!("pending {last}")), "{after}");
    assert!(
        after.ends_with(&format!("{} applied, 1 pending\n", total - 1)),
        "{after}"
    );
    let again = run(&["migrate"]);
    assert!(again.starts_with("applied 1 migration(s)"), "{again}");
}

async fn count(url: &str, table: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get::<i64>("", "n").unwrap();
    db.close().await.unwrap();
    n
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_with_its_history_chains_and_counters() {
    // Backups are of SQLite, the single-machine store (PostgreSQL has pg_dump).
    let schemas = schemas_with(&[("workflows/toy.toml", include_str!("../data/toy.toml"))]);
    let path = schemas.path().to_owned();
    let app = spawn_app_on(TestDb::sqlite(), move |c| c.schemas_dir = Some(path)).await;
    let p = province(&app).await;
    let owner = member(&app, &p.b1, "Người phụ trách").await;
    member(&app, &p.b2, "Đảng viên thứ hai").await;
    let opened = app
        .ok(
            "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }",
            json!({ "i": { "definitionId": "toy", "unitId": p.b1, "title": "Hồ sơ",
                "inputs": { "title": "Hồ sơ", "owner": owner } } }),
        )
        .await;
    let case = opened["openCase"]["case"]["id"].as_str().unwrap();
    app.ok(
        "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
        json!({ "i": { "caseId": case, "transition": "submit", "on": "2026-11-25",
            "inputs": { "votes_for": 8, "official_members": 12 } } }),
    )
    .await;

    let work = tempfile::tempdir().unwrap();
    let backup = work.path().join("province.backup.db");
    // Taken while the server serves, with writes going on beside it.
    let writer = {
        let (base, token) = (app.base.clone(), app.token.clone());
        let unit = p.b2.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..10 {
                client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": crate::support::REGISTER,
                        "variables": { "i": crate::support::official_member_input(&unit, &format!("Người {i}")) } }))
                    .send()
                    .await
                    .unwrap();
            }
        })
    };
    let out = memberflow(work.path())
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .arg("backup")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("backed up to"), "{}", text(&out));
    writer.await.unwrap();
    // A second backup to the same file is refused: a backup is never overwritten.
    let again = memberflow(work.path())
        .env("MEMBERFLOW_DATABASE_URL", app.database_url())
        .arg("backup")
        .arg(&backup)
        .output()
        .unwrap();
    assert!(
        !again.status.success() && text(&again).contains("exists"),
        "{}",
        text(&again)
    );

    // Restored into a new file: the chains verify, the counters agree with the registry.
    let restored_url = format!("sqlite://{}/restored.db?mode=rwc", work.path().display());
    let restore = || {
        memberflow(work.path())
            .env("MEMBERFLOW_DATABASE_URL", &restored_url)
            .arg("restore")
            .arg(&backup)
            .output()
            .unwrap()
    };
    let out = restore();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("restored "), "{said}");
    let events: i64 = said
        .lines()
        .find_map(|l| l.strip_prefix("verified "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(events >= 2 && said.contains(": 0 problem(s)"), "{said}");
    assert_eq!(
        count(&restored_url, "case_event").await,
        count(app.database_url(), "case_event").await
    );
    let members = count(&restored_url, "member").await;
    assert!((2..=12).contains(&members), "{members}");
    for table in ["unit", "account", "stat_counter"] {
        assert_eq!(
            count(&restored_url, table).await,
            count(app.database_url(), table).await,
            "{table}"
        );
    }

    // An existing database is replaced only with --force.
    let out = restore();
    assert!(
        !out.status.success() && text(&out).contains("--force"),
        "{}",
        text(&out)
    );

    // A tampered backup restores, but the check says which case's chain is broken and the
    // command fails.
    let db = Database::connect(format!("sqlite://{}?mode=rw", backup.display()))
        .await
        .unwrap();
    db.execute_unprepared("UPDATE case_event SET actor = 'someone else' WHERE seq = 2")
        .await
        .unwrap();
    db.close().await.unwrap();
    let out = memberflow(work.path())
        .env("MEMBERFLOW_DATABASE_URL", &restored_url)
        .args(["restore", "--force"])
        .arg(&backup)
        .output()
        .unwrap();
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(case) && !said.contains(": 0 problem(s)"),
        "{said}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_the_reason_at_once_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1 of loopback.
    let started = Instant::now();
    let out = memberflow(dir.path())
        .env(
            "MEMBERFLOW_DATABASE_URL",
            "postgres://memberflow:secret@127.0.0.1:1/memberflow",
        )
        .arg("migrate")
        .output()
        .unwrap();
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(said.contains("127.0.0.1:1"), "{said}");
    assert!(said.contains("connection refused"), "{said}");
    assert!(said.contains("từ chối kết nối"), "{said}");
    assert!(!said.contains("secret"), "{said}");
    // The server says the same on start-up.
    let out = memberflow(dir.path())
        .env(
            "MEMBERFLOW_DATABASE_URL",
            "postgres://memberflow:secret@127.0.0.1:1/memberflow",
        )
        .output()
        .unwrap();
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("127.0.0.1:1") && said.contains("từ chối"),
        "{said}"
    );
}
