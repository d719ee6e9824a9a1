//! One file per command. `Command` is what the command line asked for, already turned into a
//! validated configuration by `cli`; the core below never sees clap.

pub mod compute;
pub mod explain;
pub mod form;
pub mod ingest;
pub mod init;
pub mod registry;
pub mod report;
pub mod run;
pub mod validate;

use std::path::PathBuf;

use anyhow::Result;

use crate::config::Config;

pub enum Command {
    /// `problems`: where to write the problem list workbook.
    Validate {
        config: Config,
        quiet: bool,
        problems: Option<PathBuf>,
    },
    Ingest {
        config: Config,
        quiet: bool,
    },
    Compute {
        config: Config,
        quiet: bool,
    },
    Report {
        config: Config,
        quiet: bool,
    },
    Run {
        config: Config,
        quiet: bool,
        force: bool,
    },
    Explain {
        config: Config,
        county: String,
        year: Option<i32>,
    },
    Init {
        dir: PathBuf,
    },
    Form {
        config: Config,
        year: i32,
        prefecture: Option<String>,
        single: bool,
        dir: PathBuf,
        quiet: bool,
    },
    Registry {
        divisions: PathBuf,
        changes: PathBuf,
        out: PathBuf,
    },
    Synth(crate::synth::Options),
}

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Validate { config, quiet, problems } => validate::run(&config, quiet, problems.as_deref()),
        Command::Ingest { config, quiet } => ingest::run(&config, quiet),
        Command::Compute { config, quiet } => compute::run(&config, quiet),
        Command::Report { config, quiet } => report::run(&config, quiet),
        Command::Run { config, quiet, force } => run::run(&config, quiet, force),
        Command::Explain { config, county, year } => explain::run(&config, &county, year),
        Command::Init { dir } => init::run(&dir),
        Command::Form { config, year, prefecture, single, dir, quiet } => {
            form::run(&config, year, prefecture.as_deref(), single, &dir, quiet)
        }
        Command::Registry { divisions, changes, out } => registry::run(&divisions, &changes, &out),
        Command::Synth(options) => crate::synth::run(&options),
    }
}
