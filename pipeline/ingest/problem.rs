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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loc {
    pub file: Arc<str>,
    pub sheet: Option<Arc<str>>,
    pub row: Option<usize>,
    /// Column letter (A, B, …, AA).
    pub column: Option<Arc<str>>,
    /// The header text of that column.
    pub header: Option<Arc<str>>,
}

/// Where an observation's cell is, compactly: the parts a sheet column shares, and the cell's
/// row and column in the file. 16 bytes instead of `Loc`'s 80, for a million observations at
/// national scale; `loc()` gives the full location for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct CellLoc {
    pub place: Arc<Place>,
    /// 1-based, as the sheet shows it.
    pub row: u32,
    /// 0-based column index (A = 0).
    pub col: u32,
}

/// The file, sheet and column header a column of cells shares.
#[derive(Debug, PartialEq)]
pub struct Place {
    pub file: Arc<str>,
    pub sheet: Option<Arc<str>>,
    pub header: Option<Arc<str>>,
}

impl CellLoc {
    pub fn loc(&self) -> Loc {
        Loc {
            file: self.place.file.clone(),
            sheet: self.place.sheet.clone(),
            row: Some(self.row as usize),
            column: Some(Arc::from(crate::text::column_letter(self.col as usize))),
            header: self.place.header.clone(),
        }
    }
    pub fn file(&self) -> &Arc<str> {
        &self.place.file
    }
    pub fn zh(&self) -> String {
        self.loc().zh()
    }
}

impl std::fmt::Display for CellLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.loc().fmt(f)
    }
}

impl Loc {
    pub fn file(file: &str) -> Loc {
        Loc { file: file.into(), sheet: None, row: None, column: None, header: None }
    }

    /// The place in Chinese, as a clerk would look for it: 文件 …，工作表 …，第 5 行，C 列（表头）.
    pub fn zh(&self) -> String {
        let mut s = format!("{}", self.file);
        if let Some(sh) = &self.sheet {
            s.push_str(&format!("，工作表“{sh}”"));
        }
        if let Some(r) = self.row {
            s.push_str(&format!("，第 {r} 行"));
        }
        if let Some(c) = &self.column {
            s.push_str(&format!("，{c} 列"));
            if let Some(h) = &self.header {
                s.push_str(&format!("（{h}）"));
            }
        }
        s
    }
}

/// Places sort as a reader goes through a file: by sheet, row, then column as Excel orders
/// them (B before AA).
impl Ord for Loc {
    fn cmp(&self, other: &Loc) -> std::cmp::Ordering {
        fn column(l: &Loc) -> Option<(usize, &str)> {
            l.column.as_deref().map(|c| (c.len(), c))
        }
        (&self.file, &self.sheet, self.row, column(self), &self.header).cmp(&(
            &other.file,
            &other.sheet,
            other.row,
            column(other),
            &other.header,
        ))
    }
}

impl PartialOrd for Loc {
    fn partial_cmp(&self, other: &Loc) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
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

pub use crate::text::Lang;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    pub severity: Severity,
    /// Stable machine-readable kind, e.g. `unknown_county`.
    pub kind: &'static str,
    pub loc: Loc,
    /// In English, and in Chinese with what to change in the file.
    pub message: String,
    pub message_zh: String,
    /// The county the problem is about, when there is one (problem lists go by prefecture).
    pub region: Option<Arc<str>>,
    /// The value in question as written, and the review rule it breaks, where there are such.
    pub value: Option<String>,
    pub rule: Option<String>,
    /// How many more problems of its file and kind this line stands for: beyond the first
    /// `Problems::LISTED` of a kind in a file, problems are counted, not kept one by one.
    pub also: u64,
}

impl Problem {
    pub fn new(
        severity: Severity,
        kind: &'static str,
        loc: Loc,
        message: String,
        message_zh: String,
        region: Option<Arc<str>>,
    ) -> Problem {
        Problem { severity, kind, loc, message, message_zh, region, value: None, rule: None, also: 0 }
    }

    /// The problems this line stands for: itself, and those counted with it.
    pub fn count(&self) -> u64 {
        1 + self.also
    }

