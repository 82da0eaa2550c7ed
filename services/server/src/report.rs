//! `memberflow report …` and `memberflow check --stats`: the statistics as a table or CSV,
//! column headers in Vietnamese by default (`--lang en` for English), and the chart of a
//! unit's admissions against the target band as SVG (served at
//! `/charts/admissions/{code}.svg`).
//!
//! The figures come from the store (`admission_targets`, `member_breakdown`, …); this module
//! only chooses the words and lays them out.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand, ValueEnum};
use memberflow_store::{Store, StoreError, TargetReport, TargetRequest, TargetRow, UnitRecord};
use memberflow_workflow::engine::{RuleBook, Threshold};
use memberflow_workflow::stats::{Band, TargetParams};
use memberflow_workflow::text::{Lang, Text};
use memberflow_workflow::vocab::{Level, MemberStatus};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// Comma-separated values, one header line.
    Csv,
    /// A spreadsheet (`--output FILE` required); the target report adds a chart sheet.
    Xlsx,
}

impl Format {
    /// The layout of the text: a workbook is made from the CSV.
    fn text(self) -> Format {
        match self {
            Format::Xlsx => Format::Csv,
            f => f,
        }
    }
}

/// Language of headers and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LangArg {
    /// Tiếng Việt (the default).
    #[default]
    Vi,
    /// English.
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Vi => Lang::Vi,
            LangArg::En => Lang::En,
        }
    }
}

/// Options every report takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The unit, by code (default: the whole tree).
    #[arg(long)]
    pub unit: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Language of the headers.
    #[arg(long, value_enum, default_value_t)]
    pub lang: LangArg,
    /// Write to this file instead of standard output (required for `xlsx`).
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
    /// With `--format csv`: begin with a UTF-8 byte-order mark, so that Excel on Windows
    /// reads the Vietnamese letters right.
    #[arg(long)]
    pub bom: bool,
}

/// A period of dates.
#[derive(Debug, Clone, Args)]
pub struct Period {
    /// First day (YYYY-MM-DD; default: 1 January five years before `--to`'s year).
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD; default: today).
    #[arg(long)]
    pub to: Option<NaiveDate>,
}

/// The reports.
#[derive(Debug, Clone, Subcommand)]
pub enum ReportCommand {
    /// Admissions of a year against the 3–4% target (S20, S21), rolled up level by level,
    /// with the forecast while the year runs and the units at risk.
    Targets {
        /// The year.
        #[arg(long)]
        year: i32,
        /// Levels below the unit to list (default 1: its direct subordinates).
        #[arg(long, default_value_t = 1)]
        depth: u32,
        /// How many grassroots organizations at risk to list (0: none).
        #[arg(long, default_value_t = 10)]
        at_risk: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Members on a date by age band, sex, ethnicity, religion, schooling and occupation.
    Members {
        /// The date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        #[command(flatten)]
        common: Common,
    },
    /// Admissions by year (by the admission decision's date) over a period.
    Admissions {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        common: Common,
    },
    /// Discipline by form, members struck off and expelled, over a period.
    Discipline {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        common: Common,
    },
    /// Party badges by years of membership, over a period.
    Badges {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        common: Common,
    },
    /// Units on a date by kind and branch category.
    Units {
        /// The date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        #[command(flatten)]
        common: Common,
    },
    /// Grassroots organizations and branches that admitted nobody in the N years up to a
    /// date (an admission exactly N years before it does not count).
    WithoutAdmission {
        /// How many years back (1 to 100).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
        years: u32,
        /// The date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        #[command(flatten)]
        common: Common,
    },
    /// Members of a unit's subtree living their party life temporarily elsewhere on a date
    /// (abroad included), and the members of other units its branches host.
    TemporaryActivity {
        /// The date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        #[command(flatten)]
        common: Common,
    },
    /// Hamlets and residential groups of a unit's subtree (every unit's without --unit) on a
    /// date in which no member lives, and those without a hamlet branch.
    HamletsWithout {
        /// The date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        #[command(flatten)]
        common: Common,
    },
    /// Members with a discipline in force on a date, and the decisions in force by form.
    DisciplineInForce {
        /// The date (default: today).
        #[arg(long)]
        on: Option<NaiveDate>,
        #[command(flatten)]
        common: Common,
    },
}

// ---------------------------------------------------------------------------------------------
// Words

fn t(lang: Lang, vi: &str, en: &str) -> String {
    Text::new(vi, en).get(lang).to_owned()
}

fn percent_of(th: Threshold) -> String {
    let p = f64::from(th.num) * 100.0 / f64::from(th.den);
    let s = format!("{p:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

fn date_text(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Vi => d.format("%d/%m/%Y").to_string(),
        Lang::En => d.to_string(),
    }
}

fn occupation_label(code: Option<&str>, lang: Lang) -> String {
    let (vi, en) = match code {
        Some("STATE_OFFICIAL") => (
            "Cán bộ, công chức từ cấp huyện trở lên",
            "state officials, district level and up",
        ),
        Some("PARTY_MASS_ORG_OFFICIAL") => (
            "Cán bộ Đảng, Mặt trận, đoàn thể từ cấp huyện trở lên",
            "party, front and mass-organization officials, district level and up",
        ),
        Some("COMMUNE_OFFICIAL") => (
            "Cán bộ, công chức và người hoạt động không chuyên trách cấp xã",
            "commune-level officials and part-time staff",
        ),
        Some("HAMLET_STAFF") => (
            "Người hoạt động không chuyên trách ở ấp, khu vực",
            "hamlet part-time staff",
        ),
        Some("PUBLIC_SERVICE_EMPLOYEE") => ("Viên chức sự nghiệp", "public-service employees"),
        Some("NON_PUBLIC_SERVICE_WORKER") => (
            "Người làm việc trong đơn vị sự nghiệp ngoài công lập",
            "non-public service workers",
        ),
        Some("ENTERPRISE") => (
            "Chủ, người quản lý và công nhân doanh nghiệp",
            "enterprise managers and workers",
        ),
        Some("FARMER") => ("Nông, lâm, ngư nghiệp", "farmers, foresters, fishers"),
        Some("ARMED_FORCES") => ("Quân đội, công an", "army and police"),
        Some("STUDENT") => ("Học sinh, sinh viên", "students"),
        Some("RETIRED") => ("Nghỉ hưu", "retired"),
        Some("OTHER") => ("Khác", "other"),
        Some(other) => (other, other),
        None => ("Chưa ghi", "not recorded"),
    };
    t(lang, vi, en)
}

fn education_label(code: &str, lang: Lang) -> String {
    let (vi, en) = match code {
        "PRIMARY" => ("Tiểu học", "primary"),
        "LOWER_SECONDARY" => ("Trung học cơ sở", "lower secondary"),
        "UPPER_SECONDARY" => ("Trung học phổ thông", "upper secondary"),
        "NOT_RECORDED" | "NONE" | "" => ("Chưa ghi", "not recorded"),
        other => (other, other),
    };
    t(lang, vi, en)
}

fn value_label(v: &str, lang: Lang) -> String {
    let en = match v {
        "Dân tộc khác" => "other ethnic groups",
        "Công giáo" => "Catholic",
        "Tin Lành" => "Protestant",
        "Tôn giáo khác" => "other religions",
        other => other,
    };
    t(lang, v, en)
}

fn form_label(form: &str, lang: Lang) -> String {
    memberflow_workflow::violations::form_label(form)
        .get(lang)
        .to_owned()
}

fn category_label(code: &str, lang: Lang) -> String {
    let (vi, en) = match code {
        "HAMLET" => ("Chi bộ ấp, khu vực", "hamlet or ward-area branches"),
        "COMMUNE_SECTOR" => ("Chi bộ ngành xã", "commune-sector branches"),
        "DISTRICT_SECTOR" => ("Chi bộ ngành huyện", "district-sector branches"),
        "PROVINCE_SECTOR" => ("Chi bộ ngành tỉnh", "province-sector branches"),
        other => (other, other),
    };
    t(lang, vi, en)
}

fn band_label(b: Band, lang: Lang) -> String {
    b.label().get(lang).to_owned()
}

// ---------------------------------------------------------------------------------------------
// Layout

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Renders `rows` under `header`: aligned columns (numbers to the right) or CSV.
fn render(format: Format, header: &[String], rows: &[Vec<String>], numeric: &[bool]) -> String {
    let mut out = String::new();
    match format {
        Format::Csv | Format::Xlsx => {
            for line in std::iter::once(header.to_vec()).chain(rows.iter().cloned()) {
                let fields: Vec<String> = line.iter().map(|f| csv_field(f)).collect();
                let _ = writeln!(out, "{}", fields.join(","));
            }
        }
        Format::Table => {
            let width = |s: &str| s.chars().count();
            let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
            for r in rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(width(c));
                }
            }
            let line = |cells: &[String]| {
                let mut s = String::new();
                for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
                    let pad = " ".repeat(w.saturating_sub(width(c)));
                    if i > 0 {
                        s.push_str("  ");
                    }
                    if numeric.get(i).copied().unwrap_or(false) {
                        s.push_str(&pad);
                        s.push_str(c);
                    } else {
                        s.push_str(c);
                        s.push_str(&pad);
                    }
                }
                s.trim_end().to_owned()
            };
            let _ = writeln!(out, "{}", line(header));
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "{}", line(&rule));
            for r in rows {
                let _ = writeln!(out, "{}", line(r));
            }
        }
    }
    out
}

