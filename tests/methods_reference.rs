//! The index methods against worked examples published elsewhere (`tests/reference/methods/`,
//! each with its source): AHP, CRITIC, TOPSIS, entropy weights and the Mazziotta–Pareto index,
//! each compared to the published rounding.

use std::path::Path;

use cimon::compute::methods::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(untagged)]
enum Cell {
    Number(f64),
    Fraction(String),
}

impl Cell {
    fn value(&self) -> f64 {
        match self {
            Cell::Number(x) => *x,
            Cell::Fraction(s) => {
                let (a, b) = s.split_once('/').expect("a fraction like 1/3");
                a.trim().parse::<f64>().unwrap() / b.trim().parse::<f64>().unwrap()
            }
        }
    }
}

#[derive(Deserialize)]
struct Example {
    name: String,
    source: String,
    matrix: Vec<Vec<Cell>>,
    #[serde(default)]
    directions: Vec<f64>,
    #[serde(default)]
    weights: Vec<f64>,
    #[serde(default)]
    weights_decimals: Option<i32>,
    #[serde(default)]
    cr: Option<f64>,
    #[serde(default)]
    cr_decimals: Option<i32>,
    #[serde(default)]
    closeness: Vec<f64>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    ranking: Vec<u32>,
    #[serde(default)]
    mpi_negative: Vec<f64>,
    #[serde(default)]
    mpi_positive: Vec<f64>,
    #[serde(default)]
    decimals: Option<i32>,
}

impl Example {
    fn rows(&self) -> Vec<Vec<f64>> {
        self.matrix.iter().map(|r| r.iter().map(Cell::value).collect()).collect()
    }

    /// The matrix as columns of present values.
    fn columns(&self) -> Vec<Vec<Option<f64>>> {
        let rows = self.rows();
        (0..rows[0].len()).map(|j| rows.iter().map(|r| Some(r[j])).collect()).collect()
    }
}

#[derive(Deserialize)]
struct File {
    example: Vec<Example>,
}

fn examples(file: &str) -> Vec<Example> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/methods").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!f.example.is_empty(), "{file} has no example");
    f.example
}

/// `got` rounds to `published` at `decimals` places (half a unit of the last place, and a hair).
fn rounds_to(got: &[f64], published: &[f64], decimals: i32, what: &str, e: &Example) {
    assert_eq!(got.len(), published.len(), "{what} of {}", e.name);
    let half = 0.5 * 10f64.powi(-decimals) + 1e-12;
    for (i, (g, p)) in got.iter().zip(published).enumerate() {
        assert!((g - p).abs() <= half, "{what}[{i}] of \"{}\" ({}): computed {g}, published {p}", e.name, e.source);
    }
}

#[test]
fn ahp_weights_and_consistency_ratios_as_saaty_published_them() {
    for e in examples("ahp.toml") {
        let a = ahp(&e.rows()).unwrap_or_else(|p| panic!("{}: {p:?}", e.name));
        rounds_to(&a.weights, &e.weights, e.weights_decimals.unwrap(), "weights", &e);
        if let Some(cr) = e.cr {
            rounds_to(&[a.cr], &[cr], e.cr_decimals.unwrap(), "CR", &e);
            assert!(a.cr < 0.10, "Saaty's examples are acceptably consistent");
        }
        // λmax = n + CI·(n − 1) and CR = CI/RI, with RI from Saaty's table.
        let n = e.weights.len() as f64;
        assert!((a.lambda_max - n - a.ci * (n - 1.0)).abs() < 1e-9);
        assert_eq!(a.ri, SAATY_RI[e.weights.len() - 1]);
    }
}

#[test]
fn saaty_random_index_as_tabulated() {
    // Saaty (1980): n = 1 … 10.
    assert_eq!(SAATY_RI[..10], [0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]);
}

#[test]
fn critic_weights_as_published() {
    for e in examples("critic.toml") {
        let cols = e.columns();
        let refs: Vec<&[Option<f64>]> = cols.iter().map(Vec::as_slice).collect();
        let w = critic_weights(&refs, &e.directions).unwrap();
        rounds_to(&w, &e.weights, e.weights_decimals.unwrap(), "weights", &e);
    }
}

#[test]
fn topsis_closeness_of_hwang_and_yoon() {
    for e in examples("topsis.toml") {
        // Vector normalisation with the direction multiplied in: a cost criterion's ideal is its minimum.
        let cols: Vec<Vec<Option<f64>>> = e
            .columns()
            .iter()
            .zip(&e.directions)
            .map(|(c, &d)| normalise(c, d, &Normalisation::Vector, None).unwrap())
            .collect();
        let refs: Vec<&[Option<f64>]> = cols.iter().map(Vec::as_slice).collect();
        let c: Vec<f64> = topsis(&refs, &e.weights, None).unwrap().into_iter().map(Option::unwrap).collect();
        let tol = e.tolerance.unwrap();
        for (i, (g, p)) in c.iter().zip(&e.closeness).enumerate() {
            assert!((g - p).abs() <= tol, "C*[{i}] of {}: computed {g}, published {p} ({})", e.name, e.source);
        }
        let ranks: Vec<u32> =
            rank_desc_min(&c.iter().map(|x| Some(*x)).collect::<Vec<_>>()).into_iter().map(Option::unwrap).collect();
        assert_eq!(ranks, e.ranking);
    }
}

#[test]
fn entropy_weights_on_shares_as_published() {
    for e in examples("entropy.toml") {
        let cols = e.columns();
        let refs: Vec<&[Option<f64>]> = cols.iter().map(Vec::as_slice).collect();
        let w = entropy_weights_shares(&refs).unwrap();
        rounds_to(&w, &e.weights, e.weights_decimals.unwrap(), "weights", &e);
    }
}

#[test]
fn mazziotta_pareto_index_with_population_z_scores() {
    for e in examples("mpi.toml") {
        let z = Normalisation::ZScore { mean: 100.0, sd: 10.0, population: true };
        let cols: Vec<Vec<Option<f64>>> =
            e.columns().iter().zip(&e.directions).map(|(c, &d)| normalise(c, d, &z, None).unwrap()).collect();
        let refs: Vec<&[Option<f64>]> = cols.iter().map(Vec::as_slice).collect();
        let equal = vec![1.0; refs.len()];
        for (penalty, want) in [(1.0, &e.mpi_negative), (-1.0, &e.mpi_positive)] {
            let m: Vec<f64> = aggregate(&refs, &equal, &Aggregation::MazziottaPareto { penalty })
                .unwrap()
                .into_iter()
                .map(Option::unwrap)
                .collect();
            rounds_to(&m, want, e.decimals.unwrap(), "MPI", &e);
        }
    }
}
