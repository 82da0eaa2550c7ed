//! Import and export of the organization tree and the member registry through GraphQL
//! (docs/import.md): `importPreview` checks an uploaded file (GraphQL multipart request) and
//! writes nothing, `importFile` writes it whole in one transaction or not at all,
//! `exportRegistry` gives the registry back as a file in the same form.
//!
//! The API knows no file format: the host hands it [`SheetFiles`] (as it hands it the mail
//! previewer), which reads XLSX and CSV into the core's sheets and writes them back. The rows
//! are parsed by the core and checked against the database by the store, limited to the
//! subtree of the unit the caller names (`unitId`): the caller needs `EDIT_TREE` there for
//! unit rows and `REGISTER_MEMBERS` for member rows (the whole tree without `unitId`), and a
//! row reaching outside is refused with `OUT_OF_SCOPE`; badge rows need `REGISTER_MEMBERS`
//! (the member's branch on the award's day within the subtree), as `awardBadge` does; hamlet
//! rows need `REGISTER_MEMBERS` (the hamlet's commune-level unit within the subtree), as
//! `recordHamlet` does, and their export `READ_TREE`; discipline register rows, confidential,
//! need `KEEP_DISCIPLINE_REGISTER` (the member's branch on the decision's day within the
//! subtree) to import and to export; role holder rows (accounts and their
//! rights) need `ADMINISTER` everywhere. Every import, preview and export is written to the
//! access log.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Upload};
use base64::Engine as _;
use memberflow_store::{ImportOutcome, ImportRequest, RegistryExport, RowAction, RowOutcome};
use memberflow_workflow::access::Permission;
use memberflow_workflow::import::{self as core, Kind, Problem, Sheet};
use memberflow_workflow::text::Text;
use uuid::Uuid;

use crate::access::{caller, forbidden, require, require_everywhere};
use crate::error::{ApiError, Code, OrGql, graphql_error};
use crate::members::probation_months;
use crate::scalars::parse_id;
use crate::tree::{app, lang};

/// A file's format.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "SheetFormat")]
pub enum SheetFormat {
    /// An Excel workbook: a sheet per kind and a sheet explaining the columns.
    Xlsx,
    /// UTF-8 CSV with a byte-order mark: one kind.
    Csv,
}

/// Reads an uploaded file (its name, and the temporary file it was spooled to as it arrived)
/// into sheets, or the problems that stop it.
pub type ReadSheets = dyn Fn(&str, std::fs::File) -> Result<Vec<Sheet>, Vec<Problem>> + Send + Sync;

/// Writes the registry's rows of the kinds as a file of the format (no rows: the template).
pub type WriteSheets =
    dyn Fn(Option<&RegistryExport>, &[Kind], SheetFormat) -> Result<Vec<u8>, String> + Send + Sync;

/// Writes a file's sheets back as an XLSX workbook, each problem's cell marked with its
/// reason (the annotated copy to fix and resubmit).
pub type AnnotateSheets = dyn Fn(&[Sheet], &[Problem]) -> Result<Vec<u8>, String> + Send + Sync;

/// Spreadsheet files, as the host reads and writes them.
#[derive(Clone)]
pub struct SheetFiles {
    /// Reads a file.
    pub read: Arc<ReadSheets>,
    /// Writes one.
    pub write: Arc<WriteSheets>,
    /// Writes the annotated copy of a file with problems.
    pub annotate: Arc<AnnotateSheets>,
    /// The largest file read, in bytes (`FILE_TOO_LARGE` above).
    pub max_bytes: u64,
}

impl std::fmt::Debug for SheetFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SheetFiles")
    }
}

/// What a file holds.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ImportKind {
    /// The organization tree («Đơn vị»).
    Units,
    /// The member registry («Đảng viên»).
    Members,
    /// The holders of roles at units, with their addresses («Người giữ vai trò»): an
    /// administrator's, everywhere.
    RoleHolders,
    /// Party badges awarded to members («Huy hiệu Đảng»).
    Badges,
    /// Hamlets and residential groups with their branches over time («Ấp, khu vực, tổ dân
    /// phố»).
    Hamlets,
    /// The discipline register («Kỷ luật đảng viên»): confidential, for those who keep it
    /// (`KEEP_DISCIPLINE_REGISTER`: inspection commissions and committees).
    Discipline,
}

