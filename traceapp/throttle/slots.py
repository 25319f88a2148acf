"""Slots for password hashing, shared by the processes of one machine.

A password check runs scrypt on purpose: tens of milliseconds of a core and 32 MB. With gunicorn's
sync workers, a few clients guessing passwords keep every worker hashing while consumers' pages
wait in the queue. At most N checks run at once on the machine (N lock files, each held with
``flock`` while one check runs); a check that finds every slot taken does not wait, it is refused
(429, try again in a second), so the other workers stay free for pages. ``flock`` locks belong to
an open file, so threads of one process exclude each other as processes do, and the kernel drops
a lock when its holder dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def default_count() -> int:
    """One core fewer than the machine has, at least one: a core stays free for pages."""
    return max(1, (os.cpu_count() or 2) - 1)


class HashSlots:
    """``count`` slots under ``directory`` (one folder per deployment, see ``for_instance``)."""

    def __init__(self, directory: Path, count: int):
        if count < 1:
            raise ValueError(
                "PASSWORD_HASH_SLOTS must be at least 1 (or 0 for one core fewer than the machine's)"
            )
        self.directory = directory
        self.count = count

    @classmethod
    def for_deployment(cls, instance_path: str, database_url: str, count: int) -> HashSlots:
        """The slots of the deployment with this instance folder and database, in the system's
        temporary folder (a local disk, unlike an instance folder that may be shared)."""
        deployment = f"{os.path.abspath(instance_path)}\n{database_url}"
        digest = hashlib.sha256(deployment.encode()).hexdigest()[:16]
        return cls(Path(tempfile.gettempdir()) / f"traceapp-hash-slots-{digest}", count or default_count())

    @contextmanager
    def take(self) -> Iterator[bool]:
        """Hold a free slot while the block runs: yields True, or False at once if none is free."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for index in range(self.count):
            fd = os.open(self.directory / f"{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield True
            finally:
                os.close(fd)  # closing the file releases the lock
            return
        yield False
