//! Working-day calendar (rule S22). Placeholder surface: weekends only, replaced by the
//! data-driven Vietnamese calendar.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// A calendar of working days.
#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {}

impl WorkingCalendar {
    /// A calendar whose only days off are Saturdays and Sundays.
    pub fn weekends_only() -> Self {
        Self {}
    }

    /// Whether `d` is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The date `n` working days after `start` (the start day itself is not counted).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = d.checked_add_days(Days::new(1)).unwrap_or(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`; negative when `to < from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let (a, b, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let mut n = 0;
        let mut d = a;
        while d < b {
            d = d.checked_add_days(Days::new(1)).unwrap_or(b);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        sign * n
    }
}
