//! The site stage: the published tables as a static web explorer (`OUT/site/`) — an overview,
//! a page per county, a comparison, the method and the downloads, in Chinese (the root) and
//! English (`en/`), charts drawn as SVG here, no request outside its own files.
//!
//! It reads what the report stage reads (`report::context`) and builds the same serialisable
//! contexts (`report::model`), so a page and a PDF can never disagree. Pages are plain files:
//! the same tables give the same bytes.

mod downloads;
mod html;
pub mod svg;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::labels::Lang;
use crate::regions::Registry;
use crate::report::context::{self, Tables};
use crate::report::model::{CountyReport, Meta, Overview, RankLine};
use crate::report::{county, overview};
use crate::store::StoreError;
use crate::targets::Target;

/// The directory under the output directory.
pub const DIR: &str = "site";

/// `[site]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteSettings {
    /// `cimon run` builds the site with the other outputs.
    pub enabled: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no computed results in {path}: run `cimon compute` first")]
    NoResults { path: PathBuf },
    #[error("site template {name}: {message}")]
    Template { name: String, message: String },
    #[error("cannot write {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot read {path} for the downloads")]
    Table { path: PathBuf, source: polars::prelude::PolarsError },
}

/// What the site is built from.
pub struct Inputs<'a> {
    pub results: &'a Path,
    pub store: &'a Path,
    /// The reports whose PDFs the site offers (None: no PDFs).
    pub reports: Option<&'a Path>,
    pub catalog: &'a Catalog,
    pub registry: &'a Registry,
    pub targets: &'a [Target],
    pub scope: &'a crate::scope::Scope,
    /// Report year; None = the latest computed.
    pub year: Option<i32>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub year: i32,
    pub counties: usize,
    pub pages: usize,
    pub bytes: u64,
}

/// Build the site and publish it in `dir` atomically (the previous site stays until it is done).
pub fn build(inputs: &Inputs<'_>, dir: &Path) -> Result<Outcome, SiteError> {
    crate::atomic::staged(dir, |staging| build_into(staging, inputs))
}

/// Build the site into the empty directory `staging`. Pages are written as they are rendered,
/// one language after the other, so memory holds one language's contexts and no finished page.
pub fn build_into(staging: &Path, inputs: &Inputs<'_>) -> Result<Outcome, SiteError> {
    if !inputs.results.join("index.parquet").is_file() {
        return Err(SiteError::NoResults { path: inputs.results.to_path_buf() });
    }
    let pdfs = downloads::pdfs(inputs.reports);
    // The downloads first: the pages list them with their sizes.
    let (data, mut bytes) = downloads::copy(staging, inputs.results, inputs.reports, &pdfs)?;
    let tables = Tables::load(inputs.results, inputs.store, inputs.year)?;
    let mut counties = 0;
    let mut pages = 0;
    for lang in [Lang::Zh, Lang::En] {
        let y = context::Year::new(&tables, inputs.catalog, inputs.registry, inputs.targets, inputs.scope, lang);
        let reports = county::reports(&y);
        let overview = overview::overview(&y, &reports);
        let meta = context::meta(&y);
        counties = reports.len();
        let root = if lang == Lang::Zh { staging.to_path_buf() } else { staging.join("en") };
        let (n, b) = write_pages(&root, lang, &meta, &overview, &reports, &pdfs, &data)?;
        pages += n;
        bytes += b;
    }
    for (rel, content) in [("assets/site.css", html::CSS), ("assets/site.js", html::JS)] {
        write(staging, Path::new(rel), content.as_bytes())?;
        bytes += content.len() as u64;
    }
    Ok(Outcome { year: tables.year, counties, pages, bytes })
}

fn write(root: &Path, rel: &Path, content: &[u8]) -> Result<(), SiteError> {
    let path = root.join(rel);
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|source| SiteError::Io { path: d.to_path_buf(), source })?;
    }
    std::fs::write(&path, content).map_err(|source| SiteError::Io { path, source })
}

/// A county's page name: its code (names may change, codes are what links keep).
pub fn county_page(code: &str) -> String {
    format!("county/{code}.html")
}

