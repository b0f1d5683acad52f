"""Foundations every layer uses: one-line error messages, safe reading of input files, atomic
writes, deeply frozen containers, path checks and plug-in loading. Nothing here imports
another part of the simulator."""
