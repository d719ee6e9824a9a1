//! The index's numerical kernels: normalisation, outlier treatment, imputation, aggregation,
//! entropy weights and ranks, as pure functions following COINr 1.1.14's conventions.
//!
//! Data are columns of `Option<f64>`: `None` is missing, and a non-finite input is read as
//! missing too, so no NaN or infinity ever leaves this module. Two kinds of trouble are kept
//! apart: a parameter the caller got wrong (a direction other than ±1, an empty goalpost
//! range, a missing target, a negative weight) is a [`MethodError`]; a degenerate *data*
//! case (an all-equal column, a zero standard deviation, a target equal to the minimum) gives
//! `None` scores, which is what COINr's NaN amounts to, since its aggregation skips NaN like NA.

use std::fmt;

/// Why a method refused its input.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodError {
    /// A direction other than 1 or −1.
    InvalidDirection(f64),
    /// A method parameter out of its domain; the text names it.
    InvalidParameter(&'static str),
    /// Distance to target was asked for without a target.
    MissingTarget,
    /// Two inputs that must line up do not.
    LengthMismatch { what: &'static str, expected: usize, found: usize },
    /// Years for interpolation are not strictly increasing.
    YearsNotIncreasing,
    /// Weights are empty, negative, non-finite, or sum to zero.
    InvalidWeights,
    /// Aggregation got no columns.
    NoColumns,
    /// A mean needing positive (or non-negative) inputs met one outside its domain.
    OutOfDomain { method: &'static str, row: usize, value: f64 },
    /// No column varies, so entropy weights are undefined.
    NoInformation,
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidDirection(d) => write!(f, "direction must be 1 or -1, got {d}"),
            Self::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
            Self::MissingTarget => write!(f, "distance to target needs a target"),
            Self::LengthMismatch { what, expected, found } => {
                write!(f, "{what}: expected length {expected}, found {found}")
            }
            Self::YearsNotIncreasing => write!(f, "years must be strictly increasing"),
            Self::InvalidWeights => {
                write!(f, "weights must be finite, non-negative and not all zero")
            }
            Self::NoColumns => write!(f, "nothing to aggregate: no columns"),
            Self::OutOfDomain { method, row, value } => {
                write!(f, "{method} is undefined for value {value} in row {row}")
            }
            Self::NoInformation => {
                write!(f, "no column varies: entropy weights are undefined")
            }
        }
    }
}

impl std::error::Error for MethodError {}

/// Finite values only: NaN and infinities count as missing.
fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn present(x: &[Option<f64>]) -> impl Iterator<Item = f64> + '_ {
    x.iter().filter_map(|v| finite(*v))
}

fn check_direction(direction: f64) -> Result<(), MethodError> {
    if direction == 1.0 || direction == -1.0 {
        Ok(())
    } else {
        Err(MethodError::InvalidDirection(direction))
    }
}

// ---------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------

