"""What the report shows: the methods text, the tables, and the HTML pages they are written as.

Modules: :mod:`~sysrev.report.methods` (the methods text, written from the stage audits),
:mod:`~sysrev.report.tables` (each table the report shows inline, as a standalone page),
:mod:`~sysrev.report.htmltable` (escaped, sortable HTML tables and pages, number formats).
The figures are in :mod:`sysrev.plots`; the rules' functions in :mod:`sysrev.workflow.report`.
"""

from sysrev.report.methods import methods_html

__all__ = ["methods_html"]
