//! End-to-end tests of `cimon run`, the cron batch: publishing, incremental re-runs, kills, the lock,
//! the manifest and the Excel workbook. Needs typst 0.15 (`bash .ci/setup`).

mod common;

use std::path::Path;

use calamine::{Data, Reader};
use cimon::results::{AttainmentRow, IndexRow};
use cimon::tables::read;
use common::{cimon, published, repo, sample, spawn_run, staging, wait_for};

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_full_run_publishes_everything_and_a_second_run_does_nothing() {
    let (_tmp, cfg, out) = sample();
    let c = cfg.to_str().unwrap();
    let run = cimon(&repo(), &["run", "--config", c]);
    run.success();
    assert!(run.stdout.starts_with("published: run "), "{}", run.stdout);
    let m = manifest(&out);
    assert_eq!(m["status"], "published");
    assert_eq!(m["exit_code"], 0);
    assert_eq!(m["inputs"].as_array().unwrap().len(), 11);
    let sha =
        cimon::ingest::sha256_hex(&std::fs::read(cfg.parent().unwrap().join("inputs/2022年数据修订.csv")).unwrap());
    assert!(m["inputs"].as_array().unwrap().iter().any(|f| f["sha256"] == sha.as_str()));
    assert_eq!(m["rows"]["observations"], common::sample_observations() as u64);
    assert_eq!(m["rows"]["reports"], 26);
    assert_eq!(m["reports_rendered"], 26);
    assert!(m["typst_version"].as_str().unwrap().starts_with("0.15."));
    for stage in ["check", "ingest", "compute", "report", "publish", "total"] {
        assert!(m["timings"][stage].as_f64().is_some(), "no timing for {stage}");
    }
    let outputs: Vec<&str> = m["outputs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for f in [
        "store/observations/year=2024/part-0.parquet",
        "results/index.parquet",
        "results/results.xlsx",
        "results/data-dictionary.toml",
        "reports/420802-东宝区.pdf",
        "reports/overview.pdf",
        "manifest.json",
    ] {
        assert!(outputs.contains(&f), "{f} not in the manifest's outputs");
        assert!(out.join(f).is_file(), "{f} not written");
    }
    // The problem list for the counties beside the outputs: the sample's implausible value
    // (平凉市; its outlier in 酒泉市 is confirmed in the config); the summary rows and the
    // instructions sheet of the province's own workbook belong to no prefecture.
    use calamine::Reader;
    let names = calamine::open_workbook::<calamine::Xlsx<_>, _>(out.join("problems.xlsx")).unwrap().sheet_names();
    assert_eq!(names, ["汇总", "平凉市（620800）", "其他（未能确定地区）"]);
    let before = published(&out);

    // Unchanged inputs, config and templates: nothing but checking, outputs untouched.
    let again = cimon(&repo(), &["run", "--config", c]);
    again.success().stderr_line(&["nothing to do", "unchanged since run"]);
    assert!(again.stdout.starts_with("unchanged: run "), "{}", again.stdout);
    assert_eq!(published(&out), before, "a run without changes rewrote outputs");
    let log = std::fs::read_to_string(out.join("runs.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains(" published ") && lines[1].contains(" unchanged "), "{log}");
    assert_eq!(std::fs::read_dir(out.join("runs")).unwrap().count(), 2);

    // --quiet prints nothing on success.
    let quiet = cimon(&repo(), &["run", "--config", c, "-q"]);
    quiet.success();
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
}

#[test]
fn a_changed_input_rerenders_only_the_reports_it_changes() {
    let (_tmp, cfg, out) = sample();
    let c = cfg.to_str().unwrap();
    cimon(&repo(), &["run", "--config", c, "-q"]).success();
    let before = published(&out);
    // A correction of 东宝区's 2022 population: a context series in a year no 2024 figure uses.
    // Only the reports listing the revision file among their sources change: 东宝区 and 钟祥市
    // (both in that file) and the overview.
    let rev = cfg.parent().unwrap().join("inputs/2022年数据修订.csv");
    let mut text = std::fs::read_to_string(&rev).unwrap();
    text.push_str("420802,东宝区,2022,常住人口,万人,44.1\n");
    std::fs::write(&rev, text).unwrap();
    let run = cimon(&repo(), &["run", "--config", c]);
    run.success().stderr_line(&["report: 26 reports for 2024 (3 rendered, 23 unchanged)"]);
    let m = manifest(&out);
    assert_eq!((m["reports_rendered"].as_u64(), m["reports_reused"].as_u64()), (Some(3), Some(23)));
    let after = published(&out);
    let changed: Vec<String> = after
        .iter()
        .filter(|(p, _)| p.starts_with("reports") && p.extension().is_some_and(|x| x == "pdf"))
        .filter(|(p, b)| before.iter().find(|(q, _)| q == p).is_none_or(|(_, old)| old != b))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(changed, vec!["reports/420802-东宝区.pdf", "reports/420881-钟祥市.pdf", "reports/overview.pdf"]);
    // The stored value did change.
    let revisions: Vec<cimon::store::RevisionRow> = read(&out.join("store")).unwrap();
    assert_eq!(revisions.len(), 3);
}

#[test]
fn a_run_killed_at_any_stage_leaves_the_published_outputs_intact() {
    let (_tmp, cfg, out) = sample();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
    let before = published(&out);
    // Killed while ingesting (the staging tree exists), computing (results being written) and
    // rendering (PDFs appearing in the staged reports). Killing while publishing is covered by
    // the roll-forward unit tests in pipeline/run.rs.
    type Reached = fn(&Path) -> bool;
    let phases: [(&str, Reached); 3] = [
        ("ingest", |s| s.exists()),
        ("compute", |s| s.join("results").exists()),
        ("report", |s| std::fs::read_dir(s.join("reports")).is_ok_and(|d| d.count() > 3)),
    ];
    for (phase, reached) in phases {
        // English reports: every report is compiled again, so the report phase lasts seconds.
        let mut child = spawn_run(&cfg, &["--force", "--lang", "en"]);
        wait_for(phase, || staging(&out).is_some_and(|s| reached(&s)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(published(&out), before, "killed during {phase}: published outputs changed");
        let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
        assert_eq!(index.len(), 250, "killed during {phase}: results unreadable");
        // The lock died with the process: the next run is not blocked, and clears the leftovers.
        cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
        assert!(staging(&out).is_none(), "killed during {phase}: staging tree left behind");
    }
}

#[test]
fn a_concurrent_run_is_refused_by_the_lock() {
    let (_tmp, cfg, out) = sample();
    let mut first = spawn_run(&cfg, &[]);
    wait_for("the first run to start working", || staging(&out).is_some());
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap()])
        .failure(5)
        .stderr_line(&["in use by another cimon", "`cimon run`, pid"])
        .stderr_line(&["hint:", "wait for the other run"]);
    cimon(&repo(), &["compute", "--out", out.to_str().unwrap()]).failure(5);
    assert!(first.wait().unwrap().success());
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
}

#[test]
fn a_bad_config_names_the_key_and_a_failed_run_is_recorded() {
    let (_tmp, cfg, out) = sample();
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("[report]\nlang = \"zh\"", "[report]\nlang = \"zh\"\nlanguage = \"en\""))
        .unwrap();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap()]).failure(2).stderr_line(&[
        "cimon.toml",
        "report.language",
        "unknown field `language`",
    ]);
    std::fs::write(&cfg, text.replace("normalisation = \"minmax\"", "normalisation = \"min-max\"")).unwrap();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap()]).failure(2).stderr_line(&[
        "cimon.toml",
        "compute.normalisation",
        "unknown variant `min-max`",
    ]);
    // A data error: exit 3, nothing published, the failure in the run log and its record.
    std::fs::write(&cfg, &text).unwrap();
    let bad = cfg.parent().unwrap().join("inputs/2024/2024年_荆门市.csv");
    let csv = std::fs::read_to_string(&bad).unwrap().replacen("420802,东宝区", "429999,东宝区", 1);
    std::fs::write(&bad, csv).unwrap();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).failure(3).stderr_line(&["429999"]);
    assert!(!out.join("manifest.json").exists() && !out.join("store").exists());
    let log = std::fs::read_to_string(out.join("runs.log")).unwrap();
    assert!(log.contains(" failed ") && log.contains("exit=3"), "{log}");
}

