//! Before the vote (D26–D29): the form proposed in the self-criticism, self-criticism and
//! hearing invitations left unanswered, deferral grounds.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, opt, req, verdict};
use crate::engine::period::fmt_date;
use crate::engine::ruleset::ParamKind;

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    SELF_CRITICISM_PROPOSES_FORM,
    SELF_CRITICISM_INVITATIONS_UNANSWERED,
    HEARING_INVITATIONS_UNANSWERED,
    DEFERRAL_GROUND_VALID,
    DEFERRAL_GROUND_ENDED,
];

// D26 -----------------------------------------------------------------------------------------

/// The guard `self_criticism_proposes_form`.
pub(super) const SELF_CRITICISM_PROPOSES_FORM: GuardSpec = GuardSpec {
    name: "self_criticism_proposes_form",
    rules: &["D26"],
    doc: "Where the rule set says the self-criticism includes the form of discipline the member (or organisation) proposes for itself, the form proposed is recorded (`none` when it proposes none).",
    params: &[("D26.member_proposes_form", ParamKind::Flag)],
    reads: &[opt("proposed_form", DataType::Text)],
    check: self_criticism_proposes_form,
};

fn self_criticism_proposes_form(ctx: &GuardContext<'_>) -> GuardOutcome {
    let required = get!(ctx.param_flag("D26.member_proposes_form"));
    if !required || ctx.text("proposed_form").is_some() {
        return GuardOutcome::Pass;
    }
    verdict(vec![
        ctx.reason(
            "D26",
            "Bản tự kiểm điểm phải có hình thức kỷ luật tự nhận (D26): ghi hình thức đã tự nhận, hoặc «không» nếu không tự nhận hình thức nào.".to_owned(),
            "The self-criticism includes the form of discipline proposed for oneself (D26): record it, or `none` if none is proposed.".to_owned(),
        )
        .with_field("proposed_form"),
    ])
}

// D27, D28 ------------------------------------------------------------------------------------

fn invitations_unanswered(
    ctx: &GuardContext<'_>,
    counter: &str,
    what_vi: &str,
    what_en: &str,
) -> GuardOutcome {
    let min = get!(ctx.integer("D27.min_invitations"));
    let invited = ctx.int(counter).unwrap_or(0);
    let mut reasons = Vec::new();
    if invited < min {
        reasons.push(ctx.reason(
            "D27",
            format!(
                "Chỉ tiếp tục {what_vi} khi đảng viên đã được mời ít nhất {min} lần mà không đến (D27); mới mời {invited} lần."
            ),
            format!(
                "The organisation may go on {what_en} only after inviting the member at least {min} times in vain (D27); invited {invited} times."
            ),
        ));
    }
    if ctx.flag("absent_without_good_reason") != Some(true) {
        reasons.push(ctx.reason(
            "D27",
            format!(
                "Đảng viên vắng mặt có lý do chính đáng thì chưa được tiếp tục {what_vi} (D27): mời lại khi đảng viên có thể đến."
            ),
            format!(
                "The member was absent with good reason, so the organisation may not go on {what_en} (D27): invite again."
            ),
        ));
    }
    verdict(reasons)
}

/// The guard `self_criticism_invitations_unanswered`.
pub(super) const SELF_CRITICISM_INVITATIONS_UNANSWERED: GuardSpec = GuardSpec {
    name: "self_criticism_invitations_unanswered",
    rules: &["D27"],
    doc: "The organisation may proceed without the member's self-criticism: the member was invited at least the rule set's number of times and did not come without good reason.",
    params: &[("D27.min_invitations", ParamKind::Integer)],
    reads: &[
        req("absent_without_good_reason", DataType::Boolean),
        opt("self_criticism_invitations", DataType::Integer),
    ],
    check: self_criticism_invitations_unanswered,
};

fn self_criticism_invitations_unanswered(ctx: &GuardContext<'_>) -> GuardOutcome {
    invitations_unanswered(
        ctx,
        "self_criticism_invitations",
        "xem xét mà không có bản tự kiểm điểm",
        "without the member's self-criticism",
    )
}

