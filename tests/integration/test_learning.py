"""What ingest learns about a brand (its voice, its confidence calibration) is stored with the index:
another process reads it, a small ingest does not refit it, and replies follow it. Tickets written for
these tests."""

from __future__ import annotations

from pathlib import Path

from copilot.config import CopilotConfig
from copilot.flags import Flag
from copilot.models import Message, Ticket
from copilot.retrieval.embeddings import HashEmbedder
from copilot.service import Copilot
from copilot.settings import Settings

PROBLEMS = ["my live tv keeps buffering", "the app logs me out every day", "shows will not load on my tv",
            "the stream freezes at night", "my account says payment failed", "I cannot find the new season"]
REPLIES = ["Oh no! Which device do you use? ^KD", "Sorry about that! Have you tried a quick reboot? *AL",
           "That's not right. Are all channels affected? /JI", "Oh no! Which device do you use? ^MB"]


def history(n: int, start: int = 0) -> list[Ticket]:
    return [Ticket(id=f"s{i}", brand="shop", channel="twitter", messages=[
        Message(author="customer", body=f"{PROBLEMS[i % len(PROBLEMS)]} (case {i})"),
        Message(author="agent", body=f"[HANDLE] {REPLIES[i % len(REPLIES)]}")]) for i in range(start, start + n)]


def make(tmp_path: Path) -> Copilot:
    return Copilot(Settings(data_dir=tmp_path / "data", embedder="hash"), config=CopilotConfig(),
                   embedder=HashEmbedder())


def test_ingest_learns_the_voice_and_calibration_every_process_reads(tmp_path: Path) -> None:
    summary = make(tmp_path).ingest_records(tickets=history(24))
    [learned] = summary.learned
    assert learned.brand == "shop" and learned.history == 24 and learned.voice and learned.calibrated_on > 0
    other = make(tmp_path)   # another process on the same index
    voice = other.parts.learning.voice("shop")
    assert voice is not None and voice.for_channel("twitter") is not None
    assert other.parts.learning.calibration("shop").samples == learned.calibrated_on
    s = other.suggest(Ticket(brand="shop", channel="twitter",
                             messages=[Message(author="customer", body="my live tv keeps buffering tonight")]))
    assert len(s.reply) <= 280 and "Best regards" not in s.reply and "shop" not in s.reply
    assert "^KD" not in s.reply and "^MB" not in s.reply
    assert s.flags == [] or Flag.LOW_CONFIDENCE in s.flags or Flag.NO_EVIDENCE in s.flags


def test_a_small_ingest_does_not_refit_and_a_grown_history_does(tmp_path: Path) -> None:
    cp = make(tmp_path)
    cp.ingest_records(tickets=history(20))
    assert cp.ingest_records(tickets=history(1, start=20)).learned == []
    grown = cp.ingest_records(tickets=history(6, start=21)).learned
    assert [x.history for x in grown] == [27]


def test_a_brand_with_a_short_history_keeps_the_default_calibration(tmp_path: Path) -> None:
    [learned] = make(tmp_path).ingest_records(tickets=history(6)).learned
    assert learned.voice and learned.calibrated_on == 0
