//! End-to-end tests of `cimon validate` and `cimon ingest`: the real binary on good and bad inputs.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{cimon, copy_dir, repo, snapshot};
use polars::prelude::*;

/// One observation as the store holds it.
#[derive(Debug, Clone, PartialEq)]
struct Obs {
    value: Option<f64>,
    raw_value: String,
    raw_unit: String,
    file: String,
    sheet: Option<String>,
    row: Option<u32>,
    column: String,
    out_of_range: bool,
    revised: bool,
}

fn observations(store: &Path) -> DataFrame {
    cimon::store::scan_observations(store).unwrap().collect().unwrap()
}

fn obs(df: &DataFrame, region: &str, year: i32, indicator: &str) -> Option<Obs> {
    let s = |c: &str| df.column(c).unwrap().str().unwrap().clone();
    let (reg, ind, raw, unit, file, sheet, column) = (
        s("region_code"),
        s("indicator"),
        s("raw_value"),
        s("raw_unit"),
        s("source_file"),
        s("source_sheet"),
        s("source_column"),
    );
    let years = df.column("year").unwrap().i32().unwrap().clone();
    let values = df.column("value").unwrap().f64().unwrap().clone();
    let rows = df.column("source_row").unwrap().u32().unwrap().clone();
    let oor = df.column("out_of_range").unwrap().bool().unwrap().clone();
    let rev = df.column("revised").unwrap().bool().unwrap().clone();
    let hits: Vec<usize> = (0..df.height())
        .filter(|&i| reg.get(i) == Some(region) && years.get(i) == Some(year) && ind.get(i) == Some(indicator))
        .collect();
    assert!(hits.len() <= 1, "{region} {year} {indicator} stored {} times", hits.len());
    hits.first().map(|&i| Obs {
        value: values.get(i),
        raw_value: raw.get(i).unwrap().to_string(),
        raw_unit: unit.get(i).unwrap().to_string(),
        file: file.get(i).unwrap().to_string(),
        sheet: sheet.get(i).map(str::to_string),
        row: rows.get(i),
        column: column.get(i).unwrap().to_string(),
        out_of_range: oor.get(i).unwrap(),
        revised: rev.get(i).unwrap(),
    })
}

fn num(raw: &str) -> f64 {
    raw.replace(',', "").parse().unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The sample province: every format and quirk in one ingest, checked against the raw cells.
#[test]
fn sample_data_ingests_with_provenance_units_and_revisions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = cimon(&repo(), &["ingest", "sample-data", "--out", out.to_str().unwrap()]);
    run.success();
    // The implausible energy value is a warning printed with its place, not an error.
    run.stderr_line(&[
        "warning: inputs/2015-2016_县域创新监测_长表.csv, row",
        "620824 华亭县 2016: energy_intensity = 2.31",
    ]);
    // The second catalog's sample has its own cimon.toml: named, not read into this store.
    run.stderr_line(&["warning: shuangchuang/: not read: this folder has its own cimon.toml", "[other_project]"]);
    let store = out.join("store");
    let df = observations(&store);

    // 25 counties (two of them under two codes over time) × 10 years × every catalog series.
    assert_eq!(df.height(), common::sample_observations());
    let years = df.column("year").unwrap().i32().unwrap();
    let regions = df.column("region_code").unwrap().str().unwrap();
    for y in 2015..=2024 {
        let n: BTreeSet<&str> =
            (0..df.height()).filter(|&i| years.get(i) == Some(y)).filter_map(|i| regions.get(i)).collect();
        assert_eq!(n.len(), 25, "{y}");
    }

    // Code change: 京山县 420821 until 2017, 京山市 420882 from 2018 (found by name in the GBK files).
    assert!(obs(&df, "420821", 2017, "gdp").is_some() && obs(&df, "420821", 2018, "gdp").is_none());
    assert!(obs(&df, "420882", 2019, "gdp").unwrap().file.ends_with("2019年县域创新指标_GBK.csv"));

    // Long layout, UTF-8 with BOM, unit column in 亿元 converted to 万元.
    let o = obs(&df, "420802", 2015, "tech_contract_value").unwrap();
    assert_eq!((o.raw_unit.as_str(), o.column.as_str(), o.sheet.clone()), ("亿元", "F", None));
    assert!(close(o.value.unwrap(), num(&o.raw_value) * 1e4), "{o:?}");

    // Workbook: header with full-width brackets (亿元), sheet per year, title and blank rows above.
    let o = obs(&df, "620921", 2017, "rd_expenditure").unwrap();
    assert_eq!((o.raw_unit.as_str(), o.sheet.as_deref()), ("亿元", Some("2017年")));
    assert!(o.row.unwrap() >= 5, "the header is on row 4: {o:?}");
    assert!(close(o.value.unwrap(), num(&o.raw_value) * 1e4), "{o:?}");
    // Numbers stored as text with thousands separators.
    let o = obs(&df, "420881", 2018, "patent_grants").unwrap();
    assert!(o.raw_value.contains(','), "{o:?}");
    assert_eq!(o.value.unwrap(), num(&o.raw_value));

    // GBK CSV: aliases as headers, thousands separators, county by name.
    let o = obs(&df, "620902", 2020, "tech_contract_value").unwrap();
    assert!(o.file.ends_with("2020年县域创新指标_GBK.csv"), "{o:?}");
    assert_eq!(o.value.unwrap(), num(&o.raw_value));

    // "No data" in its several spellings: a row with a null value, not an error.
    for (region, year, ind, raw) in [
        ("620924", 2015, "platform_count", ""),
        ("620923", 2016, "rd_tax_deduction", "—"),
        ("220623", 2019, "new_product_sales_share", "空白"),
        ("220622", 2020, "tech_sme_count", "-"),
    ] {
        let o = obs(&df, region, year, ind).unwrap();
        assert_eq!((o.value, o.raw_value.as_str()), (None, raw), "{region} {year} {ind}");
    }

    // The plausible-range warning is kept as a flag on the value and in the warnings table.
    let o = obs(&df, "620824", 2016, "energy_intensity").unwrap();
    assert_eq!((o.value, o.out_of_range), (Some(2.31), true));
    let w = cimon::tables::read_frame(&store, "warnings").unwrap();
    assert!(w.column("kind").unwrap().str().unwrap().iter().any(|k| k == Some("out_of_range")));
    // The outlier is stored as reported.
    assert_eq!(obs(&df, "620982", 2021, "tech_contract_value").unwrap().value, Some(286500.0));

    // The revision replaced two 2022 values and recorded old, new and both sources.
    let o = obs(&df, "420802", 2022, "tech_contract_value").unwrap();
    assert!(o.revised && o.file == "inputs/2022年数据修订.csv", "{o:?}");
    let rev = cimon::tables::read_frame(&store, "revisions").unwrap();
    assert_eq!(rev.height(), 2);
    let old_src = rev.column("old_source").unwrap().str().unwrap();
    assert!(old_src.iter().all(|s| s.unwrap().starts_with("inputs/2022-2023_县域创新监测.xlsx, sheet 监测数据")));
    let (old, new) = (rev.column("old_value").unwrap().f64().unwrap(), rev.column("new_value").unwrap().f64().unwrap());
    let inds = rev.column("indicator").unwrap().str().unwrap();
    let i = (0..2).find(|&i| inds.get(i) == Some("tech_contract_value")).unwrap();
    // The generator raised the value by 7% and wrote it with one decimal.
    assert!((new.get(i).unwrap() - old.get(i).unwrap() * 1.07).abs() <= 0.05);
    assert_eq!(new.get(i), o.value);

    // Every input file is listed with its sha256.
    let src = cimon::tables::read_frame(&store, "sources").unwrap();
    assert_eq!(src.height(), std::fs::read_dir(repo().join("sample-data/inputs")).unwrap().count() - 1 + 4);
    let formats: BTreeSet<&str> = src.column("format").unwrap().str().unwrap().iter().flatten().collect();
    assert!(
        formats.contains("csv (GBK/GB18030)")
            && formats.contains("csv (UTF-8 with BOM)")
            && formats.contains("workbook"),
        "{formats:?}"
    );
}

