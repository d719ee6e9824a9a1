//! End-to-end tests of `cimon compute` and `cimon explain` on the sample province.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::{cimon, repo};
use polars::prelude::*;

/// Ingest and compute the sample once into a temp dir, with an optional config file.
fn computed(config: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    cimon(&repo(), &["ingest", "sample-data", "--out", o, "-q"]).success();
    let mut args = vec!["compute", "--out", o, "-q"];
    let cfg = tmp.path().join("cimon.toml");
    if let Some(text) = config {
        std::fs::write(&cfg, text).unwrap();
        args.extend(["--config", cfg.to_str().unwrap()]);
    }
    cimon(&repo(), &args).success();
    (tmp, out)
}

fn table(out: &Path, name: &str) -> DataFrame {
    cimon::tables::read_frame(&out.join("results"), name).unwrap()
}

fn store_value(out: &Path, region: &str, year: i32, indicator: &str) -> Option<f64> {
    let df = cimon::store::scan_observations(&out.join("store"))
        .unwrap()
        .filter(
            col("region_code").eq(lit(region)).and(col("year").eq(lit(year))).and(col("indicator").eq(lit(indicator))),
        )
        .collect()
        .unwrap();
    assert_eq!(df.height(), 1, "{region} {year} {indicator}");
    df.column("value").unwrap().f64().unwrap().get(0)
}

fn f64s(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
    df.column(c).unwrap().f64().unwrap().iter().collect()
}
fn u32s(df: &DataFrame, c: &str) -> Vec<Option<u32>> {
    df.column(c).unwrap().u32().unwrap().iter().collect()
}
fn strs(df: &DataFrame, c: &str) -> Vec<String> {
    df.column(c).unwrap().str().unwrap().iter().map(|s| s.unwrap_or("").to_string()).collect()
}
fn i32s(df: &DataFrame, c: &str) -> Vec<Option<i32>> {
    df.column(c).unwrap().i32().unwrap().iter().collect()
}

#[test]
fn index_is_the_weighted_mean_of_dimensions_and_ranks_are_consistent() {
    let (_tmp, out) = computed(None);
    let idx = table(&out, "index");
    assert_eq!(idx.height(), 25 * 10);
    let index = f64s(&idx, "index");
    let dims: Vec<Vec<Option<f64>>> = ["environment", "input", "enterprise", "output", "impact"]
        .iter()
        .map(|d| f64s(&idx, &format!("score_{d}")))
        .collect();
    for i in 0..idx.height() {
        // Equal catalog weights (0.2 each), missing dimensions skipped.
        let present: Vec<f64> = dims.iter().filter_map(|d| d[i]).collect();
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        assert!((index[i].unwrap() - mean).abs() < 1e-9, "row {i}");
    }
    let years = i32s(&idx, "year");
    let codes = strs(&idx, "region_code");
    let prefs = strs(&idx, "prefecture_code");
    let rank = u32s(&idx, "rank");
    let rank_pref = u32s(&idx, "rank_prefecture");
    let tier = u32s(&idx, "casted_tier");
    let change = i32s(&idx, "rank_change");
    let mut by_key = HashMap::new();
    for i in 0..idx.height() {
        by_key.insert((codes[i].clone(), years[i].unwrap()), i);
    }
    for i in 0..idx.height() {
        let same_year: Vec<usize> = (0..idx.height()).filter(|&j| years[j] == years[i]).collect();
        let above = same_year.iter().filter(|&&j| index[j] > index[i]).count() as u32;
        assert_eq!(rank[i], Some(above + 1), "rank = 1 + counties strictly above");
        let above_pref = same_year.iter().filter(|&&j| prefs[j] == prefs[i] && index[j] > index[i]).count() as u32;
        assert_eq!(rank_pref[i], Some(above_pref + 1));
        let mean = same_year.iter().map(|&j| index[j].unwrap()).sum::<f64>() / same_year.len() as f64;
        let expected_tier = if index[i].unwrap() > mean {
            1
        } else if index[i].unwrap() >= 50.0 {
            2
        } else {
            3
        };
        assert_eq!(tier[i], Some(expected_tier));
        match by_key.get(&(codes[i].clone(), years[i].unwrap() - 1)) {
            Some(&p) => assert_eq!(change[i], Some(rank[p].unwrap() as i32 - rank[i].unwrap() as i32)),
            None => assert_eq!(change[i], None),
        }
    }
    // 京山 continues under its current code through the 2018 code change.
    assert_eq!(codes.iter().filter(|c| *c == "420882").count(), 10);
    assert!(!codes.contains(&"420821".to_string()));
}

