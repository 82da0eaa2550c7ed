//! From the decision to official membership and back (A11, A13, A14, A16, A17): the ceremony,
//! probation, recognition rounds, readmission.

use super::{
    DataType, GuardContext, GuardOutcome, GuardSpec, elapsed_en, elapsed_vi, opt, req, verdict,
};
use crate::engine::period::{fmt_date, full_months_between};
use crate::engine::ruleset::ParamKind;

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    CEREMONY_WITHIN_DEADLINE,
    PROBATION_COMPLETED,
    RECOGNITION_ROUNDS_REMAINING,
    RECOGNITION_ROUNDS_EXHAUSTED,
    READMISSION_CONDITIONS,
];

// A11 -----------------------------------------------------------------------------------------

/// The guard `ceremony_within_deadline`.
pub(super) const CEREMONY_WITHIN_DEADLINE: GuardSpec = GuardSpec {
    name: "ceremony_within_deadline",
    rules: &["A11"],
    doc: "The admission ceremony is held within the period after the branch received the decision, or later with the direct superior committee's consent.",
    params: &[("A11.ceremony_period", ParamKind::Period)],
    reads: &[
        req("ceremony_date", DataType::Date),
        req("decision_date", DataType::Date),
        opt("decision_received_date", DataType::Date),
        opt("superior_consent_date", DataType::Date),
    ],
    check: ceremony_within_deadline,
};

fn ceremony_within_deadline(ctx: &GuardContext<'_>) -> GuardOutcome {
    let period = get!(ctx.period("A11.ceremony_period"));
    let ceremony = get!(ctx.need_date("ceremony_date"));
    let received = match ctx.date("decision_received_date") {
        Some(d) => d,
        None => get!(ctx.need_date("decision_date")),
    };
    if ceremony < received {
        return verdict(vec![ctx.reason(
            "A11",
            format!(
                "Lễ kết nạp ({}) không thể tổ chức trước ngày nhận quyết định kết nạp ({}) (A11).",
                fmt_date(ceremony),
                fmt_date(received)
            ),
            format!(
                "The ceremony ({}) cannot precede receipt of the admission decision ({}) (A11).",
                fmt_date(ceremony),
                fmt_date(received)
            ),
        )]);
    }
    let due = get!(ctx.add(received, period));
    if ceremony > due && ctx.date("superior_consent_date").is_none() {
        return verdict(vec![ctx.reason(
            "A11",
            format!(
                "Lễ kết nạp ngày {} quá thời hạn {} kể từ ngày nhận quyết định ({}, hạn cuối {}) (A11): chi bộ phải báo cáo và được cấp ủy cấp trên trực tiếp đồng ý; hãy ghi ngày đồng ý.",
                fmt_date(ceremony),
                period.vi(),
                fmt_date(received),
                fmt_date(due)
            ),
            format!(
                "The ceremony on {} is later than {} after receipt of the decision ({}, due {}) (A11): the branch must report and obtain the direct superior committee's consent; record its date.",
                fmt_date(ceremony),
                period.en(),
                fmt_date(received),
                fmt_date(due)
            ),
        )]);
    }
    GuardOutcome::Pass
}

// A13 -----------------------------------------------------------------------------------------

/// The guard `probation_completed`.
pub(super) const PROBATION_COMPLETED: GuardSpec = GuardSpec {
    name: "probation_completed",
    rules: &["A13"],
    doc: "The recognition vote is held on or after the end of probation (probation_end, computed from the ceremony date).",
    params: &[("A13.probation_period", ParamKind::Period)],
    reads: &[
        req("probation_end", DataType::Date),
        opt("recognition_vote_date", DataType::Date),
    ],
    check: probation_completed,
};

fn probation_completed(ctx: &GuardContext<'_>) -> GuardOutcome {
    let period = get!(ctx.period("A13.probation_period"));
    let end = get!(ctx.need_date("probation_end"));
    let at = ctx.date("recognition_vote_date").unwrap_or(ctx.today);
    if at >= end {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A13",
        format!(
            "Đảng viên chưa hết thời kỳ dự bị {} (A13): thời kỳ dự bị kết thúc ngày {}, chi bộ chỉ xét công nhận đảng viên chính thức từ ngày đó (ngày xét: {}).",
            period.vi(),
            fmt_date(end),
            fmt_date(at)
        ),
        format!(
            "The {} of probation are not over (A13): probation ends on {}, and the branch may consider recognition only from that day (vote date: {}).",
            period.en(),
            fmt_date(end),
            fmt_date(at)
        ),
    )])
}

// A14 rounds ----------------------------------------------------------------------------------

/// The guard `recognition_rounds_remaining`.
pub(super) const RECOGNITION_ROUNDS_REMAINING: GuardSpec = GuardSpec {
    name: "recognition_rounds_remaining",
    rules: &["A14"],
    doc: "The branch may hold another recognition vote, conclusive or not: fewer inconclusive rounds than the maximum so far (after them the case belongs to the competent committee).",
    params: &[("A14.max_vote_rounds", ParamKind::Integer)],
    reads: &[opt("recognition_vote_rounds", DataType::Integer)],
    check: recognition_rounds_remaining,
};

fn recognition_rounds_remaining(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.integer("A14.max_vote_rounds"));
    let rounds = ctx.int("recognition_vote_rounds").unwrap_or(0);
    if rounds < max {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A14",
        format!(
            "Chi bộ đã biểu quyết {rounds} lần mà không đạt 2/3 cho việc công nhận hay xóa tên (A14): không biểu quyết thêm; báo cáo cấp ủy cấp trên trực tiếp để cấp ủy có thẩm quyền xem xét, quyết định."
        ),
        format!(
            "The branch has voted {rounds} times without reaching the threshold for recognition or striking off (A14): no further vote; report to the direct superior committee so the competent committee decides."
        ),
    )])
}

