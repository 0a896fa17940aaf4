"""A brand answers in the languages it serves; other languages get the brand's default language."""

from __future__ import annotations

from pathlib import Path

from copilot.config import load_config
from copilot.service import Copilot
from copilot.settings import Settings
from tests.conftest import CONFIG, CountingEmbedder


def _copilot(tmp_path: Path, corpus: dict[str, Path], brand_languages: str) -> Copilot:
    config = tmp_path / "served.yaml"
    config.write_text(CONFIG.replace("    name: Acme\n", f"    name: Acme\n{brand_languages}"), encoding="utf-8")
    cp = Copilot(Settings(data_dir=tmp_path / "data", embedder="hash"), config=load_config(config),
                 embedder=CountingEmbedder())
    assert cp.ingest([corpus["kb"]], [corpus["tickets"]], progress=False).ok
    return cp


def test_unserved_language_gets_the_brand_default_not_english(tmp_path: Path, corpus: dict[str, Path]) -> None:
    cp = _copilot(tmp_path, corpus, "    languages: [vi, en]\n    default_language: vi\n")
    spanish = cp.suggest("¿Dónde está mi reembolso? Devolví la silla hace dos semanas.")
    assert spanish.language == "vi" and spanish.reply.startswith("Chào bạn,")
    # Served languages are answered as written, unaccented Vietnamese included.
    assert cp.suggest("Where is my refund? I returned the chair two weeks ago.").language == "en"
    assert cp.suggest("toi da tra hang nhung chua nhan duoc tien hoan lai").language == "vi"


def test_brand_without_languages_answers_every_language_as_before(indexed: Copilot) -> None:
    assert indexed.suggest("toi muon tra lai cai ghe, hoan tien bao lau").language == "vi"
    assert indexed.suggest("我退货了，退款什么时候到账？").language == "zh"
