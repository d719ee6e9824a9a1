//! Every result table written and read back; every declared column in the data dictionary.

use std::path::Path;

use crate::catalog::Catalog;
use crate::compute::index::Method;
use crate::compute::rows as build;
use crate::compute::sensitivity::SensitivitySettings;
use crate::compute::{Computed, GrowthSettings};
use crate::regions::Registry;
use crate::results::*;
use crate::tables::{self, Row};

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The sample province ingested and computed in memory, with a small sensitivity analysis so
/// that every table has rows.
fn sample() -> (tempfile::TempDir, Computed, Catalog, Method, GrowthSettings) {
    let catalog = Catalog::load(&repo("schemas/indicators.toml")).unwrap();
    let registry = Registry::load(&repo("schemas/regions.csv")).unwrap();
    let targets = crate::targets::load(&repo("sample-data/targets.toml"), &catalog, &registry).unwrap();
    let files = crate::ingest::collect_inputs(&repo("sample-data/inputs"), &[]).unwrap();
    let ingested = crate::ingest::ingest(&files, &catalog, &registry, &crate::scope::Scope::all(), &[]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store_dir = tmp.path().join("store");
    std::fs::create_dir_all(&store_dir).unwrap();
    crate::store::write_into(&store_dir, &ingested, &catalog, &registry, None).unwrap();
    let method = Method::default();
    let growth = GrowthSettings { spans: vec![3, 5], base_year: Some(2015) };
    let sensitivity = SensitivitySettings { samples: 4, ..SensitivitySettings::default() };
    // The sample config's 绩效拨款 and 考评, so that those tables have rows too.
    let config: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo("sample-data/cimon.toml")).unwrap()).unwrap();
    let evaluation = crate::compute::Evaluation {
        funding: Some(config["funding"].clone().try_into().unwrap()),
        appraisal: Some(config["appraisal"].clone().try_into().unwrap()),
    };
    let loaded = crate::compute::load(&store_dir, &catalog, &registry, &crate::scope::Scope::all()).unwrap();
    let c = crate::compute::compute_loaded(
        loaded,
        &catalog,
        &registry,
        &targets,
        &method,
        &growth,
        &sensitivity,
        &evaluation,
    )
    .unwrap();
    (tmp, c, catalog, method, growth)
}

