//! `cimon run`, the yearly batch for cron: lock, check whether anything changed, ingest → compute →
//! report into one staging tree, publish all of it only when every stage succeeded, record a manifest.
//!
//! Publishing swaps `store/`, `results/` and `reports/` in one after the other (each an atomic
//! `RENAME_EXCHANGE`). A `READY` marker written before the first swap lets the next run finish
//! the publishing of a run killed half-way, so the three trees end up from the same run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::ingest::{self, InputFile};
use crate::manifest::{self, FileRecord, Manifest};
use crate::report;

use crate::{compute, store, Schemas};

/// The published trees, in publishing order.
const TREES: [&str; 3] = ["store", "results", "reports"];
/// Inside each staged tree: the run that built it (tells a finished swap from a pending one).
const RUN_ID: &str = ".run-id";
const READY: &str = "READY";
const STAGING_PREFIX: &str = ".run-";

/// What the caller needs to print.
pub struct Finished {
    pub manifest: Manifest,
    /// Publishing of an interrupted earlier run that this run completed first.
    pub recovered: Option<String>,
}

/// Stage messages (stderr) unless quiet.
pub trait Log: Sync {
    fn quiet(&self) -> bool;
    fn stage(&self, msg: &str);
    fn progress(&self, done: usize, total: usize, label: &str);
}

pub struct Options {
    pub force: bool,
}

