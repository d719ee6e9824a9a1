//! The Excel workbook of the results (`results/results.xlsx`) for bureau staff: Chinese headers,
//! frozen header rows, filters and number formats, built from the result tables.

/// Hashed with foldhash: the keys are codes of the catalog and registry, looked up per row.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use crate::catalog::Catalog;
use crate::codes::Span;
use crate::codes::{ChangeUnit, Verdict};
use crate::labels::{Labels, Lang};
use crate::records::MissingRow;
use crate::results::{AppraisalRow, AttainmentRow, FundingRow, GrowthRow, IndexRow, MethodRow, RegionalAttainmentRow};

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
#[derive(Clone, Copy, PartialEq)]
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
    let format = |fmt: Fmt| match fmt {
        Fmt::Percent => &f.percent,
        Fmt::Year => &f.year,
        Fmt::Fixed(d) => &f.fixed[d.min(3)],
    };
    // A column's first number format becomes the column's: its numbers are written without one
    // and take it when the sheet is saved. A format given per cell is looked up by hashing the
    // whole format, a sixth of the national workbook's time.
    let mut column_fmt: Vec<Option<Fmt>> = vec![None; headers.len()];
    for r in 0..rows {
        let row = r as u32 + 1;
        for (c, fmt_of_column) in column_fmt.iter_mut().enumerate() {
            let col = c as u16;
            match cell(r, c) {
                Cell::Text(Some(s)) => {
                    ws.write_string(row, col, s)?;
                }
                Cell::Owned(Some(s)) => {
                    ws.write_string(row, col, s)?;
                }
                Cell::Num(Some(v), fmt) if v.is_finite() => match *fmt_of_column {
                    Some(same) if same == fmt => {
                        ws.write_number(row, col, v)?;
                    }
                    Some(_) => {
                        ws.write_number_with_format(row, col, v, format(fmt))?;
                    }
                    None => {
                        ws.set_column_format(col, format(fmt))?;
                        *fmt_of_column = Some(fmt);
                        ws.write_number(row, col, v)?;
                    }
                },
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

/// The result tables the workbook shows.
pub struct Sheets<'a> {
    pub index: &'a [IndexRow],
    /// The caller's rows: the latest year, to stay within Excel's row limit at national scale.
    pub growth: &'a [GrowthRow],
    pub attainment: &'a [AttainmentRow],
    pub regional: &'a [RegionalAttainmentRow],
    pub method: &'a [MethodRow],
    pub missing: &'a [MissingRow],
    pub funding: &'a [FundingRow],
    pub appraisal: &'a [AppraisalRow],
}

/// Build the workbook from the result tables: index and ranks (all years), indicators with
/// growth, target attainment, funding and appraisal when there are any, and the method. Coded
/// values are worded by the built-in Chinese labels.
pub fn write(path: &Path, s: &Sheets<'_>, catalog: &Catalog) -> Result<(), WorkbookError> {
    let write_error = |message: String| WorkbookError::Write { path: path.to_owned(), message };
    // The xlsx writer panics when its temporary file cannot be written (a full disk): a failure
    // to report, not a crash.
    match quietly(|| build(path, s, catalog)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(write_error(e.to_string())),
        Err(panic) => {
            let what =
                panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
            let full = crate::tables::disk_full(path);
            Err(write_error(match (full, what) {
                (true, _) => std::io::Error::from_raw_os_error(libc::ENOSPC).to_string(),
                (false, Some(w)) => format!("the xlsx writer stopped: {w}"),
                (false, None) => "the xlsx writer stopped".into(),
            }))
        }
    }
}

thread_local! {
    /// Set while a panic is caught and reported as an error: the panic hook stays silent.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f`, a panic in it returned instead of printed.
fn quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info)
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    r
}

/// xlsx errors; `write` adds the path.
type BuildError = Box<dyn std::error::Error + Send + Sync>;

fn build(path: &Path, s: &Sheets<'_>, catalog: &Catalog) -> Result<(), BuildError> {
    let Sheets { index, growth, attainment, regional, method, missing, funding, appraisal } = *s;
    let labels = Labels::builtin(Lang::Zh);
    let mut wb = Workbook::new();
    // Deflate level 2: the workbook is saved on the critical path of `compute`. At national
    // scale the default (6) took 1.1 s for 12.7 MB; level 3 0.38 s for 14.0 MB, level 2 0.29 s
    // for 15.3 MB, level 1 0.19 s but 21.2 MB (BENCHMARKS.md).
    wb.set_zip_compression_level(2);
    // Sheets in low-memory mode: rows go to a temporary file as they are written (the national
    // workbook held ~300 MB of cells otherwise), next to the workbook, not in a shared /tmp.
    if let Some(dir) = path.parent() {
        wb.set_tempdir(dir)?;
    }
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
    let dims: Vec<&crate::catalog::Node> = catalog.dimensions().collect();
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
    headers.extend(dims.iter().map(|g| (g.name_zh.as_str(), 10.0)));
    let ws = wb.add_worksheet_with_low_memory()?.set_name("指数与排名")?;
    let num = |v: Option<u32>| v.map(f64::from);
    sheet(ws, &f, &headers, index.len(), |r, c| {
        let x = &index[r];
        match c {
            0 => Cell::Num(Some(f64::from(x.year)), Fmt::Year),
            1 => Cell::Text(Some(&x.region_code)),
            2 => Cell::Text(Some(&x.region_name)),
            3 => Cell::Text(Some(&x.prefecture_name)),
            4 => Cell::Text(Some(&x.province_name)),
            5 => Cell::Num(x.index, Fmt::Fixed(1)),
            6 => Cell::Num(num(x.rank), Fmt::Fixed(0)),
            7 => Cell::Num(num(x.rank_prefecture), Fmt::Fixed(0)),
            8 => Cell::Num(num(x.rank_province), Fmt::Fixed(0)),
            9 => Cell::Num(x.rank_change.map(f64::from), Fmt::Fixed(0)),
            10 => Cell::Num(num(x.casted_tier), Fmt::Fixed(0)),
            11 => Cell::Num(x.ratio_to_average, Fmt::Percent),
            12 => Cell::Owned(x.ratio_group.map(|g| labels.name("ratio_group_names", g.as_str()))),
            _ => Cell::Num(x.scores.get(&dims[c - 13].code), Fmt::Fixed(1)),
        }
    })?;

    // Sheet 2: the indicators of the given rows, with their growth.
    let names: HashMap<&str, &str> = index.iter().map(|x| (x.region_code.as_str(), x.region_name.as_str())).collect();
    let indicators: HashMap<&str, &crate::catalog::Indicator> =
        catalog.indicators.iter().map(|i| (i.code.as_str(), i)).collect();
    let spans: Vec<crate::codes::Span> = growth
        .first()
        .map(|g| g.changes.0.iter().map(|c| c.span).filter(|s| *s != Span::Years(1)).collect())
        .unwrap_or_default();
    let span_headers: Vec<String> = spans
        .iter()
        .map(|s| match s {
            Span::Years(n) => format!("近{n}年年均增长"),
            Span::Since(b) => format!("{b}年以来年均增长"),
        })
        .collect();
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
    let ws = wb.add_worksheet_with_low_memory()?.set_name("指标与增速")?;
    sheet(ws, &f, &headers, growth.len(), |r, c| {
        let g = &growth[r];
        // Looked up only by the two cells that show it, in a map: the catalog's own lookup is a
        // linear search, and every cell of the national sheet's 140,000 rows made one.
        let ind = || indicators.get(&*g.indicator).copied();
        let change = |s: Span| g.changes.get(s).and_then(|c| c.value);
        match c {
            0 => Cell::Num(Some(f64::from(g.year)), Fmt::Year),
            1 => Cell::Text(Some(&g.region_code)),
            2 => Cell::Text(names.get(&*g.region_code).copied()),
            3 => Cell::Text(Some(&g.indicator)),
            4 => Cell::Text(ind().map(|x| x.name_zh.as_str())),
            5 => Cell::Text(ind().map(|x| x.unit.as_str())),
            6 => Cell::Num(g.value, Fmt::Fixed(2)),
            7 => Cell::Text(Some(match g.change_unit {
                ChangeUnit::Points => "百分点",
                ChangeUnit::Percent => "%",
            })),
            8 => Cell::Num(change(Span::Years(1)), Fmt::Fixed(1)),
            _ => Cell::Num(change(spans[c - 9]), Fmt::Fixed(1)),
        }
    })?;

    // Sheet 3: target attainment.
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
    let ws = wb.add_worksheet_with_low_memory()?.set_name("目标达成")?;
    sheet(ws, &f, &headers, attainment.len(), |r, c| {
        let a = &attainment[r];
        match c {
            0 => Cell::Text(Some(&a.target_id)),
            1 => Cell::Text(Some(&a.region_code)),
            2 => Cell::Text(names.get(a.region_code.as_str()).copied()),
            3 => Cell::Text(catalog.indicator(&a.indicator).map(|x| x.name_zh.as_str())),
            4 => Cell::Owned(Some(labels.name("kind_names", a.kind.as_str()))),
            5 => Cell::Num(a.eval_year.map(f64::from), Fmt::Year),
            6 => Cell::Num(a.actual, Fmt::Fixed(2)),
            7 => Cell::Num(a.target, Fmt::Fixed(2)),
            8 => Cell::Num(a.attainment, Fmt::Percent),
            9 => Cell::Num(a.needed_per_year, Fmt::Fixed(1)),
            10 => Cell::Num(a.projected, Fmt::Fixed(2)),
            11 => Cell::Owned(Some(labels.name("status_names", a.status.as_str()))),
            _ => Cell::Owned(a.note.as_ref().map(|n| labels.note(n))),
        }
    })?;

    // Targets of regions as a whole, only when there are any.
    if !regional.is_empty() {
        let headers = [
            ("目标", 24.0),
            ("地区代码", 9.0),
            ("指标", 30.0),
            ("类型", 9.0),
            ("汇总", 7.0),
            ("评估年", 7.0),
            ("实际", 12.0),
            ("目标值", 12.0),
            ("达成度", 8.0),
            ("基期值", 12.0),
            ("文件所述基期", 12.0),
            ("状态", 9.0),
            ("说明", 30.0),
        ];
        let ws = wb.add_worksheet_with_low_memory()?.set_name("区域目标")?;
        sheet(ws, &f, &headers, regional.len(), |r, c| {
            let a = &regional[r];
            match c {
                0 => Cell::Text(Some(&a.target_id)),
                1 => Cell::Text(Some(&a.region_code)),
                2 => Cell::Text(catalog.indicator(&a.indicator).map(|x| x.name_zh.as_str())),
                3 => Cell::Owned(Some(labels.name("kind_names", a.kind.as_str()))),
                4 => Cell::Owned(a.measure.map(|m| labels.name("region_measure", m.as_str()))),
                5 => Cell::Num(a.eval_year.map(f64::from), Fmt::Year),
                6 => Cell::Num(a.actual, Fmt::Fixed(2)),
                7 => Cell::Num(a.target, Fmt::Fixed(2)),
                8 => Cell::Num(a.attainment, Fmt::Percent),
                9 => Cell::Num(a.base_value, Fmt::Fixed(2)),
                10 => Cell::Num(a.baseline, Fmt::Fixed(2)),
                11 => Cell::Owned(Some(labels.name("status_names", a.status.as_str()))),
                _ => Cell::Owned(a.note.as_ref().map(|n| labels.note(n))),
            }
        })?;
    }

    // Counties that sent nothing (coverage = "warn"), only when there are any.
    if !missing.is_empty() {
        let imputed = method.iter().any(|m| m.key == "compute.imputation" && m.value != "none");
        let treatment = if imputed { "已按缺失值插补设置补齐" } else { "不参与当年排名" };
        let headers =
            [("年份", 7.0), ("区划代码", 9.0), ("县（市、区）", 16.0), ("所属市（州）", 12.0), ("处理", 24.0)];
        let ws = wb.add_worksheet_with_low_memory()?.set_name("未报送")?;
        sheet(ws, &f, &headers, missing.len(), |r, c| {
            let m = &missing[r];
            match c {
                0 => Cell::Num(Some(f64::from(m.year)), Fmt::Year),
                1 => Cell::Text(Some(&m.region_code)),
                2 => Cell::Text(Some(&m.region_name)),
                3 => Cell::Text(Some(&m.prefecture_name)),
                _ => Cell::Text(Some(treatment)),
            }
        })?;
    }

    // 绩效拨款 and 考评, when configured.
    if !funding.is_empty() {
        let headers = [
            ("年份", 7.0),
            ("区划代码", 9.0),
            ("县（市、区）", 16.0),
            ("所属市（州）", 12.0),
            ("创新能力指数", 10.0),
            ("指数变化", 9.0),
            ("排名", 6.0),
            ("梯队", 8.0),
            ("基础额", 9.0),
            ("梯队奖励", 9.0),
            ("指数部分", 9.0),
            ("提高部分", 9.0),
            ("名次部分", 9.0),
            ("调整", 8.0),
            ("金额（万元）", 11.0),
            ("占总额", 8.0),
            ("90%区间下限", 10.0),
            ("90%区间上限", 10.0),
            ("稳健", 6.0),
        ];
        let ws = wb.add_worksheet_with_low_memory()?.set_name("绩效拨款")?;
        sheet(ws, &f, &headers, funding.len(), |r, c| {
            let x = &funding[r];
            match c {
                0 => Cell::Num(Some(f64::from(x.year)), Fmt::Year),
                1 => Cell::Text(Some(&x.region_code)),
                2 => Cell::Text(Some(&x.region_name)),
                3 => Cell::Text(Some(&x.prefecture_name)),
                4 => Cell::Num(x.index, Fmt::Fixed(1)),
                5 => Cell::Num(x.index_change, Fmt::Fixed(1)),
                6 => Cell::Num(x.rank.map(f64::from), Fmt::Fixed(0)),
                7 => Cell::Owned(x.casted_tier.map(|t| labels.name("tier_names", &t.to_string()))),
                8 => Cell::Num(Some(x.base_amount), Fmt::Fixed(1)),
                9 => Cell::Num(Some(x.tier_award), Fmt::Fixed(1)),
                10 => Cell::Num(x.index_part, Fmt::Fixed(1)),
                11 => Cell::Num(x.improvement_part, Fmt::Fixed(1)),
                12 => Cell::Num(x.rank_gain_part, Fmt::Fixed(1)),
                13 => Cell::Num(Some(x.adjustment), Fmt::Fixed(1)),
                14 => Cell::Num(Some(x.amount), Fmt::Fixed(1)),
                15 => Cell::Num(Some(x.share_of_budget), Fmt::Percent),
                16 => Cell::Num(x.p05, Fmt::Fixed(1)),
                17 => Cell::Num(x.p95, Fmt::Fixed(1)),
                _ => Cell::Text(x.robust.map(|b| if b { "是" } else { "否" })),
            }
        })?;
    }
    if method.iter().any(|m| m.key == "appraisal") {
        let headers = [
            ("年份", 7.0),
            ("区划代码", 9.0),
            ("县（市、区）", 16.0),
            ("所属市（州）", 12.0),
            ("考评结果", 10.0),
            ("理由", 16.0),
            ("排名", 6.0),
            ("位次变化", 8.0),
            ("创新能力指数", 10.0),
            ("指数变化", 9.0),
            ("梯队", 8.0),
            ("稳健", 6.0),
        ];
        let ws = wb.add_worksheet_with_low_memory()?.set_name("考评结果")?;
        sheet(ws, &f, &headers, appraisal.len(), |r, c| {
            let x = &appraisal[r];
            match c {
                0 => Cell::Num(Some(f64::from(x.year)), Fmt::Year),
                1 => Cell::Text(Some(&x.region_code)),
                2 => Cell::Text(Some(&x.region_name)),
                3 => Cell::Text(Some(&x.prefecture_name)),
                4 => Cell::Text(Some(if x.verdict == Verdict::Advanced { "考评先进" } else { "退步明显" })),
                5 => Cell::Owned(Some(
                    [(x.leading, "leading"), (x.improved, "improved")]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, k)| labels.name("reason_names", k))
                        .collect::<Vec<_>>()
                        .join("、"),
                )),
                6 => Cell::Num(x.rank.map(f64::from), Fmt::Fixed(0)),
                7 => Cell::Num(x.rank_change.map(f64::from), Fmt::Fixed(0)),
                8 => Cell::Num(x.index, Fmt::Fixed(1)),
                9 => Cell::Num(x.index_change, Fmt::Fixed(1)),
                10 => Cell::Owned(x.casted_tier.map(|t| labels.name("tier_names", &t.to_string()))),
                _ => Cell::Text(x.robust.map(|b| if b { "是" } else { "否" })),
            }
        })?;
    }

    // Sheet 4: how the numbers were made.
    let ws = wb.add_worksheet_with_low_memory()?.set_name("方法说明")?;
    sheet(ws, &f, &[("设置", 28.0), ("数值", 100.0)], method.len(), |r, c| {
        Cell::Text(Some(if c == 0 { method[r].key.as_str() } else { method[r].value.as_str() }))
    })?;

    wb.save(path)?;
    Ok(())
}
