//! The composite index: impute → treat outliers → normalise → weight → aggregate → rank and tier. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::methods::{self, Aggregation, MethodError, Normalisation, TreatDetail, TreatParams};
use crate::catalog::Catalog;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Imputation {
    None,
    /// Last observation carried forward within a county.
    Locf,
    /// Linear interpolation between a county's own years (interior gaps only).
    Linear,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightScheme {
    Catalog,
    Equal,
    /// 熵权法 on the pooled panel, at every level.
    Entropy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Arithmetic,
    Geometric,
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
    pub comparison: Comparison,
    pub base_year: Option<i32>,
    pub weights: WeightScheme,
    pub aggregation: Agg,
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
            comparison: Comparison::Pooled,
            base_year: None,
            weights: WeightScheme::Catalog,
            aggregation: Agg::Arithmetic,
            aggregation_by_level: BTreeMap::new(),
            tiers: Tiers::default(),
        }
    }
}

/// A county in the panel, under its current code.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub prefecture_code: String,
    pub prefecture_name: String,
    pub province_code: String,
    pub province_name: String,
}

/// Scored indicators for every county and year; row `y * units.len() + u`.
#[derive(Debug, Clone)]
pub struct Panel {
    pub units: Vec<Unit>,
    pub years: Vec<i32>,
    /// Scored indicator codes in catalog order.
    pub indicators: Vec<String>,
    /// One column per indicator.
    pub values: Vec<Vec<Option<f64>>>,
}

impl Panel {
    pub fn rows(&self) -> usize {
        self.units.len() * self.years.len()
    }
    pub fn row(&self, year_idx: usize, unit_idx: usize) -> usize {
        year_idx * self.units.len() + unit_idx
    }
    fn year_slice(&self, y: usize) -> std::ops::Range<usize> {
        y * self.units.len()..(y + 1) * self.units.len()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("indicator {indicator}: {source}")]
    Method { indicator: String, source: MethodError },
    #[error("node {node}: {source}")]
    Aggregate { node: String, source: MethodError },
    #[error("{0}")]
    Config(String),
}

/// A node of the hierarchy with its children and aggregation level (indicators are level 1).
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub code: String,
    pub level: usize,
    pub children: Vec<String>,
    /// Catalog weights of the children, in order.
    pub child_weights: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct Weight {
    pub node: String,
    pub child: String,
    pub level: usize,
    pub catalog: f64,
    /// Weight used, summing to 1 within the node (before renormalisation over missing children).
    pub effective: f64,
}

#[derive(Debug, Clone)]
pub struct Treatment {
    pub indicator: String,
    pub year: Option<i32>,
    pub detail: TreatDetail,
}

#[derive(Debug, Clone)]
pub struct IndexResult {
    /// Per indicator: values after imputation, whether imputed, after treatment, normalised.
    pub imputed: Vec<Vec<Option<f64>>>,
    pub was_imputed: Vec<Vec<bool>>,
    pub treated: Vec<Vec<Option<f64>>>,
    pub normalised: Vec<Vec<Option<f64>>>,
    /// Aggregate node scores (groups and the index), by node code; rows as in the panel.
    pub scores: BTreeMap<String, Vec<Option<f64>>>,
    pub nodes: Vec<NodeInfo>,
    pub weights: Vec<Weight>,
    pub treatments: Vec<Treatment>,
    /// Index ranks: overall, within prefecture, within province; rank change on the previous year (+ = up).
    pub rank: Vec<Option<u32>>,
    pub rank_prefecture: Vec<Option<u32>>,
    pub rank_province: Vec<Option<u32>>,
    pub rank_change: Vec<Option<i32>>,
    /// Rank of every aggregate node's score within the year.
    pub node_rank: BTreeMap<String, Vec<Option<u32>>>,
    pub casted_tier: Vec<Option<u8>>,
    pub ratio_group: Vec<Option<&'static str>>,
    /// Index / the year's average index.
    pub ratio_to_average: Vec<Option<f64>>,
}

