"""Samplers: random legal arguments for each operator, for mutation schedules and searches.

A draw function ``draw(net, rng, **keywords) -> dict`` returns the arguments of one
application, drawn from the Generator ``rng``. It is called through
:attr:`graphnet.graph.registry.OperatorSpec.sample`, which checks the network, the
Generator and the keywords and fills in the defaults the spec declares: the draw functions
declare no defaults of their own.

Index pairs of B, C, D, F are redrawn (up to ``tries`` times) until the result needs no
repair; assign and add_edge draw only allowed positions; the default H draws keep the
relative order of inputs and outputs, so the function is kept exactly. What is still
illegal is left to ``repair``.
"""

from __future__ import annotations

import numpy as np

from graphnet._checks import is_int
from graphnet.errors import InputError, InputTypeError, OperatorError
from graphnet.graph.extras import _default_scale, _nonzero_normal
from graphnet.graph.gate import _allowed, _count, _finite, _is_clean
from graphnet.graph.operators import (_raw_add_scaled_column, _raw_add_scaled_row,
                                      _raw_swap_columns, _raw_swap_rows, io_order)

__all__: list = []


def _draw_pair(rng, n, i=None, j=None, distinct=True):
    """Two node indices (distinct if asked); fixed ones are kept."""
    if i is None:
        i = int(rng.integers(n))
    if j is None:
        if distinct and n > 1:
            j = int(rng.integers(n - 1))
            j += j >= i
        else:
            j = int(rng.integers(n))
    return i, j


def _check_tries(tries, where):
    if not is_int(tries) or tries < 1:
        raise InputError(f"{where}: tries: expected an int >= 1, got {tries!r}")
    return int(tries)


def _uniform(rng, bound, where, arg):
    """Uniform(-bound, bound) with bound >= 0 finite."""
    bound = _finite(bound, where, arg)
    if bound < 0:
        raise InputError(f"{where}: {arg}: expected a finite number >= 0, got {bound!r}")
    return float(rng.uniform(-bound, bound))


def _sample_threshold(net, rng, *, a, a_range):
    if a is not None:
        return {"a": a}
    try:
        lo, hi = (_finite(x, "sample threshold", "a_range") for x in a_range)
    except TypeError:
        raise InputTypeError(f"sample threshold: a_range: expected (lo, hi), got {a_range!r}")
    if not 0 <= lo <= hi:
        raise InputError(f"sample threshold: a_range: expected 0 <= lo <= hi, got {a_range!r}")
    return {"a": float(rng.uniform(lo, hi))}


def _sample_swap(raw, name):
    def sample(net, rng, *, i, j, tries):
        tries = _check_tries(tries, f"sample {name}")
        W = net.matrix()
        for _ in range(tries):
            a, b = _draw_pair(rng, net.n_nodes, i, j)
            if a == b or (i is not None and j is not None):
                break
            if _is_clean(net, raw(W, a, b)):
                break
        return {"i": a, "j": b}

    return sample


def _sample_add_scaled(raw, name):
    def sample(net, rng, *, src, dst, k, k_max, tries):
        tries = _check_tries(tries, f"sample {name}")
        if k is None:
            k = _uniform(rng, k_max, f"sample {name}", "k_max")
        W = net.matrix()
        for _ in range(tries):
            s, d = _draw_pair(rng, net.n_nodes, src, dst)
            if s == d or (src is not None and dst is not None):
                break
            if _is_clean(net, raw(W, s, d, 1.0)):
                break
        return {"src": s, "dst": d, "k": k}

    return sample


_sample_swap_columns = _sample_swap(_raw_swap_columns, "swap_columns")
_sample_swap_rows = _sample_swap(_raw_swap_rows, "swap_rows")
_sample_add_scaled_column = _sample_add_scaled(_raw_add_scaled_column, "add_scaled_column")
_sample_add_scaled_row = _sample_add_scaled(_raw_add_scaled_row, "add_scaled_row")


def _keep_io(net, p) -> bool:
    order = io_order(net, p)
    return bool(
        (order.inputs == np.arange(order.inputs.size)).all()
        and (order.outputs == np.arange(order.outputs.size)).all()
    )


def _sample_permute(net, rng, *, keep_io_order):
    p = rng.permutation(net.n_nodes)
    if keep_io_order:
        # put the inputs (outputs) back in their old relative order at the drawn places
        for nodes in (net.inputs, net.outputs):
            at = np.flatnonzero(np.isin(p, nodes))
            p[at] = nodes
    return {"perm": [int(x) for x in p]}


def _sample_swap_nodes(net, rng, *, i, j, keep_io_order, tries):
    tries = _check_tries(tries, "sample swap_nodes")
    n = net.n_nodes
    for _ in range(tries):
        a, b = _draw_pair(rng, n, i, j)
        p = list(range(n))
        p[a], p[b] = p[b], p[a]
        if not keep_io_order or _keep_io(net, p) or (i is not None and j is not None):
            return {"i": a, "j": b}
    return {"i": a, "j": a}  # no order-keeping pair found: the identity keeps it


def _sample_assign(net, rng, *, i, j, value, value_max):
    if value is None:
        value = _uniform(rng, value_max, "sample assign", "value_max")
    n = net.n_nodes
    ok = _allowed(net)
    if i is not None:
        ok[np.arange(n) != i, :] = False
    if j is not None:
        ok[:, np.arange(n) != j] = False
    cells = np.flatnonzero(ok)
    if cells.size:
        a, b = divmod(int(rng.choice(cells)), n)
    else:  # nothing legal under the constraints: let the operator refuse or repair
        a, b = _draw_pair(rng, n, i, j, distinct=False)
    return {"i": int(a), "j": int(b), "value": value}


def _sample_add_edge(net, rng, *, weight, scale):
    free = np.flatnonzero(_allowed(net) & (net.matrix() == 0))
    if free.size == 0:
        raise OperatorError("sample add_edge: no empty position where an edge is allowed")
    a, b = divmod(int(rng.choice(free)), net.n_nodes)
    if weight is None:
        s = _default_scale(net) if scale is None else _finite(scale, "sample add_edge", "scale")
        weight = float(_nonzero_normal(rng, s, 1)[0])
    return {"i": int(a), "j": int(b), "weight": weight}


def _sample_split_edge(net, rng, *, activation):
    edges = net.edges()
    if not edges:
        raise OperatorError("sample split_edge: the network has no edge to split")
    u, v, _ = edges[int(rng.integers(len(edges)))]
    return {"i": u, "j": v, "activation": activation}


def _sample_remove_node(net, rng):
    hidden = net.hidden
    if hidden.size == 0:
        raise OperatorError("sample remove_node: the network has no hidden node to remove")
    return {"node": int(hidden[int(rng.integers(hidden.size))])}


def _sample_regrow(net, rng, *, n, scale):
    n = _count(n, "sample regrow", "n")
    free = int((_allowed(net) & (net.matrix() == 0)).sum())
    return {"n": min(n, free), "seed": int(rng.integers(2**63 - 1)), "scale": scale}


def _sample_prune(net, rng, *, fraction, fraction_range):
    if fraction_range is not None:
        lo, hi = (_finite(x, "sample prune_smallest", "fraction_range") for x in fraction_range)
        if not 0 <= lo <= hi <= 1:
            raise InputError(
                f"sample prune_smallest: fraction_range: expected 0 <= lo <= hi <= 1, "
                f"got {fraction_range!r}"
            )
        return {"fraction": float(rng.uniform(lo, hi))}
    return {"fraction": fraction}
