//! The `cimon` binary: parse arguments, run, print the error chain, exit with a documented code.

use clap::Parser;

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
