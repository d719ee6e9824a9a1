//! The region registry: GB/T 2260 codes with names, prefecture, province, type and validity years.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::text::normalise_key;

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
    /// The code that replaced this one (京山县 420821 → 京山市 420882).
    pub successor: Option<String>,
}

impl Region {
    pub fn valid_in(&self, year: i32) -> bool {
        self.valid_from.is_none_or(|f| year >= f) && self.valid_to.is_none_or(|t| year <= t)
    }
}

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
    /// A known code outside its validity years.
    NotValid(&'a Region),
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub path: PathBuf,
    pub regions: Vec<Region>,
    by_code: HashMap<String, usize>,
}

impl Registry {
    pub fn load(path: &Path) -> Result<Registry, RegistryError> {
        let bytes = std::fs::read(path).map_err(|source| RegistryError::Io { path: path.to_owned(), source })?;
        let text = String::from_utf8_lossy(&bytes);
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
        let mut predecessor: HashMap<&str, &str> = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            if let Some(s) = &r.successor {
                if !by_code.contains_key(s) {
                    return Err(err(i + 2, format!("successor {s} of {} is not in the registry", r.code)));
                }
                // A merger (two codes into one) would need a rule to combine their values.
                if let Some(other) = predecessor.insert(s, &r.code) {
                    return Err(err(
                        i + 2,
                        format!("{} and {other} both have successor {s}: merged counties are not supported", r.code),
                    ));
                }
            }
        }
        Ok(Registry { path: path.to_owned(), regions, by_code })
    }

    pub fn get(&self, code: &str) -> Option<&Region> {
        self.by_code.get(code).map(|&i| &self.regions[i])
    }

    /// Resolve a county cell, by 6-digit code or by name, for a given year.
    pub fn lookup(&self, cell: &str, year: Option<i32>) -> Lookup<'_> {
        let key = normalise_key(cell);
        let valid = |r: &Region| year.is_none_or(|y| r.valid_in(y));
        if key.len() == 6 && key.bytes().all(|b| b.is_ascii_digit()) {
            return match self.get(&key) {
                Some(r) if valid(r) => Lookup::Found(r),
                Some(r) => Lookup::NotValid(r),
                None => Lookup::Unknown,
            };
        }
        let named: Vec<&Region> = self.regions.iter().filter(|r| normalise_key(&r.name) == key).collect();
        let current: Vec<&Region> = named.iter().copied().filter(|r| valid(r)).collect();
        match (current.len(), named.len()) {
            (1, _) => Lookup::Found(current[0]),
            (0, 0) => Lookup::Unknown,
            (0, _) => Lookup::NotValid(named[0]),
            _ => Lookup::Ambiguous(current),
        }
    }

    /// The regions valid in a year, in registry order.
    pub fn valid_in(&self, year: i32) -> impl Iterator<Item = &Region> {
        self.regions.iter().filter(move |r| r.valid_in(year))
    }

    /// Counties at or below an area code: a county itself, every county of a prefecture or province.
    pub fn within<'a>(&'a self, area: &'a str) -> impl Iterator<Item = &'a Region> + 'a {
        self.regions.iter().filter(move |r| r.code == area || r.prefecture_code == area || r.province_code == area)
    }

    /// The code a region's series continues under today (follows successors).
    pub fn current_code<'a>(&'a self, code: &'a str) -> &'a str {
        let mut at = code;
        for _ in 0..self.regions.len() {
            match self.get(at).and_then(|r| r.successor.as_deref()) {
                Some(next) => at = next,
                None => break,
            }
        }
        at
    }
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
        assert_eq!(r.within("620900").count(), 7);
        assert_eq!(r.valid_in(2024).count(), 25);
        assert_eq!(r.valid_in(2016).count(), 25);
    }

    #[test]
    fn rejects_a_merger() {
        let mut regions = seed().regions;
        regions[0].successor = Some("420882".into());
        regions[0].valid_to = Some(2017);
        let err = Registry::new(Path::new("r.csv"), regions).unwrap_err().to_string();
        assert!(err.contains("both have successor 420882"), "{err}");
    }

    #[test]
    fn rejects_bad_codes_with_the_row() {
        let mut regions = seed().regions;
        regions[3].code = "22062".into();
        let err = Registry::new(Path::new("r.csv"), regions).unwrap_err().to_string();
        assert!(err.contains("r.csv, row 5") && err.contains("22062"), "{err}");
    }
}
