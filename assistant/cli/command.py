"""What a command module hands the parser: a function adding its sub-parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Subparsers = argparse._SubParsersAction  # argparse has no public name for this type

AddCommand = Callable[[Subparsers, argparse.ArgumentParser], None]
"""``add(subparsers, common)``: registers one command, with the ``common`` options."""
