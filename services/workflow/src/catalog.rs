//! The catalog: everything the engine needs besides a case. The server loads and checks it
//! from `schemas/` (`memberflow check`); the store, the API and the worker read it.

use crate::calendar::WorkingCalendar;
use crate::engine::{Definition, RuleBook};

/// The definitions (every version still in use), the rule book and the working-day calendar.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Workflow definitions, every version.
    pub definitions: Vec<Definition>,
    /// Dated rule sets.
    pub rules: RuleBook,
    /// Working days.
    pub calendar: WorkingCalendar,
}

impl Catalog {
    /// The definition `id` at `version`.
    pub fn definition(&self, id: &str, version: u32) -> Option<&Definition> {
        self.definitions
            .iter()
            .find(|d| d.id == id && d.version == version)
    }

    /// The newest version of definition `id`.
    pub fn latest(&self, id: &str) -> Option<&Definition> {
        self.definitions
            .iter()
            .filter(|d| d.id == id)
            .max_by_key(|d| d.version)
    }

    /// Ids of the definitions whose cases are discipline of their subject member.
    pub fn disciplinary_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .definitions
            .iter()
            .filter(|d| d.disciplinary)
            .map(|d| d.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}
