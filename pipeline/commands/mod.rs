//! One file per command. `Command` is what the command line asked for, already turned into a
//! validated configuration by `cli`; the core below never sees clap.

pub mod compute;
pub mod doctor;
pub mod explain;
pub mod form;
pub mod ingest;
pub mod init;
pub mod registry;
pub mod report;
pub mod run;
pub mod site;
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
    Site {
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
        /// Also write a copy of a built-in catalog, and of the registry, to edit.
        catalog: Option<crate::catalog::Builtin>,
        registry: bool,
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
    /// What a batch needs, checked.
    Doctor {
        config: Config,
    },
    /// Text the CLI made (shell completions): printed as it is.
    Print(String),
    /// Files the CLI made (man pages), written into place.
    Write(Vec<(PathBuf, Vec<u8>)>),
}

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Validate { config, quiet, problems } => validate::run(&config, quiet, problems.as_deref()),
        Command::Ingest { config, quiet } => ingest::run(&config, quiet),
        Command::Compute { config, quiet } => compute::run(&config, quiet),
        Command::Report { config, quiet } => report::run(&config, quiet),
        Command::Site { config, quiet } => site::run(&config, quiet),
        Command::Run { config, quiet, force } => run::run(&config, quiet, force),
        Command::Explain { config, county, year } => explain::run(&config, &county, year),
        Command::Init { dir, catalog, registry } => init::run(&dir, catalog, registry),
        Command::Form { config, year, prefecture, single, dir, quiet } => {
            form::run(&config, year, prefecture.as_deref(), single, &dir, quiet)
        }
        Command::Registry { divisions, changes, out } => registry::run(&divisions, &changes, &out),
        Command::Synth(options) => crate::synth::run(&options),
        Command::Doctor { config } => doctor::run(&config),
        Command::Print(text) => {
            print!("{text}");
            Ok(())
        }
        Command::Write(files) => {
            for (path, bytes) in files {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, bytes).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(())
        }
    }
}
