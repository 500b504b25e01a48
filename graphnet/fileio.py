"""Atomic file writes: a file is either the old one or the complete new one, never half."""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import threading
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "atomic_write_json",
           "TMP_PREFIX", "is_temporary", "current_umask"]

#: Prefix of the temporary files of :func:`atomic_write` (``.tmp-<stem>-<random><suffix>``).
TMP_PREFIX = ".tmp-"
# mkstemp's random part is 8 characters of [a-z0-9_]
_TMP_NAME = re.compile(re.escape(TMP_PREFIX) + r".*-[a-z0-9_]{8}(\.[^.]*)?")
_UMASK_LOCK = threading.Lock()


def is_temporary(name) -> bool:
    """Whether a file name is one of :func:`atomic_write`'s temporaries (left by a kill).

    Examples
    --------
    >>> is_temporary(".tmp-round003-k2j4_x9a.json"), is_temporary(".tmp-notes.txt")
    (True, False)
    >>> is_temporary("round003.json")
    False
    """
    return _TMP_NAME.fullmatch(os.path.basename(os.fspath(name))) is not None


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows.

    Linux gives it in ``/proc/self/status`` (``Umask:``); elsewhere it is set and restored
    under a lock, the only portable way to learn it.

    Examples
    --------
    >>> 0 <= current_umask() <= 0o777
    True
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _new_mode(path: Path) -> int:
    """The mode of a file replacing ``path``: an existing file's (a private 0600 file stays
    private), else ``0o666`` less the umask."""
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    return 0o666 & ~current_umask()


def atomic_write(path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then move it into place.

    The move is ``os.replace``: atomic on POSIX, so readers (and a resumed run after a
    crash) see either the previous file or the whole new one. Missing parent folders are
    made; the temporary file keeps ``path``'s suffix (for writers that go by it) and is
    removed if ``write`` raises. The file gets the mode any program's new file gets,
    ``0o666`` less the umask (``mkstemp`` alone would make it ``0o600``); a file it replaces
    keeps its own mode (a private ``0o600`` file stays private). A process killed
    during ``write`` leaves the temporary (see :func:`is_temporary`).

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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.stem}-",
                               suffix=path.suffix)
    try:
        try:
            os.fchmod(fd, _new_mode(path))
        finally:
            os.close(fd)
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
