//! The pipeline stages as the commands share them: load the schemas, ingest (validate and report
//! every problem), compute, render the reports. `cimon run` composes the same functions as
//! `ingest`, `compute` and `report` do one by one.

use std::path::Path;

use anyhow::{Context, Result};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::console::{print_problems, Log};
use crate::ingest::{self, Ingested, InputFile, Rejected};
use crate::regions::Registry;
use crate::scope::Scope;
use crate::{compute, report, store, targets};

/// The schema files every stage needs.
pub struct Schemas {
    pub catalog: Catalog,
    pub registry: Registry,
    pub targets: Vec<targets::Target>,
    pub scope: Scope,
}

/// Targets come from the config; `compute` and `report` (`from_store`) fall back to the copy
/// the last ingest kept in the store, which an ingest is about to replace and so never reads.
pub fn load_schemas(cfg: &Config, from_store: bool) -> Result<Schemas> {
    let catalog = Catalog::load(&cfg.catalog)?;
    let registry = Registry::load(&cfg.regions)?;
    let in_store = cfg.store_dir().join(store::TARGETS_FILE);
    let targets = match &cfg.targets {
        Some(p) => targets::load(p, &catalog, &registry)?,
        None if from_store && in_store.is_file() => targets::load(&in_store, &catalog, &registry)?,
        None => Vec::new(),
    };
    // A confirmation must name a county and an indicator that exist.
    for (n, c) in cfg.confirmed.iter().enumerate() {
        let known = registry.get(&c.county).is_some() && catalog.indicator(&c.indicator).is_some();
        if !known {
            return Err(crate::config::ConfigError::Invalid {
                path: cfg.file.clone().unwrap_or_default(),
                message: format!(
                    "[[input.confirmed]] #{}: county \"{}\" or indicator \"{}\" is not in the registry or the catalog",
                    n + 1,
                    c.county,
                    c.indicator
                ),
            }
            .into());
        }
    }
    let scope = Scope::resolve(&cfg.scope, &registry)
        .with_context(|| format!("config file {}", cfg.file.as_deref().unwrap_or(Path::new("(none)")).display()))?;
    Ok(Schemas { catalog, registry, targets, scope })
}

/// The input files of the configured directory; a targets workbook among them is not data.
pub fn input_files(cfg: &Config) -> Result<Vec<InputFile>> {
    let skip: Vec<&Path> = cfg.targets.iter().chain(&cfg.file).map(|p| p.as_path()).collect();
    Ok(crate::ingest::collect_inputs(cfg.input_dir()?, &skip)?)
}

/// The targets as TOML, kept in the store beside the data they judge (a workbook's rows as
/// written, so that the copy reads back as the workbook did).
pub fn targets_text(cfg: &Config) -> Result<Option<String>> {
    let Some(p) = &cfg.targets else { return Ok(None) };
    if targets::is_workbook(p) {
        return Ok(Some(targets::workbook_as_toml(p)?));
    }
    std::fs::read_to_string(p).map(Some).with_context(|| format!("cannot read targets file {}", p.display()))
}

/// Validate the input files. Every problem goes to stderr in the config's message language,
/// errors first (warnings only when not quiet; `limit` shortens a refusal's list, as `run -q` does).
pub fn ingest(
    files: &[InputFile],
    cfg: &Config,
    schemas: &Schemas,
    log: &dyn Log,
    limit: Option<usize>,
) -> Result<Ingested, Rejected> {
    match ingest::ingest(files, &schemas.catalog, &schemas.registry, &schemas.scope, &cfg.confirmed) {
        Ok(ingested) => {
            if !log.quiet() {
                print_problems(&ingested.warnings, limit, cfg.messages);
            }
            Ok(ingested)
        }
        Err(mut rejected) => {
            rejected.lang = cfg.messages;
            print_problems(&rejected.problems, limit, cfg.messages);
            Err(rejected)
        }
    }
}

/// Write the problem list workbook (问题清单) and say where it is, in the messages' language.
pub fn problem_list(
    path: &Path,
    problems: &[ingest::Problem],
    cfg: &Config,
    schemas: &Schemas,
    log: &dyn Log,
) -> Result<()> {
    crate::problem_list::write(path, problems, &schemas.registry)?;
    let errors = problems.iter().filter(|p| p.severity == ingest::Severity::Error).count();
    let (warnings, path) = (problems.len() - errors, path.display());
    log.stage(&match cfg.messages {
        ingest::Lang::En => format!("problem list: {path} ({errors} errors, {warnings} warnings)"),
        ingest::Lang::Zh => format!("问题清单：{path}（错误 {errors} 处，提示 {warnings} 条）"),
    });
    Ok(())
}

/// The line above a refusal's count: which inputs, and that nothing was written (`published`:
/// the outputs of an earlier run are still in place).
pub fn refused(dir: &Path, lang: ingest::Lang, published: bool) -> String {
    let dir = dir.display();
    match (lang, published) {
        (ingest::Lang::En, false) => format!("input files in {dir} were refused; nothing was written"),
        (ingest::Lang::En, true) => format!("input files in {dir} were refused; the published outputs are unchanged"),
        (ingest::Lang::Zh, false) => format!("{dir} 中的报送文件未通过审核，未写入任何数据"),
        (ingest::Lang::Zh, true) => format!("{dir} 中的报送文件未通过审核，已发布的结果保持不变"),
    }
}

/// The compute stage on the store in `store_dir`, with the config's method choices.
pub fn compute(cfg: &Config, schemas: &Schemas, store_dir: &Path) -> Result<compute::Computed, compute::ComputeError> {
    compute::compute(
        store_dir,
        &schemas.catalog,
        &schemas.registry,
        &schemas.scope,
        &schemas.targets,
        &cfg.method,
        &cfg.growth,
        &cfg.sensitivity,
        &cfg.evaluation,
    )
    .map_err(|e| match e {
        // Settings that do not fit the data: say which file holds them.
        compute::ComputeError::Evaluation(m) => compute::ComputeError::Evaluation(format!(
            "config file {}: {m}",
            cfg.file.as_deref().map_or_else(|| "(none)".into(), |p| p.display().to_string())
        )),
        other => other,
    })
}

/// Render the reports from `results` and `store` with progress on `log`: into `staging` (for
/// `run`, which publishes every tree at once), or published in place of `OUT/reports`.
pub fn report(
    cfg: &Config,
    schemas: &Schemas,
    tools: &report::Tools,
    (results, store): (&Path, &Path),
    staging: Option<&Path>,
    log: &dyn Log,
) -> Result<report::Outcome, report::ReportError> {
    let published = cfg.reports_dir();
    let inputs = report::Inputs {
        results,
        store,
        dir: &published,
        catalog: &schemas.catalog,
        registry: &schemas.registry,
        targets: &schemas.targets,
        scope: &schemas.scope,
    };
    let progress = |done: usize, total: usize, label: &str| log.progress(done, total, label);
    match staging {
        Some(dir) => report::render_into(dir, &inputs, &cfg.report, tools, &progress),
        None => report::render(&inputs, &cfg.report, tools, &progress),
    }
}
