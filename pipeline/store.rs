//! The Parquet store: declared table schemas, atomic publishing, and the one reader helper.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;

use crate::catalog::Catalog;
use crate::ingest::{Ingested, Loc, Observation};
use crate::regions::Registry;

/// The targets file as ingested, inside the store.
pub const TARGETS_FILE: &str = "targets.toml";

/// Bumped when a table's columns change, so readers can tell old stores apart.
pub const STORE_VERSION: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}")]
    Polars { path: PathBuf, source: PolarsError },
    #[error("no store at {path}: run `cimon ingest` first")]
    Missing { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_owned(), source }
}
fn pl(path: &Path) -> impl FnOnce(PolarsError) -> StoreError + '_ {
    move |source| StoreError::Polars { path: path.to_owned(), source }
}

/// What a write produced.
#[derive(Debug, Clone)]
pub struct Written {
    pub years: Vec<i32>,
}

/// Write a whole store into a staging directory and publish it atomically in place of `dir`.
/// `targets` is the targets file's text, kept beside the data so `compute` judges the same targets.
pub fn write(
    dir: &Path,
    data: &Ingested,
    catalog: &Catalog,
    registry: &Registry,
    targets: Option<&str>,
) -> Result<Written, StoreError> {
    let staging = staging_dir(dir)?;
    match write_into(&staging, data, catalog, registry, targets) {
        Ok(written) => {
            publish_dir(&staging, dir)?;
            Ok(written)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// Write a whole store into the empty directory `dir`, unpublished (`cimon run` publishes
/// all stages together).
pub fn write_into(
    dir: &Path,
    data: &Ingested,
    catalog: &Catalog,
    registry: &Registry,
    targets: Option<&str>,
) -> Result<Written, StoreError> {
    let written = write_tables(dir, data, catalog, registry)?;
    if let Some(text) = targets {
        let path = dir.join(TARGETS_FILE);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(written)
}

/// A fresh sibling of `dir` to build into; leftovers of killed runs are removed first.
pub fn staging_dir(dir: &Path) -> Result<PathBuf, StoreError> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "store".into());
    let prefix = format!(".{name}.staging-");
    for entry in std::fs::read_dir(parent).map_err(io(parent))?.flatten() {
        let n = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = n.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) {
            // Only a dead process's leftovers: a live one may still be writing.
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let staging = parent.join(format!("{prefix}{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    Ok(staging)
}

/// Replace `target` by `staged` in one step, so readers see the old or the new tree, never a mix.
pub fn publish_dir(staged: &Path, target: &Path) -> Result<(), StoreError> {
    sync_tree(staged)?;
    if !target.exists() {
        std::fs::rename(staged, target).map_err(io(target))?;
    } else if exchange(staged, target).is_ok() {
        // `staged` now holds the previous tree; the new one is live, so a failed clean-up is
        // left for the next run (`staging_dir` removes dead runs' leftovers).
        let _ = std::fs::remove_dir_all(staged);
    } else {
        // No atomic exchange on this system: two renames, with a short window without `target`.
        let old = staged.with_extension("old");
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        std::fs::rename(target, &old).map_err(io(target))?;
        std::fs::rename(staged, target).map_err(io(target))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings; renameat2 does not keep the pointers.
    let rc =
        unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no atomic exchange"))
}

/// fsync every file and directory, so a power loss after publishing cannot lose entries.
pub fn sync_tree(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let p = entry.path();
        if p.is_dir() {
            sync_tree(&p)?;
        } else {
            File::open(&p).and_then(|f| f.sync_all()).map_err(io(&p))?;
        }
    }
    Ok(())
}

/// Write one table as zstd Parquet with cimon's footer metadata.
pub fn write_parquet(path: &Path, df: &mut DataFrame, meta: &[(String, String)]) -> Result<(), StoreError> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    let file = File::create(path).map_err(io(path))?;
    let mut kv = vec![
        ("cimon.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        ("cimon.store_version".to_string(), STORE_VERSION.to_string()),
    ];
    kv.extend(meta.iter().cloned());
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(Some(ZstdLevel::try_new(3).map_err(pl(path))?)))
        .with_statistics(StatisticsOptions::default())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(kv)))
        .finish(df)
        .map_err(pl(path))?;
    Ok(())
}

fn write_tables(dir: &Path, data: &Ingested, catalog: &Catalog, registry: &Registry) -> Result<Written, StoreError> {
    let mut years: Vec<i32> = data.observations.iter().map(|o| o.year).collect();
    years.dedup();
    let catalog_meta = [("cimon.catalog".to_string(), catalog.path.display().to_string())];

    let mut start = 0;
    for &y in &years {
        let n = data.observations[start..].iter().take_while(|o| o.year == y).count();
        let rows = &data.observations[start..start + n];
        start += n;
        let path = dir.join(format!("observations/year={y}/part-0.parquet"));
        let mut df = observations_frame(rows, catalog, data).map_err(pl(&path))?;
        write_parquet(&path, &mut df, &catalog_meta)?;
    }

    let tables: [(&str, PolarsResult<DataFrame>); 6] = [
        ("regions", regions_frame(registry)),
        ("indicators", indicators_frame(catalog)),
        ("groups", groups_frame(catalog)),
        ("sources", sources_frame(data)),
        ("revisions", revisions_frame(data)),
        ("warnings", warnings_frame(data)),
    ];
    for (name, df) in tables {
        let path = dir.join(format!("{name}.parquet"));
        let mut df = df.map_err(pl(&path))?;
        write_parquet(&path, &mut df, &catalog_meta)?;
    }
    Ok(Written { years })
}

fn loc_text(l: &Loc) -> String {
    l.to_string()
}

/// A named column from a Vec of values (with or without nulls).
pub fn col<T, N: ?Sized>(name: &str, v: T) -> Column
where
    Series: NamedFrom<T, N>,
{
    Column::new(name.into(), v)
}

fn observations_frame(rows: &[Observation], catalog: &Catalog, data: &Ingested) -> PolarsResult<DataFrame> {
    let revised: std::collections::HashSet<(&str, i32, &str)> =
        data.revisions.iter().map(|r| (r.region_code.as_str(), r.year, r.indicator.as_str())).collect();
    let unit = |code: &str| catalog.indicator(code).map(|i| i.unit.clone()).unwrap_or_default();
    DataFrame::new_infer_height(vec![
        col("region_code", rows.iter().map(|o| &*o.region_code).collect::<Vec<_>>()),
        col("indicator", rows.iter().map(|o| &*o.indicator).collect::<Vec<_>>()),
        col("value", rows.iter().map(|o| o.value).collect::<Vec<_>>()),
        col("unit", rows.iter().map(|o| unit(&o.indicator)).collect::<Vec<_>>()),
        col("raw_value", rows.iter().map(|o| o.raw_value.as_str()).collect::<Vec<_>>()),
        col("raw_unit", rows.iter().map(|o| &*o.raw_unit).collect::<Vec<_>>()),
        col("out_of_range", rows.iter().map(|o| o.out_of_range).collect::<Vec<_>>()),
        col(
            "revised",
            rows.iter().map(|o| revised.contains(&(&*o.region_code, o.year, &*o.indicator))).collect::<Vec<_>>(),
        ),
        col("source_file", rows.iter().map(|o| &*o.loc.file).collect::<Vec<_>>()),
        col("source_sha256", rows.iter().map(|o| &*o.sha256).collect::<Vec<_>>()),
        col("source_sheet", rows.iter().map(|o| o.loc.sheet.as_deref()).collect::<Vec<_>>()),
        col("source_row", rows.iter().map(|o| o.loc.row.map(|r| r as u32)).collect::<Vec<_>>()),
        col("source_column", rows.iter().map(|o| o.loc.column.as_deref()).collect::<Vec<_>>()),
        col("source_header", rows.iter().map(|o| o.loc.header.as_deref()).collect::<Vec<_>>()),
    ])
}

fn regions_frame(r: &Registry) -> PolarsResult<DataFrame> {
    let s = |f: fn(&crate::regions::Region) -> &str| r.regions.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        col("code", s(|x| &x.code)),
        col("name", s(|x| &x.name)),
        col("type", s(|x| &x.kind)),
        col("prefecture_code", s(|x| &x.prefecture_code)),
        col("prefecture_name", s(|x| &x.prefecture_name)),
        col("province_code", s(|x| &x.province_code)),
        col("province_name", s(|x| &x.province_name)),
        col("valid_from", r.regions.iter().map(|x| x.valid_from).collect::<Vec<_>>()),
        col("valid_to", r.regions.iter().map(|x| x.valid_to).collect::<Vec<_>>()),
        col("successor", r.regions.iter().map(|x| x.successor.as_deref()).collect::<Vec<_>>()),
        col("current_code", r.regions.iter().map(|x| r.current_code(&x.code)).collect::<Vec<_>>()),
    ])
}

