//! `memberflow import` and `export` through the real binary (docs/import.md): the demo
//! province exported and imported into an empty database gives the same reports and passes
//! `check --stats`; a second import changes nothing; a changed row is a dated change and a
//! different past is refused; bad files — not UTF-8, not a spreadsheet, formulas, merged
//! cells, bad dates, duplicates, unknown units, too large — get coded problems and write
//! nothing; `--accept-partial` writes the good rows.

use std::process::{Command, Output};

use memberflow_tests::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_memberflow-under-test");

fn memberflow(db: &str, dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("MEMBERFLOW_CONFIG")
        .env_remove("RUST_LOG")
        .env("MEMBERFLOW_DATABASE_URL", db)
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: Output) -> String {
    assert!(!out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(s.contains("refused: nothing written"), "{s}");
    s
}

#[tokio::test]
async fn the_demo_province_round_trips_through_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (TestDb::create().await, TestDb::create().await);
    let d = dir.path();
    ok(memberflow(a.url(), d, &["demo", "hau-giang-2023"]));
    ok(memberflow(a.url(), d, &["export", "--output", "hg.xlsx"]));
    let out = ok(memberflow(b.url(), d, &["import", "hg.xlsx"]));
    assert!(
        out.contains("units: 2260 new, 0 changed, 0 unchanged; members: 34931 new"),
        "{out}"
    );
    for report in [
        &["report", "members", "--on", "2023-06-30"][..],
        &["report", "targets", "--year", "2022"],
        &["report", "targets", "--year", "2019"],
        &["report", "units", "--on", "2023-10-31"],
        &["report", "units", "--on", "2018-01-01"],
        &[
            "report",
            "admissions",
            "--from",
            "2018-01-01",
            "--to",
            "2023-06-30",
        ],
        &[
            "report",
            "badges",
            "--from",
            "1990-01-01",
            "--to",
            "2026-12-31",
        ],
        &["report", "hamlets-without", "--on", "2023-06-30"],
        &["report", "hamlets-without", "--on", "2018-01-01"],
        &[
            "report",
            "discipline",
            "--from",
            "2018-01-01",
            "--to",
            "2023-06-30",
        ],
        &[
            "report",
            "discipline",
            "--from",
            "2021-01-01",
            "--to",
            "2021-12-31",
        ],
    ] {
        let (ra, rb) = (
            ok(memberflow(a.url(), d, report)),
            ok(memberflow(b.url(), d, report)),
        );
        assert_eq!(ra, rb, "{report:?}");
    }
    ok(memberflow(b.url(), d, &["check", "--stats"]));
    // The holders of the roles the province's mail is addressed to, with their addresses.
    let holders = kind_in(a.url(), d, "role-holders");
    assert!(holders.len() > 2000, "{}", holders.len());
    assert!(
        holders
            .iter()
            .any(|h| h.contains(",secretary,") && h.contains("@example.vn,")),
        "{holders:?}"
    );
    assert!(
        out.contains(&format!(
            "role holders: {} new, 0 changed, 0 unchanged",
            holders.len()
        )),
        "{out}"
    );
    assert_eq!(kind_in(b.url(), d, "role-holders"), holders);
    // The party badges, by card number and years, with their days.
    let badges = badges_in(a.url(), d);
    assert!(badges.len() > 100, "{}", badges.len());
    assert!(
        out.contains(&format!("badges: {} new, 0 unchanged", badges.len())),
        "{out}"
    );
    assert_eq!(badges_in(b.url(), d), badges);
    // The hamlets with their branches over time, and the members' residences.
    let hamlets = kind_in(a.url(), d, "hamlets");
    assert!(hamlets.len() > 700, "{}", hamlets.len());
    assert!(
        out.contains(&format!(
            "hamlets: {} new, 0 changed, 0 unchanged",
            hamlets.len()
        )),
        "{out}"
    );
    assert_eq!(kind_in(b.url(), d, "hamlets"), hamlets);
    let members = kind_in(a.url(), d, "members");
    assert!(
        members.iter().filter(|m| m.contains(" SET")).count() > 18_000,
        "the residences are exported"
    );
    assert_eq!(kind_in(b.url(), d, "members"), members);
    // The discipline register, by card number, decision date and form, with its statuses,
    // every record with its decision's number and deciding body (the cases' effect fills them;
    // the branch decides a reprimand or a warning, the district's standing committee the rest).
    let discipline = kind_in(a.url(), d, "discipline");
    assert!(discipline.len() > 50, "{}", discipline.len());
    for record in &discipline {
        let cells: Vec<&str> = record.split(',').collect();
        assert!(cells.len() == 8 && cells[2].ends_with("-QĐ/KL"), "{record}");
        let decider = match cells[1] {
            "REPRIMAND" | "WARNING" => ["BRANCH", "BRANCH"],
            _ => ["STANDING_COMMITTEE", "SUPERIOR"],
        };
        assert_eq!(cells[3..5], decider, "{record}");
    }
    assert!(
        out.contains(&format!(
            "discipline: {} new, 0 changed, 0 unchanged",
            discipline.len()
        )),
        "{out}"
    );
    assert_eq!(kind_in(b.url(), d, "discipline"), discipline);
    // Again: nothing changes.
    let out = ok(memberflow(b.url(), d, &["import", "hg.xlsx"]));
    assert!(
        out.contains("units: 0 new, 0 changed, 2260 unchanged; members: 0 new, 0 changed, 34931 unchanged; 0 problem(s)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "role holders: 0 new, 0 changed, {} unchanged",
            holders.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("badges: 0 new, {} unchanged", badges.len())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "hamlets: 0 new, 0 changed, {} unchanged",
            hamlets.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "discipline: 0 new, 0 changed, {} unchanged",
            discipline.len()
        )),
        "{out}"
    );
    ok(memberflow(b.url(), d, &["check", "--stats"]));

    // The same province as two CSV files, the members' read streamed in batches (check, then
    // write): the same registry.
    let c = TestDb::create().await;
    for kind in ["units", "hamlets", "members"] {
        let file = format!("{kind}.csv");
        ok(memberflow(
            a.url(),
            d,
            &[
                "export", "--kind", kind, "--format", "csv", "--output", &file,
            ],
        ));
    }
    ok(memberflow(c.url(), d, &["import", "units.csv"]));
    ok(memberflow(c.url(), d, &["import", "hamlets.csv"]));
    let streamed = memberflow(
        c.url(),
        d,
        &["import", "members.csv", "--batch-rows", "4000"],
    );
    let err = String::from_utf8_lossy(&streamed.stderr).into_owned();
    let out = ok(streamed);
    assert!(
        out.contains("members: 34931 new, 0 changed, 0 unchanged; 0 problem(s)"),
        "{out}"
    );
    assert!(
        err.contains("check: 34931 rows read, 34931 checked")
            && err.contains("write: 34931 rows read, 34931 checked, 34931 written"),
        "{err}"
    );
    for report in [
        &["report", "members", "--on", "2023-06-30"][..],
        &["report", "targets", "--year", "2022"],
        &[
            "report",
            "admissions",
            "--from",
            "2018-01-01",
            "--to",
            "2023-06-30",
        ],
        &["report", "hamlets-without", "--on", "2023-06-30"],
    ] {
        assert_eq!(
            ok(memberflow(a.url(), d, report)),
            ok(memberflow(c.url(), d, report)),
            "{report:?}"
        );
    }
    ok(memberflow(c.url(), d, &["check", "--stats"]));
    let out = ok(memberflow(c.url(), d, &["import", "members.csv"]));
    assert!(
        out.contains("members: 0 new, 0 changed, 34931 unchanged; 0 problem(s)"),
        "{out}"
    );
}

