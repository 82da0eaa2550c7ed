//! Appeals (P1, P3, P4, P5): the window, admissibility, the level appealed to, the ruling's
//! consistency.

use super::{
    DataType, GuardContext, GuardOutcome, GuardSpec, bad_entry, capitalise, opt, req, verdict,
};
use crate::engine::period::fmt_date;
use crate::engine::ruleset::ParamKind;
use crate::engine::value::Value;
use crate::vocab::{body_en, body_vi, form_en, form_vi, level_rank, named_body};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    APPEAL_WITHIN_WINDOW,
    APPEAL_RESOLUTION_LIMIT_KNOWN,
    APPEAL_ADMISSIBLE,
    APPEAL_IN_DISPUTED_WINDOW,
    APPEAL_LEVEL_ALLOWED,
    APPEAL_OUTCOME_CONSISTENT,
];

// P1, P4, P5 ----------------------------------------------------------------------------------

/// The guard `appeal_within_window`.
pub(super) const APPEAL_WITHIN_WINDOW: GuardSpec = GuardSpec {
    name: "appeal_within_window",
    rules: &["P1", "P4", "D38"],
    doc: "The appeal is filed within the appeal window from the receipt of the written decision, and not before that receipt while the rule set requires the written decision (`D38.written_decision_required`: an appeal before it is inadmissible, P4).",
    params: &[
        ("P1.appeal_window", ParamKind::Period),
        ("D38.written_decision_required", ParamKind::Flag),
    ],
    reads: &[
        req("decision_received_date", DataType::Date),
        opt("appeal_filed_date", DataType::Date),
    ],
    check: appeal_within_window,
};

fn appeal_within_window(ctx: &GuardContext<'_>) -> GuardOutcome {
    let window = get!(ctx.period("P1.appeal_window"));
    let written_required = get!(ctx.param_flag("D38.written_decision_required"));
    let received = get!(ctx.need_date("decision_received_date"));
    let filed = ctx.date("appeal_filed_date").unwrap_or(ctx.today);
    if filed < received && written_required {
        return verdict(vec![ctx.reason(
            "P4",
            format!(
                "Đơn khiếu nại nộp ngày {} trước khi nhận quyết định kỷ luật bằng văn bản ({}): không đủ điều kiện giải quyết (P4, D38).",
                fmt_date(filed),
                fmt_date(received)
            ),
            format!(
                "The appeal was filed on {}, before the written decision was received ({}): inadmissible (P4, D38).",
                fmt_date(filed),
                fmt_date(received)
            ),
        )]);
    }
    let due = get!(ctx.add(received, window));
    if filed > due {
        return verdict(vec![ctx.reason(
            "P1",
            format!(
                "Đơn khiếu nại nộp ngày {} quá thời hạn {} kể từ ngày nhận quyết định kỷ luật ({}, hạn cuối {}) (P1); đơn quá hạn không được giải quyết (P4).",
                fmt_date(filed),
                window.vi(),
                fmt_date(received),
                fmt_date(due)
            ),
            format!(
                "The appeal filed on {} is later than {} after receipt of the decision ({}, due {}) (P1); late appeals are inadmissible (P4).",
                fmt_date(filed),
                window.en(),
                fmt_date(received),
                fmt_date(due)
            ),
        )]);
    }
    GuardOutcome::Pass
}

/// The guard `appeal_resolution_limit_known`.
pub(super) const APPEAL_RESOLUTION_LIMIT_KNOWN: GuardSpec = GuardSpec {
    name: "appeal_resolution_limit_known",
    rules: &["P5"],
    doc: "The time limit for resolving an appeal is known in the rule set; refuses while the unverified parameter has no value.",
    params: &[("P5.appeal_resolution_period", ParamKind::Period)],
    reads: &[],
    check: appeal_resolution_limit_known,
};

fn appeal_resolution_limit_known(ctx: &GuardContext<'_>) -> GuardOutcome {
    get!(ctx.period("P5.appeal_resolution_period"));
    GuardOutcome::Pass
}

// P1, P3, P4 ----------------------------------------------------------------------------------

