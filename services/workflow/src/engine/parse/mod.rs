//! Definition files parsed and validated: the TOML shapes, every structural problem at once,
//! then the references to the outside world (mail templates, cron, rule-set parameters).
//!
//! The model itself is `engine::definition`; this module is the only part of it that knows
//! the guards (a definition names them, and their inputs and parameters are checked).

use crate::engine::definition::*;
use crate::engine::problem::{Problem, toml_problem};

mod build;
mod parts;
mod raw;
mod references;

use build::build;
use raw::RawDefinition;

pub use references::{CheckOptions, CronValidator};

impl Definition {
    /// Parses and validates a definition, reporting every structural problem at once.
    pub fn from_toml_str(src: &str) -> Result<Definition, Vec<Problem>> {
        let raw: RawDefinition = toml::from_str(src).map_err(|e| vec![toml_problem(src, &e)])?;
        let mut problems = Vec::new();
        let def = build(raw, &mut problems);
        if problems.is_empty() {
            def.ok_or_else(Vec::new)
        } else {
            Err(problems)
        }
    }
}
