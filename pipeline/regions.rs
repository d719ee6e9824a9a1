//! The region registry: GB/T 2260 codes with names, prefecture, province, type, validity years and
//! code changes; county lookup by code (6 or 12 digits, or a number) or by name, former name or
//! the short form of an autonomous county, with suggestions for a name it does not know.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::normalise_key;

crate::keyed! {
    /// How a code ended: its series continue under the successor only when it was `renamed`
    /// (a new name or code for the same unit: 撤县设市, 撤县设区, a move to another prefecture).
    pub enum Change {
        Renamed = "renamed",
        /// Merged into the successor together with other units: the series ends here.
        Merged = "merged",
        /// Split among the successors (`a;b`): the series ends here.
        Split = "split",
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub prefecture_code: String,
    pub prefecture_name: String,
    pub province_code: String,
    pub province_name: String,
    /// First year the code is valid (inclusive); None = since before any data.
    pub valid_from: Option<i32>,
    /// Last year the code is valid (inclusive); None = still valid.
    pub valid_to: Option<i32>,
    /// The code that replaced this one (京山县 420821 → 京山市 420882); `a;b` for a split.
    pub successor: Option<String>,
    /// How it was replaced; none with a successor means renamed.
    #[serde(default)]
    pub change: Option<Change>,
    /// Earlier names under the same code (`;`-separated), so old files still resolve.
    #[serde(default)]
    pub former_names: Option<String>,
}

impl Region {
    pub fn valid_in(&self, year: i32) -> bool {
        self.valid_from.is_none_or(|f| year >= f) && self.valid_to.is_none_or(|t| year <= t)
    }

    /// The successor whose series this one continues into: renamed only, never a merger or split.
    pub fn continued_by(&self) -> Option<&str> {
        match self.change {
            None | Some(Change::Renamed) => self.successor.as_deref(),
            Some(_) => None,
        }
    }

    /// Every successor code (several for a split).
    pub fn successors(&self) -> impl Iterator<Item = &str> {
        self.successor.iter().flat_map(|s| s.split(';')).map(str::trim).filter(|s| !s.is_empty())
    }

    /// A functional zone (经济开发区, 高新区, 管理区), not a county-level administrative unit.
    pub fn is_zone(&self) -> bool {
        is_zone(&self.code)
    }
}

/// Functional zones (经济开发区, 高新区, 管理区): 71–79 in digits 5–6, not administrative units.
pub fn is_zone(code: &str) -> bool {
    code.get(4..6).and_then(|d| d.parse::<u8>().ok()).is_some_and(|d| (71..=79).contains(&d))
}

/// A name without its type: 京山县, 京山市 → 京山; 沙县区 → 沙县.
pub fn stem(name: &str) -> &str {
    for s in ["自治县", "自治旗", "行政委员会", "特区", "林区", "旗", "县", "区", "市"] {
        if let Some(x) = name.strip_suffix(s).filter(|x| !x.is_empty()) {
            return x;
        }
    }
    name
}

/// The national registry built into cimon (`schemas/regions.csv`), used when none is configured.
pub const BUILTIN: &str = include_str!("../schemas/regions.csv");
/// How messages name the built-in registry.
pub const BUILTIN_PATH: &str = "(built-in) schemas/regions.csv";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read region registry {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("region registry {path}, row {row}: {message}")]
    Row { path: PathBuf, row: usize, message: String },
}

