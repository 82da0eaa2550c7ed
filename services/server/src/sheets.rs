//! Spreadsheet files for `memberflow import` and `export` (docs/import.md): bytes to the core's
//! [`Sheet`]s (XLSX through calamine, CSV as UTF-8 with or without a BOM) with the problems of
//! the file itself (not a spreadsheet, not UTF-8, formulas, merged cells, too large), and the
//! rows back to CSV or XLSX: exports, empty templates with a sheet explaining each column, and
//! the annotated copy of a refused file.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use memberflow_workflow::import::{
    BadgeRow, Cell, Column, DisciplineRow, HamletRow, Kind, MemberRow, Problem, RoleRow, Sheet,
    UnitRow, format_history,
};
use memberflow_workflow::text::Text;
use rust_xlsxwriter::{Color, Format, Note, Workbook, XlsxError};

mod records;

pub use records::CsvRecords;

/// The largest file accepted (bytes): larger ones are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// A whole-file problem: sheet named after the file, row 0.
pub(crate) fn file_problem(file: &str, code: &'static str, reason: Text) -> Problem {
    Problem {
        sheet: file.to_owned(),
        row: 0,
        column: None,
        code,
        reason,
    }
}

/// The problem of a file over the size limit.
pub fn too_large(file: &str, size: u64, limit: u64) -> Problem {
    file_problem(
        file,
        "FILE_TOO_LARGE",
        Text::new(
            format!(
                "Tệp có {} MB, vượt giới hạn {} MB: hãy chia nhỏ tệp.",
                size / (1024 * 1024),
                limit / (1024 * 1024)
            ),
            format!(
                "The file has {} MB, over the limit of {} MB: split it.",
                size / (1024 * 1024),
                limit / (1024 * 1024)
            ),
        ),
    )
}

/// The largest members CSV file imported streamed (bytes): read a batch of rows at a time,
/// its memory does not grow with it (docs/import.md, «Large files»).
pub const MAX_STREAMED_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Whether a file's first bytes are text a CSV reader may read: not a ZIP archive (XLSX),
/// not an OLE file (XLS), no NUL byte (binary, or UTF-16, which the whole-file reader
/// refuses with its own reason).
pub fn is_text(head: &[u8]) -> bool {
    !head.starts_with(b"PK\x03\x04")
        && !head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
        && !head.starts_with(b"\xFF\xFE")
        && !head.starts_with(b"\xFE\xFF")
        && !head.contains(&0)
}

/// What a file's first bytes say it is.
enum Shape {
    Xlsx,
    Csv,
}

/// Tells a file by its first bytes (up to 8 KiB): XLSX when it starts like a ZIP archive,
/// CSV when it is text; the problem otherwise.
fn shape(name: &str, head: &[u8]) -> Result<Shape, Vec<Problem>> {
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Shape::Xlsx);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(vec![file_problem(
            name,
            "NOT_A_SPREADSHEET",
            Text::new(
                "Tệp Excel 97-2003 (.xls) không được hỗ trợ: hãy lưu thành .xlsx hoặc CSV UTF-8.",
                "Excel 97-2003 files (.xls) are not supported: save as .xlsx or UTF-8 CSV.",
            ),
        )]);
    }
    // Text has no NUL bytes (a PDF, an image or an archive does), nor does UTF-16 start
    // without its BOM.
    if head.iter().take(8192).any(|b| *b == 0)
        && !head.starts_with(b"\xFF\xFE")
        && !head.starts_with(b"\xFE\xFF")
    {
        return Err(vec![not_a_spreadsheet(name)]);
    }
    Ok(Shape::Csv)
}

/// Reads a file's sheets: XLSX when it starts like a ZIP archive, CSV otherwise. `name` is
/// the file's name, used for CSV sheets and whole-file problems.
pub fn read(name: &str, bytes: &[u8]) -> Result<Vec<Sheet>, Vec<Problem>> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(vec![too_large(name, bytes.len() as u64, MAX_FILE_BYTES)]);
    }
    match shape(name, bytes)? {
        Shape::Xlsx => read_xlsx(name, bytes),
        Shape::Csv => read_csv(name, bytes).map(|s| vec![s]),
    }
}

