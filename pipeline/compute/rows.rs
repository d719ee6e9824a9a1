//! Rows of the result tables from what compute produced: the dense panel and the index result,
//! unrolled row by row, and the big panel-shaped tables as frames built column by column.

use std::ops::Range;
use std::sync::Arc;

use polars::prelude::{Column, DataFrame, IdxSize, PolarsResult};

use super::sensitivity::Analysis;
use super::{Computed, GrowthSettings};
use crate::catalog::{Catalog, Kind};
use crate::compute::index::{Method, Panel};
use crate::results::*;
use crate::tables::{self, Field};

/// Shared codes of the panel's counties and indicators: one allocation each, cloned per row.
fn codes<'a>(it: impl Iterator<Item = &'a str>) -> Vec<Arc<str>> {
    it.map(Arc::from).collect()
}

/// The index table row by row: what `index_frames` and `IndexView` are tested against.
pub fn index_rows(c: &Computed, catalog: &Catalog) -> Vec<IndexRow> {
    let (p, r) = (&c.scored, &c.index);
    let n = p.units.len();
    let groups: Vec<(Arc<str>, &Vec<Option<f64>>)> =
        catalog.groups.iter().map(|g| (Arc::from(g.code.as_str()), &r.scores[&g.code])).collect();
    let index = &r.scores[&catalog.index.code];
    // Each county's texts made once and shared by its rows (a year's rows at national scale).
    let texts: Vec<[Arc<str>; 6]> = p
        .units
        .iter()
        .map(|u| {
            [&u.code, &u.name, &u.prefecture_code, &u.prefecture_name, &u.province_code, &u.province_name]
                .map(|t| Arc::from(t.as_str()))
        })
        .collect();
    use rayon::prelude::*;
    (0..p.rows())
        .into_par_iter()
        .map(|i| {
            let u = &p.units[i % n];
            let [code, name, prefecture_code, prefecture_name, province_code, province_name] = texts[i % n].clone();
            IndexRow {
                region_code: code,
                year: p.years[i / n],
                region_name: name,
                prefecture_code,
                prefecture_name,
                province_code,
                province_name,
                index: index[i],
                rank: r.rank[i],
                rank_prefecture: r.rank_prefecture[i],
                rank_province: r.rank_province[i],
                peer_group: u.peer_group.clone(),
                rank_peer: r.rank_peer[i],
                rank_change: r.rank_change[i],
                casted_tier: r.casted_tier[i].map(u32::from),
                ratio_to_average: r.ratio_to_average[i],
                ratio_group: r.ratio_group[i],
                indicators_present: p.values.iter().filter(|col| col[i].is_some()).count() as u32,
                scores: Wide(groups.iter().map(|(g, s)| (g.clone(), s[i])).collect()),
            }
        })
        .collect()
}

/// The index table's rows (those of `index_rows`: the scored panel's rows in order), for the
/// workbook.
pub struct IndexView<'a> {
    c: &'a Computed,
    index: &'a [Option<f64>],
    /// The catalog's groups (the `score_<group>` columns) and their scores.
    groups: Vec<(&'a str, &'a [Option<f64>])>,
}

impl<'a> IndexView<'a> {
    pub fn new(c: &'a Computed, catalog: &'a Catalog) -> Self {
        let groups = catalog.groups.iter().map(|g| (g.code.as_str(), c.index.scores[&g.code].as_slice())).collect();
        IndexView { c, index: &c.index.scores[&catalog.index.code], groups }
    }
}