fn indicators_frame(c: &Catalog) -> PolarsResult<DataFrame> {
    let i = &c.indicators;
    DataFrame::new_infer_height(vec![
        col("code", i.iter().map(|x| x.code.as_str()).collect::<Vec<_>>()),
        col("name_zh", i.iter().map(|x| x.name_zh.as_str()).collect::<Vec<_>>()),
        col("name_en", i.iter().map(|x| x.name_en.as_str()).collect::<Vec<_>>()),
        col("unit", i.iter().map(|x| x.unit.as_str()).collect::<Vec<_>>()),
        col("kind", i.iter().map(|x| x.kind.as_str()).collect::<Vec<_>>()),
        col("group", i.iter().map(|x| x.group.as_deref()).collect::<Vec<_>>()),
        col("direction", i.iter().map(|x| x.direction as i32).collect::<Vec<_>>()),
        col("weight", i.iter().map(|x| x.weight).collect::<Vec<_>>()),
        col("scored", i.iter().map(|x| x.scored).collect::<Vec<_>>()),
        col("range_min", i.iter().map(|x| x.range.map(|r| r[0])).collect::<Vec<_>>()),
        col("range_max", i.iter().map(|x| x.range.map(|r| r[1])).collect::<Vec<_>>()),
    ])
}

fn groups_frame(c: &Catalog) -> PolarsResult<DataFrame> {
    let nodes: Vec<&crate::catalog::Node> = std::iter::once(&c.index).chain(&c.groups).collect();
    DataFrame::new_infer_height(vec![
        col("code", nodes.iter().map(|x| x.code.as_str()).collect::<Vec<_>>()),
        col("name_zh", nodes.iter().map(|x| x.name_zh.as_str()).collect::<Vec<_>>()),
        col("name_en", nodes.iter().map(|x| x.name_en.as_str()).collect::<Vec<_>>()),
        col("parent", nodes.iter().map(|x| x.parent.as_deref()).collect::<Vec<_>>()),
        col("weight", nodes.iter().map(|x| x.weight).collect::<Vec<_>>()),
    ])
}

