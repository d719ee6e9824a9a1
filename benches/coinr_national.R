# COINr 1.1.14 on the national panel, for issue 31's comparison: a purse (one coin per year),
# optionally COINr's default outlier treatment per year, min-max [0, 100] pooled over all years
# (global = TRUE), weighted arithmetic means up the framework. Writes the index per county and
# year; prints the seconds spent in R after start-up.
#   Rscript benches/coinr_national.R iData.csv iMeta.csv index.csv none|coinr
t0 <- proc.time()[["elapsed"]]
suppressPackageStartupMessages(library(COINr))
args <- commandArgs(trailingOnly = TRUE)
iData <- read.csv(args[1], check.names = FALSE)
iMeta <- read.csv(args[2])
iMeta$Parent[iMeta$Parent == ""] <- NA
purse <- new_coin(iData, iMeta, split_to = "all", quietly = TRUE)
dset <- "Raw"
if (args[4] == "coinr") {
  purse <- Treat(purse, dset = "Raw")
  dset <- "Treated"
}
purse <- Normalise(purse, dset = dset, global = TRUE)
purse <- Aggregate(purse, dset = "Normalised")
agg <- get_dset(purse, dset = "Aggregated")
root <- iMeta$iCode[is.na(iMeta$Parent)]
write.csv(agg[c("uCode", "Time", root)], args[3], row.names = FALSE)
cat(sprintf("coinr: %.2f s in R\n", proc.time()[["elapsed"]] - t0))
