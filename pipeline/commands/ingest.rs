//! `cimon ingest`: validate the input files and publish the Parquet store, or write nothing.

use anyhow::{Context, Result};

use crate::config::Config;
use crate::console::Console;
use crate::{publish, stages, store};

pub fn run(cfg: &Config, quiet: bool) -> Result<()> {
    // Validation reads only the inputs: a refused ingest leaves no trace in the output directory,
    // not even the lock.
    let t0 = std::time::Instant::now();
    let lap = |what: &str| crate::timing::lap(what, t0);
    let _pages = crate::memory::small_pages();
    let schemas = stages::load_schemas(cfg, false)?;
    lap("schemas");
    let dir = cfg.input_dir()?;
    let files = stages::input_files(cfg)?;
    lap("files read");
    let targets_text = stages::targets_text(cfg)?;
    let ingested = stages::ingest(&files, cfg, &schemas, &Console::new(quiet), None)
        .map_err(|rejected| anyhow::Error::new(rejected).context(stages::refused(dir, cfg.messages, false)))?;
    lap("validated");
    let _lock = publish::locked(&cfg.out, "cimon ingest")?;
    let written =
        store::write(&cfg.store_dir(), &ingested, &schemas.catalog, &schemas.registry, targets_text.as_deref())
            .with_context(|| format!("cannot write the store {}", cfg.store_dir().display()))?;
    lap("store written and published");
    if !quiet {
        println!(
            "ingested {} files: {} observations for {} years, {} warnings, {} revisions → {}",
            ingested.sources.len(),
            ingested.observations.len(),
            written.years.len(),
            ingested.warnings.len(),
            ingested.revisions.len(),
            cfg.store_dir().display()
        );
    }
    // The process ends here: freeing a million observations one by one would only delay it.
    std::mem::forget(ingested);
    Ok(())
}