impl IndexTable for IndexView<'_> {
    fn rows(&self) -> usize {
        self.c.scored.rows()
    }
    fn row(&self, i: usize) -> IndexCells<'_> {
        let (p, r) = (&self.c.scored, &self.c.index);
        let n = p.units.len();
        let u = &p.units[i % n];
        IndexCells {
            region_code: &u.code,
            year: p.years[i / n],
            region_name: &u.name,
            prefecture_name: &u.prefecture_name,
            province_name: &u.province_name,
            index: self.index[i],
            rank: r.rank[i],
            rank_prefecture: r.rank_prefecture[i],
            rank_province: r.rank_province[i],
            rank_change: r.rank_change[i],
            casted_tier: r.casted_tier[i].map(u32::from),
            ratio_to_average: r.ratio_to_average[i],
            ratio_group: r.ratio_group[i],
        }
    }
    fn scores(&self, code: &str) -> Option<&[Option<f64>]> {
        self.groups.iter().find(|(g, _)| *g == code).map(|(_, s)| *s)
    }
}

/// Every aggregate node's score and rank, node by node.
pub fn score_rows(c: &Computed) -> impl Iterator<Item = ScoreRow> + '_ {
    let (p, r) = (&c.scored, &c.index);
    let n = p.units.len();
    let units = codes(p.units.iter().map(|u| u.code.as_str()));
    r.nodes.iter().flat_map(move |node| {
        let code: Arc<str> = Arc::from(node.code.as_str());
        let (scores, ranks) = (&r.scores[&node.code], &r.node_rank[&node.code]);
        let units = units.clone();
        (0..p.rows()).map(move |i| ScoreRow {
            region_code: units[i % n].clone(),
            year: p.years[i / n],
            node: code.clone(),
            level: node.level as u32,
            score: scores[i],
            rank: ranks[i],
        })
    })
}

/// Every scored indicator through imputation, treatment and normalisation, indicator by indicator.
pub fn normalised_rows(c: &Computed) -> impl Iterator<Item = NormalisedRow> + '_ {
    let (p, r) = (&c.scored, &c.index);
    let n = p.units.len();
    let units = codes(p.units.iter().map(|u| u.code.as_str()));
    p.indicators.iter().enumerate().flat_map(move |(k, ind)| {
        let code: Arc<str> = Arc::from(ind.as_str());
        let units = units.clone();
        (0..p.rows()).map(move |i| NormalisedRow {
            region_code: units[i % n].clone(),
            year: p.years[i / n],
            indicator: code.clone(),
            raw: p.values[k][i],
            imputed_value: r.imputed[k][i],
            imputed: r.was_imputed[k][i],
            treated_value: r.treated[k][i],
            treated: r.treated[k][i] != r.imputed[k][i],
            normalised: r.normalised[k][i],
        })
    })
}

pub fn weight_rows(c: &Computed, method: &Method) -> Vec<WeightRow> {
    c.index
        .weights
        .iter()
        .map(|w| WeightRow {
            node: w.node.clone(),
            child: w.child.clone(),
            level: w.level as u32,
            catalog_weight: w.catalog,
            effective_weight: w.effective,
            scheme: method.weights,
            year: w.year,
        })
        .collect()
}

pub fn treatment_rows(c: &Computed) -> Vec<TreatmentRow> {
    c.index
        .treatments
        .iter()
        .map(|t| TreatmentRow {
            indicator: t.indicator.clone(),
            year: t.year,
            skew_before: t.detail.skew_before,
            kurtosis_before: t.detail.kurt_before,
            treated: !t.detail.pass_before,
            winsorised_points: t.detail.winsorised as u32,
            log_transformed: t.detail.log_transformed,
            skew_after: t.detail.skew_after,
            kurtosis_after: t.detail.kurt_after,
        })
        .collect()
}

