# Reference values from R's metafor and clubSandwich for sysrev's meta-regression,
# permutation test, trim-and-fill, multilevel (three-level) models and CR2 robust tests.
#
# Regenerate (from the repository root):
#   apt-get update && apt-get install -y r-base-core r-cran-metafor r-cran-clubsandwich
#   Rscript tests/reference/metafor_models_reference.R
#
# Writes tests/reference/metafor_models_reference.json next to this script. The data of
# the published example datasets used (metadat's dat.bcg, dat.hackshaw1998 and
# dat.konstantopoulos2011, shipped with metafor) are written into the JSON as each case's
# input, so the Python tests need no R.
#
# Convergence is tight on the R side: rma.uni with threshold = 1e-12, tol = 1e-12 (the
# root finder of PM) and maxiter = 10000,
# rma.mv with nlminb's rel.tol = 1e-10 (iter.max / eval.max 10000; 1e-11 and tighter make
# nlminb stop with convergence code 1 on some of these fits, and the variance components
# agree to 12 digits between 1e-10 and 1e-12 where both converge), confint() with uniroot
# tol = 1e-12. Numbers are written as the shortest decimal that reads back as the
# same double (json_writer.R).

suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
})

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f) == 1) dirname(normalizePath(f)) else file.path("tests", "reference")
})
source(file.path(here, "json_writer.R"))
out_file <- file.path(here, "metafor_models_reference.json")

cases <- list()
add_case <- function(case) cases[[length(cases) + 1]] <<- case
num <- function(x) as.numeric(x)
ctrl_uni <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
ctrl_mv <- list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)
ctrl_ci <- list(tol = 1e-12)

# ---------------------------------------------------------------------------
# Meta-regression on dat.bcg (log risk ratios)
# ---------------------------------------------------------------------------

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg_input <- list(study = as.character(bcg$author), year = num(bcg$year),
                  ablat = num(bcg$ablat), alloc = as.character(bcg$alloc),
                  yi = arr(num(bcg$yi)), vi = arr(num(bcg$vi)))

mods_result <- function(res) {
  r <- list(method = res$method, test = res$test,
            beta = arr(num(res$beta)), se = arr(num(res$se)), zval = arr(num(res$zval)),
            pval = arr(num(res$pval)), ci.lb = arr(num(res$ci.lb)),
            ci.ub = arr(num(res$ci.ub)), vcov = lapply(seq_len(nrow(vcov(res))),
                                                        function(i) arr(num(vcov(res)[i, ]))),
            tau2 = num(res$tau2), I2 = num(res$I2), H2 = num(res$H2),
            R2 = if (is.null(res$R2)) NA_real_ else num(res$R2),
            QE = num(res$QE), QEp = num(res$QEp), QM = num(res$QM), QMp = num(res$QMp),
            QMdf = arr(num(res$QMdf)))
  r
}

grid <- c(10, 20, 30, 40, 50)
for (method in c("EE", "DL", "REML", "ML", "PM")) {
  for (test in c("z", "knha")) {
    call <- sprintf('rma(yi, vi, mods = ~ ablat + year, data = bcg, method = "%s", test = "%s", control = ctrl_uni)', method, test)
    res <- suppressWarnings(eval(parse(text = call)))
    add_case(list(id = sprintf("mods_bcg_ablat_year_%s_%s", method, test),
                  dataset = "metadat::dat.bcg", call = call, input = bcg_input,
                  result = mods_result(res)))
    call <- sprintf('rma(yi, vi, mods = ~ ablat, data = bcg, method = "%s", test = "%s", control = ctrl_uni)', method, test)
    res <- suppressWarnings(eval(parse(text = call)))
    pr <- predict(res, newmods = grid)
    r <- mods_result(res)
    r$predict <- list(newmods = arr(grid), pred = arr(num(pr$pred)), se = arr(num(pr$se)),
                      ci.lb = arr(num(pr$ci.lb)), ci.ub = arr(num(pr$ci.ub)))
    r$weights_percent <- arr(num(weights(res)))
    add_case(list(id = sprintf("mods_bcg_ablat_%s_%s", method, test),
                  dataset = "metadat::dat.bcg", call = call,
                  extra_calls = list("predict(res, newmods = c(10, 20, 30, 40, 50))",
                                     "weights(res)"),
                  input = bcg_input, result = r))
  }
  # A categorical moderator (treatment contrasts, first level as reference) and a
  # continuous one together.
  call <- sprintf('rma(yi, vi, mods = ~ factor(alloc) + ablat, data = bcg, method = "%s", control = ctrl_uni)', method)
  res <- suppressWarnings(eval(parse(text = call)))
  add_case(list(id = sprintf("mods_bcg_alloc_ablat_%s_z", method),
                dataset = "metadat::dat.bcg", call = call, input = bcg_input,
                result = c(mods_result(res), list(coef_names = arr(rownames(res$beta))))))
}