const UNITS: &str = "\u{FEFF}Mã đơn vị,Tên đơn vị,Loại,Phân loại chi bộ,Từ ngày,Đến ngày,Đơn vị cấp trên,Hợp nhất vào
HG-VT-1,Chi bộ cơ sở số 1,Chi bộ cơ sở,,2004-01-01,,HG-VT,
HG-VT-2,Chi bộ cơ sở số 2,GRASSROOTS_BRANCH,,01/01/2004,,HG-VT,
HG-VT,\"Đảng bộ thành phố Vị Thanh, Hậu Giang\",CITY,,2004-01-01,,HG,
HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,2004-01-01,,,
";

const MEMBERS_HEADER: &str = "Số thẻ đảng viên;Họ và tên;Ngày sinh;Giới tính;Dân tộc;Tôn giáo;Trình độ học vấn;Nghề nghiệp;Ngày quyết định kết nạp;Ngày lễ kết nạp;Ngày công nhận chính thức;Chi bộ;Sinh hoạt từ ngày;Tình trạng;Lịch sử sinh hoạt";

/// Two good members: dd/mm/yyyy and an Excel serial date (29221 = 1980-01-01) among them.
fn good_members() -> String {
    format!(
        "{MEMBERS_HEADER}
0100001;Nguyễn Văn An;15/03/1980;Nam;Kinh;;Trung học phổ thông;FARMER;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức;
0100002;Trần Thị Bích;29221;Nữ;Khmer;Phật giáo;UPPER_SECONDARY;;2012-05-10;2012-06-01;;HG-VT-1;2012-06-01;Dự bị;
"
    )
}