/// Growth of every catalog indicator, indicator by indicator; only `year`'s rows when given.
pub fn growth_rows<'a>(
    c: &'a Computed,
    catalog: &'a Catalog,
    year: Option<i32>,
) -> impl Iterator<Item = GrowthRow> + 'a {
    let g = &c.panel;
    let n = g.units.len();
    let units = codes(g.units.iter().map(|u| u.code.as_str()));
    let rows: Vec<usize> = match year.and_then(|y| g.years.iter().position(|&x| x == y)) {
        Some(yi) => (yi * n..(yi + 1) * n).collect(),
        None if year.is_some() => Vec::new(),
        None => (0..g.rows()).collect(),
    };
    g.indicators.iter().enumerate().flat_map(move |(k, ind)| {
        let code: Arc<str> = Arc::from(ind.as_str());
        let kind = kind_of(catalog, ind);
        let unit = change_unit(kind);
        let (units, rows) = (units.clone(), rows.clone());
        rows.into_iter().map(move |i| GrowthRow {
            region_code: units[i % n].clone(),
            year: g.years[i / n],
            indicator: code.clone(),
            kind,
            value: g.values[k][i],
            change_unit: unit,
            changes: Changes(
                (c.growth.spans.iter().enumerate())
                    .map(|(m, &span)| {
                        let (value, note) = c.growth.cell(g, m, k, i);
                        Change { span, value, note }
                    })
                    .collect(),
            ),
        })
    })
}

/// The growth rows of `year` (as `growth_rows(.., Some(year))` makes them), for the workbook.
pub struct YearGrowth<'a> {
    c: &'a Computed,
    /// The panel rows of the year.
    rows: Range<usize>,
    units: Vec<ChangeUnit>,
}

impl<'a> YearGrowth<'a> {
    pub fn new(c: &'a Computed, catalog: &Catalog, year: i32) -> Self {
        let g = &c.panel;
        let n = g.units.len();
        let rows = g.years.iter().position(|&y| y == year).map_or(0..0, |yi| yi * n..(yi + 1) * n);
        let units = g.indicators.iter().map(|ind| change_unit(kind_of(catalog, ind))).collect();
        YearGrowth { c, rows, units }
    }
    /// Row `r`'s indicator and panel row.
    fn at(&self, r: usize) -> (usize, usize) {
        let n = self.rows.len();
        (r / n, self.rows.start + r % n)
    }
}

impl GrowthRows for YearGrowth<'_> {
    fn rows(&self) -> usize {
        self.rows.len() * self.c.panel.indicators.len()
    }
    fn measures(&self) -> &[crate::codes::Span] {
        &self.c.growth.spans
    }
    fn row(&self, r: usize) -> GrowthCells<'_> {
        let (k, i) = self.at(r);
        let g = &self.c.panel;
        GrowthCells {
            region_code: &g.units[i % g.units.len()].code,
            year: g.years[i / g.units.len()],
            indicator: &g.indicators[k],
            value: g.values[k][i],
            change_unit: self.units[k],
        }
    }
    fn change(&self, r: usize, m: usize) -> Option<f64> {
        let (k, i) = self.at(r);
        self.c.growth.cell(&self.c.panel, m, k, i).0
    }
}

/// One row per county and year with a rank; none when the analysis is off, so the file exists.
pub fn uncertainty_rows(c: &Computed) -> Vec<UncertaintyRow> {
    let Some(sa) = &c.sensitivity else { return Vec::new() };
    let p = &c.scored;
    let n = p.units.len();
    sa.intervals
        .iter()
        .enumerate()
        .filter(|(_, iv)| iv.nominal.is_some() || iv.p05.is_some())
        .map(|(i, iv)| UncertaintyRow {
            region_code: p.units[i % n].code.clone(),
            year: p.years[i / n],
            nominal_rank: iv.nominal,
            median_rank: iv.median,
            p05_rank: iv.p05,
            p95_rank: iv.p95,
            same_tier_share: iv.same_tier,
            runs: sa.runs as u32,
        })
        .collect()
}

pub fn sensitivity_rows(c: &Computed) -> Vec<SensitivityRow> {
    let Some(Analysis { indices, runs, .. }) = &c.sensitivity else { return Vec::new() };
    indices
        .iter()
        .map(|x| SensitivityRow {
            factor: x.factor,
            options: x.options.clone(),
            first_order: x.first_order,
            total: x.total,
            runs: *runs as u32,
        })
        .collect()
}

