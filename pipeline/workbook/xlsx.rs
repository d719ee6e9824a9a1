//! A SpreadsheetML (.xlsx) writer for table-shaped sheets: a styled header row, frozen and
//! filtered, then rows of text and number cells.
//!
//! The results workbook is the largest thing `compute` writes (80 MB of XML at national scale)
//! and lies on its critical path. This writer produces the parts rust_xlsxwriter 0.102 wrote for
//! the same sheets, byte for byte (the tests compare them), at a fraction of its cost: one pass
//! gathers the shared strings and formats in the order of the cells, a second streams each sheet
//! into the archive as its rows are made, so nothing but the compressor's window is held.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use zip::write::SimpleFileOptions;

/// A cell's value; an empty string, a missing or a non-finite number leaves the cell empty.
pub enum Cell<'a> {
    Text(Option<&'a str>),
    Owned(Option<String>),
    Num(Option<f64>, Fmt),
}

/// How a number is shown.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Fmt {
    /// Thousands separators and this many decimals (at most 3).
    Fixed(usize),
    Percent,
    /// A year: no thousands separator.
    Year,
}

impl Fmt {
    fn code(self) -> &'static str {
        match self {
            Fmt::Percent => "0.0%",
            Fmt::Year => "0",
            Fmt::Fixed(0) => "#,##0",
            Fmt::Fixed(1) => "#,##0.0",
            Fmt::Fixed(2) => "#,##0.00",
            Fmt::Fixed(_) => "#,##0.000",
        }
    }
    fn normal(self) -> Fmt {
        match self {
            Fmt::Fixed(d) => Fmt::Fixed(d.min(3)),
            f => f,
        }
    }
}

/// One sheet: its name, the header row (text and column width in characters), the number of
/// rows below it and the cell at (row, column).
pub struct Sheet<'a> {
    pub name: &'a str,
    pub headers: Vec<(&'a str, f64)>,
    pub rows: usize,
    pub cell: Box<dyn Fn(usize, usize) -> Cell<'a> + 'a>,
}

#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("the zip archive: {0}")]
    Zip(zip::result::ZipError),
    #[error("sheet {sheet}: {rows} rows do not fit in an Excel sheet (at most 1,048,575 below the header)")]
    TooManyRows { sheet: String, rows: usize },
    #[error("sheet {sheet}, row {row}: a text longer than Excel's 32,767 characters")]
    TextTooLong { sheet: String, row: usize },
}

impl From<zip::result::ZipError> for XlsxError {
    fn from(e: zip::result::ZipError) -> Self {
        match e {
            zip::result::ZipError::Io(e) => XlsxError::Io(e),
            e => XlsxError::Zip(e),
        }
    }
}

const MAX_ROWS: usize = 1_048_576;
const MAX_TEXT: usize = 32_767;
/// The header style's index among the cell formats: the first format any sheet uses.
const HEADER: u32 = 1;
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const THEME: &str = include_str!("theme1.xml");

/// What the first pass over every cell decides for the whole workbook: the shared strings in the
/// order the cells use them, the number formats in order of first use, and each column's format
/// (its first number's; other numbers of the column name theirs).
struct Plan {
    /// Each shared string and its index, numbered in order of first use.
    strings: HashMap<Box<str>, u32, foldhash::fast::FixedState>,
    /// String cells, headers included (the table's `count`).
    uses: u64,
    /// Formats after the header's, in order of first use: cell format index = position + 2.
    formats: Vec<Fmt>,
    sheets: Vec<Layout>,
}

/// A sheet's columns' formats with the row that set them, and its last row with a cell.
struct Layout {
    columns: Vec<Option<(Fmt, usize)>>,
    last_row: usize,
}

impl Plan {
    fn intern(&mut self, s: &str) {
        self.uses += 1;
        if !self.strings.contains_key(s) {
            self.strings.insert(s.into(), self.strings.len() as u32);
        }
    }
    fn register(&mut self, f: Fmt) {
        if !self.formats.contains(&f) {
            self.formats.push(f);
        }
    }
    fn xf(&self, f: Fmt) -> u32 {
        self.formats.iter().position(|&g| g == f).expect("registered in the first pass") as u32 + 2
    }
}

