//! Reading a calendar file (`schemas/calendars/*.toml`) into a [`WorkingCalendar`].
//!
//! The file is read piece by piece (each holiday, each year, each listed day on its own) so
//! that one mistake does not hide the next: [`parse`] reports every problem it finds, each
//! with its place in the file. The format is described in `docs/calendar.md`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use super::lunar::{self, MonthKind};
use super::{
    DateRule, DayOffKind, Exception, Holiday, MonthDay, WorkingCalendar, YearDays, YearStatus,
    shift, weekend_mask,
};

/// The longest range of days off one entry may give (a Tết break is about 9 days).
const MAX_RANGE_DAYS: i64 = 31;

/// How far (in days) from 1/1 lunar the days off of a multi-day lunar holiday may lie.
const LUNAR_WINDOW_DAYS: i64 = 10;

/// One problem in a calendar file, with its place (`years.2025.days_off[3]`, `holidays[2]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {kind}")]
pub struct CalendarProblem {
    /// Where in the file: a key path such as `years.2025.days_off[3]`, or `file`.
    pub place: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a part of a calendar file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// The text is not TOML at all (nothing else can be checked).
    #[error("not valid TOML: {0}")]
    Syntax(String),
    /// A key is unknown or missing, or a value has the wrong type.
    #[error("{0}")]
    Shape(String),
    /// A top-level key the format does not have.
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    /// A date that is not a real `YYYY-MM-DD` date.
    #[error("{0} is not a valid date (expected YYYY-MM-DD)")]
    BadDate(String),
    /// A month and day that are not a valid `MM-DD`.
    #[error("{0:?} is not a valid month and day (expected \"MM-DD\", not 02-29)")]
    BadMonthDay(String),
    /// A weekend entry that is not a weekday name.
    #[error("{0:?} is not a weekday name (expected Mon, Tue, Wed, Thu, Fri, Sat or Sun)")]
    BadWeekday(String),
    /// A year key that is not a year the calendar can hold.
    #[error("{0:?} is not a year from 1800 to 2199")]
    BadYear(String),
    /// A date listed in the section of another year.
    #[error("{date} is outside the year {year}")]
    OutsideYear { date: NaiveDate, year: i32 },
    /// The same day, weekday or holiday id appears twice.
    #[error("{what} is listed twice (first at {first})")]
    Duplicate { what: String, first: String },
    /// A day off that names a holiday the file does not define.
    #[error("unknown holiday `{0}` (define it under [[holidays]])")]
    UnknownHoliday(String),
    /// A swapped working day that is not a weekend day.
    #[error(
        "{date} is a {weekday}, not a weekend day: only a weekend day can be listed as a working day"
    )]
    WorkingDayNotWeekend { date: NaiveDate, weekday: Weekday },
    /// A compensation or swapped day off on a weekend day, where it gives nothing.
    #[error(
        "{date} is a {weekday}, a weekend day: a {kind} day off must fall on a day that would otherwise be worked"
    )]
    DayOffOnWeekend {
        date: NaiveDate,
        weekday: Weekday,
        kind: DayOffKind,
    },
    /// A year that does not list one of the statutory holidays.
    #[error("{holiday} ({expected}) is not listed as a day off")]
    MissingHoliday { holiday: String, expected: String },
    /// A weekday listed as a holiday on a date the holiday cannot have.
    #[error(
        "{date} is listed as {holiday} itself, which falls on {expected}; if this day replaces it, write kind = \"compensation\" or \"swapped\""
    )]
    WrongHolidayDate {
        holiday: String,
        date: NaiveDate,
        expected: String,
    },
    /// A compensation day for a holiday none of whose days that year is a weekend day.
    #[error(
        "{date} is a compensation day for {holiday}, but no day of {holiday} that year falls on a weekend day or another holiday"
    )]
    NothingToCompensate { holiday: String, date: NaiveDate },
    /// Anything else, in words.
    #[error("{0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    id: String,
    name_vi: String,
    name_en: String,
    #[serde(default)]
    solar: Option<String>,
    #[serde(default)]
    alternative: Option<String>,
    #[serde(default)]
    lunar: Option<String>,
    #[serde(default)]
    days: Option<Vec<i64>>,
    #[serde(default)]
    from_year: Option<i32>,
    #[serde(default)]
    former_days: Option<RawFormerDays>,
    #[serde(default)]
    saturday_before_from: Option<i32>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// Other `days` of a lunar holiday up to and including a year.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFormerDays {
    until_year: i32,
    days: Vec<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    #[serde(default = "confirmed")]
    status: YearStatus,
    source: String,
    /// What of the year's entry was not checked against the decisions themselves.
    #[serde(default)]
    unverified: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    days_off: Vec<toml::Value>,
    #[serde(default)]
    working_days: Vec<toml::Value>,
}

