//! National-scale synthetic panels for the benchmarks: whole prefectures of the real registry,
//! as one CSV (or workbook) per year, with the registry of the units drawn.

use std::path::Path;

use anyhow::Result;

use super::*;
use crate::regions::{Region, Registry};

/// The real registry's county-level units (no functional zones) of the first prefectures, in
/// code order, until at least `counties` units; whole prefectures, so that coverage holds.
pub(super) fn national_units(registry: &Registry, counties: usize) -> Vec<Region> {
    let mut by_prefecture: BTreeMap<&str, Vec<&Region>> = BTreeMap::new();
    for r in registry.regions.iter().filter(|r| !r.is_zone()) {
        by_prefecture.entry(&r.prefecture_code).or_default().push(r);
    }
    let mut out = Vec::new();
    for units in by_prefecture.values() {
        if out.len() >= counties {
            break;
        }
        out.extend(units.iter().map(|r| (*r).clone()));
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

/// National-scale synthetic data on the real registry (real codes, names and prefectures, the
/// code changes included): one wide UTF-8 CSV per year, and the registry of the units drawn.
pub(super) fn write_national(
    registry: &Registry,
    counties: usize,
    years: &[i32],
    seed: u64,
    xlsx: bool,
    out: &Path,
) -> Result<()> {
    let mut units = national_units(registry, counties);
    // Successors outside the selection would dangle: keep the units whole.
    let codes: std::collections::BTreeSet<String> = units.iter().map(|r| r.code.clone()).collect();
    for r in &mut units {
        if r.successors().any(|s| !codes.contains(s)) {
            r.successor = None;
            r.change = None;
        }
    }
    let registry = Registry::new(&out.join("regions.csv"), units)?;
    write(&out.join("regions.csv"), crate::divisions::to_csv(&registry.regions).as_bytes())?;
    let p = generate(&registry, years, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    for &y in years {
        let title = format!("{NOTICE}：{y}年全国县域创新监测合成数据");
        let mut header = vec!["code".to_string()];
        header.extend(CODES.iter().map(|c| c.to_string()));
        let mut rows: Vec<(String, Vec<Option<f64>>)> = Vec::new();
        for r in registry.valid_in(y) {
            let values = CODES
                .iter()
                .map(|&ind| {
                    // About 1% of cells are gaps, as in real submissions.
                    let missing = rng.random::<f64>() < 0.01 && !matches!(ind, "population" | "gdp");
                    p.values.get(&(r.code.clone(), y, ind)).copied().filter(|_| !missing)
                })
                .collect();
            rows.push((r.code.clone(), values));
        }
        if xlsx {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet().set_name(format!("{y}年"))?;
            ws.write_string(0, 0, &title)?;
            for (c, h) in header.iter().enumerate() {
                ws.write_string(1, c as u16, h)?;
            }
            for (i, (code, values)) in rows.iter().enumerate() {
                let r = i as u32 + 2;
                ws.write_string(r, 0, code)?;
                for (k, v) in values.iter().enumerate() {
                    if let Some(v) = v {
                        ws.write_number(r, k as u16 + 1, round_to(*v, decimals(CODES[k])))?;
                    }
                }
            }
            let path = out.join(format!("inputs/{y}.xlsx"));
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d)?;
            }
            wb.save(&path).with_context(|| format!("cannot write {}", path.display()))?;
            continue;
        }
        let mut s = csv_line(&[title]);
        s += &csv_line(&header);
        for (code, values) in rows {
            let mut row = vec![code];
            row.extend(values.iter().zip(CODES).map(|(v, ind)| v.map_or_else(String::new, |v| fmt_value(v, ind))));
            s += &csv_line(&row);
        }
        write(&out.join(format!("inputs/{y}.csv")), s.as_bytes())?;
    }
    Ok(())
}
