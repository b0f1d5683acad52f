"""Presentation of results already written: terminal tables, figures and the one-page
report. Reads results folders; never runs the engine."""