fn sources_frame(d: &Ingested) -> PolarsResult<DataFrame> {
    let s = &d.sources;
    DataFrame::new_infer_height(vec![
        col("file", s.iter().map(|x| x.file.as_str()).collect::<Vec<_>>()),
        col("sha256", s.iter().map(|x| x.sha256.as_str()).collect::<Vec<_>>()),
        col("bytes", s.iter().map(|x| x.bytes).collect::<Vec<_>>()),
        col("format", s.iter().map(|x| x.format.as_str()).collect::<Vec<_>>()),
        col("layout", s.iter().map(|x| x.layout.as_str()).collect::<Vec<_>>()),
        col("revision", s.iter().map(|x| x.revision).collect::<Vec<_>>()),
        col("synthetic", s.iter().map(|x| x.synthetic).collect::<Vec<_>>()),
        col("observations", s.iter().map(|x| x.observations as u64).collect::<Vec<_>>()),
    ])
}

fn revisions_frame(d: &Ingested) -> PolarsResult<DataFrame> {
    let r = &d.revisions;
    DataFrame::new_infer_height(vec![
        col("region_code", r.iter().map(|x| x.region_code.as_str()).collect::<Vec<_>>()),
        col("year", r.iter().map(|x| x.year).collect::<Vec<_>>()),
        col("indicator", r.iter().map(|x| x.indicator.as_str()).collect::<Vec<_>>()),
        col("old_value", r.iter().map(|x| x.old_value).collect::<Vec<_>>()),
        col("new_value", r.iter().map(|x| x.new_value).collect::<Vec<_>>()),
        col("old_source", r.iter().map(|x| x.old_source.as_ref().map(loc_text)).collect::<Vec<_>>()),
        col("new_source", r.iter().map(|x| loc_text(&x.new_source)).collect::<Vec<_>>()),
        col("new_file", r.iter().map(|x| &*x.new_source.file).collect::<Vec<_>>()),
    ])
}

