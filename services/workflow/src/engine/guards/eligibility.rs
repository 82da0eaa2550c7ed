//! Eligibility of an applicant (E1–E5, A2, A5): age, the over-age path and who decides it,
//! education, the awareness course, the background verification.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, age_en, age_vi, opt, req, verdict};
use crate::engine::period::{fmt_date, full_months_between, months_en, months_vi};
use crate::engine::refusal::{Reason, RefusalCode};
use crate::engine::ruleset::ParamKind;
use crate::vocab::{RoleLevel, committee_vi};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    AGE_AT_BRANCH_VOTE,
    OVER_AGE_PROVINCE_CONSENT,
    OVER_AGE_DECIDED_AT_PROVINCE,
    EDUCATION_SUFFICIENT,
    AWARENESS_CERTIFICATE_VALID,
    VERIFICATION_MEETS_STANDARD,
];

// E1 ------------------------------------------------------------------------------------------

/// The guard `age_at_branch_vote`.
pub(super) const AGE_AT_BRANCH_VOTE: GuardSpec = GuardSpec {
    name: "age_at_branch_vote",
    rules: &["E1"],
    doc: "The applicant is at least the minimum age, counted in whole months, on the day of the branch vote. Over the maximum age the case is not refused here: E2/E3 apply at the decision (guard over_age_province_consent).",
    params: &[
        ("E1.min_age", ParamKind::Period),
        ("E1.max_age", ParamKind::Period),
    ],
    reads: &[
        req("date_of_birth", DataType::Date),
        opt("branch_vote_date", DataType::Date),
    ],
    check: age_at_branch_vote,
};

fn age_at_branch_vote(ctx: &GuardContext<'_>) -> GuardOutcome {
    let min = get!(ctx.months("E1.min_age"));
    let dob = get!(ctx.need_date("date_of_birth"));
    let at = ctx.date("branch_vote_date").unwrap_or(ctx.today);
    let age = full_months_between(dob, at);
    if age >= min {
        // Over the maximum age is E2/E3's business, at the decision.
        return GuardOutcome::Pass;
    }
    let short = min - age;
    verdict(vec![ctx.reason(
        "E1",
        format!(
            "Người vào Đảng chưa đủ {} tại ngày chi bộ xét kết nạp (E1): sinh ngày {}, ngày xét {}, mới {}, còn thiếu {}.",
            age_vi(min),
            fmt_date(dob),
            fmt_date(at),
            if age >= 0 { age_vi(age) } else { "chưa sinh".to_owned() },
            months_vi(short)
        ),
        format!(
            "The applicant is not yet {} on the day the branch considers the admission (E1): born {}, considered on {}, aged {}, {} short.",
            age_en(min),
            fmt_date(dob),
            fmt_date(at),
            months_en(age.max(0)),
            months_en(short)
        ),
    )])
}

// E2, E3 --------------------------------------------------------------------------------------

/// The guard `over_age_province_consent`.
pub(super) const OVER_AGE_PROVINCE_CONSENT: GuardSpec = GuardSpec {
    name: "over_age_province_consent",
    rules: &["E2", "E3"],
    doc: "An applicant over the maximum age at the branch vote needs the written consent of the province-level standing committee, dated no later than the admission decision.",
    params: &[
        ("E1.max_age", ParamKind::Period),
        ("E3.written_consent_required", ParamKind::Flag),
    ],
    reads: &[
        req("date_of_birth", DataType::Date),
        req("branch_vote_date", DataType::Date),
        opt("decision_date", DataType::Date),
        opt("province_consent_date", DataType::Date),
    ],
    check: over_age_province_consent,
};

