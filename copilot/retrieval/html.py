"""HTML -> text that keeps headings as markdown '#' lines, so article sections survive chunking."""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["html_to_text"]


class _HTMLText(HTMLParser):
    """HTML -> text that keeps headings as markdown '#' lines so sections survive."""

    _BLOCK: frozenset[str] = frozenset({"p", "div", "li", "br", "tr", "section", "article", "ul", "ol", "table", "blockquote", "pre"})
    _SKIP: frozenset[str] = frozenset({"script", "style", "head", "nav", "footer"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP and tag != "head":
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in {"h1", "h2", "h3", "h4"}:
            self._heading = tag
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and tag != "head":
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in {"h1", "h2", "h3", "h4"}:
            self._heading = None
            self.out.append("\n")
        elif tag in self._BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.out.append(data if self._heading is None else data.strip())


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, text) for an HTML document or fragment."""
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return " ".join(parser.title.split()), text.strip()