#[test]
fn pooled_min_max_spans_zero_to_hundred_over_all_years() {
    let (_tmp, out) = computed(None);
    let norm = table(&out, "normalised");
    let inds = strs(&norm, "indicator");
    let vals = f64s(&norm, "normalised");
    let treated = f64s(&norm, "treated_value");
    let raw = f64s(&norm, "raw");
    for code in ["tech_contract_value", "energy_intensity", "rd_intensity"] {
        let v: Vec<f64> = (0..norm.height()).filter(|&i| inds[i] == code).filter_map(|i| vals[i]).collect();
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(lo.abs() < 1e-9 && (hi - 100.0).abs() < 1e-9, "{code}: [{lo}, {hi}]");
    }
    // Energy intensity is lower-is-better: its lowest treated value scores 100.
    let energy: Vec<usize> =
        (0..norm.height()).filter(|&i| inds[i] == "energy_intensity" && vals[i].is_some()).collect();
    let best = energy.iter().min_by(|&&a, &&b| treated[a].partial_cmp(&treated[b]).unwrap()).unwrap();
    assert!((vals[*best].unwrap() - 100.0).abs() < 1e-9);
    // The 2021 contract outlier of 敦煌市 was treated, and the treatment is on record.
    let codes = strs(&norm, "region_code");
    let years = i32s(&norm, "year");
    let i = (0..norm.height())
        .find(|&i| codes[i] == "620982" && years[i] == Some(2021) && inds[i] == "tech_contract_value")
        .unwrap();
    assert_eq!(raw[i], Some(286500.0));
    assert!(treated[i].unwrap() < 286500.0);
    let t = table(&out, "treatment");
    let hit = (0..t.height()).any(|k| {
        strs(&t, "indicator")[k] == "tech_contract_value"
            && i32s(&t, "year")[k] == Some(2021)
            && t.column("treated").unwrap().bool().unwrap().get(k) == Some(true)
    });
    assert!(hit, "treatment table records the 2021 tech_contract_value column");
}

#[test]
fn growth_and_attainment_match_the_store_by_hand() {
    let (_tmp, out) = computed(None);
    let g = table(&out, "growth");
    let pick = |region: &str, year: i32, ind: &str, measure: &str| {
        let (r, y, i) = (strs(&g, "region_code"), i32s(&g, "year"), strs(&g, "indicator"));
        let k = (0..g.height()).find(|&k| r[k] == region && y[k] == Some(year) && i[k] == ind).unwrap();
        (f64s(&g, measure)[k], strs(&g, "change_unit")[k].clone())
    };
    let (a, b) = (
        store_value(&out, "420802", 2023, "tech_contract_value").unwrap(),
        store_value(&out, "420802", 2024, "tech_contract_value").unwrap(),
    );
    let (c, unit) = pick("420802", 2024, "tech_contract_value", "yoy");
    assert!((c.unwrap() - (b / a - 1.0) * 100.0).abs() < 1e-9 && unit == "%");
    let (a, b) = (
        store_value(&out, "420802", 2021, "rd_intensity").unwrap(),
        store_value(&out, "420802", 2024, "rd_intensity").unwrap(),
    );
    let (c, unit) = pick("420802", 2024, "rd_intensity", "avg_3y");
    assert!((c.unwrap() - (b - a) / 3.0).abs() < 1e-9 && unit == "pp", "ratios change in points");
    // Growth runs on every catalog indicator, context series included, one row per county-year.
    assert_eq!(g.height(), common::sample_observations());
    let (c, _) = pick("420802", 2015, "gdp", "yoy");
    assert_eq!(c, None, "no year before the first");

    let att = table(&out, "attainment");
    let row = |id: &str, region: &str| {
        let (t, r) = (strs(&att, "target_id"), strs(&att, "region_code"));
        (0..att.height()).find(|&k| t[k] == id && r[k] == region).unwrap_or_else(|| panic!("{id} {region}"))
    };
    // 金塔县: technology contracts ≥ 2 亿元 (= 20000 万元) by 2020.
    let k = row("jinta-contracts", "620921");
    let x = store_value(&out, "620921", 2020, "tech_contract_value").unwrap();
    assert_eq!(f64s(&att, "target")[k], Some(20000.0));
    assert!((f64s(&att, "attainment")[k].unwrap() - x / 20000.0).abs() < 1e-12);
    assert_eq!(strs(&att, "status")[k], if x >= 20000.0 { "achieved" } else { "missed" });
    // 东宝区: 30 talents over 2021–2025; the running sum to 2024 and what is left for 2025.
    let k = row("dongbao-talents", "420802");
    let sum: f64 = (2021..=2024).map(|y| store_value(&out, "420802", y, "high_level_talents").unwrap()).sum();
    assert_eq!(f64s(&att, "actual")[k], Some(sum));
    if sum < 30.0 {
        assert!((f64s(&att, "needed_per_year")[k].unwrap() - (30.0 - sum)).abs() < 1e-9);
    }
    // Every county of 甘肃省 gets the growth-range target; none of 白山市 does.
    let gansu = strs(&att, "target_id").iter().filter(|t| *t == "gansu-tech-trade-growth").count();
    assert_eq!(gansu, 14);
    let k = row("gansu-tech-trade-growth", "620902");
    let (x0, x3) = (
        store_value(&out, "620902", 2017, "tech_contract_value").unwrap(),
        store_value(&out, "620902", 2020, "tech_contract_value").unwrap(),
    );
    assert!((f64s(&att, "actual")[k].unwrap() - ((x3 / x0).powf(1.0 / 3.0) - 1.0) * 100.0).abs() < 1e-9);
    // A lower-is-better target: attainment = target / value.
    let k = row("jingmen-energy", "420802");
    let x = store_value(&out, "420802", 2024, "energy_intensity").unwrap();
    assert!((f64s(&att, "attainment")[k].unwrap() - 0.6 / x).abs() < 1e-12);
}

