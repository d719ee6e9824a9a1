//! The compute stage: store → panel → index, growth and target attainment → result tables in `out/results/`.

pub mod appraisal;
pub mod attainment;
pub mod audit;
pub mod funding;
pub mod growth;
pub mod index;
pub mod invariants;
pub mod methods;
pub mod output;
pub mod rows;
pub mod sensitivity;
#[cfg(test)]
mod testing;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::regions::Registry;
use crate::scope::Scope;
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
    #[error("{0}")]
    Evaluation(String),
    #[error("region codes {} are in the store {} but not in the registry {}: compute with the registry the store was ingested with", codes.join(", "), store.display(), registry.display())]
    UnknownRegions { codes: Vec<String>, store: std::path::PathBuf, registry: std::path::PathBuf },
    #[error("the store {} holds values of {code} for {year}, when the registry {} has no code of that county: compute with the registry the store was ingested with", store.display(), registry.display())]
    OutsideValidity { code: String, year: i32, store: std::path::PathBuf, registry: std::path::PathBuf },
    #[error(transparent)]
    Invariant(#[from] invariants::Broken),
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
    // Distinct values through polars (hashing there is far cheaper than a BTreeSet of 10⁶ rows).
    let year_list: Vec<i32> =
        obs.column("year")?.unique()?.i32()?.iter().flatten().collect::<BTreeSet<_>>().into_iter().collect();
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
    Ok(Panel { units, years: year_list, indicators, values: cols, valid })
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

/// What the evaluation is turned into (`[funding]`, `[appraisal]`); nothing when not configured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    pub funding: Option<funding::FundingSettings>,
    pub appraisal: Option<appraisal::AppraisalSettings>,
}

/// Everything compute produces, before it is written.
pub struct Computed {
    /// Every catalog indicator.
    pub panel: Panel,
    /// The scored indicators, as the index saw them.
    pub scored: Panel,
    pub index: IndexResult,
    pub growth: Vec<growth::Measure>,
    pub attainment: Vec<crate::results::AttainmentRow>,
    pub attainment_years: Vec<crate::results::AttainmentYearRow>,
    /// Targets of a region as a whole.
    pub attainment_regions: Vec<crate::results::RegionalAttainmentRow>,
    /// The statistical audit of the index.
    pub audit: audit::Audit,
    /// Counties of the scope that sent nothing for a year (未报送, `coverage = "warn"`).
    pub missing: Vec<crate::records::MissingRow>,
    /// Rank intervals and sensitivity indices (None when `[sensitivity] enabled = false`).
    pub sensitivity: Option<sensitivity::Analysis>,
    /// 绩效拨款 and 考评 of the evaluation year (empty when not configured).
    pub funding: Vec<crate::results::FundingRow>,
    pub appraisal: Vec<crate::results::AppraisalRow>,
    /// The settings they were made with.
    pub evaluation: Evaluation,
    /// When the computation started, for the timings that `CIMON_TIMINGS=1` prints.
    pub started: std::time::Instant,
}

