//! Consequences of a discipline decided (C1, C2, C7): lapse after its period, restrictions while in
//! force or while a case is open.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, capitalise, opt, req, verdict};
use crate::engine::period::fmt_date;
use crate::engine::ruleset::{ParamKind, RuleSet};
use crate::vocab::{form_en, form_vi};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    DISCIPLINE_LAPSES,
    NOT_BARRED_BY_DISCIPLINE,
    DISCIPLINE_DOES_NOT_LAPSE,
    DISCIPLINE_LAPSE_DUE,
];

// C1 ------------------------------------------------------------------------------------------

fn lapses(ctx: &GuardContext<'_>) -> Result<(bool, String), GuardOutcome> {
    let never = ctx.text_list("C1.no_lapse_forms")?;
    let form = ctx.text("discipline_form").unwrap_or_default();
    Ok((!never.iter().any(|f| f == form), form.to_owned()))
}

/// The guard `discipline_lapses`.
pub(super) const DISCIPLINE_LAPSES: GuardSpec = GuardSpec {
    name: "discipline_lapses",
    rules: &["C1"],
    doc: "The form in force lapses automatically after the C1 period (every form except those the rule set lists: expulsion, dissolution).",
    params: &[("C1.no_lapse_forms", ParamKind::TextList)],
    reads: &[req("discipline_form", DataType::Text)],
    check: discipline_lapses,
};

fn discipline_lapses(ctx: &GuardContext<'_>) -> GuardOutcome {
    let (lapses, form) = get!(lapses(ctx));
    if lapses {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "C1",
        format!(
            "Hình thức {} không tự động hết hiệu lực sau 12 tháng (C1): dùng bước dành cho {}.",
            form_vi(&form),
            form_vi(&form)
        ),
        format!(
            "{} never lapses after 12 months (C1): use the step for {}.",
            capitalise(&form_en(&form)),
            form_en(&form)
        ),
    )])
}

/// The guard `discipline_does_not_lapse`.
pub(super) const DISCIPLINE_DOES_NOT_LAPSE: GuardSpec = GuardSpec {
    name: "discipline_does_not_lapse",
    rules: &["C1", "D2", "D1"],
    doc: "The form in force never lapses (expulsion ends membership, dissolution ends the organisation): the case follows the path without a lapse.",
    params: &[("C1.no_lapse_forms", ParamKind::TextList)],
    reads: &[req("discipline_form", DataType::Text)],
    check: discipline_does_not_lapse,
};

fn discipline_does_not_lapse(ctx: &GuardContext<'_>) -> GuardOutcome {
    let (lapses, form) = get!(lapses(ctx));
    if !lapses {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "C1",
        format!(
            "Bước này chỉ dành cho khai trừ hoặc giải tán; hình thức {} sẽ tự động hết hiệu lực sau 12 tháng (C1).",
            form_vi(&form)
        ),
        format!(
            "This step is for expulsion or dissolution only; {} lapses after 12 months (C1).",
            form_en(&form)
        ),
    )])
}

/// The guard `discipline_lapse_due`.
pub(super) const DISCIPLINE_LAPSE_DUE: GuardSpec = GuardSpec {
    name: "discipline_lapse_due",
    rules: &["C1"],
    doc: "The decision lapses today: its form lapses and the lapse date (12 months after the announcement, or after the appeal ruling) has come.",
    params: &[
        ("C1.lapse_period", ParamKind::Period),
        ("C1.no_lapse_forms", ParamKind::TextList),
    ],
    reads: &[
        req("discipline_form", DataType::Text),
        req("lapse_date", DataType::Date),
    ],
    check: discipline_lapse_due,
};

fn discipline_lapse_due(ctx: &GuardContext<'_>) -> GuardOutcome {
    let period = get!(ctx.period("C1.lapse_period"));
    let (lapses, form) = get!(lapses(ctx));
    if !lapses {
        return discipline_lapses(ctx);
    }
    let due = get!(ctx.need_date("lapse_date"));
    if ctx.today >= due {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "C1",
        format!(
            "Quyết định kỷ luật {} chỉ tự động hết hiệu lực sau {} kể từ ngày công bố hoặc ngày có quyết định giải quyết khiếu nại, tức từ ngày {} (C1).",
            form_vi(&form),
            period.vi(),
            fmt_date(due)
        ),
        format!(
            "The {} lapses only {} after its announcement or the appeal ruling, on {} (C1).",
            form_en(&form),
            period.en(),
            fmt_date(due)
        ),
    )])
}

