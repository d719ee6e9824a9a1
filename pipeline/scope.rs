//! The evaluation scope (参评范围, `[scope]`): which counties are scored, ranked and reported, what
//! a missing county means (coverage policy), and the peer groups counties are also ranked within.
//! A county is judged by its current unit: a code's data belong to the county it continues into.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::regions::{Region, Registry};

crate::keyed! {
    /// What a county missing from a year's files is.
    pub enum Coverage {
        /// An error: the ingest refuses the inputs (the default).
        Error = "error",
        /// A warning: the county is listed as 未报送 and imputed or left out of that year's ranking.
        Warn = "warn",
    }
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage::Error
    }
}

/// `[scope]` settings as written in the config file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScopeSettings {
    /// Province codes (`620000`) or names (`甘肃省`); empty = every province.
    pub provinces: Vec<String>,
    /// Prefecture codes or names; empty = every prefecture of those provinces.
    pub prefectures: Vec<String>,
    /// Unit types (`县`, `县级市`, `市辖区`, `自治县`, `旗`, …); empty = every county-level type.
    pub types: Vec<String>,
    /// Counties added regardless of the filters above.
    pub include: Vec<String>,
    /// Counties left out regardless of the filters above.
    pub exclude: Vec<String>,
    /// Count functional zones (经济开发区, 高新区, 管理区: 71–79 in digits 5–6) as units.
    pub zones: bool,
    pub coverage: Coverage,
    /// A CSV of county → peer group (columns `code` and `group`, or 区划代码 and 分组).
    pub peer_groups: Option<PathBuf>,
    /// What the groups are called in reports, e.g. 主体功能区.
    pub peer_group_name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("[scope] {key}: \"{value}\" is not a {what} in the region registry {registry}")]
    Unknown { key: &'static str, value: String, what: &'static str, registry: PathBuf },
    #[error("[scope] types: unknown type \"{0}\"; the registry has {1}")]
    Type(String, String),
    #[error("[scope] selects no county of the region registry {0}")]
    Empty(PathBuf),
    #[error("cannot read peer groups {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("peer groups {path}, row {row}: {message}")]
    Row { path: PathBuf, row: usize, message: String },
}

/// The resolved scope.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub coverage: Coverage,
    /// Current codes of the counties in the evaluation; None = every county-level unit.
    counties: Option<HashSet<String>>,
    zones: bool,
    /// Current code → peer group.
    pub groups: HashMap<String, String>,
    pub group_name: Option<String>,
}

impl Scope {
    /// Everything but functional zones, no peer groups, coverage errors: the defaults.
    pub fn all() -> Scope {
        Scope::default()
    }

    pub fn resolve(s: &ScopeSettings, registry: &Registry) -> Result<Scope, ScopeError> {
        let area = |key: &'static str, what: &'static str, values: &[String], level: fn(&Region) -> (&str, &str)| {
            values
                .iter()
                .map(|v| {
                    let v = v.trim();
                    registry
                        .regions
                        .iter()
                        .map(level)
                        .find(|(code, name)| *code == v || *name == v)
                        .map(|(code, _)| code.to_string())
                        .ok_or_else(|| ScopeError::Unknown {
                            key,
                            value: v.to_string(),
                            what,
                            registry: registry.path.clone(),
                        })
                })
                .collect::<Result<HashSet<String>, _>>()
        };
        let provinces = area("provinces", "province", &s.provinces, |r| (&r.province_code, &r.province_name))?;
        let prefectures =
            area("prefectures", "prefecture", &s.prefectures, |r| (&r.prefecture_code, &r.prefecture_name))?;
        let known: std::collections::BTreeSet<&str> = registry.regions.iter().map(|r| r.kind.as_str()).collect();
        for t in &s.types {
            if !known.contains(t.as_str()) {
                return Err(ScopeError::Type(t.clone(), known.iter().copied().collect::<Vec<_>>().join(", ")));
            }
        }
        let county = |key: &'static str, values: &[String]| -> Result<HashSet<String>, ScopeError> {
            values
                .iter()
                .map(|v| match registry.lookup(v, None) {
                    crate::regions::Lookup::Found(r) | crate::regions::Lookup::NotValid(r) => {
                        Ok(registry.current_code(&r.code).to_string())
                    }
                    _ => Err(ScopeError::Unknown {
                        key,
                        value: v.clone(),
                        what: "county code or unique name",
                        registry: registry.path.clone(),
                    }),
                })
                .collect()
        };
        let (include, exclude) = (county("include", &s.include)?, county("exclude", &s.exclude)?);
        let filtered = !(s.provinces.is_empty() && s.prefectures.is_empty() && s.types.is_empty());
        let counties = (filtered || !include.is_empty() || !exclude.is_empty()).then(|| {
            registry
                .regions
                .iter()
                .filter(|r| registry.current_code(&r.code) == r.code)
                .filter(|r| {
                    if exclude.contains(&r.code) {
                        return false;
                    }
                    if include.contains(&r.code) {
                        return true;
                    }
                    (s.zones || !r.is_zone())
                        && (provinces.is_empty() || provinces.contains(&r.province_code))
                        && (prefectures.is_empty() || prefectures.contains(&r.prefecture_code))
                        && (s.types.is_empty() || s.types.contains(&r.kind))
                })
                .map(|r| r.code.clone())
                .collect::<HashSet<String>>()
        });
        if counties.as_ref().is_some_and(HashSet::is_empty) {
            return Err(ScopeError::Empty(registry.path.clone()));
        }
        let groups = match &s.peer_groups {
            Some(p) => load_groups(p, registry)?,
            None => HashMap::new(),
        };
        Ok(Scope { coverage: s.coverage, counties, zones: s.zones, groups, group_name: s.peer_group_name.clone() })
    }

    /// Whether the scope narrows the registry (a file's out-of-scope counties are then named).
    pub fn is_explicit(&self) -> bool {
        self.counties.is_some()
    }

    /// Whether a region's county (its current unit) takes part in the evaluation.
    pub fn contains(&self, registry: &Registry, region: &Region) -> bool {
        match &self.counties {
            Some(set) => set.contains(registry.current_code(&region.code)),
            None => {
                let current = registry.get(registry.current_code(&region.code)).unwrap_or(region);
                self.zones || !current.is_zone()
            }
        }
    }

    /// The peer group of a county (by its current code).
    pub fn group(&self, current_code: &str) -> Option<&str> {
        self.groups.get(current_code).map(String::as_str)
    }
}

