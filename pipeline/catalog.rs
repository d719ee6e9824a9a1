//! The indicator catalog: indicators, the aggregation hierarchy and units, loaded from a TOML file.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::normalise_key;

crate::keyed! {
    /// How an indicator's changes are read: ratios move in percentage points, the rest in percent.
    pub enum Kind {
        Count = "count",
        Amount = "amount",
        Rate = "rate",
        Ratio = "ratio",
    }
}

/// The catalog built into cimon (`schemas/indicators.toml`), used when none is configured.
pub const BUILTIN: &str = include_str!("../schemas/indicators.toml");
/// The 双创 monitoring framework shipped beside it (`schemas/shuangchuang.toml`).
pub const SHUANGCHUANG: &str = include_str!("../schemas/shuangchuang.toml");

/// The catalogs cimon ships, which `cimon init --with-catalog NAME` copies out to edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    Innovation,
    Shuangchuang,
}

impl Builtin {
    /// File name and text.
    pub fn file(self) -> (&'static str, &'static str) {
        match self {
            Builtin::Innovation => ("indicators.toml", BUILTIN),
            Builtin::Shuangchuang => ("shuangchuang.toml", SHUANGCHUANG),
        }
    }
}

/// How messages name the built-in catalog.
pub const BUILTIN_PATH: &str = "(built-in) schemas/indicators.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// None only for the index (the root).
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default = "one")]
    pub weight: f64,
    /// What the reports monitor, in their titles ("县域双创发展" → 县域双创发展监测报告); index only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_en: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub kind: Kind,
    /// Parent group; None for context series.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default = "one")]
    pub direction: f64,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default = "yes")]
    pub scored: bool,
    pub range: Option<[f64; 2]>,
    /// Target value for distance-to-target normalisation, in the catalog unit.
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// 统计口径: what the figure counts, as the collection form's input message shows it.
    #[serde(default)]
    pub definition: Option<String>,
    /// Hard bounds: a value outside is an error, not a warning [default: 0–100 for shares in %,
    /// ≥ 0 otherwise]; `bounds = [-inf, inf]` lifts them.
    #[serde(default)]
    pub bounds: Option<[f64; 2]>,
    /// This indicator's year-on-year review thresholds, over the catalog's `[review]`.
    #[serde(default)]
    pub review: Option<YearOnYear>,
}

impl Indicator {
    /// The hard bounds of a value (see `bounds`).
    pub fn hard_bounds(&self) -> [f64; 2] {
        self.bounds.unwrap_or(if self.kind == Kind::Ratio && self.unit == "%" {
            [0.0, 100.0]
        } else {
            [0.0, f64::INFINITY]
        })
    }
}

/// Year-on-year review thresholds (统计审核): a warning when a value moves more than this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearOnYear {
    /// Counts, amounts and rates: this year over last year above this, or below its inverse.
    pub max_ratio: Option<f64>,
    /// Shares and other ratios in %: a change of more than this many percentage points.
    pub max_points: Option<f64>,
    /// Values both below this are not compared by ratio (1 → 4 firms is not news).
    pub ratio_floor: Option<f64>,
}

/// The catalog's review rules (`[review]`): year-on-year defaults and the zero rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    #[serde(flatten)]
    pub year_on_year: YearOnYear,
    /// A zero after this many years in a row of non-zero values is queried [default: off].
    pub zero_after: Option<usize>,
}

/// A logical relation between reported indicators (`[[consistency]]`): `indicator` ≈
/// `numerator` / `denominator` × `scale`, within `tolerance` (relative).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consistency {
    pub indicator: String,
    pub numerator: String,
    pub denominator: String,
    pub scale: f64,
    #[serde(default = "five_percent")]
    pub tolerance: f64,
}

