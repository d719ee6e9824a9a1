//! Validation problems with their exact place: file, sheet, row, column.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

crate::keyed! {
    /// An error stops the ingest; a warning is stored with the data. Errors sort first.
    pub enum Severity {
        Error = "error",
        Warning = "warning",
    }
}

/// A place in an input file; every part but the file is optional. Rows are 1-based as in Excel.
/// Parts are shared (`Arc<str>`): a million values point at a few files, sheets and columns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Loc {
    pub file: Arc<str>,
    pub sheet: Option<Arc<str>>,
    pub row: Option<usize>,
    /// Column letter (A, B, …, AA).
    pub column: Option<Arc<str>>,
    /// The header text of that column.
    pub header: Option<Arc<str>>,
}

impl Loc {
    pub fn file(file: &str) -> Loc {
        Loc { file: file.into(), sheet: None, row: None, column: None, header: None }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(s) = &self.sheet {
            write!(f, ", sheet {s}")?;
        }
        if let Some(r) = self.row {
            write!(f, ", row {r}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
            if let Some(h) = &self.header {
                write!(f, " ({h})")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Stable machine-readable kind, e.g. `unknown_county`.
    pub kind: &'static str,
    pub loc: Loc,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {} [{}]", self.severity.as_str(), self.loc, self.message, self.kind)
    }
}

/// Collects problems while a file is read, so every one is reported, not just the first.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub fn error(&mut self, kind: &'static str, loc: Loc, message: impl Into<String>) {
        self.0.push(Problem { severity: Severity::Error, kind, loc, message: message.into() });
    }
    pub fn warning(&mut self, kind: &'static str, loc: Loc, message: impl Into<String>) {
        self.0.push(Problem { severity: Severity::Warning, kind, loc, message: message.into() });
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|p| p.severity == Severity::Error)
    }
}
