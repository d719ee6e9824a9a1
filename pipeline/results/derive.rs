//! Figures derived from result rows for readers: the year's field and its averages, ranks of raw
//! values, strongest and weakest dimension, movers, leaders, tier and group counts, target
//! status counts. Pure; the reports and `explain` call the same functions, so they agree.

use std::collections::{BTreeMap, HashMap};

use super::{IndexRow, RatioGroup, Status};
use crate::tables::Keyed;

pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (s, n) = values.into_iter().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// Competition ranks (1 = best, ties share the minimum) of `values`, higher is better; missing
/// values get no rank; values equal to `RANK_DECIMALS` decimals are ties.
pub fn competition_ranks(values: &[Option<f64>]) -> Vec<Option<u32>> {
    let rounded = |v: f64| crate::text::for_ranking(v);
    let mut order: Vec<(usize, f64)> =
        values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, rounded(v)))).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = vec![None; values.len()];
    let mut rank = 0u32;
    let mut prev = f64::NAN;
    for (pos, (i, v)) in order.iter().enumerate() {
        if pos == 0 || *v != prev {
            rank = pos as u32 + 1;
            prev = *v;
        }
        out[*i] = Some(rank);
    }
    out
}

/// Counties and averages of the index per year, overall and per prefecture.
#[derive(Debug, Default)]
pub struct Field {
    /// (counties with an index, their mean index) per year.
    years: BTreeMap<i32, (usize, Option<f64>)>,
    /// (counties ranked, mean index) per year and prefecture code.
    prefectures: HashMap<(i32, String), (usize, Option<f64>)>,
    /// The same per year and peer group.
    groups: HashMap<(i32, String), (usize, Option<f64>)>,
}

impl Field {
    pub fn of(rows: &[IndexRow]) -> Field {
        let mut all: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
        let mut pref: HashMap<(i32, String), (usize, Vec<f64>)> = HashMap::new();
        let mut groups: HashMap<(i32, String), (usize, Vec<f64>)> = HashMap::new();
        for r in rows {
            let add = |a: &mut (usize, Vec<f64>)| {
                if let Some(v) = r.index {
                    a.1.push(v);
                }
                if r.rank.is_some() {
                    a.0 += 1;
                }
            };
            add(pref.entry((r.year, r.prefecture_code.to_string())).or_default());
            if let Some(g) = &r.peer_group {
                add(groups.entry((r.year, g.clone())).or_default());
            }
            if let Some(v) = r.index {
                all.entry(r.year).or_default().push(v);
            }
        }
        let stats =
            |m: HashMap<(i32, String), (usize, Vec<f64>)>| m.into_iter().map(|(k, (n, v))| (k, (n, mean(v)))).collect();
        Field {
            years: all.into_iter().map(|(y, v)| (y, (v.len(), mean(v)))).collect(),
            prefectures: stats(pref),
            groups: stats(groups),
        }
    }

    /// Counties with an index in `year`.
    pub fn counties(&self, year: i32) -> usize {
        self.years.get(&year).map_or(0, |x| x.0)
    }

    /// The average index of every county in `year` (the CASTED line).
    pub fn average(&self, year: i32) -> Option<f64> {
        self.years.get(&year).and_then(|x| x.1)
    }

    /// Counties ranked in a prefecture in `year`.
    pub fn prefecture_counties(&self, year: i32, prefecture: &str) -> usize {
        self.prefectures.get(&(year, prefecture.to_string())).map_or(0, |x| x.0)
    }

    pub fn prefecture_average(&self, year: i32, prefecture: &str) -> Option<f64> {
        self.prefectures.get(&(year, prefecture.to_string())).and_then(|x| x.1)
    }

    /// Counties ranked in a peer group in `year`, and their average index.
    pub fn group_counties(&self, year: i32, group: &str) -> usize {
        self.groups.get(&(year, group.to_string())).map_or(0, |x| x.0)
    }

    pub fn group_average(&self, year: i32, group: &str) -> Option<f64> {
        self.groups.get(&(year, group.to_string())).and_then(|x| x.1)
    }
}

