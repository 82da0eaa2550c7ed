//! Vote thresholds of resolutions (A8, A9, A14, D31, D33): the tally out of all official members
//! less the exclusions.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, Read, opt, req, verdict};
use crate::engine::context::{UNIT_EXEMPTED, read_unit_exempted};
use crate::engine::period::{Threshold, fmt_date};
use crate::engine::refusal::{Reason, RefusalCode};
use crate::engine::ruleset::ParamKind;

/// What a branch vote reads about exempted members (S15): the registry's list on the vote's
/// date, and the step's optional figures.
pub(super) const EXEMPTION_READS: [Read; 3] = [
    opt(UNIT_EXEMPTED, DataType::List),
    opt("exempted_members", DataType::Integer),
    opt("exempted_present", DataType::Integer),
];

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    BRANCH_VOTE_TWO_THIRDS,
    GRASSROOTS_RESOLUTION_VALID,
    RECOGNITION_VOTE_TWO_THIRDS,
    DISCIPLINE_VOTE_THRESHOLD,
];

// Votes (A8, A9, A14, D31) --------------------------------------------------------------------

pub(super) struct Tally {
    pub(super) votes: i64,
    pub(super) counted: i64,
    members: i64,
    excluded: i64,
    exempted: i64,
}

/// The exempted members (S15) a vote leaves out of its denominator: those the registry has as
/// exempted official members of the case's unit on the vote's date (the context
/// [`UNIT_EXEMPTED`]), less those the step says were present (`exempted_present`: only the
/// exempted who are absent are left out, A8, D33). A count the caller still types
/// (`exempted_members`) must agree with the registry, else the step is refused
/// (`EXEMPTION_COUNT_MISMATCH`). Without a registry context (the core used alone), the typed
/// count stands.
pub(super) fn exempted_absent(ctx: &GuardContext<'_>, rule: &str) -> Result<i64, GuardOutcome> {
    let typed = ctx.int("exempted_members");
    let present = ctx.int("exempted_present").unwrap_or(0);
    let registry = read_unit_exempted(ctx.data);
    let exempted = match (&registry, typed) {
        (Some(r), Some(n)) if i64::try_from(r.members.len()).ok() != Some(n) => {
            return Err(verdict(vec![
                Reason::new(
                    RefusalCode::ExemptionCountMismatch,
                    format!(
                        "Số đảng viên được miễn công tác và sinh hoạt đảng đã ghi ({n}) khác với sổ đảng viên ngày {} ({}) ({rule}, S15): mẫu số lấy theo sổ đảng viên; bỏ trống số này hoặc sửa sổ đảng viên.",
                        fmt_date(r.on),
                        r.members.len()
                    ),
                    format!(
                        "The count of members exempted from party work and activities given ({n}) differs from the registry on {} ({}) ({rule}, S15): the denominator follows the registry; leave the count out or correct the registry.",
                        fmt_date(r.on),
                        r.members.len()
                    ),
                )
                .with_rule("S15")
                .with_field("exempted_members")
                .with_guard(ctx.guard.name),
            ]));
        }
        (Some(r), _) => i64::try_from(r.members.len()).unwrap_or(i64::MAX),
        (None, n) => n.unwrap_or(0),
    };
    if present < 0 || present > exempted {
        return Err(verdict(vec![ctx.reason(
            rule,
            format!(
                "Số đảng viên được miễn sinh hoạt có mặt ({present}) phải từ 0 đến số đảng viên được miễn sinh hoạt của chi bộ ({exempted}) ({rule}, S15)."
            ),
            format!(
                "Exempted members present ({present}) must be between 0 and the branch's exempted members ({exempted}) ({rule}, S15)."
            ),
        )]));
    }
    Ok(exempted - present)
}

