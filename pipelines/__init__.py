"""clio-sync: Clio Manage into DuckDB and Parquet, with AR reports and webhook freshness."""

__version__ = "0.1.0"
