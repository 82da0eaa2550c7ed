//! The statute of limitations (D6–D12): the reckoning shared by the guard that lets a decision
//! through and the one that closes a time-barred case.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, opt, req, verdict};
use crate::engine::period::{Period, fmt_date};
use crate::engine::ruleset::ParamKind;
use crate::vocab::{form_en, form_vi};
use chrono::NaiveDate;

/// `D11.count_until`: the period runs until the competent body considers discipline (the vote).
pub const COUNT_UNTIL_CONSIDERATION: &str = "consideration";
/// `D11.count_until`: the period runs until the competent body concludes the violation
/// warrants discipline (08-HD/TW 2025).
pub const COUNT_UNTIL_CONCLUSION: &str = "conclusion";

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[LIMITATION_PERIOD_RUNNING, LIMITATION_PERIOD_EXPIRED];

/// The statute-of-limitations reckoning of a case (D7–D11), shared by the guard that lets a
/// decision through and the one that closes a time-barred case.
struct Limitation {
    rule: &'static str,
    form: String,
    period: Period,
    start: NaiveDate,
    expiry: NaiveDate,
    until: NaiveDate,
}

/// `Ok(None)` when the form or the category of violation has no limit (D9).
fn limitation(ctx: &GuardContext<'_>) -> Result<Option<Limitation>, GuardOutcome> {
    let no_limit_forms = ctx.text_list("D9.no_limit_forms")?;
    let no_limit_categories = ctx.text_list("D9.no_limit_categories")?;
    let form = ctx.text("discipline_form").unwrap_or_default();
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let category = ctx.text("violation_category").unwrap_or_default();
    if no_limit_forms.iter().any(|f| f == form) || no_limit_categories.iter().any(|c| c == category)
    {
        return Ok(None);
    }
    let (rule, param) = match (subject, form) {
        ("member", "reprimand") => ("D7", "D7.member_reprimand"),
        ("member", "warning" | "removal") => ("D7", "D7.member_warning_or_removal"),
        ("organisation", "reprimand") => ("D8", "D8.organisation_reprimand"),
        ("organisation", "warning") => ("D8", "D8.organisation_warning"),
        _ => {
            return Err(verdict(vec![ctx.reason(
                "D7",
                format!(
                    "Hình thức kỷ luật {} không áp dụng cho đối tượng «{subject}» (D1–D3).",
                    form_vi(form)
                ),
                format!("Form `{form}` does not apply to subject `{subject}` (D1–D3)."),
            )]));
        }
    };
    let period = ctx.period(param)?;
    let ended = ctx.need_date("violation_end_date")?;
    // D10: a new violation within the period restarts the clock for the old one, when the
    // rule set says so.
    let restart = ctx.param_flag("D10.restart_on_new_violation")?;
    let first_expiry = ctx.add(ended, period)?;
    let start = match ctx.date("new_violation_date") {
        Some(new) if restart && new > ended && new <= first_expiry => new,
        _ => ended,
    };
    let expiry = ctx.add(start, period)?;
    // D11: until when the period runs is the rule set's: the competent body's consideration
    // (the vote) or its conclusion; without the day recorded, the day of the step stands in.
    let until = match ctx.param_text("D11.count_until")? {
        COUNT_UNTIL_CONSIDERATION => ctx.date("vote_date").unwrap_or(ctx.today),
        COUNT_UNTIL_CONCLUSION => ctx.date("conclusion_date").unwrap_or(ctx.today),
        other => {
            return Err(super::bad_entry(
                ctx,
                "D11.count_until",
                other,
                "`consideration` or `conclusion`",
            ));
        }
    };
    Ok(Some(Limitation {
        rule,
        form: form.to_owned(),
        period,
        start,
        expiry,
        until,
    }))
}

/// The guard `limitation_period_running`.
pub(super) const LIMITATION_PERIOD_RUNNING: GuardSpec = GuardSpec {
    name: "limitation_period_running",
    rules: &["D7", "D8", "D9", "D10", "D11"],
    doc: "The statute of limitations for the proposed form of discipline has not run out, counted from the end of the violation (restarted by a new violation) to the conclusion of the competent body; some forms and categories have no limit.",
    params: &[
        ("D7.member_reprimand", ParamKind::Period),
        ("D7.member_warning_or_removal", ParamKind::Period),
        ("D8.organisation_reprimand", ParamKind::Period),
        ("D8.organisation_warning", ParamKind::Period),
        ("D9.no_limit_forms", ParamKind::TextList),
        ("D9.no_limit_categories", ParamKind::TextList),
        ("D10.restart_on_new_violation", ParamKind::Flag),
        ("D11.count_until", ParamKind::Text),
    ],
    reads: &[
        req("subject_kind", DataType::Text),
        req("discipline_form", DataType::Text),
        req("violation_end_date", DataType::Date),
        opt("new_violation_date", DataType::Date),
        opt("violation_category", DataType::Text),
        opt("conclusion_date", DataType::Date),
        opt("vote_date", DataType::Date),
    ],
    check: limitation_period_running,
};

