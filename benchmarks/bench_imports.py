"""Import benchmark: sysrev's importers side by side with the parser each wraps, on the same
file, each in a fresh process (wall time of the call; CPU time of the whole process, its
start-up included; peak memory, the process's VmHWM), alternating ``--repeat`` times, the run
with the least CPU shown (the steadier figure when other work shares the machine)::

    python benchmarks/bench_imports.py --ris 200000 --bibtex 1000
    python benchmarks/bench_imports.py --ris 0 --bibtex 0 --medline 100000 --wos 100000

* RIS: :func:`sysrev.workflow.search.import_export` (the ``import_export`` rule's function:
  format detection, the record table, the TSV written) against ``rispy.load`` on the same
  look-alike RIS file (:mod:`dedup_generator` records, written as by
  ``benchmarks/bench_workflow.py``).
* BibTeX: :func:`sysrev.imports.bibtex.read_bibtex` against ``bibtexparser.parse_string``
  (no LaTeX decoding) on the same records written as ``@article`` entries, a tenth of them
  with LaTeX accents (``{\\"o}``) in a surname.
* Embase CSV: :func:`sysrev.workflow.search.import_export` (format ``embase_csv``) against the
  csv module reading every row (``list(csv.reader(...))``) and ``pandas.read_csv``, on the
  same records written as an Embase CSV export (its preamble lines, every cell quoted).
  ``--src`` of another checkout gives the figures before a change (e.g. the whole-file CSV
  reader before it streamed).
* EndNote XML: ``import_export`` (format ``endnote_xml``) against ``ElementTree.parse`` alone
  (the tree built, ``<record>`` elements found), on the same records written as an EndNote
  XML export (``<style>`` runs around each field, as EndNote writes them).
* MEDLINE: ``import_export`` against Biopython's ``Bio.Medline.parse`` (which sysrev's
  reader wraps) on the same records written as a PubMed ``.nbib`` export.
* Web of Science: ``import_export`` against ``rispy.load`` with its ``WokParser`` (which
  sysrev's reader wraps) on the same records written as a WoS tagged export.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_workflow import RISPY, run_snippet  # noqa: E402

#: sysrev's import_export (the import_export rule's function) on an export of ``fmt``.
_IMPORT = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from sysrev.workflow.search import import_export
start = time.perf_counter()
import_export(export=sys.argv[1], source="bench", fmt="{fmt}", output=sys.argv[1] + ".tsv",
              report=sys.argv[1] + ".json")
seconds = time.perf_counter() - start
n = json.load(open(sys.argv[1] + ".json"))["records"]
print(n, seconds, peak(), cpu())
"""

_RUN = {
    "rispy": RISPY,
    "sysrev_ris": _IMPORT.format(fmt="ris"),
    "sysrev_embase_csv": _IMPORT.format(fmt="embase_csv"),
    "csv_module": """
import csv, sys, time
start = time.perf_counter()
with open(sys.argv[1], encoding="utf-8", newline="") as handle:
    for _ in range(3):  # the preamble: query, rule of dashes, blank line
        next(handle)
    rows = list(csv.reader(handle))
print(len(rows) - 1, time.perf_counter() - start, peak(), cpu())
""",
    "pandas_read_csv": """
import sys, time
import pandas as pd
start = time.perf_counter()
n = len(pd.read_csv(sys.argv[1], skiprows=3, dtype=str, keep_default_na=False))
print(n, time.perf_counter() - start, peak(), cpu())
""",
    "sysrev_endnote_xml": _IMPORT.format(fmt="endnote_xml"),
    "sysrev_medline": _IMPORT.format(fmt="medline"),
    "sysrev_wos": _IMPORT.format(fmt="wos"),
    "elementtree_parse": """
import sys, time
import xml.etree.ElementTree as ET
start = time.perf_counter()
n = len(ET.parse(sys.argv[1]).getroot().findall("./records/record"))
print(n, time.perf_counter() - start, peak(), cpu())
""",
    "biopython_medline": """
import sys, time
from Bio import Medline
start = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as handle:
    n = sum(1 for _ in Medline.parse(handle))
print(n, time.perf_counter() - start, peak(), cpu())
""",
    "rispy_wos": """
import sys, time
import rispy
start = time.perf_counter()
with open(sys.argv[1], encoding="utf-8") as handle:
    records = rispy.load(handle, implementation=rispy.WokParser, skip_unknown_tags=True)
print(len(records), time.perf_counter() - start, peak(), cpu())
""",
    "bibtexparser": """
import sys, time
import bibtexparser
start = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8").read()
n = len(bibtexparser.parse_string(text).entries)
print(n, time.perf_counter() - start, peak(), cpu())
""",
    "sysrev_bibtex": """
import sys, time
sys.path.insert(0, sys.argv[2])
from sysrev.imports.bibtex import read_bibtex
start = time.perf_counter()
n = len(read_bibtex(sys.argv[1], source="bench"))
print(n, time.perf_counter() - start, peak(), cpu())
""",
}


