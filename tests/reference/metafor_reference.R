# Reference values from R's metafor for the sysrev Python test suite.
#
# Regenerate (from the repository root):
#   apt-get update && apt-get install -y r-base-core r-cran-metafor
#   Rscript tests/reference/metafor_reference.R
#
# Writes tests/reference/metafor_reference.json next to this script.
#
# Numbers are written with the shortest decimal form that reads back as the
# identical IEEE double (tries 15, 16, then 17 significant digits), so every
# value is full precision.  NA / NaN / Inf are written as null.
#
# Every case's "call" string is the exact R expression that was evaluated
# (via eval(parse(text = call))); "extra_calls" lists the follow-up calls made
# on the fitted object `res` (predict(), confint()).

suppressPackageStartupMessages(library(metafor))

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(f) == 1) dirname(normalizePath(f)) else file.path("tests", "reference")
})
out_file <- file.path(here, "metafor_reference.json")

# Minimal JSON writer (full double precision; jsonlite rounds to 15 digits).
source(file.path(here, "json_writer.R"))

# ---------------------------------------------------------------------------
# Evaluation helpers
# ---------------------------------------------------------------------------

# Evaluate `expr_text` collecting warnings; errors are returned, not raised.
run <- function(expr_text, env = globalenv()) {
  warns <- character(0)
  val <- tryCatch(
    withCallingHandlers(eval(parse(text = expr_text), envir = env),
                        warning = function(w) {
                          warns <<- c(warns, conditionMessage(w))
                          invokeRestart("muffleWarning")
                        }),
    error = function(e) structure(list(msg = conditionMessage(e)), class = "run_error"))
  list(value = val, warnings = warns,
       error = if (inherits(val, "run_error")) val$msg else NULL)
}

num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

# JSON has no Inf/NaN: such scalars are written as null, and their names and
# R values are listed in result$nonfinite so tests can tell them from NA.
mark_nonfinite <- function(r) {
  nf <- list()
  for (nm in names(r)) {
    x <- r[[nm]]
    if (is.numeric(x) && length(x) == 1 && (is.nan(x) || is.infinite(x)))
      nf[[nm]] <- if (is.nan(x)) "NaN" else if (x > 0) "Inf" else "-Inf"
  }
  if (length(nf)) r$nonfinite <- nf
  r
}

escalc_part <- function(es) {
  list(yi = arr(as.numeric(es$yi)), vi = arr(as.numeric(es$vi)))
}

rma_uni_result <- function(res, pr, ci) {
  testname <- if (res$test == "z") "zval" else "tval"
  r <- list(
    method = res$method,
    test = res$test,
    estimate = num(res$b),
    se = num(res$se)
  )
  r[[testname]] <- num(res$zval)
  r <- c(r, list(
    pval = num(res$pval),
    ci.lb = num(res$ci.lb),
    ci.ub = num(res$ci.ub),
    pi.lb = num(pr$pi.lb),
    pi.ub = num(pr$pi.ub),
    pred.se = num(pr$se),
    tau2 = num(res$tau2),
    tau = sqrt(num(res$tau2)),
    se.tau2 = num(res$se.tau2),
    I2 = num(res$I2),
    H2 = num(res$H2),
    QE = num(res$QE),
    QEp = num(res$QEp),
    k = as.integer(res$k),
    p = as.integer(res$p),
    df = if (res$test == "z") NA_integer_ else as.numeric(res$ddf),
    s2w = if (is.null(res$s2w)) NA_real_ else num(res$s2w),
    weights_percent = arr(as.numeric(weights(res)))
  ))
  if (!is.null(ci) && is.null(ci$error)) {
    rnd <- ci$value$random
    r <- c(r, list(
      confint_type = "QP",
      tau2.ci.lb = num(rnd["tau^2", "ci.lb"]), tau2.ci.ub = num(rnd["tau^2", "ci.ub"]),
      tau.ci.lb = num(rnd["tau", "ci.lb"]), tau.ci.ub = num(rnd["tau", "ci.ub"]),
      I2.ci.lb = num(rnd["I^2(%)", "ci.lb"]), I2.ci.ub = num(rnd["I^2(%)", "ci.ub"]),
      H2.ci.lb = num(rnd["H^2", "ci.lb"]), H2.ci.ub = num(rnd["H^2", "ci.ub"]),
      confint_lb_sign = ci$value$lb.sign, confint_ub_sign = ci$value$ub.sign
    ))
  } else if (!is.null(ci)) {
    r$confint_error <- ci$error
  }
  mark_nonfinite(r)
}

cases <- list()
add_case <- function(case) {
  cases[[length(cases) + 1]] <<- case
  invisible(NULL)
}
failures <- character(0)

