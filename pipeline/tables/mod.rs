//! Declared Parquet tables: row types whose columns are declared once (`table!`), the one writer,
//! the one reader, and the check of the table format version on every read.
//!
//! A table is a `Vec` of rows. `table!` declares the row struct and derives its Parquet schema,
//! its conversion to a polars frame and back, and the column list the data dictionary is tested
//! against. A field's type says how it is stored (`Field`): plain values as one column, keyed
//! enums (`keyed!`) as their key, and a few composite fields (wide groups of columns, a note with
//! its arguments) as several columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

mod parquet;
pub use parquet::*;

/// Bumped whenever a stored table's columns or codes change; every read checks it, so an old
/// store or old results give a clear error instead of wrong figures.
pub const FORMAT_VERSION: &str = "4";
/// Footer key of the format version (also `cimon.version`, the writing cimon).
pub const VERSION_KEY: &str = "cimon.store_version";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}")]
    Polars { path: PathBuf, source: PolarsError },
    #[error("no store at {path}: run `cimon ingest` first")]
    Missing { path: PathBuf },
    #[error("{path}, column {column}{}: {problem}", row.map_or(String::new(), |r| format!(", row {r}")))]
    Column { path: PathBuf, column: String, row: Option<usize>, problem: String },
    #[error(
        "{path} was written by cimon {writer} in table format {found}; this cimon ({ours}) reads format {FORMAT_VERSION}: \
         rebuild the outputs with `cimon run --force` (or `cimon ingest`, then `cimon compute`)",
        ours = env!("CARGO_PKG_VERSION")
    )]
    Version { path: PathBuf, found: String, writer: String },
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_owned(), source }
}
pub(crate) fn pl(path: &Path) -> impl FnOnce(PolarsError) -> StoreError + '_ {
    move |source| StoreError::Polars { path: path.to_owned(), source }
}

/// What is wrong with one column of a frame being read; the reader adds the file.
#[derive(Debug)]
pub struct FieldError {
    pub column: String,
    /// 1-based data row.
    pub row: Option<usize>,
    pub problem: String,
}

impl FieldError {
    fn new(column: &str, problem: impl Into<String>) -> FieldError {
        FieldError { column: column.to_string(), row: None, problem: problem.into() }
    }
}

/// How a row field is stored: one column named after the field, or several.
pub trait Field: Sized {
    /// The stored column names (patterns such as `score_<group>` for wide groups).
    fn names(name: &str) -> Vec<String> {
        vec![name.to_string()]
    }
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>);
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError>;
}

/// A frame's column, with the error a reader can act on.
pub fn column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Column, FieldError> {
    df.column(name).map_err(|_| FieldError::new(name, "missing"))
}

fn typed<'a, T, F>(df: &'a DataFrame, name: &str, want: &str, get: F) -> Result<T, FieldError>
where
    F: FnOnce(&'a Column) -> PolarsResult<T>,
{
    let c = column(df, name)?;
    get(c).map_err(|_| FieldError::new(name, format!("is {}, expected {want}", c.dtype())))
}

/// Plain values: a non-null column of `$t`, or a nullable one for `Option<$t>`.
macro_rules! plain {
    ($($t:ty, $dtype:literal, $get:ident, $optional:expr);+ $(;)?) => {$(
        impl Field for $t {
            fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
                out.push(Column::new(name.into(), values.iter().map(|v| **v).collect::<Vec<$t>>()));
            }
            fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
                let ca = typed(df, name, $dtype, |c| c.$get())?;
                ca.iter()
                    .enumerate()
                    .map(|(i, v)| v.ok_or(FieldError { column: name.into(), row: Some(i + 1), problem: "is empty".into() }))
                    .collect()
            }
        }
        impl Field for Option<$t> {
            fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
                out.push($optional(name, values.iter().map(|v| **v)));
            }
            fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
                Ok(typed(df, name, $dtype, |c| c.$get())?.iter().collect())
            }
        }
    )+};
}

plain! {
    f64, "f64", f64, optional::<Float64Type>;
    i32, "i32", i32, optional::<Int32Type>;
    u32, "u32", u32, optional::<UInt32Type>;
    u64, "u64", u64, optional::<UInt64Type>;
    bool, "bool", bool, optional_bool;
}

fn optional_bool(name: &str, values: impl Iterator<Item = Option<bool>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<bool>>>())
}

