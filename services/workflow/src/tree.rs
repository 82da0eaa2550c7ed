//! The organization tree and the member registry's vocabulary: unit kinds and their levels,
//! member statuses, and the pure checks that guard changes to the tree.
//!
//! The tree keeps its history: every unit and every parent link has a half-open validity
//! period `[from, to)`. The checks here see the tree as the shell loaded it for the date in
//! question and decide; the store carries the decision out.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::text::Text;
pub use crate::vocab::{Level, MemberStatus};

/// The kinds of party unit, named after the source report's levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnitKind {
    /// The Central Committee (Ban Chấp hành Trung ương), the root of a national tree.
    Central,
    /// A province-level committee (Đảng bộ tỉnh / thành phố trực thuộc Trung ương).
    Province,
    /// A district committee (huyện ủy), abolished on 1/7/2025.
    District,
    /// A town committee (thị xã).
    Town,
    /// A provincial city committee (thành phố thuộc tỉnh).
    City,
    /// A commune or ward committee directly under the province (xã, phường, đặc khu; from 2025).
    Commune,
    /// A bloc of agencies and enterprises (Đảng bộ Khối).
    Bloc,
    /// The provincial police committee (Đảng bộ Công an tỉnh).
    Police,
    /// The provincial military committee (Đảng bộ Quân sự tỉnh).
    Military,
    /// A grassroots party committee (đảng bộ cơ sở).
    GrassrootsCommittee,
    /// A grassroots branch (chi bộ cơ sở): a grassroots organization without sub-branches.
    GrassrootsBranch,
    /// A branch under a grassroots committee (chi bộ trực thuộc đảng ủy cơ sở).
    Branch,
}

impl UnitKind {
    /// Every kind, in level order.
    pub const ALL: [UnitKind; 12] = [
        UnitKind::Central,
        UnitKind::Province,
        UnitKind::District,
        UnitKind::Town,
        UnitKind::City,
        UnitKind::Commune,
        UnitKind::Bloc,
        UnitKind::Police,
        UnitKind::Military,
        UnitKind::GrassrootsCommittee,
        UnitKind::GrassrootsBranch,
        UnitKind::Branch,
    ];

    /// The level of this kind of unit.
    pub fn level(self) -> Level {
        match self {
            UnitKind::Central => Level::Central,
            UnitKind::Province => Level::Province,
            UnitKind::District
            | UnitKind::Town
            | UnitKind::City
            | UnitKind::Commune
            | UnitKind::Bloc
            | UnitKind::Police
            | UnitKind::Military => Level::Superior,
            UnitKind::GrassrootsCommittee | UnitKind::GrassrootsBranch => Level::Grassroots,
            UnitKind::Branch => Level::Branch,
        }
    }

    /// Whether members are registered directly in units of this kind: members live in
    /// branches, whether grassroots branches or branches under a grassroots committee.
    pub fn holds_members(self) -> bool {
        matches!(self, UnitKind::GrassrootsBranch | UnitKind::Branch)
    }

    /// The stable code used in storage and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Central => "CENTRAL",
            UnitKind::Province => "PROVINCE",
            UnitKind::District => "DISTRICT",
            UnitKind::Town => "TOWN",
            UnitKind::City => "CITY",
            UnitKind::Commune => "COMMUNE",
            UnitKind::Bloc => "BLOC",
            UnitKind::Police => "POLICE",
            UnitKind::Military => "MILITARY",
            UnitKind::GrassrootsCommittee => "GRASSROOTS_COMMITTEE",
            UnitKind::GrassrootsBranch => "GRASSROOTS_BRANCH",
            UnitKind::Branch => "BRANCH",
        }
    }

    /// Parses the stable code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind's name, in Vietnamese and English.
    pub fn label(self) -> Text {
        let (vi, en) = match self {
            UnitKind::Central => ("Trung ương", "Central Committee"),
            UnitKind::Province => ("Đảng bộ tỉnh", "province-level committee"),
            UnitKind::District => ("Đảng bộ huyện", "district committee"),
            UnitKind::Town => ("Đảng bộ thị xã", "town committee"),
            UnitKind::City => ("Đảng bộ thành phố", "city committee"),
            UnitKind::Commune => ("Đảng bộ xã, phường", "commune or ward committee"),
            UnitKind::Bloc => ("Đảng bộ khối", "bloc committee"),
            UnitKind::Police => ("Đảng bộ công an", "police committee"),
            UnitKind::Military => ("Đảng bộ quân sự", "military committee"),
            UnitKind::GrassrootsCommittee => ("Đảng bộ cơ sở", "grassroots party committee"),
            UnitKind::GrassrootsBranch => ("Chi bộ cơ sở", "grassroots branch"),
            UnitKind::Branch => ("Chi bộ trực thuộc", "branch under a grassroots committee"),
        };
        Text::new(vi, en)
    }
}

