//! Helpers for integration tests: run the real `cimon` binary and show its stderr when an expectation fails.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How many indicators the shipped catalog declares (sample data has every one for every county-year).
pub fn catalog_indicators() -> usize {
    let catalog = std::fs::read_to_string(repo().join("schemas/indicators.toml")).unwrap();
    catalog.lines().filter(|l| l.trim() == "[[indicators]]").count()
}

/// Rows the sample store holds: 25 counties × 10 years × every catalog indicator.
pub fn sample_observations() -> usize {
    25 * 10 * catalog_indicators()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn success(&self) -> &Run {
        assert_eq!(self.code, 0, "cimon failed\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn failure(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// Assert stderr has a line containing every needle.
    #[track_caller]
    pub fn stderr_line(&self, needles: &[&str]) -> &Run {
        let hit = self.stderr.lines().any(|l| needles.iter().all(|n| l.contains(n)));
        assert!(hit, "no stderr line contains all of {needles:?}\n--- stderr\n{}", self.stderr);
        self
    }
}

/// Run cimon in `cwd` with the given arguments, no CIMON_* variables from the caller's environment
/// and English messages.
pub fn cimon(cwd: &Path, args: &[&str]) -> Run {
    cimon_env(cwd, args, &[])
}

/// `cimon` with extra environment variables.
pub fn cimon_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cimon"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("CIMON_") || k == "SOURCE_DATE_EPOCH" {
            cmd.env_remove(k);
        }
    }
    // The tests read English messages unless they ask for Chinese (`CIMON_LANG=zh`).
    cmd.env("CIMON_LANG", "en");
    cmd.envs(env.iter().copied());
    Run::from(cmd.output().expect("cannot start cimon"))
}

/// Every file under a directory with its bytes, for before/after comparisons.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
