//! `cimon init`: a project that runs as it is — the commented starter config, an `inputs/`
//! folder with a note on what goes there, and on request copies of the built-in catalog and
//! registry to edit. It never writes over an existing file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The commented starter config that `cimon init` writes; every key and its default.
pub const STARTER_CONFIG: &str = include_str!("../starter.toml");

#[derive(Debug, thiserror::Error)]
#[error("{} exists already; remove it or choose another directory", .0.display())]
pub struct InitError(PathBuf);

pub fn run(dir: &Path, with_catalog: Option<crate::catalog::Builtin>, with_registry: bool) -> Result<()> {
    let mut config = STARTER_CONFIG.to_string();
    let mut files: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(c) = with_catalog {
        let (file, text) = c.file();
        config = config.replace("# catalog = \"schemas/indicators.toml\"", &format!("catalog = \"schemas/{file}\""));
        files.push((dir.join("schemas").join(file), text));
    }
    if with_registry {
        config = config.replace("# regions = \"schemas/regions.csv\"", "regions = \"schemas/regions.csv\"");
        files.push((dir.join("schemas/regions.csv"), crate::regions::BUILTIN));
    }
    files.push((dir.join("cimon.toml"), &config));
    files.push((dir.join("inputs").join(crate::ingest::INPUTS_NOTE_FILE), crate::ingest::INPUTS_NOTE));
    if let Some((path, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(crate::exit::Usage(InitError(path.clone()).into()).into());
    }
    for (path, text) in &files {
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "wrote {}: put the yearly county files into {}, then run `cimon run` there (`cimon doctor` checks what a run needs)",
        dir.join("cimon.toml").display(),
        dir.join("inputs").display()
    );
    Ok(())
}
