"""Figures of a lab run, drawn from the run directory alone.

Everything here takes data (a :class:`RunData`, metrics rows, a list of networks) and returns
a ``matplotlib.figure.Figure``; nothing reads globals. Figures are built with
``matplotlib.figure.Figure`` directly, never through pyplot, so no backend is needed, no figure
is registered anywhere and nothing has to be closed.

What the figures show (see :func:`plot_run` for the files):

* a network (:func:`plot_graph`): nodes laid out by depth (feedforward: x = depth, the nodes of
  one depth spread evenly on y; recurrent: x = shortest distance from an input, unreachable nodes
  in a last column), edges blue for positive and red for negative weights, width proportional to
  ``|w|`` (scaled to the largest ``|w|`` of the figure), alpha by magnitude; nodes coloured by
  role, hollow when no input reaches them or they reach no output;
* its weight matrix (:func:`plot_matrices`): ``W[i, j]`` (row = from, column = to) with a
  diverging colormap centred on 0 and one symmetric scale for all panels, a role strip along the
  rows and the columns;
* learning curves, per-round edges and test accuracy, and accuracy against parameter count.

"Mean +- std over seeds" uses the sample standard deviation (``ddof=1``; 0 for a single seed).
The *final* result of a (model, seed) is the last round whose row has a test accuracy and was not
rejected (``accepted != 0``): under the if-better policy a rejected mutation is not the network
that is kept. Both rules live in :mod:`graphnet.lab.summary` (``column_stats``,
``final_results``), and the run directory is read through :mod:`graphnet.lab.rundir`.

Modules: :mod:`~graphnet.lab.plots.rundata` (a run directory read for its figures),
:mod:`~graphnet.lab.plots.graph` (one network), :mod:`~graphnet.lab.plots.matrix` (weight
matrices in one node order), :mod:`~graphnet.lab.plots.evolution` (a network round after
round, also as a GIF), :mod:`~graphnet.lab.plots.curves` (learning curves, rounds),
:mod:`~graphnet.lab.plots.comparison` (accuracy against size, several runs),
:mod:`~graphnet.lab.plots.run` (every figure of a run), :mod:`~graphnet.lab.plots.axes`
(readable accuracy axes), :mod:`~graphnet.lab.plots.common` (colours, checks, saving).
"""

from graphnet.lab.plots.comparison import compare_runs, plot_comparison
from graphnet.lab.plots.curves import plot_learning_curves, plot_rounds
from graphnet.lab.plots.evolution import animate_evolution, plot_evolution
from graphnet.lab.plots.graph import graph_layout, plot_graph
from graphnet.lab.plots.matrix import plot_matrices
from graphnet.lab.plots.run import plot_run
from graphnet.lab.plots.rundata import RunData, SnapshotStore, load_run

__all__ = [
    "RunData",
    "SnapshotStore",
    "load_run",
    "graph_layout",
    "plot_graph",
    "plot_evolution",
    "plot_matrices",
    "animate_evolution",
    "plot_learning_curves",
    "plot_rounds",
    "plot_comparison",
    "plot_run",
    "compare_runs",
]
