//! The Parquet store: its tables (declared as rows), writing a whole store, atomic publishing of
//! a directory, and the observation scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;

use crate::catalog::Catalog;
use crate::ingest::{Ingested, Observation};
use crate::regions::Registry;
pub use crate::tables::StoreError;
use crate::tables::{self, io, pl};

/// The targets file as ingested, inside the store.
pub const TARGETS_FILE: &str = "targets.toml";

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
    let t0 = std::time::Instant::now();
    crate::atomic::staged(dir, |staging| {
        let written = write_into(staging, data, catalog, registry, targets)?;
        crate::timing::lap("store tables written in", t0);
        Ok(written)
    })
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

crate::table! {
    /// `observations` (one file per year, `year` in the partition path): every value with where it came from.
    pub struct ObservationRow in "observations" {
        region_code: Arc<str>,
        indicator: Arc<str>,
        value: Option<f64>,
        unit: Arc<str>,
        raw_value: String,
        raw_unit: Arc<str>,
        out_of_range: bool,
        revised: bool,
        source_file: Arc<str>,
        source_sha256: Arc<str>,
        source_sheet: Option<Arc<str>>,
        source_row: Option<u32>,
        source_column: Option<Arc<str>>,
        source_header: Option<Arc<str>>,
    }
}

crate::table! {
    /// `regions`: the registry the store was ingested with.
    pub struct RegionRow in "regions" {
        code: String,
        name: String,
        #[col = "type"]
        kind: String,
        prefecture_code: String,
        prefecture_name: String,
        province_code: String,
        province_name: String,
        valid_from: Option<i32>,
        valid_to: Option<i32>,
        successor: Option<String>,
        change: Option<crate::regions::Change>,
        former_names: Option<String>,
        /// The code the series continues under today (renames followed).
        current_code: String,
    }
}

crate::table! {
    /// `indicators`: the catalog the store was ingested with.
    pub struct IndicatorRow in "indicators" {
        code: String,
        name_zh: String,
        name_en: String,
        unit: String,
        kind: crate::catalog::Kind,
        group: Option<String>,
        direction: i32,
        weight: f64,
        scored: bool,
        range_min: Option<f64>,
        range_max: Option<f64>,
    }
}

crate::table! {
    /// `groups`: the index and every group of the catalog's hierarchy.
    pub struct GroupRow in "groups" {
        code: String,
        name_zh: String,
        name_en: String,
        parent: Option<String>,
        weight: f64,
    }
}

crate::table! {
    /// `revisions`: one row per value a revision file changed.
    pub struct RevisionRow in "revisions" {
        region_code: String,
        year: i32,
        indicator: String,
        old_value: Option<f64>,
        new_value: Option<f64>,
        old_source: Option<String>,
        new_source: String,
        new_file: String,
    }
}

crate::table! {
    /// `warnings`: one row per warning raised while ingesting.
    pub struct WarningRow in "warnings" {
        severity: crate::ingest::Severity,
        kind: String,
        file: String,
        sheet: Option<String>,
        row: Option<u32>,
        column: Option<String>,
        header: Option<String>,
        region_code: Option<String>,
        message: String,
        message_zh: String,
    }
}

pub use crate::records::{MissingRow, SourceInfo as SourceRow};

/// Every store table's name and declared columns, for the data dictionary test.
pub fn declared() -> Vec<(&'static str, Vec<String>)> {
    use tables::Row;
    vec![
        (ObservationRow::TABLE, ObservationRow::columns()),
        (RegionRow::TABLE, RegionRow::columns()),
        (IndicatorRow::TABLE, IndicatorRow::columns()),
        (GroupRow::TABLE, GroupRow::columns()),
        (SourceRow::TABLE, SourceRow::columns()),
        (RevisionRow::TABLE, RevisionRow::columns()),
        (WarningRow::TABLE, WarningRow::columns()),
        (MissingRow::TABLE, MissingRow::columns()),
    ]
}

