//! `memberflow import FILE` and `memberflow export` (docs/import.md): the file read into sheets
//! (`sheets`), the rows parsed and checked by the core (`memberflow_workflow::import`), then
//! checked against the database and written by the store in one transaction
//! (`Registry::import`) — or nothing written, with every problem listed and, on request,
//! an annotated copy of the file to fix and send back.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use memberflow_store::{
    ImportOutcome, ImportRequest, MemberSource, Store, StreamPass, StreamProgress, StreamRequest,
};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::import::{self as core, Kind, MemberParser, Problem, ReadRow, Sheet};

use crate::sheets::{self, CsvRecords};

/// What a file holds, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// The organization tree.
    Units,
    /// The member registry.
    Members,
    /// The holders of roles at units, with their addresses.
    RoleHolders,
    /// Party badges awarded to members.
    Badges,
    /// Hamlets and residential groups, with their branches over time.
    Hamlets,
    /// The discipline register: disciplines decided against members, with their status.
    Discipline,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Units => Kind::Units,
            KindArg::Members => Kind::Members,
            KindArg::RoleHolders => Kind::RoleHolders,
            KindArg::Badges => Kind::Badges,
            KindArg::Hamlets => Kind::Hamlets,
            KindArg::Discipline => Kind::Discipline,
        }
    }
}

/// `memberflow import`
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: XLSX (sheets «Đơn vị», «Đảng viên», «Người giữ vai trò», «Huy hiệu Đảng»,
    /// «Ấp, khu vực, tổ dân phố» and «Kỷ luật đảng viên», or any sheet with a template's headers) or CSV (UTF-8, with or without BOM).
    pub file: PathBuf,
    /// Read only sheets of this kind (a CSV file's kind is otherwise told by its headers).
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Check everything and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the rows that pass (in one transaction) and report the others.
    #[arg(long)]
    pub accept_partial: bool,
    /// Write the file back annotated with its problems (XLSX) to fix and resubmit.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// A members CSV file (read streamed): rows read, checked and written at a time.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_rows: u32,
}

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ExportFormat {
    /// A workbook with a sheet per kind and a sheet explaining the columns.
    #[default]
    Xlsx,
    /// UTF-8 CSV with a BOM, one kind (`--kind`).
    Csv,
}

/// `memberflow export`
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Which kind (default: every kind, in an XLSX workbook).
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ExportFormat,
    /// Write the empty template instead of the registry.
    #[arg(long)]
    pub template: bool,
    /// The file to write (standard output for CSV when absent).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