# Fit an rma.uni call given as text; yi/vi are taken from the fitted object.
# metafor's defaults stop its iterative estimators (Fisher scoring: threshold 1e-5; uniroot
# for PM/EB and the Q-profile CI: tol = .Machine$double.eps^0.25) well before full precision.
# The references are computed with tight controls so that they are exact to ~1e-10 and the
# Python tests can hold iterative results to 1e-6.
TIGHT <- "control=list(threshold=1e-12, tol=1e-12, maxiter=10000)"
rma_case <- function(id, dataset, call, input, env = globalenv(), confint = TRUE,
                     notes = NULL) {
  call <- sub("\\)$", paste0(", ", TIGHT, ")"), call)
  fit <- run(call, env)
  case <- list(id = id, dataset = dataset, call = call,
               extra_calls = arr(c("predict(res)",
                                   if (confint) "confint(res, control=list(tol=1e-12))")),
               input = input)
  if (!is.null(fit$error)) {
    failures <<- c(failures, paste0(id, ": ", fit$error))
    case$error <- fit$error
    case$warnings <- arr(fit$warnings)
    add_case(case)
    return(invisible(NULL))
  }
  res <- fit$value
  e <- new.env(); e$res <- res
  pr <- run("predict(res)", e)
  ci <- if (confint && res$method != "EE") run("confint(res, control=list(tol=1e-12))", e) else NULL
  if (!is.null(ci$error)) failures <<- c(failures, paste0(id, " confint: ", ci$error))
  case$escalc <- list(yi = arr(as.numeric(res$yi.f)), vi = arr(as.numeric(res$vi.f)))
  case$result <- rma_uni_result(res, pr$value, ci)
  w <- c(fit$warnings, pr$warnings, ci$warnings)
  if (length(w)) case$warnings <- arr(unique(w))
  if (!is.null(notes)) case$notes <- notes
  add_case(case)
}

# ---------------------------------------------------------------------------
# Input data
# ---------------------------------------------------------------------------

bcg <- dat.bcg
normand <- dat.normand1999

