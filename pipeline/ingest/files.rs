//! Reading the input files: every file under the input directory once (links and loops
//! followed no further), and one file's tables into observations with its source record.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use super::problem::{Loc, Problems};
use super::sheet::{self, read_grid, SheetContext, SheetResult};
use super::{table, textfile, Observation, NOT_DATA};
use crate::catalog::Catalog;
use crate::records::SourceInfo;
use crate::regions::Registry;
use crate::scope::Scope;
use crate::text::data_year_in;

/// One input file, read once: its bytes are what is hashed and what is parsed.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path relative to the input directory, with `/` separators.
    pub name: String,
    pub bytes: Vec<u8>,
    /// Reached a second time (a symlink, a linked directory): the name it was read under; no bytes.
    pub same_as: Option<String>,
    /// A subdirectory with a `cimon.toml` of its own (`name` ends in `/`): another project's
    /// data, such as a second catalog's sample, named in a warning and not read.
    pub other_project: bool,
}

impl InputFile {
    /// A revision is declared in the file name (`2022年数据修订.csv`, `2022_revision.xlsx`).
    pub fn is_revision(&self) -> bool {
        let base = self.name.rsplit('/').next().unwrap_or(&self.name).to_lowercase();
        let negated = ["未修订", "修订前", "更正前", "unrevised"].iter().any(|w| base.contains(w));
        !negated && ["修订", "更正", "revision", "revised"].iter().any(|w| base.contains(w))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input directory {path} does not exist or is not a directory")]
    NotADirectory { path: std::path::PathBuf },
    #[error("cannot read {path}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
    #[error("no CSV or workbook files found under {path}{}", skipped_projects(.skipped))]
    Empty {
        path: std::path::PathBuf,
        /// Subfolders left out because they hold a cimon.toml of their own.
        skipped: Vec<String>,
    },
}

fn skipped_projects(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!(
            " (not read: {}, which hold their own cimon.toml: run cimon with that config, or move the files up)",
            skipped.join(", ")
        )
    }
}

/// What a walk of the input directory found: every file (sorted), the subfolders left out as
/// other projects, and the table files among the files.
pub struct Listing {
    pub paths: Vec<std::path::PathBuf>,
    pub projects: BTreeSet<std::path::PathBuf>,
    pub tables: usize,
}

/// A path under `dir` as ingest names it: relative, with `/` separators.
fn relative(dir: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(dir).unwrap_or(p);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Every file under a directory (recursively, sorted; hidden files, Excel's `~$` lock files and
/// `skip` — the config and a targets workbook beside the data — left out), without reading them:
/// a directory loop is not followed, and a subdirectory holding its own `cimon.toml` belongs to
/// another project and is not walked. Refuses a directory with no table file, naming such
/// subfolders. `cimon doctor` checks the inputs with the same walk.
pub fn list_inputs(dir: &Path, skip: &[&Path]) -> Result<Listing, InputError> {
    if !dir.is_dir() {
        return Err(InputError::NotADirectory { path: dir.to_owned() });
    }
    let skip: Vec<std::path::PathBuf> = skip.iter().filter_map(|p| p.canonicalize().ok()).collect();
    let mut paths = Vec::new();
    let mut projects: BTreeSet<std::path::PathBuf> = BTreeSet::new();
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
            // Hidden files, Excel's lock files, and files marked 不导入 (cimon init's note) are not data.
            if name.starts_with('.') || name.starts_with("~$") || name.starts_with(NOT_DATA) {
                continue;
            }
            if path.is_dir() {
                // A link back to a folder already walked (the input root holding its own
                // cimon.toml, say) is not another project: the walk skips it as before.
                let seen = path.canonicalize().is_ok_and(|c| visited.contains(&c));
                if path.join("cimon.toml").is_file() && !seen {
                    projects.insert(path);
                } else {
                    stack.push(path);
                }
            } else if path.is_file() && !path.canonicalize().is_ok_and(|c| skip.contains(&c)) {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let tables = paths.iter().filter(|p| table::is_table_file(&relative(dir, p))).count();
    if tables == 0 {
        let skipped = projects.iter().map(|p| format!("{}/", relative(dir, p))).collect();
        return Err(InputError::Empty { path: dir.to_owned(), skipped });
    }
    Ok(Listing { paths, projects, tables })
}

/// Every file of [`list_inputs`], read once each: a file reached again through a link is listed
/// with `same_as`. Files cimon does not read are listed too, so that ingest names them, and so
/// is every other project's subfolder (first, with `other_project`).
pub fn collect_inputs(dir: &Path, skip: &[&Path]) -> Result<Vec<InputFile>, InputError> {
    let Listing { paths, projects, .. } = list_inputs(dir, skip)?;
    let rel = |p: &Path| relative(dir, p);
    let others = projects.iter().map(|p| InputFile {
        name: rel(p) + "/",
        bytes: Vec::new(),
        same_as: None,
        other_project: true,
    });
    let mut first: HashMap<std::path::PathBuf, String> = HashMap::new();
    let files: Result<Vec<InputFile>, InputError> = paths
        .into_iter()
        .map(|p| {
            let name = rel(&p);
            let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
            if let Some(earlier) = first.get(&canonical) {
                return Ok(InputFile { name, bytes: Vec::new(), same_as: Some(earlier.clone()), other_project: false });
            }
            first.insert(canonical, name.clone());
            let bytes = std::fs::read(&p).map_err(|source| InputError::Io { path: p.clone(), source })?;
            Ok(InputFile { name, bytes, same_as: None, other_project: false })
        })
        .collect();
    Ok(others.chain(files?).collect())
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

/// One file: its source record and observations, and its problems (None: not read).
pub(super) fn read_file(
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
    if f.other_project {
        problems.warning(
            "other_project",
            Loc::file(&f.name),
            "not read: this folder has its own cimon.toml, so it is another project's data (run cimon with that \
             config for it); move its files up if they belong here",
            "未读取：该文件夹内有自己的 cimon.toml，属于另一套监测数据（请用该配置文件单独运行）；\
             如果其中的文件属于本次数据，请移出该文件夹",
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
                // A sheet of a workbook is named; a text file's one grid is the file, and the
                // file's own error below says it.
                if grid.sheet.is_some() && grid.rows.iter().any(|r| r.iter().any(|c| !c.is_empty())) {
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