#[test]
fn method_is_recorded_and_alternatives_run() {
    let (_tmp, out) = computed(Some(
        "[compute]\nnormalisation = \"efficacy\"\ncomparison = \"per_year\"\nweights = \"entropy\"\naggregation = \"geometric\"\nimputation = \"locf\"\n",
    ));
    let m = table(&out, "method");
    let kv: HashMap<String, String> = strs(&m, "key").into_iter().zip(strs(&m, "value")).collect();
    assert_eq!(kv["compute.normalisation"], "efficacy");
    assert_eq!(kv["compute.weights"], "entropy");
    let idx = table(&out, "index");
    for v in f64s(&idx, "index").into_iter().flatten() {
        assert!((60.0..=100.0).contains(&v), "efficacy scores stay in [60, 100]: {v}");
    }
    let w = table(&out, "weights");
    let (node, eff) = (strs(&w, "node"), f64s(&w, "effective_weight"));
    for n in ["cici", "environment", "output"] {
        let s: f64 = (0..w.height()).filter(|&k| node[k] == n).map(|k| eff[k].unwrap()).sum();
        assert!((s - 1.0).abs() < 1e-12, "entropy weights of {n} sum to 1");
    }
    // LOCF filled the sample's gaps that have an earlier value.
    let norm = table(&out, "normalised");
    let imputed = norm.column("imputed").unwrap().bool().unwrap().iter().filter(|b| *b == Some(true)).count();
    assert!(imputed >= 3, "{imputed}");
}

