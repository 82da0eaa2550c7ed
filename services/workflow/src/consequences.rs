//! Consequences of a discipline that outlast the case (C3): after removal from post (cách
//! chức), for `C3.removal_bar_period` from the decision the member is not elected to a
//! committee nor appointed to an equivalent or higher post.
//!
//! The service runs no elections or appointments, so the bar is a fact on the member
//! (`Member.electionBarredUntil`) and a mail to the branch when the removal is notified
//! (`discipline.removal_bar`), both computed here under the rule set in force on the decision
//! date.

use chrono::NaiveDate;

use crate::calendar::WorkingCalendar;
use crate::engine::RuleBook;

/// The rule-set parameter of the bar.
pub const REMOVAL_BAR_PARAM: &str = "C3.removal_bar_period";

/// The first day a member removed from post on `decision` may again be elected or appointed
/// (C3): the decision plus `C3.removal_bar_period` of the rule set in force that day. `None`
/// when no rule set covers the day or it has no value.
pub fn removal_bar_end(
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    decision: NaiveDate,
) -> Option<NaiveDate> {
    let period = rules.for_date(decision)?.period(REMOVAL_BAR_PARAM).ok()?;
    period.after(decision, calendar)
}

/// Whether, on `on`, a member whose removals from post (not annulled) were decided on
/// `decisions` is still barred, and until when (the first day free again; the latest bar).
pub fn barred_until(
    rules: &RuleBook,
    calendar: &WorkingCalendar,
    decisions: &[NaiveDate],
    on: NaiveDate,
) -> Option<NaiveDate> {
    decisions
        .iter()
        .filter(|d| **d <= on)
        .filter_map(|d| removal_bar_end(rules, calendar, *d))
        .filter(|end| on < *end)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(value: &str) -> RuleBook {
        let src = format!(
            r#"
id = "T"
title = "test"
valid_from = 2016-01-01
documents = []

[[param]]
id = "C3.removal_bar_period"
rule = "C3"
tag = "V"
kind = "period"
value = {value}
source = "test"
doc = "test"
"#
        );
        RuleBook::from_toml_strs([("T.toml", src.as_str())]).expect("test rule set loads")
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    #[test]
    fn c3_the_bar_runs_the_rule_sets_period_from_the_decision() {
        let cal = WorkingCalendar::default();
        let year = book("{ years = 1 }");
        let decisions = [d("2025-03-10")];
        assert_eq!(
            barred_until(&year, &cal, &decisions, d("2025-12-01")),
            Some(d("2026-03-10"))
        );
        assert_eq!(barred_until(&year, &cal, &decisions, d("2026-03-10")), None);
        assert_eq!(barred_until(&year, &cal, &decisions, d("2025-03-09")), None);
        // Flipping the parameter changes the decision: with six months, December is free.
        let half = book("{ months = 6 }");
        assert_eq!(barred_until(&half, &cal, &decisions, d("2025-12-01")), None);
        assert_eq!(
            barred_until(&half, &cal, &decisions, d("2025-06-01")),
            Some(d("2025-09-10"))
        );
    }
}