/// How the numbers were made, as key and value: the `method` table and every file's footer.
pub fn method_rows(
    method: &Method,
    growth: &GrowthSettings,
    catalog: &Catalog,
    evaluation: &crate::compute::Evaluation,
) -> Vec<MethodRow> {
    let mut kv: Vec<MethodRow> = Vec::new();
    let mut push = |key: String, value: String| kv.push(MethodRow { key, value });
    if let serde_json::Value::Object(m) = serde_json::to_value(method).expect("method serialises") {
        for (k, v) in m {
            push(format!("compute.{k}"), v.to_string().trim_matches('"').to_string());
        }
    }
    // The consistency of every AHP matrix the weights came from.
    let ahp_used = method.weights == crate::codes::WeightScheme::Ahp
        || (method.weights == crate::codes::WeightScheme::Combined
            && method.combine.subjective == crate::codes::WeightScheme::Ahp);
    if ahp_used {
        for cmp in &catalog.ahp {
            if let Ok(a) = crate::compute::methods::ahp(&cmp.matrix) {
                push(
                    "ahp".into(),
                    format!(
                        "{}: CR = {:.3}, λmax = {:.3}, CI = {:.3}, RI = {:.2} (n = {})",
                        cmp.node,
                        a.cr,
                        a.lambda_max,
                        a.ci,
                        a.ri,
                        cmp.order.len()
                    ),
                );
            }
        }
    }
    push("growth.spans".into(), format!("{:?}", growth.spans));
    push("growth.base_year".into(), growth.base_year.map_or("none".into(), |b| b.to_string()));
    push("catalog".into(), catalog.path.display().to_string());
    // As JSON: the reports word the formula from what was computed, not from today's config.
    if let Some(f) = &evaluation.funding {
        push("funding".into(), serde_json::to_string(f).expect("settings serialise"));
    }
    if let Some(a) = &evaluation.appraisal {
        push("appraisal".into(), serde_json::to_string(a).expect("settings serialise"));
    }
    push(
        "conventions".into(),
        "direction multiplied in before normalising; min-max (x−min)/(max−min)·(u−l)+l; z-score with the sd chosen by zscore_sd (sample by default); \
         ranks: ties take the minimum; weighted means skip missing values and renormalise the remaining weights; \
         outliers (COINr): a year's column is treated when |skew| ≥ 2 and kurtosis ≥ 3.5, winsorising up to 5 points, \
         else log(x − min + 0.01·(max − min)); growth 水平法, ratios in percentage points"
            .into(),
    );
    kv
}

fn kind_of(catalog: &Catalog, indicator: &str) -> Kind {
    catalog.indicator(indicator).map_or(Kind::Amount, |m| m.kind)
}

/// Ratios change in percentage points, everything else in percent.
fn change_unit(kind: Kind) -> ChangeUnit {
    if kind == Kind::Ratio {
        ChangeUnit::Points
    } else {
        ChangeUnit::Percent
    }
}

/// A table laid out series by series (indicator or node) over the panel's `rows`, as frames of
/// at most `tables::BATCH` rows, each built by `frame` from its range of table rows. Built
/// column by column from the panel's own columns: at national scale the growth table took 0.8 s
/// through a million row structs. An empty table is one empty frame, so its file is written.
fn series_frames<'a>(
    series: usize,
    rows: usize,
    frame: impl Fn(Range<usize>) -> PolarsResult<DataFrame> + Send + Sync + 'a,
) -> impl Iterator<Item = impl FnOnce() -> PolarsResult<DataFrame> + Send + 'a> + 'a {
    let total = series * rows;
    let frame = Arc::new(frame);
    (0..total.div_ceil(tables::BATCH).max(1)).map(move |b| {
        let frame = frame.clone();
        move || frame(b * tables::BATCH..((b + 1) * tables::BATCH).min(total))
    })
}

/// The (series, panel row) of each table row in `range`.
fn cells(range: &Range<usize>, rows: usize) -> impl Iterator<Item = (usize, usize)> {
    range.clone().map(move |x| (x / rows, x % rows))
}

