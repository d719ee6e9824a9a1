//! One writer per output directory: an advisory `flock` on `OUT/.cimon.lock`. The kernel drops it
//! when the holder exits or is killed, so a stale lock never blocks the next run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

pub const FILE: &str = ".cimon.lock";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{} is in use by another cimon ({holder}); nothing was done", .path.display())]
    Held { path: PathBuf, holder: String },
    #[error("cannot lock {path}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Whether another cimon holds the output directory's lock now (without taking it, and without
/// creating anything): `cimon doctor`.
pub fn probe(out: &Path) -> Result<(), LockError> {
    let path = out.join(FILE);
    let Ok(mut file) = File::open(&path) else { return Ok(()) };
    // SAFETY: flock on a file descriptor we own; released when `file` is dropped below.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK) {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        return Err(LockError::Held { path: out.to_owned(), holder: holder.trim().to_string() });
    }
    Ok(())
}

/// Take the output directory's lock without waiting; `what` (e.g. "cimon run") is written into
/// the lock file so that a refused run can say who holds it.
pub fn acquire(out: &Path, what: &str) -> Result<Lock, LockError> {
    std::fs::create_dir_all(out).map_err(|source| LockError::Io { path: out.to_owned(), source })?;
    let path = out.join(FILE);
    let io = |source| LockError::Io { path: path.clone(), source };
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    // SAFETY: flock on a file descriptor we own; no memory is shared.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() { "a run that is starting".to_string() } else { holder.to_string() };
            return Err(LockError::Held { path: out.to_owned(), holder });
        }
        return Err(io(err));
    }
    let note = format!("`{what}`, pid {}, since {}", std::process::id(), crate::timing::utc_now());
    file.set_len(0).and_then(|_| file.rewind()).and_then(|_| file.write_all(note.as_bytes())).map_err(io)?;
    Ok(Lock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "cimon run").unwrap();
        match acquire(dir.path(), "cimon ingest") {
            Err(LockError::Held { holder, .. }) => assert!(holder.contains("`cimon run`"), "{holder}"),
            other => panic!("expected the lock to be held, got {other:?}"),
        }
        drop(first);
        acquire(dir.path(), "cimon ingest").unwrap();
    }
}
