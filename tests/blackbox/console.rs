//! The web console: its GraphQL documents against the schema, its forms without a script, and
//! the flows of its users in a real browser (headless Chromium, network cut off) against the
//! real server: a branch secretary's vote refused then passed, the competent committee's
//! decision from "My work", a member reading their own discipline decision without the votes,
//! a secretary of another branch seeing none of it, the province's targets from the demo.

use memberflow_tests::{TEST_PASSWORD, TestApp, spawn_app};
use serde_json::{Value, json};

use crate::admission;
use crate::browser::Browser;
use crate::support::{member, province};
use crate::walk::{Walk, branch_vote, date, member_case};

#[tokio::test]
async fn every_console_document_fits_the_schema() {
    // What the console sends is each operation alone with its fragments (the limits count
    // the whole document): each fits the schema and its default limits on depth and
    // complexity (a page asking two hundred cards at once would be refused).
    assert!(memberflow_console::operations().len() > memberflow_console::DOCUMENTS.len());
    for op in memberflow_console::operations() {
        if let Err(e) = memberflow_api::validate_document(&op.text).await {
            panic!("{} of graphql/{} does not fit: {e:#?}", op.name, op.file);
        }
    }
    // The check is real: a field the schema does not have is caught, and so is an operation
    // over the complexity limit.
    assert!(
        memberflow_api::validate_document(
            "query Big { \
               a: cases(first: 100) { nodes { id title state stateLabel nextDue \
                 unit { code name } deadlines { key rule due overdue } } } \
               b: cases(first: 100) { nodes { id title state stateLabel nextDue \
                 unit { code name } deadlines { key rule due overdue } } } }"
        )
        .await
        .is_err_and(|e| e.iter().any(|m| m.contains("complex"))),
        "an operation over the complexity limit is caught"
    );
    // A field the schema does not have.
    assert!(
        memberflow_api::validate_document("query Nope { today nothingLikeThis }")
            .await
            .is_err()
    );
}

/// A client that keeps cookies by hand: what a browser without scripts does.
pub(crate) struct Plain {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Plain {
    pub(crate) fn new(app: &TestApp) -> Self {
        Plain {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !v.to_str().unwrap().contains("Max-Age=0") {
                self.cookies.push((k.to_owned(), val.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn csrf(&self) -> String {
        self.cookies
            .iter()
            .find(|(k, _)| k == "mf_csrf")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    pub(crate) async fn get(&mut self, path: &str) -> (u16, String) {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let req = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(req).await
    }

    /// Sends with the cookies, keeps those set; the status and the redirect's target (or the
    /// body).
    async fn send(&mut self, req: reqwest::RequestBuilder) -> (u16, String) {
        let r = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&r);
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = r.text().await.unwrap();
        (status, location.unwrap_or(body))
    }
}

/// A case walked by the operator to the branch vote, in the first branch; the day after.
async fn candidate_at_the_vote(app: &TestApp, branch: &str) -> (String, chrono::NaiveDate) {
    let mut w = admission::open(app, branch, "2025-09-01", "1995-03-02").await;
    admission::to_decision(&mut w).await;
    let day = w.day.succ_opt().unwrap();
    app.set_today(&day.to_string());
    (w.case.clone(), day)
}

#[tokio::test]
async fn a_vote_step_says_what_the_registry_leaves_out_of_its_denominator() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let (case, day) = candidate_at_the_vote(&app, &p.b1).await;
    crate::support::member_away(&app, &p.b1, "Hồ Văn Đi Xa", &day.to_string()).await;
    let mut c = Plain::new(&app);
    c.get("/login").await;
    let csrf = c.csrf();
    let (status, _) = c
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "lan"),
                ("password", TEST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (status, page) = c.get(&format!("/cases/{case}")).await;
    assert_eq!(status, 200);
    // The workflow by its name in Vietnamese, its id and version aside.
    assert!(
        page.contains(
            "<dd>Kết nạp đảng viên và công nhận đảng viên chính thức <span class=\"code\">(admission v1)</span></dd>"
        ),
        "{page}"
    );
    let on = day.format("%d/%m/%Y").to_string();
    assert!(
        page.contains(&format!(
            "Theo sổ đảng viên ngày {on}: 1 đảng viên sinh hoạt tạm thời nơi khác (không tính vào mẫu số), 0 đảng viên được miễn sinh hoạt"
        )),
        "{page}"
    );
    // The vote recorded without typing the count: its row says what the registry left out.
    app.ok(
        "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
        json!({ "i": { "caseId": case, "transition": "branch_vote", "inputs": {
            "branch_vote_date": day.to_string(), "votes_for": 6, "official_members": 10 } } }),
    )
    .await;
    let (status, page) = c.get(&format!("/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(
            "1 sinh hoạt tạm thời nơi khác, 0 được miễn sinh hoạt vắng mặt (theo sổ đảng viên)"
        ),
        "{page}"
    );
    assert!(page.contains(r#"title="10 − 1">9<"#), "{page}");
}

#[tokio::test]
async fn the_console_works_as_plain_forms_with_sessions_and_csrf() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let (case, _) = candidate_at_the_vote(&app, &p.b1).await;
    let mut c = Plain::new(&app);

    // Not signed in: to the sign-in page, which sets the CSRF cookie.
    let (status, to) = c.get("/").await;
    assert_eq!((status, to.as_str()), (303, "/login?next=/"));
    let (status, page) = c.get("/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("Đăng nhập"), "{page}");
    let set = c
        .http
        .get(format!("{}/login", c.base))
        .send()
        .await
        .unwrap();
    for v in set.headers().get_all("set-cookie") {
        let v = v.to_str().unwrap();
        assert!(
            v.contains("HttpOnly") && v.contains("SameSite=Strict"),
            "{v}"
        );
    }

    // A form without the CSRF token is refused, and signs nobody in.
    let (status, _) = c
        .post(
            "/login",
            &[("username", "lan"), ("password", TEST_PASSWORD)],
        )
        .await;
    assert_eq!(status, 403);
    let csrf = c.csrf();
    let (status, page) = c
        .post(
            "/login",
            &[("csrf", &csrf), ("username", "lan"), ("password", "wrong")],
        )
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("UNAUTHENTICATED"), "{page}");
    let (status, to) = c
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "lan"),
                ("password", TEST_PASSWORD),
                ("next", "//elsewhere.example/"),
            ],
        )
        .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/"),
        "only local paths are followed"
    );
    assert!(c.cookies.iter().any(|(k, _)| k == "mf_session"));

    // The step's form, without a script: the check shows the refusal with its rule id.
    let (status, page) = c.get(&format!("/cases/{case}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("step-branch_vote"), "{page}");
    let version = app
        .ok(
            "query($id: ID!) { case(id: $id) { version } }",
            json!({ "id": case }),
        )
        .await["case"]["version"]
        .as_i64()
        .unwrap();
    let version = version.to_string();
    let form = |votes: &'static str, mode: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("transition", "branch_vote".to_owned()),
            ("version", version.to_owned()),
            ("key", "k-1".to_owned()),
            ("mode", mode.to_owned()),
            ("on", String::new()),
            ("ty.branch_vote_date", "date".to_owned()),
            ("in.branch_vote_date", "11/09/2025".to_owned()),
            ("ty.votes_for", "integer".to_owned()),
            ("in.votes_for", votes.to_owned()),
            ("ty.official_members", "integer".to_owned()),
            ("in.official_members", "10".to_owned()),
        ]
    };
    let owned = |f: Vec<(&'static str, String)>| f;
    let f = owned(form("6", "check"));
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = c.post(&format!("/cases/{case}/step"), &pairs).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("A8"), "{page}");
    assert!(page.contains("sẽ bị từ chối"), "{page}");
    // A date a person would not type is caught before the API, in their words.
    let mut bad = owned(form("8", "check"));
    bad[7].1 = "31/02/2025".to_owned();
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = c.post(&format!("/cases/{case}/step"), &pairs).await;
    assert_eq!(status, 422);
    assert!(page.contains("ngày/tháng/năm"), "{page}");
    let before = app.row_counts().await;
    // Fired for real with a stale version: a conflict, the page reloaded, nothing written.
    let mut stale = owned(form("8", "fire"));
    stale[2].1 = "3".to_owned();
    let pairs: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = c.post(&format!("/cases/{case}/step"), &pairs).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("Hồ sơ vừa được cập nhật"), "{page}");
    assert_eq!(app.row_counts().await, before);
    let f = owned(form("8", "fire"));
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, to) = c.post(&format!("/cases/{case}/step"), &pairs).await;
    assert_eq!((status, to.clone()), (303, format!("/cases/{case}?done=1")));
    let d = app
        .ok(
            "query($id: ID!) { case(id: $id) { state history { idempotencyKey } } }",
            json!({ "id": case }),
        )
        .await;
    assert_eq!(d["case"]["state"], "BranchVoted");
    assert_eq!(
        d["case"]["history"].as_array().unwrap().last().unwrap()["idempotencyKey"],
        "console-k-1"
    );
    // The same form sent twice (a double click) replays: one step.
    let (status, _) = c.post(&format!("/cases/{case}/step"), &pairs).await;
    assert_eq!(status, 303);
    let d = app
        .ok(
            "query($id: ID!) { case(id: $id) { version } }",
            json!({ "id": case }),
        )
        .await;
    assert_eq!(
        d["case"]["version"].to_string(),
        (version.parse::<i64>().unwrap() + 1).to_string()
    );

