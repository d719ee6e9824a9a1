//! The evaluation turned into money and lists: the 绩效拨款 allocation of the evaluation year (as
//! published and per sensitivity replication) and the 考评 rows.

use super::index::{IndexResult, Panel};
use super::{appraisal, funding, sensitivity, ComputeError};

/// The evaluation year of `[funding]` or `[appraisal]`: its position among the panel's years.
fn evaluation_year(section: &str, year: Option<i32>, years: &[i32]) -> Result<usize, ComputeError> {
    match year {
        None => years.len().checked_sub(1).ok_or_else(|| ComputeError::Evaluation(format!("[{section}] no years"))),
        Some(y) => years.iter().position(|&x| x == y).ok_or_else(|| {
            ComputeError::Evaluation(format!(
                "[{section}] year = {y} is not in the data ({}–{})",
                years.first().unwrap_or(&0),
                years.last().unwrap_or(&0)
            ))
        }),
    }
}

/// County `u`'s standing in `year` (rows `year · n + u`), with its index and rank as many years
/// before as each part looks back: as published, or in one replication.
fn standing(
    f: &funding::FundingSettings,
    (year, u, n): (usize, usize, usize),
    index: &[Option<f64>],
    rank: &[Option<u32>],
    tier: &[Option<u8>],
) -> funding::Standing {
    let row = year * n + u;
    let before = f
        .parts
        .iter()
        .map(|p| {
            let back = if p.kind == funding::PartKind::Index { 0 } else { p.years as usize };
            (year >= back && back > 0).then(|| (year - back) * n + u).map_or((None, None), |b| (index[b], rank[b]))
        })
        .collect();
    funding::Standing { index: index[row], rank: rank[row], tier: tier[row], before }
}

/// The funding allocation of the evaluation year, as published and per replication.
pub(super) struct FundingPlan<'a> {
    settings: &'a funding::FundingSettings,
    year: usize,
    /// Counties of the panel (rows are year × county).
    n: usize,
    /// Panel units with an index in the year, and their standings.
    units: Vec<usize>,
    published: Vec<funding::Standing>,
    shares: Vec<funding::Share>,
}

impl<'a> FundingPlan<'a> {
    pub(super) fn new(
        f: &'a funding::FundingSettings,
        panel: &Panel,
        index: &IndexResult,
        index_code: &str,
    ) -> Result<Self, ComputeError> {
        let year = evaluation_year("funding", f.year, &panel.years)?;
        let tiers = index.casted_tier.as_slice();
        let (units, published) = Self::standings(f, panel, year, &index.scores[index_code], &index.rank, tiers);
        let (shares, remarks) =
            funding::allocate(f, &published).map_err(|e| ComputeError::Evaluation(e.to_string()))?;
        if remarks.fixed_scaled {
            return Err(ComputeError::Evaluation(format!(
                "[funding] base and tier awards come to more than the budget {} in {}: lower them or raise the budget",
                f.budget, panel.years[year]
            )));
        }
        Ok(FundingPlan { settings: f, year, n: panel.units.len(), units, published, shares })
    }

    fn standings(
        f: &funding::FundingSettings,
        panel: &Panel,
        year: usize,
        index: &[Option<f64>],
        rank: &[Option<u32>],
        tier: &[Option<u8>],
    ) -> (Vec<usize>, Vec<funding::Standing>) {
        let n = panel.units.len();
        (0..n)
            .filter(|&u| index[panel.row(year, u)].is_some())
            .map(|u| (u, standing(f, (year, u, n), index, rank, tier)))
            .unzip()
    }

    /// One replication's outcome for the published counties (a county without an index in the
    /// replication scores nothing there).
    pub(super) fn replicate(&self, r: &sensitivity::Replication<'_>) -> Vec<funding::Outcome> {
        let run: Vec<funding::Standing> = self
            .units
            .iter()
            .map(|&u| standing(self.settings, (self.year, u, self.n), r.index, r.rank, r.tier))
            .collect();
        funding::replicate(self.settings, &self.published, &run)
    }

