//! Files shaped like real bureau submissions (`tests/fixtures/submissions`, `tests/fixtures/broken`,
//! made by `tests/fixtures/make.py`) and files cut, renamed or linked at test time: what is read,
//! what is refused, and that nothing is ever dropped or stored wrong in silence.

mod common;

use std::path::{Path, PathBuf};

use common::{cimon, repo, Run};

/// 荆门市's five counties in the fixtures: (code, R&D 经费 in 亿元, 专利授权量, 有研发活动的企业占比 %).
const COUNTIES: [(&str, f64, f64, f64); 5] = [
    ("420802", 6.9, 2087.0, 38.9),
    ("420804", 5.2, 1650.0, 35.1),
    ("420822", 3.1, 980.0, 27.4),
    ("420881", 7.4, 2310.0, 31.6),
    ("420882", 4.8, 1420.0, 29.8),
];

/// A temp input directory holding copies of `files` (fixture paths, with an optional new name).
fn inputs(files: &[(&str, Option<&str>)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    for (f, name) in files {
        let src = repo().join("tests/fixtures").join(f);
        let name = name.map(str::to_string).unwrap_or_else(|| src.file_name().unwrap().to_string_lossy().into_owned());
        std::fs::copy(&src, dir.join(name)).unwrap();
    }
    (tmp, dir)
}

fn ingest(dir: &Path, out: &Path) -> Run {
    cimon(&repo(), &["ingest", dir.to_str().unwrap(), "--out", out.to_str().unwrap()])
}

fn validate(dir: &Path) -> Run {
    cimon(&repo(), &["validate", dir.to_str().unwrap()])
}

/// (region, indicator) → (value, source row, source column) of the store.
fn stored(out: &Path) -> Vec<(String, String, Option<f64>, u32, String)> {
    let df = cimon::store::scan_observations(&out.join("store")).unwrap().collect().unwrap();
    let s = |c: &str| df.column(c).unwrap().str().unwrap().clone();
    let (reg, ind, col) = (s("region_code"), s("indicator"), s("source_column"));
    let val = df.column("value").unwrap().f64().unwrap().clone();
    let row = df.column("source_row").unwrap().u32().unwrap().clone();
    (0..df.height())
        .map(|i| {
            (
                reg.get(i).unwrap().to_string(),
                ind.get(i).unwrap().to_string(),
                val.get(i),
                row.get(i).unwrap(),
                col.get(i).unwrap().to_string(),
            )
        })
        .collect()
}

/// Every county's three values, in the catalog units (R&D 经费 in 万元).
fn assert_values(out: &Path) {
    let got = stored(out);
    assert_eq!(got.len(), 15, "{got:?}");
    for (code, rd, patents, share) in COUNTIES {
        for (ind, want) in
            [("rd_expenditure", rd * 10000.0), ("patent_grants", patents), ("rd_active_ent_share", share)]
        {
            let v = got.iter().find(|g| g.0 == code && g.1 == ind).unwrap_or_else(|| panic!("{code} {ind}"));
            assert!((v.2.unwrap() - want).abs() < 1e-6, "{code} {ind}: {:?} ≠ {want}", v.2);
        }
    }
}

#[test]
fn a_report_form_with_two_header_rows_a_unit_row_a_total_row_and_the_footer() {
    let name = "荆门市2023年县域创新监测（2024年3月报送）.xlsx";
    let (tmp, dir) = inputs(&[(&format!("submissions/{name}"), None)]);
    let out = tmp.path().join("out");
    let run = ingest(&dir, &out);
    run.success();
    assert_values(&out);
    // 2023 from the title, not the submission date in the file name.
    let years = cimon::store::scan_observations(&out.join("store")).unwrap().collect().unwrap();
    assert!(years.column("year").unwrap().i32().unwrap().iter().all(|y| y == Some(2023)));
    // 东宝区's R&D 经费 at row 5 (title, two header rows, unit row), column C.
    let db = stored(&out).into_iter().find(|g| g.0 == "420802" && g.1 == "rd_expenditure").unwrap();
    assert_eq!((db.3, db.4.as_str()), (5, "C"));
    // The prefecture's own row is left out and said so; the footer is not data.
    run.stderr_line(&[name, "row 10", "summary rows left out", "[total_rows]"]);
    assert_eq!(run.stderr.matches("warning").count(), 1, "{}", run.stderr);
}

#[test]
fn a_table_with_the_counties_as_columns_is_read_with_the_cells_where_they_are() {
    let (tmp, dir) = inputs(&[("submissions/2023年_荆门市_转置.xlsx", None)]);
    let out = tmp.path().join("out");
    ingest(&dir, &out).success();
    assert_values(&out);
    // 掇刀区 is column C; its 专利授权量 is the indicator of row 4.
    let v = stored(&out).into_iter().find(|g| g.0 == "420804" && g.1 == "patent_grants").unwrap();
    assert_eq!((v.3, v.4.as_str()), (4, "C"));
}

#[test]
fn dates_in_the_year_column_percent_signs_and_units_in_cells_are_read_and_said() {
    let (tmp, dir) = inputs(&[("submissions/2023年_荆门市_长表.xlsx", None)]);
    let out = tmp.path().join("out");
    let run = ingest(&dir, &out);
    run.success().stderr_line(&["column C (年份)", "15 年份 cell(s) are dates", "[year_as_date]"]);
    // "6.9亿元" in a 万元 row is 69000 万元; "38.9%" is 38.9; "2087件" is 2087.
    assert_values(&out);
}

#[test]
fn excel_unicode_text_with_other_provinces_headers() {
    let (tmp, dir) = inputs(&[("submissions/2023年_荆门市_导出.txt", None)]);
    let out = tmp.path().join("out");
    let run = ingest(&dir, &out);
    // Read, and said once: a .txt could be anything, so the clerk learns it was taken as a table.
    run.success().stderr_line(&["2023年_荆门市_导出.txt", "read as a tab-separated table", "[text_as_table]"]);
    assert_eq!(run.stderr.matches("warning").count(), 1, "{}", run.stderr);
    assert_values(&out);
}

/// Five broken files, five messages that say what the file is and what to do; a refused ingest
/// leaves no output directory behind.
#[test]
fn broken_workbooks_each_get_their_own_message_and_nothing_is_written() {
    let cases = [
        ("broken/2023年_截断.xlsx", "damaged_workbook", "is a damaged workbook"),
        ("broken/2023年_加密.xlsx", "password_protected", "is password-protected"),
        ("broken/2023年_网页.xls", "html_not_workbook", "is a web page (HTML)"),
        ("broken/2023年_空文件.csv", "empty_file", "the file is empty"),
        ("broken/2023年_公式.xlsx", "formula_without_value", "5 formula cell(s) have no computed value (D2"),
    ];
    for (file, kind, says) in cases {
        let (tmp, dir) = inputs(&[(file, None)]);
        let out = tmp.path().join("out");
        let name = Path::new(file).file_name().unwrap().to_str().unwrap();
        ingest(&dir, &out).failure(3).stderr_line(&[name, says, &format!("[{kind}]")]);
        assert!(!out.exists(), "{file}: a refused ingest created {}", out.display());
    }
    // A workbook named .csv is read as the workbook it is, with a warning to rename it.
    let (tmp, dir) = inputs(&[("submissions/2023年_荆门市_转置.xlsx", Some("2023年_荆门市.csv"))]);
    let out = tmp.path().join("out");
    ingest(&dir, &out).success().stderr_line(&[
        "2023年_荆门市.csv",
        "is a workbook with a text file's name",
        "rename it to .xlsx",
    ]);
    assert_values(&out);
}

#[test]
fn a_hidden_sheet_is_named_and_a_stray_cell_at_the_last_row_costs_nothing() {
    let (tmp, dir) = inputs(&[("broken/2023年_隐藏表.xlsx", None)]);
    let out = tmp.path().join("out");
    let run = ingest(&dir, &out);
    run.success().stderr_line(&["sheet 旧数据", "is hidden: not read", "[hidden_sheet]"]);
    // The hidden sheet's 1999 for 东宝区 is not taken; the visible 2087 is.
    let db = stored(&out).into_iter().find(|g| g.0 == "420802").unwrap();
    assert_eq!(db.2, Some(2087.0));
}

/// Text files written at test time: cut short, values right of the last header, a header only.
#[test]
fn csv_cut_short_values_without_a_header_and_a_header_only_file() {
    let (_tmp, dir) = inputs(&[]);
    let header = "区划代码,县(市、区),专利授权量(件)\n";
    let rows: String = COUNTIES.iter().map(|c| format!("{},,{}\n", c.0, c.2)).collect();
    let first_three: String = rows.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("2023年_荆门市.csv"), format!("{header}{first_three}420881,钟")).unwrap();
    validate(&dir).failure(3).stderr_line(&["2023年_荆门市.csv", "the file looks cut short", "[malformed_csv]"]);

    std::fs::write(dir.join("2023年_荆门市.csv"), format!("{header}{}", rows.replacen("\n", ",999\n", 1))).unwrap();
    validate(&dir).failure(3).stderr_line(&[
        "2023年_荆门市.csv, row 2, column D",
        "value \"999\" in a column without a header",
        "[unknown_column]",
    ]);

    std::fs::write(dir.join("2023年_荆门市.csv"), format!("{header}{rows}")).unwrap();
    std::fs::write(dir.join("2023年_补充.csv"), header).unwrap();
    std::fs::write(dir.join("政策文件.pdf"), b"%PDF-1.4").unwrap();
    let run = validate(&dir);
    run.success().stderr_line(&["2023年_补充.csv", "has a header row but no data", "[header_only]"]).stderr_line(&[
        "政策文件.pdf",
        "not read",
        "[unread_file]",
    ]);
}

