"""Reading files a pull request may have planted: only regular files, never more than a cap.

A committed symlink can name a FIFO, a device or `/proc/self/fd/1`; a plain `open()` then blocks
until the job times out. Opening with O_NONBLOCK returns at once for a FIFO, and `fstat` on the
opened descriptor (not the path, which could change in between) tells what it really is.
"""

from __future__ import annotations

import os
import stat


class FileProblem(Exception):
    """A file that cannot be used; the message says why, without the path (the caller names it)."""


def read_capped(path: str | os.PathLike[str], cap: int) -> bytes:
    """The bytes of a regular file of at most `cap` bytes; FileProblem otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise FileProblem("no such file") from None
    except IsADirectoryError:
        raise FileProblem("is a directory, not a file") from None
    except OSError as exc:
        raise FileProblem(f"cannot be opened: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise FileProblem("is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise FileProblem("is not a regular file (a FIFO, socket or device?)")
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileProblem(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > cap:
        raise FileProblem(f"is larger than {describe_size(cap)}")
    return b"".join(chunks)


def describe_size(size: int) -> str:
    mib = size / (1024 * 1024)
    return f"{mib:g} MiB" if mib >= 1 else f"{size // 1024} KiB"
