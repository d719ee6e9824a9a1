//! Merging every file's observations: the same value twice is fine, two different values are a
//! conflict naming both places, a county-year twice in one file is an error; then the revision
//! files applied, each change recorded.

use std::collections::HashMap;

use super::problem::{Loc, Problems, Severity};
use super::{Observation, Revision};
use crate::catalog::Catalog;
use crate::regions::Registry;

/// The regular files' observations merged and sorted by year, region and indicator, with the
/// revisions applied; problems go to `problems`, the phases' timings to `lap`.
pub(super) fn merge(
    mut base: Vec<Observation>,
    revised: Vec<Observation>,
    catalog: &Catalog,
    registry: &Registry,
    problems: &mut Problems,
    lap: &dyn Fn(&str),
) -> (Vec<Observation>, Vec<Revision>) {
    // Merge the regular files: the same value twice is fine, two different values are a conflict.
    // Keys are (year, region, indicator) as one integer whose order is the codes' order, so a
    // sort of indices replaces a map of strings (10⁶ values at national scale).
    let mut codes: Vec<&str> = registry.regions.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    let region_order: HashMap<&str, u64> = codes.iter().enumerate().map(|(i, c)| (*c, i as u64)).collect();
    // A six-digit code is its own order (numeric = lexical order); any other code comes after,
    // in its order among the registry's codes.
    let region_key = |c: &str| -> u64 {
        if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) {
            c.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
        } else {
            (1 << 20) + region_order[c]
        }
    };
    let key = |o: &Observation| -> u64 {
        // year < 2^16 after the offset, regions < 2^32, indicators < 2^16
        (((o.year - 1900) as u64) << 48) | (region_key(&o.region_code) << 16) | u64::from(o.indicator_index)
    };
    // Sorted in place (stable: the first of a key in file order comes first), so the values of
    // one key are adjacent; no second copy of a million observations.
    base.sort_by_cached_key(|o| key(o));
    let mut keys: Vec<u64> = base.iter().map(&key).collect();
    let mut keep = vec![true; base.len()];
    let mut first = 0usize;
    for i in 1..base.len() {
        if keys[i] != keys[first] {
            first = i;
            continue;
        }
        let (prev, o) = (&base[first], &base[i]);
        // The same value from another file is a harmless copy; within one file (two sheets,
        // say) a county-year twice is a mistake even when the values agree.
        keep[i] = false;
        if same_value(prev.value, o.value) && prev.loc.file() != o.loc.file() {
            continue;
        }
        let (kind, what, what_zh) = if prev.loc.file() == o.loc.file() {
            ("duplicate_county", "appears twice in this file", "在同一文件中出现两次")
        } else {
            ("conflict", "has a different value in another file", "与另一文件中的数值不一致")
        };
        problems.push(
            Severity::Error,
            kind,
            o.loc.loc(),
            format!(
                "{} {} {}: {what}: {} here, {} at {}",
                o.region_code,
                o.year,
                o.indicator,
                show(o.value),
                show(prev.value),
                prev.loc
            ),
            format!(
                "{} {} 年{}{what_zh}：此处为 {}，{}为 {}；请核实后保留正确的一个",
                name_of(registry, &o.region_code),
                o.year,
                indicator_zh(catalog, &o.indicator),
                show_zh(o.value),
                prev.loc.zh(),
                show_zh(prev.value)
            ),
            Some(o.region_code.clone()),
        );
    }
    let mut at = 0;
    keys.retain(|_| {
        at += 1;
        keep[at - 1]
    });
    let mut at = 0;
    base.retain(|_| {
        at += 1;
        keep[at - 1]
    });
    drop(keep);
    let mut merged = base;
    lap("merged");

    // Apply revisions, recording each change.
    let mut revisions = Vec::new();
    let mut by_revision: HashMap<u64, Loc> = HashMap::new();
    let mut added = Vec::new();
    for o in revised {
        // A blank cell in a revision file revises nothing; only an explicit "no data" (—, 空白) clears a value.
        if o.raw_value.is_blank() {
            continue;
        }
        let k = key(&o);
        let pos = keys.binary_search(&k).ok();
        if let Some(first) = by_revision.get(&k) {
            let earlier =
                pos.map(|p| &merged[p]).or_else(|| added.iter().map(|(_, a)| a).find(|a: &&Observation| key(a) == k));
            if let Some(earlier) = earlier.filter(|e| !same_value(e.value, o.value)) {
                problems.push(
                    Severity::Error,
                    "conflict",
                    o.loc.loc(),
                    format!(
                        "{} {} {}: two revisions disagree: {} here, {} at {first}",
                        o.region_code,
                        o.year,
                        o.indicator,
                        show(o.value),
                        show(earlier.value)
                    ),
                    format!(
                        "{} {} 年{}的两份修订不一致：此处为 {}，{} 为 {}；请只保留一份修订",
                        name_of(registry, &o.region_code),
                        o.year,
                        indicator_zh(catalog, &o.indicator),
                        show_zh(o.value),
                        first.zh(),
                        show_zh(earlier.value)
                    ),
                    Some(o.region_code.clone()),
                );
            }
            continue;
        }
        by_revision.insert(k, o.loc.loc());
        let old = pos.map(|p| &merged[p]);
        if old.is_some_and(|p| same_value(p.value, o.value)) {
            continue;
        }
        revisions.push(Revision {
            region_code: o.region_code.to_string(),
            year: o.year,
            indicator: o.indicator.to_string(),
            old_value: old.and_then(|p| p.value),
            new_value: o.value,
            old_source: old.map(|p| p.loc.loc()),
            new_source: o.loc.loc(),
        });
        let o = Observation { revised: true, ..o };
        match pos {
            Some(p) => merged[p] = o,
            None => added.push((k, o)),
        }
    }
    if !added.is_empty() {
        merged.extend(added.into_iter().map(|(_, o)| o));
        merged.sort_by_cached_key(|o| key(o));
    }

    (merged, revisions)
}

fn same_value(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

fn show_zh(v: Option<f64>) -> String {
    v.map_or_else(|| "无数据".to_string(), |x| format!("{x}"))
}

/// A county as a clerk names it: 东宝区 (420802).
fn name_of(registry: &Registry, code: &str) -> String {
    registry.get(code).map_or_else(|| code.to_string(), |r| format!("{}（{code}）", r.name))
}

fn indicator_zh(catalog: &Catalog, code: &str) -> String {
    catalog.indicator(code).map_or_else(|| code.to_string(), |i| format!("“{}”", i.name_zh))
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".to_string(), |x| format!("{x}"))
}
