"""Files users load elsewhere: RIS and BibTeX of the included and the excluded records, and a
metafor-ready CSV of each analysis.

The reference files hold the deduplicated records (``dedup/unique.tsv``, every field the
duplicates had merged in): the reports of the included studies, each noted with its study,
and every excluded record, noted with the stage and the reason of its exclusion (RIS ``N1``,
BibTeX ``note``), and tagged (RIS ``KW``, BibTeX ``keywords``) so that a reference manager can
filter them. The metafor CSV holds one row per study with the measure, the raw cells as
``metafor::escalc`` names them (``ai``/``bi``/``ci``/``di``/``n1i``/``n2i`` for two-by-two
tables, ``m1i``/``sd1i``/``n1i``/``m2i``/``sd2i``/``n2i`` for means), the effect on the analysis
scale (``yi``, ``vi``) and the subgroup, so that ``escalc()`` and ``rma()`` can be rerun on it.

References
----------
RIS format: Research Information Systems, "RIS Format Specifications" (2012), as read by
EndNote, Zotero and rispy.
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48 (``escalc`` argument names).
"""

from __future__ import annotations

import logging
import math
import re
from typing import Iterable

import pandas as pd

from sysrev.errors import InputError
from sysrev.imports.records import display_title

log = logging.getLogger(__name__)

#: Columns of the exported reference table (before writing as RIS or BibTeX).
REFERENCE_COLUMNS = ["record_id", "title", "authors", "year", "journal", "volume", "issue",
                     "pages", "doi", "pmid", "language", "abstract", "keywords", "note"]

#: The stages of screening as written in the notes.
STAGE_NAMES = {"title_abstract": "title and abstract screening",
               "full_text": "full-text assessment"}
STAGE_ORDER = {"full_text": 0, "title_abstract": 1}

#: metafor-ready CSV columns: identification, the raw cells of each data type, the effect.
METAFOR_ID = ["study_id", "slab", "year", "comparison", "subgroup", "measure", "data_level"]
METAFOR_CELLS = {"binary": ["ai", "bi", "ci", "di", "n1i", "n2i"],
                 "continuous": ["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]}
METAFOR_EFFECT = ["yi", "vi", "sei", "conversions"]

_INITIALS = re.compile(r"^(?P<last>.*\S)\s+(?P<init>(?:[A-Z]\.?[\s-]?){1,4})$")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).split())


def author_name(name: str) -> str:
    """'Genant H.K.' or 'Genant HK' as 'Genant, H.K.' / 'Genant, HK' (the 'Last, First'
    form RIS and BibTeX expect); a name with a comma, or none that ends in initials, as is."""
    name = _text(name)
    if "," in name:
        return name
    match = _INITIALS.match(name)
    return f"{match['last']}, {match['init'].strip()}" if match else name


def split_authors(authors: object) -> list[str]:
    """The authors of a record (``; ``-separated in the record table; some exports join
    them with `` and ``), each 'Last, First'."""
    text = _text(authors)
    names = text.split(";") if ";" in text else re.split(r"\s+and\s+", text)
    return [author_name(a) for a in names if a.strip()]


def doi_of(value: object) -> str:
    """The DOI alone: a DOI holds no whitespace, so anything after it (a link some exports
    append in the same field) is left out."""
    text = _text(value)
    return text.split()[0] if text else ""


def split_pages(pages: object) -> tuple[str, str]:
    """Start and end page; MEDLINE's shortened end page ('1299-309') written out ('1309')."""
    text = _text(pages)
    if not text:
        return "", ""
    parts = [p.strip() for p in re.split(r"\s*[-\u2013]+\s*", text, maxsplit=1)]
    if len(parts) == 1 or not parts[1]:
        return parts[0], ""
    start, end = parts
    if start.isdigit() and end.isdigit() and len(end) < len(start):
        end = start[:len(start) - len(end)] + end
    return start, end


def _references(unique: pd.DataFrame, ids: Iterable[str], notes: dict[str, str],
                keywords: dict[str, str], what: str) -> pd.DataFrame:
    ids = pd.Series(list(ids), dtype=object)
    known = ids.isin(unique["record_id"])
    if not known.all():
        raise InputError("dedup/unique.tsv", f"{what} record {ids[~known].iloc[0]} is not a "
                         "record of the deduplicated table", field="record_id")
    # One lookup for every id (a row per id, in the order given), not one per id.
    records = unique.drop_duplicates("record_id").set_index("record_id", drop=False).reindex(
        ids)
    table = pd.DataFrame({c: (records[c].map(_text).to_numpy() if c in records.columns
                              else "") for c in REFERENCE_COLUMNS
                          if c not in ("keywords", "note")}, index=range(len(ids)))
    table["doi"] = table["doi"].map(doi_of)
    table["keywords"] = ids.map(keywords).to_numpy()
    table["note"] = ids.map(notes).to_numpy()
    return table.loc[:, REFERENCE_COLUMNS]


def included_references(unique: pd.DataFrame, included: pd.DataFrame) -> pd.DataFrame:
    """The reports of the included studies, by study (main report first), each noted with
    its study."""
    order = included.assign(_main=(included["role"] != "main").astype(int)).sort_values(
        ["study_id", "_main", "record_id"], kind="mergesort")
    notes = {r.record_id: f"Included: study {r.study_id} ({r.role} report)"
             for r in order.itertuples()}
    keywords = {r.record_id: "sysrev: included" for r in order.itertuples()}
    table = _references(unique, order["record_id"], notes, keywords, "included")
    log.info("included_references: %d reports of %d studies", len(table),
             included["study_id"].nunique())
    return table


