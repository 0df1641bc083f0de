//! cargo-edgecheck as a library: one module per pipeline stage (see the README's "How it
//! works"), and [`lab`], which runs them for each command. The binary in `main.rs` only parses
//! the command line and maps the outcome to an exit status.

mod base;
pub mod build;
mod cache;
mod child;
pub mod cli;
mod config;
pub mod contain;
mod diff;
mod emit;
pub mod error;
mod export;
mod generate;
mod git;
mod ids;
pub mod lab;
mod plan;
#[path = "../harness-templates/protocol.rs"]
pub mod protocol;
mod provenance;
mod report;
mod run;
mod select;
mod shadow;
mod source;
mod target;
mod triage;
mod types;
mod verify;
mod vocab;
mod workspace;
