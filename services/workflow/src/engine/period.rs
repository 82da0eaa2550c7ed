//! Periods, thresholds and the date-counting conventions every rule shares.
//!
//! The conventions live in one place because the rules disagree in small ways that matter:
//! a deadline "within 60 working days of the resolution" does not count the day of the
//! resolution; an age "counted in months" is the number of whole months completed; a month
//! added to 31 January lands on the last day of February. See `docs/workflows.md`.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;

/// A length of time as the rules state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Working days ("ngày làm việc", S22): the start day is not counted.
    WorkingDays(u32),
    /// Calendar days: the start day is not counted.
    Days(u32),
    /// Calendar months; the day of month is clamped to the month's end when needed.
    Months(u32),
    /// Calendar years, counted as 12 months each.
    Years(u32),
}

impl Period {
    /// The last day of the period that starts on `start`, or `None` past the end of the calendar.
    pub fn after(self, start: NaiveDate, calendar: &WorkingCalendar) -> Option<NaiveDate> {
        match self {
            Period::WorkingDays(n) => Some(calendar.add_working_days(start, n)),
            Period::Days(n) => start.checked_add_days(Days::new(u64::from(n))),
            Period::Months(n) => start.checked_add_months(Months::new(n)),
            Period::Years(n) => start.checked_add_months(Months::new(n.checked_mul(12)?)),
        }
    }

    /// The day the period ending on `end` started: the inverse of [`Period::after`], used to
    /// place a reminder some time before a deadline.
    pub fn before(self, end: NaiveDate, calendar: &WorkingCalendar) -> Option<NaiveDate> {
        match self {
            Period::WorkingDays(n) => {
                // The calendar only counts forward; walk back one day at a time. Reminder
                // offsets are a few days, so the loop is short.
                let mut d = end;
                let mut left = n;
                while left > 0 {
                    d = d.checked_sub_days(Days::new(1))?;
                    if calendar.is_working_day(d) {
                        left -= 1;
                    }
                }
                Some(d)
            }
            Period::Days(n) => end.checked_sub_days(Days::new(u64::from(n))),
            Period::Months(n) => end.checked_sub_months(Months::new(n)),
            Period::Years(n) => end.checked_sub_months(Months::new(n.checked_mul(12)?)),
        }
    }

    /// The period in whole months, when it is stated in months or years (ages are).
    pub fn in_months(self) -> Option<u32> {
        match self {
            Period::Months(n) => Some(n),
            Period::Years(n) => n.checked_mul(12),
            Period::WorkingDays(_) | Period::Days(_) => None,
        }
    }

    /// Vietnamese wording, e.g. "60 ngày làm việc".
    pub fn vi(self) -> String {
        match self {
            Period::WorkingDays(n) => format!("{n} ngày làm việc"),
            Period::Days(n) => format!("{n} ngày"),
            Period::Months(n) => format!("{n} tháng"),
            Period::Years(n) => format!("{n} năm"),
        }
    }

    /// English wording, e.g. "60 working days".
    pub fn en(self) -> String {
        fn plural(n: u32, unit: &str) -> String {
            if n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        }
        match self {
            Period::WorkingDays(n) => plural(n, "working day"),
            Period::Days(n) => plural(n, "day"),
            Period::Months(n) => plural(n, "month"),
            Period::Years(n) => plural(n, "year"),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en())
    }
}

/// A vote threshold such as "at least 2/3" or "more than 1/2" of a denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// Numerator of the fraction.
    pub num: u32,
    /// Denominator of the fraction (never zero once parsed).
    pub den: u32,
    /// `true` for "more than" (`>`), `false` for "at least" (`>=`).
    pub strict: bool,
}

impl Threshold {
    /// Parses `">= 2/3"` or `"> 1/2"`.
    pub fn parse(text: &str) -> Option<Threshold> {
        let text = text.trim();
        let (strict, rest) = if let Some(rest) = text.strip_prefix(">=") {
            (false, rest)
        } else if let Some(rest) = text.strip_prefix('>') {
            (true, rest)
        } else {
            return None;
        };
        let (num, den) = rest.trim().split_once('/')?;
        let num: u32 = num.trim().parse().ok()?;
        let den: u32 = den.trim().parse().ok()?;
        if den == 0 || num > den {
            return None;
        }
        Some(Threshold { num, den, strict })
    }

    /// Whether `votes` out of `total` meet the threshold. Integer arithmetic: 6 of 9 is exactly
    /// 2/3, which a float comparison could get wrong.
    pub fn met(self, votes: u64, total: u64) -> bool {
        let lhs = u128::from(votes) * u128::from(self.den);
        let rhs = u128::from(self.num) * u128::from(total);
        if self.strict { lhs > rhs } else { lhs >= rhs }
    }

