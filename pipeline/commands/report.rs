//! `cimon report`: render and publish the PDF reports from the published results.

use anyhow::Result;

use crate::config::Config;
use crate::console::Console;
use crate::{publish, report, stages};

pub fn run(cfg: &Config, quiet: bool) -> Result<()> {
    let _lock = publish::locked(&cfg.out, "cimon report")?;
    let tools = report::Tools::load(&cfg.report)?;
    let schemas = stages::load_schemas(cfg, true)?;
    let started = std::time::Instant::now();
    let outcome =
        stages::report(cfg, &schemas, &tools, (&cfg.results_dir(), &cfg.store_dir()), None, &Console::new(quiet))?;
    if !quiet {
        println!(
            "{} reports for {} ({} rendered, {} unchanged; typst {}) in {:.1} s → {}",
            outcome.files.len(),
            outcome.year,
            outcome.rendered,
            outcome.reused,
            outcome.typst_version,
            started.elapsed().as_secs_f64(),
            outcome.dir.display()
        );
    }
    Ok(())
}
