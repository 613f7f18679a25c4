"""``grid-inspector``: the operators' command line (docs/api.md "Command line")."""

from __future__ import annotations

import sys

# isort: off
from app.cli import service, data, upkeep  # noqa: F401  (each registers its commands, in --help's order)

# isort: on
from app.cli.common import cli


def main() -> None:
    cli(sys.argv[1:], prog_name="grid-inspector")
