//! Policy targets: the targets file (TOML, or a workbook with one row per target and Chinese
//! headers), its kinds, and its validation against catalog and registry.
//!
//! A target applies to each county of its scope, or with `region` (and `share`) to the scope's
//! counties together. Rank and tier targets are on the index itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{convert, Catalog};
use crate::codes::RatioGroup;
use crate::regions::Registry;
use checks::check_all;
use workbook::read_workbook;

mod checks;
mod workbook;

crate::keyed! {
    /// What a target asks for.
    pub enum TargetKind {
        /// Reach a level by the end year (`op value`), optionally along yearly milestones.
        Level = "level",
        /// Average annual growth from `start` to `end` within [`min`, `max`] percent.
        Growth = "growth",
        /// Every year from `start` to `end`, the value meets `op value`.
        Flow = "flow",
        /// The sum of the yearly values from `start` to `end` meets `op value`.
        Cumulative = "cumulative",
        /// A rank on the index: within the top `value` (of the scope, province, prefecture or peer group).
        Rank = "rank",
        /// A tier on the index: CASTED tier `value` or better, or a ratio group (`group`) or better.
        Tier = "tier",
        /// A share of the scope's counties (`share` percent) whose value meets `op value`.
        Share = "share",
    }
}

impl Default for TargetKind {
    fn default() -> Self {
        TargetKind::Level
    }
}

crate::keyed! {
    /// How a region's counties are taken together for a regional target.
    pub enum Aggregate {
        /// The counties' total (every county must report).
        Sum = "sum",
        /// The average of the counties that report.
        Mean = "mean",
    }
}

crate::keyed! {
    /// Among whom a rank target counts.
    pub enum Within {
        /// Every county of the evaluation scope.
        Scope = "scope",
        Province = "province",
        Prefecture = "prefecture",
        /// The county's peer group (`[scope] peer_groups`).
        Peer = "peer",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<=")]
    AtMost,
    /// 突破: strictly more than.
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<")]
    Below,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::AtLeast => ">=",
            Op::AtMost => "<=",
            Op::Above => ">",
            Op::Below => "<",
        }
    }

    /// Higher values are better under this comparison.
    pub fn upward(self) -> bool {
        matches!(self, Op::AtLeast | Op::Above)
    }

    fn parse(s: &str) -> Option<Op> {
        match s.trim() {
            ">=" | "≥" | "不少于" | "以上" | "达到" => Some(Op::AtLeast),
            "<=" | "≤" | "不超过" | "以下" => Some(Op::AtMost),
            ">" | "突破" | "超过" => Some(Op::Above),
            "<" | "低于" => Some(Op::Below),
            _ => None,
        }
    }
}

/// One target as written in the file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub id: String,
    /// Indicator code or name; rank and tier targets are on the index (leave it out).
    #[serde(default)]
    pub indicator: String,
    /// A county code, or a prefecture or province code meaning every county in it (or, for a
    /// regional target, the region).
    pub scope: String,
    pub kind: TargetKind,
    #[serde(default)]
    pub op: Option<Op>,
    /// Level, flow, cumulative or share threshold in `unit`; rank: the top N; tier: the tier.
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
    /// Base year of the plan (growth base, start of a flow, cumulative or rank period).
    pub start: i32,
    /// Target year (end of the period).
    pub end: i32,
    /// The sentence of the policy document the target comes from.
    pub source: String,
    /// The policy document, for grouping in reports; default: `source` up to its first `：`.
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Level targets: the yearly path (年度目标分解), year → value in `unit`.
    #[serde(default)]
    pub milestones: BTreeMap<String, f64>,
    /// The scope's counties together: their total or average.
    #[serde(default)]
    pub region: Option<Aggregate>,
    /// Share targets: the percent of counties that must meet `op value`.
    #[serde(default)]
    pub share: Option<f64>,
    /// A regional figure the document states for the base year (in `unit`), shown beside the data's.
    #[serde(default)]
    pub baseline: Option<f64>,
    /// Rank targets: among whom (default: the scope).
    #[serde(default)]
    pub within: Option<Within>,
    /// Rank and tier targets: a ratio group (`leader`, `strong`, …) or better, instead of a CASTED tier.
    #[serde(default)]
    pub group: Option<RatioGroup>,
    /// Rank and tier targets: met in every year from `start` to `end` (始终保持), not only by `end`.
    #[serde(default)]
    pub every_year: bool,
}

