"""Deduplication benchmark: accuracy against labelled sets, side by side with bib-dedupe,
and time and peak memory at scale on generated duplicates.

Accuracy (both tools on the same records, in the same run, on every set in
``../shared/testdata/dedup``; per set and per error family)::

    python benchmarks/bench_dedup.py accuracy --bibdedupe /tmp/bibdedupe-venv/bin/python \
        --markdown

Each tool reads the input it is designed for: where a set is one of bib-dedupe's own
(``records_pre_merged.csv``: cytology_screening, special_cases, and the ``--extra`` sets),
bib-dedupe is given that file unchanged and reads it as its own evaluation does
(``pd.read_csv``, then prep, block, match, cluster); sysrev reads the same file as a record
table (``_bibtex_rows``). ASySD's diabetes set is not in bib-dedupe's layout here (its
``data/diabetes/records_pre_merged.csv`` is not in the stored snapshot), so bib-dedupe gets
the record table converted to its columns; the table's ``bib-dedupe input`` column says
which.

Error families: each pair (true or predicted) belongs to the first family either of its
records belongs to, in this order: ``errata`` (erratum, correction, corrigendum,
retraction, expression of concern in the title or publication type), ``replies/comments``
(reply, response to, comment, commentary, letter in the title or type), ``conference
abstracts`` (conference/meeting/congress/proceedings/symposium/abstracts in the journal or
type, ``inproceedings``, a supplement or lettered page), ``other``. The families are read
with simple patterns written here, not with sysrev's own classifier, so the benchmark does
not grade sysrev with its own rules.

Scale (each size in a fresh process, so peak memory is that size's alone)::

    python benchmarks/bench_dedup.py scale --sizes 10000 100000 500000

bib-dedupe lives in its own venv (``python -m venv /tmp/bibdedupe-venv &&
/tmp/bibdedupe-venv/bin/pip install bib-dedupe``) and is run by subprocess
(benchmarks/bibdedupe_runner.py), so the project's pinned environment is untouched.

The labelled sets are read from ``../shared/testdata/dedup`` (see SOURCES.md there):

* ``asysd_diabetes``: ASySD's labelled diabetes set (latin-1, CRLF inside quoted cells).
  The truth is the ``source`` column (``unique`` = one kept record per publication). Pairwise
  metrics need clusters, which the file does not hold; they come from bib-dedupe's
  ``merged_record_ids`` for this set, reconciled with ``source``: the one cluster with two
  ``unique`` records is split into the two publications (pages 51 and 52, different
  author lists), and the one cluster with no ``unique`` record is kept as one publication.
* ``bibdedupe_cytology_screening`` and ``bibdedupe_special_cases``: bib-dedupe's own sets
  (``merged_record_ids.csv``: one cluster per row; other ids are singletons).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata" / "dedup"
# The sysrev measured: this checkout's, or another checkout's src/ (``scale --baseline-src``
# runs a previous implementation in the same run, for a ratio).
SRC = os.environ.get("SYSREV_BENCH_SRC") or str(REPO / "src")
sys.path.insert(0, SRC)
sys.path.insert(0, str(REPO / "benchmarks"))

import re  # noqa: E402

from sysrev.columns import RECORD_COLUMNS  # noqa: E402
from sysrev.dedup import find_duplicates  # noqa: E402
from sysrev.imports.csv_export import read_csv_export  # noqa: E402


# ------------------------------------------------------------------------ labelled sets

def _table(rows: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = pd.DataFrame({c: rows[c] if c in rows.columns else None for c in RECORD_COLUMNS})
    frame["source"] = source
    frame["record_id"] = rows["record_id"].astype(str)
    return frame.reset_index(drop=True)


def _bibtex_rows(path: Path) -> pd.DataFrame:
    """bib-dedupe's records_pre_merged.csv as a record table (authors ' and ' -> '; ')."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    journal = raw["journal"] if "journal" in raw.columns else ""
    if "booktitle" in raw.columns:
        journal = raw["journal"].where(raw["journal"] != "", raw["booktitle"])
    rows = pd.DataFrame({
        "record_id": raw["ID"], "title": raw["title"],
        "authors": raw["author"].str.replace(r"\s+and\s+", "; ", regex=True),
        "year": raw["year"], "journal": journal,
        "volume": raw.get("volume", ""), "issue": raw.get("number", raw.get("issue", "")),
        "pages": raw.get("pages", "").str.replace("--", "-", regex=False)
        if "pages" in raw.columns else "",
        "doi": raw.get("doi", ""), "publication_types": raw["ENTRYTYPE"],
        "abstract": raw.get("abstract", "")})
    return _table(rows.replace({"": None}), "set")


