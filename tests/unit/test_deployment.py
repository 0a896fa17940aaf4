"""The Dockerfile and compose.yaml checked against the code they run, without Docker: every COPILOT_*
variable is a real setting, every command parses, the health checks hit real routes on the right
ports, the runtime user is not root, secrets are placeholders, and the Chroma server matches the client."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient
from packaging.requirements import Requirement
from pydantic import AliasChoices

from copilot.cli import build_parser
from copilot.integrations.http.app import create_app
from copilot.service import Copilot
from copilot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[?-][^}]*)?\}")


def setting_env_names() -> set[str]:
    """The environment variables Settings reads: the prefixed field names, or a field's aliases."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {c for c in alias.choices if isinstance(c, str)}
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def runtime_stage() -> list[str]:
    """The final stage's instructions, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile())
    stages = re.split(r"^FROM\s", text, flags=re.MULTILINE)
    return [line.strip() for line in stages[-1].splitlines() if line.strip() and not line.lstrip().startswith("#")]


def instruction(name: str) -> str:
    found = [line[len(name):].strip() for line in runtime_stage() if line.upper().startswith(name + " ")]
    assert found, f"the runtime stage has no {name}"
    return found[-1]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return data


def copilot_services() -> dict[str, dict[str, Any]]:
    """The services that run this project's image."""
    services = {name: svc for name, svc in compose()["services"].items() if "build" in svc}
    assert set(services) >= {"copilot", "worker"}
    return services


def parse(argv: list[str]) -> Any:
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"`copilot {' '.join(argv)}` does not parse") from exc


def healthcheck_url(command: list[str] | str) -> str:
    text = command if isinstance(command, str) else " ".join(command)
    urls = re.findall(r"https?://[^\s'\"]+", text)
    assert len(urls) == 1, text
    return urls[0]


def test_env_names_include_prefixed_fields_and_standard_aliases() -> None:
    names = setting_env_names()
    assert {"COPILOT_DATA_DIR", "COPILOT_FEEDBACK_URL", "COPILOT_CHROMA_HOST", "SLACK_BOT_TOKEN",
            "OPENAI_API_KEY", "COPILOT_WEBHOOK_SECRET"} <= names
    assert "COPILOT_SLACK_BOT_TOKEN" not in names  # an aliased field is not read under its prefixed name


def test_every_variable_given_to_copilot_is_a_setting() -> None:
    names = setting_env_names()
    for service, svc in copilot_services().items():
        env = svc.get("environment", {})
        assert isinstance(env, dict), f"{service}: environment as a mapping"
        unknown = sorted(set(env) - names)
        assert not unknown, f"{service} sets {unknown}: not read by copilot.settings.Settings"
    example = (ROOT / "copilot.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert listed, "copilot.env.example lists no variable"
    assert not sorted(listed - names), f"copilot.env.example names unknown settings: {sorted(listed - names)}"


def test_the_environment_of_each_service_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for env_name in setting_env_names():
        monkeypatch.delenv(env_name, raising=False)
    for svc in copilot_services().values():
        for key, value in svc["environment"].items():
            monkeypatch.setenv(key, INTERPOLATION.sub("placeholder1", str(value)))
        s = Settings()
        services = compose()["services"]
        assert s.chroma_host in services and s.chroma_port == 8000
        url = urlsplit(s.feedback_url or "")
        assert url.scheme == "postgresql+pg8000", "the driver installed in the image (the postgres extra)"
        assert url.hostname in services and url.password == "placeholder1"
        assert url.path.lstrip("/") == services["postgres"]["environment"]["POSTGRES_DB"]
        assert url.username == services["postgres"]["environment"]["POSTGRES_USER"]
        assert s.config is not None and any(v.endswith(f":{s.config}:ro") for v in svc["volumes"])
        assert str(s.data_dir) in svc["volumes"], "the data dir on a volume of its own per container"


def test_secrets_are_placeholders_never_values() -> None:
    secret = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
    for name, svc in compose()["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            value = str(value)
            if secret.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]+\}", value), f"{name}.{key} must be ${{VAR:?...}}"
            password = urlsplit(value).password if "://" in value else None
            if password is not None:
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]+\}", password), f"{name}.{key}: literal password"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {".env", "copilot.env"} <= set(ignored)


