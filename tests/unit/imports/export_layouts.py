"""Test helper: write synthetic records in the export layouts of seven tools.

The import tests need files laid out exactly as Scopus, Embase.com, EndNote, Mendeley,
Zotero, Covidence (EndNote-style RIS) and Ovid (ERIC) write them, but must not ship other
projects' exports. This module holds ten clearly synthetic records (titles "Synthetic record
N: …", DOIs under the ``10.5555`` example prefix, made-up names and accession numbers) and one
writer per layout that reproduces each tool's structure:

=======================  ==================================================================
layout                   what the writer reproduces
=======================  ==================================================================
``scopus_csv``           UTF-8 with BOM, LF, every cell quoted, the 46 columns of a Scopus
                         CSV export in Scopus's order (``Art. No.``, ``Page start``,
                         ``Page end``, ``PubMed ID``, ``EID`` …)
``embase_csv``           Embase.com CSV: ``"SEARCH QUERY","…"`` line, a rule of dashes and a
                         blank line before the 49-column header; non-empty cells quoted
                         except ``Medline PMID``, ``PUI`` and ``DOI``; some empty cells ``""``
                         and others bare, as Embase writes them
``endnote_ris``          EndNote re-export: tags in alphabetical order then ``ID`` (the
                         EndNote record number) and ``ER  - ``; several values of one tag
                         (``KW``, ``DB``, ``N1``, ``SN``) as untagged continuation lines;
                         pages as one ``SP`` value (``101-109``)
``mendeley_ris``         Mendeley re-export: ``KW`` sorted, ``SP``/``EP``, initials without
                         dots (``Okafor, C``), ``ER  -`` without a trailing space and no blank
                         line between records
``zotero_ris``           Zotero re-export: CRLF line ends, Zotero's tag order (``TI AU T2 AB
                         DA PY DO`` …), ``DA  - 2024///``, ``J2`` abbreviation, ``L2`` link
``covidence_endnote_ris``  Covidence's "EndNote" RIS: a fixed tag list in which empty tags are
                         still written (``PD  - ``, ``AN  - ``), ``JO``, ``N2``, ``PG`` + ``SP``
``ovid_eric_ris``        Ovid RIS (ERIC): a search-result numbering line (``6. ``) before
                         each record, ``T1``/``A1`` with full given names, ``Y1  - 1989//``,
                         ``JF``, ``N2``, ``ER  -  `` and blank / single-space separator lines;
                         the DOI only as an ``L1`` link, as ERIC writes it
=======================  ==================================================================

Tricky content carried by the records: a title with an embedded double quote, commas and a
line break (record 3), authors with diacritics and multi-word family names (``Müller``,
``Ó Súilleabháin``, ``Dvořák``, ``dos Santos``), a record with an article number instead of
pages (record 2), a record with no DOI, PMID, issue or abstract (record 4), a single-page
record, a supplement issue.

:func:`write_export` writes a layout to a file; :func:`expected_fields` gives, for one layout
and record, the record-table values a correct reader must produce (``None`` where the tool
does not carry the field; ``source_id`` ``None`` where the tool writes no accession, so the
reader falls back to a content hash).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Author:
    family: str
    given: str

    @property
    def initials(self) -> list[str]:
        return [part[0] for part in self.given.split()]


@dataclass(frozen=True)
class Record:
    number: int
    title: str
    authors: tuple[Author, ...]
    year: str
    journal: str
    journal_abbrev: str
    volume: str = ""
    issue: str = ""
    start_page: str = ""
    end_page: str = ""
    article_number: str = ""
    doi: str = ""
    pmid: str = ""
    abstract: str = ""
    language: str = "English"
    doc_type: str = "Article"
    keywords: tuple[str, ...] = field(default=())
    issn: str = ""
    publisher: str = ""

    # made-up accession numbers, one series per database
    @property
    def scopus_eid(self) -> str:
        return f"2-s2.0-990000000{self.number:02d}"

    @property
    def embase_pui(self) -> str:
        return f"L99000{self.number:04d}"

    @property
    def endnote_number(self) -> str:
        return str(500 + self.number)

    @property
    def eric_id(self) -> str:
        return f"EJ99{self.number:04d}"

    @property
    def pages(self) -> str:
        """Pages as a correct reader reports them (range, single page or article number)."""
        if self.start_page and self.end_page:
            return f"{self.start_page}-{self.end_page}"
        return self.start_page or self.article_number

    @property
    def one_line_title(self) -> str:
        return " ".join(self.title.split())


def _authors(*names: tuple[str, str]) -> tuple[Author, ...]:
    return tuple(Author(family, given) for family, given in names)


J_RHEUM = ("Journal of Synthetic Rheumatology", "J. Synth. Rheumatol.")
J_BONE = ("Synthetic Bone Reports", "Synth. Bone Rep.")
J_TRIALS = ("Made-up Trials Quarterly", "Made-up Trials Q.")

RECORDS: tuple[Record, ...] = (
    Record(1, "Synthetic record 1: denosumab and erosion scores in an invented cohort",
           _authors(("Okafor", "Chidi"), ("Lindqvist", "Maja Elin"), ("Tanaka", "Hiro")),
           "2024", *J_RHEUM, volume="12", issue="3", start_page="101", end_page="109",
           doi="10.5555/sysrev.synthetic.0001", pmid="99000001",
           abstract="An invented abstract about an invented cohort. Nothing here is real.",
           keywords=("denosumab", "erosion", "rheumatoid arthritis"), issn="9999-0001",
           publisher="Synthetic Publishing"),
    Record(2, "Synthetic record 2: an article-numbered report without page numbers",
           _authors(("Garcia", "Lucia"), ("Nakamura", "Ken")),
           "2023", *J_BONE, volume="5", issue="1", article_number="e0412",
           doi="10.5555/sysrev.synthetic.0002", pmid="99000002",
           abstract="Article numbers stand in for pages in online-only journals.",
           keywords=("bone density", "article number"), issn="9999-0002"),
    Record(3, 'Synthetic record 3: "quoted" words, commas, and a line\nbreak in one title',
           _authors(("Müller", "Rosa Theresa"), ("Ó Súilleabháin", "Seán"),
                    ("Dvořák", "Tomáš")),
           "2021", *J_RHEUM, volume="10", issue="2", start_page="1202", end_page="1210",
           doi="10.5555/sysrev.synthetic.0003", pmid="99000003",
           abstract='A synthetic abstract with a "quote", a comma,\nand a second line.',
           keywords=("Zürich cohort", "synthetic data"), issn="9999-0001",
           publisher="Synthetic Publishing"),
    Record(4, "Synthetic record 4: café-style cohort from São Paulo, with no DOI",
           _authors(("dos Santos", "Helena Beatriz"),),
           "2019", *J_TRIALS, volume="7", start_page="77",
           doc_type="Conference Paper", keywords=("cohort",)),
    Record(5, "Synthetic record 5: a randomised comparison that never happened",
           _authors(("Smith", "John"), ("Li", "Xia"), ("Kowalski", "Piotr Adam"),
                    ("Novak", "Eva")),
           "2017", *J_TRIALS, volume="3", issue="4", start_page="210", end_page="225",
           doi="10.5555/sysrev.synthetic.0005", pmid="99000005",
           abstract="Randomised, blinded, and entirely synthetic.",
           keywords=("randomized controlled trial", "placebo"), issn="9999-0003"),
    Record(6, "Synthetic record 6: supplement abstract on bone turnover markers",
           _authors(("Ahmed", "Sara"),),
           "2010", *J_BONE, volume="2", issue="Suppl 1", start_page="S15", end_page="S16",
           doi="10.5555/sysrev.synthetic.0006", doc_type="Conference Abstract",
           keywords=("bone turnover",), issn="9999-0002"),
    Record(7, "Synthetic record 7: erratum to synthetic record 1",
           _authors(("Okafor", "Chidi"), ("Lindqvist", "Maja Elin")),
           "2024", *J_RHEUM, volume="12", issue="5", start_page="340",
           doi="10.5555/sysrev.synthetic.0007", pmid="99000007", doc_type="Erratum",
           issn="9999-0001"),
    Record(8, "Synthetic record 8: long-term safety in a fictional registry",
           _authors(("Brown", "Alice Mary"), ("Jensen", "Lars"), ("Rossi", "Marco")),
           "2003", *J_RHEUM, volume="1", issue="1", start_page="45", end_page="52",
           doi="10.5555/sysrev.synthetic.0008", pmid="99000008",
           abstract="Registry data, made up for a test.", keywords=("safety", "registry"),
           issn="9999-0001"),
    Record(9, "Synthetic record 9: a review of reviews of nothing in particular",
           _authors(("Chen", "Wei"), ("Okonkwo", "Ngozi")),
           "1998", *J_BONE, volume="30", issue="2", start_page="1", end_page="19",
           doi="10.5555/sysrev.synthetic.0009", doc_type="Review",
           abstract="A review.", keywords=("review",), issn="9999-0002"),
    Record(10, "Synthetic record 10: open-label extension of an imaginary trial",
           _authors(("Ivanova", "Olga"), ("Petit", "Jean Luc")),
           "2022", *J_TRIALS, volume="9", issue="6", start_page="601", end_page="612",
           doi="10.5555/sysrev.synthetic.0010", pmid="99000010",
           abstract="Open-label, imaginary.", keywords=("open-label", "extension"),
           issn="9999-0003"),
)


# ---------------------------------------------------------------------------------------
# author styles: how each tool writes one name

def _initials_dotted(a: Author) -> str:          # "R.T."
    return "".join(f"{i}." for i in a.initials)


AUTHOR_STYLE: dict[str, Callable[[Author], str]] = {
    "scopus_csv": lambda a: f"{a.family} {_initials_dotted(a)}",            # Müller R.T.
    "embase_csv": lambda a: f"{a.family} {_initials_dotted(a)}",            # Müller R.T.
    "endnote_ris": lambda a: f"{a.family}, " + " ".join(f"{i}." for i in a.initials),
    "mendeley_ris": lambda a: f"{a.family}, " + " ".join(a.initials),        # Müller, R T
    "zotero_ris": lambda a: f"{a.family}, {_initials_dotted(a)}",           # Müller, R.T.
    "covidence_endnote_ris": lambda a: f"{a.family}, {_initials_dotted(a)}",
    "ovid_eric_ris": lambda a: f"{a.family}, {a.given}",                    # Müller, Rosa Theresa
}


# ---------------------------------------------------------------------------------------
# CSV layouts

SCOPUS_COLUMNS = (
    "Authors", "Author full names", "Author(s) ID", "Title", "Year", "Source title", "Volume",
    "Issue", "Art. No.", "Page start", "Page end", "Page count", "Cited by", "DOI", "Link",
    "Affiliations", "Authors with affiliations", "Abstract", "Author Keywords",
    "Index Keywords", "Molecular Sequence Numbers", "Chemicals/CAS", "Tradenames",
    "Manufacturers", "Funding Details", "Funding Texts", "References",
    "Correspondence Address", "Editors", "Publisher", "Sponsors", "Conference name",
    "Conference date", "Conference location", "Conference code", "ISSN", "ISBN", "CODEN",
    "PubMed ID", "Language of Original Document", "Abbreviated Source Title", "Document Type",
    "Publication Stage", "Open Access", "Source", "EID")

EMBASE_COLUMNS = (
    "Title", "Original Title", "Author Names", "Author Addresses", "Correspondence Address",
    "Editors", "AiP/IP Entry Date", "Full Record Entry Date", "Source", "Source title",
    "Publication Year", "Volume", "Issue", "First Page", "Last Page", "Date of Publication",
    "Publication Type", "Conference Name", "Conference Location", "Conference Date",
    "Conference Editors", "ISSN", "ISBN", "Book Publisher", "Abstract", "Original Abstract",
    "Author Keywords", "Emtree Drug Index Terms (Major Focus)", "Emtree Drug Index Terms",
    "Emtree Medical Index Terms (Major Focus)", "Emtree Medical Index Terms",
    "Drug Tradenames", "Drug Manufacturer", "Device Tradenames", "Device Manufacturer",
    "CAS Registry Numbers", "Molecular Sequence Numbers", "Embase Classification",
    "Clinical Trial Numbers", "Article Language", "Summary Language", "Embase Accession ID",
    "Medline PMID", "PUI", "DOI", "Full Text Link", "Embase Link", "Open URL Link",
    "Copyright")

#: Embase writes these columns as "" when empty, every other empty cell as nothing at all
EMBASE_QUOTED_WHEN_EMPTY = {"Editors", "Emtree Drug Index Terms (Major Focus)",
                            "Emtree Drug Index Terms", "Emtree Medical Index Terms (Major Focus)",
                            "Emtree Medical Index Terms", "Embase Classification"}
#: … and these, when filled, without quotes
EMBASE_UNQUOTED = {"Medline PMID", "PUI", "DOI"}

EMBASE_QUERY = "('denosumab'/exp OR 'synthetic record':ti) AND [2000-2025]/py"

AFFILIATION = "Department of Synthetic Data, Example University, Testville, Nowhere"


def _scopus_row(r: Record) -> dict[str, str]:
    style = AUTHOR_STYLE["scopus_csv"]
    ids = [f"9900{r.number:03d}{k:04d}" for k in range(len(r.authors))]
    page_count = (str(int(r.end_page) - int(r.start_page) + 1)
                  if r.start_page.isdigit() and r.end_page.isdigit() else "")
    return {
        "Authors": "; ".join(style(a) for a in r.authors),
        "Author full names": "; ".join(f"{a.family}, {a.given} ({i})"
                                       for a, i in zip(r.authors, ids)),
        "Author(s) ID": "; ".join(ids),
        "Title": r.title, "Year": r.year, "Source title": r.journal, "Volume": r.volume,
        "Issue": r.issue, "Art. No.": r.article_number, "Page start": r.start_page,
        "Page end": r.end_page, "Page count": page_count, "Cited by": str(r.number % 4),
        "DOI": r.doi,
        "Link": f"https://www.scopus.com/inward/record.uri?eid={r.scopus_eid}"
                f"&doi={r.doi.replace('/', '%2f')}&partnerID=40",
        "Affiliations": AFFILIATION,
        "Authors with affiliations": "; ".join(f"{style(a)}, {AFFILIATION}"
                                               for a in r.authors),
        "Abstract": r.abstract, "Author Keywords": "; ".join(r.keywords),
        "Index Keywords": "; ".join(sorted(r.keywords)),
        "References": f'Nobody N., An invented ""reference"", Synth. J., 1, pp. 1-2, (2000)',
        "Correspondence Address": f"{r.authors[0].initials[0]}. {r.authors[0].family}; "
                                  f"{AFFILIATION}",
        "Publisher": r.publisher, "ISSN": r.issn.replace("-", ""), "PubMed ID": r.pmid,
        "Language of Original Document": r.language,
        "Abbreviated Source Title": r.journal_abbrev, "Document Type": r.doc_type,
        "Publication Stage": "Final", "Open Access": "All Open Access; Gold Open Access"
        if r.number % 2 else "", "Source": "Scopus", "EID": r.scopus_eid,
    }


def _embase_row(r: Record) -> dict[str, str]:
    style = AUTHOR_STYLE["embase_csv"]
    # Embase leaves First Page empty for article-numbered records and names the article
    # number only inside the free-text "Source" column.
    where = (f"{r.volume}:{r.issue}" if r.issue else r.volume)
    where += (f" Article Number: {r.article_number}" if r.article_number
              else f" ({r.pages})")
    return {
        "Title": r.title, "Author Names": ", ".join(style(a) for a in r.authors),
        "Author Addresses": f"({style(r.authors[0])}) {AFFILIATION}.",
        "Correspondence Address": f"{r.authors[0].family}, {AFFILIATION}."
                                  if len(r.authors) > 1 else "",
        "AiP/IP Entry Date": f"{r.year}-03-01", "Full Record Entry Date": f"{r.year}-03-08",
        "Source": f"{r.journal} ({r.year}) {where}. Date of Publication: 1 Mar {r.year}",
        "Source title": r.journal, "Publication Year": r.year, "Volume": r.volume,
        "Issue": r.issue, "First Page": r.start_page, "Last Page": r.end_page,
        "Date of Publication": f"1 Mar {r.year}", "Publication Type": r.doc_type,
        "ISSN": f"{r.issn} (electronic)" if r.issn else "", "Book Publisher": r.publisher,
        "Abstract": r.abstract, "Author Keywords": ", ".join(r.keywords),
        "Emtree Medical Index Terms": "human, synthetic data",
        "Article Language": r.language, "Summary Language": r.language if r.abstract else "",
        "Medline PMID": r.pmid, "PUI": r.embase_pui, "DOI": r.doi,
        "Full Text Link": f"http://dx.doi.org/{r.doi}" if r.doi else "",
        "Embase Link": "https://www.embase.com/search/results?subaction=viewrecord"
                       f"&id={r.embase_pui}&from=export",
        "Copyright": "Synthetic record, no copyright.",
    }


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def scopus_csv(records=RECORDS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(SCOPUS_COLUMNS)
    for r in records:
        row = _scopus_row(r)
        writer.writerow([row.get(c, "") for c in SCOPUS_COLUMNS])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def embase_csv(records=RECORDS) -> bytes:
    lines = [f"{_quote('SEARCH QUERY')},{_quote(EMBASE_QUERY)}", "-" * 37, "",
             ",".join(_quote(c) for c in EMBASE_COLUMNS)]
    for r in records:
        row = _embase_row(r)
        cells = []
        for column in EMBASE_COLUMNS:
            value = row.get(column, "")
            if not value:
                cells.append('""' if column in EMBASE_QUOTED_WHEN_EMPTY else "")
            else:
                cells.append(value if column in EMBASE_UNQUOTED else _quote(value))
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------
# RIS layouts; each returns the lines of one record (without line ends)

def _tag(tag: str, value: str) -> str:
    return f"{tag}  - {value}"


def _endnote_record(r: Record) -> list[str]:
    style = AUTHOR_STYLE["endnote_ris"]
    out = [_tag("TY", "JOUR")]

    def multi(tag: str, values) -> None:
        # EndNote writes several values of one field as untagged continuation lines
        values = [v for v in values if v]
        if values:
            out.append(_tag(tag, values[0]))
            out.extend(values[1:])

    if r.abstract:
        multi("AB", r.abstract.split("\n"))
    if r.number % 3 == 1:
        out.append(_tag("AD", f"{style(r.authors[0])}, {AFFILIATION}"))
    out.extend(_tag("AU", style(a)) for a in r.authors)
    multi("DB", ["Embase", "Medline"] if r.pmid else ["Embase"])
    if r.doi:
        out.append(_tag("DO", r.doi))
    if r.issue:
        out.append(_tag("IS", r.issue))
    multi("KW", r.keywords)
    out.append(_tag("LA", r.language))
    out.append(_tag("M3", r.doc_type))
    multi("N1", [r.embase_pui, f"{r.year}-03-08"])
    out.append(_tag("PY", r.year))
    multi("SN", [r.issn, r.issn.replace("9999", "9998")] if r.issn else [])
    if r.pages:
        out.append(_tag("SP", r.pages))       # one SP value: "101-109", "77" or "e0412"
    out.append(_tag("ST", r.one_line_title))
    out.append(_tag("T2", r.journal))
    out.append(_tag("TI", r.one_line_title))
    out.append(_tag("UR", "https://www.embase.com/search/results?subaction=viewrecord"
                          f"&id={r.embase_pui}&from=export"))
    if r.doi:
        out.append(_tag("UR", f"http://dx.doi.org/{r.doi}"))
    if r.volume:
        out.append(_tag("VL", r.volume))
    out.append(_tag("ID", r.endnote_number))
    out += ["ER  - ", ""]
    return out


def _mendeley_record(r: Record) -> list[str]:
    style = AUTHOR_STYLE["mendeley_ris"]
    out = [_tag("TY", "JOUR")]
    if r.abstract:
        out.append(_tag("AB", " ".join(r.abstract.split())))
    out.extend(_tag("AU", style(a)) for a in r.authors)
    if r.doi:
        out.append(_tag("DO", r.doi))
    if r.issue:
        out.append(_tag("IS", r.issue))
    out.extend(_tag("KW", k) for k in sorted(r.keywords))
    out.append(_tag("PY", r.year))
    if r.start_page or r.article_number:
        out.append(_tag("SP", r.start_page or r.article_number))
    if r.end_page:
        out.append(_tag("EP", r.end_page))
    out.append(_tag("TI", r.one_line_title))
    out.append(_tag("T2", r.journal))
    if r.doi:
        out.append(_tag("UR", f"http://dx.doi.org/{r.doi}"))
    if r.volume:
        out.append(_tag("VL", r.volume))
    out.append("ER  -")                        # no trailing space, no blank line after
    return out


def _zotero_record(r: Record) -> list[str]:
    style = AUTHOR_STYLE["zotero_ris"]
    out = [_tag("TY", "JOUR"), _tag("TI", r.one_line_title)]
    out.extend(_tag("AU", style(a)) for a in r.authors)
    out.append(_tag("T2", r.journal))
    if r.abstract:
        out.append(_tag("AB", " ".join(r.abstract.split())))
    out += [_tag("DA", f"{r.year}///"), _tag("PY", r.year)]
    if r.doi:
        out.append(_tag("DO", r.doi))
    if r.volume:
        out.append(_tag("VL", r.volume))
    if r.issue:
        out.append(_tag("IS", r.issue))
    if r.start_page or r.article_number:
        out.append(_tag("SP", r.start_page or r.article_number))
    if r.end_page:
        out.append(_tag("EP", r.end_page))
    out += [_tag("J2", r.journal_abbrev), _tag("LA", r.language)]
    if r.issn:
        out.append(_tag("SN", r.issn))
    out.append(_tag("UR", "https://www.embase.com/search/results?subaction=viewrecord"
                          f"&id={r.embase_pui}&from=export"))
    out.append(_tag("DB", "Medline" if r.pmid else "Embase"))
    if r.doi:
        out.append(_tag("L2", f"http://dx.doi.org/{r.doi}"))
    out.extend(_tag("KW", k) for k in r.keywords)
    out += ["ER  - ", ""]
    return out


def _covidence_record(r: Record) -> list[str]:
    style = AUTHOR_STYLE["covidence_endnote_ris"]
    # Covidence writes the same tag list for every record, empty tags included.
    out = [_tag("TY", "JOUR"), _tag("TI", r.one_line_title)]
    out.extend(_tag("AU", style(a)) for a in r.authors)
    out += [_tag("PY", r.year), _tag("PD", ""), _tag("N2", " ".join(r.abstract.split())),
            _tag("JO", r.journal), _tag("PB", r.publisher), _tag("CY", ""),
            _tag("VL", r.volume), _tag("IS", r.issue), _tag("PG", r.pages),
            _tag("SP", r.start_page or r.article_number), _tag("EP", r.end_page),
            _tag("AN", ""), _tag("DO", r.doi),
            _tag("UR", f"https://doi.org/{r.doi}" if r.doi else ""), _tag("NS", ""),
            _tag("N1", ""), "ER  - ", ""]
    return out


#: Ovid's search-result numbers: not consecutive, not starting at 1
OVID_NUMBERS = (6, 47, 48, 95, 99, 191, 223, 230, 301, 412)


def _ovid_record(r: Record) -> list[str]:
    style = AUTHOR_STYLE["ovid_eric_ris"]
    out = [_tag("TY", "JOUR"),
           _tag("DB", "ERIC" if int(r.year) < 1992 else "ERIC <1992 to June 2024>"),
           _tag("ID", r.eric_id), _tag("T1", r.one_line_title)]
    out.extend(_tag("A1", style(a)) for a in r.authors)
    out += [_tag("Y1", f"{r.year}//"), _tag("Y2", f"{r.year}//")]
    if r.abstract:
        out.append(_tag("N2", " ".join(r.abstract.split())))
    out.extend(_tag("KW", k) for k in r.keywords)
    out += [_tag("LA", r.language), _tag("JF", r.journal)]
    if r.volume:
        out.append(_tag("VL", r.volume))
    if r.issue:
        out.append(_tag("IS", r.issue))
    if r.start_page or r.article_number:
        out.append(_tag("SP", r.start_page or r.article_number))
    if r.end_page:
        out.append(_tag("EP", r.end_page))
    if r.publisher:
        out.append(_tag("PB", r.publisher))
    if r.issn:
        out.append(_tag("SN", r.issn))
    if r.doi:
        out.append(_tag("L1", f"https://dx.doi.org/{r.doi}"))   # ERIC has no DO tag
    out.append(_tag("PT", "Journal Articles, Reports - Research"))
    out.append("ER  -  ")                     # two trailing spaces, as Ovid writes it
    return out


def endnote_ris(records=RECORDS) -> bytes:
    return "\n".join(line for r in records for line in _endnote_record(r)).encode() + b"\n"


def mendeley_ris(records=RECORDS) -> bytes:
    return "\n".join(line for r in records for line in _mendeley_record(r)).encode() + b"\n"


def zotero_ris(records=RECORDS) -> bytes:
    text = "\r\n".join(line for r in records for line in _zotero_record(r)) + "\r\n"
    return text.encode("utf-8")


def covidence_endnote_ris(records=RECORDS) -> bytes:
    return "\n".join(line for r in records for line in _covidence_record(r)).encode() + b"\n"


def ovid_eric_ris(records=RECORDS) -> bytes:
    lines: list[str] = []
    for position, r in enumerate(records):
        number = OVID_NUMBERS[position % len(OVID_NUMBERS)] + 1000 * (
            position // len(OVID_NUMBERS))
        lines.append(f"{number}. ")
        lines += _ovid_record(r)
        # between records Ovid writes a blank line, a line holding one space, a blank line;
        # sometimes just blank lines
        lines += ["", "", ""] if position % 5 == 4 else ["", " ", ""]
    return ("\n".join(lines) + "\n").encode("utf-8")


WRITERS: dict[str, Callable[..., bytes]] = {
    "scopus_csv": scopus_csv, "embase_csv": embase_csv, "endnote_ris": endnote_ris,
    "mendeley_ris": mendeley_ris, "zotero_ris": zotero_ris,
    "covidence_endnote_ris": covidence_endnote_ris, "ovid_eric_ris": ovid_eric_ris,
}

#: the ``format`` each layout is imported with (a key of sysrev.imports.sources.READERS)
IMPORT_FORMAT = {name: ("ris" if name.endswith("_ris") else name) for name in WRITERS}

RIS_LAYOUTS = tuple(name for name in WRITERS if name.endswith("_ris"))
CSV_LAYOUTS = tuple(name for name in WRITERS if name.endswith("_csv"))


def write_export(layout: str, directory: Path, records=RECORDS) -> Path:
    """Write ``records`` in ``layout`` to ``directory`` and return the file's path."""
    suffix = ".csv" if layout.endswith("_csv") else ".ris"
    path = Path(directory) / f"synthetic_{layout}{suffix}"
    path.write_bytes(WRITERS[layout](records))
    return path


