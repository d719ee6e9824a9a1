//! The store's observations as a dense panel (indicator × year × county), counties under the
//! code they have today and each row marked with whether its county existed that year.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use polars::prelude::*;

use super::ComputeError;
use crate::catalog::Catalog;
use crate::regions::Registry;
use crate::scope::Scope;
use crate::store;

/// A county in the panel, under its current code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub prefecture_code: String,
    pub prefecture_name: String,
    pub province_code: String,
    pub province_name: String,
    /// The peer group (`[scope] peer_groups`) it is also ranked within.
    pub peer_group: Option<String>,
}

/// One indicator's values, row by row.
pub type Values = std::sync::Arc<Vec<Option<f64>>>;

/// Columns made shareable.
pub fn shared(columns: Vec<Vec<Option<f64>>>) -> Vec<Values> {
    columns.into_iter().map(std::sync::Arc::new).collect()
}

/// Scored indicators for every county and year; row `y * units.len() + u`.
#[derive(Debug, Clone)]
pub struct Panel {
    pub units: Vec<Unit>,
    pub years: Vec<i32>,
    /// Scored indicator codes in catalog order.
    pub indicators: Vec<String>,
    /// One column per indicator, shared: the scored panel, and the imputed and treated values
    /// where imputation and treatment changed nothing, are the same columns (14 MB each at
    /// national scale).
    pub values: Vec<Values>,
    /// Per row: the unit exists that year under the registry (its code, or one it continues
    /// from, is valid). Imputation fills only these rows, so only these can be scored and ranked.
    pub valid: Vec<bool>,
}

impl Panel {
    pub fn rows(&self) -> usize {
        self.units.len() * self.years.len()
    }
    pub fn row(&self, year_idx: usize, unit_idx: usize) -> usize {
        year_idx * self.units.len() + unit_idx
    }
    pub(super) fn year_slice(&self, y: usize) -> std::ops::Range<usize> {
        y * self.units.len()..(y + 1) * self.units.len()
    }
}

/// The store's observations as a dense panel of every catalog indicator, counties under the
/// code they have today (京山县 420821 → 京山市 420882), so series continue across code changes.
pub fn load_panel(
    store_dir: &Path,
    registry: &Registry,
    catalog: &Catalog,
    scope: &Scope,
) -> Result<Panel, ComputeError> {
    let pl = |source| ComputeError::Polars { path: store_dir.to_owned(), source };
    let obs = store::scan_observations(store_dir)?
        .select([col("region_code"), col("year"), col("indicator"), col("value")])
        .collect()
        .map_err(pl)?;
    let unknown = unknown_regions(&obs, registry).map_err(pl)?;
    if !unknown.is_empty() {
        return Err(ComputeError::UnknownRegions {
            codes: unknown.into_iter().take(10).collect(),
            store: store_dir.to_owned(),
            registry: registry.path.clone(),
        });
    }
    let panel = build_panel(&obs, registry, catalog, scope).map_err(pl)?;
    // Ingest stores a value only under a code valid in its year; another registry may disagree.
    for row in (0..panel.rows()).filter(|&r| !panel.valid[r]) {
        if panel.values.iter().any(|c| c[row].is_some()) {
            return Err(ComputeError::OutsideValidity {
                code: panel.units[row % panel.units.len()].code.clone(),
                year: panel.years[row / panel.units.len()],
                store: store_dir.to_owned(),
                registry: registry.path.clone(),
            });
        }
    }
    Ok(panel)
}

/// Region codes of the observations that the registry does not know, sorted.
fn unknown_regions(obs: &DataFrame, registry: &Registry) -> PolarsResult<Vec<String>> {
    let distinct = obs.column("region_code")?.unique()?;
    let mut codes: Vec<String> =
        distinct.str()?.iter().flatten().filter(|c| registry.get(c).is_none()).map(str::to_string).collect();
    codes.sort();
    Ok(codes)
}

/// Dense panel from observation rows (`region_code, year, indicator, value`).
/// Only the counties of the evaluation scope are in it: the others' data stay in the store.
pub fn build_panel(
    obs: &DataFrame,
    registry: &Registry,
    catalog: &Catalog,
    scope: &Scope,
) -> Result<Panel, PolarsError> {
    let regions = obs.column("region_code")?.str()?;
    let years = obs.column("year")?.i32()?;
    let inds = obs.column("indicator")?.str()?;
    let values = obs.column("value")?.f64()?;
    // Distinct years marked over their span: polars' `unique` of this column would keep a zeroed
    // buffer of its length (8 MB at national scale) for the rest of the run.
    let year_list: Vec<i32> = match (years.min(), years.max()) {
        (Some(lo), Some(hi)) if i64::from(hi) - i64::from(lo) < 10_000 => {
            let mut seen = vec![false; (hi - lo + 1) as usize];
            for y in years.iter().flatten() {
                seen[(y - lo) as usize] = true;
            }
            (lo..=hi).filter(|y| seen[(y - lo) as usize]).collect()
        }
        _ => years.iter().flatten().collect::<BTreeSet<_>>().into_iter().collect(),
    };
    // Distinct codes through polars (hashing there is far cheaper than a BTreeSet of 10⁶ rows).
    let distinct_regions = obs.column("region_code")?.unique()?;
    let mut current: HashMap<&str, &str> = HashMap::new();
    for r in &registry.regions {
        current.insert(r.code.as_str(), registry.current_code(&r.code));
    }
    let unit_set: BTreeSet<&str> =
        distinct_regions.str()?.iter().flatten().filter_map(|c| current.get(c).copied()).collect();
    let units: Vec<Unit> = unit_set
        .iter()
        .filter_map(|c| registry.get(c))
        .filter(|r| scope.contains(registry, r))
        .map(|r| Unit {
            code: r.code.clone(),
            name: r.name.clone(),
            prefecture_code: r.prefecture_code.clone(),
            prefecture_name: r.prefecture_name.clone(),
            province_code: r.province_code.clone(),
            province_name: r.province_name.clone(),
            peer_group: scope.group(&r.code).map(str::to_string),
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
    // A unit exists in a year when its code, or a code it continues (renames only), is valid then.
    let mut valid = vec![false; n * year_list.len()];
    for r in &registry.regions {
        let Some(&u) = code_idx.get(r.code.as_str()) else { continue };
        for (yi, &y) in year_list.iter().enumerate() {
            if r.valid_in(y) {
                valid[yi * n + u] = true;
            }
        }
    }
    Ok(Panel { units, years: year_list, indicators, values: shared(cols), valid })
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
        valid: panel.valid.clone(),
    }
}
