//! The problem list (问题清单, 反馈单) as a workbook to send back to the counties: every error and
//! warning in Chinese, one sheet per prefecture, and a summary sheet.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::ingest::{Problem, Severity};
use crate::regions::Registry;

/// The file name `cimon run` writes into the output directory.
pub const FILE: &str = "problems.xlsx";

/// Problems whose prefecture cannot be told (a file that could not be read at all, say).
const OTHER: &str = "其他（未能确定地区）";

#[derive(Debug, thiserror::Error)]
#[error("cannot write problem list {path}: {message}")]
pub struct ProblemListError {
    pub path: std::path::PathBuf,
    pub message: String,
}

/// What a kind of problem is called on the list.
pub fn kind_zh(kind: &str) -> &str {
    match kind {
        "bad_unit" => "计量单位有误",
        "bad_year" | "no_year" => "年份有误或缺失",
        "year_conflict" => "年份不一致",
        "year_as_date" => "年份填成了日期",
        "conflict" => "同一数据前后不一致",
        "coverage" => "有县（市、区）未报送",
        "damaged_workbook" => "工作簿已损坏",
        "duplicate_column" => "指标列重复",
        "duplicate_county" => "县（市、区）重复",
        "empty_file" => "空文件",
        "formula_without_value" => "公式没有计算结果",
        "header_only" => "只有表头没有数据",
        "hidden_sheet" => "隐藏的工作表",
        "html_not_workbook" => "网页文件而非工作簿",
        "malformed_csv" => "文本文件不完整",
        "no_table" | "not_a_table" => "未找到数据表",
        "not_a_worksheet" => "非数据工作表",
        "not_a_number" => "不是数字",
        "old_code" => "使用了旧区划代码",
        "out_of_bounds" => "超出取值界限",
        "out_of_range" => "超出通常范围",
        "outside_scope" => "不在参评范围",
        "password_protected" => "工作簿设有密码",
        "percent_format" => "百分数格式",
        "review_change" => "审核：同比变化过大",
        "review_consistency" => "审核：指标间不一致",
        "review_zero" => "审核：数据突降为 0",
        "other_project" => "另一套数据的文件夹",
        "same_file" => "重复文件",
        "text_named_as_workbook" | "workbook_named_as_text" => "文件扩展名与内容不符",
        "total_rows" => "合计行未读入",
        "unknown_column" => "无法识别的列",
        "unknown_county" => "无法识别的县（市、区）",
        "unknown_indicator" => "无法识别的指标",
        "unread_file" => "未读取的文件",
        "unreadable" => "无法读取",
        "xml_workbook" => "XML 2003 格式工作簿",
        _ => kind,
    }
}

/// The prefecture (code, name) each problem belongs to: its county's; else the prefecture most of
/// its file's problems are about, or whose name the file name carries; else none.
fn prefectures<'a>(problems: &[Problem], registry: &'a Registry) -> Vec<Option<(&'a str, &'a str)>> {
    let of_region = |p: &Problem| {
        let r = registry.get(p.region.as_deref()?)?;
        Some((r.prefecture_code.as_str(), r.prefecture_name.as_str()))
    };
    let mut by_file: HashMap<&str, BTreeMap<(&str, &str), usize>> = HashMap::new();
    for p in problems {
        if let Some(pref) = of_region(p) {
            *by_file.entry(&p.loc.file).or_default().entry(pref).or_default() += 1;
        }
    }
    let mut names: Vec<(&str, &str)> =
        registry.regions.iter().map(|r| (r.prefecture_code.as_str(), r.prefecture_name.as_str())).collect();
    names.sort();
    names.dedup();
    problems
        .iter()
        .map(|p| {
            of_region(p)
                .or_else(|| {
                    let counts = by_file.get(&*p.loc.file)?;
                    counts.iter().max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k))).map(|(k, _)| *k)
                })
                .or_else(|| names.iter().copied().find(|(_, n)| n.chars().count() >= 2 && p.loc.file.contains(n)))
        })
        .collect()
}

/// Excel's sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(s: &str) -> String {
    s.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect()
}

/// Write the list to `path` (through a temporary file beside it, so that an earlier list is
/// never half-overwritten).
pub fn write(path: &Path, problems: &[Problem], registry: &Registry) -> Result<(), ProblemListError> {
    let err = |message: String| ProblemListError { path: path.to_owned(), message };
    let mut wb = build(problems, registry).map_err(|e| err(e.to_string()))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let name = path.file_name().map_or_else(|| FILE.into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let saved = wb
        .save(&tmp)
        .map_err(|e| err(e.to_string()))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| err(e.to_string())));
    if saved.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    saved
}