/// The columns of `ObservationRow` for a batch of observations.
fn observation_frame(
    batch: &[Observation],
    units: &std::collections::HashMap<&str, Arc<str>>,
    sha: &std::collections::HashMap<&str, Arc<str>>,
) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
    use polars::prelude::{Column, DataFrame};
    let empty: Arc<str> = Arc::from("");
    // The raw cells as text in one buffer: numbers formatted once, here.
    let mut text = String::new();
    let mut ends = Vec::with_capacity(batch.len());
    for o in batch {
        o.raw_value.write_text(&mut text);
        ends.push(text.len());
    }
    let raw: Vec<&str> = ends
        .iter()
        .scan(0, |s, &e| {
            let piece = &text[*s..e];
            *s = e;
            Some(piece)
        })
        .collect();
    let width = batch.iter().map(|o| o.loc.col as usize + 1).max().unwrap_or(0);
    let letters: Vec<Arc<str>> = (0..width).map(|c| Arc::from(crate::text::column_letter(c))).collect();
    let cols = vec![
        tables::arc_column("region_code", batch.iter().map(|o| Some(&o.region_code))),
        tables::arc_column("indicator", batch.iter().map(|o| Some(&o.indicator))),
        Column::new("value".into(), batch.iter().map(|o| o.value).collect::<Vec<_>>()),
        tables::arc_column("unit", batch.iter().map(|o| Some(units.get(&*o.indicator).unwrap_or(&empty)))),
        Column::new("raw_value".into(), raw),
        tables::arc_column("raw_unit", batch.iter().map(|o| Some(&o.raw_unit))),
        Column::new("out_of_range".into(), batch.iter().map(|o| o.out_of_range).collect::<Vec<_>>()),
        Column::new("revised".into(), batch.iter().map(|o| o.revised).collect::<Vec<_>>()),
        tables::arc_column("source_file", batch.iter().map(|o| Some(o.loc.file()))),
        tables::arc_column("source_sha256", batch.iter().map(|o| Some(sha.get(&**o.loc.file()).unwrap_or(&empty)))),
        tables::arc_column("source_sheet", batch.iter().map(|o| o.loc.place.sheet.as_ref())),
        Column::new("source_row".into(), batch.iter().map(|o| Some(o.loc.row)).collect::<Vec<_>>()),
        tables::arc_column("source_column", batch.iter().map(|o| Some(&letters[o.loc.col as usize]))),
        tables::arc_column("source_header", batch.iter().map(|o| o.loc.place.header.as_ref())),
    ];
    DataFrame::new(batch.len(), cols)
}

