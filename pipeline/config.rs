//! The validated configuration, and the one place where defaults < file < environment < flags is decided.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Settings given on the command line (or by a caller); None = not given.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub input: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub catalog: Option<PathBuf>,
    pub regions: Option<PathBuf>,
    pub targets: Option<PathBuf>,
    /// `cimon report` flags.
    pub templates: Option<PathBuf>,
    pub lang: Option<crate::report::Lang>,
    /// The language of ingest messages (`--lang` of validate and ingest; run's sets both).
    pub messages: Option<crate::text::Lang>,
    pub year: Option<i32>,
    pub jobs: Option<usize>,
    pub batch: Option<usize>,
    pub keep_sources: bool,
    /// `--allow-loss`: a new store may hold less than the published one.
    pub allow_loss: bool,
}

/// The configuration every stage reads. Paths are as the user gave them, resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The config file used, if any.
    pub file: Option<PathBuf>,
    pub input: Option<PathBuf>,
    pub out: PathBuf,
    /// None: the catalog built into cimon.
    pub catalog: Option<PathBuf>,
    /// None: the national registry built into cimon.
    pub regions: Option<PathBuf>,
    /// None: no targets are tracked.
    pub targets: Option<PathBuf>,
    /// Method choices of the index (`[compute]`).
    pub method: crate::compute::index::Method,
    /// Growth spans (`[growth]`).
    pub growth: crate::compute::GrowthSettings,
    /// Report options (`[report]`).
    pub report: crate::report::ReportSettings,
    /// Uncertainty and sensitivity analysis (`[sensitivity]`).
    pub sensitivity: crate::compute::sensitivity::SensitivitySettings,
    /// The evaluation scope, coverage policy and peer groups (`[scope]`).
    pub scope: crate::scope::ScopeSettings,
    /// 绩效拨款 and 考评 (`[funding]`, `[appraisal]`): off unless configured.
    pub evaluation: crate::compute::Evaluation,
    /// The web explorer (`[site]`): built by `run` when enabled.
    pub site: crate::site::SiteSettings,
    /// The language of ingest errors, warnings and hints (`[input] lang`, `CIMON_LANG`, `--lang`).
    pub messages: crate::text::Lang,
    /// 审核确认: figures the review need not query again (`[[input.confirmed]]`).
    pub confirmed: Vec<crate::ingest::Confirmed>,
    /// A new store may drop years or prefecture-years the published one holds (`[input]
    /// allow_loss`, `--allow-loss`); otherwise such an ingest is refused.
    pub allow_loss: bool,
}

impl Config {
    /// Where the Parquet store lives under the output directory.
    pub fn store_dir(&self) -> PathBuf {
        self.out.join("store")
    }

    /// Where the computed tables live under the output directory.
    pub fn results_dir(&self) -> PathBuf {
        self.out.join("results")
    }

    /// Where the PDF reports live under the output directory.
    pub fn reports_dir(&self) -> PathBuf {
        self.out.join("reports")
    }