/// The same in a workbook: a number two columns right of the last header is located, not dropped.
#[test]
fn a_value_right_of_the_last_header_in_a_workbook_is_an_error() {
    let (_tmp, dir) = inputs(&[]);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("2023年").unwrap();
    for (c, h) in ["区划代码", "县(市、区)", "专利授权量(件)"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, c) in COUNTIES.iter().enumerate() {
        ws.write_string(1 + i as u32, 0, c.0).unwrap();
        ws.write_number(1 + i as u32, 2, c.2).unwrap();
    }
    ws.write_number(3, 4, 999.0).unwrap();
    wb.save(dir.join("2023年_荆门市.xlsx")).unwrap();
    validate(&dir).failure(3).stderr_line(&[
        "2023年_荆门市.xlsx, sheet 2023年, row 4, column E",
        "value \"999\" in a column without a header",
        "[unknown_column]",
    ]);
}

#[test]
fn two_places_that_say_different_years_are_an_error_naming_both() {
    let (_tmp, dir) = inputs(&[]);
    let body: String = COUNTIES.iter().map(|c| format!("{},,{}\n", c.0, c.2)).collect();
    std::fs::write(
        dir.join("2024年_荆门市.csv"),
        format!("荆门市2023年县域创新监测表\n区划代码,县(市、区),专利授权量(件)\n{body}"),
    )
    .unwrap();
    validate(&dir).failure(3).stderr_line(&[
        "2024年_荆门市.csv",
        "the title says 2023 but the file name says 2024",
        "[year_conflict]",
    ]);
    // A 年份 column against the title.
    std::fs::remove_file(dir.join("2024年_荆门市.csv")).unwrap();
    let body: String = COUNTIES.iter().map(|c| format!("{},2022,{}\n", c.0, c.2)).collect();
    std::fs::write(dir.join("荆门市.csv"), format!("荆门市2023年县域创新监测表\n区划代码,年份,专利授权量(件)\n{body}"))
        .unwrap();
    validate(&dir).failure(3).stderr_line(&[
        "row 3, column B (年份)",
        "the 年份 column says 2022 but the title says 2023 (5 rows like this)",
    ]);
}

