#!/usr/bin/env python3
"""Build the bundled review's input files from the shared corpus of real records.

Usage (from the repository root)::

    python data/denosumab_ra/assemble/build_inputs.py [CORPUS_DIR]

CORPUS_DIR defaults to ``../shared/corpus`` relative to the repository root and must hold
``denosumab_ra_records.jsonl``. Standard library only; the output is byte-for-byte the same
on every run for the same corpus file.

Written (all under ``data/denosumab_ra/``):

* ``search/pubmed/2024-12-31/records.xml`` + ``provenance.json``  (E-utilities efetch XML layout)
* ``search/pubmed/2025-06-30/records.xml`` + ``provenance.json``
* ``exports/embase.ris``   (Embase.com RIS layout, UTF-8 with BOM)
* ``exports/wos.txt``      (Web of Science tagged plain-text layout)
* ``exports/central.ris``  (Cochrane Library CENTRAL RIS layout with the Wiley wrapper lines)
* ``search/searches.tsv``  (one row per source)
* ``README.md``            (what the files are, counts, and the per-record table)

Nothing is invented: every value written comes from the corpus record (re-laid in each
database's layout), a field that is null in the corpus is left out, and a record whose title is
null is left out of every file. The only made-up values are the database accession numbers the
corpus cannot have; they are project-assigned and clearly marked: ``SYSREV-EMB-nnnn`` (Embase
``U2``), ``SYSREV-WOS-nnnn`` (WoS ``UT``), ``SYSREV-CEN-nnnn`` (CENTRAL ``AN``), numbered
1, 2, ... in corpus line order within each file.

Which record goes to which source: see ``select()`` and the rules documented there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import textwrap
from pathlib import Path
from xml.sax.saxutils import escape

CORPUS_FILE = "denosumab_ra_records.jsonl"
REVIEW_DIR = Path(__file__).resolve().parents[1]          # data/denosumab_ra
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CORPUS = REPO_ROOT / ".." / "shared" / "corpus"

PUBMED_QUERY = ('(denosumab[tiab] OR "AMG 162"[tiab] OR prolia[tiab]) AND '
                '(arthritis, rheumatoid[mh] OR rheumatoid arthritis[tiab])')
EMBASE_QUERY = ("('denosumab'/exp OR denosumab:ti,ab,kw OR 'amg 162':ti,ab,kw OR "
                "prolia:ti,ab,kw) AND ('rheumatoid arthritis'/exp OR "
                "'rheumatoid arthritis':ti,ab,kw)")
WOS_QUERY = 'TS=(denosumab OR "AMG 162" OR prolia) AND TS=("rheumatoid arthritis")'
CENTRAL_QUERY = ('(denosumab OR "AMG 162" OR prolia):ti,ab,kw AND '
                 '([mh "Arthritis, Rheumatoid"] OR "rheumatoid arthritis":ti,ab,kw)')

PUBMED_SNAPSHOTS = ("2024-12-31", "2025-06-30")
EXPORT_DATE = "2025-06-30"
GATHERED = "2026-11-21"

DOCTYPE = ('<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
           '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">')


# --------------------------------------------------------------------------------------------
# Reading the corpus
# --------------------------------------------------------------------------------------------

def load_corpus(corpus_dir: Path) -> tuple[list[dict], str]:
    """The corpus records (each with its 1-based line number as ``line``) and the file's SHA-256."""
    path = corpus_dir / CORPUS_FILE
    raw = path.read_bytes()
    records = []
    for number, text in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        rec = json.loads(text)
        rec["line"] = number
        records.append(rec)
    return records, hashlib.sha256(raw).hexdigest()


def is_near_miss(rec: dict) -> bool:
    return (rec.get("topic_note") or "").startswith("Near-miss:")


def year_of(rec: dict) -> int:
    """The record's year as an int, 0 when the corpus has none (only used for comparisons)."""
    return int(rec["year"]) if rec.get("year") is not None else 0


# --------------------------------------------------------------------------------------------
# Selection rules
# --------------------------------------------------------------------------------------------

_TRIAL_NOTE = re.compile(r"\btrials?\b|\bRCTs?\b|randomi[sz]ed|\bphase\b", re.IGNORECASE)
_TRIAL_TITLE = re.compile(r"randomi[sz]ed", re.IGNORECASE)
_NOT_TRIAL = re.compile(r"non-randomi[sz]ed|meta-analysis|systematic review|pooled analysis|"
                        r"\bletter\b|correspondence", re.IGNORECASE)


