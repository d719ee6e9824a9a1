//! What the commands print on stderr: stage lines, progress (a bar on a terminal, plain lines
//! otherwise), and the input problems; nothing when quiet. Results go to stdout from the commands.

use std::io::Write;

use crate::ingest::Problem;

/// Stage lines and progress; `run` and the report stage only see this trait.
pub trait Log: Sync {
    fn quiet(&self) -> bool;
    fn stage(&self, msg: &str);
    fn progress(&self, done: usize, total: usize, label: &str);
}

pub struct Console {
    quiet: bool,
    tty: bool,
}

impl Console {
    pub fn new(quiet: bool) -> Console {
        use std::io::IsTerminal;
        Console { quiet, tty: std::io::stderr().is_terminal() }
    }
}

impl Log for Console {
    fn quiet(&self) -> bool {
        self.quiet
    }

    fn stage(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    fn progress(&self, done: usize, total: usize, label: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let width = 30;
            let filled = done * width / total.max(1);
            let _ =
                write!(err, "\r\x1b[2K[{}{}] {done}/{total} {label}", "#".repeat(filled), " ".repeat(width - filled));
            if done == total {
                let _ = write!(err, "\r\x1b[2K");
            }
        } else {
            let _ = writeln!(err, "rendered {done}/{total}: {label}");
        }
    }
}

/// Problems to stderr, errors first; `limit` shortens the list (cron's `--quiet`).
pub fn print_problems(problems: &[Problem], limit: Option<usize>) {
    let mut err = std::io::stderr().lock();
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    // Causes before consequences: a county not reported (coverage) often follows from a row
    // above whose county could not be identified.
    sorted.sort_by(|a, b| (a.severity, a.kind == "coverage", &a.loc).cmp(&(b.severity, b.kind == "coverage", &b.loc)));
    let shown = limit.unwrap_or(sorted.len()).min(sorted.len());
    for p in &sorted[..shown] {
        let _ = writeln!(err, "{p}");
    }
    if shown < sorted.len() {
        let _ =
            writeln!(err, "… and {} more (all of them are in the run's manifest under runs/)", sorted.len() - shown);
    }
}
