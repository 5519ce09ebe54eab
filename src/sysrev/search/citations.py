"""Citation chasing through Entrez elink: PRISMA 2020's "other methods" (citation searching).

From the seed PMIDs (the included studies' reports), ``elink.fcgi`` with ``dbfrom=pubmed``,
``db=pubmed`` and ``linkname`` ``pubmed_pubmed_citedin`` (forward: articles in PubMed that
cite the seed) or ``pubmed_pubmed_refs`` (backward: the seed's reference list as PubMed
holds it), one request per seed so that each found record keeps its seed; then
``efetch.fcgi`` of the linked PMIDs in batches. Every answer is stored as received
(``page_00001.xml`` …, elink answers first), so each record's provenance (seed PMID,
direction, search date) is read back from the snapshot (:func:`links`). Depth 1: the chase
does not follow the records it finds.

What the chase covers: PubMed's citation links come from the reference lists deposited
with PubMed Central and from publishers that send them to PubMed; articles outside PMC are
covered unevenly, so the chase complements the database search and does not replace a
hand search of reference lists.
"""

from __future__ import annotations

import json
import logging
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd

from sysrev.errors import InputError
from sysrev.search.adapters import (check_spec, file_entries, PageStore, public_url,
                                    read_provenance_checked, snapshot_record_table,
                                    version_of)
from sysrev.search.batch_store import PROVENANCE
from sysrev.search.efetch_scan import (EutilsResponseError, NcbiError, article_digests,
                                        scan_pubmed_set)
from sysrev.search.entrez_client import EntrezClient, EntrezSettings
from sysrev.search.offline import NoNetwork
from sysrev.search.pubmed_xml import parse_pubmed_xml

log = logging.getLogger(__name__)

LINKNAMES = {"citedin": "pubmed_pubmed_citedin", "refs": "pubmed_pubmed_refs"}
#: Seeds per elink request. One: NCBI gives one LinkSet per ``id`` parameter, but
#: Bio.Entrez joins a list of ids with commas (one merged LinkSet), and a record's seed is
#: its provenance. A review's included studies are few, so this costs seconds.
SEEDS_PER_REQUEST = 1
#: elink has no date limit: it links to whatever PubMed holds on the retrieval day. The
#: chase is cut at the search date on the record side instead, by each found record's
#: PubMed entry date (``PubMedPubDate PubStatus="entrez"``, PubMed's ``edat``): a record
#: that entered PubMed after the search date is logged, counted in the provenance
#: (``after_search_date``) and left out of the record table, its links and versions.
DATE_NOTE = ("Entrez elink has no date limit, so the records found were cut at the search "
             "date by their PubMed entry date; records entered in PubMed after it were left "
             "out")
_ENTREZ_DATE = re.compile(rb'<PubMedPubDate PubStatus="entrez">\s*<Year>(\d{4})</Year>\s*'
                          rb'<Month>(\d{1,2})</Month>\s*(?:<Day>(\d{1,2})</Day>)?')
COVERAGE_NOTE = ("PubMed's citation links (elink pubmed_pubmed_citedin and "
                 "pubmed_pubmed_refs) come from reference lists deposited with PubMed "
                 "Central and sent by publishers; articles outside PMC are covered unevenly")


def normalise_spec(spec: dict[str, Any]) -> dict[str, Any]:
    seeds = sorted({str(int(s)) for s in spec.get("seeds") or []}, key=int)
    directions = [d for d in ("citedin", "refs") if d in (spec.get("directions")
                                                         or ("citedin", "refs"))]
    return {"seeds": seeds, "directions": directions, "depth": int(spec.get("depth", 1)),
            "date": spec.get("date")}


