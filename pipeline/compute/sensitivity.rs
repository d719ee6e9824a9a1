//! How solid is a rank: a Monte Carlo over the method choices (COINr's `get_sensitivity`), with rank
//! intervals per county and year and Saltelli/Jansen sensitivity indices per choice. Pure: no I/O.
//!
//! Design (Saltelli 2010): two random matrices A and B of N rows, one column per uncertain choice,
//! and for every choice i the matrix AB_i (A with column i from B): N·(F + 2) runs in all. Every
//! run is a valid random replication, so all of them feed the rank intervals. The output whose
//! variance is decomposed is COINr's: the mean absolute rank shift from the published ranks.
//! The normalised indicator columns of every normalisation × imputation option are prepared
//! once; a run only reweights, aggregates and ranks. One job (design, runs, intervals, indices),
//! kept in one file: its parts share the design and read best together.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::index::{self, Agg, Imputation, IndexError, IndexResult, Method, NodeInfo, NormKind, Panel};
use super::methods;
use crate::catalog::Catalog;
use crate::codes::{Choice, Options};

pub use super::method::SensitivitySettings;

/// Rank interval of one county in one year (rows as in the panel).
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    pub nominal: Option<u32>,
    pub median: Option<f64>,
    pub p05: Option<u32>,
    pub p95: Option<u32>,
    /// Share of replications with the county in its published CASTED tier.
    pub same_tier: Option<f64>,
}

/// First-order and total sensitivity index of one choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub factor: Choice,
    /// The options switched between, for readers.
    pub options: Options,
    pub first_order: f64,
    pub total: f64,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub intervals: Vec<Interval>,
    pub indices: Vec<Index>,
    pub runs: usize,
    /// Variance of the mean absolute rank shift over the runs (0: no choice moves any rank).
    pub variance: f64,
}

/// One uncertain choice and its number of options (0 = continuous: the weight noise).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Factor {
    Weights,
    WeightScheme(usize),
    Normalisation(usize),
    Aggregation(usize),
    Imputation,
    Exclusion(usize),
}

impl Factor {
    fn name(self) -> Choice {
        match self {
            Factor::Weights => Choice::Weights,
            Factor::WeightScheme(_) => Choice::WeightScheme,
            Factor::Normalisation(_) => Choice::Normalisation,
            Factor::Aggregation(_) => Choice::Aggregation,
            Factor::Imputation => Choice::Imputation,
            Factor::Exclusion(_) => Choice::IndicatorExclusion,
        }
    }

    /// A draw of this factor from uniform `u` in [0, 1): an option index, or a noise seed.
    fn draw(self, u: f64, rng_seed: u64) -> u64 {
        let pick = |n: usize| ((u * n as f64) as usize).min(n - 1) as u64;
        match self {
            Factor::Weights => rng_seed,
            Factor::Normalisation(n) | Factor::Aggregation(n) | Factor::WeightScheme(n) => pick(n),
            Factor::Imputation => pick(2),
            Factor::Exclusion(n) => pick(n),
        }
    }
}

/// The published method's choices plus the uncertain ones, resolved against the panel.
struct Design<'a> {
    nodes: Vec<NodeInfo>,
    /// [weight scheme][node] → weight sets (one, or one per year), children in order; scheme 0
    /// is the published one unless the scheme is an uncertain choice.
    weights: Vec<Vec<Vec<Vec<f64>>>>,
    /// Per node child: indicator column (Ok) or node index (Err).
    children: Vec<Vec<Result<usize, usize>>>,
    /// [normalisation][imputation option] → normalised scored columns.
    columns: Vec<Vec<Vec<Vec<Option<f64>>>>>,
    factors: Vec<Factor>,
    aggregations: Vec<Agg>,
    /// The published aggregation of each node (per-level overrides applied), used unless
    /// aggregation is an uncertain choice.
    level_aggs: Vec<Agg>,
    noise: f64,
    panel: &'a Panel,
    method: &'a Method,
    base_idx: Option<usize>,
    nominal_rank: &'a [Option<u32>],
    nominal_tier: &'a [Option<u8>],
    /// Pooled range of the published index, the scale every replication is put on for its tiers.
    nominal_range: (f64, f64),
    casted_floor: f64,
    /// Position of the index among the nodes.
    root: usize,
}

