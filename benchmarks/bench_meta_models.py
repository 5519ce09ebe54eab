"""Speed and agreement of sysrev's multilevel model, CR2 test and trim-and-fill against R's
metafor and clubSandwich, in the same run.

Three problems on simulated data (fixed seeds):

- ``rma_mv``: ``rma.mv(yi, vi, random = ~ 1 | study/es, method = "REML")`` with 2,000 effect
  sizes in 400 studies (5 per study) and one continuous moderator; metafor with nlminb's
  ``rel.tol = 1e-10`` (the tightest it converges with) and ``sparse = TRUE`` (its fast path
  for block-diagonal models; ``--mv-storage dense`` for its default), sysrev to the score's
  root.
- ``cr2``: clubSandwich's ``coef_test(res, vcov = "CR2", test = "Satterthwaite")`` on that
  fit (the fit is not timed); sysrev's ``coef_test_cr2(fit)``.
- ``trimfill``: ``trimfill(rma(yi, vi, method = "REML"))`` (L0) at k = 1,000 with studies
  missing on one side; metafor with ``threshold = 1e-12, tol = 1e-12`` for every fit.

R times are ``system.time()`` inside the Rscript processes (one for rma.mv and CR2, one for
trimfill; start-up not counted; a process that reaches ``--r-timeout`` leaves its problems
as "> limit"); sysrev
times are the median of repeated calls. Agreement: coefficients, SEs, variance components,
CR2 SEs and df, k0 and the filled estimate within 1e-6 (relative, or absolute below 1).

Usage (from the repository root)::

    python benchmarks/bench_meta_models.py            # all three, R where installed
    python benchmarks/bench_meta_models.py --no-r     # sysrev only
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sysrev.meta import coef_test_cr2, rma_mv, trimfill  # noqa: E402

TOL = 1e-6

R_MV = r"""
suppressPackageStartupMessages({library(metafor); library(clubSandwich)})
args <- commandArgs(trailingOnly = TRUE)
mv <- read.csv(args[1])
ctrl_mv <- list(optimizer = "nlminb", rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)
t_mv <- system.time(res <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = mv,
                                  method = "REML", sparse = args[2] == "sparse",
                                  control = ctrl_mv))[["elapsed"]]
f <- function(x) paste(sprintf("%.17g", as.numeric(x)), collapse = ", ")
cat(sprintf('{"mv_seconds": %.6f, "beta": [%s], "se": [%s], "sigma2": [%s]}\n',
            t_mv, f(res$beta), f(res$se), f(res$sigma2)))
t_cr2 <- system.time(ct <- coef_test(res, vcov = "CR2", test = "Satterthwaite"))[["elapsed"]]
cat(sprintf('{"cr2_seconds": %.6f, "cr2_se": [%s], "cr2_df": [%s]}\n', t_cr2, f(ct$SE),
            f(ct$df_Satt)))
"""

R_TF = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
tf <- read.csv(args[1])
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)
fit <- rma(yi, vi, data = tf, method = "REML", control = ctrl)
t_tf <- system.time(out <- trimfill(fit, control = ctrl))[["elapsed"]]
cat(sprintf('{"tf_seconds": %.6f, "k0": %d, "tf_estimate": %.17g, "tf_se": %.17g}\n',
            t_tf, out$k0, as.numeric(out$beta), out$se))
"""


def run_r(script: Path, args: list[str], timeout: float) -> dict:
    """Every JSON line the script printed before it ended or ran out of time."""
    try:
        out = subprocess.run(["Rscript", str(script), *args], capture_output=True, text=True,
                             timeout=timeout)
        text = out.stdout
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
    except subprocess.TimeoutExpired as expired:
        text = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (
            expired.stdout or "")
    found = {}
    for line in text.splitlines():
        if line.startswith("{"):
            found.update(json.loads(line))
    return found


def simulate_multilevel(seed: int = 20251207, studies: int = 400, per_study: int = 5):
    rng = np.random.default_rng(seed)
    study = np.repeat(np.arange(1, studies + 1), per_study)
    es = np.tile(np.arange(1, per_study + 1), studies)
    k = len(study)
    x = rng.normal(0, 1, k)
    vi = rng.uniform(0.01, 0.1, k)
    yi = (0.3 + 0.05 * x + rng.normal(0, np.sqrt(0.05), studies)[study - 1]
          + rng.normal(0, np.sqrt(0.02), k) + rng.normal(0, np.sqrt(vi)))
    return {"study": study, "es": es, "x": x, "yi": yi, "vi": vi}


def simulate_trimfill(seed: int = 20251208, k: int = 1000):
    """k published studies of 1.6 k: small studies with low effects go unpublished."""
    rng = np.random.default_rng(seed)
    n = int(k * 1.6)
    vi = rng.uniform(0.005, 0.25, n)
    yi = rng.normal(rng.normal(0.2, np.sqrt(0.02), n), np.sqrt(vi))
    z = yi / np.sqrt(vi)
    published = (z > 1.0) | (rng.uniform(size=n) < 0.35)
    keep = np.flatnonzero(published)[:k]
    return yi[keep], vi[keep]


