//! Policy targets: the targets file format (four kinds) and its validation against catalog and registry.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{convert, Catalog};
use crate::regions::Registry;

crate::keyed! {
    /// What a target asks for.
    pub enum TargetKind {
        /// Reach a level by the end year (`op` ≥ or ≤ `value`).
        Level = "level",
        /// Average annual growth from `start` to `end` within [`min`, `max`] percent.
        Growth = "growth",
        /// Every year from `start` to `end`, the value meets `op value`.
        Flow = "flow",
        /// The sum of the yearly values from `start` to `end` meets `op value`.
        Cumulative = "cumulative",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
}

/// One target as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub id: String,
    pub indicator: String,
    /// A county code, or a prefecture or province code meaning every county in it.
    pub scope: String,
    pub kind: TargetKind,
    #[serde(default)]
    pub op: Option<Op>,
    /// Level, flow or cumulative threshold, in `unit`.
    #[serde(default)]
    pub value: Option<f64>,
    /// Unit of `value`; defaults to the catalog unit and is converted to it on load.
    #[serde(default)]
    pub unit: Option<String>,
    /// Growth range in percent a year.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Base year of the plan (growth base, start of a flow or cumulative period).
    pub start: i32,
    /// Target year (end of the period).
    pub end: i32,
    /// The policy document the target comes from.
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    #[serde(default)]
    targets: Vec<Target>,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("cannot read targets file {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("targets file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("targets file {path}: {}", problems.join("; "))]
    Invalid { path: PathBuf, problems: Vec<String> },
}

/// Load, check every target (listing all problems) and convert values to the catalog unit.
pub fn load(path: &Path, catalog: &Catalog, registry: &Registry) -> Result<Vec<Target>, TargetsError> {
    let text = std::fs::read_to_string(path).map_err(|source| TargetsError::Io { path: path.to_owned(), source })?;
    parse(&text, path, catalog, registry)
}

pub fn parse(text: &str, path: &Path, catalog: &Catalog, registry: &Registry) -> Result<Vec<Target>, TargetsError> {
    let file: TargetsFile = toml::from_str(text)
        .map_err(|e| TargetsError::Parse { path: path.to_owned(), message: crate::config::toml_error(text, &e) })?;
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut out = Vec::new();
    for mut t in file.targets {
        let at = format!("target \"{}\"", t.id);
        let mut bad = |m: String| problems.push(format!("{at}: {m}"));
        if !ids.insert(t.id.clone()) {
            bad("id is used twice".into());
        }
        let Some(ind) = catalog.indicator(&t.indicator) else {
            bad(format!("unknown indicator \"{}\"", t.indicator));
            continue;
        };
        if registry.within(&t.scope).next().is_none() {
            bad(format!("scope {} is not a county, prefecture or province in the registry", t.scope));
        }
        if t.start >= t.end {
            bad(format!("start {} must be before end {}", t.start, t.end));
        }
        match t.kind {
            TargetKind::Growth => {
                match (t.min, t.max) {
                    (None, None) => bad("a growth target needs min and/or max (percent a year)".into()),
                    (Some(lo), Some(hi)) if lo > hi => bad(format!("growth range {lo}–{hi} is empty")),
                    _ => {}
                }
                if t.value.is_some() || t.op.is_some() {
                    bad("a growth target takes min/max, not value/op".into());
                }
            }
            _ => {
                if t.op.is_none() {
                    bad(format!("a {} target needs op = \">=\" or \"<=\"", t.kind.as_str()));
                }
                match t.value {
                    None => bad(format!("a {} target needs a value", t.kind.as_str())),
                    Some(v) => {
                        let unit = t.unit.clone().unwrap_or_else(|| ind.unit.clone());
                        match catalog.conversion(&unit, &ind.unit) {
                            Ok(f) => {
                                t.value = Some(convert(v, f));
                                t.unit = Some(ind.unit.clone());
                            }
                            Err(e) => bad(format!("{e}")),
                        }
                    }
                }
                if t.min.is_some() || t.max.is_some() {
                    bad(format!("a {} target takes value/op, not min/max", t.kind.as_str()));
                }
            }
        }
        out.push(t);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(TargetsError::Invalid { path: path.to_owned(), problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> (Catalog, Registry) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        (
            Catalog::load(&root.join("schemas/indicators.toml")).unwrap(),
            Registry::load(&root.join("schemas/regions.csv")).unwrap(),
        )
    }

    #[test]
    fn converts_target_units_and_lists_every_problem() {
        let (c, r) = fixtures();
        let ok = r#"
[[targets]]
id = "jinta-contracts"
indicator = "tech_contract_value"
scope = "620921"
kind = "level"
op = ">="
value = 2
unit = "亿元"
start = 2017
end = 2020
source = "金塔县 2018"
"#;
        let t = parse(ok, Path::new("t.toml"), &c, &r).unwrap();
        assert_eq!(t[0].value, Some(20000.0));
        assert_eq!(t[0].unit.as_deref(), Some("万元"));

        let bad = r#"
[[targets]]
id = "a"
indicator = "nope"
scope = "620921"
kind = "level"
start = 2017
end = 2020
source = "x"

[[targets]]
id = "b"
indicator = "tech_contract_value"
scope = "999999"
kind = "growth"
start = 2020
end = 2017
source = "x"
"#;
        let err = parse(bad, Path::new("t.toml"), &c, &r).unwrap_err().to_string();
        for needle in ["t.toml", "unknown indicator \"nope\"", "scope 999999", "start 2020", "needs min"] {
            assert!(err.contains(needle), "{needle} missing in {err}");
        }
    }
}
