//! Time and memory: the stage timings `CIMON_TIMINGS=1` prints, the peak memory, and UTC time stamps.

/// With `CIMON_TIMINGS` set, print the time since `since` and the peak memory so far (the
/// phases the benchmarks in BENCHMARKS.md are broken into).
pub fn lap(what: &str, since: std::time::Instant) {
    if std::env::var_os("CIMON_TIMINGS").is_none() {
        return;
    }
    let peak = peak_kb().map_or_else(String::new, |kb| format!(", peak {kb} kB"));
    eprintln!("timing: {what} {:.3}s{peak}", since.elapsed().as_secs_f64());
}

/// The peak resident set in kB: `VmHWM` (Linux; None elsewhere).
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// The peak resident set in MB.
pub fn peak_rss_mb() -> Option<u64> {
    peak_kb().map(|kb| kb / 1024)
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
