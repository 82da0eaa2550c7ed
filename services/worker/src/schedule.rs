//! Cron schedules of the periodic jobs, in Vietnam time (UTC+7 all year: Vietnam has no
//! daylight saving, so a fixed offset is exact and no time-zone database is needed).
//!
//! Expressions are the `cron` crate's: six or seven fields, **starting with seconds**:
//! `sec min hour day-of-month month day-of-week [year]`, e.g. `0 30 7 * * Mon-Fri` (07:30 on
//! working days). A five-field crontab line is refused with a message that says so. In this
//! format a numeric day of week counts from Sunday = 1, unlike crontab's Monday = 1, so
//! numeric days of week are refused too: write day names (`Mon`, `Mon-Fri`, `Sat,Sun`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, TimeDelta, Utc};
use cron::Schedule;

use crate::error::{Result, WorkerError};

/// Vietnam's offset from UTC: +07:00, all year.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The date in Vietnam at `now`.
pub fn today_in_vietnam(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&vietnam_offset()).date_naive()
}

/// Checks a cron expression, with a message for people when it is refused. Its signature is
/// the core's `CronValidator`, so `memberflow check` validates the `cron` of workflow
/// reminders with the same rules as the scheduler.
pub fn validate_cron(expr: &str) -> Result<(), String> {
    parse(expr).map(|_| ())
}

