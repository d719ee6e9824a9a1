//! Statistical review (统计审核) of the merged values, by the catalog's rules: year-on-year jumps,
//! a drop to zero after non-zero years, and consistency between indicators. Warnings only: a
//! plausible-looking figure may be right, and the clerk is asked to check it, not refused.

use std::collections::{HashMap, HashSet};

use super::problem::{Problem, Problems, Severity};
use super::Observation;
use crate::catalog::{Catalog, Indicator, Kind};
use crate::regions::Registry;

/// A figure the review queried and the county confirmed (审核确认, `[[input.confirmed]]` in the
/// config): no rule queries it again, nor the changes from it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmed {
    pub county: String,
    pub year: i32,
    pub indicator: String,
    /// Why the figure stands, as the county explained it.
    pub note: String,
}

/// Every rule on every county's series. `merged` holds one observation per key, sorted by year,
/// county and indicator (the merge's order), so each series comes out in year order and a
/// county's values of one year lie together.
pub fn review(
    merged: &[Observation],
    catalog: &Catalog,
    registry: &Registry,
    confirmed: &[Confirmed],
    problems: &mut Problems,
) {
    let name = |code: &str| registry.get(code).map_or_else(|| code.to_string(), |r| format!("{} {}", code, r.name));
    let confirmed: HashSet<(&str, i32, &str)> =
        confirmed.iter().map(|c| (c.county.as_str(), c.year, c.indicator.as_str())).collect();
    let is_confirmed = |o: &Observation| confirmed.contains(&(&*o.region_code, o.year, &*o.indicator));
    // The year-on-year rules and the consistency rules side by side; their problems are appended
    // in that order, as one pass would.
    let (series, checked) = rayon::join(
        || series_rules(merged, catalog, &name, &is_confirmed),
        || {
            let mut found = Problems::default();
            if !catalog.consistency.is_empty() {
                consistency(merged, catalog, &name, &is_confirmed, &mut found);
            }
            found
        },
    );
    problems.extend(series);
    problems.extend(checked);
}

/// Year on year and zero-after on every county's series.
fn series_rules(
    merged: &[Observation],
    catalog: &Catalog,
    name: &(dyn Fn(&str) -> String + Sync),
    is_confirmed: &(dyn Fn(&Observation) -> bool + Sync),
) -> Problems {
    // A fast hash: a million observations go through it, and the keys are sorted below.
    let mut series: HashMap<(&str, u16), Vec<&Observation>, foldhash::fast::FixedState> = HashMap::default();
    for o in merged {
        series.entry((&o.region_code, o.indicator_index)).or_default().push(o);
    }
    let mut keys: Vec<&(&str, u16)> = series.keys().collect();
    keys.sort();
    // The series on every core, in chunks whose problems are appended in key order: the same
    // list as one pass.
    use rayon::prelude::*;
    let found: Vec<Problems> = keys
        .par_chunks(4096)
        .map(|chunk| {
            let mut found = Problems::default();
            for key in chunk {
                let sorted = &series[*key];
                let ind = &catalog.indicators[key.1 as usize];
                year_on_year(sorted, ind, catalog, name, is_confirmed, &mut found);
                if let Some(years) = catalog.review.zero_after {
                    let floor = catalog.year_on_year(ind).ratio_floor.unwrap_or(0.0);
                    zero_after(sorted, ind, years, floor, name, is_confirmed, &mut found);
                }
            }
            found
        })
        .collect();
    let mut all = Problems::default();
    for f in found {
        all.extend(f);
    }
    all
}

fn fmt(v: f64) -> String {
    super::table::format_number((v * 1e6).round() / 1e6)
}

fn warn(o: &Observation, kind: &'static str, rule: String, en: String, zh: String) -> Problem {
    Problem {
        value: Some(o.raw_value.text().into_owned()),
        rule: Some(rule),
        ..Problem::new(Severity::Warning, kind, o.loc.loc(), en, zh, Some(o.region_code.clone()))
    }
}

