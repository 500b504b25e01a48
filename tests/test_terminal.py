"""What `graphnet run` shows: a clean screen in a real terminal, plain lines in a pipe."""

import io
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from graphnet.lab.progress import RunDisplay, display_mode

_TINY = """name = "tiny"
seeds = [0, 1, 2]
rounds = 2
[data]
dataset = "{dataset}"
[train]
epochs = {epochs}
[baselines]
models = {models}
"""

# what a progress bar leaves behind (tqdm's and ours)
_BAR_MARKS = ("it/s", "round/s", "epoch/s", "%|", "rounds [", "\r", "\x1b")


def _config(tmp_path, dataset="digits", epochs=2, models='["fixed-graph", "mlp"]'):
    path = tmp_path / "tiny.toml"
    path.write_text(_TINY.format(dataset=dataset, epochs=epochs, models=models))
    return path


def _run_in_tmux(tmp_path, cols, rows, args, timeout=180):
    """Run ``python -m graphnet ARGS`` in a detached tmux pane; return the joined screen lines."""
    sock = str(tmp_path / "tmux.sock")
    cmd = " ".join([f"MPLBACKEND=Agg {sys.executable} -m graphnet", *args,
                    "; echo __exit $?; sleep 120"])
    tmux = ["tmux", "-S", sock]
    subprocess.run([*tmux, "-f", os.devnull, "new-session", "-d", "-s", "t", "-x", str(cols),
                    "-y", str(rows), "-c", str(tmp_path), cmd], check=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            # -J joins wrapped lines, -S - includes the scrollback
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-J", "-S", "-", "-t", "t"],
                                    capture_output=True, text=True, check=True).stdout
            if "__exit" in screen or time.monotonic() > deadline:
                return [line.rstrip() for line in screen.splitlines() if line.strip()]
            time.sleep(0.5)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("cols, rows, workers", [(80, 24, 2), (120, 40, 2), (80, 24, 1)])
def test_run_in_a_terminal_leaves_a_clean_screen(tmp_path, cols, rows, workers):
    # one worker: the jobs train in this process, where fit's own bar must stay off too
    cfg = _config(tmp_path)
    lines = _run_in_tmux(tmp_path, cols, rows, ["run", str(cfg), "--out", str(tmp_path / "r"),
                                                "--workers", str(workers), "--no-plots"])
    assert "__exit 0" in lines, lines
    # the results table: once, each line whole, and nothing after it but the closing lines
    starts = [k for k, line in enumerate(lines) if line.startswith("| model |")]
    assert len(starts) == 1, lines
    table = lines[starts[0]:starts[0] + 5]  # header, rule, graph, fixed-graph, mlp
    assert table[1].startswith("| --- |") and table[1].endswith("|"), table
    assert [line.split(" | ")[0] for line in table[2:]] == ["| graph", "| fixed-graph", "| mlp"]
    for line in table:
        assert line.endswith("|") and line.count("|") == table[0].count("|"), line
    assert lines[starts[0] + 5].startswith("run directory: "), lines
    assert lines[starts[0] + 6] == "__exit 0", lines
    # no bar, nor any fragment of one, anywhere on the final screen; no line twice
    for line in lines:
        assert not any(mark in line for mark in _BAR_MARKS), line
    assert len(lines) == len(set(lines)), lines


def test_run_in_a_pipe_prints_a_line_per_job_round(tmp_path):
    cfg = _config(tmp_path, dataset="xor", epochs=5, models='["mlp"]')
    out = tmp_path / "r"
    proc = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--out", str(out),
                           "--workers", "2", "--seeds", "0"], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "%|" not in proc.stderr
    pattern = re.compile(r"^seed (\d) (graph|mlp) +round (\d)/2  (val|train) acc [01]\.\d{4}"
                         r"(  rejected)?  \d+\.\d s  \[(w[12])\]$")
    matches = [m for m in map(pattern.match, proc.stderr.splitlines()) if m]
    found = sorted((m[1], m[2], m[3]) for m in matches)
    assert found == sorted(("0", m, str(r)) for m in ("graph", "mlp") for r in range(3)), \
        proc.stderr
    # two Dask workers: each is named once with its address, and every round says where it ran
    named = re.findall(r"^worker (w[12]) is tcp://127\.0\.0\.1:\d+$", proc.stderr, re.M)
    assert sorted(named) == sorted(set(named)) and {m[6] for m in matches} <= set(named), \
        proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-2] == f"plotting figures into {out / 'plots'} ..."
    n = len(os.listdir(out / "plots"))
    assert re.fullmatch(rf"plotted {n} figures in \d+\.\d s", lines[-1]), lines[-1]


