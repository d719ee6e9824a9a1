//! Reading one value cell: numbers as text or as numbers, percent-formatted cells as shown, units
//! in the cell, "no data" spellings, the hard bounds; and the per-column note on percent cells.

use crate::catalog::{convert, Catalog, Indicator, Kind};
use crate::ingest::problem::{Loc, Problems};
use crate::ingest::table::Cell;
use crate::ingest::Raw;
use crate::text::{parse_number, CellValue};

/// A message in English and in Chinese.
pub(super) type Msg = (String, String);

/// A number with a unit in the cell (`35家`, `1.2亿元`, `23.5%`): the number and the factor to
/// the catalog unit when the unit is the column's or converts to the indicator's; else what is
/// wrong, in words a clerk can act on.
pub(super) fn with_unit(
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
pub(super) fn unit_factor(catalog: &Catalog, ind: &Indicator, unit: Option<&str>) -> Result<(f64, String), Msg> {
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

/// A value cell as read: the value in the catalog unit (None: no data), the cell as written,
/// and the plausible range it is outside of, if it is.
pub(super) struct Value {
    pub value: Option<f64>,
    pub raw: Raw,
    pub out_of_range: Option<[f64; 2]>,
}

/// What is wrong with a value cell: its kind, the message in English and Chinese, and for the
/// problem list the value as written and the rule it breaks.
pub(super) struct Wrong {
    pub kind: &'static str,
    pub message: Msg,
    pub value: Option<String>,
    pub rule: Option<String>,
}

/// One value cell of indicator `ind` in a column in `unit` (`factor` converts it to the catalog
/// unit): a number, a percent-formatted number (what the sheet shows), a number with a unit
/// (`1.2亿元`), a "no data" spelling; checked against the indicator's hard bounds.
pub(super) fn read_value(
    cell: &Cell,
    unit: &str,
    factor: f64,
    ind: &Indicator,
    catalog: &Catalog,
) -> Result<Value, Wrong> {
    let wrong = |kind, (en, zh): Msg| Wrong { kind, message: (en, zh), value: None, rule: None };
    let raw_value = match cell {
        Cell::Number(v) => Raw::Number(*v),
        // A number written as its own shortest text (`12.34`, not `12.340` or `1,234`) is kept
        // as the number: the store writes the same text, without a string per cell.
        Cell::Text(t) => match t.parse::<f64>() {
            Ok(v) if v.is_finite() && crate::ingest::table::format_number(v) == *t => Raw::Number(v),
            _ => Raw::Text(t.trim().into()),
        },
        other => Raw::Text(other.text().into()),
    };
    // Formatted only for a message (a million numeric cells at national scale).
    let raw = &raw_value;
    // Only a percent or text cell asks (not the million plain numbers of a workbook).
    let percent_column = || catalog.unit(unit).is_some_and(|u| u.family == "share" && u.factor == 1.0);
    let mut factor = factor;
    let value = match cell {
        Cell::Number(v) => Some(*v),
        // What the sheet shows (2.69 for a cell showing 2.69%), which is what the clerk typed.
        Cell::Percent(v) => {
            if !percent_column() {
                factor = catalog.conversion("%", &ind.unit).map_err(|_| {
                    wrong(
                        "not_a_number",
                        (
                            format!(
                                "the cell is formatted as a percentage ({raw}), but the column is in {unit}: \
                                 format it as 数值 and type the number in {unit}"
                            ),
                            format!(
                                "单元格设成了百分比格式（显示为 {raw}），但本列单位是{unit}：请把单元格格式改为“数值”，填写以{unit}计的数字"
                            ),
                        ),
                    )
                })?;
            }
            Some(crate::ingest::formats::shown_percent(*v))
        }
        Cell::Empty => None,
        Cell::Date(..) => {
            return Err(wrong(
                "not_a_number",
                (
                    format!("\"{raw}\" is a date, not a number: format the cell as 数值 and type the value"),
                    format!("“{raw}”是日期，不是数字：请把单元格格式设为“数值”后重新填写"),
                ),
            ))
        }
        Cell::Text(t) => match parse_number(t, percent_column()) {
            CellValue::Number(v) => Some(v),
            CellValue::Missing => None,
            CellValue::NotANumber => {
                let (v, f) = with_unit(t, unit, factor, ind, catalog).map_err(|m| wrong("not_a_number", m))?;
                factor = f;
                Some(v)
            }
        },
    };
    let value = value.map(|v| convert(v, factor));
    let mut out_of_range = None;
    if let Some(v) = value {
        let [lo, hi] = ind.hard_bounds();
        if v < lo || v > hi {
            let message = if ind.kind == Kind::Ratio && hi <= 100.0 && v > hi {
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
            return Err(Wrong {
                kind: "out_of_bounds",
                message,
                value: Some(raw.to_string()),
                rule: Some(format!("取值界限 [{lo}, {hi}]")),
            });
        }
        out_of_range = ind.range.filter(|[lo, hi]| v < *lo || v > *hi);
    }
    Ok(Value { value, raw: raw_value, out_of_range })
}

/// The numbers of a column per indicator (a long table's value column holds several): each as
/// (formatted as a percentage, value read, row).
pub(super) type NumberCells = std::collections::BTreeMap<(usize, usize), Vec<(bool, f64, usize)>>;

/// Percent-formatted cells are read as the sheet shows them, said once per column; a column
/// that mixes them with plain numbers on another scale (2.69% beside 0.031) is an error naming both.
pub(super) fn percent_notes(
    columns: &NumberCells,
    loc: &dyn Fn(Option<usize>, Option<usize>) -> Loc,
    problems: &mut Problems,
) {
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
