"""Definitions for orchestrators that run clio-sync on many machines (Dagster)."""
