//! Opening a discipline case (D21–D25, D39–D42): the detection source, the inspecting body, the
//! violation catalogue.

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, capitalise, opt, req, verdict};
use crate::engine::period::fmt_date;
use crate::engine::ruleset::ParamKind;
use crate::engine::value::Value;
use crate::vocab::{body_en, body_vi};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    DETECTION_SOURCE_VALID,
    STATE_NOTICE_RECORDED,
    INSPECTING_BODY_ALLOWED,
    VIOLATION_IN_CATALOGUE,
];

// D23–D25 -------------------------------------------------------------------------------------

fn source_vi(code: &str) -> String {
    match code {
        "supervision" => "giám sát thường xuyên hoặc chuyên đề".into(),
        "inspection" => "kiểm tra khi có dấu hiệu vi phạm".into(),
        "complaint" => "khiếu nại".into(),
        "denunciation" => "tố cáo".into(),
        "state_notice" => "thông báo của cơ quan nhà nước, Mặt trận, đoàn thể".into(),
        other => format!("«{other}»"),
    }
}

/// The guard `detection_source_valid`.
pub(super) const DETECTION_SOURCE_VALID: GuardSpec = GuardSpec {
    name: "detection_source_valid",
    rules: &["D23", "D25"],
    doc: "The case is opened on a source the rule set lists (supervision, inspection, complaint, denunciation, state notice); a denunciation is handled only if it has every element the rule set requires (signed, specific, backed by evidence), otherwise it may only prompt an inspection.",
    params: &[
        ("D23.sources", ParamKind::TextList),
        ("D25.required_elements", ParamKind::TextList),
    ],
    reads: &[
        req("detection_source", DataType::Text),
        opt("denunciation_signed", DataType::Boolean),
        opt("denunciation_specific", DataType::Boolean),
        opt("denunciation_evidence", DataType::Boolean),
    ],
    check: detection_source_valid,
};

fn detection_source_valid(ctx: &GuardContext<'_>) -> GuardOutcome {
    let sources = get!(ctx.text_list("D23.sources"));
    let required = get!(ctx.text_list("D25.required_elements"));
    let source = ctx.text("detection_source").unwrap_or_default();
    if !sources.iter().any(|s| s == source) {
        return verdict(vec![ctx.reason(
            "D23",
            format!(
                "Nguồn phát hiện vi phạm «{source}» không thuộc các nguồn của bộ quy tắc {} (D23): giám sát, kiểm tra khi có dấu hiệu vi phạm, khiếu nại, tố cáo, thông báo của cơ quan nhà nước.",
                ctx.rules.id
            ),
            format!(
                "Detection source `{source}` is not one rule set {} lists (D23).",
                ctx.rules.id
            ),
        )]);
    }
    if source != "denunciation" {
        return GuardOutcome::Pass;
    }
    // D25: a denunciation is handled only if it has every element; otherwise it may only
    // prompt an inspection (open the case with the source `inspection`).
    let missing: Vec<&String> = required
        .iter()
        .filter(|e| ctx.flag(&format!("denunciation_{e}")) != Some(true))
        .collect();
    if missing.is_empty() {
        return GuardOutcome::Pass;
    }
    let vi: Vec<&str> = missing
        .iter()
        .map(|e| match e.as_str() {
            "signed" => "có ký tên (không giấu tên, mạo danh)",
            "specific" => "có nội dung cụ thể",
            "evidence" => "có căn cứ, chứng cứ",
            other => other,
        })
        .collect();
    let en: Vec<&str> = missing.iter().map(|e| e.as_str()).collect();
    verdict(vec![ctx.reason(
        "D25",
        format!(
            "Đơn tố cáo chỉ được giải quyết khi {} (D25). Đơn giấu tên, mạo danh nhưng có nội dung cụ thể chỉ dùng làm căn cứ để quyết định kiểm tra: hãy mở hồ sơ với nguồn «{}».",
            vi.join(", "),
            source_vi("inspection")
        ),
        format!(
            "A denunciation is handled only when it is {} (D25). An anonymous or falsely named one with concrete content may only prompt an inspection: open the case with the source `inspection`.",
            en.join(", ")
        ),
    )])
}

