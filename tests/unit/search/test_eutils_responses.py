"""E-utilities answers (real ones from ../shared/testdata/eutils), date windows, pacing."""

import io
import random
from datetime import date

import pytest
from Bio import Entrez

from sysrev.search.efetch_scan import (EutilsResponseError, NcbiError, TruncatedXMLError,
                                       scan_pubmed_set, without_articles)
from sysrev.search.entrez_client import _ncbi_message, parse_esearch
from sysrev.search.pubmed_xml import parse_pubmed_xml
from sysrev.search.ratelimit import RateLimiter, backoff_delay, default_rate
from sysrev.search.windows import DateWindow, search_window, split_window
from tests.eutils_server import StubRecord, article_xml, EFETCH_HEAD


def entrez(testdata, name):
    return testdata / "eutils" / "biopython_Entrez" / name


# -- esearch --------------------------------------------------------------------------------
def test_esearch_with_history_server(testdata):
    result = parse_esearch(entrez(testdata, "esearch2.xml").read_bytes(), retmax=100)
    assert result.count == 42249 and len(result.pmids) == 100
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190" and result.query_key == "1"
    assert result.pmids[0] == "41297076"
    assert result.query_translation.endswith("2025/09/27:2025/11/26[Date - Entry]")


def test_esearch_count_zero_with_phrase_not_found_is_an_empty_result(testdata):
    result = parse_esearch(entrez(testdata, "esearch8.xml").read_bytes(), retmax=9999)
    assert result.count == 0 and result.pmids == () and result.webenv is None
    assert result.phrases_not_found == ("abcXYZ",)
    assert result.warnings == ("No items found.",)


def test_esearch_listing_fewer_ids_than_asked_is_retried(testdata):
    with pytest.raises(EutilsResponseError, match="listed 100 PMIDs where 500"):
        parse_esearch(entrez(testdata, "esearch2.xml").read_bytes(), retmax=500)


@pytest.mark.parametrize("name, message", [
    ("einfo4.xml", "not a readable eSearchResult"),
    ("pubmed3.html", "not a readable eSearchResult"),
])
def test_esearch_unreadable_answers_are_retryable(testdata, name, message):
    with pytest.raises(EutilsResponseError, match=message) as err:
        parse_esearch(entrez(testdata, name).read_bytes())
    assert err.value.retryable


def test_esearch_error_body_names_ncbis_message():
    body = (b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC '
            b'"-//NLM//DTD esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/'
            b'20060628/esearch.dtd">\n<eSearchResult><ERROR>Search Backend failed</ERROR>'
            b"</eSearchResult>")
    with pytest.raises(NcbiError, match="E-utilities error: Search Backend failed"):
        parse_esearch(body)


# -- efetch ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["pubmed1.xml", "pubmed2.xml", "pubmed4.xml", "pubmed5.xml",
                                  "pubmed6.xml", "pubmed7.xml"])
def test_scan_finds_the_pmids_entrez_read_finds(testdata, name):
    data = entrez(testdata, name).read_bytes()
    parsed = Entrez.read(io.BytesIO(data))
    expected = [str(a["MedlineCitation"]["PMID"]) for a in parsed["PubmedArticle"]]
    assert scan_pubmed_set(data).pmids == expected


@pytest.mark.parametrize("name, error, message", [
    ("einfo4.xml", TruncatedXMLError, "truncated XML"),
    ("pubmed3.html", EutilsResponseError, "HTML page"),
    ("journals.xml", EutilsResponseError, "<SerialsSet> document"),
    ("epost2.xml", NcbiError, "Invalid db name specified: nothing"),
    ("esummary8.xml", NcbiError, "Neither query_key nor id specified"),
    ("esearch2.xml", EutilsResponseError, "<eSearchResult> document"),
])
def test_scan_rejects_what_is_not_a_pubmed_article_set(testdata, name, error, message):
    with pytest.raises(error, match=message):
        scan_pubmed_set(entrez(testdata, name).read_bytes())


