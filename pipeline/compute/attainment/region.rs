//! Targets of a region as a whole: its counties' total or average against a level, growth,
//! flow or cumulative target, or the share of its counties that meet a condition
//! (每个县(市)建设一个科技园区 = 100% of counties with at least one).

use super::{evaluate_series, meets, Series, YearDetail};
use crate::catalog::Kind;
use crate::codes::Note;
use crate::results::RegionalAttainmentRow;
use crate::targets::{Aggregate, Op, Target, TargetKind};

/// The region's counties: one yearly series each (values of the indicator, by year).
pub fn evaluate(
    t: &Target,
    region: &str,
    counties: &[Series],
    kind: Kind,
    direction: f64,
) -> (RegionalAttainmentRow, Vec<YearDetail>) {
    let years: Vec<i32> = counties.first().map(|s| s.keys().copied().collect()).unwrap_or_default();
    let n = counties.len() as u32;
    let reported = |y: i32| counties.iter().filter(|s| s.get(&y).copied().flatten().is_some()).count() as u32;
    let (series, judged, series_kind): (Series, Target, Kind) = if t.kind == TargetKind::Share {
        let (op, v) = (t.op.unwrap_or(Op::AtLeast), t.value.unwrap_or(f64::NAN));
        // Counties without a value count as not meeting it: every county is to meet it.
        let share = |y: i32| {
            let meeting =
                counties.iter().filter(|s| s.get(&y).copied().flatten().is_some_and(|x| meets(op, x, v))).count();
            (reported(y) > 0).then(|| 100.0 * meeting as f64 / n.max(1) as f64)
        };
        let level = Target { kind: TargetKind::Level, op: Some(Op::AtLeast), value: t.share, ..t.clone() };
        (years.iter().map(|&y| (y, share(y))).collect(), level, Kind::Ratio)
    } else {
        let total = |y: i32| -> Option<f64> {
            let values: Vec<f64> = counties.iter().filter_map(|s| s.get(&y).copied().flatten()).collect();
            match t.region.unwrap_or(Aggregate::Sum) {
                Aggregate::Sum => (values.len() == counties.len() && !values.is_empty()).then(|| values.iter().sum()),
                Aggregate::Mean => (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64),
            }
        };
        (years.iter().map(|&y| (y, total(y))).collect(), t.clone(), kind)
    };
    let (a, details) = evaluate_series(&judged, region, &series, series_kind, direction);
    let meeting = |y: i32| {
        let (op, v) = (t.op.unwrap_or(Op::AtLeast), t.value.unwrap_or(f64::NAN));
        counties.iter().filter(|s| s.get(&y).copied().flatten().is_some_and(|x| meets(op, x, v))).count() as u32
    };
    let mut note = a.note;
    if let Some(y) = a.eval_year.filter(|&y| reported(y) < n) {
        if note.is_none() {
            note = Some(Note::NotAllReported { reported: reported(y), counties: n });
        }
    }
    let row = RegionalAttainmentRow {
        target_id: t.id.clone(),
        region_code: region.to_string(),
        indicator: t.indicator.clone(),
        kind: t.kind,
        measure: if t.kind == TargetKind::Share { None } else { Some(t.region.unwrap_or(Aggregate::Sum)) },
        counties: n,
        counties_meeting: (t.kind == TargetKind::Share).then(|| a.eval_year.map_or(0, meeting)),
        eval_year: a.eval_year,
        actual: a.actual,
        target: a.target,
        attainment: a.attainment,
        attainment_capped: a.attainment_capped,
        needed_per_year: a.needed_per_year,
        projected: a.projected,
        base_value: series.get(&t.start).copied().flatten(),
        baseline: t.baseline,
        status: a.status,
        note,
    };
    (row, details)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Status;

    fn series(values: &[(i32, Option<f64>)]) -> Series {
        values.iter().copied().collect()
    }

    #[test]
    fn the_share_of_counties_meeting_a_condition() {
        // 每个县(市)建设一个科技园区 by 2020: 2 of 3 counties have one, 1 has none.
        let counties = [
            series(&[(2019, Some(1.0)), (2020, Some(1.0))]),
            series(&[(2019, Some(0.0)), (2020, Some(2.0))]),
            series(&[(2019, Some(0.0)), (2020, Some(0.0))]),
        ];
        let t = Target {
            id: "parks".into(),
            indicator: "science_park_count".into(),
            scope: "620000".into(),
            kind: TargetKind::Share,
            op: Some(Op::AtLeast),
            value: Some(1.0),
            share: Some(100.0),
            start: 2019,
            end: 2020,
            ..Target::default()
        };
        let (r, _) = evaluate(&t, "620000", &counties, Kind::Count, 1.0);
        assert_eq!((r.counties, r.counties_meeting, r.eval_year), (3, Some(2), Some(2020)));
        assert!((r.actual.unwrap() - 200.0 / 3.0).abs() < 1e-12, "{:?}", r.actual);
        assert!((r.base_value.unwrap() - 100.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.status, Status::Missed, "the deadline has passed with one county short");
    }

    #[test]
    fn a_regional_total_grows_and_needs_every_county() {
        // The region's total 100 → 121 over 2017–2019: 10% a year, within 5%–8%? No: above it.
        let counties = [
            series(&[(2017, Some(60.0)), (2018, Some(66.0)), (2019, Some(72.6))]),
            series(&[(2017, Some(40.0)), (2018, Some(44.0)), (2019, Some(48.4))]),
        ];
        let t = Target {
            id: "trade".into(),
            indicator: "tech_contract_value".into(),
            scope: "620000".into(),
            kind: TargetKind::Growth,
            min: Some(5.0),
            max: Some(12.0),
            region: Some(Aggregate::Sum),
            start: 2017,
            end: 2019,
            baseline: Some(95.0),
            ..Target::default()
        };
        let (r, _) = evaluate(&t, "620000", &counties, Kind::Amount, 1.0);
        assert!((r.actual.unwrap() - 10.0).abs() < 1e-9, "{:?}", r.actual);
        assert_eq!((r.status, r.base_value, r.baseline), (Status::Achieved, Some(100.0), Some(95.0)));
        // A county without 2019: no total, no judgement of that year.
        let mut gap = counties.clone();
        gap[1].insert(2019, None);
        let (r, _) = evaluate(&t, "620000", &gap, Kind::Amount, 1.0);
        assert_eq!(r.status, Status::NoData, "{r:?}");
        let mean = Target { region: Some(Aggregate::Mean), ..t };
        let (r, _) = evaluate(&mean, "620000", &counties, Kind::Amount, 1.0);
        assert_eq!(r.base_value, Some(50.0));
    }
}
