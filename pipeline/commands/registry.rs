//! `cimon registry`: rebuild the national county registry from the NBS division-code snapshots.

use std::path::Path;

use anyhow::{Context, Result};

use crate::divisions;
use crate::regions::Registry;

pub fn run(dir: &Path, changes: &Path, out: &Path) -> Result<()> {
    let curated = if changes.is_file() { divisions::load_changes(changes)? } else { Vec::new() };
    let (regions, notes) = divisions::build(dir, &curated, changes)?;
    // What cimon writes it must be able to read.
    let registry = Registry::new(out, regions)?;
    let tmp = out.with_extension("csv.tmp");
    std::fs::write(&tmp, divisions::to_csv(&registry.regions))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    for r in &notes.reused {
        eprintln!("note: code reused: {r}");
    }
    for e in &notes.ended {
        eprintln!("note: ended without a successor (add it to {} if it has one): {e}", changes.display());
    }
    let zones = registry.regions.iter().filter(|r| r.is_zone()).count();
    println!(
        "wrote {}: {} codes ({} county-level units, {} functional zones), {} with a successor, {} ended without one",
        out.display(),
        registry.regions.len(),
        registry.regions.len() - zones,
        zones,
        registry.regions.iter().filter(|r| r.successor.is_some()).count(),
        notes.ended.len()
    );
    Ok(())
}
