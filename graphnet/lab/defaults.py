"""The built-in experiment that ``graphnet run`` runs without a config file.

Digits; the graph starts as the 64-64-10 tanh MLP's own graph and, each round, loses the
20 % of its edges with the smallest ``|w|`` (A at the 0.2-quantile, then retraining: the
lottery-ticket style iterative magnitude pruning), with an occasional function-preserving
node reorder (H) and a small row addition (F, repaired when it would close a cycle). It is
compared with the same start never mutated (``fixed-graph``) and with the MLP and CNN
baselines, over five seeds; 4 rounds after round 0 leave 0.8^4 = 41 % of the edges. Every
model trains 50 epochs in all (10 per round). About 30 s on 2 cores, plots included.
"""

from __future__ import annotations

import dataclasses

from graphnet.lab.config import Config, parse_config

__all__ = ["DEFAULT_TOML", "default_config"]

#: The built-in default config, as TOML.
DEFAULT_TOML = """\
name = "default"
description = "Digits: a 64-64-10 graph pruned by 20 % of its edges per round (A at the 0.2-quantile of |w|, retrained each round) with occasional H and F, against the same graph never mutated, an MLP and a CNN."
seeds = [0, 1, 2, 3, 4]
rounds = 4

[data]
dataset = "digits"
test_size = 0.2
validation = 0.1

[network]
start = "layered"
hidden = [64]
activation = "tanh"

[train]
epochs = 10
batch_size = 32
optimizer = "adam"
lr = 0.002

[mutation]
accept = "always"
repair = true

[[mutation.schedule]]
op = "A"
a = { quantile = 0.2 }

[[mutation.schedule]]
op = "H"
every = 2

[[mutation.schedule]]
op = "F"
p = 0.5
k = [-0.05, 0.05]

[baselines]
models = ["fixed-graph", "mlp", "cnn"]
mlp_hidden = [64]
"""


def default_config() -> Config:
    """The built-in default experiment, checked.

    Returns
    -------
    Config

    Examples
    --------
    >>> cfg = default_config()
    >>> cfg.name, cfg.models, cfg.source
    ('default', ('graph', 'fixed-graph', 'mlp', 'cnn'), '<built-in default>')
    """
    cfg = parse_config(DEFAULT_TOML, source="<built-in default>", name="default")
    return dataclasses.replace(cfg, text=None)  # no file of the user's to copy into the run