def measure(name: str, path: Path, src: Path = REPO / "src") -> dict:
    return run_snippet(_RUN[name], str(path), str(src))


def _authors(value) -> list[str]:
    return [a.strip() for a in (value or "").split(";") if a.strip() and a.strip() != "et al."]


def _wrap(text: str, width: int = 72) -> list[str]:
    """``text`` in lines of at most ``width`` characters."""
    import textwrap
    return textwrap.wrap(str(text), width) or [""]


def medline_text(table) -> str:
    """The generated records as a PubMed MEDLINE (``.nbib``) export: ``PMID-`` first (the
    generator's record id as ``AN`` when the record has no PMID), a wrapped title, one
    ``AU`` line per author, the DOI in ``LID`` and the citation in ``SO``."""
    out = []
    for rec in table.itertuples(index=False):
        lines = [f"PMID- {rec.pmid}"] if rec.pmid else [f"AN  - {rec.record_id}"]
        lines.append("OWN - NLM")
        title = _wrap(rec.title)
        lines += [f"TI  - {title[0]}"] + [f"      {t}" for t in title[1:]]
        lines += [f"AU  - {name}" for name in _authors(rec.authors)]
        lines += [f"DP  - {rec.year}", f"TA  - {rec.journal}"]
        for tag, value in (("VI", rec.volume), ("IP", rec.issue), ("PG", rec.pages)):
            if value:
                lines.append(f"{tag:<4}- {value}")
        if rec.doi:
            lines.append(f"LID - {rec.doi} [doi]")
        lines.append(f"PT  - {rec.publication_types}")
        lines.append(f"SO  - {rec.journal}. {rec.year};{rec.volume or ''}:{rec.pages or ''}.")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def wos_text(table) -> str:
    """The generated records as a Web of Science tagged export: the ``FN``/``VR`` header,
    ``PT J`` … ``ER`` records (authors and a wrapped title on continuation lines, the
    generator's record id as ``UT``), the ``EF`` end."""
    out = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for rec in table.itertuples(index=False):
        lines = ["PT J"]
        names = _authors(rec.authors)
        if names:
            lines += [f"AU {names[0]}"] + [f"   {name}" for name in names[1:]]
        title = _wrap(rec.title)
        lines += [f"TI {title[0]}"] + [f"   {t}" for t in title[1:]]
        lines += [f"SO {rec.journal}", f"DT {rec.publication_types}", f"PY {rec.year}"]
        start, _, end = str(rec.pages or "").partition("-")
        for tag, value in (("VL", rec.volume), ("IS", rec.issue), ("BP", start),
                           ("EP", end), ("DI", rec.doi), ("PM", rec.pmid)):
            if value:
                lines.append(f"{tag} {value}")
        lines += [f"UT WOS:{rec.record_id}", "ER", ""]
        out.extend(lines)
    out.append("EF")
    return "\n".join(out) + "\n"


def bibtex_text(table) -> str:
    entries = []
    for k, rec in enumerate(table.itertuples(index=False)):
        authors = " and ".join(a.strip() for a in (rec.authors or "").split(";")
                               if a.strip() and a.strip() != "et al.")
        if k % 10 == 0:
            authors = authors.replace("o", '{\\"o}', 1)
        fields = {"title": rec.title, "author": authors, "year": rec.year,
                  "journal": rec.journal, "volume": rec.volume, "number": rec.issue,
                  "pages": rec.pages, "doi": rec.doi}
        body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields.items() if value)
        entries.append(f"@article{{rec{k},\n{body}\n}}\n")
    return "\n".join(entries)


EMBASE_HEADER = ("Title", "Author Names", "Embase Accession ID", "Medline PMID",
                 "Source title", "Publication Year", "Volume", "Issue", "First Page",
                 "Last Page", "DOI", "Publication Type")


def embase_csv_text(table) -> str:
    """The records as Embase writes its CSV export: the query, a rule of dashes and a blank
    line before the header, every cell quoted, CRLF line ends."""
    import csv
    import io
    out = io.StringIO()
    out.write('"(\'denosumab\'/exp) AND [2000-2025]/py"\r\n"----------"\r\n\r\n')
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(EMBASE_HEADER)
    for k, rec in enumerate(table.itertuples(index=False)):
        first, _, last = (rec.pages or "").partition("-")
        authors = (rec.authors or "").replace(";", ",")
        writer.writerow([rec.title or "", authors, f"L{k + 2000000000}", rec.pmid or "",
                         rec.journal or "", rec.year or "", rec.volume or "",
                         rec.issue or "", first, last, rec.doi or "",
                         rec.publication_types or ""])
    return out.getvalue()