def excluded_references(unique: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Every excluded record, full-text exclusions first, with the stage and reason."""
    excluded = final[final["final_decision"] == "exclude"].copy()
    excluded["_stage"] = excluded["stage"].map(STAGE_ORDER).fillna(len(STAGE_ORDER))
    excluded["reason"] = excluded["reason"].fillna("")
    excluded = excluded.sort_values(["_stage", "reason", "record_id"], kind="mergesort")
    notes, keywords = {}, {}
    for r in excluded.itertuples():
        stage = STAGE_NAMES.get(r.stage, r.stage)
        notes[r.record_id] = (f"Excluded at {stage}: "
                              f"{_text(r.reason) or 'no reason recorded'}")
        keywords[r.record_id] = f"sysrev: excluded at {stage}"
    table = _references(unique, excluded["record_id"], notes, keywords, "excluded")
    log.info("excluded_references: %d records (%d at full text)", len(table),
             int((excluded["stage"] == "full_text").sum()))
    return table


def ris_text(references: pd.DataFrame) -> str:
    """The references as RIS (``TY`` ... ``ER``), one tag per line."""
    out = []
    for r in references.itertuples(index=False):
        lines = [("TY", "JOUR" if r.journal else "GEN"), ("ID", r.record_id),
                 ("TI", display_title(r.title))]
        lines += [("AU", a) for a in split_authors(r.authors)]
        start, end = split_pages(r.pages)
        lines += [("PY", r.year), ("T2", r.journal), ("VL", r.volume), ("IS", r.issue),
                  ("SP", start), ("EP", end), ("DO", r.doi),
                  ("AN", f"PMID: {r.pmid}" if r.pmid else ""),
                  ("LA", r.language), ("AB", r.abstract), ("KW", r.keywords),
                  ("N1", r.note)]
        out.extend(f"{tag}  - {value}" for tag, value in lines if value)
        out.append("ER  - ")
        out.append("")
    return "\n".join(out)


_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&",
                   "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX field (LaTeX special characters escaped)."""
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in text)


def bibtex_key(record_id: str) -> str:
    """A citation key from a record id ('pubmed:18438830' -> 'pubmed_18438830')."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", record_id).strip("_")


def bibtex_text(references: pd.DataFrame) -> str:
    """The references as BibTeX (``@article``, or ``@misc`` without a journal)."""
    entries, keys = [], set()
    for r in references.itertuples(index=False):
        key = bibtex_key(r.record_id)
        if key in keys:
            raise ValueError(f"bibtex_text: two records give the key {key}")
        keys.add(key)
        start, end = split_pages(r.pages)
        fields = [("title", display_title(r.title)), ("author", " and ".join(split_authors(r.authors))),
                  ("year", r.year), ("journal", r.journal), ("volume", r.volume),
                  ("number", r.issue), ("pages", f"{start}--{end}" if end else start),
                  ("doi", r.doi), ("pmid", r.pmid), ("language", r.language),
                  ("abstract", r.abstract), ("keywords", r.keywords), ("note", r.note)]
        body = ",\n".join(f"  {name} = {{{bibtex_escape(value)}}}"
                          for name, value in fields if value)
        entries.append(f"@{'article' if r.journal else 'misc'}{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


def _count(value: object) -> object:
    """A count as an integer when it is one (38.0 -> 38), else as is (a split control)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    x = float(value)
    return int(x) if x.is_integer() else x


def metafor_table(effects: pd.DataFrame, *, measure: str, kind: str) -> pd.DataFrame:
    """One analysis as metafor reads it: ``escalc(measure, ai=..., data=...)`` recomputes
    ``yi``/``vi`` from the raw cells of arm-level rows; contrast-level rows have ``yi``/``vi``
    only.

    Parameters
    ----------
    effects
        The outcome's ``effects.tsv`` (numeric columns as numbers).
    measure
        The effect measure (metafor's name: MD, SMD, RR, OR, RD, PETO).
    kind
        ``binary`` or ``continuous``.
    """
    if kind not in METAFOR_CELLS:
        raise ValueError(f"metafor_table: unknown outcome type '{kind}'")
    e = effects
    out = pd.DataFrame({"study_id": e["study_id"], "slab": e["label"], "year": e["year"],
                        "comparison": e["comparison"], "subgroup": e["subgroup"],
                        "measure": measure, "data_level": e["data_level"]})
    n1 = [_count(v) for v in e["n_treatment"]]
    n2 = [_count(v) for v in e["n_control"]]
    if kind == "binary":
        ai = [_count(v) for v in e["events_treatment"]]
        ci = [_count(v) for v in e["events_control"]]
        out["ai"] = ai
        out["bi"] = [None if a is None or n is None else _count(n - a) for a, n in zip(ai, n1)]
        out["ci"] = ci
        out["di"] = [None if c is None or n is None else _count(n - c) for c, n in zip(ci, n2)]
        out["n1i"], out["n2i"] = n1, n2
    else:
        out["m1i"], out["sd1i"], out["n1i"] = e["mean_treatment"], e["sd_treatment"], n1
        out["m2i"], out["sd2i"], out["n2i"] = e["mean_control"], e["sd_control"], n2
    for column in METAFOR_EFFECT:
        out[column] = e[column]
    columns = METAFOR_ID + METAFOR_CELLS[kind] + METAFOR_EFFECT
    return out.loc[:, columns]
