//! Migration of open cases to a newer definition version: the pure part.
//!
//! A new definition version never changes a case in flight by itself: the case keeps running
//! under the version it records until it is migrated explicitly. [`plan_migration`] is the dry
//! run: it says whether the case maps onto the new version (its state still exists, or was
//! renamed through the new file's `renamed_states`) and lists what would change for it.
//! [`MigrationPlan::apply`] produces the migrated snapshot and the effects that cancel what the
//! new version no longer runs.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::case::{CaseSnapshot, DefinitionRef};
use super::definition::Definition;
use super::effect::Effect;

/// One thing that changes for the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MigrationChange {
    /// The state keeps its name.
    StateKept {
        /// State.
        state: String,
    },
    /// The state was renamed.
    StateRenamed {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// The state is terminal in one version and not in the other.
    TerminalChanged {
        /// Whether the state is terminal in the new version.
        terminal: bool,
    },
    /// A transition from the case's state exists only in the new version.
    TransitionAdded {
        /// Name.
        name: String,
    },
    /// A transition from the case's state exists only in the old version.
    TransitionRemoved {
        /// Name.
        name: String,
    },
    /// A transition kept its name but its guards changed.
    GuardsChanged {
        /// Transition.
        transition: String,
        /// Guards added.
        added: Vec<String>,
        /// Guards removed.
        removed: Vec<String>,
    },
    /// A transition kept its name but its inputs changed.
    InputsChanged {
        /// Transition.
        transition: String,
    },
    /// A running deadline the new state does not declare: it is cancelled.
    DeadlineCancelled {
        /// Key.
        key: String,
    },
    /// A deadline the new state declares that is not running: it is not scheduled by the
    /// migration (it starts on the next entry into a state that declares it).
    DeadlineNotScheduled {
        /// Key.
        key: String,
    },
    /// A running deadline whose declaration changed: the running one keeps its due date.
    DeadlineDeclarationChanged {
        /// Key.
        key: String,
    },
    /// A reminder of the old state the new one does not declare: it is cancelled.
    ReminderCancelled {
        /// Key.
        key: String,
    },
}

/// Why a case cannot be migrated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MigrationBlocker {
    /// The case does not run under the old definition given.
    #[error("the case runs under {case:?}, not under the old definition {old:?}")]
    NotUnderOldDefinition {
        /// The case's definition.
        case: DefinitionRef,
        /// The old definition given.
        old: DefinitionRef,
    },
    /// The two definitions have different ids.
    #[error("cannot migrate from `{from}` to `{to}`: different workflows")]
    DifferentWorkflow {
        /// Old id.
        from: String,
        /// New id.
        to: String,
    },
    /// The new version is not newer.
    #[error("version {to} is not newer than {from}")]
    NotNewer {
        /// Old version.
        from: u32,
        /// New version.
        to: u32,
    },
    /// The case's state neither exists in the new version nor is renamed there.
    #[error("state `{state}` does not exist in the new version and no rename maps it")]
    StateMissing {
        /// State.
        state: String,
    },
}

/// The dry run of a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationPlan {
    /// Definition the case runs under.
    pub from: DefinitionRef,
    /// Definition it would run under.
    pub to: DefinitionRef,
    /// State now.
    pub state: String,
    /// State after migration, when it maps.
    pub new_state: Option<String>,
    /// What would change.
    pub changes: Vec<MigrationChange>,
    /// Why it cannot be migrated (empty when it can).
    pub blockers: Vec<MigrationBlocker>,
}

/// A migrated case and what the shell must cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migrated {
    /// The case under the new version (its version number incremented).
    pub case: CaseSnapshot,
    /// Cancellations of deadlines and reminders the new version does not run.
    pub effects: Vec<Effect>,
}

impl MigrationPlan {
    /// Whether the case maps onto the new version.
    pub fn can_migrate(&self) -> bool {
        self.blockers.is_empty() && self.new_state.is_some()
    }

    /// Applies the plan to `case` (the one it was made for).
    pub fn apply(&self, case: &CaseSnapshot) -> Result<Migrated, MigrationBlocker> {
        if let Some(b) = self.blockers.first() {
            return Err(b.clone());
        }
        if case.definition != self.from {
            return Err(MigrationBlocker::NotUnderOldDefinition {
                case: case.definition.clone(),
                old: self.from.clone(),
            });
        }
        let new_state = self
            .new_state
            .clone()
            .ok_or_else(|| MigrationBlocker::StateMissing {
                state: case.state.clone(),
            })?;
        let mut next = case.clone();
        let mut effects = Vec::new();
        for change in &self.changes {
            match change {
                MigrationChange::DeadlineCancelled { key } => {
                    next.deadlines.remove(key);
                    effects.push(Effect::CancelDeadline { key: key.clone() });
                }
                MigrationChange::ReminderCancelled { key } => {
                    effects.push(Effect::CancelReminder { key: key.clone() })
                }
                _ => {}
            }
        }
        next.definition = self.to.clone();
        next.state = new_state;
        next.version += 1;
        Ok(Migrated {
            case: next,
            effects,
        })
    }
}