def test_services_run_real_commands_as_the_tests_topology() -> None:
    services = copilot_services()
    serve = parse(services["copilot"]["command"])
    assert serve.command == "serve" and serve.worker is False, "replicas leave the jobs to the worker"
    assert serve.host == "0.0.0.0"
    assert services["copilot"]["deploy"]["replicas"] >= 2
    published = [str(p) for p in services["copilot"]["ports"]]
    assert published and all(p.endswith(f":{serve.port}") for p in published)

    worker = parse(services["worker"]["command"])
    assert worker.command == "worker"
    assert healthcheck_url(services["worker"]["healthcheck"]["test"]).startswith(
        f"http://127.0.0.1:{worker.metrics_port}/metrics")
    assert worker.metrics_host == "0.0.0.0", "scraped from the other containers"


def test_dependencies_start_healthy_first() -> None:
    services = compose()["services"]
    for name, svc in copilot_services().items():
        for dep, cond in svc["depends_on"].items():
            assert cond == {"condition": "service_healthy"}, f"{name} -> {dep}"
            assert "test" in services[dep]["healthcheck"], f"{dep} needs a healthcheck for {name} to wait on"
        assert set(svc["depends_on"]) == {"chroma", "postgres"}
    assert services["postgres"]["image"].split(":")[0] == "postgres"
    assert "/api/v2/heartbeat" in " ".join(services["chroma"]["healthcheck"]["test"])
    volumes = set(compose()["volumes"])
    for name, target in (("chroma", "/data"), ("postgres", "/var/lib/postgresql/data")):
        mounts = [v.split(":") for v in services[name]["volumes"]]
        assert any(src in volumes and dst == target for src, dst, *_ in mounts), f"{name} keeps its data"


def test_dockerfile_runs_the_service_as_a_non_root_user() -> None:
    user = instruction("USER").split(":")[0]
    assert user not in {"root", "0"}
    assert json.loads(instruction("ENTRYPOINT")) == ["copilot"]
    cmd = parse(json.loads(instruction("CMD")))
    assert cmd.command == "serve" and cmd.host == "0.0.0.0"
    assert instruction("EXPOSE") == str(cmd.port)
    assert len(re.findall(r"^FROM\s", dockerfile(), flags=re.MULTILINE)) >= 2, "multi-stage"
    assert re.search(r"^FROM\s+\S*python:3\.11-slim", dockerfile(), flags=re.MULTILINE) or \
        "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile()


def test_healthcheck_hits_a_real_route_on_the_served_port(tmp_path: Path) -> None:
    check = instruction("HEALTHCHECK")
    assert "urllib.request" in check and "curl" not in check, "slim images have no curl"
    url = urlsplit(healthcheck_url(check))
    assert url.hostname == "127.0.0.1" and url.port == parse(json.loads(instruction("CMD"))).port
    app = create_app(Copilot(Settings(data_dir=tmp_path, embedder="hash")))
    with TestClient(app) as client:
        assert client.get(url.path).status_code == 200


def test_chroma_server_matches_the_client_in_the_image() -> None:
    image = compose()["services"]["chroma"]["image"]
    repo, _, tag = image.partition(":")
    assert repo == "chromadb/chroma" and re.fullmatch(r"\d+\.\d+\.\d+", tag), "pinned to a release"
    pinned = re.search(r"^ARG CHROMADB_VERSION=(\S+)$", dockerfile(), flags=re.MULTILINE)
    assert pinned and pinned.group(1) == tag
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    chroma = next(Requirement(d) for d in deps if Requirement(d).name == "chromadb")
    assert chroma.specifier.contains(tag), f"{tag} is outside pyproject's {chroma.specifier}"


def test_build_context_keeps_what_the_build_copies_and_drops_the_rest() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".copilot", "bench", "test-artifacts", ".env", "copilot.env"} <= ignored
    copied = [src for line in re.findall(r"^COPY\s+(?!--from)(.+)$", dockerfile(), flags=re.MULTILINE)
              for src in line.split()[:-1]]
    assert copied
    for src in copied:
        assert (ROOT / src).exists(), src
        assert src.rstrip("/") not in ignored, f"{src} is copied but excluded from the build context"
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["readme"]
    assert readme in copied, "the wheel's metadata needs it"
