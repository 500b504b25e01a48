"""The audit: verdicts come from computation, the report renders, the CLI runs."""

import re
import time

import numpy as np
import pytest

from graphnet import audit
from graphnet.cli import main
from graphnet.core import activations as acts
from graphnet.core import functional as F


@pytest.fixture(scope="module")
def report():
    start = time.perf_counter()
    rep = audit.run_audit(seed=0)
    rep.wall = time.perf_counter() - start
    return rep


def test_runs_under_a_minute(report):
    assert report.wall < 60


def test_every_finding_is_backed_by_a_figure(report):
    assert len(report.findings) >= 20
    keys = [f.key for f in report.findings]
    assert len(keys) == len(set(keys))
    for f in report.findings:
        assert f.verdict in (audit.PASS, audit.FAIL, audit.PARTLY)
        assert re.search(r"\d", f.evidence), f"{f.key} has no computed figure"


@pytest.mark.parametrize("key, verdict", [
    ("dact", "PASS"), ("dsoftmax", "PARTLY"), ("mlp-bp", "PASS"), ("vanishing", "PASS"),
    ("params", "PASS"), ("conv-size", "PASS"), ("conv-true", "PASS"), ("conv-bp", "PASS"),
    ("maxpool-copy", "FAIL"), ("meanpool", "PASS"), ("raster", "PASS"), ("softmax-bp", "PASS"),
    ("ops", "PARTLY"), ("op-A", "FAIL"), ("op-B", "FAIL"), ("op-C", "PASS"), ("op-D", "FAIL"),
    ("op-F", "PASS"), ("op-H", "PASS"), ("op-N", "FAIL"), ("det-network", "FAIL"),
    ("seed-5x5", "PASS"), ("init-loop", "PARTLY"),
])
def test_verdicts_match_the_mathematics(report, key, verdict):
    found = {f.key: f for f in report.findings}
    assert found[key].verdict == verdict, found[key].evidence


def test_verdicts_are_computed_not_written(monkeypatch):
    # break the library's tanh derivative: the audit must notice
    monkeypatch.setattr(acts, "dtanh", lambda o: 1.0 - o)
    found = {f.key: f for f in audit.run_audit(seed=0).findings}
    assert found["dact"].verdict == "PARTLY"
    # make the library's max-pool backward copy to all four points: the evidence for exact
    # routing must then show the same large error as the seed's copy rule
    monkeypatch.setattr(F, "upsample", lambda d, shape, size, method, indices=None:
                        np.kron(d, np.ones((2, 2))))
    finding = {f.key: f for f in audit.run_audit(seed=0).findings}["maxpool-copy"]
    assert finding.verdict == "FAIL"
    assert "routing to the maximum only: 5" in finding.evidence  # now as wrong as the copy


def test_operator_evidence_counts_trials(report):
    found = {f.key: f for f in report.findings}
    assert "negated 20/20" in found["op-B"].evidence
    assert "det kept 20/20" in found["op-H"].evidence


def test_markdown_table(report):
    md = report.markdown()
    rows = [line for line in md.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == len(report.findings)
    assert "**FAIL**" in md and "**PASS**" in md


def test_cli_audit_writes_markdown(tmp_path, capsys):
    out = tmp_path / "audit.md"
    assert main(["audit", "--markdown", str(out)]) == 0
    text = capsys.readouterr().out
    assert "claims:" in text and "PASS" in text
    assert out.read_text().startswith("# graphnet audit")
