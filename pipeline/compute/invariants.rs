//! The invariants every compute checks before anything is written: each one that fails is a bug
//! in cimon, named with the county and year it shows in, and nothing is published. Pure.

use std::collections::{BTreeMap, HashMap};

use super::index::{IndexResult, Panel};
use super::methods::for_ranking;
use super::sensitivity::Interval;
use crate::regions::Registry;

/// A broken invariant: which one, where, and what was found.
#[derive(Debug, thiserror::Error)]
#[error(
    "internal check failed: {invariant}{}: {detail}; nothing was published",
    place.as_ref().map_or(String::new(), |p| format!(" for {p}"))
)]
pub struct Broken {
    pub invariant: &'static str,
    /// The county and year (`420802 东宝区 2023`), when the invariant is about one.
    pub place: Option<String>,
    pub detail: String,
}

/// What the invariants are checked on.
pub struct Subject<'a> {
    /// The scored panel the index was computed from.
    pub panel: &'a Panel,
    pub index: &'a IndexResult,
    pub index_code: &'a str,
    pub registry: &'a Registry,
    /// Rank intervals of the sensitivity analysis, per panel row.
    pub intervals: Option<&'a [Interval]>,
    /// The funding allocation: its budget and the amounts.
    pub funding: Option<(f64, Vec<f64>)>,
}

/// The invariants by name, in the order they are checked.
pub const INVARIANTS: [&str; 6] = ["existence", "present", "weights", "ranks", "funding", "intervals"];

pub fn check(s: &Subject<'_>) -> Result<(), Broken> {
    existence(s)?;
    present(s)?;
    weights(s)?;
    ranks(s)?;
    funding(s)?;
    intervals(s)
}

fn place(panel: &Panel, row: usize) -> Option<String> {
    let n = panel.units.len();
    let u = &panel.units[row % n];
    Some(format!("{} {} {}", u.code, u.name, panel.years[row / n]))
}

fn broken(invariant: &'static str, place: Option<String>, detail: String) -> Result<(), Broken> {
    Err(Broken { invariant, place, detail })
}

/// Every scored or ranked county exists that year under the registry: its code, or one its
/// series continues from, is valid then. Read from the registry, not from the panel's own mask.
fn existence(s: &Subject<'_>) -> Result<(), Broken> {
    let mut spans: HashMap<&str, Vec<&crate::regions::Region>> = HashMap::new();
    for r in &s.registry.regions {
        spans.entry(s.registry.current_code(&r.code)).or_default().push(r);
    }
    let (p, ix) = (s.panel, s.index);
    for row in 0..p.rows() {
        let scored = ix.rank[row].is_some()
            || ix.scores.values().any(|c| c[row].is_some())
            || ix.normalised.iter().any(|c| c[row].is_some());
        if !scored {
            continue;
        }
        let (unit, year) = (&p.units[row % p.units.len()], p.years[row / p.units.len()]);
        let exists = spans.get(unit.code.as_str()).is_some_and(|rs| rs.iter().any(|r| r.valid_in(year)));
        if !exists {
            return broken(
                "existence",
                place(p, row),
                format!("the county is scored or ranked in {year}, when the registry has no code of it"),
            );
        }
    }
    Ok(())
}

/// A normalised value has a reported or an imputed value beneath it, and an imputed value fills
/// a gap: never one where a value was reported.
fn present(s: &Subject<'_>) -> Result<(), Broken> {
    let (p, ix) = (s.panel, s.index);
    for (k, code) in p.indicators.iter().enumerate() {
        for row in 0..p.rows() {
            let (reported, imputed) = (p.values[k][row].is_some(), ix.was_imputed[k][row]);
            if imputed && reported {
                return broken("present", place(p, row), format!("{code} is imputed although it was reported"));
            }
            if ix.normalised[k][row].is_some() && !reported && !imputed {
                return broken(
                    "present",
                    place(p, row),
                    format!("{code} has a normalised value but no reported or imputed one"),
                );
            }
        }
    }
    Ok(())
}

/// The effective weights of each node's children (in each year, when fitted per year) are at
/// least 0 and sum to 1.
fn weights(s: &Subject<'_>) -> Result<(), Broken> {
    let mut sums: BTreeMap<(&str, Option<i32>), f64> = BTreeMap::new();
    for w in &s.index.weights {
        if w.effective.is_nan() || w.effective < 0.0 {
            return broken("weights", None, format!("{} has weight {} in {}", w.child, w.effective, w.node));
        }
        *sums.entry((&w.node, w.year)).or_default() += w.effective;
    }
    for ((node, year), sum) in sums {
        if (sum - 1.0).abs() > 1e-9 {
            let when = year.map_or(String::new(), |y| format!(" in {y}"));
            return broken("weights", None, format!("the weights of {node}'s children sum to {sum}{when}, not 1"));
        }
    }
    Ok(())
}