def parse_elink(body: bytes, seeds: list[str], linkname: str) -> dict[str, list[str]]:
    """Seed PMID -> linked PMIDs of one elink answer; a retryable error when it is cut
    short, an ``<ERROR>``, or lacks a seed's LinkSet."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise NcbiError(f"elink answer not complete XML ({exc})") from None
    if root.tag != "eLinkResult":
        raise EutilsResponseError(f"not an eLinkResult (root <{root.tag}>)")
    error = root.findtext("ERROR")
    if error:
        raise NcbiError(f"E-utilities error: {error.strip()}")
    found: dict[str, list[str]] = {}
    for linkset in root.findall("LinkSet"):
        ids = [i.text.strip() for i in linkset.findall("IdList/Id") if i.text]
        linked = []
        for db in linkset.findall("LinkSetDb"):
            if (db.findtext("LinkName") or "").strip() == linkname:
                linked += [i.text.strip() for i in db.findall("Link/Id") if i.text]
        for seed in ids:
            found.setdefault(seed, []).extend(linked)
    missing = [s for s in seeds if s not in found]
    if missing:
        raise EutilsResponseError(f"no LinkSet for seed PMIDs {missing[:5]}")
    return found


def _tasks(spec: dict[str, Any]) -> list[tuple[str, list[str]]]:
    seeds = spec["seeds"]
    return [(direction, seeds[i:i + SEEDS_PER_REQUEST]) for direction in spec["directions"]
            for i in range(0, len(seeds), SEEDS_PER_REQUEST)]


def retrieve(spec: dict[str, Any], snapshot_dir: str | Path, settings: EntrezSettings, *,
             sleep=None, rng=None) -> dict[str, Any]:
    """Chase the seeds' citations into a frozen snapshot (resumable; an existing snapshot
    is used as it is)."""
    spec = normalise_spec(spec)
    final = Path(snapshot_dir)
    if (final / PROVENANCE).is_file():
        provenance = read_provenance_checked(final)
        check_spec(provenance, spec, final, "citations")
        log.info("citations snapshot %s exists: used as it is, nothing requested", final)
        return provenance
    if final.is_dir() and any(final.iterdir()):
        raise InputError(final, "the snapshot folder has files but no provenance.json; "
                                "snapshots are never overwritten")
    store = PageStore(final)
    key = {"source": "citations", "search": spec, "batch_size": settings.batch_size}
    plan = store.resume_plan(key)
    resumed = plan is not None
    tasks = _tasks(spec)
    if plan is None:
        plan = {"key": key, "pages": 0, "elink_done": 0, "linked": [], "fetched": 0,
                "done": False}
    else:
        store.clean_temporaries()
    no_network = NoNetwork("Citation chasing (Entrez elink)", spec["date"],
                           public_url(settings.base_url), str(final))
    with EntrezClient(settings, sleep=sleep or time.sleep, rng=rng,
                      no_network=no_network) as client:
        while plan["elink_done"] < len(tasks):
            direction, seeds = tasks[plan["elink_done"]]
            linkname = LINKNAMES[direction]
            params = {"dbfrom": "pubmed", "db": "pubmed", "linkname": linkname,
                      "id": ",".join(seeds), "retmode": "xml"}
            body, found = client.request(
                "elink", params, lambda b, s=seeds, n=linkname: (b, parse_elink(b, s, n)),
                f"{direction} of {len(seeds)} seed{'s' if len(seeds) != 1 else ''}")
            number = plan["pages"] + 1
            store.write_page(number, "xml", body)
            linked = set(plan["linked"]) | {p for ids in found.values() for p in ids}
            plan = {**plan, "pages": number, "elink_done": plan["elink_done"] + 1,
                    "linked": sorted(linked, key=int)}
            store.save_plan(plan)
        linked = plan["linked"]
        size = settings.batch_size
        while plan["fetched"] < len(linked):
            chunk = linked[plan["fetched"]:plan["fetched"] + size]
            params = {"db": "pubmed", "id": ",".join(chunk), "rettype": "xml",
                      "retmode": "xml"}

            def check(body: bytes, chunk=chunk):
                scanned = scan_pubmed_set(body)
                if sorted(scanned.pmids) != sorted(chunk):
                    raise EutilsResponseError(f"asked for {len(chunk)} PMIDs, got "
                                              f"{len(scanned.pmids)}")
                return body

            body = client.request("efetch", params, check,
                                  f"records {plan['fetched'] + 1}-"
                                  f"{plan['fetched'] + len(chunk)}")
            number = plan["pages"] + 1
            store.write_page(number, "xml", body)
            plan = {**plan, "pages": number, "fetched": plan["fetched"] + len(chunk)}
            store.save_plan(plan)
        stats = client.stats
    pages = store.batch_files()
    provenance = {
        "source": "citations", "search": spec, "search_date": spec["date"],
        "count": len(linked), "pages": len(pages), "files": file_entries(pages),
        "elink_pages": plan["elink_done"], "seeds": len(spec["seeds"]),
        "base_url": public_url(settings.base_url), "api_key_used": bool(settings.api_key),
        "requests": stats.requests, "retries": stats.retries,
        "retry_reasons": dict(sorted(stats.retry_reasons.items())), "resumed": resumed,
        "retrieved_at": _now(), "coverage": COVERAGE_NOTE, "date_limit": DATE_NOTE,
        "after_search_date": len(_late([p for p in pages
                                        if b"<eLinkResult" not in p.read_bytes()[:400]],
                                       spec)),
        "biopython_version": version_of("biopython"), "sysrev_version": version_of("sysrev"),
    }
    store.commit(provenance)
    log.info("citations snapshot %s written: %d seeds, %d linked records", final,
             len(spec["seeds"]), len(linked))
    return provenance


def _now() -> str:
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _pages(folder: Path) -> tuple[list[Path], list[Path]]:
    """(elink pages, efetch pages) of a snapshot, by their root element."""
    elink, efetch = [], []
    for path in sorted(folder.glob("page_*.xml")):
        head = path.read_bytes()[:400]
        (elink if b"<eLinkResult" in head else efetch).append(path)
    return elink, efetch


def entry_dates(folder: Path) -> dict[str, str]:
    """PMID -> the day the record entered PubMed (``YYYY-MM-DD``; the first of the month
    when PubMed gives no day), for each fetched record that has one."""
    return _entry_dates_of(_pages(Path(folder))[1])


def _entry_dates_of(efetch: list[Path]) -> dict[str, str]:
    out = {}
    for path in efetch:
        data = path.read_bytes()
        for article in scan_pubmed_set(data).articles:
            found = _ENTREZ_DATE.search(data, article.start, article.end)
            if found:
                year, month, day = found.groups()
                out[article.pmid] = f"{int(year):04d}-{int(month):02d}-{int(day or 1):02d}"
    return out


def _late(efetch: list[Path], spec: dict[str, Any]) -> set[str]:
    date = spec.get("date")
    if not date:
        return set()
    return {pmid for pmid, day in _entry_dates_of(efetch).items() if day > str(date)}


def after_search_date(snapshot_dir: str | Path) -> set[str]:
    """PMIDs of the found records that entered PubMed after the chase's search date (left
    out of the record table, the links and the versions; logged)."""
    folder = Path(snapshot_dir)
    spec = json.loads((folder / PROVENANCE).read_bytes()).get("search") or {}
    late = _late(_pages(folder)[1], spec)
    if late:
        log.warning("citations snapshot %s: %d found records entered PubMed after the search "
                    "date %s and are left out: %s", folder, len(late), spec.get("date"),
                    ", ".join(sorted(late, key=int)))
    return late


def links(snapshot_dir: str | Path) -> pd.DataFrame:
    """Every found record's provenance: ``pmid, seed_pmid, direction, search_date``."""
    folder = Path(snapshot_dir)
    provenance = read_provenance_checked(folder)
    spec = provenance.get("search") or {}
    rows = []
    elink, _ = _pages(folder)
    reverse = {v: k for k, v in LINKNAMES.items()}
    for path in elink:
        root = ET.parse(path).getroot()
        for linkset in root.findall("LinkSet"):
            seeds = [i.text.strip() for i in linkset.findall("IdList/Id") if i.text]
            for db in linkset.findall("LinkSetDb"):
                direction = reverse.get((db.findtext("LinkName") or "").strip())
                if direction is None:
                    continue
                for link in db.findall("Link/Id"):
                    rows.extend({"pmid": link.text.strip(), "seed_pmid": seed,
                                 "direction": direction,
                                 "search_date": spec.get("date")} for seed in seeds)
    table = pd.DataFrame(rows, columns=["pmid", "seed_pmid", "direction", "search_date"])
    table = table[~table["pmid"].isin(after_search_date(folder))].drop_duplicates()
    order = table.assign(_p=table["pmid"].astype(int), _s=table["seed_pmid"].astype(int))
    return order.sort_values(["_p", "_s", "direction"]).drop(columns=["_p", "_s"]) \
        .reset_index(drop=True)


def read(snapshot_dir: str | Path, spec: dict[str, Any] | None = None) -> pd.DataFrame:
    """The record table of a citation chase (SHA-256 checked first): the linked records,
    ``citations:<PMID>``."""
    folder = Path(snapshot_dir)
    provenance = read_provenance_checked(folder)
    if spec is not None:
        check_spec(provenance, normalise_spec(spec), folder, "citations")
    _, efetch = _pages(folder)
    late = after_search_date(folder)
    rows = []
    for rec in (rec for path in efetch for rec in parse_pubmed_xml(path)):
        if rec["pmid"] in late:
            continue
        rec["source_id"] = rec["pmid"]
        rows.append(rec)
    table = snapshot_record_table(rows, source="citations", folder=folder,
                                  provenance=provenance, left_out=len(late))
    log.info("citations snapshot %s: %d records", folder, len(table))
    return table


def versions(snapshot_dir: str | Path) -> dict[str, str]:
    """PMID -> a digest of the record as PubMed gave it."""
    out = {}
    late = after_search_date(snapshot_dir)
    _, efetch = _pages(Path(snapshot_dir))
    for path in efetch:
        out.update({pmid: digest for pmid, digest in article_digests(path.read_bytes()).items()
                    if pmid not in late})
    return out
