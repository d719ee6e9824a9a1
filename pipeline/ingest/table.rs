//! Reading one input file (CSV in any of the encodings bureaus use, or a workbook) into grids of cells.

use std::io::Cursor;

use calamine::{Data, Reader};

/// One cell as the file stores it; numbers stay numbers so nothing is lost to formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Number(_) => false,
        }
    }

    /// The cell as text, as a person would read it in the sheet.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(v) => format_number(*v),
        }
    }
}

/// Shortest round-trip text of a number, without a trailing ".0" for integers.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A sheet (or the single table of a CSV): rows of cells, row 0 = the file's first row.
#[derive(Debug, Clone)]
pub struct Grid {
    /// None for CSV.
    pub sheet: Option<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    pub fn cell(&self, row: usize, col: usize) -> &Cell {
        self.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&Cell::Empty)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Csv { encoding: &'static str },
    Workbook,
}

impl Format {
    pub fn describe(&self) -> String {
        match self {
            Format::Csv { encoding } => format!("csv ({encoding})"),
            Format::Workbook => "workbook".into(),
        }
    }
}

/// Whether a path is an input this reader takes.
pub fn is_table_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    !lower.starts_with("~$")
        && !lower.starts_with('.')
        && [".csv", ".xlsx", ".xlsm", ".xls", ".ods"].iter().any(|e| lower.ends_with(e))
}

/// Read a file's bytes into grids. The error is a message; the caller adds the file name.
pub fn read(name: &str, bytes: &[u8]) -> Result<(Format, Vec<Grid>), String> {
    if name.to_lowercase().ends_with(".csv") {
        let (text, encoding) = decode_text(bytes)?;
        Ok((Format::Csv { encoding }, vec![read_csv(&text)?]))
    } else {
        Ok((Format::Workbook, read_workbook(bytes)?))
    }
}

/// Detect the encoding: BOMs first, then UTF-8, then GB18030 (a superset of GBK and GB2312).
pub fn decode_text(bytes: &[u8]) -> Result<(String, &'static str), String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(|s| (s.to_string(), "UTF-8 with BOM"))
            .map_err(|e| format!("has a UTF-8 byte-order mark but invalid UTF-8 at byte {}", e.valid_up_to() + 3));
    }
    for (bom, enc, label) in
        [(&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "UTF-16LE"), (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "UTF-16BE")]
    {
        if bytes.starts_with(bom) {
            let (text, _, errors) = enc.decode(bytes);
            return if errors { Err(format!("invalid {label} text")) } else { Ok((text.into_owned(), label)) };
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_string(), "UTF-8"));
    }
    let (text, errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if errors {
        return Err("is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV or as a workbook".into());
    }
    Ok((text.into_owned(), "GBK/GB18030"))
}

fn read_csv(text: &str) -> Result<Grid, String> {
    let delimiter = sniff_delimiter(text);
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let bytes = text.as_bytes();
    let (mut scanned, mut line) = (0usize, 0usize);
    for rec in reader.records() {
        let rec = rec.map_err(|e| match e.position() {
            Some(p) => format!("row {}: malformed CSV: {e}", p.line()),
            None => format!("malformed CSV: {e}"),
        })?;
        // The csv reader skips blank lines (and its position points at them); count lines up to
        // the record's first byte so row numbers match the file.
        if let Some(p) = rec.position() {
            let mut start = (p.byte() as usize).max(scanned);
            while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
                start += 1;
            }
            line += bytes[scanned..start].iter().filter(|&&b| b == b'\n').count();
            scanned = start;
        }
        rows.resize(line.max(rows.len()), Vec::new());
        rows.push(
            rec.iter().map(|s| if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_string()) }).collect(),
        );
    }
    Ok(Grid { sheet: None, rows })
}

/// Comma unless the first lines hold more tabs or semicolons (Excel's "CSV" in some locales).
fn sniff_delimiter(text: &str) -> u8 {
    let head: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
    let count = |c: char| head.matches(c).count();
    [(b',', count(',')), (b'\t', count('\t')), (b';', count(';'))]
        .into_iter()
        .max_by_key(|&(d, n)| (n, d == b','))
        .map(|(d, _)| d)
        .unwrap_or(b',')
}

fn read_workbook(bytes: &[u8]) -> Result<Vec<Grid>, String> {
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec()))
        .map_err(|e| format!("cannot open as a workbook: {e}"))?;
    let mut grids = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).map_err(|e| format!("sheet {name}: {e}"))?;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        if let Some((r0, c0)) = range.start() {
            // calamine trims leading empty rows and columns; keep the sheet's real coordinates.
            rows.resize(r0 as usize, Vec::new());
            for row in range.rows() {
                let mut cells = vec![Cell::Empty; c0 as usize];
                cells.extend(row.iter().map(to_cell));
                rows.push(cells);
            }
        }
        grids.push(Grid { sheet: Some(name), rows });
    }
    Ok(grids)
}

fn to_cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(d) => Cell::Text(d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_gbk_and_boms() {
        let (gbk, _, _) = encoding_rs::GBK.encode("县,技术合同成交额（万元）\n东宝区,1");
        let (text, enc) = decode_text(&gbk).unwrap();
        assert_eq!(enc, "GBK/GB18030");
        assert!(text.contains("技术合同成交额（万元）"));
        let (text, enc) = decode_text("\u{feff}a,b".as_bytes()).unwrap();
        assert_eq!((text.as_str(), enc), ("a,b", "UTF-8 with BOM"));
        assert!(decode_text(&[0xff, 0xff, 0x81, 0x20]).is_err());
    }

    #[test]
    fn csv_keeps_title_lines_and_sniffs_tabs() {
        let g = read_csv("示例数据\n\n代码\t值\n420802\t1\n").unwrap();
        assert_eq!(g.rows.len(), 4, "a blank line keeps its row so row numbers match the file");
        assert_eq!(g.cell(2, 1), &Cell::Text("值".into()));
    }
}
