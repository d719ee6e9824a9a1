//! Weights: given (normalised), objective from the data (entropy, CRITIC, coefficient of
//! variation) and subjective from pairwise comparisons (AHP).

use super::*;

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
    shares(&spread)
}

/// Entropy weights on the values' own shares (Xu 2004 and most textbook examples): p_i = x_i/Σx
/// over each column's present values, no min-max and no direction, so the values must be
/// non-negative; e and w as in [`entropy_weights`]. A column summing to 0 carries no information.
pub fn entropy_weights_shares(columns: &[&[Option<f64>]]) -> Result<Vec<f64>, MethodError> {
    check_columns(columns, &vec![1.0; columns.len()])?;
    let mut spread = Vec::with_capacity(columns.len());
    for col in columns {
        if let Some((row, value)) =
            col.iter().enumerate().find_map(|(i, x)| finite(*x).filter(|v| *v < 0.0).map(|v| (i, v)))
        {
            return Err(MethodError::OutOfDomain { method: "entropy on shares (negative value)", row, value });
        }
        let v: Vec<f64> = present(col).collect();
        let total: f64 = v.iter().sum();
        if v.len() < 2 || total <= 0.0 {
            spread.push(0.0);
            continue;
        }
        let h: f64 = v.iter().filter(|x| **x > 0.0).map(|x| (x / total) * (x / total).ln()).sum();
        spread.push((1.0 + h / (v.len() as f64).ln()).max(0.0));
    }
    shares(&spread)
}

/// Column `j` as direction-adjusted values min-maxed to [0, 1] over its own present values;
/// `None` where missing, and all `None` when the column has fewer than two distinct values.
fn unit_range(col: &[Option<f64>], dir: f64) -> Vec<Option<f64>> {
    let lo = present(col).map(|x| x * dir).fold(f64::INFINITY, f64::min);
    let hi = present(col).map(|x| x * dir).fold(f64::NEG_INFINITY, f64::max);
    // Also true for an empty column (±∞) and NaN: no spread to scale.
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return vec![None; col.len()];
    }
    col.iter().map(|v| finite(*v).map(|x| (x * dir - lo) / (hi - lo))).collect()
}

fn check_columns(columns: &[&[Option<f64>]], directions: &[f64]) -> Result<(), MethodError> {
    check_shape(columns, directions.len(), "directions vs columns")?;
    directions.iter().try_for_each(|d| check_direction(*d))
}

/// Mean and population standard deviation of the present values.
fn mean_sd(v: impl Iterator<Item = f64>) -> Option<(f64, f64, usize)> {
    let v: Vec<f64> = v.collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    Some((m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt(), v.len()))
}

/// CRITIC (Diakoulaki, Mavrotas and Papayannakis 1995): each column direction-adjusted and
/// min-maxed to [0, 1]; C_j = σ_j·Σ_k (1 − r_jk) with σ_j the population standard deviation
/// and r_jk Pearson's correlation over the rows where both are present; w = C/ΣC. A column
/// that does not vary has σ = 0 and weight 0, and counts as uncorrelated with the others.
pub fn critic_weights(columns: &[&[Option<f64>]], directions: &[f64]) -> Result<Vec<f64>, MethodError> {
    check_columns(columns, directions)?;
    let z: Vec<Vec<Option<f64>>> = columns.iter().zip(directions).map(|(c, d)| unit_range(c, *d)).collect();
    let sd: Vec<f64> = z.iter().map(|c| mean_sd(c.iter().flatten().copied()).map_or(0.0, |(_, s, _)| s)).collect();
    let corr = |a: &[Option<f64>], b: &[Option<f64>]| -> f64 {
        let pairs: Vec<(f64, f64)> = a.iter().zip(b).filter_map(|(x, y)| Some(((*x)?, (*y)?))).collect();
        let (Some((ma, sa, _)), Some((mb, sb, _))) =
            (mean_sd(pairs.iter().map(|p| p.0)), mean_sd(pairs.iter().map(|p| p.1)))
        else {
            return 0.0;
        };
        if sa <= 0.0 || sb <= 0.0 {
            return 0.0;
        }
        pairs.iter().map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / pairs.len() as f64 / (sa * sb)
    };
    let info: Vec<f64> = (0..z.len())
        .map(|j| {
            if sd[j] <= 0.0 {
                return 0.0;
            }
            sd[j] * (0..z.len()).filter(|&k| k != j).map(|k| 1.0 - corr(&z[j], &z[k])).sum::<f64>()
        })
        .collect();
    shares(&info)
}