    /// The smallest number of votes out of `total` that meets the threshold.
    pub fn required(self, total: u64) -> u64 {
        let prod = u128::from(self.num) * u128::from(total);
        let den = u128::from(self.den);
        let needed = if self.strict {
            prod / den + 1
        } else {
            prod.div_ceil(den)
        };
        u64::try_from(needed).unwrap_or(u64::MAX)
    }

    /// Vietnamese wording, e.g. "ít nhất 2/3" or "quá 1/2".
    pub fn vi(self) -> String {
        if self.strict {
            format!("trên {}/{}", self.num, self.den)
        } else {
            format!("ít nhất {}/{}", self.num, self.den)
        }
    }

    /// English wording, e.g. "at least 2/3".
    pub fn en(self) -> String {
        if self.strict {
            format!("more than {}/{}", self.num, self.den)
        } else {
            format!("at least {}/{}", self.num, self.den)
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.strict { ">" } else { ">=" };
        write!(f, "{op} {}/{}", self.num, self.den)
    }
}

/// Whole months completed from `from` to `to` (E1 "tính theo tháng"): the largest `m` such
/// that `from` plus `m` months (clamped to the month's end) is on or before `to`. Negative when
/// `to` is before `from`.
pub fn full_months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return -full_months_between(to, from);
    }
    let mut months =
        i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    // The estimate counts calendar-month boundaries; step back while the anniversary falls after
    // `to` (at most once, but the loop keeps the reasoning obvious).
    while months > 0 && add_months(from, months).is_none_or(|d| d > to) {
        months -= 1;
    }
    months
}

fn add_months(d: NaiveDate, months: i64) -> Option<NaiveDate> {
    d.checked_add_months(Months::new(u32::try_from(months).ok()?))
}

/// Formats a date the way Vietnamese documents write it: `dd/mm/yyyy`.
pub fn fmt_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Vietnamese wording of a number of months as years and months ("17 năm 9 tháng").
pub fn months_vi(months: i64) -> String {
    let (y, m) = (months / 12, months % 12);
    match (y, m) {
        (0, m) => format!("{m} tháng"),
        (y, 0) => format!("{y} năm"),
        (y, m) => format!("{y} năm {m} tháng"),
    }
}

/// English wording of a number of months ("17 years 9 months").
pub fn months_en(months: i64) -> String {
    fn unit(n: i64, word: &str) -> String {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    }
    let (y, m) = (months / 12, months % 12);
    match (y, m) {
        (0, m) => unit(m, "month"),
        (y, 0) => unit(y, "year"),
        (y, m) => format!("{} {}", unit(y, "year"), unit(m, "month")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn full_months_counts_completed_months_only() {
        assert_eq!(full_months_between(d(2007, 5, 10), d(2025, 5, 10)), 216);
        assert_eq!(full_months_between(d(2007, 5, 10), d(2025, 5, 9)), 215);
        assert_eq!(full_months_between(d(2024, 1, 31), d(2024, 2, 29)), 1);
        assert_eq!(full_months_between(d(2024, 1, 31), d(2024, 2, 28)), 0);
        assert_eq!(full_months_between(d(2025, 5, 9), d(2007, 5, 10)), -215);
    }

    #[test]
    fn thresholds_use_exact_fractions() {
        let two_thirds = Threshold::parse(">= 2/3").expect("parses");
        assert!(two_thirds.met(6, 9));
        assert!(!two_thirds.met(5, 9));
        assert_eq!(two_thirds.required(9), 6);
        assert_eq!(two_thirds.required(10), 7);
        let half = Threshold::parse("> 1/2").expect("parses");
        assert!(!half.met(5, 10));
        assert!(half.met(6, 10));
        assert_eq!(half.required(10), 6);
        assert_eq!(half.required(9), 5);
        assert!(Threshold::parse("2/3").is_none());
        assert!(Threshold::parse(">= 3/0").is_none());
    }

    #[test]
    fn periods_count_without_the_start_day() {
        let cal = WorkingCalendar::weekends_only();
        // Friday 4 July 2025 + 1 working day = Monday 7 July.
        assert_eq!(
            Period::WorkingDays(1).after(d(2025, 7, 4), &cal),
            Some(d(2025, 7, 7))
        );
        assert_eq!(
            Period::WorkingDays(1).before(d(2025, 7, 7), &cal),
            Some(d(2025, 7, 4))
        );
        assert_eq!(
            Period::Months(1).after(d(2025, 1, 31), &cal),
            Some(d(2025, 2, 28))
        );
        assert_eq!(
            Period::Years(5).after(d(2020, 2, 29), &cal),
            Some(d(2025, 2, 28))
        );
        assert_eq!(
            Period::Days(30).after(d(2025, 7, 1), &cal),
            Some(d(2025, 7, 31))
        );
    }
}
