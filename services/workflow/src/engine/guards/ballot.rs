//! The secret ballot on the forms of discipline (D30–D33): cumulation from the most severe form
//! down.

use super::forms::{form_not_allowed, forms_for_subject};
use super::votes::unsigned;
use super::{DataType, GuardContext, GuardOutcome, GuardSpec, opt, req, verdict};
use crate::engine::period::Threshold;
use crate::engine::ruleset::ParamKind;
use crate::vocab::{form_en, form_vi};

/// The guards of this family, for the registry.
pub(super) static GUARDS: &[GuardSpec] = &[BALLOT_CUMULATED_FORM, BALLOT_WITHOUT_MAJORITY];

// D30–D33 -------------------------------------------------------------------------------------

/// One form on a discipline ballot (D30): the votes it received and the threshold it needs
/// (D31), out of the D33 denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BallotLine {
    /// Votes for this form.
    pub votes: u64,
    /// Share of the denominator the form needs.
    pub threshold: Threshold,
}

/// D32: which form a ballot imposes, as an index into `lines`, which run from the most severe
/// form down. A form that reaches its own threshold is imposed (the most severe one if several
/// do); otherwise the votes are cumulated from the most severe form down and the first form
/// whose cumulated votes reach its threshold is imposed. `None`: no form, no discipline.
///
/// With thresholds of at least a strict half (those of D31) the first step never changes the
/// answer of the second, but the rule says "if no form gets the required majority", so both
/// steps are kept: a rule set with other thresholds still gets the rule as written.
pub fn cumulate_from_most_severe(lines: &[BallotLine], counted: u64) -> Option<usize> {
    if let Some(i) = lines.iter().position(|l| l.threshold.met(l.votes, counted)) {
        return Some(i);
    }
    let mut cumulated: u64 = 0;
    for (i, line) in lines.iter().enumerate() {
        cumulated = cumulated.saturating_add(line.votes);
        if line.threshold.met(cumulated, counted) {
            return Some(i);
        }
    }
    None
}

const BALLOT_PARAMS: &[(&str, ParamKind)] = &[
    ("D30.secret_ballot_required", ParamKind::Flag),
    ("D31.majority", ParamKind::Threshold),
    ("D31.expulsion_branch_threshold", ParamKind::Threshold),
    ("D31.expulsion_competent_threshold", ParamKind::Threshold),
    ("D31.dissolution_threshold", ParamKind::Threshold),
    ("D32.severity_order", ParamKind::TextList),
    ("D1.organisation_forms", ParamKind::TextList),
    ("D2.official_member_forms", ParamKind::TextList),
    ("D2.post_forms", ParamKind::TextList),
    ("D3.probationary_member_forms", ParamKind::TextList),
];

/// A ballot read from the case: the forms that exist for the subject, most severe first, with
/// their votes and thresholds.
struct Ballot {
    forms: Vec<String>,
    lines: Vec<BallotLine>,
    counted: u64,
    members: i64,
    excluded: i64,
}

impl Ballot {
    fn result(&self) -> Option<usize> {
        cumulate_from_most_severe(&self.lines, self.counted)
    }

    /// "khai trừ 3, cách chức 2 (cộng dồn 5)" up to line `upto`.
    fn describe(&self, upto: usize) -> (String, String) {
        let mut cumulated = 0u64;
        let mut vi = Vec::new();
        let mut en = Vec::new();
        for (i, (form, line)) in self.forms.iter().zip(&self.lines).enumerate() {
            if i > upto {
                break;
            }
            cumulated = cumulated.saturating_add(line.votes);
            if i == 0 {
                vi.push(format!("{} {} phiếu", form_vi(form), line.votes));
                en.push(format!("{} {}", form_en(form), line.votes));
            } else {
                vi.push(format!(
                    "{} {} phiếu (cộng dồn {cumulated})",
                    form_vi(form),
                    line.votes
                ));
                en.push(format!(
                    "{} {} (cumulated {cumulated})",
                    form_en(form),
                    line.votes
                ));
            }
        }
        (vi.join(", "), en.join(", "))
    }

    fn denominator_vi(&self) -> String {
        if self.excluded > 0 {
            format!(
                "{} (trên tổng số {} đảng viên chính thức, trừ {} người sinh hoạt tạm thời nơi khác hoặc được miễn sinh hoạt và vắng mặt theo sổ đảng viên)",
                self.counted, self.members, self.excluded
            )
        } else {
            self.counted.to_string()
        }
    }

    fn denominator_en(&self) -> String {
        if self.excluded > 0 {
            format!(
                "{} ({} official members less {} living their party life elsewhere or exempted and absent)",
                self.counted, self.members, self.excluded
            )
        } else {
            self.counted.to_string()
        }
    }
}