def _clusters_file(path: Path) -> list[list[str]]:
    return [c.split(";") for c in pd.read_csv(path)["merged_ids"]]


def _asreview_rows(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python",
                      skipinitialspace=True)
    raw.columns = [c.strip() for c in raw.columns]
    rows = pd.DataFrame({"record_id": [f"{path.stem}:{i + 1}" for i in range(len(raw))],
                         "title": raw["title"].str.strip(),
                         "abstract": raw.get("abstract", pd.Series([""] * len(raw))),
                         "doi": raw["doi"].str.strip() if "doi" in raw.columns else "",
                         "year": raw.get("publication_year", pd.Series([""] * len(raw)))})
    return _table(rows.replace({"": None}), "set")


def unlabelled_sets() -> dict[str, pd.DataFrame]:
    """Sets without truth labels (ASReview's small dedup fixtures): counts only."""
    folder = TESTDATA / "asreview_small"
    return {f"asreview_small/{p.name}": _asreview_rows(p)
            for p in sorted(folder.glob("*.csv"))} if folder.is_dir() else {}


#: Sets whose records are bib-dedupe's own ``records_pre_merged.csv``: bib-dedupe is given
#: that file unchanged (its native input), sysrev the record table read from it.
NATIVE: dict[str, Path] = {}


def extra_sets(folder: Path) -> dict[str, tuple[pd.DataFrame, list[list[str]]]]:
    """Further labelled sets in bib-dedupe's layout (one folder per set holding
    ``records_pre_merged.csv`` and ``merged_record_ids.csv``), e.g. bib-dedupe's own
    data/ folder checked out outside this repository. Sets already scored from
    ``../shared/testdata`` are left out."""
    sets = {}
    shared = {"cytology_screening", "special_cases"}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name in shared:
            continue
        if (sub / "records_pre_merged.csv").is_file() and (sub / "merged_record_ids.csv"
                                                            ).is_file():
            sets[f"extra/{sub.name}"] = (_bibtex_rows(sub / "records_pre_merged.csv"),
                                         _clusters_file(sub / "merged_record_ids.csv"))
            NATIVE[f"extra/{sub.name}"] = sub / "records_pre_merged.csv"
    return sets


def load_sets() -> dict[str, tuple[pd.DataFrame, list[list[str]]]]:
    """Each labelled set: (record table, truth clusters of size >= 2)."""
    known = {"asysd_diabetes", "bibdedupe_cytology_screening", "bibdedupe_special_cases",
             "asreview_small"}
    unknown = sorted(p.name for p in TESTDATA.iterdir() if p.is_dir() and p.name not in known)
    if unknown:  # every set is scored: a new folder needs a loader here
        raise SystemExit(f"no loader for the dedup set(s) {unknown} in {TESTDATA}")
    sets = {}
    asysd = TESTDATA / "asysd_diabetes"
    records = read_csv_export(asysd / "labelled_test_set.csv", source="asysd", layout="csv")
    raw = pd.read_csv(asysd / "labelled_test_set.csv", encoding="latin-1")
    label = dict(zip(raw["record_id"].astype(str), raw["source"]))
    pages = dict(zip(raw["record_id"].astype(str), raw["pages"].astype(str)))
    truth = []
    for cluster in _clusters_file(asysd / "merged_record_ids_bibdedupe.csv"):
        ids = [str(int(x.split("_")[1])) for x in cluster]
        uniques = [i for i in ids if label[i] == "unique"]
        if len(uniques) > 1:  # two publications merged in the file: split by pages
            for page in sorted({pages[i] for i in ids}):
                truth.append([i for i in ids if pages[i] == page])
        else:
            truth.append(ids)
    records["record_id"] = records["source_id"]
    sets["asysd_diabetes"] = (records, truth)
    for name in ("bibdedupe_cytology_screening", "bibdedupe_special_cases"):
        folder = TESTDATA / name
        sets[name] = (_bibtex_rows(folder / "records_pre_merged.csv"),
                      _clusters_file(folder / "merged_record_ids.csv"))
        NATIVE[name] = folder / "records_pre_merged.csv"
    return sets