def is_trial_like(rec: dict) -> bool:
    """CENTRAL's rule: a trial report, as far as the corpus's own words say so.

    Trial-like = the ``topic_note`` mentions trial / RCT / randomised / phase, or the title says
    randomised; but not when the note, title or displayed publication type says it is a
    non-randomised study, a meta-analysis, a systematic review, a pooled analysis, a letter or
    correspondence (CENTRAL holds reports of trials, not reviews of them or comments on them).
    """
    note = rec.get("topic_note") or ""
    title = rec.get("title") or ""
    if not (_TRIAL_NOTE.search(note) or _TRIAL_TITLE.search(title)):
        return False
    context = " ".join([note, title] + list(rec.get("publication_types") or []))
    return not _NOT_TRIAL.search(context)


def select(records: list[dict]) -> dict[str, list[dict]]:
    """Which corpus records each file holds. Every list is in corpus line order.

    Rule 0  (all files): a record with a null title is in no file.
    PubMed 2025-06-30:   titled records with a PMID.
    PubMed 2024-12-31:   those of them whose year is <= 2024 or null (the 2025-06-30 snapshot
                         is a superset; the records it adds are the year-2025 ones).
    CENTRAL:             titled records that are trial-like (``is_trial_like``).
    Embase:              titled records with a journal named, except near-misses (``topic_note``
                         starts "Near-miss:") that have neither a PMID nor a year >= 2015.
    Web of Science:      titled records that meet any of
                         (a) a DOI, a year >= 2021, and not a near-miss;
                         (b) a journal named, no DOI, no PMID, and a year >= 2015;
                         (c) in none of PubMed 2025-06-30, Embase and CENTRAL (so that every
                             titled corpus record is found by at least one source).
    """
    titled = [r for r in records if r.get("title")]
    pubmed_new = [r for r in titled if r.get("pmid")]
    pubmed_old = [r for r in pubmed_new if r.get("year") is None or year_of(r) <= 2024]
    central = [r for r in titled if is_trial_like(r)]
    embase = [r for r in titled if r.get("journal")
              and (not is_near_miss(r) or r.get("pmid") or year_of(r) >= 2015)]
    elsewhere = {r["line"] for r in pubmed_new + embase + central}
    wos = [r for r in titled
           if (r.get("doi") and year_of(r) >= 2021 and not is_near_miss(r))
           or (r.get("journal") and not r.get("doi") and not r.get("pmid")
               and year_of(r) >= 2015)
           or r["line"] not in elsewhere]
    return {
        "pubmed_2024": pubmed_old,
        "pubmed": pubmed_new,
        "embase": embase,
        "wos": wos,
        "central": central,
    }


# --------------------------------------------------------------------------------------------
# Names and pages
# --------------------------------------------------------------------------------------------

_LATIN_NAME = re.compile(r"^(?P<last>[^\W\d_][\w'’.\- ]*?) (?P<initials>[A-Z]{1,4})$")
_LATIN_LETTERS = re.compile(r"^[\u0000-\u024F\u1E00-\u1EFF'’.\- ]+$")


def split_name(name: str) -> tuple[str, str | None]:
    """("Takeuchi", "T") from "Takeuchi T"; (name, None) when it cannot be split.

    Only a name in Latin script whose last word is 1-4 capital letters A-Z (the PubMed
    initials) is split. A name in another script (Cyrillic, Chinese) or any other shape is
    returned whole, as given.
    """
    name = name.strip()
    if not _LATIN_LETTERS.match(name):
        return name, None
    match = _LATIN_NAME.match(name)
    if not match:
        return name, None
    return match.group("last"), match.group("initials")


def name_comma(name: str) -> str:
    """WoS / CENTRAL style: "Takeuchi, T"; unsplittable names as given."""
    last, initials = split_name(name)
    return f"{last}, {initials}" if initials else last


def name_embase(name: str) -> str:
    """Embase style: "Takeuchi T.", "Genant H.K."; unsplittable names as given."""
    last, initials = split_name(name)
    return f"{last} {'.'.join(initials)}." if initials else last


def split_pages(pages: str | None) -> tuple[str | None, str | None]:
    """("1299", "309") from "1299-309", kept as given (the end page is not expanded)."""
    if not pages:
        return None, None
    if "-" in pages:
        start, _, end = pages.partition("-")
        return start.strip() or None, end.strip() or None
    return pages.strip(), None