/// Reads the sheets of a file on disk (an upload spooled to a temporary file) as [`read`]
/// reads bytes, without holding the file's bytes in memory: CSV a line at a time, XLSX
/// through the archive's index.
pub fn read_file(name: &str, mut file: std::fs::File) -> Result<Vec<Sheet>, Vec<Problem>> {
    use std::io::{Read as _, Seek as _};
    let unreadable = |_| vec![not_a_spreadsheet(name)];
    let size = file.metadata().map_err(unreadable)?.len();
    if size > MAX_FILE_BYTES {
        return Err(vec![too_large(name, size, MAX_FILE_BYTES)]);
    }
    let mut head = Vec::with_capacity(8192);
    (&mut file)
        .take(8192)
        .read_to_end(&mut head)
        .map_err(unreadable)?;
    file.rewind().map_err(unreadable)?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    match shape(name, &head)? {
        Shape::Xlsx => read_xlsx_from(name, reader),
        Shape::Csv => {
            let mut records = CsvRecords::new(name, reader);
            let mut rows: Vec<Vec<Cell>> = Vec::new();
            while let Some(r) = records.next_record()? {
                rows.push(r);
            }
            Ok(vec![Sheet {
                name: name.to_owned(),
                rows,
            }])
        }
    }
}

/// Reads CSV whole (docs/import.md): UTF-8 (a BOM is skipped), comma or semicolon separated
/// (from the header line), RFC 4180 quoting with line breaks inside quotes; the records as
/// [`CsvRecords`] reads them one at a time.
pub fn read_csv(name: &str, bytes: &[u8]) -> Result<Sheet, Vec<Problem>> {
    let mut records = CsvRecords::new(name, bytes);
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    while let Some(r) = records.next_record()? {
        rows.push(r);
    }
    Ok(Sheet {
        name: name.to_owned(),
        rows,
    })
}

pub(crate) fn not_a_spreadsheet(name: &str) -> Problem {
    file_problem(
        name,
        "NOT_A_SPREADSHEET",
        Text::new(
            "Tệp không phải là bảng tính XLSX hoặc CSV.",
            "The file is not an XLSX or CSV spreadsheet.",
        ),
    )
}

fn column_letter(mut c: u32) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, char::from(b'A' + (c % 26) as u8));
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s
}

/// Reads every sheet of an XLSX workbook. Formulas and merged cells are refused, each
/// reported where it is.
pub fn read_xlsx(name: &str, bytes: &[u8]) -> Result<Vec<Sheet>, Vec<Problem>> {
    read_xlsx_from(name, Cursor::new(bytes))
}

/// Reads every sheet of an XLSX workbook from any seekable reader (bytes, a file).
fn read_xlsx_from<R: std::io::Read + std::io::Seek>(
    name: &str,
    reader: R,
) -> Result<Vec<Sheet>, Vec<Problem>> {
    let mut wb = match Xlsx::new(reader) {
        Ok(wb) => wb,
        Err(_) => return Err(vec![not_a_spreadsheet(name)]),
    };
    let mut problems = Vec::new();
    let mut sheets = Vec::new();
    for sheet_name in wb.sheet_names() {
        let merged = wb
            .merge_cells_by_sheet_name(&sheet_name)
            .unwrap_or_default();
        for d in &merged {
            problems.push(Problem {
                sheet: sheet_name.clone(),
                row: d.start.0 as usize + 1,
                column: Some(column_letter(d.start.1)),
                code: "MERGED_CELLS",
                reason: Text::new(
                    format!(
                        "Ô gộp {}{}:{}{}: hãy bỏ gộp ô và ghi giá trị vào từng dòng.",
                        column_letter(d.start.1),
                        d.start.0 + 1,
                        column_letter(d.end.1),
                        d.end.0 + 1
                    ),
                    format!(
                        "Merged cells {}{}:{}{}: unmerge them and write the value on each row.",
                        column_letter(d.start.1),
                        d.start.0 + 1,
                        column_letter(d.end.1),
                        d.end.0 + 1
                    ),
                ),
            });
        }
        if let Ok(formulas) = wb.worksheet_formula(&sheet_name) {
            let (r0, c0) = formulas.start().unwrap_or((0, 0));
            for (r, row) in formulas.rows().enumerate() {
                for (c, f) in row.iter().enumerate() {
                    if !f.is_empty() {
                        let col = column_letter(c0 + c as u32);
                        problems.push(Problem {
                            sheet: sheet_name.clone(),
                            row: r0 as usize + r + 1,
                            column: Some(col.clone()),
                            code: "FORMULA",
                            reason: Text::new(
                                format!("Ô {col}{} chứa công thức ={f}: hãy dán giá trị (Paste Values).", r0 as usize + r + 1),
                                format!("Cell {col}{} holds a formula ={f}: paste its value instead.", r0 as usize + r + 1),
                            ),
                        });
                    }
                }
            }
        }
        let range = match wb.worksheet_range(&sheet_name) {
            Ok(r) => r,
            Err(_) => {
                problems.push(not_a_spreadsheet(name));
                continue;
            }
        };
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); r0 as usize];
        for row in range.rows() {
            let mut cells = vec![Cell::Empty; c0 as usize];
            cells.extend(row.iter().map(|d| {
                match d {
                    Data::Empty | Data::Error(_) => Cell::Empty,
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        Cell::Text(s.clone())
                    }
                    Data::Int(i) => Cell::Number(*i as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Bool(*b),
                    Data::DateTime(dt) => dt
                        .as_datetime()
                        .map(|d| Cell::Date(d.date()))
                        .unwrap_or(Cell::Number(dt.as_f64())),
                }
            }));
            rows.push(cells);
        }
        sheets.push(Sheet {
            name: sheet_name.clone(),
            rows,
        });
    }
    if problems.is_empty() {
        Ok(sheets)
    } else {
        Err(problems)
    }
}

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// A unit as the template's row of text, in the columns' order.
pub fn unit_cells(u: &UnitRow) -> Vec<String> {
    let single_parent = match u.parents.as_slice() {
        [p] if p.from == u.valid_from && p.to == u.valid_to => Some(p.value.clone()),
        [] => Some(String::new()),
        _ => None,
    };
    vec![
        u.code.clone(),
        u.name.clone(),
        u.kind.as_str().to_owned(),
        u.branch_category.clone().unwrap_or_default(),
        u.valid_from.to_string(),
        date(u.valid_to),
        single_parent.unwrap_or_else(|| format_history(&u.parents, String::clone)),
        u.successor.clone().unwrap_or_default(),
    ]
}

