//! Imputation along a county's series (last value carried forward, linear) or within its group (group mean).

use super::*;

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

/// Linear interpolation in time of interior gaps of one unit's series. With `extend`, the first
/// and last observed values are carried outward as COINr's `impute_panel` does (R's `approx(rule
/// = 2)`); without, values before the first or after the last observation stay missing.
pub fn interpolate_linear(
    years: &[i32],
    series: &[Option<f64>],
    extend: bool,
) -> Result<Vec<Option<f64>>, MethodError> {
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
    if let (true, Some(&first), Some(&last)) = (extend, known.first(), known.last()) {
        for slot in &mut out[..first] {
            *slot = s[first];
        }
        for slot in &mut out[last + 1..] {
            *slot = s[last];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::methods::testing::*;

    #[test]
    fn imputation() {
        let s = [None, Some(1.0), None, None, Some(4.0), None];
        assert_eq!(locf(&s), vec![None, Some(1.0), Some(1.0), Some(1.0), Some(4.0), Some(4.0)]);
        // Uneven years: 1 in 2018, 4 in 2024, so 0.5 a year in between; ends stay missing.
        let years = [2016, 2018, 2019, 2021, 2024, 2025];
        let y = interpolate_linear(&years, &s, false).unwrap();
        all_close(&y, &[None, Some(1.0), Some(1.5), Some(2.5), Some(4.0), None]);
        // COINr (approx, rule = 2): the first and last values are carried outward.
        let y = interpolate_linear(&years, &s, true).unwrap();
        all_close(&y, &[Some(1.0), Some(1.0), Some(1.5), Some(2.5), Some(4.0), Some(4.0)]);
        assert_eq!(interpolate_linear(&years, &[None; 6], true).unwrap(), vec![None; 6], "nothing to carry");
        assert!(interpolate_linear(&[2019, 2019], &[None, None], true).is_err());
        let x = [Some(1.0), None, Some(3.0), None, Some(10.0)];
        let g = group_mean_impute(&x, &["a", "a", "a", "b", "c"]).unwrap();
        assert_eq!(g, vec![Some(1.0), Some(2.0), Some(3.0), None, Some(10.0)]);
        assert_eq!(normalise_weights(&[1.0, 3.0]).unwrap(), vec![0.25, 0.75]);
        assert!(normalise_weights(&[0.0, 0.0]).is_err());
    }
}
