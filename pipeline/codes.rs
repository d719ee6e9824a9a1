//! The coded values of the result tables: statuses, groups, notes, reasons, method choices and
//! growth spans travel as these enums, stored as short keys; their wording per language lives in
//! `report-templates/labels.toml`.

use polars::prelude::{Column, DataFrame};
use serde::{Deserialize, Serialize};

use crate::tables::{column, Field, FieldError};

crate::keyed! {
    /// How far a county is from a target (README, data dictionary: the status rules).
    pub enum Status {
        Achieved = "achieved",
        OnTrack = "on_track",
        AtRisk = "at_risk",
        OffTrack = "off_track",
        /// The period is over and the target was not met.
        Missed = "missed",
        NoData = "no_data",
    }
}

impl Status {
    /// At risk, off track or missed: the targets a report asks the reader to look at.
    pub fn lagging(self) -> bool {
        matches!(self, Status::AtRisk | Status::OffTrack | Status::Missed)
    }
}

crate::keyed! {
    /// European Innovation Scoreboard style group by the ratio of the index to the year's average.
    pub enum RatioGroup {
        Leader = "leader",
        Strong = "strong",
        Moderate = "moderate",
        Emerging = "emerging",
    }
}

crate::keyed! {
    /// Why a growth figure is null.
    pub enum GrowthNote {
        ValueMissing = "value_missing",
        NoBase = "no_base",
        BadBase = "bad_base",
    }
}

crate::keyed! {
    /// The unit of a change: percent (growth, 水平法) or percentage points a year (ratios).
    pub enum ChangeUnit {
        Percent = "%",
        Points = "pp",
    }
}

crate::keyed! {
    /// A method choice the sensitivity analysis varies.
    pub enum Choice {
        Weights = "weights",
        /// Switching between weight schemes (`[sensitivity] weights`).
        WeightScheme = "weight_scheme",
        Normalisation = "normalisation",
        Aggregation = "aggregation",
        Imputation = "imputation",
        IndicatorExclusion = "indicator_exclusion",
    }
}

crate::keyed! {
    /// What an indicator is correlated with in the audit.
    pub enum Relation {
        /// Its parent node (for a two-level index, its dimension).
        Parent = "parent",
        /// Its top-level dimension, when deeper than its parent.
        Dimension = "dimension",
        /// A dimension it does not belong to (the audit's heat map shows every dimension).
        OtherDimension = "other_dimension",
        Index = "index",
        /// Another indicator of the same parent.
        Pair = "pair",
    }
}

crate::keyed! {
    /// What the statistical audit found a reader should act on.
    pub enum AuditFlag {
        /// Cronbach's alpha of a node's children below 0.7.
        LowAlpha = "low_alpha",
        /// The first principal component of a dimension explains less than half the variance.
        WeakFirstComponent = "weak_first_component",
        /// Two indicators of one dimension with |r| > 0.9: one of them counts twice.
        Collinear = "collinear",
        /// An indicator that falls as its dimension rises.
        NegativeWithDimension = "negative_with_dimension",
        /// An indicator not significantly correlated with its dimension (p > 0.05).
        InsignificantWithDimension = "insignificant_with_dimension",
    }
}

/// Why an attainment figure is what it is (or missing), with what the wording needs; stored as a
/// key (`note`) and its arguments as JSON (`note_args`), worded by `labels.toml` `notes.<key>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "key", rename_all = "snake_case", deny_unknown_fields)]
pub enum Note {
    /// No value in an end year that has passed.
    NoEndValue {
        year: i32,
    },
    NoValueUpToEnd,
    TooLittleHistory,
    NoBaseValue {
        year: i32,
    },
    NoValueAfterBase,
    /// A value is zero or negative.
    GrowthUndefined,
    /// Realised growth (%) beyond a two-sided range on the better side.
    BeyondRange {
        growth: f64,
    },
    NoValueInPeriod,
    MetYears {
        met: u32,
        seen: u32,
    },
    MissingCountedZero,
    /// A level target's milestone of this year was missed.
    MilestoneMissed {
        year: i32,
    },
    /// A rank met as published, but not in enough of the method replications.
    RankInterval {
        p05: u32,
        p95: u32,
    },
    /// A tier met as published, kept in this share of the replications.
    TierShare {
        share: f64,
    },
    /// A rank or tier target of every year missed in this year.
    MissedInYear {
        year: i32,
    },
    /// A regional total needs every county: some did not report.
    NotAllReported {
        reported: u32,
        counties: u32,
    },
}

impl Note {
    /// The key, as stored and as labels.toml names it.
    pub fn key(&self) -> String {
        let v = serde_json::to_value(self).expect("notes serialise");
        v["key"].as_str().unwrap_or_default().to_string()
    }

