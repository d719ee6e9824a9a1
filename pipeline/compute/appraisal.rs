//! 考评: the list of 先进县 (leading and most improved counties) and of those that fell back,
//! from the evaluation year's ranks (`[appraisal]`), each with its reason. Pure: no I/O.

use serde::{Deserialize, Serialize};

pub use crate::codes::Verdict;

crate::keyed! {
    /// How the most improved are measured.
    pub enum ImprovedBy {
        /// Places gained on the previous year.
        Rank = "rank",
        /// Index points gained on the previous year.
        Index = "index",
    }
}

/// `[appraisal]` settings; no section, no list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppraisalSettings {
    /// CASTED tier up to which a county leads (排名前列): 1 = the first tier; 0 = none.
    #[serde(default = "first")]
    pub leading_tier: u8,
    /// Or the top N of the ranking (0 = none).
    #[serde(default)]
    pub leading_top: u32,
    /// The N most improved (ties at the N-th included; only those that improved).
    #[serde(default)]
    pub improved: u32,
    #[serde(default = "by_rank")]
    pub improved_by: ImprovedBy,
    /// A fall of at least this many places puts a county on the fell-back list (0 = no list).
    #[serde(default)]
    pub fell_back: u32,
    /// The evaluation year (default: the latest).
    #[serde(default)]
    pub year: Option<i32>,
}

fn first() -> u8 {
    1
}

fn by_rank() -> ImprovedBy {
    ImprovedBy::Rank
}

impl AppraisalSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.leading_tier > 3 {
            return Err(format!("[appraisal] leading_tier = {} is not a CASTED tier (0 to 3)", self.leading_tier));
        }
        if self.leading_tier == 0 && self.leading_top == 0 && self.improved == 0 && self.fell_back == 0 {
            return Err("[appraisal] names nobody: set leading_tier, leading_top, improved or fell_back".into());
        }
        Ok(())
    }
}

/// One county's standing in the evaluation year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    pub rank: Option<u32>,
    pub rank_change: Option<i32>,
    pub index_change: Option<f64>,
    pub tier: Option<u8>,
    /// Rank interval and share of replications in the published tier (sensitivity analysis).
    pub p95: Option<u32>,
    pub same_tier: Option<f64>,
}

/// One county on a list and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Position in the input.
    pub county: usize,
    pub verdict: Verdict,
    /// 排名前列: in the leading tier or the top N.
    pub leading: bool,
    /// 进步显著: among the most improved.
    pub improved: bool,
    /// The lead holds over the sensitivity replications: its tier in ≥ 90% of them, or its rank
    /// interval inside the top N (None: not leading, or no sensitivity analysis).
    pub robust: Option<bool>,
}

