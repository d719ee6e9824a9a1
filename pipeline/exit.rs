//! Exit codes (documented in README.md; cron relies on them), and the code and the one-line hint
//! for an error, from the first classified error in its chain.

use crate::ingest::Rejected;
use crate::{catalog, compute, config, ingest, lock, regions, report, store, targets};

pub const OK: u8 = 0;
/// Unexpected failure (I/O, a bug).
pub const INTERNAL: u8 = 1;
/// Bad command line, config file or schema file, or outputs to rebuild.
pub const USAGE: u8 = 2;
/// The input data failed validation; nothing was written.
pub const DATA: u8 = 3;
/// An external tool (typst) is missing or failed.
pub const EXTERNAL: u8 = 4;
/// Another run holds the output directory's lock.
pub const LOCKED: u8 = 5;
/// An internal check of the computed results failed (a bug); nothing was published.
pub const INVARIANT: u8 = 6;

/// A command's own usage error (a config file that exists already, an ambiguous county name):
/// exit 2. The stages' errors are classified by their types below.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Usage(pub anyhow::Error);

/// The exit code for an error.
pub fn code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<Rejected>() {
            return DATA;
        }
        if broken_invariant(cause) {
            return INVARIANT;
        }
        if cause.is::<config::ConfigError>()
            || cause.is::<catalog::CatalogError>()
            || cause.is::<regions::RegistryError>()
            || cause.is::<crate::divisions::DivisionsError>()
            || cause.is::<crate::scope::ScopeError>()
            || cause.is::<targets::TargetsError>()
            || cause.is::<ingest::InputError>()
            || cause.is::<Usage>()
            || cause.is::<compute::index::IndexError>()
            || cause.is::<crate::form::FormError>()
            || matches!(
                cause.downcast_ref::<compute::ComputeError>(),
                Some(
                    compute::ComputeError::UnknownRegions { .. }
                        | compute::ComputeError::OutsideValidity { .. }
                        | compute::ComputeError::TwoCodes { .. }
                        | compute::ComputeError::Evaluation(_)
                )
            )
            || user_must_rebuild(cause)
        {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<crate::site::SiteError>() {
            use crate::site::SiteError as S;
            match e {
                S::NoResults { .. } | S::Template { .. } | S::Context(_) => return USAGE,
                S::Io { .. } | S::Store(_) | S::Table { .. } => {}
            }
        }
        if let Some(e) = cause.downcast_ref::<lock::LockError>() {
            return match e {
                lock::LockError::Held { .. } => LOCKED,
                lock::LockError::Io { .. } => INTERNAL,
            };
        }
        if let Some(e) = cause.downcast_ref::<report::ReportError>() {
            return match e {
                report::ReportError::Typst(_) | report::ReportError::Failed { template_only: false, .. } => EXTERNAL,
                report::ReportError::Template(_)
                | report::ReportError::NoResults { .. }
                | report::ReportError::Failed { template_only: true, .. }
                | report::ReportError::Context(report::context::ContextError::NoYear { .. }) => USAGE,
                _ => INTERNAL,
            };
        }
    }
    INTERNAL
}

/// A broken invariant of compute (a `ComputeError` shows it transparently).
fn broken_invariant(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause.is::<compute::invariants::Broken>()
        || matches!(cause.downcast_ref::<compute::ComputeError>(), Some(compute::ComputeError::Invariant(_)))
}

/// A store error the user fixes by running a command: no store yet, or one of an older format.
fn store_to_rebuild(e: &store::StoreError) -> bool {
    matches!(e, store::StoreError::Missing { .. } | store::StoreError::Version { .. })
}

/// The store or results are missing or of an older format (directly, or inside a stage's error).
fn user_must_rebuild(cause: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(e) = cause.downcast_ref::<store::StoreError>() {
        return store_to_rebuild(e);
    }
    match cause.downcast_ref::<compute::ComputeError>() {
        Some(compute::ComputeError::Store(e)) => return store_to_rebuild(e),
        Some(_) => return false,
        None => {}
    }
    match cause.downcast_ref::<report::ReportError>() {
        Some(report::ReportError::Store(e))
        | Some(report::ReportError::Context(report::context::ContextError::Store(e))) => store_to_rebuild(e),
        _ => false,
    }
}