/// One replication as a caller sees it (`analyse_with`): rows as in the panel.
pub struct Replication<'a> {
    /// The index, put on the published index's pooled range (so thresholds and shares compare).
    pub index: &'a [Option<f64>],
    /// Rank within the year (None: no index).
    pub rank: &'a [Option<u32>],
    /// CASTED tier on the published scale.
    pub tier: &'a [Option<u8>],
}

/// Run the analysis for the published `nominal` result of `method`.
pub fn analyse(
    panel: &Panel,
    catalog: &Catalog,
    method: &Method,
    nominal: &IndexResult,
    s: &SensitivitySettings,
) -> Result<Analysis, IndexError> {
    Ok(analyse_with(panel, catalog, method, nominal, s, |_| ())?.0)
}

/// The analysis, and what `each` makes of every replication (in run order): figures derived
/// from the index (a funding allocation) get their intervals from the same replications.
pub fn analyse_with<T: Send>(
    panel: &Panel,
    catalog: &Catalog,
    method: &Method,
    nominal: &IndexResult,
    s: &SensitivitySettings,
    each: impl Fn(&Replication<'_>) -> T + Sync,
) -> Result<(Analysis, Vec<T>), IndexError> {
    let nodes = nominal.nodes.clone();
    let node_pos = |code: &str| nodes.iter().position(|n| n.code == code);
    let children: Vec<Vec<Result<usize, usize>>> = nodes
        .iter()
        .map(|n| {
            n.children
                .iter()
                .map(|c| match panel.indicators.iter().position(|i| i == c) {
                    Some(k) => Ok(k),
                    None => Err(node_pos(c).expect("children come before parents")),
                })
                .collect()
        })
        .collect();
    // Options: normalisations and imputation; every replication's scores are kept positive so
    // that a geometric or power mean and the MPI are defined (min-max on [1, 100], z-scores as
    // 50 ± 10 floored at 1, or 100 ± 10 with the MPI).
    let level_aggs: Vec<Agg> = nodes
        .iter()
        .map(|n| method.aggregation_by_level.get(&n.level.to_string()).copied().unwrap_or(method.aggregation))
        .collect();
    // The aggregations a run uses: the uncertain ones, or else the published ones per level.
    // Geometric means and the MPI need positive scores, a power mean non-negative ones.
    let used = if s.aggregations.len() > 1 { &s.aggregations } else { &level_aggs };
    let keep_positive = used.iter().any(|a| matches!(a, Agg::Geometric | Agg::Mpi | Agg::Power));
    let norms: Vec<NormKind> =
        if s.normalisations.is_empty() { vec![method.normalisation] } else { s.normalisations.clone() };
    // The MPI is defined on z-scores around 100: on other scores its penalty can exceed the mean.
    let mpi = used.contains(&Agg::Mpi);
    if mpi && norms.iter().any(|n| *n != NormKind::Zscore) {
        return Err(IndexError::Config(
            "[sensitivity] switches to or keeps the Mazziotta–Pareto index (mpi), which is defined on z-scores \
             around 100: use normalisations = [\"zscore\"] there, or leave mpi out of aggregations"
                .into(),
        ));
    }
    let imputations: Vec<Imputation> = if s.imputation {
        let on = if method.imputation == Imputation::None { Imputation::GroupMean } else { method.imputation };
        vec![method.imputation, if on == method.imputation { Imputation::None } else { on }]
    } else {
        vec![method.imputation]
    };
    let mut columns = Vec::new();
    for &norm in &norms {
        let mut per_imp = Vec::new();
        for &imp in &imputations {
            let mut m = method.clone();
            m.normalisation = norm;
            m.imputation = imp;
            // Only the normalised columns are kept: aggregate in the way that cannot fail.
            m.weights = index::WeightScheme::Catalog;
            m.aggregation = Agg::Arithmetic;
            m.aggregation_by_level.clear();
            if norm != method.normalisation || keep_positive {
                m.scale = match norm {
                    NormKind::Zscore if mpi => [100.0, 10.0],
                    NormKind::Zscore => [50.0, 10.0],
                    _ => [1.0, 100.0],
                };
            }
            let r = index::compute(panel, catalog, &m)?;
            let floor = if keep_positive { Some(1.0) } else { None };
            per_imp.push(
                r.normalised
                    .into_iter()
                    .map(|c| c.into_iter().map(|v| v.map(|x| floor.map_or(x, |f: f64| x.max(f)))).collect())
                    .collect(),
            );
        }
        columns.push(per_imp);
    }

    // Weight sets: the published ones, or those of every scheme switched between.
    let schemes: Vec<index::WeightScheme> = if s.weights.len() > 1 { s.weights.clone() } else { vec![method.weights] };
    let weights = if schemes.len() > 1 {
        schemes
            .iter()
            .map(|&w| {
                Ok(index::weight_sets(&index::compute(panel, catalog, &Method { weights: w, ..method.clone() })?))
            })
            .collect::<Result<Vec<_>, IndexError>>()?
    } else {
        vec![index::weight_sets(nominal)]
    };
    let mut factors = Vec::new();
    if s.weight_noise > 0.0 {
        factors.push(Factor::Weights);
    }
    if schemes.len() > 1 {
        factors.push(Factor::WeightScheme(schemes.len()));
    }
    if norms.len() > 1 {
        factors.push(Factor::Normalisation(norms.len()));
    }
    let aggregations = if s.aggregations.is_empty() { vec![method.aggregation] } else { s.aggregations.clone() };
    if aggregations.len() > 1 {
        factors.push(Factor::Aggregation(aggregations.len()));
    }
    if imputations.len() > 1 {
        factors.push(Factor::Imputation);
    }
    if s.exclude_indicators && panel.indicators.len() > 1 {
        factors.push(Factor::Exclusion(panel.indicators.len() + 1));
    }

    let index_code = &catalog.index.code;
    let nominal_index = &nominal.scores[index_code];
    let present: Vec<f64> = nominal_index.iter().flatten().copied().collect();
    let nominal_range = (
        present.iter().copied().fold(f64::INFINITY, f64::min),
        present.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let d = Design {
        nodes: nodes.clone(),
        weights,
        children,
        columns,
        factors: factors.clone(),
        aggregations,
        level_aggs,
        noise: s.weight_noise,
        panel,
        method,
        base_idx: index::base_index(panel, method)?,
        nominal_rank: &nominal.rank,
        nominal_tier: &nominal.casted_tier,
        nominal_range,
        casted_floor: method.tiers.casted_floor,
        root: node_pos(index_code).ok_or_else(|| IndexError::Config("the index has no node".into()))?,
    };

    // The Saltelli matrices: N rows of F draws each, from one seeded stream.
    let n = s.samples.max(2);
    let f = factors.len();
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let draw_matrix = |rng: &mut ChaCha8Rng| -> Vec<Vec<u64>> {
        (0..n).map(|_| factors.iter().map(|fac| fac.draw(rng.random::<f64>(), rng.random::<u64>())).collect()).collect()
    };
    let a = draw_matrix(&mut rng);
    let b = draw_matrix(&mut rng);
    let mut runs: Vec<Vec<u64>> = Vec::with_capacity(n * (f + 2));
    runs.extend(a.iter().cloned());
    runs.extend(b.iter().cloned());
    for i in 0..f {
        for r in 0..n {
            let mut row = a[r].clone();
            row[i] = b[r][i];
            runs.push(row);
        }
    }

    let (outputs, derived): (Vec<Run>, Vec<T>) =
        runs.par_iter().map(|draw| d.run(draw, &each)).collect::<Result<Vec<_>, _>>()?.into_iter().unzip();
    let y: Vec<f64> = outputs.iter().map(|o| o.shift).collect();

    // Sensitivity indices: first order (Saltelli 2010), total (Jansen 1999).
    let (ya, yb) = (&y[..n], &y[n..2 * n]);
    let all: Vec<f64> = ya.iter().chain(yb).copied().collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let variance = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64;
    let options = |fac: Factor| -> Options {
        match fac {
            Factor::Weights => Options::Noise { percent: s.weight_noise * 100.0 },
            Factor::WeightScheme(_) => Options::Choices { names: names(&schemes) },
            Factor::Normalisation(_) => Options::Choices { names: names(&norms) },
            Factor::Aggregation(_) => Options::Choices { names: names(&d.aggregations) },
            Factor::Imputation => Options::Choices { names: names(&imputations) },
            Factor::Exclusion(k) => Options::LeaveOneOut { indicators: k as u32 - 1 },
        }
    };
    let indices = factors
        .iter()
        .enumerate()
        .map(|(i, &fac)| {
            let yab = &y[(2 + i) * n..(3 + i) * n];
            let (first, total) = if variance > 0.0 {
                let s1 = (0..n).map(|r| yb[r] * (yab[r] - ya[r])).sum::<f64>() / n as f64 / variance;
                let st = (0..n).map(|r| (ya[r] - yab[r]).powi(2)).sum::<f64>() / (2 * n) as f64 / variance;
                (s1, st)
            } else {
                (0.0, 0.0)
            };
            Index { factor: fac.name(), options: options(fac), first_order: first, total }
        })
        .collect();

    // Rank intervals per county and year over all runs.
    let rows = panel.rows();
    let total_runs = outputs.len();
    let intervals = (0..rows)
        .into_par_iter()
        .map(|row| {
            let mut ranks: Vec<u16> = outputs.iter().map(|o| o.ranks[row]).filter(|&r| r > 0).collect();
            if ranks.is_empty() {
                return Interval { nominal: d.nominal_rank[row], median: None, p05: None, p95: None, same_tier: None };
            }
            ranks.sort_unstable();
            let q = |p: f64| u32::from(ranks[((p * (ranks.len() - 1) as f64).round() as usize).min(ranks.len() - 1)]);
            let median = if ranks.len() % 2 == 1 {
                f64::from(ranks[ranks.len() / 2])
            } else {
                (f64::from(ranks[ranks.len() / 2 - 1]) + f64::from(ranks[ranks.len() / 2])) / 2.0
            };
            // Among the runs in which the county has an index at all.
            let same = outputs.iter().filter(|o| o.same_tier[row]).count();
            let scored = outputs.iter().filter(|o| o.ranks[row] > 0).count();
            Interval {
                nominal: d.nominal_rank[row],
                median: Some(median),
                p05: Some(q(0.05)),
                p95: Some(q(0.95)),
                same_tier: d.nominal_tier[row].map(|_| same as f64 / scored.max(1) as f64),
            }
        })
        .collect();
    Ok((Analysis { intervals, indices, runs: total_runs, variance }, derived))
}

/// Options as the config file spells them: `minmax, zscore`.
fn names<T: Serialize>(options: &[T]) -> Vec<String> {
    let name = |o: &T| serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    options.iter().map(name).collect()
}

/// One replication's outcome.
struct Run {
    /// Rank per row (0 = none).
    ranks: Vec<u16>,
    same_tier: Vec<bool>,
    /// Mean absolute rank shift from the published ranks.
    shift: f64,
}

impl Design<'_> {
    fn run<T>(&self, draw: &[u64], each: &impl Fn(&Replication<'_>) -> T) -> Result<(Run, T), IndexError> {
        let (mut norm, mut agg, mut imp, mut excluded, mut noise_seed, mut scheme) = (0, 0, 0, None, None, 0);
        for (fac, &v) in self.factors.iter().zip(draw) {
            match fac {
                Factor::Weights => noise_seed = Some(v),
                Factor::WeightScheme(_) => scheme = v as usize,
                Factor::Normalisation(_) => norm = v as usize,
                Factor::Aggregation(_) => agg = v as usize,
                Factor::Imputation => imp = v as usize,
                Factor::Exclusion(_) => excluded = (v > 0).then(|| v as usize - 1),
            }
        }
        let cols = &self.columns[norm][imp];
        let agg_is_uncertain = self.factors.iter().any(|f| matches!(f, Factor::Aggregation(_)));
        let mut noise = noise_seed.map(ChaCha8Rng::seed_from_u64);
        let mut scores: Vec<Vec<Option<f64>>> = Vec::with_capacity(self.nodes.len());
        for (ni, node_children) in self.children.iter().enumerate() {
            // One noise factor per child, applied to each of its weight sets.
            let mut factor = vec![1.0; node_children.len()];
            if let Some(rng) = noise.as_mut() {
                for x in factor.iter_mut() {
                    *x = 1.0 + self.noise * (2.0 * rng.random::<f64>() - 1.0);
                }
            }
            for (ci, c) in node_children.iter().enumerate() {
                if matches!(c, Ok(k) if Some(*k) == excluded) {
                    factor[ci] = 0.0;
                }
            }
            // A set left with no weight (every child it weighs left out) scores none of its
            // years; the node is absent only when that is every set.
            let sets: Vec<Vec<f64>> = self.weights[scheme][ni]
                .iter()
                .map(|set| {
                    let w: Vec<f64> = set.iter().zip(&factor).map(|(w, f)| w * f).collect();
                    let sum: f64 = w.iter().sum();
                    if sum > 0.0 {
                        w.iter().map(|x| x / sum).collect()
                    } else {
                        w
                    }
                })
                .collect();
            if sets.iter().all(|w| w.iter().sum::<f64>() <= 0.0) {
                scores.push(vec![None; self.panel.rows()]);
                continue;
            }
            let columns: Vec<&[Option<f64>]> = node_children
                .iter()
                .map(|c| match c {
                    Ok(k) => cols[*k].as_slice(),
                    Err(j) => scores[*j].as_slice(),
                })
                .collect();
            let agg = if agg_is_uncertain { self.aggregations[agg] } else { self.level_aggs[ni] };
            let s = index::aggregate_node(self.panel, self.method, agg, &columns, &sets, self.base_idx)
                .map_err(|source| IndexError::Aggregate { node: self.nodes[ni].code.clone(), source })?;
            scores.push(s);
        }
        let index = &scores[self.root];

        // Ranks within each year; tiers on the published scale.
        let rows = self.panel.rows();
        let units = self.panel.units.len();
        let mut ranks = vec![0u16; rows];
        let mut same_tier = vec![false; rows];
        let mut rescaled: Vec<Option<f64>> = vec![None; rows];
        let mut full_rank: Vec<Option<u32>> = vec![None; rows];
        let mut tiers: Vec<Option<u8>> = vec![None; rows];
        let present: Vec<f64> = index.iter().flatten().copied().collect();
        let (lo, hi) = (
            present.iter().copied().fold(f64::INFINITY, f64::min),
            present.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let (nlo, nhi) = self.nominal_range;
        let rescale = |x: f64| if hi > lo { nlo + (x - lo) / (hi - lo) * (nhi - nlo) } else { x };
        let (mut shift, mut counted) = (0.0, 0usize);
        for y in 0..self.panel.years.len() {
            let sl = y * units..(y + 1) * units;
            let r = methods::rank_desc_min(&index[sl.clone()]);
            let vals: Vec<f64> = index[sl.clone()].iter().flatten().map(|&x| rescale(x)).collect();
            let mean = if vals.is_empty() { 0.0 } else { vals.iter().sum::<f64>() / vals.len() as f64 };
            for (i, row) in sl.enumerate() {
                full_rank[row] = r[i];
                if let Some(rk) = r[i] {
                    ranks[row] = rk.min(u32::from(u16::MAX)) as u16;
                    if let Some(nom) = self.nominal_rank[row] {
                        shift += (f64::from(rk) - f64::from(nom)).abs();
                        counted += 1;
                    }
                }
                if let Some(v) = index[row] {
                    let v = rescale(v);
                    let tier = if v > mean {
                        1
                    } else if v >= self.casted_floor {
                        2
                    } else {
                        3
                    };
                    rescaled[row] = Some(v);
                    tiers[row] = Some(tier);
                    same_tier[row] = self.nominal_tier[row] == Some(tier);
                }
            }
        }
        let derived = each(&Replication { index: &rescaled, rank: &full_rank, tier: &tiers });
        Ok((Run { ranks, same_tier, shift: if counted > 0 { shift / counted as f64 } else { 0.0 } }, derived))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::index::Unit;
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

[[groups]]
code = "b"
name_zh = "乙"
name_en = "B"
parent = "i"

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
weight = 2

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

    /// Six counties over two years; county c1 is first on every indicator.
    fn panel() -> (Panel, Catalog) {
        let unit = |c: &str| Unit {
            code: c.into(),
            name: c.into(),
            prefecture_code: "p".into(),
            prefecture_name: "p".into(),
            province_code: "P".into(),
            province_name: "P".into(),
            peer_group: None,
        };
        let col = |v: [f64; 12]| v.iter().map(|x| Some(*x)).collect::<Vec<_>>();
        let panel = Panel {
            units: ["c1", "c2", "c3", "c4", "c5", "c6"].iter().map(|c| unit(c)).collect(),
            years: vec![2023, 2024],
            indicators: vec!["x".into(), "y".into(), "z".into()],
            values: crate::compute::panel::shared(vec![
                col([90.0, 30.0, 50.0, 10.0, 40.0, 20.0, 95.0, 35.0, 45.0, 15.0, 40.0, 25.0]),
                col([80.0, 60.0, 20.0, 50.0, 10.0, 30.0, 85.0, 55.0, 25.0, 50.0, 15.0, 30.0]),
                col([70.0, 10.0, 60.0, 40.0, 50.0, 20.0, 75.0, 15.0, 55.0, 45.0, 50.0, 20.0]),
            ]),
            valid: vec![true; 12],
        };
        (panel, Catalog::parse(CATALOG, Path::new("test.toml")).unwrap())
    }

    fn analyse_with(s: &SensitivitySettings) -> (Analysis, IndexResult) {
        let (p, c) = panel();
        let method = Method::default();
        let nominal = index::compute(&p, &c, &method).unwrap();
        (analyse(&p, &c, &method, &nominal, s).unwrap(), nominal)
    }

    fn settings() -> SensitivitySettings {
        SensitivitySettings { samples: 40, ..SensitivitySettings::default() }
    }

    /// Nothing uncertain: no noise, one option for every choice.
    fn fixed() -> SensitivitySettings {
        SensitivitySettings {
            weight_noise: 0.0,
            normalisations: vec![NormKind::Minmax],
            aggregations: vec![Agg::Arithmetic],
            imputation: false,
            exclude_indicators: false,
            ..settings()
        }
    }

    #[test]
    fn without_noise_and_with_one_method_the_interval_is_the_nominal_rank() {
        let s = fixed();
        let (a, nominal) = analyse_with(&s);
        assert!(a.indices.is_empty(), "no uncertain choice");
        assert_eq!(a.runs, 80);
        for (iv, nom) in a.intervals.iter().zip(&nominal.rank) {
            assert_eq!((iv.p05, iv.p95, iv.nominal), (*nom, *nom, *nom));
            assert_eq!(iv.median, nom.map(f64::from));
            assert_eq!(iv.same_tier, Some(1.0));
        }
        assert_eq!(a.variance, 0.0);
    }

    #[test]
    fn per_level_aggregation_is_kept_when_aggregation_is_not_uncertain() {
        let (p, c) = panel();
        let mut method = Method { scale: [1.0, 100.0], ..Method::default() };
        method.aggregation_by_level.insert("3".into(), Agg::Geometric);
        let nominal = index::compute(&p, &c, &method).unwrap();
        let s = fixed();
        let a = analyse(&p, &c, &method, &nominal, &s).unwrap();
        for (iv, nom) in a.intervals.iter().zip(&nominal.rank) {
            assert_eq!((iv.p05, iv.p95), (*nom, *nom));
        }
    }

    #[test]
    fn a_county_first_on_every_indicator_stays_first() {
        let (a, nominal) = analyse_with(&settings());
        assert!(a.variance > 0.0, "the other ranks do move");
        for row in [0, 6] {
            assert_eq!(nominal.rank[row], Some(1));
            assert_eq!((a.intervals[row].p05, a.intervals[row].p95), (Some(1), Some(1)));
        }
        // Some county's interval is wider than one rank: the analysis is not vacuous.
        assert!(a.intervals.iter().any(|iv| iv.p95 > iv.p05));
    }

    #[test]
    fn a_choice_that_cannot_change_anything_has_zero_indices() {
        // No value is missing, so switching imputation on and off changes nothing.
        let (a, _) = analyse_with(&settings());
        let imp = a.indices.iter().find(|i| i.factor == Choice::Imputation).expect("imputation is a factor");
        assert_eq!((imp.first_order, imp.total), (0.0, 0.0));
        let norm = a.indices.iter().find(|i| i.factor == Choice::Normalisation).unwrap();
        assert!(norm.total > 0.0, "{:?}", a.indices);
    }

    #[test]
    fn the_same_seed_gives_the_same_results() {
        let (a, _) = analyse_with(&settings());
        let (b, _) = analyse_with(&settings());
        assert_eq!(a.intervals, b.intervals);
        assert_eq!(a.indices, b.indices);
        let (c, _) = analyse_with(&SensitivitySettings { seed: 7, ..settings() });
        assert_ne!(a.indices, c.indices, "another seed, another sample");
    }
}