fn over_age_province_consent(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.months("E1.max_age"));
    let consent_required = get!(ctx.param_flag("E3.written_consent_required"));
    let dob = get!(ctx.need_date("date_of_birth"));
    let vote = get!(ctx.need_date("branch_vote_date"));
    let age = full_months_between(dob, vote);
    if age <= max || !consent_required {
        return GuardOutcome::Pass;
    }
    let decision = ctx.date("decision_date").unwrap_or(ctx.today);
    match ctx.date("province_consent_date") {
        None => verdict(vec![ctx.reason(
            "E3",
            format!(
                "Người vào Đảng đã trên {} tại ngày chi bộ xét ({}) (E2, E3): việc kết nạp phải được ban thường vụ cấp ủy trực thuộc Trung ương đồng ý bằng văn bản trước khi cấp ủy có thẩm quyền ra quyết định, nhưng hồ sơ chưa có văn bản đồng ý này.",
                age_vi(max),
                age_vi(age)
            ),
            format!(
                "The applicant was over {} at the branch vote ({}) (E2, E3): the province-level standing committee must agree in writing before the competent committee decides, and no such consent is on file.",
                age_en(max),
                age_en(age)
            ),
        )]),
        Some(consent) if consent > decision => verdict(vec![ctx.reason(
            "E3",
            format!(
                "Văn bản đồng ý của ban thường vụ cấp ủy trực thuộc Trung ương (ngày {}) phải có trước ngày quyết định kết nạp ({}) (E3).",
                fmt_date(consent),
                fmt_date(decision)
            ),
            format!(
                "The province-level standing committee's written consent (dated {}) must precede the admission decision ({}) (E3).",
                fmt_date(consent),
                fmt_date(decision)
            ),
        )]),
        Some(_) => GuardOutcome::Pass,
    }
}

/// Whether the actor holds one of the transition's roles at `level` (a role held anywhere is
/// held at every level; one held at `competent`, at the level the rule set makes competent).
fn acts_at(ctx: &GuardContext<'_>, level: RoleLevel) -> bool {
    let competent = crate::access::competent_level(Some(ctx.rules)).role_level();
    ctx.transition.by.iter().any(|need| {
        ctx.actor.roles.iter().any(|held| {
            held.role == need.role
                && held
                    .level
                    .is_none_or(|l| l == level || (l == RoleLevel::Competent && competent == level))
        })
    })
}

/// The guard `over_age_decided_at_province`.
pub(super) const OVER_AGE_DECIDED_AT_PROVINCE: GuardSpec = GuardSpec {
    name: "over_age_decided_at_province",
    rules: &["E2", "A10"],
    doc: "Over the maximum age at the branch vote, the admission is decided by the body at `E2.deciding_level` (the province-level committee): the actor must hold one of the transition's roles at that level. Within the age limit it is decided by the competent committee of A10: a role held only at the province level, when that is not the competent level, does not decide it.",
    params: &[
        ("E1.max_age", ParamKind::Period),
        ("E2.deciding_level", ParamKind::Text),
    ],
    reads: &[
        req("date_of_birth", DataType::Date),
        req("branch_vote_date", DataType::Date),
    ],
    check: over_age_decided_at_province,
};

