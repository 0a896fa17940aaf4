"""The helpdesk protocol and the registry of configured helpdesks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol, runtime_checkable

from copilot.errors import ConfigError
from copilot.models import Ticket

__all__ = ["Helpdesk", "HelpdeskRegistry", "NoteLookup"]


@runtime_checkable
class Helpdesk(Protocol):
    name: str

    def ticket(self, ticket_id: str) -> Ticket: ...

    def add_internal_note(self, ticket_id: str, text: str) -> str | None:
        """Post a note agents see and customers do not; the note's id when the helpdesk gives one."""

    def add_public_reply(self, ticket_id: str, text: str) -> None: ...


@runtime_checkable
class NoteLookup(Protocol):
    """A helpdesk that can tell whether a note carrying ``marker`` is already on a ticket. Neither
    Zendesk nor Freshdesk takes an idempotency key for comments, so a job that runs again (its
    worker died after posting, before recording it) looks before it posts: the note lands once."""

    def find_note(self, ticket_id: str, marker: str) -> str | None: ...


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