    // English on request, remembered; every page in it.
    let (status, _) = c.get("/lang/en?next=/board").await;
    assert_eq!(status, 303);
    let (_, page) = c.get("/board").await;
    assert!(page.contains("Admission board"), "{page}");

    // Signing out ends the API session itself.
    let token = c
        .cookies
        .iter()
        .find(|(k, _)| k == "mf_session")
        .unwrap()
        .1
        .clone();
    let (status, _) = c.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let r = app.gql_as(&token, "{ me { username } }", json!({})).await;
    assert_eq!(r["data"]["me"], Value::Null, "{r:#}");
    let (status, _) = c.get("/").await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn members_are_found_with_or_without_diacritics_within_the_readers_scope() {
    let app = spawn_app().await;
    let p = province(&app).await;
    member(&app, &p.b1, "Nguyễn Văn Ánh").await;
    member(&app, &p.b2, "Nguyễn Văn Anh").await;
    member(&app, &p.b1, "Trần Thị Đào").await;
    let search = "query($q: String!) { searchMembers(query: $q) { fullName } }";
    let names = |d: &Value| -> Vec<String> {
        let mut v: Vec<String> = d["searchMembers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["fullName"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let d = app.ok(search, json!({ "q": "nguyen van anh" })).await;
    assert_eq!(names(&d), ["Nguyễn Văn Anh", "Nguyễn Văn Ánh"]);
    let d = app.ok(search, json!({ "q": "ĐÀO" })).await;
    assert_eq!(names(&d), ["Trần Thị Đào"]);
    // A secretary finds the members of their branch only.
    let lan = app
        .account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let r = app.gql_as(&lan, search, json!({ "q": "nguyen van" })).await;
    assert_eq!(names(&r["data"]), ["Nguyễn Văn Ánh"]);
    let r = app
        .gql_as(
            &lan,
            "query($q: String!, $u: ID) { searchMembers(query: $q, unitId: $u) { fullName } }",
            json!({ "q": "nguyen", "u": p.b2 }),
        )
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "FORBIDDEN", "{r:#}");
}

#[tokio::test]
async fn administrators_manage_accounts_and_roles_through_graphql_and_nobody_else_does() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let admin = app.account("quantri", &[("admin", None)], None).await;
    let lan = app
        .account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let create = "mutation { createAccount(username: \"huyen\", password: \"một mật khẩu đủ dài\", email: \"huyen@example.vn\") { username email roles { role } } }";
    let r = app.gql_as(&lan, create, json!({})).await;
    assert_eq!(memberflow_tests::error_code(&r), "FORBIDDEN");
    let before = app.row_counts().await;
    let r = app
        .gql_as(
            &admin,
            "mutation { createAccount(username: \"x\", password: \"short\") { username } }",
            json!({}),
        )
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "VALIDATION", "{r:#}");
    assert_eq!(app.row_counts().await, before, "nothing written");
    let r = app.gql_as(&admin, create, json!({})).await;
    assert_eq!(
        r["data"]["createAccount"]["email"], "huyen@example.vn",
        "{r:#}"
    );
    let grant = "mutation($u: String) { grantRole(username: \"huyen\", role: \"standing_committee\", unitCode: $u) { roles { role label unit { code } } } }";
    let r = app.gql_as(&admin, grant, json!({ "u": "HG-D1" })).await;
    assert_eq!(
        r["data"]["grantRole"]["roles"],
        json!([{ "role": "standing_committee", "label": "Ban Thường vụ", "unit": { "code": "HG-D1" } }]),
        "{r:#}"
    );
    // A role the unit cannot have is refused (D22).
    let r = app
        .gql_as(
            &admin,
            "mutation { grantRole(username: \"huyen\", role: \"inspection_commission\", unitCode: \"HG-D1-X-1\") { username } }",
            json!({}),
        )
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "VALIDATION", "{r:#}");
    let r = app
        .gql_as(
            &admin,
            "{ accounts { username roles { role } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = r["data"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"huyen") && names.contains(&"lan"), "{r:#}");
    let r = app
        .gql_as(
            &admin,
            "mutation { revokeRole(username: \"huyen\", role: \"standing_committee\", unitCode: \"HG-D1\") { roles { role } } }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"]["revokeRole"]["roles"], json!([]), "{r:#}");
    let r = app
        .gql_as(&lan, "{ accounts { username } }", json!({}))
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "FORBIDDEN");
}

