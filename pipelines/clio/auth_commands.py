"""`clio-sync` subcommands of this area (registered by `pipelines.cli`)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this area's subcommands; each sets `handler` to a function of the parsed args."""
