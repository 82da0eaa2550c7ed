//! Striking a name off (D4, D5): the ground and the branch vote.

use super::votes::{tally, unsigned, vote_reason};
use super::{DataType, GuardContext, GuardOutcome, GuardSpec, opt, req, verdict};
use crate::engine::ruleset::ParamKind;

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[REMOVAL_GROUND_ESTABLISHED, REMOVAL_VOTE_THRESHOLD];

// D4, D5 --------------------------------------------------------------------------------------

/// The guard `removal_ground_established`.
pub(super) const REMOVAL_GROUND_ESTABLISHED: GuardSpec = GuardSpec {
    name: "removal_ground_established",
    rules: &["D4", "D5"],
    doc: "Striking the name off rests on a ground the rule set lists (skipping branch meetings, not paying dues) for at least the rule set's number of months in a year, without good reason.",
    params: &[
        ("D5.grounds", ParamKind::TextList),
        ("D5.min_months", ParamKind::Integer),
    ],
    reads: &[
        req("removal_ground", DataType::Text),
        opt("months_missed", DataType::Integer),
        opt("good_reason", DataType::Boolean),
    ],
    check: removal_ground_established,
};

fn removal_ground_established(ctx: &GuardContext<'_>) -> GuardOutcome {
    let grounds = get!(ctx.text_list("D5.grounds"));
    let min = get!(ctx.integer("D5.min_months"));
    let ground = ctx.text("removal_ground").unwrap_or_default();
    if !grounds.iter().any(|g| g == ground) {
        return verdict(vec![ctx.reason(
            "D5",
            format!(
                "«{ground}» không phải căn cứ xóa tên theo bộ quy tắc {} (D5): bỏ sinh hoạt chi bộ hoặc không đóng đảng phí {min} tháng trong năm mà không có lý do chính đáng. Xóa tên không phải là hình thức kỷ luật (D4).",
                ctx.rules.id
            ),
            format!(
                "`{ground}` is not a ground for striking the name off in rule set {} (D5): skipping branch meetings or not paying dues for {min} months in a year without good reason. Striking off is not a form of discipline (D4).",
                ctx.rules.id
            ),
        )]);
    }
    let mut reasons = Vec::new();
    let months = ctx.int("months_missed").unwrap_or(0);
    if months < min {
        let what_vi = if ground == "unpaid_dues" {
            "không đóng đảng phí"
        } else {
            "bỏ sinh hoạt chi bộ"
        };
        reasons.push(ctx.reason(
            "D5",
            format!(
                "Chỉ xem xét xóa tên khi đảng viên {what_vi} {min} tháng trong năm (D5); mới ghi nhận {months} tháng."
            ),
            format!(
                "The name is struck off only after {min} months in a year of `{ground}` (D5); {months} recorded."
            ),
        ));
    }
    if ctx.flag("good_reason") == Some(true) {
        reasons.push(ctx.reason(
            "D5",
            "Đảng viên có lý do chính đáng thì không xem xét xóa tên (D5).".to_owned(),
            "A member with good reason is not struck off (D5).".to_owned(),
        ));
    }
    verdict(reasons)
}

/// The guard `removal_vote_threshold`.
pub(super) const REMOVAL_VOTE_THRESHOLD: GuardSpec = GuardSpec {
    name: "removal_vote_threshold",
    rules: &["D5"],
    doc: "The branch resolution proposing to strike the name off has the rule set's threshold of official members (less the D33 exclusions).",
    params: &[("D5.branch_vote_threshold", ParamKind::Threshold)],
    reads: &[
        req("votes_for", DataType::Integer),
        req("official_members", DataType::Integer),
        super::votes::EXCLUSION_READS[0],
        super::votes::EXCLUSION_READS[1],
        super::votes::EXCLUSION_READS[2],
        super::votes::EXCLUSION_READS[3],
    ],
    check: removal_vote_threshold,
};

fn removal_vote_threshold(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("D5.branch_vote_threshold"));
    let t = get!(tally(ctx, "D5", "votes_for", "official_members", true));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "D5",
        &t,
        threshold,
        "Nghị quyết của chi bộ đề nghị xóa tên đảng viên",
        "The branch resolution proposing to strike the name off",
    )])
}