/// One column of a frame, written by the row field's own `Field` impl (the same column as
/// `Row::to_frame` makes).
fn column<T: Field>(name: &str, values: impl Iterator<Item = T>) -> Column {
    let values: Vec<T> = values.collect();
    let mut out = Vec::with_capacity(1);
    T::write(name, &values.iter().collect::<Vec<&T>>(), &mut out);
    out.pop().expect("a plain field writes one column")
}

/// A string column of the panel's codes (`distinct[index]`), as `Arc<str>` fields are written.
fn codes_column(name: &str, distinct: &[&str], index: impl Iterator<Item = usize>) -> Column {
    tables::gathered(name, distinct, &index.map(|i| Some(i as IdxSize)).collect::<Vec<_>>())
}

/// The first columns of a table laid out series by series over `p`'s rows: the county, the year
/// and the series (`name`, `codes[series]`), as the row types' `Arc<str>` fields are written.
fn key_columns(p: &Panel, (name, codes): (&str, &[&str]), range: &Range<usize>) -> Vec<Column> {
    let (n, rows) = (p.units.len(), p.rows());
    let units: Vec<&str> = p.units.iter().map(|u| u.code.as_str()).collect();
    vec![
        codes_column("region_code", &units, cells(range, rows).map(|(_, i)| i % n)),
        column("year", cells(range, rows).map(|(_, i)| p.years[i / n])),
        codes_column(name, codes, cells(range, rows).map(|(k, _)| k)),
    ]
}

/// `growth.parquet` as frames: the columns of `GrowthRow` and the rows of `growth_rows(.., None)`.
pub fn growth_frames<'a>(
    c: &'a Computed,
    catalog: &'a Catalog,
) -> impl Iterator<Item = impl FnOnce() -> PolarsResult<DataFrame> + Send + 'a> + 'a {
    let g = &c.panel;
    let rows = g.rows();
    let indicators: Vec<&str> = g.indicators.iter().map(String::as_str).collect();
    let kinds: Vec<Kind> = g.indicators.iter().map(|ind| kind_of(catalog, ind)).collect();
    series_frames(g.indicators.len(), rows, move |range| {
        let at = || cells(&range, rows);
        let mut cols = key_columns(g, ("indicator", &indicators), &range);
        cols.extend([
            column("kind", at().map(|(k, _)| kinds[k])),
            column("value", at().map(|(k, i)| g.values[k][i])),
            column("change_unit", at().map(|(k, _)| change_unit(kinds[k]))),
        ]);
        for (m, span) in c.growth.spans.iter().enumerate() {
            let (values, notes): (Vec<_>, Vec<_>) = at().map(|(k, i)| c.growth.cell(g, m, k, i)).unzip();
            let name = span.column();
            cols.push(column(&name, values.into_iter()));
            cols.push(column(&format!("{name}_note"), notes.into_iter()));
        }
        DataFrame::new(range.len(), cols)
    })
}