def expected_fields(layout: str, r: Record) -> dict[str, str | None]:
    """The record-table values a correct reader gives for record ``r`` written in ``layout``.

    ``source_id`` is ``None`` where the tool writes no accession number (the reader then
    uses a content hash); ``pmid`` is ``None`` where the layout carries no PMID.
    """
    style = AUTHOR_STYLE[layout]
    pages = r.pages or None
    doi = r.doi or None
    pmid = None
    if layout == "scopus_csv":
        source_id, pmid = r.scopus_eid, r.pmid or None
    elif layout == "embase_csv":
        source_id, pmid = r.embase_pui, r.pmid or None
        pages = (f"{r.start_page}-{r.end_page}" if r.end_page else r.start_page) or None
    elif layout == "endnote_ris":
        source_id = r.endnote_number
    elif layout == "ovid_eric_ris":
        source_id = r.eric_id
        # ERIC via Ovid gives the DOI only as an L1 link; the reader takes it from there.
    else:
        source_id = None
    return {
        "title": r.one_line_title,
        "authors": "; ".join(style(a) for a in r.authors),
        "year": r.year,
        "journal": r.journal,
        "volume": r.volume or None,
        "pages": pages,
        "doi": doi.lower() if doi else None,
        "pmid": pmid,
        "source_id": source_id,
    }


def line_of(data: bytes, needle: str) -> int:
    """The 1-based line number of the first line holding ``needle`` (any line ends)."""
    text = data.decode("utf-8-sig").replace("\r\n", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the generated file")


def without_line(data: bytes, pattern: str, occurrence: int = -1) -> bytes:
    """``data`` with the ``occurrence``-th line matching the regular expression removed."""
    crlf = b"\r\n" in data
    text = data.decode("utf-8").replace("\r\n", "\n")
    lines = text.split("\n")
    hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    del lines[hits[occurrence]]
    text = "\n".join(lines)
    return (text.replace("\n", "\r\n") if crlf else text).encode("utf-8")
