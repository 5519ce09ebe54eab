"""Importers: database exports (RIS, Web of Science tagged text) into the record table."""

from sysrev.imports.records import make_record_table
from sysrev.imports.ris import read_ris
from sysrev.imports.wos import read_wos
from sysrev.imports.sources import import_records

__all__ = ["make_record_table", "read_ris", "read_wos", "import_records"]
