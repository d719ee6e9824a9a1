//! cimon: county innovation monitoring — ingest → compute → report, driven by `run`.

pub mod catalog;
pub mod cli;
pub mod compute;
pub mod config;
pub mod ingest;
pub mod lock;
pub mod manifest;
pub mod regions;
pub mod report;
pub mod run;
pub mod store;
pub mod synth;
pub mod targets;
pub mod text;
pub mod workbook;

use std::io::Write;

use anyhow::{Context, Result};

use crate::catalog::Catalog;
use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::ingest::{Problem, Rejected, Severity};
use crate::regions::Registry;

/// Exit codes; cron jobs rely on them (documented in README.md).
pub mod exit {
    pub const OK: u8 = 0;
    /// Unexpected failure (I/O, a bug).
    pub const INTERNAL: u8 = 1;
    /// Bad command line, config file or schema file.
    pub const USAGE: u8 = 2;
    /// The input data failed validation; nothing was written.
    pub const DATA: u8 = 3;
    /// An external tool (typst) is missing or failed.
    pub const EXTERNAL: u8 = 4;
    /// Another run holds the output directory's lock.
    pub const LOCKED: u8 = 5;
}

/// The commented starter config that `cimon init` writes; every key and its default.
pub const STARTER_CONFIG: &str = include_str!("starter.toml");