fn parse(expr: &str) -> Result<Schedule, String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    const FORMAT: &str = "sec min hour day-of-month month day-of-week [year]";
    match fields.len() {
        0 => return Err("the expression is empty".into()),
        5 => {
            return Err(format!(
                "`{expr}` has 5 fields, like a crontab line; expressions here start with a \
                 seconds field ({FORMAT}): did you mean `0 {expr}`?"
            ));
        }
        6 | 7 => {}
        n => {
            return Err(format!(
                "`{expr}` has {n} fields; expected 6 or 7 ({FORMAT})"
            ));
        }
    }
    let dow = fields[5];
    if dow.chars().any(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{expr}`: the day of week `{dow}` is numeric; in this format 1 means Sunday, not \
             Monday as in crontab, so write day names instead (Mon, Mon-Fri, Sat,Sun)"
        ));
    }
    Schedule::from_str(expr).map_err(|e| format!("`{expr}`: {e}"))
}

/// The first tick of `expr` strictly after `after`, or `None` when it has no more.
pub fn next_tick(expr: &str, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let s = parse(expr)?;
    Ok(next_of(&s, after))
}

/// The latest tick of `expr` at or before `at`.
pub(crate) fn latest_tick(expr: &str, at: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    let s = parse(expr)?;
    Ok(latest_of(&s, at))
}

fn next_of(s: &Schedule, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    s.after(&after.with_timezone(&vietnam_offset()))
        .next()
        .map(|t| t.with_timezone(&Utc))
}

/// The latest tick at or before `at`.
fn latest_of(s: &Schedule, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // Ticks fall on whole seconds: search back from the next second, keep the first tick
    // that is not after `at`.
    let from = at.with_timezone(&vietnam_offset()) + TimeDelta::seconds(1);
    s.after(&from)
        .rev()
        .take(2)
        .map(|t| t.with_timezone(&Utc))
        .find(|t| *t <= at)
}

/// A periodic job of the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// Once a day: deadlines that passed get their notice mail, and the reminders of the day
    /// are released (a reminder dated D goes out at the first sweep on or after D).
    DailySweep,
    /// Once a week: one digest per branch secretary and one per committee, listing every
    /// deadline due within the next seven days or already passed.
    WeeklyDigest,
    /// Once a month: the monthly meeting reminder to every branch and grassroots committee
    /// (S1).
    MonthlyMeeting,
    /// Once a month: admissions so far this year against the 3–4% target, per province (S20,
    /// S21).
    MonthlyTargetReport,
    /// Once a quarter: the thematic meeting reminder to every branch and grassroots committee
    /// (S3).
    QuarterlyThematicMeeting,
    /// Once a year: the opening of the annual quality rating season (S5).
    AnnualRating,
}

impl Job {
    /// Every job.
    pub const ALL: [Job; 6] = [
        Job::DailySweep,
        Job::WeeklyDigest,
        Job::MonthlyMeeting,
        Job::MonthlyTargetReport,
        Job::QuarterlyThematicMeeting,
        Job::AnnualRating,
    ];

    /// The configuration key (`[schedules]` table).
    pub fn key(self) -> &'static str {
        match self {
            Job::DailySweep => "daily_sweep",
            Job::WeeklyDigest => "weekly_digest",
            Job::MonthlyMeeting => "monthly_meeting",
            Job::MonthlyTargetReport => "monthly_target_report",
            Job::QuarterlyThematicMeeting => "quarterly_meeting",
            Job::AnnualRating => "annual_rating",
        }
    }

    /// The default expression: day names, seconds first, Vietnam time.
    pub fn default_expr(self) -> &'static str {
        match self {
            // 07:00 every day.
            Job::DailySweep => "0 0 7 * * *",
            // 07:30 on Mondays.
            Job::WeeklyDigest => "0 30 7 * * Mon",
            // 08:00 on the 1st of the month.
            Job::MonthlyMeeting => "0 0 8 1 * *",
            // 08:00 on the 5th of the month.
            Job::MonthlyTargetReport => "0 0 8 5 * *",
            // 08:00 on the 1st of the first month of each quarter.
            Job::QuarterlyThematicMeeting => "0 0 8 1 Jan,Apr,Jul,Oct *",
            // 08:00 on 1 December: the rating is done at the end of the year (S5 [M]).
            Job::AnnualRating => "0 0 8 1 Dec *",
        }
    }
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The parsed schedules of every job.
#[derive(Debug, Clone)]
pub struct Schedules {
    entries: Vec<(Job, Schedule)>,
}

impl Default for Schedules {
    fn default() -> Self {
        Self {
            entries: Job::ALL
                .iter()
                .filter_map(|j| parse(j.default_expr()).ok().map(|s| (*j, s)))
                .collect(),
        }
    }
}

impl Schedules {
    /// Parses the expression of each job (a job left out keeps its default), reporting every
    /// bad expression at once, each with its key: `schedules.weekly_digest: ...`.
    pub fn parse<'a>(exprs: impl IntoIterator<Item = (Job, &'a str)>) -> Result<Self> {
        let mut given: Vec<(Job, &str)> = exprs.into_iter().collect();
        for job in Job::ALL {
            if !given.iter().any(|(j, _)| *j == job) {
                given.push((job, job.default_expr()));
            }
        }
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (job, expr) in given {
            match parse(expr) {
                Ok(s) => entries.push((job, s)),
                Err(e) => problems.push(format!("schedules.{}: {e}", job.key())),
            }
        }
        if problems.is_empty() {
            entries.sort_by_key(|(j, _)| *j);
            Ok(Self { entries })
        } else {
            Err(WorkerError::Schedules(problems))
        }
    }

    fn get(&self, job: Job) -> Option<&Schedule> {
        self.entries.iter().find(|(j, _)| *j == job).map(|(_, s)| s)
    }

    /// The expression of `job`.
    pub fn expr(&self, job: Job) -> Option<&str> {
        self.get(job).map(Schedule::source)
    }

    /// The first tick of `job` strictly after `after`.
    pub fn next_tick(&self, job: Job, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.get(job).and_then(|s| next_of(s, after))
    }

    /// The latest tick of `job` at or before `at`.
    pub fn latest_tick(&self, job: Job, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.get(job).and_then(|s| latest_of(s, at))
    }

    /// The earliest tick of any job strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<(Job, DateTime<Utc>)> {
        self.entries
            .iter()
            .filter_map(|(j, s)| next_of(s, after).map(|t| (*j, t)))
            .min_by_key(|(_, t)| *t)
    }

    /// The last day whose reminders are released at `now`: the date (in Vietnam) of the
    /// latest daily sweep at or before `now`; today when the sweep never ran.
    pub fn reminders_through(&self, now: DateTime<Utc>) -> NaiveDate {
        self.latest_tick(Job::DailySweep, now)
            .map_or_else(|| today_in_vietnam(now), today_in_vietnam)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{Datelike, TimeZone, Weekday};

    use super::*;

    fn vn(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        vietnam_offset()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_defaults_parse_and_use_day_names() {
        let s = Schedules::default();
        for job in Job::ALL {
            assert!(s.expr(job).is_some(), "{job}");
            assert!(validate_cron(job.default_expr()).is_ok(), "{job}");
        }
    }

    #[test]
    fn a_crontab_line_is_refused_with_a_hint_about_seconds() {
        let e = validate_cron("30 8 * * 1-5").unwrap_err();
        assert!(e.contains("5 fields") && e.contains("seconds"), "{e}");
        assert!(e.contains("`0 30 8 * * 1-5`"), "{e}");
    }

    #[test]
    fn a_numeric_day_of_week_is_refused_because_1_means_sunday() {
        let e = validate_cron("0 30 8 * * 1").unwrap_err();
        assert!(e.contains("Sunday") && e.contains("Mon-Fri"), "{e}");
    }

    #[test]
    fn garbage_is_refused_with_the_parser_message() {
        assert!(validate_cron("0 61 8 * * *").is_err());
        assert!(validate_cron("").is_err());
        assert!(validate_cron("a b c d e f g h").is_err());
    }

    #[test]
    fn every_bad_expression_is_reported_with_its_key() {
        let e = Schedules::parse([
            (Job::DailySweep, "0 7 * * *"),
            (Job::WeeklyDigest, "0 0 7 * * 2"),
            (Job::MonthlyMeeting, "0 0 8 1 * *"),
        ])
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("schedules.daily_sweep"), "{text}");
        assert!(text.contains("schedules.weekly_digest"), "{text}");
        assert!(!text.contains("schedules.monthly_meeting"), "{text}");
    }

    #[test]
    fn ticks_are_in_vietnam_time_and_day_names_mean_what_they_say() {
        let s = Schedules::parse([(Job::WeeklyDigest, "0 30 7 * * Mon")]).unwrap();
        // Wednesday 25/11/2026, 10:00 in Vietnam.
        let now = vn(2026, 11, 25, 10, 0);
        let next = s.next_tick(Job::WeeklyDigest, now).unwrap();
        assert_eq!(next, vn(2026, 11, 30, 7, 30));
        assert_eq!(
            next.with_timezone(&vietnam_offset()).weekday(),
            Weekday::Mon
        );
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 30, 0, 30, 0).unwrap());
        let latest = s.latest_tick(Job::WeeklyDigest, now).unwrap();
        assert_eq!(latest, vn(2026, 11, 23, 7, 30));
        // A tick is its own latest tick.
        assert_eq!(s.latest_tick(Job::WeeklyDigest, next), Some(next));
    }

    #[test]
    fn reminders_are_released_at_the_daily_sweep() {
        let s = Schedules::parse([(Job::DailySweep, "0 0 7 * * *")]).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(
            s.reminders_through(vn(2026, 11, 25, 6, 59)),
            d.pred_opt().unwrap()
        );
        assert_eq!(s.reminders_through(vn(2026, 11, 25, 7, 0)), d);
        // 01:00 in Vietnam is still the previous day in UTC.
        assert_eq!(today_in_vietnam(vn(2026, 11, 25, 1, 0)), d);
    }
}
