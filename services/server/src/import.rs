//! `memberflow import FILE` and `memberflow export` (docs/import.md): the file read into sheets
//! (`sheets`), the rows parsed and checked by the core (`memberflow_workflow::import`), then
//! checked against the database and written by the store in one transaction
//! (`Registry::import`) — or nothing written, with every problem listed and, on request,
//! an annotated copy of the file to fix and send back.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use memberflow_store::{ImportOutcome, ImportRequest, Store};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::import::{self as core, Kind, Problem, Sheet};

use crate::sheets;

/// What a file holds, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// The organization tree.
    Units,
    /// The member registry.
    Members,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Units => Kind::Units,
            KindArg::Members => Kind::Members,
        }
    }
}

/// `memberflow import`
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: XLSX (sheets «Đơn vị» and «Đảng viên», or any sheet with a template's
    /// headers) or CSV (UTF-8, with or without BOM).
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
    /// Which kind (default: both, in an XLSX workbook).
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
        ..ImportRequest::default()
    };
    eprintln!(
        "read {} unit row(s), {} member row(s) in {:.1} s",
        req.units.len(),
        req.members.len(),
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
    if !problems.is_empty() {
        write_report(args.report.as_deref(), &all, &problems)?;
    }
    let ok = problems.is_empty() || args.accept_partial;
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

/// Runs `memberflow export`.
pub async fn export(store: &Store, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let kinds: Vec<Kind> = match args.kind {
        Some(k) => vec![k.into()],
        None if args.format == ExportFormat::Csv => {
            anyhow::bail!("a CSV file holds one kind: give --kind units or --kind members")
        }
        None => vec![Kind::Units, Kind::Members],
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
