"""The summary-of-findings table rendered as HTML and as a PNG image."""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.textpath import TextPath  # noqa: E402

from sysrev.grade import CAP_NOTE  # noqa: E402
from sysrev.tables import atomic_path  # noqa: E402

HEADERS = [("label", "Outcome"), ("studies", "Studies"), ("participants", "Participants"),
           ("effect", "Relative effect (95% CI)"), ("absolute_effect", "Absolute effect"),
           ("certainty", "Certainty (GRADE)"), ("reasons", "Reasons")]
# GRADE's symbols: U+2A01 (n-ary circled plus, as GRADEpro prints them) and U+25EF (large
# circle); DejaVu Sans, matplotlib's default font, has both.
CERTAINTY_SYMBOLS = {"High": "\u2a01\u2a01\u2a01\u2a01", "Moderate": "\u2a01\u2a01\u2a01\u25ef",
                     "Low": "\u2a01\u2a01\u25ef\u25ef", "Very low": "\u2a01\u25ef\u25ef\u25ef"}
HEADER_FILL = "#dbe5f1"


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


ABBREVIATIONS = {"RR": "risk ratio", "OR": "odds ratio", "MD": "mean difference",
                 "SMD": "standardised mean difference", "RD": "risk difference"}
FONT = 8
LINE_IN = FONT * 1.4 / 72


def _letters(i: int) -> str:
    return "abcdefghijklmnopqrstuvwxyz"[i] if i < 26 else f"n{i}"


def _plain(text: str) -> str:
    # Cell text is drawn with mathtext on (for the superscript footnote letters): a literal
    # dollar sign must not start a formula.
    return str(text).replace("$", r"\$")


def _sup(letters: list[str]) -> str:
    return f"$^{{{','.join(letters)}}}$" if letters else ""


def _fit(text: str, width_pt: float, size: float) -> str:
    """``text`` wrapped to lines no wider than ``width_pt`` in italic DejaVu Sans at
    ``size``, measured rather than estimated from a character count."""
    prop = FontProperties(style="italic", size=size)
    lines, current = [], ""
    for word in text.split(" "):
        trial = f"{current} {word}".strip()
        if current and TextPath((0, 0), trial, prop=prop).get_extents().width > width_pt:
            lines.append(current)
            current = word
        else:
            current = trial
    return "\n".join(lines + [current])


