//! `memberflow report … --format xlsx`: the same rows as the CSV, as a workbook committees can
//! open in a spreadsheet — numbers as numbers, the header bold and frozen, columns fitted — and,
//! for the target report, a second sheet with the unit's admissions against the target band
//! over the years as a native chart (columns for the admissions, lines for 3% and 4%).

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, XlsxError};

use crate::report::ChartYear;

/// Splits one CSV line (RFC 4180 quoting) into fields.
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

/// A number, when the field is one (codes such as `HG-01` and `-` stay text).
fn number(field: &str) -> Option<f64> {
    let f = field.trim();
    if f.is_empty()
        || f.starts_with('+')
        || (f.len() > 1 && f.starts_with('0') && !f.starts_with("0."))
    {
        return None;
    }
    f.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(s: &str) -> String {
    s.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// A workbook with `csv` (header line first) on a sheet named `title`, and `chart` on a
/// second sheet when given: `(sheet name, chart title, labels, years)`, labels being the
/// headers of the year, admissions, floor and ceiling columns.
pub fn workbook(
    title: &str,
    csv: &str,
    chart: Option<(&str, &str, [&str; 4], &[ChartYear])>,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(title))?;
    for (r, line) in csv.lines().enumerate() {
        let row = u32::try_from(r).unwrap_or(u32::MAX);
        for (c, field) in csv_fields(line).iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            if r == 0 {
                ws.write_string_with_format(row, col, field, &bold)?;
            } else if let Some(n) = number(field) {
                ws.write_number(row, col, n)?;
            } else {
                ws.write_string(row, col, field)?;
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofit();
    if let Some((name, chart_title, labels, years)) = chart {
        let name = sheet_name(name);
        let ws = wb.add_worksheet();
        ws.set_name(&name)?;
        for (c, l) in labels.iter().enumerate() {
            ws.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *l, &bold)?;
        }
        for (i, y) in years.iter().enumerate() {
            let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
            ws.write_number(row, 0, f64::from(y.year))?;
            ws.write_number(row, 1, y.admitted as f64)?;
            ws.write_number(row, 2, y.target_low as f64)?;
            ws.write_number(row, 3, y.target_high as f64)?;
        }
        ws.autofit();
        let last = u32::try_from(years.len()).unwrap_or(0).max(1);
        let mut columns = Chart::new(ChartType::Column);
        columns
            .add_series()
            .set_name((name.as_str(), 0, 1))
            .set_categories((name.as_str(), 1, 0, last, 0))
            .set_values((name.as_str(), 1, 1, last, 1));
        let mut lines = Chart::new(ChartType::Line);
        for col in [2u16, 3] {
            lines
                .add_series()
                .set_name((name.as_str(), 0, col))
                .set_categories((name.as_str(), 1, 0, last, 0))
                .set_values((name.as_str(), 1, col, last, col));
        }
        columns.combine(&lines);
        columns.title().set_name(chart_title);
        ws.insert_chart(1, 5, &columns)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_are_split_with_their_quotes_and_numbers_recognized() {
        assert_eq!(
            csv_fields("HG,\"Chi bộ \"\"A\"\", ấp 1\",12,3.50,-"),
            vec!["HG", "Chi bộ \"A\", ấp 1", "12", "3.50", "-"]
        );
        assert_eq!(number("12"), Some(12.0));
        assert_eq!(number("3.50"), Some(3.5));
        assert_eq!(number("0.4"), Some(0.4));
        assert_eq!(number("-"), None);
        assert_eq!(number("007"), None);
        assert_eq!(number("HG-01"), None);
    }

    #[test]
    fn a_workbook_is_a_zip_with_its_sheets_and_chart() {
        let years = [
            ChartYear {
                year: 2021,
                base: 100,
                admitted: 3,
                target_low: 3,
                target_high: 4,
            },
            ChartYear {
                year: 2022,
                base: 110,
                admitted: 2,
                target_low: 4,
                target_high: 5,
            },
        ];
        let bytes = workbook(
            "Chỉ tiêu 2022",
            "Mã,Đơn vị,Số\nHG,Hậu Giang,12\n",
            Some(("Biểu đồ", "Kết nạp", ["Năm", "Kết nạp", "3%", "4%"], &years)),
        )
        .unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("xl/charts/chart1.xml"), "no chart part");
        assert!(text.contains("xl/worksheets/sheet2.xml"));
    }
}