impl From<ImportKind> for Kind {
    fn from(k: ImportKind) -> Self {
        match k {
            ImportKind::Units => Kind::Units,
            ImportKind::Members => Kind::Members,
            ImportKind::RoleHolders => Kind::RoleHolders,
            ImportKind::Badges => Kind::Badges,
            ImportKind::Hamlets => Kind::Hamlets,
            ImportKind::Discipline => Kind::Discipline,
        }
    }
}

impl From<Kind> for ImportKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Units => ImportKind::Units,
            Kind::Members => ImportKind::Members,
            Kind::RoleHolders => ImportKind::RoleHolders,
            Kind::Badges => ImportKind::Badges,
            Kind::Hamlets => ImportKind::Hamlets,
            Kind::Discipline => ImportKind::Discipline,
        }
    }
}

/// A problem of a file, located as the spreadsheet shows it.
#[derive(SimpleObject, Debug, Clone)]
pub struct ImportProblem {
    /// The sheet (a CSV file's name).
    sheet: String,
    /// The row as the spreadsheet numbers it (the headers are row 1); 0 for the whole file
    /// or sheet.
    row: i32,
    /// The column's header, when one column is at fault.
    column: Option<String>,
    /// A stable code (docs/import.md: `BAD_DATE`, `UNKNOWN_UNIT`, `OUT_OF_SCOPE`, …).
    code: String,
    /// In Vietnamese.
    message_vi: String,
    /// In English.
    message_en: String,
}

impl From<&Problem> for ImportProblem {
    fn from(p: &Problem) -> Self {
        Self {
            sheet: p.sheet.clone(),
            row: i32::try_from(p.row).unwrap_or(i32::MAX),
            column: p.column.clone(),
            code: p.code.to_owned(),
            message_vi: p.reason.vi.clone(),
            message_en: p.reason.en.clone(),
        }
    }
}

/// What a row that passes does.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ImportAction {
    /// Creates a unit or a member.
    Create,
    /// Changes a recorded one (a dated change or a correction).
    Update,
    /// Nothing: recorded as the file says.
    Unchanged,
}

impl From<RowAction> for ImportAction {
    fn from(a: RowAction) -> Self {
        match a {
            RowAction::New => ImportAction::Create,
            RowAction::Changed => ImportAction::Update,
            RowAction::Unchanged => ImportAction::Unchanged,
        }
    }
}

/// One row that passes, and what it does.
#[derive(SimpleObject, Debug, Clone)]
pub struct ImportRow {
    /// The sheet.
    sheet: String,
    /// The row as the spreadsheet numbers it.
    row: i32,
    /// The natural key: the unit code or the party card number.
    key: String,
    /// What it does.
    action: ImportAction,
}

impl From<&RowOutcome> for ImportRow {
    fn from(r: &RowOutcome) -> Self {
        Self {
            sheet: r.sheet.clone(),
            row: i32::try_from(r.row).unwrap_or(i32::MAX),
            key: r.key.clone(),
            action: r.action.into(),
        }
    }
}

/// How many rows of each kind are (or would be) created, updated or left unchanged.
#[derive(SimpleObject, Debug, Clone, Copy, Default)]
pub struct ImportCounts {
    /// Units created.
    units_created: i32,
    /// Units updated.
    units_updated: i32,
    /// Units unchanged.
    units_unchanged: i32,
    /// Members created.
    members_created: i32,
    /// Members updated.
    members_updated: i32,
    /// Members unchanged.
    members_unchanged: i32,
    /// Role grants given.
    roles_created: i32,
    /// Role grants ended, or their accounts' addresses or members changed.
    roles_updated: i32,
    /// Role grants unchanged.
    roles_unchanged: i32,
    /// Badges awarded.
    badges_created: i32,
    /// Badges unchanged.
    badges_unchanged: i32,
    /// Hamlets recorded.
    hamlets_created: i32,
    /// Hamlets renamed, or with a dated change of their branch.
    hamlets_updated: i32,
    /// Hamlets unchanged.
    hamlets_unchanged: i32,
    /// Discipline records written.
    discipline_created: i32,
    /// Discipline records lapsed or annulled from a day, or their number or body filled in.
    discipline_updated: i32,
    /// Discipline records unchanged.
    discipline_unchanged: i32,
}

