//! Who receives a mail addressed to a role about a unit: the accounts that hold the role at the
//! unit of the tree the role's level names (the branch secretary of the case's branch, the
//! standing committee of the competent committee, ...), each with the address of the account or
//! of the member it belongs to.
//!
//! The holders are found with the same rule that gives workflow roles to a caller
//! (`memberflow_workflow::access::levels_on_path`), so whoever may act on a step is whoever is
//! told about it. Grants held everywhere do not make anyone the recipient of every unit's
//! mail.

use chrono::NaiveDate;
use memberflow_workflow::access::{CompetentLevel, PathUnit, levels_on_path};
use memberflow_workflow::engine::RoleRef;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::Accounts;
use crate::entity::{account, member, role_assignment};
use crate::error::Result;

/// The people a role stands for at a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Addressees {
    /// The unit whose holders they are (none found: the nearest the role could be held at).
    pub unit_code: Option<String>,
    /// Login names and addresses of the holders who have one.
    pub found: Vec<(String, String)>,
    /// Login names of the holders who have none.
    pub without_address: Vec<String>,
}

impl Accounts<'_> {
    /// The holders of `role` for a case or a job of `unit`, on `on`.
    pub async fn addressees(
        &self,
        unit: Uuid,
        role: &RoleRef,
        on: NaiveDate,
        competent: CompetentLevel,
    ) -> Result<Addressees> {
        let tree = self.store.tree();
        let me = tree.unit(unit).await?;
        let mut path = vec![PathUnit {
            id: me.id,
            kind: me.kind,
        }];
        let mut codes = vec![me.code.clone()];
        for u in tree.ancestors_on(unit, on).await? {
            path.push(PathUnit {
                id: u.id,
                kind: u.kind,
            });
            codes.push(u.code);
        }
        let grants = role_assignment::Entity::find()
            .filter(role_assignment::Column::Role.eq(role.role.as_str()))
            .filter(role_assignment::Column::RevokedAt.is_null())
            .filter(role_assignment::Column::UnitId.is_in(path.iter().map(|p| p.id)))
            .order_by_asc(role_assignment::Column::Id)
            .all(self.db())
            .await?;
        // The units of the path the role is addressed to: those standing at its level, or (a
        // role without a level) the nearest one where someone holds it.
        let at_level = |i: usize| match role.level {
            Some(l) => levels_on_path(&path, &path[i].id, competent).contains(&l),
            None => true,
        };
        let target = (0..path.len()).find(|&i| {
            at_level(i)
                && (role.level.is_some() || grants.iter().any(|g| g.unit_id == Some(path[i].id)))
        });
        let mut out = Addressees {
            unit_code: target.map(|i| codes[i].clone()),
            ..Addressees::default()
        };
        let Some(i) = target else { return Ok(out) };
        let holders: Vec<Uuid> = grants
            .iter()
            .filter(|g| g.unit_id == Some(path[i].id))
            .map(|g| g.account_id)
            .collect();
        if holders.is_empty() {
            return Ok(out);
        }
        let accounts = account::Entity::find()
            .filter(account::Column::Id.is_in(holders))
            .filter(account::Column::Disabled.eq(false))
            .order_by_asc(account::Column::Username)
            .all(self.db())
            .await?;
        for a in accounts {
            let email = match (&a.email, a.member_id) {
                (Some(e), _) => Some(e.clone()),
                (None, Some(m)) => member::Entity::find_by_id(m)
                    .one(self.db())
                    .await?
                    .and_then(|m| m.email),
                (None, None) => None,
            };
            match email {
                Some(e) => out.found.push((a.username, e)),
                None => out.without_address.push(a.username),
            }
        }
        Ok(out)
    }
}
