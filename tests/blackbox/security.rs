//! Authorization, proved from the outside: the matrix of every role held at every unit of a
//! small tree (and everywhere) against every operation of the schema, cross-branch leaks
//! through nested fields and cursors, the confidentiality of disciplinary cases and their
//! access log, rate limits, the alias limit and CORS.
//!
//! The expected cells are written here as a specification (which roles, over which units),
//! not computed by the code under test.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt as _;
use memberflow_tests::{TestApp, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

use crate::support::{Board, member, unit};

/// The tree of the matrix: a province, a district, a grassroots committee and two branches.
struct Tree {
    p: String,
    d: String,
    g: String,
    b1: String,
    b2: String,
}

async fn tree(app: &TestApp) -> Tree {
    let p = unit(app, "P", "PROVINCE", None, "2004-01-01").await;
    let d = unit(app, "P-D", "DISTRICT", Some(&p), "2004-01-01").await;
    let g = unit(app, "P-D-G", "GRASSROOTS_COMMITTEE", Some(&d), "2004-01-01").await;
    let b1 = unit(app, "P-D-G-1", "BRANCH", Some(&g), "2004-01-01").await;
    let b2 = unit(app, "P-D-G-2", "BRANCH", Some(&g), "2004-01-01").await;
    Tree { p, d, g, b1, b2 }
}

const OPEN: &str = "mutation($i: OpenCaseInput!) { openCase(input: $i) { case { id } } }";

/// Opens an admission case in `branch` as the operator.
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

/// Opens a disciplinary case about `subject` of `branch` as the operator.
async fn discipline_case(app: &TestApp, branch: &str, subject: &str) -> String {
    let d = app
        .ok(
            OPEN,
            json!({ "i": { "definitionId": "discipline_member", "unitId": branch, "title": "Kỷ luật",
                "subjectMemberId": subject,
                "inputs": { "member_id": subject, "full_name": "Đối tượng", "unit": branch,
                    "subject_kind": "member", "membership": "official",
                    "detection_source": "supervision", "detected_on": "2026-11-20" } } }),
        )
        .await;
    d["openCase"]["case"]["id"].as_str().unwrap().to_owned()
}

/// Every role of the permission table.
const ROLES: [&str; 10] = [
    "secretary",
    "branch_committee",
    "executive_committee",
    "standing_committee",
    "committee",
    "inspection_commission",
    "secretariat",
    "organization_department",
    "auditor",
    "admin",
];

/// Who a cell's caller is.
#[derive(Clone, Debug)]
enum Caller {
    /// No token.
    Anonymous,
    /// An account with no role.
    NoRole,
    /// An account with one role, at a unit (by its name in the tree) or everywhere (`*`).
    Holds(&'static str, &'static str),
}

/// What an operation needs, as the specification says.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Nothing.
    Public,
    /// A login.
    LoggedIn,
    /// One of these roles, held at B1 or a unit above it, or everywhere.
    Over(&'static [&'static str]),
    /// One of these roles, held at G or a unit above it, or everywhere (what belongs to the
    /// grassroots committee itself: its hamlets).
    OverG(&'static [&'static str]),
    /// One of these roles, held everywhere.
    Everywhere(&'static [&'static str]),
    /// A workflow role the transition names: `(role, Some(unit))` held at that unit (or
    /// everywhere), `(role, None)` held at B1 or above (or everywhere).
    Fires(&'static [(&'static str, Option<&'static str>)]),
}

const ABOVE_B1: [&str; 5] = ["B1", "G", "D", "P", "*"];
const ABOVE_G: [&str; 4] = ["G", "D", "P", "*"];

fn expected(need: Need, caller: &Caller) -> &'static str {
    let (role, at) = match caller {
        Caller::Anonymous => {
            return if matches!(need, Need::Public) {
                "ALLOWED"
            } else {
                "UNAUTHENTICATED"
            };
        }
        Caller::NoRole => ("", ""),
        Caller::Holds(r, u) => (*r, *u),
    };
    let allowed = match need {
        Need::Public | Need::LoggedIn => true,
        Need::Over(roles) => roles.contains(&role) && ABOVE_B1.contains(&at),
        Need::OverG(roles) => roles.contains(&role) && ABOVE_G.contains(&at),
        Need::Everywhere(roles) => roles.contains(&role) && at == "*",
        Need::Fires(by) => by.iter().any(|(r, u)| {
            *r == role
                && match u {
                    Some(u) => at == *u || at == "*",
                    None => ABOVE_B1.contains(&at),
                }
        }),
    };
    if allowed { "ALLOWED" } else { "FORBIDDEN" }
}

const READ_MEMBERS: &[&str] = &[
    "secretary",
    "branch_committee",
    "executive_committee",
    "standing_committee",
    "committee",
    "inspection_commission",
    "secretariat",
    "organization_department",
    "auditor",
];
const READ_CASES: &[&str] = READ_MEMBERS;
const READ_CONFIDENTIAL: &[&str] = &[
    "secretary",
    "branch_committee",
    "executive_committee",
    "standing_committee",
    "committee",
    "inspection_commission",
    "secretariat",
    "auditor",
];
const EDIT_TREE: &[&str] = &["organization_department", "admin"];
const REGISTER: &[&str] = &["secretary", "organization_department"];
/// Who keeps the discipline register (confidential): not a branch's secretary.
const KEEP_DISCIPLINE: &[&str] = &[
    "executive_committee",
    "standing_committee",
    "committee",
    "inspection_commission",
    "secretariat",
];

