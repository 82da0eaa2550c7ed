//! The real binary: serving on the SQLite default in its working directory, shutting down
//! on SIGTERM, migrating, printing the schema, checking `schemas/`, refusing bad
//! configuration.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use memberflow_tests::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_memberflow-under-test");

pub(crate) fn memberflow(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_remove("MEMBERFLOW_DATABASE_URL")
        .env_remove("MEMBERFLOW_CONFIG")
        .env_remove("RUST_LOG")
        .env("MEMBERFLOW_LISTEN", "127.0.0.1:0")
        .env("MEMBERFLOW_LOG__FORMAT", "json");
    c
}

#[allow(clippy::zombie_processes)] // the callers wait for the child
/// Starts the binary, waits for its "serving" log line and returns the child and address.
pub(crate) fn start(mut cmd: Command) -> (std::process::Child, String) {
    let mut child = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server did not log that it was serving");
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if v["fields"]["message"] == "serving" {
            return (child, v["fields"]["addr"].as_str().unwrap().to_owned());
        }
    }
}

pub(crate) fn sigterm(child: &std::process::Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

async fn serves_migrates_and_stops_on_sigterm(db: Option<&TestDb>) {
    let dir = tempfile::tempdir().unwrap();
    let with_db = |mut c: Command| {
        if let Some(db) = db {
            c.env("MEMBERFLOW_DATABASE_URL", db.url());
        }
        c
    };
    // The README's bootstrap: the first administrator, made on the command line.
    let add = with_db(memberflow(dir.path()))
        .args(["user", "add", "admin"])
        .env("MEMBERFLOW_NEW_PASSWORD", "một mật khẩu dài")
        .output()
        .unwrap();
    assert!(add.status.success(), "{add:?}");
    let role = with_db(memberflow(dir.path()))
        .args(["user", "role", "admin", "admin"])
        .output()
        .unwrap();
    assert!(role.status.success(), "{role:?}");
    let (mut child, addr) = start(with_db(memberflow(dir.path())));
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let post = |query: &str, token: Option<&str>| {
        let mut req = client
            .post(format!("http://{addr}/graphql"))
            .json(&serde_json::json!({ "query": query }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    const CREATE: &str = "mutation { createUnit(input: { code: \"HG\", name: \"Hậu Giang\", kind: PROVINCE, validFrom: \"2004-01-01\" }) { code } }";
    let anonymous = post(CREATE, None).await;
    assert_eq!(
        anonymous["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{anonymous}"
    );
    let login = post(
        "mutation { login(username: \"admin\", password: \"một mật khẩu dài\") { token } }",
        None,
    )
    .await;
    let token = login["data"]["login"]["token"].as_str().unwrap().to_owned();
    let r = post(CREATE, Some(&token)).await;
    assert_eq!(r["data"]["createUnit"]["code"], "HG", "{r}");
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    // With no configuration at all, the database is memberflow.db in the working directory.
    assert_eq!(dir.path().join("memberflow.db").exists(), db.is_none());
}

#[tokio::test]
async fn the_binary_serves_on_the_sqlite_default_and_stops_cleanly_on_sigterm() {
    serves_migrates_and_stops_on_sigterm(None).await;
}

#[tokio::test]
async fn the_binary_serves_on_the_test_database_too() {
    let db = TestDb::create().await;
    serves_migrates_and_stops_on_sigterm(Some(&db)).await;
}

#[tokio::test]
async fn migrate_applies_pending_migrations_once() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        memberflow(dir.path())
            .env("MEMBERFLOW_DATABASE_URL", db.url())
            .arg("migrate")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.starts_with("applied ") && !stdout.starts_with("applied 0 "),
        "{stdout}"
    );
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("applied 0 migration"));
}

#[test]
fn schema_prints_the_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let out = memberflow(dir.path()).arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        memberflow_api::sdl()
    );
}

#[test]
fn bad_configuration_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    for (file, key) in [
        ("lisen = 1\n", "lisen"),
        ("[graphql]\nmax_depth = \"deep\"\n", "max_depth"),
    ] {
        std::fs::write(dir.path().join("m.toml"), file).unwrap();
        let out = memberflow(dir.path())
            .args(["--config", "m.toml"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{err}");
    }
    let out = memberflow(dir.path())
        .args(["--config", "missing.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
    let out = memberflow(dir.path())
        .env("MEMBERFLOW_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .to_lowercase()
            .contains("listen")
    );
}

#[test]
fn check_validates_the_committed_schemas_and_reports_every_problem_of_a_broken_one() {
    let repo = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = memberflow(std::path::Path::new(repo))
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 problem(s)"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    for sub in ["workflows", "rulesets", "calendars"] {
        std::fs::create_dir_all(schemas.join(sub)).unwrap();
    }
    std::fs::write(
        schemas.join("calendars/bad.toml"),
        "weekend = [\"Funday\"]\nnope = 1\n",
    )
    .unwrap();
    std::fs::write(schemas.join("rulesets/bad.toml"), "this is not toml = =\n").unwrap();
    std::fs::write(schemas.join("workflows/bad.toml"), "id = \"x\"\n").unwrap();
    let out = memberflow(dir.path()).arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    for f in [
        "calendars/bad.toml",
        "rulesets/bad.toml",
        "workflows/bad.toml",
    ] {
        assert!(stdout.contains(f), "{f} missing from:\n{stdout}");
    }
}

#[test]
fn check_refuses_a_bad_cron_expression_and_an_unknown_mail_template() {
    let toy = include_str!("../data/toy.toml")
        .replace("cron = \"0 0 8 * * Mon\"", "cron = \"0 8 * * 1\"")
        .replacen("\"admission.decision_issued\"", "\"no.such_template\"", 1);
    let dir = memberflow_tests::schemas_with(&[("workflows/toy.toml", &toy)]);
    let out = memberflow(dir.path())
        .env("MEMBERFLOW_SCHEMAS_DIR", dir.path())
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("BAD_CRON"), "{stdout}");
    assert!(
        stdout.contains("UNKNOWN_TEMPLATE") && stdout.contains("no.such_template"),
        "{stdout}"
    );
}

#[test]
fn every_configuration_problem_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.toml"),
        "lisen = 1\n[graphql]\nmax_depth = \"deep\"\n",
    )
    .unwrap();
    let out = memberflow(dir.path())
        .args(["--config", "m.toml"])
        .env("MEMBERFLOW_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "lisen: ",
        "graphql.max_depth: ",
        "(in m.toml)",
        "listen: ",
        "(in MEMBERFLOW_LISTEN)",
    ] {
        assert!(err.contains(needle), "{needle} missing from {err}");
    }
    // Values the types accept but the service cannot use: all of them too, before anything
    // is created.
    let out = memberflow(dir.path())
        .env("MEMBERFLOW_SCHEDULES__WEEKLY_DIGEST", "30 7 * * 1")
        .env("MEMBERFLOW_MAIL__RECIPIENTS__DEFAULT", "not an address")
        .env("MEMBERFLOW_SMTP_URL", "ftp://mail.example.vn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in ["schedules", "mail.recipients", "smtp_url"] {
        assert!(err.contains(needle), "{needle} missing from {err}");
    }
    assert!(!dir.path().join("memberflow.db").exists());
}
