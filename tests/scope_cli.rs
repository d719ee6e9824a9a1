//! End-to-end tests of the national registry, the evaluation scope, the coverage policy and the
//! peer groups: files of provinces outside the sample, names and codes as bureaus write them.

mod common;

use std::path::{Path, PathBuf};

use cimon::results::IndexRow;
use cimon::tables::read;
use common::{cimon, copy_dir, repo};
use polars::prelude::*;

/// A wide CSV of one year: a title line, then `code,name` rows with two indicators.
fn wide(rows: &[(&str, &str)], year: i32) -> String {
    let mut s = format!("{year}年县域创新指标（示例数据）\n区划代码,县(市、区),专利授权量(件),高新技术企业数(家)\n");
    for (i, (code, name)) in rows.iter().enumerate() {
        s += &format!("{code},{name},{},{}\n", 500 + 37 * i, 20 + 3 * i);
    }
    s
}

fn observations(out: &Path) -> DataFrame {
    cimon::store::scan_observations(&out.join("store")).unwrap().collect().unwrap()
}

fn stored(df: &DataFrame, year: i32) -> Vec<String> {
    let y = df.column("year").unwrap().i32().unwrap();
    let c = df.column("region_code").unwrap().str().unwrap();
    let mut v: Vec<String> =
        y.iter().zip(c.iter()).filter(|(yy, _)| *yy == Some(year)).map(|(_, c)| c.unwrap().to_string()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn a_prefecture_outside_the_sample_ingests_with_codes_and_names_as_bureaus_write_them() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // 郑州市 with its real codes: a 12-digit statistical code, a code written as a number, a name
    // without a code; its functional zones are not expected.
    let zhengzhou = [
        ("410102000000", "中原区"),
        ("410103", "二七区"),
        ("410104", "管城回族区"),
        ("410105.0", "金水区"),
        ("", "上街区"),
        ("410108", "惠济区"),
        ("410122", "中牟县"),
        ("410181", "巩义市"),
        ("410182", "荥阳市"),
        ("410183", "新密市"),
        ("410184", "新郑市"),
        ("410185", "登封市"),
    ];
    std::fs::write(input.join("2023年_郑州市.csv"), wide(&zhengzhou, 2023)).unwrap();
    // 长春市: 朝阳区 is also a district of 北京; the file name says which.
    let changchun = [
        ("220102", "南关区"),
        ("220103", "宽城区"),
        ("", "朝阳区"),
        ("220105", "二道区"),
        ("220106", "绿园区"),
        ("220112", "双阳区"),
        ("220113", "九台区"),
        ("220122", "农安县"),
        ("220182", "榆树市"),
        ("220183", "德惠市"),
        ("220184", "公主岭市"),
    ];
    std::fs::write(input.join("2023年_长春市.csv"), wide(&changchun, 2023)).unwrap();
    let out = tmp.path().join("out");
    let run = cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    run.success();
    let df = observations(&out);
    let mut expected: Vec<String> = zhengzhou
        .iter()
        .map(|(c, _)| c.get(..6).unwrap_or("410106").to_string())
        .chain(changchun.iter().map(|(c, _)| if c.is_empty() { "220104".to_string() } else { c.to_string() }))
        .collect();
    expected.sort();
    assert_eq!(stored(&df, 2023), expected);

    // The other rows of the sheet also tell the prefecture.
    std::fs::rename(input.join("2023年_长春市.csv"), input.join("2023年_第二批.csv")).unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()]).success();
    // With neither, the name is ambiguous: both candidates are named.
    std::fs::write(input.join("2023年_第二批.csv"), wide(&[("", "朝阳区")], 2023)).unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()]).failure(3).stderr_line(&[
        "2023年_第二批.csv, row 3, column B",
        "county name \"朝阳区\" is ambiguous in 2023",
        "110105 朝阳区 (北京市 北京市)",
        "220104 朝阳区 (吉林省 长春市)",
    ]);
    // A misspelt name gets the closest names of the registry.
    std::fs::write(input.join("2023年_第二批.csv"), wide(&[("", "巩义县")], 2023)).unwrap();
    cimon(&repo(), &["validate", input.to_str().unwrap()])
        .failure(3)
        .stderr_line(&["unknown county \"巩义县\"", "did you mean 410181 巩义市 (郑州市)"]);
}

