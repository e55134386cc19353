"""Reading files a pull request may have planted: only regular files, never more than a cap.

A committed symlink can name a FIFO, a device or `/proc/self/fd/1`; a plain `open()` then blocks
until the job times out. Opening with O_NONBLOCK returns at once for a FIFO, and `fstat` on the
opened descriptor (not the path, which could change in between) tells what it really is.
"""

from __future__ import annotations

import contextlib
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


def _refuse(relative: str, why: str) -> FileProblem:
    return FileProblem(
        f"{relative}: {why}; routing-guard writes only inside the workspace, never through a symlink"
    )


def open_in(root: str | os.PathLike[str], relative: str, *, append: bool = False) -> int:
    """A descriptor for writing `relative` inside `root`, opened component by component with
    O_NOFOLLOW, so no symlink (in a folder or the file itself) can lead the write outside `root`,
    and only a regular file (never a FIFO or device) is written. Missing folders are created.
    Raises FileProblem naming `relative`."""
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
    if os.path.isabs(relative) or not parts or ".." in parts:
        raise _refuse(relative, "is not a path inside the workspace")
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=directory)
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            except OSError as exc:  # ELOOP or ENOTDIR: a symlink or a file where a folder should be
                raise _refuse(relative, f"{part} is a symlink or not a folder ({exc.strerror})") from None
            os.close(directory)
            directory = inner
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | (os.O_APPEND if append else 0)
        try:
            fd = os.open(parts[-1], flags, 0o644, dir_fd=directory)
        except OSError as exc:  # ELOOP: the file is a symlink; ENXIO: a FIFO nobody reads
            raise _refuse(relative, f"cannot be written ({exc.strerror})") from None
    finally:
        os.close(directory)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _refuse(relative, "is not a regular file")
    if not append:
        os.ftruncate(fd, 0)
    return fd


def write_in(root: str | os.PathLike[str], relative: str, text: str, *, append: bool = False) -> None:
    """Write (or append) UTF-8 text to `relative` inside `root`; see `open_in`."""
    fd = open_in(root, relative, append=append)
    with open(fd, "w", encoding="utf-8", closefd=True) as stream:
        stream.write(text)


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether `path`, every symlink resolved, is `root` or below it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(root, path))
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)
