//! Interpreting one grid: finding the header under title lines, the layout, the year, and each value.

use std::collections::HashMap;
use std::sync::Arc;

use super::problem::{CellLoc, Loc, Place, Problem, Problems, Severity};
use super::table::{Cell, Grid};
use super::Observation;
use crate::catalog::{convert, Catalog, Indicator, Kind};
use crate::regions::{Change, Lookup, Region, Registry};
use crate::scope::Scope;
use crate::text::{column_letter, normalise_key, parse_number, split_header, CellValue};

/// What a header cell means.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    RegionCode,
    RegionName,
    Year,
    /// Long layout: the indicator column and its value and unit.
    IndicatorName,
    Value,
    Unit,
    Ignored,
    /// Wide layout: an indicator with the factor from the header unit to the catalog unit.
    Indicator {
        index: usize,
        factor: f64,
        unit: Arc<str>,
    },
    /// Unknown header or unit; reported once, its cells skipped.
    Bad,
}

const REGION_CODE: &[&str] = &[
    "区划代码",
    "行政区划代码",
    "地区代码",
    "县区代码",
    "县(市、区)代码",
    "区县代码",
    "统计用区划代码",
    "代码",
    "code",
    "region_code",
    "adcode",
];
const REGION_NAME: &[&str] = &[
    "县(市、区)",
    "县(市区)",
    "县市区",
    "县(区)",
    "县区",
    "县(市)",
    "地区",
    "地区名称",
    "区域",
    "名称",
    "县名",
    "县(市、区)名称",
    "区县",
    "区县名称",
    "县(市、区、旗)",
    "旗县(市、区)",
    "旗县",
    "行政区划名称",
    "行政区划",
    "单位名称",
    "填报单位",
    "县级单位",
    "region",
    "county",
    "region_name",
    "county_name",
];
const YEAR: &[&str] = &["年份", "年度", "年", "year", "统计年度"];
const INDICATOR: &[&str] = &["指标", "指标名称", "指标代码", "indicator", "indicator_code"];
const VALUE: &[&str] = &["数值", "值", "指标值", "value"];
const UNIT: &[&str] = &["单位", "计量单位", "unit"];
const IGNORED: &[&str] = &[
    "序号",
    "备注",
    "说明",
    "no",
    "no.",
    "#",
    "填报人",
    "联系电话",
    "所属市州",
    "所属地市",
    "市州",
    "地级市",
    "prefecture",
    "province",
    "省份",
];

/// Rows that are notes, not data: text after the table.
/// The standard report-form footer (单位负责人、统计负责人、填表人、报出日期) counts as notes.
const NOTE_PREFIXES: &[&str] = &[
    "注",
    "说明",
    "数据来源",
    "资料来源",
    "示例数据",
    "填报",
    "备注",
    "单位负责人",
    "统计负责人",
    "负责人",
    "审核人",
    "填表人",
    "制表人",
    "制表",
    "报出日期",
    "联系电话",
    "note",
    "source",
];
/// Summary rows that some bureaus add under the counties.
const TOTAL_NAMES: &[&str] = &["合计", "总计", "小计", "全市", "全省", "全州", "全盟", "total"];

fn in_list(key: &str, list: &[&str]) -> bool {
    list.iter().any(|k| normalise_key(k) == key)
}

fn header_role(text: &str) -> Option<Role> {
    let key = normalise_key(text);
    if key.is_empty() {
        return None;
    }
    let role = if in_list(&key, REGION_CODE) {
        Role::RegionCode
    } else if in_list(&key, REGION_NAME) {
        Role::RegionName
    } else if in_list(&key, YEAR) {
        Role::Year
    } else if in_list(&key, INDICATOR) {
        Role::IndicatorName
    } else if in_list(&key, VALUE) {
        Role::Value
    } else if in_list(&key, UNIT) {
        Role::Unit
    } else if in_list(&key, IGNORED) {
        Role::Ignored
    } else {
        return None;
    };
    Some(role)
}

/// An indicator named by a header or a long-layout cell, with the unit in brackets if any.
fn match_indicator<'c>(text: &str, catalog: &'c Catalog) -> Option<(usize, &'c Indicator, Option<String>)> {
    let parts = split_header(text);
    let find = |s: &str| {
        catalog
            .indicator_by_header(s)
            .map(|ind| (catalog.indicators.iter().position(|i| i.code == ind.code).unwrap(), ind))
    };
    if let Some((i, ind)) = find(&parts.full) {
        return Some((i, ind, None));
    }
    find(&parts.name).map(|(i, ind)| (i, ind, parts.unit))
}

