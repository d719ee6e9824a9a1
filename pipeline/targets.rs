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

/// Check every target, naming each by `place(i)` (its id, or its workbook row).
fn check_all(
    targets: Vec<Target>,
    path: &Path,
    catalog: &Catalog,
    registry: &Registry,
    place: impl Fn(usize) -> String,
) -> Result<Vec<Target>, TargetsError> {
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, mut t) in targets.into_iter().enumerate() {
        let at = place(i);
        let mut bad = |m: String| problems.push(format!("{at}: {m}"));
        if !ids.insert(t.id.clone()) {
            bad(format!("id \"{}\" is used twice", t.id));
        }
        if check(&mut t, catalog, registry, &mut bad) {
            out.push(t);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(TargetsError::Invalid { path: path.to_owned(), problems })
    }
}

/// Check one target and convert its values to the catalog unit; false when it cannot be used.
fn check(t: &mut Target, catalog: &Catalog, registry: &Registry, bad: &mut dyn FnMut(String)) -> bool {
    // A scope by name, as a workbook writes it: a county, a prefecture or a province.
    if registry.within(&t.scope).next().is_none() {
        let by_area = registry.regions.iter().find_map(|r| {
            (r.prefecture_name == t.scope)
                .then(|| r.prefecture_code.clone())
                .or_else(|| (r.province_name == t.scope).then(|| r.province_code.clone()))
        });
        let by_county = match registry.lookup(&t.scope, None) {
            crate::regions::Lookup::Found(r) | crate::regions::Lookup::NotValid(r) => Some(r.code.clone()),
            _ => None,
        };
        if let Some(code) = by_area.or(by_county) {
            t.scope = code;
        }
    }
    if registry.within(&t.scope).next().is_none() {
        bad(format!("scope {} is not a county, prefecture or province in the registry", t.scope));
    }
    if t.start > t.end
        || (t.start == t.end && !matches!(t.kind, TargetKind::Level | TargetKind::Rank | TargetKind::Tier))
    {
        bad(format!("start {} must be before end {}", t.start, t.end));
    }
    if t.on_index() {
        if !t.indicator.is_empty() && t.indicator != catalog.index.code {
            bad(format!("a {} target is on the index: leave out indicator \"{}\"", t.kind, t.indicator));
        }
        t.indicator = catalog.index.code.clone();
        match (t.kind, t.value, t.group) {
            (TargetKind::Rank, Some(v), _) if v >= 1.0 && v.fract() == 0.0 => {}
            (TargetKind::Rank, _, _) => bad("a rank target needs value = N (within the top N)".into()),
            (TargetKind::Tier, Some(v), None) if [1.0, 2.0, 3.0].contains(&v) => {}
            (TargetKind::Tier, None, Some(_)) => {}
            (TargetKind::Tier, _, _) => bad("a tier target needs value = 1, 2 or 3 (CASTED tier), or group".into()),
            _ => {}
        }
        if t.kind == TargetKind::Tier && t.within.is_some() {
            bad("tiers are within the scope: leave out within".into());
        }
        if t.region.is_some() {
            bad(format!("a {} target is per county: leave out region", t.kind));
        }
        return true;
    }
    // The indicator by code, or by name as a workbook writes it.
    let Some(ind) = catalog.indicator(&t.indicator).or_else(|| catalog.indicator_by_header(&t.indicator)) else {
        bad(format!("unknown indicator \"{}\"", t.indicator));
        return false;
    };
    t.indicator = ind.code.clone();
    if t.within.is_some() || t.group.is_some() || t.every_year {
        bad(format!("within, group and every_year belong to rank and tier targets, not {}", t.kind));
    }
    if t.kind == TargetKind::Share && t.share.is_none_or(|s| !(0.0..=100.0).contains(&s)) {
        bad("a share target needs share = the percent of counties (0–100)".into());
    }
    if t.kind != TargetKind::Share && t.share.is_some() {
        bad(format!("share belongs to share targets, not {}", t.kind));
    }
    if !t.milestones.is_empty() && t.kind != TargetKind::Level {
        bad("milestones belong to level targets".into());
    }
    let unit = t.unit.clone().unwrap_or_else(|| ind.unit.clone());
    let factor = match catalog.conversion(&unit, &ind.unit) {
        Ok(f) => Some(f),
        Err(e) => {
            bad(format!("{e}"));
            None
        }
    };
    for (y, v) in t.milestones.iter_mut() {
        match y.trim().parse::<i32>() {
            Ok(year) if (t.start..=t.end).contains(&year) => {
                if let Some(f) = factor {
                    *v = convert(*v, f);
                }
            }
            _ => bad(format!("milestone \"{y}\" is not a year from {} to {}", t.start, t.end)),
        }
    }
    if let (Some(b), Some(f)) = (t.baseline, factor) {
        t.baseline = Some(convert(b, f));
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
                bad(format!("a {} target needs op = \">=\", \">\", \"<=\" or \"<\"", t.kind));
            }
            match (t.value, factor) {
                (None, _) => bad(format!("a {} target needs a value", t.kind)),
                (Some(v), Some(f)) => {
                    t.value = Some(convert(v, f));
                    t.unit = Some(ind.unit.clone());
                }
                _ => {}
            }
            if t.min.is_some() || t.max.is_some() {
                bad(format!("a {} target takes value/op, not min/max", t.kind));
            }
        }
    }
    true
}