/// Hand-made inputs with hand-computed expectations: GBK, full-width brackets, ‰ and 亿元, full-width digits, a revision.
#[test]
fn gbk_full_width_units_and_revision_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let csv = "示例数据\n\n区划代码,县（市、区）,技术合同成交额（亿元）,高新技术企业数（户）,R&D经费投入强度(%),财政科技支出占比（‰）\n\
               420802,东宝区,1.25,８０,2.69%,25\n\
               420804,掇刀区,\"1,234.5\",60,1.5,12\n\
               420882,京山市,0.3,—,1.1,8\n\
               420822,沙洋县,0.2,30,空白,9\n\
               420881,钟祥市,0.92,45,1.2,10\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    std::fs::write(input.join("2023年荆门.csv"), &gbk).unwrap();
    std::fs::write(
        input.join("2023年修订.csv"),
        "示例数据\n区划代码,年份,指标,单位,数值\n420802,2023,技术合同成交额,万元,13000\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let regions = repo().join("tests/fixtures/regions.csv");
    cimon(
        &repo(),
        &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--regions", regions.to_str().unwrap()],
    )
    .success();
    let df = observations(&out.join("store"));
    assert_eq!(df.height(), 5 * 4);
    let v = |r, i| obs(&df, r, 2023, i).unwrap().value;
    assert_eq!(v("420802", "tech_contract_value"), Some(13000.0), "revised from 12500");
    assert_eq!(v("420804", "tech_contract_value"), Some(12345000.0), "1,234.5 亿元");
    assert_eq!(v("420881", "tech_contract_value"), Some(9200.0), "0.92 亿元 without binary noise");
    assert_eq!(v("420802", "hitech_ent_count"), Some(80.0), "full-width digits, 户 = 家");
    assert_eq!(v("420882", "hitech_ent_count"), None);
    assert_eq!(v("420802", "rd_intensity"), Some(2.69));
    assert_eq!(v("420822", "rd_intensity"), None);
    assert_eq!(v("420802", "fiscal_st_share"), Some(2.5), "25‰ = 2.5%");
    let o = obs(&df, "420802", 2023, "fiscal_st_share").unwrap();
    assert_eq!((o.raw_unit.as_str(), o.row, o.column.as_str()), ("‰", Some(4), "F"));
    let rev = cimon::tables::read_frame(&out.join("store"), "revisions").unwrap();
    assert_eq!(rev.column("old_value").unwrap().f64().unwrap().get(0), Some(12500.0));
    assert_eq!(rev.column("new_value").unwrap().f64().unwrap().get(0), Some(13000.0));
    assert_eq!(
        rev.column("old_source").unwrap().str().unwrap().get(0),
        Some("2023年荆门.csv, row 4, column C (技术合同成交额（亿元）)")
    );
}

