//! Command-line types (clap) and their one-time conversion into a validated configuration.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::commands::Command as Run;
use crate::config::{self, Config, ConfigError, Overrides};

/// cimon: county innovation monitoring. Ingests the yearly county indicator files into a
/// Parquet store, computes growth, target attainment and the innovation capability index,
/// and renders the monitoring reports.
#[derive(Debug, Parser)]
#[command(name = "cimon", version = VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the input files and list every problem; writes nothing
    Validate(InputArgs),
    /// Validate the input files and write the Parquet store under --out
    Ingest(InputArgs),
    /// Compute growth, target attainment and the composite index from the store
    Compute(Common),
    /// Render the PDF monitoring reports from the computed tables
    Report(ReportArgs),
    /// Ingest, compute and report in one go, publishing all outputs together (for cron)
    Run(RunArgs),
    /// Write the web explorer (OUT/site/: static pages for a web server or file://) from the published results
    Site(SiteArgs),
    /// Break down one county's index in the terminal
    Explain(ExplainArgs),
    /// Write the collection forms (填报表) for a year: one XLSX per prefecture, counties pre-filled
    Form(FormArgs),
    /// Write a commented starter config file
    Init(InitArgs),
    /// Generate synthetic input files (示例数据) for demos and benchmarks
    Synth(SynthArgs),
    /// Check what a run needs (typst, fonts, config and paths, output directory, lock) and say what to fix
    Doctor(RunArgs),
    /// Print the shell completions of cimon for bash, zsh or fish
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages of cimon and its commands into a directory
    Man {
        #[arg(value_name = "DIR", default_value = "man")]
        dir: PathBuf,
    },
    /// Rebuild the national county registry from the NBS division-code snapshots
    Registry(RegistryArgs),
}

#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// Folder of yearly snapshots (2017/, 2018/, …, each with provinces.csv, cities.csv, areas.csv)
    #[arg(value_name = "DIVISIONS_DIR", default_value = "schemas/divisions")]
    pub divisions: PathBuf,
    /// Code changes the names cannot tell (renames to new names, mergers, splits)
    #[arg(long, value_name = "FILE", default_value = "schemas/region-changes.csv")]
    pub changes: PathBuf,
    /// Where to write the registry
    #[arg(long, value_name = "FILE", default_value = "schemas/regions.csv")]
    pub out: PathBuf,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Config file (TOML); also CIMON_CONFIG
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output directory [default: out]; also CIMON_OUT
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Indicator catalog [default: the built-in catalog]; also CIMON_CATALOG
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Region registry [default: the built-in national registry]; also CIMON_REGIONS
    #[arg(long, value_name = "FILE")]
    pub regions: Option<PathBuf>,
    /// Targets file [default: targets.toml in the input directory, if present]; also CIMON_TARGETS
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Directory with the input files (CSV, XLSX), searched recursively
    #[arg(value_name = "INPUT_DIR")]
    pub input: Option<PathBuf>,
    /// Language of the errors, warnings and hints [default: [input] lang, else the report's]; also CIMON_LANG
    #[arg(long)]
    pub lang: Option<LangArg>,
    /// Validate: also write every error and warning into this workbook (问题清单), one sheet per prefecture
    #[arg(long, value_name = "FILE.xlsx")]
    pub problems: Option<PathBuf>,
    /// Accept a store that drops years or prefecture-years the published store holds [default: [input] allow_loss]
    #[arg(long)]
    pub allow_loss: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: Common,
    /// Report language [default: zh, or [report] lang]
    #[arg(long)]
    pub lang: Option<LangArg>,
    /// Report year [default: the latest year computed]
    #[arg(long)]
    pub year: Option<i32>,
    /// Template directory (a copy of report-templates/) [default: the built-in templates]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Typst processes at once, each typesetting a report or a batch of them [default: one per core]
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// County reports typeset by one typst process; 1 = one process per report [default: 8, or [report] batch]
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Keep the generated Typst sources (.typ) next to the PDFs, for debugging templates
    #[arg(long)]
    pub keep_sources: bool,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Directory with the input files [default: [input] dir of the config]
    #[arg(value_name = "INPUT_DIR")]
    pub input: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Run every stage even if nothing changed since the last run
    #[arg(long)]
    pub force: bool,
    /// Accept a store that drops years or prefecture-years the published store holds [default: [input] allow_loss]
    #[arg(long)]
    pub allow_loss: bool,
}

