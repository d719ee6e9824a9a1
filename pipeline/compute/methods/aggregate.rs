//! Aggregation (weighted arithmetic, geometric, harmonic and generalised means), weights and ranks.

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
    let first = columns.first().ok_or(MethodError::NoColumns)?;
    if weights.len() != columns.len() {
        return Err(MethodError::LengthMismatch {
            what: "weights vs columns",
            expected: columns.len(),
            found: weights.len(),
        });
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(MethodError::InvalidWeights);
    }
    if let Some(c) = columns.iter().find(|c| c.len() != first.len()) {
        return Err(MethodError::LengthMismatch { what: "aggregation column", expected: first.len(), found: c.len() });
    }
    if let Aggregation::GeneralisedMean { p } = *method {
        if !p.is_finite() || p == 0.0 {
            return Err(MethodError::InvalidParameter(
                "generalised mean needs a finite p != 0 (p = 0 is the geometric mean)",
            ));
        }
    }
    (0..first.len())
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
            };
            Ok(Some(y).filter(|y| y.is_finite()))
        })
        .collect()
}

/// Scales weights to sum to 1.
pub fn normalise_weights(w: &[f64]) -> Result<Vec<f64>, MethodError> {
    let sum: f64 = w.iter().sum();
    if w.iter().any(|v| !v.is_finite() || *v < 0.0) || !(sum > 0.0 && sum.is_finite()) {
        return Err(MethodError::InvalidWeights);
    }
    Ok(w.iter().map(|v| v / sum).collect())
}

/// 熵权法 entropy weights, one per column. Each column is multiplied by its direction and
/// min-maxed to [0, 1] over its own present values (missing values are dropped column by
/// column, so n is each column's count); p_i = x_i/Σx, e = −Σ p ln p / ln n with
/// 0·ln 0 = 0, w = (1 − e)/Σ(1 − e). A column with fewer than two values or all values
/// equal carries no information: e = 1, weight 0. If no column varies the weights are
/// undefined and this is an error, not a silent fallback to equal weights.
pub fn entropy_weights(columns: &[&[Option<f64>]], directions: &[f64]) -> Result<Vec<f64>, MethodError> {
    if columns.is_empty() {
        return Err(MethodError::NoColumns);
    }
    if directions.len() != columns.len() {
        return Err(MethodError::LengthMismatch {
            what: "directions vs columns",
            expected: columns.len(),
            found: directions.len(),
        });
    }
    let mut spread = Vec::with_capacity(columns.len());
    for (col, &dir) in columns.iter().zip(directions) {
        check_direction(dir)?;
        let v: Vec<f64> = present(col).map(|x| x * dir).collect();
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if v.len() < 2 || hi <= lo {
            spread.push(0.0);
            continue;
        }
        let z: Vec<f64> = v.iter().map(|x| (x - lo) / (hi - lo)).collect();
        let total: f64 = z.iter().sum();
        let h: f64 = z
            .iter()
            .filter(|z| **z > 0.0)
            .map(|z| {
                let p = z / total;
                p * p.ln()
            })
            .sum();
        let e = -h / (v.len() as f64).ln();
        spread.push((1.0 - e).max(0.0));
    }
    let total: f64 = spread.iter().sum();
    if total <= 0.0 {
        return Err(MethodError::NoInformation);
    }
    Ok(spread.iter().map(|d| d / total).collect())
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
    fn entropy_by_hand() {
        // Column a = (1, 2, 3) → z = (0, .5, 1), p = (0, 1/3, 2/3),
        //   e_a = −(1/3·ln 1/3 + 2/3·ln 2/3)/ln 3 = 0.579380…
        // Column b = (10, 10, 40) with direction −1 → −b = (−10, −10, −40) → z = (1, 1, 0),
        //   p = (.5, .5, 0), e_b = ln 2/ln 3 = 0.630930…
        // w_a = (1 − e_a)/((1 − e_a) + (1 − e_b)) = 0.420620/(0.420620 + 0.369070) = 0.532639…
        let a = col(&[1.0, 2.0, 3.0]);
        let b = col(&[10.0, 10.0, 40.0]);
        let w = entropy_weights(&[&a, &b], &[1.0, -1.0]).unwrap();
        let ea = -((1.0f64 / 3.0) * (1.0f64 / 3.0).ln() + (2.0f64 / 3.0) * (2.0f64 / 3.0).ln()) / 3f64.ln();
        let eb = 2f64.ln() / 3f64.ln();
        assert!(close(w[0], (1.0 - ea) / (2.0 - ea - eb)));
        assert!((w[0] - 0.532_639).abs() < 1e-6);
        assert!(close(w[0] + w[1], 1.0));
    }

    #[test]
    fn entropy_zero_and_constant_columns() {
        // A zero after min-max is fine: 0·ln 0 = 0. Column (0, 0, 5): p = (0, 0, 1), e = 0.
        let z = col(&[0.0, 0.0, 5.0]);
        let c = col(&[7.0, 7.0, 7.0]);
        let a = col(&[1.0, 2.0, 3.0]);
        let w = entropy_weights(&[&z, &c, &a], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(w[1], 0.0);
        assert!(w[0] > w[2] && close(w.iter().sum(), 1.0));
        assert_eq!(entropy_weights(&[&c], &[1.0]), Err(MethodError::NoInformation));
    }

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
        let zero = [Some(0.0)];
        assert!(matches!(
            aggregate(&[&zero], &[1.0], &Aggregation::GeometricMean),
            Err(MethodError::OutOfDomain { row: 0, .. })
        ));
    }
}