/// A member as the template's row of text, in the columns' order.
pub fn member_cells(m: &MemberRow) -> Vec<String> {
    let last_unit = m.units.last();
    let last_status = m.statuses.last();
    vec![
        m.card.clone(),
        m.full_name.clone(),
        m.date_of_birth.to_string(),
        if m.sex == "FEMALE" { "Nữ" } else { "Nam" }.to_owned(),
        m.ethnicity.clone(),
        m.religion.clone().unwrap_or_default(),
        m.education.clone(),
        m.occupation.clone().unwrap_or_default(),
        date(m.admission_decision),
        date(m.ceremony),
        date(m.official),
        last_unit.map(|u| u.value.clone()).unwrap_or_default(),
        last_unit.map(|u| u.from.to_string()).unwrap_or_default(),
        last_status
            .map(|s| s.value.as_str().to_owned())
            .unwrap_or_default(),
        format_history(&m.units, String::clone),
        format_history(&m.statuses, |s| s.as_str().to_owned()),
        m.email.clone().unwrap_or_default(),
        format_history(&m.residences, String::clone),
    ]
}

/// A hamlet row's cells, in the template's order: its branch as a code when one branch
/// held over its whole existence, else as a history.
pub fn hamlet_cells(h: &HamletRow) -> Vec<String> {
    let single_branch = match h.branches.as_slice() {
        [p] if p.from == h.valid_from && p.to == h.valid_to => Some(p.value.clone()),
        [] => Some(String::new()),
        _ => None,
    };
    vec![
        h.code.clone(),
        h.name.clone(),
        h.kind.as_str().to_owned(),
        h.unit.clone(),
        h.valid_from.to_string(),
        date(h.valid_to),
        h.successor.clone().unwrap_or_default(),
        single_branch.unwrap_or_else(|| format_history(&h.branches, String::clone)),
    ]
}

/// A role holder row's cells, in the template's order.
pub fn role_cells(r: &RoleRow) -> Vec<String> {
    vec![
        r.login.clone(),
        r.role.as_str().to_owned(),
        r.unit.clone().unwrap_or_default(),
        r.card.clone().unwrap_or_default(),
        r.email.clone().unwrap_or_default(),
        r.from.to_string(),
        date(r.to),
    ]
}

/// A badge row's cells, in the template's order.
pub fn badge_cells(b: &BadgeRow) -> Vec<String> {
    vec![
        b.card.clone(),
        b.years.to_string(),
        b.award_date.to_string(),
    ]
}

