"""The ``mvsched`` command line: one module per subcommand group; :func:`main` is the entry
point."""

from sim.cli.main import main

__all__ = ["main"]
