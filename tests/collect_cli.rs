//! The collection loop: forms sent to the counties (`cimon form`), filled as a clerk would and
//! ingested without a word; the statistical review on the sample data; problem lists
//! (`--problems`, `OUT/problems.xlsx`) with the rows a bureau sends back.

mod common;

use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use common::{cimon, repo};

fn sheet_rows(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap_or_else(|e| panic!("{}: no sheet {sheet}: {e}", path.display()));
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

fn sheet_names(path: &Path) -> Vec<String> {
    let wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    wb.sheet_names()
}

#[test]
fn a_generated_form_filled_by_a_clerk_ingests_with_no_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, forms, filled) = (tmp.path().join("out"), tmp.path().join("forms"), tmp.path().join("in"));
    let cfg = repo().join("sample-data/cimon.toml");
    let cfg = cfg.to_str().unwrap();
    cimon(&repo(), &["ingest", "--config", cfg, "--out", out.to_str().unwrap(), "-q"]).success();
    let args = ["form", "--config", cfg, "--store-out", out.to_str().unwrap(), "--year", "2025"];
    let run = cimon(&repo(), &[&args[..], &["--prefecture", "荆门市", "--out", forms.to_str().unwrap()]].concat());
    run.success();
    let form = forms.join("2025年_荆门市_县域创新监测填报表.xlsx");
    assert!(run.stdout.contains("2025年_荆门市_县域创新监测填报表.xlsx (5 counties)"), "{}", run.stdout);

    // A clerk fills it in (openpyxl, as another program would) and sends it back.
    std::fs::create_dir_all(&filled).unwrap();
    let script = repo().join("tests/fixtures/fill_form.py");
    let res = std::process::Command::new("python3")
        .arg(&script)
        .arg(&form)
        .arg(filled.join("2025年_荆门市_县域创新监测填报表.xlsx"))
        .output()
        .expect("python3");
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let d: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(d["sheets"], serde_json::json!(["2025年填报表", "2024年数据（对照）", "填表说明"]));
    assert_eq!(d["a1"][0], "荆门市2025年县域创新能力监测数据填报表");
    assert!(d["a1"][1].as_str().unwrap().starts_with("不导入") && d["a1"][2].as_str().unwrap().starts_with("不导入"));
    assert_eq!(d["code_row_hidden"], true);
    assert_eq!(d["rows"], 5);
    let n = common::catalog_indicators();
    assert_eq!(d["codes"].as_array().unwrap().len(), n + 2);
    assert_eq!(d["codes"][2], "fiscal_st_share");
    assert_eq!(d["headers"][2], "财政科技支出占一般公共预算支出比重（%）");
    // Data validation on every indicator column (an operator left out is OOXML's `between`): shares 0–100, counts whole ≥ 0, the 统计口径 shown.
    let v = d["validations"].as_array().unwrap();
    assert_eq!(v.len(), n);
    let of = |range: &str| v.iter().find(|x| x["range"] == range).unwrap_or_else(|| panic!("no validation on {range}"));
    let share = of("C4:C8");
    assert_eq!(
        (&share["type"], &share["operator"], &share["f1"], &share["f2"]),
        (&"decimal".into(), &serde_json::Value::Null, &"0".into(), &"100".into())
    );
    assert!(share["prompt"].as_str().unwrap().contains("科学技术支出"), "{share}");
    let count = of("D4:D8");
    assert_eq!(
        (&count["type"], &count["operator"], &count["f1"]),
        (&"whole".into(), &"greaterThanOrEqual".into(), &"0".into())
    );

    // Its own output directory: a store published in the checkout's out/ is not this form's.
    let alone = tmp.path().join("alone");
    let run = cimon(&repo(), &["validate", filled.to_str().unwrap(), "--out", alone.to_str().unwrap()]);
    run.success();
    assert!(run.stdout.contains(&format!("1 files, {} observations, 0 warnings", 5 * n)), "{}", run.stdout);
    assert!(run.stderr.trim().is_empty(), "a filled form gave messages:\n{}", run.stderr);

    // Last year's values are beside the form, as stored.
    let reference = sheet_rows(&form, "2024年数据（对照）");
    let dongbao = reference.iter().find(|r| r[0] == "420802").unwrap();
    assert_eq!(dongbao[1], "东宝区");
    assert!(dongbao[2..].iter().all(|c| !c.is_empty()), "{dongbao:?}");
}

