//! One simulated year: a small province built through the API (15 units, 21 accounts with
//! roles the mail goes to, 50 members), 32 cases at every stage of admission and discipline as
//! they stand on 31/12/2025, and the scheduler driven by hand from 1/1/2026 to 31/12/2026 the
//! way its loop runs (`Worker::run`): a pass at the start of each day, at every cron tick of a
//! job (the job first), at every retry or recurring tick the outbox names, and at 10:00 after
//! the day's steps (33 steps fired during the year). Every case is opened and every step fired
//! by the account the rules name (`Org::actor`: the branch secretary, the grassroots executive
//! committee, the district's standing committee, the member appealing), never `operator`.
//! Mail goes to a real SMTP server on a loopback port that refuses the first attempt of one
//! mail in thirteen.
//!
//! Checked: every mail once (no Message-ID twice, one mail per SENT row); each to the holders
//! of its role at the right unit of the tree (the case's branch secretary, the committee above
//! it, the competent committee, the nearest inspection commission, the member concerned) and
//! to nobody else; the mails each case calls for, template by template, and the state it ends
//! the year in; the dead letters exactly those addressed to the secretary of the branch who
//! has no address (their error names her account and branch), plus the monthly target
//! reports (nobody can hold their role); nothing left pending that was due; every mail sent
//! on the day it was due; the last day run again enqueues and sends nothing.
//!
//! `cargo test -p memberflow-tests --test blackbox simulation -- --nocapture` prints the
//! figures (docs/reminders.md, "One simulated year"); `MEMBERFLOW_SIM_DUMP=1` also prints
//! every outbox row.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, TimeZone, Utc};
use memberflow_store::{OutboxKind, OutboxRecord, OutboxStatus, PeriodicJob, Store};
use memberflow_tests::{TestApp, spawn_app_with};
use memberflow_worker::{
    DispatchReport, Job, Mailer, Recipients, Schedules, Worker, WorkerOptions, today_in_vietnam,
    vietnam_offset,
};
use memberflow_workflow::engine::{Effect, RoleRef};
use memberflow_workflow::vocab::RoleLevel;
use serde_json::{Value, json};

use crate::support::{RealRoles, holder, member, unit};

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }";
const FIRE: &str = "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }";
const MAIL_DOMAIN: &str = "example.vn";
/// The first attempt of every mail whose outbox id is a multiple of this is refused (451).
const FLAKY_EVERY: i64 = 13;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// `h:m` in Vietnam on `d`, as an instant.
fn at(d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    vietnam_offset()
        .from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// The SMTP server

/// What the SMTP server accepted (raw DATA of each message), and how many it refused.
#[derive(Default)]
struct Smtp {
    accepted: Vec<String>,
    refused: u32,
    refused_ids: HashSet<i64>,
}

type Inbox = Arc<Mutex<Smtp>>;

/// The outbox id in the Message-ID of a raw message.
fn outbox_id(raw: &str) -> Option<i64> {
    let h = header(raw, "Message-ID")?;
    let rest = h.trim().strip_prefix("<outbox-")?;
    rest.split('@').next()?.parse().ok()
}

/// The first header `name` of a raw message, unfolded.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let mut lines = head.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.eq_ignore_ascii_case(name) {
            let mut v = value.trim().to_owned();
            while let Some(more) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                v.push(' ');
                v.push_str(more.trim());
            }
            return Some(v);
        }
    }
    None
}

/// The SMTP server of `mail.rs`, made a little unreliable: the first attempt of every mail whose
/// outbox id is a multiple of [`FLAKY_EVERY`] gets `451` after its DATA and is not kept.
async fn flaky_smtp_sink() -> (SocketAddr, Inbox) {
    let inbox: Inbox = Arc::default();
    let keep = inbox.clone();
    let addr = crate::mail::smtp_server(move |data| {
        let mut s = keep.lock().unwrap();
        match outbox_id(&data) {
            Some(id) if id % FLAKY_EVERY == 0 && s.refused_ids.insert(id) => {
                s.refused += 1;
                false
            }
            _ => {
                s.accepted.push(data);
                true
            }
        }
    })
    .await;
    (addr, inbox)
}

// ---------------------------------------------------------------------------------------------
// The province and who holds what

struct OrgUnit {
    code: &'static str,
    kind: &'static str,
    parent: Option<&'static str>,
}

const fn u(code: &'static str, kind: &'static str, parent: Option<&'static str>) -> OrgUnit {
    OrgUnit { code, kind, parent }
}

const UNITS: [OrgUnit; 15] = [
    u("HG", "PROVINCE", None),
    u("HG-D1", "DISTRICT", Some("HG")),
    u("HG-D2", "DISTRICT", Some("HG")),
    u("HG-D1-A", "GRASSROOTS_COMMITTEE", Some("HG-D1")),
    u("HG-D1-A-1", "BRANCH", Some("HG-D1-A")),
    u("HG-D1-A-2", "BRANCH", Some("HG-D1-A")),
    u("HG-D1-A-3", "BRANCH", Some("HG-D1-A")),
    u("HG-D2-B", "GRASSROOTS_COMMITTEE", Some("HG-D2")),
    u("HG-D2-B-1", "BRANCH", Some("HG-D2-B")),
    u("HG-D2-B-2", "BRANCH", Some("HG-D2-B")),
    u("HG-D2-B-3", "BRANCH", Some("HG-D2-B")),
    u("HG-D1-C", "GRASSROOTS_BRANCH", Some("HG-D1")),
    u("HG-D2-E", "GRASSROOTS_BRANCH", Some("HG-D2")),
    // Two more branches with members and secretaries but no open case: their monthly
    // meeting reminders still go out.
    u("HG-D1-A-4", "BRANCH", Some("HG-D1-A")),
    u("HG-D2-B-4", "BRANCH", Some("HG-D2-B")),
];

/// The units that hold members and own cases, in the order the scenario numbers them.
const BRANCHES: [&str; 8] = [
    "HG-D1-A-1",
    "HG-D1-A-2",
    "HG-D1-A-3",
    "HG-D2-B-1",
    "HG-D2-B-2",
    "HG-D2-B-3",
    "HG-D1-C",
    "HG-D2-E",
];

/// The branch whose secretary has no e-mail address.
const UNREACHABLE: &str = "HG-D2-B-3";

/// The grants: role, unit, whether the holder has an address.
fn grants() -> Vec<(&'static str, &'static str, bool)> {
    let mut g = Vec::new();
    for u in &UNITS {
        match u.kind {
            "BRANCH" | "GRASSROOTS_BRANCH" => g.push(("secretary", u.code, u.code != UNREACHABLE)),
            "GRASSROOTS_COMMITTEE" => {
                g.push(("secretary", u.code, true));
                g.push(("standing_committee", u.code, true));
                g.push(("inspection_commission", u.code, true));
            }
            "DISTRICT" => {
                g.push(("standing_committee", u.code, true));
                g.push(("inspection_commission", u.code, true));
            }
            "PROVINCE" => {
                g.push(("standing_committee", u.code, true));
                // The monthly target report goes to the province's organization department.
                g.push(("organization_department", u.code, true));
            }
            _ => {}
        }
    }
    g
}