/// How one indicator column is put on a common scale. Unless said otherwise the
/// value is first multiplied by its direction (COINr's `Normalise.numeric`), so
/// "min" and "max" are those of the direction-adjusted reference.
#[derive(Debug, Clone, PartialEq)]
pub enum Normalisation {
    /// COINr `n_minmax`: (x − min)/(max − min)·(u − l) + l.
    MinMax { l: f64, u: f64 },
    /// COINr `n_zscore`: (x − mean)/sd·`sd` + `mean`, with the sample sd (n − 1).
    ZScore { mean: f64, sd: f64 },
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
        N::ZScore { mean, sd } => {
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
    let sd =
        mean.filter(|_| vals.len() > 1).map(|m| (vals.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    let sorted = if matches!(method, N::Rank | N::Borda | N::PercentileRank) {
        let mut s = vals;
        s.sort_by(f64::total_cmp);
        s
    } else {
        Vec::new()
    };
    Ok(Fitted { method: method.clone(), direction, min, max, mean, sd, sorted, target: target.map(|t| t * direction) })
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
            N::ZScore { mean, sd } => {
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

// ---------------------------------------------------------------------------
// Distribution shape and outlier treatment
// ---------------------------------------------------------------------------

/// Sample-adjusted skewness (Excel `SKEW`, COINr `skew`, e1071 type 2); missing values are
/// ignored. `None` with fewer than 3 values or no spread.
pub fn skew(x: &[Option<f64>]) -> Option<f64> {
    let (n, d) = centred(x)?;
    if n < 3.0 {
        return None;
    }
    let s2: f64 = d.iter().map(|v| v * v).sum();
    let s3: f64 = d.iter().map(|v| v * v * v).sum();
    let g = n.sqrt() * s3 / s2.powf(1.5) * (n * (n - 1.0)).sqrt() / (n - 2.0);
    g.is_finite().then_some(g)
}

/// Sample-adjusted excess kurtosis (Excel `KURT`, COINr `kurt`, e1071 type 2); missing
/// values are ignored. `None` with fewer than 4 values or no spread.
pub fn kurtosis(x: &[Option<f64>]) -> Option<f64> {
    let (n, d) = centred(x)?;
    if n < 4.0 {
        return None;
    }
    let s2: f64 = d.iter().map(|v| v * v).sum();
    let s4: f64 = d.iter().map(|v| v.powi(4)).sum();
    let r = n * s4 / (s2 * s2);
    let k = ((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0));
    k.is_finite().then_some(k)
}

/// Count and deviations from the mean; `None` without spread, where rounding in the mean
/// would otherwise turn a constant column into a finite but meaningless skew.
fn centred(x: &[Option<f64>]) -> Option<(f64, Vec<f64>)> {
    let v: Vec<f64> = present(x).collect();
    let (lo, hi) = (v.iter().copied().reduce(f64::min)?, v.iter().copied().reduce(f64::max)?);
    if lo == hi {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    Some((n, v.iter().map(|x| x - m).collect()))
}

/// What to do with a column that winsorisation could not bring within the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFallback {
    /// Keep the (still failing) winsorised column.
    Off,
    /// COINr's default `log_CT`: ln(x − min + 0.01·(max − min)) whatever the skew's sign.
    Shifted,
    /// COINr's `log_CT_plus`: as `Shifted` for positive skew, −ln(max + 0.01·(max − min) − x)
    /// for negative skew, so a long low tail is pulled in rather than stretched.
    Mirrored,
}

/// Parameters of [`treat_outliers`]; the default is COINr's `Treat` default.
#[derive(Debug, Clone, PartialEq)]
pub struct TreatParams {
    /// A column fails when |skew| ≥ this …
    pub skew_thresh: f64,
    /// … and kurtosis ≥ this.
    pub kurt_thresh: f64,
    /// Winsorisation stops once this many points (COINr's `nwin` count) are treated.
    pub winmax: usize,
    pub log_fallback: LogFallback,
}

impl Default for TreatParams {
    fn default() -> Self {
        Self { skew_thresh: 2.0, kurt_thresh: 3.5, winmax: 5, log_fallback: LogFallback::Shifted }
    }
}

/// What [`treat_outliers`] did to one column (COINr's `Dets_Table` row).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TreatDetail {
    /// False only when both statistics exist and both exceed their thresholds; a column
    /// whose skew or kurtosis is undefined (too few values, no spread) is left alone.
    pub pass_before: bool,
    pub skew_before: Option<f64>,
    pub kurt_before: Option<f64>,
    /// COINr's `winsorise.nwin`: the size of the last tie group moved at the high end plus
    /// the one at the low end, which counts every moved point, ties included.
    pub winsorised: usize,
    /// Indices moved down to the next-highest value.
    pub winsorised_high: Vec<usize>,
    /// Indices moved up to the next-lowest value.
    pub winsorised_low: Vec<usize>,
    /// Winsorisation was reverted and the original column log-transformed; the winsorised
    /// fields above still record the attempt, as COINr's table does.
    pub log_transformed: bool,
    /// The check on the returned column; `None` when no treatment was needed or possible.
    pub pass_after: Option<bool>,
    pub skew_after: Option<f64>,
    pub kurt_after: Option<f64>,
}

/// COINr's `Treat` for one column: a failing column (|skew| ≥ `skew_thresh` and
/// kurtosis ≥ `kurt_thresh`) is winsorised one tie group at a time on the side its current
/// skew points to (skew ≥ 0: the maximum goes down to the next-highest value), re-checked
/// after each step, until it passes or `winmax` points are moved; if it still fails, the
/// original column goes to the log fallback. Should skew or kurtosis become undefined on
/// the way (COINr errors there and keeps the column), the column is returned untreated
/// with `pass_after = None`.
pub fn treat_outliers(x: &[Option<f64>], p: &TreatParams) -> (Vec<Option<f64>>, TreatDetail) {
    let x: Vec<Option<f64>> = x.iter().map(|v| finite(*v)).collect();
    let fails = |c: &[Option<f64>]| -> Option<bool> {
        match (skew(c), kurtosis(c)) {
            (Some(s), Some(k)) => Some(s.abs() >= p.skew_thresh && k >= p.kurt_thresh),
            _ => None,
        }
    };
    let mut d = TreatDetail { skew_before: skew(&x), kurt_before: kurtosis(&x), ..TreatDetail::default() };
    d.pass_before = fails(&x) != Some(true);
    if d.pass_before {
        return (x, d);
    }
    let untreated = |x: Vec<Option<f64>>, mut d: TreatDetail| {
        d.pass_after = None;
        (x, d)
    };

    let mut w = x.clone();
    let mut failing = true;
    while failing && d.winsorised < p.winmax {
        let Some(s) = skew(&w) else {
            return untreated(x, d);
        };
        let high = s >= 0.0;
        let Some(moved) = winsorise_step(&mut w, high) else {
            return untreated(x, d);
        };
        if high {
            d.winsorised_high = moved;
        } else {
            d.winsorised_low = moved;
        }
        d.winsorised = d.winsorised_high.len() + d.winsorised_low.len();
        match fails(&w) {
            Some(f) => failing = f,
            None => return untreated(x, d),
        }
    }

    let out = if failing && p.log_fallback != LogFallback::Off {
        d.log_transformed = true;
        log_transform(&x, p.log_fallback == LogFallback::Mirrored)
    } else {
        w
    };
    match fails(&out) {
        Some(f) => {
            d.pass_after = Some(!f);
            d.skew_after = skew(&out);
            d.kurt_after = kurtosis(&out);
            (out, d)
        }
        None => untreated(x, d),
    }
}

/// Moves every point at the current extreme to the nearest other value; returns their
/// indices, or `None` when there is no other value.
fn winsorise_step(w: &mut [Option<f64>], high: bool) -> Option<Vec<usize>> {
    let pick = |a: f64, b: f64| if high { a.max(b) } else { a.min(b) };
    let ext = w.iter().flatten().copied().reduce(pick)?;
    let idx: Vec<usize> = (0..w.len()).filter(|&i| w[i] == Some(ext)).collect();
    let next = w.iter().flatten().copied().filter(|v| *v != ext).reduce(pick)?;
    for &i in &idx {
        w[i] = Some(next);
    }
    Some(idx)
}

fn log_transform(x: &[Option<f64>], mirror_negative: bool) -> Vec<Option<f64>> {
    let lo = present(x).reduce(f64::min).unwrap_or(0.0);
    let hi = present(x).reduce(f64::max).unwrap_or(0.0);
    let a = 0.01 * (hi - lo);
    let negative = mirror_negative && skew(x).is_some_and(|s| s <= 0.0);
    x.iter()
        .map(|v| {
            let v = (*v)?;
            let y = if negative { -(hi + a - v).ln() } else { (v - lo + a).ln() };
            y.is_finite().then_some(y)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Imputation
// ---------------------------------------------------------------------------

/// Last observation carried forward along one unit's series; leading gaps stay missing.
pub fn locf(series: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut last = None;
    series
        .iter()
        .map(|v| {
            if let Some(v) = finite(*v) {
                last = Some(v);
            }
            last
        })
        .collect()
}

/// Linear interpolation in time of interior gaps of one unit's series; values before the
/// first or after the last observation stay missing (no extrapolation).
pub fn interpolate_linear(years: &[i32], series: &[Option<f64>]) -> Result<Vec<Option<f64>>, MethodError> {
    if years.len() != series.len() {
        return Err(MethodError::LengthMismatch {
            what: "interpolation years vs series",
            expected: years.len(),
            found: series.len(),
        });
    }
    if years.windows(2).any(|w| w[0] >= w[1]) {
        return Err(MethodError::YearsNotIncreasing);
    }
    let s: Vec<Option<f64>> = series.iter().map(|v| finite(*v)).collect();
    let known: Vec<usize> = (0..s.len()).filter(|&i| s[i].is_some()).collect();
    let mut out = s.clone();
    for pair in known.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ya, yb) = (f64::from(years[a]), f64::from(years[b]));
        let (va, vb) = (s[a].unwrap_or_default(), s[b].unwrap_or_default());
        for (i, slot) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            *slot = Some(va + (vb - va) * (f64::from(years[i]) - ya) / (yb - ya));
        }
    }
    Ok(out)
}

/// COINr `i_mean_grp`: a missing value takes the mean of the present values of its group;
/// a group with no present value stays missing.
pub fn group_mean_impute<G: PartialEq>(x: &[Option<f64>], groups: &[G]) -> Result<Vec<Option<f64>>, MethodError> {
    if x.len() != groups.len() {
        return Err(MethodError::LengthMismatch {
            what: "imputation groups vs values",
            expected: x.len(),
            found: groups.len(),
        });
    }
    let group_mean = |g: &G| {
        let (sum, n) = x
            .iter()
            .zip(groups)
            .filter(|(_, h)| *h == g)
            .filter_map(|(v, _)| finite(*v))
            .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        (n > 0).then(|| sum / n as f64)
    };
    Ok(x.iter().zip(groups).map(|(v, g)| finite(*v).or_else(|| group_mean(g))).collect())
}

// ---------------------------------------------------------------------------
// Aggregation and weights
// ---------------------------------------------------------------------------

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
    let mut desc: Vec<f64> = present(x).collect();
    desc.sort_by(|a, b| b.total_cmp(a));
    x.iter().map(|v| finite(*v).map(|v| 1 + desc.partition_point(|d| *d > v) as u32)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().map(|x| Some(*x)).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * (1.0 + b.abs())
    }

    fn all_close(got: &[Option<f64>], want: &[Option<f64>]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            match (g, w) {
                (Some(g), Some(w)) => assert!(close(*g, *w), "{g} vs {w}"),
                (None, None) => {}
                _ => panic!("{got:?} vs {want:?}"),
            }
        }
    }

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
        let z = Normalisation::ZScore { mean: 0.0, sd: 1.0 };
        assert_eq!(normalise(&x, 1.0, &z, None).unwrap(), vec![None; 3]);
    }

    #[test]
    fn z_score_uses_sample_sd() {
        // mean 5, sample variance ((−3)²+(−1)²+1²+3²)/3 = 20/3.
        let y =
            normalise(&col(&[2.0, 4.0, 6.0, 8.0]), 1.0, &Normalisation::ZScore { mean: 10.0, sd: 1.0 }, None).unwrap();
        let s = (20.0f64 / 3.0).sqrt();
        all_close(&y, &col(&[10.0 - 3.0 / s, 10.0 - 1.0 / s, 10.0 + 1.0 / s, 10.0 + 3.0 / s]));
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

    #[test]
    fn skew_and_kurtosis_by_hand() {
        // x = 1, 2, 3, 4, 10: mean 4, deviations −3, −2, −1, 0, 6.
        // Σd² = 50, Σd³ = −27 − 8 − 1 + 216 = 180, Σd⁴ = 81 + 16 + 1 + 1296 = 1394.
        // skew = √n·Σd³/(Σd²)^1.5 · √(n(n−1))/(n−2) = √5·180/50^1.5 · √20/3 = 1.697056…
        let x = col(&[1.0, 2.0, 3.0, 4.0, 10.0]);
        let want_skew = 5f64.sqrt() * 180.0 / 50f64.powf(1.5) * 20f64.sqrt() / 3.0;
        assert!(close(want_skew, 1.697_056_274_847_714));
        assert!(close(skew(&x).unwrap(), want_skew));
        // r = 5·1394/2500 = 2.788; kurt = ((6·(−0.212)) + 6)·4/(3·2) = 4.728·4/6 = 3.152.
        assert!(close(kurtosis(&x).unwrap(), 3.152));
        assert_eq!(skew(&col(&[1.0, 2.0])), None);
        assert_eq!(kurtosis(&col(&[1.0, 1.0, 1.0, 1.0])), None);
        // The mean of three 0.1s rounds off 0.1; no spread must still mean no skew.
        assert_eq!(skew(&col(&[0.1, 0.1, 0.1])), None);
    }

    #[test]
    fn winsorises_until_it_passes() {
        // 1, 2, …, 20 and one 1000: one step (1000 → 20) brings it within limits.
        let mut v: Vec<f64> = (1..=20).map(f64::from).collect();
        v.push(1000.0);
        let x = col(&v);
        let (y, d) = treat_outliers(&x, &TreatParams::default());
        assert!(!d.pass_before);
        assert_eq!(d.winsorised, 1);
        assert_eq!(d.winsorised_high, vec![20]);
        assert_eq!(y[20], Some(20.0));
        assert_eq!(d.pass_after, Some(true));
        assert!(!d.log_transformed);
        // A clean column is untouched.
        let (y, d) = treat_outliers(&col(&[1.0, 2.0, 3.0, 4.0]), &TreatParams::default());
        assert!(d.pass_before && d.pass_after.is_none());
        assert_eq!(y, col(&[1.0, 2.0, 3.0, 4.0]));
    }

    /// The cases of COINr's own tests/testthat/test-treat.R.
    #[test]
    fn coinr_treat_tests() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        v.push(100.0);
        let (y, d) = treat_outliers(&col(&v), &TreatParams::default());
        assert!(!d.pass_before && d.pass_after == Some(true));
        assert_eq!(y[10], Some(10.0));
        assert_eq!(y[..10], col(&v)[..10]);

        // 1..20, 100, 200 with winmax 1: 200 → 100 leaves a failing column.
        let mut v: Vec<f64> = (1..=20).map(f64::from).collect();
        v.extend([100.0, 200.0]);
        let off = TreatParams { winmax: 1, log_fallback: LogFallback::Off, ..TreatParams::default() };
        let (y, d) = treat_outliers(&col(&v), &off);
        assert_eq!((d.winsorised, d.pass_after), (1, Some(false)));
        assert_eq!((y[20], y[21]), (Some(100.0), Some(100.0)));
        // A second step would move the tied pair together: COINr's nwin counts both.
        let two = TreatParams { winmax: 2, ..off };
        let (y, d) = treat_outliers(&col(&v), &two);
        assert_eq!((d.winsorised, &d.winsorised_high), (2, &vec![20, 21]));
        assert_eq!((y[20], y[21]), (Some(20.0), Some(20.0)));
    }

    #[test]
    fn falls_back_to_log_when_winmax_is_reached() {
        let mut v: Vec<f64> = (1..=20).map(f64::from).collect();
        v.push(1000.0);
        let p = TreatParams { winmax: 0, ..TreatParams::default() };
        let (y, d) = treat_outliers(&col(&v), &p);
        assert!(d.log_transformed && d.winsorised == 0);
        // ln(x − 1 + 0.01·999)
        assert!(close(y[0].unwrap(), 9.99f64.ln()));
        assert!(close(y[20].unwrap(), (999.0f64 + 9.99).ln()));
    }

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

    #[test]
    fn imputation() {
        let s = [None, Some(1.0), None, None, Some(4.0), None];
        assert_eq!(locf(&s), vec![None, Some(1.0), Some(1.0), Some(1.0), Some(4.0), Some(4.0)]);
        // Uneven years: 1 in 2018, 4 in 2024, so 0.5 a year in between; ends stay missing.
        let y = interpolate_linear(&[2016, 2018, 2019, 2021, 2024, 2025], &s).unwrap();
        all_close(&y, &[None, Some(1.0), Some(1.5), Some(2.5), Some(4.0), None]);
        assert!(interpolate_linear(&[2019, 2019], &[None, None]).is_err());
        let x = [Some(1.0), None, Some(3.0), None, Some(10.0)];
        let g = group_mean_impute(&x, &["a", "a", "a", "b", "c"]).unwrap();
        assert_eq!(g, vec![Some(1.0), Some(2.0), Some(3.0), None, Some(10.0)]);
        assert_eq!(normalise_weights(&[1.0, 3.0]).unwrap(), vec![0.25, 0.75]);
        assert!(normalise_weights(&[0.0, 0.0]).is_err());
    }
}