/// A message in English and in Chinese.
type Msg = (String, String);

/// A number with a unit in the cell (`35家`, `1.2亿元`, `23.5%`): the number and the factor to
/// the catalog unit when the unit is the column's or converts to the indicator's; else what is
/// wrong, in words a clerk can act on.
fn with_unit(
    text: &str,
    column_unit: &str,
    column_factor: f64,
    ind: &Indicator,
    catalog: &Catalog,
) -> Result<(f64, f64), Msg> {
    let t = crate::text::to_half_width(text).trim().to_string();
    let split = t.find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '-' | '+' | ' '))).unwrap_or(t.len());
    let (number, unit) = (t[..split].trim(), t[split..].trim());
    let not_a_number = || {
        (
            format!("\"{text}\" is not a number: type the number only"),
            format!("“{text}”不是数字：请只填写数字（不要写文字、单位或“约”“左右”等）"),
        )
    };
    let CellValue::Number(v) = parse_number(number, false) else { return Err(not_a_number()) };
    if unit.is_empty() || number.is_empty() {
        return Err(not_a_number());
    }
    if unit == "%" {
        return Err((
            format!("\"{text}\" has a percent sign, but the column is in {column_unit}: type the number only"),
            format!("“{text}”带有百分号，但本列单位是{column_unit}：请只填写以{column_unit}计的数字"),
        ));
    }
    let Some(u) = catalog.unit(unit) else { return Err(not_a_number()) };
    if catalog.unit(column_unit).is_some_and(|c| c.symbol == u.symbol) {
        return Ok((v, column_factor));
    }
    catalog.conversion(unit, &ind.unit).map(|f| (v, f)).map_err(|_| {
        (
            format!(
                "\"{text}\" is in {unit}, which is not a unit of {} ({column_unit}): type the number in {column_unit}",
                ind.name_zh
            ),
            format!("“{text}”的单位{unit}不能用于“{}”：请填写以{column_unit}计的数字", ind.name_zh),
        )
    })
}

/// The factor from a given unit to the indicator's; None given means the catalog unit.
fn unit_factor(catalog: &Catalog, ind: &Indicator, unit: Option<&str>) -> Result<(f64, String), Msg> {
    let unit = unit.map(str::trim).filter(|u| !u.is_empty()).unwrap_or(&ind.unit);
    catalog.conversion(unit, &ind.unit).map(|f| (f, unit.to_string())).map_err(|e| {
        let zh = match &e {
            crate::catalog::UnitError::Unknown(u) => {
                format!("单位“{u}”无法识别：“{}”的单位应为{}，请改为规范的计量单位", ind.name_zh, ind.unit)
            }
            crate::catalog::UnitError::Incompatible { given, .. } => {
                format!("单位“{given}”不能用于“{}”（应为{}或可换算的单位）：请改正表头中的单位", ind.name_zh, ind.unit)
            }
        };
        (format!("{e} for {}", ind.code), zh)
    })
}

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

/// A header: a county column and an indicator (wide), or an indicator and a value column (long).
fn qualifies(texts: &[String], catalog: &Catalog) -> bool {
    let roles: Vec<Role> = texts.iter().filter_map(|t| header_role(t)).collect();
    let has_region = roles.iter().any(|r| matches!(r, Role::RegionCode | Role::RegionName));
    let long = roles.contains(&Role::IndicatorName) && roles.contains(&Role::Value);
    has_region && (long || texts.iter().any(|t| match_indicator(t, catalog).is_some()))
}

/// Where the table's header is and where its data start.
struct Header {
    /// The first header row (the upper one of two): above it are title rows.
    first: usize,
    /// The header row messages name (the indicators' row of a two-row header).
    row: usize,
    /// The header text of every column: two header rows merged, units of a unit row added.
    texts: Vec<String>,
    data_start: usize,
}

fn row_texts(grid: &Grid, r: usize) -> Vec<String> {
    grid.rows.get(r).map(|row| row.iter().map(Cell::text).collect()).unwrap_or_default()
}

