//! The one writer and the one reader of table files: zstd Parquet with cimon's footer (the
//! writing cimon and the table format, checked on every read), written in batches, read whole or
//! filtered; a write that fails says why in the system's own words (a full disk).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::polars_utils::compression::ZstdLevel;
use polars::prelude::*;

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
        .with_compression(ParquetCompression::Zstd(Some(ZstdLevel::try_new(3).map_err(pl(path))?)))
        .with_statistics(StatisticsOptions::default())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(kv)))
        // Columns encoded on the calling thread: the callers write several files at once, and
        // polars' own pool nested under them encoded a whole row group's columns at once (slower,
        // and 170 MB more at national scale; BENCHMARKS.md).
        .set_parallel(false);
    Ok((writer, seen))
}

/// Write one frame as a table file.
pub fn write_parquet(path: &Path, df: &mut DataFrame, meta: &[(String, String)]) -> Result<(), StoreError> {
    let (writer, seen) = parquet_writer(path, meta)?;
    writer.finish(df).map_err(|e| failed(path, &seen)(e))?;
    Ok(())
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

/// Write frames of `R`'s columns, built by the caller (a table too big to materialise as rows),
/// into one file, with cimon's footer.
pub fn write_frames<R: Row>(
    path: &Path,
    mut frames: impl Iterator<Item = PolarsResult<DataFrame>>,
    meta: &[(String, String)],
) -> Result<(), StoreError> {
    let Some(first) = frames.next() else { return Ok(()) };
    let first = first.map_err(pl(path))?;
    let names: Vec<String> = first.get_column_names().iter().map(|c| c.to_string()).collect();
    debug_assert!(fits_declared(&names, &R::columns()), "the frame has {}'s columns: {names:?}", R::TABLE);
    let (writer, seen) = parquet_writer(path, meta)?;
    let fail = |e| failed(path, &seen)(e);
    let mut writer = writer.batched(first.schema()).map_err(fail)?;
    writer.write_batch(&first).map_err(fail)?;
    for f in frames {
        writer.write_batch(&f.map_err(pl(path))?).map_err(fail)?;
    }
    writer.finish().map_err(fail)?;
    Ok(())
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
    use super::fits_declared;

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
