//! The sample province (示例数据): the seed counties in every format and quirk bureaus send, with
//! the series the seed policies' targets need.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook};

use super::*;
use crate::catalog::Catalog;
use crate::regions::{Region, Registry};

/// The context series of the seed policies' targets, in the sample's files after `CODES`;
/// drawn from their own random stream, so the other series stay as they were.
pub(super) const POLICY_CODES: &[&str] = &[
    "sci_tech_giant_count",
    "science_park_count",
    "patent_applications",
    "ent_invention_applications",
    "invention_grants_per10k",
    "major_transfers",
    "st_service_platforms",
    "service_rd_institutions",
    "provincial_incubators",
    "new_incubator_area",
    "rd_funded_tech_ent_share",
    "ur_coop_hitech_share",
    "rd_institution_large_share",
    "rd_institution_ent_share",
    "ent_rd_staff_share",
    "high_end_talents",
    "graduate_talents",
    "st_finance",
    "key_cultivated_firms",
    "it_application_share",
    "cluster_output",
    "listed_clusters",
    "vc_credit_coverage",
];

/// Every series of the sample province's files.
pub(super) fn seed_codes() -> Vec<&'static str> {
    CODES.iter().chain(POLICY_CODES).copied().collect()
}

/// Resident population (万人) of the seed counties, roughly as published, so the sample looks like the real places.
pub(super) fn seed_population(code: &str) -> Option<f64> {
    Some(match code {
        "220602" => 28.0,
        "220605" => 22.0,
        "220621" => 28.0,
        "220622" => 13.0,
        "220623" => 7.0,
        "220681" => 15.0,
        "620902" => 45.0,
        "620921" => 15.0,
        "620922" => 15.0,
        "620923" => 1.5,
        "620924" => 1.1,
        "620981" => 13.0,
        "620982" => 19.0,
        "620802" => 52.0,
        "620821" => 28.0,
        "620822" => 18.0,
        "620823" => 9.0,
        "620824" | "620881" => 18.0,
        "620825" => 38.0,
        "620826" => 40.0,
        "420802" => 44.0,
        "420804" => 30.0,
        "420821" | "420882" => 55.0,
        "420822" => 48.0,
        "420881" => 90.0,
        _ => return None,
    })
}

/// The seed prefectures of the sample province (DOMAIN.md): 白山市, 酒泉市, 平凉市, 荆门市.
pub const SEED_PREFECTURES: [&str; 4] = ["220600", "620900", "620800", "420800"];

/// The sample province's registry: the seed prefectures' county-level units of the national registry.
/// In the sample's order: by prefecture as listed, then by code, a renamed county's new code
/// right after its old one (华亭县 620824, 华亭市 620881, 庄浪县 620825).
pub(super) fn seed_registry(national: &Registry) -> Result<Registry> {
    let mut units: Vec<Region> = national
        .regions
        .iter()
        .filter(|r| SEED_PREFECTURES.contains(&r.prefecture_code.as_str()) && !r.is_zone())
        .cloned()
        .collect();
    let predecessor: BTreeMap<&str, &str> =
        units.iter().filter_map(|r| Some((r.continued_by()?, r.code.as_str()))).collect();
    let root = |code: &str| {
        let mut at = code;
        while let Some(p) = predecessor.get(at) {
            at = p;
        }
        at.to_string()
    };
    let keys: Vec<(usize, String, i32)> = units
        .iter()
        .map(|r| {
            let pref = SEED_PREFECTURES.iter().position(|p| *p == r.prefecture_code).unwrap_or(usize::MAX);
            (pref, root(&r.code), r.valid_from.unwrap_or(i32::MIN))
        })
        .collect();
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    units = order.into_iter().map(|i| units[i].clone()).collect();
    Ok(Registry::new(&national.path, units)?)
}