#[test]
fn the_workbook_has_the_results_in_chinese() {
    let (_tmp, cfg, out) = sample();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("results/results.xlsx")).unwrap();
    // The sample has regional targets (白山市, 甘肃省) and every county reported: no 未报送 sheet.
    assert_eq!(
        wb.sheet_names(),
        vec!["指数与排名", "指标与增速", "目标达成", "区域目标", "绩效拨款", "考评结果", "方法说明"]
    );
    let index: Vec<IndexRow> = read(&out.join("results")).unwrap();
    let sheet = wb.worksheet_range("指数与排名").unwrap();
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(&header[..7], &["年份", "区划代码", "县（市、区）", "所属市（州）", "省份", "创新能力指数", "排名"]);
    assert_eq!(sheet.height(), index.len() + 1);
    // 东宝区 2024: the index and rank as in index.parquet.
    let dongbao = index.iter().find(|r| &*r.region_code == "420802" && r.year == 2024).unwrap();
    let row = sheet
        .rows()
        .find(|r| r[1] == Data::String("420802".into()) && r[0] == Data::Float(2024.0))
        .expect("东宝区 2024 in the workbook");
    assert_eq!(row[2], Data::String("东宝区".into()));
    assert_eq!(row[5], Data::Float(dongbao.index.unwrap()));
    assert_eq!(row[6], Data::Float(f64::from(dongbao.rank.unwrap())));
    // Each number carries its column's format: the year without a thousands separator, the index
    // with one decimal, the rank whole, the ratio to the average as a percent; the header its own.
    let at = sheet.rows().position(|r| r[1] == Data::String("420802".into()) && r[0] == Data::Float(2024.0)).unwrap();
    let mut cells = wb.worksheet_cells_reader("指数与排名").unwrap();
    let codes: Vec<String> = (cells.styles().iter())
        .map(|s| s.number_format.as_ref().map_or(String::new(), |f| f.format_code.clone()))
        .collect();
    let mut shown = std::collections::BTreeMap::new();
    while let Some((r, c, style)) = cells.next_style_id().unwrap() {
        if r as usize == at || (r == 0 && c == 5) {
            shown.insert((r, c), codes.get(style).cloned().unwrap_or_default());
        }
    }
    drop(cells);
    let r = at as u32;
    assert_eq!(shown[&(r, 0)], "0", "{shown:?}");
    assert_eq!(shown[&(r, 5)], "#,##0.0", "{shown:?}");
    assert_eq!(shown[&(r, 6)], "#,##0", "{shown:?}");
    assert_eq!(shown[&(r, 11)], "0.0%", "{shown:?}");
    assert_ne!(shown[&(0, 5)], "#,##0.0", "the header is not a number: {shown:?}");
    // Indicators of the latest year only; every target evaluation.
    let growth = wb.worksheet_range("指标与增速").unwrap();
    let catalog = cimon::catalog::Catalog::load(&repo().join("schemas/indicators.toml")).unwrap();
    assert_eq!(
        growth.height(),
        25 * catalog.indicators.len() + 1,
        "25 counties × every catalog series, and the header"
    );
    let attainment: Vec<AttainmentRow> = read(&out.join("results")).unwrap();
    let targets = wb.worksheet_range("目标达成").unwrap();
    assert_eq!(targets.height(), attainment.len() + 1);
    assert!(targets
        .rows()
        .skip(1)
        .all(|r| ["已达成", "进展顺利", "存在风险", "明显滞后", "未完成", "缺少数据"]
            .contains(&r[11].to_string().as_str())));
    // One row per regional target, named in Chinese.
    let regional: Vec<cimon::results::RegionalAttainmentRow> = read(&out.join("results")).unwrap();
    let sheet = wb.worksheet_range("区域目标").unwrap();
    assert_eq!(sheet.height(), regional.len() + 1);
    let giants = regional.iter().find(|r| r.target_id == "baishan-giants-2020").unwrap();
    let row = sheet.rows().find(|r| r[0] == Data::String("baishan-giants-2020".into())).unwrap();
    assert_eq!((row[6].clone(), row[7].clone()), (Data::Float(giants.actual.unwrap()), Data::Float(30.0)));
}