/// The guard `state_notice_recorded`.
pub(super) const STATE_NOTICE_RECORDED: GuardSpec = GuardSpec {
    name: "state_notice_recorded",
    rules: &["D24"],
    doc: "A case opened on a state body's notice has the date of the state body's action and the date the notice was received, in that order (the notice is due within the D24 period; lateness is recorded, not refused: the duty is the state body's).",
    params: &[],
    reads: &[
        req("detection_source", DataType::Text),
        opt("state_action_date", DataType::Date),
        opt("notice_received_date", DataType::Date),
    ],
    check: state_notice_recorded,
};

fn state_notice_recorded(ctx: &GuardContext<'_>) -> GuardOutcome {
    if ctx.text("detection_source") != Some("state_notice") {
        return GuardOutcome::Pass;
    }
    match (ctx.date("state_action_date"), ctx.date("notice_received_date")) {
        (Some(action), Some(received)) if received >= action => GuardOutcome::Pass,
        (Some(action), Some(received)) => verdict(vec![ctx.reason(
            "D24",
            format!(
                "Ngày nhận thông báo ({}) không thể trước ngày cơ quan nhà nước đình chỉ công tác hoặc kỷ luật cán bộ ({}) (D24).",
                fmt_date(received),
                fmt_date(action)
            ),
            format!(
                "The notice cannot be received ({}) before the state body's action ({}) (D24).",
                fmt_date(received),
                fmt_date(action)
            ),
        )]),
        _ => verdict(vec![ctx.reason(
            "D24",
            "Hồ sơ phát hiện qua thông báo của cơ quan nhà nước phải ghi ngày cơ quan đó đình chỉ công tác hoặc kỷ luật cán bộ và ngày tổ chức đảng nhận thông báo (D24: chậm nhất 5 ngày): hãy ghi nhận thông báo trước khi kiểm tra.".to_owned(),
            "A case opened on a state body's notice must record the date of the state body's action and the date the notice was received (D24: within 5 days at most): record the notice before inspecting.".to_owned(),
        )]),
    }
}

// D21, D22 ------------------------------------------------------------------------------------

/// D22: an inspection commission exists only at the listed levels, and not in a grassroots
/// organisation that is itself a branch (chi bộ cơ sở has no committee to elect one).
pub(super) fn inspection_commission_exists(
    ctx: &GuardContext<'_>,
    kind: &str,
    level: &str,
) -> Result<(), GuardOutcome> {
    if kind != "inspection_commission" {
        return Ok(());
    }
    let levels = ctx.text_list("D22.inspection_commission_levels")?;
    let at_branch_grassroots =
        level == "grassroots" && ctx.flag("grassroots_is_branch") == Some(true);
    if levels.iter().any(|l| l == level) && !at_branch_grassroots {
        return Ok(());
    }
    Err(verdict(vec![ctx.reason(
        "D22",
        format!(
            "Không có {} (D22): ủy ban kiểm tra chỉ có từ đảng ủy cơ sở trở lên, do cấp ủy cùng cấp bầu; chi bộ, kể cả chi bộ cơ sở, không có ủy ban kiểm tra.",
            body_vi(kind, level)
        ),
        format!(
            "There is no {} (D22): inspection commissions exist only from the grassroots committee up, elected by the committee at the same level; a branch, even a grassroots branch, has none.",
            body_en(kind, level)
        ),
    )]))
}

/// The guard `inspecting_body_allowed`.
pub(super) const INSPECTING_BODY_ALLOWED: GuardSpec = GuardSpec {
    name: "inspecting_body_allowed",
    rules: &["D21", "D22"],
    doc: "The body that inspects on signs of violation is one the rule set allows (committees, their standing committees, inspection commissions, the branch; not advisory departments), and an inspection commission exists at its level (from the grassroots committee up).",
    params: &[
        ("D21.inspecting_bodies", ParamKind::TextList),
        ("D22.inspection_commission_levels", ParamKind::TextList),
    ],
    reads: &[
        req("inspecting_body", DataType::Text),
        req("inspecting_level", DataType::Text),
        opt("grassroots_is_branch", DataType::Boolean),
    ],
    check: inspecting_body_allowed,
};