#[test]
fn every_result_table_reads_back_as_written() {
    let (tmp, c, catalog, method, growth) = sample();
    let dir = tmp.path().join("results");
    std::fs::create_dir_all(&dir).unwrap();
    // Compute's own writer (the workbook and the dictionary are the application's, tested end to end).
    let names = super::write_tables(&dir, &c, &catalog, &method, &growth).unwrap();
    assert_eq!(names.len(), declared().len(), "every declared table: {names:?}");
    // The sample's audit: an alpha per dimension and the index, a flag table that may be empty.
    let flags: Vec<AuditFlagRow> = tables::read(&dir).unwrap();
    assert_eq!(flags, c.audit.flags);
    assert_eq!(c.audit.alpha.len(), catalog.groups.len() + 1);

    fn same<R: Row + PartialEq + std::fmt::Debug>(dir: &Path, expected: Vec<R>) {
        let read: Vec<R> = tables::read(dir).unwrap();
        assert!(!read.is_empty(), "{} is empty: the round trip would prove nothing", R::TABLE);
        assert_eq!(read.len(), expected.len(), "{}", R::TABLE);
        for (i, (a, b)) in read.iter().zip(&expected).enumerate() {
            assert_eq!(a, b, "{} row {}", R::TABLE, i + 1);
        }
    }
    same(&dir, build::index_rows(&c, &catalog));
    same(&dir, build::score_rows(&c).collect());
    same(&dir, build::normalised_rows(&c).collect());
    same(&dir, build::weight_rows(&c, &method));
    same(&dir, build::treatment_rows(&c));
    same(&dir, build::growth_rows(&c, &catalog, None).collect());
    same(&dir, c.attainment.clone());
    same(&dir, c.attainment_years.clone());
    same(&dir, build::method_rows(&method, &growth, &catalog, &c.evaluation));
    same(&dir, build::uncertainty_rows(&c));
    same(&dir, build::sensitivity_rows(&c));
    same(&dir, c.audit.alpha.clone());
    same(&dir, c.audit.correlations.clone());
    same(&dir, c.audit.pca.clone());
    same(&dir, c.audit.loadings.clone());
    same(&dir, c.funding.clone());
    same(&dir, c.appraisal.clone());

    // Coded values survive: a note with arguments, a wide group, every growth measure.
    assert!(c.attainment.iter().any(|a| matches!(a.note, Some(Note::MetYears { .. }))));
    let g = &build::growth_rows(&c, &catalog, None).next().unwrap();
    assert_eq!(
        g.changes.0.iter().map(|x| x.span.column()).collect::<Vec<_>>(),
        ["yoy", "avg_3y", "avg_5y", "since_2015"]
    );
    // One year only, from the filtered read.
    let y2020: Vec<GrowthRow> = read_year(&dir, 2020).unwrap();
    assert_eq!(y2020, build::growth_rows(&c, &catalog, Some(2020)).collect::<Vec<_>>());
    assert!(y2020.iter().all(|r| r.year == 2020) && !y2020.is_empty());
    // The workbook's view of that year, made cell by cell, is the same rows.
    let view = build::YearGrowth::new(&c, &catalog, 2020);
    assert_eq!(view.rows(), y2020.len());
    assert_eq!(view.measures(), g.changes.0.iter().map(|x| x.span).collect::<Vec<_>>());
    for (r, row) in y2020.iter().enumerate() {
        let v = view.row(r);
        assert_eq!(
            (v.region_code, v.year, v.indicator, v.value, v.change_unit),
            (&*row.region_code, row.year, &*row.indicator, row.value, row.change_unit),
            "row {r}"
        );
        for (m, change) in row.changes.0.iter().enumerate() {
            assert_eq!(view.change(r, m), change.value, "row {r}, {}", change.span.column());
        }
    }
    assert_eq!(build::YearGrowth::new(&c, &catalog, 1990).rows(), 0, "a year without data has no rows");

    // The workbook's view of the index table, made cell by cell, is the rows written.
    let index = build::index_rows(&c, &catalog);
    let view = build::IndexView::new(&c, &catalog);
    assert_eq!(view.rows(), index.len());
    for (r, row) in index.iter().enumerate() {
        let v = view.row(r);
        assert_eq!(
            (v.region_code, v.year, v.region_name, v.prefecture_name, v.province_name),
            (&*row.region_code, row.year, &*row.region_name, &*row.prefecture_name, &*row.province_name),
            "row {r}"
        );
        assert_eq!(
            (v.index, v.rank, v.rank_prefecture, v.rank_province, v.rank_change),
            (row.index, row.rank, row.rank_prefecture, row.rank_province, row.rank_change),
            "row {r}"
        );
        assert_eq!(
            (v.casted_tier, v.ratio_to_average, v.ratio_group),
            (row.casted_tier, row.ratio_to_average, row.ratio_group)
        );
        for (group, score) in &row.scores.0 {
            assert_eq!(view.scores(group).map(|s| s[r]), Some(*score), "row {r}, {group}");
        }
    }
    assert!(view.scores(&catalog.index.code).is_none() && view.scores("no_such_group").is_none());
}

#[test]
fn the_data_dictionary_lists_every_declared_column() {
    #[derive(serde::Deserialize)]
    struct Dict {
        tables: Vec<T>,
    }
    #[derive(serde::Deserialize)]
    struct T {
        name: String,
        columns: Vec<C>,
    }
    #[derive(serde::Deserialize)]
    struct C {
        name: String,
    }
    let dict: Dict = toml::from_str(&std::fs::read_to_string(repo("schemas/data-dictionary.toml")).unwrap()).unwrap();
    let mut declared_tables = declared();
    declared_tables.extend(crate::store::declared());
    for (name, mut columns) in declared_tables {
        let t =
            dict.tables.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no table {name} in the dictionary"));
        let mut documented: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        if name == "observations" {
            // From the partition path, not stored in the files.
            documented.retain(|c| c != "year");
        }
        columns.sort();
        documented.sort();
        assert_eq!(columns, documented, "table {name}");
    }
    assert_eq!(
        dict.tables.len(),
        declared().len() + crate::store::declared().len(),
        "a documented table nobody writes"
    );
}