/// Write `sheets` as the workbook `path`, titled `title`, deflated at `level`.
pub fn write(path: &Path, title: &str, level: i64, sheets: &[Sheet<'_>]) -> Result<(), XlsxError> {
    let plan = plan(sheets)?;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(level))
        .unix_permissions(0o600)
        .last_modified_time(zip::DateTime::default())
        .large_file(false);
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1 << 16, file));
    for (name, xml) in [
        ("[Content_Types].xml", content_types(sheets.len())),
        ("_rels/.rels", ROOT_RELS.to_string()),
        ("xl/_rels/workbook.xml.rels", workbook_rels(sheets.len())),
        ("xl/theme/theme1.xml", THEME.to_string()),
        ("xl/styles.xml", styles(&plan)),
        ("xl/workbook.xml", workbook(sheets)),
    ] {
        zip.start_file(name, options)?;
        zip.write_all(xml.as_bytes())?;
    }
    for (i, s) in sheets.iter().enumerate() {
        zip.start_file(format!("xl/worksheets/sheet{}.xml", i + 1), options)?;
        worksheet(&mut zip, s, i, &plan)?;
    }
    for (name, xml) in [
        ("xl/sharedStrings.xml", shared_strings(&plan)),
        ("docProps/core.xml", core(title)),
        ("docProps/app.xml", app(sheets)),
    ] {
        zip.start_file(name, options)?;
        zip.write_all(xml.as_bytes())?;
    }
    // Synced with the rest of the results when they are published.
    zip.finish()?.into_inner().map_err(|e| e.into_error())?;
    Ok(())
}

/// The first pass, in the order rust_xlsxwriter meets the cells: sheet by sheet, the header,
/// then row by row.
fn plan(sheets: &[Sheet<'_>]) -> Result<Plan, XlsxError> {
    let mut p = Plan { strings: HashMap::default(), uses: 0, formats: Vec::new(), sheets: Vec::new() };
    for s in sheets {
        if s.rows + 1 > MAX_ROWS {
            return Err(XlsxError::TooManyRows { sheet: s.name.into(), rows: s.rows });
        }
        for (h, _) in &s.headers {
            p.intern(h);
        }
        let mut layout = Layout { columns: vec![None; s.headers.len()], last_row: 0 };
        for r in 0..s.rows {
            for (c, column) in layout.columns.iter_mut().enumerate() {
                let cell = (s.cell)(r, c);
                if has_value(&cell) {
                    layout.last_row = r + 1;
                }
                match cell {
                    Cell::Text(Some(t)) => text(&mut p, s, r, t)?,
                    Cell::Owned(Some(t)) => text(&mut p, s, r, &t)?,
                    Cell::Num(Some(v), f) if v.is_finite() => {
                        let f = f.normal();
                        if column.is_none() {
                            *column = Some((f, r));
                        }
                        p.register(f);
                    }
                    _ => {}
                }
            }
        }
        p.sheets.push(layout);
    }
    Ok(p)
}

fn text(p: &mut Plan, s: &Sheet<'_>, r: usize, t: &str) -> Result<(), XlsxError> {
    if t.is_empty() {
        return Ok(());
    }
    if t.len() > MAX_TEXT && t.encode_utf16().count() > MAX_TEXT {
        return Err(XlsxError::TextTooLong { sheet: s.name.into(), row: r + 2 });
    }
    p.intern(t);
    Ok(())
}

/// Excel's stored column width for a width in characters (Calibri 11: 7-pixel digits, 5 pixels
/// of padding), and whether it differs from the default.
fn width(chars: f64) -> (f64, bool) {
    let pixels = if chars <= 0.0 {
        0
    } else if chars < 1.0 {
        (chars * 12.0).round() as u32
    } else {
        ((chars * 7.0).round() as u32 + 5).min(1790)
    };
    (f64::from(pixels * 256 / 7) / 256.0, pixels != 64)
}

/// A buffer flushed into the compressor in large pieces.
struct Out<'w, W: Write> {
    buf: Vec<u8>,
    w: &'w mut W,
}

