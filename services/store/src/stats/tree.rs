//! The whole tree as it stood on one date, loaded once (units and parent links, never
//! members), with the core's folding of units that ended into their successors: what every
//! roll-up of the statistics walks.

use std::collections::HashMap;

use chrono::NaiveDate;
use memberflow_workflow::stats::{self as core, UnitSpan};
use memberflow_workflow::tree::UnitKind;
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use uuid::Uuid;

use crate::entity::{unit, unit_parent};
use crate::error::{Result, StoreError};

/// A unit as the roll-ups need it: no name, no timestamps (a national tree has hundreds of
/// thousands of units; the rows listed load their full records afterwards).
#[derive(Debug, Clone)]
pub(crate) struct UnitLite {
    pub id: Uuid,
    pub code: String,
    pub kind: UnitKind,
    pub branch_category: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
    pub successor_id: Option<Uuid>,
}

impl UnitLite {
    pub fn exists_on(&self, d: NaiveDate) -> bool {
        covers(self.valid_from, self.valid_to, d)
    }
}

/// The tree on `on`.
#[derive(Debug, Clone)]
pub(crate) struct TreeIndex {
    pub on: NaiveDate,
    pub units: HashMap<Uuid, UnitLite>,
    pub spans: HashMap<Uuid, UnitSpan<Uuid>>,
    /// Child → parent, between units that exist on `on`.
    pub parent_on: HashMap<Uuid, Uuid>,
    /// Parent → children on `on`, by code.
    pub children: HashMap<Uuid, Vec<Uuid>>,
}

fn covers(from: NaiveDate, to: Option<NaiveDate>, d: NaiveDate) -> bool {
    from <= d && to.is_none_or(|t| d < t)
}

impl TreeIndex {
    pub async fn load(c: &impl ConnectionTrait, on: NaiveDate) -> Result<Self> {
        type Row = (
            Uuid,
            String,
            String,
            Option<String>,
            NaiveDate,
            Option<NaiveDate>,
            Option<Uuid>,
        );
        let rows: Vec<Row> = unit::Entity::find()
            .select_only()
            .column(unit::Column::Id)
            .column(unit::Column::Code)
            .column(unit::Column::Kind)
            .column(unit::Column::BranchCategory)
            .column(unit::Column::ValidFrom)
            .column(unit::Column::ValidTo)
            .column(unit::Column::SuccessorId)
            .into_tuple()
            .all(c)
            .await?;
        let mut units = HashMap::with_capacity(rows.len());
        for (id, code, kind, branch_category, valid_from, valid_to, successor_id) in rows {
            let kind = UnitKind::parse(&kind).ok_or_else(|| {
                StoreError::Database(sea_orm::DbErr::Custom(format!(
                    "unit {id} has an unknown kind {kind}"
                )))
            })?;
            units.insert(
                id,
                UnitLite {
                    id,
                    code,
                    kind,
                    branch_category,
                    valid_from,
                    valid_to,
                    successor_id,
                },
            );
        }
        type Edge = (Uuid, Uuid, NaiveDate, Option<NaiveDate>);
        let edges: Vec<Edge> = unit_parent::Entity::find()
            .select_only()
            .column(unit_parent::Column::UnitId)
            .column(unit_parent::Column::ParentId)
            .column(unit_parent::Column::ValidFrom)
            .column(unit_parent::Column::ValidTo)
            .into_tuple()
            .all(c)
            .await?;
        let mut parent_on = HashMap::new();
        let mut last_parent: HashMap<Uuid, Uuid> = HashMap::new();
        for (child_id, parent_id, from, to) in edges {
            let Some(child) = units.get(&child_id) else {
                continue;
            };
            if covers(from, to, on)
                && child.exists_on(on)
                && units.get(&parent_id).is_some_and(|p| p.exists_on(on))
            {
                parent_on.insert(child_id, parent_id);
            }
            if let Some(end) = child.valid_to
                && let Some(last) = end.pred_opt()
                && covers(from, to, last)
            {
                last_parent.insert(child_id, parent_id);
            }
        }
        let spans = units
            .values()
            .map(|u| {
                (
                    u.id,
                    UnitSpan {
                        valid_from: u.valid_from,
                        valid_to: u.valid_to,
                        successor: u.successor_id,
                        last_parent: last_parent.get(&u.id).copied(),
                    },
                )
            })
            .collect();
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (c, p) in &parent_on {
            children.entry(*p).or_default().push(*c);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| {
                let ca = units.get(a).map(|u| u.code.as_str());
                let cb = units.get(b).map(|u| u.code.as_str());
                ca.cmp(&cb)
            });
        }
        Ok(TreeIndex {
            on,
            units,
            spans,
            parent_on,
            children,
        })
    }

    /// The unit standing for `id` on the index's date.
    pub fn representative(&self, id: Uuid) -> Option<Uuid> {
        core::representative(id, &self.spans, self.on)
    }

    /// Whether `id`'s figures belong under `root` (itself included).
    pub fn counts_under(&self, id: Uuid, root: Uuid) -> bool {
        let mut cur = self.representative(id);
        for _ in 0..64 {
            match cur {
                Some(u) if u == root => return true,
                Some(u) => cur = self.parent_on.get(&u).copied(),
                None => return false,
            }
        }
        false
    }

    /// The units existing on the date without a parent, by code.
    pub fn roots(&self) -> Vec<Uuid> {
        let mut roots: Vec<&UnitLite> = self
            .units
            .values()
            .filter(|u| u.exists_on(self.on) && !self.parent_on.contains_key(&u.id))
            .collect();
        roots.sort_by(|a, b| a.code.cmp(&b.code));
        roots.into_iter().map(|u| u.id).collect()
    }

    /// The units of `root`'s subtree, or every unit existing on the index's day when `None`.
    pub fn units_under(&self, root: Option<Uuid>) -> Vec<Uuid> {
        match root {
            Some(root) => self.subtree(root, None).into_iter().map(|r| r.0).collect(),
            None => self
                .units
                .values()
                .filter(|u| u.exists_on(self.on))
                .map(|u| u.id)
                .collect(),
        }
    }

    /// `root` and the units below it, breadth first: `(unit, parent, depth)`.
    pub fn subtree(&self, root: Uuid, max_depth: Option<u32>) -> Vec<(Uuid, Option<Uuid>, u32)> {
        let mut out = vec![(root, self.parent_on.get(&root).copied(), 0)];
        let mut frontier = vec![root];
        let mut depth = 0;
        while !frontier.is_empty() && max_depth.is_none_or(|m| depth < m) && depth < 32 {
            depth += 1;
            let mut next = Vec::new();
            for p in &frontier {
                for c in self.children.get(p).map(Vec::as_slice).unwrap_or_default() {
                    out.push((*c, Some(*p), depth));
                    next.push(*c);
                }
            }
            frontier = next;
        }
        out
    }
}
