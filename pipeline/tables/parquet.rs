//! The one writer and the one reader of table files: zstd Parquet with cimon's footer (the
//! writing cimon and the table format, checked on every read), written in batches, read whole or
//! filtered; a write that fails says why in the system's own words (a full disk).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::parquet::error::ParquetError;
use polars_parquet::write::{
    self as pq, array_to_columns, CompressedPage, CompressionOptions, Compressor, Encoding, ParquetType, Version,
    WriteOptions,
};

/// Hashed with foldhash: the keys are views and texts of one column.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use super::{io, pl, FieldError, Row, StoreError, FORMAT_VERSION, VERSION_KEY};

/// A file that keeps the first I/O error it met: polars reports a failed write as a Parquet
/// error ("Invalid thrift: transport error"), and what the user must hear is the system's own
/// (No space left on device).
struct Watched {
    /// Buffered: the Parquet writer writes each page header and page on its own, 160,000 system
    /// calls for a national `compute` (a tenth of its CPU). The writer flushes at its end, so an
    /// error of the last write is seen too.
    file: std::io::BufWriter<File>,
    seen: Seen,
}

impl std::io::Write for Watched {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf).inspect_err(|e| self.keep(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush().inspect_err(|e| self.keep(e))
    }
}

impl Watched {
    fn keep(&self, e: &std::io::Error) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.is_none() {
            *seen = Some(match e.raw_os_error() {
                Some(code) => std::io::Error::from_raw_os_error(code),
                None => std::io::Error::new(e.kind(), e.to_string()),
            });
        }
    }
}

/// A writer's failure as the user should hear it: the I/O error beneath a Parquet one, or, when
/// none was kept but the disk is full, that.
fn failed(path: &Path, seen: &std::sync::Mutex<Option<std::io::Error>>) -> impl FnOnce(PolarsError) -> StoreError {
    let path = path.to_path_buf();
    let kept = seen.lock().unwrap_or_else(|p| p.into_inner()).take();
    move |source| match kept.or_else(|| disk_full(&path).then(|| std::io::Error::from_raw_os_error(libc::ENOSPC))) {
        Some(e) => StoreError::Io { path, source: e },
        None => StoreError::Polars { path, source },
    }
}

/// Whether the file system of `path` (or of its nearest existing parent) has less than a
/// mebibyte free: a writer that failed without saying why most likely ran out of room.
pub fn disk_full(path: &Path) -> bool {
    free_bytes(path).is_some_and(|free| free < 1 << 20)
}

/// Bytes free for this user on the file system of `path` (or of its nearest existing parent).
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.ancestors().find(|p| p.exists())?;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes only into the struct we own; the path is NUL-terminated.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    (unsafe { libc::statvfs(c.as_ptr(), &mut s) } == 0).then(|| (s.f_bavail as u64) * (s.f_frsize as u64))
}

type Writer = ParquetWriter<Watched>;
/// zstd's level for every table file.
const ZSTD_LEVEL: i32 = 3;
/// Where a `Watched` file keeps its first I/O error.
type Seen = Arc<std::sync::Mutex<Option<std::io::Error>>>;

/// A zstd Parquet writer with cimon's footer metadata (versions, and `meta`), encoding on the
/// calling thread, and where it keeps the I/O error beneath a failure (see `failed`).
fn parquet_writer(path: &Path, meta: &[(String, String)]) -> Result<(Writer, Seen), StoreError> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    let file = File::create(path).map_err(io(path))?;
    let seen = Arc::new(std::sync::Mutex::new(None));
    let file = Watched { file: std::io::BufWriter::with_capacity(1 << 17, file), seen: seen.clone() };
    let mut kv = vec![
        ("cimon.version".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        (VERSION_KEY.to_string(), FORMAT_VERSION.to_string()),
    ];
    kv.extend(meta.iter().cloned());
    let writer = ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(Some(ZstdLevel::try_new(ZSTD_LEVEL).map_err(pl(path))?)))
        .with_statistics(StatisticsOptions::default())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(kv)))
        // Never polars' own pool (`Batches` encodes on cimon's threads): nested under callers
        // that write several files at once, it encoded a whole row group's columns at once
        // (slower, and 170 MB more at national scale; BENCHMARKS.md).
        .set_parallel(false);
    Ok((writer, seen))
}