#[test]
fn explain_breaks_down_a_county_and_rejects_unknown_ones() {
    let (_tmp, out) = computed(None);
    let o = out.to_str().unwrap();
    let run = cimon(&repo(), &["explain", "东宝区", "--out", o]);
    run.success();
    for needle in [
        "东宝区 (420802) · 荆门市 · 湖北省 — 2024",
        "rank",
        "创新环境 environment",
        "strongest indicators",
        "weakest indicators",
        "change from 2023",
    ] {
        assert!(run.stdout.contains(needle), "{needle}\n{}", run.stdout);
    }
    let run = cimon(&repo(), &["explain", "420821", "--year", "2016", "--out", o]);
    run.success();
    assert!(
        run.stdout.contains("京山市 (420882)") && run.stdout.contains("— 2016"),
        "old code resolves to the current one\n{}",
        run.stdout
    );
    cimon(&repo(), &["explain", "不存在县", "--out", o])
        .failure(2)
        .stderr_line(&["error: unknown county \"不存在县\""]);
    cimon(&repo(), &["explain", "东宝区", "--year", "1999", "--out", o])
        .failure(2)
        .stderr_line(&["no results for 东宝区 (420802) in 1999"]);
    // Strongest and weakest dimension: the best and worst of its 2024 dimension ranks.
    let scores = table(&out, "scores");
    let (r, y, node, rank) =
        (strs(&scores, "region_code"), i32s(&scores, "year"), strs(&scores, "node"), u32s(&scores, "rank"));
    let catalog = cimon::catalog::Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
    let mut ranks: Vec<(u32, String)> = catalog
        .dimensions()
        .map(|d| {
            let k =
                (0..scores.height()).find(|&k| r[k] == "420802" && y[k] == Some(2024) && node[k] == d.code).unwrap();
            (rank[k].unwrap(), d.name_zh.clone())
        })
        .collect();
    ranks.sort();
    let ((best, strong), (worst, weak)) = (ranks[0].clone(), ranks[ranks.len() - 1].clone());
    assert!(best < worst, "the sample's 东宝区 has a strongest and a weakest dimension");
    let expected = format!("strongest dimension: {strong} (rank {best}); weakest: {weak} (rank {worst})");
    let line = run_line(&["explain", "东宝区", "--out", o]);
    assert!(line.contains(&expected), "{expected}\n{line}");
    // A name two registry entries share is refused with both candidates.
    let tmp = tempfile::tempdir().unwrap();
    let regions = tmp.path().join("regions.csv");
    let mut text = std::fs::read_to_string(repo().join("schemas/regions.csv")).unwrap();
    text.push_str("220199,东宝区,市辖区,220100,长春市,220000,吉林省,,,,,\n");
    std::fs::write(&regions, text).unwrap();
    cimon(&repo(), &["explain", "东宝区", "--out", o, "--regions", regions.to_str().unwrap()]).failure(2).stderr_line(
        &["\"东宝区\" names several counties", "420802 东宝区 (湖北省 荆门市)", "220199 东宝区 (吉林省 长春市)"],
    );
}

/// Stdout of a successful run.
fn run_line(args: &[&str]) -> String {
    let run = cimon(&repo(), args);
    run.success();
    run.stdout.clone()
}