#[tokio::test]
async fn bad_files_get_coded_problems_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    let write = |name: &str, bytes: &[u8]| std::fs::write(d.join(name), bytes).unwrap();

    // Templates: a workbook with the two sheets and the explanations; CSV with a BOM.
    ok(memberflow(
        db,
        d,
        &["export", "--template", "--output", "t.xlsx"],
    ));
    assert!(std::fs::read(d.join("t.xlsx")).unwrap().starts_with(b"PK"));
    let t = ok(memberflow(
        db,
        d,
        &["export", "--template", "--kind", "units", "--format", "csv"],
    ));
    assert!(t.starts_with("\u{FEFF}Mã đơn vị,Tên đơn vị,Loại"), "{t}");

    // Units (children before their parents), then members; dry runs first write nothing.
    write("units.csv", UNITS.as_bytes());
    write("members.csv", good_members().as_bytes());
    let out = ok(memberflow(db, d, &["import", "units.csv", "--dry-run"]));
    assert!(out.contains("units: 4 new"), "{out}");
    assert!(out.contains("dry run"), "{out}");
    let out = ok(memberflow(db, d, &["import", "units.csv"]));
    assert!(
        out.contains("units: 4 new") && out.contains("written"),
        "{out}"
    );
    ok(memberflow(db, d, &["import", "members.csv", "--dry-run"]));
    assert!(kind_in(db, d, "members").is_empty());
    let out = ok(memberflow(db, d, &["import", "members.csv"]));
    assert!(out.contains("members: 2 new"), "{out}");
    let members = kind_in(db, d, "members");
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(members[1].contains("1980-01-01"), "{members:?}");
    assert!(members[0].contains("1980-03-15"), "{members:?}");

    // Every problem at once, with its row and column; nothing written; an annotated file.
    let bad = format!(
        "{MEMBERS_HEADER}
0100003;Lê Văn Cường;1985-01-01;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-XX;2015-01-01;Chính thức;
0100003;Nguyễn Văn An;15/03/1980;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức;
0100004;Phạm Thị Dung;31/02/1980;Không rõ;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức;
0100005;Võ Văn Em;1985-01-01;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT;2015-01-01;Chính thức;
0100006;Đỗ Thị Giang;1985-01-01;Nữ;Kinh;;;;2010-05-10;2010-06-01;2011-09-01;HG-VT-2;2015-01-01;Chính thức;
0100007;Hồ Văn Hải;1986-02-02;Nam;Kinh;;;;2011-05-10;2011-06-01;2012-06-01;HG-VT-2;2015-01-01;Chính thức;
"
    );
    write("bad.csv", bad.as_bytes());
    let out = refused(memberflow(
        db,
        d,
        &["import", "bad.csv", "--report", "bad-report.xlsx"],
    ));
    for (row, column, code) in [
        (2, "Chi bộ", "UNKNOWN_UNIT"),
        (3, "Số thẻ đảng viên", "DUPLICATE"),
        (4, "Ngày sinh", "BAD_DATE"),
        (4, "Giới tính", "UNKNOWN_CODE"),
        (5, "Chi bộ", "TREE"),
        (6, "Ngày quyết định kết nạp", "ADMISSION_DATES"),
    ] {
        let line = format!("bad.csv dòng/row {row}, cột/column «{column}»: {code}");
        assert!(out.contains(&line), "{line} not in\n{out}");
    }
    assert!(
        std::fs::read(d.join("bad-report.xlsx"))
            .unwrap()
            .starts_with(b"PK")
    );
    assert_eq!(kind_in(db, d, "members").len(), 2);

    // --accept-partial writes the good row (0100007) and reports the others.
    let out = ok(memberflow(
        db,
        d,
        &["import", "bad.csv", "--accept-partial"],
    ));
    assert!(out.contains("members: 1 new"), "{out}");
    assert!(out.contains("UNKNOWN_UNIT"), "{out}");
    assert_eq!(kind_in(db, d, "members").len(), 3);

    // A dated change: 0100001 moves to HG-VT-2 on 1/1/2020; the past stays.
    let moved = good_members().replace(
        "HG-VT-1;2015-01-01;Chính thức;\n0100002",
        "HG-VT-1;2015-01-01;Chính thức;\"2015-01-01 HG-VT-1 REGISTERED; 2020-01-01 HG-VT-2 TRANSFERRED\"\n0100002",
    );
    write("moved.csv", moved.as_bytes());
    let out = ok(memberflow(db, d, &["import", "moved.csv"]));
    assert!(
        out.contains("members: 0 new, 1 changed, 1 unchanged"),
        "{out}"
    );
    let members = kind_in(db, d, "members");
    assert!(
        members
            .iter()
            .any(|m| m.contains("2015-01-01 HG-VT-1 REGISTERED; 2020-01-01 HG-VT-2 TRANSFERRED")),
        "{members:?}"
    );
    let out = ok(memberflow(db, d, &["import", "moved.csv"]));
    assert!(out.contains("0 changed, 2 unchanged"), "{out}");
    // A different past is refused.
    let rewritten = moved.replace(
        "2015-01-01 HG-VT-1 REGISTERED",
        "2014-01-01 HG-VT-1 REGISTERED",
    );
    write("rewritten.csv", rewritten.as_bytes());
    let out = refused(memberflow(db, d, &["import", "rewritten.csv"]));
    assert!(out.contains("HISTORY_REWRITE"), "{out}");
    ok(memberflow(db, d, &["check", "--stats"]));

    // Files that are not what they should be.
    let mut latin = MEMBERS_HEADER.as_bytes().to_vec();
    latin.extend(b"\n0100008;Nguy\xean V\xe3n;1980-01-01\n");
    write("cp1258.csv", &latin);
    let out = refused(memberflow(db, d, &["import", "cp1258.csv"]));
    assert!(out.contains("ENCODING") && out.contains("UTF-8"), "{out}");
    write("scan.pdf", b"%PDF-1.4\n\x00\x01\x02binary");
    let out = refused(memberflow(db, d, &["import", "scan.pdf"]));
    assert!(out.contains("NOT_A_SPREADSHEET"), "{out}");
    write("broken.xlsx", b"PK\x03\x04 not really a workbook");
    let out = refused(memberflow(db, d, &["import", "broken.xlsx"]));
    assert!(out.contains("NOT_A_SPREADSHEET"), "{out}");
    let big = std::fs::File::create(d.join("big.csv")).unwrap();
    big.set_len(201 * 1024 * 1024).unwrap();
    let out = refused(memberflow(db, d, &["import", "big.csv"]));
    assert!(out.contains("FILE_TOO_LARGE"), "{out}");

    // Formulas and merged cells in a workbook.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in MEMBERS_HEADER.split(';').enumerate() {
        ws.write_string(0, c as u16, h).unwrap();
    }
    ws.write_string(1, 0, "0100009").unwrap();
    ws.write_formula(1, 2, "=DATE(1980,1,1)").unwrap();
    ws.merge_range(2, 11, 3, 11, "HG-VT-1", &rust_xlsxwriter::Format::new())
        .unwrap();
    wb.save(d.join("formulas.xlsx")).unwrap();
    let out = refused(memberflow(db, d, &["import", "formulas.xlsx"]));
    assert!(out.contains("dòng/row 2, cột/column «C»: FORMULA"), "{out}");
    assert!(
        out.contains("dòng/row 3, cột/column «L»: MERGED_CELLS"),
        "{out}"
    );
    assert_eq!(kind_in(db, d, "members").len(), 3);
}