/// 变异系数法: w_j ∝ s_j / |mean_j|, with the sample standard deviation (n − 1) of the
/// column's present values, as the method is taught on the indicators' own values (a ratio of
/// spread to level, so it is not invariant to shifting a column: give it raw values, not
/// min-max scores). A column with fewer than two values has weight 0; a zero mean is refused.
pub fn cv_weights(columns: &[&[Option<f64>]]) -> Result<Vec<f64>, MethodError> {
    check_columns(columns, &vec![1.0; columns.len()])?;
    let mut cv = Vec::with_capacity(columns.len());
    for col in columns {
        let v: Vec<f64> = present(col).collect();
        if v.len() < 2 {
            cv.push(0.0);
            continue;
        }
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        if s == 0.0 {
            // No spread (an all-zero column too): no information, weight 0.
            cv.push(0.0);
            continue;
        }
        if m == 0.0 {
            return Err(MethodError::OutOfDomain { method: "coefficient of variation (mean 0)", row: 0, value: m });
        }
        cv.push(s / m.abs());
    }
    shares(&cv)
}

/// Saaty's random consistency index for n = 1 … 15 (Saaty 1980; 11–15 as tabulated in
/// Saaty 2012, *Decision Making for Leaders*).
pub const SAATY_RI: [f64; 15] =
    [0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59];

/// The priorities of a pairwise comparison matrix and its consistency.
#[derive(Debug, Clone, PartialEq)]
pub struct Ahp {
    /// The principal right eigenvector, summing to 1.
    pub weights: Vec<f64>,
    pub lambda_max: f64,
    /// CI = (λmax − n)/(n − 1).
    pub ci: f64,
    /// Saaty's random index for n.
    pub ri: f64,
    /// CR = CI/RI; 0 for n ≤ 2, where every reciprocal matrix is consistent.
    pub cr: f64,
}

/// Why a pairwise comparison matrix is refused: the cell (0-based) and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixProblem {
    pub row: usize,
    pub col: usize,
    pub what: &'static str,
}

