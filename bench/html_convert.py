"""HTML -> text for Help Center articles: output quality and speed of the converter we ship
(``copilot.retrieval.html``, html-to-markdown) next to the alternatives, in one run.

    python bench/html_convert.py [--fixtures tests/fixtures/html] [--repeats 200] [--show NAME]

Alternatives are measured when installed (``pip install markdownify inscriptis``); html2text is
left out on purpose (GPL). Each is configured as a user would (elements to drop, emphasis stripped, trailing
spaces removed). Quality is a list of checks on the fixtures (help-center-like pages
with tables, nested lists, links, images, scripts, navigation, entities, <br>): each prints
pass/fail per converter. Speed: median microseconds per page over the fixtures, and for one
large page (the fixtures repeated to ~200 KB).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import installed, median
from copilot.retrieval.html import html_to_text

Converter = Callable[[str], str]
_DROP = ["script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template"]
_EMPHASIS = ["b", "strong", "em", "i", "u"]


def _tidy(text: str) -> str:
    # The same clean-up copilot.retrieval.html does (no trailing spaces), so checks compare content.
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _copilot(html: str) -> str:
    return html_to_text(html).text


def _markdownify() -> Converter | None:
    try:
        from bs4 import BeautifulSoup
        from markdownify import MarkdownConverter
    except ImportError:
        return None

    def convert(html: str) -> str:
        # markdownify keeps the text of <script>/<style>/<nav>: drop them first, as a user would have to.
        soup = BeautifulSoup(html, "html.parser")
        for tag in soup([*_DROP, "title"]):
            tag.decompose()
        return _tidy(str(MarkdownConverter(heading_style="ATX", bullets="-", strip=_EMPHASIS).convert_soup(soup)))

    return convert


def _inscriptis() -> Converter | None:
    try:
        from inscriptis import get_text
        from inscriptis.model.config import ParserConfig
    except ImportError:
        return None
    config = ParserConfig(display_links=True, display_images=True)
    return lambda html: _tidy(str(get_text(html, config)))


# (description, fixture, predicate on the output)
CHECKS: list[tuple[str, str, Callable[[str], bool]]] = [
    ("headings are '#' lines", "shipping-options.html",
     lambda t: bool(re.search(r"(?m)^## Delivery speeds$", t) and re.search(r"(?m)^### Where we don't ship$", t))),
    ("table cells stay apart", "shipping-options.html",
     lambda t: bool(re.search(r"Standard\s*(\||\s{2,}|\t)\s*5 days", t)) and "Standard5" not in t),
    ("table header kept", "return-steps.html", lambda t: "Payment method" in t and "Refund arrives in" in t),
    ("link targets kept", "shipping-options.html",
     lambda t: "https://help.acme.example/hc/en-us/articles/360001-Track-my-order" in t),
    ("relative link kept", "return-steps.html", lambda t: "/hc/en-us/requests/new" in t),
    ("e-mail kept", "shipping-options.html", lambda t: "support@acme.example" in t),
    ("image alt text kept", "shipping-options.html", lambda t: "The tracking page shows each step" in t),
    ("scripts and styles dropped", "shipping-options.html",
     lambda t: "HelpCenter" not in t and "border:" not in t),
    ("script dropped (fragment)", "zh-tuikuan.html", lambda t: "trackPageView" not in t),
    ("navigation and footer dropped", "shipping-options.html",
     lambda t: "/hc/en-us/sections/1" not in t and "Privacy" not in t and "Submit a request" not in t),
    ("entities decoded", "shipping-options.html",
     lambda t: "&amp;" not in t and "don't" in t and "9 a.m.–5 p.m." in t),
    ("<br> is a line break", "shipping-options.html", lambda t: "tracking link.\n" in t),
    ("nested list indented", "shipping-options.html",
     lambda t: bool(re.search(r"(?m)^(\s*)[-*+] Military addresses:\n\1\s+[-*+] APO$", t))),
    ("ordered sub-list indented", "return-steps.html",
     lambda t: bool(re.search(r"(?m)^\s+1\. Select the item\.$", t))),
    ("no emphasis markers", "return-steps.html", lambda t: "**" not in t and "30 days" in t),
    ("non-breaking space is a space", "vi-doi-tra.html", lambda t: "1900 1234" in t),
    ("CJK text intact", "zh-tuikuan.html", lambda t: "收到退货后，我们会在5个工作日内处理退款。" in t),
]


def _time_us(convert: Converter, pages: list[str], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for page in pages:
            convert(page)
        runs.append((time.perf_counter() - t0) / len(pages) * 1e6)
    return median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", type=Path, default=Path(__file__).resolve().parent.parent / "tests/fixtures/html")
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--show", help="print each fixture as converted by this converter")
    args = ap.parse_args()

    fixtures = {p.name: p.read_text(encoding="utf-8") for p in sorted(args.fixtures.glob("*.html"))}
    candidates: dict[str, Converter] = {"copilot (html-to-markdown)": _copilot,
                                        **installed({"markdownify + bs4": _markdownify, "inscriptis": _inscriptis})}

    outputs = {name: {f: conv(html) for f, html in fixtures.items()} for name, conv in candidates.items()}
    if args.show:
        for f, text in outputs[args.show].items():
            print(f"===== {f}\n{text}\n")

    names = list(candidates)
    print(f"{'check':34}" + "".join(f"{n[:26]:>28}" for n in names))
    passed = dict.fromkeys(names, 0)
    for desc, fixture, pred in CHECKS:
        row = f"{desc:34}"
        for n in names:
            ok = pred(outputs[n][fixture])
            passed[n] += ok
            row += f"{'pass' if ok else 'FAIL':>28}"
        print(row)
    print(f"{'checks passed':34}" + "".join(f"{f'{passed[n]}/{len(CHECKS)}':>28}" for n in names))

    pages = list(fixtures.values())
    big = "".join(pages) * (200_000 // sum(len(p) for p in pages) + 1)
    print(f"{'us per fixture page (median)':34}"
          + "".join(f"{_time_us(candidates[n], pages, args.repeats):>28.0f}" for n in names))
    print(f"{f'ms per {len(big) // 1000} KB page (median)':34}"
          + "".join(f"{_time_us(candidates[n], [big], max(3, args.repeats // 40)) / 1000:>28.1f}" for n in names))


if __name__ == "__main__":
    main()