#[test]
fn results_of_an_older_format_or_another_registry_are_refused_with_what_to_do() {
    let (_tmp, out) = computed(None);
    let o = out.to_str().unwrap();
    // index.parquet as an older cimon wrote it: the same columns, table format 1.
    let path = out.join("results/index.parquet");
    let mut df = table(&out, "index");
    let file = std::fs::File::create(&path).unwrap();
    ParquetWriter::new(file)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![
            ("cimon.version".to_string(), "0.1.0".to_string()),
            ("cimon.store_version".to_string(), "1".to_string()),
        ])))
        .finish(&mut df)
        .unwrap();
    cimon(&repo(), &["explain", "东宝区", "--out", o])
        .failure(2)
        .stderr_line(&["index.parquet was written by cimon 0.1.0 in table format 1", "cimon run --force"]);
    // A registry that lacks counties of the store is a configuration error, not a bug.
    let tmp = tempfile::tempdir().unwrap();
    let regions = tmp.path().join("regions.csv");
    let text = std::fs::read_to_string(repo().join("schemas/regions.csv")).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("220602,")).collect();
    std::fs::write(&regions, kept.join("\n") + "\n").unwrap();
    cimon(&repo(), &["compute", "--out", o, "--regions", regions.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["region codes 220602 are in the store", "but not in the registry"])
        .stderr_line(&["hint: pass the registry the store was ingested with"]);
    // A registry that makes two counties of the store one (掇刀区 renamed 东宝区 long ago): each
    // cell would hold two values, and neither may silently replace the other.
    let merged: Vec<String> = text
        .lines()
        .map(|l| match l.strip_prefix("420804,") {
            Some(_) => "420804,掇刀区,市辖区,420800,荆门市,420000,湖北省,,2000,420802,renamed,".to_string(),
            None => l.to_string(),
        })
        .collect();
    std::fs::write(&regions, merged.join("\n") + "\n").unwrap();
    let published = std::fs::read(out.join("results/scores.parquet")).unwrap();
    cimon(&repo(), &["compute", "--out", o, "--regions", regions.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["the store", "under both 420802 and 420804", "makes one county (420802)"])
        .stderr_line(&["hint: pass the registry the store was ingested with"]);
    assert_eq!(std::fs::read(out.join("results/scores.parquet")).unwrap(), published, "published results untouched");
}

#[test]
fn compute_without_a_store_or_with_a_bad_method_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    cimon(&repo(), &["compute", "--out", o.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["error: no store at"])
        .stderr_line(&["hint: run `cimon ingest"]);
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, "[compute]\nnormalisation = \"minmaxx\"\n").unwrap();
    cimon(&repo(), &["compute", "--out", o.to_str().unwrap(), "--config", cfg.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["c.toml: line 2, column 17 (compute.normalisation): unknown variant `minmaxx`"]);
    std::fs::write(&cfg, "[compute]\ncomparison = \"base_year\"\n").unwrap();
    cimon(&repo(), &["compute", "--out", o.to_str().unwrap(), "--config", cfg.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["needs base_year"]);
}

#[test]
fn init_writes_a_starter_config_once_and_the_sample_config_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bureau");
    let d = dir.to_str().unwrap();
    cimon(&repo(), &["init", d]).success();
    let text = std::fs::read_to_string(dir.join("cimon.toml")).unwrap();
    assert!(text.contains("[compute]") && text.contains("normalisation = \"minmax\""));
    cimon(&repo(), &["init", d]).failure(2).stderr_line(&["cimon.toml exists already"]);
    // The sample's own config: flags still override its output directory.
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    cimon(&repo(), &["ingest", "--config", "sample-data/cimon.toml", "--out", o, "-q"]).success();
    let r = cimon(&repo(), &["compute", "--config", "sample-data/cimon.toml", "--out", o, "-q"]);
    r.success();
    assert!(!r.stderr.contains("base_year"), "a base year inside the data is not warned of: {}", r.stderr);
    let g = table(&out, "growth");
    assert!(g.get_column_names().iter().any(|c| c.as_str() == "since_2015"), "base_year from the config");

    // A base year after the data (a typo for 2020): computed, and the analyst told why the
    // since_ columns are empty and which years would do.
    let cfg = tmp.path().join("late.toml");
    std::fs::write(&cfg, "[growth]\nbase_year = 2030\n").unwrap();
    let years = table(&out, "index").column("year").unwrap().i32().unwrap().clone();
    let (first, last) = (years.min().unwrap(), years.max().unwrap());
    cimon(&repo(), &["compute", "--config", cfg.to_str().unwrap(), "--out", o, "-q"]).success().stderr_line(&[
        "warning: config file",
        "late.toml",
        "base_year = 2030 is outside the data",
        "since_2030",
        &format!("a year from {first} to {}", last - 1),
    ]);
    let g = table(&out, "growth");
    assert_eq!(g.column("since_2030").unwrap().null_count(), g.height(), "no growth since a year after the data");
}

/// A bureau keeps its targets as a workbook beside the data: it is read as targets, not as data,
/// kept in the store as TOML, and judged.
#[test]
fn a_targets_workbook_beside_the_inputs_is_used_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    common::copy_dir(&repo().join("sample-data/inputs"), &data);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("目标").unwrap();
    ws.write_string(0, 0, "2021年县域创新目标（示例）").unwrap();
    let header = ["编号", "指标", "范围", "类型", "比较", "目标值", "单位", "起始年", "目标年", "依据"];
    let rows = [
        [
            "db-contracts",
            "技术合同成交额",
            "东宝区",
            "水平",
            "达到",
            "6.5",
            "亿元",
            "2020",
            "2022",
            "东宝区 2021：技术合同",
        ],
        ["jm-energy", "万元GDP综合能耗", "荆门市", "水平", "≤", "0.6", "", "2020", "2024", "示例"],
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 2, c as u16, *v).unwrap();
        }
    }
    wb.save(data.join("targets.xlsx")).unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let run = cimon(&repo(), &["ingest", data.to_str().unwrap(), "--out", o]);
    run.success();
    assert!(!run.stderr.contains("targets.xlsx"), "the workbook is not read as data\n{}", run.stderr);
    let kept = std::fs::read_to_string(out.join("store/targets.toml")).unwrap();
    assert!(kept.contains("db-contracts") && kept.contains("targets.xlsx"), "{kept}");
    cimon(&repo(), &["compute", "--out", o, "-q"]).success();
    let att = table(&out, "attainment");
    let ids: std::collections::BTreeSet<String> = strs(&att, "target_id").into_iter().collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), ["db-contracts", "jm-energy"]);
    // 6.5 亿元 in the catalog unit (万元), converted once.
    let k = strs(&att, "target_id").iter().position(|t| t == "db-contracts").unwrap();
    assert_eq!(f64s(&att, "target")[k], Some(65000.0));
    assert_eq!(strs(&att, "target_id").iter().filter(|t| *t == "jm-energy").count(), 5, "荆门市's five counties");
}