def test_no_progress_is_silent_but_for_errors(tmp_path):
    cfg = _config(tmp_path, dataset="xor", epochs=2, models="[]")
    proc = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--out",
                           str(tmp_path / "r"), "--no-progress", "--no-plots"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "| graph |" in proc.stdout
    again = subprocess.run([sys.executable, "-m", "graphnet", "run", str(cfg), "--out",
                            str(tmp_path / "r"), "--no-progress", "--no-plots"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and again.stderr.startswith("graphnet run: error: ")
    assert "--no-progress silences" in subprocess.run(
        [sys.executable, "-m", "graphnet", "run", "--help"], capture_output=True,
        text=True).stdout.replace("\n", " ").replace("  ", " ")


# ----------------------------------------------------------------------------- the display


def _bar(width=60, **kw):
    now = [0.0]
    out = io.StringIO()
    d = RunDisplay({"0/graph": "seed 0 graph", "0/mlp": "seed 0 mlp"}, rounds=3, epochs=5,
                   mode="bar", stream=out, width=width, clock=lambda: now[0], **kw)
    return d, out, now


def test_bar_is_one_line_never_wider_than_the_terminal_and_erased_on_close():
    d, out, now = _bar(width=40)
    d.start("0/graph", 0)
    for e in range(1, 6):
        now[0] += 1.0
        d.epoch("0/graph", 0, e)
    d.round("0/graph", 0)
    d.note("a warning")
    d.close()
    text = out.getvalue()
    assert text.count("\n") == 1 and "a warning\n" in text
    frames = text.replace("\n", "\r").split("\r")
    assert all(len(frame) <= 39 for frame in frames), frames
    assert "\x1b" not in text  # no escape codes: any console shows it
    *_, last_bar, blank, after = frames  # the last act blanks the bar's line
    assert last_bar.startswith("rounds ") and blank == " " * len(last_bar) and after == ""
    d.note("after")
    assert out.getvalue().endswith(" \rafter\n")  # a note after close: no bar again


def test_a_warning_in_a_forked_worker_does_not_draw_the_bar(monkeypatch):
    import warnings

    d, out, now = _bar()
    d.start("0/graph", 0)
    drawn = out.getvalue()
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a pool worker forked from here
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("from a worker")
    monkeypatch.undo()
    assert out.getvalue() == drawn  # the worker's copy of the bar stays undrawn
    d.close()


def test_bar_stays_within_a_terminal_that_narrows():
    d, out, now = _bar(width=80)
    d.start("0/graph", 0)
    d.start("0/mlp", 0)
    before = len(out.getvalue())
    assert len(out.getvalue().split("\r")[-1].rstrip()) > 40  # the bar on screen is wide
    d.width = 30  # the user narrows the window: the blanking must not wrap either
    now[0] += 1.0
    d.epoch("0/graph", 0, 1)
    d.note("a note")
    d.close()
    frames = out.getvalue()[before:].replace("\n", "\r").split("\r")
    assert all(len(f) <= 29 for f in frames), frames


def test_bar_counts_rounds_of_all_jobs_and_resumed_ones():
    d, out, now = _bar(done={"0/graph": 1, "0/mlp": -1})
    assert d.line(200).startswith("rounds 2/8 [###---------]")
    d.start("0/mlp", 0)
    d.epoch("0/mlp", 0, 3)
    assert d.line(200).endswith("| seed 0 mlp r0 e3/5")
    d.close()


def test_bar_redraws_at_most_ten_times_a_second():
    d, out, now = _bar()
    d.start("0/graph", 0)
    for e in range(1, 6):
        d.epoch("0/graph", 0, e)  # the clock stands still: no redraw
    assert out.getvalue().count("\r") == 1
    now[0] += 0.2
    d.epoch("0/graph", 0, 5)
    assert out.getvalue().count("\r") == 2
    d.close()


def test_display_mode():
    assert display_mode(None, io.StringIO()) == "lines"
    assert display_mode(True, io.StringIO()) == "lines"
    assert display_mode(False, io.StringIO()) == "off"
    with open(os.devnull, "w") as fh:
        assert display_mode(None, fh) == "lines"
    with pytest.raises(ValueError, match="progress must be True, False or None, got 'yes'"):
        display_mode("yes")
