//! The overview's context: the ranking, tier and group counts, leaders per dimension, movers,
//! target summaries and the sections per prefecture and province.

use std::collections::BTreeMap;

use super::context::Year;
use super::model::*;
use crate::results::derive;

pub fn overview(y: &Year<'_>, counties: &[CountyReport]) -> Overview {
    let rows: Vec<RankLine> = y.rows.iter().map(|r| y.rank_line(r)).collect();
    let leaders = y
        .dimensions
        .iter()
        .map(|d| Leader {
            dimension: d.name.clone(),
            counties: derive::leaders(&y.rows, &d.code, 3)
                .iter()
                .map(|r| (y.place(&r.region_code).name, r.scores.get(&d.code)))
                .collect(),
        })
        .collect();
    let (up, down) = derive::movers(&y.rows, 5);
    Overview {
        average: y.field.average(y.year),
        tiers: derive::tier_counts(&y.rows),
        ratio_groups: derive::group_counts(&y.rows),
        leaders,
        movers_up: up.iter().map(|r| y.rank_line(r)).collect(),
        movers_down: down.iter().map(|r| y.rank_line(r)).collect(),
        targets: target_summaries(y, counties),
        funding: super::evaluation::funding_section(y),
        appraisal: super::evaluation::appraisal_section(y),
        documents: documents(y, counties),
        regional: regional(y),
        prefectures: sections(&rows, |r| (r.place.prefecture_code.clone(), r.place.prefecture.clone())),
        provinces: sections(&rows, |r| (r.place.province.clone(), r.place.province.clone())),
        province_reports: Vec::new(),
        peer_groups: if y.group_name.is_some() {
            let grouped: Vec<RankLine> = rows.iter().filter(|r| r.standing.peer_group.is_some()).cloned().collect();
            let mut s = sections(&grouped, |r| {
                let g = r.standing.peer_group.clone().unwrap_or_default();
                (g.clone(), g)
            });
            if s.is_empty() && !grouped.is_empty() {
                // One group only still gets its section: the group ranks are what it shows.
                let name = grouped[0].standing.peer_group.clone().unwrap_or_default();
                s.push(AreaSection {
                    code: name.clone(),
                    name,
                    average: derive::mean(grouped.iter().filter_map(|r| r.standing.index)),
                    rows: grouped,
                });
            }
            s
        } else {
            Vec::new()
        },
        missing: y.t.missing.iter().map(|m| y.place(y.registry.current_code(&m.region_code))).collect(),
        missing_treatment: if y.t.method.iter().any(|m| m.key == "compute.imputation" && m.value != "none") {
            "imputed"
        } else {
            "unranked"
        },
        sources: y.sources(),
        audit: audit(y),
        rows,
    }
}

/// With several provinces, the sections per prefecture leave the overview for one report per
/// province (`[report] province_reports`); the overview names their files.
pub fn split_provinces(overview: &mut Overview) -> Vec<ProvinceReport> {
    if overview.provinces.is_empty() {
        return Vec::new();
    }
    let mut prefectures = std::mem::take(&mut overview.prefectures);
    let reports: Vec<ProvinceReport> = overview
        .provinces
        .iter()
        .map(|p| {
            let (mine, rest) = std::mem::take(&mut prefectures)
                .into_iter()
                .partition(|a: &AreaSection| a.rows[0].place.province == p.name);
            prefectures = rest;
            ProvinceReport {
                stem: super::province_stem(&p.name),
                name: p.name.clone(),
                counties: p.rows.len(),
                average: p.average,
                prefectures: mine,
            }
        })
        .collect();
    overview.province_reports = reports.iter().map(|r| format!("{}.pdf", r.stem)).collect();
    reports
}

/// For each target that applies to some county: counts per status and the lagging counties.
fn target_summaries(y: &Year<'_>, counties: &[CountyReport]) -> Vec<TargetSummary> {
    let mut out: Vec<TargetSummary> = Vec::new();
    for tg in y.targets {
        // Rank and tier targets are on the index, not an indicator.
        if y.catalog.indicator(&tg.indicator).is_none() && !tg.on_index() {
            continue;
        }
        // In report order, so that the lagging counties are listed by rank.
        let rows: Vec<(&CountyReport, &TargetLine)> =
            counties.iter().filter_map(|c| Some((c, c.targets.iter().find(|l| l.id == tg.id)?))).collect();
        if rows.is_empty() {
            continue;
        }
        out.push(TargetSummary {
            id: tg.id.clone(),
            indicator: y.name(&tg.indicator),
            kind: tg.kind,
            end: tg.end,
            source: tg.source.clone(),
            document: tg.document().to_string(),
            counties: rows.len(),
            status: derive::status_counts(&rows.iter().map(|x| x.1.status).collect::<Vec<_>>()),
            lagging: rows.iter().filter(|(_, l)| l.status.lagging()).map(|(c, _)| c.county.name.clone()).collect(),
        });
    }
    out.sort_by(|a, b| (a.end, &a.id).cmp(&(b.end, &b.id)));
    out
}

