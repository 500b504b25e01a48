"""Run directories: graphnet deletes or overwrites only what it recognisably wrote.

Every refusal checks that the user's files are byte-identical afterwards, that nothing was
added, and that the exit code is non-zero.
"""

import os
import stat

import pytest

from graphnet.cli import main
from graphnet.errors import InputError
from graphnet.fileio import atomic_write_text, current_umask, is_temporary
from graphnet.lab import rundir as rd
from graphnet.lab.config import parse_config
from graphnet.lab.lock import RunLock
from graphnet.lab.runner import run_experiment

from conftest import tree_snapshot

XOR = """
name = "xor-tiny"
seeds = [0]
rounds = 1
[data]
dataset = "xor"
[network]
sizes = [2, 3, 2]
[train]
epochs = 2
[[mutation.schedule]]
op = "A"
a = {quantile = 0.3}
[baselines]
models = ["mlp"]
"""


@pytest.fixture
def xor_cfg(tmp_path):
    path = tmp_path / "xor.toml"
    path.write_text(XOR)
    return path


def run_cli(*argv):
    return main(["run", *map(str, argv), "--no-progress", "--no-plots"])


def make_run(cfg_path, out):
    assert run_cli(cfg_path, "--out", out, "--workers", "1") == 0


# ----------------------------------------------------------------------------- --force


def test_force_refuses_a_folder_of_user_files(tmp_path, xor_cfg, capsys):
    user = tmp_path / "thesis"
    (user / "chapters").mkdir(parents=True)
    (user / "notes.txt").write_text("my notes")
    (user / "chapters" / "one.tex").write_text("\\chapter{One}")
    (user / "metrics.csv").write_text("my,own\n1,2\n")   # a name a run also writes
    before = tree_snapshot(user)
    assert run_cli(xor_cfg, "--out", user, "--force") == 2
    err = capsys.readouterr().err
    assert str(user) in err and "not a graphnet run" in err
    assert "notes.txt" in err and "chapters" in err
    assert tree_snapshot(user) == before


def test_force_refuses_a_run_holding_a_user_file(tmp_path, xor_cfg, capsys):
    out = tmp_path / "run"
    make_run(xor_cfg, out)
    (out / "my-analysis.ipynb").write_text("{}")
    (out / "plots").mkdir(exist_ok=True)
    (out / "plots" / "draft.txt").write_text("keep me")
    before = tree_snapshot(out)
    capsys.readouterr()
    assert run_cli(xor_cfg, "--out", out, "--force") == 2
    err = capsys.readouterr().err
    assert str(out) in err and "my-analysis.ipynb" in err and "draft.txt" in err
    assert tree_snapshot(out) == before


def test_force_refuses_other_run_format_version(tmp_path, xor_cfg, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "state.json").write_text('{"version": 99, "complete": true, "jobs": {}}')
    (out / "metrics.csv").write_text("precious\n")
    before = tree_snapshot(out)
    assert run_cli(xor_cfg, "--out", out, "--force") == 2
    assert "version 99" in capsys.readouterr().err
    assert tree_snapshot(out) == before


@pytest.mark.parametrize("target", [".", ".."])
def test_force_never_removes_cwd_or_a_parent(tmp_path, xor_cfg, monkeypatch, capsys, target):
    # both look like runs (a marker and only a run's files): still refused
    parent = tmp_path / "parent"
    cwd = parent / "run"
    for d in (parent, cwd):
        d.mkdir(parents=True, exist_ok=True)
        (d / "state.json").write_text('{"version": 1, "complete": true, "jobs": {}}')
        (d / "summary.md").write_text("# mine\n")
    before = tree_snapshot(tmp_path)
    monkeypatch.chdir(cwd)
    assert run_cli(xor_cfg, "--out", target, "--force") == 2
    err = capsys.readouterr().err
    assert "current directory or one of its parents" in err
    assert tree_snapshot(tmp_path) == before


def test_force_replaces_a_run_keeping_the_folder(tmp_path, xor_cfg):
    out = tmp_path / "run"
    make_run(xor_cfg, out)
    (out / "plots").mkdir()
    (out / "plots" / "old.png").write_bytes(b"png")
    (out / "plots" / ".tmp-rounds-ab12cd34.png").write_bytes(b"half")
    os.chmod(out, 0o750)                                 # the user's choice for the folder
    assert run_cli(xor_cfg, "--out", out, "--force", "--workers", "1") == 0
    assert not (out / "plots").exists() and rd.read_state(out)["complete"] is True
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o750   # its entries went, not the folder


