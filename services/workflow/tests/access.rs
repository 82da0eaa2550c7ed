//! The access rules of the core: the permission table, scopes, and the workflow roles a grant
//! gives on a case, by example and by property.

#![allow(clippy::unwrap_used)]

use memberflow_workflow::access::{
    CompetentLevel, Grant, PathUnit, Permission, Role, Scope, allows, case_roles, scope,
};
use memberflow_workflow::engine::RoleRef;
use memberflow_workflow::tree::UnitKind;
use memberflow_workflow::vocab::RoleLevel;
use proptest::prelude::*;

/// Branch 4 under grassroots committee 3 under district 2 under province 1 under central 0.
fn path() -> Vec<PathUnit<u32>> {
    vec![
        PathUnit {
            id: 4,
            kind: UnitKind::Branch,
        },
        PathUnit {
            id: 3,
            kind: UnitKind::GrassrootsCommittee,
        },
        PathUnit {
            id: 2,
            kind: UnitKind::District,
        },
        PathUnit {
            id: 1,
            kind: UnitKind::Province,
        },
        PathUnit {
            id: 0,
            kind: UnitKind::Central,
        },
    ]
}

fn grant(role: Role, unit: Option<u32>) -> Grant<u32> {
    Grant { role, unit }
}

fn roles_of(g: &[Grant<u32>], competent: CompetentLevel) -> Vec<String> {
    case_roles(g, &path(), competent, false)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a10_a_grant_maps_to_the_level_of_its_unit_on_the_case_s_path() {
    let s = CompetentLevel::Superior;
    assert_eq!(
        roles_of(&[grant(Role::Secretary, Some(4))], s),
        ["secretary@branch"]
    );
    assert_eq!(
        roles_of(&[grant(Role::ExecutiveCommittee, Some(3))], s),
        ["executive_committee@grassroots"]
    );
    // A10: the competent committee is the direct superior of the grassroots organization...
    assert_eq!(
        roles_of(&[grant(Role::StandingCommittee, Some(2))], s),
        [
            "standing_committee@superior",
            "standing_committee@competent"
        ]
    );
    // ...or, where the rule set says so, the province.
    assert_eq!(
        roles_of(
            &[grant(Role::StandingCommittee, Some(1))],
            CompetentLevel::Province
        ),
        [
            "standing_committee@province",
            "standing_committee@competent"
        ]
    );
    assert_eq!(
        roles_of(&[grant(Role::Secretariat, Some(0))], s),
        ["secretariat@central"]
    );
}

#[test]
fn a_grassroots_branch_is_both_the_branch_and_the_grassroots_organization() {
    let p = vec![
        PathUnit {
            id: 7,
            kind: UnitKind::GrassrootsBranch,
        },
        PathUnit {
            id: 2,
            kind: UnitKind::Commune,
        },
    ];
    let r: Vec<String> = case_roles(
        &[grant(Role::Secretary, Some(7))],
        &p,
        CompetentLevel::Superior,
        false,
    )
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(r, ["secretary@grassroots", "secretary@branch"]);
}

#[test]
fn grants_off_the_path_and_non_workflow_roles_give_no_case_role() {
    let s = CompetentLevel::Superior;
    // Another branch (5) of the same committee.
    assert!(roles_of(&[grant(Role::Secretary, Some(5))], s).is_empty());
    for role in [Role::OrganizationDepartment, Role::Auditor, Role::Admin] {
        assert!(roles_of(&[grant(role, None)], s).is_empty(), "{role}");
    }
}

#[test]
fn the_member_a_case_is_about_acts_only_as_member() {
    let g = [
        grant(Role::Secretary, Some(4)),
        grant(Role::StandingCommittee, None),
    ];
    assert_eq!(
        case_roles(&g, &path(), CompetentLevel::Superior, true),
        vec![RoleRef::anywhere("member")]
    );
}

#[test]
fn the_permission_table_keeps_administration_apart_from_member_data_and_decisions() {
    assert!(!Role::Admin.has(Permission::ReadMembers));
    assert!(!Role::Admin.has(Permission::ReadConfidentialCases));
    assert!(Role::Admin.has(Permission::Administer));
    assert!(!Role::Admin.acts_in_workflows());
    assert!(!Role::Auditor.acts_in_workflows());
    assert!(Role::Auditor.has(Permission::ReadAccessLog));
    assert!(!Role::OrganizationDepartment.has(Permission::ReadConfidentialCases));
    assert!(Role::OrganizationDepartment.has(Permission::ReadCases));
    assert!(Role::OrganizationDepartment.has(Permission::EditTree));
    assert!(!Role::Secretary.has(Permission::EditTree));
    for r in Role::ALL {
        assert!(r.has(Permission::ReadTree));
        assert_eq!(Role::parse(r.as_str()), Some(r));
    }
}

#[test]
fn d22_an_inspection_commission_exists_from_the_grassroots_committee_up() {
    assert!(
        Role::InspectionCommission
            .check_unit(UnitKind::Branch)
            .unwrap_err()
            .en
            .contains("D22")
    );
    assert!(
        Role::InspectionCommission
            .check_unit(UnitKind::GrassrootsBranch)
            .is_err()
    );
    assert!(
        Role::InspectionCommission
            .check_unit(UnitKind::GrassrootsCommittee)
            .is_ok()
    );
    assert!(Role::Secretariat.check_unit(UnitKind::Province).is_err());
    assert!(Role::BranchCommittee.check_unit(UnitKind::Branch).is_ok());
}

#[test]
fn a_scope_is_everywhere_as_soon_as_one_grant_is() {
    let g = [grant(Role::Secretary, Some(4)), grant(Role::Auditor, None)];
    assert_eq!(scope(&g, Permission::ReadMembers), Scope::Everywhere);
    assert_eq!(
        scope(&g, Permission::RegisterMembers),
        Scope::Subtrees(vec![4])
    );
    assert_eq!(scope(&g, Permission::EditTree), Scope::Subtrees(vec![]));
}

fn kinds() -> impl Strategy<Value = Vec<UnitKind>> {
    prop::collection::vec(prop::sample::select(UnitKind::ALL.to_vec()), 1..6)
}

fn any_role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

proptest! {
    /// Whatever the tree and the grants, a case role comes from a workflow role held on the
    /// case's path (or everywhere), and a permission holds only through such a grant.
    #[test]
    fn roles_and_permissions_never_reach_beyond_the_path(
        kinds in kinds(),
        grants in prop::collection::vec((any_role(), prop::option::of(0u32..10)), 0..6),
        province in any::<bool>(),
    ) {
        let path: Vec<PathUnit<u32>> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| PathUnit { id: u32::try_from(i).unwrap(), kind: *k })
            .collect();
        let ids: Vec<u32> = path.iter().map(|p| p.id).collect();
        let grants: Vec<Grant<u32>> = grants.into_iter().map(|(role, unit)| Grant { role, unit }).collect();
        let competent = if province { CompetentLevel::Province } else { CompetentLevel::Superior };
        for r in case_roles(&grants, &path, competent, false) {
            prop_assert!(grants.iter().any(|g| {
                g.role.as_str() == r.role
                    && g.role.acts_in_workflows()
                    && g.unit.is_none_or(|u| ids.contains(&u))
            }), "{r} has no grant behind it");
            prop_assert!(r.level.is_some());
        }
        for p in Permission::ALL {
            let holds = allows(&grants, p, &ids);
            let expected = grants
                .iter()
                .any(|g| g.role.has(p) && g.unit.is_none_or(|u| ids.contains(&u)));
            prop_assert_eq!(holds, expected);
        }
        // A grant everywhere of a workflow role gives it at every level.
        let everywhere: Vec<Grant<u32>> = vec![Grant { role: Role::Committee, unit: None }];
        let all = case_roles(&everywhere, &path, competent, false);
        prop_assert_eq!(all.len(), RoleLevel::ALL.len());
    }
}