fn confirmed() -> YearStatus {
    YearStatus::Confirmed
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDayOff {
    #[serde(default)]
    date: Option<toml::Value>,
    #[serde(default)]
    from: Option<toml::Value>,
    #[serde(default)]
    to: Option<toml::Value>,
    holiday: String,
    #[serde(default)]
    kind: Option<DayOffKind>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkingDay {
    date: toml::Value,
    #[serde(default)]
    makes_up_for: Option<toml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

/// Collects problems while reading.
#[derive(Default)]
struct Problems(Vec<CalendarProblem>);

impl Problems {
    fn push(&mut self, place: impl Into<String>, kind: ProblemKind) {
        self.0.push(CalendarProblem {
            place: place.into(),
            kind,
        });
    }

    /// Deserializes `value` as `T`, or records why not.
    fn read<T: for<'de> Deserialize<'de>>(&mut self, place: &str, value: toml::Value) -> Option<T> {
        match value.try_into::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                self.push(place, ProblemKind::Shape(e.message().to_owned()));
                None
            }
        }
    }

    fn date(&mut self, place: &str, value: &toml::Value) -> Option<NaiveDate> {
        let parsed = match value {
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                dt.date.and_then(|d| {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                })
            }
            toml::Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            _ => None,
        };
        if parsed.is_none() {
            self.push(place, ProblemKind::BadDate(value.to_string()));
        }
        parsed
    }
}

/// A day listed in a year, with the place that listed it.
struct Listed {
    exception: Exception,
    place: String,
}

/// Reads and checks a whole calendar file.
pub(crate) fn parse(src: &str) -> Result<WorkingCalendar, Vec<CalendarProblem>> {
    let table: toml::Table = match src.parse() {
        Ok(table) => table,
        Err(e) => {
            return Err(vec![CalendarProblem {
                place: "file".to_owned(),
                kind: ProblemKind::Syntax(e.to_string()),
            }]);
        }
    };
    let mut table = table;
    let mut problems = Problems::default();
    // Known keys in a fixed order (the table's own order depends on crate features), then the
    // unknown ones.
    let name: String = table
        .remove("name")
        .and_then(|value| problems.read("name", value))
        .unwrap_or_default();
    let weekend = table.remove("weekends").map(|value| {
        let days: Vec<String> = problems.read("weekends", value).unwrap_or_default();
        read_weekends(&mut problems, &days)
    });
    let raw_holidays: Vec<toml::Value> = table
        .remove("holidays")
        .and_then(|value| problems.read("holidays", value))
        .unwrap_or_default();
    let raw_years: BTreeMap<String, toml::Value> = table
        .remove("years")
        .and_then(|value| problems.read("years", value))
        .unwrap_or_default();
    for key in table.keys() {
        problems.push(key.as_str(), ProblemKind::UnknownKey(key.clone()));
    }
    let weekend = weekend.unwrap_or_else(|| {
        problems.push(
            "file",
            ProblemKind::Shape("missing key `weekends`".to_owned()),
        );
        weekend_mask(&[Weekday::Sat, Weekday::Sun])
    });
    let mut calendar = WorkingCalendar {
        name,
        weekend,
        holidays: Vec::new(),
        years: BTreeMap::new(),
    };
    // Ids of holidays too broken to define, so that their uses are not reported again.
    let mut broken_ids = HashSet::new();
    read_holidays(&mut problems, &mut calendar, raw_holidays, &mut broken_ids);

    let mut swapped_off = BTreeSet::new();
    let mut make_ups = Vec::new();
    for (key, value) in raw_years {
        let place = format!("years.{key}");
        let year = key
            .parse::<i32>()
            .ok()
            .filter(|year| lunar::SUPPORTED_YEARS.contains(year));
        let Some(year) = year else {
            problems.push(place, ProblemKind::BadYear(key));
            continue;
        };
        let Some(raw) = problems.read::<RawYear>(&place, value) else {
            continue;
        };
        if raw.status == YearStatus::Proposed {
            problems.push(
                &place,
                ProblemKind::Invalid(
                    "status must be \"confirmed\" or \"provisional\" (a year the file lists is \
                     not a proposal)"
                        .to_owned(),
                ),
            );
        }
        let listed = read_year(
            &mut problems,
            &calendar,
            &broken_ids,
            year,
            &raw,
            &mut make_ups,
        );
        check_year(&mut problems, &calendar, year, &listed);
        swapped_off.extend(listed.iter().filter_map(|(&date, day)| {
            matches!(
                day.exception,
                Exception::Off {
                    kind: DayOffKind::Swapped,
                    ..
                }
            )
            .then_some(date)
        }));
        let exceptions = listed
            .into_iter()
            .map(|(date, day)| (date, day.exception))
            .collect();
        calendar.years.insert(
            year,
            YearDays {
                status: raw.status,
                source: Some(raw.source),
                unverified: raw.unverified,
                exceptions,
            },
        );
    }
    for (place, date) in make_ups {
        if !swapped_off.contains(&date) {
            problems.push(
                place,
                ProblemKind::Invalid(format!(
                    "makes_up_for = {date}, but {date} is not listed as a day off with kind = \"swapped\""
                )),
            );
        }
    }
    if problems.0.is_empty() {
        Ok(calendar)
    } else {
        Err(problems.0)
    }
}

