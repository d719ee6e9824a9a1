//! The `cimon` binary: parse arguments, run, print the error chain, exit with a documented code.

use clap::Parser;

// polars allocates many large, short-lived buffers; mimalloc reuses them instead of faulting in fresh pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cimon::cli::Cli::parse();
    match cimon::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if let Some(hint) = cimon::hint(&err) {
                eprintln!("hint: {hint}");
            }
            std::process::ExitCode::from(cimon::exit_code(&err))
        }
    }
}
