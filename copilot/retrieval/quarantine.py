"""Sources screened before they are indexed: a suspicious article or ticket is quarantined (not
indexed, listed with its reason in the ingest summary) so it can never speak in a reply.

Everything an article says can be quoted, so all of it is screened; of a past ticket, the agent's
replies are reused word for word and fully screened, while the customer's words (subject, messages,
tags, name) are only screened for instructions to an assistant: customers forward phishing mails
when they ask about them, and their words are never reused.
"""

from __future__ import annotations

from collections.abc import Iterable

from copilot.models import Article, Ticket
from copilot.poisoning import poison_reasons

__all__ = ["article_reasons", "ticket_reasons"]


def article_reasons(article: Article, allowed: Iterable[str]) -> list[str]:
    return poison_reasons(reused=f"{article.title}\n{article.body}\n{' '.join(article.tags)}", allowed=allowed)


def ticket_reasons(ticket: Ticket, allowed: Iterable[str]) -> list[str]:
    customer = [ticket.subject or "", ticket.customer_name or "", " ".join(ticket.tags),
                *(m.body for m in ticket.messages if m.author == "customer")]
    # The replies' e-mail addresses are redacted before they are stored: they never reach a reply.
    return poison_reasons(trusted="\n".join(customer), reused="\n\n".join(ticket.agent_replies()), allowed=allowed,
                          emails=False)
