//! The party card and the Party badges (A25–A33): when a new official member's card is due,
//! and which badges a member's party age reaches, and when.
//!
//! Pure functions of dates and a rule set; the numbers are parameters of the rule set in force
//! (`A30.badge_milestones`, `A31.cash_award_multipliers`, `A32.award_days`,
//! `S1.branch_meeting_interval`), so an administrator corrects them without a code change.
//!
//! - **Card (A25).** The branch hands the card out "trong kỳ sinh hoạt chi bộ gần nhất, sau khi
//!   có quyết định của cấp có thẩm quyền" (at its next meeting after the decision). A branch
//!   meets once a month (S1) on a day of its own choosing, which the registry does not know; the
//!   next meeting after a day D therefore falls at the latest on the last day of the month after
//!   D's month. That last day is [`card_due_by`]: the end of the month in which
//!   `S1.branch_meeting_interval` after D ends.
//! - **Badges (A30, A33).** A member is considered for the badge on reaching each milestone of
//!   party age, counted from the date written in the admission decision (A15), not from the
//!   ceremony. Each badge is planned for the first batch day (A32: 3/2, 19/5, 2/9, 7/11) on or
//!   after that anniversary, with the cash award's multiple of the base salary where A31 lists
//!   one. Whether discipline or suspension delays a badge (A33) is not verified and not applied;
//!   an award is refused while a discipline is in force (C2, [`award_refusals`]).

use chrono::{Datelike, Months, NaiveDate};

use crate::calendar::WorkingCalendar;
use crate::engine::{Period, RuleSet};
use crate::text::Text;

/// The badge parameters of a rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeRules {
    /// Years of party age that earn a badge (A30), ascending.
    pub milestones: Vec<u32>,
    /// Cash award as a multiple of the base salary, by milestone (A31), e.g. `(30, "1.5")`.
    pub multipliers: Vec<(u32, String)>,
    /// Batch days of the year as (month, day) (A32), ascending.
    pub award_days: Vec<(u32, u32)>,
}

fn malformed(param: &str, entry: &str, expected_vi: &str, expected_en: &str) -> Text {
    Text::new(
        format!(
            "Lỗi cấu hình: tham số «{param}» có mục «{entry}» không hợp lệ, cần {expected_vi}."
        ),
        format!(
            "Configuration error: parameter `{param}` has an invalid entry `{entry}`; expected {expected_en}."
        ),
    )
}

fn param_text_list<'a>(rs: &'a RuleSet, id: &str) -> Result<&'a [String], Text> {
    rs.text_list(id).map_err(|e| {
        Text::new(
            format!(
                "Lỗi cấu hình: không đọc được tham số «{id}» của bộ quy tắc {}.",
                rs.id
            ),
            format!("Configuration error: {e}."),
        )
    })
}

impl BadgeRules {
    /// Reads the parameters of `rs`, or says which is missing or malformed.
    pub fn from_rule_set(rs: &RuleSet) -> Result<BadgeRules, Text> {
        let mut milestones = Vec::new();
        for m in param_text_list(rs, "A30.badge_milestones")? {
            let years = m.trim().parse::<u32>().map_err(|_| {
                malformed("A30.badge_milestones", m, "một số năm", "a number of years")
            })?;
            milestones.push(years);
        }
        milestones.sort_unstable();
        milestones.dedup();
        let mut multipliers = Vec::new();
        for m in param_text_list(rs, "A31.cash_award_multipliers")? {
            let parsed = m.split_once(':').and_then(|(y, x)| {
                let years = y.trim().parse::<u32>().ok()?;
                let x = x.trim();
                x.parse::<f64>().ok()?;
                Some((years, x.to_owned()))
            });
            multipliers.push(parsed.ok_or_else(|| {
                malformed(
                    "A31.cash_award_multipliers",
                    m,
                    "dạng «số năm:hệ số»",
                    "`years:multiple`",
                )
            })?);
        }
        let mut award_days = Vec::new();
        for d in param_text_list(rs, "A32.award_days")? {
            let parsed = d.split_once('-').and_then(|(m, day)| {
                let (m, day) = (
                    m.trim().parse::<u32>().ok()?,
                    day.trim().parse::<u32>().ok()?,
                );
                // A day that exists in every year (29 February does not).
                NaiveDate::from_ymd_opt(2023, m, day).map(|_| (m, day))
            });
            award_days.push(
                parsed.ok_or_else(|| malformed("A32.award_days", d, "dạng «MM-DD»", "`MM-DD`"))?,
            );
        }
        award_days.sort_unstable();
        award_days.dedup();
        Ok(BadgeRules {
            milestones,
            multipliers,
            award_days,
        })
    }
}