/// The guard `hearing_invitations_unanswered`.
pub(super) const HEARING_INVITATIONS_UNANSWERED: GuardSpec = GuardSpec {
    name: "hearing_invitations_unanswered",
    rules: &["D27", "D28"],
    doc: "The organisation may decide without hearing the member (D28): the member was invited to the hearing at least the rule set's number of times and did not come without good reason; or the rule set does not require the hearing (`D28.hearing_required` false).",
    params: &[
        ("D27.min_invitations", ParamKind::Integer),
        ("D28.hearing_required", ParamKind::Flag),
    ],
    reads: &[
        req("absent_without_good_reason", DataType::Boolean),
        opt("hearing_invitations", DataType::Integer),
    ],
    check: hearing_invitations_unanswered,
};

fn hearing_invitations_unanswered(ctx: &GuardContext<'_>) -> GuardOutcome {
    if !get!(ctx.param_flag("D28.hearing_required")) {
        return GuardOutcome::Pass;
    }
    invitations_unanswered(
        ctx,
        "hearing_invitations",
        "họp xem xét kỷ luật mà không nghe đảng viên trình bày ý kiến (D28)",
        "to the meeting without hearing the member (D28)",
    )
}

// D29 -----------------------------------------------------------------------------------------

fn ground_vi(code: &str) -> String {
    match code {
        "pregnant" => "đang mang thai".into(),
        "nursing_infant" => "đang nuôi con dưới 12 tháng tuổi".into(),
        "hospitalised" => "đang ốm nặng phải điều trị nội trú tại bệnh viện".into(),
        other => format!("«{other}»"),
    }
}

/// The guard `deferral_ground_valid`.
pub(super) const DEFERRAL_GROUND_VALID: GuardSpec = GuardSpec {
    name: "deferral_ground_valid",
    rules: &["D29"],
    doc: "Consideration of discipline is deferred on a ground the rule set lists (pregnancy, raising a child under 12 months, serious illness in hospital); for a child, the birth date is recorded and the child is under the age limit on the day of the deferral.",
    params: &[
        ("D29.grounds", ParamKind::TextList),
        ("D29.infant_age", ParamKind::Period),
    ],
    reads: &[
        req("deferral_ground", DataType::Text),
        opt("child_birth_date", DataType::Date),
        opt("deferred_on", DataType::Date),
    ],
    check: deferral_ground_valid,
};

fn deferral_ground_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let grounds = get!(ctx.text_list("D29.grounds"));
    let infant_age = get!(ctx.period("D29.infant_age"));
    let ground = ctx.text("deferral_ground").unwrap_or_default();
    if !grounds.iter().any(|g| g == ground) {
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "«{ground}» không phải trường hợp chưa xem xét kỷ luật theo bộ quy tắc {} (D29): chỉ khi đảng viên đang mang thai, nuôi con dưới 12 tháng tuổi hoặc ốm nặng điều trị nội trú.",
                ctx.rules.id
            ),
            format!(
                "`{ground}` is not a deferral ground in rule set {} (D29): pregnancy, raising a child under 12 months, serious illness in hospital.",
                ctx.rules.id
            ),
        )]);
    }
    if ground != "nursing_infant" {
        return GuardOutcome::Pass;
    }
    let at = ctx.date("deferred_on").unwrap_or(ctx.today);
    let Some(birth) = ctx.date("child_birth_date") else {
        return verdict(vec![
            ctx.reason(
                "D29",
                "Hoãn xem xét kỷ luật vì nuôi con nhỏ phải ghi ngày sinh của con (D29).".to_owned(),
                "A deferral for raising a child must record the child's date of birth (D29)."
                    .to_owned(),
            ),
        ]);
    };
    let until = get!(ctx.add(birth, infant_age));
    if birth > at {
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "Ngày sinh của con ({}) sau ngày hoãn ({}): nếu đảng viên đang mang thai, hãy hoãn vì lý do mang thai (D29).",
                fmt_date(birth),
                fmt_date(at)
            ),
            format!(
                "The child's birth ({}) is after the deferral ({}): while the member is pregnant, defer on that ground (D29).",
                fmt_date(birth),
                fmt_date(at)
            ),
        )]);
    }
    if at >= until {
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "Con của đảng viên (sinh ngày {}) đã đủ {} tuổi từ ngày {} (D29): không còn thuộc trường hợp nuôi con dưới {} tuổi.",
                fmt_date(birth),
                infant_age.vi(),
                fmt_date(until),
                infant_age.vi()
            ),
            format!(
                "The member's child (born {}) reached {} on {} (D29): the ground of raising a child under that age no longer holds.",
                fmt_date(birth),
                infant_age.en(),
                fmt_date(until)
            ),
        )]);
    }
    GuardOutcome::Pass
}