fn count(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The outcome of a preview or an import.
pub struct ImportReport {
    file_name: String,
    kinds: Vec<ImportKind>,
    problems: Vec<Problem>,
    rows: Vec<RowOutcome>,
    counts: ImportCounts,
    written: bool,
    /// The file's sheets as read (none when it could not be read whole), for the annotated
    /// copy.
    sheets: Arc<Vec<Sheet>>,
    annotate: Arc<AnnotateSheets>,
}

/// The most problems or rows one page lists.
const MAX_PAGE: i32 = 1_000;

fn page<T: Clone, U: for<'a> From<&'a T>>(
    items: &[T],
    first: i32,
    offset: i32,
) -> async_graphql::Result<Vec<U>> {
    let first = usize::try_from(first.clamp(0, MAX_PAGE)).unwrap_or(0);
    let offset = usize::try_from(offset.max(0)).unwrap_or(0);
    Ok(items.iter().skip(offset).take(first).map(U::from).collect())
}

#[Object]
impl ImportReport {
    /// The file's name as uploaded.
    async fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The kinds of rows the file holds.
    async fn kinds(&self) -> &[ImportKind] {
        &self.kinds
    }

    /// Whether the file passes every check: an import would write it whole.
    async fn passes(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether it was written (`importFile` of a file that passes; never a preview).
    async fn written(&self) -> bool {
        self.written
    }

    /// The rows that pass, by what they do.
    async fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// How many problems the file has.
    async fn problem_count(&self) -> i32 {
        i32::try_from(self.problems.len()).unwrap_or(i32::MAX)
    }

    /// The problems, by sheet and row: `first` (at most 1000) from `offset`.
    async fn problems(
        &self,
        #[graphql(default = 200)] first: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> async_graphql::Result<Vec<ImportProblem>> {
        page(&self.problems, first, offset)
    }

    /// The file again as an XLSX workbook, each problem's cell marked red with its reason
    /// in both languages and a sheet listing them all: what the secretary fixes and sends
    /// back. Present when the file has problems and could be read (XLSX or CSV, within the
    /// size limit); written when asked for.
    async fn annotated(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DownloadFile>> {
        if self.problems.is_empty() || self.sheets.is_empty() {
            return Ok(None);
        }
        let (sheets, problems, annotate) = (
            self.sheets.clone(),
            self.problems.clone(),
            self.annotate.clone(),
        );
        let l = lang(ctx);
        let internal = |e: String| {
            tracing::error!(error = %e, "writing an annotated file failed");
            graphql_error(
                Code::Internal,
                &[Text::new("Lỗi hệ thống.", "Internal error.")],
                l,
            )
        };
        // Writing a workbook is CPU work: off the request's thread.
        let bytes = tokio::task::spawn_blocking(move || annotate(&sheets, &problems))
            .await
            .map_err(|e| internal(e.to_string()))?
            .map_err(internal)?;
        let stem = self
            .file_name
            .rsplit_once('.')
            .map_or(self.file_name.as_str(), |(stem, _)| stem);
        Ok(Some(DownloadFile {
            file_name: format!("{stem}-ghi-chu-loi.xlsx"),
            content_type: XLSX_TYPE.to_owned(),
            content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }))
    }

    /// How many rows pass.
    async fn row_count(&self) -> i32 {
        i32::try_from(self.rows.len()).unwrap_or(i32::MAX)
    }

    /// The rows that pass and what each does, by sheet and row (only `action`'s when
    /// given): `first` (at most 1000) from `offset`.
    async fn rows(
        &self,
        action: Option<ImportAction>,
        #[graphql(default = 200)] first: i32,
        #[graphql(default = 0)] offset: i32,
    ) -> async_graphql::Result<Vec<ImportRow>> {
        let rows: Vec<RowOutcome> = self
            .rows
            .iter()
            .filter(|r| action.is_none_or(|a| ImportAction::from(r.action) == a))
            .cloned()
            .collect();
        page(&rows, first, offset)
    }
}

/// The media type of an XLSX workbook.
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to download, built from what was sent.
#[derive(SimpleObject, Debug, Clone)]
pub struct DownloadFile {
    /// A name for it (`dang-vien-ghi-chu-loi.xlsx`).
    file_name: String,
    /// Its media type.
    content_type: String,
    /// Its bytes, in base64.
    content_base64: String,
}

/// A file to download.
#[derive(SimpleObject, Debug, Clone)]
pub struct ExportFile {
    /// A name for it (`dang-vien-HG.xlsx`).
    file_name: String,
    /// Its media type.
    content_type: String,
    /// Its bytes, in base64.
    content_base64: String,
    /// Unit rows written.
    units: i32,
    /// Member rows written.
    members: i32,
}

fn sheet_files<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a SheetFiles> {
    app(ctx).files.as_ref().ok_or_else(|| {
        ApiError::from(memberflow_store::StoreError::Conflict(Text::new(
            "Máy chủ này không đọc, ghi tệp bảng tính.",
            "This server does not read or write spreadsheet files.",
        )))
        .into_graphql(lang(ctx))
    })
}

/// The unit a call names (`None`: the whole tree), parsed.
fn unit_of(ctx: &Context<'_>, unit_id: Option<&ID>) -> async_graphql::Result<Option<Uuid>> {
    unit_id
        .map(|id| parse_id(id, "unit").gql(lang(ctx)))
        .transpose()
}

/// The caller, if they hold `p` over `unit` (the whole tree for `None`).
async fn holds<'a>(
    ctx: &Context<'a>,
    p: Permission,
    unit: Option<Uuid>,
) -> async_graphql::Result<&'a crate::auth::Auth> {
    match unit {
        Some(u) => require(ctx, p, u).await,
        None => require_everywhere(ctx, p),
    }
}

/// The access log's subject for the registry under `unit`.
fn subject(unit: Option<Uuid>) -> String {
    match unit {
        Some(u) => format!("registry:{u}"),
        None => "registry:*".to_owned(),
    }
}

/// Reads, checks and (unless `dry_run`) writes an uploaded file.
async fn run_import(
    ctx: &Context<'_>,
    file: Upload,
    unit_id: Option<ID>,
    kind: Option<ImportKind>,
    dry_run: bool,
) -> async_graphql::Result<ImportReport> {
    let l = lang(ctx);
    caller(ctx)?;
    let unit = unit_of(ctx, unit_id.as_ref())?;
    // Before the file is even read: the caller may import something there.
    let tree_ok = holds(ctx, Permission::EditTree, unit).await.is_ok();
    let members_ok = holds(ctx, Permission::RegisterMembers, unit).await.is_ok();
    // Role holders are accounts and their rights: an administrator's, everywhere.
    let roles_ok = require_everywhere(ctx, Permission::Administer).is_ok();
    // The discipline register is confidential: those who keep it, over the subtree.
    let discipline_ok = holds(ctx, Permission::KeepDisciplineRegister, unit)
        .await
        .is_ok();
    if !tree_ok && !members_ok && !roles_ok && !discipline_ok {
        return Err(forbidden(Permission::RegisterMembers).into_graphql(l));
    }
    let files = sheet_files(ctx)?.clone();
    let upload = file.value(ctx).map_err(|e| {
        ApiError::Validation(Text::new(
            format!("Không đọc được tệp tải lên: {e}."),
            format!("The uploaded file could not be read: {e}."),
        ))
        .into_graphql(l)
    })?;
    let name = upload.filename.clone();
    let a = app(ctx);
    let catalog = a.catalog.clone();
    let only = kind.map(Kind::from);
    // Reading a workbook is CPU work: off the request's thread.
    let annotate = files.annotate.clone();
    let (rows, mut early, sheets) = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || {
            // The upload was spooled to a temporary file as it arrived: read from there.
            let file = upload.content;
            let size = file.metadata().map_or(0, |m| m.len());
            if size > files.max_bytes {
                return (
                    core::FileRows::default(),
                    vec![too_large(&name, size, files.max_bytes)],
                    Vec::new(),
                );
            }
            match (files.read)(&name, file) {
                Ok(sheets) => {
                    let probation = |ceremony| probation_months(&catalog, ceremony);
                    (
                        core::parse_file(&name, &sheets, only, &probation),
                        Vec::new(),
                        sheets,
                    )
                }
                Err(problems) => (core::FileRows::default(), problems, Vec::new()),
            }
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading an uploaded file failed");
            graphql_error(
                Code::Internal,
                &[Text::new("Lỗi hệ thống.", "Internal error.")],
                l,
            )
        })?
    };
    // The permission each kind of row needs, now that the file says which it holds.
    if !rows.units.is_empty() && !tree_ok {
        return Err(forbidden(Permission::EditTree).into_graphql(l));
    }
    if (!rows.members.is_empty() || !rows.badges.is_empty() || !rows.hamlets.is_empty())
        && !members_ok
    {
        return Err(forbidden(Permission::RegisterMembers).into_graphql(l));
    }
    if !rows.roles.is_empty() && !roles_ok {
        return Err(forbidden(Permission::Administer).into_graphql(l));
    }
    // Confidential: a discipline sheet is refused as such, whether its rows parse or not.
    if rows.kinds.contains(&Kind::Discipline) && !discipline_ok {
        return Err(forbidden(Permission::KeepDisciplineRegister).into_graphql(l));
    }
    // A role holder row naming a card number learns whether that member is recorded
    // (`UNKNOWN_MEMBER`) and links the account to them: member data, which an administrator
    // does not read (docs/security.md).
    if rows.roles.iter().any(|r| r.card.is_some()) && !role_cards(caller(ctx)?) {
        return Err(forbidden(Permission::ReadMembers).into_graphql(l));
    }
    let who = caller(ctx)?;
    a.store
        .accounts()
        .log_access(
            who.principal.account.id,
            &subject(unit),
            if dry_run { "import-preview" } else { "import" },
            a.clock.now(),
        )
        .await
        .gql(l)?;
    let kinds: Vec<ImportKind> = rows.kinds.iter().map(|k| (*k).into()).collect();
    let mut problems = rows.problems;
    problems.append(&mut early);
    let scope = unit.map(|u| vec![u]);
    let req = ImportRequest {
        // A file with problems of its own is still checked against the database (every
        // problem at once), never written.
        dry_run: dry_run || !problems.is_empty(),
        accept_partial: false,
        units: rows.units,
        units_sheet: rows.units_sheet,
        members: rows.members,
        members_sheet: rows.members_sheet,
        roles: rows.roles,
        roles_sheet: rows.roles_sheet,
        badges: rows.badges,
        badges_sheet: rows.badges_sheet,
        hamlets: rows.hamlets,
        hamlets_sheet: rows.hamlets_sheet,
        discipline: rows.discipline,
        discipline_sheet: rows.discipline_sheet,
        rules: Some(a.catalog.rules.clone()),
        units_scope: scope.clone(),
        members_scope: scope,
        list_rows: true,
    };
    let outcome: ImportOutcome = a
        .store
        .registry()
        .import(req, a.clock.now(), &mut |_, _, _| {})
        .await
        .gql(l)?;
    problems.extend(outcome.problems);
    problems.sort_by(|a, b| (&a.sheet, a.row).cmp(&(&b.sheet, b.row)));
    let mut rows = outcome.rows;
    rows.sort_by(|a, b| (&a.sheet, a.row).cmp(&(&b.sheet, b.row)));
    let c = outcome.counts;
    Ok(ImportReport {
        file_name: name,
        kinds,
        problems,
        rows,
        counts: ImportCounts {
            units_created: count(c.units_created),
            units_updated: count(c.units_changed),
            units_unchanged: count(c.units_unchanged),
            members_created: count(c.members_created),
            members_updated: count(c.members_changed),
            members_unchanged: count(c.members_unchanged),
            roles_created: count(c.roles_created),
            roles_updated: count(c.roles_changed),
            roles_unchanged: count(c.roles_unchanged),
            badges_created: count(c.badges_created),
            badges_unchanged: count(c.badges_unchanged),
            hamlets_created: count(c.hamlets_created),
            hamlets_updated: count(c.hamlets_changed),
            hamlets_unchanged: count(c.hamlets_unchanged),
            discipline_created: count(c.discipline_created),
            discipline_updated: count(c.discipline_changed),
            discipline_unchanged: count(c.discipline_unchanged),
        },
        written: outcome.written,
        sheets: Arc::new(sheets),
        annotate,
    })
}

