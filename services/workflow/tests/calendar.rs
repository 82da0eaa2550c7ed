//! Working-day calendar (rule S22): the lunar algorithm against an independent table, the
//! committed Vietnamese calendar against the decided 2013–2026 schedules (and an independent reference), the counting
//! conventions as properties, and the calendar file's checks.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use memberflow_workflow::calendar::{
    DayOffKind, LunarDate, MonthKind, ProblemKind, WorkingCalendar, YearStatus, lunar,
    lunar_to_solar, solar_to_lunar,
};
use proptest::prelude::*;

/// Tết and Hùng Kings' day 1990–2060, computed independently (two Python packages) and
/// cross-checked.
const LUNAR_HOLIDAYS_CSV: &str = include_str!("data/lunar-holidays-vn.csv");

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn vn() -> WorkingCalendar {
    WorkingCalendar::vietnamese()
}

// ---------------------------------------------------------------------------------------------
// The lunar calendar

#[test]
fn s22_lunar_algorithm_matches_every_row_of_the_reference_table() {
    let mut rows = 0;
    for line in LUNAR_HOLIDAYS_CSV.lines().skip(1) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        let [year, tet, hung] = fields[..] else {
            panic!("bad CSV line {line:?}");
        };
        let year: i32 = year.parse().unwrap();
        let (tet, hung) = (date(tet), date(hung));
        assert_eq!(lunar::tet(year), Some(tet), "Tết {year}");
        assert_eq!(
            lunar::hung_kings_day(year),
            Some(hung),
            "Hùng Kings' day {year}"
        );
        let first_day = LunarDate {
            year,
            month: 1,
            day: 1,
            leap: false,
        };
        assert_eq!(solar_to_lunar(tet), first_day, "{tet} back to lunar");
        assert_eq!(
            solar_to_lunar(hung),
            LunarDate {
                month: 3,
                day: 10,
                ..first_day
            },
            "{hung} back to lunar"
        );
        // The day before Tết is the last day (29 or 30) of month 12 of the previous year.
        let eve = solar_to_lunar(tet.pred_opt().unwrap());
        assert_eq!((eve.year, eve.month), (year - 1, 12), "eve of Tết {year}");
        assert!(eve.day == 29 || eve.day == 30, "eve of Tết {year}: {eve:?}");
        rows += 1;
    }
    assert_eq!(rows, 71, "1990 to 2060");
}

#[test]
fn s22_leap_months_of_recent_years() {
    assert_eq!(lunar::leap_month(2020), Some(4));
    assert_eq!(lunar::leap_month(2023), Some(2));
    assert_eq!(lunar::leap_month(2024), None);
    assert_eq!(lunar::leap_month(2025), Some(6));
    // The leap month 6 of 2025 began on 25/7/2025, the regular month 6 on 25/6/2025.
    assert_eq!(
        lunar_to_solar(2025, 6, 1, MonthKind::Leap),
        Some(ymd(2025, 7, 25))
    );
    assert_eq!(
        lunar_to_solar(2025, 6, 1, MonthKind::Regular),
        Some(ymd(2025, 6, 25))
    );
    assert!(solar_to_lunar(ymd(2025, 7, 25)).leap);
}

proptest! {
    #[test]
    fn s22_lunar_conversion_round_trips(days in 0u64..(200 * 366)) {
        let d = ymd(1900, 1, 1) + Days::new(days);
        let lunar = solar_to_lunar(d);
        prop_assert!((1..=12).contains(&lunar.month) && (1..=30).contains(&lunar.day));
        prop_assert_eq!(lunar.to_solar(), Some(d), "{:?}", lunar);
    }
}

// ---------------------------------------------------------------------------------------------
// The committed calendar: the real schedules

fn assert_off(calendar: &WorkingCalendar, days: &[&str]) {
    for d in days {
        assert!(!calendar.is_working_day(date(d)), "{d} should be off");
    }
}

fn assert_worked(calendar: &WorkingCalendar, days: &[&str]) {
    for d in days {
        assert!(
            calendar.is_working_day(date(d)),
            "{d} should be a working day"
        );
    }
}