/// The usernames of an account list or connection's nodes.
fn usernames(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn accounts_are_searched_by_login_or_member_name_and_paged_in_graphql_and_the_console() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let ung = member(&app, &p.b1, "Nguyễn Thị Ưng").await;
    let duc = member(&app, &p.b2, "Lê Văn Đức").await;
    let admin = app.account("quantri", &[("admin", None)], None).await;
    app.account("thu-ky-a", &[("secretary", Some(&p.b1))], Some(&ung))
        .await;
    let lan = app
        .account("lan", &[("secretary", Some(&p.b2))], Some(&duc))
        .await;
    for n in 0..52 {
        let r = app
            .gql_as(
                &admin,
                "mutation($u: String!) { createAccount(username: $u, password: \"một mật khẩu đủ dài\") { username } }",
                json!({ "u": format!("tk-{n:02}") }),
            )
            .await;
        assert!(r["errors"].is_null(), "{r:#}");
    }
    let search = "query($q: String) { accountsConnection(search: $q) { totalCount nodes { username displayName roles { role unit { code } } } } }";
    // By the member's name, with or without diacritics, in any case; by a part of the login.
    for q in ["Nguyễn Thị Ưng", "nguyen thi ung", "ƯNG", "ung", "THU-KY"] {
        let r = app.gql_as(&admin, search, json!({ "q": q })).await;
        let c = &r["data"]["accountsConnection"];
        assert_eq!(
            c["nodes"],
            json!([{ "username": "thu-ky-a", "displayName": "Nguyễn Thị Ưng", "roles": [{ "role": "secretary", "unit": { "code": "HG-D1-X-1" } }] }]),
            "{q}: {r:#}"
        );
        assert_eq!(c["totalCount"], 1, "{q}");
    }
    let r = app.gql_as(&admin, search, json!({ "q": "duc" })).await;
    assert_eq!(
        usernames(&r["data"]["accountsConnection"]["nodes"]),
        ["lan"]
    );
    let r = app
        .gql_as(&admin, search, json!({ "q": "không có ai" }))
        .await;
    assert_eq!(r["data"]["accountsConnection"]["totalCount"], 0, "{r:#}");
    // `accounts` takes the same search.
    let r = app
        .gql_as(
            &admin,
            "{ accounts(search: \"ưng\") { username } }",
            json!({}),
        )
        .await;
    assert_eq!(usernames(&r["data"]["accounts"]), ["thu-ky-a"], "{r:#}");

    // Every account once, page by page, in the list's order; and back.
    let r = app
        .gql_as(&admin, "{ accounts(first: 1000) { username } }", json!({}))
        .await;
    let all = usernames(&r["data"]["accounts"]);
    // Ours and the test server's operator.
    assert_eq!(all.len(), 56, "{r:#}");
    let page = "query($after: String, $before: String, $first: Int, $last: Int) { accountsConnection(first: $first, after: $after, last: $last, before: $before) { totalCount pageInfo { hasPreviousPage hasNextPage startCursor endCursor } nodes { username } } }";
    let mut seen: Vec<String> = Vec::new();
    let mut after = Value::Null;
    let mut cursors = Vec::new();
    loop {
        let r = app
            .gql_as(&admin, page, json!({ "first": 20, "after": after }))
            .await;
        let c = &r["data"]["accountsConnection"];
        assert_eq!(c["totalCount"], 56, "{r:#}");
        assert_eq!(c["pageInfo"]["hasPreviousPage"], !after.is_null());
        seen.extend(usernames(&c["nodes"]));
        cursors.push(c["pageInfo"]["startCursor"].clone());
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, all, "three pages of 20, 20 and 16");
    assert_eq!(cursors.len(), 3);
    let r = app
        .gql_as(&admin, page, json!({ "last": 20, "before": cursors[1] }))
        .await;
    let c = &r["data"]["accountsConnection"];
    assert_eq!(usernames(&c["nodes"]), all[..20], "{r:#}");
    assert_eq!(
        (
            &c["pageInfo"]["hasPreviousPage"],
            &c["pageInfo"]["hasNextPage"]
        ),
        (&json!(false), &json!(true))
    );
    let r = app
        .gql_as(&admin, page, json!({ "first": 5, "after": "not a cursor" }))
        .await;
    assert_eq!(memberflow_tests::error_code(&r), "VALIDATION", "{r:#}");
    let r = app.gql_as(&lan, search, json!({ "q": "ung" })).await;
    assert_eq!(memberflow_tests::error_code(&r), "FORBIDDEN", "{r:#}");

    // The console: a search box and pages of 50 with links both ways, no script needed.
    let mut c = Plain::new(&app);
    c.get("/login").await;
    let csrf = c.csrf();
    let (status, _) = c
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "quantri"),
                ("password", TEST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let rows = |page: &str| page.matches("<tr>").count() - 1;
    let (status, first) = c.get("/admin").await;
    assert_eq!(status, 200, "{first}");
    assert!(first.contains("56 tài khoản"), "{first}");
    assert!(first.contains(r#"type="search" name="q""#), "{first}");
    assert_eq!(rows(&first), 50, "{first}");
    assert!(!first.contains(r#"rel="prev""#));
    let next = first
        .split(r#"<a href=""#)
        .find_map(|a| {
            a.split_once(r#"" rel="next""#)
                .map(|(href, _)| href.to_owned())
        })
        .expect("a link to the next page");
    let (status, second) = c.get(&next.replace("&amp;", "&")).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(rows(&second), 6, "{second}");
    assert!(second.contains(r#"rel="prev""#) && !second.contains(r#"rel="next""#));
    for name in &all[50..] {
        assert!(
            second.contains(&format!("<td>{name}</td>")),
            "{name}: {second}"
        );
    }
    for q in ["nguyen+thi+ung", "%C6%AFng"] {
        let (status, found) = c.get(&format!("/admin?q={q}")).await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(rows(&found), 1, "{q}: {found}");
        assert!(
            found.contains("<td>thu-ky-a</td>") && found.contains("Nguyễn Thị Ưng"),
            "{q}: {found}"
        );
        assert!(found.contains("1 tài khoản"), "{found}");
    }
}

/// Signs `who` in through the sign-in page.
async fn sign_in(b: &mut Browser, who: &str) {
    b.goto("/login").await;
    b.fill("#username", who).await;
    b.fill("#password", TEST_PASSWORD).await;
    b.click("main button[type=submit]").await;
    b.wait_text("main h1", "Việc của tôi").await;
}

async fn sign_out(b: &mut Browser) {
    b.click("header form.inline button").await;
    b.wait_text("main h1", "Đăng nhập").await;
}

/// Opens the form of `step` (its `<details>`), however the page left it.
async fn open_step(b: &Browser, step: &str) {
    b.find(&format!("#step-{step}")).await;
    b.script(
        "document.getElementById(arguments[0]).closest('details').open = true;",
        json!([format!("step-{step}")]),
    )
    .await;
}

#[tokio::test]
async fn secretaries_committees_and_members_do_their_work_in_a_browser() {
    let app = spawn_app().await;
    let Some(mut b) = Browser::start(&app.base, &format!("flows-{}", db_kind(&app))).await else {
        return;
    };
    let p = province(&app).await;
    let lan = app
        .account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    app.account("huyen", &[("standing_committee", Some(&p.d1))], None)
        .await;
    app.account("nam", &[("secretary", Some(&p.b2))], None)
        .await;
    let (case, day) = candidate_at_the_vote(&app, &p.b1).await;
    let today = day.format("%d/%m/%Y").to_string();

    // The branch secretary signs in, finds the candidate on the board and opens the case.
    // The checker is real: a field without a label is caught.
    b.goto("/login").await;
    b.script(
        "const i = document.createElement('input'); i.type = 'text'; document.querySelector('main').appendChild(i);",
        json!([]),
    )
    .await;
    let caught = std::panic::AssertUnwindSafe(b.assert_accessible("a broken page"));
    assert!(
        futures::FutureExt::catch_unwind(caught).await.is_err(),
        "axe catches an unlabelled field"
    );
    b.goto("/login").await;
    b.assert_accessible("sign-in").await;
    sign_in(&mut b, "lan").await;
    b.shot("1-my-work").await;
    b.assert_accessible("my work").await;
    b.goto("/board").await;
    b.wait_text("main", "Nguyễn Văn An").await;
    b.shot("2-board").await;
    b.assert_accessible("the board").await;
    b.click(".card a").await;
    b.wait_text("main h1", "Nguyễn Văn An").await;
    assert!(b.url().await.ends_with(&format!("/cases/{case}")));
    assert!(b.page_text().await.contains("Chuỗi lịch sử toàn vẹn"));

    // A vote too low: the dry run refuses it with its rule id, in Vietnamese, before any
    // submission; nothing is written.
    open_step(&b, "branch_vote").await;
    let before = app.row_counts().await;
    b.fill("#branch_vote--branch_vote_date", &today).await;
    b.fill("#branch_vote--official_members", "10").await;
    b.fill("#branch_vote--votes_for", "6").await;
    let said = b
        .wait_text("#step-branch_vote [data-check-result]", "A8")
        .await;
    assert!(said.contains("sẽ bị từ chối"), "{said}");
    b.shot("3-dry-run-refused").await;
    b.assert_accessible("a case with a refused dry run").await;
    assert_eq!(app.row_counts().await, before, "a dry run writes nothing");
    // Corrected, it would pass; recorded, the case moves on.
    b.fill("#branch_vote--votes_for", "8").await;
    b.wait_text("#step-branch_vote [data-check-result]", "sẽ được chấp nhận")
        .await;
    b.click("#step-branch_vote button[value=fire]").await;
    b.wait_text("main .notice", "Đã ghi bước").await;
    b.shot("4-step-recorded").await;
    b.goto("/board").await;
    let column = b
        .script(
            "const a = document.querySelector('.card a'); return a ? a.closest('section').querySelector('h2').innerText : '';",
            json!([]),
        )
        .await;
    let label = app
        .ok(
            "query($id: ID!) { case(id: $id) { state stateLabel } }",
            json!({ "id": case }),
        )
        .await;
    assert_eq!(label["case"]["state"], "BranchVoted");
    assert!(
        column
            .as_str()
            .unwrap()
            .starts_with(label["case"]["stateLabel"].as_str().unwrap()),
        "{column} / {label}"
    );
    b.shot("5-board-card-moved").await;
    // On a 360 px phone the page fits the screen (the board scrolls inside itself).
    b.resize(360, 740).await;
    let wide = b.overflowing().await;
    assert!(wide.is_empty(), "the board is wider than a phone: {wide:?}");
    b.shot("5b-board-phone").await;
    b.goto(&format!("/cases/{case}")).await;
    let wide = b.overflowing().await;
    assert!(
        wide.is_empty(),
        "the case page is wider than a phone: {wide:?}"
    );
    b.shot("5c-case-phone").await;
    // And every other page the secretary has.
    for (path, name) in [
        ("/", "5d-my-work-phone"),
        ("/discipline", "5e-discipline-phone"),
        ("/tree", "5f-tree-phone"),
        ("/members?q=nguyen", "5g-members-phone"),
        ("/targets", "5h-targets-phone"),
        ("/import", "5i-import-phone"),
    ] {
        b.goto(path).await;
        b.find("main h1").await;
        let wide = b.overflowing().await;
        b.shot(name).await;
        assert!(wide.is_empty(), "{path} is wider than a phone: {wide:?}");
    }
    b.resize(1366, 900).await;
    b.assert_clean("the branch secretary's vote").await;
    sign_out(&mut b).await;

    // The grassroots committee passes it on (through the API); the district's standing
    // committee finds it in "My work" and decides.
    for (t, inputs) in [
        (
            "grassroots_review",
            json!({ "review_date": day.to_string(), "grassroots_delegated": false }),
        ),
        (
            "submit_to_competent",
            json!({ "submitted_on": day.to_string() }),
        ),
    ] {
        let r = app
            .gql(
                "mutation($i: FireInput!) { fireTransition(input: $i) { toState } }",
                json!({ "i": { "caseId": case, "transition": t, "inputs": inputs } }),
            )
            .await;
        assert!(r.get("errors").is_none(), "{r:#}");
    }
    sign_in(&mut b, "huyen").await;
    b.wait_text("main", "Nguyễn Văn An").await;
    // The deadline and its reminder are named in Vietnamese: no key, case id or ISO day.
    let work = b.wait_text("main", "Hạn ra quyết định kết nạp").await;
    assert!(work.contains("Sắp đến hạn ra quyết định kết nạp"), "{work}");
    assert!(
        !work.contains("reminder:") && !work.contains("admission decision"),
        "{work}"
    );
    b.shot("6-committee-my-work").await;
    b.click(&format!("main a[href='/cases/{case}']")).await;
    open_step(&b, "decide_admission").await;
    b.fill("#decide_admission--decision_date", &today).await;
    b.fill("#decide_admission--decision_number", "123-QĐ/ĐU")
        .await;
    b.wait_text(
        "#step-decide_admission [data-check-result]",
        "sẽ được chấp nhận",
    )
    .await;
    b.click("#step-decide_admission button[value=fire]").await;
    b.wait_text("main .notice", "Đã ghi bước").await;
    b.shot("7-committee-decided").await;
    let d = app
        .ok(
            "query($id: ID!) { case(id: $id) { state } }",
            json!({ "id": case }),
        )
        .await;
    assert_eq!(d["case"]["state"], "Admitted");
    b.assert_clean("the committee's decision").await;
    sign_out(&mut b).await;

    // A member disciplined by their branch reads the decision and their appeal deadline, and
    // nothing of the votes.
    let m = member(&app, &p.b1, "Phạm Thị Khiển Trách").await;
    app.account("khientrach", &[], Some(&m)).await;
    let mut w = Walk::open(
        &app,
        &lan,
        "discipline_member",
        &p.b1,
        Some(&m),
        member_case(&m, "Phạm Thị Khiển Trách", &p.b1),
        date("2026-03-02"),
        "Detected",
    )
    .await;
    w.walk_to_vote(&lan, "2026-01-15", "reprimand").await;
    w.expect(&lan, "vote", branch_vote("reprimand"), "LimitationCheck")
        .await;
    w.branch_decides_and_notifies(&lan, "03-QĐ/CB").await;
    let discipline = w.case.clone();
    let appeal_by = w
        .deadline("appeal_window")
        .await
        .unwrap()
        .format("%d/%m/%Y")
        .to_string();
    sign_in(&mut b, "khientrach").await;
    b.goto("/discipline").await;
    b.click(&format!("a[href='/cases/{discipline}']")).await;
    b.wait_text("#decision", "Quyết định kỷ luật").await;
    let text = b.page_text().await;
    assert!(text.contains("Khiển trách"), "{text}");
    assert!(text.contains("03-QĐ/CB"), "{text}");
    assert!(text.contains("Hạn khiếu nại"), "{text}");
    assert!(text.contains(&appeal_by), "{appeal_by}: {text}");
    let tables = b
        .script(
            "return document.querySelectorAll('main table').length;",
            json!([]),
        )
        .await;
    assert!(
        tables == json!(0) && !text.contains("Tán thành"),
        "no votes for the member ({tables} tables): {text}"
    );
    assert!(!text.contains("votes_reprimand"), "{text}");
    assert!(
        b.exists("#step-file_appeal").await,
        "the appeal from the page"
    );
    // Its list of grounds is a box per ground, named in Vietnamese.
    let grounds = b
        .script(
            "return Array.from(document.querySelectorAll('#file_appeal--inadmissibility input[type=checkbox]')).map(i => i.closest('label').textContent.trim());",
            json!([]),
        )
        .await;
    assert!(
        grounds
            .as_array()
            .is_some_and(|g| g.contains(&json!("Khiếu nại hộ người khác"))),
        "{grounds}"
    );
    b.shot("8-member-own-decision").await;
    b.assert_accessible("the member's own decision").await;
    b.assert_clean("the member's own decision").await;
    sign_out(&mut b).await;

    // A secretary of another branch: no link, no page, no search result.
    sign_in(&mut b, "nam").await;
    b.goto("/discipline").await;
    assert!(
        !b.exists(&format!("a[href='/cases/{discipline}']")).await,
        "no link to another branch's case"
    );
    b.expect_status(&format!("/cases/{discipline}"), 403);
    b.goto(&format!("/cases/{discipline}")).await;
    let text = b.page_text().await;
    assert!(text.contains("Không có quyền"), "{text}");
    assert!(!text.contains("Khiển trách"), "{text}");
    // The access log has the member's read through the console, as the API logs one, and
    // not the refused read.
    let log = app
        .ok(
            "query($id: ID!) { case(id: $id) { accessLog { username action } } }",
            json!({ "id": discipline }),
        )
        .await;
    let readers: Vec<&str> = log["case"]["accessLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["username"].as_str().unwrap())
        .collect();
    assert!(readers.contains(&"khientrach"), "{log:#}");
    assert!(!readers.contains(&"nam"), "{log:#}");
    b.shot("9-other-branch-forbidden").await;
    b.assert_accessible("a forbidden page").await;
    b.goto("/members?q=pham+thi+khien+trach").await;
    let text = b.page_text().await;
    assert!(text.contains("0 kết quả"), "{text}");
    assert!(!text.contains("Phạm Thị Khiển Trách"), "{text}");
    b.assert_clean("another branch's secretary").await;

    // GraphiQL works with the network cut off: every asset comes from the binary.
    b.goto("/graphql").await;
    b.find(".graphiql-container").await;
    b.shot("10-graphiql-offline").await;
    b.assert_clean("GraphiQL").await;
    b.quit().await;
}

fn db_kind(app: &TestApp) -> &'static str {
    if app.database_url().starts_with("postgres") {
        "pg"
    } else {
        "sqlite"
    }
}

/// The targets page of the demo province (built by the caller on `app`'s database): the
/// province's 2022 rate as the API computes it, the chart drawn, the downloads served.
pub(crate) async fn the_targets_page_shows_the_demo_province(app: &TestApp) {
    let Some(mut b) = Browser::start(&app.base, &format!("targets-{}", db_kind(app))).await else {
        return;
    };
    app.account("tinhuy", &[("organization_department", None)], None)
        .await;
    let expected = app
        .ok(
            "{ admissionTarget(code: \"HG\", year: 2022) { total { rate admitted } } }",
            json!({}),
        )
        .await;
    let rate = expected["admissionTarget"]["total"]["rate"]
        .as_f64()
        .unwrap();
    let shown = format!("{rate:.2}%").replace('.', ",");
    sign_in(&mut b, "tinhuy").await;
    b.goto("/targets?unit=HG&year=2022").await;
    let text = b.wait_text("main", &shown).await;
    assert!(text.contains("Hậu Giang"), "{text}");
    // The units that admitted nobody in the five years to the end of 2022.
    assert!(
        text.contains("Tổ chức cơ sở đảng và chi bộ không kết nạp được đảng viên trong 5 năm"),
        "{text}"
    );
    assert!(text.contains("từ 01/01/2018 đến 31/12/2022"), "{text}");
    // The hamlets: each has its branch and members living in it at the end of 2022.
    assert!(
        text.contains("0 chưa có đảng viên cư trú, 0 chưa có chi bộ; 525 ấp, khu vực, tổ dân phố vào ngày 31/12/2022"),
        "{text}"
    );
    let drawn = b
        .script(
            "const i = document.querySelector('img.chart'); return i && i.complete ? i.naturalWidth : 0;",
            json!([]),
        )
        .await;
    assert!(
        drawn.as_u64().unwrap_or(0) > 0,
        "the chart is drawn: {drawn}"
    );
    b.shot("targets-2022").await;
    b.assert_accessible("the targets page").await;
    b.assert_clean("the targets page").await;

    // Administration over the demo's 2,216 role holders: a page of them, the next page, a
    // search by a part of the login name.
    app.account("quantri", &[("admin", None)], None).await;
    sign_out(&mut b).await;
    sign_in(&mut b, "quantri").await;
    b.goto("/admin").await;
    b.wait_text("main", "tài khoản").await;
    b.click("a[rel=next]").await;
    b.wait_text("main", "Trang trước").await;
    assert!(b.url().await.contains("after="));
    b.fill("#q", "UBKT.HG").await;
    b.click("form[role=search] button").await;
    let text = b.wait_text("main", "khớp với").await;
    assert!(text.contains("ubkt.hg"), "{text}");
    b.shot("administration").await;
    b.assert_accessible("administration").await;
    b.assert_clean("administration").await;
    b.quit().await;
}

const IMPORT_UNITS: &str = "Mã đơn vị,Tên đơn vị,Loại,Từ ngày,Đơn vị cấp trên
HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,2004-01-01,
HG-VT,Đảng bộ thành phố Vị Thanh,CITY,2004-01-01,HG
HG-VT-1,Chi bộ cơ sở số 1,GRASSROOTS_BRANCH,2004-01-01,HG-VT
";

/// A `multipart/form-data` body of the console's import form.
fn import_form(csrf: &str, unit: &str, file: (&str, &str)) -> (String, Vec<u8>) {
    let b = "console-import-boundary-x81Kq";
    let mut body = String::new();
    for (k, v) in [("csrf", csrf), ("unit", unit), ("kind", "")] {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--{b}--\r\n",
        file.0, file.1
    ));
    (
        format!("multipart/form-data; boundary={b}"),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn a_file_is_checked_confirmed_and_exported_from_the_console_without_a_script() {
    let app = spawn_app().await;
    app.account("tinhuy", &[("organization_department", None)], None)
        .await;
    let mut c = Plain::new(&app);
    c.get("/login").await;
    let csrf = c.csrf();
    let (status, _) = c
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "tinhuy"),
                ("password", TEST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (status, page) = c.get("/import").await;
    assert_eq!(status, 200);
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");

    // Without the CSRF token: refused, nothing read.
    let (ct, body) = import_form("wrong", "", ("don-vi.csv", IMPORT_UNITS));
    let req = c
        .http
        .post(format!("{}/import", c.base))
        .header("content-type", ct)
        .body(body);
    let (status, _) = c.send(req).await;
    assert_eq!(status, 403);

    // A file with a problem: the row and column named, no confirmation offered.
    let bad = IMPORT_UNITS.replace(
        "HG-VT-1,Chi bộ cơ sở số 1,GRASSROOTS_BRANCH,2004-01-01",
        "HG-VT-1,Chi bộ cơ sở số 1,GRASSROOTS_BRANCH,31/02/2004",
    );
    let (ct, body) = import_form(&csrf, "", ("don-vi.csv", &bad));
    let req = c
        .http
        .post(format!("{}/import", c.base))
        .header("content-type", ct)
        .body(body);
    let (status, page) = c.send(req).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("BAD_DATE") && page.contains("Từ ngày"),
        "{page}"
    );
    assert!(!page.contains("/import/confirm"), "{page}");
    // … but the file annotated with its problems, to fix and send back: an XLSX download
    // for the account that sent the file only.
    assert!(page.contains("Tải tệp có ghi chú lỗi (XLSX)"), "{page}");
    let link = page
        .split("href=\"/import/annotated?key=")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let r = c
        .http
        .get(format!("{}/import/annotated?key={link}", c.base))
        .header("cookie", c.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        r.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"don-vi-ghi-chu-loi.xlsx\"; filename*=UTF-8''don-vi-ghi-chu-loi.xlsx"
    );
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = c
        .http
        .get(format!("{}/import/annotated?key=x{link}", c.base))
        .header("cookie", c.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404, "another key: nothing");
    let r = c
        .http
        .get(format!("{}/import/annotated?key={link}", c.base))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status().as_u16(), 200, "without the session: nothing");
    // Its key confirms nothing.
    let (status, _) = c
        .post("/import/confirm", &[("csrf", &csrf), ("key", &link)])
        .await;
    assert_eq!(status, 404);

    // A good file: the preview, then the confirmation imports exactly it.
    let (ct, body) = import_form(&csrf, "", ("don-vi.csv", IMPORT_UNITS));
    let req = c
        .http
        .post(format!("{}/import", c.base))
        .header("content-type", ct)
        .body(body);
    let (status, page) = c.send(req).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Thêm mới") && page.contains("HG-VT-1"),
        "{page}"
    );
    let key = page
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    assert_eq!(
        app.ok("{ roots { code } }", json!({})).await["roots"],
        json!([]),
        "the preview wrote nothing"
    );
    let (status, page) = c
        .post("/import/confirm", &[("csrf", &csrf), ("key", &key)])
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Đã nhập toàn bộ tệp"), "{page}");
    assert_eq!(
        app.ok("{ roots { code } }", json!({})).await["roots"],
        json!([{ "code": "HG" }])
    );
    // The key is spent.
    let (status, _) = c
        .post("/import/confirm", &[("csrf", &csrf), ("key", &key)])
        .await;
    assert_eq!(status, 404);

    // Downloads: the units as CSV, a template as XLSX, from the server's streamed route
    // the console's export form sends the browser to, with the session cookie.
    let r = c
        .http
        .get(format!(
            "{}/import/export?unit=HG-VT&kind=UNITS&format=CSV",
            c.base
        ))
        .header("cookie", c.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/exports/registry?unit=HG-VT&kind=UNITS&format=CSV"
    );
    let r = c
        .http
        .get(format!(
            "{}/exports/registry?unit=HG-VT&kind=UNITS&format=CSV",
            c.base
        ))
        .header("cookie", c.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"don-vi-HG-VT.csv\""
    );
    let csv = r.text().await.unwrap();
    assert!(csv.contains("HG-VT-1") && !csv.contains("\nHG,"), "{csv}");
    let r = c
        .http
        .get(format!(
            "{}/exports/registry?kind=MEMBERS&format=XLSX&template=1",
            c.base
        ))
        .header("cookie", c.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test]
async fn a_file_is_imported_in_a_browser() {
    let app = spawn_app().await;
    let Some(mut b) = Browser::start(&app.base, &format!("import-{}", db_kind(&app))).await else {
        return;
    };
    app.account("tinhuy", &[("organization_department", None)], None)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("don-vi.csv");
    std::fs::write(&path, IMPORT_UNITS).unwrap();
    sign_in(&mut b, "tinhuy").await;
    b.goto("/import").await;
    b.wait_text("main h1", "Nhập, xuất dữ liệu").await;
    b.assert_accessible("the import page").await;
    b.fill("#i-file", path.to_str().unwrap()).await;
    b.click("main form[action='/import'] button[type=submit]")
        .await;
    b.wait_text("main", "Tệp hợp lệ").await;
    assert!(b.page_text().await.contains("HG-VT-1"));
    b.shot("import-1-preview").await;
    b.assert_accessible("the import preview").await;
    b.resize(360, 800).await;
    let wide = b.overflowing().await;
    assert!(
        wide.is_empty(),
        "the preview is wider than a phone: {wide:?}"
    );
    b.resize(1280, 900).await;
    b.click("main form[action='/import/confirm'] button").await;
    b.wait_text("main", "Đã nhập toàn bộ tệp").await;
    b.shot("import-2-done").await;
    b.assert_accessible("the import done").await;
    b.assert_clean("the import").await;
    b.quit().await;
    assert_eq!(
        app.ok("{ roots { code } }", json!({})).await["roots"],
        json!([{ "code": "HG" }])
    );
}

/// The `/reports/…` links of a page, as written in its HTML.
fn report_links(page: &str) -> Vec<String> {
    let mut links: Vec<String> = page
        .split("href=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .filter(|h| h.starts_with("/reports/"))
        .map(|h| h.replace("&amp;", "&"))
        .collect();
    links.dedup();
    links
}

#[tokio::test]
async fn every_report_of_the_targets_page_downloads_as_csv_and_xlsx_for_its_readers_only() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.account("tinhuy", &[("organization_department", None)], None)
        .await;
    app.account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let signed_in = |who: &'static str| {
        let app = &app;
        async move {
            let mut c = Plain::new(app);
            c.get("/login").await;
            let csrf = c.csrf();
            let (status, _) = c
                .post(
                    "/login",
                    &[
                        ("csrf", &csrf),
                        ("username", who),
                        ("password", TEST_PASSWORD),
                    ],
                )
                .await;
            assert_eq!(status, 303, "{who} signs in");
            c
        }
    };
    let mut c = signed_in("tinhuy").await;
    let (status, page) = c.get("/targets?unit=HG&year=2025").await;
    assert_eq!(status, 200, "{page}");
    let links = report_links(&page);
    // Every report the page offers, each as CSV and as XLSX.
    let kinds: std::collections::BTreeSet<&str> = links
        .iter()
        .map(|l| l.trim_start_matches("/reports/").split('.').next().unwrap())
        .collect();
    assert!(kinds.len() >= 9, "{kinds:?}");
    for kind in &kinds {
        for ext in ["csv", "xlsx"] {
            assert!(
                links
                    .iter()
                    .any(|l| l.starts_with(&format!("/reports/{kind}.{ext}?"))),
                "{kind}.{ext} offered: {links:#?}"
            );
        }
    }
    let get = |c: &Plain, link: &str| {
        c.http
            .get(format!("{}{link}", c.base))
            .header("cookie", c.cookie_header())
            .send()
    };
    for link in &links {
        let r = get(&c, link).await.unwrap();
        let status = r.status().as_u16();
        if status != 200 {
            panic!("{link}: {status} {}", r.text().await.unwrap());
        }
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        let disposition = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = r.bytes().await.unwrap();
        assert!(
            disposition.starts_with("attachment"),
            "{link}: {disposition}"
        );
        if link.contains(".xlsx?") {
            assert!(ct.contains("spreadsheetml"), "{link}: {ct}");
            assert!(body.starts_with(b"PK"), "{link}: not an XLSX file");
        } else {
            assert!(ct.starts_with("text/csv"), "{link}: {ct}");
            let text = String::from_utf8(body.to_vec()).unwrap();
            // A header line at least, in Vietnamese (the page's language).
            assert!(
                text.lines().next().is_some_and(|h| h.contains(',')),
                "{link}: {text}"
            );
        }
    }
    // A branch secretary may not read the province's reports: refused, whatever the link.
    let lan = signed_in("lan").await;
    for link in &links {
        let r = get(&lan, link).await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{link}");
    }
    // And without a session, nothing.
    let anonymous = Plain::new(&app);
    let r = get(&anonymous, &links[0]).await.unwrap();
    assert!(
        [401, 403, 303].contains(&r.status().as_u16()),
        "{}",
        r.status()
    );
}

#[tokio::test]
async fn console_sessions_last_as_long_as_the_apis_are_secure_behind_tls_and_sign_in_is_rate_limited()
 {
    let app = memberflow_tests::spawn_app_with(|c| {
        c.auth.session_minutes = 30;
        c.limits.login_per_account = 3;
        c.limits.login_per_address = 100;
    })
    .await;
    app.account("lan", &[], None).await;
    let mut c = Plain::new(&app);
    let tls = |c: &Plain, req: reqwest::RequestBuilder| {
        req.header("x-forwarded-proto", "https")
            .header("cookie", c.cookie_header())
    };
    // Behind a TLS proxy every cookie the console sets is Secure; over plain HTTP none is
    // (a browser would drop it).
    let r = tls(&c, c.http.get(format!("{}/login", c.base)))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(!cookies.is_empty());
    for v in &cookies {
        assert!(
            v.contains("; Secure") && v.contains("HttpOnly") && v.contains("SameSite=Strict"),
            "{v}"
        );
    }
    c.keep(&r);
    let r = c
        .http
        .get(format!("{}/login", c.base))
        .send()
        .await
        .unwrap();
    for v in r.headers().get_all("set-cookie") {
        assert!(!v.to_str().unwrap().contains("Secure"), "{v:?}");
    }
    let csrf = c.csrf();
    let sign_in = |c: &Plain, password: &str| {
        tls(c, c.http.post(format!("{}/login", c.base))).form(&[
            ("csrf", csrf.as_str()),
            ("username", "lan"),
            ("password", password),
        ])
    };
    // Signed in: the session cookie lasts as long as the API's session (30 minutes here).
    let r = sign_in(&c, TEST_PASSWORD).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("mf_session="))
        .unwrap();
    let max_age: i64 = session
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1700..=1800).contains(&max_age), "{session}");
    assert!(session.contains("; Secure"), "{session}");
    // Wrong passwords: refused, then rate limited as `login` is (three attempts a minute for
    // the account from one address, the sign-in above included), in Vietnamese; the right
    // password is refused too while the limit holds, and no session is set.
    let mut statuses = Vec::new();
    let mut last = String::new();
    for _ in 0..4 {
        let r = sign_in(&c, "not the password").send().await.unwrap();
        statuses.push(r.status().as_u16());
        last = r.text().await.unwrap();
    }
    assert_eq!(statuses, [401, 401, 429, 429], "{last}");
    assert!(
        last.contains("lang=\"vi\"") && last.contains("RATE_LIMITED"),
        "{last}"
    );
    let r = sign_in(&c, TEST_PASSWORD).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(
        !r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("mf_session=")),
        "no session while rate limited"
    );
}

/// The console signed in as `who`, through its sign-in form.
async fn plain_signed_in(app: &TestApp, who: &str) -> Plain {
    let mut c = Plain::new(app);
    c.get("/login").await;
    let csrf = c.csrf();
    let (status, _) = c
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", who),
                ("password", TEST_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303, "{who} signs in");
    c
}

#[tokio::test]
async fn the_tree_on_a_date_shows_merges_and_dissolutions_and_a_member_page_shows_the_record() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let m = member(&app, &p.gb, "Nguyễn Thị Lan").await;
    // Hậu Giang merged into Cần Thơ on 12/6/2025; a branch dissolved on 1/7/2025.
    let ct = crate::support::unit(&app, "CT", "PROVINCE", None, "2025-06-12").await;
    app.ok(
        "mutation($i: MergeUnitsInput!) { mergeUnits(input: $i) { code } }",
        json!({ "i": { "sourceIds": [p.hg], "targetId": ct, "effectiveDate": "2025-06-12" } }),
    )
    .await;
    app.ok(
        "mutation($i: DissolveUnitInput!) { dissolveUnit(input: $i) { validTo } }",
        json!({ "i": { "unitId": p.b2, "effectiveDate": "2025-07-01" } }),
    )
    .await;
    app.account("tinhuy", &[("organization_department", None)], None)
        .await;
    let mut c = plain_signed_in(&app, "tinhuy").await;

    // The province before the merge: it ended, merged into Cần Thơ, on the day said.
    let (status, page) = c.get("/tree?unit=HG&on=2025-06-01").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Cơ cấu vào ngày 01/06/2025"), "{page}");
    assert!(
        page.contains("hợp nhất vào"),
        "the merge is visible: {page}"
    );
    assert!(page.contains("HG-D1"), "its districts then: {page}");
    // The branch dissolved, on a day it still stood, and its committee's units after.
    let (status, page) = c.get("/tree?unit=HG-D1-X-2&on=2025-06-30").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("giải thể"),
        "the dissolution is visible: {page}"
    );
    assert!(page.contains("01/07/2025"), "{page}");
    let (_, before) = c.get("/tree?unit=HG-D1-X&on=2025-06-30").await;
    let (_, after) = c.get("/tree?unit=HG-D1-X&on=2025-07-02").await;
    assert!(before.contains("HG-D1-X-2"), "{before}");
    assert!(!after.contains("HG-D1-X-2"), "{after}");

    // The member found without diacritics, their page: status, history, party age, badges,
    // discipline in force, cases — dates day first.
    let (status, page) = c.get("/members?q=nguyen+thi+lan").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("/members/{m}")), "{page}");
    let (status, page) = c.get(&format!("/members/{m}")).await;
    assert_eq!(status, 200, "{page}");
    for heading in [
        "Nguyễn Thị Lan",
        "Tình trạng",
        "Quá trình",
        "Huy hiệu Đảng",
        "Kỷ luật đang có hiệu lực",
        "Hồ sơ",
    ] {
        assert!(page.contains(heading), "{heading}: {page}");
    }
    let text: String = page
        .split('<')
        .map(|p| p.split_once('>').map_or(p, |(_, t)| t))
        .collect();
    assert!(
        !text
            .as_bytes()
            .windows(10)
            .any(|w| w[4] == b'-' && w[7] == b'-' && w[..4].iter().all(u8::is_ascii_digit)),
        "a date not day first: {text}"
    );
}