/// The directory of bad files: every error listed with its place, exit code 3, nothing written.
#[test]
fn bad_inputs_list_every_error_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let bad = repo().join("tests/fixtures/bad");
    let regions = repo().join("tests/fixtures/regions.csv");
    let expected: &[&[&str]] = &[
        &["error: 2023年_荆门市.csv, row 4, column A", "unknown county \"420899\""],
        &["error: 2023年_荆门市.csv, row 2, column F (未知指标)", "unknown column \"未知指标\""],
        &["error: 2023年_荆门市.csv, row 5, column D", "\"约30\" is not a number"],
        &["error: 2023年_荆门市.csv, row 6, column C", "cannot be negative", "[out_of_bounds]"],
        &["error: 2023年_荆门市.csv, row 7, column A", "420802 东宝区 appears twice for 2023: rows 3 and 7"],
        &[
            "warning: 2023年_荆门市.csv, row 8, column A",
            "\"420821\" is 420821 京山县, which in 2023 is 420882 京山市: the value is stored under 420882",
        ],
        &[
            "error: 2023年_荆门市.csv, row 3, column D",
            "different value in another file: 12500 here, 13000 at 2023年_东宝区补报.csv, row 3, column C",
        ],
        &["error: 2023年_单位.csv, row 2, column C", "unit \"件\" cannot be converted to \"万元\""],
        &["error: 2023年_单位.csv, row 2, column D", "unknown unit \"打\""],
        &["error:", "420881 钟祥市 (荆门市) has no data for 2023", "perhaps it is among the 1 row(s) above"],
    ];
    for verb in ["validate", "ingest"] {
        let run = cimon(
            &repo(),
            &[verb, bad.to_str().unwrap(), "--out", out.to_str().unwrap(), "--regions", regions.to_str().unwrap()],
        );
        run.failure(3);
        for needles in expected {
            run.stderr_line(needles);
        }
        let errors = run.stderr.lines().filter(|l| l.starts_with("error: ") && l.contains(".csv")).count();
        assert_eq!(errors, expected.len() - 1, "exactly the expected errors\n{}", run.stderr);
        run.stderr_line(&["error: input files in", "were refused; nothing was written: 9 error(s)"]);
        // The cause (a county no one can identify) comes before its consequence (coverage).
        let at = |needle: &str| run.stderr.find(needle).unwrap();
        assert!(at("unknown county \"420899\"") < at("钟祥市 (荆门市) has no data"), "{}", run.stderr);
        assert!(!out.exists(), "{verb} left {} behind", out.display());
    }
}

/// A refused or killed ingest leaves the published store exactly as it was.
#[test]
fn failed_and_killed_ingests_leave_the_previous_store() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // Publish a store from part of the sample.
    let part = tmp.path().join("part");
    copy_dir(&repo().join("sample-data/inputs/2024"), &part);
    cimon(&repo(), &["ingest", part.to_str().unwrap(), "--out", out.to_str().unwrap()]).success();
    let before = snapshot(&out.join("store"));

    // A refused ingest.
    std::fs::write(part.join("2024年_坏.csv"), "区划代码,专利授权量(件)\n420802,abc\n").unwrap();
    cimon(&repo(), &["ingest", part.to_str().unwrap(), "--out", out.to_str().unwrap()]).failure(3);
    assert_eq!(snapshot(&out.join("store")), before);
    std::fs::remove_file(part.join("2024年_坏.csv")).unwrap();

    // The complete result of a full ingest, for comparison.
    let full = tmp.path().join("full");
    cimon(&repo(), &["ingest", "sample-data", "--out", full.to_str().unwrap()]).success();
    let after = snapshot(&full.join("store"));

    // Killed at several moments: the store is either the old one or the complete new one.
    for delay_ms in [20u64, 80, 200, 400, 800] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cimon"))
            .current_dir(repo())
            .args(["ingest", "sample-data", "--out", out.to_str().unwrap(), "--quiet"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = snapshot(&out.join("store"));
        assert!(
            now == before || now == after,
            "store is neither the old nor the new one after a kill at {delay_ms} ms"
        );
        if now == after {
            break;
        }
    }
}

/// The same inputs give byte-identical Parquet files.
#[test]
fn ingesting_twice_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    cimon(&repo(), &["ingest", "sample-data", "--out", a.to_str().unwrap(), "-q"]).success();
    cimon(&repo(), &["ingest", "sample-data", "--out", b.to_str().unwrap(), "-q"]).success();
    // Ingest again over an existing store: same result.
    cimon(&repo(), &["ingest", "sample-data", "--out", b.to_str().unwrap(), "-q"]).success();
    assert_eq!(snapshot(&a.join("store")), snapshot(&b.join("store")));
}

/// A workbook error names the sheet; the year can come from the sheet name.
#[test]
fn workbook_errors_name_sheet_row_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("2023年").unwrap();
    ws.merge_range(0, 0, 0, 3, "示例数据：2023年", &rust_xlsxwriter::Format::new()).unwrap();
    for (c, h) in ["区划代码", "县(市、区)", "专利授权量(件)"].iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    let rows = [
        ("420802", "东宝区", "1200"),
        ("420804", "掇刀区", "n/a?"),
        ("420882", "京山市", "900"),
        ("420822", "沙洋县", "800"),
        ("420881", "钟祥市", "2,000"),
    ];
    for (i, (code, name, v)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_string(r, 0, *code).unwrap();
        ws.write_string(r, 1, *name).unwrap();
        ws.write_string(r, 2, *v).unwrap();
    }
    wb.save(input.join("荆门.xlsx")).unwrap();
    let regions = repo().join("tests/fixtures/regions.csv");
    let out = tmp.path().join("out");
    let args =
        ["validate", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--regions", regions.to_str().unwrap()];
    cimon(&repo(), &args)
        .failure(3)
        .stderr_line(&["error: 荆门.xlsx, sheet 2023年, row 5, column C (专利授权量(件))", "\"n/a?\" is not a number"]);
}

