//! `cimon explain`: one county's index broken down for the terminal, from the result tables.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use crate::catalog::{Catalog, Kind};
use crate::config::Config;
use crate::regions::{Lookup, Registry};
use crate::results::derive::{self, strongest_and_weakest, Field};
use crate::results::{self, IndexRow, NormalisedRow, ScoreRow, WeightRow};
use crate::store::StoreError;
use crate::tables;

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unknown county \"{0}\": not a code or name in the region registry")]
    UnknownCounty(String),
    #[error("\"{name}\" names several counties: {}; give the code", candidates.join(", "))]
    Ambiguous { name: String, candidates: Vec<String> },
    #[error("no results for {name} ({code}){year}: run `cimon compute` first")]
    NoResults { code: String, name: String, year: String },
}

pub fn run(cfg: &Config, county: &str, year: Option<i32>) -> Result<()> {
    let catalog = Catalog::load_or_builtin(cfg.catalog.as_deref())?;
    let registry = Registry::load_or_builtin(cfg.regions.as_deref())?;
    let text = explain(&cfg.results_dir(), county, year, &registry, &catalog)
        .map_err(|e| crate::exit::Usage(anyhow::Error::new(e)))?;
    print!("{text}");
    Ok(())
}

fn fmt(v: Option<f64>, d: usize) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{x:.d$}"))
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |x| x.to_string())
}

