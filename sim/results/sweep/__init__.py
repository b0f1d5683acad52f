"""Parameter sweeps: the sweep file, runs over a grid of values and seeds (in-process or on
Dask), resumable and fingerprinted, with one folder per point."""