fn over_age_decided_at_province(ctx: &GuardContext<'_>) -> GuardOutcome {
    let max = get!(ctx.months("E1.max_age"));
    let level_name = get!(ctx.param_text("E2.deciding_level"));
    let Some(level) = RoleLevel::parse(level_name).filter(|l| *l != RoleLevel::Competent) else {
        return GuardOutcome::Fail(vec![
            Reason::new(
                RefusalCode::ParameterMissing,
                format!("Lỗi cấu hình: tham số «E2.deciding_level» phải là một cấp (branch, grassroots, superior, province, central), đang là «{level_name}»."),
                format!("Configuration error: parameter `E2.deciding_level` must be a level (branch, grassroots, superior, province, central), found `{level_name}`."),
            )
            .with_field("E2.deciding_level")
            .with_guard(ctx.guard.name),
        ]);
    };
    // An actor who holds none of the step's roles is refused as such (NOT_PERMITTED).
    let permitted = ctx
        .transition
        .by
        .iter()
        .any(|need| ctx.actor.roles.iter().any(|held| need.admits(held)));
    if !permitted {
        return GuardOutcome::Pass;
    }
    let dob = get!(ctx.need_date("date_of_birth"));
    let vote = get!(ctx.need_date("branch_vote_date"));
    let age = full_months_between(dob, vote);
    let competent = crate::access::competent_level(Some(ctx.rules)).role_level();
    if age > max {
        if acts_at(ctx, level) {
            return GuardOutcome::Pass;
        }
        return verdict(vec![ctx.reason(
            "E2",
            format!(
                "Người vào Đảng đã trên {} tại ngày chi bộ xét ({}) (E2): việc kết nạp do {} xem xét, quyết định; người thực hiện không nhân danh cấp đó.",
                age_vi(max),
                age_vi(age),
                committee_vi(level.as_str())
            ),
            format!(
                "The applicant was over {} at the branch vote ({}) (E2): the admission is decided by the party committee at {} level; the actor does not act at that level.",
                age_en(max),
                age_en(age),
                level.as_str()
            ),
        )]);
    }
    if acts_at(ctx, competent) {
        return GuardOutcome::Pass;
    }
    verdict(vec![ctx.reason(
        "A10",
        format!(
            "Người vào Đảng chưa quá {} tại ngày chi bộ xét (E2 không áp dụng): việc kết nạp do {} có thẩm quyền quyết định (A10), không phải cấp khác.",
            age_vi(max),
            committee_vi(competent.as_str())
        ),
        format!(
            "The applicant was not over {} at the branch vote (E2 does not apply): the admission is decided by the competent committee at {} level (A10), not another body.",
            age_en(max),
            competent.as_str()
        ),
    )])
}

// E4 ------------------------------------------------------------------------------------------

fn education_vi(code: &str) -> String {
    match code {
        "none" => "chưa tốt nghiệp tiểu học".into(),
        "primary" => "tốt nghiệp tiểu học".into(),
        "lower_secondary" => "tốt nghiệp trung học cơ sở".into(),
        "upper_secondary" => "tốt nghiệp trung học phổ thông".into(),
        "vocational" => "trung cấp, cao đẳng".into(),
        "university" => "đại học".into(),
        "postgraduate" => "sau đại học".into(),
        other => format!("«{other}»"),
    }
}

/// The guard `education_sufficient`.
pub(super) const EDUCATION_SUFFICIENT: GuardSpec = GuardSpec {
    name: "education_sufficient",
    rules: &["E4"],
    doc: "The applicant's education level is at least the minimum of the rule set, unless the case falls under the exceptions for hardship areas (Ban Bí thư guidance).",
    params: &[
        ("E4.education_levels", ParamKind::TextList),
        ("E4.min_education", ParamKind::Text),
    ],
    reads: &[
        req("education_level", DataType::Text),
        opt("education_exception", DataType::Boolean),
    ],
    check: education_sufficient,
};

fn education_sufficient(ctx: &GuardContext<'_>) -> GuardOutcome {
    let levels = get!(ctx.text_list("E4.education_levels"));
    let min = get!(ctx.param_text("E4.min_education"));
    if ctx.flag("education_exception") == Some(true) {
        return GuardOutcome::Pass;
    }
    let level = ctx.text("education_level").unwrap_or_default();
    let rank = |code: &str| levels.iter().position(|l| l == code);
    match (rank(level), rank(min)) {
        (Some(have), Some(need)) if have >= need => GuardOutcome::Pass,
        (Some(_), Some(_)) => verdict(vec![ctx.reason(
            "E4",
            format!(
                "Người vào Đảng phải có bằng {} trở lên (E4); trình độ đã khai là {}. Nếu thuộc vùng được áp dụng ngoại lệ theo hướng dẫn của Ban Bí thư, hãy ghi rõ ngoại lệ.",
                education_vi(min),
                education_vi(level)
            ),
            format!(
                "The applicant must hold at least a `{min}` diploma (E4); the declared level is `{level}`. If the case falls under the Secretariat's exceptions for hardship areas, record the exception."
            ),
        )]),
        _ => verdict(vec![ctx.reason(
            "E4",
            format!(
                "Không xác định được trình độ học vấn «{level}» theo danh mục của bộ quy tắc {} (E4).",
                ctx.rules.id
            ),
            format!(
                "Education level `{level}` (or the minimum `{min}`) is not in the list of rule set {} (E4).",
                ctx.rules.id
            ),
        )]),
    }
}

