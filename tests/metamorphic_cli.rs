//! Metamorphic tests of the whole pipeline: the same figures sent as UTF-8, GBK and UTF-16 text,
//! XLSX, XLS and ODS (saved by LibreOffice), wide, long and turned round, split over files and
//! sheets in any order and under any names, must give the same stored values and byte-identical
//! result tables; a county renamed mid-series must keep its index series under its current code.
//! Needs LibreOffice's `soffice` (`bash .ci/setup`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cimon::catalog::Catalog;
use common::{cimon, repo, snapshot};
use rand::seq::SliceRandom;
use rand::SeedableRng;

const YEARS: [i32; 3] = [2022, 2023, 2024];
const PREFECTURES: [&str; 2] = ["420800", "220600"];

/// A county-year: code, name, prefecture name, year, one value (or none) per catalog indicator.
type Row = (String, String, String, i32, Vec<Option<f64>>);

/// The figures every variant carries.
struct Figures {
    /// Headers as the forms write them: `名称(单位)`.
    headers: Vec<String>,
    names: Vec<String>,
    units: Vec<String>,
    rows: Vec<Row>,
}

/// Two prefectures of the sample over three years, from a store ingested from the sample's
/// files; two values blanked (no data), so that empty cells are part of every variant.
fn figures(tmp: &Path) -> Figures {
    let out = tmp.join("sample-out");
    cimon(&repo(), &["ingest", "sample-data", "--out", out.to_str().unwrap(), "-q"]).success();
    let catalog = Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
    let registry = cimon::regions::Registry::load(&repo().join("schemas/regions.csv")).unwrap();
    let obs = cimon::store::scan_observations(&out.join("store")).unwrap().collect().unwrap();
    let (codes, years) =
        (obs.column("region_code").unwrap().str().unwrap(), obs.column("year").unwrap().i32().unwrap());
    let (inds, values) = (obs.column("indicator").unwrap().str().unwrap(), obs.column("value").unwrap().f64().unwrap());
    let mut table: BTreeMap<(i32, String), BTreeMap<String, Option<f64>>> = BTreeMap::new();
    for i in 0..obs.height() {
        let (code, year) = (codes.get(i).unwrap(), years.get(i).unwrap());
        let r = registry.get(code).unwrap();
        if YEARS.contains(&year) && PREFECTURES.contains(&r.prefecture_code.as_str()) {
            table.entry((year, code.to_string())).or_default().insert(inds.get(i).unwrap().to_string(), values.get(i));
        }
    }
    let mut rows: Vec<Row> = table
        .into_iter()
        .map(|((year, code), v)| {
            let r = registry.get(&code).unwrap();
            let values = catalog.indicators.iter().map(|i| v.get(&i.code).copied().flatten()).collect();
            (code, r.name.clone(), r.prefecture_name.clone(), year, values)
        })
        .collect();
    rows[3].4[5] = None;
    rows[20].4[12] = None;
    Figures {
        headers: catalog.indicators.iter().map(|i| format!("{}({})", i.name_zh, i.unit)).collect(),
        names: catalog.indicators.iter().map(|i| i.name_zh.clone()).collect(),
        units: catalog.indicators.iter().map(|i| i.unit.clone()).collect(),
        rows,
    }
}

fn text(v: Option<f64>) -> String {
    v.map_or(String::new(), |x| format!("{x}"))
}

fn wide_csv(f: &Figures, rows: &[&Row], year_column: bool) -> String {
    let mut s = String::from("示例数据\n区划代码,县(市、区)");
    if year_column {
        s.push_str(",年份");
    }
    for h in &f.headers {
        s.push(',');
        s.push_str(h);
    }
    s.push('\n');
    for (code, name, _, year, values) in rows {
        s.push_str(&format!("{code},{name}"));
        if year_column {
            s.push_str(&format!(",{year}"));
        }
        for v in values {
            s.push(',');
            s.push_str(&text(*v));
        }
        s.push('\n');
    }
    s
}

fn select<'a>(f: &'a Figures, year: Option<i32>, prefecture: Option<&str>) -> Vec<&'a Row> {
    f.rows.iter().filter(|r| year.is_none_or(|y| r.3 == y) && prefecture.is_none_or(|p| r.2 == p)).collect()
}

fn prefectures(f: &Figures) -> Vec<String> {
    let mut p: Vec<String> = f.rows.iter().map(|r| r.2.clone()).collect();
    p.sort();
    p.dedup();
    p
}

