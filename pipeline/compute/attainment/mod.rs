//! Target attainment: each county against its level, growth range, yearly flow or cumulative
//! target (and a level's yearly milestones); rank and tier targets on the index are in
//! `position.rs`, the targets of a region as a whole in `region.rs`. Pure.

pub mod position;
pub mod region;

use std::collections::BTreeMap;

use crate::catalog::{Catalog, Kind};
use crate::codes::{Note, Status};
use crate::targets::{Op, Target, TargetKind};

/// A county's yearly series of one indicator.
pub type Series = BTreeMap<i32, Option<f64>>;

/// Projected attainment at or above this share counts as "at risk" rather than "off track".
pub const AT_RISK_FLOOR: f64 = 0.9;
/// A growth target missed by at most this many percentage points a year, before its end, is "at risk".
pub const AT_RISK_GROWTH_POINTS: f64 = 1.0;
/// Years of history used for the trend projection.
pub const TREND_YEARS: i32 = 3;

/// A target's judgement for one county is a row of the `attainment` table; flow and cumulative
/// targets add one row per year of their period.
pub use crate::results::{AttainmentRow as Attainment, AttainmentYearRow as YearDetail};

pub fn meets(op: Op, x: f64, t: f64) -> bool {
    match op {
        Op::AtLeast => x >= t,
        Op::AtMost => x <= t,
        Op::Above => x > t,
        Op::Below => x < t,
    }
}

/// x / target for ≥ and >, target / x for ≤ and < (lower is better); None when undefined.
pub fn ratio(op: Op, x: f64, t: f64) -> Option<f64> {
    let r = if op.upward() { x / t } else { t / x };
    (r.is_finite() && r >= 0.0).then_some(r)
}

/// Average annual growth (水平法) in percent, (b/a)^(1/n) − 1; None unless a, b > 0 and n > 0.
pub fn avg_growth_pct(a: f64, b: f64, n: i32) -> Option<f64> {
    (a > 0.0 && b > 0.0 && n > 0).then(|| ((b / a).powf(1.0 / n as f64) - 1.0) * 100.0)
}

fn value(s: &Series, y: i32) -> Option<f64> {
    s.get(&y).copied().flatten()
}

/// Latest year ≤ `upto` with a value.
fn latest(s: &Series, upto: i32) -> Option<(i32, f64)> {
    s.range(..=upto).rev().find_map(|(&y, v)| v.map(|v| (y, v)))
}

/// Project to `end` from the trend of the last years: growth for levels, points for ratios.
fn project(s: &Series, kind: Kind, from: (i32, f64), end: i32) -> Option<f64> {
    let (y1, x1) = from;
    if end <= y1 {
        return Some(x1);
    }
    let (y0, x0) = s.range(y1 - TREND_YEARS..y1).find_map(|(&y, v)| v.map(|v| (y, v)))?;
    let n = (y1 - y0) as f64;
    let h = (end - y1) as f64;
    if kind == Kind::Ratio {
        Some(x1 + (x1 - x0) / n * h)
    } else {
        let g = avg_growth_pct(x0, x1, y1 - y0)? / 100.0;
        Some(x1 * (1.0 + g).powf(h))
    }
}

/// Evaluate one target for one county.
pub fn evaluate(t: &Target, region: &str, s: &Series, catalog: &Catalog) -> (Attainment, Vec<YearDetail>) {
    let kind = catalog.indicator(&t.indicator).map_or(Kind::Amount, |i| i.kind);
    let direction = catalog.indicator(&t.indicator).map_or(1.0, |i| i.direction);
    evaluate_series(t, region, s, kind, direction)
}