fn activity_vi(activity: &str) -> &str {
    match activity {
        "transfer" => "chuyển sinh hoạt đảng",
        "rotation" => "luân chuyển",
        "appointment" => "bổ nhiệm, giới thiệu ứng cử",
        "military_rank" => "phong, thăng quân hàm",
        "titles" => "xét tặng danh hiệu, Huy hiệu Đảng",
        other => other,
    }
}

fn activity_en(activity: &str) -> &str {
    match activity {
        "transfer" => "transfer of membership",
        "rotation" => "rotation",
        "appointment" => "appointment or nomination",
        "military_rank" => "military rank",
        "titles" => "award of titles or the Party badge",
        other => other,
    }
}

/// Why the member with these open discipline cases may not undergo `activity` (`transfer`,
/// `appointment`, `titles`, ... as the rule set lists them): C2 when a discipline decided is in
/// force and `C2.restrictions` lists the activity; C7 when another case is open (being
/// inspected or disciplined) and `C7.restrictions_while_inspected` lists it. Pure; the guard
/// `not_barred_by_discipline` and the badge path both ask it.
pub fn barred_by_discipline(
    rules: &RuleSet,
    activity: &str,
    cases: &[crate::engine::context::OpenDiscipline],
) -> Result<Vec<(&'static str, String, String)>, crate::engine::ruleset::ParamError> {
    let in_force_bars = rules.text_list("C2.restrictions")?;
    let c2 = in_force_bars.iter().any(|a| a == activity);
    // C7 is read only where a case is open without a decision in force: a rule set without
    // it still decides C2.
    let c7 = || {
        rules
            .text_list("C7.restrictions_while_inspected")
            .map(|l| l.iter().any(|a| a == activity))
    };
    // The reasons name the rule and the activity only: the discipline cases are confidential,
    // and whoever reads this refusal (a transfer's preview, a badge award) may not read them.
    let mut out = Vec::new();
    if c2 && cases.iter().any(|c| c.in_force) {
        out.push((
            "C2",
            format!(
                "Đảng viên đang trong thời gian chấp hành kỷ luật: không được {} (C2).",
                activity_vi(activity)
            ),
            format!(
                "The member is under a discipline in force: no {} (C2).",
                activity_en(activity)
            ),
        ));
    }
    let others = cases.iter().filter(|c| !(c2 && c.in_force)).count();
    if others > 0 && c7()? {
        out.push((
            "C7",
            format!(
                "Đảng viên đang bị kiểm tra hoặc xử lý kỷ luật: chưa được {} (C7).",
                activity_vi(activity)
            ),
            format!(
                "The member is being inspected or disciplined: no {} meanwhile (C7).",
                activity_en(activity)
            ),
        ));
    }
    Ok(out)
}

/// The guard `not_barred_by_discipline`.
pub(super) const NOT_BARRED_BY_DISCIPLINE: GuardSpec = GuardSpec {
    name: "not_barred_by_discipline",
    rules: &["C2", "C7"],
    doc: "The member the case is about may be transferred: no discipline of theirs is in force (C2, when `C2.restrictions` lists `transfer`) and no discipline case about them is open (C7, when `C7.restrictions_while_inspected` lists `transfer`). The shell reads the member's open discipline cases into the step's context (`subject_discipline`).",
    params: &[
        ("C2.restrictions", ParamKind::TextList),
        ("C7.restrictions_while_inspected", ParamKind::TextList),
    ],
    reads: &[opt(
        crate::engine::context::SUBJECT_DISCIPLINE,
        DataType::List,
    )],
    check: not_barred_by_discipline,
};

fn not_barred_by_discipline(ctx: &GuardContext<'_>) -> GuardOutcome {
    let Some(cases) = crate::engine::context::read_subject_discipline(ctx.data) else {
        return GuardOutcome::NeedsData(vec![
            crate::engine::context::SUBJECT_DISCIPLINE.to_owned(),
        ]);
    };
    match barred_by_discipline(ctx.rules, "transfer", &cases) {
        Ok(bars) => verdict(
            bars.into_iter()
                .map(|(rule, vi, en)| ctx.reason(rule, vi, en))
                .collect(),
        ),
        Err(e) => ctx.param_failure(&e),
    }
}
