//! The method choices of the index (`[compute]` in the config file): imputation, outliers,
//! normalisation and its reference set, weights, aggregation per level, tiers; and the choices
//! the sensitivity analysis varies (`[sensitivity]`); with their defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Imputation {
    None,
    /// Last observation carried forward within a county.
    Locf,
    /// Linear interpolation between a county's own years, the first and last values carried
    /// outward (COINr's `impute_panel`).
    Linear,
    /// Linear interpolation of interior gaps only: nothing before a county's first value or after its last.
    LinearInterior,
    /// Mean of the county's group (prefecture or province) in the same year.
    GroupMean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupLevel {
    Prefecture,
    Province,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outliers {
    None,
    /// COINr's default: winsorise up to 5 points while |skew| ≥ 2 and kurtosis ≥ 3.5, else log.
    Coinr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// (x − min)/(max − min)·(u − l) + l with `scale = [l, u]`.
    Minmax,
    /// (x − mean)/sd·s + m with `scale = [m, s]`.
    Zscore,
    Rank,
    PercentileRank,
    /// Catalog plausible range as goalposts, ×100.
    Goalposts,
    /// (x − min)/(target − min) with the catalog `target`, ×100.
    DistanceToTarget,
    /// 功效系数法: 60 + 40·(x − min)/(max − min).
    Efficacy,
    /// 100·x / mean of the reference (base year = 100).
    BaseIndex,
    /// 100·x/√Σx² over the reference (向量归一化, Hwang and Yoon's TOPSIS).
    Vector,
}

/// The standard deviation of z-scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZscoreSd {
    /// n − 1, COINr's convention.
    Sample,
    /// n, as Istat's MPI and most official indices.
    Population,
}

/// Which side of the Mazziotta–Pareto index the imbalance penalty pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MpiPenalty {
    /// MPI−: M − S·cv, for an index where higher is better.
    Negative,
    /// MPI+: M + S·cv, for an index where higher is worse.
    Positive,
}

/// Which rows data-driven weights (entropy, CRITIC, CV) are fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightsYears {
    /// All counties of all years at once (全局熵值法): one set of weights.
    Pooled,
    /// Each year's counties: a set of weights per year.
    PerYear,
}

/// What entropy weights measure the spread of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntropyBasis {
    /// The children's scores min-maxed to [0, 1] first (极差标准化, cimon's default).
    Range,
    /// The indicators' own non-negative values as shares of their column (Xu 2004); the
    /// children's scores above the indicators.
    Shares,
}

/// 组合赋权: `alpha`·subjective + (1 − `alpha`)·objective, both summing to 1 within a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Combine {
    /// `catalog` (expert weights), `equal` or `ahp`.
    pub subjective: WeightScheme,
    /// `entropy`, `critic` or `cv`.
    pub objective: WeightScheme,
    pub alpha: f64,
}

impl Default for Combine {
    fn default() -> Self {
        Combine { subjective: WeightScheme::Catalog, objective: WeightScheme::Entropy, alpha: 0.5 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Fitted on each year's counties: ranks within a year, no progress over time.
    PerYear,
    /// Fitted on all counties and all years (COINr `global = TRUE`): scores comparable over time.
    Pooled,
    /// Fitted on the base year's counties and applied to every year.
    BaseYear,
}

pub use crate::codes::WeightScheme;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Arithmetic,
    Geometric,
    /// Generalised mean with exponent `power` (β).
    Power,
    /// Mazziotta–Pareto index: mean minus (or plus) the imbalance penalty S·cv.
    Mpi,
    /// 100 × TOPSIS relative closeness, ideal and anti-ideal over the comparison's reference set.
    Topsis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tiers {
    /// CASTED: tier 1 above the year's average, tier 2 below it but at least this score, tier 3 below.
    pub casted_floor: f64,
    /// EIS-style groups by index / average: emerging < [0], moderate < [1], strong ≤ [2], leader above.
    pub ratio_thresholds: [f64; 3],
}

impl Default for Tiers {
    fn default() -> Self {
        Tiers { casted_floor: 50.0, ratio_thresholds: [0.7, 1.0, 1.25] }
    }
}

/// Every method choice, from the config file's `[compute]` section; recorded with the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Method {
    pub imputation: Imputation,
    pub impute_group: GroupLevel,
    pub outliers: Outliers,
    pub normalisation: NormKind,
    pub scale: [f64; 2],
    pub zscore_sd: ZscoreSd,
    pub comparison: Comparison,
    pub base_year: Option<i32>,
    pub weights: WeightScheme,
    pub weights_years: WeightsYears,
    pub entropy_basis: EntropyBasis,
    pub combine: Combine,
    /// AHP matrices with a consistency ratio at or above this are refused.
    pub ahp_cr_limit: f64,
    pub aggregation: Agg,
    /// β of `aggregation = "power"` (0.5 as the EU Social Progress Index).
    pub power: f64,
    pub mpi_penalty: MpiPenalty,
    /// Per-level overrides, level as a string ("2" = the groups just above the indicators).
    pub aggregation_by_level: BTreeMap<String, Agg>,
    pub tiers: Tiers,
}

impl Default for Method {
    fn default() -> Self {
        Method {
            imputation: Imputation::None,
            impute_group: GroupLevel::Prefecture,
            outliers: Outliers::Coinr,
            normalisation: NormKind::Minmax,
            scale: [0.0, 100.0],
            zscore_sd: ZscoreSd::Sample,
            comparison: Comparison::Pooled,
            base_year: None,
            weights: WeightScheme::Catalog,
            weights_years: WeightsYears::Pooled,
            entropy_basis: EntropyBasis::Range,
            combine: Combine::default(),
            ahp_cr_limit: 0.10,
            aggregation: Agg::Arithmetic,
            power: 0.5,
            mpi_penalty: MpiPenalty::Negative,
            aggregation_by_level: BTreeMap::new(),
            tiers: Tiers::default(),
        }
    }
}

/// `[sensitivity]` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensitivitySettings {
    pub enabled: bool,
    /// N, the rows of each Saltelli matrix: N·(F + 2) replications for F uncertain choices.
    pub samples: usize,
    pub seed: u64,
    /// Uniform noise on every weight at every level, ±this share, renormalised within the parent.
    pub weight_noise: f64,
    /// Normalisations to switch between (one entry: not uncertain).
    pub normalisations: Vec<NormKind>,
    /// Aggregations to switch between, at every level.
    pub aggregations: Vec<Agg>,
    /// Weight schemes to switch between (empty or one entry: not uncertain); each scheme's
    /// weights are those the published method would compute with it.
    pub weights: Vec<WeightScheme>,
    /// Switch imputation on and off (on = the configured one, or group means when none is configured).
    pub imputation: bool,
    /// Leave out each scored indicator in turn (or none).
    pub exclude_indicators: bool,
}

impl Default for SensitivitySettings {
    fn default() -> Self {
        SensitivitySettings {
            enabled: true,
            samples: 100,
            seed: 20240601,
            weight_noise: 0.25,
            normalisations: vec![NormKind::Minmax, NormKind::Zscore, NormKind::Efficacy],
            aggregations: vec![Agg::Arithmetic, Agg::Geometric],
            weights: Vec::new(),
            imputation: true,
            exclude_indicators: true,
        }
    }
}
