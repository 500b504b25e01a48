"""The seed's second part, checked: the author's mutable network and its operators A-N.

The operators' determinant claims are tested on random integer matrices and proved with
sympy (:mod:`graphnet.graph.proofs`); the 5x5 table and the init loop are read exactly.
"""

from __future__ import annotations

import numpy as np

from graphnet.audit.init_loop import init_loop_analysis, seed_init_loop
from graphnet.audit.report import Finding, _verdict
from graphnet.graph.contracts import CONTRACTS, LETTERS
from graphnet.graph.exact import exact_invariants, exact_matrix
from graphnet.graph.generators import seed_table
from graphnet.graph.network import GraphNetwork
from graphnet.graph.proofs import prove_contract, prove_feedforward_nilpotent
from graphnet.graph.symbolic import apply_symbolic

__all__ = ["claims"]

_SEED_WORDS = {
    "A": "only weights greater than A remain",
    "B": "swap two columns",
    "C": "add n times a column to another column",
    "D": "swap two rows",
    "F": "add n times a row to another row",
    "H": "swap the order of nodes",
    "N": "assign a node's weight",
}


def _random_args(letter, n, rng):
    """Random arguments for one operator on an n x n integer matrix."""
    i, j = (int(v) for v in rng.choice(n, size=2, replace=False))
    k = int(rng.choice([-3, -2, -1, 1, 2, 3]))
    return {
        "A": {"a": float(rng.choice([0.5, 1.5, 2.5]))},
        "B": {"i": i, "j": j},
        "C": {"src": i, "dst": j, "k": k},
        "D": {"i": i, "j": j},
        "F": {"src": i, "dst": j, "k": k},
        "H": {"perm": [int(v) for v in rng.permutation(n)]},
        "N": {"i": i, "j": j, "value": k},
    }[letter]


def _check_operators(rng):
    findings, kept, negated = [], [], []
    trials = 20
    mats = []
    while len(mats) < trials:
        M = rng.integers(-3, 4, size=(5, 5)).astype(float)
        det = exact_invariants(M)["det"]
        if det != 0:                                          # invertible integer matrices
            mats.append((M, det))
    for letter, name in LETTERS.items():
        outcomes = []
        for M, det0 in mats:
            args = _random_args(letter, 5, rng)
            after = np.array(apply_symbolic(name, exact_matrix(M), **args),
                             dtype=float)
            outcomes.append((det0, exact_invariants(after)["det"], args))
        n_kept = sum(d1 == d0 for d0, d1, _ in outcomes)
        n_negated = sum(d1 == -d0 for d0, d1, _ in outcomes)
        shown = next((o for o in outcomes if o[1] != o[0]), outcomes[0])
        proof = prove_contract(name, 4)
        ok = n_kept == trials and proof.holds and CONTRACTS[name].det == "unchanged"
        kept.append(ok)
        negated.append(n_negated == trials)
        findings.append(Finding(
            f"op-{letter}", "The author's network: operators",
            f"{letter} ({_SEED_WORDS[letter]}) does not change the determinant",
            _verdict([ok]),
            f"{trials} random invertible 5x5 integer matrices, random arguments: det kept "
            f"{n_kept}/{trials}, negated {n_negated}/{trials}; e.g. {name}({_args(shown[2])}): "
            f"det {shown[0]} -> {shown[1]}; sympy, generic 4x4: {proof.claim.split(',')[0]} "
            f"(proof holds: {proof.holds})"))
    letters = list(LETTERS)
    summary = Finding(
        "ops", "The author's network: operators",
        "the operators A-N transform the determinant without changing its value",
        _verdict(kept),
        f"{sum(kept)} of {len(kept)} keep det(W) on every trial: "
        + ", ".join(x for x, ok in zip(letters, kept) if ok)
        + "; negate it on every trial: "
        + ", ".join(x for x, neg in zip(letters, negated) if neg)
        + "; change it otherwise: "
        + ", ".join(x for x, ok, neg in zip(letters, kept, negated) if not ok and not neg))
    return [summary, *findings]


