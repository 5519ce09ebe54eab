"""Reading the HTML tables sysrev writes as a browser shows them, for tests."""

from html.parser import HTMLParser


class HtmlTables(HTMLParser):
    """Cells of every table of a page (what a browser would show), and the captions."""

    def __init__(self):
        super().__init__()
        self.tables, self.captions, self._cell, self._in_caption = [], [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
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
