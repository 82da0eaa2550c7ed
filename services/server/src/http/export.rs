//! `GET /exports/registry.{csv|xlsx}`: an export of the registry (docs/import.md,
//! «Exports») streamed to the browser or a script in bounded memory, where `exportRegistry`
//! gives the whole file in one GraphQL response. The same authentication as the report
//! downloads (a bearer token, else the console's session cookie) and the same decision as
//! `exportRegistry` (`memberflow_api::may_export`): units need `READ_TREE` over the unit,
//! members `READ_MEMBERS`, role holders `ADMINISTER` everywhere, and their card numbers
//! `READ_MEMBERS` everywhere (else the column is left empty).
//!
//! CSV goes out as it is read: the tree once, then the members a page at a time by card
//! number (`Registry::export_members_page`), each page written and sent before the next is
//! read, through a channel of a few chunks (the client's pace holds the reading back). An
//! XLSX workbook is a ZIP archive whose index comes last: it is written a row at a time in
//! the library's constant-memory mode into a temporary directory, then sent from the file.

use std::collections::HashSet;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use memberflow_api::Lang;
use memberflow_store::{ExportTree, Store};
use memberflow_workflow::import::Kind;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{AppState, browser_caller, request_error};
use crate::sheets;

/// Members read a page at a time.
const PAGE: u64 = 1_000;
/// Rows of the tree or of the role holders sent at a time.
const CHUNK_ROWS: usize = 1_000;
/// Chunks of a file in flight between the reading and the client.
const IN_FLIGHT: usize = 4;
/// Bytes of an XLSX file sent at a time.
const FILE_CHUNK: usize = 64 * 1024;

/// The query string of an export download.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct ExportQuery {
    /// The unit's code (the whole tree without it).
    unit: Option<String>,
    /// `units`, `members`, `role-holders`, `badges`, `hamlets` or `discipline` (also as
    /// GraphQL spells them: `ROLE_HOLDERS`);
    /// XLSX without it: units and members.
    kind: Option<String>,
    /// `xlsx` or `csv` when the path does not say it (`/exports/registry?format=csv`).
    format: Option<String>,
    /// `1` (or `true`): the empty template.
    template: Option<String>,
    lang: Option<String>,
}

fn kind_of(s: &str) -> Option<Kind> {
    match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "units" => Some(Kind::Units),
        "members" => Some(Kind::Members),
        "role-holders" => Some(Kind::RoleHolders),
        "badges" => Some(Kind::Badges),
        "hamlets" => Some(Kind::Hamlets),
        "discipline" => Some(Kind::Discipline),
        _ => None,
    }
}

