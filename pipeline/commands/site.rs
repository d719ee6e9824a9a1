//! `cimon site`: write the web explorer (`OUT/site/`) from the published results and reports.

use anyhow::Result;

use crate::config::Config;
use crate::{publish, stages};

pub fn run(cfg: &Config, quiet: bool) -> Result<()> {
    let _lock = publish::locked(&cfg.out, "cimon site")?;
    let schemas = stages::load_schemas(cfg, true)?;
    let started = std::time::Instant::now();
    let dirs = (cfg.results_dir(), cfg.store_dir(), cfg.reports_dir());
    let reports = dirs.2.is_dir().then_some(dirs.2.as_path());
    let outcome = stages::site(cfg, &schemas, (&dirs.0, &dirs.1, reports), None)?;
    if !quiet {
        println!(
            "site for {}: {} counties, {} pages, {:.1} MB in {:.1} s → {}",
            outcome.year,
            outcome.counties,
            outcome.pages,
            outcome.bytes as f64 / 1e6,
            started.elapsed().as_secs_f64(),
            cfg.out.join(crate::site::DIR).join("index.html").display()
        );
    }
    Ok(())
}
