//! The `cimon` binary: parse arguments, run, print the error chain, exit with a documented code.

use clap::Parser;

// polars allocates many large, short-lived buffers; mimalloc reuses them instead of faulting in fresh pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    // mimalloc's own C API (linked in by the `mimalloc` crate); the option numbers are its header's.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
/// `mi_option_purge_delay`, the same in mimalloc v2 and v3.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() -> std::process::ExitCode {
    // A run is short and its peak is its working set: memory freed between stages is kept for the
    // next one instead of being handed back and faulted in again, zeroed (measured in
    // BENCHMARKS.md: a tenth of an ingest's wall time). An explicit MIMALLOC_PURGE_DELAY still wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc reads it when it next purges.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    let result = cimon::cli::Cli::parse().command().map_err(anyhow::Error::from).and_then(cimon::run);
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let (error, hint_word) = cimon::exit::prefixes(&err);
            eprintln!("{error}{err:#}");
            if let Some(hint) = cimon::exit::hint(&err) {
                eprintln!("{hint_word}{hint}");
            }
            std::process::ExitCode::from(cimon::exit::code(&err))
        }
    }
}
