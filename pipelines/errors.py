"""The error family every `clio-sync` command reports without a traceback.

    ClioSyncError                 anything expected: printed as `Type: message`, exit 1
    ├── ConfigError               a missing or mistyped setting
    ├── WarehouseError            the DuckDB file
    │   ├── WarehouseLocked       another writer kept the lock past the timeout
    │   ├── WarehouseBusy         DuckDB refused to open the file (a notebook holds it)
    │   └── WarehouseUnusable     the path is no DuckDB file this process may use
    ├── ExportError               an export target clio-sync may not replace or cannot write
    └── (clio.errors, webhooks, sandbox add their own subclasses)

A message names the cause and the fix, in one paragraph, and never contains a secret.
"""

from __future__ import annotations


class ClioSyncError(Exception):
    """An expected failure with a human message (cause and fix)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(ClioSyncError):
    """A setting is missing, mistyped or contradicts another."""


class WarehouseError(ClioSyncError):
    """The DuckDB warehouse could not be used."""


class WarehouseLocked(WarehouseError):
    """Another writer held the warehouse lock for longer than the timeout."""


class WarehouseBusy(WarehouseError):
    """DuckDB would not open the file because another process holds it."""


class WarehouseUnusable(WarehouseError):
    """The path is missing, a folder, another kind of file, or not readable or writable."""


class ExportError(ClioSyncError):
    """The export's target holds files clio-sync did not write, or cannot be written."""
