"""Outputs: the results folder's layout, metrics of a run, comparisons over schedulers and
seeds, and parameter sweeps."""
