//! Working-day calendar (rule S22): which days count as "ngày làm việc" for deadlines.
//!
//! A [`WorkingCalendar`] is data: weekend days, the public holidays as rules (a solar date, a
//! lunar date computed by [`lunar`], or no rule at all), and, per year, the days the government
//! actually decided (days off, compensation days, swapped days off and the weekend days worked in
//! exchange). A year listed in the file is authoritative; for any other year the rules *propose*
//! the days off (statutory holidays, the Tết days around 1/1 lunar, the next working day off when
//! a holiday falls on a weekend) and [`WorkingCalendar::year_status`] tells the caller that the
//! year is not confirmed. The Vietnamese calendar is `schemas/calendars/vn.toml`
//! ([`WorkingCalendar::vietnamese`]); its format and conventions are in `docs/calendar.md`.
//!
//! Counting convention: the start day is never counted, so "within N working days from D" ends
//! on `add_working_days(D, N)`, the last day on which the act is on time; that day is always a
//! working day (for N ≥ 1).

mod file;
pub mod lunar;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::ops::Bound;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

pub use file::{CalendarProblem, ProblemKind};
pub use lunar::{LunarDate, MonthKind, lunar_to_solar, solar_to_lunar};

/// The committed Vietnamese calendar, `schemas/calendars/vn.toml`.
pub const VIETNAM_TOML: &str = include_str!("../../../../schemas/calendars/vn.toml");

/// How far (in days) a compensation day is searched for after a holiday on a weekend.
const COMPENSATION_SEARCH_DAYS: u64 = 31;

/// A calendar of working days.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    name: String,
    /// Indexed by `Weekday::num_days_from_monday`.
    weekend: [bool; 7],
    holidays: Vec<Holiday>,
    /// The years the file lists, with their days.
    years: BTreeMap<i32, YearDays>,
}

impl Default for WorkingCalendar {
    fn default() -> Self {
        Self::weekends_only()
    }
}

/// A public holiday as the calendar file defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    id: String,
    name_vi: String,
    name_en: String,
    rule: DateRule,
    from_year: Option<i32>,
    /// From this year on, a day of the holiday on a Saturday is made up on the working day
    /// *before* the holiday (the decided Tết breaks since 2015); otherwise, and on other
    /// weekend days, on the working day after it (Labour Code art. 111(3)).
    saturday_before_from: Option<i32>,
}

impl Holiday {
    /// The stable identifier used in the calendar file (`tet`, `national-day`, …).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The name shown to users: Vietnamese.
    pub fn name(&self) -> &str {
        &self.name_vi
    }

    /// The Vietnamese name.
    pub fn name_vi(&self) -> &str {
        &self.name_vi
    }

    /// The English name.
    pub fn name_en(&self) -> &str {
        &self.name_en
    }
}

/// When a holiday falls, as a rule that proposes its dates in years the file does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DateRule {
    /// A fixed solar date; with an alternative, one of the two is chosen each year (the day
    /// next to 2/9): the proposal takes the one that joins the longer run of days off with
    /// the weekend, `date` on a tie.
    Solar {
        date: MonthDay,
        alternative: Option<MonthDay>,
    },
    /// A lunar date (regular month), and the days around it (offsets in days) that are off;
    /// `former` gives other offsets up to and including a year (Tết had 4 days until the
    /// Labour Code 2012 took effect on 1/5/2013).
    Lunar {
        date: MonthDay,
        offsets: Vec<i64>,
        former: Option<(i32, Vec<i64>)>,
    },
    /// No rule: the holiday only exists where a year lists it.
    Occasional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MonthDay {
    pub(crate) month: u32,
    pub(crate) day: u32,
}

impl MonthDay {
    fn in_year(self, year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }
}

