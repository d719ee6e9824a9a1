//! A target's checks against the catalog and the registry: its indicator and unit, its scope,
//! the fields its kind needs; every problem named with the target it is in.

use std::path::Path;

use super::*;

/// Check every target, naming each by `place(i)` (its id, or its workbook row).
pub(super) fn check_all(
    targets: Vec<Target>,
    path: &Path,
    catalog: &Catalog,
    registry: &Registry,
    place: impl Fn(usize) -> String,
) -> Result<Vec<Target>, TargetsError> {
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, mut t) in targets.into_iter().enumerate() {
        let at = place(i);
        let mut bad = |m: String| problems.push(format!("{at}: {m}"));
        if !ids.insert(t.id.clone()) {
            bad(format!("id \"{}\" is used twice", t.id));
        }
        if check(&mut t, catalog, registry, &mut bad) {
            out.push(t);
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(TargetsError::Invalid { path: path.to_owned(), problems })
    }
}

/// Check one target and convert its values to the catalog unit; false when it cannot be used.
fn check(t: &mut Target, catalog: &Catalog, registry: &Registry, bad: &mut dyn FnMut(String)) -> bool {
    // A scope by name, as a workbook writes it: a county, a prefecture or a province.
    if registry.within(&t.scope).next().is_none() {
        let by_area = registry.regions.iter().find_map(|r| {
            (r.prefecture_name == t.scope)
                .then(|| r.prefecture_code.clone())
                .or_else(|| (r.province_name == t.scope).then(|| r.province_code.clone()))
        });
        let by_county = match registry.lookup(&t.scope, None) {
            crate::regions::Lookup::Found(r) | crate::regions::Lookup::NotValid(r) => Some(r.code.clone()),
            _ => None,
        };
        if let Some(code) = by_area.or(by_county) {
            t.scope = code;
        }
    }
    if registry.within(&t.scope).next().is_none() {
        bad(format!("scope {} is not a county, prefecture or province in the registry", t.scope));
    }
    if t.start > t.end
        || (t.start == t.end && !matches!(t.kind, TargetKind::Level | TargetKind::Rank | TargetKind::Tier))
    {
        bad(format!("start {} must be before end {}", t.start, t.end));
    }
    if t.on_index() {
        if !t.indicator.is_empty() && t.indicator != catalog.index.code {
            bad(format!("a {} target is on the index: leave out indicator \"{}\"", t.kind, t.indicator));
        }
        t.indicator = catalog.index.code.clone();
        match (t.kind, t.value, t.group) {
            (TargetKind::Rank, Some(v), _) if v >= 1.0 && v.fract() == 0.0 => {}
            (TargetKind::Rank, _, _) => bad("a rank target needs value = N (within the top N)".into()),
            (TargetKind::Tier, Some(v), None) if [1.0, 2.0, 3.0].contains(&v) => {}
            (TargetKind::Tier, None, Some(_)) => {}
            (TargetKind::Tier, _, _) => bad("a tier target needs value = 1, 2 or 3 (CASTED tier), or group".into()),
            _ => {}
        }
        if t.kind == TargetKind::Tier && t.within.is_some() {
            bad("tiers are within the scope: leave out within".into());
        }
        if t.region.is_some() {
            bad(format!("a {} target is per county: leave out region", t.kind));
        }
        return true;
    }
    // The indicator by code, or by name as a workbook writes it.
    let Some(ind) = catalog.indicator(&t.indicator).or_else(|| catalog.indicator_by_header(&t.indicator)) else {
        bad(format!("unknown indicator \"{}\"", t.indicator));
        return false;
    };
    t.indicator = ind.code.clone();
    if t.within.is_some() || t.group.is_some() || t.every_year {
        bad(format!("within, group and every_year belong to rank and tier targets, not {}", t.kind));
    }
    if t.kind == TargetKind::Share && t.share.is_none_or(|s| !(0.0..=100.0).contains(&s)) {
        bad("a share target needs share = the percent of counties (0–100)".into());
    }
    if t.kind != TargetKind::Share && t.share.is_some() {
        bad(format!("share belongs to share targets, not {}", t.kind));
    }
    if !t.milestones.is_empty() && t.kind != TargetKind::Level {
        bad("milestones belong to level targets".into());
    }
    let unit = t.unit.clone().unwrap_or_else(|| ind.unit.clone());
    let factor = match catalog.conversion(&unit, &ind.unit) {
        Ok(f) => Some(f),
        Err(e) => {
            bad(format!("{e}"));
            None
        }
    };
    for (y, v) in t.milestones.iter_mut() {
        match y.trim().parse::<i32>() {
            Ok(year) if (t.start..=t.end).contains(&year) => {
                if let Some(f) = factor {
                    *v = convert(*v, f);
                }
            }
            _ => bad(format!("milestone \"{y}\" is not a year from {} to {}", t.start, t.end)),
        }
    }
    if let (Some(b), Some(f)) = (t.baseline, factor) {
        t.baseline = Some(convert(b, f));
    }
    match t.kind {
        TargetKind::Growth => {
            match (t.min, t.max) {
                (None, None) => bad("a growth target needs min and/or max (percent a year)".into()),
                (Some(lo), Some(hi)) if lo > hi => bad(format!("growth range {lo}–{hi} is empty")),
                _ => {}
            }
            if t.value.is_some() || t.op.is_some() {
                bad("a growth target takes min/max, not value/op".into());
            }
        }
        _ => {
            if t.op.is_none() {
                bad(format!("a {} target needs op = \">=\", \">\", \"<=\" or \"<\"", t.kind));
            }
            match (t.value, factor) {
                (None, _) => bad(format!("a {} target needs a value", t.kind)),
                (Some(v), Some(f)) => {
                    t.value = Some(convert(v, f));
                    t.unit = Some(ind.unit.clone());
                }
                _ => {}
            }
            if t.min.is_some() || t.max.is_some() {
                bad(format!("a {} target takes value/op, not min/max", t.kind));
            }
        }
    }
    true
}
