//! What the merged inputs must hold: something at all, the counties of the evaluation in every
//! year (未报送 otherwise), and a word per file on counties outside the scope.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::problem::{Loc, Problems, Severity};
use super::{InputFile, Observation};
use crate::records::{MissingRow, SourceInfo};
use crate::regions::Registry;
use crate::scope::{Coverage, Scope};

/// Inputs that hold no value at all would make an empty store in place of the published one: an
/// error, whether no file held a table (only a 说明.txt; a share that is not mounted) or the
/// tables were empty.
pub(super) fn nothing_to_store(files: &[InputFile], sources: &[SourceInfo], problems: &mut Problems) {
    let names: Vec<&str> = files.iter().take(5).map(|f| f.name.as_str()).collect();
    let more = if files.len() > 5 { format!(" and {} more", files.len() - 5) } else { String::new() };
    let (en, zh) = if sources.is_empty() {
        (
            format!(
                "none of the {} input file(s) holds a table ({}{more}): put the data files (CSV or workbooks) into the \
                 input directory; if it should hold them, check that it is the right directory and that a network \
                 share is mounted",
                files.len(),
                names.join(", ")
            ),
            format!(
                "报送目录中的 {} 个文件（{}{}）都不是数据表：请把报送的数据文件（CSV 或 Excel 工作簿）放入报送目录；\
                 如果文件本应在其中，请检查目录是否正确、网络共享目录是否已连接",
                files.len(),
                names.join("、"),
                if files.len() > 5 { " 等" } else { "" }
            ),
        )
    } else {
        (
            format!(
                "the input files hold no values ({}{more}): every table is empty; fill in the data, or check that these \
                 are the right files",
                names.join(", ")
            ),
            format!("报送文件中没有任何数据（{}{}）：表格都是空的，请填报数据，或检查是否放错了文件", names.join("、"), if files.len() > 5 { " 等" } else { "" }),
        )
    };
    problems.error(if sources.is_empty() { "no_tables" } else { "no_data" }, Loc::file(&names.join(", ")), en, zh);
}

/// One warning per file that holds counties outside the evaluation scope: stored, not scored.
pub(super) fn outside_scope(merged: &[Observation], registry: &Registry, scope: &Scope, problems: &mut Problems) {
    let mut by_file: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut last: Option<&str> = None;
    for o in merged {
        if last == Some(&*o.region_code) {
            continue;
        }
        last = Some(&*o.region_code);
        if registry.get(&o.region_code).is_some_and(|r| !scope.contains(registry, r)) {
            by_file.entry(o.loc.file()).or_default().insert(&o.region_code);
        }
    }
    for (file, codes) in by_file {
        let named: Vec<String> =
            codes.iter().take(5).map(|c| format!("{c} {}", registry.get(c).map_or("", |r| r.name.as_str()))).collect();
        let more = if codes.len() > 5 { format!(" and {} more", codes.len() - 5) } else { String::new() };
        problems.warning(
            "outside_scope",
            Loc::file(file),
            format!(
                "{} counties outside the evaluation scope ([scope] in the config): {}{more}; their values are stored but not scored",
                codes.len(),
                named.join(", ")
            ),
            format!(
                "有 {} 个县不在本次评价范围内：{}{}；数据已保存，但不参与评价",
                codes.len(),
                named.join("、"),
                if codes.len() > 5 { " 等".to_string() } else { String::new() }
            ),
        );
    }
}

/// Every county of the evaluation must report in each year with data: with an explicit scope,
/// every county in it; otherwise every county of a prefecture that reported that year.
/// Functional zones count only when the scope says so. Missing counties are errors, or with
/// `coverage = "warn"` warnings and the rows returned (未报送).
pub(super) fn check_coverage(
    merged: &[Observation],
    registry: &Registry,
    scope: &Scope,
    unidentified: usize,
    problems: &mut Problems,
) -> Vec<MissingRow> {
    let mut years: BTreeSet<i32> = BTreeSet::new();
    let mut present: BTreeSet<(i32, &str)> = BTreeSet::new();
    let mut prefectures: BTreeSet<(i32, &str)> = BTreeSet::new();
    let mut files_by_year: BTreeMap<i32, BTreeSet<&str>> = BTreeMap::new();
    // `merged` is sorted by year and region: look at each county-year once.
    let mut last: Option<(i32, &str)> = None;
    let mut last_file: Option<(i32, &str)> = None;
    for o in merged {
        if last_file != Some((o.year, o.loc.file())) {
            last_file = Some((o.year, o.loc.file()));
            files_by_year.entry(o.year).or_default().insert(o.loc.file());
        }
        if last == Some((o.year, &*o.region_code)) {
            continue;
        }
        last = Some((o.year, &*o.region_code));
        years.insert(o.year);
        present.insert((o.year, &*o.region_code));
        if let Some(r) = registry.get(&o.region_code) {
            prefectures.insert((o.year, r.prefecture_code.as_str()));
        }
    }
    let mut missing = Vec::new();
    for &y in &years {
        for r in registry.valid_in(y) {
            let expected = scope.contains(registry, r)
                && (scope.is_explicit() || prefectures.contains(&(y, r.prefecture_code.as_str())));
            if !expected || present.contains(&(y, r.code.as_str())) {
                continue;
            }
            let files: Vec<&str> = files_by_year[&y].iter().copied().collect();
            let mut message = format!("{} {} ({}) has no data for {y}", r.code, r.name, r.prefecture_name);
            let mut zh = format!("{} {}（{}）没有 {y} 年的数据（未报送）", r.code, r.name, r.prefecture_name);
            if unidentified > 0 {
                message.push_str(&format!(
                    "; perhaps it is among the {unidentified} row(s) above whose county could not be identified: correct those first"
                ));
                zh.push_str(&format!("；可能是上面 {unidentified} 处无法识别县名或代码的行之一，请先改正那些行"));
            }
            let code: Option<Arc<str>> = Some(Arc::from(r.code.as_str()));
            let at = Loc::file(&files.join(", "));
            match scope.coverage {
                Coverage::Error => problems.push(Severity::Error, "coverage", at, message, zh, code),
                Coverage::Warn => {
                    problems.push(Severity::Warning, "coverage", at, format!("{message} (未报送)"), zh, code);
                    missing.push(MissingRow {
                        region_code: r.code.clone(),
                        year: y,
                        region_name: r.name.clone(),
                        prefecture_code: r.prefecture_code.clone(),
                        prefecture_name: r.prefecture_name.clone(),
                    });
                }
            }
        }
    }
    missing
}