/// A workbook with one wide sheet per entry of `sheets` (name, rows), title line first.
fn wide_xlsx(f: &Figures, path: &Path, sheets: &[(String, Vec<&Row>)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        ws.write_string(0, 0, "示例数据").unwrap();
        ws.write_string(1, 0, "区划代码").unwrap();
        ws.write_string(1, 1, "县(市、区)").unwrap();
        for (c, h) in f.headers.iter().enumerate() {
            ws.write_string(1, 2 + c as u16, h).unwrap();
        }
        for (r, (code, name, _, _, values)) in rows.iter().enumerate() {
            let row = 2 + r as u32;
            ws.write_string(row, 0, code).unwrap();
            ws.write_string(row, 1, name).unwrap();
            for (c, v) in values.iter().enumerate() {
                if let Some(v) = v {
                    ws.write_number(row, 2 + c as u16, *v).unwrap();
                }
            }
        }
    }
    wb.save(path).unwrap();
}

/// Every variant of the same figures, each a directory of input files.
fn variants(f: &Figures, root: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut out = Vec::new();
    let mut dir = |name: &'static str| {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        out.push((name, d.clone()));
        d
    };
    // UTF-8 CSV, one file per year (the year in the file name).
    let d = dir("csv-utf8-per-year");
    for y in YEARS {
        std::fs::write(d.join(format!("{y}年县域创新监测.csv")), wide_csv(f, &select(f, Some(y), None), false))
            .unwrap();
    }
    // GBK CSV per prefecture and year, rows shuffled, files under other names in folders by year.
    let d = dir("csv-gbk-per-prefecture");
    for y in YEARS {
        std::fs::create_dir_all(d.join(y.to_string())).unwrap();
        for p in prefectures(f) {
            let mut rows = select(f, Some(y), Some(&p));
            rows.shuffle(&mut rng);
            let csv = wide_csv(f, &rows, false);
            let (bytes, _, _) = encoding_rs::GBK.encode(&csv);
            std::fs::write(d.join(format!("{y}/{p}报送.csv")), bytes).unwrap();
        }
    }
    // One UTF-8 CSV with a BOM and a 年份 column, every year in it.
    let d = dir("csv-bom-one-file");
    std::fs::write(d.join("全部.csv"), format!("\u{feff}{}", wide_csv(f, &select(f, None, None), true))).unwrap();
    // Long: county, year, indicator, unit, value, rows in random order.
    let d = dir("csv-long");
    let mut lines = Vec::new();
    for (code, name, _, year, values) in &f.rows {
        for (k, v) in values.iter().enumerate() {
            lines.push(format!("{code},{name},{year},{},{},{}", f.names[k], f.units[k], text(*v)));
        }
    }
    lines.shuffle(&mut rng);
    std::fs::write(
        d.join("长表.csv"),
        format!("示例数据\n区划代码,县(市、区),年份,指标名称,计量单位,数值\n{}\n", lines.join("\n")),
    )
    .unwrap();
    // Excel's "Unicode 文本": UTF-16LE, tab-separated, one per year.
    let d = dir("txt-utf16");
    for y in YEARS {
        let tsv = wide_csv(f, &select(f, Some(y), None), false).replace(',', "\t");
        let bytes: Vec<u8> = [0xFF, 0xFE].into_iter().chain(tsv.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        std::fs::write(d.join(format!("{y}年导出.txt")), bytes).unwrap();
    }
    // XLSX: one workbook, a sheet per year in reverse order (the year in the sheet name).
    let d = dir("xlsx-sheets");
    let sheets: Vec<(String, Vec<_>)> =
        YEARS.iter().rev().map(|y| (format!("{y}年"), select(f, Some(*y), None))).collect();
    wide_xlsx(f, &d.join("县域创新监测.xlsx"), &sheets);
    // XLSX split by prefecture and year into workbooks with meaningless names.
    let d = dir("xlsx-split");
    for (i, y) in YEARS.iter().enumerate() {
        for (j, p) in prefectures(f).iter().enumerate() {
            let mut rows = select(f, Some(*y), Some(p));
            rows.shuffle(&mut rng);
            wide_xlsx(f, &d.join(format!("附件{}.xlsx", i * 2 + j + 1)), &[(format!("{y}年{p}"), rows)]);
        }
    }
    // XLSX turned round: counties as columns, indicators as rows; the year in the title.
    let d = dir("xlsx-transposed");
    for y in YEARS {
        let rows = select(f, Some(y), None);
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write_string(0, 0, format!("示例数据：{y}年县域创新监测主要指标")).unwrap();
        ws.write_string(1, 0, "指标").unwrap();
        for (c, r) in rows.iter().enumerate() {
            ws.write_string(1, 1 + c as u16, &r.1).unwrap();
        }
        for (k, h) in f.headers.iter().enumerate() {
            ws.write_string(2 + k as u32, 0, h).unwrap();
            for (c, r) in rows.iter().enumerate() {
                if let Some(v) = r.4[k] {
                    ws.write_number(2 + k as u32, 1 + c as u16, v).unwrap();
                }
            }
        }
        wb.save(d.join(format!("{y}_转置.xlsx"))).unwrap();
    }
    // XLS and ODS as LibreOffice saves the workbook of sheets.
    for (name, ext) in [("xls-libreoffice", "xls"), ("ods-libreoffice", "ods")] {
        let d = dir(name);
        let status = std::process::Command::new("soffice")
            .args(["--headless", "--convert-to", ext, "--outdir"])
            .arg(&d)
            .arg(root.join("xlsx-sheets/县域创新监测.xlsx"))
            .env("HOME", root)
            .output()
            .expect("LibreOffice's soffice is needed (bash .ci/setup installs libreoffice-calc-nogui)");
        assert!(status.status.success(), "soffice: {}", String::from_utf8_lossy(&status.stderr));
    }
    out
}

