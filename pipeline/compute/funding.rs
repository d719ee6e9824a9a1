//! 绩效拨款: the funding allocation a bureau makes from the evaluation (`[funding]`), and how
//! solid each county's amount is over the sensitivity analysis's replications. Pure: no I/O. One
//! job (settings, formula, rounding, spread), kept in one file so that the formula reads whole.
//!
//! Fixed amounts come first (a base per county, awards per CASTED tier); the rest of the budget
//! is shared out by the weighted parts (the index above a floor, the improvement of the index,
//! the rank gained); caps and floors per county are met by moving the excess to the other
//! counties in proportion to their shares; the amounts are rounded to `round_to` by the
//! largest-remainder method, so they always add up to the budget exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

crate::keyed! {
    /// What a share of the budget follows.
    pub enum PartKind {
        /// The index (above `above`, when set).
        Index = "index",
        /// The rise of the index over `years` years (a fall counts as none).
        Improvement = "improvement",
        /// The places gained in the ranking over `years` years.
        RankGain = "rank_gain",
    }
}

/// One weighted part of the formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub kind: PartKind,
    /// Share of what is left after the fixed amounts (the parts' weights are normalised).
    pub weight: f64,
    /// Index parts: only the index above this value counts (a county at or below gets none).
    #[serde(default)]
    pub above: Option<f64>,
    /// Improvement and rank gain: over how many years.
    #[serde(default = "one")]
    pub years: i32,
}

fn one() -> i32 {
    1
}

/// `[funding]` settings; no section, no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingSettings {
    /// The whole budget, 万元.
    pub budget: f64,
    /// Amounts are multiples of this (万元); budget, floor and cap must be too.
    #[serde(default = "unit")]
    pub round_to: f64,
    /// A base amount every county receives.
    #[serde(default)]
    pub base: f64,
    /// Fixed awards by CASTED tier: `{ "1" = 100, "2" = 40 }`.
    #[serde(default)]
    pub tier_awards: BTreeMap<String, f64>,
    /// Least and most a county receives.
    #[serde(default)]
    pub floor: Option<f64>,
    #[serde(default)]
    pub cap: Option<f64>,
    #[serde(default)]
    pub parts: Vec<Part>,
    /// The evaluation year the allocation is for (default: the latest).
    #[serde(default)]
    pub year: Option<i32>,
}

fn unit() -> f64 {
    1.0
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FundingError {
    #[error("[funding] {0}")]
    Invalid(String),
}

impl FundingSettings {
    /// The checks that need no data.
    pub fn validate(&self) -> Result<(), FundingError> {
        let bad = |m: String| Err(FundingError::Invalid(m));
        if self.budget.is_nan() || self.budget <= 0.0 {
            return bad(format!("budget = {} must be more than 0 (万元)", self.budget));
        }
        if self.round_to.is_nan() || self.round_to <= 0.0 {
            return bad(format!("round_to = {} must be more than 0", self.round_to));
        }
        let multiple = |v: f64| ((v / self.round_to) - (v / self.round_to).round()).abs() < 1e-6;
        for (name, v) in [("budget", Some(self.budget)), ("floor", self.floor), ("cap", self.cap)] {
            if let Some(v) = v.filter(|&v| !multiple(v)) {
                return bad(format!("{name} = {v} is not a multiple of round_to = {}", self.round_to));
            }
        }
        if let (Some(f), Some(c)) = (self.floor, self.cap) {
            if f > c {
                return bad(format!("floor = {f} is more than cap = {c}"));
            }
        }
        for (tier, v) in &self.tier_awards {
            if !["1", "2", "3"].contains(&tier.as_str()) {
                return bad(format!("tier_awards key \"{tier}\" is not a CASTED tier (1, 2 or 3)"));
            }
            if *v < 0.0 {
                return bad(format!("tier_awards.{tier} = {v} is negative"));
            }
        }
        if self.base < 0.0 {
            return bad(format!("base = {} is negative", self.base));
        }
        let mut kinds = Vec::new();
        for p in &self.parts {
            if p.weight.is_nan() || p.weight <= 0.0 {
                return bad(format!("a {} part needs a weight above 0", p.kind.as_str()));
            }
            if p.years < 1 {
                return bad(format!("a {} part needs years ≥ 1", p.kind.as_str()));
            }
            if p.above.is_some() && p.kind != PartKind::Index {
                return bad(format!("`above` belongs to index parts, not {}", p.kind.as_str()));
            }
            if kinds.contains(&p.kind) {
                return bad(format!("two {} parts: give one with its weight", p.kind.as_str()));
            }
            kinds.push(p.kind);
        }
        Ok(())
    }

    fn award(&self, tier: Option<u8>) -> f64 {
        tier.and_then(|t| self.tier_awards.get(&t.to_string()).copied()).unwrap_or(0.0)
    }

    /// The span of years the allocation needs before its year.
    pub fn lookback(&self) -> i32 {
        self.parts.iter().filter(|p| p.kind != PartKind::Index).map(|p| p.years).max().unwrap_or(0)
    }
}

/// What the formula looks at for one county: the evaluation year and `years` before it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    pub index: Option<f64>,
    pub rank: Option<u32>,
    pub tier: Option<u8>,
    /// Index and rank `years` before, per part (in the order of the parts).
    pub before: Vec<(Option<f64>, Option<u32>)>,
}

