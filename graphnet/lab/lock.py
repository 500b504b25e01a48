"""One process per run directory: an exclusive lock on ``RUN/.lock`` holding its pid.

The lock is ``fcntl.flock`` on an open file: the kernel drops it when the process (and
any child it forked, which shares the open file) ends, however it ends, so a killed run
never leaves a stale lock behind. The file itself stays; its content is only the pid of
the last holder, for the message a second process gets.
"""

from __future__ import annotations

import os

from graphnet.errors import InputError

__all__ = ["LOCK_NAME", "RunLock"]

#: Name of the lock file inside a run directory.
LOCK_NAME = ".lock"


class RunLock:
    """An exclusive, non-blocking lock on a run directory (``DIR/.lock``).

    Parameters
    ----------
    directory : str or os.PathLike
        An existing directory.

    Raises
    ------
    InputError
        (from :meth:`acquire`) Another process holds the lock; the message names the
        directory and that process's pid.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with RunLock(d):
    ...         try:
    ...             RunLock(d).acquire()
    ...         except InputError as err:
    ...             print("in use by another graphnet run (pid" in str(err))
    ...     with RunLock(d):                  # released: free again
    ...         pass
    True
    """

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, LOCK_NAME)
        self._fd = None

    def __repr__(self):
        return f"RunLock({self.directory!r}, held={self.held})"

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> "RunLock":
        """Take the lock or refuse at once (never waits); write this process's pid."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            _flock(fd)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise InputError(
                f"run: the run directory {self.directory} is in use by another graphnet run "
                f"(pid {holder}); wait for it to end or choose another --out") from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (closing the file drops it); the file stays."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def _flock(fd: int) -> None:
    """An exclusive non-blocking lock on ``fd``; BlockingIOError when someone holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - no flock (Windows): no lock
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
