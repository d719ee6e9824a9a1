//! How the process holds memory while a stage runs: transparent huge pages off for ingest and
//! compute, and memory freed while reading handed back at once.

/// Transparent huge pages off for this process until the guard is dropped (Linux; elsewhere a
/// no-op), then the setting found is restored. Ingest and compute hold many mid-sized buffers
/// on several threads, each thread's spread over 2 MB pages it fills only in part, and every
/// 2 MB page is zeroed when first touched. Measured at national scale, alternating runs
/// (BENCHMARKS.md): compute's resident peak ~320 → 260–273 MB at the same speed; XLSX ingest
/// 1.36 → 1.15 s (median of six), 341 → 305 MB. The report stage keeps the system's setting:
/// typst processes started while the guard lives would inherit it.
#[must_use = "huge pages are back on when the guard is dropped"]
pub struct SmallPages {
    restore: bool,
}

pub fn small_pages() -> SmallPages {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with these options reads or sets one flag of this process; no pointers.
        let on = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) } == 0;
        if on {
            unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        }
        SmallPages { restore: on }
    }
    #[cfg(not(target_os = "linux"))]
    SmallPages { restore: false }
}

impl Drop for SmallPages {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if self.restore {
            // SAFETY: as above.
            unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0) };
        }
    }
}

extern "C" {
    // mimalloc's own C API, linked in by the `mimalloc` crate (the binary's allocator).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
/// `mi_option_purge_delay`, the same in mimalloc v2 and v3.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
use mimalloc as _;

/// Run `f` with memory freed during it handed back to the system at once. The binary keeps
/// freed memory for reuse (main.rs), but what polars frees after reading the store sits with
/// threads that compute does not use again (scan and decoding threads): handed back, compute's
/// resident peak at national scale is 10–20 MB lower at no measurable cost (BENCHMARKS.md);
/// handed back for all of compute, it cost 0.25 s of system time. An explicit
/// MIMALLOC_PURGE_DELAY wins, as in main.rs.
pub fn handed_back<R>(f: impl FnOnce() -> R) -> R {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return f();
    }
    // SAFETY: sets a plain integer option; mimalloc reads it when it next frees or purges.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    let r = f();
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    r
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn huge_pages_are_off_while_the_guard_lives_and_as_before_after() {
        let off = || unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        let before = off();
        let guard = super::small_pages();
        assert_eq!(off(), 1);
        drop(guard);
        assert_eq!(off(), before);
    }
}
