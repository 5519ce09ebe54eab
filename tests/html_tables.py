"""Reading the HTML tables sysrev writes as a browser shows them, for tests."""

from html.parser import HTMLParser


class HtmlTables(HTMLParser):
    """Cells of every table of a page (what a browser would show), and the captions."""

    def __init__(self):
        super().__init__()
        self.tables, self.captions, self._cell, self._in_caption = [], [], None, False
        #: per table, per row, per cell: whether the cell is numeric (class 'num': no wrap)
        self.numeric = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
            self.numeric.append([])
        elif tag == "tr":
            self.tables[-1].append([])
            self.numeric[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
            self.numeric[-1][-1].append("num" in (dict(attrs).get("class") or "").split())
        elif tag == "caption":
            self._in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_caption:
            self.captions[-1] += data


def parse(page: str) -> HtmlTables:
    """Cells (rows of strings) and captions of every table of ``page``."""
    parser = HtmlTables()
    parser.feed(page)
    return parser


def by_first_column(tables: list[list[list[str]]]) -> dict[str, dict[str, str]]:
    """Tables whose rows share their first column (the pooled-results page's three tables,
    each starting with the outcome), joined: first cell -> {header: cell}."""
    joined: dict[str, dict[str, str]] = {}
    for table in tables:
        header = table[0]
        for row in table[1:]:
            joined.setdefault(row[0], {}).update(zip(header, row))
    return joined


def text_width(text: str, *, bold: bool = False, size: float = 13) -> float:
    """Width in pixels of one line of ``text`` at ``size`` pixels in DejaVu Sans, the sans
    serif of most Linux browsers; Arial and Helvetica are narrower, so estimates err wide."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=size)
    return TextToPath().get_text_width_height_descent(text, font, ismath=False)[0]


def min_content_width(page: HtmlTables, index: int, *, size: float = 13,
                      cell_padding: float = 13) -> float:
    """The narrowest width (pixels) a browser can lay table ``index`` of ``page`` out in
    without overflowing: per column its widest word (a header's in bold; a numeric cell,
    which does not wrap, whole), plus the cell's padding and border (``cell_padding``: 6 + 6
    + 1 in htmltable.STYLE)."""
    table, numeric = page.tables[index], page.numeric[index]
    widths: dict[int, float] = {}
    for r, row in enumerate(table):
        for c, cell in enumerate(row):
            words = [cell.replace("\n", " ")] if numeric[r][c] else cell.split()
            widest = max((text_width(w, bold=r == 0, size=size) for w in words), default=0)
            widths[c] = max(widths.get(c, 0), widest)
    return sum(widths.values()) + cell_padding * len(widths)