/// A discipline register row's cells, in the template's order (codes, as the template
/// explains them).
pub fn discipline_cells(d: &DisciplineRow) -> Vec<String> {
    let (kind, level) = match d.body {
        Some((k, l)) => (k.as_str().to_uppercase(), l.as_str().to_uppercase()),
        None => (String::new(), String::new()),
    };
    vec![
        d.card.clone(),
        d.form.as_str().to_uppercase(),
        d.number.clone().unwrap_or_default(),
        kind,
        level,
        d.decision_date.to_string(),
        d.status.code().to_owned(),
        d.status_date.map(|s| s.to_string()).unwrap_or_default(),
    ]
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The first line of a CSV file: a BOM (so that Excel reads the diacritics) and the
/// Vietnamese headers.
pub fn csv_header(columns: &[Column]) -> String {
    let header: Vec<String> = columns.iter().map(|c| csv_field(c.vi)).collect();
    format!("\u{FEFF}{}\r\n", header.join(","))
}

/// One CSV record, its line end included.
pub fn csv_line(fields: &[String]) -> String {
    let fields: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    format!("{}\r\n", fields.join(","))
}

/// Rows as CSV (UTF-8 with a BOM, so that Excel reads the diacritics), the Vietnamese
/// headers first.
pub fn csv(columns: &[Column], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = csv_header(columns);
    for r in rows {
        out.push_str(&csv_line(&r));
    }
    out
}

/// A kind's sheet begun: named, its headers bold, every column text, the header row frozen.
fn begin_sheet(
    ws: &mut rust_xlsxwriter::Worksheet,
    kind: Kind,
    bold: &Format,
    text: &Format,
) -> Result<(), XlsxError> {
    ws.set_name(kind.sheet_name())?;
    for (c, col) in kind.columns().iter().enumerate() {
        ws.write_string_with_format(0, c as u16, col.vi, bold)?;
        ws.set_column_format(c as u16, text)?;
        ws.set_column_width(c as u16, if c < 2 { 24 } else { 16 })?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The «Hướng dẫn» sheet: each column of `kinds` explained in Vietnamese and English.
fn guide_sheet(wb: &mut Workbook, kinds: &[Kind], bold: &Format) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("Hướng dẫn")?;
    for (c, h) in [
        "Bảng / Sheet",
        "Cột",
        "Column",
        "Bắt buộc / Required",
        "Cách ghi",
        "How to fill it",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, bold)?;
    }
    let mut r = 1u32;
    for kind in kinds {
        for col in kind.columns() {
            ws.write_string(r, 0, kind.sheet_name())?;
            ws.write_string(r, 1, col.vi)?;
            ws.write_string(r, 2, col.en)?;
            ws.write_string(r, 3, if col.required { "có / yes" } else { "" })?;
            ws.write_string(r, 4, col.help_vi)?;
            ws.write_string(r, 5, col.help_en)?;
            r += 1;
        }
    }
    ws.set_column_width(1, 26)?;
    ws.set_column_width(4, 70)?;
    ws.set_column_width(5, 70)?;
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A workbook with one sheet per kind given (headers bold and frozen, every cell text so
/// that card numbers keep their leading zeros), and a «Hướng dẫn» sheet explaining each
/// column in Vietnamese and English.
pub fn workbook(sheets: &[(Kind, Vec<Vec<String>>)]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (kind, rows) in sheets {
        let ws = wb.add_worksheet();
        begin_sheet(ws, *kind, &bold, &text)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
        }
    }
    let kinds: Vec<Kind> = sheets.iter().map(|(k, _)| *k).collect();
    guide_sheet(&mut wb, &kinds, &bold)?;
    wb.save_to_buffer()
}

/// The same workbook as [`workbook`] written a row at a time in bounded memory: each kind's
/// sheet in the library's constant-memory mode (its rows go to a temporary file as they are
/// written, in order), then saved to a file. The download route streams exports with it.
pub struct StreamedWorkbook {
    wb: Workbook,
    kinds: Vec<Kind>,
    /// The next row of the sheet under way.
    next_row: u32,
    bold: Format,
    text: Format,
}

impl StreamedWorkbook {
    /// An empty workbook.
    pub fn new() -> Self {
        Self {
            wb: Workbook::new(),
            kinds: Vec::new(),
            next_row: 1,
            bold: Format::new().set_bold(),
            text: Format::new().set_num_format("@"),
        }
    }

    /// Begins the sheet of `kind`: the rows written next go there.
    pub fn begin(&mut self, kind: Kind) -> Result<(), XlsxError> {
        let ws = self.wb.add_worksheet_with_constant_memory()?;
        begin_sheet(ws, kind, &self.bold, &self.text)?;
        self.kinds.push(kind);
        self.next_row = 1;
        Ok(())
    }

    /// A row of the sheet under way.
    pub fn row(&mut self, cells: &[String]) -> Result<(), XlsxError> {
        let index = self.kinds.len().saturating_sub(1);
        let ws = self.wb.worksheet_from_index(index)?;
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(self.next_row, c as u16, v)?;
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// Adds the «Hướng dẫn» sheet and writes the workbook to `path`.
    pub fn finish(mut self, path: &std::path::Path) -> Result<(), XlsxError> {
        guide_sheet(&mut self.wb, &self.kinds, &self.bold)?;
        self.wb.save(path)
    }
}

impl Default for StreamedWorkbook {
    fn default() -> Self {
        Self::new()
    }
}

/// A sheet's problems by (row, column), `None` for the whole row.
type Marks<'a> = BTreeMap<(usize, Option<usize>), Vec<&'a Problem>>;

/// The file's sheets again, each problem's cell filled red with a note giving the reason in
/// both languages, and a «Lỗi / Problems» sheet listing them all: what the secretary fixes
/// and sends back.
pub fn annotated(sheets: &[Sheet], problems: &[Problem]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let red = Format::new().set_background_color(Color::RGB(0xF4_C7_C3));
    let mut by_sheet: HashMap<&str, Marks> = HashMap::new();
    for s in sheets {
        let headers: Vec<String> = s
            .rows
            .first()
            .map(|r| r.iter().map(Cell::text).collect())
            .unwrap_or_default();
        for p in problems.iter().filter(|p| p.sheet == s.name) {
            let col = p.column.as_ref().and_then(|c| {
                headers.iter().position(|h| h == c).or_else(|| {
                    // A column letter (formulas, merged cells).
                    (c.len() <= 3 && c.chars().all(|ch| ch.is_ascii_uppercase())).then(|| {
                        c.chars()
                            .fold(0usize, |n, ch| n * 26 + (ch as usize - 'A' as usize + 1))
                            - 1
                    })
                })
            });
            by_sheet
                .entry(s.name.as_str())
                .or_default()
                .entry((p.row, col))
                .or_default()
                .push(p);
        }
    }
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_title(&s.name))?;
        let width = s.rows.iter().map(Vec::len).max().unwrap_or(0);
        let marks = by_sheet.get(s.name.as_str());
        for (r, row) in s.rows.iter().enumerate() {
            for c in 0..width {
                let v = row.get(c).map(Cell::text).unwrap_or_default();
                let here = marks.and_then(|m| m.get(&(r + 1, Some(c))));
                match (here, r) {
                    (Some(_), _) => ws.write_string_with_format(r as u32, c as u16, &v, &red)?,
                    (None, 0) => ws.write_string_with_format(r as u32, c as u16, &v, &bold)?,
                    (None, _) => ws.write_string(r as u32, c as u16, &v)?,
                };
                if let Some(ps) = here {
                    let text: Vec<String> = ps
                        .iter()
                        .map(|p| format!("{} — {} ({})", p.reason.vi, p.reason.en, p.code))
                        .collect();
                    ws.insert_note(r as u32, c as u16, &Note::new(text.join("\n")))?;
                }
            }
            // Problems of the whole row go in a last column.
            if let Some(ps) = marks.and_then(|m| m.get(&(r + 1, None))) {
                let text: Vec<String> = ps
                    .iter()
                    .map(|p| format!("{} — {}", p.reason.vi, p.reason.en))
                    .collect();
                ws.write_string_with_format(r as u32, width as u16, text.join("; "), &red)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name("Lỗi - Problems")?;
    for (c, h) in [
        "Bảng / Sheet",
        "Dòng / Row",
        "Cột / Column",
        "Mã / Code",
        "Lý do",
        "Reason",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, p) in problems.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, &p.sheet)?;
        ws.write_number(r, 1, p.row as f64)?;
        ws.write_string(r, 2, p.column.as_deref().unwrap_or(""))?;
        ws.write_string(r, 3, p.code)?;
        ws.write_string(r, 4, &p.reason.vi)?;
        ws.write_string(r, 5, &p.reason.en)?;
    }
    ws.set_column_width(4, 70)?;
    ws.set_column_width(5, 70)?;
    wb.save_to_buffer()
}

fn sheet_title(s: &str) -> String {
    s.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// The registry's rows of `kinds` as a file: an XLSX workbook (a sheet per kind and the
/// explanations), or CSV (one kind); without data, the template.
pub fn export_file(
    data: Option<&memberflow_store::RegistryExport>,
    kinds: &[Kind],
    csv_file: bool,
) -> Result<Vec<u8>, XlsxError> {
    let rows = |k: Kind| -> Vec<Vec<String>> {
        match (data, k) {
            (None, _) => Vec::new(),
            (Some(d), Kind::Units) => d.units.iter().map(unit_cells).collect(),
            (Some(d), Kind::Members) => d.members.iter().map(member_cells).collect(),
            (Some(d), Kind::RoleHolders) => d.roles.iter().map(role_cells).collect(),
            (Some(d), Kind::Badges) => d.badges.iter().map(badge_cells).collect(),
            (Some(d), Kind::Hamlets) => d.hamlets.iter().map(hamlet_cells).collect(),
            (Some(d), Kind::Discipline) => d.discipline.iter().map(discipline_cells).collect(),
        }
    };
    if csv_file && let Some(k) = kinds.first() {
        return Ok(csv(k.columns(), rows(*k).into_iter()).into_bytes());
    }
    let sheets: Vec<(Kind, Vec<Vec<String>>)> = kinds.iter().map(|k| (*k, rows(*k))).collect();
    workbook(&sheets)
}

/// What the API reads and writes spreadsheet files with (`importPreview`, `importFile` and
/// their annotated copy, `exportRegistry`): this module's reader and writers.
pub fn api_files(max_bytes: u64) -> memberflow_api::SheetFiles {
    memberflow_api::SheetFiles {
        read: std::sync::Arc::new(read_file),
        write: std::sync::Arc::new(|data, kinds, format| {
            export_file(data, kinds, format == memberflow_api::SheetFormat::Csv)
                .map_err(|e| e.to_string())
        }),
        annotate: std::sync::Arc::new(|sheets, problems| {
            annotated(sheets, problems).map_err(|e| e.to_string())
        }),
        max_bytes: max_bytes.min(MAX_FILE_BYTES),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use memberflow_workflow::import as core;

    #[test]
    fn csv_reads_bom_quotes_and_semicolons() {
        let s = read_csv(
            "a.csv",
            "\u{FEFF}Mã đơn vị;Tên đơn vị\r\nHG;\"Đảng bộ; tỉnh \"\"Hậu Giang\"\"\"\r\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0][0], Cell::Text("Mã đơn vị".into()));
        assert_eq!(
            s.rows[1][1],
            Cell::Text("Đảng bộ; tỉnh \"Hậu Giang\"".into())
        );
    }

    #[test]
    fn csv_records_stream_a_line_at_a_time_through_a_small_buffer() {
        let text = "\u{FEFF}a;b\r\n1;\"two\r\nlines; and \"\"quotes\"\"\"\r\n\r\n3;x";
        let reader = std::io::BufReader::with_capacity(3, text.as_bytes());
        let mut records = CsvRecords::new("s.csv", reader);
        let mut rows = Vec::new();
        while let Some(r) = records.next_record().unwrap() {
            rows.push((records.row(), r));
        }
        let whole = read_csv("s.csv", text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[1].1[1],
            Cell::Text("two\r\nlines; and \"quotes\"".into())
        );
        assert_eq!(rows[2], (3, vec![Cell::Empty]));
        assert_eq!(rows[3].0, 4);
        assert_eq!(
            rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
            whole.rows
        );
        let bad = b"a;b\n1;2\n3;\xe0\n".as_slice();
        let mut records = CsvRecords::new("b.csv", bad);
        assert!(records.next_record().unwrap().is_some());
        assert!(records.next_record().unwrap().is_some());
        let e = records.next_record().unwrap_err();
        assert_eq!((e[0].code, e[0].row), ("ENCODING", 3));
        let mut open = CsvRecords::new("q.csv", b"a;b\n\"1;2\n".as_slice());
        open.next_record().unwrap();
        assert_eq!(open.next_record().unwrap_err()[0].code, "NOT_A_SPREADSHEET");
    }

    #[test]
    fn non_utf8_csv_is_refused_naming_the_line() {
        let mut bytes = b"M\xc3\xa3 \xc4\x91\xc6\xa1n v\xe1\xbb\x8b\n".to_vec();
        bytes.extend(b"HG,\xe0\xe1\n");
        let e = read_csv("a.csv", &bytes).unwrap_err();
        assert_eq!(e[0].code, "ENCODING");
        assert_eq!(e[0].row, 2);
    }

    /// The empty template (`export --template`): a sheet a kind holding only its Vietnamese
    /// headers, then «Hướng dẫn» explaining every column of every kind in both languages.
    #[test]
    fn the_template_has_the_headers_and_a_guide_to_every_column() {
        let kinds = Kind::ALL;
        let sheets = read("mau.xlsx", &export_file(None, &kinds, false).unwrap()).unwrap();
        let text = |row: &[Cell]| row.iter().map(Cell::text).collect::<Vec<_>>();
        assert_eq!(sheets.len(), kinds.len() + 1);
        for (kind, sheet) in kinds.iter().zip(&sheets) {
            assert_eq!(sheet.name, kind.sheet_name());
            let headers: Vec<&str> = kind.columns().iter().map(|c| c.vi).collect();
            assert_eq!(sheet.rows.len(), 1, "{}", sheet.name);
            assert_eq!(text(&sheet.rows[0]), headers);
        }
        let guide = &sheets[kinds.len()];
        assert_eq!(guide.name, "Hướng dẫn");
        let explained: Vec<Vec<String>> = guide.rows.iter().skip(1).map(|r| text(r)).collect();
        let columns = kinds
            .iter()
            .flat_map(|k| k.columns().iter().map(move |c| (k, c)));
        assert_eq!(explained.len(), columns.clone().count());
        for (row, (kind, c)) in explained.iter().zip(columns) {
            assert_eq!(row[..3], [kind.sheet_name(), c.vi, c.en], "{row:?}");
            assert!(!c.help_vi.is_empty() && !c.help_en.is_empty(), "{row:?}");
            assert_eq!(row[4..6], [c.help_vi, c.help_en], "{row:?}");
        }
    }

    /// The annotated copy of a file with problems (`import --report`): the file's rows as
    /// they were, to be fixed and sent back, and a sheet listing every problem with its
    /// sheet, row, column, code and reason in both languages.
    #[test]
    fn the_annotated_copy_keeps_the_rows_and_lists_every_problem() {
        let header: Vec<&str> = core::UNIT_COLUMNS.iter().map(|c| c.vi).collect();
        let text = format!(
            "{}\nHG,Tỉnh,PROVINCE,,31/02/2004,,,\nHG 1,Chi bộ,BRANCH,,2004-01-01,,HG,\n",
            header.join(",")
        );
        let sheets = read("don-vi.csv", text.as_bytes()).unwrap();
        let problems = core::parse_units(&sheets[0]).problems;
        assert_eq!(
            problems.iter().map(|p| (p.row, p.code)).collect::<Vec<_>>(),
            [(2, "BAD_DATE"), (3, "UNKNOWN_CODE")]
        );
        let back = read("loi.xlsx", &annotated(&sheets, &problems).unwrap()).unwrap();
        assert_eq!(back.len(), 2);
        let cells = |s: &Sheet| -> Vec<Vec<String>> {
            let rows = s.rows.iter().map(|r| r.iter().map(Cell::text).collect());
            rows.collect()
        };
        assert_eq!(cells(&back[0]), cells(&sheets[0]));
        assert_eq!(back[1].name, "Lỗi - Problems");
        let listed: Vec<Vec<String>> = cells(&back[1]).into_iter().skip(1).collect();
        let expected: Vec<Vec<String>> = problems
            .iter()
            .map(|p| {
                let (row, column) = (p.row.to_string(), p.column.clone().unwrap_or_default());
                let (vi, en) = (p.reason.vi.clone(), p.reason.en.clone());
                vec![p.sheet.clone(), row, column, p.code.into(), vi, en]
            })
            .collect();
        assert_eq!(listed, expected);
    }

    #[test]
    fn exports_read_back_as_the_same_rows() {
        let m = MemberRow {
            row: 2,
            card: "01234567".into(),
            full_name: "Trần Văn Ánh".into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 1, 2).unwrap(),
            sex: "MALE".into(),
            ethnicity: "Kinh".into(),
            religion: None,
            education: "UPPER_SECONDARY".into(),
            occupation: Some("FARMER".into()),
            admission_decision: chrono::NaiveDate::from_ymd_opt(2004, 1, 1),
            ceremony: chrono::NaiveDate::from_ymd_opt(2004, 1, 1),
            official: chrono::NaiveDate::from_ymd_opt(2005, 1, 1),
            email: None,
            units: core::parse_history(
                "2004-01-01 HG-A REGISTERED; 2010-01-01 HG-B TRANSFERRED",
                |s| Some(s.to_owned()),
                true,
            )
            .unwrap(),
            statuses: core::parse_history(
                "2004-01-01 PROBATIONARY; 2005-01-01 OFFICIAL",
                core::parse_status,
                false,
            )
            .unwrap(),
            residences: Vec::new(),
        };
        let text = csv(core::MEMBER_COLUMNS, std::iter::once(member_cells(&m)));
        let sheets = read("m.csv", text.as_bytes()).unwrap();
        let parsed = core::parse_members(&sheets[0], &|_| 12);
        assert_eq!(parsed.problems, vec![]);
        assert_eq!(parsed.rows, vec![m.clone()]);
        let xlsx = workbook(&[(Kind::Members, vec![member_cells(&m)])]).unwrap();
        let sheets = read("m.xlsx", &xlsx).unwrap();
        let found = core::kinds(&sheets, None);
        assert_eq!(found.len(), 1);
        let parsed = core::parse_members(found[0].1, &|_| 12);
        assert_eq!(parsed.rows, vec![m]);
    }

    #[test]
    fn files_on_disk_and_streamed_workbooks_read_as_their_bytes_do() {
        let units = vec![
            vec![
                "HG".to_owned(),
                "Đảng bộ tỉnh Hậu Giang".to_owned(),
                "PROVINCE".to_owned(),
            ],
            vec!["HG-VT".to_owned(), "Vị Thanh".to_owned(), "CITY".to_owned()],
        ];
        let member = vec!["00000001".to_owned(), "Trần Thị Ánh".to_owned()];
        let whole = workbook(&[
            (Kind::Units, units.clone()),
            (Kind::Members, vec![member.clone()]),
        ])
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.xlsx");
        let mut streamed = StreamedWorkbook::new();
        streamed.begin(Kind::Units).unwrap();
        for r in &units {
            streamed.row(r).unwrap();
        }
        streamed.begin(Kind::Members).unwrap();
        streamed.row(&member).unwrap();
        streamed.finish(&path).unwrap();
        let from_file = read_file("s.xlsx", std::fs::File::open(&path).unwrap()).unwrap();
        assert_eq!(from_file, read("s.xlsx", &whole).unwrap());
        assert_eq!(from_file.len(), 3);
        // CSV and refusals, from a file as from bytes.
        let csv_path = dir.path().join("u.csv");
        let text = csv(core::UNIT_COLUMNS, units.into_iter());
        std::fs::write(&csv_path, &text).unwrap();
        assert_eq!(
            read_file("u.csv", std::fs::File::open(&csv_path).unwrap()).unwrap(),
            read("u.csv", text.as_bytes()).unwrap()
        );
        std::fs::write(&csv_path, b"%PDF-1.4\n\x00\x01").unwrap();
        assert_eq!(
            read_file("u.csv", std::fs::File::open(&csv_path).unwrap()).unwrap_err()[0].code,
            "NOT_A_SPREADSHEET"
        );
    }

    #[test]
    fn formulas_and_merged_cells_are_refused_where_they_are() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, "Mã đơn vị").unwrap();
        ws.write_formula(1, 0, "=1+1").unwrap();
        ws.merge_range(2, 0, 3, 1, "HG", &Format::new()).unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let e = read("f.xlsx", &bytes).unwrap_err();
        let codes: Vec<(&str, usize)> = e.iter().map(|p| (p.code, p.row)).collect();
        assert!(codes.contains(&("FORMULA", 2)), "{codes:?}");
        assert!(codes.contains(&("MERGED_CELLS", 3)), "{codes:?}");
        assert_eq!(
            read("x.xlsx", b"PK\x03\x04garbage").unwrap_err()[0].code,
            "NOT_A_SPREADSHEET"
        );
    }
}