#[test]
fn a_file_mixing_old_and_new_codes_of_an_upgraded_county_is_stored_under_the_code_of_each_year() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // 荆门市 in long layout: 京山县 became 京山市 (420821 → 420882) in 2018; the clerk kept the
    // old code for 2019 and used the new one for 2017.
    let mut s = String::from("区划代码,县(市、区),年份,指标,单位,数值\n");
    for (year, jingshan) in [(2017, "420882"), (2019, "420821")] {
        for (code, name) in
            [("420802", "东宝区"), ("420804", "掇刀区"), (jingshan, ""), ("420822", "沙洋县"), ("420881", "钟祥市")]
        {
            s += &format!("{code},{name},{year},专利授权量,件,{}\n", 1000 + year);
        }
    }
    std::fs::write(input.join("荆门市_2017_2019.csv"), s).unwrap();
    let out = tmp.path().join("out");
    let run = cimon(&repo(), &["ingest", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    run.success();
    run.stderr_line(&[
        "warning:",
        "row 9, column A",
        "\"420821\" is 420821 京山县, which in 2019 is 420882 京山市: the value is stored under 420882",
    ]);
    let df = observations(&out);
    assert!(stored(&df, 2017).contains(&"420821".to_string()), "2017 under the code valid then");
    assert!(stored(&df, 2019).contains(&"420882".to_string()), "2019 under the current code");
    assert!(!stored(&df, 2019).contains(&"420821".to_string()));
}

/// The sample data with extra config lines, and its output directory.
fn sample_with(config: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    copy_dir(&repo().join("sample-data"), &data);
    let schemas = repo().join("schemas");
    let text = std::fs::read_to_string(data.join("cimon.toml"))
        .unwrap()
        .replace("\"../schemas/", &format!("\"{}/", schemas.display()));
    std::fs::write(data.join("cimon.toml"), format!("{text}\n{config}")).unwrap();
    let out = tmp.path().join("out");
    (tmp, data, out)
}

#[test]
fn ranks_and_averages_are_computed_within_the_scope() {
    // 甘肃's way: counties and county-level cities of two prefectures, no districts.
    let (_tmp, data, out) =
        sample_with("[scope]\nprefectures = [\"酒泉市\", \"620800\"]\ntypes = [\"县\", \"县级市\", \"自治县\"]\n");
    let cfg = data.join("cimon.toml");
    let o = out.to_str().unwrap();
    let run = cimon(&repo(), &["ingest", "--config", cfg.to_str().unwrap(), "--out", o]);
    run.success();
    run.stderr_line(&[
        "warning:",
        "2024年_荆门市.csv",
        "5 counties outside the evaluation scope",
        "stored but not scored",
    ]);
    cimon(&repo(), &["compute", "--config", cfg.to_str().unwrap(), "--out", o, "-q"]).success();
    let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
    let y2024: Vec<&IndexRow> = index.iter().filter(|r| r.year == 2024).collect();
    let mut codes: Vec<&str> = y2024.iter().map(|r| &*r.region_code).collect();
    codes.sort();
    // 酒泉 without 肃州区, 平凉 without 崆峒区: 6 + 6.
    assert_eq!(
        codes,
        [
            "620821", "620822", "620823", "620825", "620826", "620881", "620921", "620922", "620923", "620924",
            "620981", "620982"
        ]
    );
    let mut ranks: Vec<u32> = y2024.iter().filter_map(|r| r.rank).collect();
    ranks.sort();
    assert_eq!(ranks, (1..=12).collect::<Vec<_>>(), "ranked among the 12 only");
    let mean = y2024.iter().filter_map(|r| r.index).sum::<f64>() / 12.0;
    for r in &y2024 {
        assert!((r.ratio_to_average.unwrap() - r.index.unwrap() / mean).abs() < 1e-9, "average of the scope");
    }
    // Their data are still in the store.
    assert!(stored(&observations(&out), 2024).contains(&"420802".to_string()));
}

#[test]
fn with_coverage_warn_a_late_county_is_listed_and_the_batch_runs_to_the_end() {
    let (_tmp, data, out) = sample_with("[scope]\ncoverage = \"warn\"\n");
    // 东宝区 has not sent its 2024 figures.
    let f = data.join("inputs/2024/2024年_荆门市.csv");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.lines().filter(|l| !l.starts_with("420802,")).collect::<Vec<_>>().join("\n") + "\n")
        .unwrap();
    let cfg = data.join("cimon.toml");
    let run = cimon(&repo(), &["run", "--config", cfg.to_str().unwrap()]);
    run.success();
    run.stderr_line(&["warning:", "420802 东宝区 (荆门市) has no data for 2024 (未报送)"]);
    let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
    let dongbao = index.iter().find(|r| &*r.region_code == "420802" && r.year == 2024).unwrap();
    assert_eq!((dongbao.index, dongbao.rank), (None, None), "no imputation: not ranked in 2024");
    let ranked = index.iter().filter(|r| r.year == 2024 && r.rank.is_some()).count();
    assert_eq!(ranked, 24);
    // The overview says who and what was done; the workbook lists it; so does the run record.
    let text = pdftotext(&out.join("reports/overview.pdf"));
    let flat: String = text.split_whitespace().collect();
    assert!(flat.contains("未报送的县（市、区）") && flat.contains("不参与当年排名：东宝区（荆门市）"), "{text}");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("results/results.xlsx")).unwrap();
    let sheet = wb.worksheet_range("未报送").unwrap();
    let row: Vec<String> = sheet.rows().nth(1).unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(row, ["2024", "420802", "东宝区", "荆门市", "不参与当年排名"]);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(m["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("420802 东宝区")));
    // The same input with the default policy is refused, naming the county.
    let strict = data.join("strict.toml");
    std::fs::write(&strict, std::fs::read_to_string(&cfg).unwrap().replace("coverage = \"warn\"", "")).unwrap();
    cimon(&repo(), &["validate", "--config", strict.to_str().unwrap()])
        .failure(3)
        .stderr_line(&["error:", "420802 东宝区 (荆门市) has no data for 2024"]);
}

fn pdftotext(pdf: &Path) -> String {
    let out = std::process::Command::new("pdftotext").args(["-layout", pdf.to_str().unwrap(), "-"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn counties_are_also_ranked_within_their_peer_group() {
    let (_tmp, data, out) =
        sample_with("[scope]\npeer_groups = \"peer-groups.csv\"\npeer_group_name = \"主体功能区\"\n");
    // Districts are 重点开发区; 酒泉 and 白山 counties 重点生态功能区; the rest 农产品主产区.
    let registry = cimon::regions::Registry::load(&repo().join("schemas/regions.csv")).unwrap();
    let mut csv = String::from("区划代码,分组\n");
    for r in registry.regions.iter().filter(|r| {
        ["220600", "620900", "620800", "420800"].contains(&r.prefecture_code.as_str())
            && !r.is_zone()
            && r.valid_to.is_none()
    }) {
        let group = if r.kind == "市辖区" {
            "重点开发区"
        } else if ["220600", "620900"].contains(&r.prefecture_code.as_str()) {
            "重点生态功能区"
        } else {
            "农产品主产区"
        };
        csv += &format!("{},{group}\n", r.code);
    }
    std::fs::write(data.join("peer-groups.csv"), csv).unwrap();
    let cfg = data.join("cimon.toml");
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
    let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
    let y2024: Vec<&IndexRow> = index.iter().filter(|r| r.year == 2024).collect();
    for group in ["重点开发区", "重点生态功能区", "农产品主产区"] {
        let mut members: Vec<&&IndexRow> = y2024.iter().filter(|r| r.peer_group.as_deref() == Some(group)).collect();
        assert!(members.len() >= 3, "{group}");
        members.sort_by_key(|r| r.rank);
        let peer: Vec<u32> = members.iter().map(|r| r.rank_peer.unwrap()).collect();
        assert_eq!(peer, (1..=members.len() as u32).collect::<Vec<_>>(), "{group}: ranks follow the overall order");
    }
    let dongbao = y2024.iter().find(|r| &*r.region_code == "420802").unwrap();
    assert_eq!(dongbao.peer_group.as_deref(), Some("重点开发区"));
    let n = y2024.iter().filter(|r| r.peer_group.as_deref() == Some("重点开发区")).count();
    let text = pdftotext(&out.join("reports/420802-东宝区.pdf"));
    let flat: String = text.split_whitespace().collect();
    assert!(
        flat.contains(&format!("在主体功能区“重点开发区”的{n}个县（市、区）中居第{}位", dongbao.rank_peer.unwrap())),
        "{text}"
    );
    assert!(flat.contains("同组平均"), "{text}");
    let overview: String = pdftotext(&out.join("reports/overview.pdf")).split_whitespace().collect();
    assert!(overview.contains("分主体功能区情况") && overview.contains("重点生态功能区"));
}