/// The workbook's columns: header spellings (the first is what `cimon` writes) → field.
const COLUMNS: &[(&[&str], &str)] = &[
    (&["编号", "目标编号", "id"], "id"),
    (&["指标", "指标代码", "指标名称", "indicator"], "indicator"),
    (&["范围", "适用范围", "区划代码", "地区", "scope"], "scope"),
    (&["类型", "目标类型", "kind"], "kind"),
    (&["比较", "比较方式", "op"], "op"),
    (&["目标值", "value"], "value"),
    (&["单位", "unit"], "unit"),
    (&["最低增速", "最低增速(%)", "min"], "min"),
    (&["最高增速", "最高增速(%)", "max"], "max"),
    (&["起始年", "基期", "start"], "start"),
    (&["目标年", "截止年", "end"], "end"),
    (&["依据", "政策原文", "source"], "source"),
    (&["文件", "政策文件", "document"], "document"),
    (&["备注", "note"], "note"),
    (&["分年度目标", "年度目标", "milestones"], "milestones"),
    (&["汇总", "汇总方式", "region"], "region"),
    (&["县占比", "share"], "share"),
    (&["基期值", "baseline"], "baseline"),
    (&["排名范围", "within"], "within"),
    (&["相对水平", "group"], "group"),
    (&["每年", "every_year"], "every_year"),
];

/// Chinese spellings of the coded cells.
fn kind_of(s: &str) -> Option<TargetKind> {
    use crate::tables::Keyed;
    Some(match s.trim() {
        "水平" | "水平目标" => TargetKind::Level,
        "增速" | "增速目标" | "年均增长" => TargetKind::Growth,
        "每年" | "年度" | "年度目标" => TargetKind::Flow,
        "累计" | "累计目标" => TargetKind::Cumulative,
        "排名" | "排名目标" | "位次" => TargetKind::Rank,
        "梯队" | "梯队目标" | "方阵" => TargetKind::Tier,
        "占比" | "县占比" | "覆盖" => TargetKind::Share,
        other => return TargetKind::from_key(other),
    })
}

