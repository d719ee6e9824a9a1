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

/// This process's peak resident memory in MB (Linux `VmHWM`).
pub fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024)
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

/// Now as `2026-11-23T17:45:00Z`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    utc(secs)
}

/// Unix time as RFC 3339 UTC (civil-from-days, proleptic Gregorian).
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400 + 3_661), "2000-02-29T01:01:01Z");
    }
}
