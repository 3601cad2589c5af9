"""Compare-and-swap writes for annotation files edited by several writers at once (browser tabs, people,
``data prelabel`` running beside the annotation tool).

Each file (or each entry of a shared file) has a *revision*, a short hash of its content. A writer says
which revision its edit was based on; when the file changed since, the write is refused with
:class:`StaleRevision` instead of silently overwriting the other edit. The check and the write happen
under an exclusive lock on the file's folder (``flock``, so other processes and threads wait too), and the
write itself is atomic (temp file, fsync, rename): a crash leaves the old file or the new one, never half.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from numberplate.data.atomic import atomic_write_bytes
from numberplate.errors import NumberplateError

try:  # POSIX only; without it writes are still atomic, but concurrent writers are not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

ABSENT = "absent"  # the revision of a file (or entry) that does not exist yet


class StaleRevision(NumberplateError):
    """The file changed since the revision an edit was based on."""

    def __init__(self, path: str | Path, expected: str, current: str):
        self.path, self.expected, self.current = str(path), expected, current
        super().__init__(f"{path}: changed since it was read (revision {current}, the edit was based on {expected})")


def revision_of(data: bytes | None) -> str:
    """Revision of a file's bytes (None = the file does not exist)."""
    return ABSENT if data is None else hashlib.sha256(data).hexdigest()[:16]


def revision_of_json(obj) -> str:
    """Revision of one JSON value (an entry inside a shared file), independent of key order."""
    return revision_of(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def read_bytes(path: str | Path) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None


@contextmanager
def folder_lock(folder: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for one read-check-write, across threads and processes.

    ``flock`` belongs to the open file description, and each call opens the folder anew, so two threads of
    one process exclude each other just as two processes do.
    """
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def write_atomic(path: str | Path, data: bytes, before_replace: Callable[[], None] | None = None) -> None:
    """Temp file beside ``path``, fsync, rename (:func:`numberplate.data.atomic.atomic_write_bytes`), with
    an optional hook before the rename for the crash tests."""
    atomic_write_bytes(path, data, before_replace)


def json_bytes(obj, indent: int | None = None) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=indent) + "\n").encode("utf-8")


def replace_if_unchanged(path: str | Path, expected: str, data: bytes,
                         before_replace: Callable[[], None] | None = None) -> str:
    """Write ``data`` to ``path`` if the file is still at revision ``expected``; return the new revision.

    Raises:
        StaleRevision: the file changed (or appeared, or vanished) since ``expected``.
    """
    path = Path(path)
    with folder_lock(path.parent):
        current = revision_of(read_bytes(path))
        if current != expected:
            raise StaleRevision(path, expected, current)
        write_atomic(path, data, before_replace)
    return revision_of(data)