/// Whether `auth` may see and give the party card numbers of role holders (the column «Số thẻ
/// đảng viên» of the role holder kind): `READ_MEMBERS` everywhere, beside the `ADMINISTER`
/// the kind itself needs. Without it an export leaves the column empty and an import of a
/// row naming a card number is `FORBIDDEN` (docs/import.md, docs/security.md).
pub fn role_cards(auth: &crate::auth::Auth) -> bool {
    matches!(
        memberflow_workflow::access::scope(&auth.principal.grants(), Permission::ReadMembers),
        memberflow_workflow::access::Scope::Everywhere
    )
}

/// Whether `auth` may export `kinds` under `unit` (the whole tree for `None`), on `on`:
/// units and hamlets need `READ_TREE` there, members and badges `READ_MEMBERS`, the discipline
/// register `KEEP_DISCIPLINE_REGISTER`, role holders `ADMINISTER` everywhere; `Err` names the permission missing. For the download route outside GraphQL,
/// which decides as `exportRegistry` does.
pub async fn may_export(
    store: &memberflow_store::Store,
    auth: &crate::auth::Auth,
    unit: Option<Uuid>,
    kinds: &[Kind],
    on: chrono::NaiveDate,
) -> Result<Result<(), Permission>, memberflow_store::StoreError> {
    for k in kinds {
        let p = match k {
            Kind::Units | Kind::Hamlets => Permission::ReadTree,
            Kind::Members | Kind::Badges => Permission::ReadMembers,
            Kind::Discipline => Permission::KeepDisciplineRegister,
            Kind::RoleHolders => Permission::Administer,
        };
        let ok = match (k, unit) {
            (Kind::RoleHolders, _) | (_, None) => matches!(
                memberflow_workflow::access::scope(&auth.principal.grants(), p),
                memberflow_workflow::access::Scope::Everywhere
            ),
            (_, Some(u)) => crate::access::permits(store, auth, p, u, on).await?,
        };
        if !ok {
            return Ok(Err(p));
        }
    }
    Ok(Ok(()))
}

