//! What the worker's tests share: a database per test (a SQLite file, or a PostgreSQL database
//! created and dropped when `MEMBERFLOW_TEST_DATABASE_URL` is set), a small tree, a test
//! workflow with a deadline, a dated and a recurring reminder, and workers built on them.

#![allow(dead_code)]

pub mod smtp;

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use memberflow_store::{
    CaseOutcome, Command, NewCase, NewMember, NewUnit, RefusalRecording, Store, UnitRecord,
};
use memberflow_worker::{
    Mailer, Recipients, Schedules, Worker, WorkerOptions, today_in_vietnam, vietnam_offset,
};
use memberflow_workflow::calendar::WorkingCalendar;
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::{Actor, Definition, Event, RoleRef, RuleBook};
use memberflow_workflow::tree::{MemberStatus, UnitKind};
use memberflow_workflow::vocab::RoleLevel;
use uuid::Uuid;

/// The environment variable naming a PostgreSQL server for the tests.
pub const PG_ENV: &str = "MEMBERFLOW_TEST_DATABASE_URL";

/// A database made for one test.
pub enum TestDb {
    /// A SQLite file in a directory removed on drop.
    Sqlite(tempfile::TempDir, String),
    /// A PostgreSQL database dropped on drop.
    Postgres {
        /// The server's URL as given.
        admin_url: String,
        /// The database's name.
        name: String,
        /// Its URL.
        url: String,
    },
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// A fresh, empty database of the kind the environment asks for.
    pub async fn create() -> Self {
        match std::env::var(PG_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("mf_worker_{}", Uuid::now_v7().simple());
                let admin = Store::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("{PG_ENV} is set but PostgreSQL cannot be reached: {e}")
                });
                memberflow_store::execute_unprepared(
                    &admin,
                    &format!("CREATE DATABASE \"{name}\""),
                )
                .await
                .unwrap();
                admin.close().await.unwrap();
                let url = with_database(&admin_url, &name);
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
                TestDb::Sqlite(dir, url)
            }
        }
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite(_, url) | TestDb::Postgres { url, .. } => url,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // The test's runtime may be gone: drop the database from a runtime of our own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Store::connect(&admin_url).await {
                        let _ = memberflow_store::execute_unprepared(
                            &admin,
                            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                        )
                        .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A test workflow: a deadline of 5 working days with a notice when it passes, a reminder 2
/// working days before it, a monthly recurring reminder, and a transition out that sends a
/// mail (and so cancels both reminders).
pub const REMIND: &str = r#"
id = "remind"
version = 1
title = "Reminder test workflow"

[open]
to = "Waiting"
by = [{ role = "secretary", level = "branch" }]

[[state]]
name = "Waiting"
rules = ["A10"]
[[state.deadline]]
key = "decision"
rule = "A10"
period = { working_days = 5 }
notify = { template = "admission.decision_overdue", to = { role = "standing_committee", level = "superior" } }
[[state.reminder]]
key = "decision_soon"
template = "admission.decision_due_soon"
to = { role = "standing_committee", level = "superior" }
deadline = "decision"
before = { working_days = 2 }
[[state.reminder]]
key = "monthly"
template = "admission.verification_pending"
to = { role = "secretary", level = "branch" }
cron = "0 0 8 1 * *"

[[state]]
name = "Done"
terminal = true

[[transition]]
name = "finish"
from = ["Waiting"]
to = "Done"
by = [{ role = "secretary", level = "branch" }]
effect = [{ kind = "send_mail", template = "admission.decision_issued", to = { role = "secretary", level = "branch" } }]
"#;