fn write_tables(dir: &Path, data: &Ingested, catalog: &Catalog, registry: &Registry) -> Result<Written, StoreError> {
    crate::faults::io("store").map_err(io(dir))?;
    let mut years: Vec<i32> = data.observations.iter().map(|o| o.year).collect();
    years.dedup();
    let meta = [("cimon.catalog".to_string(), catalog.path.display().to_string())];

    let units: std::collections::HashMap<&str, Arc<str>> =
        catalog.indicators.iter().map(|i| (i.code.as_str(), Arc::from(i.unit.as_str()))).collect();
    let sha: std::collections::HashMap<&str, Arc<str>> =
        data.sources.iter().map(|s| (s.file.as_str(), Arc::from(s.sha256.as_str()))).collect();
    // One file per year (the observations are sorted by year), built column by column from the
    // observations in batches: no row copies of a million values. The years on every core, in
    // row groups of up to 131,072 rows (a national year is one): 16,384 made 70 row groups and
    // took the write from 0.23 to 0.28 s at national scale, at the same peak.
    const YEAR_BATCH: usize = 1 << 17;
    let mut start = 0;
    let mut per_year = Vec::with_capacity(years.len());
    for &y in &years {
        let n = data.observations[start..].iter().take_while(|o| o.year == y).count();
        per_year.push((y, &data.observations[start..start + n]));
        start += n;
    }
    use rayon::prelude::*;
    per_year.par_iter().try_for_each(|(y, rows)| {
        let frames = rows.chunks(YEAR_BATCH).map(|batch| || observation_frame(batch, &units, &sha));
        tables::write_frames::<ObservationRow, _, _>(
            &dir.join(format!("observations/year={y}/part-0.parquet")),
            frames,
            &meta,
        )
    })?;

    let regions: Vec<RegionRow> = registry
        .regions
        .iter()
        .map(|r| RegionRow {
            code: r.code.clone(),
            name: r.name.clone(),
            kind: r.kind.clone(),
            prefecture_code: r.prefecture_code.clone(),
            prefecture_name: r.prefecture_name.clone(),
            province_code: r.province_code.clone(),
            province_name: r.province_name.clone(),
            valid_from: r.valid_from,
            valid_to: r.valid_to,
            successor: r.successor.clone(),
            change: r.change,
            former_names: r.former_names.clone(),
            current_code: registry.current_code(&r.code).to_string(),
        })
        .collect();
    tables::write(dir, &regions, &meta)?;
    let indicators: Vec<IndicatorRow> = catalog
        .indicators
        .iter()
        .map(|x| IndicatorRow {
            code: x.code.clone(),
            name_zh: x.name_zh.clone(),
            name_en: x.name_en.clone(),
            unit: x.unit.clone(),
            kind: x.kind,
            group: x.group.clone(),
            direction: x.direction as i32,
            weight: x.weight,
            scored: x.scored,
            range_min: x.range.map(|r| r[0]),
            range_max: x.range.map(|r| r[1]),
        })
        .collect();
    tables::write(dir, &indicators, &meta)?;
    let groups: Vec<GroupRow> = std::iter::once(&catalog.index)
        .chain(&catalog.groups)
        .map(|x| GroupRow {
            code: x.code.clone(),
            name_zh: x.name_zh.clone(),
            name_en: x.name_en.clone(),
            parent: x.parent.clone(),
            weight: x.weight,
        })
        .collect();
    tables::write(dir, &groups, &meta)?;
    tables::write(dir, &data.sources, &meta)?;
    let revisions: Vec<RevisionRow> = data
        .revisions
        .iter()
        .map(|r| RevisionRow {
            region_code: r.region_code.clone(),
            year: r.year,
            indicator: r.indicator.clone(),
            old_value: r.old_value,
            new_value: r.new_value,
            old_source: r.old_source.as_ref().map(|l| l.to_string()),
            new_source: r.new_source.to_string(),
            new_file: r.new_source.file.to_string(),
        })
        .collect();
    tables::write(dir, &revisions, &meta)?;
    let warnings: Vec<WarningRow> = data
        .warnings
        .iter()
        .map(|w| WarningRow {
            severity: w.severity,
            kind: w.kind.to_string(),
            file: w.loc.file.to_string(),
            sheet: w.loc.sheet.as_deref().map(str::to_string),
            row: w.loc.row.map(|r| r as u32),
            column: w.loc.column.as_deref().map(str::to_string),
            header: w.loc.header.as_deref().map(str::to_string),
            region_code: w.region.as_deref().map(str::to_string),
            message: w.message.clone(),
            message_zh: w.message_zh.clone(),
        })
        .collect();
    tables::write(dir, &warnings, &meta)?;
    tables::write(dir, &data.missing, &meta)?;
    Ok(Written { years })
}

/// One year's stored values: (county code, indicator) → value; empty without a store.
pub fn year_values(store: &Path, year: i32) -> Result<HashMap<(String, String), Option<f64>>, StoreError> {
    use polars::prelude::{col, lit};
    if !store.join("observations").is_dir() {
        return Ok(HashMap::new());
    }
    let pl = |source| StoreError::Polars { path: store.join("observations"), source };
    let df = scan_observations(store)?
        .filter(col("year").eq(lit(year)))
        .select([col("region_code"), col("indicator"), col("value")])
        .collect()
        .map_err(pl)?;
    let codes = df.column("region_code").and_then(|c| c.str().cloned()).map_err(pl)?;
    let inds = df.column("indicator").and_then(|c| c.str().cloned()).map_err(pl)?;
    let values = df.column("value").and_then(|c| c.f64().cloned()).map_err(pl)?;
    Ok(codes
        .iter()
        .zip(inds.iter())
        .zip(values.iter())
        .filter_map(|((c, i), v)| Some(((c?.to_string(), i?.to_string()), v)))
        .collect())
}

