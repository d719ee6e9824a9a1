//! The evaluation methods end to end on the 双创 catalog's sample (sample-data/shuangchuang):
//! AHP, entropy, CRITIC and combined weights, weights per year, MPI, power mean and TOPSIS,
//! each checked against what its definition makes of the published tables.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cimon::compute::methods;
use common::{cimon, repo};
use polars::prelude::*;

/// Ingest the 双创 sample and compute it with `compute` (TOML lines of `[compute]`, and any
/// further sections after them) and `catalog` (default: the shipped one).
fn computed_with(compute: &str, catalog: Option<&Path>) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let r = repo();
    let catalog = catalog.map_or(r.join("schemas/shuangchuang.toml"), Path::to_path_buf);
    let cfg = format!(
        "[input]\ndir = {:?}\n[schemas]\ncatalog = {:?}\nregions = {:?}\n[output]\ndir = {:?}\n\
         [growth]\nspans = [3]\n[compute]\n{compute}\n",
        r.join("sample-data/shuangchuang/inputs"),
        catalog,
        r.join("schemas/regions.csv"),
        out,
    );
    let cfg = if cfg.contains("[sensitivity]") { cfg } else { cfg + "[sensitivity]\nenabled = false\n" };
    let path = tmp.path().join("cimon.toml");
    std::fs::write(&path, cfg).unwrap();
    let p = path.to_str().unwrap();
    cimon(tmp.path(), &["ingest", "--config", p, "-q"]).success();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cimon"))
        .args(["compute", "--config", p, "-q"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    (tmp, out, output)
}

fn computed(compute: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, out, o) = computed_with(compute, None);
    assert!(o.status.success(), "compute failed:\n{}", String::from_utf8_lossy(&o.stderr));
    (tmp, out)
}

fn table(out: &Path, name: &str) -> DataFrame {
    cimon::tables::read_frame(&out.join("results"), name).unwrap()
}

fn strs(df: &DataFrame, c: &str) -> Vec<String> {
    df.column(c).unwrap().str().unwrap().iter().map(|s| s.unwrap_or("").to_string()).collect()
}

/// (node, child, year) → effective weight.
fn weights(out: &Path) -> HashMap<(String, String, Option<i32>), f64> {
    let w = table(out, "weights");
    let (node, child) = (strs(&w, "node"), strs(&w, "child"));
    let year: Vec<Option<i32>> = w.column("year").unwrap().i32().unwrap().iter().collect();
    let eff: Vec<f64> = w.column("effective_weight").unwrap().f64().unwrap().iter().map(Option::unwrap).collect();
    (0..w.height()).map(|i| ((node[i].clone(), child[i].clone(), year[i]), eff[i])).collect()
}

/// (region, year) → index.
type Index = HashMap<(String, i32), f64>;
/// (region, year, node) → score.
type Scores = HashMap<(String, i32, String), f64>;

/// Per (region, year): the index and the dimension scores, from index.parquet and scores.parquet.
fn index_and_dimensions(out: &Path) -> (Index, Scores) {
    let idx = table(out, "index");
    let (r, y, v) = (
        strs(&idx, "region_code"),
        idx.column("year").unwrap().i32().unwrap(),
        idx.column("index").unwrap().f64().unwrap(),
    );
    let index = (0..idx.height()).filter_map(|i| Some(((r[i].clone(), y.get(i)?), v.get(i)?))).collect();
    let s = table(out, "scores");
    let (r, n, y, v) = (
        strs(&s, "region_code"),
        strs(&s, "node"),
        s.column("year").unwrap().i32().unwrap(),
        s.column("score").unwrap().f64().unwrap(),
    );
    let dims = (0..s.height()).filter_map(|i| Some(((r[i].clone(), y.get(i)?, n[i].clone()), v.get(i)?))).collect();
    (index, dims)
}

const DIMENSIONS: [&str; 5] = ["carriers", "entities", "crowds", "results", "new_economy"];

