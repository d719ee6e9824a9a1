//! Publishing a run's staging tree: `store/`, `results/`, `reports/` (and `site/`) are swapped in one after
//! the other (each an atomic `RENAME_EXCHANGE`). A `READY` marker written before the first swap
//! lets the next command finish the publishing of a run killed half-way, so the three trees
//! always end up from the same run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{lock, manifest};

/// The published trees, in publishing order; `site` only when the run builds it (`[site]`).
pub const TREES: [&str; 4] = ["store", "results", "reports", "site"];
/// Inside each staged tree: the run that built it (tells a finished swap from a pending one).
pub const RUN_ID: &str = ".run-id";
const READY: &str = "READY";
const STAGING_PREFIX: &str = ".run-";

/// Take the output directory's lock and finish an interrupted `cimon run` before writing anything.
pub fn locked(out: &Path, what: &str) -> Result<lock::Lock> {
    let l = lock::acquire(out, what)?;
    if let Some(id) = recover(out).with_context(|| format!("cannot finish an interrupted run in {}", out.display()))? {
        eprintln!("finished publishing the interrupted run {id} first");
    }
    Ok(l)
}

/// A fresh staging tree for this run under the output directory.
pub fn staging_root(out: &Path) -> Result<PathBuf> {
    let root = out.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    Ok(root)
}

/// Remove a failed run's staging tree, unless it became READY (then the next command finishes it).
pub fn discard_unpublished(root: &Path) {
    if root.exists() && !root.join(READY).exists() {
        let _ = std::fs::remove_dir_all(root);
    }
}

/// Every file of the staged trees, relative to the output directory.
pub fn list_outputs(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                if !rel.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                    out.push(rel.display().to_string());
                }
            }
        }
    }
    out.sort();
    out
}

/// Publish a complete staging tree: mark it ready (with the run id), swap each tree in, then the manifest.
pub fn publish(root: &Path, out: &Path, run_id: &str) -> Result<()> {
    // Everything READY points at is on disk before READY is.
    for tree in TREES.iter().filter(|t| root.join(t).exists()) {
        crate::atomic::sync_tree(&root.join(tree))?;
    }
    std::fs::File::open(root.join(manifest::FILE))?.sync_all()?;
    let ready = root.join(READY);
    crate::faults::io("publish")?;
    std::fs::write(&ready, run_id)?;
    std::fs::File::open(&ready)?.sync_all()?;
    std::fs::File::open(root)?.sync_all()?;
    finish(root, out)
}

/// Swap in every tree not yet swapped, then the manifest; remove the staging tree.
fn finish(root: &Path, out: &Path) -> Result<()> {
    let run_id = std::fs::read_to_string(root.join(READY)).unwrap_or_default();
    for tree in TREES {
        let staged = root.join(tree);
        let target = out.join(tree);
        let live = std::fs::read_to_string(target.join(RUN_ID)).unwrap_or_default();
        if !staged.exists() {
            // Swapped and cleaned up already; what is live may since have been replaced by a
            // standalone command, which is newer and stays.
            continue;
        }
        if !run_id.is_empty() && live == run_id {
            // Swapped already (an interrupted publish): what is staged is the old tree.
            let _ = std::fs::remove_dir_all(&staged);
            continue;
        }
        crate::atomic::publish_dir(&staged, &target)?;
    }
    let manifest = root.join(manifest::FILE);
    if manifest.exists() {
        std::fs::rename(&manifest, out.join(manifest::FILE))?;
    }
    std::fs::remove_dir_all(root)?;
    Ok(())
}

/// Finish the publishing of a killed run (its staging tree is `READY`), and remove the staging
/// trees of runs killed before publishing. The caller holds the lock, so none of them is live;
/// every writing command calls this first.
pub fn recover(out: &Path) -> Result<Option<String>> {
    let mut recovered = None;
    for e in std::fs::read_dir(out).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with(STAGING_PREFIX) || !e.path().is_dir() {
            continue;
        }
        if e.path().join(READY).exists() {
            recovered = std::fs::read_to_string(e.path().join(READY)).ok();
            finish(&e.path(), out)?;
        } else {
            std::fs::remove_dir_all(e.path())?;
        }
    }
    Ok(recovered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path, content: &str, run_id: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("data"), content).unwrap();
        std::fs::write(dir.join(RUN_ID), run_id).unwrap();
    }

    fn read(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("data")).unwrap()
    }

    /// Killed after swapping `store` but before `results` and `reports`: the next run finishes
    /// the job, so all three trees and the manifest come from the same run.
    #[test]
    fn an_interrupted_publish_is_rolled_forward() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        for t in TREES {
            tree(&out.join(t), "old", "run-a");
        }
        std::fs::write(out.join(manifest::FILE), "a").unwrap();
        let root = out.join(".run-123");
        for t in TREES {
            tree(&root.join(t), "new", "run-b");
        }
        std::fs::write(root.join(manifest::FILE), "b").unwrap();
        std::fs::write(root.join(READY), "run-b").unwrap();
        crate::atomic::publish_dir(&root.join("store"), &out.join("store")).unwrap();
        assert_eq!((read(&out.join("store")), read(&out.join("results"))), ("new".into(), "old".into()));

        assert_eq!(recover(out).unwrap().as_deref(), Some("run-b"));
        for t in TREES {
            assert_eq!(read(&out.join(t)), "new", "{t}");
        }
        assert_eq!(std::fs::read_to_string(out.join(manifest::FILE)).unwrap(), "b");
        assert!(!root.exists());
    }

    /// Killed after the store's swap; then `cimon ingest` replaced the store. Recovery must not
    /// stumble over the staged store that is gone, nor undo the newer store.
    #[test]
    fn recovery_after_a_standalone_command_keeps_the_newer_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        for t in TREES {
            tree(&out.join(t), "old", "run-a");
        }
        let root = out.join(".run-5");
        for t in TREES {
            tree(&root.join(t), "new", "run-b");
        }
        std::fs::write(root.join(READY), "run-b").unwrap();
        crate::atomic::publish_dir(&root.join("store"), &out.join("store")).unwrap();
        std::fs::remove_dir_all(out.join("store")).unwrap();
        std::fs::create_dir_all(out.join("store")).unwrap();
        std::fs::write(out.join("store/data"), "ingested").unwrap();
        recover(out).unwrap();
        assert_eq!(read(&out.join("store")), "ingested");
        assert_eq!(read(&out.join("results")), "new");
        assert!(!root.exists());
    }

    /// A staging tree that never became READY is dropped; the published trees stay.
    #[test]
    fn an_unfinished_staging_tree_is_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        tree(&out.join("store"), "old", "run-a");
        tree(&out.join(".run-9/store"), "half", "run-b");
        assert_eq!(recover(out).unwrap(), None);
        assert_eq!(read(&out.join("store")), "old");
        assert!(!out.join(".run-9").exists());
    }
}
