"""Generate a large record table with realistic duplicates and known truth, from real records.

Real material: the titles, surnames and journal names of the labelled sets in
``../shared/testdata/dedup`` (ASySD diabetes, bib-dedupe cytology) and of the bundled review's
records (read from its committed inputs in ``data/denosumab_ra``). Distinct publications are made from real titles by replacing a few content words
with words drawn from the real vocabulary (so the table is full of look-alike titles, the
hard case for precision), with real surnames and journals and random year, volume and pages.
A share of them also gets a deliberate look-alike that is *not* a duplicate: an erratum, a
conference abstract of the same work, Part 1 / Part 2, the same title by other authors in
another year.

About a third of the publications get one to three extra copies, each changed the way
databases change records: case, punctuation, diacritics, author format ("Smith, J. A." /
"Smith JA" / truncated list with "et al."), missing DOI, pages or volume, journal full name vs
abbreviation, truncated title, translated title (a stand-in: every word transformed, with
the bibliographic fields kept), typos, and the year one off (online vs print).
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata" / "dedup"
BUNDLED = REPO / "data" / "denosumab_ra"

_STOP = set("a an the of and or in on for to with by at from as is are be its into".split())
_ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "c": "ç", "n": "ñ"}


def bundled_records(root: Path = BUNDLED) -> pd.DataFrame:
    """The bundled review's records as its workflow reads them (the database exports and the
    latest PubMed snapshot, committed in ``data/denosumab_ra``): the titles and journals of
    ``results/denosumab_ra/search/records.tsv`` without needing a run (results/ is not
    committed, and a path into it would silently give nothing before the first run)."""
    from sysrev.imports.ris import read_ris
    from sysrev.imports.wos import read_wos
    from sysrev.search.pubmed_xml import parse_pubmed_xml

    snapshots = sorted((root / "search" / "pubmed").iterdir())
    tables = [read_ris(root / "exports" / "embase.ris", source="embase"),
              read_ris(root / "exports" / "central.ris", source="central"),
              read_wos(root / "exports" / "wos.txt", source="wos"),
              pd.DataFrame(list(parse_pubmed_xml(snapshots[-1] / "records.xml")))]
    table = pd.concat(tables, ignore_index=True)
    if table.empty or table["title"].dropna().empty:
        raise RuntimeError(f"no titles read from the bundled review's inputs in {root}")
    return table


def _real_material(root: Path = TESTDATA) -> tuple[list[str], list[str], list[str]]:
    titles, surnames, journals = [], [], []
    asysd = pd.read_csv(root / "asysd_diabetes/labelled_test_set.csv", encoding="latin-1")
    cyto = pd.read_csv(root / "bibdedupe_cytology_screening/records_pre_merged.csv",
                       dtype=str, keep_default_na=False)
    titles += asysd["title"].dropna().astype(str).tolist() + cyto["title"].tolist()
    journals += asysd["journal"].dropna().astype(str).tolist() + cyto["journal"].tolist()
    for authors in cyto["author"]:
        surnames += [a.split(",")[0].strip() for a in authors.split(" and ") if "," in a]
    table = bundled_records()
    titles += table["title"].dropna().tolist()
    journals += table["journal"].dropna().tolist()
    titles = sorted({t.strip() for t in titles if isinstance(t, str) and len(t) > 30})
    surnames = sorted({s for s in surnames if s.isalpha() or "-" in s})
    journals = sorted({j.strip() for j in journals if isinstance(j, str) and j.strip()})
    return titles, surnames, journals


def _abbreviate(journal: str) -> str:
    words = [w for w in re.split(r"\s+", journal) if w.lower() not in _STOP]
    return " ".join(w[:4] if len(w) > 5 else w for w in words)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def _typo(text: str, rng: random.Random) -> str:
    letters = [k for k, c in enumerate(text) if c.isalpha()]
    if not letters:
        return text
    k = rng.choice(letters)
    op = rng.randrange(4)
    if op == 0:
        return text[:k] + text[k + 1:]
    if op == 1:
        return text[:k] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[k:]
    if op == 2:
        return text[:k] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[k + 1:]
    return text[:k] + text[k + 1:k + 2] + text[k] + text[k + 2:] if k + 1 < len(text) \
        else text


def _translate(title: str) -> str:
    """A stand-in for a title in another language: every word changed, length kept."""
    out = []
    for word in title.split():
        core = re.sub(r"\W", "", word.lower())
        out.append((core[::-1] + "o") if len(core) > 3 and not core.isdigit() else core)
    return " ".join(out).capitalize()


def _author_string(people: list[tuple[str, str]], style: int) -> str:
    if style == 0:
        names = [f"{s}, {'. '.join(i)}." for s, i in people]
    elif style == 1:
        names = [f"{s} {i}" for s, i in people]
    else:
        names = [f"{s}, {i}" for s, i in people]
    return "; ".join(names)


def generate(n: int, seed: int = 1, duplicate_share: float = 0.33
             ) -> tuple[pd.DataFrame, list[list[str]]]:
    """``n`` records (about ``n / (1 + 0.6 * duplicate_share * 2)`` publications) and the
    truth: the record ids of every publication with more than one record."""
    rng = random.Random(seed)
    titles, surnames, journals = _real_material()
    vocabulary = sorted({w for t in titles for w in re.findall(r"[A-Za-z]{5,}", t)})
    pubs = []

    def new_pub(title: str | None = None, **fields) -> dict:
        base = title or rng.choice(titles)
        words = base.split()
        for _ in range(3):
            k = rng.randrange(len(words))
            if words[k].lower() not in _STOP:
                words[k] = rng.choice(vocabulary).lower()
        people = [(rng.choice(surnames), "".join(rng.choice("ABCDEFGHJKLMNPRSTW")
                                                 for _ in range(rng.choice((1, 1, 2)))))
                  for _ in range(rng.choice((1, 2, 3, 4, 5, 6, 8)))]
        journal = rng.choice(journals)
        year = rng.randint(1985, 2024)
        start = rng.randint(1, 2500)
        pub = {"title": title if title and fields.pop("keep_title", False) else " ".join(words),
               "people": people, "journal": journal, "year": year,
               "volume": str(rng.randint(1, 300)), "issue": str(rng.randint(1, 12)),
               "pages": f"{start}-{start + rng.randint(2, 15)}",
               "doi": f"10.{rng.randint(1000, 9999)}/{rng.getrandbits(40):x}"
               if rng.random() < 0.75 else None,
               "pmid": str(rng.randint(1_000_000, 39_999_999)) if rng.random() < 0.5 else None,
               "type": "Article"}
        pub.update(fields)
        return pub

    target_pubs = int(n / (1 + duplicate_share * 1.5))
    while len(pubs) < target_pubs:
        pub = new_pub()
        pubs.append(pub)
        r = rng.random()
        if r < 0.01:  # erratum of the article
            pubs.append({**pub, "title": "Erratum: " + pub["title"], "year": pub["year"] + 1,
                         "pages": str(rng.randint(1, 2500)), "doi": None, "pmid": None,
                         "type": "Erratum"})
        elif r < 0.02:  # conference abstract of the same work, the year before
            pubs.append({**pub, "journal": "Annual Meeting of the " + pub["journal"],
                         "year": pub["year"] - 1, "pages": f"S{rng.randint(1, 900)}",
                         "doi": None, "pmid": None, "type": "Conference Abstract"})
        elif r < 0.03:  # Part 1 and Part 2
            pub["title"] += ": part 1"
            pubs.append({**pub, "title": pub["title"][:-1] + "2",
                         "pages": f"{rng.randint(1, 2500)}", "doi": None, "pmid": None})
        elif r < 0.04:  # the same title by other authors, another year
            pubs.append(new_pub(pub["title"], keep_title=True,
                                year=pub["year"] + rng.choice((-5, -3, 3, 6))))
    rows, truth = [], []
    for p_id, pub in enumerate(pubs):
        copies = 1
        if rng.random() < duplicate_share:
            copies += rng.choice((1, 1, 1, 2, 2, 3))
        ids = []
        for c in range(copies):
            rec = _render(pub, rng, changed=c > 0)
            rec["record_id"] = f"gen:{p_id:07d}-{c}"
            ids.append(rec["record_id"])
            rows.append(rec)
        if copies > 1:
            truth.append(ids)
    table = pd.DataFrame(rows[:n] if len(rows) > n else rows)
    keep = set(table["record_id"])
    truth = [[i for i in t if i in keep] for t in truth]
    truth = [t for t in truth if len(t) > 1]
    table["source"] = [rng.choice(("pubmed", "embase", "wos", "scopus")) for _ in
                       range(len(table))]
    return table.reset_index(drop=True), truth


def _render(pub: dict, rng: random.Random, changed: bool) -> dict:
    title, journal, people = pub["title"], pub["journal"], pub["people"]
    year, doi, pmid = pub["year"], pub["doi"], pub["pmid"]
    volume, pages = pub["volume"], pub["pages"]
    style = 0
    if changed:
        style = rng.randrange(3)
        if rng.random() < 0.3:
            title = title.upper() if rng.random() < 0.5 else title.lower()
        if rng.random() < 0.3:
            title = re.sub(r"[:;,]", rng.choice(["", " -", "."]), title).rstrip(".") + \
                rng.choice(["", "."])
        if rng.random() < 0.2:
            words = title.split()
            k = rng.randrange(len(words))
            words[k] = "".join(_ACCENTS.get(ch, ch) for ch in words[k])
            title = " ".join(words)
        if rng.random() < 0.2:
            people = [(_strip_accents(s), i) for s, i in people]
        if rng.random() < 0.15 and len(people) > 3:
            people = people[:3]
        if rng.random() < 0.4:
            doi = None
        if rng.random() < 0.4:
            pmid = None
        if rng.random() < 0.1:
            pages = None
        if rng.random() < 0.1:
            volume = None
        if rng.random() < 0.4:
            journal = _abbreviate(journal)
        r = rng.random()
        if r < 0.08 and len(title) > 70:
            title = title[:int(len(title) * 0.6)].rsplit(" ", 1)[0]
        elif r < 0.12 and pages and volume:
            title = _translate(title)
        elif r < 0.40:
            for _ in range(rng.choice((1, 1, 2))):
                title = _typo(title, rng)
        if rng.random() < 0.05 and pub["type"] == "Article":
            year += 1
    authors = _author_string(people, style)
    if changed and len(people) == 3 and len(pub["people"]) > 3:
        authors += "; et al."
    return {"title": title, "authors": authors, "year": str(year), "journal": journal,
            "volume": volume, "issue": pub["issue"], "pages": pages, "doi": doi,
            "pmid": pmid, "publication_types": pub["type"]}
