//! `cimon doctor`: what a batch needs, checked before cron runs it — the config and every path in
//! it, the input files, the schemas, typst and the fonts the templates name, a writable output
//! directory with room, the lock — each problem with what to do. `run` makes the same checks of
//! the output directory before it starts, in the same words.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::config::Config;
use crate::{ingest, lock, report, stages};

/// Some check failed: a run would fail. Its exit code is the first failure's.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {checked} checks failed: a run would fail; fix what is named above and run `cimon doctor` again")]
pub struct Failed {
    pub failed: usize,
    pub checked: usize,
    #[source]
    pub first: anyhow::Error,
}

pub fn run(cfg: &Config) -> Result<()> {
    let mut checks: Vec<(&str, Result<String>)> = Vec::new();
    checks.push((
        "config",
        Ok(cfg.file.as_ref().map_or("no config file: the built-in defaults".into(), |f| format!("{}", f.display()))),
    ));
    checks.push(("input files", input(cfg)));
    let schemas = stages::load_schemas(cfg, true);
    checks.push((
        "schemas",
        schemas.as_ref().map_err(|e| anyhow::anyhow!("{e:#}")).map(|s| {
            format!(
                "catalog {} ({} indicators), registry {} ({} units), {} targets",
                s.catalog.path.display(),
                s.catalog.indicators.len(),
                s.registry.path.display(),
                s.registry.regions.len(),
                s.targets.len()
            )
        }),
    ));
    if let Err(e) = schemas {
        // The real error, with its class, for the exit code.
        checks.last_mut().expect("pushed").1 = Err(e);
    }
    checks.push((
        "typst and fonts",
        report::Tools::load(&cfg.report).map_err(anyhow::Error::from).map(|t| {
            format!(
                "typst {} ({}), templates {}, fonts in {}",
                t.typst.version,
                t.typst.path.display(),
                cfg.report.templates.as_ref().map_or("built in".into(), |d| d.display().to_string()),
                cfg.report.fonts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )
        }),
    ));
    checks.push(("output directory", output_ready(&cfg.out)));
    checks.push(("lock", lock::probe(&cfg.out).map(|()| "free".into()).map_err(anyhow::Error::from)));
    checks.push(("earlier runs", Ok(earlier_runs(&cfg.out))));

    let checked = checks.len();
    let mut first = None;
    let mut failed = 0;
    for (what, outcome) in checks {
        match outcome {
            Ok(detail) => println!("ok    {what}: {detail}"),
            Err(e) => {
                failed += 1;
                println!("FAIL  {what}: {e:#}");
                if let Some(hint) = crate::exit::hint(&e) {
                    println!("      → {hint}");
                }
                first.get_or_insert(e);
            }
        }
    }
    match first {
        None => {
            println!(
                "a run can start: `cimon run{}`",
                cfg.file.as_ref().map_or(String::new(), |f| format!(" --config {}", f.display()))
            );
            Ok(())
        }
        Some(first) => Err(Failed { failed, checked, first }.into()),
    }
}

/// The input directory exists and holds at least one file cimon reads.
fn input(cfg: &Config) -> Result<String> {
    let dir = cfg.input_dir()?;
    // The walk ingest makes, so that doctor and run agree on what is there.
    let tables = ingest::list_inputs(dir, &[])?.tables;
    Ok(format!("{} ({tables} table files)", dir.display()))
}

/// Bytes of every file under `dir`.
fn size(dir: &Path) -> u64 {
    let mut stack = vec![dir.to_path_buf()];
    let mut total = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// The output directory can be written, and its disk is not full; with a note when its room is
/// less than a run is likely to need (a new copy of the published trees is built beside them).
pub fn output_ready(out: &Path) -> Result<String> {
    let existing: PathBuf = out.ancestors().find(|p| p.is_dir()).unwrap_or(Path::new(".")).to_path_buf();
    let probe = existing.join(format!(".cimon-doctor-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("output directory {}: cannot write into {}", out.display(), existing.display()))?;
    let _ = std::fs::remove_file(&probe);
    let free = crate::tables::free_bytes(&existing).unwrap_or(u64::MAX);
    let mb = |b: u64| b >> 20;
    if crate::tables::disk_full(&existing) {
        return Err(anyhow::Error::new(std::io::Error::from_raw_os_error(libc::ENOSPC)).context(format!(
            "output directory {}: {} MB free",
            out.display(),
            mb(free)
        )));
    }
    let published: u64 = ["store", "results", "reports"].iter().map(|t| size(&out.join(t))).sum();
    let room = if free < 2 * published {
        format!(
            "; but a run builds a new copy of the published outputs ({} MB) beside them: it may run out of room",
            mb(published)
        )
    } else {
        String::new()
    };
    Ok(format!("{}: writable, {} MB free{room}", out.display(), mb(free)))
}

/// Runs killed before: what the next run does with their staging trees.
fn earlier_runs(out: &Path) -> String {
    let mut notes = Vec::new();
    for e in std::fs::read_dir(out).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(".run-") || !e.path().is_dir() {
            continue;
        }
        notes.push(if e.path().join("READY").is_file() {
            format!("{name} was killed while publishing: the next run finishes publishing it first")
        } else {
            format!("{name} was killed before publishing: the next run removes it")
        });
    }
    if notes.is_empty() {
        "none interrupted".into()
    } else {
        notes.join("; ")
    }
}
