//! A table's header: the roles its cells name (county, year, an indicator with its unit, the long
//! layout's columns), the header row under title lines (two rows merged, a 计量单位 row), and a
//! table turned round.

use std::collections::HashMap;
use std::sync::Arc;

use super::cells::unit_factor;
use super::SheetContext;
use crate::catalog::{Catalog, Indicator};
use crate::ingest::problem::{Loc, Problems};
use crate::ingest::table::{Cell, Grid};
use crate::regions::Lookup;
use crate::text::{column_letter, normalise_key, split_header};

/// What a header cell means.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Role {
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

pub(super) const REGION_CODE: &[&str] = &[
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
pub(super) const REGION_NAME: &[&str] = &[
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
pub(super) const YEAR: &[&str] = &["年份", "年度", "年", "year", "统计年度"];
pub(super) const INDICATOR: &[&str] = &["指标", "指标名称", "指标代码", "indicator", "indicator_code"];
pub(super) const VALUE: &[&str] = &["数值", "值", "指标值", "value"];
pub(super) const UNIT: &[&str] = &["单位", "计量单位", "unit"];
pub(super) const IGNORED: &[&str] = &[
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
pub(super) const NOTE_PREFIXES: &[&str] = &[
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
pub(super) const TOTAL_NAMES: &[&str] = &["合计", "总计", "小计", "全市", "全省", "全州", "全盟", "total"];

pub(super) fn in_list(key: &str, list: &[&str]) -> bool {
    list.iter().any(|k| crate::text::key_is(k, key))
}

pub(super) fn header_role(text: &str) -> Option<Role> {
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
pub(super) fn match_indicator<'c>(text: &str, catalog: &'c Catalog) -> Option<(usize, &'c Indicator, Option<String>)> {
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

/// A header: a county column and an indicator (wide), or an indicator and a value column (long).
pub(super) fn qualifies(texts: &[String], catalog: &Catalog) -> bool {
    let roles: Vec<Role> = texts.iter().filter_map(|t| header_role(t)).collect();
    let has_region = roles.iter().any(|r| matches!(r, Role::RegionCode | Role::RegionName));
    let long = roles.contains(&Role::IndicatorName) && roles.contains(&Role::Value);
    has_region && (long || texts.iter().any(|t| match_indicator(t, catalog).is_some()))
}

/// Where the table's header is and where its data start.
pub(super) struct Header {
    /// The first header row (the upper one of two): above it are title rows.
    pub first: usize,
    /// The header row messages name (the indicators' row of a two-row header).
    pub row: usize,
    /// The header text of every column: two header rows merged, units of a unit row added.
    pub texts: Vec<String>,
    pub data_start: usize,
}

pub(super) fn row_texts(grid: &Grid, r: usize) -> Vec<String> {
    grid.rows.get(r).map(|row| row.iter().map(Cell::text).collect()).unwrap_or_default()
}

/// The first of the first 30 rows that is a header, alone or with the row under it (group
/// titles merged above the indicators, the county column's header spanning both rows); a
/// 计量单位 row under it gives the indicators their units.
pub(super) fn find_header(
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
pub(super) fn transposed(grid: &Grid, cx: &SheetContext<'_>) -> Option<Grid> {
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

/// Each header cell's role; an unknown header, a unit that does not fit, and two columns for one
/// indicator or for the county or year are errors at the header row `h`.
pub(super) fn roles(
    headers: &[String],
    h: usize,
    catalog: &Catalog,
    problems: &mut Problems,
    loc: &dyn Fn(Option<usize>, Option<usize>) -> Loc,
) -> Vec<Option<Role>> {
    let mut roles: Vec<Option<Role>> = Vec::with_capacity(headers.len());
    for (c, text) in headers.iter().enumerate() {
        let role = if text.is_empty() {
            None
        } else if let Some(r) = header_role(text) {
            Some(r)
        } else if let Some((index, ind, unit)) = match_indicator(text, catalog) {
            match unit_factor(catalog, ind, unit.as_deref()) {
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
                    catalog.path.display()
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
                        catalog.indicators[index].code
                    ),
                    format!(
                        "{} 列和 {} 列都是“{}”：请只保留一列",
                        column_letter(first),
                        column_letter(c),
                        catalog.indicators[index].name_zh
                    ),
                );
                *role = Some(Role::Bad);
            }
        }
    }
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
    roles
}