#[test]
fn ahp_weights_are_the_eigenvector_of_the_catalog_matrices_and_combined_weights_mix_them() {
    let (_a, ahp) = computed("weights = \"ahp\"");
    let (_e, entropy) = computed("weights = \"entropy\"");
    let (_c, combined) = computed(
        "weights = \"combined\"\n[compute.combine]\nsubjective = \"ahp\"\nobjective = \"entropy\"\nalpha = 0.3",
    );
    let (wa, we, wc) = (weights(&ahp), weights(&entropy), weights(&combined));
    // The catalog's own matrices, through the kernel: the published weights follow them.
    let catalog = cimon::catalog::Catalog::load(&repo().join("schemas/shuangchuang.toml")).unwrap();
    assert_eq!(catalog.ahp.len(), 6);
    for cmp in &catalog.ahp {
        let a = methods::ahp(&cmp.matrix).unwrap();
        assert!(a.cr < 0.10, "{}: CR {}", cmp.node, a.cr);
        for (child, w) in cmp.order.iter().zip(&a.weights) {
            let key = (cmp.node.clone(), child.clone(), None);
            assert!((wa[&key] - w).abs() < 1e-12, "{key:?}: {} vs {w}", wa[&key]);
            // 组合赋权: 0.3 × AHP + 0.7 × entropy. Above the indicators entropy reads the
            // dimension scores, which the weights below them shape: compare where they are the same.
            if cmp.node != "scei" {
                assert!((wc[&key] - (0.3 * wa[&key] + 0.7 * we[&key])).abs() < 1e-12, "{key:?}");
            }
        }
    }
    // The method table records each matrix's consistency.
    let m = table(&ahp, "method");
    let (k, v) = (strs(&m, "key"), strs(&m, "value"));
    let checks: Vec<&String> = k.iter().zip(&v).filter(|(k, _)| *k == "ahp").map(|(_, v)| v).collect();
    assert_eq!(checks.len(), 6, "{checks:?}");
    assert!(checks.iter().any(|v| v.starts_with("scei: CR = ") && v.contains("n = 5")), "{checks:?}");
}

/// A copy of the 双创 catalog with the `[[ahp]]` table of `node` replaced by `table` ("" removes it).
fn catalog_with_ahp(node: &str, table: &str) -> (tempfile::TempDir, PathBuf) {
    let text = std::fs::read_to_string(repo().join("schemas/shuangchuang.toml")).unwrap();
    let start = text.find(&format!("[[ahp]]\nnode = \"{node}\"")).unwrap();
    let end = start + text[start..].find("\n]\n").unwrap() + 3;
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("shuangchuang.toml");
    std::fs::write(&catalog, format!("{}{table}{}", &text[..start], &text[end..])).unwrap();
    (dir, catalog)
}

#[test]
fn an_inconsistent_ahp_matrix_is_refused_with_its_node_cr_and_judgements() {
    // 创新成果 judged circularly: patents ≻ inventions ≻ contracts ≻ patents, each 2 to 1.
    // For a 3×3 reciprocal matrix λmax³ − 3λmax² = k + 1/k − 2 with k = 8: λmax = 3.5, CI = 0.25,
    // CR = 0.25/0.58 = 0.431.
    let inconsistent = "[[ahp]]\nnode = \"results\"\n\
                        order = [\"patent_applications\", \"invention_patents_per10k\", \"tech_contract_value\"]\n\
                        matrix = [[1, 2, \"1/2\"], [\"1/2\", 1, 2], [2, \"1/2\", 1]]\n";
    let (_dir, catalog) = catalog_with_ahp("results", inconsistent);
    let (_t, out, o) = computed_with("weights = \"ahp\"", Some(&catalog));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for needle in ["\"results\"", "CR = 0.431", "λmax 3.500", "ahp_cr_limit", "patent_applications: 1.000 2.000 0.500"]
    {
        assert!(err.contains(needle), "{needle} not in: {err}");
    }
    assert!(!out.join("results").exists(), "nothing is published");
    // A scheme that accepts it says so in the config.
    let (_t, out, o) = computed_with("weights = \"ahp\"\nahp_cr_limit = 0.5", Some(&catalog));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let w = weights(&out);
    // Circular judgements of equal strength: every child weighs a third.
    for c in ["patent_applications", "invention_patents_per10k", "tech_contract_value"] {
        assert!((w[&("results".into(), c.into(), None)] - 1.0 / 3.0).abs() < 1e-12);
    }
}

#[test]
fn ahp_without_a_matrix_for_a_node_is_refused() {
    let (_dir, catalog) = catalog_with_ahp("crowds", "");
    let (_t, _out, o) = computed_with("weights = \"ahp\"", Some(&catalog));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("needs a pairwise comparison matrix for \"crowds\""), "{err}");
}

#[test]
fn data_driven_weights_per_year_sum_to_one_in_every_year_and_differ_from_pooled() {
    for scheme in ["entropy", "critic", "cv"] {
        let (_p, pooled) = computed(&format!("weights = \"{scheme}\""));
        let (_y, per_year) = computed(&format!("weights = \"{scheme}\"\nweights_years = \"per_year\""));
        let (wp, wy) = (weights(&pooled), weights(&per_year));
        assert!(wp.keys().all(|k| k.2.is_none()), "{scheme}: pooled weights have no year");
        let mut sums: HashMap<(String, i32), f64> = HashMap::new();
        for ((node, _, year), w) in &wy {
            *sums.entry((node.clone(), year.expect("a year per set"))).or_default() += w;
        }
        assert_eq!(sums.len(), 6 * 9, "{scheme}: 6 nodes × 9 years");
        assert!(sums.values().all(|s| (s - 1.0).abs() < 1e-9), "{scheme}");
        let differs =
            wy.iter().any(|((n, c, y), w)| (wp[&(n.clone(), c.clone(), None)] - w).abs() > 1e-6 && y.is_some());
        assert!(differs, "{scheme}: per-year weights equal the pooled ones");
    }
}