/// One badge milestone of a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// Years of party age (A30).
    pub years: u32,
    /// The day the party age reaches them: the admission decision's anniversary (A15, A33).
    pub reached_on: NaiveDate,
    /// Whether that day is on or before the day asked about.
    pub reached: bool,
    /// The batch day the badge is planned for (A32): the first on or after `reached_on`.
    pub award_on: Option<NaiveDate>,
    /// The cash award as a multiple of the base salary (A31), when listed.
    pub cash_multiplier: Option<String>,
}

/// The first batch day on or after `d`.
fn next_award_day(d: NaiveDate, days: &[(u32, u32)]) -> Option<NaiveDate> {
    [d.year(), d.year() + 1].iter().find_map(|&y| {
        days.iter()
            .filter_map(|&(m, day)| NaiveDate::from_ymd_opt(y, m, day))
            .find(|x| *x >= d)
    })
}

/// Every badge milestone of a member whose party age counts from `party_age_from` (the
/// admission decision's date, A15), reached or not on `on`, in increasing order.
pub fn badges(party_age_from: NaiveDate, rules: &BadgeRules, on: NaiveDate) -> Vec<Badge> {
    rules
        .milestones
        .iter()
        .filter_map(|&years| {
            let reached_on =
                party_age_from.checked_add_months(Months::new(years.checked_mul(12)?))?;
            Some(Badge {
                years,
                reached_on,
                reached: reached_on <= on,
                award_on: next_award_day(reached_on, &rules.award_days),
                cash_multiplier: rules
                    .multipliers
                    .iter()
                    .find(|(y, _)| *y == years)
                    .map(|(_, x)| x.clone()),
            })
        })
        .collect()
}

/// The last day of `d`'s month.
fn end_of_month(d: NaiveDate) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?;
    first.checked_add_months(Months::new(1))?.pred_opt()
}

/// The last day the party card can be due (A25) for a decision on `decided_on`, when the branch
/// meets every `meeting_interval` (S1): the end of the month in which the interval after the
/// decision ends. `None` past the end of the calendar.
pub fn card_due_by(
    decided_on: NaiveDate,
    meeting_interval: Period,
    calendar: &WorkingCalendar,
) -> Option<NaiveDate> {
    end_of_month(meeting_interval.after(decided_on, calendar)?)
}

