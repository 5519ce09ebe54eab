"""Importers: database exports (RIS, Web of Science tagged text, MEDLINE, EndNote XML,
BibTeX, Ovid field-label text, CSV) into the record table."""

from sysrev.imports.bibtex import read_bibtex
from sysrev.imports.csv_export import read_csv_export
from sysrev.imports.endnote_xml import read_endnote_xml
from sysrev.imports.medline import read_medline
from sysrev.imports.ovid import read_ovid
from sysrev.imports.records import make_record_table
from sysrev.imports.ris import read_ris
from sysrev.imports.wos import read_wos
from sysrev.imports.sources import import_records

__all__ = ["make_record_table", "read_ris", "read_wos", "read_medline", "read_endnote_xml",
           "read_csv_export", "read_bibtex", "read_ovid", "import_records"]