#[test]
fn the_review_flags_only_the_planted_outlier_on_the_sample_data() {
    // With the sample's config, which confirms that figure (审核确认), the review is silent.
    let run = cimon(&repo(), &["validate", "--config", "sample-data/cimon.toml"]);
    run.success();
    assert!(!run.stderr.contains("[review_"), "{}", run.stderr);

    // Without the confirmation, it queries exactly the planted outlier.
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("问题清单.xlsx");
    let run = cimon(&repo(), &["validate", "sample-data/inputs", "--problems", list.to_str().unwrap()]);
    run.success();
    let review: Vec<&str> = run.stderr.lines().filter(|l| l.contains("[review_")).collect();
    // 敦煌市's one-off contract in 2021 (sample-data/README.md) and the fall back in 2022.
    assert_eq!(review.len(), 2, "{}", run.stderr);
    assert!(
        review[0]
            .contains("620982 敦煌市 2021: tech_contract_value = 286500 万元 is 20.9 times the 2020 value 13684.6"),
        "{}",
        review[0]
    );
    assert!(
        review[1].contains("620982 敦煌市 2022") && review[1].contains("a 95% fall from the 2021 value 286500"),
        "{}",
        review[1]
    );
    // The list has them in Chinese on 酒泉市's sheet, with the rule.
    assert!(sheet_names(&list).contains(&"酒泉市（620900）".to_string()));
    let rows = sheet_rows(&list, "酒泉市（620900）");
    let flagged: Vec<&Vec<String>> = rows.iter().filter(|r| r[2] == "审核：同比变化过大").collect();
    assert_eq!(flagged.len(), 2);
    assert_eq!(
        (&*flagged[0][3], &*flagged[0][4], &*flagged[0][10], &*flagged[0][11]),
        ("620982", "敦煌市", "286,500", "同比变化不超过 3 倍")
    );
    assert!(flagged[0][12].contains("是 2020 年 13684.6 万元"), "{}", flagged[0][12]);
}

#[test]
fn a_refused_check_writes_the_problem_list_by_prefecture_in_chinese() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("反馈单.xlsx");
    let run = cimon(&repo(), &["validate", "tests/fixtures/bad", "--problems", list.to_str().unwrap()]);
    run.failure(3).stderr_line(&["problem list:", "反馈单.xlsx", "(9 errors, 2 warnings)"]);
    assert_eq!(sheet_names(&list), ["汇总", "荆门市（420800）", "其他（未能确定地区）"]);
    let jm = sheet_rows(&list, "荆门市（420800）");
    assert_eq!(jm[0][..4], ["序号", "类别", "问题类型", "地区代码"]);
    // Errors first, in the order of the file; the warning last.
    let kinds: Vec<&str> = jm[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "无法识别的列",
            "同一数据前后不一致",
            "无法识别的县（市、区）",
            "不是数字",
            "超出取值界限",
            "县（市、区）重复",
            "有县（市、区）未报送",
            "使用了旧区划代码"
        ]
    );
    let negative = &jm[5];
    assert_eq!((&*negative[1], &*negative[5], &*negative[7], &*negative[8]), ("错误", "2023年_荆门市.csv", "6", "C"));
    assert!(negative[12].contains("“高新技术企业数”不能为负数（-5）"), "{}", negative[12]);
    // A file that names no county nor prefecture goes to 其他; the summary counts per file.
    let other = sheet_rows(&list, "其他（未能确定地区）");
    let other: Vec<(&str, &str)> = other[1..].iter().map(|r| (r[5].as_str(), r[2].as_str())).collect();
    assert_eq!(
        other,
        [("2023年_单位.csv", "计量单位有误"), ("2023年_单位.csv", "计量单位有误"), ("README.md", "未读取的文件")]
    );
    let summary = sheet_rows(&list, "汇总");
    assert!(summary[1][0].contains("共 11 条：错误 9 处"), "{:?}", summary[1]);
    let by_file: Vec<(&str, &str, &str)> =
        summary[4..].iter().map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str())).collect();
    // (A county missing from a year is placed at that year's files.)
    assert_eq!(
        by_file,
        [
            ("2023年_东宝区补报.csv, 2023年_荆门市.csv", "1", "0"),
            ("2023年_荆门市.csv", "6", "1"),
            ("2023年_单位.csv", "2", "0"),
            ("README.md", "0", "1")
        ]
    );
}

#[test]
fn a_confirmation_of_an_unknown_county_is_a_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("cimon.toml");
    std::fs::write(
        &cfg,
        format!(
            "[input]\ndir = \"{}\"\n[[input.confirmed]]\ncounty = \"999999\"\nyear = 2021\nindicator = \"tech_contract_value\"\nnote = \"x\"\n",
            repo().join("sample-data/inputs").display()
        ),
    )
    .unwrap();
    cimon(&repo(), &["validate", "--config", cfg.to_str().unwrap()]).failure(2).stderr_line(&[
        "cimon.toml",
        "[[input.confirmed]] #1",
        "\"999999\"",
    ]);
}