/// County → peer group from a CSV with a code column and a group column.
fn load_groups(path: &Path, registry: &Registry) -> Result<HashMap<String, String>, ScopeError> {
    let bytes = std::fs::read(path).map_err(|source| ScopeError::Io { path: path.to_owned(), source })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rd =
        csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let bad = |row: usize, message: String| ScopeError::Row { path: path.to_owned(), row, message };
    let header: Vec<String> = rd.headers().map_err(|e| bad(1, e.to_string()))?.iter().map(str::to_string).collect();
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let code_col = find(&["code", "区划代码", "代码", "行政区划代码"])
        .ok_or_else(|| bad(1, "no code column (code, 区划代码 or 代码)".into()))?;
    let group_col = find(&["group", "分组", "类别", "组别", "peer_group"])
        .ok_or_else(|| bad(1, "no group column (group, 分组 or 类别)".into()))?;
    let mut out = HashMap::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| bad(i + 2, e.to_string()))?;
        let (code, group) = (rec.get(code_col).unwrap_or(""), rec.get(group_col).unwrap_or(""));
        if code.is_empty() && group.is_empty() {
            continue;
        }
        let region = match registry.lookup(code, None) {
            crate::regions::Lookup::Found(r) | crate::regions::Lookup::NotValid(r) => r,
            _ => return Err(bad(i + 2, format!("\"{code}\" is not a county of the region registry"))),
        };
        if group.is_empty() {
            return Err(bad(i + 2, format!("{code} has no group")));
        }
        let current = registry.current_code(&region.code).to_string();
        if let Some(other) = out.insert(current.clone(), group.to_string()) {
            if other != group {
                return Err(bad(i + 2, format!("{current} is in two groups: {other} and {group}")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        Registry::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/regions.csv"))).unwrap()
    }

    #[test]
    fn provinces_types_and_explicit_codes_decide_the_scope() {
        let r = registry();
        // 甘肃's 67 个县（市）: counties and county-level cities, not districts.
        let s = ScopeSettings {
            provinces: vec!["甘肃省".into()],
            types: vec!["县".into(), "县级市".into(), "自治县".into()],
            exclude: vec!["敦煌市".into()],
            include: vec!["620802".into()],
            ..ScopeSettings::default()
        };
        let scope = Scope::resolve(&s, &r).unwrap();
        let inside = |code: &str| scope.contains(&r, r.get(code).unwrap());
        assert!(inside("620921") && inside("620923") && inside("620981"), "县, 自治县, 县级市");
        assert!(!inside("620902"), "a district is out");
        assert!(inside("620802"), "included by code");
        assert!(!inside("620982"), "excluded by name");
        assert!(!inside("420802"), "another province");
        assert!(inside("620824") && inside("620881"), "华亭县 is judged as 华亭市, its current unit");
        let gansu_counties =
            r.regions.iter().filter(|x| r.current_code(&x.code) == x.code && scope.contains(&r, x)).count();
        assert!(gansu_counties > 60, "{gansu_counties}");
    }

    #[test]
    fn the_default_scope_is_every_county_level_unit_but_zones() {
        let r = registry();
        let scope = Scope::all();
        assert!(scope.contains(&r, r.get("420802").unwrap()));
        assert!(!scope.contains(&r, r.get("620871").unwrap()), "平凉工业园区 is a functional zone");
        let zones = Scope::resolve(&ScopeSettings { zones: true, ..Default::default() }, &r).unwrap();
        assert!(zones.contains(&r, r.get("620871").unwrap()));
    }

    #[test]
    fn unknown_areas_and_types_name_the_key() {
        let r = registry();
        let err = Scope::resolve(&ScopeSettings { provinces: vec!["火星省".into()], ..Default::default() }, &r)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("[scope] provinces: \"火星省\" is not a province"), "{err}");
        let err = Scope::resolve(&ScopeSettings { types: vec!["村".into()], ..Default::default() }, &r)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown type \"村\"") && err.contains("县级市"), "{err}");
    }
}
