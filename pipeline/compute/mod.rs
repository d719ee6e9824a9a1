//! The compute stage: store → panel → index, growth and target attainment → result tables in `out/results/`.

pub mod appraisal;
pub mod attainment;
pub mod audit;
mod evaluation;
pub mod funding;
pub mod growth;
pub mod index;
pub mod invariants;
pub mod method;
pub mod methods;
pub mod output;
mod panel;
pub mod rows;
pub mod sensitivity;
#[cfg(test)]
mod testing;

use evaluation::{appraisal_rows, FundingPlan};
pub use panel::{build_panel, load_panel, scored, PanelError};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::regions::Registry;
use crate::scope::Scope;
use crate::store::StoreError;
use crate::targets::Target;
use attainment::Series as YearSeries;
use index::{IndexResult, Method, Panel};

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
    #[error("the store {} holds {indicator} for {year} under both {}, which the registry {} makes one county ({county}): compute with the registry the store was ingested with", store.display(), codes.join(" and "), registry.display())]
    TwoCodes {
        codes: Vec<String>,
        county: String,
        indicator: String,
        year: i32,
        store: std::path::PathBuf,
        registry: std::path::PathBuf,
    },
    #[error(transparent)]
    Invariant(#[from] invariants::Broken),
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
    /// The growth measures, derived from `panel` when read.
    pub growth: growth::Growth,
    pub attainment: Vec<crate::results::AttainmentRow>,
    pub attainment_years: Vec<crate::results::AttainmentYearRow>,
    /// Targets of a region as a whole.
    pub attainment_regions: Vec<crate::results::RegionalAttainmentRow>,
    /// The statistical audit of the index.
    pub audit: audit::Audit,
    /// Counties of the scope that sent nothing for a year (未报送, `coverage = "warn"`).
    pub missing: Vec<crate::records::MissingRow>,
    /// Indicators of the store the catalog does not declare: left out of everything, for a warning.
    pub not_in_catalog: Vec<String>,
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

/// What compute reads from the store: the panel of the scope's counties and the records of
/// missing values.
pub struct Loaded {
    store: std::path::PathBuf,
    panel: Panel,
    missing: Vec<crate::records::MissingRow>,
    not_in_catalog: Vec<String>,
    started: std::time::Instant,
}

/// Read the store for `compute_loaded`: the only reading compute does.
pub fn load(store_dir: &Path, catalog: &Catalog, registry: &Registry, scope: &Scope) -> Result<Loaded, ComputeError> {
    let started = std::time::Instant::now();
    let (panel, not_in_catalog) = load_panel(store_dir, registry, catalog, scope)?;
    let missing: Vec<crate::records::MissingRow> = crate::tables::read(store_dir)?;
    crate::timing::lap("load", started);
    Ok(Loaded { store: store_dir.to_owned(), panel, missing, not_in_catalog, started })
}

/// Compute everything from what `load` read. Pure.
#[allow(clippy::too_many_arguments)]
pub fn compute_loaded(
    loaded: Loaded,
    catalog: &Catalog,
    registry: &Registry,
    targets: &[Target],
    method: &Method,
    growth_settings: &GrowthSettings,
    sensitivity_settings: &sensitivity::SensitivitySettings,
    evaluation: &Evaluation,
) -> Result<Computed, ComputeError> {
    let Loaded { store, panel, missing, not_in_catalog, started: t0 } = loaded;
    let lap = |what: &str| crate::timing::lap(what, t0);
    let scored_panel = scored(&panel, catalog);
    if panel.units.is_empty() || scored_panel.values.iter().all(|c| c.iter().all(Option::is_none)) {
        return Err(ComputeError::Empty(store));
    }
    let index = index::compute(&scored_panel, catalog, method)?;
    lap("index");
    // The audit reads the index and nothing after it: it runs beside the rest.
    let audit_of = || {
        // On the data the index was normalised on: the pooled panel, or year by year.
        let audit = if method.comparison == index::Comparison::PerYear {
            let n = scored_panel.units.len();
            let mut all = audit::Audit::default();
            for (yi, &y) in scored_panel.years.iter().enumerate() {
                all.append(audit::audit(&scored_panel, &index, catalog, Some(y), yi * n..(yi + 1) * n));
            }
            all
        } else {
            audit::audit(&scored_panel, &index, catalog, None, 0..scored_panel.rows())
        };
        lap("audit");
        audit
    };
    let rest = || {
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
            let (a, runs) =
                sensitivity::analyse_with(&scored_panel, catalog, method, &index, sensitivity_settings, |r| {
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
        let attainment = judge_targets(targets, registry, catalog, &panel, &scored_panel, &index, sensitivity.as_ref());
        lap("attainment");
        let broken;
        let checked = if crate::faults::active("invariant") {
            // A test's stand-in for a bug: one county ranked twice over.
            let mut b = index.clone();
            if let Some(r) = b.rank.iter_mut().flatten().next() {
                *r += 1;
            }
            broken = b;
            &broken
        } else {
            &index
        };
        invariants::check(&invariants::Subject {
            panel: &scored_panel,
            index: checked,
            index_code,
            registry,
            intervals: sensitivity.as_ref().map(|a| a.intervals.as_slice()),
            funding: evaluation.funding.as_ref().map(|f| (f.budget, funding.iter().map(|r| r.amount).collect())),
        })?;
        lap("invariants");
        Ok::<_, ComputeError>((growth, sensitivity, funding, appraisal, attainment))
    };
    let (audit, rest) = rayon::join(audit_of, rest);
    let (growth, sensitivity, funding, appraisal, (att, years, regional)) = rest?;
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
        not_in_catalog,
        audit,
        started: t0,
    })
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

    /// `observations()` with `extra` rows of indicator `x` appended.
    fn observations_with(extra: &[(&str, i32, f64)]) -> DataFrame {
        let more = df!(
            "region_code" => extra.iter().map(|r| r.0).collect::<Vec<_>>(),
            "year" => extra.iter().map(|r| r.1).collect::<Vec<_>>(),
            "indicator" => extra.iter().map(|_| "x").collect::<Vec<_>>(),
            "value" => extra.iter().map(|r| Some(r.2)).collect::<Vec<_>>(),
        )
        .unwrap();
        observations().vstack(&more).unwrap()
    }

    #[test]
    fn the_panel_is_the_same_however_the_store_s_rows_are_ordered_chunked_and_held() {
        use rand::seq::SliceRandom;
        use rand::{Rng, SeedableRng};
        // Codes longer than a string view holds inline, of one length and one prefix: their
        // views differ only by where the text lies, so equal views in two chunks can be two codes.
        let long = super::testing::TWO_INDICATORS
            .replace("code = \"x\"", "code = \"indicator_long_code_x\"")
            .replace("code = \"y\"", "code = \"indicator_long_code_y\"");
        let catalog = Catalog::parse(&long, Path::new("catalog.toml")).unwrap();
        let registry = registry();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
        let mut rows: Vec<(&str, i32, &str, Option<f64>)> = Vec::new();
        for (code, years) in [
            ("130502", 2018..=2021),
            ("130503", 2018..=2021),
            ("130521", 2018..=2019),
            ("130522", 2018..=2021),
            ("130526", 2018..=2019),
            ("130505", 2020..=2021),
        ] {
            for y in years {
                for i in &catalog.indicators {
                    rows.push((code, y, &i.code, rng.random_bool(0.9).then(|| rng.random_range(0.0..100.0))));
                }
            }
        }
        let frame = |rows: &[(&str, i32, &str, Option<f64>)]| {
            df!(
                "region_code" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                "year" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                "indicator" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
                "value" => rows.iter().map(|r| r.3).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let expected = build_panel(&frame(&rows), &registry, &catalog, &Scope::all()).unwrap();
        // Every value where the registry puts it (任县's series under 任泽区's code).
        let unit = |c: &str| expected.units.iter().position(|u| u.code == registry.current_code(c)).unwrap();
        for &(code, year, ind, value) in &rows {
            let k = expected.indicators.iter().position(|i| i == ind).unwrap();
            let y = expected.years.iter().position(|&x| x == year).unwrap();
            assert_eq!(expected.values[k][expected.row(y, unit(code))], value, "{code} {year} {ind}");
        }
        for round in 0..4 {
            // Shuffled, in chunks of random sizes; in half the rounds the texts repeat one view
            // each, as a store read from dictionary pages holds them.
            rows.shuffle(&mut rng);
            let mut obs = DataFrame::empty();
            let mut at = 0;
            while at < rows.len() {
                let end = (at + rng.random_range(1..12)).min(rows.len());
                let mut piece = frame(&rows[at..end]);
                if round % 2 == 1 {
                    for name in ["region_code", "indicator"] {
                        let texts: Vec<&str> = piece.column(name).unwrap().str().unwrap().iter().flatten().collect();
                        let mut distinct = texts.clone();
                        distinct.sort();
                        distinct.dedup();
                        let idx: Vec<Option<IdxSize>> =
                            texts.iter().map(|t| Some(distinct.binary_search(t).unwrap() as IdxSize)).collect();
                        piece.with_column(crate::tables::gathered(name, &distinct, &idx)).unwrap();
                    }
                }
                obs = if obs.width() == 0 { piece } else { obs.vstack(&piece).unwrap() };
                at = end;
            }
            assert!(obs.column("region_code").unwrap().n_chunks() > 1);
            let panel = build_panel(&obs, &registry, &catalog, &Scope::all()).unwrap();
            assert_eq!(
                (&panel.units, &panel.years, &panel.indicators),
                (&expected.units, &expected.years, &expected.indicators)
            );
            assert_eq!(panel.values, expected.values, "round {round}");
            assert_eq!(panel.valid, expected.valid);
        }
    }

    #[test]
    fn a_value_under_a_county_s_old_code_after_its_rename_continues_its_series() {
        // 任县 130526 became 任泽区 130505 in 2020; a 2020 value still under 130526 is 任泽区's
        // when 任泽区 has none of its own.
        let obs = observations()
            .filter(&observations().column("region_code").unwrap().str().unwrap().not_equal("130505"))
            .unwrap();
        let obs = obs.vstack(&observations_with(&[("130526", 2020, 77.0)]).slice(-1, 1)).unwrap();
        let panel = build_panel(&obs, &registry(), &two_indicators(), &Scope::all()).unwrap();
        let u = panel.units.iter().position(|u| u.code == "130505").unwrap();
        let y = panel.years.iter().position(|&y| y == 2020).unwrap();
        assert_eq!(panel.values[0][panel.row(y, u)], Some(77.0));
    }

    #[test]
    fn two_codes_of_one_county_in_one_cell_are_refused_not_overwritten() {
        // 任泽区 reports 22+2 = 24 for 2020 under its own code, and a second value arrives under
        // 任县's old code: neither may silently replace the other.
        let err =
            build_panel(&observations_with(&[("130526", 2020, 77.0)]), &registry(), &two_indicators(), &Scope::all())
                .unwrap_err();
        match &err {
            super::PanelError::TwoCodes { codes, county, indicator, year } => {
                assert_eq!(codes, &["130505", "130526"]);
                assert_eq!((county.as_str(), indicator.as_str(), *year), ("130505", "x", 2020));
            }
            other => panic!("expected TwoCodes, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "x for 2020 under both 130505 and 130526, which the registry makes one county (130505)"
        );
    }

    #[test]
    fn a_value_in_a_year_when_no_code_of_its_county_is_valid_is_refused() {
        // 邢台县 130521 was split in 2019 and continues under no code.
        let err =
            build_panel(&observations_with(&[("130521", 2021, 5.0)]), &registry(), &two_indicators(), &Scope::all())
                .unwrap_err();
        assert!(matches!(&err, super::PanelError::OutsideValidity { code, year: 2021 } if code == "130521"), "{err:?}");
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
