//! Vote thresholds of resolutions (A8, A9, A14, D31, D33): the tally out of all official members
//! less the exclusions.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, Read, opt, req, verdict};
use crate::engine::context::{
    ExclusionKind, VOTE_EXCLUSIONS, VoteExclusions, read_vote_exclusions,
};
use crate::engine::period::{Threshold, fmt_date};
use crate::engine::refusal::{Reason, RefusalCode};
use crate::engine::ruleset::ParamKind;

/// What a branch vote reads about the members its denominator leaves out: the registry's lists
/// on the vote's date (living elsewhere, exempted), and the step's optional figures.
pub(super) const EXCLUSION_READS: [Read; 4] = [
    opt(VOTE_EXCLUSIONS, DataType::List),
    opt("excluded_members", DataType::Integer),
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
    excluded: Exclusions,
}

/// The members a vote's denominator leaves out (A8, A14, D5, D33; 294-QĐ/TW 9.3.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Exclusions {
    /// Living their party life temporarily elsewhere on the vote's date.
    pub(super) away: i64,
    /// Exempted from party activities and work (S15) on that date and absent.
    pub(super) exempted_absent: i64,
}

impl Exclusions {
    pub(super) fn total(self) -> i64 {
        self.away.saturating_add(self.exempted_absent)
    }
}

/// How the step may still type the count of one kind of exclusion, and what a count that
/// disagrees with the registry is refused with.
struct TypedCount {
    input: &'static str,
    code: RefusalCode,
    /// The rule the refusal names; `None`: the vote's own rule.
    rule: Option<&'static str>,
    what_vi: &'static str,
    what_en: &'static str,
}

fn typed_count(kind: ExclusionKind) -> TypedCount {
    match kind {
        ExclusionKind::Away => TypedCount {
            input: "excluded_members",
            code: RefusalCode::TemporaryActivityCountMismatch,
            rule: None,
            what_vi: "Số đảng viên sinh hoạt đảng tạm thời nơi khác",
            what_en: "The count of members living their party life temporarily elsewhere",
        },
        ExclusionKind::Exempted => TypedCount {
            input: "exempted_members",
            code: RefusalCode::ExemptionCountMismatch,
            rule: Some("S15"),
            what_vi: "Số đảng viên được miễn công tác và sinh hoạt đảng",
            what_en: "The count of members exempted from party work and activities",
        },
    }
}

/// The count of one kind of exclusion: the registry's on the vote's date when the shell read
/// it (a count the step still types must agree, else a reason with the kind's code), the typed
/// count otherwise (the core used alone).
fn counted(
    ctx: &GuardContext<'_>,
    rule: &str,
    registry: Option<&VoteExclusions>,
    kind: ExclusionKind,
    reasons: &mut Vec<Reason>,
) -> i64 {
    let t = typed_count(kind);
    let typed = ctx.int(t.input);
    let Some(r) = registry else {
        return typed.unwrap_or(0);
    };
    let listed = r.of(kind).len();
    let from_registry = i64::try_from(listed).unwrap_or(i64::MAX);
    if let Some(n) = typed
        && n != from_registry
    {
        let cited = match t.rule {
            Some(s) => format!("{rule}, {s}"),
            None => rule.to_owned(),
        };
        reasons.push(
            Reason::new(
                t.code,
                format!(
                    "{} đã ghi ({n}) khác với sổ đảng viên ngày {} ({listed}) ({cited}): mẫu số lấy theo sổ đảng viên; bỏ trống số này hoặc sửa sổ đảng viên.",
                    t.what_vi,
                    fmt_date(r.on)
                ),
                format!(
                    "{} given ({n}) differs from the registry on {} ({listed}) ({cited}): the denominator follows the registry; leave the count out or correct the registry.",
                    t.what_en,
                    fmt_date(r.on)
                ),
            )
            .with_rule(t.rule.unwrap_or(rule))
            .with_field(t.input)
            .with_guard(ctx.guard.name),
        );
    }
    from_registry
}

