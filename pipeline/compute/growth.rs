//! Growth per county, indicator and year (polars lazy): year-on-year and average annual, in % or points.

use polars::prelude::*;

/// A growth measure over a fixed span, or since a base year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    Years(i32),
    Since(i32),
}

/// Growth table, long: one row per county, year, indicator and measure.
///
/// `obs` has `region_code, year, indicator, value, kind`. Ratios (kind = "ratio") change in
/// percentage points a year; the rest in percent (水平法: (x_t/x_0)^(1/n) − 1). A change that
/// cannot be computed is null with the reason in `note`, never inf or NaN.
pub fn growth(obs: LazyFrame, spans: &[Span]) -> PolarsResult<LazyFrame> {
    let mut parts = Vec::new();
    let mut all = vec![Span::Years(1)];
    all.extend(spans.iter().copied().filter(|s| *s != Span::Years(1)));
    for span in all {
        let from = obs.clone().select([
            col("region_code"),
            col("indicator"),
            col("year").alias("from_year"),
            col("value").alias("from_value"),
        ]);
        let (left, measure) = match span {
            Span::Years(n) => (obs.clone().with_column((col("year") - lit(n)).alias("from_year")), if n == 1 { "yoy" } else { "avg_annual" }),
            Span::Since(b) => (obs.clone().filter(col("year").gt(lit(b))).with_column(lit(b).alias("from_year")), "since_base"),
        };
        let joined = left.join(
            from,
            [col("region_code"), col("indicator"), col("from_year")],
            [col("region_code"), col("indicator"), col("from_year")],
            JoinArgs::new(JoinType::Left),
        );
        let n = (col("year") - col("from_year")).cast(DataType::Float64);
        let is_ratio = col("kind").eq(lit("ratio"));
        let points = (col("value") - col("from_value")) / n.clone();
        let percent = ((col("value") / col("from_value")).pow(lit(1.0) / n) - lit(1.0)) * lit(100.0);
        let bad_base = col("from_value").lt_eq(lit(0.0)).or(col("value").lt(lit(0.0)));
        let note = when(col("value").is_null())
            .then(lit("value missing"))
            .when(col("from_value").is_null())
            .then(lit("no value in the base year"))
            .when(is_ratio.clone().not().and(bad_base.clone()))
            .then(lit("base is zero or negative"))
            .otherwise(lit(NULL).cast(DataType::String));
        let change = when(col("value").is_null().or(col("from_value").is_null()))
            .then(lit(NULL).cast(DataType::Float64))
            .when(is_ratio.clone())
            .then(points)
            .when(bad_base)
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(percent);
        parts.push(joined.select([
            col("region_code"),
            col("year"),
            col("indicator"),
            col("kind"),
            lit(measure).alias("measure"),
            (col("year") - col("from_year")).alias("span"),
            col("from_year"),
            col("from_value"),
            col("value"),
            change.alias("change"),
            when(is_ratio).then(lit("pp")).otherwise(lit("%")).alias("change_unit"),
            note.alias("note"),
        ]));
    }
    Ok(concat(parts, UnionArgs::default())?.sort(
        ["region_code", "indicator", "year", "span"],
        SortMultipleOptions::default().with_maintain_order(true),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> LazyFrame {
        df!(
            "region_code" => ["a", "a", "a", "a", "b", "b", "b", "b"],
            "year" => [2020i32, 2021, 2022, 2023, 2020, 2021, 2022, 2023],
            "indicator" => ["x", "x", "x", "x", "r", "r", "r", "r"],
            "kind" => ["count", "count", "count", "count", "ratio", "ratio", "ratio", "ratio"],
            "value" => [Some(100.0), Some(110.0), Some(0.0), Some(121.0), Some(1.0), None, Some(1.6), Some(2.0)],
        )
        .unwrap()
        .lazy()
    }

    fn get(df: &DataFrame, region: &str, year: i32, measure: &str) -> (Option<f64>, Option<String>) {
        let m = df
            .clone()
            .lazy()
            .filter(col("region_code").eq(lit(region)).and(col("year").eq(lit(year))).and(col("measure").eq(lit(measure))))
            .collect()
            .unwrap();
        assert_eq!(m.height(), 1, "{region} {year} {measure}");
        let note = m.column("note").unwrap().str().unwrap().get(0).map(str::to_string);
        (m.column("change").unwrap().f64().unwrap().get(0), note)
    }

    #[test]
    fn yoy_average_and_points_by_hand() {
        let df = growth(frame(), &[Span::Years(3), Span::Since(2020)]).unwrap().collect().unwrap();
        let (v, _) = get(&df, "a", 2021, "yoy");
        assert!((v.unwrap() - 10.0).abs() < 1e-12);
        // 0 → 121: the base is zero, so null with a reason, never inf.
        assert_eq!(get(&df, "a", 2023, "yoy"), (None, Some("base is zero or negative".into())));
        // 100 → 121 over 3 years: 1.21^(1/3) − 1 = 6.5602%.
        let (v, _) = get(&df, "a", 2023, "avg_annual");
        assert!((v.unwrap() - (1.21f64.powf(1.0 / 3.0) - 1.0) * 100.0).abs() < 1e-12);
        // Ratio: 1.0 → 2.0 over 3 years = 0.3333 points a year; 1.6 → 2.0 = 0.4 points.
        let (v, _) = get(&df, "b", 2023, "avg_annual");
        assert!((v.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        let (v, _) = get(&df, "b", 2023, "yoy");
        assert!((v.unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(get(&df, "b", 2022, "yoy"), (None, Some("no value in the base year".into())));
        assert_eq!(get(&df, "b", 2021, "yoy"), (None, Some("value missing".into())));
        assert_eq!(get(&df, "a", 2020, "yoy"), (None, Some("no value in the base year".into())));
        let (v, _) = get(&df, "a", 2022, "since_base");
        assert_eq!(v, Some(-100.0), "0 at the end is −100%, the base is fine");
        let units: Vec<Option<&str>> = df.column("change_unit").unwrap().str().unwrap().iter().collect();
        assert!(units.contains(&Some("pp")) && units.contains(&Some("%")));
    }
}