fn warnings_frame(d: &Ingested) -> PolarsResult<DataFrame> {
    let w = &d.warnings;
    DataFrame::new_infer_height(vec![
        col("severity", w.iter().map(|x| x.severity.as_str()).collect::<Vec<_>>()),
        col("kind", w.iter().map(|x| x.kind).collect::<Vec<_>>()),
        col("file", w.iter().map(|x| &*x.loc.file).collect::<Vec<_>>()),
        col("sheet", w.iter().map(|x| x.loc.sheet.as_deref()).collect::<Vec<_>>()),
        col("row", w.iter().map(|x| x.loc.row.map(|r| r as u32)).collect::<Vec<_>>()),
        col("column", w.iter().map(|x| x.loc.column.as_deref()).collect::<Vec<_>>()),
        col("header", w.iter().map(|x| x.loc.header.as_deref()).collect::<Vec<_>>()),
        col("message", w.iter().map(|x| x.message.as_str()).collect::<Vec<_>>()),
    ])
}

/// The one reader of the observation table: all years, with `year` from the partition path.
pub fn scan_observations(store: &Path) -> Result<LazyFrame, StoreError> {
    let dir = store.join("observations");
    if !dir.is_dir() {
        return Err(StoreError::Missing { path: store.to_owned() });
    }
    let hive: SchemaRef = Arc::new(Schema::from_iter([Field::new("year".into(), DataType::Int32)]));
    let args = ScanArgsParquet {
        hive_options: HiveOptions {
            enabled: Some(true),
            hive_start_idx: 0,
            schema: Some(hive),
            try_parse_dates: false,
        },
        ..Default::default()
    };
    let pattern = format!("{}/**/*.parquet", dir.display());
    LazyFrame::scan_parquet(PlRefPath::new(&pattern), args).map_err(pl(&dir))
}

/// Read one of the store's small tables (`regions`, `indicators`, …).
pub fn read_table(store: &Path, name: &str) -> Result<DataFrame, StoreError> {
    let path = store.join(format!("{name}.parquet"));
    if !path.is_file() {
        return Err(StoreError::Missing { path: store.to_owned() });
    }
    let file = File::open(&path).map_err(io(&path))?;
    ParquetReader::new(file).finish().map_err(pl(&path))
}

/// A Parquet table read whole, with typed column access whose errors name the file.
pub struct Table {
    pub path: PathBuf,
    pub df: DataFrame,
}

impl Table {
    /// Read `dir/name.parquet`.
    pub fn read(dir: &Path, name: &str) -> Result<Table, StoreError> {
        let df = read_table(dir, name)?;
        Ok(Table { path: dir.join(format!("{name}.parquet")), df })
    }

    pub fn len(&self) -> usize {
        self.df.height()
    }

    pub fn is_empty(&self) -> bool {
        self.df.height() == 0
    }

    pub fn has(&self, name: &str) -> bool {
        self.df.column(name).is_ok()
    }

    fn column(&self, name: &str) -> Result<&Column, StoreError> {
        self.df.column(name).map_err(pl(&self.path))
    }

    pub fn str(&self, name: &str) -> Result<Vec<Option<&str>>, StoreError> {
        Ok(self.column(name)?.str().map_err(pl(&self.path))?.iter().collect())
    }

    pub fn f64(&self, name: &str) -> Result<Vec<Option<f64>>, StoreError> {
        Ok(self.column(name)?.f64().map_err(pl(&self.path))?.iter().collect())
    }

    pub fn i32(&self, name: &str) -> Result<Vec<Option<i32>>, StoreError> {
        Ok(self.column(name)?.i32().map_err(pl(&self.path))?.iter().collect())
    }

    pub fn u32(&self, name: &str) -> Result<Vec<Option<u32>>, StoreError> {
        Ok(self.column(name)?.u32().map_err(pl(&self.path))?.iter().collect())
    }

    pub fn u64(&self, name: &str) -> Result<Vec<Option<u64>>, StoreError> {
        Ok(self.column(name)?.u64().map_err(pl(&self.path))?.iter().collect())
    }

    pub fn bool(&self, name: &str) -> Result<Vec<Option<bool>>, StoreError> {
        Ok(self.column(name)?.bool().map_err(pl(&self.path))?.iter().collect())
    }
}