/// A members CSV file is read streamed, a batch of rows at a time (`--batch-rows 2` here):
/// the progress of each reading on standard error, a card number given again in a later
/// batch refused on its later row (its count taken back), nothing written until the whole
/// file passes, `--accept-partial` writing the rest in one transaction.
#[tokio::test]
async fn a_members_csv_file_streams_in_batches_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    std::fs::write(d.join("units.csv"), UNITS).unwrap();
    ok(memberflow(db, d, &["import", "units.csv"]));
    // 0100001 again on row 7, three batches later; row 6 has a bad date; row 5 is blank.
    let file = format!(
        "{}0100003;Lê Văn Cường;1985-01-01;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT-2;2015-01-01;Chính thức;\n;;;;\n0100004;Phạm Thị Dung;31/02/1980;Nữ;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức;\n0100001;Nguyễn Văn An;15/03/1980;Nam;Kinh;;;;2010-05-10;2010-06-01;2011-06-01;HG-VT-1;2015-01-01;Chính thức;\n",
        good_members()
    );
    std::fs::write(d.join("m.csv"), &file).unwrap();
    let run = |args: &[&str]| {
        let mut all = vec!["import", "m.csv", "--batch-rows", "2"];
        all.extend_from_slice(args);
        memberflow(db, d, &all)
    };
    let o = run(&[]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let out = refused(o);
    assert!(
        out.contains("m.csv dòng/row 6, cột/column «Ngày sinh»: BAD_DATE"),
        "{out}"
    );
    assert!(
        out.contains("m.csv dòng/row 7, cột/column «Số thẻ đảng viên»: DUPLICATE")
            && out.contains("already appears on row 2"),
        "{out}"
    );
    assert!(
        out.contains("members: 3 new, 0 changed, 0 unchanged; 2 problem(s)"),
        "{out}"
    );
    assert!(
        err.contains("check: 5 rows read, 5 checked, 0 written")
            && err.contains("duplicates: 5 rows read"),
        "{err}"
    );
    assert!(kind_in(db, d, "members").is_empty());
    let out = ok(run(&["--dry-run", "--accept-partial"]));
    assert!(out.contains("members: 3 new"), "{out}");
    assert!(kind_in(db, d, "members").is_empty());
    let o = run(&["--accept-partial"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let out = ok(o);
    assert!(
        out.contains("members: 3 new") && out.contains("written"),
        "{out}"
    );
    assert!(
        err.contains("write: 5 rows read, 5 checked, 3 written"),
        "{err}"
    );
    let members = kind_in(db, d, "members");
    assert_eq!(members.len(), 3, "{members:?}");
    ok(memberflow(db, d, &["check", "--stats"]));
    let out = ok(run(&["--accept-partial"]));
    assert!(
        out.contains("members: 0 new, 0 changed, 3 unchanged"),
        "{out}"
    );
    // A file whose header is not the template's is refused before any row.
    std::fs::write(
        d.join("h.csv"),
        "Số thẻ đảng viên;Họ và tên;Cột lạ\n1;A;x\n",
    )
    .unwrap();
    let out = refused(memberflow(db, d, &["import", "h.csv"]));
    assert!(
        out.contains("UNKNOWN_COLUMN") && out.contains("MISSING_COLUMN"),
        "{out}"
    );
}

const ROLES_HEADER: &str =
    "Tên đăng nhập;Vai trò;Mã đơn vị;Số thẻ đảng viên;Thư điện tử;Từ ngày;Đến ngày";

fn badges_in(db: &str, dir: &std::path::Path) -> Vec<String> {
    ok(memberflow(
        db,
        dir,
        &["export", "--kind", "badges", "--format", "csv"],
    ))
    .lines()
    .skip(1)
    .map(str::to_owned)
    .collect()
}

/// Each of `refusals` (row, problem code) is on a line of the import's report `out`.
fn assert_rows_refused(out: &str, refusals: &[(usize, &str)]) {
    for (row, code) in refusals {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("dòng/row {row},")) && l.contains(code)),
            "row {row} {code}: {out}"
        );
    }
}

/// The rows of `kind` as `export --format csv` writes them, the header left out.
fn kind_in(db: &str, dir: &std::path::Path, kind: &str) -> Vec<String> {
    ok(memberflow(
        db,
        dir,
        &["export", "--kind", kind, "--format", "csv"],
    ))
    .lines()
    .skip(1)
    .map(str::to_owned)
    .collect()
}

/// The header of the CSV template of `kind`, without its byte order mark.
fn template_header(db: &str, dir: &std::path::Path, kind: &str) -> String {
    let out = ok(memberflow(
        db,
        dir,
        &["export", "--template", "--kind", kind, "--format", "csv"],
    ));
    out.trim_start_matches('\u{FEFF}').trim_end().to_owned()
}