fn too_large(file: &str, size: u64, limit: u64) -> Problem {
    let mb = |b: u64| b.div_ceil(1024 * 1024);
    Problem {
        sheet: file.to_owned(),
        row: 0,
        column: None,
        code: "FILE_TOO_LARGE",
        reason: Text::new(
            format!(
                "Tệp {} MB, vượt giới hạn {} MB: hãy chia tệp hoặc dùng lệnh memberflow import.",
                mb(size),
                mb(limit)
            ),
            format!(
                "The file is {} MB, over the {} MB limit: split it or use memberflow import.",
                mb(size),
                mb(limit)
            ),
        ),
    }
}

/// Import mutations.
#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Checks an uploaded file (XLSX or CSV, GraphQL multipart request) against the same
    /// rules as an import, and writes nothing: what each row would do, and every problem
    /// with its sheet, row and column. Rows must lie in the subtree of `unitId` (the whole
    /// tree without it), where the caller needs `EDIT_TREE` for units and `REGISTER_MEMBERS`
    /// for members. `kind` reads only sheets of that kind.
    async fn import_preview(
        &self,
        ctx: &Context<'_>,
        file: Upload,
        unit_id: Option<ID>,
        kind: Option<ImportKind>,
    ) -> async_graphql::Result<ImportReport> {
        run_import(ctx, file, unit_id, kind, true).await
    }

    /// Imports an uploaded file in one transaction: written whole when it passes every
    /// check, not at all otherwise (`written: false` and the problems, as the preview gives
    /// them). Importing the same file again changes nothing.
    async fn import_file(
        &self,
        ctx: &Context<'_>,
        file: Upload,
        unit_id: Option<ID>,
        kind: Option<ImportKind>,
    ) -> async_graphql::Result<ImportReport> {
        run_import(ctx, file, unit_id, kind, false).await
    }
}