/// Write one frame as a table file, in row groups as polars' `ParquetWriter::finish` makes them.
pub fn write_parquet(path: &Path, df: &mut DataFrame, meta: &[(String, String)]) -> Result<(), StoreError> {
    let (writer, seen) = parquet_writer(path, meta)?;
    let fail = |e| failed(path, &seen)(e);
    let df = polars::frame::chunk_df_for_writing(df, 512 * 512).map_err(pl(path))?;
    let mut writer = Batches::new(writer, df.schema()).map_err(fail)?;
    writer.write(&df).map_err(fail)?;
    writer.finish().map_err(fail)
}

/// The one writer: `rows` as `dir/<table>.parquet`.
pub fn write<R: Row>(dir: &Path, rows: &[R], meta: &[(String, String)]) -> Result<(), StoreError> {
    let path = path_of::<R>(dir);
    let mut df = R::to_frame(rows).map_err(pl(&path))?;
    write_parquet(&path, &mut df, meta)
}

/// Rows per batch (and Parquet row group) of the big tables: 2^15 keeps two tables encoded at once
/// within compute's memory target (2^16 was 12 MB more at national scale, BENCHMARKS.md).
pub const BATCH: usize = 1 << 15;

/// Write frames of `R`'s columns into one file, with cimon's footer: each frame is built by its
/// closure and becomes a row group. Two frames at a time are built and encoded on whichever core
/// is free (the long tables of `compute` are written beside the workbook, and the core that
/// finishes first helps), and written in their order.
pub fn write_frames<R: Row, F, I>(path: &Path, frames: I, meta: &[(String, String)]) -> Result<(), StoreError>
where
    F: FnOnce() -> PolarsResult<DataFrame> + Send,
    I: Iterator<Item = F>,
{
    write_built(path, frames, meta, |first| {
        let names: Vec<String> = first.get_column_names().iter().map(|c| c.to_string()).collect();
        debug_assert!(fits_declared(&names, &R::columns()), "the frame has {}'s columns: {names:?}", R::TABLE);
    })
}

/// `write_frames` for any frames, `check` looking at the first.
fn write_built<F, I>(
    path: &Path,
    frames: I,
    meta: &[(String, String)],
    check: impl Fn(&DataFrame),
) -> Result<(), StoreError>
where
    F: FnOnce() -> PolarsResult<DataFrame> + Send,
    I: Iterator<Item = F>,
{
    use rayon::prelude::*;
    let mut frames = frames.peekable();
    let Some(first) = frames.next() else { return Ok(()) };
    let first = first().map_err(pl(path))?;
    check(&first);
    let (writer, seen) = parquet_writer(path, meta)?;
    let fail = |e| failed(path, &seen)(e);
    let mut writer = Batches::new(writer, first.schema()).map_err(fail)?;
    writer.write(&first).map_err(fail)?;
    drop(first);
    while frames.peek().is_some() {
        let window: Vec<F> = frames.by_ref().take(2).collect();
        let encoded: Vec<Result<Encoded, StoreError>> = window
            .into_par_iter()
            .map(|build| {
                let frame = build().map_err(pl(path))?;
                writer.encode(&frame).map_err(pl(path))
            })
            .collect();
        for e in encoded {
            writer.put(e?).map_err(fail)?;
        }
    }
    writer.finish().map_err(fail)
}

/// Row groups encoded and compressed, in memory until written: (rows, pages of each column).
type Encoded = Vec<(usize, Vec<Vec<CompressedPage>>)>;