    /// One line as the terminal shows it, in `lang`.
    pub fn line(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::Zh => {
                let level = if self.severity == Severity::Error { "错误" } else { "提示" };
                format!("{level}：{}：{} [{}]", self.loc.zh(), self.message_zh, self.kind)
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {} [{}]", self.severity.as_str(), self.loc, self.message, self.kind)
    }
}

/// Collects problems while a file is read, so every one is reported, not just the first. A file
/// that repeats one mistake a million times (every row twice) keeps the first `LISTED` of each
/// kind and counts the rest: the list stays readable, and memory small.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    /// Per file, kind and severity: how many there are, and how many of them are listed.
    counts: std::collections::HashMap<(Arc<str>, &'static str, Severity), (u64, u64)>,
}

impl Problems {
    /// Problems of one kind in one file listed one by one; the rest are counted.
    pub const LISTED: u64 = 1000;

    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.list.iter()
    }

    /// Another collection's problems (a file's, the review's), counted with these.
    pub fn extend(&mut self, other: Problems) {
        for p in other.list {
            let (_, listed) = self.counts.entry((p.loc.file.clone(), p.kind, p.severity)).or_default();
            if *listed < Self::LISTED {
                *listed += 1;
                self.list.push(p);
            }
        }
        for (key, (total, _)) in other.counts {
            self.counts.entry(key).or_default().0 += total;
        }
    }

    /// Every problem: those listed, then one line per file and kind for those only counted.
    pub fn into_vec(self) -> Vec<Problem> {
        let Problems { mut list, counts } = self;
        let mut beyond: Vec<_> = counts.into_iter().filter(|(_, (n, listed))| n > listed).collect();
        beyond.sort_by(|a, b| (&a.0 .0, a.0 .1, a.0 .2).cmp(&(&b.0 .0, b.0 .1, b.0 .2)));
        for ((file, kind, severity), (n, listed)) in beyond {
            let more = n - listed;
            let mut p = Problem::new(
                severity,
                kind,
                Loc::file(&file),
                format!("{more} more like the {} above in this file, counted but not listed one by one", Self::LISTED),
                format!("本文件另有 {more} 处同类问题（上面已列出前 {} 处），只计数，未逐一列出", Self::LISTED),
                None,
            );
            p.also = more - 1;
            list.push(p);
        }
        list
    }

    pub fn error(&mut self, kind: &'static str, loc: Loc, en: impl Into<String>, zh: impl Into<String>) {
        self.push(Severity::Error, kind, loc, en.into(), zh.into(), None);
    }
    pub fn warning(&mut self, kind: &'static str, loc: Loc, en: impl Into<String>, zh: impl Into<String>) {
        self.push(Severity::Warning, kind, loc, en.into(), zh.into(), None);
    }
    pub fn push(
        &mut self,
        severity: Severity,
        kind: &'static str,
        loc: Loc,
        message: String,
        message_zh: String,
        region: Option<Arc<str>>,
    ) {
        self.add(Problem::new(severity, kind, loc, message, message_zh, region));
    }
    pub fn add(&mut self, p: Problem) {
        let (total, listed) = self.counts.entry((p.loc.file.clone(), p.kind, p.severity)).or_default();
        *total += 1;
        if *listed < Self::LISTED {
            *listed += 1;
            self.list.push(p);
        }
    }
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|p| p.severity == Severity::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistake_repeated_past_the_listed_is_counted_in_one_line() {
        let mut ps = Problems::default();
        let at = |f: &str| Loc::file(f);
        for _ in 0..Problems::LISTED + 5 {
            ps.error("not_a_number", at("a.csv"), "x", "甲");
        }
        ps.error("not_a_number", at("b.csv"), "x", "甲");
        let mut file = Problems::default();
        file.error("not_a_number", at("a.csv"), "x", "甲");
        ps.extend(file);
        let all = ps.into_vec();
        assert_eq!(all.len() as u64, Problems::LISTED + 1 + 1, "a thousand of a.csv, b.csv's, one count line");
        let last = all.last().unwrap();
        assert_eq!((last.loc.file.as_ref(), last.count()), ("a.csv", 6));
        assert!(last.message.starts_with("6 more like the 1000 above"), "{}", last.message);
        assert_eq!(all.iter().map(Problem::count).sum::<u64>(), Problems::LISTED + 5 + 1 + 1);
    }
}