impl<W: Write> Out<'_, W> {
    fn s(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }
    fn n(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&digits[i..]);
    }
    /// A number as Rust prints an `f64` (the shortest form that reads back the same).
    fn f(&mut self, v: f64) {
        if v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative()) {
            if v < 0.0 {
                self.buf.push(b'-');
            }
            self.n(v.abs() as u64);
        } else {
            write!(self.buf, "{v}").expect("writing to memory");
        }
    }
    fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= 1 << 16 {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    fn finish(mut self) -> std::io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// Sheet `i`'s XML: frozen header row, column widths and formats, the cells, the filter.
fn worksheet<W: Write>(w: &mut W, s: &Sheet<'_>, i: usize, plan: &Plan) -> std::io::Result<()> {
    let layout = &plan.sheets[i];
    let names: Vec<String> = (0..s.headers.len()).map(crate::text::column_letter).collect();
    let column_xf: Vec<u32> = layout.columns.iter().map(|f| f.map_or(0, |(f, _)| plan.xf(f))).collect();
    let last_col = &names[s.headers.len().saturating_sub(1)];
    let mut out = Out { buf: Vec::with_capacity(1 << 17), w };
    out.s(DECLARATION);
    out.s("<worksheet xmlns=\"");
    out.s(MAIN_NS);
    out.s("\" xmlns:r=\"");
    out.s(REL_NS);
    out.s("\"><dimension ref=\"A1:");
    out.s(last_col);
    out.n(layout.last_row as u64 + 1);
    out.s("\"/><sheetViews><sheetView ");
    if i == 0 {
        out.s("tabSelected=\"1\" ");
    }
    out.s("workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/>");
    cols(&mut out, &s.headers, &column_xf);
    out.s("<sheetData><row r=\"1\">");
    for (c, (h, _)) in s.headers.iter().enumerate() {
        string_cell(&mut out, &names[c], 1, HEADER, plan.strings[*h]);
    }
    out.s("</row>");
    for r in 0..s.rows {
        let row = r as u64 + 2;
        let mut open = false;
        for (c, name) in names.iter().enumerate() {
            let cell = (s.cell)(r, c);
            if !has_value(&cell) {
                continue;
            }
            if !open {
                out.s("<row r=\"");
                out.n(row);
                out.s("\">");
                open = true;
            }
            // A cell without a format of its own takes its column's, once the column has one.
            let column = layout.columns[c].filter(|&(_, from)| r >= from).map_or(0, |_| column_xf[c]);
            match cell {
                Cell::Text(Some(t)) => string_cell(&mut out, name, row, column, plan.strings[t]),
                Cell::Owned(Some(t)) => string_cell(&mut out, name, row, column, plan.strings[t.as_str()]),
                Cell::Num(Some(v), f) => {
                    let f = f.normal();
                    let xf = if layout.columns[c].map(|(g, _)| g) == Some(f) { column } else { plan.xf(f) };
                    open_cell(&mut out, name, row, xf);
                    out.s("><v>");
                    out.f(v);
                    out.s("</v></c>");
                }
                _ => unreachable!("cells without a value are skipped"),
            }
        }
        if open {
            out.s("</row>");
        }
        out.flush_if_full()?;
    }
    out.s("</sheetData>");
    if s.rows > 0 {
        out.s("<autoFilter ref=\"A1:");
        out.s(last_col);
        out.n(s.rows as u64 + 1);
        out.s("\"/>");
    }
    out.s("<pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>");
    out.finish()
}

fn has_value(c: &Cell<'_>) -> bool {
    match c {
        Cell::Text(Some(t)) => !t.is_empty(),
        Cell::Owned(Some(t)) => !t.is_empty(),
        Cell::Num(Some(v), _) => v.is_finite(),
        _ => false,
    }
}

/// `<c r="B7" s="3"`: a cell's reference and its format when it has one. ECMA-376 lets a reference
/// be left out where the cell follows the previous one (a third of the XML and of the deflating at
/// national scale), but R's openxlsx 4.2 then cannot read the sheet: every cell has its reference.
fn open_cell<W: Write>(out: &mut Out<'_, W>, col: &str, row: u64, xf: u32) {
    out.s("<c r=\"");
    out.s(col);
    out.n(row);
    out.s("\"");
    if xf > 0 {
        out.s(" s=\"");
        out.n(u64::from(xf));
        out.s("\"");
    }
}

fn string_cell<W: Write>(out: &mut Out<'_, W>, col: &str, row: u64, xf: u32, index: u32) {
    open_cell(out, col, row, xf);
    out.s(" t=\"s\"><v>");
    out.n(u64::from(index));
    out.s("</v></c>");
}

/// `<cols>`: runs of neighbouring columns with the same width and format share an element.
fn cols<W: Write>(out: &mut Out<'_, W>, headers: &[(&str, f64)], xf: &[u32]) {
    if headers.is_empty() {
        return;
    }
    out.s("<cols>");
    let mut first = 0;
    for c in 0..headers.len() {
        let last = c + 1 == headers.len();
        let same_next = !last && width(headers[c + 1].1) == width(headers[c].1) && xf[c + 1] == xf[c];
        if same_next {
            continue;
        }
        let (w, custom) = width(headers[c].1);
        out.s("<col min=\"");
        out.n(first as u64 + 1);
        out.s("\" max=\"");
        out.n(c as u64 + 1);
        out.s("\" width=\"");
        out.s(&w.to_string());
        out.s("\"");
        if xf[c] > 0 {
            out.s(" style=\"");
            out.n(u64::from(xf[c]));
            out.s("\"");
        }
        if custom {
            out.s(" customWidth=\"1\"");
        }
        out.s("/>");
        first = c + 1;
    }
    out.s("</cols>");
}

/// Text for an XML element, as Excel writes it: `&`, `<`, `>` escaped, control characters as
/// `_xHHHH_`, and a literal `_xHHHH_` kept literal by escaping its underscore.
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    for (i, ch) in s.char_indices() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' => out.push(ch),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => out.push_str(&format!("_x{:04X}_", ch as u32)),
            '_' if b.len() >= i + 7
                && b[i + 1] == b'x'
                && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
                && b[i + 6] == b'_' =>
            {
                out.push_str("_x005F_")
            }
            _ => out.push(ch),
        }
    }
    out
}

