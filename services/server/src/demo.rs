//! `memberflow demo`: builds a realistic organization to try the service on, deterministically
//! from a seed.
//!
//! - `hau-giang-2023` is the province of the source report (its figures in docs/demo.md): its
//!   11 directly subordinate committees, 498 grassroots organizations (171 committees, 327
//!   grassroots branches) and 1,523 branches by category as of 31/10/2023, the 525
//!   grassroots organizations and 1,703 branches of 2018 (the difference merged away in
//!   2019–2021, or split off in 2020), 33,509 members on 30/6/2023 with the report's
//!   distributions, the 5,181 admissions of 2018 – mid 2023, 689 discipline decisions, 1,362
//!   members struck off and 4,070 badges. `docs/demo.md` says which figure was used where the
//!   report contradicts itself.
//! - `national` builds any number of provinces of the same shape under a central root, for
//!   benchmarks.
//!
//! The generator is pure (seeded, no clock, no I/O); [`run`] hands its output to the store,
//! which loads it with bulk inserts in one transaction per province, and shows progress.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::time::Instant;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use futures::StreamExt as _;
use memberflow_store::{
    Backend, BulkAccount, BulkBadge, BulkBatch, BulkCaseRounds, BulkDiscipline, BulkEdge,
    BulkHamlet, BulkHamletLink, BulkMember, BulkMembership, BulkResidence, BulkStatus,
    BulkTreeEvent, BulkUnit, Store, StoreError,
};
use memberflow_workflow::catalog::Catalog;
use memberflow_workflow::engine::DisciplineStatus;
use memberflow_workflow::hamlet::HamletKind;
use memberflow_workflow::stats::{AgeBand, Rng, apportion};
use memberflow_workflow::tree::{MemberStatus, UnitKind};
use memberflow_workflow::vocab::{Level, capitalised};

/// The day the source report counts members on.
pub const SNAPSHOT: NaiveDate = date(2023, 6, 30);
/// The first day of the period the report reviews.
pub const PERIOD_START: NaiveDate = date(2018, 1, 1);
/// Hậu Giang was established on 1/1/2004: every unit of the demo exists from then.
const ESTABLISHED: NaiveDate = date(2004, 1, 1);
/// The day the four newer grassroots committees (and their branches) were set up.
const SPLIT_DAY: NaiveDate = date(2020, 1, 1);
/// The default seed.
pub const DEFAULT_SEED: u64 = 2023;

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(x) => x,
        None => NaiveDate::MIN,
    }
}

pub(crate) fn add_years(d: NaiveDate, years: i32) -> NaiveDate {
    let months = Months::new(years.unsigned_abs() * 12);
    let r = if years >= 0 {
        d.checked_add_months(months)
    } else {
        d.checked_sub_months(months)
    };
    r.unwrap_or(d)
}

pub(crate) fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(chrono::TimeDelta::days(days))
        .unwrap_or(d)
}

// ---------------------------------------------------------------------------------------------
// The figures

