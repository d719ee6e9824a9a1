//! `cimon compute`: the index, growth and target attainment from the store, published as `results/`.

use anyhow::{Context, Result};

use crate::config::Config;
use crate::{compute, publish, stages};

pub fn run(cfg: &Config, quiet: bool) -> Result<()> {
    let _lock = publish::locked(&cfg.out, "cimon compute")?;
    let _pages = crate::memory::small_pages();
    let schemas = stages::load_schemas(cfg, true)?;
    let computed = stages::compute(cfg, &schemas, &cfg.store_dir())?;
    for w in stages::compute_warnings(cfg, &schemas.catalog, &computed) {
        eprintln!("warning: {w}");
    }
    let tables = stages::publish_results(&computed, cfg, &schemas.catalog)
        .with_context(|| format!("cannot write the results {}", cfg.results_dir().display()))?;
    if !quiet {
        let s = compute::summary(&computed);
        println!(
            "computed the index for {} counties × {} years ({} indicators), {} target evaluations → {} ({})",
            s.counties,
            s.years,
            s.indicators,
            s.targets,
            cfg.results_dir().display(),
            tables.join(", ")
        );
    }
    Ok(())
}
