"""Tests of the seed's init loop: the literal float loop and its exact analysis."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnet.audit.init_loop import init_loop_analysis, seed_init_loop
from graphnet.errors import InputError, InputTypeError


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=-10.0, max_value=2.0, exclude_max=True))
def test_init_loop_terminates_below_two(N):
    run = seed_init_loop(1.0, N)
    an = init_loop_analysis(N)
    assert an.terminates and run.terminated
    assert run.iterations == an.iterations == an.iterations_formula
    assert run.b >= N
    assert math.isclose(run.a, float(an.a_factor), rel_tol=1e-12)
    if N <= 0.5:
        assert an.iterations == 0 and run.b == 0.5 and run.a == 1.0


def test_init_loop_known_counts():
    # hand-computed: b = 1/2, 5/4, 13/8, 29/16, 61/32
    for N, k in [(0.5, 0), (0.6, 1), (1.25, 1), (1.3, 2), (1.625, 2), (1.7, 3), (1.9, 4)]:
        assert seed_init_loop(2.0, N).iterations == k
        assert init_loop_analysis(N).iterations == k
    assert init_loop_analysis(Fraction(13, 8)).a_factor == sp.Rational(3, 2) * sp.Rational(9, 4)


def test_init_loop_hits_the_cap_for_N_3():
    run = seed_init_loop(1.0, 3, max_iter=500)
    assert not run.terminated and run.iterations == 500 and run.b == 2.0
    an = init_loop_analysis(3)
    assert not an.terminates and an.iterations is None
    assert not an.float_terminates and an.float_iterations is None
    run = seed_init_loop(1.0, 3)  # default cap 10000; a overflows to inf long before
    assert not run.terminated and run.iterations == 10_000 and math.isinf(run.a)


def test_closed_form_matches_the_float_loop():
    an = init_loop_analysis(3)
    k = sp.Symbol("k")
    assert an.closed_form_verified
    assert sp.simplify(an.closed_form - (2 - sp.Rational(3, 2) * 2 ** (-k))) == 0
    assert an.limit_b == 2 and an.ratio_limit == 3
    for i in range(20):
        b = seed_init_loop(1.0, 3, max_iter=i).b
        assert sp.Rational(b) == an.closed_form.subs(k, i)  # exact, not approximate
    a = [seed_init_loop(1.0, 3, max_iter=i).a for i in range(61)]
    assert abs(a[60] / a[59] - 3) < 1e-15
    assert math.isclose(a[40] / 3**40, an.growth_constant, rel_tol=1e-10)
    assert math.isclose(an.growth_constant, math.prod(1 - 2.0 ** -(j + 1) for j in range(100)))
    assert an.growth_verified


def test_float_loop_ends_at_two():
    an = init_loop_analysis(2)
    assert not an.terminates  # exact arithmetic: b_k < 2 for every k
    assert an.float_terminates and an.float_fixed_point
    run = seed_init_loop(1.0, 2.0)
    assert run.terminated and run.b == 2.0
    assert run.iterations == an.float_iterations == an.float_steps_to_two
    assert seed_init_loop(1.0, 2.0, max_iter=run.iterations - 1).b < 2.0
    text = an.report()
    assert f"b == 2.0 after {an.float_steps_to_two} steps" in text
    assert "a_(k+1)/a_k -> 3" in text


def test_init_loop_errors():
    with pytest.raises(InputTypeError, match="seed_init_loop: a: expected a real number"):
        seed_init_loop("1", 2)
    with pytest.raises(InputError, match="N: expected a number, got NaN"):
        seed_init_loop(1.0, float("nan"))
    with pytest.raises(InputError, match="max_iter: expected an int >= 0"):
        seed_init_loop(1.0, 1.0, max_iter=-1)
    with pytest.raises(InputError, match="init_loop_analysis: N: expected a finite number"):
        init_loop_analysis(float("inf"))
    with pytest.raises(InputTypeError, match="init_loop_analysis: N: expected a number"):
        init_loop_analysis("2")
