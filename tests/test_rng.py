"""The one seed helper and the one splitter: same key same bits, another key another stream."""

import numpy as np
import pytest

from graphnet.errors import InputError, InputTypeError
from graphnet.rng import Purpose, make_rng, stream


@pytest.mark.parametrize("seed", [0, 1, 7, 2**32 + 5, 2**64 + 3])
def test_make_rng_and_the_unkeyed_stream_are_numpys_default_rng(seed):
    expected = np.random.default_rng(seed).random(8)
    np.testing.assert_array_equal(make_rng(seed).random(8), expected)
    np.testing.assert_array_equal(stream(seed).random(8), expected)


def test_a_stream_is_the_seed_sequence_of_seed_and_key():
    # the lab's results rest on these exact inputs: (seed, model code, round, purpose, extra)
    expected = np.random.default_rng(np.random.SeedSequence([3, 4, 2, 3, 1])).random(8)
    np.testing.assert_array_equal(stream(3, 4, 2, Purpose.FIT, 1).random(8), expected)


def test_same_key_same_bits_other_key_other_stream():
    a = stream(0, 0, 1, Purpose.MUTATE).random(16)
    np.testing.assert_array_equal(a, stream(0, 0, 1, Purpose.MUTATE).random(16))
    others = [stream(1, 0, 1, Purpose.MUTATE), stream(0, 1, 1, Purpose.MUTATE),
              stream(0, 0, 2, Purpose.MUTATE), stream(0, 0, 1, Purpose.FIT),
              stream(0, 0, 1, Purpose.MUTATE, 0), stream(0)]
    for g in others:
        assert not np.array_equal(a, g.random(16))


def test_purpose_codes_are_stable():
    assert [(p.name, int(p)) for p in Purpose] == [
        ("DATA", 0), ("INIT", 1), ("INIT_FRONT", 2), ("FIT", 3), ("MUTATE", 4), ("VALSPLIT", 5),
        ("SELECT", 6)]


def test_a_generator_passes_through_make_rng_but_cannot_be_split():
    g = np.random.default_rng(1)
    assert make_rng(g) is g
    with pytest.raises(InputTypeError, match="seed: expected a non-negative int or a numpy"):
        stream(g, 1)


@pytest.mark.parametrize("bad", [None, 1.0, True, "3", np.random.RandomState(0)])
def test_non_integer_seeds_are_refused(bad):
    with pytest.raises(InputTypeError, match="my_seed: expected a non-negative int"):
        make_rng(bad, name="my_seed")
    with pytest.raises(InputTypeError, match="my_seed: expected a non-negative int"):
        stream(bad, 0, name="my_seed")


def test_negative_seeds_are_refused():
    with pytest.raises(InputError, match="seed: expected a non-negative int, got -1"):
        make_rng(-1)
    with pytest.raises(InputError, match="seed: expected a non-negative int, got -2"):
        stream(-2, 0)
