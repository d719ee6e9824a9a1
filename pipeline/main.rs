//! The `cimon` binary: parse arguments, run, print the error chain, exit with a documented code.

use clap::Parser;

// polars allocates many large, short-lived buffers; mimalloc reuses them instead of faulting in fresh pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
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