/// The guard `deferral_ground_ended`.
pub(super) const DEFERRAL_GROUND_ENDED: GuardSpec = GuardSpec {
    name: "deferral_ground_ended",
    rules: &["D29"],
    doc: "The deferral may end: the child has reached the age limit, or the end of the pregnancy or the discharge from hospital is recorded on or before the day of resuming.",
    params: &[("D29.infant_age", ParamKind::Period)],
    reads: &[
        req("deferral_ground", DataType::Text),
        opt("child_birth_date", DataType::Date),
        opt("ground_ended_on", DataType::Date),
        opt("resumed_on", DataType::Date),
    ],
    check: deferral_ground_ended,
};

fn deferral_ground_ended(ctx: &GuardContext<'_>) -> GuardOutcome {
    let infant_age = get!(ctx.period("D29.infant_age"));
    let ground = ctx.text("deferral_ground").unwrap_or_default();
    let at = ctx.date("resumed_on").unwrap_or(ctx.today);
    if ground == "nursing_infant" {
        let Some(birth) = ctx.date("child_birth_date") else {
            return verdict(vec![
                ctx.reason(
                    "D29",
                    "Hồ sơ hoãn vì nuôi con nhỏ chưa ghi ngày sinh của con (D29).".to_owned(),
                    "The deferral for raising a child has no date of birth of the child (D29)."
                        .to_owned(),
                ),
            ]);
        };
        let until = get!(ctx.add(birth, infant_age));
        if at >= until {
            return GuardOutcome::Pass;
        }
        return verdict(vec![ctx.reason(
            "D29",
            format!(
                "Con của đảng viên (sinh ngày {}) chưa đủ {} tuổi (D29): tiếp tục hoãn xem xét kỷ luật đến ngày {}.",
                fmt_date(birth),
                infant_age.vi(),
                fmt_date(until)
            ),
            format!(
                "The member's child (born {}) is not yet {} old (D29): consideration stays deferred until {}.",
                fmt_date(birth),
                infant_age.en(),
                fmt_date(until)
            ),
        )]);
    }
    match ctx.date("ground_ended_on") {
        Some(ended) if ended <= at => GuardOutcome::Pass,
        Some(ended) => verdict(vec![ctx.reason(
            "D29",
            format!(
                "Ngày kết thúc lý do hoãn ({}) sau ngày tiếp tục xem xét ({}) (D29).",
                fmt_date(ended),
                fmt_date(at)
            ),
            format!(
                "The deferral ground ends ({}) after the day of resuming ({}) (D29).",
                fmt_date(ended),
                fmt_date(at)
            ),
        )]),
        None => verdict(vec![ctx.reason(
            "D29",
            format!(
                "Đảng viên {} (D29): chỉ tiếp tục xem xét kỷ luật khi ghi được ngày lý do hoãn chấm dứt (ngày ra viện, ngày kết thúc thai kỳ); nếu đảng viên đã sinh con, hãy chuyển sang hoãn vì nuôi con dưới 12 tháng tuổi.",
                ground_vi(ground)
            ),
            format!(
                "The member's deferral ground (`{ground}`) has not ended (D29): record the day it ended (discharge, end of pregnancy); after a birth, defer for raising a child under 12 months."
            ),
        )]),
    }
}
