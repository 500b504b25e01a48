"""Atomic file writes: a file is either the old one or the complete new one, never half."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "atomic_write_json"]


def atomic_write(path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place.

    The move is ``os.replace``: atomic on POSIX, so readers (and a resumed run after a
    crash) see either the previous file or the whole new one. Missing parent folders are
    made; the temporary file keeps ``path``'s suffix (for writers that go by it) and is
    removed if ``write`` raises.

    Parameters
    ----------
    path : str or os.PathLike
    write : callable (tmp_path: str) -> None

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d, "x.txt")
    ...     _ = atomic_write(p, lambda tmp: pathlib.Path(tmp).write_text("hi"))
    ...     p.read_text()
    'hi'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.stem}-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically, synced to disk first.

    Examples
    --------
    >>> import pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_text(pathlib.Path(d, "a.md"), "# hi\\n")
    ...     pathlib.Path(d, "a.md").read_text()
    '# hi\\n'
    """
    def write(tmp):
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

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
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(path, write)


def atomic_write_json(path, data) -> None:
    """Write JSON atomically; floats keep every bit (Python's shortest repr), NaN is refused.

    Examples
    --------
    >>> with tempfile.TemporaryDirectory() as d:
    ...     atomic_write_json(Path(d, "s.json"), {"x": 0.1})
    ...     json.loads(Path(d, "s.json").read_text())
    {'x': 0.1}
    """
    atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