/// The first of the first 30 rows that is a header, alone or with the row under it (group
/// titles merged above the indicators, the county column's header spanning both rows); a
/// 计量单位 row under it gives the indicators their units.
fn find_header(
    grid: &Grid,
    catalog: &Catalog,
    problems: &mut Problems,
    loc: &dyn Fn(usize, usize) -> Loc,
) -> Option<Header> {
    let n = grid.rows.len().min(30);
    let mut found = None;
    for r in 0..n {
        let upper = row_texts(grid, r);
        if qualifies(&upper, catalog) {
            found = Some(Header { first: r, row: r, texts: upper, data_start: r + 1 });
            break;
        }
        let lower = row_texts(grid, r + 1);
        if r + 1 >= grid.rows.len() || qualifies(&lower, catalog) {
            continue;
        }
        let width = upper.len().max(lower.len());
        let merged: Vec<String> = (0..width)
            .map(|c| {
                let l = lower.get(c).cloned().unwrap_or_default();
                if l.is_empty() {
                    upper.get(c).cloned().unwrap_or_default()
                } else {
                    l
                }
            })
            .collect();
        if qualifies(&merged, catalog) {
            found = Some(Header { first: r, row: r + 1, texts: merged, data_start: r + 2 });
            break;
        }
    }
    let mut h = found?;
    // A unit row: 单位 / 计量单位 in a cell, or nothing but units.
    let units = row_texts(grid, h.data_start);
    let unit_label = |t: &str| in_list(&normalise_key(t), &["单位", "计量单位", "unit"]);
    let filled: Vec<(usize, &String)> = units.iter().enumerate().filter(|(_, t)| !t.is_empty()).collect();
    let is_unit_row = !filled.is_empty()
        && (filled.iter().any(|(_, t)| unit_label(t))
            || filled.iter().all(|(_, t)| catalog.unit(t).is_some() || t.as_str() == "—"))
        && filled.iter().any(|(_, t)| catalog.unit(t).is_some());
    if is_unit_row {
        for (c, u) in filled {
            if unit_label(u) || catalog.unit(u).is_none() {
                continue;
            }
            let Some(text) = h.texts.get_mut(c) else { continue };
            match split_header(text).unit {
                Some(given) if normalise_key(&given) != normalise_key(u) && catalog.unit(&given).is_some() => {
                    problems.error(
                        "bad_unit",
                        loc(h.data_start, c),
                        format!("the header says \"{given}\" but the unit row says \"{u}\": keep one"),
                        format!("表头写的单位是“{given}”，计量单位行写的是“{u}”：请保留正确的一个"),
                    );
                }
                Some(_) => {}
                None if match_indicator(text, catalog).is_some() => *text = format!("{text}（{u}）"),
                None => {}
            }
        }
        h.data_start += 1;
    }
    Some(h)
}

