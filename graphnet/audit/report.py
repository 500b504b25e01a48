"""The audit's record: one :class:`Finding` per claim, the :class:`AuditReport` that prints them.

A verdict is PASS, FAIL or PARTLY; :func:`_verdict` derives it from the computed flags.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

__all__ = ["Finding", "AuditReport", "PASS", "FAIL", "PARTLY"]

PASS, FAIL, PARTLY = "PASS", "FAIL", "PARTLY"


@dataclass(frozen=True)
class Finding:
    """One claim of the seed and what the computation found.

    Attributes
    ----------
    key : str
        Short identifier, e.g. ``"op-B"``.
    section : str
        Where the claim stands in the seed.
    claim : str
        The claim, in English.
    verdict : str
        ``PASS``, ``FAIL`` or ``PARTLY``.
    evidence : str
        The computed figures the verdict rests on.
    """

    key: str
    section: str
    claim: str
    verdict: str
    evidence: str


@dataclass
class AuditReport:
    """All findings, with the time the audit took."""

    findings: list = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict:
        """Number of findings per verdict."""
        out = {PASS: 0, FAIL: 0, PARTLY: 0}
        for f in self.findings:
            out[f.verdict] += 1
        return out

    def table(self, width: int = 100) -> str:
        """A plain-text table for the terminal."""
        lines = []
        for k, f in enumerate(self.findings, 1):
            head = f"{k:>2}. [{f.verdict:<6}] {f.claim}"
            lines.append(textwrap.fill(head, width, subsequent_indent=" " * 13))
            for part in f.evidence.split("\n"):
                lines.append(textwrap.fill(part, width, initial_indent=" " * 13,
                                           subsequent_indent=" " * 15))
        c = self.counts()
        lines.append(f"\n{len(self.findings)} claims: {c[PASS]} PASS, {c[PARTLY]} PARTLY, "
                     f"{c[FAIL]} FAIL ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def markdown(self) -> str:
        """The report as a Markdown document with one table."""
        def cell(text):
            return text.replace("|", "\\|").replace("\n", "<br>")

        rows = ["# graphnet audit of the seed document", "",
                "Every verdict below was computed when this file was written; the evidence "
                "column holds the figures.", "",
                "| # | section | claim | verdict | evidence |", "|---|---|---|---|---|"]
        for k, f in enumerate(self.findings, 1):
            rows.append(f"| {k} | {cell(f.section)} | {cell(f.claim)} | **{f.verdict}** | "
                        f"{cell(f.evidence)} |")
        c = self.counts()
        rows += ["", f"{len(self.findings)} claims: {c[PASS]} PASS, {c[PARTLY]} PARTLY, "
                     f"{c[FAIL]} FAIL; {self.seconds:.1f} s."]
        return "\n".join(rows) + "\n"


def _verdict(flags) -> str:
    """PASS if every flag holds, FAIL if none does, PARTLY otherwise."""
    flags = [bool(x) for x in flags]
    if all(flags):
        return PASS
    return PARTLY if any(flags) else FAIL
