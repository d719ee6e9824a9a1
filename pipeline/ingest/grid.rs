//! A sheet as the readers deliver it: rows of cells as the file stores them (numbers stay numbers,
//! percent-formatted numbers and dates are marked), at the file's own coordinates.

/// One cell as the file stores it; numbers stay numbers so nothing is lost to formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A number formatted as a percentage, as stored (0.0269 for a cell that shows 2.69%).
    Percent(f64),
    /// A cell Excel formats as a date: (year, month, day).
    Date(i32, u8, u8),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Number(_) | Cell::Percent(_) | Cell::Date(..) => false,
        }
    }

    /// The cell as text, as a person would read it in the sheet.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(v) => format_number(*v),
            Cell::Percent(v) => format!("{}%", format_number(super::formats::shown_percent(*v))),
            Cell::Date(y, m, d) => format!("{y}-{m:02}-{d:02}"),
        }
    }
}

/// Shortest round-trip text of a number, without a trailing ".0" for integers.
pub fn format_number(v: f64) -> String {
    let mut s = String::new();
    write_number(&mut s, v);
    s
}

/// `format_number` appended to `out`, without a String of its own (the store writes a million).
pub fn write_number(out: &mut String, v: f64) {
    use std::fmt::Write;
    let _ = if v.fract() == 0.0 && v.abs() < 1e15 { write!(out, "{}", v as i64) } else { write!(out, "{v}") };
}

/// A sheet (or the single table of a text file): rows of cells, row 0 = the file's first row.
#[derive(Debug, Clone)]
pub struct Grid {
    /// None for CSV.
    pub sheet: Option<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Turned round from the file (counties were columns): rows here are the file's columns.
    pub transposed: bool,
    /// The title lines above a turned-round table, which no longer sit above its header.
    pub preamble: Vec<String>,
}

impl Grid {
    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        self.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&Cell::Empty)
    }
}