/// The hierarchy from the catalog, children before parents.
pub fn hierarchy(catalog: &Catalog) -> Vec<NodeInfo> {
    let mut nodes: Vec<NodeInfo> = Vec::new();
    let all: Vec<&crate::catalog::Node> = std::iter::once(&catalog.index).chain(&catalog.groups).collect();
    fn level_of(code: &str, catalog: &Catalog) -> usize {
        let mut best = 1;
        for g in &catalog.groups {
            if g.parent.as_deref() == Some(code) {
                best = best.max(level_of(&g.code, catalog) + 1);
            }
        }
        if catalog.indicators.iter().any(|i| i.scored && i.group.as_deref() == Some(code)) {
            best = best.max(2);
        }
        best
    }
    for n in all {
        let mut children = Vec::new();
        let mut w = Vec::new();
        for g in &catalog.groups {
            if g.parent.as_deref() == Some(&n.code) {
                children.push(g.code.clone());
                w.push(g.weight);
            }
        }
        for i in &catalog.indicators {
            if i.scored && i.group.as_deref() == Some(&n.code) {
                children.push(i.code.clone());
                w.push(i.weight);
            }
        }
        nodes.push(NodeInfo { code: n.code.clone(), level: level_of(&n.code, catalog), children, child_weights: w });
    }
    nodes.sort_by_key(|n| n.level);
    nodes
}

fn to_normalisation(m: &Method) -> Normalisation {
    match m.normalisation {
        NormKind::Minmax => Normalisation::MinMax { l: m.scale[0], u: m.scale[1] },
        NormKind::Zscore => Normalisation::ZScore { mean: m.scale[0], sd: m.scale[1] },
        NormKind::Rank => Normalisation::Rank,
        NormKind::PercentileRank => Normalisation::PercentileRank,
        NormKind::Goalposts => Normalisation::Goalposts { lower: 0.0, upper: 0.0, scale: 100.0 },
        NormKind::DistanceToTarget => Normalisation::Dist2Target { cap: false },
        NormKind::Efficacy => Normalisation::Efficacy,
        NormKind::BaseIndex => Normalisation::BaseIndex,
    }
}