/// One county's amount and how it is made up (万元): base + tier award + parts + adjustment = amount.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub base: f64,
    pub tier_award: f64,
    /// One per configured part, in order.
    pub parts: Vec<f64>,
    /// Caps, floors, scaling of fixed amounts and rounding.
    pub adjustment: f64,
    /// Before rounding.
    pub exact: f64,
    /// Rounded: the amounts add up to the budget.
    pub amount: f64,
}

/// How an allocation went, beyond the amounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Remarks {
    /// The fixed amounts were more than the budget and were scaled down to it.
    pub fixed_scaled: bool,
    /// Parts no county scored on (shared out equally instead), by position.
    pub equal_parts: Vec<usize>,
}

/// The measure a part shares out by, for one county.
fn measure(p: &Part, s: &Standing, k: usize) -> f64 {
    let (before_index, before_rank) = s.before.get(k).copied().unwrap_or((None, None));
    let v = match p.kind {
        PartKind::Index => s.index.map(|x| x - p.above.unwrap_or(0.0)),
        PartKind::Improvement => s.index.zip(before_index).map(|(a, b)| a - b),
        PartKind::RankGain => s.rank.zip(before_rank).map(|(now, then)| f64::from(then) - f64::from(now)),
    };
    v.filter(|x| x.is_finite()).unwrap_or(0.0).max(0.0)
}

/// Allocate the budget over `counties` (every one has an index in the year). Errors only when
/// no allocation can meet the floors and caps.
pub fn allocate(f: &FundingSettings, counties: &[Standing]) -> Result<(Vec<Share>, Remarks), FundingError> {
    let n = counties.len();
    let mut remarks = Remarks::default();
    if n == 0 {
        return Ok((Vec::new(), remarks));
    }
    let floor = f.floor.unwrap_or(0.0);
    let cap = f.cap.unwrap_or(f64::INFINITY);
    if floor * n as f64 > f.budget + 1e-9 {
        return Err(FundingError::Invalid(format!(
            "floor = {floor} for {n} counties is more than the budget {}",
            f.budget
        )));
    }
    if cap * (n as f64) < f.budget - 1e-9 {
        return Err(FundingError::Invalid(format!(
            "cap = {cap} for {n} counties is less than the budget {}",
            f.budget
        )));
    }
    let mut base: Vec<f64> = vec![f.base; n];
    let mut award: Vec<f64> = counties.iter().map(|c| f.award(c.tier)).collect();
    let fixed: f64 = base.iter().chain(&award).sum();
    if fixed > f.budget {
        // More tier-1 counties than the budget allows (in a replication, or as configured):
        // every fixed amount in proportion.
        let k = f.budget / fixed;
        base.iter_mut().chain(award.iter_mut()).for_each(|x| *x *= k);
        remarks.fixed_scaled = true;
    }
    let rest = f.budget - base.iter().chain(&award).sum::<f64>();
    let total_weight: f64 = f.parts.iter().map(|p| p.weight).sum();
    let mut parts = vec![vec![0.0; f.parts.len()]; n];
    for (k, p) in f.parts.iter().enumerate() {
        let pot = rest * p.weight / total_weight;
        let x: Vec<f64> = counties.iter().map(|c| measure(p, c, k)).collect();
        let sum: f64 = x.iter().sum();
        for i in 0..n {
            parts[i][k] = if sum > 0.0 { pot * x[i] / sum } else { pot / n as f64 };
        }
        if sum <= 0.0 {
            remarks.equal_parts.push(k);
        }
    }
    // No parts: what the fixed amounts leave goes equally to every county.
    let leftover = if f.parts.is_empty() { rest / n as f64 } else { 0.0 };
    let wanted: Vec<f64> = (0..n).map(|i| base[i] + award[i] + parts[i].iter().sum::<f64>() + leftover).collect();
    let exact =
        clamp(&wanted, &(0..n).map(|i| wanted[i] - base[i] - award[i]).collect::<Vec<_>>(), floor, cap, f.budget);
    let amount = round(&exact, f.round_to, f.budget, cap, counties);
    let shares = (0..n)
        .map(|i| Share {
            base: base[i],
            tier_award: award[i],
            parts: parts[i].clone(),
            adjustment: amount[i] - (base[i] + award[i] + parts[i].iter().sum::<f64>()),
            exact: exact[i],
            amount: amount[i],
        })
        .collect();
    Ok((shares, remarks))
}