#[tokio::test]
async fn role_holders_import_as_dated_grants_and_export_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    std::fs::write(d.join("units.csv"), UNITS).unwrap();
    ok(memberflow(db, d, &["import", "units.csv"]));
    std::fs::write(d.join("members.csv"), good_members()).unwrap();
    ok(memberflow(db, d, &["import", "members.csv"]));

    // The template: Vietnamese headers, and the explanations in the workbook.
    assert_eq!(
        template_header(db, d, "role-holders"),
        ROLES_HEADER.replace(';', ",")
    );
    ok(memberflow(
        db,
        d,
        &["export", "--template", "--output", "mau.xlsx"],
    ));
    let template = std::fs::read(d.join("mau.xlsx")).unwrap();
    assert!(
        String::from_utf8_lossy(&template).contains("xl/worksheets/sheet4.xml"),
        "three sheets of rows, then the explanations"
    );

    // Two holders, one a member (by card), one everywhere in the province; a dry run first.
    let first = format!(
        "{ROLES_HEADER}
bithu.vt1;secretary;HG-VT-1;0100001;bithu.vt1@example.vn;2020-01-01;
tochuc.hg;Ban Tổ chức;HG;;tochuc.hg@example.vn;01/06/2021;
"
    );
    std::fs::write(d.join("roles.csv"), &first).unwrap();
    let out = ok(memberflow(db, d, &["import", "roles.csv", "--dry-run"]));
    assert!(
        out.contains("role holders: 2 new, 0 changed, 0 unchanged") && out.contains("dry run"),
        "{out}"
    );
    assert!(kind_in(db, d, "role-holders").is_empty());
    let out = ok(memberflow(db, d, &["import", "roles.csv"]));
    assert!(
        out.contains("role holders: 2 new") && out.contains("written"),
        "{out}"
    );
    assert_eq!(
        kind_in(db, d, "role-holders"),
        vec![
            "bithu.vt1,secretary,HG-VT-1,0100001,bithu.vt1@example.vn,2020-01-01,",
            "tochuc.hg,organization_department,HG,,tochuc.hg@example.vn,2021-06-01,",
        ]
    );
    // Idempotent.
    let out = ok(memberflow(db, d, &["import", "roles.csv"]));
    assert!(
        out.contains("role holders: 0 new, 0 changed, 2 unchanged"),
        "{out}"
    );

    // A dated change: the secretary's term ends, a new one begins; an address corrected.
    let second = format!(
        "{ROLES_HEADER}
bithu.vt1;secretary;HG-VT-1;0100001;bithu.vt1@example.vn;2020-01-01;2024-01-01
bithu.vt1b;secretary;HG-VT-1;0100002;;2024-01-01;
tochuc.hg;organization_department;HG;;ban.tochuc@example.vn;2021-06-01;
"
    );
    std::fs::write(d.join("roles2.csv"), &second).unwrap();
    let out = ok(memberflow(db, d, &["import", "roles2.csv"]));
    assert!(
        out.contains("role holders: 1 new, 2 changed, 0 unchanged"),
        "{out}"
    );
    let after = kind_in(db, d, "role-holders");
    assert_eq!(
        after,
        vec![
            "bithu.vt1,secretary,HG-VT-1,0100001,bithu.vt1@example.vn,2020-01-01,2024-01-01",
            "bithu.vt1b,secretary,HG-VT-1,0100002,,2024-01-01,",
            "tochuc.hg,organization_department,HG,,ban.tochuc@example.vn,2021-06-01,",
        ]
    );

    // A different past, an unknown unit, a role the unit cannot have, an unknown card, a day
    // to come: every problem at once, nothing written; the good row with --accept-partial.
    let bad = format!(
        "{ROLES_HEADER}
bithu.vt1;secretary;HG-VT-1;;;2020-01-01;2023-01-01
bithu.x;secretary;HG-XX;;;2020-01-01;
uv.hg;branch_committee;HG;;;2020-01-01;
bithu.y;secretary;HG-VT-2;0999999;;2020-01-01;
bithu.z;secretary;HG-VT-2;;;2999-01-01;
ubkt.vt;inspection_commission;HG-VT;;ubkt.vt@example.vn;2022-03-01;
"
    );
    std::fs::write(d.join("bad.csv"), &bad).unwrap();
    let out = refused(memberflow(db, d, &["import", "bad.csv"]));
    for expected in [
        "bad.csv dòng/row 2, cột/column «Đến ngày»: HISTORY_REWRITE",
        "bad.csv dòng/row 3, cột/column «Mã đơn vị»: UNKNOWN_UNIT",
        "bad.csv dòng/row 4, cột/column «Vai trò»: TREE",
        "bad.csv dòng/row 5, cột/column «Số thẻ đảng viên»: UNKNOWN_MEMBER",
        "bad.csv dòng/row 6, cột/column «Từ ngày»: DATES",
    ] {
        assert!(out.contains(expected), "{expected}\n{out}");
    }
    assert_eq!(kind_in(db, d, "role-holders"), after);
    let out = ok(memberflow(
        db,
        d,
        &["import", "bad.csv", "--accept-partial"],
    ));
    assert!(
        out.contains("role holders: 1 new, 0 changed, 0 unchanged") && out.contains("written"),
        "{out}"
    );
    let now = kind_in(db, d, "role-holders");
    assert_eq!(now.len(), 4, "{now:?}");
    assert!(
        now.contains(
            &"ubkt.vt,inspection_commission,HG-VT,,ubkt.vt@example.vn,2022-03-01,".to_owned()
        ),
        "{now:?}"
    );
}

/// Whether a thread of process `pid` is blocked writing to a full pipe.
fn blocked_on_a_pipe(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .any(|t| {
            std::fs::read_to_string(t.path().join("wchan")).is_ok_and(|w| w.contains("pipe_write"))
        })
}

#[tokio::test]
async fn a_file_changed_between_the_check_and_the_write_writes_nothing() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    std::fs::write(d.join("units.csv"), UNITS).unwrap();
    ok(memberflow(db, d, &["import", "units.csv"]));
    let file = good_members();
    std::fs::write(d.join("m.csv"), &file).unwrap();

    // The importer's standard error is a pipe already full: the line that says the check's
    // reading has ended (the first it writes) waits for this test to read it, before the
    // file is read again to be written.
    let (mut reader, writer) = std::io::pipe().unwrap();
    let size = rustix::pipe::fcntl_getpipe_size(&writer).unwrap();
    (&writer).write_all(&vec![b'.'; size]).unwrap();
    let child = Command::new(BIN)
        .current_dir(d)
        .env_remove("MEMBERFLOW_CONFIG")
        .env_remove("RUST_LOG")
        .env("MEMBERFLOW_DATABASE_URL", db)
        .args(["import", "m.csv"])
        .stdout(std::process::Stdio::piped())
        .stderr(writer)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !blocked_on_a_pipe(child.id()) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "the importer never wrote its progress"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Meanwhile a name is corrected in place: the same length.
    let changed = file.replacen("Nguyễn Văn An", "Nguyễn Văn Am", 1);
    assert_eq!(changed.len(), file.len());
    std::fs::write(d.join("m.csv"), &changed).unwrap();
    let drain = std::thread::spawn(move || {
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        String::from_utf8_lossy(&all[size..]).into_owned()
    });
    let out = child.wait_with_output().unwrap();
    let err = drain.join().unwrap();
    assert!(!out.status.success(), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FILE_CHANGED") && stdout.contains("refused: nothing written"),
        "{stdout}\n{err}"
    );
    assert!(
        err.starts_with("  check: 2 rows read, 2 checked, 0 written"),
        "{err}"
    );
    assert!(!err.contains("2 written"), "{err}");
    assert!(kind_in(db, d, "members").is_empty());
    // The file as it now is imports.
    let out = ok(memberflow(db, d, &["import", "m.csv"]));
    assert!(out.contains("members: 2 new"), "{out}");
    assert!(kind_in(db, d, "members")[0].contains("Nguyễn Văn Am"));
}

const BADGES_HEADER: &str = "Số thẻ đảng viên,Số năm tuổi Đảng,Ngày trao";