#[allow(clippy::too_many_arguments)]
pub fn compute(
    store_dir: &Path,
    catalog: &Catalog,
    registry: &Registry,
    scope: &Scope,
    targets: &[Target],
    method: &Method,
    growth_settings: &GrowthSettings,
    sensitivity_settings: &sensitivity::SensitivitySettings,
    evaluation: &Evaluation,
) -> Result<Computed, ComputeError> {
    let t0 = std::time::Instant::now();
    let lap = |what: &str| crate::timing::lap(what, t0);
    let panel = load_panel(store_dir, registry, catalog, scope)?;
    let missing: Vec<crate::records::MissingRow> = crate::tables::read(store_dir)?;
    lap("load");
    let scored_panel = scored(&panel, catalog);
    if panel.units.is_empty() || scored_panel.values.iter().all(|c| c.iter().all(Option::is_none)) {
        return Err(ComputeError::Empty(store_dir.to_owned()));
    }
    let index = index::compute(&scored_panel, catalog, method)?;
    lap("index");
    // On the data the index was normalised on: the pooled panel, or year by year.
    let audit = if method.comparison == index::Comparison::PerYear {
        let n = scored_panel.units.len();
        let mut all = audit::Audit::default();
        for (yi, &y) in scored_panel.years.iter().enumerate() {
            let rows: Vec<usize> = (yi * n..(yi + 1) * n).collect();
            let a = audit::audit(&scored_panel, &index, catalog, Some(y), &rows);
            all.alpha.extend(a.alpha);
            all.correlations.extend(a.correlations);
            all.pca.extend(a.pca);
            all.loadings.extend(a.loadings);
            all.flags.extend(a.flags);
        }
        all
    } else {
        audit::audit(&scored_panel, &index, catalog, None, &(0..scored_panel.rows()).collect::<Vec<_>>())
    };
    lap("audit");

    let mut spans: Vec<growth::Span> = growth_settings.spans.iter().map(|&n| growth::Span::Years(n)).collect();
    if let Some(b) = growth_settings.base_year {
        spans.push(growth::Span::Since(b));
    }
    let growth = growth::growth(&panel, catalog, &spans);
    lap("growth");

    let index_code = catalog.index.code.as_str();
    let plan =
        evaluation.funding.as_ref().map(|f| FundingPlan::new(f, &scored_panel, &index, index_code)).transpose()?;
    let (sensitivity, replicated) = if sensitivity_settings.enabled {
        let (a, runs) = sensitivity::analyse_with(&scored_panel, catalog, method, &index, sensitivity_settings, |r| {
            plan.as_ref().map(|p| p.replicate(r))
        })?;
        lap(&format!("sensitivity ({} replications)", a.runs));
        (Some(a), runs.into_iter().flatten().collect::<Vec<_>>())
    } else {
        (None, Vec::new())
    };
    let funding = plan.as_ref().map_or_else(Vec::new, |p| p.rows(&scored_panel, &index, index_code, &replicated));
    let appraisal = match &evaluation.appraisal {
        Some(s) => appraisal_rows(s, &scored_panel, &index, index_code, sensitivity.as_ref())?,
        None => Vec::new(),
    };
    let (att, years, regional) =
        judge_targets(targets, registry, catalog, &panel, &scored_panel, &index, sensitivity.as_ref());
    lap("attainment");
    let mut index = index;
    if crate::faults::active("invariant") {
        // A test's stand-in for a bug: one county ranked twice over.
        if let Some(r) = index.rank.iter_mut().flatten().next() {
            *r += 1;
        }
    }
    invariants::check(&invariants::Subject {
        panel: &scored_panel,
        index: &index,
        index_code,
        registry,
        intervals: sensitivity.as_ref().map(|a| a.intervals.as_slice()),
        funding: evaluation.funding.as_ref().map(|f| (f.budget, funding.iter().map(|r| r.amount).collect())),
    })?;
    lap("invariants");
    lap("computed");
    Ok(Computed {
        panel,
        scored: scored_panel,
        index,
        growth,
        attainment: att,
        attainment_years: years,
        attainment_regions: regional,
        sensitivity,
        funding,
        appraisal,
        evaluation: evaluation.clone(),
        missing,
        audit,
        started: t0,
    })
}

/// The evaluation year of `[funding]` or `[appraisal]`: its position among the panel's years.
fn evaluation_year(section: &str, year: Option<i32>, years: &[i32]) -> Result<usize, ComputeError> {
    match year {
        None => years.len().checked_sub(1).ok_or_else(|| ComputeError::Evaluation(format!("[{section}] no years"))),
        Some(y) => years.iter().position(|&x| x == y).ok_or_else(|| {
            ComputeError::Evaluation(format!(
                "[{section}] year = {y} is not in the data ({}–{})",
                years.first().unwrap_or(&0),
                years.last().unwrap_or(&0)
            ))
        }),
    }
}

/// The funding allocation of the evaluation year, as published and per replication.
struct FundingPlan<'a> {
    settings: &'a funding::FundingSettings,
    year: usize,
    /// Counties of the panel (rows are year × county).
    n: usize,
    /// Panel units with an index in the year, and their standings.
    units: Vec<usize>,
    published: Vec<funding::Standing>,
    shares: Vec<funding::Share>,
}

impl<'a> FundingPlan<'a> {
    fn new(
        f: &'a funding::FundingSettings,
        panel: &Panel,
        index: &IndexResult,
        index_code: &str,
    ) -> Result<Self, ComputeError> {
        let year = evaluation_year("funding", f.year, &panel.years)?;
        let tiers = index.casted_tier.as_slice();
        let (units, published) = Self::standings(f, panel, year, &index.scores[index_code], &index.rank, tiers);
        let (shares, remarks) =
            funding::allocate(f, &published).map_err(|e| ComputeError::Evaluation(e.to_string()))?;
        if remarks.fixed_scaled {
            return Err(ComputeError::Evaluation(format!(
                "[funding] base and tier awards come to more than the budget {} in {}: lower them or raise the budget",
                f.budget, panel.years[year]
            )));
        }
        Ok(FundingPlan { settings: f, year, n: panel.units.len(), units, published, shares })
    }