bcg_input <- list(study = arr(bcg$author), year = arr(as.integer(bcg$year)),
                  ai = arr(as.numeric(bcg$tpos)), bi = arr(as.numeric(bcg$tneg)),
                  ci = arr(as.numeric(bcg$cpos)), di = arr(as.numeric(bcg$cneg)),
                  columns = list(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg"))
normand_input <- list(study = arr(as.character(normand$source)),
                      m1i = arr(as.numeric(normand$m1i)), sd1i = arr(as.numeric(normand$sd1i)),
                      n1i = arr(as.numeric(normand$n1i)), m2i = arr(as.numeric(normand$m2i)),
                      sd2i = arr(as.numeric(normand$sd2i)), n2i = arr(as.numeric(normand$n2i)))

# Handmade 2x2 data with zero cells:
#   study A: zero events in the treatment arm only
#   study B: zero events in both arms (double-zero)
#   studies C-E: ordinary
zero <- data.frame(study = c("A_single_zero", "B_double_zero", "C", "D", "E"),
                   ai = c(0, 0, 10, 4, 7),
                   bi = c(20, 30, 90, 46, 63),
                   ci = c(5, 0, 15, 9, 6),
                   di = c(15, 30, 85, 41, 64))
zero_input <- list(study = arr(zero$study), ai = arr(zero$ai), bi = arr(zero$bi),
                   ci = arr(zero$ci), di = arr(zero$di))

# ---------------------------------------------------------------------------
# (a) escalc
# ---------------------------------------------------------------------------

escalc_case <- function(id, dataset, call, input, notes = NULL) {
  fit <- run(call)
  case <- list(id = id, dataset = dataset, call = call, input = input)
  if (!is.null(fit$error)) {
    failures <<- c(failures, paste0(id, ": ", fit$error))
    case$error <- fit$error
  } else {
    case$escalc <- escalc_part(fit$value)
  }
  if (length(fit$warnings)) case$warnings <- arr(fit$warnings)
  if (!is.null(notes)) case$notes <- notes
  add_case(case)
}

for (m in c("RR", "OR", "RD")) {
  escalc_case(paste0("escalc_bcg_", m), "metadat::dat.bcg",
              sprintf('escalc(measure="%s", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)', m),
              bcg_input)
}
escalc_case("escalc_normand_MD", "metadat::dat.normand1999",
            'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)',
            normand_input, notes = "vtype='LS' (default): vi = sd1i^2/n1i + sd2i^2/n2i")
escalc_case("escalc_normand_SMD", "metadat::dat.normand1999",
            'escalc(measure="SMD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999)',
            normand_input,
            notes = paste("Hedges' g with metafor's exact bias correction",
                          "c(m) = exp(lgamma(m/2) - log(sqrt(m/2)) - lgamma((m-1)/2)), m = n1i+n2i-2;",
                          "vtype='LS': vi = 1/n1i + 1/n2i + yi^2/(2*(n1i+n2i))"))

for (m in c("RR", "OR")) {
  escalc_case(paste0("escalc_zero_", m, "_default"), "handmade zero-cell 2x2",
              sprintf('escalc(measure="%s", ai=ai, bi=bi, ci=ci, di=di, data=zero, add=1/2, to="only0", drop00=FALSE)', m),
              zero_input, notes = "metafor defaults: 1/2 added to all four cells of any study with a zero cell, double-zero studies kept")
  escalc_case(paste0("escalc_zero_", m, "_drop00"), "handmade zero-cell 2x2",
              sprintf('escalc(measure="%s", ai=ai, bi=bi, ci=ci, di=di, data=zero, add=1/2, to="only0", drop00=TRUE)', m),
              zero_input, notes = "drop00=TRUE: the double-zero study gets yi=vi=NA (null)")
}
escalc_case("escalc_zero_RD_default", "handmade zero-cell 2x2",
            'escalc(measure="RD", ai=ai, bi=bi, ci=ci, di=di, data=zero)', zero_input,
            notes = "RD with defaults (add=1/2, to='only0' applies to RD as well in metafor)")

# ---------------------------------------------------------------------------
# (b, d) rma.uni, all tau2 estimators, test = z / knha / adhoc
# ---------------------------------------------------------------------------

methods <- c("EE", "DL", "REML", "PM", "SJ", "HE", "ML", "EB")
# test="adhoc" (Knapp-Hartung whose adjusted SE never falls below the Wald SE,
# Jackson et al. 2017, section 4.3) exists in recent metafor versions only.
adhoc_available <- any(grepl('"adhoc"', deparse(metafor::rma.uni), fixed = TRUE))
tests <- c("z", "knha", if (adhoc_available) "adhoc")

for (m in methods) for (t in tests) {
  rma_case(sprintf("rma_bcg_RR_%s_%s", m, t), "metadat::dat.bcg",
           sprintf('rma(yi, vi, method="%s", test="%s", data=escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg))', m, t),
           bcg_input)
}
for (meas in c("MD", "SMD")) for (m in methods) for (t in tests) {
  rma_case(sprintf("rma_normand_%s_%s_%s", meas, m, t), "metadat::dat.normand1999",
           sprintf('rma(yi, vi, method="%s", test="%s", data=escalc(measure="%s", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=dat.normand1999))', m, t, meas),
           normand_input)
}

# ---------------------------------------------------------------------------
# (c) Mantel-Haenszel and Peto
# ---------------------------------------------------------------------------

fixed_case <- function(id, dataset, call, input, exp_scale, notes = NULL) {
  fit <- run(call)
  case <- list(id = id, dataset = dataset, call = call,
               extra_calls = arr(if (exp_scale) "predict(res, transf=exp)" else character(0)),
               input = input)
  if (!is.null(fit$error)) {
    failures <<- c(failures, paste0(id, ": ", fit$error))
    case$error <- fit$error
    add_case(case)
    return(invisible(NULL))
  }
  res <- fit$value
  case$escalc <- list(yi = arr(as.numeric(res$yi.f)), vi = arr(as.numeric(res$vi.f)))
  r <- list(method = res$method, measure = res$measure,
            estimate = num(res$b), se = num(res$se), zval = num(res$zval),
            pval = num(res$pval), ci.lb = num(res$ci.lb), ci.ub = num(res$ci.ub),
            QE = num(res$QE), QEp = num(res$QEp), I2 = num(res$I2), H2 = num(res$H2),
            k = as.integer(res$k), k.yi = as.integer(res$k.yi))
  # Only present for some measures (k.pos: studies with events; MH/CO:
  # Cochran-Mantel-Haenszel test; TA/BD: Tarone / Breslow-Day, OR only).
  for (nm in c("k.pos", "MH", "MHp", "TA", "TAp", "BD", "BDp", "CO", "COp")) {
    if (!is.null(res[[nm]]) && length(res[[nm]]) == 1 && !is.na(res[[nm]])) r[[nm]] <- num(res[[nm]])
  }
  if (exp_scale) {
    e <- new.env(); e$res <- res
    pr <- run("predict(res, transf=exp)", e)$value
    r$exp_estimate <- num(pr$pred)
    r$exp_ci.lb <- num(pr$ci.lb)
    r$exp_ci.ub <- num(pr$ci.ub)
  }
  case$result <- mark_nonfinite(r)
  if (length(fit$warnings)) case$warnings <- arr(fit$warnings)
  if (!is.null(notes)) case$notes <- notes
  add_case(case)
}

mh_note <- paste("rma.mh defaults: add=c(1/2,0), to=c('only0','none'), drop00=c(TRUE,FALSE);",
                 "the first element applies to the per-study yi/vi (used for QE/I2),",
                 "the second to the MH estimate itself; estimate/ci are on the log scale for RR/OR")
for (m in c("RR", "OR", "RD")) {
  fixed_case(paste0("rma.mh_bcg_", m), "metadat::dat.bcg",
             sprintf('rma.mh(measure="%s", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)', m),
             bcg_input, exp_scale = m != "RD", notes = mh_note)
}
fixed_case("rma.peto_bcg", "metadat::dat.bcg",
           'rma.peto(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)', bcg_input,
           exp_scale = TRUE, notes = "Peto log odds ratio; yi/vi are the per-study Peto log ORs")

# ---------------------------------------------------------------------------
# (e) edge cases
# ---------------------------------------------------------------------------

for (m in c("DL", "REML")) {
  rma_case(paste0("edge_k1_", m), "handmade k=1",
           sprintf('rma(yi=0.5, vi=0.04, method="%s")', m),
           list(yi = arr(0.5), vi = arr(0.04)),
           notes = "k=1: metafor fits but cannot estimate tau2 (set to 0); confint() stops")
}

ident <- data.frame(yi = c(0.3, 0.3, 0.3, 0.3), vi = c(0.01, 0.02, 0.05, 0.1))
for (m in c("DL", "REML")) for (t in tests) {
  rma_case(sprintf("edge_identical_%s_%s", m, t), "handmade identical effects",
           sprintf('rma(yi, vi, data=ident, method="%s", test="%s")', m, t),
           list(yi = arr(ident$yi), vi = arr(ident$vi)),
           notes = "all yi equal: QE = 0, tau2 = 0")
}

qlow <- data.frame(yi = c(0.10, 0.15, 0.12, 0.18, 0.08), vi = c(0.04, 0.05, 0.03, 0.06, 0.05))
for (m in c("EE", "DL", "REML", "PM")) for (t in tests) {
  rma_case(sprintf("edge_QltDf_%s_%s", m, t), "handmade Q < df",
           sprintf('rma(yi, vi, data=qlow, method="%s", test="%s")', m, t),
           list(yi = arr(qlow$yi), vi = arr(qlow$vi)),
           notes = "QE < k-1: DL tau2 truncated at 0; knha s2w < 1 narrows the CI, adhoc does not")
}

for (d00 in c(TRUE, FALSE)) for (meas in c("RR", "OR")) for (m in c("DL", "REML")) {
  rma_case(sprintf("edge_zero_%s_%s_drop00%s", meas, m, if (d00) "TRUE" else "FALSE"),
           "handmade zero-cell 2x2",
           sprintf('rma(measure="%s", ai=ai, bi=bi, ci=ci, di=di, data=zero, method="%s", drop00=%s)',
                   meas, m, if (d00) "TRUE" else "FALSE"),
           zero_input,
           notes = "escalc yi/vi are those passed to the model (with drop00=TRUE the double-zero study is NA and omitted, so k=4)")
}
for (meas in c("RR", "OR")) {
  fixed_case(paste0("edge_zero_rma.mh_", meas), "handmade zero-cell 2x2",
             sprintf('rma.mh(measure="%s", ai=ai, bi=bi, ci=ci, di=di, data=zero)', meas),
             zero_input, exp_scale = TRUE, notes = mh_note)
}

# ---------------------------------------------------------------------------
# (f) bundled review: DESIRABLE mTSS (continuous) and serious adverse events
# ---------------------------------------------------------------------------

# Cochrane Handbook 6.5.2.10: combine two groups into one.
combine_groups <- function(n1, m1, sd1, n2, m2, sd2) {
  n <- n1 + n2
  m <- (n1 * m1 + n2 * m2) / n
  sd <- sqrt(((n1 - 1) * sd1^2 + (n2 - 1) * sd2^2 +
                n1 * n2 / (n1 + n2) * (m1^2 + m2^2 - 2 * m1 * m2)) / (n1 + n2 - 1))
  list(n = n, mean = m, sd = sd)
}

des <- list(placebo = list(n = 218, mean = 1.49, sd = 3.76),
            q6m = list(n = 217, mean = 0.99, sd = 3.77),
            q3m = list(n = 219, mean = 0.72, sd = 2.32))
comb <- combine_groups(des$q6m$n, des$q6m$mean, des$q6m$sd, des$q3m$n, des$q3m$mean, des$q3m$sd)
desirable <- data.frame(study = "DESIRABLE (Takeuchi 2019)",
                        m1i = comb$mean, sd1i = comb$sd, n1i = comb$n,
                        m2i = des$placebo$mean, sd2i = des$placebo$sd, n2i = des$placebo$n)
des_input <- list(
  arms = list(placebo = des$placebo, denosumab_Q6M = des$q6m, denosumab_Q3M = des$q3m),
  combined_denosumab = list(n = comb$n, mean = comb$mean, sd = comb$sd,
                            formula = "Cochrane Handbook 6.5.2.10: N=N1+N2, M=(N1M1+N2M2)/N, SD=sqrt(((N1-1)SD1^2+(N2-1)SD2^2+N1N2/(N1+N2)(M1^2+M2^2-2M1M2))/(N1+N2-1))"),
  m1i = arr(desirable$m1i), sd1i = arr(desirable$sd1i), n1i = arr(desirable$n1i),
  m2i = arr(desirable$m2i), sd2i = arr(desirable$sd2i), n2i = arr(desirable$n2i),
  outcome = "change in mTSS at 12 months, mean (SD); group 1 = denosumab (Q6M+Q3M combined), group 2 = placebo")
des_ds <- "DESIRABLE (Takeuchi 2019, Ann Rheum Dis 78:899)"

escalc_case("review_desirable_mtss_escalc_MD", des_ds,
            'escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=desirable)',
            des_input, notes = "MD = denosumab minus placebo")
for (m in c("EE", "DL")) {
  rma_case(paste0("review_desirable_mtss_MD_", m), des_ds,
           sprintf('rma(yi, vi, method="%s", data=escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=desirable))', m),
           des_input, notes = "single study (k=1): pooled estimate equals the study MD")
}

sae <- data.frame(study = c("DRIVE", "DESIRABLE", "Iwamoto 2022"),
                  ai = c(4 + 6 + 8, 19 + 19, 1),
                  n1i = c(86 + 85 + 87, 221 + 222, 23),
                  ci = c(9, 13, 2),
                  n2i = c(88, 224, 23))
sae_input <- list(
  study = arr(sae$study), ai = arr(sae$ai), n1i = arr(sae$n1i), ci = arr(sae$ci), n2i = arr(sae$n2i),
  arms = list(DRIVE = list(placebo = "9/88", denosumab = arr(c("4/86", "6/85", "8/87")), combined = "18/258"),
              DESIRABLE = list(placebo = "13/224", denosumab = arr(c("19/221", "19/222")), combined = "38/443"),
              Iwamoto_2022 = list(control = "2/23", denosumab = "1/23")),
  note = "treatment = denosumab (ai events / n1i total), control = placebo (ci / n2i); multi-arm denosumab groups combined by summing events and totals")
sae_ds <- "serious adverse events: DRIVE, DESIRABLE, Iwamoto 2022"

for (meas in c("RR", "OR")) {
  escalc_case(paste0("review_sae_escalc_", meas), sae_ds,
              sprintf('escalc(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae)', meas), sae_input)
  for (m in c("EE", "DL")) {
    rma_case(sprintf("review_sae_%s_%s", meas, m), sae_ds,
             sprintf('rma(yi, vi, method="%s", data=escalc(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae))', m, meas),
             sae_input)
  }
  fixed_case(paste0("review_sae_rma.mh_", meas), sae_ds,
             sprintf('rma.mh(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae)', meas),
             sae_input, exp_scale = TRUE, notes = mh_note)
}

# ---------------------------------------------------------------------------
# (g) meta-regression and subgroups (issue 6)
# ---------------------------------------------------------------------------

bcg_es <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
bcg_es_input <- list(study = arr(bcg$author), year = arr(as.integer(bcg$year)),
                     ablat = arr(as.numeric(bcg$ablat)), alloc = arr(as.character(bcg$alloc)),
                     yi = arr(as.numeric(bcg_es$yi)), vi = arr(as.numeric(bcg_es$vi)))

mods_result <- function(res) {
  r <- list(method = res$method, test = res$test,
            beta = arr(as.numeric(res$b)), se = arr(as.numeric(res$se)),
            zval = arr(as.numeric(res$zval)), pval = arr(as.numeric(res$pval)),
            ci.lb = arr(as.numeric(res$ci.lb)), ci.ub = arr(as.numeric(res$ci.ub)),
            tau2 = num(res$tau2), I2 = num(res$I2), H2 = num(res$H2),
            QE = num(res$QE), QEp = num(res$QEp), QM = num(res$QM), QMp = num(res$QMp),
            QMdf = arr(as.numeric(res$QMdf)), k = as.integer(res$k), p = as.integer(res$p),
            s2w = if (is.null(res$s2w)) NA_real_ else num(res$s2w))
  mark_nonfinite(r)
}

mods_case <- function(id, dataset, call, input, notes = NULL) {
  call <- sub("\\)$", paste0(", ", TIGHT, ")"), call)
  fit <- run(call)
  case <- list(id = id, dataset = dataset, call = call, input = input)
  if (!is.null(fit$error)) {
    failures <<- c(failures, paste0(id, ": ", fit$error))
    case$error <- fit$error
  } else {
    case$result <- mods_result(fit$value)
  }
  if (length(fit$warnings)) case$warnings <- arr(unique(fit$warnings))
  if (!is.null(notes)) case$notes <- notes
  add_case(case)
}

mods_methods <- c("EE", "DL", "HE", "SJ", "PM", "EB", "ML", "REML")
for (m in mods_methods) for (t in c("z", "knha")) {
  mods_case(sprintf("mods_bcg_ablat_%s_%s", m, t), "metadat::dat.bcg",
            sprintf('rma(yi, vi, mods=~ablat, method="%s", test="%s", data=bcg_es)', m, t),
            bcg_es_input, notes = "meta-regression of log RR on absolute latitude")
}
for (m in c("EE", "DL", "REML", "PM")) for (t in c("z", "knha")) {
  mods_case(sprintf("mods_bcg_alloc_%s_%s", m, t), "metadat::dat.bcg",
            sprintf('rma(yi, vi, mods=~factor(alloc), method="%s", test="%s", data=bcg_es)', m, t),
            bcg_es_input,
            notes = "subgroups by allocation with a common tau2: QM is the test for subgroup differences (levels alternate, random, systematic; alternate is the reference)")
  mods_case(sprintf("mods_bcg_alloc_means_%s_%s", m, t), "metadat::dat.bcg",
            sprintf('rma(yi, vi, mods=~factor(alloc)-1, method="%s", test="%s", data=bcg_es)', m, t),
            bcg_es_input, notes = "the same model without intercept: beta are the subgroup means")
}

# Subgroups with a separate tau2 each (RevMan): fit each subgroup, then test the estimates.
for (m in c("EE", "DL", "REML")) for (t in c("z", "knha")) {
  id <- sprintf("subgroup_separate_bcg_alloc_%s_%s", m, t)
  fit_call <- sprintf('rma(yi, vi, method="%s", test="%s", data=bcg_es, subset=(alloc == g), %s)', m, t, TIGHT)
  fits <- lapply(sort(unique(bcg_es$alloc)), function(g) {
    e <- new.env(); e$g <- g; e$bcg_es <- bcg_es
    run(fit_call, e)$value
  })
  names(fits) <- sort(unique(bcg_es$alloc))
  est <- sapply(fits, function(f) as.numeric(f$b))
  ses <- sapply(fits, function(f) as.numeric(f$se))
  between <- rma(est, sei = ses, method = "EE")
  groups <- lapply(fits, function(f) list(estimate = num(f$b), se = num(f$se), ci.lb = num(f$ci.lb),
                                          ci.ub = num(f$ci.ub), tau2 = num(f$tau2),
                                          k = as.integer(f$k), QE = num(f$QE), I2 = num(f$I2)))
  add_case(list(id = id, dataset = "metadat::dat.bcg",
                call = paste0("for g in unique(alloc): ", fit_call,
                              '; then rma(estimates, sei=ses, method="EE")$QE'),
                input = bcg_es_input,
                result = list(method = m, test = t, groups = groups, Q = num(between$QE),
                              Qp = num(between$QEp), df = as.integer(between$k - 1)),
                notes = "test for subgroup differences with a tau2 per subgroup (RevMan / Cochrane Handbook 10.11.3.1)"))
}

# ---------------------------------------------------------------------------
# (h) leave-one-out, cumulative, Egger's regression test (issue 6)
# ---------------------------------------------------------------------------

# JSON name -> metafor's column (the first present): leave1out()/cumul() call the test
# statistic tval under knha, and cumul() calls the p-value pvals.
list_rma_part <- function(x, names_map) {
  out <- list()
  for (nm in names(names_map)) {
    src <- intersect(names_map[[nm]], names(x))
    out[[nm]] <- arr(if (length(src)) as.numeric(x[[src[1]]]) else numeric(0))
  }
  out$slab <- arr(as.character(x$slab))
  out
}
l1_names <- list(estimate = "estimate", se = "se", zval = c("zval", "tval"),
                 pval = c("pval", "pvals"), ci.lb = "ci.lb", ci.ub = "ci.ub", Q = "Q",
                 Qp = "Qp", tau2 = "tau2", I2 = "I2", H2 = "H2")
cu_names <- l1_names

bcg_slab <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg,
                   slab=paste(author, year))
for (m in c("EE", "DL", "REML", "PM")) for (t in c("z", "knha")) {
  base <- sprintf('rma(yi, vi, method="%s", test="%s", data=bcg_slab, %s)', m, t, TIGHT)
  e <- new.env(); e$res <- run(base)$value
  l1 <- run("leave1out(res)", e)
  add_case(list(id = sprintf("leave1out_bcg_%s_%s", m, t), dataset = "metadat::dat.bcg",
                call = base, extra_calls = arr("leave1out(res)"), input = bcg_es_input,
                result = list_rma_part(l1$value, l1_names),
                notes = "row i: the model without study i (input order)"))
  cu <- run("cumul(res, order=bcg_slab$year)", e)
  add_case(list(id = sprintf("cumul_bcg_%s_%s", m, t), dataset = "metadat::dat.bcg",
                call = base, extra_calls = arr("cumul(res, order=bcg_slab$year)"),
                input = bcg_es_input, result = list_rma_part(cu$value, cu_names),
                notes = "studies added by year; ties keep input order (stable order()); row j: the first j studies"))
}

for (m in c("EE", "DL", "REML", "PM")) for (t in c("z", "knha")) for (model in c("rma", "lm")) {
  if (model == "lm" && (t != "z" || m != "REML")) next
  base <- sprintf('rma(yi, vi, method="%s", test="%s", data=bcg_es, %s)', m, t, TIGHT)
  e <- new.env(); e$res <- run(base)$value
  extra <- sprintf('regtest(res, model="%s")', model)
  rt <- run(extra, e)
  r <- rt$value
  add_case(list(id = sprintf("regtest_bcg_%s_%s_%s", model, m, t), dataset = "metadat::dat.bcg",
                call = base, extra_calls = arr(extra), input = bcg_es_input,
                result = mark_nonfinite(list(model = model, predictor = r$predictor,
                  zval = num(r$zval), pval = num(r$pval), dfs = num(r$dfs),
                  slope = num(coef(r$fit)[2]), slope_se = num(sqrt(diag(vcov(r$fit)))[2]),
                  est = num(r$est), ci.lb = num(r$ci.lb), ci.ub = num(r$ci.ub))),
                notes = "Egger's test: model='lm' is the classical weighted regression (t, k-2 df); model='rma' uses sei as moderator in the fitted model"))
}

# ---------------------------------------------------------------------------
# (i) all-zero events (issue 6 edge case)
# ---------------------------------------------------------------------------

allzero <- data.frame(study = c("A", "B", "C"), ai = c(0, 0, 0), n1i = c(10, 20, 15),
                      ci = c(0, 0, 0), n2i = c(10, 20, 15))
allzero_input <- list(study = arr(allzero$study), ai = arr(allzero$ai), n1i = arr(allzero$n1i),
                      ci = arr(allzero$ci), n2i = arr(allzero$n2i))
for (meas in c("RR", "OR", "RD")) {
  fixed_case(paste0("edge_allzero_rma.mh_", meas), "handmade all-zero events",
             sprintf('rma.mh(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=allzero)', meas),
             allzero_input, exp_scale = meas != "RD",
             notes = "no events anywhere: MH RR/OR undefined (NA); MH RD is 0")
}
fixed_case("edge_allzero_rma.peto", "handmade all-zero events",
           'rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=allzero)', allzero_input,
           exp_scale = TRUE, notes = "Peto cannot be used: metafor stops")
for (meas in c("RR", "OR", "RD")) {
  rma_case(paste0("edge_allzero_", meas, "_DL"), "handmade all-zero events",
           sprintf('rma(measure="%s", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=allzero, method="DL", drop00=FALSE)', meas),
           allzero_input, notes = "1/2 added to every cell; all yi equal, so tau2 = 0 and Q = 0")
}

# ---------------------------------------------------------------------------
# (j) bundled review: every outcome with data (issue 6)
# ---------------------------------------------------------------------------

# Erosion: DESIRABLE reports 95% CIs of the arm means; SD = sqrt(n) (ub - lb) / (2 qnorm(0.975))
# (Cochrane Handbook 6.5.2.3, n >= 60), then Q6M + Q3M combined (6.5.2.10).
ci_sd <- function(n, lb, ub) sqrt(n) * (ub - lb) / (2 * qnorm(0.975))
ero <- list(placebo = list(n = 218, mean = 0.98, sd = ci_sd(218, 0.65, 1.31)),
            q6m = list(n = 217, mean = 0.51, sd = ci_sd(217, 0.22, 0.80)),
            q3m = list(n = 219, mean = 0.22, sd = ci_sd(219, 0.09, 0.34)))
ero_comb <- combine_groups(ero$q6m$n, ero$q6m$mean, ero$q6m$sd, ero$q3m$n, ero$q3m$mean, ero$q3m$sd)
erosion <- data.frame(study = "DESIRABLE (Takeuchi 2019)", m1i = ero_comb$mean, sd1i = ero_comb$sd,
                      n1i = ero_comb$n, m2i = ero$placebo$mean, sd2i = ero$placebo$sd,
                      n2i = ero$placebo$n)
ero_input <- list(arms = ero, m1i = arr(erosion$m1i), sd1i = arr(erosion$sd1i), n1i = arr(erosion$n1i),
                  m2i = arr(erosion$m2i), sd2i = arr(erosion$sd2i), n2i = arr(erosion$n2i),
                  outcome = "change in modified Sharp erosion score at 12 months; SDs from 95% CIs (normal quantile), denosumab Q6M+Q3M combined")
for (m in c("EE", "DL", "REML")) {
  rma_case(paste0("review_erosion_MD_", m), des_ds,
           sprintf('rma(yi, vi, method="%s", data=escalc(measure="MD", m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i, data=erosion))', m),
           ero_input, notes = "single study (k=1)")
}

hypo <- data.frame(study = "Iwamoto 2022", ai = 4, n1i = 23, ci = 1, n2i = 23)
hypo_input <- list(study = arr(hypo$study), ai = arr(hypo$ai), n1i = arr(hypo$n1i),
                   ci = arr(hypo$ci), n2i = arr(hypo$n2i))
for (m in c("EE", "DL", "REML")) {
  rma_case(paste0("review_hypocalcaemia_RR_", m), "hypocalcaemia: Iwamoto 2022",
           sprintf('rma(yi, vi, method="%s", data=escalc(measure="RR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=hypo))', m),
           hypo_input, notes = "single study (k=1)")
}

for (m in c("REML", "PM")) for (t in c("z", "knha")) {
  rma_case(sprintf("review_sae_RR_%s_%s", m, t), sae_ds,
           sprintf('rma(yi, vi, method="%s", test="%s", data=escalc(measure="RR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae))', m, t),
           sae_input, notes = "cochrane2025 preset = REML + knha")
}
fixed_case("review_sae_rma.mh_RD", sae_ds,
           'rma.mh(measure="RD", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae)', sae_input,
           exp_scale = FALSE, notes = mh_note)
fixed_case("review_sae_rma.peto", sae_ds, 'rma.peto(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae)',
           sae_input, exp_scale = TRUE)
sae_slab <- escalc(measure="RR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=sae, slab=study)
sae_slab$year <- c(2016, 2019, 2022)
for (m in c("DL", "REML")) {
  base <- sprintf('rma(yi, vi, method="%s", data=sae_slab, %s)', m, TIGHT)
  e <- new.env(); e$res <- run(base)$value
  add_case(list(id = sprintf("review_sae_leave1out_%s", m), dataset = sae_ds, call = base,
                extra_calls = arr("leave1out(res)"), input = sae_input,
                result = list_rma_part(run("leave1out(res)", e)$value, l1_names)))
  add_case(list(id = sprintf("review_sae_cumul_%s", m), dataset = sae_ds, call = base,
                extra_calls = arr("cumul(res, order=sae_slab$year)"), input = sae_input,
                result = list_rma_part(run("cumul(res, order=sae_slab$year)", e)$value, cu_names),
                notes = "years: DRIVE 2016, DESIRABLE 2019, Iwamoto 2022"))
}

# ---------------------------------------------------------------------------
# (k) median / IQR / range -> mean and SD (issue 6)
# ---------------------------------------------------------------------------
# metafor 3.8.1 has no conv.fivenum(), so these are an independent R transcription of the
# published equations (not sysrev's code): mean by Luo et al. 2018 (eqs 7, 11, 15),
# SD by Wan et al. 2014 (eqs 7, 16; range and IQR with the normal-order-statistic
# approximation for every n) and by Shi et al. 2020 (eq 11).
xi_n <- function(n) 2 * qnorm((n - 0.375) / (n + 0.25))
eta_n <- function(n) 2 * qnorm((0.75 * n - 0.125) / (n + 0.25))
luo_mean <- function(n, a = NA, q1 = NA, m, q3 = NA, b = NA) {
  if (!is.na(a) && !is.na(q1)) {
    w1 <- 2.2 / (2.2 + n^0.75); w2 <- 0.7 - 0.72 / n^0.55
    return(w1 * (a + b) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * m)
  }
  if (!is.na(a)) { w <- 4 / (4 + n^0.75); return(w * (a + b) / 2 + (1 - w) * m) }
  w <- 0.7 + 0.39 / n
  w * (q1 + q3) / 2 + (1 - w) * m
}
wan_sd <- function(n, a = NA, q1 = NA, q3 = NA, b = NA) {
  if (!is.na(a) && !is.na(q1)) return((b - a) / (2 * xi_n(n)) + (q3 - q1) / (2 * eta_n(n)))
  if (!is.na(a)) return((b - a) / xi_n(n))
  (q3 - q1) / eta_n(n)
}
shi_sd <- function(n, a, q1, q3, b) {
  (b - a) / ((2 + 0.14 * n^0.6) * qnorm((n - 0.375) / (n + 0.25))) +
    (q3 - q1) / ((2 + 2 / (0.07 * n^0.6)) * qnorm((0.75 * n - 0.125) / (n + 0.25)))
}
fivenum_cases <- list(
  list(id = "S1_n15", n = 15, min = 1, median = 4, max = 8),
  list(id = "S1_n100", n = 100, min = 2, median = 4, max = 9),
  list(id = "S2_n18", n = 18, q1 = 2.5, median = 4.8, q3 = 7.2),
  list(id = "S2_n250", n = 250, q1 = 3, median = 5, q3 = 8),
  list(id = "S3_n20", n = 20, min = 1, q1 = 3, median = 4.8, q3 = 6, max = 9),
  list(id = "S3_n400", n = 400, min = -3.5, q1 = 0.2, median = 1.1, q3 = 2.4, max = 7.9))
for (fc in fivenum_cases) {
  a <- if (is.null(fc$min)) NA else fc$min; b <- if (is.null(fc$max)) NA else fc$max
  q1 <- if (is.null(fc$q1)) NA else fc$q1; q3 <- if (is.null(fc$q3)) NA else fc$q3
  r <- list(mean_luo2018 = luo_mean(fc$n, a, q1, fc$median, q3, b),
            sd_wan2014 = wan_sd(fc$n, a, q1, q3, b))
  if (!is.na(a) && !is.na(q1)) r$sd_shi2020 <- shi_sd(fc$n, a, q1, q3, b)
  add_case(list(id = paste0("fivenum_", fc$id), dataset = "handmade five-number summaries",
                call = "luo_mean(), wan_sd(), shi_sd() as defined in this script",
                input = fc, result = r,
                notes = "independent transcription of the published equations (metafor 3.8.1 lacks conv.fivenum)"))
}

# ---------------------------------------------------------------------------
# Write
# ---------------------------------------------------------------------------

top <- list(
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  generated_by = "tests/reference/metafor_reference.R",
  adhoc_test_available = adhoc_available,
  conventions = list(
    numbers = "shortest decimal that round-trips to the same IEEE double (<=17 significant digits); NA/NaN/Inf -> null (result.nonfinite names any Inf/-Inf/NaN scalar)",
    rma_result = "estimate/se/ci on the model scale (log for RR/OR); zval for test='z', tval and df for test='knha'/'adhoc'; pi.lb/pi.ub/pred.se from predict(res); *.ci.lb/*.ci.ub from confint(res) (Q-profile), absent for EE; I2 in percent; weights_percent = weights(res)",
    failures = "a case whose call errored has an 'error' field instead of 'result'; a failed confint() gives result.confint_error"
  ),
  cases = cases
)

writeLines(to_json(top), out_file, useBytes = TRUE)
cat(sprintf("wrote %d cases to %s\n", length(cases), out_file))
if (length(failures)) {
  cat("failures:\n")
  cat(paste0("  ", failures), sep = "\n")
}
