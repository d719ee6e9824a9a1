//! One county's report context: standing and summary counts, history, dimensions with the
//! strongest and weakest, every indicator with growth, rank and flags, targets, its input files.

use std::collections::HashMap;

use super::context::Year;
use super::model::*;
use crate::catalog::Kind;
use crate::codes::Span;
use crate::codes::{ChangeUnit, Status};
use crate::results::derive::{self, strongest_and_weakest};
use crate::results::{AttainmentRow, GrowthRow, IndexRow};
use crate::targets::{Op, Target};

/// Every county of the report year, in the order of the ranking.
pub fn reports(y: &Year<'_>) -> Vec<CountyReport> {
    let t = y.t;
    let averages = y.dimension_averages();
    let weights: HashMap<&str, f64> = t
        .weights
        .iter()
        .filter(|w| w.node == y.catalog.index.code && w.year.is_none_or(|wy| wy == y.year))
        .map(|w| (w.child.as_str(), w.effective_weight))
        .collect();
    let growth: HashMap<(&str, &str), &GrowthRow> =
        t.growth.iter().filter(|g| g.year == y.year).map(|g| ((&*g.region_code, &*g.indicator), g)).collect();
    let ranks = indicator_ranks(y);
    let flags: HashMap<(&str, &str), (bool, bool)> = t
        .normalised
        .iter()
        .filter(|n| n.year == y.year)
        .map(|n| ((&*n.region_code, &*n.indicator), (n.imputed, n.treated)))
        .collect();
    let mut attainment: HashMap<&str, Vec<&AttainmentRow>> = HashMap::new();
    for a in &t.attainment {
        attainment.entry(a.region_code.as_str()).or_default().push(a);
    }
    let targets: HashMap<&str, &Target> = y.targets.iter().map(|x| (x.id.as_str(), x)).collect();
    let mut milestones: HashMap<(&str, &str), Vec<MilestonePoint>> = HashMap::new();
    for d in &t.attainment_years {
        if let Some(m) = d.milestone {
            milestones.entry((d.target_id.as_str(), d.region_code.as_str())).or_default().push(MilestonePoint {
                year: d.year,
                milestone: m,
                value: d.value,
                met: d.met,
            });
        }
    }
    let sources = y.sources();
    let mut files_of: HashMap<String, Vec<&str>> = HashMap::new();
    for (code, file) in &t.county_files {
        files_of.entry(y.registry.current_code(code).to_string()).or_default().push(file.as_str());
    }
    let spans: Vec<Span> = t
        .growth
        .first()
        .map(|g| g.changes.0.iter().map(|c| c.span).filter(|s| matches!(s, Span::Years(n) if *n > 1)).collect())
        .unwrap_or_default();
    let mut spans = spans;
    spans.sort_by_key(|s| match s {
        Span::Years(n) => *n,
        Span::Since(_) => i32::MAX,
    });

    y.rows
        .iter()
        .map(|r| {
            let code = &*r.region_code;
            let dimensions: Vec<DimensionScore> = y
                .dimensions
                .iter()
                .zip(&averages)
                .map(|(d, avg)| DimensionScore {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    score: r.scores.get(&d.code),
                    rank: y.node_rank.get(&(code, d.code.as_str())).copied(),
                    average: *avg,
                    weight: weights.get(d.code.as_str()).copied(),
                })
                .collect();
            let (strongest, weakest) = strongest_and_weakest(&dimensions.iter().map(|d| d.rank).collect::<Vec<_>>());
            let indicators: Vec<IndicatorLine> = y
                .catalog
                .indicators
                .iter()
                .map(|ind| {
                    let g = growth.get(&(code, ind.code.as_str())).copied();
                    let value = g.and_then(|g| g.value);
                    let (imputed, treated) = flags.get(&(code, ind.code.as_str())).copied().unwrap_or((false, false));
                    let (rank, of) = ranks.get(&(code, ind.code.as_str())).map_or((None, 0), |&(r, n)| (Some(r), n));
                    let change = |s: Span| g.and_then(|g| g.changes.get(s));
                    IndicatorLine {
                        code: ind.code.clone(),
                        name: y.name(&ind.code),
                        unit: ind.unit.clone(),
                        dimension: y.catalog.dimension_of(&ind.code).map_or_else(String::new, |d| d.code.clone()),
                        scored: ind.scored,
                        kind: ind.kind,
                        direction: if ind.direction < 0.0 { -1 } else { 1 },
                        value,
                        change_unit: g.map_or(
                            if ind.kind == Kind::Ratio { ChangeUnit::Points } else { ChangeUnit::Percent },
                            |g| g.change_unit,
                        ),
                        yoy: change(Span::Years(1)).and_then(|c| c.value),
                        yoy_note: change(Span::Years(1)).and_then(|c| c.note),
                        avg: spans.iter().map(|&s| change(s).and_then(|c| c.value)).collect(),
                        rank,
                        of,
                        imputed,
                        treated,
                        out_of_range: match (value, ind.range) {
                            (Some(v), Some([lo, hi])) => v < lo || v > hi,
                            _ => false,
                        },
                    }
                })
                .collect();
            let mut lines: Vec<TargetLine> = attainment
                .get(code)
                .map(|v| {
                    v.iter()
                        .filter_map(|a| {
                            target_line(
                                y,
                                a,
                                targets.get(a.target_id.as_str())?,
                                milestones.get(&(a.target_id.as_str(), code)),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            lines.sort_by(|a, b| (a.end, &a.id).cmp(&(b.end, &b.id)));
            let target_groups = groups(y, &lines);
            CountyReport {
                county: y.place(code),
                standing: y.standing(r),
                summary: summary(r, &lines, &indicators),
                attention: attention(&lines).into_iter().cloned().collect(),
                funding: y
                    .t
                    .funding
                    .iter()
                    .find(|f| f.region_code == *code)
                    .map(|f| super::evaluation::funding_line(y, f)),
                appraisal: y
                    .t
                    .appraisal
                    .iter()
                    .find(|a| a.region_code == *code)
                    .map(|a| super::evaluation::appraisal_line(y, a)),
                history: history(y, r),
                strongest: strongest.map(|i| dimensions[i].clone()),
                weakest: weakest.map(|i| dimensions[i].clone()),
                dimensions,
                indicators,
                target_groups,
                targets: lines,
                sources: sources
                    .iter()
                    .filter(|f| files_of.get(code).is_some_and(|fs| fs.contains(&f.file.as_str())))
                    .cloned()
                    .collect(),
            }
        })
        .collect()
}

/// How many lagging targets the summary names; the rest it counts.
const ATTENTION: usize = 5;

/// The counts the summary paragraph states.
pub fn summary(r: &IndexRow, targets: &[TargetLine], indicators: &[IndicatorLine]) -> CountySummary {
    let scored = indicators.iter().filter(|i| i.scored).count();
    let count = |s: &[Status]| targets.iter().filter(|l| s.contains(&l.status)).count();
    let needing = targets.iter().filter(|l| l.status.lagging()).count();
    CountySummary {
        targets: targets.len(),
        achieved: count(&[Status::Achieved]),
        on_track: count(&[Status::OnTrack]),
        lagging: count(&[Status::AtRisk, Status::OffTrack]),
        missed: count(&[Status::Missed]),
        attention_more: needing.saturating_sub(ATTENTION),
        missing_indicators: scored.saturating_sub(r.indicators_present as usize),
        imputed_indicators: indicators.iter().filter(|i| i.scored && i.imputed).count(),
    }
}

/// The lagging targets the summary names: missed first, then off track, then at risk; the
/// furthest from their target first within each.
pub fn attention(targets: &[TargetLine]) -> Vec<&TargetLine> {
    let severity = |s: Status| match s {
        Status::Missed => 0,
        Status::OffTrack => 1,
        _ => 2,
    };
    let mut worst: Vec<&TargetLine> = targets.iter().filter(|l| l.status.lagging()).collect();
    worst.sort_by(|a, b| {
        (severity(a.status), a.attainment.unwrap_or(0.0))
            .partial_cmp(&(severity(b.status), b.attainment.unwrap_or(0.0)))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.id.cmp(&b.id))
    });
    worst.truncate(ATTENTION);
    worst
}

/// The county's index in every year up to the report year, against the averages.
fn history(y: &Year<'_>, county: &IndexRow) -> Vec<HistoryPoint> {
    let mut rows: Vec<&IndexRow> =
        y.t.index.iter().filter(|r| r.region_code == county.region_code && r.year <= y.year).collect();
    rows.sort_by_key(|r| r.year);
    rows.iter()
        .map(|r| HistoryPoint {
            year: r.year,
            index: r.index,
            rank: r.rank,
            average: y.field.average(r.year),
            prefecture_average: y.field.prefecture_average(r.year, &county.prefecture_code),
            peer_average: county.peer_group.as_deref().and_then(|g| y.field.group_average(r.year, g)),
        })
        .collect()
}

/// Each indicator's rank among the year's counties, in the indicator's direction: (rank, of).
fn indicator_ranks<'a>(y: &Year<'a>) -> HashMap<(&'a str, &'a str), (u32, usize)> {
    let mut by_indicator: HashMap<&str, Vec<(&str, Option<f64>)>> = HashMap::new();
    for g in y.t.growth.iter().filter(|g| g.year == y.year) {
        let Some(ind) = y.catalog.indicator(&g.indicator) else { continue };
        by_indicator
            .entry(&g.indicator)
            .or_default()
            .push((&g.region_code, g.value.map(|v| v * ind.direction.signum())));
    }
    let mut out = HashMap::new();
    for (ind, values) in by_indicator {
        let ranks = derive::competition_ranks(&values.iter().map(|x| x.1).collect::<Vec<_>>());
        let of = values.iter().filter(|x| x.1.is_some()).count();
        for ((code, _), r) in values.iter().zip(ranks) {
            if let Some(r) = r {
                out.insert((*code, ind), (r, of));
            }
        }
    }
    out
}

/// A county's targets by policy document, documents in the order of the targets file.
fn groups(y: &Year<'_>, lines: &[TargetLine]) -> Vec<TargetGroup> {
    let mut docs: Vec<&str> = Vec::new();
    for t in y.targets {
        if !docs.contains(&t.document()) {
            docs.push(t.document());
        }
    }
    docs.iter()
        .map(|d| TargetGroup {
            document: d.to_string(),
            targets: lines.iter().filter(|l| l.document == *d).cloned().collect(),
        })
        .filter(|g| !g.targets.is_empty())
        .collect()
}

fn target_line(
    y: &Year<'_>,
    a: &AttainmentRow,
    tg: &Target,
    milestones: Option<&Vec<MilestonePoint>>,
) -> Option<TargetLine> {
    // Rank and tier targets are on the index, which has no unit.
    let ind = y.catalog.indicator(&tg.indicator);
    if ind.is_none() && !tg.on_index() {
        return None;
    }
    Some(TargetLine {
        id: tg.id.clone(),
        indicator: y.name(&tg.indicator),
        unit: ind.map_or_else(String::new, |i| i.unit.clone()),
        ratio: ind.is_some_and(|i| i.kind == Kind::Ratio),
        kind: tg.kind,
        op: tg.op.map(Op::as_str),
        min: tg.min,
        max: tg.max,
        start: tg.start,
        end: tg.end,
        source: tg.source.clone(),
        document: tg.document().to_string(),
        within: tg.within,
        group: tg.group,
        every_year: tg.every_year,
        milestones: milestones.cloned().unwrap_or_default(),
        eval_year: a.eval_year,
        actual: a.actual,
        target: a.target,
        attainment: a.attainment,
        attainment_capped: a.attainment_capped,
        needed_per_year: a.needed_per_year,
        projected: a.projected,
        status: a.status,
        note: a.note.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::TargetKind;

    fn line(id: &str, status: Status, attainment: Option<f64>) -> TargetLine {
        TargetLine {
            id: id.into(),
            indicator: id.into(),
            unit: String::new(),
            ratio: false,
            kind: TargetKind::Level,
            op: Some(">="),
            min: None,
            max: None,
            start: 2020,
            end: 2022,
            source: String::new(),
            document: String::new(),
            within: None,
            group: None,
            every_year: false,
            milestones: Vec::new(),
            eval_year: Some(2022),
            actual: None,
            target: None,
            attainment,
            attainment_capped: attainment,
            needed_per_year: None,
            projected: None,
            status,
            note: None,
        }
    }

    #[test]
    fn the_summary_names_the_five_worst_lagging_targets_and_counts_the_rest() {
        let lines = vec![
            line("a", Status::AtRisk, Some(0.95)),
            line("b", Status::Missed, Some(0.9)),
            line("c", Status::Achieved, Some(1.2)),
            line("d", Status::OffTrack, Some(0.4)),
            line("e", Status::Missed, Some(0.3)),
            line("f", Status::AtRisk, Some(0.91)),
            line("g", Status::OffTrack, None),
            line("h", Status::OnTrack, Some(0.8)),
        ];
        let ids: Vec<&str> = attention(&lines).iter().map(|l| l.id.as_str()).collect();
        // Missed first, then off track, then at risk; the furthest from the target first in each.
        assert_eq!(ids, ["e", "b", "g", "d", "f"]);
        let r = IndexRow {
            region_code: "420802".into(),
            year: 2024,
            region_name: "".into(),
            prefecture_code: "".into(),
            prefecture_name: "".into(),
            province_code: "".into(),
            province_name: "".into(),
            index: Some(50.0),
            rank: Some(1),
            rank_prefecture: None,
            rank_province: None,
            peer_group: None,
            rank_peer: None,
            rank_change: None,
            casted_tier: None,
            ratio_to_average: None,
            ratio_group: None,
            indicators_present: 3,
            scores: crate::codes::Wide(Vec::new()),
        };
        let s = summary(&r, &lines, &[]);
        assert_eq!((s.targets, s.achieved, s.on_track, s.lagging, s.missed), (8, 1, 1, 4, 2));
        assert_eq!(s.attention_more, 1, "six need attention, five are named");
    }
}