#[test]
fn mpi_and_power_mean_of_the_dimension_scores_as_defined() {
    // MPI− on population z-scores 100 ± 10, equal weights: M − S²/M of the five dimensions.
    let (_m, mpi) = computed(
        "normalisation = \"zscore\"\nscale = [100.0, 10.0]\nzscore_sd = \"population\"\nweights = \"equal\"\naggregation = \"mpi\"",
    );
    let (index, dims) = index_and_dimensions(&mpi);
    let mut checked = 0;
    for ((region, year), v) in &index {
        let s: Vec<f64> =
            DIMENSIONS.iter().filter_map(|d| dims.get(&(region.clone(), *year, d.to_string())).copied()).collect();
        if s.len() < 5 {
            continue;
        }
        let m = s.iter().sum::<f64>() / 5.0;
        let var = s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 5.0;
        assert!((v - (m - var / m)).abs() < 1e-9, "{region} {year}: {v} vs {}", m - var / m);
        assert!(*v <= m + 1e-12, "the penalty never raises the mean");
        checked += 1;
    }
    assert!(checked > 200, "{checked}");
    // Power mean β = 0.5 with the catalog's dimension weights (0.2 each).
    let (_p, power) = computed("scale = [1.0, 100.0]\naggregation = \"power\"\npower = 0.5");
    let (index, dims) = index_and_dimensions(&power);
    for ((region, year), v) in index.iter().take(50) {
        let s: Vec<f64> =
            DIMENSIONS.iter().filter_map(|d| dims.get(&(region.clone(), *year, d.to_string())).copied()).collect();
        if s.len() == 5 {
            let want = (s.iter().map(|x| 0.2 * x.sqrt()).sum::<f64>()).powi(2);
            assert!((v - want).abs() < 1e-9, "{region} {year}: {v} vs {want}");
        }
    }
}

#[test]
fn topsis_closeness_is_measured_from_the_best_and_worst_of_each_year() {
    let (_t, out) = computed("comparison = \"per_year\"\nweights = \"equal\"\naggregation = \"topsis\"");
    let (index, dims) = index_and_dimensions(&out);
    for year in 2016..=2024 {
        let rows: Vec<(&String, f64)> =
            index.iter().filter(|((_, y), _)| *y == year).map(|((r, _), v)| (r, *v)).collect();
        assert_eq!(rows.len(), 25, "{year}");
        // Recomputed from the dimension scores: ideal = each dimension's best that year.
        let score = |r: &String, d: &str| dims.get(&(r.clone(), year, d.to_string())).copied();
        let complete: Vec<&(&String, f64)> =
            rows.iter().filter(|(r, _)| DIMENSIONS.iter().all(|d| score(r, d).is_some())).collect();
        if complete.len() < 25 {
            continue;
        }
        let best: Vec<f64> = DIMENSIONS
            .iter()
            .map(|d| rows.iter().map(|(r, _)| score(r, d).unwrap()).fold(f64::MIN, f64::max))
            .collect();
        let worst: Vec<f64> = DIMENSIONS
            .iter()
            .map(|d| rows.iter().map(|(r, _)| score(r, d).unwrap()).fold(f64::MAX, f64::min))
            .collect();
        for (r, v) in &rows {
            let (mut plus, mut minus) = (0.0, 0.0);
            for (k, d) in DIMENSIONS.iter().enumerate() {
                let x = 0.2 * score(r, d).unwrap();
                plus += (x - 0.2 * best[k]).powi(2);
                minus += (x - 0.2 * worst[k]).powi(2);
            }
            let want = 100.0 * minus.sqrt() / (plus.sqrt() + minus.sqrt());
            assert!((v - want).abs() < 1e-9, "{r} {year}: {v} vs {want}");
            assert!((0.0..=100.0).contains(v));
        }
    }
}

