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

# GRADE's symbols: U+2A01 (n-ary circled plus, as GRADEpro prints them) and U+25EF (large
# circle); DejaVu Sans, matplotlib's default font, has both.
CERTAINTY_SYMBOLS = {"High": "\u2a01\u2a01\u2a01\u2a01", "Moderate": "\u2a01\u2a01\u2a01\u25ef",
                     "Low": "\u2a01\u2a01\u25ef\u25ef", "Very low": "\u2a01\u25ef\u25ef\u25ef"}
HEADER_FILL = "#dbe5f1"


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


def sentence_case(label: str) -> str:
    """A configured label as it reads mid-sentence: "Control" -> "control", "Denosumab" ->
    "denosumab"; an acronym or a name in capitals ("TNF inhibitors", "DMARDs") is kept."""
    label = str(label).strip()
    if len(label) > 1 and (label[1].isupper() or label[1].isdigit()):
        return label
    return label[:1].lower() + label[1:]


def sof_title(intervention: str, comparison: str, condition: str = "") -> str:
    """GRADE's title of a summary-of-findings table: "<Intervention> compared with
    <comparison> for <health problem or population>" (Cochrane Handbook 14.1.6)."""
    first = str(intervention).strip()
    title = f"{first[:1].upper()}{first[1:]} compared with {sentence_case(comparison)}"
    return f"{title} for {condition.strip()}" if condition and condition.strip() else title


def sof_context(*, population: str = "", setting: str = "", intervention: str = "",
                comparison: str = "") -> list[tuple[str, str]]:
    """The lines under the title of a GRADE table, for those the configuration gives."""
    lines = [("Patient or population", population), ("Setting", setting),
             ("Intervention", intervention), ("Comparison", comparison)]
    return [(name, str(value).strip()) for name, value in lines if value and str(value).strip()]


def _merged_text(row: pd.Series) -> str:
    """The one line of an outcome without analysable data."""
    reasons = str(row.get("reasons") or "")
    merged = "No study reported usable data" + (
        " (not analysable: " + reasons.split("not analysable: ", 1)[1] + ")"
        if "not analysable: " in reasons else "")
    return merged.replace(" (reasons in pooled.json))", "; reasons in pooled.json)")


def _is_merged(row: pd.Series) -> bool:
    return (pd.isna(row.get("risk_intervention")) or not str(row.get("risk_intervention"))) \
        and (pd.isna(row.get("risk_control")) or not str(row.get("risk_control"))) \
        and str(row.get("certainty")) == "not assessable"


def footnote_letters(table: pd.DataFrame) -> tuple[dict, list[str]]:
    """Letters of each row's footnotes and the footnotes in order, the same in the HTML and
    the PNG: per outcome, (letters of its downgrades, letters of its capped risks)."""
    footnotes: list[str] = []

    def letter(note: str) -> str:
        if note not in footnotes:
            footnotes.append(note)
        return _letters(footnotes.index(note))

    letters = {}
    for _, row in table.iterrows():
        if _is_merged(row):
            continue
        raw = row.get("footnotes")
        notes = [n for n in ("" if pd.isna(raw) else str(raw)).split(" | ") if n]
        downgrade = [letter(n) for n in notes if CAP_NOTE not in n]
        capped = [letter(n) for n in notes if CAP_NOTE in n]
        letters[row["outcome"]] = (downgrade, capped)
    return letters, footnotes


def legend_lines(table: pd.DataFrame, footnotes: list[str], intervention: str,
                 comparison: str) -> list[str]:
    """The notes under the table: how absolute risks are derived, abbreviations, the GRADE
    key, then the lettered footnotes."""
    measures = sorted(set(table["measure"].dropna()) & set(ABBREVIATIONS))
    return [
        f"*The risk with {sentence_case(intervention)} (and its 95% CI) is based on the risk "
        f"in the comparison group (events over participants in the {sentence_case(comparison)} "
        "arms) and the relative effect of the intervention (and its 95% CI).",
        "CI: confidence interval; " + "; ".join(f"{m}: {ABBREVIATIONS[m]}" for m in measures)
        + ".",
        "GRADE certainty: \u2a01\u2a01\u2a01\u2a01 High; \u2a01\u2a01\u2a01\u25ef Moderate; "
        "\u2a01\u2a01\u25ef\u25ef Low; \u2a01\u25ef\u25ef\u25ef Very low. Downgrades are "
        "suggested from the data and reviewers' overrides (grade_overrides).",
    ] + [f"{_letters(i)}. {note}" for i, note in enumerate(footnotes)]