/// Per policy document: how its targets fare across counties and regions.
fn documents(y: &Year<'_>, counties: &[CountyReport]) -> Vec<DocumentSummary> {
    let mut out: Vec<DocumentSummary> = Vec::new();
    for t in y.targets {
        let doc = t.document();
        let mut statuses: Vec<crate::codes::Status> =
            counties.iter().flat_map(|c| c.targets.iter().filter(|l| l.id == t.id).map(|l| l.status)).collect();
        statuses.extend(y.t.attainment_regions.iter().filter(|r| r.target_id == t.id).map(|r| r.status));
        if statuses.is_empty() {
            continue;
        }
        match out.iter_mut().find(|d| d.document == doc) {
            Some(d) => {
                d.targets += 1;
                d.evaluations += statuses.len();
                for (s, n) in derive::status_counts(&statuses) {
                    if let Some(x) = d.status.iter_mut().find(|x| x.0 == s) {
                        x.1 += n;
                    }
                }
            }
            None => out.push(DocumentSummary {
                document: doc.to_string(),
                targets: 1,
                evaluations: statuses.len(),
                status: derive::status_counts(&statuses),
            }),
        }
    }
    out
}

/// The targets of regions as a whole, in the order of the targets file.
fn regional(y: &Year<'_>) -> Vec<RegionalLine> {
    y.targets
        .iter()
        .flat_map(|t| y.t.attainment_regions.iter().filter(move |r| r.target_id == t.id).map(move |r| (t, r)))
        .map(|(t, r)| {
            let ind = y.catalog.indicator(&t.indicator);
            let region = y
                .registry
                .regions
                .iter()
                .find_map(|x| {
                    (x.prefecture_code == r.region_code)
                        .then(|| x.prefecture_name.clone())
                        .or_else(|| (x.province_code == r.region_code).then(|| x.province_name.clone()))
                })
                .unwrap_or_else(|| y.place(&r.region_code).name);
            RegionalLine {
                id: t.id.clone(),
                region,
                indicator: y.name(&t.indicator),
                unit: ind.map_or_else(String::new, |i| i.unit.clone()),
                ratio: ind.is_some_and(|i| i.kind == crate::catalog::Kind::Ratio),
                kind: t.kind,
                measure: r.measure,
                op: t.op.map(crate::targets::Op::as_str),
                value: t.value,
                every_year: false,
                min: t.min,
                max: t.max,
                share: t.share,
                start: t.start,
                end: t.end,
                source: t.source.clone(),
                document: t.document().to_string(),
                counties: r.counties,
                counties_meeting: r.counties_meeting,
                eval_year: r.eval_year,
                actual: r.actual,
                target: r.target,
                attainment: r.attainment,
                base_value: r.base_value,
                baseline: r.baseline,
                status: r.status,
                note: r.note.clone(),
            }
        })
        .collect()
}

/// The ranking split by area (code, name); empty when every county is in one area.
fn sections(rows: &[RankLine], key: impl Fn(&RankLine) -> (String, String)) -> Vec<AreaSection> {
    let mut by: BTreeMap<(String, String), Vec<RankLine>> = BTreeMap::new();
    for r in rows {
        by.entry(key(r)).or_default().push(r.clone());
    }
    if by.len() < 2 {
        return Vec::new();
    }
    by.into_iter()
        .map(|((code, name), rows)| AreaSection {
            code,
            name,
            average: derive::mean(rows.iter().filter_map(|r| r.standing.index)),
            rows,
        })
        .collect()
}

/// The audit appendix: per dimension alpha and first component, the heat map, the findings.
fn audit(y: &Year<'_>) -> AuditSection {
    use crate::codes::Relation;
    let t = y.t;
    let year = t.audit_alpha.first().and_then(|a| a.year);
    let dimensions = y
        .dimensions
        .iter()
        .map(|d| {
            let alpha = t.audit_alpha.iter().find(|a| a.node == d.code);
            let first = t.audit_pca.iter().find(|p| p.node == d.code && p.component == 1);
            AuditDimension {
                name: d.name.clone(),
                indicators: alpha.map_or(0, |a| a.children),
                alpha: alpha.and_then(|a| a.alpha),
                first_component: first.map(|p| p.variance_share),
                flagged: t.audit_flags.iter().any(|f| f.node == d.code && f.indicator.is_none()),
            }
        })
        .collect();
    let mut columns: Vec<String> = y.dimensions.iter().map(|d| d.name.clone()).collect();
    columns.push(y.name(&y.catalog.index.code));
    let targets: Vec<&str> =
        y.dimensions.iter().map(|d| d.code.as_str()).chain([y.catalog.index.code.as_str()]).collect();
    let rows = y
        .catalog
        .indicators
        .iter()
        .filter(|i| i.scored)
        .map(|i| {
            let r = |node: &str| {
                t.audit_correlation
                    .iter()
                    .find(|c| c.indicator == i.code && c.against == node && c.relation != Relation::Pair)
                    .map(|c| c.r)
            };
            HeatRow {
                indicator: y.name(&i.code),
                values: targets.iter().map(|n| r(n)).collect(),
                own: y.catalog.dimension_of(&i.code).and_then(|d| targets.iter().position(|n| *n == d.code)),
            }
        })
        .collect();
    let findings = t
        .audit_flags
        .iter()
        .map(|f| Finding {
            flag: f.flag,
            node: y.name(&f.node),
            indicator: f.indicator.as_deref().map(|i| y.name(i)),
            other: f.other.as_deref().map(|i| y.name(i)),
            value: f.value,
            threshold: f.threshold,
            value_percent: f.value * 100.0,
            threshold_percent: f.threshold * 100.0,
        })
        .collect();
    AuditSection { year, dimensions, columns, rows, findings }
}
