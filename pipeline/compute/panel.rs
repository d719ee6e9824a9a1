//! The store's observations as a dense panel (indicator × year × county), counties under the
//! code they have today and each row marked with whether its county existed that year.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use polars::prelude::*;
use polars_arrow::array::{Array, Utf8ViewArray};

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
/// code they have today (京山县 420821 → 京山市 420882), so series continue across code changes;
/// and the store's indicators the catalog does not declare (left out, for a warning).
pub fn load_panel(
    store_dir: &Path,
    registry: &Registry,
    catalog: &Catalog,
    scope: &Scope,
) -> Result<(Panel, Vec<String>), ComputeError> {
    let pl = |source| ComputeError::Polars { path: store_dir.to_owned(), source };
    let mut obs = store::scan_observations(store_dir)?
        .select([col("region_code"), col("year"), col("indicator"), col("value")])
        .collect()
        .map_err(pl)?;
    obs.align_chunks_par();
    let distinct = distinct_regions(&obs).map_err(pl)?;
    let unknown: Vec<String> = distinct.iter().filter(|c| registry.get(c).is_none()).map(|c| c.to_string()).collect();
    if !unknown.is_empty() {
        return Err(ComputeError::UnknownRegions {
            codes: unknown.into_iter().take(10).collect(),
            store: store_dir.to_owned(),
            registry: registry.path.clone(),
        });
    }
    panel_of(&obs, &distinct, registry, catalog, scope).map_err(|e| {
        let (store, registry) = (store_dir.to_owned(), registry.path.clone());
        match e {
            PanelError::Polars(source) => ComputeError::Polars { path: store, source },
            PanelError::OutsideValidity { code, year } => ComputeError::OutsideValidity { code, year, store, registry },
            PanelError::TwoCodes { codes, county, indicator, year } => {
                ComputeError::TwoCodes { codes, county, indicator, year, store, registry }
            }
        }
    })
}

/// A string column's chunks, to be read by their views. Within one array equal
/// views hold equal text, and the store's columns (read from dictionary pages) repeat one view per
/// distinct text: comparing 16-byte views row by row is far cheaper than comparing or hashing text.
fn view_chunks(column: &StringChunked) -> impl Iterator<Item = &Utf8ViewArray> {
    column.downcast_iter()
}

/// The distinct region codes of the observations: a code is looked at only where the view
/// changes (rows come grouped by county), so 10⁶ rows cost one pass over their views.
fn distinct_regions(obs: &DataFrame) -> PolarsResult<Vec<&str>> {
    let mut seen: FastSet<&str> = FastSet::default();
    for arr in view_chunks(obs.column("region_code")?.str()?) {
        let mut last: Option<u128> = None;
        for (i, view) in arr.views().iter().enumerate() {
            let v = view.as_u128();
            if last == Some(v) || !arr.is_valid(i) {
                continue;
            }
            last = Some(v);
            seen.insert(arr.value(i));
        }
    }
    let mut codes: Vec<&str> = seen.into_iter().collect();
    codes.sort_unstable();
    Ok(codes)
}

type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Observations the registry cannot place in the panel. Ingest stores a value only under a code
/// valid in its year, by its registry; compute's registry may disagree.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    #[error(transparent)]
    Polars(#[from] PolarsError),
    /// A value in a year when no code of its county is valid.
    #[error("values of {code} for {year}, when the registry has no code of that county")]
    OutsideValidity { code: String, year: i32 },
    /// Two codes with a value for the same year and indicator, which the registry makes one county
    /// (one renamed to the other): one value would silently replace the other.
    #[error("{indicator} for {year} under both {}, which the registry makes one county ({county})", codes.join(" and "))]
    TwoCodes { codes: Vec<String>, county: String, indicator: String, year: i32 },
}

/// Dense panel from observation rows (`region_code, year, indicator, value`).
/// Only the counties of the evaluation scope are in it: the others' data stay in the store.
pub fn build_panel(
    obs: &DataFrame,
    registry: &Registry,
    catalog: &Catalog,
    scope: &Scope,
) -> Result<Panel, PanelError> {
    let mut obs = obs.select(["region_code", "year", "indicator", "value"])?;
    obs.align_chunks_par();
    let distinct = distinct_regions(&obs)?;
    panel_of(&obs, &distinct, registry, catalog, scope).map(|(panel, _)| panel)
}