/// A report of `(section, group, count)` rows.
fn render_counts(
    format: Format,
    lang: Lang,
    title: &str,
    rows: &[(String, String, u64)],
) -> String {
    let header = vec![
        t(lang, "Mục", "Section"),
        t(lang, "Nhóm", "Group"),
        t(lang, "Số lượng", "Count"),
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|(s, g, n)| vec![s.clone(), g.clone(), n.to_string()])
        .collect();
    let table = render(format, &header, &body, &[false, false, true]);
    match format {
        Format::Csv | Format::Xlsx => table,
        Format::Table => format!("{title}\n\n{table}"),
    }
}

/// A cell of a report: text, or a number (a number in a workbook, not text to re-read).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count.
    Int(i64),
    /// A rate, shown with two decimals.
    Num(f64),
}

impl Cell {
    fn show(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Num(x) => format!("{x:.2}"),
        }
    }

    fn count(n: u64) -> Cell {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// One table of a report, typed, for a sheet of a workbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's name (the report's for the first sheet).
    pub name: String,
    /// Column headers.
    pub header: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
}

fn shown(rows: &[Vec<Cell>]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(Cell::show).collect())
        .collect()
}

/// The rows of a counts report as a sheet.
fn counts_sheet(lang: Lang, rows: &[(String, String, u64)]) -> Sheet {
    Sheet {
        name: String::new(),
        header: vec![
            t(lang, "Mục", "Section"),
            t(lang, "Nhóm", "Group"),
            t(lang, "Số lượng", "Count"),
        ],
        rows: rows
            .iter()
            .map(|(s, g, n)| {
                vec![
                    Cell::Text(s.clone()),
                    Cell::Text(g.clone()),
                    Cell::count(*n),
                ]
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Units without an admission

/// The units without an admission: one row per unit (code, name, kind, parent, members, last
/// admission), the period and how many units were looked at in the title.
pub fn render_without_admission(
    r: &memberflow_store::IdleUnitsReport,
    format: Format,
    lang: Lang,
) -> (String, Sheet) {
    let header = vec![
        t(lang, "Mã", "Code"),
        t(lang, "Đơn vị", "Unit"),
        t(lang, "Loại", "Kind"),
        t(lang, "Trực thuộc", "Parent"),
        t(lang, "Đảng viên", "Members"),
        t(lang, "Kết nạp gần nhất", "Last admission"),
    ];
    let rows: Vec<Vec<Cell>> = r
        .units
        .iter()
        .map(|u| {
            vec![
                Cell::Text(u.unit.code.clone()),
                Cell::Text(u.unit.name.clone()),
                Cell::Text(u.unit.kind.label().get(lang).to_owned()),
                Cell::Text(u.parent_code.clone().unwrap_or_default()),
                Cell::count(u.members),
                Cell::Text(
                    u.last_admission
                        .map_or_else(|| t(lang, "chưa từng", "never"), |d| date_text(d, lang)),
                ),
            ]
        })
        .collect();
    let table = render(
        format,
        &header,
        &shown(&rows),
        &[false, false, false, false, true, false],
    );
    let text = match format {
        Format::Csv | Format::Xlsx => table,
        Format::Table => {
            let title = t(
                lang,
                &format!(
                    "Tổ chức cơ sở đảng và chi bộ không kết nạp được đảng viên trong {} năm (từ {} đến {}): {} trong số {}",
                    r.years,
                    date_text(r.since, lang),
                    date_text(r.on, lang),
                    r.units.len(),
                    r.looked_at
                ),
                &format!(
                    "Grassroots organizations and branches without an admission in {} years ({} to {}): {} of {}",
                    r.years,
                    r.since,
                    r.on,
                    r.units.len(),
                    r.looked_at
                ),
            );
            format!("{title}\n\n{table}")
        }
    };
    (
        text,
        Sheet {
            name: String::new(),
            header,
            rows,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The target report

/// The columns of the target report and its rows, typed: the report's rows and the
/// grassroots organizations at risk (the table indents names by depth; CSV and the workbook
/// have a depth column instead).
struct TargetLayout {
    header: Vec<String>,
    numeric: Vec<bool>,
    rows: Vec<Vec<Cell>>,
    at_risk: Vec<Vec<Cell>>,
}

fn target_layout(
    report: &TargetReport,
    at_risk: &[TargetRow],
    format: Format,
    lang: Lang,
) -> TargetLayout {
    let p = &report.params;
    let (lo, hi) = (percent_of(p.low), percent_of(p.high));
    let base = date_text(report.base_date, lang);
    let forecasting = report.rows.iter().any(|r| r.forecast.is_some());
    let mut header = vec![
        t(lang, "Mã", "Code"),
        t(lang, "Đơn vị", "Unit"),
        t(
            lang,
            &format!("Đảng viên {base}"),
            &format!("Members {base}"),
        ),
        t(
            lang,
            &format!("Kết nạp {}", report.year),
            &format!("Admitted {}", report.year),
        ),
        t(lang, "Tỷ lệ (%)", "Rate (%)"),
        t(lang, &format!("Chỉ tiêu {lo}"), &format!("Target {lo}")),
        t(lang, &format!("Chỉ tiêu {hi}"), &format!("Target {hi}")),
        t(
            lang,
            &format!("Còn thiếu ({lo})"),
            &format!("Short of {lo}"),
        ),
        t(
            lang,
            &format!("Đánh giá ({lo}–{hi})"),
            &format!("Band ({lo}–{hi})"),
        ),
    ];
    let mut numeric = vec![false, false, true, true, true, true, true, true, false];
    if forecasting {
        header.push(t(lang, "Dự báo cả năm", "Forecast"));
        header.push(t(lang, "Đánh giá dự báo", "Forecast band"));
        numeric.extend([true, false]);
    }
    if format == Format::Csv {
        header.insert(2, t(lang, "Cấp", "Depth"));
        numeric.insert(2, true);
    }
    let row = |r: &TargetRow, indent: bool| {
        let a = &r.assessment;
        let name = if indent && format == Format::Table {
            format!("{}{}", "  ".repeat(r.depth as usize), r.unit.name)
        } else {
            r.unit.name.clone()
        };
        let mut cells = vec![
            Cell::Text(r.unit.code.clone()),
            Cell::Text(name),
            Cell::count(a.base),
            Cell::count(a.admitted),
            a.rate.map_or_else(|| Cell::Text("-".into()), Cell::Num),
            Cell::count(a.target_low),
            Cell::count(a.target_high),
            Cell::count(a.gap_low),
            Cell::Text(band_label(a.band, lang)),
        ];
        if forecasting {
            match (&r.forecast, &r.projected) {
                (Some(f), Some(pa)) => {
                    cells.push(Cell::count(f.projected));
                    cells.push(Cell::Text(band_label(pa.band, lang)));
                }
                _ => cells.extend([Cell::Text("-".into()), Cell::Text("-".into())]),
            }
        }
        if format == Format::Csv {
            cells.insert(2, Cell::Int(i64::from(r.depth)));
        }
        cells
    };
    TargetLayout {
        rows: report.rows.iter().map(|r| row(r, true)).collect(),
        at_risk: at_risk.iter().map(|r| row(r, false)).collect(),
        header,
        numeric,
    }
}

/// The target report as text. In CSV, the grassroots organizations at risk follow the
/// report's rows, told apart by the last column (`báo cáo` / `nguy cơ`; `report` / `at risk`).
pub fn render_targets(
    report: &TargetReport,
    at_risk: &[TargetRow],
    format: Format,
    lang: Lang,
) -> String {
    let p = &report.params;
    let (lo, hi) = (percent_of(p.low), percent_of(p.high));
    let base = date_text(report.base_date, lang);
    let TargetLayout {
        mut header,
        mut numeric,
        rows,
        at_risk: risky,
    } = target_layout(report, at_risk, format, lang);
    if format == Format::Csv {
        header.push(t(lang, "Danh sách", "List"));
        numeric.push(false);
        let tagged = |rows: &[Vec<Cell>], tag: String| -> Vec<Vec<String>> {
            shown(rows)
                .into_iter()
                .map(|mut r| {
                    r.push(tag.clone());
                    r
                })
                .collect()
        };
        let mut body = tagged(&rows, t(lang, "báo cáo", "report"));
        body.extend(tagged(&risky, t(lang, "nguy cơ", "at risk")));
        return render(format, &header, &body, &numeric);
    }
    let body = shown(&rows);
    let table = render(format, &header, &body, &numeric);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        t(
            lang,
            &format!(
                "Chỉ tiêu kết nạp đảng viên mới năm {} — {lo} đến {hi} số đảng viên (S20, S21; bộ quy tắc {})",
                report.year, p.rule_set
            ),
            &format!(
                "Admissions of {} against the target of {lo} to {hi} of the members (S20, S21; rule set {})",
                report.year, p.rule_set
            ),
        )
    );
    let _ = writeln!(
        out,
        "{}\n",
        t(
            lang,
            &format!(
                "Đảng viên tính tại ngày {base}; kết nạp theo ngày quyết định kết nạp; cây tổ chức tại ngày {}.",
                date_text(report.reference_date, lang)
            ),
            &format!(
                "Members counted on {base}; admissions by the admission decision's date; the tree as it stood on {}.",
                date_text(report.reference_date, lang)
            ),
        )
    );
    out.push_str(&table);
    if !at_risk.is_empty() {
        let _ = writeln!(
            out,
            "\n{}\n",
            t(
                lang,
                &format!("Tổ chức cơ sở đảng chưa đạt {lo}, thiếu nhiều nhất trước:"),
                &format!("Grassroots organizations short of {lo}, furthest behind first:"),
            )
        );
        out.push_str(&render(format, &header, &shown(&risky), &numeric));
    }
    out
}

/// The target report as sheets: the rows, then the grassroots organizations at risk.
pub fn target_sheets(report: &TargetReport, at_risk: &[TargetRow], lang: Lang) -> Vec<Sheet> {
    let l = target_layout(report, at_risk, Format::Csv, lang);
    let mut sheets = vec![Sheet {
        name: String::new(),
        header: l.header.clone(),
        rows: l.rows,
    }];
    if !l.at_risk.is_empty() {
        sheets.push(Sheet {
            name: t(lang, "Nguy cơ không đạt", "At risk"),
            header: l.header,
            rows: l.at_risk,
        });
    }
    sheets
}

// ---------------------------------------------------------------------------------------------
// Running the reports

async fn unit_of(store: &Store, code: Option<&str>) -> anyhow::Result<Option<UnitRecord>> {
    match code {
        Some(c) => match store.tree().unit_by_code(c).await {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound { .. }) => {
                anyhow::bail!("không có đơn vị mã {c} / no unit with code {c}")
            }
            Err(e) => Err(e.into()),
        },
        None => Ok(None),
    }
}

fn store_error(e: StoreError, lang: Lang) -> anyhow::Error {
    match e {
        StoreError::Validation(reasons) => anyhow::anyhow!(
            "{}",
            reasons
                .iter()
                .map(|r| r.get(lang).to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        StoreError::Conflict(r) => anyhow::anyhow!("{}", r.get(lang)),
        other => other.into(),
    }
}

/// The target parameters of `year` from the rule book.
pub fn params_for(rules: &RuleBook, year: i32, lang: Lang) -> anyhow::Result<TargetParams> {
    TargetParams::for_year(rules, year).map_err(|e| anyhow::anyhow!("{}", e.text().get(lang)))
}

/// Runs one report against `store` and prints it on standard output; timings go to
/// standard error.
pub async fn run(
    store: &Store,
    rules: &RuleBook,
    today: NaiveDate,
    command: &ReportCommand,
) -> anyhow::Result<()> {
    let common = command.common();
    if common.bom && common.format != Format::Csv {
        anyhow::bail!("--bom chỉ dùng với --format csv / --bom goes with --format csv");
    }
    if common.format == Format::Xlsx && common.output.is_none() {
        anyhow::bail!(
            "--format xlsx ghi ra tệp: hãy cho --output TỆP / --format xlsx writes a file: give --output FILE"
        );
    }
    let (text, mut sheets, elapsed) = match command {
        ReportCommand::Targets {
            year,
            depth,
            at_risk,
            common,
        } => {
            let lang = common.lang.into();
            if !(1900..=9999).contains(year) {
                anyhow::bail!("năm {year} không hợp lệ / {year} is not a valid year");
            }
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let params = params_for(rules, *year, lang)?;
            let started = Instant::now();
            let report = store
                .stats()
                .admission_targets(&TargetRequest {
                    year: *year,
                    unit: unit.map(|u| u.id),
                    max_depth: Some(*depth),
                    today,
                    params,
                })
                .await
                .map_err(|e| store_error(e, lang))?;
            let risky = if *at_risk > 0 {
                store
                    .stats()
                    .units_at_risk(
                        &report,
                        memberflow_store::RiskScope::Level(Level::Grassroots),
                        *at_risk,
                    )
                    .await
                    .map_err(|e| store_error(e, lang))?
            } else {
                Vec::new()
            };
            let elapsed = started.elapsed();
            (
                render_targets(&report, &risky, common.format.text(), lang),
                target_sheets(&report, &risky, lang),
                (elapsed, report.figures.len()),
            )
        }
        ReportCommand::Members { on, common } => {
            let lang = common.lang.into();
            let on = on.unwrap_or(today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let b = store
                .stats()
                .member_breakdown(unit.as_ref().map(|u| u.id), on)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let mut rows: Vec<(String, String, u64)> = Vec::new();
            let s = |vi: &str, en: &str| t(lang, vi, en);
            rows.push((s("Tổng số", "total"), String::new(), b.total));
            rows.push((
                MemberStatus::Probationary.label().get(lang).to_owned(),
                String::new(),
                b.probationary,
            ));
            rows.push((s("Nữ", "women"), String::new(), b.women));
            for (band, n) in &b.by_age {
                rows.push((s("Độ tuổi", "age"), band.label().get(lang).to_owned(), *n));
            }
            let mut minorities = 0;
            for (e, n) in &b.by_ethnicity {
                if e != "Kinh" {
                    minorities += n;
                }
                rows.push((s("Dân tộc", "ethnicity"), value_label(e, lang), *n));
            }
            rows.push((
                s("Dân tộc thiểu số", "ethnic minorities"),
                String::new(),
                minorities,
            ));
            let religious: u64 = b.by_religion.iter().map(|x| x.1).sum();
            for (r, n) in &b.by_religion {
                rows.push((s("Tôn giáo", "religion"), value_label(r, lang), *n));
            }
            rows.push((s("Có tôn giáo", "religious"), String::new(), religious));
            for (e, n) in &b.by_education {
                rows.push((
                    s("Học vấn phổ thông", "schooling"),
                    education_label(e, lang),
                    *n,
                ));
            }
            for (o, n) in &b.by_occupation {
                rows.push((
                    s("Nghề nghiệp", "occupation"),
                    occupation_label(o.as_deref(), lang),
                    *n,
                ));
            }
            let whom = unit
                .as_ref()
                .map_or_else(|| s("toàn bộ", "everyone"), |u| u.code.clone());
            let title = t(
                lang,
                &format!("Đảng viên ({whom}) tại ngày {}", date_text(on, lang)),
                &format!("Members ({whom}) on {}", date_text(on, lang)),
            );
            (
                render_counts(common.format.text(), lang, &title, &rows),
                vec![counts_sheet(lang, &rows)],
                (elapsed, rows.len()),
            )
        }
        ReportCommand::Admissions { period, common } => {
            let lang = common.lang.into();
            let (from, to) = period_of(period, today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let years = store
                .stats()
                .admissions_by_year(unit.as_ref().map(|u| u.id), from, to)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let mut rows: Vec<(String, String, u64)> = years
                .iter()
                .map(|(y, n)| (t(lang, "Năm", "year"), y.to_string(), *n))
                .collect();
            rows.push((
                t(lang, "Tổng số", "total"),
                String::new(),
                years.iter().map(|x| x.1).sum(),
            ));
            let title = t(
                lang,
                &format!(
                    "Kết nạp đảng viên từ {} đến {} (theo ngày quyết định kết nạp)",
                    date_text(from, lang),
                    date_text(to, lang)
                ),
                &format!("Admissions from {from} to {to} (by the admission decision's date)"),
            );
            (
                render_counts(common.format.text(), lang, &title, &rows),
                vec![counts_sheet(lang, &rows)],
                (elapsed, rows.len()),
            )
        }
        ReportCommand::Discipline { period, common } => {
            let lang = common.lang.into();
            let (from, to) = period_of(period, today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let d = store
                .stats()
                .discipline_counts(unit.as_ref().map(|u| u.id), from, to)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let order = memberflow_workflow::violations::FORMS;
            let mut forms = d.by_form.clone();
            forms.sort_by_key(|(f, _)| order.iter().position(|o| o == f).unwrap_or(order.len()));
            let mut rows: Vec<(String, String, u64)> = forms
                .iter()
                .map(|(f, n)| {
                    (
                        t(lang, "Hình thức kỷ luật", "discipline"),
                        form_label(f, lang),
                        *n,
                    )
                })
                .collect();
            rows.push((
                t(lang, "Tổng số bị kỷ luật", "disciplined"),
                String::new(),
                forms.iter().map(|x| x.1).sum(),
            ));
            rows.push((
                MemberStatus::StruckOff.label().get(lang).to_owned(),
                String::new(),
                d.struck_off,
            ));
            rows.push((
                t(lang, "Khai trừ (tình trạng)", "expelled (status)"),
                String::new(),
                d.expelled,
            ));
            let title = t(
                lang,
                &format!(
                    "Kỷ luật và đưa ra khỏi Đảng từ {} đến {}",
                    date_text(from, lang),
                    date_text(to, lang)
                ),
                &format!("Discipline and removals from {from} to {to}"),
            );
            (
                render_counts(common.format.text(), lang, &title, &rows),
                vec![counts_sheet(lang, &rows)],
                (elapsed, rows.len()),
            )
        }
        ReportCommand::Badges { period, common } => {
            let lang = common.lang.into();
            let (from, to) = period_of(period, today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let b = store
                .stats()
                .badge_counts(unit.as_ref().map(|u| u.id), from, to)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let mut rows: Vec<(String, String, u64)> = b
                .by_years
                .iter()
                .map(|(y, n)| {
                    (
                        t(lang, "Huy hiệu", "badge"),
                        t(lang, &format!("{y} năm"), &format!("{y} years")),
                        *n,
                    )
                })
                .collect();
            rows.push((
                t(lang, "Tổng số", "total"),
                String::new(),
                b.by_years.iter().map(|x| x.1).sum(),
            ));
            let title = t(
                lang,
                &format!(
                    "Huy hiệu Đảng trao từ {} đến {}",
                    date_text(from, lang),
                    date_text(to, lang)
                ),
                &format!("Party badges awarded from {from} to {to}"),
            );
            (
                render_counts(common.format.text(), lang, &title, &rows),
                vec![counts_sheet(lang, &rows)],
                (elapsed, rows.len()),
            )
        }
        ReportCommand::Units { on, common } => {
            let lang = common.lang.into();
            let on = on.unwrap_or(today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let c = store
                .stats()
                .unit_counts(unit.as_ref().map(|u| u.id), on)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let mut rows: Vec<(String, String, u64)> = c
                .by_kind
                .iter()
                .map(|(k, n)| (t(lang, "Loại", "kind"), k.label().get(lang).to_owned(), *n))
                .collect();
            let grassroots: u64 = c
                .by_kind
                .iter()
                .filter(|(k, _)| k.level() == Level::Grassroots)
                .map(|x| x.1)
                .sum();
            rows.push((
                t(lang, "Tổ chức cơ sở đảng", "grassroots organizations"),
                String::new(),
                grassroots,
            ));
            for (cat, n) in &c.by_category {
                rows.push((
                    t(lang, "Chi bộ trực thuộc", "branches"),
                    category_label(cat, lang),
                    *n,
                ));
            }
            let title = t(
                lang,
                &format!("Tổ chức đảng tại ngày {}", date_text(on, lang)),
                &format!("Party units on {on}"),
            );
            (
                render_counts(common.format.text(), lang, &title, &rows),
                vec![counts_sheet(lang, &rows)],
                (elapsed, rows.len()),
            )
        }
        ReportCommand::WithoutAdmission { years, on, common } => {
            let lang = common.lang.into();
            let on = on.unwrap_or(today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let r = store
                .stats()
                .units_without_admission(unit.as_ref().map(|u| u.id), on, *years, None)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let (text, sheet) = render_without_admission(&r, common.format.text(), lang);
            (text, vec![sheet], (elapsed, r.units.len()))
        }
        ReportCommand::TemporaryActivity { on, common } => {
            let lang = common.lang.into();
            let on = on.unwrap_or(today);
            let Some(unit) = unit_of(store, common.unit.as_deref()).await? else {
                anyhow::bail!("báo cáo này cần --unit MÃ / this report needs --unit CODE");
            };
            let started = Instant::now();
            let units = store
                .tree()
                .subtree_ids_on(unit.id, on)
                .await
                .map_err(|e| store_error(e, lang))?;
            let r = store
                .registry()
                .temporary_activity_on(&units, on)
                .await
                .map_err(|e| store_error(e, lang))?;
            let mut rows: Vec<Vec<Cell>> = Vec::new();
            for (tag, list) in [
                (t(lang, "đi", "away"), &r.away),
                (t(lang, "đến", "hosted"), &r.hosted),
            ] {
                for (p, home) in list {
                    let member = store
                        .registry()
                        .member(p.member_id)
                        .await
                        .map_err(|e| store_error(e, lang))?;
                    let home = store
                        .tree()
                        .unit(*home)
                        .await
                        .map_err(|e| store_error(e, lang))?;
                    let host = match p.host_unit_id {
                        Some(h) => {
                            store
                                .tree()
                                .unit(h)
                                .await
                                .map_err(|e| store_error(e, lang))?
                                .code
                        }
                        None => p.place.clone().unwrap_or_default(),
                    };
                    rows.push(vec![
                        Cell::Text(tag.clone()),
                        Cell::Text(member.full_name.clone()),
                        Cell::Text(home.code),
                        Cell::Text(host),
                        Cell::Text(if p.abroad {
                            t(lang, "có", "yes")
                        } else {
                            t(lang, "không", "no")
                        }),
                        Cell::Text(date_text(p.valid_from, lang)),
                        Cell::Text(p.valid_to.map(|d| date_text(d, lang)).unwrap_or_default()),
                    ]);
                }
            }
            let elapsed = started.elapsed();
            let header = vec![
                t(lang, "Danh sách", "List"),
                t(lang, "Đảng viên", "Member"),
                t(lang, "Chi bộ", "Branch"),
                t(lang, "Nơi sinh hoạt tạm thời", "Temporarily at"),
                t(lang, "Nước ngoài", "Abroad"),
                t(lang, "Từ ngày", "From"),
                t(lang, "Đến ngày", "To"),
            ];
            let format = common.format.text();
            let table = render(format, &header, &shown(&rows), &[false; 7]);
            let text = match format {
                Format::Csv | Format::Xlsx => table,
                Format::Table => format!(
                    "{}\n\n{table}",
                    t(
                        lang,
                        &format!(
                            "Đảng viên sinh hoạt đảng tạm thời ({}) tại ngày {}: {} đi, {} đến",
                            unit.code,
                            date_text(on, lang),
                            r.away.len(),
                            r.hosted.len()
                        ),
                        &format!(
                            "Temporary party activity ({}) on {on}: {} away, {} hosted",
                            unit.code,
                            r.away.len(),
                            r.hosted.len()
                        ),
                    )
                ),
            };
            let n = rows.len();
            (
                text,
                vec![Sheet {
                    name: String::new(),
                    header,
                    rows,
                }],
                (elapsed, n),
            )
        }
        ReportCommand::HamletsWithout { on, common } => {
            let lang = common.lang.into();
            let on = on.unwrap_or(today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let roots = match &unit {
                Some(u) => vec![u.id],
                None => store
                    .tree()
                    .roots_on(on)
                    .await
                    .map_err(|e| store_error(e, lang))?
                    .into_iter()
                    .map(|u| u.id)
                    .collect(),
            };
            let (looked_at, hamlets) = store
                .registry()
                .hamlets_without_under(&roots, on)
                .await
                .map_err(|e| store_error(e, lang))?;
            let named: Vec<uuid::Uuid> = hamlets
                .iter()
                .flat_map(|h| [Some(h.hamlet.unit_id), h.branch_id])
                .flatten()
                .collect();
            let code_of: std::collections::HashMap<uuid::Uuid, String> = store
                .tree()
                .units(&named)
                .await
                .map_err(|e| store_error(e, lang))?
                .into_iter()
                .map(|u| (u.id, u.code))
                .collect();
            let code = |id: Option<uuid::Uuid>| {
                id.and_then(|i| code_of.get(&i).cloned())
                    .unwrap_or_default()
            };
            let no_members: Vec<&memberflow_store::HamletOn> =
                hamlets.iter().filter(|h| h.members == 0).collect();
            let no_branch: Vec<&memberflow_store::HamletOn> =
                hamlets.iter().filter(|h| h.branch_id.is_none()).collect();
            let mut rows: Vec<Vec<Cell>> = Vec::new();
            for (tag, list) in [
                (
                    t(lang, "không có đảng viên", "without members"),
                    &no_members,
                ),
                (t(lang, "không có chi bộ", "without a branch"), &no_branch),
            ] {
                for h in list.iter() {
                    rows.push(vec![
                        Cell::Text(tag.clone()),
                        Cell::Text(h.hamlet.code.clone()),
                        Cell::Text(h.hamlet.name.clone()),
                        Cell::Text(h.hamlet.kind.label().get(lang).to_owned()),
                        Cell::Text(code(Some(h.hamlet.unit_id))),
                        Cell::Text(code(h.branch_id)),
                        Cell::Int(i64::try_from(h.members).unwrap_or(i64::MAX)),
                    ]);
                }
            }
            let elapsed = started.elapsed();
            let header = vec![
                t(lang, "Danh sách", "List"),
                t(lang, "Mã", "Code"),
                t(lang, "Tên", "Name"),
                t(lang, "Loại", "Kind"),
                t(lang, "Đảng bộ cơ sở", "Commune-level unit"),
                t(lang, "Chi bộ ấp", "Hamlet branch"),
                t(lang, "Đảng viên cư trú", "Resident members"),
            ];
            let format = common.format.text();
            let table = render(
                format,
                &header,
                &shown(&rows),
                &[false, false, false, false, false, false, true],
            );
            let scope = unit
                .as_ref()
                .map_or_else(|| t(lang, "toàn đảng bộ", "everywhere"), |u| u.code.clone());
            let text = match format {
                Format::Csv | Format::Xlsx => table,
                Format::Table => format!(
                    "{}\n\n{table}",
                    t(
                        lang,
                        &format!(
                            "Ấp, khu vực, tổ dân phố ({scope}) tại ngày {}: {} đơn vị, {} chưa có đảng viên, {} chưa có chi bộ",
                            date_text(on, lang),
                            looked_at,
                            no_members.len(),
                            no_branch.len()
                        ),
                        &format!(
                            "Hamlets and residential groups ({scope}) on {on}: {} looked at, {} without members, {} without a branch",
                            looked_at,
                            no_members.len(),
                            no_branch.len()
                        ),
                    )
                ),
            };
            let n = rows.len();
            (
                text,
                vec![Sheet {
                    name: String::new(),
                    header,
                    rows,
                }],
                (elapsed, n),
            )
        }
        ReportCommand::DisciplineInForce { on, common } => {
            let lang = common.lang.into();
            let on = on.unwrap_or(today);
            let unit = unit_of(store, common.unit.as_deref()).await?;
            let started = Instant::now();
            let (forms, members) = store
                .stats()
                .discipline_in_force_counts(unit.as_ref().map(|u| u.id), on)
                .await
                .map_err(|e| store_error(e, lang))?;
            let elapsed = started.elapsed();
            let order = memberflow_workflow::violations::FORMS;
            let mut forms = forms;
            forms.sort_by_key(|(f, _)| order.iter().position(|o| o == f).unwrap_or(order.len()));
            let mut rows: Vec<(String, String, u64)> = forms
                .iter()
                .map(|(f, n)| {
                    (
                        t(lang, "Hình thức còn hiệu lực", "form in force"),
                        form_label(f, lang),
                        *n,
                    )
                })
                .collect();
            rows.push((
                t(
                    lang,
                    "Đảng viên đang chịu kỷ luật",
                    "members under discipline",
                ),
                String::new(),
                members,
            ));
            let whom = unit
                .as_ref()
                .map_or_else(|| t(lang, "toàn bộ", "everyone"), |u| u.code.clone());
            let title = t(
                lang,
                &format!(
                    "Đảng viên có kỷ luật còn hiệu lực ({whom}) tại ngày {}",
                    date_text(on, lang)
                ),
                &format!("Members with a discipline in force ({whom}) on {on}"),
            );
            (
                render_counts(common.format.text(), lang, &title, &rows),
                vec![counts_sheet(lang, &rows)],
                (elapsed, rows.len()),
            )
        }
    };
    let lang: Lang = common.lang.into();
    let text = if common.bom {
        format!("\u{feff}{text}")
    } else {
        text
    };
    match (&common.output, common.format) {
        (Some(path), Format::Xlsx) => {
            let chart = match command {
                ReportCommand::Targets { year, .. } => Some(
                    target_chart(store, rules, common.unit.as_deref(), *year, today, lang).await?,
                ),
                _ => None,
            };
            let labels = [
                t(lang, "Năm", "Year"),
                t(lang, "Kết nạp", "Admitted"),
                t(lang, "Chỉ tiêu thấp", "Target floor"),
                t(lang, "Chỉ tiêu cao", "Target ceiling"),
            ];
            let chart_sheet = t(lang, "Biểu đồ", "Chart");
            if let Some(first) = sheets.first_mut() {
                first.name = command.sheet_title(lang);
            }
            let bytes = crate::xlsx::workbook(
                &sheets,
                chart.as_ref().map(|(title, years)| {
                    (
                        chart_sheet.as_str(),
                        title.as_str(),
                        [
                            labels[0].as_str(),
                            labels[1].as_str(),
                            labels[2].as_str(),
                            labels[3].as_str(),
                        ],
                        years.as_slice(),
                    )
                }),
            )
            .map_err(|e| anyhow::anyhow!("cannot write the workbook: {e}"))?;
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        }
        (Some(path), _) => {
            std::fs::write(path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
        (None, _) => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    eprintln!(
        "({} row(s), query {:.1} ms)",
        elapsed.1,
        elapsed.0.as_secs_f64() * 1000.0
    );
    Ok(())
}

impl ReportCommand {
    /// The options every report has.
    fn common(&self) -> &Common {
        match self {
            ReportCommand::Targets { common, .. }
            | ReportCommand::Members { common, .. }
            | ReportCommand::Admissions { common, .. }
            | ReportCommand::Discipline { common, .. }
            | ReportCommand::Badges { common, .. }
            | ReportCommand::Units { common, .. }
            | ReportCommand::WithoutAdmission { common, .. }
            | ReportCommand::TemporaryActivity { common, .. }
            | ReportCommand::HamletsWithout { common, .. }
            | ReportCommand::DisciplineInForce { common, .. } => common,
        }
    }

    /// The name of the report's sheet in a workbook.
    fn sheet_title(&self, lang: Lang) -> String {
        match self {
            ReportCommand::Targets { year, .. } => t(
                lang,
                &format!("Chỉ tiêu {year}"),
                &format!("Targets {year}"),
            ),
            ReportCommand::Members { .. } => t(lang, "Đảng viên", "Members"),
            ReportCommand::Admissions { .. } => t(lang, "Kết nạp", "Admissions"),
            ReportCommand::Discipline { .. } => t(lang, "Kỷ luật", "Discipline"),
            ReportCommand::Badges { .. } => t(lang, "Huy hiệu", "Badges"),
            ReportCommand::Units { .. } => t(lang, "Tổ chức đảng", "Units"),
            ReportCommand::WithoutAdmission { years, .. } => t(
                lang,
                &format!("Không kết nạp {years} năm"),
                &format!("No admission {years} years"),
            ),
            ReportCommand::TemporaryActivity { .. } => {
                t(lang, "Sinh hoạt tạm thời", "Temporary activity")
            }
            ReportCommand::DisciplineInForce { .. } => {
                t(lang, "Kỷ luật còn hiệu lực", "Discipline in force")
            }
            ReportCommand::HamletsWithout { .. } => {
                t(lang, "Ấp chưa có đảng viên, chi bộ", "Hamlets without")
            }
        }
    }
}

/// The chart of the target report's unit (the first root when none is given): its
/// admissions against the band over the seven years up to `year`.
async fn target_chart(
    store: &Store,
    rules: &RuleBook,
    code: Option<&str>,
    year: i32,
    today: NaiveDate,
    lang: Lang,
) -> anyhow::Result<(String, Vec<ChartYear>)> {
    let unit = match unit_of(store, code).await? {
        Some(u) => u,
        None => store
            .tree()
            .roots_on(today.min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today)))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("cây tổ chức trống / the tree is empty"))?,
    };
    let years = chart_years(store, rules, &unit, year - 6..=year, today).await?;
    let title = t(
        lang,
        &format!("Kết nạp đảng viên so với chỉ tiêu — {}", unit.name),
        &format!("Admissions against the target — {}", unit.name),
    );
    Ok((title, years))
}

fn period_of(p: &Period, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let to = p.to.unwrap_or(today);
    let from = p
        .from
        .or_else(|| NaiveDate::from_ymd_opt(to.year() - 5, 1, 1))
        .unwrap_or(to);
    (from, to)
}

/// `memberflow check --stats`: recomputes the counters from the registry and prints every
/// difference; `repair` rebuilds them afterwards. Returns whether they agreed.
pub async fn check_stats(store: &Store, repair: bool) -> anyhow::Result<bool> {
    let started = Instant::now();
    let check = store
        .stats()
        .check()
        .await
        .context("checking the statistics")?;
    for d in &check.differences {
        println!(
            "error: {} unit {} year {}: stored {}, expected {}",
            d.counter, d.unit_id, d.year, d.stored, d.expected
        );
    }
    for u in &check.unbuilt {
        println!("note: counter {u} is not built yet (it is built on first use)");
    }
    println!(
        "checked {} counter value(s) against {} member(s) in {:.1} s: {} difference(s)",
        check.compared,
        check.members,
        started.elapsed().as_secs_f64(),
        check.differences.len()
    );
    if repair && !check.differences.is_empty() {
        store
            .stats()
            .rebuild()
            .await
            .context("rebuilding the statistics")?;
        println!("rebuilt the counters from the registry");
    }
    Ok(check.differences.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The chart

/// One year of a unit's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartYear {
    /// The year.
    pub year: i32,
    /// Members on the base date.
    pub base: u64,
    /// Admissions in the year.
    pub admitted: u64,
    /// Admissions reaching the floor and the ceiling.
    pub target_low: u64,
    /// See `target_low`.
    pub target_high: u64,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG bar chart of admissions per year against the band (the shaded area from the
/// floor to the ceiling in people).
pub fn admissions_svg(title: &str, years: &[ChartYear], lang: Lang) -> String {
    let (w, h) = (640.0_f64, 340.0_f64);
    // The title sits above `top` with room for the value labels of the tallest bar: the
    // scale runs to a round value above the highest bar or band.
    let (left, right, top, bottom) = (64.0, 16.0, 60.0, 40.0);
    let highest = years
        .iter()
        .map(|y| y.admitted.max(y.target_high))
        .max()
        .unwrap_or(0)
        .max(1);
    let step = axis_step(highest);
    let ticks = highest.div_ceil(step).max(1) + u64::from(highest % step == 0);
    #[allow(clippy::cast_precision_loss)] // counts of people
    let max = (step * ticks) as f64;
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    #[allow(clippy::cast_precision_loss)]
    let slot = plot_w / years.len().max(1) as f64;
    #[allow(clippy::cast_precision_loss)]
    let y_of = |v: u64| top + plot_h - (v as f64 / max) * plot_h;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"##
    );
    let _ = write!(
        s,
        r##"<title>{}</title><rect width="{w}" height="{h}" fill="#fff"/><text x="{left}" y="22" font-size="14" font-weight="bold">{}</text>"##,
        xml_escape(title),
        xml_escape(title)
    );
    // The y axis: a line, round ticks with their values, light grid lines.
    let _ = write!(
        s,
        r##"<line class="y-axis" x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#333"/>"##,
        top + plot_h
    );
    for k in 0..=ticks {
        let v = step * k;
        let y = y_of(v);
        let _ = write!(
            s,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"##,
            left - 4.0,
            w - right,
            if k == 0 { "#333" } else { "#e0e0e0" },
            left - 6.0,
            y + 4.0
        );
    }
    let _ = write!(
        s,
        r##"<text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle" fill="#555">{}</text>"##,
        top + plot_h / 2.0,
        top + plot_h / 2.0,
        xml_escape(&t(lang, "Số kết nạp", "Admissions"))
    );
    for (i, y) in years.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let x = left + slot * i as f64;
        let (lo, hi) = (y_of(y.target_low), y_of(y.target_high));
        let _ = write!(
            s,
            r##"<rect class="band" x="{:.1}" y="{hi:.1}" width="{:.1}" height="{:.1}" fill="#c8e6c9"/>"##,
            x + 2.0,
            slot - 4.0,
            (lo - hi).max(1.0)
        );
        let top_bar = y_of(y.admitted);
        let fill = if y.admitted >= y.target_low {
            "#2e7d32"
        } else {
            "#c62828"
        };
        let _ = write!(
            s,
            r##"<rect class="admitted" x="{:.1}" y="{top_bar:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}: {} / {}–{}</title></rect>"##,
            x + slot * 0.3,
            slot * 0.4,
            (top + plot_h - top_bar).max(0.0),
            y.year,
            y.admitted,
            y.target_low,
            y.target_high
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            x + slot / 2.0,
            h - bottom + 16.0,
            y.year,
            x + slot / 2.0,
            top_bar - 4.0,
            y.admitted
        );
    }
    let legend = t(
        lang,
        "Cột: số kết nạp; vùng xanh: chỉ tiêu 3–4% số đảng viên đầu năm",
        "Bars: admissions; green band: the 3–4% target of the members at the start of the year",
    );
    let _ = write!(
        s,
        r##"<text x="{left}" y="{:.1}" fill="#555">{}</text></svg>"##,
        h - 8.0,
        xml_escape(&legend)
    );
    s
}

/// A round step for an axis up to `max`: 1, 2 or 5 times a power of ten, giving 4 to 10
/// ticks.
fn axis_step(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if max / (step * m) <= 8 {
                return step * m;
            }
        }
        step *= 10;
    }
}

/// The last year up to `today`'s with admissions at `unit` (of the last thirty), if any.
async fn last_year_with_data(
    store: &Store,
    rules: &RuleBook,
    unit: &UnitRecord,
    today: NaiveDate,
) -> Result<Option<i32>, StoreError> {
    let years = chart_years(store, rules, unit, today.year() - 30..=today.year(), today).await?;
    Ok(years.iter().rev().find(|y| y.admitted > 0).map(|y| y.year))
}

/// The chart of the unit `code` for `years`, from the store.
pub async fn admissions_chart(
    store: &Store,
    rules: &RuleBook,
    code: &str,
    years: std::ops::RangeInclusive<i32>,
    today: NaiveDate,
    lang: Lang,
) -> Result<String, StoreError> {
    let unit = store.tree().unit_by_code(code).await?;
    let data = chart_years(store, rules, &unit, years, today).await?;
    let title = t(
        lang,
        &format!("Kết nạp đảng viên so với chỉ tiêu — {}", unit.name),
        &format!("Admissions against the target — {}", unit.name),
    );
    Ok(admissions_svg(&title, &data, lang))
}

/// A unit's admissions against the band, year by year.
async fn chart_years(
    store: &Store,
    rules: &RuleBook,
    unit: &UnitRecord,
    years: std::ops::RangeInclusive<i32>,
    today: NaiveDate,
) -> Result<Vec<ChartYear>, StoreError> {
    let mut plan = Vec::new();
    for y in years {
        if let Ok(p) = TargetParams::for_year(rules, y) {
            plan.push((y, p));
        }
    }
    let rows = store
        .stats()
        .admission_series(unit.id, &plan, today)
        .await?;
    Ok(rows
        .iter()
        .map(|(y, r)| ChartYear {
            year: *y,
            base: r.assessment.base,
            admitted: r.assessment.admitted,
            target_low: r.assessment.target_low,
            target_high: r.assessment.target_high,
        })
        .collect())
}

/// The query string of the chart: the years to draw (the last seven up to today's by
/// default).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ChartQuery {
    /// First year.
    pub from: Option<i32>,
    /// Last year.
    pub to: Option<i32>,
}

/// The rule book built into the binary (the chart's band and base date come from it).
pub fn embedded_rules() -> Option<&'static RuleBook> {
    static RULES: std::sync::OnceLock<Option<RuleBook>> = std::sync::OnceLock::new();
    RULES
        .get_or_init(|| {
            crate::check::SchemaFiles::embedded()
                .check()
                .1
                .map(|c| c.rules)
        })
        .as_ref()
}

/// The response to `GET /charts/admissions/{code}.svg`: the chart, 404 for an unknown unit.
pub async fn chart_response(
    store: &Store,
    today: NaiveDate,
    file: &str,
    query: ChartQuery,
    lang: Lang,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse as _;
    let code = file.strip_suffix(".svg").unwrap_or(file);
    let Some(rules) = embedded_rules() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // By default the seven years up to the last one with admissions (not empty years up to
    // today's).
    let last = match query.to {
        Some(to) => to,
        None => match store.tree().unit_by_code(code).await {
            Ok(unit) => last_year_with_data(store, rules, &unit, today)
                .await
                .ok()
                .flatten()
                .unwrap_or(today.year()),
            Err(_) => today.year(),
        },
    };
    let to = last.clamp(1900, 9999);
    let from = query.from.unwrap_or(to - 6).clamp(to - 50, to);
    match admissions_chart(store, rules, code, from..=to, today, lang).await {
        Ok(svg) => (
            [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
            svg,
        )
            .into_response(),
        Err(StoreError::NotFound { .. }) => (
            StatusCode::NOT_FOUND,
            t(lang, "Không có đơn vị này.", "No such unit."),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "chart failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_numbers_and_csv_quotes_commas() {
        let header = vec!["Đơn vị".to_owned(), "Số".to_owned()];
        let rows = vec![
            vec!["Chi bộ ấp 1".to_owned(), "7".to_owned()],
            vec!["A, B".to_owned(), "1234".to_owned()],
        ];
        let table = render(Format::Table, &header, &rows, &[false, true]);
        assert!(table.contains("Chi bộ ấp 1     7"), "{table}");
        let csv = render(Format::Csv, &header, &rows, &[false, true]);
        assert_eq!(csv, "Đơn vị,Số\nChi bộ ấp 1,7\n\"A, B\",1234\n");
        assert_eq!(percent_of(Threshold::parse(">= 3/100").unwrap()), "3%");
        assert_eq!(percent_of(Threshold::parse(">= 7/200").unwrap()), "3.5%");
    }

    #[test]
    fn the_chart_draws_a_bar_and_a_band_per_year() {
        let years = vec![
            ChartYear {
                year: 2021,
                base: 1000,
                admitted: 25,
                target_low: 30,
                target_high: 40,
            },
            ChartYear {
                year: 2022,
                base: 1010,
                admitted: 35,
                target_low: 31,
                target_high: 41,
            },
        ];
        let svg = admissions_svg("HG <test>", &years, Lang::En);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("class=\"band\"").count(), 2);
        assert_eq!(svg.matches("class=\"admitted\"").count(), 2);
        assert!(svg.contains("HG &lt;test&gt;"));
        // A y axis with round ticks from 0 past the highest value (41): 0, 5, …, 45.
        assert!(svg.contains("class=\"y-axis\""));
        let ticks: Vec<&str> = svg
            .split("class=\"tick\"")
            .skip(1)
            .filter_map(|t| t.split('>').nth(1)?.split('<').next())
            .collect();
        assert_eq!(
            ticks,
            ["0", "5", "10", "15", "20", "25", "30", "35", "40", "45"]
        );
        // No value label rises into the title's band (the title's baseline is at y = 22).
        let min_label_y = svg
            .split("<text x=\"")
            .skip(1)
            .filter(|t| !t.contains("font-weight"))
            .filter_map(|t| {
                t.split("y=\"")
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .fold(f64::MAX, f64::min);
        assert!(min_label_y > 40.0, "{min_label_y}");
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(axis_step(1), 1);
        assert_eq!(axis_step(8), 1);
        assert_eq!(axis_step(9), 2);
        assert_eq!(axis_step(41), 5);
        assert_eq!(axis_step(90), 20);
        assert_eq!(axis_step(930), 200);
        assert_eq!(axis_step(1010), 200);
    }
}
