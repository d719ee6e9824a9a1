"""The bare baseline `benches/ingest_xlsx.sh` compares `cimon ingest` against: python-polars
reading every yearly workbook with calamine (fastexcel), unpivoting it to one row per county,
year and indicator, and writing one Parquet file. No validation, no provenance, no units.

    python3 benches/ingest_baseline.py INPUT_DIR OUT.parquet
"""

import sys
from pathlib import Path

import polars as pl

frames = []
for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    year = int(path.stem)
    wide = pl.read_excel(path, engine="calamine", read_options={"header_row": 1})
    frames.append(
        wide.with_columns(pl.col("code").cast(pl.String))
        .unpivot(index="code", variable_name="indicator", value_name="value")
        .with_columns(pl.lit(year).alias("year"), pl.col("value").cast(pl.Float64))
    )
pl.concat(frames).write_parquet(sys.argv[2])