/// Evaluate one target on one yearly series, whose kind decides the projection (points for
/// ratios, growth otherwise) and whose direction decides the better side of a growth range.
pub fn evaluate_series(
    t: &Target,
    region: &str,
    s: &Series,
    kind: Kind,
    direction: f64,
) -> (Attainment, Vec<YearDetail>) {
    let mut a = Attainment {
        target_id: t.id.clone(),
        region_code: region.to_string(),
        indicator: t.indicator.clone(),
        kind: t.kind,
        eval_year: None,
        actual: None,
        target: t.value.or(t.min),
        attainment: None,
        attainment_capped: None,
        needed_per_year: None,
        projected: None,
        status: Status::NoData,
        note: None,
    };
    let mut details = Vec::new();
    // The series covers every year of the panel: its last key is the latest year reported at all,
    // which decides whether a deadline has passed (a county's own gap does not move it).
    let data_end = s.keys().next_back().copied();
    let end_missing = data_end.is_some_and(|last| t.end <= last) && value(s, t.end).is_none();
    if end_missing && t.kind != TargetKind::Flow && t.kind != TargetKind::Cumulative {
        a.note = Some(Note::NoEndValue { year: t.end });
        return (a, details);
    }
    match t.kind {
        // On the index or the region: `position` and `region` judge them.
        TargetKind::Rank | TargetKind::Tier | TargetKind::Share => {}
        TargetKind::Level => {
            let (op, tv) = (t.op.unwrap_or(Op::AtLeast), t.value.unwrap_or(f64::NAN));
            let Some((y, x)) = latest(s, t.end) else {
                a.note = Some(Note::NoValueUpToEnd);
                return (a, details);
            };
            a.eval_year = Some(y);
            a.actual = Some(x);
            a.attainment = ratio(op, x, tv);
            a.attainment_capped = a.attainment.map(|r| r.min(1.0));
            a.projected = project(s, kind, (y, x), t.end);
            let left = t.end - y;
            if left > 0 && !meets(op, x, tv) {
                a.needed_per_year =
                    if kind == Kind::Ratio { Some((tv - x) / left as f64) } else { avg_growth_pct(x, tv, left) };
            }
            a.status = if meets(op, x, tv) {
                Status::Achieved
            } else if left == 0 {
                Status::Missed
            } else {
                match a.projected {
                    Some(p) if meets(op, p, tv) => Status::OnTrack,
                    Some(p) if ratio(op, p, tv).is_some_and(|r| r >= AT_RISK_FLOOR) => Status::AtRisk,
                    Some(_) => Status::OffTrack,
                    None => {
                        a.note = Some(Note::TooLittleHistory);
                        Status::AtRisk
                    }
                }
            };
            // The yearly path: each milestone against that year's value; the latest one missed
            // makes an on-track target at risk.
            let last = data_end.unwrap_or(t.start - 1);
            let mut missed = None;
            for (year, m) in t.milestone_path() {
                let v = if year <= last { value(s, year) } else { None };
                let met = v.map(|v| meets(op, v, m));
                if met.is_some() {
                    missed = (met == Some(false)).then_some(year);
                }
                details.push(YearDetail {
                    target_id: t.id.clone(),
                    region_code: region.to_string(),
                    year,
                    value: v,
                    running_sum: None,
                    met,
                    milestone: Some(m),
                });
            }
            if let (Some(year), Status::OnTrack) = (missed, a.status) {
                a.status = Status::AtRisk;
                a.note = Some(Note::MilestoneMissed { year });
            }
        }
        TargetKind::Growth => {
            let Some(x0) = value(s, t.start) else {
                a.note = Some(Note::NoBaseValue { year: t.start });
                return (a, details);
            };
            let Some((y, x)) = latest(s, t.end).filter(|(y, _)| *y > t.start) else {
                a.note = Some(Note::NoValueAfterBase);
                return (a, details);
            };
            a.eval_year = Some(y);
            let Some(g) = avg_growth_pct(x0, x, y - t.start) else {
                a.note = Some(Note::GrowthUndefined);
                return (a, details);
            };
            a.actual = Some(g);
            if let Some(min) = t.min.filter(|m| *m > 0.0) {
                a.attainment = Some(g / min).filter(|r| r.is_finite());
                a.attainment_capped = a.attainment.map(|r| r.clamp(0.0, 1.0));
            }
            // The bound that matters: the lower one when more is better, the upper one when less is.
            let binding = if direction > 0.0 { t.min.or(t.max) } else { t.max.or(t.min) };
            if let Some(b) = binding.filter(|_| y < t.end) {
                let goal = x0 * (1.0 + b / 100.0).powi(t.end - t.start);
                a.needed_per_year = avg_growth_pct(x, goal, t.end - y);
                a.projected = Some(x * (1.0 + g / 100.0).powi(t.end - y));
            }
            let below = t.min.is_some_and(|lo| g < lo);
            let above = t.max.is_some_and(|hi| g > hi);
            // Beyond a two-sided range on the better side still meets the policy's intent.
            let better_side =
                t.min.is_some() && t.max.is_some() && ((direction > 0.0 && above) || (direction < 0.0 && below));
            let done = y >= t.end;
            if better_side {
                a.note = Some(Note::BeyondRange { growth: g });
            }
            let gap = if below {
                t.min.unwrap() - g
            } else if above {
                g - t.max.unwrap()
            } else {
                0.0
            };
            a.status = if (!below && !above) || better_side {
                if done {
                    Status::Achieved
                } else {
                    Status::OnTrack
                }
            } else if done {
                Status::Missed
            } else if gap <= AT_RISK_GROWTH_POINTS {
                Status::AtRisk
            } else {
                Status::OffTrack
            };
        }
        TargetKind::Flow | TargetKind::Cumulative => {
            let (op, tv) = (t.op.unwrap_or(Op::AtLeast), t.value.unwrap_or(f64::NAN));
            let last = data_end.map_or(t.start - 1, |d| d.min(t.end));
            let mut sum: Option<f64> = None;
            let mut all_met = true;
            let mut seen = 0;
            for y in t.start..=t.end {
                let v = if y <= last { value(s, y) } else { None };
                if y <= last {
                    seen += 1;
                    sum = Some(sum.unwrap_or(0.0) + v.unwrap_or(0.0));
                }
                let met = match t.kind {
                    TargetKind::Flow => v.map(|x| meets(op, x, tv)),
                    _ => None,
                };
                if met == Some(false) || (y <= last && v.is_none()) {
                    all_met = false;
                }
                details.push(YearDetail {
                    target_id: t.id.clone(),
                    region_code: region.to_string(),
                    year: y,
                    value: v,
                    running_sum: if y <= last { sum } else { None },
                    met,
                    milestone: None,
                });
            }
            if seen == 0 {
                a.note = Some(Note::NoValueInPeriod);
                return (a, details);
            }
            a.eval_year = Some(last);
            let left = t.end - last;
            if t.kind == TargetKind::Flow {
                let met_years = details.iter().filter(|d| d.met == Some(true)).count();
                a.actual = details.iter().rev().find_map(|d| d.value);
                a.attainment = Some(met_years as f64 / seen as f64);
                a.attainment_capped = a.attainment;
                a.note = Some(Note::MetYears { met: met_years as u32, seen: seen as u32 });
                a.status = match (all_met, left) {
                    (true, 0) => Status::Achieved,
                    (true, _) => Status::OnTrack,
                    (false, 0) => Status::Missed,
                    (false, _) => Status::OffTrack,
                };
            } else {
                let s_now = sum.unwrap_or(0.0);
                a.actual = Some(s_now);
                a.attainment = ratio(op, s_now, tv);
                a.attainment_capped = a.attainment.map(|r| r.min(1.0));
                let pace = s_now / seen as f64;
                a.projected = Some(s_now + pace * left as f64);
                if left > 0 && !meets(op, s_now, tv) {
                    a.needed_per_year = Some((tv - s_now) / left as f64);
                }
                a.status = if meets(op, s_now, tv) && (op.upward() || left == 0) {
                    Status::Achieved
                } else if left == 0 {
                    Status::Missed
                } else if meets(op, a.projected.unwrap(), tv) {
                    Status::OnTrack
                } else if ratio(op, a.projected.unwrap(), tv).is_some_and(|r| r >= AT_RISK_FLOOR) {
                    Status::AtRisk
                } else {
                    Status::OffTrack
                };
                if !all_met && details.iter().any(|d| d.year <= last && d.value.is_none()) {
                    a.note = Some(Note::MissingCountedZero);
                }
            }
        }
    }
    (a, details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn catalog() -> Catalog {
        Catalog::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/indicators.toml"))).unwrap()
    }

    fn series(pairs: &[(i32, Option<f64>)]) -> Series {
        pairs.iter().copied().collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn target(
        kind: TargetKind,
        indicator: &str,
        op: Option<Op>,
        value: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
        start: i32,
        end: i32,
    ) -> Target {
        Target {
            id: "t".into(),
            indicator: indicator.into(),
            scope: "420802".into(),
            kind,
            op,
            value,
            unit: None,
            min,
            max,
            start,
            end,
            source: "test".into(),
            ..Target::default()
        }
    }

    #[test]
    fn level_target_at_risk_with_needed_growth_and_projection() {
        // 60 → 66 → 72.6 (10% a year); target 100 by 2025, judged in 2022.
        let s = series(&[(2020, Some(60.0)), (2021, Some(66.0)), (2022, Some(72.6))]);
        let t = target(TargetKind::Level, "hitech_ent_count", Some(Op::AtLeast), Some(100.0), None, None, 2020, 2025);
        let (a, _) = evaluate(&t, "420802", &s, &catalog());
        assert_eq!(a.eval_year, Some(2022));
        assert!((a.attainment.unwrap() - 0.726).abs() < 1e-12);
        // (100/72.6)^(1/3) − 1: ln(1.377410)/3 = 0.106740 → e^0.106740 − 1 = 11.2639%
        assert!((a.needed_per_year.unwrap() - 11.263_946_39).abs() < 1e-6, "{:?}", a.needed_per_year);
        // 72.6 · 1.1³ = 96.6306: below 100 but ≥ 90% → at risk.
        assert!((a.projected.unwrap() - 96.6306).abs() < 1e-9);
        assert_eq!(a.status, Status::AtRisk);
    }

    #[test]
    fn lower_is_better_target_uses_target_over_value() {
        let s = series(&[(2021, Some(0.8)), (2022, Some(0.75))]);
        let t = target(TargetKind::Level, "energy_intensity", Some(Op::AtMost), Some(0.6), None, None, 2020, 2022);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert!((a.attainment.unwrap() - 0.8).abs() < 1e-12, "0.6 / 0.75");
        assert_eq!(a.attainment_capped, a.attainment);
        assert_eq!(a.status, Status::Missed, "deadline passed, not reached");
        let s = series(&[(2022, Some(0.5))]);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert_eq!((a.status, a.attainment_capped), (Status::Achieved, Some(1.0)));
        assert!((a.attainment.unwrap() - 1.2).abs() < 1e-12, "uncapped 0.6 / 0.5");
    }

    #[test]
    fn ratio_indicator_needs_points_not_percent() {
        let s = series(&[(2020, Some(1.5)), (2021, Some(1.7))]);
        let t = target(TargetKind::Level, "rd_intensity", Some(Op::AtLeast), Some(2.69), None, None, 2020, 2024);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert!((a.needed_per_year.unwrap() - 0.33).abs() < 1e-12, "(2.69 − 1.7) / 3 points a year");
        assert!((a.projected.unwrap() - 2.3).abs() < 1e-12, "1.7 + 0.2·3");
    }

    #[test]
    fn growth_range_target() {
        // 100 → 115.7625 over 3 years = 5% a year exactly: within 5–8%.
        let s = series(&[(2017, Some(100.0)), (2020, Some(115.7625))]);
        let t = target(TargetKind::Growth, "tech_contract_value", None, None, Some(5.0), Some(8.0), 2017, 2020);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert!((a.actual.unwrap() - 5.0).abs() < 1e-9);
        assert_eq!(a.status, Status::Achieved);
        // 3% a year by 2019: below the range, 2019 < 2020, 3 < 0.9·5 → off track.
        let s = series(&[(2017, Some(100.0)), (2019, Some(106.09))]);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert!((a.actual.unwrap() - 3.0).abs() < 1e-9);
        assert!((a.attainment.unwrap() - 0.6).abs() < 1e-9);
        assert_eq!(a.status, Status::OffTrack);
        // Needed: end at 115.7625 from 106.09 in one year = 9.1173%.
        assert!((a.needed_per_year.unwrap() - (115.7625 / 106.09 - 1.0) * 100.0).abs() < 1e-9);
        // Missing base year.
        let (a, _) = evaluate(&t, "x", &series(&[(2018, Some(1.0)), (2020, Some(2.0))]), &catalog());
        assert_eq!(a.status, Status::NoData);
    }

    #[test]
    fn growth_targets_respect_direction_and_one_sided_bounds() {
        // Energy use must fall at least 3% a year (max = −3): 1.00 → 0.98 over 5 years is −0.4%.
        let s = series(&[(2020, Some(1.0)), (2025, Some(0.98))]);
        let t = target(TargetKind::Growth, "energy_intensity", None, None, None, Some(-3.0), 2020, 2025);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert!((a.actual.unwrap() - (0.98f64.powf(0.2) - 1.0) * 100.0).abs() < 1e-9);
        assert_eq!(a.status, Status::Missed, "2025 is in: the period is over");
        // A range of −8% to −3% and a 10% fall: beyond the range on the better side.
        let s = series(&[(2020, Some(1.0)), (2021, Some(0.9))]);
        let t = target(TargetKind::Growth, "energy_intensity", None, None, Some(-8.0), Some(-3.0), 2020, 2021);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert_eq!(a.status, Status::Achieved, "{:?}", a.note);
        // A rise above 5–8% is fine for a higher-is-better indicator …
        let s = series(&[(2020, Some(100.0)), (2021, Some(120.0))]);
        let t = target(TargetKind::Growth, "tech_contract_value", None, None, Some(5.0), Some(8.0), 2020, 2021);
        assert_eq!(evaluate(&t, "x", &s, &catalog()).0.status, Status::Achieved);
        // … and 4.5% before the end is within a point of the range: at risk.
        let s = series(&[(2020, Some(100.0)), (2021, Some(104.5)), (2022, None)]);
        let t = target(TargetKind::Growth, "tech_contract_value", None, None, Some(5.0), Some(8.0), 2020, 2025);
        assert_eq!(evaluate(&t, "x", &s, &catalog()).0.status, Status::AtRisk);
    }

    #[test]
    fn a_missing_end_year_after_the_deadline_is_no_data_not_a_projection() {
        // Target ≥ 60 by 2020; the county left 2020 blank but the panel runs to 2021.
        let s = series(&[(2019, Some(50.0)), (2020, None), (2021, Some(90.0))]);
        let t = target(TargetKind::Level, "hitech_ent_count", Some(Op::AtLeast), Some(60.0), None, None, 2018, 2020);
        let (a, _) = evaluate(&t, "x", &s, &catalog());
        assert_eq!((a.status, a.note), (Status::NoData, Some(Note::NoEndValue { year: 2020 })));
        // A flow whose last year is blank is not met in that year.
        let s = series(&[(2018, Some(120.0)), (2019, Some(130.0)), (2020, None)]);
        let t = target(TargetKind::Flow, "st_commissioners", Some(Op::AtLeast), Some(100.0), None, None, 2018, 2020);
        assert_eq!(evaluate(&t, "x", &s, &catalog()).0.status, Status::Missed);
    }

    #[test]
    fn flow_target_reports_each_year() {
        let s = series(&[(2018, Some(120.0)), (2019, Some(95.0)), (2020, Some(101.0))]);
        let t = target(TargetKind::Flow, "st_commissioners", Some(Op::AtLeast), Some(100.0), None, None, 2018, 2020);
        let (a, d) = evaluate(&t, "x", &s, &catalog());
        assert_eq!(d.iter().map(|d| d.met).collect::<Vec<_>>(), vec![Some(true), Some(false), Some(true)]);
        assert!((a.attainment.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(a.status, Status::Missed, "2020 was the last year");
        // The same years of a plan to 2022: a year missed with time left is off track.
        let t = target(TargetKind::Flow, "st_commissioners", Some(Op::AtLeast), Some(100.0), None, None, 2018, 2022);
        assert_eq!(evaluate(&t, "x", &s, &catalog()).0.status, Status::OffTrack);
    }

    #[test]
    fn cumulative_target_running_sum_and_missing_data() {
        // 30 talents over 2021–2025; 5 + (missing) + 8 by 2023.
        let s = series(&[(2021, Some(5.0)), (2022, None), (2023, Some(8.0))]);
        let t =
            target(TargetKind::Cumulative, "high_level_talents", Some(Op::AtLeast), Some(30.0), None, None, 2021, 2025);
        let (a, d) = evaluate(&t, "x", &s, &catalog());
        assert_eq!(
            d.iter().map(|d| d.running_sum).collect::<Vec<_>>(),
            vec![Some(5.0), Some(5.0), Some(13.0), None, None]
        );
        assert_eq!(a.actual, Some(13.0));
        assert!((a.needed_per_year.unwrap() - 8.5).abs() < 1e-12, "(30 − 13) / 2");
        // Pace 13/3 a year → 13 + 2·4.33 = 21.67 < 27 → off track.
        assert_eq!(a.status, Status::OffTrack);
        assert_eq!(a.note, Some(Note::MissingCountedZero));
        let (a, _) = evaluate(&t, "x", &Series::new(), &catalog());
        assert_eq!(a.status, Status::NoData);
    }

    #[test]
    fn milestones_are_judged_each_year_and_a_missed_one_puts_the_target_at_risk() {
        // 2.69% by 2023 along 2.3 (2021) and 2.5 (2022); 2021 meets its milestone, 2022 misses it
        // though the trend still reaches 2.69 in 2023.
        let mut t = target(TargetKind::Level, "rd_intensity", Some(Op::AtLeast), Some(2.69), None, None, 2020, 2023);
        t.milestones = [("2021".to_string(), 2.3), ("2022".to_string(), 2.5)].into_iter().collect();
        let s = series(&[(2020, Some(2.0)), (2021, Some(2.4)), (2022, Some(2.45))]);
        let (a, d) = evaluate(&t, "420802", &s, &catalog());
        assert_eq!(
            d.iter().map(|x| (x.year, x.milestone, x.met)).collect::<Vec<_>>(),
            [(2021, Some(2.3), Some(true)), (2022, Some(2.5), Some(false))]
        );
        // Points a year: 2.45 + (2.45 − 2.0)/2 = 2.675 < 2.69 but ≥ 90%: at risk anyway; the note
        // names the trend, or the milestone when the trend alone would be on track.
        assert_eq!(a.status, Status::AtRisk);
        let s = series(&[(2020, Some(2.0)), (2021, Some(2.4)), (2022, Some(2.49))]);
        let (a, _) = evaluate(&t, "420802", &s, &catalog());
        assert_eq!((a.status, a.note.clone()), (Status::AtRisk, Some(Note::MilestoneMissed { year: 2022 })), "{a:?}");
        let s = series(&[(2020, Some(2.0)), (2021, Some(2.4)), (2022, Some(2.6))]);
        assert_eq!(evaluate(&t, "420802", &s, &catalog()).0.status, Status::OnTrack, "every milestone met");
    }
}
