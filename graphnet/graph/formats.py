"""A network's two file formats: node-link JSON and GraphML, on its ``networkx.DiGraph``.

:func:`to_node_link` / :func:`from_node_link` and :func:`to_graphml` / :func:`from_graphml`
write and read a network's graph (nodes ``0..n-1`` with ``role``, ``bias``, ``activation``,
``name``; edges with ``weight`` and, on fixed edges only, ``trainable = false``; the graph's
``mode``); floats round-trip exactly through both. A file without ``trainable`` (written
before fixed edges existed) loads with every edge trainable. Writes are atomic. The readers
turn every malformed file into a DataError naming it and return the graph unvalidated:
``GraphNetwork``'s methods of the same names wrap these and validate.
:mod:`graphnet.graph.io` is the front door for files a user names.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping

import networkx as nx

from graphnet._checks import is_int
from graphnet.errors import DataError, GraphError, InputTypeError
from graphnet.fileio import atomic_write

__all__ = ["NODE_LINK_FORMAT", "NODE_LINK_VERSION", "GRAPHML_FORMAT",
           "to_node_link", "from_node_link", "to_graphml", "from_graphml"]

NODE_LINK_FORMAT = "graphnet.node_link"
NODE_LINK_VERSION = 1
GRAPHML_FORMAT = "graphnet.graphml"
_NODE_KEYS = ("role", "bias", "activation", "name")
_EDGE_KEYS = ("weight", "trainable")  # trainable is optional (default true)
_INDEX_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)


def to_node_link(g: nx.DiGraph, path=None) -> dict:
    """A network's graph as a node-link dict, optionally written as JSON.

    The dict is networkx's node-link shape (``nodes``, ``links``) plus ``format``
    and ``version`` keys. Floats round-trip exactly through JSON. A fixed edge's link
    has ``"trainable": false``; a link without the key is trainable.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).
    path : str or os.PathLike, optional
        If given, the JSON is written atomically (temp file in the same directory,
        then ``os.replace``).

    Returns
    -------
    dict

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> d = to_node_link(GraphNetwork.seed_example().graph)
    >>> d["format"], d["version"], d["graph"], d["nodes"][3]
    ('graphnet.node_link', 1, {'mode': 'recurrent'}, {'id': 3, 'role': 'output', 'bias': 0.0, 'activation': 'identity', 'name': 's3'})
    >>> d["links"][0]
    {'source': 0, 'target': 1, 'weight': 1.0}
    >>> F = [[False, True], [False, False]]
    >>> to_node_link(GraphNetwork.from_matrix([[0, 1.0], [0, 0]], [0], [1], fixed=F).graph)["links"]
    [{'source': 0, 'target': 1, 'weight': 1.0, 'trainable': False}]
    """
    nodes = g.nodes
    data = {
        "format": NODE_LINK_FORMAT,
        "version": NODE_LINK_VERSION,
        "directed": True,
        "multigraph": False,
        "graph": {"mode": g.graph["mode"]},
        "nodes": [{"id": i, **{k: nodes[i][k] for k in _NODE_KEYS}} for i in range(len(nodes))],
        "links": [{"source": u, "target": v, "weight": d["weight"],
                   **({"trainable": False} if d.get("trainable", True) is False else {})}
                  for u, v, d in g.edges(data=True)],
    }
    if path is not None:
        text = json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False)

        def write(tmp):
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())

        atomic_write(path, write)
    return data


def from_node_link(data_or_path) -> nx.DiGraph:
    """Read a network's graph written by :func:`to_node_link` (a dict or a JSON file).

    Parameters
    ----------
    data_or_path : dict or str or os.PathLike

    Returns
    -------
    networkx.DiGraph
        Not yet validated: ``GraphNetwork(g)`` checks it (``GraphNetwork.from_node_link``
        does both).

    Raises
    ------
    DataError
        Not JSON, wrong ``format`` or ``version``, missing keys, links to unlisted
        nodes, repeated nodes or links.
    GraphError
        From ``GraphNetwork(g)``: well-formed data describing an invalid network.
    InputTypeError
        ``data_or_path`` is neither a mapping nor a path.

    Examples
    --------
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.random(2, 2, 1, 0.5, seed=1)
    >>> GraphNetwork(from_node_link(to_node_link(net.graph))) == net
    True
    >>> from_node_link({"format": "other"})
    Traceback (most recent call last):
    ...
    graphnet.errors.DataError: node-link data: 'format' must be 'graphnet.node_link', got 'other'
    """
    if isinstance(data_or_path, (str, os.PathLike)):
        src = os.fspath(data_or_path)
        with open(src, encoding="utf-8") as fh:
            text = fh.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{src}: not valid JSON ({exc})") from exc
    elif isinstance(data_or_path, Mapping):
        src, data = "node-link data", data_or_path
    else:
        raise InputTypeError(
            f"from_node_link: expected a dict or a path, got {type(data_or_path).__name__}"
        )
    if not isinstance(data, Mapping):
        raise DataError(f"{src}: expected a JSON object, got {type(data).__name__}")
    fmt = data.get("format")
    if fmt != NODE_LINK_FORMAT:
        raise DataError(f"{src}: 'format' must be {NODE_LINK_FORMAT!r}, got {fmt!r}")
    version = data.get("version")
    if not is_int(version) or version != NODE_LINK_VERSION:
        raise DataError(f"{src}: unsupported version {version!r}; expected {NODE_LINK_VERSION}")
    for key, kind in (("graph", Mapping), ("nodes", list), ("links", list)):
        if not isinstance(data.get(key), kind):
            raise DataError(f"{src}: {key!r} missing or not a {kind.__name__}")
    if "mode" not in data["graph"]:
        raise DataError(f"{src}: 'graph' has no 'mode'")

    g = nx.DiGraph(mode=data["graph"]["mode"])
    for k, node in enumerate(data["nodes"]):
        if not isinstance(node, Mapping):
            raise DataError(f"{src}: nodes[{k}] is not an object")
        missing = [key for key in ("id",) + _NODE_KEYS if key not in node]
        if missing:
            raise DataError(f"{src}: nodes[{k}] has no {missing[0]!r}")
        i = node["id"]
        if not is_int(i):
            raise DataError(f"{src}: nodes[{k}] has id {i!r}; expected an int")
        if i in g:
            raise DataError(f"{src}: node id {i} appears twice")
        g.add_node(i, **{key: node[key] for key in _NODE_KEYS})
    for k, link in enumerate(data["links"]):
        if not isinstance(link, Mapping):
            raise DataError(f"{src}: links[{k}] is not an object")
        missing = [key for key in ("source", "target", "weight") if key not in link]
        if missing:
            raise DataError(f"{src}: links[{k}] has no {missing[0]!r}")
        u, v = link["source"], link["target"]
        for end in (u, v):
            if not is_int(end) or end not in g:
                raise DataError(f"{src}: links[{k}] refers to node {end!r}, which is not listed")
        if g.has_edge(u, v):
            raise DataError(f"{src}: link {u} -> {v} appears twice")
        g.add_edge(u, v, **{key: link[key] for key in _EDGE_KEYS if key in link})
    return g


def to_graphml(g: nx.DiGraph, path) -> None:
    """Write a network's graph as GraphML (atomically), via ``networkx.write_graphml``.

    Node ids are the indices as strings; attributes ``role``, ``bias``,
    ``activation``, ``name``, edge ``weight`` (and the boolean ``trainable``, written
    on fixed edges only), graph ``mode``, ``format``, ``version``. Floats round-trip
    exactly.

    Parameters
    ----------
    g : networkx.DiGraph
        A network's graph (``net.graph``).
    path : str or os.PathLike

    Examples
    --------
    >>> import os, tempfile
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.seed_example()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "net.graphml")
    ...     to_graphml(net.graph, p)
    ...     GraphNetwork(from_graphml(p)) == net
    True
    """
    g = g.copy()  # unfrozen, and the caller's graph keeps its attributes
    g.graph["format"] = GRAPHML_FORMAT
    g.graph["version"] = NODE_LINK_VERSION
    atomic_write(path, lambda tmp: nx.write_graphml(g, tmp))


def from_graphml(path) -> nx.DiGraph:
    """Read a network's graph written by :func:`to_graphml`.

    Node ids must be the strings ``"0".."n-1"``; they become ints. Every node needs
    ``role``, ``bias``, ``activation``, ``name``; every edge ``weight`` (``trainable``
    is optional, default true); the graph ``mode``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    networkx.DiGraph
        Not yet validated: ``GraphNetwork(g)`` checks it (``GraphNetwork.from_graphml``
        does both).

    Raises
    ------
    DataError
        Unreadable GraphML, undirected, a missing attribute, a foreign ``format``.
    GraphError
        Node ids that are not 0..n-1; from ``GraphNetwork(g)``, an invalid network.

    Examples
    --------
    >>> import os, tempfile
    >>> from graphnet.graph.network import GraphNetwork
    >>> net = GraphNetwork.layered([2, 2, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "net.graphml")
    ...     to_graphml(net.graph, p)
    ...     sorted(from_graphml(p).edges(data="weight")) == net.edges()
    True
    """
    src = os.fspath(path)
    if not os.path.exists(src):
        raise FileNotFoundError(src)
    try:
        h = nx.read_graphml(src)
    except (ElementTree.ParseError, nx.NetworkXError, KeyError, ValueError) as exc:
        raise DataError(f"{src}: not a readable GraphML file ({exc})") from exc
    if not h.is_directed() or h.is_multigraph():
        raise DataError(f"{src}: expected a directed graph without parallel edges")
    fmt = h.graph.get("format", GRAPHML_FORMAT)
    if fmt != GRAPHML_FORMAT:
        raise DataError(f"{src}: 'format' must be {GRAPHML_FORMAT!r}, got {fmt!r}")
    version = h.graph.get("version", NODE_LINK_VERSION)
    if version != NODE_LINK_VERSION:
        raise DataError(f"{src}: unsupported version {version!r}; expected {NODE_LINK_VERSION}")
    if "mode" not in h.graph:
        raise DataError(f"{src}: the graph has no 'mode'")

    index = {}
    for v in h.nodes:
        if not (isinstance(v, str) and _INDEX_RE.fullmatch(v)):
            raise GraphError(f"{src}: GraphML node id {v!r} is not a node index 0..n-1")
        index[v] = int(v)
    g = nx.DiGraph(mode=h.graph["mode"])
    for v in sorted(h.nodes, key=index.__getitem__):
        data = h.nodes[v]
        missing = [key for key in _NODE_KEYS if key not in data]
        if missing:
            raise DataError(f"{src}: node {v} has no {missing[0]!r}")
        g.add_node(index[v], **{key: data[key] for key in _NODE_KEYS})
    for u, v, data in h.edges(data=True):
        if "weight" not in data:
            raise DataError(f"{src}: edge {u} -> {v} has no 'weight'")
        g.add_edge(index[u], index[v], **{key: data[key] for key in _EDGE_KEYS if key in data})
    return g