/// Text for an XML attribute.
fn escape_attribute(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("&#xA;"),
            _ => out.push(ch),
        }
    }
    out
}

fn shared_strings(p: &Plan) -> String {
    let mut x =
        format!("{DECLARATION}<sst xmlns=\"{MAIN_NS}\" count=\"{}\" uniqueCount=\"{}\">", p.uses, p.strings.len());
    let space = ['\t', '\n', ' '];
    let mut ordered: Vec<(&str, u32)> = p.strings.iter().map(|(s, &i)| (&**s, i)).collect();
    ordered.sort_unstable_by_key(|&(_, i)| i);
    for (s, _) in ordered {
        if s.starts_with(space) || s.ends_with(space) {
            x.push_str("<si><t xml:space=\"preserve\">");
        } else {
            x.push_str("<si><t>");
        }
        x.push_str(&escape_text(s));
        x.push_str("</t></si>");
    }
    x.push_str("</sst>");
    x
}

fn styles(p: &Plan) -> String {
    let font = "<sz val=\"11\"/><color theme=\"1\"/><name val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/>";
    let header_font = "<b/><sz val=\"11\"/><color rgb=\"FFFFFFFF\"/><name val=\"Calibri\"/><family val=\"2\"/><scheme val=\"minor\"/>";
    let mut x = format!("{DECLARATION}<styleSheet xmlns=\"{MAIN_NS}\">");
    if !p.formats.is_empty() {
        x.push_str(&format!("<numFmts count=\"{}\">", p.formats.len()));
        for (k, f) in p.formats.iter().enumerate() {
            x.push_str(&format!("<numFmt numFmtId=\"{}\" formatCode=\"{}\"/>", 164 + k, escape_attribute(f.code())));
        }
        x.push_str("</numFmts>");
    }
    x.push_str(&format!("<fonts count=\"2\"><font>{font}</font><font>{header_font}</font></fonts>"));
    x.push_str("<fills count=\"3\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill><fill><patternFill patternType=\"solid\"><fgColor rgb=\"FF1F4E79\"/><bgColor indexed=\"64\"/></patternFill></fill></fills>");
    x.push_str("<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>");
    x.push_str(
        "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>",
    );
    x.push_str(&format!("<cellXfs count=\"{}\">", p.formats.len() + 2));
    x.push_str("<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>");
    x.push_str("<xf numFmtId=\"0\" fontId=\"1\" fillId=\"2\" borderId=\"0\" xfId=\"0\" applyFont=\"1\" applyFill=\"1\" applyAlignment=\"1\"><alignment wrapText=\"1\"/></xf>");
    for k in 0..p.formats.len() {
        x.push_str(&format!(
            "<xf numFmtId=\"{}\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
            164 + k
        ));
    }
    x.push_str("</cellXfs><cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles><dxfs count=\"0\"/><tableStyles count=\"0\" defaultTableStyle=\"TableStyleMedium9\" defaultPivotStyle=\"PivotStyleLight16\"/></styleSheet>");
    x
}

