//! A case, of any workflow: its state, the decision (what the member concerned is told), open
//! deadlines, votes with their denominators and thresholds, the history with its chain
//! verified, and the steps the reader may take as forms generated from the definition's
//! inputs, each with a dry run before it is fired.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use memberflow_api::Lang;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Fields, fields};
use crate::gql::{self, GqlError, Reason, b, i, list, opt, s};
use crate::i18n::{choice, date, parse_date, t};
use crate::layout::{
    Nav, csrf, due_chip, error_page, error_summary, page_with_status, reasons, rule_id,
};
use crate::session::{Visit, random_token};

#[derive(Deserialize, Default)]
pub(crate) struct Shown {
    done: Option<String>,
}

/// What the page says above the steps after a form came back.
enum Outcome {
    /// Nothing submitted.
    None,
    /// A step was fired (after the redirect).
    Done,
    /// The dry run of `transition` passed.
    CheckPassed(String),
    /// `transition` was refused, or its inputs are wrong.
    Failed(String, GqlError),
    /// Someone else moved the case first.
    Conflict(String),
}

/// `GET /cases/{id}`.
pub(crate) async fn show(v: Visit, Path(id): Path<String>, Query(q): Query<Shown>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let outcome = if q.done.is_some() {
        Outcome::Done
    } else {
        Outcome::None
    };
    render(&v, &id, outcome, &Fields::new()).await
}

fn is_confidential(definition: &str) -> bool {
    definition.starts_with("discipline")
}

fn nav_of(definition: &str) -> Nav {
    if is_confidential(definition) {
        Nav::Discipline
    } else {
        Nav::Board
    }
}

