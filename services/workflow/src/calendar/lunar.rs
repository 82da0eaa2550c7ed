//! The Vietnamese lunisolar calendar ("âm lịch"), computed astronomically.
//!
//! This is our own implementation of the algorithm Hồ Ngọc Đức published ("Thuật toán tính âm
//! lịch"): months start on the day (in local time, UTC+7 for Vietnam) of an astronomical new
//! moon, computed with the Meeus-style series; month 11 is the month that contains the winter
//! solstice; a lunar year with 13 months repeats the first month after month 11 that contains no
//! major solar term (the sun's longitude does not cross a multiple of 30°). It is accurate for
//! the years 1800–2199 ([`SUPPORTED_YEARS`]); [`lunar_to_solar`] refuses other years.
//!
//! No lunar-calendar crate is used: the maintained ones disagree with the Vietnamese calendar
//! (see `docs/calendar.md`). The tests check Tết and Hùng Kings' day against an independently
//! computed table for 1990–2060.

use std::f64::consts::PI;
use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};

/// Vietnam's time zone for the calendar, in hours east of UTC (UTC+7 since 1968).
const TIME_ZONE_HOURS: f64 = 7.0;

/// Mean length of a synodic month, in days.
const SYNODIC_MONTH: f64 = 29.530588853;

/// Julian day of the new moon that the new-moon index `k = 0` refers to (1900-01-01).
const NEW_MOON_EPOCH: f64 = 2415021.076998695;

/// Days between the proleptic Gregorian day number of chrono (`num_days_from_ce`) and the
/// Julian day number (`JDN(2000-01-01) = 2451545`).
const JDN_OFFSET: i64 = 1_721_425;

/// Lunar years for which the algorithm is used (its published range of accuracy).
pub const SUPPORTED_YEARS: RangeInclusive<i32> = 1800..=2199;

/// A day of the Vietnamese lunar calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LunarDate {
    /// The lunar year, numbered like the solar year in which it mostly lies (Tết 2025 starts
    /// lunar year 2025).
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 30.
    pub day: u32,
    /// Whether the month is the leap (intercalary, "nhuận") repetition of `month`.
    pub leap: bool,
}

impl LunarDate {
    /// The solar date of this lunar date, if it exists (see [`lunar_to_solar`]).
    pub fn to_solar(self) -> Option<NaiveDate> {
        let kind = if self.leap {
            MonthKind::Leap
        } else {
            MonthKind::Regular
        };
        lunar_to_solar(self.year, self.month, self.day, kind)
    }
}

/// Whether a lunar month is the regular one or its leap repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MonthKind {
    /// The regular month (holidays such as Tết and 10/3 are always in a regular month).
    Regular,
    /// The leap month ("tháng nhuận") that follows the regular month of the same number.
    Leap,
}