/// Why a change to the tree is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRefusal {
    /// A stable machine code: `VALIDATION` or `CONFLICT`.
    pub code: &'static str,
    /// The reason, in Vietnamese and English.
    pub reason: Text,
}

impl TreeRefusal {
    pub(crate) fn validation(reason: Text) -> Self {
        Self {
            code: "VALIDATION",
            reason,
        }
    }
    pub(crate) fn conflict(reason: Text) -> Self {
        Self {
            code: "CONFLICT",
            reason,
        }
    }
}

/// A unit as the checks need to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFacts {
    /// The unit's code, for messages.
    pub code: String,
    /// Its kind.
    pub kind: UnitKind,
    /// First day of existence.
    pub valid_from: NaiveDate,
    /// First day it no longer exists, if it has ended.
    pub valid_to: Option<NaiveDate>,
}

impl UnitFacts {
    /// Whether the unit exists on `date`.
    pub fn exists_on(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date < to)
    }
}

/// Checks that `child` may hang under `parent` on `date`: the parent exists then and sits
/// higher in the tree.
pub fn check_parent(
    child_code: &str,
    child_kind: UnitKind,
    parent: &UnitFacts,
    date: NaiveDate,
) -> Result<(), TreeRefusal> {
    if !parent.exists_on(date) {
        return Err(TreeRefusal::validation(Text::new(
            format!(
                "Đơn vị cấp trên {} không tồn tại vào ngày {}.",
                parent.code,
                date.format("%d/%m/%Y")
            ),
            format!("The parent unit {} does not exist on {date}.", parent.code),
        )));
    }
    if parent.kind.level() >= child_kind.level() {
        return Err(TreeRefusal::validation(Text::new(
            format!(
                "{} ({}) không thể trực thuộc {} ({}): đơn vị cấp trên phải ở cấp cao hơn.",
                child_code,
                child_kind.label().vi,
                parent.code,
                parent.kind.label().vi
            ),
            format!(
                "{} ({}) cannot sit under {} ({}): a parent must be at a higher level.",
                child_code,
                child_kind.label().en,
                parent.code,
                parent.kind.label().en
            ),
        )));
    }
    Ok(())
}

/// Checks that moving `unit` under a parent whose ancestors on the date are `new_ancestry`
/// (the new parent first, then its parent, up to the root) does not make the unit its own
/// ancestor.
pub fn check_no_cycle(unit_code: &str, new_ancestry: &[String]) -> Result<(), TreeRefusal> {
    if new_ancestry.iter().any(|c| c == unit_code) {
        return Err(TreeRefusal::validation(Text::new(
            format!("Không thể chuyển {unit_code} vào đơn vị cấp dưới của chính nó."),
            format!("{unit_code} cannot be moved under itself or one of its own descendants."),
        )));
    }
    Ok(())
}

/// Checks that a change dated `date` does not rewrite the past of a record whose current
/// period started on `current_from`: changes to one record are applied in date order.
pub fn check_chronology(
    what: &Text,
    current_from: NaiveDate,
    date: NaiveDate,
) -> Result<(), TreeRefusal> {
    if date <= current_from {
        return Err(TreeRefusal::conflict(Text::new(
            format!(
                "Ngày hiệu lực {} phải sau ngày bắt đầu của tình trạng hiện tại của {} ({}).",
                date.format("%d/%m/%Y"),
                what.vi,
                current_from.format("%d/%m/%Y")
            ),
            format!(
                "The effective date {date} must be after the start of the current state of {} ({current_from}).",
                what.en
            ),
        )));
    }
    Ok(())
}

