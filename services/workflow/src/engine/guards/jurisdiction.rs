//! Jurisdiction (D13–D22): which body may decide or only propose which form for which subject, read
//! from the rule set's table; whether a branch's decision needs a higher approval (D35).

use super::inspection::inspection_commission_exists;
use super::{
    DataType, GuardContext, GuardOutcome, GuardSpec, Read, bad_entry, capitalise, opt, req, verdict,
};
use crate::engine::period::fmt_date;
use crate::engine::refusal::Reason;
use crate::engine::ruleset::ParamKind;
use crate::vocab::{body_en, body_vi, entry_level, form_en, form_vi, subject_en, subject_vi};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[
    JURISDICTION_MAY_CONSIDER,
    JURISDICTION_MAY_DECIDE,
    JURISDICTION_MUST_PROPOSE,
    BRANCH_DECISION_APPROVAL,
    BRANCH_DECISION_ON_ANNOUNCEMENT,
];

// D34 -----------------------------------------------------------------------------------------

/// The guard `branch_decision_on_announcement`.
pub(super) const BRANCH_DECISION_ON_ANNOUNCEMENT: GuardSpec = GuardSpec {
    name: "branch_decision_on_announcement",
    rules: &["D34"],
    doc: "A branch's reprimand or warning of its own member takes effect as soon as the branch announces the vote's result while the rule set says so (`D34.effective_on_announcement`): the decision is dated the day of the announcement, which is the vote's day (`vote_date`, the result announced at the meeting) unless the step records a later one (`announced_on`, never before the vote), and the discipline is in force, lapses (C1) and bars (C2) from it. Where the flag is false the written decision may be dated later and takes effect from its own date.",
    params: &[("D34.effective_on_announcement", ParamKind::Flag)],
    reads: &[
        req("voting_body", DataType::Text),
        req("discipline_form", DataType::Text),
        req("decision_date", DataType::Date),
        opt("announced_on", DataType::Date),
        opt("vote_date", DataType::Date),
    ],
    check: branch_decision_on_announcement,
};

fn branch_decision_on_announcement(ctx: &GuardContext<'_>) -> GuardOutcome {
    let form = ctx.text("discipline_form").unwrap_or_default();
    if ctx.text("voting_body") != Some("branch") || !matches!(form, "reprimand" | "warning") {
        return GuardOutcome::Pass;
    }
    let vote = ctx.date("vote_date");
    // Without a recorded announcement the result was announced at the meeting: the vote's day.
    let recorded = ctx.date("announced_on");
    let Some(announced) = recorded.or(vote) else {
        return GuardOutcome::Pass;
    };
    let mut reasons = Vec::new();
    if let Some(vote) = vote
        && announced < vote
    {
        reasons.push(
            ctx.reason(
                "D34",
                format!(
                    "Ngày công bố kết quả biểu quyết ({}) không thể trước ngày họp biểu quyết ({}) (D34).",
                    fmt_date(announced),
                    fmt_date(vote)
                ),
                format!(
                    "The result cannot be announced ({}) before the vote ({}) (D34).",
                    fmt_date(announced),
                    fmt_date(vote)
                ),
            )
            .with_field("announced_on"),
        );
    }
    let on_announcement = get!(ctx.param_flag("D34.effective_on_announcement"));
    let decided = get!(ctx.need_date("decision_date"));
    if on_announcement && decided != announced {
        let (vi, en) = if recorded.is_some() {
            (
                format!(
                    "ngày quyết định phải là ngày công bố {}, không phải {}",
                    fmt_date(announced),
                    fmt_date(decided)
                ),
                format!(
                    "the decision is dated the day of the announcement, {}, not {}",
                    fmt_date(announced),
                    fmt_date(decided)
                ),
            )
        } else {
            (
                format!(
                    "kết quả được công bố tại cuộc họp biểu quyết nên ngày quyết định là ngày họp {}, không phải {} (nếu chi bộ công bố vào ngày sau, ghi ngày công bố)",
                    fmt_date(announced),
                    fmt_date(decided)
                ),
                format!(
                    "the result was announced at the meeting, so the decision is dated the day of the vote, {}, not {} (if the branch announced it on a later day, record that day)",
                    fmt_date(announced),
                    fmt_date(decided)
                ),
            )
        };
        reasons.push(
            ctx.reason(
                "D34",
                format!(
                    "{} của chi bộ có hiệu lực ngay khi chi bộ công bố kết quả biểu quyết (D34): {vi}.",
                    capitalise(&form_vi(form)),
                ),
                format!(
                    "A branch's {} takes effect as soon as the branch announces the vote's result (D34): {en}.",
                    form_en(form),
                ),
            )
            .with_field("decision_date"),
        );
    }
    if reasons.is_empty() {
        GuardOutcome::Pass
    } else {
        verdict(reasons)
    }
}