def sof_png(table: pd.DataFrame, title: str, path: str | Path, dpi: int = 200, *,
            intervention: str = "intervention", comparison: str = "control") -> dict:
    """The table drawn in the layout of GRADE's summary-of-findings tables (Cochrane
    Handbook chapter 14, GRADEpro): outcomes; anticipated absolute effects (risk with the
    comparison, risk with the intervention); relative effect; "№ of participants
    (studies)"; certainty with GRADE's symbols and a footnote letter per downgrade, each
    footnote giving the domain, the levels and the reason. An outcome without analysable
    data takes one line across the table. Numbers carry thousands separators.

    Returns what was drawn: the cell texts by (outcome, column), the footnotes in order, and
    the Figure (closed).
    """
    columns = [("label", "Outcomes", 2.5, 30), ("risk_control", f"Risk with {comparison}",
                                                 2.0, 24),
               ("risk_intervention", f"Risk with {intervention}", 2.3, 27),
               ("effect", "Relative effect\n(95% CI)", 1.45, 17),
               ("participants_studies", "\u2116 of participants\n(studies)", 1.45, 17),
               ("certainty", "Certainty of the\nevidence (GRADE)", 1.6, 19)]
    x = [0.15]
    for _, _, width, _ in columns:
        x.append(x[-1] + width)
    total_w = x[-1] + 0.15
    pad = 0.06

    footnotes: list[str] = []

    def letter(note: str) -> str:
        if note not in footnotes:
            footnotes.append(note)
        return _letters(footnotes.index(note))

    body, cells = [], {}
    for _, row in table.iterrows():
        value = {k: ("" if pd.isna(row.get(k)) else str(row.get(k))) for k, *_ in columns}
        notes = [n for n in str(row.get("footnotes") or "").split(" | ") if n]
        label = "\n".join(textwrap.wrap(value["label"], columns[0][3])) or value["label"]
        if not value["risk_intervention"] and not value["risk_control"] \
                and str(row.get("certainty")) == "not assessable":
            reasons = str(row.get("reasons") or "")
            merged = "No study reported usable data" + (
                " (not analysable: " + reasons.split("not analysable: ", 1)[1] + ")"
                if "not analysable: " in reasons else "")
            merged = merged.replace(" (reasons in pooled.json))", "; reasons in pooled.json)")
            text = _fit(merged, (x[-1] - x[1] - 2 * pad) * 72, FONT - 0.5)
            cells[(row["outcome"], "merged")] = text
            cells[(row["outcome"], "label")] = label
            body.append({"label": label, "merged": text,
                         "lines": max(label.count("\n"), text.count("\n")) + 1})
            continue
        certainty = value["certainty"]
        downgrade_letters = [letter(n) for n in notes if CAP_NOTE not in n]
        cap_letters = [letter(n) for n in notes if CAP_NOTE in n]
        texts = {"label": label}
        texts["risk_control"] = "\n".join(textwrap.wrap(value["risk_control"], columns[1][3]))
        risk = value["risk_intervention"]
        if " (" in risk and risk.endswith(")"):
            risk = risk.replace(" (", "\n(", 1)
        texts["risk_intervention"] = "\n".join(
            "\n".join(textwrap.wrap(part, columns[2][3])) for part in risk.split("\n"))
        effect = value["effect"]
        texts["effect"] = effect.replace(" (", "\n(", 1) if effect != "\u2014" else effect
        texts["participants_studies"] = value["participants_studies"].replace(" (", "\n(", 1)
        texts["certainty"] = (f"{CERTAINTY_SYMBOLS.get(certainty, '')}\n{certainty}"
                              if certainty in CERTAINTY_SYMBOLS else certainty)
        cells.update({(row["outcome"], k): t for k, t in texts.items()})
        texts = {k: _plain(t) for k, t in texts.items()}
        texts["certainty"] += _sup(downgrade_letters)
        texts["risk_intervention"] += _sup(cap_letters)
        body.append({**texts, "lines": max(t.count("\n") + 1 for t in texts.values())})

    measures = sorted(set(table["measure"].dropna()) & set(ABBREVIATIONS))
    legend = [
        "*The risk with the intervention (and its 95% CI) is based on the risk in the "
        "comparison group (events over participants in the control arms) and the relative "
        "effect of the intervention (and its 95% CI).",
        "CI: confidence interval; " + "; ".join(f"{m}: {ABBREVIATIONS[m]}" for m in measures)
        + ".",
        "GRADE certainty: \u2a01\u2a01\u2a01\u2a01 High; \u2a01\u2a01\u2a01\u25ef Moderate; "
        "\u2a01\u2a01\u25ef\u25ef Low; \u2a01\u25ef\u25ef\u25ef Very low. Downgrades are "
        "suggested from the data and reviewers' overrides (grade_overrides).",
    ] + [f"{_letters(i)}. {note}" for i, note in enumerate(footnotes)]
    wrap_chars = int(total_w * 72 / (FONT * 0.55))
    legend_text = "\n".join("\n".join(textwrap.wrap(line, wrap_chars)) for line in legend)
    legend_lines = legend_text.count("\n") + 1

    header_h = 3 * LINE_IN + 2 * pad
    heights = [r["lines"] * LINE_IN + 2 * pad for r in body]
    title_h = 0.45
    total_h = title_h + header_h + sum(heights) + 0.15 + legend_lines * LINE_IN + 0.2
    fig = plt.figure(figsize=(total_w, total_h))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, total_w)
    ax.set_ylim(0, total_h)
    ax.set_axis_off()

    y = total_h - 0.15
    ax.text(x[0], y, _plain(title), fontsize=FONT + 3, weight="bold", va="top", ha="left")
    y = total_h - title_h
    rule = {"color": "#555555", "lw": 0.8}
    ax.add_patch(Rectangle((x[0], y - header_h), x[-1] - x[0], header_h,
                           facecolor=HEADER_FILL, edgecolor="none"))
    ax.plot([x[0], x[-1]], [y, y], **rule)
    # Two header levels: the absolute effects span their two columns.
    ax.text((x[1] + x[3]) / 2, y - pad, "Anticipated absolute effects* (95% CI)",
            fontsize=FONT, weight="bold", ha="center", va="top")
    ax.plot([x[1] + pad, x[3] - pad], [y - LINE_IN - 1.4 * pad] * 2, color="#555555", lw=0.5)
    for i, (key, header, _, _) in enumerate(columns):
        top = y - LINE_IN - 2 * pad if key in ("risk_control", "risk_intervention") else y - pad
        ax.text(x[i] + pad, top, _plain(header), fontsize=FONT, weight="bold", va="top",
                ha="left")
    y -= header_h
    ax.plot([x[0], x[-1]], [y, y], **rule)
    for r, h in zip(body, heights):
        ax.text(x[0] + pad, y - pad, r["label"], fontsize=FONT, va="top", ha="left",
                weight="bold")
        if "merged" in r:
            ax.text(x[1] + pad, y - pad, _plain(r["merged"]), fontsize=FONT - 0.5, va="top",
                    ha="left", style="italic", gid="merged")
        else:
            for i, (key, *_rest) in enumerate(columns[1:], start=1):
                ax.text(x[i] + pad, y - pad, r[key], fontsize=FONT, va="top", ha="left",
                        gid=key)
        y -= h
        ax.plot([x[0], x[-1]], [y, y], color="#999999", lw=0.5)
    ax.plot([x[0], x[-1]], [y, y], **rule)
    ax.text(x[0], y - 0.12, _plain(legend_text), fontsize=FONT - 0.5, va="top", ha="left",
            linespacing=1.25, gid="footnotes")
    with atomic_path(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return {"cells": cells, "footnotes": footnotes, "legend": legend, "figure": fig}
