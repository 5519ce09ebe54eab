"""Decisions exported by screening tools: Rayyan, ASReview and Covidence, as CSV or RIS.

Each reader returns the decision table of :mod:`sysrev.screening.decisions`, matching every
row to a record by its sysrev record id, PMID, DOI, accession number or title (narrowed by
year and first author; tools do not know sysrev's record ids). The stage is the one the
export was made at, given in the configuration.

Rayyan
    CSV or RIS export; decisions sit in ``notes`` (RIS: ``N1``) as ``RAYYAN-INCLUSION:
    {"Reviewer"=>"Included", "Other"=>"Excluded"}`` (``Included``, ``Excluded``, ``Maybe``)
    and reasons as ``RAYYAN-EXCLUSION-REASONS: reason1,reason2``; keys ``pubmed_id``,
    ``doi``, ``title``, ``year``, ``authors`` (RIS: ``DO``, ``TI``, ``Y1``/``PY``, ``AU``).
    A record with no decision in the export is left undecided (pending).
ASReview
    An exported dataset, CSV/TSV with ``asreview_label`` (or ``included`` /
    ``label_included``): 1 is include, 0 exclude, empty not yet labelled; or RIS with
    ``ASReview_relevant`` / ``ASReview_irrelevant`` / ``ASReview_not_seen`` in ``N1`` (or
    ``LB``); or the project file itself (``.asreview``, see
    :mod:`sysrev.screening.asreview_project`). One reviewer (configured) per file.
Covidence
    A Covidence CSV or RIS export of one list (for example the studies excluded at full
    text): every record gets the configured decision; ``Exclusion reason`` (or ``Notes``;
    RIS: ``N1``) gives the reason.

The configured ``format`` ``rayyan``, ``asreview`` and ``covidence`` read any of the tool's
file kinds, recognised from the content (a zip archive, RIS tags, else CSV);
``rayyan_ris``, ``asreview_ris``, ``covidence_ris`` and ``asreview_project`` insist on one kind
and name the kind a file looks like when it is another.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from sysrev.errors import InputError
from sysrev.errors import columns_word as _columns
from sysrev.screening.asreview_project import read_asreview_project
from sysrev.screening.decisions import DECISION_TABLE_COLUMNS
from sysrev.screening.matching import Match, RecordMatcher
from sysrev.screening.readers import _first, _read_rows, _row, file_kind, ris_entries, ris_keys

log = logging.getLogger(__name__)

_RAYYAN_INCLUSION = re.compile(r"RAYYAN-INCLUSION:\s*\{([^}]*)\}")
_RAYYAN_PAIR = re.compile(r'"([^"]+)"\s*=>\s*"([^"]+)"')
_RAYYAN_REASONS = re.compile(r"RAYYAN-EXCLUSION-REASONS:\s*([^|]*)")
RAYYAN_WORDS = {"included": "include", "excluded": "exclude", "maybe": "maybe"}

_ASREVIEW_RIS_LABEL = re.compile(r"\bASReview_(relevant|irrelevant|not_seen)\b")
ASREVIEW_RIS_WORDS = {"relevant": "include", "irrelevant": "exclude", "not_seen": None}


def _need_kind(path, kind: str, wanted: str, fmt: str) -> None:
    if kind != wanted:
        names = {"csv": "a CSV/TSV table", "ris": "a RIS file",
                 "project": "a zip archive (an ASReview project)"}
        raise InputError(path, f"format '{fmt}' expects {names[wanted]}, but the file looks "
                               f"like {names[kind]}")


def _need(path, header: list[str], columns: list[str]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(path, f"missing {_columns(missing)} {missing}; the header is "
                               f"{header}", line=1)


def _rayyan_rows(path, line, notes: str, found: Match, key_text: str, stage: str) -> list:
    inclusion = _RAYYAN_INCLUSION.search(notes)
    if not inclusion:
        return []
    reasons = _RAYYAN_REASONS.search(notes)
    reason = "; ".join(r.strip() for r in reasons.group(1).split(",") if r.strip()) \
        if reasons else ""
    out = []
    for reviewer, label in _RAYYAN_PAIR.findall(inclusion.group(1)):
        decision = RAYYAN_WORDS.get(label.strip().lower(), label.strip())
        out.append(_row(path, line, found, key_text, reviewer, stage, decision,
                        reason if decision == "exclude" else ""))
    return out


def read_rayyan(path: str | Path, matcher: RecordMatcher, *, stage: str,
                kind: str | None = None) -> pd.DataFrame:
    """Decisions of every reviewer in a Rayyan CSV or RIS export made at ``stage``."""
    kind = kind or file_kind(path)
    out = []
    if kind == "ris":
        for line, entry in ris_entries(path):
            notes = " | ".join(entry.get("N1", []))
            if not _RAYYAN_INCLUSION.search(notes):
                continue
            keys = ris_keys(entry)
            found = matcher.match(**keys)
            key_text = _first(entry, "AN") or found.key
            out += _rayyan_rows(path, line, notes, found, key_text, stage)
    else:
        _need_kind(path, kind, "csv", "rayyan")
        header, rows = _read_rows(path)
        _need(path, header, ["title", "notes"])
        for line, row in rows:
            notes = row.get("notes") or ""
            if not _RAYYAN_INCLUSION.search(notes):
                continue
            found = matcher.match(pmid=row.get("pubmed_id"), doi=row.get("doi"),
                                  title=row.get("title"), year=row.get("year"),
                                  authors=row.get("authors"))
            out += _rayyan_rows(path, line, notes, found, row.get("key") or found.key, stage)
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)


def read_asreview(path: str | Path, matcher: RecordMatcher, *, stage: str,
                  reviewer: str, kind: str | None = None) -> pd.DataFrame:
    """Labels in an ASReview export (CSV/TSV, RIS) or project file (``.asreview``), as
    ``reviewer``'s decisions at ``stage``."""
    kind = kind or file_kind(path)
    if kind == "project":
        return read_asreview_project(path, matcher, stage=stage, reviewer=reviewer)
    out = []
    if kind == "ris":
        for line, entry in ris_entries(path):
            labels = {m for tag in ("N1", "LB") for value in entry.get(tag, [])
                      for m in _ASREVIEW_RIS_LABEL.findall(value)}
            if len(labels) > 1:
                raise InputError(path, f"the record has several ASReview labels "
                                       f"({', '.join(sorted(labels))})", line=line,
                                 field="N1")
            decision = ASREVIEW_RIS_WORDS[labels.pop()] if labels else None
            if decision is None:
                continue
            found = matcher.match(**ris_keys(entry))
            out.append(_row(path, line, found, found.key, reviewer, stage, decision))
        return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)
    header, rows = _read_rows(path)
    label_column = next((c for c in ("asreview_label", "included", "label_included")
                         if c in header), None)
    if label_column is None:
        raise InputError(path, "no label column (asreview_label, included or "
                               "label_included)", line=1)
    # An export of a project started from a labelled dataset (to_screen_asreview.csv) keeps
    # the dataset's own labels next to asreview_label: equal ones are that prior knowledge,
    # not new decisions.
    own_column = next((c for c in ("label_included", "included") if c in header
                       and label_column == "asreview_label"), None)
    skipped = 0
    for line, row in rows:
        label = (row.get(label_column) or "").strip()
        if label == "":
            continue
        if label not in ("0", "1", "0.0", "1.0"):
            raise InputError(path, f"label '{label}' is not 0 or 1", line=line,
                             field=label_column)
        own = (row.get(own_column) or "").strip() if own_column else ""
        if own and own[0] == label[0]:
            skipped += 1
            continue
        record_id = (row.get("record_id") or "").strip()
        found = matcher.match(record_id=record_id if ":" in record_id else None,
                              pmid=row.get("pubmed_id") or row.get("pmid"),
                              doi=row.get("doi"),
                              title=row.get("title") or row.get("primary_title"),
                              year=row.get("publication_year") or row.get("year"),
                              authors=row.get("authors"))
        key_text = record_id or row.get("id") or found.key
        out.append(_row(path, line, found, key_text, reviewer, stage,
                        "include" if label.startswith("1") else "exclude"))
    if skipped:
        log.info("%s: %d labels equal to the dataset's own %s (prior knowledge) skipped",
                 path, skipped, own_column)
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)