    fn standings(
        f: &funding::FundingSettings,
        panel: &Panel,
        year: usize,
        index: &[Option<f64>],
        rank: &[Option<u32>],
        tier: &[Option<u8>],
    ) -> (Vec<usize>, Vec<funding::Standing>) {
        let n = panel.units.len();
        (0..n)
            .filter(|&u| index[panel.row(year, u)].is_some())
            .map(|u| {
                let row = panel.row(year, u);
                let before = f
                    .parts
                    .iter()
                    .map(|p| {
                        let back = if p.kind == funding::PartKind::Index { 0 } else { p.years as usize };
                        (year >= back && back > 0)
                            .then(|| panel.row(year - back, u))
                            .map_or((None, None), |b| (index[b], rank[b]))
                    })
                    .collect();
                (u, funding::Standing { index: index[row], rank: rank[row], tier: tier[row], before })
            })
            .unzip()
    }

    /// One replication's outcome for the published counties (a county without an index in the
    /// replication scores nothing there).
    fn replicate(&self, r: &sensitivity::Replication<'_>) -> Vec<funding::Outcome> {
        let row = |year: usize, u: usize| year * self.n + u;
        let run: Vec<funding::Standing> = self
            .units
            .iter()
            .map(|&u| funding::Standing {
                index: r.index[row(self.year, u)],
                rank: r.rank[row(self.year, u)],
                tier: r.tier[row(self.year, u)],
                before: self
                    .settings
                    .parts
                    .iter()
                    .map(|p| {
                        let back = if p.kind == funding::PartKind::Index { 0 } else { p.years as usize };
                        (self.year >= back && back > 0)
                            .then(|| row(self.year - back, u))
                            .map_or((None, None), |b| (r.index[b], r.rank[b]))
                    })
                    .collect(),
            })
            .collect();
        funding::replicate(self.settings, &self.published, &run)
    }

    /// The `funding` rows: the published allocation with its spread over `runs`.
    fn rows(
        &self,
        panel: &Panel,
        index: &IndexResult,
        index_code: &str,
        runs: &[Vec<funding::Outcome>],
    ) -> Vec<crate::results::FundingRow> {
        let spreads = (!runs.is_empty()).then(|| funding::spreads(self.settings, runs, self.units.len()));
        let part = |s: &funding::Share, kind: funding::PartKind| {
            self.settings.parts.iter().position(|p| p.kind == kind).map(|k| s.parts[k])
        };
        let change_years = self
            .settings
            .parts
            .iter()
            .find(|p| p.kind == funding::PartKind::Improvement)
            .map_or(1, |p| p.years as usize);
        let scores = &index.scores[index_code];
        self.units
            .iter()
            .enumerate()
            .map(|(i, &u)| {
                let row = panel.row(self.year, u);
                let unit = &panel.units[u];
                let s = &self.shares[i];
                let sp = spreads.as_ref().map(|v| &v[i]);
                let before =
                    (self.year >= change_years).then(|| scores[panel.row(self.year - change_years, u)]).flatten();
                crate::results::FundingRow {
                    year: panel.years[self.year],
                    region_code: unit.code.clone(),
                    region_name: unit.name.clone(),
                    prefecture_name: unit.prefecture_name.clone(),
                    index: scores[row],
                    index_change: scores[row].zip(before).map(|(a, b)| a - b),
                    rank: index.rank[row],
                    rank_change: index.rank_change[row],
                    casted_tier: index.casted_tier[row].map(u32::from),
                    base_amount: s.base,
                    tier_award: s.tier_award,
                    index_part: part(s, funding::PartKind::Index),
                    improvement_part: part(s, funding::PartKind::Improvement),
                    rank_gain_part: part(s, funding::PartKind::RankGain),
                    adjustment: s.adjustment,
                    amount: s.amount,
                    share_of_budget: s.amount / self.settings.budget,
                    median: sp.map(|x| x.median).filter(|x| x.is_finite()),
                    p05: sp.map(|x| x.p05).filter(|x| x.is_finite()),
                    p95: sp.map(|x| x.p95).filter(|x| x.is_finite()),
                    award_kept: sp.and_then(|x| x.award_kept),
                    above_kept: sp.and_then(|x| x.above_kept),
                    robust: sp.and_then(|x| x.robust()),
                    runs: runs.len() as u32,
                }
            })
            .collect()
    }
}