impl DateRule {
    /// The offsets of a lunar holiday in `year` (empty for other rules).
    pub(crate) fn offsets_in(&self, year: i32) -> &[i64] {
        match self {
            DateRule::Lunar {
                former: Some((until, former)),
                ..
            } if year <= *until => former,
            DateRule::Lunar { offsets, .. } => offsets,
            _ => &[],
        }
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

/// Why a day is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DayOffKind {
    /// The holiday itself (including every day of the Tết break the government grants).
    Holiday,
    /// "Nghỉ bù": the working day off given because the holiday fell on a weekend day.
    Compensation,
    /// "Nghỉ hoán đổi": a working day given off in exchange for a weekend day worked.
    Swapped,
}

impl fmt::Display for DayOffKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DayOffKind::Holiday => "holiday",
            DayOffKind::Compensation => "compensation",
            DayOffKind::Swapped => "swapped",
        })
    }
}

/// How much to trust the days of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum YearStatus {
    /// The file lists the year from the government's decisions.
    Confirmed,
    /// The file lists the year, but not every decision is known yet.
    Provisional,
    /// The file does not list the year: the holiday rules propose its days off.
    Proposed,
}

/// A day off other than an ordinary weekend day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayOff<'a> {
    /// The day.
    pub date: NaiveDate,
    /// The holiday it belongs to (for a compensation or swapped day: the holiday it extends).
    pub holiday: &'a Holiday,
    /// Why the day is off.
    pub kind: DayOffKind,
    /// Whether the year is confirmed.
    pub status: YearStatus,
}

impl DayOff<'_> {
    /// The text shown to users: Vietnamese.
    pub fn name(&self) -> String {
        self.name_vi()
    }

    /// The Vietnamese description, e.g. "Nghỉ bù Giỗ Tổ Hùng Vương".
    pub fn name_vi(&self) -> String {
        let name = self.holiday.name_vi();
        match self.kind {
            DayOffKind::Holiday => name.to_owned(),
            DayOffKind::Compensation => format!("Nghỉ bù {name}"),
            DayOffKind::Swapped => format!("Nghỉ hoán đổi dịp {name}"),
        }
    }

    /// The English description, e.g. "Compensation day for Hùng Kings' Commemoration Day".
    pub fn name_en(&self) -> String {
        let name = self.holiday.name_en();
        match self.kind {
            DayOffKind::Holiday => name.to_owned(),
            DayOffKind::Compensation => format!("Compensation day for {name}"),
            DayOffKind::Swapped => format!("Swapped day off for {name}"),
        }
    }
}

/// The days of one year that differ from "weekdays work, weekend days do not".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YearDays {
    pub(crate) status: YearStatus,
    /// The government document(s) the file cites for the year.
    pub(crate) source: Option<String>,
    /// What of the year's entry was not checked against the decisions (`unverified`).
    pub(crate) unverified: Vec<String>,
    pub(crate) exceptions: BTreeMap<NaiveDate, Exception>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exception {
    /// A day off; `holiday` indexes `WorkingCalendar::holidays`.
    Off { holiday: usize, kind: DayOffKind },
    /// A weekend day worked in exchange for a swapped day off.
    Worked,
}

impl WorkingCalendar {
    /// A calendar whose only days off are Saturdays and Sundays.
    pub fn weekends_only() -> Self {
        Self {
            name: "weekends only".to_owned(),
            weekend: weekend_mask(&[Weekday::Sat, Weekday::Sun]),
            holidays: Vec::new(),
            years: BTreeMap::new(),
        }
    }

    /// The Vietnamese calendar for public servants, from the committed
    /// `schemas/calendars/vn.toml` (parsed once per process).
    pub fn vietnamese() -> Self {
        static VIETNAM: OnceLock<WorkingCalendar> = OnceLock::new();
        VIETNAM
            .get_or_init(|| match Self::from_toml_str(VIETNAM_TOML) {
                Ok(calendar) => calendar,
                // The tests parse the committed file, so this cannot happen in a tested build.
                Err(problems) => panic!(
                    "schemas/calendars/vn.toml is invalid:\n{}",
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            })
            .clone()
    }

    /// Parses and validates a calendar file, reporting every problem found.
    pub fn from_toml_str(src: &str) -> Result<WorkingCalendar, Vec<CalendarProblem>> {
        file::parse(src)
    }

    /// The calendar's name, from its file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The holidays the calendar defines.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// Whether `d` falls on a weekly rest day (whatever the holidays and swaps).
    pub fn is_weekend(&self, d: NaiveDate) -> bool {
        self.weekend[d.weekday().num_days_from_monday() as usize]
    }

    /// Whether `d` is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.year_days(d.year()).is_working(self, d)
    }

