//! The report stage: contexts from the result tables → minijinja → Typst → PDFs, published atomically.
//!
//! Reports render in parallel. One that fails does not stop the others, but then nothing is
//! published: the previous `reports/` stays as it was and the error lists every failure.

pub mod context;
pub mod county;
pub mod evaluation;
mod fonts;
pub mod model;
pub mod overview;
pub mod template;
pub mod typst;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::labels::Lang;
use context::Tables;
use model::{Contexts, CountyReport, Meta, Overview, ProvinceReport};
use template::Templates;
use typst::Typst;

use crate::catalog::Catalog;
use crate::regions::Registry;
use crate::store::StoreError;
use crate::targets::Target;

/// County reports per typst process by default. Typst holds every report of a bundle in memory
/// until it writes them (about 20 MB a county report); at 8 a process stays near 250 MB, and
/// loading the fonts (40–60 ms) is paid once per 8 reports.
pub const DEFAULT_BATCH: usize = 8;

/// The file name of the overview report.
pub const OVERVIEW_FILE: &str = "overview";

/// `[report]` settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// Template directory; None = the built-in templates (a copy of `report-templates/`).
    pub templates: Option<PathBuf>,
    pub lang: Lang,
    /// The typst binary; None = `typst` on PATH.
    pub typst: Option<PathBuf>,
    /// Font directories passed to Typst (system fonts are never used).
    pub fonts: Vec<PathBuf>,
    /// Report year; None = the latest year computed.
    pub year: Option<i32>,
    /// Typst processes at once (each a report or a batch of them); None = one per core.
    pub jobs: Option<usize>,
    /// Keep the generated `.typ` sources next to the PDFs.
    pub keep_sources: bool,
    /// When each province's rankings by prefecture are a report of their own.
    pub province_reports: ProvinceReports,
    /// Seconds one typst process (a report, or a batch of county reports) may take before it is
    /// stopped (a hung typst must not hold a cron run, and its lock, for ever).
    pub timeout: u64,
    /// County reports typeset by one typst process (Typst's bundle export: the fonts are loaded
    /// once, not once per report); 1 = one process per report, without the bundle export.
    pub batch: usize,
}

/// `[report] province_reports`: where the sections per prefecture go when the counties span
/// several provinces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvinceReports {
    /// One report per province above `ProvinceReports::AUTO_ABOVE` counties, else in the overview.
    #[default]
    Auto,
    Always,
    Never,
}

impl ProvinceReports {
    /// Counties above which `auto` splits: Typst's memory grows with table cells. Unsplit, the
    /// overview's typst took 296 MB at 500 counties, 487 MB at 1,000 and 1.3 GB at 2,755.
    pub const AUTO_ABOVE: usize = 500;

    pub fn split(self, counties: usize) -> bool {
        match self {
            ProvinceReports::Auto => counties > Self::AUTO_ABOVE,
            ProvinceReports::Always => true,
            ProvinceReports::Never => false,
        }
    }
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            templates: None,
            lang: Lang::Zh,
            typst: None,
            fonts: vec![PathBuf::from("/usr/share/fonts/opentype/noto")],
            year: None,
            jobs: None,
            keep_sources: false,
            province_reports: ProvinceReports::Auto,
            timeout: 600,
            batch: DEFAULT_BATCH,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Typst(#[from] typst::TypstError),
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no computed results in {path}: run `cimon compute` first")]
    NoResults { path: PathBuf },
    #[error("cannot write {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{failed} of {total} reports failed; the published reports in {} are unchanged{}\n{}", dir.display(), kept.as_ref().map_or(String::new(), |k| format!("; the generated sources are in {}", k.display())), failures.join("\n"))]
    Failed {
        dir: PathBuf,
        total: usize,
        failed: usize,
        /// One line per distinct failure, naming the first report it happened to.
        failures: Vec<String>,
        /// Where the sources were kept (`--keep-sources`).
        kept: Option<PathBuf>,
        /// Every failure was a template error (a bug in the templates, not in Typst).
        template_only: bool,
    },
}

/// The published reports.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub dir: PathBuf,
    /// PDF file names, overview first.
    pub files: Vec<String>,
    pub typst_version: String,
    pub year: i32,
    /// Reports compiled by Typst, and reused unchanged from the published ones.
    pub rendered: usize,
    pub reused: usize,
}