// D35 -----------------------------------------------------------------------------------------

/// The guard `branch_decision_approval`.
pub(super) const BRANCH_DECISION_APPROVAL: GuardSpec = GuardSpec {
    name: "branch_decision_approval",
    rules: &["D35"],
    doc: "A branch's decision of discipline needs no approval (\"chuẩn y\") of the grassroots or superior committee while the rule set says so (`D35.no_approval_needed`); where it does not, the approval is recorded (`superior_approval`) with the branch's decision.",
    params: &[("D35.no_approval_needed", ParamKind::Flag)],
    reads: &[
        req("voting_body", DataType::Text),
        opt("superior_approval", DataType::Text),
    ],
    check: branch_decision_approval,
};

fn branch_decision_approval(ctx: &GuardContext<'_>) -> GuardOutcome {
    let no_approval = get!(ctx.param_flag("D35.no_approval_needed"));
    if no_approval
        || ctx.text("voting_body") != Some("branch")
        || ctx
            .text("superior_approval")
            .is_some_and(|a| !a.trim().is_empty())
    {
        return GuardOutcome::Pass;
    }
    verdict(vec![
        ctx.reason(
            "D35",
            "Quyết định kỷ luật của chi bộ phải được cấp ủy cấp trên chuẩn y theo bộ quy tắc đang áp dụng (D35): ghi số, ngày văn bản chuẩn y.".to_owned(),
            "Under the rule set applied, a branch's decision of discipline needs the superior committee's approval (D35): record the approval's number and date.".to_owned(),
        )
        .with_field("superior_approval"),
    ])
}

// D13–D22: jurisdiction -----------------------------------------------------------------------

/// What a body may do with a form of discipline for a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Power {
    None,
    Propose,
    Decide,
}

/// The parameters that make up the jurisdiction table, with the rule each one states. Each
/// entry reads `body:subject:form:power[:condition]`, e.g. `branch@branch:member:warning:decide`
/// or `branch@branch:member:warning:propose:higher_task` (D14).
const JURISDICTION_TABLE: &[(&str, &str)] = &[
    ("D13", "D13.powers"),
    ("D14", "D14.powers"),
    ("D15", "D15.powers"),
    ("D16", "D16.powers"),
    ("D17", "D17.powers"),
    ("D18", "D18.powers"),
    ("D19", "D19.powers"),
    ("D20", "D20.powers"),
];

const JURISDICTION_PARAMS: &[(&str, ParamKind)] = &[
    ("D13.powers", ParamKind::TextList),
    ("D14.powers", ParamKind::TextList),
    ("D15.powers", ParamKind::TextList),
    ("D16.powers", ParamKind::TextList),
    ("D17.powers", ParamKind::TextList),
    ("D18.powers", ParamKind::TextList),
    ("D19.powers", ParamKind::TextList),
    ("D20.powers", ParamKind::TextList),
    ("D22.inspection_commission_levels", ParamKind::TextList),
];

const JURISDICTION_DECIDE_PARAMS: &[(&str, ParamKind)] = &[
    ("D13.powers", ParamKind::TextList),
    ("D14.powers", ParamKind::TextList),
    ("D15.powers", ParamKind::TextList),
    ("D16.powers", ParamKind::TextList),
    ("D17.powers", ParamKind::TextList),
    ("D18.powers", ParamKind::TextList),
    ("D19.powers", ParamKind::TextList),
    ("D20.powers", ParamKind::TextList),
    ("D22.inspection_commission_levels", ParamKind::TextList),
    ("D20.higher_agreement_required", ParamKind::Flag),
];

const JURISDICTION_READS: &[Read] = &[
    req("voting_body", DataType::Text),
    req("voting_level", DataType::Text),
    req("subject_kind", DataType::Text),
    req("discipline_form", DataType::Text),
    opt("higher_assigned_task", DataType::Boolean),
    opt("subject_level", DataType::Text),
    opt("grassroots_is_branch", DataType::Boolean),
];