fn inadmissible_vi(code: &str) -> String {
    match code {
        "pending_or_decided_higher" => "đang được cấp trên giải quyết hoặc đã được cấp có thẩm quyền cao nhất giải quyết".into(),
        "court_sentence" => "đảng viên đang chịu hình phạt từ cải tạo không giam giữ trở lên theo bản án chưa được hủy bỏ".into(),
        "on_behalf" => "khiếu nại hộ người khác".into(),
        "before_written_decision" => "khiếu nại khi chưa nhận được quyết định kỷ luật bằng văn bản (D38)".into(),
        "refused_to_receive" => "đã từ chối nhận quyết định kỷ luật hoặc quyết định giải quyết khiếu nại".into(),
        "transferred_out" => "đã chuyển sinh hoạt đảng ra ngoài đảng bộ cấp trên trực tiếp trước khi khiếu nại".into(),
        other => format!("«{other}»"),
    }
}

/// The guard `appeal_admissible`.
pub(super) const APPEAL_ADMISSIBLE: GuardSpec = GuardSpec {
    name: "appeal_admissible",
    rules: &["P4", "D38"],
    doc: "None of the inadmissibility grounds the receiving body recorded is one the rule set lists (already before a higher level or decided at the highest, court sentence, on someone else's behalf, before the written decision, refusal to receive it, transfer out before appealing).",
    params: &[("P4.inadmissible_grounds", ParamKind::TextList)],
    reads: &[opt("inadmissibility", DataType::List)],
    check: appeal_admissible,
};

fn appeal_admissible(ctx: &GuardContext<'_>) -> GuardOutcome {
    let grounds = get!(ctx.text_list("P4.inadmissible_grounds"));
    let recorded: Vec<&str> = ctx
        .get("inadmissibility")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_text)
        .collect();
    verdict(
        recorded
            .into_iter()
            .filter(|code| grounds.iter().any(|g| g == code))
            .map(|code| {
                ctx.reason(
                    "P4",
                    format!(
                        "Đơn khiếu nại không đủ điều kiện giải quyết (P4): {}.",
                        inadmissible_vi(code)
                    ),
                    format!("The appeal is inadmissible (P4): `{code}`."),
                )
            })
            .collect(),
    )
}

/// The guard `appeal_in_disputed_window`.
pub(super) const APPEAL_IN_DISPUTED_WINDOW: GuardSpec = GuardSpec {
    name: "appeal_in_disputed_window",
    rules: &["P1"],
    doc: "The appeal was filed after the window of the stricter reading (30 days) but within the other reading (30 working days): it is neither accepted nor refused, but flagged for the appeal body to decide.",
    params: &[
        ("P1.appeal_window", ParamKind::Period),
        ("P1.appeal_window_lenient", ParamKind::Period),
    ],
    reads: &[
        req("decision_received_date", DataType::Date),
        opt("appeal_filed_date", DataType::Date),
    ],
    check: appeal_in_disputed_window,
};

fn appeal_in_disputed_window(ctx: &GuardContext<'_>) -> GuardOutcome {
    let strict = get!(ctx.period("P1.appeal_window"));
    let lenient = get!(ctx.period("P1.appeal_window_lenient"));
    let received = get!(ctx.need_date("decision_received_date"));
    let filed = ctx.date("appeal_filed_date").unwrap_or(ctx.today);
    let strict_due = get!(ctx.add(received, strict));
    let lenient_due = get!(ctx.add(received, lenient));
    if filed > strict_due && filed <= lenient_due {
        return GuardOutcome::Pass;
    }
    if filed <= strict_due {
        return verdict(vec![ctx.reason(
            "P1",
            format!(
                "Đơn khiếu nại nộp ngày {} còn trong thời hạn {} kể từ ngày nhận quyết định (hạn cuối {}) (P1): nộp theo thủ tục thông thường.",
                fmt_date(filed),
                strict.vi(),
                fmt_date(strict_due)
            ),
            format!(
                "The appeal filed on {} is within {} of receipt (due {}) (P1): file it the ordinary way.",
                fmt_date(filed),
                strict.en(),
                fmt_date(strict_due)
            ),
        )]);
    }
    verdict(vec![ctx.reason(
        "P1",
        format!(
            "Đơn khiếu nại nộp ngày {} quá hạn theo cả hai cách hiểu thời hạn «một tháng» ({}, hạn {}; {}, hạn {}) (P1); đơn quá hạn không được giải quyết (P4).",
            fmt_date(filed),
            strict.vi(),
            fmt_date(strict_due),
            lenient.vi(),
            fmt_date(lenient_due)
        ),
        format!(
            "The appeal filed on {} is late under both readings of \"one month\" ({}, due {}; {}, due {}) (P1); late appeals are inadmissible (P4).",
            fmt_date(filed),
            strict.en(),
            fmt_date(strict_due),
            lenient.en(),
            fmt_date(lenient_due)
        ),
    )])
}