    /// The English wording, for messages and the tests.
    pub fn english(&self) -> String {
        match self {
            Note::NoEndValue { year } => format!("no value in the end year {year}"),
            Note::NoValueUpToEnd => "no value up to the end year".into(),
            Note::TooLittleHistory => "too little history for a trend".into(),
            Note::NoBaseValue { year } => format!("no value in the base year {year}"),
            Note::NoValueAfterBase => "no value after the base year".into(),
            Note::GrowthUndefined => "growth undefined (a value is zero or negative)".into(),
            Note::BeyondRange { growth } => format!("growth {growth:.1}% beyond the range on the better side"),
            Note::NoValueInPeriod => "no value in the period".into(),
            Note::MetYears { met, seen } => format!("met in {met} of {seen} years so far"),
            Note::MissingCountedZero => "missing years counted as zero".into(),
            Note::MilestoneMissed { year } => format!("the {year} milestone was missed"),
            Note::RankInterval { p05, p95 } => format!("90% rank interval {p05}–{p95}: not met in every replication"),
            Note::TierShare { share } => format!("in the tier in {:.0}% of the replications", share * 100.0),
            Note::MissedInYear { year } => format!("not met in {year}"),
            Note::NotAllReported { reported, counties } => format!("{reported} of {counties} counties reported"),
        }
    }
}

/// Split a tagged value into its key and its other fields as JSON (None when it has none).
fn split_tagged(v: &impl Serialize) -> (String, Option<String>) {
    let mut obj = match serde_json::to_value(v).expect("tagged values serialise") {
        serde_json::Value::Object(o) => o,
        _ => unreachable!("tagged enums serialise to objects"),
    };
    let key = obj.remove("key").and_then(|k| k.as_str().map(str::to_string)).unwrap_or_default();
    (key.clone(), (!obj.is_empty()).then(|| serde_json::Value::Object(obj).to_string()))
}

/// Join a key and its JSON arguments back into a tagged value.
fn join_tagged<T: for<'de> Deserialize<'de>>(key: &str, args: Option<&str>) -> Result<T, String> {
    let mut obj = match args {
        Some(a) => match serde_json::from_str::<serde_json::Value>(a) {
            Ok(serde_json::Value::Object(o)) => o,
            _ => return Err(format!("arguments {a} are not a JSON object")),
        },
        None => serde_json::Map::new(),
    };
    obj.insert("key".into(), key.into());
    serde_json::from_value(serde_json::Value::Object(obj)).map_err(|e| format!("\"{key}\": {e}"))
}

/// `note` (key) and `note_args` (JSON): the arguments column is named after the field.
impl Field for Option<Note> {
    fn names(name: &str) -> Vec<String> {
        vec![name.to_string(), format!("{name}_args")]
    }
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        let split: Vec<Option<(String, Option<String>)>> =
            values.iter().map(|v| v.as_ref().map(split_tagged)).collect();
        let keys: Vec<Option<&str>> = split.iter().map(|s| s.as_ref().map(|(k, _)| k.as_str())).collect();
        let args: Vec<Option<&str>> = split.iter().map(|s| s.as_ref().and_then(|(_, a)| a.as_deref())).collect();
        out.push(Column::new(name.into(), keys));
        out.push(Column::new(format!("{name}_args").into(), args));
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        let args_name = format!("{name}_args");
        let keys = <Option<String>>::read(df, name)?;
        let args = <Option<String>>::read(df, &args_name)?;
        keys.iter()
            .zip(&args)
            .enumerate()
            .map(|(i, (k, a))| match k {
                None => Ok(None),
                Some(k) => join_tagged(k, a.as_deref()).map(Some).map_err(|problem| FieldError {
                    column: name.to_string(),
                    row: Some(i + 1),
                    problem,
                }),
            })
            .collect()
    }
}

/// What the sensitivity analysis switches between for one choice, worded by `labels.toml`
/// `option_text.<key>`; stored as an English description (`options`) and JSON (`options_args`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "key", rename_all = "snake_case", deny_unknown_fields)]
pub enum Options {
    /// Uniform noise of ± this many percent on every weight.
    Noise { percent: f64 },
    /// The options as the config file spells them.
    Choices { names: Vec<String> },
    /// None, or one of this many scored indicators left out.
    LeaveOneOut { indicators: u32 },
}

impl Options {
    pub fn english(&self) -> String {
        match self {
            Options::Noise { percent } => format!("±{percent:.0}% uniform noise on every weight"),
            Options::Choices { names } => names.join(", "),
            Options::LeaveOneOut { indicators } => format!("none or one of the {indicators} scored indicators"),
        }
    }
}