def read_covidence(path: str | Path, matcher: RecordMatcher, *, stage: str, decision: str,
                   reviewer: str, kind: str | None = None) -> pd.DataFrame:
    """A Covidence list export (CSV or RIS): every study in it gets ``decision`` at
    ``stage``."""
    kind = kind or file_kind(path)
    out = []
    if kind == "ris":
        for line, entry in ris_entries(path):
            keys = ris_keys(entry)
            found = matcher.match(accession=_first(entry, "AN") or None, **keys)
            reason = " | ".join(v for v in entry.get("N1", []) if v.strip())
            out.append(_row(path, line, found, found.key, reviewer, stage, decision,
                            reason if decision == "exclude" else ""))
        return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)
    _need_kind(path, kind, "csv", "covidence")
    header, rows = _read_rows(path)
    _need(path, header, ["Title"])
    reason_column = next((c for c in ("Exclusion reason", "Exclusion Reason",
                                      "Reason for exclusion", "Notes") if c in header), None)
    for line, row in rows:
        found = matcher.match(doi=row.get("DOI"), accession=row.get("Accession Number"),
                              title=row.get("Title"), year=row.get("Published Year"),
                              authors=row.get("Authors"))
        key_text = row.get("Covidence #") or found.key
        reason = (row.get(reason_column) or "").strip() if reason_column else ""
        out.append(_row(path, line, found, key_text, reviewer, stage, decision,
                        reason if decision == "exclude" else ""))
    return pd.DataFrame(out, columns=DECISION_TABLE_COLUMNS)