/// A nullable number column from its values: the values and the validity gathered in one pass
/// (polars' builder pushes each value and its bit on its own, 5% of a national `compute`).
pub(crate) fn optional<T: PolarsNumericType>(
    name: &str,
    values: impl ExactSizeIterator<Item = Option<T::Native>>,
) -> Column {
    let mut data = Vec::with_capacity(values.len());
    let mut valid = polars_arrow::bitmap::MutableBitmap::with_capacity(values.len());
    for v in values {
        data.push(v.unwrap_or_default());
        valid.push(v.is_some());
    }
    ChunkedArray::<T>::from_vec_validity(name.into(), data, valid.into()).into_column()
}

impl Field for String {
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        out.push(Column::new(name.into(), values.iter().map(|v| v.as_str()).collect::<Vec<&str>>()));
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        let ca = typed(df, name, "str", |c| c.str())?;
        ca.iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(str::to_string).ok_or(FieldError {
                    column: name.into(),
                    row: Some(i + 1),
                    problem: "is empty".into(),
                })
            })
            .collect()
    }
}

impl Field for Option<String> {
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        out.push(Column::new(name.into(), values.iter().map(|v| v.as_deref()).collect::<Vec<Option<&str>>>()));
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        Ok(typed(df, name, "str", |c| c.str())?.iter().map(|v| v.map(str::to_string)).collect())
    }
}

/// A string column of repeated values, gathered from the distinct ones: views are copied instead
/// of strings pushed one by one (5× faster on the million-row tables).
pub fn gathered(name: &str, distinct: &[&str], idx: &[Option<IdxSize>]) -> Column {
    let values = Series::new(name.into(), distinct);
    // The indices and their validity in one pass, as `optional` (polars' builder was 4% of a
    // national `compute`); no validity when none is missing, as polars' builder makes it.
    let mut data = Vec::with_capacity(idx.len());
    let mut valid = polars_arrow::bitmap::MutableBitmap::with_capacity(idx.len());
    for i in idx {
        data.push(i.unwrap_or_default());
        valid.push(i.is_some());
    }
    let validity = (valid.unset_bits() > 0).then(|| valid.into());
    let idx = IdxCa::from_vec_validity(name.into(), data, validity);
    values.take(&idx).expect("indices come from the distinct values").into_column()
}

/// Hashes a pointer by one multiplication: the keys are addresses, not attacker input.
#[derive(Default)]
struct PtrHasher(u64);

impl std::hash::Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Rows as indices into their distinct shared strings (distinct by allocation: rows share the
/// Arc of their county, indicator, file or column), None for a missing value.
fn distinct_arcs<'a>(values: impl Iterator<Item = Option<&'a Arc<str>>>) -> (Vec<&'a str>, Vec<Option<IdxSize>>) {
    let mut seen: std::collections::HashMap<usize, IdxSize, std::hash::BuildHasherDefault<PtrHasher>> =
        Default::default();
    let mut distinct: Vec<&str> = Vec::new();
    let mut last: Option<(usize, IdxSize)> = None;
    let idx = values
        .map(|v| {
            let v = v?;
            let p = v.as_ptr() as usize;
            if let Some((_, li)) = last.filter(|l| l.0 == p) {
                return Some(li);
            }
            let i = *seen.entry(p).or_insert_with(|| {
                distinct.push(v);
                (distinct.len() - 1) as IdxSize
            });
            last = Some((p, i));
            Some(i)
        })
        .collect();
    (distinct, idx)
}

/// Shared strings for the codes repeated on every row of the big tables (region, indicator):
/// one allocation per distinct value, read or written.
impl Field for Arc<str> {
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        let (distinct, idx) = distinct_arcs(values.iter().map(|v| Some(*v)));
        out.push(gathered(name, &distinct, &idx));
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        let ca = typed(df, name, "str", |c| c.str())?;
        let mut seen: std::collections::HashMap<&str, Arc<str>> = std::collections::HashMap::new();
        ca.iter()
            .enumerate()
            .map(|(i, v)| {
                let v = v.ok_or(FieldError { column: name.into(), row: Some(i + 1), problem: "is empty".into() })?;
                Ok(seen.entry(v).or_insert_with(|| Arc::from(v)).clone())
            })
            .collect()
    }
}

impl Field for Option<Arc<str>> {
    fn write(name: &str, values: &[&Self], out: &mut Vec<Column>) {
        let (distinct, idx) = distinct_arcs(values.iter().map(|v| v.as_ref()));
        out.push(gathered(name, &distinct, &idx));
    }
    fn read(df: &DataFrame, name: &str) -> Result<Vec<Self>, FieldError> {
        let ca = typed(df, name, "str", |c| c.str())?;
        let mut seen: std::collections::HashMap<&str, Arc<str>> = std::collections::HashMap::new();
        Ok(ca.iter().map(|v| v.map(|v| seen.entry(v).or_insert_with(|| Arc::from(v)).clone())).collect())
    }
}

