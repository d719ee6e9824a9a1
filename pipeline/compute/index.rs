//! The composite index: impute → treat outliers → normalise → weight → aggregate → rank and tier. Pure.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::methods::{self, Aggregation, MethodError, Normalisation, TreatDetail, TreatParams};
use super::panel::Values;
use crate::catalog::Catalog;
use crate::codes::RatioGroup;

pub use super::method::*;
pub use super::panel::{Panel, Unit};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("indicator {indicator}")]
    Method { indicator: String, source: MethodError },
    #[error("node {node}")]
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
    /// The year these weights score; None when one set of weights scores every year.
    pub year: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct Treatment {
    pub indicator: String,
    pub year: Option<i32>,
    pub detail: TreatDetail,
}

#[derive(Debug, Clone, Default)]
pub struct IndexResult {
    /// Per indicator: values after imputation, whether imputed, after treatment, normalised.
    pub imputed: Vec<Values>,
    pub was_imputed: Vec<Vec<bool>>,
    pub treated: Vec<Values>,
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
    /// Rank within the peer group; None for counties without one.
    pub rank_peer: Vec<Option<u32>>,
    pub rank_change: Vec<Option<i32>>,
    /// Rank of every aggregate node's score within the year.
    pub node_rank: BTreeMap<String, Vec<Option<u32>>>,
    pub casted_tier: Vec<Option<u8>>,
    pub ratio_group: Vec<Option<RatioGroup>>,
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
        let (children, w): (Vec<String>, Vec<f64>) =
            catalog.children(&n.code).into_iter().map(|(c, w)| (c.to_string(), w)).unzip();
        nodes.push(NodeInfo { code: n.code.clone(), level: level_of(&n.code, catalog), children, child_weights: w });
    }
    nodes.sort_by_key(|n| n.level);
    nodes
}

fn to_normalisation(m: &Method) -> Normalisation {
    match m.normalisation {
        NormKind::Minmax => Normalisation::MinMax { l: m.scale[0], u: m.scale[1] },
        NormKind::Zscore => {
            Normalisation::ZScore { mean: m.scale[0], sd: m.scale[1], population: m.zscore_sd == ZscoreSd::Population }
        }
        NormKind::Vector => Normalisation::Vector,
        NormKind::Rank => Normalisation::Rank,
        NormKind::PercentileRank => Normalisation::PercentileRank,
        NormKind::Goalposts => Normalisation::Goalposts { lower: 0.0, upper: 0.0, scale: 100.0 },
        NormKind::DistanceToTarget => Normalisation::Dist2Target { cap: false },
        NormKind::Efficacy => Normalisation::Efficacy,
        NormKind::BaseIndex => Normalisation::BaseIndex,
    }
}

/// One indicator after imputation, outlier treatment and normalisation.
struct Prepared {
    imputed: Values,
    was_imputed: Vec<bool>,
    treated: Values,
    normalised: Vec<Option<f64>>,
    treatments: Vec<Treatment>,
}

