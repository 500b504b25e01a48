"""Every checkable claim of the seed document, checked by computation at run time.

``run_audit()`` returns an :class:`AuditReport`: one :class:`Finding` per claim with a
verdict (PASS, FAIL or PARTLY) and the computed figures behind it. No verdict is
written in advance: each comes from comparing numbers computed here (finite differences,
exact sympy determinants, layer shapes, the literal init loop). ``graphnet audit``
prints the table and can write it as Markdown.
"""

from __future__ import annotations

import time

from graphnet.audit import backprop, mutable
from graphnet.audit.report import FAIL, PARTLY, PASS, AuditReport, Finding
from graphnet.rng import make_rng

__all__ = ["Finding", "AuditReport", "run_audit", "PASS", "FAIL", "PARTLY"]


def run_audit(*, seed=0) -> AuditReport:
    """Check every checkable claim of the seed document.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        Random data for the numerical checks (verdicts do not depend on it).

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> report = run_audit(seed=0)
    >>> {f.key: f.verdict for f in report.findings}["maxpool-copy"]
    'FAIL'
    """
    rng = make_rng(seed)
    start = time.perf_counter()
    findings = [*backprop.claims(rng), *mutable.claims(rng)]
    return AuditReport(findings, time.perf_counter() - start)