#[test]
fn s22_committed_calendar_is_valid_and_lists_2013_to_2026() {
    let calendar = WorkingCalendar::from_toml_str(memberflow_workflow::calendar::VIETNAM_TOML)
        .unwrap_or_else(|problems| panic!("{problems:#?}"));
    let years: Vec<_> = calendar.covered_years().collect();
    let mut expected: Vec<_> = (2013..=2025).map(|y| (y, YearStatus::Confirmed)).collect();
    expected.push((2026, YearStatus::Provisional));
    assert_eq!(years, expected);
    assert_eq!(
        calendar.confirmed_years().collect::<Vec<_>>(),
        (2013..=2025).collect::<Vec<_>>()
    );
    assert_eq!(calendar.year_status(2012), YearStatus::Proposed);
    assert_eq!(calendar.year_status(2027), YearStatus::Proposed);
    for year in 2013..=2026 {
        assert!(
            calendar.year_source(year).is_some_and(|s| !s.is_empty()),
            "{year}"
        );
    }
    assert_eq!(calendar.year_source(2027), None);
}

#[test]
fn s22_schedule_2024() {
    let c = vn();
    assert_off(
        &c,
        &[
            "2024-01-01",
            "2024-02-08",
            "2024-02-09",
            "2024-02-12",
            "2024-02-13",
            "2024-02-14",
            "2024-04-18",
            "2024-04-29",
            "2024-04-30",
            "2024-05-01",
            "2024-09-02",
            "2024-09-03",
        ],
    );
    assert_worked(
        &c,
        &[
            "2024-01-02",
            "2024-02-07",
            "2024-02-15",
            "2024-04-19",
            "2024-05-02",
            "2024-05-04", // Saturday worked for Monday 29/4
            "2024-09-04",
        ],
    );
    assert_eq!(c.swapped_working_days_in(2024), [ymd(2024, 5, 4)]);
}

#[test]
fn s22_schedule_2025() {
    let c = vn();
    assert_off(
        &c,
        &[
            "2025-01-01",
            "2025-01-27",
            "2025-01-28",
            "2025-01-29",
            "2025-01-30",
            "2025-01-31",
            "2025-04-07",
            "2025-04-30",
            "2025-05-01",
            "2025-05-02",
            "2025-09-01",
            "2025-09-02",
        ],
    );
    assert_worked(
        &c,
        &[
            "2025-01-24",
            "2025-02-03",
            "2025-04-08",
            "2025-04-26", // Saturday worked for Friday 2/5
            "2025-04-29",
            "2025-05-05",
            "2025-09-03",
        ],
    );
    let day = c.day_off(ymd(2025, 5, 2)).unwrap();
    assert_eq!(day.kind, DayOffKind::Swapped);
    assert_eq!(day.holiday.id(), "labour-day");
}

#[test]
fn s22_schedule_2026_provisional() {
    let c = vn();
    assert_off(
        &c,
        &[
            "2026-01-01",
            "2026-02-16",
            "2026-02-17",
            "2026-02-18",
            "2026-02-19",
            "2026-02-20",
            "2026-04-27",
            "2026-04-30",
            "2026-05-01",
            "2026-09-02",
        ],
    );
    assert_worked(
        &c,
        &["2026-02-13", "2026-02-23", "2026-04-28", "2026-04-29"],
    );
    // Hùng Kings' day 2026 is a Sunday: compensated on Monday 27/4.
    let sunday = c.day_off(ymd(2026, 4, 26)).unwrap();
    assert_eq!(sunday.kind, DayOffKind::Holiday);
    let monday = c.day_off(ymd(2026, 4, 27)).unwrap();
    assert_eq!(monday.kind, DayOffKind::Compensation);
    assert_eq!(monday.name(), "Nghỉ bù Giỗ Tổ Hùng Vương");
    assert_eq!(
        monday.name_en(),
        "Compensation day for Hùng Kings' Commemoration Day"
    );
    assert_eq!(monday.status, YearStatus::Provisional);
}

