# Reference values for Cohen's kappa and its 95% CI (sysrev.screening.agreement), from R's
# psych::cohen.kappa (Debian: apt-get install -y r-base-core r-cran-psych).
# Run from the repository root: Rscript tests/reference/kappa_reference.R
suppressMessages(library(psych))
decisions <- read.csv("data/denosumab_ra/screening/decisions.csv", stringsAsFactors = FALSE)
out <- c()
cases <- list()
for (st in c("title_abstract", "full_text")) {
  d <- decisions[decisions$stage == st & decisions$reviewer != "consensus", ]
  w <- reshape(d[, c("record_id", "reviewer", "decision")], idvar = "record_id",
               timevar = "reviewer", direction = "wide")
  lev <- sort(unique(c(w$decision.R1, w$decision.R2)))
  r1 <- as.integer(factor(w$decision.R1, levels = lev))
  r2 <- as.integer(factor(w$decision.R2, levels = lev))
  k <- suppressWarnings(cohen.kappa(data.frame(r1, r2)))
  out <- c(out, sprintf(paste0('  {"id": "bundled_%s", "call": "psych::cohen.kappa(data.frame(R1, R2))", ',
                               '"n": %d, "kappa": %.17g, "var_kappa": %.17g, "ci_lower": %.17g, ',
                               '"ci_upper": %.17g}'),
                        st, nrow(w), k$kappa, k$var.kappa, k$confid[1, 1], k$confid[1, 3]))
}
json <- paste0('{\n"r_version": "', R.version.string, '",\n"psych_version": "',
               as.character(packageVersion("psych")), '",\n"generated_by": ',
               '"tests/reference/kappa_reference.R",\n"cases": [\n',
               paste(out, collapse = ",\n"), '\n]\n}\n')
writeLines(json, "tests/reference/kappa_reference.json", sep = "")
