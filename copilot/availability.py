"""Which failures mean "a dependency is down" (answer 503 and retry later) rather than "the copilot
has a bug" (500): the one place that knows the exception types of the database, the Chroma client
and HTTP transports, so entry points never do."""

from __future__ import annotations

from collections.abc import Iterator

from copilot.errors import UnavailableError

__all__ = ["as_unavailable", "dependency_errors"]


def dependency_errors() -> tuple[type[Exception], ...]:
    """The exception classes that mean a dependency failed (for an HTTP app to map each to a 503)."""
    import httpx
    from chromadb.errors import InternalError
    from sqlalchemy import exc as sa

    return (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, httpx.TransportError, ConnectionError,
            TimeoutError, InternalError)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _dependency(exc: BaseException) -> str | None:
    import httpx
    from sqlalchemy import exc as sa

    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.TimeoutError)):
        return "the database"
    if isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError):
        return "a service the copilot depends on"
    code = getattr(exc, "code", None)
    if type(exc).__module__.startswith("chromadb") and callable(code) and int(code()) >= 500:
        return "the index"
    return None


def as_unavailable(exc: BaseException) -> UnavailableError | None:
    """The failure as an ``UnavailableError`` when a dependency caused it (anywhere in its chain), else None."""
    for e in _chain(exc):
        if isinstance(e, UnavailableError):
            return e
        what = _dependency(e)
        if what is not None:
            return UnavailableError(f"{what} is unavailable ({type(e).__name__})",
                                    hint="retry shortly; /readyz names what is down")
    return None
