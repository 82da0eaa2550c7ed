//! Black-box tests: the real server over HTTP, against a fresh database per test (SQLite, or
//! PostgreSQL when `MEMBERFLOW_TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used)]

mod admission;
mod ancestry;
mod auth;
mod bad_input;
mod binary;
mod browser;
mod cases;
mod consequences;
mod console;
mod crash;
mod discipline;
mod exemption;
mod hamlets;
mod http;
mod import;
mod import_api;
mod limits;
mod lockout;
mod mail;
mod members;
mod observability;
mod operations;
mod questions;
mod races;
mod readme;
mod reminders;
mod rule_defects;
mod rules;
mod schema;
mod security;
mod simulation;
mod support;
mod targets;
mod transport;
mod tree;
mod vote_exclusions;
mod walk;