/// Analysts open the store with pyarrow and DuckDB (installed by the README's setup).
#[test]
fn pyarrow_and_duckdb_open_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", "sample-data", "--out", out.to_str().unwrap(), "-q"]).success();
    let script = r#"
import sys, pyarrow.dataset as ds, duckdb
store = sys.argv[1]
t = ds.dataset(store + "/observations", format="parquet", partitioning="hive").to_table()
assert t.num_rows == int(sys.argv[3]), t.num_rows
assert "year" in t.column_names and "source_sha256" in t.column_names
con = duckdb.connect()
n, v = con.execute(f"""
  SELECT count(*), max(value) FILTER (WHERE region_code = '620982' AND year = 2021 AND indicator = 'tech_contract_value')
  FROM read_parquet('{store}/observations/*/*.parquet', hive_partitioning = true)""").fetchone()
assert n == int(sys.argv[3]) and v == 286500.0, (n, v)
r = con.execute(f"SELECT count(*) FROM '{store}/regions.parquet'").fetchone()[0]
assert r == int(sys.argv[2]), (r, sys.argv[2])
print("ok")
"#;
    let registry = std::fs::read_to_string(repo().join("schemas/regions.csv")).unwrap();
    let res = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out.join("store"))
        .arg((registry.lines().count() - 1).to_string())
        .arg(common::sample_observations().to_string())
        .output()
        .expect("python3");
    assert!(
        res.status.success(),
        "python check failed (install with: pip install pyarrow duckdb — the README setup does):\n{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

/// The data dictionary documents exactly the tables and columns that are written.
#[test]
fn data_dictionary_matches_the_outputs() {
    #[derive(serde::Deserialize)]
    struct Dict {
        tables: Vec<Table>,
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        path: String,
    }
    #[derive(serde::Deserialize)]
    struct Table {
        name: String,
        path: String,
        columns: Vec<Col>,
    }
    #[derive(serde::Deserialize)]
    struct Col {
        name: String,
    }
    let dict: Dict =
        toml::from_str(&std::fs::read_to_string(repo().join("schemas/data-dictionary.toml")).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", "sample-data", "--out", out.to_str().unwrap(), "-q"]).success();
    cimon(&repo(), &["compute", "--out", out.to_str().unwrap(), "-q"]).success();
    let catalog = cimon::catalog::Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
    let mut seen = BTreeSet::new();
    for t in &dict.tables {
        let dir = out.join(t.path.split('/').next().unwrap());
        let df = if t.name == "observations" {
            observations(&dir)
        } else {
            cimon::tables::read_frame(&dir, &t.name).unwrap()
        };
        let written: BTreeSet<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        // `score_<group>` stands for one column per catalog group.
        let documented: BTreeSet<String> = t
            .columns
            .iter()
            .flat_map(|c| match c.name.as_str() {
                "score_<group>" => catalog.groups.iter().map(|g| format!("score_{}", g.code)).collect(),
                // Default [growth] spans; no base year by default.
                "avg_<n>y" => vec!["avg_3y".to_string(), "avg_5y".to_string()],
                "avg_<n>y_note" => vec!["avg_3y_note".to_string(), "avg_5y_note".to_string()],
                n if n.starts_with("since_") => vec![],
                n => vec![n.to_string()],
            })
            .collect();
        assert_eq!(written, documented, "table {}", t.name);
        seen.insert(t.path.split('/').take(2).collect::<Vec<_>>().join("/"));
    }
    for sub in ["store", "results"] {
        for e in std::fs::read_dir(out.join(sub)).unwrap().flatten() {
            let name = format!("{sub}/{}", e.file_name().to_string_lossy());
            let other_file = dict.files.iter().any(|f| f.path == name);
            assert!(seen.contains(&name) || other_file, "{name} is not in the data dictionary");
        }
    }
}

/// Config errors and missing schema files exit with the usage code and name the file.
#[test]
fn config_and_schema_errors_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cimon.toml");
    std::fs::write(&cfg, "[output]\ndri = \"x\"\n").unwrap();
    cimon(&repo(), &["validate", "sample-data", "--config", cfg.to_str().unwrap()]).failure(2).stderr_line(&[
        "error: config file",
        "cimon.toml",
        "dri",
    ]);
    cimon(&repo(), &["validate", "sample-data", "--catalog", "no-such-catalog.toml"])
        .failure(2)
        .stderr_line(&["error: cannot read catalog no-such-catalog.toml"])
        .stderr_line(&["hint:", "--catalog"]);
    cimon(&repo(), &["validate", "no-such-dir"])
        .failure(2)
        .stderr_line(&["error: input directory no-such-dir does not exist"]);
}

/// The committed sample is exactly what the seeded generator makes.
#[test]
fn sample_data_regenerates_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    cimon(&repo(), &["synth", "--out", tmp.path().to_str().unwrap()]).success();
    assert_eq!(snapshot(&tmp.path().join("inputs")), snapshot(&repo().join("sample-data/inputs")));
    // The 双创 catalog's sample, by the generator for any catalog.
    let sc = tmp.path().join("sc");
    let catalog = repo().join("schemas/shuangchuang.toml");
    let args = ["synth", "--kind", "catalog", "--catalog", catalog.to_str().unwrap(), "--from", "2016", "--to", "2024"];
    cimon(&repo(), &[&args[..], &["--out", sc.to_str().unwrap()]].concat()).success();
    assert_eq!(snapshot(&sc.join("inputs")), snapshot(&repo().join("sample-data/shuangchuang/inputs")));
}

