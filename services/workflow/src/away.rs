//! Temporary party activity (sinh hoạt đảng tạm thời): a member registered in a branch who
//! lives their party life for a while at another unit, or somewhere the registry does not
//! hold (another province, abroad). A dated fact beside the member's registration, never a
//! move: the member stays in their home branch. The checks a new period must pass.

use chrono::NaiveDate;

use crate::text::Text;
use crate::tree::{MemberStatus, UnitFacts};

/// Where the member lives their party life meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host<'a> {
    /// A unit of the registry, as it stands on the first day.
    Unit(&'a UnitFacts),
    /// Somewhere else, named (a unit of another province, a country); `abroad` when outside
    /// Vietnam.
    Place { name: &'a str, abroad: bool },
}

/// A new period of temporary party activity, with what the registry knows on its first day.
#[derive(Debug, Clone)]
pub struct NewPeriod<'a> {
    /// The member's status on the first day (none: not registered then).
    pub status: Option<MemberStatus>,
    /// The member's own unit on the first day.
    pub home: Option<&'a UnitFacts>,
    /// Where.
    pub host: Host<'a>,
    /// First day.
    pub from: NaiveDate,
    /// First day back home, if known.
    pub to: Option<NaiveDate>,
    /// The member's other periods, `[from, to)`.
    pub others: &'a [(NaiveDate, Option<NaiveDate>)],
}

/// Why a period is refused: `VALIDATION` or `CONFLICT`, and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `VALIDATION` (the request itself) or `CONFLICT` (against what is recorded).
    pub code: &'static str,
    /// The reason, in Vietnamese and English.
    pub reason: Text,
}

