//! What templates see: serialisable report contexts, built from the result rows (never internal
//! types). Sorted vectors only, so a context serialises to the same bytes for the same tables.

use serde::Serialize;

use crate::catalog::Kind;
use crate::codes::{AuditFlag, ChangeUnit, Choice, GrowthNote, Note, Options, RatioGroup, Status};
use crate::targets::{Aggregate, TargetKind, Within};

/// What every report of a run shares.
#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub lang: &'static str,
    pub year: i32,
    pub first_year: i32,
    /// Some input file declares synthetic data (示例数据).
    pub synthetic: bool,
    pub cimon_version: &'static str,
    pub index_name: String,
    /// What the reports monitor (the catalog's `subject_zh`/`subject_en`); None: the labels' own.
    pub subject: Option<String>,
    /// Counties with an index in `year`.
    pub counties: usize,
    pub provinces: Vec<String>,
    pub dimensions: Vec<Named>,
    /// What the peer groups are called (`[scope] peer_group_name`), when there are any.
    pub peer_group_name: Option<String>,
    /// Spans (years) of the average annual growth columns, as computed.
    pub growth_spans: Vec<u32>,
    /// The CASTED floor of tier 2 (from the method table).
    pub casted_floor: Option<f64>,
    /// Sensitivity indices, most influential first, and the replications behind them.
    pub sensitivity: Vec<Sensitivity>,
    pub sensitivity_runs: u32,
    pub method: Vec<Setting>,
    pub weights: Vec<WeightLine>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Named {
    pub code: String,
    pub name: String,
}

/// A method setting as readers see it (JSON values spelled out).
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeightLine {
    pub level: u32,
    pub node: String,
    pub child: String,
    pub child_code: String,
    pub catalog_weight: Option<f64>,
    pub weight: Option<f64>,
    pub scheme: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
    pub revision: bool,
    pub observations: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub prefecture_code: String,
    pub prefecture: String,
    pub province: String,
}

/// One county's standing in one year.
#[derive(Debug, Clone, Serialize)]
pub struct Standing {
    pub index: Option<f64>,
    pub rank: Option<u32>,
    pub rank_prefecture: Option<u32>,
    pub rank_province: Option<u32>,
    pub rank_change: Option<i32>,
    pub tier: Option<u32>,
    pub ratio_to_average: Option<f64>,
    pub ratio_group: Option<RatioGroup>,
    pub indicators_present: Option<u32>,
    /// Counties ranked that year, and in the county's prefecture.
    pub of: usize,
    pub of_prefecture: usize,
    /// The peer group, the rank within it, its ranked counties and their average index.
    pub peer_group: Option<String>,
    pub rank_peer: Option<u32>,
    pub of_peer: usize,
    pub peer_average: Option<f64>,
    /// 90% rank interval over the method replications ([sensitivity]), its median, and the
    /// share of replications in the same tier.
    pub p05: Option<u32>,
    pub p95: Option<u32>,
    pub median_rank: Option<f64>,
    pub same_tier: Option<f64>,
}