/// A table with the counties as columns and the indicators as rows, turned round: None when
/// no row names two or more counties over a column of indicators.
fn transposed(grid: &Grid, cx: &SheetContext<'_>) -> Option<Grid> {
    let county = |t: &str| !t.is_empty() && !matches!(cx.registry.lookup(t, None), Lookup::Unknown);
    for r in 0..grid.rows.len().min(30) {
        let row = &grid.rows[r];
        let Some(c0) = row.iter().position(|c| !c.is_empty()) else { continue };
        let counties = row.iter().skip(c0 + 1).filter(|c| county(&c.text())).count();
        let filled = row.iter().skip(c0 + 1).filter(|c| !c.is_empty()).count();
        if counties < 2 || counties * 2 < filled {
            continue;
        }
        let indicators = (r + 1..grid.rows.len())
            .filter(|&k| match_indicator(&grid.cell(k, c0).text(), cx.catalog).is_some())
            .count();
        if indicators == 0 {
            continue;
        }
        let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0);
        // Title lines above the county row stay titles, not header cells.
        let cell = |k: usize, c: usize| if k < r { Cell::Empty } else { grid.cell(k, c).clone() };
        let mut rows: Vec<Vec<Cell>> = (0..width).map(|c| (0..grid.rows.len()).map(|k| cell(k, c)).collect()).collect();
        let preamble =
            grid.rows[..r].iter().flat_map(|row| row.iter().map(Cell::text)).filter(|t| !t.is_empty()).collect();
        // The corner names the indicator column; turned round it heads the counties.
        if !matches!(header_role(&grid.cell(r, c0).text()), Some(Role::RegionCode | Role::RegionName)) {
            rows[c0][r] = Cell::Text("县(市、区)".into());
        }
        return Some(Grid { sheet: grid.sheet.clone(), rows, transposed: true, preamble });
    }
    None
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
    let mut roles: Vec<Option<Role>> = Vec::with_capacity(headers.len());
    for (c, text) in headers.iter().enumerate() {
        let role = if text.is_empty() {
            None
        } else if let Some(r) = header_role(text) {
            Some(r)
        } else if let Some((index, ind, unit)) = match_indicator(text, cx.catalog) {
            match unit_factor(cx.catalog, ind, unit.as_deref()) {
                Ok((factor, unit)) => Some(Role::Indicator { index, factor, unit: unit.into() }),
                Err(e) => {
                    problems.error("bad_unit", loc(Some(h), Some(c)), e.0, e.1);
                    Some(Role::Bad)
                }
            }
        } else {
            problems.error(
                "unknown_column",
                loc(Some(h), Some(c)),
                format!(
                    "unknown column \"{text}\": not an indicator code, name or alias in {}",
                    cx.catalog.path.display()
                ),
                format!("表头“{text}”不是监测指标：请按填报表的指标名称填写表头（名称和单位），或删除此列"),
            );
            Some(Role::Bad)
        };
        roles.push(role);
    }
    // Two columns for one indicator (万元 and 亿元, say) would make one value twice.
    let mut seen_indicator: HashMap<usize, usize> = HashMap::new();
    for (c, role) in roles.iter_mut().enumerate() {
        if let Some(Role::Indicator { index, .. }) = *role {
            if let Some(first) = seen_indicator.insert(index, c) {
                problems.error(
                    "duplicate_column",
                    loc(Some(h), Some(c)),
                    format!(
                        "columns {} and {} both hold {}",
                        column_letter(first),
                        column_letter(c),
                        cx.catalog.indicators[index].code
                    ),
                    format!(
                        "{} 列和 {} 列都是“{}”：请只保留一列",
                        column_letter(first),
                        column_letter(c),
                        cx.catalog.indicators[index].name_zh
                    ),
                );
                *role = Some(Role::Bad);
            }
        }
    }
    let col_of = |want: &Role| roles.iter().position(|r| r.as_ref() == Some(want));
    for (kind, what, zh) in [
        (Role::RegionCode, "county code", "区划代码"),
        (Role::RegionName, "county name", "县（市、区）名称"),
        (Role::Year, "year", "年份"),
    ] {
        let n = roles.iter().filter(|r| r.as_ref() == Some(&kind)).count();
        if n > 1 {
            problems.error(
                "duplicate_column",
                loc(Some(h), None),
                format!("{n} columns hold the {what}"),
                format!("有 {n} 列都是{zh}：请只保留一列"),
            );
        }
    }
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
    let stated: Vec<(&str, &str, i32)> = [
        ("the title", "表格标题", crate::text::data_year_in(&title)),
        ("the sheet name", "工作表名称", grid.sheet.as_deref().and_then(crate::text::data_year_in)),
        ("the file name", "文件名", cx.file_year),
        ("the folder name", "文件夹名称", cx.folder_year),
    ]
    .into_iter()
    .filter_map(|(w, z, y)| Some((w, z, y?)))
    .collect();
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
    let mut resolver = Resolver {
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
    let mut percent_cols = NumberCells::default();
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
        if NOTE_PREFIXES.iter().any(|p| first_key.starts_with(&normalise_key(p))) {
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
            && cx.registry.regions.iter().any(|x| {
                let k = normalise_key(&name_text);
                k == normalise_key(&x.prefecture_name) || k == normalise_key(&x.province_name)
            });
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
                let y = match cell_at(c) {
                    // Excel turned the year into a date (2023 typed into a date-formatted column,
                    // or 2023-01-01): its year, said so.
                    Cell::Date(y, ..) => {
                        year_dates.push((r, cell_at(c).text()));
                        Some(*y)
                    }
                    cell => {
                        let t = crate::text::to_half_width(&cell.text());
                        let t = t.trim().trim_end_matches("年度").trim_end_matches('年').to_string();
                        t.parse::<i32>().ok().filter(|y| (1990..=2099).contains(y))
                    }
                };
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
            let raw_value = match cell {
                Cell::Number(v) => super::Raw::Number(*v),
                // A number written as its own shortest text (`12.34`, not `12.340` or `1,234`) is
                // kept as the number: the store writes the same text, without a string per cell.
                Cell::Text(t) => match t.parse::<f64>() {
                    Ok(v) if v.is_finite() && super::table::format_number(v) == *t => super::Raw::Number(v),
                    _ => super::Raw::Text(t.trim().into()),
                },
                other => super::Raw::Text(other.text().into()),
            };
            // Formatted only for a message (a million numeric cells at national scale).
            let raw = &raw_value;
            let mut factor = factor;
            let value = match cell {
                Cell::Number(v) => {
                    if has_percent {
                        percent_cols.entry((col, index)).or_default().push((false, *v, r));
                    }
                    Some(*v)
                }
                // What the sheet shows (2.69 for a cell showing 2.69%), which is what the clerk typed.
                Cell::Percent(v) => {
                    let shown = super::formats::shown_percent(*v);
                    percent_cols.entry((col, index)).or_default().push((true, shown, r));
                    let percent_column = cx.catalog.unit(unit).is_some_and(|u| u.family == "share" && u.factor == 1.0);
                    if !percent_column {
                        match cx.catalog.conversion("%", &ind.unit) {
                            Ok(f) => factor = f,
                            Err(_) => {
                                problems.push(
                                    Severity::Error,
                                    "not_a_number",
                                    at(),
                                    format!(
                                        "the cell is formatted as a percentage ({raw}), but the column is in {unit}: \
                                         format it as 数值 and type the number in {unit}"
                                    ),
                                    format!("单元格设成了百分比格式（显示为 {raw}），但本列单位是{unit}：请把单元格格式改为“数值”，填写以{unit}计的数字"),
                                    Some(region_code.clone()),
                                );
                                return;
                            }
                        }
                    }
                    Some(shown)
                }
                Cell::Empty => None,
                Cell::Date(..) => {
                    problems.push(
                        Severity::Error,
                        "not_a_number",
                        at(),
                        format!("\"{raw}\" is a date, not a number: format the cell as 数值 and type the value"),
                        format!("“{raw}”是日期，不是数字：请把单元格格式设为“数值”后重新填写"),
                        Some(region_code.clone()),
                    );
                    return;
                }
                Cell::Text(t) => {
                    match parse_number(t, cx.catalog.unit(unit).is_some_and(|u| u.family == "share" && u.factor == 1.0))
                    {
                        CellValue::Number(v) => Some(v),
                        CellValue::Missing => None,
                        CellValue::NotANumber => match with_unit(t, unit, factor, ind, cx.catalog) {
                            Ok((v, f)) => {
                                factor = f;
                                Some(v)
                            }
                            Err((en, zh)) => {
                                problems.push(Severity::Error, "not_a_number", at(), en, zh, Some(region_code.clone()));
                                return;
                            }
                        },
                    }
                }
            };
            let value = value.map(|v| convert(v, factor));
            let mut out_of_range = false;
            if let Some(v) = value {
                let [lo, hi] = ind.hard_bounds();
                if v < lo || v > hi {
                    let (en, zh) = if ind.kind == Kind::Ratio && hi <= 100.0 && v > hi {
                        (
                            format!("{} is a share and cannot be above {hi} % ({raw})", ind.code),
                            format!(
                                "“{}”是比重，不能超过 {hi}%（{raw}）：请检查是否把分子和分母写反，或填成了其他指标的数值",
                                ind.name_zh
                            ),
                        )
                    } else if lo == 0.0 && v < 0.0 {
                        (
                            format!("{} cannot be negative ({raw})", ind.code),
                            format!("“{}”不能为负数（{raw}）：请改正", ind.name_zh),
                        )
                    } else {
                        (
                            format!("{} = {v} is outside its bounds [{lo}, {hi}] ({raw})", ind.code),
                            format!("“{}”为 {v}，超出允许的取值范围（{lo}～{hi}）：请改正", ind.name_zh),
                        )
                    };
                    problems.add(Problem {
                        value: Some(raw.to_string()),
                        rule: Some(format!("取值界限 [{lo}, {hi}]")),
                        ..Problem::new(Severity::Error, "out_of_bounds", at(), en, zh, Some(region_code.clone()))
                    });
                    return;
                }
                if let Some([lo, hi]) = ind.range {
                    if v < lo || v > hi {
                        out_of_range = true;
                        problems.add(Problem {
                            value: Some(raw.to_string()),
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
                        )});
                    }
                }
            }
            observations.push(Observation {
                region_code: region_code.clone(),
                year,
                indicator: indicator_codes[index].clone(),
                indicator_index: index as u16,
                value,
                raw_value,
                raw_unit: unit.clone(),
                loc: cell_loc(r, col),
                out_of_range,
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
        super::table::csv_problem(cx.file, e, problems);
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
    percent_notes(&percent_cols, &loc, problems);
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

/// The numbers of a column per indicator (a long table's value column holds several): each as
/// (formatted as a percentage, value read, row).
type NumberCells = std::collections::BTreeMap<(usize, usize), Vec<(bool, f64, usize)>>;

/// Percent-formatted cells are read as the sheet shows them, said once per column; a column
/// that mixes them with plain numbers on another scale (2.69% beside 0.031) is an error naming both.
fn percent_notes(columns: &NumberCells, loc: &dyn Fn(Option<usize>, Option<usize>) -> Loc, problems: &mut Problems) {
    let median = |v: Vec<f64>| -> Option<f64> {
        let mut v: Vec<f64> = v.into_iter().map(f64::abs).filter(|x| *x > 0.0).collect();
        v.sort_by(f64::total_cmp);
        (!v.is_empty()).then(|| v[v.len() / 2])
    };
    let name = |r: usize, c: usize| {
        let l = loc(Some(r), Some(c));
        format!("{}{}", l.column.as_deref().unwrap_or(""), l.row.unwrap_or(0))
    };
    for (&(c, _), cells) in columns {
        let percent: Vec<&(bool, f64, usize)> = cells.iter().filter(|x| x.0).collect();
        let Some(&&(_, shown, first)) = percent.first() else { continue };
        let plain: Vec<&(bool, f64, usize)> = cells.iter().filter(|x| !x.0).collect();
        let scale = median(percent.iter().map(|x| x.1).collect()).zip(median(plain.iter().map(|x| x.1).collect()));
        if let (Some((p, q)), Some(&&(_, number, at))) = (scale, plain.first()) {
            if !(0.1..10.0).contains(&(p / q)) {
                let shows = crate::ingest::table::format_number(shown);
                let (pc, qc) = (name(first, c), name(at, c));
                problems.error(
                    "percent_mixed",
                    loc(Some(at), Some(c)),
                    format!(
                        "the column mixes cells formatted as percentages ({pc} shows {shows}%, {} like it) with plain \
                         numbers ({qc} is {number}, {} like it) on another scale: format the whole column alike (all \
                         数值, or all 百分比) and check the values",
                        percent.len(),
                        plain.len()
                    ),
                    format!(
                        "本列既有百分比格式的单元格（{pc} 显示为 {shows}%，共 {} 个），又有普通数字（{qc} 为 {number}，共 {} 个），\
                         两者的数量级不一致：请把整列设为同一种格式（全部“数值”或全部“百分比”），并核对数值",
                        percent.len(),
                        plain.len()
                    ),
                );
                continue;
            }
        }
        let shows = crate::ingest::table::format_number(shown);
        let stored = crate::ingest::table::format_number(shown / 100.0);
        problems.warning(
            "percent_cells",
            loc(Some(first), Some(c)),
            format!(
                "{} cell(s) are formatted as percentages (here {shows}%): stored as the sheet shows them ({shows}), not \
                 as Excel keeps them ({stored})",
                percent.len()
            ),
            format!(
                "本列有 {} 个单元格设为百分比格式（如 {shows}%）：已按表中显示的数值保存（{shows}），而不是 Excel 内部存储的 {stored}",
                percent.len()
            ),
        );
    }
}

/// Resolves a row's county cells within a sheet.
struct Resolver<'r> {
    registry: &'r Registry,
    scope: &'r Scope,
    /// File name, sheet name and title lines: a prefecture named there decides an ambiguous name.
    place_text: String,
    /// Prefectures of the rows resolved so far in this sheet.
    prefectures: std::collections::HashSet<String>,
    /// Cells resolved before (a long table repeats each county once per indicator).
    resolved: HashMap<(String, String, i32), (&'r Region, Option<Msg>, Option<usize>)>,
}

/// A prefecture's name as files write it: 荆门市 → 荆门, 恩施土家族苗族自治州 → 恩施.
fn prefecture_stem(name: &str) -> &str {
    let name = name.trim_end_matches("直辖");
    for s in ["自治州", "地区", "盟", "市", "州"] {
        if let Some(x) = name.strip_suffix(s) {
            let x = crate::regions::short_form(&format!("{x}自治县")).map_or(x.len(), |f| f.len() - "县".len());
            return &name[..x.min(name.len())];
        }
    }
    name
}

impl<'r> Resolver<'r> {
    /// One of several regions a name fits: the only one in the scope, else in a prefecture of
    /// the sheet's other rows, else in a prefecture the file or sheet names.
    fn narrow(&self, regions: Vec<&'r Region>) -> Result<&'r Region, Vec<&'r Region>> {
        let tests: [&dyn Fn(&Region) -> bool; 3] = [
            &|r| !self.scope.is_explicit() || self.scope.contains(self.registry, r),
            &|r| self.prefectures.contains(&r.prefecture_code),
            &|r| {
                let stem = prefecture_stem(&r.prefecture_name);
                stem.chars().count() >= 2 && self.place_text.contains(stem)
            },
        ];
        let mut candidates = regions;
        for test in tests {
            let kept: Vec<&Region> = candidates.iter().copied().filter(|r| test(r)).collect();
            match kept.len() {
                1 => return Ok(kept[0]),
                0 => {}
                _ => candidates = kept,
            }
        }
        Err(candidates)
    }

    fn describe(&self, cell: &str, l: Lookup<'r>, year: i32) -> Result<(&'r Region, Option<Msg>), Msg> {
        let registry = self.registry;
        match l {
            Lookup::Found(r) => Ok((r, None)),
            Lookup::Unknown => {
                let near = registry.suggest(
                    cell,
                    3,
                    |r| r.valid_in(year) && self.scope.contains(registry, r),
                    |r| self.prefectures.contains(&r.prefecture_code) || self.place_text.contains(prefecture_stem(&r.prefecture_name)),
                );
                let (hint, hint_zh) = if near.is_empty() {
                    (String::new(), "请核对区划代码或县（市、区）名称".to_string())
                } else {
                    let names: Vec<String> =
                        near.iter().map(|r| format!("{} {} ({})", r.code, r.name, r.prefecture_name)).collect();
                    let zh: Vec<String> = near.iter().map(|r| format!("{} {}（{}）", r.code, r.name, r.prefecture_name)).collect();
                    (format!("; did you mean {}?", names.join(", ")), format!("是否应为 {}？", zh.join("、")))
                };
                Err((
                    format!("unknown county \"{cell}\": not in the region registry {}{hint}", registry.path.display()),
                    format!("“{cell}”不是 {year} 年的县级行政区划：{hint_zh}"),
                ))
            }
            Lookup::Ambiguous(rs) => self.narrow(rs).map(|r| (r, None)).map_err(|rs| {
                (
                    format!(
                        "county name \"{cell}\" is ambiguous in {year}: {}; write the 6-digit code, or name the prefecture in the file name",
                        rs.iter().map(|r| format!("{} {} ({} {})", r.code, r.name, r.province_name, r.prefecture_name)).collect::<Vec<_>>().join(", ")
                    ),
                    format!(
                        "名称“{cell}”有重名：{}；请填写 6 位区划代码，或在文件名中写明所属市（州）",
                        rs.iter().map(|r| format!("{} {}（{}{}）", r.code, r.name, r.province_name, r.prefecture_name)).collect::<Vec<_>>().join("、")
                    ),
                )
            }),
            Lookup::NotValid(r) => {
                // The same unit under its code of that year (an old code after a rename, or a new
                // code written for an earlier year): stored under that code, with a warning.
                if let Some(v) = registry.code_in(&r.code, year) {
                    let note = (
                        format!(
                            "\"{cell}\" is {} {}, which in {year} is {} {}: the value is stored under {}; write {} next time",
                            r.code, r.name, v.code, v.name, v.code, v.code
                        ),
                        format!(
                            "“{cell}”是 {} {}，{year} 年的区划代码应为 {} {}：已按 {} 保存，下次请填写 {}",
                            r.code, r.name, v.code, v.name, v.code, v.code
                        ),
                    );
                    return Ok((v, Some(note)));
                }
                let (when, when_zh) = match (r.valid_from, r.valid_to) {
                    (Some(f), Some(t)) => (format!("{f}–{t}"), format!("{f}—{t} 年")),
                    (Some(f), None) => (format!("from {f}"), format!("{f} 年起")),
                    (None, Some(t)) => (format!("until {t}"), format!("{t} 年及以前")),
                    (None, None) => ("always".into(), "各年".into()),
                };
                let successors: Vec<String> = r
                    .successors()
                    .filter_map(|s| registry.get(s))
                    .map(|s| format!("{} {}", s.code, s.name))
                    .collect();
                let (hint, hint_zh) = match (r.change, r.valid_to) {
                    (Some(Change::Merged), Some(t)) if year > t => (
                        format!("; it was merged into {} in {}: report it there", successors.join(", "), t + 1),
                        format!("；{} 年已并入 {}，请按后者填报", t + 1, successors.join("、")),
                    ),
                    (Some(Change::Split), Some(t)) if year > t => (
                        format!("; it was split into {} in {}: report those", successors.join(" and "), t + 1),
                        format!("；{} 年已拆分为 {}，请分别填报", t + 1, successors.join("、")),
                    ),
                    _ => (String::new(), String::new()),
                };
                Err((
                    format!("{} {} is valid {when}, not in {year}{hint}", r.code, r.name),
                    format!("{} {} 只在{when_zh}有效，{year} 年不能使用{hint_zh}", r.code, r.name),
                ))
            }
        }
    }

    /// The county of a row by code (preferred) or name; a code and name that disagree is an
    /// error. `report` gets errors and warnings (an old code), with the column they are about.
    fn resolve(
        &mut self,
        code: &str,
        name: &str,
        year: i32,
        (code_col, name_col): (Option<usize>, Option<usize>),
        report: &mut dyn FnMut(Severity, Option<usize>, Msg),
    ) -> Option<&'r Region> {
        let key = (code.to_string(), name.to_string(), year);
        if let Some((r, note, at)) = self.resolved.get(&key) {
            if let Some(n) = note {
                report(Severity::Warning, *at, n.clone());
            }
            return Some(r);
        }
        // Errors point at the cell that failed: the code if there is one, else the name.
        let code_at = if code.is_empty() { name_col.or(code_col) } else { code_col };
        let name_at = name_col.or(code_col);
        let by_code = (!code.is_empty()).then(|| self.describe(code, self.registry.lookup(code, Some(year)), year));
        // With a code, the name only has to be one of that county's names (桥东区 is a district
        // of several cities: the code says which).
        let by_name = (!name.is_empty() && !matches!(by_code, Some(Ok(_))))
            .then(|| self.describe(name, self.registry.lookup(name, Some(year)), year));
        let (found, note, at) = match (by_code, by_name) {
            (None, None) => {
                report(
                    Severity::Error,
                    code_at,
                    (
                        "row has values but no county code or name".into(),
                        "这一行有数据，但没有区划代码或县（市、区）名称：请补上".into(),
                    ),
                );
                return None;
            }
            (Some(Ok((r, _))), None) if !name.is_empty() && !self.registry.name_matches(name, r) => {
                report(
                    Severity::Error,
                    name_at,
                    (
                        format!("code {code} is {} but the name says {name}", r.name),
                        format!("区划代码 {code} 是{}，但名称写的是“{name}”：请核对代码和名称", r.name),
                    ),
                );
                return None;
            }
            (Some(Ok((r, note))), _) => (r, note, code_at),
            (None, Some(Ok((r, note)))) => (r, note, name_at),
            (Some(Err(e)), _) => {
                report(Severity::Error, code_at, e);
                return None;
            }
            (None, Some(Err(e))) => {
                report(Severity::Error, name_at, e);
                return None;
            }
        };
        if let Some(n) = &note {
            report(Severity::Warning, at, n.clone());
        }
        self.resolved.insert(key, (found, note, at));
        Some(found)
    }
}