/// The `appraisal` rows of the evaluation year.
fn appraisal_rows(
    s: &appraisal::AppraisalSettings,
    panel: &Panel,
    index: &IndexResult,
    index_code: &str,
    sensitivity: Option<&sensitivity::Analysis>,
) -> Result<Vec<crate::results::AppraisalRow>, ComputeError> {
    let year = evaluation_year("appraisal", s.year, &panel.years)?;
    let scores = &index.scores[index_code];
    let n = panel.units.len();
    let standings: Vec<appraisal::Standing> = (0..n)
        .map(|u| {
            let row = panel.row(year, u);
            let before = (year > 0).then(|| scores[panel.row(year - 1, u)]).flatten();
            let iv = sensitivity.map(|a| &a.intervals[row]);
            appraisal::Standing {
                rank: index.rank[row],
                rank_change: index.rank_change[row],
                index_change: scores[row].zip(before).map(|(a, b)| a - b),
                tier: index.casted_tier[row],
                p95: iv.and_then(|iv| iv.p95),
                same_tier: iv.and_then(|iv| iv.same_tier),
            }
        })
        .collect();
    Ok(appraisal::appraise(s, &standings)
        .into_iter()
        .map(|e| {
            let (u, c) = (e.county, &standings[e.county]);
            let unit = &panel.units[u];
            crate::results::AppraisalRow {
                year: panel.years[year],
                region_code: unit.code.clone(),
                region_name: unit.name.clone(),
                prefecture_name: unit.prefecture_name.clone(),
                verdict: e.verdict,
                leading: e.leading,
                improved: e.improved,
                index: scores[panel.row(year, u)],
                index_change: c.index_change,
                rank: c.rank,
                rank_change: c.rank_change,
                casted_tier: c.tier.map(u32::from),
                robust: e.robust,
            }
        })
        .collect())
}

/// Every target against every county of its scope (rank and tier on the index), or its region as
/// a whole: the rows of `attainment`, `attainment_years` and `attainment_regions`.
#[allow(clippy::type_complexity)]
fn judge_targets(
    targets: &[Target],
    registry: &Registry,
    catalog: &Catalog,
    panel: &Panel,
    scored: &Panel,
    index: &IndexResult,
    sensitivity: Option<&sensitivity::Analysis>,
) -> (
    Vec<crate::results::AttainmentRow>,
    Vec<crate::results::AttainmentYearRow>,
    Vec<crate::results::RegionalAttainmentRow>,
) {
    let unit_idx: HashMap<&str, usize> = panel.units.iter().enumerate().map(|(i, u)| (u.code.as_str(), i)).collect();
    let positions = attainment::position::Positions {
        panel: scored,
        index,
        intervals: sensitivity.map(|a| a.intervals.as_slice()),
    };
    let (mut att, mut years, mut regional) = (Vec::new(), Vec::new(), Vec::new());
    for t in targets {
        let counties: BTreeSet<&str> = registry
            .within(&t.scope)
            .map(|r| registry.current_code(&r.code))
            .filter(|c| unit_idx.contains_key(c))
            .collect();
        if t.on_index() {
            for c in counties {
                let (a, d) = attainment::position::evaluate(t, c, unit_idx[c], &positions);
                att.push(a);
                years.extend(d);
            }
            continue;
        }
        let Some(k) = panel.indicators.iter().position(|c| c == &t.indicator) else { continue };
        let series = |u: usize| -> YearSeries {
            panel.years.iter().enumerate().map(|(yi, &y)| (y, panel.values[k][panel.row(yi, u)])).collect()
        };
        if t.regional() {
            let all: Vec<YearSeries> = counties.iter().map(|c| series(unit_idx[c])).collect();
            if all.is_empty() {
                continue;
            }
            let ind = catalog.indicator(&t.indicator);
            let (kind, direction) = ind.map_or((crate::catalog::Kind::Amount, 1.0), |i| (i.kind, i.direction));
            let (r, d) = attainment::region::evaluate(t, &t.scope, &all, kind, direction);
            regional.push(r);
            years.extend(d);
            continue;
        }
        for c in counties {
            let (a, d) = attainment::evaluate(t, c, &series(unit_idx[c]), catalog);
            att.push(a);
            years.extend(d);
        }
    }
    (att, years, regional)
}