#[test]
fn the_sensitivity_analysis_switches_weight_schemes_and_says_which() {
    let (_s, out) = computed(
        "weights = \"catalog\"\naggregation = \"arithmetic\"\n[sensitivity]\nsamples = 20\nweights = [\"catalog\", \"entropy\", \"critic\"]\n\
         aggregations = [\"arithmetic\", \"topsis\", \"power\"]\nnormalisations = [\"minmax\"]",
    );
    let s = table(&out, "sensitivity");
    let (factor, args) = (strs(&s, "factor"), strs(&s, "options_args"));
    let row = factor.iter().position(|f| f == "weight_scheme").expect("a weight_scheme factor");
    assert!(args[row].contains("\"catalog\",\"entropy\",\"critic\""), "{}", args[row]);
    let agg = factor.iter().position(|f| f == "aggregation").unwrap();
    assert!(args[agg].contains("topsis") && args[agg].contains("power"), "{}", args[agg]);
    let total: Vec<f64> = s.column("total").unwrap().f64().unwrap().iter().map(Option::unwrap).collect();
    assert!(total[row] > 0.0, "switching weight schemes moves some rank");
    // The MPI is defined on z-scores: switching to it from min-max scores is refused, in words.
    let (_t, _out, o) = computed_with(
        "weights = \"catalog\"\n[sensitivity]\nsamples = 4\naggregations = [\"arithmetic\", \"mpi\"]\nnormalisations = [\"minmax\"]",
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("normalisations = [\"zscore\"]"), "{err}");
    let (_t, _out, o) = computed_with(
        "normalisation = \"zscore\"\nscale = [100.0, 10.0]\nzscore_sd = \"population\"\naggregation = \"mpi\"\n\
         [sensitivity]\nsamples = 4\naggregations = [\"arithmetic\", \"mpi\"]\nnormalisations = [\"zscore\"]",
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The text of a PDF (poppler's pdftotext).
fn pdftotext(pdf: &Path) -> String {
    let o = std::process::Command::new("pdftotext").args([pdf.to_str().unwrap(), "-"]).output().expect("pdftotext");
    assert!(o.status.success(), "pdftotext {}", pdf.display());
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_second_catalogs_sample_runs_into_reports_as_the_default_one_does() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("shuangchuang");
    common::copy_dir(&repo().join("sample-data/shuangchuang"), &project);
    // The shipped config, with the schemas found in this checkout and the output beside it.
    let config = std::fs::read_to_string(project.join("cimon.toml")).unwrap();
    let schemas = repo().join("schemas");
    let config = config.replace("../../schemas", schemas.to_str().unwrap()).replace("../../out-shuangchuang", "out");
    std::fs::write(project.join("cimon.toml"), config).unwrap();
    cimon(&project, &["run", "--config", "cimon.toml", "-q"]).success();
    let reports = project.join("out/reports");
    let pdfs = std::fs::read_dir(&reports)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "pdf"))
        .count();
    assert_eq!(pdfs, 26, "25 county reports and the overview");
    let county = pdftotext(&reports.join("620921-金塔县.pdf"));
    for needle in
        ["县域双创发展监测报告", "双创发展指数", "众创众包众扶众筹", "组合赋权", "层次分析法一致性检验", "示例数据"]
    {
        assert!(county.contains(needle), "the 金塔县 report lacks {needle:?}");
    }
    // 金塔县's 2018 plan's six targets are tracked in its report.
    assert!(county.contains("共跟踪 6 项目标") && county.contains("金塔县 2018："), "{county}");
    assert!(pdftotext(&reports.join("overview.pdf")).contains("县域双创发展监测总报告"));
}

/// The error of a config with these `[compute]` lines: refused on reading, before any input.
fn config_refused(compute: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cimon.toml");
    std::fs::write(&cfg, format!("[compute]\n{compute}\n")).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cimon"))
        .args(["compute", "--config", cfg.to_str().unwrap(), "--out", tmp.path().join("out").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!tmp.path().join("out").exists(), "nothing written");
    err
}

#[test]
fn settings_whose_scores_cannot_feed_the_method_are_refused_before_reading_anything() {
    // The MPI of min-max scores from 0: a county at 0 on every child has no M to divide by.
    let err = config_refused("aggregation = \"mpi\"");
    assert!(
        err.contains("aggregation = \"mpi\" needs scores above 0") && err.contains("scale = [100.0, 10.0]"),
        "{err}"
    );
    let err = config_refused("aggregation = \"power\"\npower = -1.0");
    assert!(err.contains("power = -1 (below 0) needs scores above 0"), "{err}");
    // CV weights read dimension scores as amounts: z-scores around 0 are refused, in words.
    let err = config_refused("normalisation = \"zscore\"\nscale = [0.0, 1.0]\nweights = \"cv\"");
    assert!(err.contains("CV weights and entropy on shares"), "{err}");
    // The MPI on z-scores with the default sensitivity analysis (which switches between
    // arithmetic and geometric means, never to the MPI) runs.
    let (_t, out, o) = computed_with(
        "normalisation = \"zscore\"\nscale = [100.0, 10.0]\nzscore_sd = \"population\"\naggregation = \"mpi\"\n\
         [sensitivity]\nsamples = 4",
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("results/uncertainty.parquet").is_file());
}
