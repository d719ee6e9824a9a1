//! `cimon run`, the yearly batch for cron: lock, check whether anything changed, ingest → compute →
//! report into one staging tree with the same stage functions the single commands use, publish
//! all of it only when every stage succeeded (`publish`), and record a manifest of the run.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::console::{Console, Log};
use crate::ingest::InputFile;
use crate::manifest::{self, FileRecord, Manifest};
use crate::publish::{self, TREES};
use crate::stages::{self, Schemas};
use crate::{compute, lock, report, store};

pub fn run(cfg: &Config, quiet: bool, force: bool) -> Result<()> {
    let _lock = lock::acquire(&cfg.out, "cimon run")?;
    let console = Console::new(quiet);
    let started = Instant::now();
    let run_id = format!("{}-{}", crate::timing::utc_now().replace([':', '-'], ""), std::process::id());
    let mut m = Manifest {
        run_id: run_id.clone(),
        started: crate::timing::utc_now(),
        cimon_version: env!("CARGO_PKG_VERSION").into(),
        config_file: cfg.file.as_ref().map(|p| p.display().to_string()),
        ..Manifest::default()
    };
    // Every failure from here on is recorded, the schema files' included.
    let result = publish::recover(&cfg.out)
        .with_context(|| format!("cannot finish an interrupted run in {}", cfg.out.display()))
        .and_then(|recovered| {
            if let Some(id) = recovered {
                console.stage(&format!("finished publishing the interrupted run {id} first"));
            }
            let schemas = stages::load_schemas(cfg, false)?;
            batch(cfg, &schemas, force, &console, &mut m, started)
        });
    m.finished = crate::timing::utc_now();
    m.timings.insert("total".into(), started.elapsed().as_secs_f64());
    m.peak_rss_mb = crate::timing::peak_rss_mb();
    if let Err(e) = result {
        m.status = "failed".into();
        m.exit_code = crate::exit::code(&e);
        m.error = Some(format!("{e:#}"));
        let _ = m.record(&cfg.out);
        return Err(e);
    }
    m.record(&cfg.out).with_context(|| format!("cannot write the run record in {}", cfg.out.display()))?;
    if !quiet {
        println!(
            "{}: run {} in {:.1} s → {} (manifest {}/{}.json)",
            m.status,
            m.run_id,
            m.timings.get("total").copied().unwrap_or(0.0),
            cfg.out.display(),
            manifest::RUNS_DIR,
            m.run_id,
        );
    }
    Ok(())
}

