//! Seeded synthetic data (示例数据): the sample province in every format bureaus send, and national-scale panels for benchmarks.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod generic;
mod national;
mod seed;

use crate::catalog::Catalog;
use crate::regions::{Region, Registry};
use national::write_national;
pub use seed::SEED_PREFECTURES;
use seed::{seed_population, seed_registry, write_seed};

/// Written at the top of every synthetic file, and carried into every report made from it.
pub const NOTICE: &str = "示例数据（合成数据，非真实统计，仅供演示与测试）";

/// Indicator codes the generator produces, in output order.
pub const CODES: &[&str] = &[
    "population",
    "gdp",
    "employment",
    "budget_expenditure",
    "fiscal_st_share",
    "incubator_count",
    "st_commissioners",
    "rd_tax_deduction",
    "new_firms_per10k",
    "rd_intensity",
    "rd_expenditure",
    "rd_staff_per10k_emp",
    "ent_rd_revenue_ratio",
    "hitech_ent_count",
    "tech_sme_count",
    "rd_active_ent_share",
    "platform_count",
    "invention_patents_per10k",
    "patent_grants",
    "tech_contract_value",
    "new_product_sales_share",
    "hitech_va_share",
    "gdp_per_capita",
    "labour_productivity",
    "energy_intensity",
    "new_above_scale_firms",
    "high_level_talents",
];

/// Counts are whole numbers; the rest keep a sensible number of decimals.
fn decimals(code: &str) -> usize {
    match code {
        "sci_tech_giant_count"
        | "science_park_count"
        | "patent_applications"
        | "ent_invention_applications"
        | "major_transfers"
        | "st_service_platforms"
        | "service_rd_institutions"
        | "provincial_incubators"
        | "high_end_talents"
        | "graduate_talents"
        | "key_cultivated_firms"
        | "listed_clusters" => 0,
        "new_incubator_area"
        | "st_finance"
        | "cluster_output"
        | "rd_funded_tech_ent_share"
        | "ur_coop_hitech_share"
        | "rd_institution_large_share"
        | "rd_institution_ent_share"
        | "it_application_share"
        | "vc_credit_coverage" => 1,
        "incubator_count"
        | "st_commissioners"
        | "hitech_ent_count"
        | "tech_sme_count"
        | "platform_count"
        | "patent_grants"
        | "new_above_scale_firms"
        | "high_level_talents"
        | "gdp_per_capita" => 0,
        "rd_tax_deduction" | "rd_expenditure" | "tech_contract_value" | "gdp" | "budget_expenditure" => 1,
        "energy_intensity" => 3,
        _ => 2,
    }
}