fn workbook(sheets: &[Sheet<'_>]) -> String {
    let mut x = format!(
        "{DECLARATION}<workbook xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\"><fileVersion appName=\"xl\" lastEdited=\"4\" lowestEdited=\"4\" rupBuild=\"4505\"/><workbookPr defaultThemeVersion=\"124226\"/><bookViews><workbookView xWindow=\"240\" yWindow=\"15\" windowWidth=\"16095\" windowHeight=\"9660\"/></bookViews><sheets>"
    );
    for (i, s) in sheets.iter().enumerate() {
        x.push_str(&format!(
            "<sheet name=\"{}\" sheetId=\"{}\" r:id=\"rId{}\"/>",
            escape_attribute(s.name),
            i + 1,
            i + 1
        ));
    }
    x.push_str("</sheets>");
    // Each filtered sheet's hidden range name; Excel keeps them sorted by the range they name.
    let mut filters: Vec<(String, usize)> = sheets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.rows > 0)
        .map(|(i, s)| {
            let last = crate::text::column_letter(s.headers.len().saturating_sub(1));
            (format!("{}!$A$1:${last}${}", quote_sheet(s.name), s.rows + 1), i)
        })
        .collect();
    filters.sort();
    if !filters.is_empty() {
        x.push_str("<definedNames>");
        for (range, i) in filters {
            x.push_str(&format!(
                "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"{i}\" hidden=\"1\">{}</definedName>",
                escape_text(&range)
            ));
        }
        x.push_str("</definedNames>");
    }
    x.push_str("<calcPr calcId=\"124519\" fullCalcOnLoad=\"1\"/></workbook>");
    x
}

/// A sheet name as a formula refers to it: quoted unless it is letters, digits and `_` only.
fn quote_sheet(name: &str) -> String {
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit()) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

fn content_types(sheets: usize) -> String {
    let ct = "application/vnd.openxmlformats-officedocument";
    let mut x = format!(
        "{DECLARATION}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/docProps/app.xml\" ContentType=\"{ct}.extended-properties+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/><Override PartName=\"/xl/styles.xml\" ContentType=\"{ct}.spreadsheetml.styles+xml\"/><Override PartName=\"/xl/theme/theme1.xml\" ContentType=\"{ct}.theme+xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"{ct}.spreadsheetml.sheet.main+xml\"/>"
    );
    for i in 1..=sheets {
        x.push_str(&format!(
            "<Override PartName=\"/xl/worksheets/sheet{i}.xml\" ContentType=\"{ct}.spreadsheetml.worksheet+xml\"/>"
        ));
    }
    x.push_str(&format!(
        "<Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"{ct}.spreadsheetml.sharedStrings+xml\"/></Types>"
    ));
    x
}

const ROOT_RELS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/><Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/></Relationships>";

fn workbook_rels(sheets: usize) -> String {
    let rel = |id: usize, kind: &str, target: &str| {
        format!("<Relationship Id=\"rId{id}\" Type=\"{REL_NS}/{kind}\" Target=\"{target}\"/>")
    };
    let mut x =
        format!("{DECLARATION}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">");
    for i in 1..=sheets {
        x.push_str(&rel(i, "worksheet", &format!("worksheets/sheet{i}.xml")));
    }
    x.push_str(&rel(sheets + 1, "theme", "theme/theme1.xml"));
    x.push_str(&rel(sheets + 2, "styles", "styles.xml"));
    x.push_str(&rel(sheets + 3, "sharedStrings", "sharedStrings.xml"));
    x.push_str("</Relationships>");
    x
}

/// Document properties with a fixed date: the same results give the same bytes.
fn core(title: &str) -> String {
    format!(
        "{DECLARATION}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>{}</dc:title><dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy><dcterms:created xsi:type=\"dcterms:W3CDTF\">2000-01-01T00:00:00Z</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">2000-01-01T00:00:00Z</dcterms:modified></cp:coreProperties>",
        escape_text(title)
    )
}

fn app(sheets: &[Sheet<'_>]) -> String {
    let mut x = format!(
        "{DECLARATION}<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size=\"2\" baseType=\"variant\"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant><vt:i4>{n}</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts><vt:vector size=\"{n}\" baseType=\"lpstr\">",
        n = sheets.len()
    );
    for s in sheets {
        x.push_str(&format!("<vt:lpstr>{}</vt:lpstr>", escape_text(s.name)));
    }
    x.push_str("</vt:vector></TitlesOfParts><Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>");
    x
}

#[cfg(test)]
mod tests;
