"""Composed reads, one module per concept."""
