"""The shared argument validators: one home for each check that several modules make.

This module sits beside :mod:`graphnet.errors` at the bottom of the house: it imports only
numpy and the exception family, so every layer (core, graph, data, lab) may use it.
"""

from __future__ import annotations

import numbers

import numpy as np

from graphnet.errors import InputError, InputTypeError

__all__ = ["is_int", "is_real", "check_choice", "check_dtype", "float_dtype", "check_steps",
           "check_batch"]


def is_int(x) -> bool:
    """True for an integer (Python's or numpy's) that is not a bool.

    Examples
    --------
    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    # np.bool_ is not a numbers.Integral, so excluding bool is enough
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_real(x) -> bool:
    """True for a real number (Python's or numpy's) that is not a bool.

    Examples
    --------
    >>> is_real(0.5), is_real(2), is_real(False), is_real("1")
    (True, True, False, False)
    """
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_choice(value, choices, name: str, where: str) -> None:
    """Raise InputError unless ``value`` is one of ``choices`` (a str among them).

    Examples
    --------
    >>> check_choice("unit", ("unit", "symmetric"), "scale", "f")
    >>> check_choice("x", ("unit", "symmetric"), "scale", "f")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: f: scale must be one of 'unit', 'symmetric', got 'x'
    """
    if not isinstance(value, str) or value not in choices:
        raise InputError(f"{where}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_dtype(dtype, where: str) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise InputTypeError.

    Parameters
    ----------
    dtype : dtype-like
    where : str
        Name of the caller, put first in the message.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    InputTypeError
        If ``dtype`` is not a dtype, or not float32 / float64.

    Examples
    --------
    >>> check_dtype("float32", "f")
    dtype('float32')
    >>> check_dtype(np.int32, "f")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputTypeError: f: dtype must be float32 or float64, got int32
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InputTypeError(f"{where}: dtype must be float32 or float64, got {dtype!r}") from exc
    if dt.type not in (np.float32, np.float64):
        raise InputTypeError(f"{where}: dtype must be float32 or float64, got {dt}")
    return dt


def float_dtype(dtype, where: str) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is any floating dtype, else raise InputTypeError.

    Parameters
    ----------
    dtype : dtype-like
    where : str
        Name of the caller, put first in the message.

    Returns
    -------
    numpy.dtype

    Raises
    ------
    InputTypeError
        If ``dtype`` is not a dtype, or not a floating one.

    Examples
    --------
    >>> float_dtype("float16", "f")
    dtype('float16')
    >>> float_dtype("int8", "f")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputTypeError: f: dtype must be a floating numpy dtype, got int8
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise InputTypeError(f"{where}: dtype must be a floating numpy dtype, got {dtype!r}") from exc
    if not np.issubdtype(dt, np.floating):
        raise InputTypeError(f"{where}: dtype must be a floating numpy dtype, got {dt}")
    return dt


def check_steps(steps, where: str) -> None:
    """Raise unless ``steps`` (recurrent updates) is an int >= 1.

    Raises
    ------
    InputTypeError
        ``steps`` not an int.
    InputError
        ``steps`` < 1.

    Examples
    --------
    >>> check_steps(0, "f")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: f: steps must be an int >= 1, got 0
    """
    if not is_int(steps):
        raise InputTypeError(f"{where}: steps must be an int >= 1, got {steps!r}")
    if steps < 1:
        raise InputError(f"{where}: steps must be an int >= 1, got {steps}")


def check_batch(x, n_inputs: int, where: str) -> np.ndarray:
    """Return ``x`` as an array if it is a real numeric (batch, n_inputs) batch, batch >= 1.

    Raises
    ------
    InputTypeError
        ``x`` not real numeric (floats and integers pass, uncast).
    InputError
        ``x`` not 2-D, of another width, or empty.

    Examples
    --------
    >>> check_batch([[1, 2]], 2, "f")
    array([[1, 2]])
    >>> check_batch(np.ones((3, 2)), 3, "f")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: f: x has 2 columns, the network has 3 inputs
    """
    if not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if x.dtype.kind not in "fiu":                          # real floats and integers
        raise InputTypeError(f"{where}: x must be a real numeric array, got dtype {x.dtype}")
    if x.ndim != 2:
        raise InputError(f"{where}: x must be 2-D (batch, {n_inputs}), got shape {x.shape}")
    if x.shape[1] != n_inputs:
        raise InputError(f"{where}: x has {x.shape[1]} columns, the network has "
                         f"{n_inputs} inputs")
    if x.shape[0] == 0:
        raise InputError(f"{where}: x is an empty batch (shape {x.shape})")
    return x
