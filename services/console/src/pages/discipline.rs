//! Disciplinary cases for inspection commissions and committees (and the member concerned,
//! who sees their own): under the confidentiality rules of the API, every case page read
//! logged.

use axum::extract::Query;
use axum::response::Response;
use maud::{Markup, html};
use memberflow_api::Lang;
use serde::Deserialize;
use serde_json::Value;

use crate::gql::{self, b, i, list, opt, s};
use crate::i18n::{date, t};
use crate::layout::{Nav, error_page, page};
use crate::session::Visit;

#[derive(Deserialize, Default)]
pub(crate) struct Filter {
    /// `1` to include ended cases.
    all: Option<String>,
}

fn table(l: Lang, rows: &[Value]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.muted { (t(l, "Không có hồ sơ.", "No case.")) }
        } @else {
            div.table-wrap {
                table data-sortable {
                    thead { tr {
                        th { (t(l, "Hồ sơ", "Case")) } th { (t(l, "Đơn vị", "Unit")) }
                        th { (t(l, "Trạng thái", "State")) } th { (t(l, "Hạn gần nhất", "Next deadline")) }
                    } }
                    tbody {
                        @for c in rows {
                            tr {
                                td { a href={ "/cases/" (s(c, "id")) } { (s(c, "title")) } }
                                td { (s(&c["unit"], "name")) }
                                td { (s(c, "stateLabel")) @if b(c, "terminal") { " " span.muted { (t(l, "(đã kết thúc)", "(ended)")) } } }
                                td data-sort=(s(c, "nextDue")) { @if let Some(d) = opt(c, "nextDue") { (date(d)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /discipline?all=1`.
pub(crate) async fn show(v: Visit, Query(f): Query<Filter>) -> Response {
    if let Some(r) = v.login_redirect() {
        return r;
    }
    let l = v.lang;
    let all = f.all.as_deref() == Some("1");
    let data = match v
        .gql(
            gql::DISCIPLINE,
            "DisciplineCases",
            serde_json::json!({ "openOnly": !all }),
        )
        .await
    {
        Ok(d) => d,
        Err(e) => return error_page(&v, Nav::Discipline, &e),
    };
    page(
        &v,
        t(l, "Kỷ luật", "Discipline"),
        Nav::Discipline,
        html! {
            h1 { (t(l, "Hồ sơ kỷ luật", "Disciplinary cases")) }
            p.confidential role="note" {
                (t(l, "MẬT — chỉ các cơ quan xử lý, kiểm toán và đảng viên liên quan được xem. Mỗi lần mở hồ sơ đều được ghi vào nhật ký truy cập.",
                   "CONFIDENTIAL — readable by the bodies that handle it, auditors and the member concerned. Every case opened is recorded in the access log."))
            }
            p {
                @if all { a href="/discipline" { (t(l, "Chỉ hồ sơ đang mở", "Open cases only")) } }
                @else { a href="/discipline?all=1" { (t(l, "Gồm cả hồ sơ đã kết thúc", "Include ended cases")) } }
            }
            h2 { (t(l, "Kỷ luật đảng viên", "Discipline of members")) " (" (i(&data["members"], "totalCount")) ")" }
            (table(l, list(&data["members"], "nodes")))
            h2 { (t(l, "Kỷ luật tổ chức đảng", "Discipline of organizations")) " (" (i(&data["organizations"], "totalCount")) ")" }
            (table(l, list(&data["organizations"], "nodes")))
        },
    )
}