/// The national-scale generator's output goes through ingest and compute (small N here).
#[test]
fn national_synthetic_panel_ingests_and_computes() {
    let tmp = tempfile::tempdir().unwrap();
    let nat = tmp.path().join("nat");
    let out = tmp.path().join("out");
    let (n, o, r) = (nat.to_str().unwrap(), out.to_str().unwrap(), nat.join("regions.csv"));
    cimon(&repo(), &["synth", "--kind", "national", "--counties", "120", "--from", "2020", "--to", "2022", "--out", n])
        .success();
    let inputs = nat.join("inputs");
    cimon(&repo(), &["ingest", inputs.to_str().unwrap(), "--regions", r.to_str().unwrap(), "--out", o, "-q"]).success();
    cimon(&repo(), &["compute", "--regions", r.to_str().unwrap(), "--out", o, "-q"]).success();
    let idx = cimon::tables::read_frame(&out.join("results"), "index").unwrap();
    // Whole prefectures of the real registry, every current county in each year.
    let registry = cimon::regions::Registry::load(&r).unwrap();
    let current = registry
        .regions
        .iter()
        .filter(|x| {
            registry.current_code(&x.code) == x.code && (2020..=2022).any(|y| registry.code_in(&x.code, y).is_some())
        })
        .count();
    assert!(current >= 120, "{current}");
    assert_eq!(idx.height(), current * 3);
    let codes = idx.column("region_code").unwrap().str().unwrap().clone();
    assert!(codes.iter().flatten().all(|c| registry.get(c).is_some_and(|x| !x.is_zone())), "real codes, no zones");
    let header = std::fs::read_to_string(inputs.join("2020.csv")).unwrap();
    assert!(header.starts_with("示例数据"), "every synthetic file says so");
}

/// Coverage is judged per prefecture and year; a blank cell in a revision file revises nothing.
#[test]
fn coverage_per_prefecture_year_and_blank_revision_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let jingmen = |year: i32| {
        format!(
            "示例数据\n代码,年份,专利授权量(件),技术合同成交额(万元)\n420802,{year},100,1000\n420804,{year},200,2000\n\
             420882,{year},300,3000\n420822,{year},400,4000\n420881,{year},500,5000\n"
        )
    };
    std::fs::write(input.join("荆门市2022.csv"), jingmen(2022)).unwrap();
    std::fs::write(input.join("荆门市2023.csv"), jingmen(2023)).unwrap();
    // 白山市 starts reporting in 2023: no coverage error for its 2022.
    let baishan: String = ["220602", "220605", "220621", "220622", "220623", "220681"]
        .iter()
        .map(|c| format!("{c},2023,10,100\n"))
        .collect();
    std::fs::write(
        input.join("白山市2023.csv"),
        format!("示例数据\n代码,年份,专利授权量(件),技术合同成交额(万元)\n{baishan}"),
    )
    .unwrap();
    // The revision corrects patents and leaves the contract value blank: the contract value stays.
    std::fs::write(
        input.join("2023年修订.csv"),
        "示例数据\n代码,年份,专利授权量(件),技术合同成交额(万元)\n420802,2023,150,\n",
    )
    .unwrap();
    // "修订前" (before revision) is not a revision: identical values, so no conflict either.
    std::fs::write(input.join("荆门市2023(修订前).csv"), jingmen(2023)).unwrap();
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).success();
    let df = observations(&out.join("store"));
    assert_eq!(obs(&df, "420802", 2023, "patent_grants").unwrap().value, Some(150.0));
    assert_eq!(obs(&df, "420802", 2023, "tech_contract_value").unwrap().value, Some(1000.0));
    let rev = cimon::tables::read_frame(&out.join("store"), "revisions").unwrap();
    assert_eq!(rev.height(), 1);
    let src = cimon::tables::read_frame(&out.join("store"), "sources").unwrap();
    let revision: Vec<Option<bool>> = src.column("revision").unwrap().bool().unwrap().iter().collect();
    assert_eq!(revision.iter().filter(|r| **r == Some(true)).count(), 1);
    // 白山市 missing a county in 2023 is still a coverage error.
    std::fs::write(
        input.join("白山市2023.csv"),
        format!("示例数据\n代码,年份,专利授权量(件)\n{}", &baishan[..baishan.rfind("220681").unwrap()]),
    )
    .unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()])
        .failure(3)
        .stderr_line(&["220681 临江市 (白山市) has no data for 2023"]);
}

