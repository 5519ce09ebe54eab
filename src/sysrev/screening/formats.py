"""Decisions exported by screening tools: Rayyan, ASReview and Covidence.

Each reader returns the decision table of :mod:`sysrev.screening.decisions`, matching every
row to a record by its PMID, DOI, accession number or title (tools do not know sysrev's
record ids). The stage is the one the export was made at, given in the configuration.

Rayyan
    CSV export; decisions sit in ``notes`` as ``RAYYAN-INCLUSION: {"Reviewer"=>"Included",
    "Other"=>"Excluded"}`` (``Included``, ``Excluded``, ``Maybe``) and reasons as
    ``RAYYAN-EXCLUSION-REASONS: reason1,reason2``; keys ``pubmed_id``, ``doi``, ``title``,
    ``year``. A record with no decision in the export is left undecided (pending).
ASReview
    Exported dataset with ``asreview_label`` (or ``included`` / ``label_included``): 1 is
    include, 0 exclude, empty not yet labelled. One reviewer (configured) per file.
Covidence
    A Covidence CSV export of one list (for example the studies excluded at full text): every
    row gets the configured decision; ``Exclusion reason`` (or ``Notes``) gives the reason.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from sysrev.csvtables import read_user_text
from sysrev.errors import InputError
from sysrev.screening.decisions import DECISION_TABLE_COLUMNS
from sysrev.screening.matching import RecordMatcher

_RAYYAN_INCLUSION = re.compile(r"RAYYAN-INCLUSION:\s*\{([^}]*)\}")
_RAYYAN_PAIR = re.compile(r'"([^"]+)"\s*=>\s*"([^"]+)"')
_RAYYAN_REASONS = re.compile(r"RAYYAN-EXCLUSION-REASONS:\s*([^|]*)")
RAYYAN_WORDS = {"included": "include", "excluded": "exclude", "maybe": "maybe"}


def _read_rows(path: str | Path) -> tuple[list[str], list[tuple[int, dict]]]:
    text = read_user_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    line = 2
    for row in reader:
        rows.append((line, row))
        line = reader.line_num + 1
    return list(reader.fieldnames or []), rows


def _need(path, header: list[str], columns: list[str]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {missing}; the header is {header}", line=1)


def _row(path, line, found, key_text, reviewer, stage, decision, reason="", note=""):
    return {"record_id": key_text, "unique_record_id": found.unique_record_id or "",
            "match": found.key, "reviewer": reviewer, "stage": stage, "decision": decision,
            "reason": reason, "note": note, "file": str(path), "line": line}


def read_rayyan(path: str | Path, matcher: RecordMatcher, *, stage: str) -> pd.DataFrame:
    """Decisions of every reviewer in a Rayyan CSV export made at ``stage``."""
    header, rows = _read_rows(path)
    _need(path, header, ["title", "notes"])
    out = []
    for line, row in rows:
        notes = row.get("notes") or ""
        inclusion = _RAYYAN_INCLUSION.search(notes)
        if not inclusion:
            continue
        reasons = _RAYYAN_REASONS.search(notes)
        reason = "; ".join(r.strip() for r in reasons.group(1).split(",")) if reasons else ""
        found = matcher.match(pmid=row.get("pubmed_id"), doi=row.get("doi"),
                              title=row.get("title"), year=row.get("year"))
        key_text = row.get("key") or found.key
        for reviewer, label in _RAYYAN_PAIR.findall(inclusion.group(1)):
            decision = RAYYAN_WORDS.get(label.strip().lower(), label.strip())
            out.append(_row(path, line, found, key_text, reviewer, stage, decision,
                            reason if decision == "exclude" else ""))
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)


def read_asreview(path: str | Path, matcher: RecordMatcher, *, stage: str,
                  reviewer: str) -> pd.DataFrame:
    """Labels in an ASReview export, as ``reviewer``'s decisions at ``stage``."""
    header, rows = _read_rows(path)
    label_column = next((c for c in ("asreview_label", "included", "label_included")
                         if c in header), None)
    if label_column is None:
        raise InputError(path, "no label column (asreview_label, included or "
                               "label_included)", line=1)
    out = []
    for line, row in rows:
        label = (row.get(label_column) or "").strip()
        if label == "":
            continue
        if label not in ("0", "1", "0.0", "1.0"):
            raise InputError(path, f"label '{label}' is not 0 or 1", line=line,
                             field=label_column)
        found = matcher.match(record_id=row.get("record_id") or None,
                              pmid=row.get("pubmed_id") or row.get("pmid"),
                              doi=row.get("doi"),
                              title=row.get("title") or row.get("primary_title"),
                              year=row.get("publication_year") or row.get("year"))
        key_text = row.get("record_id") or row.get("id") or found.key
        out.append(_row(path, line, found, key_text, reviewer, stage,
                        "include" if label.startswith("1") else "exclude"))
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)


def read_covidence(path: str | Path, matcher: RecordMatcher, *, stage: str, decision: str,
                   reviewer: str) -> pd.DataFrame:
    """A Covidence list export: every study in it gets ``decision`` at ``stage``."""
    header, rows = _read_rows(path)
    _need(path, header, ["Title"])
    reason_column = next((c for c in ("Exclusion reason", "Exclusion Reason",
                                      "Reason for exclusion", "Notes") if c in header), None)
    out = []
    for line, row in rows:
        found = matcher.match(doi=row.get("DOI"), accession=row.get("Accession Number"),
                              title=row.get("Title"), year=row.get("Published Year"))
        key_text = row.get("Covidence #") or found.key
        reason = (row.get(reason_column) or "").strip() if reason_column else ""
        out.append(_row(path, line, found, key_text, reviewer, stage, decision,
                        reason if decision == "exclude" else ""))
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)
