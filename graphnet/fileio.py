"""Atomic file writes: a file is either the old one or the complete new one, never half."""

from __future__ import annotations

import os
import tempfile

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes"]


def atomic_write(path, write) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place.

    The move is ``os.replace``: atomic on POSIX, so readers (and a resumed run after a
    crash) see either the previous file or the whole new one. The temporary file is removed
    if ``write`` raises.

    Parameters
    ----------
    path : str or os.PathLike
    write : callable (tmp_path: str) -> None

    Examples
    --------
    >>> import pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d, "x.txt")
    ...     atomic_write(p, lambda tmp: pathlib.Path(tmp).write_text("hi"))
    ...     p.read_text()
    'hi'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Examples
    --------
    >>> import pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_text(pathlib.Path(d, "a.md"), "# hi\\n")
    ...     pathlib.Path(d, "a.md").read_text()
    '# hi\\n'
    """
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    atomic_write(path, write)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically.

    Examples
    --------
    >>> import pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_bytes(pathlib.Path(d, "b.bin"), b"\\x00\\x01")
    ...     pathlib.Path(d, "b.bin").read_bytes()
    b'\\x00\\x01'
    """
    def write(tmp):
        with open(tmp, "wb") as fh:
            fh.write(data)

    atomic_write(path, write)