fn round_to(v: f64, d: usize) -> f64 {
    let s = 10f64.powi(d as i32);
    (v * s).round() / s
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller: rand alone has no normal distribution and rand_distr is not worth a dependency.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A synthetic panel: value per (region code, year, indicator), co-moving through a latent capability.
pub struct Panel {
    pub years: Vec<i32>,
    pub values: BTreeMap<(String, i32, &'static str), f64>,
}

/// Series continue across code changes (京山县 → 京山市): draw per current code, store under the code valid that year.
pub fn generate(registry: &Registry, years: &[i32], seed: u64) -> Panel {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = BTreeMap::new();
    // Every code a series has been known by, keyed by its current code.
    let mut lineage: BTreeMap<&str, Vec<&Region>> = BTreeMap::new();
    for r in &registry.regions {
        lineage.entry(registry.current_code(&r.code)).or_default().push(r);
    }
    let current: Vec<&str> = lineage.keys().copied().collect();
    // Prefecture effects make neighbours alike, as they are.
    let mut pref_effect: BTreeMap<&str, f64> = BTreeMap::new();
    for code in &current {
        let r = registry.get(code).unwrap();
        let n = normal(&mut rng);
        pref_effect
            .entry(r.prefecture_code.as_str())
            .or_insert(0.5 * n + if r.province_code == "420000" { 0.4 } else { 0.0 });
    }
    for code in current {
        let r = registry.get(code).unwrap();
        let z = 0.8 * normal(&mut rng) + pref_effect[r.prefecture_code.as_str()] + capability_shift(code);
        let drift = 0.02 * normal(&mut rng); // each county has its own pace
        let pop0 =
            seed_population(code).unwrap_or_else(|| (40.0f64.ln() + 0.7 * normal(&mut rng)).exp().clamp(5.0, 150.0));
        for (t, &year) in years.iter().enumerate() {
            let t = t as f64;
            let pop = pop0 * (1.0 + 0.002 * t) * (0.01 * normal(&mut rng)).exp();
            let mut e = || (0.05 * normal(&mut rng)).exp();
            let gpc = 42000.0 * (0.35 * z).exp() * (1.06 + drift * 0.5).powf(t) * e();
            let gdp = pop * gpc / 1e4;
            let emp = pop * 0.55 * e();
            let rd_int = (0.9 * (0.5 * z + (0.04 + drift) * t).exp() * e()).clamp(0.15, 4.5);
            let rd_exp = gdp * 1e4 * rd_int / 100.0;
            let hitech =
                (gdp / 12.0 * (0.6 * z).exp() * (1.0 + (0.12 + drift) * t) * e() * hitech_scale(&r.prefecture_code))
                    .max(2.0);
            let v = [
                ("population", pop),
                ("gdp", gdp),
                ("employment", emp),
                ("budget_expenditure", gdp * 0.22 * (-0.2 * z).exp() * e()),
                ("fiscal_st_share", (1.1 * (0.4 * z).exp() + 0.05 * t).clamp(0.4, 6.0) * e()),
                ("incubator_count", (pop / 12.0 * (0.5 * z).exp() * (1.0 + 0.08 * t) * e()).max(0.0)),
                ("st_commissioners", pop * 2.2 * (0.3 * z).exp() * e()),
                ("rd_tax_deduction", rd_exp * 0.08 * (1.0 + 0.05 * t) * e()),
                ("new_firms_per10k", 40.0 * (0.3 * z).exp() * (1.0 + 0.03 * t) * e()),
                ("rd_intensity", rd_int),
                ("rd_expenditure", rd_exp),
                ("rd_staff_per10k_emp", 30.0 * (0.6 * z + 0.05 * t).exp() * e()),
                ("ent_rd_revenue_ratio", (0.8 * (0.45 * z + 0.04 * t).exp() * e()).min(6.0)),
                ("hitech_ent_count", hitech),
                ("tech_sme_count", hitech * 2.5 * e()),
                ("rd_active_ent_share", ((25.0 * (0.3 * z).exp() + 1.5 * t) * e()).min(85.0)),
                ("platform_count", (hitech * 0.12 * e()).max(0.0)),
                ("invention_patents_per10k", 3.0 * (0.7 * z).exp() * (1.0 + 0.12 * t) * e()),
                ("patent_grants", pop * 20.0 * (0.5 * z).exp() * (1.0 + 0.08 * t) * e()),
                ("tech_contract_value", gdp * 1e4 * 0.005 * (0.8 * z).exp() * (1.0 + (0.15 + drift) * t) * e()),
                ("new_product_sales_share", ((12.0 * (0.35 * z).exp() + 0.4 * t) * e()).min(45.0)),
                ("hitech_va_share", ((18.0 * (0.35 * z).exp() + 0.8 * t) * e()).min(75.0)),
                ("gdp_per_capita", gpc),
                ("labour_productivity", gdp / emp),
                ("energy_intensity", 0.7 * (-0.3 * z).exp() * 0.97f64.powf(t) * e()),
                ("new_above_scale_firms", pop / 5.0 * (0.4 * z).exp() * e()),
                ("high_level_talents", pop / 8.0 * (0.5 * z).exp() * e()),
            ];
            // A unit with no code valid that year (new since, or ended) has no data that year.
            let Some(stored) = lineage[code].iter().find(|x| x.valid_in(year)) else { continue };
            let stored_code = stored.code.as_str();
            for (c, x) in v {
                // Keep the tail inside the catalog's plausible ranges; the sample's designed outliers come on top.
                let x = match c {
                    "tech_contract_value" => x.min(1.6e6),
                    "hitech_ent_count" => x.min(2600.0),
                    "tech_sme_count" => x.min(5600.0),
                    "platform_count" => x.min(420.0),
                    "energy_intensity" => x.clamp(0.12, 1.9),
                    _ => x,
                };
                let c = CODES.iter().find(|k| **k == c).unwrap();
                values.insert((stored_code.to_string(), year, *c), round_to(x, decimals(c)));
            }
        }
    }
    Panel { years: years.to_vec(), values }
}

/// 东宝区, 荆门's central district, is the sample's strong county: its 2021 plan aims at 80
/// high-tech firms and 2.69% R&D intensity by 2022, within reach of where it stands.
fn capability_shift(code: &str) -> f64 {
    if code == "420802" {
        1.3
    } else {
        0.0
    }
}

/// 白山市's plan counts its high-tech firms and 科技小巨人 for the whole city in the tens
/// (2020: 25 and 30 户): its mountain counties draw far fewer than the others.
fn hitech_scale(prefecture: &str) -> f64 {
    if prefecture == "220600" {
        0.1
    } else {
        1.0
    }
}

/// Which data `cimon synth` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The seed counties in all the formats bureaus send (the project's sample-data).
    Seed,
    /// N synthetic counties as plain CSV with their own registry, for benchmarks.
    National,
    /// The seed counties, every indicator of any catalog drawn in its plausible range.
    Catalog,
}

/// `cimon synth` settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: std::path::PathBuf,
    pub kind: Kind,
    /// Counties (national only).
    pub counties: usize,
    pub from: i32,
    pub to: i32,
    pub seed: u64,
    /// National: workbooks instead of CSV.
    pub xlsx: bool,
    /// Registry and catalog of the seed counties' files (None: the built-in ones).
    pub regions: Option<std::path::PathBuf>,
    pub catalog: Option<std::path::PathBuf>,
}

pub fn run(args: &Options) -> Result<()> {
    if args.from > args.to {
        anyhow::bail!("--from {} is after --to {}", args.from, args.to);
    }
    let years: Vec<i32> = (args.from..=args.to).collect();
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    match args.kind {
        Kind::Seed => {
            let registry = seed_registry(&Registry::load_or_builtin(args.regions.as_deref())?)?;
            let catalog = Catalog::load_or_builtin(args.catalog.as_deref())?;
            if let Some(missing) = CODES.iter().find(|c| catalog.indicator(c).is_none()) {
                anyhow::bail!(
                    "catalog {} has no indicator {missing}, which the sample generator writes",
                    catalog.path.display()
                );
            }
            write_seed(&registry, &catalog, &years, args.seed, &args.out)
        }
        Kind::Catalog => {
            let registry = seed_registry(&Registry::load_or_builtin(args.regions.as_deref())?)?;
            let catalog = Catalog::load_or_builtin(args.catalog.as_deref())?;
            generic::write_for_catalog(&registry, &catalog, &years, args.seed, &args.out)
        }
        Kind::National => {
            let registry = Registry::load_or_builtin(args.regions.as_deref())?;
            write_national(&registry, args.counties, &years, args.seed, args.xlsx, &args.out)
        }
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| if f.contains([',', '"', '\n']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.clone() })
        .collect();
    quoted.join(",") + "\n"
}

fn fmt_value(v: f64, code: &str) -> String {
    format!("{:.*}", decimals(code), v)
}