/// Meet floor and cap, keeping the total: every county's variable amount is scaled by one
/// factor k (a county held at a bound stays there), k found by bisection. When the variable
/// amounts cannot absorb it (there are none, or the fixed ones alone break a bound), every
/// county moves by the same sum instead.
fn clamp(wanted: &[f64], variable: &[f64], floor: f64, cap: f64, budget: f64) -> Vec<f64> {
    let bound = |x: f64| x.clamp(floor, cap);
    if wanted.iter().all(|&x| x >= floor - 1e-9 && x <= cap + 1e-9) {
        return wanted.to_vec();
    }
    let firm: Vec<f64> = wanted.iter().zip(variable).map(|(w, v)| w - v).collect();
    let total = |f: &dyn Fn(usize) -> f64| (0..wanted.len()).map(f).sum::<f64>();
    let var: f64 = variable.iter().sum();
    let scaled = |k: f64| total(&|i| bound(firm[i] + k * variable[i]));
    if var > 1e-9 * budget && scaled(0.0) <= budget {
        // Σ is continuous and grows with k; k = 1 is the unbounded allocation.
        let mut hi = 1.0;
        while scaled(hi) < budget && hi < 1e12 {
            hi *= 2.0;
        }
        // Unless the counties not at their cap have no variable amount to scale (a measure of 0):
        // then no factor reaches the budget, and the shift below shares out the rest.
        if scaled(hi) >= budget - 1e-9 * budget.abs().max(1.0) {
            let k = bisect(0.0, hi, |k| scaled(k) < budget);
            return (0..wanted.len()).map(|i| bound(firm[i] + k * variable[i])).collect();
        }
    }
    let shifted = |t: f64| total(&|i| bound(wanted[i] + t));
    let span = budget + cap.min(budget) + wanted.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let t = bisect(-span, span, |t| shifted(t) < budget);
    wanted.iter().map(|&w| bound(w + t)).collect()
}

/// The boundary of a monotone predicate on [lo, hi] (true below it).
fn bisect(mut lo: f64, mut hi: f64, below: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if below(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Largest remainder: whole units of `unit`, the leftover units to the largest fractions
/// (ties: the better-ranked county, then the earlier in the list), never above the cap.
fn round(exact: &[f64], unit: f64, budget: f64, cap: f64, counties: &[Standing]) -> Vec<f64> {
    let total = (budget / unit).round() as i64;
    let units: Vec<f64> = exact.iter().map(|x| x / unit).collect();
    let mut whole: Vec<i64> = units.iter().map(|u| (u + 1e-9).floor() as i64).collect();
    let left = total - whole.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..exact.len()).collect();
    let frac = |i: usize| units[i] - whole[i] as f64;
    order.sort_by(|&a, &b| {
        frac(b)
            .partial_cmp(&frac(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(counties[a].rank.unwrap_or(u32::MAX).cmp(&counties[b].rank.unwrap_or(u32::MAX)))
            .then(a.cmp(&b))
    });
    let mut left = left.max(0);
    while left > 0 {
        let before = left;
        for &i in &order {
            if left > 0 && (whole[i] + 1) as f64 * unit <= cap + 1e-9 * unit {
                whole[i] += 1;
                left -= 1;
            }
        }
        if left == before {
            break;
        }
    }
    whole.iter().map(|&w| w as f64 * unit).collect()
}

/// The spread of one county's amount over the replications, and how often its fixed award and
/// its place above the index floor held.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub p05: f64,
    pub p95: f64,
    /// Share of replications giving the published tier award (None: no tier awards).
    pub award_kept: Option<f64>,
    /// Share of replications on the published side of the index part's `above` (None: no floor).
    pub above_kept: Option<f64>,
}

/// Below this share of replications, an award or a place above the floor is not robust.
pub const ROBUST: f64 = 0.9;

impl Spread {
    pub fn robust(&self) -> Option<bool> {
        match (self.award_kept, self.above_kept) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(1.0) >= ROBUST && b.unwrap_or(1.0) >= ROBUST),
        }
    }
}