# ---------------------------------------------------------------------------
# Exact permutation tests (every distinct permutation; no random numbers involved)
# ---------------------------------------------------------------------------

perm_cases <- list(
  list(id = "permutest_bcg6_ablat_REML_z", rows = 1:6, mods = "~ ablat", method = "REML", test = "z"),
  list(id = "permutest_bcg6_ablat_DL_knha", rows = 1:6, mods = "~ ablat", method = "DL", test = "knha"),
  list(id = "permutest_bcg7_alloc_DL_z", rows = 1:7, mods = "~ factor(alloc)", method = "DL", test = "z"))
for (pc in perm_cases) {
  sub <- bcg[pc$rows, ]
  call <- sprintf('rma(yi, vi, mods = %s, data = sub, method = "%s", test = "%s", control = ctrl_uni)', pc$mods, pc$method, pc$test)
  res <- suppressWarnings(eval(parse(text = call)))
  pt <- permutest(res, exact = TRUE, progbar = FALSE)
  add_case(list(id = pc$id, dataset = sprintf("metadat::dat.bcg rows %d-%d", min(pc$rows), max(pc$rows)),
                call = call, extra_calls = list("permutest(res, exact = TRUE)"),
                input = list(yi = arr(num(sub$yi)), vi = arr(num(sub$vi)),
                             ablat = arr(num(sub$ablat)), alloc = arr(as.character(sub$alloc))),
                result = list(zval = arr(num(res$zval)), QM = num(res$QM),
                              pval = arr(num(pt$pval)), QMp = num(pt$QMp),
                              iterations = nrow(as.matrix(pt$zval.perm)))))
}

# ---------------------------------------------------------------------------
# Trim-and-fill
# ---------------------------------------------------------------------------

hack <- dat.hackshaw1998
trim_input <- function(d) list(yi = arr(num(d$yi)), vi = arr(num(d$vi)))
trim_result <- function(tf) {
  list(k0 = num(tf$k0), se.k0 = num(tf$se.k0), side = tf$side,
       p.k0 = if (is.null(tf$p.k0)) NA_real_ else num(tf$p.k0),
       estimate = num(tf$beta), se = num(tf$se), zval = num(tf$zval), pval = num(tf$pval),
       ci.lb = num(tf$ci.lb), ci.ub = num(tf$ci.ub), tau2 = num(tf$tau2),
       QE = num(tf$QE), I2 = num(tf$I2), k = num(tf$k),
       yi = arr(num(tf$yi)), vi = arr(num(tf$vi)), fill = arr(as.logical(tf$fill)))
}
datasets <- list(bcg = list(data = bcg, name = "metadat::dat.bcg (log RR)"),
                 hackshaw = list(data = hack, name = "metadat::dat.hackshaw1998 (log OR)"))
for (dn in names(datasets)) {
  d <- datasets[[dn]]$data
  for (method in c("EE", "DL", "REML")) {
    for (estimator in c("L0", "R0")) {
      call <- sprintf('trimfill(rma(yi, vi, data = d, method = "%s", control = ctrl_uni), estimator = "%s", control = ctrl_uni)', method, estimator)
      tf <- suppressWarnings(eval(parse(text = call)))
      add_case(list(id = sprintf("trimfill_%s_%s_%s", dn, method, estimator),
                    dataset = datasets[[dn]]$name, call = call, input = trim_input(d),
                    result = trim_result(tf)))
    }
  }
  call <- 'trimfill(rma(yi, vi, data = d, method = "REML", control = ctrl_uni), side = "right", control = ctrl_uni)'
  tf <- suppressWarnings(eval(parse(text = call)))
  add_case(list(id = sprintf("trimfill_%s_REML_L0_right", dn), dataset = datasets[[dn]]$name,
                call = call, input = trim_input(d), result = trim_result(tf)))
}