fn read_ballot(ctx: &GuardContext<'_>) -> Result<Ballot, GuardOutcome> {
    let required = ctx.param_flag("D30.secret_ballot_required")?;
    if required && ctx.flag("secret_ballot") != Some(true) {
        return Err(verdict(vec![ctx.reason(
            "D30",
            "Biểu quyết quyết định hoặc đề nghị kỷ luật phải bằng phiếu kín, mỗi người một phiếu ghi các hình thức kỷ luật (D30): kết quả biểu quyết công khai không có giá trị.".to_owned(),
            "A vote to decide or propose discipline must be by secret ballot, one ballot per voter listing the forms (D30): an open vote is not valid.".to_owned(),
        )]));
    }
    let majority = ctx.threshold("D31.majority")?;
    let expulsion = if ctx.text("voting_body") == Some("branch") {
        ctx.threshold("D31.expulsion_branch_threshold")?
    } else {
        ctx.threshold("D31.expulsion_competent_threshold")?
    };
    let dissolution = ctx.threshold("D31.dissolution_threshold")?;
    let order = ctx.text_list("D32.severity_order")?;
    let (allowed, rule) = forms_for_subject(ctx)?;

    let members = ctx.need_int("official_members")?;
    // Living elsewhere and, the exempted who are absent, from the registry on the vote's date
    // for a branch's vote (a committee's: the typed count of those left out): D33, S15.
    let excluded =
        super::votes::exclusions(ctx, "D33", ctx.text("voting_body") == Some("branch"))?.total();
    let counted = members - excluded;
    let mut reasons = Vec::new();
    let mut forms = Vec::new();
    let mut lines = Vec::new();
    let mut total: i64 = ctx.int("votes_no_discipline").unwrap_or(0);
    for form in order {
        let votes = ctx.int(&format!("votes_{form}")).unwrap_or(0);
        total = total.saturating_add(votes);
        if !allowed.contains(form) {
            if votes > 0 {
                reasons.push(form_not_allowed(ctx, form, &allowed, rule));
            }
            continue;
        }
        let threshold = match form.as_str() {
            "expulsion" => expulsion,
            "dissolution" => dissolution,
            _ => majority,
        };
        forms.push(form.clone());
        lines.push(BallotLine {
            votes: unsigned(votes),
            threshold,
        });
    }
    if counted <= 0 || excluded < 0 || total < 0 {
        reasons.push(ctx.reason(
            "D33",
            format!(
                "Số liệu biểu quyết không hợp lệ (D33): {members} thành viên, loại trừ {excluded}, {total} phiếu."
            ),
            format!("Invalid vote figures (D33): {members} members, {excluded} excluded, {total} ballots."),
        ));
    } else if total > counted {
        reasons.push(ctx.reason(
            "D33",
            format!("Tổng số phiếu ({total}) nhiều hơn số thành viên được tính ({counted}) (D33)."),
            format!("More ballots ({total}) than members counted ({counted}) (D33)."),
        ));
    }
    if !reasons.is_empty() {
        return Err(verdict(reasons));
    }
    Ok(Ballot {
        forms,
        lines,
        counted: unsigned(counted),
        members,
        excluded,
    })
}

/// The guard `ballot_cumulated_form`.
pub(super) const BALLOT_CUMULATED_FORM: GuardSpec = GuardSpec {
    name: "ballot_cumulated_form",
    rules: &["D30", "D31", "D32", "D33"],
    doc: "The secret ballot (D30) imposes the recorded form: a form with its own threshold of votes (D31) out of the D33 denominator, else the first form, from the most severe down, whose cumulated votes reach its threshold (D32).",
    params: BALLOT_PARAMS,
    reads: &[
        req("secret_ballot", DataType::Boolean),
        req("subject_kind", DataType::Text),
        req("voting_body", DataType::Text),
        req("discipline_form", DataType::Text),
        req("official_members", DataType::Integer),
        super::votes::EXCLUSION_READS[0],
        super::votes::EXCLUSION_READS[1],
        super::votes::EXCLUSION_READS[2],
        super::votes::EXCLUSION_READS[3],
        opt("membership", DataType::Text),
        opt("holds_post", DataType::Boolean),
        opt("votes_expulsion", DataType::Integer),
        opt("votes_dissolution", DataType::Integer),
        opt("votes_removal", DataType::Integer),
        opt("votes_warning", DataType::Integer),
        opt("votes_reprimand", DataType::Integer),
        opt("votes_no_discipline", DataType::Integer),
    ],
    check: ballot_cumulated_form,
};

