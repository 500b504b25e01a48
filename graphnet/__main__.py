"""``python -m graphnet``: the graphnet command."""

import sys

from graphnet.cli import main

if __name__ == "__main__":
    sys.exit(main())