/// `cimon init` never overwrites a config.
#[derive(Debug, thiserror::Error)]
#[error("{} exists already; remove it or choose another directory", .0.display())]
pub struct InitError(std::path::PathBuf);

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate(a) => {
            let cfg = a.common.config(a.input.clone())?;
            let (_, ingested) = ingest_stage(&cfg, a.common.quiet)?;
            if !a.common.quiet {
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
        Command::Ingest(a) => {
            let cfg = a.common.config(a.input.clone())?;
            let _lock = locked(&cfg.out, "cimon ingest")?;
            let (schemas, ingested) = ingest_stage(&cfg, a.common.quiet)?;
            let targets_text = match &cfg.targets {
                Some(p) => Some(
                    std::fs::read_to_string(p).with_context(|| format!("cannot read targets file {}", p.display()))?,
                ),
                None => None,
            };
            let written =
                store::write(&cfg.store_dir(), &ingested, &schemas.catalog, &schemas.registry, targets_text.as_deref())
                    .with_context(|| format!("cannot write the store {}", cfg.store_dir().display()))?;
            if !a.common.quiet {
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
            Ok(())
        }
        Command::Synth(a) => synth::run(&a),
        Command::Compute(a) => {
            let cfg = a.config(None)?;
            let _lock = locked(&cfg.out, "cimon compute")?;
            let schemas = load_schemas(&cfg, true)?;
            let computed = compute_stage(&cfg, &schemas, &cfg.store_dir())?;
            let tables = compute::write(&cfg.results_dir(), &computed, &schemas.catalog, &cfg.method, &cfg.growth)
                .with_context(|| format!("cannot write the results {}", cfg.results_dir().display()))?;
            if !a.quiet {
                let s = compute::summary(&computed);
                println!(
                    "computed the index for {} counties × {} years ({} indicators), {} target evaluations → {} ({})",
                    s["counties"],
                    s["years"],
                    s["indicators"],
                    s["targets"],
                    cfg.results_dir().display(),
                    tables.join(", ")
                );
            }
            Ok(())
        }
        Command::Report(a) => {
            let cfg = a.config()?;
            let _lock = locked(&cfg.out, "cimon report")?;
            report_stage(&cfg, a.common.quiet)?;
            Ok(())
        }
        Command::Run(a) => {
            let cfg = a.config()?;
            let quiet = a.report.common.quiet;
            let _lock = lock::acquire(&cfg.out, "cimon run")?;
            let console = Console::new(quiet);
            let done = run::run(&cfg, &run::Options { force: a.force }, &console)?;
            if let Some(id) = &done.recovered {
                run::Log::stage(&console, &format!("finished publishing the interrupted run {id} first"));
            }
            if !quiet {
                let m = &done.manifest;
                println!(
                    "{}: run {} in {:.1} s → {} (manifest {}/{})",
                    m.status,
                    m.run_id,
                    m.timings.get("total").copied().unwrap_or(0.0),
                    cfg.out.display(),
                    manifest::RUNS_DIR,
                    format_args!("{}.json", m.run_id),
                );
            }
            Ok(())
        }
        Command::Explain(a) => {
            let cfg = a.common.config(None)?;
            let catalog = Catalog::load(&cfg.catalog)?;
            let registry = Registry::load(&cfg.regions)?;
            print!("{}", compute::explain::explain(&cfg.results_dir(), &a.county, a.year, &registry, &catalog)?);
            Ok(())
        }
        Command::Init(a) => {
            let path = a.dir.join("cimon.toml");
            if path.exists() {
                return Err(InitError(path).into());
            }
            std::fs::create_dir_all(&a.dir).with_context(|| format!("cannot create {}", a.dir.display()))?;
            std::fs::write(&path, STARTER_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote {}: edit the paths, then run `cimon run --config {0}`", path.display());
            Ok(())
        }
    }
}

/// The schema files every stage needs.
pub struct Schemas {
    pub catalog: Catalog,
    pub registry: Registry,
    pub targets: Vec<targets::Target>,
}

/// Targets come from the config; `compute` (`from_store`) falls back to the copy the last
/// ingest kept in the store, which an ingest is about to replace and so never reads.
pub fn load_schemas(cfg: &Config, from_store: bool) -> Result<Schemas> {
    let catalog = Catalog::load(&cfg.catalog)?;
    let registry = Registry::load(&cfg.regions)?;
    let in_store = cfg.store_dir().join(store::TARGETS_FILE);
    let targets = match &cfg.targets {
        Some(p) => targets::load(p, &catalog, &registry)?,
        None if from_store && in_store.is_file() => targets::load(&in_store, &catalog, &registry)?,
        None => Vec::new(),
    };
    Ok(Schemas { catalog, registry, targets })
}

/// The compute stage on the store in `store_dir`, with the config's method choices (`compute`
/// and `run` both call this).
pub(crate) fn compute_stage(
    cfg: &Config,
    schemas: &Schemas,
    store_dir: &std::path::Path,
) -> Result<compute::Computed, compute::ComputeError> {
    compute::compute(
        store_dir,
        &schemas.catalog,
        &schemas.registry,
        &schemas.targets,
        &cfg.method,
        &cfg.growth,
        &cfg.sensitivity,
    )
}

/// Render and publish the PDF reports, with progress on stderr (a bar on a terminal, lines otherwise).
fn report_stage(cfg: &Config, quiet: bool) -> Result<report::Outcome> {
    let schemas = load_schemas(cfg, true)?;
    let (store_dir, results_dir, reports_dir) = (cfg.store_dir(), cfg.results_dir(), cfg.reports_dir());
    let inputs = report::Inputs {
        results: &results_dir,
        store: &store_dir,
        dir: &reports_dir,
        catalog: &schemas.catalog,
        registry: &schemas.registry,
        targets: &schemas.targets,
    };
    let console = Console::new(quiet);
    let progress = |done: usize, total: usize, label: &str| run::Log::progress(&console, done, total, label);
    let started = std::time::Instant::now();
    let outcome = report::render(&inputs, &cfg.report, &progress)?;
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
    Ok(outcome)
}

/// Take the output directory's lock and finish an interrupted `cimon run` before writing anything.
fn locked(out: &std::path::Path, what: &str) -> Result<lock::Lock> {
    let l = lock::acquire(out, what)?;
    if let Some(id) =
        run::recover(out).with_context(|| format!("cannot finish an interrupted run in {}", out.display()))?
    {
        eprintln!("finished publishing the interrupted run {id} first");
    }
    Ok(l)
}

/// Progress and stage lines on stderr: a bar on a terminal, plain lines otherwise, nothing when quiet.
struct Console {
    quiet: bool,
    tty: bool,
}

impl Console {
    fn new(quiet: bool) -> Console {
        use std::io::IsTerminal;
        Console { quiet, tty: std::io::stderr().is_terminal() }
    }
}

impl run::Log for Console {
    fn quiet(&self) -> bool {
        self.quiet
    }

    fn stage(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    fn progress(&self, done: usize, total: usize, label: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let filled = done * width / total.max(1);
            let _ =
                write!(err, "\r\x1b[2K[{}{}] {done}/{total} {label}", "#".repeat(filled), " ".repeat(width - filled));
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
        } else {
            let _ = writeln!(err, "rendered {done}/{total}: {label}");
        }
    }
}

/// Read and validate the inputs, printing every problem to stderr.
fn ingest_stage(cfg: &Config, quiet: bool) -> Result<(Schemas, ingest::Ingested)> {
    let schemas = load_schemas(cfg, false)?;
    let dir = cfg.input_dir()?;
    let files = ingest::collect_inputs(dir)?;
    match ingest::ingest(&files, &schemas.catalog, &schemas.registry) {
        Ok(ingested) => {
            if !quiet {
                print_problems(&ingested.warnings, None);
            }
            Ok((schemas, ingested))
        }
        Err(rejected) => {
            print_problems(&rejected.problems, None);
            Err(anyhow::Error::new(rejected)
                .context(format!("input files in {} were refused; nothing was written", dir.display())))
        }
    }
}

/// Problems to stderr, errors first; `limit` shortens the list (cron's `--quiet`).
pub(crate) fn print_problems(problems: &[Problem], limit: Option<usize>) {
    let mut err = std::io::stderr().lock();
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by(|a, b| (a.severity, &a.loc).cmp(&(b.severity, &b.loc)));
    let shown = limit.unwrap_or(sorted.len()).min(sorted.len());
    for p in &sorted[..shown] {
        let _ = writeln!(err, "{p}");
    }
    if shown < sorted.len() {
        let _ =
            writeln!(err, "… and {} more (all of them are in the run's manifest under runs/)", sorted.len() - shown);
    }
}

/// The exit code for an error, from the first classified error in its chain.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<Rejected>() {
            return exit::DATA;
        }
        if cause.is::<config::ConfigError>()
            || cause.is::<catalog::CatalogError>()
            || cause.is::<regions::RegistryError>()
            || cause.is::<targets::TargetsError>()
            || cause.is::<ingest::InputError>()
            || cause.is::<InitError>()
            || cause.is::<compute::index::IndexError>()
            || cause.is::<compute::explain::ExplainError>()
            || missing_store(cause)
        {
            return exit::USAGE;
        }
        if let Some(e) = cause.downcast_ref::<lock::LockError>() {
            return match e {
                lock::LockError::Held { .. } => exit::LOCKED,
                lock::LockError::Io { .. } => exit::INTERNAL,
            };
        }
        if let Some(e) = cause.downcast_ref::<report::ReportError>() {
            return match e {
                report::ReportError::Typst(_) | report::ReportError::Failed { template_only: false, .. } => {
                    exit::EXTERNAL
                }
                report::ReportError::Template(_)
                | report::ReportError::NoResults { .. }
                | report::ReportError::Failed { template_only: true, .. }
                | report::ReportError::Context(report::context::ContextError::NoYear { .. }) => exit::USAGE,
                report::ReportError::Store(store::StoreError::Missing { .. }) => exit::USAGE,
                _ => exit::INTERNAL,
            };
        }
    }
    exit::INTERNAL
}