async fn render(v: &Visit, id: &str, outcome: Outcome, submitted: &Fields) -> Response {
    let l = v.lang;
    let data = match v
        .gql(gql::CASE, "CasePage", serde_json::json!({ "id": id }))
        .await
    {
        Ok(d) => d,
        Err(e) => return error_page(v, Nav::Board, &e),
    };
    let c = &data["case"];
    let definition = s(c, "definitionId");
    let my_member = v
        .auth
        .as_ref()
        .and_then(|a| a.principal.account.member_id.map(|m| m.to_string()));
    let is_subject = my_member.is_some() && my_member.as_deref() == opt(c, "subjectMemberId");
    // The member concerned may not read the votes: not asked for them.
    let votes = if is_subject {
        Vec::new()
    } else {
        match v
            .gql(gql::CASE, "CaseVotes", serde_json::json!({ "id": id }))
            .await
        {
            Ok(d) => list(&d["case"], "votes").to_vec(),
            Err(_) => Vec::new(),
        }
    };
    // Steps none of the reader's roles may take are not offered.
    let steps: Vec<&Value> = list(c, "availableTransitions")
        .iter()
        .filter(|tr| {
            !list(tr, "reasons")
                .iter()
                .any(|r| s(r, "code") == "ROLE_NOT_ALLOWED")
        })
        .collect();
    let needs_pickers = steps.iter().any(|tr| {
        list(tr, "inputs").iter().any(|inp| {
            let ty = opt(inp, "itemType").unwrap_or(s(inp, "type"));
            ty == "member_ref" || ty == "unit_ref"
        })
    });
    let pickers = if needs_pickers {
        v.gql(
            gql::CASE,
            "Pickers",
            serde_json::json!({ "unitId": s(&c["unit"], "id") }),
        )
        .await
        .ok()
    } else {
        None
    };
    let status = match &outcome {
        Outcome::Failed(..) => StatusCode::UNPROCESSABLE_ENTITY,
        Outcome::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::OK,
    };
    let today = s(&data, "today");
    let words = Words::of(&data, definition, i(c, "definitionVersion"));
    let body = html! {
        p.muted {
            @if is_confidential(definition) {
                a href="/discipline" { (t(l, "Hồ sơ kỷ luật", "Disciplinary cases")) }
            } @else {
                a href={ "/board?unit=" (crate::session::urlencode(s(&c["unit"], "code"))) } { (t(l, "Bảng kết nạp", "Admission board")) }
            }
            " › " (s(&c["unit"], "name"))
        }
        h1 { (s(c, "title")) }
        @if is_confidential(definition) {
            p.confidential role="note" {
                (t(l, "MẬT — hồ sơ kỷ luật. Mỗi lần xem đều được ghi vào nhật ký truy cập.",
                   "CONFIDENTIAL — disciplinary case. Every read is recorded in the access log."))
            }
        }
        @match &outcome {
            Outcome::Done => p.notice role="status" { (t(l, "Đã ghi bước. Trạng thái hiện tại: ", "Step recorded. The case is now: ")) strong { (s(c, "stateLabel")) } },
            Outcome::Conflict(_) => div.error-summary role="alert" {
                h2 { (t(l, "Hồ sơ vừa được cập nhật", "The case was just updated")) }
                p { (t(l, "Một người khác đã ghi một bước trước đồng chí. Trang đã được tải lại với trạng thái mới; hãy xem lại và gửi lại nếu vẫn cần.",
                       "Someone else recorded a step first. The page was reloaded with the new state; check it and submit again if still needed.")) }
            },
            Outcome::Failed(_, e) => (error_summary(l, e)),
            _ => {}
        }
        div.split {
            div {
                dl.facts {
                    dt { (t(l, "Trạng thái", "State")) } dd { strong { (s(c, "stateLabel")) } }
                    dt { (t(l, "Đơn vị", "Unit")) } dd { (s(&c["unit"], "name")) " (" (s(&c["unit"], "code")) ")" }
                    dt { (t(l, "Quy trình", "Workflow")) } dd { (words.title(l, definition)) " " span.code { "(" (definition) " v" (i(c, "definitionVersion")) ")" } }
                    dt { (t(l, "Bộ quy tắc", "Rule set")) } dd { (s(c, "ruleSet")) }
                    dt { (t(l, "Phiên bản", "Version")) } dd { (i(c, "version")) }
                    @if let Some(m) = opt(c, "subjectMemberId") {
                        @if !is_subject {
                            dt { (t(l, "Đảng viên", "Member")) } dd { a href={ "/members/" (m) } { (t(l, "Hồ sơ đảng viên", "Member record")) } }
                        }
                    }
                }
                @if c["decision"].is_object() {
                    (decision(l, &c["decision"]))
                }
                (deadlines(l, list(c, "deadlines")))
                @if !votes.is_empty() { (votes_table(l, &votes, &words)) }
                h2 { (t(l, "Các bước có thể thực hiện", "Steps you can take")) }
                @if b(c, "terminal") {
                    p { (t(l, "Hồ sơ đã kết thúc.", "The case has ended.")) }
                } @else if steps.is_empty() {
                    p.muted { (t(l, "Không có bước nào đồng chí có thể thực hiện ở trạng thái này.",
                                 "There is no step you can take in this state.")) }
                }
                @for (n, tr) in steps.iter().enumerate() {
                    (step_form(v, id, i(c, "version"), today, tr, n == 0, &outcome, submitted))
                }
                @if let Some(p) = &pickers { (datalists(p)) }
            }
            div {
                h2 { (t(l, "Diễn biến", "History")) }
                @if b(c, "historyIntact") {
                    p { span.chip.ok { "✓ " (t(l, "Chuỗi lịch sử toàn vẹn (đã kiểm tra mã băm)", "History chain intact (hashes verified)")) } }
                } @else {
                    p { span.chip.overdue { (t(l, "Chuỗi lịch sử bị hỏng: báo ngay cho quản trị viên", "History chain broken: tell an administrator now")) } }
                }
                (timeline(l, list(c, "history"), &words))
            }
        }
    };
    page_with_status(v, status, s(c, "title"), nav_of(definition), body)
}

