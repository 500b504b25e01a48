"""graphnet: a lab for neural networks whose topology changes while they learn."""

__version__ = "0.1.0"
