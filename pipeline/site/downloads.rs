//! The site's downloads: every published result table as Parquet (as published) and as CSV
//! (UTF-8 with a BOM, so Excel opens the Chinese names), the workbook, the data dictionary and
//! each county's PDF. Files are hard-linked where the file system allows, copied otherwise.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::{AnyValue, DataFrame};
use serde::Serialize;

use super::SiteError;

/// A result table offered for download.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub name: String,
    pub rows: usize,
    pub columns: usize,
    pub parquet: String,
    pub csv: String,
}

/// A county's PDF, by its code.
#[derive(Debug, Clone, Serialize)]
pub struct Pdf {
    pub code: String,
    pub file: String,
}

#[derive(Debug, Clone, Default)]
pub struct Pdfs {
    /// The overview (and province reports) first, then the counties by code.
    pub files: Vec<Pdf>,
}

impl Pdfs {
    /// The site path of a county's PDF.
    pub fn of(&self, code: &str) -> Option<String> {
        self.files.iter().find(|p| p.code == code).map(|p| format!("pdf/{}", p.file))
    }
}

/// The PDFs of the reports directory (`420802-东宝区.pdf`, `overview.pdf`).
pub fn pdfs(reports: Option<&Path>) -> Pdfs {
    let mut files: Vec<Pdf> = reports
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let stem = file.strip_suffix(".pdf")?;
            let code = stem.split_once('-').map_or(stem, |(c, _)| c).to_string();
            Some(Pdf { code, file })
        })
        .collect();
    files.sort_by(|a, b| {
        (a.code.chars().next().is_some_and(|c| c.is_ascii_digit()), &a.file)
            .cmp(&(b.code.chars().next().is_some_and(|c| c.is_ascii_digit()), &b.file))
    });
    Pdfs { files }
}

fn frame(results: &Path, name: &str) -> Result<DataFrame, SiteError> {
    crate::tables::read_frame(results, name).map_err(|e| match e {
        crate::store::StoreError::Polars { path, source } => SiteError::Table { path, source },
        other => SiteError::Store(other),
    })
}

fn link_or_copy(from: &Path, to: &Path) -> Result<u64, SiteError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SiteError::Io { path, source }
    };
    if let Some(d) = to.parent() {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let bytes = std::fs::metadata(from).map_err(io(from))?.len();
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).map_err(io(to))?;
    }
    Ok(bytes)
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn field(s: &str, out: &mut String) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The frame as CSV into `out`: nulls empty, floats as Rust prints them (shortest round trip).
pub fn csv(df: &DataFrame, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut line = String::from("\u{feff}");
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        field(n, &mut line);
    }
    line.push('\n');
    let columns = df.columns();
    for row in 0..df.height() {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match c.get(row) {
                Ok(AnyValue::Null) | Err(_) => {}
                Ok(AnyValue::String(s)) => field(s, &mut line),
                Ok(AnyValue::StringOwned(s)) => field(s.as_str(), &mut line),
                Ok(AnyValue::Float64(x)) => {
                    let _ = write!(line, "{x}");
                }
                Ok(AnyValue::Float32(x)) => {
                    let _ = write!(line, "{x}");
                }
                Ok(v) => field(&v.to_string(), &mut line),
            }
        }
        line.push('\n');
        // Written in pieces: a national table's CSV is hundreds of MB.
        if line.len() > 1 << 16 {
            out.write_all(line.as_bytes())?;
            line.clear();
        }
    }
    out.write_all(line.as_bytes())
}

/// Put the downloads into the site: every result table as Parquet and CSV, the workbook, the
/// dictionary and the PDFs. The tables offered, and the bytes written.
pub fn copy(site: &Path, results: &Path, reports: Option<&Path>, pdfs: &Pdfs) -> Result<(Vec<Table>, u64), SiteError> {
    let mut names: Vec<String> = std::fs::read_dir(results)
        .map_err(|source| SiteError::Io { path: results.to_path_buf(), source })?
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().strip_suffix(".parquet").map(str::to_string))
        .collect();
    names.sort();
    let mut bytes = 0;
    let mut tables = Vec::new();
    for name in names {
        let (parquet, csv_file) = (format!("data/{name}.parquet"), format!("data/{name}.csv"));
        bytes += link_or_copy(&results.join(format!("{name}.parquet")), &site.join(&parquet))?;
        // One table in memory at a time.
        let df = frame(results, &name)?;
        let path: PathBuf = site.join(&csv_file);
        let io = |source| SiteError::Io { path: path.clone(), source };
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(io)?);
        csv(&df, &mut file).map_err(io)?;
        std::io::Write::flush(&mut file).map_err(io)?;
        bytes += std::fs::metadata(&path).map_err(io)?.len();
        tables.push(Table { rows: df.height(), columns: df.width(), parquet, csv: csv_file, name });
    }
    for extra in ["results.xlsx", "data-dictionary.toml"] {
        let from = results.join(extra);
        if from.is_file() {
            bytes += link_or_copy(&from, &site.join("data").join(extra))?;
        }
    }
    if let Some(dir) = reports {
        for p in &pdfs.files {
            bytes += link_or_copy(&dir.join(&p.file), &site.join("pdf").join(&p.file))?;
        }
    }
    Ok((tables, bytes))
}