/// The strongest and the weakest of a county's dimensions, as positions in `ranks` (its rank on
/// each dimension among all counties, in catalog order): the best rank, and the worst when at
/// least two dimensions are ranked. Ties go to the dimension listed first.
pub fn strongest_and_weakest(ranks: &[Option<u32>]) -> (Option<usize>, Option<usize>) {
    let mut ranked: Vec<(usize, u32)> = ranks.iter().enumerate().filter_map(|(i, r)| r.map(|r| (i, r))).collect();
    ranked.sort_by_key(|&(_, r)| r);
    let strongest = ranked.first().map(|x| x.0);
    let weakest = (ranked.len() > 1).then(|| ranked.last().map(|x| x.0)).flatten();
    (strongest, weakest)
}

/// The `n` counties that rose most and the `n` that fell most on last year (by rank change; ties
/// by code), best climber and worst faller first. Counties that kept their rank are in neither.
pub fn movers<'a>(rows: &[&'a IndexRow], n: usize) -> (Vec<&'a IndexRow>, Vec<&'a IndexRow>) {
    let mut moved: Vec<&IndexRow> = rows.iter().copied().filter(|r| r.rank_change.is_some_and(|c| c != 0)).collect();
    moved.sort_by(|a, b| b.rank_change.cmp(&a.rank_change).then(a.region_code.cmp(&b.region_code)));
    let up = moved.iter().copied().filter(|r| r.rank_change > Some(0)).take(n).collect();
    let down = moved.iter().rev().copied().filter(|r| r.rank_change < Some(0)).take(n).collect();
    (up, down)
}

/// The `n` counties with the highest score on a dimension (ties by code).
pub fn leaders<'a>(rows: &[&'a IndexRow], dimension: &str, n: usize) -> Vec<&'a IndexRow> {
    let mut best: Vec<(&IndexRow, f64)> = rows.iter().filter_map(|r| Some((*r, r.scores.get(dimension)?))).collect();
    best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.region_code.cmp(&b.0.region_code)));
    best.into_iter().take(n).map(|x| x.0).collect()
}

/// Counties per CASTED tier 1–3, empty tiers included: "tier 2: 0" is a finding.
pub fn tier_counts(rows: &[&IndexRow]) -> Vec<(u32, usize)> {
    (1..=3).map(|t| (t, rows.iter().filter(|r| r.casted_tier == Some(t)).count())).collect()
}

/// Counties per ratio group, every group in order from leader to emerging.
pub fn group_counts(rows: &[&IndexRow]) -> Vec<(RatioGroup, usize)> {
    RatioGroup::ALL.iter().map(|&g| (g, rows.iter().filter(|r| r.ratio_group == Some(g)).count())).collect()
}