/// Consecutive years only: a gap says nothing about one year's change. A change to or from a
/// confirmed figure is not queried.
fn year_on_year(
    series: &[&Observation],
    ind: &Indicator,
    catalog: &Catalog,
    name: &dyn Fn(&str) -> String,
    confirmed: &dyn Fn(&Observation) -> bool,
    problems: &mut Problems,
) {
    let t = catalog.year_on_year(ind);
    for pair in series.windows(2) {
        let (prev, cur) = (pair[0], pair[1]);
        let (Some(a), Some(b)) = (prev.value, cur.value) else { continue };
        if cur.year != prev.year + 1 || confirmed(prev) || confirmed(cur) {
            continue;
        }
        // Worded only for a pair that is queried: a million pairs pass at national scale.
        let county = || name(&cur.region_code);
        let before = || format!("{} 年 {} {}（{}）", prev.year, fmt(a), ind.unit, prev.loc.zh());
        if ind.kind == Kind::Ratio {
            let Some(max) = t.max_points else { continue };
            if (b - a).abs() > max {
                let (county, before) = (county(), before());
                problems.add(warn(
                    cur,
                    "review_change",
                    format!("同比变化不超过 {} 个百分点", fmt(max)),
                    format!(
                        "{county} {}: {} = {} {} changed by {} points from {} in {} ({}); more than the review \
                         threshold of {} points: check the figure",
                        cur.year,
                        ind.code,
                        fmt(b),
                        ind.unit,
                        fmt(b - a),
                        fmt(a),
                        prev.year,
                        prev.loc,
                        fmt(max)
                    ),
                    format!(
                        "{county} {} 年“{}”为 {} {}，比 {before}变化 {} 个百分点，超过审核阈值 {} 个百分点：请核实",
                        cur.year,
                        ind.name_zh,
                        fmt(b),
                        ind.unit,
                        fmt(b - a),
                        fmt(max)
                    ),
                ));
            }
            continue;
        }
        let Some(max) = t.max_ratio else { continue };
        if a <= 0.0 || b <= 0.0 || a.max(b) < t.ratio_floor.unwrap_or(0.0) {
            continue;
        }
        let ratio = b / a;
        if ratio > max || ratio < 1.0 / max {
            let (county, before) = (county(), before());
            let (en_move, zh_move) = if ratio > 1.0 {
                (format!("{:.1} times", ratio), format!("是 {before}的 {:.1} 倍", ratio))
            } else {
                (
                    format!("a {:.0}% fall from", (1.0 - ratio) * 100.0),
                    format!("比 {before}下降 {:.0}%", (1.0 - ratio) * 100.0),
                )
            };
            problems.add(warn(
                cur,
                "review_change",
                format!("同比变化不超过 {} 倍", fmt(max)),
                format!(
                    "{county} {}: {} = {} {} is {en_move} the {} value {} ({}); beyond the review threshold of {}×: \
                     check the figure and its unit",
                    cur.year,
                    ind.code,
                    fmt(b),
                    ind.unit,
                    prev.year,
                    fmt(a),
                    prev.loc,
                    fmt(max)
                ),
                format!(
                    "{county} {} 年“{}”为 {} {}，{zh_move}，超过审核阈值（{} 倍）：请核实数据及其计量单位",
                    cur.year,
                    ind.name_zh,
                    fmt(b),
                    ind.unit,
                    fmt(max)
                ),
            ));
        }
    }
}

