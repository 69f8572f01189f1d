"""Everything that talks to Clio's REST API: auth, HTTP, paging, pacing, the dlt source.

`from pipelines.clio import clio_source` gives the dlt source (imported on first use, so
the command line's `--help` does not load dlt).
"""

from __future__ import annotations

from typing import Any

__all__ = ["clio_source"]


def __getattr__(name: str) -> Any:
    if name == "clio_source":
        from pipelines.clio.source import clio_source

        return clio_source
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