def _headers(intervention: str, comparison: str) -> dict[str, str]:
    return {"label": "Outcomes", "risk_control": f"Risk with {sentence_case(comparison)}",
            "risk_intervention": f"Risk with {sentence_case(intervention)}",
            "effect": "Relative effect\n(95% CI)",
            "participants_studies": "\u2116 of participants\n(studies)",
            "certainty": "Certainty of the\nevidence (GRADE)", "comments": "Comments"}


def sof_html(table: pd.DataFrame, title: str, *, intervention: str = "intervention",
             comparison: str = "control", context: list[tuple[str, str]] | None = None) -> str:
    """The table as a standalone HTML document in the layout of :func:`sof_png`: GRADE's
    title and context lines, the anticipated absolute effects spanning two columns,
    certainty with its symbols and a footnote letter per downgrade (and per capped risk),
    and the lettered footnotes with their reasons under the table."""
    letters, footnotes = footnote_letters(table)
    heads = {k: html.escape(v).replace("\n", " ") for k, v in
             _headers(intervention, comparison).items()}

    def sup(found: list[str]) -> str:
        return f"<sup>{','.join(found)}</sup>" if found else ""

    body = []
    for _, row in table.iterrows():
        value = {k: ("" if pd.isna(row.get(k)) else str(row.get(k))) for k in heads}
        label = f"<th scope='row'>{html.escape(value['label'])}</th>"
        comment = f"<td>{html.escape(value['comments'])}</td>"
        if _is_merged(row):
            body.append(f"<tr>{label}<td colspan='5' class='merged'>"
                        f"{html.escape(_merged_text(row))}</td>{comment}</tr>")
            continue
        downgrade, capped = letters[row["outcome"]]
        certainty = value["certainty"]
        symbols = CERTAINTY_SYMBOLS.get(certainty)
        cert = (f"<span class='grade'>{symbols}</span><br>" if symbols else "") + \
            html.escape(certainty) + sup(downgrade)
        body.append(f"<tr>{label}<td>{html.escape(value['risk_control'])}</td>"
                    f"<td>{html.escape(value['risk_intervention'])}{sup(capped)}</td>"
                    f"<td>{html.escape(value['effect'])}</td>"
                    f"<td>{html.escape(value['participants_studies'])}</td>"
                    f"<td>{cert}</td>{comment}</tr>")
    context_html = "".join(f"<div><b>{html.escape(name)}:</b> {html.escape(value)}</div>"
                           for name, value in (context or []))
    notes = "".join(f"<p>{html.escape(line)}</p>" for line in
                    legend_lines(table, footnotes, intervention, comparison))
    head = ("<tr><th rowspan='2'>" + heads["label"] + "</th><th colspan='2'>Anticipated "
            "absolute effects* (95% CI)</th><th rowspan='2'>" + heads["effect"] + "</th>"
            "<th rowspan='2'>" + heads["participants_studies"] + "</th><th rowspan='2'>"
            + heads["certainty"] + "</th><th rowspan='2'>" + heads["comments"]
            + "</th></tr><tr><th>" + heads["risk_control"] + "</th><th>"
            + heads["risk_intervention"] + "</th></tr>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title)
            + "</title><style>body{font-family:sans-serif;font-size:13px}"
            "table{border-collapse:collapse}th,td{border:1px solid #999;padding:4px 6px;"
            "vertical-align:top;text-align:left}th{background:#dbe5f1}"
            "th[scope=row]{background:none}td.merged{font-style:italic}"
            ".context{margin-bottom:8px}.notes p{font-size:11px;margin:2px 0;"
            "max-width:900px}</style></head><body><h2>" + html.escape(title) + "</h2>"
            f"<div class='context'>{context_html}</div><table>{head}" + "".join(body)
            + f"</table><div class='notes'>{notes}</div></body></html>\n")


