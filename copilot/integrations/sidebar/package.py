"""Build the helpdesk app packages (zip files to upload) from the one sidebar.

Both apps run the same page, from their own assets: the Zendesk app talks to the copilot through
ZAF's proxy and the Freshdesk app through a request template, so the API token stays a secure
setting that the browser never sees.
"""

from __future__ import annotations

import zipfile
from importlib import resources
from pathlib import Path
from typing import Literal

__all__ = ["build_package"]

Helpdesk = Literal["zendesk", "freshdesk"]
_SCRIPTS = {
    "zendesk": '<script src="https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"></script>',
    "freshdesk": '<script src="{{{appclient}}}"></script>',
}
_ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="#1f883d" '
         'd="M4 4h16v12H7l-3 3z"/></svg>\n')


def _page(helpdesk: Helpdesk) -> str:
    html = resources.files("copilot.integrations.sidebar").joinpath("static/index.html").read_text(encoding="utf-8")
    html = html.replace('href="/sidebar/static/sidebar.css"', 'href="sidebar.css"')
    return html.replace('<script src="/sidebar/static/sidebar.js"></script>',
                        f'{_SCRIPTS[helpdesk]}\n  <script src="sidebar.js"></script>')


def build_package(helpdesk: Helpdesk, out: Path) -> Path:
    root = resources.files("copilot.integrations.sidebar")
    files: dict[str, str] = {}
    assets = "assets" if helpdesk == "zendesk" else "app"
    page = "iframe.html" if helpdesk == "zendesk" else "index.html"
    files[f"{assets}/{page}"] = _page(helpdesk)
    for name in ("sidebar.js", "sidebar.css"):
        files[f"{assets}/{name}"] = root.joinpath(f"static/{name}").read_text(encoding="utf-8")
    base = root.joinpath(helpdesk)
    for rel in (["manifest.json", "translations/en.json"] if helpdesk == "zendesk"
                else ["manifest.json", "config/iparams.json", "config/requests.json"]):
        files[rel] = base.joinpath(rel).read_text(encoding="utf-8")
    if helpdesk == "freshdesk":
        files["app/icon.svg"] = _ICON
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, text in sorted(files.items()):
            z.writestr(rel, text)
    return out
