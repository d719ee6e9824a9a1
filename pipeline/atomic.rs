//! Replacing a directory tree atomically: it is built in a hidden sibling and swapped in with one
//! rename (Linux `RENAME_EXCHANGE`), so readers see the old tree or the new one, never a mix.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::tables::{io, StoreError};

/// Build a tree with `fill` in a fresh staging sibling of `dir`, then swap it in for `dir`; if
/// `fill` or the swap fails, the staging tree is removed and `dir` is as it was.
pub fn staged<T, E: From<StoreError>>(dir: &Path, fill: impl FnOnce(&Path) -> Result<T, E>) -> Result<T, E> {
    let staging = staging_dir(dir)?;
    let done = fill(&staging).and_then(|t| {
        publish_dir(&staging, dir)?;
        Ok(t)
    });
    if done.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    done
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
    let t0 = std::time::Instant::now();
    sync_tree(staged)?;
    crate::timing::lap(&format!("{} synced in", staged.display()), t0);
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

/// Start writing `path` back to disk without waiting (Linux `sync_file_range`), so that the
/// fsync before publishing (`sync_tree`) finds it written, not still to write. Best effort.
pub fn start_writeback(path: &Path) {
    #[cfg(target_os = "linux")]
    if let Ok(f) = File::open(path) {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only schedules writeback of its pages.
        unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
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