fn invalid(lang: Lang, vi: &str, en: &str) -> Response {
    request_error(StatusCode::BAD_REQUEST, "VALIDATION", vi, en, lang)
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "an export download failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// `GET /exports/registry.csv?unit=CODE&kind=members`,
/// `GET /exports/registry.xlsx?unit=CODE&template=1`: the registry (or the template) as a
/// file, streamed.
pub(super) async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
    headers: HeaderMap,
) -> Response {
    let (lang, auth) = match browser_caller(&state, &headers, q.lang.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let ext = match file.as_str() {
        "registry.csv" => "csv",
        "registry.xlsx" => "xlsx",
        "registry" => match q.format.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("csv") => "csv",
            None | Some("xlsx") => "xlsx",
            Some(_) => return StatusCode::NOT_FOUND.into_response(),
        },
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let csv = ext == "csv";
    let kind = match q.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        None => None,
        Some(k) => match kind_of(k) {
            Some(k) => Some(k),
            None => {
                return invalid(
                    lang,
                    "Loại dữ liệu phải là units, members, role-holders, badges, hamlets hoặc discipline.",
                    "The kind must be units, members, role-holders, badges, hamlets or discipline.",
                );
            }
        },
    };
    let kinds: Vec<Kind> = match kind {
        Some(k) => vec![k],
        None if csv => {
            return invalid(
                lang,
                "Tệp CSV chỉ chứa một loại: hãy chọn đơn vị, đảng viên, người giữ vai trò, huy hiệu Đảng, ấp, khu vực hoặc kỷ luật.",
                "A CSV file holds one kind: choose units, members, role holders, party badges, hamlets or discipline.",
            );
        }
        None => vec![Kind::Units, Kind::Members],
    };
    let template = q
        .template
        .as_deref()
        .is_some_and(|t| matches!(t, "1" | "true" | "on"));
    let unit = match q.unit.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => match state.store.tree().unit_by_code(code).await {
            Ok(u) => Some(u),
            Err(_) => {
                return request_error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "Không có đơn vị này.",
                    "No such unit.",
                    lang,
                );
            }
        },
    };
    let today = state.clock.today();
    let unit_id = unit.as_ref().map(|u| u.id);
    match memberflow_api::may_export(&state.store, &auth, unit_id, &kinds, today).await {
        Ok(Ok(())) => {}
        Ok(Err(p)) => {
            let what = p.label();
            return request_error(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                &format!(
                    "Tài khoản của đồng chí không có quyền {} ở đơn vị này.",
                    what.vi
                ),
                &format!("Your account may not {} here.", what.en),
                lang,
            );
        }
        Err(e) => return internal(e),
    }
    let what = match kind {
        Some(Kind::Units) => "don-vi",
        Some(Kind::Members) => "dang-vien",
        Some(Kind::RoleHolders) => "vai-tro",
        Some(Kind::Badges) => "huy-hieu",
        Some(Kind::Hamlets) => "ap-khu-vuc",
        Some(Kind::Discipline) => "ky-luat",
        None => "so-dang-vien",
    };
    let code = unit.as_ref().map_or("tat-ca", |u| u.code.as_str());
    let prefix = if template { "mau-" } else { "" };
    // The name is ASCII: the kind, and a unit code as the tree spells it, filtered.
    let name: String = format!("{prefix}{what}-{code}.{ext}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let mime = if csv {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    let attachment = |body: Body, length: Option<u64>| -> Response {
        let mut r = body.into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
        if let Ok(cd) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, cd);
        }
        if let Some(n) = length {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        r
    };
    if template {
        return match sheets::export_file(None, &kinds, csv) {
            Ok(bytes) => {
                let n = bytes.len() as u64;
                attachment(Body::from(bytes), Some(n))
            }
            Err(e) => internal(e),
        };
    }
    let subject = match unit_id {
        Some(u) => format!("registry:{u}"),
        None => "registry:*".to_owned(),
    };
    if let Err(e) = state
        .store
        .accounts()
        .log_access(
            auth.principal.account.id,
            &subject,
            "export",
            state.clock.now(),
        )
        .await
    {
        return internal(e);
    }
    let scope = match unit_id {
        Some(u) => match state.store.tree().subtree_ids_on(u, today).await {
            Ok(ids) => Some(ids.into_iter().collect::<HashSet<Uuid>>()),
            Err(e) => return internal(e),
        },
        None => None,
    };
    let tree = match state.store.registry().export_tree(scope).await {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let source = Rows {
        store: state.store.clone(),
        tree,
        cards: memberflow_api::role_cards(&auth),
    };
    if csv {
        let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(IN_FLIGHT);
        tokio::spawn(send_csv(source, kinds[0], tx));
        return attachment(body_of(rx), None);
    }
    match write_xlsx(source, kinds).await {
        Ok((dir, path)) => {
            let length = std::fs::metadata(&path).map(|m| m.len()).ok();
            let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(IN_FLIGHT);
            tokio::task::spawn_blocking(move || send_file(dir, &path, &tx));
            attachment(body_of(rx), length)
        }
        Err(e) => internal(e),
    }
}