fn decision(l: Lang, d: &Value) -> Markup {
    html! {
        section.panel aria-labelledby="decision" {
            h2 id="decision" { (t(l, "Quyết định kỷ luật", "Disciplinary decision")) }
            dl.facts {
                dt { (t(l, "Hình thức", "Form")) } dd { strong { (s(d, "formLabel")) } }
                @if let Some(n) = opt(d, "number") { dt { (t(l, "Số quyết định", "Decision number")) } dd { (n) } }
                @if let Some(x) = opt(d, "decidedOn") { dt { (t(l, "Ngày quyết định", "Decided on")) } dd { (date(x)) } }
                @if let Some(x) = opt(d, "body") { dt { (t(l, "Cơ quan quyết định", "Decided by")) } dd { (x) } }
                @if let Some(x) = opt(d, "receivedOn") { dt { (t(l, "Ngày nhận quyết định", "Received on")) } dd { (date(x)) } }
                @if let Some(x) = opt(d, "appealDueBy") {
                    dt { (t(l, "Hạn khiếu nại", "Appeal by")) }
                    dd { (date(x)) " " (rule_id("P1")) " "
                        (t(l, "(đảng viên có quyền khiếu nại trong thời hạn này)", "(the member may appeal until then)")) }
                }
                @if let Some(x) = opt(d, "lapsesOn") { dt { (t(l, "Hết hiệu lực", "Lapses on")) } dd { (date(x)) " " (rule_id("C1")) } }
            }
        }
    }
}

fn deadlines(l: Lang, rows: &[Value]) -> Markup {
    html! {
        h2 { (t(l, "Hạn đang chạy", "Open deadlines")) }
        @if rows.is_empty() {
            p.muted { (t(l, "Không có hạn nào đang chạy.", "No deadline is running.")) }
        } @else {
            ul.plain {
                @for d in rows {
                    li {
                        (due_chip(l, opt(d, "extendedDue").unwrap_or(s(d, "due")), i(d, "workingDaysLeft"), b(d, "overdue")))
                        " " (crate::i18n::deadline(l, s(d, "key"))) " " (rule_id(s(d, "rule")))
                        @if b(d, "extendedDue") { " " (t(l, "(đã gia hạn)", "(extended)")) }
                    }
                }
            }
        }
    }
}

/// The members a vote left out of its denominator, how many of each kind, and where they were
/// counted from: the registry on the vote's date, as the step was decided on it, or the counts
/// typed with a step recorded without the registry's figures (A8, D33, S15).
fn left_out(l: Lang, x: &Value) -> Markup {
    let from = match x.get("excludedFrom").and_then(Value::as_str) {
        Some("REGISTRY") => Some(t(l, "theo sổ đảng viên", "from the registry")),
        Some("INPUTS") => Some(t(l, "theo số đã nhập", "as typed")),
        _ => None,
    };
    let detail = match l {
        Lang::Vi => format!(
            "{} sinh hoạt tạm thời nơi khác, {} được miễn sinh hoạt vắng mặt",
            i(x, "excludedAway"),
            i(x, "excludedExempted")
        ),
        Lang::En => format!(
            "{} living their party life elsewhere, {} exempted and absent",
            i(x, "excludedAway"),
            i(x, "excludedExempted")
        ),
    };
    html! {
        (i(x, "excluded"))
        @if let Some(from) = from {
            br; span.muted { (detail) " (" (from) ")" }
        }
    }
}