#[test]
fn s22_holiday_names_are_vietnamese_with_english_available() {
    let c = vn();
    let tet = c.holiday(ymd(2025, 1, 29)).unwrap();
    assert_eq!(tet.name(), "Tết Nguyên đán");
    assert_eq!(tet.name_en(), "Lunar New Year (Tết)");
    assert_eq!(c.holiday(ymd(2025, 9, 2)).unwrap().name(), "Quốc khánh");
    // An ordinary weekend day and a working day are no holiday.
    assert!(c.holiday(ymd(2025, 3, 8)).is_none());
    assert!(c.holiday(ymd(2025, 3, 10)).is_none());
    // A swapped working Saturday is no holiday either.
    assert!(c.day_off(ymd(2025, 4, 26)).is_none());
}

// ---------------------------------------------------------------------------------------------
// Deadlines

#[test]
fn s22_deadline_skips_the_tet_break_2025() {
    let c = vn();
    // Friday 24/1/2025 + 1 working day: the break runs to Sunday 2/2.
    assert_eq!(c.add_working_days(ymd(2025, 1, 24), 1), ymd(2025, 2, 3));
    assert_eq!(c.working_days_between(ymd(2025, 1, 24), ymd(2025, 2, 3)), 1);
}

#[test]
fn s22_deadline_can_fall_on_a_swapped_working_saturday() {
    let c = vn();
    assert_eq!(c.add_working_days(ymd(2025, 4, 25), 1), ymd(2025, 4, 26));
    assert_eq!(c.add_working_days(ymd(2025, 4, 29), 1), ymd(2025, 5, 5));
}

#[test]
fn s22_start_day_is_not_counted_even_when_it_is_a_day_off() {
    let c = vn();
    // Counting from a day off (Tết 2025) is counting from the next working day.
    assert_eq!(c.add_working_days(ymd(2025, 1, 29), 1), ymd(2025, 2, 3));
    assert_eq!(c.add_working_days(ymd(2025, 1, 29), 0), ymd(2025, 1, 29));
    // 30 working days from Monday 3/3/2025 (a working day, not counted): Hùng Kings' day
    // 7/4 is skipped.
    assert_eq!(c.add_working_days(ymd(2025, 3, 3), 30), ymd(2025, 4, 15));
}

#[test]
fn s22_counting_crosses_years_into_the_proposal() {
    let c = vn();
    let start = ymd(2026, 12, 1);
    let deadline = c.add_working_days(start, 60);
    assert!(deadline.year() == 2027 && c.is_working_day(deadline));
    assert_eq!(c.working_days_between(start, deadline), 60);
    assert!(!c.is_span_confirmed(start, deadline));
    assert!(c.is_span_confirmed(ymd(2024, 3, 1), ymd(2025, 12, 31)));
    assert!(!c.is_span_confirmed(ymd(2025, 12, 1), ymd(2026, 1, 31)));
}

#[test]
fn s22_an_unlisted_year_gets_the_proposed_days_off() {
    let c = vn();
    assert_eq!(c.year_status(2027), YearStatus::Proposed);
    // Tết 2027 is Saturday 6/2: proposed Fri 5/2 (eve) to Tue 9/2, the Saturday made up before
    // the break (Thu 4/2) and the Sunday after it (Wed 10/2), as in the decided years.
    for d in 4..=10 {
        assert!(!c.is_working_day(ymd(2027, 2, d)), "2027-02-{d:02}");
    }
    assert!(c.is_working_day(ymd(2027, 2, 3)));
    assert!(c.is_working_day(ymd(2027, 2, 11)));
    assert_eq!(
        c.day_off(ymd(2027, 2, 4)).unwrap().kind,
        DayOffKind::Compensation
    );
    let compensation = c.day_off(ymd(2027, 2, 10)).unwrap();
    assert_eq!(compensation.kind, DayOffKind::Compensation);
    assert_eq!(compensation.status, YearStatus::Proposed);
    // Hùng Kings' day (Fri 16/4), 30/4 (Fri), 1/5 (Sat, compensated Mon 3/5), 2/9 (Thu) and
    // its neighbour 3/9 (Fri, joining the weekend).
    for (m, d) in [(1, 1), (4, 16), (4, 30), (5, 3), (9, 2), (9, 3)] {
        assert!(!c.is_working_day(ymd(2027, m, d)), "2027-{m:02}-{d:02}");
    }
    assert!(c.is_working_day(ymd(2027, 9, 1)));
}

