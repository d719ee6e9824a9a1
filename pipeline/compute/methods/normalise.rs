//! Normalisation: every method fitted on a reference set (a year, the pooled panel or a base year) and applied to any values.

use super::*;

/// How one indicator column is put on a common scale. Unless said otherwise the
/// value is first multiplied by its direction (COINr's `Normalise.numeric`), so
/// "min" and "max" are those of the direction-adjusted reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalisation {
    /// COINr `n_minmax`: (x − min)/(max − min)·(u − l) + l.
    MinMax { l: f64, u: f64 },
    /// COINr `n_zscore`: (x − mean)/sd·`sd` + `mean`, with the sample sd (n − 1), or the
    /// population sd (n) when `population` (Istat's MPI and most official indices).
    ZScore { mean: f64, sd: f64, population: bool },
    /// Vector normalisation (Hwang and Yoon's TOPSIS): 100·x/√Σx² over the reference, the
    /// direction multiplied in, so a lower-is-better indicator scores negative (TOPSIS's
    /// distances to the best and worst are the same as with the cost criterion's own rule).
    Vector,
    /// COINr `n_rank`: ascending rank (best = n), ties take the minimum rank.
    Rank,
    /// COINr `n_borda`: rank − 1.
    Borda,
    /// COINr `n_prank`: (rank − 1)/(n − 1), in [0, 1] (not ×100).
    PercentileRank,
    /// COINr `n_fracmax`: x/max; `None` when max is 0 (COINr: ±Inf). Beware, as in COINr:
    /// for direction −1 this is (−x)/(−min) = x/min, which *grows* as the indicator worsens.
    FracMax,
    /// COINr `n_dist2max`: 1 − (max − x)/(max − min), in [0, 1] (not ×100).
    Dist2Max,
    /// COINr `n_dist2targ`: (x − min)/(target − min), the target also multiplied by the
    /// direction (as COINr's `get_iMeta_norm_paras` does); `cap` limits scores to 1.
    Dist2Target { cap: bool },
    /// COINr `n_goalposts` with `trunc2posts = TRUE`: (x − lower)/(upper − lower) clamped
    /// to [0, 1], times `scale`; for direction −1, (upper − x)/(upper − lower). The posts
    /// are in the indicator's own units and no reference data is needed.
    Goalposts { lower: f64, upper: f64, scale: f64 },
    /// 功效系数法: 60 + 40·(x − min)/(max − min).
    Efficacy,
    /// NBS-style index, base = 100: 100·x/m where m is the reference mean (the base-year
    /// cross-section); for direction −1, 100·m/x, so a fall below the base scores above 100.
    BaseIndex,
}

/// A normalisation fitted on a reference set, ready to score any values, so a year can be
/// scored against itself, the pooled panel or a base year.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    method: Normalisation,
    direction: f64,
    /// Statistics of the direction-adjusted reference (original units for `BaseIndex`).
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
    sd: Option<f64>,
    /// √Σx² of the reference.
    norm: f64,
    /// Sorted reference, kept only for the rank-based methods.
    sorted: Vec<f64>,
    target: Option<f64>,
}

/// Fits `method` on `reference` (missing values ignored). `target` is read only by
/// [`Normalisation::Dist2Target`] and is given in the indicator's own units.
pub fn fit(
    reference: &[Option<f64>],
    direction: f64,
    method: &Normalisation,
    target: Option<f64>,
) -> Result<Fitted, MethodError> {
    use Normalisation as N;
    check_direction(direction)?;
    let param = |ok: bool, what| {
        if ok {
            Ok(())
        } else {
            Err(MethodError::InvalidParameter(what))
        }
    };
    match *method {
        N::MinMax { l, u } => param(l.is_finite() && u.is_finite() && l < u, "min-max bounds need l < u")?,
        N::ZScore { mean, sd, .. } => {
            param(mean.is_finite() && sd.is_finite() && sd > 0.0, "z-score needs a finite mean and sd > 0")?
        }
        N::Goalposts { lower, upper, scale } => param(
            lower.is_finite() && upper.is_finite() && scale.is_finite() && lower < upper,
            "goalposts need lower < upper and a finite scale",
        )?,
        N::Dist2Target { .. } if !target.is_some_and(f64::is_finite) => return Err(MethodError::MissingTarget),
        _ => {}
    }
    // BaseIndex works in original units: the direction decides ratio vs inverse ratio.
    let sign = if *method == N::BaseIndex { 1.0 } else { direction };
    let vals: Vec<f64> = present(reference).map(|v| v * sign).collect();
    let n = vals.len() as f64;
    let min = vals.iter().copied().reduce(f64::min);
    let max = vals.iter().copied().reduce(f64::max);
    let mean = (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / n);
    let population = matches!(method, N::ZScore { population: true, .. });
    let denominator = if population { n } else { n - 1.0 };
    let sd = mean
        .filter(|_| vals.len() > 1)
        .map(|m| (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / denominator).sqrt());
    let norm = vals.iter().map(|v| v * v).sum::<f64>().sqrt();
    let sorted = if matches!(method, N::Rank | N::Borda | N::PercentileRank) {
        let mut s = vals;
        s.sort_by(f64::total_cmp);
        s
    } else {
        Vec::new()
    };
    Ok(Fitted {
        method: method.clone(),
        direction,
        min,
        max,
        mean,
        sd,
        norm,
        sorted,
        target: target.map(|t| t * direction),
    })
}