/// The guard `recognition_rounds_exhausted`.
pub(super) const RECOGNITION_ROUNDS_EXHAUSTED: GuardSpec = GuardSpec {
    name: "recognition_rounds_exhausted",
    rules: &["A14"],
    doc: "The branch has held the maximum number of inconclusive recognition votes, so the case goes to the competent committee.",
    params: &[("A14.max_vote_rounds", ParamKind::Integer)],
    reads: &[opt("recognition_vote_rounds", DataType::Integer)],
    check: recognition_rounds_exhausted,
};

fn recognition_rounds_exhausted(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.integer("A14.max_vote_rounds"));
    let rounds = ctx.int("recognition_vote_rounds").unwrap_or(0);
    if rounds >= max {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A14",
        format!(
            "Chỉ báo cáo lên cấp ủy cấp trên khi chi bộ đã biểu quyết {max} lần mà không đạt 2/3 (A14); chi bộ mới biểu quyết {rounds} lần."
        ),
        format!(
            "The case goes up only after {max} inconclusive branch votes (A14); the branch has voted {rounds} times."
        ),
    )])
}

// A16, A17 ------------------------------------------------------------------------------------

fn leave_reason_vi(code: &str) -> String {
    match code {
        "abandoned_activities" => "tự ý bỏ sinh hoạt đảng".into(),
        "applied_to_leave" => "xin ra khỏi Đảng".into(),
        "internal_disunity" => "gây mất đoàn kết nội bộ nghiêm trọng".into(),
        "corruption_conviction" => "bị kết án về tội tham nhũng".into(),
        "serious_crime_conviction" => "bị kết án về tội nghiêm trọng trở lên".into(),
        other => format!("«{other}»"),
    }
}

/// The guard `readmission_conditions`.
pub(super) const READMISSION_CONDITIONS: GuardSpec = GuardSpec {
    name: "readmission_conditions",
    rules: &["A16", "A17"],
    doc: "For a readmission: enough time since leaving the Party and since a conviction was expunged, and a reason for leaving that does not bar readmission.",
    params: &[
        ("A16.min_interval", ParamKind::Period),
        ("A16.after_expungement", ParamKind::Period),
        ("A17.never_readmit_reasons", ParamKind::TextList),
    ],
    reads: &[
        opt("readmission", DataType::Boolean),
        opt("left_party_date", DataType::Date),
        opt("left_reason", DataType::Text),
        opt("conviction_expunged_date", DataType::Date),
        opt("branch_vote_date", DataType::Date),
    ],
    check: readmission_conditions,
};

fn readmission_conditions(ctx: &GuardContext<'_>) -> GuardOutcome {
    let interval = get!(ctx.months("A16.min_interval"));
    let interval_period = get!(ctx.period("A16.min_interval"));
    let after_expunged = get!(ctx.months("A16.after_expungement"));
    let after_expunged_period = get!(ctx.period("A16.after_expungement"));
    let never = get!(ctx.text_list("A17.never_readmit_reasons"));
    if ctx.flag("readmission") != Some(true) {
        return GuardOutcome::Pass;
    }
    let at = ctx.date("branch_vote_date").unwrap_or(ctx.today);
    let mut reasons = Vec::new();
    if let Some(reason) = ctx.text("left_reason")
        && never.iter().any(|n| n == reason)
    {
        reasons.push(ctx.reason(
            "A17",
            format!(
                "Không xem xét kết nạp lại người đã ra khỏi Đảng vì {} (A17).",
                leave_reason_vi(reason)
            ),
            format!("A person who left the Party for `{reason}` is never readmitted (A17)."),
        ));
    }
    match ctx.date("left_party_date") {
        None => reasons.push(ctx.reason(
            "A16",
            "Hồ sơ kết nạp lại phải ghi ngày ra khỏi Đảng (A16).".to_owned(),
            "A readmission file must record the date the person left the Party (A16).".to_owned(),
        )),
        Some(left) => {
            let since = full_months_between(left, at);
            if since < interval {
                reasons.push(ctx.reason(
                    "A16",
                    format!(
                        "Người xin kết nạp lại phải ra khỏi Đảng ít nhất {} (A16): ra khỏi Đảng ngày {}, đến ngày xét {} mới được {}.",
                        interval_period.vi(),
                        fmt_date(left),
                        fmt_date(at),
                        elapsed_vi(since.max(0), interval_period)
                    ),
                    format!(
                        "A readmitted person must have left the Party at least {} earlier (A16): left on {}, {} by {}.",
                        interval_period.en(),
                        fmt_date(left),
                        elapsed_en(since.max(0), interval_period),
                        fmt_date(at)
                    ),
                ));
            }
        }
    }
    if let Some(expunged) = ctx.date("conviction_expunged_date") {
        let since = full_months_between(expunged, at);
        if since < after_expunged {
            reasons.push(ctx.reason(
                "A16",
                format!(
                    "Người từng bị kết án phải được xóa án tích ít nhất {} (A16): xóa án tích ngày {}, đến ngày xét mới được {}.",
                    after_expunged_period.vi(),
                    fmt_date(expunged),
                    elapsed_vi(since.max(0), after_expunged_period)
                ),
                format!(
                    "A person once convicted needs {} since the conviction was expunged (A16): expunged on {}, {} by the vote.",
                    after_expunged_period.en(),
                    fmt_date(expunged),
                    elapsed_en(since.max(0), after_expunged_period)
                ),
            ));
        }
    }
    verdict(reasons)
}