/// Summary rows are skipped; a doubled indicator column, disagreeing units and a bad name are errors at the right cell.
#[test]
fn summary_rows_skipped_and_header_and_unit_errors_located() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let regions = repo().join("tests/fixtures/regions.csv");
    let rows = "420802,东宝区,1\n420804,掇刀区,2\n420882,京山市,3\n420822,沙洋县,4\n420881,钟祥市,5\n";
    let good = format!(
        "示例数据\n序号,区划代码,县(市、区),专利授权量(件)\n{}合计,,,15\n,420800,荆门市,15\n6,,,\n",
        rows.lines().enumerate().map(|(i, l)| format!("{},{l}\n", i + 1)).collect::<String>()
    );
    std::fs::write(input.join("2023年荆门.csv"), good).unwrap();
    // A year column written with full-width digits and 年度.
    let y2022: String = rows.lines().map(|l| format!("{l},２０２２年度\n")).collect();
    std::fs::write(input.join("荆门.csv"), format!("区划代码,县(市、区),专利授权量(件),年份\n{y2022}")).unwrap();
    let out = tmp.path().join("out");
    let args = |dir: &std::path::Path| {
        vec![
            "ingest".to_string(),
            dir.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--regions".into(),
            regions.to_str().unwrap().into(),
            "-q".into(),
        ]
    };
    let a = args(&input);
    cimon(&repo(), &a.iter().map(String::as_str).collect::<Vec<_>>()).success();
    assert_eq!(observations(&out.join("store")).height(), 10);

    let bad = tmp.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("2023年a.csv"),
        format!("区划代码,县(市、区),技术合同成交额(万元),技术合同成交额(亿元)\n{}", rows.replace(",1\n", ",1,1\n")),
    )
    .unwrap();
    std::fs::write(
        bad.join("2023年b.csv"),
        "县(市、区),年份,指标,单位,数值\n东宝县,2023,专利授权量,件,3\n东宝区,2023,技术合同成交额(万元),亿元,1.3\n",
    )
    .unwrap();
    let a = args(&bad);
    let run = cimon(&repo(), &a.iter().map(String::as_str).collect::<Vec<_>>());
    run.failure(3)
        .stderr_line(&["2023年a.csv, row 1, column D", "columns C and D both hold tech_contract_value"])
        .stderr_line(&["2023年b.csv, row 2, column A (县(市、区))", "unknown county \"东宝县\""])
        .stderr_line(&[
            "2023年b.csv, row 3, column D (单位)",
            "the indicator says \"万元\" but the unit column says \"亿元\"",
        ]);
}

/// Percent-formatted cells (Excel shows 38.9%, keeps 0.389) are stored as the sheet shows them, in
/// XLSX, XLS and ODS alike, and said once per column.
#[test]
fn percent_formatted_cells_are_stored_as_shown() {
    for ext in ["xlsx", "xls", "ods"] {
        let name = format!("2023年_荆门市_百分比.{ext}");
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::copy(repo().join("tests/fixtures/submissions").join(&name), input.join(&name)).unwrap();
        let out = tmp.path().join("out");
        let run = cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        run.success().stderr_line(&[&name, "row 3, column D", "5 cell(s) are formatted as percentages (here 38.9%)"]);
        assert_eq!(run.stderr.matches("[percent_cells]").count(), 1, "once per column\n{}", run.stderr);
        let df = observations(&out.join("store"));
        for (code, share) in [("420802", 38.9), ("420804", 35.1), ("420822", 27.4), ("420881", 31.6), ("420882", 29.8)]
        {
            let o = obs(&df, code, 2023, "rd_active_ent_share").unwrap();
            assert_eq!((o.value, o.raw_value.as_str()), (Some(share), format!("{share}%").as_str()), "{ext} {code}");
        }
    }
}

/// A % column that mixes percent-formatted cells with plain numbers: fine when both are on the
/// scale the sheet shows, an error naming the cells when the plain ones look like fractions; a
/// percentage in a column of counts is an error.
#[test]
fn mixed_percent_columns_are_read_only_when_they_agree() {
    let write = |dir: &Path, cells: &[(f64, bool)], header: &str| {
        std::fs::create_dir_all(dir).unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("2023年").unwrap();
        let pct = rust_xlsxwriter::Format::new().set_num_format("0.0%");
        ws.write_string(0, 0, "区划代码").unwrap();
        ws.write_string(0, 1, header).unwrap();
        for (i, (code, (v, percent))) in JINGMEN.iter().zip(cells).enumerate() {
            let row = 1 + i as u32;
            ws.write_string(row, 0, *code).unwrap();
            if *percent {
                ws.write_number_with_format(row, 1, *v, &pct).unwrap();
            } else {
                ws.write_number(row, 1, *v).unwrap();
            }
        }
        wb.save(dir.join("荆门.xlsx")).unwrap();
    };
    let tmp = tempfile::tempdir().unwrap();
    let share = "有研发活动的规上工业企业占比(%)";
    // 20% and 25% formatted, 30, 35 and 40 typed: one scale.
    let agree = tmp.path().join("agree");
    write(&agree, &[(0.2, true), (0.25, true), (30.0, false), (35.0, false), (40.0, false)], share);
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", agree.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).success();
    let df = observations(&out.join("store"));
    let values: Vec<Option<f64>> =
        JINGMEN.iter().map(|c| obs(&df, c, 2023, "rd_active_ent_share").unwrap().value).collect();
    assert_eq!(values, [Some(20.0), Some(25.0), Some(30.0), Some(35.0), Some(40.0)]);
    // 20% and 25% formatted, 0.3, 0.35 and 0.4 typed: the plain ones look like fractions.
    let mixed = tmp.path().join("mixed");
    write(&mixed, &[(0.2, true), (0.25, true), (0.3, false), (0.35, false), (0.4, false)], share);
    cimon(&repo(), &["validate", mixed.to_str().unwrap()]).failure(3).stderr_line(&[
        "荆门.xlsx, sheet 2023年, row 4, column B",
        "mixes cells formatted as percentages (B2 shows 20%, 2 like it) with plain numbers (B4 is 0.3, 3 like it)",
        "[percent_mixed]",
    ]);
    // A percentage where a count belongs.
    let count = tmp.path().join("count");
    write(&count, &[(0.2, true), (25.0, false), (30.0, false), (35.0, false), (40.0, false)], "专利授权量(件)");
    cimon(&repo(), &["validate", count.to_str().unwrap()])
        .failure(3)
        .stderr_line(&["row 2, column B", "formatted as a percentage (20%), but the column is in 件"]);
    // Plain numbers all ≤ 1 in a % column: nothing says which was meant, so it is flagged.
    let fractions = tmp.path().join("fractions");
    write(&fractions, &[(0.2, false), (0.25, false), (0.3, false), (0.35, false), (0.4, false)], share);
    cimon(&repo(), &["validate", fractions.to_str().unwrap()]).success().stderr_line(&[
        "column B",
        "every number in this % column is ≤ 1",
        "[percent_format]",
    ]);
}

