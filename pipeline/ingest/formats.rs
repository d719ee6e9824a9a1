//! Which workbook cells are formatted as percentages (Excel shows 2.69%, stores 0.0269): the one
//! part of a cell's number format ingest needs. calamine exposes XLSX styles; ODS and XLS number
//! formats it does not, so their cells are found here from the file's own records.

use std::collections::HashMap;
use std::io::{Cursor, Read};

/// A number format code that shows a percentage: a `%` outside quotes, escapes and brackets
/// (`0.00%`, `0.0%;[Red]-0.0%`, but not `0.00"%"`, which prints a literal sign after a plain number).
pub fn is_percent_format(code: &str) -> bool {
    let (mut quoted, mut bracket, mut escaped) = (false, false, false);
    for c in code.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => bracket = true,
            ']' if !quoted => bracket = false,
            '%' if !quoted && !bracket => return true,
            _ => {}
        }
    }
    false
}

/// Percent cells (0-based row, column) per sheet, by the sheet's position in the workbook.
pub type PercentCells = Vec<Vec<(u32, u32)>>;

/// The percent cells of an OpenDocument spreadsheet: cells with `office:value-type="percentage"`.
pub fn ods_percent_cells(bytes: &[u8]) -> Result<PercentCells, String> {
    use quick_xml::events::Event;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut xml = String::new();
    zip.by_name("content.xml").map_err(|e| e.to_string())?.read_to_string(&mut xml).map_err(|e| e.to_string())?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> Option<String> {
        e.try_get_attribute(name).ok().flatten().map(|a| a.value.to_string())
    };
    let repeat = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> u32 {
        attr(e, name).and_then(|v| v.parse().ok()).unwrap_or(1)
    };
    let mut sheets: PercentCells = Vec::new();
    let (mut row, mut col, mut row_repeat) = (0u32, 0u32, 1u32);
    loop {
        let event = reader.read_event().map_err(|e| format!("content.xml: {e}"))?;
        let (e, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                if e.name().as_ref() == "table:table-row" {
                    row = row.saturating_add(row_repeat);
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match e.name().as_ref() {
            "table:table" => {
                sheets.push(Vec::new());
                row = 0;
            }
            "table:table-row" => {
                col = 0;
                row_repeat = repeat(e, "table:number-rows-repeated");
                if empty {
                    row = row.saturating_add(row_repeat);
                }
            }
            "table:table-cell" | "table:covered-table-cell" => {
                let n = repeat(e, "table:number-columns-repeated");
                if attr(e, "office:value-type").as_deref() == Some("percentage") {
                    if let Some(cells) = sheets.last_mut() {
                        for r in row..row.saturating_add(row_repeat.min(1 << 20)) {
                            cells.extend((col..col.saturating_add(n.min(1 << 14))).map(|c| (r, c)));
                        }
                    }
                }
                col = col.saturating_add(n);
            }
            _ => {}
        }
    }
    Ok(sheets)
}

/// The percent cells of an Excel 97–2003 workbook (BIFF8): number, RK and formula cells whose
/// extended format (XF) has a percent number format, builtin (9 `0%`, 10 `0.00%`) or custom.
pub fn xls_percent_cells(bytes: &[u8]) -> Result<PercentCells, String> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let name = if file.exists("/Workbook") { "/Workbook" } else { "/Book" };
    let mut stream = Vec::new();
    file.open_stream(name).and_then(|mut s| s.read_to_end(&mut stream)).map_err(|e| e.to_string())?;
    let u16_at = |d: &[u8], i: usize| d.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let mut formats: HashMap<u16, bool> = HashMap::from([(9, true), (10, true)]);
    let mut xf_percent: Vec<bool> = Vec::new();
    // BOUNDSHEET8: the stream offset of each sheet's BOF, in workbook order.
    let mut sheet_at: Vec<u32> = Vec::new();
    let mut sheets: PercentCells = Vec::new();
    let mut current: Option<usize> = None;
    let mut at = 0usize;
    while at + 4 <= stream.len() {
        let kind = u16_at(&stream, at).unwrap_or(0);
        let len = usize::from(u16_at(&stream, at + 2).unwrap_or(0));
        let data = stream.get(at + 4..at + 4 + len).ok_or("a record runs past the end of the workbook stream")?;
        let cell = |xf: Option<u16>, row: Option<u16>, col: Option<u16>| -> Option<(u32, u32)> {
            let percent = xf_percent.get(usize::from(xf?)).copied().unwrap_or(false);
            percent.then(|| (u32::from(row.unwrap_or(0)), u32::from(col.unwrap_or(0))))
        };
        match kind {
            // BOF: the start of the globals or of a sheet.
            0x0809 => {
                current = sheet_at.iter().position(|&p| p as usize == at);
                if sheets.len() < sheet_at.len() {
                    sheets.resize(sheet_at.len(), Vec::new());
                }
            }
            // FORMAT: ifmt, then the format string (XLUnicodeString).
            0x041E if data.len() >= 5 => {
                let chars = usize::from(u16_at(data, 2).unwrap_or(0));
                let wide = data[4] & 1 == 1;
                let body = &data[5..];
                let code = if wide {
                    let units: Vec<u16> =
                        body.chunks_exact(2).take(chars).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
                    String::from_utf16_lossy(&units)
                } else {
                    body.iter().take(chars).map(|&b| char::from(b)).collect()
                };
                formats.insert(u16_at(data, 0).unwrap_or(0), is_percent_format(&code));
            }
            // XF: font, then the number format index.
            0x00E0 => xf_percent.push(u16_at(data, 2).is_some_and(|f| formats.get(&f).copied().unwrap_or(false))),
            0x0085 if data.len() >= 4 => sheet_at.push(u32::from_le_bytes([data[0], data[1], data[2], data[3]])),
            // NUMBER, RK, FORMULA: row, column, XF.
            0x0203 | 0x027E | 0x0006 => {
                if let (Some(s), Some(c)) = (current, cell(u16_at(data, 4), u16_at(data, 0), u16_at(data, 2))) {
                    // A formula's result is a number unless its last two bytes are 0xFFFF.
                    let number = kind != 0x0006 || u16_at(data, 12) != Some(0xFFFF);
                    if number {
                        sheets[s].push(c);
                    }
                }
            }
            // MULRK: row, first column, (XF, RK) × n, last column.
            0x00BD if data.len() >= 6 => {
                if let Some(s) = current {
                    let first = u16_at(data, 2).unwrap_or(0);
                    for (i, rk) in data[4..data.len() - 2].chunks_exact(6).enumerate() {
                        if let Some(c) = cell(u16_at(rk, 0), u16_at(data, 0), Some(first + i as u16)) {
                            sheets[s].push(c);
                        }
                    }
                }
            }
            _ => {}
        }
        at += 4 + len;
    }
    sheets.resize(sheet_at.len(), Vec::new());
    Ok(sheets)
}

/// What a percent cell shows, as a number: 0.0269 → 2.69, by moving the decimal point of the
/// shortest text of the stored number, so that the value equals the one typed as `2.69`
/// (0.07 × 100 would be 7.000000000000001).
pub fn shown_percent(stored: f64) -> f64 {
    let text = format!("{stored}");
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = format!("{frac:0<2}");
    let shifted = format!("{sign}{int}{}.{}", &frac[..2], &frac[2..]);
    shifted.parse().unwrap_or(stored * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_formats_are_told_from_literal_signs() {
        for code in ["0%", "0.00%", "0.0%;[Red]-0.0%", "#,##0.0%"] {
            assert!(is_percent_format(code), "{code}");
        }
        for code in ["General", "0.00", "0.00\"%\"", "0.0\\%", "[$%-409]0.00", "yyyy\"年\"m\"月\""] {
            assert!(!is_percent_format(code), "{code}");
        }
    }

    #[test]
    fn a_shown_percentage_is_the_number_as_typed() {
        assert_eq!(shown_percent(0.0269), 2.69);
        assert_eq!(shown_percent(0.5), 50.0);
        assert_eq!(shown_percent(1.0), 100.0);
        assert_eq!(shown_percent(-0.05), -5.0);
        assert_eq!(shown_percent(0.123456), 12.3456);
        assert_eq!(shown_percent(0.0), 0.0);
        // 0.07 × 100 is 7.000000000000001 in floating point; the sheet shows 7%.
        assert_eq!(shown_percent(0.07), 7.0);
        assert_ne!(0.07 * 100.0, 7.0);
    }
}
