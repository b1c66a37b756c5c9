"""What the commands share: the output-path check and the ``--version`` flag."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._version import __version__
from ..atomic_write import output_problem as unwritable


def output_problem(output: str, inputs) -> str | None:
    """Why ``output`` cannot be written, or is one of ``inputs`` (never overwritten); None if fine."""
    problem = unwritable(output)
    if problem:
        return problem
    path = Path(output).resolve()
    if any(Path(p).resolve() == path for p in inputs):
        return "it is one of the input files, which are never overwritten"
    return None


def add_version(p: argparse.ArgumentParser) -> None:
    """``--version``: the command's name and the package version."""
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
