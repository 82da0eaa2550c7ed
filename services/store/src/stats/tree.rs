//! The whole tree as it stood on one date, loaded once (units and parent links, never
//! members), with the core's folding of units that ended into their successors: what every
//! roll-up of the statistics walks.

use std::collections::HashMap;

use chrono::NaiveDate;
use memberflow_workflow::stats::{self as core, UnitSpan};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::entity::{unit, unit_parent};
use crate::error::Result;
use crate::records::UnitRecord;

/// The tree on `on`.
#[derive(Debug, Clone)]
pub(crate) struct TreeIndex {
    pub on: NaiveDate,
    pub units: HashMap<Uuid, UnitRecord>,
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
        let units: HashMap<Uuid, UnitRecord> = unit::Entity::find()
            .all(c)
            .await?
            .into_iter()
            .map(|m| UnitRecord::try_from(m).map(|u| (u.id, u)))
            .collect::<Result<_>>()?;
        let edges = unit_parent::Entity::find().all(c).await?;
        let mut parent_on = HashMap::new();
        let mut last_parent: HashMap<Uuid, Uuid> = HashMap::new();
        for e in &edges {
            let Some(child) = units.get(&e.unit_id) else {
                continue;
            };
            if covers(e.valid_from, e.valid_to, on)
                && child.facts().exists_on(on)
                && units
                    .get(&e.parent_id)
                    .is_some_and(|p| p.facts().exists_on(on))
            {
                parent_on.insert(e.unit_id, e.parent_id);
            }
            if let Some(end) = child.valid_to
                && let Some(last) = end.pred_opt()
                && covers(e.valid_from, e.valid_to, last)
            {
                last_parent.insert(e.unit_id, e.parent_id);
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
        let mut roots: Vec<&UnitRecord> = self
            .units
            .values()
            .filter(|u| u.facts().exists_on(self.on) && !self.parent_on.contains_key(&u.id))
            .collect();
        roots.sort_by(|a, b| a.code.cmp(&b.code));
        roots.into_iter().map(|u| u.id).collect()
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