fn read_weekends(problems: &mut Problems, days: &[String]) -> [bool; 7] {
    let mut seen: Vec<Weekday> = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let place = format!("weekends[{i}]");
        match day.parse::<Weekday>() {
            Ok(weekday) if seen.contains(&weekday) => problems.push(
                place,
                ProblemKind::Duplicate {
                    what: weekday.to_string(),
                    first: "weekends".to_owned(),
                },
            ),
            Ok(weekday) => seen.push(weekday),
            Err(_) => problems.push(place, ProblemKind::BadWeekday(day.clone())),
        }
    }
    if seen.len() >= 7 {
        problems.push(
            "weekends",
            ProblemKind::Invalid("every day of the week is a weekend day".to_owned()),
        );
    }
    weekend_mask(&seen)
}

fn read_holidays(
    problems: &mut Problems,
    calendar: &mut WorkingCalendar,
    raw_holidays: Vec<toml::Value>,
    broken_ids: &mut HashSet<String>,
) {
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut solar_dates: BTreeMap<(u32, u32), String> = BTreeMap::new();
    for (i, value) in raw_holidays.into_iter().enumerate() {
        let id_hint = value
            .get("id")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        let place = match &id_hint {
            Some(id) => format!("holidays[{i}] ({id})"),
            None => format!("holidays[{i}]"),
        };
        let Some(raw) = problems.read::<RawHoliday>(&place, value) else {
            broken_ids.extend(id_hint);
            continue;
        };
        if let Some(first) = ids.get(&raw.id) {
            problems.push(
                &place,
                ProblemKind::Duplicate {
                    what: format!("holiday id `{}`", raw.id),
                    first: first.clone(),
                },
            );
            continue;
        }
        ids.insert(raw.id.clone(), place.clone());
        for (field, text) in [
            ("id", &raw.id),
            ("name_vi", &raw.name_vi),
            ("name_en", &raw.name_en),
        ] {
            if text.trim().is_empty() {
                problems.push(&place, ProblemKind::Invalid(format!("`{field}` is empty")));
            }
        }
        let rule = read_rule(problems, &place, &raw);
        if let DateRule::Solar { date, alternative } = &rule {
            for md in std::iter::once(date).chain(alternative) {
                let key = (md.month, md.day);
                match solar_dates.get(&key) {
                    Some(first) => problems.push(
                        &place,
                        ProblemKind::Duplicate {
                            what: format!("the date {md}"),
                            first: first.clone(),
                        },
                    ),
                    None => {
                        solar_dates.insert(key, place.clone());
                    }
                }
            }
        }
        calendar.holidays.push(Holiday {
            id: raw.id,
            name_vi: raw.name_vi,
            name_en: raw.name_en,
            rule,
            from_year: raw.from_year,
            saturday_before_from: raw.saturday_before_from,
        });
    }
}