/// A body's rank for appeals: its level, then its kind's place in `P3.body_order`.
fn appeal_rank(order: &[String], kind: &str, level: &str) -> Option<(usize, usize)> {
    Some((level_rank(level)?, order.iter().position(|k| k == kind)?))
}

/// The guard `appeal_level_allowed`.
pub(super) const APPEAL_LEVEL_ALLOWED: GuardSpec = GuardSpec {
    name: "appeal_level_allowed",
    rules: &["P3", "P4"],
    doc: "The appeal goes to a body above the one whose decision (or ruling) is appealed, from the grassroots level up, and no higher than the final instance for the form; a ruling of the final instance cannot be appealed.",
    params: &[
        ("P3.body_order", ParamKind::TextList),
        ("P3.lowest_appeal_level", ParamKind::Text),
        ("P3.final_instances", ParamKind::TextList),
        ("P3.final_instance_for_central_decisions", ParamKind::Text),
    ],
    reads: &[
        req("appeal_body", DataType::Text),
        req("appeal_level", DataType::Text),
        req("voting_body", DataType::Text),
        req("voting_level", DataType::Text),
        opt("ruling_body", DataType::Text),
        opt("ruling_level", DataType::Text),
        opt("discipline_form", DataType::Text),
    ],
    check: appeal_level_allowed,
};

fn appeal_level_allowed(ctx: &GuardContext<'_>) -> GuardOutcome {
    let order = get!(ctx.text_list("P3.body_order"));
    let lowest = get!(ctx.param_text("P3.lowest_appeal_level"));
    let finals = get!(ctx.text_list("P3.final_instances"));
    let central_final = get!(ctx.param_text("P3.final_instance_for_central_decisions"));
    let kind = ctx.text("appeal_body").unwrap_or_default();
    let level = ctx.text("appeal_level").unwrap_or_default();
    let (to_vi, to_en) = (body_vi(kind, level), body_en(kind, level));

    let Some(to) = appeal_rank(order, kind, level)
        .filter(|(l, _)| level_rank(lowest).is_some_and(|low| *l >= low))
    else {
        return verdict(vec![ctx.reason(
            "P3",
            format!(
                "{} không giải quyết khiếu nại kỷ luật (P3): khiếu nại được giải quyết bởi ủy ban kiểm tra, ban thường vụ cấp ủy, cấp ủy từ cấp cơ sở trở lên.",
                capitalise(&to_vi)
            ),
            format!(
                "{} does not settle discipline appeals (P3): inspection commissions, standing committees and committees from the grassroots level up do.",
                capitalise(&to_en)
            ),
        )]);
    };

    // The decision appealed: the latest ruling if there was one, else the decision itself.
    let voting_kind = ctx.text("voting_body").unwrap_or_default();
    let voting_level = ctx.text("voting_level").unwrap_or_default();
    let (from_kind, from_level) = match (ctx.text("ruling_body"), ctx.text("ruling_level")) {
        (Some(k), Some(l)) => (k, l),
        _ => (voting_kind, voting_level),
    };
    let from = (
        level_rank(from_level).unwrap_or(0),
        order.iter().position(|k| k == from_kind).unwrap_or(0),
    );
    let mut reasons = Vec::new();
    if to <= from {
        reasons.push(ctx.reason(
            "P3",
            format!(
                "Khiếu nại phải gửi lên cấp ủy hoặc ủy ban kiểm tra cấp trên của {} (P1, P3), không gửi {}.",
                body_vi(from_kind, from_level),
                to_vi
            ),
            format!(
                "The appeal goes to a committee or inspection commission above {} (P1, P3), not to {}.",
                body_en(from_kind, from_level),
                to_en
            ),
        ));
    }

    // The final instance: the Central Committee for decisions of central bodies, else the
    // rule set's table by form.
    let final_spec = if voting_level == "central" {
        Some(central_final.to_owned())
    } else {
        ctx.text("discipline_form").and_then(|form| {
            finals.iter().find_map(|entry| {
                entry
                    .split_once(':')
                    .filter(|(f, _)| *f == form)
                    .map(|(_, body)| body.to_owned())
            })
        })
    };
    if let Some(spec) = final_spec {
        let Some((f_kind, f_level)) = spec.split_once('@') else {
            return bad_entry(ctx, "P3.final_instances", &spec, "«hình_thức:cơ_quan@cấp»");
        };
        let (final_vi, final_en) = named_body(&spec);
        if from_kind == f_kind && from_level == f_level {
            reasons.push(ctx.reason(
                "P4",
                format!(
                    "Quyết định bị khiếu nại là của {final_vi}, cấp giải quyết cuối cùng (P3): đơn không đủ điều kiện giải quyết (P4)."
                ),
                format!(
                    "The decision appealed is {final_en}'s, the final instance (P3): the appeal is inadmissible (P4)."
                ),
            ));
        } else if appeal_rank(order, f_kind, f_level).is_some_and(|f| to > f) {
            reasons.push(ctx.reason(
                "P3",
                format!(
                    "Cấp giải quyết khiếu nại cuối cùng trong trường hợp này là {} (P3); không gửi {}.",
                    final_vi, to_vi
                ),
                format!(
                    "The final instance here is {final_en} (P3); the appeal cannot go to {to_en}."
                ),
            ));
        }
    }
    verdict(reasons)
}