/// Every stored value: (region, year, indicator) → (value, out of range).
fn stored(out: &Path) -> BTreeMap<(String, i32, String), (Option<f64>, bool)> {
    let df = cimon::store::scan_observations(&out.join("store")).unwrap().collect().unwrap();
    let s = |c: &str| df.column(c).unwrap().str().unwrap().clone();
    let (codes, inds) = (s("region_code"), s("indicator"));
    let years = df.column("year").unwrap().i32().unwrap().clone();
    let values = df.column("value").unwrap().f64().unwrap().clone();
    let oor = df.column("out_of_range").unwrap().bool().unwrap().clone();
    (0..df.height())
        .map(|i| {
            let key = (codes.get(i).unwrap().to_string(), years.get(i).unwrap(), inds.get(i).unwrap().to_string());
            (key, (values.get(i), oor.get(i).unwrap()))
        })
        .collect()
}

/// The result tables (Parquet files), byte for byte.
fn results(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot(&out.join("results")).into_iter().filter(|(p, _)| p.extension().is_some_and(|e| e == "parquet")).collect()
}

fn ingest_and_compute(input: &Path, out: &Path, config: &Path, regions: &Path) {
    let (i, o, c, r) =
        (input.to_str().unwrap(), out.to_str().unwrap(), config.to_str().unwrap(), regions.to_str().unwrap());
    cimon(&repo(), &["ingest", i, "--out", o, "--config", c, "--regions", r, "-q"]).success();
    cimon(&repo(), &["compute", "--out", o, "--config", c, "--regions", r, "-q"]).success();
}

