//! Workbooks (XLSX, XLS, ODS): every visible worksheet as a grid of cells at its real
//! coordinates, percent-formatted numbers marked, hidden and chart sheets named, formula cells
//! without a value caught, a damaged file named as such.

use std::io::Cursor;
use std::sync::Arc;

use calamine::{Data, DataRef, Reader, SheetType, SheetVisible};

use super::grid::{Cell, Grid};
use super::problem::{Loc, Problems};

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
pub(super) fn read_workbook(name: &str, bytes: &[u8], problems: &mut Problems) -> Option<Vec<Grid>> {
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