#[test]
fn s22_proposal_for_a_year_round_trips_through_the_file_format() {
    let c = vn();
    let section = c.propose_year_section(2027);
    let src = format!("{}\n{section}", memberflow_workflow::calendar::VIETNAM_TOML);
    let with_2027 = WorkingCalendar::from_toml_str(&src)
        .unwrap_or_else(|problems| panic!("{section}\n{problems:#?}"));
    assert_eq!(with_2027.year_status(2027), YearStatus::Provisional);
    let days = |cal: &WorkingCalendar| {
        cal.days_off_in(2027)
            .iter()
            .map(|d| (d.date, d.holiday.id().to_owned(), d.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(days(&c), days(&with_2027));
}

#[test]
fn weekends_only_has_no_holidays() {
    let c = WorkingCalendar::weekends_only();
    assert!(c.is_working_day(ymd(2025, 1, 1)));
    assert_eq!(c.add_working_days(ymd(2025, 1, 3), 1), ymd(2025, 1, 6));
    assert_eq!(c.working_days_between(ymd(2025, 1, 6), ymd(2025, 1, 3)), -1);
    assert!(c.days_off_in(2025).is_empty());
}

fn counted_by_stepping(c: &WorkingCalendar, start: NaiveDate, n: u32) -> NaiveDate {
    let mut d = start;
    let mut left = n;
    while left > 0 {
        d = d.succ_opt().unwrap();
        if c.is_working_day(d) {
            left -= 1;
        }
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn s22_between_inverts_add(offset in 0u64..(12 * 366), n in 0u32..400) {
        let c = vn();
        let start = ymd(2020, 1, 1) + Days::new(offset);
        let deadline = c.add_working_days(start, n);
        prop_assert_eq!(c.working_days_between(start, deadline), i64::from(n));
        prop_assert_eq!(c.working_days_between(deadline, start), -i64::from(n));
    }

    #[test]
    fn s22_deadline_is_never_a_day_off(offset in 0u64..(12 * 366), n in 1u32..400) {
        let c = vn();
        let start = ymd(2020, 1, 1) + Days::new(offset);
        let deadline = c.add_working_days(start, n);
        prop_assert!(c.is_working_day(deadline), "{} + {} = {}", start, n, deadline);
        prop_assert_eq!(deadline, counted_by_stepping(&c, start, n));
    }

    #[test]
    fn s22_deadline_grows_with_n(offset in 0u64..(12 * 366), n in 0u32..400) {
        let c = vn();
        let start = ymd(2020, 1, 1) + Days::new(offset);
        prop_assert!(c.add_working_days(start, n + 1) > c.add_working_days(start, n));
    }

    #[test]
    fn s22_between_is_additive(a in 0u64..4000, b in 0u64..4000, m in 0u64..4000) {
        let c = vn();
        let base = ymd(2018, 1, 1);
        let (a, b, m) = (base + Days::new(a), base + Days::new(b), base + Days::new(m));
        prop_assert_eq!(
            c.working_days_between(a, b),
            c.working_days_between(a, m) + c.working_days_between(m, b)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The calendar file's checks

const HOLIDAYS: &str = r#"
weekends = ["Sat", "Sun"]

[[holidays]]
id = "new-year"
name_vi = "Tết Dương lịch"
name_en = "New Year's Day"
solar = "01-01"

[[holidays]]
id = "hung-kings"
name_vi = "Giỗ Tổ Hùng Vương"
name_en = "Hùng Kings' Commemoration Day"
lunar = "03-10"
"#;

fn problems_of(src: &str) -> Vec<memberflow_workflow::calendar::CalendarProblem> {
    match WorkingCalendar::from_toml_str(src) {
        Ok(_) => panic!("expected problems in:\n{src}"),
        Err(problems) => problems,
    }
}

#[test]
fn s22_calendar_file_reports_every_problem_at_once() {
    let src = format!(
        r#"colour = "red"
{HOLIDAYS}

[years.2025]
source = "test"
days_off = [
  {{ date = 2025-01-01, holiday = "new-year" }},
  {{ date = "2025-02-30", holiday = "new-year", kind = "swapped" }},
  {{ date = 2025-04-07, holiday = "hung-kings" }},
  {{ date = 2025-04-07, holiday = "hung-kings" }},
  {{ date = 2024-12-31, holiday = "new-year", kind = "swapped" }},
  {{ date = 2025-05-05, holiday = "labour-day" }},
  {{ date = 2025-05-06, holiday = "new-year", colour = "red" }},
]
working_days = [
  {{ date = 2025-04-28 }},
]

[years.2026]
source = "test"
days_off = [
  {{ date = 2026-01-01, holiday = "new-year" }},
  {{ date = 2026-04-28, holiday = "hung-kings" }},
]
"#
    );
    let problems = problems_of(&src);
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let has = |pred: &dyn Fn(&ProblemKind) -> bool, place: &str| {
        assert!(
            problems.iter().any(|p| pred(&p.kind) && p.place == place),
            "no such problem at {place}:\n{}",
            text.join("\n")
        );
    };
    has(
        &|k| matches!(k, ProblemKind::UnknownKey(key) if key == "colour"),
        "colour",
    );
    has(
        &|k| matches!(k, ProblemKind::BadDate(_)),
        "years.2025.days_off[1]",
    );
    has(
        &|k| matches!(k, ProblemKind::Duplicate { .. }),
        "years.2025.days_off[3]",
    );
    has(
        &|k| matches!(k, ProblemKind::OutsideYear { year: 2025, .. }),
        "years.2025.days_off[4]",
    );
    has(
        &|k| matches!(k, ProblemKind::UnknownHoliday(id) if id == "labour-day"),
        "years.2025.days_off[5]",
    );
    has(
        &|k| matches!(k, ProblemKind::Shape(m) if m.contains("colour")),
        "years.2025.days_off[6]",
    );
    has(
        &|k| {
            matches!(
                k,
                ProblemKind::WorkingDayNotWeekend {
                    weekday: Weekday::Mon,
                    ..
                }
            )
        },
        "years.2025.working_days[0]",
    );
    // 2026: Hùng Kings' day (Sun 26/4) is missing, and Tue 28/4 is listed as the day itself.
    has(
        &|k| matches!(k, ProblemKind::MissingHoliday { .. }),
        "years.2026",
    );
    has(
        &|k| matches!(k, ProblemKind::WrongHolidayDate { .. }),
        "years.2026.days_off[1]",
    );
    assert_eq!(problems.len(), 9, "{}", text.join("\n"));
    // The messages name the place and read as English.
    assert!(
        text.contains(
            &"years.2025.days_off[3]: 2025-04-07 is listed twice (first at years.2025.days_off[2])"
                .to_owned()
        ),
        "{}",
        text.join("\n")
    );
}

#[test]
fn s22_calendar_file_checks_holiday_definitions() {
    let src = r#"
weekends = ["Sat", "Sunday", "Caturday", "sat"]

[[holidays]]
id = "a"
name_vi = "A"
name_en = "A"
solar = "02-29"

[[holidays]]
id = "a"
name_vi = "A again"
name_en = "A again"
solar = "03-01"

[[holidays]]
id = "b"
name_vi = "B"
name_en = "B"
lunar = "13-01"
days = [1, 2]

[[holidays]]
id = "c"
name_vi = ""
name_en = "C"
solar = "05-01"
lunar = "05-01"

[years.1700]
source = "too early"

[years.2025]
status = "proposed"
source = "x"
"#;
    let problems = problems_of(src);
    let places: Vec<&str> = problems.iter().map(|p| p.place.as_str()).collect();
    assert_eq!(
        places,
        [
            "weekends[2]",
            "weekends[3]",
            "holidays[0] (a)",
            "holidays[1] (a)",
            "holidays[2] (b)",
            "holidays[2] (b)",
            "holidays[3] (c)",
            "holidays[3] (c)",
            "years.1700",
            "years.2025",
        ],
        "{problems:#?}"
    );
}

#[test]
fn s22_calendar_file_checks_swaps_and_compensation() {
    let src = format!(
        r#"{HOLIDAYS}
[years.2025]
source = "test"
days_off = [
  {{ date = 2025-01-01, holiday = "new-year" }},
  {{ date = 2025-01-02, holiday = "new-year", kind = "compensation" }},
  {{ date = 2025-04-07, holiday = "hung-kings" }},
  {{ date = 2025-04-05, holiday = "hung-kings", kind = "swapped" }},
  {{ from = 2025-04-10, to = 2025-04-08, holiday = "hung-kings" }},
]
working_days = [
  {{ date = 2025-04-12, makes_up_for = 2025-04-11 }},
]
"#
    );
    let problems = problems_of(&src);
    let kinds: Vec<_> = problems.iter().map(|p| (&p.place[..], &p.kind)).collect();
    assert!(
        matches!(
            kinds[..],
            [
                (
                    "years.2025.days_off[3]",
                    ProblemKind::DayOffOnWeekend { .. }
                ),
                ("years.2025.days_off[4]", ProblemKind::Invalid(_)),
                (
                    "years.2025.days_off[1]",
                    ProblemKind::NothingToCompensate { .. }
                ),
                ("years.2025.working_days[0]", ProblemKind::Invalid(_)),
            ]
        ),
        "{problems:#?}"
    );
}

#[test]
fn s22_calendar_file_syntax_error_is_one_problem() {
    let problems = problems_of("weekends = [\"Sat\"\n[[holidays]");
    assert_eq!(problems.len(), 1);
    assert!(matches!(problems[0].kind, ProblemKind::Syntax(_)));
    assert_eq!(problems[0].place, "file");
}

#[test]
fn s22_the_month_estimate_never_runs_ahead_of_the_new_moon() {
    // Found by the round-trip property: 7/5/2054 is the 30th day of the 3rd lunar month
    // (checked against the `lunar-vn` package), not "day 0" of the 4th.
    let l = solar_to_lunar(ymd(2054, 5, 7));
    assert_eq!((l.year, l.month, l.day, l.leap), (2054, 3, 30, false));
    assert_eq!(l.to_solar(), Some(ymd(2054, 5, 7)));
}

// ---------------------------------------------------------------------------------------------
// 2013–2026: the decided years against an independent reference and against the rules

/// Vietnam's holidays 2013–2026 from the `holidays` Python package (version, command and
/// generator in the file's header and `scripts/vn-holidays-fixture.py`).
const REFERENCE_CSV: &str = include_str!("data/holidays-vn-2013-2026.csv");

/// The reference's days off on weekdays, and the Saturdays it says were worked (from its
/// "Day off (substituted from MM/DD/YYYY)" rows).
fn reference() -> (BTreeSet<NaiveDate>, BTreeSet<NaiveDate>) {
    let mut off = BTreeSet::new();
    let mut worked = BTreeSet::new();
    for line in REFERENCE_CSV.lines() {
        if line.starts_with('#') || line == "date,name" {
            continue;
        }
        let (day, name) = line.split_once(',').unwrap();
        let day = date(day);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            off.insert(day);
        }
        if let Some(from) = name.strip_prefix("Day off (substituted from ") {
            let from = NaiveDate::parse_from_str(from.trim_end_matches(')'), "%m/%d/%Y").unwrap();
            worked.insert(from);
        }
    }
    (off, worked)
}

#[test]
fn s22_decided_years_match_the_independent_reference() {
    let c = vn();
    let (ref_off, ref_worked) = reference();
    assert!(ref_off.len() > 150, "the fixture is read");
    let mut cal_off = BTreeSet::new();
    let mut cal_worked = BTreeSet::new();
    for year in 2013..=2026 {
        let mut d = ymd(year, 1, 1);
        while d.year() == year {
            if !c.is_weekend(d) && !c.is_working_day(d) {
                cal_off.insert(d);
            }
            d = d.succ_opt().unwrap();
        }
        cal_worked.extend(c.swapped_working_days_in(year));
    }
    // Every difference is deliberate: the package does not model these decisions.
    // - 28/1/2014 was swapped for Saturday 25/1/2014 (and 29/1 for 8/2, which the package has
    //   off as a Tết day), and the 2014 break made the weekend Tết days up after the break
    //   (4/2 and 5/2): the package moves Saturday Tết days before the break from 2014, the
    //   decisions only from 2015.
    let only_in_calendar: Vec<_> = cal_off.difference(&ref_off).copied().collect();
    assert_eq!(only_in_calendar, [ymd(2014, 1, 28), ymd(2014, 2, 5)]);
    let only_in_reference: Vec<_> = ref_off.difference(&cal_off).copied().collect();
    assert_eq!(only_in_reference, [] as [NaiveDate; 0]);
    // - Saturdays worked that the package does not list: 5/1/2013 (for 31/12/2012), 23/2/2013
    //   (for 15/2/2013, which the package has off as a Tết day), 25/1/2014 and 8/2/2014 (for
    //   28/1 and 29/1/2014).
    let worked_only_in_calendar: Vec<_> = cal_worked.difference(&ref_worked).copied().collect();
    assert_eq!(
        worked_only_in_calendar,
        [
            ymd(2013, 1, 5),
            ymd(2013, 2, 23),
            ymd(2014, 1, 25),
            ymd(2014, 2, 8)
        ]
    );
    let worked_only_in_reference: Vec<_> = ref_worked.difference(&cal_worked).copied().collect();
    assert_eq!(worked_only_in_reference, [] as [NaiveDate; 0]);
}

#[test]
fn s22_the_rules_reproduce_every_decided_year_but_its_swaps() {
    // What the rules propose for a year and what the government decided differ only by the
    // swapped days: the Tết days (4 until 2013), the Saturday Tết day made up before the break
    // from 2015, compensation days and the day next to 2/9 all come out as decided.
    let c = vn();
    for year in 2013..=2026 {
        let weekdays = |days: Vec<memberflow_workflow::calendar::DayOff<'_>>| {
            days.into_iter()
                .filter(|d| !c.is_weekend(d.date) && d.kind != DayOffKind::Swapped)
                .map(|d| (d.date, d.holiday.id().to_owned(), d.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            weekdays(c.days_off_in(year)),
            weekdays(c.proposed_days_off_in(year)),
            "{year}"
        );
    }
}

#[test]
fn s22_saturday_tet_days_are_made_up_before_the_break_in_the_decided_years() {
    let c = vn();
    // (year, the working day before the break that makes up a Saturday Tết day)
    for (year, m, d) in [
        (2015, 2, 17),
        (2017, 1, 26),
        (2018, 2, 14),
        (2020, 1, 23),
        (2021, 2, 10),
        (2023, 1, 20),
        (2024, 2, 8),
        (2025, 1, 27),
    ] {
        let day = c.day_off(ymd(year, m, d)).unwrap();
        assert_eq!(
            (day.holiday.id(), day.kind),
            ("tet", DayOffKind::Compensation),
            "{year}"
        );
        let lunar = solar_to_lunar(day.date);
        assert_eq!(
            (lunar.month, lunar.day >= 28),
            (12, true),
            "{year}: {lunar:?}"
        );
    }
}

#[test]
fn s22_years_before_2013_follow_the_labour_code_1994() {
    let c = vn();
    // Tết 2012 is Monday 23/1: 4 days, the eve (Sunday 22/1) made up on Thursday 26/1. The
    // swap decided that year (27/1 for 4/2) is not known to the rules.
    assert_eq!(c.year_status(2012), YearStatus::Proposed);
    let tet: Vec<_> = c
        .proposed_days_off_in(2012)
        .into_iter()
        .filter(|d| d.holiday.id() == "tet")
        .map(|d| (d.date, d.kind))
        .collect();
    assert_eq!(
        tet,
        [
            (ymd(2012, 1, 22), DayOffKind::Holiday),
            (ymd(2012, 1, 23), DayOffKind::Holiday),
            (ymd(2012, 1, 24), DayOffKind::Holiday),
            (ymd(2012, 1, 25), DayOffKind::Holiday),
            (ymd(2012, 1, 26), DayOffKind::Compensation),
        ]
    );
    assert!(c.is_working_day(ymd(2012, 1, 27)));
    // One National Day day before 2021, no Hùng Kings' day before 2007, no 24/11 before 2026.
    assert!(c.is_working_day(ymd(2010, 9, 3))); // Fri after a Thursday 2/9
    assert!(c.is_working_day(ymd(2006, 4, 7))); // 10/3 lunar 2006
    assert!(c.holiday(ymd(2006, 4, 7)).is_none());
    assert!(c.is_working_day(ymd(2025, 11, 24)));
    assert!(!c.is_working_day(ymd(2027, 11, 24)));
}

#[test]
fn s22_swaps_of_2013_to_2019_are_recorded() {
    let c = vn();
    for (off, worked) in [
        ("2013-02-15", "2013-02-23"),
        ("2013-04-29", "2013-05-04"),
        ("2014-05-02", "2014-04-26"),
        ("2014-09-01", "2014-09-06"),
        ("2015-01-02", "2014-12-27"),
        ("2015-02-16", "2015-02-14"),
        ("2015-04-29", "2015-04-25"),
        ("2018-12-31", "2019-01-05"),
        ("2019-04-29", "2019-05-04"),
    ] {
        let day = c.day_off(date(off)).unwrap();
        assert_eq!(day.kind, DayOffKind::Swapped, "{off}");
        assert_eq!(day.status, YearStatus::Confirmed);
        assert!(c.is_working_day(date(worked)), "{worked}");
        assert!(c.is_weekend(date(worked)));
    }
    // A deadline in 2014 skips the break 28/1–5/2 and can fall on Saturday 8/2, worked.
    assert_eq!(c.add_working_days(ymd(2014, 1, 27), 1), ymd(2014, 2, 6));
    assert_eq!(c.add_working_days(ymd(2014, 2, 7), 1), ymd(2014, 2, 8));
}

/// docs/calendar.md's "Year by year" table and the calendar file's `unverified` lists say the
/// same: one row per listed year, naming every item the file leaves unverified (or
/// "verified" when it leaves none), so that correcting a year means editing one list and one
/// row, and a year cannot silently become "verified" in one place only.
#[test]
fn s22_the_docs_list_what_each_year_leaves_unverified() {
    let docs = include_str!("../../../docs/calendar.md");
    let cal = WorkingCalendar::vietnamese();
    let mut listed = 0;
    for (year, _) in cal.covered_years() {
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| {year} |")))
            .unwrap_or_else(|| panic!("docs/calendar.md has no row for {year}"));
        let items = cal.year_unverified(year);
        if items.is_empty() {
            assert!(row.ends_with("| verified |"), "{row}");
        }
        for item in items {
            assert!(
                row.contains(item.as_str()),
                "{year}: «{item}» missing from\n{row}"
            );
        }
        let cell = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert_eq!(cell, items.join("; "), "{year}");
        listed += 1;
    }
    assert_eq!(listed, 14, "2013–2026");
    // 2026 is provisional, and says why.
    assert!(
        cal.year_unverified(2026)
            .iter()
            .any(|i| i.contains("24/11")),
        "{:?}",
        cal.year_unverified(2026)
    );
    // A number the reference cites is recorded as written there.
    assert!(cal.year_source(2025).unwrap().contains("6150/TB-BLĐTBXH"));
}