/// `build_panel` for observations whose chunks are aligned and whose distinct codes are known;
/// also the indicators of the observations the catalog does not declare, sorted.
fn panel_of(
    obs: &DataFrame,
    distinct_regions: &[&str],
    registry: &Registry,
    catalog: &Catalog,
    scope: &Scope,
) -> Result<(Panel, Vec<String>), PanelError> {
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
    let mut current: HashMap<&str, &str> = HashMap::new();
    for r in &registry.regions {
        current.insert(r.code.as_str(), registry.current_code(&r.code));
    }
    let unit_set: BTreeSet<&str> = distinct_regions.iter().filter_map(|c| current.get(c).copied()).collect();
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
    let rows = n * year_list.len();
    let mut cols = vec![vec![None; rows]; indicators.len()];
    // Cells written so far (a bit each), to catch two codes of one county in one cell.
    let mut written = vec![0u64; (rows * indicators.len()).div_ceil(64)];
    // Each distinct view of a chunk is looked up once (see `view_chunks`); rows come grouped by
    // county, so the last county's view is tried before the map.
    let mut not_in_catalog: FastSet<&str> = FastSet::default();
    let chunks = view_chunks(regions).zip(years.downcast_iter()).zip(view_chunks(inds)).zip(values.downcast_iter());
    for (((ra, ya), ka), va) in chunks {
        let mut unit_of: FastMap<u128, Option<usize>> = FastMap::default();
        let mut ind_of: FastMap<u128, Option<usize>> = FastMap::default();
        let mut last_unit: Option<(u128, Option<usize>)> = None;
        // Rows cycle through the indicators: the view last seen for the next one is tried first.
        let mut ind_view: Vec<Option<u128>> = vec![None; indicators.len()];
        let mut last_k = 0usize;
        let (rv, kv) = (ra.views(), ka.views());
        for i in 0..ra.len() {
            if !(ra.is_valid(i) && ya.is_valid(i) && ka.is_valid(i)) {
                continue;
            }
            let r = rv[i].as_u128();
            let u = match last_unit {
                Some((lr, u)) if lr == r => u,
                _ => {
                    let u = *unit_of.entry(r).or_insert_with(|| code_idx.get(ra.value(i)).copied());
                    last_unit = Some((r, u));
                    u
                }
            };
            let k = kv[i].as_u128();
            let guess = (last_k + 1) % indicators.len();
            let ki = if ind_view[guess] == Some(k) {
                Some(guess)
            } else {
                *ind_of.entry(k).or_insert_with(|| {
                    let ki = ind_idx.get(ka.value(i)).copied();
                    if ki.is_none() {
                        not_in_catalog.insert(ka.value(i));
                    }
                    ki
                })
            };
            if let Some(ki) = ki {
                last_k = ki;
                ind_view[ki] = Some(k);
            }
            if let (Some(u), Some(ki)) = (u, ki) {
                let y = ya.value(i);
                let row = year_pos[(y - first_year) as usize] * n + u;
                let (word, bit) = ((ki * rows + row) / 64, 1u64 << ((ki * rows + row) % 64));
                if written[word] & bit != 0 {
                    let code = ra.value(i);
                    let mut codes: Vec<String> = distinct_regions
                        .iter()
                        .filter(|c| **c != code && code_idx.get(*c) == Some(&u))
                        .map(|c| c.to_string())
                        .collect();
                    codes.push(code.to_string());
                    return Err(PanelError::TwoCodes {
                        codes,
                        county: units[u].code.clone(),
                        indicator: indicators[ki].clone(),
                        year: y,
                    });
                }
                written[word] |= bit;
                cols[ki][row] = va.get(i);
            }
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
    if let Some(row) = (0..rows).find(|&r| !valid[r] && cols.iter().any(|c| c[r].is_some())) {
        return Err(PanelError::OutsideValidity { code: units[row % n].code.clone(), year: year_list[row / n] });
    }
    let mut not_in_catalog: Vec<String> = not_in_catalog.into_iter().map(str::to_string).collect();
    not_in_catalog.sort();
    Ok((Panel { units, years: year_list, indicators, values: shared(cols), valid }, not_in_catalog))
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
