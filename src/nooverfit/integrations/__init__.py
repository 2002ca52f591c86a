"""Adapters for training frameworks (optional extras): ``nooverfit.integrations.lightning``."""
