"""Plots: each function takes result objects and ``ax=None`` and returns the figure.

Figures are drawn without pyplot (on matplotlib's Agg canvas), so no GUI backend is used.
"""