def document_type(rec: dict) -> str | None:
    """The first publication-type label the source page displayed, skipping the MEDLINE
    "Research Support, ..." labels (they are funding notes, not document types)."""
    for label in rec.get("publication_types") or []:
        if not label.startswith("Research Support"):
            return label
    return None


def short_title(title: str, width: int = 60) -> str:
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------
# PubMed efetch XML
# --------------------------------------------------------------------------------------------

_AUTHORS_CUT = re.compile(r"author (list|names?) (is |are )?cut off", re.IGNORECASE)


def pubmed_article(rec: dict) -> list[str]:
    """One ``<PubmedArticle>`` in the efetch layout, indented like efetch's own output."""
    e = lambda value: escape(str(value))  # noqa: E731
    out = ["<PubmedArticle>", "    <MedlineCitation>",
           f'        <PMID Version="1">{e(rec["pmid"])}</PMID>',
           "        <Article>", "            <Journal>",
           "                <JournalIssue>"]
    if rec.get("volume"):
        out.append(f"                    <Volume>{e(rec['volume'])}</Volume>")
    if rec.get("issue"):
        out.append(f"                    <Issue>{e(rec['issue'])}</Issue>")
    if rec.get("year") is not None:
        out += ["                    <PubDate>",
                f"                        <Year>{e(rec['year'])}</Year>",
                "                    </PubDate>"]
    out.append("                </JournalIssue>")
    if rec.get("journal"):
        out.append(f"                <ISOAbbreviation>{e(rec['journal'])}</ISOAbbreviation>")
    out.append("            </Journal>")
    out.append(f"            <ArticleTitle>{e(rec['title'])}</ArticleTitle>")
    if rec.get("pages"):
        out += ["            <Pagination>",
                f"                <MedlinePgn>{e(rec['pages'])}</MedlinePgn>",
                "            </Pagination>"]
    if rec.get("authors"):
        complete = "N" if _AUTHORS_CUT.search(rec.get("topic_note") or "") else "Y"
        out.append(f'            <AuthorList CompleteYN="{complete}">')
        for name in rec["authors"]:
            last, initials = split_name(name)
            out.append('                <Author ValidYN="Y">')
            out.append(f"                    <LastName>{e(last)}</LastName>")
            if initials:
                out.append(f"                    <Initials>{e(initials)}</Initials>")
            out.append("                </Author>")
        out.append("            </AuthorList>")
    if rec.get("publication_types"):
        out.append("            <PublicationTypeList>")
        for label in rec["publication_types"]:
            out.append(f"                <PublicationType>{e(label)}</PublicationType>")
        out.append("            </PublicationTypeList>")
    out.append("        </Article>")
    if rec.get("journal"):
        out += ["        <MedlineJournalInfo>",
                f"            <MedlineTA>{e(rec['journal'])}</MedlineTA>",
                "        </MedlineJournalInfo>"]
    out += ["    </MedlineCitation>", "    <PubmedData>", "        <ArticleIdList>",
            f'            <ArticleId IdType="pubmed">{e(rec["pmid"])}</ArticleId>']
    if rec.get("doi"):
        out.append(f'            <ArticleId IdType="doi">{e(rec["doi"])}</ArticleId>')
    out += ["        </ArticleIdList>", "    </PubmedData>", "</PubmedArticle>"]
    return out


def pubmed_xml(recs: list[dict]) -> str:
    lines = ['<?xml version="1.0" ?>', DOCTYPE, "<PubmedArticleSet>"]
    for rec in recs:
        lines += pubmed_article(rec)
    lines.append("</PubmedArticleSet>")
    return "\n".join(lines) + "\n"


