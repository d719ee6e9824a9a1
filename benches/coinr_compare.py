"""cimon's index against COINr's, county by county and year by year.
    python benches/coinr_compare.py CIMON_INDEX_PARQUET COINR_INDEX_CSV
Prints the rows each has, the rows with an index in one and not the other, and the largest
difference where both have one; exits 1 if any row differs by more than 1e-9.
"""
import sys

import polars as pl

cimon = pl.read_parquet(sys.argv[1]).select("region_code", "year", "index")
coinr = pl.read_csv(sys.argv[2]).select(
    pl.col("uCode").str.slice(1).alias("region_code"), pl.col("Time").cast(pl.Int32).alias("year"), "cici")
j = cimon.join(coinr, on=["region_code", "year"], how="full", coalesce=True)
only = j.filter(pl.col("index").is_null() != pl.col("cici").is_null())
both = j.filter(pl.col("index").is_not_null() & pl.col("cici").is_not_null())
diff = (both["index"] - both["cici"]).abs().max() or 0.0
print(f"index rows: cimon {cimon.height}, COINr {coinr.height}; with a value in one only: {only.height}; "
      f"both ({both.height}): largest difference {diff:.1e}")
if only.height:
    print(only.head(10))
sys.exit(0 if only.height == 0 and diff <= 1e-9 else 1)
