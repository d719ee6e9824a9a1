//! cimon: county innovation monitoring — ingest → compute → report, one command at a time or as
//! one batch (`cimon run`).

pub mod atomic;
pub mod catalog;
pub mod cli;
pub mod codes;
pub mod commands;
pub mod compute;
pub mod config;
pub mod console;
pub mod divisions;
pub mod exit;
pub mod faults;
pub mod form;
pub mod ingest;
pub mod labels;
pub mod lock;
pub mod manifest;
pub mod memory;
pub mod problem_list;
pub mod publish;
pub mod records;
pub mod regions;
pub mod report;
pub mod results;
pub mod scope;
pub mod site;
pub mod stages;
pub mod store;
pub mod synth;
pub mod tables;
pub mod targets;
pub mod text;
pub mod timing;
pub mod workbook;

pub use commands::Command;

/// Run one command.
pub fn run(command: Command) -> anyhow::Result<()> {
    commands::run(command)
}