fn five_percent() -> f64 {
    0.05
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub symbol: String,
    pub family: String,
    pub factor: f64,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// One judgement of a pairwise comparison matrix: a number, or a fraction written "1/3".
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Judgement {
    Number(f64),
    Text(String),
}

impl Judgement {
    /// As written in the catalog.
    fn shown(&self) -> String {
        match self {
            Judgement::Number(x) => x.to_string(),
            Judgement::Text(t) => format!("\"{t}\""),
        }
    }

    fn value(&self) -> Option<f64> {
        match self {
            Judgement::Number(x) => Some(*x),
            Judgement::Text(t) => {
                let t = t.trim();
                match t.split_once('/') {
                    Some((a, b)) => Some(a.trim().parse::<f64>().ok()? / b.trim().parse::<f64>().ok()?),
                    None => t.parse().ok(),
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComparisonsFile {
    node: String,
    order: Vec<String>,
    matrix: Vec<Vec<Judgement>>,
}

/// 层次分析法: the pairwise comparison matrix of one node's children (`[[ahp]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparisons {
    /// The index or a group.
    pub node: String,
    /// All of the node's children (groups or scored indicators), in the matrix's order.
    pub order: Vec<String>,
    /// Row i, column j: how much more important `order[i]` is than `order[j]` (Saaty's 1–9 scale).
    pub matrix: Vec<Vec<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    index: Node,
    #[serde(default)]
    groups: Vec<Node>,
    indicators: Vec<Indicator>,
    units: Vec<Unit>,
    #[serde(default)]
    review: Review,
    #[serde(default)]
    consistency: Vec<Consistency>,
    #[serde(default)]
    ahp: Vec<ComparisonsFile>,
}

/// A validated catalog with lookup tables for headers and units.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub path: PathBuf,
    pub index: Node,
    pub groups: Vec<Node>,
    pub indicators: Vec<Indicator>,
    pub units: Vec<Unit>,
    /// Statistical review rules (统计审核), applied at ingest.
    pub review: Review,
    pub consistency: Vec<Consistency>,
    /// AHP matrices, one per node at most; read when `weights = "ahp"`.
    pub ahp: Vec<Comparisons>,
    by_header: HashMap<String, usize>,
    unit_by_symbol: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalog {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("catalog {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("catalog {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A unit conversion failure, for the ingest to place at a file, row and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    #[error("unknown unit \"{0}\"")]
    Unknown(String),
    #[error("unit \"{given}\" cannot be converted to \"{expected}\" ({given_family} vs {expected_family})")]
    Incompatible { given: String, expected: String, given_family: String, expected_family: String },
}

fn check_year_on_year(r: &YearOnYear) -> Result<(), String> {
    // NaN fails these too.
    if r.max_ratio.is_some_and(|v| v.is_nan() || v <= 1.0) {
        return Err("max_ratio must be above 1".into());
    }
    if r.max_points.is_some_and(|v| v.is_nan() || v <= 0.0) || r.ratio_floor.is_some_and(|v| v.is_nan() || v < 0.0) {
        return Err("max_points must be positive and ratio_floor at least 0".into());
    }
    Ok(())
}

fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}

impl Catalog {
    /// The catalog given, or the built-in one (`schemas/indicators.toml` of this cimon).
    pub fn load_or_builtin(path: Option<&Path>) -> Result<Catalog, CatalogError> {
        match path {
            Some(p) => Catalog::load(p),
            None => Catalog::parse(BUILTIN, Path::new(BUILTIN_PATH)),
        }
    }

    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CatalogError::Io { path: path.to_owned(), source })?;
        Catalog::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Catalog, CatalogError> {
        let file: CatalogFile = toml::from_str(text)
            .map_err(|e| CatalogError::Parse { path: path.to_owned(), message: crate::text::toml_error(text, &e) })?;
        let invalid = |message: String| CatalogError::Invalid { path: path.to_owned(), message };
        let mut cat = Catalog {
            path: path.to_owned(),
            index: file.index,
            groups: file.groups,
            indicators: file.indicators,
            units: file.units,
            review: file.review,
            consistency: file.consistency,
            ahp: Vec::new(),
            by_header: HashMap::new(),
            unit_by_symbol: HashMap::new(),
        };

        for (i, u) in cat.units.iter().enumerate() {
            if !(u.factor.is_finite() && u.factor > 0.0) {
                return Err(invalid(format!("unit \"{}\" has a non-positive factor", u.symbol)));
            }
            for s in std::iter::once(&u.symbol).chain(&u.aliases) {
                if cat.unit_by_symbol.insert(normalise_key(s), i).is_some() {
                    return Err(invalid(format!("unit \"{s}\" is declared twice")));
                }
            }
        }

        let mut node_codes: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        node_codes.insert(&cat.index.code, None);
        for g in &cat.groups {
            let parent = g
                .parent
                .as_deref()
                .ok_or_else(|| invalid(format!("group \"{}\" has no parent (only [index] is the root)", g.code)))?;
            if node_codes.insert(&g.code, Some(parent)).is_some() {
                return Err(invalid(format!("group code \"{}\" is used twice", g.code)));
            }
        }
        for g in &cat.groups {
            let parent = g.parent.as_deref().unwrap_or_default();
            if !node_codes.contains_key(parent) {
                return Err(invalid(format!("group \"{}\" names unknown parent \"{parent}\"", g.code)));
            }
            // Walk up to the root; a cycle would never reach it.
            let mut at = g.code.as_str();
            for _ in 0..=cat.groups.len() {
                match node_codes[at] {
                    Some(p) => at = p,
                    None => break,
                }
            }
            if at != cat.index.code {
                return Err(invalid(format!("group \"{}\" is part of a cycle", g.code)));
            }
            if !(g.weight.is_finite() && g.weight >= 0.0) {
                return Err(invalid(format!("group \"{}\" has an invalid weight {}", g.code, g.weight)));
            }
        }

        let mut codes = std::collections::HashSet::new();
        for (i, ind) in cat.indicators.iter().enumerate() {
            let what = format!("indicator \"{}\"", ind.code);
            if ind.code.is_empty() || !ind.code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(format!("{what}: code must be ASCII letters, digits and _")));
            }
            if !codes.insert(ind.code.clone()) || node_codes.contains_key(ind.code.as_str()) {
                return Err(invalid(format!("{what}: code is used twice")));
            }
            if !cat.unit_by_symbol.contains_key(&normalise_key(&ind.unit)) {
                return Err(invalid(format!("{what}: unit \"{}\" is not declared in [[units]]", ind.unit)));
            }
            if ind.direction != 1.0 && ind.direction != -1.0 {
                return Err(invalid(format!("{what}: direction must be 1 or -1")));
            }
            if !(ind.weight.is_finite() && ind.weight >= 0.0) {
                return Err(invalid(format!("{what}: invalid weight {}", ind.weight)));
            }
            match (&ind.group, ind.scored) {
                (Some(g), _) if g == &cat.index.code || !node_codes.contains_key(g.as_str()) => {
                    return Err(invalid(format!("{what}: group \"{g}\" is not a declared group")));
                }
                (None, true) => {
                    return Err(invalid(format!("{what}: a scored indicator needs a group")));
                }
                _ => {}
            }
            if let Some([lo, hi]) = ind.range {
                if lo > hi {
                    return Err(invalid(format!("{what}: range [{lo}, {hi}] is empty")));
                }
            }
            if let Some([lo, hi]) = ind.bounds {
                if lo.is_nan() || hi.is_nan() || lo > hi {
                    return Err(invalid(format!("{what}: bounds [{lo}, {hi}] are empty")));
                }
            }
            if let Some(r) = &ind.review {
                check_year_on_year(r).map_err(|m| invalid(format!("{what}: review: {m}")))?;
            }
            let names = [&ind.code, &ind.name_zh, &ind.name_en].into_iter().chain(&ind.aliases);
            for name in names {
                if let Some(j) = cat.by_header.insert(normalise_key(name), i) {
                    if j != i {
                        return Err(invalid(format!(
                            "header \"{name}\" would match both \"{}\" and \"{}\"",
                            cat.indicators[j].code, ind.code
                        )));
                    }
                }
            }
        }
        for g in &cat.groups {
            let has_child = cat.groups.iter().any(|c| c.parent.as_deref() == Some(&g.code))
                || cat.indicators.iter().any(|i| i.scored && i.group.as_deref() == Some(&g.code));
            if !has_child {
                return Err(invalid(format!("group \"{}\" has no scored indicator or subgroup", g.code)));
            }
        }
        if !cat.indicators.iter().any(|i| i.scored) {
            return Err(invalid("no scored indicator".into()));
        }
        check_year_on_year(&cat.review.year_on_year).map_err(|m| invalid(format!("[review]: {m}")))?;
        if cat.review.zero_after == Some(0) {
            return Err(invalid("[review] zero_after must be at least 1 year".into()));
        }
        for (n, c) in cat.consistency.iter().enumerate() {
            let what = format!("[[consistency]] #{} ({})", n + 1, c.indicator);
            for code in [&c.indicator, &c.numerator, &c.denominator] {
                if !cat.indicators.iter().any(|i| &i.code == code) {
                    return Err(invalid(format!("{what}: \"{code}\" is not an indicator code")));
                }
            }
            if !(c.scale.is_finite() && c.scale > 0.0 && c.tolerance.is_finite() && c.tolerance > 0.0) {
                return Err(invalid(format!("{what}: scale and tolerance must be positive numbers")));
            }
        }
        for a in file.ahp {
            let what = format!("[[ahp]] of \"{}\"", a.node);
            let children = cat.children(&a.node);
            if children.is_empty() {
                return Err(invalid(format!("{what}: \"{}\" is not the index or a group with children", a.node)));
            }
            let mut given = a.order.clone();
            given.sort();
            let mut want: Vec<String> = children.iter().map(|c| c.0.to_string()).collect();
            want.sort();
            if given != want {
                return Err(invalid(format!(
                    "{what}: order = {:?} must list each child of \"{}\" once: {}",
                    a.order,
                    a.node,
                    want.join(", ")
                )));
            }
            if cat.ahp.iter().any(|b| b.node == a.node) {
                return Err(invalid(format!("{what}: a second matrix for the same node")));
            }
            let n = a.order.len();
            let mut matrix = Vec::with_capacity(n);
            if a.matrix.len() != n {
                return Err(invalid(format!("{what}: {} rows for {n} children", a.matrix.len())));
            }
            for (i, row) in a.matrix.iter().enumerate() {
                if row.len() != n {
                    return Err(invalid(format!(
                        "{what}: row {} ({}) has {} entries, not {n}",
                        i + 1,
                        a.order[i],
                        row.len()
                    )));
                }
                let mut values = Vec::with_capacity(n);
                for (j, cell) in row.iter().enumerate() {
                    match cell.value().filter(|v| v.is_finite() && *v > 0.0) {
                        Some(v) => values.push(v),
                        None => {
                            return Err(invalid(format!(
                            "{what}: row {} ({}), column {} ({}): {} is not a positive number or fraction like \"1/3\"",
                            i + 1,
                            a.order[i],
                            j + 1,
                            a.order[j],
                            cell.shown()
                        )))
                        }
                    }
                }
                matrix.push(values);
            }
            cat.ahp.push(Comparisons { node: a.node, order: a.order, matrix });
        }
        Ok(cat)
    }

    /// The children of a node (subgroups, then scored indicators) with their catalog weights, in
    /// the order the index aggregates them.
    pub fn children(&self, node: &str) -> Vec<(&str, f64)> {
        let groups =
            self.groups.iter().filter(|g| g.parent.as_deref() == Some(node)).map(|g| (g.code.as_str(), g.weight));
        let indicators = self
            .indicators
            .iter()
            .filter(|i| i.scored && i.group.as_deref() == Some(node))
            .map(|i| (i.code.as_str(), i.weight));
        groups.chain(indicators).collect()
    }

    /// The year-on-year thresholds for an indicator: its own over the catalog's.
    pub fn year_on_year(&self, ind: &Indicator) -> YearOnYear {
        let own = ind.review.clone().unwrap_or_default();
        let all = &self.review.year_on_year;
        YearOnYear {
            max_ratio: own.max_ratio.or(all.max_ratio),
            max_points: own.max_points.or(all.max_points),
            ratio_floor: own.ratio_floor.or(all.ratio_floor),
        }
    }

    /// The indicator a header (code, Chinese or English name, alias) refers to.
    pub fn indicator_by_header(&self, header: &str) -> Option<&Indicator> {
        self.by_header.get(&normalise_key(header)).map(|&i| &self.indicators[i])
    }

    /// The dimensions: the index's own children, in catalog order.
    pub fn dimensions(&self) -> impl Iterator<Item = &Node> {
        self.groups.iter().filter(|g| g.parent.as_deref() == Some(self.index.code.as_str()))
    }

    /// The dimension a group or indicator belongs to (walking up the hierarchy); None for context
    /// series and unknown codes.
    pub fn dimension_of(&self, code: &str) -> Option<&Node> {
        let mut at = self.indicator(code).and_then(|i| i.group.as_deref()).unwrap_or(code);
        for _ in 0..=self.groups.len() {
            let g = self.groups.iter().find(|g| g.code == at)?;
            match g.parent.as_deref() {
                Some(p) if p == self.index.code => return Some(g),
                Some(p) => at = p,
                None => return None,
            }
        }
        None
    }

    /// The name of the index, a group or an indicator in a language (`en` falls back to `zh`).
    pub fn name_of(&self, code: &str, english: bool) -> Option<&str> {
        let (zh, en) = if code == self.index.code {
            (&self.index.name_zh, &self.index.name_en)
        } else if let Some(g) = self.groups.iter().find(|g| g.code == code) {
            (&g.name_zh, &g.name_en)
        } else {
            let i = self.indicator(code)?;
            (&i.name_zh, &i.name_en)
        };
        Some(if english && !en.is_empty() { en } else { zh })
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }

    pub fn unit(&self, symbol: &str) -> Option<&Unit> {
        // A symbol as the catalog writes it is its own key (keys are normalised, and normalising
        // is idempotent): found without building the key, as for most of a million cells.
        let i = self.unit_by_symbol.get(symbol).or_else(|| self.unit_by_symbol.get(&normalise_key(symbol)))?;
        Some(&self.units[*i])
    }

    /// Factor that turns a value in `from` into the catalog unit `to`.
    pub fn conversion(&self, from: &str, to: &str) -> Result<f64, UnitError> {
        let f = self.unit(from).ok_or_else(|| UnitError::Unknown(from.to_owned()))?;
        let t = self.unit(to).ok_or_else(|| UnitError::Unknown(to.to_owned()))?;
        if f.family != t.family {
            return Err(UnitError::Incompatible {
                given: from.to_owned(),
                expected: to.to_owned(),
                given_family: f.family.clone(),
                expected_family: t.family.clone(),
            });
        }
        Ok(f.factor / t.factor)
    }
}

/// Apply a conversion factor without leaving binary noise such as 9200.000000000002.
pub fn convert(value: f64, factor: f64) -> f64 {
    if factor == 1.0 || value == 0.0 {
        return value;
    }
    let v = value * factor;
    let digits = 12 - v.abs().log10().ceil() as i32;
    let scale = 10f64.powi(digits.clamp(-300, 300));
    let rounded = (v * scale).round() / scale;
    if rounded.is_finite() {
        rounded
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Catalog {
        let p = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/indicators.toml"));
        Catalog::load(p).unwrap()
    }

    #[test]
    fn headers_match_code_name_and_alias() {
        let c = sample();
        assert_eq!(c.indicator_by_header("技术合同成交额").unwrap().code, "tech_contract_value");
        assert_eq!(c.indicator_by_header("技术交易额").unwrap().code, "tech_contract_value");
        assert_eq!(c.indicator_by_header("TECH_contract_value").unwrap().code, "tech_contract_value");
        assert_eq!(c.indicator_by_header("R&D经费投入强度").unwrap().code, "rd_intensity");
        assert!(c.indicator_by_header("不存在的指标").is_none());
    }

    #[test]
    fn units_convert_within_a_family_only() {
        let c = sample();
        assert_eq!(c.conversion("亿元", "万元").unwrap(), 1e4);
        assert_eq!(c.conversion("‰", "%").unwrap(), 0.1);
        assert_eq!(c.conversion("户", "家").unwrap(), 1.0);
        assert!(matches!(c.conversion("件", "家"), Err(UnitError::Incompatible { .. })));
        assert!(matches!(c.conversion("斤", "家"), Err(UnitError::Unknown(_))));
        assert_eq!(convert(0.92, 1e4), 9200.0);
        assert_eq!(convert(1.23456789, 1e8), 123456789.0);
    }

    #[test]
    fn rejects_a_group_cycle_and_an_unknown_unit() {
        let base = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/indicators.toml")).unwrap();
        let bad_unit = base.replacen("unit = \"万元\"", "unit = \"万美元\"", 1);
        let err = Catalog::parse(&bad_unit, Path::new("x.toml")).unwrap_err().to_string();
        assert!(err.contains("x.toml") && err.contains("万美元"), "{err}");
        let cycle = base.replacen("parent = \"cici\"", "parent = \"input\"", 1).replacen(
            "code = \"input\"\nname_zh = \"创新投入\"\nname_en = \"Innovation input\"\nparent = \"cici\"",
            "code = \"input\"\nname_zh = \"创新投入\"\nname_en = \"Innovation input\"\nparent = \"environment\"",
            1,
        );
        let err = Catalog::parse(&cycle, Path::new("x.toml")).unwrap_err().to_string();
        assert!(err.contains("cycle"), "{err}");
    }

    #[test]
    fn ahp_matrices_name_the_cell_and_the_children_they_lack() {
        let base = SHUANGCHUANG;
        assert_eq!(Catalog::parse(base, Path::new("sc.toml")).unwrap().ahp.len(), 6);
        let zero = base.replacen(r#"["1/2", 1, "1/2"],"#, r#"["1/0", 1, "1/2"],"#, 1);
        let err = Catalog::parse(&zero, Path::new("sc.toml")).unwrap_err().to_string();
        assert!(
            err.contains(
                r#"[[ahp]] of "carriers": row 2 (provincial_incubators), column 1 (incubator_count): "1/0" is not"#
            ),
            "{err}"
        );
        let short = base.replacen(
            r#"order = ["incubator_count", "provincial_incubators", "incubated_firms"]"#,
            r#"order = ["incubator_count", "provincial_incubators"]"#,
            1,
        );
        let err = Catalog::parse(&short, Path::new("sc.toml")).unwrap_err().to_string();
        assert!(
            err.contains(
                "must list each child of \"carriers\" once: incubated_firms, incubator_count, provincial_incubators"
            ),
            "{err}"
        );
    }
}