#[test]
fn units_in_cells_that_do_not_fit_are_refused_in_words() {
    let (_tmp, dir) = inputs(&[]);
    let mut body: String = COUNTIES.iter().skip(2).map(|c| format!("{},,{},{}\n", c.0, c.1 * 10000.0, c.2)).collect();
    body.push_str("420802,,12.5%,2087\n420804,,52000,1650台\n");
    std::fs::write(
        dir.join("2023年_荆门市.csv"),
        format!("区划代码,县(市、区),全社会R&D经费支出(万元),专利授权量(件)\n{body}"),
    )
    .unwrap();
    validate(&dir)
        .failure(3)
        .stderr_line(&["row 5, column C", "\"12.5%\" has a percent sign, but the column is in 万元"])
        .stderr_line(&["row 6, column D", "\"1650台\" is not a number: type the number only"]);
}

/// A link to a file read already, and a directory link back up the tree.
#[test]
fn each_file_is_read_once_and_a_link_loop_is_not_followed() {
    let (tmp, dir) = inputs(&[("submissions/2023年_荆门市_导出.txt", None)]);
    std::os::unix::fs::symlink(dir.join("2023年_荆门市_导出.txt"), dir.join("副本.txt")).unwrap();
    std::fs::create_dir_all(dir.join("子目录")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("子目录/回到上级")).unwrap();
    let out = tmp.path().join("out");
    let run = ingest(&dir, &out);
    run.success().stderr_line(&["副本.txt", "is the same file as 2023年_荆门市_导出.txt", "[same_file]"]);
    assert_values(&out);
}

