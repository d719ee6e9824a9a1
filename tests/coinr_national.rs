//! The whole pipeline against COINr 1.1.14 on a national-shape panel: 400 synthetic counties of
//! the real registry (renamed, merged and split ones among them) over 15 years, ingested and
//! computed by the real binary, the index compared county by county and year by year with
//! COINr's (`tests/reference/coinr-national`, made by its `make.sh`). With COINr's outlier
//! treatment year by year (cimon's default method) and without it.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::Path;

use cimon::results::{IndexRow, TreatmentRow};

const TOL: f64 = 1e-9;

/// COINr's index by (county code, year); its unit codes carry a leading `C`.
fn coinr(file: &str) -> BTreeMap<(String, i32), f64> {
    let path = repo().join("tests/reference/coinr-national").join(file);
    let mut rd = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            let code = r[0].strip_prefix('C').expect("COINr codes start with C").to_string();
            ((code, r[1].parse().unwrap()), r[2].parse().unwrap())
        })
        .collect()
}

/// Every county-year COINr scored has cimon's index within `TOL`, and cimon scored no other.
#[track_caller]
fn same_index(out: &Path, reference: &str) {
    let expected = coinr(reference);
    let rows: Vec<IndexRow> = cimon::tables::read(&out.join("results")).unwrap();
    let scored: BTreeMap<(String, i32), f64> =
        rows.iter().filter_map(|r| Some(((r.region_code.to_string(), r.year), r.index?))).collect();
    assert_eq!(scored.len(), expected.len(), "{reference}: county-years with an index");
    let mut worst = 0.0f64;
    for (key, want) in &expected {
        let got = scored.get(key).unwrap_or_else(|| panic!("{reference}: cimon has no index for {key:?}"));
        let diff = (got - want).abs();
        assert!(diff <= TOL, "{reference}: {key:?}: cimon {got}, COINr {want}");
        worst = worst.max(diff);
    }
    eprintln!("{reference}: {} county-years, largest difference {worst:.1e}", expected.len());
}

#[test]
fn the_index_of_a_national_shape_panel_is_coinrs() {
    let tmp = tempfile::tempdir().unwrap();
    let (nat, out) = (tmp.path().join("nat"), tmp.path().join("out"));
    let (nat_s, out_s) = (nat.to_str().unwrap(), out.to_str().unwrap());
    let regions = nat.join("regions.csv");
    let regions_s = regions.to_str().unwrap();
    cimon(
        tmp.path(),
        &["synth", "--kind", "national", "--counties", "400", "--from", "2010", "--to", "2024", "--out", nat_s],
    )
    .success();
    let inputs = nat.join("inputs");
    cimon(tmp.path(), &["ingest", inputs.to_str().unwrap(), "--regions", regions_s, "--out", out_s, "-q"]).success();
    let registry = std::fs::read_to_string(&regions).unwrap();
    for change in ["renamed", "merged", "split"] {
        assert!(registry.lines().any(|l| l.contains(change)), "the panel has a {change} county");
    }

    let config = tmp.path().join("cimon.toml");
    std::fs::write(&config, "[sensitivity]\nenabled = false\n").unwrap();
    let compute = |config: &Path| {
        cimon(
            tmp.path(),
            &["compute", "--config", config.to_str().unwrap(), "--regions", regions_s, "--out", out_s, "-q"],
        )
        .success();
    };
    compute(&config);
    // The treatment did something: some indicator-years winsorised or log-transformed.
    let treated: Vec<TreatmentRow> = cimon::tables::read(&out.join("results")).unwrap();
    assert!(treated.iter().any(|t| t.treated && t.winsorised_points > 0));
    assert!(treated.iter().any(|t| t.log_transformed));
    same_index(&out, "index_coinr.csv");

    std::fs::write(&config, "[sensitivity]\nenabled = false\n[compute]\noutliers = \"none\"\n").unwrap();
    compute(&config);
    same_index(&out, "index_none.csv");
}
