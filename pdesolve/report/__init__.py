"""Metrics against the reference, comparison tables, plots and ``pdesolve compare`` reports."""
