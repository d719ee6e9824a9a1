//! Reading one table: its header, layout and year found (`header`, `year`), then row by row each
//! county (`resolver`) and each value cell (`cells`) into observations with their places.

mod cells;
mod header;
mod resolver;
mod year;

use std::collections::HashMap;
use std::sync::Arc;

use super::problem::{CellLoc, Loc, Place, Problem, Problems, Severity};
use super::table::{Cell, Grid};
use super::Observation;
use crate::catalog::Catalog;
use crate::regions::{Lookup, Registry};
use crate::scope::Scope;
use crate::text::{column_letter, normalise_key};
use cells::unit_factor;
use header::{find_header, in_list, match_indicator, roles, transposed, Role, NOTE_PREFIXES, TOTAL_NAMES};

pub struct SheetContext<'a> {
    pub file: &'a str,
    /// The file name without directories, searched for a year when no column or sheet name gives one.
    pub file_year: Option<i32>,
    /// The year the nearest folder's name states (`2023/荆门市.csv`), when nothing closer gives one.
    pub folder_year: Option<i32>,
    pub catalog: &'a Catalog,
    pub registry: &'a Registry,
    pub scope: &'a Scope,
}

/// Outcome of reading a grid.
pub enum SheetResult {
    /// No header row found (an instructions sheet, say).
    NoTable,
    Table {
        layout: &'static str,
        observations: Vec<Observation>,
        /// Rows under the header holding anything (data, totals, notes): none is a header-only table.
        rows: usize,
    },
}

/// The rows of a table beyond a head grid: each given, with its row number in the file, to the
/// callback; an error stops them (a CSV found malformed or cut short further down).
pub type Rest<'r> = &'r mut dyn FnMut(&mut dyn FnMut(usize, &[Cell])) -> Result<(), String>;

/// Read a whole grid (a sheet, or a small text file).
pub fn read_grid(grid: &Grid, cx: &SheetContext<'_>, problems: &mut Problems) -> SheetResult {
    read_table(grid, &mut |_| Ok(()), grid.rows.len(), cx, problems)
}

/// Whether a head of rows has a header row: then its table can be read row by row.
pub fn has_header(head: &Grid, cx: &SheetContext<'_>) -> bool {
    find_header(head, cx.catalog, &mut Problems::default(), &|_, _| Loc::file(cx.file)).is_some()
}

