//! The Typst compiler, an external binary: finding it, checking its version, compiling, reading its diagnostics.
//! The only module that spawns processes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Typst release the templates are written for (any patch release of it).
pub const VERSION: &str = "0.15";
/// What the README's setup installs.
pub const INSTALL: &str = "cargo install typst-cli --locked --version 0.15.1";

#[derive(Debug, thiserror::Error)]
pub enum TypstError {
    #[error("typst not found ({tried}); cimon needs typst {VERSION}.x to render PDFs")]
    NotFound { tried: String },
    #[error("{path} is typst {found}, but cimon's templates need typst {VERSION}.x")]
    WrongVersion { path: PathBuf, found: String },
    #[error("cannot run {path}")]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("no font of the families {} in {paths}: the templates set their text in them", missing.join(", "))]
    Fonts { missing: Vec<String>, paths: String },
}

/// How to install what is missing.
pub fn hint(e: &TypstError) -> String {
    match e {
        TypstError::NotFound { .. } | TypstError::WrongVersion { .. } | TypstError::Spawn { .. } => format!(
            "install it with `{INSTALL}`, or point [report] typst in the config (or CIMON_TYPST) at a typst {VERSION}.x binary"
        ),
        TypstError::Fonts { .. } => {
            "install them with `apt-get install fonts-noto-cjk`, or list font directories in [report] fonts".into()
        }
    }
}

/// One diagnostic from `typst compile --diagnostic-format short`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// A failed compile: the diagnostics, stderr as printed, and how typst ended.
#[derive(Debug, Clone)]
pub struct CompileFailure {
    pub diagnostics: Vec<Diagnostic>,
    pub stderr: String,
    /// `exited with status 1`, `was killed by signal 11 (it crashed)`, `took longer than 600 s …`.
    pub how: String,
    /// Stopped after `[report] timeout`.
    pub timed_out: bool,
}

/// What typst 0.15 prints for every bundle compile (`--diagnostic-format short`).
const BUNDLE_WARNING: &str = "warning: bundle export is experimental";

/// Flags of every compile besides paths and the date (part of the reuse key).
const COMPILE_ARGS: [&str; 5] = ["--ignore-system-fonts", "--diagnostic-format", "short", "--jobs", "1"];

/// A checked Typst binary with the settings that make its output reproducible.
#[derive(Debug, Clone)]
pub struct Typst {
    pub path: PathBuf,
    pub version: String,
    /// The whole `typst --version` line (version and build).
    build: String,
    fonts: Vec<PathBuf>,
    /// What Typst is given: `fonts` with the collections cut to the faces the templates use.
    font_paths: Vec<PathBuf>,
    /// Unix time written as the PDFs' creation date.
    timestamp: i64,
    /// How long one typst process (a report, or a batch of them) may take before it is stopped.
    timeout: std::time::Duration,
}

