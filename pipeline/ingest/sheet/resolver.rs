//! Which county a row's code and name cells mean, in its year: codes of the year, former names,
//! short forms, a name several counties share narrowed by the scope, the sheet's prefectures and
//! a prefecture the file names; and what to say when none or several fit.

use std::collections::HashMap;

use super::cells::Msg;
use crate::ingest::problem::Severity;
use crate::regions::{Change, Lookup, Region, Registry};
use crate::scope::Scope;

/// Resolves a row's county cells within a sheet.
pub(super) struct Resolver<'r> {
    pub registry: &'r Registry,
    pub scope: &'r Scope,
    /// File name, sheet name and title lines: a prefecture named there decides an ambiguous name.
    pub place_text: String,
    /// Prefectures of the rows resolved so far in this sheet.
    pub prefectures: std::collections::HashSet<String>,
    /// Cells resolved before (a long table repeats each county once per indicator).
    pub resolved: HashMap<(String, String, i32), (&'r Region, Option<Msg>, Option<usize>)>,
}

/// A prefecture's name as files write it: 荆门市 → 荆门, 恩施土家族苗族自治州 → 恩施.
fn prefecture_stem(name: &str) -> &str {
    let name = name.trim_end_matches("直辖");
    for s in ["自治州", "地区", "盟", "市", "州"] {
        if let Some(x) = name.strip_suffix(s) {
            let x = crate::regions::short_form(&format!("{x}自治县")).map_or(x.len(), |f| f.len() - "县".len());
            return &name[..x.min(name.len())];
        }
    }
    name
}

impl<'r> Resolver<'r> {
    /// One of several regions a name fits: the only one in the scope, else in a prefecture of
    /// the sheet's other rows, else in a prefecture the file or sheet names.
    fn narrow(&self, regions: Vec<&'r Region>) -> Result<&'r Region, Vec<&'r Region>> {
        let tests: [&dyn Fn(&Region) -> bool; 3] = [
            &|r| !self.scope.is_explicit() || self.scope.contains(self.registry, r),
            &|r| self.prefectures.contains(&r.prefecture_code),
            &|r| {
                let stem = prefecture_stem(&r.prefecture_name);
                stem.chars().count() >= 2 && self.place_text.contains(stem)
            },
        ];
        let mut candidates = regions;
        for test in tests {
            let kept: Vec<&Region> = candidates.iter().copied().filter(|r| test(r)).collect();
            match kept.len() {
                1 => return Ok(kept[0]),
                0 => {}
                _ => candidates = kept,
            }
        }
        Err(candidates)
    }

