//! Reading one input file into grids of cells: what the bytes really are (a workbook, CSV text in
//! any of the encodings bureaus use, tab-separated "Unicode text", or something else that only
//! looks like one), and every sheet of a workbook as sparse rows.

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, DataRef, Reader, SheetType, SheetVisible};

use super::problem::{Loc, Problems};

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
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
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

#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Csv { encoding: &'static str, delimiter: u8 },
    Workbook,
}

impl Format {
    pub fn describe(&self) -> String {
        match self {
            Format::Csv { encoding, delimiter: b'\t' } => format!("tab-separated text ({encoding})"),
            Format::Csv { encoding, .. } => format!("csv ({encoding})"),
            Format::Workbook => "workbook".into(),
        }
    }
}

const WORKBOOK_EXTENSIONS: [&str; 4] = [".xlsx", ".xlsm", ".xls", ".ods"];

/// Whether a file name is one cimon reads (the rest are named in a warning, never skipped silently).
pub fn is_table_file(name: &str) -> bool {
    let lower = name.to_lowercase();
    !lower.starts_with("~$")
        && !lower.starts_with('.')
        && [".csv", ".txt"].iter().chain(&WORKBOOK_EXTENSIONS).any(|e| lower.ends_with(e))
}

/// What the bytes are, whatever the name says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Content {
    Empty,
    Zip,
    /// An OLE compound file: an .xls, or an encrypted (password-protected) .xlsx.
    Compound {
        encrypted: bool,
    },
    /// A web page: what many systems export as ".xls".
    Html,
    /// Excel's "XML 电子表格 2003".
    Xml2003,
    Text,
}

fn sniff(bytes: &[u8]) -> Content {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Content::Empty;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Content::Zip;
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // The directory entry of an encrypted OOXML package (MS-OFFCRYPTO), in UTF-16LE.
        let name: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes).collect();
        return Content::Compound { encrypted: bytes.windows(name.len()).any(|w| w == name) };
    }
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('<') {
        if head.contains("urn:schemas-microsoft-com:office:spreadsheet") {
            return Content::Xml2003;
        }
        if head.contains("<html") || head.contains("<table") || head.contains("<!doctype") {
            return Content::Html;
        }
    }
    Content::Text
}

/// What a file holds: the sheets of a workbook, or one table of text read row by row (a CSV of
/// millions of rows never becomes one grid).
pub enum Tables<'a> {
    Sheets(Vec<Grid>),
    Text(TextTable<'a>),
}

/// A text table: its rows are parsed as they are read.
pub struct TextTable<'a> {
    text: Cow<'a, str>,
    delimiter: u8,
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