/// The members a branch vote leaves out of its denominator, from the registry on the vote's
/// date (the context [`VOTE_EXCLUSIONS`]): those living their party life temporarily elsewhere
/// (A8, D33), and the exempted (S15) less those the step says were present
/// (`exempted_present`: only the exempted who are absent are left out). A count the caller
/// still types (`excluded_members`, `exempted_members`) must agree with the registry, else the
/// step is refused (`TEMPORARY_ACTIVITY_COUNT_MISMATCH`, `EXEMPTION_COUNT_MISMATCH`). Without a
/// registry context (the core used alone) the typed counts stand. A vote of another body
/// (`branch` false: a committee) leaves out only the typed `excluded_members`: the registry
/// does not know who sits on it.
pub(super) fn exclusions(
    ctx: &GuardContext<'_>,
    rule: &str,
    branch: bool,
) -> Result<Exclusions, GuardOutcome> {
    if !branch {
        return Ok(Exclusions {
            away: ctx.int("excluded_members").unwrap_or(0),
            exempted_absent: 0,
        });
    }
    let registry = read_vote_exclusions(ctx.data);
    let mut reasons = Vec::new();
    let away = counted(
        ctx,
        rule,
        registry.as_ref(),
        ExclusionKind::Away,
        &mut reasons,
    );
    let exempted = counted(
        ctx,
        rule,
        registry.as_ref(),
        ExclusionKind::Exempted,
        &mut reasons,
    );
    if !reasons.is_empty() {
        return Err(verdict(reasons));
    }
    let present = ctx.int("exempted_present").unwrap_or(0);
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
    Ok(Exclusions {
        away,
        exempted_absent: exempted - present,
    })
}

/// Reads a vote from `votes_key` out of `members_key`, less, for a branch vote, the members
/// living their party life temporarily elsewhere and the exempted members who are absent
/// ([`exclusions`]), and checks the inputs make sense. The denominator is all official members,
/// not those present (A8, D33).
pub(super) fn tally(
    ctx: &GuardContext<'_>,
    rule: &str,
    votes_key: &str,
    members_key: &str,
    branch: bool,
) -> Result<Tally, GuardOutcome> {
    let votes = ctx.need_int(votes_key)?;
    let members = ctx.need_int(members_key)?;
    let excluded = if branch {
        exclusions(ctx, rule, true)?
    } else {
        Exclusions::default()
    };
    let (away, exempted) = (excluded.away, excluded.exempted_absent);
    let counted = members - excluded.total();
    if counted <= 0 || votes < 0 || away < 0 {
        return Err(verdict(vec![ctx.reason(
            rule,
            format!(
                "Số liệu biểu quyết không hợp lệ ({rule}): {members} thành viên, loại trừ {away} sinh hoạt tạm thời nơi khác và {exempted} được miễn sinh hoạt vắng mặt, {votes} phiếu tán thành."
            ),
            format!("Invalid vote figures ({rule}): {members} members, {away} living elsewhere and {exempted} exempted and absent excluded, {votes} in favour."),
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
    let (away, exempted) = (t.excluded.away, t.excluded.exempted_absent);
    let base_vi = if t.excluded.total() > 0 {
        format!(
            " (mẫu số: {} đảng viên chính thức, trừ {away} người sinh hoạt tạm thời nơi khác và {exempted} người được miễn sinh hoạt vắng mặt)",
            t.members
        )
    } else {
        String::new()
    };
    let base_en = if t.excluded.total() > 0 {
        format!(
            " (denominator: {} official members less {away} living their party life elsewhere and {exempted} exempted and absent)",
            t.members
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
    doc: "The branch resolution proposing admission has the threshold of votes in favour out of all official members, less those living their party life temporarily elsewhere and exempted members who are absent, both from the registry on the vote's date.",
    params: &[("A8.vote_threshold", ParamKind::Threshold)],
    reads: &[
        req("votes_for", DataType::Integer),
        req("official_members", DataType::Integer),
        EXCLUSION_READS[0],
        EXCLUSION_READS[1],
        EXCLUSION_READS[2],
        EXCLUSION_READS[3],
    ],
    check: branch_vote_two_thirds,
};

fn branch_vote_two_thirds(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A8.vote_threshold"));
    let t = get!(tally(ctx, "A8", "votes_for", "official_members", true));
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
        false
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
        EXCLUSION_READS[0],
        EXCLUSION_READS[1],
        EXCLUSION_READS[2],
        EXCLUSION_READS[3],
    ],
    check: recognition_vote_two_thirds,
};

fn recognition_vote_two_thirds(ctx: &GuardContext<'_>) -> GuardOutcome {
    let threshold = get!(ctx.threshold("A14.vote_threshold"));
    let t = get!(tally(ctx, "A14", "votes_for", "official_members", true));
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
        EXCLUSION_READS[0],
        EXCLUSION_READS[1],
        EXCLUSION_READS[2],
        EXCLUSION_READS[3],
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
    let t = get!(tally(ctx, "D31", "votes_for", "official_members", true));
    if threshold.met(unsigned(t.votes), unsigned(t.counted)) {
        return GuardOutcome::Pass;
    }
    verdict(vec![vote_reason(
        ctx, "D31", &t, threshold, what_vi, what_en,
    )])
}
