//! The report context: what templates see, built from the published Parquet tables (never internal types).
//!
//! `Tables::load` does the reading; `build` is pure and deterministic (sorted vectors only), so a
//! context serialises to the same bytes for the same tables, which the renderer relies on.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::catalog::{Catalog, Kind};
use crate::regions::Registry;
use crate::store::{StoreError, Table};
use crate::targets::{Op, Target};

/// Report language: names from the catalog's `name_zh` or `name_en`, labels from `labels.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// The published tables a report reads.
pub struct Tables {
    pub index: Table,
    pub scores: Table,
    pub normalised: Table,
    pub weights: Table,
    pub growth: Table,
    pub attainment: Table,
    pub method: Table,
    pub sources: Table,
    /// (county code as stored, input file) for every file that holds a value of the county.
    pub county_files: Vec<(String, String)>,
    /// Rank intervals and sensitivity indices; None for results computed without them.
    pub uncertainty: Option<Table>,
    pub sensitivity: Option<Table>,
}

impl Tables {
    pub fn load(results: &Path, store: &Path) -> Result<Tables, StoreError> {
        let r = |name| Table::read(results, name);
        Ok(Tables {
            index: r("index")?,
            scores: r("scores")?,
            normalised: r("normalised")?,
            weights: r("weights")?,
            growth: r("growth")?,
            attainment: r("attainment")?,
            method: r("method")?,
            sources: Table::read(store, "sources")?,
            county_files: county_files(store)?,
            uncertainty: optional(results, "uncertainty")?,
            sensitivity: optional(results, "sensitivity")?,
        })
    }
}

/// A table that older results may lack.
fn optional(dir: &Path, name: &str) -> Result<Option<Table>, StoreError> {
    if dir.join(format!("{name}.parquet")).is_file() {
        Table::read(dir, name).map(Some)
    } else {
        Ok(None)
    }
}

/// Which files hold values of which county, from the observations' provenance.
fn county_files(store: &Path) -> Result<Vec<(String, String)>, StoreError> {
    use polars::prelude::{col, UniqueKeepStrategy};
    let pl = |source| StoreError::Polars { path: store.join("observations"), source };
    let df = crate::store::scan_observations(store)?
        .select([col("region_code"), col("source_file")])
        .unique_stable(None, UniqueKeepStrategy::Any)
        .collect()
        .map_err(pl)?;
    let codes = df.column("region_code").and_then(|c| c.str().cloned()).map_err(pl)?;
    let files = df.column("source_file").and_then(|c| c.str().cloned()).map_err(pl)?;
    Ok(codes.iter().zip(files.iter()).filter_map(|(c, f)| Some((c?.to_string(), f?.to_string()))).collect())
}

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: no index for {year}; the results hold {available}")]
    NoYear { path: std::path::PathBuf, year: i32, available: String },
    #[error("{path}: the results are empty: run `cimon compute` on a store with data")]
    Empty { path: std::path::PathBuf },
}