fn limitation_period_running(ctx: &GuardContext<'_>) -> GuardOutcome {
    let Some(l) = get!(limitation(ctx)) else {
        return GuardOutcome::Pass;
    };
    if l.until <= l.expiry {
        return GuardOutcome::Pass;
    }
    let (rule, form) = (l.rule, l.form.as_str());
    verdict(vec![ctx.reason(
        rule,
        format!(
            "Đã hết thời hiệu kỷ luật ({rule}): thời hiệu {} đối với hình thức {} tính từ {} đã hết ngày {}, trước ngày kết luận {}. Không thi hành kỷ luật (hết thời hiệu).",
            l.period.vi(),
            form_vi(form),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
        format!(
            "The limitation period has run out ({rule}): {} for `{form}` counted from {} ended on {}, before the conclusion on {}. No discipline is imposed.",
            l.period.en(),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
    )])
}

// D6–D12: after the vote ----------------------------------------------------------------------

/// The guard `limitation_period_expired`.
pub(super) const LIMITATION_PERIOD_EXPIRED: GuardSpec = GuardSpec {
    name: "limitation_period_expired",
    rules: &["D6", "D7", "D8", "D9", "D10", "D11", "D12"],
    doc: "The inverse of limitation_period_running, checked after the vote (D12): the limitation period for the voted form has run out, so the case ends without discipline; forms and categories without a limit (D9) never expire.",
    params: &[
        ("D7.member_reprimand", ParamKind::Period),
        ("D7.member_warning_or_removal", ParamKind::Period),
        ("D8.organisation_reprimand", ParamKind::Period),
        ("D8.organisation_warning", ParamKind::Period),
        ("D9.no_limit_forms", ParamKind::TextList),
        ("D9.no_limit_categories", ParamKind::TextList),
        ("D10.restart_on_new_violation", ParamKind::Flag),
        ("D11.count_until", ParamKind::Text),
    ],
    reads: &[
        req("subject_kind", DataType::Text),
        req("discipline_form", DataType::Text),
        req("violation_end_date", DataType::Date),
        opt("new_violation_date", DataType::Date),
        opt("violation_category", DataType::Text),
        opt("conclusion_date", DataType::Date),
        opt("vote_date", DataType::Date),
    ],
    check: limitation_period_expired,
};

fn limitation_period_expired(ctx: &GuardContext<'_>) -> GuardOutcome {
    let Some(l) = get!(limitation(ctx)) else {
        let form = ctx.text("discipline_form").unwrap_or_default();
        return verdict(vec![ctx.reason(
            "D9",
            format!(
                "Không áp dụng thời hiệu đối với vi phạm đến mức {} hoặc thuộc các loại vi phạm không tính thời hiệu (D9): không thể kết thúc hồ sơ vì hết thời hiệu.",
                form_vi(form)
            ),
            format!(
                "No limitation period applies to a violation warranting {} or of a category without a limit (D9): the case cannot end as time-barred.",
                form_en(form)
            ),
        )]);
    };
    if l.until > l.expiry {
        return GuardOutcome::Pass;
    }
    let rule = l.rule;
    verdict(vec![ctx.reason(
        rule,
        format!(
            "Chưa hết thời hiệu kỷ luật ({rule}, D12): thời hiệu {} đối với hình thức {} tính từ {} đến hết ngày {}, ngày kết luận là {}. Phải thi hành kỷ luật theo kết quả biểu quyết.",
            l.period.vi(),
            form_vi(&l.form),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
        format!(
            "The limitation period has not run out ({rule}, D12): {} for {} counted from {} runs until {}, and the conclusion is on {}. The voted discipline is imposed.",
            l.period.en(),
            form_en(&l.form),
            fmt_date(l.start),
            fmt_date(l.expiry),
            fmt_date(l.until)
        ),
    )])
}