/// The date rule of a holiday; `Occasional` (after recording why) when it is inconsistent.
fn read_rule(problems: &mut Problems, place: &str, raw: &RawHoliday) -> DateRule {
    match (&raw.solar, &raw.lunar) {
        (Some(_), Some(_)) => {
            problems.push(
                place,
                ProblemKind::Invalid("give either `solar` or `lunar`, not both".to_owned()),
            );
            DateRule::Occasional
        }
        (Some(solar), None) => {
            if raw.days.is_some() || raw.former_days.is_some() {
                problems.push(
                    place,
                    ProblemKind::Invalid(
                        "`days` and `former_days` are only for a `lunar` holiday".to_owned(),
                    ),
                );
            }
            let date = read_month_day(problems, place, solar, Reckoning::Solar);
            let alternative = raw
                .alternative
                .as_deref()
                .map(|alt| read_month_day(problems, place, alt, Reckoning::Solar));
            match (date, alternative) {
                (Some(date), None) => DateRule::Solar {
                    date,
                    alternative: None,
                },
                (Some(date), Some(Some(alt))) => DateRule::Solar {
                    date,
                    alternative: Some(alt),
                },
                _ => DateRule::Occasional,
            }
        }
        (None, Some(lunar)) => {
            if raw.alternative.is_some() {
                problems.push(
                    place,
                    ProblemKind::Invalid("`alternative` is only for a `solar` holiday".to_owned()),
                );
            }
            let sorted = read_offsets(problems, place, "days", raw.days.as_deref());
            let former = raw.former_days.as_ref().map(|former| {
                (
                    former.until_year,
                    read_offsets(problems, place, "former_days.days", Some(&former.days)),
                )
            });
            match read_month_day(problems, place, lunar, Reckoning::Lunar) {
                Some(date) => DateRule::Lunar {
                    date,
                    offsets: sorted,
                    former,
                },
                None => DateRule::Occasional,
            }
        }
        (None, None) => {
            if raw.alternative.is_some() || raw.days.is_some() || raw.former_days.is_some() {
                problems.push(
                    place,
                    ProblemKind::Invalid(
                        "`alternative`, `days` and `former_days` need a `solar` or `lunar` date"
                            .to_owned(),
                    ),
                );
            }
            DateRule::Occasional
        }
    }
}

/// Reads the offsets of a lunar holiday (`[0]` when absent): distinct, within the window,
/// including 0; sorted.
fn read_offsets(problems: &mut Problems, place: &str, key: &str, days: Option<&[i64]>) -> Vec<i64> {
    let offsets = days.map_or_else(|| vec![0], <[i64]>::to_vec);
    let mut sorted = offsets.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if !offsets.contains(&0)
        || sorted.len() != offsets.len()
        || offsets.iter().any(|o| o.abs() > LUNAR_WINDOW_DAYS)
    {
        problems.push(
            place,
            ProblemKind::Invalid(format!(
                "`{key}` must list distinct offsets from -{LUNAR_WINDOW_DAYS} to \
                 {LUNAR_WINDOW_DAYS} including 0 (the lunar date itself), got {offsets:?}"
            )),
        );
    }
    sorted
}

/// Which calendar a month and day belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reckoning {
    Solar,
    Lunar,
}