    pub fn input_dir(&self) -> Result<&Path, ConfigError> {
        self.input.as_deref().ok_or(ConfigError::NoInput)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
    #[error("no input directory: give it as an argument (cimon ingest DIR) or set [input] dir in the config file")]
    NoInput,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    input: InputSection,
    #[serde(default)]
    schemas: SchemaSection,
    #[serde(default)]
    output: OutputSection,
    #[serde(default)]
    compute: crate::compute::index::Method,
    #[serde(default)]
    growth: crate::compute::GrowthSettings,
    #[serde(default)]
    report: crate::report::ReportSettings,
    #[serde(default)]
    sensitivity: crate::compute::sensitivity::SensitivitySettings,
    #[serde(default)]
    scope: crate::scope::ScopeSettings,
    #[serde(default)]
    funding: Option<crate::compute::funding::FundingSettings>,
    #[serde(default)]
    appraisal: Option<crate::compute::appraisal::AppraisalSettings>,
    #[serde(default)]
    site: crate::site::SiteSettings,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSection {
    dir: Option<PathBuf>,
    /// The language of ingest messages [default: the report's].
    lang: Option<crate::text::Lang>,
    /// Figures the review queried and the counties confirmed.
    #[serde(default)]
    confirmed: Vec<crate::ingest::Confirmed>,
    /// Let a new store drop years or prefecture-years the published store holds.
    #[serde(default)]
    allow_loss: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaSection {
    catalog: Option<PathBuf>,
    regions: Option<PathBuf>,
    targets: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputSection {
    dir: Option<PathBuf>,
}

/// The config file read when none is named: in the current directory.
pub const DEFAULT_CONFIG: &str = "cimon.toml";

/// Environment variables, read through a function so tests need not touch the process environment.
pub const ENV_CONFIG: &str = "CIMON_CONFIG";
pub const ENV_OUT: &str = "CIMON_OUT";
pub const ENV_CATALOG: &str = "CIMON_CATALOG";
pub const ENV_REGIONS: &str = "CIMON_REGIONS";
pub const ENV_TARGETS: &str = "CIMON_TARGETS";
pub const ENV_TYPST: &str = "CIMON_TYPST";
pub const ENV_LANG: &str = "CIMON_LANG";

/// Decide every setting: defaults < config file < environment < flags.
pub fn resolve(flags: Overrides, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let env_path = |name: &'static str| -> Result<Option<PathBuf>, ConfigError> {
        match env(name) {
            Some(v) if v.trim().is_empty() => Err(ConfigError::Env { name, message: "is set but empty".into() }),
            Some(v) => Ok(Some(PathBuf::from(v))),
            None => Ok(None),
        }
    };
    // Without one named, the cimon.toml of the current directory (a project `cimon init` wrote).
    let here = || Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.is_file());
    let file_path = flags.config.clone().or(env_path(ENV_CONFIG)?).or_else(here);
    let (mut file, base) = match &file_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Io { path: p.clone(), source })?;
            let parsed: FileConfig = toml::from_str(&text)
                .map_err(|e| ConfigError::Invalid { path: p.clone(), message: crate::text::toml_error(&text, &e) })?;
            (parsed, p.parent().map(Path::to_path_buf).unwrap_or_default())
        }
        None => (FileConfig::default(), PathBuf::new()),
    };
    // Paths in the file are relative to the file, so a config works from any working directory.
    let from_file = |p: Option<PathBuf>| p.map(|p| base.join(p));

    let confirmed = std::mem::take(&mut file.input.confirmed);
    let input = flags.input.or(from_file(file.input.dir));
    let env_lang = match env(ENV_LANG).as_deref().map(str::trim) {
        None => None,
        Some("zh") => Some(crate::text::Lang::Zh),
        Some("en") => Some(crate::text::Lang::En),
        Some(v) => return Err(ConfigError::Env { name: ENV_LANG, message: format!("is {v:?}; use \"zh\" or \"en\"") }),
    };
    let out = flags.out.or(env_path(ENV_OUT)?).or(from_file(file.output.dir)).unwrap_or_else(|| "out".into());
    let catalog = flags.catalog.or(env_path(ENV_CATALOG)?).or(from_file(file.schemas.catalog));
    let regions = flags.regions.or(env_path(ENV_REGIONS)?).or(from_file(file.schemas.regions));
    // Default: a targets.toml (or targets.xlsx) beside the inputs, if there is one.
    let targets = flags.targets.or(env_path(ENV_TARGETS)?).or(from_file(file.schemas.targets)).or_else(|| {
        let dir = input.as_ref()?;
        ["targets.toml", "targets.xlsx"].iter().map(|n| dir.join(n)).find(|p| p.is_file())
    });
    let method = file.compute;
    if method.comparison == crate::compute::index::Comparison::BaseYear && method.base_year.is_none() {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: "[compute] comparison = \"base_year\" needs base_year = YYYY".into(),
        });
    }
    if method.scale[0] >= method.scale[1] && method.normalisation == crate::compute::index::NormKind::Minmax {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: format!("[compute] scale = {:?}: the lower bound must be below the upper", method.scale),
        });
    }
    {
        use crate::compute::index::WeightScheme as W;
        let c = &method.combine;
        let problem = if !(method.power.is_finite() && method.power != 0.0) {
            Some(format!(
                "[compute] power = {}: use a finite exponent other than 0 (0 is the geometric mean)",
                method.power
            ))
        } else if !(0.0..=1.0).contains(&c.alpha) {
            Some(format!("[compute.combine] alpha = {}: use a share between 0 and 1", c.alpha))
        } else if !matches!(c.subjective, W::Catalog | W::Equal | W::Ahp) {
            Some(format!("[compute.combine] subjective = \"{}\": use catalog, equal or ahp", c.subjective))
        } else if !matches!(c.objective, W::Entropy | W::Critic | W::Cv) {
            Some(format!("[compute.combine] objective = \"{}\": use entropy, critic or cv", c.objective))
        } else if let Some(why) = crate::compute::index::scores_unfit_for(&method) {
            Some(why)
        } else if !(method.ahp_cr_limit > 0.0 && method.ahp_cr_limit <= 1.0) {
            Some(format!(
                "[compute] ahp_cr_limit = {}: use a ratio above 0 and at most 1 (Saaty: 0.10)",
                method.ahp_cr_limit
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            return Err(ConfigError::Invalid { path: file_path.clone().unwrap_or_default(), message });
        }
    }
    let mut growth = file.growth;
    growth.spans.sort_unstable();
    growth.spans.dedup();
    let [a, b, c] = method.tiers.ratio_thresholds;
    if !(a <= b && b <= c) {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: format!(
                "[compute] tiers.ratio_thresholds = {:?} must be increasing",
                method.tiers.ratio_thresholds
            ),
        });
    }
    if growth.spans.iter().any(|&n| n < 1) {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: "[growth] spans must be whole years ≥ 1".into(),
        });
    }
    let mut report = file.report;
    report.templates = flags.templates.or(report.templates.map(|p| base.join(p)));
    report.typst = env_path(ENV_TYPST)?.or(report.typst.map(|p| base.join(p)));
    report.fonts = report.fonts.into_iter().map(|p| base.join(p)).collect();
    report.lang = flags.lang.unwrap_or(report.lang);
    let messages = flags.messages.or(env_lang).or(file.input.lang).unwrap_or(report.lang);
    report.year = flags.year.or(report.year);
    report.jobs = flags.jobs.or(report.jobs);
    report.batch = flags.batch.unwrap_or(report.batch);
    report.keep_sources |= flags.keep_sources;
    if report.batch == 0 {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: "[report] batch (--batch) must be at least 1 (1 = one typst process per report)".into(),
        });
    }
    if report.jobs == Some(0) {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: "[report] jobs must be at least 1".into(),
        });
    }
    let sensitivity = file.sensitivity;
    if !(0.0..1.0).contains(&sensitivity.weight_noise) {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: format!(
                "[sensitivity] weight_noise = {} must be at least 0 and below 1",
                sensitivity.weight_noise
            ),
        });
    }
    if sensitivity.samples < 2 {
        return Err(ConfigError::Invalid {
            path: file_path.clone().unwrap_or_default(),
            message: "[sensitivity] samples must be at least 2".into(),
        });
    }
    let mut scope = file.scope;
    scope.peer_groups = scope.peer_groups.map(|p| base.join(p));
    let invalid = |message: String| ConfigError::Invalid { path: file_path.clone().unwrap_or_default(), message };
    if let Some(f) = &file.funding {
        f.validate().map_err(|e| invalid(e.to_string()))?;
    }
    if let Some(a) = &file.appraisal {
        a.validate().map_err(invalid)?;
    }
    let evaluation = crate::compute::Evaluation { funding: file.funding, appraisal: file.appraisal };
    Ok(Config {
        file: file_path,
        input,
        out,
        catalog,
        regions,
        targets,
        method,
        growth,
        report,
        sensitivity,
        scope,
        evaluation,
        site: file.site,
        messages,
        confirmed,
        allow_loss: flags.allow_loss || file.input.allow_loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cimon.toml");
        std::fs::write(&cfg, "[output]\ndir = \"from-file\"\n[schemas]\ncatalog = \"cat.toml\"\n").unwrap();
        let no_env = |_: &str| None;
        let with_out = |k: &str| (k == ENV_OUT).then(|| "from-env".to_string());

        let c = resolve(Overrides::default(), no_env).unwrap();
        assert_eq!(c.out, PathBuf::from("out"));
        assert_eq!(c.catalog, None, "the built-in catalog");

        let flags = Overrides { config: Some(cfg.clone()), ..Overrides::default() };
        let c = resolve(flags.clone(), no_env).unwrap();
        assert_eq!(c.out, dir.path().join("from-file"));
        assert_eq!(c.catalog, Some(dir.path().join("cat.toml")));

        let c = resolve(flags.clone(), with_out).unwrap();
        assert_eq!(c.out, PathBuf::from("from-env"));

        let c = resolve(Overrides { out: Some("from-flag".into()), ..flags }, with_out).unwrap();
        assert_eq!(c.out, PathBuf::from("from-flag"));
    }

    #[test]
    fn message_language_follows_report_then_file_env_flag() {
        use crate::text::Lang;
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cimon.toml");
        let flags = Overrides { config: Some(cfg.clone()), ..Overrides::default() };
        assert_eq!(resolve(Overrides::default(), |_| None).unwrap().messages, Lang::Zh);
        std::fs::write(&cfg, "[report]\nlang = \"en\"\n").unwrap();
        assert_eq!(resolve(flags.clone(), |_| None).unwrap().messages, Lang::En);
        std::fs::write(&cfg, "[report]\nlang = \"en\"\n[input]\nlang = \"zh\"\n").unwrap();
        assert_eq!(resolve(flags.clone(), |_| None).unwrap().messages, Lang::Zh);
        let env_en = |k: &str| (k == ENV_LANG).then(|| "en".to_string());
        assert_eq!(resolve(flags.clone(), env_en).unwrap().messages, Lang::En);
        let flag_zh = Overrides { messages: Some(Lang::Zh), ..flags.clone() };
        assert_eq!(resolve(flag_zh, env_en).unwrap().messages, Lang::Zh);
        let err = resolve(flags, |k: &str| (k == ENV_LANG).then(|| "fr".to_string())).unwrap_err().to_string();
        assert!(err.contains("CIMON_LANG") && err.contains("\"zh\""), "{err}");
    }

    #[test]
    fn report_settings_follow_the_same_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cimon.toml");
        std::fs::write(&cfg, "[report]\nlang = \"en\"\ntypst = \"bin/typst\"\ntemplates = \"tpl\"\njobs = 3\n")
            .unwrap();
        let flags = Overrides { config: Some(cfg.clone()), ..Overrides::default() };
        let c = resolve(flags.clone(), |_| None).unwrap();
        assert_eq!(c.report.lang, crate::report::Lang::En);
        assert_eq!(c.report.typst, Some(dir.path().join("bin/typst")));
        assert_eq!(c.report.templates, Some(dir.path().join("tpl")));
        assert_eq!(c.report.jobs, Some(3));
        let env = |k: &str| (k == ENV_TYPST).then(|| "/opt/typst".to_string());
        let c = resolve(
            Overrides { lang: Some(crate::report::Lang::Zh), jobs: Some(1), keep_sources: true, ..flags.clone() },
            env,
        )
        .unwrap();
        assert_eq!((c.report.lang, c.report.jobs, c.report.keep_sources), (crate::report::Lang::Zh, Some(1), true));
        assert_eq!(c.report.typst, Some(PathBuf::from("/opt/typst")));
        std::fs::write(&cfg, "[report]\njobs = 0\n").unwrap();
        let err = resolve(flags.clone(), |_| None).unwrap_err().to_string();
        assert!(err.contains("jobs must be at least 1"), "{err}");
        // Batches: the file's, then the flag's; none of 0.
        std::fs::write(&cfg, "[report]\nbatch = 3\n").unwrap();
        assert_eq!(resolve(flags.clone(), |_| None).unwrap().report.batch, 3);
        let c = resolve(Overrides { batch: Some(1), ..flags.clone() }, |_| None).unwrap();
        assert_eq!(c.report.batch, 1);
        std::fs::write(&cfg, "[report]\nbatch = 0\n").unwrap();
        let err = resolve(flags, |_| None).unwrap_err().to_string();
        assert!(err.contains("[report] batch (--batch) must be at least 1"), "{err}");
    }

    #[test]
    fn the_starter_config_is_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cimon.toml");
        std::fs::write(&cfg, crate::commands::init::STARTER_CONFIG).unwrap();
        let c = resolve(Overrides { config: Some(cfg.clone()), ..Overrides::default() }, |_| None).unwrap();
        assert_eq!(c.method, crate::compute::index::Method::default());
        assert_eq!(c.growth, crate::compute::GrowthSettings::default());
        assert_eq!(c.report, crate::report::ReportSettings::default());
        assert_eq!(c.sensitivity, crate::compute::sensitivity::SensitivitySettings::default());
        assert_eq!(c.scope, crate::scope::ScopeSettings::default());
        assert_eq!(c.evaluation, crate::compute::Evaluation::default(), "funding and appraisal are off");
        assert_eq!(c.out, dir.path().join("out"));
        assert_eq!((c.catalog, c.regions, c.targets), (None, None, None), "built-in schemas, no targets");
        // Uncommented, its funding and appraisal example is a valid configuration.
        let setting = |rest: &str| {
            rest.starts_with('[')
                || rest.split_once(" = ").is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        };
        let example: Vec<&str> = crate::commands::init::STARTER_CONFIG
            .lines()
            .skip_while(|l| !l.starts_with("# [funding]"))
            .filter_map(|l| l.strip_prefix("# ").filter(|rest| setting(rest)))
            .collect();
        std::fs::write(&cfg, example.join("\n")).unwrap();
        let c = resolve(Overrides { config: Some(cfg), ..Overrides::default() }, |_| None).unwrap();
        let f = c.evaluation.funding.expect("[funding]");
        assert_eq!((f.budget, f.parts.len(), f.floor), (3000.0, 2, Some(40.0)));
        assert_eq!(c.evaluation.appraisal.map(|a| a.improved), Some(3));
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cimon.toml");
        std::fs::write(&cfg, "[output]\ndri = \"x\"\n").unwrap();
        let err = resolve(Overrides { config: Some(cfg), ..Overrides::default() }, |_| None).unwrap_err().to_string();
        assert!(err.contains("cimon.toml") && err.contains("(output.dri)") && err.contains("line 2"), "{err}");
    }
}