/// The dates of a member's admission, as a registration gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionDates {
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Date written in the admission decision: party age counts from it (A15).
    pub admission_decision: Option<NaiveDate>,
    /// The ceremony: probation starts that day (A13).
    pub ceremony: Option<NaiveDate>,
    /// Recognized as official: the end of the 12 months' probation (A14).
    pub official: Option<NaiveDate>,
}

/// Checks a registered member's dates against their status: the order birth ≤ decision ≤
/// ceremony < official, the dates a status needs, and that a probation runs 12 months from
/// the ceremony (A13, A14: the official date is ceremony + 12 months whatever the decision's
/// date).
pub fn check_admission_dates(
    status: MemberStatus,
    dates: &AdmissionDates,
    probation_months: u32,
) -> Result<(), Vec<Text>> {
    let mut problems = Vec::new();
    let d = dates;
    if let Some(dec) = d.admission_decision
        && dec <= d.date_of_birth
    {
        problems.push(Text::new(
            "Ngày quyết định kết nạp phải sau ngày sinh.",
            "The admission decision must come after the date of birth.",
        ));
    }
    if let (Some(dec), Some(cer)) = (d.admission_decision, d.ceremony)
        && cer < dec
    {
        problems.push(Text::new(
            "Lễ kết nạp không thể trước ngày quyết định kết nạp (A11).",
            "The ceremony cannot come before the admission decision (A11).",
        ));
    }
    if let (Some(cer), Some(off)) = (d.ceremony, d.official) {
        let expected = cer.checked_add_months(Months::new(probation_months));
        if expected != Some(off) {
            problems.push(Text::new(
                format!(
                    "Ngày chính thức phải là ngày lễ kết nạp cộng {probation_months} tháng dự bị ({}) (A13, A14).",
                    expected.map_or_else(String::new, |e| e.format("%d/%m/%Y").to_string())
                ),
                format!(
                    "The official date must be the ceremony plus {probation_months} months of probation ({}) (A13, A14).",
                    expected.map_or_else(String::new, |e| e.to_string())
                ),
            ));
        }
    }
    match status {
        MemberStatus::Probationary => {
            if d.ceremony.is_none() {
                problems.push(Text::new(
                    "Đảng viên dự bị phải có ngày lễ kết nạp (A13).",
                    "A probationary member needs the ceremony date (A13).",
                ));
            }
            if d.official.is_some() {
                problems.push(Text::new(
                    "Đảng viên dự bị chưa có ngày chính thức.",
                    "A probationary member has no official date yet.",
                ));
            }
        }
        MemberStatus::Official if d.official.is_none() => {
            problems.push(Text::new(
                "Đảng viên chính thức phải có ngày chính thức (A14).",
                "An official member needs the official date (A14).",
            ));
        }
        _ => {}
    }
    if d.admission_decision.is_none() && status.is_member() {
        problems.push(Text::new(
            "Phải có ngày quyết định kết nạp: tuổi đảng tính từ ngày này (A15).",
            "The admission decision date is required: party age counts from it (A15).",
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The statuses a member registered with `status` has had, oldest first: a registered official
/// member was probationary from the ceremony to the official date, so that "status on date D"
/// is right for the past too. The current status holds from `status_since`, by default the
/// official date (official members), the ceremony (others) or `unit_since`.
pub fn registration_statuses(
    status: MemberStatus,
    dates: &AdmissionDates,
    unit_since: NaiveDate,
    status_since: Option<NaiveDate>,
) -> Vec<crate::import::Period<MemberStatus>> {
    let since = status_since
        .or(match status {
            MemberStatus::Official => dates.official,
            _ => dates.ceremony,
        })
        .unwrap_or(unit_since);
    let mut out = Vec::new();
    if let (MemberStatus::Official, Some(cer), Some(off)) = (status, dates.ceremony, dates.official)
        && cer < off
    {
        out.push(crate::import::Period {
            value: MemberStatus::Probationary,
            from: cer,
            to: Some(off),
            reason: None,
        });
    }
    out.push(crate::import::Period {
        value: status,
        from: since,
        to: None,
        reason: None,
    });
    out
}

/// One row of the tree's ancestry kept as data (a temporal closure table): `ancestor` is
/// `unit` itself (`depth` 0) or one of its ancestors `depth` levels up, over the half-open
/// period `[from, to)` (`to` none: still so).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AncestryRow<Id> {
    /// The unit.
    pub unit: Id,
    /// The unit itself or one of its ancestors.
    pub ancestor: Id,
    /// 0 for the unit itself, 1 for its parent, …
    pub depth: u32,
    /// First day.
    pub from: NaiveDate,
    /// Day after the last (none: open).
    pub to: Option<NaiveDate>,
}

/// A unit's period of existence, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitSpan<Id> {
    /// The unit.
    pub id: Id,
    /// First day.
    pub from: NaiveDate,
    /// End (exclusive).
    pub to: Option<NaiveDate>,
}

/// A parent link over `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentLink<Id> {
    /// The child.
    pub unit: Id,
    /// Its parent over the period.
    pub parent: Id,
    /// First day.
    pub from: NaiveDate,
    /// End (exclusive).
    pub to: Option<NaiveDate>,
}

/// The intersection of two half-open periods, if not empty.
fn intersect(
    a: (NaiveDate, Option<NaiveDate>),
    b: (NaiveDate, Option<NaiveDate>),
) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let from = a.0.max(b.0);
    let to = match (a.1, b.1) {
        (None, x) | (x, None) => x,
        (Some(x), Some(y)) => Some(x.min(y)),
    };
    match to {
        Some(t) if t <= from => None,
        _ => Some((from, to)),
    }
}

