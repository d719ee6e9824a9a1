//! Fixtures the compute tests share: a two-indicator catalog and counties of 邢台市 with their code changes.

use crate::catalog::Catalog;
use crate::regions::{Change, Region, Registry};

/// An index of one group `a` with two counts, `x` and `y`.
pub const TWO_INDICATORS: &str = r#"
[index]
code = "i"
name_zh = "指数"
name_en = "Index"

[[groups]]
code = "a"
name_zh = "甲"
name_en = "A"
parent = "i"

[[indicators]]
code = "x"
name_zh = "x"
name_en = "x"
unit = "个"
kind = "count"
group = "a"

[[indicators]]
code = "y"
name_zh = "y"
name_en = "y"
unit = "个"
kind = "count"
group = "a"

[[units]]
symbol = "个"
family = "units"
factor = 1
"#;

pub fn two_indicators() -> Catalog {
    Catalog::parse(TWO_INDICATORS, std::path::Path::new("catalog.toml")).unwrap()
}

/// A county of 邢台市 valid until `to`, and what became of it then.
pub fn region(code: &str, name: &str, to: Option<i32>, successor: Option<&str>, change: Option<Change>) -> Region {
    Region {
        code: code.into(),
        name: name.into(),
        kind: "县".into(),
        prefecture_code: "130500".into(),
        prefecture_name: "邢台市".into(),
        province_code: "130000".into(),
        province_name: "河北省".into(),
        valid_from: None,
        valid_to: to,
        successor: successor.map(str::to_string),
        change,
        former_names: None,
    }
}

pub fn registry(regions: Vec<Region>) -> Registry {
    Registry::new(std::path::Path::new("regions.csv"), regions).unwrap()
}
