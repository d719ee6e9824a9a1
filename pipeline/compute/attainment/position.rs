//! Rank and tier targets on the index (始终保持在全省第一方阵, within the top N): met as
//! published, and robust to the method when the sensitivity analysis's interval agrees.

use super::{Attainment, YearDetail};
use crate::codes::{Note, Status};
use crate::compute::index::{IndexResult, Panel};
use crate::compute::sensitivity::Interval;
use crate::targets::{Target, TargetKind, Within};

/// A tier is robust when the county stays in it in at least this share of the replications.
pub const TIER_ROBUST: f64 = 0.9;

/// What rank and tier targets read.
pub struct Positions<'a> {
    pub panel: &'a Panel,
    pub index: &'a IndexResult,
    /// Rank intervals per panel row (None without the sensitivity analysis).
    pub intervals: Option<&'a [Interval]>,
}

/// One year of a county's position against the target.
struct Year {
    year: i32,
    value: f64,
    met: bool,
    /// Met in enough replications (always true where no interval exists).
    robust: bool,
    /// Some replications meet it (for a target not met as published).
    reachable: bool,
    note: Option<Note>,
}

fn position(t: &Target, p: &Positions<'_>, row: usize) -> Option<Year> {
    let r = p.index;
    let iv = p.intervals.and_then(|v| v.get(row));
    let n = t.value.unwrap_or(1.0) as u32;
    match t.kind {
        TargetKind::Rank => {
            let within = t.within.unwrap_or(Within::Scope);
            let rank = match within {
                Within::Scope => r.rank[row],
                Within::Province => r.rank_province[row],
                Within::Prefecture => r.rank_prefecture[row],
                Within::Peer => r.rank_peer[row],
            }?;
            // The replications rank the whole scope: their interval speaks for a rank within
            // the scope, or within the province when the scope is one province.
            let one_province = p.panel.units.iter().all(|u| u.province_code == p.panel.units[0].province_code);
            let interval = iv.filter(|_| within == Within::Scope || (within == Within::Province && one_province));
            let (p05, p95) = interval.map_or((None, None), |i| (i.p05, i.p95));
            Some(Year {
                year: 0,
                value: f64::from(rank),
                met: rank <= n,
                robust: p95.is_none_or(|hi| hi <= n),
                reachable: p05.is_some_and(|lo| lo <= n),
                note: p05.zip(p95).map(|(p05, p95)| Note::RankInterval { p05, p95 }),
            })
        }
        _ => {
            let (value, met) = match t.group {
                Some(g) => {
                    let group = r.ratio_group[row]?;
                    (f64::from(group as u8 + 1), group <= g)
                }
                None => {
                    let tier = r.casted_tier[row]?;
                    (f64::from(tier), u32::from(tier) <= n)
                }
            };
            let same = iv.and_then(|i| i.same_tier).filter(|_| t.group.is_none());
            Some(Year {
                year: 0,
                value,
                met,
                robust: same.is_none_or(|s| s >= TIER_ROBUST),
                reachable: value <= f64::from(n) + 1.0,
                note: same.map(|share| Note::TierShare { share }),
            })
        }
    }
}