impl Target {
    /// The policy document, as reports group targets by it.
    pub fn document(&self) -> &str {
        self.document.as_deref().unwrap_or_else(|| self.source.split('：').next().unwrap_or(&self.source).trim())
    }

    /// On the index (rank and tier) rather than an indicator.
    pub fn on_index(&self) -> bool {
        matches!(self.kind, TargetKind::Rank | TargetKind::Tier)
    }

    /// On the scope's counties together rather than each county.
    pub fn regional(&self) -> bool {
        self.region.is_some() || self.kind == TargetKind::Share
    }

    /// The yearly milestones as (year, value), converted with the target.
    pub fn milestone_path(&self) -> Vec<(i32, f64)> {
        self.milestones.iter().filter_map(|(y, v)| Some((y.trim().parse().ok()?, *v))).collect()
    }
}

#[derive(Debug, Serialize, Deserialize)]
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
    #[error("targets workbook {path}: {message}")]
    Workbook { path: PathBuf, message: String },
}

/// Load, check every target (listing all problems) and convert values to the catalog unit. A
/// `.xlsx` file is a targets workbook (`workbook_targets`).
pub fn load(path: &Path, catalog: &Catalog, registry: &Registry) -> Result<Vec<Target>, TargetsError> {
    if is_workbook(path) {
        let (targets, places) = read_workbook(path)?;
        return check_all(targets, path, catalog, registry, |i| places[i].clone());
    }
    let text = std::fs::read_to_string(path).map_err(|source| TargetsError::Io { path: path.to_owned(), source })?;
    parse(&text, path, catalog, registry)
}

/// A targets file that is a workbook, by its extension.
pub fn is_workbook(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_lowercase);
    matches!(ext.as_deref(), Some("xlsx" | "xlsm" | "xls" | "ods"))
}

/// A targets workbook's rows as a targets TOML file, values as written (before unit conversion).
pub fn workbook_as_toml(path: &Path) -> Result<String, TargetsError> {
    let (targets, _) = read_workbook(path)?;
    let body = toml::to_string(&TargetsFile { targets }).map_err(|e| TargetsError::Workbook {
        path: path.to_owned(),
        message: format!("cannot write it as TOML: {e}"),
    })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(format!("# The targets of {name}, as cimon read them.\n\n{body}"))
}

