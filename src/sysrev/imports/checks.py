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


def check_wiley_record_numbers(text: str, path: str | Path, records: int) -> None:
    """Check Cochrane Library ``Record #n of m`` lines against the records read.

    A file holding records ``#1`` … ``#k`` of ``m`` with ``k < m`` was cut after record
    ``k``: an error. Numbers that are not consecutive from 1 (a selection someone saved from
    a longer export) are reported as a warning.
    """
    seen: list[tuple[int, int, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if m := _WILEY.match(line.strip()):
            seen.append((int(m.group(1)), int(m.group(2)), number))
    if not seen:
        return
    totals = {total for _, total, _ in seen}
    if len(totals) > 1:
        raise InputError(path, f"'Record #n of m' lines announce different totals "
                               f"{sorted(totals)}: are several exports concatenated?",
                         line=seen[0][2])
    total = totals.pop()
    numbers = [n for n, _, _ in seen]
    beyond = [(n, line) for n, _, line in seen if n > total]
    if beyond or len(numbers) > total:
        n, line = beyond[0] if beyond else (numbers[-1], seen[-1][2])
        raise InputError(path, f"'Record #{n} of {total}': the export announces {total} "
                               f"records but holds {len(numbers)} (records added to it, or "
                               "two exports joined?)", line=line)
    if numbers == list(range(1, len(numbers) + 1)):
        if len(numbers) < total:
            raise InputError(path, f"the export announces {total} records ('Record "
                                   f"#{numbers[-1]} of {total}') but ends after record "
                                   f"{numbers[-1]}: the file is cut", line=seen[-1][2])
    else:
        log.warning("%s: 'Record #n of %d' numbers are not 1..%d (%s…): a selection from a "
                    "longer export?", path, total, len(numbers),
                    ", ".join(map(str, numbers[:8])))
    if len(numbers) != records:
        raise InputError(path, f"{len(numbers)} 'Record #n of {total}' lines but {records} "
                               "records read")


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