fn record(path: &Path, bytes: &[u8]) -> FileRecord {
    FileRecord { file: path.display().to_string(), sha256: crate::text::sha256_hex(bytes), bytes: bytes.len() as u64 }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn batch(cfg: &Config, schemas: &Schemas, force: bool, log: &dyn Log, m: &mut Manifest, t0: Instant) -> Result<()> {
    // Check: the tools, the templates and every input, before any work.
    cfg.input_dir()?;
    let tools = report::Tools::load(&cfg.report)?;
    // As `cimon doctor` checks it, in the same words.
    super::doctor::output_ready(&cfg.out)?;
    m.typst_version = Some(tools.typst.version.clone());
    let files = stages::input_files(cfg)?;
    m.inputs = files.iter().filter(|f| f.same_as.is_none()).map(|f| record(Path::new(&f.name), &f.bytes)).collect();
    // A schema configured is recorded by its file; a built-in one by what is built in.
    let schema = |path: &Option<std::path::PathBuf>, builtin: (&str, &str)| -> Result<FileRecord> {
        Ok(match path {
            Some(p) => record(p, &read(p)?),
            None => record(Path::new(builtin.0), builtin.1.as_bytes()),
        })
    };
    m.schemas = vec![
        schema(&cfg.catalog, (crate::catalog::BUILTIN_PATH, crate::catalog::BUILTIN))?,
        schema(&cfg.regions, (crate::regions::BUILTIN_PATH, crate::regions::BUILTIN))?,
    ];
    let targets_text = stages::targets_text(cfg)?;
    if let Some(p) = &cfg.targets {
        m.schemas.push(record(p, &read(p)?));
    }
    let settings = serde_json::json!({
        "method": cfg.method,
        "growth": cfg.growth,
        "sensitivity": cfg.sensitivity,
        "lang": cfg.report.lang,
        "year": cfg.report.year,
        "province_reports": cfg.report.province_reports,
    });
    m.config_hash = crate::text::sha256_hex(settings.to_string().as_bytes());
    // The report year is not known yet; the typst fingerprint without the date is enough here.
    let fp_parts = serde_json::json!({
        "cimon": m.cimon_version,
        "config": m.config_hash,
        "schemas": m.schemas.iter().map(|f| &f.sha256).collect::<Vec<_>>(),
        "inputs": m.inputs,
        "templates": tools.templates.fingerprint(),
        "typst": tools.typst.fingerprint(),
        "keep_sources": cfg.report.keep_sources,
        "site": cfg.site,
        "source_date_epoch": std::env::var("SOURCE_DATE_EPOCH").ok(),
    });
    m.fingerprint = crate::text::sha256_hex(fp_parts.to_string().as_bytes());
    m.timings.insert("check".into(), t0.elapsed().as_secs_f64());
    let previous = Manifest::published(&cfg.out);
    // The published trees must still be that run's: `ingest`, `compute` or `report` alone replace
    // a tree without a run id.
    // The trees this run publishes: the site only when it builds one.
    let trees: Vec<&str> = TREES.iter().copied().filter(|t| *t != crate::site::DIR || cfg.site.enabled).collect();
    let from_previous = |p: &Manifest| {
        trees
            .iter()
            .all(|t| std::fs::read_to_string(cfg.out.join(t).join(publish::RUN_ID)).is_ok_and(|id| id == p.run_id))
    };
    if !force && previous.as_ref().is_some_and(|p| p.fingerprint == m.fingerprint && from_previous(p)) {
        m.status = "unchanged".into();
        let p = previous.expect("checked above");
        m.outputs = p.outputs;
        log.stage(&format!(
            "nothing to do: inputs, settings, templates and typst are unchanged since run {} ({})",
            p.run_id, p.finished
        ));
        return Ok(());
    }

    let root = publish::staging_root(&cfg.out)?;
    let outcome = run_stages(cfg, schemas, &tools, &files, targets_text.as_deref(), &root, log, m);
    let outcome = outcome.and_then(|()| {
        let t = Instant::now();
        let staged = |what: &str| format!("cannot write {what} into the staging tree {}", root.display());
        for tree in &trees {
            std::fs::write(root.join(tree).join(publish::RUN_ID), &m.run_id).with_context(|| staged("the run id"))?;
        }
        m.status = "published".into();
        m.outputs = publish::list_outputs(&root);
        m.outputs.push(manifest::FILE.into());
        // The published copy cannot time its own publishing: the run record in runs/ has the final figures.
        m.timings.insert("publish".into(), 0.0);
        m.timings.insert("total".into(), t0.elapsed().as_secs_f64());
        m.finished = crate::timing::utc_now();
        std::fs::write(root.join(manifest::FILE), m.to_json()).with_context(|| staged("the manifest"))?;
        publish::publish(&root, &cfg.out, &m.run_id)
            .with_context(|| format!("cannot publish the run into {}", cfg.out.display()))?;
        m.timings.insert("publish".into(), t.elapsed().as_secs_f64());
        log.stage(&format!("published {}", cfg.out.display()));
        // A web explorer left from an earlier run shows that run's figures: say so, even when quiet.
        let site = cfg.out.join(crate::site::DIR);
        if !cfg.site.enabled && site.is_dir() {
            let warning = format!(
                "warning: {} is from an earlier run and was not rebuilt ([site] is off): it does not show \
                 these results; run `cimon site`, set [site] enabled = true, or remove it",
                site.display()
            );
            eprintln!("{warning}");
            m.warnings.push(warning);
        }
        Ok(())
    });
    if outcome.is_err() {
        publish::discard_unpublished(&root);
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
fn run_stages(
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
    let pages = crate::memory::small_pages();
    let checked = stages::ingest(files, cfg, schemas, log, log.quiet().then_some(10));
    // The problem list is the clerks' copy of this input check, refused or not (OUT/problems.xlsx).
    let list = match &checked {
        Ok(i) => &i.warnings,
        Err(r) => &r.problems,
    };
    stages::problem_list(&cfg.out.join(crate::problem_list::FILE), list, cfg, schemas, log)?;
    let ingested = checked.map_err(|rejected| {
        m.warnings = rejected.problems.iter().map(|p| p.to_string()).collect();
        let dir = cfg.input.as_deref().unwrap_or(Path::new(""));
        anyhow::Error::new(rejected).context(stages::refused(dir, cfg.messages, true))
    })?;
    let store_dir = root.join("store");
    std::fs::create_dir_all(&store_dir)?;
    let written = store::write_into(&store_dir, &ingested, &schemas.catalog, &schemas.registry, targets_text)
        .with_context(|| format!("cannot write the new store (staged in {})", root.display()))?;
    m.warnings = ingested.warnings.iter().map(|p| p.to_string()).collect();
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
    let computed = stages::compute(cfg, schemas, &store_dir)?;
    for w in stages::compute_warnings(cfg, &schemas.catalog, &computed) {
        eprintln!("warning: {w}");
        m.warnings.push(w);
    }
    let results_dir = root.join("results");
    std::fs::create_dir_all(&results_dir)?;
    stages::write_results(&results_dir, &computed, cfg, &schemas.catalog)
        .with_context(|| format!("cannot write the results (staged in {})", root.display()))?;
    let s = compute::summary(&computed);
    m.rows.insert("index".into(), (s.counties * s.years) as u64);
    m.rows.insert("attainment".into(), s.targets as u64);
    m.timings.insert("compute".into(), t.elapsed().as_secs_f64());
    log.stage(&format!(
        "compute: {} counties × {} years, {} target evaluations ({:.1} s)",
        s.counties,
        s.years,
        s.targets,
        t.elapsed().as_secs_f64()
    ));
    drop(computed);
    drop(pages);

    // Report.
    let t = Instant::now();
    let reports_dir = root.join("reports");
    std::fs::create_dir_all(&reports_dir)?;
    let outcome = stages::report(cfg, schemas, tools, (&results_dir, &store_dir), Some(&reports_dir), log)?;
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

    // The web explorer, from the same tables and PDFs.
    if cfg.site.enabled {
        let t = Instant::now();
        let site_dir = root.join(crate::site::DIR);
        std::fs::create_dir_all(&site_dir)?;
        let o = stages::site(cfg, schemas, (&results_dir, &store_dir, Some(&reports_dir)), Some(&site_dir))
            .with_context(|| format!("cannot build the site (staged in {})", root.display()))?;
        m.rows.insert("site_pages".into(), o.pages as u64);
        m.timings.insert("site".into(), t.elapsed().as_secs_f64());
        log.stage(&format!("site: {} pages ({:.1} s)", o.pages, t.elapsed().as_secs_f64()));
    }
    Ok(())
}
