"""Self-contained HTML tables for ``snakemake --report``.

The report shows an HTML output inline (in a frame) but offers a TSV only as a download, so
every table the report shows is written as one small HTML page: escaped cells, a caption,
optional notes, and columns sortable by a click on their header (a few lines of inline
JavaScript; no external files, so the page works inside the report's data URI and in a zip).
"""

from __future__ import annotations

import html
import math
from typing import Iterable, Sequence

import pandas as pd

STYLE = ("body{font-family:sans-serif;font-size:13px;margin:8px}"
         "table{border-collapse:collapse;margin:6px 0}"
         "caption{caption-side:top;text-align:left;font-weight:bold;padding:4px 0}"
         "th,td{border:1px solid #999;padding:3px 6px;vertical-align:top;text-align:left}"
         # Headers wrap between words: a long header must not widen its column past the
         # window (the report's pane is about 600 pixels wide at a 900-pixel window).
         "th{background:#dbe5f1;cursor:pointer}"
         "td{white-space:pre-line}td.num{text-align:right;white-space:nowrap}"
         "p.note{max-width:980px;margin:4px 0}"
         "p.disclosure{max-width:980px;margin:6px 0;padding:6px;border:1px solid #c9a100;"
         "background:#fff8db}")

# Click a header: sort by that column (numbers as numbers, empty cells last); click again to
# reverse. Cells carry their sort key in data-sort when the text is not the value.
SORT_SCRIPT = (
    "document.querySelectorAll('table.sortable').forEach(function(t){"
    "t.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',"
    "function(){var b=t.tBodies[0],r=Array.from(b.rows),d=th.dataset.dir==='a'?-1:1;"
    "th.dataset.dir=d===1?'a':'d';r.sort(function(x,y){"
    "var p=x.cells[i],q=y.cells[i],u=p.dataset.sort!==undefined?p.dataset.sort:p.textContent,"
    "v=q.dataset.sort!==undefined?q.dataset.sort:q.textContent;"
    "if(u===''&&v!=='')return 1;if(v===''&&u!=='')return -1;"
    "var a=parseFloat(u),c=parseFloat(v);"
    "if(!isNaN(a)&&!isNaN(c)&&isFinite(u)&&isFinite(v))return d*(a-c);"
    "return d*u.localeCompare(v);});r.forEach(function(x){b.appendChild(x);});});});});")


def is_missing(value: object) -> bool:
    """True for None, NaN and empty text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value == ""


def _cell(value: object, numeric: bool) -> str:
    text = "" if is_missing(value) else str(value)
    css = " class='num'" if numeric else ""
    return f"<td{css}>{html.escape(text)}</td>"


def html_table(frame: pd.DataFrame, *, caption: str = "", headers: Sequence[str] | None = None,
               numeric: Iterable[str] = (), sortable: bool = True) -> str:
    """One ``<table>`` element: every cell escaped, the caption on top.

    Parameters
    ----------
    frame
        The rows to show, in order; cells are shown as text (format numbers first).
    caption
        The table's caption (plain text, escaped).
    headers
        Column headers to show instead of the column names (same length as the columns).
    numeric
        Columns aligned right (numbers).
    sortable
        Whether a click on a header sorts the rows.
    """
    headers = list(headers) if headers is not None else [str(c) for c in frame.columns]
    if len(headers) != len(frame.columns):
        raise ValueError(f"html_table: {len(headers)} headers for {len(frame.columns)} columns")
    numeric = set(numeric)
    flags = [column in numeric for column in frame.columns]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    rows = []
    for values in frame.itertuples(index=False, name=None):
        rows.append("<tr>" + "".join(_cell(v, f) for v, f in zip(values, flags)) + "</tr>")
    if not rows:
        rows.append(f"<tr><td colspan='{len(headers)}'>(none)</td></tr>")
    css = " class='sortable'" if sortable else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f"<table{css}>{cap}<thead><tr>{head}</tr></thead><tbody>\n"
            + "\n".join(rows) + "\n</tbody></table>")


def html_page(title: str, parts: Sequence[str], *, notes: Sequence[str] = (),
              disclosure: str = "") -> str:
    """A standalone HTML document: a heading, the disclosure (when given), the parts
    (tables or paragraphs, already HTML) and notes (plain text, escaped) under them."""
    body = [f"<h3>{html.escape(title)}</h3>"]
    if disclosure:
        body.append(f"<p class='disclosure'><b>Note on this review:</b> "
                    f"{html.escape(disclosure)}</p>")
    body.extend(parts)
    body.extend(f"<p class='note'>{html.escape(n)}</p>" for n in notes if n)
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>" + html.escape(title)
            + f"</title><style>{STYLE}</style></head><body>\n" + "\n".join(body)
            + f"\n<script>{SORT_SCRIPT}</script></body></html>\n")


def number(value: object, digits: int = 2) -> str:
    """A number with ``digits`` decimals ('' when missing; text that is no number as is)."""
    if is_missing(value):
        return ""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    return f"{x:.{digits}f}"


def p_value(value: object) -> str:
    """A p-value as journals print it: three decimals, '<0.001' below that."""
    if is_missing(value):
        return ""
    x = float(value)
    if math.isnan(x):
        return ""
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 study', '2 studies', '0 studies'."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
