"""Build the bundled review's earlier version: its inputs cut at an earlier search date, run
through the pipeline, and archived (data/denosumab_ra/versions/<date>/).

    python data/denosumab_ra/assemble/build_version.py 2020-12-31

Cut rules (the corpus has publication years, not PubMed entry dates):
- PubMed: the records of the earliest snapshot (2024-12-31) whose publication year is the cut
  year or earlier, as the snapshot of the cut date (search/pubmed/<date>/ of the version's
  inputs);
- Embase, WoS, CENTRAL: the records of each export whose year (Y1 / PY) is the cut year or
  earlier; a record without a year takes the year of the study it reports (screening/
  studies.csv and extraction/studies.csv), and is otherwise left out (it cannot be shown to
  have existed then);
  each kept record keeps its accession number, so records are followed across versions;
- decisions, study links, extraction and risk-of-bias rows: those of the records and studies
  in the cut (decision rows naming a record not in the cut are dropped; a study is in the
  earlier version when one of its reports is).
The earlier version's config is the current one with its own review name, data folder and
search date. The archive holds the run's tables (sysrev.update.archive).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
REPO = DATA.parent.parent
EARLIEST_SNAPSHOT = "2024-12-31"


def _year(text: str | None) -> int | None:
    match = re.search(r"\d{4}", text or "")
    return int(match.group()) if match else None


def cut_pubmed(cut_year: int, date: str, out: Path) -> set[str]:
    source = DATA / "search/pubmed" / EARLIEST_SNAPSHOT
    xml = (source / "records.xml").read_text(encoding="utf-8")
    head, _, rest = xml.partition("<PubmedArticle>")
    articles = ["<PubmedArticle>" + a for a in ("<PubmedArticle>" + rest).split(
        "<PubmedArticle>")[1:]]
    tail = "</PubmedArticleSet>" + articles[-1].split("</PubmedArticleSet>", 1)[1]
    articles[-1] = articles[-1].split("</PubmedArticleSet>", 1)[0]
    kept, pmids = [], []
    for article in articles:
        year = _year((re.search(r"<PubDate>(.*?)</PubDate>", article, re.S) or [None, ""])[1])
        if year is not None and year <= cut_year:
            kept.append(article)
            pmids.append(re.search(r"<PMID[^>]*>(\d+)</PMID>", article).group(1))
    folder = out / "search/pubmed" / date
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.xml").write_text(head + "".join(kept) + tail, encoding="utf-8")
    provenance = json.loads((source / "provenance.json").read_text(encoding="utf-8"))
    provenance.update({"search_date": date, "maxdate": date.replace("-", "/"),
                       "count": len(pmids), "pmids": sorted(pmids, key=int)})
    provenance["note"] = (f"Cut from the {EARLIEST_SNAPSHOT} snapshot: records with a "
                          f"publication year of {cut_year} or earlier "
                          "(data/denosumab_ra/assemble/build_version.py)")
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2,
                                                       ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    return {f"pubmed:{p}" for p in pmids}


def study_years() -> dict[str, int]:
    """Record id -> the year of the included study it reports (for records with no year)."""
    with open(DATA / "extraction/studies.csv", encoding="utf-8", newline="") as handle:
        years = {r["study_id"]: int(r["year"]) for r in csv.DictReader(handle)}
    with open(DATA / "screening/studies.csv", encoding="utf-8", newline="") as handle:
        return {r["record_id"]: years[r["study_id"]] for r in csv.DictReader(handle)}


def cut_ris(path: Path, out: Path, cut_year: int, id_tag: str, source: str) -> set[str]:
    """Embase RIS (``Y1``, ``U2``) and CENTRAL RIS (``PY``, ``AN``, Wiley record wrappers)."""
    text = path.read_text(encoding="utf-8-sig")
    bom = path.read_bytes().startswith(b"\xef\xbb\xbf")
    wiley = text.startswith("Record #")
    if wiley:
        blocks = [b for b in re.split(r"(?m)^Record #\d+ of \d+\n", text) if b.strip()]
    else:
        blocks = [b.lstrip("\n") + "ER  -\n" for b in re.split(r"(?m)^ER  -[^\n]*\n", text)
                  if b.strip()]
    kept, ids = [], set()
    for block in blocks:
        year = _year((re.search(r"(?m)^(?:Y1|PY)  ?-  ?(.*)$", block) or [None, ""])[1])
        accession = re.search(rf"(?m)^{id_tag}  ?-  ?(\S+)", block).group(1)
        year = year if year is not None else study_years().get(f"{source}:{accession}")
        if year is not None and year <= cut_year:
            kept.append(block)
            ids.add(f"{source}:{accession}")
    if wiley:
        body = "".join(f"Record #{i} of {len(kept)}\n{block}" for i, block in
                       enumerate(kept, 1))
    else:
        body = "\n".join(b.rstrip("\n") for b in kept) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8"))
    return ids


def cut_wos(path: Path, out: Path, cut_year: int) -> set[str]:
    """WoS tagged text: ``PT`` ... ``ER`` records separated by blank lines, ``EF`` at the end."""
    text = path.read_text(encoding="utf-8")
    header, _, rest = text.partition("\nPT ")
    records = [r for r in ("PT " + rest).split("\nER\n") if r.strip() and r.strip() != "EF"]
    kept, ids = [], set()
    for record in records:
        record = record.strip("\n")
        year = _year((re.search(r"(?m)^PY (.*)$", record) or [None, ""])[1])
        accession = re.search(r"(?m)^UT (\S+)", record).group(1)
        year = year if year is not None else study_years().get(f"wos:{accession}")
        if year is not None and year <= cut_year:
            kept.append(record + "\nER\n")
            ids.add(f"wos:{accession}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + "\n" + "\n".join(kept) + "\nEF\n", encoding="utf-8")
    return ids


def _filter_csv(path: Path, out: Path, keep) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, [r for r in reader if keep(r)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def build_inputs(date: str) -> Path:
    cut_year = int(date[:4])
    folder = DATA / "versions" / date
    inputs = folder / "inputs"
    if inputs.exists():
        shutil.rmtree(inputs)
    records = cut_pubmed(cut_year, date, inputs)
    records |= cut_ris(DATA / "exports/embase.ris", inputs / "exports/embase.ris", cut_year,
                       "U2", "embase")
    records |= cut_ris(DATA / "exports/central.ris", inputs / "exports/central.ris", cut_year,
                       "AN", "central")
    records |= cut_wos(DATA / "exports/wos.txt", inputs / "exports/wos.txt", cut_year)
    with open(DATA / "search/searches.tsv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        row["search_date"] = date
        if row["source"] == "pubmed":
            row["file"] = f"search/pubmed/{date}/records.xml"
        row["notes"] = (f"Earlier version of the bundled review: {row['notes']}; cut at "
                        f"{date} by assemble/build_version.py")
    (inputs / "search").mkdir(parents=True, exist_ok=True)
    with open(inputs / "search/searches.tsv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, delimiter="\t",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    _filter_csv(DATA / "screening/decisions.csv", inputs / "screening/decisions.csv",
                lambda r: r["record_id"] in records)
    links = _filter_csv(DATA / "screening/studies.csv", inputs / "screening/studies.csv",
                        lambda r: r["record_id"] in records)
    studies = {r["study_id"] for r in links}
    for name in ("studies.csv", "arms.csv"):
        _filter_csv(DATA / "extraction" / name, inputs / "extraction" / name,
                    lambda r: r["study_id"] in studies)
    _filter_csv(DATA / "risk_of_bias/rob2.csv", inputs / "risk_of_bias/rob2.csv",
                lambda r: r["study_id"] in studies)
    config = (REPO / "config/config.yaml").read_text(encoding="utf-8")
    rel = f"data/denosumab_ra/versions/{date}/inputs"
    config = config.replace("review: denosumab_ra\n", f"review: denosumab_ra_{date.replace('-', '')}\n")
    config = config.replace("data_dir: data/denosumab_ra\n", f"data_dir: {rel}\n")
    config = re.sub(r'(?m)^(    date: )"[0-9-]+"', rf'\1"{date}"', config)
    config = config.replace("data/denosumab_ra/screening/", f"{rel}/screening/")
    config = config.replace("data/denosumab_ra/extraction/", f"{rel}/extraction/")
    config = config.replace("data/denosumab_ra/risk_of_bias/", f"{rel}/risk_of_bias/")
    config = re.sub(r"(?m)^  previous_version: .*$", "  previous_version: null", config)
    config = re.sub(r"(?m)^  versions:\n(?:    - .*\n)+", "  versions: []\n", config)
    (inputs / "config.yaml").write_text(config, encoding="utf-8")
    return inputs


def main(date: str) -> None:
    sys.path.insert(0, str(REPO / "src"))
    from sysrev.update.archive import archive_version

    inputs = build_inputs(date)
    subprocess.run(["snakemake", "--cores", "2", "--configfile",
                    str((inputs / "config.yaml").relative_to(REPO))], cwd=REPO, check=True)
    results = REPO / "results" / f"denosumab_ra_{date.replace('-', '')}"
    for path in (DATA / "versions" / date).glob("*.*"):
        path.chmod(0o644)
        path.unlink()
    archive_version(results.relative_to(REPO), DATA / "versions" / date, date,
                    note=f"The bundled review as it would have been on {date}: built by "
                         "data/denosumab_ra/assemble/build_version.py from the inputs in "
                         "inputs/ (see data/denosumab_ra/README.md)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "2020-12-31")
