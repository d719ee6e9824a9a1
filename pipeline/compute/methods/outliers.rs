//! Distribution shape (Excel's SKEW and KURT) and COINr's outlier treatment: winsorise, else log.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::methods::testing::*;

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
}
