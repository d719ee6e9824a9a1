//! A synthetic sample for any catalog: the seed counties' values of every indicator drawn inside
//! the catalog's plausible ranges, one CSV per year as a county bureau would send it.

use std::path::Path;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{csv_line, normal, round_to, seed_population, write, NOTICE};
use crate::catalog::{Catalog, Kind as ValueKind};
use crate::regions::Registry;

/// Writes `inputs/<year>年县域监测数据.csv` for every year. Values co-move through a latent
/// capability per county (and its prefecture), trend upward over the years (downward for a
/// lower-is-better indicator), and sizes scale with population; about 2% of cells are blank.
pub(super) fn write_for_catalog(
    registry: &Registry,
    catalog: &Catalog,
    years: &[i32],
    seed: u64,
    out: &Path,
) -> Result<()> {
    if let Some(i) = catalog.indicators.iter().find(|i| i.range.is_none()) {
        anyhow::bail!(
            "catalog {}: indicator {} has no plausible range, which the sample generator draws within",
            catalog.path.display(),
            i.code
        );
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pref_effect = std::collections::BTreeMap::new();
    let current: Vec<_> = registry.regions.iter().filter(|r| r.successor.is_none()).collect();
    for r in &current {
        let n = normal(&mut rng);
        pref_effect.entry(r.prefecture_code.clone()).or_insert(0.5 * n);
    }
    // Per county: capability, own pace, population.
    let counties: Vec<(String, String, f64, f64, f64)> = current
        .iter()
        .map(|r| {
            let z = 0.8 * normal(&mut rng) + pref_effect[&r.prefecture_code];
            let drift = 0.02 * normal(&mut rng);
            let pop = seed_population(&r.code).unwrap_or_else(|| (40.0f64.ln() + 0.6 * normal(&mut rng)).exp());
            (r.code.clone(), r.name.clone(), z, drift, pop)
        })
        .collect();
    let decimals = |k: ValueKind| match k {
        ValueKind::Count => 0,
        ValueKind::Amount => 1,
        _ => 2,
    };
    for (t, &year) in years.iter().enumerate() {
        let t = t as f64;
        let mut header = vec!["区划代码".to_string(), "县(市、区)".to_string()];
        header.extend(catalog.indicators.iter().map(|i| format!("{}({})", i.name_zh, i.unit)));
        let mut s = csv_line(&[format!("{NOTICE}：{year}年{}监测数据", catalog.index.name_zh)]);
        s += &csv_line(&header);
        for (code, _, z, drift, pop0) in &counties {
            let pop = pop0 * (1.0 + 0.002 * t);
            // Under the code (and name) valid that year: 华亭县 before it became 华亭市.
            let Some(r) = registry.regions.iter().find(|r| registry.current_code(&r.code) == code && r.valid_in(year))
            else {
                continue;
            };
            let mut row = vec![r.code.clone(), r.name.clone()];
            for ind in &catalog.indicators {
                let [lo, hi] = ind.range.expect("checked above");
                let noise = (0.08 * normal(&mut rng)).exp();
                let dir = ind.direction;
                let x = match ind.code.as_str() {
                    "population" => pop,
                    "gdp" => pop * 4.2 * (0.35 * z).exp() * 1.06f64.powf(t) * noise,
                    _ => {
                        let share = match ind.kind {
                            // Sizes grow with the county and over time.
                            ValueKind::Count | ValueKind::Amount => {
                                0.06 * (pop / 40.0).powf(0.7)
                                    * (0.55 * z * dir).exp()
                                    * (1.0 + (0.08 + drift) * t).max(0.2).powf(dir)
                            }
                            _ => 0.2 * (0.35 * z * dir).exp() * (1.0 + 0.03 * t).powf(dir),
                        };
                        lo + (hi - lo) * (share * noise).clamp(0.002, 0.9)
                    }
                };
                let blank = rng.random::<f64>() < 0.02 && ind.scored;
                row.push(if blank {
                    String::new()
                } else {
                    format!("{:.*}", decimals(ind.kind), round_to(x, decimals(ind.kind)))
                });
            }
            s += &csv_line(&row);
        }
        write(&out.join(format!("inputs/{year}年县域监测数据.csv")), s.as_bytes())?;
    }
    Ok(())
}