# ---------------------------------------------------------------------------
# Three-level models on dat.konstantopoulos2011 (schools within districts) and CR2
# ---------------------------------------------------------------------------

kon <- dat.konstantopoulos2011
kon$year_c <- kon$year - mean(kon$year)
kon_input <- list(district = arr(as.character(kon$district)),
                  school = arr(as.character(kon$school)), year = arr(num(kon$year)),
                  yi = arr(num(kon$yi)), vi = arr(num(kon$vi)))
mv_cases <- list(
  list(id = "mv_kon_REML_z", mods = NULL, method = "REML", test = "z"),
  list(id = "mv_kon_ML_z", mods = NULL, method = "ML", test = "z"),
  list(id = "mv_kon_REML_t", mods = NULL, method = "REML", test = "t"),
  list(id = "mv_kon_year_REML_z", mods = "~ year_c", method = "REML", test = "z"),
  list(id = "mv_kon_year_ML_t", mods = "~ year_c", method = "ML", test = "t"))
for (mc in mv_cases) {
  mods <- if (is.null(mc$mods)) "" else sprintf("mods = %s, ", mc$mods)
  call <- sprintf('rma.mv(yi, vi, %srandom = ~ 1 | district/school, data = kon, method = "%s", test = "%s", control = ctrl_mv)', mods, mc$method, mc$test)
  res <- eval(parse(text = call))
  ci <- confint(res, control = ctrl_ci)
  ct <- coef_test(res, vcov = "CR2", test = "Satterthwaite")
  cf <- conf_int(res, vcov = "CR2")
  vc <- as.matrix(vcovCR(res, type = "CR2"))
  fs <- fitstats(res)
  r <- list(method = res$method, test = res$test,
            beta = arr(num(res$beta)), se = arr(num(res$se)), zval = arr(num(res$zval)),
            pval = arr(num(res$pval)), ci.lb = arr(num(res$ci.lb)), ci.ub = arr(num(res$ci.ub)),
            vcov = lapply(seq_len(nrow(vcov(res))), function(i) arr(num(vcov(res)[i, ]))),
            sigma2 = arr(num(res$sigma2)),
            sigma2.1.ci = arr(num(ci[[1]]$random[1, 2:3])),
            sigma2.2.ci = arr(num(ci[[2]]$random[1, 2:3])),
            s.nlevels = arr(num(res$s.nlevels)),
            QE = num(res$QE), QEp = num(res$QEp), QM = num(res$QM), QMp = num(res$QMp),
            QMdf = arr(num(res$QMdf)), ddf = arr(num(res$ddf)),
            logLik = num(fs[1, 1]), deviance = num(fs[2, 1]), AIC = num(fs[3, 1]),
            BIC = num(fs[4, 1]), AICc = num(fs[5, 1]),
            cr2 = list(beta = arr(num(ct$beta)), SE = arr(num(ct$SE)),
                       tstat = arr(num(ct$tstat)), df = arr(num(ct$df_Satt)),
                       p = arr(num(ct$p_Satt)), ci.lb = arr(num(cf$CI_L)),
                       ci.ub = arr(num(cf$CI_U)),
                       vcov = lapply(seq_len(nrow(vc)), function(i) arr(num(vc[i, ])))))
  add_case(list(id = mc$id, dataset = "metadat::dat.konstantopoulos2011", call = call,
                extra_calls = list("confint(res, control = list(tol = 1e-12))",
                                   "fitstats(res)",
                                   'coef_test(res, vcov = "CR2", test = "Satterthwaite")',
                                   'conf_int(res, vcov = "CR2")', 'vcovCR(res, type = "CR2")'),
                input = kon_input, result = r))
}

top <- list(
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  clubSandwich_version = as.character(packageVersion("clubSandwich")),
  generated_by = "tests/reference/metafor_models_reference.R",
  data_note = paste("Inputs are metafor's published example datasets (metadat: dat.bcg,",
                    "dat.hackshaw1998, dat.konstantopoulos2011), written here so that the",
                    "Python tests need no R."),
  controls = list(rma = "control = list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)",
                  rma.mv = "control = list(optimizer = 'nlminb', rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)",
                  confint = "control = list(tol = 1e-12)"),
  cases = cases
)
writeLines(to_json(top), out_file, useBytes = TRUE)
cat(sprintf("wrote %d cases to %s\n", length(cases), out_file))