    fn describe(&self, cell: &str, l: Lookup<'r>, year: i32) -> Result<(&'r Region, Option<Msg>), Msg> {
        let registry = self.registry;
        match l {
            Lookup::Found(r) => Ok((r, None)),
            Lookup::Unknown => {
                let near = registry.suggest(
                    cell,
                    3,
                    |r| r.valid_in(year) && self.scope.contains(registry, r),
                    |r| self.prefectures.contains(&r.prefecture_code) || self.place_text.contains(prefecture_stem(&r.prefecture_name)),
                );
                let (hint, hint_zh) = if near.is_empty() {
                    (String::new(), "请核对区划代码或县（市、区）名称".to_string())
                } else {
                    let names: Vec<String> =
                        near.iter().map(|r| format!("{} {} ({})", r.code, r.name, r.prefecture_name)).collect();
                    let zh: Vec<String> = near.iter().map(|r| format!("{} {}（{}）", r.code, r.name, r.prefecture_name)).collect();
                    (format!("; did you mean {}?", names.join(", ")), format!("是否应为 {}？", zh.join("、")))
                };
                Err((
                    format!("unknown county \"{cell}\": not in the region registry {}{hint}", registry.path.display()),
                    format!("“{cell}”不是 {year} 年的县级行政区划：{hint_zh}"),
                ))
            }
            Lookup::Ambiguous(rs) => self.narrow(rs).map(|r| (r, None)).map_err(|rs| {
                (
                    format!(
                        "county name \"{cell}\" is ambiguous in {year}: {}; write the 6-digit code, or name the prefecture in the file name",
                        rs.iter().map(|r| format!("{} {} ({} {})", r.code, r.name, r.province_name, r.prefecture_name)).collect::<Vec<_>>().join(", ")
                    ),
                    format!(
                        "名称“{cell}”有重名：{}；请填写 6 位区划代码，或在文件名中写明所属市（州）",
                        rs.iter().map(|r| format!("{} {}（{}{}）", r.code, r.name, r.province_name, r.prefecture_name)).collect::<Vec<_>>().join("、")
                    ),
                )
            }),
            Lookup::NotValid(r) => {
                // The same unit under its code of that year (an old code after a rename, or a new
                // code written for an earlier year): stored under that code, with a warning.
                if let Some(v) = registry.code_in(&r.code, year) {
                    let note = (
                        format!(
                            "\"{cell}\" is {} {}, which in {year} is {} {}: the value is stored under {}; write {} next time",
                            r.code, r.name, v.code, v.name, v.code, v.code
                        ),
                        format!(
                            "“{cell}”是 {} {}，{year} 年的区划代码应为 {} {}：已按 {} 保存，下次请填写 {}",
                            r.code, r.name, v.code, v.name, v.code, v.code
                        ),
                    );
                    return Ok((v, Some(note)));
                }
                let (when, when_zh) = match (r.valid_from, r.valid_to) {
                    (Some(f), Some(t)) => (format!("{f}–{t}"), format!("{f}—{t} 年")),
                    (Some(f), None) => (format!("from {f}"), format!("{f} 年起")),
                    (None, Some(t)) => (format!("until {t}"), format!("{t} 年及以前")),
                    (None, None) => ("always".into(), "各年".into()),
                };
                let successors: Vec<String> = r
                    .successors()
                    .filter_map(|s| registry.get(s))
                    .map(|s| format!("{} {}", s.code, s.name))
                    .collect();
                let (hint, hint_zh) = match (r.change, r.valid_to) {
                    (Some(Change::Merged), Some(t)) if year > t => (
                        format!("; it was merged into {} in {}: report it there", successors.join(", "), t + 1),
                        format!("；{} 年已并入 {}，请按后者填报", t + 1, successors.join("、")),
                    ),
                    (Some(Change::Split), Some(t)) if year > t => (
                        format!("; it was split into {} in {}: report those", successors.join(" and "), t + 1),
                        format!("；{} 年已拆分为 {}，请分别填报", t + 1, successors.join("、")),
                    ),
                    _ => (String::new(), String::new()),
                };
                Err((
                    format!("{} {} is valid {when}, not in {year}{hint}", r.code, r.name),
                    format!("{} {} 只在{when_zh}有效，{year} 年不能使用{hint_zh}", r.code, r.name),
                ))
            }
        }
    }

    /// The county of a row by code (preferred) or name; a code and name that disagree is an
    /// error. `report` gets errors and warnings (an old code), with the column they are about.
    pub(super) fn resolve(
        &mut self,
        code: &str,
        name: &str,
        year: i32,
        (code_col, name_col): (Option<usize>, Option<usize>),
        report: &mut dyn FnMut(Severity, Option<usize>, Msg),
    ) -> Option<&'r Region> {
        let key = (code.to_string(), name.to_string(), year);
        if let Some((r, note, at)) = self.resolved.get(&key) {
            if let Some(n) = note {
                report(Severity::Warning, *at, n.clone());
            }
            return Some(r);
        }
        // Errors point at the cell that failed: the code if there is one, else the name.
        let code_at = if code.is_empty() { name_col.or(code_col) } else { code_col };
        let name_at = name_col.or(code_col);
        let by_code = (!code.is_empty()).then(|| self.describe(code, self.registry.lookup(code, Some(year)), year));
        // With a code, the name only has to be one of that county's names (桥东区 is a district
        // of several cities: the code says which).
        let by_name = (!name.is_empty() && !matches!(by_code, Some(Ok(_))))
            .then(|| self.describe(name, self.registry.lookup(name, Some(year)), year));
        let (found, note, at) = match (by_code, by_name) {
            (None, None) => {
                report(
                    Severity::Error,
                    code_at,
                    (
                        "row has values but no county code or name".into(),
                        "这一行有数据，但没有区划代码或县（市、区）名称：请补上".into(),
                    ),
                );
                return None;
            }
            (Some(Ok((r, _))), None) if !name.is_empty() && !self.registry.name_matches(name, r) => {
                report(
                    Severity::Error,
                    name_at,
                    (
                        format!("code {code} is {} but the name says {name}", r.name),
                        format!("区划代码 {code} 是{}，但名称写的是“{name}”：请核对代码和名称", r.name),
                    ),
                );
                return None;
            }
            (Some(Ok((r, note))), _) => (r, note, code_at),
            (None, Some(Ok((r, note)))) => (r, note, name_at),
            (Some(Err(e)), _) => {
                report(Severity::Error, code_at, e);
                return None;
            }
            (None, Some(Err(e))) => {
                report(Severity::Error, name_at, e);
                return None;
            }
        };
        if let Some(n) = &note {
            report(Severity::Warning, at, n.clone());
        }
        self.resolved.insert(key, (found, note, at));
        Some(found)
    }
}
