//! Aggregation (weighted arithmetic, geometric, harmonic and generalised means, Mazziotta–Pareto, TOPSIS) and ranks.

use super::*;

/// How the columns under one parent are combined, row by row.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregation {
    ArithmeticMean,
    /// Needs positive inputs (COINr errors likewise): normalise to e.g. [1, 100] first.
    GeometricMean,
    /// Needs positive inputs (COINr only rejects zeros; a negative input is meaningless).
    HarmonicMean,
    /// (Σ w·x^p / Σ w)^(1/p), p ≠ 0; needs x ≥ 0, and x > 0 when p < 0.
    GeneralisedMean {
        p: f64,
    },
    /// Mazziotta–Pareto index: M − penalty·S·cv with M and S the weighted mean and population
    /// standard deviation of the row's scores and cv = S/M (so M ∓ S²/M); `penalty` 1 for an
    /// index where higher is better (MPI−, an unbalanced profile scores lower), −1 for MPI+.
    /// With equal weights this is the published MPI; needs M > 0 (use z-scores 100 ± 10).
    MazziottaPareto {
        penalty: f64,
    },
}

/// Weighted mean of `columns` per row. Missing values are skipped and the remaining weights
/// renormalised (COINr's `a_amean`, `a_gmean`, `a_hmean`); a row with nothing present, or
/// only zero weights present, is `None`. COINr's `a_genmean` instead returns NA for any row
/// with a missing value; here it skips them like the other means.
pub fn aggregate(
    columns: &[&[Option<f64>]],
    weights: &[f64],
    method: &Aggregation,
) -> Result<Vec<Option<f64>>, MethodError> {
    let rows = check_weights(columns, weights)?;
    if let Aggregation::GeneralisedMean { p } = *method {
        if !p.is_finite() || p == 0.0 {
            return Err(MethodError::InvalidParameter(
                "generalised mean needs a finite p != 0 (p = 0 is the geometric mean)",
            ));
        }
    }
    if let Aggregation::MazziottaPareto { penalty } = *method {
        return mazziotta_pareto(columns, weights, penalty);
    }
    (0..rows)
        .map(|row| {
            let (mut sw, mut acc) = (0.0, 0.0);
            for (col, &w) in columns.iter().zip(weights) {
                let Some(v) = finite(col[row]) else { continue };
                let (name, ok, term) = match *method {
                    Aggregation::ArithmeticMean => ("arithmetic mean", true, v),
                    Aggregation::GeometricMean => ("geometric mean", v > 0.0, v.ln()),
                    Aggregation::HarmonicMean => ("harmonic mean", v > 0.0, 1.0 / v),
                    Aggregation::GeneralisedMean { p } => {
                        ("generalised mean", v > 0.0 || (v == 0.0 && p > 0.0), v.powf(p))
                    }
                    Aggregation::MazziottaPareto { .. } => unreachable!("aggregated above"),
                };
                if !ok {
                    return Err(MethodError::OutOfDomain { method: name, row, value: v });
                }
                sw += w;
                acc += w * term;
            }
            if sw <= 0.0 {
                return Ok(None);
            }
            let y = match *method {
                Aggregation::ArithmeticMean => acc / sw,
                Aggregation::GeometricMean => (acc / sw).exp(),
                Aggregation::HarmonicMean => sw / acc,
                Aggregation::GeneralisedMean { p } => (acc / sw).powf(1.0 / p),
                Aggregation::MazziottaPareto { .. } => unreachable!("aggregated above"),
            };
            Ok(Some(y).filter(|y| y.is_finite()))
        })
        .collect()
}

fn mazziotta_pareto(
    columns: &[&[Option<f64>]],
    weights: &[f64],
    penalty: f64,
) -> Result<Vec<Option<f64>>, MethodError> {
    if penalty != 1.0 && penalty != -1.0 {
        return Err(MethodError::InvalidParameter("the MPI penalty sign must be 1 or -1"));
    }
    (0..columns[0].len())
        .map(|row| {
            let present: Vec<(f64, f64)> =
                columns.iter().zip(weights).filter_map(|(c, &w)| finite(c[row]).map(|v| (w, v))).collect();
            let sw: f64 = present.iter().map(|p| p.0).sum();
            if sw <= 0.0 {
                return Ok(None);
            }
            let m = present.iter().map(|(w, v)| w * v).sum::<f64>() / sw;
            if m <= 0.0 {
                return Err(MethodError::OutOfDomain {
                    method: "Mazziotta–Pareto index (mean score)", row, value: m
                });
            }
            let var = present.iter().map(|(w, v)| w * (v - m).powi(2)).sum::<f64>() / sw;
            Ok(Some(m - penalty * var / m).filter(|y| y.is_finite()))
        })
        .collect()
}