/// The guard `appeal_outcome_consistent`.
pub(super) const APPEAL_OUTCOME_CONSISTENT: GuardSpec = GuardSpec {
    name: "appeal_outcome_consistent",
    rules: &["P3"],
    doc: "The appeal ruling's outcome agrees with the form it records: upheld keeps the form, reduced chooses a less severe one, increased a more severe one (severity order of D32).",
    params: &[("D32.severity_order", ParamKind::TextList)],
    reads: &[
        req("appeal_outcome", DataType::Text),
        req("discipline_form", DataType::Text),
    ],
    check: appeal_outcome_consistent,
};

fn appeal_outcome_consistent(ctx: &GuardContext<'_>) -> GuardOutcome {
    let order = get!(ctx.text_list("D32.severity_order"));
    let outcome = ctx.text("appeal_outcome").unwrap_or_default();
    let new = ctx.text("discipline_form").unwrap_or_default();
    // The form under appeal is the case's fact before this step; the ruling records the new one.
    let Some(old) = ctx.case.fact("discipline_form").and_then(Value::as_text) else {
        return verdict(vec![ctx.reason(
            "P3",
            "Hồ sơ chưa có hình thức kỷ luật bị khiếu nại (P3).".to_owned(),
            "The case records no form of discipline under appeal (P3).".to_owned(),
        )]);
    };
    let severity = |f: &str| order.iter().position(|o| o == f);
    let consistent = match (outcome, severity(old), severity(new)) {
        ("upheld", _, _) => old == new,
        // A lower index is a more severe form.
        ("reduced", Some(o), Some(n)) => n > o,
        ("increased", Some(o), Some(n)) => n < o,
        _ => false,
    };
    if consistent {
        return GuardOutcome::Pass;
    }
    let (vi, en) = match outcome {
        "upheld" => ("giữ nguyên", "upheld"),
        "reduced" => ("giảm hình thức kỷ luật", "reduced"),
        "increased" => ("tăng hình thức kỷ luật", "increased"),
        other => (other, other),
    };
    verdict(vec![ctx.reason(
        "P3",
        format!(
            "Kết quả giải quyết khiếu nại «{vi}» không khớp với hình thức ghi nhận: hình thức bị khiếu nại là {}, hình thức sau giải quyết là {} (P3).",
            form_vi(old),
            form_vi(new)
        ),
        format!(
            "The ruling `{en}` does not agree with the forms: {} under appeal, {} after the ruling (P3).",
            form_en(old),
            form_en(new)
        ),
    )])
}