#: Configured ``format`` → (tool, required file kind or None for any).
FORMATS = {"rayyan": ("rayyan", None), "rayyan_ris": ("rayyan", "ris"),
           "asreview": ("asreview", None), "asreview_ris": ("asreview", "ris"),
           "asreview_project": ("asreview", "project"),
           "covidence": ("covidence", None), "covidence_ris": ("covidence", "ris")}


def read_tool_export(fmt: str, path: str | Path, matcher: RecordMatcher, *, stage: str,
                     reviewer: str | None = None, decision: str | None = None) -> pd.DataFrame:
    """Read one screening tool's decision file of configured format ``fmt``."""
    tool, wanted = FORMATS[fmt]
    kind = file_kind(path)
    if wanted:
        _need_kind(path, kind, wanted, fmt)
    elif kind == "project" and tool != "asreview":
        _need_kind(path, kind, "csv", fmt)
    needed = {"rayyan": ["stage"], "asreview": ["stage", "reviewer"],
              "covidence": ["stage", "reviewer", "decision"]}[tool]
    given = {"stage": stage, "reviewer": reviewer, "decision": decision}
    for key in needed:
        if not given[key]:
            raise InputError(path, f"format '{fmt}' needs '{key}' in its "
                                   "screening.decisions entry of config.yaml")
    log.info("%s: %s %s export", path, tool, kind)
    if tool == "rayyan":
        return read_rayyan(path, matcher, stage=stage, kind=kind)
    if tool == "asreview":
        return read_asreview(path, matcher, stage=stage, reviewer=reviewer, kind=kind)
    return read_covidence(path, matcher, stage=stage, decision=decision, reviewer=reviewer,
                          kind=kind)