/// How many of `statuses` are each status, every status in order from achieved to no data.
pub fn status_counts(statuses: &[Status]) -> Vec<(Status, usize)> {
    Status::ALL.iter().map(|&s| (s, statuses.iter().filter(|&&x| x == s).count())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Wide;

    /// A county-year row with what the derivations look at.
    fn row(code: &str, year: i32, index: Option<f64>, rank_change: Option<i32>, tier: Option<u32>) -> IndexRow {
        IndexRow {
            region_code: code.into(),
            year,
            region_name: format!("县{code}").into(),
            prefecture_code: (code[..4].to_string() + "00").into(),
            prefecture_name: "".into(),
            province_code: (code[..2].to_string() + "0000").into(),
            province_name: "".into(),
            index,
            rank: index.map(|_| 1),
            rank_prefecture: None,
            rank_province: None,
            peer_group: None,
            rank_peer: None,
            rank_change,
            casted_tier: tier,
            ratio_to_average: None,
            ratio_group: None,
            indicators_present: 0,
            scores: Wide(vec![("env".into(), index.map(|v| v / 2.0)), ("out".into(), index.map(|v| 100.0 - v))]),
        }
    }

    #[test]
    fn ranks_share_the_minimum_on_ties_and_skip_missing() {
        let r = competition_ranks(&[Some(3.0), None, Some(5.0), Some(3.0), Some(1.0)]);
        assert_eq!(r, vec![Some(2), None, Some(1), Some(2), Some(4)]);
    }

    #[test]
    fn strongest_is_the_best_rank_and_weakest_the_worst_of_two_or_more() {
        assert_eq!(strongest_and_weakest(&[Some(5), Some(2), None, Some(9)]), (Some(1), Some(3)));
        // Ties: the dimension listed first is the strongest, the one listed last the weakest.
        assert_eq!(strongest_and_weakest(&[Some(3), Some(3), Some(3)]), (Some(0), Some(2)));
        assert_eq!(strongest_and_weakest(&[None, Some(4)]), (Some(1), None), "one ranked dimension: no weakest");
        assert_eq!(strongest_and_weakest(&[None, None]), (None, None));
    }

    #[test]
    fn movers_rank_by_change_and_leave_out_the_unchanged() {
        let rows = [
            row("420801", 2024, Some(50.0), Some(3), None),
            row("420802", 2024, Some(40.0), Some(-2), None),
            row("420803", 2024, Some(30.0), Some(0), None),
            row("420804", 2024, Some(20.0), Some(3), None),
            row("420805", 2024, Some(10.0), Some(-5), None),
            row("420806", 2024, Some(10.0), None, None),
        ];
        let refs: Vec<&IndexRow> = rows.iter().collect();
        let (up, down) = movers(&refs, 5);
        let codes = |v: &[&IndexRow]| v.iter().map(|r| r.region_code.to_string()).collect::<Vec<_>>();
        assert_eq!(codes(&up), ["420801", "420804"], "ties by code");
        assert_eq!(codes(&down), ["420805", "420802"], "the biggest fall first");
        let (up, _) = movers(&refs, 1);
        assert_eq!(codes(&up), ["420801"]);
    }

    #[test]
    fn leaders_by_dimension_score_and_counts_include_empty_classes() {
        let rows = [
            row("420801", 2024, Some(80.0), None, Some(1)),
            row("420802", 2024, Some(60.0), None, Some(1)),
            row("420803", 2024, Some(30.0), None, Some(3)),
            row("420804", 2024, None, None, None),
        ];
        let refs: Vec<&IndexRow> = rows.iter().collect();
        let codes = |v: Vec<&IndexRow>| v.iter().map(|r| r.region_code.to_string()).collect::<Vec<_>>();
        assert_eq!(codes(leaders(&refs, "env", 2)), ["420801", "420802"]);
        assert_eq!(codes(leaders(&refs, "out", 3)), ["420803", "420802", "420801"], "no score, no place");
        assert_eq!(tier_counts(&refs), [(1, 2), (2, 0), (3, 1)]);
        assert_eq!(group_counts(&refs).iter().map(|x| x.1).sum::<usize>(), 0);
        assert_eq!(group_counts(&refs).len(), 4);
    }

    #[test]
    fn the_field_counts_and_averages_per_year_and_prefecture() {
        let rows = [
            row("420801", 2023, Some(40.0), None, None),
            row("420801", 2024, Some(50.0), None, None),
            row("420802", 2024, Some(70.0), None, None),
            row("420901", 2024, Some(30.0), None, None),
            row("420902", 2024, None, None, None),
        ];
        let f = Field::of(&rows);
        assert_eq!((f.counties(2024), f.average(2024)), (3, Some(50.0)));
        assert_eq!((f.counties(2023), f.average(2023)), (1, Some(40.0)));
        assert_eq!(f.prefecture_counties(2024, "420800"), 2);
        assert_eq!(f.prefecture_average(2024, "420800"), Some(60.0));
        assert_eq!(f.prefecture_counties(2024, "420900"), 1, "a county without an index is not ranked");
        assert_eq!(f.average(2020), None);
    }

    #[test]
    fn status_counts_list_every_status() {
        let counts = status_counts(&[Status::AtRisk, Status::Achieved, Status::AtRisk]);
        assert_eq!(
            counts,
            [
                (Status::Achieved, 1),
                (Status::OnTrack, 0),
                (Status::AtRisk, 2),
                (Status::OffTrack, 0),
                (Status::Missed, 0),
                (Status::NoData, 0)
            ]
        );
    }
}
