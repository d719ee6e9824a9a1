//! The national county registry built from the NBS division-code snapshots (`schemas/divisions/`):
//! every county-level unit with its prefecture, province, type and validity years, and the code
//! changes between consecutive snapshots. Pure but for reading the snapshot files.
//!
//! A code present in one snapshot and gone in the next gets `valid_to`; its successor is the
//! code new in the next snapshot in the same province with the same name, the same name stem
//! (京山县 → 京山市, 长乐市 → 长乐区) or a stem that extends the other (滦县 → 滦州市), when exactly
//! one new code matches. Changes that names cannot tell (a rename to a new name, a merger, a
//! split) come from a curated file of changes (`schemas/region-changes.csv`); a code with
//! neither simply ends, and its series with it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::regions::{is_zone, stem, Change, Region};

#[derive(Debug, thiserror::Error)]
pub enum DivisionsError {
    #[error("cannot read {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}, row {row}: {message}")]
    Row { path: PathBuf, row: usize, message: String },
    #[error("{path}: no yearly snapshot folders (2017/, 2018/, … with provinces.csv, cities.csv, areas.csv)")]
    Empty { path: PathBuf },
}

#[derive(Debug, Clone, Deserialize)]
struct Area {
    code: String,
    name: String,
    #[serde(rename = "cityCode")]
    city: String,
    #[serde(rename = "provinceCode")]
    province: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Named {
    code: String,
    name: String,
}

/// One snapshot year: county-level areas, prefecture-level cities and provinces by code.
struct Snapshot {
    year: i32,
    areas: BTreeMap<String, Area>,
    cities: HashMap<String, String>,
    provinces: HashMap<String, String>,
}

/// A curated code change (`schemas/region-changes.csv`): what a name comparison cannot tell.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CuratedChange {
    pub code: String,
    /// The code (or, for a split, the codes separated by `;`) that took over.
    #[serde(default)]
    pub successor: Option<String>,
    /// Last year of `code`, as a check against the snapshots.
    pub year: i32,
    pub change: Change,
    #[serde(default)]
    pub note: String,
}

/// What the build found that a person should look at.
#[derive(Debug, Default)]
pub struct Notes {
    /// Codes that ended without a successor.
    pub ended: Vec<String>,
    /// Codes that a later snapshot gives to another unit.
    pub reused: Vec<String>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, DivisionsError> {
    let bytes = std::fs::read(path).map_err(|source| DivisionsError::Io { path: path.to_owned(), source })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut rd =
        csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    rd.deserialize()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| DivisionsError::Row { path: path.to_owned(), row: i + 2, message: e.to_string() }))
        .collect()
}

fn snapshots(dir: &Path) -> Result<Vec<Snapshot>, DivisionsError> {
    let io = |source| DivisionsError::Io { path: dir.to_owned(), source };
    let mut years: Vec<i32> = std::fs::read_dir(dir)
        .map_err(io)?
        .flatten()
        .filter(|e| e.path().join("areas.csv").is_file())
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    years.sort_unstable();
    if years.is_empty() {
        return Err(DivisionsError::Empty { path: dir.to_owned() });
    }
    years
        .into_iter()
        .map(|year| {
            let d = dir.join(year.to_string());
            let areas: Vec<Area> = read_csv(&d.join("areas.csv"))?;
            let cities: Vec<Named> = read_csv(&d.join("cities.csv"))?;
            let provinces: Vec<Named> = read_csv(&d.join("provinces.csv"))?;
            Ok(Snapshot {
                year,
                areas: areas.into_iter().map(|a| (a.code.clone(), a)).collect(),
                cities: cities.into_iter().map(|c| (c.code, c.name)).collect(),
                provinces: provinces.into_iter().map(|p| (p.code, p.name)).collect(),
            })
        })
        .collect()
}

/// The type of a county-level unit, from its code and name.
pub fn kind_of(code: &str, name: &str, directly_administered: bool) -> &'static str {
    const SUFFIXES: [(&str, &str); 7] = [
        ("自治县", "自治县"),
        ("自治旗", "自治旗"),
        ("特区", "特区"),
        ("旗", "旗"),
        ("县", "县"),
        ("区", "市辖区"),
        ("市", "县级市"),
    ];
    if is_zone(code) {
        return "功能区";
    }
    // 神农架林区 is administered by the province directly; 金林区 is an ordinary district.
    if directly_administered && name.ends_with("林区") {
        return "林区";
    }
    if name.ends_with("行政委员会") {
        return "行政委员会";
    }
    SUFFIXES.iter().find(|(s, _)| name.ends_with(s)).map_or("其他", |x| x.1)
}

