"""The one way randomness enters graphnet: an explicit seed or Generator."""

from __future__ import annotations

import numbers

import numpy as np

from graphnet.errors import InputTypeError, InputError

__all__ = ["make_rng"]


def make_rng(seed, *, name: str = "seed") -> np.random.Generator:
    """Turn a seed into a ``numpy.random.Generator``; pass a Generator through.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        A non-negative integer seed, or a Generator (returned as it is, not copied).
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InputTypeError
        If ``seed`` is neither an integer nor a Generator (``None``, a float, a legacy
        ``RandomState`` are all refused: results must be reproducible).
    InputError
        If ``seed`` is a negative integer.

    Examples
    --------
    >>> a = make_rng(7).random(3)
    >>> b = make_rng(7).random(3)
    >>> bool((a == b).all())
    True
    >>> g = np.random.default_rng(1)
    >>> make_rng(g) is g
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputTypeError(
            f"{name}: expected a non-negative int or a numpy.random.Generator, "
            f"got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise InputError(f"{name}: expected a non-negative int, got {seed}")
    return np.random.default_rng(int(seed))