/// A render unit: one PDF.
struct Job<'a> {
    stem: String,
    /// Who the report is for, in messages.
    label: String,
    template: &'static str,
    view: View<'a>,
}

enum View<'a> {
    County(&'a CountyReport),
    Overview(&'a Overview),
    Province(&'a ProvinceReport),
}

#[derive(Serialize)]
struct CountyView<'a> {
    meta: &'a Meta,
    #[serde(flatten)]
    report: &'a CountyReport,
}

#[derive(Serialize)]
struct ProvinceView<'a> {
    meta: &'a Meta,
    #[serde(flatten)]
    province: &'a ProvinceReport,
}

#[derive(Serialize)]
struct OverviewView<'a> {
    meta: &'a Meta,
    #[serde(flatten)]
    overview: &'a Overview,
}

/// A county's file stem: `420802-东宝区`, safe on every file system.
pub fn file_stem(code: &str, name: &str) -> String {
    format!("{code}-{}", safe_name(name))
}

/// A province report's file stem: `overview-湖北省`.
pub fn province_stem(name: &str) -> String {
    format!("{OVERVIEW_FILE}-{}", safe_name(name))
}

fn safe_name(name: &str) -> String {
    name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() || c == ':' { '_' } else { c }).collect()
}

/// Everything `render` needs besides the settings.
pub struct Inputs<'a> {
    pub results: &'a Path,
    pub store: &'a Path,
    /// `reports/` under the output directory.
    pub dir: &'a Path,
    pub catalog: &'a Catalog,
    pub registry: &'a Registry,
    pub targets: &'a [Target],
    pub scope: &'a crate::scope::Scope,
}