/// How a county cell was resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    Found(&'a Region),
    Unknown,
    /// A name shared by several regions valid that year.
    Ambiguous(Vec<&'a Region>),
    /// A known code or name outside its validity years.
    NotValid(&'a Region),
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub path: PathBuf,
    pub regions: Vec<Region>,
    by_code: HashMap<String, usize>,
    /// Normalised name, former name or short form → regions.
    by_name: HashMap<String, Vec<usize>>,
}

/// Ethnic names in the names of autonomous counties and banners, so that
/// 长白朝鲜族自治县 is also found as 长白县 (the short form bureaus write).
const PEOPLES: &[&str] = &[
    "乌孜别克",
    "柯尔克孜",
    "维吾尔",
    "哈萨克",
    "达斡尔",
    "鄂温克",
    "鄂伦春",
    "土家",
    "布依",
    "傈僳",
    "拉祜",
    "纳西",
    "景颇",
    "仫佬",
    "毛南",
    "仡佬",
    "塔吉克",
    "俄罗斯",
    "塔塔尔",
    "朝鲜",
    "蒙古",
    "哈尼",
    "撒拉",
    "东乡",
    "锡伯",
    "阿昌",
    "普米",
    "德昂",
    "保安",
    "裕固",
    "独龙",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
    "布朗",
    "满",
    "回",
    "藏",
    "苗",
    "彝",
    "壮",
    "侗",
    "瑶",
    "白",
    "傣",
    "黎",
    "佤",
    "畲",
    "羌",
    "土",
    "怒",
    "京",
    "水",
    "各",
];

/// 长白朝鲜族自治县 → 长白县, 双江拉祜族佤族布朗族傣族自治县 → 双江县, 鄂伦春自治旗 → 鄂伦春旗.
pub fn short_form(name: &str) -> Option<String> {
    let (mut rest, suffix) = if let Some(r) = name.strip_suffix("自治县") {
        (r, "县")
    } else if let Some(r) = name.strip_suffix("自治旗") {
        (r, "旗")
    } else {
        return None;
    };
    // Each people is written with 族 (长白朝鲜族, 双江拉祜族佤族布朗族傣族); a banner named after its
    // people alone has no 族 and keeps the name (鄂伦春自治旗 → 鄂伦春旗).
    while let Some(r) = rest.strip_suffix('族') {
        match PEOPLES.iter().filter(|p| r.ends_with(*p) && r.len() > p.len()).max_by_key(|p| p.len()) {
            Some(p) => rest = &r[..r.len() - p.len()],
            None => break,
        }
    }
    let stem = rest;
    Some(format!("{stem}{suffix}"))
}

/// A county cell as a 6-digit code: `420802`, a 12-digit statistical code `420802000000`, or a
/// code written as a number `420802.0`.
pub fn as_code(cell: &str) -> Option<String> {
    let key = normalise_key(cell);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let key = match key.split_once('.') {
        Some((int, frac)) if digits(int) && frac.bytes().all(|b| b == b'0') => int.to_string(),
        _ => key,
    };
    match key.len() {
        6 if digits(&key) => Some(key),
        12 if digits(&key) => Some(key[..6].to_string()),
        _ => None,
    }
}

impl Registry {
    /// The registry given, or the built-in national one (`schemas/regions.csv` of this cimon).
    pub fn load_or_builtin(path: Option<&Path>) -> Result<Registry, RegistryError> {
        match path {
            Some(p) => Registry::load(p),
            None => Registry::parse(BUILTIN, Path::new(BUILTIN_PATH)),
        }
    }

    pub fn load(path: &Path) -> Result<Registry, RegistryError> {
        let bytes = std::fs::read(path).map_err(|source| RegistryError::Io { path: path.to_owned(), source })?;
        Registry::parse(&String::from_utf8_lossy(&bytes), path)
    }

    /// A registry from the text of its CSV.
    pub fn parse(text: &str, path: &Path) -> Result<Registry, RegistryError> {
        let mut reader =
            csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let mut regions = Vec::new();
        for (i, rec) in reader.deserialize::<Region>().enumerate() {
            let row = i + 2; // header is row 1
            let r = rec.map_err(|e| RegistryError::Row { path: path.to_owned(), row, message: e.to_string() })?;
            regions.push(r);
        }
        Registry::new(path, regions)
    }

    pub fn new(path: &Path, regions: Vec<Region>) -> Result<Registry, RegistryError> {
        let err = |row: usize, message: String| RegistryError::Row { path: path.to_owned(), row, message };
        let mut by_code = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            let row = i + 2;
            for (what, code) in
                [("code", &r.code), ("prefecture_code", &r.prefecture_code), ("province_code", &r.province_code)]
            {
                if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(row, format!("{what} \"{code}\" is not a 6-digit GB/T 2260 code")));
                }
            }
            if r.name.trim().is_empty() {
                return Err(err(row, format!("region {} has no name", r.code)));
            }
            if let (Some(f), Some(t)) = (r.valid_from, r.valid_to) {
                if f > t {
                    return Err(err(row, format!("region {} is valid from {f} to {t}", r.code)));
                }
            }
            if by_code.insert(r.code.clone(), i).is_some() {
                return Err(err(row, format!("code {} appears twice", r.code)));
            }
        }
        // A unit continues into at most one successor, and a successor continues at most one
        // unit; others merged into it end their series there.
        let mut continued: HashMap<&str, &str> = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            let successors: Vec<&str> = r.successors().collect();
            for s in &successors {
                if !by_code.contains_key(*s) {
                    return Err(err(i + 2, format!("successor {s} of {} is not in the registry", r.code)));
                }
            }
            if successors.len() > 1 && r.change != Some(Change::Split) {
                return Err(err(i + 2, format!("{} has several successors: mark the change as split", r.code)));
            }
            if let Some(s) = r.continued_by() {
                if let Some(other) = continued.insert(s, &r.code) {
                    return Err(err(
                        i + 2,
                        format!(
                            "{} and {other} both continue into {s}: mark the one absorbed as merged (its series ends)",
                            r.code
                        ),
                    ));
                }
            }
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            let mut keys: Vec<String> = vec![normalise_key(&r.name)];
            keys.extend(r.former_names.iter().flat_map(|f| f.split(';')).map(normalise_key));
            keys.extend(short_form(&r.name).map(|s| normalise_key(&s)));
            keys.sort();
            keys.dedup();
            for k in keys.into_iter().filter(|k| !k.is_empty()) {
                by_name.entry(k).or_default().push(i);
            }
        }
        Ok(Registry { path: path.to_owned(), regions, by_code, by_name })
    }

    pub fn get(&self, code: &str) -> Option<&Region> {
        self.by_code.get(code).map(|&i| &self.regions[i])
    }

    /// Resolve a county cell, by code or by name, for a given year.
    pub fn lookup(&self, cell: &str, year: Option<i32>) -> Lookup<'_> {
        let valid = |r: &Region| year.is_none_or(|y| r.valid_in(y));
        if let Some(code) = as_code(cell) {
            return match self.get(&code) {
                Some(r) if valid(r) => Lookup::Found(r),
                Some(r) => Lookup::NotValid(r),
                None => Lookup::Unknown,
            };
        }
        let named: Vec<&Region> =
            self.by_name.get(&normalise_key(cell)).into_iter().flatten().map(|&i| &self.regions[i]).collect();
        let current: Vec<&Region> = named.iter().copied().filter(|r| valid(r)).collect();
        match (current.len(), named.len()) {
            (1, _) => Lookup::Found(current[0]),
            (0, 0) => Lookup::Unknown,
            (0, _) => Lookup::NotValid(named[0]),
            _ => Lookup::Ambiguous(current),
        }
    }

    /// Whether `cell` is a name of `region` (its name, a former name or its short form), or of the
    /// unit it continues from or into.
    pub fn name_matches(&self, cell: &str, region: &Region) -> bool {
        let current = self.current_code(&region.code);
        self.by_name
            .get(&normalise_key(cell))
            .is_some_and(|ids| ids.iter().any(|&i| self.current_code(&self.regions[i].code) == current))
    }

    /// The registry names closest to an unknown one (at most `n`, only close ones), among the
    /// regions `among` accepts, those `prefer` likes first: for "did you mean". Closeness is the
    /// edit distance of the names without their type (巩义县 is nearest 巩义市), then of the names.
    pub fn suggest<'a>(
        &'a self,
        cell: &str,
        n: usize,
        among: impl Fn(&Region) -> bool,
        prefer: impl Fn(&Region) -> bool,
    ) -> Vec<&'a Region> {
        let key = normalise_key(cell);
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        let (key_chars, key_stem) = (chars(&key), chars(stem(&key)));
        let mut scored: Vec<((bool, usize, usize), &Region)> = self
            .regions
            .iter()
            .filter(|r| among(r))
            .map(|r| {
                let d = distance(&key_chars, &chars(&r.name));
                let ds = distance(&key_stem, &chars(stem(&r.name)));
                ((!prefer(r), ds, d), r)
            })
            .filter(|((_, ds, d), r)| *ds <= 1 || *d <= 2.max(r.name.chars().count() / 3))
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.code.cmp(&b.1.code)));
        scored.into_iter().take(n).map(|x| x.1).collect()
    }

    /// The regions valid in a year, in registry order.
    pub fn valid_in(&self, year: i32) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.valid_in(year))
    }

    /// Counties at or below an area code: a county itself, every county of a prefecture or province.
    pub fn within<'a>(&'a self, area: &'a str) -> impl Iterator<Item = &'a Region> + 'a {
        self.regions.iter().filter(move |r| r.code == area || r.prefecture_code == area || r.province_code == area)
    }

    /// The code a region's series continues under today (follows renames, not mergers or splits).
    pub fn current_code<'a>(&'a self, code: &'a str) -> &'a str {
        let mut at = code;
        for _ in 0..self.regions.len() {
            match self.get(at).and_then(|r| r.continued_by()) {
                Some(next) => at = next,
                None => break,
            }
        }
        at
    }

    /// The code of `code`'s unit that is valid in `year`, following renames forward or back
    /// (a 2019 row written with 京山县's old code 420821 is 420882; a 2016 row with 420882 is
    /// 420821); None when no code of the unit is valid then.
    pub fn code_in<'a>(&'a self, code: &'a str, year: i32) -> Option<&'a Region> {
        let current = self.current_code(code);
        self.regions.iter().find(|r| r.valid_in(year) && self.current_code(&r.code) == current)
    }
}