impl Typst {
    /// Use `configured` or the first `typst` on PATH, if it is version 0.15.x; check the fonts
    /// and cut their collections to the faces `templates` (their text) name.
    pub fn find(configured: Option<&Path>, fonts: &[PathBuf], templates: &str) -> Result<Typst, TypstError> {
        let path = match configured {
            Some(p) => p.to_path_buf(),
            None => which("typst").ok_or_else(|| TypstError::NotFound { tried: "not on PATH".into() })?,
        };
        let out = Command::new(&path).arg("--version").output().map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                TypstError::NotFound { tried: format!("{} does not exist", path.display()) }
            } else {
                TypstError::Spawn { path: path.clone(), source }
            }
        })?;
        // "typst 0.15.1 (abcdef12)"
        let text = String::from_utf8_lossy(&out.stdout);
        let found = text.split_whitespace().nth(1).unwrap_or("unknown").to_string();
        if !out.status.success() || !found.starts_with(&format!("{VERSION}.")) {
            return Err(TypstError::WrongVersion { path, found });
        }
        let missing = super::fonts::missing_families(fonts, templates);
        if !missing.is_empty() {
            let paths = fonts.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            return Err(TypstError::Fonts { missing, paths });
        }
        // A cache the next run reuses; without one (no writable temp directory), the fonts as given.
        // SAFETY: getuid has no preconditions and cannot fail.
        let cache = std::env::temp_dir().join(format!("cimon-{}", unsafe { libc::getuid() }));
        let font_paths = match super::fonts::prepare(fonts, templates, &cache) {
            Ok(dir) => vec![dir],
            Err(_) => fonts.to_vec(),
        };
        Ok(Typst {
            path,
            version: found,
            build: text.trim().to_string(),
            fonts: fonts.to_vec(),
            font_paths,
            timestamp: 0,
            timeout: std::time::Duration::from_secs(600),
        })
    }

    /// What besides the source decides a PDF's bytes: the typst version, the creation date and
    /// the font files (names and sizes).
    pub fn fingerprint(&self) -> String {
        let mut fonts: Vec<String> = Vec::new();
        for d in &self.fonts {
            for (p, meta) in super::fonts::font_files(d) {
                fonts.push(super::fonts::stamp(&p, &meta));
            }
        }
        fonts.sort();
        format!(
            "cimon {} typst {} args {:?} @{} fonts {}",
            env!("CARGO_PKG_VERSION"),
            self.build,
            COMPILE_ARGS,
            self.timestamp,
            fonts.join(",")
        )
    }

    /// The creation date written into every PDF (Unix time).
    pub fn set_timestamp(&mut self, t: i64) {
        self.timestamp = t;
    }

    pub fn set_timeout(&mut self, t: std::time::Duration) {
        self.timeout = t;
    }

    /// Compile `input` (under `root`) to `output`. Typst writes the PDF only on success.
    pub fn compile(&self, input: &Path, output: &Path, root: &Path) -> Result<Result<(), CompileFailure>, TypstError> {
        self.run(input, output, root, false)
    }

    /// Compile a bundle (`#document("x.pdf")[#include "x.typ"]` per report) into the directory
    /// `out_dir`: one process lays out several reports, loading the fonts once. Typst writes the
    /// files only when every document compiled.
    pub fn compile_bundle(
        &self,
        input: &Path,
        out_dir: &Path,
        root: &Path,
    ) -> Result<Result<(), CompileFailure>, TypstError> {
        self.run(input, out_dir, root, true)
    }

    fn run(
        &self,
        input: &Path,
        output: &Path,
        root: &Path,
        bundle: bool,
    ) -> Result<Result<(), CompileFailure>, TypstError> {
        let mut cmd = Command::new(&self.path);
        // `--jobs 1`: Typst's own threads would compete with the other reports rendering in parallel.
        cmd.arg("compile").arg("--root").arg(root).args(COMPILE_ARGS);
        if bundle {
            // Experimental in Typst 0.15 (it warns on stderr); `[report] batch = 1` avoids it.
            cmd.args(["--features", "bundle", "--format", "bundle"]);
        }
        for f in &self.font_paths {
            cmd.arg("--font-path").arg(f);
        }
        // A typst left behind by a killed cimon would keep writing into a staging tree.
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        cmd.arg("--creation-timestamp")
            .arg(self.timestamp.to_string())
            .arg(input)
            .arg(output)
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("TYPST_FONT_PATHS");
        let spawn = |source| TypstError::Spawn { path: self.path.clone(), source };
        let mut child =
            cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().map_err(spawn)?;
        // stderr is read on its own thread, so a chatty typst never blocks on a full pipe.
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::Read::read_to_end(&mut pipe, &mut text);
            text
        });
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(1);
        let status = loop {
            if let Some(status) = child.try_wait().map_err(spawn)? {
                break Some(status);
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
        if bundle {
            // Printed by every bundle compile: not the report's problem.
            stderr = stderr.lines().filter(|l| !l.starts_with(BUNDLE_WARNING)).map(|l| format!("{l}\n")).collect();
        }
        let how = match status {
            Some(s) if s.success() => return Ok(Ok(())),
            None => format!(
                "took longer than {} s on {} and was stopped ([report] timeout in the config)",
                self.timeout.as_secs(),
                if bundle { "a batch of reports" } else { "this report" }
            ),
            Some(s) => {
                use std::os::unix::process::ExitStatusExt;
                match (s.code(), s.signal()) {
                    (_, Some(sig)) => format!("was killed by signal {sig} (it crashed)"),
                    (Some(code), _) => format!("exited with status {code}"),
                    _ => "failed".to_string(),
                }
            }
        };
        Ok(Err(CompileFailure { diagnostics: parse_diagnostics(&stderr), stderr, how, timed_out: status.is_none() }))
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Parse `file:line:col: error: message` lines; other lines (hints) attach to the previous one.
pub fn parse_diagnostics(stderr: &str) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let parsed = line.find(": error: ").or_else(|| line.find(": warning: ")).and_then(|at| {
            let mut loc = line[..at].rsplitn(3, ':');
            let column = loc.next()?.parse().ok()?;
            let lineno = loc.next()?.parse().ok()?;
            Some(Diagnostic { line: Some(lineno), column: Some(column), message: line[at + 2..].to_string() })
        });
        match parsed {
            Some(d) => out.push(d),
            None => match out.last_mut() {
                Some(last) => {
                    last.message.push_str("; ");
                    last.message.push_str(line.trim());
                }
                None => out.push(Diagnostic { line: None, column: None, message: line.trim().to_string() }),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_diagnostics_are_parsed_with_their_position() {
        let d = parse_diagnostics(
            "/tmp/x/420802-东宝区.typ:12:5: error: unknown variable: foo\nhint: if you meant to display multiple letters\n",
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(12));
        assert_eq!(d[0].column, Some(5));
        assert_eq!(d[0].message, "error: unknown variable: foo; hint: if you meant to display multiple letters");
    }
}