/// How well a new name continues an old one: 3 same name, 2 same stem, 1 one stem extends the other.
fn name_match(old: &str, new: &str) -> u8 {
    let (a, b) = (stem(old), stem(new));
    if old == new {
        3
    } else if a == b {
        2
    } else if a.starts_with(b) || b.starts_with(a) {
        1
    } else {
        0
    }
}

/// Build the registry from the snapshots in `dir` and the curated changes.
pub fn build(
    dir: &Path,
    changes: &[CuratedChange],
    changes_path: &Path,
) -> Result<(Vec<Region>, Notes), DivisionsError> {
    let snaps = snapshots(dir)?;
    let first = snaps[0].year;
    let last = snaps[snaps.len() - 1].year;
    let mut notes = Notes::default();

    // Per code: the years present and the record of each.
    let mut seen: BTreeMap<String, Vec<(i32, &Area)>> = BTreeMap::new();
    for s in &snaps {
        for (c, a) in &s.areas {
            seen.entry(c.clone()).or_default().push((s.year, a));
        }
    }
    let snap_of = |y: i32| snaps.iter().find(|s| s.year == y).expect("a snapshot year");
    // Validity in snapshot years; a code taken over by another unit starts when it was reused.
    let mut from: HashMap<String, i32> = HashMap::new();
    let mut to: HashMap<String, i32> = HashMap::new();
    let mut former: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (code, years) in &seen {
        from.insert(code.clone(), years[0].0);
        to.insert(code.clone(), years[years.len() - 1].0);
        for w in years.windows(2) {
            let ((_, a), (y, b)) = (w[0], w[1]);
            if a.name == b.name {
                continue;
            }
            // The old name moved to a code new that year: the code was given to another unit.
            let moved =
                snap_of(y).areas.values().find(|x| x.name == a.name && x.province == a.province && x.code != *code);
            match moved {
                Some(m) if seen[&m.code][0].0 == y => {
                    notes.reused.push(format!(
                        "{code}: {} until {}, then {} ({} moved to {})",
                        a.name,
                        y - 1,
                        b.name,
                        a.name,
                        m.code
                    ));
                    from.insert(code.clone(), y);
                    from.insert(m.code.clone(), years[0].0);
                }
                _ => {
                    former.entry(code.clone()).or_default().insert(a.name.clone());
                }
            }
        }
    }

    // Successors of the codes that ended before the last snapshot, by name.
    let mut successor: HashMap<String, (String, Change)> = HashMap::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    for s in &snaps {
        if s.year == last {
            continue;
        }
        let gone: Vec<&Area> = s.areas.values().filter(|a| to[&a.code] == s.year).collect();
        let new: Vec<&Area> = seen
            .iter()
            .filter(|(c, _)| from[*c] == s.year + 1)
            .filter_map(|(_, ys)| ys.iter().find(|(y, _)| *y == s.year + 1).map(|(_, a)| *a))
            .collect();
        for g in &gone {
            let best = new
                .iter()
                .filter(|n| n.province == g.province && is_zone(&n.code) == is_zone(&g.code))
                .map(|n| (name_match(&g.name, &n.name), *n))
                .filter(|(m, _)| *m > 0)
                .fold(Vec::<(u8, &Area)>::new(), |mut acc, x| {
                    match acc.first().map(|a| a.0) {
                        Some(m) if x.0 < m => {}
                        Some(m) if x.0 > m => acc = vec![x],
                        _ => acc.push(x),
                    }
                    acc
                });
            if let [(_, n)] = best.as_slice() {
                if taken.insert(n.code.clone()) {
                    successor.insert(g.code.clone(), (n.code.clone(), Change::Renamed));
                }
            }
        }
    }
    for c in changes {
        successor.remove(&c.code);
        if let Some(s) = &c.successor {
            successor.insert(c.code.clone(), (s.clone(), c.change));
        }
    }
    for (code, t) in &to {
        // Functional zones come and go; only county-level units' series matter here.
        if *t < last && !is_zone(code) && !successor.contains_key(code) && !changes.iter().any(|c| &c.code == code) {
            notes.ended.push(format!("{code} {} ({t})", seen[code].last().unwrap().1.name));
        }
    }
    notes.ended.sort();

    let mut out = Vec::new();
    for (code, years) in &seen {
        let (y, a) = *years.last().expect("seen at least once");
        let snap = snap_of(y);
        let province_name = snap.provinces.get(&a.province).cloned().unwrap_or_default();
        let city_name = snap.cities.get(&a.city).cloned().unwrap_or_default();
        let province_code = format!("{}0000", a.province);
        // Placeholders: a municipality's 市辖区 and 县 are the municipality; 省直辖县级行政区划
        // are the province's own.
        let direct = city_name.ends_with("直辖县级行政区划");
        let (prefecture_code, prefecture_name) = if ["11", "12", "31", "50"].contains(&a.province.as_str()) {
            (province_code.clone(), province_name.clone())
        } else if direct {
            (format!("{}00", a.city), format!("{province_name}直辖"))
        } else {
            (format!("{}00", a.city), city_name)
        };
        let (succ, change) = successor.get(code).cloned().map_or((None, None), |(s, c)| (Some(s), Some(c)));
        out.push(Region {
            code: code.clone(),
            name: a.name.clone(),
            kind: kind_of(code, &a.name, direct).to_string(),
            prefecture_code,
            prefecture_name,
            province_code,
            province_name,
            valid_from: Some(from[code]).filter(|&f| f > first),
            valid_to: Some(to[code]).filter(|&t| t < last),
            successor: succ,
            change,
            former_names: former
                .get(code)
                .map(|f| f.iter().cloned().collect::<Vec<_>>().join(";"))
                .filter(|s| !s.is_empty()),
        });
    }
    for (i, c) in changes.iter().enumerate() {
        let bad = |message: String| DivisionsError::Row { path: changes_path.to_owned(), row: i + 2, message };
        let Some(r) = out.iter().find(|r| r.code == c.code) else {
            return Err(bad(format!("{} is in no snapshot", c.code)));
        };
        if r.valid_to != Some(c.year) {
            let ends = r.valid_to.map_or("is still valid".to_string(), |t| format!("ends in {t}"));
            return Err(bad(format!("{} {} {ends} by the snapshots, not in {}", r.code, r.name, c.year)));
        }
        for s in c.successor.iter().flat_map(|s| s.split(';')) {
            if !out.iter().any(|r| r.code == s) {
                return Err(bad(format!("successor {s} of {} is in no snapshot", c.code)));
            }
        }
    }
    Ok((out, notes))
}

