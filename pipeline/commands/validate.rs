//! `cimon validate`: read and check every input file, list every problem, write nothing.

use std::path::Path;

use anyhow::Result;

use crate::config::Config;
use crate::console::Console;
use crate::stages;

/// `problems`: the problem list workbook to write, whether the inputs pass or not.
pub fn run(cfg: &Config, quiet: bool, problems: Option<&Path>) -> Result<()> {
    let schemas = stages::load_schemas(cfg, false)?;
    let dir = cfg.input_dir()?;
    let files = stages::input_files(cfg)?;
    let console = Console::new(quiet);
    let checked = stages::ingest(&files, cfg, &schemas, &console, None);
    if let Some(path) = problems {
        let list = match &checked {
            Ok(i) => &i.warnings,
            Err(r) => &r.problems,
        };
        stages::problem_list(path, list, cfg, &schemas, &console)?;
    }
    let ingested =
        checked.map_err(|rejected| anyhow::Error::new(rejected).context(stages::refused(dir, cfg.messages, false)))?;
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