/// Counts for the commands' summary lines.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub counties: usize,
    pub years: usize,
    pub indicators: usize,
    pub targets: usize,
}

pub fn summary(c: &Computed) -> Summary {
    Summary {
        counties: c.scored.units.len(),
        years: c.scored.years.len(),
        indicators: c.scored.indicators.len(),
        targets: c.attainment.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{region, two_indicators};
    use super::*;
    use crate::regions::Change;

    /// 邢台县 130521 was split in 2020 into 襄都区 and 信都区; 任县 130526 became 任泽区 130505.
    fn registry() -> Registry {
        let mut renamed_to = region("130505", "任泽区", None, None, None);
        renamed_to.valid_from = Some(2020);
        let regions = vec![
            region("130502", "襄都区", None, None, None),
            region("130503", "信都区", None, None, None),
            renamed_to,
            region("130521", "邢台县", Some(2019), Some("130502;130503"), Some(Change::Split)),
            region("130522", "临城县", None, None, None),
            region("130526", "任县", Some(2019), Some("130505"), Some(Change::Renamed)),
        ];
        super::testing::registry(regions)
    }

    /// Observations 2018–2021: every unit every year it exists, but 临城县 sends nothing in 2021
    /// (未报送) and 任县's series goes on under 任泽区's code.
    fn observations() -> DataFrame {
        let mut rows: Vec<(&str, i32, &str, f64)> = Vec::new();
        for (code, base, years) in [
            ("130502", 5.0, 2018..=2021),
            ("130503", 40.0, 2018..=2021),
            ("130521", 30.0, 2018..=2019),
            ("130522", 10.0, 2018..=2020),
            ("130526", 20.0, 2018..=2019),
            ("130505", 22.0, 2020..=2021),
        ] {
            for y in years {
                rows.push((code, y, "x", base + f64::from(y - 2018)));
                rows.push((code, y, "y", base * 2.0 - f64::from(y - 2018)));
            }
        }
        df!(
            "region_code" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            "year" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            "indicator" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            "value" => rows.iter().map(|r| Some(r.3)).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn imputation_never_scores_a_unit_outside_its_existence() {
        let catalog = two_indicators();
        let registry = registry();
        let panel = build_panel(&observations(), &registry, &catalog, &Scope::all()).unwrap();
        let codes: Vec<&str> = panel.units.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes, ["130502", "130503", "130505", "130521", "130522"], "任县 continues as 任泽区");
        let u = |c: &str| codes.iter().position(|x| *x == c).unwrap();
        let y = |year: i32| panel.years.iter().position(|&x| x == year).unwrap();
        assert!(panel.valid[panel.row(y(2019), u("130521"))] && !panel.valid[panel.row(y(2020), u("130521"))]);
        assert!(panel.valid[panel.row(y(2018), u("130505"))], "任泽区 exists in 2018 as 任县");
        for imputation in
            [index::Imputation::Locf, index::Imputation::Linear, index::Imputation::GroupMean, index::Imputation::None]
        {
            let method = Method { imputation, outliers: index::Outliers::None, ..Method::default() };
            let r = index::compute(&panel, &catalog, &method).unwrap();
            for year in [2020, 2021] {
                let row = panel.row(y(year), u("130521"));
                assert_eq!((r.scores["i"][row], r.rank[row]), (None, None), "{imputation:?}: 邢台县 in {year}");
                assert!(r.imputed.iter().all(|col| col[row].is_none()), "{imputation:?}: nothing imputed");
            }
            // 2020: four units exist and reported; their ranks are 1..4.
            let mut ranks: Vec<u32> = (0..codes.len()).filter_map(|i| r.rank[panel.row(y(2020), i)]).collect();
            ranks.sort();
            assert_eq!(ranks, [1, 2, 3, 4], "{imputation:?}");
            // 临城县 2021 is inside its existence: imputed (except with none).
            let gap = panel.row(y(2021), u("130522"));
            assert_eq!(r.rank[gap].is_some(), imputation != index::Imputation::None, "{imputation:?}");
        }
    }
}