fn username(role: &str, code: &str) -> String {
    format!("{role}.{}", code.to_ascii_lowercase())
}

fn address(role: &str, code: &str) -> String {
    format!(
        "{}.{}@{MAIL_DOMAIN}",
        role.replace('_', "-"),
        code.to_ascii_lowercase()
    )
}

/// The tree and its holders as the test built them: the specification of who receives what.
struct Org {
    id_of: HashMap<&'static str, String>,
    code_of: HashMap<String, &'static str>,
    /// (role, unit code) → the holder's address (`None`: the holder has none).
    holders: HashMap<(String, String), Option<String>>,
    /// Member id → address.
    member_address: HashMap<String, String>,
    /// Branch code → the accounts of the tree above that act on its cases (the holders of
    /// `grants`, and an executive committee of each grassroots committee, which no mail is
    /// addressed to): no step is fired as `operator`.
    roles: HashMap<&'static str, RealRoles>,
    /// Case label → the account of the member it is about, who files their own appeal.
    appellant: HashMap<String, String>,
}

fn own_level(kind: &str) -> RoleLevel {
    match kind {
        "PROVINCE" => RoleLevel::Province,
        "DISTRICT" => RoleLevel::Superior,
        "GRASSROOTS_COMMITTEE" | "GRASSROOTS_BRANCH" => RoleLevel::Grassroots,
        _ => RoleLevel::Branch,
    }
}

impl Org {
    /// The account the rules say fires `transition` of case `label` of `branch` on `day`: the
    /// branch's actors of an admission ([`RealRoles::admission_actor`]); for a discipline the
    /// branch secretary, the member concerned for their appeal, and the district's standing
    /// committee for the task assigned from above (disc-5) once it is proposed to it.
    fn actor(&self, label: &str, branch: &str, transition: &str, day: NaiveDate) -> &str {
        let roles = &self.roles[branch];
        if !label.starts_with("disc") {
            return roles.admission_actor(transition);
        }
        match transition {
            "file_appeal" | "file_appeal_disputed" => &self.appellant[label],
            "vote" | "impose" | "notify" if label == "disc-5" && day >= date("2026-01-01") => {
                &roles.competent
            }
            _ => &roles.secretary,
        }
    }

