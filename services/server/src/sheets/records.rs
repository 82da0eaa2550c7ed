//! CSV read a record at a time from any reader (docs/import.md, «Files»): UTF-8 with or
//! without a byte-order mark, comma- or semicolon-separated (whichever the header line uses
//! more), RFC 4180 quotes (a quoted field may hold the separator or line breaks). The file is
//! read a line at a time, so memory holds one record whatever the file's length; a line that
//! is not UTF-8 stops the reading with its number (a UTF-8 sequence never holds a line feed,
//! so each line is checked by itself).

use std::collections::VecDeque;
use std::io::BufRead;

use memberflow_workflow::import::{Cell, Problem};
use memberflow_workflow::text::Text;

use super::{file_problem, not_a_spreadsheet};

/// Records of a CSV file, read as they are asked for.
pub struct CsvRecords<R> {
    name: String,
    reader: R,
    sep: Option<u8>,
    /// Physical lines read.
    line: usize,
    /// Records given out (the header is record 1).
    record: usize,
    ready: VecDeque<Vec<Cell>>,
    field: Vec<u8>,
    row: Vec<Cell>,
    quoted: bool,
    was_quoted: bool,
    at_end: bool,
    buf: Vec<u8>,
}

impl<R: BufRead> CsvRecords<R> {
    /// Records of the file `name` (problems name it) read from `reader`.
    pub fn new(name: &str, reader: R) -> Self {
        Self {
            name: name.to_owned(),
            reader,
            sep: None,
            line: 0,
            record: 0,
            ready: VecDeque::new(),
            field: Vec::new(),
            row: Vec::new(),
            quoted: false,
            was_quoted: false,
            at_end: false,
            buf: Vec::new(),
        }
    }

    /// The row number (as a spreadsheet numbers it: the header is 1) of the record last
    /// given.
    pub fn row(&self) -> usize {
        self.record
    }

    /// The next record, `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Vec<Cell>>, Vec<Problem>> {
        while self.ready.is_empty() && !self.at_end {
            self.read_line()?;
        }
        let r = self.ready.pop_front();
        if r.is_some() {
            self.record += 1;
        }
        Ok(r)
    }

    fn read_line(&mut self) -> Result<(), Vec<Problem>> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf).map_err(|e| {
            vec![file_problem(
                &self.name,
                "NOT_A_SPREADSHEET",
                Text::new(
                    format!("Không đọc được tệp: {e}."),
                    format!("The file could not be read: {e}."),
                ),
            )]
        })?;
        if n == 0 {
            self.at_end = true;
            if self.quoted {
                return Err(vec![file_problem(
                    &self.name,
                    "NOT_A_SPREADSHEET",
                    Text::new(
                        "Tệp CSV có dấu ngoặc kép không đóng.",
                        "The CSV file has an unclosed quote.",
                    ),
                )]);
            }
            if !self.field.is_empty() || !self.row.is_empty() {
                self.end_field();
                self.ready.push_back(std::mem::take(&mut self.row));
            }
            return Ok(());
        }
        self.line += 1;
        let bytes = std::mem::take(&mut self.buf);
        let result = self.take_line(&bytes);
        self.buf = bytes;
        result
    }

    fn take_line(&mut self, bytes: &[u8]) -> Result<(), Vec<Problem>> {
        let mut start = 0;
        if self.line == 1 {
            if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                return Err(vec![file_problem(
                    &self.name,
                    "ENCODING",
                    Text::new(
                        "Tệp mã hóa UTF-16: hãy lưu thành CSV UTF-8.",
                        "The file is UTF-16: save it as UTF-8 CSV.",
                    ),
                )]);
            }
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                start = 3;
            }
        }
        let line = &bytes[start..];
        if std::str::from_utf8(line).is_err() {
            let n = self.line;
            return Err(vec![Problem {
                sheet: self.name.clone(),
                row: n,
                column: None,
                code: "ENCODING",
                reason: Text::new(
                    format!(
                        "Tệp không phải UTF-8 (byte không hợp lệ ở dòng {n}; có thể là TCVN3 hoặc Windows-1258): hãy lưu thành CSV UTF-8."
                    ),
                    format!(
                        "The file is not UTF-8 (an invalid byte on line {n}; TCVN3 or Windows-1258?): save it as UTF-8 CSV."
                    ),
                ),
            }]);
        }
        if line.contains(&0) {
            return Err(vec![not_a_spreadsheet(&self.name)]);
        }
        let sep = *self.sep.get_or_insert_with(|| {
            let count = |c: u8| line.iter().filter(|b| **b == c).count();
            if count(b';') > count(b',') {
                b';'
            } else {
                b','
            }
        });
        let mut i = 0;
        while i < line.len() {
            let b = line[i];
            let next = line.get(i + 1).copied();
            i += 1;
            if self.quoted {
                match b {
                    b'"' if next == Some(b'"') => {
                        self.field.push(b'"');
                        i += 1;
                    }
                    b'"' => self.quoted = false,
                    b => self.field.push(b),
                }
                continue;
            }
            match b {
                b'"' if self.field.is_empty() && !self.was_quoted => {
                    self.quoted = true;
                    self.was_quoted = true;
                }
                b if b == sep => {
                    self.end_field();
                    self.was_quoted = false;
                }
                b'\r' if next == Some(b'\n') => {}
                b'\n' | b'\r' => {
                    self.end_field();
                    self.ready.push_back(std::mem::take(&mut self.row));
                    self.was_quoted = false;
                }
                b => self.field.push(b),
            }
        }
        Ok(())
    }

    fn end_field(&mut self) {
        let f = std::mem::take(&mut self.field);
        self.row.push(if f.is_empty() {
            Cell::Empty
        } else {
            // Whole lines are UTF-8 and the separators ASCII: so is every field.
            Cell::Text(
                String::from_utf8(f)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            )
        });
    }
}
