//! Introducers (A6): official members who worked with the applicant, a mass organisation in place
//! of one, the registry as of the step.

use super::{
    DataType, GuardContext, GuardOutcome, GuardSpec, age_en, age_vi, elapsed_en, elapsed_vi, opt,
    req, verdict,
};
use crate::engine::period::{fmt_date, full_months_between};
use crate::engine::refusal::Reason;
use crate::engine::ruleset::ParamKind;
use chrono::NaiveDate;

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[INTRODUCERS_VALID];

// A6 ------------------------------------------------------------------------------------------

/// The guard `introducers_valid`.
pub(super) const INTRODUCERS_VALID: GuardSpec = GuardSpec {
    name: "introducers_valid",
    rules: &["A6"],
    doc: "Enough introducers: official members who have worked with the applicant for the minimum period, or a mass organisation in place of at most one of them; a Youth Union organisation introduces applicants of youth age where one exists. An introducer named by the id of a registered member is taken from the registry as of the day of the step (`registry_members`): an official member that day (the `introducer_N_official` flag is then not read), of the case's grassroots organization (`unit_grassroots`).",
    params: &[
        ("A6.introducers_required", ParamKind::Integer),
        ("A6.max_organisation_introducers", ParamKind::Integer),
        ("A6.min_co_working", ParamKind::Period),
        ("A6.youth_union_age_limit", ParamKind::Period),
    ],
    reads: &[
        req("introducer_1", DataType::Text),
        opt("introducer_1_official", DataType::Boolean),
        req("introducer_1_since", DataType::Date),
        opt("introducer_2", DataType::Text),
        opt("introducer_2_official", DataType::Boolean),
        opt("introducer_2_since", DataType::Date),
        opt("organisation_introducer", DataType::Text),
        opt("youth_union_present", DataType::Boolean),
        opt("date_of_birth", DataType::Date),
        opt(crate::engine::context::REGISTRY_MEMBERS, DataType::List),
        opt(crate::engine::context::UNIT_GRASSROOTS, DataType::Text),
        opt(crate::engine::context::UNIT_GRASSROOTS_NAME, DataType::Text),
    ],
    check: introducers_valid,
};

fn introducers_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let required = get!(ctx.integer("A6.introducers_required"));
    let max_org = get!(ctx.integer("A6.max_organisation_introducers"));
    let co_working = get!(ctx.months("A6.min_co_working"));
    let co_working_period = get!(ctx.period("A6.min_co_working"));
    let mut reasons = Vec::new();
    let on = ctx.today;

    let mut people: Vec<&str> = Vec::new();
    for n in ["1", "2"] {
        let Some(who) = ctx
            .text(&format!("introducer_{n}"))
            .filter(|s| !s.trim().is_empty())
        else {
            continue;
        };
        if people.contains(&who) {
            reasons.push(ctx.reason(
                "A6",
                format!("Cùng một đảng viên ({who}) không thể là cả hai người giới thiệu (A6)."),
                format!("The same member ({who}) cannot be both introducers (A6)."),
            ));
            continue;
        }
        people.push(who);
        match crate::engine::context::registered_member(ctx.data, who) {
            // A registered member: the registry, not the request, says what they were that day.
            Some(m) => reasons.extend(registered_introducer_reasons(ctx, &m, on)),
            None => {
                if ctx.flag(&format!("introducer_{n}_official")) != Some(true) {
                    reasons.push(ctx.reason(
                        "A6",
                        format!("Người giới thiệu {who} phải là đảng viên chính thức (A6)."),
                        format!("Introducer {who} must be an official member (A6)."),
                    ));
                }
            }
        }
        match ctx.date(&format!("introducer_{n}_since")) {
            None => reasons.push(ctx.reason(
                "A6",
                format!("Chưa ghi thời điểm người giới thiệu {who} bắt đầu cùng công tác, sinh hoạt với người vào Đảng (A6)."),
                format!("The date introducer {who} started working with the applicant is not recorded (A6)."),
            )),
            Some(since) => {
                let together = full_months_between(since, on);
                if together < co_working {
                    reasons.push(ctx.reason(
                        "A6",
                        format!(
                            "Người giới thiệu {who} mới cùng công tác, sinh hoạt với người vào Đảng {} (từ {}), chưa đủ {} (A6).",
                            elapsed_vi(together.max(0), co_working_period),
                            fmt_date(since),
                            co_working_period.vi()
                        ),
                        format!(
                            "Introducer {who} has worked with the applicant for {} (since {}), less than {} (A6).",
                            elapsed_en(together.max(0), co_working_period),
                            fmt_date(since),
                            co_working_period.en()
                        ),
                    ));
                }
            }
        }
    }

    let organisation = ctx
        .text("organisation_introducer")
        .filter(|o| !o.is_empty() && *o != "none");
    let org_count = i64::from(organisation.is_some()).min(max_org);
    let total = i64::try_from(people.len())
        .unwrap_or(i64::MAX)
        .saturating_add(org_count);
    if total < required {
        reasons.push(ctx.reason(
            "A6",
            format!(
                "Cần {required} người giới thiệu (đảng viên chính thức; Đoàn Thanh niên hoặc Công đoàn cơ sở có thể thay {max_org} người) (A6); hiện mới có {total}."
            ),
            format!(
                "{required} introducers are needed (official members; the Youth Union or the trade union may stand for {max_org} of them) (A6); there are {total}."
            ),
        ));
    }

    if ctx.flag("youth_union_present") == Some(true) {
        let limit = get!(ctx.months("A6.youth_union_age_limit"));
        if let Some(dob) = ctx.date("date_of_birth") {
            let age = full_months_between(dob, on);
            if age < limit && organisation != Some("youth_union") {
                reasons.push(ctx.reason(
                    "A6",
                    format!(
                        "Người vào Đảng trong độ tuổi thanh niên (dưới {}) ở nơi có tổ chức Đoàn phải được Ban Chấp hành Đoàn cơ sở và một đảng viên chính thức giới thiệu (A6).",
                        age_vi(limit)
                    ),
                    format!(
                        "An applicant of youth age (under {}) where a Youth Union organisation exists must be introduced by the grassroots Youth Union committee and one official member (A6).",
                        age_en(limit)
                    ),
                ));
            }
        }
    }
    verdict(reasons)
}