/// Levenshtein distance between two strings of characters.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Registry {
        Registry::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/regions.csv"))).unwrap()
    }

    #[test]
    fn code_changes_follow_validity_years() {
        let r = seed();
        assert!(matches!(r.lookup("420821", Some(2016)), Lookup::Found(x) if x.name == "京山县"));
        assert!(matches!(r.lookup("420821", Some(2019)), Lookup::NotValid(_)));
        assert!(matches!(r.lookup("京山市", Some(2019)), Lookup::Found(x) if x.code == "420882"));
        assert!(matches!(r.lookup("京山市", Some(2016)), Lookup::NotValid(_)));
        assert!(matches!(r.lookup("东宝区", Some(2020)), Lookup::Found(x) if x.code == "420802"));
        assert_eq!(r.lookup("不存在县", Some(2020)), Lookup::Unknown);
        assert_eq!(r.current_code("420821"), "420882");
        assert_eq!(r.code_in("420821", 2019).map(|x| x.code.as_str()), Some("420882"));
        assert_eq!(r.code_in("420882", 2016).map(|x| x.code.as_str()), Some("420821"));
        assert_eq!(r.within("620900").count(), 7);
    }

    #[test]
    fn codes_as_bureaus_write_them() {
        let r = seed();
        for cell in ["420802", "420802000000", "420802.0", " ４２０８０２ "] {
            assert!(matches!(r.lookup(cell, Some(2020)), Lookup::Found(x) if x.code == "420802"), "{cell}");
        }
        assert_eq!(as_code("4208021"), None);
        assert_eq!(as_code("420802.5"), None);
    }

    #[test]
    fn short_forms_of_autonomous_counties_and_banners() {
        assert_eq!(short_form("长白朝鲜族自治县").as_deref(), Some("长白县"));
        assert_eq!(short_form("双江拉祜族佤族布朗族傣族自治县").as_deref(), Some("双江县"));
        assert_eq!(short_form("肃北蒙古族自治县").as_deref(), Some("肃北县"));
        assert_eq!(short_form("鄂伦春自治旗").as_deref(), Some("鄂伦春旗"));
        assert_eq!(short_form("莫力达瓦达斡尔族自治旗").as_deref(), Some("莫力达瓦旗"));
        assert_eq!(short_form("东宝区"), None);
        let r = seed();
        assert!(matches!(r.lookup("长白县", Some(2020)), Lookup::Found(x) if x.code == "220623"));
    }

    #[test]
    fn unknown_names_get_the_closest_registry_names() {
        let r = seed();
        let near: Vec<&str> = r.suggest("东宝县", 3, |_| true, |_| false).iter().map(|x| x.name.as_str()).collect();
        assert_eq!(near.first(), Some(&"东宝区"));
        assert!(r.suggest("完全不像的名字", 3, |_| true, |_| false).is_empty());
    }

    #[test]
    fn a_merger_ends_the_absorbed_series_and_two_continuations_are_refused() {
        let mut regions = seed().regions;
        // 京山县 continues into 京山市; 东宝区 merged into it ends its own series.
        let d = regions.iter().position(|x| x.code == "420802").unwrap();
        regions[d].successor = Some("420882".into());
        regions[d].valid_to = Some(2017);
        regions[d].change = Some(Change::Merged);
        let r = Registry::new(Path::new("r.csv"), regions.clone()).unwrap();
        assert_eq!(r.current_code("420802"), "420802", "a merged unit keeps its own series");
        assert_eq!(r.current_code("420821"), "420882");
        regions[d].change = None;
        let err = Registry::new(Path::new("r.csv"), regions).unwrap_err().to_string();
        assert!(err.contains("both continue into 420882") && err.contains("merged"), "{err}");
    }

    #[test]
    fn rejects_bad_codes_with_the_row() {
        let mut regions = seed().regions;
        regions[3].code = "22062".into();
        let err = Registry::new(Path::new("r.csv"), regions).unwrap_err().to_string();
        assert!(err.contains("r.csv, row 5") && err.contains("22062"), "{err}");
    }
}