fn inspecting_body_allowed(ctx: &GuardContext<'_>) -> GuardOutcome {
    let allowed = get!(ctx.text_list("D21.inspecting_bodies"));
    let kind = ctx.text("inspecting_body").unwrap_or_default();
    let level = ctx.text("inspecting_level").unwrap_or_default();
    if !allowed.iter().any(|k| k == kind) {
        return verdict(vec![ctx.reason(
            "D21",
            format!(
                "{} không được kiểm tra khi có dấu hiệu vi phạm (D21): chỉ cấp ủy, ban thường vụ cấp ủy, ủy ban kiểm tra và chi bộ mới được kiểm tra; các cơ quan tham mưu, giúp việc của cấp ủy thì không.",
                capitalise(&body_vi(kind, level))
            ),
            format!(
                "{} may not inspect on signs of violation (D21): only committees, their standing committees, inspection commissions and the branch may; a committee's advisory departments may not.",
                capitalise(&body_en(kind, level))
            ),
        )]);
    }
    get!(inspection_commission_exists(ctx, kind, level));
    GuardOutcome::Pass
}

/// The guard `violation_in_catalogue`.
pub(super) const VIOLATION_IN_CATALOGUE: GuardSpec = GuardSpec {
    name: "violation_in_catalogue",
    rules: &["D42", "D41", "D39"],
    doc: "The violation code the inspection names is in the catalogue of the rule set (`D42.violations`), and every aggravating or mitigating circumstance recorded is one the rule set lists (`D41.aggravating`, `D41.mitigating`). Naming none is allowed: the catalogue is not complete.",
    params: &[
        ("D42.violations", ParamKind::TextList),
        ("D41.aggravating", ParamKind::TextList),
        ("D41.mitigating", ParamKind::TextList),
    ],
    reads: &[
        opt("violation_code", DataType::Text),
        opt("aggravating_factors", DataType::List),
        opt("mitigating_factors", DataType::List),
    ],
    check: violation_in_catalogue,
};

fn violation_in_catalogue(ctx: &GuardContext<'_>) -> GuardOutcome {
    let catalogue = match crate::violations::catalogue(ctx.rules) {
        Ok(c) => c,
        Err(crate::violations::CatalogueError::Param(e)) => return ctx.param_failure(&e),
        Err(e) => {
            return GuardOutcome::Fail(vec![ctx.reason(
                "D42",
                format!(
                    "Lỗi cấu hình: danh mục vi phạm của bộ quy tắc {} không hợp lệ ({e}) (D42).",
                    ctx.rules.id
                ),
                format!(
                    "Configuration error: the violation catalogue of rule set {} is invalid ({e}).",
                    ctx.rules.id
                ),
            )]);
        }
    };
    let (aggravating, mitigating) =
        get!(crate::violations::circumstances(ctx.rules).map_err(|e| ctx.param_failure(&e)));
    let mut reasons = Vec::new();
    if let Some(code) = ctx.text("violation_code")
        && !catalogue.iter().any(|v| v.code == code)
    {
        let known: Vec<&str> = catalogue.iter().map(|v| v.code.as_str()).collect();
        reasons.push(ctx.reason(
            "D42",
            format!(
                "Mã vi phạm «{code}» không có trong danh mục vi phạm của bộ quy tắc {} (có: {}) (D42).",
                ctx.rules.id,
                known.join(", ")
            ),
            format!(
                "Violation code `{code}` is not in the catalogue of rule set {} (known: {}) (D42).",
                ctx.rules.id,
                known.join(", ")
            ),
        ));
    }
    for (key, list, vi, en) in [
        (
            "aggravating_factors",
            &aggravating,
            "tăng nặng",
            "aggravating",
        ),
        ("mitigating_factors", &mitigating, "giảm nhẹ", "mitigating"),
    ] {
        for item in ctx.get(key).and_then(Value::as_list).unwrap_or_default() {
            let code = item.as_text().unwrap_or_default();
            if !list.iter().any(|c| c == code) {
                reasons.push(ctx.reason(
                    "D41",
                    format!(
                        "Tình tiết {vi} «{code}» không có trong danh sách của bộ quy tắc {} (có: {}) (D41).",
                        ctx.rules.id,
                        list.join(", ")
                    ),
                    format!(
                        "`{code}` is not an {en} circumstance of rule set {} (known: {}) (D41).",
                        ctx.rules.id,
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    verdict(reasons)
}