fn ballot_cumulated_form(ctx: &GuardContext<'_>) -> GuardOutcome {
    let ballot = get!(read_ballot(ctx));
    let recorded = ctx.text("discipline_form").unwrap_or_default();
    match ballot.result() {
        Some(i) if ballot.forms.get(i).is_some_and(|f| f == recorded) => GuardOutcome::Pass,
        Some(i) => {
            let form = ballot.forms.get(i).map_or("", String::as_str);
            let (vi, en) = ballot.describe(i);
            let needed = ballot
                .lines
                .get(i)
                .map_or(0, |l| l.threshold.required(ballot.counted));
            verdict(vec![ctx.reason(
                "D32",
                format!(
                    "Kết quả phiếu kín là {}, không phải {} (D31, D32): {vi}, trên {} phiếu tính, cần ít nhất {needed}. Khi không hình thức nào đủ số phiếu thì cộng dồn từ hình thức cao nhất xuống; hình thức đầu tiên đạt số phiếu cần thiết được áp dụng.",
                    form_vi(form),
                    form_vi(recorded),
                    ballot.denominator_vi()
                ),
                format!(
                    "The secret ballot gives {}, not {} (D31, D32): {en}, out of {}, at least {needed} needed. When no form has enough votes, votes are cumulated from the most severe form down; the first form that reaches its threshold is imposed.",
                    form_en(form),
                    form_en(recorded),
                    ballot.denominator_en()
                ),
            )])
        }
        None => {
            let (vi, en) = ballot.describe(ballot.lines.len());
            verdict(vec![ctx.reason(
                "D31",
                format!(
                    "Không hình thức kỷ luật nào đạt số phiếu cần thiết, kể cả khi cộng dồn từ hình thức cao nhất xuống (D31, D32): {vi}, trên {} phiếu tính. Không thi hành kỷ luật; ghi kết quả bằng bước «biểu quyết không kỷ luật».",
                    ballot.denominator_vi()
                ),
                format!(
                    "No form reaches its threshold, even with votes cumulated from the most severe form down (D31, D32): {en}, out of {}. No discipline: record the vote with `vote_no_discipline`.",
                    ballot.denominator_en()
                ),
            )])
        }
    }
}

/// The guard `ballot_without_majority`.
pub(super) const BALLOT_WITHOUT_MAJORITY: GuardSpec = GuardSpec {
    name: "ballot_without_majority",
    rules: &["D30", "D31", "D32", "D33"],
    doc: "The secret ballot imposes no form: no form reaches its threshold, alone or with the votes of the more severe forms cumulated (D32); the case ends without discipline.",
    params: BALLOT_PARAMS,
    reads: &[
        req("secret_ballot", DataType::Boolean),
        req("subject_kind", DataType::Text),
        req("voting_body", DataType::Text),
        req("official_members", DataType::Integer),
        super::votes::EXCLUSION_READS[0],
        super::votes::EXCLUSION_READS[1],
        super::votes::EXCLUSION_READS[2],
        super::votes::EXCLUSION_READS[3],
        opt("membership", DataType::Text),
        opt("holds_post", DataType::Boolean),
        opt("votes_expulsion", DataType::Integer),
        opt("votes_dissolution", DataType::Integer),
        opt("votes_removal", DataType::Integer),
        opt("votes_warning", DataType::Integer),
        opt("votes_reprimand", DataType::Integer),
        opt("votes_no_discipline", DataType::Integer),
    ],
    check: ballot_without_majority,
};

fn ballot_without_majority(ctx: &GuardContext<'_>) -> GuardOutcome {
    let ballot = get!(read_ballot(ctx));
    let Some(i) = ballot.result() else {
        return GuardOutcome::Pass;
    };
    let form = ballot.forms.get(i).map_or("", String::as_str);
    let (vi, en) = ballot.describe(i);
    verdict(vec![ctx.reason(
        "D32",
        format!(
            "Phiếu kín có kết quả: hình thức {} (D31, D32: {vi}, trên {} phiếu tính); không thể ghi là không kỷ luật.",
            form_vi(form),
            ballot.denominator_vi()
        ),
        format!(
            "The secret ballot imposes {} (D31, D32: {en}, out of {}); it cannot be recorded as no discipline.",
            form_en(form),
            ballot.denominator_en()
        ),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(votes: u64, threshold: &str) -> BallotLine {
        BallotLine {
            votes,
            threshold: Threshold::parse(threshold).unwrap_or(Threshold {
                num: 1,
                den: 2,
                strict: true,
            }),
        }
    }

    // D32: expulsion 3, removal 2, warning 2, reprimand 3 of 10: no form has more than half;
    // cumulated from the top, expulsion + removal + warning = 7 > 5, so warning.
    #[test]
    fn d32_votes_cumulate_from_the_most_severe_form() {
        let lines = [
            line(3, ">= 2/3"),
            line(2, "> 1/2"),
            line(2, "> 1/2"),
            line(3, "> 1/2"),
        ];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(2));
    }

    #[test]
    fn d32_a_form_with_its_own_majority_is_imposed_without_cumulating() {
        let lines = [line(1, ">= 2/3"), line(0, "> 1/2"), line(6, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(2));
    }

    #[test]
    fn d31_d32_expulsion_needs_two_thirds_but_its_votes_count_towards_lower_forms() {
        // 6 of 10 for expulsion is not 2/3, but counts for the next form down.
        let lines = [line(6, ">= 2/3"), line(0, "> 1/2"), line(4, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(1));
        let lines = [line(7, ">= 2/3"), line(0, "> 1/2"), line(3, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), Some(0));
    }

    #[test]
    fn d32_no_form_and_no_cumulation_reaching_the_majority_means_no_discipline() {
        // Half exactly is not more than half (D31 "trên một nửa").
        let lines = [line(2, "> 1/2"), line(3, "> 1/2")];
        assert_eq!(cumulate_from_most_severe(&lines, 10), None);
        assert_eq!(cumulate_from_most_severe(&[], 10), None);
    }
}