/// Rows of a targets workbook (its first sheet with an 编号 header) as targets, each with its
/// place for messages; cell errors name sheet, row and column.
fn read_workbook(path: &Path) -> Result<(Vec<Target>, Vec<String>), TargetsError> {
    use calamine::Reader;
    let wb_err = |message: String| TargetsError::Workbook { path: path.to_owned(), message };
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| wb_err(format!("cannot open it: {e}")))?;
    let mut problems = Vec::new();
    for sheet in wb.sheet_names() {
        let Ok(range) = wb.worksheet_range(&sheet) else { continue };
        let rows: Vec<Vec<String>> =
            range.rows().map(|r| r.iter().map(|c| c.to_string().trim().to_string()).collect()).collect();
        let Some(h) = rows.iter().take(10).position(|r| r.iter().any(|c| COLUMNS[0].0.contains(&c.as_str()))) else {
            continue;
        };
        let mut field_of: Vec<Option<&str>> = Vec::new();
        for (c, text) in rows[h].iter().enumerate() {
            let key = crate::text::to_half_width(text).replace(['（', '）'], "");
            let f = COLUMNS
                .iter()
                .find(|(names, _)| names.iter().any(|n| n.replace(['(', ')'], "") == key.replace(['(', ')'], "")));
            if f.is_none() && !text.is_empty() {
                problems.push(format!(
                    "sheet {sheet}, row {}, column {}: unknown column \"{text}\"",
                    h + 1,
                    crate::text::column_letter(c)
                ));
            }
            field_of.push(f.map(|x| x.1));
        }
        let mut targets = Vec::new();
        let mut places = Vec::new();
        for (r, row) in rows.iter().enumerate().skip(h + 1) {
            if row.iter().all(String::is_empty) {
                continue;
            }
            let place = format!("sheet {sheet}, row {}", r + 1);
            let cell = |field: &str| -> (String, String) {
                let c = field_of.iter().position(|f| *f == Some(field));
                let at = c.map_or(String::new(), |c| format!(", column {}", crate::text::column_letter(c)));
                (c.and_then(|c| row.get(c)).cloned().unwrap_or_default(), at)
            };
            let mut errors = Vec::new();
            let number = |(text, at): (String, String), errors: &mut Vec<String>| -> Option<f64> {
                if text.is_empty() {
                    return None;
                }
                match crate::text::parse_number(&text, true) {
                    crate::text::CellValue::Number(v) => Some(v),
                    _ => {
                        errors.push(format!("{at}: \"{text}\" is not a number"));
                        None
                    }
                }
            };
            let year = |(text, at): (String, String), errors: &mut Vec<String>| -> i32 {
                let t = text.trim_end_matches("年");
                t.parse::<f64>().ok().filter(|y| y.fract() == 0.0).map_or_else(
                    || {
                        errors.push(format!("{at}: \"{text}\" is not a year"));
                        0
                    },
                    |y| y as i32,
                )
            };
            let (kind_text, kind_at) = cell("kind");
            let kind = kind_of(&kind_text).unwrap_or_else(|| {
                errors.push(format!(
                    "{kind_at}: unknown type \"{kind_text}\" (水平, 增速, 每年, 累计, 排名, 梯队 or 占比)"
                ));
                TargetKind::Level
            });
            let (op_text, op_at) = cell("op");
            let op = (!op_text.is_empty()).then(|| Op::parse(&op_text)).and_then(|o| {
                if o.is_none() {
                    errors.push(format!("{op_at}: unknown comparison \"{op_text}\" (≥, >, ≤ or <)"));
                }
                o
            });
            let (ms_text, ms_at) = cell("milestones");
            let mut milestones = BTreeMap::new();
            for part in ms_text.split(['；', ';', '，', ',']).map(str::trim).filter(|p| !p.is_empty()) {
                match part
                    .split_once([':', '：'])
                    .map(|(y, v)| (y.trim().trim_end_matches('年'), crate::text::parse_number(v, true)))
                {
                    Some((y, crate::text::CellValue::Number(v))) => {
                        milestones.insert(y.to_string(), v);
                    }
                    _ => errors.push(format!("{ms_at}: milestone \"{part}\" is not year:value (2021:2.3)")),
                }
            }
            let text = |field: &str| Some(cell(field).0).filter(|t| !t.is_empty());
            // A coded cell: one of its spellings, or an error that lists them.
            let coded = |field: &str, errors: &mut Vec<String>, options: &[(&[&str], u8)], say: &str| -> Option<u8> {
                let (t, at) = cell(field);
                if t.is_empty() {
                    return None;
                }
                let hit = options.iter().find(|(names, _)| names.contains(&t.as_str())).map(|x| x.1);
                if hit.is_none() {
                    errors.push(format!("{at}: \"{t}\" is not one of {say}"));
                }
                hit
            };
            let region = coded(
                "region",
                &mut errors,
                &[(&["合计", "总量", "sum"], 0), (&["平均", "均值", "mean"], 1)],
                "合计, 平均",
            )
            .map(|x| if x == 0 { Aggregate::Sum } else { Aggregate::Mean });
            let within = coded(
                "within",
                &mut errors,
                &[
                    (&["参评范围", "全部", "scope"], 0),
                    (&["全省", "province"], 1),
                    (&["全市", "prefecture"], 2),
                    (&["同类县", "peer"], 3),
                ],
                "参评范围, 全省, 全市, 同类县",
            )
            .map(|x| [Within::Scope, Within::Province, Within::Prefecture, Within::Peer][x as usize]);
            let group = coded(
                "group",
                &mut errors,
                &[
                    (&["领先", "leader"], 0),
                    (&["较强", "strong"], 1),
                    (&["中等", "moderate"], 2),
                    (&["追赶", "emerging"], 3),
                ],
                "领先, 较强, 中等, 追赶",
            )
            .map(|x| [RatioGroup::Leader, RatioGroup::Strong, RatioGroup::Moderate, RatioGroup::Emerging][x as usize]);
            let every_year = coded(
                "every_year",
                &mut errors,
                &[(&["是", "true", "TRUE", "1"], 1), (&["否", "false", "FALSE", "0"], 0)],
                "是, 否",
            ) == Some(1);
            let t = Target {
                id: cell("id").0,
                indicator: cell("indicator").0,
                scope: crate::regions::as_code(&cell("scope").0).unwrap_or_else(|| cell("scope").0),
                kind,
                op,
                value: number(cell("value"), &mut errors),
                unit: text("unit"),
                min: number(cell("min"), &mut errors),
                max: number(cell("max"), &mut errors),
                start: year(cell("start"), &mut errors),
                end: year(cell("end"), &mut errors),
                source: cell("source").0,
                document: text("document"),
                note: text("note"),
                milestones,
                region,
                share: number(cell("share"), &mut errors),
                baseline: number(cell("baseline"), &mut errors),
                within,
                group,
                every_year,
            };
            if errors.is_empty() {
                targets.push(t);
                places.push(place);
            } else {
                problems.extend(errors.into_iter().map(|e| format!("{place}{e}")));
            }
        }
        if !problems.is_empty() {
            return Err(TargetsError::Invalid { path: path.to_owned(), problems });
        }
        return Ok((targets, places));
    }
    if !problems.is_empty() {
        return Err(TargetsError::Invalid { path: path.to_owned(), problems });
    }
    Err(wb_err("no sheet with a header row naming 编号 (the target id)".into()))
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