def pairs_of(clusters) -> set[tuple[str, str]]:
    out = set()
    for cluster in clusters:
        out.update(combinations(sorted(map(str, cluster)), 2))
    return out


def metrics(predicted, truth) -> dict[str, float]:
    p, t = pairs_of(predicted), pairs_of(truth)
    tp = len(p & t)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": len(t),
            "predicted_pairs": len(p), "false_pairs": len(p - t), "missed_pairs": len(t - p)}


# Read on the title without bracketed notes ("[Erratum appears in …]" is on the article).
_NOTES = re.compile(r"\[[^\]]*\]?")
_ERRATA = re.compile(r"^\W*(errat|corrigend|corrections?\b|retraction|notice of|expression"
                     r" of concern)|\b(erratum|corrigendum|correction to|retraction of|"
                     r"retraction note)\b", re.I)
_COMMENTS = re.compile(r"^\W*(re\s*:|reply|replies|response|in reply|authors?'? (reply|"
                       r"response)|comment|comments|commentary|invited commentary|letter)\b"
                       r"|\b(reply to|response to (the )?(letter|comment)|"
                       r"letter to the editor)\b", re.I)
_CONFERENCE = re.compile(r"conference|congress|meeting|proceedings|symposium|abstracts|"
                         r"inproceedings|\bconf\b|\bsuppl", re.I)
FAMILIES = ("errata", "replies/comments", "conference abstracts", "other")


def record_families(records: pd.DataFrame) -> dict[str, str]:
    """Each record's error family (see the module docstring)."""
    def text(name):
        return records[name].fillna("").astype(str) if name in records.columns else \
            pd.Series([""] * len(records), index=records.index)

    title, types = text("title"), text("publication_types")
    place = text("journal") + " " + types + " " + text("volume") + " " + text("issue")
    page = text("pages").str.strip()
    out = {}
    for rid, t, ty, pl, pg in zip(records["record_id"], title, types, place, page):
        t = _NOTES.sub(" ", t).strip()
        if _ERRATA.search(t) or _ERRATA.search(ty):
            out[rid] = "errata"
        elif _COMMENTS.search(t) or re.search(r"\b(comment|letter)\b", ty, re.I):
            out[rid] = "replies/comments"
        elif _CONFERENCE.search(pl) or (pg[:1].isalpha()):
            out[rid] = "conference abstracts"
        else:
            out[rid] = "other"
    return out


def pair_family(pair, family: dict[str, str]) -> str:
    kinds = {family[pair[0]], family[pair[1]]}
    return next(f for f in FAMILIES if f in kinds)


def family_metrics(predicted, truth, family: dict[str, str]) -> dict[str, dict]:
    p, t = pairs_of(predicted), pairs_of(truth)
    out = {}
    for name in FAMILIES:
        pf = {x for x in p if pair_family(x, family) == name}
        tf = {x for x in t if pair_family(x, family) == name}
        tp = len(pf & tf)
        precision = tp / len(pf) if pf else None
        recall = tp / len(tf) if tf else None
        # No true pairs: F1 undefined; true pairs but none found: 0.
        f1 = None if not tf else (2 * precision * recall / (precision + recall)
                                  if precision and recall else 0.0)
        out[name] = {"true_pairs": len(tf), "predicted_pairs": len(pf),
                     "false_pairs": len(pf - tf), "missed_pairs": len(tf - pf),
                     "precision": precision, "recall": recall, "f1": f1}
    return out


def sysrev_clusters(records: pd.DataFrame, errata: str = "related",
                    threads: int = 2) -> tuple[list[list[str]], float]:
    start = time.perf_counter()
    result = find_duplicates(records, errata=errata, threads=threads)
    seconds = time.perf_counter() - start
    groups = result.clusters.groupby("cluster_id")["record_id"].apply(list)
    return [g for g in groups if len(g) > 1], seconds