/// Why the badge of `years` may not be awarded on `award_date` to a member whose party age
/// counts from `party_age_from` (none: never admitted), who is `official` on that day, has
/// already received the badges `awarded` (their years), and has these open discipline cases:
/// `years` must be a milestone of the rule set (A30), reached on that day (A33, counted from
/// the admission decision, A15), by an official member, not awarded before; and no discipline
/// in force may bar titles (C2, `C2.restrictions` lists `titles`). Empty: it may be awarded.
pub fn award_refusals(
    rs: &RuleSet,
    party_age_from: Option<NaiveDate>,
    official: bool,
    awarded: &[u32],
    years: u32,
    award_date: NaiveDate,
    open_discipline: &[crate::engine::context::OpenDiscipline],
) -> Result<Vec<(&'static str, Text)>, Text> {
    let rules = BadgeRules::from_rule_set(rs)?;
    let mut out = Vec::new();
    if !rules.milestones.contains(&years) {
        let known: Vec<String> = rules.milestones.iter().map(u32::to_string).collect();
        out.push((
            "A30",
            Text::new(
                format!(
                    "Không có Huy hiệu {years} năm tuổi Đảng (có: {}) (A30).",
                    known.join(", ")
                ),
                format!(
                    "There is no {years}-year badge (milestones: {}) (A30).",
                    known.join(", ")
                ),
            ),
        ));
    } else if let Some(from) = party_age_from {
        if let Some(b) = badges(from, &rules, award_date)
            .into_iter()
            .find(|b| b.years == years)
            && !b.reached
        {
            out.push((
                "A33",
                Text::new(
                    format!(
                        "Đến ngày {} đảng viên chưa đủ {years} năm tuổi Đảng: tuổi Đảng tính từ ngày quyết định kết nạp {}, đủ {years} năm vào ngày {} (A15, A33).",
                        award_date.format("%d/%m/%Y"),
                        from.format("%d/%m/%Y"),
                        b.reached_on.format("%d/%m/%Y")
                    ),
                    format!(
                        "On {award_date} the member does not have {years} years of party age: it counts from the admission decision of {from} and reaches {years} years on {} (A15, A33).",
                        b.reached_on
                    ),
                ),
            ));
        }
    } else {
        out.push((
            "A15",
            Text::new(
                "Đảng viên chưa có ngày quyết định kết nạp: không tính được tuổi Đảng (A15).",
                "The member has no admission decision date: party age cannot be counted (A15).",
            ),
        ));
    }
    if !official {
        out.push((
            "A15",
            Text::new(
                format!(
                    "Ngày {} người này không phải là đảng viên chính thức (A15, A30).",
                    award_date.format("%d/%m/%Y")
                ),
                format!("On {award_date} this person is not an official member (A15, A30)."),
            ),
        ));
    }
    if awarded.contains(&years) {
        out.push((
            "A30",
            Text::new(
                format!("Đảng viên đã được tặng Huy hiệu {years} năm tuổi Đảng (A30)."),
                format!("The member already received the {years}-year badge (A30)."),
            ),
        ));
    }
    let bars = crate::engine::guards::barred_by_discipline(rs, "titles", open_discipline).map_err(
        |e| {
            Text::new(
                format!("Lỗi cấu hình: {e}."),
                format!("Configuration error: {e}."),
            )
        },
    )?;
    out.extend(
        bars.into_iter()
            .map(|(rule, vi, en)| (rule, Text::new(vi, en))),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn rules() -> BadgeRules {
        BadgeRules {
            milestones: vec![30, 40, 45, 50],
            multipliers: vec![(30, "1.5".into()), (40, "2.0".into())],
            award_days: vec![(2, 3), (5, 19), (9, 2), (11, 7)],
        }
    }

    #[test]
    fn a30_a33_badges_count_from_the_admission_decision() {
        // Decision 25/8/1995: 30 years on 25/8/2025, handed out on 2/9/2025.
        let b = badges(d(1995, 8, 25), &rules(), d(2025, 8, 25));
        assert_eq!(b[0].years, 30);
        assert_eq!(b[0].reached_on, d(2025, 8, 25));
        assert!(b[0].reached);
        assert_eq!(b[0].award_on, Some(d(2025, 9, 2)));
        assert_eq!(b[0].cash_multiplier.as_deref(), Some("1.5"));
        assert!(!b[1].reached);
        assert_eq!(b[2].cash_multiplier, None);
        // The day before the anniversary, not yet.
        assert!(!badges(d(1995, 8, 25), &rules(), d(2025, 8, 24))[0].reached);
    }

    #[test]
    fn a32_a_badge_reached_after_the_last_batch_of_the_year_waits_for_february() {
        let b = badges(d(1995, 11, 8), &rules(), d(2026, 1, 1));
        assert_eq!(b[0].award_on, Some(d(2026, 2, 3)));
    }

    #[test]
    fn a25_the_card_is_due_by_the_end_of_the_month_after_the_decision() {
        let cal = WorkingCalendar::weekends_only();
        assert_eq!(
            card_due_by(d(2025, 1, 31), Period::Months(1), &cal),
            Some(d(2025, 2, 28))
        );
        assert_eq!(
            card_due_by(d(2025, 12, 3), Period::Months(1), &cal),
            Some(d(2026, 1, 31))
        );
    }
}
