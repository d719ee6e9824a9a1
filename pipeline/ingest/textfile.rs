//! Text tables: the encoding a bureau's CSV or "Unicode 文本" file is in, its delimiter, and its
//! rows read one by one (numbered as in the file), so that a file of millions of rows is never
//! one grid; a malformed or cut-short file in the clerk's words.

use std::borrow::Cow;

use super::grid::{Cell, Grid};
use super::problem::{Loc, Problems};

/// A text table: its rows are parsed as they are read.
pub struct TextTable<'a> {
    pub(super) text: Cow<'a, str>,
    pub(super) delimiter: u8,
}

impl<'a> TextTable<'a> {
    /// The rows of the text, numbered as in the file (0 = the first line; blank lines keep
    /// their numbers), each as cells; an error (a malformed or cut-short file) ends them.
    pub fn rows(&self) -> TextRows<'_> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(self.text.as_bytes());
        TextRows {
            bytes: self.text.as_bytes(),
            records: reader.into_records(),
            scanned: 0,
            line: 0,
            widest: 0,
            ahead: None,
            done: false,
        }
    }

    /// The first `n` rows as a grid (all of them when `n` is `usize::MAX`).
    pub fn grid(&self, n: usize) -> Result<Grid, String> {
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for row in self.rows() {
            let (r, cells) = row?;
            if r >= n {
                break;
            }
            rows.resize(r, Vec::new());
            rows.push(cells);
        }
        Ok(Grid { sheet: None, rows, transposed: false, preamble: Vec::new() })
    }

    /// About how many rows the text has, from the length of its first `n` lines (so that what
    /// is read from it is allocated once, not doubled as it grows).
    pub fn rows_estimate(&self, n: usize) -> usize {
        let bytes = self.text.as_bytes();
        let head = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n).map_or(bytes.len(), |(i, _)| i + 1);
        (bytes.len() as f64 / head.max(1) as f64 * (n + 1) as f64 * 1.05) as usize + n
    }

    /// The last lines' texts (a note row at the end of the table, 示例数据).
    pub fn tail(&self, lines: usize) -> Vec<String> {
        self.text.lines().rev().filter(|l| !l.trim().is_empty()).take(lines).map(str::to_string).collect()
    }
}

/// Rows of a text table (see `TextTable::rows`).
pub struct TextRows<'t> {
    bytes: &'t [u8],
    records: csv::StringRecordsIntoIter<&'t [u8]>,
    /// Bytes counted for line numbers so far, and the line reached.
    scanned: usize,
    line: usize,
    /// The widest row so far.
    widest: usize,
    /// The row read ahead: the last one is given only once it is known not to be cut short.
    ahead: Option<(usize, Vec<Cell>)>,
    done: bool,
}

impl TextRows<'_> {
    /// The next record as a numbered row; None at the end.
    fn record(&mut self) -> Option<Result<(usize, Vec<Cell>), String>> {
        let rec = match self.records.next()? {
            Ok(rec) => rec,
            Err(e) => {
                return Some(Err(match e.position() {
                    Some(p) => format!("row {}: malformed CSV: {e}", p.line()),
                    None => format!("malformed CSV: {e}"),
                }))
            }
        };
        // The csv reader skips blank lines (and its position points at them); count lines up to
        // the record's first byte so row numbers match the file.
        let bytes = self.bytes;
        if let Some(p) = rec.position() {
            let mut start = (p.byte() as usize).max(self.scanned);
            while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
                start += 1;
            }
            self.line += bytes[self.scanned..start].iter().filter(|&&b| b == b'\n').count();
            self.scanned = start;
        }
        let cells: Vec<Cell> =
            rec.iter().map(|s| if s.trim().is_empty() { Cell::Empty } else { Cell::Text(s.to_string()) }).collect();
        self.widest = self.widest.max(cells.len());
        Some(Ok((self.line, cells)))
    }
}