/// A zero after `years` consecutive non-zero years, the last at least `floor` (a small count
/// falls to 0 by chance): often a blank typed as 0.
fn zero_after(
    series: &[&Observation],
    ind: &Indicator,
    years: usize,
    floor: f64,
    name: &dyn Fn(&str) -> String,
    confirmed: &dyn Fn(&Observation) -> bool,
    problems: &mut Problems,
) {
    let mut run = 0usize;
    let mut last_year = None;
    let mut last = 0.0;
    for o in series {
        let consecutive = last_year.is_some_and(|y: i32| o.year == y + 1);
        last_year = Some(o.year);
        match o.value {
            Some(v) if v == 0.0 && consecutive && run >= years && last >= floor && !confirmed(o) => {
                problems.add(warn(
                    o,
                    "review_zero",
                    format!("连续 {years} 年以上不为 0 后不应为 0"),
                    format!(
                        "{} {}: {} is 0 after {run} years of non-zero values: if the figure is not known, leave the \
                         cell blank or write —; otherwise check it",
                        name(&o.region_code),
                        o.year,
                        ind.code
                    ),
                    format!(
                        "{} {} 年“{}”为 0，此前连续 {run} 年均不为 0：如无数据请留空或填“—”，否则请核实",
                        name(&o.region_code),
                        o.year,
                        ind.name_zh
                    ),
                ));
                run = 0;
            }
            Some(v) if v != 0.0 => {
                run = if consecutive || run == 0 { run + 1 } else { 1 };
                last = v;
            }
            _ => run = 0,
        }
    }
}