/// One row of the matrix: an operation of the schema, with the variables of its call.
struct Row {
    op: &'static str,
    need: Need,
    query: String,
    vars: Value,
    /// Run with a session of its own (logout and changePassword end sessions).
    own_session: bool,
    /// A subscription, run over WebSocket.
    subscription: bool,
    /// A file sent as `$file` by GraphQL multipart request: its name and content.
    upload: Option<(&'static str, String)>,
}

fn row(op: &'static str, need: Need, query: &str, vars: Value) -> Row {
    Row {
        op,
        need,
        query: query.to_owned(),
        vars,
        own_session: false,
        subscription: false,
        upload: None,
    }
}

struct Fixture {
    t: Tree,
    member: String,
    admission: String,
    discipline: String,
    /// A pending reminder, addressed to `secretary@branch`, of another admission case of B1.
    reminder: String,
    /// An exemption of `member` (S15), from 2026-01-01.
    exemption: String,
    /// A hamlet of G, from 2010-01-01.
    hamlet: String,
}

/// Opens an admission case in `branch` and records the awareness certificate: A2 schedules
/// the certificate's expiry warning for the branch secretary. Returns the reminder's id.
async fn pending_reminder(app: &TestApp, branch: &str) -> String {
    let case = admission_case(app, branch, "Có giấy chứng nhận").await;
    app.ok(
        "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
        json!({ "i": { "caseId": case, "transition": "record_awareness_certificate",
            "inputs": { "certificate_date": "2026-11-20" } } }),
    )
    .await;
    let d = app
        .ok(
            "query($c: ID!) { outbox(caseId: $c, status: PENDING) { id kind payload } }",
            json!({ "c": case }),
        )
        .await;
    let rows = d["outbox"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["kind"] == "REMINDER")
        .unwrap_or_else(|| panic!("no pending reminder: {d:#}"));
    assert_eq!(
        row["payload"]["to"],
        json!({ "role": "secretary", "level": "branch" }),
        "{row:#}"
    );
    row["id"].as_str().unwrap().to_owned()
}

fn rows(f: &Fixture) -> Vec<Row> {
    let t = &f.t;
    let mut rows = vec![
        row(
            "unit",
            Need::LoggedIn,
            "query($id: ID!) { unit(id: $id) { code } }",
            json!({ "id": t.b1 }),
        ),
        row("roots", Need::LoggedIn, "{ roots { code } }", json!({})),
        row("today", Need::Public, "{ today }", json!({})),
        row("me", Need::Public, "{ me { username } }", json!({})),
        row(
            "member",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { member(id: $id) { fullName } }",
            json!({ "id": f.member }),
        ),
        row(
            "case",
            Need::Over(READ_CASES),
            "query($id: ID!) { case(id: $id) { state } }",
            json!({ "id": f.admission }),
        ),
        row(
            "case",
            Need::Over(READ_CONFIDENTIAL),
            "query($id: ID!) { case(id: $id) { state } }",
            json!({ "id": f.discipline }),
        ),
        row(
            "cases",
            Need::LoggedIn,
            "{ cases { totalCount } }",
            json!({}),
        ),
        row(
            "workflows",
            Need::LoggedIn,
            "{ workflows { id } }",
            json!({}),
        ),
        row(
            "admissionTarget",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { admissionTarget(unitId: $id, year: 2026) { year } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "disciplineStatistics",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { disciplineStatistics(unitId: $id, from: \"2026-01-01\", to: \"2026-06-30\") { disciplined } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "unitsWithoutAdmission",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { unitsWithoutAdmission(unitId: $id, years: 5, on: \"2026-06-30\") { lookedAt } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "disciplineInForce",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { disciplineInForce(unitId: $id, on: \"2026-06-30\") { members } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "member",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { member(id: $id) { disciplineInForce { form decisionDate } } }",
            json!({ "id": f.member }),
        ),
        row(
            "temporaryActivity",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { temporaryActivity(unitId: $id, on: \"2026-06-30\") { on } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "recordTemporaryActivity",
            Need::Over(REGISTER),
            "mutation($id: ID!) { recordTemporaryActivity(input: { memberId: $id, place: \" \", from: \"2026-06-01\" }) { id } }",
            json!({ "id": f.member }),
        ),
        row(
            "endTemporaryActivity",
            Need::Over(REGISTER),
            "mutation($id: ID!) { endTemporaryActivity(memberId: $id, on: \"2026-06-01\") { id } }",
            json!({ "id": f.member }),
        ),
        row(
            "hamletsWithout",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { hamletsWithout(unitId: $id, on: \"2026-06-30\") { lookedAt } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "recordHamlet",
            Need::Over(REGISTER),
            "mutation($id: ID!) { recordHamlet(input: { unitId: $id, code: \"AP-X\", name: \"Ấp X\", kind: HAMLET, from: \"2020-01-01\" }) { id } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "linkHamletBranch",
            Need::Over(REGISTER),
            "mutation($h: ID!, $id: ID!) { linkHamletBranch(hamletId: $h, unitId: $id, from: \"2020-01-01\") { from } }",
            json!({ "h": f.hamlet, "id": t.b1 }),
        ),
        row(
            "setMemberResidence",
            Need::Over(REGISTER),
            "mutation($h: ID!, $id: ID!) { setMemberResidence(memberId: $id, hamletId: $h, from: \"2020-01-01\") { from } }",
            json!({ "h": f.hamlet, "id": f.member }),
        ),
        row(
            "mergeHamlets",
            Need::OverG(REGISTER),
            "mutation($h: ID!) { mergeHamlets(sourceIds: [$h], targetId: $h, on: \"2026-06-01\") { id } }",
            json!({ "h": f.hamlet }),
        ),
        row(
            "endHamlet",
            Need::OverG(REGISTER),
            "mutation($h: ID!) { endHamlet(hamletId: $h, on: \"2026-06-01\") { id } }",
            json!({ "h": f.hamlet }),
        ),
        row(
            "violationCatalogue",
            Need::LoggedIn,
            "{ violationCatalogue { ruleSet } }",
            json!({}),
        ),
        row(
            "outbox",
            Need::Everywhere(&["admin", "auditor"]),
            "{ outbox { id } }",
            json!({}),
        ),
        row(
            "upcoming",
            Need::LoggedIn,
            "query($id: ID!) { upcoming(unitId: $id) { kind } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "myUpcoming",
            Need::LoggedIn,
            "{ myUpcoming { kind } }",
            json!({}),
        ),
        row(
            "mailPreview",
            Need::Over(READ_CASES),
            "query($id: ID!) { mailPreview(id: $id) { subject } }",
            json!({ "id": f.reminder }),
        ),
        row(
            "setMemberEmail",
            Need::Over(REGISTER),
            "mutation($id: ID!) { setMemberEmail(memberId: $id, email: \"not an address\") { id } }",
            json!({ "id": f.member }),
        ),
        // S15: allowed calls fail on their input (an unknown ground; a lift on the first day).
        row(
            "exemptMember",
            Need::Over(REGISTER),
            "mutation($id: ID!) { exemptMember(memberId: $id, ground: \"not_a_ground\", decision: \"NQ\", validFrom: \"2024-01-01\", validTo: \"2024-06-01\") { id } }",
            json!({ "id": f.member }),
        ),
        row(
            "liftExemption",
            Need::Over(REGISTER),
            "mutation($id: ID!) { liftExemption(exemptionId: $id, on: \"2026-01-01\", decision: \"NQ\") { id } }",
            json!({ "id": f.exemption }),
        ),
        row(
            "awardBadge",
            Need::Over(REGISTER),
            "mutation($id: ID!) { awardBadge(memberId: $id, years: 31, awardDate: \"2026-09-02\") { years } }",
            json!({ "id": f.member }),
        ),
        // Mutations: an allowed call fails on its input (or changes nothing harmful); the
        // cell checks that it got past authorization.
        row(
            "createUnit",
            Need::Over(EDIT_TREE),
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "code": "X", "name": "X", "kind": "BRANCH", "parentId": t.b1, "validFrom": "2026-01-01" } }),
        ),
        row(
            "moveUnit",
            Need::Over(EDIT_TREE),
            "mutation($i: MoveUnitInput!) { moveUnit(input: $i) { id } }",
            json!({ "i": { "unitId": t.b1, "newParentId": t.b1, "effectiveDate": "2026-01-01" } }),
        ),
        row(
            "mergeUnits",
            Need::Over(EDIT_TREE),
            "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { id } }",
            json!({ "i": { "sourceIds": [t.b1], "targetId": t.b1, "effectiveDate": "2026-01-01" } }),
        ),
        row(
            "dissolveUnit",
            Need::Over(EDIT_TREE),
            "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { id } }",
            json!({ "i": { "unitId": t.b1, "effectiveDate": "2026-01-01" } }),
        ),
        row(
            "registerMember",
            Need::Over(REGISTER),
            "mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id } }",
            json!({ "i": { "unitId": t.b1, "unitSince": "2015-01-01", "fullName": "", "dateOfBirth": "1985-03-04",
                "sex": "FEMALE", "education": "UPPER_SECONDARY", "status": "OFFICIAL" } }),
        ),
        row(
            "openCase",
            Need::Fires(&[("secretary", Some("B1"))]),
            OPEN,
            json!({ "i": { "definitionId": "admission", "unitId": t.b1, "title": "X", "inputs": {} } }),
        ),
        row(
            "fireTransition",
            Need::Fires(&[("secretary", Some("B1"))]),
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
            json!({ "i": { "caseId": f.admission, "transition": "record_awareness_certificate", "dryRun": true, "inputs": {} } }),
        ),
        row(
            "fireTransition",
            Need::Fires(&[
                ("secretary", Some("B1")),
                ("inspection_commission", None),
                ("standing_committee", None),
                ("committee", None),
            ]),
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
            json!({ "i": { "caseId": f.discipline, "transition": "start_inspection", "dryRun": true, "inputs": {} } }),
        ),
        row(
            "migrateCases",
            Need::Everywhere(&["admin"]),
            "mutation { migrateCases(input: { definitionId: \"admission\" }) { caseId } }",
            json!({}),
        ),
        row(
            "requeueDeadLetter",
            Need::Everywhere(&["admin"]),
            "mutation { requeueDeadLetter(id: \"999999\") { id } }",
            json!({}),
        ),
        row(
            "searchMembers",
            Need::Over(READ_MEMBERS),
            "query($id: ID!) { searchMembers(query: \"dang vien\", unitId: $id) { fullName } }",
            json!({ "id": t.b1 }),
        ),
        row(
            "accounts",
            Need::Everywhere(&["admin"]),
            "{ accounts(search: \"an\") { username } }",
            json!({}),
        ),
        row(
            "accountsConnection",
            Need::Everywhere(&["admin"]),
            "{ accountsConnection(search: \"an\", first: 2) { totalCount nodes { username displayName } } }",
            json!({}),
        ),
        // The administrators' mutations, with inputs that change nothing when allowed (a
        // password too short, an account that does not exist).
        row(
            "createAccount",
            Need::Everywhere(&["admin"]),
            "mutation { createAccount(username: \"matrix\", password: \"short\") { username } }",
            json!({}),
        ),
        row(
            "grantRole",
            Need::Everywhere(&["admin"]),
            "mutation { grantRole(username: \"nobody-at-all\", role: \"secretary\") { username } }",
            json!({}),
        ),
        row(
            "revokeRole",
            Need::Everywhere(&["admin"]),
            "mutation { revokeRole(username: \"nobody-at-all\", role: \"secretary\") { username } }",
            json!({}),
        ),
        row(
            "disableAccount",
            Need::Everywhere(&["admin"]),
            "mutation { disableAccount(username: \"nobody-at-all\") { username } }",
            json!({}),
        ),
        row(
            "login",
            Need::Public,
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            json!({}),
        ),
    ];
    // Marking the reminder handled: the holder of its role on the case (the first allowed
    // cell marks it; the others then find it handled, a CONFLICT, not a refusal).
    rows.push(row(
        "markReminderHandled",
        Need::Fires(&[("secretary", Some("B1"))]),
        "mutation($id: ID!) { markReminderHandled(id: $id, note: \"Đã nhắc trực tiếp\") { status } }",
        json!({ "id": f.reminder }),
    ));
    // Imports into B1: a member of B1 (the preview); the same and a row naming a unit that
    // does not exist (the import: refused whole, so the allowed cells write nothing either).
    let member_b1 = "Số thẻ đảng viên,Họ và tên,Ngày sinh,Giới tính,Dân tộc,Ngày quyết định kết nạp,Ngày lễ kết nạp,Ngày công nhận chính thức,Chi bộ,Sinh hoạt từ ngày,Tình trạng\n\
         0900001,Ma Trận,1985-01-01,Nam,Kinh,2010-05-10,2010-06-01,2011-06-01,P-D-G-1,2015-01-01,OFFICIAL\n";
    let mut preview = row(
        "importPreview",
        Need::Over(REGISTER),
        "mutation($file: Upload!, $id: ID) { importPreview(file: $file, unitId: $id) { passes } }",
        json!({ "id": t.b1 }),
    );
    preview.upload = Some(("dang-vien.csv", member_b1.to_owned()));
    rows.push(preview);
    let mut import = row(
        "importFile",
        Need::Over(REGISTER),
        "mutation($file: Upload!, $id: ID) { importFile(file: $file, unitId: $id) { written } }",
        json!({ "id": t.b1 }),
    );
    import.upload = Some((
        "dang-vien.csv",
        format!(
            "{member_b1}0900002,Ngoài Cây,1985-01-01,Nam,Kinh,2010-05-10,2010-06-01,2011-06-01,P-ZZZ,2015-01-01,OFFICIAL\n"
        ),
    ));
    rows.push(import);
    rows.push(row(
        "exportRegistry",
        Need::Over(READ_MEMBERS),
        "query($id: ID) { exportRegistry(unitId: $id, kind: MEMBERS, format: CSV) { members } }",
        json!({ "id": t.b1 }),
    ));
    rows.push(row(
        "exportRegistry",
        Need::Over(&ROLES),
        "query($id: ID) { exportRegistry(unitId: $id, kind: UNITS, format: CSV) { units } }",
        json!({ "id": t.b1 }),
    ));
    // The hamlets kind: recorded as `recordHamlet` needs (REGISTER_MEMBERS over `unitId`; the
    // grassroots committee's hamlet lies outside B1, a problem of the preview, not a refusal),
    // read as the tree is; badges read as members are.
    let mut hamlets = row(
        "importPreview",
        Need::Over(REGISTER),
        "mutation($file: Upload!, $id: ID) { importPreview(file: $file, unitId: $id, kind: HAMLETS) { passes } }",
        json!({ "id": t.b1 }),
    );
    hamlets.upload = Some((
        "ap.csv",
        "Mã ấp,Tên ấp,Loại ấp,Đơn vị cấp xã,Từ ngày\nP-D-G-AP2,Ấp 2,HAMLET,P-D-G,2010-01-01\n"
            .to_owned(),
    ));
    rows.push(hamlets);
    rows.push(row(
        "exportRegistry",
        Need::Over(&ROLES),
        "query($id: ID) { exportRegistry(unitId: $id, kind: HAMLETS, format: CSV) { units } }",
        json!({ "id": t.b1 }),
    ));
    rows.push(row(
        "exportRegistry",
        Need::Over(READ_MEMBERS),
        "query($id: ID) { exportRegistry(unitId: $id, kind: BADGES, format: CSV) { members } }",
        json!({ "id": t.b1 }),
    ));
    // The discipline register: confidential, kept by the inspection commissions and the
    // committees (an unknown card number is a problem of the preview, not a refusal).
    let mut discipline = row(
        "importPreview",
        Need::Over(KEEP_DISCIPLINE),
        "mutation($file: Upload!, $id: ID) { importPreview(file: $file, unitId: $id, kind: DISCIPLINE) { passes } }",
        json!({ "id": t.b1 }),
    );
    discipline.upload = Some((
        "ky-luat.csv",
        "Số thẻ đảng viên,Hình thức kỷ luật,Ngày quyết định\n0900009,REPRIMAND,2020-01-01\n"
            .to_owned(),
    ));
    rows.push(discipline);
    rows.push(row(
        "exportRegistry",
        Need::Over(KEEP_DISCIPLINE),
        "query($id: ID) { exportRegistry(unitId: $id, kind: DISCIPLINE, format: CSV) { members } }",
        json!({ "id": t.b1 }),
    ));
    let mut logout = row("logout", Need::LoggedIn, "mutation { logout }", json!({}));
    logout.own_session = true;
    rows.push(logout);
    let mut change = row(
        "changePassword",
        Need::LoggedIn,
        "mutation($p: String!) { changePassword(oldPassword: $p, newPassword: $p) }",
        json!({ "p": memberflow_tests::TEST_PASSWORD }),
    );
    change.own_session = true;
    rows.push(change);
    let mut sub = row(
        "caseChanged",
        Need::Over(READ_CASES),
        "subscription($id: ID!) { caseChanged(unitId: $id) { caseId } }",
        json!({ "id": t.b1 }),
    );
    sub.subscription = true;
    rows.push(sub);
    rows
}

/// The operations the committed schema declares, as `Query.x`, `Mutation.y`, ...
fn schema_operations() -> BTreeSet<String> {
    let sdl = include_str!("../../schemas/graphql/schema.graphql");
    let mut out = BTreeSet::new();
    let mut current: Option<&str> = None;
    let mut in_doc = false;
    for line in sdl.lines() {
        let l = line.trim();
        if l.starts_with("\"\"\"") {
            // A one-line doc string opens and closes on the same line.
            if !(l.len() > 3 && l.ends_with("\"\"\"")) {
                in_doc = !in_doc;
            }
            continue;
        }
        if in_doc {
            continue;
        }
        if let Some(rest) = l.strip_prefix("type ") {
            let name = rest.split_whitespace().next().unwrap_or("");
            current = ["Query", "Mutation", "Subscription"]
                .into_iter()
                .find(|t| *t == name);
            continue;
        }
        if l == "}" {
            current = None;
            continue;
        }
        if let Some(t) = current {
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
            let _ = t;
        }
    }
    out
}

/// Runs a subscription over WebSocket: `ALLOWED` when no error comes back, else the code.
async fn subscribe(app: &TestApp, token: Option<&str>, r: &Row, expect: &str) -> String {
    let mut board = Board::start(app, token, &r.query, r.vars.clone()).await;
    // A refusal comes back at once; an allowed subscription stays quiet. Wait long for the
    // refusal a cell expects, briefly for the silence of an allowed one.
    let wait = if expect == "ALLOWED" {
        Duration::from_millis(300)
    } else {
        Duration::from_secs(10)
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(v) = board.within(left).await else {
            return "ALLOWED".into();
        };
        // A resolver's refusal comes as a `next` carrying errors; a malformed subscription
        // as an `error`.
        let errors = match v["type"].as_str() {
            Some("error") => &v["payload"],
            Some("next") => &v["payload"]["errors"],
            _ => &Value::Null,
        };
        if let Some(first) = errors.get(0) {
            return first["extensions"]["code"]
                .as_str()
                .unwrap_or("NO_CODE")
                .to_owned();
        }
    }
}

fn classify(r: &Value) -> String {
    match r["errors"][0]["extensions"]["code"].as_str() {
        Some(c @ ("FORBIDDEN" | "UNAUTHENTICATED")) => c.to_owned(),
        Some(_) => "ALLOWED".to_owned(),
        None if r.get("errors").is_some() => format!("NO_CODE {r}"),
        None => "ALLOWED".to_owned(),
    }
}

async fn run_cell(
    app: &TestApp,
    tokens: &std::collections::HashMap<String, String>,
    name: &str,
    r: &Row,
    expect: &str,
) -> String {
    let token = tokens.get(name).cloned();
    if r.subscription {
        return subscribe(app, token.as_deref(), r, expect).await;
    }
    let mut vars = r.vars.clone();
    if r.op == "login" {
        vars = json!({ "u": if name == "anonymous" { "no_role" } else { name }, "p": memberflow_tests::TEST_PASSWORD });
    }
    if r.op == "createUnit" {
        vars["i"]["code"] = json!(format!("X-{name}"));
    }
    let token = match (&token, r.own_session) {
        (Some(_), true) => Some(app.session_of(name).await),
        (t, _) => t.clone(),
    };
    let resp = match (token, &r.upload) {
        (t, Some((file, body))) => {
            app.upload_as(t.as_deref(), &r.query, vars, (file, body.as_bytes()))
                .await
                .1
        }
        (Some(t), None) => app.gql_as(&t, &r.query, vars).await,
        (None, None) => app.gql_anon(&r.query, vars).await,
    };
    classify(&resp)
}

#[tokio::test]
async fn the_authorization_matrix_covers_every_operation_and_denied_calls_change_nothing() {
    let app = spawn_app().await;
    let t = tree(&app).await;
    let m = member(&app, &t.b1, "Đảng viên B1").await;
    let admission = admission_case(&app, &t.b1, "Ứng viên").await;
    let discipline = discipline_case(&app, &t.b1, &m).await;
    let reminder = pending_reminder(&app, &t.b1).await;
    let exemption = app
        .ok(
            "mutation($m: ID!) { exemptMember(memberId: $m, ground: \"elderly\", decision: \"NQ 01\", validFrom: \"2026-01-01\") { id } }",
            json!({ "m": m }),
        )
        .await["exemptMember"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hamlet = app
        .ok(
            "mutation($g: ID!) { recordHamlet(input: { unitId: $g, code: \"P-D-G-AP1\", name: \"Ấp 1\", kind: HAMLET, from: \"2010-01-01\" }) { id } }",
            json!({ "g": t.g }),
        )
        .await["recordHamlet"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f = Fixture {
        t,
        member: m,
        admission,
        discipline,
        reminder,
        exemption,
        hamlet,
    };
    let rows = rows(&f);

    // Every operation of the schema has a row: a new one fails here until it gets one.
    let covered: BTreeSet<String> = rows.iter().map(|r| r.op.to_owned()).collect();
    assert_eq!(
        covered,
        schema_operations(),
        "the matrix and the schema's operations differ"
    );

    // The callers: anonymous, an account with no role, and every role at every unit where it
    // can be held, and everywhere.
    let units = [
        ("P", &f.t.p),
        ("D", &f.t.d),
        ("G", &f.t.g),
        ("B1", &f.t.b1),
        ("B2", &f.t.b2),
    ];
    let mut callers: Vec<(String, Caller)> = vec![
        ("anonymous".into(), Caller::Anonymous),
        ("no_role".into(), Caller::NoRole),
    ];
    let mut tokens = std::collections::HashMap::new();
    tokens.insert(
        "no_role".to_owned(),
        app.account("no_role", &[], None).await,
    );
    let mut refused_grants = 0;
    for role in ROLES {
        for (pos, id) in units
            .iter()
            .map(|(p, id)| (*p, Some(id.as_str())))
            .chain([("*", None)])
        {
            let name = format!("{role}@{pos}");
            match app.try_account(&name, &[(role, id)], None).await {
                Ok(token) => {
                    tokens.insert(name.clone(), token);
                    callers.push((name, Caller::Holds(role, pos)));
                }
                Err(e) => {
                    // A role that does not exist at that kind of unit (D22, ...).
                    assert!(e.contains("does not exist at"), "{e}");
                    refused_grants += 1;
                }
            }
        }
    }
    assert!(refused_grants > 0, "some grants must be refused (D22)");

    // First every cell that must be refused, with a fingerprint of the database around them:
    // no refused call may change anything. Then the allowed ones.
    let mut cells = Vec::new();
    for (name, caller) in &callers {
        for r in &rows {
            cells.push((name.clone(), caller.clone(), r, expected(r.need, caller)));
        }
    }
    let before = app.row_counts().await;
    let denied: Vec<_> = cells.iter().filter(|c| c.3 != "ALLOWED").collect();
    let results: Vec<String> = futures::stream::iter(denied.iter().map(|(name, _, r, expect)| {
        let tokens = &tokens;
        let app = &app;
        async move { run_cell(app, tokens, name, r, expect).await }
    }))
    .buffered(8)
    .collect()
    .await;
    let mut wrong = Vec::new();
    for ((name, _, r, expect), got) in denied.iter().zip(&results) {
        if got != expect {
            wrong.push(format!("{name} × {}: expected {expect}, got {got}", r.op));
        }
    }
    assert_eq!(
        app.row_counts().await,
        before,
        "a refused call changed the database"
    );
    // Allowed cells; those that end sessions (logout, changePassword) last, since a password
    // change ends every session of the account.
    let allowed: Vec<_> = cells.iter().filter(|c| c.3 == "ALLOWED").collect();
    let phase = |op: Option<&str>| -> Vec<_> {
        allowed
            .iter()
            .copied()
            .filter(|c| match op {
                None => !c.2.own_session,
                Some(op) => c.2.op == op,
            })
            .collect()
    };
    let (ordinary, logouts, changes) = (
        phase(None),
        phase(Some("logout")),
        phase(Some("changePassword")),
    );
    let mut results: Vec<String> = Vec::new();
    for phase in [&ordinary, &logouts, &changes] {
        let got: Vec<String> = futures::stream::iter(phase.iter().map(|(name, _, r, expect)| {
            let tokens = &tokens;
            let app = &app;
            async move { run_cell(app, tokens, name, r, expect).await }
        }))
        .buffered(8)
        .collect()
        .await;
        results.extend(got);
    }
    for ((name, _, r, expect), got) in ordinary
        .iter()
        .chain(&logouts)
        .chain(&changes)
        .zip(&results)
    {
        if got != expect {
            wrong.push(format!("{name} × {}: expected {expect}, got {got}", r.op));
        }
    }
    eprintln!(
        "authorization matrix: {} callers × {} rows = {} cells ({} refused, {} allowed)",
        callers.len(),
        rows.len(),
        cells.len(),
        denied.len(),
        allowed.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {} cells wrong:\n{}",
        wrong.len(),
        cells.len(),
        wrong.join("\n")
    );
    assert!(
        denied.len() > 300 && allowed.len() > 300,
        "{} / {}",
        denied.len(),
        allowed.len()
    );
}

/// The members and cases of one branch, and a secretary for each branch.
struct TwoBranches {
    app: TestApp,
    t: Tree,
    m1: String,
    m2: String,
    a1: String,
    a2: String,
    d1: String,
    sec1: String,
    sec2: String,
}

async fn two_branches() -> TwoBranches {
    let app = spawn_app().await;
    let t = tree(&app).await;
    let m1 = member(&app, &t.b1, "Nguyễn Thị Một").await;
    let m2 = member(&app, &t.b2, "Trần Văn Hai").await;
    let a1 = admission_case(&app, &t.b1, "Ứng viên Một").await;
    let a2 = admission_case(&app, &t.b2, "Ứng viên Hai").await;
    let d1 = discipline_case(&app, &t.b1, &m1).await;
    let sec1 = app
        .account("sec1", &[("secretary", Some(&t.b1))], None)
        .await;
    let sec2 = app
        .account("sec2", &[("secretary", Some(&t.b2))], None)
        .await;
    TwoBranches {
        app,
        t,
        m1,
        m2,
        a1,
        a2,
        d1,
        sec1,
        sec2,
    }
}

#[tokio::test]
async fn a_secretary_never_receives_another_branch_s_members_through_nested_fields() {
    let w = two_branches().await;
    let app = &w.app;
    // Straight: refused.
    let r = app
        .gql_as(
            &w.sec2,
            "query($id: ID!) { member(id: $id) { fullName } }",
            json!({ "id": w.m1 }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    // Through the tree: the grassroots committee's children, each with its members, and the
    // committee's members with the subtree.
    let q = "query($id: ID!) { unit(id: $id) {
        children { code members { nodes { fullName } } memberCount }
        members(includeSubtree: true) { nodes { fullName } } } }";
    let r = app.gql_as(&w.sec2, q, json!({ "id": w.t.g })).await;
    let text = r.to_string();
    assert!(!text.contains("Nguyễn Thị Một"), "{r:#}");
    assert!(
        r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["extensions"]["code"] == "FORBIDDEN"),
        "{r:#}"
    );
    // Their own branch through the same path is fine.
    let r = app
        .gql_as(
            &w.sec2,
            "query($id: ID!) { unit(id: $id) { members { nodes { fullName } } } }",
            json!({ "id": w.t.b2 }),
        )
        .await;
    assert_eq!(
        r["data"]["unit"]["members"]["nodes"][0]["fullName"],
        "Trần Văn Hai"
    );
    // Their own record is readable by a member with no role.
    let own = app.account("hai", &[], Some(&w.m2)).await;
    let r = app
        .gql_as(
            &own,
            "query($id: ID!) { member(id: $id) { fullName } }",
            json!({ "id": w.m2 }),
        )
        .await;
    assert_eq!(r["data"]["member"]["fullName"], "Trần Văn Hai", "{r:#}");
    let r = app
        .gql_as(
            &own,
            "query($id: ID!) { member(id: $id) { fullName } }",
            json!({ "id": w.m1 }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

#[tokio::test]
async fn case_lists_pages_cursors_and_counts_stay_inside_the_caller_s_scope() {
    let w = two_branches().await;
    let app = &w.app;
    let q = "query($after: String, $f: CaseFilterInput) { cases(first: 1, after: $after, filter: $f) {
        totalCount edges { cursor node { id unit { code } } } pageInfo { hasNextPage endCursor } } }";
    // The operator sees the three cases.
    let all = app.ok(q, json!({})).await;
    assert_eq!(all["cases"]["totalCount"], 3);
    // The second branch's secretary: its own admission case only, whatever the cursor.
    let mine = app.gql_as(&w.sec2, q, json!({})).await;
    assert_eq!(mine["data"]["cases"]["totalCount"], 1, "{mine:#}");
    assert_eq!(
        mine["data"]["cases"]["edges"][0]["node"]["id"],
        w.a2.as_str()
    );
    assert_eq!(mine["data"]["cases"]["pageInfo"]["hasNextPage"], false);
    // A cursor taken from the operator's listing (pointing before B1's cases) does not open
    // a way into them.
    let first_cursor = all["cases"]["edges"][0]["cursor"].as_str().unwrap();
    let r = app
        .gql_as(&w.sec2, q, json!({ "after": first_cursor }))
        .await;
    let ids: Vec<&str> = r["data"]["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&w.a1.as_str()) && !ids.contains(&w.d1.as_str()),
        "{r:#}"
    );
    // Asking for B1's cases by filter gives nothing, not an error that confirms them.
    let r = app
        .gql_as(&w.sec2, q, json!({ "f": { "unitId": w.t.b1 } }))
        .await;
    assert_eq!(r["data"]["cases"]["totalCount"], 0, "{r:#}");
    // B1's secretary sees both of B1's cases, disciplinary included.
    let r = app.gql_as(&w.sec1, q, json!({})).await;
    assert_eq!(r["data"]["cases"]["totalCount"], 2, "{r:#}");
    // Organization-department staff of the province: every admission case, no discipline.
    let org = app
        .account("org", &[("organization_department", Some(&w.t.p))], None)
        .await;
    let r = app.gql_as(&org, q, json!({})).await;
    assert_eq!(r["data"]["cases"]["totalCount"], 2, "{r:#}");
    let r = app
        .gql_as(
            &org,
            "query($id: ID!) { case(id: $id) { state } }",
            json!({ "id": w.d1 }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
}

const VOTES: &str = "query($id: ID!) { case(id: $id) { state facts votes { seq } } }";

#[tokio::test]
async fn a_disciplinary_case_is_read_by_its_bodies_seen_by_its_member_without_votes_and_every_read_is_logged()
 {
    let w = two_branches().await;
    let app = &w.app;
    // The member concerned: the case's course, without the votes or what the bodies wrote.
    let subject = app.account("mot", &[], Some(&w.m1)).await;
    let r = app
        .gql_as(
            &subject,
            "query($id: ID!) { case(id: $id) { state facts history { transition inputs } } }",
            json!({ "id": w.d1 }),
        )
        .await;
    assert_eq!(r["data"]["case"]["state"], "Detected", "{r:#}");
    assert_eq!(r["data"]["case"]["facts"], json!({}));
    assert_eq!(r["data"]["case"]["history"][0]["inputs"], json!({}));
    let r = app.gql_as(&subject, VOTES, json!({ "id": w.d1 })).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    // Their own case is in their list, and nothing else.
    let r = app
        .gql_as(&subject, "{ cases { totalCount nodes { id } } }", json!({}))
        .await;
    assert_eq!(r["data"]["cases"]["totalCount"], 1, "{r:#}");
    // A party to the case cannot act on it, whatever role they hold: a secretary disciplined
    // by their own branch.
    let sec_subject = app
        .account(
            "mot_secretary",
            &[("secretary", Some(&w.t.b1))],
            Some(&w.m1),
        )
        .await;
    let r = app
        .gql_as(
            &sec_subject,
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
            json!({ "i": { "caseId": w.d1, "transition": "close_no_violation", "dryRun": true, "inputs": {} } }),
        )
        .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "{r:#}");
    // ...while the same account acts on the branch's other cases.
    let r = app
        .gql_as(
            &sec_subject,
            "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
            json!({ "i": { "caseId": w.a1, "transition": "record_awareness_certificate", "dryRun": true, "inputs": {} } }),
        )
        .await;
    assert_ne!(error_code(&r), "FORBIDDEN", "{r:#}");
    // The inspection commission of the grassroots committee reads it, votes included.
    let ic = app
        .account("ic", &[("inspection_commission", Some(&w.t.g))], None)
        .await;
    let r = app.gql_as(&ic, VOTES, json!({ "id": w.d1 })).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    // The other branch's secretary does not.
    let r = app.gql_as(&w.sec2, VOTES, json!({ "id": w.d1 })).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    // Who looked, and when: the auditor sees the log; a secretary may not.
    let auditor = app
        .account("auditor", &[("auditor", Some(&w.t.p))], None)
        .await;
    let log = "query($id: ID!) { case(id: $id) { accessLog { username action at } } }";
    let r = app.gql_as(&auditor, log, json!({ "id": w.d1 })).await;
    let names: Vec<&str> = r["data"]["case"]["accessLog"]
        .as_array()
        .unwrap_or_else(|| panic!("{r:#}"))
        .iter()
        .map(|e| e["username"].as_str().unwrap())
        .collect();
    for who in ["mot", "ic", "auditor"] {
        assert!(names.contains(&who), "{who} missing from {names:?}");
    }
    // The refused reads were not logged as reads.
    assert!(!names.contains(&"sec2"), "{names:?}");
    let r = app.gql_as(&w.sec1, log, json!({ "id": w.d1 })).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    // An admission case is not confidential: reading it is not logged.
    let r = app.gql_as(&auditor, log, json!({ "id": w.a1 })).await;
    assert_eq!(r["data"]["case"]["accessLog"], json!([]), "{r:#}");
}

#[tokio::test]
async fn d22_roles_are_held_only_where_the_charter_has_them() {
    let app = spawn_app().await;
    let t = tree(&app).await;
    let e = app
        .try_account("ic_branch", &[("inspection_commission", Some(&t.b1))], None)
        .await
        .unwrap_err();
    assert!(e.contains("D22"), "{e}");
    let e = app
        .try_account("nobody", &[("chairman", None)], None)
        .await
        .unwrap_err();
    assert!(e.contains("no role `chairman`"), "{e}");
    assert!(
        app.try_account(
            "ic_grassroots",
            &[("inspection_commission", Some(&t.g))],
            None
        )
        .await
        .is_ok()
    );
}

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";

#[tokio::test]
async fn logins_and_mutations_are_rate_limited_per_account_and_per_address() {
    let app = spawn_app_with(|c| {
        c.limits.login_per_account = 3;
        c.limits.login_per_address = 5;
        c.limits.mutations_per_account = 4;
        c.limits.mutations_per_address = 100;
    })
    .await;
    app.account("lan", &[], None).await;
    app.account("minh", &[], None).await;
    let wrong = json!({ "u": "lan", "p": "not the password at all" });
    for _ in 0..3 {
        assert_eq!(
            error_code(&app.gql_anon(LOGIN, wrong.clone()).await),
            "UNAUTHENTICATED"
        );
    }
    // The fourth attempt on the account, even with the right password, waits.
    let right = json!({ "u": "lan", "p": memberflow_tests::TEST_PASSWORD });
    assert_eq!(
        error_code(&app.gql_anon(LOGIN, right.clone()).await),
        "RATE_LIMITED"
    );
    // Another account from the same address has the address's allowance left (5 - 4 = 1).
    let minh = json!({ "u": "minh", "p": memberflow_tests::TEST_PASSWORD });
    assert!(
        app.gql_anon(LOGIN, minh.clone())
            .await
            .get("errors")
            .is_none()
    );
    assert_eq!(error_code(&app.gql_anon(LOGIN, minh).await), "RATE_LIMITED");
    // A minute later the windows have passed.
    app.set_now(memberflow_tests::default_now() + chrono::Duration::seconds(61));
    let r = app.gql_anon(LOGIN, right).await;
    assert!(r.get("errors").is_none(), "{r:#}");

    // Mutations per account: the fifth in a minute is refused, queries are not counted.
    let token = app
        .account("org", &[("organization_department", None)], None)
        .await;
    let create = "mutation($c: String!) { createUnit(input: { code: $c, name: \"X\", kind: PROVINCE, validFrom: \"2004-01-01\" }) { code } }";
    for i in 0..4 {
        let r = app
            .gql_as(&token, create, json!({ "c": format!("U{i}") }))
            .await;
        assert!(r.get("errors").is_none(), "{r:#}");
    }
    let before = app.row_counts().await;
    let r = app.gql_as(&token, create, json!({ "c": "U4" })).await;
    assert_eq!(error_code(&r), "RATE_LIMITED");
    assert_eq!(app.row_counts().await, before);
    let r = app.gql_as(&token, "{ roots { code } }", json!({})).await;
    assert!(r.get("errors").is_none(), "{r:#}");
    app.set_now(memberflow_tests::default_now() + chrono::Duration::seconds(130));
    let r = app.gql_as(&token, create, json!({ "c": "U4" })).await;
    assert!(r.get("errors").is_none(), "{r:#}");
}

#[tokio::test]
async fn too_many_aliases_are_refused_before_anything_runs() {
    let app = spawn_app().await;
    let fields: Vec<String> = (0..31).map(|i| format!("a{i}: today")).collect();
    let r = app
        .gql(&format!("{{ {} }}", fields.join(" ")), json!({}))
        .await;
    assert_eq!(error_code(&r), "QUERY_TOO_COMPLEX", "{r:#}");
    assert!(
        r["errors"][0]["extensions"]["messageEn"]
            .as_str()
            .unwrap()
            .contains("31 aliases")
    );
    let fields: Vec<String> = (0..30).map(|i| format!("a{i}: today")).collect();
    let r = app
        .gql(&format!("{{ {} }}", fields.join(" ")), json!({}))
        .await;
    assert!(r.get("errors").is_none(), "{r:#}");
}

/// The websocket runs its operations through the same guard as `POST /graphql`.
#[tokio::test]
async fn over_the_websocket_too_many_aliases_are_refused_too() {
    let app = spawn_app().await;
    let query = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: today")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let mut board = Board::start(&app, None, &query(31), json!({})).await;
    let v = board
        .within(Duration::from_secs(10))
        .await
        .expect("an answer");
    let errors = if v["type"] == "error" {
        &v["payload"]
    } else {
        &v["payload"]["errors"]
    };
    assert_eq!(
        errors[0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
        "{v:#}"
    );
    let mut board = Board::start(&app, None, &query(30), json!({})).await;
    let v = board
        .within(Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(v["type"], "next", "{v:#}");
    assert!(v["payload"]["data"]["a29"].is_string(), "{v:#}");
}

#[tokio::test]
async fn cors_answers_the_configured_origins_only() {
    let app =
        spawn_app_with(|c| c.graphql.cors_origins = vec!["https://app.example.vn".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example.vn").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.vn"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Without configuration, no CORS headers at all.
    let plain = spawn_app().await;
    let r = plain
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", plain.base))
        .header("origin", "https://app.example.vn")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