fn schemas() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// The test workflow with the repository's rule sets and calendar.
pub fn catalog() -> Catalog {
    let definition = Definition::from_toml_str(REMIND).unwrap_or_else(|p| panic!("{p:?}"));
    let mut sets = Vec::new();
    for e in std::fs::read_dir(schemas().join("rulesets")).unwrap() {
        let path = e.unwrap().path();
        sets.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    let rules = RuleBook::from_toml_strs(sets.iter().map(|(n, t)| (n.as_str(), t.as_str())))
        .unwrap_or_else(|p| panic!("{p:?}"));
    let calendar = WorkingCalendar::from_toml_str(
        &std::fs::read_to_string(schemas().join("calendars/vn.toml")).unwrap(),
    )
    .unwrap_or_else(|p| panic!("{p:?}"));
    Catalog {
        definitions: vec![definition],
        rules,
        calendar,
    }
}

/// An instant given in Vietnam time.
pub fn vn(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    vietnam_offset()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// An instant on day `d` in Vietnam.
pub fn vn_on(d: NaiveDate, h: u32, min: u32) -> DateTime<Utc> {
    vn(d.year(), d.month(), d.day(), h, min)
}

/// A date.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Wednesday 25/11/2026, 10:00 in Vietnam: when the test cases are opened.
pub fn opened_at() -> DateTime<Utc> {
    vn(2026, 11, 25, 10, 0)
}

/// The addresses of the test roles.
pub const SECRETARY: &str = "bithu.cb1@example.vn";
pub const STANDING: &str = "thuongvu@example.vn";
pub const FALLBACK: &str = "vanphong@example.vn";

/// The recipients of the tests: branch secretaries, standing committees, and a fallback.
pub fn recipients() -> Recipients {
    Recipients::new([
        ("secretary@branch", SECRETARY),
        ("standing_committee", STANDING),
        ("default", FALLBACK),
    ])
    .unwrap()
}

/// Options for tests: 3 attempts, a minute's backoff doubling.
pub fn options() -> WorkerOptions {
    WorkerOptions {
        max_attempts: 3,
        ..WorkerOptions::default()
    }
}

/// A database, a store on it, the test catalog, and a small tree: province HG, district D1,
/// grassroots committee X, branch B1.
pub struct Fixture {
    pub db: TestDb,
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub province: UnitRecord,
    pub committee: UnitRecord,
    pub branch: UnitRecord,
}

async fn unit(store: &Store, code: &str, kind: UnitKind, parent: Option<Uuid>) -> UnitRecord {
    store
        .tree()
        .create_unit(
            NewUnit {
                code: code.into(),
                name: format!("Đơn vị {code}"),
                kind,
                branch_category: None,
                parent_id: parent,
                valid_from: date(2005, 1, 1),
            },
            opened_at(),
        )
        .await
        .unwrap()
}

impl Fixture {
    /// A fresh fixture.
    pub async fn new() -> Self {
        let db = TestDb::create().await;
        let store = Store::connect(db.url()).await.unwrap();
        store.migrate().await.unwrap();
        let province = unit(&store, "HG", UnitKind::Province, None).await;
        let district = unit(&store, "HG-D1", UnitKind::District, Some(province.id)).await;
        let committee = unit(
            &store,
            "HG-D1-X",
            UnitKind::GrassrootsCommittee,
            Some(district.id),
        )
        .await;
        let branch = unit(&store, "HG-D1-X-1", UnitKind::Branch, Some(committee.id)).await;
        Self {
            db,
            store,
            catalog: Arc::new(catalog()),
            province,
            committee,
            branch,
        }
    }

    /// A worker on this fixture's store, sending to `smtp_url`.
    pub fn worker(&self, smtp_url: &str, options: WorkerOptions) -> Worker {
        worker_on(self.store.clone(), smtp_url, options)
    }

    /// Opens a test case at `now` in the branch.
    pub async fn open_case(&self, title: &str, now: DateTime<Utc>) -> Uuid {
        let actor = Actor::new("u1", vec![RoleRef::at("secretary", RoleLevel::Branch)]);
        match self
            .store
            .cases()
            .open_case(
                &self.catalog,
                NewCase {
                    definition_id: "remind".into(),
                    unit_id: self.branch.id,
                    subject_member_id: None,
                    title: title.into(),
                },
                Command {
                    event: Event::new("open", actor),
                    idempotency_key: None,
                    refusals: RefusalRecording::Discard,
                    today: today_in_vietnam(now),
                    now,
                },
            )
            .await
            .unwrap()
        {
            CaseOutcome::Applied { case, .. } => case.id,
            other => panic!("not opened: {other:?}"),
        }
    }

    /// Fires `transition` on `case` at `now`.
    pub async fn fire(&self, case: Uuid, transition: &str, now: DateTime<Utc>) {
        let actor = Actor::new("u1", vec![RoleRef::at("secretary", RoleLevel::Branch)]);
        let o = self
            .store
            .cases()
            .fire_case(
                &self.catalog,
                case,
                None,
                Command {
                    event: Event::new(transition, actor),
                    idempotency_key: None,
                    refusals: RefusalRecording::Discard,
                    today: today_in_vietnam(now),
                    now,
                },
            )
            .await
            .unwrap();
        assert!(matches!(o, CaseOutcome::Applied { .. }), "{o:?}");
    }

    /// Registers a member in the branch.
    pub async fn member(&self, name: &str, status: MemberStatus, admitted: NaiveDate) {
        let since = admitted;
        self.store
            .registry()
            .register_member(
                NewMember {
                    unit_id: self.branch.id,
                    unit_since: since,
                    full_name: name.into(),
                    date_of_birth: date(1990, 1, 1),
                    sex: "FEMALE".into(),
                    ethnicity: "Kinh".into(),
                    religion: None,
                    education: "UPPER_SECONDARY".into(),
                    occupation: None,
                    status,
                    status_since: None,
                    admission_decision_date: Some(admitted),
                    ceremony_date: Some(admitted),
                    official_date: (status == MemberStatus::Official)
                        .then(|| admitted.checked_add_months(chrono::Months::new(12)))
                        .flatten(),
                    email: None,
                },
                12,
                opened_at(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
}

/// The committed rule sets (`schemas/rulesets/`) in a catalog without definitions: what the
/// jobs that read the rules (the monthly target report's band, S21) need.
pub fn rules_catalog() -> memberflow_workflow::catalog::Catalog {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/rulesets");
    let mut srcs = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        srcs.push((
            p.display().to_string(),
            std::fs::read_to_string(&p).unwrap(),
        ));
    }
    memberflow_workflow::catalog::Catalog {
        definitions: Vec::new(),
        rules: memberflow_workflow::engine::RuleBook::from_toml_strs(
            srcs.iter().map(|(n, s)| (n.as_str(), s.as_str())),
        )
        .unwrap(),
        calendar: memberflow_workflow::calendar::WorkingCalendar::default(),
    }
}

/// A worker on `store` with the default schedules (daily sweep at 07:00 in Vietnam).
pub fn worker_on(store: Store, smtp_url: &str, options: WorkerOptions) -> Worker {
    Worker::new(
        store,
        Some(Mailer::new(smtp_url, "Memberflow <noreply@example.vn>").unwrap()),
        Schedules::default(),
        recipients(),
        options,
    )
}
