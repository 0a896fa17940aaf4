"""One writer for the embedded index: the persistent Chroma store under the data dir belongs to one
process at a time.

Chroma's persistent client keeps part of the index in memory and assumes it is the only process
using its folder: a ``copilot ingest`` writing into the folder a ``copilot serve`` is using leaves
the service with a stale view and then errors until it restarts. So the process that writes holds
an exclusive lock on the folder: ``copilot serve`` and ``copilot worker`` for their whole life,
``copilot ingest`` while it runs. A second writer is refused at once with a clear error and writes
nothing; the service never sees a foreign write. A team (several replicas, a separate worker,
ingests at any time) uses a Chroma server (``COPILOT_CHROMA_HOST``), which serialises writes
itself: no lock is needed or taken then.

Reads from another process (``copilot search``) are not locked: they cannot harm the owner.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from filelock import FileLock, Timeout

from copilot.errors import UnavailableError

__all__ = ["StoreInUseError", "StoreOwner"]


class StoreInUseError(UnavailableError):
    code = "store_in_use"


class StoreOwner:
    """The lock on an embedded store's folder, shared by every thread of this process (and every
    Copilot in it: ``for_folder`` gives one owner per folder)."""

    _owners: ClassVar[dict[Path, StoreOwner]] = {}
    _owners_lock = threading.Lock()

    @classmethod
    def for_folder(cls, folder: Path) -> StoreOwner:
        key = folder.resolve()
        with cls._owners_lock:
            if key not in cls._owners:
                cls._owners[key] = cls(key)
            return cls._owners[key]

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        # Not thread-local: the process owns the store, whichever thread writes.
        self._lock = FileLock(folder / "copilot-writer.lock", thread_local=False)
        self._info = folder / "copilot-writer.json"
        self._held = 0
        self._mutex = threading.Lock()

    def _acquire(self) -> None:
        with self._mutex:
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                raise StoreInUseError(
                    f"the index at {self.folder} is being written by another copilot process ({self._owner()})",
                    hint="the embedded index takes one writing process: wait for it, stop it, ingest through the "
                         "running service (POST /v1/tickets), or share a Chroma server (COPILOT_CHROMA_HOST), where "
                         "any number of processes can ingest while replicas serve") from None
            self._held += 1
            if self._held == 1:
                program = Path(sys.argv[0]).name
                command = " ".join(["copilot" if program in {"copilot", "cli.py"} else program, *sys.argv[1:2]])
                self._info.write_text(json.dumps({"pid": os.getpid(), "command": command}), encoding="utf-8")

    def _release(self) -> None:
        with self._mutex:
            self._held -= 1
            self._lock.release()

    def hold(self) -> None:
        """Own the store until the process ends (the service and the worker)."""
        self._acquire()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Own the store for one write (re-entrant: free inside a process that holds it)."""
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def _owner(self) -> str:
        try:
            info = json.loads(self._info.read_text(encoding="utf-8"))
            return f"pid {info['pid']}, `{info['command']}`"
        except (OSError, ValueError, KeyError):
            return "unknown process"
