"""The helpdesk client contract, run against the in-memory fake the unit tests use and the real
Zendesk and Freshdesk clients (over a local fake of their REST APIs). The application layer relies on
exactly this: a ticket with the customer's messages first and no internal notes, notes and public
replies that land on the right ticket, ``HelpdeskError`` for a ticket that does not exist."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copilot.errors import HelpdeskError
from copilot.helpdesks import Helpdesk, HelpdeskHTTP
from copilot.helpdesks.freshdesk import FreshdeskClient
from copilot.helpdesks.zendesk import ZendeskClient
from copilot.models import Message, Ticket
from tests.helpdesk_fake import FakeHelpdesk, fake_helpdesk


class InMemoryHelpdesk:
    """The fake helpdesk of the unit tests."""

    name = "memory"

    def __init__(self) -> None:
        self.tickets = {"1": Ticket(id="1", status="new", customer_name="Jane", messages=[
            Message(author="customer", body="Where is my refund? I returned the chair two weeks ago.")])}
        self.posted: list[tuple[str, str, bool]] = []

    def ticket(self, ticket_id: str) -> Ticket:
        if ticket_id not in self.tickets:
            raise HelpdeskError(f"memory GET {ticket_id}: HTTP 404")
        return self.tickets[ticket_id]

    def add_internal_note(self, ticket_id: str, text: str) -> None:
        self.ticket(ticket_id)
        self.posted.append((ticket_id, text, False))

    def add_public_reply(self, ticket_id: str, text: str) -> None:
        self.ticket(ticket_id)
        self.posted.append((ticket_id, text, True))


class HelpdeskContract:
    existing: str
    missing: str

    @pytest.fixture
    def helpdesk(self) -> Iterator[Helpdesk]:
        raise NotImplementedError

    def posted(self) -> list[tuple[str, str, bool]]:
        raise NotImplementedError

    def test_it_is_a_helpdesk(self, helpdesk: Helpdesk) -> None:
        assert isinstance(helpdesk, Helpdesk) and helpdesk.name

    def test_a_ticket_reads_as_the_customers_conversation(self, helpdesk: Helpdesk) -> None:
        t = helpdesk.ticket(self.existing)
        assert t.id == self.existing and t.messages and t.messages[0].author == "customer"
        assert "Where is my refund" in t.customer_text() and "internal" not in t.customer_text()
        assert t.customer_name and " " not in t.customer_name  # a first name for the greeting

    def test_notes_and_replies_land_on_the_ticket(self, helpdesk: Helpdesk) -> None:
        helpdesk.add_internal_note(self.existing, "Suggested reply: refunds take 5 days.")
        helpdesk.add_public_reply(self.existing, "Refunds take 5 days.")
        assert self.posted() == [(self.existing, "Suggested reply: refunds take 5 days.", False),
                                 (self.existing, "Refunds take 5 days.", True)]

    def test_a_missing_ticket_is_a_helpdesk_error(self, helpdesk: Helpdesk) -> None:
        with pytest.raises(HelpdeskError, match="404"):
            helpdesk.ticket(self.missing)


class TestInMemoryHelpdesk(HelpdeskContract):
    existing, missing = "1", "999"

    @pytest.fixture
    def helpdesk(self) -> Iterator[Helpdesk]:
        self.fake = InMemoryHelpdesk()
        yield self.fake

    def posted(self) -> list[tuple[str, str, bool]]:
        return self.fake.posted


class _Served(HelpdeskContract):
    @pytest.fixture
    def server(self) -> Iterator[FakeHelpdesk]:
        with fake_helpdesk() as fake:
            self.fake = fake
            yield fake


@pytest.mark.integration
class TestZendeskClient(_Served):
    existing, missing = "101", "999"

    @pytest.fixture
    def helpdesk(self, server: FakeHelpdesk) -> Iterator[Helpdesk]:
        yield ZendeskClient(HelpdeskHTTP(server.base_url, auth=("agent@acme.example/token", "zd-token"),
                                         sleep=lambda s: None))

    def posted(self) -> list[tuple[str, str, bool]]:
        return [(tid, body["ticket"]["comment"]["body"], body["ticket"]["comment"]["public"])
                for _, tid, body in self.fake.notes]


@pytest.mark.integration
class TestFreshdeskClient(_Served):
    existing, missing = "201", "299"

    @pytest.fixture
    def helpdesk(self, server: FakeHelpdesk) -> Iterator[Helpdesk]:
        yield FreshdeskClient(HelpdeskHTTP(server.base_url, auth=("fd-key", "X"), sleep=lambda s: None))

    def posted(self) -> list[tuple[str, str, bool]]:
        def text(body: Any) -> str:
            return str(body["body"]).replace("<br>", "\n")

        return [(tid, text(body), kind == "freshdesk-reply") for kind, tid, body in self.fake.notes]