/// `indicator` ≈ `numerator` / `denominator` × `scale` where a county reported all three, none
/// of them confirmed.
fn consistency(
    merged: &[Observation],
    catalog: &Catalog,
    name: &dyn Fn(&str) -> String,
    confirmed: &dyn Fn(&Observation) -> bool,
    problems: &mut Problems,
) {
    let index =
        |code: &str| catalog.indicators.iter().position(|i| i.code == code).expect("checked by the catalog") as u16;
    // One county's values of one year, sorted by indicator.
    let cells: Vec<&[Observation]> =
        merged.chunk_by(|a, b| a.year == b.year && a.region_code == b.region_code).collect();
    for rule in &catalog.consistency {
        let (i, n, d) = (index(&rule.indicator), index(&rule.numerator), index(&rule.denominator));
        let (ii, ni, di) =
            (&catalog.indicators[i as usize], &catalog.indicators[n as usize], &catalog.indicators[d as usize]);
        for cell in &cells {
            let get = |k: u16| cell.binary_search_by_key(&k, |o| o.indicator_index).ok().map(|at| &cell[at]);
            let (Some(o), Some(on), Some(od)) = (get(i), get(n), get(d)) else { continue };
            if [o, on, od].into_iter().any(confirmed) {
                continue;
            }
            let (year, code) = (o.year, &*o.region_code);
            let (Some(v), Some(num), Some(den)) = (o.value, on.value, od.value) else { continue };
            if den <= 0.0 {
                continue;
            }
            let expected = num / den * rule.scale;
            if (v - expected).abs() <= rule.tolerance * expected.abs().max(f64::MIN_POSITIVE) {
                continue;
            }
            let pct = fmt(rule.tolerance * 100.0);
            problems.add(warn(
                o,
                "review_consistency",
                format!("{} ≈ {} ÷ {} × {}（允许误差 {pct}%）", ii.name_zh, ni.name_zh, di.name_zh, fmt(rule.scale)),
                format!(
                    "{} {year}: {} = {} {} but {} / {} × {} = {} / {} × {} = {} ({}; {}): they differ by more than \
                     {pct}%: check the three figures",
                    name(code),
                    ii.code,
                    fmt(v),
                    ii.unit,
                    ni.code,
                    di.code,
                    fmt(rule.scale),
                    fmt(num),
                    fmt(den),
                    fmt(rule.scale),
                    fmt(expected),
                    on.loc,
                    od.loc
                ),
                format!(
                    "{} {year} 年“{}”为 {} {}，而按“{}”{} {} ÷“{}”{} {} × {} 计算应为 {}（{}；{}），相差超过 {pct}%：请核实这三项数据",
                    name(code),
                    ii.name_zh,
                    fmt(v),
                    ii.unit,
                    ni.name_zh,
                    fmt(num),
                    ni.unit,
                    di.name_zh,
                    fmt(den),
                    di.unit,
                    fmt(rule.scale),
                    fmt(expected),
                    on.loc.zh(),
                    od.loc.zh()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{CellLoc, Place, Raw};
    use std::sync::Arc;

    const CATALOG: &str = r#"
[index]
code = "cici"
name_zh = "指数"
name_en = "Index"
[[groups]]
code = "g"
name_zh = "组"
name_en = "Group"
parent = "cici"
[[indicators]]
code = "patents"
name_zh = "专利授权量"
name_en = "Patents"
unit = "件"
kind = "count"
group = "g"
[[indicators]]
code = "share"
name_zh = "有研发活动的企业占比"
name_en = "Share"
unit = "%"
kind = "ratio"
group = "g"
review = { max_points = 10 }
[[indicators]]
code = "rd"
name_zh = "R&D经费"
name_en = "R&D"
unit = "万元"
kind = "amount"
scored = false
[[indicators]]
code = "gdp"
name_zh = "地区生产总值"
name_en = "GDP"
unit = "亿元"
kind = "amount"
scored = false
[[indicators]]
code = "intensity"
name_zh = "R&D经费投入强度"
name_en = "R&D intensity"
unit = "%"
kind = "ratio"
scored = false
[review]
max_ratio = 3
ratio_floor = 10
zero_after = 2
[[consistency]]
indicator = "intensity"
numerator = "rd"
denominator = "gdp"
scale = 0.01
tolerance = 0.05
[[units]]
symbol = "件"
family = "count"
factor = 1
[[units]]
symbol = "%"
family = "share"
factor = 1
[[units]]
symbol = "万元"
family = "money"
factor = 1
[[units]]
symbol = "亿元"
family = "money"
factor = 10000
"#;

    fn obs(catalog: &Catalog, year: i32, indicator: &str, value: f64, row: usize) -> Observation {
        let index = catalog.indicators.iter().position(|i| i.code == indicator).unwrap();
        Observation {
            region_code: "420802".into(),
            year,
            indicator: indicator.into(),
            indicator_index: index as u16,
            value: Some(value),
            raw_value: Raw::Number(value),
            raw_unit: "".into(),
            loc: CellLoc {
                place: Arc::new(Place { file: format!("{year}年.xlsx").into(), sheet: None, header: None }),
                row: row as u32,
                col: 2,
            },
            out_of_range: false,
            revised: false,
        }
    }

    fn run(rows: &[(i32, &str, f64)]) -> Vec<Problem> {
        let catalog = Catalog::parse(CATALOG, std::path::Path::new("test.toml")).unwrap();
        let registry =
            Registry::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/regions.csv"))).unwrap();
        let mut merged: Vec<Observation> =
            rows.iter().enumerate().map(|(n, &(y, i, v))| obs(&catalog, y, i, v, n + 2)).collect();
        // The merge's order.
        merged.sort_by_key(|o| (o.year, o.indicator_index));
        let mut problems = Problems::default();
        review(&merged, &catalog, &registry, &[], &mut problems);
        problems.into_vec()
    }

    #[test]
    fn a_count_that_triples_is_queried_with_both_values_and_the_rule() {
        let p = run(&[(2021, "patents", 100.0), (2022, "patents", 290.0), (2023, "patents", 900.0)]);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!((p[0].kind, p[0].loc.file.as_ref(), p[0].loc.row), ("review_change", "2023年.xlsx", Some(4)));
        assert!(
            p[0].message.contains("patents = 900 件 is 3.1 times the 2022 value 290 (2022年.xlsx, row 3"),
            "{}",
            p[0].message
        );
        assert!(p[0].message_zh.contains("是 2022 年 290 件"), "{}", p[0].message_zh);
        assert_eq!(p[0].rule.as_deref(), Some("同比变化不超过 3 倍"));
        assert_eq!(p[0].value.as_deref(), Some("900"));
        // A fall to under a third, too; small counts and a gap in the years are not compared.
        assert_eq!(run(&[(2021, "patents", 100.0), (2022, "patents", 30.0)]).len(), 1);
        assert!(run(&[(2021, "patents", 2.0), (2022, "patents", 9.0)]).is_empty());
        assert!(run(&[(2020, "patents", 100.0), (2022, "patents", 900.0)]).is_empty());
    }

    #[test]
    fn a_confirmed_figure_and_the_change_from_it_are_not_queried_again() {
        let catalog = Catalog::parse(CATALOG, std::path::Path::new("test.toml")).unwrap();
        let registry =
            Registry::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/regions.csv"))).unwrap();
        let rows =
            [(2021, "patents", 100.0), (2022, "patents", 900.0), (2023, "patents", 100.0), (2024, "patents", 400.0)];
        let merged: Vec<Observation> =
            rows.iter().enumerate().map(|(n, &(y, i, v))| obs(&catalog, y, i, v, n + 2)).collect();
        let confirmed =
            [Confirmed { county: "420802".into(), year: 2022, indicator: "patents".into(), note: "一次性".into() }];
        let mut problems = Problems::default();
        review(&merged, &catalog, &registry, &confirmed, &mut problems);
        // 2022's jump and 2023's fall are confirmed; 2024's 4× is still queried.
        let years: Vec<Option<usize>> = problems.iter().map(|p| p.loc.row).collect();
        assert_eq!(years, [Some(5)], "{:#?}", problems.into_vec());
    }

    #[test]
    fn a_share_that_moves_more_points_than_its_threshold_is_queried() {
        let p = run(&[(2022, "share", 30.0), (2023, "share", 41.5)]);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].message.contains("changed by 11.5 points from 30 in 2022"), "{}", p[0].message);
        assert!(run(&[(2022, "share", 30.0), (2023, "share", 39.0)]).is_empty());
    }

    #[test]
    fn a_zero_after_two_non_zero_years_is_queried_once() {
        let p =
            run(&[(2020, "patents", 50.0), (2021, "patents", 60.0), (2022, "patents", 0.0), (2023, "patents", 0.0)]);
        assert_eq!(p.iter().map(|p| (p.kind, p.loc.row)).collect::<Vec<_>>(), [("review_zero", Some(4))], "{p:#?}");
        assert!(p[0].message_zh.contains("此前连续 2 年均不为 0"), "{}", p[0].message_zh);
        // One non-zero year before is not enough, nor a small count (under ratio_floor = 10).
        assert!(run(&[(2021, "patents", 60.0), (2022, "patents", 0.0)]).is_empty());
        assert!(run(&[(2020, "patents", 5.0), (2021, "patents", 3.0), (2022, "patents", 0.0)]).is_empty());
    }

    #[test]
    fn intensity_against_expenditure_over_gdp() {
        // 52,000 万元 / 200 亿元 × 0.01 = 2.6 %.
        let ok = run(&[(2023, "rd", 52_000.0), (2023, "gdp", 200.0), (2023, "intensity", 2.55)]);
        assert!(ok.is_empty(), "{ok:#?}");
        let p = run(&[(2023, "rd", 52_000.0), (2023, "gdp", 200.0), (2023, "intensity", 2.1)]);
        assert_eq!(p.len(), 1, "{p:#?}");
        assert_eq!((p[0].kind, p[0].loc.row), ("review_consistency", Some(4)));
        assert!(
            p[0].message.contains("intensity = 2.1 % but rd / gdp × 0.01 = 52000 / 200 × 0.01 = 2.6"),
            "{}",
            p[0].message
        );
        assert!(p[0].rule.as_deref().unwrap().contains("允许误差 5%"));
    }
}
