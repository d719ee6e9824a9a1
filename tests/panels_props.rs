//! Generated panels (proptest): registries with renames, splits and mergers, county-years with
//! random gaps, under every imputation × normalisation × aggregation × comparison × weighting.
//! Whatever the index computes must pass the invariants compute checks before publishing, and a
//! funding allocation on it must add up to its budget.

use std::path::Path;

use cimon::catalog::Catalog;
use cimon::compute::index::{self, Agg, Comparison, Imputation, Method, NormKind, Outliers, WeightScheme};
use cimon::compute::{build_panel, funding, invariants, sensitivity};
use cimon::regions::{Change, Region, Registry};
use cimon::scope::Scope;
use polars::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

const CATALOG: &str = r#"
[index]
code = "i"
name_zh = "指数"
name_en = "Index"

[[groups]]
code = "a"
name_zh = "甲"
name_en = "A"
parent = "i"
weight = 0.6

[[groups]]
code = "b"
name_zh = "乙"
name_en = "B"
parent = "i"
weight = 0.4

[[indicators]]
code = "w"
name_zh = "w"
name_en = "w"
unit = "个"
kind = "count"
group = "a"
range = [0, 100]
target = 80

[[indicators]]
code = "x"
name_zh = "x"
name_en = "x"
unit = "个"
kind = "count"
group = "a"
direction = -1
weight = 2
range = [0, 100]
target = 10

[[indicators]]
code = "y"
name_zh = "y"
name_en = "y"
unit = "个"
kind = "count"
group = "b"
range = [0, 100]
target = 90

[[indicators]]
code = "z"
name_zh = "z"
name_en = "z"
unit = "个"
kind = "count"
scored = false
range = [0, 1000]

[[units]]
symbol = "个"
family = "units"
factor = 1
"#;

/// What happens to a county over the years.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Stays,
    /// A new name and code from this year on (撤县设市).
    Renamed(usize),
    /// Split between the next county and a new one from this year on.
    Split(usize),
    /// Merged into the next county from this year on.
    Merged(usize),
    /// A unit that begins this year.
    Begins(usize),
}

fn fate(years: usize) -> impl Strategy<Value = Fate> {
    prop_oneof![
        4 => Just(Fate::Stays),
        1 => (1..years).prop_map(Fate::Renamed),
        1 => (1..years).prop_map(Fate::Split),
        1 => (1..years).prop_map(Fate::Merged),
        1 => (1..years).prop_map(Fate::Begins),
    ]
}

fn region(code: String, prefecture: &str, from: Option<i32>, to: Option<i32>) -> Region {
    Region {
        name: format!("县{code}"),
        code,
        kind: "县".into(),
        prefecture_code: prefecture.into(),
        prefecture_name: format!("市{prefecture}"),
        province_code: "420000".into(),
        province_name: "湖北省".into(),
        valid_from: from,
        valid_to: to,
        successor: None,
        change: None,
        former_names: None,
    }
}

/// A registry from the fates of the counties over the years from `first`, in two prefectures;
/// a county split or merged goes into the next one, which must stay as it is (else it stays too).
fn registry(fates: &[Fate], first: i32) -> Registry {
    let prefecture = |i: usize| if i.is_multiple_of(2) { "420800" } else { "420900" };
    let code = |i: usize, k: usize| format!("{}{:02}", &prefecture(i)[..4], k);
    let n = fates.len();
    let mut regions = Vec::new();
    for (i, f) in fates.iter().enumerate() {
        let mut r = region(code(i, 2 * i + 1), prefecture(i), None, None);
        let next_stays = i + 1 < n && fates[i + 1].is_stays();
        match *f {
            Fate::Renamed(y) => {
                let y = first + y as i32;
                r.valid_to = Some(y - 1);
                r.successor = Some(code(i, 2 * i + 2));
                r.change = Some(Change::Renamed);
                regions.push(region(code(i, 2 * i + 2), prefecture(i), Some(y), None));
            }
            Fate::Split(y) if next_stays => {
                let y = first + y as i32;
                r.valid_to = Some(y - 1);
                r.successor = Some(format!("{};{}", code(i + 1, 2 * i + 3), code(i, 60 + i)));
                r.change = Some(Change::Split);
                regions.push(region(code(i, 60 + i), prefecture(i), Some(y), None));
            }
            Fate::Merged(y) if next_stays => {
                r.valid_to = Some(first + y as i32 - 1);
                r.successor = Some(code(i + 1, 2 * i + 3));
                r.change = Some(Change::Merged);
            }
            Fate::Begins(y) => r.valid_from = Some(first + y as i32),
            _ => {}
        }
        regions.push(r);
    }
    Registry::new(Path::new("regions.csv"), regions).expect("a valid registry")
}

impl Fate {
    fn is_stays(&self) -> bool {
        matches!(self, Fate::Stays)
    }
}