/// `--lang zh` (and `CIMON_LANG=zh`) gives every message, the place and the hint in Chinese, with
/// what to change in the file.
#[test]
fn messages_places_and_hints_in_chinese() {
    let (tmp, dir) = inputs(&[("broken/2023年_公式.xlsx", None), ("bad/2023年_单位.csv", None)]);
    let out = tmp.path().join("out");
    let args = ["ingest", dir.to_str().unwrap(), "--out", out.to_str().unwrap(), "--lang", "zh"];
    let run = cimon(&repo(), &args);
    run.failure(3)
        .stderr_line(&[
            "错误：",
            "2023年_公式.xlsx，工作表",
            "第 2 行",
            "有 5 个公式单元格没有计算结果",
            "选择性粘贴为数值",
        ])
        .stderr_line(&["中的报送文件未通过审核，未写入任何数据", "处错误"])
        .stderr_line(&["提示：请按上面列出的", "修改所列文件后重新运行"]);
    assert!(!run.stderr.contains("formula cell(s)"), "English in a Chinese run:\n{}", run.stderr);
    assert!(!out.exists());
    // The environment gives the same; a flag beats it.
    let env = common::cimon_env(&repo(), &args[..4], &[("CIMON_LANG", "zh")]);
    env.failure(3).stderr_line(&["有 5 个公式单元格没有计算结果"]);
    let en = common::cimon_env(&repo(), &[&args[..4], &["--lang", "en"]].concat(), &[("CIMON_LANG", "zh")]);
    en.failure(3).stderr_line(&["5 formula cell(s) have no computed value"]);
}

/// 100,000 cells that are not numbers, from one cause: the terminal shows a count per file and
/// kind with the first few, not 100,000 lines.
#[test]
fn a_hundred_thousand_bad_cells_print_a_short_summary() {
    let catalog = std::fs::read_to_string(repo().join("schemas/indicators.toml")).unwrap();
    let codes: Vec<&str> = catalog
        .split("\n[[indicators]]\n")
        .skip(1)
        .filter_map(|block| block.lines().find_map(|l| l.strip_prefix("code = \"")?.strip_suffix('"')))
        .take(50)
        .collect();
    let regions = std::fs::read_to_string(repo().join("schemas/regions.csv")).unwrap();
    let counties: Vec<&str> = regions
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(8).is_some_and(str::is_empty))
        .map(|l| l.split(',').next().unwrap())
        .take(2_000)
        .collect();
    assert_eq!((codes.len(), counties.len()), (50, 2_000));
    let (_tmp, dir) = inputs(&[]);
    let mut csv = format!("区划代码,{}\n", codes.join(","));
    for c in &counties {
        csv.push_str(c);
        csv.push_str(&",待补".repeat(codes.len()));
        csv.push('\n');
    }
    std::fs::write(dir.join("2023年_全省.csv"), csv).unwrap();
    let run = validate(&dir);
    run.failure(3)
        .stderr_line(&["2023年_全省.csv: 100000 errors [not_a_number], the first 3:"])
        .stderr_line(&["100000", "the full list: cimon validate --problems"]);
    let lines = run.stderr.lines().count();
    assert!(lines < 60, "{lines} lines on stderr:\n{}", run.stderr);
}