fn print_problems(problems: &[Problem]) {
    for p in problems {
        let column = p
            .column
            .as_deref()
            .map(|c| format!(", cột/column «{c}»"))
            .unwrap_or_default();
        println!(
            "{} dòng/row {}{column}: {} — {} / {}",
            p.sheet, p.row, p.code, p.reason.vi, p.reason.en
        );
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn write_report(path: Option<&Path>, sheets: &[Sheet], problems: &[Problem]) -> anyhow::Result<()> {
    if let Some(path) = path {
        let bytes = sheets::annotated(sheets, problems).context("writing the annotated file")?;
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("annotated file: {}", path.display());
    }
    Ok(())
}

/// Runs `memberflow import`: exit 0 when the file was imported (or, on a dry run, would be)
/// whole or with `--accept-partial`, 1 when it was refused.
pub async fn import(
    store: &Store,
    catalog: &Catalog,
    args: &ImportArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<ExitCode> {
    // A members CSV file is read a batch of rows at a time, twice (check, then write):
    // memory does not grow with the file.
    if streamed(&args.file, args.kind)? {
        return import_streamed(store, catalog, args, now).await;
    }
    let started = Instant::now();
    let name = file_name(&args.file);
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?
        .len();
    if size > sheets::MAX_FILE_BYTES {
        let problems = vec![sheets::too_large(&name, size, sheets::MAX_FILE_BYTES)];
        print_problems(&problems);
        write_report(args.report.as_deref(), &[], &problems)?;
        println!("refused: nothing written");
        return Ok(ExitCode::FAILURE);
    }
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let all = match sheets::read(&name, &bytes) {
        Ok(s) => s,
        Err(problems) => {
            print_problems(&problems);
            write_report(args.report.as_deref(), &[], &problems)?;
            println!("refused: nothing written");
            return Ok(ExitCode::FAILURE);
        }
    };
    let probation = |ceremony| memberflow_api::probation_months(catalog, ceremony);
    let rows = core::parse_file(&name, &all, args.kind.map(Into::into), &probation);
    let mut problems: Vec<Problem> = rows.problems;
    let mut req = ImportRequest {
        dry_run: args.dry_run,
        accept_partial: args.accept_partial,
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
        rules: Some(catalog.rules.clone()),
        ..ImportRequest::default()
    };
    let with_roles = rows.kinds.contains(&Kind::RoleHolders);
    let with_badges = rows.kinds.contains(&Kind::Badges);
    let with_hamlets = rows.kinds.contains(&Kind::Hamlets);
    let with_discipline = rows.kinds.contains(&Kind::Discipline);
    eprintln!(
        "read {} unit row(s), {} member row(s), {} role holder row(s), {} badge row(s), {} hamlet row(s), {} discipline row(s) in {:.1} s",
        req.units.len(),
        req.members.len(),
        req.roles.len(),
        req.badges.len(),
        req.hamlets.len(),
        req.discipline.len(),
        started.elapsed().as_secs_f64()
    );
    // With problems already, the database is still asked (without writing) so that every
    // problem is reported at once.
    if !problems.is_empty() && !args.accept_partial {
        req.dry_run = true;
    }
    let mut last = String::new();
    let outcome: ImportOutcome = store
        .registry()
        .import(req, now, &mut |stage, done, total| {
            if stage != last || done == total {
                eprintln!("  {stage}: {done}/{total}");
                last = stage.to_owned();
            }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    problems.extend(outcome.problems);
    problems.sort_by(|a, b| (&a.sheet, a.row).cmp(&(&b.sheet, b.row)));
    let c = outcome.counts;
    print_problems(&problems);
    println!(
        "units: {} new, {} changed, {} unchanged; members: {} new, {} changed, {} unchanged; {} problem(s)",
        c.units_created,
        c.units_changed,
        c.units_unchanged,
        c.members_created,
        c.members_changed,
        c.members_unchanged,
        problems.len()
    );
    if with_roles || c.roles_created + c.roles_changed + c.roles_unchanged > 0 {
        println!(
            "role holders: {} new, {} changed, {} unchanged",
            c.roles_created, c.roles_changed, c.roles_unchanged
        );
    }
    if with_badges || c.badges_created + c.badges_unchanged > 0 {
        println!(
            "badges: {} new, {} unchanged",
            c.badges_created, c.badges_unchanged
        );
    }
    if with_hamlets || c.hamlets_created + c.hamlets_changed + c.hamlets_unchanged > 0 {
        println!(
            "hamlets: {} new, {} changed, {} unchanged",
            c.hamlets_created, c.hamlets_changed, c.hamlets_unchanged
        );
    }
    if with_discipline || c.discipline_created + c.discipline_changed + c.discipline_unchanged > 0 {
        println!(
            "discipline: {} new, {} changed, {} unchanged",
            c.discipline_created, c.discipline_changed, c.discipline_unchanged
        );
    }
    if !problems.is_empty() {
        write_report(args.report.as_deref(), &all, &problems)?;
    }
    let ok = problems.is_empty() || args.accept_partial;
    if outcome.written {
        store.after_bulk_load().await?;
    }
    let verdict = match (outcome.written, args.dry_run, ok) {
        (true, _, _) => "written",
        (false, true, true) => "dry run: the file passes, nothing written",
        _ => "refused: nothing written",
    };
    println!("{verdict} ({:.1} s)", started.elapsed().as_secs_f64());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Whether the file is a members CSV file, imported streamed: text (not a workbook, not
/// binary) whose header row is the members template's, or any text with `--kind members`.
fn streamed(path: &Path, kind: Option<KindArg>) -> anyhow::Result<bool> {
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .with_context(|| format!("reading {}", path.display()))?;
    if !sheets::is_text(&head) {
        return Ok(false);
    }
    Ok(match kind {
        Some(k) => k == KindArg::Members,
        None => {
            let header = CsvRecords::new("", &head[..])
                .next_record()
                .ok()
                .flatten()
                .unwrap_or_default();
            core::kind_of(&Sheet {
                name: String::new(),
                rows: vec![header],
            }) == Some(Kind::Members)
        }
    })
}

/// A members CSV file as the store reads it: a batch of rows at a time, from the start as
/// often as asked, each row read by the core. The file must not change between readings:
/// its length and time of change are compared when a reading begins and when it ends, and
/// the digest of its records at the end of each reading with the first reading's (a file
/// rewritten to the same length within the time of change's resolution).
struct CsvMembers<'a> {
    path: PathBuf,
    name: String,
    stamp: (u64, Option<std::time::SystemTime>),
    records: Option<CsvRecords<std::io::BufReader<std::fs::File>>>,
    parser: Option<MemberParser>,
    probation: &'a (dyn Fn(Option<chrono::NaiveDate>) -> u32 + Sync),
    /// The digest of the reading under way.
    digest: std::hash::DefaultHasher,
    /// The digest of the first whole reading.
    first: Option<u64>,
}

fn stamp(path: &Path) -> std::io::Result<(u64, Option<std::time::SystemTime>)> {
    let m = std::fs::metadata(path)?;
    Ok((m.len(), m.modified().ok()))
}

impl CsvMembers<'_> {
    fn changed(&self) -> Vec<Problem> {
        vec![Problem {
            sheet: self.name.clone(),
            row: 0,
            column: None,
            code: "FILE_CHANGED",
            reason: memberflow_workflow::text::Text::new(
                "Tệp đã thay đổi trong khi nhập: hãy nhập lại.",
                "The file changed while it was being imported: import it again.",
            ),
        }]
    }
}

/// Adds a record's cells to a reading's digest.
fn hash_record(h: &mut std::hash::DefaultHasher, cells: &[core::Cell]) {
    use std::hash::Hash as _;
    cells.len().hash(h);
    for c in cells {
        c.text().hash(h);
    }
}

impl MemberSource for CsvMembers<'_> {
    fn sheet(&self) -> &str {
        &self.name
    }

    fn rewind(&mut self) -> Result<(), Vec<Problem>> {
        if stamp(&self.path).ok() != Some(self.stamp) {
            return Err(self.changed());
        }
        let file = std::fs::File::open(&self.path).map_err(|_| self.changed())?;
        let mut records =
            CsvRecords::new(&self.name, std::io::BufReader::with_capacity(1 << 20, file));
        let header = records.next_record()?.unwrap_or_default();
        self.digest = std::hash::DefaultHasher::new();
        hash_record(&mut self.digest, &header);
        self.parser = Some(MemberParser::new(&self.name, &header)?);
        self.records = Some(records);
        Ok(())
    }

    fn next_rows(&mut self, max: usize) -> Result<Vec<ReadRow>, Vec<Problem>> {
        let (Some(records), Some(parser)) = (self.records.as_mut(), self.parser.as_ref()) else {
            return Ok(Vec::new());
        };
        let mut rows = Vec::with_capacity(max.min(10_000));
        while rows.len() < max {
            let Some(cells) = records.next_record()? else {
                // The end of a reading: the file as it was when the import began, and the
                // same records as the first reading's.
                self.records = None;
                let digest = std::hash::Hasher::finish(&self.digest);
                if stamp(&self.path).ok() != Some(self.stamp)
                    || self.first.is_some_and(|f| f != digest)
                {
                    return Err(self.changed());
                }
                self.first = Some(digest);
                break;
            };
            hash_record(&mut self.digest, &cells);
            if core::blank(&cells) {
                continue;
            }
            rows.push(parser.read(records.row(), &cells, self.probation));
        }
        Ok(rows)
    }
}

/// `memberflow import` of a members CSV file, streamed (docs/import.md, «Large files»).
async fn import_streamed(
    store: &Store,
    catalog: &Catalog,
    args: &ImportArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let name = file_name(&args.file);
    let size = std::fs::metadata(&args.file)?.len();
    if size > sheets::MAX_STREAMED_BYTES {
        let problems = vec![sheets::too_large(&name, size, sheets::MAX_STREAMED_BYTES)];
        print_problems(&problems);
        println!("refused: nothing written");
        return Ok(ExitCode::FAILURE);
    }
    let probation = |ceremony| memberflow_api::probation_months(catalog, ceremony);
    let mut source = CsvMembers {
        path: args.file.clone(),
        name: name.clone(),
        stamp: stamp(&args.file)?,
        records: None,
        parser: None,
        probation: &probation,
        digest: std::hash::DefaultHasher::new(),
        first: None,
    };
    let req = StreamRequest {
        dry_run: args.dry_run,
        accept_partial: args.accept_partial,
        batch_rows: args.batch_rows as usize,
        ..StreamRequest::default()
    };
    // Progress on standard error: once a second, and when a reading ends.
    let mut pass = StreamPass::Check;
    let mut pass_started = Instant::now();
    let mut last_line = Instant::now();
    let mut last = StreamProgress::default();
    let line = |p: &StreamProgress, since: Instant| {
        let secs = since.elapsed().as_secs_f64().max(0.001);
        eprintln!(
            "  {}: {} rows read, {} checked, {} written ({:.0} rows/s)",
            p.pass.as_str(),
            p.read,
            p.checked,
            p.written,
            p.read as f64 / secs
        );
    };
    let outcome = store
        .registry()
        .import_members_streamed(&mut source, req, now, &mut |p| {
            if p.pass != pass {
                line(&last, pass_started);
                pass = p.pass;
                pass_started = Instant::now();
            }
            if last_line.elapsed().as_secs_f64() >= 1.0 {
                line(&p, pass_started);
                last_line = Instant::now();
            }
            last = p;
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if last.read > 0 {
        line(&last, pass_started);
    }
    let c = outcome.counts;
    print_problems(&outcome.problems);
    let more = outcome.problem_count - outcome.problems.len() as u64;
    if more > 0 {
        println!("… {more} more problem(s) not listed");
    }
    println!(
        "units: 0 new, 0 changed, 0 unchanged; members: {} new, {} changed, {} unchanged; {} problem(s)",
        c.members_created, c.members_changed, c.members_unchanged, outcome.problem_count
    );
    if outcome.problem_count > 0 && args.report.is_some() {
        if size <= sheets::MAX_FILE_BYTES {
            let bytes = std::fs::read(&args.file)?;
            let all = sheets::read(&name, &bytes).unwrap_or_default();
            write_report(args.report.as_deref(), &all, &outcome.problems)?;
        } else {
            eprintln!(
                "no annotated file: over {} MB the file is not held in memory; the problems are listed above",
                sheets::MAX_FILE_BYTES / (1024 * 1024)
            );
        }
    }
    let ok = !outcome.changed && (outcome.problem_count == 0 || args.accept_partial);
    if outcome.written {
        store.after_bulk_load().await?;
    }
    let verdict = match (outcome.written, args.dry_run, ok) {
        (true, _, _) => "written",
        (false, true, true) => "dry run: the file passes, nothing written",
        _ => "refused: nothing written",
    };
    println!(
        "{verdict} ({} rows, {:.1} s)",
        outcome.rows,
        started.elapsed().as_secs_f64()
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs `memberflow export`.
pub async fn export(store: &Store, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let kinds: Vec<Kind> = match args.kind {
        Some(k) => vec![k.into()],
        None if args.format == ExportFormat::Csv => {
            anyhow::bail!(
                "a CSV file holds one kind: give --kind units, --kind members, --kind role-holders, --kind badges, --kind hamlets or --kind discipline"
            )
        }
        None => Kind::ALL.to_vec(),
    };
    let data = if args.template {
        None
    } else {
        let e = store
            .registry()
            .export()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if e.members_without_card > 0 {
            eprintln!(
                "{} member(s) without a party card number left out",
                e.members_without_card
            );
        }
        Some(e)
    };
    let bytes = sheets::export_file(data.as_ref(), &kinds, args.format == ExportFormat::Csv)
        .context("writing the file")?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?
        }
        None if args.format == ExportFormat::Csv => std::io::stdout().write_all(&bytes)?,
        None => anyhow::bail!("an XLSX file needs --output FILE"),
    }
    Ok(ExitCode::SUCCESS)
}