impl InputArgs {
    pub fn config(&self) -> Result<Config, ConfigError> {
        let extra =
            Overrides { messages: self.lang.map(LangArg::lang), allow_loss: self.allow_loss, ..Overrides::default() };
        self.common.config_with(self.input.clone(), extra)
    }
}

impl RunArgs {
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.report.config_with_input(self.input.clone(), self.allow_loss)
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum LangArg {
    Zh,
    En,
}

impl LangArg {
    fn lang(self) -> crate::text::Lang {
        match self {
            LangArg::Zh => crate::text::Lang::Zh,
            LangArg::En => crate::text::Lang::En,
        }
    }
}

impl ReportArgs {
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.config_with_input(None, false)
    }

    fn config_with_input(&self, input: Option<PathBuf>, allow_loss: bool) -> Result<Config, ConfigError> {
        let extra = Overrides {
            templates: self.templates.clone(),
            lang: self.lang.map(LangArg::lang),
            messages: self.lang.map(LangArg::lang),
            year: self.year,
            jobs: self.jobs,
            batch: self.batch,
            keep_sources: self.keep_sources,
            allow_loss,
            ..Overrides::default()
        };
        self.common.config_with(input, extra)
    }
}

#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// County code or name
    pub county: String,
    /// Year [default: the latest]
    #[arg(long)]
    pub year: Option<i32>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args, Clone)]
