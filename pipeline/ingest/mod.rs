//! The ingest stage: input files → validated observations with provenance, revisions and warnings.

mod formats;
pub mod problem;
mod review;
mod sheet;
pub mod table;
mod textfile;
mod workbooks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::catalog::Catalog;
pub use crate::records::{MissingRow, SourceInfo};
use crate::regions::Registry;
use crate::scope::{Coverage, Scope};
use crate::text::data_year_in;
pub use crate::text::sha256_hex;
pub use problem::{CellLoc, Lang, Loc, Place, Problem, Problems, Severity};
pub use review::Confirmed;
use sheet::{read_grid, SheetContext, SheetResult};

/// One input file, read once: its bytes are what is hashed and what is parsed.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path relative to the input directory, with `/` separators.
    pub name: String,
    pub bytes: Vec<u8>,
    /// Reached a second time (a symlink, a linked directory): the name it was read under; no bytes.
    pub same_as: Option<String>,
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
    /// The indicator's position in the catalog (the merge sorts by it).
    pub indicator_index: u16,
    /// None: the county reported no data (blank, —, 空白).
    pub value: Option<f64>,
    /// The cell as written in the file, before unit conversion.
    pub raw_value: Raw,
    /// The unit the file used.
    pub raw_unit: Arc<str>,
    pub loc: CellLoc,
    pub out_of_range: bool,
    /// Replaced by a revision file.
    pub revised: bool,
}

/// A cell as written: a number stays a number (its text is made when the store is written, not
/// a million times over at ingest), text stays text.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Number(f64),
    Text(Box<str>),
}

impl Raw {
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Raw::Number(v) => table::format_number(*v).into(),
            Raw::Text(t) => std::borrow::Cow::Borrowed(t),
        }
    }

    /// An empty cell (a revision file leaves a value alone there).
    pub fn is_blank(&self) -> bool {
        matches!(self, Raw::Text(t) if t.trim().is_empty())
    }
}

/// The cell as written, formatted only when a message prints it.
impl std::fmt::Display for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
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

/// A workbook sheet whose cell A1 begins with this is left out without a warning: instructions
/// and reference sheets (the collection forms mark theirs so).
pub const NOT_DATA: &str = "不导入";

/// The ingest refused the inputs; `problems` lists every error (and the warnings), `lang` is the
/// language the message and hint are shown in.
#[derive(Debug)]
pub struct Rejected {
    pub problems: Vec<Problem>,
    pub lang: Lang,
}

impl Rejected {
    pub fn errors(&self) -> u64 {
        self.problems.iter().filter(|p| p.severity == Severity::Error).map(Problem::count).sum()
    }
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.lang {
            Lang::En => write!(f, "{} error(s) in the input files", self.errors()),
            Lang::Zh => write!(f, "报送文件中有 {} 处错误", self.errors()),
        }
    }
}

impl std::error::Error for Rejected {}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input directory {path} does not exist or is not a directory")]
    NotADirectory { path: std::path::PathBuf },
    #[error("cannot read {path}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("no CSV or workbook files found under {path}")]
    Empty { path: std::path::PathBuf },
}

