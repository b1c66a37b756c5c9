"""Writing output files whole or not at all (every command's ``--output``).

A regular file is written to a temporary file in the target's own folder, flushed to disk
(``fsync``) and renamed over the target (``os.replace``, atomic on POSIX): a reader sees the old
file or the new one, never half of one, and a failed write (disk full, interrupted) removes the
temporary file and leaves the target as it was. A symbolic link is written through: the file it
points to is replaced (or created, for a dangling link whose folder exists), the link stays, as
a shell redirection would do. A target that exists and is not a regular file (``/dev/stdout``,
``/dev/null``, a named pipe) is written directly, there being nothing to replace.

Every failure is an :class:`OutputError` whose ``str()`` is one line naming the path and the
reason; the commands print it and exit with 2 (a bad ``--output``: usage).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import OutputError


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links (too many levels)"
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is longer than the file system allows"
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def _name_max(folder: Path) -> int | None:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return None


def _target(path: str) -> tuple[Path, os.stat_result | None]:
    """The file a write to ``path`` lands in (symbolic links followed) and its stat, None if absent.

    Raises OutputError for a path that cannot name a file to write.
    """
    if not path:
        raise OutputError(path, "an empty path names no file")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a loop, a name too long, a file used as a folder
        raise OutputError(path, _reason(exc)) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(path, "is a directory")
    target = Path(os.path.realpath(path))  # through symbolic links: the link stays, its file is replaced
    if st is None:
        folder = target.parent
        link = os.path.islink(path)
        if not folder.is_dir():
            where = f"the symbolic link points to {target}, whose folder does not exist" if link else f"folder {folder} does not exist"
            raise OutputError(path, where)
        limit = _name_max(folder)
        size = len(os.fsencode(target.name))
        if limit is not None and size > limit:
            raise OutputError(path, f"the file name is {size} bytes, longer than the file system allows ({limit})")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(path, f"permission denied (folder {folder})")
    elif not os.access(path, os.W_OK):
        raise OutputError(path, "permission denied")
    return target, st


def output_problem(path: str) -> str | None:
    """Why ``path`` cannot be written (checked before any work is done), or None."""
    try:
        _target(path)
    except OutputError as exc:
        return exc.reason
    return None


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike):
    """A binary file handle whose content replaces ``path`` when the block ends without error.

    Raises
    ------
    OutputError
        The path cannot be written, or writing failed (the target is then unchanged and no
        temporary file is left behind).
    """
    path = os.fspath(path)
    target, st = _target(path)
    if st is not None and not stat.S_ISREG(st.st_mode):  # a device or a pipe: nothing to replace
        try:
            with open(path, "wb") as fh:
                yield fh
        except OSError as exc:
            raise OutputError(path, _reason(exc)) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if st is not None:
            mode = stat.S_IMODE(st.st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)  # mkstemp makes it 0600; the file gets the mode a plain write would give
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(path, _reason(exc)) from None
        raise


def write_output(path: str | os.PathLike, data: str | bytes, encoding: str = "utf-8") -> None:
    """Write ``data`` (text is encoded with ``encoding``) to ``path`` whole or not at all."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    with atomic_writer(path) as fh:
        fh.write(raw)
