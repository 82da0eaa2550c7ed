//! Exemption from party activities and work (S15–S18): a member status over time, decided by
//! the branch on the member's request (elderly or in poor health, S15; the other grounds of
//! S17), from a date until a planned end or until the branch lifts it.
//!
//! The registry keeps the periods; this module decides whether a new or lifted period is
//! acceptable, and who was exempted on a date. The grounds the branch may record are data:
//! `S17.grounds` of the rule set in force on the day the exemption starts. Vote denominators
//! (A8, A14, D5, D33) leave out the official members of the branch exempted on the vote's date
//! (`engine::context::UNIT_EXEMPTED`).

use chrono::NaiveDate;

use crate::engine::RuleBook;
use crate::text::Text;

/// The rule-set parameter listing the grounds an exemption may be recorded on.
pub const GROUNDS_PARAM: &str = "S17.grounds";

/// One exemption period `[from, to)`: `to` is the planned end or the day it was lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExemptionPeriod {
    /// First day exempted.
    pub from: NaiveDate,
    /// First day no longer exempted, if the period has an end.
    pub to: Option<NaiveDate>,
}

impl ExemptionPeriod {
    /// Whether the member is exempted on `on`.
    pub fn holds(&self, on: NaiveDate) -> bool {
        self.from <= on && self.to.is_none_or(|t| on < t)
    }

    fn overlaps(&self, other: &ExemptionPeriod) -> bool {
        let a_before_b_ends = other.to.is_none_or(|t| self.from < t);
        let b_before_a_ends = self.to.is_none_or(|t| other.from < t);
        a_before_b_ends && b_before_a_ends
    }
}

/// The Vietnamese and English label of a ground's code (the code itself for a ground an
/// administrator added to the rule set without a label here).
pub fn ground_label(code: &str) -> Text {
    let (vi, en) = match code {
        "elderly" => ("Tuổi cao", "Elderly"),
        "ill" => ("Sức khỏe yếu", "Poor health"),
        "medical_treatment" => (
            "Điều trị bệnh dài ngày hoặc ở xa",
            "Long or distant medical treatment",
        ),
        "abroad" => ("Đi nước ngoài một mình", "Abroad alone"),
        "remote_work" => (
            "Làm việc một mình ở nơi chưa có tổ chức đảng",
            "Working alone where there is no party organisation",
        ),
        "mobile_work" => (
            "Làm việc lưu động dưới một năm",
            "Mobile work of less than a year",
        ),
        "maternity" => ("Nghỉ thai sản", "Maternity leave"),
        other => (other, other),
    };
    Text::new(vi, en)
}

/// Checks a new exemption of a member who has the periods `existing`: it starts before it ends,
/// does not overlap another period, and its ground is one of `S17.grounds` in the rule set in
/// force on its first day.
pub fn check_new(
    rules: &RuleBook,
    existing: &[ExemptionPeriod],
    new: ExemptionPeriod,
    ground: &str,
) -> Result<(), Vec<Text>> {
    let mut problems = Vec::new();
    if new.to.is_some_and(|t| t <= new.from) {
        problems.push(Text::new(
            "Ngày kết thúc miễn sinh hoạt phải sau ngày bắt đầu (S15).",
            "The exemption must end after it starts (S15).",
        ));
    }
    if existing.iter().any(|p| p.overlaps(&new)) {
        problems.push(Text::new(
            "Đảng viên đã được miễn công tác và sinh hoạt đảng trong một phần thời gian này (S15).",
            "The member is already exempted for part of this period (S15).",
        ));
    }
    match rules
        .for_date(new.from)
        .map(|set| set.text_list(GROUNDS_PARAM))
    {
        Some(Ok(grounds)) if grounds.iter().any(|g| g == ground) => {}
        Some(Ok(grounds)) => problems.push(Text::new(
            format!(
                "Lý do miễn sinh hoạt «{ground}» không có trong danh sách của bộ quy tắc (S15, S17): {}.",
                grounds.join(", ")
            ),
            format!(
                "The ground `{ground}` is not one the rule set allows (S15, S17): {}.",
                grounds.join(", ")
            ),
        )),
        _ => problems.push(Text::new(
            format!(
                "Không có bộ quy tắc có tham số «{GROUNDS_PARAM}» cho ngày bắt đầu miễn sinh hoạt."
            ),
            format!("No rule set with `{GROUNDS_PARAM}` covers the exemption's first day."),
        )),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The period `p` lifted on `on`: it ends that day. Refused when `on` is before its start or
/// after it has already ended.
pub fn lift(p: ExemptionPeriod, on: NaiveDate) -> Result<ExemptionPeriod, Text> {
    if on <= p.from || p.to.is_some_and(|t| on >= t) {
        return Err(Text::new(
            "Chỉ thôi miễn sinh hoạt được trong thời gian đang miễn, sau ngày bắt đầu (S15).",
            "An exemption is lifted only while it holds, after its first day (S15).",
        ));
    }
    Ok(ExemptionPeriod {
        from: p.from,
        to: Some(on),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("valid test date")
    }

    fn book() -> RuleBook {
        let src = r#"
id = "T"
title = "test"
valid_from = 2016-01-01
documents = []

[[param]]
id = "S17.grounds"
rule = "S17"
tag = "S"
kind = "text_list"
value = ["elderly", "ill"]
source = "test"
doc = "test"
"#;
        RuleBook::from_toml_strs([("T.toml", src)]).expect("test rule set loads")
    }

    #[test]
    fn s15_a_period_holds_from_its_first_day_to_the_day_before_its_end() {
        let p = ExemptionPeriod {
            from: d("2024-03-01"),
            to: Some(d("2024-09-01")),
        };
        assert!(!p.holds(d("2024-02-29")));
        assert!(p.holds(d("2024-03-01")));
        assert!(p.holds(d("2024-08-31")));
        assert!(!p.holds(d("2024-09-01")));
    }

    #[test]
    fn s15_overlapping_or_backwards_periods_and_unknown_grounds_are_refused() {
        let rules = book();
        let open = ExemptionPeriod {
            from: d("2024-03-01"),
            to: None,
        };
        let later = ExemptionPeriod {
            from: d("2025-01-01"),
            to: Some(d("2025-06-01")),
        };
        assert!(check_new(&rules, &[open], later, "elderly").is_err());
        let before = ExemptionPeriod {
            from: d("2023-01-01"),
            to: Some(d("2024-03-01")),
        };
        assert!(check_new(&rules, &[open], before, "ill").is_ok());
        let backwards = ExemptionPeriod {
            from: d("2023-01-01"),
            to: Some(d("2023-01-01")),
        };
        assert!(check_new(&rules, &[], backwards, "ill").is_err());
        assert!(check_new(&rules, &[], before, "bored").is_err());
    }

    #[test]
    fn s15_lifting_ends_the_period_on_that_day_only_while_it_holds() {
        let p = ExemptionPeriod {
            from: d("2024-03-01"),
            to: Some(d("2025-03-01")),
        };
        assert_eq!(
            lift(p, d("2024-06-01")).expect("lifted while it holds").to,
            Some(d("2024-06-01"))
        );
        assert!(lift(p, d("2024-03-01")).is_err());
        assert!(lift(p, d("2025-03-01")).is_err());
    }
}
