//! The result tables in `out/results/`: one row type per table with its columns declared once,
//! the coded values they carry, the one place that writes them all and the figures derived from
//! them for reports and `explain`.
//!
//! `build` turns what compute produced into rows; `derive` holds the pure derivations (movers,
//! leaders, strongest and weakest dimension, tier counts, target summaries).

pub mod derive;

use std::path::Path;
use std::sync::Arc;

pub use crate::codes::{
    AuditFlag, ChangeUnit, Choice, GrowthNote, Note, Options, RatioGroup, Relation, Status, Verdict, Wide,
};

use crate::catalog::Kind;
use crate::codes::Span;
use crate::codes::WeightScheme;
use crate::tables::{self, Field, FieldError, Row, StoreError};
use crate::targets::TargetKind;

crate::table! {
    /// `index`: one row per county and year.
    pub struct IndexRow in "index" {
        region_code: Arc<str>,
        year: i32,
        region_name: Arc<str>,
        prefecture_code: Arc<str>,
        prefecture_name: Arc<str>,
        province_code: Arc<str>,
        province_name: Arc<str>,
        index: Option<f64>,
        rank: Option<u32>,
        rank_prefecture: Option<u32>,
        rank_province: Option<u32>,
        /// The peer group (`[scope] peer_groups`) and the rank within it.
        peer_group: Option<String>,
        rank_peer: Option<u32>,
        /// Last year's rank minus this year's: positive = moved up.
        rank_change: Option<i32>,
        casted_tier: Option<u32>,
        ratio_to_average: Option<f64>,
        ratio_group: Option<RatioGroup>,
        indicators_present: u32,
        /// The dimension scores, by group code (also in `scores`, with their ranks).
        #[col = "score_<group>"]
        scores: Wide,
    }
}

crate::table! {
    /// `scores`: one row per county, year and aggregate node.
    pub struct ScoreRow in "scores" {
        region_code: Arc<str>,
        year: i32,
        node: Arc<str>,
        level: u32,
        score: Option<f64>,
        rank: Option<u32>,
    }
}

crate::table! {
    /// `normalised`: every scored indicator through each step, per county and year.
    pub struct NormalisedRow in "normalised" {
        region_code: Arc<str>,
        year: i32,
        indicator: Arc<str>,
        raw: Option<f64>,
        imputed_value: Option<f64>,
        imputed: bool,
        treated_value: Option<f64>,
        treated: bool,
        normalised: Option<f64>,
    }
}

crate::table! {
    /// `weights`: one row per parent node and child.
    pub struct WeightRow in "weights" {
        node: String,
        child: String,
        level: u32,
        catalog_weight: f64,
        effective_weight: f64,
        scheme: WeightScheme,
        year: Option<i32>,
    }
}

crate::table! {
    /// `treatment`: the outlier check of one indicator's cross-section.
    pub struct TreatmentRow in "treatment" {
        indicator: String,
        year: Option<i32>,
        skew_before: Option<f64>,
        kurtosis_before: Option<f64>,
        treated: bool,
        winsorised_points: u32,
        log_transformed: bool,
        skew_after: Option<f64>,
        kurtosis_after: Option<f64>,
    }
}

crate::table! {
    /// `growth`: one row per county, year and catalog indicator.
    pub struct GrowthRow in "growth" {
        region_code: Arc<str>,
        year: i32,
        indicator: Arc<str>,
        kind: Kind,
        value: Option<f64>,
        change_unit: ChangeUnit,
        /// One change per measure (yoy, then each span), with the reason when it is null.
        #[col = "<measure>"]
        changes: Changes,
    }
}

/// The index rows as the workbook reads them, made cell by cell when read: at national scale
/// 42,660 rows, which took 16 MB at `compute`'s peak when made all at once.
pub trait IndexTable {
    /// How many rows.
    fn rows(&self) -> usize;
    /// Row `r` of the index table, without its dimension scores.
    fn row(&self, r: usize) -> IndexCells<'_>;
    /// Every row's score of the group `code` (`score_<group>`), None for a code that is no group.
    fn scores(&self, code: &str) -> Option<&[Option<f64>]>;
}