/// A config with imputation and a short sensitivity analysis, so that every result table has rows.
fn config(dir: &Path) -> PathBuf {
    let path = dir.join("cimon.toml");
    let catalog = repo().join("schemas/indicators.toml");
    std::fs::write(
        &path,
        format!(
            "[schemas]\ncatalog = \"{}\"\n[compute]\nimputation = \"linear\"\n[sensitivity]\nsamples = 8\n",
            catalog.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn the_same_figures_in_any_format_layout_and_split_give_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let f = figures(tmp.path());
    assert_eq!(f.rows.len(), 11 * 3, "荆门市's 5 and 白山市's 6 counties over three years");
    let cfg = config(tmp.path());
    let regions = repo().join("schemas/regions.csv");
    type Outcome<'a> = (&'a str, BTreeMap<(String, i32, String), (Option<f64>, bool)>, Vec<(PathBuf, Vec<u8>)>);
    let mut first: Option<Outcome> = None;
    for (name, dir) in variants(&f, &tmp.path().join("variants")) {
        let out = tmp.path().join("out").join(name);
        ingest_and_compute(&dir, &out, &cfg, &regions);
        let (values, tables) = (stored(&out), results(&out));
        // Read as what it is: the format and layout of each file.
        let sources = cimon::tables::read_frame(&out.join("store"), "sources").unwrap();
        let col = |c: &str| -> std::collections::BTreeSet<String> {
            sources.column(c).unwrap().str().unwrap().iter().flatten().map(str::to_string).collect()
        };
        let (format, layout) = match name {
            "csv-utf8-per-year" => ("csv (UTF-8)", "wide"),
            "csv-gbk-per-prefecture" => ("csv (GBK/GB18030)", "wide"),
            "csv-bom-one-file" => ("csv (UTF-8 with BOM)", "wide"),
            "csv-long" => ("csv (UTF-8)", "long"),
            "txt-utf16" => ("tab-separated text (UTF-16LE)", "wide"),
            _ => ("workbook", "wide"),
        };
        assert_eq!(
            (col("format"), col("layout")),
            ([format.to_string()].into(), [layout.to_string()].into()),
            "{name}"
        );
        // The figures as sent, every one of them.
        assert_eq!(values.len(), f.rows.len() * f.headers.len(), "{name}: stored values");
        let catalog = Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
        for (code, _, _, year, v) in &f.rows {
            for (k, ind) in catalog.indicators.iter().enumerate() {
                let got = values[&(code.clone(), *year, ind.code.clone())].0;
                assert_eq!(got, v[k], "{name}: {code} {year} {}", ind.code);
            }
        }
        match &first {
            None => first = Some((name, values, tables)),
            Some((base, v0, t0)) => {
                assert!(&values == v0, "{name} stores other values than {base}");
                for ((p, a), (q, b)) in tables.iter().zip(t0) {
                    assert_eq!(p, q);
                    assert!(a == b, "{name}: results/{} differs from {base}'s", p.display());
                }
                assert_eq!(tables.len(), t0.len());
            }
        }
    }
}

#[test]
fn a_county_renamed_mid_series_keeps_its_index_series_under_its_current_code() {
    let tmp = tempfile::tempdir().unwrap();
    let f = figures(tmp.path());
    let cfg = config(tmp.path());
    // The plain registry, and one where 钟祥市 420881 was 钟祥县 420823 until 2022.
    let plain = repo().join("schemas/regions.csv");
    let text = std::fs::read_to_string(&plain).unwrap();
    let line = text.lines().find(|l| l.starts_with("420881,")).unwrap();
    let cells: Vec<&str> = line.split(',').collect();
    assert_eq!((cells[7], cells[8]), ("", ""), "钟祥市 has no validity years in the shipped registry");
    let mut renamed_now = cells.clone();
    renamed_now[7] = "2023";
    let old = format!("420823,钟祥县,县,{},{},{},{},,2022,420881,renamed,", cells[3], cells[4], cells[5], cells[6]);
    let renamed = tmp.path().join("regions-renamed.csv");
    std::fs::write(&renamed, text.replace(line, &format!("{}\n{old}", renamed_now.join(",")))).unwrap();

    let write = |dir: &Path, old_code: bool| {
        std::fs::create_dir_all(dir).unwrap();
        for y in YEARS {
            let mut csv = wide_csv(&f, &select(&f, Some(y), None), false);
            if old_code && y == 2022 {
                csv = csv.replace("420881,钟祥市", "420823,钟祥县");
            }
            std::fs::write(dir.join(format!("{y}.csv")), csv).unwrap();
        }
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write(&a, false);
    write(&b, true);
    let (out_a, out_b) = (tmp.path().join("out-a"), tmp.path().join("out-b"));
    ingest_and_compute(&a, &out_a, &cfg, &plain);
    ingest_and_compute(&b, &out_b, &cfg, &renamed);
    // The 2022 values are stored under the code of that year …
    assert!(stored(&out_b).contains_key(&("420823".into(), 2022, "patent_grants".into())));
    // … and the results are those of the unrenamed county, under 420881.
    let (ra, rb) = (results(&out_a), results(&out_b));
    assert_eq!(ra.len(), rb.len());
    for ((p, x), (_, y)) in ra.iter().zip(&rb) {
        assert!(x == y, "results/{} differs after the rename", p.display());
    }
    let index = cimon::tables::read_frame(&out_b.join("results"), "index").unwrap();
    let codes: Vec<&str> = index.column("region_code").unwrap().str().unwrap().iter().flatten().collect();
    assert_eq!(codes.iter().filter(|c| **c == "420881").count(), 3, "three years under the current code");
    assert!(!codes.contains(&"420823"));
}