/// The PDFs' creation date: SOURCE_DATE_EPOCH if set, else 1 January after the report year (UTC),
/// so the same inputs give the same bytes.
pub fn creation_timestamp(year: i32, source_date_epoch: Option<&str>) -> i64 {
    if let Some(t) = source_date_epoch.and_then(|s| s.trim().parse().ok()) {
        return t;
    }
    // Days from 1970-01-01 to 1 January of `year + 1` (proleptic Gregorian).
    let y = i64::from(year);
    let days =
        (1970..=y).map(|yy| if (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0 { 366 } else { 365 }).sum::<i64>();
    days * 86_400
}

/// Render every report and publish them in `inputs.dir`. `progress(done, total, label)` is called
/// as each report finishes. Reports whose Typst source is unchanged since the published ones
/// are reused, not recompiled.
pub fn render(
    inputs: &Inputs<'_>,
    settings: &ReportSettings,
    tools: &Tools,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> Result<Outcome, ReportError> {
    crate::atomic::staged(inputs.dir, |staging| render_into(staging, inputs, settings, tools, progress))
}

/// The checked typst binary and the loaded templates: found once, before any table is read, so
/// that a missing tool or a broken template fails fast (and `run` can fingerprint them).
pub struct Tools {
    pub typst: Typst,
    pub templates: Templates,
}

impl Tools {
    pub fn load(settings: &ReportSettings) -> Result<Tools, ReportError> {
        let templates = Templates::load(settings.templates.as_deref(), settings.lang)?;
        let mut typst = Typst::find(settings.typst.as_deref(), &settings.fonts, &templates.text())?;
        typst.set_timeout(std::time::Duration::from_secs(settings.timeout));
        Ok(Tools { typst, templates })
    }
}

/// Render every report into the empty directory `staging`, unpublished; the published reports in
/// `inputs.dir` serve as the cache.
pub fn render_into(
    staging: &Path,
    inputs: &Inputs<'_>,
    settings: &ReportSettings,
    tools: &Tools,
    progress: &(dyn Fn(usize, usize, &str) + Sync),
) -> Result<Outcome, ReportError> {
    let (mut typst, templates) = (tools.typst.clone(), &tools.templates);
    if !inputs.results.join("index.parquet").is_file() {
        return Err(ReportError::NoResults { path: inputs.results.to_path_buf() });
    }
    let t0 = std::time::Instant::now();
    let tables = Tables::load(inputs.results, inputs.store, settings.year)?;
    crate::timing::lap("report tables read in", t0);
    let Contexts { meta, counties, overview, provinces } =
        contexts(&tables, inputs.catalog, inputs.registry, inputs.targets, inputs.scope, settings);
    drop(tables);
    crate::timing::lap("report contexts built in", t0);
    typst.set_timestamp(creation_timestamp(meta.year, std::env::var("SOURCE_DATE_EPOCH").ok().as_deref()));

    let mut jobs = vec![Job {
        stem: OVERVIEW_FILE.to_string(),
        label: "overview".into(),
        template: template::OVERVIEW,
        view: View::Overview(&overview),
    }];
    for p in &provinces {
        jobs.push(Job {
            stem: p.stem.clone(),
            label: p.stem.clone(),
            template: template::PROVINCE,
            view: View::Province(p),
        });
    }
    for c in &counties {
        jobs.push(Job {
            stem: file_stem(&c.county.code, &c.county.name),
            label: format!("{} {}", c.county.code, c.county.name),
            template: template::COUNTY,
            view: View::County(c),
        });
    }

    let previous = (Cache::read(inputs.dir), inputs.dir.to_path_buf());
    // A report typeset in a bundle has other bytes (object numbers) than one typeset alone; the
    // overview and province reports, always alone, take the same salt (one recompile when
    // `batch` switches between 1 and more, for a simpler key).
    let salt = format!("{} bundle {}", typst.fingerprint(), settings.batch > 1);
    let total = jobs.len();
    let done = AtomicUsize::new(0);
    let threads = settings.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| ReportError::Io { path: staging.to_path_buf(), source: std::io::Error::other(e) })?;
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let ctx = RenderCx {
        meta: &meta,
        templates,
        typst: &typst,
        dir: staging,
        previous: &previous,
        salt: &salt,
        stopped: &stopped,
        keep_sources: settings.keep_sources,
    };
    // Units of work in job order: the overview and each province report alone, the county
    // reports in batches typeset by one typst process each.
    let mut units: Vec<&[Job<'_>]> = Vec::new();
    let first_county = jobs.iter().position(|j| matches!(j.view, View::County(_))).unwrap_or(jobs.len());
    units.extend(jobs[..first_county].chunks(1));
    units.extend(jobs[first_county..].chunks(settings.batch.max(1)));
    let results: Vec<Result<Done, Failure>> = pool.install(|| {
        units
            .par_iter()
            .flat_map_iter(|unit| {
                let batched = settings.batch > 1 && matches!(unit[0].view, View::County(_));
                let rs = render_unit(unit, &ctx, batched);
                for (r, job) in rs.iter().zip(unit.iter()) {
                    let label = match r {
                        Ok(Done { reused: true, .. }) => format!("{} (unchanged)", job.label),
                        _ => job.label.clone(),
                    };
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, total, &label);
                }
                rs
            })
            .collect()
    });

    // (what went wrong, reports it happened to): a template error repeats for every county.
    let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
    let mut template_only = true;
    let mut cache = Cache::default();
    let mut reused = 0;
    for (r, job) in results.into_iter().zip(&jobs) {
        let body = match r {
            Ok(d) => {
                reused += usize::from(d.reused);
                cache.hashes.insert(job.stem.clone(), d.hash);
                continue;
            }
            Err(Failure::Io(e)) => return Err(e),
            Err(Failure::Template(body)) => body,
            Err(Failure::Typst(body)) => {
                template_only = false;
                body
            }
        };
        match grouped.iter_mut().find(|(b, _)| *b == body) {
            Some((_, who)) => who.push(&job.label),
            None => grouped.push((body, vec![&job.label])),
        }
    }
    if !grouped.is_empty() {
        let failed: usize = grouped.iter().map(|(_, w)| w.len()).sum();
        let failures = grouped
            .iter()
            .map(|(body, who)| match who.len() {
                1 => format!("  {}: {body}", who[0]),
                n => format!("  {} (and {} more): {body}", who[0], n - 1),
            })
            .collect();
        let kept = settings.keep_sources.then(|| inputs.dir.with_extension("failed"));
        if let Some(k) = &kept {
            // The sources for debugging, without any PDF: only a complete run publishes PDFs.
            keep_failed_sources(staging, k);
        }
        return Err(ReportError::Failed {
            dir: inputs.dir.to_path_buf(),
            total,
            failed,
            failures,
            template_only,
            kept,
        });
    }
    cache.write(staging)?;
    Ok(Outcome {
        dir: inputs.dir.to_path_buf(),
        files: jobs.iter().map(|j| format!("{}.pdf", j.stem)).collect(),
        typst_version: typst.version.clone(),
        year: meta.year,
        rendered: total - reused,
        reused,
    })
}

/// The hash of each published report's Typst source (with the typst version and fonts), kept
/// beside the PDFs: a report whose hash is unchanged is reused instead of recompiled.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Cache {
    hashes: std::collections::BTreeMap<String, String>,
}