/// A file with 示例数据 in a title or note row is recorded as synthetic; reports then carry a notice.
#[test]
fn synthetic_files_are_recorded_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let rows = |year: i32| -> String {
        ["420802", "420804", "420882", "420822", "420881"].iter().map(|c| format!("{c},{year},100\n")).collect()
    };
    std::fs::write(input.join("a_2022.csv"), format!("代码,年份,专利授权量(件)\n{}", rows(2022))).unwrap();
    std::fs::write(
        input.join("b_2023.csv"),
        format!("代码,年份,专利授权量(件)\n{}注：示例数据，非真实统计\n", rows(2023)),
    )
    .unwrap();
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).success();
    let src: Vec<cimon::store::SourceRow> = cimon::tables::read(&out.join("store")).unwrap();
    let pairs: Vec<(&str, bool)> = src.iter().map(|s| (s.file.as_str(), s.synthetic)).collect();
    assert_eq!(pairs, vec![("a_2022.csv", false), ("b_2023.csv", true)]);
}

const JINGMEN: [&str; 5] = ["420802", "420804", "420882", "420822", "420881"];
const BAISHAN: [&str; 6] = ["220602", "220605", "220621", "220622", "220623", "220681"];

/// A prefecture's file without a year column: two indicators per county.
fn prefecture_csv(codes: &[&str], base: u32) -> String {
    let rows: String =
        codes.iter().enumerate().map(|(i, c)| format!("{c},{},{}\n", base + i as u32, base * 10)).collect();
    format!("示例数据\n代码,专利授权量(件),技术合同成交额(万元)\n{rows}")
}

/// Inputs that hold no table, or would drop years or prefecture-years of the published store,
/// are refused and the store is left as it was, unless the user says the loss is meant.
#[test]
fn an_ingest_never_silently_drops_the_published_store() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let input = tmp.path().join("in");
    for y in [2022, 2023] {
        std::fs::create_dir_all(input.join(y.to_string())).unwrap();
        std::fs::write(input.join(format!("{y}/荆门市.csv")), prefecture_csv(&JINGMEN, 100)).unwrap();
        std::fs::write(input.join(format!("{y}/白山市.csv")), prefecture_csv(&BAISHAN, 200)).unwrap();
    }
    let i = input.to_str().unwrap();
    cimon(&repo(), &["ingest", i, "--out", o, "-q"]).success();
    let published = snapshot(&out.join("store"));

    // Only a note: no table at all.
    let notes = tmp.path().join("notes");
    std::fs::create_dir_all(&notes).unwrap();
    std::fs::write(notes.join("说明.txt"), "本目录存放各县报送的数据文件。\n").unwrap();
    cimon(&repo(), &["ingest", notes.to_str().unwrap(), "--out", o]).failure(3).stderr_line(&[
        "说明.txt",
        "none of the 1 input file(s) holds a table",
        "[no_tables]",
    ]);
    // A CSV without a county column: said once, as the file's error (it has no sheet to skip).
    let untitled = tmp.path().join("untitled");
    std::fs::create_dir_all(&untitled).unwrap();
    std::fs::write(untitled.join("2023年.csv"), "地区,备注\n荆门,已报\n").unwrap();
    let run = cimon(&repo(), &["ingest", untitled.to_str().unwrap(), "--out", o]);
    run.failure(3).stderr_line(&["2023年.csv", "no table found", "[no_table]"]);
    assert!(!run.stderr.contains("in the first 30 rows"), "{}", run.stderr);
    // A share that is not mounted: an empty folder.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    cimon(&repo(), &["ingest", empty.to_str().unwrap(), "--out", o]).failure(2).stderr_line(&["no CSV or workbook"]);
    assert_eq!(snapshot(&out.join("store")), published);

    // 2022's folder missing: the year would be lost.
    let moved = tmp.path().join("2022-aside");
    std::fs::rename(input.join("2022"), &moved).unwrap();
    cimon(&repo(), &["ingest", i, "--out", o])
        .failure(3)
        .stderr_line(&["the input files lack the years 2022, which the published store holds", "--allow-loss"]);
    assert_eq!(snapshot(&out.join("store")), published);
    std::fs::rename(&moved, input.join("2022")).unwrap();

    // 白山市's 2023 file missing: a prefecture-year would be lost; named in Chinese for the clerk.
    std::fs::remove_file(input.join("2023/白山市.csv")).unwrap();
    common::cimon_env(&repo(), &["ingest", i, "--out", o], &[("CIMON_LANG", "zh")])
        .failure(3)
        .stderr_line(&["已发布的数据中有白山市（220600）2023 年的全部数据", "--allow-loss"]);
    assert_eq!(snapshot(&out.join("store")), published);

    // Meant: the flag, or the config key.
    let config = tmp.path().join("cimon.toml");
    std::fs::write(&config, "[input]\nallow_loss = true\n").unwrap();
    cimon(&repo(), &["ingest", i, "--out", o, "-q", "--config", config.to_str().unwrap()]).success();
    let df = observations(&out.join("store"));
    assert!(obs(&df, "220602", 2023, "patent_grants").is_none() && obs(&df, "220602", 2022, "patent_grants").is_some());
    std::fs::remove_dir_all(input.join("2023")).unwrap();
    cimon(&repo(), &["ingest", i, "--out", o, "-q", "--allow-loss"]).success();
    assert!(obs(&observations(&out.join("store")), "420802", 2023, "patent_grants").is_none());
}