def median_time(func, budget: float = 2.0, minimum: int = 3):
    times, out = [], None
    start = time.perf_counter()
    while len(times) < minimum or (time.perf_counter() - start < budget and len(times) < 200):
        t0 = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def agree(a, b) -> bool:
    a, b = np.ravel(np.asarray(a, float)), np.ravel(np.asarray(b, float))
    return bool(np.all(np.abs(a - b) <= TOL * np.maximum(1.0, np.abs(b))))


def max_diff(a, b) -> float:
    return float(np.max(np.abs(np.ravel(np.asarray(a, float)) - np.ravel(np.asarray(b, float)))))


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(metafor); library(clubSandwich)"],
                           capture_output=True)
    return probe.returncode == 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-r", action="store_true", help="skip R")
    parser.add_argument("--r-timeout", type=float, default=900,
                        help="seconds allowed per R process (rma.mv + CR2; trimfill)")
    parser.add_argument("--mv-storage", choices=["sparse", "dense"], default="sparse",
                        help="metafor rma.mv with sparse = TRUE (its fast path for block-"
                             "diagonal models; default) or its dense default")
    args = parser.parse_args(argv)
    use_r = not args.no_r and r_available()
    mv = simulate_multilevel()
    tf_y, tf_v = simulate_trimfill()

    t_mv, fit = median_time(lambda: rma_mv(mv["yi"], mv["vi"], mv["study"], mv["es"],
                                           mods=mv["x"], method="REML", profile_ci=False))
    t_cr2, rob = median_time(lambda: coef_test_cr2(fit))
    t_tf, tf = median_time(lambda: trimfill(tf_y, tf_v, method="REML"))
    ours = {"mv": t_mv, "cr2": t_cr2, "tf": t_tf}
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    r = None
    if use_r:
        version = subprocess.run(
            ["Rscript", "-e", 'cat(R.version.string, "| metafor",'
             ' as.character(packageVersion("metafor")), "| clubSandwich",'
             ' as.character(packageVersion("clubSandwich")))'],
            capture_output=True, text=True).stdout.strip()
        print(version)
        with tempfile.TemporaryDirectory() as tmp:
            mv_csv, tf_csv = Path(tmp) / "mv.csv", Path(tmp) / "tf.csv"
            np.savetxt(mv_csv, np.column_stack([mv[c] for c in ("study", "es", "x", "yi",
                                                               "vi")]),
                       delimiter=",", header="study,es,x,yi,vi", comments="", fmt="%.17g")
            np.savetxt(tf_csv, np.column_stack([tf_y, tf_v]), delimiter=",", header="yi,vi",
                       comments="", fmt="%.17g")
            (Path(tmp) / "mv.R").write_text(R_MV)
            (Path(tmp) / "tf.R").write_text(R_TF)
            r = run_r(Path(tmp) / "mv.R", [str(mv_csv), args.mv_storage], args.r_timeout)
            r.update(run_r(Path(tmp) / "tf.R", [str(tf_csv)], args.r_timeout))
    else:
        print("R/metafor/clubSandwich: not available, sysrev only")
    rows = [
        ("rma.mv REML, k = 2,000 in 400 studies", "mv", "mv_seconds",
         [(fit.beta, "beta"), (fit.se, "se"), (fit.sigma2, "sigma2")]),
        ("CR2 coef_test (Satterthwaite)", "cr2", "cr2_seconds",
         [(rob.se, "cr2_se"), (rob.df, "cr2_df")]),
        ("trimfill L0 (REML), k = 1,000", "tf", "tf_seconds",
         [(tf.k0, "k0"), (tf.fit.estimate, "tf_estimate"), (tf.fit.se, "tf_se")]),
    ]
    print(f"{'problem':<40} {'sysrev ms':>10} {'R ms':>10} {'ratio':>7} {'max |diff|':>11} "
          "agree")
    failed = False
    for label, key, r_key, checks in rows:
        line = f"{label:<40} {ours[key] * 1000:>10.2f}"
        if r is not None and r_key in r:
            ok = all(agree(a, r[b]) for a, b in checks)
            failed |= not ok
            diff = max(max_diff(a, r[b]) for a, b in checks)
            line += (f" {r[r_key] * 1000:>10.0f} {r[r_key] / ours[key]:>7.0f} {diff:>11.1e} "
                     f"{'yes' if ok else 'NO'}")
        elif r is not None:
            line += (f" {'> ' + str(int(args.r_timeout * 1000)):>10} "
                     f"{'> ' + str(int(args.r_timeout / ours[key])):>7} (R stopped at the "
                     "time limit)")
        print(line, flush=True)
    print(f"trimfill: k0 = {tf.k0} ({tf.side}); rma.mv sigma2 = {fit.sigma2}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