    /// The date `n` working days after `start` (the start day itself is not counted).
    ///
    /// For `n ≥ 1` the result is always a working day; `n = 0` gives `start` back. A start day
    /// that is not a working day is simply not counted, like any start day. Saturates at
    /// chrono's last date instead of panicking.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut remaining = i64::from(n);
        let mut pos = start;
        while remaining > 0 {
            let Some(next) = pos.succ_opt() else {
                return NaiveDate::MAX;
            };
            let days = self.year_days(next.year());
            let year_end = last_day_of_year(next.year());
            let available = self.count_in_year(&days, pos, year_end);
            if available < remaining {
                remaining -= available;
                pos = year_end;
                continue;
            }
            // The answer lies in this year: at most 366 steps.
            let mut d = pos;
            while remaining > 0 {
                let Some(next) = d.succ_opt() else {
                    return NaiveDate::MAX;
                };
                d = next;
                if days.is_working(self, d) {
                    remaining -= 1;
                }
            }
            return d;
        }
        pos
    }

    /// Working days in `(from, to]`; negative when `to < from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut total = 0;
        let mut pos = from;
        while pos < to {
            let Some(next) = pos.succ_opt() else {
                break;
            };
            let end = last_day_of_year(next.year()).min(to);
            total += self.count_in_year(&self.year_days(next.year()), pos, end);
            pos = end;
        }
        total
    }

    /// The day off on `d`, if `d` is a holiday, a compensation day or a swapped day off
    /// (ordinary weekend days give `None`).
    pub fn day_off(&self, d: NaiveDate) -> Option<DayOff<'_>> {
        let days = self.year_days(d.year());
        match days.exceptions.get(&d) {
            Some(&Exception::Off { holiday, kind }) => Some(DayOff {
                date: d,
                holiday: self.holidays.get(holiday)?,
                kind,
                status: days.status,
            }),
            _ => None,
        }
    }

    /// The holiday `d` belongs to (a compensation or swapped day belongs to the holiday it
    /// extends), if any.
    pub fn holiday(&self, d: NaiveDate) -> Option<&Holiday> {
        self.day_off(d).map(|day| day.holiday)
    }

    /// Every day off of `year` other than ordinary weekend days, in date order.
    pub fn days_off_in(&self, year: i32) -> Vec<DayOff<'_>> {
        let days = self.year_days(year);
        days.exceptions
            .iter()
            .filter_map(|(&date, exception)| match *exception {
                Exception::Off { holiday, kind } => Some(DayOff {
                    date,
                    holiday: self.holidays.get(holiday)?,
                    kind,
                    status: days.status,
                }),
                Exception::Worked => None,
            })
            .collect()
    }

    /// The days off the holiday rules alone propose for `year` (whether or not the file lists
    /// the year), in date order: what the file's decided days are compared with.
    pub fn proposed_days_off_in(&self, year: i32) -> Vec<DayOff<'_>> {
        self.proposed_year(year)
            .exceptions
            .into_iter()
            .filter_map(|(date, exception)| match exception {
                Exception::Off { holiday, kind } => Some(DayOff {
                    date,
                    holiday: self.holidays.get(holiday)?,
                    kind,
                    status: YearStatus::Proposed,
                }),
                Exception::Worked => None,
            })
            .collect()
    }

    /// The weekend days of `year` that are working days (worked in exchange for a swapped day
    /// off), in date order.
    pub fn swapped_working_days_in(&self, year: i32) -> Vec<NaiveDate> {
        self.year_days(year)
            .exceptions
            .iter()
            .filter(|(_, exception)| matches!(exception, Exception::Worked))
            .map(|(&date, _)| date)
            .collect()
    }

    /// Whether the days of `year` come from the government's decisions or only from the rules.
    pub fn year_status(&self, year: i32) -> YearStatus {
        self.years
            .get(&year)
            .map_or(YearStatus::Proposed, |days| days.status)
    }

    /// The government document(s) the calendar file cites for `year`, if it lists the year.
    pub fn year_source(&self, year: i32) -> Option<&str> {
        self.years
            .get(&year)
            .and_then(|days| days.source.as_deref())
    }

    /// What the calendar file says was not verified of `year`'s entry (`unverified`: a
    /// document number not seen, a day taken from a secondary source); empty when the file
    /// does not list the year or everything in it was checked.
    pub fn year_unverified(&self, year: i32) -> &[String] {
        self.years
            .get(&year)
            .map_or(&[], |days| days.unverified.as_slice())
    }

    /// The years the calendar file lists, with their status, in order.
    pub fn covered_years(&self) -> impl Iterator<Item = (i32, YearStatus)> + '_ {
        self.years.iter().map(|(&year, days)| (year, days.status))
    }

    /// The confirmed years, in order.
    pub fn confirmed_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.covered_years()
            .filter(|&(_, status)| status == YearStatus::Confirmed)
            .map(|(year, _)| year)
    }

    /// Whether every year from `from` to `to` (in either order) is confirmed, i.e. whether a
    /// count of working days over that span rests only on the government's decisions.
    pub fn is_span_confirmed(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let (a, b) = if from <= to { (from, to) } else { (to, from) };
        (a.year()..=b.year()).all(|year| self.year_status(year) == YearStatus::Confirmed)
    }

    /// A `[years.N]` section for the calendar file with the days the rules propose for
    /// `year`, as a starting point for an administrator entering the government's decisions.
    pub fn propose_year_section(&self, year: i32) -> String {
        let days = self.proposed_year(year);
        let mut out = format!(
            "[years.{year}]\nstatus = \"provisional\"\nsource = \"proposal computed from the \
             holiday rules; replace with the government's notice\"\ndays_off = [\n"
        );
        for (date, exception) in &days.exceptions {
            if let Exception::Off { holiday, kind } = *exception {
                let id = self.holidays.get(holiday).map_or("", |h| h.id());
                let weekday = date.format("%a");
                match kind {
                    DayOffKind::Holiday => out.push_str(&format!(
                        "  {{ date = {date}, holiday = \"{id}\" }}, # {weekday}\n"
                    )),
                    _ => out.push_str(&format!(
                        "  {{ date = {date}, holiday = \"{id}\", kind = \"{kind}\" }}, # {weekday}\n"
                    )),
                }
            }
        }
        out.push_str("]\nworking_days = []\n");
        out
    }

    /// The days of `year`: the file's if it lists the year, the rules' proposal otherwise.
    fn year_days(&self, year: i32) -> Cow<'_, YearDays> {
        match self.years.get(&year) {
            Some(days) => Cow::Borrowed(days),
            None => Cow::Owned(self.proposed_year(year)),
        }
    }

    /// Working days in `(after, until]`, both in the same year described by `days`.
    fn count_in_year(&self, days: &YearDays, after: NaiveDate, until: NaiveDate) -> i64 {
        if until <= after {
            return 0;
        }
        let mut count = self.weekdays_between(after, until);
        for (&date, exception) in days
            .exceptions
            .range((Bound::Excluded(after), Bound::Included(until)))
        {
            match exception {
                Exception::Off { .. } if !self.is_weekend(date) => count -= 1,
                Exception::Worked if self.is_weekend(date) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// Days in `(after, until]` that are not weekend days, by arithmetic.
    fn weekdays_between(&self, after: NaiveDate, until: NaiveDate) -> i64 {
        let total = (until - after).num_days();
        let per_week = self.weekend.iter().filter(|&&off| !off).count() as i64;
        let mut count = total / 7 * per_week;
        // The remaining days start just after `after` shifted by whole weeks, so they have the
        // weekdays of `after + 1 ..= after + rem`.
        let first = after.weekday().succ().num_days_from_monday() as usize;
        for i in 0..(total % 7) as usize {
            if !self.weekend[(first + i) % 7] {
                count += 1;
            }
        }
        count
    }

    /// The days off the holiday rules propose for `year`.
    pub(crate) fn proposed_year(&self, year: i32) -> YearDays {
        let mut exceptions = BTreeMap::new();
        // Holidays that fell on a weekend day or on another holiday, to compensate.
        let mut to_compensate: Vec<(NaiveDate, usize)> = Vec::new();
        let mut put = |date: NaiveDate, holiday: usize, exceptions: &mut BTreeMap<_, _>| {
            if date.year() != year {
                return;
            }
            match exceptions.entry(date) {
                Entry::Occupied(_) => to_compensate.push((date, holiday)),
                Entry::Vacant(vacant) => {
                    vacant.insert(Exception::Off {
                        holiday,
                        kind: DayOffKind::Holiday,
                    });
                    if self.is_weekend(date) {
                        to_compensate.push((date, holiday));
                    }
                }
            }
        };
        // Days with a single possible date first, so that choosing between two candidate
        // days sees every other holiday of the year.
        for (index, holiday) in self.holidays.iter().enumerate() {
            if holiday.from_year.is_some_and(|from| year < from) {
                continue;
            }
            match &holiday.rule {
                DateRule::Solar {
                    date,
                    alternative: None,
                } => {
                    if let Some(d) = date.in_year(year) {
                        put(d, index, &mut exceptions);
                    }
                }
                DateRule::Lunar { date, .. } => {
                    let base = lunar_to_solar(year, date.month, date.day, MonthKind::Regular);
                    for &offset in holiday.rule.offsets_in(year) {
                        if let Some(d) = base.and_then(|b| shift(b, offset)) {
                            put(d, index, &mut exceptions);
                        }
                    }
                }
                DateRule::Solar { .. } | DateRule::Occasional => {}
            }
        }
        for (index, holiday) in self.holidays.iter().enumerate() {
            if holiday.from_year.is_some_and(|from| year < from) {
                continue;
            }
            if let DateRule::Solar {
                date,
                alternative: Some(alternative),
            } = &holiday.rule
            {
                let chosen = match (date.in_year(year), alternative.in_year(year)) {
                    (Some(primary), Some(alt)) => {
                        self.joining_longer_run(primary, alt, &exceptions)
                    }
                    (Some(only), None) | (None, Some(only)) => only,
                    (None, None) => continue,
                };
                put(chosen, index, &mut exceptions);
            }
        }
        to_compensate.sort();
        for (date, holiday) in to_compensate {
            // A Saturday day of a holiday that is made up before it (Tết since 2015): the
            // working day before the break; anything else: the working day after.
            let backwards = date.weekday() == Weekday::Sat
                && self
                    .holidays
                    .get(holiday)
                    .is_some_and(|h| h.saturday_before_from.is_some_and(|from| year >= from));
            let mut candidate = date;
            for _ in 0..COMPENSATION_SEARCH_DAYS {
                let next = if backwards {
                    candidate.pred_opt()
                } else {
                    candidate.succ_opt()
                };
                let Some(next) = next else {
                    break;
                };
                candidate = next;
                if candidate.year() != year {
                    break;
                }
                if !self.is_weekend(candidate) && !exceptions.contains_key(&candidate) {
                    exceptions.insert(
                        candidate,
                        Exception::Off {
                            holiday,
                            kind: DayOffKind::Compensation,
                        },
                    );
                    break;
                }
            }
        }
        YearDays {
            status: YearStatus::Proposed,
            source: None,
            unverified: Vec::new(),
            exceptions,
        }
    }

    /// Of two candidate days for a holiday, the one joining the longer run of consecutive days
    /// off (weekend days and days already off), `primary` on a tie.
    fn joining_longer_run(
        &self,
        primary: NaiveDate,
        alternative: NaiveDate,
        off: &BTreeMap<NaiveDate, Exception>,
    ) -> NaiveDate {
        let run = |chosen: NaiveDate| {
            let is_off = |d: NaiveDate| {
                d == chosen
                    || self.is_weekend(d)
                    || matches!(off.get(&d), Some(Exception::Off { .. }))
            };
            let mut length = 1;
            let mut d = chosen;
            while let Some(prev) = d.pred_opt()
                && is_off(prev)
                && length < 60
            {
                length += 1;
                d = prev;
            }
            let mut d = chosen;
            while let Some(next) = d.succ_opt()
                && is_off(next)
                && length < 120
            {
                length += 1;
                d = next;
            }
            length
        };
        if run(alternative) > run(primary) {
            alternative
        } else {
            primary
        }
    }
}

impl YearDays {
    fn is_working(&self, calendar: &WorkingCalendar, d: NaiveDate) -> bool {
        match self.exceptions.get(&d) {
            Some(Exception::Off { .. }) => false,
            Some(Exception::Worked) => true,
            None => !calendar.is_weekend(d),
        }
    }
}

pub(crate) fn weekend_mask(days: &[Weekday]) -> [bool; 7] {
    let mut mask = [false; 7];
    for day in days {
        mask[day.num_days_from_monday() as usize] = true;
    }
    mask
}

fn last_day_of_year(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
}

pub(crate) fn shift(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    date.checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// A calendar date written exactly `YYYY-MM-DD` (four digits, two, two): `2023-1-1`,
/// ` 2023-01-01` or `+2023-01-01` are not dates.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_exactly_four_two_and_two_digits() {
        assert_eq!(
            parse_iso_date("2023-01-01"),
            NaiveDate::from_ymd_opt(2023, 1, 1)
        );
        for bad in [
            "2023-1-1",
            "2023-01-1",
            " 2023-01-01",
            "2023-01-01 ",
            "+2023-01-01",
            "2023/01/01",
            "2023-02-30",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekdays_between_matches_stepping() {
        let calendar = WorkingCalendar::weekends_only();
        let start = ymd(2025, 1, 1);
        for len in 0..40 {
            let end = start + chrono::Days::new(len);
            let stepped = (1..=len)
                .filter(|&i| !calendar.is_weekend(start + chrono::Days::new(i)))
                .count() as i64;
            assert_eq!(calendar.weekdays_between(start, end), stepped, "len {len}");
        }
    }

    #[test]
    fn the_run_heuristic_reproduces_past_choices_of_the_day_next_to_national_day() {
        let calendar = WorkingCalendar::weekends_only();
        // (year, chosen day in September) as the government decided.
        for (year, chosen) in [(2021, 3), (2022, 1), (2023, 1), (2024, 3), (2025, 1)] {
            let national_day = Exception::Off {
                holiday: 0,
                kind: DayOffKind::Holiday,
            };
            let off = BTreeMap::from([(ymd(year, 9, 2), national_day)]);
            let got = calendar.joining_longer_run(ymd(year, 9, 1), ymd(year, 9, 3), &off);
            assert_eq!(got, ymd(year, 9, chosen), "{year}");
        }
    }

    #[test]
    fn extreme_dates_saturate_without_panicking() {
        let calendar = WorkingCalendar::vietnamese();
        let near_end = ymd(262_142, 12, 1);
        assert_eq!(calendar.add_working_days(near_end, 1000), NaiveDate::MAX);
        assert_eq!(calendar.add_working_days(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert!(calendar.working_days_between(ymd(262_000, 1, 1), NaiveDate::MAX) > 0);
        assert!(calendar.working_days_between(NaiveDate::MIN, ymd(-261_000, 1, 1)) > 0);
    }
}
