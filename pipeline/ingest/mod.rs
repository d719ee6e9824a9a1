//! The ingest stage: input files → validated observations with provenance, revisions and warnings.

mod coverage;
mod files;
mod formats;
mod grid;
mod merge;
pub mod problem;
mod review;
mod sheet;
pub mod table;
mod textfile;
mod workbooks;

use std::sync::Arc;

use crate::catalog::Catalog;
pub use crate::records::{MissingRow, SourceInfo};
use crate::regions::Registry;
use crate::scope::Scope;
pub use crate::text::sha256_hex;
use coverage::{check_coverage, nothing_to_store, outside_scope};
use files::read_file;
pub use files::{collect_inputs, list_inputs, InputError, InputFile, Listing};
pub use problem::{CellLoc, Lang, Loc, Place, Problem, Problems, Severity};
pub use review::Confirmed;

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

    /// `text()` appended to `out`, without a String of its own for a number.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Raw::Number(v) => grid::write_number(out, *v),
            Raw::Text(t) => out.push_str(t),
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
/// and reference sheets (the collection forms mark theirs so); so is a file whose name does.
pub const NOT_DATA: &str = "不导入";

/// The note `cimon init` leaves in the input directory (its name marks it as not data).
pub const INPUTS_NOTE_FILE: &str = "不导入_说明.md";
pub const INPUTS_NOTE: &str = "\
# 报送目录 · input files

把各县（市、区）报送的年度数据文件放在这个目录里（可以按年份建子文件夹，如 `2024/`）：Excel 工作簿
（.xlsx、.xls、.ods）、CSV 或 Excel 的“Unicode 文本”（.txt）。每次运行都读取本目录下的全部文件，
各年的文件要一起保留：少了哪一年或哪个地级市的文件，运行会被拒绝，以免已发布的数据丢失。
文件名以“不导入”开头的文件不读取（例如本说明）。填报表可用 `cimon form` 生成。

Put the counties' yearly data files here (in folders by year if you like, `2024/`): workbooks
(.xlsx, .xls, .ods), CSV, or Excel's \"Unicode text\" (.txt). Every run reads every file here, so
keep every year's files: a run that would lose a year or a prefecture the published store holds
is refused. Files whose name begins with 不导入 are not read (like this note). `cimon form` writes
the collection forms.
";

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

    let (merged, revisions) = merge::merge(base, revised, catalog, registry, &mut problems, &lap);

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