#[tokio::test]
async fn the_board_filters_by_unit_subtree_stage_and_overdue() {
    let app = spawn_app().await;
    let p = province(&app).await;
    let other = admission::open(&app, &p.b2, "2025-09-01", "1996-04-05")
        .await
        .case
        .clone();
    let (voting, _) = candidate_at_the_vote(&app, &p.b1).await;
    app.account("huyen", &[("standing_committee", Some(&p.d1))], None)
        .await;
    let mut c = plain_signed_in(&app, "huyen").await;
    let cards = |page: &str| -> Vec<String> {
        [&voting, &other]
            .into_iter()
            .filter(|id| page.contains(&format!("href=\"/cases/{id}\"")))
            .cloned()
            .collect()
    };
    // The district's subtree: both branches' candidates.
    let (status, page) = c.get("/board?unit=HG-D1").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(cards(&page), [voting.clone(), other.clone()], "{page}");
    // One branch alone.
    let (_, page) = c.get("/board?unit=HG-D1-X-1&subtree=0").await;
    assert_eq!(cards(&page), std::slice::from_ref(&voting), "{page}");
    // One stage: the state of the other case.
    let state = app
        .ok(
            "query($id: ID!) { case(id: $id) { state deadlines { overdue } } }",
            json!({ "id": other }),
        )
        .await;
    let (_, page) = c
        .get(&format!(
            "/board?unit=HG-D1&stage={}",
            state["case"]["state"].as_str().unwrap()
        ))
        .await;
    assert_eq!(cards(&page), std::slice::from_ref(&other), "{page}");
    // Overdue only: exactly the cases with a deadline passed, as the API says.
    let mut overdue = Vec::new();
    for id in [&voting, &other] {
        let d = app
            .ok(
                "query($id: ID!) { case(id: $id) { deadlines { overdue } } }",
                json!({ "id": id }),
            )
            .await;
        if d["case"]["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["overdue"] == true)
        {
            overdue.push(id.clone());
        }
    }
    let (_, page) = c.get("/board?unit=HG-D1&overdue=1").await;
    assert_eq!(cards(&page), overdue, "{page}");
    // A secretary of the second branch, asking for the whole district, sees their own
    // branch's candidate only, as the API filters cases.
    app.account("nam", &[("secretary", Some(&p.b2))], None)
        .await;
    let mut nam = plain_signed_in(&app, "nam").await;
    let (status, page) = nam.get("/board?unit=HG-D1").await;
    assert!([200, 403].contains(&status), "{page}");
    assert!(!cards(&page).contains(&voting), "{page}");
    let (_, page) = nam.get("/board").await;
    assert_eq!(cards(&page), std::slice::from_ref(&other), "{page}");
}

#[tokio::test]
async fn administrators_create_accounts_and_grant_roles_from_the_console_and_nobody_else_does() {
    let app = spawn_app().await;
    let p = province(&app).await;
    app.account("quantri", &[("admin", None)], None).await;
    app.account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let mut c = plain_signed_in(&app, "quantri").await;
    let csrf = c.csrf();
    let (status, page) = c.get("/admin").await;
    assert_eq!(status, 200, "{page}");
    // The roles are offered by their names in Vietnamese, not their codes.
    let picker = page
        .split("id=\"g-role\"")
        .nth(1)
        .and_then(|r| r.split("</select>").next())
        .unwrap();
    assert!(
        picker.contains(">Ban Thường vụ</option>") && picker.contains(">Ủy ban Kiểm tra</option>"),
        "{picker}"
    );
    assert!(!picker.contains(">standing_committee<"), "{picker}");

    async fn roles(app: &TestApp) -> Option<Value> {
        app.ok(
            "{ accounts { username roles { role unit { code } } } }",
            json!({}),
        )
        .await["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == "huyen")
            .map(|a| a["roles"].clone())
    }
    let (status, to) = c
        .post(
            "/admin/accounts",
            &[
                ("csrf", &csrf),
                ("username", "huyen"),
                ("password", "một mật khẩu đủ dài"),
                ("email", "huyen@example.vn"),
            ],
        )
        .await;
    assert_eq!((status, to.as_str()), (303, "/admin"));
    assert_eq!(roles(&app).await, Some(json!([])));
    let grant = [
        ("csrf", csrf.as_str()),
        ("op", "grant"),
        ("username", "huyen"),
        ("role", "standing_committee"),
        ("unit", "HG-D1"),
    ];
    let (status, _) = c.post("/admin/roles", &grant).await;
    assert_eq!(status, 303);
    assert_eq!(
        roles(&app).await,
        Some(json!([{ "role": "standing_committee", "unit": { "code": "HG-D1" } }]))
    );
    let (_, page) = c.get("/admin?q=huyen").await;
    assert!(page.contains("Ban Thường vụ — "), "{page}");

    // A secretary sending the same forms: refused, nothing written.
    let mut lan = plain_signed_in(&app, "lan").await;
    let lan_csrf = lan.csrf();
    let (status, _) = lan.get("/admin").await;
    assert_ne!(status, 200);
    let before = app.row_counts().await;
    let mut revoke = grant;
    revoke[0].1 = &lan_csrf;
    revoke[1].1 = "revoke";
    let (status, page) = lan.post("/admin/roles", &revoke).await;
    assert_eq!(status, 403, "{page}");
    let (status, _) = lan
        .post(
            "/admin/accounts",
            &[
                ("csrf", &lan_csrf),
                ("username", "mallory"),
                ("password", "một mật khẩu đủ dài"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.row_counts().await, before, "nothing written");

    // The administrator revokes it.
    let mut revoke = grant;
    revoke[1].1 = "revoke";
    let (status, _) = c.post("/admin/roles", &revoke).await;
    assert_eq!(status, 303);
    assert_eq!(roles(&app).await, Some(json!([])));
}

#[tokio::test]
async fn dead_letters_are_listed_and_retried_from_the_console_by_administrators_only() {
    use sea_orm::ConnectionTrait as _;
    let app = spawn_app().await;
    let p = province(&app).await;
    // The admission walked to the vote leaves mail in the outbox; the SMTP server refused it
    // for good (as the worker marks a letter after its last attempt).
    candidate_at_the_vote(&app, &p.b1).await;
    let pending = app
        .ok("{ outbox(status: PENDING, first: 100) { id } }", json!({}))
        .await["outbox"]
        .as_array()
        .unwrap()
        .len();
    assert!(pending > 0, "the walk left mail waiting");
    app.db
        .execute_unprepared("UPDATE outbox SET status = 'DEAD' WHERE status = 'PENDING'")
        .await
        .unwrap();
    let dead = app
        .ok(
            "{ outbox(status: DEAD, first: 100) { id kind } }",
            json!({}),
        )
        .await["outbox"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(dead.len(), pending);
    let id = dead[0]["id"].as_str().unwrap().to_owned();

    app.account("quantri", &[("admin", None)], None).await;
    app.account("lan", &[("secretary", Some(&p.b1))], None)
        .await;
    let mut c = plain_signed_in(&app, "quantri").await;
    let csrf = c.csrf();
    let (status, page) = c.get("/admin").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Thư không gửi được"), "{page}");
    assert!(
        page.contains(&format!("action=\"/admin/outbox/{id}/requeue\"")),
        "{page}"
    );
    // Each named in Vietnamese, not by its code.
    let section = page.split("Thư không gửi được").nth(1).unwrap();
    for k in dead.iter().map(|d| d["kind"].as_str().unwrap()) {
        assert!(!section.contains(&format!("<td>{k}")), "{k}: {section}");
    }

    // A secretary may not retry it: refused, still dead.
    let mut lan = plain_signed_in(&app, "lan").await;
    let lan_csrf = lan.csrf();
    let (status, _) = lan
        .post(
            &format!("/admin/outbox/{id}/requeue"),
            &[("csrf", &lan_csrf)],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(outbox_status(&app, &id).await, Some(json!("DEAD")));
    // The administrator's retry puts it back in the queue, and off the list.
    let (status, to) = c
        .post(&format!("/admin/outbox/{id}/requeue"), &[("csrf", &csrf)])
        .await;
    assert_eq!((status, to.as_str()), (303, "/admin"));
    assert_eq!(outbox_status(&app, &id).await, Some(json!("PENDING")));
    let (_, page) = c.get("/admin").await;
    assert!(
        !page.contains(&format!("action=\"/admin/outbox/{id}/requeue\"")),
        "{page}"
    );
}

/// The status of the outbox row `id`, as the API lists it.
async fn outbox_status(app: &TestApp, id: &str) -> Option<Value> {
    app.ok("{ outbox(first: 100) { id status } }", json!({}))
        .await["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .map(|r| r["status"].clone())
}