/// The columns of an `IndexRow` the workbook shows, before its scores.
pub struct IndexCells<'a> {
    pub region_code: &'a str,
    pub year: i32,
    pub region_name: &'a str,
    pub prefecture_name: &'a str,
    pub province_name: &'a str,
    pub index: Option<f64>,
    pub rank: Option<u32>,
    pub rank_prefecture: Option<u32>,
    pub rank_province: Option<u32>,
    pub rank_change: Option<i32>,
    pub casted_tier: Option<u32>,
    pub ratio_to_average: Option<f64>,
    pub ratio_group: Option<RatioGroup>,
}

/// The growth rows of one year as the workbook reads them, made cell by cell when read: at
/// national scale 142,200 rows, which took 35 MB at `compute`'s peak when made all at once.
pub trait GrowthRows {
    /// How many rows.
    fn rows(&self) -> usize;
    /// The measures in column order: year-on-year, then each span.
    fn measures(&self) -> &[Span];
    /// Row `r`'s county, year, indicator and value.
    fn row(&self, r: usize) -> GrowthCells<'_>;
    /// Row `r`'s change by measure `m` (an index into `measures`).
    fn change(&self, r: usize, m: usize) -> Option<f64>;
}

/// The columns of a `GrowthRow` before its changes.
pub struct GrowthCells<'a> {
    pub region_code: &'a str,
    pub year: i32,
    pub indicator: &'a str,
    pub value: Option<f64>,
    pub change_unit: ChangeUnit,
}

/// The growth measures of one row, in column order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Changes(pub Vec<Change>);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub span: Span,
    pub value: Option<f64>,
    pub note: Option<GrowthNote>,
}

impl Changes {
    pub fn get(&self, span: Span) -> Option<&Change> {
        self.0.iter().find(|c| c.span == span)
    }
}

/// `yoy`, `yoy_note`, `avg_3y`, `avg_3y_note`, …: a value and a note column per measure.
impl Field for Changes {
    fn names(_: &str) -> Vec<String> {
        ["yoy", "yoy_note", "avg_<n>y", "avg_<n>y_note", "since_<base>", "since_<base>_note"].map(String::from).to_vec()
    }
    fn write(_: &str, values: &[&Self], out: &mut Vec<polars::prelude::Column>) {
        let Some(first) = values.first() else { return };
        for (j, c) in first.0.iter().enumerate() {
            let name = c.span.column();
            let v: Vec<Option<f64>> = values.iter().map(|r| r.0.get(j).and_then(|c| c.value)).collect();
            let n: Vec<Option<GrowthNote>> = values.iter().map(|r| r.0.get(j).and_then(|c| c.note)).collect();
            <Option<f64>>::write(&name, &v.iter().collect::<Vec<_>>(), out);
            <Option<GrowthNote>>::write(&format!("{name}_note"), &n.iter().collect::<Vec<_>>(), out);
        }
    }
    fn read(df: &polars::prelude::DataFrame, _: &str) -> Result<Vec<Self>, FieldError> {
        let mut measures = Vec::new();
        for c in df.get_column_names() {
            if let Some(span) = Span::parse(c) {
                let values = <Option<f64>>::read(df, c)?;
                let notes = <Option<GrowthNote>>::read(df, &format!("{c}_note"))?;
                measures.push((span, values, notes));
            }
        }
        Ok((0..df.height())
            .map(|i| Changes(measures.iter().map(|(s, v, n)| Change { span: *s, value: v[i], note: n[i] }).collect()))
            .collect())
    }
}

crate::table! {
    /// `attainment`: one row per target and county it applies to.
    pub struct AttainmentRow in "attainment" {
        target_id: String,
        region_code: String,
        indicator: String,
        kind: TargetKind,
        /// The year judged: the end year, or the latest year with data before it.
        eval_year: Option<i32>,
        /// Level/flow: value in eval_year; cumulative: running sum; growth: realised average growth (%).
        actual: Option<f64>,
        /// Level/flow/cumulative threshold, or the lower end of a growth range (%).
        target: Option<f64>,
        attainment: Option<f64>,
        attainment_capped: Option<f64>,
        /// Growth (%, points for ratios) still needed a year to reach a level target by its end;
        /// cumulative: amount needed per remaining year.
        needed_per_year: Option<f64>,
        /// Value expected at the end year from the recent trend.
        projected: Option<f64>,
        status: Status,
        note: Option<Note>,
    }
}