// A2 ------------------------------------------------------------------------------------------

/// The guard `awareness_certificate_valid`.
pub(super) const AWARENESS_CERTIFICATE_VALID: GuardSpec = GuardSpec {
    name: "awareness_certificate_valid",
    rules: &["A2"],
    doc: "The Party awareness course certificate is still valid on the day of the branch vote (validity counted from its issue date).",
    params: &[("A2.certificate_validity", ParamKind::Period)],
    reads: &[
        req("certificate_date", DataType::Date),
        opt("branch_vote_date", DataType::Date),
    ],
    check: awareness_certificate_valid,
};

fn awareness_certificate_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let validity = get!(ctx.period("A2.certificate_validity"));
    let issued = get!(ctx.need_date("certificate_date"));
    let at = ctx.date("branch_vote_date").unwrap_or(ctx.today);
    let expires = get!(ctx.add(issued, validity));
    if issued > at {
        return verdict(vec![ctx.reason(
            "A2",
            format!(
                "Ngày cấp giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng ({}) sau ngày chi bộ xét kết nạp ({}) (A2).",
                fmt_date(issued),
                fmt_date(at)
            ),
            format!(
                "The Party awareness course certificate is dated {}, after the branch vote on {} (A2).",
                fmt_date(issued),
                fmt_date(at)
            ),
        )]);
    }
    if at > expires {
        return verdict(vec![ctx.reason(
            "A2",
            format!(
                "Giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng (cấp ngày {}) chỉ có giá trị {}, đã hết hạn ngày {}, trước ngày chi bộ xét kết nạp {} (A2): chi bộ phải giới thiệu người vào Đảng học lại.",
                fmt_date(issued),
                validity.vi(),
                fmt_date(expires),
                fmt_date(at)
            ),
            format!(
                "The Party awareness course certificate (issued {}) is valid for {} and expired on {}, before the branch vote on {} (A2): the branch must send the applicant to take the course again.",
                fmt_date(issued),
                validity.en(),
                fmt_date(expires),
                fmt_date(at)
            ),
        )]);
    }
    GuardOutcome::Pass
}

// A5, E5 --------------------------------------------------------------------------------------

/// The guard `verification_meets_standard`.
pub(super) const VERIFICATION_MEETS_STANDARD: GuardSpec = GuardSpec {
    name: "verification_meets_standard",
    rules: &["A5", "E5"],
    doc: "The background verification concluded that the applicant meets the political standard (`verification_conclusion` = `meets_standard`).",
    params: &[],
    reads: &[req("verification_conclusion", DataType::Text)],
    check: verification_meets_standard,
};

fn verification_meets_standard(ctx: &GuardContext<'_>) -> GuardOutcome {
    match ctx.text("verification_conclusion") {
        Some("meets_standard") => GuardOutcome::Pass,
        other => verdict(vec![ctx.reason(
            "A5",
            format!(
                "Kết luận thẩm tra lý lịch chưa xác định người vào Đảng đủ tiêu chuẩn chính trị (A5, E5); kết luận hiện tại: «{}».",
                other.unwrap_or("chưa có")
            ),
            format!(
                "The background verification has not concluded that the applicant meets the political standard (A5, E5); current conclusion: `{}`.",
                other.unwrap_or("none")
            ),
        )]),
    }
}
