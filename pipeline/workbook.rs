//! The Excel workbook of the results (`results/results.xlsx`) for bureau staff: Chinese headers,
//! frozen header rows, filters and number formats, built from the result tables.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::catalog::Catalog;

/// The workbook's file name inside the results directory.
pub const FILE: &str = "results.xlsx";

#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("cannot write workbook {path}: {message}")]
    Write { path: std::path::PathBuf, message: String },
}

/// A cell value.
enum Cell<'a> {
    Text(Option<&'a str>),
    Owned(Option<String>),
    Num(Option<f64>, Fmt),
}

/// How a number is shown.
#[derive(Clone, Copy)]
enum Fmt {
    /// Thousands separators and this many decimals (at most 3).
    Fixed(usize),
    Percent,
    /// A year: no thousands separator.
    Year,
}

struct Formats {
    year: Format,
    header: Format,
    fixed: [Format; 4],
    percent: Format,
}

fn col_f64(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

fn col_str<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

/// Write one sheet: a header row (frozen, with a filter) and rows of cells.
fn sheet<'a>(
    ws: &mut Worksheet,
    f: &Formats,
    headers: &[(&str, f64)],
    rows: usize,
    cell: impl Fn(usize, usize) -> Cell<'a>,
) -> Result<(), XlsxError> {
    for (c, (h, width)) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
        ws.set_column_width(c as u16, *width)?;
    }
    for r in 0..rows {
        let row = r as u32 + 1;
        for c in 0..headers.len() {
            let col = c as u16;
            match cell(r, c) {
                Cell::Text(Some(s)) => {
                    ws.write_string(row, col, s)?;
                }
                Cell::Owned(Some(s)) => {
                    ws.write_string(row, col, s)?;
                }
                Cell::Num(Some(v), fmt) if v.is_finite() => {
                    let fmt = match fmt {
                        Fmt::Percent => &f.percent,
                        Fmt::Year => &f.year,
                        Fmt::Fixed(d) => &f.fixed[d.min(3)],
                    };
                    ws.write_number_with_format(row, col, v, fmt)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if rows > 0 {
        ws.autofilter(0, 0, rows as u32, headers.len() as u16 - 1)?;
    }
    Ok(())
}

/// Build the workbook from the result tables: index and ranks (all years), indicators with growth
/// (the latest year only, to stay within Excel's row limit at national scale), target
/// attainment, and the method.
pub fn write(
    path: &Path,
    index: &DataFrame,
    growth: &DataFrame,
    attainment: &DataFrame,
    method: &[(String, String)],
    catalog: &Catalog,
) -> Result<(), WorkbookError> {
    build(path, index, growth, attainment, method, catalog)
        .map_err(|e| WorkbookError::Write { path: path.to_owned(), message: e.to_string() })
}

/// polars or xlsx errors; `write` adds the path.
type BuildError = Box<dyn std::error::Error + Send + Sync>;

fn build(
    path: &Path,
    index: &DataFrame,
    growth: &DataFrame,
    attainment: &DataFrame,
    method: &[(String, String)],
    catalog: &Catalog,
) -> Result<(), BuildError> {
    let mut wb = Workbook::new();
    // A fixed date: the same results give the same bytes.
    wb.set_properties(
        &DocProperties::new()
            .set_title("县域创新能力监测结果")
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let f = Formats {
        year: Format::new().set_num_format("0"),
        header: Format::new().set_bold().set_background_color("#1F4E79").set_font_color("#FFFFFF").set_text_wrap(),
        fixed: [
            Format::new().set_num_format("#,##0"),
            Format::new().set_num_format("#,##0.0"),
            Format::new().set_num_format("#,##0.00"),
            Format::new().set_num_format("#,##0.000"),
        ],
        percent: Format::new().set_num_format("0.0%"),
    };

    // Sheet 1: index and ranks, every county and year.
    let years: Vec<Option<f64>> = col_f64(index, "year")?;
    let (code, name, pref, prov) = (
        col_str(index, "region_code")?,
        col_str(index, "region_name")?,
        col_str(index, "prefecture_name")?,
        col_str(index, "province_name")?,
    );
    let nums: Vec<Vec<Option<f64>>> =
        ["index", "rank", "rank_prefecture", "rank_province", "rank_change", "casted_tier", "ratio_to_average"]
            .iter()
            .map(|c| col_f64(index, c))
            .collect::<PolarsResult<_>>()?;
    let group = col_str(index, "ratio_group")?;
    let dims: Vec<(&str, Vec<Option<f64>>)> = catalog
        .groups
        .iter()
        .filter(|g| g.parent.as_deref() == Some(catalog.index.code.as_str()))
        .filter_map(|g| Some((g.name_zh.as_str(), col_f64(index, &format!("score_{}", g.code)).ok()?)))
        .collect();
    fn group_zh(g: Option<&str>) -> Option<&str> {
        match g {
            Some("leader") => Some("领先"),
            Some("strong") => Some("较强"),
            Some("moderate") => Some("中等"),
            Some("emerging") => Some("追赶"),
            other => other,
        }
    }
    let mut headers: Vec<(&str, f64)> = vec![
        ("年份", 7.0),
        ("区划代码", 9.0),
        ("县（市、区）", 16.0),
        ("所属市（州）", 12.0),
        ("省份", 9.0),
        ("创新能力指数", 10.0),
        ("排名", 6.0),
        ("市内排名", 7.0),
        ("省内排名", 7.0),
        ("位次变化", 7.0),
        ("CASTED梯队", 8.0),
        ("相对平均", 8.0),
        ("相对水平", 8.0),
    ];
    headers.extend(dims.iter().map(|(n, _)| (*n, 10.0)));
    let ws = wb.add_worksheet().set_name("指数与排名")?;
    sheet(ws, &f, &headers, index.height(), |r, c| match c {
        0 => Cell::Num(years[r], Fmt::Year),
        1 => Cell::Text(code[r]),
        2 => Cell::Text(name[r]),
        3 => Cell::Text(pref[r]),
        4 => Cell::Text(prov[r]),
        5 => Cell::Num(nums[0][r], Fmt::Fixed(1)),
        6..=10 => Cell::Num(nums[c - 5][r], Fmt::Fixed(0)),
        11 => Cell::Num(nums[6][r], Fmt::Percent),
        12 => Cell::Text(group_zh(group[r])),
        _ => Cell::Num(dims[c - 13].1[r], Fmt::Fixed(1)),
    })?;

    // Sheet 2: every indicator of the latest year, with its growth.
    let names: HashMap<&str, &str> = code.iter().zip(&name).filter_map(|(c, n)| Some(((*c)?, (*n)?))).collect();
    let g_year = col_f64(growth, "year")?;
    let latest = g_year.iter().flatten().fold(f64::MIN, |a, &b| a.max(b));
    let rows: Vec<usize> = (0..growth.height()).filter(|&i| g_year[i] == Some(latest)).collect();
    let (g_code, g_ind, g_unit) =
        (col_str(growth, "region_code")?, col_str(growth, "indicator")?, col_str(growth, "change_unit")?);
    let spans: Vec<String> = growth
        .get_column_names()
        .iter()
        .filter(|c| c.starts_with("avg_") && !c.ends_with("_note"))
        .map(|c| c.to_string())
        .collect();
    let mut g_nums: Vec<Vec<Option<f64>>> = vec![col_f64(growth, "value")?, col_f64(growth, "yoy")?];
    for s in &spans {
        g_nums.push(col_f64(growth, s)?);
    }
    let span_headers: Vec<String> =
        spans.iter().map(|s| format!("近{}年年均增长", s.trim_start_matches("avg_").trim_end_matches('y'))).collect();
    let mut headers: Vec<(&str, f64)> = vec![
        ("年份", 7.0),
        ("区划代码", 9.0),
        ("县（市、区）", 16.0),
        ("指标代码", 18.0),
        ("指标", 30.0),
        ("单位", 10.0),
        ("数值", 12.0),
        ("变化单位", 8.0),
        ("同比", 8.0),
    ];
    headers.extend(span_headers.iter().map(|h| (h.as_str(), 10.0)));
    let ws = wb.add_worksheet().set_name("指标与增速")?;
    sheet(ws, &f, &headers, rows.len(), |r, c| {
        let i = rows[r];
        let ind = g_ind[i].and_then(|x| catalog.indicator(x));
        match c {
            0 => Cell::Num(g_year[i], Fmt::Year),
            1 => Cell::Text(g_code[i]),
            2 => Cell::Text(g_code[i].and_then(|x| names.get(x).copied())),
            3 => Cell::Text(g_ind[i]),
            4 => Cell::Text(ind.map(|x| x.name_zh.as_str())),
            5 => Cell::Text(ind.map(|x| x.unit.as_str())),
            6 => Cell::Num(g_nums[0][i], Fmt::Fixed(2)),
            7 => Cell::Owned(g_unit[i].map(|u| if u == "pp" { "百分点".to_string() } else { u.to_string() })),
            _ => Cell::Num(g_nums[c - 7][i], Fmt::Fixed(1)),
        }
    })?;

    // Sheet 3: target attainment.
    let a = |c| col_str(attainment, c);
    let (a_id, a_code, a_ind, a_kind, a_status, a_note) =
        (a("target_id")?, a("region_code")?, a("indicator")?, a("kind")?, a("status")?, a("note")?);
    let a_nums: Vec<Vec<Option<f64>>> = ["eval_year", "actual", "target", "attainment", "needed_per_year", "projected"]
        .iter()
        .map(|c| col_f64(attainment, c))
        .collect::<PolarsResult<_>>()?;
    fn kind_zh(k: Option<&str>) -> Option<&str> {
        match k {
            Some("level") => Some("水平目标"),
            Some("growth") => Some("增速目标"),
            Some("flow") => Some("年度目标"),
            Some("cumulative") => Some("累计目标"),
            other => other,
        }
    }
    fn status_zh(s: Option<&str>) -> Option<&str> {
        match s {
            Some("achieved") => Some("已达成"),
            Some("on_track") => Some("进展顺利"),
            Some("at_risk") => Some("存在风险"),
            Some("off_track") => Some("明显滞后"),
            Some("no_data") => Some("缺少数据"),
            other => other,
        }
    }
    let headers: Vec<(&str, f64)> = vec![
        ("目标", 24.0),
        ("区划代码", 9.0),
        ("县（市、区）", 16.0),
        ("指标", 30.0),
        ("类型", 9.0),
        ("评估年", 7.0),
        ("实际", 12.0),
        ("目标值", 12.0),
        ("达成度", 8.0),
        ("尚需年均", 9.0),
        ("预测", 12.0),
        ("状态", 9.0),
        ("说明", 30.0),
    ];
    let ws = wb.add_worksheet().set_name("目标达成")?;
    sheet(ws, &f, &headers, attainment.height(), |r, c| match c {
        0 => Cell::Text(a_id[r]),
        1 => Cell::Text(a_code[r]),
        2 => Cell::Text(a_code[r].and_then(|x| names.get(x).copied())),
        3 => Cell::Text(a_ind[r].and_then(|x| catalog.indicator(x)).map(|x| x.name_zh.as_str())),
        4 => Cell::Text(kind_zh(a_kind[r])),
        5 => Cell::Num(a_nums[0][r], Fmt::Year),
        6 | 7 | 10 => Cell::Num(a_nums[if c == 10 { 5 } else { c - 5 }][r], Fmt::Fixed(2)),
        8 => Cell::Num(a_nums[3][r], Fmt::Percent),
        9 => Cell::Num(a_nums[4][r], Fmt::Fixed(1)),
        11 => Cell::Text(status_zh(a_status[r])),
        _ => Cell::Text(a_note[r]),
    })?;

    // Sheet 4: how the numbers were made.
    let ws = wb.add_worksheet().set_name("方法说明")?;
    sheet(ws, &f, &[("设置", 28.0), ("数值", 100.0)], method.len(), |r, c| {
        Cell::Text(Some(if c == 0 { method[r].0.as_str() } else { method[r].1.as_str() }))
    })?;

    wb.save(path)?;
    Ok(())
}
