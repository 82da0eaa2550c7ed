//! `memberflow report … --format xlsx`: the report's typed rows as a workbook committees can
//! open in a spreadsheet — counts and rates as numbers, the header bold and frozen, columns
//! fitted, one sheet per table (the target report's units at risk on a sheet of their own) —
//! and,
//! for the target report, a second sheet with the unit's admissions against the target band
//! over the years as a native chart (columns for the admissions, lines for 3% and 4%).

use rust_xlsxwriter::{Chart, ChartType, Format, Workbook, XlsxError};

use crate::report::{Cell, ChartYear, Sheet};

/// Sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(s: &str) -> String {
    s.chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// A workbook with `sheets`, and `chart` on a further sheet when given: `(sheet name, chart
/// title, labels, years)`, labels being the headers of the year, admissions, floor and
/// ceiling columns.
pub fn workbook(
    sheets: &[Sheet],
    chart: Option<(&str, &str, [&str; 4], &[ChartYear])>,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let rate = Format::new().set_num_format("0.00");
    for sheet in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&sheet.name))?;
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, u16::try_from(c).unwrap_or(u16::MAX), h, &bold)?;
        }
        for (r, cells) in sheet.rows.iter().enumerate() {
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in cells.iter().enumerate() {
                let col = u16::try_from(c).unwrap_or(u16::MAX);
                match cell {
                    Cell::Text(t) => ws.write_string(row, col, t)?,
                    #[allow(clippy::cast_precision_loss)] // counts of people
                    Cell::Int(n) => ws.write_number(row, col, *n as f64)?,
                    Cell::Num(x) => ws.write_number_with_format(row, col, *x, &rate)?,
                };
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
    }
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
        let sheets = [
            Sheet {
                name: "Chỉ tiêu 2022".into(),
                header: vec!["Mã".into(), "Đơn vị".into(), "Số".into(), "Tỷ lệ".into()],
                rows: vec![vec![
                    Cell::Text("HG".into()),
                    Cell::Text("Hậu Giang".into()),
                    Cell::Int(12),
                    Cell::Num(3.5),
                ]],
            },
            Sheet {
                name: "Nguy cơ".into(),
                header: vec!["Mã".into()],
                rows: vec![vec![Cell::Text("HG-01".into())]],
            },
        ];
        let bytes = workbook(
            &sheets,
            Some(("Biểu đồ", "Kết nạp", ["Năm", "Kết nạp", "3%", "4%"], &years)),
        )
        .unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("xl/charts/chart1.xml"), "no chart part");
        assert!(text.contains("xl/worksheets/sheet3.xml"));
    }
}
