"""COINr's inputs for the national benchmark, from a cimon store and catalog.

iData.csv: one row per county and year (uCode, Time) with each scored indicator's stored value
(catalog units, as cimon reads them), under the code the county has today (renames followed, as
cimon's results name it; the registry is REGIONS); iMeta.csv: the catalog's framework (indicators → groups →
index) with directions and weights.
    python benches/coinr_prep.py STORE CATALOG REGIONS OUTDIR
"""
import sys
import tomllib

import polars as pl

store, catalog_path, regions_path, out = sys.argv[1:5]
with open(catalog_path, "rb") as f:
    cat = tomllib.load(f)
scored = [i for i in cat["indicators"] if i.get("scored", True)]
codes = [i["code"] for i in scored]

regions = pl.read_csv(regions_path, infer_schema=False)
renamed = dict(regions.filter(pl.col("change") == "renamed").select("code", "successor").iter_rows())


def current(code):
    while code in renamed:
        code = renamed[code]
    return code


obs = pl.scan_parquet(f"{store}/observations/**/*.parquet", hive_partitioning=True)
wide = (
    obs.filter(pl.col("indicator").is_in(codes))
    .select("region_code", "year", "indicator", "value")
    .collect()
    .pivot(on="indicator", index=["region_code", "year"], values="value")
    # COINr's codes must not start with a digit.
    .select(pl.lit("C") + pl.col("region_code").map_elements(current, return_dtype=pl.String), pl.col("year"),
            *[pl.col(c) for c in codes])
    .rename({"literal": "uCode", "year": "Time"})
    .sort("uCode", "Time")
)
wide.write_csv(f"{out}/iData.csv")

meta = [
    {"iCode": i["code"], "iName": i["code"], "Level": 1, "Parent": i["group"],
     "Direction": i.get("direction", 1), "Weight": i.get("weight", 1.0), "Type": "Indicator"}
    for i in scored
]
depth = {cat["index"]["code"]: 0}
groups = cat.get("groups", [])
while len(depth) < len(groups) + 1:
    for g in groups:
        if g["parent"] in depth:
            depth[g["code"]] = depth[g["parent"]] + 1
top = max(depth.values()) + 2  # indicators are level 1, the deepest groups level 2
for g in groups:
    meta.append({"iCode": g["code"], "iName": g["code"], "Level": top - depth[g["code"]],
                 "Parent": g["parent"], "Direction": 1, "Weight": g.get("weight", 1.0), "Type": "Aggregate"})
meta.append({"iCode": cat["index"]["code"], "iName": cat["index"]["code"], "Level": top,
             "Parent": None, "Direction": 1, "Weight": 1.0, "Type": "Aggregate"})
pl.DataFrame(meta).write_csv(f"{out}/iMeta.csv")
print(f"iData.csv: {wide.height} rows × {len(codes)} indicators; iMeta.csv: {len(meta)} rows")