/// The lunar date of a solar date.
///
/// Total on chrono's whole range, but only meaningful for the years in [`SUPPORTED_YEARS`].
pub fn solar_to_lunar(date: NaiveDate) -> LunarDate {
    let day_number = jdn(date);
    let mut k = floor((day_number as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH) + 1;
    let mut month_start = new_moon_day(k);
    // The mean-motion estimate of `k` can be one lunation ahead of the true new moon (e.g.
    // 7/5/2054, the 30th day of the 3rd month): step back until the month has begun.
    while month_start > day_number {
        k -= 1;
        month_start = new_moon_day(k);
    }
    let solar_year = date.year();
    let mut a11 = lunar_month_11(solar_year);
    let b11;
    let mut lunar_year;
    if a11 >= month_start {
        lunar_year = solar_year;
        b11 = a11;
        a11 = lunar_month_11(solar_year - 1);
    } else {
        lunar_year = solar_year + 1;
        b11 = lunar_month_11(solar_year + 1);
    }
    let day = day_number - month_start + 1;
    let diff = floor((month_start - a11) as f64 / 29.0);
    let mut leap = false;
    let mut month = diff + 11;
    if b11 - a11 > 365 {
        let leap_offset = leap_month_offset(a11);
        if diff >= leap_offset {
            month = diff + 10;
            leap = diff == leap_offset;
        }
    }
    if month > 12 {
        month -= 12;
    }
    if month >= 11 && diff < 4 {
        lunar_year -= 1;
    }
    LunarDate {
        year: lunar_year,
        month: to_u32(month),
        day: to_u32(day),
        leap,
    }
}

/// The solar date of lunar `day`/`month`/`year`; `None` when that day does not exist (a leap
/// month the year does not have, day 30 of a 29-day month, a month outside 1–12) or the year is
/// outside [`SUPPORTED_YEARS`].
pub fn lunar_to_solar(year: i32, month: u32, day: u32, kind: MonthKind) -> Option<NaiveDate> {
    if !SUPPORTED_YEARS.contains(&year) || !(1..=12).contains(&month) || !(1..=30).contains(&day) {
        return None;
    }
    let (a11, b11) = if month < 11 {
        (lunar_month_11(year - 1), lunar_month_11(year))
    } else {
        (lunar_month_11(year), lunar_month_11(year + 1))
    };
    let k = floor(0.5 + (a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH);
    let mut offset = i64::from(month) - 11;
    if offset < 0 {
        offset += 12;
    }
    if b11 - a11 > 365 {
        let leap_offset = leap_month_offset(a11);
        let mut leap_month = leap_offset - 2;
        if leap_month < 0 {
            leap_month += 12;
        }
        if kind == MonthKind::Leap && i64::from(month) != leap_month {
            return None;
        }
        if kind == MonthKind::Leap || offset >= leap_offset {
            offset += 1;
        }
    } else if kind == MonthKind::Leap {
        return None;
    }
    let month_start = new_moon_day(k + offset);
    let month_length = new_moon_day(k + offset + 1) - month_start;
    if i64::from(day) > month_length {
        return None;
    }
    from_jdn(month_start + i64::from(day) - 1)
}

/// The first day of lunar `year` (Tết Nguyên đán, 1/1 lunar).
pub fn tet(year: i32) -> Option<NaiveDate> {
    lunar_to_solar(year, 1, 1, MonthKind::Regular)
}

/// Hùng Kings' Commemoration Day (Giỗ Tổ Hùng Vương, 10/3 lunar) of `year`.
pub fn hung_kings_day(year: i32) -> Option<NaiveDate> {
    lunar_to_solar(year, 3, 10, MonthKind::Regular)
}

/// The number of the month that lunar `year` repeats as a leap month, if it has one.
pub fn leap_month(year: i32) -> Option<u32> {
    (1..=12).find(|&m| lunar_to_solar(year, m, 1, MonthKind::Leap).is_some())
}

/// Julian day number of a proleptic Gregorian date.
fn jdn(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + JDN_OFFSET
}

fn from_jdn(day_number: i64) -> Option<NaiveDate> {
    let days = i32::try_from(day_number - JDN_OFFSET).ok()?;
    NaiveDate::from_num_days_from_ce_opt(days)
}

/// Julian day number of 31 December of `year` (proleptic Gregorian), without chrono so that
/// it is defined for every `i32` year.
fn jdn_of_december_31(year: i32) -> i64 {
    let y = i64::from(year) + 4800;
    let m: i64 = 9; // December, counted from March
    31 + (153 * m + 2) / 5 + 365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
        - 32045
}

/// `floor` as an integer; saturates instead of wrapping on absurd inputs.
fn floor(x: f64) -> i64 {
    x.floor() as i64
}

fn to_u32(x: i64) -> u32 {
    u32::try_from(x).unwrap_or(0)
}

/// Julian date (with fraction, UT) of the `k`-th new moon after 1900-01-01.
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85; // Julian centuries since 1900-01-01 12:00
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3;
    jd1 += 0.00033 * ((166.56 + 132.87 * t - 0.009173 * t2) * dr).sin(); // mean new moon
    let m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3; // sun's anomaly
    let mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3; // moon's anomaly
    let f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3; // moon's latitude arg.
    let mut c1 = (0.1734 - 0.000393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    } else {
        -0.000278 + 0.000265 * t + 0.000262 * t2
    };
    jd1 + c1 - delta_t
}

/// The sun's apparent longitude, in radians in `[0, 2π)`, at Julian date `jd` (UT).
fn sun_longitude(jd: f64) -> f64 {
    let t = (jd - 2451545.0) / 36525.0; // Julian centuries since 2000-01-01 12:00
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2; // mean anomaly
    let l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2; // mean longitude
    let mut dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * (dr * m).sin();
    dl += (0.019993 - 0.000101 * t) * (dr * 2.0 * m).sin() + 0.000290 * (dr * 3.0 * m).sin();
    let l = (l0 + dl) * dr; // true longitude
    l - 2.0 * PI * (l / (2.0 * PI)).floor()
}

/// The major solar term (0–11, each 30° of longitude) in which the sun is at the start
/// (local midnight) of day `day_number`.
fn solar_term(day_number: i64) -> i64 {
    floor(sun_longitude(day_number as f64 - 0.5 - TIME_ZONE_HOURS / 24.0) / PI * 6.0)
}

/// The Julian day number (local date) on which the `k`-th new moon falls.
fn new_moon_day(k: i64) -> i64 {
    floor(new_moon(k) + 0.5 + TIME_ZONE_HOURS / 24.0)
}

/// The first day of lunar month 11 (the month containing the winter solstice) that starts in
/// solar `year`.
fn lunar_month_11(year: i32) -> i64 {
    let off = jdn_of_december_31(year) - 2415021;
    let k = floor(off as f64 / SYNODIC_MONTH);
    let new_moon = new_moon_day(k);
    if solar_term(new_moon) >= 9 {
        new_moon_day(k - 1)
    } else {
        new_moon
    }
}

/// In a 13-month year starting at month 11 `a11`, the offset (counted in months after `a11`)
/// of the leap month: the first month with no major solar term.
fn leap_month_offset(a11: i64) -> i64 {
    let k = floor((a11 as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH + 0.5);
    let mut i = 1;
    let mut arc = solar_term(new_moon_day(k + i));
    loop {
        let last = arc;
        i += 1;
        arc = solar_term(new_moon_day(k + i));
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn jdn_matches_the_astronomical_convention() {
        assert_eq!(jdn(ymd(2000, 1, 1)), 2_451_545);
        assert_eq!(jdn_of_december_31(1999), 2_451_544);
        assert_eq!(from_jdn(2_451_545), Some(ymd(2000, 1, 1)));
    }

    #[test]
    fn known_days() {
        assert_eq!(tet(2025), Some(ymd(2025, 1, 29)));
        assert_eq!(hung_kings_day(2026), Some(ymd(2026, 4, 26)));
        assert_eq!(
            solar_to_lunar(ymd(2025, 1, 28)),
            LunarDate {
                year: 2024,
                month: 12,
                day: 29,
                leap: false
            }
        );
    }

    #[test]
    fn unsupported_years_and_impossible_days_are_refused() {
        assert_eq!(tet(1799), None);
        assert_eq!(tet(2200), None);
        assert_eq!(lunar_to_solar(2025, 13, 1, MonthKind::Regular), None);
        assert_eq!(lunar_to_solar(2025, 1, 0, MonthKind::Regular), None);
        // 2024 has no leap month.
        assert_eq!(lunar_to_solar(2024, 6, 1, MonthKind::Leap), None);
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let _ = solar_to_lunar(NaiveDate::MIN);
        let _ = solar_to_lunar(NaiveDate::MAX);
    }
}