fn missing_store(cause: &(dyn std::error::Error + 'static)) -> bool {
    let missing = |e: &store::StoreError| matches!(e, store::StoreError::Missing { .. });
    match (cause.downcast_ref::<store::StoreError>(), cause.downcast_ref::<compute::ComputeError>()) {
        (Some(e), _) | (_, Some(compute::ComputeError::Store(e))) => missing(e),
        _ => false,
    }
}

/// What goes before the error and the hint: Chinese when the error is an ingest's refusal shown
/// to clerks in Chinese.
pub fn prefixes(err: &anyhow::Error) -> (&'static str, &'static str) {
    let zh = err.chain().any(|c| c.downcast_ref::<Rejected>().is_some_and(|r| r.lang == ingest::Lang::Zh));
    if zh {
        ("错误：", "提示：")
    } else {
        ("error: ", "hint: ")
    }
}

/// What to do about a failed write or read of the disk: the error's OS code, from an
/// `io::Error` in the chain or from the text a library wrapped it in (`(os error 28)`).
fn disk_hint(err: &anyhow::Error) -> Option<String> {
    let code = err.chain().find_map(|c| {
        c.downcast_ref::<std::io::Error>().and_then(std::io::Error::raw_os_error).or_else(|| {
            let text = c.to_string();
            let at = text.find("(os error ")? + "(os error ".len();
            text[at..].split(')').next()?.parse().ok()
        })
    })?;
    let unchanged = "the published outputs are unchanged";
    Some(match code {
        libc::ENOSPC | libc::EDQUOT => format!(
            "the disk is full: free space on the disk of the output directory (df -h) and run again; {unchanged}"
        ),
        libc::EROFS | libc::EACCES | libc::EPERM => format!(
            "the file system refused access to the path named above (read-only, or not the user's): make it \
             writable for the user that runs cimon, or give another --out; {unchanged}"
        ),
        libc::EIO => format!("the disk reported an I/O error: check the disk (dmesg) and run again; {unchanged}"),
        _ => return None,
    })
}

/// A one-line suggestion printed under the error, when there is an obvious next step.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    if let Some(h) = disk_hint(err) {
        return Some(h);
    }
    for cause in err.chain() {
        if let Some(r) = cause.downcast_ref::<Rejected>() {
            return Some(match r.lang {
                ingest::Lang::En => format!(
                    "fix the {} error(s) listed above in the files named and run again; the previous store is unchanged",
                    r.errors()
                ),
                ingest::Lang::Zh => format!(
                    "请按上面列出的 {} 处错误修改所列文件后重新运行；原有数据未受影响",
                    r.errors()
                ),
            });
        }
        if let Some(e) = cause.downcast_ref::<report::ReportError>() {
            match e {
                report::ReportError::Typst(t) => return Some(report::typst::hint(t)),
                report::ReportError::NoResults { .. } => {
                    return Some("run `cimon ingest` and `cimon compute` with the same --out first".into())
                }
                report::ReportError::Failed { template_only: true, .. } | report::ReportError::Template(_) => {
                    return Some("fix the template named above; `--keep-sources` keeps the generated .typ files".into())
                }
                report::ReportError::Failed { .. } => {
                    return Some("run again with --keep-sources to inspect the generated .typ files".into())
                }
                _ => {}
            }
        }
        if let Some(ingest::InputError::Empty { .. }) = cause.downcast_ref::<ingest::InputError>() {
            // Said in both languages: whoever runs cimon may not be the one who fills the folder.
            return Some(
                "put the counties' files (CSV, XLSX, XLS or ODS) into that folder, or point [input] dir or the \
                 INPUT_DIR argument at the folder that holds them / 请把各县报送的 CSV 或 Excel 文件放入该文件夹，\
                 或在配置文件 [input] dir 中改为存放报送文件的文件夹"
                    .into(),
            );
        }
        if let Some(config::ConfigError::Invalid { .. }) = cause.downcast_ref::<config::ConfigError>() {
            return Some(
                "`cimon init DIR` writes a starter config with every key, its allowed values and default".into(),
            );
        }
        if let Some(lock::LockError::Held { .. }) = cause.downcast_ref::<lock::LockError>() {
            return Some("wait for the other run to finish; a killed run's lock is released by the system".into());
        }
        if missing_store(cause) {
            return Some("run `cimon ingest INPUT_DIR --out DIR` (then `cimon compute`) with the same --out".into());
        }
        if broken_invariant(cause) {
            return Some(
                "this is a bug in cimon, not in the data: the published outputs are unchanged; send this message and \
                 the run record (OUT/runs/) to the maintainers"
                    .into(),
            );
        }
        if let Some(
            compute::ComputeError::UnknownRegions { .. }
            | compute::ComputeError::OutsideValidity { .. }
            | compute::ComputeError::TwoCodes { .. },
        ) = cause.downcast_ref::<compute::ComputeError>()
        {
            return Some("pass the registry the store was ingested with (--regions), or ingest again".into());
        }
        if let Some(catalog::CatalogError::Io { .. }) = cause.downcast_ref::<catalog::CatalogError>() {
            return Some(
                "check the path of --catalog or [schemas] catalog (relative to the config file); leave it out to use the built-in catalog".into(),
            );
        }
        if let Some(regions::RegistryError::Io { .. }) = cause.downcast_ref::<regions::RegistryError>() {
            return Some(
                "check the path of --regions or [schemas] regions (relative to the config file); leave it out to use the built-in national registry".into(),
            );
        }
    }
    None
}