/// AHP (层次分析法): the principal eigenvector of a positive reciprocal matrix (power
/// iteration, which converges for positive matrices by Perron–Frobenius), λmax = Σ(Aw)_i for
/// w summing to 1, CI and CR. The matrix must be square with 1 on the diagonal and
/// a_ji = 1/a_ij within 5% (so 0.33 may stand for 1/3).
pub fn ahp(matrix: &[Vec<f64>]) -> Result<Ahp, MatrixProblem> {
    let n = matrix.len();
    let bad = |row, col, what| Err(MatrixProblem { row, col, what });
    if n == 0 {
        return bad(0, 0, "the matrix is empty");
    }
    if n > SAATY_RI.len() {
        return bad(0, 0, "more than 15 elements: Saaty's random index is not tabulated");
    }
    if let Some((i, r)) = matrix.iter().enumerate().find(|(_, r)| r.len() != n) {
        return bad(i, r.len().min(n), "the matrix is not square");
    }
    for (i, r) in matrix.iter().enumerate() {
        for (j, &a) in r.iter().enumerate() {
            if !(a.is_finite() && a > 0.0) {
                return bad(i, j, "every entry must be a positive number");
            }
            if i == j && (a - 1.0).abs() > 1e-12 {
                return bad(i, j, "the diagonal must be 1");
            }
            if j > i && (a * matrix[j][i] - 1.0).abs() > 0.05 {
                return bad(j, i, "not the reciprocal of its mirror entry");
            }
        }
    }
    // Start from the normalised row geometric means (already close), then iterate.
    let mut w: Vec<f64> =
        matrix.iter().map(|r| r.iter().map(|a| a.ln()).sum::<f64>() / n as f64).map(f64::exp).collect();
    let s: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= s);
    let mut lambda = n as f64;
    for _ in 0..10_000 {
        let aw: Vec<f64> = matrix.iter().map(|r| r.iter().zip(&w).map(|(a, x)| a * x).sum()).collect();
        lambda = aw.iter().sum();
        let next: Vec<f64> = aw.iter().map(|x| x / lambda).collect();
        let change = next.iter().zip(&w).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        w = next;
        if change < 1e-15 {
            break;
        }
    }
    let ri = SAATY_RI[n - 1];
    let ci = if n > 1 { ((lambda - n as f64) / (n as f64 - 1.0)).max(0.0) } else { 0.0 };
    let cr = if ri > 0.0 { ci / ri } else { 0.0 };
    Ok(Ahp { weights: w, lambda_max: lambda, ci, ri, cr })
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn a_consistent_matrix_gives_its_ratios_and_cr_zero() {
        // w = (4, 2, 1)/7 written as ratios a_ij = w_i/w_j: λmax = n, CI = CR = 0.
        let m = vec![vec![1.0, 2.0, 4.0], vec![0.5, 1.0, 2.0], vec![0.25, 0.5, 1.0]];
        let a = ahp(&m).unwrap();
        for (got, want) in a.weights.iter().zip([4.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0]) {
            assert!(close(*got, want), "{got} vs {want}");
        }
        assert!((a.lambda_max - 3.0).abs() < 1e-12 && a.cr.abs() < 1e-12);
        assert_eq!(a.ri, 0.58);
    }

    #[test]
    fn an_inconsistent_three_by_three_by_hand() {
        // a ≻ b 2, b ≻ c 2, but a ≻ c only 1. For a 3×3 reciprocal matrix
        // det(A − λI) = −λ³ + 3λ² + k + 1/k − 2 with k = a12·a23/a13 = 4, so λmax³ − 3λmax² = 2.25.
        let m = vec![vec![1.0, 2.0, 1.0], vec![0.5, 1.0, 2.0], vec![1.0, 0.5, 1.0]];
        let a = ahp(&m).unwrap();
        let l = a.lambda_max;
        assert!((l.powi(3) - 3.0 * l * l - 2.25).abs() < 1e-9, "λ = {l}");
        assert!((a.cr - (l - 3.0) / 2.0 / 0.58).abs() < 1e-12);
        assert!(close(a.weights.iter().sum(), 1.0));
    }

    #[test]
    fn ahp_refuses_what_is_not_a_comparison_matrix() {
        assert_eq!(ahp(&[vec![1.0, 3.0], vec![3.0, 1.0]]).unwrap_err().what, "not the reciprocal of its mirror entry");
        assert_eq!(ahp(&[vec![2.0]]).unwrap_err().what, "the diagonal must be 1");
        assert_eq!(ahp(&[vec![1.0, 0.0], vec![1.0, 1.0]]).unwrap_err().what, "every entry must be a positive number");
        assert_eq!(ahp(&[vec![1.0, 3.0]]).unwrap_err().what, "the matrix is not square");
        assert_eq!(
            ahp(&[vec![1.0, 3.0], vec![1.0]]).unwrap_err().what,
            "the matrix is not square",
            "a short row, not a panic"
        );
        // 0.33 for 1/3 is accepted.
        assert!(ahp(&[vec![1.0, 3.0], vec![0.33, 1.0]]).is_ok());
    }

    #[test]
    fn critic_by_hand() {
        // a = (0, 1, 2) and b = (2, 1, 0) are perfectly anti-correlated (r = −1), c = (0, 0, 3)
        // correlates with a at r = √3/2 and with b at −√3/2. After min-max: σ_a = σ_b = √(1/6),
        // σ_c = √2/3. C_a = σ_a(2 + 1 − √3/2), C_b = σ_b(2 + 1 + √3/2), C_c = σ_c(2).
        let (a, b, c) = (col(&[0.0, 1.0, 2.0]), col(&[2.0, 1.0, 0.0]), col(&[0.0, 0.0, 3.0]));
        let w = critic_weights(&[&a, &b, &c], &[1.0, 1.0, 1.0]).unwrap();
        let h = 3f64.sqrt() / 2.0;
        let s = (1.0f64 / 6.0).sqrt();
        let cc = [s * (3.0 - h), s * (3.0 + h), 2f64.sqrt() / 3.0 * 2.0];
        let t: f64 = cc.iter().sum();
        for (g, want) in w.iter().zip(cc) {
            assert!(close(*g, want / t), "{w:?}");
        }
        // Direction −1 on b makes it a copy of a: both lose their contrast with each other.
        let w2 = critic_weights(&[&a, &b, &c], &[1.0, -1.0, 1.0]).unwrap();
        assert!(close(w2[0], w2[1]) && w2[0] < w[0]);
    }

    #[test]
    fn coefficient_of_variation_by_hand() {
        // a: mean 2, s = 1 → 0.5; b: mean 20, s = 10 → 0.5; c: mean 10, s = 0 → 0.
        let (a, b, c) = (col(&[1.0, 2.0, 3.0]), col(&[10.0, 20.0, 30.0]), col(&[10.0, 10.0, 10.0]));
        assert_eq!(cv_weights(&[&a, &b, &c]).unwrap(), vec![0.5, 0.5, 0.0]);
        // A column of zeros does not vary: weight 0, not a refusal.
        let zeros = col(&[0.0, 0.0, 0.0]);
        assert_eq!(cv_weights(&[&a, &zeros]).unwrap(), vec![1.0, 0.0]);
        let z = col(&[-1.0, 1.0]);
        assert!(matches!(cv_weights(&[&z]), Err(MethodError::OutOfDomain { .. })));
    }
}