/// What one replication gives one county: its exact amount, whether it got the published tier
/// award, whether it was on the published side of the floor.
pub type Outcome = (f64, bool, bool);

/// One replication's outcome per county (in the order of `published`).
pub fn replicate(f: &FundingSettings, published: &[Standing], run: &[Standing]) -> Vec<Outcome> {
    let floor = f.parts.iter().find(|p| p.kind == PartKind::Index).and_then(|p| p.above);
    let Ok((shares, _)) = allocate(f, run) else {
        return published.iter().map(|_| (f64::NAN, false, false)).collect();
    };
    published
        .iter()
        .zip(run)
        .zip(&shares)
        .map(|((p, r), s)| {
            let award = f.award(p.tier) == f.award(r.tier);
            let above = floor.is_none_or(|a| p.index.map(|x| x > a) == r.index.map(|x| x > a));
            (s.exact, award, above)
        })
        .collect()
}

/// Per county, the spread over the replications' outcomes (`runs[r][county]`).
pub fn spreads(f: &FundingSettings, runs: &[Vec<Outcome>], counties: usize) -> Vec<Spread> {
    let floor = f.parts.iter().any(|p| p.kind == PartKind::Index && p.above.is_some());
    let awards = f.tier_awards.values().any(|v| *v > 0.0);
    (0..counties)
        .map(|i| {
            let mut v: Vec<f64> = runs.iter().map(|r| r[i].0).filter(|x| x.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            let q = |p: f64| {
                if v.is_empty() {
                    f64::NAN
                } else {
                    v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
                }
            };
            let median = if v.is_empty() {
                f64::NAN
            } else if v.len() % 2 == 1 {
                v[v.len() / 2]
            } else {
                (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
            };
            let share = |pick: fn(&Outcome) -> bool| {
                runs.iter().filter(|r| pick(&r[i])).count() as f64 / runs.len().max(1) as f64
            };
            Spread {
                median,
                p05: q(0.05),
                p95: q(0.95),
                award_kept: awards.then(|| share(|o| o.1)),
                above_kept: floor.then(|| share(|o| o.2)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(budget: f64) -> FundingSettings {
        FundingSettings {
            budget,
            round_to: 1.0,
            base: 0.0,
            tier_awards: BTreeMap::new(),
            floor: None,
            cap: None,
            parts: Vec::new(),
            year: None,
        }
    }

    fn part(kind: PartKind, weight: f64) -> Part {
        Part { kind, weight, above: None, years: 1 }
    }

    fn county(index: f64, rank: u32, tier: u8, before: (f64, u32)) -> Standing {
        Standing {
            index: Some(index),
            rank: Some(rank),
            tier: Some(tier),
            before: vec![(Some(before.0), Some(before.1)); 3],
        }
    }

    /// Three counties: A 60 (was 50, rank 1 ← 2), B 40 (was 45, 2 ← 1), C 20 (was 10, 3 ← 3).
    fn three() -> Vec<Standing> {
        vec![county(60.0, 1, 1, (50.0, 2)), county(40.0, 2, 2, (45.0, 1)), county(20.0, 3, 3, (10.0, 3))]
    }

    fn amounts(f: &FundingSettings, c: &[Standing]) -> Vec<f64> {
        allocate(f, c).unwrap().0.iter().map(|s| s.amount).collect()
    }

    #[test]
    fn proportional_to_the_index_and_above_a_floor() {
        // 120 over 60 : 40 : 20 → 60, 40, 20.
        let f = FundingSettings { parts: vec![part(PartKind::Index, 1.0)], ..settings(120.0) };
        assert_eq!(amounts(&f, &three()), [60.0, 40.0, 20.0]);
        // Only the index above 30 counts: 30 : 10 : 0 → 90, 30, 0.
        let f = FundingSettings {
            parts: vec![Part { above: Some(30.0), ..part(PartKind::Index, 1.0) }],
            ..settings(120.0)
        };
        assert_eq!(amounts(&f, &three()), [90.0, 30.0, 0.0]);
    }

    #[test]
    fn proportional_to_improvement_and_to_places_gained() {
        // Index rises 10, −5 (none), 10 → 50 : 0 : 50.
        let f = FundingSettings { parts: vec![part(PartKind::Improvement, 1.0)], ..settings(100.0) };
        assert_eq!(amounts(&f, &three()), [50.0, 0.0, 50.0]);
        // Only A gained a place.
        let f = FundingSettings { parts: vec![part(PartKind::RankGain, 1.0)], ..settings(100.0) };
        assert_eq!(amounts(&f, &three()), [100.0, 0.0, 0.0]);
    }

    #[test]
    fn base_and_tier_awards_come_first_and_parts_share_the_rest() {
        // 300: base 20 each (60), tier 1 gets 40 → 200 left, half by index (60:40:20), half by
        // improvement (10:0:10): A 20+40+50+50 = 160, B 20+33.33 = 53.33, C 20+16.67+50 = 86.67.
        let f = FundingSettings {
            base: 20.0,
            tier_awards: [("1".to_string(), 40.0)].into(),
            parts: vec![part(PartKind::Index, 1.0), part(PartKind::Improvement, 1.0)],
            ..settings(300.0)
        };
        let (s, _) = allocate(&f, &three()).unwrap();
        let exact: Vec<f64> = s.iter().map(|s| s.exact).collect();
        for (x, want) in exact.iter().zip([160.0, 53.0 + 1.0 / 3.0, 86.0 + 2.0 / 3.0]) {
            assert!((x - want).abs() < 1e-9, "{exact:?}");
        }
        // Rounded to whole 万元 by the largest remainder: C's .67 gets the unit, B's .33 not.
        assert_eq!(s.iter().map(|s| s.amount).collect::<Vec<_>>(), [160.0, 53.0, 87.0]);
        for x in &s {
            let sum = x.base + x.tier_award + x.parts.iter().sum::<f64>() + x.adjustment;
            assert!((sum - x.amount).abs() < 1e-9, "the columns add up to the amount");
        }
    }

    /// Found by the generated panels: two counties at their cap and the third with no share of
    /// the parts (index 0). Its share cannot scale, so the rest goes to it all the same; the
    /// amounts add up to the budget and none is above the cap.
    #[test]
    fn what_capped_counties_cannot_take_goes_to_those_without_a_share() {
        let f = FundingSettings {
            base: 10.0,
            tier_awards: [("1".to_string(), 20.0)].into(),
            cap: Some(400.0),
            parts: vec![part(PartKind::Index, 1.0)],
            ..settings(1000.0)
        };
        let c = vec![county(100.0, 1, 1, (0.0, 1)), county(100.0, 1, 1, (0.0, 1)), county(0.0, 3, 3, (0.0, 3))];
        assert_eq!(amounts(&f, &c), [400.0, 400.0, 200.0]);
    }

    #[test]
    fn a_cap_moves_the_excess_to_the_others_in_proportion() {
        // 120 by index would give 60, 40, 20; cap 50: A 50, and 70 over B and C as 40 : 20.
        let f = FundingSettings {
            cap: Some(50.0),
            round_to: 0.01,
            parts: vec![part(PartKind::Index, 1.0)],
            ..settings(120.0)
        };
        let (s, _) = allocate(&f, &three()).unwrap();
        let got: Vec<f64> = s.iter().map(|s| s.exact).collect();
        assert!((got[0] - 50.0).abs() < 1e-9 && (got[1] - 70.0 * 2.0 / 3.0).abs() < 1e-9, "{got:?}");
        // A floor of 30 lifts C and takes it from A and B by their shares.
        let f = FundingSettings { floor: Some(30.0), parts: vec![part(PartKind::Index, 1.0)], ..settings(120.0) };
        let got = amounts(&f, &three());
        assert_eq!(got.iter().sum::<f64>(), 120.0);
        assert_eq!(got[2], 30.0);
        assert!(got[0] > got[1] && got[1] >= 30.0, "{got:?}");
        // Impossible bounds are refused.
        let f = FundingSettings { floor: Some(50.0), ..settings(120.0) };
        assert!(allocate(&f, &three()).is_err());
    }

    #[test]
    fn awkward_budgets_and_caps_still_add_up_exactly() {
        let counties: Vec<Standing> =
            (0..17).map(|i| county(10.0 + (i * 37 % 23) as f64 * 3.1, i + 1, (i % 3) as u8 + 1, (12.0, 5))).collect();
        for (budget, unit, cap, floor) in [
            (1000.0, 1.0, None, None),
            (999.0, 1.0, Some(90.0), Some(20.0)),
            (1234.5, 0.5, Some(100.0), None),
            (7777.0, 1.0, None, Some(300.0)),
            (100.0, 0.1, Some(6.1), Some(5.0)),
        ] {
            let f = FundingSettings {
                round_to: unit,
                cap,
                floor,
                base: 3.0,
                tier_awards: [("1".to_string(), 7.0), ("2".to_string(), 2.5)].into(),
                parts: vec![part(PartKind::Index, 0.7), part(PartKind::Improvement, 0.3)],
                ..settings(budget)
            };
            f.validate().unwrap();
            let (s, _) = allocate(&f, &counties).unwrap();
            let units: i64 = s.iter().map(|s| (s.amount / unit).round() as i64).sum();
            assert_eq!(units, (budget / unit).round() as i64, "budget {budget}: the amounts add up exactly");
            for x in &s {
                assert!(((x.amount / unit) - (x.amount / unit).round()).abs() < 1e-9, "a multiple of {unit}");
                assert!(cap.is_none_or(|c| x.amount <= c + 1e-9) && floor.is_none_or(|f| x.amount >= f - 1e-9));
            }
        }
    }

    #[test]
    fn more_fixed_awards_than_budget_are_scaled_down() {
        let f = FundingSettings { tier_awards: [("1".to_string(), 100.0)].into(), ..settings(150.0) };
        let c = vec![county(60.0, 1, 1, (0.0, 1)), county(55.0, 2, 1, (0.0, 2))];
        let (s, r) = allocate(&f, &c).unwrap();
        assert!(r.fixed_scaled);
        assert_eq!(s.iter().map(|s| s.amount).collect::<Vec<_>>(), [75.0, 75.0]);
    }

    #[test]
    fn the_checks_name_the_setting() {
        let bad = FundingSettings { round_to: 10.0, ..settings(995.0) };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "[funding] budget = 995 is not a multiple of round_to = 10"
        );
        let bad = FundingSettings { tier_awards: [("4".to_string(), 1.0)].into(), ..settings(100.0) };
        assert!(bad.validate().unwrap_err().to_string().contains("tier_awards key \"4\""));
    }

    #[test]
    fn identical_replications_give_zero_width_and_a_tier_boundary_is_flagged() {
        let f = FundingSettings {
            tier_awards: [("1".to_string(), 30.0)].into(),
            parts: vec![part(PartKind::Index, 1.0)],
            ..settings(120.0)
        };
        let published = three();
        let same: Vec<Vec<Outcome>> = (0..20).map(|_| replicate(&f, &published, &published)).collect();
        for s in spreads(&f, &same, 3) {
            assert_eq!((s.p05, s.p95), (s.median, s.median), "no noise, no width");
            assert_eq!((s.award_kept, s.robust()), (Some(1.0), Some(true)));
        }
        // B sits on the tier-1 boundary: tier 1 in 3 of 20 replications, tier 2 (as published) in the rest.
        let runs: Vec<Vec<Outcome>> = (0..20)
            .map(|r| {
                let mut run = published.clone();
                run[1].tier = Some(if r < 3 { 1 } else { 2 });
                replicate(&f, &published, &run)
            })
            .collect();
        let s = spreads(&f, &runs, 3);
        assert_eq!(s[1].award_kept, Some(0.85));
        assert_eq!(s[1].robust(), Some(false));
        assert!(s[1].p95 > s[1].p05, "its amount moves with the award");
        assert_eq!(s[2].robust(), Some(true));
    }
}