/// Every file under a directory (recursively, sorted; hidden files, Excel's `~$` lock files and
/// `skip` — the config and a targets workbook beside the data — left out), read once each: a
/// file reached again through a link is listed with `same_as`, a directory loop is not followed.
/// Files cimon does not read are listed too, so that ingest names them.
pub fn collect_inputs(dir: &Path, skip: &[&Path]) -> Result<Vec<InputFile>, InputError> {
    if !dir.is_dir() {
        return Err(InputError::NotADirectory { path: dir.to_owned() });
    }
    let skip: Vec<std::path::PathBuf> = skip.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut paths = Vec::new();
    let mut visited: BTreeSet<std::path::PathBuf> = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        // A directory seen before (a link back up the tree) is not walked again.
        if !visited.insert(d.canonicalize().unwrap_or_else(|_| d.clone())) {
            continue;
        }
        let entries = std::fs::read_dir(&d).map_err(|source| InputError::Io { path: d.clone(), source })?;
        for e in entries {
            let e = e.map_err(|source| InputError::Io { path: d.clone(), source })?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name.starts_with('.') || name.starts_with("~$") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() && !path.canonicalize().is_ok_and(|c| skip.contains(&c)) {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let rel = |p: &Path| {
        let rel = p.strip_prefix(dir).unwrap_or(p);
        rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
    };
    if !paths.iter().any(|p| table::is_table_file(&rel(p))) {
        return Err(InputError::Empty { path: dir.to_owned() });
    }
    let mut first: HashMap<std::path::PathBuf, String> = HashMap::new();
    paths
        .into_iter()
        .map(|p| {
            let name = rel(&p);
            let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
            if let Some(earlier) = first.get(&canonical) {
                return Ok(InputFile { name, bytes: Vec::new(), same_as: Some(earlier.clone()) });
            }
            first.insert(canonical, name.clone());
            let bytes = std::fs::read(&p).map_err(|source| InputError::Io { path: p.clone(), source })?;
            Ok(InputFile { name, bytes, same_as: None })
        })
        .collect()
}

/// Synthetic files (`cimon synth`) carry 示例数据 in a title or note row: the first or last rows of a sheet.
fn declares_synthetic(grid: &table::Grid) -> bool {
    let n = grid.rows.len();
    let edge = grid.rows.iter().take(5).chain(grid.rows.iter().skip(n.saturating_sub(5).max(5)));
    edge.flat_map(|r| r.iter()).any(|c| says_synthetic(&c.text()))
}

fn says_synthetic(text: &str) -> bool {
    text.contains("示例数据") || text.to_lowercase().contains("synthetic data")
}

/// Rows of a text file read as one grid to find its header; the rest are read one by one.
const HEAD_ROWS: usize = 64;

fn same_value(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn show_zh(v: Option<f64>) -> String {
    v.map_or_else(|| "无数据".to_string(), |x| format!("{x}"))
}

/// A county as a clerk names it: 东宝区 (420802).
fn name_of(registry: &Registry, code: &str) -> String {
    registry.get(code).map_or_else(|| code.to_string(), |r| format!("{}（{code}）", r.name))
}

fn indicator_zh(catalog: &Catalog, code: &str) -> String {
    catalog.indicator(code).map_or_else(|| code.to_string(), |i| format!("“{}”", i.name_zh))
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".to_string(), |x| format!("{x}"))
}

/// One file: its source record and observations, and its problems (None: not read).
fn read_file(
    f: &InputFile,
    catalog: &Catalog,
    registry: &Registry,
    scope: &Scope,
) -> (Problems, Option<(SourceInfo, Vec<Observation>)>) {
    let mut problems = Problems::default();
    if let Some(first) = &f.same_as {
        problems.warning(
            "same_file",
            Loc::file(&f.name),
            format!("is the same file as {first} (a link): read once"),
            format!("与 {first} 是同一个文件（链接）：只读取一次"),
        );
        return (problems, None);
    }
    if !table::is_table_file(&f.name) {
        problems.warning(
            "unread_file",
            Loc::file(&f.name),
            "not read: cimon reads CSV (.csv), workbooks (.xlsx, .xls, .xlsm, .ods) and tab-separated text (.txt); \
             if it holds data, save it in one of those",
            "未读取：只读取 CSV（.csv）、Excel 工作簿（.xlsx、.xls、.xlsm、.ods）和制表符分隔的文本（.txt）；\
             如果其中有数据，请另存为这些格式之一",
        );
        return (problems, None);
    }
    let sha = crate::text::sha256_hex(&f.bytes);
    let Some((format, tables)) = table::read(&f.name, &f.bytes, &mut problems) else { return (problems, None) };
    let mut parts = f.name.rsplit('/');
    let base_name = parts.next().unwrap_or(&f.name);
    // `2023/荆门市.csv`: the nearest folder that names a year.
    let folder_year = parts.find_map(data_year_in);
    let cx = SheetContext { file: &f.name, file_year: data_year_in(base_name), folder_year, catalog, registry, scope };
    let mut layouts = BTreeSet::new();
    let mut obs = Vec::new();
    let mut synthetic = false;
    let mut take = |grid: &table::Grid, result: SheetResult, problems: &mut Problems| {
        let sheet_loc = || Loc { sheet: grid.sheet.as_deref().map(Arc::from), ..Loc::file(&f.name) };
        match result {
            SheetResult::NoTable => {
                if grid.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
                    problems.warning(
                        "no_table",
                        sheet_loc(),
                        "no header row with a county column and an indicator found in the first 30 rows; skipped",
                        "前 30 行中找不到含“区划代码”或“县（市、区）”列和指标列的表头：未读取此工作表",
                    );
                }
            }
            SheetResult::Table { layout, observations, rows } => {
                if rows == 0 {
                    problems.warning(
                        "header_only",
                        sheet_loc(),
                        "has a header row but no data under it: fill it in, or leave the file out",
                        "只有表头，没有数据：请填报数据，或不要报送此文件",
                    );
                }
                layouts.insert(layout);
                // Moved, not copied, for the usual one sheet: fresh pages are what ingest waits on.
                if obs.is_empty() {
                    obs = observations;
                } else {
                    obs.extend(observations);
                }
            }
        }
    };
    match tables {
        table::Tables::Sheets(grids) => {
            for grid in &grids {
                // A sheet that says so in A1 (the collection form's 填表说明 and 上年数据) is not data.
                if grid.sheet.is_some()
                    && matches!(grid.cell(0, 0), table::Cell::Text(t) if t.trim_start().starts_with(NOT_DATA))
                {
                    continue;
                }
                synthetic |= declares_synthetic(grid);
                take(grid, read_grid(grid, &cx, &mut problems), &mut problems);
            }
        }
        table::Tables::Text(text) => {
            // The header lies in the first rows; the rest is read row by row, never as one grid.
            let head = match text.grid(HEAD_ROWS) {
                Ok(head) => head,
                Err(e) => {
                    textfile::csv_problem(&f.name, e, &mut problems);
                    return (problems, None);
                }
            };
            synthetic = declares_synthetic(&head) || text.tail(5).iter().any(|t| says_synthetic(t));
            let result = if sheet::has_header(&head, &cx) {
                let mut rows = text.rows();
                let mut rest = |each: &mut dyn FnMut(usize, &[table::Cell])| -> Result<(), String> {
                    for row in rows.by_ref() {
                        let (r, cells) = row?;
                        if r >= HEAD_ROWS {
                            each(r, &cells);
                        }
                    }
                    Ok(())
                };
                sheet::read_table(&head, &mut rest, text.rows_estimate(HEAD_ROWS), &cx, &mut problems)
            } else {
                // No header: perhaps a table turned round, which only the whole grid shows.
                match text.grid(usize::MAX) {
                    Ok(full) => read_grid(&full, &cx, &mut problems),
                    Err(e) => {
                        textfile::csv_problem(&f.name, e, &mut problems);
                        return (problems, None);
                    }
                }
            };
            take(&head, result, &mut problems);
        }
    }
    if layouts.is_empty() {
        problems.error(
            "no_table",
            Loc::file(&f.name),
            "no table found: expected a header row naming the county (代码 or 县(市、区)) and indicators",
            "文件中找不到数据表：表头应有“区划代码”或“县（市、区）”列，以及指标列",
        );
    }
    let source = SourceInfo {
        file: f.name.clone(),
        sha256: sha,
        bytes: f.bytes.len() as u64,
        format: format.describe(),
        layout: layouts.into_iter().collect::<Vec<_>>().join("+"),
        revision: f.is_revision(),
        synthetic,
        observations: obs.len() as u64,
    };
    (problems, Some((source, obs)))
}

/// Validate and merge all input files. Pure: no I/O.
pub fn ingest(
    files: &[InputFile],
    catalog: &Catalog,
    registry: &Registry,
    scope: &Scope,
    confirmed: &[Confirmed],
) -> Result<Ingested, Rejected> {
    let mut problems = Problems::default();
    let mut sources = Vec::new();
    let mut base: Vec<Observation> = Vec::new();
    let mut revised: Vec<Observation> = Vec::new();
    let t0 = std::time::Instant::now();
    let lap = |what: &str| crate::timing::lap(&format!("ingest {what}"), t0);

    // Files are parsed in parallel (each on its own, into its own problems) and merged in order.
    use rayon::prelude::*;
    let read: Vec<(Problems, Option<(SourceInfo, Vec<Observation>)>)> =
        files.par_iter().map(|f| read_file(f, catalog, registry, scope)).collect();
    let regular = |f: &&(SourceInfo, Vec<Observation>)| !f.0.revision;
    let total: usize = read.iter().filter_map(|(_, f)| f.as_ref()).filter(regular).map(|f| f.1.len()).sum();
    for (p, file) in read {
        problems.extend(p);
        let Some((source, obs)) = file else { continue };
        if source.revision {
            revised.extend(obs);
        } else if base.is_empty() && obs.len() == total {
            // The only regular file (a national long table): moved, not copied.
            base = obs;
        } else {
            base.reserve(total - base.len());
            base.extend(obs);
        }
        sources.push(source);
    }
    lap("files parsed");

    // Merge the regular files: the same value twice is fine, two different values are a conflict.
    // Keys are (year, region, indicator) as one integer whose order is the codes' order, so a
    // sort of indices replaces a map of strings (10⁶ values at national scale).
    let mut codes: Vec<&str> = registry.regions.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    let region_order: HashMap<&str, u64> = codes.iter().enumerate().map(|(i, c)| (*c, i as u64)).collect();
    // A six-digit code is its own order (numeric = lexical order); any other code comes after,
    // in its order among the registry's codes.
    let region_key = |c: &str| -> u64 {
        if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
            c.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
        } else {
            (1 << 20) + region_order[c]
        }
    };
    let key = |o: &Observation| -> u64 {
        // year < 2^16 after the offset, regions < 2^32, indicators < 2^16
        (((o.year - 1900) as u64) << 48) | (region_key(&o.region_code) << 16) | u64::from(o.indicator_index)
    };
    // Sorted in place (stable: the first of a key in file order comes first), so the values of
    // one key are adjacent; no second copy of a million observations.
    base.sort_by_cached_key(|o| key(o));
    let mut keys: Vec<u64> = base.iter().map(&key).collect();
    let mut keep = vec![true; base.len()];
    let mut first = 0usize;
    for i in 1..base.len() {
        if keys[i] != keys[first] {
            first = i;
            continue;
        }
        let (prev, o) = (&base[first], &base[i]);
        // The same value from another file is a harmless copy; within one file (two sheets,
        // say) a county-year twice is a mistake even when the values agree.
        keep[i] = false;
        if same_value(prev.value, o.value) && prev.loc.file() != o.loc.file() {
            continue;
        }
        let (kind, what, what_zh) = if prev.loc.file() == o.loc.file() {
            ("duplicate_county", "appears twice in this file", "在同一文件中出现两次")
        } else {
            ("conflict", "has a different value in another file", "与另一文件中的数值不一致")
        };
        problems.push(
            Severity::Error,
            kind,
            o.loc.loc(),
            format!(
                "{} {} {}: {what}: {} here, {} at {}",
                o.region_code,
                o.year,
                o.indicator,
                show(o.value),
                show(prev.value),
                prev.loc
            ),
            format!(
                "{} {} 年{}{what_zh}：此处为 {}，{}为 {}；请核实后保留正确的一个",
                name_of(registry, &o.region_code),
                o.year,
                indicator_zh(catalog, &o.indicator),
                show_zh(o.value),
                prev.loc.zh(),
                show_zh(prev.value)
            ),
            Some(o.region_code.clone()),
        );
    }
    let mut at = 0;
    keys.retain(|_| {
        at += 1;
        keep[at - 1]
    });
    let mut at = 0;
    base.retain(|_| {
        at += 1;
        keep[at - 1]
    });
    drop(keep);
    let mut merged = base;
    lap("merged");

    // Apply revisions, recording each change.
    let mut revisions = Vec::new();
    let mut by_revision: HashMap<u64, Loc> = HashMap::new();
    let mut added = Vec::new();
    for o in revised {
        // A blank cell in a revision file revises nothing; only an explicit "no data" (—, 空白) clears a value.
        if o.raw_value.is_blank() {
            continue;
        }
        let k = key(&o);
        let pos = keys.binary_search(&k).ok();
        if let Some(first) = by_revision.get(&k) {
            let earlier =
                pos.map(|p| &merged[p]).or_else(|| added.iter().map(|(_, a)| a).find(|a: &&Observation| key(a) == k));
            if let Some(earlier) = earlier.filter(|e| !same_value(e.value, o.value)) {
                problems.push(
                    Severity::Error,
                    "conflict",
                    o.loc.loc(),
                    format!(
                        "{} {} {}: two revisions disagree: {} here, {} at {first}",
                        o.region_code,
                        o.year,
                        o.indicator,
                        show(o.value),
                        show(earlier.value)
                    ),
                    format!(
                        "{} {} 年{}的两份修订不一致：此处为 {}，{} 为 {}；请只保留一份修订",
                        name_of(registry, &o.region_code),
                        o.year,
                        indicator_zh(catalog, &o.indicator),
                        show_zh(o.value),
                        first.zh(),
                        show_zh(earlier.value)
                    ),
                    Some(o.region_code.clone()),
                );
            }
            continue;
        }
        by_revision.insert(k, o.loc.loc());
        let old = pos.map(|p| &merged[p]);
        if old.is_some_and(|p| same_value(p.value, o.value)) {
            continue;
        }
        revisions.push(Revision {
            region_code: o.region_code.to_string(),
            year: o.year,
            indicator: o.indicator.to_string(),
            old_value: old.and_then(|p| p.value),
            new_value: o.value,
            old_source: old.map(|p| p.loc.loc()),
            new_source: o.loc.loc(),
        });
        let o = Observation { revised: true, ..o };
        match pos {
            Some(p) => merged[p] = o,
            None => added.push((k, o)),
        }
    }
    if !added.is_empty() {
        merged.extend(added.into_iter().map(|(_, o)| o));
        merged.sort_by_cached_key(|o| key(o));
    }

    if merged.is_empty() && !problems.has_errors() {
        nothing_to_store(files, &sources, &mut problems);
    }
    review::review(&merged, catalog, registry, confirmed, &mut problems);
    lap("reviewed");
    outside_scope(&merged, registry, scope, &mut problems);
    // A county no row could be identified as may be one of those "missing": say so with them.
    let unidentified = problems.iter().filter(|p| p.kind == "unknown_county" && p.severity == Severity::Error).count();
    let missing = check_coverage(&merged, registry, scope, unidentified, &mut problems);

    lap("coverage");
    let all = problems.into_vec();
    if all.iter().any(|p| p.severity == Severity::Error) {
        return Err(Rejected { problems: all, lang: Lang::default() });
    }
    Ok(Ingested { observations: merged, revisions, warnings: all, sources, missing })
}

/// Inputs that hold no value at all would make an empty store in place of the published one: an
/// error, whether no file held a table (only a 说明.txt; a share that is not mounted) or the
/// tables were empty.
fn nothing_to_store(files: &[InputFile], sources: &[SourceInfo], problems: &mut Problems) {
    let names: Vec<&str> = files.iter().take(5).map(|f| f.name.as_str()).collect();
    let more = if files.len() > 5 { format!(" and {} more", files.len() - 5) } else { String::new() };
    let (en, zh) = if sources.is_empty() {
        (
            format!(
                "none of the {} input file(s) holds a table ({}{more}): put the data files (CSV or workbooks) into the \
                 input directory; if it should hold them, check that it is the right directory and that a network \
                 share is mounted",
                files.len(),
                names.join(", ")
            ),
            format!(
                "报送目录中的 {} 个文件（{}{}）都不是数据表：请把报送的数据文件（CSV 或 Excel 工作簿）放入报送目录；\
                 如果文件本应在其中，请检查目录是否正确、网络共享目录是否已连接",
                files.len(),
                names.join("、"),
                if files.len() > 5 { " 等" } else { "" }
            ),
        )
    } else {
        (
            format!(
                "the input files hold no values ({}{more}): every table is empty; fill in the data, or check that these \
                 are the right files",
                names.join(", ")
            ),
            format!("报送文件中没有任何数据（{}{}）：表格都是空的，请填报数据，或检查是否放错了文件", names.join("、"), if files.len() > 5 { " 等" } else { "" }),
        )
    };
    problems.error(if sources.is_empty() { "no_tables" } else { "no_data" }, Loc::file(&names.join(", ")), en, zh);
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
            by_file.entry(o.loc.file()).or_default().insert(&o.region_code);
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
            format!(
                "有 {} 个县不在本次评价范围内：{}{}；数据已保存，但不参与评价",
                codes.len(),
                named.join("、"),
                if codes.len() > 5 { " 等".to_string() } else { String::new() }
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
    unidentified: usize,
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
        if last_file != Some((o.year, o.loc.file())) {
            last_file = Some((o.year, o.loc.file()));
            files_by_year.entry(o.year).or_default().insert(o.loc.file());
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
            let mut message = format!("{} {} ({}) has no data for {y}", r.code, r.name, r.prefecture_name);
            let mut zh = format!("{} {}（{}）没有 {y} 年的数据（未报送）", r.code, r.name, r.prefecture_name);
            if unidentified > 0 {
                message.push_str(&format!(
                    "; perhaps it is among the {unidentified} row(s) above whose county could not be identified: correct those first"
                ));
                zh.push_str(&format!("；可能是上面 {unidentified} 处无法识别县名或代码的行之一，请先改正那些行"));
            }
            let code: Option<Arc<str>> = Some(Arc::from(r.code.as_str()));
            let at = Loc::file(&files.join(", "));
            match scope.coverage {
                Coverage::Error => problems.push(Severity::Error, "coverage", at, message, zh, code),
                Coverage::Warn => {
                    problems.push(Severity::Warning, "coverage", at, format!("{message} (未报送)"), zh, code);
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