pub fn parse(text: &str, path: &Path, catalog: &Catalog, registry: &Registry) -> Result<Vec<Target>, TargetsError> {
    let file: TargetsFile = toml::from_str(text)
        .map_err(|e| TargetsError::Parse { path: path.to_owned(), message: crate::text::toml_error(text, &e) })?;
    let ids: Vec<String> = file.targets.iter().map(|t| format!("target \"{}\"", t.id)).collect();
    check_all(file.targets, path, catalog, registry, |i| ids[i].clone())
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
source = "金塔县 2018：技术合同成交额达到2亿元"
milestones = { "2019" = 1.5 }
"#;
        let t = parse(ok, Path::new("t.toml"), &c, &r).unwrap();
        assert_eq!(t[0].value, Some(20000.0));
        assert_eq!(t[0].unit.as_deref(), Some("万元"));
        assert_eq!(t[0].milestone_path(), [(2019, 15000.0)], "milestones converted like the value");
        assert_eq!(t[0].document(), "金塔县 2018");

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

[[targets]]
id = "c"
scope = "420802"
kind = "rank"
start = 2021
end = 2022
source = "x"
"#;
        let err = parse(bad, Path::new("t.toml"), &c, &r).unwrap_err().to_string();
        for needle in [
            "t.toml",
            "unknown indicator \"nope\"",
            "scope 999999",
            "start 2020",
            "needs min",
            "rank target needs value",
        ] {
            assert!(err.contains(needle), "{needle} missing in {err}");
        }
    }

    #[test]
    fn rank_tier_and_regional_targets_are_checked() {
        let (c, r) = fixtures();
        let ok = r#"
[[targets]]
id = "first-tier"
scope = "420802"
kind = "tier"
value = 1
every_year = true
start = 2021
end = 2022
source = "东宝区 2021：始终保持在全省第一方阵"

[[targets]]
id = "parks"
indicator = "science_park_count"
scope = "620000"
kind = "share"
op = ">="
value = 1
share = 100
start = 2018
end = 2020
source = "甘肃省 2018：每个县(市)建设一个科技园区"
"#;
        let t = parse(ok, Path::new("t.toml"), &c, &r).unwrap();
        assert_eq!(t[0].indicator, c.index.code, "rank and tier targets are on the index");
        assert!(t[1].regional() && !t[0].regional());
        let bad = ok.replace("share = 100\n", "").replace("value = 1\nevery_year", "value = 4\nevery_year");
        let err = parse(&bad, Path::new("t.toml"), &c, &r).unwrap_err().to_string();
        assert!(
            err.contains("tier target needs value = 1, 2 or 3") && err.contains("share target needs share"),
            "{err}"
        );
    }

    /// A workbook of targets with Chinese headers and coded cells in Chinese.
    fn workbook(path: &Path, rows: &[[&str; 9]]) {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("目标").unwrap();
        ws.write_string(0, 0, "2021年县域创新目标（示例数据）").unwrap();
        let header = ["编号", "指标", "范围", "类型", "比较", "目标值", "单位", "起始年", "目标年"];
        for (c, h) in header.iter().chain(["依据", "分年度目标"].iter()).enumerate() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 2, c as u16, *v).unwrap();
            }
            ws.write_string(r as u32 + 2, 9, "东宝区 2021：示例").unwrap();
        }
        ws.write_string(2, 10, "2021:2.3；2022:2.69").unwrap();
        wb.save(path).unwrap();
    }

    #[test]
    fn a_targets_workbook_reads_like_the_toml_and_names_a_bad_cell() {
        let (c, r) = fixtures();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.xlsx");
        let good = [
            ["dongbao-rd", "R&D经费投入强度", "420802", "水平", "≥", "2.69", "%", "2020", "2022"],
            ["dongbao-contracts", "tech_contract_value", "东宝区", "水平", "达到", "6.5", "亿元", "2020", "2022"],
            ["dongbao-tier", "", "420802", "梯队", "", "1", "", "2021", "2022"],
        ];
        let mut rows = good.to_vec();
        workbook(&path, &rows);
        let t = load(&path, &c, &r).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            (t[0].indicator.as_str(), t[0].value, t[0].milestone_path()),
            ("rd_intensity", Some(2.69), vec![(2021, 2.3), (2022, 2.69)])
        );
        assert_eq!((t[1].value, t[1].op), (Some(65000.0), Some(Op::AtLeast)), "亿元 converted to 万元");
        assert_eq!(t[1].scope, "420802", "a scope by name");
        assert_eq!((t[2].kind, t[2].indicator.as_str()), (TargetKind::Tier, "cici"));
        // The store's TOML copy reads back as the workbook did (units converted once).
        let copy = workbook_as_toml(&path).unwrap();
        let back = parse(&copy, Path::new("store/targets.toml"), &c, &r).unwrap();
        let key = |t: &[Target]| -> Vec<(String, String, Option<f64>, Vec<(i32, f64)>)> {
            t.iter().map(|t| (t.id.clone(), t.scope.clone(), t.value, t.milestone_path())).collect()
        };
        assert_eq!(key(&back), key(&t));
        // One bad cell: the error names the sheet, row and column.
        rows[1][5] = "约6.5";
        workbook(&path, &rows);
        let err = load(&path, &c, &r).unwrap_err().to_string();
        assert!(
            err.contains("targets.xlsx") && err.contains("sheet 目标, row 4, column F: \"约6.5\" is not a number"),
            "{err}"
        );
        // A semantic problem names the row too.
        rows[1][5] = "6.5";
        rows[1][2] = "999999";
        workbook(&path, &rows);
        let err = load(&path, &c, &r).unwrap_err().to_string();
        assert!(err.contains("sheet 目标, row 4: scope 999999 is not a county"), "{err}");
        // A coded cell cimon does not know is refused, not read as a default.
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("目标").unwrap();
        for (c, h) in
            ["编号", "指标", "范围", "类型", "比较", "目标值", "起始年", "目标年", "依据", "汇总"].iter().enumerate()
        {
            ws.write_string(0, c as u16, *h).unwrap();
        }
        for (c, v) in ["jm-hitech", "hitech_ent_count", "420800", "水平", "≥", "300", "2020", "2022", "示例", "总计"]
            .iter()
            .enumerate()
        {
            ws.write_string(1, c as u16, *v).unwrap();
        }
        wb.save(&path).unwrap();
        let err = load(&path, &c, &r).unwrap_err().to_string();
        assert!(err.contains("sheet 目标, row 2, column J: \"总计\" is not one of 合计, 平均"), "{err}");
    }
}
