"""Checks of an export against the size it announces, so that a file cut at a record
boundary (which parses cleanly) is not read as a shorter search result.

- Cochrane Library (Wiley) RIS wraps each record in ``Record #n of m`` lines.
- Web of Science tagged files end with an ``EF`` line after the last ``ER``.
- (RIS and WoS records that are not closed by ``ER`` are caught while counting records, see
  :func:`sysrev.imports.records.count_tagged_records`.)
- MEDLINE and Ovid records have no end mark: a last record cut short is told by a field the
  exporter always writes (PubMed's ``SO``, Ovid's ``Source``) missing from it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from sysrev.errors import InputError

log = logging.getLogger(__name__)

_WILEY = re.compile(r"^Record #(\d+) of (\d+)\s*$")


class WileyNumbers:
    """The Cochrane Library ``Record #n of m`` lines of an export, gathered line by line
    (:meth:`add`) in memory that does not grow with the file, and checked at the end
    (:meth:`check`)."""

    def __init__(self) -> None:
        self.count = 0
        self.totals: set[int] = set()
        self.first_line = self.last_line = 0
        self.last_number = 0
        self.consecutive = True
        self.first_numbers: list[int] = []
        self.first_beyond: tuple[int, int] | None = None  # (n, line) of an n above its m

    def add(self, line: str, number: int) -> None:
        """Note ``line`` (line ``number`` of the file) if it is a ``Record #n of m`` line."""
        if "Record #" not in line or not (m := _WILEY.match(line.strip())):
            return
        n, total = int(m.group(1)), int(m.group(2))
        self.count += 1
        self.totals.add(total)
        if self.count == 1:
            self.first_line = number
        self.last_line, self.last_number = number, n
        self.consecutive = self.consecutive and n == self.count
        if n > total and self.first_beyond is None:
            self.first_beyond = (n, number)
        if len(self.first_numbers) < 8:
            self.first_numbers.append(n)

    def check(self, path: str | Path, records: int) -> None:
        """See :func:`check_wiley_record_numbers`."""
        if not self.count:
            return
        if len(self.totals) > 1:
            raise InputError(path, f"'Record #n of m' lines announce different totals "
                                   f"{sorted(self.totals)}: are several exports "
                                   "concatenated?", line=self.first_line)
        total = next(iter(self.totals))
        if self.first_beyond or self.count > total:
            n, line = self.first_beyond or (self.last_number, self.last_line)
            raise InputError(path, f"'Record #{n} of {total}': the export announces {total} "
                                   f"records but holds {self.count} (records added to it, or "
                                   "two exports joined?)", line=line)
        if self.consecutive:
            if self.count < total:
                raise InputError(path, f"the export announces {total} records ('Record "
                                       f"#{self.last_number} of {total}') but ends after "
                                       f"record {self.last_number}: the file is cut",
                                 line=self.last_line)
        else:
            log.warning("%s: 'Record #n of %d' numbers are not 1..%d (%s…): a selection from "
                        "a longer export?", path, total, self.count,
                        ", ".join(map(str, self.first_numbers)))
        if self.count != records:
            raise InputError(path, f"{self.count} 'Record #n of {total}' lines but {records} "
                                   "records read")


def check_wiley_record_numbers(text: str, path: str | Path, records: int) -> None:
    """Check Cochrane Library ``Record #n of m`` lines against the records read.

    A file holding records ``#1`` … ``#k`` of ``m`` with ``k < m`` was cut after record
    ``k``: an error. Numbers that are not consecutive from 1 (a selection someone saved from
    a longer export) are reported as a warning.
    """
    numbers = WileyNumbers()
    for number, line in enumerate(text.split("\n"), start=1):
        numbers.add(line, number)
    numbers.check(path, records)


def check_wos_end(text: str, path: str | Path) -> None:
    """A Web of Science file that starts with its ``FN`` header must end with ``EF``."""
    lines = text.rstrip().split("\n")
    if not lines or not lines[0].lstrip("\ufeff").startswith("FN "):
        return
    if lines[-1].strip() != "EF":
        raise InputError(path, "no 'EF' line at the end of the Web of Science export: the "
                               "file is cut (the last record may be whole, but records "
                               "after it are missing)", line=len(lines))


def check_last_record_complete(fields: list[list[str]], path: str | Path,
                               line: int | None, closing: tuple[str, ...]) -> None:
    """Fail when the last record lacks a field that every other record has and that the
    format writes in every record (``closing``: PubMed's ``SO``, Ovid's ``Source``).

    ``fields`` holds each record's field tags (or labels) in file order. MEDLINE and Ovid
    exports have no end-of-record mark, so a file cut inside its last record parses cleanly
    into a partial record. Optional fields (an abstract) are not evidence: a record may
    lack them; only fields the exporter always writes are checked.
    """
    if len(fields) < 2:
        return
    for tag in closing:
        if all(tag in tags for tags in fields[:-1]) and tag not in fields[-1]:
            raise InputError(path, f"the last record has no '{tag}' field, which every other "
                                   "record of the file has: the file is cut inside it",
                             line=line)
