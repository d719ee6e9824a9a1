//! Writing the result tables: every row type of `results` from what compute produced, as Parquet.

use std::path::Path;

use super::{rows, Computed, GrowthSettings};
use crate::catalog::Catalog;
use crate::compute::index::Method;
use crate::results::*;
use crate::tables::{self, Row, StoreError};

/// Write every result table into the empty directory `dir`, unpublished. Returns the file names
/// written.
pub fn write_tables(
    dir: &Path,
    c: &Computed,
    catalog: &Catalog,
    method: &Method,
    growth: &GrowthSettings,
) -> Result<Vec<String>, StoreError> {
    crate::faults::io("results").map_err(tables::io(dir))?;
    let description = rows::method_rows(method, growth, catalog, &c.evaluation);
    let kv: Vec<(&str, &str)> = description.iter().map(|m| (m.key.as_str(), m.value.as_str())).collect();
    let meta = vec![("cimon.method".to_string(), serde_json::to_string(&kv).expect("strings serialise"))];
    let meta = &meta;
    let file = |name: &str| format!("{name}.parquet");
    type Job<'a> = Box<dyn Fn() -> Result<String, StoreError> + Sync + 'a>;
    // The panel-shaped tables are built column by column from the panel in batches; every table
    // on both cores. `growth` (2 M rows) is the longest job and goes first, `normalised`, the next
    // longest, last; their row groups are encoded by whichever core is free (`write_frames`).
    let jobs: Vec<Job<'_>> = vec![
        Box::new(|| {
            frames::<GrowthRow, _, _>(dir, rows::growth_frames(c, catalog), meta).map(|()| file(GrowthRow::TABLE))
        }),
        Box::new(|| {
            frames::<IndexRow, _, _>(dir, rows::index_frames(c, catalog), meta).map(|()| file(IndexRow::TABLE))
        }),
        Box::new(|| frames::<ScoreRow, _, _>(dir, rows::score_frames(c), meta).map(|()| file(ScoreRow::TABLE))),
        Box::new(|| tables::write(dir, &rows::weight_rows(c, method), meta).map(|()| file(WeightRow::TABLE))),
        Box::new(|| tables::write(dir, &rows::treatment_rows(c), meta).map(|()| file(TreatmentRow::TABLE))),
        Box::new(|| tables::write(dir, &c.attainment, meta).map(|()| file(AttainmentRow::TABLE))),
        Box::new(|| tables::write(dir, &c.attainment_years, meta).map(|()| file(AttainmentYearRow::TABLE))),
        Box::new(|| tables::write(dir, &c.attainment_regions, meta).map(|()| file(RegionalAttainmentRow::TABLE))),
        Box::new(|| tables::write(dir, &description, meta).map(|()| file(MethodRow::TABLE))),
        Box::new(|| tables::write(dir, &rows::uncertainty_rows(c), meta).map(|()| file(UncertaintyRow::TABLE))),
        Box::new(|| tables::write(dir, &rows::sensitivity_rows(c), meta).map(|()| file(SensitivityRow::TABLE))),
        Box::new(|| tables::write(dir, &c.funding, meta).map(|()| file(FundingRow::TABLE))),
        Box::new(|| tables::write(dir, &c.appraisal, meta).map(|()| file(AppraisalRow::TABLE))),
        Box::new(|| tables::write(dir, &c.audit.alpha, meta).map(|()| file(AuditAlphaRow::TABLE))),
        Box::new(|| tables::write(dir, &c.audit.correlations, meta).map(|()| file(AuditCorrelationRow::TABLE))),
        Box::new(|| tables::write(dir, &c.audit.pca, meta).map(|()| file(AuditPcaRow::TABLE))),
        Box::new(|| tables::write(dir, &c.audit.loadings, meta).map(|()| file(AuditLoadingRow::TABLE))),
        Box::new(|| tables::write(dir, &c.audit.flags, meta).map(|()| file(AuditFlagRow::TABLE))),
        Box::new(|| {
            frames::<NormalisedRow, _, _>(dir, rows::normalised_frames(c), meta).map(|()| file(NormalisedRow::TABLE))
        }),
    ];
    use rayon::prelude::*;
    let t0 = std::time::Instant::now();
    jobs.par_iter()
        .map(|job| {
            let t = std::time::Instant::now();
            let r = job();
            if let Ok(name) = &r {
                crate::atomic::start_writeback(&dir.join(name));
                crate::timing::lap(&format!("wrote {name} in {:.3}s, at", t.elapsed().as_secs_f64()), t0);
            }
            r
        })
        .collect()
}

/// Write a table given as frames of its columns into `dir`.
fn frames<R: Row, F, I>(dir: &Path, frames: I, meta: &[(String, String)]) -> Result<(), StoreError>
where
    F: FnOnce() -> polars::prelude::PolarsResult<polars::prelude::DataFrame> + Send,
    I: Iterator<Item = F>,
{
    tables::write_frames::<R, _, _>(&tables::path_of::<R>(dir), frames, meta)
}

#[cfg(test)]
mod tests;