def endnote_xml_text(table) -> str:
    """The records as EndNote writes its XML export (each field's text in a ``<style>``)."""
    from xml.sax.saxutils import escape

    def styled(tag: str, value) -> str:
        if not value:
            return ""
        return (f'<{tag}><style face="normal" font="default" size="100%">'
                f"{escape(str(value))}</style></{tag}>")

    parts = ['<?xml version="1.0" encoding="UTF-8" ?><xml><records>']
    for k, rec in enumerate(table.itertuples(index=False)):
        authors = "".join(styled("author", a.strip()) for a in (rec.authors or "").split(";")
                          if a.strip())
        parts.append(
            f'<record><rec-number>{k + 1}</rec-number><ref-type name="Journal Article">17'
            f"</ref-type><contributors><authors>{authors}</authors></contributors><titles>"
            f'{styled("title", rec.title)}{styled("secondary-title", rec.journal)}</titles>'
            f'{styled("pages", rec.pages)}{styled("volume", rec.volume)}'
            f'{styled("number", rec.issue)}<dates>{styled("year", rec.year)}</dates>'
            f'{styled("accession-num", rec.pmid)}'
            f'{styled("electronic-resource-num", rec.doi)}</record>\n')
    parts.append("</records></xml>\n")
    return "".join(parts)


def main() -> None:
    from bench_workflow import ris_text
    from dedup_generator import generate

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ris", type=int, default=200_000)
    parser.add_argument("--bibtex", type=int, default=1_000)
    parser.add_argument("--embase-csv", type=int, default=0,
                        help="records of the Embase CSV export measured (0: none)")
    parser.add_argument("--endnote-xml", type=int, default=0,
                        help="records of the EndNote XML export measured (0: none)")
    parser.add_argument("--medline", type=int, default=0)
    parser.add_argument("--wos", type=int, default=0)
    parser.add_argument("--src", type=Path, default=REPO / "src",
                        help="the sysrev package folder to measure (another checkout's src/ "
                             "for a before/after comparison)")
    parser.add_argument("--ris-file", type=Path,
                        help="measure this RIS file (of --ris records) instead of generating one")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each, alternating; the one with least CPU is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sysrev-bench-imports-") as folder:
        rows = ["| export | records | sysrev (wall, CPU, peak) | parser alone (wall, CPU, peak) "
                "| ratio (wall, CPU, memory) |", "|---|---|---|---|---|"]
        for kind, n, ours, peer, write in (
                ("RIS", args.ris, "sysrev_ris", "rispy", ris_text),
                ("BibTeX", args.bibtex, "sysrev_bibtex", "bibtexparser", bibtex_text),
                ("Embase CSV", args.embase_csv, "sysrev_embase_csv", "csv_module",
                 embase_csv_text),
                ("Embase CSV", args.embase_csv, "sysrev_embase_csv", "pandas_read_csv",
                 embase_csv_text),
                ("EndNote XML", args.endnote_xml, "sysrev_endnote_xml", "elementtree_parse",
                 endnote_xml_text),
                ("MEDLINE", args.medline, "sysrev_medline", "biopython_medline", medline_text),
                ("WoS", args.wos, "sysrev_wos", "rispy_wos", wos_text)):
            if not n:
                continue
            if kind == "RIS" and args.ris_file:
                path = args.ris_file
            else:
                table, _ = generate(n, seed=2)
                table = table.astype(object).where(table.notna(), None)
                path = Path(folder) / f"export.{kind.lower().replace(' ', '_')}"
                path.write_text(write(table), encoding="utf-8")
            # Alternating, twice each: load from other work falls on both alike.
            runs = {ours: [], peer: []}
            for _ in range(args.repeat):
                runs[ours].append(measure(ours, path, args.src))
                runs[peer].append(measure(peer, path))
            a, b = (min(runs[name], key=lambda r: r["cpu_s"]) for name in (ours, peer))
            assert a["records"] == b["records"] == n, (a, b, n)
            rows.append(f"| {kind} ({path.stat().st_size / 2**20:.0f} MiB) | {n:,} | "
                        f"{a['s']:.1f} s, {a['cpu_s']:.1f} s, {a['max_rss_mb']:.0f} MiB | "
                        f"{peer}: {b['s']:.2f} s, {b['cpu_s']:.2f} s, "
                        f"{b['max_rss_mb']:.0f} MiB | {a['s'] / b['s']:.2f}×, "
                        f"{a['cpu_s'] / b['cpu_s']:.2f}×, "
                        f"{a['max_rss_mb'] / b['max_rss_mb']:.2f}× |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