/// polars' batched Parquet writer, fed row groups whose string columns are dictionary-encoded
/// already (`dictionary`): polars would hash every string of them again (a sixth of a national
/// `compute`'s CPU). Everything else is polars' own encoder, called as its `write_batch` calls
/// it, so the file's bytes are the same (`tests::same_bytes_as_polars`).
struct Batches {
    inner: polars::io::parquet::write::BatchedWriter<Watched>,
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
    options: WriteOptions,
}

impl Batches {
    fn new(writer: Writer, schema: &Schema) -> PolarsResult<Self> {
        let mut inner = writer.batched(schema)?;
        let fields = inner.parquet_schema().fields().to_vec();
        let encodings = get_encodings(inner.get_writer().lock().unwrap_or_else(|p| p.into_inner()).schema()).to_vec();
        Ok(Batches { inner, fields, encodings, options: write_options() })
    }

    /// `df` (its chunks aligned) as row groups, one per chunk, encoded and compressed.
    fn encode(&self, df: &DataFrame) -> PolarsResult<Encoded> {
        let mut groups = Vec::new();
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len();
            if rows == 0 {
                continue;
            }
            let mut columns = Vec::with_capacity(self.fields.len());
            for ((array, field), encoding) in batch.columns().iter().zip(&self.fields).zip(&self.encodings) {
                let known = match encoding[..] {
                    [Encoding::RleDictionary] => dictionary(array.as_ref()).map(|d| Box::new(d) as ArrayRef),
                    _ => None,
                };
                let array = known.as_ref().unwrap_or(array);
                for pages in array_to_columns(array, field.clone(), self.options, encoding)? {
                    let pages = pages.map(|page| {
                        page.map_err(|e| ParquetError::FeatureNotSupported(format!("reraised in polars: {e}")))
                    });
                    let compressed: Result<Vec<CompressedPage>, ParquetError> =
                        Compressor::new_from_vec(pages, self.options.compression, vec![]).collect();
                    columns.push(compressed?);
                }
            }
            groups.push((rows, columns));
        }
        Ok(groups)
    }

    /// Write encoded row groups, after those written before.
    fn put(&mut self, groups: Encoded) -> PolarsResult<()> {
        for (rows, columns) in groups {
            self.inner.write_row_group(rows as u64, &columns)?;
        }
        Ok(())
    }

    fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        let groups = self.encode(df)?;
        self.put(groups)
    }

    fn finish(self) -> PolarsResult<()> {
        self.inner.finish().map(|_| ())
    }
}

/// The options `parquet_writer` gives polars, as its `ParquetWriter` hands them to the encoder.
fn write_options() -> WriteOptions {
    WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::Zstd(Some(pq::ZstdLevel::try_new(ZSTD_LEVEL).expect("a valid zstd level"))),
        version: Version::V1,
        data_page_size: None,
    }
}