/// Read the curated changes file.
pub fn load_changes(path: &Path) -> Result<Vec<CuratedChange>, DivisionsError> {
    read_csv(path)
}

/// The registry as CSV, in the column order `Registry::load` reads.
pub fn to_csv(regions: &[Region]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in regions {
        w.serialize(r).expect("regions serialise");
    }
    String::from_utf8(w.into_inner().expect("an in-memory writer")).expect("utf-8 in, utf-8 out")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshot folders with the given areas (code, name, city) of one province (42, 湖北省).
    fn snapshots_of(years: &[(i32, &[(&str, &str, &str)])]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for (year, areas) in years {
            let d = tmp.path().join(year.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("provinces.csv"), "code,name\n42,\"湖北省\"\n").unwrap();
            std::fs::write(
                d.join("cities.csv"),
                "code,name,provinceCode\n4208,\"荆门市\",42\n4290,\"省直辖县级行政区划\",42\n",
            )
            .unwrap();
            let mut a = String::from("code,name,cityCode,provinceCode\n");
            for (code, name, city) in areas.iter() {
                a += &format!("{code},\"{name}\",{city},42\n");
            }
            std::fs::write(d.join("areas.csv"), a).unwrap();
        }
        tmp
    }

    #[test]
    fn validity_successors_mergers_and_types_from_consecutive_snapshots() {
        let y2017: &[(&str, &str, &str)] = &[
            ("420802", "东宝区", "4208"),
            ("420803", "旧区", "4208"),
            ("420804", "掇刀区", "4208"),
            ("420821", "京山县", "4208"),
            ("420871", "荆门高新区", "4208"),
            ("429021", "神农架林区", "4290"),
        ];
        let y2018: &[(&str, &str, &str)] = &[
            ("420802", "东宝区", "4208"),
            ("420804", "掇刀区", "4208"),
            ("420882", "京山市", "4208"),
            ("420871", "荆门高新区", "4208"),
            ("429021", "神农架林区", "4290"),
        ];
        // 2019: 掇刀区 renamed in place, 东宝区 absorbs nothing; a new district appears.
        let y2019: &[(&str, &str, &str)] = &[
            ("420802", "东宝区", "4208"),
            ("420804", "新掇刀区", "4208"),
            ("420805", "漳河新区", "4208"),
            ("420882", "京山市", "4208"),
            ("429021", "神农架林区", "4290"),
        ];
        let dir = snapshots_of(&[(2017, y2017), (2018, y2018), (2019, y2019)]);
        let merged = CuratedChange {
            code: "420803".into(),
            successor: Some("420802".into()),
            year: 2017,
            change: Change::Merged,
            note: "旧区并入东宝区".into(),
        };
        let (regions, notes) = build(dir.path(), &[merged], Path::new("changes.csv")).unwrap();
        let get = |c: &str| regions.iter().find(|r| r.code == c).unwrap();
        let jingshan = get("420821");
        assert_eq!((jingshan.valid_from, jingshan.valid_to), (None, Some(2017)));
        assert_eq!((jingshan.successor.as_deref(), jingshan.change), (Some("420882"), Some(Change::Renamed)));
        assert_eq!((get("420882").valid_from, get("420882").kind.as_str()), (Some(2018), "县级市"));
        assert_eq!((get("420803").successor.as_deref(), get("420803").change), (Some("420802"), Some(Change::Merged)));
        assert_eq!(get("420804").name, "新掇刀区");
        assert_eq!(get("420804").former_names.as_deref(), Some("掇刀区"), "old files still resolve");
        assert_eq!((get("420871").kind.as_str(), get("420871").valid_to), ("功能区", Some(2018)));
        assert_eq!(get("429021").kind, "林区");
        assert_eq!(
            (get("429021").prefecture_code.as_str(), get("429021").prefecture_name.as_str()),
            ("429000", "湖北省直辖")
        );
        assert_eq!(get("420805").valid_from, Some(2019));
        assert!(notes.ended.is_empty(), "{:?}", notes.ended);
        let registry = crate::regions::Registry::new(Path::new("r.csv"), regions).unwrap();
        assert_eq!(registry.current_code("420821"), "420882");
        assert_eq!(registry.current_code("420803"), "420803", "a merged unit's series ends");
        // A curated change must agree with the snapshots.
        let wrong = CuratedChange {
            code: "420802".into(),
            successor: None,
            year: 2017,
            change: Change::Merged,
            note: String::new(),
        };
        let err = build(dir.path(), &[wrong], Path::new("changes.csv")).unwrap_err().to_string();
        assert!(err.contains("changes.csv, row 2") && err.contains("420802 东宝区 is still valid"), "{err}");
    }

    /// `schemas/regions.csv` is what `cimon registry` makes of the snapshots in the repository.
    #[test]
    fn the_committed_registry_is_rebuilt_from_the_snapshots() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let changes = load_changes(&root.join("region-changes.csv")).unwrap();
        let (regions, _) = build(&root.join("divisions"), &changes, &root.join("region-changes.csv")).unwrap();
        let committed = std::fs::read_to_string(root.join("regions.csv")).unwrap();
        assert!(to_csv(&regions) == committed, "schemas/regions.csv is stale: run `cimon registry`");
        let registry = crate::regions::Registry::new(&root.join("regions.csv"), regions).unwrap();
        let counties = registry.regions.iter().filter(|r| r.valid_to.is_none() && !r.is_zone()).count();
        assert!((2840..2870).contains(&counties), "{counties} county-level units today");
    }

    #[test]
    fn types_and_stems_from_names() {
        assert_eq!(kind_of("420802", "东宝区", false), "市辖区");
        assert_eq!(kind_of("220623", "长白朝鲜族自治县", false), "自治县");
        assert_eq!(kind_of("429021", "神农架林区", true), "林区");
        assert_eq!(kind_of("230751", "金林区", false), "市辖区");
        assert_eq!(kind_of("620871", "平凉工业园区", false), "功能区");
        assert_eq!(kind_of("152921", "阿拉善左旗", false), "旗");
        assert_eq!(kind_of("420881", "钟祥市", false), "县级市");
        assert_eq!((stem("京山县"), stem("沙县区"), stem("沙县")), ("京山", "沙县", "沙"));
        assert_eq!(name_match("京山县", "京山市"), 2);
        assert_eq!(name_match("滦县", "滦州市"), 1);
        assert_eq!(name_match("沙县", "沙县区"), 1);
        assert_eq!(name_match("株洲县", "渌口区"), 0);
    }
}
