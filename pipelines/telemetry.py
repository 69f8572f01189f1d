"""dlt's anonymous usage telemetry: off for the `clio-sync` command unless asked for.

dlt reports anonymous usage (`runtime.dlthub_telemetry`, on by its default) to dltHub. A
command handling a firm's financial data should not talk to anyone unasked, so the
command line gives dlt a default of *off* that sits below everything a user configures:
`RUNTIME__DLTHUB_TELEMETRY=true` in the environment, or `dlthub_telemetry = true` under
`[runtime]` in `.dlt/config.toml`, turns it back on. Nothing here runs at import: a
program that uses the dlt source as a library keeps its own dlt configuration.
"""

from __future__ import annotations

from dlt.common.configuration.container import Container
from dlt.common.configuration.providers import DictionaryProvider
from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext
from dlt.common.runtime import telemetry


class CommandDefaults(DictionaryProvider):
    """dlt settings of the command line, consulted after every provider of the user's."""

    NAME = "clio-sync command defaults"

    def __init__(self) -> None:
        super().__init__()
        self._config_doc = {"runtime": {"dlthub_telemetry": False}}


def telemetry_off_unless_asked() -> None:
    """Install the command's defaults in dlt's run context and (re)start dlt's runtime."""
    container = Container()
    fresh = PluggableRunContext not in container
    context = PluggableRunContext() if fresh else container[PluggableRunContext]
    if CommandDefaults.NAME not in context.providers:
        context.providers.add_provider(CommandDefaults())  # last: the lowest priority
    if fresh:
        container[PluggableRunContext] = context  # dlt starts its runtime with the defaults
    else:  # dlt was set up earlier in this process: start its runtime again, with them
        telemetry.stop_telemetry()
        context.initialize_runtime()