#[tokio::test]
async fn party_badges_import_checked_as_awards_and_export_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    std::fs::write(d.join("units.csv"), UNITS).unwrap();
    ok(memberflow(db, d, &["import", "units.csv"]));
    std::fs::write(d.join("members.csv"), good_members()).unwrap();
    ok(memberflow(db, d, &["import", "members.csv"]));

    // The template's header.
    assert_eq!(template_header(db, d, "badges"), BADGES_HEADER);

    // A member admitted in 1985 comes in the same workbook-less pair of files: first the
    // member, then the badges, each row checked as `awardBadge` checks it.
    std::fs::write(
        d.join("old.csv"),
        format!(
            "{MEMBERS_HEADER}
0200001;Lê Văn Cũ;01/01/1960;Nam;Kinh;;UPPER_SECONDARY;RETIRED;1985-03-10;1985-04-01;1986-04-01;HG-VT-1;2004-01-01;OFFICIAL;
"
        ),
    )
    .unwrap();
    ok(memberflow(db, d, &["import", "old.csv"]));
    let file = format!(
        "{BADGES_HEADER}
0200001,30,02/09/2016
0200001,40,2025-05-19
0200001,45,2026-02-03
0200001,35,2020-02-03
0999999,30,2020-02-03
0100002,30,2099-01-01
0200001,30,2017-02-03
"
    );
    std::fs::write(d.join("badges.csv"), &file).unwrap();
    let out = refused(memberflow(db, d, &["import", "badges.csv"]));
    assert_rows_refused(
        &out,
        &[
            (4, "NOT_AWARDABLE"),
            (5, "NOT_AWARDABLE"),
            (6, "UNKNOWN_MEMBER"),
            (7, "DATES"),
            (8, "DUPLICATE"),
        ],
    );
    // The 45-year badge: not reached on the day (A33); 35 years is no milestone (A30).
    assert!(out.contains("(A15, A33)") && out.contains("(A30)"), "{out}");
    assert!(out.contains("badges: 2 new, 0 unchanged\n"), "{out}");
    assert!(badges_in(db, d).is_empty());

    // The good rows with --accept-partial; again: unchanged.
    let out = ok(memberflow(
        db,
        d,
        &["import", "badges.csv", "--accept-partial"],
    ));
    assert!(
        out.contains("badges: 2 new, 0 unchanged") && out.contains("written"),
        "{out}"
    );
    let exported = vec!["0200001,30,2016-09-02", "0200001,40,2025-05-19"];
    assert_eq!(badges_in(db, d), exported);
    let out = ok(memberflow(
        db,
        d,
        &["import", "badges.csv", "--accept-partial"],
    ));
    assert!(out.contains("badges: 0 new, 2 unchanged"), "{out}");

    // A badge recorded on another day: history is never rewritten.
    std::fs::write(
        d.join("moved.csv"),
        format!("{BADGES_HEADER}\n0200001,30,2016-11-07\n"),
    )
    .unwrap();
    let out = refused(memberflow(db, d, &["import", "moved.csv"]));
    assert!(out.contains("HISTORY_REWRITE"), "{out}");
    assert_eq!(badges_in(db, d), exported);

    // The export imports back into an empty database with its members.
    let e = TestDb::create().await;
    let e = e.url();
    ok(memberflow(db, d, &["export", "--output", "all.xlsx"]));
    let out = ok(memberflow(e, d, &["import", "all.xlsx"]));
    assert!(out.contains("badges: 2 new, 0 unchanged"), "{out}");
    assert_eq!(badges_in(e, d), exported);
}

const WARD_UNITS: &str =
    "Mã đơn vị,Tên đơn vị,Loại,Phân loại chi bộ,Từ ngày,Đến ngày,Đơn vị cấp trên,Hợp nhất vào
HG,Đảng bộ tỉnh Hậu Giang,PROVINCE,,2004-01-01,,,
HG-VT,Đảng bộ thành phố Vị Thanh,CITY,,2004-01-01,,HG,
HG-VT-P1,Đảng bộ phường I,GRASSROOTS_COMMITTEE,,2004-01-01,,HG-VT,
HG-VT-P1-A1,Chi bộ khu vực 1,BRANCH,HAMLET,2004-01-01,,HG-VT-P1,
HG-VT-P1-A2,Chi bộ khu vực 2,BRANCH,HAMLET,2004-01-01,,HG-VT-P1,
HG-VT-P1-CQ,Chi bộ cơ quan phường,BRANCH,COMMUNE_SECTOR,2004-01-01,,HG-VT-P1,
";

const HAMLETS_HEADER: &str =
    "Mã ấp,Tên ấp,Loại ấp,Đơn vị cấp xã,Từ ngày,Đến ngày,Hợp nhất vào,Chi bộ ấp";

const RESIDENT_HEADER: &str = "Số thẻ đảng viên;Họ và tên;Ngày sinh;Giới tính;Dân tộc;Ngày quyết định kết nạp;Ngày lễ kết nạp;Ngày công nhận chính thức;Chi bộ;Sinh hoạt từ ngày;Tình trạng;Lịch sử cư trú";

