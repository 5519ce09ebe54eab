"""Rule spreadsheet_tables: spreadsheet-safe CSV copies of records.tsv and unique.tsv."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # this workflow's own sysrev first

from sysrev.workflow.logs import rule_log
from sysrev.workflow.spreadsheets import spreadsheet_tables

with rule_log(snakemake.log[0]):
    spreadsheet_tables(records=snakemake.input.records, unique=snakemake.input.unique,
                       records_csv=snakemake.output.records, unique_csv=snakemake.output.unique)