def sof_png(table: pd.DataFrame, title: str, path: str | Path, dpi: int = 200, *,
            intervention: str = "intervention", comparison: str = "control",
            context: list[tuple[str, str]] | None = None) -> dict:
    """The table drawn in the layout of GRADE's summary-of-findings tables (Cochrane
    Handbook chapter 14, GRADEpro): outcomes; anticipated absolute effects (risk with the
    comparison, risk with the intervention); relative effect; "№ of participants
    (studies)"; certainty with GRADE's symbols and a footnote letter per downgrade, each
    footnote giving the domain, the levels and the reason. An outcome without analysable
    data takes one line across the table. Numbers carry thousands separators.

    Returns what was drawn: the cell texts by (outcome, column), the footnotes in order, and
    the Figure (closed).
    """
    heads = _headers(intervention, comparison)
    columns = [(key, heads[key], width, chars) for key, width, chars in
               [("label", 2.5, 30), ("risk_control", 2.0, 24), ("risk_intervention", 2.3, 27),
                ("effect", 1.45, 17), ("participants_studies", 1.45, 17),
                ("certainty", 1.6, 19), ("comments", 2.0, 24)]]
    x = [0.15]
    for _, _, width, _ in columns:
        x.append(x[-1] + width)
    total_w = x[-1] + 0.15
    pad = 0.06

    letters, footnotes = footnote_letters(table)
    body, cells = [], {}
    for _, row in table.iterrows():
        value = {k: ("" if pd.isna(row.get(k)) else str(row.get(k))) for k, *_ in columns}
        label = "\n".join(textwrap.wrap(value["label"], columns[0][3])) or value["label"]
        comment = "\n".join(textwrap.wrap(value["comments"], columns[-1][3]))
        if _is_merged(row):
            text = _fit(_merged_text(row), (x[-2] - x[1] - 2 * pad) * 72, FONT - 0.5)
            cells[(row["outcome"], "merged")] = text
            cells[(row["outcome"], "label")] = label
            cells[(row["outcome"], "comments")] = comment
            body.append({"label": label, "merged": text, "comments": _plain(comment),
                         "lines": max(label.count("\n"), text.count("\n"),
                                      comment.count("\n")) + 1})
            continue
        certainty = value["certainty"]
        downgrade_letters, cap_letters = letters[row["outcome"]]
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
        texts["comments"] = comment
        cells.update({(row["outcome"], k): t for k, t in texts.items()})
        texts = {k: _plain(t) for k, t in texts.items()}
        texts["certainty"] += _sup(downgrade_letters)
        texts["risk_intervention"] += _sup(cap_letters)
        body.append({**texts, "lines": max(t.count("\n") + 1 for t in texts.values())})

    legend = legend_lines(table, footnotes, intervention, comparison)
    wrap_chars = int(total_w * 72 / (FONT * 0.55))
    legend_text = "\n".join("\n".join(textwrap.wrap(line, wrap_chars)) for line in legend)
    n_legend = legend_text.count("\n") + 1

    header_h = 3 * LINE_IN + 2 * pad
    heights = [r["lines"] * LINE_IN + 2 * pad for r in body]
    title_text = "\n".join(textwrap.wrap(title, int(total_w * 72 / ((FONT + 3) * 0.62))))
    context = context or []
    context_text = "\n".join(f"{name}: {value}" for name, value in context)
    context_text = "\n".join("\n".join(textwrap.wrap(line, int(total_w * 72 / (FONT * 0.55))))
                             for line in context_text.split("\n")) if context else ""
    title_h = (0.3 + (title_text.count("\n") + 1) * (FONT + 3) * 1.3 / 72
               + ((context_text.count("\n") + 1) * LINE_IN + 0.05 if context else 0))
    total_h = title_h + header_h + sum(heights) + 0.15 + n_legend * LINE_IN + 0.2
    fig = plt.figure(figsize=(total_w, total_h))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, total_w)
    ax.set_ylim(0, total_h)
    ax.set_axis_off()

    y = total_h - 0.15
    ax.text(x[0], y, _plain(title_text), fontsize=FONT + 3, weight="bold", va="top",
            ha="left", gid="title")
    if context:
        y -= (title_text.count("\n") + 1) * (FONT + 3) * 1.3 / 72 + 0.05
        # One text per line: even spacing whatever the glyphs of each line.
        for i, line in enumerate(context_text.split("\n")):
            ax.text(x[0], y - i * LINE_IN, _plain(line), fontsize=FONT, va="top", ha="left",
                    gid="context")
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
            ax.text(x[-2] + pad, y - pad, r["comments"], fontsize=FONT, va="top", ha="left",
                    gid="comments")
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
