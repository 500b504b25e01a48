"""Network files: read node-link JSON or GraphML whatever the suffix, export to JSON, GraphML, DOT.

The node-link JSON and GraphML readers and writers are :mod:`graphnet.graph.formats`
(``GraphNetwork.to_node_link``, ``from_node_link``, ``to_graphml``, ``from_graphml`` call
them); this module is the front door for files a user names:
:func:`read_network` tells the formats apart by their content and turns every way a file
can be wrong into one clear error, :func:`to_dot` writes Graphviz's DOT language by hand
(no pydot or pygraphviz), and :func:`export_network` / :func:`export_file` write any of
the three without ever overwriting a file unless asked, and never the file they read.

DOT output: one node statement per node in matrix order (``index``, ``role``,
``activation``, ``bias``, ``label``, a shape and fill by role) and one edge statement per
edge. The network's weight is the edge attribute ``w`` (every bit, Python's shortest
repr) and its 3-digit ``label``: Graphviz reserves ``weight`` for its layout, where
``dot`` takes only integers >= 0, so a negative or fractional weight there would be
refused or misread. ``dot -Tpng net.dot -o net.png`` draws the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from graphnet.errors import DataError, GraphnetError, InputError, InputTypeError
from graphnet.fileio import atomic_write_text
from graphnet.graph.formats import NODE_LINK_FORMAT
from graphnet.graph.network import GraphNetwork

__all__ = [
    "FORMATS",
    "SUFFIXES",
    "read_network",
    "to_dot",
    "export_network",
    "export_file",
]

#: The formats :func:`export_network` writes.
FORMATS = ("json", "graphml", "dot")
#: The suffix each format's file gets by default.
SUFFIXES = {"json": ".json", "graphml": ".graphml", "dot": ".dot"}

_SHAPE = {"input": "box", "hidden": "ellipse", "output": "doublecircle"}
_FILL = {"input": "#d9d9d9", "hidden": "#ffffff", "output": "#fdd49e"}
_POS_COLOR, _NEG_COLOR = "#2166ac", "#b2182b"  # blue w > 0, red w < 0, as the plots draw them


def _check_path(path, where: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"{where}: path: expected a str or os.PathLike, got "
                             f"{type(path).__name__}")
    return os.fspath(path)


def read_network(path) -> GraphNetwork:
    """Read a network file: node-link JSON or GraphML, told apart by the content.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :meth:`GraphNetwork.to_node_link` or
        :meth:`GraphNetwork.to_graphml` (any suffix).

    Returns
    -------
    GraphNetwork

    Raises
    ------
    InputError
        The file does not exist, is a directory or cannot be read.
    DataError
        Not a text file, not valid JSON or GraphML, or JSON / GraphML that is not a
        graphnet network; the message names the file.
    GraphError
        A well-formed file describing an invalid network (a cycle in feedforward mode,
        an edge into an input, ...).

    Examples
    --------
    >>> import os, tempfile
    >>> net = GraphNetwork.layered([2, 3, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "net.txt")
    ...     _ = net.to_node_link(p)
    ...     read_network(p) == net
    True
    >>> read_network("no/such/net.json")
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: no/such/net.json: no such file
    """
    src = _check_path(path, "read_network")
    if os.path.isdir(src):
        raise InputError(f"{src}: is a directory; expected a network file "
                         f"(node-link JSON or GraphML)")
    if not os.path.exists(src):
        raise InputError(f"{src}: no such file")
    try:
        with open(src, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"{src}: cannot read the file ({exc.strerror or exc})") from None
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    suffix = os.path.splitext(src)[1].lower()
    if start in (b"{", b"["):
        kind = "json"
    elif start == b"<":
        kind = "graphml"
    elif not start:
        raise DataError(f"{src}: the file is empty; expected a network (node-link JSON or "
                        f"GraphML)")
    elif suffix == ".json":
        kind = "json"
    else:
        raise DataError(f"{src}: neither JSON nor GraphML (it starts with {head[:12]!r}); "
                        f"expected a network written by graphnet")
    try:
        if kind == "json":
            _check_node_link(src)
            return GraphNetwork.from_node_link(src)
        return GraphNetwork.from_graphml(src)
    except GraphnetError:
        raise
    except UnicodeDecodeError:
        raise DataError(f"{src}: not a text file (not UTF-8); expected a network "
                        f"(node-link JSON or GraphML)") from None
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise DataError(f"{src}: not a graphnet network ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise InputError(f"{src}: cannot read the file ({exc.strerror or exc})") from None


def _check_node_link(src: str) -> None:
    """Refuse JSON that is not graphnet's node-link format, saying so in those words."""
    with open(src, encoding="utf-8") as fh:
        text = fh.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{src}: not valid JSON ({exc})") from None
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt != NODE_LINK_FORMAT:
        if not isinstance(data, dict):
            got = f"a JSON {type(data).__name__}"
        else:
            got = f"an object with 'format' {fmt!r}" if "format" in data else "no 'format'"
        raise DataError(f"{src}: not a graphnet network file: expected node-link JSON with "
                        f"'format' {NODE_LINK_FORMAT!r} (written by graphnet), got {got}")


def _quote(text) -> str:
    """A DOT double-quoted string; backslash, quote and line breaks escaped."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "\\r").replace("\n", "\\n") + '"'


def _attrs(pairs) -> str:
    return "[" + ", ".join(f"{key}={_quote(value)}" for key, value in pairs) + "]"


def to_dot(net: GraphNetwork, name: str = "network") -> str:
    """The network in Graphviz's DOT language.

    Parameters
    ----------
    net : GraphNetwork
    name : str
        The graph's name (quoted, so any text is allowed).

    Returns
    -------
    str
        ``digraph "name" { rankdir=LR; ... }``: node statements in matrix order with
        ``index``, ``role``, ``activation``, ``bias``, ``label``, ``shape``,
        ``fillcolor``; edge statements with the weight as ``w`` (exact) and ``label``
        (3 digits), coloured by sign, width by ``abs(w)``; a fixed edge also has
        ``trainable="false"`` and is dashed.

    Raises
    ------
    InputTypeError
        ``net`` is not a GraphNetwork or ``name`` not a str.

    Examples
    --------
    >>> net = GraphNetwork.from_matrix([[0, 0.5], [0, 0]], inputs=[0], outputs=[1])
    >>> print(to_dot(net, "tiny"))  # doctest: +NORMALIZE_WHITESPACE
    // graphnet network: feedforward, 2 nodes, 1 edges; W[i, j] is the weight of the edge i -> j
    digraph "tiny" {
      rankdir=LR;
      mode="feedforward";
      node [style="filled"];
      "x0" [index="0", role="input", activation="identity", bias="0.0", label="x0",
            shape="box", fillcolor="#d9d9d9"];
      "y0" [index="1", role="output", activation="identity", bias="0.0", label="y0",
            shape="doublecircle", fillcolor="#fdd49e"];
      "x0" -> "y0" [w="0.5", label="0.5", color="#2166ac", penwidth="3"];
    }
    """
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"to_dot: net: expected a GraphNetwork, got {type(net).__name__}")
    if not isinstance(name, str):
        raise InputTypeError(f"to_dot: name: expected a str, got {type(name).__name__}")
    names, roles, acts, b = net.names, net.roles, net.activations, net.biases()
    edges, F = net.edges(), net.fixed_mask()
    wmax = max((abs(w) for _, _, w in edges), default=1.0)
    lines = [
        f"// graphnet network: {net.mode}, {net.n_nodes} nodes, {net.n_edges} edges; "
        f"W[i, j] is the weight of the edge i -> j",
        f"digraph {_quote(name)} {{",
        "  rankdir=LR;",
        f"  mode={_quote(net.mode)};",
        '  node [style="filled"];',
    ]
    for i in range(net.n_nodes):
        pairs = [("index", i), ("role", roles[i]), ("activation", acts[i]),
                 ("bias", repr(float(b[i]))), ("label", names[i]), ("shape", _SHAPE[roles[i]]),
                 ("fillcolor", _FILL[roles[i]])]
        lines.append(f"  {_quote(names[i])} {_attrs(pairs)};")
    for u, v, w in edges:
        pairs = [("w", repr(w)), ("label", f"{w:.3g}"),
                 ("color", _POS_COLOR if w > 0 else _NEG_COLOR),
                 ("penwidth", f"{0.5 + 2.5 * abs(w) / wmax:.3g}")]
        if F[u, v]:
            pairs += [("trainable", "false"), ("style", "dashed")]
        lines.append(f"  {_quote(names[u])} -> {_quote(names[v])} {_attrs(pairs)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _check_format(fmt, where: str) -> str:
    if not (isinstance(fmt, str) and fmt in FORMATS):
        raise InputError(f"{where}: format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def export_network(net: GraphNetwork, path, format: str, *, overwrite: bool = False,
                   name: str | None = None) -> Path:
    """Write ``net`` to ``path`` as node-link JSON, GraphML or DOT (atomically).

    JSON and GraphML are :meth:`GraphNetwork.to_node_link` and
    :meth:`GraphNetwork.to_graphml` (weight and bias as doubles, role and activation as
    strings: Gephi and any GraphML reader open it); DOT is :func:`to_dot`.

    Parameters
    ----------
    net : GraphNetwork
    path : str or os.PathLike
        The file to write; its folder must exist.
    format : {"json", "graphml", "dot"}
    overwrite : bool
        Replace an existing file (default: refuse).
    name : str, optional
        DOT only: the graph's name (default: the file's stem).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InputError
        Unknown format, ``path`` exists (without ``overwrite``) or is a directory, or
        its folder does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> net = GraphNetwork.seed_example()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = export_network(net, os.path.join(d, "s.graphml"), "graphml")
    ...     back = read_network(p)
    ...     export_network(net, p, "graphml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: .../s.graphml: exists; refusing to overwrite it (--force, or overwrite=True, replaces it)
    >>> back == net
    True
    """
    if not isinstance(net, GraphNetwork):
        raise InputTypeError(f"export_network: net: expected a GraphNetwork, got "
                             f"{type(net).__name__}")
    fmt = _check_format(format, "export_network")
    dst = _check_path(path, "export_network")
    if os.path.isdir(dst):
        raise InputError(f"{dst}: is a directory; expected a file name to write")
    if os.path.lexists(dst) and not overwrite:
        raise InputError(f"{dst}: exists; refusing to overwrite it (--force, or "
                         f"overwrite=True, replaces it)")
    folder = os.path.dirname(os.path.abspath(dst))
    if not os.path.isdir(folder):
        raise InputError(f"{dst}: the folder {folder} does not exist")
    if fmt == "json":
        net.to_node_link(dst)
    elif fmt == "graphml":
        net.to_graphml(dst)
    else:
        stem = os.path.splitext(os.path.basename(dst))[0]
        atomic_write_text(dst, to_dot(net, stem if name is None else name))
    return Path(dst)


def export_file(src, format: str, *, out=None, force: bool = False) -> Path:
    """Read a network file and write it in another format (``graphnet export``).

    Parameters
    ----------
    src : str or os.PathLike
        As :func:`read_network`.
    format : {"json", "graphml", "dot"}
    out : str or os.PathLike, optional
        Where to write; default: beside ``src``, same stem, the format's suffix
        (:data:`SUFFIXES`).
    force : bool
        Replace an existing ``out``. ``src`` itself is never replaced.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputError
        As :func:`read_network` and :func:`export_network`; ``out`` is ``src``.
    DataError, GraphError
        As :func:`read_network`.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     src = os.path.join(d, "net.json")
    ...     _ = GraphNetwork.layered([2, 2, 1], seed=0).to_node_link(src)
    ...     written = export_file(src, "dot")
    ...     export_file(src, "json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphnet.errors.InputError: .../net.json: is the input file; refusing to overwrite it (give another --out)
    >>> written.name
    'net.dot'
    """
    fmt = _check_format(format, "export")
    src = _check_path(src, "export")
    net = read_network(src)
    dst = (os.path.splitext(src)[0] + SUFFIXES[fmt]) if out is None else _check_path(out, "export")
    same = os.path.realpath(dst) == os.path.realpath(src)
    if not same and os.path.exists(dst):
        same = os.path.samefile(dst, src)
    if same:
        raise InputError(f"{dst}: is the input file; refusing to overwrite it "
                         f"(give another --out)")
    return export_network(net, dst, fmt, overwrite=force)