/// One county in the comparison's data (the page draws from it).
#[derive(Serialize)]
struct CompareRow<'a> {
    code: &'a str,
    name: &'a str,
    prefecture: &'a str,
    index: Option<f64>,
    rank: Option<u32>,
    tier: Option<u32>,
    p05: Option<u32>,
    p95: Option<u32>,
    scores: &'a [Option<f64>],
}

/// The ranking's filter options: (value, label) sorted.
fn options(rows: &[RankLine], key: impl Fn(&RankLine) -> Option<(String, String)>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = rows.iter().filter_map(key).collect();
    v.sort();
    v.dedup();
    v
}

/// Render and write one language's pages under `root`: (pages, bytes).
fn write_pages(
    root: &Path,
    lang: Lang,
    meta: &Meta,
    overview: &Overview,
    reports: &[CountyReport],
    pdfs: &downloads::Pdfs,
    data: &[downloads::Table],
) -> Result<(usize, u64), SiteError> {
    let env = html::Env::new(lang)?;
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let rows = &overview.rows;
    let prefectures = options(rows, |r| Some((r.place.prefecture_code.clone(), r.place.prefecture.clone())));
    let peer_groups = options(rows, |r| r.standing.peer_group.clone().map(|g| (g.clone(), g)));
    let tiers = svg::tier_bars(&overview.tiers, &env.tier_names(), &env.s("chart_tiers"));
    let ranking = svg::rank_intervals(rows, &env.s("chart_intervals"));
    files.push((
        PathBuf::from("index.html"),
        env.render(
            "index.html.j2",
            minijinja::context! {
                meta, root => "", path => "index.html", page => "index", overview, prefectures, peer_groups,
                tiers_svg => html::safe(tiers), intervals_svg => html::safe(ranking),
            },
        )?,
    ));
    let compare: Vec<CompareRow> = rows
        .iter()
        .map(|r| CompareRow {
            code: &r.place.code,
            name: &r.place.name,
            prefecture: &r.place.prefecture,
            index: r.standing.index,
            rank: r.standing.rank,
            tier: r.standing.tier,
            p05: r.standing.p05,
            p95: r.standing.p95,
            scores: &r.scores,
        })
        .collect();
    files.push((
        PathBuf::from("compare.html"),
        env.render(
            "compare.html.j2",
            minijinja::context! {
                meta, root => "", path => "compare.html", page => "compare",
                data => html::safe(html::json_for_script(&serde_json::json!({
                    "dimensions": meta.dimensions.iter().map(|d| &d.name).collect::<Vec<_>>(),
                    "rows": compare,
                }))),
            },
        )?,
    ));
    files.push((
        PathBuf::from("method.html"),
        env.render(
            "method.html.j2",
            minijinja::context! { meta, root => "", path => "method.html", page => "method" },
        )?,
    ));
    files.push((
        PathBuf::from("downloads.html"),
        env.render(
            "downloads.html.j2",
            minijinja::context! { meta, root => "", path => "downloads.html", page => "downloads", tables => data, pdfs => &pdfs.files, rows },
        )?,
    ));
    let mut bytes = 0;
    for (rel, page) in &files {
        write(root, rel, page.as_bytes())?;
        bytes += page.len() as u64;
    }
    let county_bytes = reports
        .par_iter()
        .map(|c| {
            let history = svg::history(&c.history, &env.history_labels(), &c.county.name);
            let profile = svg::profile(&c.dimensions, &env.s("chart_profile"), &env.s("average"));
            let interval = svg::interval(&c.standing, &env.s("chart_interval"));
            let pdf = pdfs.of(&c.county.code);
            let page = env.render(
                "county.html.j2",
                minijinja::context! {
                    meta, root => "../", path => county_page(&c.county.code), page => "county", c,
                    history_svg => html::safe(history), profile_svg => html::safe(profile),
                    interval_svg => html::safe(interval), pdf,
                },
            )?;
            write(root, Path::new(&county_page(&c.county.code)), page.as_bytes())?;
            Ok::<u64, SiteError>(page.len() as u64)
        })
        .try_reduce(|| 0, |a, b| Ok(a + b))?;
    Ok((files.len() + reports.len(), bytes + county_bytes))
}
