"""Errors raised for bad user input.

Every message names the file, and where it applies the line or row and the field, so that a
reviewer can find and fix the offending cell without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A user-provided file is malformed or inconsistent."""

    def __init__(self, path: str | Path, message: str, *, row: int | None = None,
                 field: str | None = None, line: int | None = None):
        self.path = str(path)
        self.row = row
        self.field = field
        self.line = line
        where = [self.path]
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}")


class InputErrors(InputError):
    """Several problems found in one file, reported together."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.problems = list(problems)
        listing = "\n  ".join(self.problems)
        ValueError.__init__(self, f"{path}: {len(self.problems)} "
                            f"{'problem' if len(self.problems) == 1 else 'problems'}:\n  {listing}")
        self.path = str(path)
        self.row = self.field = self.line = None


def columns_word(names) -> str:
    """'column' for one name, 'columns' for several: for messages that list them."""
    return "column" if len(names) == 1 else "columns"