#[tokio::test]
async fn hamlets_import_by_code_with_their_branches_and_export_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    std::fs::write(d.join("units.csv"), WARD_UNITS).unwrap();
    ok(memberflow(db, d, &["import", "units.csv"]));

    // The template: Vietnamese headers, and a sheet explaining them in the workbook.
    assert_eq!(template_header(db, d, "hamlets"), HAMLETS_HEADER);

    // Every problem at once, each with its stable code; nothing written.
    let file = format!(
        "{HAMLETS_HEADER}
KV1,Khu vực 1,WARD_AREA,HG-VT-P1,2010-01-01,,,HG-VT-P1-A1
KV2,Khu vực 2,khu vực,HG-VT-P1,01/01/2010,2020-01-01,KV1,HG-VT-P1-A2
KV3,Khu vực 3,WARD_AREA,HG-XX,2010-01-01,,,
KV4,Khu vực 4,WARD_AREA,HG-VT-P1,2010-01-01,,,HG-VT-P1-CQ
KV5,Khu vực 5,WARD_AREA,HG-VT-P1,2010-01-01,,,HG-VT-P1-A1
KV1,Khu vực 1 bis,WARD_AREA,HG-VT-P1,2010-01-01,,,
KV6,Khu vực 6,WARD_AREA,HG-VT-P1,2012-01-01,2011-01-01,,
KV7,Khu vực 7,WARD_AREA,HG-VT,2010-01-01,,,
KV8,Khu vực 8,WARD_AREA,HG-VT-P1,2010-01-01,2015-01-01,KV9,
"
    );
    std::fs::write(d.join("hamlets.csv"), &file).unwrap();
    let out = refused(memberflow(db, d, &["import", "hamlets.csv"]));
    assert_rows_refused(
        &out,
        &[
            (4, "UNKNOWN_UNIT"),
            (5, "TREE"),
            (6, "DATES"),
            (7, "DUPLICATE"),
            (8, "DATES"),
            (9, "TREE"),
            (10, "UNKNOWN_CODE"),
        ],
    );
    assert!(
        out.contains("hamlets: 2 new, 0 changed, 0 unchanged"),
        "{out}"
    );
    assert!(kind_in(db, d, "hamlets").is_empty());

    // The good rows with --accept-partial; a dry run of them passes; again: unchanged.
    let out = ok(memberflow(
        db,
        d,
        &["import", "hamlets.csv", "--accept-partial"],
    ));
    assert!(out.contains("written"), "{out}");
    let exported = vec![
        "KV1,Khu vực 1,WARD_AREA,HG-VT-P1,2010-01-01,,,HG-VT-P1-A1",
        "KV2,Khu vực 2,WARD_AREA,HG-VT-P1,2010-01-01,2020-01-01,KV1,HG-VT-P1-A2",
    ];
    assert_eq!(kind_in(db, d, "hamlets"), exported);
    std::fs::write(
        d.join("good.csv"),
        format!("{HAMLETS_HEADER}\n{}\n", exported.join("\n")),
    )
    .unwrap();
    let out = ok(memberflow(db, d, &["import", "good.csv", "--dry-run"]));
    assert!(
        out.contains("hamlets: 0 new, 0 changed, 2 unchanged") && out.contains("dry run"),
        "{out}"
    );

    // A dated change: KV1's branch changes on 2024-01-01 (the open link closed, the new one
    // added) and its name is corrected; a different past and a different kind are refused.
    std::fs::write(
        d.join("moved.csv"),
        format!(
            "{HAMLETS_HEADER}
KV1,Khu vực Một,WARD_AREA,HG-VT-P1,2010-01-01,,,2010-01-01 HG-VT-P1-A1; 2024-01-01 HG-VT-P1-A2
"
        ),
    )
    .unwrap();
    let out = ok(memberflow(db, d, &["import", "moved.csv"]));
    assert!(
        out.contains("hamlets: 0 new, 1 changed, 0 unchanged"),
        "{out}"
    );
    assert_eq!(
        kind_in(db, d, "hamlets")[0],
        "KV1,Khu vực Một,WARD_AREA,HG-VT-P1,2010-01-01,,,\"2010-01-01 HG-VT-P1-A1; 2024-01-01 HG-VT-P1-A2\""
    );
    let out = ok(memberflow(db, d, &["import", "moved.csv"]));
    assert!(
        out.contains("hamlets: 0 new, 0 changed, 1 unchanged"),
        "{out}"
    );
    std::fs::write(
        d.join("past.csv"),
        format!(
            "{HAMLETS_HEADER}
KV1,Khu vực Một,WARD_AREA,HG-VT-P1,2010-01-01,,,2011-01-01 HG-VT-P1-A1
KV2,Khu vực 2,RESIDENTIAL_GROUP,HG-VT-P1,2010-01-01,2020-01-01,KV1,HG-VT-P1-A2
"
        ),
    )
    .unwrap();
    let out = refused(memberflow(db, d, &["import", "past.csv"]));
    assert!(
        out.contains("HISTORY_REWRITE") && out.contains("TREE_CHANGE"),
        "{out}"
    );

    // Members' residences: in a hamlet that exists on the day, carried on by dated changes.
    std::fs::write(
        d.join("members.csv"),
        format!(
            "{RESIDENT_HEADER}
0300001;Phan Văn Cư;01/01/1980;Nam;Kinh;2010-05-10;2010-06-01;2011-06-01;HG-VT-P1-A1;2015-01-01;OFFICIAL;2015-01-01 KV2 SET; 2020-01-01 KV1 MERGED
0300002;Phan Thị Trú;01/01/1982;Nữ;Kinh;2010-05-10;2010-06-01;2011-06-01;HG-VT-P1-A1;2015-01-01;OFFICIAL;2015-01-01 KV9
0300003;Phan Văn Vắng;01/01/1983;Nam;Kinh;2010-05-10;2010-06-01;2011-06-01;HG-VT-P1-A1;2015-01-01;OFFICIAL;2021-01-01 KV2
"
        ),
    )
    .unwrap();
    let out = refused(memberflow(db, d, &["import", "members.csv"]));
    assert_rows_refused(&out, &[(3, "UNKNOWN_CODE"), (4, "TREE")]);
    ok(memberflow(
        db,
        d,
        &["import", "members.csv", "--accept-partial"],
    ));
    let on = |day: &str| {
        ok(memberflow(
            db,
            d,
            &["report", "hamlets-without", "--on", day],
        ))
    };
    let before = on("2014-06-30");
    let after = on("2016-06-30");
    assert_ne!(before, after, "KV2 has a member living there from 2015");

    // The whole workbook imports into an empty database as the same register.
    let e = TestDb::create().await;
    let e = e.url();
    ok(memberflow(db, d, &["export", "--output", "all.xlsx"]));
    let out = ok(memberflow(e, d, &["import", "all.xlsx"]));
    assert!(
        out.contains("hamlets: 2 new, 0 changed, 0 unchanged"),
        "{out}"
    );
    assert_eq!(kind_in(e, d, "hamlets"), kind_in(db, d, "hamlets"));
    assert_eq!(kind_in(e, d, "members"), kind_in(db, d, "members"));
    for day in ["2014-06-30", "2016-06-30", "2021-06-30", "2024-06-30"] {
        assert_eq!(
            ok(memberflow(
                e,
                d,
                &["report", "hamlets-without", "--on", day]
            )),
            on(day),
            "{day}"
        );
    }
}