/// An enum stored as a short key (`achieved`, `leader`, …); see `keyed!`.
pub trait Keyed: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn key(self) -> &'static str;
    fn from_key(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.key() == s)
    }
    /// The keys, for messages: `achieved, on_track, …`.
    fn keys() -> String {
        Self::ALL.iter().map(|k| k.key()).collect::<Vec<_>>().join(", ")
    }
}

/// Read a key column into `Option<K>` values, naming the row of an unknown key.
pub fn read_keys<K: Keyed>(df: &DataFrame, name: &str) -> Result<Vec<Option<K>>, FieldError> {
    let ca = typed(df, name, "str", |c| c.str())?;
    ca.iter()
        .enumerate()
        .map(|(i, v)| match v {
            None => Ok(None),
            Some(s) => K::from_key(s).map(Some).ok_or_else(|| FieldError {
                column: name.into(),
                row: Some(i + 1),
                problem: format!("unknown value \"{s}\", expected one of {}", K::keys()),
            }),
        })
        .collect()
}

/// Declare an enum stored and serialised as its key: `Achieved = "achieved"`. It gets `as_str`,
/// `Keyed`, `Display`, serde (as the key, with an error listing the keys) and `Field` for itself
/// and for `Option` of itself.
#[macro_export]
macro_rules! keyed {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident = $key:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// The keys, in declaration order.
            pub const KEYS: &'static [&'static str] = &[$($key),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $key),+ }
            }
        }
        impl $crate::tables::Keyed for $name {
            const ALL: &'static [$name] = &[$($name::$v),+];
            fn key(self) -> &'static str { self.as_str() }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use $crate::tables::Keyed as _;
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::from_key(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, $name::KEYS))
            }
        }
        impl $crate::tables::Field for $name {
            fn write(name: &str, values: &[&Self], out: &mut Vec<polars::prelude::Column>) {
                let idx: Vec<Option<polars::prelude::IdxSize>> =
                    values.iter().map(|v| Some(**v as polars::prelude::IdxSize)).collect();
                out.push($crate::tables::gathered(name, $name::KEYS, &idx));
            }
            fn read(df: &polars::prelude::DataFrame, name: &str) -> Result<Vec<Self>, $crate::tables::FieldError> {
                $crate::tables::read_keys::<$name>(df, name)?
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| v.ok_or($crate::tables::FieldError {
                        column: name.into(), row: Some(i + 1), problem: "is empty".into(),
                    }))
                    .collect()
            }
        }
        impl $crate::tables::Field for Option<$name> {
            fn write(name: &str, values: &[&Self], out: &mut Vec<polars::prelude::Column>) {
                let idx: Vec<Option<polars::prelude::IdxSize>> =
                    values.iter().map(|v| v.map(|k| k as polars::prelude::IdxSize)).collect();
                out.push($crate::tables::gathered(name, $name::KEYS, &idx));
            }
            fn read(df: &polars::prelude::DataFrame, name: &str) -> Result<Vec<Self>, $crate::tables::FieldError> {
                $crate::tables::read_keys::<$name>(df, name)
            }
        }
    };
}

/// A table's row type: its file name and how rows become a frame and back.
pub trait Row: Sized {
    /// File stem: `index` is `index.parquet`.
    const TABLE: &'static str;
    /// Every stored column, in order (wide groups as patterns such as `score_<group>`).
    fn columns() -> Vec<String>;
    fn to_frame(rows: &[Self]) -> PolarsResult<DataFrame>;
    fn from_frame(df: &DataFrame) -> Result<Vec<Self>, FieldError>;
}