def bibdedupe_clusters(records: pd.DataFrame, python: str, native: Path | None = None
                       ) -> tuple[list[list[str]], float, str]:
    """bib-dedupe's clusters. ``native``: bib-dedupe's own ``records_pre_merged.csv`` for
    the set, given to it unchanged (read as its evaluation reads it); otherwise the record
    table converted to its columns (sets that bib-dedupe does not ship in its layout)."""
    if native is not None:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([python, str(REPO / "benchmarks" / "bibdedupe_runner.py"),
                                  str(native), "--native"], capture_output=True, text=True,
                                 cwd=tmp, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        return result["clusters"], result["seconds"], result["version"]
    table = pd.DataFrame({
        "ID": records["record_id"],
        "ENTRYTYPE": records["publication_types"].fillna("article")
        .where(records["publication_types"].fillna("").isin(
            ["article", "inproceedings", "book", "incollection", "misc", "phdthesis"]),
            "article"),
        "title": records["title"], "author": records["authors"].fillna("")
        .str.replace("; ", " and ", regex=False),
        "year": records["year"], "journal": records["journal"], "volume": records["volume"],
        "number": records["issue"], "pages": records["pages"], "doi": records["doi"]})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.csv"
        table.fillna("").to_csv(path, index=False)
        out = subprocess.run([python, str(REPO / "benchmarks" / "bibdedupe_runner.py"),
                              str(path)], capture_output=True, text=True, cwd=tmp,
                             check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["clusters"], result["seconds"], result["version"]


def run_accuracy(python: str | None, threads: int = 2, extra: str | None = None) -> list[dict]:
    """Both tools on every set; sysrev with errata as related reports (its default) and
    as duplicates (bib-dedupe's definition)."""
    rows = []
    sets = load_sets()
    if extra:
        sets.update(extra_sets(Path(extra)))
    for name, (records, truth) in sets.items():
        family = record_families(records)
        row = {"set": name, "records": len(records), "threads": threads,
               "families_records": {f: sum(1 for v in family.values() if v == f)
                                    for f in FAMILIES}}
        for label, errata in (("sysrev", "related"), ("sysrev_errata_dup", "duplicate")):
            ours, seconds = sysrev_clusters(records, errata, threads)
            row.update({f"{label}_{k}": v for k, v in metrics(ours, truth).items()})
            row[f"{label}_seconds"] = seconds
            row[f"{label}_families"] = family_metrics(ours, truth, family)
        if python:
            theirs, their_seconds, version = bibdedupe_clusters(records, python,
                                                                NATIVE.get(name))
            row["bibdedupe_input"] = "native" if name in NATIVE else "converted"
            row.update({f"bibdedupe_{k}": v for k, v in metrics(theirs, truth).items()})
            row["bibdedupe_seconds"] = their_seconds
            row["bibdedupe_version"] = version
            row["bibdedupe_families"] = family_metrics(theirs, truth, family)
        rows.append(row)
        print(json.dumps(row), flush=True)
    for name, records in unlabelled_sets().items():
        row = {"set": name, "records": len(records), "labelled": False,
               "sysrev_unique": len(records) - sum(len(c) - 1 for c in
                                                   sysrev_clusters(records)[0])}
        if python:
            try:
                theirs = bibdedupe_clusters(records, python)[0]
                row["bibdedupe_unique"] = len(records) - sum(len(c) - 1 for c in theirs)
            except subprocess.CalledProcessError as exc:  # reported, not hidden
                last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
                row["bibdedupe_unique"] = f"failed: {last[0][:80]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _f(value, digits=4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(rows: list[dict]) -> str:
    """BENCHMARKS.md tables: per set, then per set and error family."""
    has_peer = any("bibdedupe_f1" in r for r in rows)
    out = ["| set | records | true pairs | sysrev P / R / F1 | sysrev errata=duplicate "
           "P / R / F1 | bib-dedupe input | bib-dedupe P / R / F1 | F1 ratio | sysrev time "
           "| bib-dedupe time | speed-up |",
           "|---|---:|---:|---|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        if r.get("labelled") is False:
            continue
        ours = " / ".join(_f(r[f"sysrev_{k}"]) for k in ("precision", "recall", "f1"))
        dup = " / ".join(_f(r[f"sysrev_errata_dup_{k}"]) for k in ("precision", "recall",
                                                                   "f1"))
        peer = " / ".join(_f(r.get(f"bibdedupe_{k}")) for k in ("precision", "recall", "f1"))
        ratio = _f(r["sysrev_f1"] / r["bibdedupe_f1"], 3) if has_peer and r.get(
            "bibdedupe_f1") else "–"
        speed = f"{r['bibdedupe_seconds'] / r['sysrev_seconds']:.0f}x" if has_peer else "–"
        out.append(f"| {r['set']} | {r['records']:,} | {r['sysrev_true_pairs']:,} | {ours} | "
                   f"{dup} | {r.get('bibdedupe_input', '–')} | {peer} | {ratio} | {r['sysrev_seconds']:.2f} s | "
                   f"{r.get('bibdedupe_seconds', float('nan')):.1f} s | {speed} |")
    out += ["", "| set | family | records | true pairs | sysrev pred / false / missed | "
            "sysrev P / R / F1 | bib-dedupe pred / false / missed | bib-dedupe P / R / F1 |",
            "|---|---|---:|---:|---|---|---|---|"]
    for r in rows:
        if r.get("labelled") is False:
            continue
        for fam in FAMILIES:
            o = r["sysrev_families"][fam]
            b = r.get("bibdedupe_families", {}).get(fam, {})
            out.append(
                f"| {r['set']} | {fam} | {r['families_records'][fam]:,} | {o['true_pairs']} | "
                f"{o['predicted_pairs']} / {o['false_pairs']} / {o['missed_pairs']} | "
                + " / ".join(_f(o[k]) for k in ("precision", "recall", "f1")) + " | "
                + (f"{b['predicted_pairs']} / {b['false_pairs']} / {b['missed_pairs']} | "
                   + " / ".join(_f(b[k]) for k in ("precision", "recall", "f1"))
                   if b else "– | –") + " |")
    unl = [r for r in rows if r.get("labelled") is False]
    if unl:
        out += ["", "| unlabelled set | records | sysrev unique | bib-dedupe unique |",
                "|---|---:|---:|---:|"]
        out += [f"| {r['set']} | {r['records']} | {r['sysrev_unique']} | "
                f"{r.get('bibdedupe_unique', '–')} |" for r in unl]
    return "\n".join(out)


# ---------------------------------------------------------------------------- scale

def _generated(n: int, seed: int, cache: str | None):
    """The generated table of ``n`` records (pickled in ``cache`` so that the implementations
    compared in one run read the same records without generating them again)."""
    import pickle

    from dedup_generator import generate

    path = Path(cache) / f"generated_{n}_{seed}.pkl" if cache else None
    if path is not None and path.is_file():
        with open(path, "rb") as handle:
            return pickle.load(handle)
    records, truth = generate(n, seed=seed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as handle:
            pickle.dump((records, truth), handle)
        path.with_suffix(".tmp").replace(path)
    return records, truth


def _peak_mib() -> float:
    """Peak resident memory of this process plus that of its largest worker process (MiB):
    an upper bound, as pages the forked workers share with this process count twice."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024  # KiB -> MiB


class _PeakPss:
    """Largest proportional set size (PSS) of this process and its worker processes
    together, sampled every ``interval`` seconds: pages the forked workers share with this
    process are counted once, as the machine holds them."""

    def __init__(self, interval: float = 1.0):
        import threading

        self.peak, self.interval, self.cpu = 0, interval, 0.0
        self.phase = self.last = 0  # peak since the last take_phase(), last sample
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_full_info().pss
                except (psutil.Error, AttributeError):
                    pass
            self.peak = max(self.peak, total)
            self.phase, self.last = max(self.phase, total), total
            self.stop.wait(self.interval)
        self.cpu = time.thread_time()  # the sampler's own CPU, not the run's

    def take_phase(self) -> int:
        """The peak since the last call (bytes); the next phase starts now."""
        peak, self.phase = max(self.phase, self.last), self.last
        return peak

    def __enter__(self) -> "_PeakPss":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


class _Phases(logging.Handler):
    """The steps ``find_duplicates`` logs (``deduplicate: <step> in <s> s (CPU ...)``),
    each with the peak PSS the sampler saw during it."""

    _STEP = re.compile(r"deduplicate: (.+?) in ([\d.]+) s \(CPU ([\d.]+) s here, "
                       r"([\d.]+) s in workers")

    def __init__(self, pss: "_PeakPss"):
        super().__init__(logging.INFO)
        self.pss, self.rows = pss, []

    def emit(self, record: logging.LogRecord) -> None:
        m = self._STEP.match(record.getMessage())
        if m:
            self.rows.append({"step": m[1], "wall_seconds": float(m[2]),
                              "cpu_main_seconds": float(m[3]),
                              "cpu_workers_seconds": float(m[4]),
                              "peak_pss_mib": round(self.pss.take_phase() / 2**20)})


def _cpu_seconds() -> tuple[float, float]:
    """CPU time (user + system) of this process and of its finished worker processes: on
    a loaded machine, closer to what a quiet one would take than the wall time."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run_scale_one(n: int, seed: int, bibdedupe: str | None = None, threads: int = 2,
                  cache: str | None = None) -> dict:
    try:  # a previous sysrev (--baseline-src) may have no band
        from bench_maybe_band import band_metrics
    except ImportError:
        band_metrics = None
    records, truth = _generated(n, seed, cache)
    peer = {}
    if bibdedupe:
        theirs, their_seconds, _ = bibdedupe_clusters(records, bibdedupe)
        peer = {f"bibdedupe_{k}": v for k, v in metrics(theirs, truth).items()}
        peer["bibdedupe_seconds"] = their_seconds
    start, (main0, workers0) = time.perf_counter(), _cpu_seconds()
    finder = logging.getLogger("sysrev.dedup.find")
    with _PeakPss() as pss:
        phases = _Phases(pss)
        finder.addHandler(phases)
        finder.setLevel(logging.INFO)
        try:
            result = find_duplicates(records, threads=threads)
        finally:
            finder.removeHandler(phases)
    seconds, (main1, workers1) = time.perf_counter() - start, _cpu_seconds()
    groups = result.clusters.groupby("cluster_id")["record_id"].apply(list)
    predicted = [g for g in groups if len(g) > 1]
    return {"records": len(records), "src": SRC, "threads": threads, "seconds": seconds,
            "cpu_main_seconds": main1 - main0 - pss.cpu,
            "cpu_workers_seconds": workers1 - workers0,
            # the main process waits while its workers run: on a quiet machine with
            # ``threads`` cores the run takes about this long
            "cpu_critical_seconds": main1 - main0 - pss.cpu
            + (workers1 - workers0) / max(1, threads),
            "peak_rss_mib": _peak_mib(), "peak_pss_mib": pss.peak / 2**20,
            "candidate_pairs": result.counts["candidate_pairs"],
            **metrics(predicted, truth), **peer,
            "band": band_metrics(result.maybe, len(records), truth) if band_metrics else None,
            # per step (the main process's CPU includes the PSS sampler's)
            "phases": phases.rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--bibdedupe", help="python of the bib-dedupe venv")
    acc.add_argument("--threads", type=int, default=2, help="sysrev's rapidfuzz workers")
    acc.add_argument("--markdown", action="store_true", help="print the BENCHMARKS.md tables")
    acc.add_argument("--extra", help="folder of further labelled sets in bib-dedupe's layout")
    scale = sub.add_parser("scale")
    scale.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    scale.add_argument("--seed", type=int, default=1)
    scale.add_argument("--bibdedupe", help="python of the bib-dedupe venv: also run "
                                           "bib-dedupe on the sizes up to 20,000")
    scale.add_argument("--baseline-src", help="src/ folder of a previous sysrev: run it too, "
                                              "after this one, on each size")
    scale.add_argument("--threads", type=int, default=2)
    scale.add_argument("--cache", help="folder for the generated tables (reused)")
    one = sub.add_parser("scale-one")
    one.add_argument("--n", type=int, required=True)
    one.add_argument("--seed", type=int, default=1)
    one.add_argument("--bibdedupe")
    one.add_argument("--threads", type=int, default=2)
    one.add_argument("--cache")
    args = parser.parse_args()
    if args.command == "accuracy":
        rows = run_accuracy(args.bibdedupe, args.threads, args.extra)
        if args.markdown:
            print(markdown(rows))
    elif args.command == "scale-one":
        print(json.dumps(run_scale_one(args.n, args.seed, args.bibdedupe, args.threads,
                                       args.cache)))
    else:
        for n in args.sizes:
            peer = ["--bibdedupe", args.bibdedupe] if args.bibdedupe and n <= 20_000 else []
            cache = ["--cache", args.cache] if args.cache else []
            sources = [None] + ([args.baseline_src] if args.baseline_src else [])
            for k, src in enumerate(sources):
                env = {**os.environ, "PYTHONHASHSEED": "0"}
                env.pop("SYSREV_BENCH_SRC", None)
                if src:
                    env["SYSREV_BENCH_SRC"] = str(Path(src).resolve())
                out = subprocess.run([sys.executable, __file__, "scale-one", "--n", str(n),
                                      "--seed", str(args.seed), "--threads",
                                      str(args.threads), *cache, *(peer if k == 0 else [])],
                                     capture_output=True, text=True, check=True, env=env)
                print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
