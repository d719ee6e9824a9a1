//! The ingest stage: input files → validated observations with provenance, revisions and warnings.

pub mod problem;
mod sheet;
pub mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::regions::Registry;
use crate::scope::{Coverage, Scope};
use crate::text::year_in_name;
pub use problem::{Loc, Problem, Problems, Severity};
use sheet::{read_grid, SheetContext, SheetResult};

/// One input file, read once: its bytes are what is hashed and what is parsed.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path relative to the input directory, with `/` separators.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl InputFile {
    /// A revision is declared in the file name (`2022年数据修订.csv`, `2022_revision.xlsx`).
    pub fn is_revision(&self) -> bool {
        let base = self.name.rsplit('/').next().unwrap_or(&self.name).to_lowercase();
        let negated = ["未修订", "修订前", "更正前", "unrevised"].iter().any(|w| base.contains(w));
        !negated && ["修订", "更正", "revision", "revised"].iter().any(|w| base.contains(w))
    }
}

/// One value of one indicator for one county and year, in the catalog unit, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub region_code: Arc<str>,
    pub year: i32,
    pub indicator: Arc<str>,
    /// None: the county reported no data (blank, —, 空白).
    pub value: Option<f64>,
    /// The cell as written in the file, before unit conversion.
    pub raw_value: String,
    /// The unit the file used.
    pub raw_unit: Arc<str>,
    pub loc: Loc,
    pub sha256: Arc<str>,
    pub out_of_range: bool,
}

/// A value replaced by a revision file.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub region_code: String,
    pub year: i32,
    pub indicator: String,
    pub old_value: Option<f64>,
    pub new_value: Option<f64>,
    /// None when the revision adds a value no earlier file had.
    pub old_source: Option<Loc>,
    pub new_source: Loc,
}

crate::table! {
    /// One input file as read: the store's `sources` table.
    pub struct SourceInfo in "sources" {
        file: String,
        sha256: String,
        bytes: u64,
        format: String,
        layout: String,
        revision: bool,
        /// The file says it holds synthetic data (示例数据 in a title or note row); reports then carry a notice.
        synthetic: bool,
        observations: u64,
    }
}

/// Everything the store holds, validated.
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    /// Sorted by year, region, indicator.
    pub observations: Vec<Observation>,
    pub revisions: Vec<Revision>,
    pub warnings: Vec<Problem>,
    pub sources: Vec<SourceInfo>,
    /// Counties of the scope that sent nothing for a year (未报送), with `[scope] coverage = "warn"`.
    pub missing: Vec<MissingRow>,
}

crate::table! {
    /// A county of the evaluation that sent no data for a year (未报送): the store's `missing` table.
    pub struct MissingRow in "missing" {
        region_code: String,
        year: i32,
        region_name: String,
        prefecture_code: String,
        prefecture_name: String,
    }
}

/// The ingest refused the inputs; `problems` lists every error (and the warnings).
#[derive(Debug, thiserror::Error)]
#[error("{} error(s) in the input files", .problems.iter().filter(|p| p.severity == Severity::Error).count())]
pub struct Rejected {
    pub problems: Vec<Problem>,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input directory {path} does not exist or is not a directory")]
    NotADirectory { path: std::path::PathBuf },
    #[error("cannot read {path}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("no CSV or workbook files found under {path}")]
    Empty { path: std::path::PathBuf },
}

/// List the input files under a directory (recursively, sorted, skipping hidden and Excel lock
/// files, and `skip`: a targets workbook kept beside the data) and read them.
pub fn collect_inputs(dir: &Path, skip: Option<&Path>) -> Result<Vec<InputFile>, InputError> {
    let skip = skip.and_then(|p| p.canonicalize().ok());
    if !dir.is_dir() {
        return Err(InputError::NotADirectory { path: dir.to_owned() });
    }
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| InputError::Io { path: d.clone(), source })?;
        for e in entries {
            let e = e.map_err(|source| InputError::Io { path: d.clone(), source })?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if table::is_table_file(&name) && path.canonicalize().ok() != skip {
                paths.push(path);
            }
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(InputError::Empty { path: dir.to_owned() });
    }
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).map_err(|source| InputError::Io { path: p.clone(), source })?;
            let rel = p.strip_prefix(dir).unwrap_or(&p);
            let name = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            Ok(InputFile { name, bytes })
        })
        .collect()
}