/// What a published store holds, as far as losing it matters: its years, and its county-years.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Held {
    pub years: BTreeSet<i32>,
    /// Empty for a store of an older table format (its years are known from its partitions).
    pub counties: BTreeSet<(i32, String)>,
}

/// What the store in `dir` holds; None when there is no store.
pub fn held(dir: &Path) -> Result<Option<Held>, StoreError> {
    let obs = dir.join("observations");
    if !obs.is_dir() {
        return Ok(None);
    }
    let mut held = Held::default();
    for e in std::fs::read_dir(&obs).map_err(io(&obs))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(y) = name.strip_prefix("year=").and_then(|y| y.parse().ok()) {
            held.years.insert(y);
        }
    }
    if held.years.is_empty() {
        return Ok(Some(held));
    }
    // A store of an older format is being rebuilt: its years are all that can be compared.
    match scan_observations(dir) {
        Err(StoreError::Version { .. }) => return Ok(Some(held)),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    // Year by year: a national store's two million rows are never read at once.
    for &y in &held.years {
        let part = obs.join(format!("year={y}")).join("part-0.parquet");
        let frame = LazyFrame::scan_parquet(PlRefPath::new(part.to_string_lossy().as_ref()), Default::default())
            .and_then(|lf| lf.select([col("region_code")]).unique(None, UniqueKeepStrategy::Any).collect())
            .map_err(pl(&part))?;
        let codes = frame.column("region_code").and_then(|c| c.str().cloned()).map_err(pl(&part))?;
        held.counties.extend(codes.iter().flatten().map(|c| (y, c.to_string())));
    }
    Ok(Some(held))
}

/// What a new store would lose of a published one: whole years, and the prefectures of the
/// years it keeps that it would hold no county of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loss {
    pub years: Vec<i32>,
    /// (year, prefecture code, prefecture name)
    pub prefecture_years: Vec<(i32, String, String)>,
}

impl Loss {
    pub fn is_empty(&self) -> bool {
        self.years.is_empty() && self.prefecture_years.is_empty()
    }
}

pub fn loss(published: &Held, new: &Ingested, registry: &Registry) -> Loss {
    let prefecture = |code: &str| -> (String, String) {
        match registry.get(code) {
            Some(r) => (r.prefecture_code.clone(), r.prefecture_name.clone()),
            None => (format!("{}00", &code[..code.len().min(4)]), String::new()),
        }
    };
    let mut kept_years = BTreeSet::new();
    let mut kept: BTreeSet<(i32, String)> = BTreeSet::new();
    let mut last: Option<(i32, &str)> = None;
    for o in &new.observations {
        if last == Some((o.year, &*o.region_code)) {
            continue;
        }
        last = Some((o.year, &*o.region_code));
        kept_years.insert(o.year);
        kept.insert((o.year, prefecture(&o.region_code).0));
    }
    let years: Vec<i32> = published.years.difference(&kept_years).copied().collect();
    let mut lost: BTreeMap<(i32, String), String> = BTreeMap::new();
    for (y, code) in &published.counties {
        if !kept_years.contains(y) {
            continue;
        }
        let (p, name) = prefecture(code);
        if !kept.contains(&(*y, p.clone())) {
            lost.insert((*y, p), name);
        }
    }
    Loss { years, prefecture_years: lost.into_iter().map(|((y, p), n)| (y, p, n)).collect() }
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
    // Every partition is written by the same ingest: checking one tells the store's format.
    let first = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .flatten()
        .map(|e| e.path().join("part-0.parquet"))
        .find(|p| p.is_file());
    if let Some(part) = first {
        tables::check_version(&part)?;
    }
    let pattern = format!("{}/**/*.parquet", dir.display());
    LazyFrame::scan_parquet(PlRefPath::new(&pattern), args).map_err(pl(&dir))
}