/// The sample config's 绩效拨款 and 考评: the tables, the workbook, the overview and each county's line agree.
#[test]
fn funding_and_appraisal_reach_the_workbook_and_the_reports() {
    let (_tmp, cfg, out) = sample();
    cimon(&repo(), &["run", "--config", cfg.to_str().unwrap(), "-q"]).success();
    let funding: Vec<cimon::results::FundingRow> = read(&out.join("results")).unwrap();
    assert_eq!(funding.len(), 25);
    assert_eq!(funding.iter().map(|r| r.amount).sum::<f64>(), 3000.0, "the sample budget");
    assert!(funding.iter().all(|r| r.amount <= 250.0 && r.amount >= 40.0 && r.runs > 0));
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("results/results.xlsx")).unwrap();
    let sheet = wb.worksheet_range("绩效拨款").unwrap();
    assert_eq!(sheet.height(), 26);
    let total: f64 = sheet
        .rows()
        .skip(1)
        .map(|r| match r[14] {
            Data::Float(x) => x,
            _ => f64::NAN,
        })
        .sum();
    assert_eq!(total, 3000.0);

    // 东宝区's report states its amount and interval as the table has them.
    let text = |pdf: &str| {
        let o = std::process::Command::new("pdftotext").arg(out.join("reports").join(pdf)).arg("-").output().unwrap();
        String::from_utf8(o.stdout).unwrap().split_whitespace().collect::<String>()
    };
    let db = funding.iter().find(|r| r.region_code == "420802").unwrap();
    let flat = text("420802-东宝区.pdf");
    let f = |x: f64| cimon::report::template::fmt_num(Some(x), Some(0));
    let line = format!(
        "拟安排绩效资金{}万元（占总额{}%，90%区间{}–{}万元",
        f(db.amount),
        f(db.share_of_budget * 100.0),
        f(db.p05.unwrap()),
        f(db.p95.unwrap())
    );
    assert!(flat.contains(&line), "{line}\n{flat}");
    // The overview: the section, every county's amount, the appraisal list with its reasons.
    let flat = text("overview.pdf");
    assert!(flat.contains("绩效拨款") && flat.contains("2024年绩效资金总额3,000万元"), "{flat}");
    let appraisal: Vec<cimon::results::AppraisalRow> = read(&out.join("results")).unwrap();
    assert!(appraisal.iter().any(|a| a.leading) && appraisal.iter().any(|a| a.improved));
    let advanced = flat.split("考评先进").last().unwrap();
    for a in appraisal.iter().filter(|a| a.verdict == cimon::results::Verdict::Advanced) {
        assert!(advanced.contains(&a.region_name), "{} is not on the list", a.region_name);
    }
}
