//! The pure core of memberflow.
//!
//! Everything here decides and nothing acts: no async runtime, no database, no clock, no
//! network. The shell crates (`store`, `api`, `server`) load data, call into this crate with
//! `now` as an argument, and carry out the decisions it returns.

pub mod access;
pub mod away;
pub mod badges;
pub mod calendar;
pub mod catalog;
pub mod consequences;
pub mod email;
pub mod engine;
pub mod exemption;
pub mod hamlet;
pub mod import;
pub mod rule_catalogue;
pub mod stats;
pub mod text;
pub mod tree;
pub mod violations;
pub mod vocab;