crate::table! {
    /// `attainment_years`: one year of a flow or cumulative target.
    pub struct AttainmentYearRow in "attainment_years" {
        target_id: String,
        region_code: String,
        year: i32,
        value: Option<f64>,
        running_sum: Option<f64>,
        met: Option<bool>,
        /// A level target's milestone for the year (年度目标分解).
        milestone: Option<f64>,
    }
}

crate::table! {
    /// `attainment_regions`: targets of a region as a whole (its counties' total, average, or
    /// the share of them meeting a condition).
    pub struct RegionalAttainmentRow in "attainment_regions" {
        target_id: String,
        /// The prefecture or province.
        region_code: String,
        indicator: String,
        kind: TargetKind,
        /// sum or mean of the counties' values; none for a share target.
        measure: Option<crate::targets::Aggregate>,
        /// Counties of the region in the evaluation, and (share targets) how many meet the condition.
        counties: u32,
        counties_meeting: Option<u32>,
        eval_year: Option<i32>,
        /// The regional value judged: total, average, realised growth (%), or share of counties (%).
        actual: Option<f64>,
        target: Option<f64>,
        attainment: Option<f64>,
        attainment_capped: Option<f64>,
        needed_per_year: Option<f64>,
        projected: Option<f64>,
        /// The regional value in the base year, and the one the document states.
        base_value: Option<f64>,
        baseline: Option<f64>,
        status: Status,
        note: Option<Note>,
    }
}

crate::table! {
    /// `method`: one row per setting: how the numbers were made.
    pub struct MethodRow in "method" {
        key: String,
        value: String,
    }
}

crate::table! {
    /// `uncertainty`: a county's rank interval over the method replications.
    pub struct UncertaintyRow in "uncertainty" {
        region_code: String,
        year: i32,
        nominal_rank: Option<u32>,
        median_rank: Option<f64>,
        p05_rank: Option<u32>,
        p95_rank: Option<u32>,
        same_tier_share: Option<f64>,
        runs: u32,
    }
}

crate::table! {
    /// `funding`: the 绩效拨款 allocation of the evaluation year, one row per county, and how
    /// solid it is over the sensitivity replications (万元).
    pub struct FundingRow in "funding" {
        year: i32,
        region_code: String,
        region_name: String,
        prefecture_name: String,
        index: Option<f64>,
        /// The index change over the improvement part's years (1 when there is none).
        index_change: Option<f64>,
        rank: Option<u32>,
        rank_change: Option<i32>,
        casted_tier: Option<u32>,
        base_amount: f64,
        tier_award: f64,
        index_part: Option<f64>,
        improvement_part: Option<f64>,
        rank_gain_part: Option<f64>,
        /// Caps, floors, scaled fixed amounts and rounding: the parts + this = amount.
        adjustment: f64,
        amount: f64,
        share_of_budget: f64,
        median: Option<f64>,
        p05: Option<f64>,
        p95: Option<f64>,
        /// Share of replications with the published tier award, and on the published side of the index floor.
        award_kept: Option<f64>,
        above_kept: Option<f64>,
        robust: Option<bool>,
        runs: u32,
    }
}

crate::table! {
    /// `appraisal`: 考评先进 and 退步明显 counties of the evaluation year, with the reason.
    pub struct AppraisalRow in "appraisal" {
        year: i32,
        region_code: String,
        region_name: String,
        prefecture_name: String,
        verdict: Verdict,
        /// 排名前列 (leading tier or top N) and 进步显著 (most improved).
        leading: bool,
        improved: bool,
        index: Option<f64>,
        index_change: Option<f64>,
        rank: Option<u32>,
        rank_change: Option<i32>,
        casted_tier: Option<u32>,
        /// The lead holds over the sensitivity replications.
        robust: Option<bool>,
    }
}