impl Cache {
    const FILE: &'static str = ".render-cache.json";

    /// The published cache; none (render everything) if it is missing or unreadable.
    fn read(dir: &Path) -> Cache {
        std::fs::read(dir.join(Self::FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let path = dir.join(Self::FILE);
        let text = serde_json::to_string_pretty(self).expect("a map of strings serialises");
        std::fs::write(&path, text).map_err(|source| ReportError::Io { path, source })
    }
}

struct RenderCx<'a> {
    meta: &'a Meta,
    templates: &'a Templates,
    typst: &'a Typst,
    dir: &'a Path,
    /// The published reports' cache and directory.
    previous: &'a (Cache, PathBuf),
    /// Typst version and fonts, part of every hash.
    salt: &'a str,
    /// Set when typst hung on a report: the others are not tried (each would hang as long).
    stopped: &'a std::sync::atomic::AtomicBool,
    /// Keep the generated `.typ` sources next to the PDFs.
    keep_sources: bool,
}

struct Done {
    hash: String,
    reused: bool,
}

/// Move a failed run's `.typ` sources to `kept` (replacing an earlier failed run's), dropping its PDFs.
fn keep_failed_sources(staging: &Path, kept: &Path) {
    if let Ok(entries) = std::fs::read_dir(staging) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "pdf") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::remove_dir_all(kept);
    if std::fs::rename(staging, kept).is_err() {
        let _ = std::fs::remove_dir_all(staging);
    }
}

enum Failure {
    Io(ReportError),
    Template(String),
    Typst(String),
}

/// Why a report was not compiled once typst hung on another.
const NOT_COMPILED_AFTER_HANG: &str = "not compiled: typst hung on an earlier report and was stopped";

/// A report's source, rendered and checked against the published one.
enum Prepared {
    /// Unchanged since the published report, whose PDF is now linked into the staging tree.
    Reused(String),
    /// To compile: the source is written to `typ`.
    Compile { hash: String, source: String, typ: PathBuf, pdf: PathBuf },
}

fn io_failure(path: &Path) -> impl FnOnce(std::io::Error) -> Failure + use<> {
    let path = path.to_path_buf();
    move |source| Failure::Io(ReportError::Io { path, source })
}

fn prepare(job: &Job<'_>, cx: &RenderCx<'_>) -> Result<Prepared, Failure> {
    let (meta, templates) = (cx.meta, cx.templates);
    let source = match job.view {
        View::County(report) => templates.render(job.template, &CountyView { meta, report }),
        View::Overview(overview) => templates.render(job.template, &OverviewView { meta, overview }),
        View::Province(province) => templates.render(job.template, &ProvinceView { meta, province }),
    }
    .map_err(|e| Failure::Template(e.to_string()))?;
    let hash = crate::text::sha256_hex(format!("{}\0{source}", cx.salt).as_bytes());
    let typ = cx.dir.join(format!("{}.typ", job.stem));
    let pdf = cx.dir.join(format!("{}.pdf", job.stem));
    // Unchanged since the published report: the same source gives the same bytes, so link it.
    let (cache, published) = cx.previous;
    let old = published.join(format!("{}.pdf", job.stem));
    if cache.hashes.get(&job.stem) == Some(&hash) && old.is_file() {
        if cx.keep_sources {
            std::fs::write(&typ, &source).map_err(io_failure(&typ))?;
        }
        if std::fs::hard_link(&old, &pdf).is_err() {
            std::fs::copy(&old, &pdf).map_err(io_failure(&pdf))?;
        }
        return Ok(Prepared::Reused(hash));
    }
    if cx.stopped.load(Ordering::Relaxed) {
        return Err(Failure::Typst(NOT_COMPILED_AFTER_HANG.into()));
    }
    crate::faults::io("reports").and_then(|()| std::fs::write(&typ, &source)).map_err(io_failure(&typ))?;
    Ok(Prepared::Compile { hash, source, typ, pdf })
}