/// The member figures a province is generated from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// Members on the snapshot day.
    pub members: u64,
    /// Of whom women.
    pub women: u64,
    /// By age band on the snapshot day (the report's eight bands).
    pub age_bands: [u64; 8],
    /// By ethnicity (stored values).
    pub ethnicity: Vec<(&'static str, u64)>,
    /// By religion (members without one are not listed).
    pub religion: Vec<(&'static str, u64)>,
    /// By schooling code (`NOT_RECORDED` for the members the report leaves out).
    pub education: Vec<(&'static str, u64)>,
    /// By occupation code (the API's `Occupation` values).
    pub occupation: Vec<(&'static str, u64)>,
    /// Admissions by year (by the decision's date), 2018 to the snapshot.
    pub admissions: Vec<(i32, u64)>,
    /// Discipline decisions by form code.
    pub discipline: Vec<(&'static str, u64)>,
    /// Members struck off (xóa tên) over the period.
    pub struck_off: u64,
    /// Badges by years of membership.
    pub badges: Vec<(i32, u64)>,
}

/// The occupation of every member of the police and military committees.
const ARMED_FORCES: &str = "ARMED_FORCES";

impl Figures {
    /// Hậu Giang, 30/6/2023 (figures and choices in docs/demo.md).
    pub fn hau_giang_2023() -> Self {
        Figures {
            members: 33_509,
            women: 11_262,
            age_bands: [5_516, 5_265, 5_932, 5_577, 3_254, 3_125, 2_445, 2_395],
            // 654 ethnic minority members (section I): Khmer 414, Hoa 227, other 13; the 564
            // of section III.2.1 is 1.68%, not the 1.95% printed beside it, which is 654.
            ethnicity: vec![
                ("Kinh", 32_855),
                ("Khmer", 414),
                ("Hoa", 227),
                ("Dân tộc khác", 13),
            ],
            religion: vec![("Công giáo", 426), ("Tin Lành", 25), ("Tôn giáo khác", 88)],
            // The report's three figures sum to 33,429: the 80 others are left unrecorded.
            education: vec![
                ("UPPER_SECONDARY", 28_906),
                ("LOWER_SECONDARY", 4_098),
                ("PRIMARY", 425),
                ("NOT_RECORDED", 80),
            ],
            // The report's ten groups sum to 28,302; the 5,207 others are split between
            // retirees (over 60) and "other".
            occupation: vec![
                ("PUBLIC_SERVICE_EMPLOYEE", 8_685),
                ("COMMUNE_OFFICIAL", 5_260),
                ("STATE_OFFICIAL", 4_024),
                ("HAMLET_STAFF", 3_189),
                (ARMED_FORCES, 2_432),
                ("FARMER", 2_175),
                ("ENTERPRISE", 1_429),
                ("PARTY_MASS_ORG_OFFICIAL", 852),
                ("NON_PUBLIC_SERVICE_WORKER", 139),
                ("STUDENT", 117),
                ("RETIRED", 2_000),
                ("OTHER", 3_207),
            ],
            // 5,181 admissions from 1/1/2018 to 30/6/2023 (about 942 a year); the report
            // gives no split by year.
            admissions: vec![
                (2018, 1_010),
                (2019, 1_002),
                (2020, 905),
                (2021, 880),
                (2022, 930),
                (2023, 454),
            ],
            discipline: vec![
                ("reprimand", 469),
                ("warning", 132),
                ("removal", 28),
                ("expulsion", 60),
            ],
            struck_off: 1_362,
            // The parts sum to 4,070; the report's total says 4,072.
            badges: vec![
                (30, 2_067),
                (40, 670),
                (45, 535),
                (50, 489),
                (55, 210),
                (60, 58),
                (65, 28),
                (70, 13),
            ],
        }
    }

    /// The same distributions for a province of `members` (largest remainders throughout).
    pub fn scaled(&self, members: u64) -> Self {
        let scale = |n: u64| apportion(members, &[n, self.members.saturating_sub(n)])[0];
        let split = |v: &[(&'static str, u64)]| {
            let total = scale(v.iter().map(|x| x.1).sum());
            let shares = apportion(total, &v.iter().map(|x| x.1).collect::<Vec<_>>());
            v.iter().map(|x| x.0).zip(shares).collect::<Vec<_>>()
        };
        let split_years = |v: &[(i32, u64)]| {
            let total = scale(v.iter().map(|x| x.1).sum());
            let shares = apportion(total, &v.iter().map(|x| x.1).collect::<Vec<_>>());
            v.iter().map(|x| x.0).zip(shares).collect::<Vec<_>>()
        };
        let bands = apportion(members, &self.age_bands);
        let mut age_bands = [0; 8];
        for (a, b) in age_bands.iter_mut().zip(bands) {
            *a = b;
        }
        Figures {
            members,
            women: scale(self.women),
            age_bands,
            ethnicity: split_all(members, &self.ethnicity),
            religion: split(&self.religion),
            education: split_all(members, &self.education),
            occupation: split_all(members, &self.occupation),
            admissions: split_years(&self.admissions),
            discipline: split(&self.discipline),
            struck_off: scale(self.struck_off),
            badges: split_years(&self.badges),
        }
    }

    fn admissions_total(&self) -> u64 {
        self.admissions.iter().map(|x| x.1).sum()
    }

    fn occupation_count(&self, code: &str) -> u64 {
        self.occupation
            .iter()
            .find(|x| x.0 == code)
            .map_or(0, |x| x.1)
    }
}

/// Splits `members` over every group of `v` (the groups cover everyone).
fn split_all(members: u64, v: &[(&'static str, u64)]) -> Vec<(&'static str, u64)> {
    let shares = apportion(members, &v.iter().map(|x| x.1).collect::<Vec<_>>());
    v.iter().map(|x| x.0).zip(shares).collect()
}

// ---------------------------------------------------------------------------------------------
// The tree

/// What a superior committee is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sector {
    /// A district, town or city: communes, district agencies, grassroots branches.
    Territorial { communes: usize },
    /// The provincial agencies-and-enterprises bloc.
    Bloc,
    /// Police or military.
    Armed,
}

struct Superior {
    code: &'static str,
    name: &'static str,
    kind: UnitKind,
    sector: Sector,
    /// Grassroots committees (not counting communes and district agencies).
    committees: usize,
    /// Of which set up on [`SPLIT_DAY`].
    new_committees: usize,
    /// Grassroots branches.
    grassroots_branches: usize,
    /// Admissions relative to the province (this committee's "drive").
    drive: u64,
}

const SUPERIORS: [Superior; 11] = [
    Superior {
        code: "VT",
        name: "Đảng bộ thành phố Vị Thanh",
        kind: UnitKind::City,
        sector: Sector::Territorial { communes: 9 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 108,
    },
    Superior {
        code: "NB",
        name: "Đảng bộ thành phố Ngã Bảy",
        kind: UnitKind::City,
        sector: Sector::Territorial { communes: 6 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 95,
    },
    Superior {
        code: "LMX",
        name: "Đảng bộ thị xã Long Mỹ",
        kind: UnitKind::Town,
        sector: Sector::Territorial { communes: 9 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 92,
    },
    Superior {
        code: "CT",
        name: "Đảng bộ huyện Châu Thành",
        kind: UnitKind::District,
        sector: Sector::Territorial { communes: 9 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 100,
    },
    Superior {
        code: "CTA",
        name: "Đảng bộ huyện Châu Thành A",
        kind: UnitKind::District,
        sector: Sector::Territorial { communes: 10 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 88,
    },
    Superior {
        code: "PH",
        name: "Đảng bộ huyện Phụng Hiệp",
        kind: UnitKind::District,
        sector: Sector::Territorial { communes: 14 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 82,
    },
    Superior {
        code: "VTH",
        name: "Đảng bộ huyện Vị Thủy",
        kind: UnitKind::District,
        sector: Sector::Territorial { communes: 10 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 90,
    },
    Superior {
        code: "LMH",
        name: "Đảng bộ huyện Long Mỹ",
        kind: UnitKind::District,
        sector: Sector::Territorial { communes: 8 },
        committees: 0,
        new_committees: 0,
        grassroots_branches: 30,
        drive: 86,
    },
    Superior {
        code: "KCQ",
        name: "Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh",
        kind: UnitKind::Bloc,
        sector: Sector::Bloc,
        committees: 40,
        new_committees: 4,
        grassroots_branches: 57,
        drive: 94,
    },
    Superior {
        code: "CA",
        name: "Đảng bộ Công an tỉnh",
        kind: UnitKind::Police,
        sector: Sector::Armed,
        committees: 18,
        new_committees: 0,
        grassroots_branches: 15,
        drive: 125,
    },
    Superior {
        code: "QS",
        name: "Đảng bộ Quân sự tỉnh",
        kind: UnitKind::Military,
        sector: Sector::Armed,
        committees: 14,
        new_committees: 0,
        grassroots_branches: 15,
        drive: 115,
    },
];

/// District agencies' grassroots committees per territorial superior.
const AGENCY_COMMITTEES: usize = 3;
/// Branches by category (as of 2023) and the branches merged away since 2018.
const HAMLET_BRANCHES: u64 = 525;
const COMMUNE_SECTOR_BRANCHES: u64 = 517;
const DISTRICT_SECTOR_BRANCHES: u64 = 175;
const PROVINCE_SECTOR_BRANCHES: u64 = 306;
const MERGED_BRANCHES: u64 = 196;
const MERGED_GRASSROOTS_BRANCHES: u64 = 31;

/// A branch category of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Hamlet,
    CommuneSector,
    DistrictSector,
    ProvinceSector,
    /// A grassroots branch (chi bộ cơ sở): no category.
    Grassroots,
}

impl Category {
    fn code(self) -> Option<&'static str> {
        match self {
            Category::Hamlet => Some("HAMLET"),
            Category::CommuneSector => Some("COMMUNE_SECTOR"),
            Category::DistrictSector => Some("DISTRICT_SECTOR"),
            Category::ProvinceSector => Some("PROVINCE_SECTOR"),
            Category::Grassroots => None,
        }
    }

    /// Typical members of such a branch (weights for sizes).
    fn typical_size(self) -> u64 {
        match self {
            Category::Hamlet => 16,
            Category::CommuneSector => 14,
            Category::DistrictSector => 16,
            Category::ProvinceSector => 22,
            Category::Grassroots => 20,
        }
    }

    fn letter(self) -> &'static str {
        match self {
            Category::Hamlet => "A",
            Category::CommuneSector => "N",
            Category::DistrictSector => "H",
            Category::ProvinceSector => "T",
            Category::Grassroots => "B",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Category::Hamlet => "Chi bộ ấp",
            Category::CommuneSector => "Chi bộ ngành xã",
            Category::DistrictSector => "Chi bộ ngành huyện",
            Category::ProvinceSector => "Chi bộ ngành tỉnh",
            Category::Grassroots => "Chi bộ cơ sở",
        }
    }
}

/// A unit that holds members, as the generator sees it.
#[derive(Debug, Clone)]
struct Holder {
    unit: usize,
    superior: usize,
    category: Category,
    /// Set up on [`SPLIT_DAY`]: its members came from `donor` then.
    donor: Option<usize>,
    /// Units merged into it, with the merge's day.
    merged: Vec<(usize, NaiveDate)>,
}

struct Tree {
    units: Vec<BulkUnit>,
    edges: Vec<BulkEdge>,
    events: Vec<BulkTreeEvent>,
    /// The holders existing on the snapshot day.
    holders: Vec<Holder>,
    /// One hamlet per hamlet branch, each linked to it while the branch exists.
    hamlets: Vec<BulkHamlet>,
    hamlet_links: Vec<BulkHamletLink>,
}

struct TreeBuilder<'a> {
    prefix: &'a str,
    tree: Tree,
}

impl TreeBuilder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        code: String,
        name: String,
        kind: UnitKind,
        category: Option<&'static str>,
        parent: Option<usize>,
        from: NaiveDate,
        to: Option<NaiveDate>,
    ) -> usize {
        let i = self.tree.units.len();
        self.tree.units.push(BulkUnit {
            code: format!("{}{code}", self.prefix),
            name,
            kind,
            branch_category: category,
            valid_from: from,
            valid_to: to,
            successor: None,
        });
        if let Some(p) = parent {
            self.tree.edges.push(BulkEdge {
                unit: i,
                parent: p,
                valid_from: from,
                valid_to: to,
            });
        }
        self.tree
            .events
            .push(BulkTreeEvent::Create { unit: i, parent });
        i
    }

    fn merge(&mut self, source: usize, target: usize, day: NaiveDate) {
        if let Some(u) = self.tree.units.get_mut(source) {
            u.successor = Some(target);
        }
        self.tree.events.push(BulkTreeEvent::Merge {
            sources: vec![source],
            target,
            date: day,
        });
    }
}

/// The province's tree: as of 31/10/2023 with the units of 2018 that were merged away.
fn build_tree(prefix: &str, province_name: &str, rng: &mut Rng) -> Tree {
    let mut b = TreeBuilder {
        prefix,
        tree: Tree {
            units: Vec::new(),
            edges: Vec::new(),
            events: Vec::new(),
            holders: Vec::new(),
            hamlets: Vec::new(),
            hamlet_links: Vec::new(),
        },
    };
    let root = b.add(
        "HG".into(),
        province_name.into(),
        UnitKind::Province,
        None,
        None,
        ESTABLISHED,
        None,
    );
    // Grassroots committees that hold branches, by category, per superior.
    let mut communes: Vec<(usize, usize)> = Vec::new(); // (superior, unit)
    let mut agencies: Vec<(usize, usize)> = Vec::new();
    let mut provincial: Vec<(usize, usize, bool)> = Vec::new(); // (superior, unit, new)
    let mut grassroots: Vec<Holder> = Vec::new();
    for (si, s) in SUPERIORS.iter().enumerate() {
        let sup = b.add(
            format!("HG-{}", s.code),
            s.name.into(),
            s.kind,
            None,
            Some(root),
            ESTABLISHED,
            None,
        );
        if let Sector::Territorial { communes: n } = s.sector {
            for c in 1..=n {
                let u = b.add(
                    format!("HG-{}-X{c:02}", s.code),
                    format!("Đảng bộ xã, phường số {c} ({})", s.name),
                    UnitKind::GrassrootsCommittee,
                    None,
                    Some(sup),
                    ESTABLISHED,
                    None,
                );
                communes.push((si, u));
            }
            for c in 1..=AGENCY_COMMITTEES {
                let u = b.add(
                    format!("HG-{}-CQ{c}", s.code),
                    format!("Đảng bộ cơ quan {c} ({})", s.name),
                    UnitKind::GrassrootsCommittee,
                    None,
                    Some(sup),
                    ESTABLISHED,
                    None,
                );
                agencies.push((si, u));
            }
        }
        for c in 1..=s.committees {
            let new = c > s.committees - s.new_committees;
            let from = if new { SPLIT_DAY } else { ESTABLISHED };
            let u = b.add(
                format!("HG-{}-DB{c:02}", s.code),
                format!("Đảng bộ cơ sở số {c} ({})", s.name),
                UnitKind::GrassrootsCommittee,
                None,
                Some(sup),
                from,
                None,
            );
            provincial.push((si, u, new));
        }
        for c in 1..=s.grassroots_branches {
            let u = b.add(
                format!("HG-{}-CB{c:03}", s.code),
                format!("Chi bộ cơ sở số {c} ({})", s.name),
                UnitKind::GrassrootsBranch,
                None,
                Some(sup),
                ESTABLISHED,
                None,
            );
            grassroots.push(Holder {
                unit: u,
                superior: si,
                category: Category::Grassroots,
                donor: None,
                merged: Vec::new(),
            });
        }
    }

    // Branches under grassroots committees, by category.
    let mut holders: Vec<Holder> = Vec::new();
    let add_branches = |b: &mut TreeBuilder<'_>,
                        holders: &mut Vec<Holder>,
                        owners: &[(usize, usize, bool)],
                        total: u64,
                        category: Category| {
        let counts = apportion(total, &vec![1; owners.len()]);
        for (&(si, owner, new), n) in owners.iter().zip(counts) {
            let from = if new { SPLIT_DAY } else { ESTABLISHED };
            let owner_code = b.tree.units[owner].code.clone();
            let short = owner_code
                .strip_prefix(b.prefix)
                .unwrap_or(&owner_code)
                .to_owned();
            for k in 1..=n {
                let u = b.add(
                    format!("{short}-{}{k:02}", category.letter()),
                    format!("{} số {k} ({})", category.label(), b.tree.units[owner].name),
                    UnitKind::Branch,
                    category.code(),
                    Some(owner),
                    from,
                    None,
                );
                holders.push(Holder {
                    unit: u,
                    superior: si,
                    category,
                    donor: None,
                    merged: Vec::new(),
                });
            }
        }
    };
    let commune_owners: Vec<(usize, usize, bool)> =
        communes.iter().map(|&(s, u)| (s, u, false)).collect();
    let agency_owners: Vec<(usize, usize, bool)> =
        agencies.iter().map(|&(s, u)| (s, u, false)).collect();
    let hamlet_start = holders.len();
    add_branches(
        &mut b,
        &mut holders,
        &commune_owners,
        HAMLET_BRANCHES,
        Category::Hamlet,
    );
    let hamlet_end = holders.len();
    add_branches(
        &mut b,
        &mut holders,
        &commune_owners,
        COMMUNE_SECTOR_BRANCHES,
        Category::CommuneSector,
    );
    add_branches(
        &mut b,
        &mut holders,
        &agency_owners,
        DISTRICT_SECTOR_BRANCHES,
        Category::DistrictSector,
    );
    add_branches(
        &mut b,
        &mut holders,
        &provincial,
        PROVINCE_SECTOR_BRANCHES,
        Category::ProvinceSector,
    );

    // Branches of the committees set up in 2020 took their members from an older
    // province-sector branch of the same superior.
    let old_province_sector: Vec<(usize, usize)> = holders
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.category == Category::ProvinceSector && b.tree.units[h.unit].valid_from == ESTABLISHED
        })
        .map(|(i, h)| (i, h.superior))
        .collect();
    for i in 0..holders.len() {
        let h = &holders[i];
        if h.category == Category::ProvinceSector && b.tree.units[h.unit].valid_from == SPLIT_DAY {
            let same: Vec<usize> = old_province_sector
                .iter()
                .filter(|(_, s)| *s == h.superior)
                .map(|(j, _)| holders[*j].unit)
                .collect();
            let pick = same
                .get(usize::try_from(rng.below(same.len() as u64)).unwrap_or(0))
                .copied();
            holders[i].donor = pick;
        }
    }

    // Hamlet branches merged away in 2019–2020 (hamlets were merged then), each into a
    // hamlet branch of the same commune.
    let merged_per_commune = apportion(MERGED_BRANCHES, &vec![1; communes.len()]);
    let per_commune_hamlets = apportion(HAMLET_BRANCHES, &vec![1; communes.len()]);
    let mut offset = hamlet_start;
    for ((&(_, commune), n_merged), n_hamlets) in communes
        .iter()
        .zip(merged_per_commune)
        .zip(per_commune_hamlets)
    {
        let n_hamlets = usize::try_from(n_hamlets).unwrap_or(0);
        let commune_code = b.tree.units[commune].code.clone();
        let short = commune_code
            .strip_prefix(b.prefix)
            .unwrap_or(&commune_code)
            .to_owned();
        for k in 0..usize::try_from(n_merged).unwrap_or(0) {
            let day = rng.date_between(date(2019, 7, 1), date(2020, 12, 31));
            let number = n_hamlets + k + 1;
            let u = b.add(
                format!("{short}-A{number:02}"),
                format!("Chi bộ ấp số {number} ({})", b.tree.units[commune].name),
                UnitKind::Branch,
                Category::Hamlet.code(),
                Some(commune),
                ESTABLISHED,
                Some(day),
            );
            let target = offset + usize::try_from(rng.below(n_hamlets.max(1) as u64)).unwrap_or(0);
            let target = target.min(hamlet_end.saturating_sub(1));
            b.merge(u, holders[target].unit, day);
            holders[target].merged.push((u, day));
        }
        offset += n_hamlets;
    }
    // Grassroots branches merged into another of the same territorial superior in 2019–2021.
    let territorial: Vec<usize> = SUPERIORS
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.sector, Sector::Territorial { .. }))
        .map(|(i, _)| i)
        .collect();
    let per_superior = apportion(MERGED_GRASSROOTS_BRANCHES, &vec![1; territorial.len()]);
    for (&si, n) in territorial.iter().zip(per_superior) {
        let s = &SUPERIORS[si];
        let mine: Vec<usize> = grassroots
            .iter()
            .enumerate()
            .filter(|(_, h)| h.superior == si)
            .map(|(i, _)| i)
            .collect();
        let sup_unit = b
            .tree
            .edges
            .iter()
            .find_map(|e| (e.unit == grassroots[mine[0]].unit).then_some(e.parent));
        for k in 0..usize::try_from(n).unwrap_or(0) {
            let day = rng.date_between(date(2019, 1, 1), date(2021, 12, 31));
            let number = s.grassroots_branches + k + 1;
            let u = b.add(
                format!("HG-{}-CB{number:03}", s.code),
                format!("Chi bộ cơ sở số {number} ({})", s.name),
                UnitKind::GrassrootsBranch,
                None,
                sup_unit,
                ESTABLISHED,
                Some(day),
            );
            let target = mine[usize::try_from(rng.below(mine.len() as u64)).unwrap_or(0)];
            b.merge(u, grassroots[target].unit, day);
            grassroots[target].merged.push((u, day));
        }
    }
    holders.extend(grassroots);
    b.tree.holders = holders;
    let commune_superior: HashMap<usize, usize> = communes.iter().map(|&(s, u)| (u, s)).collect();
    add_hamlets(&mut b.tree, &commune_superior);
    b.tree
}

/// The hamlets (ấp) and ward areas (khu vực, in the cities' communes) of the communes: one
/// per hamlet branch, 2018's included, existing while its branch exists and merged when it
/// was merged (the hamlet mergers of 2019–2020), each linked to its branch over that time.
/// The source report counts branches, not hamlets: it gives no hamlet without a branch, so
/// the generator makes none.
fn add_hamlets(tree: &mut Tree, commune_superior: &HashMap<usize, usize>) {
    let parent_of: HashMap<usize, usize> = tree.edges.iter().map(|e| (e.unit, e.parent)).collect();
    let mut hamlet_of: HashMap<usize, usize> = HashMap::new();
    for (i, u) in tree.units.iter().enumerate() {
        if u.branch_category != Category::Hamlet.code() {
            continue;
        }
        let Some(&commune) = parent_of.get(&i) else {
            continue;
        };
        let city = commune_superior
            .get(&commune)
            .is_some_and(|&s| SUPERIORS[s].kind == UnitKind::City);
        let kind = if city {
            HamletKind::WardArea
        } else {
            HamletKind::Hamlet
        };
        let rest = u
            .name
            .strip_prefix(Category::Hamlet.label())
            .unwrap_or(&u.name);
        hamlet_of.insert(i, tree.hamlets.len());
        tree.hamlet_links.push(BulkHamletLink {
            hamlet: tree.hamlets.len(),
            unit: i,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        });
        tree.hamlets.push(BulkHamlet {
            code: format!("{}-AP", u.code),
            name: format!("{}{rest}", capitalised(&kind.label().vi)),
            kind,
            unit: commune,
            valid_from: u.valid_from,
            valid_to: u.valid_to,
            successor: None,
        });
    }
    for (&unit, &h) in &hamlet_of {
        if let Some(target) = tree.units[unit].successor {
            tree.hamlets[h].successor = hamlet_of.get(&target).copied();
        }
    }
}

/// Where the members of the communes live: a member of a hamlet branch in its hamlet over
/// each period in the branch (`MERGED` from the day a merge brought them over), a member of a
/// commune-sector branch in one of the commune's hamlets existing on the snapshot day. Members
/// of other branches live outside the communes' register.
fn add_residences(batch: &mut BulkBatch, hamlets: &[BulkHamlet], links: &[BulkHamletLink]) {
    let hamlet_of: HashMap<usize, usize> = links.iter().map(|l| (l.unit, l.hamlet)).collect();
    let parent_of: HashMap<usize, usize> = batch.edges.iter().map(|e| (e.unit, e.parent)).collect();
    let mut lasting: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, h) in hamlets.iter().enumerate() {
        if h.valid_to.is_none() {
            lasting.entry(h.unit).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for m in &batch.memberships {
        let unit = &batch.units[m.unit];
        let hamlet = if let Some(&h) = hamlet_of.get(&m.unit) {
            Some(h)
        } else if unit.branch_category == Category::CommuneSector.code() {
            parent_of
                .get(&m.unit)
                .and_then(|c| lasting.get(c))
                .filter(|list| !list.is_empty())
                .map(|list| list[m.member % list.len()])
        } else {
            None
        };
        if let Some(hamlet) = hamlet {
            out.push(BulkResidence {
                member: m.member,
                hamlet,
                valid_from: m.valid_from,
                valid_to: m.valid_to,
                reason: if m.reason == "MERGED" {
                    "MERGED"
                } else {
                    "SET"
                },
            });
        }
    }
    batch.residences = out;
}

// ---------------------------------------------------------------------------------------------
// Members

/// What a member is there for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Admitted in this year of the period.
    Admitted(i32),
    /// Awarded a badge of this many years in the period.
    Badge(i32),
    /// Neither.
    Other,
}

/// The dates of birth of people in `band` on the snapshot day: `(earliest, latest)`.
fn band_births(band: AgeBand) -> (NaiveDate, NaiveDate) {
    let (lo, hi) = band.ages();
    // Aged `a` on the snapshot day: born in (snapshot - (a+1) years, snapshot - a years].
    let latest = add_years(SNAPSHOT, -lo);
    let earliest = match hi {
        Some(h) => add_days(add_years(SNAPSHOT, -(h + 1)), 1),
        None => add_years(SNAPSHOT, -95),
    };
    (earliest, latest)
}

fn pick_name(rng: &mut Rng, female: bool, ethnicity: &str) -> String {
    const FAMILY: [&str; 16] = [
        "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi", "Đặng",
        "Đỗ", "Ngô", "Hồ", "Dương", "Lý",
    ];
    const KHMER_FAMILY: [&str; 6] = ["Thạch", "Sơn", "Danh", "Lâm", "Kim", "Châu"];
    const HOA_FAMILY: [&str; 5] = ["Lý", "Quách", "Trịnh", "Lâm", "Tăng"];
    const MALE: [&str; 14] = [
        "Minh", "Hùng", "Dũng", "Tuấn", "Phong", "Khang", "Lộc", "Tài", "Nghĩa", "Thành", "Quang",
        "Hải", "Sơn", "Trung",
    ];
    const FEMALE: [&str; 14] = [
        "Lan",
        "Hương",
        "Mai",
        "Hoa",
        "Thảo",
        "Ngọc",
        "Trang",
        "Hạnh",
        "Yến",
        "Phượng",
        "Nhung",
        "Thủy",
        "Diễm",
        "Loan",
    ];
    const MIDDLE_M: [&str; 5] = ["Văn", "Minh", "Hữu", "Thanh", "Quốc"];
    const MIDDLE_F: [&str; 5] = ["Thị", "Ngọc", "Thanh", "Kim", "Thu"];
    let pick = |rng: &mut Rng, list: &[&'static str]| -> &'static str {
        list[usize::try_from(rng.below(list.len() as u64)).unwrap_or(0)]
    };
    let family = match ethnicity {
        "Khmer" => pick(rng, &KHMER_FAMILY),
        "Hoa" => pick(rng, &HOA_FAMILY),
        _ => pick(rng, &FAMILY),
    };
    let (middle, given) = if female {
        (pick(rng, &MIDDLE_F), pick(rng, &FEMALE))
    } else {
        (pick(rng, &MIDDLE_M), pick(rng, &MALE))
    };
    format!("{family} {middle} {given}")
}

/// A label list of `counts`, shuffled.
fn shuffled_labels<T: Copy>(rng: &mut Rng, counts: &[(T, u64)]) -> Vec<T> {
    let mut v: Vec<T> = counts
        .iter()
        .flat_map(|&(l, n)| std::iter::repeat_n(l, usize::try_from(n).unwrap_or(0)))
        .collect();
    rng.shuffle(&mut v);
    v
}

/// The unit periods of a member who ends up in `holder` (or leaves from it on `end`), joining
/// on `join`: through a unit merged into it, or the branch it was split from.
fn unit_history(
    rng: &mut Rng,
    holder: &Holder,
    units: &[BulkUnit],
    join: NaiveDate,
    end: Option<NaiveDate>,
    reason: &'static str,
) -> Vec<(usize, NaiveDate, Option<NaiveDate>, &'static str)> {
    let before = |d: NaiveDate| end.is_none_or(|e| d < e);
    let mut out = Vec::new();
    let own_from = units[holder.unit].valid_from;
    if let Some(donor) = holder.donor
        && join < own_from
    {
        let cut = end.map_or(own_from, |e| e.min(own_from));
        out.push((donor, join, Some(cut), reason));
        if before(own_from) {
            out.push((holder.unit, own_from, end, "TRANSFERRED"));
        }
        return out;
    }
    // A merged unit is about a third the size of the one it joined.
    if !holder.merged.is_empty() && rng.chance(350) {
        let (source, day) =
            holder.merged[usize::try_from(rng.below(holder.merged.len() as u64)).unwrap_or(0)];
        if join < day {
            let cut = end.map_or(day, |e| e.min(day));
            out.push((source, join, Some(cut), reason));
            if before(day) {
                out.push((holder.unit, day, end, "MERGED"));
            }
            return out;
        }
    }
    out.push((holder.unit, join, end, reason));
    out
}

fn unit_at(periods: &[(usize, NaiveDate, Option<NaiveDate>, &'static str)], d: NaiveDate) -> usize {
    periods
        .iter()
        .find(|p| p.1 <= d && p.2.is_none_or(|t| d < t))
        .or_else(|| periods.iter().rev().find(|p| p.1 <= d))
        .or_else(|| periods.first())
        .map_or(0, |p| p.0)
}

/// A whole province: tree and members.
pub fn province(figures: &Figures, prefix: &str, name: &str, seed: u64) -> BulkBatch {
    let rng = Rng::new(seed);
    let tree = build_tree(prefix, name, &mut rng.fork(1));
    let mut rng_sizes = rng.fork(2);
    let holders = &tree.holders;
    let armed = |h: &Holder| SUPERIORS[h.superior].sector == Sector::Armed;

    // Sizes on the snapshot day (every member of the police and military is of the armed
    // forces), then the admissions of each year spread over the units by size and by each
    // superior's drive.
    let size_weights: Vec<u64> = holders
        .iter()
        .map(|h| h.category.typical_size() * (60 + rng_sizes.below(81)))
        .collect();
    let armed_total = figures.occupation_count(ARMED_FORCES);
    let mut sizes = vec![0u64; holders.len()];
    for (group, total) in [(true, armed_total), (false, figures.members - armed_total)] {
        let idx: Vec<usize> = (0..holders.len())
            .filter(|&i| armed(&holders[i]) == group)
            .collect();
        let w: Vec<u64> = idx.iter().map(|&i| size_weights[i]).collect();
        for (&i, k) in idx.iter().zip(apportion(total, &w)) {
            sizes[i] = k;
        }
    }
    let mut admits: Vec<Vec<(i32, u64)>> = vec![Vec::new(); holders.len()];
    for &(year, n) in &figures.admissions {
        let w: Vec<u64> = holders
            .iter()
            .zip(&sizes)
            .map(|(h, size)| size * SUPERIORS[h.superior].drive * (80 + rng_sizes.below(41)))
            .collect();
        for (i, k) in apportion(n, &w).into_iter().enumerate() {
            if k > 0 {
                admits[i].push((year, k));
            }
        }
    }
    // A unit never admits more than it has members: should the spread say so, the unit
    // grows and the largest unit of its group shrinks.
    for i in 0..holders.len() {
        let a: u64 = admits[i].iter().map(|x| x.1).sum();
        if a > sizes[i] {
            let extra = a - sizes[i];
            let group = armed(&holders[i]);
            let largest = (0..holders.len())
                .filter(|&j| armed(&holders[j]) == group && j != i)
                .max_by_key(|&j| sizes[j]);
            if let Some(j) = largest {
                sizes[j] = sizes[j].saturating_sub(extra);
                sizes[i] = a;
            }
        }
    }
    let others: Vec<u64> = (0..holders.len())
        .map(|i| sizes[i].saturating_sub(admits[i].iter().map(|x| x.1).sum()))
        .collect();

    // Age bands: admissions take the young bands, badges the old ones.
    let mut rng_people = rng.fork(3);
    let mut band_left: Vec<u64> = figures.age_bands.to_vec();
    let admit_bands = {
        let total = figures.admissions_total();
        let shares = apportion(total, &[700, 200, 80, 20]);
        for (b, s) in band_left.iter_mut().zip(&shares) {
            *b = b.saturating_sub(*s);
        }
        let pairs: Vec<(AgeBand, u64)> = AgeBand::ALL.iter().copied().zip(shares).collect();
        shuffled_labels(&mut rng_people, &pairs)
    };
    let mut badge_roles: Vec<(Role, AgeBand)> = Vec::new();
    for &(years, n) in &figures.badges {
        if years <= 30 {
            let shares = apportion(n, &[800, 1000, 267]);
            for (band, k) in [AgeBand::From51To55, AgeBand::From56To60, AgeBand::Over60]
                .into_iter()
                .zip(shares)
            {
                let idx = AgeBand::ALL.iter().position(|b| *b == band).unwrap_or(0);
                let k = k.min(band_left[idx]);
                band_left[idx] -= k;
                for _ in 0..k {
                    badge_roles.push((Role::Badge(years), band));
                }
            }
        } else {
            let k = n.min(band_left[7]);
            band_left[7] -= k;
            for _ in 0..k {
                badge_roles.push((Role::Badge(years), AgeBand::Over60));
            }
        }
    }
    let mut rest: Vec<(Role, AgeBand)> = badge_roles;
    for (band, n) in AgeBand::ALL.iter().zip(&band_left) {
        for _ in 0..*n {
            rest.push((Role::Other, *band));
        }
    }
    rng_people.shuffle(&mut rest);

    // Place everyone: (holder, role, band).
    let mut people: Vec<(usize, Role, AgeBand)> =
        Vec::with_capacity(usize::try_from(figures.members).unwrap_or(0));
    let mut admit_bands = admit_bands.into_iter();
    let mut rest = rest.into_iter();
    for (i, list) in admits.iter().enumerate() {
        for &(year, k) in list {
            for _ in 0..k {
                let band = admit_bands.next().unwrap_or(AgeBand::UpTo30);
                people.push((i, Role::Admitted(year), band));
            }
        }
        for _ in 0..others[i] {
            let (role, band) = rest.next().unwrap_or((Role::Other, AgeBand::From41To45));
            people.push((i, role, band));
        }
    }

    // Attributes, dealt out of shuffled lists; students among the youngest, retirees among
    // the oldest, the armed forces in the police and military.
    let mut sexes = shuffled_labels(
        &mut rng_people,
        &[
            ("FEMALE", figures.women),
            ("MALE", figures.members - figures.women),
        ],
    )
    .into_iter();
    let mut ethnicities = shuffled_labels(&mut rng_people, &figures.ethnicity).into_iter();
    let no_religion = figures.members - figures.religion.iter().map(|x| x.1).sum::<u64>();
    let religion_counts: Vec<(Option<&'static str>, u64)> = figures
        .religion
        .iter()
        .map(|&(r, n)| (Some(r), n))
        .chain(std::iter::once((None, no_religion)))
        .collect();
    let mut religions = shuffled_labels(&mut rng_people, &religion_counts).into_iter();
    // An applicant's schooling is on their file (E4): no admission of the period goes without
    // it, so the unrecorded ones are dealt to members admitted earlier.
    let mut education_labels = shuffled_labels(&mut rng_people, &figures.education);
    let admitted_at = |k: usize| matches!(people.get(k), Some((_, Role::Admitted(_), _)));
    for k in 0..education_labels.len() {
        if admitted_at(k)
            && education_labels[k] == "NOT_RECORDED"
            && let Some(j) = (0..education_labels.len())
                .find(|&j| !admitted_at(j) && education_labels[j] != "NOT_RECORDED")
        {
            education_labels.swap(k, j);
        }
    }
    let mut educations = education_labels.into_iter();
    let occupations = assign_occupations(&mut rng_people, figures, &people, holders);

    let mut batch = BulkBatch {
        id_seed: seed,
        ..BulkBatch::default()
    };
    let mut rng_dates = rng.fork(4);
    let mut discipline_pool: Vec<(usize, NaiveDate)> = Vec::new();
    for (k, &(holder_i, role, band)) in people.iter().enumerate() {
        let holder = &holders[holder_i];
        let (b_lo, b_hi) = band_births(band);
        let (decision, dob, badge_day) = match role {
            Role::Admitted(year) => {
                let from = date(year, 1, 1);
                let to = date(year, 12, 31).min(SNAPSHOT);
                let decision = rng_dates.date_between(from, to);
                // 18 by the branch's vote, a month or so before the decision (E1).
                let latest = b_hi.min(add_days(add_years(decision, -18), -60));
                (
                    decision,
                    rng_dates.date_between(b_lo, latest.max(b_lo)),
                    None,
                )
            }
            Role::Badge(years) => {
                let award = badge_day(&mut rng_dates);
                let decision = add_days(add_years(award, -years), -rng_dates.between(0, 330));
                let lo = if band == AgeBand::Over60 {
                    add_years(decision, -25)
                } else {
                    b_lo
                };
                let latest = b_hi.min(add_years(decision, -18));
                (
                    decision,
                    rng_dates.date_between(lo.min(latest), latest),
                    Some((years, award)),
                )
            }
            Role::Other => {
                let latest = b_hi.min(date(1999, 12, 31));
                let dob = rng_dates.date_between(b_lo.min(latest), latest);
                let earliest = add_years(dob, 18).max(date(1965, 1, 1));
                let decision =
                    rng_dates.date_between(earliest.min(date(2017, 12, 31)), date(2017, 12, 31));
                (decision, dob, None)
            }
        };
        // Within 30 working days of the decision (A11).
        let ceremony = add_days(decision, rng_dates.between(7, 35));
        let ceremony = (ceremony <= SNAPSHOT).then_some(ceremony);
        let official = ceremony
            .and_then(|c| c.checked_add_months(Months::new(12)))
            .filter(|o| *o <= SNAPSHOT);
        let sex = sexes.next().unwrap_or("MALE");
        let ethnicity = ethnicities.next().unwrap_or("Kinh");
        let member = batch.members.len();
        batch.members.push(BulkMember {
            party_card_number: Some(format!("{prefix}{:08}", batch.members.len() + 1)),
            full_name: pick_name(&mut rng_dates, sex == "FEMALE", ethnicity),
            date_of_birth: dob,
            sex,
            ethnicity,
            religion: religions.next().flatten(),
            education: educations.next().unwrap_or("UPPER_SECONDARY"),
            occupation: occupations.get(k).copied(),
            admission_decision_date: Some(decision),
            ceremony_date: ceremony,
            official_date: official,
            email: None,
        });
        let (join, reason) = if decision < ESTABLISHED {
            (ESTABLISHED, "REGISTERED")
        } else {
            (decision, "ADMITTED")
        };
        let periods = unit_history(&mut rng_dates, holder, &tree.units, join, None, reason);
        push_statuses(&mut batch, member, decision, official, None);
        if let Some((years, award)) = badge_day {
            batch.badges.push(BulkBadge {
                member,
                years,
                award_date: award,
            });
        }
        discipline_pool.push((member, decision));
        for (unit, from, to, reason) in &periods {
            batch.memberships.push(BulkMembership {
                member,
                unit: *unit,
                valid_from: *from,
                valid_to: *to,
                reason,
            });
        }
    }

    // Discipline of serving members: reprimand, warning, removal from post.
    let mut rng_disc = rng.fork(5);
    rng_disc.shuffle(&mut discipline_pool);
    let mut pool = discipline_pool.into_iter();
    let expulsions = figures
        .discipline
        .iter()
        .find(|d| d.0 == "expulsion")
        .map_or(0, |d| d.1);
    for &(form, n) in figures.discipline.iter().filter(|d| d.0 != "expulsion") {
        for _ in 0..n {
            // Removal from post falls on official members only (D3: a probationary member is
            // only reprimanded or warned), from their official date.
            let Some((member, admitted)) = pool.by_ref().find(|&(m, _)| {
                form != "removal"
                    || batch.members[m]
                        .official_date
                        .is_some_and(|o| add_days(o, 60) < SNAPSHOT)
            }) else {
                break;
            };
            let admitted = if form == "removal" {
                batch.members[member].official_date.unwrap_or(admitted)
            } else {
                admitted
            };
            let from = add_days(admitted, 60).max(PERIOD_START).min(SNAPSHOT);
            let day = rng_disc.date_between(from, SNAPSHOT);
            let unit = unit_at(&member_periods(&batch, member), day);
            batch.discipline.push(BulkDiscipline {
                member,
                unit,
                form,
                decision_date: day,
                case: None,
                status: DisciplineStatus::InForce,
                status_date: None,
                decision_number: None,
                body: None,
            });
        }
    }

    // Members who left in the period: struck off (xóa tên) and expelled (khai trừ).
    let weights: Vec<u64> = holders
        .iter()
        .zip(&size_weights)
        .map(|(h, w)| if armed(h) { w / 4 } else { *w })
        .collect();
    let mut rng_left = rng.fork(6);
    let leavers: Vec<(MemberStatus, Option<&'static str>)> = std::iter::repeat_n(
        (MemberStatus::StruckOff, None),
        usize::try_from(figures.struck_off).unwrap_or(0),
    )
    .chain(std::iter::repeat_n(
        (MemberStatus::Expelled, Some("expulsion")),
        usize::try_from(expulsions).unwrap_or(0),
    ))
    .collect();
    let per_holder = apportion(leavers.len() as u64, &weights);
    let mut slots: Vec<usize> = per_holder
        .iter()
        .enumerate()
        .flat_map(|(i, n)| std::iter::repeat_n(i, usize::try_from(*n).unwrap_or(0)))
        .collect();
    rng_left.shuffle(&mut slots);
    for ((status, form), holder_i) in leavers.into_iter().zip(slots) {
        let holder = &holders[holder_i];
        let left = rng_left.date_between(PERIOD_START, SNAPSHOT);
        let dob = rng_left.date_between(date(1950, 1, 1), date(1995, 12, 31));
        let decision =
            rng_left.date_between(add_years(dob, 18).max(date(1975, 1, 1)), date(2016, 12, 31));
        let ceremony = add_days(decision, rng_left.between(7, 45));
        let official = ceremony.checked_add_months(Months::new(12));
        let female = rng_left.chance(300);
        let member = batch.members.len();
        batch.members.push(BulkMember {
            party_card_number: Some(format!("{prefix}{:08}", batch.members.len() + 1)),
            full_name: pick_name(&mut rng_left, female, "Kinh"),
            date_of_birth: dob,
            sex: if female { "FEMALE" } else { "MALE" },
            ethnicity: "Kinh",
            religion: None,
            education: "UPPER_SECONDARY",
            occupation: Some(if armed(holder) { ARMED_FORCES } else { "OTHER" }),
            admission_decision_date: Some(decision),
            ceremony_date: Some(ceremony),
            official_date: official,
            email: None,
        });
        let (join, reason) = if decision < ESTABLISHED {
            (ESTABLISHED, "REGISTERED")
        } else {
            (decision, "ADMITTED")
        };
        let periods = unit_history(&mut rng_left, holder, &tree.units, join, Some(left), reason);
        push_statuses(&mut batch, member, decision, official, Some((status, left)));
        if let Some(form) = form {
            batch.discipline.push(BulkDiscipline {
                member,
                unit: unit_at(&periods, left),
                form,
                decision_date: left,
                case: None,
                status: DisciplineStatus::InForce,
                status_date: None,
                decision_number: None,
                body: None,
            });
        }
        for (unit, from, to, reason) in periods {
            batch.memberships.push(BulkMembership {
                member,
                unit,
                valid_from: from,
                valid_to: to,
                reason,
            });
        }
    }

    batch.units = tree.units;
    batch.edges = tree.edges;
    batch.tree_events = tree.events;
    add_residences(&mut batch, &tree.hamlets, &tree.hamlet_links);
    batch.hamlets = tree.hamlets;
    batch.hamlet_links = tree.hamlet_links;
    batch
}

fn member_periods(
    batch: &BulkBatch,
    member: usize,
) -> Vec<(usize, NaiveDate, Option<NaiveDate>, &'static str)> {
    batch
        .memberships
        .iter()
        .filter(|m| m.member == member)
        .map(|m| (m.unit, m.valid_from, m.valid_to, m.reason))
        .collect()
}

/// A badge ceremony day in the period: 3/2, 19/5, 2/9 or 7/11 of a year.
fn badge_day(rng: &mut Rng) -> NaiveDate {
    const DAYS: [(u32, u32); 4] = [(2, 3), (5, 19), (9, 2), (11, 7)];
    loop {
        let year = i32::try_from(rng.between(2018, 2023)).unwrap_or(2018);
        let (m, d) = DAYS[usize::try_from(rng.below(4)).unwrap_or(0)];
        let day = date(year, m, d);
        if (PERIOD_START..=SNAPSHOT).contains(&day) {
            return day;
        }
    }
}

/// Probationary from the decision (A15), official from ceremony + 12 months (A14), and the
/// leaving status from its day.
fn push_statuses(
    batch: &mut BulkBatch,
    member: usize,
    decision: NaiveDate,
    official: Option<NaiveDate>,
    left: Option<(MemberStatus, NaiveDate)>,
) {
    let end = left.map(|l| l.1);
    match official {
        Some(o) if end.is_none_or(|e| o < e) => {
            batch.statuses.push(BulkStatus {
                member,
                status: MemberStatus::Probationary,
                valid_from: decision,
                valid_to: Some(o),
            });
            batch.statuses.push(BulkStatus {
                member,
                status: MemberStatus::Official,
                valid_from: o,
                valid_to: end,
            });
        }
        _ => batch.statuses.push(BulkStatus {
            member,
            status: MemberStatus::Probationary,
            valid_from: decision,
            valid_to: end,
        }),
    }
    if let Some((status, day)) = left {
        batch.statuses.push(BulkStatus {
            member,
            status,
            valid_from: day,
            valid_to: None,
        });
    }
}

/// Occupations: the armed forces are the police and military members; students go to the
/// youngest band, retirees to the oldest; the rest are dealt at random.
fn assign_occupations(
    rng: &mut Rng,
    figures: &Figures,
    people: &[(usize, Role, AgeBand)],
    holders: &[Holder],
) -> Vec<&'static str> {
    let mut out: Vec<Option<&'static str>> = vec![None; people.len()];
    for (i, p) in people.iter().enumerate() {
        if SUPERIORS[holders[p.0].superior].sector == Sector::Armed {
            out[i] = Some(ARMED_FORCES);
        }
    }
    for (code, band) in [("STUDENT", AgeBand::UpTo30), ("RETIRED", AgeBand::Over60)] {
        let mut candidates: Vec<usize> = (0..people.len())
            .filter(|&i| out[i].is_none() && people[i].2 == band)
            .collect();
        rng.shuffle(&mut candidates);
        let n = usize::try_from(figures.occupation_count(code)).unwrap_or(0);
        for &i in candidates.iter().take(n) {
            out[i] = Some(code);
        }
    }
    let dealt: Vec<(&'static str, u64)> = figures
        .occupation
        .iter()
        .filter(|o| ![ARMED_FORCES, "STUDENT", "RETIRED"].contains(&o.0))
        .copied()
        .collect();
    let mut deck = shuffled_labels(rng, &dealt).into_iter();
    out.into_iter()
        .map(|o| o.or_else(|| deck.next()).unwrap_or("OTHER"))
        .collect()
}

/// A country of `members` members: provinces of the demo province's shape, each about as
/// large as Hậu Giang, under a central root. Returns the batches in loading order (the root
/// first, alone).
pub fn national(members: u64, seed: u64) -> (BulkBatch, Vec<(String, Figures, u64)>) {
    let per_province = Figures::hau_giang_2023().members;
    let provinces = members.div_ceil(per_province).max(1);
    let sizes = apportion(members, &vec![1; usize::try_from(provinces).unwrap_or(1)]);
    let mut root = BulkBatch {
        id_seed: seed,
        id_order: Some(0),
        attach_under: None,
        ..BulkBatch::default()
    };
    root.units.push(BulkUnit {
        code: "TW".into(),
        name: Level::Central.committee().vi,
        kind: UnitKind::Central,
        branch_category: None,
        valid_from: ESTABLISHED,
        valid_to: None,
        successor: None,
    });
    root.tree_events.push(BulkTreeEvent::Create {
        unit: 0,
        parent: None,
    });
    let base = Figures::hau_giang_2023();
    let plan = sizes
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            (
                format!("P{:03}-", i + 1),
                base.scaled(n),
                seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9)),
            )
        })
        .collect();
    (root, plan)
}

/// The year a member's admission falls in, for tests of the generator.
pub fn admission_years(batch: &BulkBatch) -> std::collections::BTreeMap<i32, u64> {
    let mut out = std::collections::BTreeMap::new();
    for m in &batch.members {
        if let Some(d) = m.admission_decision_date
            && (PERIOD_START..=SNAPSHOT).contains(&d)
        {
            *out.entry(d.year()).or_default() += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Running it

/// The demo organizations.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DemoCommand {
    /// The province of the source report (docs/demo.md), as of 30/6/2023.
    #[command(name = "hau-giang-2023")]
    HauGiang2023 {
        /// The generator's seed: the same seed builds the same province.
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Cases walked and loaded per round (memory against round trips; the province
        /// built is the same whatever the size).
        #[arg(long, default_value_t = crate::demo_cases::CASES_PER_ROUND as u64, value_parser = clap::value_parser!(u64).range(1..))]
        cases_per_round: u64,
    },
    /// A synthetic country of provinces of the same shape, for benchmarks.
    National {
        /// Members in all (about 33,509 per province).
        #[arg(long, default_value_t = 5_600_000)]
        members: u64,
        /// The generator's seed.
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
}

/// Progress on standard error: a line rewritten in place on a terminal, one line per stage
/// otherwise.
struct Progress {
    label: String,
    tty: bool,
}

impl Progress {
    fn report(&mut self, stage: &str, done: u64, total: u64) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{} {stage}: {done}/{total}", self.label);
            if done >= total {
                let _ = writeln!(err);
            }
        } else if done >= total {
            let _ = writeln!(err, "{} {stage}: {total}", self.label);
        }
    }
}

async fn load(
    store: &Store,
    batch: &BulkBatch,
    rounds: &mut dyn BulkCaseRounds,
    label: String,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut p = Progress {
        label,
        tty: std::io::stderr().is_terminal(),
    };
    let mut report = |stage: &str, done: u64, total: u64| p.report(stage, done, total);
    store
        .stats()
        .bulk_load_rounds(batch, rounds, now, &mut report)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(t) => anyhow::anyhow!("{} / {}", t.vi, t.en),
            other => anyhow::Error::new(other).context("loading the demo"),
        })
}

/// Provinces of the national demo loaded at once on PostgreSQL (after the first).
const NATIONAL_LOADS: usize = 2;

/// The national demo's provinces have no cases.
struct NoCases;

impl BulkCaseRounds for NoCases {
    fn total(&self) -> u64 {
        0
    }
    fn next_round(&mut self) -> Result<Option<memberflow_store::BulkCaseRound>, String> {
        Ok(None)
    }
}

/// The domain of every address the demo gives out: `example.vn`, reserved for examples, so
/// that mail to the demo's people reaches a local SMTP sink and nobody else.
pub const MAIL_DOMAIN: &str = "example.vn";

/// Gives the province's people addresses: each member `dvNNNNN@example.vn` (by their place in
/// the batch), and, for each unit standing at the end, the holders of the roles its mail is
/// addressed to — the secretary of each branch (`bithu.<code>`), the standing committee and the
/// inspection commission of each committee (`thuongvu.<code>`, `ubkt.<code>`) — as accounts
/// with the role at the unit and the address `<login>@example.vn`. The accounts have no
/// password: nobody logs in as them until an administrator gives them one.
pub fn add_addresses(batch: &mut BulkBatch) {
    for (i, m) in batch.members.iter_mut().enumerate() {
        m.email = Some(format!("dv{:05}@{MAIL_DOMAIN}", i + 1));
    }
    let mut accounts = Vec::new();
    for (i, u) in batch.units.iter().enumerate() {
        if u.valid_to.is_some() {
            continue;
        }
        let code = u.code.to_lowercase();
        let roles: &[(&str, &'static str)] = if u.kind.holds_members() {
            &[("bithu", "secretary")]
        } else {
            &[
                ("thuongvu", "standing_committee"),
                ("ubkt", "inspection_commission"),
            ]
        };
        for (prefix, role) in roles {
            let username = format!("{prefix}.{code}");
            accounts.push(BulkAccount {
                email: format!("{username}@{MAIL_DOMAIN}"),
                username,
                grants: vec![(role, i)],
            });
        }
    }
    batch.accounts = accounts;
}

/// Builds the demo `cmd` asks for into `store`, with progress and timings on standard error.
pub async fn run(
    store: &Store,
    catalog: &Catalog,
    cmd: &DemoCommand,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    match cmd {
        DemoCommand::HauGiang2023 {
            seed,
            cases_per_round,
        } => {
            let mut batch = province(
                &Figures::hau_giang_2023(),
                "",
                "Đảng bộ tỉnh Hậu Giang",
                *seed,
            );
            add_addresses(&mut batch);
            let generated = started.elapsed();
            eprintln!(
                "generated {} units and {} members (seed {seed}) in {:.2} s; the cases are walked and loaded {cases_per_round} at a time",
                batch.units.len(),
                batch.members.len(),
                generated.as_secs_f64(),
            );
            let discipline = std::mem::take(&mut batch.discipline);
            let mut walker = crate::demo_cases::CaseWalker::new(
                &batch,
                discipline,
                catalog,
                usize::try_from(*cases_per_round).unwrap_or(usize::MAX),
            );
            load(store, &batch, &mut walker, "hau-giang-2023".into(), now).await?;
            let recorded = walker.recorded;
            eprintln!(
                "built the Hậu Giang 2023 demo in {:.2} s ({} cases: {} admissions, {} discipline; {} steps, {} still open on {SNAPSHOT})",
                started.elapsed().as_secs_f64(),
                recorded.admissions + recorded.discipline,
                recorded.admissions,
                recorded.discipline,
                recorded.steps,
                recorded.open,
            );
            println!(
                "demo hau-giang-2023: {} units, {} members, {} cases, {} accounts receiving the roles' mail (addresses @{MAIL_DOMAIN}); try `memberflow report targets --year 2022`",
                batch.units.len(),
                batch.members.len(),
                recorded.admissions + recorded.discipline,
                batch.accounts.len()
            );
        }
        DemoCommand::National { members, seed } => {
            let (root, plan) = national(*members, *seed);
            // On an empty PostgreSQL registry the members' tables' indexes and the foreign keys
            // are made once at the end rather than kept row by row (`Store::defer_indexes`).
            let deferred = store.defer_indexes().await?;
            if let Some(d) = &deferred {
                eprintln!(
                    "{} indexes and foreign keys deferred to the end of the build: {}",
                    d.names().len(),
                    d.names().join(", ")
                );
            }
            load(store, &root, &mut NoCases, "national".into(), now).await?;
            let n = plan.len();
            let (mut units, mut people) = (root.units.len(), 0usize);
            // Each province is generated on a blocking thread and loaded in its own
            // transaction. The first alone (on a registry without members it builds the
            // counters); then, on PostgreSQL, `NATIONAL_LOADS` at a time on as many
            // connections: one backend writes one province at a time, so two use both cores
            // of a small machine. Their counters and aggregates are added under the counters'
            // lock (`lock_counters`), one province after the other, in whatever order they
            // come; the sums are the same.
            let parallel = match store.backend() {
                Backend::Postgres => NATIONAL_LOADS,
                Backend::Sqlite => 1,
            };
            let load_one = |i: usize, (prefix, figures, province_seed): (String, Figures, u64)| async move {
                let mut batch = tokio::task::spawn_blocking(move || {
                    province(
                        &figures,
                        &prefix,
                        &format!("Đảng bộ tỉnh số {}", i + 1),
                        province_seed,
                    )
                })
                .await?;
                batch.attach_under = Some("TW".into());
                // The provinces' ids in loading order: each province's rows go at the end
                // of the indexes keyed by them, whatever the country's size.
                batch.id_order = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
                load(
                    store,
                    &batch,
                    &mut NoCases,
                    format!("province {}/{n}", i + 1),
                    now,
                )
                .await?;
                anyhow::Ok((batch.units.len(), batch.members.len()))
            };
            let mut plan = plan.into_iter().enumerate();
            if let Some((i, p)) = plan.next() {
                let (u, m) = load_one(i, p).await?;
                units += u;
                people += m;
            }
            let mut loads = futures::stream::iter(plan)
                .map(|(i, p)| load_one(i, p))
                .buffer_unordered(parallel);
            while let Some(done) = loads.next().await {
                let (u, m) = done?;
                units += u;
                people += m;
            }
            if let Some(d) = deferred {
                let building = Instant::now();
                let built = d.build(store).await?;
                eprintln!(
                    "made {built} deferred indexes and foreign keys in {:.2} s",
                    building.elapsed().as_secs_f64()
                );
            }
            eprintln!(
                "built the national demo ({n} provinces) in {:.2} s",
                started.elapsed().as_secs_f64()
            );
            println!("demo national: {n} provinces, {units} units, {people} members");
        }
    }
    // Statistics for the planner; SQLite: the log goes into the database file, truncated.
    store.after_bulk_load().await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use memberflow_workflow::stats::age_on;

    use super::*;

    fn members_on(batch: &BulkBatch, d: NaiveDate) -> Vec<usize> {
        let mut ok = vec![false; batch.members.len()];
        for s in &batch.statuses {
            if s.status.is_member() && s.valid_from <= d && s.valid_to.is_none_or(|t| d < t) {
                ok[s.member] = true;
            }
        }
        (0..batch.members.len()).filter(|&i| ok[i]).collect()
    }

    #[test]
    fn the_province_has_the_report_s_tree_in_2023_and_in_2018() {
        let b = province(
            &Figures::hau_giang_2023(),
            "",
            "Đảng bộ tỉnh Hậu Giang",
            2023,
        );
        let count = |d: NaiveDate, k: UnitKind| {
            b.units
                .iter()
                .filter(|u| u.kind == k && u.valid_from <= d && u.valid_to.is_none_or(|t| d < t))
                .count()
        };
        let oct = date(2023, 10, 31);
        let superior = b
            .units
            .iter()
            .filter(|u| {
                matches!(
                    u.kind,
                    UnitKind::City
                        | UnitKind::Town
                        | UnitKind::District
                        | UnitKind::Bloc
                        | UnitKind::Police
                        | UnitKind::Military
                )
            })
            .count();
        assert_eq!(superior, 11);
        assert_eq!(count(oct, UnitKind::GrassrootsCommittee), 171);
        assert_eq!(count(oct, UnitKind::GrassrootsBranch), 327);
        assert_eq!(count(oct, UnitKind::Branch), 1_523);
        let jan = date(2018, 1, 1);
        assert_eq!(count(jan, UnitKind::GrassrootsCommittee), 167);
        assert_eq!(count(jan, UnitKind::GrassrootsBranch), 358);
        assert_eq!(count(jan, UnitKind::Branch), 1_703);
        let mut cats: BTreeMap<&str, usize> = BTreeMap::new();
        for u in b.units.iter().filter(|u| u.valid_to.is_none()) {
            if let Some(c) = u.branch_category {
                *cats.entry(c).or_default() += 1;
            }
        }
        assert_eq!(cats["HAMLET"], 525);
        assert_eq!(cats["COMMUNE_SECTOR"], 517);
        assert_eq!(cats["DISTRICT_SECTOR"], 175);
        assert_eq!(cats["PROVINCE_SECTOR"], 306);
    }

    #[test]
    fn the_province_has_the_report_s_members_and_is_deterministic() {
        let f = Figures::hau_giang_2023();
        let b = province(&f, "", "Hậu Giang", 7);
        let now = members_on(&b, SNAPSHOT);
        assert_eq!(now.len(), 33_509);
        let women = now
            .iter()
            .filter(|&&i| b.members[i].sex == "FEMALE")
            .count();
        assert_eq!(women, 11_262);
        let mut bands: BTreeMap<AgeBand, u64> = BTreeMap::new();
        for &i in &now {
            let age = age_on(b.members[i].date_of_birth, SNAPSHOT);
            *bands.entry(AgeBand::of_age(age)).or_default() += 1;
        }
        assert_eq!(
            bands.values().copied().collect::<Vec<_>>(),
            f.age_bands.to_vec()
        );
        let years: Vec<(i32, u64)> = admission_years(&b).into_iter().collect();
        assert_eq!(years, f.admissions);
        let forms: HashMap<&str, u64> = b.discipline.iter().fold(HashMap::new(), |mut m, d| {
            *m.entry(d.form).or_default() += 1;
            m
        });
        assert_eq!(forms["reprimand"], 469);
        assert_eq!(forms["expulsion"], 60);
        assert_eq!(b.badges.len(), 4_070);
        // Everyone was at least 18 at the decision.
        for m in &b.members {
            let d = m.admission_decision_date.unwrap();
            assert!(age_on(m.date_of_birth, d) >= 18, "{m:?}");
            if let (Some(c), Some(o)) = (m.ceremony_date, m.official_date) {
                assert_eq!(c.checked_add_months(Months::new(12)), Some(o));
            }
        }
        let again = province(&f, "", "Hậu Giang", 7);
        assert_eq!(again.members.len(), b.members.len());
        assert_eq!(again.members[100].full_name, b.members[100].full_name);
        assert_eq!(again.memberships.len(), b.memberships.len());
    }

    /// `(hamlets existing on d, of which linked to a branch existing that day, of which without
    /// an official or probationary member living in it that day)`.
    fn hamlet_figures(b: &BulkBatch, d: NaiveDate) -> (usize, usize, usize) {
        let on = |from: NaiveDate, to: Option<NaiveDate>| from <= d && to.is_none_or(|t| d < t);
        let members: std::collections::HashSet<usize> = members_on(b, d).into_iter().collect();
        let existing: Vec<usize> = (0..b.hamlets.len())
            .filter(|&h| on(b.hamlets[h].valid_from, b.hamlets[h].valid_to))
            .collect();
        let linked = existing
            .iter()
            .filter(|&&h| {
                b.hamlet_links.iter().any(|l| {
                    l.hamlet == h
                        && on(l.valid_from, l.valid_to)
                        && on(b.units[l.unit].valid_from, b.units[l.unit].valid_to)
                })
            })
            .count();
        let lived_in: std::collections::HashSet<usize> = b
            .residences
            .iter()
            .filter(|r| on(r.valid_from, r.valid_to) && members.contains(&r.member))
            .map(|r| r.hamlet)
            .collect();
        let empty = existing.iter().filter(|h| !lived_in.contains(h)).count();
        (existing.len(), linked, empty)
    }

    #[test]
    fn every_hamlet_branch_has_its_hamlet_and_the_communes_members_live_in_them() {
        let b = province(
            &Figures::hau_giang_2023(),
            "",
            "Đảng bộ tỉnh Hậu Giang",
            DEFAULT_SEED,
        );
        // One hamlet per hamlet branch, merged with it: 525 on the report's day, 721 in 2018.
        assert_eq!(hamlet_figures(&b, SNAPSHOT), (525, 525, 0));
        assert_eq!(hamlet_figures(&b, date(2018, 1, 1)), (721, 721, 4));
        let merged = b.hamlets.iter().filter(|h| h.successor.is_some()).count();
        assert_eq!(merged, 196);
        // Every residence lies within its hamlet's life.
        for r in &b.residences {
            let h = &b.hamlets[r.hamlet];
            assert!(
                h.valid_from <= r.valid_from
                    && h.valid_to
                        .is_none_or(|t| r.valid_to.is_some_and(|e| e <= t)),
                "{r:?} {h:?}"
            );
        }
        let residents: std::collections::HashSet<usize> =
            b.residences.iter().map(|r| r.member).collect();
        assert_eq!(residents.len(), 18_022);
    }

    #[test]
    fn scaled_figures_keep_the_totals() {
        let f = Figures::hau_giang_2023().scaled(10_000);
        assert_eq!(f.members, 10_000);
        assert_eq!(f.age_bands.iter().sum::<u64>(), 10_000);
        assert_eq!(f.occupation.iter().map(|x| x.1).sum::<u64>(), 10_000);
        let b = province(&f, "P1-", "P1", 1);
        assert_eq!(members_on(&b, SNAPSHOT).len(), 10_000);
    }
}