/// Compute the whole index from a panel. Pure.
pub fn compute(panel: &Panel, catalog: &Catalog, method: &Method) -> Result<IndexResult, IndexError> {
    let n_units = panel.units.len();
    let n_years = panel.years.len();
    let base_idx = match (method.comparison, method.base_year) {
        (Comparison::BaseYear, Some(b)) => Some(
            panel.years.iter().position(|&y| y == b).ok_or_else(|| IndexError::Config(format!("base_year {b} has no data")))?,
        ),
        (Comparison::BaseYear, None) => return Err(IndexError::Config("comparison = \"base_year\" needs base_year".into())),
        _ => None,
    };
    let method_err = |code: &str| {
        let indicator = code.to_string();
        move |source| IndexError::Method { indicator: indicator.clone(), source }
    };

    let mut imputed = Vec::new();
    let mut was_imputed = Vec::new();
    let mut treated = Vec::new();
    let mut normalised = Vec::new();
    let mut treatments = Vec::new();
    let years_i32 = &panel.years;

    for (k, code) in panel.indicators.iter().enumerate() {
        let ind = catalog.indicator(code).expect("panel indicators come from the catalog");
        let raw = &panel.values[k];

        // 1. Imputation.
        let mut col = raw.clone();
        match method.imputation {
            Imputation::None => {}
            Imputation::Locf | Imputation::Linear => {
                for u in 0..n_units {
                    let series: Vec<Option<f64>> = (0..n_years).map(|y| raw[panel.row(y, u)]).collect();
                    let filled = if method.imputation == Imputation::Locf {
                        methods::locf(&series)
                    } else {
                        methods::interpolate_linear(years_i32, &series).map_err(method_err(code))?
                    };
                    for y in 0..n_years {
                        col[panel.row(y, u)] = filled[y];
                    }
                }
            }
            Imputation::GroupMean => {
                let groups: Vec<&str> = panel
                    .units
                    .iter()
                    .map(|u| match method.impute_group {
                        GroupLevel::Prefecture => u.prefecture_code.as_str(),
                        GroupLevel::Province => u.province_code.as_str(),
                    })
                    .collect();
                for y in 0..n_years {
                    let r = panel.year_slice(y);
                    let filled = methods::group_mean_impute(&raw[r.clone()], &groups).map_err(method_err(code))?;
                    col[r].copy_from_slice(&filled);
                }
            }
        }
        let imp_flags: Vec<bool> = raw.iter().zip(&col).map(|(a, b)| a.is_none() && b.is_some()).collect();

        // 2. Outlier treatment, year by year (as COINr treats each year of a panel).
        let mut tcol = col.clone();
        if method.outliers == Outliers::Coinr {
            for y in 0..n_years {
                let r = panel.year_slice(y);
                let (t, detail) = methods::treat_outliers(&col[r.clone()], &TreatParams::default());
                tcol[r].copy_from_slice(&t);
                treatments.push(Treatment { indicator: code.clone(), year: Some(panel.years[y]), detail });
            }
        }

        // 3. Normalisation against the chosen reference set.
        let norm = match method.normalisation {
            NormKind::Goalposts => {
                let [lo, hi] = ind.range.ok_or_else(|| {
                    IndexError::Config(format!("goalposts need a plausible range for {code} in the catalog"))
                })?;
                // Posts in the indicator's own units; the kernel applies the direction.
                Normalisation::Goalposts { lower: lo, upper: hi, scale: 100.0 }
            }
            _ => to_normalisation(method),
        };
        let target = if method.normalisation == NormKind::DistanceToTarget {
            Some(ind.target.ok_or_else(|| IndexError::Config(format!("distance to target needs a target for {code} in the catalog")))?)
        } else {
            None
        };
        let mut ncol = vec![None; panel.rows()];
        match (method.comparison, base_idx) {
            (Comparison::PerYear, _) => {
                for y in 0..n_years {
                    let r = panel.year_slice(y);
                    let f = methods::fit(&tcol[r.clone()], ind.direction, &norm, target).map_err(method_err(code))?;
                    ncol[r.clone()].copy_from_slice(&f.apply(&tcol[r]));
                }
            }
            (Comparison::Pooled, _) => {
                let f = methods::fit(&tcol, ind.direction, &norm, target).map_err(method_err(code))?;
                ncol = f.apply(&tcol);
            }
            (Comparison::BaseYear, Some(b)) => {
                let f = methods::fit(&tcol[panel.year_slice(b)], ind.direction, &norm, target).map_err(method_err(code))?;
                ncol = f.apply(&tcol);
            }
            (Comparison::BaseYear, None) => unreachable!("checked above"),
        }
        // Scores that COINr reports as fractions are shown on 0–100 like the rest.
        if matches!(method.normalisation, NormKind::PercentileRank | NormKind::DistanceToTarget) {
            for v in ncol.iter_mut().flatten() {
                *v *= 100.0;
            }
        }

        imputed.push(col);
        was_imputed.push(imp_flags);
        treated.push(tcol);
        normalised.push(ncol);
    }

    // 4–5. Weights and aggregation, bottom-up.
    let nodes = hierarchy(catalog);
    let mut scores: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let mut weights = Vec::new();
    for node in &nodes {
        let columns: Vec<&[Option<f64>]> = node
            .children
            .iter()
            .map(|c| match panel.indicators.iter().position(|i| i == c) {
                Some(k) => normalised[k].as_slice(),
                None => scores[c].as_slice(),
            })
            .collect();
        let w = match method.weights {
            WeightScheme::Catalog => methods::normalise_weights(&node.child_weights),
            WeightScheme::Equal => methods::normalise_weights(&vec![1.0; columns.len()]),
            WeightScheme::Entropy => methods::entropy_weights(&columns, &vec![1.0; columns.len()]),
        }
        .map_err(|source| IndexError::Aggregate { node: node.code.clone(), source })?;
        let agg = method.aggregation_by_level.get(&node.level.to_string()).copied().unwrap_or(method.aggregation);
        let how = match agg {
            Agg::Arithmetic => Aggregation::ArithmeticMean,
            Agg::Geometric => Aggregation::GeometricMean,
        };
        let s = methods::aggregate(&columns, &w, &how).map_err(|source| IndexError::Aggregate { node: node.code.clone(), source })?;
        for (i, c) in node.children.iter().enumerate() {
            weights.push(Weight { node: node.code.clone(), child: c.clone(), level: node.level, catalog: node.child_weights[i], effective: w[i] });
        }
        scores.insert(node.code.clone(), s);
    }

    // 6. Ranks and tiers, within each year.
    let index = &scores[&catalog.index.code];
    let rows = panel.rows();
    let mut rank = vec![None; rows];
    let mut rank_prefecture = vec![None; rows];
    let mut rank_province = vec![None; rows];
    let mut node_rank: BTreeMap<String, Vec<Option<u32>>> = BTreeMap::new();
    let mut casted_tier = vec![None; rows];
    let mut ratio_group = vec![None; rows];
    let mut ratio_to_average = vec![None; rows];
    for (code, s) in &scores {
        let mut r = vec![None; rows];
        for y in 0..n_years {
            let sl = panel.year_slice(y);
            r[sl.clone()].copy_from_slice(&methods::rank_desc_min(&s[sl]));
        }
        node_rank.insert(code.clone(), r);
    }
    for y in 0..n_years {
        let sl = panel.year_slice(y);
        rank[sl.clone()].copy_from_slice(&node_rank[&catalog.index.code][sl.clone()]);
        for (ranks, key) in [
            (&mut rank_prefecture, (|u: &Unit| u.prefecture_code.clone()) as fn(&Unit) -> String),
            (&mut rank_province, |u: &Unit| u.province_code.clone()),
        ] {
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (u, unit) in panel.units.iter().enumerate() {
                groups.entry(key(unit)).or_default().push(u);
            }
            for members in groups.values() {
                let vals: Vec<Option<f64>> = members.iter().map(|&u| index[panel.row(y, u)]).collect();
                for (m, r) in members.iter().zip(methods::rank_desc_min(&vals)) {
                    ranks[panel.row(y, *m)] = r;
                }
            }
        }
        let present: Vec<f64> = index[sl.clone()].iter().flatten().copied().collect();
        if present.is_empty() {
            continue;
        }
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        for i in sl {
            let Some(v) = index[i] else { continue };
            casted_tier[i] = Some(if v > mean {
                1
            } else if v >= method.tiers.casted_floor {
                2
            } else {
                3
            });
            if mean > 0.0 {
                let ratio = v / mean;
                let [a, b, c] = method.tiers.ratio_thresholds;
                ratio_to_average[i] = Some(ratio);
                ratio_group[i] = Some(if ratio > c {
                    "leader"
                } else if ratio > b {
                    "strong"
                } else if ratio >= a {
                    "moderate"
                } else {
                    "emerging"
                });
            }
        }
    }
    let mut rank_change = vec![None; rows];
    for y in 1..n_years {
        if panel.years[y] != panel.years[y - 1] + 1 {
            continue;
        }
        for u in 0..n_units {
            if let (Some(now), Some(before)) = (rank[panel.row(y, u)], rank[panel.row(y - 1, u)]) {
                rank_change[panel.row(y, u)] = Some(before as i32 - now as i32);
            }
        }
    }

    Ok(IndexResult {
        imputed,
        was_imputed,
        treated,
        normalised,
        scores,
        nodes,
        weights,
        treatments,
        rank,
        rank_prefecture,
        rank_province,
        rank_change,
        node_rank,
        casted_tier,
        ratio_group,
        ratio_to_average,
    })
}