def test_truncated_efetch_is_detected(testdata):
    data = entrez(testdata, "pubmed2.xml").read_bytes()
    for cut in (len(data) // 3, len(data) - 30, len(data) - 2):
        with pytest.raises(TruncatedXMLError):
            scan_pubmed_set(data[:cut])
    with pytest.raises(EutilsResponseError, match="empty answer"):
        scan_pubmed_set(b"  \n")


def test_cutting_a_record_out_keeps_the_rest_byte_for_byte(testdata):
    data = entrez(testdata, "pubmed1.xml").read_bytes()
    scanned = scan_pubmed_set(data)
    kept = without_articles(data, scanned, {"12091962"})
    assert scan_pubmed_set(kept).pmids == ["9997"]
    second = scanned.articles[1]
    assert data[second.start:second.end] in kept
    assert [str(a["MedlineCitation"]["PMID"]) for a in Entrez.read(io.BytesIO(kept))[
        "PubmedArticle"]] == ["9997"]


def test_comment_correction_pmids_are_not_the_records_pmid():
    record = article_xml(StubRecord(123, date(2020, 1, 1), None, date(2020, 1, 1)))
    record = record.replace(b"</MeshHeadingList>", b"</MeshHeadingList><CommentsCorrectionsList>"
                            b'<CommentsCorrections RefType="Cites"><RefSource>x</RefSource>'
                            b'<PMID Version="1">999</PMID></CommentsCorrections>'
                            b"</CommentsCorrectionsList>")
    data = EFETCH_HEAD + b"<PubmedArticleSet>" + record + b"</PubmedArticleSet>"
    assert scan_pubmed_set(data).pmids == ["123"]


def test_ncbi_429_body_is_read(testdata):
    body = (testdata / "eutils" / "ncbi_http429_rate_limit_body.json").read_bytes()
    assert _ncbi_message(body) == "API rate limit exceeded (count 5, limit 3)"
    assert "157.131" not in _ncbi_message(body)  # "api-key" (the key or the IP) is not repeated


# -- parsing to the record table ----------------------------------------------------------------
def test_collective_name_mathml_and_doi_from_elocation(testdata):
    record = next(parse_pubmed_xml(entrez(testdata, "pubmed7.xml")))
    assert record["pmid"] == "29963580"
    assert "<" not in record["title"] and "<" not in (record["abstract"] or "")
    assert record["doi"]


def test_synthetic_stub_records_parse_to_the_record_table(tmp_path):
    records = [StubRecord(110, date(2021, 5, 4), date(2021, 4, 1), date(2021, 4, 1))]
    path = tmp_path / "x.xml"
    path.write_bytes(EFETCH_HEAD + b"<PubmedArticleSet>" + article_xml(records[0])
                     + b"</PubmedArticleSet>")
    row = next(parse_pubmed_xml(path))
    assert row["pmid"] == "110" and row["doi"] == "10.5555/stub.110" and row["year"] == "2021"
    assert row["abstract"].startswith("BACKGROUND: ") and "<i>" not in row["title"]
    assert row["authors"].endswith("Study Group")  # 110 is a multiple of 11: CollectiveName


# -- date windows ---------------------------------------------------------------------------
def test_split_windows_tile_the_window():
    window = search_window("2024-12-31", None)
    parts = split_window(window, 50000, 9999)
    assert parts[0].start == window.start and parts[-1].end == window.end
    assert all(a.end.toordinal() + 1 == b.start.toordinal() for a, b in zip(parts, parts[1:]))
    assert len(parts) == 7  # ceil(50000 / (0.8 * 9999))


def test_split_of_a_short_window_gives_single_days():
    parts = split_window(DateWindow(date(2024, 1, 1), date(2024, 1, 3)), 100, 10)
    assert [p.days for p in parts] == [1, 1, 1]
    with pytest.raises(ValueError, match="single day 2024-01-01"):
        split_window(parts[0], 100, 10)


def test_window_dates_as_eutils_writes_them():
    window = DateWindow(date(999, 1, 2), date(2024, 12, 31))
    assert (window.mindate, window.maxdate) == ("0999/01/02", "2024/12/31")
    with pytest.raises(ValueError):
        DateWindow(date(2024, 1, 2), date(2024, 1, 1))


# -- pacing ---------------------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("has_key, rate", [(False, 3.0), (True, 10.0)])
def test_rate_limit_spaces_requests(has_key, rate):
    clock = FakeClock()
    limiter = RateLimiter(default_rate(has_key), clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(10):
        limiter.wait()
        starts.append(clock.now)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert gaps == pytest.approx([1 / rate] * 9, abs=1e-12)
    assert (len(starts) - 1) / (starts[-1] - starts[0]) == pytest.approx(rate, rel=1e-12)


def test_rate_limit_does_not_wait_after_a_pause():
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 5
    assert limiter.wait() == 0 and clock.slept == []


def test_backoff_is_exponential_with_jitter_and_capped():
    rng = random.Random(7)
    delays = [backoff_delay(k, base=1.0, cap=60.0, rng=rng) for k in range(1, 10)]
    for k, delay in enumerate(delays, start=1):
        ceiling = min(60.0, 2.0 ** (k - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[:5]}) == 5
    assert backoff_delay(1, base=1.0, cap=60.0, retry_after=20, rng=rng) == 20
    assert backoff_delay(1, base=1.0, cap=60.0, retry_after=600, rng=rng) == 60