/// Why a registered member may not introduce the applicant on `on`, as the registry has them
/// that day: not an official member (a probationary member, or no longer a member), or a member
/// of another grassroots organization than the case's unit (A6).
fn registered_introducer_reasons(
    ctx: &GuardContext<'_>,
    m: &crate::engine::context::RegisteredMember,
    on: NaiveDate,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let name = &m.full_name;
    if !m.official_on(on) {
        let (vi, en) = match m.status.as_deref() {
            Some("PROBATIONARY") => ("là đảng viên dự bị", "was a probationary member"),
            Some("OFFICIAL") => (
                "chưa là đảng viên chính thức",
                "was not yet an official member",
            ),
            _ => ("không còn là đảng viên", "was not a member"),
        };
        reasons.push(ctx.reason(
            "A6",
            format!(
                "Theo danh sách đảng viên, người giới thiệu {name} {vi} vào ngày {}: người giới thiệu phải là đảng viên chính thức (A6).",
                fmt_date(on)
            ),
            format!(
                "According to the registry, introducer {name} {en} on {}: an introducer must be an official member (A6).",
                fmt_date(on)
            ),
        ));
    }
    if let Some((unit_org, unit_org_name)) = crate::engine::context::unit_grassroots(ctx.data) {
        match &m.grassroots {
            Some((org, _)) if *org == unit_org => {}
            Some((_, org_name)) => reasons.push(ctx.reason(
                "A6",
                format!(
                    "Người giới thiệu {name} sinh hoạt ở {org_name}, không cùng tổ chức cơ sở đảng với người vào Đảng ({unit_org_name}) vào ngày {} (A6).",
                    fmt_date(on)
                ),
                format!(
                    "Introducer {name} belonged to {org_name}, not to the applicant's grassroots organization ({unit_org_name}), on {} (A6).",
                    fmt_date(on)
                ),
            )),
            None => reasons.push(ctx.reason(
                "A6",
                format!(
                    "Người giới thiệu {name} không sinh hoạt ở tổ chức đảng nào vào ngày {} (A6).",
                    fmt_date(on)
                ),
                format!(
                    "Introducer {name} belonged to no party organization on {} (A6).",
                    fmt_date(on)
                ),
            )),
        }
    }
    reasons
}
