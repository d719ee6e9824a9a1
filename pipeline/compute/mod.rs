//! The compute stage: store → panel → index, growth and target attainment → result tables in `out/results/`.

pub mod attainment;
pub mod explain;
pub mod growth;
pub mod index;
pub mod methods;
pub mod sensitivity;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::regions::Registry;
use crate::store::{self, StoreError};
use crate::targets::Target;
use attainment::Series as YearSeries;
use index::{IndexResult, Method, Panel, Unit};

/// Growth settings (`[growth]` in the config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GrowthSettings {
    /// Average annual growth spans in years, besides year-on-year.
    pub spans: Vec<i32>,
    /// Also report growth since this year.
    pub base_year: Option<i32>,
}

impl Default for GrowthSettings {
    fn default() -> Self {
        GrowthSettings { spans: vec![3, 5], base_year: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the store {path}")]
    Polars { path: std::path::PathBuf, source: PolarsError },
    #[error("the store {0} has no values of scored indicators")]
    Empty(std::path::PathBuf),
    #[error("index: {0}")]
    Index(#[from] index::IndexError),
}

/// The store's observations as a dense panel of every catalog indicator, counties under the
/// code they have today (京山县 420821 → 京山市 420882), so series continue across code changes.
pub fn load_panel(store_dir: &Path, registry: &Registry, catalog: &Catalog) -> Result<Panel, ComputeError> {
    let pl = |source| ComputeError::Polars { path: store_dir.to_owned(), source };
    let obs = store::scan_observations(store_dir)?
        .select([col("region_code"), col("year"), col("indicator"), col("value")])
        .collect()
        .map_err(pl)?;
    build_panel(&obs, registry, catalog).map_err(pl)
}

/// Dense panel from observation rows (`region_code, year, indicator, value`).
pub fn build_panel(obs: &DataFrame, registry: &Registry, catalog: &Catalog) -> Result<Panel, PolarsError> {
    let regions = obs.column("region_code")?.str()?;
    let years = obs.column("year")?.i32()?;
    let inds = obs.column("indicator")?.str()?;
    let values = obs.column("value")?.f64()?;
    // Distinct values through polars (hashing there is far cheaper than a BTreeSet of 10⁶ rows).
    let year_list: Vec<i32> =
        obs.column("year")?.unique()?.i32()?.iter().flatten().collect::<BTreeSet<_>>().into_iter().collect();
    let distinct_regions = obs.column("region_code")?.unique()?;
    let mut current: HashMap<&str, &str> = HashMap::new();
    for r in &registry.regions {
        current.insert(r.code.as_str(), registry.current_code(&r.code));
    }
    let unknown: Vec<&str> = distinct_regions.str()?.iter().flatten().filter(|c| !current.contains_key(c)).collect();
    if !unknown.is_empty() {
        polars_bail!(ComputeError: "region codes {} are in the store but not in the registry {}: compute with the registry the store was ingested with",
            unknown.iter().take(10).copied().collect::<Vec<_>>().join(", "), registry.path.display());
    }
    let unit_set: BTreeSet<&str> =
        distinct_regions.str()?.iter().flatten().filter_map(|c| current.get(c).copied()).collect();
    let units: Vec<Unit> = unit_set
        .iter()
        .filter_map(|c| registry.get(c))
        .map(|r| Unit {
            code: r.code.clone(),
            name: r.name.clone(),
            prefecture_code: r.prefecture_code.clone(),
            prefecture_name: r.prefecture_name.clone(),
            province_code: r.province_code.clone(),
            province_name: r.province_name.clone(),
        })
        .collect();
    let indicators: Vec<String> = catalog.indicators.iter().map(|i| i.code.clone()).collect();
    let unit_idx: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.code.as_str(), i)).collect();
    let code_idx: HashMap<&str, usize> =
        current.iter().filter_map(|(c, cur)| Some((*c, *unit_idx.get(cur)?))).collect();
    let ind_idx: HashMap<&str, usize> = indicators.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let first_year = year_list.first().copied().unwrap_or(0);
    let year_pos: Vec<usize> = {
        let span = year_list.last().map_or(0, |l| (l - first_year + 1) as usize);
        let mut v = vec![usize::MAX; span];
        for (i, y) in year_list.iter().enumerate() {
            v[(y - first_year) as usize] = i;
        }
        v
    };
    let n = units.len();
    let mut cols = vec![vec![None; n * year_list.len()]; indicators.len()];
    // Rows come grouped by county and cycle through the indicators: try the last county and
    // the next indicator before hashing.
    let (mut last_r, mut last_u): (&str, Option<usize>) = ("", None);
    let mut last_k = 0usize;
    for ((r, y), (k, v)) in regions.iter().zip(years.iter()).zip(inds.iter().zip(values.iter())) {
        let (Some(r), Some(y), Some(k)) = (r, y, k) else { continue };
        if r != last_r {
            last_r = r;
            last_u = code_idx.get(r).copied();
        }
        let guess = (last_k + 1) % indicators.len();
        let ki = if indicators[guess] == k { Some(guess) } else { ind_idx.get(k).copied() };
        if let (Some(u), Some(ki)) = (last_u, ki) {
            last_k = ki;
            cols[ki][year_pos[(y - first_year) as usize] * n + u] = v;
        }
    }
    Ok(Panel { units, years: year_list, indicators, values: cols })
}

/// The panel restricted to the scored indicators, in catalog order.
pub fn scored(panel: &Panel, catalog: &Catalog) -> Panel {
    let keep: Vec<usize> = (0..panel.indicators.len())
        .filter(|&k| catalog.indicator(&panel.indicators[k]).is_some_and(|i| i.scored))
        .collect();
    Panel {
        units: panel.units.clone(),
        years: panel.years.clone(),
        indicators: keep.iter().map(|&k| panel.indicators[k].clone()).collect(),
        values: keep.iter().map(|&k| panel.values[k].clone()).collect(),
    }
}

/// Everything compute produces, before it is written.
pub struct Computed {
    /// Every catalog indicator.
    pub panel: Panel,
    /// The scored indicators, as the index saw them.
    pub scored: Panel,
    pub index: IndexResult,
    pub growth: Vec<growth::Measure>,
    pub attainment: Vec<attainment::Attainment>,
    pub attainment_years: Vec<attainment::YearDetail>,
    /// Rank intervals and sensitivity indices (None when `[sensitivity] enabled = false`).
    pub sensitivity: Option<sensitivity::Analysis>,
    /// When the computation started, for the timings that `CIMON_TIMINGS=1` prints.
    pub started: std::time::Instant,
}

pub fn compute(
    store_dir: &Path,
    catalog: &Catalog,
    registry: &Registry,
    targets: &[Target],
    method: &Method,
    growth_settings: &GrowthSettings,
    sensitivity_settings: &sensitivity::SensitivitySettings,
) -> Result<Computed, ComputeError> {
    let t0 = std::time::Instant::now();
    let lap = |what: &str| {
        if std::env::var_os("CIMON_TIMINGS").is_some() {
            eprintln!("timing: {what} {:.3}s", t0.elapsed().as_secs_f64());
        }
    };
    let panel = load_panel(store_dir, registry, catalog)?;
    lap("load");
    let scored_panel = scored(&panel, catalog);
    if panel.units.is_empty() || scored_panel.values.iter().all(|c| c.iter().all(Option::is_none)) {
        return Err(ComputeError::Empty(store_dir.to_owned()));
    }
    let index = index::compute(&scored_panel, catalog, method)?;
    lap("index");

    let mut spans: Vec<growth::Span> = growth_settings.spans.iter().map(|&n| growth::Span::Years(n)).collect();
    if let Some(b) = growth_settings.base_year {
        spans.push(growth::Span::Since(b));
    }
    let growth = growth::growth(&panel, catalog, &spans);
    lap("growth");

    let unit_idx: HashMap<&str, usize> = panel.units.iter().enumerate().map(|(i, u)| (u.code.as_str(), i)).collect();
    let mut att = Vec::new();
    let mut years = Vec::new();
    for t in targets {
        let Some(k) = panel.indicators.iter().position(|c| c == &t.indicator) else { continue };
        let counties: BTreeSet<&str> = registry
            .within(&t.scope)
            .map(|r| registry.current_code(&r.code))
            .filter(|c| unit_idx.contains_key(c))
            .collect();
        for c in counties {
            let u = unit_idx[c];
            let series: YearSeries =
                panel.years.iter().enumerate().map(|(yi, &y)| (y, panel.values[k][panel.row(yi, u)])).collect();
            let (a, d) = attainment::evaluate(t, c, &series, catalog);
            att.push(a);
            years.extend(d);
        }
    }
    lap("attainment");
    let sensitivity = if sensitivity_settings.enabled {
        let a = sensitivity::analyse(&scored_panel, catalog, method, &index, sensitivity_settings)?;
        lap(&format!("sensitivity ({} replications)", a.runs));
        Some(a)
    } else {
        None
    };
    Ok(Computed {
        panel,
        scored: scored_panel,
        index,
        growth,
        attainment: att,
        attainment_years: years,
        sensitivity,
        started: t0,
    })
}

/// Key-value description of how the numbers were made, for the `method` table and Parquet footers.
pub fn method_description(method: &Method, growth: &GrowthSettings, catalog: &Catalog) -> Vec<(String, String)> {
    let mut kv: Vec<(String, String)> = Vec::new();
    let json = serde_json::to_value(method).expect("method serialises");
    if let serde_json::Value::Object(m) = json {
        for (k, v) in m {
            kv.push((format!("compute.{k}"), v.to_string().trim_matches('"').to_string()));
        }
    }
    kv.push(("growth.spans".into(), format!("{:?}", growth.spans)));
    kv.push(("growth.base_year".into(), growth.base_year.map_or("none".into(), |b| b.to_string())));
    kv.push(("catalog".into(), catalog.path.display().to_string()));
    kv.push((
        "conventions".into(),
        "direction multiplied in before normalising; min-max (x−min)/(max−min)·(u−l)+l; z-score with the sample sd; \
         ranks: ties take the minimum; weighted means skip missing values and renormalise the remaining weights; \
         outliers (COINr): a year's column is treated when |skew| ≥ 2 and kurtosis ≥ 3.5, winsorising up to 5 points, \
         else log(x − min + 0.01·(max − min)); growth 水平法, ratios in percentage points"
            .into(),
    ));
    kv
}

/// A string column of repeated values, gathered from the distinct ones: string views are
/// copied instead of strings built one by one (5× faster at national scale).
fn gathered<T: AsRef<[S]>, S>(name: &str, distinct: T, idx: Vec<IdxSize>) -> PolarsResult<Column>
where
    Series: NamedFrom<T, [S]>,
{
    let s = Series::new(name.into(), distinct);
    Ok(s.take(&IdxCa::from_vec(name.into(), idx))?.into_column())
}

/// Write every result table atomically into `out_dir` (e.g. `out/results`).
pub fn write(
    out_dir: &Path,
    c: &Computed,
    catalog: &Catalog,
    method: &Method,
    growth: &GrowthSettings,
) -> Result<Vec<String>, StoreError> {
    let staging = store::staging_dir(out_dir)?;
    match write_into(&staging, c, catalog, method, growth) {
        Ok(names) => {
            store::publish_dir(&staging, out_dir)?;
            timing(c, "written and published");
            Ok(names)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// With `CIMON_TIMINGS` set, print the time since the computation started.
fn timing(c: &Computed, what: &str) {
    if std::env::var_os("CIMON_TIMINGS").is_some() {
        eprintln!("timing: {what} {:.3}s", c.started.elapsed().as_secs_f64());
    }
}

/// Write every result table, and the Excel workbook, into the empty directory `dir`, unpublished.
pub fn write_into(
    dir: &Path,
    c: &Computed,
    catalog: &Catalog,
    method: &Method,
    growth: &GrowthSettings,
) -> Result<Vec<String>, StoreError> {
    use rayon::prelude::*;
    let description = method_description(method, growth, catalog);
    let meta = vec![("cimon.method".to_string(), serde_json::to_string(&description).unwrap())];
    let mut built = Vec::new();
    for (name, df) in tables(c, catalog, method, growth) {
        let path = dir.join(format!("{name}.parquet"));
        built.push((name, df.map_err(|source| StoreError::Polars { path, source })?));
    }
    timing(c, "all tables in memory");
    let table = |n: &str| &built.iter().find(|(name, _)| *name == n).expect("built above").1;
    let book = dir.join(crate::workbook::FILE);
    let (written, workbook) = rayon::join(
        || {
            built
                .par_iter()
                .map(|(name, df)| {
                    let mut df = df.clone();
                    store::write_parquet(&dir.join(format!("{name}.parquet")), &mut df, &meta)?;
                    Ok(name.to_string())
                })
                .collect::<Result<Vec<String>, StoreError>>()
        },
        || crate::workbook::write(&book, table("index"), table("growth"), table("attainment"), &description, catalog),
    );
    let mut written = written?;
    workbook.map_err(|e| StoreError::Io { path: book.clone(), source: std::io::Error::other(e.to_string()) })?;
    written.push(crate::workbook::FILE.to_string());
    Ok(written)
}

fn tables<'a>(
    c: &'a Computed,
    catalog: &'a Catalog,
    method: &Method,
    growth: &GrowthSettings,
) -> Vec<(&'static str, PolarsResult<DataFrame>)> {
    let p = &c.scored;
    let r = &c.index;
    let rows = p.rows();
    let unit_of = |i: usize| &p.units[i % p.units.len()];
    let year_of = |i: usize| p.years[i / p.units.len()];
    let groups: Vec<&str> = catalog.groups.iter().map(|g| g.code.as_str()).collect();

    // index: wide, one row per county and year.
    let index_df = || -> PolarsResult<DataFrame> {
        let mut cols = vec![
            store::col("region_code", (0..rows).map(|i| unit_of(i).code.as_str()).collect::<Vec<_>>()),
            store::col("year", (0..rows).map(year_of).collect::<Vec<_>>()),
            store::col("region_name", (0..rows).map(|i| unit_of(i).name.as_str()).collect::<Vec<_>>()),
            store::col("prefecture_code", (0..rows).map(|i| unit_of(i).prefecture_code.as_str()).collect::<Vec<_>>()),
            store::col("prefecture_name", (0..rows).map(|i| unit_of(i).prefecture_name.as_str()).collect::<Vec<_>>()),
            store::col("province_code", (0..rows).map(|i| unit_of(i).province_code.as_str()).collect::<Vec<_>>()),
            store::col("province_name", (0..rows).map(|i| unit_of(i).province_name.as_str()).collect::<Vec<_>>()),
            store::col("index", r.scores[&catalog.index.code].clone()),
            store::col("rank", r.rank.clone()),
            store::col("rank_prefecture", r.rank_prefecture.clone()),
            store::col("rank_province", r.rank_province.clone()),
            store::col("rank_change", r.rank_change.clone()),
            store::col("casted_tier", r.casted_tier.iter().map(|t| t.map(u32::from)).collect::<Vec<_>>()),
            store::col("ratio_to_average", r.ratio_to_average.clone()),
            store::col("ratio_group", r.ratio_group.clone()),
            store::col(
                "indicators_present",
                (0..rows).map(|i| r.normalised.iter().filter(|c| c[i].is_some()).count() as u32).collect::<Vec<_>>(),
            ),
        ];
        for g in &groups {
            cols.push(store::col(&format!("score_{g}"), r.scores[*g].clone()));
        }
        DataFrame::new_infer_height(cols)
    };

    // scores: long, every aggregate node.
    let unit_codes: Vec<&str> = p.units.iter().map(|u| u.code.as_str()).collect();
    let n_units = p.units.len() as IdxSize;
    let scores_df = || -> PolarsResult<DataFrame> {
        let node_codes: Vec<&str> = r.nodes.iter().map(|n| n.code.as_str()).collect();
        let (mut yr, mut lvl, mut score, mut rank) = (vec![], vec![], vec![], vec![]);
        for n in &r.nodes {
            for i in 0..rows {
                yr.push(year_of(i));
                lvl.push(n.level as u32);
                score.push(r.scores[&n.code][i]);
                rank.push(r.node_rank[&n.code][i]);
            }
        }
        let all = (rows * r.nodes.len()) as IdxSize;
        DataFrame::new_infer_height(vec![
            gathered("region_code", &unit_codes, (0..all).map(|i| i % n_units).collect())?,
            store::col("year", yr),
            gathered("node", &node_codes, (0..all).map(|i| i / rows as IdxSize).collect())?,
            store::col("level", lvl),
            store::col("score", score),
            store::col("rank", rank),
        ])
    };

    // normalised: every scored indicator through each step.
    let normalised_df = || -> PolarsResult<DataFrame> {
        let ind_codes: Vec<&str> = p.indicators.iter().map(String::as_str).collect();
        let all = (rows * p.indicators.len()) as IdxSize;
        let flat = |v: &Vec<Vec<Option<f64>>>| v.iter().flatten().copied().collect::<Vec<_>>();
        let treated: Vec<bool> =
            r.treated.iter().zip(&r.imputed).flat_map(|(t, i)| t.iter().zip(i).map(|(a, b)| a != b)).collect();
        DataFrame::new_infer_height(vec![
            gathered("region_code", &unit_codes, (0..all).map(|i| i % n_units).collect())?,
            store::col("year", (0..all as usize).map(|i| year_of(i % rows)).collect::<Vec<_>>()),
            gathered("indicator", &ind_codes, (0..all).map(|i| i / rows as IdxSize).collect())?,
            store::col("raw", flat(&p.values)),
            store::col("imputed_value", flat(&r.imputed)),
            store::col("imputed", r.was_imputed.iter().flatten().copied().collect::<Vec<_>>()),
            store::col("treated_value", flat(&r.treated)),
            store::col("treated", treated),
            store::col("normalised", flat(&r.normalised)),
        ])
    };

    let weights_df = DataFrame::new_infer_height(vec![
        store::col("node", r.weights.iter().map(|w| w.node.as_str()).collect::<Vec<_>>()),
        store::col("child", r.weights.iter().map(|w| w.child.as_str()).collect::<Vec<_>>()),
        store::col("level", r.weights.iter().map(|w| w.level as u32).collect::<Vec<_>>()),
        store::col("catalog_weight", r.weights.iter().map(|w| w.catalog).collect::<Vec<_>>()),
        store::col("effective_weight", r.weights.iter().map(|w| w.effective).collect::<Vec<_>>()),
        store::col(
            "scheme",
            r.weights.iter().map(|_| format!("{:?}", method.weights).to_lowercase()).collect::<Vec<_>>(),
        ),
    ]);

    let t = &r.treatments;
    let treatment_df = DataFrame::new_infer_height(vec![
        store::col("indicator", t.iter().map(|x| x.indicator.as_str()).collect::<Vec<_>>()),
        store::col("year", t.iter().map(|x| x.year).collect::<Vec<_>>()),
        store::col("skew_before", t.iter().map(|x| x.detail.skew_before).collect::<Vec<_>>()),
        store::col("kurtosis_before", t.iter().map(|x| x.detail.kurt_before).collect::<Vec<_>>()),
        store::col("treated", t.iter().map(|x| !x.detail.pass_before).collect::<Vec<_>>()),
        store::col("winsorised_points", t.iter().map(|x| x.detail.winsorised as u32).collect::<Vec<_>>()),
        store::col("log_transformed", t.iter().map(|x| x.detail.log_transformed).collect::<Vec<_>>()),
        store::col("skew_after", t.iter().map(|x| x.detail.skew_after).collect::<Vec<_>>()),
        store::col("kurtosis_after", t.iter().map(|x| x.detail.kurt_after).collect::<Vec<_>>()),
    ]);

    // growth: one row per county, year and indicator (every catalog indicator), a column per measure.
    let growth_df = || -> PolarsResult<DataFrame> {
        let g = &c.panel;
        let g_rows = g.rows();
        let all = (g_rows * g.indicators.len()) as IdxSize;
        let ind_codes: Vec<&str> = g.indicators.iter().map(String::as_str).collect();
        let kinds: Vec<&str> =
            g.indicators.iter().map(|c| catalog.indicator(c).map_or("", |m| m.kind.as_str())).collect();
        let units: Vec<&str> = kinds.iter().map(|k| if *k == "ratio" { "pp" } else { "%" }).collect();
        let ind_idx: Vec<IdxSize> = (0..all).map(|i| i / g_rows as IdxSize).collect();
        let g_units: Vec<&str> = g.units.iter().map(|u| u.code.as_str()).collect();
        let mut cols = vec![
            gathered("region_code", &g_units, (0..all).map(|i| i % g.units.len() as IdxSize).collect())?,
            store::col("year", (0..all as usize).map(|i| g.years[(i % g_rows) / g.units.len()]).collect::<Vec<_>>()),
            gathered("indicator", &ind_codes, ind_idx.clone())?,
            gathered("kind", &kinds, ind_idx.clone())?,
            store::col("value", g.values.iter().flatten().copied().collect::<Vec<_>>()),
            gathered("change_unit", &units, ind_idx)?,
        ];
        for m in &c.growth {
            let name = m.span.column();
            cols.push(store::col(&name, m.change.iter().flatten().copied().collect::<Vec<_>>()));
            let notes =
                [None, Some(growth::NOTE_VALUE_MISSING), Some(growth::NOTE_NO_BASE), Some(growth::NOTE_BAD_BASE)];
            let idx =
                m.note.iter().flatten().map(|n| notes.iter().position(|x| x == n).unwrap_or(0) as IdxSize).collect();
            cols.push(gathered(&format!("{name}_note"), notes, idx)?);
        }
        DataFrame::new_infer_height(cols)
    };
    // The big tables are independent: build them on both cores.
    let ((index_df, scores_df), (normalised_df, growth_df)) =
        rayon::join(|| rayon::join(index_df, scores_df), || rayon::join(normalised_df, growth_df));

    let a = &c.attainment;
    let attainment_df = DataFrame::new_infer_height(vec![
        store::col("target_id", a.iter().map(|x| x.target_id.as_str()).collect::<Vec<_>>()),
        store::col("region_code", a.iter().map(|x| x.region_code.as_str()).collect::<Vec<_>>()),
        store::col("indicator", a.iter().map(|x| x.indicator.as_str()).collect::<Vec<_>>()),
        store::col("kind", a.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>()),
        store::col("eval_year", a.iter().map(|x| x.eval_year).collect::<Vec<_>>()),
        store::col("actual", a.iter().map(|x| x.actual).collect::<Vec<_>>()),
        store::col("target", a.iter().map(|x| x.target).collect::<Vec<_>>()),
        store::col("attainment", a.iter().map(|x| x.attainment).collect::<Vec<_>>()),
        store::col("attainment_capped", a.iter().map(|x| x.attainment_capped).collect::<Vec<_>>()),
        store::col("needed_per_year", a.iter().map(|x| x.needed_per_year).collect::<Vec<_>>()),
        store::col("projected", a.iter().map(|x| x.projected).collect::<Vec<_>>()),
        store::col("status", a.iter().map(|x| x.status.as_str()).collect::<Vec<_>>()),
        store::col("note", a.iter().map(|x| x.note.as_str()).collect::<Vec<_>>()),
    ]);
    let d = &c.attainment_years;
    let years_df = DataFrame::new_infer_height(vec![
        store::col("target_id", d.iter().map(|x| x.target_id.as_str()).collect::<Vec<_>>()),
        store::col("region_code", d.iter().map(|x| x.region_code.as_str()).collect::<Vec<_>>()),
        store::col("year", d.iter().map(|x| x.year).collect::<Vec<_>>()),
        store::col("value", d.iter().map(|x| x.value).collect::<Vec<_>>()),
        store::col("running_sum", d.iter().map(|x| x.running_sum).collect::<Vec<_>>()),
        store::col("met", d.iter().map(|x| x.met).collect::<Vec<_>>()),
    ]);

    let kv = method_description(method, growth, catalog);
    let method_df = DataFrame::new_infer_height(vec![
        store::col("key", kv.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()),
        store::col("value", kv.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>()),
    ]);

    // Rank intervals (one row per county and year with a rank) and sensitivity indices; empty
    // tables when the analysis is off, so the paths stay stable.
    let empty = sensitivity::Analysis { intervals: Vec::new(), indices: Vec::new(), runs: 0, variance: 0.0 };
    let sa = c.sensitivity.as_ref().unwrap_or(&empty);
    let with_rank: Vec<usize> = (0..sa.intervals.len())
        .filter(|&i| sa.intervals[i].nominal.is_some() || sa.intervals[i].p05.is_some())
        .collect();
    let iv = |f: fn(&sensitivity::Interval) -> Option<u32>| {
        with_rank.iter().map(|&i| f(&sa.intervals[i])).collect::<Vec<_>>()
    };
    let uncertainty_df = DataFrame::new_infer_height(vec![
        store::col("region_code", with_rank.iter().map(|&i| unit_of(i).code.as_str()).collect::<Vec<_>>()),
        store::col("year", with_rank.iter().map(|&i| year_of(i)).collect::<Vec<_>>()),
        store::col("nominal_rank", iv(|x| x.nominal)),
        store::col("median_rank", with_rank.iter().map(|&i| sa.intervals[i].median).collect::<Vec<_>>()),
        store::col("p05_rank", iv(|x| x.p05)),
        store::col("p95_rank", iv(|x| x.p95)),
        store::col("same_tier_share", with_rank.iter().map(|&i| sa.intervals[i].same_tier).collect::<Vec<_>>()),
        store::col("runs", with_rank.iter().map(|_| sa.runs as u32).collect::<Vec<_>>()),
    ]);
    let sensitivity_df = DataFrame::new_infer_height(vec![
        store::col("factor", sa.indices.iter().map(|x| x.factor).collect::<Vec<_>>()),
        store::col("options", sa.indices.iter().map(|x| x.options.as_str()).collect::<Vec<_>>()),
        store::col("first_order", sa.indices.iter().map(|x| x.first_order).collect::<Vec<_>>()),
        store::col("total", sa.indices.iter().map(|x| x.total).collect::<Vec<_>>()),
        store::col("runs", sa.indices.iter().map(|_| sa.runs as u32).collect::<Vec<_>>()),
    ]);

    vec![
        ("uncertainty", uncertainty_df),
        ("sensitivity", sensitivity_df),
        ("index", index_df),
        ("scores", scores_df),
        ("normalised", normalised_df),
        ("weights", weights_df),
        ("treatment", treatment_df),
        ("growth", growth_df),
        ("attainment", attainment_df),
        ("attainment_years", years_df),
        ("method", method_df),
    ]
}

/// Counts for the command's summary line.
pub fn summary(c: &Computed) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    m.insert("counties", c.scored.units.len());
    m.insert("years", c.scored.years.len());
    m.insert("indicators", c.scored.indicators.len());
    m.insert("targets", c.attainment.len());
    m
}
