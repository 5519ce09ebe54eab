"""Speed and agreement of sysrev.meta.rma against R's metafor rma(), in the same run.

For k = 100, 1,000 and 10,000 simulated studies and tau2 estimators REML, PM and DL, time
``sysrev.meta.rma(yi, vi, method=...)`` (median of repeated calls; this includes the Q-profile
CI of tau2, which metafor's rma() does not compute) and metafor's
``rma(yi, vi, method=..., control=list(threshold=1e-12, tol=1e-12, maxiter=10000))`` (the
same convergence precision as sysrev; timed inside R with ``system.time``, so R's start-up is
not counted). Each R fit runs in its own Rscript process with a time limit (``--r-timeout``)
because metafor's rma.uni works with k x k matrices and grows roughly with k^3 for REML.
The estimates (mu, its SE, tau2) must agree to 1e-6 (relative or absolute).

Usage (from the repository root)::

    python benchmarks/bench_meta.py                  # all k, R where installed
    python benchmarks/bench_meta.py --k 100 1000     # a subset
    python benchmarks/bench_meta.py --no-r           # sysrev only

Without ``Rscript`` on the PATH (or metafor not installed) the R columns are left out.
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

from sysrev.meta import rma  # noqa: E402

METHODS = ("REML", "PM", "DL")
KS = (100, 1000, 10000)
TOL = 1e-6

R_FIT = r"""
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
ctrl <- if (args[3] == "tight") list(threshold = 1e-12, tol = 1e-12, maxiter = 10000) else list()
t <- system.time(res <- rma(d$yi, d$vi, method = args[2], control = ctrl))[["elapsed"]]
cat(sprintf('{"seconds": %.6f, "estimate": %.17g, "se": %.17g, "tau2": %.17g}\n',
            t, as.numeric(res$b), res$se, res$tau2))
"""


def simulate(k: int, seed: int = 20250101) -> tuple[np.ndarray, np.ndarray]:
    """k studies: vi ~ U(0.01, 0.2), true effects ~ N(0.3, 0.05), yi ~ N(theta, vi)."""
    rng = np.random.default_rng(seed + k)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(rng.normal(0.3, np.sqrt(0.05), k), np.sqrt(vi))
    return yi, vi


def time_python(yi, vi, method: str, budget: float = 1.0) -> tuple[float, object]:
    """Median seconds per call over at least 5 calls and about ``budget`` seconds."""
    times = []
    res = None
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < budget and len(times) < 1000):
        t0 = time.perf_counter()
        res = rma(yi, vi, method=method)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True)
    return probe.returncode == 0


def r_version() -> str:
    out = subprocess.run(["Rscript", "-e", 'cat(R.version.string, "| metafor",'
                          ' as.character(packageVersion("metafor")))'],
                         capture_output=True, text=True)
    return out.stdout.strip()


def time_r(csv: Path, script: Path, method: str, timeout: float,
           control: str = "tight") -> dict | None:
    try:
        out = subprocess.run(["Rscript", str(script), str(csv), method, control],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def agree(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=list(KS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--no-r", action="store_true", help="skip metafor")
    parser.add_argument("--r-timeout", type=float, default=600,
                        help="seconds allowed per metafor fit (default 600)")
    parser.add_argument("--r-default", action="store_true",
                        help="also time metafor with its default (looser) convergence "
                             "controls")
    args = parser.parse_args(argv)
    use_r = not args.no_r and r_available()
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    print(r_version() if use_r else "R/metafor: not available, sysrev only")
    header = (f"{'k':>6} {'method':<6} {'sysrev ms':>10} {'metafor ms':>11} {'ratio':>9} "
              f"{'max |diff|':>11} agree" + ("  metafor default ms  ratio" if args.r_default
                                             else ""))
    print(header)
    rows = []
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "fit.R"
        script.write_text(R_FIT)
        for k in args.k:
            yi, vi = simulate(k)
            csv = Path(tmp) / f"k{k}.csv"
            np.savetxt(csv, np.column_stack([yi, vi]), delimiter=",", header="yi,vi",
                       comments="", fmt="%.17g")
            for method in args.methods:
                py_s, res = time_python(yi, vi, method)
                row = {"k": k, "method": method, "sysrev_ms": py_s * 1000}
                r = time_r(csv, script, method, args.r_timeout) if use_r else None
                if use_r and r is None:
                    row.update(metafor_ms=f"> {args.r_timeout * 1000:.0f}",
                               ratio=f"> {args.r_timeout / py_s:.0f}", diff="", agree="n/a")
                elif r is not None:
                    diffs = [abs(res.estimate - r["estimate"]), abs(res.se - r["se"]),
                             abs(res.tau2 - r["tau2"])]
                    ok = all(agree(x, y) for x, y in [(res.estimate, r["estimate"]),
                                                      (res.se, r["se"]),
                                                      (res.tau2, r["tau2"])])
                    failed |= not ok
                    row.update(metafor_ms=f"{r['seconds'] * 1000:.1f}",
                               ratio=f"{r['seconds'] / py_s:.0f}",
                               diff=f"{max(diffs):.1e}", agree="yes" if ok else "NO")
                else:
                    row.update(metafor_ms="", ratio="", diff="", agree="")
                line = (f"{k:>6} {method:<6} {row['sysrev_ms']:>10.2f} {row['metafor_ms']:>11} "
                        f"{row['ratio']:>9} {row['diff']:>11} {row['agree']:>5}")
                if use_r and args.r_default:
                    d = time_r(csv, script, method, args.r_timeout, "default")
                    line += (f"  {d['seconds'] * 1000:>18.1f} {d['seconds'] / py_s:>6.0f}"
                             if d else f"  {'> ' + str(int(args.r_timeout * 1000)):>18} "
                                       f"{'> ' + str(int(args.r_timeout / py_s)):>6}")
                rows.append(row)
                print(line, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