const JURISDICTION_DECIDE_READS: &[Read] = &[
    req("voting_body", DataType::Text),
    req("voting_level", DataType::Text),
    req("subject_kind", DataType::Text),
    req("discipline_form", DataType::Text),
    opt("higher_assigned_task", DataType::Boolean),
    opt("subject_level", DataType::Text),
    opt("grassroots_is_branch", DataType::Boolean),
    opt("higher_agreement_date", DataType::Date),
];

/// The power the jurisdiction table gives the voting body for this form and subject.
struct Jurisdiction {
    power: Power,
    /// The rule of the entry that decided, or `None` when no entry matched.
    rule: Option<&'static str>,
    kind: String,
    level: String,
    form: String,
    subject: String,
    higher_task: bool,
}

fn jurisdiction(ctx: &GuardContext<'_>) -> Result<Jurisdiction, GuardOutcome> {
    let kind = ctx.text("voting_body").unwrap_or_default();
    let level = ctx.text("voting_level").unwrap_or_default();
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let form = ctx.text("discipline_form").unwrap_or_default();
    let higher_task = ctx.flag("higher_assigned_task") == Some(true);
    inspection_commission_exists(ctx, kind, level)?;
    let best = power_of(ctx, kind, level)?;
    Ok(Jurisdiction {
        power: best.map_or(Power::None, |(p, _)| p),
        rule: best.map(|(_, r)| r),
        kind: kind.to_owned(),
        level: level.to_owned(),
        form: form.to_owned(),
        subject: subject.to_owned(),
        higher_task,
    })
}

/// One entry of the jurisdiction table: `(rule, kind, level token, subject, form, power,
/// condition)`.
type PowerEntry<'a> = (
    &'static str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Power,
    Option<&'a str>,
);

/// Every entry of the jurisdiction table of the rule set, parsed; a malformed one fails.
fn power_entries<'a>(ctx: &'a GuardContext<'_>) -> Result<Vec<PowerEntry<'a>>, GuardOutcome> {
    let mut out = Vec::new();
    for (rule, param) in JURISDICTION_TABLE {
        for entry in ctx.text_list(param)? {
            let parts: Vec<&str> = entry.split(':').collect();
            let expected = "«cơ_quan@cấp:đối_tượng:hình_thức:quyền[:điều_kiện]»";
            let (body, e_subject, e_form, e_power, condition) = match parts.as_slice() {
                [b, s, f, p] => (*b, *s, *f, *p, None),
                [b, s, f, p, c] => (*b, *s, *f, *p, Some(*c)),
                _ => return Err(bad_entry(ctx, param, entry, expected)),
            };
            let Some((e_kind, e_level)) = body.split_once('@') else {
                return Err(bad_entry(ctx, param, entry, expected));
            };
            let power = match e_power {
                "decide" => Power::Decide,
                "propose" => Power::Propose,
                "none" => Power::None,
                _ => return Err(bad_entry(ctx, param, entry, expected)),
            };
            if condition.is_some_and(|c| c != "higher_task") {
                return Err(bad_entry(ctx, param, entry, expected));
            }
            out.push((*rule, e_kind, e_level, e_subject, e_form, power, condition));
        }
    }
    Ok(out)
}