/// The ancestry rows of `units`, from their periods and parent `links`; `known` gives the
/// (already computed) rows of the parents that are not among `units`.
///
/// A unit is its own ancestor at depth 0 while it exists; it has `A` at depth `k + 1` on the
/// days where it exists, its link to a parent `P` holds and `P` has `A` at depth `k`. So a
/// unit is in the subtree of `A` on day `d` exactly when the walk up the links valid on `d`,
/// through units that exist on `d`, reaches `A`. Consecutive periods of the same ancestor at
/// the same depth are joined, so the rows of a tree are unique whatever order its history was
/// written in. A cycle in the links (which the checks of every tree change refuse) is cut at
/// 64 levels.
pub fn ancestry_rows<Id>(
    units: &[UnitSpan<Id>],
    links: &[ParentLink<Id>],
    known: &[AncestryRow<Id>],
) -> Vec<AncestryRow<Id>>
where
    Id: Copy + Eq + Ord + std::hash::Hash,
{
    use std::collections::HashMap;
    let span: HashMap<Id, (NaiveDate, Option<NaiveDate>)> =
        units.iter().map(|u| (u.id, (u.from, u.to))).collect();
    let mut links_of: HashMap<Id, Vec<&ParentLink<Id>>> = HashMap::new();
    for l in links {
        if span.contains_key(&l.unit) {
            links_of.entry(l.unit).or_default().push(l);
        }
    }
    let mut rows_of: HashMap<Id, Vec<AncestryRow<Id>>> = HashMap::new();
    for r in known {
        if !span.contains_key(&r.unit) {
            rows_of.entry(r.unit).or_default().push(*r);
        }
    }
    // Depth-first from each unit, parents before children; a unit in progress is not entered
    // again, which cuts a cycle.
    let mut done: HashMap<Id, bool> = HashMap::new();
    for u in units {
        let mut stack: Vec<(Id, bool)> = vec![(u.id, false)];
        while let Some((id, expanded)) = stack.pop() {
            if done.get(&id) == Some(&true) {
                continue;
            }
            let parents: Vec<Id> = links_of
                .get(&id)
                .map(|ls| ls.iter().map(|l| l.parent).collect())
                .unwrap_or_default();
            if !expanded {
                done.insert(id, false);
                stack.push((id, true));
                for p in parents {
                    if span.contains_key(&p) && !done.contains_key(&p) {
                        stack.push((p, false));
                    }
                }
                continue;
            }
            let own = span[&id];
            let mut rows = vec![AncestryRow {
                unit: id,
                ancestor: id,
                depth: 0,
                from: own.0,
                to: own.1,
            }];
            for l in links_of.get(&id).into_iter().flatten() {
                let Some(linked) = intersect(own, (l.from, l.to)) else {
                    continue;
                };
                for pr in rows_of.get(&l.parent).into_iter().flatten() {
                    if pr.ancestor == id || pr.depth >= 64 {
                        continue;
                    }
                    if let Some((from, to)) = intersect(linked, (pr.from, pr.to)) {
                        rows.push(AncestryRow {
                            unit: id,
                            ancestor: pr.ancestor,
                            depth: pr.depth + 1,
                            from,
                            to,
                        });
                    }
                }
            }
            rows_of.insert(id, coalesce(rows));
            done.insert(id, true);
        }
    }
    let mut out: Vec<AncestryRow<Id>> = units
        .iter()
        .flat_map(|u| rows_of.get(&u.id).cloned().unwrap_or_default())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Joins consecutive periods of the same ancestor at the same depth.
fn coalesce<Id: Copy + Ord>(mut rows: Vec<AncestryRow<Id>>) -> Vec<AncestryRow<Id>> {
    rows.sort_by_key(|a| (a.ancestor, a.depth, a.from));
    let mut out: Vec<AncestryRow<Id>> = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(last) = out.last_mut()
            && last.ancestor == r.ancestor
            && last.depth == r.depth
            && last.to == Some(r.from)
        {
            last.to = r.to;
            continue;
        }
        out.push(r);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn span(id: u8, from: &str, to: Option<&str>) -> UnitSpan<u8> {
        UnitSpan {
            id,
            from: d(from),
            to: to.map(d),
        }
    }

    fn link(unit: u8, parent: u8, from: &str, to: Option<&str>) -> ParentLink<u8> {
        ParentLink {
            unit,
            parent,
            from: d(from),
            to: to.map(d),
        }
    }

    fn ancestors_on(rows: &[AncestryRow<u8>], unit: u8, on: &str) -> Vec<u8> {
        let on = d(on);
        let mut v: Vec<&AncestryRow<u8>> = rows
            .iter()
            .filter(|r| r.unit == unit && r.from <= on && r.to.is_none_or(|t| t > on))
            .collect();
        v.sort_by_key(|r| r.depth);
        v.into_iter().map(|r| r.ancestor).collect()
    }

    #[test]
    fn ancestry_follows_a_move_and_its_dates() {
        // 1 ─ 2 ─ 4 ; 1 ─ 3 ; 4 moves from 2 to 3 on 2024-06-01; 5 sits under 4 throughout.
        let units = [
            span(1, "2020-01-01", None),
            span(2, "2020-01-01", None),
            span(3, "2020-01-01", None),
            span(4, "2020-01-01", None),
            span(5, "2021-01-01", None),
        ];
        let links = [
            link(2, 1, "2020-01-01", None),
            link(3, 1, "2020-01-01", None),
            link(4, 2, "2020-01-01", Some("2024-06-01")),
            link(4, 3, "2024-06-01", None),
            link(5, 4, "2021-01-01", None),
        ];
        let rows = ancestry_rows(&units, &links, &[]);
        assert_eq!(ancestors_on(&rows, 5, "2024-05-31"), vec![5, 4, 2, 1]);
        assert_eq!(ancestors_on(&rows, 5, "2024-06-01"), vec![5, 4, 3, 1]);
        assert_eq!(ancestors_on(&rows, 5, "2020-06-01"), Vec::<u8>::new());
        // The link to the root is one row over both parents' periods, at the same depth.
        let to_root: Vec<_> = rows
            .iter()
            .filter(|r| r.unit == 5 && r.ancestor == 1)
            .collect();
        assert_eq!(to_root.len(), 1);
        assert_eq!(to_root[0].depth, 3);
        assert_eq!(to_root[0].from, d("2021-01-01"));
        // Computing 4 and 5 again from their parents' known rows gives the same rows.
        let known: Vec<_> = rows.iter().filter(|r| r.unit <= 3).copied().collect();
        let again = ancestry_rows(&units[3..], &links, &known);
        let expected: Vec<_> = rows.iter().filter(|r| r.unit >= 4).copied().collect();
        assert_eq!(again, expected);
    }

    #[test]
    fn ancestry_ends_with_the_unit_and_survives_a_cycle() {
        let units = [
            span(1, "2020-01-01", None),
            span(2, "2020-01-01", Some("2022-01-01")),
        ];
        let links = [
            link(2, 1, "2020-01-01", Some("2022-01-01")),
            link(1, 2, "2020-01-01", None),
        ];
        let rows = ancestry_rows(&units, &links, &[]);
        assert_eq!(ancestors_on(&rows, 2, "2023-01-01"), Vec::<u8>::new());
        // The cycle is cut: the walk ends, each unit still starts its own path.
        assert_eq!(ancestors_on(&rows, 2, "2021-01-01").first(), Some(&2));
        assert_eq!(ancestors_on(&rows, 1, "2021-01-01").first(), Some(&1));
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn unit(kind: UnitKind, from: &str, to: Option<&str>) -> UnitFacts {
        UnitFacts {
            code: "P".into(),
            kind,
            valid_from: d(from),
            valid_to: to.map(d),
        }
    }

    #[test]
    fn a_branch_may_hang_under_a_grassroots_committee_but_not_the_reverse() {
        let gc = unit(UnitKind::GrassrootsCommittee, "2000-01-01", None);
        let br = unit(UnitKind::Branch, "2000-01-01", None);
        assert!(check_parent("B", UnitKind::Branch, &gc, d("2020-01-01")).is_ok());
        let err = check_parent("G", UnitKind::GrassrootsCommittee, &br, d("2020-01-01"));
        assert_eq!(err.unwrap_err().code, "VALIDATION");
    }

    #[test]
    fn a_parent_must_exist_on_the_date_validity_being_half_open() {
        let district = unit(UnitKind::District, "2000-01-01", Some("2025-07-01"));
        assert!(check_parent("G", UnitKind::GrassrootsBranch, &district, d("2025-06-30")).is_ok());
        assert!(check_parent("G", UnitKind::GrassrootsBranch, &district, d("2025-07-01")).is_err());
    }

    #[test]
    fn a_unit_cannot_become_its_own_ancestor() {
        let ancestry = vec!["B1".to_string(), "G1".to_string(), "P".to_string()];
        assert!(check_no_cycle("G1", &ancestry).is_err());
        assert!(check_no_cycle("G2", &ancestry).is_ok());
    }

    #[test]
    fn a14_official_date_is_ceremony_plus_twelve_months() {
        let dates = AdmissionDates {
            date_of_birth: d("1990-01-01"),
            admission_decision: Some(d("2024-08-25")),
            ceremony: Some(d("2024-09-15")),
            official: Some(d("2025-09-15")),
        };
        assert!(check_admission_dates(MemberStatus::Official, &dates, 12).is_ok());
        let late = AdmissionDates {
            official: Some(d("2025-10-20")),
            ..dates
        };
        assert!(check_admission_dates(MemberStatus::Official, &late, 12).is_err());
    }

    #[test]
    fn kinds_round_trip_through_their_codes() {
        for k in UnitKind::ALL {
            assert_eq!(UnitKind::parse(k.as_str()), Some(k));
        }
        for s in MemberStatus::ALL {
            assert_eq!(MemberStatus::parse(s.as_str()), Some(s));
        }
    }
}