/// Render a unit of jobs: one report alone, or (`bundle`) a batch of county reports in one typst
/// process. A batch that fails is compiled again one report at a time, so that each failure
/// names its own report and line.
fn render_unit(unit: &[Job<'_>], cx: &RenderCx<'_>, bundle: bool) -> Vec<Result<Done, Failure>> {
    let mut out: Vec<Result<Done, Failure>> = Vec::with_capacity(unit.len());
    // (position in the unit, source, .typ, .pdf) of each report to compile.
    let mut todo: Vec<(usize, String, PathBuf, PathBuf)> = Vec::new();
    for (i, job) in unit.iter().enumerate() {
        match prepare(job, cx) {
            Ok(Prepared::Reused(hash)) => out.push(Ok(Done { hash, reused: true })),
            Ok(Prepared::Compile { hash, source, typ, pdf }) => {
                out.push(Ok(Done { hash, reused: false }));
                todo.push((i, source, typ, pdf));
            }
            Err(f) => out.push(Err(f)),
        }
    }
    if todo.is_empty() {
        return out;
    }
    let tidy = |typ: &Path| {
        if !cx.keep_sources {
            let _ = std::fs::remove_file(typ);
        }
    };
    if !bundle {
        for (i, source, typ, pdf) in &todo {
            let outcome = cx.typst.compile(typ, pdf, cx.dir).map_err(|e| Failure::Io(e.into()));
            tidy(typ);
            if let Err(f) = settle(outcome, pdf, source, cx) {
                out[*i] = Err(f);
            }
        }
        return out;
    }
    let stems: Vec<&str> = todo.iter().map(|t| unit[t.0].stem.as_str()).collect();
    let batch = compile_batch(&stems, cx);
    match batch {
        Ok(Ok(())) => {
            for (_, _, typ, _) in &todo {
                tidy(typ);
            }
        }
        Err(f) => {
            // typst could not be run at all: the stage stops with this error.
            for (i, ..) in &todo[1..] {
                out[*i] = Err(Failure::Typst("not compiled: typst could not be run".into()));
            }
            out[todo[0].0] = Err(f);
        }
        Ok(Err(failure)) if todo.len() == 1 => {
            let (i, source, typ, pdf) = &todo[0];
            tidy(typ);
            if let Err(f) = settle(Ok(Err(failure)), pdf, source, cx) {
                out[*i] = Err(f);
            }
        }
        Ok(Err(failure)) if failure.timed_out => {
            // One of them hangs: trying each again would hang as long, once per report.
            cx.stopped.store(true, Ordering::Relaxed);
            let names: Vec<&str> = todo.iter().map(|t| unit[t.0].label.as_str()).collect();
            let msg = format!(
                "typst {} ({}; with `[report] batch = 1` each report is typeset and timed on its own)",
                failure.how,
                names.join(", ")
            );
            for (i, _, typ, pdf) in &todo {
                tidy(typ);
                let _ = std::fs::remove_file(pdf);
                out[*i] = Err(Failure::Typst(msg.clone()));
            }
        }
        Ok(Err(_)) => {
            for (i, source, typ, pdf) in &todo {
                let stem = unit[*i].stem.as_str();
                if cx.stopped.load(Ordering::Relaxed) {
                    tidy(typ);
                    out[*i] = Err(Failure::Typst(NOT_COMPILED_AFTER_HANG.into()));
                    continue;
                }
                let outcome = compile_batch(&[stem], cx);
                tidy(typ);
                if let Err(f) = settle(outcome, pdf, source, cx) {
                    out[*i] = Err(f);
                }
            }
        }
    }
    out
}

/// Typeset the reports `stems` (their `.typ` written in the staging tree) in one typst process
/// and move their PDFs into the staging tree.
fn compile_batch(stems: &[&str], cx: &RenderCx<'_>) -> Result<Result<(), typst::CompileFailure>, Failure> {
    let name = format!(".batch-{}", stems[0]);
    let (wrapper, out_dir) = (cx.dir.join(format!("{name}.typ")), cx.dir.join(&name));
    let text: String = stems
        .iter()
        .map(|s| {
            let (pdf, typ) =
                (template::string_literal(&format!("{s}.pdf")), template::string_literal(&format!("{s}.typ")));
            format!("#document({pdf})[#include {typ}]\n")
        })
        .collect();
    std::fs::write(&wrapper, text).map_err(io_failure(&wrapper))?;
    let outcome = cx.typst.compile_bundle(&wrapper, &out_dir, cx.dir).map_err(|e| Failure::Io(e.into()));
    let _ = std::fs::remove_file(&wrapper);
    let moved = match &outcome {
        Ok(Ok(())) => stems.iter().try_for_each(|s| {
            let (from, to) = (out_dir.join(format!("{s}.pdf")), cx.dir.join(format!("{s}.pdf")));
            std::fs::rename(&from, &to).map_err(io_failure(&from))
        }),
        _ => Ok(()),
    };
    let _ = std::fs::remove_dir_all(&out_dir);
    moved?;
    outcome
}

/// A compile's outcome as the report's result: a failure becomes the message that names the
/// generated line and the template it came from.
fn settle(
    outcome: Result<Result<(), typst::CompileFailure>, Failure>,
    pdf: &Path,
    source: &str,
    cx: &RenderCx<'_>,
) -> Result<(), Failure> {
    let Err(f) = outcome? else { return Ok(()) };
    if f.timed_out {
        cx.stopped.store(true, Ordering::Relaxed);
    }
    // Typst writes nothing on failure; remove anything partial all the same.
    let _ = std::fs::remove_file(pdf);
    let lines: Vec<&str> = source.lines().collect();
    let mut msg = match (f.diagnostics.is_empty(), f.how.starts_with("exited")) {
        (true, _) => format!("typst {}, printing nothing", f.how),
        (false, true) => String::from("typst failed"),
        (false, false) => format!("typst {}", f.how),
    };
    for d in &f.diagnostics {
        msg.push_str(&format!("\n    {}", d.message));
        if let Some(n) = d.line {
            let text = lines.get(n.saturating_sub(1)).copied().unwrap_or("");
            msg.push_str(&format!("\n      generated line {n}: {}", text.trim()));
            if let Some(at) = cx.templates.locate(text) {
                msg.push_str(&format!("\n      from template {at}"));
            }
        }
    }
    Err(Failure::Typst(msg))
}

/// Build every context of the tables' year.
fn contexts(
    t: &context::Tables,
    catalog: &Catalog,
    registry: &Registry,
    targets: &[Target],
    scope: &crate::scope::Scope,
    settings: &ReportSettings,
) -> Contexts {
    let y = context::Year::new(t, catalog, registry, targets, scope, settings.lang);
    let counties = county::reports(&y);
    let mut overview = overview::overview(&y, &counties);
    let provinces = if settings.province_reports.split(overview.rows.len()) {
        overview::split_provinces(&mut overview)
    } else {
        Vec::new()
    };
    Contexts { meta: context::meta(&y), counties, overview, provinces }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_date_is_new_year_after_the_report_year() {
        // 2025-01-01T00:00:00Z
        assert_eq!(creation_timestamp(2024, None), 1_735_689_600);
        assert_eq!(creation_timestamp(2024, Some("86400")), 86_400);
    }

    #[test]
    fn file_stems_keep_code_and_name() {
        assert_eq!(file_stem("420802", "东宝区"), "420802-东宝区");
        assert_eq!(file_stem("1", "a/b"), "1-a_b");
        assert_eq!(province_stem("湖北省"), "overview-湖北省");
    }

    #[test]
    fn province_reports_split_a_national_run_only_by_default() {
        let above = ProvinceReports::AUTO_ABOVE;
        assert!(!ProvinceReports::Auto.split(above) && ProvinceReports::Auto.split(above + 1));
        assert!(ProvinceReports::Always.split(25) && !ProvinceReports::Never.split(3000));
        let s: ReportSettings = toml::from_str("province_reports = \"always\"").unwrap();
        assert_eq!(s.province_reports, ProvinceReports::Always);
        assert!(toml::from_str::<ReportSettings>("province_reports = \"yes\"").is_err());
    }
}