fn build(problems: &[Problem], registry: &Registry) -> Result<Workbook, XlsxError> {
    let pref = prefectures(problems, registry);
    let mut order: Vec<usize> = (0..problems.len()).collect();
    order.sort_by(|&a, &b| {
        let (p, q) = (&problems[a], &problems[b]);
        // As on the terminal: errors first, and a missing county after the rows that may explain it.
        (pref[a], p.severity, p.kind == "coverage", &p.loc).cmp(&(pref[b], q.severity, q.kind == "coverage", &q.loc))
    });
    // Sheets in code order; the unplaced last.
    // (prefecture code and name, the problems' indices).
    type Group<'a> = (Option<(&'a str, &'a str)>, Vec<usize>);
    let mut groups: Vec<Group> = Vec::new();
    for i in order {
        match groups.last_mut() {
            Some((k, v)) if *k == pref[i] => v.push(i),
            _ => groups.push((pref[i], vec![i])),
        }
    }
    groups.sort_by_key(|(k, _)| k.is_none());

    let mut wb = Workbook::new();
    let header =
        Format::new().set_bold().set_background_color("DDEBF7").set_border(rust_xlsxwriter::FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let top = Format::new().set_align(FormatAlign::Top);
    let error = Format::new().set_font_color("C00000").set_bold().set_align(FormatAlign::Top);
    let title = Format::new().set_bold().set_font_size(14);

    // 汇总: per prefecture and file, the counts and the kinds.
    let ws = wb.add_worksheet().set_name("汇总")?;
    // A row may stand for more problems of its file and kind, counted but not listed.
    let errors: u64 = problems.iter().filter(|p| p.severity == Severity::Error).map(Problem::count).sum();
    let all: u64 = problems.iter().map(Problem::count).sum();
    ws.write_string_with_format(0, 0, "报送数据问题清单", &title)?;
    ws.write_string(
        1,
        0,
        format!(
            "共 {all} 条：错误 {errors} 处（须修改后重新报送），提示 {} 条（请核实，无误可不改）。各地级市的明细见对应工作表。",
            all - errors
        ),
    )?;
    let heads = [("地级市", 16.0), ("文件", 40.0), ("错误", 8.0), ("提示", 8.0), ("问题类型（条数）", 60.0)];
    for (c, (h, w)) in heads.iter().enumerate() {
        ws.write_string_with_format(3, c as u16, *h, &header)?;
        ws.set_column_width(c as u16, *w)?;
    }
    let mut row = 4u32;
    for (k, members) in &groups {
        let mut by_file: BTreeMap<&str, Vec<&Problem>> = BTreeMap::new();
        for &i in members {
            by_file.entry(&problems[i].loc.file).or_default().push(&problems[i]);
        }
        for (file, ps) in by_file {
            let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
            for p in &ps {
                *kinds.entry(kind_zh(p.kind)).or_default() += p.count();
            }
            let e: u64 = ps.iter().filter(|p| p.severity == Severity::Error).map(|p| p.count()).sum();
            let w: u64 = ps.iter().map(|p| p.count()).sum::<u64>() - e;
            ws.write_string(row, 0, k.map_or(OTHER.to_string(), |(c, n)| format!("{n}（{c}）")))?;
            ws.write_string(row, 1, file)?;
            ws.write_number(row, 2, e as f64)?;
            ws.write_number(row, 3, w as f64)?;
            ws.write_string(row, 4, kinds.iter().map(|(k, n)| format!("{k}（{n}）")).collect::<Vec<_>>().join("；"))?;
            row += 1;
        }
    }
    ws.set_freeze_panes(4, 0)?;

    let heads = [
        ("序号", 6.0),
        ("类别", 6.0),
        ("问题类型", 18.0),
        ("地区代码", 10.0),
        ("县（市、区）", 12.0),
        ("文件", 30.0),
        ("工作表", 12.0),
        ("行", 6.0),
        ("列", 5.0),
        ("表头", 22.0),
        ("填报值", 12.0),
        ("审核规则", 24.0),
        ("问题说明及修改要求", 80.0),
    ];
    for (k, members) in &groups {
        let name = k.map_or(OTHER.to_string(), |(c, n)| format!("{n}（{c}）"));
        let ws = wb.add_worksheet().set_name(sheet_name(&name))?;
        for (c, (h, w)) in heads.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &header)?;
            ws.set_column_width(c as u16, *w)?;
        }
        // Excel's last row; a list that long is cut with a note (the terminal and runs/ have all).
        let cap = 1_048_575usize;
        for (n, &i) in members.iter().take(cap - 1).enumerate() {
            let p = &problems[i];
            let r = n as u32 + 1;
            ws.write_number_with_format(r, 0, (n + 1) as f64, &top)?;
            match p.severity {
                Severity::Error => ws.write_string_with_format(r, 1, "错误", &error)?,
                Severity::Warning => ws.write_string_with_format(r, 1, "提示", &top)?,
            };
            ws.write_string_with_format(r, 2, kind_zh(p.kind), &top)?;
            if let Some(code) = &p.region {
                ws.write_string_with_format(r, 3, &**code, &top)?;
                if let Some(reg) = registry.get(code) {
                    ws.write_string_with_format(r, 4, &reg.name, &top)?;
                }
            }
            ws.write_string_with_format(r, 5, &*p.loc.file, &top)?;
            if let Some(s) = &p.loc.sheet {
                ws.write_string_with_format(r, 6, &**s, &top)?;
            }
            if let Some(row) = p.loc.row {
                ws.write_number_with_format(r, 7, row as f64, &top)?;
            }
            if let Some(c) = &p.loc.column {
                ws.write_string_with_format(r, 8, &**c, &top)?;
            }
            if let Some(h) = &p.loc.header {
                ws.write_string_with_format(r, 9, &**h, &top)?;
            }
            if let Some(v) = &p.value {
                ws.write_string_with_format(r, 10, v, &top)?;
            }
            if let Some(rule) = &p.rule {
                ws.write_string_with_format(r, 11, rule, &top)?;
            }
            ws.write_string_with_format(r, 12, &p.message_zh, &wrap)?;
        }
        if members.len() >= cap {
            ws.write_string(
                cap as u32,
                12,
                format!("……另有 {} 条未列出（超出 Excel 行数上限）", members.len() - cap + 1),
            )?;
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, members.len().min(cap) as u32, heads.len() as u16 - 1)?;
    }
    Ok(wb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Loc, Problems};

    fn registry() -> Registry {
        Registry::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/regions.csv"))).unwrap()
    }

    #[test]
    fn problems_go_to_their_county_s_prefecture_else_their_file_s() {
        let mut ps = Problems::default();
        let at = |file: &str, row| Loc { row: Some(row), ..Loc::file(file) };
        ps.push(Severity::Error, "not_a_number", at("a.csv", 3), "x".into(), "甲".into(), Some("420802".into()));
        ps.push(Severity::Warning, "unknown_column", at("a.csv", 1), "y".into(), "乙".into(), None);
        ps.push(Severity::Error, "empty_file", Loc::file("2024年_平凉市.csv"), "z".into(), "丙".into(), None);
        ps.push(Severity::Error, "empty_file", Loc::file("x.csv"), "w".into(), "丁".into(), None);
        let r = registry();
        let got = prefectures(&ps.into_vec(), &r);
        assert_eq!(got, [Some(("420800", "荆门市")), Some(("420800", "荆门市")), Some(("620800", "平凉市")), None]);
    }

    #[test]
    fn the_workbook_has_a_summary_and_a_sheet_per_prefecture_with_every_row() {
        use calamine::{Reader, Xlsx};
        let mut ps = Problems::default();
        for row in 2..12 {
            let loc = Loc { row: Some(row), column: Some("C".into()), ..Loc::file("2023年_荆门市.csv") };
            ps.push(
                Severity::Error,
                "not_a_number",
                loc,
                "e".into(),
                "“专利授权量”不是数字".into(),
                Some("420802".into()),
            );
        }
        ps.push(Severity::Warning, "review_zero", Loc::file("b.csv"), "w".into(), "提示".into(), Some("620821".into()));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("问题清单.xlsx");
        write(&path, &ps.into_vec(), &registry()).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        assert_eq!(wb.sheet_names(), ["汇总", "荆门市（420800）", "平凉市（620800）"]);
        let jm = wb.worksheet_range("荆门市（420800）").unwrap();
        assert_eq!(jm.height(), 11);
        assert_eq!(jm.get_value((1, 1)).unwrap().to_string(), "错误");
        assert_eq!(jm.get_value((1, 2)).unwrap().to_string(), "不是数字");
        assert_eq!(jm.get_value((1, 4)).unwrap().to_string(), "东宝区");
        assert_eq!(jm.get_value((10, 7)).unwrap().to_string(), "11");
        assert_eq!(jm.get_value((1, 12)).unwrap().to_string(), "“专利授权量”不是数字");
        let summary = wb.worksheet_range("汇总").unwrap();
        assert_eq!(summary.get_value((4, 0)).unwrap().to_string(), "荆门市（420800）");
        assert_eq!(summary.get_value((4, 2)).unwrap().to_string(), "10");
        assert_eq!(summary.get_value((4, 4)).unwrap().to_string(), "不是数字（10）");
    }
}