/// 绩效拨款: the amounts add up to an awkward budget under a cap, each is made of its parts, the
/// index part follows the index above the floor, and with nothing uncertain the intervals have
/// no width.
#[test]
fn funding_adds_up_to_the_budget_and_without_noise_its_intervals_have_no_width() {
    let cfg = r#"
[funding]
budget = 1001
base = 10
tier_awards = { "1" = 25 }
cap = 90
[[funding.parts]]
kind = "index"
weight = 2
above = 15
[[funding.parts]]
kind = "rank_gain"
weight = 1
[sensitivity]
samples = 4
weight_noise = 0.0
normalisations = ["minmax"]
aggregations = ["arithmetic"]
imputation = false
exclude_indicators = false
"#;
    let (_tmp, out) = computed(Some(cfg));
    let rows: Vec<cimon::results::FundingRow> = cimon::tables::read(&out.join("results")).unwrap();
    assert_eq!(rows.len(), 25);
    assert!(rows.iter().all(|r| r.year == 2024), "the latest year by default");
    assert_eq!(rows.iter().map(|r| r.amount).sum::<f64>(), 1001.0);
    for r in &rows {
        assert!(r.amount <= 90.0 && r.amount.fract() == 0.0, "{}: {}", r.region_name, r.amount);
        let parts = r.base_amount + r.tier_award + r.index_part.unwrap() + r.rank_gain_part.unwrap() + r.adjustment;
        assert!((parts - r.amount).abs() < 1e-9, "{}: the columns add up", r.region_name);
        assert_eq!(r.tier_award, if r.casted_tier == Some(1) { 25.0 } else { 0.0 });
        assert_eq!(r.improvement_part, None);
        let (lo, mid, hi) = (r.p05.unwrap(), r.median.unwrap(), r.p95.unwrap());
        assert!((hi - lo).abs() < 1e-6 && (mid - r.amount).abs() < 1.0, "{}: {lo}–{hi}", r.region_name);
        assert_eq!((r.robust, r.runs), (Some(true), 8));
    }
    // The index part: two thirds of what the fixed amounts leave, by max(index − 15, 0).
    let fixed: f64 = rows.iter().map(|r| r.base_amount + r.tier_award).sum();
    let above: f64 = rows.iter().map(|r| (r.index.unwrap() - 15.0).max(0.0)).sum();
    for r in &rows {
        let want = (1001.0 - fixed) * 2.0 / 3.0 * (r.index.unwrap() - 15.0).max(0.0) / above;
        assert!((r.index_part.unwrap() - want).abs() < 1e-9, "{}", r.region_name);
    }
    // A budget the rounding unit does not divide is refused, naming the setting.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[funding]\nbudget = 995\nround_to = 10\n").unwrap();
    let o = out.to_str().unwrap();
    cimon(&repo(), &["compute", "--out", o, "--config", bad.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["bad.toml", "[funding] budget = 995 is not a multiple of round_to = 10"]);
}

/// Every non-empty cell of every sheet as calamine reads it: (sheet, row, column) → value.
fn workbook_cells(path: &Path) -> std::collections::BTreeMap<(String, u32, u32), calamine::Data> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let mut cells = std::collections::BTreeMap::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        for (r, c, v) in range.used_cells() {
            let (r0, c0) = range.start().unwrap();
            cells.insert((name.clone(), r0 + r as u32, c0 + c as u32), v.clone());
        }
    }
    cells
}