fn prepare(
    panel: &Panel,
    catalog: &Catalog,
    method: &Method,
    base_idx: Option<usize>,
    k: usize,
) -> Result<Prepared, IndexError> {
    let n_units = panel.units.len();
    let n_years = panel.years.len();
    let years_i32 = &panel.years;
    let code = &panel.indicators[k];
    let method_err = |code: &str| {
        let indicator = code.to_string();
        move |source| IndexError::Method { indicator: indicator.clone(), source }
    };
    let mut treatments = Vec::new();
    let ind = catalog.indicator(code).expect("panel indicators come from the catalog");
    let raw = &panel.values[k];

    // 1. Imputation. The column is copied only when something in it changes.
    let mut col = Values::clone(raw);
    match method.imputation {
        Imputation::None => {}
        Imputation::Locf | Imputation::Linear | Imputation::LinearInterior => {
            let col = Values::make_mut(&mut col);
            for u in 0..n_units {
                let series: Vec<Option<f64>> = (0..n_years).map(|y| raw[panel.row(y, u)]).collect();
                let filled = match method.imputation {
                    Imputation::Locf => methods::locf(&series),
                    m => methods::interpolate_linear(years_i32, &series, m == Imputation::Linear)
                        .map_err(method_err(code))?,
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
            let col = Values::make_mut(&mut col);
            for y in 0..n_years {
                let r = panel.year_slice(y);
                let filled = methods::group_mean_impute(&raw[r.clone()], &groups).map_err(method_err(code))?;
                col[r].copy_from_slice(&filled);
            }
        }
    }
    // Imputation fills gaps inside a unit's existence, never before it began or after it was
    // split or merged away (邢台县 after 2019).
    if col.iter().zip(&panel.valid).any(|(v, &valid)| !valid && v.is_some()) {
        for (v, &valid) in Values::make_mut(&mut col).iter_mut().zip(&panel.valid) {
            if !valid {
                *v = None;
            }
        }
    }
    let imp_flags: Vec<bool> = raw.iter().zip(col.iter()).map(|(a, b)| a.is_none() && b.is_some()).collect();

    // 2. Outlier treatment, year by year (as COINr treats each year of a panel).
    let mut tcol = Values::clone(&col);
    if method.outliers == Outliers::Coinr {
        for y in 0..n_years {
            let r = panel.year_slice(y);
            let (t, detail) = methods::treat_outliers(&col[r.clone()], &TreatParams::default());
            if t[..] != col[r.clone()] {
                Values::make_mut(&mut tcol)[r].copy_from_slice(&t);
            }
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
        Some(ind.target.ok_or_else(|| {
            IndexError::Config(format!("distance to target needs a target for {code} in the catalog"))
        })?)
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

    Ok(Prepared { imputed: col, was_imputed: imp_flags, treated: tcol, normalised: ncol, treatments })
}

/// The weights of one node's children, summing to 1: one set (`[w]`) for every year, or one
/// per panel year when data-driven weights are fitted year by year (a year in which no child
/// varies takes the pooled set). `columns` are the children's scores; `raw` their values before
/// treatment and normalisation (indicators) or scores (groups), which the coefficient of
/// variation and entropy on shares read. A node with one child weighs it 1.
pub fn node_weights(
    panel: &Panel,
    catalog: &Catalog,
    method: &Method,
    node: &NodeInfo,
    columns: &[&[Option<f64>]],
    raw: &[&[Option<f64>]],
) -> Result<Vec<Vec<f64>>, IndexError> {
    let err = |source| IndexError::Aggregate { node: node.code.clone(), source };
    let ones = vec![1.0; columns.len()];
    let data_driven = |scheme: WeightScheme, rows: std::ops::Range<usize>| -> Result<Vec<f64>, IndexError> {
        let cut = |cols: &[&[Option<f64>]]| -> Vec<Vec<Option<f64>>> {
            cols.iter().map(|c| c[rows.clone()].to_vec()).collect()
        };
        let (c, r) = (cut(columns), cut(raw));
        let c: Vec<&[Option<f64>]> = c.iter().map(Vec::as_slice).collect();
        let r: Vec<&[Option<f64>]> = r.iter().map(Vec::as_slice).collect();
        match scheme {
            WeightScheme::Entropy if method.entropy_basis == EntropyBasis::Shares => {
                methods::entropy_weights_shares(&r)
            }
            WeightScheme::Entropy => methods::entropy_weights(&c, &ones),
            WeightScheme::Critic => methods::critic_weights(&c, &ones),
            WeightScheme::Cv => methods::cv_weights(&r),
            _ => unreachable!("only data-driven schemes"),
        }
        .map_err(err)
    };
    let subjective = |scheme: WeightScheme| -> Result<Vec<f64>, IndexError> {
        match scheme {
            WeightScheme::Catalog => methods::normalise_weights(&node.child_weights).map_err(err),
            WeightScheme::Equal => methods::normalise_weights(&ones).map_err(err),
            WeightScheme::Ahp => ahp_weights(catalog, method, node),
            other => Err(IndexError::Config(format!("\"{other}\" is not a subjective weight scheme"))),
        }
    };
    // Data-driven schemes: pooled over the valid rows, or per year; a year in which no child
    // varies (a group not yet collected) takes the pooled weights, as its scores do not depend on them.
    let objective = |scheme: WeightScheme| -> Result<Vec<Vec<f64>>, IndexError> {
        if columns.len() == 1 {
            return Ok(vec![vec![1.0]]);
        }
        let pooled = || data_driven(scheme, 0..panel.rows());
        match method.weights_years {
            WeightsYears::Pooled => Ok(vec![pooled()?]),
            WeightsYears::PerYear => (0..panel.years.len())
                .map(|y| match data_driven(scheme, panel.year_slice(y)) {
                    Err(IndexError::Aggregate { source: MethodError::NoInformation, .. }) => pooled(),
                    other => other,
                })
                .collect(),
        }
    };
    match method.weights {
        WeightScheme::Catalog | WeightScheme::Equal | WeightScheme::Ahp => Ok(vec![subjective(method.weights)?]),
        WeightScheme::Entropy | WeightScheme::Critic | WeightScheme::Cv => objective(method.weights),
        WeightScheme::Combined => {
            let c = &method.combine;
            if !matches!(c.objective, WeightScheme::Entropy | WeightScheme::Critic | WeightScheme::Cv) {
                return Err(IndexError::Config(format!(
                    "[compute.combine] objective = \"{}\": use entropy, critic or cv",
                    c.objective
                )));
            }
            let s = subjective(c.subjective)?;
            Ok(objective(c.objective)?
                .into_iter()
                .map(|o| s.iter().zip(&o).map(|(a, b)| c.alpha * a + (1.0 - c.alpha) * b).collect())
                .collect())
        }
    }
}

/// AHP weights of a node in its children's order, refused when inconsistent.
fn ahp_weights(catalog: &Catalog, method: &Method, node: &NodeInfo) -> Result<Vec<f64>, IndexError> {
    if node.children.len() == 1 {
        return Ok(vec![1.0]);
    }
    let cmp = catalog.ahp.iter().find(|a| a.node == node.code).ok_or_else(|| {
        IndexError::Config(format!(
            "weights = \"ahp\" needs a pairwise comparison matrix for \"{}\" in the catalog ([[ahp]] node = \"{}\")",
            node.code, node.code
        ))
    })?;
    let a = methods::ahp(&cmp.matrix).map_err(|p| {
        IndexError::Config(format!(
            "the AHP matrix of \"{}\" in {}: row {} ({}), column {} ({}): {}",
            node.code,
            catalog.path.display(),
            p.row + 1,
            cmp.order.get(p.row).map_or("", String::as_str),
            p.col + 1,
            cmp.order.get(p.col).map_or("", String::as_str),
            p.what
        ))
    })?;
    if a.cr >= method.ahp_cr_limit {
        let rows: Vec<String> = cmp
            .order
            .iter()
            .zip(&cmp.matrix)
            .map(|(c, r)| format!("{c}: {}", r.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" ")))
            .collect();
        return Err(IndexError::Config(format!(
            "the AHP matrix of \"{}\" in {} is not consistent enough: CR = {:.3} ≥ {} (λmax {:.3}, n {}); revise the judgements or raise [compute] ahp_cr_limit; matrix: {}",
            node.code,
            catalog.path.display(),
            a.cr,
            method.ahp_cr_limit,
            a.lambda_max,
            cmp.order.len(),
            rows.join("; ")
        )));
    }
    // The matrix's order → the node's children order.
    Ok(node
        .children
        .iter()
        .map(|c| a.weights[cmp.order.iter().position(|o| o == c).expect("checked by the catalog")])
        .collect())
}

/// One node's score for every row. `weights` as [`node_weights`] gives them; TOPSIS takes its
/// ideal and anti-ideal points from the comparison's reference set (the year, the pooled panel
/// or the base year), as normalisation does.
pub fn aggregate_node(
    panel: &Panel,
    method: &Method,
    agg: Agg,
    columns: &[&[Option<f64>]],
    weights: &[Vec<f64>],
    base_idx: Option<usize>,
) -> Result<Vec<Option<f64>>, MethodError> {
    let rows = panel.rows();
    let years = panel.years.len();
    // The weights scoring year y.
    let w = |y: usize| &weights[if weights.len() == 1 { 0 } else { y }];
    let sliced = |r: std::ops::Range<usize>| -> Vec<&[Option<f64>]> { columns.iter().map(|c| &c[r.clone()]).collect() };
    let mut out = vec![None; rows];
    if agg == Agg::Topsis {
        let hundred = |v: Vec<Option<f64>>| v.into_iter().map(|c| c.map(|c| 100.0 * c)).collect::<Vec<_>>();
        let reference = match (method.comparison, base_idx) {
            (Comparison::BaseYear, Some(b)) => Some(panel.year_slice(b)),
            _ => None,
        };
        if weights.len() == 1 && method.comparison != Comparison::PerYear {
            return Ok(hundred(methods::topsis(columns, &weights[0], reference)?));
        }
        for y in 0..years {
            let r = panel.year_slice(y);
            let scored = if method.comparison == Comparison::PerYear {
                methods::topsis(&sliced(r.clone()), w(y), None)?
            } else {
                methods::topsis(columns, w(y), reference.clone())?[r.clone()].to_vec()
            };
            out[r].copy_from_slice(&hundred(scored));
        }
        return Ok(out);
    }
    let how = match agg {
        Agg::Arithmetic => Aggregation::ArithmeticMean,
        Agg::Geometric => Aggregation::GeometricMean,
        Agg::Power => Aggregation::GeneralisedMean { p: method.power },
        Agg::Mpi => Aggregation::MazziottaPareto {
            penalty: if method.mpi_penalty == MpiPenalty::Negative { 1.0 } else { -1.0 },
        },
        Agg::Topsis => unreachable!("handled above"),
    };
    if weights.len() == 1 {
        return methods::aggregate(columns, &weights[0], &how);
    }
    for y in 0..years {
        let r = panel.year_slice(y);
        let s = methods::aggregate(&sliced(r.clone()), w(y), &how)?;
        out[r].copy_from_slice(&s);
    }
    Ok(out)
}

/// Why the scores the normalisation makes cannot feed the chosen aggregation or weights, in the
/// words of the config file; None when they can. The MPI (M − S²/M) and a power mean with β < 0
/// need scores above 0; CV and entropy on shares read group scores as amounts, so they must not
/// go below 0 either. Checked before anything is read, not found out county by county.
pub fn scores_unfit_for(m: &Method) -> Option<String> {
    let uses = |a: Agg| m.aggregation == a || m.aggregation_by_level.values().any(|x| *x == a);
    let [lo, sd] = m.scale;
    let positive = match m.normalisation {
        NormKind::Minmax => lo > 0.0,
        NormKind::Zscore => lo > 5.0 * sd,
        NormKind::Efficacy | NormKind::Rank => true,
        _ => false,
    };
    let non_negative = positive
        || matches!(m.normalisation, NormKind::Minmax if lo >= 0.0)
        || matches!(
            m.normalisation,
            NormKind::PercentileRank | NormKind::Goalposts | NormKind::DistanceToTarget | NormKind::BaseIndex
        );
    let objective = |w: WeightScheme| {
        w == WeightScheme::Cv || (w == WeightScheme::Entropy && m.entropy_basis == EntropyBasis::Shares)
    };
    let reads_amounts = objective(m.weights) || (m.weights == WeightScheme::Combined && objective(m.combine.objective));
    let fix = "use normalisation = \"zscore\" with scale = [100.0, 10.0], or \"minmax\" with scale = [1.0, 100.0], or \"efficacy\"";
    if uses(Agg::Mpi) && !positive {
        Some(format!("[compute] aggregation = \"mpi\" needs scores above 0 (M − S²/M of each county's scores): {fix}"))
    } else if uses(Agg::Power) && m.power < 0.0 && !positive {
        Some(format!("[compute] power = {} (below 0) needs scores above 0: {fix}", m.power))
    } else if reads_amounts && !non_negative {
        Some(format!(
            "[compute] CV weights and entropy on shares read the dimension scores as amounts, which \
             normalisation = \"{}\" with scale = {:?} can make negative: {fix}",
            serde_json::to_value(m.normalisation).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            m.scale
        ))
    } else {
        None
    }
}

/// The panel position of the base year when the comparison is against one.
pub fn base_index(panel: &Panel, method: &Method) -> Result<Option<usize>, IndexError> {
    match (method.comparison, method.base_year) {
        (Comparison::BaseYear, Some(b)) => Ok(Some(
            panel
                .years
                .iter()
                .position(|&y| y == b)
                .ok_or_else(|| IndexError::Config(format!("base_year {b} has no data")))?,
        )),
        (Comparison::BaseYear, None) => Err(IndexError::Config("comparison = \"base_year\" needs base_year".into())),
        _ => Ok(None),
    }
}

/// Each node's weight sets, children in order: one set, or one per year (as [`node_weights`]).
pub fn weight_sets(result: &IndexResult) -> Vec<Vec<Vec<f64>>> {
    result
        .nodes
        .iter()
        .map(|n| {
            let mut sets: Vec<(Option<i32>, Vec<f64>)> = Vec::new();
            for w in result.weights.iter().filter(|w| w.node == n.code) {
                match sets.last_mut() {
                    Some((y, set)) if *y == w.year => set.push(w.effective),
                    _ => sets.push((w.year, vec![w.effective])),
                }
            }
            sets.into_iter().map(|(_, set)| set).collect()
        })
        .collect()
}

/// Compute the whole index from a panel. Pure.
pub fn compute(panel: &Panel, catalog: &Catalog, method: &Method) -> Result<IndexResult, IndexError> {
    let n_units = panel.units.len();
    let n_years = panel.years.len();
    let base_idx = base_index(panel, method)?;

    // 1–3 per indicator, in parallel: indicators are independent until aggregation.
    let prepared: Vec<Prepared> = (0..panel.indicators.len())
        .into_par_iter()
        .map(|k| prepare(panel, catalog, method, base_idx, k))
        .collect::<Result<_, _>>()?;
    let mut imputed = Vec::new();
    let mut was_imputed = Vec::new();
    let mut treated = Vec::new();
    let mut normalised = Vec::new();
    let mut treatments = Vec::new();
    for p in prepared {
        imputed.push(p.imputed);
        was_imputed.push(p.was_imputed);
        treated.push(p.treated);
        normalised.push(p.normalised);
        treatments.extend(p.treatments);
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
        // The indicators' own values (imputed, before any log transform of the outlier
        // treatment), which CV and entropy on shares read; above them the children's scores.
        let objective: Vec<&[Option<f64>]> = node
            .children
            .iter()
            .map(|c| match panel.indicators.iter().position(|i| i == c) {
                Some(k) => imputed[k].as_slice(),
                None => scores[c].as_slice(),
            })
            .collect();
        let w = node_weights(panel, catalog, method, node, &columns, &objective)?;
        let agg = method.aggregation_by_level.get(&node.level.to_string()).copied().unwrap_or(method.aggregation);
        let s = aggregate_node(panel, method, agg, &columns, &w, base_idx)
            .map_err(|source| IndexError::Aggregate { node: node.code.clone(), source })?;
        for (y, wy) in w.iter().enumerate() {
            for (i, c) in node.children.iter().enumerate() {
                weights.push(Weight {
                    node: node.code.clone(),
                    child: c.clone(),
                    level: node.level,
                    catalog: node.child_weights[i],
                    effective: wy[i],
                    year: (w.len() > 1).then(|| panel.years[y]),
                });
            }
        }
        scores.insert(node.code.clone(), s);
    }

    // 6. Ranks and tiers, within each year.
    let index = &scores[&catalog.index.code];
    let rows = panel.rows();
    let mut rank = vec![None; rows];
    let mut rank_prefecture = vec![None; rows];
    let mut rank_province = vec![None; rows];
    let mut rank_peer = vec![None; rows];
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
            (&mut rank_prefecture, (|u: &Unit| Some(u.prefecture_code.clone())) as fn(&Unit) -> Option<String>),
            (&mut rank_province, |u: &Unit| Some(u.province_code.clone())),
            (&mut rank_peer, |u: &Unit| u.peer_group.clone()),
        ] {
            let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (u, unit) in panel.units.iter().enumerate() {
                if let Some(k) = key(unit) {
                    groups.entry(k).or_default().push(u);
                }
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
                    RatioGroup::Leader
                } else if ratio > b {
                    RatioGroup::Strong
                } else if ratio >= a {
                    RatioGroup::Moderate
                } else {
                    RatioGroup::Emerging
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
        rank_peer,
        rank_change,
        node_rank,
        casted_tier,
        ratio_group,
        ratio_to_average,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CATALOG: &str = r#"
[index]
code = "i"
name_zh = "指数"
name_en = "Index"

[[groups]]
code = "a"
name_zh = "甲"
name_en = "A"
parent = "i"
weight = 0.5

[[groups]]
code = "b"
name_zh = "乙"
name_en = "B"
parent = "i"
weight = 0.5

[[indicators]]
code = "x"
name_zh = "x"
name_en = "x"
unit = "个"
kind = "count"
group = "a"

[[indicators]]
code = "y"
name_zh = "y"
name_en = "y"
unit = "个"
kind = "count"
group = "a"
direction = -1
weight = 3

[[indicators]]
code = "z"
name_zh = "z"
name_en = "z"
unit = "个"
kind = "count"
group = "b"

[[units]]
symbol = "个"
family = "units"
factor = 1
"#;

    fn panel(y: [Option<f64>; 3]) -> (Panel, Catalog) {
        let unit = |c: &str, p: &str| Unit {
            code: c.into(),
            name: c.into(),
            prefecture_code: p.into(),
            prefecture_name: p.into(),
            province_code: "P".into(),
            province_name: "P".into(),
            peer_group: None,
        };
        let panel = Panel {
            units: vec![unit("c1", "p1"), unit("c2", "p1"), unit("c3", "p2")],
            years: vec![2024],
            indicators: vec!["x".into(), "y".into(), "z".into()],
            values: crate::compute::panel::shared(vec![
                vec![Some(10.0), Some(20.0), Some(30.0)],
                y.to_vec(),
                vec![Some(0.0), Some(50.0), Some(100.0)],
            ]),
            valid: vec![true; 3],
        };
        (panel, Catalog::parse(CATALOG, Path::new("test.toml")).unwrap())
    }

    fn close(a: &[Option<f64>], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x.unwrap() - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn hand_computed_min_max_weighted_mean_ranks_and_tiers() {
        let (p, c) = panel([Some(5.0), Some(1.0), Some(3.0)]);
        let m = Method { outliers: Outliers::None, ..Method::default() };
        let r = compute(&p, &c, &m).unwrap();
        // x → 0, 50, 100; y is lower-is-better → 0, 100, 50; a = 0.25·x + 0.75·y.
        close(&r.normalised[1], &[0.0, 100.0, 50.0]);
        close(&r.scores["a"], &[0.0, 87.5, 62.5]);
        close(&r.scores["b"], &[0.0, 50.0, 100.0]);
        close(&r.scores["i"], &[0.0, 68.75, 81.25]);
        assert_eq!(r.rank, vec![Some(3), Some(2), Some(1)]);
        assert_eq!(r.rank_prefecture, vec![Some(2), Some(1), Some(1)]);
        // Average 50: above it tier 1, below it and below 50 tier 3.
        assert_eq!(r.casted_tier, vec![Some(3), Some(1), Some(1)]);
        assert_eq!(r.ratio_group[2], Some(RatioGroup::Leader), "81.25 / 50 = 1.625 > 1.25");
        let w: Vec<f64> = r.weights.iter().filter(|w| w.node == "a").map(|w| w.effective).collect();
        assert_eq!(w, vec![0.25, 0.75]);
    }

    #[test]
    fn a_column_nothing_changed_is_shared_with_the_panel_not_copied() {
        let (p, c) = panel([Some(5.0), None, Some(3.0)]);
        let same = |a: &Values, b: &Values| std::sync::Arc::ptr_eq(a, b);
        let r = compute(&p, &c, &Method { outliers: Outliers::None, ..Method::default() }).unwrap();
        for k in 0..3 {
            assert!(same(&r.imputed[k], &p.values[k]) && same(&r.treated[k], &r.imputed[k]), "column {k}");
        }
        // COINr's treatment looked at every column and treated none.
        let r = compute(&p, &c, &Method::default()).unwrap();
        assert!(r.treatments.len() == 3 && r.treatments.iter().all(|t| t.detail.pass_before));
        assert!((0..3).all(|k| same(&r.treated[k], &r.imputed[k])));
        // Imputation fills y's gap: y gets a column of its own, with the panel's left as read.
        let m = Method { imputation: Imputation::GroupMean, outliers: Outliers::None, ..Method::default() };
        let r = compute(&p, &c, &m).unwrap();
        assert!(!same(&r.imputed[1], &p.values[1]));
        assert_eq!((p.values[1][1], r.imputed[1][1]), (None, Some(5.0)));
        assert!(same(&r.treated[1], &r.imputed[1]));
    }

    #[test]
    fn a_missing_value_is_skipped_and_the_weights_renormalised() {
        let (p, c) = panel([Some(5.0), None, Some(3.0)]);
        let m = Method { outliers: Outliers::None, ..Method::default() };
        let r = compute(&p, &c, &m).unwrap();
        // y over {5, 3}: c1 → 0, c3 → 100; c2's group a is x alone.
        close(&r.scores["a"], &[0.0, 50.0, 100.0]);
        close(&r.scores["i"], &[0.0, 50.0, 100.0]);
        // Imputing the prefecture mean gives c2 the y of c1 (its only neighbour): 5 → 0.
        let m = Method { imputation: Imputation::GroupMean, outliers: Outliers::None, ..Method::default() };
        let r = compute(&p, &c, &m).unwrap();
        assert_eq!(r.imputed[1][1], Some(5.0));
        assert!(r.was_imputed[1][1]);
        close(&r.scores["a"], &[0.0, 12.5, 100.0]);
    }

    #[test]
    fn a_year_in_which_no_child_varies_takes_the_pooled_weights() {
        // Two years; in 2023 x and y are equal in every county, so group a has no information.
        let (one, c) = panel([Some(5.0), Some(1.0), Some(3.0)]);
        let mut p = one.clone();
        p.years = vec![2023, 2024];
        p.valid = vec![true; 6];
        p.values = one
            .values
            .iter()
            .enumerate()
            .map(|(k, v)| {
                Values::new(if k < 2 {
                    [vec![Some(7.0); 3], v.to_vec()].concat()
                } else {
                    [v.to_vec(), v.to_vec()].concat()
                })
            })
            .collect();
        let m = Method {
            outliers: Outliers::None,
            weights: WeightScheme::Entropy,
            weights_years: WeightsYears::PerYear,
            ..Method::default()
        };
        let r = compute(&p, &c, &m).unwrap();
        let of = |year| -> Vec<f64> {
            r.weights.iter().filter(|w| w.node == "a" && w.year == Some(year)).map(|w| w.effective).collect()
        };
        let pooled = {
            let m = Method { weights_years: WeightsYears::Pooled, ..m.clone() };
            let r = compute(&p, &c, &m).unwrap();
            r.weights.iter().filter(|w| w.node == "a").map(|w| w.effective).collect::<Vec<f64>>()
        };
        assert_eq!(of(2023), pooled, "no information in 2023: the pooled set");
        assert_ne!(of(2024), pooled, "2024 has its own");
        // Group b has one child: weight 1 in every year.
        assert!(r.weights.iter().filter(|w| w.node == "b").all(|w| w.effective == 1.0));
    }

    #[test]
    fn geometric_mean_needs_positive_scores() {
        let (p, c) = panel([Some(5.0), Some(1.0), Some(3.0)]);
        let m = Method { outliers: Outliers::None, aggregation: Agg::Geometric, ..Method::default() };
        assert!(compute(&p, &c, &m).is_err(), "min-max [0, 100] has zeros");
        let m = Method { scale: [1.0, 100.0], ..m };
        let r = compute(&p, &c, &m).unwrap();
        // c3: a = 100^0.25 · 50.5^0.75, b = 100, index = sqrt(a · b).
        let a = 100f64.powf(0.25) * 50.5f64.powf(0.75);
        close(&r.scores["i"][2..], &[(a * 100.0).sqrt()]);
    }
}
