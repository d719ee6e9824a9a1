//! `cimon validate`: read and check every input file, list every problem, write nothing.

use anyhow::Result;

use crate::config::Config;
use crate::console::Console;
use crate::stages;

pub fn run(cfg: &Config, quiet: bool) -> Result<()> {
    let schemas = stages::load_schemas(cfg, false)?;
    let dir = cfg.input_dir()?;
    let files = stages::input_files(cfg)?;
    let ingested = stages::ingest(&files, &schemas, &Console::new(quiet), None).map_err(|rejected| {
        anyhow::Error::new(rejected)
            .context(format!("input files in {} were refused; nothing was written", dir.display()))
    })?;
    if !quiet {
        println!(
            "ok: {} files, {} observations, {} warnings, {} revisions; nothing written",
            ingested.sources.len(),
            ingested.observations.len(),
            ingested.warnings.len(),
            ingested.revisions.len()
        );
    }
    Ok(())
}