/// Reads a vote from `votes_key` out of `members_key`, less `excluded_key` (members living
/// their party life temporarily elsewhere) and, for a branch vote (`excluded_key` given), the
/// exempted members who are absent ([`exempted_absent`]), and checks the inputs make sense. The
/// denominator is all official members, not those present (A8, D33).
pub(super) fn tally(
    ctx: &GuardContext<'_>,
    rule: &str,
    votes_key: &str,
    members_key: &str,
    excluded_key: Option<&str>,
) -> Result<Tally, GuardOutcome> {
    let votes = ctx.need_int(votes_key)?;
    let members = ctx.need_int(members_key)?;
    let excluded = excluded_key.and_then(|k| ctx.int(k)).unwrap_or(0);
    let exempted = match excluded_key {
        Some(_) => exempted_absent(ctx, rule)?,
        None => 0,
    };
    let counted = members - excluded - exempted;
    if counted <= 0 || votes < 0 || excluded < 0 {
        return Err(verdict(vec![ctx.reason(
            rule,
            format!(
                "Số liệu biểu quyết không hợp lệ ({rule}): {members} thành viên, loại trừ {excluded} sinh hoạt tạm thời nơi khác và {exempted} được miễn sinh hoạt vắng mặt, {votes} phiếu tán thành."
            ),
            format!("Invalid vote figures ({rule}): {members} members, {excluded} living elsewhere and {exempted} exempted and absent excluded, {votes} in favour."),
        )]));
    }
    if votes > counted {
        return Err(verdict(vec![ctx.reason(
            rule,
            format!("Số phiếu tán thành ({votes}) nhiều hơn số thành viên được tính ({counted}) ({rule})."),
            format!("More votes in favour ({votes}) than members counted ({counted}) ({rule})."),
        )]));
    }
    Ok(Tally {
        votes,
        counted,
        members,
        excluded,
        exempted,
    })
}

pub(super) fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn vote_reason(
    ctx: &GuardContext<'_>,
    rule: &str,
    t: &Tally,
    threshold: Threshold,
    what_vi: &str,
    what_en: &str,
) -> Reason {
    let needed = threshold.required(unsigned(t.counted));
    let base_vi = if t.excluded > 0 || t.exempted > 0 {
        format!(
            " (mẫu số: {} đảng viên chính thức, trừ {} người sinh hoạt tạm thời nơi khác và {} người được miễn sinh hoạt vắng mặt)",
            t.members, t.excluded, t.exempted
        )
    } else {
        String::new()
    };
    let base_en = if t.excluded > 0 || t.exempted > 0 {
        format!(
            " (denominator: {} official members less {} living their party life elsewhere and {} exempted and absent)",
            t.members, t.excluded, t.exempted
        )
    } else {
        String::new()
    };
    ctx.reason(
        rule,
        format!(
            "{what_vi} chỉ có giá trị khi {} tán thành ({rule}): có {}/{}{base_vi} tán thành, cần ít nhất {needed} phiếu.",
            threshold.vi(),
            t.votes,
            t.counted
        ),
        format!(
            "{what_en} is valid only with {} in favour ({rule}): {}/{}{base_en} in favour, at least {needed} needed.",
            threshold.en(),
            t.votes,
            t.counted
        ),
    )
}

/// The guard `branch_vote_two_thirds`.
pub(super) const BRANCH_VOTE_TWO_THIRDS: GuardSpec = GuardSpec {
    name: "branch_vote_two_thirds",
    rules: &["A8"],
    doc: "The branch resolution proposing admission has the threshold of votes in favour out of all official members, less those living their party life temporarily elsewhere and exempted members who are absent.",
    params: &[("A8.vote_threshold", ParamKind::Threshold)],
    reads: &[
        req("votes_for", DataType::Integer),
        req("official_members", DataType::Integer),
        opt("excluded_members", DataType::Integer),
        EXEMPTION_READS[0],
        EXEMPTION_READS[1],
        EXEMPTION_READS[2],
    ],
    check: branch_vote_two_thirds,
};

fn branch_vote_two_thirds(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A8.vote_threshold"));
    let t = get!(tally(
        ctx,
        "A8",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "A8",
        &t,
        threshold,
        "Nghị quyết đề nghị kết nạp của chi bộ",
        "The branch resolution proposing admission",
    )])
}

