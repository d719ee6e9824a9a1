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
    let catalog = Catalog::load_or_builtin(cfg.catalog.as_deref())?;
    let registry = Registry::load_or_builtin(cfg.regions.as_deref())?;
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
    let scope = Scope::resolve(&cfg.scope, &registry).with_context(|| format!("config file {}", config_file(cfg)))?;
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
    let checked = ingest::ingest(files, &schemas.catalog, &schemas.registry, &schemas.scope, &cfg.confirmed)
        .and_then(|ingested| keeps_published(cfg, schemas, ingested));
    match checked {
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

/// The new store must not silently drop what the published one holds: whole years, or every
/// county of a prefecture in a year it keeps, refuse the ingest unless `allow_loss` says so.
fn keeps_published(cfg: &Config, schemas: &Schemas, ingested: Ingested) -> Result<Ingested, Rejected> {
    if cfg.allow_loss {
        return Ok(ingested);
    }
    let store = cfg.store_dir();
    let refuse = |en: String, zh: String, mut problems: Vec<ingest::Problem>| {
        let at = ingest::Loc::file(&store.display().to_string());
        problems.push(ingest::Problem::new(ingest::Severity::Error, "store_loss", at, en, zh, None));
        Rejected { problems, lang: cfg.messages }
    };
    let how = "put their files back into the input directory (every year's files are ingested together), or, to drop \
               them on purpose, run again with --allow-loss (or set [input] allow_loss = true in the config)";
    let how_zh =
        "请把这些数据的报送文件放回报送目录（各年的文件需一起导入）；如确需删除，请加 --allow-loss 参数重新运行\
                  （或在配置文件中设置 [input] allow_loss = true）";
    let held = match store::held(&store) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(ingested),
        Err(e) => {
            let e = format!("{:#}", anyhow::Error::new(e));
            return Err(refuse(
                format!("cannot read the published store to check that the new one keeps it ({e}): {how}"),
                format!("无法读取已发布的数据，不能确认本次导入不会丢失数据（{e}）：{how_zh}"),
                ingested.warnings,
            ));
        }
    };
    let loss = store::loss(&held, &ingested, &schemas.registry);
    if loss.is_empty() {
        return Ok(ingested);
    }
    let years: Vec<String> = loss.years.iter().map(i32::to_string).collect();
    let places = |zh: bool| -> String {
        let mut v: Vec<String> = loss
            .prefecture_years
            .iter()
            .take(10)
            .map(|(y, code, name)| if zh { format!("{name}（{code}）{y} 年") } else { format!("{name} ({code}) {y}") })
            .collect();
        if loss.prefecture_years.len() > 10 {
            v.push(if zh {
                format!("等共 {} 处", loss.prefecture_years.len())
            } else {
                format!("and {} more", loss.prefecture_years.len() - 10)
            });
        }
        v.join(if zh { "、" } else { ", " })
    };
    let (what, what_zh) = match (years.is_empty(), loss.prefecture_years.is_empty()) {
        (false, true) => (format!("the years {}", years.join(", ")), format!(" {} 年的全部数据", years.join("、"))),
        (true, false) => (format!("every county of {}", places(false)), format!("{}的全部数据", places(true))),
        _ => (
            format!("the years {}, and every county of {}", years.join(", "), places(false)),
            format!(" {} 年的全部数据，以及{}的全部数据", years.join("、"), places(true)),
        ),
    };
    Err(refuse(
        format!("the input files lack {what}, which the published store holds: the new store would lose them; {how}"),
        format!("已发布的数据中有{what_zh}，本次报送目录中没有：导入后这些数据将丢失。{how_zh}"),
        ingested.warnings,
    ))
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
    let errors: u64 = problems.iter().filter(|p| p.severity == ingest::Severity::Error).map(|p| p.count()).sum();
    let (warnings, path) = (problems.iter().map(|p| p.count()).sum::<u64>() - errors, path.display());
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
    // What polars frees after reading the store is handed back (`memory::handed_back`).
    crate::memory::handed_back(|| compute::load(store_dir, &schemas.catalog, &schemas.registry, &schemas.scope))
        .and_then(|loaded| {
            compute::compute_loaded(
                loaded,
                &schemas.catalog,
                &schemas.registry,
                &schemas.targets,
                &cfg.method,
                &cfg.growth,
                &cfg.sensitivity,
                &cfg.evaluation,
            )
        })
        .map_err(|e| match e {
            // Settings that do not fit the data: say which file holds them.
            compute::ComputeError::Evaluation(m) => {
                compute::ComputeError::Evaluation(format!("config file {}: {m}", config_file(cfg)))
            }
            other => other,
        })
}

