"""The mutable network: a weighted directed graph that is also a weight matrix.

A :class:`GraphNetwork` keeps its structure in a ``networkx.DiGraph`` and is immutable:
every operation that changes something returns a new network, validated before it is
returned (nothing is ever half-built).

Conventions (binding for execution and operators):

* Node labels are the integers ``0..n-1`` and that order **is** the matrix order.
* ``W[i, j]`` is the weight of the edge ``i -> j`` (row = from, column = to). No edge
  means ``W[i, j] == 0``; an edge of weight exactly 0 is never stored.
* Each node has a ``role`` (``input``, ``hidden``, ``output``), a ``bias``, an
  ``activation`` (``tanh``, ``sigmoid``, ``relu``, ``identity``) and a unique ``name``.
  Input nodes have no incoming edges; their bias is 0 and their activation is stored as
  ``identity`` (both are ignored by execution). Data column ``k`` feeds the ``k``-th input
  node in node order (``net.inputs[k]``); output column ``k`` is ``net.outputs[k]``.
* An edge may be **fixed** (``trainable = False``, default True): training never changes its
  weight (a residual connection, exactly); :mod:`graphnet.graph.gate` has the operators' rule.
* The graph attribute ``mode`` is ``feedforward`` (the graph must be acyclic, a self-loop
  is a cycle) or ``recurrent`` (cycles allowed).

The seed's own 5x5 0/1 table is :func:`graphnet.graph.generators.seed_table`;
:meth:`GraphNetwork.seed_example` turns it into a network.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from graphnet.graph import analysis, formats, generators
from graphnet.graph._validate import (ACTIVATIONS, MODES, ROLES, activation_list, as_list,
                                      as_matrix, as_vector, check_mode, fixed_from,
                                      graph_from_arrays, mark_fixed, trained_params, validate)

__all__ = ["GraphNetwork", "ROLES", "ACTIVATIONS", "MODES"]


class GraphNetwork:
    """An immutable network whose store is a ``networkx.DiGraph``.

    Parameters
    ----------
    graph : networkx.DiGraph
        Node labels must already be the integers ``0..n-1`` (they are not relabelled; the
        insertion order does not matter, node ``i`` becomes matrix row ``i``). Each node
        needs ``role``; ``bias`` defaults to 0.0, ``activation`` to ``tanh`` for hidden and
        ``identity`` for input and output nodes, ``name`` to ``x0..``/``h0..``/``y0..``
        numbered by node order within the role. Each edge needs a non-zero finite
        ``weight``; ``trainable`` (bool) defaults to True. ``graph.graph["mode"]``
        defaults to ``feedforward``. Other attributes are not kept. The graph is copied:
        changing it later does not change the network. (Private: ``_valid=True`` keeps a
        graph of :func:`~graphnet.graph._validate.canonical_graph` as it is, unchecked.)

    Raises
    ------
    InputTypeError
        If ``graph`` is not a ``networkx.DiGraph``.
    GraphError
        If any invariant fails (see the module docstring); the message names it.
    CycleError
        If the mode is ``feedforward`` and the graph has a cycle; ``.cycle`` lists its
        edges.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph(mode="feedforward")
    >>> g.add_node(0, role="input")
    >>> g.add_node(1, role="output", bias=0.5)
    >>> g.add_edge(0, 1, weight=2.0)
    >>> net = GraphNetwork(g)
    >>> net
    GraphNetwork(mode='feedforward', inputs=1, hidden=0, outputs=1, edges=1)
    >>> net.names, net.matrix().tolist()
    (('x0', 'y0'), [[0.0, 2.0], [0.0, 0.0]])

    The views (properties return tuples or fresh index arrays):

    >>> s = GraphNetwork.seed_example()
    >>> s.n_nodes, s.n_edges, s.n_hidden, s.mode, s.names
    (6, 7, 4, 'recurrent', ('s0', 's1', 's2', 's3', 's4', 'x0'))
    >>> s.inputs, s.hidden, s.outputs
    (array([5]), array([0, 1, 2, 4]), array([3]))
    >>> m = GraphNetwork.layered([2, 3, 1], seed=0)
    >>> m.n_inputs, m.n_outputs, m.n_params  # n_params: (6 + 3) edges + (3 + 1) biases
    (2, 1, 13)
    >>> t = GraphNetwork.layered([1, 1, 1], seed=0)
    >>> t.roles, t.activations
    (('input', 'hidden', 'output'), ('identity', 'tanh', 'identity'))
    """

    def __init__(self, graph: nx.DiGraph, *, _valid: bool = False):
        g = graph if _valid else validate(graph)      # _valid: canonical_graph's, trusted
        n = g.number_of_nodes()
        nodes = g.nodes
        self._g = g
        self._n = n
        self._mode = g.graph["mode"]
        self._roles = tuple(nodes[i]["role"] for i in range(n))
        self._activations = tuple(nodes[i]["activation"] for i in range(n))
        self._names = tuple(nodes[i]["name"] for i in range(n))
        b = np.array([nodes[i]["bias"] for i in range(n)], dtype=np.float64)
        W = np.zeros((n, n), dtype=np.float64)
        fixed = np.zeros((n, n), dtype=bool)
        for u, v, d in g.edges(data=True):
            W[u, v] = d["weight"]
            fixed[u, v] = "trainable" in d  # only fixed edges carry the key
        for a in (b, W, fixed):
            a.setflags(write=False)
        self._b = b
        self._W = W
        self._fixed = fixed
        roles = np.array(self._roles)
        self._inputs = np.flatnonzero(roles == "input")
        self._hidden = np.flatnonzero(roles == "hidden")
        self._outputs = np.flatnonzero(roles == "output")
        self._depths = None

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_graph(cls, graph: nx.DiGraph) -> "GraphNetwork":
        """Alias of ``GraphNetwork(graph)``.

        Parameters
        ----------
        graph : networkx.DiGraph
            See :class:`GraphNetwork`.

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError, CycleError, InputTypeError
            As :class:`GraphNetwork`.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> GraphNetwork.from_graph(net.graph) == net
        True
        """
        return cls(graph)

    @classmethod
    def from_matrix(cls, W, inputs, outputs, *, biases=None, activation="tanh",
                    output_activation="identity", mode="feedforward",
                    names=None, fixed=None) -> "GraphNetwork":
        """Build a network from its weight matrix; see :func:`graphnet.graph.generators.from_matrix`.

        ``fixed`` (bool array of W's shape, optional) marks the fixed edges (``trainable =
        False``): True only where W has an edge (GraphError otherwise).

        Examples
        --------
        >>> GraphNetwork.from_matrix([[0, 0, 0.5], [0, 0, -1.0], [0, 0, 0]], [0, 1], [2]).roles
        ('input', 'input', 'output')
        """
        g = generators.from_matrix(W, inputs, outputs, biases=biases, activation=activation,
                                   output_activation=output_activation, mode=mode, names=names)
        if fixed is not None:
            mark_fixed(g, fixed_from(fixed, as_matrix(W, "W"), "from_matrix"))
        return cls(g)

    @classmethod
    def random(cls, n_inputs, n_hidden, n_outputs, density, seed, *, mode="feedforward",
               activation="tanh", output_activation="identity") -> "GraphNetwork":
        """A random network with no dead node; see :func:`graphnet.graph.generators.random`.

        Examples
        --------
        >>> GraphNetwork.random(2, 3, 1, 0.5, seed=0) == GraphNetwork.random(2, 3, 1, 0.5, seed=0)
        True
        """
        return cls(generators.random(n_inputs, n_hidden, n_outputs, density, seed, mode=mode,
                                     activation=activation, output_activation=output_activation))

    @classmethod
    def layered(cls, sizes, seed, *, activation="tanh", output_activation="identity"):
        """The graph of a fully connected MLP; see :func:`graphnet.graph.generators.layered`.

        Examples
        --------
        >>> GraphNetwork.layered([2, 4, 1], seed=0).n_edges
        12
        """
        return cls(generators.layered(sizes, seed, activation=activation,
                                      output_activation=output_activation))

    @classmethod
    def seed_example(cls, *, mode="recurrent") -> "GraphNetwork":
        """The seed's 5x5 table plus one input; see :func:`graphnet.graph.generators.seed_example`.

        Examples
        --------
        >>> GraphNetwork.seed_example().cycles()
        [[0, 1]]
        """
        return cls(generators.seed_example(mode=mode))

    # ------------------------------------------------------------------ views

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``n`` (W is n x n)."""
        return self._n

    @property
    def n_edges(self) -> int:
        """Number of edges (non-zero entries of W)."""
        return self._g.number_of_edges()

    @property
    def n_inputs(self) -> int:
        """Number of input nodes."""
        return int(self._inputs.size)

    @property
    def n_hidden(self) -> int:
        """Number of hidden nodes."""
        return int(self._hidden.size)

    @property
    def n_outputs(self) -> int:
        """Number of output nodes."""
        return int(self._outputs.size)

    @property
    def n_fixed(self) -> int:
        """Number of fixed edges (``trainable = False``)."""
        return int(np.count_nonzero(self._fixed))

    @property
    def n_params(self) -> int:
        """Trainable parameters: one per edge that is not fixed, one bias per non-input node."""
        return self.n_edges - self.n_fixed + self._n - self.n_inputs

    @property
    def mode(self) -> str:
        """``"feedforward"`` or ``"recurrent"``."""
        return self._mode

    @property
    def roles(self) -> tuple:
        """Role of each node, in node order."""
        return self._roles

    @property
    def activations(self) -> tuple:
        """Activation of each node (inputs: ``identity``), in node order."""
        return self._activations

    @property
    def names(self) -> tuple:
        """Name of each node, in node order."""
        return self._names

    @property
    def inputs(self) -> np.ndarray:
        """Indices of the input nodes, ascending (a copy)."""
        return self._inputs.copy()

    @property
    def hidden(self) -> np.ndarray:
        """Indices of the hidden nodes, ascending (a copy)."""
        return self._hidden.copy()

    @property
    def outputs(self) -> np.ndarray:
        """Indices of the output nodes, ascending (a copy)."""
        return self._outputs.copy()

    def matrix(self) -> np.ndarray:
        """The weight matrix, a fresh float64 copy.

        Returns
        -------
        ndarray of shape (n, n)
            ``W[i, j]`` is the weight of the edge ``i -> j``; 0 means no edge.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 3.0], [0, 0]], [0], [1])
        >>> W = net.matrix(); W[0, 1] = 9.0
        >>> net.matrix()[0, 1]
        np.float64(3.0)
        """
        return self._W.copy()

    def fixed_mask(self) -> np.ndarray:
        """Where the fixed edges are: a fresh bool (n, n) array, True at ``i -> j`` if fixed.

        Examples
        --------
        >>> F = [[False, True, False], [False, False, False], [False, False, False]]
        >>> net = GraphNetwork.from_matrix([[0, 1, 2], [0, 0, 3], [0, 0, 0]], [0], [2], fixed=F)
        >>> net.fixed_mask()[0].tolist(), net.n_fixed, net.n_params  # 2 trainable edges + 2 biases
        ([False, True, False], 1, 4)
        """
        return self._fixed.copy()

    def biases(self) -> np.ndarray:
        """The biases, a fresh float64 copy of shape (n,) (0 at input nodes).

        Examples
        --------
        >>> GraphNetwork.from_matrix([[0, 1.0], [0, 0]], [0], [1], biases=[0, 0.5]).biases()
        array([0. , 0.5])
        """
        return self._b.copy()

    def edges(self) -> list:
        """All edges as ``(i, j, w)``, sorted by ``(i, j)``.

        Examples
        --------
        >>> GraphNetwork.from_matrix([[0, 0, 2.0], [0, 0, -1.0], [0, 0, 0]], [0, 1], [2]).edges()
        [(0, 2, 2.0), (1, 2, -1.0)]
        """
        return [(u, v, w) for u, v, w in self._g.edges(data="weight")]

    @property
    def graph(self) -> nx.DiGraph:
        """A frozen copy of the DiGraph (changing it cannot change the network).

        Examples
        --------
        >>> g = GraphNetwork.seed_example().graph
        >>> g.nodes[3]["name"], g.edges[5, 0]["weight"], g.graph["mode"]
        ('s3', 1.0, 'recurrent')
        >>> nx.is_frozen(g)
        True
        """
        return nx.freeze(self._g.copy())

    def depths(self) -> np.ndarray:
        """Depth of every node (cached); see :func:`graphnet.graph.analysis.depths`.

        Examples
        --------
        >>> GraphNetwork.layered([2, 3, 1], seed=0).depths()
        array([0, 0, 1, 1, 1, 2])
        """
        if self._depths is None:
            d = analysis.depths(self._g)
            d.setflags(write=False)
            self._depths = d
        return self._depths.copy()

    def levels(self) -> list:
        """The non-input nodes grouped by depth; see :func:`graphnet.graph.analysis.levels`.

        Examples
        --------
        >>> [lv.tolist() for lv in GraphNetwork.layered([2, 3, 1], seed=0).levels()]
        [[2, 3, 4], [5]]
        """
        return analysis.levels(self.depths())

    def unreachable(self) -> np.ndarray:
        """Non-input nodes that no input reaches; see :func:`graphnet.graph.analysis.unreachable`.

        Examples
        --------
        >>> W = [[0, 0, 1.0], [0, 0, 1.0], [0, 0, 0]]  # node 1 hidden, no in-edge
        >>> GraphNetwork.from_matrix(W, [0], [2]).unreachable()
        array([1])
        """
        return analysis.unreachable(self._g)

    def dead_ends(self) -> np.ndarray:
        """Non-output nodes that reach no output; see :func:`graphnet.graph.analysis.dead_ends`.

        Examples
        --------
        >>> W = [[0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]]  # node 1 hidden, no out-edge
        >>> GraphNetwork.from_matrix(W, [0], [2]).dead_ends()
        array([1])
        """
        return analysis.dead_ends(self._g)

    def sinks(self) -> np.ndarray:
        """Nodes with no outgoing edge; see :func:`graphnet.graph.analysis.sinks`.

        Examples
        --------
        >>> GraphNetwork.seed_example().sinks()
        array([3])
        """
        return analysis.sinks(self._g)

    def cycles(self, limit=20) -> list:
        """Simple cycles, at most ``limit``; see :func:`graphnet.graph.analysis.cycles`.

        Examples
        --------
        >>> GraphNetwork.seed_example().cycles()
        [[0, 1]]
        """
        return analysis.cycles(self._g, limit)

    def summary(self) -> str:
        """A multi-line report with the problems; see :func:`graphnet.graph.analysis.summary`.

        Examples
        --------
        >>> print(GraphNetwork.seed_example().summary().splitlines()[-1])
        cycles: 1: [0, 1]
        """
        return analysis.summary(self._g)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(mode={self._mode!r}, inputs={self.n_inputs}, "
            f"hidden={self.n_hidden}, outputs={self.n_outputs}, edges={self.n_edges})"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, GraphNetwork):
            return NotImplemented
        return (
            self._n == other._n
            and self._mode == other._mode
            and self._roles == other._roles
            and self._activations == other._activations
            and self._names == other._names
            and bool(np.array_equal(self._b, other._b))
            and bool(np.array_equal(self._W, other._W))
            and bool(np.array_equal(self._fixed, other._fixed))
        )

    def __hash__(self) -> int:
        return hash(
            (self._mode, self._roles, self._activations, self._names,
             tuple(self._b.tolist()), tuple(self.edges()), tuple(np.flatnonzero(self._fixed)))
        )

    # ------------------------------------------------------------------ derivation

    def replace(self, *, W=None, biases=None, roles=None, activations=None, names=None,
                mode=None, fixed=None) -> "GraphNetwork":
        """A new network with some parts replaced; the rest is taken from this one.

        This is the primitive the operators build on (a node permutation is
        ``replace`` with permuted W and attribute lists). Everything is validated
        before the new network is returned; this network never changes.

        Parameters
        ----------
        W : array_like of shape (m, m), optional
            New weight matrix (0 = no edge). If ``m != n``, pass every per-node list.
        biases : array_like of shape (m,), optional
            Entries at input nodes must be 0.
        roles, activations, names : sequence of m str, optional
            Per-node lists. Activations of input nodes are ignored (stored ``identity``).
            Names are kept as they are unless given (also when roles change).
        mode : {"feedforward", "recurrent"}, optional
        fixed : bool array_like of shape (m, m), optional
            The fixed edges (True only where W has an edge). Default: an edge of the new W
            is fixed when this network has a fixed edge at the same ``(i, j)``.

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError, CycleError
            As :meth:`from_matrix`, e.g. a permutation that puts an edge into an input.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> p = [5, 0, 1, 2, 3, 4]  # new node k is old node p[k]
        >>> moved = net.replace(W=net.matrix()[np.ix_(p, p)], biases=net.biases()[p],
        ...                     roles=[net.roles[i] for i in p],
        ...                     activations=[net.activations[i] for i in p],
        ...                     names=[net.names[i] for i in p])
        >>> moved.names[:2], moved.cycles()
        (('x0', 's0'), [[1, 2]])
        >>> net.replace(mode="feedforward")
        Traceback (most recent call last):
        ...
        graphnet.errors.CycleError: feedforward network has a cycle 0 -> 1 -> 0
        """
        W = self._W.copy() if W is None else as_matrix(W, "W")
        m = W.shape[0]
        roles = list(self._roles) if roles is None else roles
        roles = as_list(roles, m, "roles")
        b = self._b if biases is None else biases
        b = as_vector(b, m, "biases")
        acts = activation_list(
            list(self._activations) if activations is None else activations, m, "activations"
        )
        names = as_list(list(self._names) if names is None else names, m, "names")
        mode = self._mode if mode is None else check_mode(mode, "replace")
        fixed = fixed_from(fixed, W, "replace", keep=self._fixed)
        return type(self)(graph_from_arrays(W, roles, b.tolist(), acts, names, mode, fixed))

    def with_params(self, W, b) -> "GraphNetwork":
        """Write trained weights and biases back into the same structure.

        Training never creates an edge and never moves a fixed one: ``W`` must be 0
        wherever this network has no edge and equal its weight at every fixed edge. An
        edge whose weight became exactly 0 is dropped; the others keep their flag.

        Parameters
        ----------
        W : array_like of shape (n, n)
        b : array_like of shape (n,)
            Entries at input nodes must be 0 (input biases are ignored).

        Returns
        -------
        GraphNetwork

        Raises
        ------
        GraphError
            Wrong shape, a non-finite entry, a non-zero weight where there is no edge or
            a changed fixed weight (naming the first one in row-major order), a non-zero
            input bias.

        Examples
        --------
        >>> net = GraphNetwork.from_matrix([[0, 1.0], [0, 0]], [0], [1])
        >>> net.with_params([[0, 0.25], [0, 0]], [0, 0.1]).edges()
        [(0, 1, 0.25)]
        >>> net.with_params([[0, 0.25], [0.5, 0]], [0, 0.1])
        Traceback (most recent call last):
        ...
        graphnet.errors.GraphError: with_params: W[1, 0] = 0.5 but there is no edge 1 -> 0; training never creates an edge
        """
        W, b = trained_params(W, b, self._W, self._fixed, self._inputs, self._names)
        return self.replace(W=W, biases=b)

    def copy(self) -> "GraphNetwork":
        """An equal network with its own graph.

        Examples
        --------
        >>> net = GraphNetwork.seed_example()
        >>> other = net.copy()
        >>> other == net, other is net
        (True, False)
        """
        return type(self)(self._g)

    # ------------------------------------------------------------------ serialisation

    def to_node_link(self, path=None) -> dict:
        """The network as a node-link dict; see :func:`graphnet.graph.formats.to_node_link`.

        Examples
        --------
        >>> GraphNetwork.seed_example().to_node_link()["graph"]
        {'mode': 'recurrent'}
        """
        return formats.to_node_link(self._g, path)

    @classmethod
    def from_node_link(cls, data_or_path) -> "GraphNetwork":
        """Load a node-link dict or JSON file; see :func:`graphnet.graph.formats.from_node_link`.

        Examples
        --------
        >>> net = GraphNetwork.random(2, 2, 1, 0.5, seed=1)
        >>> GraphNetwork.from_node_link(net.to_node_link()) == net
        True
        """
        return cls(formats.from_node_link(data_or_path))

    def to_graphml(self, path) -> None:
        """Write the network as GraphML; see :func:`graphnet.graph.formats.to_graphml`.

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     GraphNetwork.seed_example().to_graphml(os.path.join(d, "net.graphml"))
        """
        formats.to_graphml(self._g, path)

    @classmethod
    def from_graphml(cls, path) -> "GraphNetwork":
        """Load a GraphML file; see :func:`graphnet.graph.formats.from_graphml`.

        Examples
        --------
        >>> import os, tempfile
        >>> net = GraphNetwork.seed_example()
        >>> with tempfile.TemporaryDirectory() as d:
        ...     net.to_graphml(os.path.join(d, "net.graphml"))
        ...     GraphNetwork.from_graphml(os.path.join(d, "net.graphml")) == net
        True
        """
        return cls(formats.from_graphml(path))