/// Observations of every code in its valid years, with gaps where `present` says so.
fn observations(registry: &Registry, years: &[i32], values: &[Option<f64>]) -> DataFrame {
    let (mut codes, mut ys, mut inds, mut vs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut at = 0;
    for r in &registry.regions {
        for &y in years.iter().filter(|&&y| r.valid_in(y)) {
            for ind in ["w", "x", "y", "z"] {
                let v = values[at % values.len()];
                at += 1;
                codes.push(r.code.clone());
                ys.push(y);
                inds.push(ind);
                vs.push(v);
            }
        }
    }
    df!("region_code" => codes, "year" => ys, "indicator" => inds, "value" => vs).unwrap()
}

fn method() -> impl Strategy<Value = Method> {
    let imputation = prop_oneof![
        Just(Imputation::None),
        Just(Imputation::Locf),
        Just(Imputation::Linear),
        Just(Imputation::LinearInterior),
        Just(Imputation::GroupMean),
    ];
    let norm = prop_oneof![
        Just(NormKind::Minmax),
        Just(NormKind::Zscore),
        Just(NormKind::Rank),
        Just(NormKind::PercentileRank),
        Just(NormKind::Goalposts),
        Just(NormKind::DistanceToTarget),
        Just(NormKind::Efficacy),
    ];
    let agg = prop_oneof![Just(Agg::Arithmetic), Just(Agg::Geometric)];
    let comparison = prop_oneof![Just(Comparison::PerYear), Just(Comparison::Pooled), Just(Comparison::BaseYear)];
    let weights = prop_oneof![Just(WeightScheme::Catalog), Just(WeightScheme::Equal), Just(WeightScheme::Entropy)];
    let outliers = prop_oneof![Just(Outliers::None), Just(Outliers::Coinr)];
    (imputation, norm, agg, comparison, weights, outliers).prop_map(
        |(imputation, normalisation, aggregation, comparison, weights, outliers)| {
            Method {
                imputation,
                normalisation,
                // Geometric means need positive scores.
                scale: if normalisation == NormKind::Minmax && aggregation == Agg::Geometric {
                    [1.0, 100.0]
                } else {
                    Method::default().scale
                },
                aggregation,
                comparison,
                base_year: Some(2015),
                weights,
                outliers,
                ..Method::default()
            }
        },
    )
}

proptest! {
    // A fixed seed keeps CI repeatable; PROPTEST_RNG_SEED=<n> explores other panels (60,000
    // random cases passed when this was written).
    #![proptest_config(ProptestConfig {
        cases: 2000,
        rng_seed: std::env::var("PROPTEST_RNG_SEED").ok().and_then(|s| s.parse().ok()).map_or(RngSeed::Fixed(26), RngSeed::Fixed),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_generated_panel_and_method_passes_the_invariants(
        years in 2usize..6,
        fates in prop::collection::vec(fate(5), 3..9),
        values in prop::collection::vec(prop::option::weighted(0.8, prop_oneof![1.0..100.0f64, (1i32..6).prop_map(f64::from)]), 1..200),
        method in method(),
    ) {
        let fates: Vec<Fate> = fates.into_iter().map(|f| match f {
            Fate::Renamed(y) | Fate::Split(y) | Fate::Merged(y) | Fate::Begins(y) if y >= years => Fate::Stays,
            f => f,
        }).collect();
        let year_list: Vec<i32> = (2015..2015 + years as i32).collect();
        let registry = registry(&fates, 2015);
        let catalog = Catalog::parse(CATALOG, Path::new("catalog.toml")).unwrap();
        let obs = observations(&registry, &year_list, &values);
        let panel = build_panel(&obs, &registry, &catalog, &Scope::all()).unwrap();
        let scored = cimon::compute::scored(&panel, &catalog);
        // A method that cannot apply to these data (a geometric mean of a zero, entropy weights of
        // a constant column) is refused with an error; whatever is computed must be sound.
        let Ok(ix) = index::compute(&scored, &catalog, &method) else { return Ok(()) };
        let intervals = sensitivity::analyse(&scored, &catalog, &method, &ix, &sensitivity::SensitivitySettings {
            samples: 4,
            normalisations: vec![NormKind::Minmax, NormKind::Zscore],
            ..Default::default()
        }).ok().map(|a| a.intervals);
        // 绩效拨款 of the last year over the counties with an index then.
        let settings: funding::FundingSettings = toml::from_str(
            "budget = 1000\nbase = 10\ntier_awards = { \"1\" = 20 }\ncap = 400\n[[parts]]\nkind = \"index\"\nweight = 1\n",
        ).unwrap();
        // The panel's own years: a year in which no county existed yet is no year of the panel.
        let last = scored.years.len() - 1;
        let n = scored.units.len();
        let standings: Vec<funding::Standing> = (0..n)
            .map(|u| last * n + u)
            .filter(|&row| ix.scores["i"][row].is_some())
            .map(|row| funding::Standing { index: ix.scores["i"][row], rank: ix.rank[row], tier: ix.casted_tier[row], before: vec![(None, None)] })
            .collect();
        let amounts = funding::allocate(&settings, &standings).ok().map(|(s, _)| s.iter().map(|s| s.amount).collect());
        let subject = invariants::Subject {
            panel: &scored,
            index: &ix,
            index_code: "i",
            registry: &registry,
            intervals: intervals.as_deref(),
            funding: amounts.map(|a| (settings.budget, a)),
        };
        if let Err(e) = invariants::check(&subject) {
            prop_assert!(false, "{e}\nmethod {method:?}\nfates {fates:?}\nstandings {standings:?}\n{:?}", funding::allocate(&settings, &standings));
        }
        // The split, merged and renamed-away codes are no units of their own after they end.
        for (row, rank) in ix.rank.iter().enumerate() {
            if rank.is_some() {
                prop_assert!(scored.valid[row]);
            }
        }
    }
}