fn record(path: &Path, bytes: &[u8]) -> FileRecord {
    FileRecord { file: path.display().to_string(), sha256: ingest::sha256_hex(bytes), bytes: bytes.len() as u64 }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Run the batch. Holds no lock itself: the caller holds the output directory's lock.
pub fn run(cfg: &Config, opts: &Options, log: &dyn Log) -> Result<Finished> {
    let started = Instant::now();
    let run_id = format!("{}-{}", manifest::utc_now().replace([':', '-'], ""), std::process::id());
    let mut m = Manifest {
        run_id: run_id.clone(),
        started: manifest::utc_now(),
        cimon_version: env!("CARGO_PKG_VERSION").into(),
        config_file: cfg.file.as_ref().map(|p| p.display().to_string()),
        ..Manifest::default()
    };
    // Every failure from here on is recorded, the schema files' included.
    let mut recovered = None;
    let result = recover(&cfg.out)
        .with_context(|| format!("cannot finish an interrupted run in {}", cfg.out.display()))
        .and_then(|r| {
            recovered = r;
            let schemas = crate::load_schemas(cfg, false)?;
            batch(cfg, &schemas, opts, log, &mut m, started)
        });
    m.finished = manifest::utc_now();
    m.timings.insert("total".into(), started.elapsed().as_secs_f64());
    match result {
        Ok(()) => {
            m.record(&cfg.out).with_context(|| format!("cannot write the run record in {}", cfg.out.display()))?;
            Ok(Finished { manifest: m, recovered })
        }
        Err(e) => {
            m.status = "failed".into();
            m.exit_code = crate::exit_code(&e);
            m.error = Some(format!("{e:#}"));
            let _ = m.record(&cfg.out);
            Err(e)
        }
    }
}

fn batch(cfg: &Config, schemas: &Schemas, opts: &Options, log: &dyn Log, m: &mut Manifest, t0: Instant) -> Result<()> {
    // Check: the tools, the templates and every input, before any work.
    let input_dir = cfg.input_dir()?;
    let tools = report::Tools::load(&cfg.report)?;
    m.typst_version = Some(tools.typst.version.clone());
    let files = ingest::collect_inputs(input_dir)?;
    m.inputs = files.iter().map(|f| record(Path::new(&f.name), &f.bytes)).collect();
    m.schemas = vec![record(&cfg.catalog, &read(&cfg.catalog)?), record(&cfg.regions, &read(&cfg.regions)?)];
    let targets_text = match &cfg.targets {
        Some(p) => {
            let bytes = read(p)?;
            m.schemas.push(record(p, &bytes));
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        None => None,
    };
    let settings = serde_json::json!({
        "method": cfg.method,
        "growth": cfg.growth,
        "sensitivity": cfg.sensitivity,
        "lang": cfg.report.lang,
        "year": cfg.report.year,
    });
    m.config_hash = ingest::sha256_hex(settings.to_string().as_bytes());
    // The report year is not known yet; the typst fingerprint without the date is enough here.
    let fp_parts = serde_json::json!({
        "cimon": m.cimon_version,
        "config": m.config_hash,
        "schemas": m.schemas.iter().map(|f| &f.sha256).collect::<Vec<_>>(),
        "inputs": m.inputs,
        "templates": tools.templates.fingerprint(),
        "typst": tools.typst.fingerprint(),
        "keep_sources": cfg.report.keep_sources,
        "source_date_epoch": std::env::var("SOURCE_DATE_EPOCH").ok(),
    });
    m.fingerprint = ingest::sha256_hex(fp_parts.to_string().as_bytes());
    m.timings.insert("check".into(), t0.elapsed().as_secs_f64());
    let previous = Manifest::published(&cfg.out);
    // The published trees must still be that run's: `ingest`, `compute` or `report` alone replace
    // a tree without a run id.
    let from_previous = |p: &Manifest| {
        TREES.iter().all(|t| std::fs::read_to_string(cfg.out.join(t).join(RUN_ID)).is_ok_and(|id| id == p.run_id))
    };
    if !opts.force && previous.as_ref().is_some_and(|p| p.fingerprint == m.fingerprint && from_previous(p)) {
        m.status = "unchanged".into();
        let p = previous.expect("checked above");
        m.outputs = p.outputs;
        log.stage(&format!(
            "nothing to do: inputs, settings, templates and typst are unchanged since run {} ({})",
            p.run_id, p.finished
        ));
        return Ok(());
    }

    let root = staging_root(&cfg.out)?;
    let outcome = stages(cfg, schemas, &tools, &files, targets_text.as_deref(), &root, log, m);
    let outcome = outcome.and_then(|()| {
        let t = Instant::now();
        for tree in TREES {
            std::fs::write(root.join(tree).join(RUN_ID), &m.run_id)?;
        }
        m.status = "published".into();
        m.outputs = list_outputs(&root);
        m.outputs.push(manifest::FILE.into());
        // The published copy cannot time its own publishing: the run record in runs/ has the final figures.
        m.timings.insert("publish".into(), 0.0);
        m.timings.insert("total".into(), t0.elapsed().as_secs_f64());
        m.finished = manifest::utc_now();
        std::fs::write(root.join(manifest::FILE), m.to_json())?;
        publish(&root, &cfg.out, &m.run_id)?;
        m.timings.insert("publish".into(), t.elapsed().as_secs_f64());
        log.stage(&format!("published {}", cfg.out.display()));
        Ok(())
    });
    if outcome.is_err() && root.exists() && !root.join(READY).exists() {
        let _ = std::fs::remove_dir_all(&root);
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
fn stages(
    cfg: &Config,
    schemas: &Schemas,
    tools: &report::Tools,
    files: &[InputFile],
    targets_text: Option<&str>,
    root: &Path,
    log: &dyn Log,
    m: &mut Manifest,
) -> Result<()> {
    // Ingest.
    let t = Instant::now();
    let ingested = match ingest::ingest(files, &schemas.catalog, &schemas.registry) {
        Ok(i) => i,
        Err(rejected) => {
            m.warnings = rejected.problems.iter().map(|p| p.to_string()).collect();
            crate::print_problems(&rejected.problems, log.quiet().then_some(10));
            return Err(anyhow::Error::new(rejected).context(format!(
                "input files in {} were refused; the published outputs are unchanged",
                cfg.input_dir()?.display()
            )));
        }
    };
    let store_dir = root.join("store");
    std::fs::create_dir_all(&store_dir)?;
    let written = store::write_into(&store_dir, &ingested, &schemas.catalog, &schemas.registry, targets_text)?;
    m.warnings = ingested.warnings.iter().map(|p| p.to_string()).collect();
    if !log.quiet() {
        crate::print_problems(&ingested.warnings, None);
    }
    m.rows.insert("observations".into(), ingested.observations.len() as u64);
    m.rows.insert("revisions".into(), ingested.revisions.len() as u64);
    m.rows.insert("warnings".into(), ingested.warnings.len() as u64);
    m.timings.insert("ingest".into(), t.elapsed().as_secs_f64());
    log.stage(&format!(
        "ingest: {} files, {} observations for {} years, {} warnings ({:.1} s)",
        files.len(),
        ingested.observations.len(),
        written.years.len(),
        ingested.warnings.len(),
        t.elapsed().as_secs_f64()
    ));
    drop(ingested);

    // Compute.
    let t = Instant::now();
    let computed = crate::compute_stage(cfg, schemas, &store_dir)?;
    let results_dir = root.join("results");
    std::fs::create_dir_all(&results_dir)?;
    compute::write_into(&results_dir, &computed, &schemas.catalog, &cfg.method, &cfg.growth)?;
    let s = compute::summary(&computed);
    m.rows.insert("index".into(), (s["counties"] * s["years"]) as u64);
    m.rows.insert("attainment".into(), s["targets"] as u64);
    m.timings.insert("compute".into(), t.elapsed().as_secs_f64());
    log.stage(&format!(
        "compute: {} counties × {} years, {} target evaluations ({:.1} s)",
        s["counties"],
        s["years"],
        s["targets"],
        t.elapsed().as_secs_f64()
    ));
    drop(computed);

    // Report.
    let t = Instant::now();
    let reports_dir = root.join("reports");
    std::fs::create_dir_all(&reports_dir)?;
    let published_reports = cfg.reports_dir();
    let inputs = report::Inputs {
        results: &results_dir,
        store: &store_dir,
        dir: &published_reports,
        catalog: &schemas.catalog,
        registry: &schemas.registry,
        targets: &schemas.targets,
    };
    let progress = |done: usize, total: usize, label: &str| log.progress(done, total, label);
    let outcome = report::render_into(&reports_dir, &inputs, &cfg.report, tools, &progress)?;
    m.reports_rendered = outcome.rendered;
    m.reports_reused = outcome.reused;
    m.rows.insert("reports".into(), outcome.files.len() as u64);
    m.timings.insert("report".into(), t.elapsed().as_secs_f64());
    log.stage(&format!(
        "report: {} reports for {} ({} rendered, {} unchanged) ({:.1} s)",
        outcome.files.len(),
        outcome.year,
        outcome.rendered,
        outcome.reused,
        t.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// A fresh staging tree for this run under the output directory.
fn staging_root(out: &Path) -> Result<PathBuf> {
    let root = out.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    Ok(root)
}

/// Every file of the staged trees, relative to the output directory.
fn list_outputs(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                if !rel.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                    out.push(rel.display().to_string());
                }
            }
        }
    }
    out.sort();
    out
}

/// Publish a complete staging tree: mark it ready (with the run id), swap each tree in, then the manifest.
fn publish(root: &Path, out: &Path, run_id: &str) -> Result<()> {
    // Everything READY points at is on disk before READY is.
    for tree in TREES {
        store::sync_tree(&root.join(tree))?;
    }
    std::fs::File::open(root.join(manifest::FILE))?.sync_all()?;
    let ready = root.join(READY);
    std::fs::write(&ready, run_id)?;
    std::fs::File::open(&ready)?.sync_all()?;
    std::fs::File::open(root)?.sync_all()?;
    finish(root, out)
}

/// Swap in every tree not yet swapped, then the manifest; remove the staging tree.
fn finish(root: &Path, out: &Path) -> Result<()> {
    let run_id = std::fs::read_to_string(root.join(READY)).unwrap_or_default();
    for tree in TREES {
        let staged = root.join(tree);
        let target = out.join(tree);
        let live = std::fs::read_to_string(target.join(RUN_ID)).unwrap_or_default();
        if !staged.exists() {
            // Swapped and cleaned up already; what is live may since have been replaced by a
            // standalone command, which is newer and stays.
            continue;
        }
        if !run_id.is_empty() && live == run_id {
            // Swapped already (an interrupted publish): what is staged is the old tree.
            let _ = std::fs::remove_dir_all(&staged);
            continue;
        }
        store::publish_dir(&staged, &target)?;
    }
    let manifest = root.join(manifest::FILE);
    if manifest.exists() {
        std::fs::rename(&manifest, out.join(manifest::FILE))?;
    }
    std::fs::remove_dir_all(root)?;
    Ok(())
}

/// Finish the publishing of a killed run (its staging tree is `READY`), and remove the staging
/// trees of runs killed before publishing. The caller holds the lock, so none of them is live;
/// every writing command calls this first.
pub fn recover(out: &Path) -> Result<Option<String>> {
    let mut recovered = None;
    for e in std::fs::read_dir(out).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(STAGING_PREFIX) || !e.path().is_dir() {
            continue;
        }
        if e.path().join(READY).exists() {
            recovered = std::fs::read_to_string(e.path().join(READY)).ok();
            finish(&e.path(), out)?;
        } else {
            std::fs::remove_dir_all(e.path())?;
        }
    }
    Ok(recovered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path, content: &str, run_id: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("data"), content).unwrap();
        std::fs::write(dir.join(RUN_ID), run_id).unwrap();
    }

    fn read(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("data")).unwrap()
    }

    /// Killed after swapping `store` but before `results` and `reports`: the next run finishes
    /// the job, so all three trees and the manifest come from the same run.
    #[test]
    fn an_interrupted_publish_is_rolled_forward() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        for t in TREES {
            tree(&out.join(t), "old", "run-a");
        }
        std::fs::write(out.join(manifest::FILE), "a").unwrap();
        let root = out.join(".run-123");
        for t in TREES {
            tree(&root.join(t), "new", "run-b");
        }
        std::fs::write(root.join(manifest::FILE), "b").unwrap();
        std::fs::write(root.join(READY), "run-b").unwrap();
        store::publish_dir(&root.join("store"), &out.join("store")).unwrap();
        assert_eq!((read(&out.join("store")), read(&out.join("results"))), ("new".into(), "old".into()));

        assert_eq!(recover(out).unwrap().as_deref(), Some("run-b"));
        for t in TREES {
            assert_eq!(read(&out.join(t)), "new", "{t}");
        }
        assert_eq!(std::fs::read_to_string(out.join(manifest::FILE)).unwrap(), "b");
        assert!(!root.exists());
    }

    /// Killed after the store's swap; then `cimon ingest` replaced the store. Recovery must not
    /// stumble over the staged store that is gone, nor undo the newer store.
    #[test]
    fn recovery_after_a_standalone_command_keeps_the_newer_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        for t in TREES {
            tree(&out.join(t), "old", "run-a");
        }
        let root = out.join(".run-5");
        for t in TREES {
            tree(&root.join(t), "new", "run-b");
        }
        std::fs::write(root.join(READY), "run-b").unwrap();
        store::publish_dir(&root.join("store"), &out.join("store")).unwrap();
        std::fs::remove_dir_all(out.join("store")).unwrap();
        std::fs::create_dir_all(out.join("store")).unwrap();
        std::fs::write(out.join("store/data"), "ingested").unwrap();
        recover(out).unwrap();
        assert_eq!(read(&out.join("store")), "ingested");
        assert_eq!(read(&out.join("results")), "new");
        assert!(!root.exists());
    }

    /// A staging tree that never became READY is dropped; the published trees stay.
    #[test]
    fn an_unfinished_staging_tree_is_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        tree(&out.join("store"), "old", "run-a");
        tree(&out.join(".run-9/store"), "half", "run-b");
        assert_eq!(recover(out).unwrap(), None);
        assert_eq!(read(&out.join("store")), "old");
        assert!(!out.join(".run-9").exists());
    }
}