/// The results workbook comes from cimon's own XLSX writer: LibreOffice and openpyxl (what
/// analysts open it with, besides Excel) must read every cell where calamine does. (R's openxlsx
/// 4.2 also needs every cell's reference, which the writer therefore always writes.)
/// Needs LibreOffice's `soffice` and Python's openpyxl (`bash .ci/setup`).
#[test]
fn the_results_workbook_reads_the_same_in_libreoffice_and_openpyxl() {
    let (tmp, out) = computed(None);
    let book = out.join("results/results.xlsx");
    let ours = workbook_cells(&book);
    assert!(ours.len() > 10_000, "{} cells", ours.len());

    // LibreOffice saves what it read as a workbook of its own.
    let lo = tmp.path().join("libreoffice");
    let run = std::process::Command::new("soffice")
        .args(["--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(&lo)
        .arg(&book)
        .env("HOME", tmp.path())
        .output()
        .expect("LibreOffice's soffice is needed (bash .ci/setup installs libreoffice-calc-nogui)");
    assert!(run.status.success(), "soffice: {}", String::from_utf8_lossy(&run.stderr));
    let theirs = workbook_cells(&lo.join("results.xlsx"));
    assert_eq!(ours.len(), theirs.len(), "LibreOffice read another number of cells");
    for ((at, a), (at_lo, b)) in ours.iter().zip(&theirs) {
        assert_eq!(at, at_lo, "LibreOffice placed a cell elsewhere");
        match (a, b) {
            // LibreOffice writes numbers back to 15 significant digits.
            (calamine::Data::Float(x), calamine::Data::Float(y)) => {
                assert!((x - y).abs() <= 1e-13 * x.abs().max(1.0), "{at:?}: {x} in LibreOffice is {y}")
            }
            (calamine::Data::Float(x), calamine::Data::Int(y)) => assert_eq!(*x, *y as f64, "{at:?}"),
            _ => assert_eq!(a, b, "{at:?}"),
        }
    }

    // openpyxl: each cell's sheet, row, column and value, as JSON.
    let script = r#"
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
out = []
for ws in wb.worksheets:
    for row in ws.iter_rows():
        for c in row:
            if c.value is not None and c.value != "":
                out.append([ws.title, c.row - 1, c.column - 1, c.value])
json.dump(out, sys.stdout, ensure_ascii=False)
"#;
    let run = std::process::Command::new("python3").arg("-c").arg(script).arg(&book).output().expect("python3");
    assert!(run.status.success(), "openpyxl: {}", String::from_utf8_lossy(&run.stderr));
    let cells: Vec<(String, u32, u32, serde_json::Value)> = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(cells.len(), ours.len(), "openpyxl read another number of cells");
    for (sheet, r, c, v) in cells {
        let ours = &ours[&(sheet.clone(), r, c)];
        match (ours, &v) {
            (calamine::Data::Float(x), serde_json::Value::Number(n)) => {
                assert_eq!(Some(*x), n.as_f64(), "{sheet} ({r}, {c})")
            }
            (calamine::Data::String(s), serde_json::Value::String(t)) => assert_eq!(s, t, "{sheet} ({r}, {c})"),
            _ => panic!("{sheet} ({r}, {c}): calamine read {ours:?}, openpyxl {v}"),
        }
    }
}

/// A catalog that lacks an indicator of the store (a bureau's own, or an older one): compute goes
/// on without it, and says which values it left out and what to do.
#[test]
fn indicators_of_the_store_the_catalog_lacks_are_named_in_a_warning() {
    let (tmp, out) = computed(None);
    let o = out.to_str().unwrap();
    let text = std::fs::read_to_string(repo().join("schemas/indicators.toml")).unwrap();
    let start = text.find("[[indicators]]\ncode = \"budget_expenditure\"").unwrap();
    let end = start + 1 + text[start + 1..].find("[[indicators]]").unwrap();
    let catalog = tmp.path().join("catalog.toml");
    std::fs::write(&catalog, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let run = cimon(&repo(), &["compute", "--out", o, "--catalog", catalog.to_str().unwrap()]);
    run.success().stderr_line(&[
        "warning: the store",
        "holds values of indicator budget_expenditure, which the catalog",
        "catalog.toml does not declare",
        "compute with the catalog the store was ingested with",
    ]);
    let growth = table(&out, "growth");
    let indicators: std::collections::BTreeSet<&str> =
        growth.column("indicator").unwrap().str().unwrap().iter().flatten().collect();
    assert!(!indicators.contains("budget_expenditure") && indicators.contains("population"), "{indicators:?}");
    // With the catalog it was ingested with, not a word.
    let run = cimon(&repo(), &["compute", "--out", o]);
    run.success();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}
