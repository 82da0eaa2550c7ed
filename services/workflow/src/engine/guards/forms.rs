//! The forms of discipline a subject may receive (D1–D3).

use super::{DataType, GuardContext, GuardOutcome, GuardSpec, capitalise, opt, req, verdict};
use crate::engine::refusal::Reason;
use crate::engine::ruleset::ParamKind;
use crate::vocab::{form_en, form_vi, subject_en, subject_vi};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[FORM_ALLOWED_FOR_SUBJECT];

// D1–D3 ---------------------------------------------------------------------------------------

/// The forms of discipline that exist for the case's subject (D1–D3), in the rule set's order.
pub(super) fn forms_for_subject(
    ctx: &GuardContext<'_>,
) -> Result<(Vec<String>, &'static str), GuardOutcome> {
    let subject = ctx.text("subject_kind").unwrap_or_default();
    if subject == "organisation" {
        return Ok((ctx.text_list("D1.organisation_forms")?.to_vec(), "D1"));
    }
    let (mut forms, rule) = match ctx.text("membership") {
        Some("probationary") => (
            ctx.text_list("D3.probationary_member_forms")?.to_vec(),
            "D3",
        ),
        _ => (ctx.text_list("D2.official_member_forms")?.to_vec(), "D2"),
    };
    // D2: removal from post only for a member who holds one.
    if ctx.flag("holds_post") != Some(true) {
        let post_forms = ctx.text_list("D2.post_forms")?;
        forms.retain(|f| !post_forms.contains(f));
    }
    Ok((forms, rule))
}

pub(super) fn form_not_allowed(
    ctx: &GuardContext<'_>,
    form: &str,
    forms: &[String],
    rule: &str,
) -> Reason {
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let membership = ctx.text("membership");
    let list_vi: Vec<String> = forms.iter().map(|f| form_vi(f)).collect();
    let list_en: Vec<String> = forms.iter().map(|f| form_en(f)).collect();
    let post_vi = if form == "removal" && subject != "organisation" {
        " Cách chức chỉ áp dụng với đảng viên có chức vụ."
    } else {
        ""
    };
    let post_en = if form == "removal" && subject != "organisation" {
        " Removal applies only to a member who holds a post."
    } else {
        ""
    };
    ctx.reason(
        rule,
        format!(
            "Hình thức {} không áp dụng cho {} ({rule}): chỉ có thể {}.{post_vi}",
            form_vi(form),
            subject_vi(subject, membership),
            list_vi.join(", ")
        ),
        format!(
            "{} cannot be given to {} ({rule}): the forms are {}.{post_en}",
            capitalise(&form_en(form)),
            subject_en(subject, membership),
            list_en.join(", ")
        ),
    )
}

/// The guard `form_allowed_for_subject`.
pub(super) const FORM_ALLOWED_FOR_SUBJECT: GuardSpec = GuardSpec {
    name: "form_allowed_for_subject",
    rules: &["D1", "D2", "D3"],
    doc: "The form of discipline exists for the subject: an organisation (reprimand, warning, dissolution), an official member (reprimand, warning, removal from post if the member holds one, expulsion) or a probationary member (reprimand, warning).",
    params: &[
        ("D1.organisation_forms", ParamKind::TextList),
        ("D2.official_member_forms", ParamKind::TextList),
        ("D2.post_forms", ParamKind::TextList),
        ("D3.probationary_member_forms", ParamKind::TextList),
    ],
    reads: &[
        req("subject_kind", DataType::Text),
        req("discipline_form", DataType::Text),
        opt("membership", DataType::Text),
        opt("holds_post", DataType::Boolean),
    ],
    check: form_allowed_for_subject,
};

fn form_allowed_for_subject(ctx: &GuardContext<'_>) -> GuardOutcome {
    let (forms, rule) = get!(forms_for_subject(ctx));
    let form = ctx.text("discipline_form").unwrap_or_default();
    if forms.iter().any(|f| f == form) {
        return GuardOutcome::Pass;
    }
    verdict(vec![form_not_allowed(ctx, form, &forms, rule)])
}
