//! Property tests of `compute::methods`: bounds, monotonicity, weight sums, order preservation.

use cimon::compute::methods::*;
use proptest::prelude::*;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![-1e6..1e6f64, (-20i32..20).prop_map(f64::from)]
}

/// A column with some missing values (small integers make ties likely).
fn column(n: usize) -> impl Strategy<Value = Vec<Option<f64>>> {
    prop::collection::vec(prop::option::weighted(0.85, value()), n)
}

fn direction() -> impl Strategy<Value = f64> {
    prop_oneof![Just(1.0), Just(-1.0)]
}

/// `k` columns of `n` rows.
fn matrix() -> impl Strategy<Value = Vec<Vec<Option<f64>>>> {
    (1usize..6, 2usize..25).prop_flat_map(|(k, n)| prop::collection::vec(column(n), k))
}

fn total(w: &[f64]) -> f64 {
    w.iter().sum()
}

proptest! {
    #[test]
    fn min_max_stays_within_bounds(x in column(30), dir in direction(), l in -50.0..50.0f64, width in 0.1..200.0f64) {
        let u = l + width;
        let y = normalise(&x, dir, &Normalisation::MinMax { l, u }, None).unwrap();
        for (a, b) in x.iter().zip(&y) {
            if let Some(b) = b {
                prop_assert!(a.is_some());
                prop_assert!(*b >= l - 1e-9 && *b <= u + 1e-9, "{b} outside [{l}, {u}]");
            }
        }
    }

    #[test]
    fn fit_then_apply_is_normalise(x in column(20), dir in direction()) {
        for m in [Normalisation::ZScore { mean: 0.0, sd: 1.0, population: false }, Normalisation::Rank, Normalisation::PercentileRank, Normalisation::Efficacy] {
            let f = fit(&x, dir, &m, None).unwrap();
            prop_assert_eq!(f.apply(&x), normalise(&x, dir, &m, None).unwrap());
        }
    }

    /// Ascending "min" rank and descending "min" rank agree on distinct values.
    #[test]
    fn ranks_mirror(v in prop::collection::btree_set(-1000i32..1000, 1..30)) {
        let x: Vec<Option<f64>> = v.into_iter().map(|v| Some(f64::from(v))).collect();
        let asc = normalise(&x, 1.0, &Normalisation::Rank, None).unwrap();
        let n = x.len() as f64;
        for (a, d) in asc.iter().zip(rank_desc_min(&x)) {
            prop_assert_eq!(a.unwrap(), n + 1.0 - f64::from(d.unwrap()));
        }
    }

    /// Min-max refitted on the data, then the arithmetic mean: moving one unit's value in the
    /// good direction never lowers that unit's aggregate and never raises anyone else's (the
    /// move can only stretch the range the others are scored in).
    #[test]
    fn improving_a_value_never_lowers_the_aggregate(
        data in matrix(),
        dirs in prop::collection::vec(direction(), 6),
        weights in prop::collection::vec(0.0..5.0f64, 6),
        pick in any::<(prop::sample::Index, prop::sample::Index)>(),
        step in 0.0..1e5f64,
    ) {
        let (k, n) = (data.len(), data[0].len());
        let (j, i) = (pick.0.index(k), pick.1.index(n));
        prop_assume!(data[j][i].is_some());
        let score = |d: &[Vec<Option<f64>>]| {
            let cols: Vec<Vec<Option<f64>>> = d
                .iter()
                .zip(&dirs)
                .map(|(c, dir)| normalise(c, *dir, &Normalisation::MinMax { l: 0.0, u: 100.0 }, None).unwrap())
                .collect();
            let refs: Vec<&[Option<f64>]> = cols.iter().map(Vec::as_slice).collect();
            aggregate(&refs, &weights[..k], &Aggregation::ArithmeticMean).unwrap()
        };
        let flat = |c: &[Option<f64>]| c.iter().flatten().collect::<Vec<_>>().windows(2).all(|p| p[0] == p[1]);
        let before = score(&data);
        let mut better = data.clone();
        better[j][i] = better[j][i].map(|v| v + dirs[j] * step);
        let after = score(&better);
        for r in 0..n {
            match (before[r], after[r]) {
                (Some(b), Some(a)) if r == i => prop_assert!(a >= b - 1e-9, "unit {r}: {b} -> {a}"),
                (Some(b), Some(a)) => prop_assert!(a <= b + 1e-9, "other unit {r}: {b} -> {a}"),
                // A score appears or vanishes only through an all-equal column, which scores None.
                (b, a) => prop_assert!(
                    b == a || flat(&data[j]) || flat(&better[j]),
                    "unit {r}: {b:?} -> {a:?} without an all-equal column"
                ),
            }
        }
    }

    #[test]
    fn means_of_equal_values_are_that_value(v in 1.0..1e4f64, k in 1usize..6, w in prop::collection::vec(0.1..5.0f64, 6)) {
        let col = [Some(v)];
        let cols: Vec<&[Option<f64>]> = vec![&col[..]; k];
        for m in [Aggregation::ArithmeticMean, Aggregation::GeometricMean, Aggregation::HarmonicMean, Aggregation::GeneralisedMean { p: 2.0 }] {
            let y = aggregate(&cols, &w[..k], &m).unwrap()[0].unwrap();
            prop_assert!((y - v).abs() <= 1e-9 * v, "{m:?}: {y} vs {v}");
        }
    }

    #[test]
    fn entropy_weights_are_a_distribution(data in matrix(), dirs in prop::collection::vec(direction(), 6)) {
        let refs: Vec<&[Option<f64>]> = data.iter().map(Vec::as_slice).collect();
        match entropy_weights(&refs, &dirs[..data.len()]) {
            Ok(w) => {
                prop_assert_eq!(w.len(), data.len());
                prop_assert!(w.iter().all(|w| *w >= 0.0 && w.is_finite()));
                prop_assert!((total(&w) - 1.0).abs() < 1e-12);
            }
            // Only when no column has two distinct values.
            Err(e) => {
                prop_assert_eq!(e, MethodError::NoInformation);
                for c in &data {
                    let v: Vec<f64> = c.iter().flatten().copied().collect();
                    prop_assert!(v.windows(2).all(|p| p[0] == p[1]));
                }
            }
        }
    }

    #[test]
    fn normalised_weights_sum_to_one(w in prop::collection::vec(0.0..1e3f64, 1..20)) {
        prop_assume!(total(&w) > 0.0);
        let n = normalise_weights(&w).unwrap();
        prop_assert!((total(&n) - 1.0).abs() < 1e-12);
        prop_assert!(n.iter().all(|v| *v >= 0.0));
    }

    /// Winsorisation and the log fallback are monotone maps: treated values keep the order
    /// of the originals, and nothing non-finite comes out.
    #[test]
    fn treatment_preserves_order(x in column(40), spike in 1e3..1e7f64, winmax in 0usize..8) {
        let mut x = x;
        x.push(Some(spike));
        let p = TreatParams { winmax, ..TreatParams::default() };
        let (y, d) = treat_outliers(&x, &p);
        prop_assert_eq!(y.len(), x.len());
        for a in 0..x.len() {
            prop_assert_eq!(x[a].is_some(), y[a].is_some());
            for b in 0..x.len() {
                if let (Some(xa), Some(xb), Some(ya), Some(yb)) = (x[a], x[b], y[a], y[b]) {
                    prop_assert!(ya.is_finite());
                    if xa < xb {
                        prop_assert!(ya <= yb, "{xa} < {xb} but {ya} > {yb}");
                    }
                }
            }
        }
        if d.pass_before {
            prop_assert_eq!(&y, &x);
        }
    }
}
