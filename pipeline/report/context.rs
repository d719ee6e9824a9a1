//! The report contexts of one year: the published tables read as typed rows (`Tables::load`),
//! the lookups every report shares (`Year`), and `build`, which assembles the shared `Meta`, one
//! `CountyReport` per county (`county.rs`) and the `Overview` (`overview.rs`). Pure after loading.

use std::collections::HashMap;
use std::path::Path;

use super::model::*;
use crate::catalog::Catalog;
use crate::labels::Lang;
use crate::records::{MissingRow, SourceInfo};
use crate::regions::Registry;
use crate::results::derive::{self, Field};
use crate::results::{
    self, AppraisalRow, AttainmentRow, AttainmentYearRow, AuditAlphaRow, AuditCorrelationRow, AuditFlagRow,
    AuditPcaRow, FundingRow, GrowthRow, IndexRow, MethodRow, NormalisedRow, RegionalAttainmentRow, ScoreRow,
    SensitivityRow, UncertaintyRow, WeightRow,
};
use crate::scope::Scope;
use crate::store::StoreError;
use crate::tables;
use crate::targets::Target;

/// The published tables a report reads: the index of every year (for the history), the rest of
/// the report year only.
pub struct Tables {
    pub year: i32,
    /// Every year with an index, ascending.
    pub years: Vec<i32>,
    pub index: Vec<IndexRow>,
    pub scores: Vec<ScoreRow>,
    pub normalised: Vec<NormalisedRow>,
    pub weights: Vec<WeightRow>,
    pub growth: Vec<GrowthRow>,
    pub attainment: Vec<AttainmentRow>,
    pub attainment_years: Vec<AttainmentYearRow>,
    pub attainment_regions: Vec<RegionalAttainmentRow>,
    pub method: Vec<MethodRow>,
    pub uncertainty: Vec<UncertaintyRow>,
    pub sensitivity: Vec<SensitivityRow>,
    pub sources: Vec<SourceInfo>,
    /// The audit on the pooled panel, or of the report year for an index normalised year by year.
    pub audit_alpha: Vec<AuditAlphaRow>,
    pub audit_correlation: Vec<AuditCorrelationRow>,
    pub audit_pca: Vec<AuditPcaRow>,
    pub audit_flags: Vec<AuditFlagRow>,
    /// Counties that sent nothing for the report year (未报送).
    pub missing: Vec<MissingRow>,
    /// 绩效拨款 and 考评 of the report year (empty when computed for another year, or not at all).
    pub funding: Vec<FundingRow>,
    pub appraisal: Vec<AppraisalRow>,
    /// (county code as stored, input file) for every file that holds a value of the county.
    pub county_files: Vec<(String, String)>,
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

impl Tables {
    /// Read the results for `year` (default: the latest year with an index).
    pub fn load(results_dir: &Path, store: &Path, year: Option<i32>) -> Result<Tables, ContextError> {
        let index: Vec<IndexRow> = tables::read(results_dir)?;
        let mut years: Vec<i32> = index.iter().map(|r| r.year).collect();
        years.sort_unstable();
        years.dedup();
        let path = tables::path_of::<IndexRow>(results_dir);
        let Some(&latest) = years.last() else { return Err(ContextError::Empty { path }) };
        let year = year.unwrap_or(latest);
        if !years.contains(&year) {
            return Err(ContextError::NoYear { path, year, available: format!("{}–{latest}", years[0]) });
        }
        Ok(Tables {
            year,
            scores: results::read_year(results_dir, year)?,
            normalised: results::read_year(results_dir, year)?,
            growth: results::read_year(results_dir, year)?,
            uncertainty: results::read_year(results_dir, year)?,
            funding: results::read_year(results_dir, year)?,
            appraisal: results::read_year(results_dir, year)?,
            weights: tables::read(results_dir)?,
            attainment: tables::read(results_dir)?,
            attainment_years: tables::read(results_dir)?,
            attainment_regions: tables::read(results_dir)?,
            method: tables::read(results_dir)?,
            sensitivity: tables::read(results_dir)?,
            sources: tables::read(store)?,
            missing: tables::read::<MissingRow>(store)?.into_iter().filter(|m| m.year == year).collect(),
            audit_alpha: audit_rows(results_dir, year, |r: &AuditAlphaRow| r.year)?,
            audit_correlation: audit_rows(results_dir, year, |r: &AuditCorrelationRow| r.year)?,
            audit_pca: audit_rows(results_dir, year, |r: &AuditPcaRow| r.year)?,
            audit_flags: audit_rows(results_dir, year, |r: &AuditFlagRow| r.year)?,
            county_files: county_files(store)?,
            index,
            years,
        })
    }
}

/// An audit table's rows of the pooled panel, or of `year` when the audit is per year.
fn audit_rows<R: tables::Row>(dir: &Path, year: i32, year_of: fn(&R) -> Option<i32>) -> Result<Vec<R>, StoreError> {
    Ok(tables::read::<R>(dir)?.into_iter().filter(|r| year_of(r).is_none_or(|y| y == year)).collect())
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

/// Whether a method setting takes part in the method used: `power` only with a power mean,
/// `combine` only with combined weights, and so on (method.parquet keeps them all).
fn method_setting_applies(key: &str, method: &[crate::results::MethodRow]) -> bool {
    let get = |k: &str| method.iter().find(|m| m.key == k).map_or("", |m| m.value.as_str());
    let weights = get("compute.weights");
    let aggregation_used =
        |a: &str| get("compute.aggregation") == a || get("compute.aggregation_by_level").contains(&format!("\"{a}\""));
    match key {
        "compute.zscore_sd" => get("compute.normalisation") == "zscore",
        "compute.power" => aggregation_used("power"),
        "compute.mpi_penalty" => aggregation_used("mpi"),
        "compute.combine" => weights == "combined",
        "compute.ahp_cr_limit" => {
            weights == "ahp" || (weights == "combined" && get("compute.combine").contains("\"ahp\""))
        }
        "compute.weights_years" => matches!(weights, "entropy" | "critic" | "cv" | "combined"),
        "compute.entropy_basis" => {
            weights == "entropy" || (weights == "combined" && get("compute.combine").contains("\"entropy\""))
        }
        _ => true,
    }
}

/// The lookups every report of the year shares.
pub struct Year<'a> {
    pub t: &'a Tables,
    pub catalog: &'a Catalog,
    pub registry: &'a Registry,
    pub targets: &'a [Target],
    pub lang: Lang,
    /// What the peer groups are called, when counties have any.
    pub group_name: Option<String>,
    pub year: i32,
    pub field: Field,
    pub dimensions: Vec<Named>,
    /// Rows of the report year, best rank first (unranked last, by code).
    pub rows: Vec<&'a IndexRow>,
    /// (county, node) → rank of the node's score.
    pub node_rank: HashMap<(&'a str, &'a str), u32>,
    /// (county, year) → rank interval.
    pub interval: HashMap<(&'a str, i32), &'a UncertaintyRow>,
}

impl<'a> Year<'a> {
    pub fn new(
        t: &'a Tables,
        catalog: &'a Catalog,
        registry: &'a Registry,
        targets: &'a [Target],
        scope: &Scope,
        lang: Lang,
    ) -> Year<'a> {
        let year = t.year;
        let dimensions = catalog
            .dimensions()
            .map(|g| Named {
                code: g.code.clone(),
                name: catalog.name_of(&g.code, lang == Lang::En).unwrap_or_default().to_string(),
            })
            .collect();
        let mut rows: Vec<&IndexRow> = t.index.iter().filter(|r| r.year == year).collect();
        rows.sort_by(|a, b| {
            (a.rank.unwrap_or(u32::MAX), &a.region_code).cmp(&(b.rank.unwrap_or(u32::MAX), &b.region_code))
        });
        let node_rank = t
            .scores
            .iter()
            .filter(|s| s.year == year)
            .filter_map(|s| Some(((&*s.region_code, &*s.node), s.rank?)))
            .collect();
        let interval = t.uncertainty.iter().map(|u| ((u.region_code.as_str(), u.year), u)).collect();
        let group_name = t.index.iter().any(|r| r.peer_group.is_some()).then(|| {
            scope.group_name.clone().unwrap_or_else(|| if lang == Lang::En { "Peer group" } else { "同类县" }.into())
        });
        Year {
            t,
            catalog,
            registry,
            targets,
            lang,
            group_name,
            year,
            field: Field::of(&t.index),
            dimensions,
            rows,
            node_rank,
            interval,
        }
    }

    /// A catalog name in the report language.
    pub fn name(&self, code: &str) -> String {
        self.catalog.name_of(code, self.lang == Lang::En).unwrap_or(code).to_string()
    }

    pub fn place(&self, code: &str) -> Place {
        let r = self.registry.get(code);
        Place {
            code: code.to_string(),
            name: r.map_or_else(|| code.to_string(), |r| r.name.clone()),
            prefecture_code: r.map_or_else(String::new, |r| r.prefecture_code.clone()),
            prefecture: r.map_or_else(String::new, |r| r.prefecture_name.clone()),
            province: r.map_or_else(String::new, |r| r.province_name.clone()),
        }
    }

    pub fn standing(&self, r: &IndexRow) -> Standing {
        let iv = self.interval.get(&(&*r.region_code, r.year));
        Standing {
            index: r.index,
            rank: r.rank,
            rank_prefecture: r.rank_prefecture,
            rank_province: r.rank_province,
            rank_change: r.rank_change,
            tier: r.casted_tier,
            ratio_to_average: r.ratio_to_average,
            ratio_group: r.ratio_group,
            indicators_present: Some(r.indicators_present),
            of: self.field.counties(r.year),
            of_prefecture: self.field.prefecture_counties(r.year, &r.prefecture_code),
            peer_group: r.peer_group.clone(),
            rank_peer: r.rank_peer,
            of_peer: r.peer_group.as_deref().map_or(0, |g| self.field.group_counties(r.year, g)),
            peer_average: r.peer_group.as_deref().and_then(|g| self.field.group_average(r.year, g)),
            p05: iv.and_then(|u| u.p05_rank),
            p95: iv.and_then(|u| u.p95_rank),
            median_rank: iv.and_then(|u| u.median_rank),
            same_tier: iv.and_then(|u| u.same_tier_share),
        }
    }

    pub fn rank_line(&self, r: &IndexRow) -> RankLine {
        RankLine {
            place: self.place(&r.region_code),
            standing: self.standing(r),
            scores: self.dimensions.iter().map(|d| r.scores.get(&d.code)).collect(),
        }
    }

    /// The dimensions' average scores in the report year, in dimension order.
    pub fn dimension_averages(&self) -> Vec<Option<f64>> {
        self.dimensions.iter().map(|d| derive::mean(self.rows.iter().filter_map(|r| r.scores.get(&d.code)))).collect()
    }

    pub fn sources(&self) -> Vec<Source> {
        self.t
            .sources
            .iter()
            .map(|s| Source {
                file: s.file.clone(),
                sha256: s.sha256.clone(),
                bytes: s.bytes,
                revision: s.revision,
                observations: s.observations,
            })
            .collect()
    }
}

pub fn meta(y: &Year<'_>) -> Meta {
    let t = y.t;
    let mut spans: Vec<u32> = t
        .growth
        .first()
        .map(|g| {
            g.changes
                .0
                .iter()
                .filter_map(|c| match c.span {
                    crate::codes::Span::Years(n) if n > 1 => Some(n as u32),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    spans.sort_unstable();
    let casted_floor = t
        .method
        .iter()
        .find(|m| m.key == "compute.tiers")
        .and_then(|m| serde_json::from_str::<serde_json::Value>(&m.value).ok())
        .and_then(|v| v.get("casted_floor")?.as_f64());
    let method = t
        .method
        .iter()
        .filter(|m| method_setting_applies(&m.key, &t.method))
        .map(|m| {
            // "node: CR = …" of an AHP check: the node by its name.
            let value = match (m.key.as_str(), m.value.split_once(": ")) {
                ("ahp", Some((node, rest))) => format!("{}：{rest}", y.name(node)),
                _ => readable(&m.value),
            };
            Setting { key: m.key.clone(), value }
        })
        .collect();
    // The weights that scored the report year (one set, or that year's when fitted per year).
    let mut weights: Vec<WeightLine> = t
        .weights
        .iter()
        .filter(|w| w.year.is_none_or(|wy| wy == y.year))
        .map(|w| WeightLine {
            level: w.level,
            node: y.name(&w.node),
            child: y.name(&w.child),
            child_code: w.child.clone(),
            catalog_weight: Some(w.catalog_weight),
            weight: Some(w.effective_weight),
            scheme: w.scheme.as_str().to_string(),
        })
        .collect();
    // Top level first, as a reader reads the framework.
    weights.sort_by_key(|w| std::cmp::Reverse(w.level));
    let mut sensitivity: Vec<Sensitivity> = t
        .sensitivity
        .iter()
        .map(|s| Sensitivity {
            factor: s.factor,
            options: s.options.clone(),
            first_order: Some(s.first_order),
            total: Some(s.total),
        })
        .collect();
    sensitivity.sort_by(|a, b| {
        b.total.unwrap_or(0.0).total_cmp(&a.total.unwrap_or(0.0)).then(a.factor.as_str().cmp(b.factor.as_str()))
    });
    let mut provinces: Vec<String> = y.rows.iter().map(|r| y.place(&r.region_code).province).collect();
    provinces.sort();
    provinces.dedup();
    Meta {
        lang: y.lang.as_str(),
        year: y.year,
        first_year: t.years[0],
        synthetic: t.sources.iter().any(|s| s.synthetic),
        cimon_version: env!("CARGO_PKG_VERSION"),
        index_name: y.name(&y.catalog.index.code),
        subject: match y.lang {
            Lang::Zh => y.catalog.index.subject_zh.clone(),
            Lang::En => y.catalog.index.subject_en.clone(),
        },
        counties: y.field.counties(y.year),
        provinces,
        dimensions: y.dimensions.clone(),
        peer_group_name: y.group_name.clone(),
        growth_spans: spans,
        casted_floor,
        sensitivity_runs: t.uncertainty.iter().map(|u| u.runs).max().unwrap_or(0),
        sensitivity,
        method,
        weights,
    }
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
}
