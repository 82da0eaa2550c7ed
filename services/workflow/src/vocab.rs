//! The domain's words, typed, each with one Vietnamese and one English label: the levels of the
//! tree, the bodies that act at them, the forms of discipline, the subjects a case is about.
//! Pages, mails, reports and refusal reasons name them through this module only.

pub(crate) fn form_vi(code: &str) -> String {
    match code {
        "reprimand" => "khiển trách".into(),
        "warning" => "cảnh cáo".into(),
        "removal" => "cách chức".into(),
        "expulsion" => "khai trừ".into(),
        "dissolution" => "giải tán".into(),
        other => format!("«{other}»"),
    }
}

// =============================================================================================
// The discipline procedures (the rule catalogue, D rules): the member, organisation and removal machines.
//
// Bodies are named `kind@level`: the kind (`branch`, `branch_committee`, `partial_committee`,
// `committee`, `standing_committee`, `inspection_commission`, `secretariat`, `politburo`) at a
// level of the tree (`branch`, `grassroots`, `superior`, `province`, `central`). Who may decide
// what is the rule set's jurisdiction table (D13–D20), never code.

/// The levels of the tree, lowest first: bodies and appeals are ranked along them.
pub(crate) const LEVELS: [&str; 5] = ["branch", "grassroots", "superior", "province", "central"];

pub(crate) fn level_rank(level: &str) -> Option<usize> {
    LEVELS.iter().position(|l| *l == level)
}

pub(crate) fn committee_vi(level: &str) -> String {
    match level {
        "branch" => "chi bộ".into(),
        "grassroots" => "đảng ủy cơ sở".into(),
        "superior" => "cấp ủy cấp trên trực tiếp của tổ chức cơ sở đảng".into(),
        "province" => "cấp ủy cấp tỉnh".into(),
        "central" => "Ban Chấp hành Trung ương".into(),
        other => format!("cấp ủy «{other}»"),
    }
}

/// The name of a body (`kind` at `level`) in both languages, for pages and mails.
pub fn body_label(kind: &str, level: &str) -> crate::text::Text {
    crate::text::Text::new(body_vi(kind, level), body_en(kind, level))
}

pub(crate) fn body_vi(kind: &str, level: &str) -> String {
    match (kind, level) {
        ("branch", _) => "chi bộ".into(),
        ("branch_committee", _) => "chi ủy".into(),
        ("partial_committee", _) => "đảng ủy bộ phận".into(),
        ("committee", l) => committee_vi(l),
        ("standing_committee", l) => format!("ban thường vụ {}", committee_vi(l)),
        ("inspection_commission", "central") => "Ủy ban Kiểm tra Trung ương".into(),
        ("inspection_commission", l) => format!("ủy ban kiểm tra {}", committee_vi(l)),
        ("secretariat", _) => "Ban Bí thư".into(),
        ("politburo", _) => "Bộ Chính trị".into(),
        ("advisory_department", l) => {
            format!("cơ quan tham mưu, giúp việc của {}", committee_vi(l))
        }
        (k, l) => format!("«{k}@{l}»"),
    }
}

pub(crate) fn body_en(kind: &str, level: &str) -> String {
    let k = match kind {
        "branch_committee" => "branch committee",
        "partial_committee" => "partial committee",
        "committee" => "party committee",
        "standing_committee" => "standing committee",
        "inspection_commission" => "inspection commission",
        "secretariat" => "Secretariat",
        "politburo" => "Politburo",
        "advisory_department" => "advisory department",
        other => other,
    };
    match kind {
        "branch" => "the branch".into(),
        "secretariat" | "politburo" => format!("the {k}"),
        _ => format!("the {k} at {level} level"),
    }
}

/// `kind@level` in both languages.
pub(crate) fn named_body(spec: &str) -> (String, String) {
    match spec.split_once('@') {
        Some((kind, level)) => (body_vi(kind, level), body_en(kind, level)),
        None => (format!("«{spec}»"), format!("`{spec}`")),
    }
}

pub(crate) fn form_en(code: &str) -> String {
    match code {
        "removal" => "removal from post".into(),
        "reprimand" | "warning" | "expulsion" | "dissolution" => code.into(),
        other => format!("`{other}`"),
    }
}

pub(crate) fn subject_vi(subject: &str, membership: Option<&str>) -> &'static str {
    match (subject, membership) {
        ("organisation", _) => "tổ chức đảng",
        (_, Some("probationary")) => "đảng viên dự bị",
        (_, Some("official")) => "đảng viên chính thức",
        _ => "đảng viên",
    }
}

pub(crate) fn subject_en(subject: &str, membership: Option<&str>) -> &'static str {
    match (subject, membership) {
        ("organisation", _) => "a party organisation",
        (_, Some("probationary")) => "a probationary member",
        (_, Some("official")) => "an official member",
        _ => "a member",
    }
}

/// Resolves an entry's level: absolute, or relative to the disciplined organisation's level
/// (`direct_superior`, `second_superior`, D19, D20).
pub(crate) fn entry_level(token: &str, subject_level: Option<&str>) -> Option<&'static str> {
    let up = match token {
        "direct_superior" => 1,
        "second_superior" => 2,
        _ => return level_rank(token).and_then(|i| LEVELS.get(i).copied()),
    };
    let base = level_rank(subject_level?)?;
    LEVELS.get(base + up).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_levels_resolve_relative_to_the_organisation() {
        assert_eq!(
            entry_level("direct_superior", Some("grassroots")),
            Some("superior")
        );
        assert_eq!(
            entry_level("second_superior", Some("grassroots")),
            Some("province")
        );
        assert_eq!(entry_level("direct_superior", Some("central")), None);
        assert_eq!(entry_level("direct_superior", None), None);
        assert_eq!(entry_level("province", None), Some("province"));
    }
}
