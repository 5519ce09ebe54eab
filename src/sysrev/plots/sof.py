"""The summary-of-findings table rendered as HTML and as a PNG image."""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sysrev.tables import atomic_path  # noqa: E402

HEADERS = [("label", "Outcome"), ("studies", "Studies"), ("participants", "Participants"),
           ("effect", "Relative effect (95% CI)"), ("absolute_effect", "Absolute effect"),
           ("certainty", "Certainty (GRADE)"), ("reasons", "Reasons")]
CERTAINTY_SYMBOLS = {"High": "\u2295\u2295\u2295\u2295", "Moderate": "\u2295\u2295\u2295\u25ef",
                     "Low": "\u2295\u2295\u25ef\u25ef", "Very low": "\u2295\u25ef\u25ef\u25ef"}


def sof_html(table: pd.DataFrame, title: str) -> str:
    """The table as a standalone HTML document."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in HEADERS)
    body = []
    for _, row in table.iterrows():
        cells = []
        for key, _ in HEADERS:
            value = str(row[key]) if pd.notna(row[key]) else ""
            if key == "certainty" and value in CERTAINTY_SYMBOLS:
                value = f"{CERTAINTY_SYMBOLS[value]} {value}"
            if key == "reasons":
                value = "<br>".join(html.escape(v) for v in value.split("; "))
                cells.append(f"<td class='reasons'>{value}</td>")
            else:
                cells.append(f"<td>{html.escape(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title)
            + "</title><style>body{font-family:sans-serif;font-size:13px}"
            "table{border-collapse:collapse}th,td{border:1px solid #999;padding:4px 6px;"
            "vertical-align:top}th{background:#dbe5f1}td.reasons{font-size:11px;"
            "max-width:420px}</style></head><body><h2>" + html.escape(title) + "</h2><table>"
            f"<tr>{head}</tr>" + "".join(body) + "</table></body></html>\n")


def sof_png(table: pd.DataFrame, title: str, path: str | Path, dpi: int = 200) -> None:
    """The table drawn with matplotlib, for documents that take images."""
    widths = {"label": 26, "studies": 7, "participants": 11, "effect": 24,
              "absolute_effect": 26, "certainty": 17, "reasons": 48}
    cells = []
    for _, row in table.iterrows():
        line = []
        for key, _ in HEADERS:
            value = str(row[key]) if pd.notna(row[key]) else ""
            if key == "reasons":
                value = "\n".join(textwrap.fill(v, widths[key]) for v in value.split("; "))
            else:
                value = textwrap.fill(value, widths[key])
            line.append(value)
        cells.append(line)
    heights = [max(c.count("\n") + 1 for c in line) for line in cells]
    fig_height = 0.9 + 0.17 * (sum(heights) + 2 * len(cells))
    fig, ax = plt.subplots(figsize=(16, fig_height))
    ax.set_axis_off()
    total_width = sum(widths.values())
    tbl = ax.table(cellText=cells, colLabels=[h for _, h in HEADERS], loc="upper center",
                   cellLoc="left", colLoc="left",
                   colWidths=[widths[k] / total_width for k, _ in HEADERS])
    tbl.auto_set_font_size(False)
    tbl.set_fontsize(7.5)
    unit = 1 / (sum(heights) + 2 * len(cells) + 3)
    for (r, c), cell in tbl.get_celld().items():
        lines = 1.6 if r == 0 else heights[r - 1] + 1.2
        cell.set_height(lines * unit)
        if r == 0:
            cell.set_facecolor("#dbe5f1")
            cell.set_text_props(weight="bold")
    ax.set_title(title, fontsize=10, loc="left")
    with atomic_path(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, bbox_inches="tight",
                    metadata={"Software": None})
    plt.close(fig)