    fn unit(code: &str) -> &'static OrgUnit {
        UNITS.iter().find(|u| u.code == code).unwrap()
    }

    /// The unit and its ancestors, the unit first.
    fn path(code: &str) -> Vec<&'static OrgUnit> {
        let mut out = vec![Self::unit(code)];
        while let Some(p) = out.last().unwrap().parent {
            out.push(Self::unit(p));
        }
        out
    }

    /// Who a mail addressed to `to` about unit `code` must reach: `Ok(address)`, or `Err` with
    /// the account that holds the role without an address, or the role nobody holds.
    fn expected(&self, to: &RoleRef, code: &str) -> Result<String, String> {
        let path = Self::path(code);
        let grassroots = path
            .iter()
            .position(|u| own_level(u.kind) == RoleLevel::Grassroots);
        let levels = |i: usize| {
            let u = path[i];
            let mut l = vec![own_level(u.kind)];
            if i == 0 && matches!(u.kind, "BRANCH" | "GRASSROOTS_BRANCH") {
                l.push(RoleLevel::Branch);
            }
            if grassroots.map(|g| g + 1) == Some(i) {
                l.push(RoleLevel::Competent);
            }
            l
        };
        let target = (0..path.len()).find(|&i| match to.level {
            Some(l) => levels(i).contains(&l),
            None => self
                .holders
                .contains_key(&(to.role.clone(), path[i].code.to_owned())),
        });
        let Some(i) = target else {
            return Err(format!("nobody holds {to}"));
        };
        match self
            .holders
            .get(&(to.role.clone(), path[i].code.to_owned()))
        {
            Some(Some(a)) => Ok(a.clone()),
            Some(None) => Err(username(&to.role, path[i].code)),
            None => Err(format!("nobody holds {to} at {}", path[i].code)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cases

/// Replaces "today" in the inputs by `day`.
fn fill_today(v: Value, day: NaiveDate) -> Value {
    match v {
        Value::String(s) if s == "today" => Value::String(day.to_string()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, fill_today(v, day)))
                .collect(),
        ),
        other => other,
    }
}

/// Fires `transition` of case `label` on `day` (the server's clock set to 10:00 that day), as
/// its [`Org::actor`].
async fn fire(
    app: &TestApp,
    org: &Org,
    cases: &Cases,
    label: &str,
    day: NaiveDate,
    transition: &str,
    inputs: Value,
) {
    app.set_today(&day.to_string());
    let inputs = fill_today(inputs, day);
    let (case, branch) = &cases.by_label[label];
    let token = org.actor(label, branch, transition, day);
    let r = app
        .gql_as(
            token,
            FIRE,
            json!({ "i": { "caseId": case, "transition": transition, "inputs": inputs } }),
        )
        .await;
    assert!(
        r.get("errors").is_none(),
        "{transition} of {case} on {day}: {r:#}"
    );
}

/// The inputs of each admission step on the main path (tests/blackbox/admission.rs).
fn admission_inputs(transition: &str, day: NaiveDate) -> Value {
    match transition {
        "record_awareness_certificate" => json!({
            "certificate_date": (day - Days::new(60)).to_string(), "certificate_number": "GCN-1" }),
        "file_application" => json!({ "application_date": "today" }),
        "draft_history" => json!({ "history_date": "today" }),
        "start_verification" => json!({ "verification_started_on": "today" }),
        "conclude_verification" => json!({ "verification_conclusion": "meets_standard",
            "verification_report_date": "today" }),
        "record_introducers" => json!({ "introducer_1": "M-101", "introducer_1_official": true,
            "introducer_1_since": "2020-01-01", "introducer_2": "M-102",
            "introducer_2_official": true, "introducer_2_since": "2021-05-01" }),
        "collect_opinions" => json!({ "opinions_collected_on": "today" }),
        "branch_vote" => {
            json!({ "branch_vote_date": "today", "votes_for": 8, "official_members": 10 })
        }
        "grassroots_review" => json!({ "review_date": "today", "grassroots_delegated": false }),
        "submit_to_competent" => json!({ "submitted_on": "today" }),
        "decide_admission" => json!({ "decision_date": "today", "decision_number": "12-QĐ/HU" }),
        "hold_ceremony" => json!({ "ceremony_date": "today" }),
        "file_member_history" => json!({ "member_history_filed_on": "today" }),
        "recognise" => json!({ "decision_date": "today", "decision_number": "34-QĐ/HU" }),
        "refuse_admission" => {
            json!({ "decision_date": "today", "rejection_reason": "Chưa đủ tiêu chuẩn" })
        }
        "extend_admission_deadline" => {
            json!({ "extension_reason": "Chờ kết quả thẩm tra bổ sung" })
        }
        "strike_off" => json!({ "decision_date": "today", "decision_number": "56-QĐ/HU",
            "strike_off_reason": "Không đủ tư cách" }),
        "withdraw" => json!({ "withdrawn_on": "today", "withdrawal_reason": "Chuyển công tác" }),
        other => panic!("no inputs for {other}"),
    }
}

/// The admission procedure's main path, with the gaps (days) between steps of admission.rs.
const ADMISSION_PATH: [(u64, &str); 13] = [
    (1, "record_awareness_certificate"),
    (1, "file_application"),
    (1, "draft_history"),
    (1, "start_verification"),
    (20, "conclude_verification"),
    (1, "record_introducers"),
    (1, "collect_opinions"),
    (7, "branch_vote"),
    (7, "grassroots_review"),
    (1, "submit_to_competent"),
    (14, "decide_admission"),
    (10, "hold_ceremony"),
    (10, "file_member_history"),
];

/// The inputs of each discipline step on the main path (services/workflow/tests), and of the
/// steps off it where the scenario needs them.
fn discipline_inputs(label: &str, transition: &str, day: NaiveDate) -> Value {
    let mut v = match transition {
        "start_inspection" => json!({ "inspecting_body": "branch", "inspecting_level": "branch",
            "inspection_decision_date": "today" }),
        "conclude_inspection" => json!({ "inspection_concluded_on": "today",
            "violation_end_date": "2025-06-01", "violation_category": "ordinary" }),
        "record_self_criticism" => {
            json!({ "self_criticism_date": "today", "proposed_form": "reprimand" })
        }
        "hold_hearing" => json!({ "hearing_date": "today" }),
        "vote" => json!({ "vote_date": "today", "voting_body": "branch", "voting_level": "branch",
            "secret_ballot": true, "discipline_form": "warning", "votes_warning": 6,
            "votes_reprimand": 3, "official_members": 10 }),
        "impose" => json!({ "decision_date": "today", "decision_number": "01-QĐ/CB" }),
        "notify" => json!({ "decision_received_date": "today" }),
        "propose_to_competent" => json!({ "proposed_on": "today" }),
        "defer_nursing" => json!({ "deferral_ground": "nursing_infant", "deferred_on": "today",
            "child_birth_date": "2025-05-15" }),
        "defer" => json!({ "deferral_ground": "hospitalised", "deferred_on": "today" }),
        "file_appeal" | "file_appeal_disputed" => json!({ "appeal_filed_date": "today",
            "appeal_body": "inspection_commission", "appeal_level": "grassroots",
            "appeal_grounds": "Hình thức kỷ luật quá nặng" }),
        other => panic!("no inputs for {other}"),
    };
    match (label, transition) {
        // Decided on 15/12/2025, recorded on 31/12.
        ("disc-3", "impose") => v["decision_date"] = json!("2025-12-15"),
        // A task assigned by a higher level: the branch may only propose (D14)...
        ("disc-5", "conclude_inspection") => v["higher_assigned_task"] = json!(true),
        // ...and the district's standing committee votes again, out of its own members.
        ("disc-5", "vote") if day >= date("2026-01-01") => {
            for (k, x) in [
                ("voting_body", json!("standing_committee")),
                ("voting_level", json!("superior")),
                ("votes_warning", json!(5)),
                ("votes_reprimand", json!(2)),
                ("official_members", json!(9)),
            ] {
                v[k] = x;
            }
        }
        _ => {}
    }
    v
}

/// The inputs of `transition` of case `label` fired on `day`.
fn inputs(label: &str, transition: &str, day: NaiveDate) -> Value {
    match (label, transition) {
        (l, t) if l.starts_with("disc") => discipline_inputs(l, t, day),
        ("cert-3", "renew_awareness_certificate") => {
            json!({ "certificate_date": "2026-02-25", "certificate_number": "GCN-2026" })
        }
        (l, "recognition_vote") => json!({ "recognition_vote_date": "today",
            "proposal": if l == "late-4" { "recognise" } else { "strike_off" },
            "votes_for": 9, "official_members": 10 }),
        (_, t) => admission_inputs(t, day),
    }
}

/// The cases of the scenario, by label.
#[derive(Default)]
struct Cases {
    /// Label → (case id, unit code).
    by_label: BTreeMap<String, (String, &'static str)>,
}

impl Cases {
    fn id(&self, label: &str) -> String {
        self.by_label[label].0.clone()
    }
}

/// Opens an admission case in `branch` on `open` and walks the main path through `until`
/// (nothing after the opening when `None`); returns the day of its last step.
async fn admission(
    app: &TestApp,
    cases: &mut Cases,
    label: &str,
    branch: &'static str,
    open: NaiveDate,
    until: Option<&str>,
    org: &Org,
) -> NaiveDate {
    app.set_today(&open.to_string());
    let d = app
        .gql_as(
            &org.roles[branch].secretary,
            OPEN,
            json!({ "i": { "definitionId": "admission", "unitId": org.id_of[branch], "title": label,
                "inputs": { "person_id": format!("P-{label}"), "full_name": label,
                    "date_of_birth": "1995-03-02", "unit": org.id_of[branch],
                    "education_level": "upper_secondary", "helper_member": "M-100" } } }),
        )
        .await;
    let id = d["data"]["openCase"]["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{label}: {d:#}"))
        .to_owned();
    cases
        .by_label
        .insert(label.to_owned(), (id.clone(), branch));
    let mut day = open;
    if let Some(until) = until {
        for (gap, t) in ADMISSION_PATH {
            day = day + Days::new(gap);
            fire(app, org, cases, label, day, t, admission_inputs(t, day)).await;
            if t == until {
                break;
            }
        }
    }
    day
}

/// The disciplinary cases as they stand on 31/12/2025: `label branch member: steps`, the
/// member being the index of the branch's member it is about, the steps `day transition`
/// (the first opens the case; `…` stands for the main path up to the hearing, early in
/// December).
const DISCIPLINE: [&str; 8] = [
    // Inspection all year: monthly reminder to the grassroots inspection commission.
    "disc-0 HG-D1-A-1 0: 2025-12-20 open, 2025-12-31 start_inspection",
    // Inspection; during the year: self-criticism from 12/1, decided 2/3, notified 30/3.
    "disc-1 HG-D1-A-2 0: 2025-12-20 open, 2025-12-22 start_inspection",
    // Deferred while the member raises a child born 15/5/2025: resumes by itself in May.
    "disc-2 HG-D2-B-1 0: …, 2025-12-31 defer_nursing",
    // Decided on 15/12/2025 (recorded on 31/12); notified on 5/1/2026; lapses in December.
    "disc-3 HG-D2-B-2 0: …, 2025-12-15 vote, 2025-12-31 impose",
    // Deferred (hospital) in the branch without an address: monthly reminders, all dead.
    "disc-4 HG-D2-B-3 0: …, 2025-12-31 defer",
    // A task assigned from above: the branch proposes; the district decides in June.
    "disc-5 HG-D1-A-3 0: …, 2025-12-15 vote, 2025-12-31 propose_to_competent",
    // Decided 20/12/2025, notified 31/12; appeals on 8/1/2026 (then a monthly reminder).
    "disc-6 HG-D1-A-3 1: …, 2025-12-20 vote, 2025-12-20 impose, 2025-12-31 notify",
    // The same, appealing on 5/2/2026: after 30 days, within 30 working days (disputed).
    "disc-7 HG-D2-B-1 1: …, 2025-12-20 vote, 2025-12-20 impose, 2025-12-31 notify",
];

/// The main path of a disciplinary case up to the hearing.
const TO_HEARING: &str = "2025-12-01 open, 2025-12-02 start_inspection, \
    2025-12-03 conclude_inspection, 2025-12-04 record_self_criticism, 2025-12-05 hold_hearing";

/// The steps of a DISCIPLINE line.
fn discipline_steps(spec: &str) -> Vec<(NaiveDate, String)> {
    spec.replace('…', TO_HEARING)
        .split(',')
        .map(|s| {
            let (d, t) = s.trim().split_once(' ').unwrap();
            (date(d), t.to_owned())
        })
        .collect()
}

/// Opens the disciplinary case `label` about `subject` of `branch` and fires its steps.
async fn discipline(
    app: &TestApp,
    cases: &mut Cases,
    label: &str,
    branch: &'static str,
    subject: &str,
    steps: &[(NaiveDate, String)],
    org: &Org,
) {
    let open = steps[0].0;
    app.set_today(&open.to_string());
    let d = app
        .gql_as(
            &org.roles[branch].secretary,
            OPEN,
            json!({ "i": { "definitionId": "discipline_member", "unitId": org.id_of[branch],
                "title": label, "subjectMemberId": subject,
                "inputs": { "member_id": subject, "full_name": label, "unit": org.id_of[branch],
                    "subject_kind": "member", "membership": "official", "holds_post": true,
                    "detection_source": "supervision", "detected_on": open.to_string() } } }),
        )
        .await;
    let id = d["data"]["openCase"]["case"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{label}: {d:#}"))
        .to_owned();
    cases
        .by_label
        .insert(label.to_owned(), (id.clone(), branch));
    for (day, t) in &steps[1..] {
        fire(
            app,
            org,
            cases,
            label,
            *day,
            t,
            discipline_inputs(label, t, *day),
        )
        .await;
    }
}

/// The steps of the year, fired at 10:00 on their day: day, case, transition.
const PLAN: [(&str, &str, &str); 33] = [
    // Extended (A10), then refused in May.
    ("2026-01-05", "late-2", "extend_admission_deadline"),
    ("2026-01-05", "disc-3", "notify"),
    ("2026-01-08", "disc-6", "file_appeal"),
    ("2026-01-12", "disc-1", "conclude_inspection"),
    ("2026-02-02", "disc-1", "record_self_criticism"),
    ("2026-02-02", "late-6", "recognition_vote"),
    ("2026-02-03", "late-0", "decide_admission"),
    ("2026-02-05", "disc-7", "file_appeal_disputed"),
    ("2026-02-09", "disc-1", "hold_hearing"),
    // Carries the certificate's warning and expiry over to the next state.
    ("2026-02-10", "cert-1", "file_application"),
    ("2026-03-01", "cert-2", "withdraw"),
    ("2026-03-02", "cert-3", "renew_awareness_certificate"),
    ("2026-03-02", "late-0", "hold_ceremony"),
    ("2026-03-02", "disc-1", "vote"),
    ("2026-03-02", "disc-1", "impose"),
    ("2026-03-10", "cert-7", "file_application"),
    ("2026-03-11", "cert-7", "draft_history"),
    ("2026-03-12", "cert-7", "start_verification"),
    ("2026-03-30", "disc-1", "notify"),
    ("2026-04-01", "late-4", "recognition_vote"),
    ("2026-04-15", "verify-0", "conclude_verification"),
    ("2026-04-15", "verify-2", "conclude_verification"),
    ("2026-04-15", "verify-4", "conclude_verification"),
    ("2026-04-15", "verify-6", "conclude_verification"),
    ("2026-04-20", "late-4", "recognise"),
    ("2026-05-04", "late-0", "file_member_history"),
    ("2026-05-04", "late-2", "refuse_admission"),
    ("2026-06-10", "disc-5", "vote"),
    ("2026-06-10", "disc-5", "impose"),
    ("2026-06-15", "cert-7", "conclude_verification"),
    ("2026-06-29", "disc-5", "notify"),
    ("2026-07-01", "late-7", "recognition_vote"),
    ("2026-07-15", "late-7", "strike_off"),
];

// ---------------------------------------------------------------------------------------------
// What a row is about

/// A row's template, recipient and the unit it is about.
fn row_facts(
    r: &OutboxRecord,
    cases: &HashMap<String, &'static str>,
    org: &Org,
) -> (String, RoleRef, String) {
    if r.kind.carries_effect() {
        let e: Effect = serde_json::from_value(r.payload.clone()).unwrap();
        let (template, to) = match e {
            Effect::ScheduleReminder { template, to, .. }
            | Effect::ScheduleRecurringReminder { template, to, .. }
            | Effect::SendMail { template, to } => (template, to),
            other => panic!("row {} carries {other:?}", r.id),
        };
        let case = r.case_id.unwrap().to_string();
        (template, to, cases[&case].to_owned())
    } else {
        let job: PeriodicJob = serde_json::from_value(r.payload.clone()).unwrap();
        let to = job.to().clone();
        let unit = match job.unit() {
            Some(u) => org.code_of[&u.to_string()].to_owned(),
            None => cases[&r.case_id.unwrap().to_string()].to_owned(),
        };
        let template = match job {
            PeriodicJob::DeadlinePassed { template, .. } => template,
            PeriodicJob::Digest { .. } => "digest.weekly".into(),
            PeriodicJob::Meeting { .. } => "meeting.monthly".into(),
            PeriodicJob::TargetReport { .. } => "report.admission_target".into(),
            PeriodicJob::Occasion { template, .. } => template,
        };
        (template, to, unit)
    }
}

fn add(total: &mut DispatchReport, r: DispatchReport) {
    total.claimed += r.claimed;
    total.sent += r.sent;
    total.retried += r.retried;
    total.dead += r.dead;
    total.lost += r.lost;
    total.ticks += r.ticks;
}

/// What each case must have sent during the year (or, in the branch without an address,
/// failed to send), and the state it ends the year in: `label State: templates`, a template
/// being the part after `admission.` / `discipline.`, `×N` for N mails.
const EXPECTED: [&str; 32] = [
    "cert-0 AwarenessCourseDone: certificate_expiring certificate_expired",
    "cert-1 ApplicationFiled: certificate_expiring certificate_expired",
    // Withdrawn on 1/3, before its warning of 20/3: nothing.
    "cert-2 Withdrawn: ",
    // Renewed on 2/3 (certificate of 25/2/2026): the warning moves to 2030 and the one of the
    // old certificate, dated 20/4/2026, is cancelled.
    "cert-3 AwarenessCourseDone: ",
    "cert-4 AwarenessCourseDone: certificate_expiring certificate_expired",
    "cert-5 AwarenessCourseDone: certificate_expiring certificate_expired",
    // Expires on 20/1/2027: only the warning.
    "cert-6 AwarenessCourseDone: certificate_expiring",
    // Verification from 12/3 to 15/6: ticks of 1/4, 1/5, 1/6; the warning (20/8) carries over.
    "cert-7 Verified: certificate_expiring verification_pending×3",
    "verify-0 Verified: verification_pending×4",
    "verify-1 VerificationInProgress: verification_pending×12",
    "verify-2 Verified: verification_pending×4",
    "verify-3 VerificationInProgress: verification_pending×12",
    "verify-4 Verified: verification_pending×4",
    "verify-5 VerificationInProgress: verification_pending×12",
    "verify-6 Verified: verification_pending×4",
    "verify-7 VerificationInProgress: verification_pending×12",
    // Decided on 3/2 (before its due-soon reminder), ceremony on 2/3 (before its own), the
    // member's file late (overdue notice), then probation.
    "late-0 Probation: decision_issued member_history_overdue",
    "late-1 DecisionPending: decision_due_soon decision_overdue",
    // Extended on 5/1 (A10: to 31/3), refused on 4/5: the due-soon reminder moves with the
    // deadline (10 working days before 31/3), the one of 27/1 is cancelled.
    "late-2 Rejected: decision_due_soon decision_overdue refused",
    "late-3 Admitted: decision_issued ceremony_due_soon ceremony_overdue",
    // Probation ends: the sweep notifies and opens the recognition vote; recognised in April.
    "late-4 Official: decision_issued probation_ended recognised",
    "late-5 RecognitionVote: decision_issued probation_ended recognition_vote_overdue",
    "late-6 RecognitionPending: decision_issued probation_ended recognition_decision_overdue",
    "late-7 StruckOff: decision_issued probation_ended struck_off",
    "disc-0 Inspection: inspection_pending×12",
    // Written decision pending on the Mondays 9, 16, 23 and 30/3 (notified at 10:00 on 30/3,
    // the branch told of the consequences, C3);
    // the appeal window closes by itself in May.
    "disc-1 InForce: inspection_pending self_criticism_pending decided written_decision_pending×4 notified consequences",
    // Resumed by the sweep the day after the child's first birthday.
    "disc-2 Vote: deferral_ending deferral_ended",
    // Lapses by itself on 16/12: the notice to the secretary and the mail to the member.
    "disc-3 Lapsed: decided written_decision_pending notified consequences lapsed×2",
    "disc-4 Deferred: deferral_review×12",
    "disc-5 InForce: proposed proposal_pending×6 decided written_decision_pending×3 notified consequences",
    "disc-6 Appealed: decided notified consequences appeal_filed appeal_pending×11",
    "disc-7 AppealAdmissibilityDisputed: decided notified consequences appeal_disputed disputed_appeal_pending",
];

/// The mails of an EXPECTED line, by template.
fn expected_mails(spec: &str) -> BTreeMap<String, u32> {
    spec.split_whitespace()
        .map(|t| match t.split_once('×') {
            Some((t, n)) => (t.to_owned(), n.parse().unwrap()),
            None => (t.to_owned(), 1),
        })
        .collect()
}

/// A pass of the worker: its instant and the job ticks run before it.
type Pass = (DateTime<Utc>, Vec<(Job, DateTime<Utc>)>);

#[tokio::test]
async fn one_simulated_year_sends_every_reminder_once_to_the_right_people() {
    let started = Instant::now();
    let (smtp, inbox) = flaky_smtp_sink().await;
    let app = spawn_app_with(|c| {
        c.mail.public_url = Some("https://memberflow.example.vn".into());
        c.mail_from = format!("Memberflow <noreply@{MAIL_DOMAIN}>");
    })
    .await;

    // --- The province, its members and who holds what -----------------------------------
    let mut org = Org {
        id_of: HashMap::new(),
        code_of: HashMap::new(),
        holders: HashMap::new(),
        member_address: HashMap::new(),
        roles: HashMap::new(),
        appellant: HashMap::new(),
    };
    for u in &UNITS {
        let parent = u.parent.map(|p| org.id_of[p].clone());
        let id = unit(&app, u.code, u.kind, parent.as_deref(), "2005-01-01").await;
        org.code_of.insert(id.clone(), u.code);
        org.id_of.insert(u.code, id);
    }
    for (role, code, with_address) in grants() {
        let name = username(role, code);
        app.account(&name, &[(role, Some(&org.id_of[code]))], None)
            .await;
        let addr = with_address.then(|| address(role, code));
        if let Some(a) = &addr {
            app.set_account_email(&name, a).await;
        }
        org.holders.insert((role.to_owned(), code.to_owned()), addr);
    }
    // Who acts on each branch's cases: its secretary, the executive committee of its
    // grassroots organization (held at a grassroots branch itself; no mail is addressed to
    // it), the standing committees of its district (the competent committee of A10) and of
    // the province.
    let province = app.session_of(&username("standing_committee", "HG")).await;
    for branch in BRANCHES {
        let path = Org::path(branch);
        let secretary = app.session_of(&username("secretary", branch)).await;
        let g = usize::from(path[0].kind != "GRASSROOTS_BRANCH");
        let executive = holder(&app, "executive_committee", &org.id_of[path[g].code]).await;
        let district = path[g + 1].code;
        let competent = app
            .session_of(&username("standing_committee", district))
            .await;
        org.roles.insert(
            branch,
            RealRoles {
                secretary,
                executive,
                competent,
                province: province.clone(),
            },
        );
    }
    let mut members: HashMap<&str, Vec<String>> = HashMap::new();
    for u in UNITS
        .iter()
        .filter(|u| matches!(u.kind, "BRANCH" | "GRASSROOTS_BRANCH"))
    {
        for i in 1..=5 {
            let m = member(
                &app,
                &org.id_of[u.code],
                &format!("Đảng viên {}-{i}", u.code),
            )
            .await;
            members.entry(u.code).or_default().push(m);
        }
    }
    let set_email =
        "mutation($id: ID!, $e: String) { setMemberEmail(memberId: $id, email: $e) { email } }";

    // --- The cases, as they stand on 31/12/2025 ----------------------------------------------
    let start = date("2026-01-01");
    let eve = date("2025-12-31");
    let mut cases = Cases::default();
    // cert-N: the awareness certificate recorded on 31/12/2025 is 4½ years old, a month more
    // for each branch: its 54-month warning falls from 20/1 to 20/8/2026, its 60-month expiry
    // from 20/7/2026 (the last two in 2027).
    for (k, branch) in BRANCHES.iter().enumerate() {
        let label = format!("cert-{k}");
        admission(
            &app,
            &mut cases,
            &label,
            branch,
            eve - Days::new(1),
            None,
            &org,
        )
        .await;
        let cert = date("2021-07-20")
            .checked_add_months(chrono::Months::new(u32::try_from(k).unwrap()))
            .unwrap();
        fire(
            &app,
            &org,
            &cases,
            &label,
            eve,
            "record_awareness_certificate",
            json!({ "certificate_date": cert.to_string(), "certificate_number": format!("GCN-{k}") }),
        )
        .await;
    }
    // verify-N: background verification started on 31/12/2025 (monthly reminder).
    for (k, branch) in BRANCHES.iter().enumerate() {
        let label = format!("verify-{k}");
        let open = date("2025-12-20");
        let last = admission(
            &app,
            &mut cases,
            &label,
            branch,
            open,
            Some("draft_history"),
            &org,
        )
        .await;
        assert!(last < eve);
        fire(
            &app,
            &org,
            &cases,
            &label,
            eve,
            "start_verification",
            admission_inputs("start_verification", eve),
        )
        .await;
    }
    // late-N: further along, opened so that the steps fall where the scenario needs them
    // (branch vote = open + 33 days, decision = open + 55, ceremony = open + 65).
    let late: [(&str, &str, &str); 8] = [
        // Awaiting the decision; decided in February, ceremony in March, file in May.
        ("late-0", "2025-11-07", "submit_to_competent"),
        // Awaiting the decision all year: due-soon reminder, then overdue.
        ("late-1", "2025-10-01", "submit_to_competent"),
        // Awaiting the decision; extended in January, refused in May.
        ("late-2", "2025-10-15", "submit_to_competent"),
        // Decided on 15/12/2025; no ceremony all year.
        ("late-3", "2025-10-21", "decide_admission"),
        // Probation since 10/3/2025: recognition vote in April, recognised.
        ("late-4", "2025-01-04", "file_member_history"),
        // Probation since 5/5/2025 in the branch without an address; nobody votes.
        ("late-5", "2025-03-01", "file_member_history"),
        // Probation since 15/1/2025 in a grassroots branch: the branch proposes to strike off,
        // nobody decides.
        ("late-6", "2024-11-11", "file_member_history"),
        // Probation since 20/6/2025: struck off in July.
        ("late-7", "2025-04-16", "file_member_history"),
    ];
    for (k, (label, open, until)) in late.iter().enumerate() {
        admission(
            &app,
            &mut cases,
            label,
            BRANCHES[k],
            date(open),
            Some(until),
            &org,
        )
        .await;
    }
    // disc-N: discipline (DISCIPLINE); the members they are about have an address.
    let mut subject_of: HashMap<String, String> = HashMap::new();
    for line in DISCIPLINE {
        let (head, steps) = line.split_once(": ").unwrap();
        let mut head = head.split(' ');
        let (label, branch) = (head.next().unwrap(), head.next().unwrap());
        let which: usize = head.next().unwrap().parse().unwrap();
        let branch = BRANCHES.into_iter().find(|b| *b == branch).unwrap();
        let m = members[branch][which].clone();
        let a = format!(
            "member{which}.{}@{MAIL_DOMAIN}",
            branch.to_ascii_lowercase()
        );
        app.ok(set_email, json!({ "id": m, "e": a })).await;
        org.member_address.insert(m.clone(), a);
        let account = format!("member{which}.{}", branch.to_ascii_lowercase());
        let token = app.account(&account, &[], Some(&m)).await;
        org.appellant.insert(label.to_owned(), token);
        let steps = discipline_steps(steps);
        discipline(&app, &mut cases, label, branch, &m, &steps, &org).await;
        subject_of.insert(cases.id(label), m);
    }
    let total_cases = cases.by_label.len();

    // --- What happens during the year: PLAN --------------------------------------------------
    let mut plan: BTreeMap<NaiveDate, Vec<(&str, &str)>> = BTreeMap::new();
    for (day, label, transition) in PLAN {
        plan.entry(date(day)).or_default().push((label, transition));
    }
    let setup = started.elapsed();

    // --- The worker, driven day by day ----------------------------------------------------
    let store = Store::connect(app.database_url()).await.unwrap();
    let catalog = memberflow_server::load_catalog(&memberflow_server::Config::default()).unwrap();
    let mailer = Mailer::new(
        &format!("smtp://{smtp}"),
        &format!("Memberflow <noreply@{MAIL_DOMAIN}>"),
    )
    .unwrap();
    let schedules = Schedules::default();
    let worker = Worker::new(
        store.clone(),
        Some(mailer),
        schedules.clone(),
        Recipients::default(),
        WorkerOptions {
            public_url: Some("https://memberflow.example.vn".into()),
            ..WorkerOptions::default()
        },
    )
    .with_catalog(Arc::new(catalog));

    // The loop of `Worker::run`, without its 30-second idle wake: a pass at the start of
    // each day, at every tick of a job (the job first), at the next retry or recurring tick
    // the outbox names (`Outbox::next_wake`), and at 10:00, after the day's steps.
    let sim = Instant::now();
    let mut total = DispatchReport::default();
    let mut enqueued: BTreeMap<Job, u64> = BTreeMap::new();
    let mut ticks_run: BTreeMap<Job, u64> = BTreeMap::new();
    let mut passes = 0u32;
    let last = start + Days::new(364);
    let mut last_day: Vec<Pass> = Vec::new();
    let mut day = start;
    while day <= last {
        let (mut now, end) = (at(day, 0, 0), at(day, 0, 0) + TimeDelta::days(1));
        let steps_at = at(day, 10, 0);
        let mut handled: HashMap<Job, DateTime<Utc>> = HashMap::new();
        let mut steps_done = false;
        loop {
            app.set_now(now);
            if !steps_done && now >= steps_at {
                for (label, t) in plan.remove(&day).unwrap_or_default() {
                    fire(&app, &org, &cases, label, day, t, inputs(label, t, day)).await;
                }
                steps_done = true;
            }
            let mut ran = Vec::new();
            for job in Job::ALL {
                let Some(tick) = schedules.latest_tick(job, now) else {
                    continue;
                };
                if tick < at(day, 0, 0) || handled.get(&job) == Some(&tick) {
                    continue;
                }
                *enqueued.entry(job).or_default() += worker.run_job(job, tick).await.unwrap();
                *ticks_run.entry(job).or_default() += 1;
                handled.insert(job, tick);
                ran.push((job, tick));
            }
            add(&mut total, worker.dispatch_due(now).await.unwrap());
            passes += 1;
            if day == last {
                last_day.push((now, ran));
            }
            let mut next = end;
            if let Some((_, t)) = schedules.next_after(now) {
                next = next.min(t);
            }
            if let Some(t) = store.outbox().next_wake(now, day).await.unwrap().at {
                next = next.min(t);
            }
            if !steps_done {
                next = next.min(steps_at);
            }
            if next >= end {
                break;
            }
            now = next;
        }
        day = day + Days::new(1);
    }
    assert!(plan.is_empty(), "steps left unplayed: {:?}", plan.keys());
    let sim_time = sim.elapsed();

    // The last day again: its ticks enqueue nothing new, its passes send nothing.
    let before = inbox.lock().unwrap().accepted.len();
    for (now, ran) in &last_day {
        for (job, tick) in ran {
            assert_eq!(
                worker.run_job(*job, *tick).await.unwrap(),
                0,
                "{job} at {tick} again"
            );
        }
        let r = worker.dispatch_due(*now).await.unwrap();
        assert!(
            r.is_empty(),
            "the last day again did something at {now}: {r:?}"
        );
    }
    assert_eq!(inbox.lock().unwrap().accepted.len(), before);

    // --- Checks --------------------------------------------------------------------------------
    let rows = store.outbox().records(None, None, 1_000_000).await.unwrap();
    let by_id: HashMap<i64, &OutboxRecord> = rows.iter().map(|r| (r.id, r)).collect();
    let case_unit: HashMap<String, &'static str> = cases
        .by_label
        .values()
        .map(|(id, code)| (id.clone(), *code))
        .collect();
    let label_of: HashMap<String, String> = cases
        .by_label
        .iter()
        .map(|(l, (id, _))| (id.clone(), l.clone()))
        .collect();
    let (mails, refusals) = {
        let smtp = inbox.lock().unwrap();
        (smtp.accepted.clone(), smtp.refused)
    };
    // Who a row must reach: the member the case is about, or the holder of its role.
    let recipient = |r: &OutboxRecord, to: &RoleRef, code: &str| {
        if to.role == "member" {
            let case = r.case_id.unwrap().to_string();
            subject_of
                .get(&case)
                .and_then(|m| org.member_address.get(m).cloned())
                .ok_or_else(|| format!("case {case} names no member with an address"))
        } else {
            org.expected(to, code)
        }
    };
    let label_of_row = |r: &OutboxRecord| {
        r.case_id
            .map_or_else(String::new, |c| label_of[&c.to_string()].clone())
    };

    // Once: no Message-ID twice, one mail per SENT row.
    let mut seen = HashSet::new();
    for m in &mails {
        let id = outbox_id(m).unwrap_or_else(|| panic!("no Message-ID: {m}"));
        assert!(seen.insert(id), "outbox-{id} delivered twice");
        assert!(
            header(m, "Message-ID")
                .unwrap()
                .ends_with(&format!("@{MAIL_DOMAIN}>")),
            "{m}"
        );
    }
    let sent: Vec<&OutboxRecord> = rows
        .iter()
        .filter(|r| r.status == OutboxStatus::Sent)
        .collect();
    assert_eq!(sent.len(), mails.len(), "SENT rows and mails received");
    assert_eq!(u32::try_from(mails.len()).unwrap(), total.sent);
    for r in &sent {
        assert!(
            seen.contains(&r.id),
            "row {} is SENT but no mail has its id",
            r.id
        );
    }

    // To the right people, and on the day they were due.
    let mut per_recipient: BTreeMap<String, u32> = BTreeMap::new();
    for m in &mails {
        let id = outbox_id(m).unwrap();
        let r = by_id[&id];
        let (template, to, code) = row_facts(r, &case_unit, &org);
        let want = recipient(r, &to, &code);
        let got = header(m, "To").unwrap_or_else(|| panic!("no To: {m}"));
        let got: BTreeSet<String> = got.split(',').map(|a| a.trim().to_owned()).collect();
        match want {
            Ok(w) => assert_eq!(
                got,
                BTreeSet::from([w]),
                "{template} to {to} about {code} (row {id})"
            ),
            Err(e) => {
                panic!("row {id} ({template} to {to} about {code}) was sent to {got:?}, but {e}")
            }
        }
        // Never to a secretary of another branch.
        for a in &got {
            if a.starts_with("secretary.") {
                assert!(
                    to.role == "secretary" && *a == address("secretary", &code),
                    "{template} about {code} went to {a}"
                );
            }
        }
        for a in got {
            *per_recipient.entry(a).or_default() += 1;
        }
        let sent_on = today_in_vietnam(r.sent_at.unwrap());
        assert_eq!(
            sent_on,
            r.due_on.max(start),
            "row {id} ({template}, due {}) sent on {sent_on}",
            r.due_on
        );
    }

    // Dead letters: exactly those for the unreachable branch's secretary, each naming her.
    let mut dead_by_kind: BTreeMap<&str, u32> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.kind != OutboxKind::RecurringReminder)
    {
        let (template, to, code) = row_facts(r, &case_unit, &org);
        let expected = recipient(r, &to, &code);
        let err = r.last_error.clone().unwrap_or_default();
        if r.status == OutboxStatus::Dead {
            *dead_by_kind.entry(r.kind.as_str()).or_default() += 1;
            match expected {
                Err(who) if who == username("secretary", UNREACHABLE) => assert!(
                    err.contains(&who)
                        && err.contains(UNREACHABLE)
                        && err.contains("has no e-mail address"),
                    "row {} ({template}): {err}",
                    r.id
                ),
                other => panic!(
                    "row {} ({template} to {to} about {code}) is dead ({err}); expected {other:?}",
                    r.id
                ),
            }
        } else if r.status == OutboxStatus::Sent {
            assert!(
                expected.is_ok(),
                "row {} ({template} about {code}) was sent",
                r.id
            );
        }
    }

    // Nothing left waiting that was due: the recurring reminders of cases still in their
    // state wait for their next tick (they are never sent themselves), and the reminders dated
    // after the year wait for their day.
    let mut waiting_recurring = 0;
    let mut waiting_future = 0;
    for r in rows.iter().filter(|r| r.status == OutboxStatus::Pending) {
        match r.kind {
            OutboxKind::RecurringReminder => {
                assert!(
                    r.next_attempt_at.unwrap() > at(last, 23, 59),
                    "row {}",
                    r.id
                );
                waiting_recurring += 1;
            }
            OutboxKind::Reminder if r.due_on > last => waiting_future += 1,
            _ => panic!(
                "row {} ({}) due {} is still pending: {r:?}",
                r.id,
                r.kind.as_str(),
                r.due_on
            ),
        }
    }

    // Every reminder each case calls for, once: mails (sent or dead) per case and template.
    let mut per_case: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for r in rows.iter().filter(|r| {
        matches!(r.status, OutboxStatus::Sent | OutboxStatus::Dead) && r.case_id.is_some()
    }) {
        let (template, _, _) = row_facts(r, &case_unit, &org);
        let label = label_of_row(r);
        let short = template.split('.').nth(1).unwrap_or(&template).to_owned();
        *per_case.entry(label).or_default().entry(short).or_default() += 1;
    }

    // The state each case ends the year in (the sweep's escalations included).
    let mut state_of: BTreeMap<String, String> = BTreeMap::new();
    for (label, (id, _)) in &cases.by_label {
        let d = app
            .ok(
                "query($id: ID!) { case(id: $id) { state } }",
                json!({ "id": id }),
            )
            .await;
        state_of.insert(
            label.clone(),
            d["case"]["state"].as_str().unwrap().to_owned(),
        );
    }
    // Mails of steps taken before the year (the outbox had never been worked): sent at the
    // first pass, at 00:00 on 1/1.
    let backlog = sent
        .iter()
        .filter(|r| r.created_at < at(start, 0, 0))
        .count();
    // A moved reminder does not go out at its old date (see EXPECTED).
    let stale_warning = rows.iter().find(|r| {
        label_of_row(r) == "cert-3"
            && r.kind == OutboxKind::Reminder
            && r.due_on == date("2026-04-20")
    });
    let due_soon: Vec<(NaiveDate, &str)> = rows
        .iter()
        .filter(|r| {
            label_of_row(r) == "late-2" && r.dedupe_key.contains(":admission_decision_soon:")
        })
        .map(|r| (r.due_on, r.status.as_str()))
        .collect();

    if std::env::var_os("MEMBERFLOW_SIM_DUMP").is_some() {
        for r in rows.iter().rev() {
            let label = label_of_row(r);
            let (template, _, unit) = row_facts(r, &case_unit, &org);
            println!(
                "row {:>4} {:<8} {:<18} {:<9} due {} sent {:?} {template} {unit} [{}] {}",
                r.id,
                label,
                r.kind.as_str(),
                r.status.as_str(),
                r.due_on,
                r.sent_at.map(|t| t
                    .with_timezone(&vietnam_offset())
                    .format("%F %R")
                    .to_string()),
                r.dedupe_key,
                r.last_error.as_deref().unwrap_or("")
            );
        }
    }

    // --- Figures ---------------------------------------------------------------------------
    let mut by_kind: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
    for r in &rows {
        *by_kind
            .entry(r.kind.as_str())
            .or_default()
            .entry(r.status.as_str())
            .or_default() += 1;
    }
    let mut mails_by_kind: BTreeMap<&str, u32> = BTreeMap::new();
    for m in &mails {
        *mails_by_kind
            .entry(by_id[&outbox_id(m).unwrap()].kind.as_str())
            .or_default() += 1;
    }
    let mut per_template: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for r in &rows {
        let e = per_template
            .entry(row_facts(r, &case_unit, &org).0)
            .or_default();
        match r.status {
            OutboxStatus::Sent => e.0 += 1,
            OutboxStatus::Dead => e.1 += 1,
            _ => {}
        }
    }
    let backend = if app.database_url().starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("\n== One simulated year ({backend}): {start} to {last} ==");
    println!(
        "province: {} units, {} accounts, {} members; {total_cases} cases; {} steps during the year",
        UNITS.len(),
        grants().len(),
        members.values().map(Vec::len).sum::<usize>(),
        PLAN.len()
    );
    println!("ticks run: {ticks_run:?}; rows enqueued by the jobs: {enqueued:?}; passes: {passes}");
    println!(
        "mails received: {} (per kind: {mails_by_kind:?})",
        mails.len()
    );
    println!(
        "dispatch: claimed {}, sent {}, retried {}, dead {}, lost {}, recurring ticks {}; SMTP refusals {}",
        total.claimed, total.sent, total.retried, total.dead, total.lost, total.ticks, refusals
    );
    println!("dead letters per kind: {dead_by_kind:?}");
    println!("rows per kind and status:");
    for (k, s) in &by_kind {
        println!("  {k:<20} {s:?}");
    }
    println!(
        "left pending: {waiting_recurring} recurring reminders, {waiting_future} reminders dated after the year"
    );
    println!("mails per template (sent, dead):");
    for (t, (sent, dead)) in &per_template {
        println!("  {t:<45} {sent:>4} {dead:>4}");
    }
    println!("of the mails, {backlog} are of steps taken before the year (sent at 00:00 on 1/1)");
    println!("mails per case and template (sent or dead), and the state at the end of the year:");
    for (c, state) in &state_of {
        let none = BTreeMap::new();
        println!(
            "  {c:<8} {:<27} {:?}",
            state,
            per_case.get(c).unwrap_or(&none)
        );
    }
    println!("moved reminders (see EXPECTED):");
    println!(
        "  cert-3: certificate renewed on 2026-03-02, yet the old warning dated 2026-04-20 is {}",
        stale_warning.map_or("absent", |r| r.status.as_str())
    );
    println!(
        "  late-2: deadline extended on 2026-01-05 to 2026-03-31; its due-soon reminders: {due_soon:?}"
    );
    println!("mails per recipient:");
    for (a, n) in &per_recipient {
        println!("  {a:<45} {n}");
    }
    println!(
        "time: setup {:.1} s, simulation {:.1} s, total {:.1} s",
        setup.as_secs_f64(),
        sim_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    for line in EXPECTED {
        let (head, want) = line.split_once(": ").unwrap();
        let (label, state) = head.split_once(' ').unwrap();
        let none = BTreeMap::new();
        assert_eq!(
            per_case.get(label).unwrap_or(&none),
            &expected_mails(want),
            "mails of {label}"
        );
        assert_eq!(state_of[label], state, "state of {label}");
    }
    assert_eq!(EXPECTED.len(), total_cases);
    // The renewed certificate's old warning was cancelled; the extended deadline's due-soon
    // reminder moved from 27/1 to March and went out once.
    assert_eq!(
        stale_warning.map(|r| r.status),
        Some(OutboxStatus::Cancelled)
    );
    assert_eq!(due_soon.len(), 2, "{due_soon:?}");
    assert!(
        due_soon.contains(&(date("2026-01-27"), "CANCELLED")),
        "{due_soon:?}"
    );
    assert!(
        due_soon
            .iter()
            .any(|(d, s)| *s == "SENT" && d.month() == 3 && *d < date("2026-03-31")),
        "{due_soon:?}"
    );
}