/// Export queries.
#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// The registry under `unitId` (the whole tree without it) as a file in the import's
    /// form: the units of the subtree, and its members with a party card number (those
    /// whose last branch is in it), with their histories. Units need `READ_TREE` there,
    /// members `READ_MEMBERS`. `kind` is required for CSV (one kind a file); `template`
    /// writes the headers only.
    async fn export_registry(
        &self,
        ctx: &Context<'_>,
        unit_id: Option<ID>,
        kind: Option<ImportKind>,
        #[graphql(default_with = "SheetFormat::Xlsx")] format: SheetFormat,
        #[graphql(default = false)] template: bool,
    ) -> async_graphql::Result<ExportFile> {
        let l = lang(ctx);
        caller(ctx)?;
        let unit = unit_of(ctx, unit_id.as_ref())?;
        let kinds: Vec<Kind> = match kind {
            Some(k) => vec![k.into()],
            None => vec![Kind::Units, Kind::Members],
        };
        for k in &kinds {
            match k {
                Kind::Units | Kind::Hamlets => holds(ctx, Permission::ReadTree, unit).await?,
                Kind::Members | Kind::Badges => holds(ctx, Permission::ReadMembers, unit).await?,
                Kind::Discipline => holds(ctx, Permission::KeepDisciplineRegister, unit).await?,
                Kind::RoleHolders => require_everywhere(ctx, Permission::Administer)?,
            };
        }
        if format == SheetFormat::Csv && kinds.len() != 1 {
            return Err(ApiError::Validation(Text::new(
                "Tệp CSV chỉ chứa một loại: hãy chọn đơn vị, đảng viên, người giữ vai trò, huy hiệu Đảng, ấp, khu vực hoặc kỷ luật.",
                "A CSV file holds one kind: choose units, members, role holders, party badges, hamlets or discipline.",
            ))
            .into_graphql(l));
        }
        let files = sheet_files(ctx)?.clone();
        let a = app(ctx);
        let who = caller(ctx)?;
        let code = match unit {
            Some(u) => a.store.tree().unit(u).await.gql(l)?.code,
            None => "tat-ca".to_owned(),
        };
        let data = if template {
            None
        } else {
            a.store
                .accounts()
                .log_access(
                    who.principal.account.id,
                    &subject(unit),
                    "export",
                    a.clock.now(),
                )
                .await
                .gql(l)?;
            let scope = match unit {
                Some(u) => Some(
                    a.store
                        .tree()
                        .subtree_ids_on(u, a.clock.today())
                        .await
                        .gql(l)?
                        .into_iter()
                        .collect::<std::collections::HashSet<Uuid>>(),
                ),
                None => None,
            };
            let mut e = a
                .store
                .registry()
                .export_within(scope.as_ref())
                .await
                .gql(l)?;
            if !kinds.contains(&Kind::Units) {
                e.units.clear();
            }
            if !kinds.contains(&Kind::Members) {
                e.members.clear();
            }
            if !kinds.contains(&Kind::RoleHolders) {
                e.roles.clear();
            }
            if !role_cards(who) {
                for r in &mut e.roles {
                    r.card = None;
                }
            }
            if !kinds.contains(&Kind::Badges) {
                e.badges.clear();
            }
            if !kinds.contains(&Kind::Hamlets) {
                e.hamlets.clear();
            }
            // Confidential: only when asked for, and then authorized above.
            if !kinds.contains(&Kind::Discipline) {
                e.discipline.clear();
            }
            Some(e)
        };
        let (units, members) = data
            .as_ref()
            .map_or((0, 0), |d| (d.units.len(), d.members.len()));
        let bytes = {
            let kinds = kinds.clone();
            tokio::task::spawn_blocking(move || (files.write)(data.as_ref(), &kinds, format))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r)
                .map_err(|e| {
                    tracing::error!(error = %e, "writing an export failed");
                    graphql_error(
                        Code::Internal,
                        &[Text::new("Lỗi hệ thống.", "Internal error.")],
                        l,
                    )
                })?
        };
        let what = match kind {
            Some(ImportKind::Units) => "don-vi",
            Some(ImportKind::Members) => "dang-vien",
            Some(ImportKind::RoleHolders) => "vai-tro",
            Some(ImportKind::Badges) => "huy-hieu",
            Some(ImportKind::Hamlets) => "ap-khu-vuc",
            Some(ImportKind::Discipline) => "ky-luat",
            None => "so-dang-vien",
        };
        let prefix = if template { "mau-" } else { "" };
        let (ext, content_type) = match format {
            SheetFormat::Xlsx => (
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            SheetFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        };
        Ok(ExportFile {
            file_name: format!("{prefix}{what}-{code}.{ext}"),
            content_type: content_type.to_owned(),
            content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            units: count(units as u64),
            members: count(members as u64),
        })
    }
}