fn votes_table(l: Lang, votes: &[Value], words: &Words<'_>) -> Markup {
    html! {
        h2 { (t(l, "Biểu quyết", "Votes")) }
        div.table-wrap {
            table {
                thead { tr {
                    th { (t(l, "Bước", "Step")) } th { (t(l, "Ngày", "Held on")) } th { (t(l, "Vòng", "Round")) }
                    th.num { (t(l, "Tán thành", "For")) } th.num { (t(l, "Không tán thành", "Not for")) }
                    th.num { (t(l, "Loại trừ", "Left out")) }
                    th.num { (t(l, "Mẫu số", "Denominator")) } th.num { (t(l, "Cần", "Needed")) }
                    th { (t(l, "Ngưỡng", "Threshold")) } th { (t(l, "Kết quả", "Result")) }
                } }
                tbody {
                    @for x in votes {
                        tr {
                            td { (words.transition(s(x, "transition"))) " " (rule_id(s(x, "rule"))) }
                            td { (date(s(x, "heldOn"))) }
                            td.num { (i(x, "round")) }
                            td.num { (i(x, "votesFor")) }
                            td.num { (i(x, "notInFavour")) }
                            td.num { (left_out(l, x)) }
                            td.num title=(format!("{} − {}", i(x, "eligible"), i(x, "excluded"))) { (i(x, "denominator")) }
                            td.num { @if let Some(r) = x.get("required").and_then(Value::as_i64) { (r) } }
                            td { (s(x, "threshold")) " (" (s(x, "ruleSet")) ")" }
                            td {
                                @match x.get("passed").and_then(Value::as_bool) {
                                    Some(true) => span.chip.ok { (t(l, "Đạt", "Passed")) },
                                    Some(false) => span.chip.overdue { (t(l, "Không đạt", "Not passed")) },
                                    None => span.chip { "—" },
                                }
                                @if !b(x, "recorded") { " " span.muted { (t(l, "(lần bị từ chối)", "(refused attempt)")) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The labels of a definition's states and transitions, for the history.
struct Words<'a> {
    /// The definition's title, `Vietnamese (english)` as the definitions write it.
    title: &'a str,
    states: Vec<(&'a str, &'a str)>,
    transitions: Vec<(&'a str, &'a str)>,
}

impl<'a> Words<'a> {
    fn of(data: &'a Value, definition: &str, version: i64) -> Self {
        let w = list(data, "workflows")
            .iter()
            .find(|w| s(w, "id") == definition && i(w, "version") == version);
        let pairs = |key: &str| -> Vec<(&'a str, &'a str)> {
            w.map(|w| {
                list(w, key)
                    .iter()
                    .map(|x| (s(x, "name"), s(x, "label")))
                    .collect()
            })
            .unwrap_or_default()
        };
        Words {
            title: w.map_or("", |w| s(w, "title")),
            states: pairs("stages"),
            transitions: pairs("transitions"),
        }
    }

    /// The definition's title in the reader's language (its id when it has none).
    fn title(&self, l: Lang, id: &'a str) -> String {
        match (self.title.split_once(" ("), l) {
            (Some((vi, _)), Lang::Vi) => vi.to_owned(),
            (Some((_, en)), Lang::En) => {
                memberflow_workflow::vocab::capitalised(en.trim_end_matches(')'))
            }
            (None, _) if !self.title.is_empty() => self.title.to_owned(),
            _ => id.to_owned(),
        }
    }

    fn state(&self, name: &'a str) -> &'a str {
        self.states
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, l)| l)
    }

    fn transition(&self, name: &'a str) -> &'a str {
        self.transitions
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(name, |(_, l)| l)
    }
}

fn timeline(l: Lang, events: &[Value], words: &Words<'_>) -> Markup {
    html! {
        ol.timeline {
            @for e in events.iter().rev() {
                li {
                    strong { (words.transition(s(e, "transition"))) }
                    @if s(e, "kind") == "REFUSED" { " " span.chip.overdue { (t(l, "bị từ chối", "refused")) } }
                    @if s(e, "kind") == "MIGRATED" { " " span.chip { (t(l, "chuyển phiên bản", "migrated")) } }
                    div.meta {
                        (date(s(e, "effectiveDate"))) " · " (s(e, "actor")) " · " (s(e, "ruleSet"))
                        " · #" (i(e, "seq"))
                    }
                    div.meta {
                        @if !s(e, "fromState").is_empty() { (words.state(s(e, "fromState"))) " → " }
                        (words.state(s(e, "toState")))
                    }
                }
            }
        }
    }
}

fn datalists(p: &Value) -> Markup {
    let u = &p["unit"];
    html! {
        datalist id="member-choices" {
            @for m in list(&u["members"], "nodes") { option value=(s(m, "id")) { (s(m, "fullName")) } }
        }
        datalist id="unit-choices" {
            @for a in list(u, "ancestors") { option value=(s(a, "id")) { (s(a, "name")) " (" (s(a, "code")) ")" } }
            @for n in list(u, "subtree") { option value=(s(&n["unit"], "id")) { (s(&n["unit"], "name")) " (" (s(&n["unit"], "code")) ")" } }
        }
    }
}

/// What the registry leaves out of a branch vote's denominator on the day shown (A8, D33, S15):
/// the step reads the same on the vote's date.
fn exclusions_note(l: Lang, x: &Value) -> Markup {
    let away = i(x, "away");
    let exempted = i(x, "exempted");
    html! {
        p.hint data-registry-exclusions {
            (t(l, "Theo sổ đảng viên ngày ", "As the registry has it on "))
            (date(s(x, "on")))
            ": " (away) (t(l, " đảng viên sinh hoạt tạm thời nơi khác (không tính vào mẫu số), ",
                " member(s) living their party life elsewhere (left out of the denominator), "))
            (exempted) (t(l, " đảng viên được miễn sinh hoạt (không tính nếu vắng mặt). Không cần nhập các số này: bước biểu quyết đọc sổ đảng viên vào ngày biểu quyết.",
                " member(s) exempted from party activities (left out when absent). No need to type these counts: the vote reads the registry on its date."))
        }
    }
}

/// The form of one step, its fields generated from the definition's inputs.
#[allow(clippy::too_many_arguments)]
fn step_form(
    v: &Visit,
    id: &str,
    version: i64,
    today: &str,
    tr: &Value,
    first: bool,
    outcome: &Outcome,
    submitted: &Fields,
) -> Markup {
    let l = v.lang;
    let name = s(tr, "name");
    // Values the person typed come back when this form was the one submitted.
    let mine = submitted.get("transition").map(String::as_str) == Some(name);
    let value = |k: &str| -> Option<&str> {
        if mine {
            submitted.get(k).map(String::as_str)
        } else {
            None
        }
    };
    let open = first
        || mine
        || matches!(outcome, Outcome::Failed(t, _) | Outcome::CheckPassed(t) | Outcome::Conflict(t) if t == name);
    let fid = |k: &str| format!("{name}--{k}");
    html! {
        details.step open[open] {
            summary {
                (s(tr, "label"))
                @match s(tr, "status") {
                    "ALLOWED" => { " " span.chip.ok { (t(l, "có thể thực hiện", "can be taken")) } },
                    "REFUSED" => { " " span.chip.overdue { (t(l, "chưa thể thực hiện", "refused now")) } },
                    _ => { " " span.chip { (t(l, "cần nhập thông tin", "needs input")) } },
                }
            }
            @let rs: Vec<Reason> = list(tr, "reasons").iter()
                .filter(|r| s(r, "code") != "MISSING_INPUT")
                .map(|r| Reason {
                    rule: opt(r, "rule").map(str::to_owned),
                    field: opt(r, "field").map(str::to_owned),
                    message: s(r, match l { Lang::Vi => "messageVi", Lang::En => "messageEn" }).to_owned(),
                }).collect();
            @if !rs.is_empty() { (reasons(&rs)) }
            @if tr["registryExclusions"].is_object() {
                (exclusions_note(l, &tr["registryExclusions"]))
            }
            form id={ "step-" (name) } method="post" action={ "/cases/" (id) "/step" } data-check={ "/cases/" (id) "/check" } novalidate {
                (csrf(v))
                input type="hidden" name="transition" value=(name);
                input type="hidden" name="version" value=(version);
                input type="hidden" name="key" value=(value("key").map_or_else(random_token, str::to_owned));
                label for=(fid("on")) { (t(l, "Ngày của bước", "Date of the step")) }
                p.hint { (t(l, "ngày/tháng/năm", "day/month/year")) }
                input.date id=(fid("on")) type="text" name="on" inputmode="numeric"
                    value=(value("on").map_or_else(|| date(today), str::to_owned)) autocomplete="off";
                @for inp in list(tr, "inputs") {
                    (field(l, name, inp, value))
                }
                div.check-result data-check-result aria-live="polite" {
                    @match outcome {
                        Outcome::CheckPassed(t_) if t_ == name => (check_passed(l)),
                        Outcome::Failed(t_, e) if t_ == name => (check_failed(l, e)),
                        _ => {}
                    }
                }
                div.row {
                    button.secondary type="submit" name="mode" value="check" { (t(l, "Kiểm tra trước", "Check first")) }
                    button type="submit" name="mode" value="fire" { (t(l, "Thực hiện", "Record the step")) }
                }
            }
        }
    }
}

fn field<'a>(l: Lang, step: &str, inp: &Value, value: impl Fn(&str) -> Option<&'a str>) -> Markup {
    let name = s(inp, "name");
    let ty = s(inp, "type");
    let item = opt(inp, "itemType");
    let key = format!("in.{name}");
    let id = format!("{step}--{name}");
    let given = value(&key);
    let required = b(inp, "required");
    let type_hint = match item {
        Some(it) => format!("list:{it}"),
        None => ty.to_owned(),
    };
    html! {
        input type="hidden" name={ "ty." (name) } value=(type_hint);
        @if ty == "boolean" {
            label.check for=(id) {
                input id=(id) type="checkbox" name=(key) value="true" checked[given == Some("true")];
                (s(inp, "label"))
            }
        } @else {
            label for=(id) id={ (id) "--label" } {
                (s(inp, "label"))
                @if !required { " " span.muted { (t(l, "(không bắt buộc)", "(optional)")) } }
            }
            @match (ty, item) {
                ("date", _) => {
                    p.hint { (t(l, "ngày/tháng/năm", "day/month/year")) }
                    input.date id=(id) type="text" name=(key) inputmode="numeric" value=(given.unwrap_or("")) autocomplete="off";
                },
                ("integer", _) => {
                    input id=(id) type="number" step="1" name=(key) value=(given.unwrap_or(""))
                        min=[inp.get("min").and_then(Value::as_i64)] max=[inp.get("max").and_then(Value::as_i64)];
                },
                ("enum", _) => {
                    select id=(id) name=(key) {
                        option value="" { (t(l, "— chọn —", "— choose —")) }
                        @for x in list(inp, "values") {
                            @let x = x.as_str().unwrap_or_default();
                            option value=(x) selected[given == Some(x)] { (choice(l, x)) }
                        }
                    }
                },
                ("member_ref", _) => {
                    p.hint { (t(l, "Gõ tên để chọn đảng viên trong đơn vị", "Type a name to pick a member of the unit")) }
                    input id=(id) type="text" name=(key) list="member-choices" value=(given.unwrap_or("")) autocomplete="off";
                },
                ("unit_ref", _) => {
                    input id=(id) type="text" name=(key) list="unit-choices" value=(given.unwrap_or("")) autocomplete="off";
                },
                ("list", Some("enum")) => {
                    // One box per choice, named in the reader's language (several may be ticked).
                    div.choices id=(id) role="group" aria-labelledby={ (id) "--label" } {
                        @for (n, x) in list(inp, "values").iter().enumerate() {
                            @let x = x.as_str().unwrap_or_default();
                            div {
                                label.check for={ (id) "--" (n) } {
                                    input id={ (id) "--" (n) } type="checkbox" name=(key) value=(x)
                                        checked[given.is_some_and(|g| g.lines().any(|v| v.trim() == x))];
                                    (choice(l, x))
                                }
                            }
                        }
                    }
                },
                ("list", _) => {
                    p.hint { (t(l, "Mỗi dòng một giá trị", "One value per line")) }
                    textarea id=(id) name=(key) rows="3" { (given.unwrap_or("")) }
                },
                _ => {
                    input id=(id) type="text" name=(key) value=(given.unwrap_or(""));
                },
            }
        }
    }
}

fn check_passed(l: Lang) -> Markup {
    html! {
        div.pass {
            strong { (t(l, "Kiểm tra: bước này sẽ được chấp nhận.", "Check: this step would be accepted.")) }
        }
    }
}

fn check_failed(l: Lang, e: &GqlError) -> Markup {
    html! {
        div.fail {
            strong { (t(l, "Kiểm tra: bước này sẽ bị từ chối.", "Check: this step would be refused.")) }
            p { (e.message) }
            @if !e.reasons.is_empty() { (reasons(&e.reasons)) }
        }
    }
}

/// One typed value from what a person typed, by the input's type.
fn typed(l: Lang, ty: &str, raw: &str) -> Result<Value, String> {
    let raw = raw.trim();
    match ty {
        "integer" => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| t(l, "phải là một số nguyên", "must be a whole number").to_owned()),
        "date" => parse_date(raw)
            .map(|d| Value::from(d.format("%Y-%m-%d").to_string()))
            .ok_or_else(|| {
                t(
                    l,
                    "phải là ngày dạng ngày/tháng/năm",
                    "must be a date as day/month/year",
                )
                .to_owned()
            }),
        "boolean" => Ok(Value::Bool(raw == "true")),
        _ => Ok(Value::from(raw)),
    }
}

/// The step's inputs from the form: `(inputs, on, problems)`.
fn inputs_of(l: Lang, f: &Fields) -> (Map<String, Value>, Option<String>, Vec<Reason>) {
    let mut inputs = Map::new();
    let mut problems = Vec::new();
    for (k, ty) in f
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("ty.").map(|n| (n, v)))
    {
        let raw = f.get(&format!("in.{k}")).map(String::as_str);
        let mut problem = |m: String| {
            problems.push(Reason {
                rule: None,
                field: Some(k.to_owned()),
                message: m,
            })
        };
        if let Some(item) = ty.strip_prefix("list:") {
            let items: Vec<&str> = raw
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            if items.is_empty() {
                continue;
            }
            let mut out = Vec::new();
            for x in items {
                match typed(l, item, x) {
                    Ok(v) => out.push(v),
                    Err(m) => problem(format!("{k}: {m}")),
                }
            }
            inputs.insert(k.to_owned(), Value::Array(out));
            continue;
        }
        match (ty.as_str(), raw.map(str::trim)) {
            ("boolean", Some("true")) => {
                inputs.insert(k.to_owned(), Value::Bool(true));
            }
            ("boolean", _) | (_, None | Some("")) => {}
            (ty, Some(x)) => match typed(l, ty, x) {
                Ok(v) => {
                    inputs.insert(k.to_owned(), v);
                }
                Err(m) => problem(format!("{k}: {m}")),
            },
        }
    }
    let on = match f.get("on").map(|x| x.trim()).filter(|x| !x.is_empty()) {
        None => None,
        Some(x) => match parse_date(x) {
            Some(d) => Some(d.format("%Y-%m-%d").to_string()),
            None => {
                problems.push(Reason {
                    rule: None,
                    field: Some("on".into()),
                    message: t(
                        l,
                        "Ngày của bước phải có dạng ngày/tháng/năm",
                        "The step's date must read day/month/year",
                    )
                    .to_owned(),
                });
                None
            }
        },
    };
    (inputs, on, problems)
}

/// Fires (or tries, `dry_run`) the step the form describes.
async fn fire(v: &Visit, id: &str, f: &Fields, dry_run: bool) -> Result<Value, GqlError> {
    let l = v.lang;
    let (inputs, on, problems) = inputs_of(l, f);
    if !problems.is_empty() {
        return Err(GqlError {
            code: "VALIDATION".into(),
            message: t(
                l,
                "Một số thông tin chưa đúng:",
                "Some of the information is not right:",
            )
            .to_owned(),
            reasons: problems,
        });
    }
    let version: Option<i64> = f.get("version").and_then(|x| x.parse().ok());
    let mut input = serde_json::json!({
        "caseId": id,
        "transition": f.get("transition").cloned().unwrap_or_default(),
        "inputs": Value::Object(inputs),
        "expectedVersion": version,
        "dryRun": dry_run,
        "on": on,
    });
    if !dry_run && let Some(k) = f.get("key").filter(|k| !k.is_empty()) {
        input["idempotencyKey"] = Value::from(format!("console-{k}"));
    }
    v.gql(gql::CASE, "FireStep", serde_json::json!({ "input": input }))
        .await
}

/// `POST /cases/{id}/step`: `mode=check` tries the step and shows the page with the answer;
/// `mode=fire` records it and goes back to the case (a refusal or a conflict shows the page
/// again with the reasons and the values typed).
pub(crate) async fn step(
    v: Visit,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = fields(pairs);
    if let Some(r) = v.refuse_form(&f) {
        return r;
    }
    let transition = f.get("transition").cloned().unwrap_or_default();
    let check = f.get("mode").map(String::as_str) != Some("fire");
    match fire(&v, &id, &f, check).await {
        Ok(_) if check => render(&v, &id, Outcome::CheckPassed(transition), &f).await,
        Ok(_) => v.finish(Redirect::to(&format!("/cases/{id}?done=1")).into_response()),
        Err(e) if e.is("CONFLICT") => {
            let mut kept = f.clone();
            kept.remove("version");
            render(&v, &id, Outcome::Conflict(transition), &kept).await
        }
        Err(e) => render(&v, &id, Outcome::Failed(transition, e), &f).await,
    }
}

/// `POST /cases/{id}/check`: the dry run of the form as it stands, as a fragment for the
/// page's script.
pub(crate) async fn check(
    v: Visit,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let l = v.lang;
    if v.auth.is_none() {
        return (StatusCode::UNAUTHORIZED, Html(String::new())).into_response();
    }
    let f = fields(pairs);
    if !v.csrf_ok(f.get("csrf").map(String::as_str)) {
        return (StatusCode::FORBIDDEN, Html(String::new())).into_response();
    }
    let markup = match fire(&v, &id, &f, true).await {
        Ok(_) => check_passed(l),
        Err(e) => check_failed(l, &e),
    };
    v.finish(Html(markup.into_string()).into_response())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_choices_is_ticked_in_the_readers_words_and_read_back_as_a_list() {
        let inp = serde_json::json!({
            "name": "inadmissibility", "type": "list", "itemType": "enum", "required": false,
            "label": "Trường hợp không giải quyết khiếu nại",
            "values": ["on_behalf", "court_sentence", "transferred_out"],
        });
        let html = field(Lang::Vi, "rule_appeal", &inp, |k| {
            (k == "in.inadmissibility").then_some("court_sentence")
        })
        .into_string();
        // Boxes named in Vietnamese, not a box to type codes into.
        assert!(!html.contains("<textarea"), "{html}");
        assert_eq!(html.matches("type=\"checkbox\"").count(), 3, "{html}");
        assert!(html.contains(">Khiếu nại hộ người khác</label>"), "{html}");
        assert!(
            html.contains("value=\"court_sentence\" checked"),
            "what was ticked stays ticked: {html}"
        );
        // Two boxes ticked: a list of both.
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let f = fields(vec![
            pair("ty.inadmissibility", "list:enum"),
            pair("in.inadmissibility", "on_behalf"),
            pair("in.inadmissibility", "transferred_out"),
        ]);
        let (inputs, _, problems) = inputs_of(Lang::Vi, &f);
        assert!(problems.is_empty(), "{:?}", problems.len());
        assert_eq!(
            inputs["inadmissibility"],
            serde_json::json!(["on_behalf", "transferred_out"])
        );
    }
}