/// How a seed county stands against its policy's target, for the demo to show every status:
/// a factor on the series (1 = as drawn).
pub(super) fn policy_tune(code: &str, ind: &str) -> f64 {
    match (code, ind) {
        // 东宝区 (2022 and 2025 targets): some met, some short.
        ("420802", "rd_funded_tech_ent_share") => 1.7,
        ("420802", "rd_institution_large_share") => 1.55,
        ("420802", "service_rd_institutions") => 0.3,
        ("420802", "st_finance") => 2.3,
        ("420802", "ent_invention_applications") => 0.8,
        ("420802", "provincial_incubators") => 2.6,
        ("420802", "new_incubator_area") => 1.6,
        ("420802", "high_end_talents") => 2.2,
        ("420802", "graduate_talents") => 1.6,
        ("420802", "key_cultivated_firms") => 1.0,
        _ => 1.0,
    }
}

/// Values set outright where a drawn one cannot tell the story (a first listing, a yearly few).
pub(super) fn policy_fixed(code: &str, ind: &str, year: i32) -> Option<f64> {
    match (code, ind) {
        ("420802", "listed_clusters") => Some(if year >= 2022 { 1.0 } else { 0.0 }),
        ("620921", "provincial_incubators") => Some(if year >= 2019 { 1.0 } else { 0.0 }),
        ("620921", "major_transfers") => Some(if (2018..=2020).contains(&year) { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// The seed policies' context series, co-moving with the county's other series.
pub(super) fn add_policy_series(values: &mut BTreeMap<(String, i32, &'static str), f64>, years: &[i32], seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9011_c1e5);
    let keys: Vec<(String, i32)> = values.keys().filter(|k| k.2 == "population").map(|k| (k.0.clone(), k.1)).collect();
    for (code, year) in keys {
        let get = |ind: &str| {
            values
                .get(&(code.clone(), year, CODES.iter().find(|c| **c == ind).copied().unwrap()))
                .copied()
                .unwrap_or(0.0)
        };
        let (pop, gdp, hitech, sme, grants, incub, active, ratio) = (
            get("population"),
            get("gdp"),
            get("hitech_ent_count"),
            get("tech_sme_count"),
            get("patent_grants"),
            get("incubator_count"),
            get("rd_active_ent_share"),
            get("ent_rd_revenue_ratio"),
        );
        let t = f64::from(year - years[0]);
        let mut e = || (0.08 * normal(&mut rng)).exp();
        let v: [(&'static str, f64); 23] = [
            // 白山市 cultivates more 小巨人 than it has high-tech firms (30 against 25 in 2020).
            ("sci_tech_giant_count", (hitech * if code.starts_with("2206") { 1.2 } else { 0.22 } * e()).max(0.0)),
            ("science_park_count", if gdp > 60.0 || t >= 4.0 && gdp > 30.0 { 1.0 } else { 0.0 }),
            ("patent_applications", grants * 1.9 * e()),
            ("ent_invention_applications", grants * 0.14 * e()),
            ("invention_grants_per10k", grants * 0.035 / pop.max(1.0) * e()),
            ("major_transfers", (hitech / 60.0 * e()).round()),
            ("st_service_platforms", if t >= 3.0 && hitech > 40.0 { 1.0 } else { 0.0 }),
            ("service_rd_institutions", (hitech * 1.2 + sme * 0.1) * e()),
            ("provincial_incubators", (incub * 0.45 * e()).floor()),
            ("new_incubator_area", (pop * 0.35 * (1.0 + 0.06 * t) * e())),
            ("rd_funded_tech_ent_share", (active * 1.25 * e()).min(99.0)),
            ("ur_coop_hitech_share", (active * 1.6 * e()).min(99.0)),
            ("rd_institution_large_share", (active * 1.5 * e()).min(99.0)),
            ("rd_institution_ent_share", (active * 0.95 * e()).min(99.0)),
            ("ent_rd_staff_share", ratio * 4.4 * e()),
            ("high_end_talents", (pop / 45.0 * e()).round()),
            ("graduate_talents", (pop / 1.8 * e()).round()),
            ("st_finance", gdp * 100.0 * e()),
            ("key_cultivated_firms", (hitech / 30.0 * e()).round()),
            ("it_application_share", (70.0 + active * 0.5 + t).min(99.5) * e().min(1.0)),
            ("cluster_output", gdp * 4.2e3 * e()),
            ("listed_clusters", if hitech > 60.0 { 1.0 } else { 0.0 }),
            ("vc_credit_coverage", (78.0 + 1.6 * t + active * 0.1).min(99.0)),
        ];
        for (ind, x) in v {
            let x = policy_fixed(&code, ind, year).unwrap_or(x * policy_tune(&code, ind));
            let x = match ind {
                c if c.ends_with("_share") || c == "vc_credit_coverage" => x.clamp(0.0, 100.0),
                "science_park_count" | "st_service_platforms" | "listed_clusters" => x.round().min(3.0),
                _ => x,
            };
            values.insert((code.clone(), year, ind), round_to(x, decimals(ind)));
        }
    }
    // 金塔县 did not report its 科技服务平台 for 2020: a target without data.
    values.remove(&("620921".to_string(), 2020, "st_service_platforms"));
}

/// Hand-placed quirks of the sample: gaps, an outlier, an implausible value, a revision.
pub(super) struct Quirks;
impl Quirks {
    /// Cells a county left empty, and how it wrote "no data".
    fn missing(code: &str, year: i32, ind: &str) -> Option<&'static str> {
        match (code, year, ind) {
            ("620924", 2015, "platform_count") => Some(""),
            ("620923", 2016, "rd_tax_deduction") => Some("—"),
            ("220623", 2019, "new_product_sales_share") => Some("空白"),
            ("220622", 2020, "tech_sme_count") => Some("-"),
            ("620924", 2023, "rd_staff_per10k_emp") => Some(""),
            _ => None,
        }
    }
    fn adjust(code: &str, year: i32, ind: &str, v: f64) -> f64 {
        match (code, year, ind) {
            // A one-off large technology contract: the outlier of the sample.
            ("620982", 2021, "tech_contract_value") => 286500.0,
            // A coal town's energy use above the plausible range: kept, flagged as a warning.
            ("620824", 2016, "energy_intensity") => 2.31,
            _ => v,
        }
    }
}

pub(super) fn seed_value(p: &Panel, code: &str, year: i32, ind: &'static str) -> Option<f64> {
    p.values.get(&(code.to_string(), year, ind)).map(|&v| Quirks::adjust(code, year, ind, v))
}

pub(super) fn seed_cell(p: &Panel, code: &str, year: i32, ind: &'static str, factor: f64) -> String {
    if let Some(m) = Quirks::missing(code, year, ind) {
        return m.to_string();
    }
    match seed_value(p, code, year, ind) {
        Some(v) if factor == 1.0 => fmt_value(v, ind),
        Some(v) => format!("{}", round_to(v / factor, decimals(ind) + 4)),
        None => String::new(),
    }
}

pub(super) fn regions_in(registry: &Registry, year: i32) -> Vec<&Region> {
    registry.valid_in(year).collect()
}

/// The seed province as bureaus send it: long and wide layouts, CSV (UTF-8, BOM, GBK) and XLSX, a revision.
pub(super) fn write_seed(registry: &Registry, catalog: &Catalog, years: &[i32], seed: u64, out: &Path) -> Result<()> {
    let mut p = generate(registry, years, seed);
    add_policy_series(&mut p.values, years, seed);
    let codes = seed_codes();
    let codes = codes.as_slice();
    // Names and units come from the catalog, so the files speak the catalog's language.
    let cat_units = |ind: &str| -> &str { catalog.indicator(ind).map_or("", |i| i.unit.as_str()) };
    let zh = |ind: &str| -> &str { catalog.indicator(ind).map_or("", |i| i.name_zh.as_str()) };
    let title = |what: &str| format!("{NOTICE}：{what}");

    // 2015–2016: long layout, UTF-8 with BOM; money partly in 亿元 through the unit column.
    let mut s = String::from("\u{feff}");
    s += &csv_line(&[title("2015—2016年县域创新能力监测指标（长表）")]);
    s += &csv_line(&["区划代码", "县(市、区)", "年份", "指标", "单位", "数值"].map(String::from));
    for &y in years.iter().filter(|&&y| y <= 2016) {
        for r in regions_in(registry, y) {
            for &ind in codes {
                let (unit, factor) = if ind == "tech_contract_value" { ("亿元", 1e4) } else { (cat_units(ind), 1.0) };
                s += &csv_line(&[
                    r.code.clone(),
                    r.name.clone(),
                    y.to_string(),
                    zh(ind).to_string(),
                    unit.to_string(),
                    seed_cell(&p, &r.code, y, ind, factor),
                ]);
            }
        }
    }
    write(&out.join("inputs/2015-2016_县域创新监测_长表.csv"), s.as_bytes())?;

    // 2017–2018: a workbook with one sheet per year, a merged title, full-width brackets, text numbers.
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new().set_title(NOTICE).set_creation_datetime(&ExcelDateTime::from_ymd(2024, 6, 1)?),
    );
    let merged = Format::new().set_bold().set_align(FormatAlign::Center);
    wb.add_worksheet().set_name("填报说明")?.write_string(0, 0, NOTICE)?.write_string(
        1,
        0,
        "各县（市、区）按年度填报，金额单位见表头；本工作簿为合成示例数据。",
    )?;
    for &y in years.iter().filter(|&&y| (2017..=2018).contains(&y)) {
        let ws = wb.add_worksheet();
        ws.set_name(format!("{y}年"))?;
        ws.merge_range(0, 0, 0, (codes.len() + 1) as u16, &title(&format!("{y}年县域创新能力监测指标")), &merged)?;
        ws.write_string(1, 0, "填报单位：各县（市、区）科技局")?;
        ws.write_string(3, 0, "区划代码")?;
        ws.write_string(3, 1, "县（市、区）")?;
        for (j, &ind) in codes.iter().enumerate() {
            let unit = if ind == "rd_expenditure" { "亿元" } else { cat_units(ind) };
            ws.write_string(3, (j + 2) as u16, format!("{}（{}）", zh(ind), unit))?;
        }
        let regions = regions_in(registry, y);
        for (i, r) in regions.iter().enumerate() {
            let row = (i + 4) as u32;
            ws.write_string(row, 0, &r.code)?;
            ws.write_string(row, 1, &r.name)?;
            for (j, &ind) in codes.iter().enumerate() {
                let col = (j + 2) as u16;
                let factor = if ind == "rd_expenditure" { 1e4 } else { 1.0 };
                let cell = seed_cell(&p, &r.code, y, ind, factor);
                match cell.parse::<f64>() {
                    // Patent counts arrive as text with thousands separators, as exported from another system.
                    Ok(v) if ind == "patent_grants" => ws.write_string(row, col, thousands(v))?,
                    Ok(v) => ws.write_number(row, col, v)?,
                    Err(_) => ws.write_string(row, col, &cell)?,
                };
            }
        }
        let total_row = (regions.len() + 4) as u32;
        ws.write_string(total_row, 1, "合计")?;
        let hitech: f64 = regions.iter().filter_map(|r| seed_value(&p, &r.code, y, "hitech_ent_count")).sum();
        let col = codes.iter().position(|c| *c == "hitech_ent_count").unwrap() + 2;
        ws.write_number(total_row, col as u16, hitech)?;
        ws.write_string(total_row + 1, 0, format!("注：{NOTICE}。合计行不参与计算。"))?;
    }
    write(&out.join("inputs/2017-2018_县域创新监测.xlsx"), &wb.save_to_buffer()?)?;

    // 2019–2021: GBK CSV from an older system, one per year, the year only in the file name,
    // counties by name only, headers by alias.
    let alias = |ind: &str| -> String {
        match ind {
            "tech_contract_value" => "技术交易额(万元)".into(),
            "hitech_ent_count" => "高企数(家)".into(),
            "gdp_per_capita" => "人均GDP(元)".into(),
            "rd_intensity" => "研发经费投入强度(%)".into(),
            _ => format!("{}({})", zh(ind), cat_units(ind)),
        }
    };
    for &y in years.iter().filter(|&&y| (2019..=2021).contains(&y)) {
        let mut s = csv_line(&[title(&format!("{y}年县域创新指标"))]);
        s += "\n";
        let mut header = vec!["序号".to_string(), "县(市、区)".to_string()];
        header.extend(codes.iter().map(|c| alias(c)));
        s += &csv_line(&header);
        for (i, r) in regions_in(registry, y).iter().enumerate() {
            let mut row = vec![(i + 1).to_string(), r.name.clone()];
            row.extend(codes.iter().map(|&ind| {
                let c = seed_cell(&p, &r.code, y, ind, 1.0);
                if ind == "tech_contract_value" {
                    c.parse::<f64>().map_or(c, thousands)
                } else {
                    c
                }
            }));
            s += &csv_line(&row);
        }
        let (gbk, _, _) = encoding_rs::GBK.encode(&s);
        write(&out.join(format!("inputs/{y}年县域创新指标_GBK.csv")), &gbk)?;
    }

    // 2022–2023: a workbook exported by a statistics system: indicator codes as headers, a year column.
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new().set_title(NOTICE).set_creation_datetime(&ExcelDateTime::from_ymd(2024, 6, 1)?),
    );
    let ws = wb.add_worksheet();
    ws.set_name("监测数据")?;
    ws.write_string(0, 0, title("2022—2023年县域创新监测数据（指标代码表头）"))?;
    ws.write_string(1, 0, "code")?;
    ws.write_string(1, 1, "year")?;
    for (j, &ind) in codes.iter().enumerate() {
        ws.write_string(1, (j + 2) as u16, ind)?;
    }
    let mut row = 2u32;
    for &y in years.iter().filter(|&&y| (2022..=2023).contains(&y)) {
        for r in regions_in(registry, y) {
            ws.write_string(row, 0, &r.code)?;
            ws.write_number(row, 1, y)?;
            for (j, &ind) in codes.iter().enumerate() {
                let cell = seed_cell(&p, &r.code, y, ind, 1.0);
                match cell.parse::<f64>() {
                    Ok(v) => ws.write_number(row, (j + 2) as u16, v)?,
                    Err(_) => ws.write_string(row, (j + 2) as u16, &cell)?,
                };
            }
            row += 1;
        }
    }
    write(&out.join("inputs/2022-2023_县域创新监测.xlsx"), &wb.save_to_buffer()?)?;

    // 2024: one UTF-8 CSV per prefecture, as each prefecture submits its own; GDP per capita in 万元? no — R&D in 亿元.
    for &y in years.iter().filter(|&&y| y >= 2024) {
        let mut by_pref: BTreeMap<(&str, &str), Vec<&Region>> = BTreeMap::new();
        for r in regions_in(registry, y) {
            by_pref.entry((&r.prefecture_code, &r.prefecture_name)).or_default().push(r);
        }
        for ((_, pname), regions) in by_pref {
            let mut s = csv_line(&[title(&format!("{pname}{y}年县域创新能力监测表"))]);
            let mut header = vec!["区划代码".to_string(), "县(市、区)".to_string()];
            header.extend(codes.iter().map(|&c| {
                if c == "rd_expenditure" {
                    format!("{}(亿元)", zh(c))
                } else {
                    format!("{}({})", zh(c), cat_units(c))
                }
            }));
            s += &csv_line(&header);
            for r in regions {
                let mut row = vec![r.code.clone(), r.name.clone()];
                row.extend(
                    codes
                        .iter()
                        .map(|&ind| seed_cell(&p, &r.code, y, ind, if ind == "rd_expenditure" { 1e4 } else { 1.0 })),
                );
                s += &csv_line(&row);
            }
            write(&out.join(format!("inputs/{y}/{y}年_{pname}.csv")), s.as_bytes())?;
        }
    }

    // A revision of 2022: two corrected values, declared by the file name.
    if years.contains(&2022) {
        let mut s = csv_line(&[title("2022年数据修订（更正部分县区上报数）")]);
        s += &csv_line(&["区划代码", "县(市、区)", "年份", "指标", "单位", "数值"].map(String::from));
        for (code, name, ind, factor) in
            [("420802", "东宝区", "tech_contract_value", 1.07), ("420881", "钟祥市", "hitech_ent_count", 1.1)]
        {
            let v = seed_value(&p, code, 2022, ind).unwrap() * factor;
            s += &csv_line(&[
                code.into(),
                name.into(),
                "2022".into(),
                zh(ind).into(),
                cat_units(ind).into(),
                fmt_value(v, ind),
            ]);
        }
        write(&out.join("inputs/2022年数据修订.csv"), s.as_bytes())?;
    }
    Ok(())
}

pub(super) fn thousands(v: f64) -> String {
    let s = format!("{v}");
    let (int, frac) = s.split_once('.').map_or((s.as_str(), None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        let _ = write!(out, ".{f}");
    }
    out
}
