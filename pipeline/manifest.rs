//! The run manifest (`OUT/manifest.json` for the published outputs, `OUT/runs/<id>.json` for every
//! run) and the one-line-per-run log `OUT/runs.log`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One file that went into a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    /// published | unchanged | failed
    pub status: String,
    pub exit_code: u8,
    pub error: Option<String>,
    pub started: String,
    pub finished: String,
    pub cimon_version: String,
    pub typst_version: Option<String>,
    pub config_file: Option<String>,
    /// sha256 of the effective settings (method, growth, report options).
    pub config_hash: String,
    /// sha256 over everything that decides the outputs: cimon version, settings, schema files,
    /// inputs, templates, typst and fonts. Unchanged → nothing to do.
    pub fingerprint: String,
    pub inputs: Vec<FileRecord>,
    /// Catalog, registry and targets file.
    pub schemas: Vec<FileRecord>,
    /// Row counts: observations, revisions, warnings, index, growth, attainment, reports.
    pub rows: BTreeMap<String, u64>,
    pub warnings: Vec<String>,
    /// Seconds per stage.
    pub timings: BTreeMap<String, f64>,
    /// Files written, relative to the output directory.
    pub outputs: Vec<String>,
    pub reports_rendered: usize,
    pub reports_reused: usize,
    /// cimon's own peak resident memory (VmHWM, without the typst processes), in the run
    /// record under runs/ (the published copy is written before the run ends).
    pub peak_rss_mb: Option<u64>,
}

pub const FILE: &str = "manifest.json";
pub const RUNS_DIR: &str = "runs";
pub const LOG: &str = "runs.log";

impl Manifest {
    /// The manifest of the published outputs, if there is one.
    pub fn published(out: &Path) -> Option<Manifest> {
        let bytes = std::fs::read(out.join(FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest serialises")
    }

    /// The run log line: time, status, id, stage timings, counts, error.
    pub fn log_line(&self) -> String {
        let timings: Vec<String> = self.timings.iter().map(|(k, v)| format!("{k}={v:.1}s")).collect();
        let mut line = format!(
            "{} {} {} exit={} inputs={} reports={}+{}reused {}",
            self.finished,
            self.status,
            self.run_id,
            self.exit_code,
            self.inputs.len(),
            self.reports_rendered,
            self.reports_reused,
            timings.join(" ")
        );
        if let Some(e) = &self.error {
            line.push_str(" error=");
            line.push_str(&e.lines().next().unwrap_or("").replace(char::is_control, " "));
        }
        line
    }

    /// Keep this run's record: `runs/<id>.json` and a line in `runs.log`.
    pub fn record(&self, out: &Path) -> std::io::Result<()> {
        let dir = out.join(RUNS_DIR);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}.json", self.run_id)), self.to_json())?;
        let mut log = std::fs::OpenOptions::new().create(true).append(true).open(out.join(LOG))?;
        writeln!(log, "{}", self.log_line())
    }
}
