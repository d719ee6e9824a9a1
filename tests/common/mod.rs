//! Helpers for integration tests: run the real `cimon` binary and show its stderr when an expectation fails.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

    /// Assert stdout has a line containing every needle.
    #[track_caller]
    pub fn stdout_line(&self, needles: &[&str]) -> &Run {
        let hit = self.stdout.lines().any(|l| needles.iter().all(|n| l.contains(n)));
        assert!(
            hit,
            "no stdout line contains all of {needles:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
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

/// A copy of the sample data with a config whose output directory is `out` beside it.
pub fn sample() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, out) = sample_in(tmp.path());
    (tmp, cfg, out)
}

/// The sample data in `root/data` with its config, and the output directory `root/out`.
pub fn sample_in(root: &Path) -> (PathBuf, PathBuf) {
    let data = root.join("data");
    copy_dir(&repo().join("sample-data"), &data);
    let schemas = repo().join("schemas");
    let config = std::fs::read_to_string(data.join("cimon.toml"))
        .unwrap()
        .replace("\"../schemas/", &format!("\"{}/", schemas.display()));
    std::fs::write(data.join("cimon.toml"), config).unwrap();
    (data.join("cimon.toml"), root.join("out"))
}

/// The published outputs, byte for byte (the run log and run records excluded: they grow).
pub fn published(out: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = Vec::new();
    for tree in ["store", "results", "reports"] {
        all.extend(snapshot(&out.join(tree)).into_iter().map(|(p, b)| (Path::new(tree).join(p), b)));
    }
    all.push(("manifest.json".into(), std::fs::read(out.join("manifest.json")).unwrap()));
    all
}

pub fn spawn_run(cfg: &Path, extra: &[&str]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cimon"));
    cmd.current_dir(repo()).args(["run", "--config", cfg.to_str().unwrap(), "-q"]).args(extra);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("CIMON_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("CIMON_LANG", "en");
    cmd.spawn().unwrap()
}

/// Wait until `cond` holds (polling), at most 60 s.
pub fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The staging tree of a running `cimon run`.
pub fn staging(out: &Path) -> Option<PathBuf> {
    std::fs::read_dir(out)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".run-")) && p.is_dir())
}
