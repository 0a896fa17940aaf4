"""The helpdesk protocol and the registry of configured helpdesks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol, runtime_checkable

from copilot.errors import ConfigError
from copilot.models import Ticket

__all__ = ["Helpdesk", "HelpdeskRegistry"]


@runtime_checkable
class Helpdesk(Protocol):
    name: str

    def ticket(self, ticket_id: str) -> Ticket: ...

    def add_internal_note(self, ticket_id: str, text: str) -> None: ...

    def add_public_reply(self, ticket_id: str, text: str) -> None: ...


class HelpdeskRegistry(Mapping[str, Helpdesk]):
    """The helpdesks configured (by settings and the config file), by name."""

    def __init__(self, helpdesks: Mapping[str, Helpdesk] | None = None) -> None:
        self._by_name = dict(helpdesks or {})

    def __getitem__(self, name: str) -> Helpdesk:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def require(self, name: str) -> Helpdesk:
        helpdesk = self._by_name.get(name)
        if helpdesk is None:
            raise ConfigError(f"{name} is not configured",
                              hint="set its credentials and address (see the README's Helpdesk section)")
        return helpdesk