/// The config file's path for messages, `(none)` when the defaults are used.
fn config_file(cfg: &Config) -> String {
    cfg.file.as_deref().map_or_else(|| "(none)".into(), |p| p.display().to_string())
}

/// What the analyst should know about data or settings compute cannot honour: indicators of the
/// store the catalog does not declare (left out), a `[growth] base_year` that leaves the
/// `since_<year>` columns empty (it must be a year of data before the last).
pub fn compute_warnings(cfg: &Config, catalog: &Catalog, c: &compute::Computed) -> Vec<String> {
    let mut warnings = Vec::new();
    if !c.not_in_catalog.is_empty() {
        warnings.push(format!(
            "the store {} holds values of {} {}, which the catalog {} does not declare: they are left out of the index \
             and every result; compute with the catalog the store was ingested with, or add them to this one",
            cfg.store_dir().display(),
            if c.not_in_catalog.len() == 1 { "indicator" } else { "indicators" },
            c.not_in_catalog.join(", "),
            catalog.path.display()
        ));
    }
    let (Some(base), Some(&first), Some(&last)) = (cfg.growth.base_year, c.panel.years.first(), c.panel.years.last())
    else {
        return warnings;
    };
    if (first..last).contains(&base) {
        return warnings;
    }
    let file = config_file(cfg);
    warnings.push(format!(
        "config file {file}: [growth] base_year = {base} is outside the data ({first}–{last}), so the since_{base} \
         columns of growth.parquet and the workbook are empty; set base_year to a year from {first} to {}",
        last - 1
    ));
    warnings
}

/// Write every result table and the Excel workbook into the empty directory `dir`, unpublished
/// (`run` publishes all stages together), the tables and the workbook side by side. Returns the
/// file names written.
pub fn write_results(dir: &Path, c: &compute::Computed, cfg: &Config, catalog: &Catalog) -> Result<Vec<String>> {
    let (tables, book) = rayon::join(
        || compute::output::write_tables(dir, c, catalog, &cfg.method, &cfg.growth),
        || {
            // Indicators with growth for the latest year only: Excel's row limit at national scale.
            let index = compute::rows::IndexView::new(c, catalog);
            let latest = compute::rows::YearGrowth::new(c, catalog, c.panel.years.last().copied().unwrap_or_default());
            let description = compute::rows::method_rows(&cfg.method, &cfg.growth, catalog, &c.evaluation);
            let path = dir.join(crate::workbook::FILE);
            crate::faults::io("workbook").map_err(|e| anyhow::Error::new(e).context(format!("{}", path.display())))?;
            let sheets = crate::workbook::Sheets {
                index: &index,
                growth: &latest,
                attainment: &c.attainment,
                regional: &c.attainment_regions,
                method: &description,
                missing: &c.missing,
                funding: &c.funding,
                appraisal: &c.appraisal,
            };
            crate::workbook::write(&path, &sheets, catalog)?;
            crate::atomic::start_writeback(&path);
            crate::timing::lap("workbook written", c.started);
            anyhow::Ok(crate::workbook::FILE.to_string())
        },
    );
    let mut names = tables?;
    names.push(book?);
    crate::timing::lap("tables and workbook written", c.started);
    let dictionary = dir.join(crate::results::DICTIONARY_FILE);
    std::fs::write(&dictionary, crate::results::DICTIONARY)
        .with_context(|| format!("cannot write {}", dictionary.display()))?;
    names.push(crate::results::DICTIONARY_FILE.to_string());
    Ok(names)
}

/// Write the results atomically in place of `OUT/results` (`cimon compute`).
pub fn publish_results(c: &compute::Computed, cfg: &Config, catalog: &Catalog) -> Result<Vec<String>> {
    crate::atomic::staged(&cfg.results_dir(), |dir| {
        let names = write_results(dir, c, cfg, catalog)?;
        crate::timing::lap("written and published", c.started);
        Ok::<_, anyhow::Error>(names)
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

/// The web explorer from the results (and the reports' PDFs): built into `staging` (part of a
/// run), or published in `OUT/site/` on its own.
pub fn site(
    cfg: &Config,
    schemas: &Schemas,
    (results, store, reports): (&Path, &Path, Option<&Path>),
    staging: Option<&Path>,
) -> Result<crate::site::Outcome, crate::site::SiteError> {
    let inputs = crate::site::Inputs {
        results,
        store,
        reports,
        catalog: &schemas.catalog,
        registry: &schemas.registry,
        targets: &schemas.targets,
        scope: &schemas.scope,
        year: cfg.report.year,
    };
    match staging {
        Some(dir) => crate::site::build_into(dir, &inputs),
        None => crate::site::build(&inputs, &cfg.out.join(crate::site::DIR)),
    }
}