impl Field for Options {
    fn names(name: &str) -> Vec<String> {
        vec![name.to_string(), format!("{name}_args")]
    }
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        let text: Vec<String> = values.iter().map(|v| v.english()).collect();
        let json: Vec<String> = values.iter().map(|v| serde_json::to_string(v).expect("options serialise")).collect();
        out.push(Column::new(name.into(), text));
        out.push(Column::new(format!("{name}_args").into(), json));
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        let args_name = format!("{name}_args");
        column(df, name)?;
        String::read(df, &args_name)?
            .iter()
            .enumerate()
            .map(|(i, a)| {
                serde_json::from_str(a).map_err(|e| FieldError {
                    column: args_name.clone(),
                    row: Some(i + 1),
                    problem: e.to_string(),
                })
            })
            .collect()
    }
}

/// A group of columns named `<prefix><key>`, one value per key on every row (the index's
/// `score_<group>` columns). The field's column name is the pattern, e.g. `score_<group>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Wide(pub Vec<(std::sync::Arc<str>, Option<f64>)>);

impl Wide {
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| &**k == key).and_then(|(_, v)| *v)
    }
}

fn prefix(pattern: &str) -> &str {
    pattern.split('<').next().unwrap_or(pattern)
}

impl Field for Wide {
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        let Some(first) = values.first() else { return };
        for (j, (key, _)) in first.0.iter().enumerate() {
            let col: Vec<Option<f64>> = values.iter().map(|v| v.0.get(j).and_then(|(_, x)| *x)).collect();
            out.push(Column::new(format!("{}{key}", prefix(name)).into(), col));
        }
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        let p = prefix(name);
        let mut groups: Vec<(std::sync::Arc<str>, Vec<Option<f64>>)> = Vec::new();
        for c in df.get_column_names() {
            if let Some(key) = c.strip_prefix(p) {
                groups.push((key.into(), <Option<f64>>::read(df, c)?));
            }
        }
        Ok((0..df.height()).map(|i| Wide(groups.iter().map(|(k, v)| (k.clone(), v[i])).collect())).collect())
    }
}

crate::keyed! {
    /// Which list a county is on.
    pub enum Verdict {
        /// 考评先进: leading or most improved.
        Advanced = "advanced",
        /// 退步明显: fell back by at least `fell_back` places.
        FellBack = "fell_back",
    }
}

crate::keyed! {
    /// Where the weights come from.
    pub enum WeightScheme {
        Catalog = "catalog",
        Equal = "equal",
        /// 熵权法, at every level (pooled over the years or per year: `weights_years`).
        Entropy = "entropy",
        /// CRITIC: contrast and conflict between the children.
        Critic = "critic",
        /// 变异系数法: spread over level of the indicators' own values (children's scores above).
        Cv = "cv",
        /// 层次分析法 from the catalog's pairwise comparison matrices.
        Ahp = "ahp",
        /// 组合赋权: α·subjective + (1 − α)·objective (`[compute.combine]`).
        Combined = "combined",
    }
}

/// A growth measure over a fixed span, or since a base year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    Years(i32),
    Since(i32),
}

impl Span {
    /// Column name in the growth table: `yoy`, `avg_3y`, `since_2015`.
    pub fn column(self) -> String {
        match self {
            Span::Years(1) => "yoy".into(),
            Span::Years(n) => format!("avg_{n}y"),
            Span::Since(b) => format!("since_{b}"),
        }
    }

    /// The span of a growth column name (`column` backwards); None for any other column.
    pub fn parse(column: &str) -> Option<Span> {
        if column == "yoy" {
            return Some(Span::Years(1));
        }
        let years = |s: &str| s.parse::<i32>().ok().filter(|_| s.bytes().all(|b| b.is_ascii_digit()));
        if let Some(n) = column.strip_prefix("avg_").and_then(|c| c.strip_suffix('y')) {
            return years(n).filter(|&n| n > 1).map(Span::Years);
        }
        column.strip_prefix("since_").and_then(years).map(Span::Since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_split_into_key_and_arguments_and_back() {
        let n = Note::MetYears { met: 2, seen: 3 };
        assert_eq!(n.key(), "met_years");
        let (k, a) = split_tagged(&n);
        assert_eq!((k.as_str(), a.as_deref()), ("met_years", Some(r#"{"met":2,"seen":3}"#)));
        assert_eq!(join_tagged::<Note>(&k, a.as_deref()).unwrap(), n);
        assert_eq!(split_tagged(&Note::TooLittleHistory), ("too_little_history".to_string(), None));
        assert!(join_tagged::<Note>("met_years", Some(r#"{"met":2}"#)).unwrap_err().contains("seen"));
        assert_eq!(Note::BeyondRange { growth: 9.126 }.english(), "growth 9.1% beyond the range on the better side");
    }
}