/// Synthetic files (`cimon synth`) carry 示例数据 in a title or note row: the first or last rows of a sheet.
fn declares_synthetic(grid: &table::Grid) -> bool {
    let n = grid.rows.len();
    let edge = grid.rows.iter().take(5).chain(grid.rows.iter().skip(n.saturating_sub(5).max(5)));
    edge.flat_map(|r| r.iter()).any(|c| {
        let t = c.text();
        t.contains("示例数据") || t.to_lowercase().contains("synthetic data")
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn same_value(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".to_string(), |x| format!("{x}"))
}

/// Validate and merge all input files. Pure: no I/O.
pub fn ingest(
    files: &[InputFile],
    catalog: &Catalog,
    registry: &Registry,
    scope: &Scope,
) -> Result<Ingested, Rejected> {
    let mut problems = Problems::default();
    let mut sources = Vec::new();
    let mut base: Vec<Observation> = Vec::new();
    let mut revised: Vec<Observation> = Vec::new();

    for f in files {
        let sha: Arc<str> = sha256_hex(&f.bytes).into();
        let (format, grids) = match table::read(&f.name, &f.bytes) {
            Ok(x) => x,
            Err(e) => {
                problems.error("unreadable", Loc::file(&f.name), e);
                continue;
            }
        };
        let base_name = f.name.rsplit('/').next().unwrap_or(&f.name);
        let cx =
            SheetContext { file: &f.name, sha256: &sha, file_year: year_in_name(base_name), catalog, registry, scope };
        let mut layouts = BTreeSet::new();
        let mut obs = Vec::new();
        for grid in &grids {
            match read_grid(grid, &cx, &mut problems) {
                SheetResult::NoTable => {
                    if grid.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
                        problems.warning(
                            "no_table",
                            Loc { sheet: grid.sheet.as_deref().map(Arc::from), ..Loc::file(&f.name) },
                            "no header row with a county column and an indicator found in the first 30 rows; skipped",
                        );
                    }
                }
                SheetResult::Table { layout, observations } => {
                    layouts.insert(layout);
                    obs.extend(observations);
                }
            }
        }
        if layouts.is_empty() {
            problems.error(
                "no_table",
                Loc::file(&f.name),
                "no table found: expected a header row naming the county (代码 or 县(市、区)) and indicators",
            );
        }
        sources.push(SourceInfo {
            file: f.name.clone(),
            sha256: sha.to_string(),
            bytes: f.bytes.len() as u64,
            format: format.describe(),
            layout: layouts.into_iter().collect::<Vec<_>>().join("+"),
            revision: f.is_revision(),
            synthetic: grids.iter().any(declares_synthetic),
            observations: obs.len() as u64,
        });
        if f.is_revision() {
            revised.extend(obs);
        } else {
            base.extend(obs);
        }
    }

    // Merge the regular files: the same value twice is fine, two different values are a conflict.
    // Keys are (year, region, indicator) as one integer whose order is the codes' order, so a
    // sort of indices replaces a map of strings (10⁶ values at national scale).
    let mut codes: Vec<&str> = registry.regions.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    let ind_order: HashMap<&str, u64> =
        catalog.indicators.iter().enumerate().map(|(i, c)| (c.code.as_str(), i as u64)).collect();
    let region_order: HashMap<&str, u64> = codes.iter().enumerate().map(|(i, c)| (*c, i as u64)).collect();
    let key = |o: &Observation| -> u64 {
        // year < 2^16 after the offset, regions < 2^32, indicators < 2^16
        (((o.year - 1900) as u64) << 48) | (region_order[&*o.region_code] << 16) | ind_order[&*o.indicator]
    };
    let mut order: Vec<(u64, u32)> = base.iter().enumerate().map(|(i, o)| (key(o), i as u32)).collect();
    order.sort_unstable();
    // Sorted, so the values of one key are adjacent and the first (in file order) is kept.
    let mut kept: Vec<usize> = Vec::with_capacity(order.len());
    let mut last_key = None;
    for (k, i) in order {
        let o = &base[i as usize];
        match last_key {
            Some(lk) if lk == k => {
                let prev = &base[*kept.last().expect("a key was kept")];
                // The same value from another file is a harmless copy; within one file (two
                // sheets, say) a county-year twice is a mistake even when the values agree.
                if same_value(prev.value, o.value) && prev.loc.file != o.loc.file {
                    continue;
                }
                let (kind, what) = if prev.loc.file == o.loc.file {
                    ("duplicate_county", "appears twice in this file")
                } else {
                    ("conflict", "has a different value in another file")
                };
                problems.error(
                    kind,
                    o.loc.clone(),
                    format!(
                        "{} {} {}: {what}: {} here, {} at {}",
                        o.region_code,
                        o.year,
                        o.indicator,
                        show(o.value),
                        show(prev.value),
                        prev.loc
                    ),
                );
            }
            _ => {
                last_key = Some(k);
                kept.push(i as usize);
            }
        }
    }
    let mut slots: Vec<Option<Observation>> = base.into_iter().map(Some).collect();
    let mut merged: Vec<(u64, Observation)> =
        kept.into_iter().map(|i| slots[i].take().expect("each value is kept once")).map(|o| (key(&o), o)).collect();
    drop(slots);

    // Apply revisions, recording each change.
    let mut revisions = Vec::new();
    let mut by_revision: HashMap<u64, Loc> = HashMap::new();
    let mut added = Vec::new();
    for o in revised {
        // A blank cell in a revision file revises nothing; only an explicit "no data" (—, 空白) clears a value.
        if o.raw_value.trim().is_empty() {
            continue;
        }
        let k = key(&o);
        let pos = merged.binary_search_by_key(&k, |(mk, _)| *mk).ok();
        if let Some(first) = by_revision.get(&k) {
            let earlier =
                pos.map(|p| &merged[p].1).or_else(|| added.iter().map(|(_, a)| a).find(|a: &&Observation| key(a) == k));
            if let Some(earlier) = earlier.filter(|e| !same_value(e.value, o.value)) {
                problems.error(
                    "conflict",
                    o.loc.clone(),
                    format!(
                        "{} {} {}: two revisions disagree: {} here, {} at {first}",
                        o.region_code,
                        o.year,
                        o.indicator,
                        show(o.value),
                        show(earlier.value)
                    ),
                );
            }
            continue;
        }
        by_revision.insert(k, o.loc.clone());
        let old = pos.map(|p| &merged[p].1);
        if old.is_some_and(|p| same_value(p.value, o.value)) {
            continue;
        }
        revisions.push(Revision {
            region_code: o.region_code.to_string(),
            year: o.year,
            indicator: o.indicator.to_string(),
            old_value: old.and_then(|p| p.value),
            new_value: o.value,
            old_source: old.map(|p| p.loc.clone()),
            new_source: o.loc.clone(),
        });
        match pos {
            Some(p) => merged[p].1 = o,
            None => added.push((k, o)),
        }
    }
    if !added.is_empty() {
        merged.extend(added);
        merged.sort_unstable_by_key(|(k, _)| *k);
    }
    let merged: Vec<Observation> = merged.into_iter().map(|(_, o)| o).collect();

    outside_scope(&merged, registry, scope, &mut problems);
    let missing = check_coverage(&merged, registry, scope, &mut problems);

    let all = std::mem::take(&mut problems.0);
    if all.iter().any(|p| p.severity == Severity::Error) {
        return Err(Rejected { problems: all });
    }
    Ok(Ingested { observations: merged, revisions, warnings: all, sources, missing })
}

/// One warning per file that holds counties outside the evaluation scope: stored, not scored.
fn outside_scope(merged: &[Observation], registry: &Registry, scope: &Scope, problems: &mut Problems) {
    let mut by_file: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut last: Option<&str> = None;
    for o in merged {
        if last == Some(&*o.region_code) {
            continue;
        }
        last = Some(&*o.region_code);
        if registry.get(&o.region_code).is_some_and(|r| !scope.contains(registry, r)) {
            by_file.entry(&o.loc.file).or_default().insert(&o.region_code);
        }
    }
    for (file, codes) in by_file {
        let named: Vec<String> =
            codes.iter().take(5).map(|c| format!("{c} {}", registry.get(c).map_or("", |r| r.name.as_str()))).collect();
        let more = if codes.len() > 5 { format!(" and {} more", codes.len() - 5) } else { String::new() };
        problems.warning(
            "outside_scope",
            Loc::file(file),
            format!(
                "{} counties outside the evaluation scope ([scope] in the config): {}{more}; their values are stored but not scored",
                codes.len(),
                named.join(", ")
            ),
        );
    }
}

/// Every county of the evaluation must report in each year with data: with an explicit scope,
/// every county in it; otherwise every county of a prefecture that reported that year.
/// Functional zones count only when the scope says so. Missing counties are errors, or with
/// `coverage = "warn"` warnings and the rows returned (未报送).
fn check_coverage(
    merged: &[Observation],
    registry: &Registry,
    scope: &Scope,
    problems: &mut Problems,
) -> Vec<MissingRow> {
    let mut years: BTreeSet<i32> = BTreeSet::new();
    let mut present: BTreeSet<(i32, &str)> = BTreeSet::new();
    let mut prefectures: BTreeSet<(i32, &str)> = BTreeSet::new();
    let mut files_by_year: BTreeMap<i32, BTreeSet<&str>> = BTreeMap::new();
    // `merged` is sorted by year and region: look at each county-year once.
    let mut last: Option<(i32, &str)> = None;
    let mut last_file: Option<(i32, &str)> = None;
    for o in merged {
        if last_file != Some((o.year, &*o.loc.file)) {
            last_file = Some((o.year, &*o.loc.file));
            files_by_year.entry(o.year).or_default().insert(&*o.loc.file);
        }
        if last == Some((o.year, &*o.region_code)) {
            continue;
        }
        last = Some((o.year, &*o.region_code));
        years.insert(o.year);
        present.insert((o.year, &*o.region_code));
        if let Some(r) = registry.get(&o.region_code) {
            prefectures.insert((o.year, r.prefecture_code.as_str()));
        }
    }
    let mut missing = Vec::new();
    for &y in &years {
        for r in registry.valid_in(y) {
            let expected = scope.contains(registry, r)
                && (scope.is_explicit() || prefectures.contains(&(y, r.prefecture_code.as_str())));
            if !expected || present.contains(&(y, r.code.as_str())) {
                continue;
            }
            let files: Vec<&str> = files_by_year[&y].iter().copied().collect();
            let message = format!("{} {} ({}) has no data for {y}", r.code, r.name, r.prefecture_name);
            match scope.coverage {
                Coverage::Error => problems.error("coverage", Loc::file(&files.join(", ")), message),
                Coverage::Warn => {
                    problems.warning("coverage", Loc::file(&files.join(", ")), format!("{message} (未报送)"));
                    missing.push(MissingRow {
                        region_code: r.code.clone(),
                        year: y,
                        region_name: r.name.clone(),
                        prefecture_code: r.prefecture_code.clone(),
                        prefecture_name: r.prefecture_name.clone(),
                    });
                }
            }
        }
    }
    missing
}