crate::table! {
    /// `sensitivity`: how much one method choice moves the ranks.
    pub struct SensitivityRow in "sensitivity" {
        factor: Choice,
        options: Options,
        first_order: f64,
        total: f64,
        runs: u32,
    }
}

crate::table! {
    /// `audit_alpha`: Cronbach's alpha of the children of every aggregate.
    pub struct AuditAlphaRow in "audit_alpha" {
        /// None: on the pooled panel (every county and year), as a pooled index is normalised.
        year: Option<i32>,
        node: String,
        level: u32,
        children: u32,
        alpha: Option<f64>,
    }
}

crate::table! {
    /// `audit_correlation`: Pearson correlations of the indicators (pairwise-complete).
    pub struct AuditCorrelationRow in "audit_correlation" {
        year: Option<i32>,
        indicator: String,
        /// A node (parent, dimension, index) or, for a pair, the other indicator.
        against: String,
        relation: Relation,
        r: f64,
        p_value: Option<f64>,
        n: u32,
    }
}

crate::table! {
    /// `audit_pca`: the variance explained by each principal component of a dimension.
    pub struct AuditPcaRow in "audit_pca" {
        year: Option<i32>,
        node: String,
        component: u32,
        variance_share: f64,
        cumulative: f64,
        /// County-years with every indicator of the node present.
        rows: u32,
    }
}

crate::table! {
    /// `audit_loadings`: the loadings of a dimension's first principal component.
    pub struct AuditLoadingRow in "audit_loadings" {
        year: Option<i32>,
        node: String,
        indicator: String,
        loading: f64,
    }
}

crate::table! {
    /// `audit_flags`: what the audit found.
    pub struct AuditFlagRow in "audit_flags" {
        year: Option<i32>,
        flag: AuditFlag,
        node: String,
        indicator: Option<String>,
        other: Option<String>,
        /// The alpha, share or correlation that raised it.
        value: f64,
        threshold: f64,
    }
}

/// The data dictionary (`schemas/data-dictionary.toml`): every table, column and coded value,
/// built in and written beside the result tables for the analysts who open them.
pub const DICTIONARY: &str = include_str!("../../schemas/data-dictionary.toml");
/// Its file name in `results/`.
pub const DICTIONARY_FILE: &str = "data-dictionary.toml";

/// Every result table's name and declared columns, for the data dictionary test.
pub fn declared() -> Vec<(&'static str, Vec<String>)> {
    vec![
        (IndexRow::TABLE, IndexRow::columns()),
        (ScoreRow::TABLE, ScoreRow::columns()),
        (NormalisedRow::TABLE, NormalisedRow::columns()),
        (WeightRow::TABLE, WeightRow::columns()),
        (TreatmentRow::TABLE, TreatmentRow::columns()),
        (GrowthRow::TABLE, GrowthRow::columns()),
        (AttainmentRow::TABLE, AttainmentRow::columns()),
        (AttainmentYearRow::TABLE, AttainmentYearRow::columns()),
        (RegionalAttainmentRow::TABLE, RegionalAttainmentRow::columns()),
        (MethodRow::TABLE, MethodRow::columns()),
        (UncertaintyRow::TABLE, UncertaintyRow::columns()),
        (SensitivityRow::TABLE, SensitivityRow::columns()),
        (FundingRow::TABLE, FundingRow::columns()),
        (AppraisalRow::TABLE, AppraisalRow::columns()),
        (AuditAlphaRow::TABLE, AuditAlphaRow::columns()),
        (AuditCorrelationRow::TABLE, AuditCorrelationRow::columns()),
        (AuditPcaRow::TABLE, AuditPcaRow::columns()),
        (AuditLoadingRow::TABLE, AuditLoadingRow::columns()),
        (AuditFlagRow::TABLE, AuditFlagRow::columns()),
    ]
}

/// Read `results/<table>.parquet` for one year only.
pub fn read_year<R: tables::Row>(dir: &Path, year: i32) -> Result<Vec<R>, StoreError> {
    tables::read_where(dir, Some(polars::prelude::col("year").eq(polars::prelude::lit(year))))
}