/// Declare a row struct and its table: each field is a stored column (or group of columns, by
/// its `Field` type), named after the field unless `#[col = "name"]` says otherwise.
#[macro_export]
macro_rules! table {
    ($(#[$m:meta])* pub struct $name:ident in $file:literal {
        $($(#[doc = $doc:literal])* $(#[col = $col:literal])? $field:ident : $ty:ty),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $($(#[doc = $doc])* pub $field: $ty),+ }

        impl $crate::tables::Row for $name {
            const TABLE: &'static str = $file;
            fn columns() -> Vec<String> {
                let mut v = Vec::new();
                $(v.extend(<$ty as $crate::tables::Field>::names($crate::table!(@name $field $($col)?)));)+
                v
            }
            fn to_frame(rows: &[Self]) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
                let mut cols = Vec::new();
                $(
                    let values: Vec<&$ty> = rows.iter().map(|r| &r.$field).collect();
                    <$ty as $crate::tables::Field>::write($crate::table!(@name $field $($col)?), &values, &mut cols);
                )+
                polars::prelude::DataFrame::new(rows.len(), cols)
            }
            fn from_frame(df: &polars::prelude::DataFrame) -> Result<Vec<Self>, $crate::tables::FieldError> {
                $(let mut $field = <$ty as $crate::tables::Field>::read(df, $crate::table!(@name $field $($col)?))?.into_iter();)+
                Ok((0..df.height())
                    .map(|_| $name { $($field: $field.next().expect("one value per row")),+ })
                    .collect())
            }
        }
    };
    (@name $field:ident $col:literal) => { $col };
    (@name $field:ident) => { stringify!($field) };
}

/// Rows as indices into their distinct shared strings, for callers building columns themselves.
pub fn arc_column<'a>(name: &str, values: impl Iterator<Item = Option<&'a Arc<str>>>) -> Column {
    let (distinct, idx) = distinct_arcs(values);
    gathered(name, &distinct, &idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::keyed! {
        /// A test enum.
        pub enum Colour { Red = "red", Green = "green" }
    }

    crate::table! {
        /// A test table with every plain kind of field.
        pub struct Sample in "sample" {
            code: Arc<str>,
            #[col = "type"]
            kind: String,
            year: i32,
            value: Option<f64>,
            count: u32,
            colour: Option<Colour>,
            note: Option<String>,
            flag: bool,
        }
    }

    fn rows() -> Vec<Sample> {
        vec![
            Sample {
                code: "420802".into(),
                kind: "市辖区".into(),
                year: 2024,
                value: Some(1.5),
                count: 3,
                colour: Some(Colour::Red),
                note: None,
                flag: true,
            },
            Sample {
                code: "420802".into(),
                kind: "县".into(),
                year: 2023,
                value: None,
                count: 0,
                colour: None,
                note: Some("x".into()),
                flag: false,
            },
        ]
    }

    #[test]
    fn a_nullable_number_column_is_what_polars_builds() {
        let values = [Some(1.5), None, Some(-0.0), Some(f64::NAN), None];
        let ours = optional::<Float64Type>("v", values.iter().copied());
        let polars = Column::new("v".into(), values.to_vec());
        assert!(ours.as_materialized_series().equals_missing(polars.as_materialized_series()));
        assert_eq!((ours.null_count(), ours.dtype()), (2, &DataType::Float64));
        let full = optional::<UInt32Type>("n", [Some(1u32), Some(2)].into_iter());
        assert_eq!(full.u32().unwrap().iter().collect::<Vec<_>>(), [Some(1), Some(2)]);
        assert!(full.u32().unwrap().chunks()[0].validity().is_none(), "no validity when nothing is missing");
    }

    #[test]
    fn rows_round_trip_through_parquet_with_declared_columns() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &rows(), &[]).unwrap();
        assert_eq!(read::<Sample>(dir.path()).unwrap(), rows());
        assert_eq!(Sample::columns(), ["code", "type", "year", "value", "count", "colour", "note", "flag"]);
        let only = read_where::<Sample>(dir.path(), Some(col("year").eq(lit(2023)))).unwrap();
        assert_eq!(only, rows()[1..]);
    }

    #[test]
    fn an_unknown_key_or_a_missing_column_names_file_column_and_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut df = Sample::to_frame(&rows()).unwrap();
        df.replace("colour", Column::new("colour".into(), [Some("red"), Some("blue")])).unwrap();
        write_parquet(&dir.path().join("sample.parquet"), &mut df, &[]).unwrap();
        let err = read::<Sample>(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("sample.parquet, column colour, row 2: unknown value \"blue\", expected one of red, green"),
            "{err}"
        );
        let mut df = Sample::to_frame(&rows()).unwrap().drop("flag").unwrap();
        write_parquet(&dir.path().join("sample.parquet"), &mut df, &[]).unwrap();
        let err = read::<Sample>(dir.path()).unwrap_err().to_string();
        assert!(err.contains("column flag: missing"), "{err}");
    }

    #[test]
    fn a_file_of_another_format_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.parquet");
        let mut df = Sample::to_frame(&rows()).unwrap();
        let file = std::fs::File::create(&path).unwrap();
        ParquetWriter::new(file)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![
                ("cimon.version".to_string(), "0.0.9".to_string()),
                (VERSION_KEY.to_string(), "1".to_string()),
            ])))
            .finish(&mut df)
            .unwrap();
        let err = read::<Sample>(dir.path()).unwrap_err().to_string();
        assert!(err.contains("written by cimon 0.0.9 in table format 1") && err.contains("cimon run --force"), "{err}");
    }
}