/// Read a table whose header lies in `grid` and whose further rows come from `rest`, so that a
/// text file of millions of rows is never one grid. The header, titles and year are taken from
/// `grid`; every check that spans rows (a county twice, summary rows, the year) spans all of them.
/// `rows_hint` is about how many rows there are in all (the observations are allocated once).
pub fn read_table(
    grid: &Grid,
    rest: Rest<'_>,
    rows_hint: usize,
    cx: &SheetContext<'_>,
    problems: &mut Problems,
) -> SheetResult {
    // Shared location parts, built once per sheet and column; a turned-round table names the
    // cells where they are in the file.
    let file: Arc<str> = cx.file.into();
    let sheet: Option<Arc<str>> = grid.sheet.as_deref().map(Arc::from);
    let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0);
    let letters: Vec<Arc<str>> = (0..width.max(grid.rows.len()) + 1).map(|c| Arc::from(column_letter(c))).collect();
    let plain_loc = |row: usize, col: usize| {
        let (row, col) = if grid.transposed { (col, row) } else { (row, col) };
        Loc {
            file: file.clone(),
            sheet: sheet.clone(),
            row: Some(row + 1),
            column: Some(letters[col].clone()),
            header: None,
        }
    };
    let Some(header) = find_header(grid, cx.catalog, problems, &plain_loc) else {
        if !grid.transposed {
            if let Some(t) = transposed(grid, cx) {
                return read_grid(&t, cx, problems);
            }
        }
        return SheetResult::NoTable;
    };
    let h = header.row;
    let headers = header.texts;
    let width = width.max(headers.len());
    let header_arcs: Vec<Option<Arc<str>>> =
        (0..width).map(|c| headers.get(c).filter(|t| !t.is_empty()).map(|t| Arc::from(t.as_str()))).collect();
    // An observation's place: one per column of the table, shared by its cells.
    let places: Vec<Arc<Place>> = (0..width)
        .map(|c| {
            Arc::new(Place { file: file.clone(), sheet: sheet.clone(), header: header_arcs.get(c).cloned().flatten() })
        })
        .collect();
    let cell_loc = |row: usize, col: usize| {
        let (file_row, file_col) = if grid.transposed { (col, row) } else { (row, col) };
        CellLoc { place: places[col].clone(), row: file_row as u32 + 1, col: file_col as u32 }
    };
    let loc = |row: Option<usize>, col: Option<usize>| {
        let header = col.and_then(|c| header_arcs.get(c).cloned().flatten());
        let (row, col) = if grid.transposed { (col, row) } else { (row, col) };
        Loc {
            file: file.clone(),
            sheet: sheet.clone(),
            row: row.map(|r| r + 1),
            column: col.map(|c| letters[c].clone()),
            header,
        }
    };
    let roles = roles(&headers, h, cx.catalog, problems, &loc);
    let col_of = |want: &Role| roles.iter().position(|r| r.as_ref() == Some(want));
    let code_col = col_of(&Role::RegionCode);
    let name_col = col_of(&Role::RegionName);
    let year_col = col_of(&Role::Year);
    let long = [col_of(&Role::IndicatorName), col_of(&Role::Value)];
    let long_layout = long.iter().all(Option::is_some);
    let unit_col = col_of(&Role::Unit);

    // The data year: a 年份 column, else the title or the sheet name, else the file name; two
    // places that say different years are an error naming both.
    let title: String = grid
        .preamble
        .iter()
        .cloned()
        .chain(grid.rows[..header.first].iter().flat_map(|row| row.iter().map(Cell::text)))
        .collect::<Vec<_>>()
        .join(" ");
    let stated = year::stated(&title, grid.sheet.as_deref(), cx);
    if let Some((a, b)) = stated.iter().zip(stated.iter().skip(1)).find(|(a, b)| a.2 != b.2) {
        problems.error(
            "year_conflict",
            loc(Some(h), None),
            format!("{} says {} but {} says {}: correct the one that is wrong", a.0, a.2, b.0, b.2),
            format!("{}写的是 {} 年，{}写的是 {} 年：请改正错误的一处", a.1, a.2, b.1, b.2),
        );
        return SheetResult::Table { layout: "wide", observations: vec![], rows: 0 };
    }
    let fixed_year = stated.first().map(|s| s.2);
    let (fixed_from, fixed_from_zh) = stated.first().map_or(("", ""), |s| (s.0, s.1));
    if year_col.is_none() && fixed_year.is_none() {
        problems.error(
            "no_year",
            loc(Some(h), None),
            "cannot tell the year: add a 年份 column, or put the year in the title, the sheet, the file or the folder name",
            "无法确定数据年份：请增加“年份”列，或在表格标题、工作表名称、文件名或文件夹名称中写明年份（如“2023年”）",
        );
        return SheetResult::Table { layout: if long_layout { "long" } else { "wide" }, observations: vec![], rows: 0 };
    }
    // Rows whose 年份 differs from the year the title, sheet or file name states: reported once.
    let mut year_mismatch: Vec<(usize, i32)> = Vec::new();
    // 年份 cells Excel holds as dates, named once per sheet.
    let mut year_dates: Vec<(usize, String)> = Vec::new();
    // Summary rows left out (合计, a prefecture's own row), named once per sheet.
    let mut totals: Vec<usize> = Vec::new();
    let mut data_rows = 0usize;

    // Where an ambiguous name is looked up: the scope, the prefectures of the sheet's other rows,
    // and a prefecture named in the file name, the sheet name or the title lines.
    let mut place_text = format!("{} {}", cx.file, grid.sheet.as_deref().unwrap_or(""));
    for row in &grid.rows[..h] {
        for c in row {
            place_text.push(' ');
            place_text.push_str(&c.text());
        }
    }
    let mut resolver = resolver::Resolver {
        registry: cx.registry,
        scope: cx.scope,
        place_text,
        prefectures: Default::default(),
        resolved: HashMap::new(),
    };

    // One value per data row and indicator column (long tables: one per row).
    let per_row =
        if long_layout { 1 } else { roles.iter().filter(|r| matches!(r, Some(Role::Indicator { .. }))).count() };
    let mut observations = Vec::with_capacity(rows_hint.saturating_sub(header.data_start) * per_row);
    let indicator_codes: Vec<Arc<str>> = cx.catalog.indicators.iter().map(|i| Arc::from(i.code.as_str())).collect();
    // Percent-formatted cells: per column and indicator, each number as (percent?, value read, row),
    // kept only when the sheet has any, to tell a column read as shown from one that mixes.
    let has_percent = grid.rows.iter().flatten().any(|c| matches!(c, Cell::Percent(_)));
    let mut percent_cols = cells::NumberCells::default();
    // (region, year) → row, to catch a county twice in one wide sheet.
    let mut seen_rows: HashMap<(String, i32), usize> = HashMap::new();
    // One row of the table, wherever it comes from: the grid, or a text file read row by row.
    let empty = Cell::Empty;
    let mut each = |r: usize, row: &[Cell], problems: &mut Problems| {
        let cell_at = |c: usize| row.get(c).unwrap_or(&empty);
        if row.iter().all(Cell::is_empty) {
            return;
        }
        data_rows += 1;
        let first = row.iter().find(|c| !c.is_empty()).map(Cell::text).unwrap_or_default();
        let first_key = normalise_key(&first);
        if NOTE_PREFIXES.iter().any(|p| crate::text::key_starts_with(&first_key, p)) {
            return;
        }
        let code_text = code_col.map(|c| cell_at(c).text()).unwrap_or_default();
        let name_text = name_col.map(|c| cell_at(c).text()).unwrap_or_default();
        // Summary rows (合计, 全市合计, a prefecture's own code) and rows with only a 序号 are not counties.
        let total = |t: &str| {
            let k = normalise_key(t);
            in_list(&k, TOTAL_NAMES) || k.ends_with("合计") || k.ends_with("总计")
        };
        let area_code = code_text.len() == 6 && code_text.ends_with("00") && cx.registry.get(&code_text).is_none();
        // A prefecture's or province's own row, written with its name (荆门市, 全市 …).
        let area_name = code_text.is_empty()
            && !name_text.is_empty()
            && matches!(cx.registry.lookup(&name_text, None), Lookup::Unknown)
            && {
                let k = normalise_key(&name_text);
                cx.registry
                    .regions
                    .iter()
                    .any(|x| crate::text::key_is(&x.prefecture_name, &k) || crate::text::key_is(&x.province_name, &k))
            };
        let only_ignored = row
            .iter()
            .enumerate()
            .all(|(c, cell)| cell.is_empty() || matches!(roles.get(c), Some(Some(Role::Ignored))));
        if only_ignored {
            return;
        }
        if (code_text.is_empty() && total(&name_text)) || total(&first) || area_code || area_name {
            totals.push(r);
            return;
        }

        let year = match year_col {
            Some(c) => {
                let y = year::of_cell(cell_at(c));
                if matches!(cell_at(c), Cell::Date(..)) {
                    year_dates.push((r, cell_at(c).text()));
                }
                let Some(y) = y else {
                    let t = cell_at(c).text();
                    problems.error(
                        "bad_year",
                        loc(Some(r), Some(c)),
                        format!("\"{t}\" is not a year"),
                        format!("“{t}”不是年份：请填写四位年份，如 2023"),
                    );
                    return;
                };
                if fixed_year.is_some_and(|f| f != y) {
                    year_mismatch.push((r, y));
                }
                y
            }
            None => fixed_year.unwrap(),
        };

        let Some(region) =
            resolver.resolve(&code_text, &name_text, year, (code_col, name_col), &mut |severity, col, (en, zh)| {
                match severity {
                    Severity::Error => problems.error("unknown_county", loc(Some(r), col), en, zh),
                    Severity::Warning => problems.warning("old_code", loc(Some(r), col), en, zh),
                }
            })
        else {
            return;
        };
        resolver.prefectures.insert(region.prefecture_code.clone());
        // A wide row carries a whole county-year: a second row for it is one duplicate, not one per column.
        if !long_layout {
            if let Some(prev) = seen_rows.insert((region.code.clone(), year), r) {
                problems.push(
                    Severity::Error,
                    "duplicate_county",
                    loc(Some(r), code_col.or(name_col)),
                    format!(
                        "{} {} appears twice for {year}: rows {} and {}",
                        region.code,
                        region.name,
                        prev + 1,
                        r + 1
                    ),
                    format!(
                        "{} {} 的 {year} 年数据填了两行（第 {} 行和第 {} 行）：请删除重复的一行",
                        region.code,
                        region.name,
                        prev + 1,
                        r + 1
                    ),
                    Some(Arc::from(region.code.as_str())),
                );
                return;
            }
        }

        let region_code: Arc<str> = region.code.as_str().into();
        let mut push = |problems: &mut Problems,
                        index: usize,
                        factor: f64,
                        unit: &Arc<str>,
                        cell: &Cell,
                        col: usize| {
            let ind = &cx.catalog.indicators[index];
            // Built only for a message: most cells have none.
            let at = || loc(Some(r), Some(col));
            // A county-year-indicator twice (a long table's row repeated) is the merge's to report:
            // it sees every file, and a map of a million keys here would double ingest's memory.
            match cell {
                Cell::Number(v) if has_percent => percent_cols.entry((col, index)).or_default().push((false, *v, r)),
                Cell::Percent(v) => percent_cols.entry((col, index)).or_default().push((
                    true,
                    crate::ingest::formats::shown_percent(*v),
                    r,
                )),
                _ => {}
            }
            let read = match cells::read_value(cell, unit, factor, ind, cx.catalog) {
                Ok(read) => read,
                Err(w) => {
                    let (en, zh) = w.message;
                    problems.add(Problem {
                        value: w.value,
                        rule: w.rule,
                        ..Problem::new(Severity::Error, w.kind, at(), en, zh, Some(region_code.clone()))
                    });
                    return;
                }
            };
            if let (Some([lo, hi]), Some(v)) = (read.out_of_range, read.value) {
                problems.add(Problem {
                    value: Some(read.raw.to_string()),
                    rule: Some(format!("合理范围 [{lo}, {hi}]")),
                    ..Problem::new(
                        Severity::Warning,
                        "out_of_range",
                        at(),
                        format!(
                            "{} {} {year}: {} = {v} {} is outside the plausible range [{lo}, {hi}]; kept and flagged",
                            region.code, region.name, ind.code, ind.unit
                        ),
                        format!(
                            "{} {} {year} 年“{}”为 {v} {}，超出通常范围（{lo}～{hi}）：已保留并标记，请核实是否填错（例如单位）",
                            region.code, region.name, ind.name_zh, ind.unit
                        ),
                        Some(region_code.clone()),
                    )
                });
            }
            observations.push(Observation {
                region_code: region_code.clone(),
                year,
                indicator: indicator_codes[index].clone(),
                indicator_index: index as u16,
                value: read.value,
                raw_value: read.raw,
                raw_unit: unit.clone(),
                loc: cell_loc(r, col),
                out_of_range: read.out_of_range.is_some(),
                revised: false,
            });
        };

        if long_layout {
            let (ic, vc) = (long[0].unwrap(), long[1].unwrap());
            let ind_text = cell_at(ic).text();
            let Some((index, ind, bracket_unit)) = match_indicator(&ind_text, cx.catalog) else {
                problems.error(
                    "unknown_indicator",
                    loc(Some(r), Some(ic)),
                    format!(
                        "unknown indicator \"{ind_text}\": not a code, name or alias in {}",
                        cx.catalog.path.display()
                    ),
                    format!("“{ind_text}”不是监测指标：请按填报表中的指标名称填写"),
                );
                return;
            };
            let column_unit = unit_col.map(|c| cell_at(c).text()).filter(|u| !u.is_empty());
            if let (Some(b), Some(u)) = (&bracket_unit, &column_unit) {
                if normalise_key(b) != normalise_key(u) {
                    problems.error(
                        "bad_unit",
                        loc(Some(r), unit_col),
                        format!("the indicator says \"{b}\" but the unit column says \"{u}\""),
                        format!("指标名称中的单位是“{b}”，单位列写的是“{u}”：请保留正确的一个"),
                    );
                    return;
                }
            }
            let unit = bracket_unit.or(column_unit);
            match unit_factor(cx.catalog, ind, unit.as_deref()) {
                Ok((factor, unit)) => push(problems, index, factor, &Arc::from(unit), cell_at(vc), vc),
                Err((en, zh)) => problems.error("bad_unit", loc(Some(r), unit_col.or(Some(ic))), en, zh),
            }
        } else {
            for (c, role) in roles.iter().enumerate() {
                if let Some(Role::Indicator { index, factor, unit }) = role {
                    push(problems, *index, *factor, unit, cell_at(c), c)
                }
            }
        }
        // A value under no header (an empty header cell, or right of the last one) belongs to
        // nothing cimon can name: never dropped in silence.
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() && roles.get(c).is_none_or(Option::is_none) {
                problems.error(
                    "unknown_column",
                    loc(Some(r), Some(c)),
                    format!(
                        "value \"{}\" in a column without a header: give the column a header or delete the value",
                        cell.text()
                    ),
                    format!("“{}”所在的列没有表头：请补上表头，或删除这个值", cell.text()),
                );
            }
        }
    };
    for (r, row) in grid.rows.iter().enumerate().skip(header.data_start) {
        each(r, row, problems);
    }
    if let Err(e) = rest(&mut |r, row| each(r, row, problems)) {
        crate::ingest::textfile::csv_problem(cx.file, e, problems);
    }
    if let Some(&(r, y)) = year_mismatch.first() {
        problems.error(
            "year_conflict",
            loc(Some(r), year_col),
            format!(
                "the 年份 column says {y} but {fixed_from} says {}{}: correct the one that is wrong",
                fixed_year.unwrap_or_default(),
                if year_mismatch.len() > 1 {
                    format!(" ({} rows like this)", year_mismatch.len())
                } else {
                    String::new()
                }
            ),
            format!(
                "“年份”列写的是 {y} 年，{fixed_from_zh}写的是 {} 年{}：请改正错误的一处",
                fixed_year.unwrap_or_default(),
                if year_mismatch.len() > 1 { format!("（共 {} 行）", year_mismatch.len()) } else { String::new() }
            ),
        );
    }
    if let (Some((r, text)), Some(c)) = (year_dates.first(), year_col) {
        problems.warning(
            "year_as_date",
            loc(Some(*r), Some(c)),
            format!(
                "{} 年份 cell(s) are dates (here {}); read as their year: format the column as 常规 or 数值",
                year_dates.len(),
                text
            ),
            format!(
                "“年份”列有 {} 个单元格是日期格式（如 {}）：已按其年份读取；请把该列格式设为“常规”或“数值”",
                year_dates.len(),
                text
            ),
        );
    }
    if let Some(&first_total) = totals.first() {
        let rows: Vec<String> = totals.iter().take(5).map(|r| plain_loc(*r, 0).row.unwrap_or(0).to_string()).collect();
        problems.warning(
            "total_rows",
            loc(Some(first_total), None),
            format!(
                "summary rows left out (合计, or a prefecture's or province's own row: row {}{}); only counties are read",
                rows.join(", "),
                if totals.len() > 5 { format!(" and {} more", totals.len() - 5) } else { String::new() }
            ),
            format!(
                "合计行（或市、省本级行）未读取（第 {} 行{}）：只读取各县（市、区）的数据",
                rows.join("、"),
                if totals.len() > 5 { format!(" 等 {} 行", totals.len()) } else { String::new() }
            ),
        );
    }
    cells::percent_notes(&percent_cols, &loc, problems);
    // Plain numbers in a % column of a workbook, all ≤ 1, look like shares typed as fractions
    // (0.235 for 23.5%): flagged, since nothing in the file says which was meant.
    if grid.sheet.is_some() && !long_layout {
        for (c, role) in roles.iter().enumerate() {
            let Some(Role::Indicator { unit, .. }) = role else { continue };
            if percent_cols.keys().any(|k| k.0 == c) {
                continue;
            }
            if cx.catalog.unit(unit).is_none_or(|u| u.family != "share" || u.factor != 1.0) {
                continue;
            }
            let numbers: Vec<f64> = (header.data_start..grid.rows.len())
                .filter_map(|r| match grid.cell(r, c) {
                    Cell::Number(v) => Some(*v),
                    _ => None,
                })
                .collect();
            if numbers.len() >= 3 && numbers.iter().all(|v| v.abs() <= 1.0) {
                problems.warning(
                    "percent_format",
                    loc(Some(h), Some(c)),
                    "every number in this % column is ≤ 1: if the cells are formatted as percentages (23.5% stored as 0.235), enter them as plain numbers",
                    "这一列（单位 %）的数字都不大于 1：如果单元格设成了百分比格式（23.5% 实际存为 0.235），请改为“数值”格式并填写 23.5",
                );
            }
        }
    }
    SheetResult::Table { layout: if long_layout { "long" } else { "wide" }, observations, rows: data_rows }
}
