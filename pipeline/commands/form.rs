//! `cimon form`: the collection forms (填报表) for a year, one workbook per prefecture.

use std::path::Path;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::form::{self, FormError, FormRequest};
use crate::{stages, store};

pub fn run(cfg: &Config, year: i32, prefecture: Option<&str>, single: bool, dir: &Path, quiet: bool) -> Result<()> {
    let schemas = stages::load_schemas(cfg, false)?;
    let store_dir = cfg.store_dir();
    let last_year = store::year_values(&store_dir, year - 1)
        .with_context(|| format!("cannot read last year's values from the store {}", store_dir.display()))?;
    // Which prefectures: the one asked for; else the scope's, when it names some; else those the
    // store has data for (the bureau's own).
    let prefectures: Vec<String> = match prefecture {
        Some(p) => vec![form::prefecture_code(&schemas.registry, p)?],
        None => {
            let mut codes: Vec<String> = if schemas.scope.is_explicit() {
                schemas
                    .registry
                    .valid_in(year)
                    .filter(|r| schemas.scope.contains(&schemas.registry, r))
                    .map(|r| r.prefecture_code.clone())
                    .collect()
            } else {
                last_year
                    .keys()
                    .filter_map(|(c, _)| schemas.registry.get(c).map(|r| r.prefecture_code.clone()))
                    .collect()
            };
            codes.sort();
            codes.dedup();
            if codes.is_empty() {
                return Err(FormError::NoPrefecture.into());
            }
            codes
        }
    };
    let req = FormRequest { year, prefectures, single, last_year: &last_year };
    let written = form::write(dir, &req, &schemas.catalog, &schemas.registry, &schemas.scope)?;
    if !quiet {
        for w in &written {
            println!("{} ({} counties)", w.path.display(), w.counties);
        }
        println!(
            "wrote {} form(s) for {year}{}",
            written.len(),
            if last_year.is_empty() {
                format!("; the store has no {} values to show beside them", year - 1)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