/// A method choice and how much it moves the ranks.
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    pub factor: Choice,
    pub options: Options,
    pub first_order: Option<f64>,
    pub total: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub year: i32,
    pub index: Option<f64>,
    pub rank: Option<u32>,
    pub average: Option<f64>,
    pub prefecture_average: Option<f64>,
    pub peer_average: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DimensionScore {
    pub code: String,
    pub name: String,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub average: Option<f64>,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorLine {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// Top-level dimension, or "" for context series (not scored).
    pub dimension: String,
    pub scored: bool,
    pub kind: Kind,
    pub direction: i32,
    pub value: Option<f64>,
    pub change_unit: ChangeUnit,
    pub yoy: Option<f64>,
    pub yoy_note: Option<GrowthNote>,
    /// Average annual growth per span of `Meta::growth_spans`.
    pub avg: Vec<Option<f64>>,
    pub rank: Option<u32>,
    pub of: usize,
    pub imputed: bool,
    pub treated: bool,
    pub out_of_range: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetLine {
    pub id: String,
    pub indicator: String,
    pub unit: String,
    /// The indicator is a ratio: its growth is in percentage points.
    pub ratio: bool,
    pub kind: TargetKind,
    /// ">=" or "<=" (level, flow, cumulative).
    pub op: Option<&'static str>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub start: i32,
    pub end: i32,
    pub source: String,
    /// The policy document (reports group targets by it).
    pub document: String,
    /// Rank targets: among whom; tier targets: a ratio group instead of a CASTED tier.
    pub within: Option<Within>,
    pub group: Option<RatioGroup>,
    pub every_year: bool,
    /// Level targets with a yearly path: each milestone with that year's value.
    pub milestones: Vec<MilestonePoint>,
    pub eval_year: Option<i32>,
    pub actual: Option<f64>,
    pub target: Option<f64>,
    pub attainment: Option<f64>,
    pub attainment_capped: Option<f64>,
    pub needed_per_year: Option<f64>,
    pub projected: Option<f64>,
    pub status: Status,
    pub note: Option<Note>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestonePoint {
    pub year: i32,
    pub milestone: f64,
    pub value: Option<f64>,
    pub met: Option<bool>,
}

/// The targets of one policy document.
#[derive(Debug, Clone, Serialize)]
pub struct TargetGroup {
    pub document: String,
    pub targets: Vec<TargetLine>,
}

/// The counts the summary paragraph states, so the template only words them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CountySummary {
    pub targets: usize,
    pub achieved: usize,
    pub on_track: usize,
    /// At risk or off track, with time left.
    pub lagging: usize,
    /// The period is over, not met.
    pub missed: usize,
    /// Lagging and missed targets beyond those the summary names.
    pub attention_more: usize,
    /// Scored indicators the county reported no value for this year.
    pub missing_indicators: usize,
    /// Of those, the ones the index took an imputed value for (`[compute] imputation`).
    pub imputed_indicators: usize,
}

/// Everything the county template sees besides `meta`.
#[derive(Debug, Clone, Serialize)]
pub struct CountyReport {
    pub county: Place,
    pub standing: Standing,
    pub summary: CountySummary,
    pub history: Vec<HistoryPoint>,
    pub dimensions: Vec<DimensionScore>,
    /// Dimensions by rank among counties: best first.
    pub strongest: Option<DimensionScore>,
    pub weakest: Option<DimensionScore>,
    pub indicators: Vec<IndicatorLine>,
    pub targets: Vec<TargetLine>,
    /// The same targets by policy document, in the order of the targets file.
    pub target_groups: Vec<TargetGroup>,
    /// The worst lagging and missed targets, as many as the summary names.
    pub attention: Vec<TargetLine>,
    /// Its 绩效拨款 line and its place on the 考评 lists (None: not configured, or not on a list).
    pub funding: Option<FundingLine>,
    pub appraisal: Option<AppraisalLine>,
    /// The input files holding this county's values: a change elsewhere leaves its report as it is.
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankLine {
    pub place: Place,
    pub standing: Standing,
    pub scores: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Leader {
    pub dimension: String,
    pub counties: Vec<(String, Option<f64>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetSummary {
    pub id: String,
    pub indicator: String,
    pub kind: TargetKind,
    pub end: i32,
    pub source: String,
    pub document: String,
    pub counties: usize,
    /// Counts per status, every status in order from achieved to no data.
    pub status: Vec<(Status, usize)>,
    /// Counties at risk or off track.
    pub lagging: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaSection {
    pub code: String,
    pub name: String,
    pub average: Option<f64>,
    pub rows: Vec<RankLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub rows: Vec<RankLine>,
    pub average: Option<f64>,
    /// CASTED tiers 1..3: (tier, count), empty tiers included.
    pub tiers: Vec<(u32, usize)>,
    pub ratio_groups: Vec<(RatioGroup, usize)>,
    pub leaders: Vec<Leader>,
    pub movers_up: Vec<RankLine>,
    pub movers_down: Vec<RankLine>,
    pub targets: Vec<TargetSummary>,
    /// Per policy document: its targets' county evaluations counted by status.
    pub documents: Vec<DocumentSummary>,
    /// Targets of regions as a whole.
    pub regional: Vec<RegionalLine>,
    /// Sections per prefecture (empty when there is only one).
    pub prefectures: Vec<AreaSection>,
    /// Sections per province (empty when there is only one), and the file of each one's
    /// `ProvinceReport` (same order).
    pub provinces: Vec<AreaSection>,
    pub province_reports: Vec<String>,
    /// Sections per peer group (empty without `[scope] peer_groups`).
    pub peer_groups: Vec<AreaSection>,
    /// Counties of the scope that sent nothing for the report year (未报送), and what was done:
    /// `imputed` (by `[compute] imputation`) or `unranked`.
    pub missing: Vec<Place>,
    pub missing_treatment: &'static str,
    /// Every input file.
    pub sources: Vec<Source>,
    /// The statistical audit (an appendix).
    pub audit: AuditSection,
    /// 绩效拨款 and 考评 of the report year (None: not configured or not computed for it).
    pub funding: Option<FundingSection>,
    pub appraisal: Option<AppraisalSection>,
}

/// A province's rankings by prefecture: a PDF of its own when the scope spans several provinces.
/// In one national overview they made ~300 pages, and Typst's memory grows with table cells
/// (1.3 GB for it at 2,844 counties).
#[derive(Debug, Clone, Serialize)]
pub struct ProvinceReport {
    /// The file stem, `overview-湖北省`.
    #[serde(skip)]
    pub stem: String,
    pub name: String,
    pub counties: usize,
    pub average: Option<f64>,
    pub prefectures: Vec<AreaSection>,
}

/// One county's allocation (万元).
#[derive(Debug, Clone, Serialize)]
pub struct FundingLine {
    pub county: Place,
    pub index: Option<f64>,
    pub index_change: Option<f64>,
    pub rank: Option<u32>,
    pub tier: Option<u32>,
    pub base: f64,
    pub tier_award: f64,
    pub index_part: Option<f64>,
    pub improvement_part: Option<f64>,
    pub rank_gain_part: Option<f64>,
    pub adjustment: f64,
    pub amount: f64,
    pub share: f64,
    pub p05: Option<f64>,
    pub median: Option<f64>,
    pub p95: Option<f64>,
    pub robust: Option<bool>,
    pub award_kept: Option<f64>,
    pub above_kept: Option<f64>,
}

/// A weighted part of the formula, as the overview words it.
#[derive(Debug, Clone, Serialize)]
pub struct FundingPart {
    pub kind: crate::compute::funding::PartKind,
    /// Share of what the fixed amounts leave.
    pub share: f64,
    pub above: Option<f64>,
    pub years: i32,
}

/// The overview's 绩效拨款 section.
#[derive(Debug, Clone, Serialize)]
pub struct FundingSection {
    pub year: i32,
    pub budget: f64,
    pub round_to: f64,
    pub base: f64,
    /// (CASTED tier, award) of the tiers with an award, in order.
    pub tier_awards: Vec<(String, f64)>,
    pub floor: Option<f64>,
    pub cap: Option<f64>,
    pub parts: Vec<FundingPart>,
    /// Which part columns the table shows.
    pub has_index: bool,
    pub has_improvement: bool,
    pub has_rank_gain: bool,
    pub runs: u32,
    /// Largest amount (or interval end), the chart's scale.
    pub max: f64,
    /// Largest amount first.
    pub lines: Vec<FundingLine>,
    /// Counties whose award or place above the floor depends on the method.
    pub not_robust: Vec<String>,
}

/// One county on a 考评 list.
#[derive(Debug, Clone, Serialize)]
pub struct AppraisalLine {
    pub county: Place,
    pub verdict: crate::codes::Verdict,
    pub leading: bool,
    pub improved: bool,
    pub index: Option<f64>,
    pub index_change: Option<f64>,
    pub rank: Option<u32>,
    pub rank_change: Option<i32>,
    pub tier: Option<u32>,
    pub robust: Option<bool>,
}

/// The overview's 考评 section and the rules that made it.
#[derive(Debug, Clone, Serialize)]
pub struct AppraisalSection {
    pub year: i32,
    pub leading_tier: u8,
    pub leading_top: u32,
    pub improved: u32,
    pub improved_by: crate::compute::appraisal::ImprovedBy,
    pub fell_back: u32,
    pub advanced: Vec<AppraisalLine>,
    pub fell_back_list: Vec<AppraisalLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentSummary {
    pub document: String,
    pub targets: usize,
    /// Evaluations: target × county it applies to, a regional target once.
    pub evaluations: usize,
    /// Evaluations per status, every status in order.
    pub status: Vec<(Status, usize)>,
}

/// A target of a region as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct RegionalLine {
    pub id: String,
    pub region: String,
    pub indicator: String,
    pub unit: String,
    pub ratio: bool,
    pub kind: TargetKind,
    pub measure: Option<Aggregate>,
    pub op: Option<&'static str>,
    /// Share targets: the condition each county is to meet (`op value`).
    pub value: Option<f64>,
    /// Always false: a regional target is judged by its end year (the templates share a macro).
    pub every_year: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub share: Option<f64>,
    pub start: i32,
    pub end: i32,
    pub source: String,
    pub document: String,
    pub counties: u32,
    pub counties_meeting: Option<u32>,
    pub eval_year: Option<i32>,
    pub actual: Option<f64>,
    pub target: Option<f64>,
    pub attainment: Option<f64>,
    pub base_value: Option<f64>,
    pub baseline: Option<f64>,
    pub status: Status,
    pub note: Option<Note>,
}

/// The statistical audit as the overview shows it.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AuditSection {
    /// The year analysed; None for the pooled panel of every year.
    pub year: Option<i32>,
    pub dimensions: Vec<AuditDimension>,
    /// Heat map: a column per dimension and the index, a row per scored indicator.
    pub columns: Vec<String>,
    pub rows: Vec<HeatRow>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditDimension {
    pub name: String,
    pub indicators: u32,
    pub alpha: Option<f64>,
    /// Share of the variance of the first principal component.
    pub first_component: Option<f64>,
    pub flagged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatRow {
    pub indicator: String,
    /// The correlation with each column; the own dimension is marked.
    pub values: Vec<Option<f64>>,
    pub own: Option<usize>,
}

/// One flag of the audit, with what its sentence in labels.toml needs.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub flag: AuditFlag,
    pub node: String,
    pub indicator: Option<String>,
    pub other: Option<String>,
    pub value: f64,
    pub threshold: f64,
    /// value and threshold in percent, for shares.
    pub value_percent: f64,
    pub threshold_percent: f64,
}

/// All contexts of one run.
pub struct Contexts {
    pub meta: Meta,
    pub counties: Vec<CountyReport>,
    pub overview: Overview,
    pub provinces: Vec<ProvinceReport>,
}
