//! Builders shared by the tests: small trees and members made through the API.

use memberflow_tests::TestApp;
use serde_json::{Value, json};

pub const CREATE_UNIT: &str =
    "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id code } }";

/// Creates a unit and returns its id.
pub async fn unit(
    app: &TestApp,
    code: &str,
    kind: &str,
    parent: Option<&str>,
    from: &str,
) -> String {
    let d = app
        .ok(
            CREATE_UNIT,
            json!({ "i": { "code": code, "name": format!("Đơn vị {code}"), "kind": kind,
                           "parentId": parent, "validFrom": from } }),
        )
        .await;
    d["createUnit"]["id"].as_str().unwrap().to_owned()
}

pub const REGISTER: &str =
    "mutation($i: RegisterMemberInput!) { registerMember(input: $i) { id fullName } }";

/// Registers an official member in `unit` and returns their id.
pub async fn member(app: &TestApp, unit: &str, name: &str) -> String {
    member_as(app, &app.token, unit, name).await
}

/// The same, as the account of `token`.
pub async fn member_as(app: &TestApp, token: &str, unit: &str, name: &str) -> String {
    let d = app
        .ok_as(
            token,
            REGISTER,
            json!({ "i": official_member_input(unit, name) }),
        )
        .await;
    d["registerMember"]["id"].as_str().unwrap().to_owned()
}

/// An official member of `unit` registered as the rules have it: by the secretary of the
/// unit (`secretary@CODE`, who holds `REGISTER_MEMBERS` there and nothing else).
pub async fn registered(app: &TestApp, unit: &str, name: &str) -> String {
    let secretary = holder(app, "secretary", unit).await;
    member_as(app, &secretary, unit, name).await
}