/// Within each year and ranking, the counties with a score are ranked and no others, and each
/// rank is one more than the number of counties scored higher (1..n, ties sharing the minimum).
fn ranks(s: &Subject<'_>) -> Result<(), Broken> {
    let (p, ix) = (s.panel, s.index);
    let n = p.units.len();
    let index = &ix.scores[s.index_code];
    let key_of = |u: usize, by: &str| -> Option<&str> {
        let unit = &p.units[u];
        match by {
            "prefecture" => Some(&unit.prefecture_code),
            "province" => Some(&unit.province_code),
            "peer group" => unit.peer_group.as_deref(),
            _ => Some(""),
        }
    };
    // (what is ranked, the grouping, the scores, the ranks)
    type Ranking<'a> = (String, &'a str, &'a [Option<f64>], &'a [Option<u32>]);
    let mut rankings: Vec<Ranking> = vec![
        ("index".into(), "", index, &ix.rank),
        ("index within prefecture".into(), "prefecture", index, &ix.rank_prefecture),
        ("index within province".into(), "province", index, &ix.rank_province),
        ("index within peer group".into(), "peer group", index, &ix.rank_peer),
    ];
    for (node, r) in &ix.node_rank {
        rankings.push((node.clone(), "", &ix.scores[node], r));
    }
    // The counties of each group, by grouping (the same in every year and ranking), and those
    // in none.
    let mut grouped: HashMap<&str, (Vec<Vec<usize>>, Vec<usize>)> = HashMap::new();
    for (_, by, _, _) in &rankings {
        grouped.entry(by).or_insert_with(|| {
            let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            let mut outside = Vec::new();
            for u in 0..n {
                match key_of(u, by) {
                    Some(k) => groups.entry(k).or_default().push(u),
                    None => outside.push(u),
                }
            }
            (groups.into_values().collect(), outside)
        });
    }
    for (what, by, scores, ranked) in rankings {
        let (groups, outside) = &grouped[by];
        for y in 0..p.years.len() {
            if let Some(u) = outside.iter().find(|&&u| ranked[y * n + u].is_some()) {
                return broken("ranks", place(p, y * n + u), format!("ranked by {what} outside any group"));
            }
            for units in groups {
                let rows: Vec<usize> = units.iter().map(|u| y * n + u).collect();
                let mut desc: Vec<f64> = rows.iter().filter_map(|&r| scores[r]).map(for_ranking).collect();
                desc.sort_by(|a, b| b.total_cmp(a));
                for &row in &rows {
                    let expected = scores[row].map(|v| 1 + desc.partition_point(|d| *d > for_ranking(v)) as u32);
                    if ranked[row] != expected {
                        return broken(
                            "ranks",
                            place(p, row),
                            match (ranked[row], expected) {
                                (Some(r), Some(e)) => format!(
                                    "its rank by {what} is {r}, but {} of the {} counties score higher (rank {e})",
                                    e - 1,
                                    desc.len()
                                ),
                                (Some(r), None) => format!("it has rank {r} by {what} but no score"),
                                (None, _) => format!("it has a score but no rank by {what}"),
                            },
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// A funding allocation adds up to its budget (none is made when no county has an index).
fn funding(s: &Subject<'_>) -> Result<(), Broken> {
    let Some((budget, amounts)) = s.funding.as_ref().filter(|(_, a)| !a.is_empty()) else { return Ok(()) };
    let total: f64 = amounts.iter().sum();
    if amounts.iter().any(|a| a.is_nan() || *a < 0.0) || (total - budget).abs() > 1e-6 * budget.abs().max(1.0) {
        return broken("funding", None, format!("the amounts add up to {total}, not the budget {budget}"));
    }
    Ok(())
}

/// Each rank interval of the sensitivity analysis contains the median rank.
fn intervals(s: &Subject<'_>) -> Result<(), Broken> {
    for (row, iv) in s.intervals.into_iter().flatten().enumerate() {
        if let (Some(lo), Some(m), Some(hi)) = (iv.p05, iv.median, iv.p95) {
            if !(f64::from(lo) <= m && m <= f64::from(hi)) {
                return broken(
                    "intervals",
                    place(s.panel, row),
                    format!("the rank interval {lo}–{hi} does not contain the median rank {m}"),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::index::{self, Method, Unit};
    use crate::compute::testing;
    use crate::regions::Change;

    /// Three counties over 2019–2020; the third was split away after 2019.
    fn fixture() -> (Panel, IndexResult, Registry) {
        let split = Some("130502;130522");
        let registry = testing::registry(vec![
            testing::region("130502", "县130502", None, None, None),
            testing::region("130521", "县130521", Some(2019), split, Some(Change::Split)),
            testing::region("130522", "县130522", None, None, None),
        ]);
        let unit = |code: &str| Unit {
            code: code.into(),
            name: format!("县{code}"),
            prefecture_code: "130500".into(),
            province_code: "130000".into(),
            ..Unit::default()
        };
        let panel = Panel {
            units: vec![unit("130502"), unit("130521"), unit("130522")],
            years: vec![2019, 2020],
            indicators: vec!["x".into(), "y".into()],
            values: crate::compute::panel::shared(vec![
                vec![Some(1.0), Some(2.0), Some(3.0), Some(1.5), None, Some(2.5)],
                vec![Some(9.0), Some(5.0), Some(7.0), None, None, Some(6.0)],
            ]),
            valid: vec![true, true, true, true, false, true],
        };
        let catalog = testing::two_indicators();
        let method =
            Method { imputation: index::Imputation::Locf, outliers: index::Outliers::None, ..Method::default() };
        let index = index::compute(&panel, &catalog, &method).unwrap();
        (panel, index, registry)
    }

    fn subject<'a>(p: &'a Panel, ix: &'a IndexResult, reg: &'a Registry) -> Subject<'a> {
        Subject { panel: p, index: ix, index_code: "i", registry: reg, intervals: None, funding: None }
    }

    fn fails(s: &Subject<'_>, invariant: &str, place: Option<&str>) {
        let e = check(s).expect_err(invariant);
        assert_eq!((e.invariant, e.place.as_deref()), (invariant, place), "{e}");
    }

    #[test]
    fn a_correct_result_passes_every_invariant() {
        let (p, ix, reg) = fixture();
        assert!(ix.was_imputed[1][3], "130502's 2020 y is carried forward");
        let mut s = subject(&p, &ix, &reg);
        let iv = |m: f64| Interval { nominal: None, median: Some(m), p05: Some(1), p95: Some(2), same_tier: None };
        let intervals = vec![iv(1.0), iv(1.5), iv(2.0), iv(1.0), iv(1.0), iv(2.0)];
        s.intervals = Some(&intervals);
        s.funding = Some((300.0, vec![100.0, 200.0]));
        check(&s).unwrap();
    }

    #[test]
    fn each_broken_invariant_is_named_with_the_county() {
        let (p, ix, reg) = fixture();
        // A county split away, scored all the same (imputation outside its existence).
        let mut bad = ix.clone();
        bad.scores.get_mut("i").unwrap()[4] = Some(50.0);
        bad.rank[4] = Some(3);
        fails(&subject(&p, &bad, &reg), "existence", Some("130521 县130521 2020"));
        // Imputed counted as reported: an imputed flag on a reported value.
        let mut bad = ix.clone();
        bad.was_imputed[0][0] = true;
        fails(&subject(&p, &bad, &reg), "present", Some("130502 县130502 2019"));
        // Node weights that do not sum to 1.
        let mut bad = ix.clone();
        bad.weights[0].effective = 0.7;
        fails(&subject(&p, &bad, &reg), "weights", None);
        // Ranks: a tie not sharing the minimum, and a gap.
        let mut bad = ix.clone();
        let r = bad.rank[0].unwrap();
        bad.rank[0] = Some(r + 1);
        fails(&subject(&p, &bad, &reg), "ranks", Some("130502 县130502 2019"));
        let mut bad = ix.clone();
        bad.rank_prefecture[5] = None;
        fails(&subject(&p, &bad, &reg), "ranks", Some("130522 县130522 2020"));
        // A peer rank for a county in no peer group, in the second year.
        let mut bad = ix.clone();
        assert!(bad.rank_peer.iter().all(Option::is_none), "no county has a peer group");
        bad.rank_peer[3] = Some(1);
        fails(&subject(&p, &bad, &reg), "ranks", Some("130502 县130502 2020"));
        assert!(check(&subject(&p, &bad, &reg)).unwrap_err().to_string().contains("outside any group"));
        // Funding that does not add up to the budget.
        let mut s = subject(&p, &ix, &reg);
        s.funding = Some((300.0, vec![100.0, 199.0]));
        fails(&s, "funding", None);
        // An interval that leaves out the median rank.
        let mut s = subject(&p, &ix, &reg);
        let intervals =
            vec![Interval { nominal: Some(1), median: Some(2.5), p05: Some(1), p95: Some(2), same_tier: None }];
        s.intervals = Some(&intervals);
        fails(&s, "intervals", Some("130502 县130502 2019"));
    }
}
