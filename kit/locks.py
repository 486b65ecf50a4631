"""An exclusive lock shared by processes, held on a small lock file (POSIX `flock`).

Used where separate runs write one shared file: a client's maintenance history and the Quarto
render of `_site/`. The lock is released when the block ends or the process dies.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: str | Path):
    import fcntl

    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
