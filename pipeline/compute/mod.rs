//! The compute stage: store → panel → index, growth and target attainment → result tables in `out/results/`.

pub mod attainment;
pub mod explain;
pub mod growth;
pub mod index;
pub mod methods;

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
    #[error("reading the store {path}: {source}")]
    Polars { path: std::path::PathBuf, source: PolarsError },
    #[error("the store {0} has no values of scored indicators")]
    Empty(std::path::PathBuf),
    #[error("index: {0}")]
    Index(#[from] index::IndexError),
}

/// Observations under the code each county has today, with the indicator's kind; all indicators.
pub fn load_observations(store_dir: &Path, registry: &Registry, catalog: &Catalog) -> Result<DataFrame, ComputeError> {
    let pl = |source| ComputeError::Polars { path: store_dir.to_owned(), source };
    let codes: Vec<&str> = registry.regions.iter().map(|r| r.code.as_str()).collect();
    let current: Vec<&str> = registry.regions.iter().map(|r| registry.current_code(&r.code)).collect();
    let map = df!("region_code" => codes, "current_code" => current).map_err(pl)?;
    let kinds = df!(
        "indicator" => catalog.indicators.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        "kind" => catalog.indicators.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>(),
    )
    .map_err(pl)?;
    store::scan_observations(store_dir)?
        .select([col("region_code"), col("year"), col("indicator"), col("value"), col("out_of_range")])
        .join(map.lazy(), [col("region_code")], [col("region_code")], JoinArgs::new(JoinType::Inner))
        .join(kinds.lazy(), [col("indicator")], [col("indicator")], JoinArgs::new(JoinType::Inner))
        .select([
            col("current_code").alias("region_code"),
            col("year"),
            col("indicator"),
            col("value"),
            col("kind"),
            col("out_of_range"),
        ])
        .sort(["year", "region_code", "indicator"], SortMultipleOptions::default())
        .collect()
        .map_err(pl)
}

/// The scored indicators as a dense panel of the counties that have data.
pub fn build_panel(obs: &DataFrame, registry: &Registry, catalog: &Catalog) -> Result<Panel, PolarsError> {
    let regions = obs.column("region_code")?.str()?;
    let years = obs.column("year")?.i32()?;
    let inds = obs.column("indicator")?.str()?;
    let values = obs.column("value")?.f64()?;
    let year_set: BTreeSet<i32> = years.iter().flatten().collect();
    let unit_set: BTreeSet<&str> = regions.iter().flatten().collect();
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
    let indicators: Vec<String> = catalog.indicators.iter().filter(|i| i.scored).map(|i| i.code.clone()).collect();
    let unit_idx: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.code.as_str(), i)).collect();
    let ind_idx: HashMap<&str, usize> = indicators.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let year_list: Vec<i32> = year_set.into_iter().collect();
    let year_idx: HashMap<i32, usize> = year_list.iter().enumerate().map(|(i, y)| (*y, i)).collect();
    let n = units.len();
    let mut cols = vec![vec![None; n * year_list.len()]; indicators.len()];
    for i in 0..obs.height() {
        let (Some(r), Some(y), Some(k)) = (regions.get(i), years.get(i), inds.get(i)) else { continue };
        if let (Some(&u), Some(&yi), Some(&ki)) = (unit_idx.get(r), year_idx.get(&y), ind_idx.get(k)) {
            cols[ki][yi * n + u] = values.get(i);
        }
    }
    Ok(Panel { units, years: year_list, indicators, values: cols })
}

/// Series of every indicator per current county code, for target attainment.
pub fn series_by_county(obs: &DataFrame) -> Result<HashMap<(String, String), YearSeries>, PolarsError> {
    let regions = obs.column("region_code")?.str()?;
    let years = obs.column("year")?.i32()?;
    let inds = obs.column("indicator")?.str()?;
    let values = obs.column("value")?.f64()?;
    let mut out: HashMap<(String, String), YearSeries> = HashMap::new();
    for i in 0..obs.height() {
        let (Some(r), Some(y), Some(k)) = (regions.get(i), years.get(i), inds.get(i)) else { continue };
        out.entry((r.to_string(), k.to_string())).or_default().insert(y, values.get(i));
    }
    Ok(out)
}