/// A string column dictionary-encoded as polars' Parquet encoder would do it (the distinct values
/// in the order met, each row their key), found by each row's 16-byte view rather than by hashing
/// its text: a county code is inline in its view, and a longer text gathered from the distinct
/// ones shares its place in the buffer. Views that differ but hold the same text are merged after,
/// so the result never depends on how the column was built. None for a column with more than
/// half distinct values (or none at all): polars then decides on its own, as before.
fn dictionary(array: &dyn Array) -> Option<DictionaryArray<u32>> {
    let a = array.as_any().downcast_ref::<Utf8ViewArray>()?;
    let n = a.len();
    // polars skips the dictionary when it estimates more than 3/4 distinct (its estimate is close
    // enough that 1/2 is on the safe side), and never for 128 rows or fewer.
    let limit = if n <= 128 { n } else { n / 2 };
    let views = a.views();
    let mut ids: HashMap<u128, u32> = HashMap::default();
    let mut first_rows: Vec<usize> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(n);
    let mut last: Option<(u128, u32)> = None;
    for (i, view) in views.iter().enumerate() {
        if a.validity().is_some_and(|v| !v.get_bit(i)) {
            keys.push(0);
            continue;
        }
        let v = view.as_u128();
        let key = match last {
            Some((lv, lk)) if lv == v => lk,
            _ => {
                let next = first_rows.len() as u32;
                let key = *ids.entry(v).or_insert_with(|| {
                    first_rows.push(i);
                    next
                });
                if first_rows.len() > limit {
                    return None;
                }
                last = Some((v, key));
                key
            }
        };
        keys.push(key);
    }
    if first_rows.is_empty() {
        return None;
    }
    // Merge views of the same text, keeping the order in which texts were first met.
    let mut by_text: HashMap<&str, u32> = HashMap::default();
    let mut distinct: Vec<&str> = Vec::with_capacity(first_rows.len());
    let merged: Vec<u32> = first_rows
        .iter()
        .map(|&i| {
            let text = a.value(i);
            *by_text.entry(text).or_insert_with(|| {
                distinct.push(text);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    if distinct.len() < first_rows.len() {
        keys.iter_mut().for_each(|k| *k = merged[*k as usize]);
    }
    let values = Utf8ViewArray::from_slice_values(&distinct);
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), a.validity().cloned());
    let dtype = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::Utf8View), false);
    DictionaryArray::try_new(dtype, keys, values.boxed()).ok()
}

/// Whether a frame's columns are a table's declared ones: every plain column, and nothing that
/// is not a declared column or an instance of a declared pattern (`avg_3y` of `avg_<n>y`).
fn fits_declared(names: &[String], declared: &[String]) -> bool {
    let instance = |name: &str, pattern: &str| match pattern.split_once('<') {
        None => name == pattern,
        Some((head, rest)) => {
            let tail = rest.split_once('>').map_or("", |(_, t)| t);
            name.len() > head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
        }
    };
    declared.iter().filter(|d| !d.contains('<')).all(|d| names.contains(d))
        && names.iter().all(|n| declared.iter().any(|d| instance(n, d)))
}

pub fn path_of<R: Row>(dir: &Path) -> PathBuf {
    dir.join(format!("{}.parquet", R::TABLE))
}

/// Refuse a file written in another table format (older stores lack the key or carry "1").
pub fn check_version(path: &Path) -> Result<(), StoreError> {
    let file = File::open(path).map_err(io(path))?;
    let mut reader = ParquetReader::new(file);
    let meta = reader.get_metadata().map_err(pl(path))?;
    let kv = meta.key_value_metadata().as_deref().unwrap_or_default();
    let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
    match get(VERSION_KEY) {
        Some(v) if v == FORMAT_VERSION => Ok(()),
        found => Err(StoreError::Version {
            path: path.to_owned(),
            found: found.unwrap_or_else(|| "unknown".into()),
            writer: get("cimon.version").unwrap_or_else(|| "unknown".into()),
        }),
    }
}

fn located(path: &Path) -> impl FnOnce(FieldError) -> StoreError + '_ {
    move |e| StoreError::Column { path: path.to_owned(), column: e.column, row: e.row, problem: e.problem }
}

/// The one reader: every row of `dir/<table>.parquet`.
pub fn read<R: Row>(dir: &Path) -> Result<Vec<R>, StoreError> {
    read_where(dir, None)
}

/// The rows of `dir/<table>.parquet` that satisfy `filter` (pushed down into the Parquet scan,
/// so a report of one year does not hold every year in memory).
pub fn read_where<R: Row>(dir: &Path, filter: Option<Expr>) -> Result<Vec<R>, StoreError> {
    let path = path_of::<R>(dir);
    if !path.is_file() {
        return Err(StoreError::Missing { path: dir.to_owned() });
    }
    let df = match filter {
        None => read_frame(dir, R::TABLE)?,
        Some(f) => {
            check_version(&path)?;
            LazyFrame::scan_parquet(PlRefPath::new(path.to_string_lossy().as_ref()), ScanArgsParquet::default())
                .and_then(|lf| lf.filter(f).collect())
                .map_err(pl(&path))?
        }
    };
    R::from_frame(&df).map_err(located(&path))
}

