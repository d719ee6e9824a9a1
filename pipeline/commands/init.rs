//! `cimon init`: write the commented starter config, never over an existing one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The commented starter config that `cimon init` writes; every key and its default.
pub const STARTER_CONFIG: &str = include_str!("../starter.toml");

#[derive(Debug, thiserror::Error)]
#[error("{} exists already; remove it or choose another directory", .0.display())]
pub struct InitError(PathBuf);

pub fn run(dir: &Path) -> Result<()> {
    let path = dir.join("cimon.toml");
    if path.exists() {
        return Err(crate::exit::Usage(InitError(path).into()).into());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&path, STARTER_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}: edit the paths, then run `cimon run --config {0}`", path.display());
    Ok(())
}