/// The guard `grassroots_resolution_valid`.
pub(super) const GRASSROOTS_RESOLUTION_VALID: GuardSpec = GuardSpec {
    name: "grassroots_resolution_valid",
    rules: &["A9"],
    doc: "Where the grassroots committee has been delegated the power to admit, its resolution has the threshold of all committee members in favour.",
    params: &[("A9.committee_threshold", ParamKind::Threshold)],
    reads: &[
        req("grassroots_delegated", DataType::Boolean),
        opt("committee_votes_for", DataType::Integer),
        opt("committee_members", DataType::Integer),
    ],
    check: grassroots_resolution_valid,
};

fn grassroots_resolution_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A9.committee_threshold"));
    if ctx.flag("grassroots_delegated") != Some(true) {
        return GuardOutcome::Pass;
    }
    if ctx.int("committee_votes_for").is_none() || ctx.int("committee_members").is_none() {
        return verdict(vec![ctx.reason(
            "A9",
            "Đảng ủy cơ sở được ủy quyền kết nạp phải ghi số cấp ủy viên và số phiếu tán thành (A9).".to_owned(),
            "A grassroots committee delegated to admit must record its membership and the votes in favour (A9).".to_owned(),
        )]);
    }
    let t = get!(tally(
        ctx,
        "A9",
        "committee_votes_for",
        "committee_members",
        None
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "A9",
        &t,
        threshold,
        "Nghị quyết kết nạp của đảng ủy cơ sở được ủy quyền",
        "The resolution of a delegated grassroots committee",
    )])
}

/// The guard `recognition_vote_two_thirds`.
pub(super) const RECOGNITION_VOTE_TWO_THIRDS: GuardSpec = GuardSpec {
    name: "recognition_vote_two_thirds",
    rules: &["A14"],
    doc: "The branch resolution on recognition (or on striking the name) has the threshold of votes of official members.",
    params: &[("A14.vote_threshold", ParamKind::Threshold)],
    reads: &[
        req("votes_for", DataType::Integer),
        req("official_members", DataType::Integer),
        opt("excluded_members", DataType::Integer),
        EXEMPTION_READS[0],
        EXEMPTION_READS[1],
        EXEMPTION_READS[2],
    ],
    check: recognition_vote_two_thirds,
};

fn recognition_vote_two_thirds(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A14.vote_threshold"));
    let t = get!(tally(
        ctx,
        "A14",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx,
        "A14",
        &t,
        threshold,
        "Nghị quyết của chi bộ đề nghị công nhận đảng viên chính thức (hoặc xóa tên)",
        "The branch resolution on recognition (or on striking the name)",
    )])
}

/// The guard `discipline_vote_threshold`.
pub(super) const DISCIPLINE_VOTE_THRESHOLD: GuardSpec = GuardSpec {
    name: "discipline_vote_threshold",
    rules: &["D31", "D33"],
    doc: "The discipline vote reaches its threshold out of all official members (less the D33 exclusions): more than half, or two thirds for a branch proposing expulsion.",
    params: &[
        ("D31.majority", ParamKind::Threshold),
        ("D31.expulsion_branch_threshold", ParamKind::Threshold),
    ],
    reads: &[
        req("discipline_form", DataType::Text),
        req("votes_for", DataType::Integer),
        req("official_members", DataType::Integer),
        opt("excluded_members", DataType::Integer),
        EXEMPTION_READS[0],
        EXEMPTION_READS[1],
        EXEMPTION_READS[2],
    ],
    check: discipline_vote_threshold,
};

fn discipline_vote_threshold(ctx: &GuardContext<'_>) -> GuardOutcome {
    let form = ctx.text("discipline_form").unwrap_or_default();
    let (param, what_vi, what_en) = if form == "expulsion" {
        (
            "D31.expulsion_branch_threshold",
            "Nghị quyết đề nghị khai trừ của chi bộ",
            "A branch resolution proposing expulsion",
        )
    } else {
        ("D31.majority", "Biểu quyết kỷ luật", "A discipline vote")
    };
    let threshold = get!(ctx.threshold(param));
    let t = get!(tally(
        ctx,
        "D31",
        "votes_for",
        "official_members",
        Some("excluded_members")
    ));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx, "D31", &t, threshold, what_vi, what_en,
    )])
}
