"""Live output of a run: one redrawn line on a terminal, a plain line per round in a pipe.

Three modes (see :func:`display_mode`):

``"bar"``
    stderr is a terminal: a single line, redrawn in place (a carriage return, the text, and
    spaces over what the last one left: no escape codes, so any console shows it), never
    wider than the terminal so it never wraps. It holds one
    overall bar of the run's rounds and the status of the running jobs. It is erased when
    the display closes, so nothing of it can remain inside or after the results table.
``"lines"``
    stderr is a pipe or a file (``| cat``, CI logs): one flushed line per finished job
    round, e.g. ``seed 0 graph      round 2/4  val acc 0.9722  3.1 s`` (the time is the
    run's elapsed wall time), so that a long run is visibly alive.
``"off"``
    ``--no-progress``: nothing; errors are still reported by the caller.

In every mode but ``off``, :meth:`RunDisplay.note` prints a plain line (plotting, warnings)
without breaking the bar.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

from graphnet.errors import InputError

__all__ = ["MODES", "display_mode", "RunDisplay"]

MODES = ("bar", "lines", "off")

_MIN_INTERVAL = 0.1  # seconds between two redraws of the bar


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def display_mode(progress, stream=None) -> str:
    """The display mode for ``progress`` (``--progress/--no-progress``) on ``stream``.

    Parameters
    ----------
    progress : bool or None
        ``False``: ``"off"``. ``None`` (the default) or ``True``: ``"bar"`` when ``stream``
        is a terminal, else ``"lines"`` (a bar's carriage returns would litter a log).
    stream : file, optional
        Default ``sys.stderr``.

    Returns
    -------
    str
        One of :data:`MODES`.

    Examples
    --------
    >>> import io
    >>> display_mode(None, io.StringIO()), display_mode(False, io.StringIO())
    ('lines', 'off')
    """
    if progress is not None and not isinstance(progress, bool):
        raise InputError(f"progress must be True, False or None, got {progress!r}")
    if progress is False:
        return "off"
    return "bar" if _isatty(sys.stderr if stream is None else stream) else "lines"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class RunDisplay:
    """What the user sees of a run while it works.

    Parameters
    ----------
    labels : dict
        Job key -> label (``"seed 0 graph"``), in the run's order.
    rounds : int or dict
        The last round; a job has ``rounds + 1`` rounds (0..rounds). A dict gives it per
        job key (a sweep's points may differ).
    epochs : int or dict
        Epochs per round (per job key, if a dict).
    mode : {"bar", "lines", "off"}
    done : dict, optional
        Job key -> last completed round (-1: none), for a resumed run.
    stream : file, optional
        Default ``sys.stderr``.
    width : int, optional
        Width of the bar's line; default the terminal's, read at every redraw.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> d = RunDisplay({"0/graph": "seed 0 graph"}, rounds=1, epochs=2, mode="lines",
    ...                stream=out, clock=lambda: 0.0)
    >>> d.start("0/graph", 0); d.round("0/graph", 0, accuracy=0.75, split="val")
    >>> d.close()
    >>> print(out.getvalue(), end="")
    seed 0 graph  round 0/1  val acc 0.7500  0.0 s
    """

    def __init__(self, labels: dict, rounds: int, epochs: int, mode: str, *, done=None,
                 stream=None, width=None, clock=time.monotonic):
        if mode not in MODES:
            raise InputError(f"RunDisplay: mode must be one of {MODES}, got {mode!r}")
        self.labels, self.mode = dict(labels), mode
        self.rounds = rounds if isinstance(rounds, dict) else dict.fromkeys(self.labels, rounds)
        self.epochs = epochs if isinstance(epochs, dict) else dict.fromkeys(self.labels, epochs)
        self.stream = sys.stderr if stream is None else stream
        self.width, self.clock = width, clock
        done = done or {}
        self.total = sum(self.rounds[k] + 1 for k in self.labels)
        self.finished = sum(min(done.get(k, -1), self.rounds[k]) + 1 for k in self.labels)
        self.first = self.finished
        self.running = {}  # key -> (round, epoch)
        self.worker = {}  # key -> the short name of the worker running it
        self.workers = {}  # a worker's address -> its short name (w1, w2, ...)
        self.t0 = clock()
        self._drawn = 0  # length of the bar's text on the screen
        self._closed = False
        self._last_draw = None
        self._pad = max((len(v) for v in self.labels.values()), default=0)
        self._showwarning = None
        self._pid = os.getpid()  # a forked pool worker inherits the hook below, not the bar
        if mode == "bar":  # a warning would land in the middle of the bar's line
            self._showwarning = warnings.showwarning
            warnings.showwarning = self._warning

    # ------------------------------------------------------------------ events

    def _name(self, worker) -> str | None:
        """A worker's short name (``w1``...); the first time, a line names its address."""
        if worker is None or worker == "local":
            return None
        if worker not in self.workers:
            self.workers[worker] = f"w{len(self.workers) + 1}"
            if self.mode == "lines":
                self._write(f"worker {self.workers[worker]} is {worker}\n")
        return self.workers[worker]

    def start(self, key, round_, worker=None) -> None:
        """Job ``key`` starts (or resumes at) ``round_``, on ``worker`` (an address) if known."""
        self.running[key] = (round_, 0)
        name = self._name(worker)
        if name is not None:
            self.worker[key] = name
        self._draw()

    def epoch(self, key, round_, epoch) -> None:
        """Job ``key`` finished an epoch of ``round_``."""
        self.running[key] = (round_, epoch)
        self._draw()

    def round(self, key, round_, *, accuracy=None, split=None, accepted=True,
              worker=None) -> None:
        """Job ``key`` finished ``round_``; ``accuracy`` on ``split`` ("val" or "train")."""
        self.finished = min(self.finished + 1, self.total)
        self.running[key] = (round_ + 1, 0)
        name = self._name(worker) or self.worker.get(key)
        if self.mode == "lines":
            parts = [f"{self.labels.get(key, key):<{self._pad}}",
                     f"round {round_}/{self.rounds.get(key, '?')}"]
            if accuracy is not None:
                parts.append(f"{split or 'train'} acc {accuracy:.4f}")
            if not accepted:
                parts.append("rejected")
            parts.append(f"{self.clock() - self.t0:.1f} s")
            if name is not None:
                parts.append(f"[{name}]")
            self._write("  ".join(parts) + "\n")
        else:
            self._draw(force=True)

    def done(self, key) -> None:
        """Job ``key`` finished all its rounds (or stopped)."""
        self.running.pop(key, None)
        self.worker.pop(key, None)
        self._draw(force=True)

    def note(self, text: str) -> None:
        """Print a plain line (not in mode ``off``), keeping the bar below it."""
        if self.mode == "off":
            return
        self._erase()
        self._write(text.rstrip("\n") + "\n")
        self._draw(force=True)

    def close(self) -> None:
        """Erase the bar (nothing of it stays on the screen) and restore warnings.

        :meth:`note` still prints afterwards; the bar is not drawn again.
        """
        self._erase()
        if self._showwarning is not None:
            warnings.showwarning = self._showwarning
            self._showwarning = None
        self.running.clear()
        self._closed = True

    # ------------------------------------------------------------------ drawing

    def line(self, width: int) -> str:
        """The bar's text, at most ``width - 1`` characters (a full line would wrap)."""
        elapsed = self.clock() - self.t0
        frac = self.finished / self.total if self.total else 1.0
        cells = 12
        filled = int(frac * cells)
        bar = "#" * filled + "-" * (cells - filled)
        text = f"rounds {self.finished}/{self.total} [{bar}] {_clock(elapsed)}"
        new = self.finished - self.first
        if 0 < new < self.total - self.first:
            text += f" eta {_clock(elapsed / new * (self.total - self.finished))}"
        status = [(self.worker.get(k, ""), f"{self.labels.get(k, k)} r{r} "
                   f"e{e}/{self.epochs.get(k, '?')}")
                  for k, (r, e) in self.running.items() if r <= self.rounds.get(k, r)]
        if status and self.workers:  # jobs per worker: "w1: seed 0 graph r1 e3/10; ..."
            groups = {}
            for w, s in status:
                groups.setdefault(w or "?", []).append(s)
            text += " | " + "; ".join(f"{w}: {', '.join(v)}" for w, v in sorted(groups.items()))
        elif status:
            text += " | " + ", ".join(s for _, s in status)
        return text[:max(width - 1, 0)]

    def _terminal_width(self) -> int:
        if self.width is not None:
            return self.width
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            return 80

    def _draw(self, force=False) -> None:
        if self.mode != "bar" or self._closed:
            return
        now = self.clock()
        if not force and self._last_draw is not None and now - self._last_draw < _MIN_INTERVAL:
            return
        self._last_draw = now
        width = self._terminal_width()
        text = self.line(width)
        # blank what the last bar left, but never past the (maybe narrowed) terminal's edge
        self._write("\r" + text + " " * (min(self._drawn, width - 1) - len(text)))
        self._drawn = len(text)

    def _erase(self) -> None:
        if self._drawn:
            blank = max(min(self._drawn, self._terminal_width() - 1), 0)
            self._write("\r" + " " * blank + "\r")
            self._drawn = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not end the run
            pass

    def _warning(self, message, category, filename, lineno, file=None, line=None):
        if os.getpid() != self._pid and self._showwarning is not None:
            # in a forked worker: a plain warning; drawing this copy's stale bar would leave
            # a line the parent's display does not know of (and cannot erase)
            self._showwarning(message, category, filename, lineno, file, line)
            return
        self.note(warnings.formatwarning(message, category, filename, lineno, line).rstrip())