impl Fitted {
    /// Scores `x` against the fitted reference. Min-max type scores of values outside the
    /// reference range fall outside [l, u]; rank-based scores place a value among the
    /// reference values (rank = 1 + number of reference values strictly below it), which
    /// for a value of the reference itself is its "min" rank.
    pub fn apply(&self, x: &[Option<f64>]) -> Vec<Option<f64>> {
        x.iter().map(|v| finite(*v).and_then(|v| self.score(v)).filter(|y| y.is_finite())).collect()
    }

    fn score(&self, raw: f64) -> Option<f64> {
        use Normalisation as N;
        let x = raw * self.direction;
        // The range is None for an all-equal reference: COINr's NaN.
        let range = || {
            let (lo, hi) = (self.min?, self.max?);
            (hi > lo).then_some((lo, hi))
        };
        let below = || self.sorted.partition_point(|r| *r < x) as f64;
        match self.method {
            N::MinMax { l, u } => range().map(|(lo, hi)| (x - lo) / (hi - lo) * (u - l) + l),
            N::Vector => (self.norm > 0.0).then(|| 100.0 * x / self.norm),
            N::ZScore { mean, sd, .. } => {
                let s = self.sd.filter(|s| *s > 0.0)?;
                Some((x - self.mean?) / s * sd + mean)
            }
            N::Rank => (!self.sorted.is_empty()).then(|| below() + 1.0),
            N::Borda => (!self.sorted.is_empty()).then(below),
            N::PercentileRank => (self.sorted.len() > 1).then(|| below() / (self.sorted.len() - 1) as f64),
            N::FracMax => self.max.filter(|m| *m != 0.0).map(|m| x / m),
            N::Dist2Max => range().map(|(lo, hi)| 1.0 - (hi - x) / (hi - lo)),
            N::Dist2Target { cap } => {
                let (lo, t) = (self.min?, self.target?);
                let y = (x - lo) / (t - lo);
                Some(if cap { y.min(1.0) } else { y })
            }
            N::Goalposts { lower, upper, scale } => {
                let y = if self.direction < 0.0 {
                    (upper - raw) / (upper - lower)
                } else {
                    (raw - lower) / (upper - lower)
                };
                Some(y.clamp(0.0, 1.0) * scale)
            }
            N::Efficacy => range().map(|(lo, hi)| 60.0 + 40.0 * (x - lo) / (hi - lo)),
            N::BaseIndex => {
                let m = self.mean.filter(|m| *m > 0.0)?;
                Some(if self.direction < 0.0 { 100.0 * m / raw } else { 100.0 * raw / m })
            }
        }
    }
}

