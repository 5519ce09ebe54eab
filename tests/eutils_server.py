"""A local E-utilities server for tests and benchmarks (standard library only).

It serves ``esearch.fcgi`` (history server WebEnv/QueryKey, retstart/retmax, mindate/maxdate
on pdat or edat) and ``efetch.fcgi`` (PubmedArticleSet XML from a WebEnv) over a list of
synthetic PubMed records, on 127.0.0.1 and an ephemeral port, in a background thread. Like
PubMed, it pages through at most 9,999 records of a result set, and a record matches a
publication-date window on its print or its electronic date.

Faults are injected per E-utility, consumed one per request in order::

    stub.faults["efetch"] += ["429", "503", "timeout", "truncated", "drop", "drop_mid",
                              "wrong_count", "html", "error"]

``stub.down`` (a fault kind) applies to every request while it is set. Every request is
recorded in ``stub.requests`` as ``(utility, params)``.

The records are made up here, from a seed; they are test fixtures, not review data.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TESTDATA = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"

#: NCBI's body with HTTP 429, as in ../shared/testdata/eutils/ncbi_http429_rate_limit_body.json
#: (a protocol message; used inline when the shared test data is absent).
NCBI_429_BODY = (b'{"error":"API rate limit exceeded","api-key":"157.131.198.215",'
                 b'"count":"5","limit":"3"}')

ESEARCH_HEAD = (b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC '
                b'"-//NLM//DTD esearch 20060628//EN" '
                b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n')
EFETCH_HEAD = (b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD '
               b'PubMedArticle, 1st January 2025//EN" '
               b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n')
HTML_PAGE = (b"<html><head><title>502 Proxy Error</title></head><body><h1>Proxy Error</h1>"
             b"<p>The proxy server received an invalid response.</p></body></html>")

FAULTS = ("429", "500", "502", "503", "timeout", "truncated", "drop", "drop_mid",
          "wrong_count", "html", "error")  # and "file:<path>": serve a file


def ncbi_429_body() -> bytes:
    path = TESTDATA / "eutils" / "ncbi_http429_rate_limit_body.json"
    return path.read_bytes().strip() if path.is_file() else NCBI_429_BODY


@dataclass(frozen=True)
class StubRecord:
    """A synthetic PubMed record: PMID, print date, optional electronic date, entrez date."""

    pmid: int
    pub_date: date
    epub_date: date | None
    entrez_date: date

    def matches(self, datetype: str, start: date, end: date) -> bool:
        if datetype == "edat":
            return start <= self.entrez_date <= end
        return any(d is not None and start <= d <= end for d in (self.pub_date, self.epub_date))


_WORDS = ("denosumab rheumatoid arthritis bone erosion randomised trial placebo cohort "
          "radiographic progression osteoclast RANKL inhibition safety efficacy joint "
          "damage structural outcome biomarker serum calcium fracture risk").split()


def make_records(n: int, *, seed: int = 0, first_pmid: int = 30000000,
                 start: date = date(2015, 1, 1), end: date = date(2025, 12, 31),
                 epub_share: float = 0.3) -> list[StubRecord]:
    """``n`` records with distinct PMIDs and dates spread over ``start``..``end``.

    A share ``epub_share`` of them has an electronic date 1-60 days before the print date,
    so that a publication-date window split can put one record in two windows.
    """
    rng = random.Random(seed)
    span = (end - start).days
    records = []
    for i in range(n):
        pub = start + timedelta(days=rng.randrange(span + 1))
        epub = pub - timedelta(days=rng.randint(1, 60)) if rng.random() < epub_share else None
        if epub is not None and epub < start:
            epub = None
        records.append(StubRecord(first_pmid + i * 7 + rng.randrange(7), pub, epub,
                                  epub or pub))
    return records


def article_xml(record: StubRecord) -> bytes:
    """The PubmedArticle of a synthetic record (DTD-valid, with the usual parts)."""
    rng = random.Random(record.pmid)
    words = lambda k: " ".join(rng.choice(_WORDS) for _ in range(k))  # noqa: E731
    title = f"{words(6).capitalize()} in <i>{words(2)}</i>: record {record.pmid}."
    sections = "".join(
        f'<AbstractText Label="{label}" NlmCategory="{label}">{escape(words(40))}.'
        f"</AbstractText>" for label in ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"))
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>{rng.choice(["Smith", "Tanaka", "Müller", "Okafor"])}'
        f"</LastName><ForeName>{rng.choice('ABCDEFGH')}</ForeName><Initials>"
        f"{rng.choice('ABCDEFGH')}</Initials></Author>" for _ in range(rng.randint(1, 4)))
    if record.pmid % 11 == 0:
        authors += '<Author ValidYN="Y"><CollectiveName>Study Group</CollectiveName></Author>'
    pub, epub = record.pub_date, record.epub_date
    article_date = (f'<ArticleDate DateType="Electronic"><Year>{epub.year}</Year><Month>'
                    f"{epub.month:02d}</Month><Day>{epub.day:02d}</Day></ArticleDate>"
                    if epub else "")
    doi = f"10.5555/stub.{record.pmid}"
    ed = record.entrez_date
    text = (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">'
        f'<PMID Version="1">{record.pmid}</PMID>'
        f'<Article PubModel="{"Print-Electronic" if epub else "Print"}"><Journal>'
        f'<ISSN IssnType="Electronic">1234-5678</ISSN><JournalIssue CitedMedium="Internet">'
        f"<Volume>{pub.year - 1990}</Volume><Issue>{pub.month}</Issue><PubDate><Year>"
        f"{pub.year}</Year><Month>{pub.strftime('%b')}</Month><Day>{pub.day:02d}</Day>"
        f"</PubDate></JournalIssue><Title>Journal of Synthetic Records</Title>"
        f"<ISOAbbreviation>J Synth Rec</ISOAbbreviation></Journal>"
        f"<ArticleTitle>{title}</ArticleTitle><Pagination><MedlinePgn>{record.pmid % 900 + 1}"
        f"-{record.pmid % 900 + 9}</MedlinePgn></Pagination>"
        f'<ELocationID EIdType="doi" ValidYN="Y">{doi}</ELocationID>'
        f"<Abstract>{sections}</Abstract>"
        f'<AuthorList CompleteYN="Y">{authors}</AuthorList><Language>eng</Language>'
        f'<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
        f"</PublicationTypeList>{article_date}</Article>"
        f"<MedlineJournalInfo><Country>England</Country><MedlineTA>J Synth Rec</MedlineTA>"
        f"<NlmUniqueID>000000000</NlmUniqueID></MedlineJournalInfo>"
        f'<MeshHeadingList><MeshHeading><DescriptorName UI="D001172" MajorTopicYN="Y">'
        f"Arthritis, Rheumatoid</DescriptorName></MeshHeading><MeshHeading>"
        f'<DescriptorName UI="D006801" MajorTopicYN="N">Humans</DescriptorName></MeshHeading>'
        f"</MeshHeadingList></MedlineCitation><PubmedData><History>"
        f'<PubMedPubDate PubStatus="entrez"><Year>{ed.year}</Year><Month>{ed.month}</Month>'
        f"<Day>{ed.day}</Day></PubMedPubDate></History>"
        f"<PublicationStatus>{'aheadofprint' if epub else 'ppublish'}</PublicationStatus>"
        f'<ArticleIdList><ArticleId IdType="pubmed">{record.pmid}</ArticleId>'
        f'<ArticleId IdType="doi">{doi}</ArticleId></ArticleIdList></PubmedData>'
        f"</PubmedArticle>\n")
    return text.encode("utf-8")


def _date(value: str | None, default: date) -> date:
    if not value:
        return default
    parts = [int(p) for p in value.replace("-", "/").split("/")]
    parts += [1] * (3 - len(parts))
    return date(*parts)


class EutilsStub:
    """The server; use as a context manager. ``url`` is its E-utilities base URL."""

    def __init__(self, records: list[StubRecord], *, max_retrievable: int = 9999,
                 fault_delay: float = 1.0, serve_delay: float = 0.0):
        self.records = sorted(records, key=lambda r: -r.pmid)  # PubMed: newest first
        self.max_retrievable = max_retrievable
        self.fault_delay = fault_delay
        self.serve_delay = serve_delay
        self.faults: dict[str, list[str | None]] = {"esearch": [], "efetch": []}
        self.down: str | None = None
        self.echo_api_key = False
        self._last_key: str | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.history: dict[str, list[StubRecord]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> "EutilsStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                stub._handle(self, parts.path, parse_qs(parts.query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                params.update(parse_qs(body))
                stub._handle(self, parts.path, params)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for serve_forever to look again: every 0.05 s, not the default 0.5 s
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "EutilsStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    # -- bookkeeping ----------------------------------------------------------------------
    def count(self, utility: str | None = None) -> int:
        with self._lock:
            return sum(1 for u, _ in self.requests if utility is None or u == utility)

    def efetch_starts(self) -> list[tuple[str, int]]:
        """(WebEnv, retstart) of every efetch request, in order."""
        with self._lock:
            return [(p.get("WebEnv", ""), int(p.get("retstart", 0)))
                    for u, p in self.requests if u == "efetch"]

    # -- serving --------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, path: str,
                raw: dict[str, list[str]]) -> None:
        utility = path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        params = {k: v[-1] for k, v in raw.items()}
        with self._lock:
            self.requests.append((utility, params))
            self._last_key = params.get("api_key")
            queue = self.faults.get(utility, [])
            fault = self.down or (queue.pop(0) if queue else None)
        if self.serve_delay:
            time.sleep(self.serve_delay)
        try:
            if utility == "esearch":
                status, body, kind = 200, self._esearch(params, fault), "text/xml"
            elif utility == "efetch":
                status, body, kind = 200, self._efetch(params, fault), "text/xml"
            else:
                status, body, kind = 404, b"unknown E-utility", "text/plain"
            self._send(handler, status, body, kind, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout fault)

    def _send(self, handler, status: int, body: bytes, kind: str, fault: str | None) -> None:
        if fault == "timeout":
            time.sleep(self.fault_delay)
        elif fault == "429":
            status, body, kind = 429, ncbi_429_body(), "application/json"
            if self.echo_api_key and self._last_key:
                # NCBI's 429 body names the caller in "api-key": the key when one was sent.
                body = body.replace(b"157.131.198.215", self._last_key.encode())
        elif fault in ("500", "502", "503"):
            status, body, kind = int(fault), b"<html><body>Server error</body></html>", \
                "text/html"
        elif fault == "html":
            body, kind = HTML_PAGE, "text/html"
        elif fault and fault.startswith("file:"):
            body = Path(fault[5:]).read_bytes()
            kind = "application/json" if fault.endswith(".json") else "text/xml"
        elif fault == "truncated":
            body = body[:len(body) // 2]
        elif fault == "drop":
            handler.close_connection = True
            return
        handler.send_response(status)
        handler.send_header("Content-Type", f"{kind}; charset=UTF-8")
        handler.send_header("Content-Length", str(len(body)))
        if fault == "drop_mid":
            handler.end_headers()
            handler.wfile.write(body[:len(body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.end_headers()
        handler.wfile.write(body)

    def _esearch(self, params: dict[str, str], fault: str | None) -> bytes:
        if fault == "error":
            return ESEARCH_HEAD + b"<eSearchResult><ERROR>Search Backend failed: stub</ERROR>" \
                                  b"</eSearchResult>\n"
        term = params.get("term", "")
        datetype = params.get("datetype", "pdat")
        start = _date(params.get("mindate"), date(1, 1, 1))
        end = _date(params.get("maxdate"), date(9999, 12, 31))
        retstart = int(params.get("retstart", 0))
        retmax = int(params.get("retmax", 20))
        translation = f"{escape(term)} AND {start:%Y/%m/%d}:{end:%Y/%m/%d}[{datetype}]"
        if "NOTFOUNDPHRASE" in term:
            return ESEARCH_HEAD + (
                "<eSearchResult><Count>0</Count><RetMax>0</RetMax><RetStart>0</RetStart>"
                f"<IdList/><TranslationSet/><QueryTranslation>{translation}</QueryTranslation>"
                "<ErrorList><PhraseNotFound>NOTFOUNDPHRASE</PhraseNotFound></ErrorList>"
                "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
                "</eSearchResult>\n").encode()
        hits = [r for r in self.records if r.matches(datetype, start, end)]
        listed = hits[retstart:min(retstart + retmax, self.max_retrievable)]
        history = ""
        if params.get("usehistory") == "y":
            with self._lock:
                webenv = f"MCID_stub{len(self.history) + 1:06d}"
                self.history[webenv] = hits
            history = f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
        ids = "".join(f"<Id>{r.pmid}</Id>\n" for r in listed)
        return ESEARCH_HEAD + (
            f"<eSearchResult><Count>{len(hits)}</Count><RetMax>{len(listed)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>\n{ids}</IdList>"
            f"<TranslationSet/><QueryTranslation>{translation}</QueryTranslation>"
            "</eSearchResult>\n").encode()

    def _efetch(self, params: dict[str, str], fault: str | None) -> bytes:
        hits = self.history.get(params.get("WebEnv", ""))
        if fault == "error" or hits is None or params.get("query_key") != "1":
            message = "Unable to obtain query #1" if fault != "error" else "Backend busy"
            return (b'<?xml version="1.0" encoding="UTF-8" ?>\n<eFetchResult>\n\t<ERROR>'
                    + message.encode() + b"</ERROR>\n</eFetchResult>\n")
        retstart = int(params.get("retstart", 0))
        retmax = int(params.get("retmax", 20))
        chosen = hits[retstart:min(retstart + retmax, self.max_retrievable)]
        if fault == "wrong_count" and chosen:
            chosen = chosen[:-1]
        return (EFETCH_HEAD + b"<PubmedArticleSet>\n" + b"".join(article_xml(r) for r in chosen)
                + b"</PubmedArticleSet>\n")


def main() -> None:
    """Serve synthetic records until stdin closes: ``python -m tests.eutils_server N``.

    Prints the base URL on the first line of stdout (used by the benchmark, which runs the
    server in its own process so that the client's memory is measured alone).
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("records", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with EutilsStub(make_records(args.records, seed=args.seed, start=date(1990, 1, 1),
                                 end=date(2025, 12, 31))) as stub:
        print(stub.url, flush=True)
        sys.stdin.read()
        print(f"requests {stub.count()} esearch {stub.count('esearch')} "
              f"efetch {stub.count('efetch')}", flush=True)


if __name__ == "__main__":
    main()