impl Iterator for TextRows<'_> {
    type Item = Result<(usize, Vec<Cell>), String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.ahead.is_none() {
            match self.record() {
                Some(Ok(row)) => self.ahead = Some(row),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    self.done = true;
                    return None;
                }
            }
        }
        match self.record() {
            Some(Ok(next)) => self.ahead.replace(next).map(Ok),
            Some(Err(e)) => {
                self.done = true;
                Some(Err(e))
            }
            None => {
                self.done = true;
                let (row, cells) = self.ahead.take()?;
                // A file cut off in transfer ends mid-line: fewer fields than the rows before, no newline.
                let unterminated = !self.bytes.ends_with(b"\n") && !self.bytes.ends_with(b"\r");
                if unterminated && row > 0 && cells.len() < self.widest {
                    return Some(Err(format!(
                        "row {}: the last line stops after {} of {} columns and the file has no final line break: \
                         the file looks cut short; ask for it to be sent again",
                        row + 1,
                        cells.len(),
                        self.widest
                    )));
                }
                Some(Ok((row, cells)))
            }
        }
    }
}

/// A CSV reading error as the clerk's problem: malformed, or cut short.
pub fn csv_problem(name: &str, e: String, problems: &mut Problems) {
    let zh = csv_zh(&e);
    problems.error("malformed_csv", Loc::file(name), e, zh);
}

/// Detect the encoding: BOMs first, then UTF-8, then GB18030 (a superset of GBK and GB2312).
/// UTF-8 is borrowed, not copied.
pub fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(|s| (Cow::Borrowed(s), "UTF-8 with BOM"))
            .map_err(|e| format!("has a UTF-8 byte-order mark but invalid UTF-8 at byte {}", e.valid_up_to() + 3));
    }
    for (bom, enc, label) in
        [(&b"\xFF\xFE"[..], encoding_rs::UTF_16LE, "UTF-16LE"), (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE, "UTF-16BE")]
    {
        if bytes.starts_with(bom) {
            let (text, _, errors) = enc.decode(bytes);
            return if errors {
                Err(format!("invalid {label} text"))
            } else {
                Ok((Cow::Owned(text.into_owned()), label))
            };
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(s), "UTF-8"));
    }
    let (text, errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if errors {
        return Err("is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 CSV or as a workbook".into());
    }
    Ok((Cow::Owned(text.into_owned()), "GBK/GB18030"))
}

#[cfg(test)]
fn read_csv(text: &str, delimiter: u8) -> Result<Grid, String> {
    TextTable { text: Cow::Borrowed(text), delimiter }.grid(usize::MAX)
}

/// Comma unless the first lines hold more tabs or semicolons (Excel's "CSV" in some locales).
pub(super) fn sniff_delimiter(text: &str) -> u8 {
    let head: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
    let count = |c: char| head.matches(c).count();
    [(b',', count(',')), (b'\t', count('\t')), (b';', count(';'))]
        .into_iter()
        .max_by_key(|&(d, n)| (n, d == b','))
        .map(|(d, _)| d)
        .unwrap_or(b',')
}

/// A CSV reading error in Chinese.
fn csv_zh(e: &str) -> String {
    if e.contains("cut short") {
        "文件最后一行不完整，文件可能没有传完：请重新报送".into()
    } else {
        format!("CSV 格式有误（{e}）：请用 Excel 打开检查后另存为 CSV")
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
        assert_eq!((&*text, enc), ("a,b", "UTF-8 with BOM"));
        assert!(decode_text(&[0xff, 0xff, 0x81, 0x20]).is_err());
    }

    #[test]
    fn csv_keeps_title_lines_and_sniffs_tabs() {
        let text = "示例数据\n\n代码\t值\n420802\t1\n";
        let g = read_csv(text, sniff_delimiter(text)).unwrap();
        assert_eq!(g.rows.len(), 4, "a blank line keeps its row so row numbers match the file");
        assert_eq!(g.cell(2, 1), &Cell::Text("值".into()));
    }

    #[test]
    fn a_csv_cut_short_is_refused_and_a_last_line_without_newline_is_not() {
        let err = read_csv("代码,名称,值\n420802,东宝区,1\n420804,掇", b',').unwrap_err();
        assert!(err.contains("row 3") && err.contains("cut short"), "{err}");
        assert!(read_csv("代码,名称,值\n420802,东宝区,1", b',').is_ok());
    }
}
