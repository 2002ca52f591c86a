"""Plots: each function takes result objects and ``ax=None`` and returns the figure.

Drawing uses matplotlib's Agg backend, selected only when a plot is made.
"""
