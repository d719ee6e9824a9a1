//! The reports' 绩效拨款 and 考评: the overview's sections and each county's line, from the
//! `funding` and `appraisal` tables and the settings recorded with them in `method`.

use super::context::Year;
use super::model::*;
use crate::codes::Verdict;
use crate::compute::appraisal::AppraisalSettings;
use crate::compute::funding::FundingSettings;
use crate::results::{AppraisalRow, FundingRow};

/// The settings compute recorded as JSON under `key` in the method table.
fn recorded<T: serde::de::DeserializeOwned>(y: &Year<'_>, key: &str) -> Option<T> {
    y.t.method.iter().find(|m| m.key == key).and_then(|m| serde_json::from_str(&m.value).ok())
}

pub fn funding_line(y: &Year<'_>, r: &FundingRow) -> FundingLine {
    FundingLine {
        county: y.place(&r.region_code),
        index: r.index,
        index_change: r.index_change,
        rank: r.rank,
        tier: r.casted_tier,
        base: r.base_amount,
        tier_award: r.tier_award,
        index_part: r.index_part,
        improvement_part: r.improvement_part,
        rank_gain_part: r.rank_gain_part,
        adjustment: r.adjustment,
        amount: r.amount,
        share: r.share_of_budget,
        p05: r.p05,
        median: r.median,
        p95: r.p95,
        robust: r.robust,
        award_kept: r.award_kept,
        above_kept: r.above_kept,
    }
}

pub fn appraisal_line(y: &Year<'_>, r: &AppraisalRow) -> AppraisalLine {
    AppraisalLine {
        county: y.place(&r.region_code),
        verdict: r.verdict,
        leading: r.leading,
        improved: r.improved,
        index: r.index,
        index_change: r.index_change,
        rank: r.rank,
        rank_change: r.rank_change,
        tier: r.casted_tier,
        robust: r.robust,
    }
}

/// The overview's section: the formula as configured, every county by amount.
pub fn funding_section(y: &Year<'_>) -> Option<FundingSection> {
    if y.t.funding.is_empty() {
        return None;
    }
    let f: FundingSettings = recorded(y, "funding")?;
    let mut lines: Vec<FundingLine> = y.t.funding.iter().map(|r| funding_line(y, r)).collect();
    lines.sort_by(|a, b| {
        b.amount.total_cmp(&a.amount).then(a.rank.cmp(&b.rank)).then(a.county.code.cmp(&b.county.code))
    });
    let total: f64 = f.parts.iter().map(|p| p.weight).sum();
    let max = lines.iter().map(|l| l.p95.unwrap_or(0.0).max(l.amount)).fold(0.0, f64::max);
    let has = |k| f.parts.iter().any(|p| p.kind == k);
    use crate::compute::funding::PartKind;
    Some(FundingSection {
        year: y.year,
        budget: f.budget,
        round_to: f.round_to,
        base: f.base,
        tier_awards: f.tier_awards.iter().filter(|(_, v)| **v > 0.0).map(|(k, v)| (k.clone(), *v)).collect(),
        floor: f.floor,
        cap: f.cap,
        parts: f
            .parts
            .iter()
            .map(|p| FundingPart { kind: p.kind, share: p.weight / total, above: p.above, years: p.years })
            .collect(),
        has_index: has(PartKind::Index),
        has_improvement: has(PartKind::Improvement),
        has_rank_gain: has(PartKind::RankGain),
        runs: y.t.funding.iter().map(|r| r.runs).max().unwrap_or(0),
        max,
        not_robust: lines.iter().filter(|l| l.robust == Some(false)).map(|l| l.county.name.clone()).collect(),
        lines,
    })
}

pub fn appraisal_section(y: &Year<'_>) -> Option<AppraisalSection> {
    let s: AppraisalSettings = recorded(y, "appraisal")?;
    // Lists of another year are not this year's (an empty list of this year is).
    if s.year.or(y.t.years.last().copied()) != Some(y.year) {
        return None;
    }
    let lines: Vec<AppraisalLine> = y.t.appraisal.iter().map(|r| appraisal_line(y, r)).collect();
    let (advanced, fell_back_list) = lines.into_iter().partition(|l| l.verdict == Verdict::Advanced);
    Some(AppraisalSection {
        year: y.year,
        leading_tier: s.leading_tier,
        leading_top: s.leading_top,
        improved: s.improved,
        improved_by: s.improved_by,
        fell_back: s.fell_back,
        advanced,
        fell_back_list,
    })
}