# ----------------------------------------------------------------------------- --resume


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path, xor_cfg, capsys):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "metrics.csv").write_text("seed,model\n0,mine\n")
    (user / "config.toml").write_text("# my own config\n")
    before = tree_snapshot(user)
    assert run_cli(xor_cfg, "--out", user, "--resume") == 2
    err = capsys.readouterr().err
    assert str(user) in err and "not a graphnet run" in err and "metrics.csv" in err
    assert tree_snapshot(user) == before                          # not even a lock file
    # an empty or a missing folder is no run either, but holds nothing: a fresh start
    (tmp_path / "empty").mkdir()
    for name in ("empty", "missing"):
        assert run_cli(xor_cfg, "--out", tmp_path / name, "--resume", "--workers", "1") == 0
        assert rd.read_state(tmp_path / name)["complete"] is True


def test_plain_run_into_a_user_folder_says_it_is_not_a_run(tmp_path, xor_cfg, capsys):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "data.csv").write_text("1,2\n")
    before = tree_snapshot(user)
    assert run_cli(xor_cfg, "--out", user) == 2
    assert "not a graphnet run" in capsys.readouterr().err
    assert tree_snapshot(user) == before


@pytest.mark.parametrize("how", ["file", "link"])
def test_a_user_lock_file_is_not_taken_for_the_run_lock(tmp_path, xor_cfg, capsys, how):
    # a folder holding only a user's .lock is not empty: taking the lock would truncate it
    user, notes = tmp_path / "mine", tmp_path / "notes.txt"
    user.mkdir()
    notes.write_text("my notes\n")
    if how == "file":
        (user / ".lock").write_text("my notes\n")
    else:
        os.symlink(notes, user / ".lock")
    before, notes_before = tree_snapshot(user), notes.read_bytes()
    for extra in ((), ("--resume",), ("--force",)):
        assert run_cli(xor_cfg, "--out", user, *extra) == 2
        assert "not a graphnet run" in capsys.readouterr().err
        assert tree_snapshot(user) == before and notes.read_bytes() == notes_before


def test_resume_removes_stale_temporaries_only(tmp_path, xor_cfg):
    cfg = parse_config(XOR, source="xor.toml")
    out = tmp_path / "run"
    run_experiment(cfg, out, stop_after_round=0, progress=False, plots=False)
    stale = [out / ".tmp-metrics-k2j4_x9a.csv",
             out / "parts" / "graph" / "seed0" / ".tmp-round001-abcdefgh.json",
             out / "plots" / ".tmp-rounds-12345678.png"]
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a file")
    keep = out / "plots" / ".tmp-notes.txt"               # not atomic_write's pattern
    keep.write_text("mine")
    assert run_experiment(cfg, out, resume=True, progress=False, plots=False).complete
    assert not any(p.exists() for p in stale)
    assert keep.read_text() == "mine"
    assert not [n for _, _, files in os.walk(out) for n in files if is_temporary(n)]


def test_resume_leaves_temporary_names_in_a_users_folder(tmp_path):
    # only where a run writes: a folder of the user's inside the run is not searched
    cfg = parse_config(XOR, source="xor.toml")
    out = tmp_path / "run"
    run_experiment(cfg, out, stop_after_round=0, progress=False, plots=False)
    mine = out / "notes" / ".tmp-draft-20240101.md"
    mine.parent.mkdir()
    mine.write_text("mine")
    assert run_experiment(cfg, out, resume=True, progress=False, plots=False).complete
    assert mine.read_text() == "mine"


# ----------------------------------------------------------------------------- the lock


def test_a_held_lock_refuses_a_second_run_with_the_pid(tmp_path, xor_cfg, capsys):
    out = tmp_path / "run"
    make_run(xor_cfg, out)
    before = tree_snapshot(out)
    with RunLock(out):                                   # this process is "the first run"
        before_lock = (out / ".lock").read_bytes()
        for flag in ("--resume", "--force"):
            assert run_cli(xor_cfg, "--out", out, flag) == 2
            err = capsys.readouterr().err
            assert str(out) in err and f"pid {os.getpid()}" in err
        assert (out / ".lock").read_bytes() == before_lock
    assert {k: v for k, v in tree_snapshot(out).items() if k != ".lock"} == \
        {k: v for k, v in before.items() if k != ".lock"}


# ----------------------------------------------------------------------------- complete runs