def pubmed_provenance(recs: list[dict], search_date: str, xml: str) -> str:
    # The XML file's SHA-256, checked whenever the snapshot is read (sysrev.search.snapshot).
    import hashlib

    digest = hashlib.sha256(xml.encode("utf-8")).hexdigest()
    prov = {
        "database": "pubmed",
        "query": PUBMED_QUERY,
        "query_translation": None,
        "search_date": search_date,
        "date_type": "publication",
        "mindate": None,
        "maxdate": search_date.replace("-", "/"),
        "count": len(recs),
        "pmids": sorted((r["pmid"] for r in recs), key=int),
        "files": [{"file": "records.xml", "records": len(recs), "sha256": digest}],
        "retrieved_at": None,
        "retrieval": "assembled",
        "note": (f"Assembled by the sysrev project from public web pages (PubMed and its "
                 f"mirrors, PMC, publisher pages, library catalogues) gathered {GATHERED} "
                 "(see data/denosumab_ra/README.md); not a verbatim E-utilities response. "
                 "No abstracts."),
        "biopython_version": None,
        "sysrev_version": None,
    }
    return json.dumps(prov, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------
# Embase RIS (layout of an Embase.com RIS export: BOM, LF, "XX  - value", "ER  -")
# --------------------------------------------------------------------------------------------

def embase_record(rec: dict, accession: str) -> list[str]:
    tag = lambda t, v: f"{t}  - {v}"  # noqa: E731
    sp, ep = split_pages(rec.get("pages"))
    out = [tag("TY", "JOUR")]
    if document_type(rec):
        out.append(tag("M3", document_type(rec)))
    if rec.get("year") is not None:
        out.append(tag("Y1", rec["year"]))
    if rec.get("volume"):
        out.append(tag("VL", rec["volume"]))
    if rec.get("issue"):
        out.append(tag("IS", rec["issue"]))
    if sp:
        out.append(tag("SP", sp))
    if ep:
        out.append(tag("EP", ep))
    if rec.get("journal"):
        out.append(tag("JF", rec["journal"]))
        out.append(tag("JO", rec["journal"]))
    out.append(tag("U2", accession))
    if rec.get("pmid"):
        out.append(tag("C5", rec["pmid"]))   # Embase prints the MEDLINE PMID in C5
    out.append(tag("DB", "Embase"))
    if rec.get("doi"):
        out.append(tag("DO", rec["doi"]))
    for name in rec.get("authors") or []:
        out.append(tag("A1", name_embase(name)))
    out.append(tag("T1", rec["title"]))
    out.append("ER  -")
    return out


def embase_ris(recs: list[dict], ids: dict[int, str]) -> str:
    blocks = ["\n".join(embase_record(r, ids[r["line"]])) for r in recs]
    return "\ufeff" + "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------------------------
# Web of Science tagged text (FN/VR header, "XX value", 3-space continuation lines, ER, EF)
# --------------------------------------------------------------------------------------------

WOS_WIDTH = 70


def wos_field(tag: str, values: list[str] | str, wrap: bool = True) -> list[str]:
    """A field: first line ``"TG value"``, each further line or value indented by 3 spaces."""
    if isinstance(values, str):
        values = [values]
    lines: list[str] = []
    for value in values:
        parts = textwrap.wrap(value, width=WOS_WIDTH, break_long_words=False,
                              break_on_hyphens=False) if wrap else [value]
        lines += parts or [value]
    return [f"{tag} {lines[0]}"] + [f"   {line}" for line in lines[1:]]


def wos_record(rec: dict, accession: str) -> list[str]:
    bp, ep = split_pages(rec.get("pages"))
    out = ["PT J"]
    if rec.get("authors"):
        out += wos_field("AU", [name_comma(n) for n in rec["authors"]], wrap=False)
    out += wos_field("TI", rec["title"])
    if rec.get("journal"):
        out += wos_field("SO", rec["journal"].upper())
    if document_type(rec):
        out += wos_field("DT", document_type(rec))
    if rec.get("year") is not None:
        out.append(f"PY {rec['year']}")
    if rec.get("volume"):
        out.append(f"VL {rec['volume']}")
    if rec.get("issue"):
        out.append(f"IS {rec['issue']}")
    if bp:
        out.append(f"BP {bp}")
    if ep:
        out.append(f"EP {ep}")
    if rec.get("doi"):
        out.append(f"DI {rec['doi']}")
    out.append(f"UT {accession}")
    if rec.get("pmid"):
        out.append(f"PM {rec['pmid']}")
    out.append("ER")
    return out


def wos_txt(recs: list[dict], ids: dict[int, str]) -> str:
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for rec in recs:
        lines += wos_record(rec, ids[rec["line"]])
        lines.append("")
    lines.append("EF")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Cochrane CENTRAL RIS (Wiley wrapper lines, "XX  -  value" with two spaces after the hyphen)
# --------------------------------------------------------------------------------------------

def central_record(rec: dict, accession: str, number: int, total: int) -> list[str]:
    tag = lambda t, v: f"{t}  -  {v}"  # noqa: E731
    out = [f"Record #{number} of {total}", "Provider: John Wiley & Sons, Ltd.",
           'Content: text/plain; charset="UTF-8"', "", tag("TY", "JOUR"), tag("AN", accession)]
    for name in rec.get("authors") or []:
        out.append(tag("AU", name_comma(name)))
    out.append(tag("TI", rec["title"]))
    if rec.get("journal"):
        out.append(tag("JA", rec["journal"]))
    if rec.get("year") is not None:
        out.append(tag("PY", rec["year"]))
    if rec.get("volume"):
        out.append(tag("VL", rec["volume"]))
    if rec.get("issue"):
        out.append(tag("IS", rec["issue"]))
    if rec.get("pages"):
        out.append(tag("SP", rec["pages"]))   # CENTRAL prints the whole page range in SP
    if rec.get("pmid"):
        out.append(tag("C3", f"PUBMED {rec['pmid']}"))
    if rec.get("doi"):
        out.append(tag("DO", rec["doi"]))
    out.append("ER  -  ")
    return out


def central_ris(recs: list[dict], ids: dict[int, str]) -> str:
    blocks = ["\n".join(central_record(r, ids[r["line"]], n, len(recs)))
              for n, r in enumerate(recs, start=1)]
    return "\n\n\n".join(blocks) + "\n\n"


# --------------------------------------------------------------------------------------------
# searches.tsv
# --------------------------------------------------------------------------------------------

def searches_tsv() -> str:
    note = ("Assembled from real bibliographic records gathered " + GATHERED
            + "; not a verbatim search result (see README.md)")
    rows = [
        ("source", "database", "platform", "file", "query", "search_date", "notes"),
        ("pubmed", "PubMed", "NCBI E-utilities",
         f"search/pubmed/{PUBMED_SNAPSHOTS[-1]}/records.xml", PUBMED_QUERY,
         PUBMED_SNAPSHOTS[-1], note + "; earlier snapshot search/pubmed/"
         + PUBMED_SNAPSHOTS[0] + "/records.xml"),
        ("embase", "Embase", "Embase.com", "exports/embase.ris", EMBASE_QUERY, EXPORT_DATE,
         note + "; accession numbers SYSREV-EMB-nnnn are project-assigned"),
        ("wos", "Web of Science Core Collection", "Web of Science (Clarivate)",
         "exports/wos.txt", WOS_QUERY, EXPORT_DATE,
         note + "; accession numbers SYSREV-WOS-nnnn are project-assigned"),
        ("central", "Cochrane Central Register of Controlled Trials (CENTRAL)",
         "Cochrane Library (Wiley)", "exports/central.ris", CENTRAL_QUERY, EXPORT_DATE,
         note + "; accession numbers SYSREV-CEN-nnnn are project-assigned"),
    ]
    for row in rows:
        assert not any("\t" in cell or "\n" in cell for cell in row)
    return "\n".join("\t".join(row) for row in rows) + "\n"


# --------------------------------------------------------------------------------------------
# Statistics and README
# --------------------------------------------------------------------------------------------

def statistics(sel: dict[str, list[dict]]) -> dict:
    """Counts over the four sources as identified (PubMed = the 2025-06-30 snapshot)."""
    sources = ("pubmed", "embase", "wos", "central")
    where: dict[int, list[str]] = {}
    recs: dict[int, dict] = {}
    for source in sources:
        for rec in sel[source]:
            where.setdefault(rec["line"], []).append(source)
            recs[rec["line"]] = rec
    total = sum(len(sel[s]) for s in sources)
    clusters = {"doi": 0, "pmid": 0, "title": 0}
    extra = {"doi": 0, "pmid": 0, "title": 0}
    for line, found in where.items():
        if len(found) < 2:
            continue
        rec = recs[line]
        key = "doi" if rec.get("doi") else "pmid" if rec.get("pmid") else "title"
        clusters[key] += 1
        extra[key] += len(found) - 1
    pairs = {}
    for i, a in enumerate(sources):
        for b in sources[i + 1:]:
            pairs[f"{a}+{b}"] = sum(1 for f in where.values() if a in f and b in f)
    return {"total": total, "distinct": len(where), "duplicates": total - len(where),
            "clusters": clusters, "extra": extra, "pairs": pairs, "where": where}


def dup_key(rec: dict, n_files: int) -> str:
    if n_files < 2:
        return ""
    return "DOI" if rec.get("doi") else "PMID" if rec.get("pmid") else "title only"


def readme(records, sel, ids, stats, corpus_sha) -> str:
    counts = {k: len(v) for k, v in sel.items()}
    untitled = [r for r in records if not r.get("title")]
    c, x = stats["clusters"], stats["extra"]
    md = []
    add = md.append
    add("# Input data of the bundled review: denosumab in rheumatoid arthritis\n")
    add("This folder holds the search results the bundled review starts from: two PubMed "
        "snapshots in E-utilities efetch XML layout and three database exports (Embase RIS, "
        "Web of Science tagged text, Cochrane CENTRAL RIS).\n")
    add("**Read this first.** These files are *assembled*, not downloaded. They are not the "
        "verbatim result of running the queries in `search/searches.tsv` on the search dates "
        "given there. Every bibliographic value in them is real: it comes from "
        f"`{CORPUS_FILE}` (105 records gathered on {GATHERED} from public web pages such as "
        "PubMed and its mirrors, PMC, publisher pages and library catalogues; see the corpus "
        "README in `../shared/corpus/`). The script `assemble/build_inputs.py` re-lays each "
        "record in the layout of each database's own export format, following real example "
        "exports. Nothing was filled in: a field the corpus has as null is absent from every "
        "file, and there are **no abstracts** (the corpus keeps none).\n")
    add("## Files\n")
    add("| file | layout | records |")
    add("|---|---|---|")
    add(f"| `search/pubmed/2024-12-31/records.xml` | E-utilities efetch XML (`PubmedArticleSet`, "
        f"DTD pubmed_250101) | {counts['pubmed_2024']} |")
    add(f"| `search/pubmed/2025-06-30/records.xml` | same | {counts['pubmed']} |")
    add(f"| `exports/embase.ris` | Embase.com RIS (UTF-8 with BOM, LF line ends) | "
        f"{counts['embase']} |")
    add(f"| `exports/wos.txt` | Web of Science tagged plain text (`FN`/`VR` header, `PT J` … "
        f"`ER`, `EF`) | {counts['wos']} |")
    add(f"| `exports/central.ris` | Cochrane Library CENTRAL RIS (Wiley `Record #n of m` "
        f"wrapper lines, `XX  -  value`) | {counts['central']} |")
    add("| `search/searches.tsv` | one row per source: database, platform, file, query, "
        "search date | 4 rows |")
    add("| `search/pubmed/*/provenance.json` | snapshot provenance (`retrieval: assembled`) | |")
    add("| `assemble/build_inputs.py` | the script that writes all of the above and this "
        "README | |")
    add("")
    add("Rebuild (standard library only; output is identical on every run):\n")
    add("```\npython data/denosumab_ra/assemble/build_inputs.py ../shared/corpus\n```\n")
    add(f"Built from `{CORPUS_FILE}` with SHA-256 `{corpus_sha}`.\n")
    add("## Totals\n")
    add(f"- Records identified (PubMed = the 2025-06-30 snapshot): **{stats['total']}** = "
        f"{counts['pubmed']} PubMed + {counts['embase']} Embase + {counts['wos']} WoS + "
        f"{counts['central']} CENTRAL.")
    add(f"- Distinct publications (corpus records) across the four sources: "
        f"**{stats['distinct']}**; duplicate records: **{stats['duplicates']}**.")
    add(f"- Publications found in more than one source: {sum(c.values())}. Matchable by "
        f"DOI: {c['doi']} (giving {x['doi']} duplicate records); by PMID but no DOI: "
        f"{c['pmid']} ({x['pmid']}); by title only (no DOI, no PMID): {c['title']} "
        f"({x['title']}).")
    add("- Publications shared by each pair of sources: "
        + ", ".join(f"{k} {v}" for k, v in stats["pairs"].items()) + ".")
    add(f"- The 2024-12-31 snapshot is a subset of the 2025-06-30 one; the "
        f"{counts['pubmed'] - counts['pubmed_2024']} record(s) added on 2025-06-30 are the "
        "year-2025 ones. Count the snapshots as one source, not as duplicates of each other.\n")
    add("## How each file was made\n")
    add("Which corpus record goes into which file is fixed by explicit rules (in `select()` "
        "of the script), applied in corpus line order:\n")
    add("- **All files:** a record whose title is null is in no file (see *Not used* below).")
    add("- **PubMed 2025-06-30:** every titled record with a PMID. **PubMed 2024-12-31:** "
        "those of them whose year is 2024 or earlier, or null.")
    add("- **CENTRAL:** titled *trial-like* records: the corpus `topic_note` mentions "
        "trial / RCT / randomised / phase, or the title says randomised; minus records whose "
        "note, title or displayed publication type says non-randomised, meta-analysis, "
        "systematic review, pooled analysis, letter or correspondence.")
    add("- **Embase:** titled records with a journal named, except near-misses (note starts "
        "`Near-miss:`) that have neither a PMID nor a year of 2015 or later.")
    add("- **Web of Science:** titled records with (a) a DOI, a year of 2021 or later, and not "
        "a near-miss; or (b) a journal named, no DOI, no PMID and a year of 2015 or later; or "
        "(c) no place in PubMed, Embase or CENTRAL (so every titled record is found by at "
        "least one source).")
    add("")
    add("The rules only make overlapping subsets with real cross-database duplicates (the "
        "same DOI or PMID in several files, and records without DOI or PMID that match only by "
        "title). They do not claim that the real databases index exactly these records.\n")
    add("Layout details, per file:\n")
    add("- **PubMed XML:** `MedlineCitation/PMID`, `Article/Journal` (`JournalIssue` with "
        "`Volume`, `Issue`, `PubDate/Year`; `ISOAbbreviation`), `ArticleTitle`, "
        "`Pagination/MedlinePgn`, `AuthorList` (`LastName` + `Initials` split from "
        "\"Takeuchi T\"; a name that cannot be split, e.g. in non-Latin script, is put whole "
        "into `LastName`), `PublicationTypeList` (only the labels the source page showed), "
        "`MedlineJournalInfo/MedlineTA` (the journal as given), and "
        "`PubmedData/ArticleIdList` with the `pubmed` and `doi` ids. Titles are as given "
        "(no closing full stop added). Elements the corpus has no value for are left out, "
        "even where the DTD requires them (`Language`, `PubDate` when the year is null, "
        "`MedlineJournalInfo` when no journal is named, the `Status`/`Owner` attributes); "
        "so the files follow the DTD's element names and nesting but are not strictly "
        "DTD-valid. Biopython 1.88 `Entrez.read` reads them with the `pubmed_250101.dtd` it "
        "ships (checked with network access blocked). `Entrez.parse` is not usable: under "
        "this DTD Biopython 1.88 treats `PubmedArticleSet` as a dictionary, not a list, and "
        "raises \"The XML file does not represent a list\" for every efetch file, the "
        "real ones in Biopython's own tests included.")
    add("- **Embase RIS:** `TY JOUR`, `M3` (first displayed publication type, skipping "
        "`Research Support, ...` labels), `Y1`, `VL`, `IS`, `SP`/`EP` (pages split at the "
        "hyphen and kept as given, e.g. `1299-309` → `SP 1299`, `EP 309`), `JF` and `JO` "
        "(both the journal string as given; the corpus has no full journal titles), `U2` "
        "(accession, project-assigned `SYSREV-EMB-nnnn`), `C5` (PMID, where Embase puts the "
        "MEDLINE PMID), `DB Embase`, `DO`, `A1` one per author in Embase style "
        "(`Takeuchi T.`, `Genant H.K.`), `T1`, `ER`. No `UR`/`L2` links (they would point to "
        "accession numbers that do not exist).")
    add("- **WoS:** header `FN Clarivate Analytics Web of Science` / `VR 1.0`, no BOM (as in "
        "both WoS examples), records `PT J` … `ER` separated by blank lines, `EF` at the end. "
        "`AU` as `Takeuchi, T`, one per line with 3-space continuation lines; `TI` and `SO` "
        f"wrapped at {WOS_WIDTH} characters with 3-space continuation lines; `SO` is the "
        "journal string as given, upper-cased; `DT` as `M3` above; `PY`, `VL`, `IS`, `BP`/`EP` "
        "(split as for Embase), `DI`, `UT` (project-assigned `SYSREV-WOS-nnnn`), `PM` (PMID "
        "when known). `PT J` is written for every record, including the one master's thesis "
        "(line 76), because the WoS tagged format has no thesis type. Records that have no "
        "journal named have no `SO` line.")
    add("- **CENTRAL RIS:** Wiley wrapper lines `Record #n of m`, `Provider: John Wiley & "
        "Sons, Ltd.`, `Content: text/plain; charset=\"UTF-8\"`, a blank line, then "
        "`TY  -  JOUR` (two spaces after the hyphen, as Wiley prints it), `AN` "
        "(project-assigned `SYSREV-CEN-nnnn`), `AU` as `Takeuchi, T`, `TI`, `JA`, `PY`, "
        "`VL`, `IS`, `SP` (the whole page range as given), `C3  -  PUBMED <pmid>`, `DO`, "
        "`ER  -  `. Records are separated by two blank lines as in the example.")
    add("")
    add("Project-assigned ids: `SYSREV-EMB-nnnn`, `SYSREV-WOS-nnnn` and `SYSREV-CEN-nnnn` "
        "stand in for the Embase accession number, the WoS UT and the CENTRAL CN-number, which "
        "the corpus does not have. They are numbered 1, 2, … in corpus line order within each "
        "file, so they stay the same as long as the corpus and the rules do not change. They "
        "are not real database accession numbers.\n")
    add((Path(__file__).resolve().parent / "screening_and_extraction.md").read_text(
        encoding="utf-8").rstrip("\n") + "\n")
    add("## Not used\n")
    add(f"{len(untitled)} corpus records have a null title and are in no file (a record "
        "without a title cannot be screened, and a title must never be invented):\n")
    add("| line | pmid | doi | why the title is missing (corpus topic_note) |")
    add("|---|---|---|---|")
    for r in untitled:
        add(f"| {r['line']} | {r.get('pmid') or ''} | {r.get('doi') or ''} | "
            f"{md_cell(r.get('topic_note') or '')} |")
    add("")
    add("## Records per file\n")
    add("One row per corpus record that is in at least one file. `line` is the line number in "
        f"`{CORPUS_FILE}`; the source columns give the record's id in that file (PubMed: ✓ "
        "when present; the 2024-12-31 column says whether it is also in the earlier "
        "snapshot). `dup` says how a duplicate can be matched across files: by DOI, by PMID "
        "(no DOI), or by title only.\n")
    add("| line | pmid | doi | title | pubmed 2024-12-31 | pubmed 2025-06-30 | embase | wos | "
        "central | dup |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    in_old = {r["line"] for r in sel["pubmed_2024"]}
    for r in records:
        line = r["line"]
        found = stats["where"].get(line)
        if not found:
            continue
        add(f"| {line} | {r.get('pmid') or ''} | {md_cell(r.get('doi') or '')} | "
            f"{md_cell(short_title(r['title']))} | "
            f"{'✓' if line in in_old else ''} | {'✓' if 'pubmed' in found else ''} | "
            f"{ids['embase'].get(line, '')} | {ids['wos'].get(line, '')} | "
            f"{ids['central'].get(line, '')} | {dup_key(r, len(found))} |")
    add("")
    return "\n".join(md).rstrip("\n") + "\n"


def md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------------------------

def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS),
                        help="folder holding denosumab_ra_records.jsonl "
                             "(default: ../shared/corpus relative to the repository root)")
    args = parser.parse_args(argv)
    records, sha = load_corpus(Path(args.corpus))
    sel = select(records)
    ids = {
        "embase": {r["line"]: f"SYSREV-EMB-{n:04d}" for n, r in enumerate(sel["embase"], 1)},
        "wos": {r["line"]: f"SYSREV-WOS-{n:04d}" for n, r in enumerate(sel["wos"], 1)},
        "central": {r["line"]: f"SYSREV-CEN-{n:04d}" for n, r in enumerate(sel["central"], 1)},
    }
    out = REVIEW_DIR
    for date, key in zip(PUBMED_SNAPSHOTS, ("pubmed_2024", "pubmed")):
        xml = pubmed_xml(sel[key])
        write(out / "search" / "pubmed" / date / "records.xml", xml)
        write(out / "search" / "pubmed" / date / "provenance.json",
              pubmed_provenance(sel[key], date, xml))
    write(out / "exports" / "embase.ris", embase_ris(sel["embase"], ids["embase"]))
    write(out / "exports" / "wos.txt", wos_txt(sel["wos"], ids["wos"]))
    write(out / "exports" / "central.ris", central_ris(sel["central"], ids["central"]))
    write(out / "search" / "searches.tsv", searches_tsv())
    stats = statistics(sel)
    write(out / "README.md", readme(records, sel, ids, stats, sha))
    c, x = stats["clusters"], stats["extra"]
    print(f"pubmed 2024-12-31: {len(sel['pubmed_2024'])}; pubmed 2025-06-30: "
          f"{len(sel['pubmed'])}; embase: {len(sel['embase'])}; wos: {len(sel['wos'])}; "
          f"central: {len(sel['central'])}")
    print(f"identified {stats['total']}, distinct {stats['distinct']}, duplicates "
          f"{stats['duplicates']} (clusters doi {c['doi']}/pmid {c['pmid']}/title {c['title']};"
          f" extra records doi {x['doi']}/pmid {x['pmid']}/title {x['title']})")
    print("pairs: " + ", ".join(f"{k} {v}" for k, v in stats["pairs"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
