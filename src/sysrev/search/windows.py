"""Date windows for PubMed searches with more hits than E-utilities will page through.

PubMed's esearch and efetch stop at record 9,999 of a result set. A larger search is cut into
date windows (esearch ``mindate``/``maxdate``, both inclusive, on the configured date type)
until every window fits, and the windows' results are united. The windows never overlap in
dates, but with the publication date a record can still fall in two of them: PubMed matches
``[dp]`` on both the print and the electronic date. The client therefore unites by PMID.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

#: The most records E-utilities returns from one result set (retstart stops at 9,998).
MAX_RETRIEVABLE = 9999

#: Lower bound of a search with no start date: before PubMed's oldest records (1781).
EARLIEST = date(1700, 1, 1)

DATE_TYPES = {"publication": "pdat", "entrez": "edat"}


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"date window ends before it starts: {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def mindate(self) -> str:
        return eutils_date(self.start)

    @property
    def maxdate(self) -> str:
        return eutils_date(self.end)

    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def eutils_date(day: date) -> str:
    """A date as E-utilities writes it, ``YYYY/MM/DD``."""
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def parse_date(value: str) -> date:
    """``YYYY-MM-DD`` or ``YYYY/MM/DD`` to a date."""
    return date.fromisoformat(value.replace("/", "-"))


def search_window(search_date: str, start_date: str | None) -> DateWindow:
    """The whole window of a search: from the start date (or :data:`EARLIEST`) to its date."""
    return DateWindow(parse_date(start_date) if start_date else EARLIEST,
                      parse_date(search_date))


def split_window(window: DateWindow, count: int, limit: int) -> list[DateWindow]:
    """Cut ``window``, which holds ``count`` hits, into consecutive windows of equal length.

    The number of parts aims for windows of about 80% of ``limit`` if the hits were spread
    evenly, so that most windows fit at the first cut and few need a second esearch; windows
    that still hold too many are cut again by the caller.

    Raises
    ------
    ValueError
        When the window is a single day, which cannot be cut further.
    """
    if window.days == 1:
        raise ValueError(
            f"{count} records on the single day {window.start.isoformat()} exceed the "
            f"{limit} that E-utilities returns from one search; narrow the query")
    parts = min(window.days, max(2, math.ceil(count / (0.8 * limit))))
    edges = [window.start + timedelta(days=round(i * window.days / parts))
             for i in range(parts + 1)]
    return [DateWindow(a, b - timedelta(days=1)) for a, b in zip(edges, edges[1:]) if b > a]