/// A year given only by the nearest folder's name is taken, and one that disagrees with the
/// file name is an error naming both.
#[test]
fn the_year_of_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("报送/2023")).unwrap();
    std::fs::write(input.join("报送/2023/荆门市.csv"), prefecture_csv(&JINGMEN, 100)).unwrap();
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).success();
    let o = obs(&observations(&out.join("store")), "420804", 2023, "patent_grants").unwrap();
    assert_eq!((o.value, o.file.as_str()), (Some(101.0), "报送/2023/荆门市.csv"));

    std::fs::create_dir_all(input.join("2022")).unwrap();
    std::fs::write(input.join("2022/2021年_白山市.csv"), prefecture_csv(&BAISHAN, 1)).unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()]).failure(3).stderr_line(&[
        "2022/2021年_白山市.csv",
        "the file name says 2021 but the folder name says 2022",
        "[year_conflict]",
    ]);
}

/// A long text file is read row by row past its first rows: row numbers stay the file's (blank
/// lines counted), a row repeated far down is still caught, a file cut short still refused, and
/// a mistake repeated thousands of times is listed a thousand times and counted beyond.
#[test]
fn long_text_files_read_row_by_row() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut lines = vec!["示例数据".to_string(), String::new(), "区划代码,年份,指标名称,数值".to_string()];
    for y in 1990..2024 {
        for c in JINGMEN {
            lines.push(format!("{c},{y},专利授权量,{}", y - 1900));
        }
        lines.push(String::new());
    }
    let good = lines.join("\n") + "\n";
    std::fs::write(input.join("长表.csv"), &good).unwrap();
    let out = tmp.path().join("out");
    cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]).success();
    let o = obs(&observations(&out.join("store")), "420881", 2020, "patent_grants").unwrap();
    // Rows 1–3 title, blank, header; each year 5 rows and a blank: 2020 is the 31st year.
    assert_eq!((o.value, o.row), (Some(120.0), Some(3 + 30 * 6 + 4 + 1)));
    assert_eq!(o.raw_value, "120");

    // The same row again far down.
    let mut dup = lines.clone();
    dup.insert(150, "420802,2015,专利授权量,115".into());
    std::fs::write(input.join("长表.csv"), dup.join("\n") + "\n").unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()]).failure(3).stderr_line(&[
        "长表.csv, row 151, column D",
        "420802 2015 patent_grants: appears twice in this file",
        "[duplicate_county]",
    ]);
    // Cut short in transfer.
    std::fs::write(input.join("长表.csv"), &good[..good.len() - 6]).unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()]).failure(3).stderr_line(&[
        "长表.csv",
        "the file looks cut short",
        "[malformed_csv]",
    ]);
    // Every value not a number: a thousand listed, the rest counted.
    let bad: Vec<String> =
        lines.iter().map(|l| if l.starts_with("42") { format!("{l}件x") } else { l.clone() }).collect();
    std::fs::write(input.join("长表.csv"), bad.join("\n") + "\n").unwrap();
    let run = cimon(&repo(), &["validate", input.to_str().unwrap()]);
    run.failure(3).stderr_line(&["长表.csv: 170 errors [not_a_number]"]);
    assert!(run.stderr.contains("170 error(s) in the input files"), "{}", run.stderr);
}

/// An input folder whose only data sits in another project's folder (its own cimon.toml) is
/// refused, and the message says which folder was left out and why.
#[test]
fn a_folder_holding_only_another_project_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("in/金塔县双创");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::copy(repo().join("sample-data/inputs/2019年县域创新指标_GBK.csv"), sub.join("2019.csv")).unwrap();
    std::fs::write(sub.join("cimon.toml"), "").unwrap();
    let (input, out) = (tmp.path().join("in"), tmp.path().join("out"));
    cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap()]).failure(2).stderr_line(&[
        "no CSV or workbook files found under",
        "not read: 金塔县双创/, which hold their own cimon.toml",
    ]);
    // An empty folder: what to put there, in both languages.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    cimon(&repo(), &["ingest", empty.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .failure(2)
        .stderr_line(&["no CSV or workbook files found under", "empty"])
        .stderr_line(&["hint:", "CSV, XLSX, XLS or ODS", "请把各县报送的 CSV 或 Excel 文件放入该文件夹"]);
}