/// A response body fed by a channel.
fn body_of(rx: mpsc::Receiver<std::io::Result<Bytes>>) -> Body {
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

/// Where an export's rows come from.
struct Rows {
    store: Store,
    tree: ExportTree,
    /// Whether the role holders' card numbers are given (`memberflow_api::role_cards`).
    cards: bool,
}

/// Where the reading of a kind is.
enum Cursor {
    /// The next row of a list held (units, role holders).
    At(usize),
    /// The next page of members after this card number (`None`: from the first).
    After(Option<String>),
    Done,
}

impl Rows {
    /// The next rows of `kind` as the template's cells, `None` at the end.
    async fn next(
        &self,
        kind: Kind,
        cursor: &mut Cursor,
        roles: &mut Option<Vec<Vec<String>>>,
    ) -> anyhow::Result<Option<Vec<Vec<String>>>> {
        match (kind, &*cursor) {
            (_, Cursor::Done) => Ok(None),
            (Kind::Members, Cursor::After(after)) => {
                let page = self
                    .store
                    .registry()
                    .export_members_page(&self.tree, after.as_deref(), PAGE)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                *cursor = match page.next {
                    Some(n) => Cursor::After(Some(n)),
                    None => Cursor::Done,
                };
                Ok(Some(
                    page.members.iter().map(sheets::member_cells).collect(),
                ))
            }
            (Kind::Badges, Cursor::After(after)) => {
                let page = self
                    .store
                    .registry()
                    .export_badges_page(&self.tree, after.as_deref(), PAGE)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                *cursor = match page.next {
                    Some(n) => Cursor::After(Some(n)),
                    None => Cursor::Done,
                };
                Ok(Some(page.badges.iter().map(sheets::badge_cells).collect()))
            }
            (Kind::Units, Cursor::At(i)) => {
                let i = *i;
                let end = (i + CHUNK_ROWS).min(self.tree.units.len());
                *cursor = if end >= self.tree.units.len() {
                    Cursor::Done
                } else {
                    Cursor::At(end)
                };
                Ok(Some(
                    self.tree.units[i..end]
                        .iter()
                        .map(sheets::unit_cells)
                        .collect(),
                ))
            }
            (Kind::Hamlets, Cursor::At(i)) => {
                let i = *i;
                let end = (i + CHUNK_ROWS).min(self.tree.hamlets.len());
                *cursor = if end >= self.tree.hamlets.len() {
                    Cursor::Done
                } else {
                    Cursor::At(end)
                };
                Ok(Some(
                    self.tree.hamlets[i..end]
                        .iter()
                        .map(sheets::hamlet_cells)
                        .collect(),
                ))
            }
            (Kind::RoleHolders, Cursor::At(i)) => {
                let i = *i;
                if roles.is_none() {
                    let mut rows = self
                        .store
                        .registry()
                        .export_roles_of(&self.tree)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    if !self.cards {
                        for r in &mut rows {
                            r.card = None;
                        }
                    }
                    *roles = Some(rows.iter().map(sheets::role_cells).collect());
                }
                let all = roles.as_deref().unwrap_or_default();
                let end = (i + CHUNK_ROWS).min(all.len());
                let chunk = all[i..end].to_vec();
                *cursor = if end >= all.len() {
                    Cursor::Done
                } else {
                    Cursor::At(end)
                };
                Ok(Some(chunk))
            }
            (Kind::Discipline, Cursor::At(_)) => {
                // The register is small (a few thousand records for a province): read whole.
                let rows = self
                    .store
                    .registry()
                    .export_discipline_of(&self.tree)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                *cursor = Cursor::Done;
                Ok(Some(rows.iter().map(sheets::discipline_cells).collect()))
            }
            (Kind::Members | Kind::Badges, Cursor::At(_)) | (_, Cursor::After(_)) => Ok(None),
        }
    }

    fn start(kind: Kind) -> Cursor {
        match kind {
            Kind::Members | Kind::Badges => Cursor::After(None),
            Kind::Units | Kind::RoleHolders | Kind::Hamlets | Kind::Discipline => Cursor::At(0),
        }
    }
}

/// Sends a kind as CSV, a chunk of rows at a time; a failure ends the body with an error
/// (the client sees a broken download, never a truncated file that looks whole).
async fn send_csv(source: Rows, kind: Kind, tx: mpsc::Sender<std::io::Result<Bytes>>) {
    let header = Bytes::from(sheets::csv_header(kind.columns()));
    if tx.send(Ok(header)).await.is_err() {
        return;
    }
    let mut cursor = Rows::start(kind);
    let mut roles = None;
    loop {
        match source.next(kind, &mut cursor, &mut roles).await {
            Ok(Some(rows)) => {
                let mut chunk = String::new();
                for r in &rows {
                    chunk.push_str(&sheets::csv_line(r));
                }
                if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                    // The client went away.
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "an export download failed while streaming");
                let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                return;
            }
        }
    }
}

/// What the async reading hands the workbook's writer.
enum Write {
    Begin(Kind),
    Rows(Vec<Vec<String>>),
}

/// Writes the kinds as an XLSX workbook in a temporary directory, a row at a time (the rows
/// read on this side, written on a blocking thread): the directory and the file.
async fn write_xlsx(
    source: Rows,
    kinds: Vec<Kind>,
) -> anyhow::Result<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::Builder::new()
        .prefix("memberflow-export-")
        .tempdir()?;
    let path = dir.path().join("export.xlsx");
    let (tx, mut rx) = mpsc::channel::<Write>(2);
    let target = path.clone();
    let writer = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut wb = sheets::StreamedWorkbook::new();
        while let Some(w) = rx.blocking_recv() {
            match w {
                Write::Begin(k) => wb.begin(k)?,
                Write::Rows(rows) => {
                    for r in &rows {
                        wb.row(r)?;
                    }
                }
            }
        }
        wb.finish(&target)?;
        Ok(())
    });
    let reading = async {
        for k in kinds {
            tx.send(Write::Begin(k)).await?;
            let mut cursor = Rows::start(k);
            let mut roles = None;
            while let Some(rows) = source.next(k, &mut cursor, &mut roles).await? {
                tx.send(Write::Rows(rows)).await?;
            }
        }
        anyhow::Ok(())
    }
    .await;
    drop(tx);
    let written = writer.await?;
    reading?;
    written?;
    Ok((dir, path))
}

/// Sends a file a chunk at a time (on a blocking thread), then removes its directory.
fn send_file(
    dir: tempfile::TempDir,
    path: &std::path::Path,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
) {
    use std::io::Read as _;
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    let mut buf = vec![0u8; FILE_CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if tx
                    .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    break;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                break;
            }
        }
    }
    drop(dir);
}
