"""HTML articles and comments -> Markdown text that keeps what citations and quotes need.

Help Center articles are HTML. Retrieval, chunking and the drafters work on Markdown-like text
(the same shape as ``.md`` articles): headings become ``#`` lines (chunking splits sections on
them), links keep their targets (``[text](url)``, relative ones resolved against the article's
URL when it is known), table cells stay apart (``| Standard | 5 days |``), nested lists keep
their indentation, images keep their alt text. Scripts, styles, navigation, headers, footers,
forms and hidden elements are dropped.

The conversion is html-to-markdown (MIT, a Rust core): measured against markdownify and
inscriptis in ``bench/html_convert.py``. Emphasis is dropped on purpose: sentences of an
article are quoted into replies that are sent as plain text, where ``**30 days**`` would
show its asterisks.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import logging
import re
from typing import NamedTuple

import html_to_markdown

__all__ = ["HtmlDocument", "html_to_text"]

log = logging.getLogger(__name__)

_OPTIONS = html_to_markdown.ConversionOptions(
    extract_metadata=False,
    bullets="-",
    list_indent_width=2,
    compact_tables=True,
    # Plain-text readers see a line break, not a Markdown hard-break marker ("\" or two spaces);
    # trailing spaces are stripped below.
    newline_style="spaces",
    strip_tags=["strong", "b", "em", "i", "u", "mark", "span", "font"],
    exclude_selectors=["header", "footer", "nav", "aside", "form", "noscript", "template", "svg", "canvas"],
)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
# Lone surrogates come from JSON escapes ("\ud83d" without its pair); the converter refuses them.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BLANK_RUN = re.compile(r"\n{3,}")


class HtmlDocument(NamedTuple):
    title: str
    text: str


def html_to_text(html: str, *, base_url: str | None = None) -> HtmlDocument:
    """Return the ``<title>`` and the Markdown text of an HTML document or fragment.

    ``base_url`` (the article's own address) turns relative links and image sources into
    absolute ones, so a citation or a quoted link works outside the Help Center.
    """
    html = _SURROGATE.sub("\ufffd", html)
    m = _TITLE.search(html)
    title = " ".join(htmllib.unescape(m.group(1)).split()) if m else ""
    options = dataclasses.replace(_OPTIONS, base_url=base_url) if base_url else _OPTIONS
    result = html_to_markdown.convert(html, options)
    for warning in result.warnings:
        # E.g. elements nested deeper than the converter's limit (1024) are skipped: say so.
        log.warning("HTML conversion%s: %s", f" of {base_url}" if base_url else "", warning.message)
    text = "\n".join(line.rstrip() for line in (result.content or "").splitlines())
    return HtmlDocument(title, _BLANK_RUN.sub("\n\n", text).strip())