/// Render the breakdown as text.
pub fn explain(
    results_dir: &Path,
    county: &str,
    year: Option<i32>,
    registry: &Registry,
    catalog: &Catalog,
) -> Result<String, ExplainError> {
    let region = match registry.lookup(county, None) {
        Lookup::Found(r) | Lookup::NotValid(r) => r,
        Lookup::Ambiguous(rs) => {
            return Err(ExplainError::Ambiguous {
                name: county.to_string(),
                candidates: rs
                    .iter()
                    .map(|r| format!("{} {} ({} {})", r.code, r.name, r.province_name, r.prefecture_name))
                    .collect(),
            })
        }
        Lookup::Unknown => return Err(ExplainError::UnknownCounty(county.to_string())),
    };
    let code = registry.current_code(&region.code).to_string();
    let current = registry.get(&code).unwrap_or(region);
    let index: Vec<IndexRow> = tables::read(results_dir)?;
    let mine: Vec<&IndexRow> = index.iter().filter(|r| *r.region_code == *code).collect();
    let no = || ExplainError::NoResults {
        code: code.clone(),
        name: current.name.clone(),
        year: year.map_or(String::new(), |y| format!(" in {y}")),
    };
    let y = year.or_else(|| mine.iter().map(|r| r.year).max()).ok_or_else(no)?;
    let row = *mine.iter().find(|r| r.year == y).ok_or_else(no)?;
    let prev = mine.iter().find(|r| r.year == y - 1).copied();
    let field = Field::of(&index);

    let mut out = String::new();
    let _ =
        writeln!(out, "{} ({}) · {} · {} — {y}", current.name, code, current.prefecture_name, current.province_name);
    let change = match row.rank_change {
        Some(c) if c > 0 => format!(", up {c} on {}", y - 1),
        Some(c) if c < 0 => format!(", down {} on {}", -c, y - 1),
        Some(_) => format!(", unchanged on {}", y - 1),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{} {}: {}   rank {} of {}{change}; {} of its prefecture, {} of its province",
        catalog.index.name_zh,
        catalog.index.code,
        fmt(row.index, 1),
        opt(row.rank),
        field.counties(y),
        opt(row.rank_prefecture),
        opt(row.rank_province),
    );
    let _ = writeln!(
        out,
        "tier: CASTED {} (average {}), ratio to average {} ({})",
        opt(row.casted_tier),
        fmt(field.average(y), 1),
        fmt(row.ratio_to_average, 2),
        row.ratio_group.map_or("—", |g| g.as_str()),
    );

    // Dimensions: score, weight, contribution, change, rank.
    let weights: Vec<WeightRow> = tables::read(results_dir)?;
    let w_of: HashMap<(&str, &str), f64> = weights
        .iter()
        .filter(|w| w.year.is_none_or(|wy| wy == y))
        .map(|w| ((w.node.as_str(), w.child.as_str()), w.effective_weight))
        .collect();
    let scores: Vec<ScoreRow> = results::read_year(results_dir, y)?;
    let dims: Vec<&crate::catalog::Node> = catalog.dimensions().collect();
    let weight = |g: &str| w_of.get(&(catalog.index.code.as_str(), g)).copied().unwrap_or(0.0);
    let present: f64 = dims.iter().filter(|g| row.scores.get(&g.code).is_some()).map(|g| weight(&g.code)).sum();
    let ranks: Vec<Option<u32>> = dims
        .iter()
        .map(|g| scores.iter().find(|s| *s.region_code == *code && *s.node == *g.code).and_then(|s| s.rank))
        .collect();
    let _ = writeln!(
        out,
        "\n{} {:>7} {:>7} {:>12} {:>8} {:>6}",
        pad("dimension", 28),
        "score",
        "weight",
        "contribution",
        "change",
        "rank"
    );
    for (g, rank) in dims.iter().zip(&ranks) {
        let score = row.scores.get(&g.code);
        let w = weight(&g.code);
        let contrib = score.map(|v| v * w / present.max(f64::MIN_POSITIVE));
        let delta = prev.and_then(|p| Some(score? - p.scores.get(&g.code)?));
        let _ = writeln!(
            out,
            "{} {:>7} {:>7.3} {:>12} {:>8} {:>6}",
            pad(&format!("{} {}", g.name_zh, g.code), 28),
            fmt(score, 1),
            w,
            fmt(contrib, 1),
            delta.map_or("—".into(), |d| format!("{d:+.1}")),
            opt(*rank),
        );
    }
    // The same choice as the county report's summary.
    let (strongest, weakest) = strongest_and_weakest(&ranks);
    if let Some(s) = strongest {
        let _ = write!(out, "strongest dimension: {} (rank {})", dims[s].name_zh, opt(ranks[s]));
        match weakest {
            Some(w) => writeln!(out, "; weakest: {} (rank {})", dims[w].name_zh, opt(ranks[w])),
            None => writeln!(out),
        }
        .ok();
    }

    // Indicators relative to the year's average normalised score.
    let norm: Vec<NormalisedRow> = results::read_year(results_dir, y)?;
    let mut by_indicator: HashMap<&str, Vec<f64>> = HashMap::new();
    for n in &norm {
        if let Some(v) = n.normalised {
            by_indicator.entry(&n.indicator).or_default().push(v);
        }
    }
    let average: HashMap<&str, f64> =
        by_indicator.into_iter().filter_map(|(k, v)| Some((k, derive::mean(v)?))).collect();
    let mut own: Vec<(&NormalisedRow, f64)> = norm
        .iter()
        .filter(|n| *n.region_code == *code)
        .filter_map(|n| Some((n, n.normalised? - average.get(&*n.indicator)?)))
        .collect();
    own.sort_by(|a, b| b.1.total_cmp(&a.1));
    let line = |(n, vs): &(&NormalisedRow, f64)| {
        let meta = catalog.indicator(&n.indicator);
        format!(
            "  {} {}: score {} ({vs:+.1} vs the average), value {} {}",
            meta.map_or(&*n.indicator, |m| m.name_zh.as_str()),
            n.indicator,
            fmt(n.normalised, 1),
            fmt(n.raw, if meta.is_some_and(|m| m.kind == Kind::Count) { 0 } else { 2 }),
            meta.map_or("", |m| m.unit.as_str())
        )
    };
    let _ = writeln!(out, "\nstrongest indicators (normalised score against the {y} average):");
    for x in own.iter().take(3) {
        let _ = writeln!(out, "{}", line(x));
    }
    let _ = writeln!(out, "weakest indicators:");
    for x in own.iter().rev().take(3) {
        let _ = writeln!(out, "{}", line(x));
    }
    if let Some(p) = prev {
        if let (Some(a), Some(b)) = (p.index, row.index) {
            let _ = writeln!(out, "\nchange from {}: index {:+.1} ({a:.1} → {b:.1})", y - 1, b - a);
        }
    }
    Ok(out)
}

/// Pad by display width: CJK characters take two columns in a terminal.
fn pad(s: &str, width: usize) -> String {
    let w: usize = s.chars().map(|c| if c as u32 >= 0x2E80 { 2 } else { 1 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}
