//! `cimon explain`: one county's index broken down for the terminal, read from the result tables.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;

use crate::catalog::Catalog;
use crate::regions::{Lookup, Registry};
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}")]
    Polars { path: std::path::PathBuf, source: PolarsError },
    #[error("unknown county \"{0}\": not a code or name in the region registry")]
    UnknownCounty(String),
    #[error("no results for {name} ({code}){year}: run `cimon compute` first")]
    NoResults { code: String, name: String, year: String },
}

fn rows_for(df: &DataFrame, code: &str) -> PolarsResult<DataFrame> {
    df.clone().lazy().filter(col("region_code").eq(lit(code))).collect()
}

fn f(df: &DataFrame, c: &str, i: usize) -> Option<f64> {
    df.column(c).ok()?.f64().ok()?.get(i)
}
fn u(df: &DataFrame, c: &str, i: usize) -> Option<u32> {
    df.column(c).ok()?.u32().ok()?.get(i)
}
fn s<'a>(df: &'a DataFrame, c: &str, i: usize) -> Option<&'a str> {
    df.column(c).ok()?.str().ok()?.get(i)
}

fn fmt(v: Option<f64>, d: usize) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{x:.d$}"))
}

/// Render the breakdown as text.
pub fn explain(
    results: &Path,
    county: &str,
    year: Option<i32>,
    registry: &Registry,
    catalog: &Catalog,
) -> Result<String, ExplainError> {
    let region = match registry.lookup(county, None) {
        Lookup::Found(r) | Lookup::NotValid(r) => r,
        Lookup::Ambiguous(rs) => rs[0],
        Lookup::Unknown => return Err(ExplainError::UnknownCounty(county.to_string())),
    };
    let code = registry.current_code(&region.code).to_string();
    let current = registry.get(&code).unwrap_or(region);
    let pl = |source| ExplainError::Polars { path: results.to_owned(), source };
    let all_index = store::read_table(results, "index")?;
    let index = rows_for(&all_index, &code).map_err(pl)?;
    let years: Vec<i32> = index.column("year").map_err(pl)?.i32().map_err(pl)?.iter().flatten().collect();
    let y = year.or_else(|| years.iter().copied().max());
    let no = || ExplainError::NoResults {
        code: code.clone(),
        name: current.name.clone(),
        year: year.map_or(String::new(), |y| format!(" in {y}")),
    };
    let y = y.ok_or_else(no)?;
    let i = years.iter().position(|&x| x == y).ok_or_else(no)?;
    let prev = years.iter().position(|&x| x == y - 1);
    // The year's field: counties with an index, and its average (the CASTED line).
    let field = all_index
        .lazy()
        .filter(col("year").eq(lit(y)))
        .select([col("index").count().alias("n"), col("index").mean().alias("mean")])
        .collect()
        .map_err(pl)?;
    let n_counties = field.column("n").map_err(pl)?.idx().map_err(pl)?.get(0).unwrap_or(0);
    let avg_index = f(&field, "mean", 0);

    let mut out = String::new();
    let _ =
        writeln!(out, "{} ({}) · {} · {} — {y}", current.name, code, current.prefecture_name, current.province_name);
    let rank_change = index.column("rank_change").ok().and_then(|c| c.i32().ok()?.get(i));
    let change = match rank_change {
        Some(c) if c > 0 => format!(", up {c} on {}", y - 1),
        Some(c) if c < 0 => format!(", down {} on {}", -c, y - 1),
        Some(_) => format!(", unchanged on {}", y - 1),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{} {}: {}   rank {} of {n_counties}{change}; {} of its prefecture, {} of its province",
        catalog.index.name_zh,
        catalog.index.code,
        fmt(f(&index, "index", i), 1),
        u(&index, "rank", i).map_or("—".into(), |r| r.to_string()),
        u(&index, "rank_prefecture", i).map_or("—".into(), |r| r.to_string()),
        u(&index, "rank_province", i).map_or("—".into(), |r| r.to_string()),
    );
    let _ = writeln!(
        out,
        "tier: CASTED {} (average {}), ratio to average {} ({})",
        u(&index, "casted_tier", i).map_or("—".into(), |t| t.to_string()),
        fmt(avg_index, 1),
        fmt(f(&index, "ratio_to_average", i), 2),
        s(&index, "ratio_group", i).unwrap_or("—"),
    );

    // Dimensions: score, weight, contribution, change.
    let weights = store::read_table(results, "weights")?;
    let w_of: HashMap<(String, String), f64> = (0..weights.height())
        .filter_map(|k| {
            Some((
                (s(&weights, "node", k)?.to_string(), s(&weights, "child", k)?.to_string()),
                f(&weights, "effective_weight", k)?,
            ))
        })
        .collect();
    let dims: Vec<&crate::catalog::Node> =
        catalog.groups.iter().filter(|g| g.parent.as_deref() == Some(catalog.index.code.as_str())).collect();
    let present: f64 = dims
        .iter()
        .filter(|g| f(&index, &format!("score_{}", g.code), i).is_some())
        .map(|g| w_of.get(&(catalog.index.code.clone(), g.code.clone())).copied().unwrap_or(0.0))
        .sum();
    let _ = writeln!(
        out,
        "\n{} {:>7} {:>7} {:>12} {:>8}",
        pad("dimension", 28),
        "score",
        "weight",
        "contribution",
        "change"
    );
    for g in &dims {
        let c = format!("score_{}", g.code);
        let score = f(&index, &c, i);
        let w = w_of.get(&(catalog.index.code.clone(), g.code.clone())).copied().unwrap_or(0.0);
        let contrib = score.map(|v| v * w / present.max(f64::MIN_POSITIVE));
        let delta = prev.and_then(|p| Some(score? - f(&index, &c, p)?));
        let label = format!("{} {}", g.name_zh, g.code);
        let _ = writeln!(
            out,
            "{} {:>7} {:>7.3} {:>12} {:>8}",
            pad(&label, 28),
            fmt(score, 1),
            w,
            fmt(contrib, 1),
            delta.map_or("—".into(), |d| format!("{d:+.1}"))
        );
    }

    // Indicators relative to the year's average normalised score.
    let norm = store::read_table(results, "normalised")?
        .lazy()
        .filter(col("year").eq(lit(y)))
        .with_column(
            (col("normalised") - col("normalised").mean().over([col("indicator")]).map_err(pl)?).alias("vs_avg"),
        )
        .filter(col("region_code").eq(lit(code.as_str())).and(col("vs_avg").is_not_null()))
        .sort(["vs_avg"], SortMultipleOptions::default().with_order_descending(true))
        .collect()
        .map_err(pl)?;
    let line = |k: usize| {
        let ind = s(&norm, "indicator", k).unwrap_or("");
        let meta = catalog.indicator(ind);
        format!(
            "  {} {}: score {} ({:+.1} vs the average), value {} {}",
            meta.map_or(ind, |m| m.name_zh.as_str()),
            ind,
            fmt(f(&norm, "normalised", k), 1),
            f(&norm, "vs_avg", k).unwrap_or(0.0),
            fmt(f(&norm, "raw", k), if meta.is_some_and(|m| m.kind == crate::catalog::Kind::Count) { 0 } else { 2 }),
            meta.map_or("", |m| m.unit.as_str())
        )
    };
    let n = norm.height();
    let _ = writeln!(out, "\nstrongest indicators (normalised score against the {y} average):");
    for k in 0..n.min(3) {
        let _ = writeln!(out, "{}", line(k));
    }
    let _ = writeln!(out, "weakest indicators:");
    for k in (n.saturating_sub(3)..n).rev() {
        let _ = writeln!(out, "{}", line(k));
    }
    if let Some(p) = prev {
        let (a, b) = (f(&index, "index", p), f(&index, "index", i));
        if let (Some(a), Some(b)) = (a, b) {
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
