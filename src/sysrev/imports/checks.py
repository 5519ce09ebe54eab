"""Checks of an export against the size it announces, so that a file cut at a record
boundary (which parses cleanly) is not read as a shorter search result.

- Cochrane Library (Wiley) RIS wraps each record in ``Record #n of m`` lines.
- Web of Science tagged files end with an ``EF`` line after the last ``ER``.
- (RIS and WoS records that are not closed by ``ER`` are caught while counting records, see
  :func:`sysrev.imports.records.count_tagged_records`.)
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