def test_resume_of_a_complete_run_does_nothing(tmp_path, xor_cfg, capsys):
    out = tmp_path / "run"
    make_run(xor_cfg, out)
    before = tree_snapshot(out)
    stamps = {p: os.stat(os.path.join(out, p)).st_mtime_ns for p in before if p != ".lock"}
    capsys.readouterr()
    # plots on (the default): a complete run is not redrawn
    assert main(["run", str(xor_cfg), "--out", str(out), "--resume", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "complete already" in text and "| graph |" in text
    assert tree_snapshot(out) == before and not (out / "plots").exists()   # (the lock taken, same pid)
    assert {p: os.stat(os.path.join(out, p)).st_mtime_ns for p in stamps} == stamps
    res = run_experiment(parse_config(XOR, source="xor.toml"), out, resume=True,
                         progress=False)
    assert res.complete and res.already_complete and res.table


def test_a_run_stopped_while_plotting_resumes_and_draws(tmp_path, monkeypatch):
    from graphnet.lab import plots

    cfg = parse_config(XOR, source="xor.toml")
    out = tmp_path / "run"
    real = plots.plot_run

    def interrupted(path, **kw):
        raise KeyboardInterrupt  # as a Ctrl-C in the middle of the figures

    monkeypatch.setattr(plots, "plot_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(cfg, out, progress=False)
    assert rd.read_state(out)["complete"] is False  # every round done, the figures not
    monkeypatch.setattr(plots, "plot_run", real)
    res = run_experiment(cfg, out, resume=True, progress=False)
    assert res.complete and not res.already_complete
    assert rd.read_state(out)["complete"] is True
    assert any(name.endswith(".png") for name in os.listdir(out / "plots"))


# ----------------------------------------------------------------------------- file modes


def test_files_honour_the_umask(tmp_path):
    cfg = parse_config(XOR, source="xor.toml")
    old = os.umask(0o022)
    try:
        for mask in (0o022, 0o077):
            os.umask(mask)
            assert current_umask() == mask
            out = tmp_path / f"run{mask:o}"
            run_experiment(cfg, out, progress=False, plots=False)
            atomic_write_text(out / "plots" / "extra.svg", "<svg/>")
            modes = {}
            for folder, _, files in os.walk(out):
                for f in files:
                    modes[os.path.relpath(os.path.join(folder, f), out)] = \
                        stat.S_IMODE(os.stat(os.path.join(folder, f)).st_mode)
            assert {"metrics.csv", "state.json", "summary.md", ".lock"} <= set(modes)
            assert set(modes.values()) == {0o666 & ~mask}, modes
    finally:
        os.umask(old)


def test_a_replaced_file_keeps_its_mode(tmp_path, monkeypatch, capsys):
    # --force (export, show --plot), compare --out, audit --markdown replace a user's file:
    # a private one must not become readable by everyone
    from graphnet.graph.network import GraphNetwork

    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        GraphNetwork.layered([2, 2, 1], seed=0).to_node_link("net.json")
        private = tmp_path / "net.dot"
        private.write_text("mine\n")
        os.chmod(private, 0o600)
        assert main(["export", "net.json", "--format", "dot", "--force"]) == 0
        assert private.read_text() != "mine\n"
        assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
        atomic_write_text(tmp_path / "new.md", "x")  # a new file: 0o666 less the umask
        assert stat.S_IMODE(os.stat(tmp_path / "new.md").st_mode) == 0o644
    finally:
        os.umask(old)


# ----------------------------------------------------------------------------- compare --out


@pytest.mark.parametrize("out, fragment", [
    ("x.toml", "unsupported figure format '.toml'"),
    ("figure", "unsupported figure format 'no suffix'"),
    ("DIR", "is a directory"),
])
def test_compare_out_is_checked_before_any_work(tmp_path, capsys, out, fragment):
    (tmp_path / "DIR").mkdir()
    (tmp_path / "DIR" / "mine.txt").write_text("mine")
    before = tree_snapshot(tmp_path)
    # the run does not even exist: the target is refused first
    code = main(["compare", str(tmp_path / "no-such-run"), "--out", str(tmp_path / out)])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and ".png, .pdf, .svg" in err
    assert "Traceback" not in err
    assert tree_snapshot(tmp_path) == before


def test_compare_never_replaces_a_file_without_force(tmp_path, xor_cfg, capsys, monkeypatch):
    run = tmp_path / "run"
    make_run(xor_cfg, run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "comparison.png").write_bytes(b"my own figure")
    assert main(["compare", str(run)]) == 2   # the default --out, ./comparison.png
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / "comparison.png").read_bytes() == b"my own figure"
    assert main(["compare", str(run), "--force"]) == 0
    assert (tmp_path / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_run_dir_api_refuses_before_writing(tmp_path):
    user = tmp_path / "u"
    user.mkdir()
    (user / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"u is not a graphnet run \(no state.json\); it holds "
                                         r"notes.txt"):
        rd.RunDir(user).check(resume=True, force=False)
    assert os.listdir(user) == ["notes.txt"]