/// The power of the body `kind@level` over the case's subject and form, and the rule of the
/// entry that gives it; `None` when no entry matches (no power). The most specific matching
/// entry wins: a condition beats none, an exact form beats `*`, an exact subject beats `*`;
/// between equally specific entries, the lesser power.
fn power_of(
    ctx: &GuardContext<'_>,
    kind: &str,
    level: &str,
) -> Result<Option<(Power, &'static str)>, GuardOutcome> {
    let subject = ctx.text("subject_kind").unwrap_or_default();
    let form = ctx.text("discipline_form").unwrap_or_default();
    let higher_task = ctx.flag("higher_assigned_task") == Some(true);
    let subject_level = ctx.text("subject_level");
    let mut best: Option<(u8, Power, &'static str)> = None;
    for (rule, e_kind, e_level, e_subject, e_form, power, condition) in power_entries(ctx)? {
        let condition_holds = condition.is_none() || higher_task;
        let matches = e_kind == kind
            && entry_level(e_level, subject_level).is_some_and(|l| l == level)
            && (e_subject == "*" || e_subject == subject)
            && (e_form == "*" || e_form == form)
            && condition_holds;
        if !matches {
            continue;
        }
        let score = u8::from(condition.is_some()) * 4
            + u8::from(e_form != "*") * 2
            + u8::from(e_subject != "*");
        let better = match best {
            None => true,
            Some((s, p, _)) => score > s || (score == s && power < p),
        };
        if better {
            best = Some((score, power, rule));
        }
    }
    Ok(best.map(|(_, p, r)| (p, r)))
}

/// The bodies that may decide the case's form for its subject, as the table gives them (each
/// resolved as `power_of` resolves it, so a more specific entry that takes the power away
/// wins): what a body that may only propose is told.
fn deciders(ctx: &GuardContext<'_>) -> Result<Vec<(String, String)>, GuardOutcome> {
    let subject_level = ctx.text("subject_level");
    let mut bodies: Vec<(String, String)> = Vec::new();
    for (_, kind, level, _, _, power, _) in power_entries(ctx)? {
        if power != Power::Decide {
            continue;
        }
        let Some(level) = entry_level(level, subject_level) else {
            continue;
        };
        let body = (kind.to_owned(), level.to_owned());
        if !bodies.contains(&body) {
            bodies.push(body);
        }
    }
    let mut out = Vec::new();
    for (kind, level) in bodies {
        if matches!(power_of(ctx, &kind, &level)?, Some((Power::Decide, _))) {
            out.push((kind, level));
        }
    }
    Ok(out)
}

impl Jurisdiction {
    fn body_vi(&self) -> String {
        capitalise(&body_vi(&self.kind, &self.level))
    }

    fn body_en(&self) -> String {
        capitalise(&body_en(&self.kind, &self.level))
    }

    /// The rule to cite: the matching entry's, else the general rule for the subject.
    fn rule(&self) -> &'static str {
        self.rule.unwrap_or(if self.subject == "organisation" {
            "D19"
        } else {
            "D13"
        })
    }

    fn no_power(&self, ctx: &GuardContext<'_>) -> Reason {
        let rule = self.rule();
        let why_vi = match rule {
            "D15" => " Chi ủy không có thẩm quyền kỷ luật.",
            "D16" => {
                " Đảng ủy bộ phận và ban thường vụ đảng ủy cơ sở không có thẩm quyền kỷ luật; chỉ thẩm tra đề nghị kỷ luật."
            }
            _ => "",
        };
        let why_en = match rule {
            "D15" => " A branch committee has no power to discipline.",
            "D16" => {
                " A partial committee or the grassroots standing committee has no power to discipline; it reviews proposals."
            }
            _ => "",
        };
        ctx.reason(
            rule,
            format!(
                "{} không có thẩm quyền quyết định hay đề nghị hình thức {} đối với {} theo bộ quy tắc {} ({rule}).{why_vi}",
                self.body_vi(),
                form_vi(&self.form),
                subject_vi(&self.subject, None),
                ctx.rules.id
            ),
            format!(
                "{} has no power to decide or propose {} for {} in rule set {} ({rule}).{why_en}",
                self.body_en(),
                form_en(&self.form),
                subject_en(&self.subject, None),
                ctx.rules.id
            ),
        )
    }

    fn only_propose(&self, ctx: &GuardContext<'_>) -> Reason {
        let rule = self.rule();
        // Who may decide instead, as the rule set's table says (D13–D20).
        let who = deciders(ctx).unwrap_or_default();
        let (who_vi, who_en) = if who.is_empty() {
            (String::new(), String::new())
        } else {
            (
                format!(
                    " Có thẩm quyền quyết định: {}.",
                    who.iter()
                        .map(|(k, l)| body_vi(k, l))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    " It may be decided by: {}.",
                    who.iter()
                        .map(|(k, l)| body_en(k, l))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        };
        let task_vi = if self.higher_task {
            " vì vi phạm liên quan đến nhiệm vụ do cấp trên giao"
        } else {
            ""
        };
        let task_en = if self.higher_task {
            " because the violation concerns a task assigned by a higher level"
        } else {
            ""
        };
        ctx.reason(
            rule,
            format!(
                "{} chỉ có quyền đề nghị, không có quyền quyết định hình thức {} đối với {}{task_vi} ({rule}): chuyển hồ sơ đề nghị lên cấp có thẩm quyền quyết định.{who_vi}",
                self.body_vi(),
                form_vi(&self.form),
                subject_vi(&self.subject, None)
            ),
            format!(
                "{} may only propose, not decide, {} for {}{task_en} ({rule}): send the proposal to the competent body.{who_en}",
                self.body_en(),
                form_en(&self.form),
                subject_en(&self.subject, None)
            ),
        )
    }
}

/// The guard `jurisdiction_may_consider`.
pub(super) const JURISDICTION_MAY_CONSIDER: GuardSpec = GuardSpec {
    name: "jurisdiction_may_consider",
    rules: &[
        "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D22",
    ],
    doc: "The voting body has some power over this form for this subject in the rule set's jurisdiction table (decide or propose); a branch committee, a partial committee or a grassroots standing committee has none, and an inspection commission exists only from the grassroots committee up.",
    params: JURISDICTION_PARAMS,
    reads: JURISDICTION_READS,
    check: jurisdiction_may_consider,
};

fn jurisdiction_may_consider(ctx: &GuardContext<'_>) -> GuardOutcome {
    let j = get!(jurisdiction(ctx));
    if j.power == Power::None {
        return verdict(vec![j.no_power(ctx)]);
    }
    GuardOutcome::Pass
}

/// The guard `jurisdiction_may_decide`.
pub(super) const JURISDICTION_MAY_DECIDE: GuardSpec = GuardSpec {
    name: "jurisdiction_may_decide",
    rules: &[
        "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D22",
    ],
    doc: "The voting body may decide this form for this subject (power `decide` in the jurisdiction table); a body that may only propose sends the case to the competent body. Dissolution also needs the agreement of the committee one level further up (D20).",
    params: JURISDICTION_DECIDE_PARAMS,
    reads: JURISDICTION_DECIDE_READS,
    check: jurisdiction_may_decide,
};

fn jurisdiction_may_decide(ctx: &GuardContext<'_>) -> GuardOutcome {
    let agreement_required = get!(ctx.param_flag("D20.higher_agreement_required"));
    let j = get!(jurisdiction(ctx));
    match j.power {
        Power::None => return verdict(vec![j.no_power(ctx)]),
        Power::Propose => return verdict(vec![j.only_propose(ctx)]),
        Power::Decide => {}
    }
    // D20: dissolution needs the agreement of the committee one level further up.
    if j.form == "dissolution" && agreement_required && ctx.date("higher_agreement_date").is_none()
    {
        return verdict(vec![ctx.reason(
            "D20",
            format!(
                "{} chỉ quyết định giải tán tổ chức đảng sau khi được cấp ủy cấp trên một cấp đồng ý (D20): hãy ghi ngày văn bản đồng ý.",
                j.body_vi()
            ),
            format!(
                "{} may dissolve a party organisation only after the committee one level further up agrees (D20): record the date of its agreement.",
                j.body_en()
            ),
        )]);
    }
    GuardOutcome::Pass
}

/// The guard `jurisdiction_must_propose`.
pub(super) const JURISDICTION_MUST_PROPOSE: GuardSpec = GuardSpec {
    name: "jurisdiction_must_propose",
    rules: &[
        "D13", "D14", "D15", "D16", "D17", "D18", "D19", "D20", "D22",
    ],
    doc: "The voting body may only propose this form for this subject (power `propose`), so the case goes to the competent body; a body that may decide decides itself.",
    params: JURISDICTION_PARAMS,
    reads: JURISDICTION_READS,
    check: jurisdiction_must_propose,
};

fn jurisdiction_must_propose(ctx: &GuardContext<'_>) -> GuardOutcome {
    let j = get!(jurisdiction(ctx));
    match j.power {
        Power::Propose => GuardOutcome::Pass,
        Power::None => verdict(vec![j.no_power(ctx)]),
        Power::Decide => {
            let rule = j.rule();
            verdict(vec![ctx.reason(
                rule,
                format!(
                    "{} có thẩm quyền quyết định hình thức {} đối với {} ({rule}): tự ra quyết định, không chuyển lên cấp trên.",
                    j.body_vi(),
                    form_vi(&j.form),
                    subject_vi(&j.subject, None)
                ),
                format!(
                    "{} has the power to decide {} for {} ({rule}): it decides itself instead of proposing upward.",
                    j.body_en(),
                    form_en(&j.form),
                    subject_en(&j.subject, None)
                ),
            )])
        }
    }
}