/// `index.parquet` as one frame (one row group, as `tables::write` makes of 41,000 rows): the
/// columns of `IndexRow` and the rows of `index_rows`.
pub fn index_frames<'a>(
    c: &'a Computed,
    catalog: &'a Catalog,
) -> impl Iterator<Item = impl FnOnce() -> PolarsResult<DataFrame> + Send + 'a> + 'a {
    let (p, r) = (&c.scored, &c.index);
    let n = p.units.len();
    let of = |f: fn(&crate::compute::index::Unit) -> &str| p.units.iter().map(f).collect::<Vec<&str>>();
    let texts = [
        of(|u| &u.code),
        of(|u| &u.name),
        of(|u| &u.prefecture_code),
        of(|u| &u.prefecture_name),
        of(|u| &u.province_code),
        of(|u| &u.province_name),
    ];
    let index = r.scores[&catalog.index.code].as_slice();
    let groups: Vec<(String, &[Option<f64>])> =
        catalog.groups.iter().map(|g| (format!("score_{}", g.code), r.scores[&g.code].as_slice())).collect();
    std::iter::once(move || {
        let range = 0..p.rows();
        let at = || range.clone();
        let [codes, names, prefecture_codes, prefecture_names, province_codes, province_names] = &texts;
        let text = |name: &str, distinct: &[&str]| codes_column(name, distinct, at().map(|i| i % n));
        let mut cols = vec![
            text("region_code", codes),
            column("year", at().map(|i| p.years[i / n])),
            text("region_name", names),
            text("prefecture_code", prefecture_codes),
            text("prefecture_name", prefecture_names),
            text("province_code", province_codes),
            text("province_name", province_names),
            column("index", at().map(|i| index[i])),
            column("rank", at().map(|i| r.rank[i])),
            column("rank_prefecture", at().map(|i| r.rank_prefecture[i])),
            column("rank_province", at().map(|i| r.rank_province[i])),
            column("peer_group", at().map(|i| p.units[i % n].peer_group.clone())),
            column("rank_peer", at().map(|i| r.rank_peer[i])),
            column("rank_change", at().map(|i| r.rank_change[i])),
            column("casted_tier", at().map(|i| r.casted_tier[i].map(u32::from))),
            column("ratio_to_average", at().map(|i| r.ratio_to_average[i])),
            column("ratio_group", at().map(|i| r.ratio_group[i])),
            column("indicators_present", at().map(|i| p.values.iter().filter(|col| col[i].is_some()).count() as u32)),
        ];
        cols.extend(groups.iter().map(|(name, scores)| column(name, at().map(|i| scores[i]))));
        DataFrame::new(range.len(), cols)
    })
}

/// `normalised.parquet` as frames: the columns of `NormalisedRow` and the rows of `normalised_rows`.
pub fn normalised_frames(
    c: &Computed,
) -> impl Iterator<Item = impl FnOnce() -> PolarsResult<DataFrame> + Send + '_> + '_ {
    let (p, r) = (&c.scored, &c.index);
    let rows = p.rows();
    let indicators: Vec<&str> = p.indicators.iter().map(String::as_str).collect();
    series_frames(p.indicators.len(), rows, move |range| {
        let at = || cells(&range, rows);
        let mut cols = key_columns(p, ("indicator", &indicators), &range);
        cols.extend([
            column("raw", at().map(|(k, i)| p.values[k][i])),
            column("imputed_value", at().map(|(k, i)| r.imputed[k][i])),
            column("imputed", at().map(|(k, i)| r.was_imputed[k][i])),
            column("treated_value", at().map(|(k, i)| r.treated[k][i])),
            column("treated", at().map(|(k, i)| r.treated[k][i] != r.imputed[k][i])),
            column("normalised", at().map(|(k, i)| r.normalised[k][i])),
        ]);
        DataFrame::new(range.len(), cols)
    })
}

/// `scores.parquet` as frames: the columns of `ScoreRow` and the rows of `score_rows`.
pub fn score_frames(c: &Computed) -> impl Iterator<Item = impl FnOnce() -> PolarsResult<DataFrame> + Send + '_> + '_ {
    let (p, r) = (&c.scored, &c.index);
    let rows = p.rows();
    let nodes: Vec<&str> = r.nodes.iter().map(|x| x.code.as_str()).collect();
    let scores: Vec<&[Option<f64>]> = r.nodes.iter().map(|x| r.scores[&x.code].as_slice()).collect();
    let ranks: Vec<&[Option<u32>]> = r.nodes.iter().map(|x| r.node_rank[&x.code].as_slice()).collect();
    series_frames(r.nodes.len(), rows, move |range| {
        let at = || cells(&range, rows);
        let mut cols = key_columns(p, ("node", &nodes), &range);
        cols.extend([
            column("level", at().map(|(k, _)| r.nodes[k].level as u32)),
            column("score", at().map(|(k, i)| scores[k][i])),
            column("rank", at().map(|(k, i)| ranks[k][i])),
        ]);
        DataFrame::new(range.len(), cols)
    })
}
