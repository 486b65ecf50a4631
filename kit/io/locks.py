"""Locks shared by processes, held with POSIX `flock`, released when the block ends or the process dies.

* `exclusive(lock_file)`: one holder at a time, the others wait. Used where separate runs write
  one shared thing: a client's report folder (`client`: committing a period, its history) and
  the Quarto render of `_site/`.
* `claim(folder)`: marks a run's temporary folder as in use for as long as the run's process
  lives (an flock on the folder itself); `claimed(folder)` tells a live run's folder from one
  left behind by a run that was killed, which the next run may remove.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

CLIENT_LOCK = ".client.lock"  # in reports/<client>/


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


def client(client_root: str | Path):
    """The per-client lock: whoever holds it may replace a period folder or the client's history."""
    return exclusive(Path(client_root) / CLIENT_LOCK)


def claim(folder: str | Path) -> int:
    """Hold `folder` for this process (until `release`, or the process ends). Returns the handle."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def release(handle: int) -> None:
    os.close(handle)  # closing the last descriptor drops the flock


def claimed(folder: str | Path) -> bool:
    """True while a live process holds `folder` (see `claim`)."""
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