    /// The `funding` rows: the published allocation with its spread over `runs`.
    pub(super) fn rows(
        &self,
        panel: &Panel,
        index: &IndexResult,
        index_code: &str,
        runs: &[Vec<funding::Outcome>],
    ) -> Vec<crate::results::FundingRow> {
        let spreads = (!runs.is_empty()).then(|| funding::spreads(self.settings, runs, self.units.len()));
        let part = |s: &funding::Share, kind: funding::PartKind| {
            self.settings.parts.iter().position(|p| p.kind == kind).map(|k| s.parts[k])
        };
        let change_years = self
            .settings
            .parts
            .iter()
            .find(|p| p.kind == funding::PartKind::Improvement)
            .map_or(1, |p| p.years as usize);
        let scores = &index.scores[index_code];
        self.units
            .iter()
            .enumerate()
            .map(|(i, &u)| {
                let row = panel.row(self.year, u);
                let unit = &panel.units[u];
                let s = &self.shares[i];
                let sp = spreads.as_ref().map(|v| &v[i]);
                let before =
                    (self.year >= change_years).then(|| scores[panel.row(self.year - change_years, u)]).flatten();
                crate::results::FundingRow {
                    year: panel.years[self.year],
                    region_code: unit.code.clone(),
                    region_name: unit.name.clone(),
                    prefecture_name: unit.prefecture_name.clone(),
                    index: scores[row],
                    index_change: scores[row].zip(before).map(|(a, b)| a - b),
                    rank: index.rank[row],
                    rank_change: index.rank_change[row],
                    casted_tier: index.casted_tier[row].map(u32::from),
                    base_amount: s.base,
                    tier_award: s.tier_award,
                    index_part: part(s, funding::PartKind::Index),
                    improvement_part: part(s, funding::PartKind::Improvement),
                    rank_gain_part: part(s, funding::PartKind::RankGain),
                    adjustment: s.adjustment,
                    amount: s.amount,
                    share_of_budget: s.amount / self.settings.budget,
                    median: sp.map(|x| x.median).filter(|x| x.is_finite()),
                    p05: sp.map(|x| x.p05).filter(|x| x.is_finite()),
                    p95: sp.map(|x| x.p95).filter(|x| x.is_finite()),
                    award_kept: sp.and_then(|x| x.award_kept),
                    above_kept: sp.and_then(|x| x.above_kept),
                    robust: sp.and_then(|x| x.robust()),
                    runs: runs.len() as u32,
                }
            })
            .collect()
    }
}

/// The `appraisal` rows of the evaluation year.
pub(super) fn appraisal_rows(
    s: &appraisal::AppraisalSettings,
    panel: &Panel,
    index: &IndexResult,
    index_code: &str,
    sensitivity: Option<&sensitivity::Analysis>,
) -> Result<Vec<crate::results::AppraisalRow>, ComputeError> {
    let year = evaluation_year("appraisal", s.year, &panel.years)?;
    let scores = &index.scores[index_code];
    let n = panel.units.len();
    let standings: Vec<appraisal::Standing> = (0..n)
        .map(|u| {
            let row = panel.row(year, u);
            let before = (year > 0).then(|| scores[panel.row(year - 1, u)]).flatten();
            let iv = sensitivity.map(|a| &a.intervals[row]);
            appraisal::Standing {
                rank: index.rank[row],
                rank_change: index.rank_change[row],
                index_change: scores[row].zip(before).map(|(a, b)| a - b),
                tier: index.casted_tier[row],
                p95: iv.and_then(|iv| iv.p95),
                same_tier: iv.and_then(|iv| iv.same_tier),
            }
        })
        .collect();
    Ok(appraisal::appraise(s, &standings)
        .into_iter()
        .map(|e| {
            let (u, c) = (e.county, &standings[e.county]);
            let unit = &panel.units[u];
            crate::results::AppraisalRow {
                year: panel.years[year],
                region_code: unit.code.clone(),
                region_name: unit.name.clone(),
                prefecture_name: unit.prefecture_name.clone(),
                verdict: e.verdict,
                leading: e.leading,
                improved: e.improved,
                index: scores[panel.row(year, u)],
                index_change: c.index_change,
                rank: c.rank,
                rank_change: c.rank_change,
                casted_tier: c.tier.map(u32::from),
                robust: e.robust,
            }
        })
        .collect())
}