const DISCIPLINE_HEADER: &str = "Số thẻ đảng viên,Hình thức kỷ luật,Số quyết định,Cơ quan quyết định,Cấp quyết định,Ngày quyết định,Tình trạng kỷ luật,Ngày đổi tình trạng";

#[tokio::test]
async fn the_discipline_register_imports_with_dated_status_changes_and_exports_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = TestDb::create().await;
    let db = db.url();
    std::fs::write(d.join("units.csv"), UNITS).unwrap();
    ok(memberflow(db, d, &["import", "units.csv"]));
    std::fs::write(d.join("members.csv"), good_members()).unwrap();
    ok(memberflow(db, d, &["import", "members.csv"]));

    let report = |db: &str| {
        ok(memberflow(
            db,
            d,
            &[
                "report",
                "discipline",
                "--from",
                "2019-01-01",
                "--to",
                "2020-12-31",
            ],
        ))
    };
    let none = report(db);

    // The template's header.
    assert_eq!(template_header(db, d, "discipline"), DISCIPLINE_HEADER);

    // Codes or Vietnamese names; every problem at once, with its code.
    let file = format!(
        "{DISCIPLINE_HEADER}
0100001,khiển trách,05-QĐ/ĐU,Ban Thường vụ,grassroots,2019-03-01,,
0100002,WARNING,,branch,branch,2020-06-01,LAPSED,2021-06-01
0999999,WARNING,,,,2020-06-01,,
0100002,phê bình,,,,2020-06-01,,
0100001,REPRIMAND,,,,2099-01-01,,
0100002,REPRIMAND,,,,2011-01-01,,
0100001,REPRIMAND,,,,01/03/2019,,
"
    );
    std::fs::write(d.join("kl.csv"), &file).unwrap();
    let dry = refused(memberflow(db, d, &["import", "kl.csv", "--dry-run"]));
    for (row, column, code) in [
        (4, "Số thẻ đảng viên", "UNKNOWN_MEMBER"),
        (5, "Hình thức kỷ luật", "UNKNOWN_CODE"),
        (6, "Ngày quyết định", "DATES"),
        (7, "Ngày quyết định", "DATES"),
        (8, "Ngày quyết định", "DUPLICATE"),
    ] {
        let line = format!("kl.csv dòng/row {row}, cột/column «{column}»: {code}");
        assert!(dry.contains(&line), "{line} not in\n{dry}");
    }
    // Both languages: the admission's date is named.
    assert!(
        dry.contains("trước ngày quyết định kết nạp") && dry.contains("admission decision"),
        "{dry}"
    );
    assert!(
        dry.contains("discipline: 2 new, 0 changed, 0 unchanged"),
        "{dry}"
    );
    assert!(kind_in(db, d, "discipline").is_empty());

    // The good rows; again: unchanged.
    let out = ok(memberflow(db, d, &["import", "kl.csv", "--accept-partial"]));
    assert!(
        out.contains("discipline: 2 new, 0 changed, 0 unchanged") && out.contains("written"),
        "{out}"
    );
    let exported = vec![
        "0100001,REPRIMAND,05-QĐ/ĐU,STANDING_COMMITTEE,GRASSROOTS,2019-03-01,IN_FORCE,",
        "0100002,WARNING,,BRANCH,BRANCH,2020-06-01,LAPSED,2021-06-01",
    ];
    assert_eq!(kind_in(db, d, "discipline"), exported);
    let out = ok(memberflow(db, d, &["import", "kl.csv", "--accept-partial"]));
    assert!(
        out.contains("discipline: 0 new, 0 changed, 2 unchanged"),
        "{out}"
    );

    // A lapse is a dated change; another status date recorded would rewrite history.
    std::fs::write(
        d.join("lapse.csv"),
        format!("{DISCIPLINE_HEADER}\n0100001,REPRIMAND,05-QĐ/ĐU,STANDING_COMMITTEE,GRASSROOTS,2019-03-01,hết hiệu lực,2020-03-01\n"),
    )
    .unwrap();
    let out = ok(memberflow(db, d, &["import", "lapse.csv"]));
    assert!(
        out.contains("discipline: 0 new, 1 changed, 0 unchanged"),
        "{out}"
    );
    assert_eq!(
        kind_in(db, d, "discipline")[0],
        "0100001,REPRIMAND,05-QĐ/ĐU,STANDING_COMMITTEE,GRASSROOTS,2019-03-01,LAPSED,2020-03-01"
    );
    std::fs::write(
        d.join("moved.csv"),
        format!("{DISCIPLINE_HEADER}\n0100002,WARNING,,BRANCH,BRANCH,2020-06-01,LAPSED,2021-07-01\n0100001,REPRIMAND,06-QĐ/ĐU,,,2019-03-01,LAPSED,2020-03-01\n"),
    )
    .unwrap();
    let out = refused(memberflow(db, d, &["import", "moved.csv"]));
    for row in [2, 3] {
        assert!(
            out.contains(&format!(
                "moved.csv dòng/row {row}, cột/column «Ngày đổi tình trạng»: HISTORY_REWRITE"
            )),
            "{out}"
        );
    }

    // The export imports back into an empty database with its members: the same register
    // and the same report of discipline.
    let e = TestDb::create().await;
    let e = e.url();
    ok(memberflow(db, d, &["export", "--output", "all.xlsx"]));
    let out = ok(memberflow(e, d, &["import", "all.xlsx"]));
    assert!(
        out.contains("discipline: 2 new, 0 changed, 0 unchanged"),
        "{out}"
    );
    assert_eq!(kind_in(e, d, "discipline"), kind_in(db, d, "discipline"));
    assert_eq!(report(e), report(db));
    assert_ne!(report(db), none, "the report counts the register");
}
