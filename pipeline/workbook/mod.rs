//! The Excel workbook of the results (`results/results.xlsx`) for bureau staff: Chinese headers,
//! frozen header rows, filters and number formats, built from the result tables.

/// Hashed with foldhash: the keys are codes of the catalog and registry, looked up per row.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::path::Path;

use crate::catalog::Catalog;
use crate::codes::Span;
use crate::codes::{ChangeUnit, Verdict};
use crate::labels::{Labels, Lang};
use crate::records::MissingRow;
use crate::results::{
    AppraisalRow, AttainmentRow, FundingRow, GrowthRows, IndexTable, MethodRow, RegionalAttainmentRow,
};

mod xlsx;
use xlsx::{Cell, Fmt, Sheet};

/// The workbook's file name inside the results directory.
pub const FILE: &str = "results.xlsx";

#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("cannot write workbook {path}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: xlsx::XlsxError,
    },
}

/// The result tables the workbook shows.
pub struct Sheets<'a> {
    pub index: &'a dyn IndexTable,
    /// The caller's rows: the latest year, to stay within Excel's row limit at national scale.
    pub growth: &'a dyn GrowthRows,
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
    let Sheets { index, growth, attainment, regional, method, missing, funding, appraisal } = *s;
    let labels = &Labels::builtin(Lang::Zh);
    let dims: &[&crate::catalog::Node] = &catalog.dimensions().collect::<Vec<_>>();
    let names: &HashMap<&str, &str> =
        &(0..index.rows()).map(|r| index.row(r)).map(|x| (x.region_code, x.region_name)).collect();
    let indicators: &HashMap<&str, &crate::catalog::Indicator> =
        &catalog.indicators.iter().map(|i| (i.code.as_str(), i)).collect();
    // Year-on-year has its own column; the other measures follow it.
    let spans = growth.measures().get(1..).unwrap_or_default();
    let span_headers: &[String] = &spans
        .iter()
        .map(|s| match s {
            Span::Years(n) => format!("近{n}年年均增长"),
            Span::Since(b) => format!("{b}年以来年均增长"),
        })
        .collect::<Vec<_>>();
    let mut sheets: Vec<Sheet<'_>> = Vec::new();

    // Index and ranks, every county and year.
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
    let num = |v: Option<u32>| v.map(f64::from);
    let dim_scores: Vec<Option<&[Option<f64>]>> = dims.iter().map(|g| index.scores(&g.code)).collect();
    sheets.push(Sheet {
        name: "指数与排名",
        headers,
        rows: index.rows(),
        cell: Box::new(move |r, c| {
            let x = index.row(r);
            match c {
                0 => Cell::Num(Some(f64::from(x.year)), Fmt::Year),
                1 => Cell::Text(Some(x.region_code)),
                2 => Cell::Text(Some(x.region_name)),
                3 => Cell::Text(Some(x.prefecture_name)),
                4 => Cell::Text(Some(x.province_name)),
                5 => Cell::Num(x.index, Fmt::Fixed(1)),
                6 => Cell::Num(num(x.rank), Fmt::Fixed(0)),
                7 => Cell::Num(num(x.rank_prefecture), Fmt::Fixed(0)),
                8 => Cell::Num(num(x.rank_province), Fmt::Fixed(0)),
                9 => Cell::Num(x.rank_change.map(f64::from), Fmt::Fixed(0)),
                10 => Cell::Num(num(x.casted_tier), Fmt::Fixed(0)),
                11 => Cell::Num(x.ratio_to_average, Fmt::Percent),
                12 => Cell::Owned(x.ratio_group.map(|g| labels.name("ratio_group_names", g.as_str()))),
                _ => Cell::Num(dim_scores[c - 13].and_then(|s| s[r]), Fmt::Fixed(1)),
            }
        }),
    });

    // The indicators of the given rows, with their growth.
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
    sheets.push(Sheet {
        name: "指标与增速",
        headers,
        rows: growth.rows(),
        cell: Box::new(move |r, c| {
            let g = growth.row(r);
            // Looked up only by the two cells that show it, in a map: the catalog's own lookup is a
            // linear search, and every cell of the national sheet's 140,000 rows made one.
            let ind = || indicators.get(g.indicator).copied();
            match c {
                0 => Cell::Num(Some(f64::from(g.year)), Fmt::Year),
                1 => Cell::Text(Some(g.region_code)),
                2 => Cell::Text(names.get(g.region_code).copied()),
                3 => Cell::Text(Some(g.indicator)),
                4 => Cell::Text(ind().map(|x| x.name_zh.as_str())),
                5 => Cell::Text(ind().map(|x| x.unit.as_str())),
                6 => Cell::Num(g.value, Fmt::Fixed(2)),
                7 => Cell::Text(Some(match g.change_unit {
                    ChangeUnit::Points => "百分点",
                    ChangeUnit::Percent => "%",
                })),
                _ => Cell::Num(growth.change(r, c - 8), Fmt::Fixed(1)),
            }
        }),
    });

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
    sheets.push(Sheet {
        name: "目标达成",
        headers: headers.to_vec(),
        rows: attainment.len(),
        cell: Box::new(move |r, c| {
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
        }),
    });

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
        sheets.push(Sheet {
            name: "区域目标",
            headers: headers.to_vec(),
            rows: regional.len(),
            cell: Box::new(move |r, c| {
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
            }),
        });
    }

    // Counties that sent nothing (coverage = "warn"), only when there are any.
    if !missing.is_empty() {
        let imputed = method.iter().any(|m| m.key == "compute.imputation" && m.value != "none");
        let treatment = if imputed { "已按缺失值插补设置补齐" } else { "不参与当年排名" };
        let headers =
            [("年份", 7.0), ("区划代码", 9.0), ("县（市、区）", 16.0), ("所属市（州）", 12.0), ("处理", 24.0)];
        sheets.push(Sheet {
            name: "未报送",
            headers: headers.to_vec(),
            rows: missing.len(),
            cell: Box::new(move |r, c| {
                let m = &missing[r];
                match c {
                    0 => Cell::Num(Some(f64::from(m.year)), Fmt::Year),
                    1 => Cell::Text(Some(&m.region_code)),
                    2 => Cell::Text(Some(&m.region_name)),
                    3 => Cell::Text(Some(&m.prefecture_name)),
                    _ => Cell::Text(Some(treatment)),
                }
            }),
        });
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
        sheets.push(Sheet {
            name: "绩效拨款",
            headers: headers.to_vec(),
            rows: funding.len(),
            cell: Box::new(move |r, c| {
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
            }),
        });
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
        sheets.push(Sheet {
            name: "考评结果",
            headers: headers.to_vec(),
            rows: appraisal.len(),
            cell: Box::new(move |r, c| {
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
            }),
        });
    }

    // Sheet 4: how the numbers were made.
    sheets.push(Sheet {
        name: "方法说明",
        headers: vec![("设置", 28.0), ("数值", 100.0)],
        rows: method.len(),
        cell: Box::new(move |r, c| {
            Cell::Text(Some(if c == 0 { method[r].key.as_str() } else { method[r].value.as_str() }))
        }),
    });

    // Deflate level 2: the workbook is written on the critical path of `compute`. At national
    // scale the default (6) took 1.1 s for 12.7 MB; level 3 0.38 s for 14.0 MB, level 2 0.29 s
    // for 15.3 MB, level 1 0.19 s but 21.2 MB (BENCHMARKS.md).
    xlsx::write(path, "县域创新能力监测结果", 2, &sheets)
        .map_err(|source| WorkbookError::Write { path: path.to_owned(), source })
}
