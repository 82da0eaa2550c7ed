//! The workflow engine (being built).
