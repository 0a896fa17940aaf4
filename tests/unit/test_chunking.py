from __future__ import annotations

from copilot.models import Article, Message, Ticket
from copilot.retrieval.chunking import article_chunks, ticket_chunks


def test_articles_split_by_section_with_titles() -> None:
    body = ("# Returns\n" + "Intro text about returns that is long enough to stand on its own. " * 3 + "\n\n## Window\n" + "You have 30 days to return. " * 10 + "\n\n## Label\n"
            + "We e-mail a prepaid label. " * 10)
    chunks = article_chunks(Article(id="r", title="Returns", body=body, url="https://x/r"), "acme")
    assert [c.id for c in chunks] == ["article:r#0", "article:r#1", "article:r#2"]
    assert chunks[1].title == "Returns › Window" and "30 days" in chunks[1].text
    assert all(c.n_chunks == 3 and c.brand == "acme" and c.url == "https://x/r" for c in chunks)


def test_long_sections_are_split_again() -> None:
    body = "## Big\n" + ("A sentence about the policy. " * 200)
    chunks = article_chunks(Article(id="big", body=body), "acme")
    assert len(chunks) > 3
    assert all(len(c.text) < 1300 for c in chunks)


def test_ticket_chunk_is_problem_plus_resolution_and_redacted() -> None:
    t = Ticket(id="9", subject="Late order", messages=[
        Message(author="customer", body="Order #AB12345 not here, mail me at x@y.com"),
        Message(author="agent", body="Hi Ann, it ships today. Call +1 415 555 0100."),
        Message(author="customer", body="thanks"),
        Message(author="agent", body="Anything else?"),
    ])
    (c,) = ticket_chunks(t, "acme")
    assert c.source_id == "ticket:9" and c.kind == "ticket"
    assert "thanks" not in c.text  # follow-ups are not the problem
    assert "x@y.com" not in c.text and "AB12345" not in c.text and "[EMAIL]" in c.text
    assert c.replies[0] == "Hi [NAME], it ships today. Call [PHONE]."
    assert len(c.replies) == 2


def test_hash_changes_with_content_and_brand() -> None:
    a = Article(id="x", body="one")
    h1 = article_chunks(a, "acme")[0].source_hash
    assert h1 == article_chunks(a, "acme")[0].source_hash
    assert h1 != article_chunks(Article(id="x", body="two"), "acme")[0].source_hash
    assert h1 != article_chunks(a, "globex")[0].source_hash
