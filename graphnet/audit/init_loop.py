"""The seed's initialisation loop, run literally and analysed exactly.

The seed's C# ``for (b = 0.5; b < N; b++) { a = a*(1+b); b = b/2; }`` sets
b_{k+1} = b_k/2 + 1, which tends to 2: :func:`seed_init_loop` runs it in float64 with an
iteration cap, and :func:`init_loop_analysis` shows with sympy why it does not terminate
for N >= 2 (in exact arithmetic) and how fast a grows. Only the audit uses it.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from graphnet._checks import is_int
from graphnet.errors import InputError, InputTypeError
from graphnet.graph.exact import _exact_scalar

__all__ = [
    "InitLoopRun",
    "seed_init_loop",
    "InitLoopAnalysis",
    "init_loop_analysis",
]


@dataclass(frozen=True)
class InitLoopRun:
    """Result of :func:`seed_init_loop`.

    Attributes
    ----------
    a : float
        a after the loop (may be inf: a grows like 3^k).
    b : float
        b after the loop.
    iterations : int
        Number of times the body ran.
    terminated : bool
        False if the loop was cut off by ``max_iter``.
    a0, N : float
        The inputs.
    """

    a: float
    b: float
    iterations: int
    terminated: bool
    a0: float = 1.0
    N: float = 0.0


def seed_init_loop(a, N, *, max_iter: int = 10_000) -> InitLoopRun:
    """Run the seed's initialisation loop literally, in float64, with an iteration cap.

    The seed's C#: ``for (b = 0.5; b < N; b++) { a = a*(1+b); b = b/2; }`` -- the body,
    then the for-increment ``b++``, then the test. So b_{k+1} = b_k/2 + 1, which tends
    to 2: the loop never ends for N > 2 (see :func:`init_loop_analysis`).

    Parameters
    ----------
    a : float
        The initial value of a.
    N : float
        The loop bound.
    max_iter : int, default 10000
        The cap on the number of body executions.

    Returns
    -------
    InitLoopRun

    Raises
    ------
    InputTypeError
        If ``a`` or ``N`` is not a real number, or ``max_iter`` not an int.
    InputError
        If ``a`` or ``N`` is NaN, ``a`` is infinite, or ``max_iter < 0``.

    Examples
    --------
    >>> run = seed_init_loop(1.0, 1.5)
    >>> run.iterations, run.b, run.a, run.terminated
    (2, 1.625, 3.375, True)
    >>> seed_init_loop(1.0, 3, max_iter=100).terminated
    False
    """
    for arg, x in (("a", a), ("N", N)):
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
            raise InputTypeError(
                f"seed_init_loop: {arg}: expected a real number, got {type(x).__name__} {x!r}"
            )
        if math.isnan(float(x)):
            raise InputError(f"seed_init_loop: {arg}: expected a number, got NaN")
    if not math.isfinite(float(a)):
        raise InputError(f"seed_init_loop: a: expected a finite number, got {a!r}")
    if not is_int(max_iter):
        raise InputTypeError(
            f"seed_init_loop: max_iter: expected an int, got {type(max_iter).__name__}"
        )
    if max_iter < 0:
        raise InputError(f"seed_init_loop: max_iter: expected an int >= 0, got {max_iter}")
    a0 = a = float(a)  # Python floats: overflow gives inf, as in C#
    N = float(N)
    b = 0.5
    iterations = 0
    while b < N:
        if iterations >= max_iter:
            return InitLoopRun(a, b, iterations, False, a0, N)
        a = a * (1 + b)
        b = b / 2
        b += 1  # the for-increment b++
        iterations += 1
    return InitLoopRun(a, b, iterations, True, a0, N)


@dataclass(frozen=True)
class InitLoopAnalysis:
    """Exact analysis of the seed's init loop for one N (see :func:`init_loop_analysis`).

    Attributes
    ----------
    N : sympy.Rational
        The bound, exactly.
    recurrence : str
        The recurrence the loop implements.
    closed_form : sympy.Expr
        b_k, derived by ``sympy.rsolve``.
    closed_form_verified : bool
        It satisfies the recurrence and the start value, and equals the exactly iterated
        b_k for k < 40.
    b_first : tuple
        b_0 .. b_5 exactly.
    limit_b : sympy.Expr
        lim b_k (2).
    terminates : bool
        Whether the loop ends in exact arithmetic (N < 2).
    iterations : int or None
        Smallest k with b_k >= N (exact iteration), None if it never ends.
    iterations_formula : int or None
        The same from the closed form: smallest k with 2^k >= 3 / (2 (2 - N)), 0 if
        N <= 1/2.
    a_factor : sympy.Rational or None
        a_final / a_0 = prod_{j < iterations} (1 + b_j), exactly.
    float_steps_to_two : int
        Iterations after which the float64 recursion b = b/2 + 1 gives exactly 2.0.
    float_fixed_point : bool
        2.0 / 2 + 1 == 2.0 in float64: once there, b never moves.
    float_terminates : bool
        Whether the literal float loop ends (float(N) <= 2.0).
    float_iterations : int or None
        Its iteration count (from :func:`seed_init_loop`), None if it does not end.
    a_closed_form : sympy.Expr
        a_k / a_0 as a product.
    ratio_limit : sympy.Expr
        lim a_{k+1} / a_k = lim (1 + b_k) (3).
    growth_constant : float
        C = lim a_k / (a_0 3^k) = prod_{j >= 0} (1 - 2^-(j+1)).
    growth_verified : bool
        (1 + b_j)/3 == 1 - 2^-(j+1) symbolically, and C matches the partial product.
    notes : tuple of str
        Further evidence lines.
    """

    N: sp.Rational
    recurrence: str
    closed_form: sp.Expr
    closed_form_verified: bool
    b_first: tuple
    limit_b: sp.Expr
    terminates: bool
    iterations: int | None
    iterations_formula: int | None
    a_factor: sp.Rational | None
    float_steps_to_two: int
    float_fixed_point: bool
    float_terminates: bool
    float_iterations: int | None
    a_closed_form: sp.Expr
    ratio_limit: sp.Expr
    growth_constant: float
    growth_verified: bool
    notes: tuple = field(default=())

    def report(self) -> str:
        """Return the analysis as printable lines of evidence.

        Examples
        --------
        >>> print(init_loop_analysis(3).report().splitlines()[0])
        seed init loop, N = 3: b_{k+1} = b_k/2 + 1, b_0 = 1/2
        """
        lines = [
            f"seed init loop, N = {self.N}: {self.recurrence}"
            + ("" if self.N.q == 1 else f" (N = {float(self.N)!r})"),
            f"closed form (rsolve): b_k = {self.closed_form}; "
            f"verified: {self.closed_form_verified}",
            f"b_0..b_5 = {', '.join(str(b) for b in self.b_first)}; limit {self.limit_b}",
            f"exact arithmetic: terminates = {self.terminates}, iterations = {self.iterations} "
            f"(closed form: {self.iterations_formula}), a / a_0 = {self.a_factor}",
            f"float64: b == 2.0 after {self.float_steps_to_two} steps; fixed point: "
            f"{self.float_fixed_point}; loop terminates = {self.float_terminates}, "
            f"iterations = {self.float_iterations}",
            f"a_k / a_0 = {self.a_closed_form}; a_(k+1)/a_k -> {self.ratio_limit}; "
            f"a_k ~ {self.growth_constant:.15g} * a_0 * {self.ratio_limit}^k "
            f"(verified: {self.growth_verified})",
        ]
        return "\n".join(lines + list(self.notes))


def init_loop_analysis(N) -> InitLoopAnalysis:
    """Analyse the seed's init loop exactly: when it ends, and how fast a grows.

    The loop ``for (b = 0.5; b < N; b++) { a = a*(1+b); b = b/2; }`` sets
    b_{k+1} = b_k/2 + 1, b_0 = 1/2. ``sympy.rsolve`` gives b_k = 2 - (3/2) 2^-k, which
    increases to 2: the loop ends after the smallest k with b_k >= N when N < 2
    (0 iterations when N <= 1/2) and never in exact arithmetic when N >= 2. In float64
    b_k rounds to exactly 2.0 after finitely many steps, a fixed point, so the literal
    float loop does end for N == 2 and never for N > 2. Meanwhile
    a_k = a_0 prod_{j<k} (1 + b_j), with ratio 1 + b_k -> 3: a_k ~ C a_0 3^k.

    Parameters
    ----------
    N : int, float, Fraction or sympy.Rational
        The loop bound (floats are taken exactly).

    Returns
    -------
    InitLoopAnalysis

    Raises
    ------
    InputError, InputTypeError
        If ``N`` is not a finite real number.

    Examples
    --------
    >>> an = init_loop_analysis(1.9)
    >>> an.closed_form, an.limit_b, an.terminates, an.iterations, an.ratio_limit
    (2 - 3/(2*2**k), 2, True, 4, 3)
    >>> init_loop_analysis(2).float_terminates, init_loop_analysis(2).terminates
    (True, False)
    """
    N = _exact_scalar(N, "init_loop_analysis", "N")
    if not (N.is_Rational):
        raise InputTypeError(f"init_loop_analysis: N: expected a rational number, got {N!r}")
    sym = _init_loop_symbolic()
    half = sp.Rational(1, 2)
    terminates = bool(N < sym["limit_b"])

    iterations = iterations_formula = a_factor = None
    if terminates:
        b, it, factor = half, 0, sp.Integer(1)
        while b < N:
            factor *= 1 + b  # a = a*(1+b)
            b = b / 2 + 1
            it += 1
        iterations, a_factor = it, factor
        if N <= half:
            iterations_formula = 0
        else:  # 2 - (3/2) 2^-k >= N  <=>  2^k >= 3 / (2 (2 - N)) = x; smallest k: bit length
            x = sp.Rational(3, 2) / (2 - N)
            m = int(sp.ceiling(x))
            iterations_formula = (m - 1).bit_length()

    # b only grows and is stuck at 2.0 after `float_steps_to_two` iterations: a float
    # loop that has not ended by then never will, so this cap decides termination
    run = seed_init_loop(1.0, float(N), max_iter=sym["steps"] + 1)
    float_terminates = run.terminated
    return InitLoopAnalysis(
        N=N,
        recurrence="b_{k+1} = b_k/2 + 1, b_0 = 1/2",
        closed_form=sym["closed"],
        closed_form_verified=sym["verified"],
        b_first=sym["b_first"],
        limit_b=sym["limit_b"],
        terminates=terminates,
        iterations=iterations,
        iterations_formula=iterations_formula,
        a_factor=a_factor,
        float_steps_to_two=sym["steps"],
        float_fixed_point=sym["fixed"],
        float_terminates=float_terminates,
        float_iterations=run.iterations if run.terminated else None,
        a_closed_form=sym["a_closed"],
        ratio_limit=sym["ratio_limit"],
        growth_constant=sym["C"],
        growth_verified=sym["growth_verified"],
        notes=sym["notes"],
    )


@functools.lru_cache(maxsize=1)
def _init_loop_symbolic() -> dict:
    """The N-independent part of :func:`init_loop_analysis` (rsolve, limits), computed once."""
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    bf = sp.Function("b")
    half = sp.Rational(1, 2)
    closed = sp.rsolve(bf(kk + 1) - bf(kk) / 2 - 1, bf(kk), {bf(0): half})
    k = sp.Symbol("k")
    closed = closed.subs(kk, k)
    # verify: start value, recurrence, and the exactly iterated b_k
    exact_b = [half]
    for _ in range(40):
        exact_b.append(exact_b[-1] / 2 + 1)
    verified = (
        closed.subs(k, 0) == half
        and sp.simplify(closed.subs(k, k + 1) - (closed / 2 + 1)) == 0
        and all(closed.subs(k, i) == exact_b[i] for i in range(40))
    )
    # float64: the recursion reaches 2.0 exactly, a fixed point
    bfl, steps = 0.5, 0
    while bfl != 2.0:
        bfl = bfl / 2 + 1
        steps += 1
    j = sp.Symbol("j", integer=True, nonnegative=True)
    # a_k / a_0 = prod_{j<k} (1 + b_j); (1 + b_j) / 3 = 1 - 2^-(j+1), so
    # a_k ~ C a_0 3^k with C = prod_j (1 - 2^-(j+1)) = (1/2; 1/2)_inf
    term_ok = sp.simplify((1 + closed.subs(k, j)) / 3 - (1 - half ** (j + 1))) == 0
    # the product to float precision (the factors after the 80th are 1 to within 2^-81),
    # and independently Euler's pentagonal series phi(q) = sum_m (-1)^m q^(m(3m-1)/2), q = 1/2
    partial = math.prod(1 - 0.5 ** (i + 1) for i in range(80))
    series = sum(
        (-1) ** m * sp.Rational(1, 2) ** (m * (3 * m - 1) // 2) for m in range(-12, 13)
    )
    C = float(series)
    return {
        "closed": closed,
        "verified": bool(verified),
        "b_first": tuple(exact_b[:6]),
        "limit_b": sp.limit(closed, k, sp.oo),
        "steps": steps,
        "fixed": 2.0 / 2 + 1 == 2.0,
        "a_closed": sp.Product(1 + closed.subs(k, j), (j, 0, k - 1)),
        "ratio_limit": sp.limit(1 + closed, k, sp.oo),
        "C": C,
        "growth_verified": bool(term_ok) and abs(C - partial) <= 1e-15,
        "notes": (
            f"(1 + b_j)/3 == 1 - 2^-(j+1): {term_ok}; C = prod_j (1 - 2^-(j+1)) = {partial!r} "
            f"(80 factors), pentagonal series = {C!r}",
            "N < 2: the loop ends; N >= 2: it never ends in exact arithmetic "
            "(b_k = 2 - (3/2) 2^-k < 2 for all k)",
        ),
    }