/// Judge a rank or tier target for the county in column `u` of the panel.
pub fn evaluate(t: &Target, region: &str, u: usize, p: &Positions<'_>) -> (Attainment, Vec<YearDetail>) {
    let mut a = Attainment {
        target_id: t.id.clone(),
        region_code: region.to_string(),
        indicator: t.indicator.clone(),
        kind: t.kind,
        eval_year: None,
        actual: None,
        target: t.value.or(t.group.map(|g| f64::from(g as u8 + 1))),
        attainment: None,
        attainment_capped: None,
        needed_per_year: None,
        projected: None,
        status: Status::NoData,
        note: None,
    };
    let years: Vec<Year> = p
        .panel
        .years
        .iter()
        .enumerate()
        .filter(|(_, y)| (t.start..=t.end).contains(*y))
        .filter_map(|(yi, &year)| Some(Year { year, ..position(t, p, p.panel.row(yi, u))? }))
        .collect();
    let details = years
        .iter()
        .map(|y| YearDetail {
            target_id: t.id.clone(),
            region_code: region.to_string(),
            year: y.year,
            value: Some(y.value),
            running_sum: None,
            met: Some(y.met),
            milestone: None,
        })
        .collect();
    let Some(last) = years.last() else {
        a.note = Some(Note::NoValueInPeriod);
        return (a, details);
    };
    a.eval_year = Some(last.year);
    a.actual = Some(last.value);
    a.attainment = a.target.map(|n| n / last.value);
    a.attainment_capped = a.attainment.map(|r| r.min(1.0));
    let done = last.year >= t.end;
    let missed = years.iter().find(|y| !y.met).filter(|_| t.every_year);
    a.status = if let Some(m) = missed {
        a.note = Some(Note::MissedInYear { year: m.year });
        if done {
            Status::Missed
        } else {
            Status::OffTrack
        }
    } else if last.met && !last.robust {
        a.note = last.note.clone();
        Status::AtRisk
    } else if last.met {
        if done {
            Status::Achieved
        } else {
            Status::OnTrack
        }
    } else if done {
        Status::Missed
    } else if last.reachable {
        a.note = last.note.clone();
        Status::AtRisk
    } else {
        Status::OffTrack
    };
    (a, details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::index::Unit;

    /// One county over 2021–2023 with these ranks and tiers, and intervals (p05, p95, same tier).
    fn fixture(
        ranks: [u32; 3],
        tiers: [u8; 3],
        intervals: [(u32, u32, f64); 3],
    ) -> (Panel, IndexResult, Vec<Interval>) {
        let unit =
            Unit { code: "420802".into(), name: "东宝区".into(), province_code: "420000".into(), ..Unit::default() };
        let panel = Panel {
            units: vec![unit],
            years: vec![2021, 2022, 2023],
            indicators: vec![],
            values: vec![],
            valid: vec![true; 3],
        };
        let index = IndexResult {
            rank: ranks.map(Some).to_vec(),
            rank_province: ranks.map(Some).to_vec(),
            rank_prefecture: vec![Some(1); 3],
            rank_peer: vec![None; 3],
            casted_tier: tiers.map(Some).to_vec(),
            ratio_group: vec![None; 3],
            ..IndexResult::default()
        };
        let iv = intervals
            .iter()
            .zip(ranks)
            .map(|(&(p05, p95, same), r)| Interval {
                nominal: Some(r),
                median: None,
                p05: Some(p05),
                p95: Some(p95),
                same_tier: Some(same),
            })
            .collect();
        (panel, index, iv)
    }

    fn target(kind: TargetKind, value: f64, every_year: bool, end: i32) -> Target {
        Target {
            id: "t".into(),
            indicator: "cici".into(),
            scope: "420802".into(),
            kind,
            value: Some(value),
            start: 2021,
            end,
            every_year,
            within: Some(Within::Province),
            ..Target::default()
        }
    }

    fn judge(t: &Target, f: &(Panel, IndexResult, Vec<Interval>)) -> Attainment {
        let p = Positions { panel: &f.0, index: &f.1, intervals: Some(&f.2) };
        evaluate(t, "420802", 0, &p).0
    }

    #[test]
    fn a_rank_met_as_published_but_not_across_its_interval_is_at_risk() {
        // Top 10 of the province every year 2021–2023: ranks 8, 9, 10 are met.
        let t = target(TargetKind::Rank, 10.0, true, 2023);
        let solid = fixture([8, 9, 10], [1; 3], [(6, 9, 1.0), (7, 10, 1.0), (8, 10, 1.0)]);
        assert_eq!((judge(&t, &solid).status, judge(&t, &solid).actual), (Status::Achieved, Some(10.0)));
        // The last interval reaches 12: in some replications it is not in the top 10.
        let straddling = fixture([8, 9, 10], [1; 3], [(6, 9, 1.0), (7, 10, 1.0), (8, 12, 1.0)]);
        let a = judge(&t, &straddling);
        assert_eq!((a.status, a.note), (Status::AtRisk, Some(Note::RankInterval { p05: 8, p95: 12 })));
        // Missed in 2022: every year was asked for.
        let a = judge(&t, &fixture([8, 11, 9], [1; 3], [(6, 9, 1.0); 3]));
        assert_eq!((a.status, a.note), (Status::Missed, Some(Note::MissedInYear { year: 2022 })));
        // By 2025 only: ongoing, 12th with an interval reaching 9 is at risk; reaching 11 is off track.
        let by_end = target(TargetKind::Rank, 10.0, false, 2025);
        assert_eq!(
            judge(&by_end, &fixture([8, 9, 12], [1; 3], [(6, 9, 1.0), (7, 10, 1.0), (9, 14, 1.0)])).status,
            Status::AtRisk
        );
        assert_eq!(
            judge(&by_end, &fixture([8, 9, 12], [1; 3], [(6, 9, 1.0), (7, 10, 1.0), (11, 14, 1.0)])).status,
            Status::OffTrack
        );
        assert_eq!(judge(&by_end, &solid).status, Status::OnTrack, "met, end year still ahead");
    }

    #[test]
    fn a_tier_kept_in_too_few_replications_is_at_risk() {
        // 始终保持在第一方阵 2021–2023: CASTED tier 1 every year.
        let t = Target { within: None, ..target(TargetKind::Tier, 1.0, true, 2023) };
        assert_eq!(judge(&t, &fixture([3; 3], [1; 3], [(1, 5, 0.95); 3])).status, Status::Achieved);
        let a = judge(&t, &fixture([3; 3], [1; 3], [(1, 5, 0.95), (1, 5, 0.95), (1, 9, 0.6)]));
        assert_eq!((a.status, a.note), (Status::AtRisk, Some(Note::TierShare { share: 0.6 })));
        assert_eq!(judge(&t, &fixture([3; 3], [1, 2, 1], [(1, 5, 0.95); 3])).status, Status::Missed);
    }
}