/// Reads an `MM-DD`: a lunar one may be any day 1–30 of months 1–12, a solar one must exist
/// every year (so not 02-29).
fn read_month_day(
    problems: &mut Problems,
    place: &str,
    text: &str,
    reckoning: Reckoning,
) -> Option<MonthDay> {
    let parsed = text.split_once('-').and_then(|(m, d)| {
        if m.len() != 2 || d.len() != 2 {
            return None;
        }
        let (month, day) = (m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
        let valid = match reckoning {
            Reckoning::Lunar => (1..=12).contains(&month) && (1..=30).contains(&day),
            // 2001 is not a leap year.
            Reckoning::Solar => NaiveDate::from_ymd_opt(2001, month, day).is_some(),
        };
        valid.then_some(MonthDay { month, day })
    });
    if parsed.is_none() {
        problems.push(place, ProblemKind::BadMonthDay(text.to_owned()));
    }
    parsed
}

/// Reads the days of one year section, checking each entry on its own.
fn read_year(
    problems: &mut Problems,
    calendar: &WorkingCalendar,
    broken_ids: &HashSet<String>,
    year: i32,
    raw: &RawYear,
    make_ups: &mut Vec<(String, NaiveDate)>,
) -> BTreeMap<NaiveDate, Listed> {
    let mut listed: BTreeMap<NaiveDate, Listed> = BTreeMap::new();
    let mut list = |problems: &mut Problems, date: NaiveDate, place: &str, exception: Exception| {
        if let Some(first) = listed.get(&date) {
            problems.push(
                place,
                ProblemKind::Duplicate {
                    what: date.to_string(),
                    first: first.place.clone(),
                },
            );
        } else {
            listed.insert(
                date,
                Listed {
                    exception,
                    place: place.to_owned(),
                },
            );
        }
    };
    for (j, value) in raw.days_off.iter().enumerate() {
        let place = format!("years.{year}.days_off[{j}]");
        let Some(entry) = problems.read::<RawDayOff>(&place, value.clone()) else {
            continue;
        };
        let holiday = calendar.holidays.iter().position(|h| h.id == entry.holiday);
        if holiday.is_none() && !broken_ids.contains(&entry.holiday) {
            problems.push(&place, ProblemKind::UnknownHoliday(entry.holiday.clone()));
        }
        let kind = entry.kind.unwrap_or(DayOffKind::Holiday);
        let dates = match (&entry.date, &entry.from, &entry.to) {
            (Some(date), None, None) => problems.date(&place, date).map(|d| (d, d)),
            (None, Some(from), Some(to)) => {
                match (problems.date(&place, from), problems.date(&place, to)) {
                    (Some(from), Some(to)) if from > to => {
                        problems.push(
                            &place,
                            ProblemKind::Invalid(format!("`from` {from} is after `to` {to}")),
                        );
                        None
                    }
                    (Some(from), Some(to)) if (to - from).num_days() >= MAX_RANGE_DAYS => {
                        problems.push(
                            &place,
                            ProblemKind::Invalid(format!(
                                "{from} to {to} is longer than {MAX_RANGE_DAYS} days"
                            )),
                        );
                        None
                    }
                    (Some(from), Some(to)) => Some((from, to)),
                    _ => None,
                }
            }
            _ => {
                problems.push(
                    &place,
                    ProblemKind::Shape("give either `date`, or both `from` and `to`".to_owned()),
                );
                None
            }
        };
        let Some((from, to)) = dates else { continue };
        for date in from.iter_days().take_while(|d| *d <= to) {
            if date.year() != year {
                problems.push(&place, ProblemKind::OutsideYear { date, year });
                continue;
            }
            if kind != DayOffKind::Holiday && calendar.is_weekend(date) {
                problems.push(
                    &place,
                    ProblemKind::DayOffOnWeekend {
                        date,
                        weekday: date.weekday(),
                        kind,
                    },
                );
            }
            if let Some(holiday) = holiday {
                list(problems, date, &place, Exception::Off { holiday, kind });
            }
        }
    }
    for (j, value) in raw.working_days.iter().enumerate() {
        let place = format!("years.{year}.working_days[{j}]");
        let Some(entry) = problems.read::<RawWorkingDay>(&place, value.clone()) else {
            continue;
        };
        if let Some(makes_up_for) = &entry.makes_up_for
            && let Some(date) = problems.date(&place, makes_up_for)
        {
            make_ups.push((place.clone(), date));
        }
        let Some(date) = problems.date(&place, &entry.date) else {
            continue;
        };
        if date.year() != year {
            problems.push(&place, ProblemKind::OutsideYear { date, year });
            continue;
        }
        if !calendar.is_weekend(date) {
            problems.push(
                &place,
                ProblemKind::WorkingDayNotWeekend {
                    date,
                    weekday: date.weekday(),
                },
            );
        }
        list(problems, date, &place, Exception::Worked);
    }
    listed
}

/// Checks a year's days against the holiday rules: every statutory holiday is listed, and a
/// weekday listed as a holiday is on a date the holiday can have.
fn check_year(
    problems: &mut Problems,
    calendar: &WorkingCalendar,
    year: i32,
    listed: &BTreeMap<NaiveDate, Listed>,
) {
    let place = format!("years.{year}");
    let listed_as = |date: NaiveDate, index: usize| {
        matches!(
            listed.get(&date).map(|day| day.exception),
            Some(Exception::Off { holiday, kind: DayOffKind::Holiday }) if holiday == index
        )
    };
    for (index, holiday) in calendar.holidays.iter().enumerate() {
        if holiday.from_year.is_some_and(|from| year < from) {
            continue;
        }
        let name = format!("{} (`{}`)", holiday.name_en, holiday.id);
        // The dates the rule gives this year, and which of them must be listed.
        let (candidates, expected): (Vec<NaiveDate>, String) = match &holiday.rule {
            DateRule::Solar { date, alternative } => {
                let primary = date.in_year(year);
                let alt = alternative.and_then(|alt| alt.in_year(year));
                let candidates: Vec<_> = primary.into_iter().chain(alt).collect();
                let listed_count = candidates.iter().filter(|&&d| listed_as(d, index)).count();
                let expected = candidates
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ");
                if listed_count == 0 {
                    problems.push(
                        &place,
                        ProblemKind::MissingHoliday {
                            holiday: name.clone(),
                            expected: expected.clone(),
                        },
                    );
                } else if listed_count > 1 {
                    problems.push(
                        &place,
                        ProblemKind::Invalid(format!(
                            "{name} may fall on {expected}, but both are listed as the holiday \
                             itself; list the other one with kind = \"swapped\" if it is off too"
                        )),
                    );
                }
                (candidates, expected)
            }
            DateRule::Lunar { date, .. } => {
                let offsets = holiday.rule.offsets_in(year);
                let Some(base) =
                    lunar::lunar_to_solar(year, date.month, date.day, MonthKind::Regular)
                else {
                    continue;
                };
                if !listed_as(base, index) {
                    problems.push(
                        &place,
                        ProblemKind::MissingHoliday {
                            holiday: name.clone(),
                            expected: format!("{base}, lunar {date}"),
                        },
                    );
                }
                if offsets.len() > 1 {
                    let window: Vec<_> = (-LUNAR_WINDOW_DAYS..=LUNAR_WINDOW_DAYS)
                        .filter_map(|o| shift(base, o))
                        .collect();
                    let expected = format!(
                        "{base} (lunar {date}) and days within {LUNAR_WINDOW_DAYS} days of it"
                    );
                    (window, expected)
                } else {
                    (vec![base], format!("{base} (lunar {date})"))
                }
            }
            DateRule::Occasional => continue,
        };
        for (&date, day) in listed {
            let Exception::Off {
                holiday: listed_holiday,
                kind,
            } = day.exception
            else {
                continue;
            };
            if listed_holiday != index {
                continue;
            }
            match kind {
                DayOffKind::Holiday
                    if !calendar.is_weekend(date) && !candidates.contains(&date) =>
                {
                    problems.push(
                        &day.place,
                        ProblemKind::WrongHolidayDate {
                            holiday: name.clone(),
                            date,
                            expected: expected.clone(),
                        },
                    );
                }
                DayOffKind::Compensation => {
                    // Justified by a day of the holiday on a weekend day or on another holiday.
                    let holiday_days = listed.iter().filter(|(_, d)| {
                        matches!(d.exception, Exception::Off { holiday: h, kind: DayOffKind::Holiday } if h == index)
                    });
                    let on_weekend = holiday_days
                        .map(|(&d, _)| d)
                        .any(|d| calendar.is_weekend(d));
                    let on_other_holiday = candidates.iter().any(|d| {
                        matches!(
                            listed.get(d).map(|day| day.exception),
                            Some(Exception::Off { holiday: h, .. }) if h != index
                        )
                    });
                    if !on_weekend && !on_other_holiday {
                        problems.push(
                            &day.place,
                            ProblemKind::NothingToCompensate {
                                holiday: name.clone(),
                                date,
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }
}