def _args(args):
    """Keyword arguments as written in a call."""
    return ", ".join(f"{k}={v}" for k, v in args.items())


def _check_network_determinants(rng):
    proofs = [prove_feedforward_nilpotent(n) for n in (2, 3, 4, 5)]
    dets_ff, dets_rec = [], []
    for k in range(8):
        ff = GraphNetwork.random(3, 6, 2, 0.5, rng)
        inv = exact_invariants(ff)
        dets_ff.append((inv["det"], inv["nilpotent"]))
        rec = GraphNetwork.random(3, 6, 2, 0.5, rng, mode="recurrent")
        dets_rec.append(exact_invariants(rec)["det"])
    ff_zero = all(d == 0 and nil for d, nil in dets_ff)
    rec_zero = all(d == 0 for d in dets_rec)
    return Finding(
        "det-network", "The author's network",
        "a network, stored as a matrix, can be read as a determinant that the operators preserve",
        _verdict([not ff_zero, not rec_zero]),
        f"sympy: a DAG's matrix is nilpotent, det 0 and charpoly lambda^n "
        f"(n = 2..5: {all(p.holds for p in proofs)}); 8 random feedforward networks: det "
        f"{sorted({str(d) for d, _ in dets_ff})}, nilpotent {all(n for _, n in dets_ff)}; "
        f"8 random recurrent networks: det {sorted({str(d) for d in dets_rec})} -- an input "
        f"node has no incoming edges, so its column of W is zero and det(W) = 0 for every "
        f"network with an input: there is no determinant to preserve")


def _check_seed_example():
    table = seed_table()
    inv = exact_invariants(table.astype(float))
    net = GraphNetwork.seed_example()
    cycles = net.cycles()
    sinks = [int(s) for s in net.sinks()]
    block_ok = bool(np.array_equal(net.matrix()[:5, :5], table))
    return Finding(
        "seed-5x5", "The author's network: the example",
        "the 5x5 0/1 table is a graph stored as a matrix (row = from, column = to)",
        _verdict([block_ok, any(sorted(c) == [0, 1] for c in cycles), 3 in sinks]),
        f"det {inv['det']}, rank {inv['rank']}, nilpotent {inv['nilpotent']}; cycles "
        f"{cycles}; sinks {sinks} (node 3 has no out-edges, two rows (2 and 4) are equal, "
        f"row 3 is zero); it needs recurrent mode (the cycle 0 <-> 1), and an input node "
        f"added to feed it")


def _check_init_loop():
    below = init_loop_analysis(1.5)
    at = init_loop_analysis(2)
    above = init_loop_analysis(3)
    run3 = seed_init_loop(1.0, 3, max_iter=2000)
    run15 = seed_init_loop(1.0, 1.5)
    return Finding(
        "init-loop", "The author's network: initialisation",
        "for b = 0.5; b < N; b++ { a = a*(1+b); b = b/2; } computes a large initial value a "
        "for a given N",
        _verdict([below.terminates, at.terminates, above.terminates]),
        f"b_k = {below.closed_form} -> {below.limit_b}; N = 1.5: ends after "
        f"{below.iterations} iterations (literal float loop: {run15.iterations}, a = "
        f"{run15.a:.4g}); N = 2: never in exact arithmetic, the float loop stops after "
        f"{at.float_iterations} because b rounds to 2.0; N = 3: never (literal loop cut at "
        f"{run3.iterations} iterations, a = {run3.a:.3g}); a grows like "
        f"{above.growth_constant:.4f} * a_0 * 3^k")


def claims(rng) -> list:
    """Check the claims of the author's network, in the seed's order.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random matrices, operator arguments and networks, drawn in a fixed order.

    Returns
    -------
    list of Finding

    Examples
    --------
    >>> from graphnet.rng import make_rng
    >>> [f.key for f in claims(make_rng(0))][:3]
    ['ops', 'op-A', 'op-B']
    """
    return [
        *_check_operators(rng),
        _check_network_determinants(rng),
        _check_seed_example(),
        _check_init_loop(),
    ]
