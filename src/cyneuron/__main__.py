"""``python -m cyneuron`` (or the ``cyneuron`` command): see :mod:`cyneuron.cli`.

The sub-commands (train, predict, evaluate, info) live in :mod:`cyneuron.cli`;
without one (or with ``demo``) the command runs the demonstration of
:mod:`cyneuron._demo`.
"""
from __future__ import annotations

import sys

from .cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