/// An official member registered in `unit` by its secretary who lives their party life
/// temporarily elsewhere (another province) from `from`, as the secretary records it in the registry
/// (`recordTemporaryActivity`): a branch vote leaves them out of its denominator on the days
/// the period covers (A8, D33).
pub async fn member_away(app: &TestApp, unit: &str, name: &str, from: &str) -> String {
    let secretary = holder(app, "secretary", unit).await;
    let id = member_as(app, &secretary, unit, name).await;
    let r = app
        .gql_as(
            &secretary,
            "mutation($i: RecordTemporaryActivityInput!) { recordTemporaryActivity(input: $i) { from } }",
            json!({ "i": { "memberId": id, "place": "Tỉnh Cà Mau", "from": from } }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r:#}");
    id
}

/// The member of `unit` is back in their branch from `on` (`endTemporaryActivity`), as the
/// branch secretary records it.
pub async fn member_back(app: &TestApp, unit: &str, member: &str, on: &str) {
    let secretary = holder(app, "secretary", unit).await;
    let r = app
        .gql_as(
            &secretary,
            "mutation($m: ID!, $on: Date!) { endTemporaryActivity(memberId: $m, on: $on) { to } }",
            json!({ "m": member, "on": on }),
        )
        .await;
    assert!(r["errors"].is_null(), "{r:#}");
}

pub fn official_member_input(unit: &str, name: &str) -> Value {
    json!({
        "unitId": unit, "unitSince": "2015-01-01", "fullName": name,
        "dateOfBirth": "1985-03-04", "sex": "FEMALE", "education": "UPPER_SECONDARY",
        "occupation": "PUBLIC_SERVICE_EMPLOYEE", "status": "OFFICIAL",
        "admissionDecisionDate": "2010-05-10", "ceremonyDate": "2010-06-01",
        "officialDate": "2011-06-01"
    })
}

/// A small province: HG with two districts, a grassroots committee with two branches under
/// the first district and a grassroots branch under the second.
pub struct Province {
    pub hg: String,
    pub d1: String,
    pub d2: String,
    pub gc: String,
    pub b1: String,
    pub b2: String,
    pub gb: String,
}

pub async fn province(app: &TestApp) -> Province {
    let hg = unit(app, "HG", "PROVINCE", None, "2004-01-01").await;
    let d1 = unit(app, "HG-D1", "DISTRICT", Some(&hg), "2004-01-01").await;
    let d2 = unit(app, "HG-D2", "DISTRICT", Some(&hg), "2004-01-01").await;
    let gc = unit(
        app,
        "HG-D1-X",
        "GRASSROOTS_COMMITTEE",
        Some(&d1),
        "2005-01-01",
    )
    .await;
    let b1 = unit(app, "HG-D1-X-1", "BRANCH", Some(&gc), "2005-01-01").await;
    let b2 = unit(app, "HG-D1-X-2", "BRANCH", Some(&gc), "2005-01-01").await;
    let gb = unit(app, "HG-D2-Y", "GRASSROOTS_BRANCH", Some(&d2), "2005-01-01").await;
    Province {
        hg,
        d1,
        d2,
        gc,
        b1,
        b2,
        gb,
    }
}

/// A token of an account holding exactly `role` at `unit` (an id) and nothing else, named
/// `role@CODE` after the unit's code: made the first time, a fresh session of it after.
pub async fn holder(app: &TestApp, role: &str, unit: &str) -> String {
    let d = app
        .ok(
            "query($id: ID!) { unit(id: $id) { code } }",
            json!({ "id": unit }),
        )
        .await;
    let name = format!("{role}@{}", d["unit"]["code"].as_str().unwrap());
    match app.try_account(&name, &[(role, Some(unit))], None).await {
        Ok(token) => token,
        Err(e) if e.contains("already taken") => app.session_of(&name).await,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// The accounts that act on a branch's cases as the rules say, each holding one role at the
/// unit the rules name and nothing else (made by [`holder`]): the walks fire every step as
/// one of them, never as `operator`, so that the roles of each transition are exercised.
pub struct RealRoles {
    /// The secretary of the branch (`secretary@branch`).
    pub secretary: String,
    /// The executive committee of its grassroots organization (`executive_committee@grassroots`;
    /// for a grassroots branch, held at the branch itself).
    pub executive: String,
    /// The standing committee of the grassroots organization's direct superior: the competent
    /// committee of A10 (`A10.competent_level = "superior"`) on the day the roles are made.
    pub competent: String,
    /// The standing committee of the province (`standing_committee@province`).
    pub province: String,
}

impl RealRoles {
    /// The account the rules say fires `transition` on an admission case: the branch secretary
    /// for the branch's steps (A1–A8, the ceremony, the recognition vote), the grassroots
    /// executive committee for its review (A9), the competent committee for the decisions and
    /// extensions (A10, A14), the province's standing committee for its consent (E3).
    pub fn admission_actor(&self, transition: &str) -> &str {
        match transition {
            "reject_after_verification"
            | "grassroots_review"
            | "grassroots_rejects"
            | "submit_to_competent" => &self.executive,
            "record_province_consent" => &self.province,
            "decide_admission"
            | "refuse_admission"
            | "extend_admission_deadline"
            | "extend_recognition_deadline"
            | "recognise"
            | "strike_off" => &self.competent,
            _ => &self.secretary,
        }
    }

    /// The real roles over `branch` on the tree of `on` (`YYYY-MM-DD`).
    pub async fn of(app: &TestApp, branch: &str, on: &str) -> RealRoles {
        let d = app
            .ok(
                "query($id: ID!, $on: Date) { unit(id: $id) { id kind ancestors(on: $on) { id kind } } }",
                json!({ "id": branch, "on": on }),
            )
            .await;
        let unit = &d["unit"];
        // The unit, then its ancestors, nearest first.
        let mut path = vec![unit.clone()];
        path.extend(unit["ancestors"].as_array().unwrap().iter().cloned());
        let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
        let g = path
            .iter()
            .position(|u| u["kind"] == "GRASSROOTS_COMMITTEE" || u["kind"] == "GRASSROOTS_BRANCH")
            .unwrap_or_else(|| panic!("no grassroots organization above {branch}: {d:#}"));
        let grassroots = &path[g];
        let superior = id(&path[g + 1]);
        let root = id(path.last().unwrap());
        let secretary = holder(app, "secretary", branch).await;
        RealRoles {
            executive: holder(app, "executive_committee", &id(grassroots)).await,
            competent: holder(app, "standing_committee", &superior).await,
            province: holder(app, "standing_committee", &root).await,
            secretary,
        }
    }
}

/// A board following `caseChanged(unitId: unit)` over WebSocket as the account of `token`.
pub struct Board(
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Board {
    /// Logs in with `token` and subscribes to the changes under `unit`.
    pub async fn subscribe(app: &TestApp, token: &str, unit: &str) -> Board {
        let b = Board::start(
            app,
            Some(token),
            "subscription($u: ID!) { caseChanged(unitId: $u) { caseId state version kind transition } }",
            json!({ "u": unit }),
        )
        .await;
        // The subscription is registered asynchronously: give the server a moment, bounded.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        b
    }

    /// Connects (as the account of `token`, anonymous without), waits for the server's
    /// acknowledgement and starts `query` with `variables` as the operation `1`.
    pub async fn start(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Board {
        use futures::SinkExt as _;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};

        let mut req = format!("{}/graphql/ws", app.base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let mut b = Board(ws);
        let payload = match token {
            Some(t) => json!({ "token": t }),
            None => json!({}),
        };
        b.0.send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .unwrap();
        // The protocol's order: start once the server has acknowledged the connection.
        assert_eq!(b.next().await["type"], "connection_ack");
        b.0.send(Message::text(
            json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } })
                .to_string(),
        ))
        .await
        .unwrap();
        b
    }

    /// The next message, if one arrives within `wait` and the connection is open.
    pub async fn within(&mut self, wait: std::time::Duration) -> Option<Value> {
        use futures::StreamExt as _;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let m = tokio::time::timeout_at(deadline, self.0.next())
                .await
                .ok()??
                .ok()?;
            // Control frames (pings) carry no JSON.
            if let Ok(v) = serde_json::from_str(m.to_text().unwrap_or_default()) {
                return Some(v);
            }
        }
    }

    /// The next message (within 10 s).
    pub async fn next(&mut self) -> Value {
        use futures::StreamExt as _;
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), self.0.next())
            .await
            .expect("no message arrived")
            .unwrap()
            .unwrap();
        serde_json::from_str(m.to_text().unwrap()).unwrap()
    }

    /// The next change: the `caseChanged` of the next message, which must be one.
    pub async fn change(&mut self) -> Value {
        let v = self.next().await;
        assert_eq!(v["type"], "next", "{v}");
        v["payload"]["data"]["caseChanged"].clone()
    }
}