pub struct FormArgs {
    /// The data year the counties fill in
    #[arg(long)]
    pub year: i32,
    /// Only this prefecture (code or name) [default: the scope's prefectures, else those in the store]
    #[arg(long, value_name = "CODE")]
    pub prefecture: Option<String>,
    /// One workbook for all the counties instead of one per prefecture
    #[arg(long)]
    pub single: bool,
    /// Directory to write the forms into (created)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Config file (TOML): catalog, registry, scope, and the store whose last-year values the forms show; also CIMON_CONFIG
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The output directory holding the store [default: [output] dir of the config, or out]; also CIMON_OUT
    #[arg(long, value_name = "DIR")]
    pub store_out: Option<PathBuf>,
    /// Indicator catalog [default: the built-in catalog]; also CIMON_CATALOG
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// Region registry [default: the built-in national registry]; also CIMON_REGIONS
    #[arg(long, value_name = "FILE")]
    pub regions: Option<PathBuf>,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SiteArgs {
    #[command(flatten)]
    pub common: Common,
    /// Year shown [default: the latest year computed]
    #[arg(long)]
    pub year: Option<i32>,
}

#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Directory of the new project: cimon.toml and inputs/ are written into it
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Also write a copy of a built-in indicator catalog to edit, and use it: `innovation`
    /// (schemas/indicators.toml, the default) or `shuangchuang` (双创 monitoring, schemas/shuangchuang.toml)
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "innovation")]
    pub with_catalog: Option<BuiltinCatalog>,
    /// Also write a copy of the built-in national registry to edit (schemas/regions.csv), and use it
    #[arg(long)]
    pub with_registry: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SynthArgs {
    /// Directory to write into (created)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// `seed`: the seed counties in all the formats bureaus send (the project's sample-data);
    /// `national`: N synthetic counties as plain CSV with their own registry, for benchmarks;
    /// `catalog`: the seed counties, every indicator of --catalog drawn in its plausible range
    #[arg(long, default_value = "seed")]
    pub kind: SynthKind,
    /// National: at least this many counties, whole prefectures of the real registry in code
    /// order [default: all of them]
    #[arg(long, default_value_t = usize::MAX, hide_default_value = true)]
    pub counties: usize,
    /// First year
    #[arg(long, default_value_t = 2015)]
    pub from: i32,
    /// Last year
    #[arg(long, default_value_t = 2024)]
    pub to: i32,
    /// Random seed
    #[arg(long, default_value_t = 20240601)]
    pub seed: u64,
    /// National: one workbook per year (`YYYY.xlsx`, numbers as numbers) instead of CSV
    #[arg(long)]
    pub xlsx: bool,
    /// Region registry of the seed counties [default: the built-in national registry]
    #[arg(long, value_name = "FILE")]
    pub regions: Option<PathBuf>,
    /// Indicator catalog (names and units of the seed files) [default: the built-in catalog]
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum BuiltinCatalog {
    Innovation,
    Shuangchuang,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum SynthKind {
    Seed,
    National,
    Catalog,
}

impl Cli {
    /// The command to run, its flags turned into the validated configuration once.
    pub fn command(self) -> Result<Run, ConfigError> {
        Ok(match self.command {
            Command::Validate(a) => {
                Run::Validate { config: a.config()?, quiet: a.common.quiet, problems: a.problems.clone() }
            }
            Command::Ingest(a) => Run::Ingest { config: a.config()?, quiet: a.common.quiet },
            Command::Compute(a) => Run::Compute { config: a.config(None)?, quiet: a.quiet },
            Command::Report(a) => Run::Report { config: a.config()?, quiet: a.common.quiet },
            Command::Site(a) => Run::Site {
                config: a.common.config_with(None, Overrides { year: a.year, ..Overrides::default() })?,
                quiet: a.common.quiet,
            },
            Command::Run(a) => Run::Run { config: a.config()?, quiet: a.report.common.quiet, force: a.force },
            Command::Explain(a) => Run::Explain { config: a.common.config(None)?, county: a.county, year: a.year },
            Command::Init(a) => Run::Init {
                dir: a.dir,
                catalog: a.with_catalog.map(|c| match c {
                    BuiltinCatalog::Innovation => crate::catalog::Builtin::Innovation,
                    BuiltinCatalog::Shuangchuang => crate::catalog::Builtin::Shuangchuang,
                }),
                registry: a.with_registry,
            },
            Command::Form(a) => {
                let common = Common {
                    config: a.config,
                    out: a.store_out,
                    catalog: a.catalog,
                    regions: a.regions,
                    targets: None,
                    quiet: a.quiet,
                };
                Run::Form {
                    config: common.config(None)?,
                    year: a.year,
                    prefecture: a.prefecture,
                    single: a.single,
                    dir: a.out,
                    quiet: a.quiet,
                }
            }
            Command::Registry(a) => Run::Registry { divisions: a.divisions, changes: a.changes, out: a.out },
            Command::Doctor(a) => Run::Doctor { config: a.config()? },
            Command::Completions { shell } => {
                let mut out = Vec::new();
                clap_complete::generate(shell, &mut <Cli as CommandFactory>::command(), "cimon", &mut out);
                Run::Print(String::from_utf8_lossy(&out).into_owned())
            }
            Command::Man { dir } => Run::Write(man_pages(&dir)),
            Command::Synth(a) => Run::Synth(crate::synth::Options {
                out: a.out,
                kind: match a.kind {
                    SynthKind::Seed => crate::synth::Kind::Seed,
                    SynthKind::National => crate::synth::Kind::National,
                    SynthKind::Catalog => crate::synth::Kind::Catalog,
                },
                counties: a.counties,
                from: a.from,
                to: a.to,
                seed: a.seed,
                xlsx: a.xlsx,
                regions: a.regions,
                catalog: a.catalog,
            }),
        })
    }
}

/// cimon's version and the commit it was built from (`cimon --version`).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("CIMON_COMMIT"), ")");

/// The man pages: `cimon.1`, and `cimon-<command>.1` for each command.
fn man_pages(dir: &std::path::Path) -> Vec<(PathBuf, Vec<u8>)> {
    let cli = <Cli as CommandFactory>::command();
    let mut pages = Vec::new();
    let mut page = |cmd: clap::Command, name: String| {
        let mut bytes = Vec::new();
        if clap_mangen::Man::new(cmd).title(name.to_uppercase()).render(&mut bytes).is_ok() {
            pages.push((dir.join(format!("{name}.1")), bytes));
        }
    };
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("cimon-{}", sub.get_name());
        page(sub.clone().name(name.clone()).version(VERSION), name);
    }
    page(cli, "cimon".into());
    pages
}

impl Common {
    /// Turn flags into the validated configuration (flags beat environment, file and defaults).
    pub fn config(&self, input: Option<PathBuf>) -> Result<Config, ConfigError> {
        self.config_with(input, Overrides::default())
    }

    /// The common flags on top of a command's own (`extra`).
    fn config_with(&self, input: Option<PathBuf>, extra: Overrides) -> Result<Config, ConfigError> {
        let flags = Overrides {
            config: self.config.clone(),
            input,
            out: self.out.clone(),
            catalog: self.catalog.clone(),
            regions: self.regions.clone(),
            targets: self.targets.clone(),
            ..extra
        };
        config::resolve(flags, |k| std::env::var(k).ok())
    }
}
