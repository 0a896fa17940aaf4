"""What a user sees of the package itself: its version everywhere, its licence, its docs counted in metrics."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import copilot
from copilot.integrations.http.app import create_app
from copilot.service import Copilot

ROOT = Path(__file__).resolve().parent.parent.parent


def test_one_version_everywhere() -> None:
    # pyproject.toml reads it from copilot/__init__.py: the installed metadata must agree.
    assert copilot.__version__ == metadata.version("support-copilot")


def test_version_flag_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from copilot.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"copilot {copilot.__version__}"


def test_licence_file_matches_the_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 10_000  # the full text, not a pointer
    assert any(c.startswith("Programming Language :: Python :: 3") for c in project["classifiers"])
    assert "Typing :: Typed" in project["classifiers"] and (ROOT / "copilot" / "py.typed").is_file()


def test_openapi_version_and_docs_routes_in_metrics(indexed: Copilot, tmp_path: Path) -> None:
    with TestClient(create_app(indexed)) as client:
        assert client.get("/openapi.json").json()["info"]["version"] == copilot.__version__
        assert client.get("/docs").status_code == 200
        assert client.get("/sidebar/static/sidebar.js").status_code == 200
        client.get("/no/such/page")
        text = client.get("/metrics").text
    assert 'copilot_http_requests_total{method="GET",route="/docs",status="200"} 1.0' in text
    assert 'copilot_http_requests_total{method="GET",route="/openapi.json",status="200"} 1.0' in text
    assert 'copilot_http_requests_total{method="GET",route="/sidebar/static",status="200"} 1.0' in text
    # Only what matched nothing is "unmatched" (one label for any number of unknown paths).
    assert 'copilot_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