/// Plans the migration of `case` from `old` to `new`. Pure: nothing is changed.
pub fn plan_migration(old: &Definition, new: &Definition, case: &CaseSnapshot) -> MigrationPlan {
    let from = DefinitionRef::of(old);
    let to = DefinitionRef::of(new);
    let mut blockers = Vec::new();
    if case.definition != from {
        blockers.push(MigrationBlocker::NotUnderOldDefinition {
            case: case.definition.clone(),
            old: from.clone(),
        });
    }
    if old.id != new.id {
        blockers.push(MigrationBlocker::DifferentWorkflow {
            from: old.id.clone(),
            to: new.id.clone(),
        });
    }
    if new.version <= old.version {
        blockers.push(MigrationBlocker::NotNewer {
            from: old.version,
            to: new.version,
        });
    }

    let mut changes = Vec::new();
    let new_state = if new.state(&case.state).is_some() {
        changes.push(MigrationChange::StateKept {
            state: case.state.clone(),
        });
        Some(case.state.clone())
    } else if let Some(renamed) = new
        .renamed_states
        .get(&case.state)
        .filter(|s| new.state(s).is_some())
    {
        changes.push(MigrationChange::StateRenamed {
            from: case.state.clone(),
            to: renamed.clone(),
        });
        Some(renamed.clone())
    } else {
        blockers.push(MigrationBlocker::StateMissing {
            state: case.state.clone(),
        });
        None
    };

    if let Some(target) = &new_state {
        let old_s = old.state(&case.state);
        let new_s = new.state(target);
        if let (Some(o), Some(n)) = (old_s, new_s) {
            if o.terminal != n.terminal {
                changes.push(MigrationChange::TerminalChanged {
                    terminal: n.terminal,
                });
            }
            for key in case.deadlines.keys() {
                match n.deadlines.iter().find(|d| &d.key == key) {
                    None => changes.push(MigrationChange::DeadlineCancelled { key: key.clone() }),
                    Some(nd) => {
                        if o.deadlines.iter().find(|d| &d.key == key) != Some(nd) {
                            changes.push(MigrationChange::DeadlineDeclarationChanged {
                                key: key.clone(),
                            });
                        }
                    }
                }
            }
            for d in &n.deadlines {
                if !case.deadlines.contains_key(&d.key) {
                    changes.push(MigrationChange::DeadlineNotScheduled { key: d.key.clone() });
                }
            }
            for r in &o.reminders {
                if !n.reminders.iter().any(|x| x.key == r.key) {
                    changes.push(MigrationChange::ReminderCancelled { key: r.key.clone() });
                }
            }
        }
        let old_ts: Vec<_> = old.transitions_from(&case.state).collect();
        let new_ts: Vec<_> = new.transitions_from(target).collect();
        for t in &new_ts {
            match old_ts.iter().find(|o| o.name == t.name) {
                None => changes.push(MigrationChange::TransitionAdded {
                    name: t.name.clone(),
                }),
                Some(o) => {
                    let og: BTreeSet<&String> = o.guards.iter().collect();
                    let ng: BTreeSet<&String> = t.guards.iter().collect();
                    if og != ng {
                        changes.push(MigrationChange::GuardsChanged {
                            transition: t.name.clone(),
                            added: ng.difference(&og).map(|s| (*s).clone()).collect(),
                            removed: og.difference(&ng).map(|s| (*s).clone()).collect(),
                        });
                    }
                    if o.inputs != t.inputs {
                        changes.push(MigrationChange::InputsChanged {
                            transition: t.name.clone(),
                        });
                    }
                }
            }
        }
        for o in &old_ts {
            if !new_ts.iter().any(|t| t.name == o.name) {
                changes.push(MigrationChange::TransitionRemoved {
                    name: o.name.clone(),
                });
            }
        }
    }

    MigrationPlan {
        from,
        to,
        state: case.state.clone(),
        new_state,
        changes,
        blockers,
    }
}
