"""The one way randomness enters graphnet: an explicit seed or Generator, split by key.

:func:`make_rng` turns a seed into a ``numpy.random.Generator`` (and passes a Generator
through); :func:`stream` is the one splitter: the Generator of
``SeedSequence([seed, *key])``, one independent stream per key. ``stream(seed)`` with no key
is ``make_rng(seed)``, bit for bit. A key names who draws and what for; the lab's keys are
``(model code, round, purpose, ...)`` with a :class:`Purpose` (see
:mod:`graphnet.lab.runner`), and ``graphnet train`` uses the same layout, so its data split
is the lab's for the same seed.
"""

from __future__ import annotations

import enum
import numbers

import numpy as np

from graphnet.errors import InputTypeError, InputError

__all__ = ["make_rng", "stream", "Purpose"]


class Purpose(enum.IntEnum):
    """What a stream is drawn for: the purpose slot of a key (stable codes, never renumber).

    Examples
    --------
    >>> int(Purpose.FIT)
    3
    """

    DATA = 0        # the test split (and the data's own noise and shuffles)
    INIT = 1        # start network / model weights
    INIT_FRONT = 2  # the convolutional front end of a graph model
    FIT = 3         # mini-batch shuffles of training
    MUTATE = 4      # the mutation schedule's draws
    VALSPLIT = 5    # the validation split
    SELECT = 6      # a search's parent draws (tournaments)


def _check_seed(seed, name: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputTypeError(
            f"{name}: expected a non-negative int or a numpy.random.Generator, "
            f"got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise InputError(f"{name}: expected a non-negative int, got {seed}")
    return int(seed)


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
        For an int, the same Generator as ``stream(seed)`` and ``numpy.random.default_rng(seed)``.

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
    return stream(seed, name=name)


def stream(seed, *key, name: str = "seed") -> np.random.Generator:
    """The Generator of one random stream: ``SeedSequence([seed, *key])``.

    Different keys give independent streams of the same seed; the same seed and key give
    the same stream, bit for bit, in any process and in any order of drawing.

    Parameters
    ----------
    seed : int
        A non-negative integer seed.
    *key : int
        Non-negative integers (an :class:`Purpose` counts as its code) naming the stream;
        none: the seed's own stream, the same as ``make_rng(seed)``.
    name : str
        The seed's name, used in the error message.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InputTypeError
        If ``seed`` is not an integer (a Generator cannot be split: pass its seed).
    InputError
        If ``seed`` is negative.

    Examples
    --------
    >>> a = stream(0, 0, 1, Purpose.FIT).random()
    >>> a == stream(0, 0, 1, Purpose.FIT).random(), a == stream(0, 0, 2, Purpose.FIT).random()
    (True, False)
    >>> bool(stream(5).random() == make_rng(5).random())
    True
    """
    seed = _check_seed(seed, name)
    return np.random.default_rng(np.random.SeedSequence([seed, *map(int, key)]))