/// A table file as a polars frame, the way an analyst opens it (after the version check).
pub fn read_frame(dir: &Path, table: &str) -> Result<DataFrame, StoreError> {
    let path = dir.join(format!("{table}.parquet"));
    if !path.is_file() {
        return Err(StoreError::Missing { path: dir.to_owned() });
    }
    check_version(&path)?;
    ParquetReader::new(File::open(&path).map_err(io(&path))?).finish().map_err(pl(&path))
}

/// Like `read`, but None when the file does not exist (tables that older results may lack).
pub fn read_optional<R: Row>(dir: &Path) -> Result<Option<Vec<R>>, StoreError> {
    if path_of::<R>(dir).is_file() {
        read(dir).map(Some)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames shaped like cimon's tables and like what they may hold: codes inline in their views,
    /// long texts repeated from one place and pushed one by one (equal texts in different views),
    /// notes mostly empty or all empty, a column with too many distinct values for a dictionary,
    /// a short frame of distinct values, and nullable numbers.
    fn frames() -> Vec<DataFrame> {
        let codes = ["420802", "420804", "420821", "420822", "420881", "420882"];
        let long = ["钟祥市（县级市，代管）", "京山市 — a name longer than twelve bytes", "沙洋县"];
        let frame = |n: usize, seed: usize| {
            let idx: Vec<Option<IdxSize>> = (0..n).map(|i| Some(((i * 7 + seed) % codes.len()) as IdxSize)).collect();
            let gathered_long: Vec<Option<IdxSize>> =
                (0..n).map(|i| (i % 5 != 0).then_some(((i + seed) % long.len()) as IdxSize)).collect();
            let pushed: Vec<String> = (0..n).map(|i| long[(i * 3 + seed) % long.len()].to_string()).collect();
            let notes: Vec<Option<&str>> =
                (0..n).map(|i| (i % 97 == seed % 97).then_some(if i % 2 == 0 { "缺报" } else { "口径变化" })).collect();
            let empty: Vec<Option<&str>> = vec![None; n];
            let unique: Vec<String> = (0..n).map(|i| format!("row {i} of frame {seed}")).collect();
            // Four in five distinct: above polars' 3/4, where it writes the texts plainly.
            let most: Vec<String> = (0..n).map(|i| format!("{}", i % (n * 4 / 5).max(1))).collect();
            let value = |i: usize| (i % 11 != 3).then(|| (i as f64 * 0.37 + seed as f64).sin() * 100.0);
            DataFrame::new(
                n,
                vec![
                    super::super::gathered("region_code", &codes, &idx),
                    Column::new("year".into(), (0..n).map(|i| 2015 + (i / codes.len()) as i32 % 9).collect::<Vec<_>>()),
                    super::super::gathered("name", &long, &gathered_long),
                    Column::new("pushed".into(), pushed),
                    Column::new("note".into(), notes),
                    Column::new("empty".into(), empty),
                    Column::new("unique".into(), unique),
                    Column::new("most".into(), most),
                    super::super::optional::<Float64Type>("value", (0..n).map(value)),
                    Column::new("flag".into(), (0..n).map(|i| i % 3 == 0).collect::<Vec<_>>()),
                ],
            )
            .unwrap()
        };
        vec![frame(5000, 1), frame(300, 2), frame(100, 3), frame(1, 4), frame(4096, 5)]
    }

    /// The bytes polars' own batched writer makes of `frames`, with the same options and footer.
    fn polars_bytes(path: &Path, frames: &[DataFrame], meta: &[(String, String)]) -> Vec<u8> {
        let (writer, _) = parquet_writer(path, meta).unwrap();
        let mut writer = writer.batched(frames[0].schema()).unwrap();
        for f in frames {
            writer.write_batch(f).unwrap();
        }
        writer.finish().unwrap();
        std::fs::read(path).unwrap()
    }

    #[test]
    fn same_bytes_as_polars() {
        let dir = tempfile::tempdir().unwrap();
        let meta = [("cimon.test".to_string(), "1".to_string())];
        let frames = frames();
        let expected = polars_bytes(&dir.path().join("polars.parquet"), &frames, &meta);
        let ours = dir.path().join("ours.parquet");
        write_built(&ours, frames.iter().map(|f| || Ok(f.clone())), &meta, |_| {}).unwrap();
        assert!(std::fs::read(&ours).unwrap() == expected, "the file differs from polars' own");
        // And read back as written.
        let back = ParquetReader::new(File::open(&ours).unwrap()).finish().unwrap();
        let mut all = frames[0].clone();
        for f in &frames[1..] {
            all.vstack_mut(f).unwrap();
        }
        assert!(back.equals_missing(&all));

        // One frame, in polars' row groups of 262,144 rows.
        let mut big = frames[0].clone();
        for _ in 0..60 {
            big.vstack_mut(&frames[0]).unwrap();
        }
        assert!(big.height() > 512 * 512);
        let (writer, _) = parquet_writer(&dir.path().join("polars.parquet"), &meta).unwrap();
        writer.finish(&mut big.clone()).unwrap();
        write_parquet(&ours, &mut big, &meta).unwrap();
        assert!(std::fs::read(&ours).unwrap() == std::fs::read(dir.path().join("polars.parquet")).unwrap());
    }

    #[test]
    fn dictionary_keeps_first_seen_order_and_merges_equal_texts() {
        let long = "a text of more than twelve bytes";
        let a = Utf8ViewArray::from_slice([Some("b"), Some(long), None, Some("b"), Some("a"), Some(long)]);
        // Each value pushed on its own: the two long texts lie apart in the buffer.
        assert_ne!(a.views()[1].as_u128(), a.views()[5].as_u128());
        let d = dictionary(&a).unwrap();
        let values = d.values().as_any().downcast_ref::<Utf8ViewArray>().unwrap();
        assert_eq!(values.values_iter().collect::<Vec<_>>(), ["b", long, "a"]);
        let keys: Vec<Option<u32>> = d.keys().iter().map(|k| k.copied()).collect();
        assert_eq!(keys, [Some(0), Some(1), None, Some(0), Some(2), Some(1)]);
        // Too many distinct values, or none: polars decides.
        let many: Vec<String> = (0..200).map(|i| format!("{}", i % 150)).collect();
        assert!(dictionary(&Utf8ViewArray::from_slice_values(&many)).is_none());
        let few: Vec<String> = (0..200).map(|i| format!("{}", i % 100)).collect();
        assert_eq!(dictionary(&Utf8ViewArray::from_slice_values(&few)).unwrap().values().len(), 100);
        assert!(dictionary(&Utf8ViewArray::from_slice([None::<&str>, None])).is_none());
    }

    #[test]
    fn frame_columns_fit_plain_columns_and_patterns() {
        let declared: Vec<String> = ["code", "yoy", "avg_<n>y", "avg_<n>y_note"].map(String::from).to_vec();
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(fits_declared(&names(&["code", "yoy", "avg_3y", "avg_3y_note", "avg_5y", "avg_5y_note"]), &declared));
        assert!(!fits_declared(&names(&["code", "avg_3y"]), &declared), "yoy is missing");
        assert!(!fits_declared(&names(&["code", "yoy", "avg_y"]), &declared), "a pattern needs its variable part");
        assert!(!fits_declared(&names(&["code", "yoy", "value"]), &declared), "value is not declared");
    }
}