/// The lists, advanced first (by rank), then fell back (largest fall first).
pub fn appraise(s: &AppraisalSettings, counties: &[Standing]) -> Vec<Entry> {
    let gain = |c: &Standing| match s.improved_by {
        ImprovedBy::Rank => c.rank_change.map(f64::from),
        ImprovedBy::Index => c.index_change,
    };
    // The N-th largest gain among those that gained: everyone at or above it is most improved.
    let mut gains: Vec<f64> = counties.iter().filter_map(gain).filter(|g| *g > 0.0).collect();
    gains.sort_by(|a, b| b.total_cmp(a));
    let cut = (s.improved > 0).then(|| gains.get(s.improved as usize - 1).or(gains.last()).copied()).flatten();
    let mut out: Vec<Entry> = Vec::new();
    for (i, c) in counties.iter().enumerate() {
        if c.rank.is_none() {
            continue;
        }
        let by_tier = s.leading_tier > 0 && c.tier.is_some_and(|t| t <= s.leading_tier);
        let by_top = s.leading_top > 0 && c.rank.is_some_and(|r| r <= s.leading_top);
        let leading = by_tier || by_top;
        let improved = cut.is_some_and(|cut| gain(c).is_some_and(|g| g >= cut && g > 0.0));
        if leading || improved {
            let robust = leading
                .then(|| {
                    let tier_ok = c.same_tier.map(|x| x >= super::funding::ROBUST);
                    let top_ok = c.p95.map(|p| p <= s.leading_top);
                    match (by_tier, by_top) {
                        (true, true) => tier_ok.zip(top_ok).map(|(a, b)| a || b),
                        (true, false) => tier_ok,
                        _ => top_ok,
                    }
                })
                .flatten();
            out.push(Entry { county: i, verdict: Verdict::Advanced, leading, improved, robust });
        } else if s.fell_back > 0 && c.rank_change.is_some_and(|d| d <= -(s.fell_back as i32)) {
            out.push(Entry { county: i, verdict: Verdict::FellBack, leading: false, improved: false, robust: None });
        }
    }
    let key = |e: &Entry| {
        let c = &counties[e.county];
        match e.verdict {
            Verdict::Advanced => (0, c.rank.unwrap_or(u32::MAX) as i64),
            Verdict::FellBack => (1, i64::from(c.rank_change.unwrap_or(0))),
        }
    };
    out.sort_by_key(|e| (key(e), e.county));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(rank: u32, change: i32, tier: u8) -> Standing {
        Standing {
            rank: Some(rank),
            rank_change: Some(change),
            index_change: Some(change as f64 / 2.0),
            tier: Some(tier),
            p95: None,
            same_tier: None,
        }
    }

    #[test]
    fn leaders_the_most_improved_with_ties_and_those_that_fell_back() {
        let counties = vec![c(1, 0, 1), c(2, -4, 1), c(3, 5, 2), c(4, 3, 2), c(5, 3, 2), c(6, -3, 3), c(7, -1, 3)];
        let s = AppraisalSettings {
            leading_tier: 1,
            leading_top: 0,
            improved: 2,
            improved_by: ImprovedBy::Rank,
            fell_back: 3,
            year: None,
        };
        let got: Vec<(usize, Verdict, bool, bool)> =
            appraise(&s, &counties).iter().map(|e| (e.county, e.verdict, e.leading, e.improved)).collect();
        // Tier 1: counties 0 and 1 (1 fell four places but leads); most improved: +5, and +3 twice (a tie at the second).
        assert_eq!(
            got,
            [
                (0, Verdict::Advanced, true, false),
                (1, Verdict::Advanced, true, false),
                (2, Verdict::Advanced, false, true),
                (3, Verdict::Advanced, false, true),
                (4, Verdict::Advanced, false, true),
                (5, Verdict::FellBack, false, false),
            ]
        );
    }

    #[test]
    fn a_lead_is_robust_when_the_tier_or_the_interval_holds() {
        let mut a = c(1, 0, 1);
        a.same_tier = Some(0.95);
        let mut b = c(2, 0, 1);
        b.same_tier = Some(0.6);
        let s = AppraisalSettings {
            leading_tier: 1,
            leading_top: 0,
            improved: 0,
            improved_by: ImprovedBy::Rank,
            fell_back: 0,
            year: None,
        };
        let r: Vec<Option<bool>> = appraise(&s, &[a.clone(), b.clone()]).iter().map(|e| e.robust).collect();
        assert_eq!(r, [Some(true), Some(false)]);
        // Top 3 by rank: b's interval reaches 5.
        let (mut a, mut b) = (a, b);
        a.p95 = Some(2);
        b.p95 = Some(5);
        let s = AppraisalSettings { leading_tier: 0, leading_top: 3, ..s };
        let r: Vec<Option<bool>> = appraise(&s, &[a, b]).iter().map(|e| e.robust).collect();
        assert_eq!(r, [Some(true), Some(false)]);
    }

    #[test]
    fn improvement_by_index_points() {
        let mut counties = vec![c(1, 0, 1), c(2, 0, 2), c(3, 0, 2)];
        counties[1].index_change = Some(4.0);
        counties[2].index_change = Some(-1.0);
        let s = AppraisalSettings {
            leading_tier: 0,
            leading_top: 0,
            improved: 1,
            improved_by: ImprovedBy::Index,
            fell_back: 0,
            year: None,
        };
        let got: Vec<usize> = appraise(&s, &counties).iter().map(|e| e.county).collect();
        assert_eq!(got, [1]);
    }
}
