//! Growth per county, indicator and year: year-on-year and average annual, in % or percentage points. Pure.
//!
//! Runs over the dense panel rather than as polars joins: per-series arithmetic on contiguous
//! arrays is ten times faster at national scale (BENCHMARKS.md).

use super::index::Panel;
use crate::catalog::{Catalog, Kind};
use crate::codes::GrowthNote;
pub use crate::codes::Span;

/// The growth measures of a panel (year-on-year, then each span), derived from the panel when
/// asked for rather than held: at national scale the million rows of five measures took 100 MB,
/// and every one is read exactly once, when `growth.parquet` is written.
#[derive(Debug, Clone)]
pub struct Growth {
    /// The measures, in column order.
    pub spans: Vec<Span>,
    /// Per indicator of the panel: a ratio (changes in points).
    ratio: Vec<bool>,
    /// Per measure and year index: the base year's index (None when the panel lacks it) and the
    /// years between; None when the measure does not apply that year (up to a `since` base).
    bases: Vec<Vec<Option<Base>>>,
}

/// The base year's index in the panel (None when the panel lacks it), and the years since.
type Base = (Option<usize>, i32);

impl Growth {
    /// Measure `m` of indicator `k` at panel row `row`: the change, or why there is none; None
    /// when the measure does not apply that year. `panel` is the one the measures were made for.
    pub fn at(&self, panel: &Panel, m: usize, k: usize, row: usize) -> Option<Result<f64, GrowthNote>> {
        let n_units = panel.units.len();
        let (yi, u) = (row / n_units, row % n_units);
        let (from, n) = self.bases[m][yi]?;
        let col = &panel.values[k];
        Some(change(from.and_then(|f| col[f * n_units + u]), col[row], n, self.ratio[k]))
    }

    /// `at` as the value and note columns store it.
    pub fn cell(&self, panel: &Panel, m: usize, k: usize, row: usize) -> (Option<f64>, Option<GrowthNote>) {
        match self.at(panel, m, k, row) {
            None => (None, None),
            Some(Ok(v)) => (Some(v), None),
            Some(Err(e)) => (None, Some(e)),
        }
    }
}

/// The change from `a` (n years earlier) to `b`: percent a year (水平法) or points a year for ratios.
pub fn change(a: Option<f64>, b: Option<f64>, n: i32, ratio: bool) -> Result<f64, GrowthNote> {
    let b = b.ok_or(GrowthNote::ValueMissing)?;
    let a = a.ok_or(GrowthNote::NoBase)?;
    if ratio {
        return Ok((b - a) / n as f64);
    }
    if a <= 0.0 || b < 0.0 {
        return Err(GrowthNote::BadBase);
    }
    Ok(((b / a).powf(1.0 / n as f64) - 1.0) * 100.0)
}

/// Year-on-year plus the given spans for every indicator of the panel.
pub fn growth(panel: &Panel, catalog: &Catalog, spans: &[Span]) -> Growth {
    let mut all = vec![Span::Years(1)];
    all.extend(spans.iter().copied().filter(|s| *s != Span::Years(1)));
    let year_idx = |y: i32| panel.years.iter().position(|&x| x == y);
    let bases = all
        .iter()
        .map(|span| {
            panel
                .years
                .iter()
                .map(|&year| match *span {
                    Span::Years(n) => Some((year_idx(year - n), n)),
                    Span::Since(b) if year > b => Some((year_idx(b), year - b)),
                    Span::Since(_) => None,
                })
                .collect()
        })
        .collect();
    let ratio =
        panel.indicators.iter().map(|code| catalog.indicator(code).is_some_and(|i| i.kind == Kind::Ratio)).collect();
    Growth { spans: all, ratio, bases }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::index::Unit;
    use std::path::Path;

    #[test]
    fn yoy_average_and_points_by_hand() {
        let catalog =
            Catalog::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/indicators.toml"))).unwrap();
        let unit = Unit {
            code: "a".into(),
            name: "a".into(),
            prefecture_code: "p".into(),
            prefecture_name: "p".into(),
            province_code: "q".into(),
            province_name: "q".into(),
            peer_group: None,
        };
        // One county, 2020–2023; a count and a ratio; 2022 of the count is 0.
        let panel = Panel {
            units: vec![unit],
            years: vec![2020, 2021, 2022, 2023],
            indicators: vec!["patent_grants".into(), "rd_intensity".into()],
            values: crate::compute::panel::shared(vec![
                vec![Some(100.0), Some(110.0), Some(0.0), Some(121.0)],
                vec![Some(1.0), None, Some(1.6), Some(2.0)],
            ]),
            valid: vec![true; 4],
        };
        let g = growth(&panel, &catalog, &[Span::Years(3), Span::Since(2020)]);
        assert_eq!(g.spans.iter().map(|s| s.column()).collect::<Vec<_>>(), ["yoy", "avg_3y", "since_2020"]);
        let (yoy, avg3, since) = (0, 1, 2);
        let value = |m, k, row| g.cell(&panel, m, k, row).0;
        let note = |m, k, row| g.cell(&panel, m, k, row).1;
        assert!((value(yoy, 0, 1).unwrap() - 10.0).abs() < 1e-12);
        assert_eq!(g.cell(&panel, yoy, 0, 3), (None, Some(GrowthNote::BadBase)), "0 → 121: null, never inf");
        assert_eq!(g.cell(&panel, yoy, 0, 0), (None, Some(GrowthNote::NoBase)));
        // 100 → 121 over 3 years: 1.21^(1/3) − 1 = 6.5602%.
        assert!((value(avg3, 0, 3).unwrap() - (1.21f64.powf(1.0 / 3.0) - 1.0) * 100.0).abs() < 1e-12);
        assert_eq!(value(since, 0, 2), Some(-100.0), "a fall to 0 is −100%");
        // Ratio: points a year. 1.0 → 2.0 over 3 years; 1.6 → 2.0 in one.
        assert!((value(avg3, 1, 3).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert!((value(yoy, 1, 3).unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(note(yoy, 1, 2), Some(GrowthNote::NoBase));
        assert_eq!(note(yoy, 1, 1), Some(GrowthNote::ValueMissing));
        assert_eq!(g.cell(&panel, since, 1, 0), (None, None), "no measure in the base year itself");
        assert_eq!(g.cell(&panel, avg3, 0, 2), (None, Some(GrowthNote::NoBase)), "2019 is not in the panel");
    }

    #[test]
    fn column_names_parse_back_to_their_span() {
        for span in [Span::Years(1), Span::Years(3), Span::Years(10), Span::Since(2015)] {
            assert_eq!(Span::parse(&span.column()), Some(span));
        }
        for other in ["yoy_note", "avg_3y_note", "avg_1y", "avg_xy", "since_", "value", "since_2015_note"] {
            assert_eq!(Span::parse(other), None, "{other}");
        }
    }
}
