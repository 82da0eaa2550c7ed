//! The register of hamlets and residential groups (ấp, khu vực, tổ dân phố): the checks of a
//! new hamlet, of a hamlet branch linked to its hamlet, of a member's residence, and of a
//! merge. Hamlets are places, not party units: each belongs to a commune-level unit of the
//! tree and exists over `[from, to)`; links and residences are dated facts, closed and opened,
//! never rewritten (docs/reports.md).

use chrono::NaiveDate;

use crate::text::Text;
use crate::tree::{TreeRefusal, UnitFacts, UnitKind};
pub use crate::vocab::HamletKind;

/// The branch category of a hamlet branch (chi bộ ấp, khu vực).
pub const HAMLET_BRANCH_CATEGORY: &str = "HAMLET";

/// A hamlet as the checks need to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HamletFacts {
    /// Its code, for messages.
    pub code: String,
    /// First day.
    pub valid_from: NaiveDate,
    /// First day it no longer exists, if it has ended.
    pub valid_to: Option<NaiveDate>,
}

impl HamletFacts {
    /// Whether the hamlet exists on `d`.
    pub fn exists_on(&self, d: NaiveDate) -> bool {
        self.valid_from <= d && self.valid_to.is_none_or(|t| d < t)
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Whether a unit of `kind` is commune-level: the party organization of a commune, ward or
/// town (a grassroots committee or branch, or since 2025 a commune committee).
pub fn is_commune_level(kind: UnitKind) -> bool {
    matches!(
        kind,
        UnitKind::Commune | UnitKind::GrassrootsCommittee | UnitKind::GrassrootsBranch
    )
}

/// Checks a new hamlet: a code of 1 to 64 characters without spaces, a name of 1 to 255, and
/// a commune-level unit existing on its first day.
pub fn check_new_hamlet(
    code: &str,
    name: &str,
    unit: &UnitFacts,
    from: NaiveDate,
) -> Result<(), TreeRefusal> {
    let mut vi = Vec::new();
    let mut en = Vec::new();
    if code.is_empty() || code.len() > 64 || code.chars().any(char::is_whitespace) {
        vi.push("Mã ấp, khu vực phải có từ 1 đến 64 ký tự, không có khoảng trắng.".to_owned());
        en.push("A hamlet code must have 1 to 64 characters and no spaces.".to_owned());
    }
    if name.is_empty() || name.chars().count() > 255 {
        vi.push("Tên ấp, khu vực phải có từ 1 đến 255 ký tự.".to_owned());
        en.push("A hamlet name must have 1 to 255 characters.".to_owned());
    }
    if !is_commune_level(unit.kind) {
        vi.push(format!(
            "Ấp, khu vực thuộc đảng bộ, chi bộ cơ sở xã, phường, thị trấn; {} là {}.",
            unit.code,
            unit.kind.label().vi
        ));
        en.push(format!(
            "A hamlet belongs to a commune-level unit (grassroots committee or branch); {} is a {}.",
            unit.code,
            unit.kind.label().en
        ));
    } else if !unit.exists_on(from) {
        vi.push(format!(
            "Đơn vị {} không tồn tại vào ngày {}.",
            unit.code,
            day(from)
        ));
        en.push(format!("Unit {} does not exist on {from}.", unit.code));
    }
    if vi.is_empty() {
        Ok(())
    } else {
        Err(TreeRefusal::validation(Text::new(
            vi.join(" "),
            en.join(" "),
        )))
    }
}

/// Whether a unit of `kind` and branch `category` is a hamlet branch (chi bộ ấp, khu vực).
/// When a hamlet branch is merged into another unit, its hamlets' links move to the merged
/// unit only if that unit is a hamlet branch itself (the hamlet's party members now live their
/// party life there); a commune-sector branch is no hamlet's branch, and the hamlet is then
/// without a branch until one is linked.
pub fn is_hamlet_branch(kind: UnitKind, category: Option<&str>) -> bool {
    kind == UnitKind::Branch && category == Some(HAMLET_BRANCH_CATEGORY)
}

/// Checks that `hamlet` exists on `d`.
pub fn check_hamlet_exists(hamlet: &HamletFacts, d: NaiveDate) -> Result<(), TreeRefusal> {
    if hamlet.exists_on(d) {
        Ok(())
    } else {
        Err(TreeRefusal::validation(Text::new(
            format!(
                "Ấp, khu vực {} không tồn tại vào ngày {}.",
                hamlet.code,
                day(d)
            ),
            format!("Hamlet {} does not exist on {d}.", hamlet.code),
        )))
    }
}

/// Checks a hamlet branch linked to `hamlet` from `from`: both exist that day, the unit is a
/// branch of category `HAMLET`, and it stands under the hamlet's commune-level unit that day
/// (`under_hamlets_unit`, read from the tree's ancestry).
pub fn check_branch_link(
    hamlet: &HamletFacts,
    branch: &UnitFacts,
    category: Option<&str>,
    under_hamlets_unit: bool,
    from: NaiveDate,
) -> Result<(), TreeRefusal> {
    check_hamlet_exists(hamlet, from)?;
    if !is_hamlet_branch(branch.kind, category) {
        return Err(TreeRefusal::validation(Text::new(
            format!(
                "{} không phải chi bộ ấp, khu vực (chi bộ trực thuộc phân loại HAMLET).",
                branch.code
            ),
            format!(
                "{} is not a hamlet branch (a branch of category HAMLET).",
                branch.code
            ),
        )));
    }
    if !branch.exists_on(from) {
        return Err(TreeRefusal::validation(Text::new(
            format!(
                "Đơn vị {} không tồn tại vào ngày {}.",
                branch.code,
                day(from)
            ),
            format!("Unit {} does not exist on {from}.", branch.code),
        )));
    }
    if !under_hamlets_unit {
        return Err(TreeRefusal::validation(Text::new(
            format!(
                "Chi bộ {} không trực thuộc đảng bộ của ấp, khu vực {} vào ngày {}.",
                branch.code,
                hamlet.code,
                day(from)
            ),
            format!(
                "Branch {} is not under the unit of hamlet {} on {from}.",
                branch.code, hamlet.code
            ),
        )));
    }
    Ok(())
}

/// Checks that a dated fact whose current period began on `current_from` may change on `d`:
/// only after that day (history is never rewritten).
pub fn check_after(what: &Text, current_from: NaiveDate, d: NaiveDate) -> Result<(), TreeRefusal> {
    crate::tree::check_chronology(what, current_from, d)
}

/// Checks a merge of `sources` into `target` on `d`: at least one source, none the target,
/// the target existing that day, each source existing that day and begun before it.
pub fn check_merge(
    sources: &[HamletFacts],
    target: &HamletFacts,
    d: NaiveDate,
) -> Result<(), TreeRefusal> {
    if sources.is_empty() {
        return Err(TreeRefusal::validation(Text::new(
            "Phải nêu ít nhất một ấp, khu vực được sáp nhập.",
            "Name at least one hamlet to merge.",
        )));
    }
    if sources.iter().any(|s| s.code == target.code) {
        return Err(TreeRefusal::validation(Text::new(
            "Không thể sáp nhập một ấp, khu vực vào chính nó.",
            "A hamlet cannot be merged into itself.",
        )));
    }
    check_hamlet_exists(target, d)?;
    for s in sources {
        check_hamlet_exists(s, d)?;
        check_after(
            &Text::new(
                format!("ấp, khu vực {}", s.code),
                format!("hamlet {}", s.code),
            ),
            s.valid_from,
            d,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn unit(kind: UnitKind, from: NaiveDate, to: Option<NaiveDate>) -> UnitFacts {
        UnitFacts {
            code: "U".into(),
            kind,
            valid_from: from,
            valid_to: to,
        }
    }

    fn hamlet(code: &str, from: NaiveDate, to: Option<NaiveDate>) -> HamletFacts {
        HamletFacts {
            code: code.into(),
            valid_from: from,
            valid_to: to,
        }
    }

    #[test]
    fn a_hamlet_belongs_to_a_commune_level_unit_existing_that_day() {
        let c = unit(UnitKind::GrassrootsCommittee, d(2015, 1, 1), None);
        assert!(check_new_hamlet("A1", "Ấp 1", &c, d(2015, 1, 1)).is_ok());
        assert!(check_new_hamlet("A1", "Ấp 1", &c, d(2014, 12, 31)).is_err());
        let b = unit(UnitKind::Branch, d(2015, 1, 1), None);
        assert_eq!(
            check_new_hamlet("A1", "Ấp 1", &b, d(2016, 1, 1)).map_err(|r| r.code),
            Err("VALIDATION")
        );
        assert!(check_new_hamlet("A 1", "Ấp 1", &c, d(2016, 1, 1)).is_err());
        assert!(check_new_hamlet("A1", "", &c, d(2016, 1, 1)).is_err());
    }

    #[test]
    fn a_link_needs_a_hamlet_branch_under_the_hamlets_unit_on_its_day() {
        let h = hamlet("A1", d(2015, 1, 1), Some(d(2020, 1, 1)));
        let b = unit(UnitKind::Branch, d(2016, 1, 1), None);
        let ok = check_branch_link(&h, &b, Some("HAMLET"), true, d(2016, 1, 1));
        assert!(ok.is_ok());
        // The branch begins later, the hamlet has ended, the wrong category, not under it.
        assert!(check_branch_link(&h, &b, Some("HAMLET"), true, d(2015, 6, 1)).is_err());
        assert!(check_branch_link(&h, &b, Some("HAMLET"), true, d(2020, 1, 1)).is_err());
        assert!(check_branch_link(&h, &b, Some("COMMUNE_SECTOR"), true, d(2016, 1, 1)).is_err());
        assert!(check_branch_link(&h, &b, Some("HAMLET"), false, d(2016, 1, 1)).is_err());
    }

    #[test]
    fn a_merge_takes_effect_after_each_source_began_and_while_all_exist() {
        let t = hamlet("T", d(2015, 1, 1), None);
        let s = hamlet("S", d(2015, 1, 1), None);
        assert!(check_merge(std::slice::from_ref(&s), &t, d(2019, 7, 1)).is_ok());
        assert_eq!(
            check_merge(std::slice::from_ref(&s), &t, d(2015, 1, 1)).map_err(|r| r.code),
            Err("CONFLICT")
        );
        assert!(check_merge(&[], &t, d(2019, 7, 1)).is_err());
        assert!(check_merge(std::slice::from_ref(&t), &t, d(2019, 7, 1)).is_err());
        let ended = hamlet("E", d(2015, 1, 1), Some(d(2018, 1, 1)));
        assert!(check_merge(&[ended], &t, d(2019, 7, 1)).is_err());
    }

    #[test]
    fn every_kind_has_a_code_that_parses_back() {
        for k in HamletKind::ALL {
            assert_eq!(HamletKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(HamletKind::parse("hamlet"), None);
    }

    #[test]
    fn only_a_hamlet_branch_takes_over_a_merged_hamlet_branch_s_links() {
        assert!(is_hamlet_branch(UnitKind::Branch, Some("HAMLET")));
        assert!(!is_hamlet_branch(UnitKind::Branch, Some("COMMUNE_SECTOR")));
        assert!(!is_hamlet_branch(UnitKind::Branch, None));
        assert!(!is_hamlet_branch(
            UnitKind::GrassrootsCommittee,
            Some("HAMLET")
        ));
    }
}