/// What every report of a run shares.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub lang: &'static str,
    pub year: i32,
    pub first_year: i32,
    /// Some input file declares synthetic data (示例数据).
    pub synthetic: bool,
    pub cimon_version: &'static str,
    pub index_name: String,
    /// Counties with an index in `year`.
    pub counties: usize,
    pub provinces: Vec<String>,
    pub dimensions: Vec<Named>,
    /// Spans (years) of the average annual growth columns, as computed.
    pub growth_spans: Vec<u32>,
    /// The CASTED floor of tier 2 (from the method table).
    pub casted_floor: Option<f64>,
    /// Sensitivity indices, most influential first, and the replications behind them.
    pub sensitivity: Vec<Sensitivity>,
    pub sensitivity_runs: u32,
    pub method: Vec<MethodRow>,
    pub weights: Vec<WeightRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Named {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodRow {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeightRow {
    pub level: u32,
    pub node: String,
    pub child: String,
    pub child_code: String,
    pub catalog_weight: Option<f64>,
    pub weight: Option<f64>,
    pub scheme: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub revision: bool,
    pub observations: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub prefecture_code: String,
    pub prefecture: String,
    pub province: String,
}

/// One county's standing in one year.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    pub index: Option<f64>,
    pub rank: Option<u32>,
    pub rank_prefecture: Option<u32>,
    pub rank_province: Option<u32>,
    pub rank_change: Option<i32>,
    pub tier: Option<u32>,
    pub ratio_to_average: Option<f64>,
    pub ratio_group: Option<String>,
    pub indicators_present: Option<u32>,
    /// Counties ranked that year, and in the county's prefecture.
    pub of: usize,
    pub of_prefecture: usize,
    /// 90% rank interval over the method replications ([sensitivity]), its median, and the
    /// share of replications in the same tier.
    pub p05: Option<u32>,
    pub p95: Option<u32>,
    pub median_rank: Option<f64>,
    pub same_tier: Option<f64>,
}

/// A method choice and how much it moves the ranks.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    pub factor: String,
    pub options: String,
    pub first_order: Option<f64>,
    pub total: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub year: i32,
    pub index: Option<f64>,
    pub rank: Option<u32>,
    pub average: Option<f64>,
    pub prefecture_average: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DimensionScore {
    pub code: String,
    pub name: String,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub average: Option<f64>,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRow {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// Top-level dimension, or "" for context series (not scored).
    pub dimension: String,
    pub scored: bool,
    /// count, amount, rate or ratio.
    pub kind: &'static str,
    pub direction: i32,
    pub value: Option<f64>,
    /// "%" or "pp".
    pub change_unit: String,
    pub yoy: Option<f64>,
    pub yoy_note: Option<String>,
    /// Average annual growth per span of `Meta::growth_spans`.
    pub avg: Vec<Option<f64>>,
    pub rank: Option<u32>,
    pub of: usize,
    pub imputed: bool,
    pub treated: bool,
    pub out_of_range: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    pub id: String,
    pub indicator: String,
    pub unit: String,
    /// The indicator is a ratio: its growth is in percentage points.
    pub ratio: bool,
    pub kind: &'static str,
    /// ">=" or "<=" (level, flow, cumulative).
    pub op: Option<&'static str>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub start: i32,
    pub end: i32,
    pub source: String,
    pub eval_year: Option<i32>,
    pub actual: Option<f64>,
    pub target: Option<f64>,
    pub attainment: Option<f64>,
    pub attainment_capped: Option<f64>,
    pub needed_per_year: Option<f64>,
    pub projected: Option<f64>,
    pub status: String,
    pub note: Option<String>,
}

/// Everything the county template sees besides `meta`.
#[derive(Debug, Clone, Serialize)]
pub struct CountyReport {
    pub county: Place,
    pub standing: Standing,
    pub history: Vec<HistoryPoint>,
    pub dimensions: Vec<DimensionScore>,
    /// Dimensions by rank among counties: best first.
    pub strongest: Option<DimensionScore>,
    pub weakest: Option<DimensionScore>,
    pub indicators: Vec<IndicatorRow>,
    pub targets: Vec<TargetRow>,
    pub targets_at_risk: Vec<TargetRow>,
    /// The input files holding this county's values: a change elsewhere leaves its report as it is.
    pub sources: Vec<SourceRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankRow {
    pub place: Place,
    pub standing: Standing,
    pub scores: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Leader {
    pub dimension: String,
    pub counties: Vec<(String, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetSummary {
    pub id: String,
    pub indicator: String,
    pub kind: &'static str,
    pub end: i32,
    pub source: String,
    pub counties: usize,
    /// Counts per status, in the order achieved, on_track, at_risk, off_track, no_data.
    pub status: Vec<(String, usize)>,
    /// Counties at risk or off track.
    pub lagging: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaSection {
    pub code: String,
    pub name: String,
    pub average: Option<f64>,
    pub rows: Vec<RankRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub rows: Vec<RankRow>,
    pub average: Option<f64>,
    /// CASTED tiers 1..3: (tier, count).
    pub tiers: Vec<(u32, usize)>,
    pub ratio_groups: Vec<(String, usize)>,
    pub leaders: Vec<Leader>,
    pub movers_up: Vec<RankRow>,
    pub movers_down: Vec<RankRow>,
    pub targets: Vec<TargetSummary>,
    /// Sections per prefecture (empty when there is only one).
    pub prefectures: Vec<AreaSection>,
    /// Sections per province (empty when there is only one).
    pub provinces: Vec<AreaSection>,
    /// Every input file.
    pub sources: Vec<SourceRow>,
}

/// All contexts of one run.
pub struct Contexts {
    pub meta: Meta,
    pub counties: Vec<CountyReport>,
    pub overview: Overview,
}

pub const STATUSES: [&str; 5] = ["achieved", "on_track", "at_risk", "off_track", "no_data"];

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// A method value for readers: JSON objects as `k = v; …`, arrays as `a, b`, null and `{}` as none.
fn readable(value: &str) -> String {
    fn show(v: &serde_json::Value) -> String {
        match v {
            serde_json::Value::Null => "none".into(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(", "),
            serde_json::Value::Object(o) if o.is_empty() => "none".into(),
            serde_json::Value::Object(o) => {
                o.iter().map(|(k, v)| format!("{k} = {}", show(v))).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        }
    }
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(v @ (serde_json::Value::Null | serde_json::Value::Array(_) | serde_json::Value::Object(_))) => show(&v),
        _ => value.to_string(),
    }
}

/// Competition ranks (1 = best, ties share the minimum) of `values`, higher is better.
fn ranks(values: &[Option<f64>]) -> Vec<Option<u32>> {
    let mut order: Vec<(usize, f64)> = values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = vec![None; values.len()];
    let mut rank = 0u32;
    let mut prev = f64::NAN;
    for (pos, (i, v)) in order.iter().enumerate() {
        if pos == 0 || *v != prev {
            rank = pos as u32 + 1;
            prev = *v;
        }
        out[*i] = Some(rank);
    }
    out
}

/// Build every context for `year` (default: the latest year in the index table).
pub fn build(
    t: &Tables,
    catalog: &Catalog,
    registry: &Registry,
    targets: &[Target],
    year: Option<i32>,
    lang: Lang,
) -> Result<Contexts, ContextError> {
    let name = |zh: &str, en: &str| if lang == Lang::En && !en.is_empty() { en.to_string() } else { zh.to_string() };

    // Index table: one row per county and year.
    let codes = t.index.str("region_code")?;
    let years_col = t.index.i32("year")?;
    let mut years: Vec<i32> = years_col.iter().flatten().copied().collect();
    years.sort_unstable();
    years.dedup();
    let Some(&latest) = years.last() else {
        return Err(ContextError::Empty { path: t.index.path.clone() });
    };
    let year = year.unwrap_or(latest);
    if !years.contains(&year) {
        let available = format!("{}–{}", years[0], latest);
        return Err(ContextError::NoYear { path: t.index.path.clone(), year, available });
    }
    let index = t.index.f64("index")?;
    let rank = t.index.u32("rank")?;
    let rank_pref = t.index.u32("rank_prefecture")?;
    let rank_prov = t.index.u32("rank_province")?;
    let rank_change = t.index.i32("rank_change")?;
    let tier = t.index.u32("casted_tier")?;
    let ratio = t.index.f64("ratio_to_average")?;
    let group = t.index.str("ratio_group")?;
    let present = t.index.u32("indicators_present")?;
    let pref_codes = t.index.str("prefecture_code")?;

    // Dimensions: the index's children, in catalog order.
    let dims: Vec<Named> = catalog
        .groups
        .iter()
        .filter(|g| g.parent.as_deref() == Some(catalog.index.code.as_str()))
        .map(|g| Named { code: g.code.clone(), name: name(&g.name_zh, &g.name_en) })
        .collect();
    let dim_scores: Vec<Vec<Option<f64>>> = dims
        .iter()
        .map(|d| {
            let c = format!("score_{}", d.code);
            if t.index.has(&c) {
                t.index.f64(&c)
            } else {
                Ok(vec![None; t.index.len()])
            }
        })
        .collect::<Result<_, _>>()?;

    let place = |code: &str| -> Place {
        let r = registry.get(code);
        Place {
            code: code.to_string(),
            name: r.map_or_else(|| code.to_string(), |r| r.name.clone()),
            prefecture_code: r.map_or_else(String::new, |r| r.prefecture_code.clone()),
            prefecture: r.map_or_else(String::new, |r| r.prefecture_name.clone()),
            province: r.map_or_else(String::new, |r| r.province_name.clone()),
        }
    };

    // Per-year field sizes and averages (all counties, and per prefecture).
    let mut field: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    let mut pref_field: HashMap<(i32, &str), Vec<f64>> = HashMap::new();
    let mut pref_count: HashMap<(i32, &str), usize> = HashMap::new();
    for i in 0..t.index.len() {
        let (Some(y), Some(p)) = (years_col[i], pref_codes[i]) else { continue };
        if let Some(v) = index[i] {
            field.entry(y).or_default().push(v);
            pref_field.entry((y, p)).or_default().push(v);
        }
        if rank[i].is_some() {
            *pref_count.entry((y, p)).or_default() += 1;
        }
    }
    let avg_of = |y: i32| field.get(&y).and_then(|v| mean(v.iter().copied()));
    let pref_avg_of = |y: i32, p: &str| pref_field.get(&(y, p)).and_then(|v| mean(v.iter().copied()));
    let of_year = field.get(&year).map_or(0, Vec::len);

    // Rank intervals by (county, year).
    // (p05, p95, median, same-tier share)
    type Interval = (Option<u32>, Option<u32>, Option<f64>, Option<f64>);
    let mut interval: HashMap<(&str, i32), Interval> = HashMap::new();
    let mut sensitivity_runs = 0;
    if let Some(u) = &t.uncertainty {
        let (c, y, lo, hi, med, same, runs) = (
            u.str("region_code")?,
            u.i32("year")?,
            u.u32("p05_rank")?,
            u.u32("p95_rank")?,
            u.f64("median_rank")?,
            u.f64("same_tier_share")?,
            u.u32("runs")?,
        );
        for i in 0..u.len() {
            if let (Some(c), Some(y)) = (c[i], y[i]) {
                interval.insert((c, y), (lo[i], hi[i], med[i], same[i]));
                sensitivity_runs = sensitivity_runs.max(runs[i].unwrap_or(0));
            }
        }
    }
    let standing = |i: usize| {
        let iv = match (codes[i], years_col[i]) {
            (Some(c), Some(y)) => interval.get(&(c, y)).copied(),
            _ => None,
        };
        let (p05, p95, median_rank, same_tier) = iv.unwrap_or((None, None, None, None));
        Standing {
            index: index[i],
            rank: rank[i],
            rank_prefecture: rank_pref[i],
            rank_province: rank_prov[i],
            rank_change: rank_change[i],
            tier: tier[i],
            ratio_to_average: ratio[i],
            ratio_group: group[i].map(str::to_string),
            indicators_present: present[i],
            of: years_col[i].and_then(|y| field.get(&y)).map_or(0, Vec::len),
            of_prefecture: match (years_col[i], pref_codes[i]) {
                (Some(y), Some(p)) => pref_count.get(&(y, p)).copied().unwrap_or(0),
                _ => 0,
            },
            p05,
            p95,
            median_rank,
            same_tier,
        }
    };

    // Rows of the report year, best rank first (unranked last, by code).
    let mut rows_year: Vec<usize> = (0..t.index.len()).filter(|&i| years_col[i] == Some(year)).collect();
    rows_year.sort_by(|&a, &b| {
        (rank[a].unwrap_or(u32::MAX), codes[a].unwrap_or(""))
            .cmp(&(rank[b].unwrap_or(u32::MAX), codes[b].unwrap_or("")))
    });
    let rank_row = |i: usize| RankRow {
        place: place(codes[i].unwrap_or("")),
        standing: standing(i),
        scores: dim_scores.iter().map(|s| s[i]).collect(),
    };
    let rows: Vec<RankRow> = rows_year.iter().map(|&i| rank_row(i)).collect();

    // History rows per county.
    let mut by_county: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in codes.iter().enumerate() {
        if let Some(c) = c {
            by_county.entry(*c).or_default().push(i);
        }
    }

    // Dimension ranks from the scores table, for the report year.
    let s_code = t.scores.str("region_code")?;
    let s_year = t.scores.i32("year")?;
    let s_node = t.scores.str("node")?;
    let s_rank = t.scores.u32("rank")?;
    let mut node_rank: HashMap<(&str, &str), u32> = HashMap::new();
    for i in 0..t.scores.len() {
        if s_year[i] == Some(year) {
            if let (Some(c), Some(n), Some(r)) = (s_code[i], s_node[i], s_rank[i]) {
                node_rank.insert((c, n), r);
            }
        }
    }
    let dim_avg: Vec<Option<f64>> = dim_scores.iter().map(|s| mean(rows_year.iter().filter_map(|&i| s[i]))).collect();

    // Weights: parent and child by name; the index's own children give the dimension weights.
    let w_node = t.weights.str("node")?;
    let w_child = t.weights.str("child")?;
    let w_level = t.weights.u32("level")?;
    let w_cat = t.weights.f64("catalog_weight")?;
    let w_eff = t.weights.f64("effective_weight")?;
    let w_scheme = t.weights.str("scheme")?;
    let node_name = |code: &str| -> String {
        if code == catalog.index.code {
            name(&catalog.index.name_zh, &catalog.index.name_en)
        } else if let Some(g) = catalog.groups.iter().find(|g| g.code == code) {
            name(&g.name_zh, &g.name_en)
        } else if let Some(ind) = catalog.indicator(code) {
            name(&ind.name_zh, &ind.name_en)
        } else {
            code.to_string()
        }
    };
    let mut weights: Vec<WeightRow> = (0..t.weights.len())
        .map(|i| WeightRow {
            level: w_level[i].unwrap_or(0),
            node: node_name(w_node[i].unwrap_or("")),
            child: node_name(w_child[i].unwrap_or("")),
            child_code: w_child[i].unwrap_or("").to_string(),
            catalog_weight: w_cat[i],
            weight: w_eff[i],
            scheme: w_scheme[i].unwrap_or("").to_string(),
        })
        .collect();
    // Top level first, as a reader reads the framework.
    weights.sort_by_key(|w| std::cmp::Reverse(w.level));
    let dim_weight: HashMap<&str, f64> = (0..t.weights.len())
        .filter(|&i| w_node[i] == Some(catalog.index.code.as_str()))
        .filter_map(|i| Some((w_child[i]?, w_eff[i]?)))
        .collect();

    // Indicators: the top-level dimension of each (walking up the hierarchy).
    let parent_of: HashMap<&str, &str> =
        catalog.groups.iter().filter_map(|g| Some((g.code.as_str(), g.parent.as_deref()?))).collect();
    let top_dimension = |code: &str| -> String {
        let mut cur = code.to_string();
        for _ in 0..64 {
            match parent_of.get(cur.as_str()) {
                Some(&p) if p == catalog.index.code => return cur,
                Some(&p) => cur = p.to_string(),
                None => break,
            }
        }
        String::new()
    };
    let ind_dim: Vec<String> =
        catalog.indicators.iter().map(|i| i.group.as_deref().map_or_else(String::new, top_dimension)).collect();

    // Growth table, report year: value and changes per (county, indicator).
    let g_code = t.growth.str("region_code")?;
    let g_year = t.growth.i32("year")?;
    let g_ind = t.growth.str("indicator")?;
    let g_value = t.growth.f64("value")?;
    let g_unit = t.growth.str("change_unit")?;
    let g_yoy = t.growth.f64("yoy")?;
    let g_yoy_note = t.growth.str("yoy_note")?;
    let mut spans: Vec<u32> = t
        .growth
        .df
        .get_column_names()
        .iter()
        .filter_map(|c| c.strip_prefix("avg_")?.strip_suffix('y')?.parse().ok())
        .collect();
    spans.sort_unstable();
    let g_avg: Vec<Vec<Option<f64>>> =
        spans.iter().map(|n| t.growth.f64(&format!("avg_{n}y"))).collect::<Result<_, _>>()?;
    let ind_pos: HashMap<&str, usize> =
        catalog.indicators.iter().enumerate().map(|(k, i)| (i.code.as_str(), k)).collect();
    // (county, indicator index) → growth row; and per indicator the year's values for ranks.
    let mut growth_row: HashMap<(&str, usize), usize> = HashMap::new();
    let mut by_ind: Vec<Vec<(&str, Option<f64>)>> = vec![Vec::new(); catalog.indicators.len()];
    for i in 0..t.growth.len() {
        if g_year[i] != Some(year) {
            continue;
        }
        let (Some(c), Some(k)) = (g_code[i], g_ind[i].and_then(|x| ind_pos.get(x))) else { continue };
        growth_row.insert((c, *k), i);
        let dir = catalog.indicators[*k].direction;
        by_ind[*k].push((c, g_value[i].map(|v| v * dir.signum())));
    }
    let mut ind_rank: HashMap<(&str, usize), (u32, usize)> = HashMap::new();
    for (k, vals) in by_ind.iter().enumerate() {
        let r = ranks(&vals.iter().map(|x| x.1).collect::<Vec<_>>());
        let of = vals.iter().filter(|x| x.1.is_some()).count();
        for ((c, _), r) in vals.iter().zip(r) {
            if let Some(r) = r {
                ind_rank.insert((c, k), (r, of));
            }
        }
    }
    // Flags from the normalised table.
    let n_code = t.normalised.str("region_code")?;
    let n_year = t.normalised.i32("year")?;
    let n_ind = t.normalised.str("indicator")?;
    let n_imp = t.normalised.bool("imputed")?;
    let n_tr = t.normalised.bool("treated")?;
    let mut flags: HashMap<(&str, usize), (bool, bool)> = HashMap::new();
    for i in 0..t.normalised.len() {
        if n_year[i] != Some(year) {
            continue;
        }
        if let (Some(c), Some(k)) = (n_code[i], n_ind[i].and_then(|x| ind_pos.get(x))) {
            flags.insert((c, *k), (n_imp[i] == Some(true), n_tr[i] == Some(true)));
        }
    }

    // Attainment rows per county.
    let a_id = t.attainment.str("target_id")?;
    let a_code = t.attainment.str("region_code")?;
    let a_eval = t.attainment.i32("eval_year")?;
    let a_actual = t.attainment.f64("actual")?;
    let a_target = t.attainment.f64("target")?;
    let a_att = t.attainment.f64("attainment")?;
    let a_cap = t.attainment.f64("attainment_capped")?;
    let a_need = t.attainment.f64("needed_per_year")?;
    let a_proj = t.attainment.f64("projected")?;
    let a_status = t.attainment.str("status")?;
    let a_note = t.attainment.str("note")?;
    let target_by_id: HashMap<&str, &Target> = targets.iter().map(|x| (x.id.as_str(), x)).collect();
    let target_row = |i: usize| -> Option<TargetRow> {
        let tg = target_by_id.get(a_id[i]?)?;
        let ind = catalog.indicator(&tg.indicator)?;
        Some(TargetRow {
            id: tg.id.clone(),
            indicator: name(&ind.name_zh, &ind.name_en),
            unit: ind.unit.clone(),
            ratio: ind.kind == Kind::Ratio,
            kind: tg.kind.as_str(),
            op: tg.op.map(|o| match o {
                Op::AtLeast => ">=",
                Op::AtMost => "<=",
            }),
            min: tg.min,
            max: tg.max,
            start: tg.start,
            end: tg.end,
            source: tg.source.clone(),
            eval_year: a_eval[i],
            actual: a_actual[i],
            target: a_target[i],
            attainment: a_att[i],
            attainment_capped: a_cap[i],
            needed_per_year: a_need[i],
            projected: a_proj[i],
            status: a_status[i].unwrap_or("no_data").to_string(),
            note: a_note[i].map(str::to_string),
        })
    };
    let mut att_by_county: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in a_code.iter().enumerate() {
        if let Some(c) = c {
            att_by_county.entry(*c).or_default().push(i);
        }
    }

    let src_file = t.sources.str("file")?;
    let src_sha = t.sources.str("sha256")?;
    let src_bytes = t.sources.u64("bytes")?;
    let src_rev = t.sources.bool("revision")?;
    let src_obs = t.sources.u64("observations")?;
    // Stores written before the `synthetic` column existed carry no marker.
    let src_syn = if t.sources.has("synthetic") { t.sources.bool("synthetic")? } else { vec![None; t.sources.len()] };
    let sources: Vec<SourceRow> = (0..t.sources.len())
        .map(|i| SourceRow {
            file: src_file[i].unwrap_or("").into(),
            sha256: src_sha[i].unwrap_or("").into(),
            bytes: src_bytes[i].unwrap_or(0),
            revision: src_rev[i] == Some(true),
            observations: src_obs[i].unwrap_or(0),
        })
        .collect();
    let synthetic = src_syn.contains(&Some(true));
    let mut files_of: HashMap<String, Vec<&str>> = HashMap::new();
    for (code, file) in &t.county_files {
        files_of.entry(registry.current_code(code).to_string()).or_default().push(file.as_str());
    }

    // Counties of the report year.
    let mut counties = Vec::with_capacity(rows_year.len());
    for &i in &rows_year {
        let code = codes[i].unwrap_or("");
        let pl = place(code);
        let pref = pref_codes[i].unwrap_or("");
        let mut hist_rows = by_county.get(code).cloned().unwrap_or_default();
        hist_rows.sort_by_key(|&j| years_col[j]);
        let history: Vec<HistoryPoint> = hist_rows
            .iter()
            .filter(|&&j| years_col[j].is_some_and(|y| y <= year))
            .map(|&j| {
                let y = years_col[j].unwrap_or(year);
                HistoryPoint {
                    year: y,
                    index: index[j],
                    rank: rank[j],
                    average: avg_of(y),
                    prefecture_average: pref_avg_of(y, pref),
                }
            })
            .collect();
        let dimensions: Vec<DimensionScore> = dims
            .iter()
            .enumerate()
            .map(|(d, dim)| DimensionScore {
                code: dim.code.clone(),
                name: dim.name.clone(),
                score: dim_scores[d][i],
                rank: node_rank.get(&(code, dim.code.as_str())).copied(),
                average: dim_avg[d],
                weight: dim_weight.get(dim.code.as_str()).copied(),
            })
            .collect();
        let mut by_rank: Vec<&DimensionScore> = dimensions.iter().filter(|d| d.rank.is_some()).collect();
        by_rank.sort_by_key(|d| d.rank);
        let strongest = by_rank.first().map(|d| (*d).clone());
        let weakest = (by_rank.len() > 1).then(|| by_rank.last().map(|d| (*d).clone())).flatten();

        let indicators: Vec<IndicatorRow> = catalog
            .indicators
            .iter()
            .enumerate()
            .map(|(k, ind)| {
                let row = growth_row.get(&(code, k)).copied();
                let value = row.and_then(|r| g_value[r]);
                let (imputed, treated) = flags.get(&(code, k)).copied().unwrap_or((false, false));
                let (rank, of) = ind_rank.get(&(code, k)).map_or((None, 0), |&(r, n)| (Some(r), n));
                IndicatorRow {
                    code: ind.code.clone(),
                    name: name(&ind.name_zh, &ind.name_en),
                    unit: ind.unit.clone(),
                    dimension: ind_dim[k].clone(),
                    scored: ind.scored,
                    kind: ind.kind.as_str(),
                    direction: if ind.direction < 0.0 { -1 } else { 1 },
                    value,
                    change_unit: row
                        .and_then(|r| g_unit[r])
                        .map_or_else(|| if ind.kind == Kind::Ratio { "pp" } else { "%" }.to_string(), str::to_string),
                    yoy: row.and_then(|r| g_yoy[r]),
                    yoy_note: row.and_then(|r| g_yoy_note[r]).map(str::to_string),
                    avg: g_avg.iter().map(|a| row.and_then(|r| a[r])).collect(),
                    rank,
                    of,
                    imputed,
                    treated,
                    out_of_range: match (value, ind.range) {
                        (Some(v), Some([lo, hi])) => v < lo || v > hi,
                        _ => false,
                    },
                }
            })
            .collect();
        let mut targets: Vec<TargetRow> =
            att_by_county.get(code).map(|v| v.iter().filter_map(|&j| target_row(j)).collect()).unwrap_or_default();
        targets.sort_by(|a, b| (a.end, &a.id).cmp(&(b.end, &b.id)));
        let targets_at_risk =
            targets.iter().filter(|r| r.status == "at_risk" || r.status == "off_track").cloned().collect();
        counties.push(CountyReport {
            county: pl,
            standing: standing(i),
            history,
            dimensions,
            strongest,
            weakest,
            indicators,
            targets,
            targets_at_risk,
            sources: sources
                .iter()
                .filter(|f| files_of.get(code).is_some_and(|fs| fs.contains(&f.file.as_str())))
                .cloned()
                .collect(),
        });
    }

    // Overview.
    // Every tier and group, empty ones included: "tier 2: 0" is a finding.
    let mut tiers: BTreeMap<u32, usize> = (1..=3).map(|x| (x, 0)).collect();
    let group_order = ["leader", "strong", "moderate", "emerging"];
    let mut groups: BTreeMap<String, usize> = group_order.iter().map(|g| (g.to_string(), 0)).collect();
    for r in &rows {
        if let Some(x) = r.standing.tier {
            *tiers.entry(x).or_default() += 1;
        }
        if let Some(g) = &r.standing.ratio_group {
            *groups.entry(g.clone()).or_default() += 1;
        }
    }
    let mut ratio_groups: Vec<(String, usize)> = groups.into_iter().collect();
    ratio_groups.sort_by_key(|(g, _)| group_order.iter().position(|x| x == g).unwrap_or(group_order.len()));
    let leaders = dims
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            let mut best: Vec<&RankRow> = rows.iter().filter(|r| r.scores[d].is_some()).collect();
            best.sort_by(|a, b| {
                b.scores[d]
                    .unwrap_or(f64::MIN)
                    .total_cmp(&a.scores[d].unwrap_or(f64::MIN))
                    .then(a.place.code.cmp(&b.place.code))
            });
            Leader {
                dimension: dim.name.clone(),
                counties: best.iter().take(3).map(|r| (r.place.name.clone(), r.scores[d])).collect(),
            }
        })
        .collect();
    let mut movers: Vec<&RankRow> = rows.iter().filter(|r| r.standing.rank_change.is_some_and(|c| c != 0)).collect();
    movers.sort_by(|a, b| b.standing.rank_change.cmp(&a.standing.rank_change).then(a.place.code.cmp(&b.place.code)));
    let movers_up: Vec<RankRow> =
        movers.iter().filter(|r| r.standing.rank_change > Some(0)).take(5).map(|r| (*r).clone()).collect();
    let movers_down: Vec<RankRow> =
        movers.iter().rev().filter(|r| r.standing.rank_change < Some(0)).take(5).map(|r| (*r).clone()).collect();

    let mut target_summaries = Vec::new();
    for tg in targets {
        let Some(ind) = catalog.indicator(&tg.indicator) else { continue };
        let mut status: BTreeMap<&str, usize> = BTreeMap::new();
        let mut lagging = Vec::new();
        let mut n = 0;
        for c in &counties {
            if let Some(r) = c.targets.iter().find(|r| r.id == tg.id) {
                n += 1;
                *status.entry(STATUSES.iter().find(|s| **s == r.status).copied().unwrap_or("no_data")).or_default() +=
                    1;
                if r.status == "at_risk" || r.status == "off_track" {
                    lagging.push(c.county.name.clone());
                }
            }
        }
        if n == 0 {
            continue;
        }
        target_summaries.push(TargetSummary {
            id: tg.id.clone(),
            indicator: name(&ind.name_zh, &ind.name_en),
            kind: tg.kind.as_str(),
            end: tg.end,
            source: tg.source.clone(),
            counties: n,
            status: STATUSES.iter().map(|s| (s.to_string(), status.get(s).copied().unwrap_or(0))).collect(),
            lagging,
        });
    }
    target_summaries.sort_by(|a, b| (a.end, &a.id).cmp(&(b.end, &b.id)));

    let sections = |key: fn(&RankRow) -> (&str, &str)| -> Vec<AreaSection> {
        let mut by: BTreeMap<(String, String), Vec<RankRow>> = BTreeMap::new();
        for r in &rows {
            let (c, n) = key(r);
            by.entry((c.to_string(), n.to_string())).or_default().push(r.clone());
        }
        if by.len() < 2 {
            return Vec::new();
        }
        by.into_iter()
            .map(|((code, name), rows)| AreaSection {
                code,
                name,
                average: mean(rows.iter().filter_map(|r| r.standing.index)),
                rows,
            })
            .collect()
    };
    let prefectures = sections(|r| (r.place.prefecture_code.as_str(), r.place.prefecture.as_str()));
    let provinces = sections(|r| (&r.place.province, &r.place.province));
    let mut province_names: Vec<String> = rows.iter().map(|r| r.place.province.clone()).collect();
    province_names.sort();
    province_names.dedup();

    // Method, sources.
    let m_key = t.method.str("key")?;
    let m_val = t.method.str("value")?;
    let method: Vec<MethodRow> = (0..t.method.len())
        .map(|i| MethodRow { key: m_key[i].unwrap_or("").into(), value: m_val[i].unwrap_or("").into() })
        .collect();
    let casted_floor = method
        .iter()
        .find(|m| m.key == "compute.tiers")
        .and_then(|m| serde_json::from_str::<serde_json::Value>(&m.value).ok())
        .and_then(|v| v.get("casted_floor")?.as_f64());
    let method = method.into_iter().map(|m| MethodRow { value: readable(&m.value), key: m.key }).collect();

    let mut sensitivity = Vec::new();
    if let Some(sv) = &t.sensitivity {
        let (f, o, first, total) = (sv.str("factor")?, sv.str("options")?, sv.f64("first_order")?, sv.f64("total")?);
        for i in 0..sv.len() {
            sensitivity.push(Sensitivity {
                factor: f[i].unwrap_or("").to_string(),
                options: o[i].unwrap_or("").to_string(),
                first_order: first[i],
                total: total[i],
            });
        }
    }
    sensitivity.sort_by(|a, b| b.total.unwrap_or(0.0).total_cmp(&a.total.unwrap_or(0.0)).then(a.factor.cmp(&b.factor)));

    let meta = Meta {
        lang: lang.as_str(),
        year,
        first_year: years[0],
        synthetic,
        cimon_version: env!("CARGO_PKG_VERSION"),
        index_name: name(&catalog.index.name_zh, &catalog.index.name_en),
        counties: of_year,
        provinces: province_names,
        dimensions: dims,
        growth_spans: spans,
        casted_floor,
        sensitivity,
        sensitivity_runs,
        method,
        weights,
    };
    let overview = Overview {
        average: avg_of(year),
        rows,
        tiers: tiers.into_iter().collect(),
        ratio_groups,
        leaders,
        movers_up,
        movers_down,
        targets: target_summaries,
        prefectures,
        provinces,
        sources,
    };
    Ok(Contexts { meta, counties, overview })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_values_read_as_text() {
        assert_eq!(readable("null"), "none");
        assert_eq!(readable("{}"), "none");
        assert_eq!(readable("[3, 5]"), "3, 5");
        assert_eq!(
            readable(r#"{"casted_floor":50.0,"ratio_thresholds":[0.7,1.0,1.25]}"#),
            "casted_floor = 50.0; ratio_thresholds = 0.7, 1.0, 1.25"
        );
        assert_eq!(readable("minmax"), "minmax");
    }

    #[test]
    fn ranks_share_the_minimum_on_ties_and_skip_missing() {
        let r = ranks(&[Some(3.0), None, Some(5.0), Some(3.0), Some(1.0)]);
        assert_eq!(r, vec![Some(2), None, Some(1), Some(2), Some(4)]);
    }
}