fn overlaps(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    let a_before_b_ends = b.1.is_none_or(|end| a.0 < end);
    let b_before_a_ends = a.1.is_none_or(|end| b.0 < end);
    a_before_b_ends && b_before_a_ends
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Checks a new period: a member (official or probationary) on its first day, a period that
/// ends after it starts, a host that is a branch existing that day other than the member's
/// own, or a named place, and no overlap with the member's other periods.
pub fn check_new_period(p: &NewPeriod<'_>) -> Result<(), Refusal> {
    let validation = |vi: String, en: String| Refusal {
        code: "VALIDATION",
        reason: Text::new(vi, en),
    };
    if let Some(to) = p.to
        && to <= p.from
    {
        return Err(validation(
            format!(
                "Ngày kết thúc ({}) phải sau ngày bắt đầu ({}).",
                day(to),
                day(p.from)
            ),
            format!("The end ({to}) must come after the start ({}).", p.from),
        ));
    }
    if !matches!(
        p.status,
        Some(MemberStatus::Official | MemberStatus::Probationary)
    ) {
        return Err(validation(
            format!(
                "Ngày {} người này không phải là đảng viên: chỉ đảng viên mới sinh hoạt đảng tạm thời.",
                day(p.from)
            ),
            format!(
                "On {} this person is not a party member: only members live their party life temporarily elsewhere.",
                p.from
            ),
        ));
    }
    match &p.host {
        Host::Unit(u) => {
            if !u.exists_on(p.from) || !u.kind.holds_members() {
                return Err(validation(
                    format!(
                        "{} không phải là chi bộ đang hoạt động vào ngày {}: đảng viên sinh hoạt tạm thời ở một chi bộ.",
                        u.code,
                        day(p.from)
                    ),
                    format!(
                        "{} is not a branch existing on {}: a member lives their party life temporarily in a branch.",
                        u.code, p.from
                    ),
                ));
            }
            if p.home.is_some_and(|h| h.code == u.code) {
                return Err(validation(
                    format!("{} là chi bộ của chính đảng viên này.", u.code),
                    format!("{} is the member's own branch.", u.code),
                ));
            }
        }
        Host::Place { name, .. } => {
            if name.trim().is_empty() {
                return Err(validation(
                    "Hãy cho biết nơi sinh hoạt tạm thời (một chi bộ hoặc một nơi).".to_owned(),
                    "Name where: a branch or a place.".to_owned(),
                ));
            }
        }
    }
    if let Some(other) = p.others.iter().find(|o| overlaps((p.from, p.to), **o)) {
        return Err(Refusal {
            code: "CONFLICT",
            reason: Text::new(
                format!(
                    "Đảng viên đã có một thời gian sinh hoạt tạm thời từ ngày {} trùng với thời gian này.",
                    day(other.0)
                ),
                format!(
                    "The member already has a period of temporary activity from {} that overlaps this one.",
                    other.0
                ),
            ),
        });
    }
    Ok(())
}

/// Checks the end of a period `[from, to)` on `on`: after its start, and before any end it
/// already has.
pub fn check_end(from: NaiveDate, to: Option<NaiveDate>, on: NaiveDate) -> Result<(), Refusal> {
    if on <= from || to.is_some_and(|t| on >= t) {
        return Err(Refusal {
            code: "VALIDATION",
            reason: Text::new(
                format!(
                    "Ngày về ({}) phải sau ngày bắt đầu ({}) và trước ngày kết thúc đã ghi.",
                    day(on),
                    day(from)
                ),
                format!(
                    "The day back ({on}) must come after the start ({from}) and before any end recorded."
                ),
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tree::UnitKind;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn unit(code: &str, kind: UnitKind) -> UnitFacts {
        UnitFacts {
            code: code.into(),
            kind,
            valid_from: d("2004-01-01"),
            valid_to: None,
        }
    }

    #[test]
    fn a_period_needs_a_member_a_branch_other_than_their_own_and_no_overlap() {
        let home = unit("B1", UnitKind::Branch);
        let host = unit("B2", UnitKind::Branch);
        let committee = unit("G", UnitKind::GrassrootsCommittee);
        let others = [(d("2023-01-01"), Some(d("2023-03-01")))];
        let base = NewPeriod {
            status: Some(MemberStatus::Official),
            home: Some(&home),
            host: Host::Unit(&host),
            from: d("2023-03-01"),
            to: Some(d("2023-09-01")),
            others: &others,
        };
        assert_eq!(check_new_period(&base), Ok(()));
        let code = |p: NewPeriod<'_>| check_new_period(&p).unwrap_err().code;
        assert_eq!(
            code(NewPeriod {
                from: d("2023-02-28"),
                ..base.clone()
            }),
            "CONFLICT"
        );
        assert_eq!(
            code(NewPeriod {
                to: Some(d("2023-03-01")),
                ..base.clone()
            }),
            "VALIDATION"
        );
        assert_eq!(
            code(NewPeriod {
                status: Some(MemberStatus::StruckOff),
                ..base.clone()
            }),
            "VALIDATION"
        );
        assert_eq!(
            code(NewPeriod {
                host: Host::Unit(&home),
                ..base.clone()
            }),
            "VALIDATION"
        );
        assert_eq!(
            code(NewPeriod {
                host: Host::Unit(&committee),
                ..base.clone()
            }),
            "VALIDATION"
        );
        assert_eq!(
            code(NewPeriod {
                host: Host::Place {
                    name: " ",
                    abroad: true
                },
                ..base.clone()
            }),
            "VALIDATION"
        );
        assert!(
            check_new_period(&NewPeriod {
                host: Host::Place {
                    name: "Hàn Quốc",
                    abroad: true
                },
                to: None,
                ..base.clone()
            })
            .is_ok()
        );
        assert!(check_end(d("2023-03-01"), None, d("2023-03-01")).is_err());
        assert!(check_end(d("2023-03-01"), Some(d("2023-05-01")), d("2023-05-01")).is_err());
        assert!(check_end(d("2023-03-01"), Some(d("2023-05-01")), d("2023-04-01")).is_ok());
    }
}