/// Everything compute produces, before it is written.
pub struct Computed {
    pub panel: Panel,
    pub index: IndexResult,
    pub growth: DataFrame,
    pub attainment: Vec<attainment::Attainment>,
    pub attainment_years: Vec<attainment::YearDetail>,
}

pub fn compute(
    store_dir: &Path,
    catalog: &Catalog,
    registry: &Registry,
    targets: &[Target],
    method: &Method,
    growth_settings: &GrowthSettings,
) -> Result<Computed, ComputeError> {
    let pl = |source| ComputeError::Polars { path: store_dir.to_owned(), source };
    let obs = load_observations(store_dir, registry, catalog)?;
    let panel = build_panel(&obs, registry, catalog).map_err(pl)?;
    if panel.units.is_empty() || panel.values.iter().all(|c| c.iter().all(Option::is_none)) {
        return Err(ComputeError::Empty(store_dir.to_owned()));
    }
    let index = index::compute(&panel, catalog, method)?;

    let mut spans: Vec<growth::Span> = growth_settings.spans.iter().map(|&n| growth::Span::Years(n)).collect();
    if let Some(b) = growth_settings.base_year {
        spans.push(growth::Span::Since(b));
    }
    let growth = growth::growth(obs.clone().lazy().select([col("region_code"), col("year"), col("indicator"), col("value"), col("kind")]), &spans)
        .and_then(LazyFrame::collect)
        .map_err(pl)?;

    let series = series_by_county(&obs).map_err(pl)?;
    let in_panel: BTreeSet<&str> = panel.units.iter().map(|u| u.code.as_str()).collect();
    let empty = YearSeries::new();
    let mut att = Vec::new();
    let mut years = Vec::new();
    for t in targets {
        let counties: BTreeSet<&str> =
            registry.within(&t.scope).map(|r| registry.current_code(&r.code)).filter(|c| in_panel.contains(c)).collect();
        for c in counties {
            let s = series.get(&(c.to_string(), t.indicator.clone())).unwrap_or(&empty);
            let (a, d) = attainment::evaluate(t, c, s, catalog);
            att.push(a);
            years.extend(d);
        }
    }
    Ok(Computed { panel, index, growth, attainment: att, attainment_years: years })
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

fn col_of<T, N: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, N>,
{
    Column::new(name.into(), v)
}

/// Write every result table atomically into `out_dir` (e.g. `out/results`).
pub fn write(out_dir: &Path, c: &Computed, catalog: &Catalog, method: &Method, growth: &GrowthSettings) -> Result<Vec<String>, StoreError> {
    let staging = store::staging_dir(out_dir)?;
    let meta = vec![("cimon.method".to_string(), serde_json::to_string(&method_description(method, growth, catalog)).unwrap())];
    let res = (|| {
        let mut names = Vec::new();
        for (name, df) in tables(c, catalog, method, growth) {
            let path = staging.join(format!("{name}.parquet"));
            let mut df = df.map_err(|source| StoreError::Polars { path: path.clone(), source })?;
            store::write_parquet(&path, &mut df, &meta)?;
            names.push(name.to_string());
        }
        Ok(names)
    })();
    match res {
        Ok(names) => {
            store::publish_dir(&staging, out_dir)?;
            Ok(names)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn tables<'a>(c: &'a Computed, catalog: &'a Catalog, method: &Method, growth: &GrowthSettings) -> Vec<(&'static str, PolarsResult<DataFrame>)> {
    let p = &c.panel;
    let r = &c.index;
    let rows = p.rows();
    let unit_of = |i: usize| &p.units[i % p.units.len()];
    let year_of = |i: usize| p.years[i / p.units.len()];
    let groups: Vec<&str> = catalog.groups.iter().map(|g| g.code.as_str()).collect();

    // index: wide, one row per county and year.
    let index_df = (|| {
        let mut cols = vec![
            col_of("region_code", (0..rows).map(|i| unit_of(i).code.as_str()).collect::<Vec<_>>()),
            col_of("year", (0..rows).map(year_of).collect::<Vec<_>>()),
            col_of("region_name", (0..rows).map(|i| unit_of(i).name.as_str()).collect::<Vec<_>>()),
            col_of("prefecture_code", (0..rows).map(|i| unit_of(i).prefecture_code.as_str()).collect::<Vec<_>>()),
            col_of("prefecture_name", (0..rows).map(|i| unit_of(i).prefecture_name.as_str()).collect::<Vec<_>>()),
            col_of("province_code", (0..rows).map(|i| unit_of(i).province_code.as_str()).collect::<Vec<_>>()),
            col_of("province_name", (0..rows).map(|i| unit_of(i).province_name.as_str()).collect::<Vec<_>>()),
            col_of("index", r.scores[&catalog.index.code].clone()),
            col_of("rank", r.rank.clone()),
            col_of("rank_prefecture", r.rank_prefecture.clone()),
            col_of("rank_province", r.rank_province.clone()),
            col_of("rank_change", r.rank_change.clone()),
            col_of("casted_tier", r.casted_tier.iter().map(|t| t.map(u32::from)).collect::<Vec<_>>()),
            col_of("ratio_to_average", r.ratio_to_average.clone()),
            col_of("ratio_group", r.ratio_group.clone()),
            col_of("indicators_present", (0..rows).map(|i| r.normalised.iter().filter(|c| c[i].is_some()).count() as u32).collect::<Vec<_>>()),
        ];
        for g in &groups {
            cols.push(col_of(&format!("score_{g}"), r.scores[*g].clone()));
        }
        DataFrame::new_infer_height(cols)
    })();

    // scores: long, every aggregate node.
    let scores_df = (|| {
        let (mut reg, mut yr, mut node, mut lvl, mut score, mut rank) = (vec![], vec![], vec![], vec![], vec![], vec![]);
        for n in &r.nodes {
            for i in 0..rows {
                reg.push(unit_of(i).code.as_str());
                yr.push(year_of(i));
                node.push(n.code.as_str());
                lvl.push(n.level as u32);
                score.push(r.scores[&n.code][i]);
                rank.push(r.node_rank[&n.code][i]);
            }
        }
        DataFrame::new_infer_height(vec![
            col_of("region_code", reg),
            col_of("year", yr),
            col_of("node", node),
            col_of("level", lvl),
            col_of("score", score),
            col_of("rank", rank),
        ])
    })();

    // normalised: every scored indicator through each step.
    let normalised_df = (|| {
        let (mut reg, mut yr, mut ind, mut raw, mut imp, mut was, mut tr, mut treated, mut norm) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for (k, code) in p.indicators.iter().enumerate() {
            for i in 0..rows {
                reg.push(unit_of(i).code.as_str());
                yr.push(year_of(i));
                ind.push(code.as_str());
                raw.push(p.values[k][i]);
                imp.push(r.imputed[k][i]);
                was.push(r.was_imputed[k][i]);
                tr.push(r.treated[k][i]);
                treated.push(r.treated[k][i] != r.imputed[k][i]);
                norm.push(r.normalised[k][i]);
            }
        }
        DataFrame::new_infer_height(vec![
            col_of("region_code", reg),
            col_of("year", yr),
            col_of("indicator", ind),
            col_of("raw", raw),
            col_of("imputed_value", imp),
            col_of("imputed", was),
            col_of("treated_value", tr),
            col_of("treated", treated),
            col_of("normalised", norm),
        ])
    })();

    let weights_df = DataFrame::new_infer_height(vec![
        col_of("node", r.weights.iter().map(|w| w.node.as_str()).collect::<Vec<_>>()),
        col_of("child", r.weights.iter().map(|w| w.child.as_str()).collect::<Vec<_>>()),
        col_of("level", r.weights.iter().map(|w| w.level as u32).collect::<Vec<_>>()),
        col_of("catalog_weight", r.weights.iter().map(|w| w.catalog).collect::<Vec<_>>()),
        col_of("effective_weight", r.weights.iter().map(|w| w.effective).collect::<Vec<_>>()),
        col_of("scheme", r.weights.iter().map(|_| format!("{:?}", method.weights).to_lowercase()).collect::<Vec<_>>()),
    ]);

    let t = &r.treatments;
    let treatment_df = DataFrame::new_infer_height(vec![
        col_of("indicator", t.iter().map(|x| x.indicator.as_str()).collect::<Vec<_>>()),
        col_of("year", t.iter().map(|x| x.year).collect::<Vec<_>>()),
        col_of("skew_before", t.iter().map(|x| x.detail.skew_before).collect::<Vec<_>>()),
        col_of("kurtosis_before", t.iter().map(|x| x.detail.kurt_before).collect::<Vec<_>>()),
        col_of("treated", t.iter().map(|x| !x.detail.pass_before).collect::<Vec<_>>()),
        col_of("winsorised_points", t.iter().map(|x| x.detail.winsorised as u32).collect::<Vec<_>>()),
        col_of("log_transformed", t.iter().map(|x| x.detail.log_transformed).collect::<Vec<_>>()),
        col_of("skew_after", t.iter().map(|x| x.detail.skew_after).collect::<Vec<_>>()),
        col_of("kurtosis_after", t.iter().map(|x| x.detail.kurt_after).collect::<Vec<_>>()),
    ]);

    let a = &c.attainment;
    let attainment_df = DataFrame::new_infer_height(vec![
        col_of("target_id", a.iter().map(|x| x.target_id.as_str()).collect::<Vec<_>>()),
        col_of("region_code", a.iter().map(|x| x.region_code.as_str()).collect::<Vec<_>>()),
        col_of("indicator", a.iter().map(|x| x.indicator.as_str()).collect::<Vec<_>>()),
        col_of("kind", a.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>()),
        col_of("eval_year", a.iter().map(|x| x.eval_year).collect::<Vec<_>>()),
        col_of("actual", a.iter().map(|x| x.actual).collect::<Vec<_>>()),
        col_of("target", a.iter().map(|x| x.target).collect::<Vec<_>>()),
        col_of("attainment", a.iter().map(|x| x.attainment).collect::<Vec<_>>()),
        col_of("attainment_capped", a.iter().map(|x| x.attainment_capped).collect::<Vec<_>>()),
        col_of("needed_per_year", a.iter().map(|x| x.needed_per_year).collect::<Vec<_>>()),
        col_of("projected", a.iter().map(|x| x.projected).collect::<Vec<_>>()),
        col_of("status", a.iter().map(|x| x.status.as_str()).collect::<Vec<_>>()),
        col_of("note", a.iter().map(|x| x.note.as_str()).collect::<Vec<_>>()),
    ]);
    let d = &c.attainment_years;
    let years_df = DataFrame::new_infer_height(vec![
        col_of("target_id", d.iter().map(|x| x.target_id.as_str()).collect::<Vec<_>>()),
        col_of("region_code", d.iter().map(|x| x.region_code.as_str()).collect::<Vec<_>>()),
        col_of("year", d.iter().map(|x| x.year).collect::<Vec<_>>()),
        col_of("value", d.iter().map(|x| x.value).collect::<Vec<_>>()),
        col_of("running_sum", d.iter().map(|x| x.running_sum).collect::<Vec<_>>()),
        col_of("met", d.iter().map(|x| x.met).collect::<Vec<_>>()),
    ]);

    let kv = method_description(method, growth, catalog);
    let method_df = DataFrame::new_infer_height(vec![
        col_of("key", kv.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>()),
        col_of("value", kv.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>()),
    ]);

    vec![
        ("index", index_df),
        ("scores", scores_df),
        ("normalised", normalised_df),
        ("weights", weights_df),
        ("treatment", treatment_df),
        ("growth", Ok(c.growth.clone())),
        ("attainment", attainment_df),
        ("attainment_years", years_df),
        ("method", method_df),
    ]
}

/// Counts for the command's summary line.
pub fn summary(c: &Computed) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    m.insert("counties", c.panel.units.len());
    m.insert("years", c.panel.years.len());
    m.insert("indicators", c.panel.indicators.len());
    m.insert("targets", c.attainment.len());
    m
}