/// Read a file's bytes into grids, or None when it cannot be read; every problem goes to
/// `problems` with the file (and sheet, row, column where there is one).
pub fn read<'a>(name: &str, bytes: &'a [u8], problems: &mut Problems) -> Option<(Format, Tables<'a>)> {
    let lower = name.to_lowercase();
    let workbook_name = WORKBOOK_EXTENSIONS.iter().any(|e| lower.ends_with(e));
    let at = || Loc::file(name);
    match sniff(bytes) {
        Content::Empty => {
            problems.error(
                "empty_file",
                at(),
                "the file is empty: it holds no data at all; ask for it to be sent again",
                "文件是空的，没有任何内容：请重新报送",
            );
            None
        }
        Content::Html => {
            problems.error(
                "html_not_workbook",
                at(),
                "is a web page (HTML) with a workbook's name, not a workbook: open it in Excel and save it as \
                 \"Excel 工作簿 (*.xlsx)\"",
                "这是网页（HTML）文件，只是名字像 Excel 表格：请用 Excel 打开，另存为“Excel 工作簿 (*.xlsx)”后重新报送",
            );
            None
        }
        Content::Xml2003 => {
            problems.error(
                "xml_workbook",
                at(),
                "is an \"XML 电子表格 2003\" file, which cimon does not read: open it in Excel and save it as \
                 \"Excel 工作簿 (*.xlsx)\"",
                "这是“XML 电子表格 2003”格式，无法读取：请用 Excel 打开，另存为“Excel 工作簿 (*.xlsx)”后重新报送",
            );
            None
        }
        Content::Compound { encrypted: true } => {
            problems.error(
                "password_protected",
                at(),
                "is password-protected (加密): open it in Excel, remove the password (文件 → 信息 → 保护工作簿 → \
                 用密码进行加密, clear it), save, and send it again",
                "文件设置了打开密码：请用 Excel 打开，在“文件 → 信息 → 保护工作簿 → 用密码进行加密”中删除密码，保存后重新报送",
            );
            None
        }
        Content::Zip | Content::Compound { .. } => {
            if !workbook_name {
                problems.warning(
                    "workbook_named_as_text",
                    at(),
                    "is a workbook with a text file's name; read as a workbook: rename it to .xlsx",
                    "这是 Excel 工作簿，但文件名后缀不是 .xlsx；已按工作簿读取，请把后缀改为 .xlsx",
                );
            }
            let grids = read_workbook(name, bytes, problems)?;
            Some((Format::Workbook, Tables::Sheets(grids)))
        }
        Content::Text => {
            if workbook_name {
                problems.warning(
                    "text_named_as_workbook",
                    at(),
                    "is text (CSV), not a workbook, though its name says so; read as CSV: rename it to .csv",
                    "这是文本（CSV）文件，不是 Excel 工作簿；已按 CSV 读取，请把后缀改为 .csv",
                );
            }
            let (text, encoding) = match decode_text(bytes) {
                Ok(x) => x,
                Err(e) => {
                    problems.error(
                        "unreadable",
                        at(),
                        e,
                        "文件编码无法识别（既不是 UTF-8 也不是 GBK）：请另存为 UTF-8 编码的 CSV 或 Excel 工作簿",
                    );
                    return None;
                }
            };
            let delimiter = sniff_delimiter(&text);
            if lower.ends_with(".txt") && delimiter != b'\t' {
                problems.warning(
                    "not_a_table",
                    at(),
                    "a text file that is not tab-separated (Excel's \"Unicode 文本\"): not read; save the table as CSV \
                     or as a workbook",
                    "这是文本文件，但不是制表符分隔的表格：未读取；如有数据，请另存为 CSV 或 Excel 工作簿",
                );
                return None;
            }
            if lower.ends_with(".txt") {
                problems.warning(
                    "text_as_table",
                    at(),
                    format!("a text file, read as a tab-separated table ({encoding}, as Excel saves \"Unicode 文本\")"),
                    "这是文本文件，已按制表符分隔的表格读取（Excel“Unicode 文本”格式）；建议报送 Excel 工作簿或 CSV",
                );
            }
            Some((Format::Csv { encoding, delimiter }, Tables::Text(TextTable { text, delimiter })))
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
fn sniff_delimiter(text: &str) -> u8 {
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

fn damaged(name: &str, e: impl std::fmt::Display, problems: &mut Problems) {
    problems.error(
        "damaged_workbook",
        Loc::file(name),
        format!(
            "is a damaged workbook ({e}): the file may be cut short or corrupted; open it in Excel and save it \
             again, or ask for it to be sent again"
        ),
        "文件已损坏（可能传输不完整）：请用 Excel 打开后重新保存，或请对方重新报送",
    );
}

/// Every visible worksheet; hidden and chart sheets are named in a warning.
fn read_workbook(name: &str, bytes: &[u8], problems: &mut Problems) -> Option<Vec<Grid>> {
    let sheet_loc = |s: &str| Loc { sheet: Some(Arc::from(s)), ..Loc::file(name) };
    let zip = bytes.starts_with(b"PK");
    // ODS is a zip too: its first entry names the mimetype.
    let ods = zip && bytes.windows(39).take(200).any(|w| w == b"application/vnd.oasis.opendocument.spre");
    if zip && !ods {
        let mut wb = match calamine::Xlsx::new(Cursor::new(bytes)) {
            Ok(wb) => wb,
            Err(calamine::XlsxError::Password) => {
                problems.error(
                    "password_protected",
                    Loc::file(name),
                    "is password-protected: remove the password and save it again",
                    "文件设置了密码：请删除密码，保存后重新报送",
                );
                return None;
            }
            Err(e) => {
                damaged(name, e, problems);
                return None;
            }
        };
        let sheets = wb.sheets_metadata().to_vec();
        let mut grids = Vec::new();
        for s in sheets {
            if !usable(&s, &sheet_loc(&s.name), problems) {
                continue;
            }
            match xlsx_sheet(&mut wb, &s.name, &sheet_loc(&s.name), problems).and_then(|mut g| {
                mark_percent_xlsx(&mut wb, &mut g)?;
                Ok(g)
            }) {
                Ok(g) => grids.push(g),
                Err(e) => {
                    damaged(name, format!("sheet {}: {e}", s.name), problems);
                    return None;
                }
            }
        }
        return Some(grids);
    }
    let mut wb = match calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())) {
        Ok(wb) => wb,
        Err(e) => {
            damaged(name, e, problems);
            return None;
        }
    };
    let sheets = wb.sheets_metadata().to_vec();
    // calamine reads no number formats of these: the percent cells come from the file's records.
    let percent = if ods { super::formats::ods_percent_cells(bytes) } else { super::formats::xls_percent_cells(bytes) };
    let percent = percent.unwrap_or_else(|e| {
        problems.warning(
            "cell_formats",
            Loc::file(name),
            format!("its cell formats could not be read ({e}): numbers formatted as percentages are taken as stored (23.5% as 0.235)"),
            "无法读取单元格格式：设为百分比格式的数字将按存储值读取（23.5% 读作 0.235），请把这些单元格改为“数值”格式",
        );
        Vec::new()
    });
    let mut grids = Vec::new();
    for (i, s) in sheets.into_iter().enumerate() {
        if !usable(&s, &sheet_loc(&s.name), problems) {
            continue;
        }
        let range = match wb.worksheet_range(&s.name) {
            Ok(r) => r,
            Err(e) => {
                damaged(name, format!("sheet {}: {e}", s.name), problems);
                return None;
            }
        };
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
        let mut grid = Grid { sheet: Some(s.name), rows, transposed: false, preamble: Vec::new() };
        mark_percent(&mut grid, percent.get(i).into_iter().flatten().copied());
        grids.push(grid);
    }
    Some(grids)
}

/// Numbers at these places become percent cells.
fn mark_percent(grid: &mut Grid, cells: impl Iterator<Item = (u32, u32)>) {
    for (r, c) in cells {
        if let Some(cell) = grid.rows.get_mut(r as usize).and_then(|row| row.get_mut(c as usize)) {
            if let Cell::Number(v) = *cell {
                *cell = Cell::Percent(v);
            }
        }
    }
}

/// The percent cells of an XLSX sheet, from its cells' styles: a second pass over the sheet,
/// only when the workbook has a percent format at all.
fn mark_percent_xlsx(wb: &mut calamine::Xlsx<Cursor<&[u8]>>, grid: &mut Grid) -> Result<(), calamine::XlsxError> {
    let Some(sheet) = grid.sheet.clone() else { return Ok(()) };
    let mut reader = wb.worksheet_cells_reader(&sheet)?;
    let percent: Vec<bool> = reader
        .styles()
        .iter()
        .map(|s| s.number_format.as_ref().is_some_and(|f| super::formats::is_percent_format(&f.format_code)))
        .collect();
    if !percent.contains(&true) {
        return Ok(());
    }
    let mut cells = Vec::new();
    while let Some((r, c, style)) = reader.next_style_id()? {
        if percent.get(style).copied().unwrap_or(false) {
            cells.push((r, c));
        }
    }
    drop(reader);
    mark_percent(grid, cells.into_iter());
    Ok(())
}

/// A worksheet that is shown: read it. A hidden one or a chart: say so and leave it.
fn usable(s: &calamine::Sheet, at: &Loc, problems: &mut Problems) -> bool {
    if s.typ != SheetType::WorkSheet {
        problems.warning(
            "not_a_worksheet",
            at.clone(),
            "is a chart or macro sheet, not a table: not read",
            "这是图表或宏工作表，不是数据表：未读取",
        );
        return false;
    }
    if s.visible != SheetVisible::Visible {
        problems.warning(
            "hidden_sheet",
            at.clone(),
            "is hidden: not read; if it holds data, unhide it (右键工作表标签 → 取消隐藏) and send the file again",
            "这是隐藏的工作表，未读取：如果其中有要报送的数据，请取消隐藏（右键工作表标签 → 取消隐藏）后重新报送",
        );
        return false;
    }
    true
}

/// One XLSX sheet cell by cell: only the cells that hold something take memory (a stray cell at
/// row 1,048,576 costs one row, not a million), and a formula without a computed value is caught.
fn xlsx_sheet(
    wb: &mut calamine::Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    at: &Loc,
    problems: &mut Problems,
) -> Result<Grid, calamine::XlsxError> {
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut uncomputed: Vec<(u32, u32)> = Vec::new();
    let mut reader = wb.worksheet_cells_reader(sheet)?;
    while let Some(c) = reader.next_cell_with_formula()? {
        let (r, col) = (c.pos.0 as usize, c.pos.1 as usize);
        let cell = to_cell_ref(&c.value);
        if cell == Cell::Empty {
            if c.formula.as_deref().is_some_and(|f| !f.is_empty()) {
                uncomputed.push(c.pos);
            }
            continue;
        }
        if rows.len() <= r {
            rows.resize_with(r + 1, Vec::new);
        }
        let row = &mut rows[r];
        if row.len() <= col {
            row.resize(col + 1, Cell::Empty);
        }
        row[col] = cell;
    }
    if let Some(&(r, c)) = uncomputed.first() {
        let cells: Vec<String> = uncomputed
            .iter()
            .take(5)
            .map(|&(r, c)| format!("{}{}", crate::text::column_letter(c as usize), r + 1))
            .collect();
        let more = if uncomputed.len() > 5 { format!(" and {} more", uncomputed.len() - 5) } else { String::new() };
        problems.error(
            "formula_without_value",
            Loc {
                row: Some(r as usize + 1),
                column: Some(Arc::from(crate::text::column_letter(c as usize))),
                ..at.clone()
            },
            format!(
                "{} formula cell(s) have no computed value ({}{more}): the file was written by a program that does \
                 not calculate; open it in Excel, let it calculate and save, or paste the cells as values",
                uncomputed.len(),
                cells.join(", ")
            ),
            format!(
                "有 {} 个公式单元格没有计算结果（{}{}）：文件是由不计算公式的程序生成的，请用 Excel 打开、计算并保存，\
                 或把这些单元格“选择性粘贴为数值”",
                uncomputed.len(),
                cells.join("、"),
                if uncomputed.len() > 5 { format!(" 等 {} 个", uncomputed.len()) } else { String::new() }
            ),
        );
    }
    Ok(Grid { sheet: Some(sheet.to_string()), rows, transposed: false, preamble: Vec::new() })
}

fn date(d: &calamine::ExcelDateTime) -> Cell {
    if d.is_datetime() {
        let (y, m, day, ..) = d.to_ymd_hms_milli();
        Cell::Date(i32::from(y), m, day)
    } else {
        Cell::Number(d.as_f64())
    }
}

fn to_cell_ref(d: &DataRef<'_>) -> Cell {
    match d {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(i) => Cell::Number(*i as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text(s.to_string()),
        DataRef::Bool(b) => Cell::Text(b.to_string()),
        DataRef::DateTime(d) => date(d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

fn to_cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(d) => date(d),
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

    #[test]
    fn what_the_bytes_are_decides_not_the_name() {
        assert_eq!(sniff(b""), Content::Empty);
        assert_eq!(sniff(b"  \n"), Content::Empty);
        assert_eq!(sniff(b"PK\x03\x04rest"), Content::Zip);
        assert_eq!(sniff(b"\xef\xbb\xbf<html><body><table>"), Content::Html);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\">"),
            Content::Xml2003
        );
        assert_eq!(sniff("代码,值\n".as_bytes()), Content::Text);
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        assert_eq!(sniff(&ole), Content::Compound { encrypted: false });
        ole.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(sniff(&ole), Content::Compound { encrypted: true });
    }
}