/// TOPSIS (Hwang and Yoon 1981): each row's relative closeness D⁻/(D⁺ + D⁻) in [0, 1], with
/// D⁺ and D⁻ its Euclidean distances to the ideal and anti-ideal points of the weighted
/// columns (w·x; the best and worst value of each column over the `reference` rows, all
/// rows when `None`). Columns are scores where higher is better. A missing value leaves its
/// column out of that row's two distances; a row with nothing, or at distance 0 from both
/// points, is `None`.
pub fn topsis(
    columns: &[&[Option<f64>]],
    weights: &[f64],
    reference: Option<std::ops::Range<usize>>,
) -> Result<Vec<Option<f64>>, MethodError> {
    let rows = check_weights(columns, weights)?;
    let reference = reference.unwrap_or(0..rows);
    let poles: Vec<Option<(f64, f64)>> = columns
        .iter()
        .zip(weights)
        .map(|(c, w)| {
            let v: Vec<f64> = present(&c[reference.clone()]).map(|x| x * w).collect();
            let best = v.iter().copied().reduce(f64::max)?;
            Some((best, v.iter().copied().fold(best, f64::min)))
        })
        .collect();
    Ok((0..rows)
        .map(|row| {
            let (mut plus, mut minus, mut any) = (0.0, 0.0, false);
            for ((c, w), pole) in columns.iter().zip(weights).zip(&poles) {
                let (Some(v), Some((best, worst))) = (finite(c[row]), pole) else { continue };
                let v = v * w;
                plus += (v - best).powi(2);
                minus += (v - worst).powi(2);
                any = true;
            }
            let (plus, minus) = (plus.sqrt(), minus.sqrt());
            (any && plus + minus > 0.0).then(|| minus / (plus + minus))
        })
        .collect())
}

/// Rank with 1 = highest; ties share the smallest rank (R's `ties.method = "min"` on −x);
/// missing stays missing.
pub fn rank_desc_min(x: &[Option<f64>]) -> Vec<Option<u32>> {
    let mut desc: Vec<f64> = present(x).map(for_ranking).collect();
    desc.sort_by(|a, b| b.total_cmp(a));
    x.iter().map(|v| finite(*v).map(|v| 1 + desc.partition_point(|d| *d > for_ranking(v)) as u32)).collect()
}

pub use crate::text::{for_ranking, RANK_DECIMALS};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_equal_but_for_the_last_bit_share_a_rank() {
        let (a, b) = (33.98_f64, 33.980000000000004_f64);
        assert_ne!(a, b, "the two floats differ");
        assert_eq!(rank_desc_min(&[Some(a), Some(b), Some(50.0), Some(33.97)]), [Some(2), Some(2), Some(1), Some(4)]);
        assert_eq!(
            rank_desc_min(&[Some(1.0 + 1e-8), Some(1.0)]),
            [Some(1), Some(2)],
            "1e-8 apart is a real difference"
        );
    }
    use crate::compute::methods::testing::*;

    #[test]
    fn aggregation_skips_missing() {
        let a = [Some(10.0), None, None];
        let b = [Some(40.0), Some(20.0), None];
        let am = aggregate(&[&a, &b], &[1.0, 3.0], &Aggregation::ArithmeticMean).unwrap();
        all_close(&am, &[Some(32.5), Some(20.0), None]);
        let gm = aggregate(&[&a, &b], &[1.0, 1.0], &Aggregation::GeometricMean).unwrap();
        all_close(&gm, &[Some(20.0), Some(20.0), None]);
        let hm = aggregate(&[&a, &b], &[1.0, 1.0], &Aggregation::HarmonicMean).unwrap();
        all_close(&hm, &[Some(16.0), Some(20.0), None]);
        let p2 = aggregate(&[&a, &b], &[1.0, 1.0], &Aggregation::GeneralisedMean { p: 2.0 }).unwrap();
        all_close(&p2, &[Some(850f64.sqrt()), Some(20.0), None]);
        // MPI− of (90, 110) equally weighted: M = 100, S = 10, cv = 0.1 → 99; MPI+ → 101.
        let (c, d) = ([Some(90.0), Some(100.0), None], [Some(110.0), None, None]);
        let mpi = aggregate(&[&c, &d], &[1.0, 1.0], &Aggregation::MazziottaPareto { penalty: 1.0 }).unwrap();
        all_close(&mpi, &[Some(99.0), Some(100.0), None]);
        let mpi = aggregate(&[&c, &d], &[1.0, 1.0], &Aggregation::MazziottaPareto { penalty: -1.0 }).unwrap();
        all_close(&mpi, &[Some(101.0), Some(100.0), None]);
        let zero = [Some(0.0)];
        assert!(matches!(
            aggregate(&[&zero], &[1.0], &Aggregation::GeometricMean),
            Err(MethodError::OutOfDomain { row: 0, .. })
        ));
    }

    #[test]
    fn topsis_by_hand() {
        // Two columns, weights (0.5, 0.5): ideal (5, 5), anti-ideal (0, 0) after weighting.
        // Row (10, 0) → (5, 0): D⁺ = 5, D⁻ = 5 → 0.5; (10, 10) → 1; (0, 0) → 0; (4, None) →
        // weighted 2 on the first column alone: D⁺ = 3, D⁻ = 2 → 0.4.
        let a = [Some(10.0), Some(10.0), Some(0.0), Some(4.0), None];
        let b = [Some(0.0), Some(10.0), Some(0.0), None, None];
        let c = topsis(&[&a, &b], &[0.5, 0.5], None).unwrap();
        all_close(&c, &[Some(0.5), Some(1.0), Some(0.0), Some(0.4), None]);
        // Poles from the first two rows only: (5, 5) and (5, 0); row 3 (0, 0) is beyond the worst.
        let c = topsis(&[&a, &b], &[0.5, 0.5], Some(0..2)).unwrap();
        assert_eq!(c[0], Some(0.0));
        let d_plus = (25.0f64 + 25.0).sqrt();
        all_close(&c[2..3], &[Some(5.0 / (d_plus + 5.0))]);
    }
}
