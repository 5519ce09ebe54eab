"""The PRISMA 2020 flow diagram, laid out like the PRISMA 2020 template for new and updated
reviews (databases and registers): identification, screening and included phases, main boxes
with arrows down, side boxes with exclusions to the right, records per database.

Page MJ et al. The PRISMA 2020 statement. BMJ 2021;372:n71 (Figure 1).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "sysrev"
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from sysrev.tables import atomic_path  # noqa: E402

PHASE_COLOUR = "#9dc3e6"
HEADER_COLOUR = "#ffd966"
PREVIOUS_COLOUR = "#d9d9d9"
FONT = 8


def _box(ax, x, y, w, h, text, *, fill="white", bold_first=False, size=FONT):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                linewidth=0.9, edgecolor="black", facecolor=fill))
    lines = text.split("\n")
    ax.text(x + 0.12, y + h - 0.12, "\n".join(lines), ha="left", va="top", fontsize=size,
            linespacing=1.35, wrap=False,
            fontweight="bold" if bold_first and len(lines) == 1 else "normal")


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10,
                                 linewidth=0.9, color="black"))


def _wrap(text: str, width: int) -> str:
    return "\n".join("\n".join(textwrap.wrap(part, width, subsequent_indent="   "))
                     or "" for part in text.split("\n"))


def _n(value: int) -> str:
    # Non-breaking spaces keep "(n = 12)" on one line when a box's text is wrapped.
    return f"(n\u00a0=\u00a0{value})"


def flow_diagram(counts: dict, path_png: str | Path, path_svg: str | Path,
                 dpi: int = 300) -> dict:
    """Draw the PRISMA 2020 flow diagram of ``counts`` (``counts.json``) as PNG and SVG.

    A new review takes the template for new reviews ("Identification of studies via
    databases and registers"); an updated review (``counts["previous"]`` set) the template
    for updated reviews, with the previous studies' column. Records awaiting screening and
    reports awaiting assessment, when there are any, get boxes of their own branching off
    the flow before "Records screened" and "Reports assessed for eligibility" (they are in
    neither those boxes nor the exclusions).

    Returns what was drawn: the text of each box by name, and the Figure (closed).
    """
    ident, scr, ret = counts["identification"], counts["screening"], counts["retrieval"]
    elig, inc = counts["eligibility"], counts["included"]
    previous = counts.get("previous")

    databases = "\n".join(
        _wrap(f"   {ident['database_names'].get(k, k)} {_n(v)}", 46).replace("\n   ", "\n      ")
        for k, v in sorted(ident["databases"].items(), key=lambda kv: (-kv[1], kv[0])))
    registers = "".join(
        "\n" + _wrap(f"   {ident.get('register_names', {}).get(k, k)} {_n(v)}", 46)
        .replace("\n   ", "\n      ")
        for k, v in sorted(ident["registers"].items(), key=lambda kv: (-kv[1], kv[0])))
    identified = (f"Records identified from:\nDatabases {_n(sum(ident['databases'].values()))}"
                  f"\n{databases}\nRegisters {_n(sum(ident['registers'].values()))}"
                  f"{registers}")
    removed = (f"Records removed before screening:\n   Duplicate records "
               f"{_n(ident['duplicates_removed'])}\n   Records marked as ineligible\n"
               f"   by automation tools {_n(ident['removed_by_automation'])}\n"
               f"   Records removed for other\n   reasons {_n(ident['removed_other_reasons'])}")
    screened = f"Records screened\n{_n(scr['records_screened'])}"
    excluded = f"Records excluded\n{_n(scr['records_excluded'])}"
    awaiting_screening = (f"Records awaiting screening\n{_n(scr['records_pending'])}"
                          if scr.get("records_pending") else None)
    awaiting_assessment = (f"Reports awaiting assessment\n{_n(elig['reports_pending'])}"
                           if elig.get("reports_pending") else None)
    sought = f"Reports sought for retrieval\n{_n(ret['reports_sought'])}"
    not_retrieved = f"Reports not retrieved\n{_n(ret['reports_not_retrieved'])}"
    assessed = f"Reports assessed for eligibility\n{_n(elig['reports_assessed'])}"
    reasons = "\n".join(_wrap(f"{reason} {_n(n)}", 40) for reason, n in sorted(
        elig["exclusion_reasons"].items(), key=lambda kv: (-kv[1], kv[0])))
    ft_excluded = (f"Reports excluded:\n{reasons}" if reasons
                   else f"Reports excluded\n{_n(0)}")
    if previous:
        included_text = (f"New studies included in review {_n(inc['new_studies'])}\n"
                         f"Reports of new included studies {_n(inc['new_reports'])}")
    else:
        included_text = (f"Studies included in review {_n(inc['studies'])}\n"
                         f"Reports of included studies {_n(inc['reports'])}")

    offset = 3.4 if previous else 0.0
    main_x, main_w = 1.0 + offset, 4.4
    side_x, side_w = 6.0 + offset, 4.3
    other = counts.get("other_methods")
    other_x, other_w, other_side_x, other_side_w = side_x + side_w + 0.7, 3.6, \
        side_x + side_w + 4.6, 3.6
    width = (other_side_x + other_side_w if other else side_x + side_w) + 0.3
    ft_lines = ft_excluded.count("\n") + 1
    id_lines = max(identified.count("\n"), removed.count("\n")) + 1
    row_h = {"ident": max(id_lines, 7) * 0.2 + 0.35, "await_screen": 0.6, "screen": 0.75,
             "sought": 0.75, "await_assess": 0.6,
             "assess": max(0.75, ft_lines * 0.2 + 0.3), "incl": 0.95}
    if awaiting_screening is None:
        del row_h["await_screen"]
    if awaiting_assessment is None:
        del row_h["await_assess"]
    gap = 0.45
    total_h = 0.9 + sum(row_h.values()) + gap * (len(row_h) - 1) + (1.3 if previous else 0) \
        + 0.3
    fig = plt.figure(figsize=(width * 0.82, total_h * 0.82))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, total_h)
    ax.set_axis_off()

    top = total_h - 0.2
    heading = ("Identification of new studies via databases and registers" if previous
               else "Identification of studies via databases and registers")
    _box(ax, main_x, top - 0.5, side_x + side_w - main_x, 0.5, heading, fill=HEADER_COLOUR,
         bold_first=True, size=FONT + 1)
    y = top - 0.5 - 0.3
    rows = {}
    for key in row_h:
        rows[key] = (y - row_h[key], row_h[key])
        y -= row_h[key] + gap

    texts = {"ident": (identified, removed), "screen": (screened, excluded),
             "sought": (sought, not_retrieved), "assess": (assessed, ft_excluded),
             "incl": (included_text, None)}
    drawn = {"heading": heading}
    for key, (left, right) in texts.items():
        y0, h = rows[key]
        _box(ax, main_x, y0, main_w, h, left)
        drawn[key] = left
        if right is not None:
            _box(ax, side_x, y0, side_w, h, right)
            drawn[f"{key}_side"] = right
            _arrow(ax, (main_x + main_w, y0 + h / 2), (side_x, y0 + h / 2))
    centre = main_x + main_w / 2
    for key, text in (("await_screen", awaiting_screening),
                      ("await_assess", awaiting_assessment)):
        if text is None:
            continue
        # A branch off the flow: these records or reports have not reached the next box.
        y0, h = rows[key]
        _box(ax, side_x, y0, side_w, h, text)
        drawn[key] = text
        ax.plot([centre, side_x - 0.02], [y0 + h / 2] * 2, color="black", lw=0.9)
        _arrow(ax, (centre, y0 + h / 2), (side_x, y0 + h / 2))
    order = ["ident", "screen", "sought", "assess", "incl"]
    for upper, lower in zip(order, order[1:]):
        _arrow(ax, (centre, rows[upper][0]), (centre, rows[lower][0] + rows[lower][1]))

    phases = [("Identification", rows["ident"][0], rows["ident"][0] + rows["ident"][1]),
              ("Screening", rows["assess"][0], rows["screen"][0] + rows["screen"][1]),
              ("Included", rows["incl"][0], rows["incl"][0] + rows["incl"][1])]
    if previous:
        total_y = rows["incl"][0] - gap - 0.75
        phases[2] = ("Included", total_y, rows["incl"][0] + rows["incl"][1])
    for label, y0, y1 in phases:
        ax.add_patch(FancyBboxPatch((0.15, y0), 0.5, y1 - y0,
                                    boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=PHASE_COLOUR, edgecolor="black", linewidth=0.9))
        ax.text(0.4, (y0 + y1) / 2, label, rotation=90, ha="center", va="center",
                fontsize=FONT + 1, fontweight="bold")

    if previous:
        px, pw = 1.0, 2.9
        _box(ax, px, top - 0.5, pw, 0.5, "Previous studies", fill=PREVIOUS_COLOUR,
             bold_first=True, size=FONT + 1)
        prev_y, prev_h = rows["ident"]
        _box(ax, px, prev_y, pw, prev_h,
             _wrap(f"Studies included in previous version of review "
                   f"{_n(previous['studies'])}\n\nReports of studies included in previous "
                   f"version of review {_n(previous['reports'])}", 34))
        total_text = (f"Total studies included in review {_n(inc['total_studies'])}\n"
                      f"Reports of total included studies {_n(inc['total_reports'])}")
        _box(ax, main_x, total_y, main_w, 0.75, total_text)
        _arrow(ax, (main_x + main_w / 2, rows["incl"][0]),
               (main_x + main_w / 2, total_y + 0.75))
        # A line down from the previous studies, then one arrow into the total (as in the
        # PRISMA 2020 template for updated reviews: no arrowhead at the corner).
        ax.plot([px + pw / 2, px + pw / 2], [prev_y, total_y + 0.375], color="black",
                lw=0.9)
        _arrow(ax, (px + pw / 2, total_y + 0.375), (main_x, total_y + 0.375))

    if other:
        _draw_other_methods(ax, other, rows, top, drawn,
                            (other_x, other_w, other_side_x, other_side_w), main_x + main_w)

    with atomic_path(path_png, "wb") as handle:
        fig.savefig(handle, format="png", dpi=dpi, metadata={"Software": None})
    with atomic_path(path_svg, "w") as handle:
        fig.savefig(handle, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    drawn["figure"] = fig
    return drawn


def _draw_other_methods(ax, other: dict, rows: dict, top: float, drawn: dict,
                        layout: tuple[float, float, float, float],
                        included_right: float) -> None:
    """The grey column of the PRISMA 2020 template: identification of new studies via other
    methods (citation searching), its reports sought, not retrieved, assessed and excluded,
    with an arrow into the included box."""
    x, w, sx, sw = layout
    _box(ax, x, top - 0.5, sx + sw - x, 0.5, "Identification of studies via other methods",
         fill=PREVIOUS_COLOUR, bold_first=True, size=FONT + 1)
    names = {"citations": "Citation searching"}
    lines = "\n".join(f"   {names.get(k, k)} {_n(v)}" for k, v in other["citations"].items())
    identified = _wrap(f"Records identified from:\n{lines}", 34)
    removed = _wrap(f"Duplicates of database and register records "
                    f"{_n(other['duplicates_of_databases_and_registers'])}\n"
                    f"Records excluded {_n(other['records_excluded'])}"
                    + (f"\nRecords awaiting screening {_n(other['records_pending'])}"
                       if other.get("records_pending") else ""), 34)
    reasons = "\n".join(_wrap(f"{reason} {_n(n)}", 32) for reason, n in sorted(
        other["exclusion_reasons"].items(), key=lambda kv: (-kv[1], kv[0])))
    excluded = (f"Reports excluded:\n{reasons}" if reasons
                else f"Reports excluded\n{_n(other['reports_excluded'])}")
    texts = {"ident": (identified, removed),
             "sought": (f"Reports sought for retrieval\n{_n(other['reports_sought'])}",
                        f"Reports not retrieved\n{_n(other['reports_not_retrieved'])}"),
             "assess": (_wrap(f"Reports assessed for eligibility "
                              f"{_n(other['reports_assessed'])}", 30), excluded)}
    for key, (left, right) in texts.items():
        y0, h = rows[key]
        _box(ax, x, y0, w, h, left)
        _box(ax, sx, y0, sw, h, right)
        _arrow(ax, (x + w, y0 + h / 2), (sx, y0 + h / 2))
        drawn[f"other_{key}"], drawn[f"other_{key}_side"] = left, right
    centre = x + w / 2
    for upper, lower in (("ident", "sought"), ("sought", "assess")):
        _arrow(ax, (centre, rows[upper][0]), (centre, rows[lower][0] + rows[lower][1]))
    incl_y, incl_h = rows["incl"]
    ax.plot([centre, centre], [rows["assess"][0], incl_y + incl_h / 2], color="black", lw=0.9)
    _arrow(ax, (centre, incl_y + incl_h / 2), (included_right, incl_y + incl_h / 2))