/// Normalises `x` against itself: [`fit`] on `x`, then [`Fitted::apply`] to `x`.
pub fn normalise(
    x: &[Option<f64>],
    direction: f64,
    method: &Normalisation,
    target: Option<f64>,
) -> Result<Vec<Option<f64>>, MethodError> {
    Ok(fit(x, direction, method, target)?.apply(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::methods::testing::*;

    #[test]
    fn min_max_with_direction_and_missing() {
        let x = [Some(2.0), None, Some(4.0), Some(10.0)];
        let y = normalise(&x, 1.0, &Normalisation::MinMax { l: 0.0, u: 100.0 }, None).unwrap();
        all_close(&y, &[Some(0.0), None, Some(25.0), Some(100.0)]);
        // Direction −1: −10 is the minimum, −2 the maximum.
        let y = normalise(&x, -1.0, &Normalisation::MinMax { l: 1.0, u: 100.0 }, None).unwrap();
        all_close(&y, &[Some(100.0), None, Some(1.0 + 99.0 * 6.0 / 8.0), Some(1.0)]);
    }

    #[test]
    fn all_equal_column_scores_none() {
        let x = col(&[3.0, 3.0, 3.0]);
        for m in [Normalisation::MinMax { l: 0.0, u: 100.0 }, Normalisation::Efficacy, Normalisation::Dist2Max] {
            assert_eq!(normalise(&x, 1.0, &m, None).unwrap(), vec![None; 3]);
        }
        let z = Normalisation::ZScore { mean: 0.0, sd: 1.0, population: false };
        assert_eq!(normalise(&x, 1.0, &z, None).unwrap(), vec![None; 3]);
    }

    #[test]
    fn z_score_with_sample_or_population_sd() {
        // mean 5, sample variance ((−3)²+(−1)²+1²+3²)/3 = 20/3.
        let y = normalise(
            &col(&[2.0, 4.0, 6.0, 8.0]),
            1.0,
            &Normalisation::ZScore { mean: 10.0, sd: 1.0, population: false },
            None,
        )
        .unwrap();
        let s = (20.0f64 / 3.0).sqrt();
        all_close(&y, &col(&[10.0 - 3.0 / s, 10.0 - 1.0 / s, 10.0 + 1.0 / s, 10.0 + 3.0 / s]));
        // Population variance 20/4 = 5; as official indices print it, 100 ± 10.
        let z = Normalisation::ZScore { mean: 100.0, sd: 10.0, population: true };
        let y = normalise(&col(&[2.0, 4.0, 6.0, 8.0]), -1.0, &z, None).unwrap();
        let s = 5f64.sqrt();
        all_close(&y, &col(&[100.0 + 30.0 / s, 100.0 + 10.0 / s, 100.0 - 10.0 / s, 100.0 - 30.0 / s]));
    }

    #[test]
    fn vector_normalisation() {
        // ‖(3, 4)‖ = 5; a lower-is-better indicator scores negative.
        all_close(&normalise(&col(&[3.0, 4.0]), 1.0, &Normalisation::Vector, None).unwrap(), &col(&[60.0, 80.0]));
        all_close(&normalise(&col(&[3.0, 4.0]), -1.0, &Normalisation::Vector, None).unwrap(), &col(&[-60.0, -80.0]));
        assert_eq!(normalise(&col(&[0.0, 0.0]), 1.0, &Normalisation::Vector, None).unwrap(), vec![None, None]);
    }

    #[test]
    fn efficacy_and_base_index() {
        let x = col(&[10.0, 20.0, 30.0]);
        all_close(&normalise(&x, 1.0, &Normalisation::Efficacy, None).unwrap(), &col(&[60.0, 80.0, 100.0]));
        // Lower is better: 10 is best → 100.
        all_close(&normalise(&x, -1.0, &Normalisation::Efficacy, None).unwrap(), &col(&[100.0, 80.0, 60.0]));
        // Base year mean 20; a later year scored against it.
        let f = fit(&x, 1.0, &Normalisation::BaseIndex, None).unwrap();
        all_close(&f.apply(&col(&[25.0, 0.0])), &col(&[125.0, 0.0]));
        let f = fit(&x, -1.0, &Normalisation::BaseIndex, None).unwrap();
        all_close(&f.apply(&col(&[10.0, 40.0, 0.0])), &[Some(200.0), Some(50.0), None]);
    }

    #[test]
    fn ranks_and_targets() {
        let x = [Some(5.0), Some(1.0), None, Some(5.0), Some(3.0)];
        let r = normalise(&x, 1.0, &Normalisation::Rank, None).unwrap();
        all_close(&r, &[Some(3.0), Some(1.0), None, Some(3.0), Some(2.0)]);
        let p = normalise(&x, 1.0, &Normalisation::PercentileRank, None).unwrap();
        all_close(&p, &[Some(2.0 / 3.0), Some(0.0), None, Some(2.0 / 3.0), Some(1.0 / 3.0)]);
        assert_eq!(rank_desc_min(&x), vec![Some(1), Some(4), None, Some(1), Some(3)]);
        // Target 9, min 1: (5 − 1)/(9 − 1) = 0.5; direction −1 flips both data and target.
        let t = normalise(&x, 1.0, &Normalisation::Dist2Target { cap: false }, Some(9.0)).unwrap();
        all_close(&t, &[Some(0.5), Some(0.0), None, Some(0.5), Some(0.25)]);
        let t = normalise(&x, -1.0, &Normalisation::Dist2Target { cap: true }, Some(2.0)).unwrap();
        // −x: min −5, target −2: (−1 + 5)/3 capped to 1.
        all_close(&t, &[Some(0.0), Some(1.0), None, Some(0.0), Some(2.0 / 3.0)]);
        assert_eq!(fit(&x, 1.0, &Normalisation::Dist2Target { cap: false }, None), Err(MethodError::MissingTarget));
        let g = Normalisation::Goalposts { lower: 2.0, upper: 4.0, scale: 100.0 };
        all_close(&normalise(&col(&[1.0, 3.0, 5.0]), -1.0, &g, None).unwrap(), &col(&[100.0, 50.0, 0.0]));
    }
}