/// The store has not been written yet (directly, or inside a compute error).
fn missing_store(cause: &(dyn std::error::Error + 'static)) -> bool {
    matches!(cause.downcast_ref::<store::StoreError>(), Some(store::StoreError::Missing { .. }))
        || matches!(
            cause.downcast_ref::<compute::ComputeError>(),
            Some(compute::ComputeError::Store(store::StoreError::Missing { .. }))
        )
}

/// A one-line suggestion printed under the error, when there is an obvious next step.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    for cause in err.chain() {
        if let Some(r) = cause.downcast_ref::<Rejected>() {
            let errors = r.problems.iter().filter(|p| p.severity == Severity::Error).count();
            return Some(format!(
                "fix the {errors} error(s) listed above and run again; the previous store is unchanged"
            ));
        }
        if let Some(e) = cause.downcast_ref::<report::ReportError>() {
            match e {
                report::ReportError::Typst(t) => return Some(report::typst::hint(t)),
                report::ReportError::NoResults { .. } => {
                    return Some("run `cimon ingest` and `cimon compute` with the same --out first".into())
                }
                report::ReportError::Failed { template_only: true, .. } | report::ReportError::Template(_) => {
                    return Some("fix the template named above; `--keep-sources` keeps the generated .typ files".into())
                }
                report::ReportError::Failed { .. } => {
                    return Some("run again with --keep-sources to inspect the generated .typ files".into())
                }
                _ => {}
            }
        }
        if let Some(config::ConfigError::Invalid { .. }) = cause.downcast_ref::<config::ConfigError>() {
            return Some(
                "`cimon init DIR` writes a starter config with every key, its allowed values and default".into(),
            );
        }
        if let Some(lock::LockError::Held { .. }) = cause.downcast_ref::<lock::LockError>() {
            return Some("wait for the other run to finish; a killed run's lock is released by the system".into());
        }
        if missing_store(cause) {
            return Some("run `cimon ingest INPUT_DIR --out DIR` (then `cimon compute`) with the same --out".into());
        }
        if let Some(catalog::CatalogError::Io { .. }) = cause.downcast_ref::<catalog::CatalogError>() {
            return Some(
                "run from the project directory, or pass --catalog / set [schemas] catalog in the config".into(),
            );
        }
        if let Some(regions::RegistryError::Io { .. }) = cause.downcast_ref::<regions::RegistryError>() {
            return Some(
                "run from the project directory, or pass --regions / set [schemas] regions in the config".into(),
            );
        }
    }
    None
}
